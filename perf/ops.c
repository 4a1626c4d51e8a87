/* The op deck: binary, unary, reduction, conversion and copy families
 * through the public API, at three tiers (64x64, 256x256 = L2-sized and
 * 4096x4096 = far larger than L3), on each thread count. One repetition
 * builds a fresh graph on evaluated inputs and times cmx_eval only; rows keep
 * the median. GB/s counts each input and the output once; the ratio divides
 * by the same-run STREAM figure of the same tier and thread count. */
#include <cmx.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

enum { IN_X = 1, IN_P = 2, IN_ROW = 4, IN_SCALAR = 8, IN_XH = 16,
       IN_ROWH = 32, IN_XD = 64 };
enum ref { REF_TRIAD, REF_COPY, REF_READ };

struct inputs {
  cmx_array x;      /* (R, C) uniform in [-3, 3) */
  cmx_array p;      /* (R, C) uniform in [0.25, 4): positive */
  cmx_array row;    /* (C,) */
  cmx_array scalar; /* () */
  cmx_array xh, rowh; /* x and row in bf16, where a case uses them */
  cmx_array xd;       /* x in f64, where a case uses it */
};

struct opcase {
  const char *family, *name;
  int (*build)(cmx_array *out, const struct inputs *in);
  unsigned uses; /* inputs the bytes count includes */
  enum ref ref;
  int target; /* 1: big tier must reach 85% of ref */
  /* Elements a thread the driver needs before it splits the op (kernels/
   * reduce SPLIT_ELEMS, a quarter of it for logsumexp; take: 256 KiB of
   * rows); 0: split at any size worth it. Below it the op runs on one
   * thread by design, and its L2 speedup row has no target. */
  long split;
};

static const int k_last[1] = {-1}, k_first[1] = {0};

static int b_add(cmx_array *o, const struct inputs *in) {
  return cmx_add(o, in->x, in->p, NULL);
}
static int b_mul(cmx_array *o, const struct inputs *in) {
  return cmx_multiply(o, in->x, in->p, NULL);
}
static int b_max(cmx_array *o, const struct inputs *in) {
  return cmx_maximum(o, in->x, in->p, NULL);
}
static int b_adds(cmx_array *o, const struct inputs *in) {
  return cmx_add(o, in->x, in->scalar, NULL);
}
static int b_addr(cmx_array *o, const struct inputs *in) {
  return cmx_add(o, in->x, in->row, NULL);
}
static int u_neg(cmx_array *o, const struct inputs *in) {
  return cmx_neg(o, in->x, NULL);
}
static int u_exp(cmx_array *o, const struct inputs *in) {
  return cmx_exp(o, in->x, NULL);
}
static int u_tanh(cmx_array *o, const struct inputs *in) {
  return cmx_tanh(o, in->x, NULL);
}
static int u_gelu(cmx_array *o, const struct inputs *in) {
  return cmx_gelu(o, in->x, NULL);
}
static int u_silu(cmx_array *o, const struct inputs *in) {
  return cmx_silu(o, in->x, NULL);
}
static int u_sqrt(cmx_array *o, const struct inputs *in) {
  return cmx_sqrt(o, in->p, NULL);
}
static int u_sigmoid(cmx_array *o, const struct inputs *in) {
  return cmx_sigmoid(o, in->x, NULL);
}
static int r_sum(cmx_array *o, const struct inputs *in) {
  return cmx_sum(o, in->x, NULL, 0, false, NULL);
}
static int r_sum_last(cmx_array *o, const struct inputs *in) {
  return cmx_sum(o, in->x, k_last, 1, false, NULL);
}
static int r_sum_first(cmx_array *o, const struct inputs *in) {
  return cmx_sum(o, in->x, k_first, 1, false, NULL);
}
static int r_max(cmx_array *o, const struct inputs *in) {
  return cmx_max(o, in->x, NULL, 0, false, NULL);
}
static int r_argmax(cmx_array *o, const struct inputs *in) {
  return cmx_argmax(o, in->x, -1, false, NULL);
}
static int r_var(cmx_array *o, const struct inputs *in) {
  return cmx_var(o, in->x, NULL, 0, false, NULL);
}
static int r_lse(cmx_array *o, const struct inputs *in) {
  return cmx_logsumexp(o, in->x, k_last, 1, false, NULL);
}
static int r_sum_last_h(cmx_array *o, const struct inputs *in) {
  return cmx_sum(o, in->xh, k_last, 1, false, NULL);
}
static int r_sum_first_h(cmx_array *o, const struct inputs *in) {
  return cmx_sum(o, in->xh, k_first, 1, false, NULL);
}
static int n_softmax_h(cmx_array *o, const struct inputs *in) {
  return cmx_softmax(o, in->xh, -1, NULL);
}
static int n_rms_norm_h(cmx_array *o, const struct inputs *in) {
  return cmx_rms_norm(o, in->xh, in->rowh, 1e-5f, NULL);
}
static int c_bf16(cmx_array *o, const struct inputs *in) {
  return cmx_astype(o, in->x, CMX_BF16, NULL);
}
static int c_f16(cmx_array *o, const struct inputs *in) {
  return cmx_astype(o, in->x, CMX_F16, NULL);
}
static int c_i8(cmx_array *o, const struct inputs *in) {
  return cmx_astype(o, in->x, CMX_I8, NULL);
}
static int c_transpose(cmx_array *o, const struct inputs *in) {
  cmx_array t;
  int st = cmx_transpose(&t, in->x, NULL, 0, NULL);
  if (st)
    return st;
  st = cmx_contiguous(o, t, NULL);
  cmx_array_free(t);
  return st;
}

static int n_softmax(cmx_array *o, const struct inputs *in) {
  return cmx_softmax(o, in->x, -1, NULL);
}
static int n_log_softmax(cmx_array *o, const struct inputs *in) {
  return cmx_log_softmax(o, in->x, -1, NULL);
}
static int n_layer_norm(cmx_array *o, const struct inputs *in) {
  return cmx_layer_norm(o, in->x, in->row, in->row, 1e-5f, NULL);
}
static int n_rms_norm(cmx_array *o, const struct inputs *in) {
  return cmx_rms_norm(o, in->x, in->row, 1e-5f, NULL);
}
static int n_silu_mul(cmx_array *o, const struct inputs *in) {
  return cmx_silu_mul(o, in->x, in->p, NULL);
}
static int n_softplus(cmx_array *o, const struct inputs *in) {
  return cmx_softplus(o, in->x, NULL);
}
/* x as (1, H, L, 128) heads, L = 2048 where x is big enough (the big tier
 * is (1, 64, 2048, 128): all of x, so the byte count stays exact). */
static int n_rope(cmx_array *o, const struct inputs *in) {
  int64_t n = cmx_array_size(in->x), L = n / 128 < 2048 ? n / 128 : 2048;
  int64_t sh[4] = {1, n / (L * 128), L, 128};
  cmx_array v;
  int st = cmx_reshape(&v, in->x, sh, 4, NULL);
  if (st)
    return st;
  st = cmx_rope(o, v, 128, false, 10000.0f, 1.0f, 0, NULL);
  cmx_array_free(v);
  return st;
}

/* contiguous(transpose(reshape(x, sh), perm)), nd axes. */
static int permuted_copy(cmx_array *o, cmx_array x, const int64_t *sh,
                         const int *perm, int nd) {
  cmx_array r, t;
  int st = cmx_reshape(&r, x, sh, nd, NULL);
  if (st)
    return st;
  st = cmx_transpose(&t, r, perm, nd, NULL);
  cmx_array_free(r);
  if (st)
    return st;
  st = cmx_contiguous(o, t, NULL);
  cmx_array_free(t);
  return st;
}

/* x as (B, L, 32, 128) attention heads, L = 2048 where x is big enough
 * (else all of x: B = 1), copied to (B, 32, L, 128): the permute that
 * keeps 512-byte runs (kernels/x32-transpose/x32-transpose.c's runs). */
static int c_heads(cmx_array *o, const struct inputs *in) {
  int64_t n = cmx_array_size(in->x), L = n / 4096 < 2048 ? n / 4096 : 2048;
  int64_t sh[4] = {n / (L * 4096), L, 32, 128};
  static const int perm[4] = {0, 2, 1, 3};
  return permuted_copy(o, in->x, sh, perm, 4);
}

/* x (R, C) as (R C / (8 C), C/8, 64) permuted to (64, C/8, R C / (8 C)): at
 * the big tier (512, 512, 64), the (2048, 512, 64) of the issue on
 * (16384, 4096) (the nn suite). */
static int c_permute(cmx_array *o, const struct inputs *in) {
  int64_t c = cmx_array_shape(in->x)[1], sh[3] = {-1, c / 8, 64};
  static const int perm[3] = {2, 1, 0};
  return permuted_copy(o, in->x, sh, perm, 3);
}
/* Embedding lookup: every row of the (D, D) table, in reverse order. */
static int g_take(cmx_array *o, const struct inputs *in) {
  int64_t d = cmx_array_shape(in->x)[0];
  cmx_array ix;
  int st = cmx_arange(&ix, (double)(d - 1), -1, -1, CMX_I32, NULL);
  if (st)
    return st;
  st = cmx_take(o, in->x, ix, 0, NULL);
  cmx_array_free(ix);
  return st;
}

/* Random fills of x's shape (f32): the output bytes only. */
static int g_random(cmx_array *o, const struct inputs *in, int normal) {
  cmx_array key;
  int st = cmx_random_key(&key, 7);
  if (st)
    return st;
  const int64_t *sh = cmx_array_shape(in->x);
  int nd = cmx_array_ndim(in->x);
  st = normal ? cmx_random_normal(o, sh, nd, CMX_F32, 0, 1, key, NULL)
              : cmx_random_uniform(o, -1, 1, sh, nd, CMX_F32, key, NULL);
  cmx_array_free(key);
  return st;
}
static int g_uniform(cmx_array *o, const struct inputs *in) {
  return g_random(o, in, 0);
}
static int g_normal(cmx_array *o, const struct inputs *in) {
  return g_random(o, in, 1);
}

/* float64 transcendentals (kernels/f64-vunary) */
static int u_exp_d(cmx_array *o, const struct inputs *in) {
  return cmx_exp(o, in->xd, NULL);
}
static int u_tanh_d(cmx_array *o, const struct inputs *in) {
  return cmx_tanh(o, in->xd, NULL);
}

static const struct opcase k_cases[] = {
    {"binary", "add", b_add, IN_X | IN_P, REF_TRIAD, 1, 0},
    {"binary", "multiply", b_mul, IN_X | IN_P, REF_TRIAD, 1, 0},
    {"binary", "maximum", b_max, IN_X | IN_P, REF_TRIAD, 1, 0},
    {"binary", "add scalar", b_adds, IN_X | IN_SCALAR, REF_COPY, 1, 0},
    {"binary", "add row", b_addr, IN_X | IN_ROW, REF_COPY, 1, 0},
    {"unary", "neg", u_neg, IN_X, REF_COPY, 1, 0},
    {"unary", "exp", u_exp, IN_X, REF_COPY, 1, 0},
    {"unary", "tanh", u_tanh, IN_X, REF_COPY, 1, 0},
    {"unary", "gelu", u_gelu, IN_X, REF_COPY, 1, 0},
    {"unary", "silu", u_silu, IN_X, REF_COPY, 1, 0},
    {"unary", "sqrt", u_sqrt, IN_P, REF_COPY, 1, 0},
    {"unary", "sigmoid", u_sigmoid, IN_X, REF_COPY, 1, 0},
    /* f64: 8-byte elements, compute-bound on 2 cores (no target) */
    {"unary", "exp f64", u_exp_d, IN_XD, REF_COPY, 0, 0},
    {"unary", "tanh f64", u_tanh_d, IN_XD, REF_COPY, 0, 0},
    {"reduce", "sum all", r_sum, IN_X, REF_READ, 1, 1 << 16},
    {"reduce", "sum axis=-1", r_sum_last, IN_X, REF_READ, 1, 1 << 16},
    {"reduce", "sum axis=0", r_sum_first, IN_X, REF_READ, 1, 1 << 16},
    {"reduce", "max all", r_max, IN_X, REF_READ, 1, 1 << 16},
    {"reduce", "argmax axis=-1", r_argmax, IN_X, REF_READ, 1, 1 << 16},
    {"reduce", "var all", r_var, IN_X, REF_READ, 1, 1 << 16},
    {"reduce", "logsumexp axis=-1", r_lse, IN_X, REF_READ, 1, 1 << 14},
    /* bf16 data: the f32 kernels on blocks widened in L1 (no target) */
    {"reduce", "sum axis=-1 bf16", r_sum_last_h, IN_XH, REF_READ, 0, 1 << 16},
    {"reduce", "sum axis=0 bf16", r_sum_first_h, IN_XH, REF_READ, 0, 1 << 16},
    {"cvt", "astype f32->bf16", c_bf16, IN_X, REF_COPY, 0, 0},
    {"cvt", "astype f32->f16", c_f16, IN_X, REF_COPY, 0, 0},
    /* saturating, truncating: the cvt rows since 9eedd68 (no target) */
    {"cvt", "astype f32->int8", c_i8, IN_X, REF_COPY, 0, 0},
    {"copy", "contiguous(x.T)", c_transpose, IN_X, REF_COPY, 0, 0},
    {"copy", "permute (D/8,D/8,64)->(64,D/8,D/8)", c_permute, IN_X, REF_COPY,
     0, 0},
    {"copy", "permute heads (B,L,H,D)->(B,H,L,D)", c_heads, IN_X, REF_COPY, 0,
     0},
    {"index", "take rows (embedding)", g_take, IN_X, REF_COPY, 0, 1 << 16},
    /* output bytes only (no input read); no target */
    {"random", "uniform f32", g_uniform, 0, REF_COPY, 0, 0},
    {"random", "normal f32", g_normal, 0, REF_COPY, 0, 0},
    {"nn", "softmax axis=-1", n_softmax, IN_X, REF_COPY, 1, 0},
    {"nn", "log_softmax axis=-1", n_log_softmax, IN_X, REF_COPY, 1, 0},
    {"nn", "layer_norm w+b", n_layer_norm, IN_X | IN_ROW, REF_COPY, 1, 0},
    {"nn", "rms_norm w", n_rms_norm, IN_X | IN_ROW, REF_COPY, 1, 0},
    {"nn", "rope L=2048 D=128", n_rope, IN_X, REF_COPY, 1, 0},
    {"nn", "silu_mul", n_silu_mul, IN_X | IN_P, REF_TRIAD, 1, 0},
    {"nn", "softplus", n_softplus, IN_X, REF_COPY, 0, 0},
    {"nn", "softmax axis=-1 bf16", n_softmax_h, IN_XH, REF_COPY, 0, 0},
    {"nn", "rms_norm w bf16", n_rms_norm_h, IN_XH | IN_ROWH, REF_COPY, 0, 0},
};
#define NCASES (int)(sizeof k_cases / sizeof k_cases[0])

static const int64_t k_dim[TIER_COUNT] = {64, 256, 4096};
static const char *k_tier_short[TIER_COUNT] = {"4K", "64K", "16M"};

/* Median seconds per case, tier and thread-list index; 0: not run. */
static double g_med[NCASES][TIER_COUNT][BENCH_MAX_THREADS];

static void label_of(char *buf, size_t n, const struct opcase *c, int tier,
                     int nt) {
  snprintf(buf, n, "%s %s %s %d thread%s", c->family, c->name,
           k_tier_short[tier], nt, nt > 1 ? "s" : "");
}

static int acases_steps(void);
int ops_steps(void) {
  int n = acases_steps();
  char label[96];
  for (int i = 0; i < NCASES; i++)
    for (int t = 0; t < TIER_COUNT; t++)
      for (int ti = 0; ti < g_opts.nthreads; ti++) {
        label_of(label, sizeof label, &k_cases[i], t, g_opts.threads[ti]);
        n += bench_wants(label);
      }
  return n;
}

static void fill(float *v, size_t n, float lo, float hi, uint32_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = lo + (hi - lo) * (float)(seed >> 8) * (1.0f / 16777216.0f);
  }
}

/* Evaluated (rows, cols) inputs; p only where uses has IN_P (the nn suite's
 * 256 MB permute input needs no twin). Returns a cmx status. */
static int make_inputs(struct inputs *in, int64_t rows, int64_t cols,
                       unsigned uses) {
  size_t n = (size_t)(rows * cols);
  float *buf = malloc(n * sizeof *buf);
  int64_t shape[2] = {rows, cols};
  int st = CMX_ENOMEM;
  memset(in, 0, sizeof *in);
  if (!buf)
    return st;
  fill(buf, n, -3.0f, 3.0f, 1);
  st = cmx_array_from_data(&in->x, buf, CMX_F32, shape, 2);
  if (!st)
    st = cmx_array_from_data(&in->row, buf + 7, CMX_F32, shape + 1, 1);
  if (!st)
    st = cmx_array_from_data(&in->scalar, buf + 3, CMX_F32, NULL, 0);
  if (!st && (uses & IN_P)) {
    fill(buf, n, 0.25f, 4.0f, 2);
    st = cmx_array_from_data(&in->p, buf, CMX_F32, shape, 2);
  }
  free(buf);
  cmx_array all[4] = {in->x, in->row, in->scalar, in->p};
  if (!st)
    st = cmx_eval(all, (uses & IN_P) ? 4 : 3);
  if (!st && (uses & (IN_XH | IN_ROWH))) {
    st = cmx_astype(&in->xh, in->x, CMX_BF16, NULL);
    if (!st)
      st = cmx_astype(&in->rowh, in->row, CMX_BF16, NULL);
    cmx_array h[2] = {in->xh, in->rowh};
    if (!st)
      st = cmx_eval(h, 2);
  }
  if (!st && (uses & IN_XD)) {
    st = cmx_astype(&in->xd, in->x, CMX_F64, NULL);
    if (!st)
      st = cmx_eval(&in->xd, 1);
  }
  return st;
}

static void free_inputs(struct inputs *in) {
  cmx_array_free(in->x);
  cmx_array_free(in->p);
  cmx_array_free(in->row);
  cmx_array_free(in->scalar);
  cmx_array_free(in->xh);
  cmx_array_free(in->rowh);
  cmx_array_free(in->xd);
  memset(in, 0, sizeof *in);
}

static double input_bytes(const struct inputs *in, unsigned uses) {
  double b = 0;
  if (uses & IN_X)
    b += (double)cmx_array_nbytes(in->x);
  if (uses & IN_P)
    b += (double)cmx_array_nbytes(in->p);
  if (uses & IN_ROW)
    b += (double)cmx_array_nbytes(in->row);
  if (uses & IN_SCALAR)
    b += (double)cmx_array_nbytes(in->scalar);
  if (uses & IN_XH)
    b += (double)cmx_array_nbytes(in->xh);
  if (uses & IN_ROWH)
    b += (double)cmx_array_nbytes(in->rowh);
  if (uses & IN_XD)
    b += (double)cmx_array_nbytes(in->xd);
  return b;
}

static void set_error(struct bench_row *r, int st) {
  r->pass = -2;
  snprintf(r->note, sizeof r->note, "%s: %s", cmx_status_string(st),
           cmx_last_error());
}

/* Adds the row of a case that failed with status st before timing. */
static struct bench_row *error_row(const char *family, const char *name,
                                   const char *shape, int nt, int st) {
  struct bench_row r = {.threads = nt, .ratio = -1};
  snprintf(r.family, sizeof r.family, "%s", family);
  snprintf(r.name, sizeof r.name, "%s", name);
  snprintf(r.shape, sizeof r.shape, "%s", shape);
  set_error(&r, st);
  return bench_add_row(&r);
}

/* Times one case: fresh graphs per repetition, cmx_eval timed. The L2
 * tier evaluates BATCH independent copies of the case in one cmx_eval and
 * reports the time per copy: the steady-state throughput of a stream fed
 * with L2-resident work (one lone small eval runs on the calling thread, so
 * its thread count says nothing). Returns a cmx status; *med is the median
 * seconds per copy, *out_bytes the output's size. */
#define BATCH 16
static int time_case(const struct opcase *c, const struct inputs *in,
                     int batch, double *med, double *out_bytes) {
  static double v[8192];
  cmx_array o[BATCH];
  double est = 0;
  int reps = 0;
  for (int pass = 0; pass < 2; pass++) {
    int n = pass ? reps : (g_opts.quick ? 1 : 2);
    for (int r = 0; r < n && (pass || est < g_opts.row_budget_s); r++) {
      int st = CMX_OK, made = 0;
      for (; made < batch && !st; made++) st = c->build(&o[made], in);
      if (st) {
        for (int i = 0; i < made - 1; i++) cmx_array_free(o[i]);
        return st;
      }
      double t0 = bench_now();
      st = cmx_eval(o, (size_t)batch);
      double t = (bench_now() - t0) / batch;
      *out_bytes = (double)cmx_array_nbytes(o[0]);
      for (int i = 0; i < batch; i++) cmx_array_free(o[i]);
      if (st) return st;
      if (pass) v[r] = t;
      else est = t * batch;
    }
    if (!pass) reps = bench_reps(est);
  }
  *med = bench_median(v, reps);
  return CMX_OK;
}

static double ref_peak(enum ref ref, int tier, int nt) {
  if (nt > BENCH_MAX_THREADS)
    return 0;
  return ref == REF_TRIAD  ? g_peaks.triad[tier][nt]
         : ref == REF_COPY ? g_peaks.copy[tier][nt]
                           : g_peaks.read[tier][nt];
}

/* Adds the row of case ci on in at nt threads, named name (NULL: the
 * case's) with the shape label shape: GB/s, the ratio to the same-run STREAM
 * figure of tier, target want of it (0: none). Returns the stored row. */
static struct bench_row *run_one(int ci, int tier, int nt,
                                 const struct inputs *in, const char *name,
                                 const char *shape, double want) {
  const struct opcase *c = &k_cases[ci];
  static const char *ref_names[] = {"triad", "copy", "read"};
  struct bench_row r = {
      .threads = nt, .unit = UNIT_GBPS, .ratio = -1, .pass = -1};
  snprintf(r.family, sizeof r.family, "%s", c->family);
  snprintf(r.name, sizeof r.name, "%s", name ? name : c->name);
  snprintf(r.shape, sizeof r.shape, "%s", shape);
  snprintf(r.ref, sizeof r.ref, "%s", ref_names[c->ref]);
  if (want > 0)
    snprintf(r.target, sizeof r.target, ">=%.0f%%", 100 * want);
  int st = cmx_set_num_threads(nt);
  if (st) {
    set_error(&r, st);
    return bench_add_row(&r);
  }
  r.threads = cmx_get_num_threads();
  double med = 0, ob = 0;
  st = time_case(c, in, tier == TIER_L2 ? BATCH : 1, &med, &ob);
  if (st) {
    set_error(&r, st);
    return bench_add_row(&r);
  }
  r.median_s = med;
  r.rate = (input_bytes(in, c->uses) + ob) / med / 1e9;
  double peak = ref_peak(c->ref, tier, nt), start = peak, again = 0;
  if (tier == TIER_BIG) /* the host's bandwidth now (bench.h) */
    again = bench_stream_again(ref_names[c->ref], nt, &peak);
  if (peak > 0)
    r.ratio = r.rate / peak;
  if (want > 0)
    r.pass = r.ratio >= want;
  /* Streaming stores skip the read-for-ownership that the plain STREAM
   * figure pays, so big outputs can pass 100%: the note gives the ratio
   * to the non-temporal figure as well. */
  double nt_peak = tier != TIER_BIG || nt > BENCH_MAX_THREADS ? 0
                   : c->ref == REF_TRIAD ? g_peaks.triad_nt[nt]
                   : c->ref == REF_COPY  ? g_peaks.copy_nt[nt]
                                         : 0;
  if (nt_peak > 0)
    snprintf(r.note, sizeof r.note, "%.0f%% of %s nt; %s now %.0f, start %.0f GB/s",
             100 * r.rate / nt_peak, ref_names[c->ref], ref_names[c->ref],
             again, start);
  return bench_add_row(&r);
}

/* ---- attention and convolution at the fixed shapes ------------ */
/* Inputs are made and evaluated once per case; each repetition times
 * cmx_eval of a fresh node. GFLOP/s (causal prefill counts the keys each
 * query sees); decode also gives GB/s over the KV bytes, depthwise over
 * input plus output bytes. Ratio: the same-run FMA peak (decode: STREAM
 * read of the big tier). */
struct acase {
  const char *name, *shape;
  int64_t sh[3][4]; /* inputs: q, k, v or x, w (ndim 4) */
  int nin;
  int kind;         /* 0 prefill causal, 1 decode, 2 conv 7x7/2, 3 dw 3x3,
                       6 dense 3x3 (stride 1, padding 1),
                       4 quantized_matmul (x, w quantised 4-bit g64 by
                       a_make: in[1..3] wq, scales, biases), 5 decode with
                       q, k, v cast to bf16 by a_make (a bf16 KV cache) */
  double flops, bytes;
};
static const struct acase k_acases[] = {
    {"sdpa prefill causal", "1x32x2048x128",
     {{1, 32, 2048, 128}, {1, 32, 2048, 128}, {1, 32, 2048, 128}}, 3, 0,
     4.0 * 128 * 32 * 2048.0 * 2049 / 2, 0},
    {"sdpa decode KV=4096", "1x32x1x128",
     {{1, 32, 1, 128}, {1, 32, 4096, 128}, {1, 32, 4096, 128}}, 3, 1,
     4.0 * 32 * 4096 * 128, 2.0 * 32 * 4096 * 128 * 4},
    /* grouped-query decode as Llama-style models run it: 32 query heads
     * over 8 KV heads, each KV head read once for its four query rows */
    {"sdpa decode GQA 32/8", "1x32x1x128/8kv",
     {{1, 32, 1, 128}, {1, 8, 4096, 128}, {1, 8, 4096, 128}}, 3, 1,
     4.0 * 32 * 4096 * 128, 2.0 * 8 * 4096 * 128 * 4},
    {"sdpa decode bf16 KV=4096", "1x32x1x128",
     {{1, 32, 1, 128}, {1, 32, 4096, 128}, {1, 32, 4096, 128}}, 3, 5,
     4.0 * 32 * 4096 * 128, 2.0 * 32 * 4096 * 128 * 2},
    {"conv2d 7x7/2 3->64", "1x224x224x3",
     {{1, 224, 224, 3}, {64, 7, 7, 3}}, 2, 2, 2.0 * 112 * 112 * 64 * 147, 0},
    {"conv2d dw 3x3 128", "1x56x56x128",
     {{1, 56, 56, 128}, {128, 3, 3, 1}}, 2, 3, 2.0 * 56 * 56 * 128 * 9,
     2.0 * 56 * 56 * 128 * 4},
    /* ResNet's 3x3 convolutions (224 input) at its first and last stage:
     * 3136 pixels by 64 channels, and 49 pixels by 512 (weights 9.4 MB) */
    {"conv2d 3x3 64->64", "1x56x56x64",
     {{1, 56, 56, 64}, {64, 3, 3, 64}}, 2, 6, 2.0 * 56 * 56 * 64 * 576, 0},
    {"conv2d 3x3 512->512", "1x7x7x512",
     {{1, 7, 7, 512}, {512, 3, 3, 512}}, 2, 6, 2.0 * 7 * 7 * 512 * 4608, 0},
    /* bytes: the packed codes and the f32 scales and biases, read once */
    {"qmm decode 4bit g64", "1x4096 @ 4096x4096",
     {{1, 1, 1, 4096}, {1, 1, 4096, 4096}}, 2, 4, 2.0 * 4096 * 4096,
     4096.0 * 4096 / 2 + 2.0 * 4096 * 64 * 4},
    {"qmm prefill 4bit g64", "512x4096 @ 4096x4096",
     {{1, 1, 512, 4096}, {1, 1, 4096, 4096}}, 2, 4, 2.0 * 512 * 4096 * 4096,
     4096.0 * 4096 / 2 + 2.0 * 4096 * 64 * 4},
};
#define NACASES (int)(sizeof k_acases / sizeof k_acases[0])

static int a_build(const struct acase *c, cmx_array *in, cmx_array *o) {
  static const int s2[2] = {2, 2}, p3[2] = {3, 3}, p1[2] = {1, 1},
                   one[2] = {1, 1};
  switch (c->kind) {
  case 0:
    return cmx_scaled_dot_product_attention(o, in[0], in[1], in[2],
                                            0.08838835f, "causal", NULL,
                                            NULL);
  case 1:
  case 5:
    return cmx_scaled_dot_product_attention(o, in[0], in[1], in[2],
                                            0.08838835f, "", NULL, NULL);
  case 2:
    return cmx_conv2d(o, in[0], in[1], s2, p3, one, 1, NULL);
  case 6:
    return cmx_conv2d(o, in[0], in[1], one, p1, one, 1, NULL);
  case 4:
    return cmx_quantized_matmul(o, in[0], in[1], in[2], in[3], true, 64, 4,
                                NULL);
  default:
    return cmx_conv2d(o, in[0], in[1], one, p1, one, 128, NULL);
  }
}

/* Adds the row of acase c on evaluated inputs in at nt threads, named name
 * (NULL: the case's): unit UNIT_GFLOPS (the other rate in the note) or
 * UNIT_GBPS over c->bytes, its ratio to ref_rate (named ref; <= 0: none),
 * target want of it (0: none). Returns the stored row. */
static struct bench_row *a_run_one(const struct acase *c, int nt,
                                   cmx_array *in, const char *name,
                                   enum bench_unit unit, const char *ref,
                                   double ref_rate, double want) {
  struct bench_row r = {.threads = nt, .unit = unit, .ratio = -1,
                        .pass = -1};
  snprintf(r.family, sizeof r.family, "nn");
  snprintf(r.name, sizeof r.name, "%s", name ? name : c->name);
  snprintf(r.shape, sizeof r.shape, "%s", c->shape);
  snprintf(r.ref, sizeof r.ref, "%s", ref);
  if (want > 0)
    snprintf(r.target, sizeof r.target, ">=%.0f%%", 100 * want);
  int st = cmx_set_num_threads(nt);
  static double v[1024];
  double est = 0;
  int reps = 0;
  for (int pass = 0; pass < 2 && !st; pass++) {
    int n = pass ? reps : 1;
    for (int i = 0; i < n && !st; i++) {
      cmx_array o;
      if ((st = a_build(c, in, &o)))
        break;
      double t0 = bench_now();
      st = cmx_eval(&o, 1);
      double t = bench_now() - t0;
      cmx_array_free(o);
      if (pass)
        v[i] = t;
      else
        est = t;
    }
    if (!pass)
      reps = bench_reps(est) < 1024 ? bench_reps(est) : 1024;
  }
  if (st) {
    set_error(&r, st);
    return bench_add_row(&r);
  }
  r.threads = cmx_get_num_threads();
  r.median_s = bench_median(v, reps);
  double gflops = c->flops / r.median_s / 1e9,
         gbs = c->bytes / r.median_s / 1e9;
  r.rate = unit == UNIT_GBPS ? gbs : gflops;
  double start = ref_rate, again = 0;
  if (unit == UNIT_GBPS && ref_rate > 0) /* the host's bandwidth now */
    again = bench_stream_again(ref, nt, &ref_rate);
  if (ref_rate > 0)
    r.ratio = r.rate / ref_rate;
  if (want > 0)
    r.pass = r.ratio >= want;
  if (unit == UNIT_GBPS)
    snprintf(r.note, sizeof r.note, "%.1f GFLOP/s; %s now %.0f, start %.0f GB/s",
             gflops, ref, again, start);
  else if (c->bytes > 0)
    snprintf(r.note, sizeof r.note, "%.1f GB/s in+out", gbs);
  return bench_add_row(&r);
}

/* Evaluated random inputs of acase c into in[0 .. c->nin); a cmx status. */
static int a_make(const struct acase *c, cmx_array *in) {
  int st = CMX_OK;
  for (int i = 0; i < c->nin && !st; i++) {
    size_t n = 1;
    for (int d = 0; d < 4; d++)
      n *= (size_t)c->sh[i][d];
    float *buf = malloc(n * sizeof *buf);
    if (!buf)
      return CMX_ENOMEM;
    fill(buf, n, -1.0f, 1.0f, 7u + (uint32_t)i);
    st = cmx_array_from_data(&in[i], buf, CMX_F32, c->sh[i], 4);
    free(buf);
  }
  if (!st && c->kind == 4) { /* w -> wq, scales, biases */
    cmx_array w = in[1];
    st = cmx_quantize(&in[1], &in[2], &in[3], w, 64, 4, NULL);
    cmx_array_free(w);
    return st ? st : cmx_eval(in, 4);
  }
  for (int i = 0; i < c->nin && !st && c->kind == 5; i++) {
    cmx_array x = in[i];
    st = cmx_astype(&in[i], x, CMX_BF16, NULL);
    cmx_array_free(x);
    if (st) in[i] = NULL;
  }
  return st ? st : cmx_eval(in, (size_t)c->nin);
}

static void acases_run(void) {
  char label[96];
  for (int ci = 0; ci < NACASES; ci++) {
    const struct acase *c = &k_acases[ci];
    cmx_array in[4] = {0};
    int made = 0, st = CMX_OK;
    for (int ti = 0; ti < g_opts.nthreads; ti++) {
      int nt = g_opts.threads[ti];
      snprintf(label, sizeof label, "nn %s %d thread%s", c->name, nt,
               nt > 1 ? "s" : "");
      if (!bench_step(label))
        continue;
      if (!made)
        st = a_make(c, in);
      made = 1;
      if (st) {
        error_row("nn", c->name, c->shape, nt, st);
        continue;
      }
      if (c->kind == 1 || c->kind == 5 ||
          (c->kind == 4 && c->sh[0][2] == 1)) /* decode */
        a_run_one(c, nt, in, NULL, UNIT_GBPS, "read",
                  nt <= BENCH_MAX_THREADS ? g_peaks.read[TIER_BIG][nt] : 0,
                  0);
      else
        a_run_one(c, nt, in, NULL, UNIT_GFLOPS, "fma",
                  nt <= BENCH_MAX_THREADS ? g_peaks.fma_f32[nt] : 0, 0);
    }
    for (int i = 0; i < 4; i++)
      cmx_array_free(in[i]);
  }
}

static int acases_steps(void) {
  char label[96];
  int n = 0;
  for (int ci = 0; ci < NACASES; ci++)
    for (int ti = 0; ti < g_opts.nthreads; ti++) {
      int nt = g_opts.threads[ti];
      snprintf(label, sizeof label, "nn %s %d thread%s", k_acases[ci].name,
               nt, nt > 1 ? "s" : "");
      n += bench_wants(label);
    }
  return n;
}

void ops_run(void) {
  char label[96];
  for (int tier = 0; tier < TIER_COUNT; tier++) {
    struct inputs in;
    int made = 0, st = CMX_OK;
    for (int ci = 0; ci < NCASES; ci++) {
      for (int ti = 0; ti < g_opts.nthreads; ti++) {
        label_of(label, sizeof label, &k_cases[ci], tier, g_opts.threads[ti]);
        if (!bench_step(label))
          continue;
        if (!made) {
          cmx_set_num_threads(g_opts.threads[g_opts.nthreads - 1]);
          st = make_inputs(&in, k_dim[tier], k_dim[tier], ~0u);
          made = 1;
          if (st)
            fprintf(stderr, "ops: inputs %s failed: %s: %s\n",
                    bench_tier_shape(tier), cmx_status_string(st),
                    cmx_last_error());
        }
        if (st) {
          error_row(k_cases[ci].family, k_cases[ci].name,
                    bench_tier_shape(tier), g_opts.threads[ti], st);
          continue;
        }
        const struct bench_row *r =
            run_one(ci, tier, g_opts.threads[ti], &in, NULL,
                    bench_tier_shape(tier),
                    k_cases[ci].target && tier == TIER_BIG ? 0.85 : 0);
        if (r && r->pass != -2)
          g_med[ci][tier][ti] = r->median_s;
      }
    }
    if (made)
      free_inputs(&in);
  }
  acases_run();
}

double g_rtt_before;

/* n-thread over 1-thread speedup of every L2-tier case measured both ways
 * (BATCH copies per eval, see time_case); target 0.9 n (1.8x on 2). */
void ops_speedups(void) {
  int one = -1;
  for (int ti = 0; ti < g_opts.nthreads; ti++)
    if (g_opts.threads[ti] == 1)
      one = ti;
  if (one < 0)
    return;
  /* The host's core-to-core round trip, before the deck and now: the
   * speedups of few-us ops move with it. */
  double rtt = bench_core_rtt_ns();
  if (rtt > 0) {
    struct bench_row r = {.threads = 2,
                          .median_s = rtt * 1e-9,
                          .rate = rtt * 1e-3,
                          .unit = UNIT_US,
                          .ratio = -1,
                          .pass = -1};
    snprintf(r.family, sizeof r.family, "speedup");
    snprintf(r.name, sizeof r.name, "core-to-core round trip");
    snprintf(r.shape, sizeof r.shape, "-");
    snprintf(r.note, sizeof r.note, "before the op deck %.0f ns, now %.0f ns",
             g_rtt_before, rtt);
    bench_add_row(&r);
  }
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    int nt = g_opts.threads[ti];
    if (nt == 1)
      continue;
    for (int ci = 0; ci < NCASES; ci++) {
      double t1 = g_med[ci][TIER_L2][one], tn = g_med[ci][TIER_L2][ti];
      if (t1 <= 0 || tn <= 0)
        continue;
      struct bench_row r = {.threads = nt,
                            .median_s = tn,
                            .rate = t1 / tn,
                            .unit = UNIT_X,
                            .ratio = -1};
      snprintf(r.family, sizeof r.family, "speedup");
      snprintf(r.name, sizeof r.name, "%s", k_cases[ci].name);
      snprintf(r.shape, sizeof r.shape, "%s", bench_tier_shape(TIER_L2));
      snprintf(r.ref, sizeof r.ref, "1 thread");
      const long per = k_dim[TIER_L2] * k_dim[TIER_L2] / nt;
      if (per < k_cases[ci].split) {
        r.pass = -1;
        snprintf(r.note, sizeof r.note,
                 "1 thread %.2f us; not split: one thread by design below "
                 "%ldK elements a thread", t1 * 1e6, k_cases[ci].split >> 10);
      } else {
        snprintf(r.target, sizeof r.target, ">=%.2fx", 0.9 * nt);
        r.pass = r.rate >= 0.9 * nt;
        snprintf(r.note, sizeof r.note, "1 thread %.2f us", t1 * 1e6);
      }
      bench_add_row(&r);
    }
  }
}

/* ---- the same cases for the nn suite (perf/nn.c, perf/nn.h) ----------- */
/* Inputs are kept from one call to the next while the case asks for the
 * same ones, so that the thread counts of one case share them. */
static struct {
  struct inputs in;
  int64_t rows, cols; /* 0: none */
  unsigned uses;
  const struct acase *ac; /* acase whose inputs ain holds, or NULL */
  cmx_array ain[4];
} g_nn;

void ops_release(void) {
  if (g_nn.rows)
    free_inputs(&g_nn.in);
  for (int i = 0; i < 4; i++)
    cmx_array_free(g_nn.ain[i]);
  memset(&g_nn, 0, sizeof g_nn);
}

/* Index of the case named op in k_cases (acase 0) or k_acases; -1, with a
 * printed line, when there is none. */
static int case_index(const char *op, int acase) {
  for (int i = 0; i < (acase ? NACASES : NCASES); i++)
    if (!strcmp(acase ? k_acases[i].name : k_cases[i].name, op))
      return i;
  fprintf(stderr, "ops: no case \"%s\"\n", op);
  return -1;
}

struct bench_row *ops_case_row(const char *op, const char *name,
                               int64_t rows, int64_t cols, const char *shape,
                               double want, int nt) {
  int ci = case_index(op, 0);
  if (ci < 0)
    return NULL;
  const struct opcase *c = &k_cases[ci];
  if (g_nn.rows != rows || g_nn.cols != cols || (c->uses & ~g_nn.uses)) {
    ops_release();
    cmx_set_num_threads(g_opts.threads[g_opts.nthreads - 1]);
    int st = make_inputs(&g_nn.in, rows, cols, c->uses);
    if (st) {
      free_inputs(&g_nn.in);
      return error_row("nn", name, shape, nt, st);
    }
    g_nn.rows = rows, g_nn.cols = cols, g_nn.uses = c->uses;
  }
  struct bench_row *r = run_one(ci, TIER_BIG, nt, &g_nn.in, name, shape, want);
  if (r)
    snprintf(r->family, sizeof r->family, "nn");
  return r;
}

struct bench_row *ops_acase_row(const char *op, const char *name, int nt,
                                enum bench_unit unit, const char *ref,
                                double ref_rate, double want) {
  int ci = case_index(op, 1);
  if (ci < 0)
    return NULL;
  const struct acase *c = &k_acases[ci];
  if (g_nn.ac != c) {
    ops_release();
    int st = a_make(c, g_nn.ain);
    if (st) {
      ops_release();
      return error_row("nn", name, c->shape, nt, st);
    }
    g_nn.ac = c;
  }
  return a_run_one(c, nt, g_nn.ain, name, unit, ref, ref_rate, want);
}
