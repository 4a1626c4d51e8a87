/* i8 GEMM microkernel for AVX2, 6 x 8, k in groups of 4 (contract in
 * i8-gemm.h). Per group: B's 32 bytes (8 columns x 4 k) sign-extended to
 * two vectors of 16 int16, each row's 4 A bytes sign-extended and repeated
 * four times, and vpmaddwd forms pair sums (exact: at most 2^15) added into
 * 12 int32 accumulators, lane 2c + h holding column c, k pair h. A final
 * horizontal add of the pairs gives the columns. vpmaddubsw is not used:
 * its int16 saturation is not exact for int8 x int8. */
#include <immintrin.h>
#include <string.h>

#include "kernels/i8-gemm/i8-gemm.h"

#define MR 6
#define NR 8

static inline __m256i lanes(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

void cmx_i8_gemm_ukr_6x8c4__avx2(size_t m, size_t n, size_t k,
                                 const int8_t *a, const int8_t *b,
                                 int32_t *c, size_t ldc,
                                 const struct cmx_i8_gemm_aux *aux) {
  __m256i acc[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++)
    acc[i][0] = acc[i][1] = _mm256_setzero_si256();
  for (size_t g = 0; g < (k + 3) / 4; g++) {
    __m256i bb = _mm256_loadu_si256((const __m256i *)b);
    __m256i b0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(bb));
    __m256i b1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(bb, 1));
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      int32_t a4;
      memcpy(&a4, a + 4 * i, 4);
      __m256i ai = _mm256_cvtepi8_epi16(_mm_set1_epi32(a4));
      acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(ai, b0));
      acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(ai, b1));
    }
    a += MR * 4;
    b += NR * 4;
  }
  __m256i mask = lanes(n);
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    if ((size_t)i >= m) continue;
    /* [c0 c1 c4 c5 | c2 c3 c6 c7] -> columns in order */
    __m256i r = _mm256_permute4x64_epi64(
        _mm256_hadd_epi32(acc[i][0], acc[i][1]), 0xd8);
    int32_t *ci = c + i * ldc;
    if (n == NR) {
      if (aux->accumulate)
        r = _mm256_add_epi32(r, _mm256_loadu_si256((const __m256i *)ci));
      _mm256_storeu_si256((__m256i *)ci, r);
    } else {
      if (aux->accumulate)
        r = _mm256_add_epi32(r, _mm256_maskload_epi32(ci, mask));
      _mm256_maskstore_epi32(ci, mask, r);
    }
  }
}
