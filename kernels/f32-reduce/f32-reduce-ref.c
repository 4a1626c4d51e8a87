/* Portable reference f32 reductions (the generic level and what the SIMD
 * rows are tested against). Sums and products accumulate in double, in
 * index order, so the order depends on n only and the error stays far below
 * any SIMD row's. exp is the scalar instantiation of kernels/common/vmath.h,
 * the same polynomial the SIMD rows evaluate. Contract in f32-reduce.h. */
#include "arch/simd-scalar.h"
#include "kernels/common/vmath.h"
#include "kernels/f32-reduce/f32-reduce.h"

float cmx_f32_rsum_ukr__ref(size_t n, const float *x) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return (float)s;
}

float cmx_f32_rprod_ukr__ref(size_t n, const float *x) {
  double p = 1.0;
  for (size_t i = 0; i < n; i++) p *= x[i];
  return (float)p;
}

/* `x > m` alone would skip a NaN, so NaN is tracked apart. */
float cmx_f32_rmax_ukr__ref(size_t n, const float *x) {
  float m = x[0];
  for (size_t i = 0; i < n; i++) {
    if (x[i] != x[i]) return __builtin_nanf("");
    if (x[i] > m) m = x[i];
  }
  return m;
}

float cmx_f32_rmin_ukr__ref(size_t n, const float *x) {
  float m = x[0];
  for (size_t i = 0; i < n; i++) {
    if (x[i] != x[i]) return __builtin_nanf("");
    if (x[i] < m) m = x[i];
  }
  return m;
}

/* The outer references accumulate in float, row by row, as the SIMD rows
 * do, so they agree bit for bit. A NaN in acc stays; a NaN in x enters. */
void cmx_f32_rsum_outer_ukr__ref(size_t rows, size_t n, const float *x,
                                 size_t ldx, float *acc) {
  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < n; j++) acc[j] += x[i * ldx + j];
}

void cmx_f32_rprod_outer_ukr__ref(size_t rows, size_t n, const float *x,
                                  size_t ldx, float *acc) {
  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < n; j++) acc[j] *= x[i * ldx + j];
}

void cmx_f32_rmax_outer_ukr__ref(size_t rows, size_t n, const float *x,
                                 size_t ldx, float *acc) {
  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < n; j++) {
      float a = acc[j], v = x[i * ldx + j];
      if (a == a && (v != v || v > a)) acc[j] = v;
    }
}

void cmx_f32_rmin_outer_ukr__ref(size_t rows, size_t n, const float *x,
                                 size_t ldx, float *acc) {
  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < n; j++) {
      float a = acc[j], v = x[i * ldx + j];
      if (a == a && (v != v || v < a)) acc[j] = v;
    }
}

float cmx_f32_rsumsqdev_ukr__ref(size_t n, const float *x, float c,
                                 float *sum) {
  double s = 0.0, t = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)x[i] - c;
    s += d * d;
    t += x[i];
  }
  if (sum) *sum = (float)t;
  return (float)s;
}

float cmx_f32_rsumexp_ukr__ref(size_t n, const float *x, float c) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += vm_exp_sumterm(x[i] - c);
  return (float)s;
}

/* First maximum; a NaN beats everything, so the first NaN wins. */
size_t cmx_f32_rargmax_ukr__ref(size_t n, const float *x) {
  size_t best = 0;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != x[i]) return i;
    if (x[i] > x[best]) best = i;
  }
  return best;
}

size_t cmx_f32_rargmin_ukr__ref(size_t n, const float *x) {
  size_t best = 0;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != x[i]) return i;
    if (x[i] < x[best]) best = i;
  }
  return best;
}
