/* cmx-bench --suite nn: the deck of issue 4 on each thread count, cmx beside
 * PyTorch's CPU ops (perf/torch_peer.py --suite nn, same thread count) and
 * MLX's (perf/mlx_peer.py --suite nn, 1 thread only: see perf/peer.c).
 * Per case and thread count a cmx row (GB/s or GFLOP/s, its ratio to the
 * reference and the target), then per peer two: the peer's (same
 * count of work, same reference) and cmx/<peer> (peer time over cmx time;
 * target 2x on the memory-bound ops). References, all measured in the same
 * run: STREAM copy (one read, one write: the 1-in-1-out ops, rope, astype,
 * the permuted copy and the depthwise conv), STREAM read (decode over the
 * KV bytes), and a cmx GEMM of the case's own shape for SDPA prefill and
 * conv2d (k_gemm). */
#include <cmx.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"

/* The cmx GEMM that a compute-bound case is held against: the same
 * multiply-adds as one dense matmul. SDPA prefill: its QK^T, 32 heads of
 * (2048, 128) @ (128, 2048) batched (PV has the same flops; QK^T's k = 128
 * is the harder shape for a GEMM). conv2d 7x7/2: its implicit GEMM,
 * (112*112, 7*7*3) @ (147, 64). */
enum { G_NONE, G_QK, G_CONV, G_QMM, G_COUNT };
static const struct {
  int b, m, k, n;
  const char *name, *shape;
} k_gemm[G_COUNT] = {
    {0, 0, 0, 0, "", ""},
    {32, 2048, 128, 2048, "gemm ref: sdpa QK^T", "32x2048x128x2048"},
    {1, 12544, 147, 64, "gemm ref: conv implicit", "12544x147x64"},
    {1, 512, 4096, 4096, "gemm ref: qmm prefill", "512x4096x4096"},
};

enum nn_ref { R_OWN, R_READ, R_COPY, R_GEMM, R_FMA };
struct nncase {
  const char *op;   /* the case in perf/ops.c */
  const char *name; /* the rows' name (NULL: op); the peer scripts' key
                       with '_' for ' ' */
  int acase;        /* 1: an attention/convolution case, else (rows, cols) */
  int64_t rows, cols;
  const char *shape;
  enum nn_ref ref; /* R_OWN: the op case's own STREAM figure */
  int gemm;        /* k_gemm index for R_GEMM */
  double want;     /* target: ratio to the reference (0: none) */
  int vs_peer;     /* 1: cmx at least 2x faster than each peer (the issue
                      sets it against torch; MLX-CPU is held to it too) */
};

/* The deck. The depthwise conv has no issue target: with 18 flops
 * per 8 bytes it is held to STREAM copy over its input and output, shown
 * without a verdict. */
static const struct nncase k_deck[] = {
    {"softmax axis=-1", NULL, 0, 4096, 4096, "4096x4096", R_OWN, 0, 0.85, 1},
    {"layer_norm w+b", NULL, 0, 4096, 4096, "4096x4096", R_OWN, 0, 0.85, 1},
    {"rms_norm w", NULL, 0, 4096, 4096, "4096x4096", R_OWN, 0, 0.85, 1},
    {"gelu", NULL, 0, 4096, 4096, "4096x4096", R_OWN, 0, 0.85, 1},
    {"silu", NULL, 0, 4096, 4096, "4096x4096", R_OWN, 0, 0.85, 1},
    {"rope L=2048 D=128", NULL, 0, 4096, 2048, "1x32x2048x128", R_OWN, 0, 0.85,
     1},
    {"sdpa prefill causal", NULL, 1, 0, 0, "", R_GEMM, G_QK, 0.60, 0},
    {"sdpa decode KV=4096", NULL, 1, 0, 0, "", R_READ, 0, 0.80, 0},
    {"sdpa decode GQA 32/8", NULL, 1, 0, 0, "", R_READ, 0, 0.80, 0},
    {"sdpa decode bf16 KV=4096", NULL, 1, 0, 0, "", R_READ, 0, 0.80, 0},
    {"conv2d 7x7/2 3->64", NULL, 1, 0, 0, "", R_GEMM, G_CONV, 0.70, 0},
    {"conv2d dw 3x3 128", NULL, 1, 0, 0, "", R_COPY, 0, 0, 0},
    /* beyond the deck: ResNet's dense 3x3 layers, against the FMA
     * peak, no target */
    {"conv2d 3x3 64->64", NULL, 1, 0, 0, "", R_FMA, 0, 0, 0},
    {"conv2d 3x3 512->512", NULL, 1, 0, 0, "", R_FMA, 0, 0, 0},
    {"permute (D/8,D/8,64)->(64,D/8,D/8)", "permute copy", 0, 16384, 4096,
     "2048x512x64", R_OWN, 0, 0.60, 0},
    /* beyond the deck: the (B, L, H, D) -> (B, H, L, D) copy of
     * attention heads (runs of D kept), no target */
    {"permute heads (B,L,H,D)->(B,H,L,D)", "permute heads", 0, 16384, 4096,
     "8x2048x32x128", R_OWN, 0, 0, 0},
    {"astype f32->bf16", NULL, 0, 4096, 4096, "16M", R_OWN, 0, 0.85, 1},
    /* quantized_matmul, MLX's format (torch has none): decode against
     * STREAM read over the packed bytes, prefill against the f32 GEMM of
     * the same shape (its dequantised slabs run that GEMM) */
    {"qmm decode 4bit g64", NULL, 1, 0, 0, "", R_READ, 0, 0.80, 0},
    {"qmm prefill 4bit g64", NULL, 1, 0, 0, "", R_GEMM, G_QMM, 0.85, 0},
};
#define NDECK (int)(sizeof k_deck / sizeof k_deck[0])

/* Each peer's result line per case and thread-list index (median_s 0:
 * none); written by on_peer_line while peer_run runs. */
static struct peer_line g_peer[PEER_COUNT][NDECK][BENCH_MAX_THREADS];
/* GEMM reference GFLOP/s per k_gemm and thread-list index (0: not yet). */
static double g_gemm[G_COUNT][BENCH_MAX_THREADS];

static const char *name_of(const struct nncase *c) {
  return c->name ? c->name : c->op;
}

/* Equal but for '_' against ' ' (the peer scripts' keys have no spaces). */
static int same_key(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (*a != *b && !((*a == '_' || *a == ' ') && (*b == '_' || *b == ' ')))
      return 0;
  return *a == *b;
}

static int wants(int ci, int nt) {
  char label[96];
  snprintf(label, sizeof label, "nn %s %d thread%s", name_of(&k_deck[ci]), nt,
           nt > 1 ? "s" : "");
  return bench_wants(label);
}

/* The cases of thread count nt that the filter keeps, as the arguments of
 * the peer scripts: --only with the names, ' ' as '_', in quotes (names hold
 * '>'). Returns how many. */
static int only_arg(char *buf, size_t n, int nt) {
  int k = 0;
  size_t len = (size_t)snprintf(buf, n, "--suite nn --only '");
  for (int ci = 0; ci < NDECK; ci++) {
    if (!wants(ci, nt))
      continue;
    if (k++ && len + 2 < n)
      buf[len++] = ',';
    for (const char *s = name_of(&k_deck[ci]); *s && len + 2 < n; s++)
      buf[len++] = *s == ' ' ? '_' : *s;
  }
  buf[len++] = '\'';
  buf[len] = 0;
  return k;
}

/* Which peer and thread-list index peer_run's lines are for. */
struct peer_at {
  int p, ti;
};

static void on_peer_line(const struct peer_line *l, void *ctx) {
  const struct peer_at *at = ctx;
  for (int ci = 0; ci < NDECK; ci++)
    if (same_key(l->name, name_of(&k_deck[ci]))) {
      g_peer[at->p][ci][at->ti] = *l;
    }
}

int nn_steps(void) {
  int n = 0;
  char args[1024];
  for (int ti = 0; ti < g_opts.nthreads; ti++)
    for (int ci = 0; ci < NDECK; ci++)
      n += wants(ci, g_opts.threads[ti]);
  for (int p = 0; n && p < PEER_COUNT; p++) {
    if (!peer_have(p))
      continue;
    for (int ti = 0; ti < g_opts.nthreads; ti++)
      n += peer_runs_at(p, g_opts.threads[ti]) &&
           only_arg(args, sizeof args, g_opts.threads[ti]) > 0;
  }
  return n;
}

/* GFLOP/s of k_gemm[g] at thread-list index ti, measured once (its row is
 * added then); 0 on error. */
static double gemm_ref(int g, int ti) {
  int nt = g_opts.threads[ti], st;
  if (g_gemm[g][ti] > 0)
    return g_gemm[g][ti];
  struct bench_row r = {
      .threads = nt, .unit = UNIT_GFLOPS, .ratio = -1, .pass = -1};
  snprintf(r.family, sizeof r.family, "nn");
  snprintf(r.name, sizeof r.name, "%s", k_gemm[g].name);
  snprintf(r.shape, sizeof r.shape, "%s", k_gemm[g].shape);
  r.median_s = gemm_cmx_time(k_gemm[g].b, k_gemm[g].m, k_gemm[g].k, k_gemm[g].n,
                             nt, &st);
  if (st || r.median_s <= 0) {
    r.pass = -2;
    snprintf(r.note, sizeof r.note, "%s: %s", cmx_status_string(st),
             cmx_last_error());
    bench_add_row(&r);
    return 0;
  }
  r.rate = 2.0 * k_gemm[g].b * k_gemm[g].m * k_gemm[g].k * k_gemm[g].n /
           r.median_s / 1e9;
  double fma = nt <= BENCH_MAX_THREADS ? g_peaks.fma_f32[nt] : 0;
  if (fma > 0) {
    r.ratio = r.rate / fma;
    snprintf(r.ref, sizeof r.ref, "fma");
  }
  snprintf(r.note, sizeof r.note, "cmx_matmul, the reference of %s",
           g == G_QK     ? "sdpa prefill"
           : g == G_CONV ? "conv2d 7x7/2"
                         : "qmm prefill");
  bench_add_row(&r);
  return g_gemm[g][ti] = r.rate;
}

/* Peer p's row and the cmx/<peer> row beside cmx row c of case ci.
 * Without a timed cmx row, only the peer's row, with the script's own
 * rate. */
static void peer_rows(int p, int ci, int ti, const struct bench_row *c) {
  const struct nncase *d = &k_deck[ci];
  const struct peer_line *l = &g_peer[p][ci][ti];
  const char *peer = peer_name(p);
  double ts = l->median_s;
  if (ts <= 0)
    return;
  int timed = c && c->pass != -2 && c->median_s > 0;
  struct bench_row r = {.threads = l->threads, .ratio = -1, .pass = -1};
  if (timed) {
    r = *c;
    r.rate = c->rate * c->median_s / ts; /* cmx's count of work */
    r.ratio = c->ratio > 0 ? c->ratio * c->median_s / ts : -1;
    r.target[0] = 0;
    r.pass = -1;
  } else {
    r.rate = l->rate;
    r.unit = strcmp(l->unit, "GFLOP/s") ? UNIT_GBPS : UNIT_GFLOPS;
    snprintf(r.family, sizeof r.family, "nn");
    snprintf(r.shape, sizeof r.shape, "%s", l->shape);
  }
  snprintf(r.name, sizeof r.name, "%s %s", peer, name_of(d));
  r.median_s = ts;
  snprintf(r.note, sizeof r.note, "%.63s", l->note);
  bench_add_row(&r);
  if (!timed)
    return;
  static const char *units[] = {"GB/s", "GFLOP/s", "us", "x"};
  struct bench_row x = {.threads = c->threads,
                        .median_s = c->median_s,
                        .rate = ts / c->median_s,
                        .unit = UNIT_X,
                        .ratio = -1,
                        .pass = -1};
  snprintf(x.family, sizeof x.family, "nn");
  snprintf(x.name, sizeof x.name, "cmx/%s %s", peer, name_of(d));
  snprintf(x.shape, sizeof x.shape, "%s", c->shape);
  snprintf(x.ref, sizeof x.ref, "%s", peer);
  if (d->vs_peer) {
    snprintf(x.target, sizeof x.target, ">=2.00x");
    x.pass = x.rate >= 2.0;
  }
  snprintf(x.note, sizeof x.note, "cmx %.2f, %s %.2f %s", c->rate, peer, r.rate,
           units[c->unit]);
  bench_add_row(&x);
}

static const struct bench_row *cmx_row(int ci, int ti) {
  const struct nncase *d = &k_deck[ci];
  int nt = g_opts.threads[ti];
  double read = nt <= BENCH_MAX_THREADS ? g_peaks.read[TIER_BIG][nt] : 0,
         copy = nt <= BENCH_MAX_THREADS ? g_peaks.copy[TIER_BIG][nt] : 0;
  if (!d->acase)
    return ops_case_row(d->op, d->name, d->rows, d->cols, d->shape, d->want,
                        nt);
  if (d->ref == R_GEMM) {
    struct bench_row *r =
        ops_acase_row(d->op, d->name, nt, UNIT_GFLOPS, "gemm ref",
                      gemm_ref(d->gemm, ti), d->want);
    double fma = nt <= BENCH_MAX_THREADS ? g_peaks.fma_f32[nt] : 0;
    if (r && r->pass != -2 && fma > 0)
      snprintf(r->note, sizeof r->note, "%.0f%% of fma", 100 * r->rate / fma);
    return r;
  }
  if (d->ref == R_FMA)
    return ops_acase_row(d->op, d->name, nt, UNIT_GFLOPS, "fma",
                         nt <= BENCH_MAX_THREADS ? g_peaks.fma_f32[nt] : 0,
                         0);
  return ops_acase_row(d->op, d->name, nt, UNIT_GBPS,
                       d->ref == R_READ ? "read" : "copy",
                       d->ref == R_READ ? read : copy, d->want);
}

void nn_run(void) {
  char label[96], args[1024];
  int any = 0;
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    int nt = g_opts.threads[ti];
    if (!only_arg(args, sizeof args, nt))
      continue;
    any = 1;
    for (int p = 0; p < PEER_COUNT; p++) {
      struct peer_at at = {p, ti};
      if (!peer_runs_at(p, nt) || !peer_have(p))
        continue;
      snprintf(label, sizeof label, "nn %s peer %d thread%s", peer_name(p), nt,
               nt > 1 ? "s" : "");
      bench_progress(label);
      peer_run(p, args, nt, on_peer_line, &at);
    }
  }
  if (!any)
    return;
  for (int ci = 0; ci < NDECK; ci++) {
    for (int ti = 0; ti < g_opts.nthreads; ti++) {
      int nt = g_opts.threads[ti];
      snprintf(label, sizeof label, "nn %s %d thread%s", name_of(&k_deck[ci]),
               nt, nt > 1 ? "s" : "");
      if (!bench_step(label))
        continue;
      const struct bench_row *c = cmx_row(ci, ti);
      for (int p = 0; p < PEER_COUNT; p++)
        peer_rows(p, ci, ti, c);
    }
    ops_release(); /* the next case's inputs differ */
  }
}
