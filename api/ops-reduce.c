/* Reductions: axis checks, output shape and dtype rules, and the choice of
 * layout for the reduction driver: the reduced axes as one contiguous run
 * (inner), the kept axes as one contiguous run (outer, the leading-axis
 * case), or else a copy of the permuted view that makes it inner. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../arch/dispatch.h"
#include "../kernels/elementwise/elementwise.h"
#include "../kernels/reduce/reduce.h"
#include "internal.h"


static cmx_dtype out_dtype(enum cmx_red_op op, cmx_dtype d) {
  switch (op) {
    /* As MLX: integers narrower than 32 bits accumulate in (u)int32. */
    case CMX_RED_SUM: case CMX_RED_PROD:
      return d == CMX_BOOL || d == CMX_I8 || d == CMX_I16 ? CMX_I32
             : d == CMX_U8 ? CMX_U32 : d;
    case CMX_RED_MEAN: case CMX_RED_VAR: case CMX_RED_LOGSUMEXP:
      return cmx_float_of(d);
    case CMX_RED_ALL: case CMX_RED_ANY: return CMX_BOOL;
    case CMX_RED_ARGMAX: case CMX_RED_ARGMIN: return CMX_U32;
    default: return d;
  }
}

static int reduce_node(cmx_array *out, cmx_array a, const int *axes,
                       int naxes, bool keepdims, enum cmx_red_op op,
                       cmx_stream s, const char *who) {
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  int st = cmx_array_check(a, who, "a");
  if (st) return st;
  st = cmx_stream_resolve(&s, who);
  if (st) return st;
  if (naxes < 0 || (naxes > 0 && !axes))
    return cmx_err(CMX_EINVAL, "%s: axes is NULL with naxes %d", who, naxes);
  int mask[CMX_MAX_DIMS] = {0};
  if (naxes == 0) {
    for (int d = 0; d < a->ndim; d++) mask[d] = 1;
  }
  for (int i = 0; i < naxes; i++) {
    int ax = axes[i] < 0 ? axes[i] + a->ndim : axes[i];
    if (ax < 0 || ax >= a->ndim)
      return cmx_err(CMX_EINVAL, "%s: axis %d is out of range for an array "
                     "of %d dimensions", who, axes[i], a->ndim);
    if (mask[ax])
      return cmx_err(CMX_EINVAL, "%s: axis %d appears twice", who, axes[i]);
    mask[ax] = 1;
  }
  int64_t R = 1, sh[CMX_MAX_DIMS];
  int nd = 0;
  for (int d = 0; d < a->ndim; d++) {
    if (mask[d]) R *= a->shape[d];
    if (!mask[d]) sh[nd++] = a->shape[d];
    else if (keepdims) sh[nd++] = 1;
  }
  if (R == 0 && a->size == 0 && (op == CMX_RED_MAX || op == CMX_RED_MIN ||
                                 op == CMX_RED_ARGMAX || op == CMX_RED_ARGMIN))
    return cmx_err(CMX_EINVAL, "%s: reduction over an empty axis has no "
                   "identity", who);
  /* Only axes of size 1: each result is its one element (converted: x,
   * and x != 0 for all / any), a copy node, not the reduction's rows of
   * one (65536 x 1 sum over axis 1, 1 thread, 52 -> 6.7 us, torch 38). var
   * (NaN for an infinity) and argmax / argmin keep the driver. */
  if (R == 1 && op != CMX_RED_VAR && op != CMX_RED_ARGMAX &&
      op != CMX_RED_ARGMIN) {
    cmx_array c = cmx_array_alloc(out_dtype(op, a->dtype), sh, nd, who);
    if (!c) return cmx_last_status();
    return cmx_node_finish(out, c, CMX_OP_copy, &a, 1, s, who);
  }
  cmx_array r = cmx_array_alloc(out_dtype(op, a->dtype), sh, nd, who);
  if (!r) return cmx_last_status();
  r->p.sub = op;
  r->p.naxes = 0;
  for (int d = 0; d < a->ndim; d++)
    if (mask[d]) r->p.axes[r->p.naxes++] = d;
  r->p.keepdims = keepdims;
  return cmx_node_finish(out, r, CMX_OP_reduce, &a, 1, s, who);
}

/* Merges adjacent dims walked contiguously; drops size-1 dims. */
static int collapse(int n, const int64_t *sh, const int64_t *st, int64_t *osh,
                    int64_t *ost) {
  int m = 0;
  for (int i = 0; i < n; i++) {
    if (sh[i] == 1) continue;
    if (m && ost[m - 1] == st[i] * sh[i]) {
      osh[m - 1] *= sh[i];
      ost[m - 1] = st[i];
    } else {
      osh[m] = sh[i];
      ost[m++] = st[i];
    }
  }
  return m;
}

static double identity(enum cmx_red_op op) {
  switch (op) {
    case CMX_RED_PROD: case CMX_RED_ALL: return 1;
    case CMX_RED_MEAN: case CMX_RED_VAR: return NAN;
    case CMX_RED_LOGSUMEXP: return -INFINITY;
    default: return 0;
  }
}

int cmx_eval_reduce(cmx_array r, int nthreads) {
  enum cmx_red_op op = (enum cmx_red_op)r->p.sub;
  cmx_array a = r->in[0];
  int st = cmx_array_alloc_data(r);
  if (st) return st;
  const struct cmx_dispatch *t = cmx_dispatch();
  /* The permuted view: kept axes first, then reduced ones. */
  int isred[CMX_MAX_DIMS] = {0};
  for (int i = 0; i < r->p.naxes; i++) isred[r->p.axes[i]] = 1;
  int64_t ksh[CMX_MAX_DIMS], kst[CMX_MAX_DIMS], rsh[CMX_MAX_DIMS],
      rst[CMX_MAX_DIMS];
  int nk = 0, nr = 0;
  size_t O = 1, R = 1;
  for (int d = 0; d < a->ndim; d++) {
    if (isred[d]) {
      rsh[nr] = a->shape[d];
      rst[nr++] = a->strides[d];
      R *= (size_t)a->shape[d];
    } else {
      ksh[nk] = a->shape[d];
      kst[nk++] = a->strides[d];
      O *= (size_t)a->shape[d];
    }
  }
  size_t osz = (size_t)r->size;
  if (R == 1 && (op == CMX_RED_ARGMAX || op == CMX_RED_ARGMIN)) {
    /* over axes of size 1 every index is 0 (65536 x 1, 1 thread, 37 ->
     * 6 us, torch 12.5) */
    memset(cmx_array_ptr(r), 0, osz * cmx_dtype_bytes(r->dtype));
    return CMX_OK;
  }
  int f32 = (a->dtype == CMX_F32 || a->dtype == CMX_F16 ||
             a->dtype == CMX_BF16) && op != CMX_RED_ALL && op != CMX_RED_ANY;
  struct cmx_red_kernels k;
  memcpy(k.rinner, t->f32_rinner, sizeof k.rinner);
  memcpy(k.router, t->f32_router, sizeof k.router);
  k.rsumsqdev = t->f32_rsumsqdev;
  k.rsumexp = t->f32_rsumexp;
  k.rargmax = t->f32_rargmax;
  k.rargmin = t->f32_rargmin;
  k.vexp = t->f32_vunary[CMX_VUNARY_EXP];
  k.vlog = t->f32_vunary[CMX_VUNARY_LOG];
  k.widen = a->dtype == CMX_F16    ? t->cvt[CMX_CVT_F16_F32]
            : a->dtype == CMX_BF16 ? t->cvt[CMX_CVT_BF16_F32]
                                   : NULL;
  k.router16 = !k.widen ? NULL : t->h16_router[a->dtype == CMX_F16];
  if (k.router16 && !k.router16[CMX_ROP_SUM]) k.router16 = NULL;
  k.rinner16 = !k.widen ? NULL : t->h16_rinner[a->dtype == CMX_F16];
  if (k.rinner16 && !k.rinner16[CMX_ROP_SUM]) k.rinner16 = NULL;
  int64_t cks[CMX_MAX_DIMS], ckt[CMX_MAX_DIMS], crs[CMX_MAX_DIMS],
      crt[CMX_MAX_DIMS];
  int ck = collapse(nk, ksh, kst, cks, ckt);
  int cr = collapse(nr, rsh, rst, crs, crt);
  const void *x = cmx_array_ptr(a);
  const int inner = f32 && cr <= 1 && (cr == 0 || crt[0] == 1) && ck <= 1;
  const size_t ld = ck ? (size_t)ckt[0] : 0;
  if (inner && O && R && R <= CMX_RED_BLOCK) {
    /* Rows of one block: the team stores the results itself, so nothing
     * comes back here (the f32 path computes in floats: only argmax /
     * argmin give integers). */
    const struct cmx_red_dst dst = {
        .data = cmx_array_ptr(r), .dtype = r->dtype, .cvt = t->cvt,
        .is_int = op == CMX_RED_ARGMAX || op == CMX_RED_ARGMIN, .last = 1};
    cmx_red_f32_inner(op, x, O, R, ld, NULL, NULL, &k, &dst, nthreads);
    return CMX_OK;
  }
  /* The results in double (and int64), from the buffer cache: malloc'd,
   * a large one came from mmap and its pages faulted in on every call
   * (sum over axis 0 of 4 x 65536 f32, 1 thread: a fifth of the time). */
  const size_t nres = osz ? osz : 1;
  struct cmx_buffer *rb =
      cmx_buffer_new(nres * (sizeof(double) + sizeof(int64_t)),
                     cmx_op_name[r->op]);
  if (!rb) return cmx_last_status();
  double *res = rb->data;
  int64_t *ires = (int64_t *)(res + nres);
  int use_int = 0, fail = 0;
  if (O == 0) goto store;
  if (R == 0) {
    for (size_t i = 0; i < O; i++) res[i] = identity(op);
    goto store;
  }
  if (inner) {
    fail = cmx_red_f32_inner(op, x, O, R, ld, res, ires, &k, NULL, nthreads);
  } else if (f32 && (ck == 1 || ck == 2) && ckt[ck - 1] == 1 && cr == 1 &&
             op <= CMX_RED_MEAN) {
    /* rows of contiguous columns, or slices of them (a middle axis) */
    const size_t P = ck == 2 ? (size_t)cks[0] : 1;
    fail = cmx_red_f32_outer(op, x, P, ck == 2 ? (size_t)ckt[0] : 0, R,
                             (size_t)cks[ck - 1], (size_t)crt[0], res, &k,
                             nthreads);
  } else if (f32 && ck == 1 && cr == 2 && crt[1] == 1 && crt[0] > 0 &&
             ckt[0] > 0 && op <= CMX_RED_MEAN &&
             (size_t)crs[0] <= CMX_RED_SLICES_MAX && crs[1] >= 16 &&
             (size_t)crs[0] * O <= CMX_RED_PARTIALS_MAX) {
    fail = cmx_red_f32_around(op, x, (size_t)crs[0], (size_t)crt[0], O,
                              (size_t)ckt[0], (size_t)crs[1], res, &k,
                              nthreads);
  } else {
    /* Copy the permuted view into a row-major O x R scratch array. */
    cmx_dtype cd = f32 ? CMX_F32
                   : (cmx_dtype_is_float(a->dtype) &&
                      op != CMX_RED_ALL && op != CMX_RED_ANY) ? CMX_F64
                   : CMX_I64;
    use_int = cd == CMX_I64;
    struct cmx_array_s v = *a;
    memcpy(v.shape, ksh, (size_t)nk * sizeof *ksh);
    memcpy(v.shape + nk, rsh, (size_t)nr * sizeof *rsh);
    memcpy(v.strides, kst, (size_t)nk * sizeof *kst);
    memcpy(v.strides + nk, rst, (size_t)nr * sizeof *rst);
    if (op == CMX_RED_ALL || op == CMX_RED_ANY) v.dtype = a->dtype;
    /* f64, int64 or int32 data (w: its width for the integer loops) read
     * in place where the loops below can: reduced over one leading run of
     * rows, its kept axes one contiguous run (columns accumulated) */
    const int inplace =
        cd != CMX_F32 && (a->dtype == cd || (use_int && a->dtype == CMX_I32));
    const int w = use_int ? (int)cmx_dtype_bytes(a->dtype) : 0;
    if (inplace && op <= CMX_RED_MEAN && ck == 1 && ckt[0] == 1 && cr == 1 &&
        crt[0] >= cks[0]) {
      cmx_red_generic_outer(op, cmx_array_ptr(a), w, R, O, (size_t)crt[0],
                            res, ires, nthreads);
      goto store;
    }
    /* or already O x R row-major (the copy was a fifth of f64 sum over 1M
     * elements, two thirds of int32 max) */
    if (inplace && op != CMX_RED_ALL && op != CMX_RED_ANY &&
        cmx_is_row_major(v.shape, v.strides, nk + nr)) {
      cmx_red_generic(op, cmx_array_ptr(a), w, O, R, res, ires,
                      t->f64_softmax, nthreads);
      goto store;
    }
    if (op == CMX_RED_ALL || op == CMX_RED_ANY) {
      /* Truth values as bytes (bool), then each row scanned a word at a
       * time: all stops at a zero byte, any at a nonzero word (they were
       * widened to int64 and run through the generic loop: 1M f32 all, 1
       * thread, 2292 us -> 203, torch 704-930) */
      struct cmx_buffer *b = cmx_buffer_new(O * R, cmx_op_name[r->op]);
      if (!b) {
        cmx_buffer_release(rb);
        return CMX_ENOMEM;
      }
      cmx_copy_into(b->data, CMX_BOOL, &v, nthreads);
      for (size_t o = 0; o < O; o++) {
        const unsigned char *q = (const unsigned char *)b->data + o * R;
        if (op == CMX_RED_ALL) {
          ires[o] = memchr(q, 0, R) == NULL;
          continue;
        }
        size_t i = 0;
        uint64_t any = 0;
        for (; i + 8 <= R && !any; i += 8) {
          uint64_t wd;
          memcpy(&wd, q + i, 8);
          any = wd;
        }
        for (; i < R && !any; i++) any = q[i];
        ires[o] = any != 0;
      }
      cmx_buffer_release(b);
      goto store;
    }
    struct cmx_buffer *tmp = cmx_buffer_new(O * R * cmx_dtype_bytes(cd),
                                            cmx_op_name[r->op]);
    if (!tmp) {
      cmx_buffer_release(rb);
      return CMX_ENOMEM;
    }
    cmx_copy_into(tmp->data, cd, &v, nthreads);
    k.widen = NULL; /* tmp holds f32 */
    k.router16 = NULL;
    k.rinner16 = NULL;
    if (cd == CMX_F32)
      fail = cmx_red_f32_inner(op, tmp->data, O, R, R, res, ires, &k, NULL,
                               nthreads);
    else
      cmx_red_generic(op, tmp->data, use_int ? 8 : 0, O, R, res, ires,
                      t->f64_softmax, nthreads);
    cmx_buffer_release(tmp);
  }
store:
  if (fail) {
    cmx_buffer_release(rb);
    return cmx_err(CMX_ENOMEM, "%s: out of memory for partial results",
                   cmx_op_name[r->op]);
  }
  int int_result = op == CMX_RED_ARGMAX || op == CMX_RED_ARGMIN ||
                   (use_int && R > 0 && op != CMX_RED_MEAN &&
                    op != CMX_RED_VAR && op != CMX_RED_LOGSUMEXP);
  if (int_result)
    cmx_ew_store_i64(t->cvt, ires, osz, r->dtype, cmx_array_ptr(r));
  else
    cmx_ew_store_f64(t->cvt, res, osz, r->dtype, cmx_array_ptr(r));
  cmx_buffer_release(rb);
  return CMX_OK;
}

#define REDUCE(fn, op)                                                    \
  int fn(cmx_array *out, cmx_array a, const int *axes, int naxes,         \
         bool keepdims, cmx_stream s) {                                   \
    return reduce_node(out, a, axes, naxes, keepdims, op, s, #fn);        \
  }
REDUCE(cmx_sum, CMX_RED_SUM)
REDUCE(cmx_mean, CMX_RED_MEAN)
REDUCE(cmx_prod, CMX_RED_PROD)
REDUCE(cmx_max, CMX_RED_MAX)
REDUCE(cmx_min, CMX_RED_MIN)
REDUCE(cmx_all, CMX_RED_ALL)
REDUCE(cmx_any, CMX_RED_ANY)
REDUCE(cmx_logsumexp, CMX_RED_LOGSUMEXP)
REDUCE(cmx_var, CMX_RED_VAR)

int cmx_argmax(cmx_array *out, cmx_array a, int axis, bool keepdims,
               cmx_stream s) {
  return reduce_node(out, a, &axis, 1, keepdims, CMX_RED_ARGMAX, s,
                     "cmx_argmax");
}

int cmx_argmin(cmx_array *out, cmx_array a, int axis, bool keepdims,
               cmx_stream s) {
  return reduce_node(out, a, &axis, 1, keepdims, CMX_RED_ARGMIN, s,
                     "cmx_argmin");
}
