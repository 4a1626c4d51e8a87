/* The portable reference i8 GEMM microkernel (contract in i8-gemm.h):
 * any tile up to 32 x 64 (panel strides from aux->mr, aux->nr), sums in
 * uint32 so that wrapping past 2^31 (k > 131071) is defined, as the SIMD
 * kernels' modular adds. */
#include "kernels/i8-gemm/i8-gemm.h"

void cmx_i8_gemm_ukr_ref(size_t m, size_t n, size_t k, const int8_t *a,
                         const int8_t *b, int32_t *c, size_t ldc,
                         const struct cmx_i8_gemm_aux *aux) {
  size_t mr = aux->mr ? aux->mr : 4, nr = aux->nr ? aux->nr : 8;
  uint32_t acc[32 * 64];
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) acc[i * 64 + j] = 0;
  for (size_t p = 0; p < k; p++) {
    const int8_t *ap = a + (p / 4) * mr * 4 + p % 4;
    const int8_t *bp = b + (p / 4) * nr * 4 + p % 4;
    for (size_t i = 0; i < m; i++) {
      int32_t ai = ap[i * 4];
      uint32_t *ac = acc + i * 64;
      for (size_t j = 0; j < n; j++) ac[j] += (uint32_t)(ai * bp[j * 4]);
    }
  }
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      uint32_t r = acc[i * 64 + j];
      if (aux->accumulate) r += (uint32_t)c[i * ldc + j];
      c[i * ldc + j] = (int32_t)r;
    }
}
