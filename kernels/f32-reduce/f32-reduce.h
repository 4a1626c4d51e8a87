/* f32 reduction microkernels.
 * inner:  r = op(x[0], ..., x[n-1]) over n >= 1 contiguous floats. The
 *         summation order is fixed by n alone (vector lanes, then a fixed
 *         tree), so results never depend on the thread count.
 * outer:  acc[j] = op(acc[j], x[i * ldx + j]) for i < rows, j < n: the
 *         leading-axis reduction; ldx in elements, acc contiguous.
 * sumsqdev: sum of (x[i] - c)^2, and in the same pass sum x[i] into *sum
 *         unless sum is NULL.
 * sumexp: sum of exp(x[i] - c) for any c <= max x[i] (an estimate of the
 *         max from a prefix will do): a term with x[i] - c > 88.7 makes
 *         the sum inf (or NaN), telling the caller to retry with the true
 *         max; terms below exp(-87) count as exp(-87) (vm_exp_sumterm)
 *         or as 0 (the AVX-512 kernel, which flushes denormals).
 * argmax/argmin: index of the first maximum/minimum of n >= 1 floats; a
 *         NaN counts as both, so the first NaN wins.
 * max/min propagate NaN. Tails handled inside the kernels. */
#ifndef CMX_F32_REDUCE_H
#define CMX_F32_REDUCE_H
#include <stddef.h>

enum cmx_rop { CMX_ROP_SUM, CMX_ROP_PROD, CMX_ROP_MAX, CMX_ROP_MIN,
               CMX_ROP_COUNT };

typedef float (*cmx_f32_rinner_ukr_fn)(size_t n, const float *x);
typedef void (*cmx_f32_router_ukr_fn)(size_t rows, size_t n, const float *x,
                                      size_t ldx, float *acc);
typedef float (*cmx_f32_rsumsqdev_ukr_fn)(size_t n, const float *x, float c,
                                         float *sum);
typedef float (*cmx_f32_rsumexp_ukr_fn)(size_t n, const float *x, float c);
typedef size_t (*cmx_f32_rarg_ukr_fn)(size_t n, const float *x);

/* Rows of f32-reduce.inc:
 *   CMX_RINNER(isa, rop, name)   CMX_ROUTER(isa, rop, name)
 *   CMX_RSUMSQDEV(isa, name)     CMX_RSUMEXP(isa, name)
 *   CMX_RARGMAX(isa, name)       CMX_RARGMIN(isa, name) */
#define CMX_RINNER(isa, rop, name) float name(size_t n, const float *x);
#define CMX_ROUTER(isa, rop, name) \
  void name(size_t rows, size_t n, const float *x, size_t ldx, float *acc);
#define CMX_RSUMSQDEV(isa, name) \
  float name(size_t n, const float *x, float c, float *sum);
#define CMX_RSUMEXP(isa, name) float name(size_t n, const float *x, float c);
#define CMX_RARGMAX(isa, name) size_t name(size_t n, const float *x);
#define CMX_RARGMIN(isa, name) size_t name(size_t n, const float *x);
#include "f32-reduce.inc"
#undef CMX_RINNER
#undef CMX_ROUTER
#undef CMX_RSUMSQDEV
#undef CMX_RSUMEXP
#undef CMX_RARGMAX
#undef CMX_RARGMIN

/* The 16-bit inner and outer kernels: the inner and outer contracts over
 * bf16 or f16 data (x and ldx in 16-bit elements), each element widened
 * in registers; the result (acc) is what the same level's f32 kernel
 * gives on the widened data, bit for bit. Listed in h16-reduce.inc by
 * (isa, type, rop) with type 0 bf16, 1 f16; a level without them leaves
 * the slots NULL and the driver widens blocks or rows into a buffer for
 * the f32 kernels. */
typedef float (*cmx_h16_rinner_ukr_fn)(size_t n, const void *x);
typedef void (*cmx_h16_router_ukr_fn)(size_t rows, size_t n, const void *x,
                                      size_t ldx, float *acc);
#define CMX_RINNER16(isa, type, rop, name) float name(size_t n, const void *x);
#define CMX_ROUTER16(isa, type, rop, name) \
  void name(size_t rows, size_t n, const void *x, size_t ldx, float *acc);
#include "h16-reduce.inc"
#undef CMX_RINNER16
#undef CMX_ROUTER16

#endif
