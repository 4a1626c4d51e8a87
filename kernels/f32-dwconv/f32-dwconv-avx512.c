/* AVX-512 depthwise convolution microkernel (contract in f32-dwconv.h):
 * 64 channels (4 zmm accumulators) per pass over the taps, so each input
 * and weight vector is loaded once and the sum stays in registers; then 16
 * at a time, then a masked tail. 4 independent FMA chains per tap cover
 * the loads' throughput; the op is bound by the input rows' bandwidth. */
#include <immintrin.h>

#include "kernels/f32-dwconv/f32-dwconv.h"

void cmx_f32_dwconv_ukr__avx512_u64(size_t c, size_t taps,
                                    const float *const *x, const float *w,
                                    float *y) {
  size_t i = 0;
  for (; i + 64 <= c; i += 64) {
    const float *x0 = x[0] + i, *w0 = w + i;
    __m512 a0 = _mm512_mul_ps(_mm512_loadu_ps(x0), _mm512_loadu_ps(w0));
    __m512 a1 = _mm512_mul_ps(_mm512_loadu_ps(x0 + 16), _mm512_loadu_ps(w0 + 16));
    __m512 a2 = _mm512_mul_ps(_mm512_loadu_ps(x0 + 32), _mm512_loadu_ps(w0 + 32));
    __m512 a3 = _mm512_mul_ps(_mm512_loadu_ps(x0 + 48), _mm512_loadu_ps(w0 + 48));
    for (size_t t = 1; t < taps; t++) {
      const float *xt = x[t] + i, *wt = w + t * c + i;
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(xt), _mm512_loadu_ps(wt), a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(xt + 16), _mm512_loadu_ps(wt + 16), a1);
      a2 = _mm512_fmadd_ps(_mm512_loadu_ps(xt + 32), _mm512_loadu_ps(wt + 32), a2);
      a3 = _mm512_fmadd_ps(_mm512_loadu_ps(xt + 48), _mm512_loadu_ps(wt + 48), a3);
    }
    _mm512_storeu_ps(y + i, a0);
    _mm512_storeu_ps(y + i + 16, a1);
    _mm512_storeu_ps(y + i + 32, a2);
    _mm512_storeu_ps(y + i + 48, a3);
  }
  for (; i < c; i += 16) {
    const __mmask16 k = c - i >= 16 ? (__mmask16)0xffff
                                    : (__mmask16)((1u << (c - i)) - 1u);
    __m512 a = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x[0] + i),
                             _mm512_maskz_loadu_ps(k, w + i));
    for (size_t t = 1; t < taps; t++)
      a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, x[t] + i),
                          _mm512_maskz_loadu_ps(k, w + t * c + i), a);
    _mm512_mask_storeu_ps(y + i, k, a);
  }
}
