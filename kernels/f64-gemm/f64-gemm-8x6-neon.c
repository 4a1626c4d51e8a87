/* f64 GEMM microkernel for NEON, 8 x 6 (contract in f64-gemm.h).
 * 24 float64x2 accumulators (8 rows x 3 vectors) + 3 for B + 4 for the 8
 * A values (used by lane with vfmaq_laneq_f64) of the 32 registers: 24
 * FMAs per 7 loads. Partial tiles are stored through a small buffer. */
#include <arm_neon.h>
#include <string.h>

#include "kernels/f64-gemm/f64-gemm.h"

#define MR 8
#define NR 6

void cmx_f64_gemm_ukr_8x6__neon(size_t m, size_t n, size_t k,
                                const double *a, const double *b, double *c,
                                size_t ldc,
                                const struct cmx_f64_gemm_aux *aux) {
  float64x2_t acc[MR][3];
  for (int i = 0; i < MR; i++)
    acc[i][0] = acc[i][1] = acc[i][2] = vdupq_n_f64(0.0);
  for (size_t p = 0; p < k; p++) {
    float64x2_t b0 = vld1q_f64(b), b1 = vld1q_f64(b + 2),
                b2 = vld1q_f64(b + 4);
    float64x2_t av[4] = {vld1q_f64(a), vld1q_f64(a + 2), vld1q_f64(a + 4),
                         vld1q_f64(a + 6)};
#define ROW(i, v, l)                                        \
  acc[i][0] = vfmaq_laneq_f64(acc[i][0], b0, av[v], l);     \
  acc[i][1] = vfmaq_laneq_f64(acc[i][1], b1, av[v], l);     \
  acc[i][2] = vfmaq_laneq_f64(acc[i][2], b2, av[v], l);
    ROW(0, 0, 0) ROW(1, 0, 1) ROW(2, 1, 0) ROW(3, 1, 1)
    ROW(4, 2, 0) ROW(5, 2, 1) ROW(6, 3, 0) ROW(7, 3, 1)
#undef ROW
    a += MR;
    b += NR;
  }
  float64x2_t alpha = vdupq_n_f64(aux->alpha), beta = vdupq_n_f64(aux->beta);
  int rd = aux->beta != 0.0;
  for (size_t i = 0; i < m; i++) {
    double *ci = c + i * ldc, buf[NR] = {0};
    double *d = n == NR ? ci : buf;
    if (rd && n < NR) memcpy(buf, ci, n * sizeof(double));
    for (int v = 0; v < 3; v++) {
      float64x2_t r = vmulq_f64(alpha, acc[i][v]);
      if (rd) r = vfmaq_f64(r, beta, vld1q_f64(d + 2 * v));
      vst1q_f64(d + 2 * v, r);
    }
    if (n < NR) memcpy(ci, buf, n * sizeof(double));
  }
}
