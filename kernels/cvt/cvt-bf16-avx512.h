/* The f32 -> bf16 rounding of 16 lanes, shared by the avx512 and
 * avx512bf16 conversion files and the 16-bit row loads (include after
 * immintrin.h). */
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

/* Lanes of v that hold an f32 subnormal: exponent 0, mantissa not. */
static inline __mmask16 cmx_f32_subnormal16(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  return _mm512_testn_epi32_mask(u, _mm512_set1_epi32(0x7f800000)) &
         _mm512_test_epi32_mask(u, _mm512_set1_epi32(0x007fffff));
}

#if defined(__AVX512BF16__)
/* cmx_bf16_round by vcvtneps2bf16, which rounds to nearest even and
 * quiets a NaN the same way but reads f32 subnormals as zero: a vector
 * holding one takes the integer rounding (cvt-avx512bf16.c). */
static inline __m256i cmx_bf16_round_bf(__m512 v) {
  return cmx_f32_subnormal16(v) ? cmx_bf16_round(v)
                                : (__m256i)_mm512_cvtneps_pbh(v);
}
#endif

#endif
