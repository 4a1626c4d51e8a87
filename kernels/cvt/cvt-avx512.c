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

/* f32 -> int32 in [lo, hi] (within int16): clamped in f32, where a NaN
 * stays NaN (max and min return their second operand then), and
 * truncated; vcvttps2dq makes NaN 0x80000000, whose low byte and low word
 * are 0, so the truncating narrowings below (vpmovdb, vpmovdw) store 0. */
static inline __m512i f32_clamp(__m512 v, float lo, float hi) {
  return _mm512_cvttps_epi32(
      _mm512_min_ps(_mm512_set1_ps(hi), _mm512_max_ps(_mm512_set1_ps(lo), v)));
}

/* 16 lanes a step, the tail under a mask: NARROW / VT / STORE the full
 * step's narrowing, vector type and store, MSTORE the masked one. */
#define F32_NARROW(name, T, LO, HI, NARROW, VT, STORE, MSTORE)               \
  void name(size_t n, const void *x, void *y) {                              \
    const float *f = x;                                                      \
    T *q = y;                                                                \
    size_t i = 0;                                                            \
    for (; i + 16 <= n; i += 16)                                             \
      STORE((VT *)(q + i), NARROW(f32_clamp(_mm512_loadu_ps(f + i), LO, HI))); \
    if (i < n) {                                                             \
      const __mmask16 m = tail16(n - i);                                     \
      MSTORE(q + i, m, f32_clamp(_mm512_maskz_loadu_ps(m, f + i), LO, HI));  \
    }                                                                        \
  }
F32_NARROW(cmx_f32_i8_cvt_ukr__avx512, int8_t, -128.0f, 127.0f,
           _mm512_cvtepi32_epi8, __m128i, _mm_storeu_si128,
           _mm512_mask_cvtepi32_storeu_epi8)
F32_NARROW(cmx_f32_u8_cvt_ukr__avx512, uint8_t, 0.0f, 255.0f,
           _mm512_cvtepi32_epi8, __m128i, _mm_storeu_si128,
           _mm512_mask_cvtepi32_storeu_epi8)
F32_NARROW(cmx_f32_i16_cvt_ukr__avx512, int16_t, -32768.0f, 32767.0f,
           _mm512_cvtepi32_epi16, __m256i, _mm256_storeu_si256,
           _mm512_mask_cvtepi32_storeu_epi16)
#undef F32_NARROW

/* vcvttps2udq gives UINT32_MAX at and past 2^32 (the contract) and for
 * NaN, which the ordered mask zeroes; below 0 the max with 0 gives 0. */
static inline __m512i f32_u32(__m512 v) {
  return _mm512_maskz_cvttps_epu32(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q),
                                   _mm512_max_ps(_mm512_setzero_ps(), v));
}

void cmx_f32_u32_cvt_ukr__avx512(size_t n, const void *x, void *y) {
  const float *f = x;
  uint32_t *q = y;
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_si512(q + i, f32_u32(_mm512_loadu_ps(f + i)));
  if (i < n) {
    const __mmask16 m = tail16(n - i);
    _mm512_mask_storeu_epi32(q + i, m,
                             f32_u32(_mm512_maskz_loadu_ps(m, f + i)));
  }
}

/* 16 bytes -> 16 f32: widened to dwords (vpmovsxbd / vpmovzxbd) and
 * converted, the tail under a mask. */
#define BYTES_F32(name, T, WIDEN)                                            \
  void name(size_t n, const void *x, void *y) {                              \
    const T *q = x;                                                          \
    float *f = y;                                                            \
    size_t i = 0;                                                            \
    for (; i + 16 <= n; i += 16)                                             \
      _mm512_storeu_ps(f + i, _mm512_cvtepi32_ps(WIDEN(_mm_loadu_si128(      \
                                  (const __m128i *)(q + i)))));              \
    if (i < n) {                                                             \
      const __mmask16 m = tail16(n - i);                                     \
      const __m128i b = _mm_maskz_loadu_epi8(m, q + i);                      \
      _mm512_mask_storeu_ps(f + i, m, _mm512_cvtepi32_ps(WIDEN(b)));         \
    }                                                                        \
  }
BYTES_F32(cmx_i8_f32_cvt_ukr__avx512, int8_t, _mm512_cvtepi8_epi32)
BYTES_F32(cmx_u8_f32_cvt_ukr__avx512, uint8_t, _mm512_cvtepu8_epi32)
#undef BYTES_F32

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

/* 8 f64 -> 8 int32: clamped to the int32 range in f64 (the bounds are
 * exact there), truncated by vcvttpd2dq, NaN lanes zeroed by the mask. */
static inline __m256i f64_i32(__m512d v) {
  const __m512d lo = _mm512_set1_pd(-2147483648.0);
  const __m512d c =
      _mm512_min_pd(_mm512_set1_pd(2147483647.0), _mm512_max_pd(lo, v));
  return _mm512_maskz_cvttpd_epi32(_mm512_cmp_pd_mask(v, v, _CMP_ORD_Q), c);
}

void cmx_f64_i32_cvt_ukr__avx512(size_t n, const void *x, void *y) {
  const double *d = x;
  int32_t *q = y;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = f64_i32(_mm512_loadu_pd(d + i));
    const __m256i b = f64_i32(_mm512_loadu_pd(d + i + 8));
    _mm256_storeu_si256((__m256i *)(q + i), a);
    _mm256_storeu_si256((__m256i *)(q + i + 8), b);
  }
  for (; i < n; i += 8) {
    const __mmask8 m = n - i >= 8 ? 0xff : (__mmask8)((1u << (n - i)) - 1u);
    _mm256_mask_storeu_epi32(q + i, m,
                             f64_i32(_mm512_maskz_loadu_pd(m, d + i)));
  }
}
