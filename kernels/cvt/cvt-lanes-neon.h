/* The 4-lane f32 <-> f16 / bf16 steps shared by the NEON conversion
 * kernels and the 16-bit row loads (kernels/common/vh16.h); include after
 * arm_neon.h. */
#ifndef CMX_CVT_LANES_NEON_H
#define CMX_CVT_LANES_NEON_H

static inline float32x4_t cmx_f16_widen4(uint16x4_t h) {
  return vcvt_f32_f16(vreinterpret_f16_u16(h));
}

static inline uint16x4_t cmx_f16_narrow4(float32x4_t v) {
  return vreinterpret_u16_f16(vcvt_f16_f32(v));
}

/* (u + 0x7fff + lsb) >> 16 rounds to nearest even; NaN lanes take
 * (u >> 16) | 0x40, as the bias could carry a NaN into infinity. */
static inline uint16x4_t cmx_bf16_round4(float32x4_t v) {
  const uint32x4_t u = vreinterpretq_u32_f32(v);
  const uint32x4_t lsb = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
  const uint32x4_t r = vaddq_u32(vaddq_u32(u, vdupq_n_u32(0x7fff)), lsb);
  const uint32x4_t q = vorrq_u32(u, vdupq_n_u32(0x400000));
  const uint32x4_t ok = vceqq_f32(v, v);
  return vshrn_n_u32(vbslq_u32(ok, r, q), 16);
}

#endif
