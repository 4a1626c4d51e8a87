/* NEON 4x4 tile transpose: 32-bit then 64-bit trn (contract in
 * x32-transpose.h). */
#include <arm_neon.h>

#include "x32-transpose.h"

void cmx_x32_transpose_ukr_4x4__neon(const uint32_t *src, size_t ld_src,
                                     uint32_t *dst, size_t ld_dst, int nt) {
  uint32x4_t a0 = vld1q_u32(src), a1 = vld1q_u32(src + ld_src),
             a2 = vld1q_u32(src + 2 * ld_src), a3 = vld1q_u32(src + 3 * ld_src);
  uint64x2_t t0 = vreinterpretq_u64_u32(vtrn1q_u32(a0, a1)),
             t1 = vreinterpretq_u64_u32(vtrn2q_u32(a0, a1)),
             t2 = vreinterpretq_u64_u32(vtrn1q_u32(a2, a3)),
             t3 = vreinterpretq_u64_u32(vtrn2q_u32(a2, a3));
  vst1q_u32(dst, vreinterpretq_u32_u64(vtrn1q_u64(t0, t2)));
  vst1q_u32(dst + ld_dst, vreinterpretq_u32_u64(vtrn1q_u64(t1, t3)));
  vst1q_u32(dst + 2 * ld_dst, vreinterpretq_u32_u64(vtrn2q_u64(t0, t2)));
  vst1q_u32(dst + 3 * ld_dst, vreinterpretq_u32_u64(vtrn2q_u64(t1, t3)));
}
