/* The synchronous eval of one small op on evaluated inputs takes a fast
 * path (graph.c: no walk, run on the caller). These pin down that it keeps
 * the general path's semantics: a failed input's status and message reach
 * the node, the memory limit and injected faults fail the op or its eval,
 * eager mode, streams freed before the eval, each node run exactly once
 * (no leaked buffer) when two threads evaluate it at once (test-threads.c
 * has that one, under TSan too). */
#include "test-util.h"

void cmx_mem_inject_fault(long n); /* internal, for tests */

static int eager_env(void) {
  const char *e = getenv("CMX_EAGER");
  return e && !strcmp(e, "1");
}

static cmx_array small_f32(double base) {
  int64_t n = 16;
  double v[16];
  for (int i = 0; i < 16; i++) v[i] = base + i;
  cmx_array a;
  TU_OK(tu_array(&a, v, CMX_F32, &n, 1));
  return a;
}

Test(eval_small, failed_input_gives_its_status_and_message) {
  if (eager_env()) cr_skip_test("needs lazy graphs");
  cmx_array a = small_f32(1), x, y;
  size_t base = cmx_get_active_memory();
  TU_OK(cmx_exp(&x, a, NULL));
  cmx_mem_inject_fault(1);
  TU_FAILS(CMX_ENOMEM, "CMX_FAULT_ALLOC", cmx_eval(&x, 1));
  cmx_mem_inject_fault(0);
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", cmx_last_error());
  TU_OK(cmx_add(&y, x, a, NULL)); /* lazy, on a failed input */
  cr_assert_eq(cmx_array_is_evaluated(y), 0);
  TU_FAILS(CMX_ENOMEM, "CMX_FAULT_ALLOC", cmx_eval(&y, 1));
  cr_assert_str_eq(cmx_last_error(), msg);
  cr_assert_eq(cmx_array_is_evaluated(y), 0);
  /* Evaluated again (finished, failed): the same status and message, not
   * whatever error came last. */
  TU_FAILS(CMX_EINVAL, "cmx_add", cmx_add(NULL, a, a, NULL));
  TU_FAILS(CMX_ENOMEM, "CMX_FAULT_ALLOC", cmx_eval(&y, 1));
  cr_assert_str_eq(cmx_last_error(), msg);
  float out[16];
  TU_FAILS(CMX_ENOMEM, "CMX_FAULT_ALLOC", cmx_array_read(y, out, sizeof out));
  /* Neither failed node holds a buffer. */
  cr_assert_eq(cmx_get_active_memory(), base);
  cmx_array_free(y);
  cmx_array_free(x);
  cmx_array_free(a);
}

Test(eval_small, memory_limit_fails_the_op_or_its_eval) {
  if (eager_env()) cr_skip_test("needs lazy graphs");
  cmx_array a = small_f32(0), x, y = NULL, z;
  TU_OK(cmx_exp(&x, a, NULL)); /* made under no limit */
  size_t active = cmx_get_active_memory();
  size_t prev = cmx_set_memory_limit(active + 1);
  /* The 64-byte output crosses the limit when eval allocates it. */
  TU_FAILS(CMX_ENOMEM, "memory limit", cmx_eval(&x, 1));
  cr_assert_eq(cmx_array_is_evaluated(x), 0);
  /* A new op over the limit fails when it is made. */
  y = (cmx_array)&y;
  TU_FAILS(CMX_ENOMEM, "cmx_exp", cmx_exp(&y, a, NULL));
  cr_assert_null(y);
  cr_assert_eq(cmx_set_memory_limit(prev), active + 1);
  cr_assert_eq(cmx_get_active_memory(), active);
  /* The failed node stays failed; a new one runs. */
  TU_FAILS(CMX_ENOMEM, "memory limit", cmx_eval(&x, 1));
  TU_OK(cmx_exp(&z, a, NULL));
  TU_OK(cmx_eval(&z, 1));
  double got[16];
  tu_read(z, got);
  cr_assert_float_eq(got[3], (double)expf(3.0f), 1e-5);
  cmx_array_free(z);
  cmx_array_free(x);
  cmx_array_free(a);
}

Test(eval_small, eager_ops_run_at_once_and_fail_at_once) {
  cmx_array a = small_f32(2), b = small_f32(5), c, x, y;
  cmx_set_eager(true);
  TU_OK(cmx_multiply(&c, a, b, NULL));
  cr_assert_eq(cmx_array_is_evaluated(c), 1, "eager op not evaluated");
  double got[16];
  tu_read(c, got);
  for (int i = 0; i < 16; i++)
    cr_assert_eq(got[i], (double)((2 + i) * (5 + i)), "[%d] %g", i, got[i]);
  /* An eager op whose allocation fails returns the failure, out NULL. */
  cmx_mem_inject_fault(1);
  x = (cmx_array)&x;
  TU_FAILS(CMX_ENOMEM, "CMX_FAULT_ALLOC", cmx_exp(&x, a, NULL));
  cmx_mem_inject_fault(0);
  cr_assert_null(x);
  /* Over the memory limit, too. */
  size_t prev = cmx_set_memory_limit(cmx_get_active_memory() + 1);
  y = (cmx_array)&y;
  TU_FAILS(CMX_ENOMEM, "cmx_sqrt", cmx_sqrt(&y, a, NULL));
  cr_assert_null(y);
  cmx_set_memory_limit(prev);
  cmx_set_eager(false);
  cmx_array_free(c);
  cmx_array_free(b);
  cmx_array_free(a);
}

Test(eval_small, node_of_a_freed_stream_and_repeated_evals) {
  if (eager_env()) cr_skip_test("needs lazy graphs");
  cmx_array a = small_f32(1), b = small_f32(3), c, m;
  cmx_stream s;
  cmx_stream_config cfg = {1, NULL, 0};
  TU_OK(cmx_stream_new(&s, &cfg));
  TU_OK(cmx_subtract(&c, b, a, s));
  TU_OK(cmx_stream_free_checked(s));
  TU_OK(cmx_eval(&c, 1));
  TU_OK(cmx_eval(&c, 1)); /* finished: nothing runs again */
  double got[16];
  tu_read(c, got);
  for (int i = 0; i < 16; i++) cr_assert_eq(got[i], 2.0);
  /* Many small ops evaluated one by one on the default stream: each
   * output buffer is returned when freed. */
  size_t base = cmx_get_active_memory();
  int64_t sh[2] = {4, 4};
  cmx_array a2;
  TU_OK(cmx_reshape(&a2, a, sh, 2, NULL));
  for (int i = 0; i < 200; i++) {
    TU_OK(cmx_matmul(&m, a2, a2, NULL));
    TU_OK(cmx_eval(&m, 1));
    cr_assert_eq(cmx_array_is_evaluated(m), 1);
    cmx_array_free(m);
  }
  cmx_array_free(a2);
  cr_assert_eq(cmx_get_active_memory(), base, "%zu bytes left",
               cmx_get_active_memory() - base);
  cmx_array_free(c);
  cmx_array_free(b);
  cmx_array_free(a);
}

/* Small f32 ops on contiguous operands call their microkernel directly
 * (ops-elementwise.c); the same op on strided views of the same values
 * goes through the elementwise driver. Both must give the same bits. */
typedef int (*unary_fn)(cmx_array *, cmx_array, cmx_stream);
typedef int (*binary_fn)(cmx_array *, cmx_array, cmx_array, cmx_stream);

static void same_bits(cmx_array x, cmx_array y, const char *what) {
  int64_t n = cmx_array_size(x);
  cr_assert_eq(cmx_array_size(y), n);
  float *a = malloc((size_t)n * 4), *b = malloc((size_t)n * 4);
  TU_OK(cmx_array_read(x, a, (size_t)n * 4));
  TU_OK(cmx_array_read(y, b, (size_t)n * 4));
  cr_assert(memcmp(a, b, (size_t)n * 4) == 0, "%s: direct and driver differ",
            what);
  free(a);
  free(b);
}

Test(eval_small, direct_f32_ops_match_the_driver_bitwise) {
  enum { N = 1000 };
  double v[2 * N], w[2 * N];
  tu_rand(v, 2 * N, CMX_F32, 0.1, 4, 7);
  tu_rand(w, 2 * N, CMX_F32, 0.1, 4, 8);
  int64_t n2 = 2 * N, start = 0, stop = 2 * N, step = 2, one = 1;
  cmx_array big_a, big_b, sa, sb, ca, cb, s1;
  TU_OK(tu_array(&big_a, v, CMX_F32, &n2, 1));
  TU_OK(tu_array(&big_b, w, CMX_F32, &n2, 1));
  TU_OK(cmx_slice(&sa, big_a, &start, &stop, &step, 1, NULL)); /* strided */
  TU_OK(cmx_slice(&sb, big_b, &start, &stop, &step, 1, NULL));
  TU_OK(cmx_contiguous(&ca, sa, NULL));
  TU_OK(cmx_contiguous(&cb, sb, NULL));
  TU_OK(cmx_eval(&ca, 1));
  TU_OK(cmx_eval(&cb, 1));
  TU_OK(tu_array(&s1, w + 3, CMX_F32, &one, 1));
  static const struct { const char *name; unary_fn f; } un[] = {
      {"exp", cmx_exp}, {"tanh", cmx_tanh}, {"gelu", cmx_gelu},
      {"sqrt", cmx_sqrt}, {"log", cmx_log}, {"sigmoid", cmx_sigmoid}};
  static const struct { const char *name; binary_fn f; } bin[] = {
      {"add", cmx_add}, {"multiply", cmx_multiply}, {"divide", cmx_divide},
      {"power", cmx_power}, {"maximum", cmx_maximum},
      {"subtract", cmx_subtract}};
  for (size_t k = 0; k < sizeof un / sizeof un[0]; k++) {
    cmx_array d, g;
    TU_OK(un[k].f(&d, ca, NULL));
    TU_OK(un[k].f(&g, sa, NULL));
    TU_OK(cmx_eval(&d, 1));
    same_bits(d, g, un[k].name);
    cmx_array_free(d);
    cmx_array_free(g);
  }
  for (size_t k = 0; k < sizeof bin / sizeof bin[0]; k++) {
    cmx_array d, g, ds, gs, bs;
    TU_OK(bin[k].f(&d, ca, cb, NULL));
    TU_OK(bin[k].f(&g, sa, sb, NULL));
    same_bits(d, g, bin[k].name);
    /* a broadcast scalar on either side, against the driver's stride 0 */
    TU_OK(cmx_broadcast_to(&bs, s1, (int64_t[]){N}, 1, NULL));
    TU_OK(bin[k].f(&ds, s1, ca, NULL));
    TU_OK(bin[k].f(&gs, bs, sa, NULL));
    same_bits(ds, gs, bin[k].name);
    cmx_array_free(ds);
    cmx_array_free(gs);
    TU_OK(bin[k].f(&ds, ca, s1, NULL));
    TU_OK(bin[k].f(&gs, sa, bs, NULL));
    same_bits(ds, gs, bin[k].name);
    cmx_array_free(ds);
    cmx_array_free(gs);
    cmx_array_free(bs);
    cmx_array_free(d);
    cmx_array_free(g);
  }
  cmx_array_free(s1);
  cmx_array_free(cb);
  cmx_array_free(ca);
  cmx_array_free(sb);
  cmx_array_free(sa);
  cmx_array_free(big_b);
  cmx_array_free(big_a);
}

/* 2-D f32 products build their GEMM problem straight from the operands
 * (ops-linalg.c); with a batch dimension added they take the batch views.
 * Operands with offsets and transposed strides must give the same bits. */
Test(eval_small, matmul_2d_matches_the_batched_path_bitwise) {
  enum { R = 40, C = 48 };
  double v[R * C];
  tu_rand(v, R * C, CMX_F32, -2, 2, 11);
  int64_t sh[2] = {R, C};
  int64_t start[2] = {3, 5}, stop[2] = {3 + 33, 5 + 29}, step[2] = {1, 1};
  cmx_array big, a, bt, b, p2, a3, b3, p3;
  TU_OK(tu_array(&big, v, CMX_F32, sh, 2));
  TU_OK(cmx_slice(&a, big, start, stop, step, 2, NULL)); /* 33x29, offset */
  TU_OK(cmx_slice(&bt, big, (int64_t[]){7, 2}, (int64_t[]){7 + 31, 2 + 29},
                  step, 2, NULL));                       /* 31x29 */
  TU_OK(cmx_transpose(&b, bt, NULL, 0, NULL));          /* 29x31, strided */
  TU_OK(cmx_matmul(&p2, a, b, NULL));
  TU_OK(cmx_expand_dims(&a3, a, 0, NULL));
  TU_OK(cmx_expand_dims(&b3, b, 0, NULL));
  TU_OK(cmx_matmul(&p3, a3, b3, NULL));
  cr_assert_eq(cmx_array_ndim(p3), 3);
  float x[33 * 31], y[33 * 31];
  TU_OK(cmx_array_read(p2, x, sizeof x));
  TU_OK(cmx_array_read(p3, y, sizeof y));
  cr_assert(memcmp(x, y, sizeof x) == 0, "2-D and batched products differ");
  /* and against float64 at one element */
  double ref = 0;
  for (int k = 0; k < 29; k++)
    ref += (double)(float)v[(3 + 4) * C + 5 + k] *
           (double)(float)v[(7 + 6) * C + 2 + k];
  cr_assert(fabs(x[4 * 31 + 6] - ref) <= 1e-4 * (1 + fabs(ref)), "%g want %g",
            x[4 * 31 + 6], ref);
  cmx_array arr[] = {p3, b3, a3, p2, b, bt, a, big};
  for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
    cmx_array_free(arr[i]);
}
