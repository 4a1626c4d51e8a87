/* scaled_dot_product_attention and conv1d / conv2d: builders validate
 * shapes as MLX does and make the node; eval functions hand f32 operands
 * to the drivers of kernels/nn/attn-conv.h. f32 q / k / v whose last axis
 * is contiguous are read in place through their strides (transposed head
 * layouts included), an f32 mask through broadcast strides; so are f16 /
 * bf16 k and v where the row pass runs (cmx_attn_reads_16bit: decode,
 * and a few query rows), widened as they are read. Anything else (f16,
 * bf16, f64, other strides, non-f32 masks) is first copied row-major into
 * f32 scratch. Results are computed in f32 and converted to the output
 * dtype by the copy path.
 * attention params: p.value scale, p.sub mask mode (0 none, 1 causal,
 * 2 array). conv params: p.axes[0..1] stride, [2..3] padding, [4..5]
 * dilation, [6] groups, p.sub 3 (conv1d) or 4 (conv2d). */
#include <string.h>

#include "../arch/dispatch.h"
#include "../kernels/nn/attn-conv.h"
#include "internal.h"


enum { MASK_NONE, MASK_CAUSAL, MASK_ARRAY };

static int prologue(cmx_array *out, cmx_stream *s, const char *who) {
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  return cmx_stream_resolve(s, who);
}

/* A row-major f32 copy of x; NULL with the error set on failure. */
static struct cmx_buffer *f32_copy(cmx_array x, int nthreads,
                                   const char *who) {
  struct cmx_buffer *b =
      cmx_buffer_new((size_t)(x->size ? x->size : 1) * sizeof(float), who);
  if (b) cmx_copy_into(b->data, CMX_F32, x, nthreads);
  return b;
}

/* Writes the f32 result r (row-major, a's shape) into a's dtype. */
static void store_result(cmx_array a, struct cmx_buffer *r, int nthreads) {
  struct cmx_array_s w = {0};
  w.dtype = CMX_F32;
  w.ndim = a->ndim;
  w.size = a->size;
  w.buf = r;
  memcpy(w.shape, a->shape, (size_t)a->ndim * sizeof *a->shape);
  cmx_row_major_strides(a->shape, a->ndim, w.strides);
  cmx_copy_into(cmx_array_ptr(a), a->dtype, &w, nthreads);
}

static int shape_err(const char *who, const char *what, cmx_array a,
                     cmx_array b) {
  char b0[200], b1[200];
  return cmx_err(CMX_ESHAPE, "%s: %s (shapes %s and %s)", who, what,
                 cmx_fmt_shape(b0, a->shape, a->ndim),
                 cmx_fmt_shape(b1, b->shape, b->ndim));
}

/* ---- scaled_dot_product_attention -------------------------------------- */

int cmx_scaled_dot_product_attention(cmx_array *out, cmx_array q, cmx_array k,
                                     cmx_array v, float scale,
                                     const char *mask_mode, cmx_array mask,
                                     cmx_stream s) {
  static const char who[] = "cmx_scaled_dot_product_attention";
  int st = prologue(out, &s, who);
  if (st) return st;
  if ((st = cmx_array_check(q, who, "q")) || (st = cmx_array_check(k, who, "k")) ||
      (st = cmx_array_check(v, who, "v")))
    return st;
  int mode;
  if (!mask_mode || !*mask_mode) mode = MASK_NONE;
  else if (!strcmp(mask_mode, "causal")) mode = MASK_CAUSAL;
  else if (!strcmp(mask_mode, "array")) mode = MASK_ARRAY;
  else
    return cmx_err(CMX_EINVAL, "%s: mask_mode \"%s\" is not \"\", \"causal\" "
                   "or \"array\"", who, mask_mode);
  if (mode == MASK_ARRAY && !mask)
    return cmx_err(CMX_EINVAL, "%s: mask_mode \"array\" needs a mask", who);
  if (mode != MASK_ARRAY && mask)
    return cmx_err(CMX_EINVAL, "%s: a mask array needs mask_mode \"array\"",
                   who);
  if (mask && (st = cmx_array_check(mask, who, "mask"))) return st;
  const cmx_array qkv[3] = {q, k, v};
  static const char *const nm[3] = {"q", "k", "v"};
  for (int i = 0; i < 3; i++)
    if (qkv[i]->ndim != 4) {
      char b0[200];
      return cmx_err(CMX_ESHAPE, "%s: %s must have shape (B, H, L, D); it "
                     "has shape %s", who, nm[i],
                     cmx_fmt_shape(b0, qkv[i]->shape, qkv[i]->ndim));
    }
  if (q->shape[0] != k->shape[0] || k->shape[0] != v->shape[0])
    return shape_err(who, "q, k and v differ in batch size", q, k);
  if (k->shape[1] != v->shape[1] || k->shape[2] != v->shape[2])
    return shape_err(who, "k and v differ in heads or length", k, v);
  if (q->shape[3] != k->shape[3])
    return shape_err(who, "q and k differ in head dimension", q, k);
  if (k->shape[1] == 0 ? q->shape[1] != 0 : q->shape[1] % k->shape[1])
    return shape_err(who, "q's heads are not a multiple of k's heads", q, k);
  cmx_dtype dt = cmx_promote(cmx_promote(q->dtype, k->dtype), v->dtype);
  if (!cmx_dtype_is_float(dt))
    return cmx_err(CMX_EDTYPE, "%s: q, k and v must be floating point", who);
  const int64_t osh[4] = {q->shape[0], q->shape[1], q->shape[2], v->shape[3]};
  if (mask) {
    const int64_t full[4] = {q->shape[0], q->shape[1], q->shape[2],
                             k->shape[2]};
    int ok = mask->ndim <= 4;
    for (int d = 0; ok && d < mask->ndim; d++) {
      int64_t m = mask->shape[mask->ndim - 1 - d], f = full[3 - d];
      ok = m == f || m == 1;
    }
    if (!ok) {
      char b0[200], b1[200];
      return cmx_err(CMX_ESHAPE, "%s: mask of shape %s does not broadcast to "
                     "the scores %s", who,
                     cmx_fmt_shape(b0, mask->shape, mask->ndim),
                     cmx_fmt_shape(b1, full, 4));
    }
  }
  cmx_array a = cmx_array_alloc(dt, osh, 4, who);
  if (!a) return cmx_last_status();
  a->p.value = scale;
  a->p.sub = mode;
  cmx_array in[4] = {q, k, v, mask};
  return cmx_node_finish(out, a, CMX_OP_scaled_dot_product_attention, in,
                         mask ? 4 : 3, s, who);
}

/* 1 when x (4-D) can be read in place: f32 (or, with half set, f16 /
 * bf16), contiguous last axis, the length axis stepping forward (V's rows
 * feed the microkernel's ldb). */
static int attn_direct(cmx_array x, int half) {
  if (x->dtype != CMX_F32 &&
      !(half && (x->dtype == CMX_BF16 || x->dtype == CMX_F16)))
    return 0;
  if (x->shape[3] > 1 && x->strides[3] != 1) return 0;
  for (int d = 0; d < 3; d++)
    if (x->strides[d] < 0) return 0;
  return x->shape[2] <= 1 || x->strides[2] > 0;
}

int cmx_eval_scaled_dot_product_attention(cmx_array a, int nthreads) {
  const char *who = cmx_op_name[a->op];
  int st = cmx_array_alloc_data(a);
  if (st || a->size == 0) return st;
  const struct cmx_dispatch *t = cmx_dispatch();
  struct cmx_buffer *tmp[5] = {0};
  const void *ptr[3] = {0};
  int64_t strides[3][3];
  cmx_array q = a->in[0], k = a->in[1], v = a->in[2];
  struct cmx_attn_io io = {
      .B = (size_t)q->shape[0], .Hq = (size_t)q->shape[1],
      .Hkv = (size_t)k->shape[1], .Lq = (size_t)q->shape[2],
      .Lk = (size_t)k->shape[2], .D = (size_t)q->shape[3],
      .Dv = (size_t)v->shape[3], .scale = (float)a->p.value,
      .causal = a->p.sub == MASK_CAUSAL};
  /* f16 / bf16 K and V are read in place by the row pass of decode and
   * of a few query rows (each row widened as it is read); elsewhere they
   * are copied to f32 first */
  const int half = cmx_attn_reads_16bit(&io, &t->gemm_f32);
  st = CMX_OK;
  for (int i = 0; i < 3 && !st; i++) {
    cmx_array x = a->in[i];
    if (attn_direct(x, half && i > 0)) {
      for (int d = 0; d < 3; d++) strides[i][d] = x->strides[d];
      ptr[i] = cmx_array_ptr(x);
      if (x->dtype == CMX_F32) continue;
      const int bf = x->dtype == CMX_BF16;
      const cmx_cvt_ukr_fn cvt =
          t->cvt[bf ? CMX_CVT_BF16_F32 : CMX_CVT_F16_F32];
      if (i == 1)
        io.kcvt = cvt, io.kbf = bf;
      else
        io.vcvt = cvt, io.vbf = bf;
      continue;
    }
    if (!(tmp[i] = f32_copy(x, nthreads, who))) {
      st = cmx_last_status();
      break;
    }
    ptr[i] = tmp[i]->data;
    int64_t rs[4];
    cmx_row_major_strides(x->shape, 4, rs);
    for (int d = 0; d < 3; d++) strides[i][d] = rs[d];
  }
  io.q = ptr[0], io.k = ptr[1], io.v = ptr[2];
  memcpy(io.qs, strides[0], sizeof io.qs);
  memcpy(io.ks, strides[1], sizeof io.ks);
  memcpy(io.vs, strides[2], sizeof io.vs);
  if (!st && a->p.sub == MASK_ARRAY) {
    cmx_array m = a->in[3];
    int64_t ms[CMX_MAX_DIMS];
    if (m->dtype == CMX_F32) {
      io.mask = (const float *)cmx_array_ptr(m);
      memcpy(ms, m->strides, sizeof ms);
    } else if ((tmp[3] = f32_copy(m, nthreads, who))) {
      io.mask = tmp[3]->data;
      cmx_row_major_strides(m->shape, m->ndim, ms);
    } else {
      st = cmx_last_status();
    }
    io.mask_bool = m->dtype == CMX_BOOL;
    for (int d = 0; d < 4; d++) {
      int md = m->ndim - 4 + d;
      io.ms[d] = md >= 0 && m->shape[md] > 1 ? ms[md] : 0;
    }
  }
  if (!st) {
    if (a->dtype == CMX_F32) {
      io.o = (float *)cmx_array_ptr(a);
    } else if ((tmp[4] = cmx_buffer_new((size_t)a->size * sizeof(float),
                                        who))) {
      io.o = tmp[4]->data;
    } else {
      st = cmx_last_status();
    }
  }
  if (!st) {
    const struct cmx_attn_kernels kk = {
        .gemm = &t->gemm_f32, .fold = t->f32_softmax_fold,
        .mul = t->f32_vbinary[CMX_VBINARY_MUL],
        .div = t->f32_vbinary[CMX_VBINARY_DIV]};
    if (cmx_attn_run(&io, &kk, nthreads))
      st = cmx_err(CMX_ENOMEM, "%s: out of memory for the attention "
                   "workspace", who);
    else if (tmp[4])
      store_result(a, tmp[4], nthreads);
  }
  for (int i = 0; i < 5; i++)
    if (tmp[i]) cmx_buffer_release(tmp[i]);
  return st;
}

/* ---- conv1d, conv2d ---------------------------------------------------- */

static int conv_node(cmx_array *out, cmx_array x, cmx_array w, int nsp,
                     const int *stride, const int *padding,
                     const int *dilation, int groups, cmx_stream s,
                     const char *who) {
  int st = prologue(out, &s, who);
  if (st) return st;
  if ((st = cmx_array_check(x, who, "x")) || (st = cmx_array_check(w, who, "w")))
    return st;
  const int nd = nsp + 2;
  if (x->ndim != nd || w->ndim != nd) {
    char b0[200], b1[200];
    return cmx_err(CMX_ESHAPE, "%s: x %s and w %s must have %d dimensions "
                   "(x: N, %s, C_in; w: C_out, %s, C_in / groups)", who,
                   cmx_fmt_shape(b0, x->shape, x->ndim),
                   cmx_fmt_shape(b1, w->shape, w->ndim), nd,
                   nsp == 1 ? "L" : "H, W", nsp == 1 ? "K" : "KH, KW");
  }
  for (int i = 0; i < nsp; i++)
    if (stride[i] < 1 || dilation[i] < 1 || padding[i] < 0)
      return cmx_err(CMX_EINVAL, "%s: stride %d and dilation %d must be >= 1 "
                     "and padding %d >= 0", who, stride[i], dilation[i],
                     padding[i]);
  const int64_t cin = x->shape[nd - 1], cout = w->shape[0];
  if (groups < 1)
    return cmx_err(CMX_EINVAL, "%s: groups %d must be >= 1", who, groups);
  if (cin % groups || cout % groups || w->shape[nd - 1] * groups != cin)
    return shape_err(who, "channels do not match (x's C_in must equal w's "
                     "last dimension times groups, both C_in and C_out "
                     "divisible by groups)", x, w);
  int64_t osh[4] = {x->shape[0]};
  for (int i = 0; i < nsp; i++) {
    int64_t span = (int64_t)dilation[i] * (w->shape[1 + i] - 1) + 1;
    int64_t in = x->shape[1 + i] + 2 * (int64_t)padding[i];
    if (w->shape[1 + i] < 1 || in < span)
      return shape_err(who, "the kernel is larger than the padded input",
                       x, w);
    osh[1 + i] = (in - span) / stride[i] + 1;
  }
  osh[nd - 1] = cout;
  cmx_dtype dt = cmx_float_of(cmx_promote(x->dtype, w->dtype));
  cmx_array a = cmx_array_alloc(dt, osh, nd, who);
  if (!a) return cmx_last_status();
  for (int i = 0; i < 2; i++) {
    int j = nsp == 1 ? 0 : i; /* conv1d: the 1-long H axis gets 1 / 0 / 1 */
    int real = nsp == 2 || i == 1;
    a->p.axes[i] = real ? stride[j] : 1;
    a->p.axes[2 + i] = real ? padding[j] : 0;
    a->p.axes[4 + i] = real ? dilation[j] : 1;
  }
  a->p.axes[6] = groups;
  a->p.naxes = 7;
  a->p.sub = nd;
  cmx_array in[2] = {x, w};
  return cmx_node_finish(out, a, CMX_OP_conv, in, 2, s, who);
}

int cmx_conv1d(cmx_array *out, cmx_array x, cmx_array w, int stride,
               int padding, int dilation, int groups, cmx_stream s) {
  return conv_node(out, x, w, 1, &stride, &padding, &dilation, groups, s,
                   "cmx_conv1d");
}

int cmx_conv2d(cmx_array *out, cmx_array x, cmx_array w, const int stride[2],
               const int padding[2], const int dilation[2], int groups,
               cmx_stream s) {
  static const int one[2] = {1, 1}, zero[2] = {0, 0};
  return conv_node(out, x, w, 2, stride ? stride : one,
                   padding ? padding : zero, dilation ? dilation : one,
                   groups, s, "cmx_conv2d");
}

int cmx_eval_conv(cmx_array a, int nthreads) {
  const char *who = cmx_op_name[a->op];
  int st = cmx_array_alloc_data(a);
  if (st || a->size == 0) return st;
  cmx_array x = a->in[0], w = a->in[1];
  const int nd = a->p.sub, one = nd == 3;
  struct cmx_buffer *tmp[3] = {0};
  const float *ptr[2];
  for (int i = 0; i < 2 && !st; i++) {
    cmx_array y = a->in[i];
    if (y->dtype == CMX_F32 && cmx_is_row_major(y->shape, y->strides, nd))
      ptr[i] = (const float *)cmx_array_ptr(y);
    else if ((tmp[i] = f32_copy(y, nthreads, who)))
      ptr[i] = tmp[i]->data;
    else
      st = cmx_last_status();
  }
  struct cmx_conv_io io = {
      .x = ptr[0], .w = ptr[1], .N = (size_t)x->shape[0],
      .H = one ? 1 : (size_t)x->shape[1], .W = (size_t)x->shape[nd - 2],
      .Cin = (size_t)x->shape[nd - 1], .Cout = (size_t)w->shape[0],
      .KH = one ? 1 : (size_t)w->shape[1], .KW = (size_t)w->shape[nd - 2],
      .Ho = one ? 1 : (size_t)a->shape[1], .Wo = (size_t)a->shape[nd - 2],
      .groups = (size_t)a->p.axes[6]};
  for (int i = 0; i < 2; i++) {
    io.stride[i] = a->p.axes[i];
    io.pad[i] = a->p.axes[2 + i];
    io.dil[i] = a->p.axes[4 + i];
  }
  if (!st) {
    if (a->dtype == CMX_F32)
      io.y = (float *)cmx_array_ptr(a);
    else if ((tmp[2] = cmx_buffer_new((size_t)a->size * sizeof(float), who)))
      io.y = tmp[2]->data;
    else
      st = cmx_last_status();
  }
  if (!st) {
    if (cmx_conv_run(&io, &cmx_dispatch()->gemm_f32,
                     cmx_dispatch()->f32_dwconv, nthreads))
      st = cmx_err(CMX_ENOMEM, "%s: out of memory for the packed weights or "
                   "a patch tile", who);
    else if (tmp[2])
      store_result(a, tmp[2], nthreads);
  }
  for (int i = 0; i < 3; i++)
    if (tmp[i]) cmx_buffer_release(tmp[i]);
  return st;
}
