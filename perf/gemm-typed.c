/* The f64 and int8 rows of the GEMM deck (`--suite gemm`; `--filter f64`
 * or `--filter i8` runs only them), square 256, 1024, 2048 on each thread
 * count, and int8 decode, 1 x 4096 x 4096 with B row-major and with B
 * transposed (the usual int8 weight layout), rated also as B's bytes over
 * the same-run read bandwidth: cmx f64 (cmx_matmul + cmx_eval) beside BLIS bli_dgemm (linked)
 * and OpenBLAS cblas_dgemm (dlopen'd), as GFLOP/s and fraction of the
 * same-run f64 FMA peak, then cmx over the best peer (oneDNN has no dgemm:
 * a skip line); cmx int8 x int8 -> int32 as GOP/s (2 per multiply-add)
 * over the same-run tdpbssd peak where the level's i8 GEMM has AMX tiles,
 * else the vpdpbusd peak (without AVX512_VNNI: over 4x the f32 FMA peak,
 * said in the note) beside oneDNN's dnnl_gemm_s8s8s32
 * (dlopen'd, OpenMP threads) where present. Issue 3 sets no target here
 * but "correct": each cmx result is checked against a peer's (f64) or
 * exact int64 sums (int8) and a difference is named in the note. */
#include <blis.h>
#include <cmx.h>
#include <dlfcn.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/dispatch.h"
#include "bench.h"

static const int k_sizes[] = {256, 1024, 2048};
#define NSIZES (int)(sizeof k_sizes / sizeof k_sizes[0])

typedef void (*cblas_dgemm_fn)(int, int, int, int, int, int, double,
                               const double *, int, const double *, int,
                               double, double *, int);
/* oneDNN's row-major dnnl_gemm_s8s8s32 (v1.x to v3.x):
 * C = alpha (op(A) - ao)(op(B) - bo) + beta C + co, offsetc 'F': one co. */
typedef int (*dnnl_s8_fn)(char, char, char, int64_t, int64_t, int64_t, float,
                          const int8_t *, int64_t, int8_t, const int8_t *,
                          int64_t, int8_t, float, int32_t *, int64_t,
                          const int32_t *);
static struct {
  int tried;
  cblas_dgemm_fn ob_dgemm;
  void (*ob_threads)(int);
  dnnl_s8_fn dnnl_s8;
} g_lib;

enum { W_CMX, W_BLIS, W_OB, W_DNNL };
_Static_assert((int)W_CMX == BENCH_LIB_CMX && (int)W_BLIS == BENCH_LIB_BLIS &&
                   (int)W_OB == BENCH_LIB_OPENBLAS &&
                   (int)W_DNNL == BENCH_LIB_ONEDNN,
               "peer ids are bench_time_lib's");
static const char *k_who[] = {"cmx", "blis", "openblas", "onednn"};

/* The int8 decode rows: M x K x N, B transposed or not. */
static const struct { int m, k, n, bt; } k_decode[] = {{1, 4096, 4096, 0},
                                                       {1, 4096, 4096, 1}};
#define NDECODE (int)(sizeof k_decode / sizeof k_decode[0])

static void label_of(char *buf, size_t n, const char *dt, int m, int k,
                     int nn, int bt, int nt) {
  snprintf(buf, n, "gemm %s %dx%dx%d%s %dthr", dt, m, k, nn, bt ? " B^T" : "",
           nt);
}

int gemm_typed_steps(void) {
  if (!g_opts.suite || strcmp(g_opts.suite, "gemm"))
    return 0;
  int steps = 0;
  char label[64];
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    const int nt = g_opts.threads[ti];
    for (int i = 0; i < NSIZES; i++) {
      const int s = k_sizes[i];
      label_of(label, sizeof label, "f64", s, s, s, 0, nt);
      steps += bench_wants(label);
      label_of(label, sizeof label, "i8", s, s, s, 0, nt);
      steps += bench_wants(label);
    }
    for (int i = 0; i < NDECODE; i++) {
      label_of(label, sizeof label, "i8", k_decode[i].m, k_decode[i].k,
               k_decode[i].n, k_decode[i].bt, nt);
      steps += bench_wants(label);
    }
  }
  return steps;
}

static void peers_load(void) {
  if (g_lib.tried)
    return;
  g_lib.tried = 1;
  bli_init();
  if (g_opts.cmx_only)
    return;
  void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (h) {
    g_lib.ob_dgemm = (cblas_dgemm_fn)dlsym(h, "cblas_dgemm");
    g_lib.ob_threads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
    if (!g_lib.ob_threads)
      g_lib.ob_dgemm = NULL;
  }
  if (!g_lib.ob_dgemm)
    printf("gemm f64: OpenBLAS peer skipped: %s\n",
           h ? "no cblas_dgemm" : "no libopenblas.so.0");
  printf("gemm f64: oneDNN peer skipped: oneDNN has no f64 GEMM\n");
  h = dlopen("libdnnl.so.3", RTLD_NOW | RTLD_LOCAL);
  if (!h)
    h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
  if (h)
    g_lib.dnnl_s8 = (dnnl_s8_fn)dlsym(h, "dnnl_gemm_s8s8s32");
  if (!g_lib.dnnl_s8)
    printf("gemm i8: oneDNN peer skipped: %s\n",
           h ? "no dnnl_gemm_s8s8s32" : "no libdnnl.so.3 or libdnnl.so.2");
}

struct tdata {
  int m, k, n;         /* (m, k) @ (k, n) */
  int bt;              /* B held transposed: n x k row-major (cmx: a view) */
  int i8;              /* 0: f64 */
  void *a, *b, *c;     /* host A, B and a peer's C (row-major m x n) */
  cmx_array ca, cb;
};

static int call(int who, const struct tdata *d) {
  const int s = d->m; /* f64: square */
  if (who == W_CMX) {
    cmx_array o;
    int st = cmx_matmul(&o, d->ca, d->cb, NULL);
    if (!st)
      st = cmx_eval(&o, 1);
    if (!st)
      cmx_array_free(o);
    return st;
  }
  if (d->i8) {
    const int32_t co = 0;
    return g_lib.dnnl_s8('N', d->bt ? 'T' : 'N', 'F', d->m, d->n, d->k, 1.0f,
                         d->a, d->k, 0, d->b, d->bt ? d->k : d->n, 0, 0.0f,
                         d->c, d->n, &co)
               ? -1
               : 0;
  }
  double one = 1.0, zero = 0.0;
  if (who == W_BLIS)
    bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, s, s, s, &one, d->a, s, 1,
              d->b, s, 1, &zero, d->c, s, 1);
  else
    g_lib.ob_dgemm(101, 111, 111, s, s, s, 1.0, d->a, s, d->b, s, 0.0, d->c,
                   s);
  return 0;
}

struct who_call {
  int who;
  const struct tdata *d;
};

static int who_call(const void *ctx) {
  const struct who_call *c = ctx;
  return call(c->who, c->d);
}

/* Median seconds of one call (0 and *st on error): bench_time_calls,
 * after bench_settle (the ids are gemm.c's: cmx, BLIS, OpenBLAS, oneDNN). */
static double time_who(int who, const struct tdata *d, int nt, int *st) {
  struct who_call c = {who, d};
  return bench_time_lib(who, nt, g_lib.ob_threads, who_call, &c, st);
}

static struct bench_row row_of(const struct tdata *d, int nt,
                               const char *name) {
  struct bench_row r = {.threads = nt, .ratio = -1, .pass = -1};
  snprintf(r.family, sizeof r.family, "gemm");
  snprintf(r.name, sizeof r.name, "%s", name);
  snprintf(r.shape, sizeof r.shape, "%dx%dx%d", d->m, d->k, d->n);
  return r;
}

/* One rate row: ops / secs against peak (0: no ratio); st != 0: an error
 * row (who: cmx's message, else "peer call failed"). */
static void add_rate(const struct tdata *d, int nt, int who, double secs,
                     int st, double peak, const char *ref, const char *note) {
  char name[40];
  snprintf(name, sizeof name, "%s %s", k_who[who], d->i8 ? "i8" : "f64");
  struct bench_row r = row_of(d, nt, name);
  r.unit = d->i8 ? UNIT_GOPS : UNIT_GFLOPS;
  r.median_s = secs;
  if (st) {
    r.pass = -2;
    snprintf(r.note, sizeof r.note, "%s",
             who == W_CMX ? cmx_last_error() : "peer call failed");
    bench_add_row(&r);
    return;
  }
  r.rate = 2.0 * d->m * (double)d->k * d->n / secs / 1e9;
  if (peak > 0) {
    r.ratio = r.rate / peak;
    snprintf(r.ref, sizeof r.ref, "%s", ref);
  }
  snprintf(r.note, sizeof r.note, "%s", note ? note : "");
  bench_add_row(&r);
}

/* cmx's C (on the thread count last set) against the last peer's in d->c,
 * largest |difference| / (1 + |peer|); or, for int8 with peer 0, the
 * largest |difference| from exact int64 sums at 4096 sampled points. */
static double check(const struct tdata *d, int peer) {
  cmx_array o;
  const void *p;
  if (cmx_matmul(&o, d->ca, d->cb, NULL) || cmx_eval(&o, 1))
    return INFINITY;
  double worst = INFINITY;
  const size_t M = (size_t)d->m, K = (size_t)d->k, N = (size_t)d->n;
  const size_t n = M * N;
  if (!cmx_array_data(&p, o)) {
    worst = 0;
    if (d->i8 && !peer) {
      const int8_t *a = d->a, *b = d->b;
      uint32_t seed = 99;
      for (int q = 0; q < 4096; q++) {
        seed = seed * 1664525u + 1013904223u;
        size_t i = (seed >> 8) % M, j = (seed >> 4) % N;
        int64_t want = 0;
        for (size_t k = 0; k < K; k++)
          want += (int64_t)a[i * K + k] * b[d->bt ? j * K + k : k * N + j];
        /* int32 sums wrap modulo 2^32, as cmx's and oneDNN's do */
        int32_t w32 = (int32_t)(uint32_t)(uint64_t)want;
        double e = fabs((double)((const int32_t *)p)[i * N + j] - w32);
        worst = e > worst ? e : worst;
      }
    } else {
      for (size_t i = 0; i < n; i++) {
        double x = d->i8 ? ((const int32_t *)p)[i] : ((const double *)p)[i];
        double y = d->i8 ? ((const int32_t *)d->c)[i]
                         : ((const double *)d->c)[i];
        double e = fabs(x - y) / (1.0 + fabs(y));
        if (!(e <= worst))
          worst = e;
      }
    }
  }
  cmx_array_free(o);
  return worst;
}

static void run_f64(const struct tdata *d, int nt) {
  double flops = 2.0 * d->m * (double)d->k * d->n, t[3] = {0};
  double peak = nt <= BENCH_MAX_THREADS ? g_peaks.fma_f64[nt] : 0;
  int err[3] = {0}, ran[3] = {0}, best = 0;
  for (int w = W_CMX; w <= W_OB; w++) {
    if ((w == W_OB && !g_lib.ob_dgemm) || (g_opts.cmx_only && w != W_CMX))
      continue;
    ran[w] = 1;
    t[w] = time_who(w, d, nt, &err[w]);
    if (w != W_CMX && !err[w] && t[w] > 0 && (!best || t[w] < t[best]))
      best = w;
  }
  /* d->c: the last peer's C */
  int last = ran[W_OB] && !err[W_OB] ? W_OB : W_BLIS;
  char note[96] = "";
  if (!err[W_CMX] && ran[last] && !err[last]) {
    double dev = check(d, 1);
    snprintf(note, sizeof note, "%s %s: rel. diff %.1g",
             dev > 1e-12 ? "DIFFERS from" : "matches", k_who[last], dev);
  }
  for (int w = W_CMX; w <= W_OB; w++)
    if (ran[w])
      add_rate(d, nt, w, t[w], err[w], peak, "fma f64",
               w == W_CMX ? note : "");
  if (err[W_CMX] || t[W_CMX] <= 0 || !best)
    return;
  struct bench_row r = row_of(d, nt, "cmx/best peer f64");
  r.unit = UNIT_X;
  r.rate = t[best] / t[W_CMX];
  snprintf(r.note, sizeof r.note, "best peer %s %.1f GFLOP/s", k_who[best],
           flops / t[best] / 1e9);
  bench_add_row(&r);
}

static void run_i8(const struct tdata *d, int nt) {
  double ops = 2.0 * d->m * (double)d->k * d->n, peak = 0;
  const char *ref = "vpdpbusd";
  /* The level's i8 GEMM runs on AMX tiles where the table has them (at
   * avx512 and avx512bf16, sizes over its threshold): against tdpbssd. */
  int amx = cmx_dispatch()->gemm_i8.amx != NULL;
  /* decode (m <= 4) is rated by its B stream below, not by a peak */
  if (nt <= BENCH_MAX_THREADS && d->m > 4) {
    peak = g_peaks.vnni[nt];
    if (amx && g_peaks.amx8[nt] > 0)
      peak = g_peaks.amx8[nt], ref = "tdpbssd";
    if (peak <= 0) {
      peak = 4 * g_peaks.fma_f32[nt];
      ref = "4x fma f32";
    }
  }
  int sc, sd = 0, dnnl = g_lib.dnnl_s8 && !g_opts.cmx_only;
  double tc = time_who(W_CMX, d, nt, &sc), td = 0;
  if (dnnl)
    td = time_who(W_DNNL, d, nt, &sd);
  char note[96];
  snprintf(note, sizeof note, "level %s", cmx_isa());
  if (!sc) {
    double dev = check(d, 0);
    size_t l = strlen(note);
    snprintf(note + l, sizeof note - l, "; %s",
             dev != 0 ? "WRONG at sampled points" : "exact at 4096 points");
    if (dnnl && !sd) {
      l = strlen(note);
      snprintf(note + l, sizeof note - l, ", %s onednn",
               check(d, 1) == 0 ? "=" : "DIFFERS from");
    }
  }
  if (peak > 0 && !strcmp(ref, "4x fma f32")) {
    size_t l = strlen(note);
    snprintf(note + l, sizeof note - l, "; no VNNI: vs 4x f32 FMA peak");
  }
  add_rate(d, nt, W_CMX, tc, sc, peak, ref, note);
  double rd = nt <= BENCH_MAX_THREADS ? g_peaks.read[TIER_BIG][nt] : 0;
  if (d->m <= 4 && !sc && tc > 0 && rd > 0) {
    /* decode: B streamed once; its bytes over the read bandwidth now */
    const double rd0 = rd, again = bench_stream_again("read", nt, &rd);
    struct bench_row r = row_of(d, nt, d->bt ? "cmx i8 B^T stream"
                                              : "cmx i8 B stream");
    r.median_s = tc;
    r.rate = (double)d->k * d->n / tc / 1e9;
    r.unit = UNIT_GBPS;
    r.ratio = r.rate / rd;
    snprintf(r.ref, sizeof r.ref, "read");
    snprintf(r.note, sizeof r.note, "read now %.1f, start %.1f GB/s", again,
             rd0);
    bench_add_row(&r);
  }
  if (!dnnl)
    return;
  add_rate(d, nt, W_DNNL, td, sd, peak, ref, "dnnl_gemm_s8s8s32");
  if (sc || sd || tc <= 0 || td <= 0)
    return;
  struct bench_row r = row_of(d, nt, "cmx/onednn i8");
  r.unit = UNIT_X;
  r.rate = td / tc;
  snprintf(r.note, sizeof r.note, "onednn %.1f GOP/s", ops / td / 1e9);
  bench_add_row(&r);
}

/* (m, k) @ (k, n), B held as n x k when bt (cmx multiplies by its
 * transposed view); f64 only square and not bt. */
static void run_size(int m, int k, int n, int bt, int i8) {
  struct tdata d = {.m = m, .k = k, .n = n, .bt = bt, .i8 = i8};
  size_t na = (size_t)m * k, nb = (size_t)k * n, esz = i8 ? 1 : 8;
  d.a = malloc(na * esz);
  d.b = malloc(nb * esz);
  d.c = malloc((size_t)m * n * (i8 ? 4 : 8));
  int st = d.a && d.b && d.c ? 0 : CMX_ENOMEM;
  uint32_t seed = i8 ? 31 : 2024;
  for (size_t i = 0; !st && i < na + nb; i++) {
    seed = seed * 1664525u + 1013904223u;
    void *base = i < na ? d.a : d.b;
    size_t at = i < na ? i : i - na;
    if (i8) /* the whole int8 range, -128 included */
      ((int8_t *)base)[at] = (int8_t)(seed >> 24);
    else
      ((double *)base)[at] = (double)(seed >> 8) / 16777216.0 - 0.5;
  }
  int64_t sa[2] = {m, k}, sb[2] = {bt ? n : k, bt ? k : n};
  cmx_dtype dt = i8 ? CMX_I8 : CMX_F64;
  if (!st)
    st = cmx_array_from_data(&d.ca, d.a, dt, sa, 2);
  if (!st)
    st = cmx_array_from_data(&d.cb, d.b, dt, sb, 2);
  if (!st && bt) {
    cmx_array v;
    st = cmx_transpose(&v, d.cb, NULL, 0, NULL);
    if (!st) {
      cmx_array_free(d.cb);
      d.cb = v;
    }
  }
  cmx_array both[2] = {d.ca, d.cb};
  if (!st)
    st = cmx_eval(both, 2);
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    int nt = g_opts.threads[ti];
    char label[64];
    label_of(label, sizeof label, i8 ? "i8" : "f64", m, k, n, bt, nt);
    if (!bench_step(label))
      continue;
    if (st)
      add_rate(&d, nt, W_CMX, 0, st, 0, "", NULL);
    else if (i8)
      run_i8(&d, nt);
    else
      run_f64(&d, nt);
  }
  cmx_array_free(d.ca), cmx_array_free(d.cb);
  free(d.a), free(d.b), free(d.c);
}

void gemm_typed_run(void) {
  if (!gemm_typed_steps())
    return;
  peers_load();
  if (g_peaks.vnni[1] <= 0)
    printf("gemm i8: no vpdpbusd peak (no AVX512_VNNI or --no-peaks): "
           "ratios to 4x the f32 FMA peak\n");
  for (int i = 0; i < NSIZES; i++)
    for (int i8 = 0; i8 < 2; i8++)
      run_size(k_sizes[i], k_sizes[i], k_sizes[i], 0, i8);
  for (int i = 0; i < NDECODE; i++)
    run_size(k_decode[i].m, k_decode[i].k, k_decode[i].n, k_decode[i].bt, 1);
}
