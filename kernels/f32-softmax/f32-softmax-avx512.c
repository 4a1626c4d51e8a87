/* f32 softmax for AVX-512 (16 lanes): the shared loops of
 * f32-softmax-body.h over arch/simd-avx512.h. Contract in f32-softmax.h. */
#include "arch/simd-avx512.h"
#define CMX_SM_STREAM(p, v) _mm512_stream_ps(p, v)
#include "kernels/f32-softmax/f32-softmax-body.h"

void cmx_f32_softmax_ukr__avx512(size_t n, const float *x, float *y,
    const float *next) {
  cmx_sm_softmax(n, x, y, next);
}
void cmx_f32_log_softmax_ukr__avx512(size_t n, const float *x, float *y,
    const float *next) {
  cmx_sm_log_softmax(n, x, y, next);
}
void cmx_f32_softmax_nt_ukr__avx512(size_t n, const float *x, float *y,
    const float *next) {
  cmx_sm_softmax_nt(n, x, y, next);
}
void cmx_f32_log_softmax_nt_ukr__avx512(size_t n, const float *x, float *y,
    const float *next) {
  cmx_sm_log_softmax_nt(n, x, y, next);
}
