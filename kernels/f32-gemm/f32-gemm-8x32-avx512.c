/* f32 GEMM microkernel for AVX-512, 8 x 32 (contract in f32-gemm.h): the
 * skinny-A tile. 14x32 always runs 14 rows of FMAs, so m = 8 wastes 43% of
 * them and m = 32 (14 + 14 + 4) 24%; 8 rows tile m = 8, 16, 24, 32 exactly.
 * 16 zmm accumulators (>= 8 chains for 4-cycle FMA latency at 2/cycle),
 * per step 2 B loads + 8 broadcasts of A for 16 FMAs: FMA-bound.
 * Unpacked B (the skinny path streams B from memory unpacked, kc rows at a
 * time): each step also prefetches the same B row 64 columns (two tiles)
 * to the right, the tile the driver runs after the next one. The driver
 * touches kc rows at once, more streams than the L2 prefetcher tracks.
 * Edges: masked loads/stores (AVX-512 mask registers). */
#include <immintrin.h>

#include "kernels/f32-gemm/f32-gemm.h"

#define MR 8
#define NR 32
#define PF_AHEAD 64 /* columns: two tiles to the right */

static inline __mmask16 lanes(size_t n) {
  return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

static inline __attribute__((always_inline)) void
body(size_t m, size_t n, size_t k, const float *a, const float *b,
     size_t ldb, int unpacked, int bmask, float *c, size_t ldc,
     const struct cmx_f32_gemm_aux *aux) {
  __m512 acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
    acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  __mmask16 m0 = lanes(n), m1 = lanes(n > 16 ? n - 16 : 0);
  if (aux->a_next) _mm_prefetch((const char *)aux->a_next, _MM_HINT_T0);
  for (size_t p = 0; p < k; p++) {
    __m512 b0, b1;
    if (unpacked) {
      _mm_prefetch((const char *)(b + PF_AHEAD), _MM_HINT_T0);
      _mm_prefetch((const char *)(b + PF_AHEAD + 16), _MM_HINT_T0);
    }
    if (bmask) {
      b0 = _mm512_maskz_loadu_ps(m0, b);
      b1 = _mm512_maskz_loadu_ps(m1, b + 16);
    } else {
      b0 = _mm512_loadu_ps(b);
      b1 = _mm512_loadu_ps(b + 16);
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += MR;
    b += ldb;
  }
  __m512 alpha = _mm512_set1_ps(aux->alpha), beta = _mm512_set1_ps(aux->beta);
  int rd = aux->beta != 0.0f;
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    if ((size_t)i < m) {
      float *ci = c + i * ldc;
      __m512 r0 = _mm512_mul_ps(alpha, acc[i][0]);
      __m512 r1 = _mm512_mul_ps(alpha, acc[i][1]);
      if (rd) {
        r0 = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(m0, ci), r0);
        r1 = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(m1, ci + 16), r1);
      }
      _mm512_mask_storeu_ps(ci, m0, r0);
      _mm512_mask_storeu_ps(ci + 16, m1, r1);
    }
  }
}

void cmx_f32_gemm_ukr_8x32__avx512(size_t m, size_t n, size_t k,
                                   const float *a, const float *b, float *c,
                                   size_t ldc,
                                   const struct cmx_f32_gemm_aux *aux) {
  if (!aux->ldb)
    body(m, n, k, a, b, NR, 0, 0, c, ldc, aux);
  else if (n < NR)
    body(m, n, k, a, b, aux->ldb, 1, 1, c, ldc, aux);
  else
    body(m, n, k, a, b, aux->ldb, 1, 0, c, ldc, aux);
}
