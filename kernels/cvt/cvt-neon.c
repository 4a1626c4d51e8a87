/* f32 <-> f16 / bf16 and f32 -> integer / bool conversions for NEON
 * (aarch64), 4 lanes a vector. f16 uses FCVTL / FCVTN (round to nearest
 * even under the default FPCR, NaN quietened as cvt-ref.c does); bf16 is
 * integer work: a 16-bit shift one way, a rounding bias and narrowing
 * shift the other. Every kernel is one step of a few vectors in the loop
 * of cvt-steps.h (tails through a stack buffer). */
#include <arm_neon.h>
#include <string.h>

#include "kernels/cvt/cvt.h"
#include "kernels/cvt/cvt-steps.h"
#include "kernels/cvt/cvt-lanes-neon.h"

/* 16 f32 -> 16 bytes: a lane is all ones where bits & 0x7fffffff != 0,
 * narrowed twice, masked to 1. */
static inline uint8x16_t f32_bool16(const float *f) {
  const uint32x4_t abs = vdupq_n_u32(0x7fffffff);
  uint16x8_t lo = vcombine_u16(
      vmovn_u32(vtstq_u32(vreinterpretq_u32_f32(vld1q_f32(f)), abs)),
      vmovn_u32(vtstq_u32(vreinterpretq_u32_f32(vld1q_f32(f + 4)), abs)));
  uint16x8_t hi = vcombine_u16(
      vmovn_u32(vtstq_u32(vreinterpretq_u32_f32(vld1q_f32(f + 8)), abs)),
      vmovn_u32(vtstq_u32(vreinterpretq_u32_f32(vld1q_f32(f + 12)), abs)));
  return vandq_u8(vcombine_u8(vmovn_u16(lo), vmovn_u16(hi)), vdupq_n_u8(1));
}

/* FCVTZS saturates to int32 (NaN 0), the saturating narrowings (SQXTN,
 * SQXTUN) to the type: together the contract's saturation. 16 f32 a step
 * for bytes, 8 for int16, 4 for uint32 (FCVTZU: saturating, NaN and x <= 0
 * give 0). */
static inline int16x8_t f32_i16x8(const float *f) {
  return vcombine_s16(vqmovn_s32(vcvtq_s32_f32(vld1q_f32(f))),
                      vqmovn_s32(vcvtq_s32_f32(vld1q_f32(f + 4))));
}
#define F16_F32_STEP(s, d) vst1q_f32(d, cmx_f16_widen4(vld1_u16(s)))
#define F32_F16_STEP(s, d) vst1_u16(d, cmx_f16_narrow4(vld1q_f32(s)))
#define BF16_F32_STEP(s, d) \
  vst1q_u32((uint32_t *)(d), vshll_n_u16(vld1_u16(s), 16))
#define BF16_STEP(s, d) vst1_u16(d, cmx_bf16_round4(vld1q_f32(s)))
/* FCVTZS truncates, saturates and gives 0 for NaN: the contract as is. */
#define I32_STEP(s, d) vst1q_s32(d, vcvtq_s32_f32(vld1q_f32(s)))
#define BOOL_STEP(s, d) vst1q_u8(d, f32_bool16(s))
#define I8_STEP(s, d)                                 \
  vst1q_s8(d, vcombine_s8(vqmovn_s16(f32_i16x8(s)),   \
                          vqmovn_s16(f32_i16x8((s) + 8))))
#define U8_STEP(s, d)                                 \
  vst1q_u8(d, vcombine_u8(vqmovun_s16(f32_i16x8(s)),  \
                          vqmovun_s16(f32_i16x8((s) + 8))))
#define I16_STEP(s, d) vst1q_s16(d, f32_i16x8(s))
#define U32_STEP(s, d) vst1q_u32(d, vcvtq_u32_f32(vld1q_f32(s)))
/* 4 f64 -> 4 int32: FCVTZS to int64 (truncated, saturated, NaN 0), then
 * the saturating narrowing SQXTN to int32. */
#define F64_I32_STEP(s, d)                                        \
  vst1q_s32(d, vcombine_s32(vqmovn_s64(vcvtq_s64_f64(vld1q_f64(s))), \
                            vqmovn_s64(vcvtq_s64_f64(vld1q_f64((s) + 2)))))
/* 8 bytes -> 8 f32: widened twice (SXTL / UXTL) and converted. */
#define I8_F32_STEP(s, d)                                              \
  do {                                                                 \
    const int16x8_t w_ = vmovl_s8(vld1_s8(s));                         \
    vst1q_f32(d, vcvtq_f32_s32(vmovl_s16(vget_low_s16(w_))));          \
    vst1q_f32((d) + 4, vcvtq_f32_s32(vmovl_s16(vget_high_s16(w_))));   \
  } while (0)
#define U8_F32_STEP(s, d)                                              \
  do {                                                                 \
    const uint16x8_t w_ = vmovl_u8(vld1_u8(s));                        \
    vst1q_f32(d, vcvtq_f32_u32(vmovl_u16(vget_low_u16(w_))));          \
    vst1q_f32((d) + 4, vcvtq_f32_u32(vmovl_u16(vget_high_u16(w_))));   \
  } while (0)
CMX_CVT_STEPS(cmx_f16_f32_cvt_ukr__neon, uint16_t, float, 4, F16_F32_STEP)
CMX_CVT_STEPS(cmx_f32_f16_cvt_ukr__neon, float, uint16_t, 4, F32_F16_STEP)
CMX_CVT_STEPS(cmx_bf16_f32_cvt_ukr__neon, uint16_t, float, 4, BF16_F32_STEP)
CMX_CVT_STEPS(cmx_f32_bf16_cvt_ukr__neon, float, uint16_t, 4, BF16_STEP)
CMX_CVT_STEPS(cmx_f32_i32_cvt_ukr__neon, float, int32_t, 4, I32_STEP)
CMX_CVT_STEPS(cmx_f32_bool_cvt_ukr__neon, float, uint8_t, 16, BOOL_STEP)
CMX_CVT_STEPS(cmx_f32_i8_cvt_ukr__neon, float, int8_t, 16, I8_STEP)
CMX_CVT_STEPS(cmx_f32_u8_cvt_ukr__neon, float, uint8_t, 16, U8_STEP)
CMX_CVT_STEPS(cmx_f32_i16_cvt_ukr__neon, float, int16_t, 8, I16_STEP)
CMX_CVT_STEPS(cmx_f32_u32_cvt_ukr__neon, float, uint32_t, 4, U32_STEP)
CMX_CVT_STEPS(cmx_i8_f32_cvt_ukr__neon, int8_t, float, 8, I8_F32_STEP)
CMX_CVT_STEPS(cmx_u8_f32_cvt_ukr__neon, uint8_t, float, 8, U8_F32_STEP)
CMX_CVT_STEPS(cmx_f64_i32_cvt_ukr__neon, double, int32_t, 4, F64_I32_STEP)
