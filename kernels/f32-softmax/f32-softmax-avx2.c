/* f32 and f16 softmax for AVX2 + FMA (8 lanes): the shared loops of
 * f32-softmax-body.h over arch/simd-avx2.h. Contract in f32-softmax.h. */
#include "arch/simd-avx2.h"
#include "kernels/f32-softmax/f32-softmax-body.h"

CMX_SM_DEFINE(cmx_f32_softmax_ukr__avx2, cmx_sm_softmax)
CMX_SM_DEFINE(cmx_f32_log_softmax_ukr__avx2, cmx_sm_log_softmax)
CMX_SM_DEFINE(cmx_f32_softmax_nt_ukr__avx2, cmx_sm_softmax_nt)
CMX_SM_DEFINE(cmx_f32_log_softmax_nt_ukr__avx2, cmx_sm_log_softmax_nt)

CMX_SM_DEFINE_H16(cmx_f16_softmax_ukr__avx2, 2, 0)
CMX_SM_DEFINE_H16(cmx_f16_log_softmax_ukr__avx2, 2, 1)

CMX_SM_DEFINE_FOLD(cmx_f32_softmax_fold_ukr__avx2)
