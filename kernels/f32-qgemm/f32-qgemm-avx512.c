/* AVX-512 quantised GEMM microkernels (contracts in f32-qgemm.h).
 * qdot: a 16-byte chunk of W is widened to 16 dword lanes once (vpmovzxbd)
 * and each of its 8 / bits fields is masked out, converted to f32 and
 * multiplied into the x vector of the same field (the chunk-permuted x
 * layout), so no code is ever shuffled into element order. Up to four rows
 * of W share each load of x; per group the lane sums are scaled into a
 * total, and the bias terms (bias . group sums of x) join it before the
 * one horizontal sum. qdeq: codes are put into element order with byte
 * unpacks and per-lane shifts (vpsrlvd), then s * q + b by one FMA. */
#include <immintrin.h>

#include "kernels/f32-qgemm/f32-qgemm.h"

#define INLINE static inline __attribute__((always_inline))

/* Field f of 16 bytes widened to dwords in v (f < 8 / BITS). */
INLINE __m512 field16(__m512i v, const int BITS, const int f) {
  const int E = 8 / BITS;
  __m512i q = f ? _mm512_srli_epi32(v, f * BITS) : v;
  if (E > 1 && f < E - 1)
    q = _mm512_and_si512(q, _mm512_set1_epi32((1 << BITS) - 1));
  return _mm512_cvtepi32_ps(q);
}

/* J rows of W against M rows of x, chunks of 16 bytes (C = 16), CPG
 * chunks a group. CPG is a constant, so a group's chunks unroll: with a
 * loop over them (2 chunks a group at 4 bits, g64) the loop and the row
 * pointers, spilled, took most of the time (1 thread, 4096^2: 27 GB/s). */
INLINE void rows16(const int M, const int J, const int BITS, const int CPG,
                   size_t k, const uint32_t *w, size_t ldw, const float *s,
                   const float *b, size_t lds, const float *xp, size_t ldx,
                   const float *xs, size_t ldxs, float *y, size_t ldy) {
  const int E = 8 / BITS;
  const size_t ng = k / ((size_t)CPG * 128 / BITS);
  const uint8_t *wj[4];
  const float *sj[4];
#pragma GCC unroll 4
  for (int j = 0; j < J; j++) {
    wj[j] = (const uint8_t *)(w + j * ldw);
    sj[j] = s + j * lds;
  }
  __m512 tot[8][4];
#pragma GCC unroll 8
  for (int i = 0; i < M; i++)
#pragma GCC unroll 4
    for (int j = 0; j < J; j++) tot[i][j] = _mm512_setzero_ps();
  for (size_t g = 0; g < ng; g++) {
    /* Two accumulators a row pair, by field parity (by chunk parity at 8
     * bits), so more FMA chains run at once. */
    __m512 acc[8][4][2];
#pragma GCC unroll 8
    for (int i = 0; i < M; i++)
#pragma GCC unroll 4
      for (int j = 0; j < J; j++)
        acc[i][j][0] = acc[i][j][1] = _mm512_setzero_ps();
    const float *xg = xp + g * CPG * 16 * (size_t)E;
#pragma GCC unroll 8
    for (int u = 0; u < CPG; u++) {
      __m512i v[4];
#pragma GCC unroll 4
      for (int j = 0; j < J; j++)
        v[j] = _mm512_cvtepu8_epi32(_mm_loadu_si128(
            (const __m128i *)(wj[j] + (g * CPG + (size_t)u) * 16)));
#pragma GCC unroll 4
      for (int f = 0; f < E; f++) {
        __m512 q[4];
#pragma GCC unroll 4
        for (int j = 0; j < J; j++) q[j] = field16(v[j], BITS, f);
        const int h = E > 1 ? f & 1 : u & 1;
#pragma GCC unroll 8
        for (int i = 0; i < M; i++) {
          __m512 xv = _mm512_loadu_ps(xg + i * ldx + (u * E + f) * 16);
#pragma GCC unroll 4
          for (int j = 0; j < J; j++)
            acc[i][j][h] = _mm512_fmadd_ps(xv, q[j], acc[i][j][h]);
        }
      }
    }
#pragma GCC unroll 4
    for (int j = 0; j < J; j++) {
      __m512 sv = _mm512_set1_ps(sj[j][g]);
#pragma GCC unroll 8
      for (int i = 0; i < M; i++)
        tot[i][j] = _mm512_fmadd_ps(_mm512_add_ps(acc[i][j][0], acc[i][j][1]),
                                    sv, tot[i][j]);
    }
  }
  /* bias . group sums, 16 groups a step */
  for (size_t g = 0; g < ng; g += 16) {
    __mmask16 mk = ng - g >= 16 ? 0xffff : (__mmask16)((1u << (ng - g)) - 1);
#pragma GCC unroll 4
    for (int j = 0; j < J; j++) {
      __m512 bv = _mm512_maskz_loadu_ps(mk, b + j * lds + g);
#pragma GCC unroll 8
      for (int i = 0; i < M; i++)
        tot[i][j] = _mm512_fmadd_ps(
            bv, _mm512_maskz_loadu_ps(mk, xs + i * ldxs + g), tot[i][j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < M; i++)
#pragma GCC unroll 4
    for (int j = 0; j < J; j++)
      y[i * ldy + j] = _mm512_reduce_add_ps(tot[i][j]);
}

/* All n rows: J = 4 / 2 / 1 rows of W a step as registers allow (32 zmm:
 * 3 M J accumulators and totals, J codes, J widened chunks). */
INLINE void rows16_n(const int M, const int BITS, const int CPG, size_t n,
                     size_t k, const uint32_t *w, size_t ldw, const float *s,
                     const float *b, size_t lds, const float *xp, size_t ldx,
                     const float *xs, size_t ldxs, float *y, size_t ldy) {
  const int J = M == 1 ? 4 : M <= 4 ? 2 : 1;
  size_t j = 0;
  for (; j + J <= n; j += J)
    rows16(M, J, BITS, CPG, k, w + j * ldw, ldw, s + j * lds, b + j * lds, lds,
           xp, ldx, xs, ldxs, y + j, ldy);
  for (; j < n; j++)
    rows16(M, 1, BITS, CPG, k, w + j * ldw, ldw, s + j * lds, b + j * lds, lds,
           xp, ldx, xs, ldxs, y + j, ldy);
}

/* One M: the chunks a group (gs bits / 128) as a constant. */
INLINE void rows16_m(const int M, int bits, size_t gs, size_t n, size_t k,
                     const uint32_t *w, size_t ldw, const float *s,
                     const float *b, size_t lds, const float *xp, size_t ldx,
                     const float *xs, size_t ldxs, float *y, size_t ldy) {
  switch (gs * (size_t)bits / 128) {
    case 1:
      if (bits == 4)
        rows16_n(M, 4, 1, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      else
        rows16_n(M, 2, 1, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      break;
    case 2:
      if (bits == 8)
        rows16_n(M, 8, 2, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      else if (bits == 4)
        rows16_n(M, 4, 2, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      else
        rows16_n(M, 2, 2, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      break;
    case 4:
      if (bits == 8)
        rows16_n(M, 8, 4, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      else
        rows16_n(M, 4, 4, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      break;
    default: /* 8 bits, groups of 128 */
      rows16_n(M, 8, 8, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
  }
}

/* bits 2, groups of 32: 8-byte chunks (C = 8), in ymm; a rare format. */
static void rows8(size_t m, size_t n, size_t k, const uint32_t *w, size_t ldw,
                  const float *s, const float *b, size_t lds, const float *xp,
                  size_t ldx, const float *xs, size_t ldxs, float *y,
                  size_t ldy) {
  const size_t ng = k / 32;
  const __m256i three = _mm256_set1_epi32(3);
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < m; i++) {
      __m256 tot = _mm256_setzero_ps();
      float bsum = 0.0f;
      for (size_t g = 0; g < ng; g++) {
        __m256i v = _mm256_cvtepu8_epi32(
            _mm_loadl_epi64((const __m128i *)(w + j * ldw + g * 2)));
        __m256 acc = _mm256_setzero_ps();
        for (int f = 0; f < 4; f++) {
          __m256 q = _mm256_cvtepi32_ps(
              _mm256_and_si256(_mm256_srli_epi32(v, 2 * f), three));
          acc = _mm256_fmadd_ps(_mm256_loadu_ps(xp + i * ldx + g * 32 + f * 8),
                                q, acc);
        }
        tot = _mm256_fmadd_ps(acc, _mm256_set1_ps(s[j * lds + g]), tot);
        bsum += b[j * lds + g] * xs[i * ldxs + g];
      }
      __m128 h = _mm_add_ps(_mm256_castps256_ps128(tot),
                            _mm256_extractf128_ps(tot, 1));
      h = _mm_add_ps(h, _mm_movehl_ps(h, h));
      h = _mm_add_ss(h, _mm_movehdup_ps(h));
      y[i * ldy + j] = _mm_cvtss_f32(h) + bsum;
    }
}

void cmx_f32_qdot_ukr__avx512(size_t m, size_t n, size_t k, int bits, size_t gs,
                              const uint32_t *w, size_t ldw, const float *s,
                              const float *b, size_t lds, const float *xp,
                              size_t ldx, const float *xs, size_t ldxs,
                              float *y, size_t ldy) {
  if (bits == 2 && gs == 32) {
    rows8(m, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
    return;
  }
  switch (m) {
    case 1:
      rows16_m(1, bits, gs, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      break;
    case 2:
      rows16_m(2, bits, gs, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      break;
    case 3:
      rows16_m(3, bits, gs, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      break;
    case 4:
      rows16_m(4, bits, gs, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      break;
    case 5:
      rows16_m(5, bits, gs, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      break;
    case 6:
      rows16_m(6, bits, gs, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      break;
    case 7:
      rows16_m(7, bits, gs, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      break;
    case 8:
      rows16_m(8, bits, gs, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
      break;
    default:
      break;
  }
}

/* 16 codes in element order from 16 (bits 8) or 8 (bits 4) bytes, or 32
 * from 8 bytes (bits 2, two vectors), at p. */
INLINE void codes(const int BITS, const uint8_t *p, __m512 *q) {
  if (BITS == 8) {
    q[0] = _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p)));
    return;
  }
  __m128i x = _mm_loadl_epi64((const __m128i *)p);
  __m128i d = _mm_unpacklo_epi8(x, x); /* each byte twice */
  if (BITS == 4) {
    const __m512i sh =
        _mm512_set_epi32(4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0);
    __m512i v = _mm512_srlv_epi32(_mm512_cvtepu8_epi32(d), sh);
    q[0] = _mm512_cvtepi32_ps(_mm512_and_si512(v, _mm512_set1_epi32(15)));
    return;
  }
  const __m512i sh =
      _mm512_set_epi32(6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0);
  const __m512i three = _mm512_set1_epi32(3);
  __m128i d0 = _mm_unpacklo_epi16(d, d), d1 = _mm_unpackhi_epi16(d, d);
  q[0] = _mm512_cvtepi32_ps(
      _mm512_and_si512(_mm512_srlv_epi32(_mm512_cvtepu8_epi32(d0), sh), three));
  q[1] = _mm512_cvtepi32_ps(
      _mm512_and_si512(_mm512_srlv_epi32(_mm512_cvtepu8_epi32(d1), sh), three));
}

INLINE void deq_rows(const int BITS, size_t n, size_t k, size_t gs,
                     const uint32_t *w, size_t ldw, const float *s,
                     const float *b, size_t lds, float *out, size_t ldo) {
  const size_t unit = BITS == 8 ? 16 : 8;  /* bytes a step */
  const size_t nv = BITS == 2 ? 2 : 1;     /* vectors a step */
  const size_t upg = gs * BITS / 8 / unit; /* steps a group */
  for (size_t j = 0; j < n; j++) {
    const uint8_t *wb = (const uint8_t *)(w + j * ldw);
    float *o = out + j * ldo;
    for (size_t g = 0; g < k / gs; g++) {
      __m512 sv = _mm512_set1_ps(s[j * lds + g]);
      __m512 bv = _mm512_set1_ps(b[j * lds + g]);
      for (size_t u = 0; u < upg; u++) {
        __m512 q[2];
        codes(BITS, wb + (g * upg + u) * unit, q);
        for (size_t t = 0; t < nv; t++)
          _mm512_storeu_ps(o + ((g * upg + u) * nv + t) * 16,
                           _mm512_fmadd_ps(q[t], sv, bv));
      }
    }
  }
}

void cmx_f32_qdeq_ukr__avx512(size_t n, size_t k, int bits, size_t gs,
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
