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
 *   erf        [-10, 10]                             2.42      3
 *   gelu       [-20, 20]                             4.35      5
 *     (table lanes, x >= -6: 1.87 at x ~ -6e-5; AVX2 and x < -6 run the
 *     exp path, whose figure is the 4.35)
 *   gelu_tanh  [-20, 20]                             3.12      4
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
CMX_VMATH_INLINE vf vm_tanh(vf x) {
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

CMX_VMATH_INLINE vf vm_sigmoid(vf x) {
  vf q = cmx_vm_sigmoid_b48(cmx_vm_sigmoid_clamp(x), vf_zero());
  return vf_mul(q, vf_set1(CMX_VM_NEG_UNBIAS));
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
CMX_VMATH_INLINE vf vm_silu(vf x) {
  vf xlo = vf_max(vf_set1(-120.0f), x);
  vf q = cmx_vm_sigmoid_b48(vf_min(vf_set1(40.0f), xlo), vf_zero());
  return cmx_vm_times_b48(xlo, x, q);
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
/* Phi(-a) for a in [0, 6] as 32 degree-6 polynomials in u = a - c_j, the
 * interval j = round(kappa a^2) (kappa = 31.3/36: equal steps in a^2, so
 * each interval spans the same factor of the e^(-a^2/2) decay and one degree
 * fits all; interval 0 is [0, 0.76]). Row 0 holds the centres c_j, picked
 * near the middle of each interval where Phi(-c_j) is a float to ~2^-40, so
 * the constant term adds no rounding; rows 1..7 the coefficients of u^0 ..
 * u^6 (least squares on Chebyshev nodes weighted by 1/Phi, each refit after
 * rounding the lower ones; 1% overlap at the interval ends). Relative error
 * of the fit 4e-8 (interval 0), < 1.5e-8 elsewhere. */
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

/* gelu for vectors with every lane >= -6 (or NaN): x Phi(x) =
 * max(x, 0) - a Phi(-a), a = min(|x|, 6), in one fma. For x > 6 the term
 * a Phi(-6) < 6e-9 is under half an ulp of x, so the result is x; no exp and
 * no intermediate leaves the normal range (-6 Phi(-6) = -6e-9). 21 vector
 * ops (8 of them vpermt2ps) against ~45 for cmx_vm_gelu_full. */
CMX_VMATH_INLINE vf cmx_vm_gelu_lut(vf x) {
  vf a = vf_min(vf_set1(6.0f), vf_abs(x));
  vf t = vf_fmadd(vf_mul(a, a), vf_set1(CMX_VM_GELU_KAPPA), vf_set1(CMX_VM_RND_MAGIC));
  vi j = vf_as_vi(t); /* low 5 bits: the interval */
  vf u = vf_sub(a, vf_lut32(cmx_vm_gelu_tab[0], j));
  vf p = vf_lut32(cmx_vm_gelu_tab[7], j);
  p = vf_fmadd(p, u, vf_lut32(cmx_vm_gelu_tab[6], j));
  p = vf_fmadd(p, u, vf_lut32(cmx_vm_gelu_tab[5], j));
  p = vf_fmadd(p, u, vf_lut32(cmx_vm_gelu_tab[4], j));
  p = vf_fmadd(p, u, vf_lut32(cmx_vm_gelu_tab[3], j));
  p = vf_fmadd(p, u, vf_lut32(cmx_vm_gelu_tab[2], j));
  p = vf_fmadd(p, u, vf_lut32(cmx_vm_gelu_tab[1], j));
  return vf_fnmadd(a, p, vf_max(x, vf_zero()));
}
#endif

/* Lanes beyond the table: x < -6 (not NaN). */
CMX_VMATH_INLINE vm cmx_vm_gelu_tail(vf x) { return vf_lt(x, vf_set1(-6.0f)); }

/* The table where the level has vf_lut32, for every lane >= -6 or NaN
 * whatever its neighbours hold (so each level gives the reference's
 * result lane for lane); the exp-based path for x < -6 and on AVX2. */
CMX_VMATH_INLINE vf vm_gelu(vf x) {
#ifdef VF_LUT32
  vm tail = cmx_vm_gelu_tail(x);
  if (__builtin_expect(!vm_any(tail), 1)) return cmx_vm_gelu_lut(x);
  return vf_select(tail, cmx_vm_gelu_full(x), cmx_vm_gelu_lut(x));
#else
  return cmx_vm_gelu_full(x);
#endif
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
CMX_VMATH_INLINE vf vm_gelu_tanh(vf x) {
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
