/* f32 <-> f16 / bf16 conversions for AVX-512, 16 lanes, masked tails.
 * f16 uses the 512-bit F16C forms. bf16 is integer work, not
 * vcvtneps2bf16: that instruction flushes f32 subnormals to zero (the
 * contract rounds them) and needs AVX512_BF16, which the avx512 level does
 * not check for (this Zen 4 VM does not report it). */
#include <immintrin.h>

#include "kernels/cvt/cvt.h"
#include "kernels/cvt/cvt-bf16-avx512.h"

static inline __mmask16 tail16(size_t n) { return (__mmask16)((1u << n) - 1u); }

void cmx_f16_f32_cvt_ukr__avx512(size_t n, const void *x, void *y) {
  const uint16_t *h = x;
  float *f = y;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(h + i));
    __m256i b = _mm256_loadu_si256((const __m256i *)(h + i + 16));
    _mm512_storeu_ps(f + i, _mm512_cvtph_ps(a));
    _mm512_storeu_ps(f + i + 16, _mm512_cvtph_ps(b));
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? 0xffff : tail16(n - i);
    __m256i a = _mm256_maskz_loadu_epi16(m, h + i);
    _mm512_mask_storeu_ps(f + i, m, _mm512_cvtph_ps(a));
  }
}

void cmx_f32_f16_cvt_ukr__avx512(size_t n, const void *x, void *y) {
  const float *f = x;
  uint16_t *h = y;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i a =
        _mm512_cvtps_ph(_mm512_loadu_ps(f + i), _MM_FROUND_TO_NEAREST_INT);
    __m256i b =
        _mm512_cvtps_ph(_mm512_loadu_ps(f + i + 16), _MM_FROUND_TO_NEAREST_INT);
    _mm256_storeu_si256((__m256i *)(h + i), a);
    _mm256_storeu_si256((__m256i *)(h + i + 16), b);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? 0xffff : tail16(n - i);
    __m512 v = _mm512_maskz_loadu_ps(m, f + i);
    _mm256_mask_storeu_epi16(h + i, m,
                             _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
}

/* bf16 -> f32 is a zero-extend and a shift. The full vectors use plain
 * loads: a masked load in every step (full mask) streamed from DRAM at half
 * speed on Zen 5 (arch/simd-avx512.h); masks only in the tail. */
static inline __m512 bf16_widen(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

void cmx_bf16_f32_cvt_ukr__avx512(size_t n, const void *x, void *y) {
  const uint16_t *h = x;
  float *f = y;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(h + i));
    __m256i b = _mm256_loadu_si256((const __m256i *)(h + i + 16));
    _mm512_storeu_ps(f + i, bf16_widen(a));
    _mm512_storeu_ps(f + i + 16, bf16_widen(b));
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? 0xffff : tail16(n - i);
    _mm512_mask_storeu_ps(f + i, m, bf16_widen(_mm256_maskz_loadu_epi16(m, h + i)));
  }
}

void cmx_f32_bf16_cvt_ukr__avx512(size_t n, const void *x, void *y) {
  const float *f = x;
  uint16_t *h = y;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i a = cmx_bf16_round(_mm512_loadu_ps(f + i));
    __m256i b = cmx_bf16_round(_mm512_loadu_ps(f + i + 16));
    _mm256_storeu_si256((__m256i *)(h + i), a);
    _mm256_storeu_si256((__m256i *)(h + i + 16), b);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? 0xffff : tail16(n - i);
    __m256i r = cmx_bf16_round(_mm512_maskz_loadu_ps(m, f + i));
    _mm256_mask_storeu_epi16(h + i, m, r);
  }
}

/* vcvttps2dq gives 0x80000000 for NaN and out of range: those lanes are
 * set after (INT32_MAX at x >= 2^31, 0 for NaN; x < -2^31 keeps it). */
static inline __m512i f32_i32(__m512 v) {
  __m512i r = _mm512_cvttps_epi32(v);
  r = _mm512_mask_mov_epi32(
      r, _mm512_cmp_ps_mask(v, _mm512_set1_ps(2147483648.0f), _CMP_GE_OQ),
      _mm512_set1_epi32(INT32_MAX));
  return _mm512_maskz_mov_epi32(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), r);
}

void cmx_f32_i32_cvt_ukr__avx512(size_t n, const void *x, void *y) {
  const float *f = x;
  int32_t *q = y;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512i a = f32_i32(_mm512_loadu_ps(f + i));
    __m512i b = f32_i32(_mm512_loadu_ps(f + i + 16));
    _mm512_storeu_si512(q + i, a);
    _mm512_storeu_si512(q + i + 16, b);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? 0xffff : tail16(n - i);
    _mm512_mask_storeu_epi32(q + i, m, f32_i32(_mm512_maskz_loadu_ps(m, f + i)));
  }
}

/* A lane's bit in the test mask is its byte: 16 f32 -> 16 bytes. */
void cmx_f32_bool_cvt_ukr__avx512(size_t n, const void *x, void *y) {
  const float *f = x;
  uint8_t *b = y;
  const __m512i abs = _mm512_set1_epi32(0x7fffffff);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __mmask16 m0 = _mm512_test_epi32_mask(
        _mm512_castps_si512(_mm512_loadu_ps(f + i)), abs);
    __mmask16 m1 = _mm512_test_epi32_mask(
        _mm512_castps_si512(_mm512_loadu_ps(f + i + 16)), abs);
    _mm_storeu_si128((__m128i *)(b + i), _mm_maskz_set1_epi8(m0, 1));
    _mm_storeu_si128((__m128i *)(b + i + 16), _mm_maskz_set1_epi8(m1, 1));
  }
  for (; i < n; i += 16) {
    const __mmask16 t = n - i >= 16 ? 0xffff : tail16(n - i);
    __mmask16 m = _mm512_test_epi32_mask(
        _mm512_castps_si512(_mm512_maskz_loadu_ps(t, f + i)), abs);
    _mm_mask_storeu_epi8(b + i, t, _mm_maskz_set1_epi8(m, 1));
  }
}
