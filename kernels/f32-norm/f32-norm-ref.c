/* Portable reference layer_norm / rms_norm (the generic level and what the
 * SIMD rows are tested against): two-pass statistics in double (mean, then
 * the sum of squared deviations), then the scale-shift pass in float.
 * Contract in f32-norm.h. */
#include <math.h>

#include "kernels/f32-norm/f32-norm.h"

static void layer_row(size_t n, const float *x, float *y, const float *w,
                      const float *b, float eps) {
  double s = 0.0, q = 0.0;
  for (size_t i = 0; i < n; i++)
    s += x[i];
  const double mean = s / (double)n;
  for (size_t i = 0; i < n; i++)
    q += (x[i] - mean) * (x[i] - mean);
  /* x - x[0] is exact for values near a large common offset; mean - x[0]
   * is small, so its rounding to float is too (as in the SIMD rows). */
  const float c = x[0], m1 = (float)(mean - c);
  const float rstd = (float)(1.0 / sqrt(q / (double)n + (double)eps));
  for (size_t i = 0; i < n; i++) {
    float t = ((x[i] - c) - m1) * rstd;
    if (w)
      t *= w[i];
    if (b)
      t += b[i];
    y[i] = t;
  }
}

static void rms_row(size_t n, const float *x, float *y, const float *w,
                    float eps) {
  double q = 0.0;
  for (size_t i = 0; i < n; i++)
    q += (double)x[i] * x[i];
  const float rstd = (float)(1.0 / sqrt(q / (double)n + (double)eps));
  for (size_t i = 0; i < n; i++)
    y[i] = w ? x[i] * rstd * w[i] : x[i] * rstd;
}

void cmx_f32_layer_norm_ukr__ref(size_t m, size_t n, const float *x, size_t ldx,
                                 float *y, size_t ldy, const float *w,
                                 const float *b, float eps) {
  for (size_t r = 0; r < m; r++)
    layer_row(n, x + r * ldx, y + r * ldy, w, b, eps);
}

void cmx_f32_rms_norm_ukr__ref(size_t m, size_t n, const float *x, size_t ldx,
                               float *y, size_t ldy, const float *w,
                               const float *b, float eps) {
  (void)b; /* rms_norm has no shift */
  for (size_t r = 0; r < m; r++)
    rms_row(n, x + r * ldx, y + r * ldy, w, eps);
}
