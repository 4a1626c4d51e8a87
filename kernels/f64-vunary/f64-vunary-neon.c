/* f64 transcendental kernels, NEON, 2 lanes: the shared body of
 * f64-vunary-body.h over f64-vmath.h. */
#define VD_N 2
#include "kernels/f64-vunary/f64-vunary-body.h"

CMX_F64_VUNARY_DEFINE(cmx_f64_vexp_ukr__neon, vd_exp)
CMX_F64_VUNARY_DEFINE_RARE(cmx_f64_vexpm1_ukr__neon, vd_expm1, vd_expm1_rare,
                           expm1)
CMX_F64_VUNARY_DEFINE(cmx_f64_vlog_ukr__neon, vd_log)
CMX_F64_VUNARY_DEFINE(cmx_f64_vlog1p_ukr__neon, vd_log1p)
CMX_F64_VUNARY_DEFINE_RARE(cmx_f64_vsin_ukr__neon, vd_sin, vd_trig_rare, sin)
CMX_F64_VUNARY_DEFINE_RARE(cmx_f64_vcos_ukr__neon, vd_cos, vd_trig_rare, cos)
CMX_F64_VUNARY_DEFINE(cmx_f64_vtanh_ukr__neon, vd_tanh)
CMX_F64_VUNARY_DEFINE(cmx_f64_vsigmoid_ukr__neon, vd_sigmoid)
CMX_F64_VUNARY_DEFINE(cmx_f64_vsilu_ukr__neon, vd_silu)
CMX_F64_VUNARY_DEFINE(cmx_f64_vsoftplus_ukr__neon, vd_softplus)
CMX_F64_VUNARY_DEFINE(cmx_f64_vgelu_tanh_ukr__neon, vd_gelu_tanh)
CMX_F64_VUNARY_DEFINE(cmx_f64_verf_ukr__neon, vd_erf)
CMX_F64_VUNARY_DEFINE(cmx_f64_vgelu_ukr__neon, vd_gelu)
CMX_F64_SOFTMAX_DEFINE(cmx_f64_softmax_ukr__neon)
