/* Convolution (contract in attn-conv.h). Depthwise: per output pixel, the
 * f32-dwconv microkernel over the pixel's tap rows (channels contiguous in
 * x, in the tap-major weight copy and in y).
 * Otherwise an implicit GEMM per group: Y (pixels x Cout/groups) =
 * patches (pixels x KH KW Cg) W^T. The weights are packed once into nr-
 * column B panels (the GEMM's transposing packer, split over the team), or
 * with a single tile of pixels block by block as each is used, and
 * x is copied once with its zero padding; each item (group, block of
 * output channels, tile of about MT output pixels) packs its patches, KC
 * deep at a time, from the padded x into mr-row A panels with the same
 * packer, and runs the microkernel over the tile. No im2col buffer beyond
 * one MT x KC block per thread. Where every run of the patch depth is
 * DIRECT_RUN floats or more, the depth blocks follow the runs instead and
 * a panel of pixels in one output row is read in place (tile_block); where
 * the microkernel takes fewer rows than its tile read in place
 * (direct_rows), the tiles are whole output rows, each cut into panels of
 * nearly equal length, none packed (segment_block).
 * 2-core Xeon VM, 1 thread, ms, before -> after the four changes (weights
 * packed by a scalar loop on one thread, whole, on every call; one item
 * per pixel tile; every panel packed), torch 2.15 (oneDNN) beside, in its
 * faster layout (channels-last but at 7x7x512, NCHW):
 *   56x56x64 3x3 -> 64      1.75 -> 1.26-1.36  (torch 1.32-1.35)
 *   28x28x128 3x3 -> 128    1.70 -> 1.32       (1.37-1.46)
 *   14x14x256 3x3 -> 256    2.33 -> 1.48-1.54  (1.68-1.82)
 *   7x7x512 3x3 -> 512      5.37 -> 1.84       (2.12-2.28)
 *   4x32x32x64 3x3 -> 64    2.43 -> 2.03       (1.77-1.81)
 *   56x56x256 1x1 -> 64     0.78 -> 0.63-0.67  (0.64-0.71)
 * 2 threads: 7x7x512 5.15 -> 1.22 (torch 1.26), 14x14x256 1.99 -> 0.89
 * (0.96), 56x56x64 0.92 -> 0.68 (0.68). (4x32x32x64: 40% of its panels
 * cross output rows and are packed, 11% of its time.) */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../../sched/sched.h"
#include "attn-conv.h"

/* KC: a kc x nr weight panel stays in L1 (256 x 32 x 4 = 32 KB at the
 * AVX-512 tile); MT: an MT x KC patch block (~128 x 256 x 4 = 128 KB)
 * stays in L2. */
#define KC 256
#define MT_ROWS 128
/* Runs this long or longer are read in place: a microkernel call per
 * run, C reloaded for each; shorter ones are packed. 2-core Xeon VM, 1
 * thread, AVX-512 (output rows as segments), ms, packed -> in place:
 * 224x224x3 -> 64 7x7/2 (runs of 21) 1.89 -> 1.71; 56x56x3 -> 32 3x3 (9)
 * 0.093 -> 0.045-0.058; 112x112x16 -> 32 (48) 1.06-1.37 -> 0.76-0.80;
 * 32x32x8 -> 64 5x5 (40) 0.20 -> 0.17. Runs of 3-7 went either way
 * (224x224x1 -> 64 7x7: 3.02 -> 3.27-3.34; 224x224x2 -> 32 3x3: 0.89 ->
 * 0.71-0.95). Before the segments, 64 (the stem measured even). */
#define DIRECT_RUN 8
/* Groups of at most EXPAND_NG outputs and EXPAND_CGNG weights a tap go to
 * the depthwise microkernel on an expanded copy of x (dw_run); more, the
 * implicit GEMM. 2-core Xeon VM, 1 thread, 3x3 on 56x56, ms (medians of
 * three interleaved runs), GEMM -> expanded: Cg 2 Ng 4 1.51 -> 0.21; Cg 4
 * Ng 8 1.69 -> 0.81; Cg 16 Ng 4 1.12 -> 1.0; but Cg 16 Ng 8 1.62 -> 2.22,
 * with Ng 16 the GEMM's tile is full (14x14x512, groups 32, 0.71 against
 * 4.7-7.0), and once the GEMM microkernel reads a block of runs at once
 * (direct_runs) Cg 8 Ng 8 goes the other way: 0.56 against 0.79
 * (28x28x256: 0.57-0.60 against 1.11-1.14). */
#define EXPAND_NG 8
#define EXPAND_CGNG 64
/* The implicit GEMM's padded x and packed weights come from the calling
 * thread's scratch up to this size (the team reads them; kept for the
 * next call), larger ones are allocated per call: a fresh mapping was 17%
 * of 14x14x512 -> 512 3x3, groups 32, in page faults (perf), and about 1%
 * of the large convolutions, whose scratch would stay held. */
#define SHARED_SCRATCH ((size_t)8 << 20)

static size_t rup(size_t x, size_t r) { return (x + r - 1) / r * r; }
static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

struct run;

struct job {
  const struct cmx_conv_io *io;
  const struct cmx_gemm_config *g;
  size_t Cg, Ng, Kg, mt, ntile;
  size_t spt;     /* segs: segments a tile (mt: the most pixels a tile) */
  size_t cw, ncb; /* columns of an item (a multiple of nr), items a tile */
  float *wp; /* depthwise: (KH KW, Cout); else per group nr panels, or
                NULL: packed block by block as used (b_block) */
  cmx_f32_dwconv_ukr_fn dw;
  const float *zero; /* depthwise: (W + 1) pw zeros, the padding's taps */
  size_t pw;         /* depthwise: floats a pixel of what dw_rows reads */
  size_t band;       /* depthwise, expanded: output rows an item */
  const float *xp; /* implicit GEMM: x, or xpad when there is padding */
  float *xpad;     /* (N, Hp, Wp, Cin) zero-padded copy, or NULL */
  size_t Hp, Wp;
  struct run *runs; /* nrun runs of the patch depth */
  size_t nrun;
  size_t *roff; /* runs[u].off (nrun), the microkernel's run offsets */
  size_t per;   /* direct: runs a depth block (the microkernel reads them
                   all, aux.roff), or 0: a call per run */
  int direct; /* depth blocks along the runs, A panels read in place */
  size_t segs; /* direct, by output rows: each split into segs panels of
                  the microkernel's direct_rows ... mr pixels (0: not) */
  atomic_int fail;
};

/* ---- depthwise ---- */
/* Pixels [b0, e0) of x as dw_rows reads them when a group has more than
 * one input or output channel: Cg rows of Cout floats a pixel, row ci
 * lane c = x[group(c) Cg + ci] (the group's ci-th input, repeated for
 * each of its Ng outputs). */
struct expand {
  const struct cmx_conv_io *io;
  const float *x; /* the image's pixels */
  float *xe;
  size_t Cg, Ng;
};

/* Four floats, any alignment (GCC vectors: SSE on x86-64, NEON on
 * aarch64, so the copy below is 16-byte stores at every level). */
typedef float f4u __attribute__((vector_size(16), aligned(4)));

static void expand_pixels(void *ctx, size_t b0, size_t e0) {
  const struct expand *e = ctx;
  const size_t Cin = e->io->Cin, C = e->io->Cout, Cg = e->Cg, Ng = e->Ng;
  const size_t G = e->io->groups;
  for (size_t px = b0; px < e0; px++) {
    const float *x = e->x + px * Cin;
    float *d = e->xe + px * Cg * C;
    /* row by row, each stored in order (a group at a time across the Cg
     * rows measured slower at 4 outputs a group) */
    for (size_t ci = 0; ci < Cg; ci++, d += C) {
      const float *xc = x + ci;
      /* 4 and 8 outputs apart: one loop over Ng / 4 stores ran 56x56x128
       * -> 128 groups 32 and 56x56x64 -> 128 groups 16 about 20% slower */
      if (Ng == 4) {
        for (size_t g = 0; g < G; g++) {
          const f4u q = {xc[g * Cg], xc[g * Cg], xc[g * Cg], xc[g * Cg]};
          *(f4u *)(d + 4 * g) = q;
        }
      } else if (Ng == 8) {
        for (size_t g = 0; g < G; g++) {
          const f4u q = {xc[g * Cg], xc[g * Cg], xc[g * Cg], xc[g * Cg]};
          *(f4u *)(d + 8 * g) = q;
          *(f4u *)(d + 8 * g + 4) = q;
        }
      } else if (Ng == 2 && Cg == 1) { /* multiplier 2: x's lanes doubled */
        size_t g = 0;
        for (; g + 4 <= G; g += 4) {
          const f4u v = *(const f4u *)(xc + g);
          const f4u lo = {v[0], v[0], v[1], v[1]},
                    hi = {v[2], v[2], v[3], v[3]};
          *(f4u *)(d + 2 * g) = lo;
          *(f4u *)(d + 2 * g + 4) = hi;
        }
        for (; g < G; g++) d[2 * g] = d[2 * g + 1] = xc[g];
      } else {
        for (size_t g = 0; g < G; g++)
          for (size_t o = 0; o < Ng; o++) d[g * Ng + o] = xc[g * Cg];
      }
    }
  }
}

/* Output rows [b0, e0) of (n, ho): the table's microkernel over an array
 * of tap pointers tp (taps in the padding point at zeros, so the kernel
 * has no bounds and every pixel sums its taps in the same order); x: pw
 * floats a pixel, input rows n H + ih from row0 on. The input row of each
 * kernel row is found once per output row (a row of zeros, W pixels
 * wide, for one in the padding) and the tap pointers come without
 * divisions: deriving (kh, kw) from the tap index with two 64-bit
 * divisions per tap cost more than the microkernel (perf, 3x3 dw on
 * 1x56x56x128: dw_rows 62% of the op's samples, the kernel 38%). The
 * pixels whose taps all lie inside the row go to the kernel in one call
 * (its pixels xs apart); pointer set-up and a call per pixel had been
 * most of a 3x3 over 32 channels (1x112x112x32, 1 thread: 0.36 ms,
 * torch 0.19). */
static void out_rows(const struct job *j, const float *x, size_t row0,
                     size_t b0, size_t e0, const float **tp) {
  const struct cmx_conv_io *io = j->io;
  const size_t C = io->Cout, Cg = j->Cg, pw = j->pw;
  const size_t taps = io->KH * io->KW * Cg;
  /* wo in [lo, hi): every tap of the row inside 0 <= iw < W */
  const ptrdiff_t s1 = (ptrdiff_t)io->stride[1], p1 = (ptrdiff_t)io->pad[1],
                  span = (ptrdiff_t)((io->KW - 1) * io->dil[1]);
  size_t lo = (size_t)((p1 + s1 - 1) / s1), hi = 0;
  if ((ptrdiff_t)io->W - 1 + p1 - span >= 0)
    hi = (size_t)(((ptrdiff_t)io->W - 1 + p1 - span) / s1 + 1);
  hi = hi > io->Wo ? io->Wo : hi;
  lo = lo > hi ? hi : lo;
  for (size_t it = b0; it < e0; it++) { /* (n, ho) */
    const size_t n = it / io->Ho, ho = it % io->Ho;
    float *yrow = io->y + it * io->Wo * C;
    const float **xrow = tp + taps; /* per kernel row: its input row */
    for (size_t kh = 0; kh < io->KH; kh++) {
      const ptrdiff_t ih = (ptrdiff_t)(ho * io->stride[0]) - io->pad[0] +
                           (ptrdiff_t)(kh * io->dil[0]);
      xrow[kh] = ih < 0 || ih >= (ptrdiff_t)io->H
                     ? j->zero
                     : x + (n * io->H + (size_t)ih - row0) * io->W * pw;
    }
    for (size_t wo = 0; wo < io->Wo;) {
      const int inside = wo >= lo && wo < hi;
      const ptrdiff_t iw0 = (ptrdiff_t)wo * s1 - p1;
      for (size_t kh = 0, t = 0; kh < io->KH; kh++)
        for (size_t kw = 0; kw < io->KW; kw++) {
          const ptrdiff_t iw = iw0 + (ptrdiff_t)(kw * io->dil[1]);
          const float *px = iw < 0 || iw >= (ptrdiff_t)io->W
                                ? j->zero
                                : xrow[kh] + (size_t)iw * pw;
          for (size_t ci = 0; ci < Cg; ci++, t++) tp[t] = px + ci * C;
        }
      const size_t np = inside ? hi - wo : 1;
      j->dw(C, taps, tp, j->wp, yrow + wo * C, np, (size_t)s1 * pw);
      wo += np;
    }
  }
}

/* The tap pointers of one call (KH KW Cg, and KH input rows). */
static const float **taps_new(const struct job *j) {
  const size_t n = j->io->KH * j->io->KW * j->Cg + j->io->KH;
  return malloc(n * sizeof(const float *));
}

/* Output rows [b0, e0) of (n, ho) from x as it is (depthwise, multiplier
 * 1). */
static void dw_rows(void *ctx, size_t b0, size_t e0) {
  struct job *j = ctx;
  const float **tp = taps_new(j);
  if (!tp) {
    atomic_store(&j->fail, 1);
    return;
  }
  out_rows(j, j->io->x, 0, b0, e0, tp);
  free(tp);
}

/* Items [b0, e0) of (n, band of j->band output rows): the band's input
 * rows expanded into this thread's scratch, then its output rows from
 * there. A thread expands what it reads (no team-wide step between
 * expanding and reading), the rows a band shares with the next expanded
 * by both. */
static void dw_bands(void *ctx, size_t b0, size_t e0) {
  struct job *j = ctx;
  const struct cmx_conv_io *io = j->io;
  const size_t nb = (io->Ho + j->band - 1) / j->band;
  const size_t s0 = (size_t)io->stride[0], span = (io->KH - 1) * io->dil[0];
  const size_t in = min_sz((j->band - 1) * s0 + span + 1, io->H);
  const float **tp = taps_new(j);
  float *xe = cmx_scratch(CMX_SCRATCH_NN, in * io->W * j->pw * sizeof(float));
  if (!tp || !xe) {
    free(tp);
    atomic_store(&j->fail, 1);
    return;
  }
  for (size_t it = b0; it < e0; it++) {
    const size_t n = it / nb, h0 = it % nb * j->band;
    const size_t h1 = h0 + j->band < io->Ho ? h0 + j->band : io->Ho;
    const ptrdiff_t lo = (ptrdiff_t)(h0 * s0) - io->pad[0],
                    hi = (ptrdiff_t)((h1 - 1) * s0 + span) - io->pad[0] + 1;
    const size_t r0 = lo < 0 ? 0 : (size_t)lo;
    const size_t r1 = hi > (ptrdiff_t)io->H ? io->H : (size_t)hi;
    if (r1 > r0) {
      struct expand e = {io, io->x + (n * io->H + r0) * io->W * io->Cin, xe,
                         j->Cg, j->Ng};
      expand_pixels(&e, 0, (r1 - r0) * io->W);
    }
    out_rows(j, xe, n * io->H + r0, n * io->Ho + h0, n * io->Ho + h1, tp);
  }
  free(tp);
}

/* ---- implicit GEMM ---- */
/* A run: depth positions [p0, p0 + len) of the patch, (kh, kw, c) order,
 * that lie at consecutive floats of the (padded) input, off floats past a
 * pixel's window origin. Without width dilation and with one group, a whole
 * kernel row (KW Cin floats) is one run; otherwise a tap's Cg channels. */
struct run {
  size_t p0, len, off;
};

/* Packs r <= mr lanes through the pack microkernel (the reference where
 * the table's packer is narrower than the tile). */
static void pack_lanes(const struct job *j, size_t r, size_t m, size_t k,
                       const float *src, size_t lds, float *dst) {
  const struct cmx_gemm_config *g = j->g;
  if (g->pack && r <= g->pack_r)
    g->pack(r, m, k, src, lds, dst, g->mr);
  else
    cmx_f32_gemm_pack_ukr__ref(r, m, k, src, lds, dst, g->mr);
}

/* Patches of output pixels [m0, m0 + rows) of group gi, depth [pc, pc +
 * kc), into mr-row panels (pad rows zero). The input is padded (j->xp), so
 * every window lies inside it; pixels of one output row sit stride[1] Cin
 * floats apart, so each (run of pixels in one row, run of depth) is one
 * call of the vectorised transposing packer, straight from the input. */
static void pack_patches(const struct job *j, size_t gi, size_t m0,
                         size_t rows, size_t pc, size_t kc, float *ap) {
  const struct cmx_conv_io *io = j->io;
  const size_t mr = j->g->mr, Cin = io->Cin, HoWo = io->Ho * io->Wo;
  const size_t lds = (size_t)io->stride[1] * Cin;
  for (size_t ir = 0; ir < rows; ir += mr) {
    float *pan = ap + ir * kc;
    const size_t pr = min_sz(mr, rows - ir);
    for (size_t i = 0; i < mr;) { /* pixels of one output row */
      /* i < pr here: the last run of pixels also takes the pad lanes. */
      const size_t m = m0 + ir + i;
      const size_t cnt = min_sz(pr - i, io->Wo - m % io->Wo);
      const size_t lanes = i + cnt == pr ? mr - i : cnt;
      const size_t n = m / HoWo, ho = m / io->Wo % io->Ho, wo = m % io->Wo;
      const float *org = j->xp + ((n * j->Hp + ho * (size_t)io->stride[0]) *
                                      j->Wp + wo * (size_t)io->stride[1]) *
                                     Cin + gi * j->Cg;
      for (size_t u = 0; u < j->nrun; u++) {
        const struct run *rn = &j->runs[u];
        const size_t a = rn->p0 > pc ? rn->p0 : pc;
        const size_t b = min_sz(rn->p0 + rn->len, pc + kc);
        if (a >= b) continue;
        pack_lanes(j, lanes, cnt, b - a, org + rn->off + (a - rn->p0), lds,
                   pan + (a - pc) * mr + i);
      }
      i += lanes;
    }
  }
}

/* Output channels [o0, o0 + nr) of group gi (zeros past its last) at depth
 * [pc, pc + kc) as one B panel block (kc rows of nr), pack_r channels at a
 * time by the packing microkernel. */
static void pack_panel(const struct job *j, size_t gi, size_t o0, size_t pc,
                       size_t kc, float *d) {
  const struct cmx_gemm_config *g = j->g;
  const size_t nr = g->nr, Kg = j->Kg;
  const size_t pr = g->pack && g->pack_r ? g->pack_r : nr;
  for (size_t c = 0; c < nr; c += pr) {
    const size_t r = min_sz(pr, nr - c);
    const size_t m = o0 + c >= j->Ng ? 0 : min_sz(r, j->Ng - o0 - c);
    const float *src = j->io->w + (gi * j->Ng + o0 + c) * Kg + pc;
    if (g->pack && r <= g->pack_r)
      g->pack(r, m, kc, src, Kg, d + c, nr);
    else
      cmx_f32_gemm_pack_ukr__ref(r, m, kc, src, Kg, d + c, nr);
  }
}

/* Whole-depth weight panels [b0, e0) of the flat (group, nr columns)
 * space. */
static void pack_weights(void *ctx, size_t b0, size_t e0) {
  const struct job *j = ctx;
  const size_t nr = j->g->nr, np = rup(j->Ng, nr) / nr;
  for (size_t it = b0; it < e0; it++)
    pack_panel(j, it / np, it % np * nr, 0, j->Kg,
               j->wp + it * nr * j->Kg);
}

/* The B block of channels [jr, jr + nr) of group gi at depth [pc, pc +
 * kc): in the panels packed up front, or packed now into bp when each
 * block serves one item only (one tile of pixels: the weights then go from
 * memory through L1 once, not out to a packed copy and back). */
static const float *b_block(const struct job *j, size_t gi, size_t jr,
                            size_t pc, size_t kc, float *bp) {
  const size_t nr = j->g->nr;
  if (j->wp)
    return j->wp + gi * rup(j->Ng, nr) * j->Kg + jr * j->Kg + pc * nr;
  pack_panel(j, gi, jr, pc, kc, bp);
  return bp;
}

/* Where depth pc of run rn lies from a pixel's window origin: in the
 * run, or (the microkernel reading several runs, aux->roff) at the
 * origin, the runs' offsets in aux->roff. */
static size_t run_at(const struct run *rn, size_t pc,
                     const struct cmx_f32_gemm_aux *aux) {
  return aux->roff ? 0 : rn->off + (pc - rn->p0);
}

/* The first pixel of segment g (j->segs): output row g / segs, its
 * part g % segs of segs of nearly equal length. */
static size_t seg_pixel(const struct job *j, size_t g) {
  const size_t q = j->segs, Wo = j->io->Wo;
  return g / q * Wo + Wo * (g % q) / q;
}

/* What tile_block does for a tile of whole segments (j->segs): each
 * output row as segs panels of nearly equal length (16 pixels: 8 + 8; 32:
 * 11 + 11 + 10), every one read in place by the microkernel's direct_rows
 * form; none is packed (a 14-pixel panel across two rows of 16 or 32 had
 * to be: 11% of 8 x 16 x 16 x 128 -> 128, 3x3). */
static void segment_block(const struct job *j, size_t gi, size_t m0,
                          size_t rows, size_t c0, size_t c1, size_t pc,
                          size_t kc, const struct run *rn, float *bp, float *yt,
                          struct cmx_f32_gemm_aux *aux) {
  const struct cmx_conv_io *io = j->io;
  const size_t nr = j->g->nr, Cin = io->Cin, Wo = io->Wo, q = j->segs;
  aux->lda = (size_t)io->stride[1] * Cin;
  aux->a_next = NULL;
  /* the tile's first segment: w0 = m0 % Wo is floor(Wo s / q) */
  const size_t g0 = m0 / Wo * q + (m0 % Wo * q + Wo - 1) / Wo;
  for (size_t jr = c0; jr < c1; jr += nr) {
    const float *bt = b_block(j, gi, jr, pc, kc, bp);
    for (size_t g = g0; seg_pixel(j, g) < m0 + rows; g++) {
      const size_t r = g / q, s = g % q; /* r: n Ho + ho */
      const size_t n = r / io->Ho, ho = r % io->Ho;
      const size_t w0 = Wo * s / q, w1 = Wo * (s + 1) / q;
      const float *at = j->xp +
                        (n * j->Hp + ho * (size_t)io->stride[0]) * j->Wp * Cin +
                        gi * j->Cg + run_at(rn, pc, aux) + w0 * aux->lda;
      j->g->ukr(w1 - w0, min_sz(nr, c1 - jr), kc, at, bt,
                yt + (r * Wo + w0 - m0) * io->Cout + jr, io->Cout, aux);
    }
  }
  aux->beta = 1.0f;
}

/* Depth [pc, pc + kc) of the tile of output pixels [m0, m0 + rows) of
 * group gi into its channels [c0, c1) (aux->beta: 0 for the first block).
 * With rn (the block lies in that run of the patch depth), a panel of mr
 * pixels in one output row is a strided matrix of the (padded) input,
 * rows lds floats apart, which the microkernel reads in place (aux.lda);
 * every other panel (across output rows, a tile's partial last one, or
 * all of them without rn) is packed first. */
static void tile_block(const struct job *j, size_t gi, size_t m0,
                       size_t rows, size_t c0, size_t c1, size_t pc,
                       size_t kc, const struct run *rn, float *ap, float *bp,
                       float *yt, struct cmx_f32_gemm_aux *aux) {
  const struct cmx_conv_io *io = j->io;
  const size_t mr = j->g->mr, nr = j->g->nr, Cin = io->Cin;
  const size_t lds = (size_t)io->stride[1] * Cin, HoWo = io->Ho * io->Wo;
  if (j->segs) {
    segment_block(j, gi, m0, rows, c0, c1, pc, kc, rn, bp, yt, aux);
    return;
  }
  for (size_t ir = 0; ir < rows; ir += mr) {
    const size_t m = m0 + ir;
    if (!rn || rows - ir < mr || m % io->Wo + mr > io->Wo)
      pack_patches(j, gi, m, min_sz(mr, rows - ir), pc, kc, ap + ir * kc);
  }
  for (size_t jr = c0; jr < c1; jr += nr) {
    const float *bt = b_block(j, gi, jr, pc, kc, bp);
    for (size_t ir = 0; ir < rows; ir += mr) {
      const size_t m = m0 + ir;
      const float *at = ap + ir * kc;
      aux->lda = 0;
      aux->a_next = ir + mr < rows ? at + mr * kc : ap;
      if (rn && rows - ir >= mr && m % io->Wo + mr <= io->Wo) {
        const size_t n = m / HoWo, ho = m / io->Wo % io->Ho, wo = m % io->Wo;
        at = j->xp +
             ((n * j->Hp + ho * (size_t)io->stride[0]) * j->Wp +
              wo * (size_t)io->stride[1]) *
                 Cin +
             gi * j->Cg + run_at(rn, pc, aux);
        aux->lda = lds;
        aux->a_next = NULL;
      }
      j->g->ukr(min_sz(mr, rows - ir), min_sz(nr, c1 - jr), kc, at, bt,
                yt + ir * io->Cout + jr, io->Cout, aux);
    }
  }
  aux->beta = 1.0f;
}

/* The first pixel of tile t (t = ntile: M, the end): mt pixels a tile,
 * or spt segments. */
static size_t tile_pixel(const struct job *j, size_t t, size_t M) {
  if (j->segs) return seg_pixel(j, min_sz(t * j->spt, M / j->io->Wo * j->segs));
  return min_sz(t * j->mt, M);
}

static void gemm_tiles(void *ctx, size_t b0, size_t e0) {
  struct job *j = ctx;
  const struct cmx_conv_io *io = j->io;
  const size_t mr = j->g->mr, nr = j->g->nr, M = io->N * io->Ho * io->Wo;
  const size_t kcm = min_sz(KC, j->Kg ? j->Kg : 1);
  const size_t la = rup(rup(j->mt, mr) * kcm, 16); /* bp 64-byte aligned */
  float *ap = cmx_scratch(CMX_SCRATCH_NN, (la + kcm * nr) * sizeof(float));
  if (!ap) {
    atomic_store(&j->fail, 1);
    return;
  }
  float *bp = ap + la; /* a B block packed per use (b_block) */
  for (size_t it = b0; it < e0; it++) {
    /* (group, column block, tile), tiles innermost: a thread's range of
     * items takes every tile of its columns, never just the short last */
    const size_t per = j->ncb * j->ntile, gi = it / per;
    const size_t c0 = it % per / j->ntile * j->cw,
                 c1 = min_sz(j->Ng, c0 + j->cw);
    const size_t t = it % j->ntile, m0 = tile_pixel(j, t, M);
    const size_t rows = tile_pixel(j, t + 1, M) - m0;
    float *yt = io->y + m0 * io->Cout + gi * j->Ng;
    struct cmx_f32_gemm_aux aux = {1.0f, 0.0f, 0, mr, nr, NULL, 0, NULL, 0};
    if (j->direct && j->per) { /* depth blocks of j->per whole runs */
      const size_t L = j->runs[0].len;
      for (size_t u = 0; u < j->nrun; u += j->per) {
        const size_t q = min_sz(j->per, j->nrun - u);
        aux.roff = j->roff + u;
        aux.rlen = L;
        tile_block(j, gi, m0, rows, c0, c1, j->runs[u].p0, q * L, &j->runs[u],
                   ap, bp, yt, &aux);
      }
      continue;
    }
    if (j->direct) { /* depth blocks along the runs (a long one split) */
      for (size_t u = 0; u < j->nrun; u++) {
        const struct run *rn = &j->runs[u];
        const size_t np = (rn->len + KC - 1) / KC;
        for (size_t q = 0; q < np; q++) {
          const size_t a = rn->len * q / np;
          tile_block(j, gi, m0, rows, c0, c1, rn->p0 + a,
                     rn->len * (q + 1) / np - a, rn, ap, bp, yt, &aux);
        }
      }
      continue;
    }
    for (size_t pc = 0; pc < j->Kg || pc == 0; pc += kcm) {
      tile_block(j, gi, m0, rows, c0, c1, pc, min_sz(kcm, j->Kg - pc), NULL,
                 ap, bp, yt, &aux);
      if (!j->Kg) break;
    }
  }
}

/* Rows [b0, e0) of (n, padded row): the zero-padded copy of the input. */
static void pad_rows(void *ctx, size_t b0, size_t e0) {
  const struct job *j = ctx;
  const struct cmx_conv_io *io = j->io;
  const size_t C = io->Cin, p0 = (size_t)io->pad[0], p1 = (size_t)io->pad[1];
  for (size_t it = b0; it < e0; it++) {
    const size_t n = it / j->Hp, h = it % j->Hp;
    float *d = j->xpad + it * j->Wp * C;
    if (h < p0 || h >= p0 + io->H) {
      memset(d, 0, j->Wp * C * sizeof(float));
      continue;
    }
    memset(d, 0, p1 * C * sizeof(float));
    memcpy(d + p1 * C, io->x + (n * io->H + h - p0) * io->W * C,
           io->W * C * sizeof(float));
    memset(d + (p1 + io->W) * C, 0, (j->Wp - p1 - io->W) * C * sizeof(float));
  }
}

/* Output rows a band of dw_bands takes: as many as fit half of L2 with
 * their input rows expanded (pw floats a pixel), at least one, and few
 * enough for two bands a thread (one band of 56 rows had left the second
 * of two threads idle: 56x56x32 -> 64, groups 32, 148 -> 296 us). */
static size_t band_rows(const struct cmx_conv_io *io, size_t pw, int nthreads) {
  const size_t s0 = (size_t)io->stride[0], span = (io->KH - 1) * io->dil[0];
  const size_t fit = cmx_topo()->l2 / 2 / (io->W * pw * sizeof(float));
  const size_t R = fit > span + 1 ? (fit - span - 1) / s0 + 1 : 1;
  const size_t share =
      (io->N * io->Ho + 2 * (size_t)nthreads - 1) / (2 * (size_t)nthreads);
  return min_sz(min_sz(R, share ? share : 1), io->Ho);
}

/* Depthwise and narrow groups by the depthwise microkernel: taps (kh,
 * kw, ci), KH KW Cg of them, weights tap-major (KH KW Cg, Cout). Depthwise
 * with a multiplier of 1 reads x; otherwise the input rows of each band of
 * output rows are first expanded (expand_pixels: Cg Cout floats a pixel)
 * and read from there (dw_bands). A channel multiplier above 1 had run a
 * portable loop with a division per element (56x56x32 -> 64 3x3, groups
 * 32: 0.6 GFLOP/s, 6.0 ms; torch 0.66; now 0.18); groups of few channels
 * the implicit GEMM, whose tile they fill a fraction of and whose runs (Cg
 * floats a tap) it packs (56x56x128 -> 128, groups 32: 3.9 ms, 65% of it
 * packing; now 0.92, of which the expansion is 39%; torch 0.95). */
static int dw_run(const struct cmx_conv_io *io, struct job *j,
                  cmx_f32_dwconv_ukr_fn dw, int nthreads) {
  const size_t C = io->Cout, taps = io->KH * io->KW * j->Cg;
  const int expand = j->Cg > 1 || C > io->Cin;
  j->pw = expand ? j->Cg * C : C;
  float *wp = NULL, *zero = NULL;
  int rc = -1;
  if (posix_memalign((void **)&wp, 64, (taps * C + 1) * sizeof(float)) ||
      !(zero = calloc((io->W + 1) * j->pw, sizeof(float))))
    goto out;
  for (size_t o = 0; o < C; o++)
    for (size_t t = 0; t < taps; t++) wp[t * C + o] = io->w[o * taps + t];
  j->wp = wp;
  j->zero = zero;
  j->dw = dw;
  if (!expand) {
    cmx_parallel_for(nthreads, io->N * io->Ho, 1, 1, dw_rows, j);
  } else {
    j->band = band_rows(io, j->pw, nthreads);
    cmx_parallel_for(nthreads, io->N * ((io->Ho + j->band - 1) / j->band), 1, 1,
                     dw_bands, j);
  }
  rc = atomic_load(&j->fail) ? -1 : 0;
out:
  free(zero);
  free(wp);
  return rc;
}

int cmx_conv_run(const struct cmx_conv_io *io, const struct cmx_gemm_config *g,
                 cmx_f32_dwconv_ukr_fn dw, int nthreads) {
  struct job j = {.io = io, .g = g};
  atomic_init(&j.fail, 0);
  const size_t M = io->N * io->Ho * io->Wo, taps = io->KH * io->KW;
  if (!M || !io->Cout) return 0;
  j.Cg = io->Cin / io->groups;
  j.Ng = io->Cout / io->groups;
  j.Kg = taps * j.Cg;
  float *wp = NULL;
  /* (8 outputs a group over runs of 8 or more that the GEMM microkernel
   * reads a block of at once: the GEMM) */
  const int gemm_reads =
      g->direct_runs && j.Cg >= DIRECT_RUN && j.Ng >= EXPAND_NG;
  if (io->groups > 1 &&
      (j.Cg == 1 ||
       (j.Ng <= EXPAND_NG && j.Cg * j.Ng <= EXPAND_CGNG && !gemm_reads)))
    return dw_run(io, &j, dw, nthreads);
  const size_t nr = g->nr;
  /* A zero-padded copy of x (one extra input, never the KH KW times larger
   * im2col), so every window lies inside and the packer needs no bounds. */
  j.xp = io->x;
  j.Hp = io->H + 2 * (size_t)io->pad[0];
  j.Wp = io->W + 2 * (size_t)io->pad[1];
  const int merge = io->dil[1] == 1 && io->groups == 1;
  j.nrun = merge ? io->KH : taps;
  j.runs = malloc(j.nrun * (sizeof *j.runs + sizeof *j.roff));
  if (!j.runs) return -1;
  j.roff = (size_t *)(j.runs + j.nrun);
  for (size_t u = 0; u < j.nrun; u++) {
    const size_t kh = merge ? u : u / io->KW, kw = merge ? 0 : u % io->KW;
    j.runs[u] = (struct run){
        (kh * io->KW + kw) * j.Cg, merge ? io->KW * j.Cg : j.Cg,
        (kh * (size_t)io->dil[0] * j.Wp + kw * (size_t)io->dil[1]) * io->Cin};
    j.roff[u] = j.runs[u].off;
  }
  size_t shortest = j.Kg;
  for (size_t u = 0; u < j.nrun; u++)
    if (j.runs[u].len < shortest) shortest = j.runs[u].len;
  j.direct = shortest >= DIRECT_RUN && io->Wo >= g->mr;
  /* Output rows in segs panels of at least direct_rows pixels each: the
   * tiles are whole rows. */
  const size_t segs = (io->Wo + g->mr - 1) / g->mr;
  if (shortest >= DIRECT_RUN && g->direct_rows &&
      io->Wo / segs >= g->direct_rows)
    j.direct = 1, j.segs = segs;
  /* Runs (all of one length) of at most half KC: the microkernel reads
   * KC / len of them a call where it can (direct_runs), its sums held in
   * registers across them. */
  if (j.direct && g->direct_runs && 2 * shortest <= KC) j.per = KC / shortest;
  /* Tiles of about MT_ROWS pixels, a multiple of the tile's rows or of
   * whole output rows; on a team, the output channels split into blocks
   * too until there are three items a thread (7x7 pixels by 512 channels
   * was one tile, one busy thread). */
  j.ntile = (M + MT_ROWS - 1) / MT_ROWS;
  if (j.segs) {
    /* whole rows, or for rows wider than MT_ROWS whole segments: a tile
     * of one row of 1500 (conv1d) read its 4.6 MB of input once for each
     * block of columns, from beyond L2 (1x3000x384 -> 384 k3/2: 9.4 ->
     * 10.2 ms; in tiles of segments 8.8) */
    const size_t orows = io->N * io->Ho, nseg = orows * j.segs;
    const size_t len = io->Wo / j.segs;
    if (io->Wo <= MT_ROWS) {
      j.ntile = j.ntile < orows ? j.ntile : orows;
      j.spt = (orows + j.ntile - 1) / j.ntile * j.segs;
    } else {
      j.spt = MT_ROWS / len ? MT_ROWS / len : 1;
    }
    j.ntile = (nseg + j.spt - 1) / j.spt;
    j.mt = j.spt * (len + 1);
  } else {
    j.mt = rup((M + j.ntile - 1) / j.ntile, g->mr);
    j.ntile = (M + j.mt - 1) / j.mt;
  }
  const size_t panels = rup(j.Ng, nr) / nr,
               want = 3 * (size_t)nthreads, items = io->groups * j.ntile;
  j.ncb = nthreads > 1 && items < want ? (want + items - 1) / items : 1;
  if (j.ncb > panels) j.ncb = panels;
  j.cw = (panels + j.ncb - 1) / j.ncb * nr;
  j.ncb = (j.Ng + j.cw - 1) / j.cw;
  /* The padded copy and the packed weights in one block: this thread's
   * scratch up to SHARED_SCRATCH bytes (kept for the next call), else
   * allocated and freed here. */
  const size_t xb = io->pad[0] || io->pad[1]
                        ? rup(io->N * j.Hp * j.Wp * io->Cin, 16)
                        : 0,
               wb = j.ntile > 1 ? io->groups * panels * nr * j.Kg : 0;
  const size_t bytes = (xb + wb + 16) * sizeof(float);
  float *blk = NULL;
  if (bytes <= SHARED_SCRATCH)
    blk = cmx_scratch(CMX_SCRATCH_NN_OUT, bytes);
  else if (!posix_memalign((void **)&wp, 64, bytes))
    blk = wp;
  if (!blk) {
    free(j.runs);
    return -1;
  }
  if (xb) {
    j.xpad = blk;
    cmx_parallel_for(nthreads, io->N * j.Hp, 1, 16, pad_rows, &j);
    j.xp = j.xpad;
  }
  /* Weights of group gi as nr-column panels over the whole depth Kg:
   * wp[gi][jr / nr][p][jr % nr] = w[gi Ng + jr][p], transposed by the
   * packing microkernel, the panels split over the team; with one tile of
   * pixels each block serves one item and is packed as it is used. */
  if (wb) {
    j.wp = blk + xb;
    cmx_parallel_for(nthreads, io->groups * panels, 1, 1, pack_weights, &j);
  }
  cmx_parallel_for(nthreads, io->groups * j.ncb * j.ntile, 1, 1, gemm_tiles,
                   &j);
  free(j.runs);
  free(wp);
  return atomic_load(&j.fail) ? -1 : 0;
}
