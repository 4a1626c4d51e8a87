/* f32 GEMM microkernel for aarch64 NEON, 8 x 12 (contract in f32-gemm.h).
 * 24 q-register accumulators (8 rows x 3 vectors), 3 for B, 2 holding the 8
 * A values used by lane (vfmaq_laneq_f32): 29 of the 32 registers. NEON has
 * no masked loads or stores, so an edge tile is computed in full and its
 * m x n part leaves through a buffer in registers' layout; an unpacked B
 * row narrower than 12 is copied into a padded row first. Unpacked A
 * (aux->lda, full tiles) is gathered one step at a time into the two
 * registers a packed panel would load. */
#include <arm_neon.h>
#include <string.h>

#include "kernels/f32-gemm/f32-gemm.h"

#define MR 8
#define NR 12

void cmx_f32_gemm_ukr_8x12__neon(size_t m, size_t n, size_t k,
                                 const float *a, const float *b, float *c,
                                 size_t ldc,
                                 const struct cmx_f32_gemm_aux *aux) {
  float32x4_t acc[MR][3];
  for (int i = 0; i < MR; i++)
    acc[i][0] = acc[i][1] = acc[i][2] = vdupq_n_f32(0.0f);
  size_t ldb = aux->ldb ? aux->ldb : NR;
  int bpad = aux->ldb && n < NR;
  float brow[NR] = {0};
  size_t lda = aux->lda;
  for (size_t p = 0; p < k; p++) {
    const float *bp = b;
    if (bpad) {
      memcpy(brow, b, n * sizeof(float));
      bp = brow;
    }
    float32x4_t b0 = vld1q_f32(bp), b1 = vld1q_f32(bp + 4),
                b2 = vld1q_f32(bp + 8);
    float32x4_t a0, a1;
    if (lda) {
      float col[MR];
      for (int i = 0; i < MR; i++) col[i] = a[(size_t)i * lda + p];
      a0 = vld1q_f32(col), a1 = vld1q_f32(col + 4);
    } else {
      a0 = vld1q_f32(a + p * MR), a1 = vld1q_f32(a + p * MR + 4);
    }
#define ROW(i, av, l)                                   \
  acc[i][0] = vfmaq_laneq_f32(acc[i][0], b0, av, l);    \
  acc[i][1] = vfmaq_laneq_f32(acc[i][1], b1, av, l);    \
  acc[i][2] = vfmaq_laneq_f32(acc[i][2], b2, av, l);
    ROW(0, a0, 0) ROW(1, a0, 1) ROW(2, a0, 2) ROW(3, a0, 3)
    ROW(4, a1, 0) ROW(5, a1, 1) ROW(6, a1, 2) ROW(7, a1, 3)
#undef ROW
    b += ldb;
  }
  float32x4_t alpha = vdupq_n_f32(aux->alpha);
  int rd = aux->beta != 0.0f;
  float32x4_t beta = vdupq_n_f32(aux->beta);
  if (m == MR && n == NR) {
    for (int i = 0; i < MR; i++) {
      float *ci = c + i * ldc;
      for (int v = 0; v < 3; v++) {
        float32x4_t r = vmulq_f32(alpha, acc[i][v]);
        if (rd) r = vfmaq_f32(r, beta, vld1q_f32(ci + 4 * v));
        vst1q_f32(ci + 4 * v, r);
      }
    }
    return;
  }
  float tile[MR][NR];
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < 3; v++)
      vst1q_f32(tile[i] + 4 * v, vmulq_f32(alpha, acc[i][v]));
  for (size_t i = 0; i < m; i++) {
    float *ci = c + i * ldc;
    if (rd) {
      float row[NR] = {0};
      memcpy(row, ci, n * sizeof(float));
      for (int v = 0; v < 3; v++)
        vst1q_f32(tile[i] + 4 * v, vfmaq_f32(vld1q_f32(tile[i] + 4 * v),
                                              beta, vld1q_f32(row + 4 * v)));
    }
    memcpy(ci, tile[i], n * sizeof(float));
  }
}
