/* f32 <-> f16 / bf16 conversions for AVX2 + F16C, 8 lanes. f16 uses the
 * F16C instructions (round to nearest even, NaN quietened as cvt-ref.c
 * does); bf16 is integer work: a 16-bit shift one way, a rounding bias
 * and shift the other. Tails go through a one-vector stack buffer. */
#include <immintrin.h>
#include <string.h>

#include "kernels/cvt/cvt.h"
#include "kernels/cvt/cvt-lanes-avx2.h"

void cmx_f16_f32_cvt_ukr__avx2(size_t n, const void *x, void *y) {
  const uint16_t *h = x;
  float *f = y;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(h + i));
    __m128i b = _mm_loadu_si128((const __m128i *)(h + i + 8));
    _mm256_storeu_ps(f + i, _mm256_cvtph_ps(a));
    _mm256_storeu_ps(f + i + 8, _mm256_cvtph_ps(b));
  }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(
        f + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
  if (i < n) {
    uint16_t buf[8] = {0};
    float out[8];
    memcpy(buf, h + i, (n - i) * sizeof *h);
    _mm256_storeu_ps(out,
                     _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)buf)));
    memcpy(f + i, out, (n - i) * sizeof *f);
  }
}

void cmx_f32_f16_cvt_ukr__avx2(size_t n, const void *x, void *y) {
  const float *f = x;
  uint16_t *h = y;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i a =
        _mm256_cvtps_ph(_mm256_loadu_ps(f + i), _MM_FROUND_TO_NEAREST_INT);
    __m128i b =
        _mm256_cvtps_ph(_mm256_loadu_ps(f + i + 8), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128((__m128i *)(h + i), a);
    _mm_storeu_si128((__m128i *)(h + i + 8), b);
  }
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(
        (__m128i *)(h + i),
        _mm256_cvtps_ph(_mm256_loadu_ps(f + i), _MM_FROUND_TO_NEAREST_INT));
  if (i < n) {
    float buf[8] = {0};
    uint16_t out[8];
    memcpy(buf, f + i, (n - i) * sizeof *f);
    _mm_storeu_si128(
        (__m128i *)out,
        _mm256_cvtps_ph(_mm256_loadu_ps(buf), _MM_FROUND_TO_NEAREST_INT));
    memcpy(h + i, out, (n - i) * sizeof *h);
  }
}


void cmx_bf16_f32_cvt_ukr__avx2(size_t n, const void *x, void *y) {
  const uint16_t *h = x;
  float *f = y;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(h + i));
    __m128i b = _mm_loadu_si128((const __m128i *)(h + i + 8));
    _mm256_storeu_si256((__m256i *)(f + i), cmx_bf16_widen8(a));
    _mm256_storeu_si256((__m256i *)(f + i + 8), cmx_bf16_widen8(b));
  }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_si256((__m256i *)(f + i),
                        cmx_bf16_widen8(_mm_loadu_si128((const __m128i *)(h + i))));
  if (i < n) {
    uint16_t buf[8] = {0};
    float out[8];
    memcpy(buf, h + i, (n - i) * sizeof *h);
    _mm256_storeu_si256((__m256i *)out,
                        cmx_bf16_widen8(_mm_loadu_si128((const __m128i *)buf)));
    memcpy(f + i, out, (n - i) * sizeof *f);
  }
}


/* Two vectors of 32-bit results packed to 16 u16 in order: packus works per
 * 128-bit half, the permute puts the halves back in sequence. */
static inline __m256i bf16_pack(__m256 a, __m256 b) {
  return _mm256_permute4x64_epi64(
      _mm256_packus_epi32(cmx_bf16_round8(a), cmx_bf16_round8(b)), 0xd8);
}

void cmx_f32_bf16_cvt_ukr__avx2(size_t n, const void *x, void *y) {
  const float *f = x;
  uint16_t *h = y;
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(
        (__m256i *)(h + i),
        bf16_pack(_mm256_loadu_ps(f + i), _mm256_loadu_ps(f + i + 8)));
  if (i < n) {
    float buf[16] = {0};
    uint16_t out[16];
    memcpy(buf, f + i, (n - i) * sizeof *f);
    _mm256_storeu_si256((__m256i *)out, bf16_pack(_mm256_loadu_ps(buf),
                                                  _mm256_loadu_ps(buf + 8)));
    memcpy(h + i, out, (n - i) * sizeof *h);
  }
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

void cmx_f32_i32_cvt_ukr__avx2(size_t n, const void *x, void *y) {
  const float *f = x;
  int32_t *q = y;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i a = f32_i32(_mm256_loadu_ps(f + i));
    __m256i b = f32_i32(_mm256_loadu_ps(f + i + 8));
    _mm256_storeu_si256((__m256i *)(q + i), a);
    _mm256_storeu_si256((__m256i *)(q + i + 8), b);
  }
  if (i < n) {
    float buf[16] = {0};
    int32_t out[16];
    memcpy(buf, f + i, (n - i) * sizeof *f);
    _mm256_storeu_si256((__m256i *)out, f32_i32(_mm256_loadu_ps(buf)));
    _mm256_storeu_si256((__m256i *)(out + 8), f32_i32(_mm256_loadu_ps(buf + 8)));
    memcpy(q + i, out, (n - i) * sizeof *q);
  }
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

void cmx_f32_bool_cvt_ukr__avx2(size_t n, const void *x, void *y) {
  const float *f = x;
  uint8_t *b = y;
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    _mm256_storeu_si256((__m256i *)(b + i), f32_bool32(f + i));
  if (i < n) {
    float buf[32] = {0};
    uint8_t out[32];
    memcpy(buf, f + i, (n - i) * sizeof *f);
    _mm256_storeu_si256((__m256i *)out, f32_bool32(buf));
    memcpy(b + i, out, n - i);
  }
}
