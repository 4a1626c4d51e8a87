/* The portable reference f32 GEMM packing microkernel (contract in
 * f32-gemm.h): a scalar copy, one panel row (i) at a time, that the
 * vectorised transposing versions are checked against. */
#include "kernels/f32-gemm/f32-gemm.h"

void cmx_f32_gemm_pack_ukr__ref(size_t r, size_t m, size_t k,
                                const float *src, size_t lds, float *dst,
                                size_t ldd) {
  for (size_t i = 0; i < r; i++) {
    const float *x = src + i * lds;
    for (size_t p = 0; p < k; p++) dst[p * ldd + i] = i < m ? x[p] : 0.0f;
  }
}
