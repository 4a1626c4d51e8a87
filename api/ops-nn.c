/* NN ops: softmax / log_softmax over any axis, layer_norm / rms_norm over
 * the last axis, rope and rope with per-batch offsets. Builders validate
 * and make the node; eval functions choose a layout for the drivers of
 * kernels/nn: rows read in place when the reduced axis is the last and
 * contiguous with one stride between rows (f32, f16, bf16, f64), else a
 * row-major scratch copy in the compute type (f32, or f64 for f64); a
 * softmax over another axis runs on the copy with that axis moved last and
 * is scattered back by the copy path. softplus and silu_mul are rows of
 * the elementwise family (ops-elementwise.c).
 * rope params: p.axes[0] dims, p.keepdims traditional, p.value base,
 * p.step scale, p.delta offset, p.sub 1 when in[1] holds the offsets. */
#include <string.h>

#include "../arch/dispatch.h"
#include "../kernels/nn/nn.h"
#include "internal.h"

static int prologue(cmx_array *out, cmx_array x, cmx_stream *s,
                    const char *who) {
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  int st = cmx_array_check(x, who, "x");
  return st ? st : cmx_stream_resolve(s, who);
}

static int is_f(cmx_dtype t) {
  return t == CMX_F32 || t == CMX_F16 || t == CMX_BF16 || t == CMX_F64;
}

/* 1 when x's rows along the last axis are contiguous and the other axes
 * step between rows by one stride *ld >= 0 (elements). */
static int rows_direct(cmx_array x, size_t *ld) {
  const int nd = x->ndim;
  const int64_t n = nd ? x->shape[nd - 1] : 1;
  if (nd && n > 1 && x->strides[nd - 1] != 1) return 0;
  int64_t st = -1, expect = 0;
  for (int d = nd - 2; d >= 0; d--) {
    if (x->shape[d] == 1) continue;
    if (st < 0 && x->strides[d] >= 0) {
      st = x->strides[d];
      expect = st * x->shape[d];
    } else if (x->strides[d] != expect || st < 0) {
      return 0;
    } else {
      expect *= x->shape[d];
    }
  }
  *ld = st < 0 ? (size_t)n : (size_t)st;
  return 1;
}

/* A row-major copy of x (shape, strides as given: a permuted view) in
 * dtype cd; NULL with the error set on failure. */
static struct cmx_buffer *scratch_copy(cmx_array x, const int64_t *shape,
                                       const int64_t *strides, cmx_dtype cd,
                                       int nthreads, const char *who) {
  struct cmx_buffer *b =
      cmx_buffer_new((size_t)x->size * cmx_dtype_bytes(cd), who);
  if (!b) return NULL;
  struct cmx_array_s v = *x;
  memcpy(v.shape, shape, (size_t)x->ndim * sizeof *shape);
  memcpy(v.strides, strides, (size_t)x->ndim * sizeof *strides);
  cmx_copy_into(b->data, cd, &v, nthreads);
  return b;
}

static int driver_failed(cmx_array a) {
  return cmx_err(CMX_ENOMEM, "%s: out of memory for a row tile",
                 cmx_op_name[a->op]);
}

/* ---- softmax ---------------------------------------------------------- */

static int softmax_node(cmx_array *out, cmx_array x, int axis,
                        enum cmx_softmax_op op, cmx_stream s,
                        const char *who) {
  int st = prologue(out, x, &s, who);
  if (st) return st;
  int ax = axis < 0 ? axis + x->ndim : axis;
  if (ax < 0 || ax >= x->ndim)
    return cmx_err(CMX_EINVAL, "%s: axis %d is out of range for an array of "
                   "%d dimensions", who, axis, x->ndim);
  cmx_array a = cmx_array_alloc(cmx_float_of(x->dtype), x->shape, x->ndim, who);
  if (!a) return cmx_last_status();
  a->p.sub = op;
  a->p.axes[0] = ax;
  a->p.naxes = 1;
  return cmx_node_finish(out, a, CMX_OP_softmax, &x, 1, s, who);
}

int cmx_softmax(cmx_array *out, cmx_array a, int axis, cmx_stream s) {
  return softmax_node(out, a, axis, CMX_SOFTMAX_EXP, s, "cmx_softmax");
}

int cmx_log_softmax(cmx_array *out, cmx_array a, int axis, cmx_stream s) {
  return softmax_node(out, a, axis, CMX_SOFTMAX_LOG, s, "cmx_log_softmax");
}

int cmx_eval_softmax(cmx_array a, int nthreads) {
  const char *who = cmx_op_name[a->op];
  cmx_array x = a->in[0];
  const int ax = a->p.axes[0], nd = x->ndim;
  const enum cmx_softmax_op op = (enum cmx_softmax_op)a->p.sub;
  int st = cmx_array_alloc_data(a);
  if (st || a->size == 0) return st;
  const struct cmx_dispatch *t = cmx_dispatch();
  const struct cmx_rows_kernels k = {.softmax = t->f32_softmax[op],
                                     .cvt = t->cvt,
                                     .vexp = t->f32_vunary[CMX_VUNARY_EXP],
                                     .vlog = t->f32_vunary[CMX_VUNARY_LOG],
                                     .softmax64 = t->f64_softmax,
                                     .vbin = t->f32_vbinary};
  /* f32 outputs past the last-level cache: the streaming rows (short rows
   * through a stack buffer, one exp an element; f32-softmax.h). On a
   * Cascade Lake VM the old streaming rows, which computed exp twice, lost
   * to the cached rows (softmax CPU 18 -> 27 ms on one core); on the Zen 5
   * VM these win: 4096 x 4096, 1 thread, 3.43 -> ~2.9 ms. */
  const int nt = a->dtype == CMX_F32 && cmx_nt_out((size_t)a->size * 4);
  /* x and y of one 16-bit type: the level's 16-bit rows where it has
   * them (f32-softmax.h), one read and one write of each row. */
  const int h16 = x->dtype == a->dtype &&
                  (a->dtype == CMX_BF16 || a->dtype == CMX_F16);
  const struct cmx_rows_kernels kd = {
      .softmax = t->f32_softmax[!nt ? op
                                : op == CMX_SOFTMAX_LOG ? CMX_SOFTMAX_LOG_NT
                                                        : CMX_SOFTMAX_EXP_NT],
      .stream = nt,
      .softmax16 = !h16 ? NULL
                   : t->h16_softmax[(a->dtype == CMX_BF16
                                         ? CMX_SOFTMAX16_EXP_BF16
                                         : CMX_SOFTMAX16_EXP_F16) +
                                    (op == CMX_SOFTMAX_LOG)],
      .cvt = t->cvt,
      .vexp = t->f32_vunary[CMX_VUNARY_EXP],
      .vlog = t->f32_vunary[CMX_VUNARY_LOG],
      .softmax64 = t->f64_softmax};
  const enum cmx_rows_op rop =
      op == CMX_SOFTMAX_LOG ? CMX_ROWS_LOG_SOFTMAX : CMX_ROWS_SOFTMAX;
  const cmx_dtype cd = a->dtype == CMX_F64 ? CMX_F64 : CMX_F32;
  const size_t n = (size_t)x->shape[ax];
  struct cmx_rows_io io = {.y = cmx_array_ptr(a), .yt = a->dtype,
                           .rows = (size_t)a->size / n, .n = n};
  size_t ld;
  if (ax == nd - 1 && is_f(x->dtype) && rows_direct(x, &ld)) {
    io.x = cmx_array_ptr(x);
    io.xt = x->dtype;
    io.ldx = ld;
    return cmx_rows_run(rop, &io, NULL, NULL, 0, &kd, nthreads, 1)
               ? driver_failed(a) : CMX_OK;
  }
  /* A row-major f32 x over an inner axis with runs of 16 or more behind
   * it: in place, passes along the axis vectorised across the runs,
   * instead of the copies with the axis moved last and back. softmax
   * over axis 0, 1 thread (torch 2.15): 4 x 65536 1116 -> 94 us (270),
   * 16 x 16384 389 -> 103 (258), 256 x 1024 281 -> 117 (319). */
  int64_t inner = 1;
  for (int d = ax + 1; d < nd; d++) inner *= x->shape[d];
  if (ax != nd - 1 && x->dtype == CMX_F32 && a->dtype == CMX_F32 &&
      inner >= 16 && cmx_is_row_major(x->shape, x->strides, nd)) {
    cmx_rows_softmax_strided(rop, (const float *)cmx_array_ptr(x),
                             (float *)cmx_array_ptr(a),
                             (size_t)a->size / (n * (size_t)inner), n,
                             (size_t)inner, &k, nthreads);
    return CMX_OK;
  }
  /* The view with the axis moved last, copied row-major. */
  int64_t sh[CMX_MAX_DIMS], sd[CMX_MAX_DIMS];
  for (int d = 0, j = 0; d < nd; d++)
    if (d != ax) sh[j] = x->shape[d], sd[j++] = x->strides[d];
  sh[nd - 1] = x->shape[ax];
  sd[nd - 1] = x->strides[ax];
  struct cmx_buffer *b = scratch_copy(x, sh, sd, cd, nthreads, who);
  if (!b) return cmx_last_status();
  io.x = b->data;
  io.xt = cd;
  io.ldx = n;
  if (ax == nd - 1) {
    st = cmx_rows_run(rop, &io, NULL, NULL, 0, &kd, nthreads, 0);
    cmx_buffer_release(b);
    return st ? driver_failed(a) : CMX_OK;
  }
  io.y = b->data;
  io.yt = cd;
  if (cmx_rows_run(rop, &io, NULL, NULL, 0, &k, nthreads, 0)) {
    cmx_buffer_release(b);
    return driver_failed(a);
  }
  /* Scatter back: the scratch seen in a's axis order. */
  int64_t rs[CMX_MAX_DIMS];
  cmx_row_major_strides(sh, nd, rs);
  struct cmx_array_s w = {0};
  w.dtype = cd;
  w.ndim = nd;
  w.size = a->size;
  w.buf = b;
  for (int d = 0; d < nd; d++) {
    w.shape[d] = a->shape[d];
    w.strides[d] = d == ax ? rs[nd - 1] : rs[d < ax ? d : d - 1];
  }
  cmx_copy_into(cmx_array_ptr(a), a->dtype, &w, nthreads);
  cmx_buffer_release(b);
  return CMX_OK;
}

/* ---- layer_norm, rms_norm --------------------------------------------- */

/* weight / bias: last dimension D, any others 1. */
static int check_param(cmx_array p, cmx_array x, const char *who,
                       const char *what) {
  int st = cmx_array_check(p, who, what);
  if (st) return st;
  int ok = p->ndim >= 1 && p->ndim <= x->ndim &&
           p->shape[p->ndim - 1] == x->shape[x->ndim - 1];
  for (int d = 0; ok && d < p->ndim - 1; d++) ok = p->shape[d] == 1;
  if (!ok) {
    char b0[200], b1[200];
    return cmx_err(CMX_ESHAPE, "%s: %s of shape %s does not match the last "
                   "axis of x %s (want (%lld,))", who, what,
                   cmx_fmt_shape(b0, p->shape, p->ndim),
                   cmx_fmt_shape(b1, x->shape, x->ndim),
                   (long long)x->shape[x->ndim - 1]);
  }
  return CMX_OK;
}

static int norm_node(cmx_array *out, cmx_array x, cmx_array w, cmx_array b,
                     float eps, enum cmx_norm_op op, cmx_stream s,
                     const char *who) {
  int st = prologue(out, x, &s, who);
  if (st) return st;
  if (x->ndim < 1)
    return cmx_err(CMX_EINVAL, "%s: x must have at least 1 dimension", who);
  if (w && (st = check_param(w, x, who, "weight"))) return st;
  if (b && (st = check_param(b, x, who, "bias"))) return st;
  cmx_array a = cmx_array_alloc(cmx_float_of(x->dtype), x->shape, x->ndim, who);
  if (!a) return cmx_last_status();
  cmx_array in[3] = {x};
  int nin = 1;
  if (w) in[nin++] = w;
  if (b) in[nin++] = b;
  a->p.sub = op;
  a->p.value = eps;
  a->p.axes[0] = w != NULL;
  a->p.axes[1] = b != NULL;
  return cmx_node_finish(out, a, CMX_OP_norm, in, nin, s, who);
}

int cmx_layer_norm(cmx_array *out, cmx_array x, cmx_array weight,
                   cmx_array bias, float eps, cmx_stream s) {
  return norm_node(out, x, weight, bias, eps, CMX_NORM_LAYER, s,
                   "cmx_layer_norm");
}

int cmx_rms_norm(cmx_array *out, cmx_array x, cmx_array weight, float eps,
                 cmx_stream s) {
  return norm_node(out, x, weight, NULL, eps, CMX_NORM_RMS, s, "cmx_rms_norm");
}

int cmx_eval_norm(cmx_array a, int nthreads) {
  const char *who = cmx_op_name[a->op];
  cmx_array x = a->in[0];
  const int has_w = a->p.axes[0], has_b = a->p.axes[1], nd = x->ndim;
  const enum cmx_norm_op op = (enum cmx_norm_op)a->p.sub;
  int st = cmx_array_alloc_data(a);
  if (st || a->size == 0) return st;
  const struct cmx_dispatch *t = cmx_dispatch();
  /* f32 outputs past the last-level cache: the streaming-store kernels. */
  const int nt = a->dtype == CMX_F32 && cmx_nt_out((size_t)a->size * 4);
  /* x and y of one 16-bit type: the level's 16-bit rows where it has
   * them (f32-norm.h), one read and one write of each row. */
  const int h16 = x->dtype == a->dtype &&
                  (a->dtype == CMX_BF16 || a->dtype == CMX_F16);
  const struct cmx_rows_kernels k = {
      .norm = t->f32_norm[!nt                     ? op
                          : op == CMX_NORM_LAYER ? CMX_NORM_LAYER_NT
                                                 : CMX_NORM_RMS_NT],
      .norm16 = !h16 ? NULL
                : t->h16_norm[(a->dtype == CMX_BF16 ? CMX_NORM16_LAYER_BF16
                                                    : CMX_NORM16_LAYER_F16) +
                              (op == CMX_NORM_RMS)],
      .cvt = t->cvt,
      .vsqrt = t->f32_vunary[CMX_VUNARY_SQRT],
      .vbin = t->f32_vbinary};
  const cmx_dtype cd = a->dtype == CMX_F64 ? CMX_F64 : CMX_F32;
  const size_t n = (size_t)x->shape[nd - 1], es = cmx_dtype_bytes(cd);
  /* x's rows read in place (else converted to f32 below) */
  size_t ld;
  const int xdirect = is_f(x->dtype) && rows_direct(x, &ld);
  struct cmx_rows_io io = {.y = cmx_array_ptr(a), .yt = a->dtype,
                           .rows = (size_t)a->size / n, .n = n};
  /* weight and bias as n contiguous values of the compute type: read in
   * place when they are; of x's 16-bit type on the 16-bit rows, widened
   * by each thread (io.w16, b16: bf16 rms_norm 256 x 256, 16 nodes an
   * eval, 2 threads over 1: 1.64-1.66x with the weight converted here,
   * which also kept the node synchronous); else converted into wb. */
  struct cmx_buffer *wb = NULL;
  const void *wp = NULL, *bp = NULL;
  for (int i = 0; i < has_w + has_b; i++) {
    cmx_array p = a->in[1 + i];
    const void *src = NULL;
    const int c1 = p->strides[p->ndim - 1] == 1 || n == 1;
    if (p->dtype == cd && c1)
      src = cmx_array_ptr(p);
    else if (h16 && k.norm16 && xdirect && p->dtype == x->dtype && c1 &&
             n <= CMX_ROWS_W16_MAX) {
      if (i == 0 && has_w) io.w16 = cmx_array_ptr(p);
      else io.b16 = cmx_array_ptr(p);
      continue;
    } else {
      if (!wb && !(wb = cmx_buffer_new(2 * n * es, who)))
        return cmx_last_status();
      struct cmx_array_s v = *p;
      v.ndim = 1;
      v.shape[0] = (int64_t)n;
      v.strides[0] = p->strides[p->ndim - 1];
      v.size = (int64_t)n;
      char *dst = (char *)wb->data + (size_t)i * n * es;
      cmx_copy_into(dst, cd, &v, 1);
      src = dst;
    }
    if (i == 0 && has_w) wp = src;
    else bp = src;
  }
  struct cmx_buffer *xb = NULL;
  if (xdirect) {
    io.x = cmx_array_ptr(x);
    io.xt = x->dtype;
    io.ldx = ld;
  } else {
    xb = scratch_copy(x, x->shape, x->strides, cd, nthreads, who);
    if (!xb) {
      if (wb) cmx_buffer_release(wb);
      return cmx_last_status();
    }
    io.x = xb->data;
    io.xt = cd;
    io.ldx = n;
  }
  st = cmx_rows_run(op == CMX_NORM_LAYER ? CMX_ROWS_LAYER_NORM
                                         : CMX_ROWS_RMS_NORM,
                    &io, wp, bp, (float)a->p.value, &k, nthreads,
                    !xb && !wb);
  if (xb) cmx_buffer_release(xb);
  if (wb) cmx_buffer_release(wb);
  return st ? driver_failed(a) : CMX_OK;
}

/* ---- rope ------------------------------------------------------------- */

static int rope_node(cmx_array *out, cmx_array x, int dims, bool traditional,
                     float base, float scale, int offset, cmx_array offsets,
                     cmx_stream s, const char *who) {
  int st = prologue(out, x, &s, who);
  if (st) return st;
  if (x->ndim < 2)
    return cmx_err(CMX_EINVAL, "%s: x must have shape (..., L, D); it has %d "
                   "dimension%s", who, x->ndim, x->ndim == 1 ? "" : "s");
  const int64_t D = x->shape[x->ndim - 1];
  if (dims <= 0 || dims % 2 || dims > D)
    return cmx_err(CMX_EINVAL, "%s: dims %d must be even and in (0, %lld]",
                   who, dims, (long long)D);
  if (offsets) {
    if ((st = cmx_array_check(offsets, who, "offsets"))) return st;
    if (cmx_dtype_is_float(offsets->dtype) || offsets->dtype == CMX_BOOL)
      return cmx_err(CMX_EDTYPE, "%s: offsets must be an integer array", who);
    int ok = offsets->ndim == 0 || (offsets->ndim == 1 &&
              (offsets->shape[0] == 1 ||
               (x->ndim >= 3 && offsets->shape[0] == x->shape[0])));
    if (!ok) {
      char b0[200], b1[200];
      return cmx_err(CMX_ESHAPE, "%s: offsets of shape %s do not match x %s "
                     "(want (), (1,) or (B,) with B = x's first dimension)",
                     who, cmx_fmt_shape(b0, offsets->shape, offsets->ndim),
                     cmx_fmt_shape(b1, x->shape, x->ndim));
    }
  }
  cmx_array a = cmx_array_alloc(cmx_float_of(x->dtype), x->shape, x->ndim, who);
  if (!a) return cmx_last_status();
  a->p.axes[0] = dims;
  a->p.keepdims = traditional;
  a->p.value = base;
  a->p.step = scale;
  a->p.delta = offset;
  a->p.sub = offsets != NULL;
  cmx_array in[2] = {x, offsets};
  return cmx_node_finish(out, a, CMX_OP_rope, in, offsets ? 2 : 1, s, who);
}

int cmx_rope(cmx_array *out, cmx_array x, int dims, bool traditional,
             float base, float scale, int offset, cmx_stream s) {
  return rope_node(out, x, dims, traditional, base, scale, offset, NULL, s,
                   "cmx_rope");
}

int cmx_rope_offsets(cmx_array *out, cmx_array x, int dims, bool traditional,
                     float base, float scale, cmx_array offsets,
                     cmx_stream s) {
  if (!offsets) {
    if (out) *out = NULL;
    return cmx_err(CMX_EINVAL, "cmx_rope_offsets: offsets is NULL");
  }
  return rope_node(out, x, dims, traditional, base, scale, 0, offsets, s,
                   "cmx_rope_offsets");
}

int cmx_eval_rope(cmx_array a, int nthreads) {
  const char *who = cmx_op_name[a->op];
  cmx_array x = a->in[0];
  const int nd = x->ndim;
  int st = cmx_array_alloc_data(a);
  if (st || a->size == 0) return st;
  const struct cmx_dispatch *t = cmx_dispatch();
  const cmx_dtype cd = a->dtype == CMX_F64 ? CMX_F64 : CMX_F32;
  int64_t one = a->p.delta, *off = &one;
  struct cmx_buffer *ob = NULL;
  size_t nb = 1;
  if (a->p.sub) {
    cmx_array o = a->in[1];
    ob = cmx_buffer_new((size_t)o->size * sizeof(int64_t), who);
    if (!ob) return cmx_last_status();
    cmx_copy_into(ob->data, CMX_I64, o, 1);
    off = ob->data;
    nb = (size_t)o->size;
  }
  struct cmx_rope_io io = {.y = cmx_array_ptr(a), .yt = a->dtype,
                           .n = (size_t)x->shape[nd - 1],
                           .L = (size_t)x->shape[nd - 2], .nb = nb, .off = off};
  io.rows = (size_t)a->size / io.n;
  struct cmx_buffer *xb = NULL;
  if (is_f(x->dtype) && cmx_is_row_major(x->shape, x->strides, nd)) {
    io.x = cmx_array_ptr(x);
    io.xt = x->dtype;
  } else {
    xb = scratch_copy(x, x->shape, x->strides, cd, nthreads, who);
    if (!xb) {
      if (ob) cmx_buffer_release(ob);
      return cmx_last_status();
    }
    io.x = xb->data;
    io.xt = cd;
  }
  const struct cmx_rope_params p = {.dims = (size_t)a->p.axes[0],
                                    .traditional = a->p.keepdims,
                                    .base = (float)a->p.value,
                                    .scale = (float)a->p.step,
                                    /* streamed when x and y together
                                     * outgrow the last-level cache */
                                    .nt = a->dtype == CMX_F32 &&
                                          cmx_nt_out((size_t)a->size * 8)};
  /* The node's last step: with no scratch to free, the team may finish it
   * after this returns, and the graph unpins the table once fenced. */
  void *pin = NULL;
  st = cmx_rope_run(&io, &p, t->f32_rope, t->cvt, nthreads,
                    xb || ob ? NULL : &pin);
  if (pin) {
    a->after = cmx_rope_unpin;
    a->after_ctx = pin;
  }
  if (xb) cmx_buffer_release(xb);
  if (ob) cmx_buffer_release(ob);
  return st ? cmx_err(CMX_ENOMEM, "%s: out of memory for the sin/cos table",
                      who)
            : CMX_OK;
}
