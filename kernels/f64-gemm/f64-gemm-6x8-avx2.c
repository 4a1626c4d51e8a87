/* f64 GEMM microkernel for AVX2 + FMA, 6 x 8 (contract in f64-gemm.h).
 * 12 ymm accumulators (6 rows x 2 vectors of 4 doubles) + 2 for B + 1
 * broadcast of 16 registers: 12 FMAs per 2 loads and 6 broadcasts, and 12
 * independent chains cover the FMA latency x throughput (4 x 2 = 8). The
 * f32 6x16 tile with half the lanes. Edges: masked loads and stores. */
#include <immintrin.h>

#include "kernels/f64-gemm/f64-gemm.h"

#define MR 6
#define NR 8

static inline __m256i lanes(size_t n) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(n > 4 ? 4 : n)),
                            _mm256_setr_epi64x(0, 1, 2, 3));
}

void cmx_f64_gemm_ukr_6x8__avx2(size_t m, size_t n, size_t k,
                                const double *a, const double *b, double *c,
                                size_t ldc,
                                const struct cmx_f64_gemm_aux *aux) {
  __m256d acc[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_pd();
  /* Two k steps an iteration and the A panel fetched 8 steps ahead, as
   * the AVX-512 tiles (CMX_ISA=avx2, 1 thread, GFLOP/s: 1024^3 43-46 ->
   * 47, 2048^3 39 -> 40-41). */
#pragma GCC unroll 2
  for (size_t p = 0; p < k; p++) {
    __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      __m256d ai = _mm256_broadcast_sd(a + i);
      acc[i][0] = _mm256_fmadd_pd(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_pd(ai, b1, acc[i][1]);
    }
    _mm_prefetch((const char *)(a + 8 * MR), _MM_HINT_T0);
    a += MR;
    b += NR;
  }
  __m256d alpha = _mm256_set1_pd(aux->alpha), beta = _mm256_set1_pd(aux->beta);
  int rd = aux->beta != 0.0;
  if (m == MR && n == NR) {
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      double *ci = c + i * ldc;
      __m256d r0 = _mm256_mul_pd(alpha, acc[i][0]);
      __m256d r1 = _mm256_mul_pd(alpha, acc[i][1]);
      if (rd) {
        r0 = _mm256_fmadd_pd(beta, _mm256_loadu_pd(ci), r0);
        r1 = _mm256_fmadd_pd(beta, _mm256_loadu_pd(ci + 4), r1);
      }
      _mm256_storeu_pd(ci, r0);
      _mm256_storeu_pd(ci + 4, r1);
    }
    return;
  }
  __m256i m0 = lanes(n), m1 = lanes(n > 4 ? n - 4 : 0);
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    if ((size_t)i < m) {
      double *ci = c + i * ldc;
      __m256d r0 = _mm256_mul_pd(alpha, acc[i][0]);
      __m256d r1 = _mm256_mul_pd(alpha, acc[i][1]);
      if (rd) {
        r0 = _mm256_fmadd_pd(beta, _mm256_maskload_pd(ci, m0), r0);
        r1 = _mm256_fmadd_pd(beta, _mm256_maskload_pd(ci + 4, m1), r1);
      }
      _mm256_maskstore_pd(ci, m0, r0);
      _mm256_maskstore_pd(ci + 4, m1, r1);
    }
  }
}
