/* The 8-lane f32 <-> bf16 steps shared by the AVX2 conversion kernels and
 * the 16-bit row loads (kernels/common/vh16.h); include after immintrin.h.
 * bf16 -> f32 is a zero-extend and a shift. */
#ifndef CMX_CVT_LANES_AVX2_H
#define CMX_CVT_LANES_AVX2_H

static inline __m256i cmx_bf16_widen8(__m128i h) {
  return _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
}

/* Round to nearest even in the 32-bit lanes, result in the low 16 bits:
 * (u + 0x7fff + lsb) >> 16; NaN lanes take (u >> 16) | 0x40 instead, since
 * the bias could carry a NaN into infinity. */
static inline __m256i cmx_bf16_round8(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i hi = _mm256_srli_epi32(u, 16);
  const __m256i lsb = _mm256_and_si256(hi, _mm256_set1_epi32(1));
  const __m256i r = _mm256_srli_epi32(
      _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb),
      16);
  const __m256i q = _mm256_or_si256(hi, _mm256_set1_epi32(0x40));
  const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
  return _mm256_castps_si256(
      _mm256_blendv_ps(_mm256_castsi256_ps(r), _mm256_castsi256_ps(q), nan));
}

#endif
