/* f32 softmax for AVX2 + FMA (8 lanes): the shared loops of
 * f32-softmax-body.h over arch/simd-avx2.h. Contract in f32-softmax.h. */
#include "arch/simd-avx2.h"
#define CMX_SM_STREAM(p, v) _mm256_stream_ps(p, v)
#include "kernels/f32-softmax/f32-softmax-body.h"

CMX_SM_DEFINE(cmx_f32_softmax_ukr__avx2, cmx_sm_softmax)
CMX_SM_DEFINE(cmx_f32_log_softmax_ukr__avx2, cmx_sm_log_softmax)
CMX_SM_DEFINE(cmx_f32_softmax_nt_ukr__avx2, cmx_sm_softmax_nt)
CMX_SM_DEFINE(cmx_f32_log_softmax_nt_ukr__avx2, cmx_sm_log_softmax_nt)
