/* The row driver of softmax, log_softmax, layer_norm and rms_norm
 * (contract in nn.h): the rows are split across the team, each row is one
 * microkernel call. f32 rows run straight from x into y, and so do rows
 * whose x and y share a 16-bit type, where the level has 16-bit rows for
 * the op; other f16/bf16 rows go through one f32 tile per thread (convert,
 * run in place, convert back); f64 rows run the double loops below. */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sched/sched.h"
#include "nn.h"

struct job { /* copies of io and k: the job may outlive the caller's */
  enum cmx_rows_op op;
  struct cmx_rows_io io;
  const void *w, *b;
  float eps;
  struct cmx_rows_kernels k;
  atomic_int fail; /* set by any thread whose tile allocation failed */
};

static size_t dsize(cmx_dtype t) {
  return t == CMX_F64 ? 8 : t == CMX_F32 ? 4 : 2;
}

/* Softmax rows of at most SHORT_N: a kernel call a row cost more than
 * the row (16384 x 4 softmax, 1 thread: 18 ns a row). Here the reference
 * kernel's steps (f32-softmax-ref.c) SHORT_CHUNK rows at a time: the max
 * skipping NaN from -FLT_MAX, x - max, exp by the level's exp (the
 * polynomial of every softmax row) over the chunk at once, the sum in
 * double, log S by the level's log (the rows take logf). Scalar loops
 * otherwise: at 12 elements and more the kernel a row wins (4096 x 16
 * softmax 64 us a row a call, 135 here). 1 thread, f32, medians, before
 * -> after (torch): 32768 x 2 softmax 600 -> 144 us, 16384 x 4 299 ->
 * 163 (1484), 8192 x 8 149 -> 125 (1269), log_softmax 216 -> 166 (1013);
 * 65536 x 1 softmax 1187 -> 210-248 (1159), log_softmax 1294 -> 261 (674). */
#define SHORT_N 8
#define SHORT_CHUNK 64
static void short_softmax(const struct job *j, size_t m, const float *x,
                          size_t ldx, float *y) {
  const size_t n = j->io.n;
  const int lg = j->op == CMX_ROWS_LOG_SOFTMAX;
  _Alignas(64) float d[SHORT_CHUNK * SHORT_N], e[SHORT_CHUNK * SHORT_N];
  for (size_t r0 = 0; r0 < m; r0 += SHORT_CHUNK) {
    const size_t nr = m - r0 < SHORT_CHUNK ? m - r0 : SHORT_CHUNK;
    for (size_t i = 0; i < nr; i++) {
      const float *p = x + (r0 + i) * ldx;
      float mx = -FLT_MAX;
      for (size_t q = 0; q < n; q++) mx = p[q] > mx ? p[q] : mx;
      for (size_t q = 0; q < n; q++) d[i * n + q] = p[q] - mx;
    }
    j->k.vexp(nr * n, d, e);
    float c[SHORT_CHUNK];
    for (size_t i = 0; i < nr; i++) {
      double s = 0.0;
      for (size_t q = 0; q < n; q++) s += e[i * n + q];
      c[i] = lg ? (float)s : (float)(1.0 / s);
    }
    if (lg) j->k.vlog(nr, c, c); /* log S by the level's log, as the rows */
    for (size_t i = 0; i < nr; i++) {
      float *yr = y + (r0 + i) * n;
      if (lg)
        for (size_t q = 0; q < n; q++) yr[q] = d[i * n + q] - c[i];
      else
        for (size_t q = 0; q < n; q++) yr[q] = e[i * n + q] * c[i];
    }
  }
}

/* Short norm rows (SHORT_NORM_N): the kernel's per-row chain (the
 * horizontal sums, then 1 / sqrt, which the row's stores wait on) cost
 * more than such a row. Here SHORT_CHUNK rows at a time: the sums in
 * double a column at a time (the rows' chains side by side; layer_norm
 * about c = x[0] as the kernels), 1 / sqrt(var + eps) by the level's sqrt
 * and division over the chunk (each rounded once, as the kernels' sqrtf
 * and divss), then y = (x - c) rstd - (mean - c) rstd, times w, plus b.
 * 1 thread, f32, no weight, medians, kernel -> here (torch 2.15):
 * rms_norm 65536 x 1 640 -> 208 us (127), 32768 x 2 312 -> 154 (280),
 * 16384 x 4 161 -> 127 (156), 16384 x 5 276 -> 165 (174), but 8192 x 6
 * 77 -> 88; layer_norm 65536 x 1 931 -> 229 (1657), 16384 x 4 231 -> 131
 * (573), 8192 x 8 165 -> 112 (268), but 4096 x 12 57 -> 82. */
#define SHORT_NORM_N(rms) ((rms) ? 5u : 8u)
static void short_norm(const struct job *j, size_t m, const float *x,
                       size_t ldx, float *y) {
  const size_t n = j->io.n;
  const int rms = j->op == CMX_ROWS_RMS_NORM;
  const float *w = j->w, *b = rms ? NULL : j->b;
  const float one = 1.0f;
  const double inv_n = 1.0 / (double)n;
  for (size_t r0 = 0; r0 < m; r0 += SHORT_CHUNK) {
    const size_t nr = m - r0 < SHORT_CHUNK ? m - r0 : SHORT_CHUNK;
    const float *xc = x + r0 * ldx;
    double s1[SHORT_CHUNK], s2[SHORT_CHUNK];
    float c[SHORT_CHUNK], v[SHORT_CHUNK], nb[SHORT_CHUNK];
    for (size_t i = 0; i < nr; i++) {
      const float x0 = xc[i * ldx];
      c[i] = rms ? 0.0f : x0;
      const double d = (double)x0 - (double)c[i];
      s1[i] = d;
      s2[i] = d * d;
    }
    for (size_t q = 1; q < n; q++)
      for (size_t i = 0; i < nr; i++) {
        const double d = (double)xc[i * ldx + q] - (double)c[i];
        s1[i] += d;
        s2[i] += d * d;
      }
    for (size_t i = 0; i < nr; i++) {
      const double m1 = rms ? 0.0 : s1[i] * inv_n;
      double var = s2[i] * inv_n - m1 * m1;
      var = var > 0.0 ? var : 0.0;
      v[i] = (float)(var + (double)j->eps);
      nb[i] = (float)m1; /* mean - c, times rstd below */
    }
    j->k.vsqrt(nr, v, v);
    j->k.vbin[CMX_VBINARY_DIV](nr, &one, 0, v, 1, v); /* v: rstd */
    /* the variants as their own loops (w, b: 0 or 1 of each) */
#define APPLY(EXPR)                                                    \
  for (size_t i = 0; i < nr; i++) {                                    \
    const float *xi = xc + i * ldx;                                    \
    float *yi = y + (r0 + i) * n;                                      \
    const float r = v[i], sh = -nb[i] * r, ci = c[i];                  \
    for (size_t q = 0; q < n; q++) {                                   \
      const float t = (xi[q] - ci) * r + sh;                           \
      yi[q] = EXPR;                                                    \
    }                                                                  \
  }
    if (w && b) APPLY(t * w[q] + b[q])
    else if (w) APPLY(t * w[q])
    else if (b) APPLY(t + b[q])
    else APPLY(t)
#undef APPLY
  }
}

/* m rows of f32, row r at x + r * ldx and y + r * n; the norm kernels take
 * them in one call (they pair rows), softmax one by one. */
static void run_f32(const struct job *j, size_t m, const float *x, size_t ldx,
                    float *y) {
  const size_t n = j->io.n;
  if (j->op != CMX_ROWS_SOFTMAX && j->op != CMX_ROWS_LOG_SOFTMAX) {
    if (n <= SHORT_NORM_N(j->op == CMX_ROWS_RMS_NORM) && j->k.vsqrt &&
        j->k.vbin)
      short_norm(j, m, x, ldx, y);
    else
      j->k.norm(m, n, x, ldx, y, n, j->w, j->b, j->eps);
  } else if (n <= SHORT_N && j->k.vexp)
    short_softmax(j, m, x, ldx, y);
  else
    for (size_t r = 0; r < m; r++)
      j->k.softmax(n, x + r * ldx, y + r * n,
                    r + 1 < m ? x + (r + 1) * ldx : NULL);
}

/* y[i] = EXPR(i) for i < n, sixteen at a time through a local block,
 * which the compiler vectorises (y may be x: no alias check needed). */
#define ROW64(EXPR)                                                \
  do {                                                             \
    size_t i_ = 0;                                                 \
    for (; i_ + 16 <= n; i_ += 16) {                               \
      double t_[16];                                               \
      for (size_t q_ = 0; q_ < 16; q_++) t_[q_] = EXPR(i_ + q_);   \
      memcpy(y + i_, t_, sizeof t_);                               \
    }                                                              \
    for (; i_ < n; i_++) y[i_] = EXPR(i_);                         \
  } while (0)

/* The sum of (x[i] - c)^2 (sq) or of x[i] - c over n doubles in eight
 * chains (one add's latency an element had held 1024 x 1024 f64
 * layer_norm to 1.6 ms; with ROW64's vectorised stores 0.9-1.0, torch
 * 1.2-1.4), the chains added pairwise. */
#define SUM8(TERM)                                                 \
  do {                                                             \
    for (; i + 8 <= n; i += 8) {                                   \
      s0 += TERM(i), s1 += TERM(i + 1), s2 += TERM(i + 2);         \
      s3 += TERM(i + 3), s4 += TERM(i + 4), s5 += TERM(i + 5);     \
      s6 += TERM(i + 6), s7 += TERM(i + 7);                        \
    }                                                              \
    for (; i < n; i++) s0 += TERM(i);                              \
  } while (0)
#define DIFF(k) (x[k] - c)
#define DIFF2(k) ((x[k] - c) * (x[k] - c))
static double sum8(const double *x, size_t n, double c, int sq) {
  /* named accumulators: an array of them was kept in memory */
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  size_t i = 0;
  if (sq) SUM8(DIFF2);
  else SUM8(DIFF);
  return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}
#undef DIFF2
#undef DIFF
#undef SUM8

/* The f64 path: the f32 kernels' algorithms in double. */
static void run_f64(const struct job *j, const double *x, double *y) {
  const size_t n = j->io.n;
  const double *w = j->w, *b = j->b;
  if (j->op == CMX_ROWS_SOFTMAX || j->op == CMX_ROWS_LOG_SOFTMAX) {
    /* the level's row kernel (its passes in the level's vectors; the
     * loops here had run at SSE2's two lanes). 1024 x 1024, 1 thread,
     * interleaved: softmax 2.04-2.84 -> 1.44-1.48 ms, log_softmax
     * 2.24-3.18 -> 1.26-1.41 (torch 2.15: 2.3-2.7, 3.3) */
    j->k.softmax64(n, x, y, j->op == CMX_ROWS_LOG_SOFTMAX);
    return;
  }
  const double mean =
      j->op == CMX_ROWS_LAYER_NORM ? sum8(x, n, 0.0, 0) / (double)n : 0.0;
  const double q = sum8(x, n, mean, 1);
  const double rstd = 1.0 / sqrt(q / (double)n + (double)j->eps);
  /* a loop for each of weight and bias given or not (the tests inside
   * the loop held it to scalar code) */
  const int lb = b && j->op == CMX_ROWS_LAYER_NORM;
#define NORM_WB(i) ((x[i] - mean) * rstd * w[i] + b[i])
#define NORM_W(i) ((x[i] - mean) * rstd * w[i])
#define NORM_B(i) ((x[i] - mean) * rstd + b[i])
#define NORM(i) ((x[i] - mean) * rstd)
  if (w && lb) ROW64(NORM_WB);
  else if (w) ROW64(NORM_W);
  else if (lb) ROW64(NORM_B);
  else ROW64(NORM);
#undef NORM
#undef NORM_B
#undef NORM_W
#undef NORM_WB
}
#undef ROW64

/* x and y of one 16-bit type, with a 16-bit row for the op: the rows run
 * straight from x into y. */
static int rows16(const struct job *j) {
  const cmx_dtype t = j->io.xt;
  return (j->k.norm16 || j->k.softmax16) && t == j->io.yt &&
         (t == CMX_F16 || t == CMX_BF16);
}

static void rows_range(void *ctx, size_t r0, size_t r1) {
  struct job *j = ctx;
  const struct cmx_rows_io *io = &j->io;
  const size_t n = io->n, xs = dsize(io->xt), ys = dsize(io->yt);
  const char *x = io->x;
  char *y = io->y;
  if (io->xt == CMX_F64) {
    for (size_t r = r0; r < r1; r++)
      run_f64(j, (const double *)(x + r * io->ldx * xs),
              (double *)(y + r * n * ys));
    return;
  }
  if (rows16(j)) {
    if (j->k.norm16) {
      /* A 16-bit weight / bias widened here, per range: no buffer on the
       * caller, so the node stays async (cmx_rows_run). */
      const int h = io->w16 || io->b16;
      float wl[h ? n : 1], bl[h ? n : 1];
      const float *w = j->w, *b = j->b;
      const cmx_cvt_ukr_fn up =
          j->k.cvt[io->xt == CMX_F16 ? CMX_CVT_F16_F32 : CMX_CVT_BF16_F32];
      if (io->w16) up(n, io->w16, wl), w = wl;
      if (io->b16) up(n, io->b16, bl), b = bl;
      j->k.norm16(r1 - r0, n, x + r0 * io->ldx * 2, io->ldx, y + r0 * n * 2,
                  n, w, b, j->eps);
    }
    else
      for (size_t r = r0; r < r1; r++)
        j->k.softmax16(n, x + r * io->ldx * 2, y + r * n * 2,
                       r + 1 < r1 ? x + (r + 1) * io->ldx * 2 : NULL);
    return;
  }
  if (io->xt == CMX_F32 && io->yt == CMX_F32) {
    run_f32(j, r1 - r0, (const float *)(x + r0 * io->ldx * 4), io->ldx,
            (float *)(y + r0 * n * 4));
    /* The streaming rows' stores, ordered once for the range. */
    if (j->k.stream) atomic_thread_fence(memory_order_seq_cst);
    return;
  }
  float *tile = malloc(n * sizeof *tile);
  if (!tile) {
    atomic_store(&j->fail, 1);
    return;
  }
  const cmx_cvt_ukr_fn *cvt = j->k.cvt;
  for (size_t r = r0; r < r1; r++) {
    const void *xr = x + r * io->ldx * xs;
    void *yr = y + r * n * ys;
    const float *in = tile;
    if (io->xt == CMX_F32) in = xr;
    else cvt[io->xt == CMX_F16 ? CMX_CVT_F16_F32 : CMX_CVT_BF16_F32](n, xr, tile);
    if (io->yt == CMX_F32) {
      run_f32(j, 1, in, n, yr);
      continue;
    }
    run_f32(j, 1, in, n, tile);
    cvt[io->yt == CMX_F16 ? CMX_CVT_F32_F16 : CMX_CVT_F32_BF16](n, tile, yr);
  }
  if (j->k.stream) atomic_thread_fence(memory_order_seq_cst);
  free(tile);
}

/* The strided softmax (nn.h): items are (outer, block of SB inner). */
#define SB 256
struct sjob {
  enum cmx_rows_op op;
  const float *x;
  float *y;
  size_t n, inner, nblk;
  const struct cmx_rows_kernels *k;
};

static void strided_range(void *ctx, size_t b, size_t e) {
  const struct sjob *j = ctx;
  const size_t n = j->n, in = j->inner;
  const cmx_f32_vbinary_ukr_fn *v = j->k->vbin;
  _Alignas(64) float m[SB], s[SB], ex[SB];
  for (size_t it = b; it < e; it++) {
    const size_t o = it / j->nblk, c0 = it % j->nblk * SB;
    const size_t w = in - c0 < SB ? in - c0 : SB;
    const float *x = j->x + o * n * in + c0;
    float *y = j->y + o * n * in + c0;
    const float lo = -FLT_MAX;
    v[CMX_VBINARY_MAX](w, x, 1, &lo, 0, m);
    for (size_t r = 1; r < n; r++) v[CMX_VBINARY_MAX](w, m, 1, x + r * in, 1, m);
    /* y = x - max; exp of it summed (in place for softmax) */
    memset(s, 0, w * sizeof *s);
    for (size_t r = 0; r < n; r++) {
      float *yr = y + r * in, *e = j->op == CMX_ROWS_SOFTMAX ? yr : ex;
      v[CMX_VBINARY_SUB](w, x + r * in, 1, m, 1, yr);
      j->k->vexp(w, yr, e);
      v[CMX_VBINARY_ADD](w, s, 1, e, 1, s);
    }
    if (j->op == CMX_ROWS_SOFTMAX) {
      const float one = 1.0f;
      v[CMX_VBINARY_DIV](w, &one, 0, s, 1, s);
      for (size_t r = 0; r < n; r++)
        v[CMX_VBINARY_MUL](w, y + r * in, 1, s, 1, y + r * in);
    } else {
      j->k->vlog(w, s, s);
      for (size_t r = 0; r < n; r++)
        v[CMX_VBINARY_SUB](w, y + r * in, 1, s, 1, y + r * in);
    }
  }
}

void cmx_rows_softmax_strided(enum cmx_rows_op op, const float *x, float *y,
                              size_t outer, size_t n, size_t inner,
                              const struct cmx_rows_kernels *k, int nthreads) {
  struct sjob j = {op, x, y, n, inner, (inner + SB - 1) / SB, k};
  const size_t per = n * (inner < SB ? inner : SB);
  cmx_parallel_for(nthreads, outer * j.nblk, 1,
                   ((size_t)1 << 15) / (per ? per : 1) + 1, strided_range, &j);
}

int cmx_rows_run(enum cmx_rows_op op, const struct cmx_rows_io *io,
                 const void *w, const void *b, float eps,
                 const struct cmx_rows_kernels *k, int nthreads, int last) {
  struct job j = {.op = op, .io = *io, .w = w, .b = b, .eps = eps, .k = *k};
  atomic_init(&j.fail, 0);
  if (io->rows == 0 || io->n == 0) return 0;
  /* Fork only when each thread gets at least ~32K elements. */
  size_t grain = ((size_t)1 << 15) / io->n;
  grain = grain ? grain : 1;
  /* f32 rows and 16-bit rows allocate nothing, so cannot fail after an
   * async return (a failure could only reach the job's copy, not j). */
  const int async =
      last && ((io->xt == CMX_F32 && io->yt == CMX_F32) || rows16(&j));
  cmx_parallel_for_async(nthreads, io->rows, 1, cmx_batch_grain(grain),
                         rows_range, &j, async ? sizeof j : 0);
  return atomic_load(&j.fail) ? -1 : 0;
}
