/* The random fill microkernel (contract in random.h), written once against
 * the vf / vi API of arch/simd-*.h and the vmath.h polynomials: each ISA
 * file includes its SIMD header, then this, and defines its kernel with
 * CMX_RNG_DEFINE. Lane t of a step holds block b + t: Threefry's words
 * in two vectors, x0 (element 2 (b + t)) and x1 (element 2 (b + t) + 1),
 * turned into values lane by lane and stored interleaved. Every operation
 * is a lane-wise integer op, an exactly rounded float op or an explicit
 * fused multiply-add (__builtin_fmaf at the generic level), so every level
 * gives the same bits. */
#ifndef CMX_RANDOM_BODY_H
#define CMX_RANDOM_BODY_H
#include <stdint.h>
#include <string.h>

#include "kernels/common/vmath.h"
#include "kernels/random/random.h"

static const int32_t cmx_rng_iota_[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                          8, 9, 10, 11, 12, 13, 14, 15};

/* vi lanes 0, 1, ...; x rotated left by r (a constant); a and b (lanes
 * of elements 2t and 2t + 1) stored interleaved at p: 2 VF_N values. */
#if defined(CMX_SIMD_AVX512_H)
CMX_SIMD_INLINE vi cmx_rng_iota(void) {
  return _mm512_loadu_si512(cmx_rng_iota_);
}
#define CMX_RNG_ROTL(x, r) _mm512_rol_epi32(x, r)
CMX_SIMD_INLINE void cmx_rng_zip(void *p, vi a, vi b) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5,
                                       21, 6, 22, 7, 23);
  const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28,
                                       13, 29, 14, 30, 15, 31);
  _mm512_storeu_si512(p, _mm512_permutex2var_epi32(a, lo, b));
  _mm512_storeu_si512((char *)p + 64, _mm512_permutex2var_epi32(a, hi, b));
}
#elif defined(CMX_SIMD_AVX2_H)
CMX_SIMD_INLINE vi cmx_rng_iota(void) {
  return _mm256_loadu_si256((const __m256i *)cmx_rng_iota_);
}
#define CMX_RNG_ROTL(x, r) vi_or(vi_sll(x, r), vi_srl(x, 32 - (r)))
CMX_SIMD_INLINE void cmx_rng_zip(void *p, vi a, vi b) {
  const __m256i lo = _mm256_unpacklo_epi32(a, b);
  const __m256i hi = _mm256_unpackhi_epi32(a, b);
  _mm256_storeu_si256((__m256i *)p, _mm256_permute2x128_si256(lo, hi, 0x20));
  _mm256_storeu_si256((__m256i *)p + 1,
                      _mm256_permute2x128_si256(lo, hi, 0x31));
}
#elif defined(CMX_SIMD_NEON_H)
CMX_SIMD_INLINE vi cmx_rng_iota(void) { return vld1q_s32(cmx_rng_iota_); }
#define CMX_RNG_ROTL(x, r) vi_or(vi_sll(x, r), vi_srl(x, 32 - (r)))
CMX_SIMD_INLINE void cmx_rng_zip(void *p, vi a, vi b) {
  int32x4x2_t z = {{a, b}};
  vst2q_s32((int32_t *)p, z);
}
#else
CMX_SIMD_INLINE vi cmx_rng_iota(void) { return 0; }
#define CMX_RNG_ROTL(x, r) vi_or(vi_sll(x, r), vi_srl(x, 32 - (r)))
CMX_SIMD_INLINE void cmx_rng_zip(void *p, vi a, vi b) {
  memcpy(p, &a, 4);
  memcpy((char *)p + 4, &b, 4);
}
#endif

CMX_SIMD_INLINE vi cmx_rng_vf_bits(vf v) {
  vi r;
  memcpy(&r, &v, sizeof r);
  return r;
}

/* Threefry-2x32-20 on the lanes' blocks of CMX_RNG_U vectors (x0 low,
 * x1 high counter words), key schedule ks; injection after every fourth
 * round. The rounds are one chain of dependent ops per vector, so U
 * vectors side by side give the core independent work (16M f32, 1
 * thread, AVX-512, Zen 5 VM, U 1 / 2 / 4: uniform 6.1 / 5.6 / 4.2 ms,
 * normal 16.0 / 11.4 / 9.5 ms). */
#define CMX_RNG_U 4
#define CMX_RNG_R(r)                                                 \
  _Pragma("GCC unroll 4") for (int u = 0; u < CMX_RNG_U; u++) {      \
    x0[u] = vi_add(x0[u], x1[u]);                                    \
    x1[u] = CMX_RNG_ROTL(x1[u], r);                                  \
    x1[u] = vi_xor(x1[u], x0[u]);                                    \
  }
#define CMX_RNG_INJ(s)                                               \
  _Pragma("GCC unroll 4") for (int u = 0; u < CMX_RNG_U; u++) {      \
    x0[u] = vi_add(x0[u], vi_set1((int32_t)ks[(s) % 3]));            \
    x1[u] = vi_add(x1[u], vi_set1((int32_t)(ks[((s) + 1) % 3] + (s)))); \
  }
CMX_SIMD_INLINE void cmx_rng_threefry(const uint32_t ks[3], vi *x0, vi *x1) {
  _Pragma("GCC unroll 4") for (int u = 0; u < CMX_RNG_U; u++) {
    x0[u] = vi_add(x0[u], vi_set1((int32_t)ks[0]));
    x1[u] = vi_add(x1[u], vi_set1((int32_t)ks[1]));
  }
  CMX_RNG_R(13) CMX_RNG_R(15) CMX_RNG_R(26) CMX_RNG_R(6) CMX_RNG_INJ(1)
  CMX_RNG_R(17) CMX_RNG_R(29) CMX_RNG_R(16) CMX_RNG_R(24) CMX_RNG_INJ(2)
  CMX_RNG_R(13) CMX_RNG_R(15) CMX_RNG_R(26) CMX_RNG_R(6) CMX_RNG_INJ(3)
  CMX_RNG_R(17) CMX_RNG_R(29) CMX_RNG_R(16) CMX_RNG_R(24) CMX_RNG_INJ(4)
  CMX_RNG_R(13) CMX_RNG_R(15) CMX_RNG_R(26) CMX_RNG_R(6) CMX_RNG_INJ(5)
}

/* The top 24 bits of w as a float in [0, 1), or (0, 1] with one = 1. */
CMX_SIMD_INLINE vf cmx_rng_unit(vi w, int one) {
  vf u = vi_cvt_vf(vi_srl(w, 8));
  if (one) u = vf_add(u, vf_set1(1.0f));
  return vf_mul(u, vf_set1(0x1p-24f));
}

/* Block words x0, x1 of one vector's lanes -> 2 VF_N elements at p. */
CMX_SIMD_INLINE void cmx_rng_values(int kind, vi x0, vi x1, const float *prm,
                                    void *p) {
  if (kind == CMX_RAND_BITS) {
    cmx_rng_zip(p, x0, x1);
    return;
  }
  const vf a = vf_set1(prm[0]), d = vf_set1(prm[1]);
  vf v0, v1;
  if (kind == CMX_RAND_UNIFORM) {
    v0 = vf_fmadd(cmx_rng_unit(x0, 0), d, a);
    v1 = vf_fmadd(cmx_rng_unit(x1, 0), d, a);
    if (prm[1] > 0.0f) { /* rounding may reach b: the value just below */
      const vf b = vf_set1(prm[2]), below = vf_set1(prm[3]);
      v0 = vf_select(vf_ge(v0, b), below, v0);
      v1 = vf_select(vf_ge(v1, b), below, v1);
    }
  } else { /* Box-Muller: r cos t, r sin t */
    const vf r = vf_sqrt(
        vf_mul(vf_set1(-2.0f), vm_log(cmx_rng_unit(x0, 1))));
    const vf t = vf_mul(vf_set1(6.28318548f), cmx_rng_unit(x1, 0));
    v0 = vf_fmadd(vf_mul(r, vm_cos(t)), d, a);
    v1 = vf_fmadd(vf_mul(r, vm_sin(t)), d, a);
  }
  cmx_rng_zip(p, cmx_rng_vf_bits(v0), cmx_rng_vf_bits(v1));
}

/* 2 VF_N U elements from blocks lo, lo + 1, ... (high word hi) into p. */
#define CMX_RNG_STEP (2 * VF_N * CMX_RNG_U)
CMX_SIMD_INLINE void cmx_rng_step(int kind, const uint32_t ks[3], uint32_t lo,
                                  uint32_t hi, const float *prm, void *p) {
  vi x0[CMX_RNG_U], x1[CMX_RNG_U];
  _Pragma("GCC unroll 4") for (int u = 0; u < CMX_RNG_U; u++) {
    x0[u] = vi_add(vi_set1((int32_t)(lo + (uint32_t)(u * VF_N))),
                   cmx_rng_iota());
    x1[u] = vi_set1((int32_t)hi);
  }
  cmx_rng_threefry(ks, x0, x1);
  _Pragma("GCC unroll 4") for (int u = 0; u < CMX_RNG_U; u++)
    cmx_rng_values(kind, x0[u], x1[u], prm, (uint32_t *)p + 2 * VF_N * u);
}

CMX_SIMD_INLINE void cmx_rng_fill(const uint32_t key[2], uint64_t b0,
                                  size_t n, int kind, const float *prm,
                                  void *out) {
  const uint32_t ks[3] = {key[0], key[1], 0x1BD11BDAu ^ key[0] ^ key[1]};
  const uint32_t lo = (uint32_t)b0, hi = (uint32_t)(b0 >> 32);
  uint32_t *o = out;
  size_t t = 0;
  for (; t + CMX_RNG_STEP <= n; t += CMX_RNG_STEP)
    cmx_rng_step(kind, ks, lo + (uint32_t)(t / 2), hi, prm, o + t);
  if (t < n) {
    uint32_t tmp[CMX_RNG_STEP];
    cmx_rng_step(kind, ks, lo + (uint32_t)(t / 2), hi, prm, tmp);
    memcpy(o + t, tmp, (n - t) * sizeof *tmp);
  }
}

#define CMX_RNG_DEFINE(name)                                              \
  void name(const uint32_t key[2], uint64_t b0, size_t n, int kind,      \
            const float prm[4], void *out) {                             \
    cmx_rng_fill(key, b0, n, kind, prm, out);                            \
  }

#endif
