/* float64 vector math for f64-vunary: one algorithm per function over GCC
 * vector types of VD_N doubles (defined by the including file: 1 for the
 * reference, 4 AVX2, 8 AVX-512, 2 NEON). Every fma is explicit (vd_fma:
 * the ISA's instruction, or libm's correctly rounded fma on one lane) and
 * the directory builds with -ffp-contract=off, so each level rounds the
 * same operations the same way and gives the same bits.
 *
 * Measured max error in ulp against long double libm, 300k points each
 * over the whole domain (tests/test-kernels-f64.c, f64_vunary_sweep, which
 * asserts the bounds: 1, 1.5, 1, 1, 1, 1, 3, 2.5, 3, 2, 4); glibc's double
 * libm on like points in brackets:
 *   exp 0.75 [0.50]   expm1 0.99 [0.76]  log 0.72 [0.50]  log1p 0.73 [0.79]
 *   sin 0.74 [0.51]   cos 0.72 [0.51]    tanh 2.49 [1.95]
 *   sigmoid 1.84  silu 2.81  softplus 1.39  gelu_tanh 3.48
 * (the last four against their long double formulas; gelu_tanh over its
 * whole range, the negative tail included: see vd_gelu_tanh).
 *
 * Lanes a function does not cover are listed by its _rare mask and
 * recomputed with libm by the kernel body: expm1 above 709, sin and cos of
 * |x| > 2^20 or not finite. Everything else, including infinities, NaN, -0
 * and subnormals, is handled in the vector code. */
#ifndef CMX_F64_VMATH_H
#define CMX_F64_VMATH_H
#include <math.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#ifndef VD_N
#error "define VD_N (doubles per vector) before including f64-vmath.h"
#endif

typedef double vd __attribute__((vector_size(VD_N * 8)));
typedef int64_t vi __attribute__((vector_size(VD_N * 8)));
typedef uint64_t vu __attribute__((vector_size(VD_N * 8)));

#define VD_INLINE static inline __attribute__((always_inline))

VD_INLINE vd vs(double c) { return c - (vd){0}; } /* -0 kept */
VD_INLINE vd vd_fma(vd a, vd b, vd c) {
#if VD_N == 8 && defined(__AVX512F__)
  return (vd)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#elif VD_N == 4 && defined(__FMA__)
  return (vd)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#elif VD_N == 2 && defined(__aarch64__)
  return (vd)vfmaq_f64((float64x2_t)c, (float64x2_t)a, (float64x2_t)b);
#else
  vd r;
  for (int i = 0; i < VD_N; i++) r[i] = fma(a[i], b[i], c[i]);
  return r;
#endif
}
/* m: lanes of all ones or zeros (a comparison's result). */
VD_INLINE vd vsel(vi m, vd a, vd b) { return (vd)(((vi)a & m) | ((vi)b & ~m)); }
VD_INLINE vd vabs(vd x) { return (vd)((vu)x & 0x7fffffffffffffffull); }
VD_INLINE vd vcopysign(vd mag, vd s) {
  return (vd)(((vu)mag & 0x7fffffffffffffffull) |
              ((vu)s & 0x8000000000000000ull));
}
VD_INLINE int vany(vi m) {
  int64_t a = 0;
  for (int i = 0; i < VD_N; i++) a |= m[i];
  return a != 0;
}

/* Round to nearest by the 1.5 * 2^52 shift: t = x * c + MAGIC (one
 * rounding in the fma), n = t - MAGIC exactly, and t's low bits hold n as
 * an integer (|n| < 2^51). */
#define VD_MAGIC 0x1.8p52
VD_INLINE vi vd_int(vd t) { return (vi)t - (vi)vs(VD_MAGIC); }
/* k (|k| < 2^51) as a double, by the same shift. */
VD_INLINE vd vd_from_int(vi k) { return (vd)(k + (vi)vs(VD_MAGIC)) - VD_MAGIC; }
/* 2^k for -1022 <= k <= 1023. */
VD_INLINE vd vd_pow2(vi k) { return (vd)((vu)(k + 1023) << 52); }

/* a + b = s + *err exactly (Knuth's two-sum). */
VD_INLINE vd vd_two_sum(vd a, vd b, vd *err) {
  vd s = a + b;
  vd bb = s - a;
  *err = (a - (s - bb)) + (b - bb);
  return s;
}

/* ---- exp, expm1 ---------------------------------------------------------
 * x = n ln2 + r + rl, |r| <= ln2/2: n by the shift; r = x - n hi exactly
 * (hi = double(ln2): n hi and x share a grid of 2^-54 or coarser and |r| <
 * 1/2, so the fma's result is representable), then minus n lo, whose
 * rounding error is rl. expm1(r + rl) = p + pl, p = r + r^2 q(r), q the
 * Taylor series to r^11/13! (the first term left out is under 0.05 ulp at
 * |r| = ln2/2), pl the rounding of that last sum plus rl e^r. The caller
 * adds p + pl to 1 (exp) or 2^n p to 2^n - 1 (expm1) by a two-sum, so
 * nothing rounded before the last addition is magnified where it
 * cancels. */
#define VD_LOG2E 0x1.71547652b82fep+0
#define VD_LN2_HI 0x1.62e42fefa39efp-1
#define VD_LN2_LO 0x1.abc9e3b39803fp-56
VD_INLINE vd vd_expm1_poly(vd r, vd rl, vd *pl) {
  vd q = vs(0x1.6124613a86d09p-33);
  q = vd_fma(q, r, vs(0x1.1eed8eff8d898p-29));
  q = vd_fma(q, r, vs(0x1.ae64567f544e4p-26));
  q = vd_fma(q, r, vs(0x1.27e4fb7789f5cp-22));
  q = vd_fma(q, r, vs(0x1.71de3a556c734p-19));
  q = vd_fma(q, r, vs(0x1.a01a01a01a01ap-16));
  q = vd_fma(q, r, vs(0x1.a01a01a01a01ap-13));
  q = vd_fma(q, r, vs(0x1.6c16c16c16c17p-10));
  q = vd_fma(q, r, vs(0x1.1111111111111p-7));
  q = vd_fma(q, r, vs(0x1.5555555555555p-5));
  q = vd_fma(q, r, vs(0x1.5555555555555p-3));
  q = vd_fma(q, r, vs(0x1.0p-1));
  vd t = r * r * q;
  vd p = r + t;
  *pl = ((r - p) + t) + rl * (1.0 + p);
  return p;
}
/* x already clamped to the range the caller needs; n and rl out. */
VD_INLINE vd vd_exp_reduce(vd x, vi *n, vd *rl) {
  vd t = vd_fma(x, vs(VD_LOG2E), vs(VD_MAGIC));
  vd nd = t - VD_MAGIC;
  vd r1 = vd_fma(-nd, vs(VD_LN2_HI), x);
  vd r = vd_fma(-nd, vs(VD_LN2_LO), r1);
  *rl = vd_fma(-nd, vs(VD_LN2_LO), r1 - r);
  *n = vd_int(t);
  return r;
}
/* exp(x) = e 2^n1 2^n2 with x clamped to [-1400, 709.8] (NaN passes): n =
 * n1 + n2 in [-2020, 1024], in two halves so 2^n never leaves the normal
 * range and a subnormal result is rounded once; below -745.2 the result is
 * 0, but x e 2^n1 2^n2 (vd_mul_sigmoid) is not yet. */
VD_INLINE vd vd_exp_parts(vd x, vi *n1, vi *n2) {
  vd xc = vsel(x > 709.8, vs(709.8), x);
  xc = vsel(xc < -1400.0, vs(-1400.0), xc);
  vi n;
  vd rl, pl, err;
  vd r = vd_exp_reduce(xc, &n, &rl);
  vd p = vd_expm1_poly(r, rl, &pl);
  vd e = vd_two_sum(vs(1.0), p, &err);
  *n1 = n >> 1;
  *n2 = n - *n1;
  return e + (err + pl);
}
VD_INLINE vd vd_exp(vd x) {
  vi n1, n2;
  vd e = vd_exp_parts(x, &n1, &n2);
  return e * vd_pow2(n1) * vd_pow2(n2);
}
/* expm1 = (2^n - 1) + 2^n (p + pl); 2^n - 1 is exact for n >= -53 and
 * the clamp at -40 gives n >= -58, where the result is -1 either way.
 * Above 709 (2^n would overflow) lanes are rare (vd_expm1_rare). */
VD_INLINE vd vd_expm1(vd x) {
  vd xc = vsel(x > 709.0, vs(709.0), x);
  xc = vsel(xc < -40.0, vs(-40.0), xc);
  vi n;
  vd rl, pl, err;
  vd r = vd_exp_reduce(xc, &n, &rl);
  vd p = vd_expm1_poly(r, rl, &pl);
  vd s = vd_pow2(n);
  vd y = vd_two_sum(s - 1.0, s * p, &err);
  y = y + (err + s * pl);
  return vsel(x == 0, x, y); /* -0 */
}
VD_INLINE vi vd_expm1_rare(vd x) { return x > 709.0; }

/* ---- log, log1p ---------------------------------------------------------
 * u = 2^k m with m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2
 * + f): log(1 + f) = 2 atanh(s) = f - hfsq + s (hfsq + R), hfsq = f^2 / 2,
 * R = sum 2 s^2j / (2j + 1) for j = 1..10 (the first term left out is
 * under 2^-60 of the result: s^2 <= 0.0295). k ln2 is added as k hi
 * (exact: hi has 21 low zero bits) plus k lo in the small part; c is a
 * correction added there too (log1p's rounding of 1 + x). */
#define VD_LN2_HI21 0x1.62e42fee00000p-1
#define VD_LN2_LO21 0x1.a39ef35793c76p-33
VD_INLINE vd vd_log_core(vd u, vd c) {
  vi den = u < 0x1p-1022; /* subnormal: scale up by 2^54 */
  u = vsel(den, u * 0x1p54, u);
  vi b = (vi)u + (0x3ff0000000000000ll - 0x3fe6a09e667f3bcdll);
  vi k = (b >> 52) - 1023 - (den & 54);
  vd m = (vd)((b & 0x000fffffffffffffll) + 0x3fe6a09e667f3bcdll);
  vd f = m - 1.0;
  vd hfsq = 0.5 * f * f;
  vd s = f / (2.0 + f);
  vd z = s * s;
  vd r = vs(0x1.8618618618618p-4);
  r = vd_fma(r, z, vs(0x1.af286bca1af28p-4));
  r = vd_fma(r, z, vs(0x1.e1e1e1e1e1e1ep-4));
  r = vd_fma(r, z, vs(0x1.1111111111111p-3));
  r = vd_fma(r, z, vs(0x1.3b13b13b13b14p-3));
  r = vd_fma(r, z, vs(0x1.745d1745d1746p-3));
  r = vd_fma(r, z, vs(0x1.c71c71c71c71cp-3));
  r = vd_fma(r, z, vs(0x1.2492492492492p-2));
  r = vd_fma(r, z, vs(0x1.999999999999ap-2));
  r = vd_fma(r, z, vs(0x1.5555555555555p-1));
  r = r * z;
  vd dk = vd_from_int(k);
  return dk * VD_LN2_HI21 -
         ((hfsq - (s * (hfsq + r) + (dk * VD_LN2_LO21 + c))) - f);
}
VD_INLINE vd vd_log(vd x) {
  vd y = vd_log_core(x, vs(0));
  y = vsel(x == INFINITY, x, y);
  y = vsel(x == 0, vs(-INFINITY), y);
  y = vsel(x < 0, vs(NAN), y);
  return vsel(x != x, x, y);
}
/* u = 1 + x rounded; c = (1 + x - u) / u, the rounding's error (exact
 * numerator: 1 - (u - x) where u >= 2, x - (u - 1) below, each by
 * Sterbenz). */
VD_INLINE vd vd_log1p(vd x) {
  vd u = 1.0 + x;
  vd c = vsel(u >= 2.0, 1.0 - (u - x), x - (u - 1.0)) / u;
  vd y = vd_log_core(u, c);
  y = vsel(x == INFINITY, x, y);
  y = vsel(x == -1.0, vs(-INFINITY), y);
  y = vsel(x < -1.0, vs(NAN), y);
  y = vsel(x == 0, x, y); /* -0 */
  return vsel(x != x, x, y);
}

/* ---- sin, cos -----------------------------------------------------------
 * x = n pi/2 + r with pi/2 = P1 + P2 + P3 (each the double nearest the
 * remainder): x - n P1 is exact (as exp's first step, for |x| <= 2^20),
 * n P2 is split exactly (fma) and subtracted by a two-sum, so where x lies
 * near a multiple of pi/2 and r1 - n P2 cancels, nothing rounded before
 * it is left in r; the rest is carried as r + rl (a double-double). Taylor
 * polynomials on |r| <= pi/4 to r^17 and r^18 (first term left out: 1e-19
 * relative). */
#define VD_2_PI 0x1.45f306dc9c883p-1
#define VD_P1 0x1.921fb54442d18p+0
#define VD_P2 0x1.1a62633145c07p-54
#define VD_P3 -0x1.f1976b7ed8fbcp-110
VD_INLINE vd vd_trig_reduce(vd x, vd *rl, vi *q) {
  vd t = vd_fma(x, vs(VD_2_PI), vs(VD_MAGIC));
  vd n = t - VD_MAGIC;
  vd r1 = vd_fma(-n, vs(VD_P1), x);
  vd ph = n * VD_P2;
  vd pl = vd_fma(n, vs(VD_P2), -ph); /* n P2 = ph + pl exactly */
  vd s = r1 - ph;                    /* r1 - ph = s + err exactly */
  vd bb = s - r1;
  vd err = (r1 - (s - bb)) + (-ph - bb);
  vd tail = vd_fma(-n, vs(VD_P3), err - pl);
  vd r = s + tail;
  *rl = (s - r) + tail;
  *q = vd_int(t);
  return r;
}
VD_INLINE vd vd_sin_poly(vd r, vd rl) {
  vd z = r * r;
  vd s = vs(0x1.952c77030ad4ap-49);
  s = vd_fma(s, z, vs(-0x1.ae7f3e733b81fp-41));
  s = vd_fma(s, z, vs(0x1.6124613a86d09p-33));
  s = vd_fma(s, z, vs(-0x1.ae64567f544e4p-26));
  s = vd_fma(s, z, vs(0x1.71de3a556c734p-19));
  s = vd_fma(s, z, vs(-0x1.a01a01a01a01ap-13));
  s = vd_fma(s, z, vs(0x1.1111111111111p-7));
  s = vd_fma(s, z, vs(-0x1.5555555555555p-3));
  /* sin(r + rl) = sin r + rl cos r, cos r ~ 1 - z/2 at rl's scale */
  return r + (r * z * s + rl * (1.0 - 0.5 * z));
}
VD_INLINE vd vd_cos_poly(vd r, vd rl) {
  vd z = r * r;
  vd c = vs(-0x1.6827863b97d97p-53);
  c = vd_fma(c, z, vs(0x1.ae7f3e733b81fp-45));
  c = vd_fma(c, z, vs(-0x1.93974a8c07c9dp-37));
  c = vd_fma(c, z, vs(0x1.1eed8eff8d898p-29));
  c = vd_fma(c, z, vs(-0x1.27e4fb7789f5cp-22));
  c = vd_fma(c, z, vs(0x1.a01a01a01a01ap-16));
  c = vd_fma(c, z, vs(-0x1.6c16c16c16c17p-10));
  c = vd_fma(c, z, vs(0x1.5555555555555p-5));
  vd hz = 0.5 * z;
  vd w = 1.0 - hz; /* the rounding of 1 - hz is put back below */
  return w + (((1.0 - w) - hz) + (z * z * c - r * rl));
}
/* Quadrant q (sin: q, cos: q + 1): odd q takes the cosine polynomial,
 * q & 2 negates. */
VD_INLINE vd vd_trig(vd x, int cos) {
  vd rl;
  vi q;
  vd r = vd_trig_reduce(x, &rl, &q);
  q = q + cos;
  vd y = vsel((q & 1) != 0, vd_cos_poly(r, rl), vd_sin_poly(r, rl));
  y = (vd)((vu)y ^ ((vu)(q & 2) << 62));
  return cos ? y : vsel(x == 0, x, y); /* sin(-0) = -0 */
}
VD_INLINE vd vd_sin(vd x) { return vd_trig(x, 0); }
VD_INLINE vd vd_cos(vd x) { return vd_trig(x, 1); }
VD_INLINE vi vd_trig_rare(vd x) { return ~(vabs(x) <= 0x1p20); }

/* ---- activations --------------------------------------------------------
 * tanh |x| = -t / (t + 2), t = expm1(-2|x|) in [-1, 0], sign restored.
 * x sigmoid(w + wl) = x / (1 + E) for w >= 0 and x E / (1 + E) below, E =
 * exp(-|w + wl|) = exp(-|w|) (1 - sign(w) wl) (no overflow); below, x e
 * 2^n1 goes first (normal: x 2^n1 neither overflows nor, where |w| is
 * large, underflows) and 2^n2 last, so a subnormal result is rounded once
 * (silu(-740) keeps its bits). sigmoid and silu are that with (x, w)
 * = (1, x) and (x, x), wl = 0; softplus = relu(x) + log1p(exp(-|x|)). */
VD_INLINE vd vd_tanh(vd x) {
  vd t = vd_expm1(-2.0 * vabs(x));
  return vcopysign(-t / (t + 2.0), x);
}
VD_INLINE vd vd_mul_sigmoid(vd x, vd w, vd wl) {
  vi n1, n2;
  vd e = vd_exp_parts(-vabs(w), &n1, &n2);
  vd s1 = vd_pow2(n1), s2 = vd_pow2(n2);
  vi neg = w < 0;
  e = e * (1.0 - vcopysign(vs(1.0), w) * wl);
  vd y = vsel(neg, x * s1 * e, x) / (1.0 + e * s1 * s2);
  return vsel(neg, y * s2, y);
}
VD_INLINE vd vd_sigmoid(vd x) { return vd_mul_sigmoid(vs(1.0), x, vs(0)); }
/* silu and gelu_tanh of -inf are -0, as the f32 kernels give. */
VD_INLINE vd vd_silu(vd x) {
  return vsel(x == -INFINITY, vs(-0.0), vd_mul_sigmoid(x, x, vs(0)));
}
/* gelu_tanh = x sigmoid(w), w = K (x + c x^3), K = 2 sqrt(2/pi), c =
 * 0.044715. sigmoid(w) moves by |w| times w's relative error, so w is
 * carried as a double-double (x^3, c x^3, the sum and K w exact to
 * ~2^-100, K and c as two doubles each): a rounded w would cost |w| ulp
 * (40 at x = -2.5, 2000 at x = -21). Past |x| = 1e30, x^3 may overflow:
 * the result is x or -0 there. */
#define VD_GT_K_HI 0x1.9884533d43651p+0
#define VD_GT_K_LO -0x1.cbc0d30ebfd15p-54
#define VD_GT_C_HI 0x1.6e4e26d4801f7p-5
#define VD_GT_C_LO 0x1.441355475a31ap-59
VD_INLINE vd vd_gelu_tanh(vd x) {
  vd x2 = x * x;
  vd x2l = vd_fma(x, x, -x2);
  vd x3 = x2 * x;
  vd x3l = vd_fma(x2, x, -x3) + x2l * x;
  vd t = VD_GT_C_HI * x3;
  vd tl = vd_fma(vs(VD_GT_C_HI), x3, -t) + (VD_GT_C_HI * x3l + VD_GT_C_LO * x3);
  vd ul;
  vd u = vd_two_sum(x, t, &ul);
  ul = ul + tl;
  vd w = VD_GT_K_HI * u;
  vd wl = vd_fma(vs(VD_GT_K_HI), u, -w) + (VD_GT_K_HI * ul + VD_GT_K_LO * u);
  vd y = vd_mul_sigmoid(x, w, wl);
  y = vsel(vabs(x) > 1e30, vsel(x > 0, x, vs(-0.0)), y);
  return vsel(x != x, x, y);
}
VD_INLINE vd vd_softplus(vd x) {
  vd relu = vsel(x > 0, x, vsel(x == x, vs(0), x));
  return relu + vd_log1p(vd_exp(-vabs(x)));
}

#endif
