/* Streams: (1) two independent compute-bound workloads (a 40-op chain of
 * sin/tanh on 64K f32, L2-resident) on two single-core streams (cpus "0"
 * and "1") at once, and both on the default stream with its 2-core team,
 * as throughput relative to one workload on one single-core stream
 * (target >= 1.8x for the pair); (2) cmx_eval of one tiny op on a stream
 * from a thread that did not create it, relative to the creating thread
 * (target <= 1.2x); (3) CPU time the process uses in the 100 ms after its
 * last eval, by getrusage (target < 1% of a core, 1000 us). */
#include <cmx.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"

#define CHAIN 40
#define N (1 << 16)
#define TINY_REPS 4000

static double g_t[TINY_REPS];

static void add_row(const char *name, const char *shape, double med,
                    double rate, enum bench_unit unit, const char *target,
                    int pass, int st, const char *note) {
  struct bench_row r = {.threads = 0, .median_s = med, .rate = rate,
                        .unit = unit, .ratio = -1, .pass = pass};
  snprintf(r.family, sizeof r.family, "streams");
  snprintf(r.name, sizeof r.name, "%s", name);
  snprintf(r.shape, sizeof r.shape, "%s", shape);
  snprintf(r.target, sizeof r.target, "%s", target);
  snprintf(r.note, sizeof r.note, "%s", note);
  if (st) {
    r.pass = -2;
    snprintf(r.note, sizeof r.note, "%s: %s", cmx_status_string(st),
             cmx_last_error());
  }
  bench_add_row(&r);
}

/* CHAIN alternating sin / tanh ops on x, on stream s. */
static int chain(cmx_array *out, cmx_array x, cmx_stream s) {
  cmx_array a = cmx_array_retain(x), b = NULL;
  int st = 0;
  for (int i = 0; i < CHAIN && !st; i++) {
    st = i % 2 ? cmx_tanh(&b, a, s) : cmx_sin(&b, a, s);
    cmx_array_free(a);
    a = st ? NULL : b;
  }
  *out = a;
  return st;
}

/* Seconds for the chains on s[0..n) scheduled at once, then waited for. */
static int time_chains(cmx_array x, const cmx_stream *s, int n, double *t) {
  cmx_array c[2] = {NULL, NULL};
  int st = 0;
  for (int i = 0; i < n && !st; i++) st = chain(&c[i], x, s[i]);
  double t0 = bench_now();
  for (int i = 0; i < n && !st; i++) st = cmx_async_eval(&c[i], 1);
  if (!st) st = cmx_eval(c, (size_t)n);
  *t = bench_now() - t0;
  for (int i = 0; i < n; i++) cmx_array_free(c[i]);
  return st;
}

static int median_chains(cmx_array x, const cmx_stream *s, int n, int reps,
                         double *med) {
  int st = 0;
  double t = 0;
  for (int r = 0; r < reps + 2 && !st; r++) {
    st = time_chains(x, s, n, &t);
    if (r >= 2) g_t[r - 2] = t;
  }
  *med = st ? 0 : bench_median(g_t, reps);
  return st;
}

static void throughput_rows(void) {
  cmx_stream one[2] = {NULL, NULL}, dflt[2] = {NULL, NULL};
  cmx_stream_config c0 = {1, "0", 0}, c1 = {1, "1", 0};
  cmx_array x = NULL;
  double t1 = 0, tpair = 0, tdef = 0;
  int reps = g_opts.quick ? 5 : 21;
  int st = cmx_stream_new(&one[0], &c0);
  if (!st) st = cmx_stream_new(&one[1], &c1);
  if (!st) st = cmx_arange(&x, 0, N, 1, CMX_F32, NULL);
  if (!st) st = cmx_eval(&x, 1);
  if (!st) st = cmx_set_num_threads(2);
  if (!st) st = median_chains(x, one, 1, reps, &t1);
  if (!st) st = median_chains(x, one, 2, reps, &tpair);
  if (!st) st = median_chains(x, dflt, 2, reps, &tdef);
  char note[96];
  snprintf(note, sizeof note, "1 chain on 1 core %.2f ms; default team %d",
           t1 * 1e3, cmx_get_num_threads());
  double rp = tpair > 0 ? 2 * t1 / tpair : 0, rd = tdef > 0 ? 2 * t1 / tdef : 0;
  add_row("2 chains, 2 1-core streams", "64K x40", tpair, rp, UNIT_X,
          ">=1.8x", rp >= 1.8, st, note);
  add_row("2 chains, default stream", "64K x40", tdef, rd, UNIT_X, "", -1,
          st, note);
  cmx_array_free(x);
  cmx_stream_free(one[0]);
  cmx_stream_free(one[1]);
}

/* Median seconds of cmx_eval of one tiny add on s, from the calling
 * thread. */
struct tiny {
  cmx_stream s;
  int st;
  double med;
};

static void *tiny_eval(void *arg) {
  struct tiny *t = arg;
  cmx_array a = NULL, b = NULL, c = NULL;
  int64_t n = 16;
  t->st = cmx_full(&a, &n, 1, 1.5, CMX_F32, t->s);
  if (!t->st) t->st = cmx_full(&b, &n, 1, 2.5, CMX_F32, t->s);
  cmx_array ab[2] = {a, b};
  if (!t->st) t->st = cmx_eval(ab, 2);
  for (int i = 0; i < TINY_REPS + 200 && !t->st; i++) {
    t->st = cmx_add(&c, a, b, t->s);
    double t0 = bench_now();
    if (!t->st) t->st = cmx_eval(&c, 1);
    double dt = bench_now() - t0;
    cmx_array_free(c);
    if (i >= 200) g_t[i - 200] = dt;
  }
  cmx_array_free(a);
  cmx_array_free(b);
  t->med = t->st ? 0 : bench_median(g_t, TINY_REPS);
  return NULL;
}

static void handoff_rows(void) {
  struct tiny same = {NULL, 0, 0}, other;
  same.st = cmx_stream_new(&same.s, NULL);
  if (!same.st) tiny_eval(&same);
  other = (struct tiny){same.s, same.st, 0};
  pthread_t th;
  if (!other.st && pthread_create(&th, NULL, tiny_eval, &other) == 0)
    pthread_join(th, NULL);
  int st = same.st ? same.st : other.st;
  double ratio = same.med > 0 ? other.med / same.med : 0;
  char note[96];
  snprintf(note, sizeof note, "same thread %.2f us, other thread %.2f us",
           same.med * 1e6, other.med * 1e6);
  add_row("eval tiny add, other thread", "16", other.med, ratio, UNIT_X,
          "<=1.2x", ratio <= 1.2, st, note);
  cmx_stream_free(same.s);
}

static double cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec +
         (double)u.ru_stime.tv_sec + 1e-6 * (double)u.ru_stime.tv_usec;
}

/* Busy work on the default stream's team and on a private stream, then the
 * process's CPU time over the next 100 ms of sleep. */
static void idle_row(void) {
  cmx_stream s[2] = {NULL, NULL};
  cmx_array x = NULL, big = NULL, sum = NULL;
  int64_t n = 1 << 22;
  double t = 0;
  int st = cmx_stream_new(&s[1], NULL);
  if (!st) st = cmx_set_num_threads(2);
  if (!st) st = cmx_arange(&x, 0, N, 1, CMX_F32, NULL);
  for (int i = 0; i < 5 && !st; i++) st = time_chains(x, s, 2, &t);
  if (!st) st = cmx_full(&big, &n, 1, 0.5, CMX_F32, NULL);
  if (!st) st = cmx_sum(&sum, big, NULL, 0, false, NULL);
  if (!st) st = cmx_eval(&sum, 1); /* last eval: the 2-thread team ran */
  /* Two windows: the first 100 ms (libgomp's team threads spin on their
   * own for a while after a region: informational) and 100-200 ms after
   * the last eval, where the target applies ("under 1% of a core 100 ms
   * after the last eval"). */
  static const char *const names[2] = {"CPU 0-100 ms after eval",
                                       "CPU 100-200 ms after eval"};
  for (int w = 0; w < 2; w++) {
    double c0 = cpu_seconds(), w0 = bench_now();
    struct timespec ts = {0, 100 * 1000 * 1000};
    while (nanosleep(&ts, &ts)) {
    }
    double used = cpu_seconds() - c0, wall = bench_now() - w0;
    char note[96];
    snprintf(note, sizeof note, "%.2f%% of a core over %.0f ms",
             100 * used / wall, wall * 1e3);
    add_row(names[w], "-", wall, used * 1e6, UNIT_US, w ? "<=1000us" : "-",
            w ? used < 0.01 * wall : -1, st, note);
  }
  cmx_array_free(sum);
  cmx_array_free(big);
  cmx_array_free(x);
  cmx_stream_free(s[1]);
}

static int streams_steps(void) {
  return bench_wants("streams throughput") + bench_wants("streams handoff") +
         bench_wants("streams idle");
}

void streams_run(void) {
  bench_add_total(streams_steps());
  if (bench_step("streams throughput")) throughput_rows();
  if (bench_step("streams handoff")) handoff_rows();
  if (bench_step("streams idle")) idle_row();
  cmx_set_num_threads(g_opts.threads[g_opts.nthreads - 1]);
}
