/* Vector transcendentals written once against the vf/vm/vi API of
 * arch/simd-*.h: include one simd header first. The scalar reference and
 * every ISA run the same algorithm, so they differ only where gcc contracts
 * a*b+c differently. No libm in the hot path; sin/cos call libm per lane
 * only for vectors holding |x| > 1e5 (or inf).
 *
 * Measured max error in ulp against float64 libm: kernels/sweep lines of
 * tests/test-kernels-elementwise.c (1M random points per function, half
 * uniform, half log-uniform in magnitude; same figure on ref/AVX2/AVX-512);
 * the test asserts the bound in the last column.
 *   function   domain swept                        measured  asserted
 *   exp        [-104, 89] (denormal results too)     0.96      1
 *   exp_sumterm [-87, 88.7] (4M points, scalar)     0.97      -
 *   expm1      [-30, 89]                             1.42      2
 *   log        [1e-45, 3e38]                         0.75      1
 *   log1p      (-1, 1e30]                            1.31      2
 *   sin, cos   [-1e5, 1e5] (libm beyond)             1.52      2
 *   tanh       [-20, 20]                             2.35      3
 *   sigmoid    [-110, 110]                           2.28      3
 *   silu       [-100, 100]                           2.84      3
 *     (table levels, vf_lut32: tanh 0.98, sigmoid 1.11, silu 1.73 over the
 *     same sweeps, sigmoid and silu from a degree-5 table: 0.99 and 1.68
 *     with degree 6; the figures 2.35, 2.28, 2.84 are AVX2's exp path)
 *   erf        [-10, 10]                             2.42      3
 *   gelu       [-20, 20]                             4.35      5
 *     (table lanes, x >= -6: 1.87 at x ~ -6e-5; AVX2 and x < -6 run the
 *     exp path, whose figure is the 4.35)
 *   gelu_tanh  [-20, 20]                             3.12      4
 *     (table levels: 1.56, worst in the exp lanes x < -5.2; table lanes
 *     alone 1.58 on [-5.2, 5.2]; the 3.12 is AVX2's exp path)
 *   softplus   [-100, 100]                           1.70      3
 *   pow        a in [1e-30, 1e4], |b log a| < 87     4.19      5
 * gelu: roundings of exp, tau, Q and the products (worst at x ~ -3.2, and
 * near Phi = 1/2); the erfc tail itself is 7.5e-9 relative.
 * gelu_tanh = x sigmoid(w), w = 2z: for x < 0 the result is ~e^w, so w is
 * carried as a double-float (an error d in w would cost |d| 2^24 ulp).
 * sigmoid, silu, gelu, gelu_tanh, erf, softplus keep every intermediate
 * normal (a 2^48-biased exp); only lanes whose result is itself denormal
 * still pay Intel's ~100-cycle assist (gelu on [-20, 20]: 17% such lanes,
 * 6x slower).
 * pow: log|a| is a double-float good to ~2^-30, so the error grows with
 * |b log a| (worst near overflow/underflow). */
#ifndef CMX_VMATH_H
#define CMX_VMATH_H
#include <math.h>

#ifndef VF_N
#error "include an arch/simd-*.h header before kernels/common/vmath.h"
#endif

#define CMX_VMATH_INLINE static inline __attribute__((always_inline))

/* ln2 split so k*LN2_HI is exact for |k| < 2^8 under fma (Cody-Waite). */
#define CMX_VM_LOG2E 0x1.715476p+0f
#define CMX_VM_LN2_HI 0x1.62e43p-1f
#define CMX_VM_LN2_LO -0x1.05c61p-29f
/* t = x + 1.5 2^23 rounds x to an integer k held in t's low mantissa bits. */
#define CMX_VM_RND_MAGIC 0x1.8p23f

/* 2^n for n in [-126, 127], built in the exponent field. */
CMX_VMATH_INLINE vf cmx_vm_pow2i(vi n) {
  return vi_as_vf(vi_sll(vi_add(n, vi_set1(127)), 23));
}

/* expm1(r) = r + r^2 P(r) on |r| <= ln2/2: minimax fit, 0.1 ulp. */
CMX_VMATH_INLINE vf cmx_vm_expm1_poly(vf r) {
  vf p = vf_set1(0x1.9d8b86p-13f);
  p = vf_fmadd(p, r, vf_set1(0x1.6d508cp-10f));
  p = vf_fmadd(p, r, vf_set1(0x1.11135ap-7f));
  p = vf_fmadd(p, r, vf_set1(0x1.5554d8p-5f));
  p = vf_fmadd(p, r, vf_set1(0x1.555554p-3f));
  p = vf_fmadd(p, r, vf_set1(0.5f));
  return vf_fmadd(vf_mul(r, r), p, r);
}

/* k = round(x / ln2), returns r = x - k ln2 (|r| <= ln2/2). */
CMX_VMATH_INLINE vf cmx_vm_exp_reduce(vf x, vf *k) {
  *k = vf_round(vf_mul(x, vf_set1(CMX_VM_LOG2E)));
  vf r = vf_fnmadd(*k, vf_set1(CMX_VM_LN2_HI), x);
  return vf_fnmadd(*k, vf_set1(CMX_VM_LN2_LO), r);
}

/* 2^k (1 + em1) with k in [-150, 144]: scaled in two halves so results in
 * the denormal range round once and large k overflows cleanly to inf. */
CMX_VMATH_INLINE vf cmx_vm_exp_scale(vf k, vf em1) {
  vi n = vf_cvt_vi(k);
  vi n1 = vi_sra(n, 1);
  vf s1 = cmx_vm_pow2i(n1);
  vf s2 = cmx_vm_pow2i(vi_sub(n, n1));
  return vf_mul(vf_fmadd(em1, s1, s1), s2);
}

/* v 2^k for integral k in [-150, 144] and v in [1/2, 2], rounded once:
 * vscalefps where the level has it, else the two-half product of
 * cmx_vm_exp_scale (v 2^(k/2) is exact, the second factor rounds). */
CMX_VMATH_INLINE vf cmx_vm_scale2k(vf v, vf k) {
#ifdef VF_SCALEF
  return vf_scalef(v, k);
#else
  vi n = vf_cvt_vi(k);
  vi n1 = vi_sra(n, 1);
  return vf_mul(vf_mul(v, cmx_vm_pow2i(n1)), cmx_vm_pow2i(vi_sub(n, n1)));
#endif
}

/* Clamping keeps k in range; x is the second operand of min/max so a NaN x
 * survives on x86 (minps returns its second operand), NEON and scalar.
 * k = round(x log2e) from the 1.5 2^23 trick (no vrndscaleps), and
 * 2^k (1 + em1) = scale2k(1 + em1, k): s1 (1 + em1) of cmx_vm_exp_scale
 * rounds exactly as 1 + em1 does (s1 is a power of 2), so the result is the
 * same, in 15 vector ops on AVX-512 (vscalefps) against 23. */
CMX_VMATH_INLINE vf vm_exp(vf x) {
  x = vf_max(vf_set1(-104.0f), vf_min(vf_set1(100.0f), x));
  vf t = vf_fmadd(x, vf_set1(CMX_VM_LOG2E), vf_set1(CMX_VM_RND_MAGIC));
  vf k = vf_sub(t, vf_set1(CMX_VM_RND_MAGIC));
  vf r = vf_fnmadd(k, vf_set1(CMX_VM_LN2_HI), x);
  r = vf_fnmadd(k, vf_set1(CMX_VM_LN2_LO), r);
  return cmx_vm_scale2k(vf_add(cmx_vm_expm1_poly(r), vf_set1(1.0f)), k);
}

/* exp(x) for the sums of logsumexp and softmax: 13 vector ops against
 * vm_exp's 19. k = round(x log2e) comes from the 1.5 * 2^23 trick
 * (t's low mantissa bits hold k) and 2^k is built from t's bits directly,
 * which stays a normal number because x is clamped below at -87 (k >= -126):
 * terms under exp(-87) count as exp(-87) ~ 1.6e-38, invisible beside a sum
 * holding exp(0) = 1. 0.97 ulp (vm_exp: 0.96) on [-87, 88.7]; above, x
 * is clamped to 89, whose 2^k (k = 128) is inf, so the result is inf
 * (callers retry: kernels/f32-reduce/f32-reduce.h). A NaN x stays NaN. */
CMX_VMATH_INLINE vf vm_exp_sumterm(vf x) {
  x = vf_max(vf_set1(-87.0f), vf_min(vf_set1(89.0f), x));
  vf t = vf_fmadd(x, vf_set1(CMX_VM_LOG2E), vf_set1(CMX_VM_RND_MAGIC));
  vf k = vf_sub(t, vf_set1(CMX_VM_RND_MAGIC));
  vf r = vf_fnmadd(k, vf_set1(CMX_VM_LN2_HI), x);
  r = vf_fnmadd(k, vf_set1(CMX_VM_LN2_LO), r);
  /* bits(t) = bits(magic) + k, so (bits(t) + 127 - bits(magic)) << 23 is
   * the exponent field of 2^k. */
  vf s = vi_as_vf(vi_sll(vi_add(vf_as_vi(t), vi_set1(127 - 0x4b400000)), 23));
  return vf_fmadd(cmx_vm_expm1_poly(r), s, s);
}

/* exp(x + xlo) for |xlo| << 1 (pow feeds its double-float product here). */
CMX_VMATH_INLINE vf cmx_vm_exp_lo(vf x, vf xlo) {
  vf xc = vf_max(vf_set1(-104.0f), vf_min(vf_set1(100.0f), x));
  xlo = vf_select(vf_eq(xc, x), xlo, vf_zero());
  vf k;
  vf r = vf_add(cmx_vm_exp_reduce(xc, &k), xlo);
  return cmx_vm_exp_scale(k, cmx_vm_expm1_poly(r));
}

/* expm1 = 2^k expm1(r) + (2^k - 1), evaluated as 2 (t p + (t - 1/2)) with
 * t = 2^(k-1) so k = 128 (x near ln FLT_MAX) does not overflow t itself. */
CMX_VMATH_INLINE vf vm_expm1(vf x) {
  vf xc = vf_max(vf_set1(-25.0f), vf_min(vf_set1(89.0f), x));
  vf k;
  vf r = cmx_vm_exp_reduce(xc, &k);
  vf p = cmx_vm_expm1_poly(r);
  vf t = cmx_vm_pow2i(vi_sub(vf_cvt_vi(k), vi_set1(1)));
  vf y = vf_fmadd(t, p, vf_sub(t, vf_set1(0.5f)));
  y = vf_add(y, y);
  return vf_select(vf_eq(x, vf_zero()), x, y); /* keeps -0 */
}

/* x = m 2^e with m in [sqrt(1/2), sqrt(2)); returns f = m - 1 (exact). */
CMX_VMATH_INLINE vf cmx_vm_log_decomp(vf x, vi *e) {
  vi b = vi_sub(vf_as_vi(x), vi_set1(0x3f3504f3));
  *e = vi_sra(b, 23);
  vf m = vi_as_vf(vi_add(vi_and(b, vi_set1(0x007fffff)), vi_set1(0x3f3504f3)));
  return vf_sub(m, vf_set1(1.0f));
}

/* e ln2 + log1p(f) for f in [sqrt(1/2)-1, sqrt(2)-1] (Cephes logf
 * polynomial), the e ln2 split in two so the sum rounds once. */
CMX_VMATH_INLINE vf cmx_vm_log_core(vf f, vf e) {
  vf z = vf_mul(f, f);
  vf p = vf_set1(7.0376836292e-2f);
  p = vf_fmadd(p, f, vf_set1(-1.1514610310e-1f));
  p = vf_fmadd(p, f, vf_set1(1.1676998740e-1f));
  p = vf_fmadd(p, f, vf_set1(-1.2420140846e-1f));
  p = vf_fmadd(p, f, vf_set1(1.4249322787e-1f));
  p = vf_fmadd(p, f, vf_set1(-1.6668057665e-1f));
  p = vf_fmadd(p, f, vf_set1(2.0000714765e-1f));
  p = vf_fmadd(p, f, vf_set1(-2.4999993993e-1f));
  p = vf_fmadd(p, f, vf_set1(3.3333331174e-1f));
  vf y = vf_mul(vf_mul(f, z), p);
  y = vf_fmadd(e, vf_set1(CMX_VM_LN2_LO), y);
  y = vf_fnmadd(vf_set1(0.5f), z, y);
  return vf_fmadd(e, vf_set1(CMX_VM_LN2_HI), vf_add(f, y));
}

CMX_VMATH_INLINE vf vm_log(vf x) {
  vm tiny = vf_lt(x, vf_set1(0x1p-126f)); /* denormals: scale up by 2^23 */
  vf xs = vf_select(tiny, vf_mul(x, vf_set1(0x1p23f)), x);
  vi ei;
  vf f = cmx_vm_log_decomp(xs, &ei);
  vf e = vi_cvt_vf(ei);
  e = vf_select(tiny, vf_sub(e, vf_set1(23.0f)), e);
  vf y = cmx_vm_log_core(f, e);
  y = vf_select(vm_not(vf_ge(x, vf_zero())), vf_set1(NAN), y);
  y = vf_select(vf_eq(x, vf_zero()), vf_set1(-INFINITY), y);
  return vf_select(vf_eq(x, vf_set1(INFINITY)), x, y);
}

/* u = 1 + x rounds; c = (1 + x) - u is recovered exactly (musl's log1pf
 * correction) and, scaled by 2^-e instead of divided by u, added to f so
 * the polynomial sees the unrounded m - 1. For e >= 25, c is below half an
 * ulp of the result and is dropped. */
CMX_VMATH_INLINE vf vm_log1p(vf x) {
  vf one = vf_set1(1.0f);
  vf u = vf_add(x, one);
  vi ei;
  vf f = cmx_vm_log_decomp(u, &ei);
  vf e = vi_cvt_vf(ei);
  vf c = vf_select(vf_ge(e, vf_set1(2.0f)), vf_sub(one, vf_sub(u, x)),
                   vf_sub(x, vf_sub(u, one)));
  vf scale = vi_as_vf(vi_sub(vi_set1(0x3f800000), vi_sll(ei, 23)));
  c = vf_select(vf_lt(e, vf_set1(25.0f)), vf_mul(c, scale), vf_zero());
  vf y = cmx_vm_log_core(vf_add(f, c), e);
  y = vf_select(vm_not(vf_ge(x, vf_set1(-1.0f))), vf_set1(NAN), y);
  y = vf_select(vf_eq(x, vf_set1(-1.0f)), vf_set1(-INFINITY), y);
  y = vf_select(vf_eq(x, vf_set1(INFINITY)), x, y);
  return vf_select(vf_eq(x, vf_zero()), x, y); /* keeps -0 */
}

/* The activations below avoid vdivps (10-16 cycles a zmm on Intel, more
 * than the rest of sigmoid) and vrndscaleps: k comes from the rounding
 * trick and quotients from vf_rcp refined once. */

/* The table where the level has vf_lut32 for every lane outside tail(x)
 * whatever its neighbours hold, so each level gives the reference's result
 * lane for lane; the exp-based path exact(x) for the tail lanes (NaN among
 * them: the tables clamp with vf_min_abs, which drops a NaN on AVX-512) and
 * on levels without vf_lut32 (AVX2). */
#ifdef VF_LUT32
#define CMX_VM_LUT_OR_EXP(x, tail, lut, exact)                       \
  do {                                                               \
    vm t_ = tail(x);                                                 \
    if (__builtin_expect(!vm_any(t_), 1)) return lut(x);             \
    return vf_select(t_, exact(x), lut(x));                          \
  } while (0)
#else
#define CMX_VM_LUT_OR_EXP(x, tail, lut, exact) return exact(x)
#endif

#ifdef VF_LUT32
/* Table activations (levels with vf_lut32): f(a) on [0, A] as 32 degree-6
 * polynomials in u = a - c_j, the interval j picked per lane by vpermt2ps
 * from the low 5 bits of a rounding-trick float t (j = round(...)). tab[0]
 * holds the centres c_j, chosen near the middle of each interval where f(c_j)
 * is a float to ~2^-40 (so the constant term adds no rounding), tab[1..7]
 * the coefficients of u^0 .. u^6: least squares on Chebyshev nodes weighted
 * by 1/f (relative error), each refit after rounding the lower ones, over
 * the interval widened by 1% (a lane near an end may round into either).
 * 15 ops, 8 of them vpermt2ps (p5), 7 deep: no exp, no division. Horner:
 * Estrin (one op more, 4 fmas deep) measured no faster. */
CMX_VMATH_INLINE vf cmx_vm_lut_poly6(const float (*tab)[32], vf t, vf a) {
  vi j = vf_as_vi(t);
  vf u = vf_sub(a, vf_lut32(tab[0], j));
  vf p = vf_lut32(tab[7], j);
  p = vf_fmadd(p, u, vf_lut32(tab[6], j));
  p = vf_fmadd(p, u, vf_lut32(tab[5], j));
  p = vf_fmadd(p, u, vf_lut32(tab[4], j));
  p = vf_fmadd(p, u, vf_lut32(tab[3], j));
  p = vf_fmadd(p, u, vf_lut32(tab[2], j));
  return vf_fmadd(p, u, vf_lut32(tab[1], j));
}

/* As cmx_vm_lut_poly6 with degree 5 (tab[1..6]: u^0 .. u^5): 13 ops, 7 of
 * them vpermt2ps, 6 deep, for a function whose degree-5 fit is accurate
 * enough (sigmoid). Estrin (one op more, 3 deep) measured slower: sigmoid
 * 13.6 -> 14.3 TSC cycles a zmm in L1. */
CMX_VMATH_INLINE vf cmx_vm_lut_poly5(const float (*tab)[32], vf t, vf a) {
  vi j = vf_as_vi(t);
  vf u = vf_sub(a, vf_lut32(tab[0], j));
  vf p = vf_lut32(tab[6], j);
  p = vf_fmadd(p, u, vf_lut32(tab[5], j));
  p = vf_fmadd(p, u, vf_lut32(tab[4], j));
  p = vf_fmadd(p, u, vf_lut32(tab[3], j));
  p = vf_fmadd(p, u, vf_lut32(tab[2], j));
  return vf_fmadd(p, u, vf_lut32(tab[1], j));
}

/* sigmoid(-a) = 1 / (1 + e^a) on a in [0, 17.7], intervals j = round(a / h),
 * h = 9/16 (31.5 h = 17.72), degree 5 (cmx_vm_lut_poly5): 1.11 ulp (the
 * fit, in float arithmetic; 0.80 with degree 6, which cost sigmoid 14.6 and
 * silu 13.8 TSC cycles a zmm in L1 against 13.5 and 13.1). Past 17.7
 * sigmoid(a) rounds to 1 and a sigmoid(-a) is under half an ulp of a. */
#define CMX_VM_SIGM_A 17.7f
#define CMX_VM_SIGM_INVH 0x1.c71c72p+0f
static const float cmx_vm_sigm_tab[7][32] __attribute__((aligned(64))) = {
  {
    0.0f, 0x1.1e48f8p-1f, 0x1.1e5b4p+0f, 0x1.adee8cp+0f, 0x1.1f07a8p+1f,
    0x1.6b4e9p+1f, 0x1.ab4ab4p+1f, 0x1.fd4b7cp+1f, 0x1.20b5bp+2f,
    0x1.41bbb6p+2f, 0x1.6b9fc6p+2f, 0x1.883acp+2f, 0x1.acbbp+2f,
    0x1.d92e4ep+2f, 0x1.f45e42p+2f, 0x1.104bfcp+3f, 0x1.20681p+3f,
    0x1.30c7bap+3f, 0x1.45dbep+3f, 0x1.53a57ep+3f, 0x1.6720c2p+3f,
    0x1.7b153ap+3f, 0x1.8de0bp+3f, 0x1.9db3fep+3f, 0x1.ad1038p+3f,
    0x1.c2dfaep+3f, 0x1.d23f32p+3f, 0x1.e4d7d8p+3f, 0x1.f6d7b4p+3f,
    0x1.039448p+4f, 0x1.0d31dp+4f, 0x1.15b76ap+4f,
  },
  {
    0x1p-1f, 0x1.747952p-2f, 0x1.f85eecp-3f, 0x1.41e376p-3f, 0x1.893cc2p-4f,
    0x1.c4ea28p-5f, 0x1.18d8fp-5f, 0x1.2cdd58p-6f, 0x1.6417ccp-7f,
    0x1.aafaccp-8f, 0x1.bd2d7p-9f, 0x1.1d123ap-9f, 0x1.42a11ep-10f,
    0x1.426136p-11f, 0x1.a5b292p-12f, 0x1.a6ade8p-13f, 0x1.ff05b4p-14f,
    0x1.325dfep-14f, 0x1.3d1cd8p-15f, 0x1.9c3834p-16f, 0x1.c081p-17f,
    0x1.e0d02p-18f, 0x1.0b3d4cp-18f, 0x1.45f3aep-19f, 0x1.936262p-20f,
    0x1.98147p-21f, 0x1.f8d1c2p-22f, 0x1.1a53cap-22f, 0x1.41bc6ep-23f,
    0x1.8273c4p-24f, 0x1.a7c5a4p-25f, 0x1.f19086p-26f,
  },
  {
    -0x1.fffffep-3f, -0x1.d9fa34p-3f, -0x1.7c282ap-3f, -0x1.0f4bf2p-3f,
    -0x1.637c0ep-4f, -0x1.abdfc6p-5f, -0x1.0f381ap-5f, -0x1.2756fap-6f,
    -0x1.603928p-7f, -0x1.a8329cp-8f, -0x1.bbaa66p-9f, -0x1.1c7378p-9f,
    -0x1.423b6ep-10f, -0x1.422e82p-11f, -0x1.a5871ap-12f, -0x1.a69826p-13f,
    -0x1.fef5c4p-14f, -0x1.32583ap-14f, -0x1.3d19dp-15f, -0x1.9c358ep-16f,
    -0x1.c07f6cp-17f, -0x1.e0cf46p-18f, -0x1.0b3d0ep-18f, -0x1.45f374p-19f,
    -0x1.93622ep-20f, -0x1.98146p-21f, -0x1.f8d1a2p-22f, -0x1.1a53bcp-22f,
    -0x1.41bc62p-23f, -0x1.8273b6p-24f, -0x1.a7c594p-25f, -0x1.f19078p-26f,
  },
  {
    -0x1.39ee5cp-21f, 0x1.0250d8p-5f, 0x1.81d092p-5f, 0x1.7408bp-5f,
    0x1.1f3b2ap-5f, 0x1.7c90c2p-6f, 0x1.f93f28p-7f, 0x1.1c7e2ep-7f,
    0x1.58911ep-8f, 0x1.a2ab46p-9f, 0x1.b8a672p-10f, 0x1.1b36a2p-10f,
    0x1.41703p-11f, 0x1.41c902p-12f, 0x1.a5302p-13f, 0x1.a66c46p-14f,
    0x1.fed4d2p-15f, 0x1.324c7p-15f, 0x1.3d1352p-16f, 0x1.9c3074p-17f,
    0x1.c07bb2p-18f, 0x1.e0cc9cp-19f, 0x1.0b3c36p-19f, 0x1.45f27p-20f,
    0x1.93623ep-21f, 0x1.981366p-22f, 0x1.f8d14p-23f, 0x1.1a536p-23f,
    0x1.41bbfap-24f, 0x1.827404p-25f, 0x1.a7c54ap-26f, 0x1.f1908cp-27f,
  },
  {
    0x1.55761ep-6f, 0x1.eb1114p-7f, 0x1.ccfb04p-9f, -0x1.28cd6ap-8f,
    -0x1.c6404ep-8f, -0x1.87c31ap-8f, -0x1.21c21ep-8f, -0x1.5f323ap-9f,
    -0x1.b756ccp-10f, -0x1.0fd8f2p-10f, -0x1.21b9a4p-11f, -0x1.76679ep-12f,
    -0x1.aa8e28p-13f, -0x1.abe33ep-14f, -0x1.186642p-14f, -0x1.195348p-15f,
    -0x1.54624p-16f, -0x1.985a9ep-17f, -0x1.a69e36p-18f, -0x1.12d478p-18f,
    -0x1.2b0466p-19f, -0x1.407d1cp-20f, -0x1.643cb6p-21f, -0x1.b2a254p-22f,
    -0x1.0cfb82p-22f, -0x1.10076p-23f, -0x1.509d96p-24f, -0x1.788102p-25f,
    -0x1.ad0d6ap-26f, -0x1.01b1cp-26f, -0x1.1a92d6p-27f, -0x1.4bc6fcp-28f,
  },
  {
    -0x1.790a66p-15f, -0x1.2de97cp-8f, -0x1.39892ep-8f, -0x1.259f8ap-9f,
    -0x1.203082p-13f, 0x1.767778p-11f, 0x1.94d6fcp-11f, 0x1.294d68p-11f,
    0x1.90db4p-12f, 0x1.01f3f4p-12f, 0x1.1a7246p-13f, 0x1.706dfcp-14f,
    0x1.a7304ap-15f, 0x1.aa6068p-16f, 0x1.180132p-16f, 0x1.196e86p-17f,
    0x1.555b3p-18f, 0x1.993604p-19f, 0x1.a79edcp-20f, 0x1.1308aap-20f,
    0x1.2bebd8p-21f, 0x1.419e3cp-22f, 0x1.652d4ap-23f, 0x1.b43152p-24f,
    0x1.0ce876p-24f, 0x1.110aa6p-25f, 0x1.5145a6p-26f, 0x1.798acep-27f,
    0x1.ae40b8p-28f, 0x1.01ab44p-28f, 0x1.1b2e9ap-29f, 0x1.4c106p-30f,
  },
  {
    -0x1.03c56ep-9f, -0x1.d64844p-11f, 0x1.65365ap-11f, 0x1.ed339p-11f,
    0x1.02d5p-11f, 0x1.e61f32p-14f, -0x1.6d8f56p-15f, -0x1.38e5aep-14f,
    -0x1.04811cp-14f, -0x1.6262e2p-15f, -0x1.bedcbcp-16f, -0x1.0b5726p-16f,
    -0x1.39a9d6p-17f, -0x1.6c5558p-18f, -0x1.a237bep-19f, -0x1.e0115ap-20f,
    -0x1.11fcbcp-20f, -0x1.37a3ccp-21f, -0x1.662d5ep-22f, -0x1.97923ep-23f,
    -0x1.ce4bf8p-24f, -0x1.08e92ap-24f, -0x1.2e196p-25f, -0x1.558eeap-26f,
    -0x1.892cf2p-27f, -0x1.be433p-28f, -0x1.fb8828p-29f, -0x1.200d1ep-29f,
    -0x1.490874p-30f, -0x1.798072p-31f, -0x1.ab3efcp-32f, -0x1.edd026p-33f,
  },
};

CMX_VMATH_INLINE vf cmx_vm_sigm_neg(vf a) {
  vf t = vf_fmadd(a, vf_set1(CMX_VM_SIGM_INVH), vf_set1(CMX_VM_RND_MAGIC));
  return cmx_vm_lut_poly5(cmx_vm_sigm_tab, t, a);
}

/* tanh(a) on [0, 9.1], h = 37/128 (31.5 h = 9.105; tanh rounds to 1 past
 * 9.01): 0.97 ulp. Interval 0 has c_0 = 0 and u^0 coefficient 0 (tanh is
 * odd), so tiny a gives a (c_1 ~ 1) and -0 stays -0 with the sign or. */
#define CMX_VM_TANH_A 9.1f
#define CMX_VM_TANH_INVH 0x1.bacf92p+1f
static const float cmx_vm_tanh_tab[8][32] __attribute__((aligned(64))) = {
  {
    0.0f, 0x1.2774f6p-2f, 0x1.2ad62p-1f, 0x1.b9c7fep-1f, 0x1.2a713ep+0f,
    0x1.73475cp+0f, 0x1.bc7b24p+0f, 0x1.0345dp+1f, 0x1.2784dcp+1f,
    0x1.4f3fecp+1f, 0x1.6e6a96p+1f, 0x1.97f99cp+1f, 0x1.bd9da6p+1f,
    0x1.e5cdbep+1f, 0x1.021994p+2f, 0x1.157bfp+2f, 0x1.28d226p+2f,
    0x1.39f49p+2f, 0x1.4971c8p+2f, 0x1.6120b8p+2f, 0x1.73e3d2p+2f,
    0x1.87b6e8p+2f, 0x1.9726f4p+2f, 0x1.a77fa8p+2f, 0x1.bca14cp+2f,
    0x1.cfdaep+2f, 0x1.e0d5bap+2f, 0x1.f703fap+2f, 0x1.03ae44p+3f,
    0x1.0a66a2p+3f, 0x1.154236p+3f, 0x1.1ce678p+3f,
  },
  {
    0.0f, 0x1.1f85a2p-2f, 0x1.0cf746p-1f, 0x1.653c3cp-1f, 0x1.a55582p-1f,
    0x1.caa03ap-1f, 0x1.e12c3ep-1f, 0x1.ee7c0cp-1f, 0x1.f5fbf8p-1f,
    0x1.fa9786p-1f, 0x1.fcab88p-1f, 0x1.fe41fep-1f, 0x1.ff081ep-1f,
    0x1.ff7ba6p-1f, 0x1.ffadacp-1f, 0x1.ffd312p-1f, 0x1.ffe772p-1f,
    0x1.fff1ap-1f, 0x1.fff724p-1f, 0x1.fffbc6p-1f, 0x1.fffda6p-1f,
    0x1.fffebcp-1f, 0x1.ffff38p-1f, 0x1.ffff88p-1f, 0x1.ffffc2p-1f,
    0x1.ffffdep-1f, 0x1.ffffecp-1f, 0x1.fffff6p-1f, 0x1.fffffap-1f,
    0x1.fffffcp-1f, 0x1.fffffep-1f, 0x1.fffffep-1f,
  },
  {
    0x1p+0f, 0x1.d7a262p-1f, 0x1.72b4acp-1f, 0x1.06bf7ap-1f, 0x1.4a8da6p-2f,
    0x1.94bc98p-3f, 0x1.de62dcp-4f, 0x1.137416p-4f, 0x1.3d5e7ap-5f,
    0x1.584a8ap-6f, 0x1.a8d92ap-7f, 0x1.bd3fbep-8f, 0x1.ef4bfep-9f,
    0x1.0891cap-9f, 0x1.493588p-10f, 0x1.67603ap-11f, 0x1.88d696p-12f,
    0x1.cbf98cp-13f, 0x1.1b7d8ep-13f, 0x1.0e7ee2p-14f, 0x1.2cff5p-15f,
    0x1.43ffd2p-16f, 0x1.8fffcap-17f, 0x1.dfffcep-18f, 0x1.efffd4p-19f,
    0x1.100016p-19f, 0x1.400078p-20f, 0x1.40016ap-21f, 0x1.7ffe8p-22f,
    0x1.0292c8p-22f, 0x1.0001eap-23f, 0x1.4398d2p-23f,
  },
  {
    -0x1.729c3cp-24f, -0x1.08daa4p-2f, -0x1.857b46p-2f, -0x1.6ea6d6p-2f,
    -0x1.1004aap-2f, -0x1.6a8b5ap-3f, -0x1.c19538p-4f, -0x1.0a07bep-4f,
    -0x1.372922p-5f, -0x1.54a78ep-6f, -0x1.a615c8p-7f, -0x1.bbbbe4p-8f,
    -0x1.ee5c48p-9f, -0x1.084d6cp-9f, -0x1.4900fap-10f, -0x1.67407p-11f,
    -0x1.88c252p-12f, -0x1.cbecbap-13f, -0x1.1b7784p-13f, -0x1.0e7df6p-14f,
    -0x1.2cfffcp-15f, -0x1.440c14p-16f, -0x1.901832p-17f, -0x1.e00186p-18f,
    -0x1.f02916p-19f, -0x1.0fe47p-19f, -0x1.40434ap-20f, -0x1.405de4p-21f,
    -0x1.81554cp-22f, 0x1.e6c5eap-22f, -0x1.00aeacp-23f, 0x1.2dbe82p-17f,
  },
  {
    -0x1.555328p-2f, -0x1.e01982p-3f, -0x1.5459bp-5f, 0x1.4299fep-4f,
    0x1.c6a8acp-4f, 0x1.7baeb4p-4f, 0x1.070eap-4f, 0x1.4a39cap-5f,
    0x1.8e920ep-6f, 0x1.bc9502p-7f, 0x1.15b95ap-7f, 0x1.25ce0ep-8f,
    0x1.4852cp-9f, 0x1.5fb028p-10f, 0x1.b61baep-11f, 0x1.deacap-12f,
    0x1.05bb0ap-12f, 0x1.328b8cp-13f, 0x1.79d9f2p-14f, 0x1.68a3d4p-15f,
    0x1.9150eep-16f, 0x1.af53b2p-17f, 0x1.0ab382p-17f, 0x1.3ffec2p-18f,
    0x1.4aefa2p-19f, 0x1.6a24f8p-20f, 0x1.aa6b54p-21f, 0x1.a5e06ap-22f,
    0x1.03370cp-22f, -0x1.1ad99cp-18f, 0x1.538548p-24f, -0x1.e272d4p-15f,
  },
  {
    -0x1.11f44ap-12f, 0x1.3761d2p-3f, 0x1.306e6p-3f, 0x1.07c42p-4f,
    -0x1.6fa508p-9f, -0x1.89ac66p-6f, -0x1.8569a8p-6f, -0x1.1b2652p-6f,
    -0x1.6eab72p-7f, -0x1.a9928cp-8f, -0x1.0e7a22p-8f, -0x1.21c844p-9f,
    -0x1.45c52ep-10f, -0x1.5e3628p-11f, -0x1.b47f34p-12f, -0x1.de6228p-13f,
    -0x1.0685bcp-13f, -0x1.32591p-14f, -0x1.7b0fb8p-15f, -0x1.6701d6p-16f,
    -0x1.8f00eap-17f, -0x1.a31b9p-18f, -0x1.f16e36p-19f, -0x1.3ee23ap-19f,
    -0x1.2d968ep-20f, -0x1.8da9a6p-21f, -0x1.4a747cp-22f, -0x1.46276ap-23f,
    -0x1.348dcp-26f, -0x1.aaeff6p-15f, -0x1.791bf8p-27f, -0x1.5f1fcep-11f,
  },
  {
    0x1.1872f4p-3f, 0x1.c748cap-5f, -0x1.8184d4p-5f, -0x1.e5a194p-5f,
    -0x1.c483f6p-6f, -0x1.50dcaep-8f, 0x1.c1cc04p-9f, 0x1.359426p-8f,
    0x1.e7346ep-9f, 0x1.3754a4p-9f, 0x1.9a0642p-10f, 0x1.c47de2p-11f,
    0x1.019b4ap-11f, 0x1.16e276p-12f, 0x1.5e54c6p-13f, 0x1.7e594ap-14f,
    0x1.a7c2d2p-15f, 0x1.ec09bp-16f, 0x1.4780ccp-16f, 0x1.1ef986p-17f,
    0x1.4278b2p-18f, 0x1.2da88p-18f, 0x1.9cb25ap-20f, 0x1.fd58eep-21f,
    0x1.ae8a3p-22f, 0x1.7c6618p-22f, 0x1.83cbcep-23f, 0x1.2ee114p-21f,
    -0x1.5beba6p-24f, 0x1.0e98cap-11f, 0x1.2fe426p-25f, 0x1.bda582p-8f,
  },
  {
    -0x1.743c74p-6f, -0x1.24d5dap-4f, -0x1.19951p-5f, 0x1.8aedp-7f,
    0x1.26329ap-6f, 0x1.1e3802p-7f, 0x1.206986p-9f, -0x1.0512cp-12f,
    -0x1.89ee2cp-11f, -0x1.4fdd7p-11f, -0x1.ce3158p-12f, -0x1.1ec5ecp-12f,
    -0x1.5b0aa2p-13f, -0x1.7d361ap-14f, -0x1.1a94eep-14f, -0x1.adb2bp-16f,
    -0x1.30aaaap-18f, -0x1.53c76cp-17f, -0x1.2f7a7cp-17f, -0x1.4bea88p-18f,
    -0x1.79da7p-19f, 0x1.bf18d4p-19f, -0x1.fb599cp-18f, -0x1.c9f9bcp-22f,
    -0x1.938a5cp-19f, 0x1.93ff48p-20f, -0x1.434fc6p-19f, 0x1.235352p-20f,
    -0x1.4e7d6p-19f, -0x1.36884ap-10f, -0x1.9880dep-21f, -0x1.ff6b92p-7f,
  },
};
#endif

/* e^r - 1 = r + r^2 P(r) on |r| <= ln2/2 + 2^-9, P of degree 4 (minimax
 * for the relative error, float coefficients refit after rounding each:
 * 1.4e-8 = 0.12 ulp at 1): one fma fewer than cmx_vm_expm1_poly, for the
 * activations, whose bounds are a few ulp. */
CMX_VMATH_INLINE vf cmx_vm_expm1_poly6(vf r) {
  vf p = vf_set1(0x1.6ba214p-10f);
  p = vf_fmadd(p, r, vf_set1(0x1.122890p-7f));
  p = vf_fmadd(p, r, vf_set1(0x1.5556f0p-5f));
  p = vf_fmadd(p, r, vf_set1(0x1.5554b0p-3f));
  p = vf_fmadd(p, r, vf_set1(0x1.fffffep-2f));
  return vf_fmadd(vf_mul(r, r), p, r);
}

/* 2^48 e^(w - nwl) for w in [-120, 40] and |nwl| << 1 (the low part of a
 * double-float argument, else 0): k + 48 in [-125, 106], so 2^(k+48) is
 * built from the rounding trick's bits (as vm_exp_sumterm) and stays
 * normal. The bias keeps every intermediate of sigmoid, silu, gelu_tanh and
 * softplus normal down to their underflow: a denormal operand or result
 * costs ~100 cycles on Intel. A NaN w gives NaN. */
#define CMX_VM_NEG_UNBIAS 0x1p-48f
CMX_VMATH_INLINE vf cmx_vm_exp_b48(vf w, vf nwl) {
  vf t = vf_fmadd(w, vf_set1(CMX_VM_LOG2E), vf_set1(CMX_VM_RND_MAGIC));
  vf k = vf_sub(t, vf_set1(CMX_VM_RND_MAGIC));
  vf r = vf_fnmadd(k, vf_set1(CMX_VM_LN2_HI), w);
  r = vf_sub(vf_fnmadd(k, vf_set1(CMX_VM_LN2_LO), r), nwl);
  vf s = vi_as_vf(vi_sll(vi_add(vf_as_vi(t), vi_set1(127 + 48 - 0x4b400000)), 23));
  return vf_fmadd(cmx_vm_expm1_poly6(r), s, s);
}

/* n / d for normal d and n / d: q = n rcp(d), then q + rcp(d) (n - d q) (the
 * residual is exact under fma), leaving 2^-28 + half an ulp (vdivps: half an
 * ulp). 4 ops, none of them a division. */
CMX_VMATH_INLINE vf cmx_vm_div(vf n, vf d) {
  vf r = vf_rcp(d);
  vf q = vf_mul(n, r);
  return vf_fmadd(vf_fnmadd(d, q, n), r, q);
}

/* tanh|x| = e / (e + 1), e = expm1(2|x|) / 2 = t P + (t - 1/2) with
 * t = 2^(k-1): no cancellation near 0. 2|x| is clamped at 18.4, where the
 * quotient rounds to exactly 1, so no select is needed; the min keeps NaN
 * and x = 0 gives 0 / 1 = 0. */
CMX_VMATH_INLINE vf cmx_vm_tanh_exp(vf x) {
  vf ax = vf_abs(x);
  vf z = vf_min(vf_set1(18.4f), vf_add(ax, ax));
  vf tk = vf_fmadd(z, vf_set1(CMX_VM_LOG2E), vf_set1(CMX_VM_RND_MAGIC));
  vf k = vf_sub(tk, vf_set1(CMX_VM_RND_MAGIC));
  vf r = vf_fnmadd(k, vf_set1(CMX_VM_LN2_HI), z);
  r = vf_fnmadd(k, vf_set1(CMX_VM_LN2_LO), r);
  vf t = vi_as_vf(vi_sll(vi_add(vf_as_vi(tk), vi_set1(126 - 0x4b400000)), 23));
  vf e = vf_fmadd(t, cmx_vm_expm1_poly6(r), vf_sub(t, vf_set1(0.5f)));
  vf y = cmx_vm_div(e, vf_add(e, vf_set1(1.0f)));
  return vf_or(y, vf_and(x, vf_set1(-0.0f)));
}

/* tanh: the table where the level has vf_lut32 (every finite x: a clamped
 * to 9.1 gives 1), else the exp path. */
CMX_VMATH_INLINE vf vm_tanh(vf x) {
#ifdef VF_LUT32
  vf a = vf_min(vf_set1(CMX_VM_TANH_A), vf_abs(x));
  vf t = vf_fmadd(a, vf_set1(CMX_VM_TANH_INVH), vf_set1(CMX_VM_RND_MAGIC));
  return vf_or(cmx_vm_lut_poly6(cmx_vm_tanh_tab, t, a), vf_and(x, vf_set1(-0.0f)));
#else
  return cmx_vm_tanh_exp(x);
#endif
}

/* 2^48 sigmoid(w - nwl) = e / (1 + 2^-48 e), e = 2^48 e^(w - nwl), for w
 * clamped to [-120, 40] by the caller (e^40 / (1 + e^40) rounds to 1; below
 * -120 every caller's result underflows). For w > 0 the error of e shrinks
 * by 1 - sigmoid, so no exp(-|w|) and no select. */
CMX_VMATH_INLINE vf cmx_vm_sigmoid_b48(vf w, vf nwl) {
  vf e48 = cmx_vm_exp_b48(w, nwl);
  return cmx_vm_div(e48, vf_fmadd(e48, vf_set1(CMX_VM_NEG_UNBIAS), vf_set1(1.0f)));
}

/* Clamp to [-120, 40] for cmx_vm_sigmoid_b48; x second so NaN survives. */
CMX_VMATH_INLINE vf cmx_vm_sigmoid_clamp(vf x) {
  return vf_min(vf_set1(40.0f), vf_max(vf_set1(-120.0f), x));
}

CMX_VMATH_INLINE vf cmx_vm_sigmoid_exp(vf x) {
  vf q = cmx_vm_sigmoid_b48(cmx_vm_sigmoid_clamp(x), vf_zero());
  return vf_mul(q, vf_set1(CMX_VM_NEG_UNBIAS));
}

#ifdef VF_LUT32
/* Lanes below the sigmoid/silu table, and NaN: !(x >= -17.7). */
CMX_VMATH_INLINE vm cmx_vm_sigm_tail(vf x) { return vf_nge(x, vf_set1(-CMX_VM_SIGM_A)); }

/* sigmoid = 1 - p for x >= 0 and p for x < 0, p = sigmoid(-|x|): with
 * g = copysign(1, x), max(g, 0) - g p in one fma (x = -0 gives 1/2), for
 * vectors without a tail lane (NaN is one). Measured against a select on
 * x < 0 (15.9 cycles a zmm: gcc spilled the masks) and fma(p, m, (1 - m)/2)
 * (14.7): 14.7; with the degree-5 table and vf_min_abs, a select on the
 * sign bit (vpcmpd, masked vsubps) against this: 12.3 vs 11.65. */
CMX_VMATH_INLINE vf cmx_vm_sigmoid_lut(vf x) {
  vf p = cmx_vm_sigm_neg(vf_min_abs(x, vf_set1(CMX_VM_SIGM_A)));
  vf g = vf_or(vf_and(x, vf_set1(-0.0f)), vf_set1(1.0f));
  return vf_fnmadd(g, p, vf_max(g, vf_zero()));
}
#endif

/* The table for every lane >= -17.7 where the level has vf_lut32 (each
 * level then gives the reference's result lane for lane), the biased-exp
 * path for NaN, below -17.7 and on AVX2. */
CMX_VMATH_INLINE vf vm_sigmoid(vf x) {
  CMX_VM_LUT_OR_EXP(x, cmx_vm_sigm_tail, cmx_vm_sigmoid_lut, cmx_vm_sigmoid_exp);
}

/* x sigmoid48 2^-48 with x * sigmoid48 normal, scaled once at the end (the
 * fma rounds a denormal result once). x is clamped to [lo, 2^64] in the
 * product (lo: the caller's underflow clamp, so -inf gives -0), and the part
 * of x above 2^64 (exact, and there sigmoid48 = 2^48 exactly) is added back
 * so x * 2^48 never overflows and inf stays inf. */
CMX_VMATH_INLINE vf cmx_vm_times_b48(vf xlo, vf x, vf q48) {
  vf xc = vf_min(vf_set1(0x1p64f), xlo);
  vf xd = vf_max(vf_zero(), vf_sub(x, vf_set1(0x1p64f)));
  return vf_fmadd(vf_mul(xc, q48), vf_set1(CMX_VM_NEG_UNBIAS), xd);
}

/* x sigmoid(x); below -120 the result is -0. */
CMX_VMATH_INLINE vf cmx_vm_silu_exp(vf x) {
  vf xlo = vf_max(vf_set1(-120.0f), x);
  vf q = cmx_vm_sigmoid_b48(vf_min(vf_set1(40.0f), xlo), vf_zero());
  return cmx_vm_times_b48(xlo, x, q);
}

#ifdef VF_LUT32
/* x sigmoid(x) = max(x, 0) - a sigmoid(-a), a = min(|x|, 17.7), in one fma
 * (as gelu): past 17.7, a sigmoid(-a) is under half an ulp of x. */
CMX_VMATH_INLINE vf cmx_vm_silu_lut(vf x) {
  vf a = vf_min_abs(x, vf_set1(CMX_VM_SIGM_A));
  return vf_fnmadd(a, cmx_vm_sigm_neg(a), vf_max(x, vf_zero()));
}
#endif

/* Table lanes and exp-path lanes as vm_sigmoid. */
CMX_VMATH_INLINE vf vm_silu(vf x) {
  CMX_VM_LUT_OR_EXP(x, cmx_vm_sigm_tail, cmx_vm_silu_lut, cmx_vm_silu_exp);
}

/* 2^48 Phi(-a) = 2^48 erfc(a/sqrt2)/2 for a in [0, 14.5] (14.5 Phi(-14.5)
 * underflows): exp(-a^2/2) tau Q(tau), tau = 1/(1 + 0.3a), Q a degree-9 fit
 * of Phi(-a) e^(a^2/2) / tau (7.5e-9 relative with float coefficients: least
 * squares on Chebyshev nodes, refit after rounding each coefficient). tau
 * is vf_rcp of d = 1 + 0.3a refined by two Newton steps, the second with d's
 * rounding dl, so it is the correctly rounded 1/(1 + 0.3a) as a division
 * would give: near a = 0 one ulp of tau costs 2.7 ulp of Phi (the reference
 * and the SIMD levels would drift apart by 3 ulp with one step). The exponent -a^2/2 enters the reduction
 * unrounded: r = fma(-a/2, a, -k ln2_h) (ln2_h has 13 bits and k <= 152,
 * so k ln2_h is exact), so its rounding is not amplified up to 100-fold. No erf/erfc case split. */
CMX_VMATH_INLINE vf cmx_vm_phi_neg_b48(vf a) {
  vf d = vf_fmadd(a, vf_set1(0.3f), vf_set1(1.0f));
  vf dl = vf_fmadd(a, vf_set1(0.3f), vf_sub(vf_set1(1.0f), d)); /* exact */
  vf tau = vf_rcp(d);
  tau = vf_fmadd(tau, vf_fnmadd(d, tau, vf_set1(1.0f)), tau);
  vf res = vf_fnmadd(dl, tau, vf_fnmadd(d, tau, vf_set1(1.0f)));
  tau = vf_fmadd(tau, res, tau);
  vf q = vf_set1(-0.0208613686f);
  q = vf_fmadd(q, tau, vf_set1(0.113714792f));
  q = vf_fmadd(q, tau, vf_set1(-0.23118481f));
  q = vf_fmadd(q, tau, vf_set1(0.195687428f));
  q = vf_fmadd(q, tau, vf_set1(-0.0826098993f));
  q = vf_fmadd(q, tau, vf_set1(0.097828798f));
  q = vf_fmadd(q, tau, vf_set1(0.0778274015f));
  q = vf_fmadd(q, tau, vf_set1(0.110351957f));
  q = vf_fmadd(q, tau, vf_set1(0.119558342f));
  q = vf_fmadd(q, tau, vf_set1(0.119687356f));
  vf ah = vf_mul(a, vf_set1(-0.5f));
  vf t = vf_fmadd(vf_mul(ah, a), vf_set1(CMX_VM_LOG2E), vf_set1(CMX_VM_RND_MAGIC));
  vf k = vf_sub(t, vf_set1(CMX_VM_RND_MAGIC));
  vf r = vf_fmadd(ah, a, vf_mul(k, vf_set1(-0x1.62ep-1f))); /* 13-bit ln2 */
  r = vf_fnmadd(k, vf_set1(0x1.0bfbe8p-15f), r);
  vf s = vi_as_vf(vi_sll(vi_add(vf_as_vi(t), vi_set1(127 + 48 - 0x4b400000)), 23));
  vf e48 = vf_fmadd(cmx_vm_expm1_poly6(r), s, s);
  return vf_mul(e48, vf_mul(q, tau));
}

/* |x| < 1: odd polynomial (fit, 0.3 ulp); else 1 - erfc(|x|) =
 * 1 - 2 Phi(-sqrt2 |x|): erfc is below 0.16 there, so its relative error
 * (and the rounding of sqrt2 |x|) shrinks in the result; erfc(4.5) < 2^-30. */
CMX_VMATH_INLINE vf vm_erf(vf x) {
  vf ax = vf_abs(x);
  vf z = vf_mul(x, x);
  vf p = vf_set1(7.900670607341453e-05f);
  p = vf_fmadd(p, z, vf_set1(-0.0008022785768844187f));
  p = vf_fmadd(p, z, vf_set1(0.005189546849578619f));
  p = vf_fmadd(p, z, vf_set1(-0.02685430832207203f));
  p = vf_fmadd(p, z, vf_set1(0.11283592134714127f));
  p = vf_fmadd(p, z, vf_set1(-0.3761262595653534f));
  p = vf_fmadd(p, z, vf_set1(1.1283791065216064f));
  vf small = vf_mul(x, p);
  vf a = vf_mul(vf_min(vf_set1(4.5f), ax), vf_set1(0x1.6a09e6p+0f));
  vf big = vf_fnmadd(cmx_vm_phi_neg_b48(a), vf_set1(0x1p-47f), vf_set1(1.0f));
  big = vf_or(big, vf_and(x, vf_set1(-0.0f)));
  return vf_select(vf_lt(ax, vf_set1(1.0f)), small, big);
}

/* x Phi(x) = max(x, 0) - |x| Phi(-|x|) (x >= 0: x (1 - Phi(-x)), with
 * Phi(-x) <= 1/2 no cancellation; x < 0: x Phi(x)), the product |x| 2^48
 * Phi(-|x|) normal and scaled once inside the fma. |x| clamped to 14.5
 * (beyond, the x < 0 result is -0 and Phi(x) rounds to 1), so -inf gives -0
 * and inf - tiny stays inf. */
CMX_VMATH_INLINE vf cmx_vm_gelu_full(vf x) {
  vf a = vf_min(vf_set1(14.5f), vf_abs(x));
  vf t = vf_mul(a, cmx_vm_phi_neg_b48(a));
  return vf_fnmadd(t, vf_set1(CMX_VM_NEG_UNBIAS), vf_max(x, vf_zero()));
}

#ifdef VF_LUT32
/* Phi(-a) for a in [0, 6] (cmx_vm_lut_poly6 layout), the interval
 * j = round(kappa a^2) (kappa = 31.3/36: equal steps in a^2, so each
 * interval spans the same factor of the e^(-a^2/2) decay and one degree fits
 * all; interval 0 is [0, 0.76]). Relative error of the fit 4e-8 (interval
 * 0), < 1.5e-8 elsewhere. */
#define CMX_VM_GELU_KAPPA 0x1.bd27d2p-1f
static const float cmx_vm_gelu_tab[8][32] __attribute__((aligned(64))) = {
  {
    0x1.839fp-2f, 0x1.0896cap+0f, 0x1.8109c6p+0f, 0x1.d8f2e6p+0f,
    0x1.12c914p+1f, 0x1.327d66p+1f, 0x1.505efcp+1f, 0x1.6bff32p+1f,
    0x1.83bap+1f, 0x1.9c9902p+1f, 0x1.b24014p+1f, 0x1.c61a5cp+1f,
    0x1.da8df4p+1f, 0x1.ee336ap+1f, 0x1.003a24p+2f, 0x1.09662ap+2f,
    0x1.11f2dep+2f, 0x1.1a4f9ap+2f, 0x1.2359f8p+2f, 0x1.2ace58p+2f,
    0x1.32a11cp+2f, 0x1.3a6256p+2f, 0x1.41337ep+2f, 0x1.48c0dap+2f,
    0x1.513098p+2f, 0x1.579384p+2f, 0x1.5df626p+2f, 0x1.651a6p+2f,
    0x1.6a7566p+2f, 0x1.712336p+2f, 0x1.77a872p+2f, 0x1.7d78d2p+2f,
  },
  {
    0x1.68f9fep-2f, 0x1.349418p-3f, 0x1.0f7f58p-4f, 0x1.08eefap-5f,
    0x1.049b3p-6f, 0x1.10b726p-7f, 0x1.1985f8p-8f, 0x1.2438bp-9f,
    0x1.417bbap-10f, 0x1.4c0ecp-11f, 0x1.6b011cp-12f, 0x1.978502p-13f,
    0x1.b70a68p-14f, 0x1.d9bee6p-15f, 0x1.05b8dp-15f, 0x1.1ac03p-16f,
    0x1.38ec7cp-17f, 0x1.591544p-18f, 0x1.63fc22p-19f, 0x1.968b48p-20f,
    0x1.bd4a12p-21f, 0x1.e360e2p-22f, 0x1.1731bp-22f, 0x1.2c1c44p-23f,
    0x1.2739a6p-24f, 0x1.553996p-25f, 0x1.86a2d8p-26f, 0x1.9dd698p-27f,
    0x1.fddcap-28f, 0x1.13fef2p-28f, 0x1.2c1916p-29f, 0x1.599d94p-30f,
  },
  {
    -0x1.7c45bep-2f, -0x1.deef9cp-3f, -0x1.07a428p-3f, -0x1.2891bp-4f,
    -0x1.46418cp-5f, -0x1.73d316p-6f, -0x1.9dc8a2p-7f, -0x1.ca8816p-8f,
    -0x1.0a0a8ep-8f, -0x1.21d862p-9f, -0x1.4b431p-10f, -0x1.82c66ap-11f,
    -0x1.b147e6p-12f, -0x1.e4c94p-13f, -0x1.14b472p-13f, -0x1.349bbep-14f,
    -0x1.5f8a92p-15f, -0x1.8e7a9ep-16f, -0x1.a725dcp-17f, -0x1.eea472p-18f,
    -0x1.1573bep-18f, -0x1.344126p-19f, -0x1.6b471p-20f, -0x1.8f108p-21f,
    -0x1.91fff6p-22f, -0x1.d8e5dcp-23f, -0x1.136ba4p-23f, -0x1.296458p-24f,
    -0x1.73961ap-25f, -0x1.994da8p-26f, -0x1.c47f46p-27f, -0x1.0864ap-27f,
  },
  {
    0x1.1fe524p-4f, 0x1.ef0108p-4f, 0x1.8c87f2p-4f, 0x1.11f304p-4f,
    0x1.5e326ap-5f, 0x1.bd287p-6f, 0x1.0fd86ep-6f, 0x1.45fc06p-7f,
    0x1.92ef46p-8f, 0x1.d3257ap-9f, 0x1.18f54ep-9f, 0x1.5709dcp-10f,
    0x1.9197bp-11f, 0x1.d3eed8p-12f, 0x1.14f348p-12f, 0x1.3ff062p-13f,
    0x1.783042p-14f, 0x1.b76ef8p-15f, 0x1.e194cp-16f, 0x1.20ad1p-16f,
    0x1.4c52fp-17f, 0x1.7a8e4cp-18f, 0x1.c7cd2ap-19f, 0x1.003cdep-19f,
    0x1.08bf24p-20f, 0x1.3d563ep-21f, 0x1.78829p-22f, 0x1.9ed794p-23f,
    0x1.070e52p-23f, 0x1.27189cp-24f, 0x1.4c0012p-25f, 0x1.89fa86p-26f,
  },
  {
    0x1.b2491ep-5f, -0x1.5c03f6p-9f, -0x1.bbaa96p-6f, -0x1.dd17d2p-6f,
    -0x1.88724p-6f, -0x1.2555e6p-6f, -0x1.974a06p-7f, -0x1.0eca94p-7f,
    -0x1.6a7ff4p-8f, -0x1.c5a0a2p-9f, -0x1.221dfcp-9f, -0x1.756ep-10f,
    -0x1.cc300cp-11f, -0x1.18e984p-11f, -0x1.5a8954p-12f, -0x1.a086ap-13f,
    -0x1.fb765p-14f, -0x1.3275fcp-14f, -0x1.5bc15ap-15f, -0x1.aca57cp-16f,
    -0x1.fb9cccp-17f, -0x1.2915dep-17f, -0x1.6e1f5ap-18f, -0x1.a61e86p-19f,
    -0x1.c03254p-20f, -0x1.121388p-20f, -0x1.4ba8a2p-21f, -0x1.756436p-22f,
    -0x1.e11e4ap-23f, -0x1.132564p-23f, -0x1.3b5c7ep-24f, -0x1.7c5f48p-25f,
  },
  {
    -0x1.123262p-6f, -0x1.3ea4b4p-6f, -0x1.8627d2p-8f, 0x1.2d7df8p-9f,
    0x1.779376p-8f, 0x1.95a4c4p-8f, 0x1.61ec5cp-8f, 0x1.14616p-8f,
    0x1.9ea434p-9f, 0x1.1fb422p-9f, 0x1.8e776ep-10f, 0x1.1201dep-10f,
    0x1.679a5p-11f, 0x1.d05708p-12f, 0x1.2cb4cep-12f, 0x1.7a78b8p-13f,
    0x1.e06d7ep-14f, 0x1.2d5a0ap-14f, 0x1.63a3d2p-15f, 0x1.c4315p-16f,
    0x1.14599ap-16f, 0x1.4d565p-17f, 0x1.a56a38p-18f, 0x1.f3742cp-19f,
    0x1.1113ap-19f, 0x1.5561e2p-20f, 0x1.a605bep-21f, 0x1.e64438p-22f,
    0x1.3eb784p-22f, 0x1.742c5ap-23f, 0x1.b326b2p-24f, 0x1.0b0776p-24f,
  },
  {
    -0x1.abb56ap-8f, 0x1.1aabe2p-8f, 0x1.7ca51cp-8f, 0x1.cb45d4p-9f,
    0x1.2d6a84p-10f, -0x1.1530d2p-12f, -0x1.fe8a8ep-11f, -0x1.300408p-10f,
    -0x1.1e5b26p-10f, -0x1.d6156ap-11f, -0x1.6f8a6ep-11f, -0x1.1594b6p-11f,
    -0x1.8bc02ap-12f, -0x1.1222aap-12f, -0x1.79a898p-13f, -0x1.f8b3e2p-14f,
    -0x1.4e508p-14f, -0x1.b85fecp-15f, -0x1.1063f8p-15f, -0x1.6754e8p-16f,
    -0x1.c54a48p-17f, -0x1.1ac1c2p-17f, -0x1.70bbf8p-18f, -0x1.c1b562p-19f,
    -0x1.fce28cp-20f, -0x1.468466p-20f, -0x1.9ca632p-21f, -0x1.e7ed2ep-22f,
    -0x1.4499cp-22f, -0x1.850226p-23f, -0x1.d00202p-24f, -0x1.2132e2p-24f,
  },
  {
    0x1.577d46p-9f, 0x1.cf0a6p-10f, -0x1.535c96p-11f, -0x1.5a4356p-10f,
    -0x1.3532bep-10f, -0x1.87e362p-11f, -0x1.31b18ap-12f, -0x1.0be5cap-15f,
    0x1.755388p-13f, 0x1.83e55p-13f, 0x1.982e8ep-13f, 0x1.82a3ap-13f,
    0x1.284f42p-13f, 0x1.b40726p-14f, 0x1.497aaap-14f, 0x1.00ca1p-14f,
    0x1.393c7ep-15f, 0x1.dad86ap-16f, 0x1.403bbap-16f, 0x1.bf17c4p-17f,
    0x1.0d224p-17f, 0x1.61be72p-18f, 0x1.e94166p-19f, 0x1.2904a2p-19f,
    0x1.89f8bp-20f, 0x1.f0d30ap-21f, 0x1.3d80eep-21f, 0x1.8b56p-22f,
    0x1.e7f856p-23f, 0x1.3d4772p-23f, 0x1.79afeep-24f, 0x1.c8c4cp-25f,
  },
};

/* gelu for vectors with every lane >= -6 (not NaN): x Phi(x) =
 * max(x, 0) - a Phi(-a), a = min(|x|, 6), in one fma. For x > 6 the term
 * a Phi(-6) < 6e-9 is under half an ulp of x, so the result is x; no exp and
 * no intermediate leaves the normal range (-6 Phi(-6) = -6e-9). 19 vector
 * ops (8 of them vpermt2ps) against ~45 for cmx_vm_gelu_full. */
CMX_VMATH_INLINE vf cmx_vm_gelu_lut(vf x) {
  vf a = vf_min_abs(x, vf_set1(6.0f));
  vf t = vf_fmadd(vf_mul(a, a), vf_set1(CMX_VM_GELU_KAPPA), vf_set1(CMX_VM_RND_MAGIC));
  return vf_fnmadd(a, cmx_vm_lut_poly6(cmx_vm_gelu_tab, t, a), vf_max(x, vf_zero()));
}
#endif

/* Lanes beyond the table, and NaN: !(x >= -6). */
CMX_VMATH_INLINE vm cmx_vm_gelu_tail(vf x) { return vf_nge(x, vf_set1(-6.0f)); }

/* The table where the level has vf_lut32, for every lane >= -6 whatever
 * its neighbours hold (so each level gives the reference's result lane for
 * lane); the exp-based path for NaN, x < -6 and on AVX2. */
CMX_VMATH_INLINE vf vm_gelu(vf x) {
  CMX_VM_LUT_OR_EXP(x, cmx_vm_gelu_tail, cmx_vm_gelu_lut, cmx_vm_gelu_full);
}

/* 0.5 x (1 + tanh z) = x sigmoid(w), w = 2z = x u, u = c1 + c2 x^2. For
 * x < 0 the result is ~x e^w, so an absolute error d in w costs |d| 2^24
 * ulp: w is carried as wh - nwl and nwl joins the exp reduction. c1 is split
 * with a head c1h that is a multiple of 2^-20, so uh - c1h is exact for
 * uh < 17.6 (|x| <= 12, the clamp) and t - c2h s recovers the rounding of
 * the fma uh = c2h s + c1h; s = x^2 and x uh carry their exact errors; the
 * c1, c2 tails and the products of small terms are rounded (their errors
 * are ~2^-48 |w|). Beyond -12 the result is -0 (w < -120); beyond 12 w is
 * clamped at 40 anyway. */
CMX_VMATH_INLINE vf cmx_vm_gelu_tanh_exp(vf x) {
  vf xlo = vf_max(vf_set1(-12.0f), x);
  vf xw = vf_min(vf_set1(12.0f), xlo);
  vf c1h = vf_set1(0x1.98845p+0f), c2h = vf_set1(0x1.2444f2p-4f);
  vf s = vf_mul(xw, xw);
  vf nsl = vf_fnmadd(xw, xw, s); /* s - x^2 */
  vf uh = vf_fmadd(c2h, s, c1h);
  vf ne = vf_fnmadd(c2h, s, vf_sub(uh, c1h)); /* rounding of uh */
  ne = vf_fmadd(c2h, nsl, ne);
  ne = vf_fnmadd(vf_set1(0x1.49b16ap-29f), s, ne);
  ne = vf_sub(ne, vf_set1(0x1.9ea1b2p-23f)); /* uh - u */
  vf wh = vf_mul(xw, uh);
  vf nwl = vf_fmadd(xw, ne, vf_fnmadd(xw, uh, wh)); /* wh - w */
  vf q = cmx_vm_sigmoid_b48(cmx_vm_sigmoid_clamp(wh), nwl);
  return cmx_vm_times_b48(xlo, x, q);
}

#ifdef VF_LUT32
/* sigmoid(-w(a)), w = c1 a + c2 a^3 (gelu_tanh's 2z), on a in [0, 5.2]
 * (cmx_vm_lut_poly6 layout), the interval j = round(kappa w): equal steps
 * in w, the exponent of the decay (as gelu's steps in a^2); kappa c1 and
 * kappa c2 are rounded to floats, the fit uses the same rounded index.
 * 0.87 ulp. */
#define CMX_VM_GT_A 5.2f
#define CMX_VM_GT_KC1 0x1.5cc4a8p+1f
#define CMX_VM_GT_KC2 0x1.f30ba0p-4f
static const float cmx_vm_gt_tab[8][32] __attribute__((aligned(64))) = {
  {
    0.0f, 0x1.74ac76p-2f, 0x1.6a3848p-1f, 0x1.0dca8ap+0f, 0x1.5e1ffep+0f,
    0x1.9ed402p+0f, 0x1.e7392ap+0f, 0x1.136148p+1f, 0x1.2a4404p+1f,
    0x1.463bd2p+1f, 0x1.5d8df6p+1f, 0x1.7991dcp+1f, 0x1.8e2aecp+1f,
    0x1.a2ad24p+1f, 0x1.aece4ap+1f, 0x1.c4f998p+1f, 0x1.d75a7ep+1f,
    0x1.e3b58ap+1f, 0x1.f42a8cp+1f, 0x1.01cf3ep+2f, 0x1.0a732ap+2f,
    0x1.0f89d6p+2f, 0x1.173514p+2f, 0x1.1e6da4p+2f, 0x1.232c16p+2f,
    0x1.298b2ep+2f, 0x1.30948ap+2f, 0x1.35d56p+2f, 0x1.3b9ba4p+2f,
    0x1.40df5p+2f, 0x1.45860ap+2f, 0x1.4bee58p+2f,
  },
  {
    0x1p-1f, 0x1.6e8ebp-2f, 0x1.eaf2dep-3f, 0x1.2b47fap-3f, 0x1.5fc14p-4f,
    0x1.af8b82p-5f, 0x1.d2e9bcp-6f, 0x1.ffb83cp-7f, 0x1.3f4ca2p-7f,
    0x1.569ec2p-8f, 0x1.874488p-9f, 0x1.7aaa76p-10f, 0x1.ab33e8p-11f,
    0x1.d2c3cp-12f, 0x1.40fa44p-12f, 0x1.390a5ep-13f, 0x1.4d82b2p-14f,
    0x1.ace3c8p-15f, 0x1.d14792p-16f, 0x1.feee66p-17f, 0x1.fb4d0ap-18f,
    0x1.4ad02ap-18f, 0x1.53e02ep-19f, 0x1.62411p-20f, 0x1.c7aba2p-21f,
    0x1.ef545p-22f, 0x1.edc7c6p-23f, 0x1.20f292p-23f, 0x1.3b885p-24f,
    0x1.66158cp-25f, 0x1.ace256p-26f, 0x1.9f5c54p-27f,
  },
  {
    -0x1.988454p-2f, -0x1.7e397ep-2f, -0x1.3dcfe4p-2f, -0x1.d48c7cp-3f,
    -0x1.40eefep-3f, -0x1.b913e6p-4f, -0x1.0ce4c4p-4f, -0x1.45bbaap-5f,
    -0x1.b40a28p-6f, -0x1.fce8dap-7f, -0x1.375216p-7f, -0x1.46eb1ep-8f,
    -0x1.875554p-9f, -0x1.c542e6p-10f, -0x1.4288e2p-10f, -0x1.4ea398p-11f,
    -0x1.770cfep-12f, -0x1.f2daa4p-13f, -0x1.1ae65ep-13f, -0x1.43c244p-14f,
    -0x1.507906p-15f, -0x1.c2aa0ap-16f, -0x1.e1c446p-17f, -0x1.0486cep-17f,
    -0x1.574468p-18f, -0x1.8147ecp-19f, -0x1.8dbe46p-20f, -0x1.ddaef8p-21f,
    -0x1.0c42dcp-21f, -0x1.3846aep-22f, -0x1.7e7154p-23f, -0x1.7dd072p-24f,
  },
  {
    0x1.7c8a7ap-21f, 0x1.17591ep-4f, 0x1.c2672p-4f, 0x1.ecb542p-4f,
    0x1.b47828p-4f, 0x1.62d936p-4f, 0x1.fcd8fp-5f, 0x1.5e1cdep-5f,
    0x1.febe3ep-6f, 0x1.497ab4p-6f, 0x1.b4ec46p-7f, 0x1.f7fa9ap-8f,
    0x1.42a754p-8f, 0x1.8f1e3ap-9f, 0x1.271a2p-9f, 0x1.480936p-10f,
    0x1.84df1cp-11f, 0x1.0c6af4p-11f, 0x1.3faf58p-12f, 0x1.7ec43ep-13f,
    0x1.a214p-14f, 0x1.20303ap-14f, 0x1.419bccp-15f, 0x1.69fb74p-16f,
    0x1.e97228p-17f, 0x1.1c46f4p-17f, 0x1.30aa2ep-18f, 0x1.78225cp-19f,
    0x1.b35364p-20f, 0x1.04517ep-20f, 0x1.466ff6p-21f, 0x1.509102p-22f,
  },
  {
    0x1.11a0cap-4f, 0x1.bac43cp-5f, 0x1.a1a79cp-6f, -0x1.2cf58p-8f,
    -0x1.7330cp-6f, -0x1.d60e5ep-6f, -0x1.cb9d1ep-6f, -0x1.82bfeep-6f,
    -0x1.3ed9bap-6f, -0x1.d63752p-7f, -0x1.59587cp-7f, -0x1.bef34ap-8f,
    -0x1.362146p-8f, -0x1.9e7ea6p-9f, -0x1.406f86p-9f, -0x1.81a68p-10f,
    -0x1.e75d76p-11f, -0x1.5ede1cp-11f, -0x1.b97f26p-12f, -0x1.15fe38p-12f,
    -0x1.40de5ep-13f, -0x1.c8b7eap-14f, -0x1.0b2de8p-14f, -0x1.3a230ep-15f,
    -0x1.b4ea7ep-16f, -0x1.076d46p-16f, -0x1.25fea6p-17f, -0x1.75efc6p-18f,
    -0x1.befcdep-19f, -0x1.132918p-19f, -0x1.61e618p-20f, -0x1.79a6b8p-21f,
  },
  {
    0x1.55b39ep-13f, -0x1.0f58d8p-6f, -0x1.7a6f4ap-6f, -0x1.33961ep-6f,
    -0x1.3d59a2p-7f, -0x1.46d9c2p-9f, 0x1.96fc44p-9f, 0x1.670e36p-8f,
    0x1.86d812p-8f, 0x1.6e9ccep-8f, 0x1.3b92b6p-8f, 0x1.e0883p-9f,
    0x1.73066ap-9f, 0x1.11a264p-9f, 0x1.bf3762p-10f, 0x1.288ab8p-10f,
    0x1.948f96p-11f, 0x1.3212b8p-11f, 0x1.9ab782p-12f, 0x1.1224fp-12f,
    0x1.50f9e6p-13f, 0x1.f15fe4p-14f, 0x1.32da76p-14f, 0x1.7acd1p-15f,
    0x1.0fe0eep-15f, 0x1.55b36p-16f, 0x1.8eb122p-17f, 0x1.05f6a8p-17f,
    0x1.44566ap-18f, 0x1.9c2b42p-19f, 0x1.10753p-19f, 0x1.2daf3p-20f,
  },
  {
    -0x1.695fdap-7f, -0x1.c9b77p-8f, -0x1.c6ecf8p-12f, 0x1.3cd154p-8f,
    0x1.91b0cp-8f, 0x1.48844ep-8f, 0x1.79c832p-9f, 0x1.1ea33ap-10f,
    0x1.bf264p-14f, -0x1.63402ap-11f, -0x1.04fe76p-10f, -0x1.158566p-10f,
    -0x1.085264p-10f, -0x1.bc52e6p-11f, -0x1.916028p-11f, -0x1.2ce712p-11f,
    -0x1.c7c9d6p-12f, -0x1.6ce7fep-12f, -0x1.077162p-12f, -0x1.7a7122p-13f,
    -0x1.fa80e8p-14f, -0x1.8257dep-14f, -0x1.fe1554p-15f, -0x1.4d0782p-15f,
    -0x1.edda9cp-16f, -0x1.45510ap-16f, -0x1.918a7ep-17f, -0x1.11729ap-17f,
    -0x1.5ee216p-18f, -0x1.cebff6p-19f, -0x1.3acb9p-19f, -0x1.6b2ce2p-20f,
  },
  {
    0x1.ea9facp-10f, 0x1.68216p-9f, 0x1.972f92p-9f, 0x1.aff9e4p-10f,
    -0x1.3f9618p-14f, -0x1.2cc898p-10f, -0x1.4aa2fap-10f, -0x1.bcd402p-11f,
    -0x1.c85a12p-11f, -0x1.7836e6p-12f, -0x1.3edd7ep-14f, 0x1.490fdep-14f,
    0x1.2e7cbp-17f, 0x1.a33172p-13f, 0x1.01d816p-12f, 0x1.551aep-13f,
    0x1.10dea4p-13f, 0x1.12c488p-13f, 0x1.6b2e1cp-14f, 0x1.2ceee2p-14f,
    0x1.ff690ap-15f, 0x1.754374p-15f, 0x1.349484p-15f, 0x1.ca1ea4p-16f,
    0x1.2ad9e6p-16f, 0x1.9d85aep-17f, 0x1.32a1b6p-17f, 0x1.b50c04p-18f,
    0x1.36826cp-18f, 0x1.8f7022p-19f, 0x1.05327ap-19f, 0x1.6e949cp-20f,
  },
};

/* Lanes below the gelu_tanh table, and NaN: !(x >= -5.2). */
CMX_VMATH_INLINE vm cmx_vm_gelu_tanh_tail(vf x) { return vf_nge(x, vf_set1(-CMX_VM_GT_A)); }

/* x sigmoid(w) = max(x, 0) - a sigmoid(-w(a)), a = min(|x|, 5.2), in one
 * fma (as gelu): past 5.2, a sigmoid(-w) < 6e-8 is under half an ulp of x. */
CMX_VMATH_INLINE vf cmx_vm_gelu_tanh_lut(vf x) {
  vf a = vf_min_abs(x, vf_set1(CMX_VM_GT_A));
  vf v = vf_fmadd(vf_mul(a, a), vf_set1(CMX_VM_GT_KC2), vf_set1(CMX_VM_GT_KC1));
  vf t = vf_fmadd(a, v, vf_set1(CMX_VM_RND_MAGIC));
  return vf_fnmadd(a, cmx_vm_lut_poly6(cmx_vm_gt_tab, t, a), vf_max(x, vf_zero()));
}
#endif

/* Table lanes and exp-path lanes as vm_gelu. */
CMX_VMATH_INLINE vf vm_gelu_tanh(vf x) {
  CMX_VM_LUT_OR_EXP(x, cmx_vm_gelu_tanh_tail, cmx_vm_gelu_tanh_lut, cmx_vm_gelu_tanh_exp);
}

/* softplus = max(x, 0) + log1p(u), u = e^-|x| in (0, 1]: exp never
 * overflows, and for x < 0 the result is log1p of a small value (no
 * cancellation). log1p(u) = u + u (u P(u)), P of degree 8 (minimax of
 * (log1p(u)/u - 1)/u on [0, 1], 4.4e-9 relative), in place of log1p's
 * reduction; u is 2^48-biased (u48) and the 2^-48 goes into the last fma,
 * which rounds once (also into the denormals, x < -87). -|x| is clamped at
 * -120 for the biased exp (then log1p(u) < 2^-149); NaN passes through it,
 * +inf gives inf, -inf gives +0. */
CMX_VMATH_INLINE vf vm_softplus(vf x) {
  vf u48 = cmx_vm_exp_b48(vf_max(vf_set1(-120.0f), vf_or(x, vf_set1(-0.0f))), vf_zero());
  vf u = vf_mul(u48, vf_set1(CMX_VM_NEG_UNBIAS));
  vf p = vf_set1(-0x1.be174ep-9f);
  p = vf_fmadd(p, u, vf_set1(0x1.514bc4p-6f));
  p = vf_fmadd(p, u, vf_set1(-0x1.de3fe4p-5f));
  p = vf_fmadd(p, u, vf_set1(0x1.b86ce2p-4f));
  p = vf_fmadd(p, u, vf_set1(-0x1.3b56e8p-3f));
  p = vf_fmadd(p, u, vf_set1(0x1.93a79ap-3f));
  p = vf_fmadd(p, u, vf_set1(-0x1.ff34fep-3f));
  p = vf_fmadd(p, u, vf_set1(0x1.554e94p-2f));
  p = vf_fmadd(p, u, vf_set1(-0x1.ffffd8p-2f));
  vf y48 = vf_fmadd(u48, vf_mul(u, p), u48);
  return vf_fmadd(y48, vf_set1(CMX_VM_NEG_UNBIAS), vf_max(x, vf_zero()));
}

/* Lanes with |x| > 1e5 (or inf) leave the 3-part Cody-Waite range: those
 * vectors only are redone lane by lane with libm. */
CMX_VMATH_INLINE vf cmx_vm_sincos_slow(vf x, vf y, int cosine) {
  float xb[VF_N], yb[VF_N];
  vf_store(xb, x);
  vf_store(yb, y);
  for (int i = 0; i < VF_N; i++)
    if (__builtin_fabsf(xb[i]) > 1e5f) yb[i] = cosine ? cosf(xb[i]) : sinf(xb[i]);
  return vf_load(yb);
}

/* k = round(2x/pi), r = x - k pi/2 in three fma steps (exact enough for
 * |k| < 2^17), then sin or cos polynomial by quadrant (Cephes sinf/cosf
 * coefficients, |r| <= pi/4). cos(x) = sin(x + pi/2): quadrant + 1. */
CMX_VMATH_INLINE vf cmx_vm_sincos(vf x, int cosine) {
  vf k = vf_round(vf_mul(x, vf_set1(0x1.45f306p-1f)));
  vf r = vf_fnmadd(k, vf_set1(0x1.921fb6p+0f), x);
  r = vf_fnmadd(k, vf_set1(-0x1.777a5cp-25f), r);
  r = vf_fnmadd(k, vf_set1(-0x1.ee59dap-50f), r);
  vi q = vf_cvt_vi(k);
  if (cosine) q = vi_add(q, vi_set1(1));
  vf z = vf_mul(r, r);
  vf s = vf_fmadd(vf_set1(-1.9515295891e-4f), z, vf_set1(8.3321608736e-3f));
  s = vf_fmadd(s, z, vf_set1(-1.6666654611e-1f));
  s = vf_fmadd(vf_mul(s, z), r, r);
  vf c = vf_fmadd(vf_set1(2.443315711809948e-5f), z, vf_set1(-1.388731625493765e-3f));
  c = vf_fmadd(c, z, vf_set1(4.166664568298827e-2f));
  c = vf_fmadd(vf_mul(c, z), z, vf_fnmadd(vf_set1(0.5f), z, vf_set1(1.0f)));
  vf y = vf_select(vi_eq(vi_and(q, vi_set1(1)), vi_set1(1)), c, s);
  y = vi_as_vf(vi_xor(vf_as_vi(y), vi_sll(vi_and(q, vi_set1(2)), 30)));
  if (vm_any(vf_gt(vf_abs(x), vf_set1(1e5f)))) y = cmx_vm_sincos_slow(x, y, cosine);
  return y;
}

CMX_VMATH_INLINE vf vm_sin(vf x) { return cmx_vm_sincos(x, 0); }
CMX_VMATH_INLINE vf vm_cos(vf x) { return cmx_vm_sincos(x, 1); }

/* log|a| as a double-float hi + lo (about 2^-30 relative) for pow:
 * log m = 2 atanh(s), s = (m - 1)/(m + 1) carried as s_hi + s_lo, the series
 * tail in float; e ln2 with a 16-bit ln2 head so e * head is exact. */
CMX_VMATH_INLINE vf cmx_vm_log_df(vf a, vf *lo) {
  vm tiny = vf_lt(a, vf_set1(0x1p-126f));
  vf as = vf_select(tiny, vf_mul(a, vf_set1(0x1p23f)), a);
  vi ei;
  vf f = cmx_vm_log_decomp(as, &ei);
  vf e = vi_cvt_vf(ei);
  e = vf_select(tiny, vf_sub(e, vf_set1(23.0f)), e);
  vf one = vf_set1(1.0f);
  vf m = vf_add(f, one);
  vf den = vf_add(m, one);
  vf bb = vf_sub(den, m);
  vf den_lo = vf_add(vf_sub(m, vf_sub(den, bb)), vf_sub(one, bb));
  vf rcp = vf_div(one, den);
  vf s = vf_div(f, den); /* correctly rounded, so the residual is exact */
  vf res = vf_fnmadd(s, den, f);
  res = vf_fnmadd(s, den_lo, res);
  vf s_lo = vf_mul(res, rcp);
  vf z = vf_mul(s, s);
  vf p = vf_set1(2.0f / 15);
  p = vf_fmadd(p, z, vf_set1(2.0f / 13));
  p = vf_fmadd(p, z, vf_set1(2.0f / 11));
  p = vf_fmadd(p, z, vf_set1(2.0f / 9));
  p = vf_fmadd(p, z, vf_set1(2.0f / 7));
  p = vf_fmadd(p, z, vf_set1(2.0f / 5));
  p = vf_fmadd(p, z, vf_set1(2.0f / 3));
  vf tail = vf_mul(vf_mul(s, z), p);
  vf small = vf_add(vf_fmadd(e, vf_set1(0x1.7f7d1cp-20f), tail), vf_add(s_lo, s_lo));
  vf h1 = vf_mul(e, vf_set1(0x1.62e4p-1f));
  vf h2 = vf_add(s, s);
  vf h = vf_add(h1, h2);
  vf hb = vf_sub(h, h1);
  vf l = vf_add(vf_sub(h1, vf_sub(h, hb)), vf_sub(h2, hb));
  l = vf_add(l, small);
  vf hi = vf_add(h, l);
  *lo = vf_sub(l, vf_sub(hi, h));
  return hi;
}

/* a^b = exp(b log|a|) with b log|a| as a double-float, then C99 pow special
 * cases by selects: b == 0 or a == 1 -> 1; a < 0 needs an integral b (odd b
 * flips the sign); zeros, infinities and |b| = inf by their limits. */
CMX_VMATH_INLINE vf vm_pow(vf a, vf b) {
  vf aa = vf_abs(a), ab = vf_abs(b);
  vf zero = vf_zero(), one = vf_set1(1.0f), inf = vf_set1(INFINITY);
  vf llo;
  vf lhi = cmx_vm_log_df(aa, &llo);
  vf phi = vf_mul(b, lhi);
  vf plo = vf_fmadd(b, llo, vf_fmadd(b, lhi, vf_neg(phi)));
  vf y = cmx_vm_exp_lo(phi, plo);
  vm edge = vm_or(vm_or(vf_eq(aa, zero), vf_eq(aa, inf)), vf_eq(ab, inf));
  vf toward = vf_select(vf_gt(aa, one), b, vf_neg(b));
  y = vf_select(edge, vf_select(vf_gt(toward, zero), inf, zero), y);
  vf hb = vf_mul(b, vf_set1(0.5f));
  vm bint = vf_eq(vf_floor(b), b);
  vm odd = vm_and(bint, vf_neq(vf_floor(hb), hb));
  vm aneg = vi_gt(vi_set1(0), vf_as_vi(a));
  y = vf_select(vm_and(aneg, odd), vf_neg(y), y);
  vm bad = vm_and(vm_and(vf_lt(a, zero), vf_gt(a, vf_neg(inf))), vm_not(bint));
  y = vf_select(vm_or(bad, vm_or(vf_isnan(a), vf_isnan(b))), vf_set1(NAN), y);
  vm unit = vm_or(vm_or(vf_eq(b, zero), vf_eq(a, one)),
                  vm_and(vf_eq(aa, one), vf_eq(ab, inf)));
  return vf_select(unit, one, y);
}

#endif
