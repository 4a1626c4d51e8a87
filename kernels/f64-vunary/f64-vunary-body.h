/* Loop body shared by every f64-vunary ISA file: define VD_N, include this,
 * then one CMX_F64_VUNARY_DEFINE(literal_kernel_name, vd_fn) per op (vd_fn
 * from f64-vmath.h), or CMX_F64_VUNARY_DEFINE_RARE(name, vd_fn, rare_fn,
 * libm_fn) where rare_fn marks lanes vd_fn does not cover: those are
 * recomputed by libm_fn. A vector at a time (two or four a step ran no
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

#endif
