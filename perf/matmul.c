/* f32 square matmul (256, 1024) through cmx_matmul, beside BLIS bli_sgemm
 * (linked) and OpenBLAS cblas_sgemm (dlopen'd when present, with
 * OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for this process). GFLOP/s =
 * 2 n^3 / median time; ratio to the same-run FMA peak of that thread count;
 * the cmx row's note gives cmx / peer. A missing peer prints a skip line. */
#include <blis.h>
#include <cmx.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static const int k_sizes[] = {256, 1024};
#define NSIZES (int)(sizeof k_sizes / sizeof k_sizes[0])

typedef void (*cblas_sgemm_fn)(int, int, int, int, int, int, float,
                               const float *, int, const float *, int, float,
                               float *, int);
static struct {
  int tried;
  cblas_sgemm_fn sgemm;
  void (*set_threads)(int);
  char *(*corename)(void);
} g_ob;

static void openblas_load(void) {
  if (g_ob.tried)
    return;
  g_ob.tried = 1;
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv("OPENBLAS_L2_SIZE");
  void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    printf("matmul: OpenBLAS peer skipped: %s\n", dlerror());
    return;
  }
  g_ob.sgemm = (cblas_sgemm_fn)dlsym(h, "cblas_sgemm");
  g_ob.set_threads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
  g_ob.corename = (char *(*)(void))dlsym(h, "openblas_get_corename");
  if (!g_ob.sgemm || !g_ob.set_threads) {
    printf("matmul: OpenBLAS peer skipped: no cblas_sgemm\n");
    g_ob.sgemm = NULL;
  } else if (g_ob.corename) {
    printf("matmul: OpenBLAS core %s\n", g_ob.corename());
  }
}

static int reps_for(double est) {
  int reps = bench_reps(est);
  return reps > 200 ? 200 : reps;
}

static double time_blis(int n, int nt, float *a, float *b, float *c) {
  double v[256];
  float al = 1.0f, be = 0.0f;
  bli_thread_set_num_threads(nt);
  double est = 0;
  for (int w = 0; w < 2; w++) {
    double t0 = bench_now();
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, n, n, n, &al, a, n, 1, b, n,
              1, &be, c, n, 1);
    est = bench_now() - t0;
  }
  int reps = reps_for(est);
  for (int r = 0; r < reps; r++) {
    double t0 = bench_now();
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, n, n, n, &al, a, n, 1, b, n,
              1, &be, c, n, 1);
    v[r] = bench_now() - t0;
  }
  return bench_median(v, reps);
}

static double time_openblas(int n, int nt, float *a, float *b, float *c) {
  double v[256], est = 0;
  g_ob.set_threads(nt);
  for (int w = 0; w < 2; w++) {
    double t0 = bench_now();
    g_ob.sgemm(101, 111, 111, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    est = bench_now() - t0;
  }
  int reps = reps_for(est);
  for (int r = 0; r < reps; r++) {
    double t0 = bench_now();
    g_ob.sgemm(101, 111, 111, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    v[r] = bench_now() - t0;
  }
  g_ob.set_threads(1);
  return bench_median(v, reps);
}

/* Median seconds of cmx_matmul on fresh graphs; a cmx status. */
static int time_cmx(cmx_array a, cmx_array b, double *med) {
  double v[256], est = 0;
  cmx_array o;
  for (int w = 0; w < (g_opts.quick ? 1 : 2) && est < g_opts.row_budget_s;
       w++) {
    int st = cmx_matmul(&o, a, b, NULL);
    if (st)
      return st;
    double t0 = bench_now();
    st = cmx_eval(&o, 1);
    est = bench_now() - t0;
    cmx_array_free(o);
    if (st)
      return st;
  }
  int reps = reps_for(est);
  for (int r = 0; r < reps; r++) {
    int st = cmx_matmul(&o, a, b, NULL);
    if (st)
      return st;
    double t0 = bench_now();
    st = cmx_eval(&o, 1);
    v[r] = bench_now() - t0;
    cmx_array_free(o);
    if (st)
      return st;
  }
  *med = bench_median(v, reps);
  return CMX_OK;
}

static struct bench_row *add(const char *who, int n, int nt, double med) {
  struct bench_row r = {.threads = nt,
                        .median_s = med,
                        .unit = UNIT_GFLOPS,
                        .ratio = -1,
                        .pass = -1};
  snprintf(r.family, sizeof r.family, "matmul");
  snprintf(r.name, sizeof r.name, "%s f32", who);
  snprintf(r.shape, sizeof r.shape, "%d^3", n);
  snprintf(r.ref, sizeof r.ref, "fma");
  if (med > 0) {
    r.rate = 2.0 * n * (double)n * n / med / 1e9;
    double peak = nt <= BENCH_MAX_THREADS ? g_peaks.fma_f32[nt] : 0;
    if (peak > 0)
      r.ratio = r.rate / peak;
  }
  return bench_add_row(&r);
}

static void label_of(char *buf, size_t len, int n, int nt) {
  snprintf(buf, len, "matmul %d %d thread%s", n, nt, nt > 1 ? "s" : "");
}

int matmul_steps(void) {
  int steps = 0;
  char label[64];
  for (int si = 0; si < NSIZES; si++)
    for (int ti = 0; ti < g_opts.nthreads; ti++) {
      label_of(label, sizeof label, k_sizes[si], g_opts.threads[ti]);
      steps += bench_wants(label);
    }
  return steps;
}

static void run_size(int n) {
  size_t nn = (size_t)n * n;
  float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b);
  float *c = malloc(nn * sizeof *c);
  cmx_array ca = NULL, cb = NULL;
  int64_t shape[2] = {n, n};
  uint32_t seed = 12345;
  if (!a || !b || !c)
    goto done;
  for (size_t i = 0; i < nn; i++) {
    seed = seed * 1664525u + 1013904223u;
    a[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    b[i] = (float)((seed * 7u) >> 8) / 16777216.0f - 0.5f;
  }
  int st = cmx_array_from_data(&ca, a, CMX_F32, shape, 2);
  if (!st)
    st = cmx_array_from_data(&cb, b, CMX_F32, shape, 2);
  cmx_array both[2] = {ca, cb};
  if (!st)
    st = cmx_eval(both, 2);
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    int nt = g_opts.threads[ti];
    char label[64];
    label_of(label, sizeof label, n, nt);
    if (!bench_step(label))
      continue;
    double med = 0;
    int cst = st ? st : cmx_set_num_threads(nt);
    if (!cst)
      cst = time_cmx(ca, cb, &med);
    struct bench_row *cr = add("cmx", n, nt, cst ? 0 : med);
    if (cst && cr) {
      cr->pass = -2;
      snprintf(cr->note, sizeof cr->note, "%s: %s", cmx_status_string(cst),
               cmx_last_error());
    }
    double tb = time_blis(n, nt, a, b, c);
    add("blis", n, nt, tb);
    double to = g_ob.sgemm ? time_openblas(n, nt, a, b, c) : 0;
    if (to > 0)
      add("openblas", n, nt, to);
    if (cr && !cst) {
      int len = snprintf(cr->note, sizeof cr->note, "cmx/blis %.2fx", tb / med);
      if (to > 0)
        snprintf(cr->note + len, sizeof cr->note - (size_t)len,
                 ", cmx/openblas %.2fx", to / med);
    }
  }
done:
  cmx_array_free(ca);
  cmx_array_free(cb);
  free(a), free(b), free(c);
}

void matmul_run(void) {
  if (!matmul_steps())
    return;
  bli_init();
  printf("matmul: BLIS %s, %s configuration\n", bli_info_get_version_str(),
         bli_arch_string(bli_arch_query_id()));
  openblas_load();
  for (int si = 0; si < NSIZES; si++)
    run_size(k_sizes[si]);
}
