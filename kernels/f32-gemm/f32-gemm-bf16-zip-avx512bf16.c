/* bf16 pair interleaver for the avx512bf16 level (contract in f32-gemm.h):
 * 16 elements of each line widened to 32-bit lanes, the second shifted into
 * the high halves and or-ed in; tails with masked loads and stores. Only
 * AVX-512 BW/VL instructions: it lives here because only the vdpbf16ps path
 * packs pairs. */
#include <immintrin.h>

#include "kernels/f32-gemm/f32-gemm.h"

static inline __m512i pair(__m256i lo, __m256i hi) {
  return _mm512_or_si512(_mm512_cvtepu16_epi32(lo),
                         _mm512_slli_epi32(_mm512_cvtepu16_epi32(hi), 16));
}

void cmx_f32_gemm_bf16_zip_ukr__avx512bf16(size_t n, const uint16_t *x0,
                                           const uint16_t *x1,
                                           uint32_t *dst) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i lo = _mm256_loadu_si256((const __m256i *)(x0 + i));
    __m256i hi = x1 ? _mm256_loadu_si256((const __m256i *)(x1 + i))
                    : _mm256_setzero_si256();
    _mm512_storeu_si512(dst + i, pair(lo, hi));
  }
  if (i < n) {
    __mmask16 t = (__mmask16)((1u << (n - i)) - 1u);
    __m256i lo = _mm256_maskz_loadu_epi16(t, x0 + i);
    __m256i hi = x1 ? _mm256_maskz_loadu_epi16(t, x1 + i)
                    : _mm256_setzero_si256();
    _mm512_mask_storeu_epi32(dst + i, t, pair(lo, hi));
  }
}
