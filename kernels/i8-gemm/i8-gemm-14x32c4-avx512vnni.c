/* i8 GEMM microkernel for AVX-512 VNNI, 14 x 32, k in groups of 4
 * (contract in i8-gemm.h). vpdpbusd multiplies unsigned by signed bytes
 * and adds each lane's four products into int32: B's bytes come biased
 * (b + 128 as uint8: the driver flipped the panel once; flipping both
 * vectors of every group here had cost two of every 30 vector ops), A is
 * broadcast four bytes at a time, and the accumulators start at -128 *
 * (row sum of A), which the packer stored after the panel:
 *   sum (b + 128) a - 128 sum a = sum a b   (all modulo 2^32).
 * 28 zmm accumulators (14 rows x 2 vectors of 16 columns) + 2 for B + the
 * broadcast use the 32 registers; 28 vpdpbusd per 2 loads and 14
 * broadcasts. Lanes hold whole columns, so no horizontal step. */
#include <immintrin.h>
#include <string.h>

#include "kernels/i8-gemm/i8-gemm.h"

#define MR 14
#define NR 32

static inline __mmask16 lanes(size_t n) {
  return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

void cmx_i8_gemm_ukr_14x32c4_vnni__avx512(size_t m, size_t n, size_t k,
                                         const int8_t *a, const int8_t *b,
                                         int32_t *c, size_t ldc,
                                         const struct cmx_i8_gemm_aux *aux) {
  size_t groups = (k + 3) / 4;
  int32_t rsum[MR];
  memcpy(rsum, a + groups * 4 * MR, sizeof rsum);
  __m512i acc[MR][2];
#pragma GCC unroll 14
  for (int i = 0; i < MR; i++)
    acc[i][0] = acc[i][1] = _mm512_set1_epi32((int32_t)(
                    (uint32_t)rsum[i] * (uint32_t)-128));
  for (size_t g = 0; g < groups; g++) {
    __m512i b0 = _mm512_loadu_si512(b);
    __m512i b1 = _mm512_loadu_si512(b + 64);
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
      int32_t a4;
      memcpy(&a4, a + 4 * i, 4);
      __m512i ai = _mm512_set1_epi32(a4);
      acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], b0, ai);
      acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], b1, ai);
    }
    a += MR * 4;
    b += NR * 4;
  }
  __mmask16 m0 = lanes(n), m1 = lanes(n > 16 ? n - 16 : 0);
  int full = n == NR;
#pragma GCC unroll 14
  for (int i = 0; i < MR; i++) {
    if ((size_t)i >= m) continue;
    int32_t *ci = c + i * ldc;
    __m512i r0 = acc[i][0], r1 = acc[i][1];
    if (full) {
      if (aux->accumulate) {
        r0 = _mm512_add_epi32(r0, _mm512_loadu_si512(ci));
        r1 = _mm512_add_epi32(r1, _mm512_loadu_si512(ci + 16));
      }
      _mm512_storeu_si512(ci, r0);
      _mm512_storeu_si512(ci + 16, r1);
    } else {
      if (aux->accumulate) {
        r0 = _mm512_add_epi32(r0, _mm512_maskz_loadu_epi32(m0, ci));
        r1 = _mm512_add_epi32(r1, _mm512_maskz_loadu_epi32(m1, ci + 16));
      }
      _mm512_mask_storeu_epi32(ci, m0, r0);
      _mm512_mask_storeu_epi32(ci + 16, m1, r1);
    }
  }
}
