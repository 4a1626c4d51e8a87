/* Portable reference rope (the generic level and what the SIMD rows are
 * tested against): the contract's formulas one element at a time, with
 * the same fma grouping as the SIMD rows. Contract in f32-rope.h. */
#include <math.h>

#include "kernels/f32-rope/f32-rope.h"

void cmx_f32_rope_ukr__ref(size_t n, size_t dims, const float *x,
                           const float *c, const float *s, float *y) {
  const size_t h = dims / 2;
  for (size_t i = 0; i < h; i++) {
    float a = x[i], b = x[i + h];
    y[i] = fmaf(-b, s[i], a * c[i]);
    y[i + h] = fmaf(a, s[i], b * c[i]);
  }
  for (size_t i = dims; i < n; i++) y[i] = x[i];
}

void cmx_f32_rope_trad_ukr__ref(size_t n, size_t dims, const float *x,
                                const float *c, const float *s, float *y) {
  for (size_t i = 0; i < dims; i += 2) {
    float a = x[i], b = x[i + 1];
    y[i] = fmaf(b, s[i], a * c[i]);
    y[i + 1] = fmaf(a, s[i + 1], b * c[i + 1]);
  }
  for (size_t i = dims; i < n; i++) y[i] = x[i];
}
