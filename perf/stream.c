/* STREAM-style bandwidth rows: copy and triad, each also with non-temporal
 * stores, and a read-only sum over f32 arrays, on 1 thread and each team size,
 * at the deck's tiers (4K and 64K elements per array, timed over many passes
 * inside one parallel region; and --mem-mb in total over three arrays, one
 * pass per region). GB/s counts bytes read + written once each. The rate
 * and the peak later rows divide by are the best repeat (STREAM's rule: on
 * this shared machine one preempted team thread spoils a median); the
 * note gives the median. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static void copy_ref(float *restrict dst, const float *restrict src, size_t n) {
  memcpy(dst, src, n * sizeof *dst);
}

static void triad_ref(float *restrict a, const float *restrict b,
                      const float *restrict c, float s, size_t n) {
  for (size_t i = 0; i < n; i++)
    a[i] = b[i] + s * c[i];
}

static float read_ref(const float *restrict a, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (size_t i = 0; i < n; i += 4) {
    s0 += a[i];
    s1 += a[i + 1];
    s2 += a[i + 2];
    s3 += a[i + 3];
  }
  return s0 + s1 + s2 + s3;
}

static struct bench_stream_kernels g_k;

static void pick_kernels(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    bench_stream_kernels__avx512(&g_k);
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    bench_stream_kernels__avx2(&g_k);
  } else {
    g_k = (struct bench_stream_kernels){"generic", copy_ref,  copy_ref,
                                        triad_ref, triad_ref, read_ref};
  }
}

enum skern { K_COPY, K_COPY_NT, K_TRIAD, K_TRIAD_NT, K_READ, K_COUNT };
static const char *k_names[K_COUNT] = {"copy", "copy nt", "triad", "triad nt",
                                       "read"};
static const double k_bytes[K_COUNT] = {8, 8, 12, 12, 4}; /* per element */

static float *g_a, *g_b, *g_c;
static size_t g_big; /* elements per array once stream_run has made them */
static volatile float g_sink;

/* This thread's part of [0, n): 16-element (64-byte) aligned pieces. */
static void chunk(size_t n, int tid, int nt, size_t *lo, size_t *len) {
  size_t blocks = n / 16, per = blocks / (size_t)nt, rem = blocks % (size_t)nt;
  size_t b0 = (size_t)tid * per + ((size_t)tid < rem ? (size_t)tid : rem);
  *lo = b0 * 16;
  *len = (per + ((size_t)tid < rem)) * 16;
}

static float run_kernel(enum skern k, size_t lo, size_t len) {
  switch (k) {
  case K_COPY:
    g_k.copy(g_c + lo, g_a + lo, len);
    return 0;
  case K_COPY_NT:
    g_k.copy_nt(g_c + lo, g_a + lo, len);
    return 0;
  case K_TRIAD:
    g_k.triad(g_a + lo, g_b + lo, g_c + lo, 3.0f, len);
    return 0;
  case K_TRIAD_NT:
    g_k.triad_nt(g_a + lo, g_b + lo, g_c + lo, 3.0f, len);
    return 0;
  default:
    return g_k.read(g_a + lo, len);
  }
}

/* Seconds for `passes` passes of kernel k over n elements on nt threads,
 * timed between two barriers of one region. */
static double time_passes(enum skern k, size_t n, int nt, int passes) {
  double t0 = 0, t1 = 0;
  float sink = 0;
#pragma omp parallel num_threads(nt) reduction(+ : sink)
  {
    size_t lo, len;
    chunk(n, omp_get_thread_num(), omp_get_num_threads(), &lo, &len);
    sink += run_kernel(k, lo, len); /* warm this thread's part */
#pragma omp barrier
#pragma omp master
    t0 = bench_now();
    for (int p = 0; p < passes; p++)
      sink += run_kernel(k, lo, len);
#pragma omp barrier
#pragma omp master
    t1 = bench_now();
  }
  g_sink += sink;
  return t1 - t0;
}

/* Seconds of one pass over n elements, fork and join included (STREAM). */
static double time_one(enum skern k, size_t n, int nt) {
  float sink = 0;
  double t0 = bench_now();
#pragma omp parallel num_threads(nt) reduction(+ : sink)
  {
    size_t lo, len;
    chunk(n, omp_get_thread_num(), omp_get_num_threads(), &lo, &len);
    sink += run_kernel(k, lo, len);
  }
  double t = bench_now() - t0;
  g_sink += sink;
  return t;
}

static void add_row(enum skern k, const char *shape, int nt, double med,
                    double best, size_t n, int reps) {
  struct bench_row r = {.threads = nt,
                        .median_s = med,
                        .rate = k_bytes[k] * (double)n / best / 1e9,
                        .unit = UNIT_GBPS,
                        .ratio = -1,
                        .pass = -1};
  snprintf(r.family, sizeof r.family, "stream");
  snprintf(r.name, sizeof r.name, "%s %s", k_names[k], g_k.isa);
  snprintf(r.shape, sizeof r.shape, "%s", shape);
  snprintf(r.note, sizeof r.note, "best of %d; median %.1f GB/s", reps,
           k_bytes[k] * (double)n / med / 1e9);
  bench_add_row(&r);
}

static void set_peak(enum skern k, enum bench_tier t, int nt, double gbps) {
  if (nt > BENCH_MAX_THREADS)
    return;
  if (k == K_COPY)
    g_peaks.copy[t][nt] = gbps;
  else if (k == K_TRIAD)
    g_peaks.triad[t][nt] = gbps;
  else if (k == K_COPY_NT)
    g_peaks.copy_nt[nt] = gbps;
  else if (k == K_TRIAD_NT)
    g_peaks.triad_nt[nt] = gbps;
  else
    g_peaks.read[t][nt] = gbps;
}

/* --suite gemm needs only the big-tier read (the skinny-GEMM roofline),
 * --suite nn every kernel of the big tier (its arrays are all far beyond
 * L3); --suite compile every tier (it has L2-sized rows). */
static int read_only(void) {
  return g_opts.suite != NULL && !strcmp(g_opts.suite, "gemm");
}
static int big_only(void) {
  return g_opts.suite != NULL && strcmp(g_opts.suite, "compile");
}

int stream_steps(void) {
  return (big_only() ? 1 : TIER_COUNT) * g_opts.nthreads;
}

void stream_run(void) {
  pick_kernels();
  size_t big = (size_t)g_opts.mem_mb * (1u << 20) / 3 / sizeof(float);
  big -= big % 16;
  size_t bytes = big * sizeof(float);
  g_a = aligned_alloc(64, bytes);
  g_b = aligned_alloc(64, bytes);
  g_c = aligned_alloc(64, bytes);
  if (!g_a || !g_b || !g_c) {
    printf("stream: cannot allocate 3 x %zu bytes, STREAM skipped\n", bytes);
    free(g_a), free(g_b), free(g_c);
    return;
  }
  int maxt = 1;
  for (int i = 0; i < g_opts.nthreads; i++)
    if (g_opts.threads[i] > maxt)
      maxt = g_opts.threads[i];
      /* First touch by the widest team, in the pieces it will use. */
#pragma omp parallel num_threads(maxt)
  {
    size_t lo, len;
    chunk(big, omp_get_thread_num(), omp_get_num_threads(), &lo, &len);
    for (size_t i = lo; i < lo + len; i++) {
      g_a[i] = 1.0f;
      g_b[i] = 2.0f;
      g_c[i] = 0.5f;
    }
  }
  int reps = g_opts.quick ? 5 : 11;
  double v[32], best;
  static const size_t tier_n[2] = {4096, 65536};
  for (int tier = big_only() ? TIER_BIG : 0; tier < TIER_COUNT; tier++) {
    size_t n = tier == TIER_BIG ? big : tier_n[tier];
    char shape[24];
    if (tier == TIER_BIG)
      snprintf(shape, sizeof shape, "3x%zuM", n >> 20);
    else
      snprintf(shape, sizeof shape, "%zuK", n >> 10);
    for (int ti = 0; ti < g_opts.nthreads; ti++) {
      int nt = g_opts.threads[ti];
      char label[64];
      snprintf(label, sizeof label, "stream %s %d thread%s", shape, nt,
               nt > 1 ? "s" : "");
      bench_progress(label);
      for (int k = 0; k < K_COUNT; k++) {
        if ((k == K_COPY_NT || k == K_TRIAD_NT) && tier != TIER_BIG)
          continue;
        if (read_only() && k != K_READ)
          continue;
        /* In-cache tiers: about 2 ms of passes per sample. */
        int passes = (int)(2e-3 * 50e9 / (k_bytes[k] * (double)n)) + 1;
        best = 1e30;
        for (int r = 0; r < reps; r++) {
          v[r] = tier == TIER_BIG ? time_one(k, n, nt)
                                  : time_passes(k, n, nt, passes) / passes;
          if (v[r] < best)
            best = v[r];
        }
        double med = bench_median(v, reps);
        add_row(k, shape, nt, med, best, n, reps);
        set_peak(k, tier, nt, k_bytes[k] * (double)n / best / 1e9);
      }
    }
  }
  g_big = big; /* the arrays stay for bench_stream_again */
}

double bench_stream_again(const char *kind, int nt, double *rate) {
  if (!g_big || nt < 1)
    return 0;
  enum skern k = !strcmp(kind, "triad") ? K_TRIAD
                 : !strcmp(kind, "read") ? K_READ
                                         : K_COPY;
  double best = 1e30;
  for (int r = 0; r < (g_opts.quick ? 5 : 11); r++) {
    double t = time_one(k, g_big, nt);
    if (t < best)
      best = t;
  }
  const double gbs = k_bytes[k] * (double)g_big / best / 1e9;
  *rate = gbs;
  return gbs;
}
