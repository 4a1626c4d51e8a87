/* f32 GEMM microkernel for AVX2+FMA, 6 x 16 (contract in f32-gemm.h).
 * 12 ymm accumulators (6 rows x 2 vectors), 2 for B, 1 broadcast of A:
 * 15 of the 16 registers. 12 independent FMA chains cover the 4-cycle
 * latency at 2 FMA/cycle (>= 8 needed). Edges: masked loads/stores of C
 * (vmaskmov), and of B when it is unpacked (small-problem path).
 * Unpacked A (aux->lda): row i broadcast from r[i / 3] + (i % 3) lda, two
 * row pointers and one stride register; 4 or 5 rows run only their FMAs
 * (8 or 10 chains, enough for the latency; fewer rows one at a time;
 * direct_rows in the AVX2 table), the convolution's segments of an output
 * row (16 pixels = 5 + 5 + 6). */
#include <immintrin.h>

#include "kernels/f32-gemm/f32-gemm.h"

#define MR 6
#define NR 16

static const int32_t g_mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                       0,  0,  0,  0,  0,  0,  0,  0};

/* Lanes j < n of an 8-lane vector (n clamped to [0, 8]). */
static inline __m256i lanes(size_t n) {
  size_t s = n >= 8 ? 0 : 8 - n;
  return _mm256_loadu_si256((const __m256i *)(g_mask_src + s));
}

/* rows: the FMA rows (MR, or m of unpacked A); a packed panel's rows are
 * MR floats apart either way. */
static inline __attribute__((always_inline)) void
body(int rows, size_t m, size_t n, size_t k, const float *a, const float *b,
     size_t ldb, int nv, int bmask, int unpacked, int direct, size_t lda,
     float *c, size_t ldc, const struct cmx_f32_gemm_aux *aux) {
  const float *r[2]; /* unpacked A: rows 3u, 3u + 1, 3u + 2 */
  r[0] = a;
  r[1] = a + 3 * lda;
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < rows; i++)
    acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  __m256i m0 = lanes(n), m1 = lanes(n > 8 ? n - 8 : 0);
  /* The C tile is touched only after the k loop: fetch it now (unless the
   * loop is too short to hide anything: 65536x4 @ 4x4 on AVX-512, 139 us
   * without against 161 with). */
  for (size_t i = 0; i < m && k >= 16; i++) {
    _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch((const char *)(c + i * ldc + (n - 1)), _MM_HINT_T0);
  }
  for (size_t p = 0; p < k; p++) {
    __m256 b0, b1;
    /* Unpacked B (the skinny path streams it from memory, kc rows at a
     * time, more streams than the L2 prefetcher tracks): fetch this row's
     * segment two tiles (32 columns) to the right, the tile after next. */
    if (unpacked) _mm_prefetch((const char *)(b + 2 * NR), _MM_HINT_T0);
    if (bmask) {
      b0 = _mm256_maskload_ps(b, m0);
      b1 = nv == 2 ? _mm256_maskload_ps(b + 8, m1) : b0;
    } else {
      b0 = _mm256_loadu_ps(b);
      b1 = nv == 2 ? _mm256_loadu_ps(b + 8) : b0;
    }
#pragma GCC unroll 6
    for (int i = 0; i < rows; i++) {
      __m256 ai = _mm256_broadcast_ss(direct ? r[i / 3] + (i % 3) * lda
                                             : a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      if (nv == 2) acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
    if (direct)
      r[0]++, r[1]++;
    else
      a += MR;
    b += ldb;
  }
  __m256 alpha = _mm256_set1_ps(aux->alpha), beta = _mm256_set1_ps(aux->beta);
  int rd = aux->beta != 0.0f;
  if (nv == 2 && m == (size_t)rows && n == NR) {
#pragma GCC unroll 6
    for (int i = 0; i < rows; i++) {
      float *ci = c + i * ldc;
      __m256 r0 = _mm256_mul_ps(alpha, acc[i][0]);
      __m256 r1 = _mm256_mul_ps(alpha, acc[i][1]);
      if (rd) {
        r0 = _mm256_fmadd_ps(beta, _mm256_loadu_ps(ci), r0);
        r1 = _mm256_fmadd_ps(beta, _mm256_loadu_ps(ci + 8), r1);
      }
      _mm256_storeu_ps(ci, r0);
      _mm256_storeu_ps(ci + 8, r1);
    }
    return;
  }
#pragma GCC unroll 6
  for (int i = 0; i < rows; i++) {
    if ((size_t)i >= m) break;
    float *ci = c + i * ldc;
    __m256 r0 = _mm256_mul_ps(alpha, acc[i][0]);
    if (rd) r0 = _mm256_fmadd_ps(beta, _mm256_maskload_ps(ci, m0), r0);
    _mm256_maskstore_ps(ci, m0, r0);
    if (nv == 1) continue;
    __m256 r1 = _mm256_mul_ps(alpha, acc[i][1]);
    if (rd) r1 = _mm256_fmadd_ps(beta, _mm256_maskload_ps(ci + 8, m1), r1);
    _mm256_maskstore_ps(ci + 8, m1, r1);
  }
}

/* Unpacked A of m < MR rows: both vectors of B, masked where B is
 * unpacked and narrower than the tile. */
static void direct_rows(size_t m, size_t n, size_t k, const float *a,
                        const float *b, float *c, size_t ldc,
                        const struct cmx_f32_gemm_aux *aux) {
  const size_t lda = aux->lda, ldb = aux->ldb ? aux->ldb : NR;
  const int unp = aux->ldb != 0, bmask = unp && n < NR;
  if (m == 4 && bmask)
    body(4, m, n, k, a, b, ldb, 2, 1, unp, 1, lda, c, ldc, aux);
  else if (m == 4)
    body(4, m, n, k, a, b, ldb, 2, 0, unp, 1, lda, c, ldc, aux);
  else if (m == 5 && bmask)
    body(5, m, n, k, a, b, ldb, 2, 1, unp, 1, lda, c, ldc, aux);
  else if (m == 5)
    body(5, m, n, k, a, b, ldb, 2, 0, unp, 1, lda, c, ldc, aux);
  else /* fewer rows: correct, one at a time (no caller sends them) */
    for (size_t i = 0; i < m; i++)
      body(1, 1, n, k, a + i * lda, b, ldb, 2, 1, unp, 1, lda, c + i * ldc,
           ldc, aux);
}

void cmx_f32_gemm_ukr_6x16__avx2(size_t m, size_t n, size_t k,
                                 const float *a, const float *b, float *c,
                                 size_t ldc,
                                 const struct cmx_f32_gemm_aux *aux) {
  size_t lda = aux->lda, ldb = aux->ldb ? aux->ldb : NR;
  int unp = aux->ldb != 0;
  if (lda && m < MR) {
    direct_rows(m, n, k, a, b, c, ldc, aux);
    return;
  }
  /* n <= 8: one vector of B a step, 6 FMAs instead of 12 (as 14x32) */
  if (n <= 8 && lda)
    body(MR, m, n, k, a, b, ldb, 1, 1, unp, 1, lda, c, ldc, aux);
  else if (n <= 8)
    body(MR, m, n, k, a, b, ldb, 1, 1, unp, 0, 0, c, ldc, aux);
  else if (lda && !aux->ldb)
    body(MR, m, n, k, a, b, NR, 2, 0, 0, 1, lda, c, ldc, aux);
  else if (lda && n < NR)
    body(MR, m, n, k, a, b, aux->ldb, 2, 1, 1, 1, lda, c, ldc, aux);
  else if (lda)
    body(MR, m, n, k, a, b, aux->ldb, 2, 0, 1, 1, lda, c, ldc, aux);
  else if (!aux->ldb)
    body(MR, m, n, k, a, b, NR, 2, 0, 0, 0, 0, c, ldc, aux);
  else if (n < NR)
    body(MR, m, n, k, a, b, aux->ldb, 2, 1, 1, 0, 0, c, ldc, aux);
  else
    body(MR, m, n, k, a, b, aux->ldb, 2, 0, 1, 0, 0, c, ldc, aux);
}
