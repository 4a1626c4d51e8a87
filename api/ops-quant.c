/* Quantised ops in MLX's affine group-wise format: quantize (three nodes,
 * one per result: p.sub Q_WQ, Q_SCALES, Q_BIASES), dequantize and
 * quantized_matmul, all rows of CMX_OP_quant. Params: p.sub the kind,
 * p.axes[0] bits, p.axes[1] group size, p.keepdims transpose, p.naxes the
 * batch dims of a quantized_matmul result. Evaluation runs
 * kernels/f32-qgemm on row-major views: packed weights, scales and biases
 * are read in place when they are row-major (else copied once), x is read
 * through its strides by the driver, and results other than f32 are
 * computed in f32 and converted. */
#include <stdlib.h>
#include <string.h>

#include "../arch/dispatch.h"
#include "../kernels/f32-qgemm/f32-qgemm.h"
#include "internal.h"

enum { Q_WQ, Q_SCALES, Q_BIASES, Q_DEQUANT, Q_MATMUL };

static int is_qfloat(cmx_dtype t) {
  return t == CMX_F32 || t == CMX_F16 || t == CMX_BF16;
}

static enum cmx_gemm_dtype gdt(cmx_dtype t) {
  return t == CMX_F16    ? CMX_GEMM_F16
         : t == CMX_BF16 ? CMX_GEMM_BF16
                         : CMX_GEMM_F32;
}

static int check_format(int group_size, int bits, const char *who) {
  if (bits != 2 && bits != 4 && bits != 8)
    return cmx_err(CMX_EINVAL, "%s: bits %d is not supported (2, 4, 8)", who,
                   bits);
  if (group_size != 32 && group_size != 64 && group_size != 128)
    return cmx_err(CMX_EINVAL,
                   "%s: group_size %d is not supported (32, 64, 128)", who,
                   group_size);
  return CMX_OK;
}

static int check_float(cmx_array a, const char *who, const char *what) {
  if (is_qfloat(a->dtype))
    return CMX_OK;
  return cmx_err(CMX_EDTYPE,
                 "%s: %s has dtype %s; float32, float16 or "
                 "bfloat16 needed",
                 who, what, cmx_dtype_name(a->dtype));
}

/* wq uint32, scales and biases float of one dtype and one shape, which is
 * wq's but for the last dim; *k: elements a row of wq unpacks to. */
static int check_packed(cmx_array wq, cmx_array scales, cmx_array biases,
                        int group_size, int bits, int64_t *k, const char *who) {
  char b0[200], b1[200];
  if (wq->dtype != CMX_U32)
    return cmx_err(CMX_EDTYPE, "%s: wq has dtype %s; uint32 needed", who,
                   cmx_dtype_name(wq->dtype));
  int st = check_float(scales, who, "scales");
  if (!st)
    st = check_float(biases, who, "biases");
  if (st)
    return st;
  if (scales->dtype != biases->dtype)
    return cmx_err(CMX_EDTYPE,
                   "%s: scales (%s) and biases (%s) differ in "
                   "dtype",
                   who, cmx_dtype_name(scales->dtype),
                   cmx_dtype_name(biases->dtype));
  int ok =
      wq->ndim >= 1 && scales->ndim == wq->ndim && biases->ndim == wq->ndim;
  for (int d = 0; ok && d < scales->ndim; d++)
    ok = scales->shape[d] == biases->shape[d] &&
         (d == wq->ndim - 1 || scales->shape[d] == wq->shape[d]);
  *k = ok ? wq->shape[wq->ndim - 1] * 32 / bits : 0;
  if (ok && scales->shape[wq->ndim - 1] * group_size != *k)
    ok = 0;
  if (!ok)
    return cmx_err(CMX_ESHAPE,
                   "%s: wq %s does not match scales %s and "
                   "biases of the same shape (group_size %d, bits %d)",
                   who, cmx_fmt_shape(b0, wq->shape, wq->ndim),
                   cmx_fmt_shape(b1, scales->shape, scales->ndim), group_size,
                   bits);
  return CMX_OK;
}

/* ---- quantize -------------------------------------------------------- */
int cmx_quantize(cmx_array *wq, cmx_array *scales, cmx_array *biases,
                 cmx_array w, int group_size, int bits, cmx_stream s) {
  static const char who[] = "cmx_quantize";
  if (wq)
    *wq = NULL;
  if (scales)
    *scales = NULL;
  if (biases)
    *biases = NULL;
  if (!wq || !scales || !biases)
    return cmx_err(CMX_EINVAL, "%s: an out-parameter is NULL", who);
  int st = cmx_array_check(w, who, "w");
  if (!st)
    st = cmx_stream_resolve(&s, who);
  if (!st)
    st = check_format(group_size, bits, who);
  if (!st)
    st = check_float(w, who, "w");
  if (st)
    return st;
  char b0[200];
  if (w->ndim < 2 || w->shape[w->ndim - 1] % group_size)
    return cmx_err(CMX_ESHAPE,
                   "%s: w %s needs at least 2 dimensions and a "
                   "last one divisible by group_size %d",
                   who, cmx_fmt_shape(b0, w->shape, w->ndim), group_size);
  cmx_array *outs[3] = {wq, scales, biases};
  int64_t sh[CMX_MAX_DIMS];
  memcpy(sh, w->shape, (size_t)w->ndim * sizeof *sh);
  int64_t k = w->shape[w->ndim - 1];
  for (int sub = Q_WQ; sub <= Q_BIASES; sub++) {
    sh[w->ndim - 1] = sub == Q_WQ ? k * bits / 32 : k / group_size;
    cmx_array a =
        cmx_array_alloc(sub == Q_WQ ? CMX_U32 : w->dtype, sh, w->ndim, who);
    st = a ? CMX_OK : cmx_last_status();
    if (!st) {
      a->p.sub = sub;
      a->p.axes[0] = bits;
      a->p.axes[1] = group_size;
      a->p.naxes = 2;
      st = cmx_node_finish(outs[sub], a, CMX_OP_quant, &w, 1, s, who);
    }
    if (st) {
      for (int u = 0; u < 3; u++) {
        cmx_array_free(*outs[u]);
        *outs[u] = NULL;
      }
      return st;
    }
  }
  return CMX_OK;
}

/* The checks dequantize and quantized_matmul share: live handles, the
 * stream, the format, and the packed operands (*k as check_packed). */
static int packed_operands(cmx_array wq, cmx_array scales, cmx_array biases,
                           cmx_stream *s, int group_size, int bits,
                           int64_t *k, const char *who) {
  int st = cmx_array_check(wq, who, "wq");
  if (!st)
    st = cmx_array_check(scales, who, "scales");
  if (!st)
    st = cmx_array_check(biases, who, "biases");
  if (!st)
    st = cmx_stream_resolve(s, who);
  if (!st)
    st = check_format(group_size, bits, who);
  if (!st)
    st = check_packed(wq, scales, biases, group_size, bits, k, who);
  return st;
}

/* ---- dequantize ------------------------------------------------------ */
int cmx_dequantize(cmx_array *out, cmx_array wq, cmx_array scales,
                   cmx_array biases, int group_size, int bits, cmx_stream s) {
  static const char who[] = "cmx_dequantize";
  if (!out)
    return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  int64_t k;
  int st = packed_operands(wq, scales, biases, &s, group_size, bits, &k, who);
  if (st)
    return st;
  int64_t sh[CMX_MAX_DIMS];
  memcpy(sh, wq->shape, (size_t)wq->ndim * sizeof *sh);
  sh[wq->ndim - 1] = k;
  cmx_array a = cmx_array_alloc(scales->dtype, sh, wq->ndim, who);
  if (!a)
    return cmx_last_status();
  a->p.sub = Q_DEQUANT;
  a->p.axes[0] = bits;
  a->p.axes[1] = group_size;
  a->p.naxes = 2;
  cmx_array in[3] = {wq, scales, biases};
  return cmx_node_finish(out, a, CMX_OP_quant, in, 3, s, who);
}

/* ---- quantized_matmul ------------------------------------------------ */
int cmx_quantized_matmul(cmx_array *out, cmx_array x, cmx_array wq,
                         cmx_array scales, cmx_array biases, bool transpose,
                         int group_size, int bits, cmx_stream s) {
  static const char who[] = "cmx_quantized_matmul";
  if (!out)
    return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  int64_t kw;
  int st = cmx_array_check(x, who, "x");
  if (!st)
    st = packed_operands(wq, scales, biases, &s, group_size, bits, &kw, who);
  if (!st)
    st = check_float(x, who, "x");
  if (st)
    return st;
  char b0[200], b1[200];
  if (wq->ndim < 2 || x->ndim < 1)
    return cmx_err(CMX_ESHAPE,
                   "%s: x %s and wq %s: x needs a dimension and "
                   "wq two",
                   who, cmx_fmt_shape(b0, x->shape, x->ndim),
                   cmx_fmt_shape(b1, wq->shape, wq->ndim));
  /* transpose: w is (N, K) packed along K; else (K, N) packed along N */
  int64_t n = transpose ? wq->shape[wq->ndim - 2] : kw;
  int64_t k = transpose ? kw : wq->shape[wq->ndim - 2];
  if (x->shape[x->ndim - 1] != k)
    return cmx_err(CMX_ESHAPE,
                   "%s: x %s and quantised w of %lld x %lld "
                   "(transpose %d) differ in K",
                   who, cmx_fmt_shape(b0, x->shape, x->ndim),
                   (long long)(transpose ? n : k),
                   (long long)(transpose ? k : n), (int)transpose);
  int xb = x->ndim > 2 ? x->ndim - 2 : 0, wb = wq->ndim - 2;
  int nb = xb > wb ? xb : wb;
  int64_t sh[CMX_MAX_DIMS];
  for (int d = 0; d < nb; d++) {
    int ix = d - (nb - xb), iw = d - (nb - wb);
    int64_t dx = ix >= 0 ? x->shape[ix] : 1, dw = iw >= 0 ? wq->shape[iw] : 1;
    if (dx != dw && dx != 1 && dw != 1)
      return cmx_err(CMX_ESHAPE,
                     "%s: batch dimensions of x %s and wq %s "
                     "cannot broadcast",
                     who, cmx_fmt_shape(b0, x->shape, x->ndim),
                     cmx_fmt_shape(b1, wq->shape, wq->ndim));
    sh[d] = dx == 1 ? dw : dx;
  }
  int nd = nb;
  if (x->ndim >= 2)
    sh[nd++] = x->shape[x->ndim - 2];
  sh[nd++] = n;
  cmx_array a = cmx_array_alloc(x->dtype, sh, nd, who);
  if (!a)
    return cmx_last_status();
  a->p.sub = Q_MATMUL;
  a->p.axes[0] = bits;
  a->p.axes[1] = group_size;
  a->p.naxes = nb;
  a->p.keepdims = transpose;
  cmx_array in[4] = {x, wq, scales, biases};
  return cmx_node_finish(out, a, CMX_OP_quant, in, 4, s, who);
}

/* ---- evaluation ------------------------------------------------------ */
/* A row-major pointer to x's elements: its own when x is row-major (and
 * of dtype dt), else a copy converted to dt (*copy holds it). NULL without
 * memory. */
static const void *dense(cmx_array x, cmx_dtype dt, struct cmx_buffer **copy,
                         int nthreads, const char *who) {
  *copy = NULL;
  if (x->dtype == dt && cmx_is_row_major(x->shape, x->strides, x->ndim))
    return cmx_array_ptr(x);
  *copy = cmx_buffer_new((size_t)x->size * cmx_dtype_bytes(dt), who);
  if (!*copy)
    return NULL;
  cmx_copy_into((*copy)->data, dt, x, nthreads);
  return (*copy)->data;
}

/* Converts n f32 at src into a's buffer (a's dtype). */
static void store_from_f32(cmx_array a, struct cmx_buffer *src, int64_t n,
                           int nthreads) {
  struct cmx_array_s v;
  memset(&v, 0, sizeof v);
  v.dtype = CMX_F32;
  v.ndim = 1;
  v.shape[0] = n;
  v.strides[0] = 1;
  v.size = n;
  v.buf = src;
  cmx_copy_into(cmx_array_ptr(a), a->dtype, &v, nthreads);
}

/* Element offsets, for each of the batch entries of the broadcast batch
 * shape bsh (nb dims), of an array whose own nxb batch dims (shape xs,
 * strides st) align right with bsh. */
static void batch_offsets(const int64_t *xs, const int64_t *st, int nxb,
                          const int64_t *bsh, int nb, int64_t base,
                          int64_t *off, size_t batch) {
  int64_t idx[CMX_MAX_DIMS] = {0};
  for (size_t t = 0; t < batch; t++) {
    int64_t o = base;
    for (int d = 0; d < nb; d++) {
      int j = d - (nb - nxb);
      if (j >= 0 && xs[j] != 1)
        o += idx[d] * st[j];
    }
    off[t] = o;
    for (int d = nb - 1; d >= 0; d--) {
      if (++idx[d] < bsh[d])
        break;
      idx[d] = 0;
    }
  }
}

static int eval_quantize(cmx_array a, int nthreads, const char *who) {
  const struct cmx_dispatch *t = cmx_dispatch();
  cmx_array w = a->in[0];
  const int bits = a->p.axes[0], gs = a->p.axes[1];
  const size_t k = (size_t)w->shape[w->ndim - 1];
  const size_t rows = k ? (size_t)w->size / k : 0;
  struct cmx_buffer *wc = NULL, *tmp = NULL;
  int st = cmx_array_alloc_data(a);
  if (st || !a->size)
    return st;
  const float *wf = dense(w, CMX_F32, &wc, nthreads, who);
  if (!wf)
    return CMX_ENOMEM;
  if (a->p.sub != Q_WQ && a->dtype != CMX_F32) {
    tmp = cmx_buffer_new((size_t)a->size * sizeof(float), who);
    if (!tmp)
      st = CMX_ENOMEM;
  }
  if (!st) {
    float *sb = tmp ? (float *)tmp->data : (float *)cmx_array_ptr(a);
    cmx_f32_quantize(&t->qgemm, rows, k, (size_t)gs, bits, wf,
                     a->p.sub == Q_WQ ? (uint32_t *)cmx_array_ptr(a) : NULL,
                     a->p.sub == Q_SCALES ? sb : NULL,
                     a->p.sub == Q_BIASES ? sb : NULL, nthreads);
    if (tmp)
      store_from_f32(a, tmp, a->size, nthreads);
  }
  cmx_buffer_release(wc);
  cmx_buffer_release(tmp);
  return st;
}

/* What dequantize and quantized_matmul compute from: the packed operands
 * as row-major pointers (copies where the arrays are views), and the f32
 * scratch an f16 / bf16 result is computed in. */
struct qops {
  const void *w, *s, *b;
  struct cmx_buffer *cw, *cs, *cb, *tmp;
};

/* Fills q (zeroed by the caller) for result a; CMX_ENOMEM, with the
 * message set, when a copy or the scratch cannot be had. */
static int qops_get(struct qops *q, cmx_array a, cmx_array wq, cmx_array sc,
                    cmx_array bi, int nthreads, const char *who) {
  q->w = dense(wq, CMX_U32, &q->cw, nthreads, who);
  q->s = q->w ? dense(sc, sc->dtype, &q->cs, nthreads, who) : NULL;
  q->b = q->s ? dense(bi, bi->dtype, &q->cb, nthreads, who) : NULL;
  if (q->b && a->dtype != CMX_F32)
    q->tmp = cmx_buffer_new((size_t)a->size * sizeof(float), who);
  return !q->b || (a->dtype != CMX_F32 && !q->tmp) ? CMX_ENOMEM : CMX_OK;
}

/* Where the f32 result goes: the scratch, or a itself. */
static float *qops_out(const struct qops *q, cmx_array a) {
  return q->tmp ? q->tmp->data : (float *)cmx_array_ptr(a);
}

/* The end of both evals: an f16 / bf16 result is stored from its f32
 * scratch, and the copies go. */
static int qops_finish(struct qops *q, cmx_array a, int st, int nthreads) {
  if (!st && q->tmp)
    store_from_f32(a, q->tmp, a->size, nthreads);
  cmx_buffer_release(q->cw);
  cmx_buffer_release(q->cs);
  cmx_buffer_release(q->cb);
  cmx_buffer_release(q->tmp);
  return st;
}

static int eval_dequantize(cmx_array a, int nthreads, const char *who) {
  const struct cmx_dispatch *t = cmx_dispatch();
  cmx_array wq = a->in[0], sc = a->in[1], bi = a->in[2];
  const int bits = a->p.axes[0], gs = a->p.axes[1];
  const size_t k = (size_t)a->shape[a->ndim - 1];
  const size_t rows = k ? (size_t)a->size / k : 0;
  int st = cmx_array_alloc_data(a);
  if (st || !a->size)
    return st;
  struct qops q = {0};
  st = qops_get(&q, a, wq, sc, bi, nthreads, who);
  if (!st && cmx_f32_qdequant(&t->qgemm, rows, k, bits, (size_t)gs, q.w,
                              k * (size_t)bits / 32, q.s, q.b, gdt(sc->dtype),
                              k / (size_t)gs, t->cvt[CMX_CVT_F16_F32],
                              t->cvt[CMX_CVT_BF16_F32], qops_out(&q, a),
                              nthreads))
    st = cmx_err(CMX_ENOMEM, "%s: no memory for scratch", who);
  return qops_finish(&q, a, st, nthreads);
}

static int eval_qmm(cmx_array a, int nthreads, const char *who) {
  const struct cmx_dispatch *t = cmx_dispatch();
  cmx_array x = a->in[0], wq = a->in[1], sc = a->in[2], bi = a->in[3];
  const int bits = a->p.axes[0], gs = a->p.axes[1], tr = a->p.keepdims;
  const int nb = a->p.naxes, wb = wq->ndim - 2;
  const int xb = x->ndim > 2 ? x->ndim - 2 : 0;
  int st = cmx_array_alloc_data(a);
  if (st || !a->size)
    return st;
  size_t batch = 1, wbatch = 1;
  for (int d = 0; d < nb; d++)
    batch *= (size_t)a->shape[d];
  for (int d = 0; d < wb; d++)
    wbatch *= (size_t)wq->shape[d];
  const size_t n = (size_t)a->shape[a->ndim - 1];
  const size_t k = (size_t)x->shape[x->ndim - 1];
  const size_t m = x->ndim >= 2 ? (size_t)x->shape[x->ndim - 2] : 1;
  const size_t wrows = (size_t)wq->shape[wq->ndim - 2];
  const size_t ldw = (size_t)wq->shape[wq->ndim - 1];
  const size_t lds = (size_t)sc->shape[sc->ndim - 1];
  struct qops q = {0};
  int64_t *off = malloc(3 * batch * sizeof(int64_t));
  st = off ? qops_get(&q, a, wq, sc, bi, nthreads, who)
           : cmx_err(CMX_ENOMEM, "%s: out of memory", who);
  if (!st) {
    int64_t *xoff = off, *woff = off + batch, *soff = off + 2 * batch;
    batch_offsets(x->shape, x->strides, xb, a->shape, nb, x->offset, xoff,
                  batch);
    /* W's row-major batch strides, in words and in scale elements */
    int64_t wst[CMX_MAX_DIMS], sst[CMX_MAX_DIMS];
    int64_t wstep = (int64_t)(wrows * ldw), sstep = (int64_t)(wrows * lds);
    for (int d = wb - 1; d >= 0; d--) {
      wst[d] = wstep, sst[d] = sstep;
      wstep *= wq->shape[d], sstep *= wq->shape[d];
    }
    batch_offsets(wq->shape, wst, wb, a->shape, nb, 0, woff, batch);
    batch_offsets(wq->shape, sst, wb, a->shape, nb, 0, soff, batch);
    struct cmx_qgemm_problem p = {
        .batch = batch,
        .m = m,
        .n = n,
        .k = k,
        .bits = bits,
        .transpose = tr,
        .gs = (size_t)gs,
        .x = {x->buf->data, gdt(x->dtype), (ptrdiff_t)x->strides[x->ndim - 1],
              (ptrdiff_t)x->strides[x->ndim - 1], xoff},
        .w = q.w,
        .ldw = ldw,
        .wboff = wbatch > 1 ? woff : NULL,
        .s = q.s,
        .b = q.b,
        .sdt = gdt(sc->dtype),
        .lds = lds,
        .sboff = wbatch > 1 ? soff : NULL,
        .y = qops_out(&q, a),
        .cvt_f16 = t->cvt[CMX_CVT_F16_F32],
        .cvt_bf16 = t->cvt[CMX_CVT_BF16_F32]};
    p.x.rs = x->ndim >= 2 ? (ptrdiff_t)x->strides[x->ndim - 2] : 0;
    if (cmx_f32_qgemm(&t->qgemm, &t->gemm_f32, &p, nthreads))
      st = cmx_err(CMX_ENOMEM, "%s: no memory for scratch", who);
  }
  free(off);
  return qops_finish(&q, a, st, nthreads);
}

int cmx_eval_quant(cmx_array a, int nthreads) {
  static const char *const who[] = {"cmx_quantize", "cmx_quantize",
                                    "cmx_quantize", "cmx_dequantize",
                                    "cmx_quantized_matmul"};
  switch (a->p.sub) {
  case Q_DEQUANT:
    return eval_dequantize(a, nthreads, who[Q_DEQUANT]);
  case Q_MATMUL:
    return eval_qmm(a, nthreads, who[Q_MATMUL]);
  default:
    return eval_quantize(a, nthreads, who[a->p.sub]);
  }
}
