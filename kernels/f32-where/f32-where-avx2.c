/* f32 select for AVX2 (8 lanes): the loop of f32-where-body.h
 * instantiated with arch/simd-avx2.h. Contract in f32-where.h. */
#include "arch/simd-avx2.h"
#include "kernels/f32-where/f32-where-body.h"
#include "kernels/f32-where/f32-where.h"

void cmx_f32_where_ukr__avx2(size_t n, const uint8_t *c, size_t sc,
                             const float *a, size_t sa, const float *b,
                             size_t sb, float *y) {
  cmx_wh_where(n, c, sc, a, sa, b, sb, y);
}
