/* f32 <-> f16 / bf16 and f32 -> integer / bool conversions for AVX2 +
 * F16C, 8 lanes. f16 uses the F16C instructions (round to nearest even,
 * NaN quietened as cvt-ref.c does); bf16 is integer work: a 16-bit shift
 * one way, a rounding bias and shift the other. Every kernel is one step
 * of a few vectors in the loop of cvt-steps.h (tails through a stack
 * buffer). */
#include <immintrin.h>
#include <string.h>

#include "kernels/cvt/cvt.h"
#include "kernels/cvt/cvt-steps.h"
#include "kernels/cvt/cvt-lanes-avx2.h"

#define F16_F32_STEP(s, d) \
  _mm256_storeu_ps(d, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s))))
#define F32_F16_STEP(s, d)                                      \
  _mm_storeu_si128((__m128i *)(d),                              \
                   _mm256_cvtps_ph(_mm256_loadu_ps(s),          \
                                   _MM_FROUND_TO_NEAREST_INT))
#define BF16_F32_STEP(s, d)            \
  _mm256_storeu_si256((__m256i *)(d), \
                      cmx_bf16_widen8(_mm_loadu_si128((const __m128i *)(s))))
CMX_CVT_STEPS(cmx_f16_f32_cvt_ukr__avx2, uint16_t, float, 8, F16_F32_STEP)
CMX_CVT_STEPS(cmx_f32_f16_cvt_ukr__avx2, float, uint16_t, 8, F32_F16_STEP)
CMX_CVT_STEPS(cmx_bf16_f32_cvt_ukr__avx2, uint16_t, float, 8, BF16_F32_STEP)

/* Two vectors of 32-bit results packed to 16 u16 in order: packus works per
 * 128-bit half, the permute puts the halves back in sequence. */
static inline __m256i bf16_pack(__m256 a, __m256 b) {
  return _mm256_permute4x64_epi64(
      _mm256_packus_epi32(cmx_bf16_round8(a), cmx_bf16_round8(b)), 0xd8);
}

/* vcvttps2dq gives 0x80000000 for NaN and out of range: those lanes are
 * set after (INT32_MAX at x >= 2^31, 0 for NaN; x < -2^31 keeps it). */
static inline __m256i f32_i32(__m256 v) {
  __m256i r = _mm256_cvttps_epi32(v);
  __m256 big = _mm256_cmp_ps(v, _mm256_set1_ps(2147483648.0f), _CMP_GE_OQ);
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(INT32_MAX),
                         _mm256_castps_si256(big));
  return _mm256_and_si256(r, _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_ORD_Q)));
}

/* f32 -> int32 in [lo, hi] (within int16): clamped in f32 (a NaN stays
 * NaN: max and min return their second operand then), NaN lanes zeroed
 * by the ordered mask, truncated. */
static inline __m256i f32_clamp(const float *f, float lo, float hi) {
  const __m256 v = _mm256_loadu_ps(f);
  const __m256 c =
      _mm256_min_ps(_mm256_set1_ps(hi), _mm256_max_ps(_mm256_set1_ps(lo), v));
  return _mm256_cvttps_epi32(_mm256_and_ps(c, _mm256_cmp_ps(v, v, _CMP_ORD_Q)));
}

/* 32 f32 -> 32 bytes in [lo, hi] (-128..127 or 0..255): clamped dwords
 * packed to words and to bytes (signed or unsigned saturation, exact on
 * values in range), per 128-bit half, put back in order by the permute. */
static inline __m256i f32_bytes32(const float *f, float lo, float hi,
                                  int uns) {
  const __m256i w0 = _mm256_packs_epi32(f32_clamp(f, lo, hi),
                                        f32_clamp(f + 8, lo, hi));
  const __m256i w1 = _mm256_packs_epi32(f32_clamp(f + 16, lo, hi),
                                        f32_clamp(f + 24, lo, hi));
  const __m256i b =
      uns ? _mm256_packus_epi16(w0, w1) : _mm256_packs_epi16(w0, w1);
  return _mm256_permutevar8x32_epi32(b,
                                     _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* 16 f32 -> 16 int16: two clamped dword vectors packed, halves reordered. */
static inline __m256i f32_i16x16(const float *f) {
  return _mm256_permute4x64_epi64(
      _mm256_packs_epi32(f32_clamp(f, -32768.0f, 32767.0f),
                         f32_clamp(f + 8, -32768.0f, 32767.0f)),
      0xd8);
}

/* [0, 2^32) as int32 with the top bit moved: lanes at or past 2^31 lose
 * 2^31 (exact there) before vcvttps2dq and get it back as the top bit;
 * lanes at or past 2^32 become UINT32_MAX, NaN and x <= 0 give 0. */
static inline __m256i f32_u32x8(const float *f) {
  const __m256 v = _mm256_loadu_ps(f), two31 = _mm256_set1_ps(2147483648.0f);
  const __m256 c = _mm256_and_ps(_mm256_max_ps(_mm256_setzero_ps(), v),
                                 _mm256_cmp_ps(v, v, _CMP_ORD_Q));
  const __m256 top = _mm256_cmp_ps(c, two31, _CMP_GE_OQ);
  __m256i r = _mm256_cvttps_epi32(_mm256_sub_ps(c, _mm256_and_ps(top, two31)));
  r = _mm256_xor_si256(r, _mm256_slli_epi32(_mm256_castps_si256(top), 31));
  return _mm256_or_si256(r, _mm256_castps_si256(_mm256_cmp_ps(
                                c, _mm256_set1_ps(4294967296.0f), _CMP_GE_OQ)));
}

/* 32 f32 -> 32 bytes: (bits & 0x7fffffff) == 0 as -1 / 0 dwords, packed
 * with signed saturation to words and bytes (per 128-bit half, put back in
 * order by the permute), plus 1: 0 for a zero, 1 for anything else. */
static inline __m256i f32_bool32(const float *f) {
  const __m256i abs = _mm256_set1_epi32(0x7fffffff), z = _mm256_setzero_si256();
  __m256i e[4];
  for (int k = 0; k < 4; k++)
    e[k] = _mm256_cmpeq_epi32(
        _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(f + 8 * k)), abs),
        z);
  __m256i w = _mm256_packs_epi16(_mm256_packs_epi32(e[0], e[1]),
                                 _mm256_packs_epi32(e[2], e[3]));
  w = _mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  return _mm256_add_epi8(w, _mm256_set1_epi8(1));
}

/* 4 f64 -> 4 int32: clamped to the int32 range in f64 (the bounds are
 * exact there), NaN lanes zeroed by the ordered mask, truncated. */
static inline __m128i f64_i32x4(const double *d) {
  const __m256d v = _mm256_loadu_pd(d);
  const __m256d lo = _mm256_set1_pd(-2147483648.0);
  const __m256d c =
      _mm256_min_pd(_mm256_set1_pd(2147483647.0), _mm256_max_pd(lo, v));
  return _mm256_cvttpd_epi32(
      _mm256_and_pd(c, _mm256_cmp_pd(v, v, _CMP_ORD_Q)));
}

/* 8 bytes -> 8 f32: widened (vpmovsxbd / vpmovzxbd) and converted. */
#define I8_F32_STEP(s, d)                                                 \
  _mm256_storeu_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(            \
                          _mm_loadl_epi64((const __m128i *)(s)))))
#define U8_F32_STEP(s, d)                                                 \
  _mm256_storeu_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(            \
                          _mm_loadl_epi64((const __m128i *)(s)))))
#define BF16_STEP(s, d)                 \
  _mm256_storeu_si256((__m256i *)(d), \
                      bf16_pack(_mm256_loadu_ps(s), _mm256_loadu_ps((s) + 8)))
#define I32_STEP(s, d)                                                     \
  (_mm256_storeu_si256((__m256i *)(d), f32_i32(_mm256_loadu_ps(s))),       \
   _mm256_storeu_si256((__m256i *)((d) + 8), f32_i32(_mm256_loadu_ps((s) + 8))))
#define BOOL_STEP(s, d) _mm256_storeu_si256((__m256i *)(d), f32_bool32(s))
#define I8_STEP(s, d) \
  _mm256_storeu_si256((__m256i *)(d), f32_bytes32(s, -128.0f, 127.0f, 0))
#define U8_STEP(s, d) \
  _mm256_storeu_si256((__m256i *)(d), f32_bytes32(s, 0.0f, 255.0f, 1))
#define I16_STEP(s, d) _mm256_storeu_si256((__m256i *)(d), f32_i16x16(s))
#define U32_STEP(s, d) _mm256_storeu_si256((__m256i *)(d), f32_u32x8(s))
#define F64_I32_STEP(s, d)                                       \
  (_mm_storeu_si128((__m128i *)(d), f64_i32x4(s)),               \
   _mm_storeu_si128((__m128i *)((d) + 4), f64_i32x4((s) + 4)))
CMX_CVT_STEPS(cmx_f32_bf16_cvt_ukr__avx2, float, uint16_t, 16, BF16_STEP)
CMX_CVT_STEPS(cmx_f32_i32_cvt_ukr__avx2, float, int32_t, 16, I32_STEP)
CMX_CVT_STEPS(cmx_f32_bool_cvt_ukr__avx2, float, uint8_t, 32, BOOL_STEP)
CMX_CVT_STEPS(cmx_f32_i8_cvt_ukr__avx2, float, int8_t, 32, I8_STEP)
CMX_CVT_STEPS(cmx_f32_u8_cvt_ukr__avx2, float, uint8_t, 32, U8_STEP)
CMX_CVT_STEPS(cmx_f32_i16_cvt_ukr__avx2, float, int16_t, 16, I16_STEP)
CMX_CVT_STEPS(cmx_f32_u32_cvt_ukr__avx2, float, uint32_t, 8, U32_STEP)
CMX_CVT_STEPS(cmx_i8_f32_cvt_ukr__avx2, int8_t, float, 8, I8_F32_STEP)
CMX_CVT_STEPS(cmx_u8_f32_cvt_ukr__avx2, uint8_t, float, 8, U8_F32_STEP)
CMX_CVT_STEPS(cmx_f64_i32_cvt_ukr__avx2, double, int32_t, 8, F64_I32_STEP)
