/* The GEMM deck of issue 3, cmx beside its peers in one run: cmx
 * (cmx_matmul + cmx_eval on evaluated inputs), BLIS (bli_sgemm, linked),
 * OpenBLAS (cblas_sgemm, dlopen'd; OPENBLAS_CORETYPE / _L2_SIZE were unset
 * at the start of main) and oneDNN (dnnl_sgemm, dlopen'd; OpenMP threads).
 * Each row: GFLOP/s (median of repeats over two passes, the peers in one
 * order and then the reverse, run_row), fraction of the same-run FMA peak
 * of that thread count, then cmx over the best peer (and over BLIS where a
 * dimension is <= 128), the roofline min(FMA peak, bytes of B / STREAM read)
 * for skinny rows and % of STREAM read for GEMV. A missing peer prints a
 * skip line. `--suite gemm` runs the whole deck, the default run a subset. */
#include <blis.h>
#include <cmx.h>
#include <dlfcn.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct gshape {
  int b, m, k, n; /* batch x (m, k) @ (k, n) */
  int subset;     /* also in the default (non-suite) run */
  int bt;         /* B held transposed, n x k (the usual weight layout;
                     cmx multiplies by its transposed view) */
};

static const struct gshape k_deck[] = {
    {1, 32, 32, 32, 0, 0},       {1, 64, 64, 64, 0, 0},
    {1, 128, 128, 128, 0, 0},    {1, 256, 256, 256, 0, 0},
    {1, 512, 512, 512, 0, 0},    {1, 1024, 1024, 1024, 0, 0},
    {1, 2048, 2048, 2048, 0, 0}, {1, 4096, 4096, 4096, 0, 0},
    {1, 1, 4096, 4096, 1, 0},    {1, 8, 4096, 4096, 1, 0},
    {1, 32, 4096, 11008, 0, 0},  {1, 128, 768, 3072, 1, 0},
    {1, 512, 1024, 1024, 0, 0},  {1, 2048, 4096, 128, 0, 0},
    {1, 4096, 128, 4096, 0, 0},  {64, 128, 64, 128, 1, 0},
    {1, 1, 4096, 4096, 0, 1},    {1, 8, 4096, 4096, 0, 1},
    {1, 32, 4096, 11008, 0, 1},
};
#define NDECK (int)(sizeof k_deck / sizeof k_deck[0])

enum { P_CMX, P_BLIS, P_OB, P_DNNL, NPEERS };
_Static_assert((int)P_CMX == BENCH_LIB_CMX && (int)P_BLIS == BENCH_LIB_BLIS &&
                   (int)P_OB == BENCH_LIB_OPENBLAS &&
                   (int)P_DNNL == BENCH_LIB_ONEDNN,
               "peer ids are bench_time_lib's");
static const char *k_peer[NPEERS] = {"cmx", "blis", "openblas", "onednn"};

typedef void (*cblas_sgemm_fn)(int, int, int, int, int, int, float,
                               const float *, int, const float *, int, float,
                               float *, int);
typedef int (*dnnl_sgemm_fn)(char, char, int64_t, int64_t, int64_t, float,
                             const float *, int64_t, const float *, int64_t,
                             float, float *, int64_t);
static struct {
  int tried;
  cblas_sgemm_fn ob_sgemm;
  void (*ob_threads)(int);
  dnnl_sgemm_fn dnnl_sgemm;
} g_lib;

static int in_suite(void) {
  return g_opts.suite && !strcmp(g_opts.suite, "gemm");
}

static void peers_load(void) {
  if (g_lib.tried)
    return;
  g_lib.tried = 1;
  bli_init();
  printf("gemm: BLIS %s, %s configuration\n", bli_info_get_version_str(),
         bli_arch_string(bli_arch_query_id()));
  if (g_opts.cmx_only)
    return;
  void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (h) {
    g_lib.ob_sgemm = (cblas_sgemm_fn)dlsym(h, "cblas_sgemm");
    g_lib.ob_threads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
    char *(*core)(void) = (char *(*)(void))dlsym(h, "openblas_get_corename");
    if (!g_lib.ob_sgemm || !g_lib.ob_threads)
      g_lib.ob_sgemm = NULL;
    else
      printf("gemm: OpenBLAS core %s\n", core ? core() : "?");
  }
  if (!g_lib.ob_sgemm)
    printf("gemm: OpenBLAS peer skipped: %s\n", h ? "no cblas_sgemm"
                                                  : dlerror());
  h = dlopen("libdnnl.so.3", RTLD_NOW | RTLD_LOCAL);
  if (!h)
    h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
  if (h)
    g_lib.dnnl_sgemm = (dnnl_sgemm_fn)dlsym(h, "dnnl_sgemm");
  if (g_lib.dnnl_sgemm) {
    struct ver { int major, minor, patch; } *(*v)(void) =
        (struct ver * (*)(void)) dlsym(h, "dnnl_version");
    if (v)
      printf("gemm: oneDNN %d.%d.%d\n", v()->major, v()->minor, v()->patch);
  } else {
    printf("gemm: oneDNN peer skipped: %s\n",
           h ? "no dnnl_sgemm" : "no libdnnl.so.3 or libdnnl.so.2");
  }
}

struct gdata {
  const struct gshape *s;
  float *a, *b, *c;
  cmx_array ca, cb;
};

/* One call of peer `who` over the whole (batched) problem; 0 or an error. */
static int call(int who, const struct gdata *d) {
  const struct gshape *s = d->s;
  size_t sa = (size_t)s->m * s->k, sb = (size_t)s->k * s->n,
         sc = (size_t)s->m * s->n;
  if (who == P_CMX) {
    cmx_array o;
    int st = cmx_matmul(&o, d->ca, d->cb, NULL);
    if (!st)
      st = cmx_eval(&o, 1);
    if (!st)
      cmx_array_free(o);
    return st;
  }
  float one = 1.0f, zero = 0.0f;
  for (int t = 0; t < s->b; t++) {
    const float *a = d->a + t * sa, *b = d->b + t * sb;
    float *c = d->c + t * sc;
    const int ldb = s->bt ? s->k : s->n;
    if (who == P_BLIS) /* B(p, j) at b[p rsb + j csb] */
      bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, s->m, s->n, s->k, &one,
                (float *)a, s->k, 1, (float *)b, s->bt ? 1 : s->n,
                s->bt ? s->k : 1, &zero, c, s->n, 1);
    else if (who == P_OB)
      g_lib.ob_sgemm(101, 111, s->bt ? 112 : 111, s->m, s->n, s->k, 1.0f, a,
                     s->k, b, ldb, 0.0f, c, s->n);
    else if (g_lib.dnnl_sgemm('N', s->bt ? 'T' : 'N', s->m, s->n, s->k, 1.0f,
                              a, s->k, b, ldb, 0.0f, c, s->n))
      return -1;
  }
  return 0;
}

struct peer_call {
  int who;
  const struct gdata *d;
};

static int peer_call(const void *ctx) {
  const struct peer_call *c = ctx;
  return call(c->who, c->d);
}

/* Median seconds of one call (0 on error, *st set), bench_time_calls's
 * policy, after bench_settle. */
static double time_peer(int who, const struct gdata *d, int nt, int *st) {
  struct peer_call c = {who, d};
  return bench_time_lib(who, nt, g_lib.ob_threads, peer_call, &c, st);
}

static void shape_str(char *buf, size_t n, const struct gshape *s) {
  if (s->b > 1)
    snprintf(buf, n, "%dx%dx%dx%d", s->b, s->m, s->k, s->n);
  else
    snprintf(buf, n, "%dx%dx%d%s", s->m, s->k, s->n, s->bt ? " B^T" : "");
}

static void label_of(char *buf, size_t n, const struct gshape *s, int nt) {
  char sh[32];
  shape_str(sh, sizeof sh, s);
  snprintf(buf, n, "gemm %s %dthr", sh, nt);
}

static int deck_has(const struct gshape *s) { return in_suite() || s->subset; }

int gemm_steps(void) {
  int steps = 0;
  char label[64];
  for (int i = 0; i < NDECK; i++)
    for (int ti = 0; ti < g_opts.nthreads && deck_has(&k_deck[i]); ti++) {
      label_of(label, sizeof label, &k_deck[i], g_opts.threads[ti]);
      steps += bench_wants(label);
    }
  return steps + gemm_bf16_steps() + gemm_typed_steps();
}

static struct bench_row base_row(const struct gshape *s, int nt) {
  struct bench_row r = {.threads = nt, .ratio = -1, .pass = -1};
  snprintf(r.family, sizeof r.family, "gemm");
  shape_str(r.shape, sizeof r.shape, s);
  return r;
}

static void add_x_row(const struct gshape *s, int nt, const char *name,
                      double x, double target, const char *note) {
  struct bench_row r = base_row(s, nt);
  snprintf(r.name, sizeof r.name, "%s", name);
  r.rate = x;
  r.unit = UNIT_X;
  snprintf(r.target, sizeof r.target, ">=%.2fx", target);
  r.pass = x >= target;
  snprintf(r.note, sizeof r.note, "%s", note);
  bench_add_row(&r);
}

/* Largest relative difference of cmx's C against the peer's in d->c. */
static double check_cmx(const struct gdata *d) {
  cmx_array o;
  const void *p;
  double worst = 0;
  if (cmx_matmul(&o, d->ca, d->cb, NULL) || cmx_eval(&o, 1))
    return INFINITY;
  if (cmx_array_data(&p, o)) {
    cmx_array_free(o);
    return INFINITY;
  }
  const float *x = p;
  size_t nc = (size_t)d->s->b * d->s->m * d->s->n;
  for (size_t i = 0; i < nc; i++) {
    double e = fabs((double)x[i] - d->c[i]) / (1.0 + fabs((double)d->c[i]));
    if (!(e <= worst))
      worst = e;
  }
  cmx_array_free(o);
  return worst;
}

/* Whether library w is timed in this run: loaded, and not left out by
 * --cmx-only. */
static int peer_on(int w) {
  if ((w == P_OB && !g_lib.ob_sgemm) || (w == P_DNNL && !g_lib.dnnl_sgemm))
    return 0;
  return !g_opts.cmx_only || w == P_CMX;
}

static void run_row(const struct gdata *d, int nt) {
  const struct gshape *s = d->s;
  double flops = 2.0 * s->b * (double)s->m * s->k * s->n;
  double t[NPEERS] = {0};
  int err[NPEERS] = {0};
  /* Two passes, the peers in one order and then in the reverse one, each
   * with half of every peer's time budget; each peer's median is over
   * the samples of both. A host whose speed drifts during the row (this
   * VM's moves 10-20% within seconds) then slows every peer about alike,
   * where one pass in a fixed order gave the last peer the other minutes:
   * ratios to the best peer moved 10% between runs. --reps N: one pass. */
  static double smp[NPEERS][128];
  int ns[NPEERS] = {0};
  const int passes = g_opts.exact_reps ? 1 : 2;
  const double budget = (g_opts.quick ? 0.05 : 0.3) / passes;
  for (int pass = 0; pass < passes; pass++)
    for (int u = 0; u < NPEERS; u++) {
      int w = pass ? NPEERS - 1 - u : u;
      if (!peer_on(w) || err[w])
        continue;
      struct peer_call c = {w, d};
      ns[w] += bench_time_lib_samples(w, nt, g_lib.ob_threads, peer_call, &c,
                                      &err[w], budget, smp[w] + ns[w],
                                      128 - ns[w]);
    }
  for (int w = 0; w < NPEERS; w++) {
    if (!peer_on(w))
      continue;
    t[w] = err[w] ? 0 : bench_median(smp[w], ns[w]);
    struct bench_row r = base_row(s, nt);
    snprintf(r.name, sizeof r.name, "%s f32", k_peer[w]);
    r.unit = UNIT_GFLOPS;
    r.median_s = t[w];
    if (err[w]) {
      r.pass = -2;
      snprintf(r.note, sizeof r.note, "%s",
               w == P_CMX ? cmx_last_error() : "peer call failed");
      bench_add_row(&r);
      continue;
    }
    r.rate = flops / t[w] / 1e9;
    double peak = nt <= BENCH_MAX_THREADS ? g_peaks.fma_f32[nt] : 0;
    if (peak > 0) {
      r.ratio = r.rate / peak;
      snprintf(r.ref, sizeof r.ref, "fma");
    }
    int big_square = s->m == s->k && s->k == s->n && s->m >= 1024;
    if (w == P_CMX && big_square && peak > 0) {
      double want = nt == 1 ? 0.92 : 0.88;
      snprintf(r.target, sizeof r.target, ">=%.0f%%", 100 * want);
      r.pass = r.ratio >= want;
    }
    if (w == P_BLIS && !err[P_CMX] && t[P_CMX] > 0) {
      /* d->c: BLIS's C (the reverse pass ends on it; one pass redoes it) */
      if (passes == 1 && call(P_BLIS, d))
        continue;
      double dev = check_cmx(d);
      if (dev > 1e-3)
        snprintf(r.note, sizeof r.note, "cmx differs from blis by %.2g", dev);
    }
    bench_add_row(&r);
  }
  if (err[P_CMX] || t[P_CMX] <= 0)
    return;
  int best = -1;
  for (int w = 1; w < NPEERS; w++)
    if (!err[w] && t[w] > 0 && (best < 0 || t[w] < t[best]))
      best = w;
  int small_dim = s->m <= 128 || s->k <= 128 || s->n <= 128;
  char note[96];
  if (best > 0) {
    int big_square = s->m == s->k && s->k == s->n && s->m >= 1024;
    snprintf(note, sizeof note, "best peer %s %.1f GFLOP/s", k_peer[best],
             flops / t[best] / 1e9);
    add_x_row(s, nt, "cmx/best peer", t[best] / t[P_CMX],
              big_square ? 0.98 : 1.0, note);
  }
  if (t[P_BLIS] > 0 && !err[P_BLIS] && (small_dim || s->b > 1)) {
    snprintf(note, sizeof note, "%s",
             s->b > 1 ? "vs one bli_sgemm per batch" : "dimension <= 128");
    add_x_row(s, nt, "cmx/blis", t[P_BLIS] / t[P_CMX], s->b > 1 ? 2.0 : 1.3,
              note);
  }
  double rd = nt <= BENCH_MAX_THREADS ? g_peaks.read[TIER_BIG][nt] : 0;
  const double rd0 = rd; /* start of run; rd: the host now (bench.h) */
  double bbytes = 4.0 * s->b * s->k * s->n, again = 0;
  if (rd > 0 && (s->m == 1 || (s->m <= 32 && s->k >= 1024)))
    again = bench_stream_again("read", nt, &rd);
  if (s->m == 1 && rd > 0) { /* GEMV: the matrix B streamed once */
    struct bench_row r = base_row(s, nt);
    snprintf(r.name, sizeof r.name, "cmx gemv");
    r.median_s = t[P_CMX];
    r.rate = bbytes / t[P_CMX] / 1e9;
    r.unit = UNIT_GBPS;
    r.ratio = r.rate / rd;
    snprintf(r.ref, sizeof r.ref, "read");
    snprintf(r.target, sizeof r.target, ">=90%%");
    r.pass = r.ratio >= 0.9;
    snprintf(r.note, sizeof r.note, "read now %.1f, start %.1f GB/s", again,
             rd0);
    bench_add_row(&r);
  } else if (s->m > 1 && s->m <= 32 && s->k >= 1024 && s->b == 1 &&
             rd > 0) {
    double peak = nt <= BENCH_MAX_THREADS ? g_peaks.fma_f32[nt] : 0;
    double roof = flops / (bbytes / (rd * 1e9)) / 1e9;
    if (peak > 0 && peak < roof)
      roof = peak;
    struct bench_row r = base_row(s, nt);
    snprintf(r.name, sizeof r.name, "cmx roofline");
    r.median_s = t[P_CMX];
    r.rate = flops / t[P_CMX] / 1e9;
    r.unit = UNIT_GFLOPS;
    r.ratio = r.rate / roof;
    snprintf(r.ref, sizeof r.ref, "roofline");
    snprintf(r.target, sizeof r.target, ">=75%%");
    r.pass = r.ratio >= 0.75;
    snprintf(r.note, sizeof r.note,
             "roofline %.1f GFLOP/s (B %.0f MB; read now %.0f, start %.0f "
             "GB/s)", roof, bbytes / 1e6, again, rd0);
    if (best > 0) {
      size_t len = strlen(r.note);
      snprintf(r.note + len, sizeof r.note - len, "; %s %.0f%%",
               k_peer[best], 100 * flops / t[best] / 1e9 / roof);
    }
    bench_add_row(&r);
  }
}

static void gdata_free(struct gdata *d) {
  cmx_array_free(d->ca);
  cmx_array_free(d->cb);
  free(d->a), free(d->b), free(d->c);
}

/* Random A and B of shape s, zero C, and evaluated cmx arrays of A and B
 * (with_peers 0: no C, and A and B freed once cmx holds them). Returns 1
 * when malloc failed, else a cmx status. */
static int gdata_make(struct gdata *d, const struct gshape *s,
                      int with_peers) {
  size_t na = (size_t)s->b * s->m * s->k, nb = (size_t)s->b * s->k * s->n,
         nc = (size_t)s->b * s->m * s->n;
  *d = (struct gdata){s, malloc(na * 4), malloc(nb * 4),
                      with_peers ? malloc(nc * 4) : NULL, NULL, NULL};
  if (!d->a || !d->b || (with_peers && !d->c))
    return 1;
  uint32_t seed = 2024;
  for (size_t i = 0; i < na; i++) {
    seed = seed * 1664525u + 1013904223u;
    d->a[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
  }
  for (size_t i = 0; i < nb; i++) {
    seed = seed * 1664525u + 1013904223u;
    d->b[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
  }
  if (with_peers)
    memset(d->c, 0, nc * 4);
  int64_t sha[3] = {s->b, s->m, s->k};
  int64_t shb[3] = {s->b, s->bt ? s->n : s->k, s->bt ? s->k : s->n};
  int off = s->b > 1 ? 0 : 1;
  int st = cmx_array_from_data(&d->ca, d->a, CMX_F32, sha + off, 3 - off);
  if (!st)
    st = cmx_array_from_data(&d->cb, d->b, CMX_F32, shb + off, 3 - off);
  if (!st && s->bt) { /* the (k, n) view of the n x k data */
    const int axes[3] = {0, 2, 1};
    cmx_array v;
    st = cmx_transpose(&v, d->cb, off ? NULL : axes, off ? 0 : 3, NULL);
    if (!st) {
      cmx_array_free(d->cb);
      d->cb = v;
    }
  }
  cmx_array both[2] = {d->ca, d->cb};
  if (!st)
    st = cmx_eval(both, 2);
  if (!with_peers) {
    free(d->a), free(d->b);
    d->a = d->b = NULL;
  }
  return st;
}

double gemm_cmx_time(int b, int m, int k, int n, int nt, int *st) {
  const struct gshape s = {b, m, k, n, 0, 0};
  struct gdata d;
  double t = 0;
  *st = gdata_make(&d, &s, 0);
  if (*st == 1)
    *st = CMX_ENOMEM;
  else if (!*st)
    t = time_peer(P_CMX, &d, nt, st);
  gdata_free(&d);
  return t;
}

static void run_shape(const struct gshape *s) {
  struct gdata d;
  int st = gdata_make(&d, s, 1);
  if (st == 1) {
    printf("gemm: cannot allocate for %dx%dx%d, skipped\n", s->m, s->k, s->n);
    gdata_free(&d);
    return;
  }
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    char label[64];
    label_of(label, sizeof label, s, g_opts.threads[ti]);
    if (!bench_step(label))
      continue;
    if (st) {
      struct bench_row r = base_row(s, g_opts.threads[ti]);
      snprintf(r.name, sizeof r.name, "cmx f32");
      r.pass = -2;
      snprintf(r.note, sizeof r.note, "%s", cmx_last_error());
      bench_add_row(&r);
      continue;
    }
    run_row(&d, g_opts.threads[ti]);
  }
  gdata_free(&d);
}

void gemm_run(void) {
  if (!gemm_steps())
    return;
  peers_load();
  for (int i = 0; i < NDECK; i++)
    if (deck_has(&k_deck[i]))
      run_shape(&k_deck[i]);
  gemm_bf16_run();
  gemm_typed_run();
}
