/* Thin AArch64 NEON wrappers (4 x f32) behind the portable vf/vm/vi API that
 * kernels/common/vmath.h and the elementwise bodies are written against.
 * Same names and semantics in simd-scalar.h, simd-avx2.h, simd-avx512.h.
 * vm is a uint32x4_t lane mask; tails go through a small stack buffer. */
#ifndef CMX_SIMD_NEON_H
#define CMX_SIMD_NEON_H
#if !defined(__ARM_NEON) || !defined(__aarch64__)
#error "arch/simd-neon.h needs AArch64 NEON (only *-neon.c files)"
#endif
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VF_N 4
/* VF_REGS: vector registers of the level (kernels size register tiles by
 * it: kernels/f32-qgemm/f32-qgemm-body.h). */
#define VF_REGS 32
#define CMX_SIMD_INLINE static inline __attribute__((always_inline))

typedef float32x4_t vf;
typedef uint32x4_t vm;
typedef int32x4_t vi;

CMX_SIMD_INLINE vf vf_load(const float *p) { return vld1q_f32(p); }
CMX_SIMD_INLINE void vf_store(float *p, vf v) { vst1q_f32(p, v); }
/* vf_stream / vf_sfence: plain store and nothing (see simd-avx512.h). */
CMX_SIMD_INLINE void vf_stream(float *p, vf v) { vst1q_f32(p, v); }
CMX_SIMD_INLINE void vf_sfence(void) {}
CMX_SIMD_INLINE vf vf_load_n(const float *p, size_t n) {
  float buf[VF_N] = {0};
  memcpy(buf, p, n * sizeof(float));
  return vld1q_f32(buf);
}
CMX_SIMD_INLINE void vf_store_n(float *p, vf v, size_t n) {
  float buf[VF_N];
  vst1q_f32(buf, v);
  memcpy(p, buf, n * sizeof(float));
}
CMX_SIMD_INLINE vf vf_set1(float x) { return vdupq_n_f32(x); }
CMX_SIMD_INLINE vf vf_zero(void) { return vdupq_n_f32(0.0f); }

CMX_SIMD_INLINE vf vf_add(vf a, vf b) { return vaddq_f32(a, b); }
CMX_SIMD_INLINE vf vf_sub(vf a, vf b) { return vsubq_f32(a, b); }
CMX_SIMD_INLINE vf vf_mul(vf a, vf b) { return vmulq_f32(a, b); }
CMX_SIMD_INLINE vf vf_div(vf a, vf b) { return vdivq_f32(a, b); }
/* vf_rcp: 1/a within 2^-14 relative for a and 1/a normal (frecpe gives 8
 * bits, one frecps step ~16). Callers refine it with one fma Newton step. */
CMX_SIMD_INLINE vf vf_rcp(vf a) {
  float32x4_t r = vrecpeq_f32(a);
  return vmulq_f32(r, vrecpsq_f32(a, r));
}
CMX_SIMD_INLINE vf vf_min(vf a, vf b) { return vminq_f32(a, b); }
CMX_SIMD_INLINE vf vf_max(vf a, vf b) { return vmaxq_f32(a, b); }
CMX_SIMD_INLINE vf vf_fmadd(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
CMX_SIMD_INLINE vf vf_fnmadd(vf a, vf b, vf c) { return vfmsq_f32(c, a, b); }
CMX_SIMD_INLINE vf vf_sqrt(vf a) { return vsqrtq_f32(a); }
CMX_SIMD_INLINE vf vf_abs(vf a) { return vabsq_f32(a); }
CMX_SIMD_INLINE vf vf_neg(vf a) { return vnegq_f32(a); }
CMX_SIMD_INLINE vf vf_floor(vf a) { return vrndmq_f32(a); }
CMX_SIMD_INLINE vf vf_ceil(vf a) { return vrndpq_f32(a); }
CMX_SIMD_INLINE vf vf_round(vf a) { return vrndnq_f32(a); }
CMX_SIMD_INLINE vf vf_and(vf a, vf b) {
  return vreinterpretq_f32_u32(
      vandq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
CMX_SIMD_INLINE vf vf_or(vf a, vf b) {
  return vreinterpretq_f32_u32(
      vorrq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
CMX_SIMD_INLINE vf vf_xor(vf a, vf b) {
  return vreinterpretq_f32_u32(
      veorq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}

/* Ordered compares (false on NaN) except neq, which is true on NaN as in C. */
CMX_SIMD_INLINE vm vf_lt(vf a, vf b) { return vcltq_f32(a, b); }
CMX_SIMD_INLINE vm vf_le(vf a, vf b) { return vcleq_f32(a, b); }
CMX_SIMD_INLINE vm vf_gt(vf a, vf b) { return vcgtq_f32(a, b); }
CMX_SIMD_INLINE vm vf_ge(vf a, vf b) { return vcgeq_f32(a, b); }
CMX_SIMD_INLINE vm vf_eq(vf a, vf b) { return vceqq_f32(a, b); }
CMX_SIMD_INLINE vm vf_neq(vf a, vf b) { return vmvnq_u32(vceqq_f32(a, b)); }
CMX_SIMD_INLINE vm vf_isnan(vf a) { return vmvnq_u32(vceqq_f32(a, a)); }
CMX_SIMD_INLINE vf vf_select(vm m, vf t, vf f) { return vbslq_f32(m, t, f); }
/* vf_reg: x (see simd-avx512.h; nothing to avoid on NEON). */
CMX_SIMD_INLINE vf vf_reg(vf x) { return x; }
CMX_SIMD_INLINE vm vm_and(vm a, vm b) { return vandq_u32(a, b); }
CMX_SIMD_INLINE vm vm_or(vm a, vm b) { return vorrq_u32(a, b); }
CMX_SIMD_INLINE vm vm_not(vm a) { return vmvnq_u32(a); }
CMX_SIMD_INLINE int vm_any(vm a) { return vmaxvq_u32(a) != 0; }
CMX_SIMD_INLINE vm vm_from_u8(const uint8_t *p) {
  uint32_t w;
  memcpy(&w, p, sizeof w);
  uint16x4_t h = vget_low_u16(vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(w))));
  return vtstq_u32(vmovl_u16(h), vmovl_u16(h));
}
CMX_SIMD_INLINE vm vm_from_u8_n(const uint8_t *p, size_t n) {
  uint8_t buf[VF_N] = {0};
  memcpy(buf, p, n);
  return vm_from_u8(buf);
}

CMX_SIMD_INLINE vi vf_as_vi(vf a) { return vreinterpretq_s32_f32(a); }
CMX_SIMD_INLINE vf vi_as_vf(vi a) { return vreinterpretq_f32_s32(a); }
CMX_SIMD_INLINE vi vf_cvt_vi(vf a) { return vcvtnq_s32_f32(a); }
CMX_SIMD_INLINE vi vf_cvtt_vi(vf a) { return vcvtq_s32_f32(a); }
CMX_SIMD_INLINE vf vi_cvt_vf(vi a) { return vcvtq_f32_s32(a); }
CMX_SIMD_INLINE vi vi_set1(int32_t x) { return vdupq_n_s32(x); }
CMX_SIMD_INLINE vi vi_add(vi a, vi b) { return vaddq_s32(a, b); }
CMX_SIMD_INLINE vi vi_sub(vi a, vi b) { return vsubq_s32(a, b); }
CMX_SIMD_INLINE vi vi_and(vi a, vi b) { return vandq_s32(a, b); }
CMX_SIMD_INLINE vi vi_or(vi a, vi b) { return vorrq_s32(a, b); }
CMX_SIMD_INLINE vi vi_xor(vi a, vi b) { return veorq_s32(a, b); }
/* Register-count shifts: the _n forms need literal immediates, these fold to
 * them when imm is constant after inlining. */
CMX_SIMD_INLINE vi vi_sll(vi a, int imm) { return vshlq_s32(a, vdupq_n_s32(imm)); }
CMX_SIMD_INLINE vi vi_srl(vi a, int imm) {
  return vreinterpretq_s32_u32(
      vshlq_u32(vreinterpretq_u32_s32(a), vdupq_n_s32(-imm)));
}
CMX_SIMD_INLINE vi vi_sra(vi a, int imm) { return vshlq_s32(a, vdupq_n_s32(-imm)); }
/* vi_srlv: lane-wise logical right shift by the lanes of c (0..31): ushl
 * by the negated counts. */
CMX_SIMD_INLINE vi vi_srlv(vi a, vi c) {
  return vreinterpretq_s32_u32(vshlq_u32(vreinterpretq_u32_s32(a), vnegq_s32(c)));
}
/* vi_load_u8: the VF_N bytes at p zero-extended to dword lanes (two uxtl).
 * vi_load_u8_dup: lane t holds p[t / r], r = 1, 2 or 4 (VF_N / r bytes
 * read): bytes doubled by a zip, or one byte broadcast. */
CMX_SIMD_INLINE vi vi_load_u8(const uint8_t *p) {
  uint32_t w;
  memcpy(&w, p, sizeof w);
  uint16x8_t h = vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(w)));
  return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(h)));
}
CMX_SIMD_INLINE vi vi_load_u8_dup(const uint8_t *p, int r) {
  if (r == 1) return vi_load_u8(p);
  if (r == 4) return vdupq_n_s32(p[0]);
  uint16_t w;
  memcpy(&w, p, sizeof w);
  uint8x8_t x = vreinterpret_u8_u16(vdup_n_u16(w));
  uint16x8_t h = vmovl_u8(vzip1_u8(x, x));
  return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(h)));
}
CMX_SIMD_INLINE vm vi_eq(vi a, vi b) { return vceqq_s32(a, b); }
CMX_SIMD_INLINE vm vi_gt(vi a, vi b) { return vcgtq_s32(a, b); }

CMX_SIMD_INLINE float vf_hsum(vf a) { return vaddvq_f32(a); }
CMX_SIMD_INLINE float vf_hmax(vf a) { return vmaxvq_f32(a); }
CMX_SIMD_INLINE float vf_hmin(vf a) { return vminvq_f32(a); }

/* vf_hsum4x4: s[i * 4 + u] = vf_hsum(a[i][u]) for i < m (m <= 4), a row of
 * four sums at a time by pairwise adds (6 instead of 8): vaddvq_f32's tree
 * ((a0 + a1) + (a2 + a3)), so the bits are the same. */
CMX_SIMD_INLINE void vf_hsum4x4(const vf a[4][4], int m, float *s) {
#pragma GCC unroll 4
  for (int i = 0; i < m; i++)
    vst1q_f32(s + 4 * i, vpaddq_f32(vpaddq_f32(a[i][0], a[i][1]),
                                    vpaddq_f32(a[i][2], a[i][3])));
}

/* vf_lut32: tab[idx & 31] per lane (vpermt2ps on AVX-512); lane by lane
 * here: correct, not tuned. */
#define VF_LUT32 1
CMX_SIMD_INLINE vf vf_lut32(const float *tab, vi idx) {
  int32_t i[4];
  vst1q_s32(i, idx);
  float r[4] = {tab[i[0] & 31], tab[i[1] & 31], tab[i[2] & 31], tab[i[3] & 31]};
  return vld1q_f32(r);
}

/* vf_min_abs: min(|x|, c) for c >= 0 and x not NaN (one vrangeps on
 * AVX-512, where a NaN x gives c). */
CMX_SIMD_INLINE vf vf_min_abs(vf x, vf c) { return vf_min(c, vf_abs(x)); }
/* vf_nge: !(a >= b), so NaN lanes are set. */
CMX_SIMD_INLINE vm vf_nge(vf a, vf b) { return vmvnq_u32(vcgeq_f32(a, b)); }

#endif
