/* f32 rope for AVX2 + FMA (8 lanes): the shared loops of f32-rope-body.h
 * over arch/simd-avx2.h. Contract in f32-rope.h. */
#include "arch/simd-avx2.h"

CMX_SIMD_INLINE vf cmx_rope_swap_pairs(vf v) {
  return _mm256_permute_ps(v, 0xb1);
}

#include "kernels/f32-rope/f32-rope-body.h"

CMX_ROPE_DEFINE(cmx_f32_rope_ukr__avx2, cmx_rope_split, 0)
CMX_ROPE_DEFINE(cmx_f32_rope_trad_ukr__avx2, cmx_rope_trad, 0)
CMX_ROPE_DEFINE(cmx_f32_rope_nt_ukr__avx2, cmx_rope_split, 1)
CMX_ROPE_DEFINE(cmx_f32_rope_trad_nt_ukr__avx2, cmx_rope_trad, 1)
