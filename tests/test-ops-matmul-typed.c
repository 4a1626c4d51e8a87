/* matmul / addmm with float64 results and int8 x int8 -> int32 (the
 * kernels/f64-gemm and kernels/i8-gemm drivers): 2-D shapes with 0, 1,
 * primes and 1000+, transposed, sliced and broadcast operands, batches with
 * broadcasting, 1-D operands, f32 x f64 operands (converted), addmm with
 * beta 0 over NaN, int32 sums at the exact limit (k = 131071 of -128 x
 * -128) and past it (wrapping modulo 2^32), 1 vs 2 threads bitwise. The
 * references are long double (f64) and int64 (i8). Runs under each
 * CMX_ISA. */
#include "test-util.h"

/* out (= alpha a @ b + beta cadd for f64) against the references. */
static void check(cmx_array out, cmx_array a, cmx_array b, double alpha,
                  double beta, const double *cadd, const char *what) {
  int64_t na = cmx_array_size(a), nb = cmx_array_size(b);
  int64_t on = cmx_array_size(out);
  double *A = malloc(sizeof(double) * (size_t)(na + 1));
  double *B = malloc(sizeof(double) * (size_t)(nb + 1));
  long double *y = malloc(sizeof(long double) * (size_t)(on + 1));
  int64_t *yi = malloc(sizeof(int64_t) * (size_t)(on + 1));
  double *sc = malloc(sizeof(double) * (size_t)(on + 1));
  tu_read(a, A);
  tu_read(b, B);
  tu_ref_matmul(A, cmx_array_shape(a), cmx_array_ndim(a), B,
                cmx_array_shape(b), cmx_array_ndim(b), y, yi, sc);
  if (cmx_array_dtype(out) == CMX_I32) {
    int32_t *got = malloc(sizeof(int32_t) * (size_t)(on + 1));
    TU_OK(cmx_array_read(out, got, (size_t)on * 4));
    for (int64_t i = 0; i < on; i++)
      cr_assert(got[i] == (int32_t)(uint32_t)(uint64_t)yi[i],
                "%s: [%lld] got %d want %lld", what, (long long)i, got[i],
                (long long)yi[i]);
    free(got);
  } else {
    cr_assert_eq(cmx_array_dtype(out), CMX_F64, "%s: dtype", what);
    double *got = malloc(sizeof(double) * (size_t)(on + 1));
    TU_OK(cmx_array_read(out, got, (size_t)on * 8));
    for (int64_t i = 0; i < on; i++) {
      long double want = alpha * y[i] + (cadd && beta != 0 ? beta * cadd[i] : 0);
      double tol = 4e-16 * (fabs(alpha) * sc[i] + fabs(beta) + fabsl(want)) +
                   1e-300;
      cr_assert(fabsl(got[i] - want) <= tol, "%s: [%lld] got %.17g want %.17Lg",
                what, (long long)i, got[i], want);
    }
    free(got);
  }
  free(A), free(B), free(y), free(yi), free(sc);
}

static cmx_array rand_array(const int64_t *sh, int nd, cmx_dtype t,
                            uint64_t seed) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= sh[i];
  double *v = malloc(sizeof(double) * (size_t)(n + 1));
  if (t == CMX_I8) tu_rand(v, n, t, -128.0, 128.0, seed);
  else tu_rand(v, n, t, -1.0, 1.0, seed);
  cmx_array a;
  TU_OK(tu_array(&a, v, t, sh, nd));
  free(v);
  return a;
}

/* rows x cols of dtype t in mode: 0 plain, 1 transposed, 2 sliced step 2,
 * 3 transposed and sliced, 4 broadcast (a row of A or column of B). */
static cmx_array operand(cmx_dtype t, int mode, int64_t rows, int64_t cols,
                         int is_b, uint64_t seed) {
  cmx_array x, v;
  if (mode == 0) return rand_array((int64_t[]){rows, cols}, 2, t, seed);
  if (mode == 1) {
    x = rand_array((int64_t[]){cols, rows}, 2, t, seed);
    TU_OK(cmx_transpose(&v, x, NULL, 0, NULL));
  } else if (mode == 2) {
    x = rand_array((int64_t[]){2 * rows + 1, 2 * cols}, 2, t, seed);
    TU_OK(cmx_slice(&v, x, (int64_t[]){1, 0},
                    (int64_t[]){2 * rows + 1, 2 * cols}, (int64_t[]){2, 2}, 2,
                    NULL));
  } else if (mode == 3) {
    cmx_array y;
    x = rand_array((int64_t[]){2 * cols, 2 * rows}, 2, t, seed);
    TU_OK(cmx_slice(&y, x, NULL, NULL, (int64_t[]){2, 2}, 2, NULL));
    TU_OK(cmx_transpose(&v, y, NULL, 0, NULL));
    cmx_array_free(y);
  } else {
    x = rand_array((int64_t[]){is_b ? rows : 1, is_b ? 1 : cols}, 2, t, seed);
    TU_OK(cmx_broadcast_to(&v, x, (int64_t[]){rows, cols}, 2, NULL));
  }
  cmx_array_free(x);
  return v;
}

static void mm_check(cmx_array a, cmx_array b, const char *what) {
  cmx_array c;
  TU_OK(cmx_matmul(&c, a, b, NULL));
  check(c, a, b, 1, 0, NULL, what);
  cmx_array_free(c);
}

static const cmx_dtype TYPES[2] = {CMX_F64, CMX_I8};

Test(ops_matmul_typed, shapes_2d) {
  static const int64_t S[][3] = {
      {0, 5, 3},    {4, 0, 3},     {4, 5, 0},    {1, 1, 1},
      {7, 13, 11},  {17, 31, 5},   {15, 33, 4},  {29, 17, 67},
      {97, 101, 103}, {257, 33, 1031}, {1000, 1003, 61},
      {45, 37, 1100} /* i8: two k blocks of whole words (pack_w) */};
  for (int ti = 0; ti < 2; ti++)
    for (size_t i = 0; i < sizeof S / sizeof S[0]; i++) {
      cmx_array a = rand_array((int64_t[]){S[i][0], S[i][2]}, 2, TYPES[ti],
                               10 + i);
      cmx_array b = rand_array((int64_t[]){S[i][2], S[i][1]}, 2, TYPES[ti],
                               50 + i);
      char what[64];
      snprintf(what, sizeof what, "%s %lldx%lldx%lld",
               cmx_dtype_name(TYPES[ti]), (long long)S[i][0],
               (long long)S[i][1], (long long)S[i][2]);
      mm_check(a, b, what);
      cmx_array_free(a), cmx_array_free(b);
    }
}

Test(ops_matmul_typed, views_every_combination) {
  static const int64_t S[][3] = {{37, 45, 29}, {1, 45, 29}, {37, 1, 29},
                                 {70, 90, 301}};
  for (int ti = 0; ti < 2; ti++)
    for (size_t s = 0; s < 4; s++)
      for (int ma = 0; ma < 5; ma++)
        for (int mb = 0; mb < 5; mb++) {
          cmx_array a = operand(TYPES[ti], ma, S[s][0], S[s][2], 0, 7 * ma + s);
          cmx_array b = operand(TYPES[ti], mb, S[s][2], S[s][1], 1,
                                11 * mb + s);
          char what[64];
          snprintf(what, sizeof what, "%s shape %zu modes %d %d",
                   cmx_dtype_name(TYPES[ti]), s, ma, mb);
          mm_check(a, b, what);
          cmx_array_free(a), cmx_array_free(b);
        }
}

Test(ops_matmul_typed, batched_1d_and_mixed) {
  struct { int64_t a[4], b[4]; int an, bn; } C[] = {
      {{2, 1, 5, 7}, {3, 7, 4}, 4, 3}, {{3, 6, 9}, {9, 4}, 3, 2},
      {{6, 9}, {2, 9, 20}, 2, 3},      {{9}, {9, 5}, 1, 2},
      {{6, 9}, {9}, 2, 1},             {{9}, {9}, 1, 1},
      {{8, 40, 50}, {8, 50, 30}, 3, 3}};
  for (int ti = 0; ti < 2; ti++)
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
      cmx_array a = rand_array(C[i].a, C[i].an, TYPES[ti], 3 + i);
      cmx_array b = rand_array(C[i].b, C[i].bn, TYPES[ti], 30 + i);
      char what[48];
      snprintf(what, sizeof what, "%s case %zu", cmx_dtype_name(TYPES[ti]), i);
      mm_check(a, b, what);
      cmx_array_free(a), cmx_array_free(b);
    }
  /* f32 @ f64 and int8 @ f64: f64 results, operands converted */
  cmx_array a = rand_array((int64_t[]){33, 21}, 2, CMX_F32, 1);
  cmx_array b = rand_array((int64_t[]){21, 19}, 2, CMX_F64, 2);
  cmx_array ai = rand_array((int64_t[]){33, 21}, 2, CMX_I8, 3);
  mm_check(a, b, "f32 @ f64");
  mm_check(ai, b, "i8 @ f64");
  cmx_array_free(a), cmx_array_free(b), cmx_array_free(ai);
}

Test(ops_matmul_typed, addmm_f64) {
  int64_t as[2] = {23, 41}, bs[2] = {41, 17}, cs[2] = {23, 17}, rs[1] = {17};
  cmx_array a = rand_array(as, 2, CMX_F64, 4), b = rand_array(bs, 2, CMX_F64, 5);
  double *cv = malloc(sizeof(double) * 23 * 17);
  tu_rand(cv, 23 * 17, CMX_F64, -1, 1, 6);
  cmx_array cfull, crow, out;
  TU_OK(tu_array(&cfull, cv, CMX_F64, cs, 2));
  TU_OK(tu_array(&crow, cv, CMX_F64, rs, 1));
  TU_OK(cmx_addmm(&out, cfull, a, b, 0.75f, -1.5f, NULL));
  check(out, a, b, 0.75, -1.5, cv, "addmm full c");
  cmx_array_free(out);
  double *bc = malloc(sizeof(double) * 23 * 17);
  for (int i = 0; i < 23 * 17; i++) bc[i] = cv[i % 17];
  TU_OK(cmx_addmm(&out, crow, a, b, 2.0f, 0.5f, NULL));
  check(out, a, b, 2.0, 0.5, bc, "addmm broadcast row");
  cmx_array_free(out);
  for (int i = 0; i < 23 * 17; i++) cv[i] = NAN;
  cmx_array cnan;
  TU_OK(tu_array(&cnan, cv, CMX_F64, cs, 2));
  TU_OK(cmx_addmm(&out, cnan, a, b, 1.0f, 0.0f, NULL));
  check(out, a, b, 1.0, 0.0, NULL, "addmm beta 0 over NaN");
  cmx_array_free(out), cmx_array_free(cnan), cmx_array_free(cfull);
  cmx_array_free(crow), cmx_array_free(a), cmx_array_free(b);
  free(cv), free(bc);
}

/* int32 sums: exact at k = 131071 of (-128)(-128) = 2147467264, and past
 * the int32 range they wrap modulo 2^32 on every ISA alike. */
Test(ops_matmul_typed, i8_int32_limits) {
  static const int64_t K[2] = {131071, 140003};
  for (int q = 0; q < 2; q++) {
    int64_t k = K[q], as[2] = {3, k}, bs[2] = {k, 5};
    int8_t *av = malloc((size_t)(3 * k)), *bv = malloc((size_t)(5 * k));
    for (int64_t i = 0; i < 3 * k; i++) av[i] = i % 3 == 2 && q ? 127 : -128;
    for (int64_t i = 0; i < 5 * k; i++) bv[i] = -128;
    cmx_array a, b, c;
    TU_OK(cmx_array_from_data(&a, av, CMX_I8, as, 2));
    TU_OK(cmx_array_from_data(&b, bv, CMX_I8, bs, 2));
    TU_OK(cmx_matmul(&c, a, b, NULL));
    cr_assert_eq(cmx_array_dtype(c), CMX_I32);
    int32_t got[15];
    TU_OK(cmx_array_read(c, got, sizeof got));
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 5; j++) {
        int64_t want = 0;
        for (int64_t p = 0; p < k; p++)
          want += (int64_t)av[i * k + p] * bv[p * 5 + j];
        if (!q) cr_assert_eq(want, 2147467264LL);
        cr_assert_eq(got[i * 5 + j], (int32_t)(uint32_t)(uint64_t)want,
                     "k=%lld (%d,%d): %d want %lld", (long long)k, i, j,
                     got[i * 5 + j], (long long)want);
      }
    cmx_array_free(a), cmx_array_free(b), cmx_array_free(c);
    free(av), free(bv);
  }
}

Test(ops_matmul_typed, threads_bitwise) {
  static const int64_t S[][4] = {{300, 200, 150, 1}, {20, 1000, 64, 1},
                                 {40, 50, 60, 8}, {250, 260, 600, 1}};
  for (int ti = 0; ti < 2; ti++)
    for (size_t s = 0; s < 4; s++) {
      int64_t as[3] = {S[s][3], S[s][0], S[s][2]}, bs[2] = {S[s][2], S[s][1]};
      cmx_array a = rand_array(as, 3, TYPES[ti], s + 1);
      cmx_array b = rand_array(bs, 2, TYPES[ti], s + 2);
      void *r[2];
      for (int t = 0; t < 2; t++) {
        TU_OK(cmx_set_num_threads(t + 1));
        cmx_array c;
        TU_OK(cmx_matmul(&c, a, b, NULL));
        size_t nb = cmx_array_nbytes(c);
        r[t] = malloc(nb);
        TU_OK(cmx_array_read(c, r[t], nb));
        if (t)
          cr_assert(memcmp(r[0], r[1], nb) == 0,
                    "%s shape %zu: 1 and 2 threads differ",
                    cmx_dtype_name(TYPES[ti]), s);
        cmx_array_free(c);
      }
      free(r[0]), free(r[1]);
      cmx_array_free(a), cmx_array_free(b);
    }
}
