/* Scaled dot-product attention (contract in attn-conv.h), flash-style: a
 * block of query rows (packed, pre-scaled, as GEMM A panels) meets key
 * blocks (packed as B panels); the score tile S = Q K^T comes from the
 * GEMM microkernel, each row gets its mask and an online softmax (running
 * max m and sum l; the accumulator is rescaled when m grows), and the
 * weights P, packed as A panels, multiply the unpacked V rows straight
 * from memory (the microkernel's ldb form) into the accumulator. A key
 * block is packed once per query block and met by its mr-row panels in
 * turn; only one mr x bk score tile per thread ever exists.
 * Prefill: items are (batch, head, query block). Decode (Lq == 1): items
 * are (batch, KV head, key chunk of CHUNK keys) holding the Hq / Hkv query
 * heads that share the KV head; partial (m, l, acc) triples are merged per
 * head in chunk order, so the sum order is fixed by the shapes alone. */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../../arch/tuning.h"
#include "../../sched/sched.h"
#include "../common/prefetch.h"
#include "attn-conv.h"

/* Keys per decode chunk: 256 keys x 128 dims x 2 (K and V) x 4 bytes =
 * 256 KB streamed per item, enough to hide the merge and the packing. */
#define CHUNK 256

static size_t rup(size_t x, size_t r) { return (x + r - 1) / r * r; }
static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* One query row: its q, how many leading keys it may see (causal), its
 * mask row (NULL: none), and whether causality hides every key from it
 * (Lq > Lk: MLX's end-aligned mask then gives every key the score
 * -FLT_MAX, so the row is the mean of v; lim is Lk for such a row). */
struct row {
  const float *q;
  size_t lim;
  const float *mrow;
  int hidden;
};

/* Per-thread workspace: owned and written by the one thread that made it.
 * A row block of bq queries meets a key block of bk keys one mr-row panel
 * at a time, so the packed keys (bk x D) and the V block are reused by
 * every panel of the row block from L2, and a panel's scores stay in L1
 * from the QK^T tile to the PV tile. */
struct ws {
  float *qp;  /* bq x D query rows, scaled, as mr-row A panels */
  float *kp;  /* bk x D keys as nr-column B panels */
  float *s;   /* one panel's mr x bk scores, row stride bk, then P */
  float *pp;  /* P as an mr-row A panel (k = keys of the block) */
  float *acc; /* bq x Dv output accumulator */
  float *m, *l; /* bq running maxima and sums */
  float *z;     /* Dv zeros: block_few's padding value row */
  float *kw, *vw; /* 4 x D, 4 x Dv: block_few's widened 16-bit rows */
  uint16_t *z16;  /* Dv 16-bit zeros: its padding 16-bit value row */
  struct row *rows;
};

struct job {
  const struct cmx_attn_io *io;
  const struct cmx_attn_kernels *k;
  size_t mr, nr, bq, bk;
  ptrdiff_t coff; /* causal offset: query i sees keys j <= i + coff */
  size_t nqb;    /* prefill: query blocks per head */
  size_t nch;    /* decode: key chunks */
  float *pm, *pl, *pacc; /* decode partials, per (b, hq, chunk) */
  atomic_int fail;
};

static int ws_new(const struct job *j, struct ws *w) {
  const size_t D = j->io->D ? j->io->D : 1, Dv = j->io->Dv ? j->io->Dv : 1;
  const size_t bqp = rup(j->bq, j->mr);
  size_t n = bqp * D + j->bk * D + j->mr * j->bk * 2 + bqp * Dv + 2 * bqp +
             Dv + rup(4 * D, 16) + 4 * Dv + 16 + (Dv + 1) / 2;
  /* The tiles live in this thread's scratch, kept between calls. */
  float *p = cmx_scratch(CMX_SCRATCH_NN, n * sizeof(float));
  w->rows = malloc(j->bq * sizeof *w->rows);
  if (!w->rows || !p) {
    free(w->rows);
    return -1;
  }
  w->qp = p;
  w->kp = w->qp + bqp * D;
  w->s = w->kp + j->bk * D;
  w->pp = w->s + j->mr * j->bk;
  w->acc = w->pp + j->mr * j->bk;
  w->m = w->acc + bqp * Dv;
  w->l = w->m + bqp;
  w->z = w->l + bqp;
  memset(w->z, 0, Dv * sizeof(float));
  /* the widened rows on 64-byte lines: split-line stores and loads of
   * them ran the bf16 GQA decode at 8 GB/s */
  w->kw = (float *)(((uintptr_t)(w->z + Dv) + 63) & ~(uintptr_t)63);
  w->vw = w->kw + rup(4 * D, 16);
  w->z16 = (uint16_t *)(w->vw + 4 * Dv);
  memset(w->z16, 0, Dv * sizeof(uint16_t));
  return 0;
}

/* r lanes (m of them from rows of src, lds apart, the rest zero) of k
 * floats into a panel of row stride ldd, through the GEMM's transposing
 * packer in pieces of its width; a negative row stride takes a plain loop. */
static void pack_t(const struct job *j, size_t r, size_t m, size_t k,
                   const float *src, int64_t lds, float *dst, size_t ldd) {
  const struct cmx_gemm_config *g = j->k->gemm;
  if (lds < 0 || !g->pack || !g->pack_r) {
    for (size_t i = 0; i < r; i++)
      for (size_t p = 0; p < k; p++)
        dst[p * ldd + i] = i < m ? src[(int64_t)i * lds + (int64_t)p] : 0.0f;
    return;
  }
  for (size_t i = 0; i < r; i += g->pack_r) {
    const size_t ri = min_sz(g->pack_r, r - i);
    const size_t mi = m > i ? min_sz(ri, m - i) : 0;
    g->pack(ri, mi, k, mi ? src + (size_t)lds * i : src, (size_t)lds, dst + i,
            ldd);
  }
}

static void ws_free(struct ws *w) {
  free(w->rows);
}

/* Masks, causal limit and online softmax of row r's nk scores sr at keys
 * [kb, kb + nk); leaves the weights P in place (zeros past the limit).
 * Returns 0 when every weight is 0 (nothing visible, or every score so
 * far -inf), else the number of visible keys. */
static size_t softmax_row(const struct job *j, struct ws *w, size_t r,
                          float *sr, size_t kb, size_t nk) {
  const struct cmx_attn_io *io = j->io;
  const struct cmx_attn_kernels *kk = j->k;
  const size_t Dv = io->Dv;
  const struct row *rw = &w->rows[r];
  size_t vis = rw->lim > kb ? min_sz(nk, rw->lim - kb) : 0;
  if (rw->hidden)
    for (size_t c = 0; c < vis; c++) sr[c] = -FLT_MAX;
  if (rw->mrow) {
    const float *mk = rw->mrow + (int64_t)kb * io->ms[3];
    const int64_t st = io->ms[3];
    if (io->mask_bool) {
      for (size_t c = 0; c < vis; c++)
        if (mk[(int64_t)c * st] == 0.0f) sr[c] = -FLT_MAX;
    } else {
      for (size_t c = 0; c < vis; c++) sr[c] += mk[(int64_t)c * st];
    }
  }
  if (vis < nk) memset(sr + vis, 0, (nk - vis) * sizeof *sr);
  if (!vis) return 0;
  /* every score so far -inf: the fold zeroes the weights, returns -1 */
  const float alpha = kk->fold(vis, sr, &w->m[r], &w->l[r]);
  if (alpha < 0.0f) return 0;
  if (alpha != 1.0f) kk->mul(Dv, w->acc + r * Dv, 1, &alpha, 0, w->acc + r * Dv);
  return vis;
}

static size_t kv_end(const struct ws *w, size_t nrows, size_t j1) {
  size_t kend = 0;
  for (size_t r = 0; r < nrows; r++)
    if (w->rows[r].lim > kend) kend = w->rows[r].lim;
  return min_sz(kend, j1);
}

/* The rows of one KV head's K or V: row r (len elements of esz bytes) at
 * base + r * ld elements; cvt non-NULL: 16-bit rows (bf 1 bf16, 0 f16),
 * which cvt widens to f32 where the level has no dot4h / gemv4h. */
struct kv_rows {
  const char *base;
  int64_t ld;
  size_t len, esz;
  cmx_cvt_ukr_fn cvt;
  int bf;
};

static struct kv_rows kv_head(const struct cmx_attn_io *io, int is_v,
                              size_t b, size_t hk) {
  const int64_t *st = is_v ? io->vs : io->ks;
  const cmx_cvt_ukr_fn cvt = is_v ? io->vcvt : io->kcvt;
  const size_t esz = cvt ? 2 : 4;
  const char *base = (const char *)(is_v ? io->v : io->k) +
                     ((int64_t)b * st[0] + (int64_t)hk * st[1]) * (int64_t)esz;
  return (struct kv_rows){base, st[2], is_v ? io->Dv : io->D, esz, cvt,
                          is_v ? io->vbf : io->kbf};
}

/* Row r's first element. */
static const char *kv_at(const struct kv_rows *s, size_t r) {
  return s->base + (int64_t)r * s->ld * (int64_t)s->esz;
}

/* Rows [r, r + n) as f32 into out[0, n): in place, or widened into buf
 * (n x len), by one call where they are contiguous. */
static void kv_rows4(const struct kv_rows *s, size_t r, size_t n, float *buf,
                     const float **out) {
  if (!s->cvt) {
    for (size_t t = 0; t < n; t++) out[t] = (const float *)kv_at(s, r + t);
    return;
  }
  if ((size_t)s->ld == s->len)
    s->cvt(n * s->len, kv_at(s, r), buf);
  else
    for (size_t t = 0; t < n; t++)
      s->cvt(s->len, kv_at(s, r + t), buf + t * s->len);
  for (size_t t = 0; t < n; t++) out[t] = buf + t * s->len;
}

/* Asks for rows [r0, r0 + n) to come into the caches (a hint: no fault,
 * no effect on results). */
static void prefetch_rows(const struct kv_rows *s, size_t r0, size_t n) {
  for (size_t r = r0; r < r0 + n; r++)
    cmx_prefetch_span(kv_at(s, r), s->len * s->esz);
}

/* Keys per online-softmax step of block_few (four dot4 / gemv4 calls). */
#define FEW_KEYS 16
/* The most query rows block_few takes (decode: query heads a KV head). */
#define FEW_ROWS 16

/* block() for fewer rows than half a microkernel tile (decode without or
 * with few grouped heads): one pass over the keys, FEW_KEYS a step. The
 * step's scores (the GEMV dot kernel, four key rows a call) get one
 * online-softmax fold, then its value rows go into the accumulator by the
 * GEMV accumulate kernel, four at a time; the next step's dots run between
 * them, so K and V stream side by side. Both are prefetched `ahead` keys
 * ahead (g_ahead). No panels, no wasted FMAs; a partial last four repeats
 * a key row (its score dropped) and takes the zero row for V.
 * Zen 5 VM, 1 thread, 1x32x1x128 against 4096 keys: the two-pass form
 * (all of a block's scores, softmax, then all of its values) ran at 29-31
 * GB/s, its prefetch loops compiled out (prefetch.h); a pass folding four
 * keys a step with them 45-47 GB/s, without them 21.
 * Sixteen keys a step rather than four: the fold, the rescale of the
 * accumulator and the calls per key a quarter as often. 2-core Xeon VM, 1
 * thread, KV in L2 (32 keys): 35-38 -> 43-52 GB/s; 2 threads 128 keys
 * 60-61 -> 66-74; from memory (4096 keys) see g_ahead. Folding sixteen
 * with all sixteen key rows read before their value rows lost 4% from
 * memory: the dots of the next step now sit between the value rows. */
/* Keys the decode pass prefetches ahead: the tuning key
 * sdpa_decode_ahead, env CMX_SDPA_DECODE_AHEAD, default 8 (0: none). 2-core
 * Xeon VM (model 167), 1x32x1x128 against 4096 keys, GB/s, interleaved
 * processes: 1 thread, 8 keys 19.8-22.6, 6 19.6-21.6, 12 20.5-21.2, 2
 * 17.7-19.6; the four-key fold before it 18.7-19.4 at 2 (its best; at 8
 * its prefetches waited on the fill buffers, 16.2-18.5); 2 threads 8 keys
 * 44.5-50.1, the four-key fold 43.1-44.7. */
static struct cmx_knob g_ahead =
    CMX_KNOB("sdpa_decode_ahead", "CMX_SDPA_DECODE_AHEAD", 8);
/* Scores of keys [c + u, c + u + 4) (of the nv from c that are real; a
 * padded four repeats key c) for every row, into sc[r][u..], with the key
 * rows `ahead` keys on prefetched. */
static void few_dots4(const struct job *j, const struct ws *w, size_t nrows,
                      const struct kv_rows *K, size_t c, size_t u, size_t nv,
                      size_t ahead, float (*sc)[FEW_KEYS]) {
  const struct cmx_attn_io *io = j->io;
  const struct cmx_gemm_config *g = j->k->gemm;
  const size_t n = min_sz(4, nv - u), D = io->D;
  /* every row's four scores from one call (the same bits as one row at a
   * time: dot4's contract), 16-bit rows widened in registers where the
   * level has dot4h */
  float s4[FEW_ROWS * 4];
  if (K->cvt && g->dot4h) {
    const uint16_t *h[4];
    for (size_t t = 0; t < 4; t++)
      h[t] = (const uint16_t *)kv_at(K, c + u + (t < n ? t : 0));
    g->dot4h(D, h, K->bf, w->qp, nrows, D, s4);
  } else {
    const float *kr[4];
    kv_rows4(K, c + u, n, w->kw, kr);
    for (size_t t = n; t < 4; t++) kr[t] = kr[0];
    g->dot4(D, kr, w->qp, nrows, D, s4);
  }
  if (ahead && c + u + ahead < io->Lk)
    prefetch_rows(K, c + u + ahead, min_sz(4, io->Lk - c - u - ahead));
  for (size_t r = 0; r < nrows; r++)
    memcpy(sc[r] + u, s4 + r * 4, 4 * sizeof(float));
}

/* All the scores of the block of keys from c (up to kend). */
static void few_dots(const struct job *j, const struct ws *w, size_t nrows,
                     const struct kv_rows *K, size_t c, size_t kend,
                     size_t ahead, float (*sc)[FEW_KEYS]) {
  const size_t nv = c < kend ? min_sz(FEW_KEYS, kend - c) : 0;
  for (size_t u = 0; u < nv; u += 4)
    few_dots4(j, w, nrows, K, c, u, nv, ahead, sc);
}

static void block_few(const struct job *j, struct ws *w, size_t nrows,
                      size_t j0, size_t j1, const struct kv_rows *K,
                      const struct kv_rows *V) {
  const struct cmx_attn_io *io = j->io;
  const struct cmx_attn_kernels *kk = j->k;
  const size_t D = io->D, Dv = io->Dv;
  float *qs = w->qp;
  for (size_t r = 0; r < nrows; r++)
    kk->mul(D, w->rows[r].q, 1, &io->scale, 0, qs + r * D);
  const size_t kend = kv_end(w, nrows, j1);
  const long kn = cmx_knob(&g_ahead);
  const size_t ahead = kn > 0 ? (size_t)kn : 0;
  /* scores of the current block (sc[0]) and the next (sc[1]) */
  float sc[2][FEW_ROWS][FEW_KEYS];
  int cur = 0;
  few_dots(j, w, nrows, K, j0, kend, ahead, sc[cur]);
  for (size_t c = j0; c < kend; c += FEW_KEYS) {
    const size_t nv = min_sz(FEW_KEYS, kend - c), cn = c + FEW_KEYS;
    int live[FEW_ROWS];
    for (size_t r = 0; r < nrows; r++) {
      live[r] = softmax_row(j, w, r, sc[cur][r], c, nv) != 0;
      for (size_t u = nv; u < FEW_KEYS; u++) sc[cur][r][u] = 0.0f;
    }
    /* the next block's key rows beside this block's value rows */
    const size_t nn = cn < kend ? min_sz(FEW_KEYS, kend - cn) : 0;
    for (size_t u = 0; u < FEW_KEYS && (u < nv || u < nn); u += 4) {
      if (u < nn) few_dots4(j, w, nrows, K, cn, u, nn, ahead, sc[!cur]);
      if (u >= nv) continue;
      const size_t n = min_sz(4, nv - u);
      if (ahead && c + u + ahead < io->Lk)
        prefetch_rows(V, c + u + ahead, min_sz(4, io->Lk - c - u - ahead));
      /* 16-bit V widened in registers for one query row; for more, once
       * into vw (gemv4h would widen it again for every row: bf16 cache,
       * 1 thread, 8 query heads a KV head 1.24-1.30 -> 1.07-1.14 ms, 4
       * heads 1.32-1.38 -> 1.29-1.34) */
      if (V->cvt && kk->gemm->gemv4h && nrows == 1) {
        const uint16_t *h[4];
        for (size_t t = 0; t < 4; t++)
          h[t] = t < n ? (const uint16_t *)kv_at(V, c + u + t) : w->z16;
        if (live[0]) kk->gemm->gemv4h(Dv, h, V->bf, sc[cur][0] + u, w->acc);
        continue;
      }
      const float *vr[4];
      kv_rows4(V, c + u, n, w->vw, vr);
      for (size_t t = n; t < 4; t++) vr[t] = w->z;
      /* the live rows at once: each V vector loaded once for all of them
       * (the same bits as a row at a time). 2-core Xeon VM, model 207,
       * 1x32x1x128 against 8 KV heads of 4096 keys, interleaved runs, GB/s:
       * 1 thread 20.6 -> 21.1, 2 threads 38.4 -> 42.5; 256 keys (in cache)
       * 0.092 -> 0.085 ms */
      size_t r = 0;
      while (r < nrows) {
        if (!live[r]) {
          r++;
          continue;
        }
        size_t e = r + 1;
        while (e < nrows && live[e]) e++;
        kk->gemm->gemv4(Dv, vr, sc[cur][r] + u, e - r, FEW_KEYS,
                        w->acc + r * Dv, Dv);
        r = e;
      }
    }
    cur = !cur;
  }
}

/* Whether block() runs nrows rows through block_few: fewer than half a
 * microkernel tile, or for decode (one query row per head, so the rows
 * are a KV head's query heads) up to FEW_ROWS. 2-core Xeon VM, 1 thread,
 * 32 query heads against 4096 keys, f32, the packed tiles -> the row
 * pass: 8 query heads a KV head 1.43-1.44 -> 1.12-1.16 ms, 16 1.11-1.14
 * -> 1.00-1.05, 32 even (0.82); a bf16 cache at 8 (copied to f32 before)
 * 3.0 -> 1.22. */
static int few_rows(const struct cmx_attn_io *io, size_t nrows, size_t mr) {
  return nrows * 2 <= mr || (io->Lq == 1 && nrows <= FEW_ROWS);
}

/* Rows w->rows[0, nrows) (row r's q at rows[0].q + r * qlds) against keys
 * [j0, j1) of the KV head K / V (16-bit only where block_few runs: see
 * cmx_attn_reads_16bit); leaves their unnormalised (m, l, acc) in w. */
static void block(const struct job *j, struct ws *w, size_t nrows,
                  int64_t qlds, size_t j0, size_t j1, const struct kv_rows *K,
                  const struct kv_rows *V) {
  const struct cmx_attn_io *io = j->io;
  const size_t mr = j->mr, nr = j->nr, D = io->D, Dv = io->Dv, bk = j->bk;
  const size_t nrp = rup(nrows, mr);
  const cmx_f32_gemm_ukr_fn ukr = j->k->gemm->ukr;
  for (size_t r = 0; r < nrows; r++) w->m[r] = -INFINITY, w->l[r] = 0.0f;
  memset(w->acc, 0, nrows * Dv * sizeof(float));
  if (few_rows(j->io, nrows, mr)) {
    block_few(j, w, nrows, j0, j1, K, V);
    return;
  }
  const float *kh = (const float *)K->base, *vh = (const float *)V->base;
  /* Q rows into mr-row panels (pad rows zero), then scaled in place. */
  for (size_t ir = 0; ir < nrp; ir += mr)
    pack_t(j, mr, ir < nrows ? min_sz(mr, nrows - ir) : 0, D,
           w->rows[0].q + (int64_t)ir * qlds, qlds, w->qp + ir * D, mr);
  j->k->mul(nrp * D, w->qp, 1, &io->scale, 0, w->qp);
  const size_t kend = kv_end(w, nrows, j1);
  struct cmx_f32_gemm_aux qk = {1.0f, 0.0f, 0, mr, nr, NULL, 0, NULL, 0};
  struct cmx_f32_gemm_aux pv = {1.0f, 1.0f, (size_t)io->vs[2], mr, nr,
                                NULL, 0, NULL, 0};
  for (size_t kb = j0; kb < kend; kb += bk) {
    const size_t nk = min_sz(bk, kend - kb), nkp = rup(nk, nr);
    /* Keys [kb, kb + nk) into nr-column panels: kp[c / nr][p][c % nr]. */
    for (size_t jr = 0; jr < nkp; jr += nr)
      pack_t(j, nr, min_sz(nr, nk - jr), D,
             kh + (int64_t)(kb + jr) * io->ks[2], io->ks[2], w->kp + jr * D,
             nr);
    const float *vb = vh + (int64_t)kb * io->vs[2];
    for (size_t ir = 0; ir < nrows; ir += mr) {
      const size_t pm = min_sz(mr, nrows - ir);
      /* Keys this panel sees in the block (causal: the later rows see
       * more; a panel past its limit skips the block). */
      size_t pend = 0;
      for (size_t r = ir; r < ir + pm; r++)
        if (w->rows[r].lim > pend) pend = w->rows[r].lim;
      if (pend <= kb) continue;
      const size_t pk = min_sz(nk, pend - kb);
      for (size_t jr = 0; jr < pk; jr += nr)
        ukr(pm, min_sz(nr, pk - jr), D, w->qp + ir * D, w->kp + jr * D,
            w->s + jr, bk, &qk);
      for (size_t r = 0; r < pm; r++)
        softmax_row(j, w, ir + r, w->s + r * bk, kb, pk);
      pack_t(j, mr, pm, pk, w->s, (int64_t)bk, w->pp, mr);
      for (size_t jd = 0; jd < Dv; jd += nr)
        ukr(pm, min_sz(nr, Dv - jd), pk, w->pp, vb + jd,
            w->acc + ir * Dv + jd, Dv, &pv);
    }
  }
}

static const float *mask_row(const struct cmx_attn_io *io, size_t b,
                             size_t h, size_t i) {
  if (!io->mask) return NULL;
  return io->mask + (int64_t)b * io->ms[0] + (int64_t)h * io->ms[1] +
         (int64_t)i * io->ms[2];
}

static size_t row_lim(const struct job *j, size_t i) {
  const ptrdiff_t e = (ptrdiff_t)i + j->coff + 1;
  if (!j->io->causal || e <= 0) return j->io->Lk; /* e <= 0: hidden */
  return min_sz(j->io->Lk, (size_t)e);
}

static int row_hidden(const struct job *j, size_t i) {
  return j->io->causal && (ptrdiff_t)i + j->coff + 1 <= 0;
}

/* Prefill items [b0, e0): (batch, head, query block). */
static void prefill(void *ctx, size_t b0, size_t e0) {
  struct job *j = ctx;
  const struct cmx_attn_io *io = j->io;
  const size_t G = io->Hq / io->Hkv, Dv = io->Dv;
  struct ws w;
  if (ws_new(j, &w)) {
    atomic_store(&j->fail, 1);
    return;
  }
  for (size_t it = b0; it < e0; it++) {
    const size_t b = it / (io->Hq * j->nqb), h = it / j->nqb % io->Hq;
    const size_t i0 = it % j->nqb * j->bq, n = min_sz(j->bq, io->Lq - i0);
    const float *qh = io->q + (int64_t)b * io->qs[0] + (int64_t)h * io->qs[1];
    for (size_t r = 0; r < n; r++)
      w.rows[r] = (struct row){qh + (int64_t)(i0 + r) * io->qs[2],
                               row_lim(j, i0 + r), mask_row(io, b, h, i0 + r),
                               row_hidden(j, i0 + r)};
    const struct kv_rows K = kv_head(io, 0, b, h / G),
                         V = kv_head(io, 1, b, h / G);
    block(j, &w, n, io->qs[2], 0, io->Lk, &K, &V);
    float *o = io->o + ((b * io->Hq + h) * io->Lq + i0) * Dv;
    for (size_t r = 0; r < n; r++)
      j->k->div(Dv, w.acc + r * Dv, 1, &w.l[r], 0, o + r * Dv);
  }
  ws_free(&w);
}

/* Decode items [b0, e0): (batch, KV head, key chunk), the G query heads of
 * the KV head as rows (bq at a time); writes the partials. */
static void decode(void *ctx, size_t b0, size_t e0) {
  struct job *j = ctx;
  const struct cmx_attn_io *io = j->io;
  const size_t G = io->Hq / io->Hkv, Dv = io->Dv;
  struct ws w;
  if (ws_new(j, &w)) {
    atomic_store(&j->fail, 1);
    return;
  }
  for (size_t it = b0; it < e0; it++) {
    const size_t b = it / (io->Hkv * j->nch), hk = it / j->nch % io->Hkv;
    const size_t c = it % j->nch, k0 = c * CHUNK;
    const size_t k1 = min_sz(io->Lk, k0 + CHUNK);
    for (size_t g0 = 0; g0 < G; g0 += j->bq) {
      const size_t n = min_sz(j->bq, G - g0);
      for (size_t r = 0; r < n; r++) {
        const size_t h = hk * G + g0 + r;
        w.rows[r] = (struct row){
            io->q + (int64_t)b * io->qs[0] + (int64_t)h * io->qs[1],
            row_lim(j, 0), mask_row(io, b, h, 0), row_hidden(j, 0)};
      }
      const struct kv_rows K = kv_head(io, 0, b, hk), V = kv_head(io, 1, b, hk);
      block(j, &w, n, io->qs[1], k0, k1, &K, &V);
      for (size_t r = 0; r < n; r++) {
        const size_t at = (b * io->Hq + hk * G + g0 + r) * j->nch + c;
        j->pm[at] = w.m[r];
        j->pl[at] = w.l[r];
        memcpy(j->pacc + at * Dv, w.acc + r * Dv, Dv * sizeof(float));
      }
    }
  }
  ws_free(&w);
}

/* Rows [b0, e0) of (batch, head): the chunks' partials merged in order. */
static void merge(void *ctx, size_t b0, size_t e0) {
  struct job *j = ctx;
  const size_t Dv = j->io->Dv, nch = j->nch;
  for (size_t bh = b0; bh < e0; bh++) {
    const float *pm = j->pm + bh * nch, *pl = j->pl + bh * nch;
    float M = -INFINITY, L = 0.0f;
    for (size_t c = 0; c < nch; c++)
      if (isnan(pm[c]) || pm[c] > M) M = pm[c];
    float *o = j->io->o + bh * Dv;
    for (size_t d = 0; d < Dv; d++) o[d] = 0.0f;
    for (size_t c = 0; c < nch; c++) {
      if (pm[c] == -INFINITY) continue;
      const float wc = expf(pm[c] - M);
      const float *a = j->pacc + (bh * nch + c) * Dv;
      L += pl[c] * wc;
      for (size_t d = 0; d < Dv; d++) o[d] += a[d] * wc;
    }
    for (size_t d = 0; d < Dv; d++) o[d] /= L;
  }
}

/* bq: query rows a block (~128, whole microkernel tiles) */
static size_t attn_bq(const struct cmx_gemm_config *g) {
  return g->mr * (128 / g->mr ? 128 / g->mr : 1);
}

int cmx_attn_reads_16bit(const struct cmx_attn_io *io,
                         const struct cmx_gemm_config *g) {
  if (!io->Hkv) return 0;
  /* decode() hands block() up to bq query heads of a KV head at a time,
   * prefill() up to bq query rows of one head */
  const size_t rows =
      min_sz(io->Lq == 1 ? io->Hq / io->Hkv : io->Lq, attn_bq(g));
  return few_rows(io, rows, g->mr);
}

int cmx_attn_run(const struct cmx_attn_io *io, const struct cmx_attn_kernels *k,
                 int nthreads) {
  const struct cmx_gemm_config *g = k->gemm;
  struct job j = {.io = io, .k = k, .mr = g->mr, .nr = g->nr};
  /* bq ~128 rows amortises each packed key block over enough panels;
   * bk ~256 keys: the key block and the V block (128 KB each at D = 128),
   * the bq x D queries and accumulators (64 KB each) stay in a 1 MB L2. */
  j.bq = attn_bq(g);
  j.bk = g->nr * (256 / g->nr ? 256 / g->nr : 1);
  j.coff = (ptrdiff_t)io->Lk - (ptrdiff_t)io->Lq;
  atomic_init(&j.fail, 0);
  if (!io->B || !io->Hq || !io->Lq || !io->Dv) return 0;
  if (io->Lq > 1) {
    j.nqb = (io->Lq + j.bq - 1) / j.bq;
    cmx_parallel_for(nthreads, io->B * io->Hq * j.nqb, 1, 1, prefill, &j);
    return atomic_load(&j.fail) ? -1 : 0;
  }
  j.nch = io->Lk ? (io->Lk + CHUNK - 1) / CHUNK : 1;
  const size_t rows = io->B * io->Hq;
  float *p = cmx_scratch(CMX_SCRATCH_NN_OUT,
                         rows * j.nch * (io->Dv + 2) * sizeof(float));
  if (!p) return -1;
  j.pm = p;
  j.pl = p + rows * j.nch;
  j.pacc = j.pl + rows * j.nch;
  cmx_parallel_for(nthreads, io->B * io->Hkv * j.nch, 1, 1, decode, &j);
  if (!atomic_load(&j.fail))
    cmx_parallel_for(nthreads, rows, 1, 16, merge, &j);
  return atomic_load(&j.fail) ? -1 : 0;
}
