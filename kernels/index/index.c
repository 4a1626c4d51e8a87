/* The indexing, copy, triangle and scan drivers (contracts in index.h).
 * Each splits independent rows across the team with cmx_parallel_for. */
#include <limits.h>
#include <stdatomic.h>
#include <string.h>

#include "../../sched/sched.h"
#include "../common/copy-run.h"
#include "../common/prefetch.h"
#include "index.h"

int64_t cmx_index_load(const void *base, cmx_dtype d, int64_t i) {
  switch (d) {
    case CMX_BOOL: case CMX_U8: return ((const uint8_t *)base)[i];
    case CMX_I8: return ((const int8_t *)base)[i];
    case CMX_I16: return ((const int16_t *)base)[i];
    case CMX_I32: return ((const int32_t *)base)[i];
    case CMX_U32: return ((const uint32_t *)base)[i];
    case CMX_I64: return ((const int64_t *)base)[i];
    default: return 0;
  }
}

/* ---- take ---- */
struct take { char *out; const char *a; const int64_t *idx;
              int64_t n, nidx; size_t rb; };

static void take_rows(void *ctx, size_t b, size_t e) {
  const struct take *t = ctx;
  for (size_t r = b; r < e; r++) {
    int64_t o = (int64_t)r / t->nidx, j = (int64_t)r % t->nidx;
    memcpy(t->out + r * t->rb, t->a + (o * t->n + t->idx[j]) * (int64_t)t->rb,
           t->rb);
  }
}

void cmx_index_take(char *out, const char *a, const int64_t *idx,
                    int64_t outer, int64_t n, int64_t nidx, size_t rowbytes,
                    int nthreads) {
  struct take t = {out, a, idx, n, nidx, rowbytes};
  size_t rows = (size_t)(outer * nidx);
  /* grain: about 256 KiB of rows per thread before another joins (row
   * copies run at L2 speed: on the 2-core Zen 5 VM 64 KiB a thread made
   * a 256 KiB take 0.89x on two threads, 4.66 -> 5.23 us). */
  size_t grain = rowbytes ? (1u << 18) / rowbytes + 1 : rows + 1;
  cmx_parallel_for(nthreads, rows, 1, grain, take_rows, &t);
}

/* ---- gather along an axis ---- */
/* Row by row of the output's last dimension: a row's offsets into a and
 * into the indices are computed once, then its elements run in a loop per
 * index dtype and element size. Each index is checked and wrapped as it is
 * read; the lowest output position holding a bad one is kept (the same
 * whatever the split), and the caller reports it. */
struct along { char *out; const char *a; const int64_t *a_st, *shape;
               int nd, axis; const char *ib; cmx_dtype idt;
               const int64_t *i_st; int64_t n; size_t esz;
               atomic_llong bad; };

static inline int64_t along_idx(const char *ib, cmx_dtype d, int64_t off) {
  switch (d) {
    case CMX_I32: return ((const int32_t *)ib)[off];
    case CMX_I64: return ((const int64_t *)ib)[off];
    default: return cmx_index_load(ib, d, off);
  }
}

/* The row's loop for element type T, index dtype IDT (a constant in each
 * expansion, so the index load's switch folds away: it ran per element) */
#define ALONG_LOOP(T, IDT)                                                \
  do {                                                                    \
    char *o_ = out + k0 * (int64_t)sizeof(T);                             \
    for (int64_t i = 0; i < len; i++) {                                   \
      int64_t v = along_idx(ib, IDT, ioff + i * is);                      \
      int64_t w = v < 0 ? v + n : v;                                      \
      if (w < 0 || w >= n) {                                              \
        note_bad(g, k0 + i);                                              \
        w = 0;                                                            \
      }                                                                   \
      memcpy(o_ + i * (int64_t)sizeof(T),                                 \
             a + (aoff + i * as + w * ws) * (int64_t)sizeof(T),           \
             sizeof(T));                                                  \
    }                                                                     \
  } while (0)
#define ALONG_ROW(T)                                                      \
  do {                                                                    \
    if (idt == CMX_I32) ALONG_LOOP(T, CMX_I32);                           \
    else if (idt == CMX_I64) ALONG_LOOP(T, CMX_I64);                      \
    else ALONG_LOOP(T, idt);                                              \
  } while (0)

static void note_bad(struct along *g, int64_t k) {
  long long cur = atomic_load(&g->bad);
  while (k < cur && !atomic_compare_exchange_weak(&g->bad, &cur, k)) {
  }
}

static void along_range(void *ctx, size_t b, size_t e) {
  struct along *g = ctx;
  const int last = g->nd - 1;
  const int64_t len = g->shape[last];
  /* along the last axis the element's own position adds nothing */
  const int64_t as = last == g->axis ? 0 : g->a_st[last];
  const int64_t ws = g->a_st[g->axis], is = g->i_st[last], n = g->n;
  /* in locals: the stores through out may alias *g as far as the compiler
   * knows, which reloaded every field per element */
  char *const out = g->out;
  const char *const a = g->a, *const ib = g->ib;
  const cmx_dtype idt = g->idt;
  /* Along a contiguous last axis each output row gathers at random from
   * one row of a: the next one's lines are fetched while this one runs
   * (the hardware prefetcher sees no stream in random order). 2048 x 2048
   * f32, 1 thread: 10.6-11.5 -> 7.0-8.2 ms (torch 2.15 9.0-9.2). */
  const int64_t rowb = g->axis == last && ws == 1 ? n * (int64_t)g->esz : 0;
  for (size_t r = b; r < e; r++) {
    int64_t rem = (int64_t)r, aoff = 0, ioff = 0;
    for (int d = last - 1; d >= 0; d--) {
      int64_t q = rem % g->shape[d];
      rem /= g->shape[d];
      if (d != g->axis) aoff += q * g->a_st[d];
      ioff += q * g->i_st[d];
    }
    if (rowb && rowb <= (1 << 16) && r + 1 < e) {
      int64_t nx = (int64_t)r + 1, noff = 0;
      for (int d = last - 1; d >= 0; d--) {
        noff += nx % g->shape[d] * g->a_st[d];
        nx /= g->shape[d];
      }
      cmx_prefetch_span(a + noff * (int64_t)g->esz, (size_t)rowb);
    }
    const int64_t k0 = (int64_t)r * len;
    switch (g->esz) {
      case 1: ALONG_ROW(uint8_t); break;
      case 2: ALONG_ROW(uint16_t); break;
      case 4: ALONG_ROW(uint32_t); break;
      default: ALONG_ROW(uint64_t); break;
    }
  }
}
#undef ALONG_ROW
#undef ALONG_LOOP

int64_t cmx_index_gather_along(char *out, const char *a, const int64_t *a_st,
                               const int64_t *shape, int ndim, int axis,
                               const char *ib, cmx_dtype idt,
                               const int64_t *i_st, int64_t n, size_t esz,
                               int nthreads) {
  struct along g = {out, a, a_st, shape, ndim, axis, ib, idt, i_st, n, esz,
                    LLONG_MAX};
  size_t rows = 1;
  for (int d = 0; d < ndim - 1; d++) rows *= (size_t)shape[d];
  const size_t len = (size_t)shape[ndim - 1];
  cmx_parallel_for(nthreads, rows, 1, (1u << 15) / (len ? len : 1) + 1,
                   along_range, &g);
  long long bad = atomic_load(&g.bad);
  return bad == LLONG_MAX ? -1 : (int64_t)bad;
}

/* ---- strided block copy ---- */
/* Items are (row, part): a row is cut into parts of part elements (the
 * whole row unless there are few long rows). */
struct copy { char *dst; const char *src; int64_t dst_st[CMX_MAX_DIMS],
              src_st[CMX_MAX_DIMS], shape[CMX_MAX_DIMS]; int nd; size_t esz;
              int64_t part, parts; cmx_x32_stream_ukr_fn stream; };

/* n elements from s to d, each side strided as the copy's last axis (a
 * run of bytes where both are contiguous, streamed where asked). */
static void copy_run(const struct copy *c, char *d, const char *s,
                     int64_t n) {
  const int last = c->nd - 1;
  const int64_t ds = c->dst_st[last], ss = c->src_st[last];
  const size_t bytes = (size_t)n * c->esz;
  if (ds == 1 && ss == 1) {
    if (c->stream && bytes % 4 == 0 && ((uintptr_t)d | (uintptr_t)s) % 4 == 0)
      c->stream(bytes / 4, s, d);
    else
      cmx_copy_run(d, s, bytes);
  } else {
    for (int64_t i = 0; i < n; i++)
      memcpy(d + i * ds * (int64_t)c->esz, s + i * ss * (int64_t)c->esz,
             c->esz);
  }
}

/* Whole rows (parts == 1), rows [b, e): the row index stepped with its
 * carries instead of divided out for every row, and short rows copied
 * inline (cmx_copy_run). 1 thread, f32, medians (torch 2.15):
 * concatenate of two 65536 x 4 along axis 1 1084 -> 371-500 us (434-474),
 * of two 16384 x 16 281 -> 246 (160). */
static void copy_whole_rows(const struct copy *c, size_t b, size_t e) {
  const int last = c->nd - 1;
  int64_t idx[CMX_MAX_DIMS] = {0}, rem = (int64_t)b;
  for (int d = last - 1; d >= 0; d--) {
    idx[d] = rem % c->shape[d];
    rem /= c->shape[d];
  }
  for (size_t r = b; r < e; r++) {
    int64_t doff = 0, soff = 0;
    for (int d = 0; d < last; d++) {
      doff += idx[d] * c->dst_st[d];
      soff += idx[d] * c->src_st[d];
    }
    copy_run(c, c->dst + doff * (int64_t)c->esz,
             c->src + soff * (int64_t)c->esz, c->shape[last]);
    for (int d = last - 1; d >= 0 && ++idx[d] == c->shape[d]; d--) idx[d] = 0;
  }
}

static void copy_rows(void *ctx, size_t b, size_t e) {
  const struct copy *c = ctx;
  int last = c->nd - 1;
  int64_t ds = c->dst_st[last], ss = c->src_st[last];
  if (c->parts == 1) {
    copy_whole_rows(c, b, e);
    if (c->stream) atomic_thread_fence(memory_order_seq_cst);
    return;
  }
  for (size_t it = b; it < e; it++) {
    const int64_t r = (int64_t)it / c->parts, q = (int64_t)it % c->parts;
    const int64_t i0 = q * c->part, left = c->shape[last] - i0;
    const int64_t n = left < c->part ? left : c->part;
    int64_t rem = r, doff = i0 * ds, soff = i0 * ss;
    for (int d = last - 1; d >= 0; d--) {
      int64_t k = rem % c->shape[d];
      rem /= c->shape[d];
      doff += k * c->dst_st[d];
      soff += k * c->src_st[d];
    }
    copy_run(c, c->dst + doff * (int64_t)c->esz,
             c->src + soff * (int64_t)c->esz, n);
  }
  if (c->stream) atomic_thread_fence(memory_order_seq_cst);
}

void cmx_index_copy(char *dst, const int64_t *dst_st, const char *src,
                    const int64_t *src_st, const int64_t *shape, int ndim,
                    size_t esz, cmx_x32_stream_ukr_fn stream, int nthreads) {
  struct copy c = {.dst = dst, .src = src, .esz = esz, .stream = stream};
  size_t rows = 1;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] == 0) return;
    /* Merge axes that are contiguous on both sides. */
    if (c.nd && c.dst_st[c.nd - 1] == dst_st[d] * shape[d] &&
        c.src_st[c.nd - 1] == src_st[d] * shape[d]) {
      c.shape[c.nd - 1] *= shape[d];
      c.dst_st[c.nd - 1] = dst_st[d];
      c.src_st[c.nd - 1] = src_st[d];
    } else {
      c.shape[c.nd] = shape[d];
      c.dst_st[c.nd] = dst_st[d];
      c.src_st[c.nd++] = src_st[d];
    }
  }
  if (c.nd == 0) {
    memcpy(dst, src, esz);
    return;
  }
  for (int d = 0; d < c.nd - 1; d++) rows *= (size_t)c.shape[d];
  /* Fewer rows than four a thread: rows cut into parts of 64 KiB (a piece
   * of concatenate along axis 0 is one row; it ran on one thread). */
  const int64_t n = c.shape[c.nd - 1], chunk = (int64_t)(65536 / esz);
  c.part = n, c.parts = 1;
  if (nthreads > 1 && rows < 4 * (size_t)nthreads && n > 2 * chunk)
    c.part = chunk, c.parts = (n + chunk - 1) / chunk;
  size_t rb = (size_t)c.part * esz;
  cmx_parallel_for(nthreads, rows * (size_t)c.parts, 1,
                   (1u << 18) / (rb ? rb : 1) + 1, copy_rows, &c);
}

/* ---- tril / triu ---- */
struct tri { char *out; const char *a; int64_t rows, cols, k; int upper;
             size_t esz; };

static void tri_rows(void *ctx, size_t b, size_t e) {
  const struct tri *t = ctx;
  size_t rb = (size_t)t->cols * t->esz;
  for (size_t r = b; r < e; r++) {
    int64_t i = (int64_t)r % t->rows;
    /* lower keeps j <= i + k; upper keeps j >= i + k */
    int64_t c = i + t->k + (t->upper ? 0 : 1);
    c = c < 0 ? 0 : c > t->cols ? t->cols : c;
    size_t cb = (size_t)c * t->esz;
    char *o = t->out + r * rb;
    const char *s = t->a + r * rb;
    if (t->upper) {
      memset(o, 0, cb);
      memcpy(o + cb, s + cb, rb - cb);
    } else {
      memcpy(o, s, cb);
      memset(o + cb, 0, rb - cb);
    }
  }
}

void cmx_index_tri(char *out, const char *a, int64_t batch, int64_t rows,
                   int64_t cols, int64_t k, int upper, size_t esz,
                   int nthreads) {
  struct tri t = {out, a, rows, cols, k, upper, esz};
  size_t rb = (size_t)cols * esz;
  cmx_parallel_for(nthreads, (size_t)(batch * rows), 1,
                   (1u << 18) / (rb ? rb : 1) + 1, tri_rows, &t);
}

/* ---- cumsum ---- */
#define CT 256 /* elements of inner handled per pass (L1-resident) */

struct scan { void *out; const void *in; cmx_dtype od, id; int64_t n, inner;
              int reverse, exclusive; const cmx_cvt_ukr_fn *cvt;
              int64_t outer; };

static void ld_f32(const struct scan *c, int64_t at, size_t m, float *y) {
  const char *p = (const char *)c->in;
  if (c->id == CMX_F32) memcpy(y, p + at * 4, m * 4);
  else c->cvt[c->id == CMX_F16 ? CMX_CVT_F16_F32 : CMX_CVT_BF16_F32](
      m, p + at * 2, y);
}
static void st_f32(const struct scan *c, int64_t at, size_t m,
                   const float *y) {
  char *p = (char *)c->out;
  if (c->od == CMX_F32) memcpy(p + at * 4, y, m * 4);
  else c->cvt[c->od == CMX_F16 ? CMX_CVT_F32_F16 : CMX_CVT_F32_BF16](
      m, y, p + at * 2);
}
static void st_i64(const struct scan *c, int64_t at, size_t m,
                   const int64_t *y) {
  char *p = (char *)c->out;
  for (size_t i = 0; i < m; i++) {
    int64_t v = y[i];
    switch (c->od) {
      case CMX_U8: ((uint8_t *)p)[at + i] = (uint8_t)v; break;
      case CMX_I8: ((int8_t *)p)[at + i] = (int8_t)v; break;
      case CMX_I16: ((int16_t *)p)[at + i] = (int16_t)v; break;
      case CMX_I32: ((int32_t *)p)[at + i] = (int32_t)v; break;
      case CMX_U32: ((uint32_t *)p)[at + i] = (uint32_t)v; break;
      default: ((int64_t *)p)[at + i] = v; break;
    }
  }
}

/* One (outer, inner-chunk) column block: acc[m] walks the axis. */
static void scan_block(const struct scan *c, int64_t o, int64_t i0,
                       size_t m) {
  int fl = c->id == CMX_F32 || c->id == CMX_F16 || c->id == CMX_BF16;
  float af[CT], xf[CT], of[CT];
  double ad[CT];
  int64_t ai[CT], oi[CT];
  memset(af, 0, sizeof af);
  memset(ad, 0, sizeof ad);
  memset(ai, 0, sizeof ai);
  for (int64_t s = 0; s < c->n; s++) {
    int64_t k = c->reverse ? c->n - 1 - s : s;
    int64_t at = (o * c->n + k) * c->inner + i0;
    if (fl) {
      ld_f32(c, at, m, xf);
      for (size_t i = 0; i < m; i++) {
        of[i] = c->exclusive ? af[i] : af[i] + xf[i];
        af[i] += xf[i];
      }
      st_f32(c, at, m, of);
    } else if (c->id == CMX_F64) {
      const double *x = (const double *)c->in + at;
      double *y = (double *)c->out + at;
      for (size_t i = 0; i < m; i++) {
        double v = ad[i];
        ad[i] += x[i];
        y[i] = c->exclusive ? v : ad[i];
      }
    } else {
      for (size_t i = 0; i < m; i++) {
        int64_t v = ai[i];
        ai[i] = (int64_t)((uint64_t)ai[i] +
                          (uint64_t)cmx_index_load(c->in, c->id, at + (int64_t)i));
        oi[i] = c->exclusive ? v : ai[i];
      }
      st_i64(c, at, m, oi);
    }
  }
}

/* inner == 1: one sequential scan per row, in tiles of CT. */
static void scan_row(const struct scan *c, int64_t o) {
  int fl = c->id == CMX_F32 || c->id == CMX_F16 || c->id == CMX_BF16;
  float xf[CT], of[CT], af = 0;
  double ad = 0;
  int64_t ai = 0, oi[CT];
  for (int64_t s0 = 0; s0 < c->n; s0 += CT) {
    size_t m = (size_t)(c->n - s0 < CT ? c->n - s0 : CT);
    /* Forward: tile [s0, s0+m); reverse: the mirrored tile, walked back. */
    int64_t at = c->reverse ? o * c->n + (c->n - s0 - (int64_t)m)
                            : o * c->n + s0;
    if (fl) {
      ld_f32(c, at, m, xf);
      for (size_t t = 0; t < m; t++) {
        size_t i = c->reverse ? m - 1 - t : t;
        of[i] = c->exclusive ? af : af + xf[i];
        af += xf[i];
      }
      st_f32(c, at, m, of);
    } else if (c->id == CMX_F64) {
      const double *x = (const double *)c->in + at;
      double *y = (double *)c->out + at;
      for (size_t t = 0; t < m; t++) {
        size_t i = c->reverse ? m - 1 - t : t;
        double v = ad;
        ad += x[i];
        y[i] = c->exclusive ? v : ad;
      }
    } else if (c->id == c->od && (c->id == CMX_I32 || c->id == CMX_I64)) {
      /* int32 / int64 into its own type: typed loads and stores (a switch
       * an element each way: 1M, 1 thread, int32 3316 -> 1015 us, torch
       * 1949; int64 2606 -> 838); the int64 sum truncated is the wrapped
       * one */
#define SCAN_T(T)                                                      \
  {                                                                    \
    const T *x = (const T *)c->in + at;                                \
    T *y = (T *)c->out + at;                                           \
    for (size_t t = 0; t < m; t++) {                                   \
      size_t i = c->reverse ? m - 1 - t : t;                           \
      int64_t v = ai;                                                  \
      ai = (int64_t)((uint64_t)ai + (uint64_t)(int64_t)x[i]);          \
      y[i] = (T)(c->exclusive ? v : ai);                               \
    }                                                                  \
  }
      if (c->id == CMX_I32) SCAN_T(int32_t) else SCAN_T(int64_t)
#undef SCAN_T
    } else {
      for (size_t t = 0; t < m; t++) {
        size_t i = c->reverse ? m - 1 - t : t;
        int64_t v = ai;
        ai = (int64_t)((uint64_t)ai +
                       (uint64_t)cmx_index_load(c->in, c->id, at + (int64_t)i));
        oi[i] = c->exclusive ? v : ai;
      }
      st_i64(c, at, m, oi);
    }
  }
}

/* inner == 1, floats: SROWS rows side by side, a tile of CT from each in
 * turn, so that their SROWS add chains interleave; each row still sums
 * in its own order, one add at a time (the same bits as scan_row). One
 * row's chain is an add's latency per element: 2048 x 2048 f32 over the
 * last axis, interleaved runs, 1 thread 3.37-3.40 -> 2.60-2.62 ms, 2
 * threads 1.73 -> 1.31 (torch 2.15 2.7-5.5 / 1.6-2.0). The first form,
 * the rows' flags and accumulators read through the job in the loop,
 * ran at 5.7. */
#define SROWS 8
static void scan_rows(const struct scan *c, int64_t o0) {
  float xf[SROWS][CT], of[SROWS][CT];
  float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  const int rev = c->reverse, ex = c->exclusive;
  for (int64_t s0 = 0; s0 < c->n; s0 += CT) {
    size_t m = (size_t)(c->n - s0 < CT ? c->n - s0 : CT);
    int64_t col = rev ? c->n - s0 - (int64_t)m : s0;
    for (int r = 0; r < SROWS; r++) ld_f32(c, (o0 + r) * c->n + col, m, xf[r]);
    const ptrdiff_t step = rev ? -1 : 1;
    size_t i = rev ? m - 1 : 0;
    for (size_t t = 0; t < m; t++, i += (size_t)step) {
#define SCAN_LANE(r, a)                                                   \
  do {                                                                    \
    float v_ = a + xf[r][i];                                              \
    of[r][i] = ex ? a : v_;                                               \
    a = v_;                                                               \
  } while (0)
      SCAN_LANE(0, a0); SCAN_LANE(1, a1); SCAN_LANE(2, a2); SCAN_LANE(3, a3);
      SCAN_LANE(4, a4); SCAN_LANE(5, a5); SCAN_LANE(6, a6); SCAN_LANE(7, a7);
#undef SCAN_LANE
    }
    for (int r = 0; r < SROWS; r++) st_f32(c, (o0 + r) * c->n + col, m, of[r]);
  }
}

/* inner == 1, f32 in and out, rows of at most SHORT_N: each row straight
 * from x to y, no tile copies (the copies a row cost more than such a
 * row); each row sums in its own order, one add at a time (the same bits
 * as scan_row). 1 thread, medians (torch 2.15): 65536 x 4 716 -> 196 us
 * (170-190), 16384 x 16 273 -> 118 (149), 262144 x 1 2868 -> 267
 * (270-425). */
#define SHORT_N 16
#define SHORT_GROUP 64 /* rows an item */
static void scan_short(const struct scan *c, int64_t o0, int64_t rows) {
  const int64_t n = c->n;
  const int ex = c->exclusive;
  for (int64_t r = o0; r < o0 + rows; r++) {
    const float *x = (const float *)c->in + r * n;
    float *y = (float *)c->out + r * n, a = 0.0f;
    if (c->reverse)
      for (int64_t k = n - 1; k >= 0; k--) {
        const float v = a + x[k];
        y[k] = ex ? a : v;
        a = v;
      }
    else
      for (int64_t k = 0; k < n; k++) {
        const float v = a + x[k];
        y[k] = ex ? a : v;
        a = v;
      }
  }
}

struct scanjob { struct scan c; int64_t chunks; };

/* inner == 1: items are groups of SROWS rows (float data), the rows past
 * the last whole group one at a time; else single rows or column blocks */
static void scan_range(void *ctx, size_t b, size_t e) {
  const struct scanjob *j = ctx;
  for (size_t r = b; r < e; r++) {
    if (j->chunks == -2) {
      const int64_t o0 = (int64_t)r * SHORT_GROUP;
      scan_short(&j->c, o0,
                 j->c.outer - o0 < SHORT_GROUP ? j->c.outer - o0 : SHORT_GROUP);
    } else if (j->c.inner == 1 && j->chunks == -1) {
      if ((int64_t)(r + 1) * SROWS <= j->c.outer)
        scan_rows(&j->c, (int64_t)r * SROWS);
      else
        for (int64_t o = (int64_t)r * SROWS; o < j->c.outer; o++)
          scan_row(&j->c, o);
    } else if (j->c.inner == 1) {
      scan_row(&j->c, (int64_t)r);
    } else {
      int64_t o = (int64_t)r / j->chunks, i0 = (int64_t)r % j->chunks * CT;
      size_t m = (size_t)(j->c.inner - i0 < CT ? j->c.inner - i0 : CT);
      scan_block(&j->c, o, i0, m);
    }
  }
}

void cmx_index_cumsum(void *out, cmx_dtype od, const void *in, cmx_dtype id,
                      int64_t outer, int64_t n, int64_t inner, int reverse,
                      int exclusive, const cmx_cvt_ukr_fn *cvt, int nthreads) {
  struct scanjob j = {
      {out, in, od, id, n, inner, reverse, exclusive, cvt, outer}, 1};
  if (outer == 0 || n == 0 || inner == 0) return;
  size_t items = (size_t)outer;
  const int fl = id == CMX_F32 || id == CMX_F16 || id == CMX_BF16;
  if (inner > 1) {
    j.chunks = (inner + CT - 1) / CT;
    items *= (size_t)j.chunks;
  } else if (n <= SHORT_N && id == CMX_F32 && od == CMX_F32) {
    j.chunks = -2; /* groups of SHORT_GROUP short rows */
    items = (size_t)((outer + SHORT_GROUP - 1) / SHORT_GROUP);
  } else if (fl && outer >= SROWS) {
    j.chunks = -1; /* groups of SROWS rows */
    items = (size_t)((outer + SROWS - 1) / SROWS);
  }
  size_t per = (size_t)(n * (inner > 1        ? CT
                             : j.chunks == -1 ? SROWS
                             : j.chunks == -2 ? SHORT_GROUP
                                              : 1));
  cmx_parallel_for(nthreads, items, 1, (1u << 15) / per + 1, scan_range, &j);
}
