/* The blocked transposing copy (contract in x32-transpose.h). After axes
 * are merged, the copy is a batch of 2-D transposes: axis p (source stride
 * 1) against the last axis L (destination stride 1). A work item is BB
 * consecutive batch entries x BI of p x BJ of L; inside it, T rows of the
 * source (T the tile edge) are read at a time, walking batch entry and p
 * innermost, so each of those T rows is one sequential run of about
 * BB * BI elements (when the batch axis is contiguous with p) that the
 * hardware prefetcher can follow, while every tile writes T whole
 * destination lines (streaming stores for outputs beyond L2). The team
 * splits the flat item range, L-blocks innermost. Full tiles go to the
 * microkernel (32-bit elements); edges and other element sizes go to
 * scalar loops. Streamed 32-bit outputs take the staged form of an item
 * (item_staged): source runs copied to a buffer GROUP rows of L at a time,
 * then whole groups of tiles per destination row set. */
#include <stdatomic.h>
#include <string.h>

#include "../../arch/tuning.h"

#include "../../sched/sched.h"
#include "../common/copy-run.h"
#include "../common/prefetch.h"
#include "x32-transpose.h"

/* BB * BI elements per source run: the tuning key transpose_run (env
 * CMX_TRANSPOSE_RUN), 512 when the CPU has no file. On (2048,512,64) ->
 * (64,512,2048) f32, 16x16 AVX-512 tiles with streaming stores, 1 thread:
 * - one Cascade Lake VM core (1 MiB L2): runs of 8 x 64 (512) gave
 *   6.1-6.5 GB/s (70% of a streaming memcpy), 16 x 64 5.5, 4 x 64 4.7,
 *   512 x 64 2.6; the old 64x64x16 blocks that walked 64 source rows at
 *   once gave 4.2; 2048 5.1-8.0 against 512's 7.4-8.7 (interleaved);
 * - the 16-core Sapphire Rapids (2 MiB L2), two interleaved sweeps: 512
 *   12.1/13.0 GB/s, 1024 13.7/15.7, 2048 14.9/14.7, 4096 14.8/14.9, 8192
 *   14.6/15.0; 2 threads: 512 23.2, 2048 27.8, 4096 24.0 GB/s.
 * Clamped to [64, RUN_MAX]. */
#define RUN_DEFAULT 512
#define RUN_MAX 8192
#define BJ 1024
#define MAXD 8

struct tjob {
  const char *src;
  char *dst;
  size_t esz;
  int nb;                       /* batch axes */
  int64_t bshape[MAXD], bsrc[MAXD], bdst[MAXD];
  int64_t m, n;                 /* extent of axis p and of axis L */
  int64_t sl, dp;               /* source stride of L, dest stride of p */
  int64_t bi, bb;               /* block of p, batch entries per item */
  int64_t mblocks, nblocks, bblocks, nbatch;
  int64_t bj;                   /* block of L: BJ, halved for few items */
  int pouter;                   /* items walk p blocks outside batch blocks */
  const struct cmx_transpose_config *cfg;
  int nt;                       /* the microkernel may stream its stores */
};

/* d[i * dp + j] = s[j * ls + i] for i < mi, j < nj (strides in elements
 * of esz bytes, any element size): the partial tiles. One loop per size,
 * the element type known inside it. */
#define EDGE_LOOP(T)                                                   \
  for (int64_t i = 0; i < mi; i++)                                     \
    for (int64_t j = 0; j < nj; j++)                                   \
      ((T *)d)[i * dp + j] = ((const T *)s)[j * ls + i];
static void edge(size_t esz, const void *s, int64_t ls, void *d, int64_t dp,
                 int64_t mi, int64_t nj) {
  switch (esz) {
    case 1: EDGE_LOOP(uint8_t); break;
    case 2: EDGE_LOOP(uint16_t); break;
    case 4: EDGE_LOOP(uint32_t); break;
    default: EDGE_LOOP(uint64_t); break;
  }
}
#undef EDGE_LOOP

/* A partial tile, ti x tj < T x T, at s / d (as for edge): its whole
 * half tiles by the level below's kernel where the config has one (T / 2),
 * the rest by edge. (64, 32, 8) from (8, 32, 64) f32 on AVX-512, where L
 * of 8 makes every tile partial, 16 per eval, Xeon VM, 1 thread; 2: 8.6;
 * 7.0 us an op by edge alone, 4.4; 2.6-2.9 with the 8x8 halves; L of 13:
 * 12.4; 8.3-10.2 -> 7.0-7.2; 5.9-6.6. */
static void part_tile(const struct tjob *t, const char *s, char *d,
                      int64_t ti, int64_t tj) {
  const int64_t h = t->cfg->half ? t->cfg->tile / 2 : 0, e = 4;
  const int64_t hi = h ? ti / h * h : 0, hj = h ? tj / h * h : 0;
  for (int64_t i = 0; i < hi; i += h)
    for (int64_t j = 0; j < hj; j += h)
      t->cfg->half((const uint32_t *)(s + (j * t->sl + i) * e),
                   (size_t)t->sl, (uint32_t *)(d + (i * t->dp + j) * e),
                   (size_t)t->dp, t->nt && h * 4 % 64 == 0);
  /* the rest: columns past hj of the first hi rows, then rows past hi */
  if (hj < tj)
    edge(4, s + hj * t->sl * e, t->sl, d + hj * e, t->dp, hi, tj - hj);
  if (hi < ti)
    edge(4, s + hi * e, t->sl, d + hi * t->dp * e, t->dp, ti - hi, tj);
}

/* The streaming form of an item (32-bit tiles, nt): GROUP consecutive L
 * indexes at a time, their source runs (the item's batch entries x its p
 * block) are first copied in order into buf, rows ldb apart, and the
 * tiles are then taken from there, GROUP / T of them along L for each
 * (batch entry, p tile), so every destination row gets GROUP / T whole
 * lines in a row. Straight from the source, the tiles of one destination
 * row-set read T rows of L at a time, sl apart, and write T lines, dp
 * apart, before moving on; at power-of-two strides (sl 128 KiB, dp 4 MiB
 * for (2048,512,64) -> (64,512,2048)) the DRAM served those single lines
 * at 14 GB/s (NT stores alone, Zen 5 VM, 1 thread) against 44 for four
 * lines a row, and GROUP rows read at once at sl share cache sets, so
 * they are read as runs into buf instead. The runs AHEAD rows ahead are
 * prefetched into L2, not L1 (prefetcht2): 1 thread 42-43 -> 39-40 ms,
 * 2 threads 21.2-21.6 -> 19.5-20.7 (Emerald Rapids VM, interleaved
 * pairs). Staging runs as the bottleneck either way: the staging reads
 * alone took 22-25 ms, the tiles' streaming stores alone 17, and they
 * add up; copying the next group's runs between this group's tiles, or
 * prefetching them there, did not overlap them (42 ms). */
#define GROUP 128
#define AHEAD 3 /* rows of L whose runs are prefetched ahead */
static void item_staged(const struct tjob *t, const int64_t *so,
                        const int64_t *dO, int64_t nbb, int64_t mi,
                        int64_t nj, uint32_t *buf, int64_t ldb) {
  const int64_t T = t->cfg->tile;
  const uint32_t *src = (const uint32_t *)t->src;
  uint32_t *dst = (uint32_t *)t->dst;
  for (int64_t j0 = 0; j0 < nj; j0 += GROUP) {
    const int64_t gj = nj - j0 < GROUP ? nj - j0 : GROUP;
    for (int64_t j = 0; j < gj; j++) {
      if (j0 + j + AHEAD < nj)
        for (int64_t k = 0; k < nbb; k++)
          cmx_prefetch_span_l2(src + so[k] + (j0 + j + AHEAD) * t->sl,
                               (size_t)mi * 4);
      for (int64_t k = 0; k < nbb; k++)
        memcpy(buf + j * ldb + k * mi, src + so[k] + (j0 + j) * t->sl,
               (size_t)mi * 4);
    }
    for (int64_t k = 0; k < nbb; k++)
      for (int64_t i = 0; i < mi; i += T) {
        const int64_t ti = mi - i < T ? mi - i : T;
        for (int64_t j = 0; j < gj; j += T) {
          const int64_t tj = gj - j < T ? gj - j : T;
          const uint32_t *s = buf + j * ldb + k * mi + i;
          uint32_t *d = dst + dO[k] + j0 + j + i * t->dp;
          if (ti == T && tj == T)
            t->cfg->ukr(s, (size_t)ldb, d, (size_t)t->dp, 1);
          else
            edge(4, s, ldb, d, t->dp, ti, tj);
        }
      }
  }
}

static void run(void *ctx, size_t begin, size_t end) {
  const struct tjob *t = ctx;
  const int64_t e = (int64_t)t->esz;
  const int tile = t->esz == 4 && t->cfg && t->cfg->tile;
  const int64_t T = tile ? t->cfg->tile : 16;
  /* element offsets of the item's batch entries (bb <= RUN_MAX / 4: the
   * copy needs p and L of 4 or more) */
  int64_t so[RUN_MAX / 4], dO[RUN_MAX / 4];
  /* buf: GROUP rows of one item's runs, rows not a multiple of 4 KiB
   * apart (they would share L1 sets) */
  const int64_t ldb = t->bb * t->bi + (T > 16 ? T : 16);
  uint32_t *buf = NULL;
  int staged = tile && t->nt;
  if (staged) {
    buf = cmx_scratch(CMX_SCRATCH_COPY, (size_t)(GROUP * ldb) * 4);
    staged = buf != NULL;
  }
  for (size_t it = begin; it < end; it++) {
    int64_t r = (int64_t)it;
    const int64_t jb = r % t->nblocks * t->bj;
    r /= t->nblocks;
    const int64_t ib = (t->pouter ? r / t->bblocks : r % t->mblocks) * t->bi,
                  b0 = (t->pouter ? r % t->bblocks : r / t->mblocks) * t->bb;
    const int64_t mi = t->m - ib < t->bi ? t->m - ib : t->bi;
    const int64_t nj = t->n - jb < t->bj ? t->n - jb : t->bj;
    const int64_t nbb = t->nbatch - b0 < t->bb ? t->nbatch - b0 : t->bb;
    for (int64_t k = 0; k < nbb; k++) {
      int64_t b = b0 + k, s = 0, d = 0;
      for (int a = t->nb - 1; a >= 0; a--) {
        int64_t q = b % t->bshape[a];
        b /= t->bshape[a];
        s += q * t->bsrc[a];
        d += q * t->bdst[a];
      }
      so[k] = s + ib + jb * t->sl;
      dO[k] = d + ib * t->dp + jb;
    }
    if (staged) {
      item_staged(t, so, dO, nbb, mi, nj, buf, ldb);
      continue;
    }
    for (int64_t j = 0; j < nj; j += T) {
      const int64_t tj = nj - j < T ? nj - j : T;
      for (int64_t k = 0; k < nbb; k++) {
        const char *s = t->src + (so[k] + j * t->sl) * e;
        char *d = t->dst + (dO[k] + j) * e;
        for (int64_t i = 0; i < mi; i += T) {
          const int64_t ti = mi - i < T ? mi - i : T;
          if (tile && ti == T && tj == T)
            t->cfg->ukr((const uint32_t *)s + i, (size_t)t->sl,
                        (uint32_t *)d + i * t->dp, (size_t)t->dp, t->nt);
          else if (tile)
            part_tile(t, s + i * e, d + i * t->dp * e, ti, tj);
          else
            edge(t->esz, s + i * e, t->sl, d + i * t->dp * e, t->dp, ti, tj);
        }
      }
    }
  }
  /* Streaming stores are weakly ordered: visible before the join. */
  if (t->nt) atomic_thread_fence(memory_order_seq_cst);
}

/* ---- permutations that keep a short innermost run ---------------------
 * After merging, the innermost axis has stride 1 in the source too, so
 * the copy moves runs of W = R * esz bytes (R its extent). Walked in the
 * destination's order, consecutive runs came from addresses a source
 * stride apart, a new page for every 64 bytes of (8, 512, 64, 64) ->
 * (8, 64, 512, 64) f32 (5 GB/s here), and short runs cost an element
 * walk each ((2048, 512, 2) -> (512, 2048, 2): 0.3 GB/s). Runs of 2, 4
 * or 8 bytes are whole elements of that size for the tile transpose
 * above. Others up to RUNS_MAX bytes go by blocks: BI runs that follow
 * each other in the source (axis p) x BJ runs that follow each other in
 * the destination (its axis L, next to the run): for each of L's runs
 * the BI source runs are one sequential read, and each of the BI
 * destination rows gets BJ runs in a row (with streaming stores for
 * outputs beyond the caches where runs are whole lines). Longer runs are
 * left to the element walk, which copies them in whole rows already.
 * 1 thread, Emerald Rapids VM, GB/s, walk -> blocks: (2048, 512, 16) ->
 * (512, 2048, 16) f32 1.6 -> 15.3; (8, 512, 64, 64) -> (8, 64, 512, 64)
 * 4.9 -> 29.4; (2048, 512, 2) 0.3 -> 18.7 (8-byte elements); runs of
 * 1 KiB, (256, 256, 256), 15.3-19.5 -> 30.7. */
#define RUNS_MAX 8192
struct rjob {
  const char *src;
  char *dst;
  size_t w;                         /* bytes a run */
  int nb;
  int64_t bshape[MAXD], bsrc[MAXD], bdst[MAXD]; /* strides in bytes */
  int64_t m, n, sp, sl, dp;         /* p and L: extents, strides (bytes) */
  int64_t bi, bj, mblocks, nblocks;
  cmx_x32_stream_ukr_fn stream;     /* runs of whole lines, streamed */
};

static void runs_run(void *ctx, size_t begin, size_t end) {
  const struct rjob *t = ctx;
  for (size_t it = begin; it < end; it++) {
    int64_t r = (int64_t)it;
    const int64_t jb = r % t->nblocks * t->bj;
    r /= t->nblocks;
    const int64_t ib = r % t->mblocks * t->bi;
    int64_t b = r / t->mblocks, so = 0, dO = 0;
    for (int a = t->nb - 1; a >= 0; a--) {
      const int64_t q = b % t->bshape[a];
      b /= t->bshape[a];
      so += q * t->bsrc[a];
      dO += q * t->bdst[a];
    }
    const int64_t mi = t->m - ib < t->bi ? t->m - ib : t->bi;
    const int64_t nj = t->n - jb < t->bj ? t->n - jb : t->bj;
    const char *s0 = t->src + so + ib * t->sp + jb * t->sl;
    char *d0 = t->dst + dO + ib * t->dp + jb * (int64_t)t->w;
    for (int64_t j = 0; j < nj; j++) {
      const char *s = s0 + j * t->sl;
      char *d = d0 + j * (int64_t)t->w;
      if (t->stream)
        for (int64_t i = 0; i < mi; i++)
          t->stream(t->w / 4, s + i * t->sp, d + i * t->dp);
      else
        for (int64_t i = 0; i < mi; i++)
          cmx_copy_run(d + i * t->dp, s + i * t->sp, t->w);
    }
  }
  /* Streaming stores are weakly ordered: visible before the join. */
  if (t->stream) atomic_thread_fence(memory_order_seq_cst);
}

/* sh, st: the merged view (nd >= 2, st[nd - 1] == 1, every extent >= 2);
 * 1 when it copied. */
static int runs_copy(void *dst, const void *src, const int64_t *sh,
                     const int64_t *st, int nd, size_t esz,
                     const struct cmx_transpose_config *cfg,
                     cmx_x32_stream_ukr_fn stream, int nthreads) {
  const int64_t R = sh[nd - 1], w = R * (int64_t)esz;
  if (w >= RUNS_MAX) return 0;
  for (int d = 0; d < nd - 1; d++)
    if (st[d] <= 0) return 0;
  /* whole elements where every run is aligned to its size (else the
   * blocks below, which copy bytes) */
  int whole = (w == 2 || w == 4 || w == 8) && (uintptr_t)src % (size_t)w == 0 &&
              (uintptr_t)dst % (size_t)w == 0;
  int64_t s2[MAXD];
  for (int d = 0; d < nd - 1 && whole; d++) {
    whole = st[d] % R == 0;
    s2[d] = st[d] / R;
  }
  if (whole)
    return cmx_transpose_copy(dst, src, sh, s2, nd - 1, (size_t)w, cfg,
                              stream, nthreads);
  /* p: the axis whose runs lie closest together in the source; L the
   * destination's, next to the run */
  int p = 0;
  for (int d = 1; d < nd - 1; d++)
    if (st[d] < st[p]) p = d;
  const int l = nd - 2;
  if (p == l) return 0; /* rows in the destination's order already */
  struct rjob t = {.src = src, .dst = dst, .w = (size_t)w};
  int64_t ds[MAXD], acc = 1;
  for (int d = nd - 1; d >= 0; d--) {
    ds[d] = acc * (int64_t)esz;
    acc *= sh[d];
  }
  for (int d = 0; d < l; d++)
    if (d != p) {
      t.bshape[t.nb] = sh[d];
      t.bsrc[t.nb] = st[d] * (int64_t)esz;
      t.bdst[t.nb++] = ds[d];
    }
  t.m = sh[p], t.n = sh[l];
  t.sp = st[p] * (int64_t)esz, t.sl = st[l] * (int64_t)esz, t.dp = ds[p];
  /* about 2 KiB read in a row, up to 64 destination rows at a time; the
   * destination rows get 1-2 KiB each per item */
  t.bi = 2048 / w < 8 ? 8 : 2048 / w > 64 ? 64 : 2048 / w;
  if (t.bi > t.m) t.bi = t.m;
  t.bj = 2048 / w < 4 ? 4 : 2048 / w;
  if (t.bj > t.n) t.bj = t.n;
  t.mblocks = (t.m + t.bi - 1) / t.bi;
  t.nblocks = (t.n + t.bj - 1) / t.bj;
  /* streamed where every run is whole lines on line boundaries */
  int lines = ((uintptr_t)dst & 63) == 0 && w % 64 == 0;
  t.stream = stream && lines ? stream : NULL;
  const size_t items =
      (size_t)(acc / (R * t.m * t.n) * t.mblocks * t.nblocks);
  const size_t per = (size_t)(t.bi * t.bj * R);
  cmx_parallel_for(nthreads, items, 1,
                   cmx_batch_grain(per >= 16384 ? 1 : 16384 / per), runs_run,
                   &t);
  return 1;
}

/* A p block halved, rounded up to 16 (a multiple of every tile). */
static int64_t half_p(int64_t bi) { return ((bi + 1) / 2 + 15) / 16 * 16; }

static struct cmx_knob g_run =
    CMX_KNOB("transpose_run", "CMX_TRANSPOSE_RUN", RUN_DEFAULT);

int cmx_transpose_copy(void *dst, const void *src, const int64_t *shape,
                       const int64_t *strides, int ndim, size_t esz,
                       const struct cmx_transpose_config *cfg,
                       cmx_x32_stream_ukr_fn stream, int nthreads) {
  const int nt = stream != NULL;
  int64_t sh[MAXD], st[MAXD];
  int nd = 0;
  if (ndim > MAXD || !(esz == 1 || esz == 2 || esz == 4 || esz == 8)) return 0;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] == 0) return 0;
    if (shape[d] == 1) continue;
    if (nd && st[nd - 1] == strides[d] * shape[d]) {
      sh[nd - 1] *= shape[d];
      st[nd - 1] = strides[d];
    } else {
      sh[nd] = shape[d];
      st[nd++] = strides[d];
    }
  }
  if (nd < 2) return 0;
  if (st[nd - 1] == 1)
    return runs_copy(dst, src, sh, st, nd, esz, cfg, stream, nthreads);
  int p = -1;
  for (int d = nd - 2; d >= 0 && p < 0; d--)
    if (st[d] == 1) p = d;
  /* Short runs either way gain nothing over the gather. */
  if (p < 0 || sh[p] < 4 || sh[nd - 1] < 4) return 0;
  struct tjob t = {.src = src, .dst = dst, .esz = esz, .cfg = cfg};
  int64_t ds[MAXD], acc = 1;
  for (int d = nd - 1; d >= 0; d--) {
    ds[d] = acc;
    acc *= sh[d];
  }
  for (int d = 0; d < nd - 1; d++)
    if (d != p) {
      t.bshape[t.nb] = sh[d];
      t.bsrc[t.nb] = st[d];
      t.bdst[t.nb++] = ds[d];
    }
  t.m = sh[p];
  t.n = sh[nd - 1];
  t.sl = st[nd - 1];
  t.dp = ds[p];
  t.nbatch = acc / (t.m * t.n);
  const long want = cmx_knob(&g_run);
  const int64_t len = want < 64 ? 64 : want > RUN_MAX ? RUN_MAX : want;
  t.bi = t.m < len ? t.m : len;
  /* Items follow the destination's order of p and the outermost batch
   * axis (pouter: p outside), so that a thread's items are one stretch of
   * the output. Where p is outside and a thread's share of a destination
   * row set (its part of the outer batch axis) would be under 16 KiB, p
   * is split first, so each thread writes whole row sets. (64, 32, 32)
   * from (32, 32, 64), 16 per eval, 2 threads, Xeon VM: split along the
   * batch, each thread wrote one 2 KiB half of every 4 KiB row set and an
   * op took 13.9-19.6 us against 14.3-14.9 on 1 thread; split along p,
   * 7.1-7.2 us. (Likely each core's L2 streamer fetching, for ownership,
   * past its half of a page into the lines the other core writes.) */
  t.pouter = t.nb > 0 && t.dp > t.bdst[0];
  if (t.pouter && nthreads > 1 &&
      t.bshape[0] * t.bdst[0] * (int64_t)esz / nthreads < 16384)
    while ((t.m + t.bi - 1) / t.bi < nthreads && t.bi > 16)
      t.bi = half_p(t.bi);
  t.bb = len / t.bi < t.nbatch ? len / t.bi : t.nbatch;
  /* While the team would get fewer than two items a thread, the p blocks
   * are halved (down to 16, a multiple of every tile), then the batch
   * blocks, then the L blocks of BJ (down to 64): a 256 x 256 x.T was
   * one item, so its second thread idled. p first: a thread then writes
   * whole destination rows, where L blocks interleave the threads' lines
   * in every row. 256 x 256 x.T, 16 per eval, on the 2-core Xeon VM:
   * 13.8-14.3 us an op on 1 thread; on 2, 13.9-14.2 split along L, 6.8
   * along p (one per eval: 7.2 -> 6.5). */
  t.bj = BJ;
  for (;;) {
    t.mblocks = (t.m + t.bi - 1) / t.bi;
    t.bblocks = (t.nbatch + t.bb - 1) / t.bb;
    t.nblocks = (t.n + t.bj - 1) / t.bj;
    if (t.bblocks * t.mblocks * t.nblocks >= 2 * nthreads) break;
    if (t.bi > 16) t.bi = half_p(t.bi);
    else if (t.bb > 1) t.bb = (t.bb + 1) / 2;
    else if (t.bj > 64) t.bj /= 2;
    else break;
  }
  /* Streaming stores when the caller asks (an output far larger than the
   * caches) and every full tile's rows start on a cache line: dst, the
   * p stride and every batch stride in whole lines (tiles start at
   * multiples of T along L, and T elements of 4 bytes are whole lines or
   * halves of them for T 8 and 4). */
  int lines = ((uintptr_t)dst & 63) == 0 && (t.dp * 4) % 64 == 0;
  for (int d = 0; d < t.nb; d++) lines &= (t.bdst[d] * 4) % 64 == 0;
  t.nt = nt && esz == 4 && lines;
  size_t items = (size_t)(t.bblocks * t.mblocks * t.nblocks);
  /* grain: about 16K elements per thread before a second one joins (a
   * transposing copy does more per element than a sum, which waits for
   * 64K: SPLIT_ELEMS in kernels/reduce/reduce.c). */
  size_t per = (size_t)(t.bb * t.bi * (t.n < t.bj ? t.n : t.bj));
  cmx_parallel_for(nthreads, items, 1,
                   cmx_batch_grain(per >= 16384 ? 1 : 16384 / per), run, &t);
  return 1;
}
