/* Elementwise ops: the public unary, binary and where functions, their
 * broadcasting and dtype rules (kernels/elementwise/elementwise.def), and
 * the eval function that hands the elementwise driver its operands with
 * broadcast strides and the microkernels of the current dispatch table. */
#include <stdlib.h>
#include <string.h>

#include "../arch/dispatch.h"
#include "../kernels/elementwise/elementwise.h"
#include "internal.h"

/* NumPy broadcasting of n shapes into out; CMX_ESHAPE names them. */
static int broadcast(const cmx_array *in, int n, int64_t *shape, int *ndim,
                     const char *who) {
  /* Operands of one shape, the common case, give it. */
  int same = 1;
  for (int i = 1; i < n && same; i++)
    same = in[i]->ndim == in[0]->ndim &&
           !memcmp(in[i]->shape, in[0]->shape,
                   (size_t)in[0]->ndim * sizeof(int64_t));
  if (same) {
    memcpy(shape, in[0]->shape, (size_t)in[0]->ndim * sizeof(int64_t));
    *ndim = in[0]->ndim;
    return CMX_OK;
  }
  int nd = 0;
  for (int i = 0; i < n; i++) nd = in[i]->ndim > nd ? in[i]->ndim : nd;
  for (int d = 0; d < nd; d++) {
    int64_t dim = 1;
    for (int i = 0; i < n; i++) {
      int k = d - (nd - in[i]->ndim);
      if (k < 0) continue;
      int64_t v = in[i]->shape[k];
      if (v == dim || v == 1) continue;
      if (dim != 1) {
        char b0[200], b1[200];
        int j = i == 0 ? 1 : 0;
        return cmx_err(CMX_ESHAPE, "%s: shapes %s and %s cannot broadcast",
                       who, cmx_fmt_shape(b0, in[j]->shape, in[j]->ndim),
                       cmx_fmt_shape(b1, in[i]->shape, in[i]->ndim));
      }
      dim = v;
    }
    shape[d] = dim;
  }
  *ndim = nd;
  return CMX_OK;
}

static int ew_node(cmx_array *out, enum cmx_ew_op op, const cmx_array *in,
                   cmx_stream s, const char *who) {
  const struct cmx_ew_info *info = &cmx_ew_info[op];
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  static const char *const names[3] = {"a", "b", "c"};
  for (int i = 0; i < info->arity; i++) {
    int st = cmx_array_check(in[i], who, info->arity == 1 ? "a" : names[i]);
    if (st) return st;
  }
  int st = cmx_stream_resolve(&s, who);
  if (st) return st;
  int64_t shape[CMX_MAX_DIMS];
  int ndim = 0;
  st = broadcast(in, info->arity, shape, &ndim, who);
  if (st) return st;
  cmx_dtype p = in[0]->dtype, compute, odt;
  if (op == CMX_EW_where) p = cmx_promote(in[1]->dtype, in[2]->dtype);
  else if (info->arity == 2) p = cmx_promote(in[0]->dtype, in[1]->dtype);
  switch (info->rule) {
    case CMX_EW_SAME: case CMX_EW_PROMOTE: compute = odt = p; break;
    case CMX_EW_FLOAT: case CMX_EW_DIVIDE: compute = odt = cmx_float_of(p);
      break;
    case CMX_EW_CMP: compute = p; odt = CMX_BOOL; break;
    default: compute = odt = CMX_BOOL; break;
  }
  if (p == CMX_BOOL && (op == CMX_EW_neg || op == CMX_EW_subtract ||
                        op == CMX_EW_power || op == CMX_EW_remainder ||
                        op == CMX_EW_floor_divide))
    return cmx_err(CMX_EDTYPE, "%s: not defined for bool", who);
  cmx_array a = cmx_array_alloc(odt, shape, ndim, who);
  if (!a) return cmx_last_status();
  a->p.sub = op;
  a->p.compute = compute;
  return cmx_node_finish(out, a, CMX_OP_elementwise, in, info->arity, s, who);
}

/* CMX_NT_STORES: 0 no streaming stores (A/B timing), 1 (default) for
 * outputs larger than the share of the last-level cache this process can
 * count on (cmx_topo()->l3_share), written once (no
 * read-for-ownership, no eviction of the inputs), 2 ("all") for every
 * size (tests of the streaming paths on small arrays). Read once; racing
 * first readers store the same value. Also used by ops-nn.c. */
int cmx_nt_mode(void) {
  static atomic_int mode = -1;
  int m = atomic_load_explicit(&mode, memory_order_relaxed);
  if (m < 0) {
    const char *e = getenv("CMX_NT_STORES");
    m = e && strcmp(e, "all") == 0 ? 2 : !(e && strcmp(e, "0") == 0);
    atomic_store_explicit(&mode, m, memory_order_relaxed);
  }
  return m;
}

/* Whether an output of this size is streamed (also used by ops-nn.c). */
int cmx_nt_out(size_t bytes) {
  int m = cmx_nt_mode();
  return m == 2 || (m && bytes > cmx_topo()->l3_share);
}

/* A transposing copy writes each destination line in one go but visits
 * the lines at the destination's large row stride, which for power-of-two
 * shapes maps them all to the same cache sets, so regular stores thrash:
 * it streams its stores once the output outgrows L2, not L3. On the
 * 16-core Xeon (2 MiB L2, 300 MiB L3), 1 thread: (2048,512,64) ->
 * (64,512,2048) f32 3.2-3.5 -> 12.2-14.0 GB/s (STREAM copy 14.3),
 * contiguous(x.T) 4096^2 4.3-4.4 -> 17.5-19.8 GB/s; 2 threads 6.3 -> 25-27
 * and 7.9-8.3 -> 34-36 GB/s. */
static int cmx_nt_transpose_out(size_t bytes) {
  int m = cmx_nt_mode();
  return m == 2 || (m && bytes > cmx_topo()->l2);
}

/* f32 outputs, and f16 / bf16 ones (streamed in 32-bit pairs). */
static int stream_out(cmx_dtype d, int64_t size) {
  if (d != CMX_F32 && d != CMX_F16 && d != CMX_BF16) return 0;
  return cmx_nt_out((size_t)size * cmx_dtype_bytes(d));
}

/* Strides of x broadcast to a's shape (0 on broadcast axes). */
static void broadcast_strides(cmx_array x, cmx_array a, int64_t *st) {
  int off = a->ndim - x->ndim;
  for (int d = 0; d < a->ndim; d++) {
    int k = d - off;
    st[d] = k < 0 || x->shape[k] == 1 ? 0 : x->strides[k];
  }
}

/* A small f32 op whose operands are contiguous in the output's order (or,
 * for a binary op, a broadcast scalar beside one): the microkernel on the
 * buffers at once. This is the one call the driver makes for such an op
 * (one chunk: same pointers, strides and count, so the same bits), without
 * the operands' broadcast strides, the driver's job and its collapse (a
 * 16-element add spent 380 of its 1.7K instructions there, callgrind).
 * Up to the driver's tile (1024 elements, one chunk); not when every
 * output is streamed (CMX_NT_STORES=all, which tests those paths).
 * 0: the driver must run. */
#define DIRECT_MAX 1024
static int eval_direct_f32(cmx_array a, enum cmx_ew_op op,
                           const struct cmx_dispatch *t) {
  int slot = cmx_ew_info[op].slot;
  if (a->dtype != CMX_F32 || a->p.compute != CMX_F32 || slot < 0 ||
      a->size == 0 || a->size > DIRECT_MAX || a->nin > 2 ||
      cmx_nt_mode() == 2)
    return 0;
  const float *x[2];
  size_t xs[2];
  for (int i = 0; i < a->nin; i++) {
    cmx_array in = a->in[i];
    if (in->dtype != CMX_F32) return 0;
    /* A broadcast input of the output's size has its shape up to 1s. */
    if (in->size == a->size && cmx_is_row_major(in->shape, in->strides,
                                                in->ndim))
      xs[i] = 1;
    else if (in->size == 1 && a->nin == 2)
      xs[i] = 0;
    else
      return 0;
    x[i] = (const float *)cmx_array_ptr(in);
  }
  float *y = (float *)cmx_array_ptr(a);
  size_t n = (size_t)a->size;
  if (a->nin == 1 && t->f32_vunary[slot])
    t->f32_vunary[slot](n, x[0], y);
  else if (a->nin == 2 && t->f32_vbinary[slot])
    t->f32_vbinary[slot](n, x[0], xs[0], x[1], xs[1], y);
  else
    return 0;
  return 1;
}

/* An input of the output's size that the output's walk would read one
 * cache line per element (a transposed or permuted view: x + y.T) is
 * first copied in the output's order by the blocked transposer
 * (cmx_copy_into), then read in order; without the memory for the copy
 * it is read in place. Below TRANSPOSED_MIN elements the strided walk
 * stays in cache. x + y.T, 2048 x 2048 f32, 1 thread: 33.5 ms (a DTLB
 * miss per element, rows 8 KiB apart) -> 4.3. A 32-bit input transposed
 * in the last two axes is not copied: the driver reads it through
 * transposed tiles (cmx_ew_tiled_inputs). Returns the copy (the caller
 * releases it) or NULL; on a copy, in's data and strides. */
#define TRANSPOSED_MIN (1 << 16)
static struct cmx_buffer *in_order(cmx_array x, cmx_array a,
                                   struct cmx_ew_operand *in, int nthreads) {
  if (a->size < TRANSPOSED_MIN || x->size != a->size) return NULL;
  const int64_t s = in->strides[a->ndim - 1];
  const size_t esz = cmx_dtype_bytes(x->dtype);
  if (s == 0 || (uint64_t)(s < 0 ? -s : s) * esz < 64) return NULL;
  struct cmx_buffer *b = cmx_buffer_new((size_t)x->size * esz, "in_order");
  if (!b) return NULL;
  cmx_copy_into(b->data, x->dtype, x, nthreads);
  in->data = b->data;
  int64_t st = 1;
  for (int d = a->ndim - 1; d >= 0; d--) {
    in->strides[d] = a->shape[d] == 1 ? 0 : st;
    st *= a->shape[d];
  }
  return b;
}

int cmx_eval_elementwise(cmx_array a, int nthreads) {
  enum cmx_ew_op op = (enum cmx_ew_op)a->p.sub;
  int st = cmx_array_alloc_data(a);
  if (st) return st;
  const struct cmx_dispatch *t = cmx_dispatch();
  if (eval_direct_f32(a, op, t)) return CMX_OK;
  struct cmx_ew_operand in[3];
  struct cmx_buffer *copy[3] = {NULL, NULL, NULL};
  int copies = 0;
  for (int i = 0; i < a->nin; i++) {
    in[i].data = cmx_array_ptr(a->in[i]);
    in[i].dtype = a->in[i]->dtype;
    broadcast_strides(a->in[i], a, in[i].strides);
  }
  int slot = cmx_ew_info[op].slot;
  struct cmx_ew_kernels k = {
      .vunary =
          cmx_ew_info[op].arity == 1 && slot >= 0 ? t->f32_vunary[slot] : NULL,
      .vbinary =
          cmx_ew_info[op].arity == 2 && slot >= 0 ? t->f32_vbinary[slot] : NULL,
      .vunary64 = cmx_ew_info[op].arity == 1 && slot >= 0 ? t->f64_vunary[slot]
                  : op == CMX_EW_silu_mul ? t->f64_vunary[CMX_VUNARY_SILU]
                                          : NULL,
      .where = t->f32_where,
      .cvt = t->cvt,
      .stream = stream_out(a->dtype, a->size) ? t->x32_stream : NULL,
      .tr = &t->x32_transpose};
  /* an input the driver reads through transposed tiles is not copied;
   * the others (in_order) before any copy changes their strides */
  const unsigned tiled = cmx_ew_tiled_inputs(in, a->nin, a->shape, a->ndim, &k);
  for (int i = 0; i < a->nin; i++) {
    if (!(tiled >> i & 1)) copy[i] = in_order(a->in[i], a, &in[i], nthreads);
    copies += copy[i] != NULL;
  }
  /* with copies, synchronously: they are released here */
  cmx_ew_run(op, in, cmx_array_ptr(a), a->dtype, (cmx_dtype)a->p.compute,
             a->shape, a->ndim, &k, nthreads, !copies);
  for (int i = 0; i < a->nin; i++)
    if (copy[i]) cmx_buffer_release(copy[i]);
  return CMX_OK;
}

/* Shared by contiguous, astype, reshape-by-copy and cmx_array_data (see
 * internal.h). The walk follows x's own shape. */
void cmx_copy_into_last(void *dst, cmx_dtype dtype, cmx_array x,
                        int nthreads, int last) {
  const struct cmx_dispatch *t = cmx_dispatch();
  /* Same-dtype transposed / permuted views: blocked tile transpose. */
  if (dtype == x->dtype &&
      cmx_transpose_copy(dst, cmx_array_ptr(x), x->shape, x->strides, x->ndim,
                         cmx_dtype_bytes(dtype), &t->x32_transpose,
                         cmx_nt_transpose_out((size_t)x->size *
                                              cmx_dtype_bytes(dtype))
                             ? t->x32_stream
                             : NULL,
                         nthreads))
    return;
  struct cmx_ew_kernels k = {
      .cvt = t->cvt, .where = t->f32_where,
      .stream = stream_out(dtype, x->size) ? t->x32_stream : NULL};
  struct cmx_ew_operand in = {.data = cmx_array_ptr(x), .dtype = x->dtype};
  memcpy(in.strides, x->strides, sizeof in.strides);
  cmx_dtype compute;
  int fs = x->dtype == CMX_F32 || x->dtype == CMX_F16 || x->dtype == CMX_BF16;
  int fd = dtype == CMX_F32 || dtype == CMX_F16 || dtype == CMX_BF16;
  /* f32 / f16 / bf16 to the integers of up to 32 bits or bool: the f32
   * tile loop and the level's cvt kernels (the value is exact in f32, so
   * the result is the one through double) */
  if (fs && (fd || (dtype != CMX_I64 && dtype != CMX_F64))) compute = CMX_F32;
  /* integers exact in f32 to f32 / f16 / bf16, and int32 / uint32 to f32
   * (one rounding either way): the f32 tile loop too */
  else if (fd && (x->dtype == CMX_BOOL || x->dtype == CMX_U8 ||
                  x->dtype == CMX_I8 || x->dtype == CMX_I16 ||
                  ((x->dtype == CMX_I32 || x->dtype == CMX_U32) &&
                   dtype == CMX_F32)))
    compute = CMX_F32;
  else if (!cmx_dtype_is_float(x->dtype) && dtype != CMX_F64)
    compute = CMX_I64; /* integers to f32/f16/bf16 round once */
  else if (cmx_dtype_is_float(x->dtype) || cmx_dtype_is_float(dtype))
    compute = CMX_F64;
  else compute = CMX_I64;
  cmx_ew_run(CMX_EW_identity, &in, dst, dtype, compute, x->shape, x->ndim, &k,
             nthreads, last);
}

void cmx_copy_into(void *dst, cmx_dtype dtype, cmx_array x, int nthreads) {
  cmx_copy_into_last(dst, dtype, x, nthreads, 0);
}

#define UNARY(fn, op)                                        \
  int fn(cmx_array *out, cmx_array a, cmx_stream s) {        \
    return ew_node(out, op, &a, s, #fn);                     \
  }
#define BINARY(fn, op)                                                 \
  int fn(cmx_array *out, cmx_array a, cmx_array b, cmx_stream s) {     \
    cmx_array in[2] = {a, b};                                          \
    return ew_node(out, op, in, s, #fn);                               \
  }
/* The macros take the full public name, so grep finds every one. */
UNARY(cmx_abs, CMX_EW_abs)
UNARY(cmx_neg, CMX_EW_neg)
UNARY(cmx_sign, CMX_EW_sign)
UNARY(cmx_exp, CMX_EW_exp)
UNARY(cmx_expm1, CMX_EW_expm1)
UNARY(cmx_log, CMX_EW_log)
UNARY(cmx_log1p, CMX_EW_log1p)
UNARY(cmx_sqrt, CMX_EW_sqrt)
UNARY(cmx_rsqrt, CMX_EW_rsqrt)
UNARY(cmx_square, CMX_EW_square)
UNARY(cmx_reciprocal, CMX_EW_reciprocal)
UNARY(cmx_sin, CMX_EW_sin)
UNARY(cmx_cos, CMX_EW_cos)
UNARY(cmx_tanh, CMX_EW_tanh)
UNARY(cmx_sigmoid, CMX_EW_sigmoid)
UNARY(cmx_erf, CMX_EW_erf)
UNARY(cmx_gelu, CMX_EW_gelu)
UNARY(cmx_gelu_tanh, CMX_EW_gelu_tanh)
UNARY(cmx_silu, CMX_EW_silu)
UNARY(cmx_relu, CMX_EW_relu)
UNARY(cmx_floor, CMX_EW_floor)
UNARY(cmx_ceil, CMX_EW_ceil)
UNARY(cmx_round, CMX_EW_round)
UNARY(cmx_softplus, CMX_EW_softplus)
UNARY(cmx_logical_not, CMX_EW_logical_not)
BINARY(cmx_add, CMX_EW_add)
BINARY(cmx_subtract, CMX_EW_subtract)
BINARY(cmx_multiply, CMX_EW_multiply)
BINARY(cmx_divide, CMX_EW_divide)
BINARY(cmx_maximum, CMX_EW_maximum)
BINARY(cmx_minimum, CMX_EW_minimum)
BINARY(cmx_power, CMX_EW_power)
BINARY(cmx_remainder, CMX_EW_remainder)
BINARY(cmx_floor_divide, CMX_EW_floor_divide)
BINARY(cmx_equal, CMX_EW_equal)
BINARY(cmx_not_equal, CMX_EW_not_equal)
BINARY(cmx_less, CMX_EW_less)
BINARY(cmx_less_equal, CMX_EW_less_equal)
BINARY(cmx_greater, CMX_EW_greater)
BINARY(cmx_greater_equal, CMX_EW_greater_equal)
BINARY(cmx_silu_mul, CMX_EW_silu_mul)
BINARY(cmx_logical_and, CMX_EW_logical_and)
BINARY(cmx_logical_or, CMX_EW_logical_or)

int cmx_where(cmx_array *out, cmx_array cond, cmx_array a, cmx_array b,
              cmx_stream s) {
  cmx_array in[3] = {cond, a, b};
  return ew_node(out, CMX_EW_where, in, s, "cmx_where");
}

/* A chain fused by compile: operands broadcast as for one op, the same
 * microkernels, one pass (elementwise.h). */
int cmx_eval_fused(cmx_array a, int nthreads) {
  int st = cmx_array_alloc_data(a);
  if (st) return st;
  struct cmx_ew_operand in[CMX_EW_PROG_IN];
  for (int i = 0; i < a->nin; i++) {
    in[i].data = cmx_array_ptr(a->in[i]);
    in[i].dtype = a->in[i]->dtype;
    broadcast_strides(a->in[i], a, in[i].strides);
  }
  const struct cmx_dispatch *t = cmx_dispatch();
  cmx_ew_fused_run(&a->p.prog, in, cmx_array_ptr(a), a->shape,
                   a->ndim, t->f32_vunary, t->f32_vbinary, t->cvt,
                   a->dtype == CMX_F32 && stream_out(a->dtype, a->size)
                       ? t->x32_stream
                       : NULL,
                   nthreads, 1);
  return CMX_OK;
}
