/* Regressions found by the fuzzer (tests/fuzz-api.c), each with the input
 * pattern that broke and a check against a reference computed here. */
#include <criterion/criterion.h>
#include <math.h>

#include "cmx.h"

/* A unary op on a view whose innermost stride is 0 (broadcast): the
 * microkernel was handed one value and read n (ASan: stack over-read). */
Test(ops_regress, unary_of_a_broadcast_inner_axis) {
  float v[3] = {0.5f, -1.25f, 2.0f};
  int64_t s3[2] = {3, 1}, to[2] = {3, 1037};
  cmx_array a, b, e;
  cr_assert_eq(cmx_array_from_data(&a, v, CMX_F32, s3, 2), CMX_OK);
  cr_assert_eq(cmx_broadcast_to(&b, a, to, 2, NULL), CMX_OK);
  cr_assert_eq(cmx_silu(&e, b, NULL), CMX_OK);
  const float *y;
  cr_assert_eq(cmx_array_data((const void **)&y, e), CMX_OK);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 1037; c++) {
      double want = v[r] / (1.0 + exp(-(double)v[r]));
      cr_assert_float_eq(y[r * 1037 + c], want, 1e-6, "[%d,%d]", r, c);
    }
  cmx_array_free(a);
  cmx_array_free(b);
  cmx_array_free(e);
}

/* A zero dimension beside dimensions whose product overflows int64: the
 * strides overflowed (UBSan) although the array is empty. */
Test(ops_regress, empty_array_with_huge_dimensions) {
  int64_t sh[3] = {0, INT64_MAX, 4};
  cmx_array a = NULL;
  int st = cmx_zeros(&a, sh, 3, CMX_F32, NULL);
  cr_assert(st == CMX_EINVAL || st == CMX_OK, "status %d", st);
  if (st == CMX_OK) {
    cr_assert_eq(cmx_array_size(a), 0);
    cmx_array_free(a);
  } else {
    cr_assert_null(a);
  }
  int64_t ok[3] = {0, 1LL << 40, 4};
  cr_assert_eq(cmx_zeros(&a, ok, 3, CMX_F32, NULL), CMX_OK);
  cr_assert_eq(cmx_array_size(a), 0);
  cr_assert_eq(cmx_eval(&a, 1), CMX_OK);
  cmx_array_free(a);
}

/* logsumexp of int64 values far apart: p[i] - max overflowed int64 (UBSan)
 * before the difference was taken in double. */
Test(ops_regress, logsumexp_of_int64_extremes) {
  int64_t v[3] = {INT64_MIN + 1, 5, INT64_MAX - 1}, n = 3;
  cmx_array a, l;
  cr_assert_eq(cmx_array_from_data(&a, v, CMX_I64, &n, 1), CMX_OK);
  cr_assert_eq(cmx_logsumexp(&l, a, NULL, 0, false, NULL), CMX_OK);
  double got;
  cr_assert_eq(cmx_array_item(&got, l), CMX_OK);
  cr_assert_float_eq(got, (double)(INT64_MAX - 1), 1e3, "%g", got);
  cmx_array_free(a);
  cmx_array_free(l);
}
