/* f32 softmax microkernels, one row per call.
 * Contract: over n >= 1 contiguous floats x, with M = max x[i] and
 * S = sum exp(x[i] - M):
 *   softmax:     y[i] = exp(x[i] - M) / S
 *   log_softmax: y[i] = (x[i] - M) - log S
 * n in elements; y may equal x exactly (in place), no other overlap; no
 * alignment needed. The SIMD rows take, for n <= CMX_SOFTMAX_CACHED_N, a
 * max pass, an exp pass storing exp(x - M) (log_softmax: x - M) into y
 * while summing it, and a pass scaling (shifting) y in cache; longer rows
 * read x once for online statistics (per-lane running max, sums rescaled
 * when it grows, merged across lanes at the end) and once more to write y.
 * Their exp(x - M) is within 2 ulp, and exactly 0 for x - M below about
 * -87.7 (exp < 8.4e-39) instead of a denormal. A row holding NaN or +inf
 * gives NaN everywhere; -inf entries give 0 (log_softmax: -inf); an all
 * -inf row gives NaN. Tails are handled inside the kernels with masked
 * loads and stores. */
#ifndef CMX_F32_SOFTMAX_H
#define CMX_F32_SOFTMAX_H
#include <stddef.h>

/* The _NT rows compute the same, for outputs far larger than the caches,
 * writing the vector-aligned body of y with non-temporal stores (no
 * read-for-ownership of y): rows of up to 4096 floats through a buffer on
 * the stack, longer ones with online statistics and exp computed again in
 * the write pass. They do not fence: the caller orders the stores once
 * after its rows (a full fence, or SFENCE). */
enum cmx_softmax_op { CMX_SOFTMAX_EXP, CMX_SOFTMAX_LOG, CMX_SOFTMAX_EXP_NT,
                      CMX_SOFTMAX_LOG_NT, CMX_SOFTMAX_COUNT };

/* next: the row the caller runs after this one (n floats), or NULL. A hint
 * only, never written or read for results: the cached rows fetch it into
 * cache during their exp pass, so that the next row's max pass does not
 * wait on memory (Zen 5, 1 thread, softmax of 4096 x 4096 from DRAM:
 * 30.4 -> 38.2 GB/s). */
typedef void (*cmx_f32_softmax_ukr_fn)(size_t n, const float *x, float *y,
                                       const float *next);

#define CMX_UKR(isa, op, name) \
  void name(size_t n, const float *x, float *y, const float *next);
#include "f32-softmax.inc"
#undef CMX_UKR

/* The 16-bit rows: x and y both bf16 or both f16, n elements each, next
 * as above (n elements of x's type). They hold what widening x to f32,
 * running the level's f32 _NT row and rounding each result to nearest
 * even gives, bit for bit, without an f32 copy of the row: loads widen in
 * registers, stores round in registers (bf16 two vectors at a time by
 * vcvtne2ps2bf16, which is why bf16 has rows only at the AVX512_BF16
 * level). Listed in h16-softmax.inc; a level without a row for a type
 * leaves its slot NULL and the driver converts through an f32 tile. */
enum cmx_softmax16_op {
  CMX_SOFTMAX16_EXP_BF16,
  CMX_SOFTMAX16_LOG_BF16,
  CMX_SOFTMAX16_EXP_F16,
  CMX_SOFTMAX16_LOG_F16,
  CMX_SOFTMAX16_COUNT
};

typedef void (*cmx_h16_softmax_ukr_fn)(size_t n, const void *x, void *y,
                                       const void *next);

#define CMX_UKR(isa, op, name) \
  void name(size_t n, const void *x, void *y, const void *next);
#include "h16-softmax.inc"
#undef CMX_UKR

/* The online-softmax fold (flash attention's step over a block of n >= 1
 * scores s, against the running max *m and sum *l of the earlier blocks):
 *   M = max(*m, max s), NaN if any s is NaN (a NaN in s or in *m makes M
 *   NaN); s[i] = exp(s[i] - M) in place (vm_exp, the exp unary op's
 *   polynomial); *l = *l * alpha + sum s, *m = M; returns alpha =
 *   exp(*m_old - M) (0 when *m_old is -inf), by which the caller scales
 *   its accumulator. When M is -inf (every score so far -inf) s is zeroed,
 *   *m and *l are left alone and it returns -1. One call instead of a max,
 *   a subtract, an exp and a sum (attention decode folds four keys a step:
 *   Zen 5 VM, 1 thread, 1x32x1x128 against 4096 keys, 40.5 -> 45 GB/s;
 *   from L3, 45 -> 56). */
typedef float (*cmx_f32_softmax_fold_ukr_fn)(size_t n, float *s, float *m,
                                             float *l);

#define CMX_UKR(isa, name) float name(size_t n, float *s, float *m, float *l);
#include "f32-softmax-fold.inc"
#undef CMX_UKR

#endif
