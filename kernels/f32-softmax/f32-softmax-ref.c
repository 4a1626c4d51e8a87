/* Portable reference softmax (the generic level and what the SIMD rows are
 * tested against): a max pass, a sum pass accumulating in double, and the
 * write pass. exp is the scalar instantiation of kernels/common/vmath.h,
 * the polynomial the SIMD rows evaluate. Contract in f32-softmax.h. */
#include <float.h>
#include <math.h>

#include "arch/simd-scalar.h"
#include "kernels/common/vmath.h"
#include "kernels/f32-softmax/f32-softmax.h"

/* M and S; the max starts at -FLT_MAX and skips NaN (which reaches S). */
static void stats(size_t n, const float *x, float *m, double *s) {
  float mx = -FLT_MAX;
  for (size_t i = 0; i < n; i++)
    if (x[i] > mx) mx = x[i];
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) sum += vm_exp(x[i] - mx);
  *m = mx;
  *s = sum;
}

void cmx_f32_softmax_ukr__ref(size_t n, const float *x, float *y,
    const float *next) {
  float m;
  double s;
  stats(n, x, &m, &s);
  const float inv = (float)(1.0 / s);
  for (size_t i = 0; i < n; i++) y[i] = vm_exp(x[i] - m) * inv;
}

void cmx_f32_log_softmax_ukr__ref(size_t n, const float *x, float *y,
    const float *next) {
  float m;
  double s;
  stats(n, x, &m, &s);
  const float lse = (float)log(s);
  for (size_t i = 0; i < n; i++) y[i] = (x[i] - m) - lse;
}

/* C has no non-temporal store: the streaming rows are the plain ones. */
void cmx_f32_softmax_nt_ukr__ref(size_t n, const float *x, float *y,
    const float *next) {
  cmx_f32_softmax_ukr__ref(n, x, y, next);
}

void cmx_f32_log_softmax_nt_ukr__ref(size_t n, const float *x, float *y,
    const float *next) {
  cmx_f32_log_softmax_ukr__ref(n, x, y, next);
}

/* The fold in scalar steps; its sum runs in element order. */
float cmx_f32_softmax_fold_ukr__ref(size_t n, float *s, float *pm, float *pl) {
  float mx = -INFINITY;
  int nan = 0;
  for (size_t i = 0; i < n; i++) {
    nan |= isnan(s[i]);
    if (s[i] > mx) mx = s[i];
  }
  if (nan) mx = NAN;
  const float mold = *pm;
  const float M = isnan(mx) || mx > mold ? mx : mold;
  if (M == -INFINITY) {
    for (size_t i = 0; i < n; i++) s[i] = 0.0f;
    return -1.0f;
  }
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) sum += s[i] = vm_exp(s[i] - M);
  const float alpha = mold == -INFINITY ? 0.0f
                      : mold == M        ? 1.0f
                                         : expf(mold - M);
  *pl = *pl * alpha + sum;
  *pm = M;
  return alpha;
}
