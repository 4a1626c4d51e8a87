/* One vector of f16 or bf16 values loaded as f32 lanes, and f32 lanes
 * stored as f16 / bf16 rounded to nearest even (NaN kept quiet), with the
 * same lane steps as the conversion kernels (kernels/cvt), so a row read
 * and written this way holds what the convert-compute-convert path gives.
 * bf selects bf16 (1) or f16 (0); it is a constant at every call. Include
 * after one of arch/simd-avx2.h, simd-avx512.h, simd-neon.h. */
#ifndef CMX_VH16_H
#define CMX_VH16_H
#include <stdint.h>
#include <string.h>

#if defined(CMX_SIMD_AVX512_H)
#include "kernels/cvt/cvt-bf16-avx512.h"
CMX_SIMD_INLINE vf vh_widen(int bf, __m256i h) {
  return bf ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h),
                                                    16))
            : _mm512_cvtph_ps(h);
}
CMX_SIMD_INLINE __m256i vh_narrow(int bf, vf v) {
  return bf ? cmx_bf16_round(v) : _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
}
CMX_SIMD_INLINE vf vh_load(int bf, const uint16_t *p) {
  return vh_widen(bf, _mm256_loadu_si256((const __m256i *)p));
}
CMX_SIMD_INLINE vf vh_load_n(int bf, const uint16_t *p, size_t n) {
  return vh_widen(bf, _mm256_maskz_loadu_epi16(cmx_avx512_tail_mask(n), p));
}
CMX_SIMD_INLINE void vh_store(int bf, uint16_t *p, vf v) {
  _mm256_storeu_si256((__m256i *)p, vh_narrow(bf, v));
}
CMX_SIMD_INLINE void vh_store_n(int bf, uint16_t *p, vf v, size_t n) {
  _mm256_mask_storeu_epi16(p, cmx_avx512_tail_mask(n), vh_narrow(bf, v));
}
#elif defined(CMX_SIMD_AVX2_H)
#include "kernels/cvt/cvt-lanes-avx2.h"
CMX_SIMD_INLINE vf vh_widen(int bf, __m128i h) {
  return bf ? _mm256_castsi256_ps(cmx_bf16_widen8(h)) : _mm256_cvtph_ps(h);
}
/* 8 rounded values in the low 16 bits of each 32-bit lane -> 8 u16 */
CMX_SIMD_INLINE __m128i vh_narrow(int bf, vf v) {
  if (!bf) return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
  const __m256i r = cmx_bf16_round8(v);
  return _mm_packus_epi32(_mm256_castsi256_si128(r),
                          _mm256_extracti128_si256(r, 1));
}
CMX_SIMD_INLINE vf vh_load(int bf, const uint16_t *p) {
  return vh_widen(bf, _mm_loadu_si128((const __m128i *)p));
}
CMX_SIMD_INLINE vf vh_load_n(int bf, const uint16_t *p, size_t n) {
  uint16_t buf[VF_N] = {0};
  memcpy(buf, p, n * sizeof *p);
  return vh_load(bf, buf);
}
CMX_SIMD_INLINE void vh_store(int bf, uint16_t *p, vf v) {
  _mm_storeu_si128((__m128i *)p, vh_narrow(bf, v));
}
CMX_SIMD_INLINE void vh_store_n(int bf, uint16_t *p, vf v, size_t n) {
  uint16_t buf[VF_N];
  vh_store(bf, buf, v);
  memcpy(p, buf, n * sizeof *p);
}
#elif defined(CMX_SIMD_NEON_H)
#include "kernels/cvt/cvt-lanes-neon.h"
CMX_SIMD_INLINE vf vh_load(int bf, const uint16_t *p) {
  const uint16x4_t h = vld1_u16(p);
  return bf ? vreinterpretq_f32_u32(vshll_n_u16(h, 16)) : cmx_f16_widen4(h);
}
CMX_SIMD_INLINE vf vh_load_n(int bf, const uint16_t *p, size_t n) {
  uint16_t buf[VF_N] = {0};
  memcpy(buf, p, n * sizeof *p);
  return vh_load(bf, buf);
}
CMX_SIMD_INLINE void vh_store(int bf, uint16_t *p, vf v) {
  vst1_u16(p, bf ? cmx_bf16_round4(v) : cmx_f16_narrow4(v));
}
CMX_SIMD_INLINE void vh_store_n(int bf, uint16_t *p, vf v, size_t n) {
  uint16_t buf[VF_N];
  vh_store(bf, buf, v);
  memcpy(p, buf, n * sizeof *p);
}
#else
#error "kernels/common/vh16.h: include an arch/simd-*.h with vector lanes first"
#endif

/* Two vectors to two places: bf16 at the AVX512_BF16 level by one
 * vcvtne2ps2bf16 for both (twice the rate of a vcvtneps2bf16 each, about
 * four times the integer rounding's on Zen 5), unless either holds an f32
 * subnormal, which that instruction reads as zero. */
CMX_SIMD_INLINE void vh_store2(int bf, uint16_t *p0, uint16_t *p1, vf v0,
                               vf v1) {
#if defined(CMX_SIMD_AVX512_H) && defined(__AVX512BF16__)
  if (bf && !(cmx_f32_subnormal16(v0) | cmx_f32_subnormal16(v1))) {
    const __m512i r = (__m512i)_mm512_cvtne2ps_pbh(v1, v0);
    _mm256_storeu_si256((__m256i *)p0, _mm512_castsi512_si256(r));
    _mm256_storeu_si256((__m256i *)p1, _mm512_extracti64x4_epi64(r, 1));
    return;
  }
#endif
  vh_store(bf, p0, v0);
  vh_store(bf, p1, v1);
}

/* Rows of f32 (h = 0), bf16 (h = 1) or f16 (h = 2), element i of p: h is
 * a constant at every call, so each type compiles to its own loops. */
CMX_SIMD_INLINE vf vx_load(int h, const void *p, size_t i) {
  return h ? vh_load(h == 1, (const uint16_t *)p + i)
           : vf_load((const float *)p + i);
}
CMX_SIMD_INLINE vf vx_load_n(int h, const void *p, size_t i, size_t k) {
  return h ? vh_load_n(h == 1, (const uint16_t *)p + i, k)
           : vf_load_n((const float *)p + i, k);
}
CMX_SIMD_INLINE void vx_store(int h, void *p, size_t i, vf v) {
  if (h) vh_store(h == 1, (uint16_t *)p + i, v);
  else vf_store((float *)p + i, v);
}
CMX_SIMD_INLINE void vx_store_n(int h, void *p, size_t i, vf v, size_t k) {
  if (h) vh_store_n(h == 1, (uint16_t *)p + i, v, k);
  else vf_store_n((float *)p + i, v, k);
}
/* vx_store, or for f32 rows with nt set a streaming store (p + i
 * vector-aligned); nt is a constant at every call. */
CMX_SIMD_INLINE void vx_store_nt(int h, int nt, void *p, size_t i, vf v) {
  if (!h && nt) vf_stream((float *)p + i, v);
  else vx_store(h, p, i, v);
}
/* Element 0 of p as a float. */
CMX_SIMD_INLINE float vx_first(int h, const void *p) {
  if (!h) return *(const float *)p;
  float t[VF_N];
  vf_store(t, vx_load_n(h, p, 0, 1));
  return t[0];
}
/* Elements i and j: the 16-bit types through vh_store2. */
CMX_SIMD_INLINE void vx_store2(int h, void *p, size_t i, size_t j, vf a,
                               vf b) {
  if (h) vh_store2(h == 1, (uint16_t *)p + i, (uint16_t *)p + j, a, b);
  else vf_store((float *)p + i, a), vf_store((float *)p + j, b);
}

#endif
