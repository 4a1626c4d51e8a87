/* AVX-512 (BW, VL) packing of one k-quad of a row-major int8 B into the
 * quads layout of i8-gemm.h for NR = 32 (contract there, pack_b4): the
 * four rows' 32 bytes (masked loads: columns >= len read as zero) are
 * interleaved by byte and then by 16-bit pair unpacks into 32-bit words
 * (rows 0..3 of one column each), and the two 128-bit lanes of each
 * result are put in column order by two lane permutes: 4 loads, 8 unpacks,
 * 4 permutes and 4 stores for 128 bytes, instead of 32 four-byte words
 * assembled from scalar loads. */
#include <immintrin.h>

#include "kernels/i8-gemm/i8-gemm.h"

void cmx_i8_gemm_pack_b4__avx512(size_t len, const int8_t *r, ptrdiff_t rs,
                                 int8_t *d) {
  const __mmask32 k = len >= 32 ? (__mmask32)0xffffffffu
                                : (__mmask32)((1u << len) - 1u);
  __m256i r0 = _mm256_maskz_loadu_epi8(k, r);
  __m256i r1 = _mm256_maskz_loadu_epi8(k, r + rs);
  __m256i r2 = _mm256_maskz_loadu_epi8(k, r + 2 * rs);
  __m256i r3 = _mm256_maskz_loadu_epi8(k, r + 3 * rs);
  /* per 128-bit lane: bytes (r0, r1) and (r2, r3) of columns 0-7, 8-15 */
  __m256i t0 = _mm256_unpacklo_epi8(r0, r1), t1 = _mm256_unpackhi_epi8(r0, r1);
  __m256i t2 = _mm256_unpacklo_epi8(r2, r3), t3 = _mm256_unpackhi_epi8(r2, r3);
  /* words of columns 0-3, 4-7, 8-11, 12-15 of each lane */
  __m256i q0 = _mm256_unpacklo_epi16(t0, t2), q1 = _mm256_unpackhi_epi16(t0, t2);
  __m256i q2 = _mm256_unpacklo_epi16(t1, t3), q3 = _mm256_unpackhi_epi16(t1, t3);
  _mm256_storeu_si256((__m256i *)d, _mm256_permute2x128_si256(q0, q1, 0x20));
  _mm256_storeu_si256((__m256i *)(d + 32),
                      _mm256_permute2x128_si256(q2, q3, 0x20));
  _mm256_storeu_si256((__m256i *)(d + 64),
                      _mm256_permute2x128_si256(q0, q1, 0x31));
  _mm256_storeu_si256((__m256i *)(d + 96),
                      _mm256_permute2x128_si256(q2, q3, 0x31));
}
