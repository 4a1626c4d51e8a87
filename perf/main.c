/* cmx-bench entry point: options, progress lines, the row store, the final
 * table on stdout and the JSON file. Runs the modules in order: peaks (FMA,
 * STREAM) first, because every later row is a ratio to them, then the op
 * deck, matmul with peers, tiny-op latency and the 2-thread speedups.
 * Exit status: 0, or 1 when some row failed with a cmx error. */
#include <blis.h>
#include <cmx.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "nn.h"

struct bench_opts g_opts;
struct bench_peaks g_peaks;

static struct bench_row g_rows[BENCH_MAX_ROWS];
static int g_nrows;
static int g_step, g_total;
static int g_pending; /* rows added since the last progress line */

struct bench_row *bench_add_row(const struct bench_row *r) {
  if (g_nrows == BENCH_MAX_ROWS) {
    fprintf(stderr, "cmx-bench: more than %d rows, dropping %s\n",
            BENCH_MAX_ROWS, r->name);
    return NULL;
  }
  g_rows[g_nrows] = *r;
  if (g_step) {
    static const char *u[] = {"GB/s", "GFLOP/s", "us", "x", "GOP/s"};
    if (r->pass == -2)
      fprintf(stderr, "%s%s ERR", g_pending ? ", " : " ", r->name);
    else
      fprintf(stderr, "%s%.2f %s%s", g_pending ? ", " : " ", r->rate,
              u[r->unit], r->pass == 0 ? " MISS" : "");
    g_pending = 1;
  }
  return &g_rows[g_nrows++];
}

struct bench_row *bench_rows(int *n) {
  *n = g_nrows;
  return g_rows;
}

/* --filter A|B|C: a label passes when it contains any of the parts. */
int bench_wants(const char *label) {
  if (!g_opts.filter)
    return 1;
  for (const char *f = g_opts.filter;;) {
    const char *bar = strchr(f, '|');
    size_t n = bar ? (size_t)(bar - f) : strlen(f);
    for (const char *l = label; n && strlen(l) >= n; l++)
      if (!strncmp(l, f, n))
        return 1;
    if (!bar)
      return 0;
    f = bar + 1;
  }
}

int bench_step(const char *label) {
  return bench_wants(label) && bench_progress(label);
}

int bench_progress(const char *label) {
  g_step++;
  fprintf(stderr, "%s[%d/%d] %s ...", g_pending || g_step > 1 ? "\n" : "",
          g_step, g_total > g_step ? g_total : g_step, label);
  g_pending = 0;
  return 1;
}

void bench_add_total(int steps) { g_total += steps; }

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double bench_median(double *v, int n) {
  if (n <= 0)
    return 0.0;
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int bench_time_samples(int (*call)(const void *ctx), const void *ctx,
                       int *st, double budget, double *v, int cap) {
  double t0 = bench_now();
  *st = call(ctx);
  double est = bench_now() - t0;
  if (*st)
    return 0;
  int reps = (int)(budget / (est + 1e-7));
  int lo = g_opts.quick && est > 0.5 ? 1 : 3;
  reps = reps < lo ? lo : reps > 100 ? 100 : reps;
  if (g_opts.exact_reps)
    reps = g_opts.exact_reps < 128 ? g_opts.exact_reps : 127;
  if (reps > cap)
    reps = cap;
  for (int r = 0; r < reps && !*st; r++) {
    t0 = bench_now();
    *st = call(ctx);
    v[r] = bench_now() - t0;
  }
  return *st ? 0 : reps;
}

double bench_time_calls(int (*call)(const void *ctx), const void *ctx,
                        int *st) {
  double v[128];
  int n = bench_time_samples(call, ctx, st, g_opts.quick ? 0.05 : 0.3, v,
                             128);
  return *st ? 0 : bench_median(v, n);
}

void bench_settle(int lib) {
  static int last = -1;
  if (last >= 0 && last != lib) {
    struct timespec settle = {0, 150 * 1000 * 1000};
    nanosleep(&settle, NULL);
  }
  last = lib;
}

/* bench_settle, then the library's thread count set its way. */
static int set_lib_threads(int lib, int nt, void (*ob_threads)(int)) {
  bench_settle(lib);
  if (lib == BENCH_LIB_CMX)
    return cmx_set_num_threads(nt);
  if (lib == BENCH_LIB_BLIS)
    bli_thread_set_num_threads(nt);
  else if (lib == BENCH_LIB_OPENBLAS)
    ob_threads(nt);
  else
    omp_set_num_threads(nt);
  return 0;
}

double bench_time_lib(int lib, int nt, void (*ob_threads)(int),
                      int (*call)(const void *ctx), const void *ctx,
                      int *st) {
  *st = set_lib_threads(lib, nt, ob_threads);
  return *st ? 0 : bench_time_calls(call, ctx, st);
}

int bench_time_lib_samples(int lib, int nt, void (*ob_threads)(int),
                           int (*call)(const void *ctx), const void *ctx,
                           int *st, double budget, double *v, int cap) {
  *st = set_lib_threads(lib, nt, ob_threads);
  return *st ? 0 : bench_time_samples(call, ctx, st, budget, v, cap);
}

int bench_reps(double est) {
  double budget = g_opts.row_budget_s;
  if (est * g_opts.min_reps > 4 * budget) {
    int r = (int)(4 * budget / est);
    return r < 1 ? 1 : r;
  }
  double reps = budget / (est + 1e-7);
  if (reps < g_opts.min_reps)
    return g_opts.min_reps;
  return reps > g_opts.max_reps ? g_opts.max_reps : (int)reps;
}

const char *bench_tier_shape(enum bench_tier t) {
  static const char *names[TIER_COUNT] = {"64x64", "256x256", "4096x4096"};
  return names[t];
}

static void usage(void) {
  fprintf(stderr,
          "usage: cmx-bench [--quick] [--filter SUBSTR] [--threads 1,2]\n"
          "                 [--mem-mb N] [--json FILE] [--no-peaks] [--reps N]\n"
          "  --quick     fewer repetitions (< 30 s)\n"
          "  --filter    only rows whose label contains SUBSTR (A|B: either;\n"
          "              peaks and STREAM always run: ratios need them)\n"
          "  --threads   thread counts to run (default 1 and the team size)\n"
          "  --mem-mb    STREAM arrays in total, MiB (default 256)\n"
          "  --json      also write every row to FILE\n"
          "  --no-peaks  skip the FMA and STREAM probes (no ratios; for\n"
          "              profiling under perf or valgrind)\n"
          "  --reps N    exactly N timed repetitions per op row (profiling)\n"
          "  --suite gemm  only the FMA peaks, STREAM read and the GEMM deck\n"
          "              of issue 3 (cmx, BLIS, OpenBLAS, oneDNN side by side)\n"
          "  --suite nn  FMA peaks, big STREAM and the nn deck of issue 4\n"
          "              (softmax ... astype; SDPA, conv2d against a same-run\n"
          "              cmx GEMM of their shape), PyTorch and MLX-CPU side\n"
          "              by side\n"
          "  --suite compile  peaks, STREAM and the cmx_compile rows (GELU as\n"
          "              9 ops, compiled and fused, and the gelu_tanh op)\n"
          "  --cmx-only  gemm rows without the peers (perf/tune-gemm)\n");
}

static int parse_threads(const char *s) {
  g_opts.nthreads = 0;
  while (*s && g_opts.nthreads < BENCH_MAX_THREADS) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v < 1 || v > BENCH_MAX_THREADS)
      return -1;
    g_opts.threads[g_opts.nthreads++] = (int)v;
    s = *end == ',' ? end + 1 : end;
    if (*end && *end != ',')
      return -1;
  }
  return g_opts.nthreads > 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv) {
  const char *threads = NULL;
  int reps = 0;
  g_opts.mem_mb = 0;
  g_opts.argv0 = argv[0];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int more = i + 1 < argc;
    if (!strcmp(a, "--quick")) {
      g_opts.quick = 1;
    } else if (!strcmp(a, "--filter") && more) {
      g_opts.filter = argv[++i];
    } else if (!strcmp(a, "--reps") && more) {
      reps = atoi(argv[++i]);
      if (reps < 1) return -1;
    } else if (!strcmp(a, "--suite") && more) {
      g_opts.suite = argv[++i];
      if (strcmp(g_opts.suite, "gemm") && strcmp(g_opts.suite, "nn") &&
          strcmp(g_opts.suite, "compile"))
        return -1;
    } else if (!strcmp(a, "--cmx-only")) {
      g_opts.cmx_only = 1;
    } else if (!strcmp(a, "--no-peaks")) {
      g_opts.no_peaks = 1;
    } else if (!strcmp(a, "--json") && more) {
      g_opts.json = argv[++i];
    } else if (!strcmp(a, "--threads") && more) {
      threads = argv[++i];
    } else if (!strcmp(a, "--mem-mb") && more) {
      g_opts.mem_mb = atoi(argv[++i]);
      if (g_opts.mem_mb < 3)
        return -1;
    } else {
      return -1;
    }
  }
  if (threads) {
    if (parse_threads(threads))
      return -1;
  } else {
    int n = cmx_get_num_threads();
    g_opts.threads[0] = 1;
    g_opts.nthreads = 1;
    if (n > 1)
      g_opts.threads[g_opts.nthreads++] = n;
  }
  /* The same STREAM arrays with --quick (3 x 85 MiB, each 2.7x this
   * VM's 32 MiB L3): with --quick's old 3 x 32 MiB, repetitions read
   * partly from L3 (one core 65-69 GB/s against 41-57 from DRAM), and
   * every 4096 x 4096 op fell short of its share of that. */
  if (!g_opts.mem_mb)
    g_opts.mem_mb = 256;
  g_opts.row_budget_s = g_opts.quick ? 0.03 : 0.25;
  g_opts.min_reps = g_opts.quick ? 3 : 7;
  g_opts.max_reps = g_opts.quick ? 400 : 4000;
  if (reps) {
    g_opts.min_reps = g_opts.max_reps = reps < 4000 ? reps : 4000;
    g_opts.row_budget_s = 1e30; /* never cut a forced count short */
    g_opts.exact_reps = reps;
  }
  return 0;
}

static const char *unit_name(enum bench_unit u) {
  static const char *n[] = {"GB/s", "GFLOP/s", "us", "x", "GOP/s"};
  return n[u];
}

static const char *verdict(int pass) {
  return pass == 1 ? "PASS" : pass == 0 ? "MISS" : pass == -2 ? "ERR" : "";
}

static void fmt_time(char *buf, size_t n, double s) {
  if (s <= 0)
    snprintf(buf, n, "-");
  else if (s < 1e-3)
    snprintf(buf, n, "%.2f us", s * 1e6);
  else
    snprintf(buf, n, "%.3f ms", s * 1e3);
}

static void print_table(void) {
  printf("\n%-8s %-26s %-10s %3s %11s %15s %7s %-7s %-7s %-4s %s\n", "family",
         "name", "shape", "thr", "median", "rate", "ratio", "vs", "target",
         "res", "note");
  const char *last = "";
  for (int i = 0; i < g_nrows; i++) {
    const struct bench_row *r = &g_rows[i];
    char t[24], rate[24], ratio[16];
    if (strcmp(last, r->family))
      printf("\n");
    last = r->family;
    fmt_time(t, sizeof t, r->median_s);
    if (r->pass == -2)
      snprintf(rate, sizeof rate, "-");
    else if (r->unit == UNIT_X)
      snprintf(rate, sizeof rate, "%.2f x", r->rate);
    else
      snprintf(rate, sizeof rate, "%.2f %s", r->rate, unit_name(r->unit));
    if (r->ratio >= 0)
      snprintf(ratio, sizeof ratio, "%.0f%%", 100 * r->ratio);
    else
      snprintf(ratio, sizeof ratio, "-");
    printf("%-8s %-26s %-10s %3d %11s %15s %7s %-7s %-7s %-4s %s\n", r->family,
           r->name, r->shape, r->threads, t, rate, ratio,
           r->ref[0] ? r->ref : "-", r->target[0] ? r->target : "-",
           verdict(r->pass), r->note);
  }
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      fprintf(f, "\\u%04x", *s);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

static int write_json(const char *path) {
  static const char *key[] = {"gbps", "gflops", "us", "speedup", "gops"};
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fprintf(f, "{\"cmx_version\": ");
  json_string(f, cmx_version());
  fprintf(f, ", \"isa\": ");
  json_string(f, cmx_isa());
  fprintf(f, ", \"quick\": %s, \"rows\": [\n", g_opts.quick ? "true" : "false");
  for (int i = 0; i < g_nrows; i++) {
    const struct bench_row *r = &g_rows[i];
    fprintf(f, "  {\"family\": ");
    json_string(f, r->family);
    fprintf(f, ", \"name\": ");
    json_string(f, r->name);
    fprintf(f, ", \"shape\": ");
    json_string(f, r->shape);
    fprintf(f, ", \"threads\": %d, \"median_s\": %.9g, \"%s\": %.6g",
            r->threads, r->median_s, key[r->unit], r->rate);
    if (r->ratio >= 0)
      fprintf(f, ", \"ratio\": %.4f, \"ref\": ", r->ratio);
    else
      fprintf(f, ", \"ratio\": null, \"ref\": ");
    json_string(f, r->ref);
    fprintf(f, ", \"target\": ");
    json_string(f, r->target);
    fprintf(f, ", \"pass\": %s, \"note\": ",
            r->pass == 1   ? "true"
            : r->pass == 0 ? "false"
                           : "null");
    json_string(f, r->note);
    fprintf(f, "}%s\n", i + 1 < g_nrows ? "," : "");
  }
  fprintf(f, "]}\n");
  return fclose(f);
}

int main(int argc, char **argv) {
  /* OpenBLAS (perf/gemm.c, perf/matmul.c) must pick its own core type:
   * unset before any dlopen or thread start. */
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv("OPENBLAS_L2_SIZE");
  if (parse_args(argc, argv)) {
    usage();
    return 2;
  }
  fprintf(stderr, "cmx-bench: cmx %s, isa %s, team %d, threads", cmx_version(),
          cmx_isa(), cmx_get_num_threads());
  for (int i = 0; i < g_opts.nthreads; i++)
    fprintf(stderr, "%s%d", i ? "," : " ", g_opts.threads[i]);
  fprintf(stderr, "%s\n", g_opts.quick ? " (quick)" : "");

  if (!g_opts.no_peaks)
    bench_add_total(peak_steps() + stream_steps());
  if (g_opts.suite) /* peaks, big-tier STREAM, the suite's deck */
    bench_add_total(!strcmp(g_opts.suite, "nn")        ? nn_steps()
                    : !strcmp(g_opts.suite, "compile") ? compile_steps()
                                                       : gemm_steps());
  else
    bench_add_total(ops_steps() + ukr_steps() + matmul_steps() +
                    latency_steps() + compile_steps() + peers_steps() +
                    gemm_steps());
  double t0 = bench_now();
  if (!g_opts.no_peaks) {
    peak_run();
    stream_run();
  }
  if (g_opts.suite) {
    if (!strcmp(g_opts.suite, "nn"))
      nn_run();
    else if (!strcmp(g_opts.suite, "compile"))
      compile_run();
    else
      gemm_run();
    goto report;
  }
  g_rtt_before = bench_core_rtt_ns();
  ops_run();
  ukr_run();
  matmul_run();
  gemm_run();
  peers_run();
  latency_run();
  compile_run();
  streams_run(); /* perf/bench-streams.c */
  if (g_step)
    fprintf(stderr, "\n");
  g_step = 0; /* the speedup rows are no step */
  ops_speedups();
report:
  if (g_step)
    fprintf(stderr, "\n");
  g_step = 0;
  cmx_set_num_threads(g_opts.threads[g_opts.nthreads - 1]);

  print_table();
  int npass = 0, nmiss = 0, nerr = 0;
  for (int i = 0; i < g_nrows; i++) {
    npass += g_rows[i].pass == 1;
    nmiss += g_rows[i].pass == 0;
    nerr += g_rows[i].pass == -2;
  }
  printf("\n%d rows: %d PASS, %d MISS, %d ERR; %.1f s\n", g_nrows, npass, nmiss,
         nerr, bench_now() - t0);
  if (g_opts.json) {
    if (write_json(g_opts.json))
      fprintf(stderr, "cmx-bench: cannot write %s\n", g_opts.json);
    else
      fprintf(stderr, "cmx-bench: wrote %s\n", g_opts.json);
  }
  return nerr ? 1 : 0;
}
