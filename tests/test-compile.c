/* cmx_compile: a compiled function's outputs are bitwise those of calling
 * it (fused or not, 1 or 2 threads, any strides), it is traced once per
 * input signature, elementwise chains become one fused node, and its
 * errors (from the function, from misuse) come back as statuses. */
#include <pthread.h>

#include "../api/internal.h"
#include "test-util.h"

/* ---- functions to compile ---- */
struct counter {
  int calls;
};

#define CHECK(call)            \
  do {                         \
    int rc_ = (call);          \
    if (rc_) goto fail;        \
  } while (0)

/* x: (m, n), y: (n,) broadcast. A chain of 9 elementwise ops with
 * scalars made inside (constants), and a repeated subexpression. */
static int chain_fn(void *ctx, const cmx_array *in, size_t n_in,
                    cmx_array *out, size_t cap, size_t *n_out) {
  struct counter *c = ctx;
  if (c) __atomic_fetch_add(&c->calls, 1, __ATOMIC_RELAXED);
  cmx_array k = NULL, t1 = NULL, t2 = NULL, t3 = NULL, t4 = NULL, t5 = NULL,
            t6 = NULL, t7 = NULL, t8 = NULL, e1 = NULL, e2 = NULL;
  int rc;
  /* in x's dtype, so a bf16 or f16 chain stays one */
  CHECK(cmx_full(&k, NULL, 0, 0.7, cmx_array_dtype(in[0]), NULL));
  CHECK(cmx_multiply(&t1, in[0], k, NULL));
  CHECK(cmx_add(&t2, t1, in[1], NULL));
  CHECK(cmx_tanh(&t3, t2, NULL));
  CHECK(cmx_sigmoid(&t4, in[0], NULL));
  CHECK(cmx_multiply(&t5, t3, t4, NULL));
  CHECK(cmx_neg(&e1, in[0], NULL));
  CHECK(cmx_neg(&e2, in[0], NULL)); /* the same as e1: merged */
  CHECK(cmx_exp(&t6, e1, NULL));
  CHECK(cmx_subtract(&t7, t5, t6, NULL));
  CHECK(cmx_multiply(&t8, t7, e2, NULL));
  out[0] = t8;
  t8 = NULL;
  *n_out = 1;
  rc = CMX_OK;
  if (0) {
  fail:
    rc = cmx_last_status();
  }
  cmx_array xs[] = {k, t1, t2, t3, t4, t5, t6, t7, t8, e1, e2};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) cmx_array_free(xs[i]);
  (void)n_in;
  (void)cap;
  return rc;
}

/* A mixed graph: matmul, softmax, a residual add, views, a reduction,
 * concatenate and pad; returns 4 outputs, one of them the input itself
 * and one a constant. in: x (m, n), w (n, n). */
static int mixed_fn(void *ctx, const cmx_array *in, size_t n_in,
                    cmx_array *out, size_t cap, size_t *n_out) {
  cmx_array mm = NULL, sm = NULL, r = NULL, tr = NULL, s = NULL, g = NULL,
            cat = NULL, pd = NULL, cst = NULL;
  int rc;
  if (cap < 5) return cmx_err(CMX_EINVAL, "mixed_fn: cap %zu", cap);
  int ax = 0;
  CHECK(cmx_matmul(&mm, in[0], in[1], NULL));
  CHECK(cmx_softmax(&sm, mm, -1, NULL));
  CHECK(cmx_add(&r, sm, in[0], NULL));
  CHECK(cmx_transpose(&tr, r, NULL, 0, NULL));
  CHECK(cmx_sum(&s, tr, &ax, 1, false, NULL));
  CHECK(cmx_gelu(&g, s, NULL));
  cmx_array parts[2] = {r, in[0]};
  CHECK(cmx_concatenate(&cat, parts, 2, 0, NULL));
  int64_t lo[2] = {1, 0}, hi[2] = {0, 2};
  CHECK(cmx_pad(&pd, cat, lo, hi, 2, -1.5, NULL));
  int64_t sh[1] = {3};
  CHECK(cmx_full(&cst, sh, 1, 2.5, CMX_F32, NULL));
  out[0] = g;
  out[1] = pd;
  out[2] = cmx_array_retain(in[0]);
  out[3] = cst;
  out[4] = tr;
  g = pd = cst = tr = NULL;
  *n_out = 5;
  rc = CMX_OK;
  if (0) {
  fail:
    rc = cmx_last_status();
  }
  cmx_array xs[] = {mm, sm, r, tr, s, g, cat, pd, cst};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) cmx_array_free(xs[i]);
  (void)ctx;
  (void)n_in;
  return rc;
}

static void read_f32(cmx_array a, float *dst) {
  TU_OK(cmx_array_read(a, dst, cmx_array_nbytes(a)));
}

/* Asserts that a and b hold the same bytes (shape and dtype too). */
static void assert_same(cmx_array a, cmx_array b, const char *what) {
  cr_assert_eq(cmx_array_dtype(a), cmx_array_dtype(b), "%s: dtype", what);
  tu_assert_shape(a, cmx_array_shape(b), cmx_array_ndim(b));
  size_t nb = cmx_array_nbytes(a);
  char *x = malloc(nb + 1), *y = malloc(nb + 1);
  TU_OK(cmx_array_read(a, x, nb));
  TU_OK(cmx_array_read(b, y, nb));
  cr_assert(memcmp(x, y, nb) == 0, "%s: compiled and direct results differ",
            what);
  free(x);
  free(y);
}

static double chain_ref(double x, double y, cmx_dtype dt) {
  double t5 = tanh(x * tu_quant(dt, 0.7) + y) * (1.0 / (1.0 + exp(-x)));
  return (t5 - exp(-x)) * -x;
}

static void check_chain_dt(int64_t m, int64_t n, int transposed, int threads,
                           cmx_dtype dt) {
  TU_OK(cmx_set_num_threads(threads));
  int64_t shx[2] = {transposed ? n : m, transposed ? m : n}, shy[1] = {n};
  double *xv = malloc((size_t)(m * n) * sizeof *xv);
  double *yv = malloc((size_t)n * sizeof *yv);
  tu_rand(xv, m * n, dt, -3, 3, (uint64_t)(m * 31 + n));
  tu_rand(yv, n, dt, -1, 1, (uint64_t)(n + 5));
  cmx_array x0, x, y;
  TU_OK(tu_array(&x0, xv, dt, shx, 2));
  if (transposed) TU_OK(cmx_transpose(&x, x0, NULL, 0, NULL));
  else x = cmx_array_retain(x0);
  TU_OK(tu_array(&y, yv, dt, shy, 1));
  cmx_array in[2] = {x, y}, direct[1], fused[1], unfused[1];
  size_t nd = 0, nf = 0, nu = 0;
  struct counter cnt = {0};
  cmx_compiled cf, cu;
  TU_OK(cmx_compile(&cf, chain_fn, &cnt, 0));
  TU_OK(cmx_compile(&cu, chain_fn, NULL, CMX_COMPILE_NO_FUSE));
  TU_OK(chain_fn(NULL, in, 2, direct, 1, &nd));
  TU_OK(cmx_compiled_call(cf, in, 2, fused, 1, &nf));
  TU_OK(cmx_compiled_call(cu, in, 2, unfused, 1, &nu));
  cr_assert_eq(nf, 1);
  cr_assert_eq(nu, 1);
  /* white box: the chain is one node, reading x and y only */
  cr_assert_eq(fused[0]->op, CMX_OP_fused, "the chain was not fused");
  /* x, the constant 0.7, y, and -x, which has two users (merged from two
   * equal nodes), so it stays a node of its own */
  cr_assert_eq(fused[0]->nin, 4, "fused operands: %d", fused[0]->nin);
  cr_assert_eq(unfused[0]->op, CMX_OP_elementwise);
  assert_same(fused[0], direct[0], "fused");
  assert_same(unfused[0], direct[0], "unfused");
  cr_assert_eq(cmx_array_dtype(fused[0]), dt);
  double *got = malloc((size_t)(m * n) * sizeof *got);
  tu_read(fused[0], got);
  /* f16 / bf16 round each of the 8 ops' results */
  double tol = dt == CMX_F32 ? 1e-5 : 40 * tu_eps(dt);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double xe = transposed ? xv[j * m + i] : xv[i * n + j];
      double ref = chain_ref(xe, yv[j], dt);
      cr_assert(tu_close(got[i * n + j], ref, tol, tol),
                "(%lld,%lld): %.9g want %.9g", (long long)i, (long long)j,
                got[i * n + j], ref);
    }
  /* a second call with the same signature replays without tracing */
  cmx_array again[1];
  TU_OK(cmx_compiled_call(cf, in, 2, again, 1, &nf));
  cr_assert_eq(cnt.calls, 1, "traced %d times", cnt.calls);
  assert_same(again[0], direct[0], "replayed");
  free(got);
  free(xv);
  free(yv);
  cmx_array xs[] = {x0, x, y, direct[0], fused[0], unfused[0], again[0]};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) cmx_array_free(xs[i]);
  cmx_compiled_free(cf);
  cmx_compiled_free(cu);
}

static void check_chain(int64_t m, int64_t n, int transposed, int threads) {
  check_chain_dt(m, n, transposed, threads, CMX_F32);
}

Test(compile, f16_and_bf16_chains_fuse_bitwise_as_direct) {
  cmx_dtype dts[2] = {CMX_F16, CMX_BF16};
  for (int d = 0; d < 2; d++) {
    check_chain_dt(7, 17, 0, 1, dts[d]);
    check_chain_dt(33, 1023, 1, 2, dts[d]);
  }
}

Test(compile, chain_fused_bitwise_as_direct_and_close_to_float64) {
  int64_t sizes[][2] = {{1, 1}, {7, 17}, {3, 1023}, {257, 1031}};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int t = 0; t < 2; t++)
      for (int th = 1; th <= 2; th++)
        check_chain(sizes[s][0], sizes[s][1], t, th);
}

Test(compile, fused_same_bits_on_1_and_2_threads) {
  int64_t shx[2] = {512, 1000}, shy[1] = {1000};
  double *xv = malloc(512 * 1000 * sizeof *xv), yv[1000];
  tu_rand(xv, 512 * 1000, CMX_F32, -2, 2, 3);
  tu_rand(yv, 1000, CMX_F32, -2, 2, 4);
  cmx_array x, y, r[2];
  TU_OK(tu_array(&x, xv, CMX_F32, shx, 2));
  TU_OK(tu_array(&y, yv, CMX_F32, shy, 1));
  cmx_compiled c;
  TU_OK(cmx_compile(&c, chain_fn, NULL, 0));
  cmx_array in[2] = {x, y};
  size_t n;
  for (int t = 0; t < 2; t++) {
    TU_OK(cmx_set_num_threads(t + 1));
    TU_OK(cmx_compiled_call(c, in, 2, &r[t], 1, &n));
    TU_OK(cmx_eval(&r[t], 1));
  }
  assert_same(r[0], r[1], "1 vs 2 threads");
  cmx_array_free(r[0]);
  cmx_array_free(r[1]);
  cmx_array_free(x);
  cmx_array_free(y);
  cmx_compiled_free(c);
  free(xv);
}

Test(compile, retraces_per_signature_only) {
  struct counter cnt = {0};
  cmx_compiled c;
  TU_OK(cmx_compile(&c, chain_fn, &cnt, CMX_COMPILE_SHAPELESS));
  int64_t s1[2] = {4, 8}, s2[2] = {5, 8}, sy[1] = {8};
  double v[40], w[8];
  tu_rand(v, 40, CMX_F32, -1, 1, 9);
  tu_rand(w, 8, CMX_F32, -1, 1, 10);
  cmx_array a, b, y, bt, o;
  TU_OK(tu_array(&a, v, CMX_F32, s1, 2));
  TU_OK(tu_array(&b, v, CMX_F32, s2, 2));
  TU_OK(tu_array(&y, w, CMX_F32, sy, 1));
  size_t n;
  int expect[] = {1, 1, 2, 2, 3};
  cmx_array ins[][2] = {{a, y}, {a, y}, {b, y}, {b, y}, {NULL, y}};
  int64_t s3[2] = {8, 5};
  cmx_array b3;
  TU_OK(tu_array(&b3, v, CMX_F32, s3, 2));
  TU_OK(cmx_transpose(&bt, b3, NULL, 0, NULL)); /* (5, 8), strided */
  ins[4][0] = bt;
  for (int i = 0; i < 5; i++) {
    TU_OK(cmx_compiled_call(c, ins[i], 2, &o, 1, &n));
    TU_OK(cmx_eval(&o, 1));
    cmx_array_free(o);
    cr_assert_eq(cnt.calls, expect[i], "call %d: traced %d times", i,
                 cnt.calls);
  }
  /* a dtype change is a new signature too */
  cmx_array a16;
  TU_OK(cmx_astype(&a16, a, CMX_F16, NULL));
  cmx_array in16[2] = {a16, y};
  TU_OK(cmx_compiled_call(c, in16, 2, &o, 1, &n));
  cr_assert_eq(cnt.calls, 4);
  cr_assert_eq(cmx_array_dtype(o), CMX_F32);
  cmx_array xs[] = {a, b, y, bt, b3, a16, o};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) cmx_array_free(xs[i]);
  cmx_compiled_free(c);
}

/* Past 64 signatures the least recently used trace is dropped, so a
 * caller whose shapes keep changing does not hold a tape per shape
 * forever; a dropped signature is traced again, with the same results. */
Test(compile, keeps_the_64_most_recent_signatures) {
  struct counter cnt = {0};
  cmx_compiled c;
  TU_OK(cmx_compile(&c, chain_fn, &cnt, 0));
  int64_t sy[1] = {8};
  double v[100 * 8], w[8];
  tu_rand(v, 100 * 8, CMX_F32, -1, 1, 21);
  tu_rand(w, 8, CMX_F32, -1, 1, 22);
  cmx_array x[100], y, o, d;
  TU_OK(tu_array(&y, w, CMX_F32, sy, 1));
  size_t n;
  for (int i = 0; i < 100; i++) {
    int64_t sx[2] = {i + 1, 8};
    TU_OK(tu_array(&x[i], v, CMX_F32, sx, 2));
    cmx_array in[2] = {x[i], y};
    TU_OK(cmx_compiled_call(c, in, 2, &o, 1, &n));
    cmx_array_free(o);
  }
  cr_assert_eq(cnt.calls, 100);
  /* rows 37..100 are the kept 64; 1..36 were dropped */
  int probe[] = {99, 36, 60, 0, 35, 0};
  int expect[] = {100, 100, 100, 101, 102, 102};
  for (int i = 0; i < 6; i++) {
    cmx_array in[2] = {x[probe[i]], y};
    TU_OK(cmx_compiled_call(c, in, 2, &o, 1, &n));
    cr_assert_eq(cnt.calls, expect[i], "probe %d (%d rows): traced %d times",
                 i, probe[i] + 1, cnt.calls);
    TU_OK(chain_fn(NULL, in, 2, &d, 1, &n));
    assert_same(o, d, "replayed after eviction");
    cmx_array_free(o);
    cmx_array_free(d);
  }
  for (int i = 0; i < 100; i++) cmx_array_free(x[i]);
  cmx_array_free(y);
  cmx_compiled_free(c);
}

Test(compile, mixed_graph_outputs_bitwise_as_direct) {
  size_t base = cmx_get_active_memory();
  int64_t sx[2] = {9, 13}, sw[2] = {13, 13};
  double xv[9 * 13], wv[13 * 13];
  tu_rand(xv, 9 * 13, CMX_F32, -1, 1, 21);
  tu_rand(wv, 13 * 13, CMX_F32, -1, 1, 22);
  cmx_array x, w;
  TU_OK(tu_array(&x, xv, CMX_F32, sx, 2));
  TU_OK(tu_array(&w, wv, CMX_F32, sw, 2));
  cmx_array in[2] = {x, w}, d[5], c1[5], c2[5];
  size_t nd, n1, n2;
  cmx_compiled c;
  TU_OK(cmx_compile(&c, mixed_fn, NULL, 0));
  TU_OK(mixed_fn(NULL, in, 2, d, 5, &nd));
  TU_OK(cmx_compiled_call(c, in, 2, c1, 5, &n1));
  cr_assert_eq(n1, 5);
  cr_assert_eq(c1[2], x, "an input returned as is is that input");
  /* A second replay on other data must not touch the first's results
   * (concatenate and pad write into buffers each replay owns). */
  double xv2[9 * 13];
  tu_rand(xv2, 9 * 13, CMX_F32, -1, 1, 23);
  cmx_array x2;
  TU_OK(tu_array(&x2, xv2, CMX_F32, sx, 2));
  cmx_array in2[2] = {x2, w};
  TU_OK(cmx_compiled_call(c, in2, 2, c2, 5, &n2));
  TU_OK(cmx_eval(c2, 5));
  TU_OK(cmx_eval(c1, 5));
  for (int k = 0; k < 5; k++) assert_same(c1[k], d[k], "mixed output");
  cr_assert_eq(c1[3], c2[3], "the constant is shared between calls");
  cmx_array d2[5];
  TU_OK(mixed_fn(NULL, in2, 2, d2, 5, &nd));
  for (int k = 0; k < 5; k++) assert_same(c2[k], d2[k], "second input");
  /* f64 check of the padded concatenation's corner and fill */
  float pd[19 * 15]; /* (9 + 9 + 1, 13 + 2) */
  read_f32(c1[1], pd);
  cr_assert_eq(pd[0], -1.5f);
  cr_assert_eq(pd[15 * 18 + 0], (float)xv[8 * 13 + 0]);
  cr_assert_eq(pd[15 * 18 + 14], -1.5f);
  for (int k = 0; k < 5; k++) {
    cmx_array_free(d[k]);
    cmx_array_free(d2[k]);
    cmx_array_free(c1[k]);
    cmx_array_free(c2[k]);
  }
  cmx_array_free(x);
  cmx_array_free(x2);
  cmx_array_free(w);
  cmx_compiled_free(c);
  cr_assert_eq(cmx_get_active_memory(), base, "leaked %zu bytes",
               cmx_get_active_memory() - base);
}

/* ---- errors ---- */
static int bad_shapes_fn(void *ctx, const cmx_array *in, size_t n_in,
                         cmx_array *out, size_t cap, size_t *n_out) {
  return cmx_add(&out[0], in[0], in[1], NULL);
}

static int evaluates_fn(void *ctx, const cmx_array *in, size_t n_in,
                        cmx_array *out, size_t cap, size_t *n_out) {
  cmx_array e;
  int rc = cmx_exp(&e, in[0], NULL);
  if (rc) return rc;
  rc = cmx_eval(&e, 1);
  if (rc) {
    cmx_array_free(e);
    return rc;
  }
  out[0] = e;
  *n_out = 1;
  return CMX_OK;
}

static int two_outputs_fn(void *ctx, const cmx_array *in, size_t n_in,
                          cmx_array *out, size_t cap, size_t *n_out) {
  if (cap < 2) return cmx_err(CMX_EINVAL, "two_outputs_fn: cap %zu", cap);
  TU_OK(cmx_exp(&out[0], in[0], NULL));
  TU_OK(cmx_neg(&out[1], in[0], NULL));
  *n_out = 2;
  return CMX_OK;
}

Test(compile, errors_come_back_as_statuses) {
  size_t base = cmx_get_active_memory();
  int64_t s1[1] = {3}, s2[1] = {5};
  double v[5] = {1, 2, 3, 4, 5};
  cmx_array a, b, o[2] = {NULL, NULL};
  TU_OK(tu_array(&a, v, CMX_F32, s1, 1));
  TU_OK(tu_array(&b, v, CMX_F32, s2, 1));
  cmx_array in[2] = {a, b};
  size_t n = 7, mid = cmx_get_active_memory();
  cmx_compiled c;
  TU_FAILS(CMX_EINVAL, "cmx_compile", cmx_compile(NULL, bad_shapes_fn, 0, 0));
  TU_FAILS(CMX_EINVAL, "cmx_compile", cmx_compile(&c, NULL, 0, 0));
  cr_assert_null(c);
  TU_FAILS(CMX_EINVAL, "cmx_compile", cmx_compile(&c, bad_shapes_fn, 0, 64));
  /* the function's error, with its own message */
  TU_OK(cmx_compile(&c, bad_shapes_fn, NULL, 0));
  TU_FAILS(CMX_ESHAPE, "cmx_add", cmx_compiled_call(c, in, 2, o, 1, &n));
  cr_assert_null(o[0]);
  cr_assert_eq(n, 0);
  cr_assert(strstr(cmx_last_error(), "(3,)") && strstr(cmx_last_error(), "(5,)"),
            "%s", cmx_last_error());
  TU_FAILS(CMX_EINVAL, "cmx_compiled_call",
           cmx_compiled_call(NULL, in, 2, o, 1, &n));
  TU_FAILS(CMX_EINVAL, "cmx_compiled_call",
           cmx_compiled_call(c, NULL, 2, o, 1, &n));
  TU_FAILS(CMX_EINVAL, "cmx_compiled_call",
           cmx_compiled_call(c, in, 2, o, 1, NULL));
  cmx_array bad[2] = {a, NULL};
  TU_FAILS(CMX_EINVAL, "cmx_compiled_call",
           cmx_compiled_call(c, bad, 2, o, 1, &n));
  cmx_compiled_free(c);
  /* use after free and double free */
  TU_FAILS(CMX_ESTATE, "cmx_compiled_call",
           cmx_compiled_call(c, in, 2, o, 1, &n));
  cmx_compiled_free(c);
  cr_assert(strstr(cmx_last_error(), "already freed"), "%s",
            cmx_last_error());
  cr_assert_eq(cmx_get_active_memory(), mid, "A leaked %zu", cmx_get_active_memory() - mid);
  /* evaluating an input while traced */
  TU_OK(cmx_compile(&c, evaluates_fn, NULL, 0));
  TU_FAILS(CMX_EINVAL, "evaluated input 0",
           cmx_compiled_call(c, in, 1, o, 1, &n));
  cmx_compiled_free(c);
  cr_assert_eq(cmx_get_active_memory(), mid, "B leaked %zu", cmx_get_active_memory() - mid);
  /* more outputs than cap */
  TU_OK(cmx_compile(&c, two_outputs_fn, NULL, 0));
  TU_FAILS(CMX_EINVAL, "cap", cmx_compiled_call(c, in, 1, o, 1, &n));
  TU_OK(cmx_compiled_call(c, in, 1, o, 2, &n));
  cr_assert_eq(n, 2);
  cmx_array_free(o[0]);
  cmx_array_free(o[1]);
  TU_FAILS(CMX_EINVAL, "cmx_compiled_call",
           cmx_compiled_call(c, in, 1, o, 1, &n));
  cr_assert_null(o[0]);
  cmx_compiled_free(c);
  cr_assert_eq(cmx_get_active_memory(), mid, "C leaked %zu", cmx_get_active_memory() - mid);
  /* the memory limit, reached by a replayed node */
  TU_OK(cmx_compile(&c, two_outputs_fn, NULL, 0));
  int64_t big[1] = {1 << 20};
  cmx_array g;
  TU_OK(cmx_full(&g, big, 1, 1.0, CMX_F32, NULL));
  TU_OK(cmx_eval(&g, 1));
  cmx_array gin[1] = {g};
  TU_OK(cmx_compiled_call(c, gin, 1, o, 2, &n)); /* traced here */
  cmx_array_free(o[0]);
  cmx_array_free(o[1]);
  size_t prev = cmx_set_memory_limit(cmx_get_active_memory() + 4096);
  TU_FAILS(CMX_ENOMEM, "memory limit", cmx_compiled_call(c, gin, 1, o, 2, &n));
  cr_assert_null(o[0]);
  cr_assert_null(o[1]);
  cmx_set_memory_limit(prev);
  cmx_array_free(g);
  cmx_compiled_free(c);
  cmx_array_free(a);
  cmx_array_free(b);
  cr_assert_eq(cmx_get_active_memory(), base, "leaked %zu bytes",
               cmx_get_active_memory() - base);
}

/* ---- eager mode, nesting, threads ---- */
static int nested_fn(void *ctx, const cmx_array *in, size_t n_in,
                     cmx_array *out, size_t cap, size_t *n_out) {
  cmx_compiled inner = ctx;
  cmx_array t;
  size_t n;
  int rc = cmx_compiled_call(inner, in, n_in, &t, 1, &n);
  if (rc) return rc;
  rc = cmx_sqrt(&out[0], t, NULL);
  cmx_array_free(t);
  if (!rc) *n_out = 1;
  return rc;
}

Test(compile, eager_mode_and_nested_compiled_functions) {
  int64_t sx[2] = {6, 10}, sy[1] = {10};
  double xv[60], yv[10];
  tu_rand(xv, 60, CMX_F32, -1, 1, 31);
  tu_rand(yv, 10, CMX_F32, -1, 1, 32);
  cmx_array x, y, d, o, dn, on, sq;
  TU_OK(tu_array(&x, xv, CMX_F32, sx, 2));
  TU_OK(tu_array(&y, yv, CMX_F32, sy, 1));
  cmx_array in[2] = {x, y};
  size_t n;
  cmx_compiled c, outer;
  TU_OK(cmx_compile(&c, chain_fn, NULL, 0));
  TU_OK(cmx_compile(&outer, nested_fn, c, 0));
  TU_OK(chain_fn(NULL, in, 2, &d, 1, &n));
  cmx_set_eager(true);
  TU_OK(cmx_compiled_call(c, in, 2, &o, 1, &n));
  cr_assert(cmx_array_is_evaluated(o), "eager replay evaluates at once");
  TU_OK(cmx_compiled_call(outer, in, 2, &on, 1, &n));
  cmx_set_eager(false);
  assert_same(o, d, "eager");
  TU_OK(cmx_sqrt(&sq, d, NULL));
  assert_same(on, sq, "nested");
  TU_OK(nested_fn(c, in, 2, &dn, 1, &n));
  assert_same(on, dn, "nested direct");
  cmx_array xs[] = {x, y, d, o, dn, on, sq};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) cmx_array_free(xs[i]);
  cmx_compiled_free(outer);
  cmx_compiled_free(c);
}

struct worker_arg {
  cmx_compiled c;
  cmx_array x, y, want;
  int ok;
};

static void *worker(void *p) {
  struct worker_arg *w = p;
  cmx_array in[2] = {w->x, w->y};
  w->ok = 1;
  for (int i = 0; i < 20 && w->ok; i++) {
    cmx_array o;
    size_t n;
    if (cmx_compiled_call(w->c, in, 2, &o, 1, &n)) {
      w->ok = 0;
      break;
    }
    size_t nb = cmx_array_nbytes(o);
    char *a = malloc(nb), *b = malloc(nb);
    w->ok = !cmx_array_read(o, a, nb) && !cmx_array_read(w->want, b, nb) &&
            !memcmp(a, b, nb);
    free(a);
    free(b);
    cmx_array_free(o);
  }
  return NULL;
}

Test(compile, four_threads_share_one_compiled_function) {
  int64_t sx[2] = {64, 300}, sy[1] = {300};
  double *xv = malloc(64 * 300 * sizeof *xv), yv[300];
  tu_rand(xv, 64 * 300, CMX_F32, -2, 2, 41);
  tu_rand(yv, 300, CMX_F32, -2, 2, 42);
  cmx_array x, y, d;
  TU_OK(tu_array(&x, xv, CMX_F32, sx, 2));
  TU_OK(tu_array(&y, yv, CMX_F32, sy, 1));
  cmx_array in[2] = {x, y};
  size_t n;
  TU_OK(chain_fn(NULL, in, 2, &d, 1, &n));
  TU_OK(cmx_eval(&d, 1));
  struct counter cnt = {0};
  cmx_compiled c;
  TU_OK(cmx_compile(&c, chain_fn, &cnt, 0));
  pthread_t th[4];
  struct worker_arg wa[4];
  for (int i = 0; i < 4; i++) {
    wa[i] = (struct worker_arg){c, x, y, d, 0};
    pthread_create(&th[i], NULL, worker, &wa[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    cr_assert(wa[i].ok, "thread %d got a different result", i);
  }
  cr_assert(cnt.calls >= 1 && cnt.calls <= 4, "traced %d times", cnt.calls);
  cmx_compiled_free(c);
  cmx_array_free(x);
  cmx_array_free(y);
  cmx_array_free(d);
  free(xv);
}

/* a0 + (a1 + (... + a7)), a_i a unary op of x: the program holds all 8
 * leaves at once at its deepest, every tile of the fused driver busy. */
static int deep_fn(void *ctx, const cmx_array *in, size_t n_in,
                   cmx_array *out, size_t cap, size_t *n_out) {
  int (*un[8])(cmx_array *, cmx_array, cmx_stream) = {
      cmx_exp, cmx_sin, cmx_cos, cmx_neg, cmx_tanh, cmx_sigmoid, cmx_square,
      cmx_abs};
  cmx_array leaf[8], acc = NULL;
  for (int i = 0; i < 8; i++) TU_OK(un[i](&leaf[i], in[0], NULL));
  acc = cmx_array_retain(leaf[7]);
  for (int i = 6; i >= 0; i--) {
    cmx_array t;
    TU_OK(cmx_add(&t, leaf[i], acc, NULL));
    cmx_array_free(acc);
    acc = t;
  }
  for (int i = 0; i < 8; i++) cmx_array_free(leaf[i]);
  out[0] = acc;
  *n_out = 1;
  return CMX_OK;
}

Test(compile, deep_tree_uses_every_tile) {
  int64_t sh[1] = {1531};
  double v[1531];
  tu_rand(v, 1531, CMX_F32, -2, 2, 51);
  cmx_array x, d, o;
  TU_OK(tu_array(&x, v, CMX_F32, sh, 1));
  size_t n;
  cmx_compiled c;
  TU_OK(cmx_compile(&c, deep_fn, NULL, 0));
  TU_OK(deep_fn(NULL, &x, 1, &d, 1, &n));
  TU_OK(cmx_compiled_call(c, &x, 1, &o, 1, &n));
  cr_assert_eq(o->op, CMX_OP_fused);
  cr_assert_eq(o->p.prog.nsteps, 15);
  int maxr = 0;
  for (int s = 0; s < o->p.prog.nsteps; s++)
    maxr = o->p.prog.step[s].r > maxr ? o->p.prog.step[s].r : maxr;
  cr_assert_eq(maxr, 7, "highest tile %d", maxr);
  assert_same(o, d, "deep tree");
  cmx_array_free(x);
  cmx_array_free(d);
  cmx_array_free(o);
  cmx_compiled_free(c);
}

/* Nodes made on the tracing thread's default stream replay on the
 * caller's default stream: a trace made with a thread default that was
 * freed since still replays. */
Test(compile, default_stream_is_the_callers) {
  int64_t sx[2] = {3, 5}, sy[1] = {5};
  double xv[15], yv[5];
  tu_rand(xv, 15, CMX_F32, -1, 1, 61);
  tu_rand(yv, 5, CMX_F32, -1, 1, 62);
  cmx_array x, y, d, o1, o2;
  TU_OK(tu_array(&x, xv, CMX_F32, sx, 2));
  TU_OK(tu_array(&y, yv, CMX_F32, sy, 1));
  cmx_array in[2] = {x, y};
  size_t n;
  cmx_stream s;
  cmx_stream_config cfg = {1, NULL, 0};
  TU_OK(cmx_stream_new(&s, &cfg));
  TU_OK(cmx_set_default_stream(s));
  cmx_compiled c;
  TU_OK(cmx_compile(&c, chain_fn, NULL, 0));
  TU_OK(cmx_compiled_call(c, in, 2, &o1, 1, &n));
  TU_OK(cmx_eval(&o1, 1));
  TU_OK(cmx_set_default_stream(NULL));
  cmx_stream_free(s);
  TU_OK(cmx_compiled_call(c, in, 2, &o2, 1, &n));
  TU_OK(chain_fn(NULL, in, 2, &d, 1, &n));
  assert_same(o1, d, "on the freed stream");
  assert_same(o2, d, "on the default stream");
  cmx_array xs[] = {x, y, d, o1, o2};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) cmx_array_free(xs[i]);
  cmx_compiled_free(c);
}

/* ---- random elementwise graphs: compiled (fused) vs direct, bitwise ---- */
struct rg {
  uint64_t seed;
  int nodes, nout;
};

/* Builds a random DAG over the inputs: unary and binary ops with and
 * without f32 kernels (comparisons, where, astype break chains), on
 * broadcasting shapes and mixed float dtypes; outputs a few of its nodes.
 * Deterministic in the seed, so the direct call builds the same graph. */
static int random_fn(void *ctx, const cmx_array *in, size_t n_in,
                     cmx_array *out, size_t cap, size_t *n_out) {
  const struct rg *g = ctx;
  uint64_t s = g->seed;
  cmx_array v[64];
  int nv = 0;
  for (size_t i = 0; i < n_in; i++) v[nv++] = cmx_array_retain(in[i]);
  int (*un[])(cmx_array *, cmx_array, cmx_stream) = {
      cmx_exp, cmx_tanh, cmx_neg, cmx_abs, cmx_sigmoid, cmx_square, cmx_sin,
      cmx_relu, cmx_silu, cmx_gelu};
  int (*bin[])(cmx_array *, cmx_array, cmx_array, cmx_stream) = {
      cmx_add, cmx_subtract, cmx_multiply, cmx_maximum, cmx_minimum,
      cmx_divide, cmx_silu_mul, cmx_greater};
  int nu = sizeof un / sizeof un[0], nb = sizeof bin / sizeof bin[0];
  for (int k = 0; k < g->nodes; k++) {
    int kind = (int)(tu_next(&s) % 10);
    cmx_array a = v[tu_next(&s) % (uint64_t)nv];
    cmx_array b = v[tu_next(&s) % (uint64_t)nv], r = NULL;
    int rc;
    if (kind < 4) {
      rc = un[tu_next(&s) % (uint64_t)nu](&r, a, NULL);
    } else if (kind < 9) {
      rc = bin[tu_next(&s) % (uint64_t)nb](&r, a, b, NULL);
    } else if (tu_next(&s) & 1) {
      cmx_dtype to[3] = {CMX_F32, CMX_F16, CMX_BF16};
      rc = cmx_astype(&r, a, to[tu_next(&s) % 3], NULL);
    } else {
      cmx_array c = NULL;
      rc = cmx_greater(&c, a, b, NULL);
      if (!rc) rc = cmx_where(&r, c, b, a, NULL);
      cmx_array_free(c);
    }
    if (rc == CMX_EDTYPE) continue; /* e.g. neg of a comparison's bool */
    if (rc) {
      for (int i = 0; i < nv; i++) cmx_array_free(v[i]);
      return rc;
    }
    if (nv == 64) cmx_array_free(v[--nv]);
    v[nv++] = r;
  }
  int no = g->nout < (int)cap ? g->nout : (int)cap;
  for (int k = 0; k < no; k++)
    out[k] = cmx_array_retain(v[nv - 1 - (int)(tu_next(&s) % 4)]);
  for (int i = 0; i < nv; i++) cmx_array_free(v[i]);
  *n_out = (size_t)no;
  return CMX_OK;
}

Test(compile, random_elementwise_graphs_bitwise_as_direct) {
  int64_t shapes[3][2] = {{19, 37}, {1, 37}, {19, 1}};
  cmx_dtype dts[3] = {CMX_F32, CMX_BF16, CMX_F16};
  int fused_seen = 0;
  for (uint64_t seed = 1; seed <= 1500; seed++) {
    uint64_t s = seed * 977;
    cmx_array in[3];
    for (int i = 0; i < 3; i++) {
      double v[19 * 37];
      int64_t n = shapes[i][0] * shapes[i][1];
      cmx_dtype dt = dts[(tu_next(&s) % 3 == 0) ? tu_next(&s) % 3 : 0];
      tu_rand(v, n, dt, -2, 2, seed * 3 + (uint64_t)i);
      TU_OK(tu_array(&in[i], v, dt, shapes[i], 2));
    }
    struct rg g = {seed, 6 + (int)(seed % 20), 1 + (int)(seed % 3)};
    cmx_array d[3] = {NULL}, c[3] = {NULL};
    size_t nd = 0, nc = 0;
    TU_OK(random_fn(&g, in, 3, d, 3, &nd));
    cmx_compiled cf;
    TU_OK(cmx_compile(&cf, random_fn, &g, 0));
    TU_OK(cmx_set_num_threads(1 + (int)(seed % 2)));
    TU_OK(cmx_compiled_call(cf, in, 3, c, 3, &nc));
    cr_assert_eq(nc, nd);
    for (size_t k = 0; k < nc; k++) {
      fused_seen += c[k]->op == CMX_OP_fused;
      char what[64];
      snprintf(what, sizeof what, "seed %llu output %zu",
               (unsigned long long)seed, k);
      assert_same(c[k], d[k], what);
    }
    for (size_t k = 0; k < nc; k++) {
      cmx_array_free(c[k]);
      cmx_array_free(d[k]);
    }
    for (int i = 0; i < 3; i++) cmx_array_free(in[i]);
    cmx_compiled_free(cf);
  }
  cr_assert(fused_seen >= 1000, "only %d outputs were fused nodes", fused_seen);
}

/* Inputs may be unevaluated: the replay hangs off their graphs. */
Test(compile, lazy_inputs) {
  int64_t sx[2] = {4, 9}, sy[1] = {9};
  double xv[36], yv[9];
  tu_rand(xv, 36, CMX_F32, -1, 1, 71);
  tu_rand(yv, 9, CMX_F32, -1, 1, 72);
  cmx_array x0, y0, x, y, d, o;
  TU_OK(tu_array(&x0, xv, CMX_F32, sx, 2));
  TU_OK(tu_array(&y0, yv, CMX_F32, sy, 1));
  TU_OK(cmx_exp(&x, x0, NULL));
  TU_OK(cmx_sin(&y, y0, NULL));
  cr_assert(!cmx_array_is_evaluated(x));
  cmx_array in[2] = {x, y};
  size_t n;
  cmx_compiled c;
  TU_OK(cmx_compile(&c, chain_fn, NULL, 0));
  TU_OK(cmx_compiled_call(c, in, 2, &o, 1, &n));
  cr_assert(!cmx_array_is_evaluated(x), "tracing evaluated an input");
  TU_OK(chain_fn(NULL, in, 2, &d, 1, &n));
  assert_same(o, d, "lazy inputs");
  cmx_array xs[] = {x0, y0, x, y, d, o};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) cmx_array_free(xs[i]);
  cmx_compiled_free(c);
}
