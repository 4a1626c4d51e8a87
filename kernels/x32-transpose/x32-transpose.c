/* The blocked transposing copy (contract in x32-transpose.h). After axes
 * are merged, the copy is a batch of 2-D transposes: axis p (source stride
 * 1) against the last axis L (destination stride 1). Work items are BS x BS
 * blocks, batch-major then p-block then L-block, so consecutive items write
 * consecutive runs of the same destination rows; the team splits the flat
 * item range. Inside a block, full tiles go to the microkernel (32-bit
 * elements) and edges and other element sizes to scalar loops. */
#include <string.h>

#include "../../sched/sched.h"
#include "x32-transpose.h"

/* Block edge in elements: 64 x 64 x 4 B = 16 KiB read + 16 KiB written per
 * block, half of L1d each way round. */
/* A work item: BI x BJ elements of (p, L) for BM consecutive batch entries,
 * so the source is read in runs along the batch axis too. On (2048,512,64)
 * -> (64,512,2048) f32, one Cascade Lake core: 64x64x16 gives 3.6 GB/s,
 * 64x64x1 3.4, 64x256x4 2.2, 16x16x1 2.8 (all with streaming stores; 1.8
 * without). */
#define BI 64
#define BJ 64
#define BM 16
#define MAXD 8

struct tjob {
  const char *src;
  char *dst;
  size_t esz;
  int nb;                       /* batch axes */
  int64_t bshape[MAXD], bsrc[MAXD], bdst[MAXD];
  int64_t m, n;                 /* extent of axis p and of axis L */
  int64_t sl, dp;               /* source stride of L, dest stride of p */
  int64_t mblocks, nblocks, nbatch;
  const struct cmx_transpose_config *cfg;
  int nt;                       /* the microkernel may stream its stores */
};

/* dst[i * dp + j] = src[j * sl + i] for i < mi, j < nj, any element size. */
static void edge(const struct tjob *t, const char *s, char *d, int64_t mi,
                 int64_t nj) {
  size_t e = t->esz;
  for (int64_t i = 0; i < mi; i++)
    for (int64_t j = 0; j < nj; j++) {
      const char *a = s + (j * t->sl + i) * (int64_t)e;
      char *b = d + (i * t->dp + j) * (int64_t)e;
      switch (e) {
        case 1: *b = *a; break;
        case 2: memcpy(b, a, 2); break;
        case 4: memcpy(b, a, 4); break;
        default: memcpy(b, a, 8); break;
      }
    }
}

static void block(const struct tjob *t, const char *s, char *d, int64_t mi,
                  int64_t nj) {
  int T = t->cfg ? t->cfg->tile : 0;
  if (t->esz != 4 || !T) {
    edge(t, s, d, mi, nj);
    return;
  }
  int64_t mf = mi / T * T, nf = nj / T * T;
  for (int64_t i = 0; i < mf; i += T)
    for (int64_t j = 0; j < nf; j += T)
      t->cfg->ukr((const uint32_t *)s + j * t->sl + i, (size_t)t->sl,
                  (uint32_t *)d + i * t->dp + j, (size_t)t->dp, t->nt);
  if (nf < nj) edge(t, s + nf * t->sl * 4, d + nf * 4, mf, nj - nf);
  if (mf < mi) edge(t, s + mf * 4, d + mf * t->dp * 4, mi - mf, nj);
}

static void run(void *ctx, size_t begin, size_t end) {
  const struct tjob *t = ctx;
  for (size_t it = begin; it < end; it++) {
    /* batch-block outermost, then L-block, then p-block; BM batch entries
     * per item so the source runs along the batch axis too. */
    int64_t bb = (int64_t)it / (t->nblocks * t->mblocks);
    int64_t r = (int64_t)it % (t->nblocks * t->mblocks);
    int64_t jb = r / t->mblocks * BJ, ib = r % t->mblocks * BI;
    int64_t mi = t->m - ib < BI ? t->m - ib : BI;
    int64_t nj = t->n - jb < BJ ? t->n - jb : BJ;
    for (int64_t b0 = bb * BM; b0 < (bb + 1) * BM && b0 < t->nbatch; b0++) {
      int64_t b = b0, so = 0, dO = 0;
      for (int d = t->nb - 1; d >= 0; d--) {
        int64_t k = b % t->bshape[d];
        b /= t->bshape[d];
        so += k * t->bsrc[d];
        dO += k * t->bdst[d];
      }
      so += ib + jb * t->sl;
      dO += ib * t->dp + jb;
      block(t, t->src + so * (int64_t)t->esz, t->dst + dO * (int64_t)t->esz,
            mi, nj);
    }
  }
}

int cmx_transpose_copy(void *dst, const void *src, const int64_t *shape,
                       const int64_t *strides, int ndim, size_t esz,
                       const struct cmx_transpose_config *cfg, int nthreads) {
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
  if (nd < 2 || st[nd - 1] == 1) return 0;
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
  t.mblocks = (t.m + BI - 1) / BI;
  t.nblocks = (t.n + BJ - 1) / BJ;
  t.nbatch = acc / (t.m * t.n);
  /* Streaming stores when the output is far larger than the caches (it
   * would be evicted before it is read again) and every full tile's rows
   * start on a cache line. */
  t.nt = esz * (size_t)acc > cmx_topo()->l3 && ((uintptr_t)dst & 63) == 0 &&
         (t.dp * 4) % 64 == 0;
  size_t items = (size_t)((t.nbatch + BM - 1) / BM) * (size_t)(t.mblocks * t.nblocks);
  /* grain: about 64K elements per thread before a second one joins. */
  cmx_parallel_for(nthreads, items, 1, 16, run, &t);
  return 1;
}
