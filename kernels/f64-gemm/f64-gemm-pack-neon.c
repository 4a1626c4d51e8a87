/* NEON f64 GEMM packing microkernel (contract in f64-gemm.h): blocks of 2
 * rows x 2 k-columns, transposed with zip1/zip2 (float64x2 2x2) and stored
 * as a pair at dst[p * r + i0]. Rows >= m are zero; an odd last row (r
 * odd) and an odd last k-column go element by element. */
#include <arm_neon.h>

#include "kernels/f64-gemm/f64-gemm.h"

void cmx_f64_gemm_pack_ukr__neon(size_t r, size_t m, size_t k,
                                 const double *src, size_t lds, double *dst) {
  size_t k2 = k & ~(size_t)1, r2 = r & ~(size_t)1;
  const float64x2_t zero = vdupq_n_f64(0.0);
  for (size_t p = 0; p < k2; p += 2) {
    double *d = dst + p * r;
    for (size_t i = 0; i < r2; i += 2) {
      const double *s = src + i * lds + p;
      float64x2_t x0 = i < m ? vld1q_f64(s) : zero;
      float64x2_t x1 = i + 1 < m ? vld1q_f64(s + lds) : zero;
      vst1q_f64(d + i, vzip1q_f64(x0, x1));
      vst1q_f64(d + r + i, vzip2q_f64(x0, x1));
    }
    if (r2 < r) {
      const double *s = src + r2 * lds + p;
      d[r2] = r2 < m ? s[0] : 0.0;
      d[r + r2] = r2 < m ? s[1] : 0.0;
    }
  }
  if (k2 < k) {
    double *d = dst + k2 * r;
    for (size_t i = 0; i < r; i++) d[i] = i < m ? src[i * lds + k2] : 0.0;
  }
}
