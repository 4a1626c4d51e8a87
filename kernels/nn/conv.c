/* Convolution (contract in attn-conv.h). Depthwise: per output pixel, the
 * f32-dwconv microkernel over the pixel's tap rows (channels contiguous in
 * x, in the tap-major weight copy and in y).
 * Otherwise an implicit GEMM per group: Y (pixels x Cout/groups) =
 * patches (pixels x KH KW Cg) W^T. The weights are packed once into nr-
 * column B panels and x is copied once with its zero padding; each item
 * (group, tile of MT output pixels) packs its patches, KC deep at a time,
 * from the padded x into mr-row A panels with the GEMM's vectorised
 * transposing packer, and runs the microkernel over the tile. No im2col
 * buffer beyond one MT x KC block per thread. */
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

static size_t rup(size_t x, size_t r) { return (x + r - 1) / r * r; }
static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

struct run;

struct job {
  const struct cmx_conv_io *io;
  const struct cmx_gemm_config *g;
  size_t Cg, Ng, Kg, mt, ntile;
  const float *wp; /* depthwise: (KH KW, Cout); else per group nr panels */
  cmx_f32_dwconv_ukr_fn dw;
  const float *zero; /* depthwise: Cout zeros, the padding's taps */
  const float *xp; /* implicit GEMM: x, or xpad when there is padding */
  float *xpad;     /* (N, Hp, Wp, Cin) zero-padded copy, or NULL */
  size_t Hp, Wp;
  struct run *runs; /* nrun runs of the patch depth */
  size_t nrun;
  atomic_int fail;
};

/* ---- depthwise ---- */
/* One output row: channel multiplier 1 runs the table's microkernel per
 * output pixel over an array of tap pointers (taps in the padding point at
 * a zero row, so the kernel has no bounds and every pixel sums its taps in
 * the same order); a multiplier above 1 keeps the portable loop. The input
 * row of each kernel row is found once per output row and the tap pointers
 * come without divisions: deriving (kh, kw) from the tap index with two
 * 64-bit divisions per tap cost more than the microkernel (perf, 3x3 dw on
 * 1x56x56x128: dw_rows 62% of the op's samples, the kernel 38%). */
static void dw_rows(void *ctx, size_t b0, size_t e0) {
  struct job *j = ctx;
  const struct cmx_conv_io *io = j->io;
  const size_t C = io->Cout, mult = io->Cout / io->Cin, taps = io->KH * io->KW;
  const float **tp = NULL;
  if (mult == 1 && !(tp = malloc((taps + io->KH) * sizeof *tp))) {
    atomic_store(&j->fail, 1);
    return;
  }
  for (size_t it = b0; it < e0; it++) { /* (n, ho) */
    const size_t n = it / io->Ho, ho = it % io->Ho;
    float *yrow = io->y + it * io->Wo * C;
    if (mult == 1) {
      const float **xrow = tp + taps; /* per kernel row: its input row */
      for (size_t kh = 0; kh < io->KH; kh++) {
        const ptrdiff_t ih = (ptrdiff_t)(ho * io->stride[0]) - io->pad[0] +
                             (ptrdiff_t)(kh * io->dil[0]);
        xrow[kh] = ih < 0 || ih >= (ptrdiff_t)io->H
                       ? NULL
                       : io->x + (n * io->H + (size_t)ih) * io->W * C;
      }
      for (size_t wo = 0; wo < io->Wo; wo++) {
        const ptrdiff_t iw0 = (ptrdiff_t)(wo * io->stride[1]) - io->pad[1];
        for (size_t kh = 0, t = 0; kh < io->KH; kh++)
          for (size_t kw = 0; kw < io->KW; kw++, t++) {
            const ptrdiff_t iw = iw0 + (ptrdiff_t)(kw * io->dil[1]);
            tp[t] = !xrow[kh] || iw < 0 || iw >= (ptrdiff_t)io->W
                        ? j->zero
                        : xrow[kh] + (size_t)iw * C;
          }
        j->dw(C, taps, tp, j->wp, yrow + wo * C);
      }
      continue;
    }
    memset(yrow, 0, io->Wo * C * sizeof(float));
    for (size_t kh = 0; kh < io->KH; kh++) {
      const ptrdiff_t ih = (ptrdiff_t)(ho * io->stride[0]) - io->pad[0] +
                           (ptrdiff_t)(kh * io->dil[0]);
      if (ih < 0 || ih >= (ptrdiff_t)io->H) continue;
      const float *xrow = io->x + (n * io->H + (size_t)ih) * io->W * io->Cin;
      for (size_t kw = 0; kw < io->KW; kw++) {
        const float *restrict wt = j->wp + (kh * io->KW + kw) * C;
        for (size_t wo = 0; wo < io->Wo; wo++) {
          const ptrdiff_t iw = (ptrdiff_t)(wo * io->stride[1]) - io->pad[1] +
                               (ptrdiff_t)(kw * io->dil[1]);
          if (iw < 0 || iw >= (ptrdiff_t)io->W) continue;
          const float *restrict xp = xrow + (size_t)iw * io->Cin;
          float *restrict yp = yrow + wo * C;
          for (size_t c = 0; c < C; c++) yp[c] += xp[c / mult] * wt[c];
        }
      }
    }
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

static void gemm_tiles(void *ctx, size_t b0, size_t e0) {
  struct job *j = ctx;
  const struct cmx_conv_io *io = j->io;
  const size_t mr = j->g->mr, nr = j->g->nr, M = io->N * io->Ho * io->Wo;
  const size_t kcm = min_sz(KC, j->Kg ? j->Kg : 1);
  float *ap = cmx_scratch(CMX_SCRATCH_NN, rup(j->mt, mr) * kcm * sizeof(float));
  if (!ap) {
    atomic_store(&j->fail, 1);
    return;
  }
  struct cmx_f32_gemm_aux aux = {1.0f, 0.0f, 0, mr, nr, NULL, 0};
  const size_t npan = rup(j->Ng, nr) * j->Kg;
  for (size_t it = b0; it < e0; it++) {
    const size_t gi = it / j->ntile, m0 = it % j->ntile * j->mt;
    const size_t rows = min_sz(j->mt, M - m0);
    const float *wg = j->wp + gi * npan;
    float *yt = io->y + m0 * io->Cout + gi * j->Ng;
    for (size_t pc = 0; pc < j->Kg || pc == 0; pc += kcm) {
      const size_t kc = min_sz(kcm, j->Kg - pc);
      aux.beta = pc == 0 ? 0.0f : 1.0f;
      pack_patches(j, gi, m0, rows, pc, kc, ap);
      for (size_t jr = 0; jr < j->Ng; jr += nr)
        for (size_t ir = 0; ir < rows; ir += mr) {
          aux.a_next = ir + mr < rows ? ap + (ir + mr) * kc : ap;
          j->g->ukr(min_sz(mr, rows - ir), min_sz(nr, j->Ng - jr), kc,
                    ap + ir * kc, wg + jr * j->Kg + pc * nr,
                    yt + ir * io->Cout + jr, io->Cout, &aux);
        }
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
  if (j.Cg == 1 && io->groups == io->Cin) {
    /* Depthwise: weights tap-major, (KH KW, Cout). */
    if (posix_memalign((void **)&wp, 64, (taps * io->Cout + 1) * sizeof(float)))
      return -1;
    for (size_t o = 0; o < io->Cout; o++)
      for (size_t t = 0; t < taps; t++) wp[t * io->Cout + o] = io->w[o * taps + t];
    float *zero = calloc(io->Cout, sizeof(float));
    if (!zero) {
      free(wp);
      return -1;
    }
    j.wp = wp;
    j.zero = zero;
    j.dw = dw;
    cmx_parallel_for(nthreads, io->N * io->Ho, 1, 1, dw_rows, &j);
    free(zero);
    free(wp);
    return atomic_load(&j.fail) ? -1 : 0;
  }
  /* Weights of group gi as nr-column panels over the whole depth Kg:
   * wp[gi][jr / nr][p][jr % nr] = w[gi Ng + jr][p]. */
  const size_t nr = g->nr, npan = rup(j.Ng, nr) * j.Kg;
  if (posix_memalign((void **)&wp, 64, (io->groups * npan + 1) * sizeof(float)))
    return -1;
  for (size_t gi = 0; gi < io->groups; gi++)
    for (size_t o = 0; o < rup(j.Ng, nr); o++) {
      float *d = wp + gi * npan + (o / nr) * nr * j.Kg + o % nr;
      const float *src = io->w + (gi * j.Ng + o) * j.Kg;
      for (size_t p = 0; p < j.Kg; p++) d[p * nr] = o < j.Ng ? src[p] : 0.0f;
    }
  j.wp = wp;
  /* A zero-padded copy of x (one extra input, never the KH KW times larger
   * im2col), so every window lies inside and the packer needs no bounds. */
  j.xp = io->x;
  j.Hp = io->H + 2 * (size_t)io->pad[0];
  j.Wp = io->W + 2 * (size_t)io->pad[1];
  const int merge = io->dil[1] == 1 && io->groups == 1;
  j.nrun = merge ? io->KH : taps;
  j.runs = malloc(j.nrun * sizeof *j.runs);
  if (!j.runs) {
    free(wp);
    return -1;
  }
  for (size_t u = 0; u < j.nrun; u++) {
    const size_t kh = merge ? u : u / io->KW, kw = merge ? 0 : u % io->KW;
    j.runs[u] = (struct run){
        (kh * io->KW + kw) * j.Cg, merge ? io->KW * j.Cg : j.Cg,
        (kh * (size_t)io->dil[0] * j.Wp + kw * (size_t)io->dil[1]) * io->Cin};
  }
  if (io->pad[0] || io->pad[1]) {
    if (posix_memalign((void **)&j.xpad, 64,
                       io->N * j.Hp * j.Wp * io->Cin * sizeof(float) + 1)) {
      free(j.runs);
      free(wp);
      return -1;
    }
    cmx_parallel_for(nthreads, io->N * j.Hp, 1, 16, pad_rows, &j);
    j.xp = j.xpad;
  }
  j.mt = rup(MT_ROWS, g->mr);
  j.ntile = (M + j.mt - 1) / j.mt;
  cmx_parallel_for(nthreads, io->groups * j.ntile, 1, 1, gemm_tiles, &j);
  free(j.xpad);
  free(j.runs);
  free(wp);
  return atomic_load(&j.fail) ? -1 : 0;
}
