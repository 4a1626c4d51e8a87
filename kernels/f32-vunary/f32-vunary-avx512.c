/* f32 elementwise unary kernels for AVX-512 (16 lanes, masked tails): the shared body of
 * f32-vunary-body.h and the vmath.h polynomials over arch/simd-avx512.h. */
#include "arch/simd-avx512.h"
#include "kernels/f32-vunary/f32-vunary-body.h"

CMX_VUNARY_DEFINE(cmx_f32_vabs_ukr__avx512, cmx_vu_abs)
CMX_VUNARY_DEFINE(cmx_f32_vneg_ukr__avx512, cmx_vu_neg)
CMX_VUNARY_DEFINE(cmx_f32_vsign_ukr__avx512, cmx_vu_sign)
CMX_VUNARY_DEFINE(cmx_f32_vexp_ukr__avx512, vm_exp)
CMX_VUNARY_DEFINE(cmx_f32_vexpm1_ukr__avx512, vm_expm1)
CMX_VUNARY_DEFINE(cmx_f32_vlog_ukr__avx512, vm_log)
CMX_VUNARY_DEFINE(cmx_f32_vlog1p_ukr__avx512, vm_log1p)
CMX_VUNARY_DEFINE(cmx_f32_vsqrt_ukr__avx512, cmx_vu_sqrt)
CMX_VUNARY_DEFINE(cmx_f32_vrsqrt_ukr__avx512, cmx_vu_rsqrt)
CMX_VUNARY_DEFINE(cmx_f32_vsquare_ukr__avx512, cmx_vu_square)
CMX_VUNARY_DEFINE(cmx_f32_vreciprocal_ukr__avx512, cmx_vu_reciprocal)
CMX_VUNARY_DEFINE(cmx_f32_vsin_ukr__avx512, vm_sin)
CMX_VUNARY_DEFINE(cmx_f32_vcos_ukr__avx512, vm_cos)
CMX_VUNARY_DEFINE(cmx_f32_vtanh_ukr__avx512, vm_tanh)
CMX_VUNARY_DEFINE_SPLIT(cmx_f32_vsigmoid_ukr__avx512, vm_sigmoid,
                        cmx_vm_sigmoid_lut, cmx_vm_sigm_tail)
CMX_VUNARY_DEFINE(cmx_f32_verf_ukr__avx512, vm_erf)
CMX_VUNARY_DEFINE_SPLIT(cmx_f32_vgelu_ukr__avx512, vm_gelu, cmx_vm_gelu_lut,
                        cmx_vm_gelu_tail)
CMX_VUNARY_DEFINE_SPLIT(cmx_f32_vgelu_tanh_ukr__avx512, vm_gelu_tanh,
                        cmx_vm_gelu_tanh_lut, cmx_vm_gelu_tanh_tail)
CMX_VUNARY_DEFINE_SPLIT(cmx_f32_vsilu_ukr__avx512, vm_silu, cmx_vm_silu_lut,
                        cmx_vm_sigm_tail)
CMX_VUNARY_DEFINE(cmx_f32_vrelu_ukr__avx512, cmx_vu_relu)
CMX_VUNARY_DEFINE(cmx_f32_vfloor_ukr__avx512, cmx_vu_floor)
CMX_VUNARY_DEFINE(cmx_f32_vceil_ukr__avx512, cmx_vu_ceil)
CMX_VUNARY_DEFINE(cmx_f32_vround_ukr__avx512, cmx_vu_round)
CMX_VUNARY_DEFINE(cmx_f32_vsoftplus_ukr__avx512, cmx_vu_softplus)
