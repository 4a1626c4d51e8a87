/* The i8 x i8 -> i32 GEMM driver (contract in i8-gemm.h): packs A and B
 * from any strides into panels of k groups of four, A followed by its row
 * sums, and runs the shared BLIS loops of kernels/common/gemm-loops.c.
 * Blocks over k add their partial sums into C (modulo 2^32, so the result
 * does not depend on the blocking). */
#include <string.h>

#include "kernels/common/gemm-loops.h"
#include "kernels/i8-gemm/i8-gemm.h"

struct ctx {
  const struct cmx_i8_gemm_config *cfg;
  const struct cmx_i8_gemm_problem *p;
};

static ptrdiff_t boff(const struct cmx_i8_gemm_operand *o, size_t t) {
  return o->boff ? (ptrdiff_t)o->boff[t] : 0;
}

/* A panel: dst[(p / 4) * mr * 4 + i * 4 + p % 4] = A(q0 + i, p0 + p), zero
 * past len rows and kcur columns, then mr int32 row sums. */
static void pack_a(const void *vctx, size_t t, size_t q0, size_t len,
                   size_t p0, size_t kcur, void *vdst) {
  const struct ctx *x = vctx;
  const struct cmx_i8_gemm_operand *o = &x->p->a;
  size_t mr = x->cfg->mr, kq = (kcur + 3) / 4 * 4;
  int8_t *dst = vdst;
  int32_t sums[64] = {0};
  const int8_t *s = o->data + boff(o, t) + (ptrdiff_t)q0 * o->rs +
                    (ptrdiff_t)p0 * o->cs;
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

/* B panel: dst[(p / 4) * nr * 4 + j * 4 + p % 4] = B(p0 + p, q0 + j), zero
 * past len columns and kcur rows. */
static void pack_b(const void *vctx, size_t t, size_t q0, size_t len,
                   size_t p0, size_t kcur, void *vdst) {
  const struct ctx *x = vctx;
  const struct cmx_i8_gemm_operand *o = &x->p->b;
  size_t nr = x->cfg->nr, kq = (kcur + 3) / 4 * 4;
  int8_t *dst = vdst;
  const int8_t *s = o->data + boff(o, t) + (ptrdiff_t)p0 * o->rs +
                    (ptrdiff_t)q0 * o->cs;
  size_t p0q = 0;
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
}

static void tile(const void *vctx, size_t t, size_t i, size_t j, size_t m,
                 size_t n, size_t p0, size_t kcur, const void *a,
                 const void *b) {
  const struct ctx *x = vctx;
  const struct cmx_i8_gemm_problem *p = x->p;
  struct cmx_i8_gemm_aux aux = {p0 != 0, x->cfg->mr, x->cfg->nr};
  x->cfg->ukr(m, n, kcur, a, b, p->c + t * p->ldcb + i * p->ldc + j, p->ldc,
              &aux);
}

static size_t up64(size_t bytes) { return (bytes + 63) / 64 * 64; }

int cmx_i8_gemm(const struct cmx_i8_gemm_config *cfg,
                const struct cmx_i8_gemm_problem *p, int nthreads) {
  struct ctx x = {cfg, p};
  struct cmx_gemm_loops g = {.ctx = &x, .batch = p->batch, .m = p->m,
                             .n = p->n, .k = p->k, .mr = cfg->mr,
                             .nr = cfg->nr, .mc = cfg->mc, .kc = cfg->kc,
                             .nc = cfg->nc, .pack_a = pack_a,
                             .pack_b = pack_b, .tile = tile};
  cmx_gemm_loops_blocking(1, cfg->mr, cfg->nr, 4, &g.mc, &g.kc, &g.nc);
  g.a_bytes = up64(g.kc * cfg->mr + cfg->mr * sizeof(int32_t));
  g.b_bytes = up64(g.kc * cfg->nr);
  return cmx_gemm_loops_run(&g, nthreads);
}
