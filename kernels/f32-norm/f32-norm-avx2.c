/* f32 and f16 layer_norm / rms_norm for AVX2 + FMA (8 lanes): the shared
 * loops of f32-norm-body.h over arch/simd-avx2.h. Contract in f32-norm.h. */
#include "arch/simd-avx2.h"
#include "kernels/f32-norm/f32-norm-body.h"

CMX_NM_KERNEL
void cmx_f32_layer_norm_ukr__avx2(size_t m, size_t n, const float *x,
                                  size_t ldx, float *y, size_t ldy,
                                  const float *w, const float *b, float eps) {
  cmx_nm_norm(0, 0, m, n, x, ldx, y, ldy, w, b, eps);
}
CMX_NM_KERNEL
void cmx_f32_rms_norm_ukr__avx2(size_t m, size_t n, const float *x, size_t ldx,
                                float *y, size_t ldy, const float *w,
                                const float *b, float eps) {
  cmx_nm_norm(1, 0, m, n, x, ldx, y, ldy, w, b, eps);
}
CMX_NM_KERNEL
void cmx_f32_layer_norm_nt_ukr__avx2(size_t m, size_t n, const float *x,
                                      size_t ldx, float *y, size_t ldy,
                                      const float *w, const float *b,
                                      float eps) {
  cmx_nm_norm(0, 1, m, n, x, ldx, y, ldy, w, b, eps);
}
CMX_NM_KERNEL
void cmx_f32_rms_norm_nt_ukr__avx2(size_t m, size_t n, const float *x,
                                    size_t ldx, float *y, size_t ldy,
                                    const float *w, const float *b, float eps) {
  cmx_nm_norm(1, 1, m, n, x, ldx, y, ldy, w, b, eps);
}

CMX_NM_DEFINE_H16(cmx_f16_layer_norm_ukr__avx2, 2, 0)
CMX_NM_DEFINE_H16(cmx_f16_rms_norm_ukr__avx2, 2, 1)
