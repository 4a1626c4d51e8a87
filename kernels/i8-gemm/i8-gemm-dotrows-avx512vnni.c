/* int8 row dots for short A against a B with k contiguous (contract in
 * i8-gemm.h, cfg->dotrows): m <= 12 rows of A meet each row of B^T in
 * turn, 64 k a step: B's bytes made unsigned by adding 128 (xor 0x80), one
 * vpdpbusd a row of A, A's lanes past k zero (so B's are never counted),
 * and -128 (sum of A's row) added once at the end:
 *   sum (b + 128) a - 128 sum a = sum a b   (all modulo 2^32).
 * B streams once, in its own order, with no packing. */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/i8-gemm/i8-gemm.h"

static inline __attribute__((always_inline)) void
rows(const int M, size_t k, const int8_t *a, size_t lda, const int32_t *asum,
     const int8_t *b, size_t ldb, size_t n, int32_t *c, size_t ldc) {
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  for (size_t j = 0; j < n; j++) {
    const int8_t *bj = b + j * ldb;
    __m512i acc[12];
#pragma GCC unroll 12
    for (int i = 0; i < M; i++) acc[i] = _mm512_setzero_si512();
    size_t p = 0;
    for (; p + 64 <= k; p += 64) {
      __m512i bv = _mm512_xor_si512(_mm512_loadu_si512(bj + p), flip);
#pragma GCC unroll 12
      for (int i = 0; i < M; i++)
        acc[i] = _mm512_dpbusd_epi32(acc[i], bv,
                                     _mm512_loadu_si512(a + i * lda + p));
    }
    if (p < k) {
      const __mmask64 t = (__mmask64)-1 >> (64 - (k - p));
      __m512i bv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(t, bj + p), flip);
#pragma GCC unroll 12
      for (int i = 0; i < M; i++)
        acc[i] = _mm512_dpbusd_epi32(
            acc[i], bv, _mm512_maskz_loadu_epi8(t, a + i * lda + p));
    }
#pragma GCC unroll 12
    for (int i = 0; i < M; i++)
      c[i * ldc + j] = (int32_t)((uint32_t)_mm512_reduce_add_epi32(acc[i]) -
                                 128u * (uint32_t)asum[i]);
  }
}

void cmx_i8_gemm_dotrows__avx512vnni(size_t m, size_t k, const int8_t *a,
                                     size_t lda, const int32_t *asum,
                                     const int8_t *b, size_t ldb, size_t n,
                                     int32_t *c, size_t ldc) {
  switch (m) {
    case 1: rows(1, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 2: rows(2, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 3: rows(3, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 4: rows(4, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 5: rows(5, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 6: rows(6, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 7: rows(7, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 8: rows(8, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 9: rows(9, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 10: rows(10, k, a, lda, asum, b, ldb, n, c, ldc); break;
    case 11: rows(11, k, a, lda, asum, b, ldb, n, c, ldc); break;
    default: rows(12, k, a, lda, asum, b, ldb, n, c, ldc); break;
  }
}
