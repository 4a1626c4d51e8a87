/* The integer f32 -> bf16 rounding of 16 lanes, shared by the avx512 and
 * avx512bf16 conversion files (include after immintrin.h). */
#ifndef CMX_CVT_BF16_AVX512_H
#define CMX_CVT_BF16_AVX512_H

/* (u + 0x7fff + lsb) >> 16 rounds to nearest even; NaN lanes take
 * (u >> 16) | 0x40, as the bias could carry a NaN into infinity. vpmovdw
 * then narrows the 32-bit lanes. */
static inline __m256i cmx_bf16_round(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i hi = _mm512_srli_epi32(u, 16);
  const __m512i lsb = _mm512_and_si512(hi, _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(
      _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), lsb),
      16);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  r = _mm512_mask_or_epi32(r, nan, hi, _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(r);
}

#endif
