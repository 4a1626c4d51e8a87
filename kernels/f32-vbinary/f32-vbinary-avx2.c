/* f32 elementwise binary kernels for AVX2+FMA (8 lanes): the shared body of
 * f32-vbinary-body.h (vv, vs, sv loops) over arch/simd-avx2.h. */
#include "arch/simd-avx2.h"
#include "kernels/f32-vbinary/f32-vbinary-body.h"

/* NaN-propagating maximum/minimum in three ops instead of four:
 * vmaxps(a, b) is (a > b ? a : b), which already gives b where b is NaN and
 * on ties (+0 vs -0), the body's rule; the blend keeps a where a is NaN. */
CMX_SIMD_INLINE vf cmx_vb_max__avx2(vf a, vf b) {
  return _mm256_blendv_ps(_mm256_max_ps(a, b), a,
                          _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}
CMX_SIMD_INLINE vf cmx_vb_min__avx2(vf a, vf b) {
  return _mm256_blendv_ps(_mm256_min_ps(a, b), a,
                          _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

CMX_VBINARY_DEFINE(cmx_f32_vadd_ukr__avx2, cmx_vb_add)
CMX_VBINARY_DEFINE(cmx_f32_vsub_ukr__avx2, cmx_vb_sub)
CMX_VBINARY_DEFINE(cmx_f32_vmul_ukr__avx2, cmx_vb_mul)
CMX_VBINARY_DEFINE(cmx_f32_vdiv_ukr__avx2, cmx_vb_div)
CMX_VBINARY_DEFINE(cmx_f32_vmaximum_ukr__avx2, cmx_vb_max__avx2)
CMX_VBINARY_DEFINE(cmx_f32_vminimum_ukr__avx2, cmx_vb_min__avx2)
CMX_VBINARY_DEFINE(cmx_f32_vpow_ukr__avx2, cmx_vb_pow)
CMX_VBINARY_DEFINE(cmx_f32_vremainder_ukr__avx2, cmx_vb_rem)
CMX_VBINARY_DEFINE(cmx_f32_vfloor_divide_ukr__avx2, cmx_vb_floordiv)
CMX_VBINARY_DEFINE(cmx_f32_veq_ukr__avx2, cmx_vb_eq)
CMX_VBINARY_DEFINE(cmx_f32_vne_ukr__avx2, cmx_vb_ne)
CMX_VBINARY_DEFINE(cmx_f32_vlt_ukr__avx2, cmx_vb_lt)
CMX_VBINARY_DEFINE(cmx_f32_vle_ukr__avx2, cmx_vb_le)
CMX_VBINARY_DEFINE(cmx_f32_vgt_ukr__avx2, cmx_vb_gt)
CMX_VBINARY_DEFINE(cmx_f32_vge_ukr__avx2, cmx_vb_ge)
CMX_VBINARY_DEFINE(cmx_f32_vsilu_mul_ukr__avx2, cmx_vb_silu_mul)
