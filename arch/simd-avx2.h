/* Thin AVX2+FMA wrappers (8 x f32) behind the portable vf/vm/vi API that
 * kernels/common/vmath.h and the elementwise bodies are written against.
 * Same names and semantics in simd-scalar.h, simd-avx512.h, simd-neon.h.
 * vm is a full-width lane mask (all-ones / all-zeros float lanes). */
#ifndef CMX_SIMD_AVX2_H
#define CMX_SIMD_AVX2_H
#ifndef __AVX2__
#error "arch/simd-avx2.h needs -mavx2 -mfma (only *-avx2.c files get them)"
#endif
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VF_N 8
/* VF_REGS: vector registers of the level (kernels size register tiles by
 * it: kernels/f32-qgemm/f32-qgemm-body.h). */
#define VF_REGS 16
#define CMX_SIMD_INLINE static inline __attribute__((always_inline))

typedef __m256 vf;
typedef __m256 vm;
typedef __m256i vi;

/* Lanes i < n of the mask are set: drives the masked tail load/store. */
CMX_SIMD_INLINE __m256i cmx_avx2_tail_mask(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

CMX_SIMD_INLINE vf vf_load(const float *p) { return _mm256_loadu_ps(p); }
CMX_SIMD_INLINE void vf_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
/* vf_stream: a non-temporal store, p aligned to the vector; vf_sfence
 * orders a run of them before the data is published. */
CMX_SIMD_INLINE void vf_stream(float *p, vf v) { _mm256_stream_ps(p, v); }
CMX_SIMD_INLINE void vf_sfence(void) { _mm_sfence(); }
/* maskload never touches the masked-off lanes, so no read past n. */
CMX_SIMD_INLINE vf vf_load_n(const float *p, size_t n) {
  return _mm256_maskload_ps(p, cmx_avx2_tail_mask(n));
}
CMX_SIMD_INLINE void vf_store_n(float *p, vf v, size_t n) {
  _mm256_maskstore_ps(p, cmx_avx2_tail_mask(n), v);
}
CMX_SIMD_INLINE vf vf_set1(float x) { return _mm256_set1_ps(x); }
CMX_SIMD_INLINE vf vf_zero(void) { return _mm256_setzero_ps(); }

CMX_SIMD_INLINE vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
CMX_SIMD_INLINE vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
CMX_SIMD_INLINE vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
CMX_SIMD_INLINE vf vf_div(vf a, vf b) { return _mm256_div_ps(a, b); }
/* vf_rcp: 1/a within 2^-14 relative for a and 1/a normal (rcpps is good to
 * 1.5 2^-12, so one Newton step: ~2^-22). Callers refine it once more. */
CMX_SIMD_INLINE vf vf_rcp(vf a) {
  __m256 r = _mm256_rcp_ps(a);
  return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(a, r, _mm256_set1_ps(1.0f)), r);
}
CMX_SIMD_INLINE vf vf_min(vf a, vf b) { return _mm256_min_ps(a, b); }
CMX_SIMD_INLINE vf vf_max(vf a, vf b) { return _mm256_max_ps(a, b); }
CMX_SIMD_INLINE vf vf_fmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
CMX_SIMD_INLINE vf vf_fnmadd(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
CMX_SIMD_INLINE vf vf_sqrt(vf a) { return _mm256_sqrt_ps(a); }
CMX_SIMD_INLINE vf vf_abs(vf a) {
  return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
}
CMX_SIMD_INLINE vf vf_neg(vf a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
CMX_SIMD_INLINE vf vf_floor(vf a) {
  return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
}
CMX_SIMD_INLINE vf vf_ceil(vf a) {
  return _mm256_round_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
}
CMX_SIMD_INLINE vf vf_round(vf a) {
  return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
/* Bitwise float ops: sign tricks in vmath.h. */
CMX_SIMD_INLINE vf vf_and(vf a, vf b) { return _mm256_and_ps(a, b); }
CMX_SIMD_INLINE vf vf_or(vf a, vf b) { return _mm256_or_ps(a, b); }
CMX_SIMD_INLINE vf vf_xor(vf a, vf b) { return _mm256_xor_ps(a, b); }

/* Ordered compares (false on NaN) except neq, which is true on NaN as in C. */
CMX_SIMD_INLINE vm vf_lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
CMX_SIMD_INLINE vm vf_le(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
CMX_SIMD_INLINE vm vf_gt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
CMX_SIMD_INLINE vm vf_ge(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
CMX_SIMD_INLINE vm vf_eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
CMX_SIMD_INLINE vm vf_neq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_NEQ_UQ); }
CMX_SIMD_INLINE vm vf_isnan(vf a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
CMX_SIMD_INLINE vf vf_select(vm m, vf t, vf f) { return _mm256_blendv_ps(f, t, m); }
/* vf_reg: x (simd-avx512.h keeps it out of masked memory operands; AVX2
 * has no masked ops to fold into). */
CMX_SIMD_INLINE vf vf_reg(vf x) { return x; }
CMX_SIMD_INLINE vm vm_and(vm a, vm b) { return _mm256_and_ps(a, b); }
CMX_SIMD_INLINE vm vm_or(vm a, vm b) { return _mm256_or_ps(a, b); }
CMX_SIMD_INLINE vm vm_not(vm a) {
  return _mm256_xor_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
}
CMX_SIMD_INLINE int vm_any(vm a) { return _mm256_movemask_ps(a) != 0; }
CMX_SIMD_INLINE vm vm_from_u8(const uint8_t *p) {
  __m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
  return _mm256_castsi256_ps(
      _mm256_xor_si256(_mm256_cmpeq_epi32(w, _mm256_setzero_si256()),
                       _mm256_set1_epi32(-1)));
}
CMX_SIMD_INLINE vm vm_from_u8_n(const uint8_t *p, size_t n) {
  uint8_t buf[VF_N] = {0};
  memcpy(buf, p, n);
  return vm_from_u8(buf);
}

CMX_SIMD_INLINE vi vf_as_vi(vf a) { return _mm256_castps_si256(a); }
CMX_SIMD_INLINE vf vi_as_vf(vi a) { return _mm256_castsi256_ps(a); }
/* Round to nearest even (MXCSR default); out of range gives INT32_MIN. */
CMX_SIMD_INLINE vi vf_cvt_vi(vf a) { return _mm256_cvtps_epi32(a); }
CMX_SIMD_INLINE vi vf_cvtt_vi(vf a) { return _mm256_cvttps_epi32(a); }
CMX_SIMD_INLINE vf vi_cvt_vf(vi a) { return _mm256_cvtepi32_ps(a); }
CMX_SIMD_INLINE vi vi_set1(int32_t x) { return _mm256_set1_epi32(x); }
CMX_SIMD_INLINE vi vi_add(vi a, vi b) { return _mm256_add_epi32(a, b); }
CMX_SIMD_INLINE vi vi_sub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
CMX_SIMD_INLINE vi vi_and(vi a, vi b) { return _mm256_and_si256(a, b); }
CMX_SIMD_INLINE vi vi_or(vi a, vi b) { return _mm256_or_si256(a, b); }
CMX_SIMD_INLINE vi vi_xor(vi a, vi b) { return _mm256_xor_si256(a, b); }
CMX_SIMD_INLINE vi vi_sll(vi a, int imm) { return _mm256_slli_epi32(a, imm); }
CMX_SIMD_INLINE vi vi_srl(vi a, int imm) { return _mm256_srli_epi32(a, imm); }
CMX_SIMD_INLINE vi vi_sra(vi a, int imm) { return _mm256_srai_epi32(a, imm); }
/* vi_srlv: lane-wise logical right shift by the lanes of c (0..31). */
CMX_SIMD_INLINE vi vi_srlv(vi a, vi c) { return _mm256_srlv_epi32(a, c); }
/* vi_load_u8: the VF_N bytes at p zero-extended to dword lanes (vpmovzxbd).
 * vi_load_u8_dup: lane t holds p[t / r], r = 1, 2 or 4 (VF_N / r bytes
 * read): bytes doubled or quadrupled by unpacks before the widening. */
CMX_SIMD_INLINE vi vi_load_u8(const uint8_t *p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
}
CMX_SIMD_INLINE vi vi_load_u8_dup(const uint8_t *p, int r) {
  if (r == 1) return vi_load_u8(p);
  int32_t w = 0;
  memcpy(&w, p, (size_t)(VF_N / r));
  __m128i x = _mm_cvtsi32_si128(w);
  x = _mm_unpacklo_epi8(x, x);
  if (r == 4) x = _mm_unpacklo_epi16(x, x);
  return _mm256_cvtepu8_epi32(x);
}
CMX_SIMD_INLINE vm vi_eq(vi a, vi b) {
  return _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b));
}
CMX_SIMD_INLINE vm vi_gt(vi a, vi b) {
  return _mm256_castsi256_ps(_mm256_cmpgt_epi32(a, b));
}

CMX_SIMD_INLINE float vf_hsum(vf a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* vf_hsum4x4: s[i * 4 + u] = vf_hsum(a[i][u]) for i < m (m <= 4), two
 * rows of a (8 vectors) reduced together: each level adds the halves of
 * two vectors in one (256 -> 128 -> 64 -> 32 bits), 21 shuffles and adds
 * for 8 sums against 6 each alone. It is vf_hsum's tree (lane j + j + 4,
 * then + 2, + 1), so the bits are the same. The accumulators go in as
 * b[2u + i]: the last level then leaves sum (i, u) in lane 4i + u. */
CMX_SIMD_INLINE void vf_hsum4x4(const vf a[4][4], int m, float *s) {
#pragma GCC unroll 2
  for (int i0 = 0; i0 < m; i0 += 2) {
    vf b[8], v[4], z[2];
#pragma GCC unroll 4
    for (int u = 0; u < 4; u++)
#pragma GCC unroll 2
      for (int i = 0; i < 2; i++)
        b[2 * u + i] = i0 + i < m ? a[i0 + i][u] : vf_zero();
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++)
      v[q] = _mm256_add_ps(_mm256_permute2f128_ps(b[2 * q], b[2 * q + 1], 0x20),
                           _mm256_permute2f128_ps(b[2 * q], b[2 * q + 1], 0x31));
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++)
      z[h] = _mm256_add_ps(_mm256_shuffle_ps(v[2 * h], v[2 * h + 1], 0x44),
                           _mm256_shuffle_ps(v[2 * h], v[2 * h + 1], 0xee));
    vf_store_n(s + 4 * i0,
               _mm256_add_ps(_mm256_shuffle_ps(z[0], z[1], 0x88),
                             _mm256_shuffle_ps(z[0], z[1], 0xdd)),
               m - i0 >= 2 ? 8 : 4);
  }
}
CMX_SIMD_INLINE float vf_hmax(vf a) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
CMX_SIMD_INLINE float vf_hmin(vf a) {
  __m128 s = _mm_min_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_min_ps(s, _mm_movehl_ps(s, s));
  s = _mm_min_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* vf_min_abs: min(|x|, c) for c >= 0 and x not NaN (one vrangeps on
 * AVX-512, where a NaN x gives c). */
CMX_SIMD_INLINE vf vf_min_abs(vf x, vf c) { return vf_min(c, vf_abs(x)); }
/* vf_nge: !(a >= b), so NaN lanes are set. */
CMX_SIMD_INLINE vm vf_nge(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_NGE_UQ); }

#endif
