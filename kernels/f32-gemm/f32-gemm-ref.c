/* The portable reference f32 GEMM microkernel (contract in f32-gemm.h).
 * Serves any tile up to 32 x 64: the panel strides come from aux->mr and
 * aux->nr. Sums over p in increasing order with a separate multiply and add
 * (the generic level has no fma instruction; libm's fmaf would be a slow
 * emulation), so ISA kernels match it within the rounding of contraction. */
#include "kernels/f32-gemm/f32-gemm.h"

void cmx_f32_gemm_ukr_ref(size_t m, size_t n, size_t k, const float *a,
                          const float *b, float *c, size_t ldc,
                          const struct cmx_f32_gemm_aux *aux) {
  size_t mr = aux->mr ? aux->mr : 4, nr = aux->nr ? aux->nr : 8;
  size_t ldb = aux->ldb ? aux->ldb : nr;
  float acc[32 * 64];
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) acc[i * 64 + j] = 0.0f;
  for (size_t p = 0; p < k; p++)
    for (size_t i = 0; i < m; i++) {
      float ai =
          !aux->lda ? a[p * mr + i]
          : aux->roff
              ? a[i * aux->lda + aux->roff[p / aux->rlen] + p % aux->rlen]
              : a[i * aux->lda + p];
      const float *bp = b + p * ldb;
      float *ac = acc + i * 64;
      for (size_t j = 0; j < n; j++) ac[j] += ai * bp[j];
    }
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      float *cij = &c[i * ldc + j];
      float r = aux->alpha * acc[i * 64 + j];
      *cij = aux->beta == 0.0f ? r : r + aux->beta * *cij;
    }
}
