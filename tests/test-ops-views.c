/* Shape ops and views checked against a float64 strided-view model:
 * reshape (-1, no copy when strides allow, copy when not), transpose,
 * broadcast_to, expand_dims, squeeze, slice (steps, negative steps,
 * clamping), flatten, contiguous; astype between all dtypes (f16/bf16
 * rounding bit-exact); data/read/item; full/zeros/ones/arange; from_buffer
 * borrow and release; matmul on small shapes, 1-D operands and batches. */
#include "test-util.h"

static void values_eq(cmx_array y, const double *ref, int64_t n,
                      const char *what) {
  cr_assert_eq(cmx_array_size(y), n, "%s: size %lld want %lld", what,
               (long long)cmx_array_size(y), (long long)n);
  double *got = malloc(sizeof(double) * (size_t)(n ? n : 1));
  tu_read(y, got);
  for (int64_t i = 0; i < n; i++)
    cr_assert(tu_close(got[i], ref[i], 0, 0), "%s: [%lld] %g want %g", what,
              (long long)i, got[i], ref[i]);
  free(got);
}
static void strides_eq(cmx_array y, const int64_t *st, int nd,
                       const char *what) {
  const int64_t *s = cmx_array_strides(y);
  cr_assert_not_null(s, "%s: strides NULL", what);
  for (int i = 0; i < nd; i++)
    cr_assert_eq(s[i], st[i], "%s: stride[%d] = %lld want %lld", what, i,
                 (long long)s[i], (long long)st[i]);
}
static const char *data_of(cmx_array a) {
  const void *p = NULL;
  TU_OK(cmx_array_data(&p, a));
  return p;
}
/* A (shape) array of seeded values and the values. */
static cmx_array rand_arr(double *v, const int64_t *sh, int nd, cmx_dtype t,
                          uint64_t seed) {
  tu_view w = tu_view_contig(sh, nd);
  tu_rand(v, tu_view_size(&w), t, -9, 9, seed);
  cmx_array a;
  TU_OK(tu_array(&a, v, t, sh, nd));
  return a;
}

Test(ops_views, reshape_contiguous_is_a_view) {
  int64_t sh[3] = {3, 4, 5};
  double v[60];
  cmx_array a = rand_arr(v, sh, 3, CMX_F32, 1), r;
  int64_t s1[2] = {-1, 5}, w1[2] = {12, 5}, s2[3] = {5, -1, 2},
          w2[3] = {5, 6, 2}, s3[1] = {60};
  TU_OK(cmx_reshape(&r, a, s1, 2, NULL));
  tu_assert_shape(r, w1, 2);
  values_eq(r, v, 60, "reshape (-1,5)");
  cr_assert_eq(data_of(r), data_of(a), "reshape of contiguous copied");
  cmx_array_free(r);
  TU_OK(cmx_reshape(&r, a, s2, 3, NULL));
  tu_assert_shape(r, w2, 3);
  int64_t st[3] = {12, 2, 1};
  TU_OK(cmx_eval(&r, 1));
  strides_eq(r, st, 3, "reshape (5,-1,2)");
  values_eq(r, v, 60, "reshape (5,-1,2)");
  cmx_array_free(r);
  TU_OK(cmx_reshape(&r, a, s3, 1, NULL));
  cr_assert_eq(data_of(r), data_of(a));
  cmx_array_free(r);
  r = (cmx_array)&r;
  cr_assert_neq(cmx_reshape(&r, a, NULL, 0, NULL), CMX_OK, "60 -> scalar");
  cr_assert_null(r);
  cmx_array_free(a);
}

Test(ops_views, reshape_of_views) {
  int64_t sh[2] = {3, 4};
  double v[12], e[12];
  cmx_array a = rand_arr(v, sh, 2, CMX_F32, 2), t, r;
  TU_OK(cmx_transpose(&t, a, NULL, 0, NULL));
  TU_OK(cmx_eval(&t, 1));
  int64_t tst[2] = {1, 4};
  strides_eq(t, tst, 2, "transpose strides");
  tu_view tv = tu_view_T(tu_view_contig(sh, 2), NULL);
  tu_view_gather(&tv, v, e);
  int64_t flat[1] = {12};
  TU_OK(cmx_reshape(&r, t, flat, 1, NULL)); /* needs a copy */
  values_eq(r, e, 12, "reshape(transpose)");
  cr_assert_neq(data_of(r), data_of(a));
  cmx_array_free(r);
  /* Splitting the stride-1 axis of the transpose is expressible. */
  int64_t sp[3] = {2, 2, 3}, spst[3] = {2, 1, 4};
  TU_OK(cmx_reshape(&r, t, sp, 3, NULL));
  TU_OK(cmx_eval(&r, 1));
  strides_eq(r, spst, 3, "reshape (2,2,3) of transpose");
  values_eq(r, e, 12, "reshape (2,2,3) of transpose");
  cmx_array_free(r);
  int64_t b[2] = {1, 0}, s[2] = {3, 4}, one[2] = {1, 1}; /* row slice */
  TU_OK(cmx_slice(&r, a, b, s, one, 2, NULL));
  cr_assert_eq(data_of(r), data_of(a) + 4 * sizeof(float), "row slice copied");
  values_eq(r, v + 4, 8, "row slice");
  cmx_array_free(r);
  cmx_array_free(t);
  cmx_array_free(a);
}

Test(ops_views, reshape_errors) {
  int64_t sh[2] = {3, 4}, bad[2] = {5, -1}, two[2] = {-1, -1},
          wrong[2] = {2, 5}, neg[2] = {-2, -6};
  cmx_array a, r = (cmx_array)&a;
  TU_OK(cmx_zeros(&a, sh, 2, CMX_F32, NULL));
  int rc = cmx_reshape(&r, a, bad, 2, NULL);
  cr_assert(rc == CMX_ESHAPE || rc == CMX_EINVAL, "(5,-1) of 12: %d", rc);
  cr_assert_null(r);
  cr_assert(strstr(cmx_last_error(), "cmx_reshape"), "%s", cmx_last_error());
  rc = cmx_reshape(&r, a, two, 2, NULL);
  cr_assert(rc == CMX_ESHAPE || rc == CMX_EINVAL, "two -1: %d", rc);
  rc = cmx_reshape(&r, a, wrong, 2, NULL);
  cr_assert(rc == CMX_ESHAPE || rc == CMX_EINVAL, "(2,5) of 12: %d", rc);
  rc = cmx_reshape(&r, a, neg, 2, NULL);
  cr_assert(rc == CMX_ESHAPE || rc == CMX_EINVAL, "(-2,-6): %d", rc);
  cmx_array_free(a);
}

Test(ops_views, transpose) {
  int64_t sh[3] = {2, 3, 5};
  double v[30], e[30];
  cmx_array a = rand_arr(v, sh, 3, CMX_I32, 3), t;
  int perms[3][3] = {{1, 2, 0}, {2, 1, 0}, {0, -1, 1}};
  for (int p = 0; p < 4; p++) {
    const int *perm = p < 3 ? perms[p] : NULL;
    int norm[3] = {0, 2, 1};
    TU_OK(cmx_transpose(&t, a, perm, perm ? 3 : 0, NULL));
    tu_view w = tu_view_T(tu_view_contig(sh, 3), p == 2 ? norm : perm);
    tu_assert_shape(t, w.shape, 3);
    tu_view_gather(&w, v, e);
    values_eq(t, e, 30, "transpose");
    cmx_array_free(t);
  }
  int dup[3] = {0, 0, 1}, oob[3] = {0, 1, 3}, two[2] = {1, 0};
  t = (cmx_array)&t;
  TU_FAILS(CMX_EINVAL, "cmx_transpose", cmx_transpose(&t, a, dup, 3, NULL));
  cr_assert_null(t);
  TU_FAILS(CMX_EINVAL, "cmx_transpose", cmx_transpose(&t, a, oob, 3, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_transpose", cmx_transpose(&t, a, two, 2, NULL));
  cmx_array_free(a);
}

Test(ops_views, broadcast_to) {
  int64_t s31[2] = {3, 1}, o[3] = {2, 3, 4}, r4[1] = {4}, o34[2] = {3, 4};
  double v[4], e[24];
  cmx_array a = rand_arr(v, s31, 2, CMX_F32, 4), b;
  TU_OK(cmx_broadcast_to(&b, a, o, 3, NULL));
  tu_assert_shape(b, o, 3);
  TU_OK(cmx_eval(&b, 1));
  int64_t st[3] = {0, 1, 0};
  strides_eq(b, st, 3, "broadcast (3,1)->(2,3,4)");
  tu_view w = tu_view_bcast(tu_view_contig(s31, 2), o, 3);
  tu_view_gather(&w, v, e);
  values_eq(b, e, 24, "broadcast (3,1)->(2,3,4)");
  cmx_array_free(b);
  cmx_array_free(a);
  a = rand_arr(v, r4, 1, CMX_F16, 5);
  TU_OK(cmx_broadcast_to(&b, a, o34, 2, NULL));
  w = tu_view_bcast(tu_view_contig(r4, 1), o34, 2);
  tu_view_gather(&w, v, e);
  values_eq(b, e, 12, "broadcast (4)->(3,4)");
  cmx_array_free(b);
  int64_t bad[1] = {5};
  b = (cmx_array)&b;
  TU_FAILS(CMX_ESHAPE, "cmx_broadcast_to", cmx_broadcast_to(&b, a, bad, 1, NULL));
  cr_assert_null(b);
  int rc = cmx_broadcast_to(&b, a, NULL, 0, NULL); /* fewer dims */
  cr_assert(rc == CMX_ESHAPE || rc == CMX_EINVAL);
  cmx_array_free(a);
  TU_OK(cmx_full(&a, NULL, 0, 2.5, CMX_F64, NULL));
  TU_OK(cmx_broadcast_to(&b, a, o34, 2, NULL));
  for (int i = 0; i < 12; i++) e[i] = 2.5;
  values_eq(b, e, 12, "broadcast scalar");
  cmx_array_free(b);
  cmx_array_free(a);
}

Test(ops_views, expand_dims_and_squeeze) {
  int64_t sh[2] = {3, 4};
  double v[12];
  cmx_array a = rand_arr(v, sh, 2, CMX_F32, 6), x, s;
  struct { int axis; int64_t want[3]; } ex[] = {
      {0, {1, 3, 4}}, {1, {3, 1, 4}}, {2, {3, 4, 1}}, {-1, {3, 4, 1}},
      {-3, {1, 3, 4}}};
  for (int i = 0; i < 5; i++) {
    TU_OK(cmx_expand_dims(&x, a, ex[i].axis, NULL));
    tu_assert_shape(x, ex[i].want, 3);
    values_eq(x, v, 12, "expand_dims");
    cmx_array_free(x);
  }
  x = (cmx_array)&x;
  TU_FAILS(CMX_EINVAL, "cmx_expand_dims", cmx_expand_dims(&x, a, 3, NULL));
  cr_assert_null(x);
  TU_FAILS(CMX_EINVAL, "cmx_expand_dims", cmx_expand_dims(&x, a, -4, NULL));
  int64_t s4[4] = {1, 3, 1, 4};
  TU_OK(cmx_reshape(&x, a, s4, 4, NULL));
  TU_OK(cmx_squeeze(&s, x, NULL, 0, NULL));
  tu_assert_shape(s, sh, 2);
  values_eq(s, v, 12, "squeeze all");
  cmx_array_free(s);
  int a0 = 0, am2 = -2, a1 = 1, both[2] = {2, 0};
  int64_t w0[3] = {3, 1, 4}, w2[3] = {1, 3, 4};
  TU_OK(cmx_squeeze(&s, x, &a0, 1, NULL));
  tu_assert_shape(s, w0, 3);
  cmx_array_free(s);
  TU_OK(cmx_squeeze(&s, x, &am2, 1, NULL));
  tu_assert_shape(s, w2, 3);
  cmx_array_free(s);
  TU_OK(cmx_squeeze(&s, x, both, 2, NULL));
  tu_assert_shape(s, sh, 2);
  cmx_array_free(s);
  s = (cmx_array)&s;
  TU_FAILS(CMX_EINVAL, "cmx_squeeze", cmx_squeeze(&s, x, &a1, 1, NULL));
  cr_assert_null(s);
  cmx_array_free(x);
  cmx_array_free(a);
}

/* Python's answers for range(10)[b:e:s], written out by hand. */
Test(ops_views, slice_1d_python_semantics) {
  double v[10];
  for (int i = 0; i < 10; i++) v[i] = i * 10 + 1;
  int64_t n = 10;
  cmx_array a, s;
  TU_OK(tu_array(&a, v, CMX_I32, &n, 1));
  struct { int64_t b, e, st; int len; int first; } c[] = {
      {2, 8, 3, 2, 2},     {-3, 10, 1, 3, 7},   {100, 200, 1, 0, 0},
      {9, -100, -1, 10, 9}, {-100, 5, 1, 5, 0}, {8, 1, -3, 3, 8},
      {-1, -11, -2, 5, 9}, {0, 10, 4, 3, 0},    {5, 5, 1, 0, 0},
      {3, 7, -1, 0, 0},    {-2, -100, -7, 2, 8}};
  for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
    TU_OK(cmx_slice(&s, a, &c[k].b, &c[k].e, &c[k].st, 1, NULL));
    cr_assert_eq(cmx_array_size(s), c[k].len, "[%lld:%lld:%lld] len %lld",
                 (long long)c[k].b, (long long)c[k].e, (long long)c[k].st,
                 (long long)cmx_array_size(s));
    double got[10];
    tu_read(s, got);
    for (int i = 0; i < c[k].len; i++)
      cr_assert_eq(got[i], v[c[k].first + i * c[k].st], "case %zu [%d]", k, i);
    cmx_array_free(s);
  }
  int64_t st = -1, b0 = 0, z = 0;
  TU_OK(cmx_slice(&s, a, NULL, NULL, &st, 1, NULL)); /* [::-1] */
  double got[10];
  tu_read(s, got);
  for (int i = 0; i < 10; i++) cr_assert_eq(got[i], v[9 - i]);
  cmx_array_free(s);
  TU_OK(cmx_slice(&s, a, NULL, NULL, NULL, 1, NULL));
  cr_assert_eq(cmx_array_size(s), 10);
  cmx_array_free(s);
  s = (cmx_array)&s;
  TU_FAILS(CMX_EINVAL, "cmx_slice", cmx_slice(&s, a, &b0, NULL, &z, 1, NULL));
  cr_assert_null(s);
  int rc = cmx_slice(&s, a, NULL, NULL, NULL, 2, NULL);
  cr_assert(rc == CMX_EINVAL || rc == CMX_ESHAPE, "ndim mismatch: %d", rc);
  cmx_array_free(a);
}

Test(ops_views, slice_nd_views_and_slices_of_slices) {
  int64_t sh[3] = {6, 7, 5};
  double v[210], e[210];
  cmx_array a = rand_arr(v, sh, 3, CMX_F32, 8), s, s2;
  int64_t b[3] = {1, -1, 0}, en[3] = {6, -8, 5}, st[3] = {2, -2, 3};
  TU_OK(cmx_slice(&s, a, b, en, st, 3, NULL));
  tu_view w = tu_view_slice(tu_view_contig(sh, 3), b, en, st);
  tu_assert_shape(s, w.shape, 3);
  TU_OK(cmx_eval(&s, 1));
  int64_t wst[3] = {70, -10, 3};
  strides_eq(s, wst, 3, "slice strides");
  tu_view_gather(&w, v, e);
  values_eq(s, e, tu_view_size(&w), "slice 3-D");
  int64_t b2[3] = {-1, 1, 0}, e2[3] = {-100, 4, 2}, st2[3] = {-1, 2, 1};
  TU_OK(cmx_slice(&s2, s, b2, e2, st2, 3, NULL));
  tu_view w2 = tu_view_slice(w, b2, e2, st2);
  tu_assert_shape(s2, w2.shape, 3);
  tu_view_gather(&w2, v, e);
  values_eq(s2, e, tu_view_size(&w2), "slice of slice");
  cmx_array t;
  TU_OK(cmx_transpose(&t, s2, NULL, 0, NULL));
  tu_view w3 = tu_view_T(w2, NULL);
  tu_view_gather(&w3, v, e);
  values_eq(t, e, tu_view_size(&w3), "transpose of slice of slice");
  cmx_array f;
  TU_OK(cmx_flatten(&f, t, NULL));
  cr_assert_eq(cmx_array_ndim(f), 1);
  values_eq(f, e, tu_view_size(&w3), "flatten");
  cmx_array c;
  TU_OK(cmx_contiguous(&c, t, NULL));
  TU_OK(cmx_eval(&c, 1));
  tu_view rc = tu_view_contig(w3.shape, 3);
  strides_eq(c, rc.strides, 3, "contiguous strides");
  values_eq(c, e, tu_view_size(&w3), "contiguous");
  const void *p;
  TU_OK(cmx_array_data(&p, t)); /* made contiguous in place of layout */
  for (int64_t i = 0; i < tu_view_size(&w3); i++)
    cr_assert_eq(((const float *)p)[i], (float)e[i], "data of view [%lld]",
                 (long long)i);
  cmx_array_free(c);
  cmx_array_free(f);
  cmx_array_free(t);
  cmx_array_free(s2);
  cmx_array_free(s);
  cmx_array_free(a);
}

/* ---- astype ----------------------------------------------------------- */
static const cmx_dtype ALL_T[] = {CMX_BOOL, CMX_U8,  CMX_U32, CMX_I8,
                                  CMX_I16,  CMX_I32, CMX_I64, CMX_F16,
                                  CMX_BF16, CMX_F32, CMX_F64};

Test(ops_views, astype_all_pairs_small_values) {
  double v[9] = {0, 1, 2, 5, 7, 100, 127, 3, 64};
  int64_t n = 9;
  for (int i = 0; i < CMX_NUM_DTYPES; i++)
    for (int j = 0; j < CMX_NUM_DTYPES; j++) {
      cmx_dtype a = ALL_T[i], b = ALL_T[j];
      double src[9], ref[9];
      for (int k = 0; k < 9; k++) {
        src[k] = a == CMX_BOOL ? (double)(k % 3 != 0) : v[k];
        ref[k] = b == CMX_BOOL ? (double)(src[k] != 0) : src[k];
      }
      cmx_array x, y;
      TU_OK(tu_array(&x, src, a, &n, 1));
      TU_OK(cmx_astype(&y, x, b, NULL));
      cr_assert_eq(cmx_array_dtype(y), b);
      char what[64];
      snprintf(what, sizeof what, "%s -> %s", cmx_dtype_name(a),
               cmx_dtype_name(b));
      values_eq(y, ref, 9, what);
      cmx_array_free(y);
      cmx_array_free(x);
    }
}

static void f32_to_16(cmx_dtype t, const float *x, int64_t n) {
  cmx_array a, y;
  TU_OK(cmx_array_from_data(&a, x, CMX_F32, &n, 1));
  TU_OK(cmx_astype(&y, a, t, NULL));
  uint16_t *got = malloc(sizeof(uint16_t) * (size_t)n);
  TU_OK(cmx_array_read(y, got, sizeof(uint16_t) * (size_t)n));
  for (int64_t i = 0; i < n; i++) {
    uint16_t ref = t == CMX_F16 ? tu_f16_bits(x[i]) : tu_bf16_bits(x[i]);
    if (isnan(x[i])) {
      double g = t == CMX_F16 ? tu_f16_val(got[i]) : tu_bf16_val(got[i]);
      cr_assert(isnan(g), "%s(nan) = 0x%04x", cmx_dtype_name(t), got[i]);
      continue;
    }
    cr_assert_eq(got[i], ref, "%s(%a = %.9g) [%lld] = 0x%04x want 0x%04x",
                 cmx_dtype_name(t), x[i], x[i], (long long)i, got[i], ref);
  }
  free(got);
  cmx_array_free(y);
  cmx_array_free(a);
}

Test(ops_views, astype_f32_to_f16_bf16_round_to_nearest_even) {
  int64_t n = 4099;
  float *x = malloc(sizeof(float) * (size_t)n);
  uint64_t s = 42;
  for (int64_t i = 0; i < n; i++) {
    uint32_t u = (uint32_t)tu_next(&s);
    if (i % 2) /* exponents in and near the f16 range, ties included */
      u = (u & 0x807FFFFFu) | ((uint32_t)(100 + tu_next(&s) % 45) << 23);
    if (i % 5 == 0) u &= 0xFFFFE000u | (1u << 12); /* f16 ties */
    if (i % 7 == 0) u = (u & 0xFFFF0000u) | 0x8000u; /* bf16 ties */
    memcpy(&x[i], &u, 4);
  }
  float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 65504.0f, 65519.99f,
                65520.0f, 1e-8f, 5.96e-8f, 2.98e-8f, 2.9802322e-08f,
                6.1035156e-05f, 3.3895314e+38f, -3.4028235e+38f, 1.0009766f,
                1.0004883f, 1.0014648f, 1.00390625f, 1.01171875f};
  memcpy(x, sp, sizeof sp);
  f32_to_16(CMX_F16, x, n);
  f32_to_16(CMX_BF16, x, n);
  for (int64_t k = 1; k < 40; k += 19) { /* tails of vector kernels */
    f32_to_16(CMX_F16, x + 100, k);
    f32_to_16(CMX_BF16, x + 100, k);
  }
  free(x);
}

Test(ops_views, astype_f64_to_16bit_rounds_once) {
  /* Above the f16 halfway point by less than an f32 ulp: rounding through
   * f32 first would tie to even and go down. */
  double x[6] = {1 + ldexp(1, -11) + ldexp(1, -40),
                 -(1 + ldexp(1, -11) + ldexp(1, -40)),
                 2049 + ldexp(1, -30), 1 + ldexp(1, -8) + ldexp(1, -37),
                 0.1, 65519.999};
  int64_t n = 6;
  cmx_array a, y;
  TU_OK(cmx_array_from_data(&a, x, CMX_F64, &n, 1));
  for (int t = 0; t < 2; t++) {
    TU_OK(cmx_astype(&y, a, t ? CMX_BF16 : CMX_F16, NULL));
    uint16_t got[6];
    TU_OK(cmx_array_read(y, got, sizeof got));
    for (int i = 0; i < 6; i++) {
      uint16_t ref = t ? tu_bf16_bits(x[i]) : tu_f16_bits(x[i]);
      cr_assert_eq(got[i], ref, "f64 %.17g -> %s: 0x%04x want 0x%04x", x[i],
                   t ? "bf16" : "f16", got[i], ref);
    }
    cmx_array_free(y);
  }
  cmx_array_free(a);
}

Test(ops_views, astype_float_to_int_truncates_and_saturates) {
  static const double x0[] = {2.7, -2.7, 0.5, -0.5, 126.9, -128.9, 300,
                              -300, 1e10, -1e10, 255.5, 65535.9, 3e9, -0.0,
                              32767.5, -32768.7, 127.5, 4294967040.0, 4e9,
                              -4e9, 7, -7, 200.5};
  /* 77 values: whole vector steps of every level's kernels and a tail */
  enum { N0 = sizeof x0 / sizeof x0[0], NX = 77 };
  double x[NX];
  for (int i = 0; i < NX; i++) x[i] = x0[i % N0] * (i < N0 ? 1 : 0.5);
  int64_t n = NX;
  static const cmx_dtype fs[] = {CMX_F32, CMX_F64, CMX_F16, CMX_BF16};
  static const cmx_dtype is[] = {CMX_I8, CMX_U8, CMX_I16, CMX_I32, CMX_U32,
                                 CMX_I64};
  static const double lo[] = {-128, 0, -32768, -2147483648.0, 0, -9.3e18};
  static const double hi[] = {127, 255, 32767, 2147483647.0, 4294967295.0,
                              9.3e18};
  for (int f = 0; f < 4; f++) {
    double q[NX];
    for (int i = 0; i < n; i++) q[i] = tu_quant(fs[f], x[i]);
    cmx_array a;
    TU_OK(tu_array(&a, q, fs[f], &n, 1));
    for (int k = 0; k < 6; k++) {
      cmx_array y;
      TU_OK(cmx_astype(&y, a, is[k], NULL));
      double got[NX];
      tu_read(y, got);
      for (int i = 0; i < n; i++) {
        double ref = trunc(q[i]);
        ref = ref < lo[k] ? lo[k] : (ref > hi[k] ? hi[k] : ref);
        if (is[k] == CMX_I64 && fabs(ref) > 9e18) continue;
        cr_assert_eq(got[i], ref, "%s %.9g -> %s: %.17g want %.17g",
                     cmx_dtype_name(fs[f]), q[i], cmx_dtype_name(is[k]),
                     got[i], ref);
      }
      cmx_array_free(y);
    }
    cmx_array_free(a);
  }
}

/* Bytes to the float types: every value, contiguous (the level's
 * byte -> f32 kernels over whole vectors and a tail) and through a
 * stepped slice (the strided loads); exact in all three. */
Test(ops_views, astype_bytes_to_floats_every_value) {
  enum { N = 1029 };
  static const cmx_dtype from[] = {CMX_I8, CMX_U8, CMX_BOOL};
  static const cmx_dtype to[] = {CMX_F32, CMX_F16, CMX_BF16};
  double v[N], got[N];
  for (int f = 0; f < 3; f++) {
    for (int i = 0; i < N; i++)
      v[i] = from[f] == CMX_BOOL ? (double)(i % 3 != 0)
             : from[f] == CMX_I8 ? (double)((i * 37) % 256 - 128)
                                 : (double)((i * 37) % 256);
    int64_t n = N;
    cmx_array a, sl;
    TU_OK(tu_array(&a, v, from[f], &n, 1));
    const int64_t start = 1, stop = N, step = 3;
    TU_OK(cmx_slice(&sl, a, &start, &stop, &step, 1, NULL));
    for (int t = 0; t < 3; t++) {
      cmx_array y;
      TU_OK(cmx_astype(&y, a, to[t], NULL));
      tu_read(y, got);
      for (int i = 0; i < N; i++)
        cr_assert_eq(got[i], v[i], "%s -> %s [%d]: %g want %g",
                     cmx_dtype_name(from[f]), cmx_dtype_name(to[t]), i,
                     got[i], v[i]);
      cmx_array_free(y);
      TU_OK(cmx_astype(&y, sl, to[t], NULL));
      tu_read(y, got);
      for (int i = 0; i < (N - 1 + 2) / 3; i++)
        cr_assert_eq(got[i], v[1 + 3 * i], "%s -> %s step 3 [%d]: %g want %g",
                     cmx_dtype_name(from[f]), cmx_dtype_name(to[t]), i,
                     got[i], v[1 + 3 * i]);
      cmx_array_free(y);
    }
    cmx_array_free(sl);
    cmx_array_free(a);
  }
}

/* Element i of a buffer of integer dtype t, as int64 (C's conversion). */
static int64_t int_get(const void *b, cmx_dtype t, size_t i) {
  switch (t) {
    case CMX_BOOL: case CMX_U8: return ((const uint8_t *)b)[i];
    case CMX_I8: return ((const int8_t *)b)[i];
    case CMX_I16: return ((const int16_t *)b)[i];
    case CMX_I32: return ((const int32_t *)b)[i];
    case CMX_U32: return ((const uint32_t *)b)[i];
    default: return ((const int64_t *)b)[i];
  }
}

/* v converted to integer dtype t as C converts (modulo 2^bits), bool 0 / 1. */
static int64_t int_conv(int64_t v, cmx_dtype t) {
  switch (t) {
    case CMX_BOOL: return v != 0;
    case CMX_U8: return (uint8_t)v;
    case CMX_I8: return (int8_t)v;
    case CMX_I16: return (int16_t)v;
    case CMX_I32: return (int32_t)v;
    case CMX_U32: return (uint32_t)v;
    default: return v;
  }
}

/* Integer -> integer astype for every pair, contiguous (whole blocks of
 * the vectorised loops and a tail) and through a stepped slice: values
 * of every width, so narrowing wraps and sign extension both show. */
Test(ops_views, astype_int_to_int_every_pair) {
  static const cmx_dtype T[] = {CMX_BOOL, CMX_U8,  CMX_I8, CMX_I16,
                                CMX_I32,  CMX_U32, CMX_I64};
  enum { N = 77 };
  uint64_t seed = 7;
  for (int a = 0; a < 7; a++) {
    int64_t raw[N];
    char src[N * 8];
    for (int i = 0; i < N; i++) {
      int64_t v = (int64_t)tu_next(&seed);
      v >>= (int)(tu_next(&seed) % 60); /* every magnitude, both signs */
      raw[i] = int_conv(v, T[a]);
    }
    for (int i = 0; i < N; i++) {
      switch (cmx_dtype_size(T[a])) {
        case 1: ((uint8_t *)src)[i] = (uint8_t)raw[i]; break;
        case 2: ((int16_t *)src)[i] = (int16_t)raw[i]; break;
        case 4: ((uint32_t *)src)[i] = (uint32_t)raw[i]; break;
        default: ((int64_t *)src)[i] = raw[i]; break;
      }
    }
    int64_t n = N;
    cmx_array x, sl;
    TU_OK(cmx_array_from_data(&x, src, T[a], &n, 1));
    const int64_t start = 0, stop = N, step = 2;
    TU_OK(cmx_slice(&sl, x, &start, &stop, &step, 1, NULL));
    for (int b = 0; b < 7; b++) {
      char got[N * 8];
      cmx_array y;
      TU_OK(cmx_astype(&y, x, T[b], NULL));
      TU_OK(cmx_array_read(y, got, cmx_array_nbytes(y)));
      for (int i = 0; i < N; i++)
        cr_assert_eq(int_get(got, T[b], (size_t)i), int_conv(raw[i], T[b]),
                     "%s -> %s [%d] %lld: %lld", cmx_dtype_name(T[a]),
                     cmx_dtype_name(T[b]), i, (long long)raw[i],
                     (long long)int_get(got, T[b], (size_t)i));
      cmx_array_free(y);
      TU_OK(cmx_astype(&y, sl, T[b], NULL));
      TU_OK(cmx_array_read(y, got, cmx_array_nbytes(y)));
      for (int i = 0; i < (N + 1) / 2; i++)
        cr_assert_eq(int_get(got, T[b], (size_t)i),
                     int_conv(raw[2 * i], T[b]), "%s -> %s step 2 [%d]",
                     cmx_dtype_name(T[a]), cmx_dtype_name(T[b]), i);
      cmx_array_free(y);
    }
    cmx_array_free(sl);
    cmx_array_free(x);
  }
}

Test(ops_views, astype_to_bool_and_from_wide_ints) {
  double x[] = {0.0, -0.0, 0.5, -1e-30, 3, 1e-45};
  int64_t n = 6;
  cmx_array a, y;
  TU_OK(tu_array(&a, x, CMX_F32, &n, 1));
  TU_OK(cmx_astype(&y, a, CMX_BOOL, NULL));
  uint8_t b[6];
  TU_OK(cmx_array_read(y, b, 6));
  for (int i = 0; i < 6; i++)
    cr_assert_eq(b[i], (float)x[i] != 0.0f, "bool(%g) = %d", x[i], b[i]);
  cmx_array_free(y);
  cmx_array_free(a);
  int64_t big[4] = {(1LL << 53) + 1, -(1LL << 40) - 3, 16777217,
                    (1LL << 60) + (1LL << 36) + 1}; /* once, not via f64 */
  n = 4;
  TU_OK(cmx_array_from_data(&a, big, CMX_I64, &n, 1));
  TU_OK(cmx_astype(&y, a, CMX_F32, NULL));
  float f[4];
  TU_OK(cmx_array_read(y, f, sizeof f));
  for (int i = 0; i < 4; i++)
    cr_assert_eq(f[i], (float)big[i], "i64 %lld -> f32 %.9g", (long long)big[i],
                 f[i]);
  cmx_array_free(y);
  cmx_array_free(a);
}

/* Found by tests/diff-mlx.py: int32 / uint32 -> float64 is exact; it went
 * through float and rounded beyond 2^24 (16777217 -> 16777216), also for
 * strided and transposed views. */
Test(ops_views, astype_wide_ints_to_f64_exact) {
  static const cmx_dtype ts[] = {CMX_I32, CMX_U32};
  uint64_t s = 3;
  for (int t = 0; t < 2; t++) {
    int64_t sh[2] = {7, 17}, n = 119;
    double v[119], got[119];
    for (int64_t i = 0; i < n; i++) {
      v[i] = floor(tu_unif(&s) * 4294967295.0);
      if (ts[t] == CMX_I32) v[i] -= 2147483648.0;
    }
    v[0] = 16777217;
    cmx_array a, at, y;
    TU_OK(tu_array(&a, v, ts[t], sh, 2));
    TU_OK(cmx_astype(&y, a, CMX_F64, NULL));
    tu_read(y, got);
    for (int64_t i = 0; i < n; i++)
      cr_assert_eq(got[i], v[i], "%s %.17g -> %.17g", cmx_dtype_name(ts[t]),
                   v[i], got[i]);
    cmx_array_free(y);
    TU_OK(cmx_transpose(&at, a, NULL, 0, NULL));
    TU_OK(cmx_astype(&y, at, CMX_F64, NULL));
    tu_read(y, got);
    for (int i = 0; i < 17; i++)
      for (int j = 0; j < 7; j++)
        cr_assert_eq(got[i * 7 + j], v[j * 17 + i], "%s T[%d,%d]",
                     cmx_dtype_name(ts[t]), i, j);
    cmx_array_free(y);
    cmx_array_free(at);
    cmx_array_free(a);
  }
}

/* ---- creation and reading ---------------------------------------------- */
Test(ops_views, full_zeros_ones_arange) {
  int64_t sh[2] = {3, 5};
  for (int i = 0; i < CMX_NUM_DTYPES; i++) {
    cmx_array a;
    double e[15];
    TU_OK(cmx_full(&a, sh, 2, 3.0, ALL_T[i], NULL));
    cr_assert_eq(cmx_array_dtype(a), ALL_T[i]);
    tu_assert_shape(a, sh, 2);
    for (int k = 0; k < 15; k++) e[k] = ALL_T[i] == CMX_BOOL ? 1 : 3;
    values_eq(a, e, 15, cmx_dtype_name(ALL_T[i]));
    cmx_array_free(a);
    TU_OK(cmx_zeros(&a, sh, 2, ALL_T[i], NULL));
    for (int k = 0; k < 15; k++) e[k] = 0;
    values_eq(a, e, 15, "zeros");
    cmx_array_free(a);
    TU_OK(cmx_ones(&a, sh, 2, ALL_T[i], NULL));
    for (int k = 0; k < 15; k++) e[k] = 1;
    values_eq(a, e, 15, "ones");
    cmx_array_free(a);
  }
  /* Past the 4 KiB run that fill copies over the range, every dtype, a
   * value whose bytes differ (and 0, the memset path). */
  for (size_t i = 0; i < sizeof ALL_T / sizeof ALL_T[0]; i++)
    for (int z = 0; z < 2; z++) {
      int64_t big[2] = {3, 1001};
      double val = z ? 0.0 : (ALL_T[i] == CMX_BOOL ? 1.0 : -1.5);
      if (!z && (ALL_T[i] == CMX_U8 || ALL_T[i] == CMX_U32)) val = 201;
      if (!z && cmx_dtype_name(ALL_T[i])[0] == 'i') val = -7;
      cmx_array b;
      /* A freed buffer of this size holding 3s first: the fill gets it
       * back from the cache, so an element it skipped would read 3. */
      TU_OK(cmx_full(&b, big, 2, 3.0, ALL_T[i], NULL));
      TU_OK(cmx_eval(&b, 1));
      cmx_array_free(b);
      TU_OK(cmx_full(&b, big, 2, val, ALL_T[i], NULL));
      double *e = malloc(3003 * sizeof *e);
      for (int k = 0; k < 3003; k++) e[k] = val;
      values_eq(b, e, 3003, "full, 3x1001");
      free(e);
      cmx_array_free(b);
    }
  cmx_array a;
  TU_OK(cmx_full(&a, NULL, 0, -1.5, CMX_F32, NULL));
  double item;
  TU_OK(cmx_array_item(&item, a));
  cr_assert_eq(item, -1.5);
  cr_assert_eq(cmx_array_ndim(a), 0);
  cr_assert_eq(cmx_array_size(a), 1);
  cmx_array_free(a);
  struct { double b, e, s; cmx_dtype t; } ar[] = {
      {0, 10, 3, CMX_I32}, {0, 5, 0.5, CMX_F32}, {5, 0, -1, CMX_I64},
      {0, 0, 1, CMX_F32},  {-3, 4, 2, CMX_F64},  {1, 2, 0.25, CMX_F16},
      {2, 1, 1, CMX_I32},  {0, 300, 7, CMX_I16}};
  for (size_t k = 0; k < sizeof ar / sizeof ar[0]; k++) {
    TU_OK(cmx_arange(&a, ar[k].b, ar[k].e, ar[k].s, ar[k].t, NULL));
    double c = ceil((ar[k].e - ar[k].b) / ar[k].s);
    int64_t len = c > 0 ? (int64_t)c : 0;
    cr_assert_eq(cmx_array_ndim(a), 1);
    cr_assert_eq(cmx_array_dtype(a), ar[k].t);
    double e[64];
    for (int64_t i = 0; i < len; i++) e[i] = ar[k].b + (double)i * ar[k].s;
    values_eq(a, e, len, "arange");
    cmx_array_free(a);
  }
  /* Longer than the tile of cmx_eval_arange: the same bytes as astype of
   * the float64 arange, in every dtype. */
  for (size_t i = 0; i < sizeof ALL_T / sizeof ALL_T[0]; i++) {
    cmx_array r, f, c;
    TU_OK(cmx_arange(&r, -5, 2995, 1.25, ALL_T[i], NULL));
    TU_OK(cmx_arange(&f, -5, 2995, 1.25, CMX_F64, NULL));
    TU_OK(cmx_astype(&c, f, ALL_T[i], NULL));
    cr_assert_eq(cmx_array_size(r), 2400);
    double *fv = malloc(2400 * sizeof *fv);
    TU_OK(cmx_array_read(f, fv, 2400 * sizeof *fv));
    for (int64_t k = 0; k < 2400; k++)
      cr_assert_eq(fv[k], -5 + (double)k * 1.25, "arange f64 [%lld]: %g",
                   (long long)k, fv[k]);
    free(fv);
    size_t nb = cmx_array_nbytes(r);
    char *x = malloc(nb), *y = malloc(nb);
    TU_OK(cmx_array_read(r, x, nb));
    TU_OK(cmx_array_read(c, y, nb));
    cr_assert(memcmp(x, y, nb) == 0, "arange %s differs from astype",
              cmx_dtype_name(ALL_T[i]));
    free(x), free(y);
    cmx_array_free(r), cmx_array_free(f), cmx_array_free(c);
  }
  a = (cmx_array)&a;
  TU_FAILS(CMX_EINVAL, "cmx_arange", cmx_arange(&a, 0, 5, 0, CMX_F32, NULL));
  cr_assert_null(a);
}

Test(ops_views, read_item_and_data) {
  int64_t sh[2] = {2, 3};
  double v[6];
  cmx_array a = rand_arr(v, sh, 2, CMX_F32, 9), t;
  float buf[6];
  TU_FAILS(CMX_EINVAL, "cmx_array_read", cmx_array_read(a, buf, 23));
  TU_OK(cmx_array_read(a, buf, sizeof buf + 8)); /* larger is fine */
  double item;
  int rc = cmx_array_item(&item, a); /* 6 elements */
  cr_assert(rc == CMX_EINVAL || rc == CMX_ESHAPE, "item of 6: %d", rc);
  cr_assert(strstr(cmx_last_error(), "cmx_array_item"), "%s", cmx_last_error());
  TU_OK(cmx_transpose(&t, a, NULL, 0, NULL));
  TU_OK(cmx_array_read(t, buf, sizeof buf));
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++) cr_assert_eq(buf[i * 2 + j], (float)v[j * 3 + i]);
  cr_assert_eq(cmx_array_nbytes(t), 24);
  cmx_array_free(t);
  cmx_array_free(a);
}

static int g_released;
static void on_release(void *ctx) { ++*(int *)ctx; }

Test(ops_views, from_buffer_borrow_and_release_once) {
  float *buf = aligned_alloc(64, 64 * sizeof(float));
  for (int i = 0; i < 64; i++) buf[i] = (float)i - 20.5f;
  int64_t sh[2] = {8, 8}, flat[1] = {64};
  cmx_array a, r, e, s;
  TU_OK(cmx_array_from_buffer(&a, buf, CMX_F32, sh, 2, on_release, &g_released));
  cr_assert_eq((const void *)data_of(a), (void *)buf, "from_buffer copied");
  TU_OK(cmx_reshape(&r, a, flat, 1, NULL));
  cr_assert_eq((const void *)data_of(r), (void *)buf, "reshape copied");
  TU_OK(cmx_exp(&e, a, NULL));
  TU_OK(cmx_sum(&s, e, NULL, 0, false, NULL));
  cmx_array_free(a);
  cmx_array_free(e);
  cr_assert_eq(g_released, 0, "released while a view lives");
  double got;
  TU_OK(cmx_array_item(&got, s));
  double ref = 0;
  for (int i = 0; i < 64; i++) ref += exp((double)buf[i]);
  cr_assert(fabs(got - ref) <= 1e-5 * ref);
  cmx_array_free(s);
  cr_assert_eq(g_released, 0);
  cmx_array_free(r);
  TU_OK(cmx_stream_synchronize(NULL));
  cr_assert_eq(g_released, 1, "release called %d times", g_released);
  free(buf);
  double d[3] = {1, 2, 3}; /* borrowed: release NULL */
  int64_t n3 = 3;
  TU_OK(cmx_array_from_buffer(&a, d, CMX_F64, &n3, 1, NULL, NULL));
  cr_assert_eq((const void *)data_of(a), (void *)d);
  values_eq(a, d, 3, "borrowed");
  cmx_array_free(a);
  g_released = 0;
  TU_OK(cmx_array_from_buffer(&a, d, CMX_F64, &n3, 1, on_release, &g_released));
  cmx_array_free(a); /* never evaluated */
  TU_OK(cmx_stream_synchronize(NULL));
  cr_assert_eq(g_released, 1, "unused array: release called %d times",
               g_released);
}

/* ---- matmul ------------------------------------------------------------ */
/* a (.., m, k) and b (.., k, n) as NumPy; ta/tb: operand given transposed. */
static void mm_case(const int64_t *sa, int na, const int64_t *sb, int nb,
                    cmx_dtype t, int ta, uint64_t seed) {
  tu_view va = tu_view_contig(sa, na), vb = tu_view_contig(sb, nb);
  int64_t nA = tu_view_size(&va), nB = tu_view_size(&vb);
  double *av = malloc(sizeof(double) * (size_t)(nA + nB + 2 * 4096));
  double *bv = av + nA, *ref = bv + nB, *got = ref + 4096;
  tu_rand(av, nA, t, -2, 2, seed);
  tu_rand(bv, nB, t, -2, 2, seed + 1);
  cmx_array a, b, y;
  TU_OK(tu_array(&a, av, t, sa, na));
  TU_OK(tu_array(&b, bv, t, sb, nb));
  if (ta && na >= 2) { /* same logical a, built from its transpose */
    int64_t st[CMX_MAX_DIMS];
    memcpy(st, sa, sizeof(int64_t) * (size_t)na);
    st[na - 1] = sa[na - 2], st[na - 2] = sa[na - 1];
    int perm[CMX_MAX_DIMS];
    for (int i = 0; i < na; i++) perm[i] = i;
    perm[na - 1] = na - 2, perm[na - 2] = na - 1;
    tu_view vt = tu_view_T(tu_view_contig(sa, na), perm);
    double *tv = malloc(sizeof(double) * (size_t)nA);
    tu_view_gather(&vt, av, tv); /* tv: a transposed, row-major */
    cmx_array at;
    cmx_array_free(a);
    TU_OK(tu_array(&at, tv, t, st, na));
    TU_OK(cmx_transpose(&a, at, perm, na, NULL));
    cmx_array_free(at);
    free(tv);
  }
  /* NumPy: 1-D a is (1, k), 1-D b is (k, 1), removed afterwards. */
  int64_t m = na == 1 ? 1 : sa[na - 2], k = sa[na - 1];
  int64_t n = nb == 1 ? 1 : sb[nb - 1];
  int ba = na > 2 ? na - 2 : 0, bb = nb > 2 ? nb - 2 : 0;
  int nbat = ba > bb ? ba : bb;
  int64_t bsh[CMX_MAX_DIMS], osh[CMX_MAX_DIMS], batch = 1;
  for (int i = 0; i < nbat; i++) {
    int ia = i - (nbat - ba), ib = i - (nbat - bb);
    int64_t da = ia >= 0 ? sa[ia] : 1, db = ib >= 0 ? sb[ib] : 1;
    bsh[i] = da > db ? da : db;
    batch *= bsh[i];
  }
  int ond = 0;
  for (int i = 0; i < nbat; i++) osh[ond++] = bsh[i];
  if (na > 1) osh[ond++] = m;
  if (nb > 1) osh[ond++] = n;
  TU_OK(cmx_matmul(&y, a, b, NULL));
  tu_assert_shape(y, osh, ond);
  cr_assert_eq(cmx_array_dtype(y), t);
  double scale = 0;
  for (int64_t p = 0; p < batch; p++) {
    int64_t pa = 0, pb = 0, rem = p, mula = 1, mulb = 1;
    for (int i = nbat - 1; i >= 0; i--) { /* batch index -> a, b offsets */
      int64_t c = rem % bsh[i];
      rem /= bsh[i];
      int ia = i - (nbat - ba), ib = i - (nbat - bb);
      if (ia >= 0) pa += (sa[ia] == 1 ? 0 : c) * mula, mula *= sa[ia];
      if (ib >= 0) pb += (sb[ib] == 1 ? 0 : c) * mulb, mulb *= sb[ib];
    }
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        double acc = 0, s = 0;
        for (int64_t q = 0; q < k; q++) {
          double x = av[pa * m * k + i * k + q], w = bv[pb * k * n + q * n + j];
          acc += x * w;
          s += fabs(x * w);
        }
        ref[(p * m + i) * n + j] = acc;
        scale = s > scale ? s : scale;
      }
  }
  tu_read(y, got);
  double tol = t == CMX_F64 ? 1e-13 : (t == CMX_F32 ? 2e-6 : 4 * tu_eps(t));
  for (int64_t i = 0; i < batch * m * n; i++)
    cr_assert(fabs(got[i] - ref[i]) <= tol * (scale + fabs(ref[i])),
              "matmul %s na=%d nb=%d m=%lld k=%lld n=%lld: [%lld] %.9g want "
              "%.9g", cmx_dtype_name(t), na, nb, (long long)m, (long long)k,
              (long long)n, (long long)i, got[i], ref[i]);
  cmx_array_free(y);
  cmx_array_free(a);
  cmx_array_free(b);
  free(av);
}

Test(ops_views, matmul_2d_odd_shapes) {
  static const int64_t dims[][3] = {{1, 1, 1}, {7, 5, 3},  {17, 33, 9},
                                    {6, 16, 16}, {5, 1, 7}, {13, 64, 31},
                                    {1, 40, 1}, {33, 3, 65}};
  for (int d = 0; d < 8; d++)
    for (int t = 0; t < 2; t++) {
      int64_t sa[2] = {dims[d][0], dims[d][1]}, sb[2] = {dims[d][1], dims[d][2]};
      mm_case(sa, 2, sb, 2, CMX_F32, t, d * 2 + t);
    }
  int64_t sa[2] = {9, 11}, sb[2] = {11, 7};
  mm_case(sa, 2, sb, 2, CMX_F64, 0, 1);
  mm_case(sa, 2, sb, 2, CMX_F16, 1, 2);
  mm_case(sa, 2, sb, 2, CMX_BF16, 0, 3);
}

Test(ops_views, matmul_1d_operands_and_batches) {
  int64_t v5[1] = {5}, m53[2] = {5, 3}, m45[2] = {4, 5};
  mm_case(v5, 1, m53, 2, CMX_F32, 0, 1);  /* (5)@(5,3) -> (3) */
  mm_case(m45, 2, v5, 1, CMX_F32, 1, 2);  /* (4,5)@(5) -> (4) */
  mm_case(v5, 1, v5, 1, CMX_F32, 0, 3);   /* (5)@(5) -> () */
  int64_t a4[4] = {2, 1, 3, 4}, b3[3] = {5, 4, 2};
  mm_case(a4, 4, b3, 3, CMX_F32, 0, 4);   /* -> (2,5,3,2) */
  mm_case(a4, 4, b3, 3, CMX_F32, 1, 5);
  int64_t a3[3] = {3, 7, 9}, b2[2] = {9, 4}, v9[1] = {9}, b3b[3] = {3, 9, 4};
  mm_case(a3, 3, b2, 2, CMX_F32, 0, 6);   /* -> (3,7,4) */
  mm_case(a3, 3, v9, 1, CMX_F32, 1, 7);   /* -> (3,7) */
  mm_case(v9, 1, b3b, 3, CMX_F32, 0, 8);  /* -> (3,4) */
}

Test(ops_views, matmul_shape_errors) {
  int64_t sa[2] = {3, 4}, sb[2] = {5, 2}, sc[3] = {2, 4, 2}, sd[3] = {3, 3, 4};
  cmx_array a, b, c, d, y = (cmx_array)&y;
  TU_OK(cmx_ones(&a, sa, 2, CMX_F32, NULL));
  TU_OK(cmx_ones(&b, sb, 2, CMX_F32, NULL));
  TU_OK(cmx_ones(&c, sc, 3, CMX_F32, NULL));
  TU_OK(cmx_ones(&d, sd, 3, CMX_F32, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_matmul", cmx_matmul(&y, a, b, NULL));
  cr_assert_null(y);
  TU_FAILS(CMX_ESHAPE, "cmx_matmul", cmx_matmul(&y, d, c, NULL)); /* 3 vs 2 */
  cmx_array s;
  TU_OK(cmx_full(&s, NULL, 0, 1, CMX_F32, NULL));
  int rc = cmx_matmul(&y, s, a, NULL);
  cr_assert(rc == CMX_EINVAL || rc == CMX_ESHAPE, "0-d operand: %d", rc);
  cmx_array_free(s);
  cmx_array_free(a);
  cmx_array_free(b);
  cmx_array_free(c);
  cmx_array_free(d);
}

/* Stride-0 (broadcast) and reversed views through copies and kernels. */
Test(ops_views, broadcast_and_reversed_views_through_ops) {
  int64_t r4[2] = {1, 4}, o34[2] = {3, 4}, flat[1] = {12};
  double v[4], e[12], got[12];
  cmx_array a = rand_arr(v, r4, 2, CMX_F32, 11), b, r, t, c;
  TU_OK(cmx_broadcast_to(&b, a, o34, 2, NULL));
  TU_OK(cmx_reshape(&r, b, flat, 1, NULL)); /* cannot be a view */
  for (int i = 0; i < 12; i++) e[i] = v[i % 4];
  values_eq(r, e, 12, "reshape of broadcast");
  cmx_array_free(r);
  TU_OK(cmx_transpose(&t, b, NULL, 0, NULL)); /* (4,3), strides (1,0) */
  TU_OK(cmx_astype(&c, t, CMX_F16, NULL));
  for (int i = 0; i < 12; i++) e[i] = tu_quant(CMX_F16, v[i / 3]);
  values_eq(c, e, 12, "astype of transposed broadcast");
  cmx_array_free(c);
  int ax = 1;
  TU_OK(cmx_sum(&c, t, &ax, 1, false, NULL));
  tu_read(c, got);
  for (int i = 0; i < 4; i++)
    cr_assert(fabs(got[i] - 3 * v[i]) <= 1e-6 * fabs(v[i]), "sum over bcast");
  cmx_array_free(c);
  int64_t sb[3] = {2, 4, 3}, s43[2] = {4, 3};
  double w[12];
  cmx_array m = rand_arr(w, s43, 2, CMX_F32, 12), mb, y;
  TU_OK(cmx_broadcast_to(&mb, m, sb, 3, NULL));
  TU_OK(cmx_matmul(&y, b, mb, NULL)); /* (3,4) @ (2,4,3) -> (2,3,3) */
  int64_t want[3] = {2, 3, 3};
  tu_assert_shape(y, want, 3);
  double mm[18];
  tu_read(y, mm);
  for (int p = 0; p < 2; p++)
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) {
        double ref = 0;
        for (int q = 0; q < 4; q++) ref += v[q] * w[q * 3 + j];
        cr_assert(fabs(mm[p * 9 + i * 3 + j] - ref) <= 1e-5 * (1 + fabs(ref)),
                  "matmul of broadcast views");
      }
  cmx_array_free(y);
  cmx_array_free(mb);
  cmx_array_free(m);
  cmx_array_free(t);
  cmx_array_free(b);
  cmx_array_free(a);
  /* Long reversed view: vector bodies and tails with a negative stride. */
  int64_t n = 4099, st = -1;
  double *lv = malloc(sizeof(double) * 2 * (size_t)n), *lg = lv + n;
  tu_rand(lv, n, CMX_F32, -3, 3, 13);
  TU_OK(tu_array(&a, lv, CMX_F32, &n, 1));
  TU_OK(cmx_slice(&r, a, NULL, NULL, &st, 1, NULL));
  TU_OK(cmx_sigmoid(&y, r, NULL));
  tu_read(y, lg);
  for (int64_t i = 0; i < n; i++) {
    double ref = 1 / (1 + exp(-lv[n - 1 - i]));
    cr_assert(tu_ulp_f32((float)lg[i], (float)ref) <= 4, "reversed [%lld]",
              (long long)i);
  }
  cmx_array_free(y);
  cmx_array_free(r);
  cmx_array_free(a);
  free(lv);
}

Test(ops_views, zero_size_arrays_through_ops) {
  int64_t s03[2] = {0, 3}, r3[1] = {3}, s30[2] = {3, 0}, s02[2] = {0, 2};
  cmx_array z, b, y, q;
  TU_OK(cmx_zeros(&z, s03, 2, CMX_F32, NULL));
  TU_OK(cmx_ones(&b, r3, 1, CMX_F32, NULL));
  TU_OK(cmx_add(&y, z, b, NULL)); /* (0,3) + (3) -> (0,3) */
  tu_assert_shape(y, s03, 2);
  TU_OK(cmx_exp(&q, y, NULL));
  TU_OK(cmx_eval(&q, 1));
  cr_assert(cmx_array_size(q) == 0 && cmx_array_nbytes(q) == 0);
  cmx_array_free(q);
  cmx_array_free(y);
  cmx_array_free(z);
  TU_OK(cmx_ones(&z, s30, 2, CMX_F32, NULL)); /* (3,0) @ (0,2): zeros */
  TU_OK(cmx_ones(&y, s02, 2, CMX_F32, NULL));
  TU_OK(cmx_matmul(&q, z, y, NULL));
  double got[6], e[6] = {0};
  int64_t w32[2] = {3, 2};
  tu_assert_shape(q, w32, 2);
  tu_read(q, got);
  tu_assert_close(got, e, 6, 0, 0, "matmul with k = 0");
  cmx_array_free(q);
  cmx_array_free(y);
  cmx_array_free(z);
  cmx_array_free(b);
}
