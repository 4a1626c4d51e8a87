/* The portable reference f64 GEMM microkernel and A-packing kernel
 * (contracts in f64-gemm.h). The microkernel serves any tile up to 32 x 32
 * (panel strides from aux->mr, aux->nr) and sums over p in increasing
 * order with a separate multiply and add. */
#include "kernels/f64-gemm/f64-gemm.h"

void cmx_f64_gemm_ukr_ref(size_t m, size_t n, size_t k, const double *a,
                          const double *b, double *c, size_t ldc,
                          const struct cmx_f64_gemm_aux *aux) {
  size_t mr = aux->mr ? aux->mr : 4, nr = aux->nr ? aux->nr : 4;
  double acc[32 * 32];
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) acc[i * 32 + j] = 0.0;
  for (size_t p = 0; p < k; p++)
    for (size_t i = 0; i < m; i++) {
      double ai = a[p * mr + i];
      const double *bp = b + p * nr;
      double *ac = acc + i * 32;
      for (size_t j = 0; j < n; j++) ac[j] += ai * bp[j];
    }
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double *cij = &c[i * ldc + j];
      double r = aux->alpha * acc[i * 32 + j];
      *cij = aux->beta == 0.0 ? r : r + aux->beta * *cij;
    }
}

void cmx_f64_gemm_pack_ukr__ref(size_t r, size_t m, size_t k,
                                const double *src, size_t lds, double *dst) {
  for (size_t i = 0; i < r; i++) {
    const double *x = src + i * lds;
    if (i < m)
      for (size_t p = 0; p < k; p++) dst[p * r + i] = x[p];
    else
      for (size_t p = 0; p < k; p++) dst[p * r + i] = 0.0;
  }
}
