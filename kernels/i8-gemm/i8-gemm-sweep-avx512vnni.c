/* int8 row sweeps for short A against a row-major B (contract in
 * i8-gemm.h, cfg->sweep): B is read unpacked, 16 of its rows at a time,
 * each row left to right, so the hardware prefetcher sees 16 sequential
 * streams. Each 64-column chunk of four consecutive rows is interleaved
 * into k-quads in registers (vpunpck{l,h}bw, then {l,h}wd, within 128-bit
 * lanes), made unsigned by adding 128 (xor 0x80), and meets each row of A
 * with one vpdpbusd a quad and vector against the quad of A broadcast
 * ({1to16}); -128 (sum of A's row) is added once at the end:
 *   sum (b + 128) a - 128 sum a = sum a b   (all modulo 2^32).
 * Between sweeps the partial sums of a full chunk live in C in the
 * interleaved order (vector s, lane 4 L + u holds column 16 L + 4 s + u);
 * the last step puts them in column order (a transpose of 128-bit blocks)
 * as it subtracts the correction. The last chunk, narrower than 64
 * columns, goes down all of k at once with masked loads, its sums in
 * registers. A's bytes past k read as zero, so B's rows past k (zero
 * vectors, never loaded) count for nothing. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "kernels/i8-gemm/i8-gemm.h"

#define SWEEP_ROWS 16

#define INL static inline __attribute__((always_inline))

/* The quad of A's row at p (bytes past k zero), as a 32-bit word. */
INL int32_t a_quad(const int8_t *a, size_t p, size_t k) {
  uint8_t q[4] = {0, 0, 0, 0};
  memcpy(q, a + p, k - p < 4 ? k - p : 4);
  int32_t w;
  memcpy(&w, q, 4);
  return w;
}

/* Rows p..p+3 of B at column chunk b (64 bytes, lanes past mask zero;
 * rows past k zero) as four vectors of k-quads, made unsigned. */
INL void quads(const int8_t *b, size_t ldb, size_t p, size_t k, __mmask64 mask,
               __m512i q[4]) {
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  __m512i r[4];
#pragma GCC unroll 4
  for (int u = 0; u < 4; u++)
    r[u] = p + (size_t)u < k
               ? _mm512_maskz_loadu_epi8(mask, b + (p + (size_t)u) * ldb)
               : _mm512_setzero_si512();
  const __m512i t0 = _mm512_unpacklo_epi8(r[0], r[1]);
  const __m512i t1 = _mm512_unpackhi_epi8(r[0], r[1]);
  const __m512i t2 = _mm512_unpacklo_epi8(r[2], r[3]);
  const __m512i t3 = _mm512_unpackhi_epi8(r[2], r[3]);
  q[0] = _mm512_xor_si512(_mm512_unpacklo_epi16(t0, t2), flip);
  q[1] = _mm512_xor_si512(_mm512_unpackhi_epi16(t0, t2), flip);
  q[2] = _mm512_xor_si512(_mm512_unpacklo_epi16(t1, t3), flip);
  q[3] = _mm512_xor_si512(_mm512_unpackhi_epi16(t1, t3), flip);
}

/* Vectors acc[0..3] of one chunk into column order: out[L] holds columns
 * 16 L .. 16 L + 15, block s of it block L of acc[s]. */
INL void columns(const __m512i acc[4], __m512i out[4]) {
  const __m512i x0 = _mm512_shuffle_i32x4(acc[0], acc[1], 0x44);
  const __m512i x1 = _mm512_shuffle_i32x4(acc[0], acc[1], 0xee);
  const __m512i x2 = _mm512_shuffle_i32x4(acc[2], acc[3], 0x44);
  const __m512i x3 = _mm512_shuffle_i32x4(acc[2], acc[3], 0xee);
  out[0] = _mm512_shuffle_i32x4(x0, x2, 0x88);
  out[1] = _mm512_shuffle_i32x4(x0, x2, 0xdd);
  out[2] = _mm512_shuffle_i32x4(x1, x3, 0x88);
  out[3] = _mm512_shuffle_i32x4(x1, x3, 0xdd);
}

INL void sweep(const int M, size_t k, const int8_t *a, size_t lda,
               const int32_t *asum, const int8_t *b, size_t ldb, size_t n,
               int32_t *c, size_t ldc) {
  const size_t full = n / 64 * 64;
  /* full chunks: 16 rows of B a sweep, partial sums kept in C */
  for (size_t p0 = 0; p0 < k; p0 += SWEEP_ROWS) {
    const size_t pe = k - p0 < SWEEP_ROWS ? k : p0 + SWEEP_ROWS;
    int32_t aq[4][SWEEP_ROWS / 4];
#pragma GCC unroll 4
    for (int i = 0; i < M; i++)
      for (size_t p = p0; p < pe; p += 4)
        aq[i][(p - p0) / 4] = a_quad(a + i * lda, p, k);
    for (size_t j = 0; j < full; j += 64) {
      __m512i acc[4][4];
#pragma GCC unroll 4
      for (int i = 0; i < M; i++)
#pragma GCC unroll 4
        for (int s = 0; s < 4; s++)
          acc[i][s] = p0 ? _mm512_loadu_si512(c + i * ldc + j + 16 * s)
                         : _mm512_setzero_si512();
      for (size_t p = p0; p < pe; p += 4) {
        __m512i q[4];
        quads(b + j, ldb, p, k, ~(__mmask64)0, q);
#pragma GCC unroll 4
        for (int i = 0; i < M; i++) {
          const __m512i av = _mm512_set1_epi32(aq[i][(p - p0) / 4]);
#pragma GCC unroll 4
          for (int s = 0; s < 4; s++)
            acc[i][s] = _mm512_dpbusd_epi32(acc[i][s], q[s], av);
        }
      }
#pragma GCC unroll 4
      for (int i = 0; i < M; i++)
#pragma GCC unroll 4
        for (int s = 0; s < 4; s++)
          _mm512_storeu_si512(c + i * ldc + j + 16 * s, acc[i][s]);
    }
  }
  /* full chunks into column order, less the correction */
#pragma GCC unroll 4
  for (int i = 0; i < M; i++) {
    const __m512i fix = _mm512_set1_epi32((int32_t)(128u * (uint32_t)asum[i]));
    for (size_t j = 0; j < full; j += 64) {
      __m512i acc[4], out[4];
#pragma GCC unroll 4
      for (int s = 0; s < 4; s++)
        acc[s] = _mm512_loadu_si512(c + i * ldc + j + 16 * s);
      columns(acc, out);
#pragma GCC unroll 4
      for (int s = 0; s < 4; s++)
        _mm512_storeu_si512(c + i * ldc + j + 16 * s,
                            _mm512_sub_epi32(out[s], fix));
    }
  }
  if (full == n) return;
  /* the last, narrower chunk: all of k, sums in registers */
  const size_t w = n - full;
  const __mmask64 mask = ~(__mmask64)0 >> (64 - w);
  __m512i acc[4][4];
#pragma GCC unroll 4
  for (int i = 0; i < M; i++)
#pragma GCC unroll 4
    for (int s = 0; s < 4; s++) acc[i][s] = _mm512_setzero_si512();
  for (size_t p = 0; p < k; p += 4) {
    __m512i q[4];
    quads(b + full, ldb, p, k, mask, q);
#pragma GCC unroll 4
    for (int i = 0; i < M; i++) {
      const __m512i av = _mm512_set1_epi32(a_quad(a + i * lda, p, k));
#pragma GCC unroll 4
      for (int s = 0; s < 4; s++)
        acc[i][s] = _mm512_dpbusd_epi32(acc[i][s], q[s], av);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < M; i++) {
    const __m512i fix = _mm512_set1_epi32((int32_t)(128u * (uint32_t)asum[i]));
    __m512i out[4];
    columns(acc[i], out);
#pragma GCC unroll 4
    for (int s = 0; s < 4; s++) {
      const size_t lo = 16 * (size_t)s;
      if (lo >= w) break;
      const __mmask16 lanes =
          w - lo >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (w - lo)) - 1);
      _mm512_mask_storeu_epi32(c + i * ldc + full + lo, lanes,
                               _mm512_sub_epi32(out[s], fix));
    }
  }
}

void cmx_i8_gemm_sweep__avx512vnni(size_t m, size_t k, const int8_t *a,
                                   size_t lda, const int32_t *asum,
                                   const int8_t *b, size_t ldb, size_t n,
                                   int32_t *c, size_t ldc) {
  switch (m) {
    case 1: sweep(1, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 2: sweep(2, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 3: sweep(3, k, a, lda, asum, b, ldb, n, c, ldc); break;
    default: sweep(4, k, a, lda, asum, b, ldb, n, c, ldc); break;
  }
}
