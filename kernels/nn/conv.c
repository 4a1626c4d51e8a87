/* Convolution (contract in attn-conv.h). Depthwise: a direct loop per
 * output row, taps outermost and channels innermost (contiguous in x, in
 * the tap-major weight copy and in y, so the compiler vectorises it).
 * Otherwise an implicit GEMM per group: Y (pixels x Cout/groups) =
 * patches (pixels x KH KW Cg) W^T. The weights are packed once into nr-
 * column B panels; each item (group, tile of MT output pixels) packs its
 * patches, KC deep at a time, straight from x into mr-row A panels (zeros
 * for the padding) and runs the microkernel over the tile. No im2col
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

struct job {
  const struct cmx_conv_io *io;
  const struct cmx_gemm_config *g;
  size_t Cg, Ng, Kg, mt, ntile;
  const float *wp; /* depthwise: (KH KW, Cout); else per group nr panels */
  atomic_int fail;
};

/* ---- depthwise ---- */
static void dw_rows(void *ctx, size_t b0, size_t e0) {
  const struct job *j = ctx;
  const struct cmx_conv_io *io = j->io;
  const size_t C = io->Cout, mult = io->Cout / io->Cin;
  for (size_t it = b0; it < e0; it++) { /* (n, ho) */
    const size_t n = it / io->Ho, ho = it % io->Ho;
    float *yrow = io->y + it * io->Wo * C;
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
          /* omp simd: the baseline build's -O2 cost model would not
           * vectorise a loop of unknown trip count. */
          if (mult == 1) {
#pragma omp simd
            for (size_t c = 0; c < C; c++) yp[c] += xp[c] * wt[c];
          } else {
            for (size_t c = 0; c < C; c++) yp[c] += xp[c / mult] * wt[c];
          }
        }
      }
    }
  }
}

/* ---- implicit GEMM ---- */
/* Where each pixel of a tile starts in x: its image's offset and the
 * top-left input coordinate of its window (made once per tile). */
struct pix {
  size_t xoff;
  ptrdiff_t ih0, iw0;
};

/* Patches of the tile's pixels px[0, rows) of group gi, columns
 * [pc, pc + kc) of (kh, kw, c), into mr-row panels (pad rows zero). Taps
 * outermost, so the divisions happen per tap, not per element. */
static void pack_patches(const struct job *j, size_t gi, const struct pix *px,
                         size_t rows, size_t pc, size_t kc, float *ap) {
  const struct cmx_conv_io *io = j->io;
  const size_t mr = j->g->mr, Cg = j->Cg, rp = rup(rows, mr);
  size_t p = 0;
  while (p < kc) {
    const size_t t = (pc + p) / Cg, c0 = (pc + p) % Cg;
    const size_t len = min_sz(Cg - c0, kc - p);
    const ptrdiff_t dh = (ptrdiff_t)(t / io->KW * io->dil[0]),
                    dw = (ptrdiff_t)(t % io->KW * io->dil[1]);
    for (size_t i = 0, lane = 0, pan = 0; i < rp; i++) {
      float *d = ap + pan * kc + p * mr + lane;
      if (++lane == mr) lane = 0, pan += mr;
      const ptrdiff_t ih = i < rows ? px[i].ih0 + dh : -1,
                      iw = i < rows ? px[i].iw0 + dw : -1;
      if (ih < 0 || ih >= (ptrdiff_t)io->H || iw < 0 ||
          iw >= (ptrdiff_t)io->W) {
        for (size_t c = 0; c < len; c++) d[c * mr] = 0.0f;
      } else {
        const float *xp = io->x + px[i].xoff +
                          ((size_t)ih * io->W + (size_t)iw) * io->Cin +
                          gi * Cg + c0;
        for (size_t c = 0; c < len; c++) d[c * mr] = xp[c];
      }
    }
    p += len;
  }
}

static void gemm_tiles(void *ctx, size_t b0, size_t e0) {
  struct job *j = ctx;
  const struct cmx_conv_io *io = j->io;
  const size_t mr = j->g->mr, nr = j->g->nr, M = io->N * io->Ho * io->Wo;
  const size_t kcm = min_sz(KC, j->Kg ? j->Kg : 1);
  float *ap = NULL;
  struct pix *px = malloc(j->mt * sizeof *px);
  if (!px ||
      posix_memalign((void **)&ap, 64, rup(j->mt, mr) * kcm * sizeof(float))) {
    free(px);
    atomic_store(&j->fail, 1);
    return;
  }
  struct cmx_f32_gemm_aux aux = {1.0f, 0.0f, 0, mr, nr, NULL};
  const size_t npan = rup(j->Ng, nr) * j->Kg;
  for (size_t it = b0; it < e0; it++) {
    const size_t gi = it / j->ntile, m0 = it % j->ntile * j->mt;
    const size_t rows = min_sz(j->mt, M - m0);
    const float *wg = j->wp + gi * npan;
    float *yt = io->y + m0 * io->Cout + gi * j->Ng;
    for (size_t i = 0; i < rows; i++) {
      const size_t m = m0 + i, wo = m % io->Wo, ho = m / io->Wo % io->Ho;
      px[i] = (struct pix){m / (io->Wo * io->Ho) * io->H * io->W * io->Cin,
                           (ptrdiff_t)(ho * io->stride[0]) - io->pad[0],
                           (ptrdiff_t)(wo * io->stride[1]) - io->pad[1]};
    }
    for (size_t pc = 0; pc < j->Kg || pc == 0; pc += kcm) {
      const size_t kc = min_sz(kcm, j->Kg - pc);
      aux.beta = pc == 0 ? 0.0f : 1.0f;
      pack_patches(j, gi, px, rows, pc, kc, ap);
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
  free(ap);
  free(px);
}

int cmx_conv_run(const struct cmx_conv_io *io, const struct cmx_gemm_config *g,
                 int nthreads) {
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
    j.wp = wp;
    cmx_parallel_for(nthreads, io->N * io->Ho, 1, 1, dw_rows, &j);
    free(wp);
    return 0;
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
  j.mt = rup(MT_ROWS, g->mr);
  j.ntile = (M + j.mt - 1) / j.mt;
  cmx_parallel_for(nthreads, io->groups * j.ntile, 1, 1, gemm_tiles, &j);
  free(wp);
  return atomic_load(&j.fail) ? -1 : 0;
}
