/* The f64 GEMM driver (contract in f64-gemm.h): packs A and B from any
 * strides into the microkernel's panels and runs the shared BLIS loops of
 * kernels/common/gemm-loops.c. A row-major A (unit stride along k) goes
 * through the pack microkernel; a B with unit column stride is copied row
 * by row; anything else is gathered element by element. */
#include <string.h>

#include "kernels/common/gemm-loops.h"
#include "kernels/f64-gemm/f64-gemm.h"

struct ctx {
  const struct cmx_f64_gemm_config *cfg;
  const struct cmx_f64_gemm_problem *p;
};

static ptrdiff_t boff(const struct cmx_f64_gemm_operand *o, size_t t) {
  return o->boff ? (ptrdiff_t)o->boff[t] : 0;
}

/* A panel: dst[p * mr + i] = A(q0 + i, p0 + p), rows len..mr-1 zero. */
static void pack_a(const void *vctx, size_t t, size_t q0, size_t len,
                   size_t p0, size_t kcur, void *vdst) {
  const struct ctx *x = vctx;
  const struct cmx_f64_gemm_operand *o = &x->p->a;
  size_t mr = x->cfg->mr;
  double *dst = vdst;
  const double *s = o->data + boff(o, t) + (ptrdiff_t)q0 * o->rs +
                    (ptrdiff_t)p0 * o->cs;
  if (o->cs == 1 && o->rs > 0 && x->cfg->pack && mr <= x->cfg->pack_r) {
    x->cfg->pack(mr, len, kcur, s, (size_t)o->rs, dst);
    return;
  }
  for (size_t p = 0; p < kcur; p++) {
    const double *sp = s + (ptrdiff_t)p * o->cs;
    double *d = dst + p * mr;
    size_t i = 0;
    for (; i < len; i++) d[i] = sp[(ptrdiff_t)i * o->rs];
    for (; i < mr; i++) d[i] = 0.0;
  }
}

/* B panel: dst[p * nr + j] = B(p0 + p, q0 + j), columns len..nr-1 zero. */
static void pack_b(const void *vctx, size_t t, size_t q0, size_t len,
                   size_t p0, size_t kcur, void *vdst) {
  const struct ctx *x = vctx;
  const struct cmx_f64_gemm_operand *o = &x->p->b;
  size_t nr = x->cfg->nr;
  double *dst = vdst;
  const double *s = o->data + boff(o, t) + (ptrdiff_t)p0 * o->rs +
                    (ptrdiff_t)q0 * o->cs;
  if (o->rs == 1 && o->cs > 0 && x->cfg->pack && nr <= x->cfg->pack_r) {
    /* column-major B: its columns are rows of a row-major block */
    x->cfg->pack(nr, len, kcur, s, (size_t)o->cs, dst);
    return;
  }
  for (size_t p = 0; p < kcur; p++) {
    const double *sp = s + (ptrdiff_t)p * o->rs;
    double *d = dst + p * nr;
    size_t j = 0;
    if (o->cs == 1) /* the row by memcpy: the loop ran an element at a
                     * time, 5% of 1024^3 on 1 thread */
      memcpy(d, sp, len * sizeof(double)), j = len;
    else
      for (; j < len; j++) d[j] = sp[(ptrdiff_t)j * o->cs];
    for (; j < nr; j++) d[j] = 0.0;
  }
}

static void tile(const void *vctx, size_t t, size_t i, size_t j, size_t m,
                 size_t n, size_t p0, size_t kcur, const void *a,
                 const void *b) {
  const struct ctx *x = vctx;
  const struct cmx_f64_gemm_problem *p = x->p;
  struct cmx_f64_gemm_aux aux = {p->alpha, p0 == 0 ? p->beta : 1.0,
                                 x->cfg->mr, x->cfg->nr};
  x->cfg->ukr(m, n, kcur, a, b, p->c + t * p->ldcb + i * p->ldc + j, p->ldc,
              &aux);
}

static size_t up64(size_t bytes) { return (bytes + 63) / 64 * 64; }

int cmx_f64_gemm(const struct cmx_f64_gemm_config *cfg,
                 const struct cmx_f64_gemm_problem *p, int nthreads) {
  struct ctx x = {cfg, p};
  struct cmx_gemm_loops g = {.ctx = &x, .batch = p->batch, .m = p->m,
                             .n = p->n, .k = p->k, .mr = cfg->mr,
                             .nr = cfg->nr, .mc = cfg->mc, .kc = cfg->kc,
                             .nc = cfg->nc, .pack_a = pack_a,
                             .pack_b = pack_b, .tile = tile};
  cmx_gemm_loops_blocking(sizeof(double), cfg->mr, cfg->nr, 1, &g.mc, &g.kc,
                          &g.nc);
  g.a_bytes = up64(g.kc * cfg->mr * sizeof(double));
  g.b_bytes = up64(g.kc * cfg->nr * sizeof(double));
  return cmx_gemm_loops_run(&g, nthreads);
}
