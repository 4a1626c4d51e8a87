/* The portable reference for the bf16 k-pair GEMM microkernel and the pair
 * interleaver (contracts in f32-gemm.h). Serves any tile up to 32 x 64
 * (panel strides from aux->mr / aux->nr). Each pair adds its high product
 * then its low one, as vdpbf16ps does; unlike it, subnormals are kept. */
#include <string.h>

#include "kernels/f32-gemm/f32-gemm.h"

static float bf16_lo(uint32_t w) {
  uint32_t u = w << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static float bf16_hi(uint32_t w) {
  uint32_t u = w & 0xffff0000u;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

void cmx_f32_gemm_bf16_ukr_ref(size_t m, size_t n, size_t k,
                               const uint32_t *a, const uint32_t *b, float *c,
                               size_t ldc,
                               const struct cmx_f32_gemm_aux *aux) {
  size_t mr = aux->mr ? aux->mr : 4, nr = aux->nr ? aux->nr : 8;
  float acc[32 * 64];
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) acc[i * 64 + j] = 0.0f;
  for (size_t p = 0; p < (k + 1) / 2; p++)
    for (size_t i = 0; i < m; i++) {
      uint32_t ai = a[p * mr + i];
      const uint32_t *bp = b + p * nr;
      float *ac = acc + i * 64;
      for (size_t j = 0; j < n; j++) {
        ac[j] += bf16_hi(ai) * bf16_hi(bp[j]);
        ac[j] += bf16_lo(ai) * bf16_lo(bp[j]);
      }
    }
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      float *cij = &c[i * ldc + j];
      float r = aux->alpha * acc[i * 64 + j];
      *cij = aux->beta == 0.0f ? r : r + aux->beta * *cij;
    }
}

void cmx_f32_gemm_bf16_zip_ukr__ref(size_t n, const uint16_t *x0,
                                    const uint16_t *x1, uint32_t *dst) {
  for (size_t i = 0; i < n; i++)
    dst[i] = (uint32_t)x0[i] | (x1 ? (uint32_t)x1[i] << 16 : 0u);
}
