/* f32 rope for AVX2 + FMA (8 lanes): the shared loops of f32-rope-body.h
 * over arch/simd-avx2.h. Contract in f32-rope.h. */
#include "arch/simd-avx2.h"

CMX_SIMD_INLINE vf cmx_rope_swap_pairs(vf v) {
  return _mm256_permute_ps(v, 0xb1);
}

#include "kernels/f32-rope/f32-rope-body.h"

void cmx_f32_rope_ukr__avx2(size_t n, size_t dims, const float *x,
                            const float *c, const float *s, float *y) {
  cmx_rope_split(n, dims, x, c, s, y, 0);
}
void cmx_f32_rope_trad_ukr__avx2(size_t n, size_t dims, const float *x,
                                 const float *c, const float *s, float *y) {
  cmx_rope_trad(n, dims, x, c, s, y, 0);
}
void cmx_f32_rope_nt_ukr__avx2(size_t n, size_t dims, const float *x,
                              const float *c, const float *s, float *y) {
  cmx_rope_split(n, dims, x, c, s, y, 1);
}
void cmx_f32_rope_trad_nt_ukr__avx2(size_t n, size_t dims, const float *x,
                                   const float *c, const float *s, float *y) {
  cmx_rope_trad(n, dims, x, c, s, y, 1);
}
