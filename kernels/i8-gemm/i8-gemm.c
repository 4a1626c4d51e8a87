/* The i8 x i8 -> i32 GEMM driver (contract in i8-gemm.h): packs A and B
 * from any strides into panels of k groups of four, A followed by its row
 * sums, and runs the shared BLIS loops of kernels/common/gemm-loops.c.
 * Blocks over k add their partial sums into C (modulo 2^32, so the result
 * does not depend on the blocking). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/common/amx-blocks.h"
#include "kernels/common/gemm-loops.h"
#include "sched/sched.h"
#include "kernels/i8-gemm/i8-gemm.h"

struct ctx {
  const struct cmx_i8_gemm_config *cfg;
  const struct cmx_i8_gemm_problem *p;
  cmx_i8_gemm_ukr_fn ukr; /* cfg->ukr or cfg->amx */
  size_t mr, nr, kpad;    /* its tile; B's k padded to a multiple of kpad */
  int biased;             /* ukr takes B's panels biased (xor 0x80) */
};

/* A packed B panel's bytes xor 0x80, eight at a time (a panel is whole
 * 32-bit words: nr quads a k-quad). */
static void bias_panel(int8_t *d, size_t bytes) {
  for (size_t q = 0; q < bytes; q += 8) {
    uint64_t v;
    memcpy(&v, d + q, 8);
    v ^= 0x8080808080808080ull;
    memcpy(d + q, &v, 8);
  }
}

/* The AMX kernel's tile (32 x 32) and blocks. Where C (m x n int32 of one
 * batch element) stays in cache between k blocks: kc 512 (A and B micro-
 * panels of 16 KiB each, both in L1) and one 32-row panel of A per block,
 * which then meets the whole kc x nc block of B from L2. 2-core Xeon VM,
 * 1 thread, GOP/s at 2048^3 / 1024^3 for (kc, mc): (2048, 512) 1867 /
 * 1554; (2048, 128) 1740; (1024, 128) 1656; (512, 512) 1791; (512, 128)
 * 2015; (512, 64) 2168-2222 / 2362; (512, 32) 2393-2464 / 2474-2484;
 * (384, 32) 2088 / 2049; (768, 32) 1792 / 2274; nc from the caches (4096
 * here) against 1024 / 2048: 2464 against 2332 / 2436. A larger C is read
 * and written from memory once per k block: at 4096^3 (C 64 MiB; this
 * VM's share of L3 keeps about 16 MiB) (512, 32) ran 981, (1024, 512)
 * 1258, (2048, 512) 1615, (4096, 128) 1727, (4096, 512) 1275, so there kc
 * 2048 and mc from the caches (512), which also bound the A block. */
#define AMX_T 32
#define AMX_KC 512
#define AMX_MC 32
#define AMX_KC_BIG_C 2048

static ptrdiff_t boff(const struct cmx_i8_gemm_operand *o, size_t t) {
  return o->boff ? (ptrdiff_t)o->boff[t] : 0;
}

/* The sum of n signed bytes, eight at a time: each made unsigned (xor
 * 0x80, so the sum is 128 n less), the four byte pairs of a word added
 * into 16-bit lanes (at most 510 a word: 128 words fit), then the lanes. */
static int32_t sum_i8(const int8_t *r, size_t n) {
  const uint64_t lo = 0x00ff00ff00ff00ffull, flip = 0x8080808080808080ull;
  int64_t sum = -128 * (int64_t)n;
  size_t q = 0;
  while (q + 8 <= n) {
    uint64_t acc = 0;
    for (size_t e = q + 8 * 128 < n ? q + 8 * 128 : n; q + 8 <= e; q += 8) {
      uint64_t v;
      memcpy(&v, r + q, 8);
      v ^= flip;
      acc += (v & lo) + (v >> 8 & lo);
    }
    for (int l = 0; l < 4; l++) sum += (int64_t)(acc >> 16 * l & 0xffff);
  }
  for (; q < n; q++) sum += r[q] + 128;
  return (int32_t)sum;
}

/* A panel: dst[(p / 4) * mr * 4 + i * 4 + p % 4] = A(q0 + i, p0 + p), zero
 * past len rows and kcur columns, then mr int32 row sums. A row-major A
 * whose rows are whole 32-bit words apart is the transpose of a block of
 * words (as B with k contiguous: pack_w), its row sums by sum_i8: the
 * byte loop below had 8% of the samples of 2048^3 (1 thread). 2-core
 * Xeon VM, 1 thread, byte loop -> pack_w, interleaved: 2048^3 40.7-41.9
 * -> 37.2-37.8 ms, 256^3 138-141 -> 88-95 us. */
static void pack_a(const void *vctx, size_t t, size_t q0, size_t len,
                   size_t p0, size_t kcur, void *vdst) {
  const struct ctx *x = vctx;
  const struct cmx_i8_gemm_operand *o = &x->p->a;
  size_t mr = x->mr, kq = (kcur + 3) / 4 * 4;
  int8_t *dst = vdst;
  int32_t sums[64] = {0};
  const int8_t *s = o->data + boff(o, t) + (ptrdiff_t)q0 * o->rs +
                    (ptrdiff_t)p0 * o->cs;
  if (o->cs == 1 && o->rs > 0 && o->rs % 4 == 0 && (uintptr_t)s % 4 == 0 &&
      kcur % 4 == 0 && x->cfg->pack_w && mr <= x->cfg->pack_w_r) {
    x->cfg->pack_w(mr, len, kcur / 4, (const float *)(const void *)s,
                   (size_t)o->rs / 4, (float *)(void *)dst, mr);
    for (size_t i = 0; i < len; i++)
      sums[i] = sum_i8(s + (ptrdiff_t)i * o->rs, kcur);
    memcpy(dst + kq * mr, sums, mr * sizeof(int32_t));
    return;
  }
  for (size_t i = 0; i < mr; i++) {
    int8_t *d = dst + i * 4;
    if (i >= len) {
      for (size_t g = 0; g < kq / 4; g++) memset(d + g * mr * 4, 0, 4);
      continue;
    }
    const int8_t *r = s + (ptrdiff_t)i * o->rs;
    int32_t sum = 0;
    size_t p = 0;
    if (o->cs == 1) { /* row-major A: whole 4-byte k groups, then the sum */
      for (; p + 4 <= kcur; p += 4) memcpy(d + (p / 4) * mr * 4, r + p, 4);
      for (size_t q = 0; q < p; q++) sum += r[q];
    }
    for (; p < kq; p++) {
      int8_t v = p < kcur ? r[(ptrdiff_t)p * o->cs] : 0;
      d[(p / 4) * mr * 4 + p % 4] = v;
      sum += v;
    }
    sums[i] = sum;
  }
  memcpy(dst + kq * mr, sums, mr * sizeof(int32_t));
}

/* AMX A panel (32 rows): dst[i * kp + p] = A(q0 + i, p0 + p), kp = kcur
 * rounded up to 64, zero past len rows and kcur columns. */
static void pack_a_amx(const void *vctx, size_t t, size_t q0, size_t len,
                       size_t p0, size_t kcur, void *vdst) {
  const struct ctx *x = vctx;
  const struct cmx_i8_gemm_operand *o = &x->p->a;
  size_t kp = (kcur + 63) / 64 * 64;
  int8_t *dst = vdst;
  const int8_t *s = o->data + boff(o, t) + (ptrdiff_t)q0 * o->rs +
                    (ptrdiff_t)p0 * o->cs;
  for (size_t i = 0; i < AMX_T; i++) {
    int8_t *d = dst + i * kp;
    size_t p = 0;
    if (i < len) {
      const int8_t *r = s + (ptrdiff_t)i * o->rs;
      if (o->cs == 1) {
        memcpy(d, r, kcur);
        p = kcur;
      } else {
        for (; p < kcur; p++) d[p] = r[(ptrdiff_t)p * o->cs];
      }
    }
    memset(d + p, 0, kp - p);
  }
}

/* B panel: dst[(p / 4) * nr * 4 + j * 4 + p % 4] = B(p0 + p, q0 + j), zero
 * past len columns and kcur rows; rows up to kcur rounded up to 4 (to 64
 * for the AMX kernel). Rows below pstart (a multiple of 4) are already
 * packed (pack_b_block). */
static void pack_b_from(const struct ctx *x, size_t t, size_t q0, size_t len,
                        size_t p0, size_t kcur, size_t pstart, int8_t *dst) {
  const struct cmx_i8_gemm_operand *o = &x->p->b;
  size_t nr = x->nr, kq = (kcur + x->kpad - 1) / x->kpad * x->kpad;
  const int8_t *s = o->data + boff(o, t) + (ptrdiff_t)p0 * o->rs +
                    (ptrdiff_t)q0 * o->cs;
  size_t p0q = pstart;
  if (o->rs == 1 && o->cs > 0 && o->cs % 4 == 0 && x->cfg->pack_w &&
      x->cfg->pack_w_r && pstart == 0 && kcur >= 4 &&
      (uintptr_t)s % 4 == 0) {
    /* k contiguous: column j's quad g is the word at s + j cs + 4 g, and
     * the panel's word (g, j) at dst + g nr * 4 + j * 4: a transpose of
     * len rows of kcur / 4 words, pack_w_r rows a call */
    const size_t words = kcur / 4, rmax = x->cfg->pack_w_r;
    for (size_t c0 = 0; c0 < nr; c0 += rmax) {
      size_t rr = nr - c0 < rmax ? nr - c0 : rmax;
      size_t mm = len > c0 ? (len - c0 < rr ? len - c0 : rr) : 0;
      x->cfg->pack_w(rr, mm, words,
                     (const float *)(const void *)(s + (ptrdiff_t)c0 * o->cs),
                     (size_t)o->cs / 4, (float *)(void *)dst + c0, nr);
    }
    p0q = words * 4;
  }
  if (o->cs == 1 && nr == 32 && x->cfg->pack_b4) /* the vector packer */
    for (; p0q + 4 <= kcur; p0q += 4)
      x->cfg->pack_b4(len, s + (ptrdiff_t)p0q * o->rs, o->rs,
                      dst + (p0q / 4) * 128);
  if (o->cs == 1) /* row-major B: four rows interleaved into 32-bit words */
    for (; p0q + 4 <= kcur; p0q += 4) {
      const uint8_t *r0 = (const uint8_t *)s + (ptrdiff_t)p0q * o->rs;
      const uint8_t *r1 = r0 + o->rs, *r2 = r1 + o->rs, *r3 = r2 + o->rs;
      int8_t *d = dst + (p0q / 4) * nr * 4;
      size_t j = 0;
      for (; j < len; j++) {
        uint32_t w = (uint32_t)r0[j] | (uint32_t)r1[j] << 8 |
                     (uint32_t)r2[j] << 16 | (uint32_t)r3[j] << 24;
        memcpy(d + j * 4, &w, 4);
      }
      if (j < nr) memset(d + j * 4, 0, (nr - j) * 4);
    }
  for (size_t p = p0q; p < kq; p++) {
    int8_t *d = dst + (p / 4) * nr * 4 + p % 4;
    const int8_t *r = s + (ptrdiff_t)p * o->rs;
    size_t j = 0;
    if (p < kcur) {
      if (o->cs == 1)
        for (; j < len; j++) d[j * 4] = r[j];
      else
        for (; j < len; j++) d[j * 4] = r[(ptrdiff_t)j * o->cs];
    }
    for (; j < nr; j++) d[j * 4] = 0;
  }
  /* the whole panel, rows below pstart too: this is its last step */
  if (x->biased) bias_panel(dst, kq * nr);
}

static void pack_b(const void *vctx, size_t t, size_t q0, size_t len,
                   size_t p0, size_t kcur, void *vdst) {
  pack_b_from(vctx, t, q0, len, p0, kcur, 0, vdst);
}

/* The whole kc x nc block of B at once, its panels panel_bytes apart:
 * for row-major B with the vector packer, a k-quad of every panel before
 * the next quad, so B's rows are read in runs of len bytes (a panel at a
 * time, each quad came from 4 rows a page or more apart: 1 x 4096 x 4096
 * spent 3.3 ms packing B, 5 GB/s); then each panel's remaining rows. */
static void pack_b_block(const void *vctx, size_t t, size_t q0, size_t len,
                         size_t p0, size_t kcur, void *vdst,
                         size_t panel_bytes) {
  const struct ctx *x = vctx;
  const struct cmx_i8_gemm_operand *o = &x->p->b;
  size_t nr = x->nr, whole = 0;
  int8_t *dst = vdst;
  if (o->cs == 1 && nr == 32 && x->cfg->pack_b4) {
    whole = kcur / 4 * 4;
    const int8_t *s = o->data + boff(o, t) + (ptrdiff_t)p0 * o->rs +
                      (ptrdiff_t)q0;
    for (size_t p = 0; p < whole; p += 4)
      for (size_t jr = 0; jr < len; jr += nr)
        x->cfg->pack_b4(len - jr < nr ? len - jr : nr,
                        s + (ptrdiff_t)p * o->rs + (ptrdiff_t)jr, o->rs,
                        dst + jr / nr * panel_bytes + (p / 4) * 128);
  }
  for (size_t jr = 0; jr < len; jr += nr)
    pack_b_from(x, t, q0 + jr, len - jr < nr ? len - jr : nr, p0, kcur,
                whole, dst + jr / nr * panel_bytes);
}

static void tile(const void *vctx, size_t t, size_t i, size_t j, size_t m,
                 size_t n, size_t p0, size_t kcur, const void *a,
                 const void *b) {
  const struct ctx *x = vctx;
  const struct cmx_i8_gemm_problem *p = x->p;
  struct cmx_i8_gemm_aux aux = {p0 != 0, x->mr, x->nr};
  x->ukr(m, n, kcur, a, b, p->c + t * p->ldcb + i * p->ldc + j, p->ldc,
         &aux);
}

static size_t up64(size_t bytes) { return (bytes + 63) / 64 * 64; }

/* Row dots where A is at most DOT_M rows and B's k is contiguous (a
 * transposed B: the usual int8 weight layout) with k >= 64: 1 x 4096 x
 * 4096 from memory, 1 thread, 2.06 ms packed for the AMX kernel. Row
 * sweeps where B's columns are contiguous instead, A of at most SWEEP_M
 * rows, from SWEEP_K rows of B, four rows of A a sweep (more would not
 * fit the registers; past four, B is read once a sweep). m x 4096 x 4096,
 * 1 thread, ms packed (AMX) -> rows: B^T m = 5 2.10 -> 0.69, m = 8 2.10
 * -> 0.97-1.04, m = 12 2.32 -> 1.71 (m = 16 2.30 -> 2.51 with 16
 * accumulators: no longer worth it); row-major m = 5 2.40 -> 1.23,
 * m = 8 2.48 -> 1.34 (m = 16, four sweeps: 2.8 either way). */
#define DOT_M 12
#define SWEEP_M 8
#define SWEEP_K 16

/* ---- short A, B unpacked: row dots or row sweeps ---- */
/* A (batch x m x k) gathered contiguous with its row sums. Row dots (B's k
 * contiguous): the team splits the flat (batch, column) space, and each
 * range's columns meet all m rows of A at once, so B streams from memory
 * once in its own order. Row sweeps (B's columns contiguous): the same
 * over 64-column chunks, each range's rows of B read left to right. */
struct dot_job {
  const struct cmx_i8_gemm_config *cfg;
  const struct cmx_i8_gemm_problem *p;
  const int8_t *a; /* batch x m x k */
  const int32_t *asum;
  size_t chunks;   /* sweeps: 64-column chunks a batch */
};

static void dot_range(void *ctx, size_t b0, size_t e0) {
  const struct dot_job *d = ctx;
  const struct cmx_i8_gemm_problem *p = d->p;
  const struct cmx_i8_gemm_operand *o = &p->b;
  while (b0 < e0) {
    size_t t = b0 / p->n, j = b0 % p->n;
    size_t n = p->n - j < e0 - b0 ? p->n - j : e0 - b0;
    const int8_t *b = o->data + boff(o, t) + (ptrdiff_t)j * o->cs;
    for (size_t i = 0; i < p->m; i += DOT_M)
      d->cfg->dotrows(p->m - i < DOT_M ? p->m - i : DOT_M, p->k,
                      d->a + (t * p->m + i) * p->k, p->k,
                      d->asum + t * p->m + i, b, (size_t)o->cs, n,
                      p->c + t * p->ldcb + i * p->ldc + j, p->ldc);
    b0 += n;
  }
}

static void sweep_range(void *ctx, size_t b0, size_t e0) {
  const struct dot_job *d = ctx;
  const struct cmx_i8_gemm_problem *p = d->p;
  const struct cmx_i8_gemm_operand *o = &p->b;
  while (b0 < e0) {
    size_t t = b0 / d->chunks, q = b0 % d->chunks;
    size_t nq = d->chunks - q < e0 - b0 ? d->chunks - q : e0 - b0;
    size_t j = q * 64, n = (q + nq) * 64 < p->n ? nq * 64 : p->n - j;
    const int8_t *b = o->data + boff(o, t) + (ptrdiff_t)j;
    for (size_t i = 0; i < p->m; i += 4)
      d->cfg->sweep(p->m - i < 4 ? p->m - i : 4, p->k,
                    d->a + (t * p->m + i) * p->k, p->k,
                    d->asum + t * p->m + i, b, (size_t)o->rs, n,
                    p->c + t * p->ldcb + i * p->ldc + j, p->ldc);
    b0 += nq;
  }
}

static int run_rows(const struct cmx_i8_gemm_config *cfg,
                    const struct cmx_i8_gemm_problem *p, int nthreads,
                    int sweep) {
  const size_t rows = p->batch * p->m;
  int8_t *a = malloc(rows * p->k + 64);
  int32_t *asum = malloc(rows * sizeof(int32_t));
  if (!a || !asum) {
    free(a), free(asum);
    return -1;
  }
  const struct cmx_i8_gemm_operand *o = &p->a;
  for (size_t t = 0; t < p->batch; t++)
    for (size_t i = 0; i < p->m; i++) {
      const int8_t *r = o->data + boff(o, t) + (ptrdiff_t)i * o->rs;
      int8_t *d = a + (t * p->m + i) * p->k;
      for (size_t q = 0; q < p->k; q++) d[q] = r[(ptrdiff_t)q * o->cs];
      asum[t * p->m + i] = sum_i8(d, p->k);
    }
  struct dot_job d = {cfg, p, a, asum, (p->n + 63) / 64};
  /* at least ~64K multiply-adds a thread before a region opens */
  size_t grain = (1u << 16) / (p->k * p->m) + 1;
  if (sweep)
    cmx_parallel_for(nthreads, p->batch * d.chunks, 1, grain / 64 + 1,
                     sweep_range, &d);
  else
    cmx_parallel_for(nthreads, p->batch * p->n, 16, grain, dot_range, &d);
  free(a), free(asum);
  return 0;
}


/* AMX from this many multiply-adds (and k >= 16) on: below it the tile
 * configuration and the padding of k to 64 cost more than they save. */
#define AMX_MACS (1u << 15)

int cmx_i8_gemm(const struct cmx_i8_gemm_config *cfg,
                const struct cmx_i8_gemm_problem *p, int nthreads) {
  if (cfg->dotrows && p->m <= DOT_M && p->k >= 64 && p->b.rs == 1 &&
      p->b.cs > 0)
    return run_rows(cfg, p, nthreads, 0);
  if (cfg->sweep && p->m <= SWEEP_M && p->k >= SWEEP_K && p->b.cs == 1 &&
      p->b.rs > 0)
    return run_rows(cfg, p, nthreads, 1);
  double macs = (double)p->m * (double)p->n * (double)p->k *
                (double)p->batch;
  int amx = cfg->amx && cfg->amx_begin && cfg->amx_end && p->k >= 16 &&
            macs >= AMX_MACS;
  struct ctx x = {cfg, p, cfg->ukr, cfg->mr, cfg->nr, 4, cfg->b_biased};
  if (amx) x.ukr = cfg->amx, x.mr = x.nr = AMX_T, x.kpad = 64, x.biased = 0;
  struct cmx_gemm_loops g = {.ctx = &x, .batch = p->batch, .m = p->m,
                             .n = p->n, .k = p->k, .mr = x.mr,
                             .nr = x.nr, .mc = cfg->mc, .kc = cfg->kc,
                             .nc = cfg->nc, .pack_a = pack_a,
                             .pack_b = pack_b,
                             .pack_b_block = pack_b_block, .tile = tile};
  if (amx) {
    const int big_c = cmx_amx_big_c(p->m, p->n);
    g.kc = cfg->amx_kc ? cfg->amx_kc : big_c ? AMX_KC_BIG_C : AMX_KC;
    g.mc = cfg->mc ? cfg->mc : big_c ? 0 : AMX_MC;
    g.pack_a = pack_a_amx;
    g.begin = cfg->amx_begin, g.end = cfg->amx_end;
  }
  cmx_gemm_loops_blocking(1, x.mr, x.nr, x.kpad, &g.mc, &g.kc, &g.nc);
  size_t kq = (g.kc + x.kpad - 1) / x.kpad * x.kpad;
  g.a_bytes = up64(kq * x.mr + (amx ? 0 : x.mr * sizeof(int32_t)));
  g.b_bytes = up64(kq * x.nr);
  return cmx_gemm_loops_run(&g, nthreads);
}
