/* FMA, bf16, vpdpbusd and AMX peak rows: picks the probes this CPU can run
 * (__builtin_cpu_supports), runs them on 1 thread and on each team size of
 * --threads (one OpenMP team, every thread running the probe, timed between
 * two barriers), best of a few runs (the row's time is that run's).
 * g_peaks.fma_f32[t] is the best ISA's figure; the ratio of a team row is
 * its rate over t x the 1-thread rate. */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "arch/dispatch.h"
#include "bench.h"

enum probe_kind { P_F32, P_F64, P_BF16, P_VNNI, P_AMX, P_AMX8 };

struct probe {
  const char *name; /* row name */
  const char *isa;
  enum probe_kind kind;
  double flops_per_iter;
  int avx512;
};

static const struct probe k_probes[] = {
    {"fma f32", "avx2", P_F32, BENCH_FMA_F32_AVX2_FLOPS, 0},
    {"fma f64", "avx2", P_F64, BENCH_FMA_F64_AVX2_FLOPS, 0},
    {"fma f32", "avx512", P_F32, BENCH_FMA_F32_AVX512_FLOPS, 1},
    {"fma f64", "avx512", P_F64, BENCH_FMA_F64_AVX512_FLOPS, 1},
    {"vdpbf16ps", "avx512bf16", P_BF16, BENCH_DPBF16_AVX512_FLOPS, 1},
    {"vpdpbusd", "avx512vnni", P_VNNI, BENCH_DPBUSD_AVX512_OPS, 1},
    {"tdpbf16ps", "amx", P_AMX, BENCH_TDPBF16_AMX_FLOPS, 1},
    {"tdpbssd", "amx", P_AMX8, BENCH_TDPBSSD_AMX_OPS, 1},
};
#define NPROBES (int)(sizeof k_probes / sizeof k_probes[0])

static volatile double g_sink;

static int has_avx2(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static int has_avx512(void) {
  return has_avx2() && __builtin_cpu_supports("avx512f");
}

static int has_bf16(void) {
  return has_avx512() && __builtin_cpu_supports("avx512bf16");
}

static int has_vnni(void) {
  return has_avx512() && __builtin_cpu_supports("avx512vnni");
}

static int probe_available(const struct probe *p) {
  if (p->kind == P_BF16)
    return has_bf16();
  if (p->kind == P_VNNI)
    return has_vnni();
  if (p->kind == P_AMX)
    return cmx_cpu_has_amx_bf16();
  if (p->kind == P_AMX8)
    return cmx_cpu_has_amx_int8();
  return p->avx512 ? has_avx512() : has_avx2();
}

static double call_probe(const struct probe *p, long iters) {
  if (p->kind == P_BF16)
    return bench_dpbf16__avx512bf16(iters);
  if (p->kind == P_VNNI)
    return bench_dpbusd__avx512vnni(iters);
  if (p->kind == P_AMX)
    return bench_tdpbf16__amx(iters);
  if (p->kind == P_AMX8)
    return bench_tdpbssd__amx(iters);
  if (p->avx512)
    return p->kind == P_F32 ? bench_fma_f32__avx512(iters)
                            : bench_fma_f64__avx512(iters);
  return p->kind == P_F32 ? bench_fma_f32__avx2(iters)
                          : bench_fma_f64__avx2(iters);
}

/* Seconds for every thread of a team of nt to run iters iterations. */
static double time_team(const struct probe *p, int nt, long iters,
                        int *actual) {
  double t0 = 0, t1 = 0, sink = 0;
  int got = 1;
  if (nt == 1) {
    t0 = bench_now();
    sink = call_probe(p, iters);
    t1 = bench_now();
  } else {
#pragma omp parallel num_threads(nt) reduction(+ : sink)
    {
#pragma omp barrier
#pragma omp master
      {
        got = omp_get_num_threads();
        t0 = bench_now();
      }
      sink += call_probe(p, iters);
#pragma omp barrier
#pragma omp master
      t1 = bench_now();
    }
  }
  g_sink += sink;
  *actual = got;
  return t1 - t0;
}

/* GFLOP/s of the whole team: best of several runs of about 40 ms each
 * (10 ms with --quick), iteration count calibrated on one thread. */
static double run_probe(const struct probe *p, int nt, int *actual,
                        double *secs) {
  long iters = 1L << 16;
  int got;
  double t = time_team(p, 1, iters, &got);
  double want = g_opts.quick ? 0.01 : 0.04;
  while (t < want / 8) {
    iters *= 4;
    t = time_team(p, 1, iters, &got);
  }
  iters = (long)((double)iters * want / t) + 1;
  double best = 0;
  int runs = g_opts.quick ? 3 : 5;
  for (int r = 0; r < runs; r++) {
    double s = time_team(p, nt, iters, actual);
    double g = (double)*actual * (double)iters * p->flops_per_iter / s / 1e9;
    if (g > best) {
      best = g;
      *secs = s;
    }
  }
  return best;
}

int peak_steps(void) { return g_opts.nthreads; }

void peak_run(void) {
  double one[NPROBES] = {0};
  if (!has_avx2())
    printf("peak: no AVX2+FMA on this CPU, FMA probes skipped\n");
  else if (!has_bf16())
    printf("peak: no AVX512-BF16 on this CPU, vdpbf16ps probe skipped\n");
  if (has_avx2() && !has_vnni())
    printf("peak: no AVX512_VNNI on this CPU, vpdpbusd probe skipped\n");
  if (has_avx2() && !cmx_cpu_has_amx_bf16())
    printf("peak: no AMX-BF16 usable here (or CMX_AMX=0), tdpbf16ps probe "
           "skipped\n");
  if (has_avx2() && !cmx_cpu_has_amx_int8())
    printf("peak: no AMX-INT8 usable here (or CMX_AMX=0), tdpbssd probe "
           "skipped\n");
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    int nt = g_opts.threads[ti];
    char label[64];
    snprintf(label, sizeof label, "peak fma/bf16 %d thread%s", nt,
             nt > 1 ? "s" : "");
    bench_progress(label);
    for (int i = 0; i < NPROBES; i++) {
      const struct probe *p = &k_probes[i];
      if (!probe_available(p))
        continue;
      int actual = nt;
      double secs = 0, g = run_probe(p, nt, &actual, &secs);
      if (nt == 1)
        one[i] = g;
      struct bench_row r = {.threads = actual,
                            .median_s = secs,
                            .rate = g,
                            .unit = p->kind == P_VNNI || p->kind == P_AMX8
                                        ? UNIT_GOPS
                                        : UNIT_GFLOPS,
                            .ratio = -1,
                            .pass = -1};
      snprintf(r.family, sizeof r.family, "peak");
      snprintf(r.name, sizeof r.name, "%s %s", p->name, p->isa);
      snprintf(r.shape, sizeof r.shape, "-");
      if (nt > 1 && one[i] > 0) {
        r.ratio = g / (one[i] * actual);
        snprintf(r.ref, sizeof r.ref, "%dx1thr", actual);
      }
      bench_add_row(&r);
      if (nt > BENCH_MAX_THREADS)
        continue;
      double *slot = p->kind == P_F32    ? &g_peaks.fma_f32[nt]
                     : p->kind == P_F64  ? &g_peaks.fma_f64[nt]
                     : p->kind == P_VNNI ? &g_peaks.vnni[nt]
                     : p->kind == P_AMX  ? &g_peaks.amx[nt]
                     : p->kind == P_AMX8 ? &g_peaks.amx8[nt]
                                         : &g_peaks.bf16[nt];
      if (g > *slot) {
        *slot = g;
        if (p->kind == P_F32)
          g_peaks.fma_isa = p->isa;
      }
    }
  }
}
