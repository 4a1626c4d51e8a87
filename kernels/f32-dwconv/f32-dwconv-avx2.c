/* AVX2 depthwise convolution microkernel (contract in f32-dwconv.h): 32
 * channels (4 ymm accumulators) per pass over the taps, then 8 at a time,
 * then a masked tail (vmaskmov never touches the masked-off floats). */
#include <immintrin.h>

#include "kernels/f32-dwconv/f32-dwconv.h"

static inline void pixel(size_t c, size_t taps, const float *const *x,
                         const float *w, float *y, size_t o) {
  size_t i = 0;
  for (; i + 32 <= c; i += 32) {
    const float *x0 = x[0] + o + i, *w0 = w + i;
    __m256 a0 = _mm256_mul_ps(_mm256_loadu_ps(x0), _mm256_loadu_ps(w0));
    __m256 a1 = _mm256_mul_ps(_mm256_loadu_ps(x0 + 8), _mm256_loadu_ps(w0 + 8));
    __m256 a2 = _mm256_mul_ps(_mm256_loadu_ps(x0 + 16), _mm256_loadu_ps(w0 + 16));
    __m256 a3 = _mm256_mul_ps(_mm256_loadu_ps(x0 + 24), _mm256_loadu_ps(w0 + 24));
    for (size_t t = 1; t < taps; t++) {
      const float *xt = x[t] + o + i, *wt = w + t * c + i;
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xt), _mm256_loadu_ps(wt), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xt + 8), _mm256_loadu_ps(wt + 8), a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(xt + 16), _mm256_loadu_ps(wt + 16), a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(xt + 24), _mm256_loadu_ps(wt + 24), a3);
    }
    _mm256_storeu_ps(y + i, a0);
    _mm256_storeu_ps(y + i + 8, a1);
    _mm256_storeu_ps(y + i + 16, a2);
    _mm256_storeu_ps(y + i + 24, a3);
  }
  for (; i + 8 <= c; i += 8) {
    __m256 a = _mm256_mul_ps(_mm256_loadu_ps(x[0] + o + i), _mm256_loadu_ps(w + i));
    for (size_t t = 1; t < taps; t++)
      a = _mm256_fmadd_ps(_mm256_loadu_ps(x[t] + o + i),
                          _mm256_loadu_ps(w + t * c + i), a);
    _mm256_storeu_ps(y + i, a);
  }
  if (i < c) {
    const __m256i k = _mm256_cmpgt_epi32(
        _mm256_set1_epi32((int)(c - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 a = _mm256_mul_ps(_mm256_maskload_ps(x[0] + o + i, k),
                             _mm256_maskload_ps(w + i, k));
    for (size_t t = 1; t < taps; t++)
      a = _mm256_fmadd_ps(_mm256_maskload_ps(x[t] + o + i, k),
                          _mm256_maskload_ps(w + t * c + i, k), a);
    _mm256_maskstore_ps(y + i, k, a);
  }
}

void cmx_f32_dwconv_ukr__avx2_u32(size_t c, size_t taps, const float *const *x,
                                  const float *w, float *y, size_t npix, size_t xs) {
  for (size_t p = 0; p < npix; p++) pixel(c, taps, x, w, y + p * c, p * xs);
}
