/* Shapes and views: reshape (a view when the strides allow, else a copy),
 * transpose, broadcast_to, expand_dims, squeeze, slice, flatten share the
 * input's buffer; contiguous and astype copy. A view's strides are fixed
 * when it is made (every array's strides are known then); eval only adds
 * the input's offset. */
#include <string.h>

#include "internal.h"


static int prologue(cmx_array *out, cmx_array a, cmx_stream *s,
                    const char *who) {
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  int st = cmx_array_check(a, who, "a");
  return st ? st : cmx_stream_resolve(s, who);
}

static int view_node(cmx_array *out, cmx_array a, const int64_t *shape,
                     const int64_t *strides, int ndim, int64_t delta,
                     cmx_stream s, const char *who) {
  cmx_array v = cmx_array_alloc(a->dtype, shape, ndim, who);
  if (!v) return cmx_last_status();
  if (ndim) memcpy(v->strides, strides, (size_t)ndim * sizeof *strides);
  v->p.delta = delta;
  return cmx_node_finish(out, v, CMX_OP_view, &a, 1, s, who);
}

int cmx_eval_view(cmx_array a, int nthreads) {
  cmx_array in = a->in[0];
  cmx_buffer_retain(in->buf);
  a->buf = in->buf;
  a->offset = in->offset + a->p.delta;
  return CMX_OK;
}

static int copy_node(cmx_array *out, cmx_array a, cmx_dtype dtype,
                     const int64_t *shape, int ndim, cmx_stream s,
                     const char *who) {
  cmx_array c = cmx_array_alloc(dtype, shape, ndim, who);
  if (!c) return cmx_last_status();
  return cmx_node_finish(out, c, CMX_OP_copy, &a, 1, s, who);
}

int cmx_eval_copy(cmx_array a, int nthreads) {
  int st = cmx_array_alloc_data(a);
  if (st) return st;
  cmx_copy_into_last(cmx_array_ptr(a), a->dtype, a->in[0], nthreads, 1);
  return CMX_OK;
}

/* Strides for viewing (shape, strides) as nshape without a copy, or 0. */
static int nocopy_strides(const cmx_array a, const int64_t *nshape, int nnd,
                          int64_t *nst) {
  int64_t os[CMX_MAX_DIMS], ost[CMX_MAX_DIMS];
  int ond = 0;
  for (int d = 0; d < a->ndim; d++)
    if (a->shape[d] != 1) {
      os[ond] = a->shape[d];
      ost[ond++] = a->strides[d];
    }
  int oi = 0, oj = 1, ni = 0, nj = 1;
  while (ni < nnd && oi < ond) {
    int64_t np = nshape[ni], op = os[oi];
    while (np != op) {
      if (np < op) {
        if (nj >= nnd) return 0;
        np *= nshape[nj++];
      } else {
        if (oj >= ond) return 0;
        op *= os[oj++];
      }
    }
    for (int k = oi; k < oj - 1; k++)
      if (ost[k] != os[k + 1] * ost[k + 1]) return 0;
    nst[nj - 1] = ost[oj - 1];
    for (int k = nj - 1; k > ni; k--) nst[k - 1] = nst[k] * nshape[k];
    ni = nj++;
    oi = oj++;
  }
  for (int k = ni; k < nnd; k++) nst[k] = 1; /* trailing size-1 dims */
  return oi >= ond;
}

int cmx_reshape(cmx_array *out, cmx_array a, const int64_t *shape, int ndim,
                cmx_stream s) {
  static const char who[] = "cmx_reshape";
  int st = prologue(out, a, &s, who);
  if (st) return st;
  if (ndim < 0 || ndim > CMX_MAX_DIMS || (ndim && !shape))
    return cmx_err(CMX_EINVAL, "%s: bad shape (ndim %d)", who, ndim);
  int64_t ns[CMX_MAX_DIMS], known = 1;
  int infer = -1;
  for (int d = 0; d < ndim; d++) {
    ns[d] = shape[d];
    if (shape[d] == -1) {
      if (infer >= 0)
        return cmx_err(CMX_EINVAL, "%s: more than one -1 in the shape", who);
      infer = d;
    } else if (shape[d] < 0) {
      return cmx_err(CMX_EINVAL, "%s: dimension %d is %lld", who, d,
                     (long long)shape[d]);
    } else if (shape[d] && known > INT64_MAX / shape[d]) {
      return cmx_err(CMX_EINVAL, "%s: shape overflows int64", who);
    } else {
      known *= shape[d];
    }
  }
  if (infer >= 0) {
    if (known == 0 || a->size % known)
      return cmx_err(CMX_ESHAPE, "%s: cannot infer -1 for %lld elements",
                     who, (long long)a->size);
    ns[infer] = a->size / known;
    known *= ns[infer];
  }
  if (known != a->size) {
    char b0[200], b1[200];
    return cmx_err(CMX_ESHAPE, "%s: cannot reshape %s (%lld elements) to %s",
                   who, cmx_fmt_shape(b0, a->shape, a->ndim),
                   (long long)a->size, cmx_fmt_shape(b1, ns, ndim));
  }
  int64_t nst[CMX_MAX_DIMS], checked;
  st = cmx_check_shape(ns, ndim, &checked, who);
  if (st) return st;
  if (a->size == 0) {
    cmx_row_major_strides(ns, ndim, nst);
    return view_node(out, a, ns, nst, ndim, 0, s, who);
  }
  if (nocopy_strides(a, ns, ndim, nst))
    return view_node(out, a, ns, nst, ndim, 0, s, who);
  return copy_node(out, a, a->dtype, ns, ndim, s, who);
}

int cmx_flatten(cmx_array *out, cmx_array a, cmx_stream s) {
  int64_t m1 = -1;
  return cmx_reshape(out, a, &m1, 1, s);
}

int cmx_transpose(cmx_array *out, cmx_array a, const int *axes, int naxes,
                  cmx_stream s) {
  static const char who[] = "cmx_transpose";
  int st = prologue(out, a, &s, who);
  if (st) return st;
  int perm[CMX_MAX_DIMS], seen[CMX_MAX_DIMS] = {0};
  if (!axes || naxes == 0) {
    if (naxes && !axes) return cmx_err(CMX_EINVAL, "%s: axes is NULL", who);
    for (int d = 0; d < a->ndim; d++) perm[d] = a->ndim - 1 - d;
  } else {
    if (naxes != a->ndim)
      return cmx_err(CMX_EINVAL, "%s: %d axes given for an array of %d "
                     "dimensions", who, naxes, a->ndim);
    for (int d = 0; d < naxes; d++) {
      int ax = axes[d] < 0 ? axes[d] + a->ndim : axes[d];
      if (ax < 0 || ax >= a->ndim || seen[ax])
        return cmx_err(CMX_EINVAL, "%s: axes are not a permutation of the "
                       "%d dimensions (axis %d)", who, a->ndim, axes[d]);
      seen[ax] = 1;
      perm[d] = ax;
    }
  }
  int64_t sh[CMX_MAX_DIMS], str[CMX_MAX_DIMS];
  for (int d = 0; d < a->ndim; d++) {
    sh[d] = a->shape[perm[d]];
    str[d] = a->strides[perm[d]];
  }
  return view_node(out, a, sh, str, a->ndim, 0, s, who);
}

int cmx_broadcast_to(cmx_array *out, cmx_array a, const int64_t *shape,
                     int ndim, cmx_stream s) {
  static const char who[] = "cmx_broadcast_to";
  int st = prologue(out, a, &s, who);
  if (st) return st;
  int64_t size;
  st = cmx_check_shape(shape, ndim, &size, who);
  if (st) return st;
  char b0[200], b1[200];
  if (ndim < a->ndim)
    return cmx_err(CMX_ESHAPE, "%s: cannot broadcast %s to %s", who,
                   cmx_fmt_shape(b0, a->shape, a->ndim),
                   cmx_fmt_shape(b1, shape, ndim));
  int64_t str[CMX_MAX_DIMS];
  for (int d = 0; d < ndim; d++) {
    int k = d - (ndim - a->ndim);
    if (k < 0) {
      str[d] = 0;
    } else if (a->shape[k] == shape[d]) {
      str[d] = a->shape[k] == 1 ? 0 : a->strides[k];
    } else if (a->shape[k] == 1) {
      str[d] = 0;
    } else {
      return cmx_err(CMX_ESHAPE, "%s: cannot broadcast %s to %s", who,
                     cmx_fmt_shape(b0, a->shape, a->ndim),
                     cmx_fmt_shape(b1, shape, ndim));
    }
  }
  return view_node(out, a, shape, str, ndim, 0, s, who);
}

int cmx_expand_dims(cmx_array *out, cmx_array a, int axis, cmx_stream s) {
  static const char who[] = "cmx_expand_dims";
  int st = prologue(out, a, &s, who);
  if (st) return st;
  int nd = a->ndim + 1;
  int ax = axis < 0 ? axis + nd : axis;
  if (ax < 0 || ax >= nd || nd > CMX_MAX_DIMS)
    return cmx_err(CMX_EINVAL, "%s: axis %d is out of range for %d "
                   "dimensions", who, axis, a->ndim);
  int64_t sh[CMX_MAX_DIMS], str[CMX_MAX_DIMS];
  for (int d = 0, k = 0; d < nd; d++) {
    if (d == ax) {
      sh[d] = 1;
      str[d] = k < a->ndim ? a->strides[k] * a->shape[k] : 1;
    } else {
      sh[d] = a->shape[k];
      str[d] = a->strides[k++];
    }
  }
  return view_node(out, a, sh, str, nd, 0, s, who);
}

int cmx_squeeze(cmx_array *out, cmx_array a, const int *axes, int naxes,
                cmx_stream s) {
  static const char who[] = "cmx_squeeze";
  int st = prologue(out, a, &s, who);
  if (st) return st;
  int drop[CMX_MAX_DIMS] = {0};
  if (!axes) {
    for (int d = 0; d < a->ndim; d++) drop[d] = a->shape[d] == 1;
  } else {
    for (int i = 0; i < naxes; i++) {
      int ax = axes[i] < 0 ? axes[i] + a->ndim : axes[i];
      if (ax < 0 || ax >= a->ndim)
        return cmx_err(CMX_EINVAL, "%s: axis %d is out of range for %d "
                       "dimensions", who, axes[i], a->ndim);
      if (a->shape[ax] != 1)
        return cmx_err(CMX_EINVAL, "%s: axis %d has size %lld, not 1", who,
                       axes[i], (long long)a->shape[ax]);
      drop[ax] = 1;
    }
  }
  int64_t sh[CMX_MAX_DIMS], str[CMX_MAX_DIMS];
  int nd = 0;
  for (int d = 0; d < a->ndim; d++)
    if (!drop[d]) {
      sh[nd] = a->shape[d];
      str[nd++] = a->strides[d];
    }
  return view_node(out, a, sh, str, nd, 0, s, who);
}

int cmx_slice(cmx_array *out, cmx_array a, const int64_t *start,
              const int64_t *stop, const int64_t *step, int ndim,
              cmx_stream s) {
  static const char who[] = "cmx_slice";
  int st = prologue(out, a, &s, who);
  if (st) return st;
  if (ndim < 0 || ndim > a->ndim)
    return cmx_err(CMX_EINVAL, "%s: %d axes given for an array of %d "
                   "dimensions", who, ndim, a->ndim);
  int64_t sh[CMX_MAX_DIMS], str[CMX_MAX_DIMS], delta = 0;
  for (int d = 0; d < a->ndim; d++) {
    int64_t n = a->shape[d];
    int64_t k = d < ndim && step ? step[d] : 1;
    if (k == 0)
      return cmx_err(CMX_EINVAL, "%s: step of axis %d is 0", who, d);
    int64_t b, e, len;
    if (k > 0) {
      b = d < ndim && start ? start[d] : 0;
      e = d < ndim && stop ? stop[d] : n;
      if (b < 0) b = b < -n ? 0 : b + n;
      if (e < 0) e = e < -n ? 0 : e + n;
      if (b > n) b = n;
      if (e > n) e = n;
      len = e > b ? (e - b + k - 1) / k : 0;
    } else {
      b = d < ndim && start ? start[d] : n - 1;
      e = d < ndim && stop ? stop[d] : -n - 1;
      if (b < 0) b = b < -n ? -1 : b + n;
      if (e < 0) e = e < -n ? -1 : e + n;
      if (b > n - 1) b = n - 1;
      if (e > n - 1) e = n - 1;
      len = b > e ? (b - e + (-k) - 1) / (-k) : 0;
    }
    sh[d] = len;
    str[d] = a->strides[d] * k;
    if (len > 0) delta += b * a->strides[d];
  }
  return view_node(out, a, sh, str, a->ndim, delta, s, who);
}

int cmx_contiguous(cmx_array *out, cmx_array a, cmx_stream s) {
  static const char who[] = "cmx_contiguous";
  int st = prologue(out, a, &s, who);
  return st ? st : copy_node(out, a, a->dtype, a->shape, a->ndim, s, who);
}

int cmx_astype(cmx_array *out, cmx_array a, cmx_dtype dtype, cmx_stream s) {
  static const char who[] = "cmx_astype";
  int st = prologue(out, a, &s, who);
  if (st) return st;
  if (!cmx_dtype_valid(dtype))
    return cmx_err(CMX_EINVAL, "%s: dtype %d is not a cmx_dtype", who,
                   (int)dtype);
  return copy_node(out, a, dtype, a->shape, a->ndim, s, who);
}
