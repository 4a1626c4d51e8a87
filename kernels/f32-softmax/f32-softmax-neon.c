/* f32 softmax for AArch64 NEON (4 lanes): the shared loops of
 * f32-softmax-body.h over arch/simd-neon.h. Contract in f32-softmax.h. */
#include "arch/simd-neon.h"
#include "kernels/f32-softmax/f32-softmax-body.h"

void cmx_f32_softmax_ukr__neon(size_t n, const float *x, float *y,
    const float *next) {
  cmx_sm_softmax(n, x, y, next);
}
void cmx_f32_log_softmax_ukr__neon(size_t n, const float *x, float *y,
    const float *next) {
  cmx_sm_log_softmax(n, x, y, next);
}
void cmx_f32_softmax_nt_ukr__neon(size_t n, const float *x, float *y,
    const float *next) {
  cmx_sm_softmax_nt(n, x, y, next);
}
void cmx_f32_log_softmax_nt_ukr__neon(size_t n, const float *x, float *y,
    const float *next) {
  cmx_sm_log_softmax_nt(n, x, y, next);
}
