/* Indexing and layout ops: take, take_along_axis, concatenate, stack,
 * split (views), pad, tril / triu and cumsum. Inputs a kernel walks as rows
 * are made row-major first (a lazy contiguous node, only when the strides,
 * known when the op is made, are not). concatenate, stack and pad build a
 * chain of private "place" nodes: the first allocates the result, each
 * copies one piece into it at p.delta and hands the buffer on; no one else
 * holds a chain node, so writing into its buffer is safe. */
#include <stdlib.h>
#include <string.h>

#include "../arch/dispatch.h"
#include "../kernels/index/index.h"
#include "internal.h"

static int check_out(cmx_array *out, cmx_stream *s, const char *who) {
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  return cmx_stream_resolve(s, who);
}

static int norm_axis(int axis, int ndim, int *ax, const char *who) {
  int a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim)
    return cmx_err(CMX_EINVAL, "%s: axis %d is out of range for %d "
                   "dimensions", who, axis, ndim);
  *ax = a;
  return CMX_OK;
}

/* *c = a when a is row-major, else a lazy contiguous copy (a new ref). */
static int row_major(cmx_array *c, cmx_array a, cmx_stream s) {
  if (cmx_is_row_major(a->shape, a->strides, a->ndim)) {
    *c = cmx_array_retain(a);
    return CMX_OK;
  }
  return cmx_contiguous(c, a, s);
}

static int is_int(cmx_dtype d) {
  return d == CMX_U8 || d == CMX_U32 || d == CMX_I8 || d == CMX_I16 ||
         d == CMX_I32 || d == CMX_I64;
}

/* ---- take / take_along_axis ---- */
static int take_node(cmx_array *out, cmx_array a, cmx_array idx, int axis,
                     int along, cmx_stream s, const char *who) {
  int st = check_out(out, &s, who);
  if (!st) st = cmx_array_check(a, who, "a");
  if (!st) st = cmx_array_check(idx, who, "indices");
  if (st) return st;
  if (!is_int(idx->dtype))
    return cmx_err(CMX_EDTYPE, "%s: indices must be integers, not %s", who,
                   cmx_dtype_name(idx->dtype));
  if (a->ndim == 0)
    return cmx_err(CMX_EINVAL, "%s: a is a scalar", who);
  int ax = 0;
  st = norm_axis(axis, a->ndim, &ax, who);
  if (st) return st;
  int64_t sh[CMX_MAX_DIMS];
  int nd = 0;
  if (!along) {
    nd = a->ndim - 1 + idx->ndim;
    if (nd > CMX_MAX_DIMS)
      return cmx_err(CMX_EINVAL, "%s: the result would have %d dimensions",
                     who, nd);
    int k = 0;
    for (int d = 0; d < ax; d++) sh[k++] = a->shape[d];
    for (int d = 0; d < idx->ndim; d++) sh[k++] = idx->shape[d];
    for (int d = ax + 1; d < a->ndim; d++) sh[k++] = a->shape[d];
  } else {
    if (idx->ndim != a->ndim)
      return cmx_err(CMX_ESHAPE, "%s: indices have %d dimensions, a has %d",
                     who, idx->ndim, a->ndim);
    nd = a->ndim;
    for (int d = 0; d < nd; d++) {
      int64_t x = d == ax ? 1 : a->shape[d], y = idx->shape[d];
      if (d == ax) sh[d] = y;
      else if (x == y || y == 1) sh[d] = x;
      else if (x == 1) sh[d] = y;
      else {
        char b0[200], b1[200];
        return cmx_err(CMX_ESHAPE, "%s: indices %s do not broadcast with a "
                       "%s", who, cmx_fmt_shape(b0, idx->shape, idx->ndim),
                       cmx_fmt_shape(b1, a->shape, a->ndim));
      }
    }
  }
  cmx_array in[2] = {NULL, NULL};
  st = row_major(&in[0], a, s);
  if (!st && !along) st = row_major(&in[1], idx, s);
  else if (!st) in[1] = cmx_array_retain(idx);
  cmx_array o = st ? NULL : cmx_array_alloc(a->dtype, sh, nd, who);
  if (!st && !o) st = cmx_last_status();
  if (!st) {
    o->p.axes[0] = ax;
    o->p.sub = along;
    st = cmx_node_finish(out, o, CMX_OP_take, in, 2, s, who);
  }
  cmx_array_free(in[0]);
  cmx_array_free(in[1]);
  return st;
}

int cmx_take(cmx_array *out, cmx_array a, cmx_array indices, int axis,
             cmx_stream s) {
  return take_node(out, a, indices, axis, 0, s, "cmx_take");
}

int cmx_take_along_axis(cmx_array *out, cmx_array a, cmx_array indices,
                        int axis, cmx_stream s) {
  return take_node(out, a, indices, axis, 1, s, "cmx_take_along_axis");
}

/* take_along_axis: the indices read, checked and wrapped by the gather
 * itself, row by row across the team (before, one thread made an int64
 * copy of them first, element by element: 2048 x 2048, 1 thread, 49 ms
 * against torch's 8). */
static int eval_along(cmx_array o, int nthreads) {
  cmx_array a = o->in[0], ix = o->in[1];
  const int ax = o->p.axes[0];
  int64_t ist[CMX_MAX_DIMS] = {0}, ast[CMX_MAX_DIMS];
  for (int d = 0; d < o->ndim; d++)
    ist[d] = ix->shape[d] == 1 ? 0 : ix->strides[d];
  for (int d = 0; d < a->ndim; d++)
    ast[d] = a->shape[d] == 1 && d != ax ? 0 : a->strides[d];
  int st = cmx_array_alloc_data(o);
  if (st || !o->size) return st;
  const int64_t bad = cmx_index_gather_along(
      cmx_array_ptr(o), cmx_array_ptr(a), ast, o->shape, o->ndim, ax,
      cmx_array_ptr(ix), ix->dtype, ist, a->shape[ax],
      cmx_dtype_bytes(a->dtype), nthreads);
  if (bad < 0) return CMX_OK;
  int64_t off = 0, rem = bad;
  for (int d = o->ndim - 1; d >= 0; d--) {
    off += rem % o->shape[d] * ist[d];
    rem /= o->shape[d];
  }
  return cmx_err(CMX_EINVAL, "cmx_take_along_axis: index %lld is out of "
                 "range for axis %d of size %lld",
                 (long long)cmx_index_load(cmx_array_ptr(ix), ix->dtype, off),
                 ax, (long long)a->shape[ax]);
}

int cmx_eval_take(cmx_array o, int nthreads) {
  if (o->p.sub) return eval_along(o, nthreads);
  const char *who = "cmx_take";
  cmx_array a = o->in[0], ix = o->in[1];
  int ax = o->p.axes[0];
  int64_t n = a->shape[ax];
  int64_t cnt = ix->size;
  int64_t *idx = malloc((size_t)(cnt ? cnt : 1) * sizeof *idx);
  if (!idx) return cmx_err(CMX_ENOMEM, "%s: out of memory", who);
  /* take's indices are read row-major */
  const char *ib = cmx_array_ptr(ix);
  for (int64_t k = 0; k < cnt; k++) {
    int64_t v = cmx_index_load(ib, ix->dtype, k);
    int64_t w = v < 0 ? v + n : v;
    if (w < 0 || w >= n) {
      free(idx);
      return cmx_err(CMX_EINVAL, "%s: index %lld is out of range for axis "
                     "%d of size %lld", who, (long long)v, ax, (long long)n);
    }
    idx[k] = w;
  }
  int st = cmx_array_alloc_data(o);
  if (st) {
    free(idx);
    return st;
  }
  size_t esz = cmx_dtype_bytes(a->dtype);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; d++) outer *= a->shape[d];
  for (int d = ax + 1; d < a->ndim; d++) inner *= a->shape[d];
  cmx_index_take(cmx_array_ptr(o), cmx_array_ptr(a), idx, outer, n, cnt,
                 (size_t)inner * esz, nthreads);
  free(idx);
  return CMX_OK;
}

/* ---- place: the chain behind concatenate, stack and pad ---- */
/* A node of shape (sh) that holds base's buffer (or a fresh one when base
 * is NULL) with piece copied in at element offset delta. */
static int place_node(cmx_array *out, cmx_array base, cmx_array piece,
                      const int64_t *sh, int nd, int64_t delta, cmx_stream s,
                      const char *who) {
  cmx_array o = cmx_array_alloc(piece->dtype, sh, nd, who);
  if (!o) return cmx_last_status();
  o->p.delta = delta;
  cmx_array in[2] = {piece, base};
  return cmx_node_finish(out, o, CMX_OP_place, in, base ? 2 : 1, s, who);
}

int cmx_eval_place(cmx_array o, int nthreads) {
  if (o->nin == 2) {
    cmx_array base = o->in[1];
    cmx_buffer_retain(base->buf);
    o->buf = base->buf;
    o->offset = base->offset;
  } else {
    int st = cmx_array_alloc_data(o);
    if (st) return st;
  }
  cmx_array x = o->in[0];
  size_t esz = cmx_dtype_bytes(o->dtype);
  /* the whole output's size decides (the pieces of a concatenate fill
   * it) */
  cmx_index_copy(cmx_array_ptr(o) + o->p.delta * (int64_t)esz, o->strides,
                 cmx_array_ptr(x), x->strides, x->shape, x->ndim, esz,
                 cmx_nt_out((size_t)o->size * esz) ? cmx_dispatch()->x32_stream
                                                   : NULL,
                 nthreads);
  return CMX_OK;
}

static int concat_impl(cmx_array *out, const cmx_array *arrays, size_t n,
                       int axis, cmx_stream s, const char *who) {
  int st = check_out(out, &s, who);
  if (st) return st;
  if (n == 0 || !arrays)
    return cmx_err(CMX_EINVAL, "%s: no arrays given", who);
  for (size_t i = 0; i < n; i++) {
    st = cmx_array_check(arrays[i], who, "an array");
    if (st) return st;
  }
  cmx_array a0 = arrays[0];
  if (a0->ndim == 0)
    return cmx_err(CMX_EINVAL, "%s: cannot concatenate scalars", who);
  int ax = 0;
  st = norm_axis(axis, a0->ndim, &ax, who);
  if (st) return st;
  int64_t sh[CMX_MAX_DIMS];
  memcpy(sh, a0->shape, sizeof sh);
  sh[ax] = 0;
  cmx_dtype dt = a0->dtype;
  for (size_t i = 0; i < n; i++) {
    cmx_array x = arrays[i];
    int bad = x->ndim != a0->ndim;
    for (int d = 0; d < a0->ndim && !bad; d++)
      bad = d != ax && x->shape[d] != a0->shape[d];
    if (bad) {
      char b0[200], b1[200];
      return cmx_err(CMX_ESHAPE, "%s: array %zu has shape %s, array 0 has "
                     "%s (all but axis %d must match)", who, i,
                     cmx_fmt_shape(b0, x->shape, x->ndim),
                     cmx_fmt_shape(b1, a0->shape, a0->ndim), axis);
    }
    sh[ax] += x->shape[ax];
    dt = cmx_promote(dt, x->dtype);
  }
  int64_t rs[CMX_MAX_DIMS];
  cmx_row_major_strides(sh, a0->ndim, rs);
  cmx_array chain = NULL;
  int64_t at = 0;
  for (size_t i = 0; i < n && !st; i++) {
    cmx_array piece = arrays[i], conv = NULL, next = NULL;
    if (piece->dtype != dt) {
      st = cmx_astype(&conv, piece, dt, s);
      piece = conv;
    }
    if (!st)
      st = place_node(&next, chain, piece, sh, a0->ndim, at * rs[ax], s, who);
    at += arrays[i]->shape[ax];
    cmx_array_free(conv);
    cmx_array_free(chain);
    chain = next;
  }
  if (st) {
    cmx_array_free(chain);
    return st;
  }
  *out = chain;
  return CMX_OK;
}

int cmx_concatenate(cmx_array *out, const cmx_array *arrays, size_t n,
                    int axis, cmx_stream s) {
  return concat_impl(out, arrays, n, axis, s, "cmx_concatenate");
}

int cmx_stack(cmx_array *out, const cmx_array *arrays, size_t n, int axis,
              cmx_stream s) {
  static const char who[] = "cmx_stack";
  int st = check_out(out, &s, who);
  if (st) return st;
  if (n == 0 || !arrays)
    return cmx_err(CMX_EINVAL, "%s: no arrays given", who);
  cmx_array *ex = calloc(n, sizeof *ex);
  if (!ex) return cmx_err(CMX_ENOMEM, "%s: out of memory", who);
  for (size_t i = 0; i < n && !st; i++) {
    st = cmx_array_check(arrays[i], who, "an array");
    if (!st && (arrays[i]->ndim != arrays[0]->ndim ||
                memcmp(arrays[i]->shape, arrays[0]->shape,
                       (size_t)arrays[0]->ndim * sizeof(int64_t)))) {
      char b0[200], b1[200];
      st = cmx_err(CMX_ESHAPE, "%s: array %zu has shape %s, array 0 has %s",
                   who, i,
                   cmx_fmt_shape(b0, arrays[i]->shape, arrays[i]->ndim),
                   cmx_fmt_shape(b1, arrays[0]->shape, arrays[0]->ndim));
    }
    int ax = 0;
    if (!st) st = norm_axis(axis, arrays[0]->ndim + 1, &ax, who);
    if (!st) st = cmx_expand_dims(&ex[i], arrays[i], ax, s);
  }
  if (!st) st = concat_impl(out, ex, n, axis, s, who);
  for (size_t i = 0; i < n; i++) cmx_array_free(ex[i]);
  free(ex);
  return st;
}

/* ---- split (views) ---- */
int cmx_split_at(cmx_array *outs, cmx_array a, const int64_t *indices,
                 size_t n_indices, int axis, cmx_stream s) {
  static const char who[] = "cmx_split_at";
  if (!outs) return cmx_err(CMX_EINVAL, "%s: outs is NULL", who);
  for (size_t i = 0; i <= n_indices; i++) outs[i] = NULL;
  int st = cmx_array_check(a, who, "a");
  if (!st) st = cmx_stream_resolve(&s, who);
  if (st) return st;
  if (n_indices && !indices)
    return cmx_err(CMX_EINVAL, "%s: indices is NULL", who);
  if (a->ndim == 0) return cmx_err(CMX_EINVAL, "%s: a is a scalar", who);
  int ax = 0;
  st = norm_axis(axis, a->ndim, &ax, who);
  if (st) return st;
  int64_t n = a->shape[ax], prev = 0;
  int64_t b[CMX_MAX_DIMS] = {0}, e[CMX_MAX_DIMS], one[CMX_MAX_DIMS];
  for (int d = 0; d < a->ndim; d++) {
    e[d] = a->shape[d];
    one[d] = 1;
  }
  for (size_t i = 0; i <= n_indices && !st; i++) {
    int64_t stop = i < n_indices ? indices[i] : n;
    if (stop < 0) stop += n;
    stop = stop < 0 ? 0 : stop > n ? n : stop;
    if (stop < prev) stop = prev; /* NumPy: an empty piece */
    b[ax] = prev;
    e[ax] = stop;
    st = cmx_slice(&outs[i], a, b, e, one, a->ndim, s);
    prev = stop;
  }
  if (st) {
    for (size_t i = 0; i <= n_indices; i++) {
      cmx_array_free(outs[i]);
      outs[i] = NULL;
    }
    return cmx_err(cmx_last_status(), "%s: %s", who, cmx_last_error());
  }
  return CMX_OK;
}

int cmx_split(cmx_array *outs, size_t n_out, cmx_array a, int axis,
              cmx_stream s) {
  static const char who[] = "cmx_split";
  if (!outs) return cmx_err(CMX_EINVAL, "%s: outs is NULL", who);
  for (size_t i = 0; i < n_out; i++) outs[i] = NULL;
  int st = cmx_array_check(a, who, "a");
  if (st) return st;
  if (n_out == 0 || n_out > 4096)
    return cmx_err(CMX_EINVAL, "%s: %zu sections", who, n_out);
  if (a->ndim == 0) return cmx_err(CMX_EINVAL, "%s: a is a scalar", who);
  int ax = 0;
  st = norm_axis(axis, a->ndim, &ax, who);
  if (st) return st;
  if (a->shape[ax] % (int64_t)n_out)
    return cmx_err(CMX_ESHAPE, "%s: axis %d of size %lld does not split "
                   "into %zu equal sections", who, axis,
                   (long long)a->shape[ax], n_out);
  int64_t *ix = malloc(n_out * sizeof *ix);
  if (!ix) return cmx_err(CMX_ENOMEM, "%s: out of memory", who);
  for (size_t i = 0; i + 1 < n_out; i++)
    ix[i] = (int64_t)(i + 1) * (a->shape[ax] / (int64_t)n_out);
  st = cmx_split_at(outs, a, ix, n_out - 1, axis, s);
  free(ix);
  return st;
}

/* ---- pad ---- */
int cmx_pad(cmx_array *out, cmx_array a, const int64_t *low,
            const int64_t *high, int ndim, double value, cmx_stream s) {
  static const char who[] = "cmx_pad";
  int st = check_out(out, &s, who);
  if (!st) st = cmx_array_check(a, who, "a");
  if (st) return st;
  if (ndim != a->ndim || (ndim && (!low || !high)))
    return cmx_err(CMX_EINVAL, "%s: %d pad widths given for %d dimensions",
                   who, ndim, a->ndim);
  int64_t sh[CMX_MAX_DIMS], rs[CMX_MAX_DIMS], at = 0;
  for (int d = 0; d < ndim; d++) {
    if (low[d] < 0 || high[d] < 0)
      return cmx_err(CMX_EINVAL, "%s: negative pad width on axis %d", who, d);
    sh[d] = a->shape[d] + low[d] + high[d];
  }
  cmx_row_major_strides(sh, ndim, rs);
  for (int d = 0; d < ndim; d++) at += low[d] * rs[d];
  cmx_array base;
  st = cmx_full(&base, sh, ndim, value, a->dtype, s);
  if (st) return st;
  st = place_node(out, base, a, sh, ndim, at, s, who);
  cmx_array_free(base);
  return st;
}

/* ---- tril / triu ---- */
static int tri_node(cmx_array *out, cmx_array a, int k, int upper,
                    cmx_stream s, const char *who) {
  int st = check_out(out, &s, who);
  if (!st) st = cmx_array_check(a, who, "a");
  if (st) return st;
  if (a->ndim < 2)
    return cmx_err(CMX_EINVAL, "%s: a has %d dimensions, needs 2 or more",
                   who, a->ndim);
  cmx_array c;
  st = row_major(&c, a, s);
  if (st) return st;
  cmx_array o = cmx_array_alloc(a->dtype, a->shape, a->ndim, who);
  if (!o) st = cmx_last_status();
  if (!st) {
    o->p.delta = k;
    o->p.sub = upper;
    st = cmx_node_finish(out, o, CMX_OP_tri, &c, 1, s, who);
  }
  cmx_array_free(c);
  return st;
}

int cmx_tril(cmx_array *out, cmx_array a, int k, cmx_stream s) {
  return tri_node(out, a, k, 0, s, "cmx_tril");
}

int cmx_triu(cmx_array *out, cmx_array a, int k, cmx_stream s) {
  return tri_node(out, a, k, 1, s, "cmx_triu");
}

int cmx_eval_tri(cmx_array o, int nthreads) {
  int st = cmx_array_alloc_data(o);
  if (st) return st;
  int64_t r = o->shape[o->ndim - 2], c = o->shape[o->ndim - 1];
  int64_t batch = r != 0 && c != 0 ? o->size / (r * c) : 0;
  cmx_index_tri(cmx_array_ptr(o), cmx_array_ptr(o->in[0]), batch, r, c,
                o->p.delta, o->p.sub, cmx_dtype_bytes(o->dtype), nthreads);
  return CMX_OK;
}

/* ---- cumsum ---- */
int cmx_cumsum(cmx_array *out, cmx_array a, int axis, bool reverse,
               bool inclusive, cmx_stream s) {
  static const char who[] = "cmx_cumsum";
  int st = check_out(out, &s, who);
  if (!st) st = cmx_array_check(a, who, "a");
  if (st) return st;
  if (a->ndim == 0) return cmx_err(CMX_EINVAL, "%s: a is a scalar", who);
  int ax = 0;
  st = norm_axis(axis, a->ndim, &ax, who);
  if (st) return st;
  cmx_array c;
  st = row_major(&c, a, s);
  if (st) return st;
  cmx_array o = cmx_array_alloc(a->dtype == CMX_BOOL ? CMX_I32 : a->dtype,
                                a->shape, a->ndim, who);
  if (!o) st = cmx_last_status();
  if (!st) {
    o->p.axes[0] = ax;
    o->p.sub = (reverse ? 1 : 0) | (inclusive ? 0 : 2);
    st = cmx_node_finish(out, o, CMX_OP_cumsum, &c, 1, s, who);
  }
  cmx_array_free(c);
  return st;
}

int cmx_eval_cumsum(cmx_array o, int nthreads) {
  int st = cmx_array_alloc_data(o);
  if (st) return st;
  int ax = o->p.axes[0];
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; d++) outer *= o->shape[d];
  for (int d = ax + 1; d < o->ndim; d++) inner *= o->shape[d];
  cmx_index_cumsum(cmx_array_ptr(o), o->dtype, cmx_array_ptr(o->in[0]),
                   o->in[0]->dtype, outer, o->shape[ax], inner, o->p.sub & 1,
                   (o->p.sub & 2) != 0, cmx_dispatch()->cvt, nthreads);
  return CMX_OK;
}
