/* AVX2 quantised GEMM microkernels (contracts in f32-qgemm.h), the AVX-512
 * kernels' scheme on 8 lanes: a 16-byte chunk of W is widened as two
 * 8-byte halves (vpmovzxbd), each field masked out and converted, and x
 * comes from memory as the FMA's operand, so 16 ymm registers hold 2 m J
 * accumulators (J rows of W a step: 4, 2 or 1) and two temporaries. Rows
 * of x beyond four run as a second block. Bias terms are summed in scalar
 * after the lanes (one per group, against gs / 8 vector FMAs). */
#include <immintrin.h>
#include <string.h>

#include "kernels/f32-qgemm/f32-qgemm.h"

#define INLINE static inline __attribute__((always_inline))

INLINE float hsum8(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

/* Field f of 8 bytes widened to dwords in v (f < 8 / BITS). */
INLINE __m256 field8(__m256i v, const int BITS, const int f) {
  const int E = 8 / BITS;
  __m256i q = f ? _mm256_srli_epi32(v, f * BITS) : v;
  if (E > 1 && f < E - 1)
    q = _mm256_and_si256(q, _mm256_set1_epi32((1 << BITS) - 1));
  return _mm256_cvtepi32_ps(q);
}

/* J rows of W against M (<= 4) rows of x, chunks of 16 bytes (C = 16). */
INLINE void rows16(const int M, const int J, const int BITS, size_t k,
                   size_t gs, const uint32_t *w, size_t ldw, const float *s,
                   const float *b, size_t lds, const float *xp, size_t ldx,
                   const float *xs, size_t ldxs, float *y, size_t ldy) {
  const int E = 8 / BITS;
  const size_t ng = k / gs, cpg = gs * BITS / 128, ldb = ldw * 4;
  const uint8_t *wb = (const uint8_t *)w;
  __m256 tot[4][4];
#pragma GCC unroll 4
  for (int i = 0; i < M; i++)
#pragma GCC unroll 4
    for (int j = 0; j < J; j++)
      tot[i][j] = _mm256_setzero_ps();
  for (size_t g = 0; g < ng; g++) {
    __m256 acc[4][4];
#pragma GCC unroll 4
    for (int i = 0; i < M; i++)
#pragma GCC unroll 4
      for (int j = 0; j < J; j++)
        acc[i][j] = _mm256_setzero_ps();
    for (size_t u = 0; u < cpg; u++) {
      const size_t cb = g * cpg + u;
      const float *xc = xp + cb * 16 * (size_t)E;
#pragma GCC unroll 4
      for (int j = 0; j < J; j++)
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
          __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(
              (const __m128i *)(wb + j * ldb + cb * 16 + h * 8)));
#pragma GCC unroll 4
          for (int f = 0; f < E; f++) {
            __m256 q = field8(v, BITS, f);
#pragma GCC unroll 4
            for (int i = 0; i < M; i++)
              acc[i][j] = _mm256_fmadd_ps(
                  _mm256_loadu_ps(xc + i * ldx + f * 16 + h * 8), q, acc[i][j]);
          }
        }
    }
#pragma GCC unroll 4
    for (int j = 0; j < J; j++) {
      __m256 sv = _mm256_set1_ps(s[j * lds + g]);
#pragma GCC unroll 4
      for (int i = 0; i < M; i++)
        tot[i][j] = _mm256_fmadd_ps(acc[i][j], sv, tot[i][j]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < M; i++)
#pragma GCC unroll 4
    for (int j = 0; j < J; j++) {
      float bsum = 0.0f;
      for (size_t g = 0; g < ng; g++)
        bsum += b[j * lds + g] * xs[i * ldxs + g];
      y[i * ldy + j] = hsum8(tot[i][j]) + bsum;
    }
}

INLINE void rows16_n(const int M, const int BITS, size_t n, size_t k, size_t gs,
                     const uint32_t *w, size_t ldw, const float *s,
                     const float *b, size_t lds, const float *xp, size_t ldx,
                     const float *xs, size_t ldxs, float *y, size_t ldy) {
  const int J = M == 1 ? 4 : M <= 3 ? 2 : 1;
  size_t j = 0;
  for (; j + J <= n; j += J)
    rows16(M, J, BITS, k, gs, w + j * ldw, ldw, s + j * lds, b + j * lds, lds,
           xp, ldx, xs, ldxs, y + j, ldy);
  for (; j < n; j++)
    rows16(M, 1, BITS, k, gs, w + j * ldw, ldw, s + j * lds, b + j * lds, lds,
           xp, ldx, xs, ldxs, y + j, ldy);
}

/* bits 2, groups of 32: 8-byte chunks (C = 8); a rare format. */
static void rows8(size_t m, size_t n, size_t k, const uint32_t *w, size_t ldw,
                  const float *s, const float *b, size_t lds, const float *xp,
                  size_t ldx, const float *xs, size_t ldxs, float *y,
                  size_t ldy) {
  const size_t ng = k / 32;
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < m; i++) {
      __m256 tot = _mm256_setzero_ps();
      float bsum = 0.0f;
      for (size_t g = 0; g < ng; g++) {
        __m256i v = _mm256_cvtepu8_epi32(
            _mm_loadl_epi64((const __m128i *)(w + j * ldw + g * 2)));
        __m256 acc = _mm256_setzero_ps();
        for (int f = 0; f < 4; f++)
          acc = _mm256_fmadd_ps(_mm256_loadu_ps(xp + i * ldx + g * 32 + f * 8),
                                field8(v, 2, f), acc);
        tot = _mm256_fmadd_ps(acc, _mm256_set1_ps(s[j * lds + g]), tot);
        bsum += b[j * lds + g] * xs[i * ldxs + g];
      }
      y[i * ldy + j] = hsum8(tot) + bsum;
    }
}

/* m <= 4 rows of x. */
static void qdot4(size_t m, size_t n, size_t k, int bits, size_t gs,
                  const uint32_t *w, size_t ldw, const float *s, const float *b,
                  size_t lds, const float *xp, size_t ldx, const float *xs,
                  size_t ldxs, float *y, size_t ldy) {
#define QDOT_M(M)                                                              \
  case M:                                                                      \
    if (bits == 4)                                                             \
      rows16_n(M, 4, n, k, gs, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);  \
    else if (bits == 8)                                                        \
      rows16_n(M, 8, n, k, gs, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);  \
    else                                                                       \
      rows16_n(M, 2, n, k, gs, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);  \
    break;
  switch (m) {
    QDOT_M(1)
    QDOT_M(2)
    QDOT_M(3)
    QDOT_M(4)
  default:
    break;
  }
#undef QDOT_M
}

void cmx_f32_qdot_ukr__avx2(size_t m, size_t n, size_t k, int bits, size_t gs,
                            const uint32_t *w, size_t ldw, const float *s,
                            const float *b, size_t lds, const float *xp,
                            size_t ldx, const float *xs, size_t ldxs, float *y,
                            size_t ldy) {
  if (bits == 2 && gs == 32) {
    rows8(m, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
    return;
  }
  for (size_t i = 0; i < m; i += 4)
    qdot4(m - i < 4 ? m - i : 4, n, k, bits, gs, w, ldw, s, b, lds,
          xp + i * ldx, ldx, xs + i * ldxs, ldxs, y + i * ldy, ldy);
}

/* 8 codes in element order from 8 (bits 8) or 4 (bits 4) bytes, or 16 from
 * 4 bytes (bits 2, two vectors), at p. */
INLINE void codes(const int BITS, const uint8_t *p, __m256 *q) {
  if (BITS == 8) {
    q[0] = _mm256_cvtepi32_ps(
        _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)));
    return;
  }
  int32_t word;
  memcpy(&word, p, 4);
  __m128i x = _mm_cvtsi32_si128(word);
  __m128i d = _mm_unpacklo_epi8(x, x); /* each byte twice */
  if (BITS == 4) {
    const __m256i sh = _mm256_set_epi32(4, 0, 4, 0, 4, 0, 4, 0);
    __m256i v = _mm256_srlv_epi32(_mm256_cvtepu8_epi32(d), sh);
    q[0] = _mm256_cvtepi32_ps(_mm256_and_si256(v, _mm256_set1_epi32(15)));
    return;
  }
  const __m256i sh = _mm256_set_epi32(6, 4, 2, 0, 6, 4, 2, 0);
  const __m256i three = _mm256_set1_epi32(3);
  __m128i e = _mm_unpacklo_epi16(d, d); /* each byte four times */
  q[0] = _mm256_cvtepi32_ps(
      _mm256_and_si256(_mm256_srlv_epi32(_mm256_cvtepu8_epi32(e), sh), three));
  q[1] = _mm256_cvtepi32_ps(_mm256_and_si256(
      _mm256_srlv_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(e, 8)), sh),
      three));
}

INLINE void deq_rows(const int BITS, size_t n, size_t k, size_t gs,
                     const uint32_t *w, size_t ldw, const float *s,
                     const float *b, size_t lds, float *out, size_t ldo) {
  const size_t unit = BITS == 8 ? 8 : 4;   /* bytes a step */
  const size_t nv = BITS == 2 ? 2 : 1;     /* vectors a step */
  const size_t upg = gs * BITS / 8 / unit; /* steps a group */
  for (size_t j = 0; j < n; j++) {
    const uint8_t *wb = (const uint8_t *)(w + j * ldw);
    float *o = out + j * ldo;
    for (size_t g = 0; g < k / gs; g++) {
      __m256 sv = _mm256_set1_ps(s[j * lds + g]);
      __m256 bv = _mm256_set1_ps(b[j * lds + g]);
      for (size_t u = 0; u < upg; u++) {
        __m256 q[2];
        codes(BITS, wb + (g * upg + u) * unit, q);
        for (size_t t = 0; t < nv; t++)
          _mm256_storeu_ps(o + ((g * upg + u) * nv + t) * 8,
                           _mm256_fmadd_ps(q[t], sv, bv));
      }
    }
  }
}

void cmx_f32_qdeq_ukr__avx2(size_t n, size_t k, int bits, size_t gs,
                            const uint32_t *w, size_t ldw, const float *s,
                            const float *b, size_t lds, float *out,
                            size_t ldo) {
  if (bits == 4)
    deq_rows(4, n, k, gs, w, ldw, s, b, lds, out, ldo);
  else if (bits == 8)
    deq_rows(8, n, k, gs, w, ldw, s, b, lds, out, ldo);
  else
    deq_rows(2, n, k, gs, w, ldw, s, b, lds, out, ldo);
}
