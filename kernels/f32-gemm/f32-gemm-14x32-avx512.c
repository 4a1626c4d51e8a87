/* f32 GEMM microkernel for AVX-512, 14 x 32 (contract in f32-gemm.h).
 * Tile choice: 28 zmm accumulators (14 rows x 2 vectors) + 2 for B + 1-2
 * broadcasts use the 32 registers. Per step: 28 FMAs against 16 loads (2 of
 * B, 14 broadcasts of A), so FMA issue, not loads, bounds it; 28 chains far
 * exceed the latency * throughput (4 x 2 = 8) needed. On Zen 4 the 512-bit
 * FMA is split in two so peak equals AVX2, but the doubled register file
 * halves the loads and broadcasts per FMA versus 6x16. 14 rows rather than
 * 6x64: B micro-panel (kc x 32) stays half the size, so kc can be larger.
 * Edges: k-masked loads/stores (AVX-512 mask registers).
 * Unpacked A (aux->lda): row i is broadcast from a row pointer r[i / 3] +
 * (i % 3) lda, five pointers and one stride register, so every broadcast
 * is one load with an address mode, as from the packed panel. Unpacked A
 * of m = 7 ... 13 rows runs those rows' FMAs alone (fewer: one row at a
 * time; direct_rows in the AVX-512 table): the convolution's segments of
 * an output row (16 pixels = 8 + 8, 32 = 11 + 11 + 10) read in place. In
 * L1 (B 32 KiB), per row and k step, 14, 11 and 8 rows cost the same:
 * 0.80-0.85 TSC cycles at k 64 ... 384. */
#include <immintrin.h>

#include "kernels/f32-gemm/f32-gemm-tile-avx512.h"

#define MR 14
#define NR 32

/* rows: the FMA rows (MR, or m of unpacked A); a packed panel's rows are
 * MR floats apart either way. */
static inline __attribute__((always_inline)) void
body(int rows, size_t m, size_t n, size_t k, const float *a, const float *b,
     size_t ldb, int nv, int bmask, int direct, size_t lda, float *c,
     size_t ldc, const struct cmx_f32_gemm_aux *aux) {
  const float *r[5]; /* unpacked A: rows 3u, 3u + 1, 3u + 2 */
#pragma GCC unroll 5
  for (int u = 0; u < 5; u++) r[u] = a + 3 * (size_t)u * lda;
  __m512 acc[MR][2];
#pragma GCC unroll 14
  for (int i = 0; i < rows; i++)
    acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  __mmask16 m0 = cmx_tile_lanes(n);
  __mmask16 m1 = cmx_tile_lanes(n > 16 ? n - 16 : 0);
  if (aux->a_next) _mm_prefetch((const char *)aux->a_next, _MM_HINT_T0);
  /* The C tile is touched only after the k loop: fetch its lines early so
   * the misses overlap the FMAs instead of stalling the stores, one row
   * every CMX_TILE_PF_STEP k steps (rows past k / step up front). All 14
   * rows up front (42 prefetches in a row) waited on the line fill
   * buffers when C is out of cache: 15% of the kernel's samples on
   * 4096x128x4096 (64 MiB of C). */
  size_t pre = cmx_tile_pf_rows(m, k);
  /* (not below k 16, too short a loop to hide anything: 65536x4 @ 4x4
   * 161 -> 139 us without) */
  for (size_t i = pre; i < m && k >= 16; i++) cmx_tile_pf_row(c + i * ldc, n);
  size_t pi = 0, pn = 0; /* next row to fetch, at step pn */
  /* Two k steps an iteration: the loop's pointer and counter updates are
   * scalar uops that share ports 0 and 5 with the FMAs. 2-core Xeon VM, 1
   * thread, interleaved: 1024^3 170-174 -> 171-178 GFLOP/s, 4 x
   * (128,64)@(64,128) (in cache) 176-182 -> 180-186; four steps the
   * same as two. */
  /* Unpacked A in runs (aux->roff): each run's row pointers set at its
   * start; one run of k otherwise. */
  const int runs = direct && aux->roff;
  const size_t rl = runs ? aux->rlen : k;
  for (size_t p0 = 0, q = 0; p0 < k; p0 += rl, q++) {
    if (runs) {
#pragma GCC unroll 5
      for (int u = 0; u < 5; u++) r[u] = a + aux->roff[q] + 3 * (size_t)u * lda;
    }
    const size_t pe = k - p0 < rl ? k : p0 + rl;
#pragma GCC unroll 2
    for (size_t p = p0; p < pe; p++) {
      __m512 b0, b1;
      if (p == pn && pi < pre) {
        cmx_tile_pf_row(c + pi * ldc, n);
        pi++, pn += CMX_TILE_PF_STEP;
      }
      if (bmask) {
        b0 = _mm512_maskz_loadu_ps(m0, b);
        b1 = nv == 2 ? _mm512_maskz_loadu_ps(m1, b + 16) : b0;
      } else {
        b0 = _mm512_loadu_ps(b);
        b1 = nv == 2 ? _mm512_loadu_ps(b + 16) : b0;
      }
#pragma GCC unroll 14
    for (int i = 0; i < rows; i++) {
      __m512 ai = _mm512_set1_ps(direct ? r[i / 3][(size_t)(i % 3) * lda]
                                     : a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      if (nv == 2) acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    if (direct) {
#pragma GCC unroll 5
      for (int u = 0; u < 5; u++) r[u]++;
    } else {
      /* The A micro-panel streams from L2 (56 bytes a step): fetch it 8
       * steps ahead. B ahead as well measured no better. */
      _mm_prefetch((const char *)(a + 8 * MR), _MM_HINT_T0);
      a += MR;
    }
    b += ldb;
    }
  }
  cmx_tile_store_x32(rows, nv, acc, m, n, c, ldc, aux);
}

/* Unpacked A of 7 <= m < MR rows: both vectors of B (n <= 16
 * too), masked only where B is unpacked and narrower than the tile (the
 * masked loads cost 11% in L1 beside the plain ones at m 8 and 11). */
static void direct_rows(size_t m, size_t n, size_t k, const float *a,
                        const float *b, size_t ldb, float *c, size_t ldc,
                        const struct cmx_f32_gemm_aux *aux) {
  const int bmask = aux->ldb && n < NR;
  switch (m) {
#define ROWS(r)                                                         \
  case r:                                                               \
    if (bmask)                                                          \
      body(r, m, n, k, a, b, ldb, 2, 1, 1, aux->lda, c, ldc, aux);      \
    else                                                                \
      body(r, m, n, k, a, b, ldb, 2, 0, 1, aux->lda, c, ldc, aux);      \
    return;
    ROWS(7) ROWS(8) ROWS(9) ROWS(10) ROWS(11) ROWS(12) ROWS(13)
#undef ROWS
  default: /* fewer rows: correct, one at a time (no caller sends them) */
    for (size_t i = 0; i < m; i++)
      body(1, 1, n, k, a + i * aux->lda, b, ldb, 2, 1, 1, aux->lda,
           c + i * ldc, ldc, aux);
  }
}

void cmx_f32_gemm_ukr_14x32__avx512(size_t m, size_t n, size_t k,
                                    const float *a, const float *b, float *c,
                                    size_t ldc,
                                    const struct cmx_f32_gemm_aux *aux) {
  size_t ldb = aux->ldb ? aux->ldb : NR;
  if (aux->lda && m < MR) {
    direct_rows(m, n, k, a, b, ldb, c, ldc, aux);
    return;
  }
  /* n <= 16 (the right edge of C, and products of few columns): one
   * vector of B a step, 14 FMAs instead of 28. 1 thread, A read in place,
   * with the C prefetch skipped below k 16 and the driver's tile loop
   * without divisions: 65536x4 @ 4x4 207 -> 132 us (torch 106), 65536x16
   * @ 16x16 521 -> 397 (347), 16384x64 @ 64x8 479 -> 353 (303); 100^3
   * 15.7 -> 14.3. */
  if (n <= 16) {
    if (aux->lda && aux->ldb)
      body(MR, m, n, k, a, b, ldb, 1, 1, 1, aux->lda, c, ldc, aux);
    else if (aux->lda) /* packed B: zero past n, read whole */
      body(MR, m, n, k, a, b, ldb, 1, 0, 1, aux->lda, c, ldc, aux);
    else
      body(MR, m, n, k, a, b, ldb, 1, 1, 0, 0, c, ldc, aux);
  } else if (aux->lda) {
    if (aux->ldb && n < NR)
      body(MR, m, n, k, a, b, ldb, 2, 1, 1, aux->lda, c, ldc, aux);
    else
      body(MR, m, n, k, a, b, ldb, 2, 0, 1, aux->lda, c, ldc, aux);
  } else if (aux->ldb && n < NR) {
    body(MR, m, n, k, a, b, ldb, 2, 1, 0, 0, c, ldc, aux);
  } else {
    body(MR, m, n, k, a, b, ldb, 2, 0, 0, 0, c, ldc, aux);
  }
}
