/* f32 <-> f16 / bf16 conversions for NEON (aarch64), 4 lanes at a time.
 * f16 uses FCVTL / FCVTN (round to nearest even under the default FPCR,
 * NaN quietened as cvt-ref.c does); bf16 is integer work: a 16-bit shift
 * one way, a rounding bias and narrowing shift the other. Tails go through a
 * one-vector stack buffer. */
#include <arm_neon.h>
#include <string.h>

#include "kernels/cvt/cvt.h"
#include "kernels/cvt/cvt-lanes-neon.h"



void cmx_f16_f32_cvt_ukr__neon(size_t n, const void *x, void *y) {
  const uint16_t *h = x;
  float *f = y;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint16x8_t v = vld1q_u16(h + i);
    vst1q_f32(f + i, cmx_f16_widen4(vget_low_u16(v)));
    vst1q_f32(f + i + 4, cmx_f16_widen4(vget_high_u16(v)));
  }
  for (; i + 4 <= n; i += 4) vst1q_f32(f + i, cmx_f16_widen4(vld1_u16(h + i)));
  if (i < n) {
    uint16_t buf[4] = {0};
    float out[4];
    memcpy(buf, h + i, (n - i) * sizeof *h);
    vst1q_f32(out, cmx_f16_widen4(vld1_u16(buf)));
    memcpy(f + i, out, (n - i) * sizeof *f);
  }
}

void cmx_f32_f16_cvt_ukr__neon(size_t n, const void *x, void *y) {
  const float *f = x;
  uint16_t *h = y;
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    vst1q_u16(h + i, vcombine_u16(cmx_f16_narrow4(vld1q_f32(f + i)),
                                  cmx_f16_narrow4(vld1q_f32(f + i + 4))));
  for (; i + 4 <= n; i += 4) vst1_u16(h + i, cmx_f16_narrow4(vld1q_f32(f + i)));
  if (i < n) {
    float buf[4] = {0};
    uint16_t out[4];
    memcpy(buf, f + i, (n - i) * sizeof *f);
    vst1_u16(out, cmx_f16_narrow4(vld1q_f32(buf)));
    memcpy(h + i, out, (n - i) * sizeof *h);
  }
}

void cmx_bf16_f32_cvt_ukr__neon(size_t n, const void *x, void *y) {
  const uint16_t *h = x;
  float *f = y;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint16x8_t v = vld1q_u16(h + i);
    vst1q_u32((uint32_t *)(f + i), vshll_n_u16(vget_low_u16(v), 16));
    vst1q_u32((uint32_t *)(f + i + 4), vshll_n_u16(vget_high_u16(v), 16));
  }
  if (i < n) {
    uint16_t buf[8] = {0};
    uint32_t out[8];
    memcpy(buf, h + i, (n - i) * sizeof *h);
    uint16x8_t v = vld1q_u16(buf);
    vst1q_u32(out, vshll_n_u16(vget_low_u16(v), 16));
    vst1q_u32(out + 4, vshll_n_u16(vget_high_u16(v), 16));
    memcpy(f + i, out, (n - i) * sizeof *f);
  }
}


void cmx_f32_bf16_cvt_ukr__neon(size_t n, const void *x, void *y) {
  const float *f = x;
  uint16_t *h = y;
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    vst1q_u16(h + i, vcombine_u16(cmx_bf16_round4(vld1q_f32(f + i)),
                                  cmx_bf16_round4(vld1q_f32(f + i + 4))));
  if (i < n) {
    float buf[8] = {0};
    uint16_t out[8];
    memcpy(buf, f + i, (n - i) * sizeof *f);
    vst1q_u16(out, vcombine_u16(cmx_bf16_round4(vld1q_f32(buf)),
                                cmx_bf16_round4(vld1q_f32(buf + 4))));
    memcpy(h + i, out, (n - i) * sizeof *h);
  }
}

/* FCVTZS truncates, saturates and gives 0 for NaN: the contract as is. */
void cmx_f32_i32_cvt_ukr__neon(size_t n, const void *x, void *y) {
  const float *f = x;
  int32_t *q = y;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    vst1q_s32(q + i, vcvtq_s32_f32(vld1q_f32(f + i)));
    vst1q_s32(q + i + 4, vcvtq_s32_f32(vld1q_f32(f + i + 4)));
  }
  for (; i + 4 <= n; i += 4) vst1q_s32(q + i, vcvtq_s32_f32(vld1q_f32(f + i)));
  if (i < n) {
    float buf[4] = {0};
    int32_t out[4];
    memcpy(buf, f + i, (n - i) * sizeof *f);
    vst1q_s32(out, vcvtq_s32_f32(vld1q_f32(buf)));
    memcpy(q + i, out, (n - i) * sizeof *q);
  }
}

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

void cmx_f32_bool_cvt_ukr__neon(size_t n, const void *x, void *y) {
  const float *f = x;
  uint8_t *b = y;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) vst1q_u8(b + i, f32_bool16(f + i));
  if (i < n) {
    float buf[16] = {0};
    uint8_t out[16];
    memcpy(buf, f + i, (n - i) * sizeof *f);
    vst1q_u8(out, f32_bool16(buf));
    memcpy(b + i, out, n - i);
  }
}
