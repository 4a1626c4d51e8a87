/* bf16 x bf16 GEMM microkernel for AVX512_BF16, 14 x 32 (contract in
 * f32-gemm.h): per k-pair, 2 loads of B (16 words = 32 bf16 each), 14 A
 * pairs broadcast straight from memory as vdpbf16ps's {1to16} operand, and
 * 28 vdpbf16ps into 28 zmm f32 accumulators: the f32 kernel's register plan
 * (28 + 2 + 1-2 of 32), each instruction now worth two k steps. Edges:
 * packed panels are zero-padded, C is read and written with lane masks. */
#include <immintrin.h>

#include "kernels/f32-gemm/f32-gemm-tile-avx512.h"

#define MR 14
#define NR 32

void cmx_f32_gemm_bf16_ukr_14x32__avx512bf16(
    size_t m, size_t n, size_t k, const uint32_t *a, const uint32_t *b,
    float *c, size_t ldc, const struct cmx_f32_gemm_aux *aux) {
  __m512 acc[MR][2];
#pragma GCC unroll 14
  for (int i = 0; i < MR; i++)
    acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  if (aux->a_next) _mm_prefetch((const char *)aux->a_next, _MM_HINT_T0);
  for (size_t p = 0; p < (k + 1) / 2; p++) {
    __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
    __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 16);
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
      __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
    }
    a += MR;
    b += NR;
  }
  cmx_tile_store_x32(MR, 2, acc, m, n, c, ldc, aux);
}
