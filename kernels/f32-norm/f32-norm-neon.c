/* f32 and f16 layer_norm / rms_norm for AArch64 NEON (4 lanes): the shared
 * loops of f32-norm-body.h over arch/simd-neon.h. Contract in f32-norm.h. */
#include "arch/simd-neon.h"
#include "kernels/f32-norm/f32-norm-body.h"

CMX_NM_KERNEL
void cmx_f32_layer_norm_ukr__neon(size_t m, size_t n, const float *x,
                                  size_t ldx, float *y, size_t ldy,
                                  const float *w, const float *b, float eps) {
  cmx_nm_norm(0, 0, m, n, x, ldx, y, ldy, w, b, eps);
}
CMX_NM_KERNEL
void cmx_f32_rms_norm_ukr__neon(size_t m, size_t n, const float *x, size_t ldx,
                                float *y, size_t ldy, const float *w,
                                const float *b, float eps) {
  cmx_nm_norm(1, 0, m, n, x, ldx, y, ldy, w, b, eps);
}

CMX_NM_DEFINE_H16(cmx_f16_layer_norm_ukr__neon, 2, 0)
CMX_NM_DEFINE_H16(cmx_f16_rms_norm_ukr__neon, 2, 1)
