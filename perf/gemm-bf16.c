/* The bf16 rows of the GEMM deck (`--suite gemm`; `--filter bf16` runs only
 * them), and 16-bit decode (`--filter h16`: m x 4096 x 4096, m 1 and 8, f16
 * and bf16 operands, B row-major and transposed, rated by B's bytes over
 * the same-run read bandwidth; no target): square bf16 x bf16 matmuls (cmx_matmul + cmx_eval, bf16 result) at
 * the default level against the f32 rate; at the avx512bf16 level (forced,
 * where the CPU has it) against the same-run vdpbf16ps peak (target 85%);
 * and at CMX_ISA=avx2, where bf16 is converted while packing,
 * the bf16 rate over the f32 rate of the same size (target 0.8x). Inputs:
 * the same random values in bf16 and f32 arrays; the bf16 result is checked
 * against the f32 one (bf16 rounding, 2^-8 relative). */
#include <cmx.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/dispatch.h"
#include "bench.h"
#include "kernels/f32-gemm/f32-gemm.h"

static const int k_sizes[] = {1024, 2048};

/* The level to go back to after a forced one: CMX_ISA's, else the one cmx
 * picks (which, at avx512bf16, may leave out the vdpbf16ps GEMM that
 * naming the level forces). */
static const char *level_back(void) {
  const char *e = getenv("CMX_ISA");
  return e && *e ? e : "default";
}
#define NSIZES (int)(sizeof k_sizes / sizeof k_sizes[0])

static void label_of(char *buf, size_t n, int s, int nt) {
  snprintf(buf, n, "gemm bf16 %dx%dx%d %dthr", s, s, s, nt);
}

/* The 16-bit decode rows: m, B transposed, bf16 (else f16). */
static const struct { int m, bt, bf; } k_h16[] = {
    {1, 0, 1}, {1, 1, 1}, {8, 0, 1}, {8, 1, 1},
    {1, 0, 0}, {1, 1, 0}, {8, 0, 0}, {8, 1, 0}};
#define NH16 (int)(sizeof k_h16 / sizeof k_h16[0])
#define H16_K 4096
#define H16_N 4096

static void h16_label(char *buf, size_t n, int i, int nt) {
  snprintf(buf, n, "gemm h16 %s %dx%dx%d%s %dthr", k_h16[i].bf ? "bf16" : "f16",
           k_h16[i].m, H16_K, H16_N, k_h16[i].bt ? " B^T" : "", nt);
}

int gemm_bf16_steps(void) {
  if (!g_opts.suite || strcmp(g_opts.suite, "gemm"))
    return 0;
  int steps = 0;
  char label[64];
  for (int i = 0; i < NSIZES; i++)
    for (int ti = 0; ti < g_opts.nthreads; ti++) {
      label_of(label, sizeof label, k_sizes[i], g_opts.threads[ti]);
      steps += bench_wants(label);
    }
  for (int i = 0; i < NH16; i++)
    for (int ti = 0; ti < g_opts.nthreads; ti++) {
      h16_label(label, sizeof label, i, g_opts.threads[ti]);
      steps += bench_wants(label);
    }
  return steps;
}

/* Median seconds of cmx_matmul(a, b) + eval on nt threads (0 and *st on
 * error); keeps the last result in *out when out is not NULL. */
static double time_mm(cmx_array a, cmx_array b, int nt, int *st,
                      cmx_array *out) {
  double v[32];
  *st = cmx_set_num_threads(nt);
  cmx_array o = NULL;
  double t0 = bench_now();
  if (!*st)
    *st = cmx_matmul(&o, a, b, NULL);
  if (!*st)
    *st = cmx_eval(&o, 1);
  double est = bench_now() - t0;
  cmx_array_free(o);
  if (*st)
    return 0;
  double budget = g_opts.quick ? 0.05 : 0.3;
  int reps = (int)(budget / (est + 1e-7));
  reps = reps < 3 ? 3 : reps > 31 ? 31 : reps;
  if (g_opts.exact_reps)
    reps = g_opts.exact_reps < 32 ? g_opts.exact_reps : 31;
  for (int r = 0; r < reps && !*st; r++) {
    o = NULL;
    t0 = bench_now();
    *st = cmx_matmul(&o, a, b, NULL);
    if (!*st)
      *st = cmx_eval(&o, 1);
    v[r] = bench_now() - t0;
    if (out && r == reps - 1 && !*st)
      *out = o;
    else
      cmx_array_free(o);
  }
  return *st ? 0 : bench_median(v, reps);
}

static struct bench_row row_of(int s, int nt, const char *name) {
  struct bench_row r = {.threads = nt, .ratio = -1, .pass = -1};
  snprintf(r.family, sizeof r.family, "gemm");
  snprintf(r.name, sizeof r.name, "%s", name);
  snprintf(r.shape, sizeof r.shape, "%dx%dx%d", s, s, s);
  return r;
}

static void add_rate(int s, int nt, const char *name, double secs, int st,
                     double peak, const char *ref, double target,
                     const char *note) {
  struct bench_row r = row_of(s, nt, name);
  r.unit = UNIT_GFLOPS;
  r.median_s = secs;
  if (st) {
    r.pass = -2;
    snprintf(r.note, sizeof r.note, "%s", cmx_last_error());
    bench_add_row(&r);
    return;
  }
  r.rate = 2.0 * s * (double)s * s / secs / 1e9;
  if (peak > 0) {
    r.ratio = r.rate / peak;
    snprintf(r.ref, sizeof r.ref, "%s", ref);
    if (target > 0) {
      snprintf(r.target, sizeof r.target, ">=%.0f%%", 100 * target);
      r.pass = r.ratio >= target;
    }
  }
  snprintf(r.note, sizeof r.note, "%s", note ? note : "");
  bench_add_row(&r);
}

static void add_x(int s, int nt, const char *name, double x, double target,
                  const char *note) {
  struct bench_row r = row_of(s, nt, name);
  r.unit = UNIT_X;
  r.rate = x;
  if (target > 0) {
    snprintf(r.target, sizeof r.target, ">=%.2fx", target);
    r.pass = x >= target;
  }
  snprintf(r.note, sizeof r.note, "%s", note);
  bench_add_row(&r);
}

/* Largest |bf16 result - f32 result| / (1 + |f32 result|). */
static double deviation(cmx_array h, cmx_array f) {
  if (!h || !f)
    return INFINITY;
  size_t n = (size_t)cmx_array_size(f);
  float *x = malloc(n * 4);
  cmx_array hf = NULL;
  double worst = INFINITY;
  if (x && !cmx_astype(&hf, h, CMX_F32, NULL) &&
      !cmx_array_read(hf, x, n * 4)) {
    const void *p;
    if (!cmx_array_data(&p, f)) {
      const float *y = p;
      worst = 0;
      for (size_t i = 0; i < n; i++) {
        double e = fabs((double)x[i] - y[i]) / (1.0 + fabs((double)y[i]));
        if (!(e <= worst))
          worst = e;
      }
    }
  }
  cmx_array_free(hf);
  free(x);
  return worst;
}

static void run_size(int s) {
  size_t n = (size_t)s * s;
  uint16_t *h = malloc(2 * n * 2);
  float *f = malloc(2 * n * 4);
  cmx_array a16 = NULL, b16 = NULL, a32 = NULL, b32 = NULL;
  int st = h && f ? 0 : CMX_ENOMEM;
  uint32_t seed = 77;
  for (size_t i = 0; !st && i < 2 * n; i++) {
    seed = seed * 1664525u + 1013904223u;
    float v = (float)(seed >> 8) / 16777216.0f - 0.5f;
    uint32_t u;
    memcpy(&u, &v, 4);
    h[i] = (uint16_t)(u >> 16); /* truncated: the value f holds exactly */
    u &= 0xffff0000u;
    memcpy(&f[i], &u, 4);
  }
  int64_t sh[2] = {s, s};
  if (!st)
    st = cmx_array_from_data(&a16, h, CMX_BF16, sh, 2);
  if (!st)
    st = cmx_array_from_data(&b16, h + n, CMX_BF16, sh, 2);
  if (!st)
    st = cmx_array_from_data(&a32, f, CMX_F32, sh, 2);
  if (!st)
    st = cmx_array_from_data(&b32, f + n, CMX_F32, sh, 2);
  free(h), free(f);
  cmx_array all[4] = {a16, b16, a32, b32};
  if (!st)
    st = cmx_eval(all, 4);
  char saved[32];
  snprintf(saved, sizeof saved, "%s", cmx_isa());
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    int nt = g_opts.threads[ti];
    char label[64], note[96];
    label_of(label, sizeof label, s, nt);
    if (!bench_step(label))
      continue;
    if (st) {
      add_rate(s, nt, "cmx bf16", 1, st, 0, "", 0, NULL);
      continue;
    }
    double flops = 2.0 * s * (double)s * s;
    /* the default level: bf16 (vdpbf16ps only where AMX or its probe
     * says it pays) against f32 */
    int e16, e32;
    cmx_array o16 = NULL, o32 = NULL;
    double t32 = time_mm(a32, b32, nt, &e32, &o32);
    double t16 = time_mm(a16, b16, nt, &e16, &o16);
    double dev = e16 || e32 ? 0 : deviation(o16, o32);
    cmx_array_free(o16);
    snprintf(note, sizeof note, "level %s, %s", saved,
             cmx_cpu_has_amx_bf16()               ? "AMX tiles"
             : cmx_dispatch()->gemm_f32.bf16_ukr ? "vdpbf16ps"
                                                 : "converted while packing");
    if (dev > 1.0 / 64) {
      size_t l = strlen(note);
      snprintf(note + l, sizeof note - l, "; DIFFERS from f32 by %.2g", dev);
    }
    double pa = nt <= BENCH_MAX_THREADS && cmx_cpu_has_amx_bf16()
                    ? g_peaks.amx[nt] : 0;
    add_rate(s, nt, "cmx bf16", t16, e16, pa, pa > 0 ? "tdpbf16ps" : "", 0,
             note);
    if (!e16 && !e32 && t16 > 0) {
      snprintf(note, sizeof note, "f32 %.1f GFLOP/s at level %s",
               flops / t32 / 1e9, saved);
      add_x(s, nt, "bf16/f32", t32 / t16, 0, note);
    }
    /* the vdpbf16ps path, forced with CMX_ISA semantics (and AMX, which
     * takes precedence at that level, set aside) */
    if (!cmx_set_isa("avx512bf16")) {
      cmx_array op = NULL;
      cmx_f32_gemm_amx_allow(0);
      double tp = time_mm(a16, b16, nt, &e16, &op);
      cmx_f32_gemm_amx_allow(1);
      dev = e16 || e32 ? 0 : deviation(op, o32);
      cmx_array_free(op);
      cmx_set_isa(level_back());
      double pk = nt <= BENCH_MAX_THREADS ? g_peaks.bf16[nt] : 0;
      snprintf(note, sizeof note, "%.2fx f32 at %s; taken by default: %s",
               e16 || e32 || tp <= 0 ? 0.0 : t32 / tp, saved,
               cmx_pairs_pay() ? "yes" : "no");
      if (dev > 1.0 / 64) {
        size_t l = strlen(note);
        snprintf(note + l, sizeof note - l, "; DIFFERS by %.2g", dev);
      }
      add_rate(s, nt, "cmx bf16 vdpbf16ps", tp, e16, pk, "vdpbf16ps", 0.85,
               note);
    }
    cmx_array_free(o32);
    /* avx2: conversion while packing against f32 at the same level */
    if (cmx_set_isa("avx2")) {
      printf("gemm bf16: no avx2 level here, conversion row skipped\n");
      continue;
    }
    t16 = time_mm(a16, b16, nt, &e16, NULL);
    t32 = time_mm(a32, b32, nt, &e32, NULL);
    cmx_set_isa(level_back());
    if (e16 || e32 || t16 <= 0) {
      add_rate(s, nt, "cmx bf16 avx2", 1, e16 ? e16 : e32, 0, "", 0, NULL);
      continue;
    }
    snprintf(note, sizeof note, "avx2: bf16 %.1f, f32 %.1f GFLOP/s",
             2.0 * s * (double)s * s / t16 / 1e9,
             2.0 * s * (double)s * s / t32 / 1e9);
    add_x(s, nt, "bf16 cvt/f32 avx2", t32 / t16, 0.8, note);
  }
  cmx_array_free(a16), cmx_array_free(b16);
  cmx_array_free(a32), cmx_array_free(b32);
}

/* One 16-bit decode shape at every thread count: GB/s of B over the read
 * bandwidth now. */
static void run_h16(int i) {
  const int m = k_h16[i].m, bt = k_h16[i].bt;
  const cmx_dtype dt = k_h16[i].bf ? CMX_BF16 : CMX_F16;
  cmx_array key = NULL, a32 = NULL, b32 = NULL, a = NULL, b0 = NULL, b = NULL;
  int64_t sa[2] = {m, H16_K}, sb[2] = {bt ? H16_N : H16_K, bt ? H16_K : H16_N};
  int st = cmx_random_key(&key, 7);
  if (!st) st = cmx_random_uniform(&a32, -1, 1, sa, 2, CMX_F32, key, NULL);
  if (!st) st = cmx_random_uniform(&b32, -1, 1, sb, 2, CMX_F32, key, NULL);
  if (!st) st = cmx_astype(&a, a32, dt, NULL);
  if (!st) st = cmx_astype(&b0, b32, dt, NULL);
  if (!st) st = bt ? cmx_transpose(&b, b0, NULL, 0, NULL)
                   : (b = cmx_array_retain(b0), CMX_OK);
  cmx_array both[2] = {a, b};
  if (!st) st = cmx_eval(both, 2);
  char name[32];
  snprintf(name, sizeof name, "cmx %s decode", k_h16[i].bf ? "bf16" : "f16");
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    const int nt = g_opts.threads[ti];
    char label[64];
    h16_label(label, sizeof label, i, nt);
    if (!bench_step(label))
      continue;
    struct bench_row r = {.threads = nt, .ratio = -1, .pass = -1,
                          .unit = UNIT_GBPS};
    snprintf(r.family, sizeof r.family, "gemm");
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.shape, sizeof r.shape, "%dx%dx%d%s", m, H16_K, H16_N,
             bt ? " B^T" : "");
    int e = st;
    double secs = e ? 0 : time_mm(a, b, nt, &e, NULL);
    if (e) {
      r.pass = -2;
      snprintf(r.note, sizeof r.note, "%s", cmx_last_error());
      bench_add_row(&r);
      continue;
    }
    r.median_s = secs;
    r.rate = 2.0 * H16_K * (double)H16_N / secs / 1e9;
    double rd = nt <= BENCH_MAX_THREADS ? g_peaks.read[TIER_BIG][nt] : 0;
    if (rd > 0) {
      const double rd0 = rd, again = bench_stream_again("read", nt, &rd);
      r.ratio = r.rate / rd;
      snprintf(r.ref, sizeof r.ref, "read");
      snprintf(r.note, sizeof r.note, "B streamed; read now %.1f, start "
               "%.1f GB/s", again, rd0);
    }
    bench_add_row(&r);
  }
  cmx_array_free(key), cmx_array_free(a32), cmx_array_free(b32);
  cmx_array_free(a), cmx_array_free(b0), cmx_array_free(b);
}

void gemm_bf16_run(void) {
  if (!gemm_bf16_steps())
    return;
  if (cmx_set_isa("avx512bf16"))
    printf("gemm bf16: CPU lacks AVX512_BF16 (level %s): no vdpbf16ps rows, "
           "bf16 is converted while packing\n", cmx_isa());
  cmx_set_isa(level_back());
  for (int i = 0; i < NSIZES; i++)
    run_size(k_sizes[i]);
  for (int i = 0; i < NH16; i++)
    run_h16(i);
}
