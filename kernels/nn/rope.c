/* The rope driver (contract in nn.h) and its sin/cos table cache. A table
 * holds, for positions pmin .. pmin + npos - 1, one row of cos and one of
 * sin per position in the layout the microkernel wants (h entries for the
 * split form, dims interleaved entries with the sign folded in for the
 * traditional one), computed once in double and rounded to float. Tables
 * live in a process-wide cache of CACHE_SLOTS entries keyed by (dims, base,
 * scale, traditional, pmin, npos), guarded by one mutex; an entry in use is
 * pinned by a reference count, and a miss replaces the least recently used
 * unpinned entry (or, when all are pinned or the table is over CACHE_MAX
 * bytes, builds a private table freed after the call).
 * Work is split over tiles of (PBLOCK positions, one outer row group),
 * position-block-major, so a thread's consecutive tiles reuse the same
 * block of table from cache across heads. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sched/sched.h"
#include "../common/prefetch.h"
#include "nn.h"

#define CACHE_SLOTS 8
#define CACHE_MAX ((size_t)64 << 20)
/* Positions a tile: its rows are one contiguous run of x and y (PBLOCK
 * rows of n), then the next head's run. Zen 5 VM, 1 thread, rope of
 * (1, 64, 2048, 128), GB/s: 16 positions 22.9, 32 26.0, 64 29.8, 128 32.4,
 * 256 34.3 (2 threads 46, 52, 59, 63, 48-68): 8 KiB runs restarted the
 * hardware prefetcher every 16 rows; the table block (64 KiB at 128) now
 * comes from L2. */
#define PBLOCK 128
#define AHEAD_BYTES 4096

struct table {
  size_t dims;
  int traditional;
  float base, scale;
  int64_t pmin;
  size_t npos, width; /* width: floats per row (h or dims) */
  float *cos, *sin;   /* npos x width each */
  int refs;           /* guarded by g_mu; cached entries only */
  uint64_t used;      /* LRU stamp, guarded by g_mu */
  int priv;           /* not in the cache: freed when put */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct table *g_slot[CACHE_SLOTS];
static uint64_t g_clock;

static void table_free(struct table *t) {
  if (!t) return;
  free(t->cos);
  free(t->sin);
  free(t);
}

static struct table *table_build(const struct cmx_rope_params *p, int64_t pmin,
                                 size_t npos) {
  struct table *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  const size_t h = p->dims / 2, width = p->traditional ? p->dims : h;
  *t = (struct table){.dims = p->dims, .traditional = p->traditional,
                      .base = p->base, .scale = p->scale, .pmin = pmin,
                      .npos = npos, .width = width};
  t->cos = malloc(npos * width * sizeof *t->cos);
  t->sin = malloc(npos * width * sizeof *t->sin);
  double *theta = malloc(h * sizeof *theta);
  if (!t->cos || !t->sin || !theta) {
    free(theta);
    table_free(t);
    return NULL;
  }
  /* theta_i = base^(-2i/dims), as MLX. */
  for (size_t i = 0; i < h; i++)
    theta[i] = pow((double)p->base, -2.0 * (double)i / (double)p->dims);
  for (size_t q = 0; q < npos; q++) {
    const double pos = (double)p->scale * (double)(pmin + (int64_t)q);
    float *c = t->cos + q * width, *s = t->sin + q * width;
    for (size_t i = 0; i < h; i++) {
      const double a = pos * theta[i];
      const float cf = (float)cos(a), sf = (float)sin(a);
      if (p->traditional) {
        c[2 * i] = c[2 * i + 1] = cf;
        s[2 * i] = -sf;
        s[2 * i + 1] = sf;
      } else {
        c[i] = cf;
        s[i] = sf;
      }
    }
  }
  free(theta);
  return t;
}

static int table_matches(const struct table *t, const struct cmx_rope_params *p,
                         int64_t pmin, size_t npos) {
  return t && t->dims == p->dims && t->traditional == p->traditional &&
         t->base == p->base && t->scale == p->scale && t->pmin == pmin &&
         t->npos == npos;
}

/* A table for the key, pinned (cached) or private (*priv set). */
static struct table *table_get(const struct cmx_rope_params *p, int64_t pmin,
                               size_t npos, int *priv) {
  *priv = 0;
  pthread_mutex_lock(&g_mu);
  for (int i = 0; i < CACHE_SLOTS; i++)
    if (table_matches(g_slot[i], p, pmin, npos)) {
      g_slot[i]->refs++;
      g_slot[i]->used = ++g_clock;
      struct table *t = g_slot[i];
      pthread_mutex_unlock(&g_mu);
      return t;
    }
  pthread_mutex_unlock(&g_mu);
  /* Built outside the lock: two threads missing at once both build, and
   * the second to insert keeps its own as a private table. */
  struct table *t = table_build(p, pmin, npos);
  if (!t) return NULL;
  size_t bytes = 2 * npos * t->width * sizeof(float);
  pthread_mutex_lock(&g_mu);
  int victim = -1, dup = bytes > CACHE_MAX;
  for (int i = 0; i < CACHE_SLOTS && !dup; i++)
    dup = table_matches(g_slot[i], p, pmin, npos);
  for (int i = 0; i < CACHE_SLOTS && !dup && victim < 0; i++)
    if (!g_slot[i]) victim = i;
  for (int i = 0; i < CACHE_SLOTS && !dup; i++)
    if (g_slot[i] && g_slot[i]->refs == 0 &&
        (victim < 0 || (g_slot[victim] && g_slot[i]->used < g_slot[victim]->used)))
      victim = i;
  if (victim >= 0) {
    table_free(g_slot[victim]);
    g_slot[victim] = t;
    t->refs = 1;
    t->used = ++g_clock;
  } else {
    *priv = 1;
    t->priv = 1;
  }
  pthread_mutex_unlock(&g_mu);
  return t;
}

static void table_put(struct table *t, int priv) {
  if (priv) {
    table_free(t);
    return;
  }
  pthread_mutex_lock(&g_mu);
  t->refs--;
  pthread_mutex_unlock(&g_mu);
}

/* Copied whole into an async job's context (cmx_parallel_for_async), so
 * nothing in it points to the caller's stack. */
struct job {
  struct cmx_rope_io io;
  struct cmx_rope_params p;
  int64_t off0; /* the offset when there is one (io.off is not read) */
  const struct table *t;
  cmx_f32_rope_ukr_fn ukr;   /* into a tile */
  cmx_f32_rope_ukr_fn ukr_y; /* into f32 y: ukr or its _NT form */
  const cmx_cvt_ukr_fn *cvt;
  size_t per_batch, outer, nlb; /* rows per batch, rows / L, L blocks */
  atomic_int fail;              /* set by a thread whose tile failed */
};

static size_t dsize(cmx_dtype t) {
  return t == CMX_F64 ? 8 : t == CMX_F32 ? 4 : 2;
}

/* f64 rows: the same rotation in double, angles from the float table. */
static void row_f64(const struct job *j, const double *x, double *y,
                    const float *c, const float *s) {
  const size_t n = j->io.n, d = j->p.dims, h = d / 2;
  for (size_t i = 0; i < h; i++) {
    size_t i0 = j->p.traditional ? 2 * i : i;
    size_t i1 = j->p.traditional ? 2 * i + 1 : i + h;
    double cc = c[j->p.traditional ? 2 * i : i];
    double ss = j->p.traditional ? s[2 * i + 1] : s[i];
    double a = x[i0], b = x[i1];
    y[i0] = a * cc - b * ss;
    y[i1] = b * cc + a * ss;
  }
  for (size_t i = d; i < n; i++) y[i] = x[i];
}

static void rope_range(void *ctx, size_t t0, size_t t1) {
  struct job *j = ctx;
  const struct cmx_rope_io *io = &j->io;
  const size_t n = io->n, L = io->L, xs = dsize(io->xt), ys = dsize(io->yt);
  const size_t w = j->t->width;
  /* Each row also asks for the row AHEAD_BYTES further on in its tile:
   * the tiles' 64 KiB runs restart the hardware prefetcher too often.
   * Zen 5 VM, 1 thread, (1, 64, 2048, 128) f32 (past the LLC), 8 rows of
   * 512 B ahead: 3.87 -> 2.73 ms (35 -> 49 GB/s; 2 rows 3.78, 4 rows 3.18,
   * 16 rows 2.86). */
  const size_t ahead = (AHEAD_BYTES + n * xs - 1) / (n * xs);
  float *tile = NULL;
  if (io->xt != CMX_F64 && (io->xt != CMX_F32 || io->yt != CMX_F32)) {
    tile = malloc(n * sizeof *tile);
    if (!tile) {
      atomic_store(&j->fail, 1);
      return;
    }
  }
  for (size_t t = t0; t < t1; t++) {
    const size_t lb = t / j->outer, o = t % j->outer;
    const size_t l0 = lb * PBLOCK, l1 = l0 + PBLOCK < L ? l0 + PBLOCK : L;
    for (size_t l = l0; l < l1; l++) {
      const size_t r = o * L + l;
      const int64_t pos =
          (io->nb == 1 ? j->off0 : io->off[r / j->per_batch]) + (int64_t)l;
      const size_t q = (size_t)(pos - j->t->pmin);
      const float *c = j->t->cos + q * w, *s = j->t->sin + q * w;
      const char *xr = (const char *)io->x + r * n * xs;
      char *yr = (char *)io->y + r * n * ys;
      if (l + ahead < l1) cmx_prefetch_span(xr + ahead * n * xs, n * xs);
      if (io->xt == CMX_F64) {
        row_f64(j, (const double *)xr, (double *)yr, c, s);
      } else if (!tile) {
        j->ukr_y(n, j->p.dims, (const float *)xr, c, s, (float *)yr);
      } else {
        const float *in = tile;
        if (io->xt == CMX_F32) in = (const float *)xr;
        else
          j->cvt[io->xt == CMX_F16 ? CMX_CVT_F16_F32 : CMX_CVT_BF16_F32](
              n, xr, tile);
        if (io->yt == CMX_F32) {
          j->ukr_y(n, j->p.dims, in, c, s, (float *)yr);
          continue;
        }
        j->ukr(n, j->p.dims, in, c, s, tile);
        j->cvt[io->yt == CMX_F16 ? CMX_CVT_F32_F16 : CMX_CVT_F32_BF16](
            n, tile, yr);
      }
    }
  }
  free(tile);
  /* The streaming stores of this range, fenced once. */
  if (j->ukr_y != j->ukr) atomic_thread_fence(memory_order_seq_cst);
}

void cmx_rope_unpin(void *pin) {
  struct table *t = pin;
  if (t) table_put(t, t->priv);
}

int cmx_rope_run(const struct cmx_rope_io *io, const struct cmx_rope_params *p,
                 const cmx_f32_rope_ukr_fn *ukr, const cmx_cvt_ukr_fn *cvt,
                 int nthreads, void **pin) {
  if (pin) *pin = NULL;
  if (io->rows == 0 || io->n == 0) return 0;
  int64_t pmin = io->off[0], pmax = io->off[0];
  for (size_t b = 1; b < io->nb; b++) {
    if (io->off[b] < pmin) pmin = io->off[b];
    if (io->off[b] > pmax) pmax = io->off[b];
  }
  const size_t npos = (size_t)(pmax - pmin) + io->L;
  int priv;
  struct table *t = table_get(p, pmin, npos, &priv);
  if (!t) return -1;
  struct job j = {.io = *io, .p = *p, .off0 = io->off[0], .t = t,
                  .ukr = ukr[p->traditional ? CMX_ROPE_TRADITIONAL
                                            : CMX_ROPE_SPLIT],
                  .ukr_y = ukr[p->traditional
                                   ? (p->nt ? CMX_ROPE_TRADITIONAL_NT
                                            : CMX_ROPE_TRADITIONAL)
                                   : (p->nt ? CMX_ROPE_SPLIT_NT
                                            : CMX_ROPE_SPLIT)],
                  .cvt = cvt, .per_batch = io->rows / io->nb,
                  .outer = io->rows / io->L,
                  .nlb = (io->L + PBLOCK - 1) / PBLOCK};
  atomic_init(&j.fail, 0);
  /* Tiles of PBLOCK rows; fork only when each thread gets ~32K elements. */
  size_t per_tile = PBLOCK * io->n;
  size_t grain = ((size_t)1 << 15) / per_tile;
  /* Async only where no tile is allocated (f32 or f64 in and out), so no
   * thread can fail after the caller returned, and with one offset (nb
   * offsets live in the caller's buffer). */
  int async = pin && io->nb == 1 &&
              (io->xt == CMX_F64 || (io->xt == CMX_F32 && io->yt == CMX_F32));
  cmx_parallel_for_async(nthreads, j.nlb * j.outer, 1,
                         cmx_batch_grain(grain ? grain : 1),
                         rope_range, &j, async ? sizeof j : 0);
  if (async && cmx_team_pending()) {
    *pin = t;
    return 0;
  }
  table_put(t, priv);
  return atomic_load(&j.fail) ? -1 : 0;
}
