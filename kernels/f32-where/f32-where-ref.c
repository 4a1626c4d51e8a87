/* Portable reference f32 select (the generic level and what the SIMD rows
 * are tested against). Contract in f32-where.h. */
#include "kernels/f32-where/f32-where.h"

void cmx_f32_where_ukr__ref(size_t n, const uint8_t *c, size_t sc,
                            const float *a, size_t sa, const float *b,
                            size_t sb, float *y) {
  for (size_t i = 0; i < n; i++) y[i] = c[i * sc] ? a[i * sa] : b[i * sb];
}
