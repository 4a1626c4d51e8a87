/* What the AVX-512 microkernels with MR x 32 f32 accumulators (14x32,
 * 8x32, the bf16 14x32) share: the lane masks of a 32-column edge and the
 * C update C = alpha * acc + beta * C on the m x n corner of the tile
 * (contract in f32-gemm.h: beta == 0 never reads C; edges through mask
 * registers). Include after <immintrin.h>; compile with AVX-512F. */
#ifndef CMX_F32_GEMM_TILE_AVX512_H
#define CMX_F32_GEMM_TILE_AVX512_H
#include <immintrin.h>
#include <stddef.h>

#include "kernels/f32-gemm/f32-gemm.h"

#define CMX_TILE_INLINE static inline __attribute__((always_inline))

/* Lanes j < n of a 16-lane vector (n clamped to [0, 16]). */
CMX_TILE_INLINE __mmask16 cmx_tile_lanes(size_t n) {
  return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

/* C rows are prefetched one every CMX_TILE_PF_STEP k steps of the loop,
 * beginning at step 0. On the 2-core VM (1 thread, A/B alternating in one
 * process): 4096x128x4096 median 48.1 ms with all rows up front, 43.3 one
 * row a step, 39.8 every 4, 39.7 every 8; 64 x (128,64)@(64,128) 1.55 /
 * 1.44 / 1.43 / 1.47 ms. */
#define CMX_TILE_PF_STEP 4

/* Rows of an m-row tile prefetched inside a k-step loop; the rest (m >
 * ceil(k / step)) go before it. */
CMX_TILE_INLINE size_t cmx_tile_pf_rows(size_t m, size_t k) {
  size_t r = (k + CMX_TILE_PF_STEP - 1) / CMX_TILE_PF_STEP;
  return r < m ? r : m;
}

/* The lines of one C row of a 32-column tile (n columns). */
CMX_TILE_INLINE void cmx_tile_pf_row(const float *ci, size_t n) {
  _mm_prefetch((const char *)ci, _MM_HINT_T0);
  _mm_prefetch((const char *)(ci + (n - 1)), _MM_HINT_T0);
  if (n > 16) _mm_prefetch((const char *)(ci + 16), _MM_HINT_T0);
}

/* mr and nv are constants at every call, so the loops unroll and acc
 * stays in registers. Full tiles take unmasked loads and stores. nv 1: a
 * tile of n <= 16 columns whose kernel ran acc[i][0] alone (acc[i][1] is
 * never read). */
CMX_TILE_INLINE void cmx_tile_store_x32(int mr, int nv, __m512 (*acc)[2],
                                        size_t m, size_t n, float *c,
                                        size_t ldc,
                                        const struct cmx_f32_gemm_aux *aux) {
  const __m512 alpha = _mm512_set1_ps(aux->alpha);
  const __m512 beta = _mm512_set1_ps(aux->beta);
  const int rd = aux->beta != 0.0f;
  if (nv == 2 && m == (size_t)mr && n == 32) {
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++) {
      float *ci = c + i * ldc;
      __m512 r0 = _mm512_mul_ps(alpha, acc[i][0]);
      __m512 r1 = _mm512_mul_ps(alpha, acc[i][1]);
      if (rd) {
        r0 = _mm512_fmadd_ps(beta, _mm512_loadu_ps(ci), r0);
        r1 = _mm512_fmadd_ps(beta, _mm512_loadu_ps(ci + 16), r1);
      }
      _mm512_storeu_ps(ci, r0);
      _mm512_storeu_ps(ci + 16, r1);
    }
    return;
  }
  const __mmask16 m0 = cmx_tile_lanes(n);
  const __mmask16 m1 = cmx_tile_lanes(n > 16 ? n - 16 : 0);
#pragma GCC unroll 16
  for (int i = 0; i < mr; i++) {
    if ((size_t)i >= m) break;
    float *ci = c + i * ldc;
    __m512 r0 = _mm512_mul_ps(alpha, acc[i][0]);
    if (rd) r0 = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(m0, ci), r0);
    _mm512_mask_storeu_ps(ci, m0, r0);
    if (nv == 1) continue;
    __m512 r1 = _mm512_mul_ps(alpha, acc[i][1]);
    if (rd)
      r1 = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(m1, ci + 16), r1);
    _mm512_mask_storeu_ps(ci + 16, m1, r1);
  }
}

#endif
