/* f64 transcendental kernels, the reference: one lane, fma from libm: the
 * shared body of f64-vunary-body.h over f64-vmath.h. */
#define VD_N 1
#include "kernels/f64-vunary/f64-vunary-body.h"

CMX_F64_VUNARY_DEFINE(cmx_f64_vexp_ukr__ref, vd_exp)
CMX_F64_VUNARY_DEFINE_RARE(cmx_f64_vexpm1_ukr__ref, vd_expm1, vd_expm1_rare,
                           expm1)
CMX_F64_VUNARY_DEFINE(cmx_f64_vlog_ukr__ref, vd_log)
CMX_F64_VUNARY_DEFINE(cmx_f64_vlog1p_ukr__ref, vd_log1p)
CMX_F64_VUNARY_DEFINE_RARE(cmx_f64_vsin_ukr__ref, vd_sin, vd_trig_rare, sin)
CMX_F64_VUNARY_DEFINE_RARE(cmx_f64_vcos_ukr__ref, vd_cos, vd_trig_rare, cos)
CMX_F64_VUNARY_DEFINE(cmx_f64_vtanh_ukr__ref, vd_tanh)
CMX_F64_VUNARY_DEFINE(cmx_f64_vsigmoid_ukr__ref, vd_sigmoid)
CMX_F64_VUNARY_DEFINE(cmx_f64_vsilu_ukr__ref, vd_silu)
CMX_F64_VUNARY_DEFINE(cmx_f64_vsoftplus_ukr__ref, vd_softplus)
CMX_F64_VUNARY_DEFINE(cmx_f64_vgelu_tanh_ukr__ref, vd_gelu_tanh)
CMX_F64_VUNARY_DEFINE(cmx_f64_verf_ukr__ref, vd_erf)
CMX_F64_VUNARY_DEFINE(cmx_f64_vgelu_ukr__ref, vd_gelu)
CMX_F64_SOFTMAX_DEFINE(cmx_f64_softmax_ukr__ref)
