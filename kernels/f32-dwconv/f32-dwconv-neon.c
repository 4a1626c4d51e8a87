/* NEON depthwise convolution microkernel (contract in f32-dwconv.h): 16
 * channels (4 q accumulators) per pass over the taps, then 4 at a time,
 * then a scalar tail with fmaf (the same fused step as the vector lanes). */
#include <arm_neon.h>
#include <math.h>

#include "kernels/f32-dwconv/f32-dwconv.h"

static inline void pixel(size_t c, size_t taps, const float *const *x,
                         const float *w, float *y, size_t o) {
  size_t i = 0;
  for (; i + 16 <= c; i += 16) {
    const float *x0 = x[0] + o + i, *w0 = w + i;
    float32x4_t a0 = vmulq_f32(vld1q_f32(x0), vld1q_f32(w0));
    float32x4_t a1 = vmulq_f32(vld1q_f32(x0 + 4), vld1q_f32(w0 + 4));
    float32x4_t a2 = vmulq_f32(vld1q_f32(x0 + 8), vld1q_f32(w0 + 8));
    float32x4_t a3 = vmulq_f32(vld1q_f32(x0 + 12), vld1q_f32(w0 + 12));
    for (size_t t = 1; t < taps; t++) {
      const float *xt = x[t] + o + i, *wt = w + t * c + i;
      a0 = vfmaq_f32(a0, vld1q_f32(xt), vld1q_f32(wt));
      a1 = vfmaq_f32(a1, vld1q_f32(xt + 4), vld1q_f32(wt + 4));
      a2 = vfmaq_f32(a2, vld1q_f32(xt + 8), vld1q_f32(wt + 8));
      a3 = vfmaq_f32(a3, vld1q_f32(xt + 12), vld1q_f32(wt + 12));
    }
    vst1q_f32(y + i, a0);
    vst1q_f32(y + i + 4, a1);
    vst1q_f32(y + i + 8, a2);
    vst1q_f32(y + i + 12, a3);
  }
  for (; i + 4 <= c; i += 4) {
    float32x4_t a = vmulq_f32(vld1q_f32(x[0] + o + i), vld1q_f32(w + i));
    for (size_t t = 1; t < taps; t++)
      a = vfmaq_f32(a, vld1q_f32(x[t] + o + i), vld1q_f32(w + t * c + i));
    vst1q_f32(y + i, a);
  }
  for (; i < c; i++) {
    float a = x[0][o + i] * w[i];
    for (size_t t = 1; t < taps; t++) a = fmaf(x[t][o + i], w[t * c + i], a);
    y[i] = a;
  }
}

void cmx_f32_dwconv_ukr__neon_u16(size_t c, size_t taps, const float *const *x,
                                  const float *w, float *y, size_t npix, size_t xs) {
  for (size_t p = 0; p < npix; p++) pixel(c, taps, x, w, y + p * c, p * xs);
}
