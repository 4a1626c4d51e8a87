/* i8 GEMM microkernel for baseline armv8 NEON, 4 x 8, k in groups of 4
 * (contract in i8-gemm.h). Per group and pair of columns: vmull_s8 of B's
 * 8 bytes (2 columns x 4 k) by the row's 4 A bytes repeated twice gives
 * eight exact int16 products; vpadalq_s16 adds their pairs into int32
 * lanes [c k01, c k23, c' k01, c' k23]. 16 accumulators (4 rows x 4 column
 * pairs); a final pairwise add gives the columns. (sdot would need the
 * dotprod extension, not in baseline armv8.0.) */
#include <arm_neon.h>
#include <string.h>

#include "kernels/i8-gemm/i8-gemm.h"

#define MR 4
#define NR 8

void cmx_i8_gemm_ukr_4x8c4__neon(size_t m, size_t n, size_t k,
                                 const int8_t *a, const int8_t *b,
                                 int32_t *c, size_t ldc,
                                 const struct cmx_i8_gemm_aux *aux) {
  int32x4_t acc[MR][4];
  for (int i = 0; i < MR; i++)
    for (int q = 0; q < 4; q++) acc[i][q] = vdupq_n_s32(0);
  for (size_t g = 0; g < (k + 3) / 4; g++) {
    int8x16_t blo = vld1q_s8(b), bhi = vld1q_s8(b + 16);
    int8x8_t bq[4] = {vget_low_s8(blo), vget_high_s8(blo), vget_low_s8(bhi),
                      vget_high_s8(bhi)};
    for (int i = 0; i < MR; i++) {
      int32_t a4;
      memcpy(&a4, a + 4 * i, 4);
      int8x8_t ai = vreinterpret_s8_s32(vdup_n_s32(a4));
      for (int q = 0; q < 4; q++)
        acc[i][q] = vpadalq_s16(acc[i][q], vmull_s8(bq[q], ai));
    }
    a += MR * 4;
    b += NR * 4;
  }
  for (size_t i = 0; i < m; i++) {
    int32_t *ci = c + i * ldc, buf[NR];
    int32x4_t r0 = vpaddq_s32(acc[i][0], acc[i][1]);
    int32x4_t r1 = vpaddq_s32(acc[i][2], acc[i][3]);
    vst1q_s32(buf, r0);
    vst1q_s32(buf + 4, r1);
    for (size_t j = 0; j < n; j++)
      ci[j] = aux->accumulate ? (int32_t)((uint32_t)ci[j] + (uint32_t)buf[j])
                              : buf[j];
  }
}
