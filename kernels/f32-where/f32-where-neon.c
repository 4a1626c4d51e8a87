/* f32 select for NEON (4 lanes, aarch64): the loop of f32-where-body.h
 * instantiated with arch/simd-neon.h. Contract in f32-where.h. */
#include "arch/simd-neon.h"
#include "kernels/f32-where/f32-where-body.h"
#include "kernels/f32-where/f32-where.h"

void cmx_f32_where_ukr__neon(size_t n, const uint8_t *c, size_t sc,
                             const float *a, size_t sa, const float *b,
                             size_t sb, float *y) {
  cmx_wh_where(n, c, sc, a, sa, b, sb, y);
}
