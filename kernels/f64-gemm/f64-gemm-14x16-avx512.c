/* f64 GEMM microkernel for AVX-512, 14 x 16 (contract in f64-gemm.h).
 * 28 zmm accumulators (14 rows x 2 vectors of 8 doubles) + 2 for B + 1-2
 * broadcasts use the 32 registers: 28 FMAs per 2 loads and 14 broadcasts,
 * so FMA issue bounds it (the f32 14x32 tile with half the lanes).
 * Edges: masked loads and stores. */
#include <immintrin.h>

#include "kernels/f64-gemm/f64-gemm.h"

#define MR 14
#define NR 16

static inline __mmask8 lanes(size_t n) {
  return n >= 8 ? (__mmask8)0xff : (__mmask8)((1u << n) - 1u);
}

void cmx_f64_gemm_ukr_14x16__avx512(size_t m, size_t n, size_t k,
                                    const double *a, const double *b,
                                    double *c, size_t ldc,
                                    const struct cmx_f64_gemm_aux *aux) {
  __m512d acc[MR][2];
#pragma GCC unroll 14
  for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_pd();
  /* Two k steps an iteration (the scalar updates share ports 0 and 5 with
   * the FMAs) and the A panel, streamed from L2 at 112 bytes a step,
   * fetched 8 steps ahead, as the f32 14x32 does. 2-core Xeon VM,
   * interleaved, GFLOP/s: 1 thread 1024^3 68-69 -> 76-80 (unrolling alone
   * 73-74), 2048^3 66 -> 73-74, 256^3 75 -> 81-83; 2 threads 1024^3 139 ->
   * 153. */
#pragma GCC unroll 2
  for (size_t p = 0; p < k; p++) {
    __m512d b0 = _mm512_loadu_pd(b), b1 = _mm512_loadu_pd(b + 8);
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
      __m512d ai = _mm512_set1_pd(a[i]);
      acc[i][0] = _mm512_fmadd_pd(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_pd(ai, b1, acc[i][1]);
    }
    _mm_prefetch((const char *)(a + 8 * MR), _MM_HINT_T0);
    a += MR;
    b += NR;
  }
  __m512d alpha = _mm512_set1_pd(aux->alpha), beta = _mm512_set1_pd(aux->beta);
  int rd = aux->beta != 0.0;
  if (m == MR && n == NR) {
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
      double *ci = c + i * ldc;
      __m512d r0 = _mm512_mul_pd(alpha, acc[i][0]);
      __m512d r1 = _mm512_mul_pd(alpha, acc[i][1]);
      if (rd) {
        r0 = _mm512_fmadd_pd(beta, _mm512_loadu_pd(ci), r0);
        r1 = _mm512_fmadd_pd(beta, _mm512_loadu_pd(ci + 8), r1);
      }
      _mm512_storeu_pd(ci, r0);
      _mm512_storeu_pd(ci + 8, r1);
    }
    return;
  }
  __mmask8 m0 = lanes(n), m1 = lanes(n > 8 ? n - 8 : 0);
#pragma GCC unroll 14
  for (int i = 0; i < MR; i++) {
    if ((size_t)i < m) {
      double *ci = c + i * ldc;
      __m512d r0 = _mm512_mul_pd(alpha, acc[i][0]);
      __m512d r1 = _mm512_mul_pd(alpha, acc[i][1]);
      if (rd) {
        r0 = _mm512_fmadd_pd(beta, _mm512_maskz_loadu_pd(m0, ci), r0);
        r1 = _mm512_fmadd_pd(beta, _mm512_maskz_loadu_pd(m1, ci + 8), r1);
      }
      _mm512_mask_storeu_pd(ci, m0, r0);
      _mm512_mask_storeu_pd(ci + 8, m1, r1);
    }
  }
}
