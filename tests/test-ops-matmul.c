/* matmul and addmm against a float64 reference written here: 2-D shapes
 * with 0, 1, primes and two of 1000+, every combination of transposed,
 * sliced (step 2) and broadcast operands, batched with broadcasting, 1-D
 * operands, GEMV shapes, f16/bf16 inputs, addmm (alpha, beta, broadcast c,
 * beta = 0 over NaN), the BLIS backend (env and call) within tolerance, and
 * 1 vs 2 threads bitwise identical. Runs under each CMX_ISA. */
#include "test-util.h"

#include "sched/sched.h"

/* a (m x k, any view) as doubles read through the library (views are
 * tested by test-ops-views); the product is computed here in float64. */
static double *read_all(cmx_array a) {
  double *v = malloc(sizeof(double) * (size_t)(cmx_array_size(a) + 1));
  tu_read(a, v);
  return v;
}

static double eps_of(cmx_dtype t) { return tu_eps(t); }

/* Checks out = alpha * (a @ b) + beta * cadd (cadd NULL: none, already
 * broadcast to out's size as doubles). */
static void check_product(cmx_array out, cmx_array a, cmx_array b,
                          double alpha, double beta, const double *cadd,
                          const char *what) {
  double *A = read_all(a), *B = read_all(b);
  int64_t on = cmx_array_size(out);
  long double *y = malloc(sizeof(long double) * (size_t)(on + 1));
  double *sc = malloc(sizeof(double) * (size_t)(on + 1));
  double *got = malloc(sizeof(double) * (size_t)(on + 1));
  int64_t n = tu_ref_matmul(A, cmx_array_shape(a), cmx_array_ndim(a), B,
                            cmx_array_shape(b), cmx_array_ndim(b), y, NULL,
                            sc);
  cr_assert_eq(n, on, "%s: size %lld want %lld", what, (long long)on,
               (long long)n);
  tu_read(out, got);
  double e = eps_of(cmx_array_dtype(out));
  for (int64_t i = 0; i < n; i++) {
    double want =
        alpha * (double)y[i] + (cadd && beta != 0 ? beta * cadd[i] : 0);
    double tol = 4 * e * fabs(want) +
                 (fabs(alpha) * sc[i] + fabs(beta) * (cadd ? 1 : 0)) * 1e-6 +
                 1e-30;
    cr_assert(fabs(got[i] - want) <= tol,
              "%s: [%lld] got %.9g want %.9g (tol %g)", what, (long long)i,
              got[i], want, tol);
  }
  free(A), free(B), free(y), free(sc), free(got);
}

static cmx_array rand_array(const int64_t *sh, int nd, cmx_dtype t,
                            uint64_t seed) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= sh[i];
  double *v = malloc(sizeof(double) * (size_t)(n + 1));
  tu_rand(v, n, t, -1.0, 1.0, seed);
  cmx_array a;
  TU_OK(tu_array(&a, v, t, sh, nd));
  free(v);
  return a;
}

static void matmul_check(cmx_array a, cmx_array b, const char *what) {
  cmx_array c;
  TU_OK(cmx_matmul(&c, a, b, NULL));
  check_product(c, a, b, 1, 0, NULL, what);
  cmx_array_free(c);
}

/* a @ b on 1 and 2 threads: bitwise the same, and the 2-thread product
 * against float64. */
static void check_1_and_2_threads(cmx_array a, cmx_array b, const char *what) {
  float *r[2];
  for (int t = 0; t < 2; t++) {
    TU_OK(cmx_set_num_threads(t + 1));
    cmx_array c;
    TU_OK(cmx_matmul(&c, a, b, NULL));
    if (t) check_product(c, a, b, 1, 0, NULL, what);
    size_t nb = cmx_array_nbytes(c);
    r[t] = malloc(nb);
    TU_OK(cmx_array_read(c, r[t], nb));
    if (t) cr_assert(memcmp(r[0], r[1], nb) == 0, "%s: threads", what);
    cmx_array_free(c);
  }
  free(r[0]), free(r[1]);
}

/* addmm(c, a, b) for 2-D a and b against float64: beta 0 over a C that
 * is NaN in two of three places (must not propagate), then beta 2. */
static void check_addmm_betas(cmx_array a, cmx_array b, const char *tag) {
  const int64_t m = cmx_array_shape(a)[0], n = cmx_array_shape(b)[1];
  double *cv = malloc(sizeof(double) * (size_t)(m * n));
  char what[80];
  for (int pass = 0; pass < 2; pass++) {
    for (int64_t i = 0; i < m * n; i++)
      cv[i] = pass ? (double)(i % 7) / 3.0 - 1.0 : i % 3 ? NAN : 1.0;
    const float alpha = pass ? -1.0f : 0.5f, beta = pass ? 2.0f : 0.0f;
    cmx_array c, y;
    TU_OK(tu_array(&c, cv, CMX_F32, (int64_t[]){m, n}, 2));
    TU_OK(cmx_addmm(&y, c, a, b, alpha, beta, NULL));
    snprintf(what, sizeof what, "%s addmm beta %g", tag, (double)beta);
    check_product(y, a, b, alpha, beta, cv, what);
    cmx_array_free(y), cmx_array_free(c);
  }
  free(cv);
}

Test(ops_matmul, shapes_2d) {
  static const int64_t S[][3] = {
      {0, 5, 3},   {4, 0, 3},   {4, 5, 0},    {1, 1, 1},    {2, 3, 1},
      {7, 13, 11}, {17, 31, 5}, {31, 29, 67}, {64, 64, 64}, {97, 101, 103},
      {130, 70, 300}, {257, 33, 129}, {1000, 1003, 61}, {9, 1031, 1201}};
  for (size_t i = 0; i < sizeof S / sizeof S[0]; i++) {
    int64_t as[2] = {S[i][0], S[i][2]}, bs[2] = {S[i][2], S[i][1]};
    cmx_array a = rand_array(as, 2, CMX_F32, 10 + i);
    cmx_array b = rand_array(bs, 2, CMX_F32, 50 + i);
    char what[64];
    snprintf(what, sizeof what, "%lldx%lldx%lld", (long long)S[i][0],
             (long long)S[i][1], (long long)S[i][2]);
    matmul_check(a, b, what);
    cmx_array_free(a), cmx_array_free(b);
  }
}

/* x (rows x cols) in mode: 0 plain, 1 transposed, 2 sliced step 2 on both
 * axes, 3 transposed and sliced, 4 broadcast (a row or column repeated). */
static cmx_array operand(int mode, int64_t rows, int64_t cols, int is_b,
                         uint64_t seed) {
  cmx_array x, v;
  if (mode == 0) return rand_array((int64_t[]){rows, cols}, 2, CMX_F32, seed);
  if (mode == 1) {
    x = rand_array((int64_t[]){cols, rows}, 2, CMX_F32, seed);
    TU_OK(cmx_transpose(&v, x, NULL, 0, NULL));
  } else if (mode == 2) {
    x = rand_array((int64_t[]){2 * rows + 1, 2 * cols}, 2, CMX_F32, seed);
    TU_OK(cmx_slice(&v, x, (int64_t[]){1, 0}, (int64_t[]){2 * rows + 1,
                                                         2 * cols},
                    (int64_t[]){2, 2}, 2, NULL));
  } else if (mode == 3) {
    cmx_array y;
    x = rand_array((int64_t[]){2 * cols, 2 * rows}, 2, CMX_F32, seed);
    TU_OK(cmx_slice(&y, x, NULL, NULL, (int64_t[]){2, 2}, 2, NULL));
    TU_OK(cmx_transpose(&v, y, NULL, 0, NULL));
    cmx_array_free(y);
  } else {
    int64_t sh[2] = {is_b ? rows : 1, is_b ? 1 : cols};
    x = rand_array(sh, 2, CMX_F32, seed);
    TU_OK(cmx_broadcast_to(&v, x, (int64_t[]){rows, cols}, 2, NULL));
  }
  cmx_array_free(x);
  return v;
}

Test(ops_matmul, views_every_combination) {
  static const int64_t S[][3] = {{37, 45, 29}, {1, 45, 29}, {37, 1, 29},
                                 {70, 90, 300}};
  for (size_t s = 0; s < 4; s++)
    for (int ma = 0; ma < 5; ma++)
      for (int mb = 0; mb < 5; mb++) {
        int64_t m = S[s][0], n = S[s][1], k = S[s][2];
        cmx_array a = operand(ma, m, k, 0, 7 * ma + s);
        cmx_array b = operand(mb, k, n, 1, 11 * mb + s);
        char what[64];
        snprintf(what, sizeof what, "shape %zu a mode %d b mode %d", s, ma,
                 mb);
        matmul_check(a, b, what);
        cmx_array_free(a), cmx_array_free(b);
      }
}

Test(ops_matmul, batched_and_1d) {
  struct { int64_t a[4], b[4]; int an, bn; } C[] = {
      {{2, 1, 5, 7}, {3, 7, 4}, 4, 3},  {{3, 6, 9}, {9, 4}, 3, 2},
      {{6, 9}, {2, 9, 20}, 2, 3},       {{9}, {9, 5}, 1, 2},
      {{6, 9}, {9}, 2, 1},              {{9}, {9}, 1, 1},
      {{4, 3, 17}, {17}, 3, 1},         {{40}, {5, 40, 33}, 1, 3},
      {{8, 40, 50}, {8, 50, 30}, 3, 3}, {{1, 1, 30, 20}, {2, 3, 20, 1}, 4, 4}};
  for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
    cmx_array a = rand_array(C[i].a, C[i].an, CMX_F32, 3 + i);
    cmx_array b = rand_array(C[i].b, C[i].bn, CMX_F32, 30 + i);
    char what[32];
    snprintf(what, sizeof what, "case %zu", i);
    matmul_check(a, b, what);
    cmx_array_free(a), cmx_array_free(b);
  }
}

/* GEMV (m or n 1) and short A (m <= 32: row dots where B's k is
 * contiguous, past 2^20 flops) in every operand mode. */
Test(ops_matmul, gemv_shapes) {
  /* k 4500: more than one GV_CHUNK of a converted or gathered row */
  static const int64_t S[][3] = {{1, 300, 500}, {300, 1, 500}, {1, 1, 77},
                                 {1, 2000, 3},  {513, 1, 2050}, {1, 37, 4500},
                                 {3, 200, 2000}, {8, 40, 4500}, {5, 130, 900},
                                 {20, 50, 1200}};
  for (size_t s = 0; s < sizeof S / sizeof S[0]; s++)
    for (int ma = 0; ma < 4; ma++)
      for (int mb = 0; mb < 4; mb++) {
        cmx_array a = operand(ma, S[s][0], S[s][2], 0, 5 + ma);
        cmx_array b = operand(mb, S[s][2], S[s][1], 1, 9 + mb);
        char what[48];
        snprintf(what, sizeof what, "gemv %zu modes %d %d", s, ma, mb);
        matmul_check(a, b, what);
        cmx_array_free(a), cmx_array_free(b);
      }
}

Test(ops_matmul, f16_bf16_inputs) {
  cmx_dtype T[][2] = {{CMX_F16, CMX_F16}, {CMX_BF16, CMX_BF16},
                      {CMX_F16, CMX_F32}, {CMX_BF16, CMX_F32},
                      {CMX_I32, CMX_F32}};
  /* short A (row dots against a transposed B, rows converted into the
   * row accumulation against a row-major one), k past GV_CHUNK */
  static const int64_t S[][3] = {{33, 47, 70},   {1, 40, 300}, {50, 1, 300},
                                 {130, 100, 300}, {1, 9, 4500}, {6, 70, 4500},
                                 {4, 33, 200},    {6, 200, 1000}};
  for (int t = 0; t < 5; t++)
    for (int s = 0; s < (int)(sizeof S / sizeof S[0]); s++)
      for (int tr = 0; tr < 2; tr++) {
        int64_t m = S[s][0], n = S[s][1], k = S[s][2];
        cmx_array a = rand_array((int64_t[]){m, k}, 2, T[t][0], 1 + s);
        cmx_array b0 = rand_array(tr ? (int64_t[]){n, k} : (int64_t[]){k, n},
                                  2, T[t][1], 2 + s), b;
        if (tr) TU_OK(cmx_transpose(&b, b0, NULL, 0, NULL));
        else b = cmx_array_retain(b0);
        cmx_array c;
        TU_OK(cmx_matmul(&c, a, b, NULL));
        cr_assert_eq(cmx_array_dtype(c),
                     T[t][0] == T[t][1] ? T[t][0] : CMX_F32);
        char what[48];
        snprintf(what, sizeof what, "dtypes %d shape %d tr %d", t, s, tr);
        check_product(c, a, b, 1, 0, NULL, what);
        cmx_array_free(a), cmx_array_free(b0), cmx_array_free(b);
        cmx_array_free(c);
      }
}

Test(ops_matmul, addmm) {
  int64_t m = 45, n = 38, k = 53;
  cmx_array a = rand_array((int64_t[]){m, k}, 2, CMX_F32, 1);
  cmx_array b = rand_array((int64_t[]){k, n}, 2, CMX_F32, 2);
  int64_t cs[][2] = {{m, n}, {1, n}, {m, 1}};
  int cn[] = {2, 1, 2};
  const int64_t *csp[] = {cs[0], &cs[1][1], cs[2]};
  float ab[][2] = {{1, 1}, {0.5f, -2}, {-1.5f, 0}, {2, 0}};
  for (int ci = 0; ci < 3; ci++)
    for (int q = 0; q < 4; q++) {
      int64_t cnel = cn[ci] == 1 ? csp[ci][0] : csp[ci][0] * csp[ci][1];
      double *cv = malloc(sizeof(double) * (size_t)cnel);
      tu_rand(cv, cnel, CMX_F32, -1, 1, 77 + ci);
      if (ab[q][1] == 0) cv[0] = NAN, cv[cnel - 1] = INFINITY;
      cmx_array c, y;
      TU_OK(tu_array(&c, cv, CMX_F32, csp[ci], cn[ci]));
      TU_OK(cmx_addmm(&y, c, a, b, ab[q][0], ab[q][1], NULL));
      double *cb = malloc(sizeof(double) * (size_t)(m * n));
      for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
          cb[i * n + j] = ci == 0 ? cv[i * n + j] : ci == 1 ? cv[j] : cv[i];
      char what[48];
      snprintf(what, sizeof what, "addmm c %d alpha %g beta %g", ci, ab[q][0],
               ab[q][1]);
      check_product(y, a, b, ab[q][0], ab[q][1], cb, what);
      free(cv), free(cb);
      cmx_array_free(c), cmx_array_free(y);
    }
  /* bad broadcast of c */
  cmx_array c, y;
  c = rand_array((int64_t[]){m + 1, n}, 2, CMX_F32, 3);
  TU_FAILS(CMX_ESHAPE, "cmx_addmm", cmx_addmm(&y, c, a, b, 1, 1, NULL));
  cmx_array_free(c), cmx_array_free(a), cmx_array_free(b);
}

/* The BLIS backend matches the cmx one within tolerance. */
static void blis_vs_cmx(void) {
  static const int64_t S[][3] = {{37, 45, 29}, {1, 45, 29}, {37, 1, 29},
                                 {200, 150, 300}};
  for (size_t s = 0; s < 4; s++)
    for (int ma = 0; ma < 5; ma++)
      for (int mb = 0; mb < 5; mb += 2) {
        cmx_array a = operand(ma, S[s][0], S[s][2], 0, 3 + ma);
        cmx_array b = operand(mb, S[s][2], S[s][1], 1, 4 + mb);
        char what[48];
        snprintf(what, sizeof what, "blis shape %zu modes %d %d", s, ma, mb);
        matmul_check(a, b, what);
        cmx_array_free(a), cmx_array_free(b);
      }
  cmx_array a = rand_array((int64_t[]){3, 20, 30}, 3, CMX_F16, 1);
  cmx_array b = rand_array((int64_t[]){30, 10}, 2, CMX_F32, 2);
  matmul_check(a, b, "blis f16 batched");
  cmx_array_free(a), cmx_array_free(b);
}

Test(ops_matmul, blis_backend_call) {
  TU_OK(cmx_set_gemm_backend("blis"));
  blis_vs_cmx();
  TU_FAILS(CMX_EINVAL, "cmx_set_gemm_backend", cmx_set_gemm_backend("mkl"));
  TU_OK(cmx_set_gemm_backend("cmx"));
}

Test(ops_matmul, blis_backend_env) {
  setenv("CMX_GEMM", "blis", 1);
  blis_vs_cmx();
}

/* Results do not depend on the thread count, on every path. */
Test(ops_matmul, threads_bitwise) {
  static const int64_t S[][4] = {{300, 200, 150, 1}, {1000, 20, 64, 1},
                                 {20, 1000, 64, 1},  {1, 3000, 700, 1},
                                 {3000, 1, 700, 1},  {40, 50, 60, 8},
                                 {64, 64, 64, 3},    {250, 260, 600, 1}};
  for (size_t s = 0; s < 8; s++) {
    int64_t bt = S[s][3];
    int64_t as[3] = {bt, S[s][0], S[s][2]}, bs[2] = {S[s][2], S[s][1]};
    cmx_array a = rand_array(as, 3, CMX_F32, s + 1);
    cmx_array b = rand_array(bs, 2, CMX_F32, s + 2);
    float *r[2];
    for (int t = 0; t < 2; t++) {
      TU_OK(cmx_set_num_threads(t + 1));
      cmx_array c;
      TU_OK(cmx_matmul(&c, a, b, NULL));
      size_t nb = cmx_array_nbytes(c);
      r[t] = malloc(nb);
      TU_OK(cmx_array_read(c, r[t], nb));
      if (t)
        cr_assert(memcmp(r[0], r[1], nb) == 0,
                  "shape %zu: 1 and 2 threads differ", s);
      cmx_array_free(c);
    }
    free(r[0]), free(r[1]);
    cmx_array_free(a), cmx_array_free(b);
  }
}

/* The skinny paths (m <= 32, row-major f32 B, B streamed unpacked: rows
 * folded into an L1 block of C for m <= 8, else through the 8x32
 * microkernel): A in every view mode, k from 1 and not a
 * multiple of 4, n not a multiple of the column chunk, batches with a
 * broadcast B, addmm with beta 0 over NaN, and 1 vs 2 threads bitwise. */
Test(ops_matmul, skinny_rows) {
  static const int64_t S[][3] = {{2, 1037, 1003}, {5, 2100, 777},
                                 {16, 1025, 1201}, {11, 3000, 333},
                                 {3, 40, 2},       {4, 1030, 9},
                                 {8, 17, 1},       {7, 2000, 31}};
  for (size_t s = 0; s < 8; s++)
    for (int ma = 0; ma < 4; ma++) {
      int64_t m = S[s][0], n = S[s][1], k = S[s][2];
      cmx_array a = operand(ma, m, k, 0, 5 * ma + s);
      cmx_array b = rand_array((int64_t[]){k, n}, 2, CMX_F32, 90 + s);
      char what[64];
      snprintf(what, sizeof what, "skinny %zu a mode %d", s, ma);
      check_1_and_2_threads(a, b, what);
      cmx_array_free(a), cmx_array_free(b);
    }
  /* batched A against one B, and addmm with beta 0 over NaN */
  int64_t m = 6, n = 1500, k = 517;
  cmx_array a = rand_array((int64_t[]){3, m, k}, 3, CMX_F32, 1);
  cmx_array b = rand_array((int64_t[]){k, n}, 2, CMX_F32, 2);
  matmul_check(a, b, "skinny batched");
  cmx_array_free(a);
  a = rand_array((int64_t[]){m, k}, 2, CMX_F32, 3);
  check_addmm_betas(a, b, "skinny");
  cmx_array_free(a), cmx_array_free(b);
}

/* B with rows in place: row-major f32 with a row stride wider than n and
 * an offset (every other row of a wider matrix, from column 1). */
static cmx_array b_row_sliced(int64_t k, int64_t n, uint64_t seed) {
  cmx_array x, v;
  x = rand_array((int64_t[]){2 * k, n + 3}, 2, CMX_F32, seed);
  TU_OK(cmx_slice(&v, x, (int64_t[]){0, 1}, (int64_t[]){2 * k, n + 1},
                  (int64_t[]){2, 1}, 2, NULL));
  cmx_array_free(x);
  return v;
}

/* The skinny path's edges: m from 7 to 32 (the 8 x 32 tile and 14 x 32,
 * partial row tiles), n past one column block of C and not a multiple of
 * 32, k odd and not a multiple of the k block, B contiguous, row-sliced
 * (row stride > n) and transposed (the packed path), broadcast batch dims,
 * and 1 vs 2 threads bitwise. */
Test(ops_matmul, skinny_tiles_and_batches) {
  static const int64_t S[][3] = {{7, 4200, 37},  {8, 4107, 49},
                                 {9, 130, 301},  {14, 70, 25},
                                 {17, 3900, 23}, {24, 333, 97},
                                 {31, 2100, 33}, {32, 2085, 47}};
  for (size_t s = 0; s < 8; s++)
    for (int mb = 0; mb < 3; mb++) {
      int64_t m = S[s][0], n = S[s][1], k = S[s][2];
      cmx_array a = rand_array((int64_t[]){m, k}, 2, CMX_F32, 40 + s);
      cmx_array b = mb == 0 ? rand_array((int64_t[]){k, n}, 2, CMX_F32, 50 + s)
                    : mb == 1 ? b_row_sliced(k, n, 60 + s)
                              : operand(1, k, n, 1, 70 + s);
      char what[64];
      snprintf(what, sizeof what, "skinny m=%lld b mode %d", (long long)m,
               mb);
      check_1_and_2_threads(a, b, what);
      cmx_array_free(a), cmx_array_free(b);
    }
  /* broadcast batch dims: (2, 1, m, k) @ (3, k, n) -> (2, 3, m, n) */
  cmx_array a = rand_array((int64_t[]){2, 1, 20, 75}, 4, CMX_F32, 7);
  cmx_array b = rand_array((int64_t[]){3, 75, 530}, 3, CMX_F32, 8);
  matmul_check(a, b, "skinny broadcast batch");
  cmx_array_free(a), cmx_array_free(b);
}

/* A with rows in place: row-major f32 with a row stride wider than k and
 * an offset (columns 2 .. k + 1 of an m x (k + 5) matrix). */
static cmx_array a_row_sliced(int64_t m, int64_t k, uint64_t seed) {
  cmx_array x, v;
  x = rand_array((int64_t[]){m, k + 5}, 2, CMX_F32, seed);
  TU_OK(cmx_slice(&v, x, (int64_t[]){0, 2}, (int64_t[]){m, k + 2}, NULL, 2,
                  NULL));
  cmx_array_free(x);
  return v;
}

/* The small-k path (k <= kc: the microkernel reads A unpacked through
 * aux.lda, a partial row panel packed) and the tail tiles (the last rows
 * of a part on the 8-row tile where it pads fewer rows: m = 16, 30, 128,
 * 130): m around the tiles, k from 1 to past the AVX-512 kc (256), A
 * contiguous, row-sliced and transposed, the batched attention shape, and
 * 1 vs 2 threads bitwise. */
Test(ops_matmul, small_k_unpacked_a_and_tail_tiles) {
  static const int64_t S[][3] = {{33, 45, 1},    {42, 77, 5},
                                 {128, 128, 64}, {130, 40, 31},
                                 {141, 33, 256}, {30, 96, 257},
                                 {16, 65, 128},  {127, 129, 100}};
  for (size_t s = 0; s < 8; s++)
    for (int ma = 0; ma < 3; ma++) {
      int64_t m = S[s][0], n = S[s][1], k = S[s][2];
      cmx_array a = ma == 0   ? rand_array((int64_t[]){m, k}, 2, CMX_F32,
                                           20 + s)
                    : ma == 1 ? a_row_sliced(m, k, 30 + s)
                              : operand(1, m, k, 0, 40 + s);
      cmx_array b = rand_array((int64_t[]){k, n}, 2, CMX_F32, 50 + s);
      char what[64];
      snprintf(what, sizeof what, "small k %lldx%lldx%lld a mode %d",
               (long long)m, (long long)n, (long long)k, ma);
      check_1_and_2_threads(a, b, what);
      cmx_array_free(a), cmx_array_free(b);
    }
  /* 64 x (128, 64) @ (64, 128), and addmm with beta 1 on it */
  cmx_array a = rand_array((int64_t[]){64, 128, 64}, 3, CMX_F32, 1);
  cmx_array b = rand_array((int64_t[]){64, 64, 128}, 3, CMX_F32, 2);
  matmul_check(a, b, "attention batch");
  float *r[2];
  for (int t = 0; t < 2; t++) {
    TU_OK(cmx_set_num_threads(t + 1));
    cmx_array c;
    TU_OK(cmx_matmul(&c, a, b, NULL));
    size_t nb = cmx_array_nbytes(c);
    r[t] = malloc(nb);
    TU_OK(cmx_array_read(c, r[t], nb));
    if (t)
      cr_assert(memcmp(r[0], r[1], nb) == 0, "attention batch: threads");
    cmx_array_free(c);
  }
  free(r[0]), free(r[1]);
  cmx_array_free(a), cmx_array_free(b);
  a = rand_array((int64_t[]){128, 64}, 2, CMX_F32, 3);
  b = rand_array((int64_t[]){64, 128}, 2, CMX_F32, 4);
  double *cv = malloc(sizeof(double) * 128 * 128);
  for (int64_t i = 0; i < 128 * 128; i++) cv[i] = (double)(i % 5) - 2.0;
  cmx_array c, y;
  TU_OK(tu_array(&c, cv, CMX_F32, (int64_t[]){128, 128}, 2));
  TU_OK(cmx_addmm(&y, c, a, b, -0.5f, 1.0f, NULL));
  check_product(y, a, b, -0.5f, 1.0f, cv, "small k addmm");
  cmx_array_free(y);
  free(cv);
  cmx_array_free(c), cmx_array_free(a), cmx_array_free(b);
}

/* Short A over one depth block reads B in place (no packed B): m up to
 * 512 and k within kc, B contiguous and row-sliced (rows 37 floats longer
 * than n, so ldb is no multiple of anything), past the small-problem bound
 * so two threads split it, against float64 and 1 vs 2 threads bitwise;
 * m = 513 and k past any kc keep B packed. */
Test(ops_matmul, short_a_reads_b_in_place) {
  static const int64_t S[][3] = {{200, 300, 500},  {512, 96, 1000},
                                 {513, 64, 333},   {77, 257, 129},
                                 {130, 700, 4100}, {14, 1100, 64}};
  for (size_t s = 0; s < 6; s++)
    for (int bm = 0; bm < 2; bm++) {
      int64_t m = S[s][0], n = S[s][1], k = S[s][2];
      cmx_array a = rand_array((int64_t[]){m, k}, 2, CMX_F32, 60 + s), b;
      if (bm == 0) {
        b = rand_array((int64_t[]){k, n}, 2, CMX_F32, 70 + s);
      } else {
        cmx_array x = rand_array((int64_t[]){k, n + 37}, 2, CMX_F32, 80 + s);
        TU_OK(cmx_slice(&b, x, (int64_t[]){0, 3}, (int64_t[]){k, n + 3},
                        NULL, 2, NULL));
        cmx_array_free(x);
      }
      char what[64];
      snprintf(what, sizeof what, "short a %lldx%lldx%lld b mode %d",
               (long long)m, (long long)n, (long long)k, bm);
      check_1_and_2_threads(a, b, what);
      cmx_array_free(a), cmx_array_free(b);
    }
}

/* Shapes S[0, ns) (m, n, k) with A contiguous, row-sliced (rows `wide`
 * floats apart, or k + 9 when wide is 0) and transposed, against float64
 * and 1 vs 2 threads bitwise; seeds from seed. */
static void check_a_layouts(const int64_t (*S)[3], size_t ns, int64_t wide,
                            uint64_t seed, const char *tag) {
  for (size_t s = 0; s < ns; s++)
    for (int am = 0; am < 3; am++) {
      int64_t m = S[s][0], n = S[s][1], k = S[s][2];
      cmx_array a, b = rand_array((int64_t[]){k, n}, 2, CMX_F32, seed + s);
      if (am == 0) {
        a = rand_array((int64_t[]){m, k}, 2, CMX_F32, seed + 10 + s);
      } else if (am == 1) {
        cmx_array x = rand_array((int64_t[]){m, wide ? wide : k + 9}, 2,
                                 CMX_F32, seed + 20 + s);
        TU_OK(cmx_slice(&a, x, (int64_t[]){0, 1}, (int64_t[]){m, k + 1},
                        NULL, 2, NULL));
        cmx_array_free(x);
      } else {
        a = operand(1, m, k, 0, seed + 30 + s);
      }
      char what[64];
      snprintf(what, sizeof what, "%s %lldx%lldx%lld a mode %d", tag,
               (long long)m, (long long)n, (long long)k, am);
      check_1_and_2_threads(a, b, what);
      cmx_array_free(a), cmx_array_free(b);
    }
}

/* Short A (m <= short_a_m) against a packed B takes short_a_kc: here kc 200
 * (set by env, not left to this machine's tuning file), which divides none
 * of the depths, on m from 33 (past the skinny path) to 160; m = 161 keeps
 * the file's kc. Each test runs in its own process, and the driver reads
 * the variables at its first call. */
Test(ops_matmul, short_a_shallower_kc) {
  setenv("CMX_GEMM_SHORT_A_M", "160", 1);
  setenv("CMX_GEMM_SHORT_A_KC", "200", 1);
  static const int64_t S[][3] = {{33, 300, 450}, {77, 290, 1001},
                                 {160, 520, 777}, {161, 97, 613}};
  check_a_layouts(S, 4, 0, 130, "short a");
}

/* Narrow B (n <= 256) reads A in place at any depth: k past kc, A
 * contiguous, row-sliced with rows 4 KiB-multiples apart (2048 floats) and
 * transposed (packed as before); n = 257 packs A. The case is set here,
 * not left to this machine's tuning file: in place up to n 256 at kc 1024,
 * so k 1100 to 2047 takes two blocks (each test runs in its own process,
 * and the driver reads the variables at its first call). */
Test(ops_matmul, narrow_b_reads_a_in_place) {
  setenv("CMX_GEMM_NARROW_B_N", "256", 1);
  setenv("CMX_GEMM_NARROW_KC", "1024", 1);
  static const int64_t S[][3] = {{300, 200, 1500}, {77, 256, 2047},
                                 {64, 257, 1100},  {1030, 33, 1800}};
  check_a_layouts(S, 4, 2048, 90, "narrow b");
}

/* Taller short A (9 to rowacc_m rows, twice that for a 16-bit B) against a
 * row-major B past two L2s takes the row fold with B's vectors in
 * registers: here up to 64 rows (set by env, not left to the level's
 * default), B sized from this machine's L2, k not a multiple of the fold's
 * 8 rows, n not a multiple of its three vectors, A contiguous, row-sliced
 * and transposed, B row-sliced, a batch against one B, addmm with beta 0
 * over NaN and beta 2, bf16 and f16 B (past two L2s, and within one up to
 * 48 rows); m = 65 (129 for 16-bit B) and 8
 * take their other paths beside them. Against float64, and 1 vs 2 threads
 * bitwise. */
Test(ops_matmul, short_a_rows_of_b_folded) {
  setenv("CMX_GEMM_ROWACC_M", "64", 1);
  const size_t l2 = cmx_topo()->l2;
  const int64_t k = 301, n = (int64_t)(2 * l2 / sizeof(float)) / k + 37;
  const int64_t S[][3] = {{9, n, k}, {33, n + 16, k + 2}, {64, n, k},
                          {65, n, k}, {8, n, k}};
  check_a_layouts(S, 5, 0, 170, "row fold");
  cmx_array a = rand_array((int64_t[]){20, k}, 2, CMX_F32, 11);
  cmx_array b = b_row_sliced(k, n, 12);
  check_1_and_2_threads(a, b, "row fold b row-sliced");
  cmx_array_free(a);
  a = rand_array((int64_t[]){2, 12, k}, 3, CMX_F32, 13);
  matmul_check(a, b, "row fold batched a");
  cmx_array_free(a);
  a = rand_array((int64_t[]){17, k}, 2, CMX_F32, 14);
  check_addmm_betas(a, b, "row fold");
  cmx_array_free(a), cmx_array_free(b);
  /* 16-bit B (bf16, f16) up to twice rowacc_m rows: m = 100 and 128 fold,
   * 129 takes the packed path (bf16 x bf16 the pair kernel's); A f32 and,
   * for m = 40, bf16 against either B, and for m = 128 and 129 bf16
   * against bf16 B */
  const int64_t n16 = (int64_t)(2 * l2 / 2) / k + 21;
  static const int64_t M16[] = {11, 40, 100, 128, 129};
  for (int bt = 0; bt < 2; bt++)
    for (size_t s = 0; s < 5; s++) {
      cmx_dtype at = s == 1 || (s >= 3 && !bt) ? CMX_BF16 : CMX_F32;
      a = rand_array((int64_t[]){M16[s], k}, 2, at, 20 + s);
      b = rand_array((int64_t[]){k, n16}, 2, bt ? CMX_F16 : CMX_BF16,
                     30 + s);
      char what[64];
      snprintf(what, sizeof what, "row fold m=%lld b %s", (long long)M16[s],
               bt ? "f16" : "bf16");
      check_1_and_2_threads(a, b, what);
      cmx_array_free(a), cmx_array_free(b);
    }
  /* a 16-bit B within L2 folds up to 48 rows (24: fold, 49: packed) */
  for (int r = 0; r < 2; r++) {
    a = rand_array((int64_t[]){r ? 49 : 24, k}, 2, CMX_BF16, 40 + r);
    b = rand_array((int64_t[]){k, 700}, 2, r ? CMX_F16 : CMX_BF16, 42 + r);
    check_1_and_2_threads(a, b, r ? "m=49 small f16 b" : "m=24 small bf16 b");
    cmx_array_free(a), cmx_array_free(b);
  }
}

/* B^T of a (n, k) array's first k columns of k + 7 (rows k + 7 apart). */
static cmx_array b_t_wide(int64_t k, int64_t n, uint64_t seed) {
  cmx_array x, y, v;
  x = rand_array((int64_t[]){n, k + 7}, 2, CMX_F32, seed);
  TU_OK(cmx_slice(&y, x, NULL, (int64_t[]){n, k}, NULL, 2, NULL));
  TU_OK(cmx_transpose(&v, y, NULL, 0, NULL));
  cmx_array_free(x), cmx_array_free(y);
  return v;
}

/* A of a few dozen rows against an f32 B whose k is contiguous (x W^T)
 * runs as C^T = B^T A^T where A^T's panel is at least three quarters full
 * and the narrow-B path takes it (set here: narrow_b_n 256, narrow_kc 1024,
 * so k = 1100 takes two blocks): m 24 to 256, and 40 (a panel of 64 too
 * empty) and 257 beside them; B^T contiguous and with rows wider than k,
 * A contiguous, transposed and bf16, a bf16 or f16 B^T (its rows converted
 * a block at a time) from 64 rows, batches against one B and against a
 * batched B, addmm with beta 0 over NaN and beta 2. Against float64, and
 * 1 vs 2 threads bitwise. */
Test(ops_matmul, x_wt_swapped) {
  setenv("CMX_GEMM_NARROW_B_N", "256", 1);
  setenv("CMX_GEMM_NARROW_KC", "1024", 1);
  static const int64_t M[] = {24, 32, 40, 48, 64, 100, 256, 257};
  const int64_t k = 1100, n = 300;
  for (size_t s = 0; s < 8; s++)
    for (int mode = 0; mode < 4; mode++) {
      if (mode && M[s] != 32 && M[s] != 100) continue;
      char what[64];
      snprintf(what, sizeof what, "x w^t m=%lld mode %d", (long long)M[s],
               mode);
      const int64_t sa[2] = {M[s], k};
      cmx_array a = mode == 2   ? operand(1, M[s], k, 0, 40 + s)
                    : mode == 3 ? rand_array(sa, 2, CMX_BF16, 50 + s)
                                : rand_array(sa, 2, CMX_F32, 60 + s);
      cmx_array b = mode == 1 ? b_t_wide(k, n, 70 + s)
                              : operand(1, k, n, 1, 80 + s);
      check_1_and_2_threads(a, b, what);
      cmx_array_free(a), cmx_array_free(b);
    }
  /* 16-bit B^T against an f32 A from SWAP_M16 (64) rows: its rows
   * converted a block at a time; 48 rows, and both operands bf16, stay */
  static const int64_t M16[] = {48, 64, 100, 64};
  for (int bt = 0; bt < 2; bt++)
    for (size_t s = 0; s < 4; s++) {
      cmx_dtype dt = bt ? CMX_F16 : CMX_BF16;
      cmx_array x = rand_array((int64_t[]){n, k}, 2, dt, 90 + s), b;
      TU_OK(cmx_transpose(&b, x, NULL, 0, NULL));
      cmx_array_free(x);
      cmx_array a = rand_array((int64_t[]){M16[s], k}, 2,
                               s == 3 ? dt : CMX_F32, 95 + s);
      char what[64];
      snprintf(what, sizeof what, "x w^t m=%lld b %s%s",
               (long long)M16[s], bt ? "f16" : "bf16",
               s == 3 ? ", a too" : "");
      check_1_and_2_threads(a, b, what);
      cmx_array_free(a), cmx_array_free(b);
    }
  /* (3, 48, k) against one B^T, and against a batched one */
  cmx_array a = rand_array((int64_t[]){3, 48, k}, 3, CMX_F32, 1);
  cmx_array b = operand(1, k, n, 1, 2);
  matmul_check(a, b, "x w^t batched a");
  cmx_array_free(b);
  cmx_array x = rand_array((int64_t[]){3, n, k}, 3, CMX_F32, 3);
  TU_OK(cmx_transpose(&b, x, (int[]){0, 2, 1}, 3, NULL));
  cmx_array_free(x);
  check_1_and_2_threads(a, b, "x w^t batched both");
  cmx_array_free(a), cmx_array_free(b);
  a = rand_array((int64_t[]){32, k}, 2, CMX_F32, 4);
  b = operand(1, k, n, 1, 5);
  check_addmm_betas(a, b, "x w^t");
  cmx_array_free(a), cmx_array_free(b);
}

/* The mirror swap: B of at most SWAP_N (24) columns against an A whose k
 * is contiguous runs as C^T = B^T A^T on the row dots, A read in place:
 * n 2 to 24 and 25 (packed) beside them, m not a multiple of anything; A
 * contiguous, row-sliced (rows wider than k) and bf16 (16-bit rows
 * converted as they are read), A transposed (its k strided: packed);
 * B row-major, transposed and f16; a batch of A against one B and
 * against a batched B; addmm with beta 0 over NaN and beta 2. Against
 * float64, and 1 vs 2 threads bitwise. */
Test(ops_matmul, narrow_b_swapped) {
  static const int64_t N[] = {2, 5, 12, 24, 25};
  const int64_t m = 701, k = 333;
  for (size_t s = 0; s < 5; s++)
    for (int mode = 0; mode < 6; mode++) {
      if (mode && N[s] != 12 && N[s] != 24) continue;
      char what[64];
      snprintf(what, sizeof what, "narrow b n=%lld mode %d", (long long)N[s],
               mode);
      cmx_array a, b;
      if (mode == 1) { /* A row-sliced: [:, 3 : k + 3] of (m, k + 9) */
        cmx_array x = rand_array((int64_t[]){m, k + 9}, 2, CMX_F32, 10 + s);
        TU_OK(cmx_slice(&a, x, (int64_t[]){0, 3}, (int64_t[]){m, k + 3},
                        NULL, 2, NULL));
        cmx_array_free(x);
      } else if (mode == 2) {
        a = rand_array((int64_t[]){m, k}, 2, CMX_BF16, 20 + s);
      } else {
        a = operand(mode == 3, m, k, 0, 30 + s);
      }
      if (mode == 4)
        b = operand(1, k, N[s], 1, 40 + s);
      else
        b = rand_array((int64_t[]){k, N[s]}, 2,
                       mode == 5 ? CMX_F16 : CMX_F32, 50 + s);
      check_1_and_2_threads(a, b, what);
      cmx_array_free(a), cmx_array_free(b);
    }
  cmx_array a = rand_array((int64_t[]){3, 250, k}, 3, CMX_F32, 1);
  cmx_array b = rand_array((int64_t[]){k, 12}, 2, CMX_F32, 2);
  check_1_and_2_threads(a, b, "narrow b batched a");
  cmx_array_free(b);
  b = rand_array((int64_t[]){3, k, 7}, 3, CMX_F32, 3);
  check_1_and_2_threads(a, b, "narrow b batched both");
  cmx_array_free(a), cmx_array_free(b);
  a = rand_array((int64_t[]){m, k}, 2, CMX_F32, 4);
  b = rand_array((int64_t[]){k, 12}, 2, CMX_F32, 5);
  check_addmm_betas(a, b, "narrow b");
  cmx_array_free(a), cmx_array_free(b);
}
