/* float64 vector math for f64-vunary: one algorithm per function over GCC
 * vector types of VD_N doubles (defined by the including file: 1 for the
 * reference, 4 AVX2, 8 AVX-512, 2 NEON). Every fma is explicit (vd_fma:
 * the ISA's instruction, or libm's correctly rounded fma on one lane) and
 * the directory builds with -ffp-contract=off, so each level rounds the
 * same operations the same way and gives the same bits.
 *
 * Measured max error in ulp against long double libm, 300k points each
 * over the whole domain (tests/test-kernels-f64.c, f64_vunary_sweep, which
 * asserts the bounds: 1, 1.5, 1, 1, 1, 1, 3, 2.5, 3, 2, 4, 2, 6.5); glibc's
 * double libm on like points in brackets:
 *   exp 0.75 [0.50]   expm1 0.82 [0.76]  log 0.72 [0.50]  log1p 0.73 [0.79]
 *   (exp 0.55 within |x| <= 708, the table's range: vd_exp)
 *   sin 0.74 [0.51]   cos 0.72 [0.51]    tanh 2.49 [1.95]
 *   sigmoid 1.84  silu 2.81  softplus 1.39  gelu_tanh 3.48  erf 1.26
 *   gelu 4.40
 * (sigmoid ... gelu_tanh and gelu against their long double formulas, the
 * negative tails of gelu_tanh and gelu included: see vd_gelu_tanh,
 * vd_gelu).
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
#if VD_N == 8 && defined(__AVX512DQ__)
  return _mm512_movepi64_mask((__m512i)m) != 0; /* the sign bits */
#elif VD_N == 4 && defined(__AVX__)
  return _mm256_movemask_pd((__m256d)m) != 0;
#else
  int64_t a = 0;
  for (int i = 0; i < VD_N; i++) a |= m[i];
  return a != 0;
#endif
}

/* Round to nearest by the 1.5 * 2^52 shift: t = x * c + MAGIC (one
 * rounding in the fma), n = t - MAGIC exactly, and t's low bits hold n as
 * an integer (|n| < 2^51). */
#define VD_MAGIC 0x1.8p52
/* (Integer work on bit patterns is unsigned throughout: lanes whose
 * result is selected away, NaN or the rare ones, may hold any bits.) */
VD_INLINE vi vd_int(vd t) { return (vi)((vu)t - (vu)vs(VD_MAGIC)); }
/* k (|k| < 2^51) as a double, by the same shift. */
VD_INLINE vd vd_from_int(vi k) {
  return (vd)((vu)k + (vu)vs(VD_MAGIC)) - VD_MAGIC;
}
/* n = n1 + n2, each about half (2^n scaled in two steps, each normal,
 * where n itself would leave the normal range). */
VD_INLINE void vd_halves(vi n, vi *n1, vi *n2) {
  *n1 = n >> 1;
  *n2 = (vi)((vu)n - (vu)*n1);
}
/* 2^k for -1022 <= k <= 1023. */
VD_INLINE vd vd_pow2(vi k) { return (vd)(((vu)k + 1023) << 52); }

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
  vd_halves(n, n1, n2);
  return e + (err + pl);
}
VD_INLINE vd vd_exp_wide(vd x) {
  vi n1, n2;
  vd e = vd_exp_parts(x, &n1, &n2);
  return e * vd_pow2(n1) * vd_pow2(n2);
}

/* exp for |x| <= VD_EXP_TAB_MAX, table-driven (vd_exp_tab): x = (16 m +
 * j) ln2/16 + r, |r| <= ln2/32, exp(x) = 2^m T_j (1 + expm1(r)), T_j =
 * 2^(j/16) as hi + lo (correctly rounded, then the rest), expm1(r) = r +
 * r^2 q(r), q the Taylor series to r^7/7! (the first term left out is
 * 1.2e-18 at |r| = ln2/32). y = T_hi + (T_hi p + T_lo) is in [0.97, 2.1]
 * and 2^m goes into its exponent field: for |x| <= 708, 16 m + j lies in
 * [-16343, 16343], so y 2^m stays normal. Errors: r within 2^-58 of x -
 * (16 m + j) ln2/16, the polynomial and its roundings under 0.05 ulp, the
 * last addition 0.5. About half the operations of vd_exp_wide (its
 * Taylor series runs to r^13, on |r| <= ln2/2, plus the two-sums), whose
 * lanes are only those past the table's range, NaN and infinities. */
#define VD_EXP_TAB_MAX 708.0
#define VD_16_LN2 0x1.71547652b82fep+4
#define VD_LN2_16_HI 0x1.62e42fefa39efp-5
#define VD_LN2_16_LO 0x1.abc9e3b39803fp-60
static const double vd_exp2_hi[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0,
    0x1.2387a6e756238p+0, 0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0,
    0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0, 0x1.6a09e667f3bcdp+0,
    0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0,
    0x1.ea4afa2a490dap+0};
static const double vd_exp2_lo[16] = {0x0.0p+0,
                                      0x1.8a62e4adc610bp-54,
                                      -0x1.19041b9d78a76p-55,
                                      0x1.9b07eb6c70573p-54,
                                      0x1.6f46ad23182e4p-55,
                                      0x1.ada0911f09ebcp-55,
                                      0x1.d4397afec42e2p-56,
                                      0x1.6324c054647adp-54,
                                      -0x1.bdd3413b26456p-54,
                                      -0x1.41577ee04992fp-55,
                                      0x1.6e9f156864b27p-54,
                                      0x1.c7c46b071f2bep-56,
                                      0x1.7a1cd345dcc81p-54,
                                      0x1.11065895048ddp-55,
                                      0x1.2ed02d75b3707p-55,
                                      -0x1.e9c23179c2893p-54};
/* t[j & 15] a lane: on AVX-512 one two-register permute (it reads the
 * index's low 4 bits), on AVX2 a gather, elsewhere a load a lane */
VD_INLINE vd vd_tab16(const double *t, vi j) {
#if VD_N == 8 && defined(__AVX512F__)
  return (vd)_mm512_permutex2var_pd(_mm512_loadu_pd(t), (__m512i)j,
                                    _mm512_loadu_pd(t + 8));
#elif VD_N == 4 && defined(__AVX2__)
  return (vd)_mm256_i64gather_pd(t, (__m256i)(j & 15), 8);
#else
  vd r;
  for (int i = 0; i < VD_N; i++) r[i] = t[j[i] & 15];
  return r;
#endif
}
/* exp(x) = 2^m (th + (th p + tl)), p = r + r^2 q: returns th, and r, q,
 * tl and ki = 16 m + j; rl is r's rounding (x - k ln2/16 = r + rl to
 * 2^-100; the fma x - k hi is exact), which exp leaves out. */
VD_INLINE vd vd_exp_tab_parts(vd x, vd *r_, vd *rl, vd *q_, vd *tl, vi *ki) {
  vd t = vd_fma(x, vs(VD_16_LN2), vs(VD_MAGIC));
  vd k = t - VD_MAGIC;
  vd r1 = vd_fma(-k, vs(VD_LN2_16_HI), x);
  vd r = vd_fma(-k, vs(VD_LN2_16_LO), r1);
  *rl = vd_fma(-k, vs(VD_LN2_16_LO), r1 - r);
  *ki = vd_int(t);
  vd q = vs(0x1.a01a01a01a01ap-13);
  q = vd_fma(q, r, vs(0x1.6c16c16c16c17p-10));
  q = vd_fma(q, r, vs(0x1.1111111111111p-7));
  q = vd_fma(q, r, vs(0x1.5555555555555p-5));
  q = vd_fma(q, r, vs(0x1.5555555555555p-3));
  q = vd_fma(q, r, vs(0x1.0p-1));
  *r_ = r, *q_ = q;
  *tl = vd_tab16(vd_exp2_lo, *ki);
  return vd_tab16(vd_exp2_hi, *ki);
}
/* exp(x) = 2^m y, y in [0.97, 2.1]: returns y, and ki = 16 m + j (y is
 * good for |x| up to 2^40; VD_EXP_TAB_MAX bounds only 2^m y) */
VD_INLINE vd vd_exp_tab_y(vd x, vi *ki) {
  vd r, rl, q, tl;
  vd th = vd_exp_tab_parts(x, &r, &rl, &q, &tl, ki);
  return th + vd_fma(th, vd_fma(r * r, q, r), tl);
}
/* The lanes past the table's range hold any bits. */
VD_INLINE vd vd_exp_tab(vd x) {
  vi ki;
  vd y = vd_exp_tab_y(x, &ki);
  return (vd)((vu)y + ((vu)(ki >> 4) << 52));
}
/* expm1 likewise, 2^m th - 1 + 2^m (th r + (th (r^2 q + rl) + tl)): a =
 * 2^m th (exact) and a - 1 by a two-sum, then th r (split exactly by an
 * fma) added by a second: the result can be as little as half of a - 1
 * (x just under ln2/16, j = 1), so th p rounded once, as exp has it, and
 * r's own rounding each cost up to an ulp there (1.6 ulp in all). x = 0
 * gives +0 here (vd_expm1 keeps -0). */
VD_INLINE vd vd_expm1_tab(vd x) {
  vd r, rl, q, tl, e1, e2;
  vi ki;
  vd th = vd_exp_tab_parts(x, &r, &rl, &q, &tl, &ki);
  vd s = vd_pow2(ki >> 4);
  vd bh = th * r;
  vd bl = vd_fma(th, r, -bh) + vd_fma(th, vd_fma(r * r, q, rl), tl);
  vd hi = vd_two_sum(th * s, vs(-1.0), &e1);
  hi = vd_two_sum(hi, bh * s, &e2);
  return hi + ((e1 + e2) + bl * s);
}
/* Each lane by the table, or by vd_exp_wide past its range: the same
 * bits at every vector width. */
VD_INLINE vi vd_exp_tab_out(vd x) { return ~(vabs(x) <= VD_EXP_TAB_MAX); }
VD_INLINE vd vd_exp(vd x) {
  vd y = vd_exp_tab(x);
  vi out = vd_exp_tab_out(x);
  if (__builtin_expect(vany(out), 0)) y = vsel(out, vd_exp_wide(x), y);
  return y;
}
/* expm1 = (2^n - 1) + 2^n (p + pl); 2^n - 1 is exact for n >= -53 and
 * the clamp at -40 gives n >= -58, where the result is -1 either way.
 * Above 709 (2^n would overflow) lanes are rare (vd_expm1_rare). */
VD_INLINE vd vd_expm1_wide(vd x) {
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
/* By the table within its range (vd_expm1_tab), per lane as vd_exp. */
VD_INLINE vd vd_expm1(vd x) {
  vd y = vd_expm1_tab(x);
  vi out = vd_exp_tab_out(x);
  if (__builtin_expect(vany(out), 0)) y = vsel(out, vd_expm1_wide(x), y);
  return vsel(x == 0, x, y); /* -0 */
}

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
  /* bit work unsigned: a NaN or negative u (its result selected away
   * later) would overflow a signed add */
  vu b = (vu)u + (0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull);
  vi k = (vi)(b >> 52) - 1023 - (den & 54);
  vd m = (vd)((b & 0x000fffffffffffffull) + 0x3fe6a09e667f3bcdull);
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
  q = (vi)((vu)q + (uint64_t)cos);
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
VD_INLINE vd vd_mul_sigmoid_wide(vd x, vd w, vd wl) {
  vi n1, n2;
  vd e = vd_exp_parts(-vabs(w), &n1, &n2);
  vd s1 = vd_pow2(n1), s2 = vd_pow2(n2);
  vi neg = w < 0;
  e = e * (1.0 - vcopysign(vs(1.0), w) * wl);
  vd y = vsel(neg, x * s1 * e, x) / (1.0 + e * s1 * s2);
  return vsel(neg, y * s2, y);
}
/* E by the table where |w| is within its range (then 2^n1 = 2^n2 = 1:
 * E is normal), other lanes by the form above. */
VD_INLINE vd vd_mul_sigmoid(vd x, vd w, vd wl) {
  vd aw = -vabs(w);
  vi out = vd_exp_tab_out(aw);
  vd e = vd_exp_tab(aw) * (1.0 - vcopysign(vs(1.0), w) * wl);
  vd y = vsel(w < 0, x * e, x) / (1.0 + e);
  if (__builtin_expect(vany(out), 0))
    y = vsel(out, vd_mul_sigmoid_wide(x, w, wl), y);
  return y;
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

/* ---- erf, gelu (erf) -----------------------------------------------------
 * Below 0.75, erf(a) = a (a0 + t Q(t)), t = a^2, Q a Taylor series. Above,
 * erf = 1 - erfc, erfc(a) = exp(-a^2) h(a): a^2 = a2 + a2l exactly (fma),
 * exp(-a2 - a2l) = exp(-a2) (1 - a2l), and h(a) = erfc(a) exp(a^2) is a
 * polynomial on one of seven intervals, in a below 4 and in u = 1/a above
 * (as h / u = a h(a), near 1/sqrt(pi)). Q and the seven share one table,
 * sixteen coefficients in eight columns, so a vector whose lanes take
 * different forms evaluates one polynomial, each lane's coefficients
 * picked from its column (one AVX-512 permute a coefficient). The h
 * polynomials were fitted here (gen-erf-table.py prints the table):
 * Chebyshev interpolants of degree 15 in s = (v - mid) ih, v = a or u
 * (mpmath, 120 bits), written in powers of s; the first term left out
 * is under 2e-18 of h, the rounded coefficients within 5e-17 of it (most
 * of that the constant term's rounding). Intervals of a
 * are half binades, [0.75, 1), [1, 1.5), [1.5, 2), [2, 3), [3, 4): the
 * column and s come from a's bits; then [4, 8) and [8, 27.5] in u. */
/* Q's coefficients (column 7): the Taylor series to t^15 (a_16 t^16 < 2e-19);
 * a0 = 2 / sqrt(pi) as two doubles. */
#define VD_ERF_A0_HI 0x1.20dd750429b6dp+0
#define VD_ERF_A0_LO 0x1.1ae3a914fee00p-56
#define VD_ALIGN64 __attribute__((aligned(64)))
static const double vd_erf_tab[16][8] VD_ALIGN64 = {
    {0x1.db747ee409ac5p-2, 0x1.78a692138767ap-2, 0x1.23cfc2f1dc7e0p-2,
     0x1.afbb3f3b7343bp-3, 0x1.3e0a99a0ee914p-3, 0x1.1c08bb2a920bdp-1,
     0x1.1fef14afa7bb0p-1, -0x1.812746b0379e7p-2},
    {-0x1.4369f60195edcp-5, -0x1.abaacdbfa8b07p-5, -0x1.0c3d538446447p-5,
     -0x1.3086d7f01ac85p-5, -0x1.5285d2eb1ef74p-6, -0x1.88cb4896bfa10p-8,
     -0x1.0360a88e927f8p-9, 0x1.ce2f21a042be2p-4},
    {0x1.80ef8f454cf88p-9, 0x1.b56f45eef7e58p-8, 0x1.c8d0cef0f810dp-9,
     0x1.98958a7a8e4b2p-8, 0x1.5d581133378eep-9, -0x1.abb5a57bd785dp-11,
     -0x1.122257a9cfce7p-11, -0x1.b82ce31288b51p-6},
    {-0x1.9d5868de0b581p-13, -0x1.9b635ac624ad5p-11, -0x1.6cb52fe48945fp-12,
     -0x1.0632076809e02p-10, -0x1.5e5d7e9899182p-12, 0x1.b5ff386741275p-15,
     0x1.7059de5fd9981p-17, 0x1.565bcd0e6a53fp-8},
    {0x1.9831c2c85003fp-17, 0x1.68a25a6641eeep-14, 0x1.13648a11ffe68p-15,
     0x1.435c04e205695p-13, 0x1.5632136d8c871p-15, 0x1.4c526c5b2b273p-20,
     0x1.55ab2c0994b99p-20, -0x1.c02db40040b86p-11},
    {-0x1.779dd2a3da23dp-21, -0x1.299636d6c5877p-17, -0x1.8bf716a8eabe1p-19,
     -0x1.809ce8ab511d7p-16, -0x1.460abd6b257aap-18, -0x1.b065cea9c472dp-22,
     -0x1.3189c1ebf7c2fp-24, 0x1.f9a326f9b89b7p-14},
    {0x1.452648d62b758p-25, 0x1.d1b695aac9c27p-21, 0x1.106bd5c04629bp-22,
     0x1.ba8a67d47f1bep-19, 0x1.2f839e54cd10cp-21, 0x1.606dfdb3b4a10p-26,
     -0x1.09f115b397434p-28, -0x1.f4d25c3e0c2ebp-17},
    {-0x1.0ab3832b9a73bp-29, -0x1.5b8bc94c695cbp-24, -0x1.6838884ab9b2dp-26,
     -0x1.edd4239d4f7cdp-22, -0x1.146bc406f87d7p-24, 0x1.e9a73b7f929cbp-30,
     0x1.1de9546b07566p-31, 0x1.b9e6c9dc651a3p-20},
    {0x1.a0ef7ee607537p-34, 0x1.f0fe6f9ae86abp-28, 0x1.cb4c6872b02bep-30,
     0x1.0bcba0cbc77a2p-24, 0x1.ed2a955d8df2ep-28, -0x1.94233c007fd33p-32,
     0x1.61535c3bccb72p-38, -0x1.5f742ec43e71ap-23},
    {-0x1.37fe70bb04e83p-38, -0x1.55c07d13e294bp-31, -0x1.1b2912c769908p-33,
     -0x1.1ad10b982cca0p-27, -0x1.af5d64282a7e5p-31, 0x1.3d253b403749dp-36,
     -0x1.171c17017599bp-38, 0x1.fcc5720624c1cp-27},
    {0x1.c0b37ccceaeeep-43, 0x1.c57052765239ap-35, 0x1.5273ffa4c4911p-37,
     0x1.23512be3a8587p-30, 0x1.725027c5bf1e9p-34, 0x1.50a9a69b82aa3p-39,
     0x1.462640d86295ep-43, -0x1.51d7181c5d36dp-30},
    {-0x1.370a713ba4986p-47, -0x1.22fc5054bd4fep-38, -0x1.88fb3c1677823p-41,
     -0x1.2515bf72e2aefp-33, -0x1.384594a15adbap-37, -0x1.2115612c89342p-41,
     0x1.f4c6510c16aaap-46, 0x1.9e6ad5e55a730p-34},
    {0x1.a0d24c64c8633p-52, 0x1.6a07b615332acp-42, 0x1.bc018b6df04afp-45,
     0x1.20001e7e74de6p-36, 0x1.02b1e305bf75dp-40, 0x1.1949d680fe4b8p-45,
     -0x1.a7748d7ffa218p-49, -0x1.d8453cb0c46eap-38},
    {-0x1.0e97ccc0bacc9p-56, -0x1.b5a9c12d213fap-46, -0x1.e90f21a9c1e12p-49,
     -0x1.1577396695e75p-39, -0x1.a5f476d20075dp-44, 0x1.eaf8c42164ea6p-49,
     -0x1.0c473b659fe6bp-53, 0x1.f683ae4a97007p-42},
    {0x1.570847a555664p-61, 0x1.06b5cf20ecb1dp-49, 0x1.0b6c422547b9dp-52,
     0x1.147e262e8c3b4p-42, 0x1.604abf62ed135p-47, -0x1.0ddc28574d7d3p-50,
     0x1.663a3e064526fp-55, -0x1.f56f071a885cfp-46},
    {-0x1.a461bd749f480p-66, -0x1.2cf6c190c7ee6p-53, -0x1.18d281803086ap-56,
     -0x1.ff38c1d4f39eep-46, -0x1.16441025d9425p-50, 0x1.58351f9420098p-54,
     -0x1.557692044c154p-60, 0x1.d70b3537f4765p-50},
};
#define VD_ERFC_MID5 0x1.8000000000000p-3
#define VD_ERFC_IH5 0x1.0000000000000p+4
#define VD_ERFC_MID6 0x1.4a7904a7904a8p-4
#define VD_ERFC_IH6 0x1.6906906906907p+4

#define VD_RSQRT2_HI 0x1.6a09e667f3bcdp-1
#define VD_RSQRT2_LO -0x1.bdd3413b26400p-55

/* row[i] for the lanes of column i (idx's low three bits): on AVX-512 one
 * permute of the row, on AVX2 a permute of each half (the 32-bit form: a
 * double is a pair of words) and a blend, elsewhere a load a lane */
VD_INLINE vd vd_pick8(const double *row, vi idx) {
#if VD_N == 8 && defined(__AVX512F__)
  return (vd)_mm512_permutexvar_pd((__m512i)idx, _mm512_load_pd(row));
#elif VD_N == 4 && defined(__AVX2__)
  vu w = ((vu)idx & 3) << 1;
  __m256i k = (__m256i)(w | (w << 32) | (1ull << 32));
  __m256i lo = _mm256_permutevar8x32_epi32(_mm256_load_si256((void *)row), k);
  __m256i hi =
      _mm256_permutevar8x32_epi32(_mm256_load_si256((void *)(row + 4)), k);
  return (vd)_mm256_blendv_pd((__m256d)lo, (__m256d)hi,
                              (__m256d)((vu)idx << 61));
#else
  vd r;
  for (int i = 0; i < VD_N; i++) r[i] = row[idx[i] & 7];
  return r;
#endif
}
VD_INLINE vi vseli(vi m, vi a, vi b) { return (a & m) | (b & ~m); }
/* For 0 <= a <= 27.5 (NaN passes): erf(a) into *small for the lanes of lo
 * (a < 0.75), and for the others erfc(a + al) = e 2^(ki >> 4) returned (al
 * only where with_al, a literal). exp(-a2) by the table (vd_exp_tab_y: the
 * caller scales by 2^m, in two halves where m may go below -1022); 1 / a
 * and the division by it only where a lane is at 4 or more. */
VD_INLINE vd vd_erf_parts(vd a, vd al, const int with_al, vi lo, vd *small,
                          vi *ki) {
  vu ab = (vu)a;
  /* [0.75, 4): column (a's exponent and top mantissa bit) 0..4, s = 4 m -
   * 5 (or - 7 in a binade's upper half), m a's mantissa in [1, 2): exact */
  vi idx = (vi)((ab >> 51) - 0x7fd);
  vd m = (vd)((ab & 0xfffffffffffffull) | 0x3ff0000000000000ull);
  vd s = vd_fma(m, vs(4.0), -vsel((vi)(ab << 12) >> 63, vs(7.0), vs(5.0)));
  vi far = a >= 4.0;
  const int any_far = vany(far);
  if (any_far) {
    vi g8 = a >= 8.0;
    vd sf = (1.0 / a - vsel(g8, vs(VD_ERFC_MID6), vs(VD_ERFC_MID5))) *
            vsel(g8, vs(VD_ERFC_IH6), vs(VD_ERFC_IH5));
    s = vsel(far, sf, s);
    idx = vseli(far, 5 - g8, idx);
  }
  vd t = a * a;
  s = vsel(lo, t, s);
  idx = vseli(lo, (vi){0} + 7, idx);
  /* even and odd halves by Horner in s^2: two chains of 8 */
  vd s2 = s * s;
  vd ev = vd_pick8(vd_erf_tab[14], idx), od = vd_pick8(vd_erf_tab[15], idx);
  for (int j = 12; j >= 0; j -= 2) {
    ev = vd_fma(ev, s2, vd_pick8(vd_erf_tab[j], idx));
    od = vd_fma(od, s2, vd_pick8(vd_erf_tab[j + 1], idx));
  }
  vd p = vd_fma(s, od, ev);
  /* small: a a0 + a t Q(t) in one fma (a0's low half in the small part) */
  *small = vd_fma(a, vs(VD_ERF_A0_HI), a * vd_fma(t, p, vs(VD_ERF_A0_LO)));
  vd h = any_far ? vsel(far, p / a, p) : p; /* h = (h / u) / a */
  vd a2l = vd_fma(a, a, -t);
  if (with_al) a2l = a2l + 2.0 * a * al;
  vd eh = vd_exp_tab_y(-t, ki) * h;
  return vd_fma(-eh, a2l, eh); /* exp(-a2 - a2l) = exp(-a2) (1 - a2l) */
}
/* erf(-x) = -erf(x): the lanes' forms at |x|, the sign put back. erfc(6)
 * < 2^-55, so erf rounds to +-1 from 6 on (infinities included): those
 * lanes take 3 (below 4: no division for them) and are selected away;
 * below 6, 2^m is at least 2^-52. */
VD_INLINE vd vd_erf(vd x) {
  vd a = vabs(x), small;
  vi lo = a < 0.75, one = a >= 6.0;
  vi ki;
  vd e = vd_erf_parts(vsel(one, vs(3.0), a), vs(0), 0, lo, &small, &ki);
  vd y = vsel(one, vs(1.0), 1.0 - e * vd_pow2(ki >> 4));
  y = vcopysign(vsel(lo, small, y), x);
  return vsel(x != x, x, y);
}
/* gelu = x Phi(x) = x/2 (1 + erf(z)), z = x / sqrt(2) carried as a
 * double-double (below 0, erfc(|z|) moves by 2 |z| times z's error): x >=
 * 0 takes 1 + erf(z); x < 0 takes erfc(|z|), as 1 - erf below 0.75 and
 * exp(-z^2) h above, x e 2^n1 first and 2^n2 last (a subnormal result
 * rounded once), 0 past |z| = 27.5 (and -0 at -inf, as the f32 kernel). */
VD_INLINE vd vd_gelu(vd x) {
  vd a = vabs(x);
  vd zh = a * VD_RSQRT2_HI;
  vd zl = vd_fma(a, vs(VD_RSQRT2_HI), -zh) + a * VD_RSQRT2_LO;
  vi tail = zh >= 0.75, huge = zh > 27.5; /* erfc under 1e-330 */
  vd small;
  vi ki;
  vd e = vd_erf_parts(vsel(huge, vs(27.5), zh), vsel(tail & ~huge, zl, vs(0)),
                      1, ~tail, &small, &ki);
  vd erfs = small + zl * VD_ERF_A0_HI;
  vi n1, n2;
  vd_halves(ki >> 4, &n1, &n2);
  vd s1 = vd_pow2(n1), s2 = vd_pow2(n2);
  vd erfc = e * s1 * s2;
  vd hx = 0.5 * x;
  vd pos = hx * (1.0 + vsel(tail, 1.0 - erfc, erfs));
  vd neg = vsel(tail, hx * s1 * e * s2, hx * (1.0 - erfs));
  neg = vsel(huge, vs(-0.0), neg);
  vd y = vsel(x >= 0, pos, neg);
  return vsel(x != x, x, y);
}

#endif
