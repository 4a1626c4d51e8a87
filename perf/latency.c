/* Tiny-op latency on 16-element f32 arrays, per thread count: an eager
 * cmx_add + cmx_array_free timed one op at a time (targets <= 1 us median),
 * and cmx_eval of a freshly built 100-node chain of adds and multiplies
 * (target <= 50 us median per eval). Small ops must never pay for a fork:
 * the figures are the same on 1 and n threads when the runtime is right. */
#define _GNU_SOURCE
#include <cmx.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#include "bench.h"

static double g_v[20000];

static void add_row(const char *name, int nt, double med, double p90,
                    double target_us, int st) {
  struct bench_row r = {.threads = nt,
                        .median_s = med,
                        .rate = med * 1e6,
                        .unit = UNIT_US,
                        .ratio = -1};
  snprintf(r.family, sizeof r.family, "latency");
  snprintf(r.name, sizeof r.name, "%s", name);
  snprintf(r.shape, sizeof r.shape, "16");
  snprintf(r.target, sizeof r.target, "<=%dus", (int)target_us);
  if (st) {
    r.pass = -2;
    snprintf(r.note, sizeof r.note, "%s: %s", cmx_status_string(st),
             cmx_last_error());
  } else {
    r.pass = med * 1e6 <= target_us;
    snprintf(r.note, sizeof r.note, "p90 %.2f us", p90 * 1e6);
  }
  bench_add_row(&r);
}

/* Median and 90th percentile of v[0, n). */
static double stats(int n, double *p90) {
  double med = bench_median(g_v, n);
  *p90 = g_v[(int)(0.9 * n)];
  return med;
}

static int eager_add(int n, double *med, double *p90) {
  cmx_array a = NULL, b = NULL, c;
  int64_t shape[1] = {16};
  float data[16];
  for (int i = 0; i < 16; i++)
    data[i] = 0.5f + (float)i;
  int st = cmx_array_from_data(&a, data, CMX_F32, shape, 1);
  if (!st)
    st = cmx_array_from_data(&b, data, CMX_F32, shape, 1);
  cmx_array ab[2] = {a, b};
  if (!st)
    st = cmx_eval(ab, 2);
  cmx_set_eager(true);
  for (int i = 0; !st && i < n + 1000; i++) {
    double t0 = bench_now();
    st = cmx_add(&c, a, b, NULL);
    cmx_array_free(c);
    double t = bench_now() - t0;
    if (i >= 1000)
      g_v[i - 1000] = t;
  }
  cmx_set_eager(false);
  cmx_array_free(a);
  cmx_array_free(b);
  if (!st)
    *med = stats(n, p90);
  return st;
}

static int graph_eval(int n, double *med, double *p90) {
  cmx_array a = NULL, b = NULL;
  int64_t shape[1] = {16};
  float data[16];
  for (int i = 0; i < 16; i++)
    data[i] = 1.0f + 0.001f * (float)i;
  int st = cmx_array_from_data(&a, data, CMX_F32, shape, 1);
  if (!st)
    st = cmx_array_from_data(&b, data, CMX_F32, shape, 1);
  cmx_array ab[2] = {a, b};
  if (!st)
    st = cmx_eval(ab, 2);
  for (int r = 0; !st && r < n + 50; r++) {
    cmx_array x = cmx_array_retain(a), y = NULL;
    for (int i = 0; !st && i < 100; i++) {
      st = i % 2 ? cmx_multiply(&y, x, b, NULL) : cmx_add(&y, x, b, NULL);
      cmx_array_free(x);
      x = y;
    }
    if (st)
      break;
    double t0 = bench_now();
    st = cmx_eval(&x, 1);
    double t = bench_now() - t0;
    cmx_array_free(x);
    if (r >= 50)
      g_v[r - 50] = t;
  }
  cmx_array_free(a);
  cmx_array_free(b);
  if (!st)
    *med = stats(n, p90);
  return st;
}

static void label_of(char *buf, size_t len, const char *what, int nt) {
  snprintf(buf, len, "latency %s %d thread%s", what, nt, nt > 1 ? "s" : "");
}

int latency_steps(void) {
  int n = 0;
  char label[64];
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    label_of(label, sizeof label, "eager add", g_opts.threads[ti]);
    n += bench_wants(label);
    label_of(label, sizeof label, "eval 100-node", g_opts.threads[ti]);
    n += bench_wants(label);
  }
  return n;
}

void latency_run(void) {
  char label[64];
  int n_eager = g_opts.quick ? 3000 : 20000,
      n_graph = g_opts.quick ? 300 : 3000;
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    int nt = g_opts.threads[ti];
    double med = 0, p90 = 0;
    label_of(label, sizeof label, "eager add", nt);
    if (bench_step(label)) {
      int st = cmx_set_num_threads(nt);
      if (!st)
        st = eager_add(n_eager, &med, &p90);
      add_row("eager add+free", nt, med, p90, 1.0, st);
    }
    label_of(label, sizeof label, "eval 100-node", nt);
    if (bench_step(label)) {
      int st = cmx_set_num_threads(nt);
      if (!st)
        st = graph_eval(n_graph, &med, &p90);
      add_row("eval 100-node chain", nt, med, p90, 50.0, st);
    }
  }
}

/* ---- core-to-core round trip ------------------------------------------
 * Two threads on the first two CPUs of the process mask pass a counter
 * back and forth through two cache lines; the median of 9 passes of 20000
 * round trips. Every job a team hands to another core pays about half of
 * it twice (the start and the end), so the two-thread speedup of a few-us
 * op depends on it; on the 2-core VM it is 60 ns in some minutes and
 * 460-490 ns in others. 0 with fewer than two CPUs. */
#define RTT_N 20000
static _Alignas(64) atomic_int g_ping;
static _Alignas(64) atomic_int g_pong;

static int nth_cpu(int k) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set)) return -1;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set) && k-- == 0) return c;
  return -1;
}

static void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *pong(void *arg) {
  pin_to(*(int *)arg);
  for (int i = 1; i <= 9 * RTT_N; i++) {
    while (atomic_load_explicit(&g_ping, memory_order_acquire) != i) {
    }
    atomic_store_explicit(&g_pong, i, memory_order_release);
  }
  return NULL;
}

double bench_core_rtt_ns(void) {
  int c0 = nth_cpu(0), c1 = nth_cpu(1);
  if (c0 < 0 || c1 < 0) return 0;
  cpu_set_t old;
  sched_getaffinity(0, sizeof old, &old);
  atomic_store(&g_ping, 0);
  atomic_store(&g_pong, 0);
  pthread_t t;
  if (pthread_create(&t, NULL, pong, &c1)) return 0;
  pin_to(c0);
  double v[9];
  for (int pass = 0, i = 0; pass < 9; pass++) {
    double t0 = bench_now();
    for (int k = 0; k < RTT_N; k++) {
      i++;
      atomic_store_explicit(&g_ping, i, memory_order_release);
      while (atomic_load_explicit(&g_pong, memory_order_acquire) != i) {
      }
    }
    v[pass] = (bench_now() - t0) / RTT_N;
  }
  pthread_join(t, NULL);
  pthread_setaffinity_np(pthread_self(), sizeof old, &old);
  return bench_median(v, 9) * 1e9;
}
