/* One-lane (VF_N 1) implementation of the vf/vm/vi API: the reference
 * kernels run the same vmath.h algorithms through it, so ref and SIMD share
 * every polynomial. Rounding uses the 2^23 trick and fma is the exact
 * __builtin_fmaf, so results match the SIMD levels lane for lane. */
#ifndef CMX_SIMD_SCALAR_H
#define CMX_SIMD_SCALAR_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VF_N 1
/* VF_REGS: vector registers of the level (kernels size register tiles by
 * it: kernels/f32-qgemm/f32-qgemm-body.h); a compiler's guess here. */
#define VF_REGS 32
#define CMX_SIMD_INLINE static inline __attribute__((always_inline))

typedef float vf;
typedef int vm;
typedef int32_t vi;

CMX_SIMD_INLINE vi vf_as_vi(vf a) { vi r; memcpy(&r, &a, 4); return r; }
CMX_SIMD_INLINE vf vi_as_vf(vi a) { vf r; memcpy(&r, &a, 4); return r; }

CMX_SIMD_INLINE vf vf_load(const float *p) { return *p; }
CMX_SIMD_INLINE void vf_store(float *p, vf v) { *p = v; }
/* vf_stream / vf_sfence: plain store and nothing (see simd-avx512.h). */
CMX_SIMD_INLINE void vf_stream(float *p, vf v) { *p = v; }
CMX_SIMD_INLINE void vf_sfence(void) {}
CMX_SIMD_INLINE vf vf_load_n(const float *p, size_t n) { return n ? *p : 0.0f; }
CMX_SIMD_INLINE void vf_store_n(float *p, vf v, size_t n) { if (n) *p = v; }
CMX_SIMD_INLINE vf vf_set1(float x) { return x; }
CMX_SIMD_INLINE vf vf_zero(void) { return 0.0f; }

CMX_SIMD_INLINE vf vf_add(vf a, vf b) { return a + b; }
CMX_SIMD_INLINE vf vf_sub(vf a, vf b) { return a - b; }
CMX_SIMD_INLINE vf vf_mul(vf a, vf b) { return a * b; }
CMX_SIMD_INLINE vf vf_div(vf a, vf b) { return a / b; }
/* vf_rcp: 1/a within 2^-14 relative on every level; exact here. */
CMX_SIMD_INLINE vf vf_rcp(vf a) { return 1.0f / a; }
/* x86 minps/maxps semantics: the second operand when either is NaN. */
CMX_SIMD_INLINE vf vf_min(vf a, vf b) { return a < b ? a : b; }
CMX_SIMD_INLINE vf vf_max(vf a, vf b) { return a > b ? a : b; }
CMX_SIMD_INLINE vf vf_fmadd(vf a, vf b, vf c) { return __builtin_fmaf(a, b, c); }
CMX_SIMD_INLINE vf vf_fnmadd(vf a, vf b, vf c) { return __builtin_fmaf(-a, b, c); }
CMX_SIMD_INLINE vf vf_sqrt(vf a) { return __builtin_sqrtf(a); }
CMX_SIMD_INLINE vf vf_abs(vf a) { return vi_as_vf(vf_as_vi(a) & 0x7fffffff); }
CMX_SIMD_INLINE vf vf_neg(vf a) {
  return vi_as_vf((vi)((uint32_t)vf_as_vi(a) ^ 0x80000000u));
}
CMX_SIMD_INLINE vf vf_and(vf a, vf b) { return vi_as_vf(vf_as_vi(a) & vf_as_vi(b)); }
CMX_SIMD_INLINE vf vf_or(vf a, vf b) { return vi_as_vf(vf_as_vi(a) | vf_as_vi(b)); }
CMX_SIMD_INLINE vf vf_xor(vf a, vf b) { return vi_as_vf(vf_as_vi(a) ^ vf_as_vi(b)); }

/* Integral rounding without libm: below 2^23, adding and removing 2^23 rounds
 * to an integer in the current (nearest-even) mode; the sign is put back so
 * -0.3 -> -0 as in roundps. Larger values, inf and NaN are already integral. */
CMX_SIMD_INLINE vf cmx_scalar_rint_adj(vf x, int dir) {
  vf ax = vf_abs(x);
  if (!(ax < 8388608.0f)) return x;
  volatile vf big = 8388608.0f; /* keeps (ax + 2^23) - 2^23 unfolded */
  vf r = (ax + big) - big;
  vf s = vf_as_vi(x) < 0 ? -r : r;
  if (dir < 0 && s > x) s -= 1.0f;
  if (dir > 0 && s < x) s += 1.0f;
  return vi_as_vf((vf_as_vi(s) & 0x7fffffff) | (vf_as_vi(x) & (vi)0x80000000u));
}
CMX_SIMD_INLINE vf vf_floor(vf a) { return cmx_scalar_rint_adj(a, -1); }
CMX_SIMD_INLINE vf vf_ceil(vf a) { return cmx_scalar_rint_adj(a, 1); }
CMX_SIMD_INLINE vf vf_round(vf a) { return cmx_scalar_rint_adj(a, 0); }

CMX_SIMD_INLINE vm vf_lt(vf a, vf b) { return a < b; }
CMX_SIMD_INLINE vm vf_le(vf a, vf b) { return a <= b; }
CMX_SIMD_INLINE vm vf_gt(vf a, vf b) { return a > b; }
CMX_SIMD_INLINE vm vf_ge(vf a, vf b) { return a >= b; }
CMX_SIMD_INLINE vm vf_eq(vf a, vf b) { return a == b; }
CMX_SIMD_INLINE vm vf_neq(vf a, vf b) { return a != b; }
CMX_SIMD_INLINE vm vf_isnan(vf a) { return a != a; }
CMX_SIMD_INLINE vf vf_select(vm m, vf t, vf f) { return m ? t : f; }
/* vf_reg: x (see simd-avx512.h). */
CMX_SIMD_INLINE vf vf_reg(vf x) { return x; }
CMX_SIMD_INLINE vm vm_and(vm a, vm b) { return a && b; }
CMX_SIMD_INLINE vm vm_or(vm a, vm b) { return a || b; }
CMX_SIMD_INLINE vm vm_not(vm a) { return !a; }
CMX_SIMD_INLINE int vm_any(vm a) { return a != 0; }
CMX_SIMD_INLINE vm vm_from_u8(const uint8_t *p) { return p[0] != 0; }
CMX_SIMD_INLINE vm vm_from_u8_n(const uint8_t *p, size_t n) { return n && p[0]; }

/* Out of int32 range (and NaN) gives INT32_MIN, as cvtps2dq does. */
CMX_SIMD_INLINE vi vf_cvtt_vi(vf a) {
  return (a > -2147483904.0f && a < 2147483648.0f) ? (vi)a : INT32_MIN;
}
CMX_SIMD_INLINE vi vf_cvt_vi(vf a) { return vf_cvtt_vi(vf_round(a)); }
CMX_SIMD_INLINE vf vi_cvt_vf(vi a) { return (vf)a; }
CMX_SIMD_INLINE vi vi_set1(int32_t x) { return x; }
CMX_SIMD_INLINE vi vi_add(vi a, vi b) { return (vi)((uint32_t)a + (uint32_t)b); }
CMX_SIMD_INLINE vi vi_sub(vi a, vi b) { return (vi)((uint32_t)a - (uint32_t)b); }
CMX_SIMD_INLINE vi vi_and(vi a, vi b) { return a & b; }
CMX_SIMD_INLINE vi vi_or(vi a, vi b) { return a | b; }
CMX_SIMD_INLINE vi vi_xor(vi a, vi b) { return a ^ b; }
CMX_SIMD_INLINE vi vi_sll(vi a, int imm) { return (vi)((uint32_t)a << imm); }
CMX_SIMD_INLINE vi vi_srl(vi a, int imm) { return (vi)((uint32_t)a >> imm); }
CMX_SIMD_INLINE vi vi_sra(vi a, int imm) { return a >> imm; }
CMX_SIMD_INLINE vi vi_srlv(vi a, vi c) { return (vi)((uint32_t)a >> c); }
/* vi_load_u8: p[0]; vi_load_u8_dup: lane t holds p[t / r], so p[0]. */
CMX_SIMD_INLINE vi vi_load_u8(const uint8_t *p) { return p[0]; }
CMX_SIMD_INLINE vi vi_load_u8_dup(const uint8_t *p, int r) { return p[0]; }
CMX_SIMD_INLINE vm vi_eq(vi a, vi b) { return a == b; }
CMX_SIMD_INLINE vm vi_gt(vi a, vi b) { return a > b; }

CMX_SIMD_INLINE float vf_hsum(vf a) { return a; }
CMX_SIMD_INLINE float vf_hmax(vf a) { return a; }
CMX_SIMD_INLINE float vf_hmin(vf a) { return a; }

/* vf_hsum4x4: s[i * 4 + u] = vf_hsum(a[i][u]) for i < m (m <= 4). */
CMX_SIMD_INLINE void vf_hsum4x4(const vf a[4][4], int m, float *s) {
  for (int i = 0; i < m; i++)
    for (int u = 0; u < 4; u++) s[i * 4 + u] = a[i][u];
}

/* vf_lut32: tab[idx & 31] (vpermt2ps on AVX-512). */
#define VF_LUT32 1
CMX_SIMD_INLINE vf vf_lut32(const float *tab, vi idx) { return tab[idx & 31]; }

/* vf_min_abs: min(|x|, c) for c >= 0 and x not NaN (one vrangeps on
 * AVX-512, where a NaN x gives c). */
CMX_SIMD_INLINE vf vf_min_abs(vf x, vf c) { return vf_min(c, vf_abs(x)); }
/* vf_nge: !(a >= b), so NaN lanes are set. */
CMX_SIMD_INLINE vm vf_nge(vf a, vf b) { return !(a >= b); }

#endif
