/* Loop body shared by every f64-vunary ISA file: define VD_N, include this,
 * then one CMX_F64_VUNARY_DEFINE(literal_kernel_name, vd_fn) per op (vd_fn
 * from f64-vmath.h), or CMX_F64_VUNARY_DEFINE_RARE(name, vd_fn, rare_fn,
 * libm_fn) where rare_fn marks lanes vd_fn does not cover: those are
 * recomputed by libm_fn; and CMX_F64_SOFTMAX_DEFINE(name), the softmax
 * row (f64-softmax.inc). A vector at a time (two or four a step ran no
 * faster: gcc emits each function's chain whole), the tail through a
 * padded vector; every load of a step comes before its stores, so y == x
 * is safe. */
#ifndef CMX_F64_VUNARY_BODY_H
#define CMX_F64_VUNARY_BODY_H
#include <stddef.h>
#include <string.h>

#include "kernels/f64-vunary/f64-vmath.h"
#include "kernels/f64-vunary/f64-vunary.h"

VD_INLINE vi vd_no_rare(vd x) {
  (void)x;
  return (vi){0};
}

VD_INLINE vd vd_fix_rare(vd y, vd a, vi m, double (*libm)(double)) {
  if (__builtin_expect(vany(m), 0))
    for (int l = 0; l < VD_N; l++)
      if (m[l]) y[l] = libm(a[l]);
  return y;
}

#define CMX_F64_VUNARY_DEFINE(name, fn) \
  CMX_F64_VUNARY_DEFINE_RARE(name, fn, vd_no_rare, NULL)

#define CMX_F64_VUNARY_DEFINE_RARE(name, fn, rare, libm) \
  void name(size_t n, const double *x, double *y) {      \
    size_t i = 0;                                        \
    for (; i + VD_N <= n; i += VD_N) {                   \
      vd a;                                              \
      memcpy(&a, x + i, sizeof a);                       \
      a = vd_fix_rare(fn(a), a, rare(a), libm);          \
      memcpy(y + i, &a, sizeof a);                       \
    }                                                    \
    if (i < n) {                                         \
      size_t k = n - i;                                  \
      vd a = vs(0.5);                                    \
      memcpy(&a, x + i, k * sizeof(double));             \
      a = vd_fix_rare(fn(a), a, rare(a), libm);          \
      memcpy(y + i, &a, k * sizeof(double));             \
    }                                                    \
  }

/* The softmax row (contract in f64-vunary.h): whole vectors, then the
 * tail through a vector padded with -inf (exp 0: no effect on the max or
 * the sum). */
/* x - m into *a; exp of it returned and added into *sv */
VD_INLINE vd vd_softmax_step(vd *a, double m, vd *sv) {
  *a = *a - m;
  vd e = vd_exp(*a);
  *sv = *sv + e;
  return e;
}
static double vd_softmax_row(size_t n, const double *x, double *y, int lg) {
  vd mv = vs(-INFINITY), a, e;
  vi nan = (vi){0};
  const size_t nv = n / VD_N * VD_N, k = n - nv;
  for (size_t i = 0; i < nv; i += VD_N) {
    memcpy(&a, x + i, sizeof a);
    mv = vsel(a > mv, a, mv);
    nan |= a != a;
  }
  double m = -INFINITY;
  int any_nan = vany(nan);
  for (int l = 0; l < VD_N; l++) m = mv[l] > m ? mv[l] : m;
  for (size_t q = nv; q < n; q++) {
    m = x[q] > m ? x[q] : m;
    any_nan |= x[q] != x[q];
  }
  if (!y && (any_nan || !isfinite(m))) return any_nan ? NAN : m;
  const double m0 = m;
  if (m == -INFINITY) m = -1.0; /* all -inf: S = 0, the result NaN */
  vd sv = vs(0);
  for (size_t i = 0; i < nv; i += VD_N) {
    memcpy(&a, x + i, sizeof a);
    e = vd_softmax_step(&a, m, &sv);
    if (y) memcpy(y + i, lg ? &a : &e, sizeof a);
  }
  if (k) {
    a = vs(-INFINITY);
    memcpy(&a, x + nv, k * sizeof(double));
    e = vd_softmax_step(&a, m, &sv);
    if (y) memcpy(y + nv, lg ? &a : &e, k * sizeof(double));
  }
  double s = 0;
  for (int l = 0; l < VD_N; l++) s += sv[l];
  const double ls = log(s);
  if (y) {
    const double c = lg ? ls : 1.0 / s;
    for (size_t i = 0; i < nv; i += VD_N) {
      memcpy(&a, y + i, sizeof a);
      a = lg ? a - c : a * c;
      memcpy(y + i, &a, sizeof a);
    }
    for (size_t q = nv; q < n; q++) y[q] = lg ? y[q] - c : y[q] * c;
  }
  return any_nan ? NAN : !isfinite(m0) ? m0 : m0 + ls;
}
#define CMX_F64_SOFTMAX_DEFINE(name)                             \
  double name(size_t n, const double *x, double *y, int log) {   \
    return vd_softmax_row(n, x, y, log);                         \
  }

#endif
