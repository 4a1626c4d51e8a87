/* f32 normalisation microkernels over m >= 0 rows of n >= 1 contiguous
 * floats, row r at x + r * ldx and y + r * ldy (elements). Per row:
 *   layer_norm: y[i] = (x[i] - mean) * rstd * w[i] + b[i],
 *               rstd = 1 / sqrt(var + eps), var the population variance
 *   rms_norm:   y[i] = x[i] * rstd * w[i], rstd = 1 / sqrt(mean(x^2) + eps)
 *               (b is ignored)
 * w and b are n contiguous floats, or NULL for 1 and 0, shared by every row.
 * n in elements; y may equal x exactly (ldy == ldx), no other overlap; no
 * alignment needed. Rows go two at a time, so w and b are read once per
 * pair; results do not depend on how rows are grouped into calls. The
 * statistics take one vectorised read pass accumulating in f32 lanes that
 * are folded into double every CMX_NORM_CHUNK elements; layer_norm sums
 * x - x[0] and its square (shifted sums: a large common offset cancels
 * exactly, x - x[0] being exact for nearby values), never raw x^2. The
 * second pass normalises, scales and shifts in one go. Tails inside. */
#ifndef CMX_F32_NORM_H
#define CMX_F32_NORM_H
#include <stddef.h>

/* The _NT ops compute the same; their SIMD kernels write the rows with
 * streaming (non-temporal) stores when y and ldy keep every row on a vector
 * boundary, and end with a store fence: for outputs far larger than the
 * last-level cache, where a plain store also reads the line first (Zen 5,
 * 1 thread, 4096 x 4096: layer_norm 25 -> 50 GB/s, rms_norm 29 -> 56).
 * The portable and NEON levels list their plain kernels for them. */
enum cmx_norm_op {
  CMX_NORM_LAYER,
  CMX_NORM_RMS,
  CMX_NORM_LAYER_NT,
  CMX_NORM_RMS_NT,
  CMX_NORM_COUNT
};

/* Elements summed in f32 lanes before a fold into double. */
#define CMX_NORM_CHUNK 4096

typedef void (*cmx_f32_norm_ukr_fn)(size_t m, size_t n, const float *x,
                                    size_t ldx, float *y, size_t ldy,
                                    const float *w, const float *b,
                                    float eps);

#define CMX_UKR(isa, op, name)                                       \
  void name(size_t m, size_t n, const float *x, size_t ldx, float *y, \
            size_t ldy, const float *w, const float *b, float eps);
#include "f32-norm.inc"
#undef CMX_UKR

/* 16-bit rows: x and y both bf16 or both f16 (element strides), w and b
 * f32 as above. The f32 kernels' arithmetic on the widened values, each
 * result rounded once to nearest even: the same values as widening a row,
 * running the f32 kernel and narrowing it, in one read and one write of
 * the 16-bit row. Listed in h16-norm.inc for the vector levels; a level
 * without rows leaves its slots NULL (the driver converts rows instead).
 * bf16 rows only at the avx512bf16 level, where a row pair's results are
 * rounded by one vcvtne2ps2bf16: rounding each vector in integer ops (nine
 * a vector) made them slower than the converting path (4096 x 4096, 1
 * thread: rms_norm 3.06-3.10 against 2.69-2.87 ms; in L1, 0.80 us a row
 * pair, 0.33 with the rounding left out). Zen 5 VM, 4096 x 4096, 1
 * thread, converting path -> these rows: f16 rms_norm 2.9 -> 1.9-2.0 ms,
 * layer_norm 3.7-4.0 -> 2.6; bf16 rms_norm 2.69-2.87 -> 1.89-2.07,
 * layer_norm 3.68-4.23 -> 2.27-2.33. */
enum cmx_norm16_op {
  CMX_NORM16_LAYER_BF16,
  CMX_NORM16_RMS_BF16,
  CMX_NORM16_LAYER_F16,
  CMX_NORM16_RMS_F16,
  CMX_NORM16_COUNT
};

typedef void (*cmx_h16_norm_ukr_fn)(size_t m, size_t n, const void *x,
                                    size_t ldx, void *y, size_t ldy,
                                    const float *w, const float *b,
                                    float eps);

#define CMX_UKR(isa, op, name)                                      \
  void name(size_t m, size_t n, const void *x, size_t ldx, void *y, \
            size_t ldy, const float *w, const float *b, float eps);
#include "h16-norm.inc"
#undef CMX_UKR

#endif
