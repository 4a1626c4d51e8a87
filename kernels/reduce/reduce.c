/* The reduction driver (contract in reduce.h). Inner reductions compute a
 * partial per (row, block) over the flat (row, block) space split across
 * the team, then combine each row's partials in block order; outer
 * reductions split the columns across the team and accumulate blocks of
 * rows into a double accumulator. Neither depends on the thread count. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../../arch/tuning.h"
#include "../../sched/sched.h"
#include "../elementwise/elementwise.h"
#include "reduce.h"

#define BLOCK CMX_RED_BLOCK /* elements per partial: 16 KiB of f32 */
#define OROWS 256    /* rows per outer block before folding into double */
#define OCOLS 4096   /* columns per outer tile: 16 KiB of accumulators */
/* Elements each thread must get before a reduction splits: on the 16-core
 * Sapphire Rapids, 16 or 64 L2-resident sums per eval (cmx_sum of a whole
 * array, 2 threads against 1, the median of 60-250 evals, 4 runs): 64K
 * elements (32K a thread) 0.89-1.29x, 256K 1.18-1.67x, when each eval was
 * handed to the worker and the caller woken. A synchronous eval on a full
 * team now runs on the caller (sched/stream.c, claim_here) and a run of
 * small nodes shares one region: on the 2-core Zen 5 VM 16K a thread gave
 * 64K-element sums 1.36-1.52x (64K a thread: 0.96-0.98x) in one session;
 * in the next, on the same VM, the same split gave 0.77x in the bench's
 * speedup row and 0.93x in a loop of 100K evals (1.41 -> 1.52 us), while
 * whole-array sums of 90K, 131K, 160K, 202K and 262K elements gave 1.07,
 * 0.98, 1.10, 1.39 and 2.34x: a split costs about 1 us here. 64K a thread
 * keeps the L2-sized sums on one thread and splits from 128K on.
 * logsumexp does an exp per element (64K as 256 rows: 9.8 us on one
 * thread, 1.17x on two at 16K a thread), so it splits at a quarter. */
#define SPLIT_ELEMS ((size_t)1 << 16)
static size_t split_elems(enum cmx_red_op op) {
  return op == CMX_RED_LOGSUMEXP ? SPLIT_ELEMS / 4 : SPLIT_ELEMS;
}
#define LSE_PREFIX 64 /* elements whose max shifts a logsumexp block */
#define PIECE 1024 /* elements a kernel call of a block from memory */
#define VAR_PREFIX 64 /* elements whose mean centres a var block's squares */

struct inner {
  enum cmx_red_op op;
  const void *x;
  size_t R, ld, nb;
  size_t piece;         /* elements a kernel call (PIECE from memory) */
  double *part;         /* O * nb partials: sum, product, max, min, ... */
  double *part2;        /* var: block M2; logsumexp: block sum of exp */
  int64_t *ipart;       /* argmax/argmin block indexes */
  double *out;          /* nb == 1: each task writes its row's result */
  int64_t *iout;
  struct cmx_red_dst dst; /* nb == 1 and dst.data: results stored there */
  struct cmx_red_kernels k; /* a copy: an async job outlives the caller's */
  int lse_fetch;        /* logsumexp: fetch the next block (g_lse_fetch) */
};

static double merge_var(const double *sum, const double *m2, size_t nb,
                        size_t R);
static double merge_lse(const double *mx, const double *se, size_t nb);

/* Whether logsumexp fetches the next block's stretch before each piece
 * (the tuning key logsumexp_fetch_next, env CMX_LOGSUMEXP_FETCH_NEXT;
 * default 1). Zen 5 VM, 4096 x 4096, 1 thread: 31-33 -> 42.6-47.0 GB/s
 * with it (e941523). On the Intel Xeon VM (model 167) its burst of 64
 * prefetches a piece stalls the exp loop on the fill buffers while the L2
 * streamer fetches ahead anyway: 1 thread, same process, two runs each,
 * 21.1-21.4 GB/s with, 27.3-28.3 without (STREAM read 28.7); 2 threads
 * 42.1-45.2 against 55.5-58.2. argmax, 2 ops a vector, gains from the
 * fetch there too (23.1-23.4 -> 26.0-26.5) and keeps it everywhere. */
static struct cmx_knob g_lse_fetch =
    CMX_KNOB("logsumexp_fetch_next", "CMX_LOGSUMEXP_FETCH_NEXT", 1);

/* The microkernel op of sum (and mean), prod, max and min. */
static enum cmx_rop rop_of(enum cmx_red_op op) {
  return op == CMX_RED_PROD  ? CMX_ROP_PROD
         : op == CMX_RED_MAX ? CMX_ROP_MAX
         : op == CMX_RED_MIN ? CMX_ROP_MIN
                             : CMX_ROP_SUM;
}

/* The length of the piece at q of the n-element block at p; when next (a
 * block follows), the same stretch of the next block is fetched first. */
static size_t next_piece(const struct inner *c, const float *p, size_t n,
                         size_t q, int next) {
  const size_t len = n - q < c->piece ? n - q : c->piece;
  if (next)
    for (size_t k = 0; k < len; k += 16) __builtin_prefetch(p + n + q + k);
  return len;
}

/* Rows of at most SHORT_R elements: a kernel call per row (whose set-up,
 * tails and horizontal sum are for long rows) and the per-task logic below
 * cost more than such a row (16384 x 4 f32 sum: 15 ns a row, half in the
 * kernel). Here the rows of a range go through one loop each, the op
 * outside it (sums in double, extremes in f32; 16-bit rows widened
 * SHORT_CHUNK rows at a time), logsumexp's exp and log by the level's
 * kernels over the chunk. 1 thread, f32, medians, before -> after
 * (torch 2.15): 16384 x 4 sum 248 -> 39 us (76), max 299 -> 71 (297),
 * argmax 753 -> 131 (433), logsumexp 1104 -> 211 (256); 4096 x 16
 * logsumexp 279 -> 154 (144); 65536 x 1 sum 1070 -> 86 (37), argmax
 * 1657 -> 53 (12.5), logsumexp 4443 -> 86 (286). */
#define SHORT_R 16
#define SHORT_CHUNK 64
static void short_rows(const struct inner *c, size_t b, size_t e,
                       size_t base, double *OUT, int64_t *IOUT) {
  const size_t R = c->R;
  _Alignas(64) float wide[SHORT_CHUNK * SHORT_R];
  for (size_t r0 = b; r0 < e; r0 += SHORT_CHUNK) {
    const size_t nr = e - r0 < SHORT_CHUNK ? e - r0 : SHORT_CHUNK;
    const float *x = (const float *)c->x + r0 * c->ld;
    size_t ld = c->ld;
    if (c->k.widen) {
      const uint16_t *h = (const uint16_t *)c->x + r0 * c->ld;
      if (c->ld == R)
        c->k.widen(nr * R, h, wide);
      else
        for (size_t i = 0; i < nr; i++)
          c->k.widen(R, h + i * c->ld, wide + i * R);
      x = wide;
      ld = R;
    }
    /* the op outside the row loop; a row of one element is its own
     * sum, extreme, ... (argmax 0) */
#define ROWS(BODY)                                                     \
  for (size_t i = 0; i < nr; i++) {                                    \
    const float *p = x + i * ld;                                       \
    double *o = &OUT[r0 + i - base];                                   \
    (void)o;                                                           \
    BODY                                                               \
  }
    /* Sums and products go a column at a time, each row's chain in its
     * own order, the chunk's chains side by side (a double add's latency
     * a step made one row's chain the bound: 4096 x 16 sum 41 -> 33 us,
     * 1 thread, torch 26). Extremes and argmax measured slower so (16384
     * x 4 argmax 132 -> 282 us: stores of the running best a step). */
#define COLS(ACC)                                                      \
  for (size_t i = 0; i < nr; i++) dv[i] = x[i * ld];                   \
  for (size_t q = 1; q < R; q++)                                       \
    for (size_t i = 0; i < nr; i++) dv[i] ACC x[i * ld + q];
    double dv[SHORT_CHUNK];
    switch (R == 1 && c->op != CMX_RED_VAR ? -1 : (int)c->op) {
      case -1:
        if (c->op == CMX_RED_ARGMAX || c->op == CMX_RED_ARGMIN)
          for (size_t i = 0; i < nr; i++) IOUT[r0 + i - base] = 0;
        else
          ROWS(*o = p[0];)
        break;
      case CMX_RED_SUM: case CMX_RED_MEAN: {
        const double sc = c->op == CMX_RED_MEAN ? 1.0 / (double)R : 1.0;
        COLS(+=)
        for (size_t i = 0; i < nr; i++) OUT[r0 + i - base] = dv[i] * sc;
        break;
      }
      case CMX_RED_PROD:
        COLS(*=)
        for (size_t i = 0; i < nr; i++) OUT[r0 + i - base] = dv[i];
        break;
      case CMX_RED_MAX: case CMX_RED_LOGSUMEXP:
        ROWS({ /* a NaN anywhere wins */
          float v = p[0];
          int nan = p[0] != p[0];
          for (size_t q = 1; q < R; q++) {
            v = p[q] > v ? p[q] : v;
            nan |= p[q] != p[q];
          }
          *o = nan ? NAN : v;
        })
        break;
      case CMX_RED_MIN:
        ROWS({
          float v = p[0];
          int nan = p[0] != p[0];
          for (size_t q = 1; q < R; q++) {
            v = p[q] < v ? p[q] : v;
            nan |= p[q] != p[q];
          }
          *o = nan ? NAN : v;
        })
        break;
      case CMX_RED_VAR:
        ROWS({
          double v = p[0];
          for (size_t q = 1; q < R; q++) v += p[q];
          const double mean = v / (double)R;
          double m2 = 0.0;
          for (size_t q = 0; q < R; q++) m2 += (p[q] - mean) * (p[q] - mean);
          *o = m2 / (double)R;
        })
        break;
      case CMX_RED_ARGMAX: case CMX_RED_ARGMIN: {
        /* the first NaN, else the first of the extremes */
        const int mx = c->op == CMX_RED_ARGMAX;
        for (size_t i = 0; i < nr; i++) {
          const float *p = x + i * ld;
          size_t best = 0;
          float bv = p[0];
          for (size_t q = 1; q < R && bv == bv; q++) {
            const float u = p[q];
            if (u != u || (mx ? u > bv : u < bv)) best = q, bv = u;
          }
          IOUT[r0 + i - base] = (int64_t)best;
        }
        break;
      }
      default: break;
    }
#undef ROWS
#undef COLS
    /* logsumexp: OUT holds each row's max; exp(x - max), the sums and
     * their logs in f32 (as the kernels take them), the chunk's rows at
     * once by the level's exp and log. A row of one element is itself. */
    if (c->op != CMX_RED_LOGSUMEXP || R == 1) continue;
    _Alignas(64) float d[SHORT_CHUNK * SHORT_R], se[SHORT_CHUNK];
    for (size_t i = 0; i < nr; i++) {
      const float m = (float)OUT[r0 + i - base], *p = x + i * ld;
      float *di = d + i * R;
      if (isfinite(m))
        for (size_t q = 0; q < R; q++) di[q] = p[q] - m;
      else
        for (size_t q = 0; q < R; q++) di[q] = 0.0f;
    }
    c->k.vexp(nr * R, d, d);
    for (size_t i = 0; i < nr; i++) {
      float v = 0.0f;
      for (size_t q = 0; q < R; q++) v += d[i * R + q];
      se[i] = v;
    }
    c->k.vlog(nr, se, se);
    for (size_t i = 0; i < nr; i++)
      if (isfinite(OUT[r0 + i - base])) OUT[r0 + i - base] += se[i];
  }
}

/* Tasks [b, e) of c, a (row, block) partial each, to P (P2, IP), and a
 * one-block row's result to OUT (IOUT), all indexed by task - base. var
 * reads memory once (its second pass runs while the block is still in
 * L1); logsumexp shifts by a prefix max (P: the shift, P2: the sum of
 * exp(x - shift)). Blocks are merged in double by the caller. */
static void inner_tasks(const struct inner *c, size_t b, size_t e,
                        size_t base, double *P, double *P2, int64_t *IP,
                        double *OUT, int64_t *IOUT) {
  if (c->R <= SHORT_R) { /* one block a row: task t is row t */
    short_rows(c, b, e, base, OUT, IOUT);
    return;
  }
  /* One division a range, not a task (a 64-bit div is ~40 cycles). */
  size_t row = b / c->nb, blk = b % c->nb;
  /* 16-bit data: sum, prod, max and min through the 16-bit inner kernels
   * (widening in registers) where the level has them; otherwise, and for
   * the other ops, each block widened here first, then reduced from L1
   * (as the f32 blocks of an astype copy, which it was before: bf16 sum
   * over the last axis of 4096 x 4096, 1 thread, 3.25 -> 0.88 ms). */
  const cmx_h16_rinner_ukr_fn *in16 =
      c->k.rinner16 && c->op <= CMX_RED_MEAN ? c->k.rinner16 : NULL;
  _Alignas(64) float wide[c->k.widen && !in16 ? BLOCK : 1];
  for (size_t t = b; t < e; t++) {
    size_t off = blk * BLOCK, n = c->R - off < BLOCK ? c->R - off : BLOCK;
    const float *p;
    if (in16) {
      const uint16_t *h = (const uint16_t *)c->x + row * c->ld + off;
      P[t - base] = in16[rop_of(c->op)](n, h);
      if (++blk == c->nb) blk = 0, row++;
      goto finish;
    }
    if (c->k.widen) {
      c->k.widen(n, (const uint16_t *)c->x + row * c->ld + off, wide);
      p = wide;
    } else {
      p = (const float *)c->x + row * c->ld + off;
    }
    if (++blk == c->nb) blk = 0, row++;
    /* The next task of this range starts where this block ends. */
    const int next = t + 1 < e && n == BLOCK && !c->k.widen &&
                     (blk != 0 || c->ld == c->R);
    switch (c->op) {
      case CMX_RED_SUM: case CMX_RED_MEAN: case CMX_RED_PROD:
      case CMX_RED_MAX: case CMX_RED_MIN:
        P[t - base] = c->k.rinner[rop_of(c->op)](n, p);
        break;
      case CMX_RED_VAR: {
        /* One pass from memory takes the sum and the squares about a
         * prefix mean c together, and M2 = S2 - n (mean - c)^2. With c from
         * a prefix the correction is small; where it is over S2/4 (a
         * trend: bits would cancel) the squares are taken again about the
         * block mean, from L1. (The squares from memory and then the sum
         * from L1, memory idle meanwhile: 4096 x 4096, 1 Zen 5 core,
         * 43-45 GB/s, about 80% of STREAM read; this 49-51, 88-90%.) */
        const size_t np = n < VAR_PREFIX ? n : VAR_PREFIX;
        const float cp = c->k.rinner[CMX_ROP_SUM](np, p) / (float)np;
        /* From memory the pass goes a piece a call, each after the fetch
         * of the same stretch of the next block (as argmax); in cache the
         * next block's first 4 KiB are fetched after it. */
        double s2 = 0.0, sum = 0.0;
        for (size_t q = 0; q < n; q += c->piece) {
          const size_t len = next_piece(c, p, n, q, next && c->piece < BLOCK);
          float ps;
          s2 += c->k.rsumsqdev(len, p + q, cp, &ps);
          sum += ps;
        }
        if (next && c->piece == BLOCK)
          for (size_t k = 0; k < 1024; k += 16) __builtin_prefetch(p + n + k);
        const double d = sum / (double)n - cp, corr = (double)n * d * d;
        P[t - base] = sum;
        P2[t - base] = corr <= 0.25 * s2
                          ? s2 - corr
                          : c->k.rsumsqdev(n, p, (float)(sum / (double)n),
                                            NULL);
        break;
      }
      case CMX_RED_LOGSUMEXP: {
        /* One read pass: shift by the max of a short prefix, which is
         * right unless a later element exceeds it by more than 88 (the sum
         * overflows): then the max pass and the sum again, in L1. */
        /* The kernel prefetches CMX_RD_PF = 1024 floats ahead, only inside
         * what it is given. With lse_fetch (Zen 5) the block goes PIECE
         * elements a call, each after the fetch of the same stretch of
         * the next block (as argmax). Without it (the Xeon VMs, where that
         * burst stalls on the fill buffers) one call takes the whole
         * block, so the kernel's own prefetch runs over it (a piece is no
         * longer than its distance: it never fired), and the next block's
         * first 4 KiB are fetched after it. Xeon VM, 4096 x 4096 from
         * memory, 1 thread: pieces 15-16 GB/s without the fetch, 20-22
         * with it; whole blocks 24.6-25.0 (a sum 29.1). */
        const size_t np = n < LSE_PREFIX ? n : LSE_PREFIX;
        float m = c->k.rinner[CMX_ROP_MAX](np, p);
        float s = 0.0f;
        if (!isfinite(m)) s = NAN;
        const size_t step = c->lse_fetch ? c->piece : n;
        for (size_t q = 0; q < n && isfinite(m); q += step) {
          const size_t len = c->lse_fetch ? next_piece(c, p, n, q, next) : n;
          s += c->k.rsumexp(len, p + q, m);
        }
        if (next && !c->lse_fetch && c->piece < BLOCK)
          for (size_t k = 0; k < 1024; k += 16) __builtin_prefetch(p + n + k);
        if (!isfinite(s)) {
          m = c->k.rinner[CMX_ROP_MAX](n, p);
          s = isfinite(m) ? c->k.rsumexp(n, p, m) : 0.0f;
        }
        P[t - base] = m;
        P2[t - base] = s;
        break;
      }
      case CMX_RED_ARGMAX: case CMX_RED_ARGMIN: {
        /* PIECE elements a call, the same stretch of the next block
         * fetched before each: the fetches spread over the block instead
         * of one burst (which the load queue drops or stalls on), and
         * memory never idles while a piece is searched. Pieces combine as
         * the kernel's own chunks do: the first NaN, else the first of
         * the extremes. Zen 5, 1 thread, argmax over 4096 rows of 4096 from
         * DRAM: 27-31 -> 47 GB/s. */
        const int mx = c->op == CMX_RED_ARGMAX;
        const cmx_f32_rarg_ukr_fn fn = mx ? c->k.rargmax : c->k.rargmin;
        size_t best = 0;
        float bv = 0.0f;
        for (size_t q = 0; q < n; q += c->piece) {
          const size_t len = next_piece(c, p, n, q, next);
          const size_t i = q + fn(len, p + q);
          const float v = p[i];
          if (q == 0 || (bv == bv && (v != v || (mx ? v > bv : v < bv))))
            best = i, bv = v;
          if (bv != bv) break; /* the first NaN decides */
        }
        P[t - base] = bv;
        IP[t - base] = (int64_t)(off + best);
        break;
      }
      default: break;
    }
  finish:
    if (c->nb > 1) continue;
    /* The row is one block: finish it here, in parallel (row == t). */
    switch (c->op) {
      case CMX_RED_ARGMAX: case CMX_RED_ARGMIN:
        IOUT[t - base] = IP[t - base];
        break;
      case CMX_RED_VAR:
        OUT[t - base] = merge_var(P + (t - base), P2 + (t - base), 1, c->R);
        break;
      case CMX_RED_LOGSUMEXP:
        OUT[t - base] = merge_lse(P + (t - base), P2 + (t - base), 1);
        break;
      case CMX_RED_MEAN: OUT[t - base] = P[t - base] / (double)c->R; break;
      default: OUT[t - base] = P[t - base]; break;
    }
  }
}

/* One-block rows stored by the thread that reduced them, DST_ROWS at a
 * time: the caller then reads nothing the team wrote, and the node can
 * end with its job still running (cmx_parallel_for_async). */
#define DST_ROWS 64
_Static_assert(sizeof(struct inner) <= 512, "async ctx (sched.h)");
static void inner_range(void *ctx, size_t b, size_t e) {
  const struct inner *c = ctx;
  if (!c->dst.data) {
    inner_tasks(c, b, e, 0, c->part, c->part2, c->ipart, c->out, c->iout);
    return;
  }
  double p[DST_ROWS], p2[DST_ROWS], v[DST_ROWS];
  int64_t ip[DST_ROWS], iv[DST_ROWS];
  const size_t esz = cmx_dtype_size(c->dst.dtype);
  for (size_t t0 = b; t0 < e; t0 += DST_ROWS) {
    const size_t t1 = e - t0 < DST_ROWS ? e : t0 + DST_ROWS;
    inner_tasks(c, t0, t1, t0, p, p2, ip, v, iv);
    char *d = (char *)c->dst.data + t0 * esz;
    if (c->dst.is_int)
      cmx_ew_store_i64(c->dst.cvt, iv, t1 - t0, c->dst.dtype, d);
    else
      cmx_ew_store_f64(c->dst.cvt, v, t1 - t0, c->dst.dtype, d);
  }
}

static double combine(enum cmx_red_op op, const double *p, size_t nb,
                      size_t st) {
  double r = p[0];
  for (size_t i = 1; i < nb; i++) {
    double v = p[i * st];
    switch (op) {
      case CMX_RED_PROD: r *= v; break;
      case CMX_RED_MAX: r = r != r || v != v ? r + v : (v > r ? v : r); break;
      case CMX_RED_MIN: r = r != r || v != v ? r + v : (v < r ? v : r); break;
      default: r += v; break;
    }
  }
  return r;
}

/* Chan et al.'s merge of block (count, sum, M2) into the row variance. */
static double merge_var(const double *sum, const double *m2, size_t nb,
                        size_t R) {
  double total = 0, acc = 0;
  for (size_t b = 0; b < nb; b++) total += sum[b];
  double mean = total / (double)R;
  for (size_t b = 0; b < nb; b++) {
    double nbk = (double)(b + 1 < nb ? BLOCK : R - b * BLOCK);
    double d = sum[b] / nbk - mean;
    acc += m2[b] + nbk * d * d;
  }
  return acc / (double)R;
}

/* max over blocks, then sum of block sums rescaled to it. */
static double merge_lse(const double *mx, const double *se, size_t nb) {
  double m = combine(CMX_RED_MAX, mx, nb, 1);
  if (!isfinite(m)) return m;
  if (nb == 1) return se[0] > 0 ? m + log(se[0]) : -INFINITY;
  double acc = 0;
  for (size_t b = 0; b < nb; b++)
    if (se[b] > 0) acc += se[b] * exp(mx[b] - m);
  return m + log(acc);
}

int cmx_red_f32_inner(enum cmx_red_op op, const void *x, size_t O,
                      size_t R, size_t ld, double *out, int64_t *iout,
                      const struct cmx_red_kernels *k,
                      const struct cmx_red_dst *dst, int nthreads) {
  size_t nb = (R + BLOCK - 1) / BLOCK;
  /* Split only when each thread gets at least split_elems(op) elements.
   * Pieces only for data past L2: in cache the extra calls cost more than
   * the fetches they spread (var of 64K floats: 124 -> 86 GB/s). */
  const size_t per = R < BLOCK ? R : BLOCK,
               grain = (split_elems(op) + per - 1) / per;
  const size_t piece =
      !k->widen && O * R * sizeof(float) > cmx_topo()->l2 ? PIECE : BLOCK;
  const int lse_fetch = op == CMX_RED_LOGSUMEXP && cmx_knob(&g_lse_fetch);
  /* Rows of one block: the threads store the results themselves. */
  if (nb == 1 && dst && dst->data) {
    struct inner c = {.op = op, .x = x, .R = R, .ld = ld, .nb = 1,
                      .piece = piece, .dst = *dst, .k = *k,
                      .lse_fetch = lse_fetch};
    cmx_parallel_for_async(nthreads, O, 1, grain, inner_range, &c,
                           dst->last ? sizeof c : 0);
    return 1;
  }
  int arg = op == CMX_RED_ARGMAX || op == CMX_RED_ARGMIN;
  int two = op == CMX_RED_VAR || op == CMX_RED_LOGSUMEXP;
  double *part = malloc(O * nb * sizeof *part);
  double *part2 = two ? malloc(O * nb * sizeof *part2) : NULL;
  int64_t *ipart = arg ? malloc(O * nb * sizeof *ipart) : NULL;
  if (!part || (two && !part2) || (arg && !ipart)) {
    free(part);
    free(part2);
    free(ipart);
    return -1;
  }
  struct inner c = {.op = op, .x = x, .R = R, .ld = ld, .nb = nb,
                    .piece = piece, .part = part, .part2 = part2,
                    .ipart = ipart, .out = out, .iout = iout, .k = *k,
                    .lse_fetch = lse_fetch};
  cmx_parallel_for(nthreads, O * nb, 1, grain, inner_range, &c);
  for (size_t i = 0; i < O && nb > 1; i++) {
    const double *p = part + i * nb;
    if (arg) {
      size_t best = 0;
      for (size_t b = 1; b < nb && p[best] == p[best]; b++) {
        int better = p[b] != p[b] ||
                     (op == CMX_RED_ARGMAX ? p[b] > p[best] : p[b] < p[best]);
        if (better) best = b;
      }
      iout[i] = ipart[i * nb + best];
    } else if (op == CMX_RED_VAR) {
      out[i] = merge_var(p, part2 + i * nb, nb, R);
    } else if (op == CMX_RED_LOGSUMEXP) {
      out[i] = merge_lse(p, part2 + i * nb, nb);
    } else {
      double r = combine(op == CMX_RED_MEAN ? CMX_RED_SUM : op, p, nb, 1);
      out[i] = op == CMX_RED_MEAN ? r / (double)R : r;
    }
  }
  free(part);
  free(part2);
  free(ipart);
  return 0;
}

/* Two reduced axes around a kept one, the last contiguous: axes (0, 2) of
 * a (P, O, C) view. Each slice p's O rows of C (ldo apart) fold on the
 * inner path into a row of partials, then the P partials of each result
 * combine in order, in double (sum, prod, max, min; mean divides the sum
 * at the end). With slices enough for the team, whole slices go to
 * threads (each folds on one); otherwise slice by slice, each folded by
 * the team. Before, the view was copied into O rows of P C first: sum
 * over (0, 2) of 64 x 256 x 256 f32, 1 / 2 threads, 2.4 / 1.26 ms ->
 * 0.67 / 0.38 (torch 2.15 0.66-0.69 / 0.37-0.46). Limits in reduce.h. */
struct slices {
  enum cmx_red_op op;
  const char *x;
  size_t sp, O, ldo, C;
  double *part;
  const struct cmx_red_kernels *k;
  atomic_int fail;
};

static void slice_range(void *ctx, size_t b, size_t e) {
  struct slices *c = ctx;
  for (size_t p = b; p < e; p++)
    if (cmx_red_f32_inner(c->op, c->x + p * c->sp, c->O, c->C, c->ldo,
                          c->part + p * c->O, NULL, c->k, NULL, 1) < 0)
      atomic_store(&c->fail, 1);
}

int cmx_red_f32_around(enum cmx_red_op op, const void *x, size_t P,
                       size_t sp, size_t O, size_t ldo, size_t C,
                       double *res, const struct cmx_red_kernels *k,
                       int nthreads) {
  const enum cmx_red_op pop = op == CMX_RED_MEAN ? CMX_RED_SUM : op;
  const size_t esz = k->widen ? 2 : 4;
  const size_t np = P * O;
  double *part = malloc((np ? np : 1) * sizeof *part);
  if (!part) return -1;
  struct slices c = {pop, (const char *)x, sp * esz, O, ldo, C, part, k, 0};
  if (P >= 2 * (size_t)nthreads) {
    cmx_parallel_for(nthreads, P, 1, (1u << 15) / (O * C + 1) + 1,
                     slice_range, &c);
  } else {
    for (size_t p = 0; p < P; p++)
      if (cmx_red_f32_inner(pop, c.x + p * c.sp, O, C, ldo, part + p * O,
                            NULL, k, NULL, nthreads) < 0)
        atomic_store(&c.fail, 1);
  }
  if (atomic_load(&c.fail)) {
    free(part);
    return -1;
  }
  for (size_t o = 0; o < O; o++) {
    const double w = combine(pop, part + o, P, O);
    res[o] = op == CMX_RED_MEAN ? w / (double)(P * C) : w;
  }
  free(part);
  return 0;
}

struct outer {
  enum cmx_red_op op;
  const void *x;   /* slice 0 */
  size_t R, C, ld; /* a slice: R rows of C columns, ld elements apart */
  size_t P, sp;    /* P slices, sp elements apart */
  double *out;     /* P x C */
  const struct cmx_red_kernels *k;
  atomic_int fail; /* a thread had no scratch for 16-bit rows */
  size_t Q;        /* rows a part (phys_row); 0: rows in order */
};

/* 16-bit data: tiles of WCOLS columns, WROWS rows widened at a time for
 * the outer kernel, the rows in order (see PARTS), in the thread's COPY
 * scratch: 96 KiB.
 * Whole rows of 4096 read in turn beat tiles whose row runs are 2 or 4 KiB
 * (bf16 sum over axis 0 of 4096 x 4096, 1 thread: 2.2-2.8 ms at 2048
 * columns x 4 rows, 1.45-1.84 ms at 8192 x 2; f32 data reads 4 KiB runs
 * at 1.46 ms). The widened rows are stores that the f32 data does not
 * take, hence the gap. */
#define WROWS 2
#define WCOLS 8192

/* The order f32 rows are taken in: PARTS interleaved parts, so that each
 * kernel call folds PARTS rows, R / PARTS rows apart, into acc (logical
 * row t < PARTS Q is row (t % PARTS) Q + t / PARTS; the last R % PARTS
 * rows come after, in order). Streams far apart, one acc store per
 * PARTS rows: Zen 5 VM, a /tmp loop, sum over axis 0, 4096 x 4096, 1
 * thread (2 threads): rows in order, 8 neighbours a call, 44-45 GB/s
 * (72-74); 2 parts 46-51 (54); 4 parts 56-58 (63-65); 8 parts 55-57
 * (69-70); 16384 x 1024, 1 thread, 40 -> 57. A plain loop summing the
 * whole array reads 63-66. The order depends on R alone: the same result
 * for any thread count. */
#define PARTS 8
static size_t phys_row(const struct outer *c, size_t t) {
  return t < PARTS * c->Q ? (t % PARTS) * c->Q + t / PARTS : t;
}

/* acc[0, n) op= logical rows t0 + 1 .. t0 + rows - 1 at column j0 (row
 * t0 seeded acc): straight from f32 data, through wide for 16-bit data;
 * each run of rows one physical stride apart in one call. */
static void outer_rows(const struct outer *c, const void *x, enum cmx_rop rop,
                       size_t t0, size_t rows, size_t j0, size_t n,
                       float *acc, float *wide) {
  for (size_t t = t0 + 1; t < t0 + rows;) {
    const size_t left = t0 + rows - t;
    const int parted = t < PARTS * c->Q;
    size_t run = parted ? PARTS - t % PARTS : left;
    if (run > left) run = left;
    const size_t ld = parted ? c->Q * c->ld : c->ld, r = phys_row(c, t);
    if (c->k->router16) {
      c->k->router16[rop](run, n, (const uint16_t *)x + r * c->ld + j0,
                          ld, acc);
    } else if (!c->k->widen) {
      c->k->router[rop](run, n, (const float *)x + r * c->ld + j0, ld,
                        acc);
    } else {
      const uint16_t *h = (const uint16_t *)x + r * c->ld + j0;
      for (size_t i0 = 0; i0 < run; i0 += WROWS) {
        const size_t g = run - i0 < WROWS ? run - i0 : WROWS;
        for (size_t i = 0; i < g; i++)
          c->k->widen(n, h + (i0 + i) * ld, wide + i * WCOLS);
        c->k->router[rop](g, n, wide, WCOLS, acc);
      }
    }
    t += run;
  }
}

/* Columns [b, e) of the slice at x, into out (its C results). */
static void outer_cols(struct outer *c, const void *x, double *out, size_t b,
                       size_t e) {
  enum cmx_rop rop = rop_of(c->op);
  size_t tw = OCOLS;
  float stack_acc[OCOLS], *acc = stack_acc, *wide = NULL;
  if (c->k->widen && !c->k->router16) {
    acc = cmx_scratch(CMX_SCRATCH_COPY, (WROWS + 1) * WCOLS * sizeof *acc);
    if (!acc) {
      atomic_store(&c->fail, 1);
      return;
    }
    wide = acc + WCOLS;
    tw = WCOLS;
  }
  for (size_t j0 = b; j0 < e; j0 += tw) {
    size_t n = e - j0 < tw ? e - j0 : tw;
    for (size_t r0 = 0; r0 < c->R; r0 += OROWS) {
      size_t rows = c->R - r0 < OROWS ? c->R - r0 : OROWS;
      /* Seed with the first row: no identity needed for max/min. */
      const size_t r = phys_row(c, r0);
      if (c->k->widen)
        c->k->widen(n, (const uint16_t *)x + r * c->ld + j0, acc);
      else
        memcpy(acc, (const float *)x + r * c->ld + j0, n * sizeof *acc);
      outer_rows(c, x, rop, r0, rows, j0, n, acc, wide);
      double *o = out + j0;
      if (r0 == 0) {
        for (size_t j = 0; j < n; j++) o[j] = acc[j];
        continue;
      }
      for (size_t j = 0; j < n; j++) {
        double v = acc[j];
        switch (rop) {
          case CMX_ROP_PROD: o[j] *= v; break;
          case CMX_ROP_MAX: o[j] = o[j] != o[j] || v != v ? o[j] + v
                                   : (v > o[j] ? v : o[j]); break;
          case CMX_ROP_MIN: o[j] = o[j] != o[j] || v != v ? o[j] + v
                                   : (v < o[j] ? v : o[j]); break;
          default: o[j] += v; break;
        }
      }
    }
    if (c->op == CMX_RED_MEAN)
      for (size_t j = 0; j < n; j++) out[j0 + j] /= (double)c->R;
  }
}

/* [b, e) of the flat (slice, column) space. */
static void outer_range(void *ctx, size_t b, size_t e) {
  struct outer *c = ctx;
  const size_t es = c->k->widen ? 2 : 4;
  while (b < e) {
    const size_t p = b / c->C, j = b % c->C;
    const size_t j1 = e - p * c->C < c->C ? e - p * c->C : c->C;
    outer_cols(c, (const char *)c->x + p * c->sp * es, c->out + p * c->C, j,
               j1);
    b = p * c->C + j1;
  }
}

int cmx_red_f32_outer(enum cmx_red_op op, const void *x, size_t P,
                      size_t sp, size_t R, size_t C, size_t ld, double *out,
                      const struct cmx_red_kernels *k, int nthreads) {
  /* f32 rows and 16-bit rows with outer kernels in PARTS interleaved
   * parts; 16-bit rows widened into a buffer in order (their widening
   * reads each row whole: in PARTS parts, bf16 sum over axis 0 of 4096 x
   * 4096 took 2.45 ms against 1.84 in order) */
  const int buffered = k->widen && !k->router16;
  struct outer c = {op, x, R, C, ld, P, sp, out, k, 0,
                    buffered ? 0 : R / PARTS};
  size_t grain = split_elems(op) / (R ? R : 1);
  cmx_parallel_for(nthreads, P * C, 16, grain < 16 ? 16 : grain, outer_range,
                   &c);
  return atomic_load(&c.fail) ? -1 : 0;
}

struct generic {
  enum cmx_red_op op;
  const void *x;
  int is_int;
  size_t R;
  double *out;
  int64_t *iout;
  cmx_f64_softmax_ukr_fn lse64; /* f64 logsumexp rows (its return) */
};

/* The extremes' loop: four running values m0..m3 in registers over XL(i)
 * (the row's element i), then folded; SEEN(v) runs on every element. */
#define XLOOP(BETTER, SEEN)                                            \
  for (; i + 4 <= R; i += 4) {                                         \
    m0 = BETTER(XL(i), m0) ? XL(i) : m0;                               \
    m1 = BETTER(XL(i + 1), m1) ? XL(i + 1) : m1;                       \
    m2 = BETTER(XL(i + 2), m2) ? XL(i + 2) : m2;                       \
    m3 = BETTER(XL(i + 3), m3) ? XL(i + 3) : m3;                       \
    SEEN(XL(i)) SEEN(XL(i + 1)) SEEN(XL(i + 2)) SEEN(XL(i + 3))        \
  }                                                                    \
  for (; i < R; i++) {                                                 \
    m0 = BETTER(XL(i), m0) ? XL(i) : m0;                               \
    SEEN(XL(i))                                                        \
  }                                                                    \
  m0 = BETTER(m1, m0) ? m1 : m0;                                       \
  m2 = BETTER(m3, m2) ? m3 : m2;                                       \
  m0 = BETTER(m2, m0) ? m2 : m0;
#define GT(u, v) ((u) > (v))
#define LT(u, v) ((u) < (v))
#define NONE(u)
#define NAN_SEEN(u) bad |= (u) != (u);

/* The max (mx) or min of n > 0 int32s in sixteen running extremes, four
 * vectors of gcc's generic vector type kept in registers (an array of
 * them stayed in memory), selected by the compare's mask; the first
 * index of v in x[0, n) (n if none), sixteen compares a block: fixed trip
 * counts, which gcc vectorises at the baseline. */
typedef int32_t v4i32 __attribute__((vector_size(16)));
static int32_t ext_i32(const int32_t *x, size_t n, int mx) {
  v4i32 m[4];
  for (int q = 0; q < 4; q++) m[q] = (v4i32){x[0], x[0], x[0], x[0]};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v4i32 v0, v1, v2, v3;
    memcpy(&v0, x + i, 16), memcpy(&v1, x + i + 4, 16);
    memcpy(&v2, x + i + 8, 16), memcpy(&v3, x + i + 12, 16);
    const v4i32 k0 = mx ? v0 > m[0] : v0 < m[0];
    const v4i32 k1 = mx ? v1 > m[1] : v1 < m[1];
    const v4i32 k2 = mx ? v2 > m[2] : v2 < m[2];
    const v4i32 k3 = mx ? v3 > m[3] : v3 < m[3];
    m[0] = (v0 & k0) | (m[0] & ~k0), m[1] = (v1 & k1) | (m[1] & ~k1);
    m[2] = (v2 & k2) | (m[2] & ~k2), m[3] = (v3 & k3) | (m[3] & ~k3);
  }
  int32_t r = x[0];
  for (int q = 0; q < 16; q++) {
    const int32_t u = m[q / 4][q % 4];
    r = (mx ? u > r : u < r) ? u : r;
  }
  for (; i < n; i++) r = (mx ? x[i] > r : x[i] < r) ? x[i] : r;
  return r;
}
#define FIND_FN(SUF, T)                                                \
  static size_t find_##SUF(const T *x, size_t n, T v) {                \
    size_t i = 0;                                                      \
    for (; i + 16 <= n; i += 16) {                                     \
      int hit = 0;                                                     \
      for (int q = 0; q < 16; q++) hit |= x[i + q] == v;               \
      if (hit) break;                                                  \
    }                                                                  \
    for (; i < n; i++)                                                 \
      if (x[i] == v) return i;                                         \
    return n;                                                          \
  }
FIND_FN(i32, int32_t)
FIND_FN(i64, int64_t)
FIND_FN(f64, double)
#undef FIND_FN

/* One row of integers, read as int32 (w 4: int32 data in place) or int64
 * (w 8); w is a constant at each call, so each width has its own loops. */
static inline __attribute__((always_inline)) void int_row(
    const struct generic *c, size_t o, int w) {
  const size_t R = c->R;
  const int32_t *p4 = (const int32_t *)c->x + o * R;
  const int64_t *p8 = (const int64_t *)c->x + o * R;
#define XL(i) (w == 4 ? (int64_t)p4[i] : p8[i])
  int64_t r = XL(0);
  double sum = (double)XL(0);
  if (c->op == CMX_RED_SUM) { /* wrapping: any order, the same bits */
    uint64_t u[4] = {(uint64_t)XL(0), 0, 0, 0};
    size_t i = 1;
    for (; i + 4 <= R; i += 4)
      for (int q = 0; q < 4; q++) u[q] += (uint64_t)XL(i + q);
    for (; i < R; i++) u[0] += (uint64_t)XL(i);
    c->iout[o] = (int64_t)(u[0] + u[1] + u[2] + u[3]);
    return;
  }
  if (c->op == CMX_RED_MEAN) { /* in double, four partial sums */
    double d[4] = {(double)XL(0), 0.0, 0.0, 0.0};
    size_t i = 1;
    for (; i + 4 <= R; i += 4)
      for (int q = 0; q < 4; q++) d[q] += (double)XL(i + q);
    for (; i < R; i++) d[0] += (double)XL(i);
    c->iout[o] = 0;
    c->out[o] = ((d[0] + d[1]) + (d[2] + d[3])) / (double)R;
    return;
  }
  /* The int32 extremes in sixteen lanes, int64 in four chains (1M, 1
   * thread: int64 min 2084 -> 362 us, torch 543; int32 max 1922 -> 832,
   * 247 read in place in four scalar chains, 185 in lanes, torch
   * 150-158); argmax / argmin the first index of the extreme, found in a
   * second pass (a running best and its index, a compare and two moves an
   * element, took 830-910 us; reloading the best from the row in a switch
   * 2857; torch 735-850). */
  const int mx = c->op == CMX_RED_MAX || c->op == CMX_RED_ARGMAX;
  if (c->op == CMX_RED_MAX || c->op == CMX_RED_MIN ||
      c->op == CMX_RED_ARGMAX || c->op == CMX_RED_ARGMIN) {
    int64_t v;
    if (w == 4) {
      v = ext_i32(p4, R, mx);
    } else { /* four scalar chains (int64 compares are not SSE2's) */
      int64_t m0 = p8[0], m1 = m0, m2 = m0, m3 = m0;
      size_t i = 1;
      if (mx) {
        XLOOP(GT, NONE)
      } else {
        XLOOP(LT, NONE)
      }
      v = m0;
    }
    if (c->op == CMX_RED_MAX || c->op == CMX_RED_MIN)
      c->iout[o] = v;
    else
      c->iout[o] = (int64_t)(w == 4 ? find_i32(p4, R, (int32_t)v)
                                    : find_i64(p8, R, v));
    return;
  }
  for (size_t i = 1; i < R; i++) {
    int64_t v = XL(i);
    switch (c->op) { /* (sum, mean, max, min and the args returned above) */
      case CMX_RED_PROD: r = (int64_t)((uint64_t)r * (uint64_t)v); break;
      default: sum += (double)v; break;
    }
  }
  c->iout[o] = r;
  if (c->op == CMX_RED_MEAN || c->op == CMX_RED_VAR ||
      c->op == CMX_RED_LOGSUMEXP) {
    double m = sum / (double)R, acc = 0;
    if (c->op == CMX_RED_VAR) {
      for (size_t i = 0; i < R; i++)
        acc += ((double)XL(i) - m) * ((double)XL(i) - m);
      m = acc / (double)R;
    } else if (c->op == CMX_RED_LOGSUMEXP) {
      int64_t mx = XL(0);
      for (size_t i = 1; i < R; i++) mx = XL(i) > mx ? XL(i) : mx;
      for (size_t i = 0; i < R; i++) acc += exp((double)XL(i) - (double)mx);
      m = (double)mx + log(acc);
    }
    c->out[o] = m;
  }
#undef XL
}

/* The max (mx) or min of n > 0 doubles, x[0] first, each new value
 * against the running one as (u > m) ? u : m (max); *nan set where any is
 * NaN (the result is then the caller's NaN). SSE2: eight lanes in four
 * registers, folded in lane order, the tail one at a time; elsewhere four
 * scalar chains. */
static double ext_f64(const double *x, size_t n, int mx, int *nan) {
  double m0 = x[0], m1 = m0, m2 = m0, m3 = m0;
  int bad = x[0] != x[0];
  size_t i = 1;
#if defined(__SSE2__)
  if (n >= 9) {
    __m128d v0 = _mm_set1_pd(x[0]), v1 = v0, v2 = v0, v3 = v0;
    __m128d un = _mm_setzero_pd();
#define EXT8(OP)                                                             \
  for (; i + 8 <= n; i += 8) {                                               \
    const __m128d a = _mm_loadu_pd(x + i), b = _mm_loadu_pd(x + i + 2);      \
    const __m128d c = _mm_loadu_pd(x + i + 4), d = _mm_loadu_pd(x + i + 6);  \
    v0 = OP(a, v0), v1 = OP(b, v1), v2 = OP(c, v2), v3 = OP(d, v3);          \
    un = _mm_or_pd(un,                                                       \
                   _mm_or_pd(_mm_cmpunord_pd(a, b), _mm_cmpunord_pd(c, d))); \
  }
    if (mx) {
      EXT8(_mm_max_pd)
    } else {
      EXT8(_mm_min_pd)
    }
#undef EXT8
    bad |= _mm_movemask_pd(un) != 0;
    double l[8];
    _mm_storeu_pd(l, v0), _mm_storeu_pd(l + 2, v1);
    _mm_storeu_pd(l + 4, v2), _mm_storeu_pd(l + 6, v3);
    for (int q = 1; q < 8; q++) m0 = (mx ? l[q] > m0 : l[q] < m0) ? l[q] : m0;
    m0 = (mx ? l[0] > m0 : l[0] < m0) ? l[0] : m0;
    m1 = m2 = m3 = m0;
  }
#endif
  const size_t R = n;
#define XL(i) x[i]
  if (mx) {
    XLOOP(GT, NAN_SEEN)
  } else {
    XLOOP(LT, NAN_SEEN)
  }
#undef XL
  *nan = bad;
  return m0;
}

static void generic_range(void *ctx, size_t b, size_t e) {
  const struct generic *c = ctx;
  size_t R = c->R;
  for (size_t o = b; o < e; o++) {
    if (c->is_int) {
      if (c->is_int == 4) int_row(c, o, 4);
      else int_row(c, o, 8);
      continue;
    }
#define XL(i) p[i]
    const double *p = (const double *)c->x + o * R;
    double r = p[0], m = 0, acc = 0;
    size_t arg = 0;
    switch (c->op) {
      case CMX_RED_ARGMAX: case CMX_RED_ARGMIN: {
        /* the first NaN, else the first extreme: the extreme (NaN noted)
         * in four chains, then the first index of it (a running best and
         * its index, a compare and two moves an element, had taken 1296
         * us for 1M on 1 thread; now 590-800, torch 1855) */
        int nan = 0;
        const double m0 = ext_f64(p, R, c->op == CMX_RED_ARGMAX, &nan);
        if (nan) {
          while (p[arg] == p[arg]) arg++;
        } else {
          arg = find_f64(p, R, m0);
        }
        c->iout[o] = (int64_t)arg;
        continue;
      }
      case CMX_RED_VAR:
        for (size_t i = 0; i < R; i++) m += p[i];
        m /= (double)R;
        for (size_t i = 0; i < R; i++) acc += (p[i] - m) * (p[i] - m);
        c->out[o] = acc / (double)R;
        continue;
      case CMX_RED_LOGSUMEXP:
        /* the level's softmax row, storing nothing: its max, exp and sum
         * passes in the level's vectors (libm's exp an element in one
         * chain: 1024 x 1024, 1 thread, 6.7 ms, torch 2.15 1.9) */
        c->out[o] = c->lse64(R, p, NULL, 0);
        continue;
      case CMX_RED_MAX: case CMX_RED_MIN: {
        /* running extremes in registers; a NaN anywhere makes the result
         * NaN (it loses every comparison, then wins below). 1M, 1 thread:
         * max 2204 -> 565 us (torch 506) in four scalar chains; SSE2's
         * maxpd / minpd are the same comparison ((u > m) ? u : m), two
         * lanes each, eight at once: 1024 x 1024 f64, last axis, 571 ->
         * 368-373 us (torch 285-340); argmax 1030-1130 -> 845 */
        int nan = 0;
        c->out[o] = ext_f64(p, R, c->op == CMX_RED_MAX, &nan);
        if (nan) c->out[o] = NAN;
        continue;
      }
      case CMX_RED_SUM: case CMX_RED_MEAN: {
        /* four partial sums over steps of four, then (s0 + s1) + (s2 +
         * s3): one add's latency a step was the bound (1M f64, 1 thread,
         * 1336 us, torch 298) */
        double s4[4] = {p[0], 0.0, 0.0, 0.0};
        size_t i = 1;
        for (; i + 4 <= R; i += 4)
          for (int q = 0; q < 4; q++) s4[q] += p[i + q];
        for (; i < R; i++) s4[0] += p[i];
        r = (s4[0] + s4[1]) + (s4[2] + s4[3]);
        c->out[o] = c->op == CMX_RED_MEAN ? r / (double)R : r;
        continue;
      }
      default: /* prod (the others returned above) */
        for (size_t i = 1; i < R; i++) r *= p[i];
        c->out[o] = r;
    }
  }
}
#undef XLOOP
#undef GT
#undef LT
#undef NONE
#undef NAN_SEEN

/* Columns of f64 / int64 / int32 data reduced over rows (x row-major R x
 * O with row stride ld, in elements): each column's running value in a
 * block of OUTER_COLS, rows added in order (each column's result in the
 * order of its rows, whatever the split). The permuted copy this saves
 * was most of the time: sum over axis 0 of 1024 x 1024, 1 thread: int32
 * 6256 -> 520 us (torch 808), f64 1613 -> 626 (583), f64 max 2454 ->
 * 1130 (570). */
#define OUTER_COLS 256
struct generic_outer {
  enum cmx_red_op op;
  const void *x;
  int w; /* 0: double, 4: int32, 8: int64 */
  size_t R, ld;
  double *out;
  int64_t *iout;
};

static inline __attribute__((always_inline)) void
outer_block(const struct generic_outer *c, size_t j0, size_t n, int w) {
  const enum cmx_red_op op = c->op;
#define OL(i, j)                                                       \
  (w == 4 ? (int64_t)((const int32_t *)c->x)[(i) * c->ld + (j)]        \
          : ((const int64_t *)c->x)[(i) * c->ld + (j)])
#define ROWS(ACC, INIT, STEP)                                          \
  for (size_t j = 0; j < n; j++) ACC[j] = INIT(0, j0 + j);             \
  for (size_t i = 1; i < c->R; i++)                                    \
    for (size_t j = 0; j < n; j++) STEP(ACC[j], i, j0 + j);
  if (w == 0) {
    const double *xd = c->x;
    double a[OUTER_COLS];
#define DL(i, j) xd[(i) * c->ld + (j)]
#define DPROD(m, i, j) m *= DL(i, j);
#define DMAX(m, i, j)                                                  \
  {                                                                    \
    const double v = DL(i, j);                                         \
    m = m != m || v != v ? m + v : v > m ? v : m;                      \
  }
#define DMIN(m, i, j)                                                  \
  {                                                                    \
    const double v = DL(i, j);                                         \
    m = m != m || v != v ? m + v : v < m ? v : m;                      \
  }
    switch (op) {
      case CMX_RED_PROD: ROWS(a, DL, DPROD) break;
      case CMX_RED_MAX: ROWS(a, DL, DMAX) break;
      case CMX_RED_MIN: ROWS(a, DL, DMIN) break;
      default: /* sums sixteen columns a step, which the compiler
                * vectorises (the loop over n it left scalar): 1024 x 1024
                * f64 over axis 0, 1 thread, 600-614 -> 395-398 us (torch
                * 537-590) */
        for (size_t j = 0; j < n; j++) a[j] = DL(0, j0 + j);
        for (size_t i = 1; i < c->R; i++) {
          const double *r = xd + i * c->ld + j0;
          size_t j = 0;
          for (; j + 16 <= n; j += 16)
            for (size_t q = 0; q < 16; q++) a[j + q] += r[j + q];
          for (; j < n; j++) a[j] += r[j];
        }
        break;
    }
    const double sc = op == CMX_RED_MEAN ? 1.0 / (double)c->R : 1.0;
    for (size_t j = 0; j < n; j++) c->out[j0 + j] = a[j] * sc;
    return;
  }
  if (op == CMX_RED_MEAN) {
    double a[OUTER_COLS];
#define IDL(i, j) (double)OL(i, j)
#define IDSUM(m, i, j) m += IDL(i, j);
    ROWS(a, IDL, IDSUM)
    for (size_t j = 0; j < n; j++) c->out[j0 + j] = a[j] / (double)c->R;
    return;
  }
  int64_t a[OUTER_COLS];
#define ISUM(m, i, j) m = (int64_t)((uint64_t)m + (uint64_t)OL(i, j));
#define IPROD(m, i, j) m = (int64_t)((uint64_t)m * (uint64_t)OL(i, j));
#define IMAX(m, i, j)                                                  \
  {                                                                    \
    const int64_t v = OL(i, j);                                        \
    m = v > m ? v : m;                                                 \
  }
#define IMIN(m, i, j)                                                  \
  {                                                                    \
    const int64_t v = OL(i, j);                                        \
    m = v < m ? v : m;                                                 \
  }
  switch (op) {
    case CMX_RED_PROD: ROWS(a, OL, IPROD) break;
    case CMX_RED_MAX: ROWS(a, OL, IMAX) break;
    case CMX_RED_MIN: ROWS(a, OL, IMIN) break;
    default: ROWS(a, OL, ISUM) break;
  }
  for (size_t j = 0; j < n; j++) c->iout[j0 + j] = a[j];
#undef OL
#undef ROWS
#undef DL
#undef DPROD
#undef DMAX
#undef DMIN
#undef IDL
#undef IDSUM
#undef ISUM
#undef IPROD
#undef IMAX
#undef IMIN
}

static void generic_outer_range(void *ctx, size_t b, size_t e) {
  const struct generic_outer *c = ctx;
  for (size_t j = b; j < e; j += OUTER_COLS) {
    const size_t n = e - j < OUTER_COLS ? e - j : OUTER_COLS;
    if (c->w == 4) outer_block(c, j, n, 4);
    else if (c->w == 8) outer_block(c, j, n, 8);
    else outer_block(c, j, n, 0);
  }
}

void cmx_red_generic_outer(enum cmx_red_op op, const void *x, int w,
                           size_t R, size_t O, size_t ld, double *out,
                           int64_t *iout, int nthreads) {
  struct generic_outer c = {op, x, w, R, ld, out, iout};
  size_t grain = (1 << 15) / (R ? R : 1);
  cmx_parallel_for(nthreads, O, 16, grain ? grain : 1, generic_outer_range,
                   &c);
}

/* One long row (O == 1) of sum (integer, or f64), f64 mean, max, min,
 * argmax or argmin in pieces of GEN_PIECE elements, a fixed size whatever
 * the thread count, so the team shares the row and the result does not
 * depend on it (the piece sums added in order; integer sums wrap, any
 * order gives the same bits): each piece a row of the same loops, the
 * tail piece by the caller, then the partials combined in piece order.
 * One thread had run the row while the other waited, slower than 1
 * thread alone: 1M, 2 threads, us, before -> after (1 thread): int32 sum
 * 288 -> 184 (191), f64 sum 325 -> 286 (273-323), int64 sum -> 196
 * (276); 4M int32 argmax 1 thread 750, 2 threads 470. 0: not such a
 * reduction, or no memory for the partials. */
#define GEN_PIECE ((size_t)1 << 16)
static int generic_pieces(enum cmx_red_op op, const void *x, int is_int,
                          size_t R, double *out, int64_t *iout,
                          int nthreads) {
  const int arg = op == CMX_RED_ARGMAX || op == CMX_RED_ARGMIN;
  if (R < 2 * GEN_PIECE ||
      !(op == CMX_RED_SUM || op == CMX_RED_MAX || op == CMX_RED_MIN || arg ||
        (op == CMX_RED_MEAN && !is_int)))
    return 0;
  const size_t full = R / GEN_PIECE, np = full + (R % GEN_PIECE != 0);
  const size_t w = is_int ? (size_t)is_int : sizeof(double);
  double *pd = malloc(np * (sizeof(double) + sizeof(int64_t)));
  if (!pd) return 0;
  int64_t *pi = (int64_t *)(pd + np);
  const enum cmx_red_op pop = op == CMX_RED_MEAN ? CMX_RED_SUM : op;
  struct generic c = {pop, x, is_int, GEN_PIECE, pd, pi, NULL};
  cmx_parallel_for(nthreads, full, 1, 1, generic_range, &c);
  if (np > full) {
    struct generic t = {pop, (const char *)x + full * GEN_PIECE * w, is_int,
                        R - full * GEN_PIECE, pd + full, pi + full, NULL};
    generic_range(&t, 0, 1);
  }
#define XV(i) (is_int == 4   ? (double)((const int32_t *)x)[i]          \
               : is_int == 8 ? (double)((const int64_t *)x)[i]          \
                             : ((const double *)x)[i])
  if (arg) { /* the first piece's best unless a later one beats it */
    size_t best = (size_t)pi[0];
    for (size_t q = 1; q < np && XV(best) == XV(best); q++) {
      const size_t at = q * GEN_PIECE + (size_t)pi[q];
      const double v = XV(at), b = XV(best);
      if (v != v || (op == CMX_RED_ARGMAX ? v > b : v < b)) best = at;
    }
    iout[0] = (int64_t)best;
  } else if (is_int) {
    /* the int64 partials as a row of the same loops (exact in any order) */
    struct generic r = {op, pi, 8, np, out, iout, NULL};
    generic_range(&r, 0, 1);
  } else if (pop == CMX_RED_SUM) {
    double s = 0.0;
    for (size_t q = 0; q < np; q++) s += pd[q];
    out[0] = op == CMX_RED_MEAN ? s / (double)R : s;
  } else { /* f64 max / min: NaN anywhere gives NaN */
    double m = pd[0];
    for (size_t q = 1; q < np && m == m; q++)
      m = pd[q] != pd[q] ? pd[q]
          : op == CMX_RED_MAX ? (pd[q] > m ? pd[q] : m)
                              : (pd[q] < m ? pd[q] : m);
    out[0] = m;
  }
#undef XV
  free(pd);
  return 1;
}

void cmx_red_generic(enum cmx_red_op op, const void *x, int is_int,
                     size_t O, size_t R, double *out, int64_t *iout,
                     cmx_f64_softmax_ukr_fn lse64, int nthreads) {
  if (O == 1 && generic_pieces(op, x, is_int, R, out, iout, nthreads))
    return;
  struct generic c = {op, x, is_int, R, out, iout, lse64};
  size_t grain = (1 << 15) / (R ? R : 1);
  cmx_parallel_for(nthreads, O, 1, grain ? grain : 1, generic_range, &c);
}
