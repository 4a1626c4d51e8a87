/* f32 GEMM microkernel for AVX-512, 8 x 32 (contract in f32-gemm.h): the
 * skinny-A tile. 14x32 always runs 14 rows of FMAs, so m = 8 wastes 43% of
 * them and m = 32 (14 + 14 + 4) 24%; 8 rows tile m = 8, 16, 24, 32 exactly.
 * 16 zmm accumulators (>= 8 chains for 4-cycle FMA latency at 2/cycle),
 * per step 2 B loads + 8 broadcasts of A for 16 FMAs: FMA-bound.
 * Unpacked B (the skinny path streams B from memory unpacked, kc rows at a
 * time): each step also prefetches the same B row 64 columns (two tiles)
 * to the right, the tile the driver runs after the next one. The driver
 * touches kc rows at once, more streams than the L2 prefetcher tracks.
 * Edges: masked loads/stores (AVX-512 mask registers).
 * Unpacked A (aux->lda, full tiles; the tail tiles of the small-k path):
 * row i broadcast from r[i / 3] + (i % 3) lda, as in 14x32. */
#include <immintrin.h>

#include "kernels/f32-gemm/f32-gemm-tile-avx512.h"

#define MR 8
#define NR 32
#define PF_AHEAD 64 /* columns: two tiles to the right */


static inline __attribute__((always_inline)) void
body(size_t m, size_t n, size_t k, const float *a, const float *b,
     size_t ldb, int unpacked, int bmask, int direct, size_t lda, float *c,
     size_t ldc, const struct cmx_f32_gemm_aux *aux) {
  const float *r[3]; /* unpacked A: rows 3u, 3u + 1, 3u + 2 */
#pragma GCC unroll 3
  for (int u = 0; u < 3; u++) r[u] = a + 3 * (size_t)u * lda;
  __m512 acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
    acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  __mmask16 m0 = cmx_tile_lanes(n);
  __mmask16 m1 = cmx_tile_lanes(n > 16 ? n - 16 : 0);
  if (aux->a_next) _mm_prefetch((const char *)aux->a_next, _MM_HINT_T0);
  /* Packed B (the tail tiles of taller A): C rows prefetched as in 14x32.
   * Unpacked (skinny) B: the load ports are busier, C is small and hot. */
  size_t pre = unpacked ? 0 : cmx_tile_pf_rows(m, k);
  for (size_t i = pre; i < m && !unpacked; i++)
    cmx_tile_pf_row(c + i * ldc, n);
  size_t pi = 0, pn = 0; /* next row to fetch, at step pn */
  /* Two k steps an iteration, as in 14x32: 16x4096x4112 (the skinny path)
   * 131-133 -> 139 GFLOP/s on 1 thread. (AVX2's 6x16 measured 1-2%
   * slower so: it keeps one.) */
#pragma GCC unroll 2
  for (size_t p = 0; p < k; p++) {
    __m512 b0, b1;
    if (p == pn && pi < pre) {
      cmx_tile_pf_row(c + pi * ldc, n);
      pi++, pn += CMX_TILE_PF_STEP;
    }
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
      __m512 ai = _mm512_set1_ps(direct ? r[i / 3][(size_t)(i % 3) * lda]
                                        : a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    if (direct) {
#pragma GCC unroll 3
      for (int u = 0; u < 3; u++) r[u]++;
    } else {
      a += MR;
    }
    b += ldb;
  }
  cmx_tile_store_x32(MR, 2, acc, m, n, c, ldc, aux);
}

void cmx_f32_gemm_ukr_8x32__avx512(size_t m, size_t n, size_t k,
                                   const float *a, const float *b, float *c,
                                   size_t ldc,
                                   const struct cmx_f32_gemm_aux *aux) {
  size_t lda = aux->lda;
  if (lda && !aux->ldb)
    body(m, n, k, a, b, NR, 0, 0, 1, lda, c, ldc, aux);
  else if (lda && n < NR)
    body(m, n, k, a, b, aux->ldb, 1, 1, 1, lda, c, ldc, aux);
  else if (lda)
    body(m, n, k, a, b, aux->ldb, 1, 0, 1, lda, c, ldc, aux);
  else if (!aux->ldb)
    body(m, n, k, a, b, NR, 0, 0, 0, 0, c, ldc, aux);
  else if (n < NR)
    body(m, n, k, a, b, aux->ldb, 1, 1, 0, 0, c, ldc, aux);
  else
    body(m, n, k, a, b, aux->ldb, 1, 0, 0, 0, c, ldc, aux);
}
