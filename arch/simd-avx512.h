/* Thin AVX-512 wrappers (16 x f32) behind the portable vf/vm/vi API that
 * kernels/common/vmath.h and the elementwise bodies are written against.
 * Same names and semantics in simd-scalar.h, simd-avx2.h, simd-neon.h.
 * vm is a __mmask16; tails use masked loads/stores (no fault past n). */
#ifndef CMX_SIMD_AVX512_H
#define CMX_SIMD_AVX512_H
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || \
    !defined(__AVX512DQ__)
#error "arch/simd-avx512.h needs -mavx512f/bw/vl/dq (only *-avx512.c files)"
#endif
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VF_N 16
/* VF_REGS: vector registers of the level (kernels size register tiles by
 * it: kernels/f32-qgemm/f32-qgemm-body.h). */
#define VF_REGS 32
#define CMX_SIMD_INLINE static inline __attribute__((always_inline))

typedef __m512 vf;
typedef __mmask16 vm;
typedef __m512i vi;

CMX_SIMD_INLINE __mmask16 cmx_avx512_tail_mask(size_t n) {
  return (__mmask16)((1u << n) - 1u);
}

CMX_SIMD_INLINE vf vf_load(const float *p) { return _mm512_loadu_ps(p); }
CMX_SIMD_INLINE void vf_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
/* vf_stream: a non-temporal store, p aligned to the vector; vf_sfence
 * orders a run of them before the data is published. */
CMX_SIMD_INLINE void vf_stream(float *p, vf v) { _mm512_stream_ps(p, v); }
CMX_SIMD_INLINE void vf_sfence(void) { _mm_sfence(); }
CMX_SIMD_INLINE vf vf_load_n(const float *p, size_t n) {
  return _mm512_maskz_loadu_ps(cmx_avx512_tail_mask(n), p);
}
CMX_SIMD_INLINE void vf_store_n(float *p, vf v, size_t n) {
  _mm512_mask_storeu_ps(p, cmx_avx512_tail_mask(n), v);
}
CMX_SIMD_INLINE vf vf_set1(float x) { return _mm512_set1_ps(x); }
CMX_SIMD_INLINE vf vf_zero(void) { return _mm512_setzero_ps(); }

CMX_SIMD_INLINE vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
CMX_SIMD_INLINE vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
CMX_SIMD_INLINE vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
CMX_SIMD_INLINE vf vf_div(vf a, vf b) { return _mm512_div_ps(a, b); }
/* vf_rcp: 1/a within 2^-14 relative for a and 1/a normal (rcp14 here; every
 * level meets that bound). Callers refine it with one fma Newton step. */
CMX_SIMD_INLINE vf vf_rcp(vf a) { return _mm512_rcp14_ps(a); }
CMX_SIMD_INLINE vf vf_min(vf a, vf b) { return _mm512_min_ps(a, b); }
CMX_SIMD_INLINE vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
CMX_SIMD_INLINE vf vf_fmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
CMX_SIMD_INLINE vf vf_fnmadd(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
CMX_SIMD_INLINE vf vf_sqrt(vf a) { return _mm512_sqrt_ps(a); }
CMX_SIMD_INLINE vf vf_abs(vf a) { return _mm512_abs_ps(a); }
CMX_SIMD_INLINE vf vf_neg(vf a) { return _mm512_xor_ps(a, _mm512_set1_ps(-0.0f)); }
CMX_SIMD_INLINE vf vf_floor(vf a) {
  return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
}
CMX_SIMD_INLINE vf vf_ceil(vf a) {
  return _mm512_roundscale_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
}
CMX_SIMD_INLINE vf vf_round(vf a) {
  return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
CMX_SIMD_INLINE vf vf_and(vf a, vf b) { return _mm512_and_ps(a, b); }
CMX_SIMD_INLINE vf vf_or(vf a, vf b) { return _mm512_or_ps(a, b); }
CMX_SIMD_INLINE vf vf_xor(vf a, vf b) { return _mm512_xor_ps(a, b); }

/* Ordered compares (false on NaN) except neq, which is true on NaN as in C. */
CMX_SIMD_INLINE vm vf_lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
CMX_SIMD_INLINE vm vf_le(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
CMX_SIMD_INLINE vm vf_gt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
CMX_SIMD_INLINE vm vf_ge(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
CMX_SIMD_INLINE vm vf_eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
CMX_SIMD_INLINE vm vf_neq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ); }
CMX_SIMD_INLINE vm vf_isnan(vf a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
CMX_SIMD_INLINE vf vf_select(vm m, vf t, vf f) { return _mm512_mask_blend_ps(m, f, t); }
/* vf_reg: x, held in a register. A select whose operands come straight
 * from loads is otherwise folded into a masked op with a memory source
 * (vmaxps m{k}, vblendmps m{k}); on Zen 5 such masked loads streaming from
 * DRAM ran at half speed: maximum of two 64 MiB arrays, 1 thread, 27.5 ->
 * 60.5 GB/s with the loads kept apart (tile plus streaming store). */
CMX_SIMD_INLINE vf vf_reg(vf x) {
  __asm__("" : "+v"(x));
  return x;
}
CMX_SIMD_INLINE vm vm_and(vm a, vm b) { return (vm)(a & b); }
CMX_SIMD_INLINE vm vm_or(vm a, vm b) { return (vm)(a | b); }
CMX_SIMD_INLINE vm vm_not(vm a) { return (vm)~a; }
CMX_SIMD_INLINE int vm_any(vm a) { return a != 0; }
CMX_SIMD_INLINE vm vm_from_u8(const uint8_t *p) {
  __m128i b = _mm_loadu_si128((const __m128i *)p);
  return _mm_test_epi8_mask(b, b);
}
CMX_SIMD_INLINE vm vm_from_u8_n(const uint8_t *p, size_t n) {
  __m128i b = _mm_maskz_loadu_epi8(cmx_avx512_tail_mask(n), p);
  return _mm_test_epi8_mask(b, b);
}

CMX_SIMD_INLINE vi vf_as_vi(vf a) { return _mm512_castps_si512(a); }
CMX_SIMD_INLINE vf vi_as_vf(vi a) { return _mm512_castsi512_ps(a); }
/* Round to nearest even (MXCSR default); out of range gives INT32_MIN. */
CMX_SIMD_INLINE vi vf_cvt_vi(vf a) { return _mm512_cvtps_epi32(a); }
CMX_SIMD_INLINE vi vf_cvtt_vi(vf a) { return _mm512_cvttps_epi32(a); }
CMX_SIMD_INLINE vf vi_cvt_vf(vi a) { return _mm512_cvtepi32_ps(a); }
CMX_SIMD_INLINE vi vi_set1(int32_t x) { return _mm512_set1_epi32(x); }
CMX_SIMD_INLINE vi vi_add(vi a, vi b) { return _mm512_add_epi32(a, b); }
CMX_SIMD_INLINE vi vi_sub(vi a, vi b) { return _mm512_sub_epi32(a, b); }
CMX_SIMD_INLINE vi vi_and(vi a, vi b) { return _mm512_and_si512(a, b); }
CMX_SIMD_INLINE vi vi_or(vi a, vi b) { return _mm512_or_si512(a, b); }
CMX_SIMD_INLINE vi vi_xor(vi a, vi b) { return _mm512_xor_si512(a, b); }
CMX_SIMD_INLINE vi vi_sll(vi a, int imm) { return _mm512_slli_epi32(a, (unsigned)imm); }
CMX_SIMD_INLINE vi vi_srl(vi a, int imm) { return _mm512_srli_epi32(a, (unsigned)imm); }
CMX_SIMD_INLINE vi vi_sra(vi a, int imm) { return _mm512_srai_epi32(a, (unsigned)imm); }
/* vi_srlv: lane-wise logical right shift by the lanes of c (0..31). */
CMX_SIMD_INLINE vi vi_srlv(vi a, vi c) { return _mm512_srlv_epi32(a, c); }
/* vi_load_u8: the VF_N bytes at p zero-extended to dword lanes (vpmovzxbd).
 * vi_load_u8_dup: lane t holds p[t / r], r = 1, 2 or 4 (VF_N / r bytes
 * read): bytes doubled or quadrupled by unpacks before the widening. */
CMX_SIMD_INLINE vi vi_load_u8(const uint8_t *p) {
  return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
}
CMX_SIMD_INLINE vi vi_load_u8_dup(const uint8_t *p, int r) {
  if (r == 1) return vi_load_u8(p);
  __m128i x;
  if (r == 2) {
    x = _mm_loadl_epi64((const __m128i *)p);
  } else {
    int32_t w;
    memcpy(&w, p, 4);
    x = _mm_cvtsi32_si128(w);
  }
  x = _mm_unpacklo_epi8(x, x);
  if (r == 4) x = _mm_unpacklo_epi16(x, x);
  return _mm512_cvtepu8_epi32(x);
}
CMX_SIMD_INLINE vm vi_eq(vi a, vi b) { return _mm512_cmpeq_epi32_mask(a, b); }
CMX_SIMD_INLINE vm vi_gt(vi a, vi b) { return _mm512_cmpgt_epi32_mask(a, b); }

CMX_SIMD_INLINE float vf_hsum(vf a) { return _mm512_reduce_add_ps(a); }
CMX_SIMD_INLINE float vf_hmax(vf a) { return _mm512_reduce_max_ps(a); }
CMX_SIMD_INLINE float vf_hmin(vf a) { return _mm512_reduce_min_ps(a); }

/* vf_hsum4x4: s[i * 4 + u] = vf_hsum(a[i][u]) for i < m (m <= 4), the
 * sums of up to 16 vectors reduced together: each level adds the halves of
 * two vectors in one (512 -> 256 -> 128 -> 64 -> 32 bits), 45 shuffles and
 * adds for 16 sums against about 8 each alone. It is vf_hsum's tree (lane
 * j + j + 8, then + 4, + 2, + 1), so the bits are the same. The
 * accumulators go in as b[4u + i]: the last level then leaves sum
 * (i, u) in lane 4i + u. */
CMX_SIMD_INLINE void vf_hsum4x4(const vf a[4][4], int m, float *s) {
  if (m == 1) { /* four sums: the first two levels, then a vector's own */
    vf v0 = _mm512_add_ps(_mm512_shuffle_f32x4(a[0][0], a[0][1], 0x44),
                          _mm512_shuffle_f32x4(a[0][0], a[0][1], 0xee));
    vf v1 = _mm512_add_ps(_mm512_shuffle_f32x4(a[0][2], a[0][3], 0x44),
                          _mm512_shuffle_f32x4(a[0][2], a[0][3], 0xee));
    vf w = _mm512_add_ps(_mm512_shuffle_f32x4(v0, v1, 0x88),
                         _mm512_shuffle_f32x4(v0, v1, 0xdd));
    w = _mm512_add_ps(w, _mm512_shuffle_ps(w, w, 0xee));
    w = _mm512_add_ps(w, _mm512_shuffle_ps(w, w, 0x55));
    _mm_storeu_ps(s, _mm512_castps512_ps128(_mm512_permutexvar_ps(
                         _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                          12, 8, 4, 0),
                         w)));
    return;
  }
  vf b[16], v[8], w[4], z[2];
#pragma GCC unroll 4
  for (int u = 0; u < 4; u++)
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) b[4 * u + i] = i < m ? a[i][u] : vf_zero();
#pragma GCC unroll 8
  for (int q = 0; q < 8; q++)
    v[q] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * q], b[2 * q + 1], 0x44),
                         _mm512_shuffle_f32x4(b[2 * q], b[2 * q + 1], 0xee));
#pragma GCC unroll 4
  for (int r = 0; r < 4; r++)
    w[r] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * r], v[2 * r + 1], 0x88),
                         _mm512_shuffle_f32x4(v[2 * r], v[2 * r + 1], 0xdd));
#pragma GCC unroll 2
  for (int h = 0; h < 2; h++)
    z[h] = _mm512_add_ps(_mm512_shuffle_ps(w[2 * h], w[2 * h + 1], 0x44),
                         _mm512_shuffle_ps(w[2 * h], w[2 * h + 1], 0xee));
  vf_store_n(s, _mm512_add_ps(_mm512_shuffle_ps(z[0], z[1], 0x88),
                              _mm512_shuffle_ps(z[0], z[1], 0xdd)),
             (size_t)m * 4);
}

/* vf_scalef: a 2^k for integral k (vscalefps: one rounding, also into the
 * denormals; inf past the range). Levels without it build 2^k in the
 * exponent field (kernels/common/vmath.h cmx_vm_scale2k). */
#define VF_SCALEF 1
CMX_SIMD_INLINE vf vf_scalef(vf a, vf k) { return _mm512_scalef_ps(a, k); }

/* vf_lut32: tab[idx & 31] per lane for a 32-float table (vpermt2ps, one p5
 * uop; the two table halves stay in registers across a loop). Levels that
 * define VF_LUT32 have it; AVX2 has no 32-entry permute and does not. */
#define VF_LUT32 1
CMX_SIMD_INLINE vf vf_lut32(const float *tab, vi idx) {
  return _mm512_permutex2var_ps(_mm512_loadu_ps(tab), idx, _mm512_loadu_ps(tab + 16));
}
/* vf_lut16: tab[idx & 15] for a 16-float table (vpermps: one p5 uop that,
 * unlike vpermt2ps, keeps its table register, so a loop needs no copy of
 * it per lookup); cheaper than a mask and a conversion (the quantised dot
 * kernel's codes, f32-qgemm-body.h). */
#define VF_LUT16 1
CMX_SIMD_INLINE vf vf_lut16(const float *tab, vi idx) {
  return _mm512_permutexvar_ps(idx, _mm512_loadu_ps(tab));
}

/* vf_min_abs: min(|x|, c) for c >= 0 and x not NaN (a NaN x gives c
 * here, NaN on other levels): one vrangeps (AVX512DQ, min of magnitudes,
 * sign cleared) instead of an and and a min. */
CMX_SIMD_INLINE vf vf_min_abs(vf x, vf c) { return _mm512_range_ps(x, c, 0x0a); }
/* vf_nge: !(a >= b), so NaN lanes are set (one vcmpps, NGE_UQ). */
CMX_SIMD_INLINE vm vf_nge(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_NGE_UQ); }

#endif
