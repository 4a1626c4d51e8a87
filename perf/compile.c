/* cmx_compile rows: GELU (tanh form) written as 9 elementwise ops, timed
 * as the graph the ops build (one pass over memory per op) and compiled
 * (one fused pass), over 16M elements (ratio to the same-run STREAM copy,
 * which is the bound of one read and one write) and 64K (L2), beside the
 * hand-written gelu_tanh op; and the cost of a replay on 16 elements
 * against building and evaluating the same ops directly. */
#include <cmx.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

/* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
static int gelu_ops(void *ctx, const cmx_array *in, size_t n_in,
                    cmx_array *out, size_t cap, size_t *n_out) {
  (void)ctx, (void)n_in, (void)cap;
  cmx_array k[4] = {NULL}, t[9] = {NULL};
  double kv[4] = {0.044715, 0.7978845608028654, 1.0, 0.5};
  int st = 0;
  for (int i = 0; i < 4 && !st; i++)
    st = cmx_full(&k[i], NULL, 0, kv[i], CMX_F32, NULL);
  cmx_array x = in[0];
  if (!st) st = cmx_square(&t[0], x, NULL);
  if (!st) st = cmx_multiply(&t[1], t[0], x, NULL);
  if (!st) st = cmx_multiply(&t[2], t[1], k[0], NULL);
  if (!st) st = cmx_add(&t[3], t[2], x, NULL);
  if (!st) st = cmx_multiply(&t[4], t[3], k[1], NULL);
  if (!st) st = cmx_tanh(&t[5], t[4], NULL);
  if (!st) st = cmx_add(&t[6], t[5], k[2], NULL);
  if (!st) st = cmx_multiply(&t[7], t[6], x, NULL);
  if (!st) st = cmx_multiply(&t[8], t[7], k[3], NULL);
  if (!st) {
    out[0] = t[8];
    t[8] = NULL;
    *n_out = 1;
  }
  for (int i = 0; i < 4; i++) cmx_array_free(k[i]);
  for (int i = 0; i < 9; i++) cmx_array_free(t[i]);
  return st;
}

struct job {
  int kind; /* 0 the ops, 1 compiled, 2 the gelu_tanh op */
  cmx_compiled c;
  cmx_array x;
};

static int run_once(const void *ctx) {
  const struct job *j = ctx;
  cmx_array o = NULL;
  size_t n = 0;
  int st = j->kind == 0   ? gelu_ops(NULL, &j->x, 1, &o, 1, &n)
           : j->kind == 1 ? cmx_compiled_call(j->c, &j->x, 1, &o, 1, &n)
                          : cmx_gelu_tanh(&o, j->x, NULL);
  if (!st) st = cmx_eval(&o, 1);
  cmx_array_free(o);
  return st;
}

static const char *const kind_names[3] = {"gelu as 9 ops", "compiled, fused",
                                          "gelu_tanh op"};

static void label_of(char *buf, size_t len, int tier, int nt) {
  snprintf(buf, len, "compile %s %d thread%s", bench_tier_shape(tier), nt,
           nt > 1 ? "s" : "");
}

int compile_steps(void) {
  int n = 0;
  char label[64];
  for (int ti = 0; ti < g_opts.nthreads; ti++)
    for (int tier = TIER_L2; tier <= TIER_BIG; tier++) {
      label_of(label, sizeof label, tier, g_opts.threads[ti]);
      n += bench_wants(label);
    }
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    snprintf(label, sizeof label, "compile replay 16 %d thread%s",
             g_opts.threads[ti], g_opts.threads[ti] > 1 ? "s" : "");
    n += bench_wants(label);
  }
  return n;
}

static void add_row(int kind, int tier, int nt, double s, int64_t n,
                    double peak, double unfused_s, int st) {
  struct bench_row r = {.threads = nt, .median_s = s, .unit = UNIT_GBPS,
                        .ratio = -1, .pass = -1};
  snprintf(r.family, sizeof r.family, "compile");
  snprintf(r.name, sizeof r.name, "%s", kind_names[kind]);
  snprintf(r.shape, sizeof r.shape, "%s", bench_tier_shape(tier));
  if (st) {
    r.pass = -2;
    snprintf(r.note, sizeof r.note, "%s", cmx_last_error());
    bench_add_row(&r);
    return;
  }
  r.rate = 8.0 * (double)n / s / 1e9; /* x read once, y written once */
  if (peak > 0) {
    r.ratio = r.rate / peak;
    snprintf(r.ref, sizeof r.ref, "copy");
  }
  if (kind == 1) {
    /* predicted: 9 passes -> 1, bound by STREAM on big arrays (3x at
     * least) and by the ops' compute in L2 (1.5x at least) */
    double want = tier == TIER_BIG ? 3.0 : 1.5;
    snprintf(r.target, sizeof r.target, ">=%.1fx ops", want);
    r.pass = unfused_s / s >= want;
  }
  if (kind > 0)
    snprintf(r.note, sizeof r.note, "%.2fx the 9 ops", unfused_s / s);
  bench_add_row(&r);
}

static void replay_rows(int nt) {
  char label[64];
  snprintf(label, sizeof label, "compile replay 16 %d thread%s", nt,
           nt > 1 ? "s" : "");
  if (!bench_step(label)) return;
  int64_t sh[1] = {16};
  float v[16];
  for (int i = 0; i < 16; i++) v[i] = 0.1f * (float)i - 0.7f;
  struct job j = {0};
  int st = cmx_set_num_threads(nt);
  if (!st) st = cmx_array_from_data(&j.x, v, CMX_F32, sh, 1);
  if (!st) st = cmx_compile(&j.c, gelu_ops, NULL, 0);
  double t[2] = {0, 0};
  for (int k = 0; k < 2 && !st; k++) {
    j.kind = k;
    t[k] = bench_time_calls(run_once, &j, &st);
  }
  for (int k = 0; k < 2; k++) {
    struct bench_row r = {.threads = nt, .median_s = t[k],
                          .rate = t[k] * 1e6, .unit = UNIT_US, .ratio = -1,
                          .pass = st ? -2 : -1};
    snprintf(r.family, sizeof r.family, "compile");
    snprintf(r.name, sizeof r.name, "%s + eval", kind_names[k]);
    snprintf(r.shape, sizeof r.shape, "16");
    if (st) snprintf(r.note, sizeof r.note, "%s", cmx_last_error());
    else if (k) snprintf(r.note, sizeof r.note, "%.2fx the 9 ops", t[0] / t[1]);
    bench_add_row(&r);
  }
  cmx_compiled_free(j.c);
  cmx_array_free(j.x);
}

void compile_run(void) {
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    int nt = g_opts.threads[ti];
    for (int tier = TIER_L2; tier <= TIER_BIG; tier++) {
      char label[64];
      label_of(label, sizeof label, tier, nt);
      if (!bench_step(label)) continue;
      int64_t n = tier == TIER_BIG ? (int64_t)1 << 24 : (int64_t)1 << 16;
      int64_t sh[2] = {n >> 12 ? n >> 12 : 1, n >> 12 ? 4096 : n};
      float *v = malloc((size_t)n * sizeof *v);
      struct job j = {0};
      int st = v ? cmx_set_num_threads(nt) : CMX_ENOMEM;
      for (int64_t i = 0; v && i < n; i++)
        v[i] = (float)((i * 2654435761u) % 2000) * 0.003f - 3.0f;
      if (!st) st = cmx_array_from_data(&j.x, v, CMX_F32, sh, 2);
      free(v);
      if (!st) st = cmx_compile(&j.c, gelu_ops, NULL, 0);
      double t[3] = {0, 0, 0};
      for (int k = 0; k < 3 && !st; k++) {
        j.kind = k;
        t[k] = bench_time_calls(run_once, &j, &st);
      }
      double peak = g_peaks.copy[tier][nt];
      if (tier == TIER_BIG) bench_stream_again("copy", nt, &peak);
      for (int k = 0; k < 3; k++) add_row(k, tier, nt, t[k], n, peak, t[0], st);
      cmx_compiled_free(j.c);
      cmx_array_free(j.x);
    }
    replay_rows(nt);
  }
}
