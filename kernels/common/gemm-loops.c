/* The shared BLIS loops of the f64 and i8 GEMM drivers (contract in
 * gemm-loops.h). Each thread owns a 2-D part of C (or whole batches) and
 * packs its own A and B blocks into a workspace kept between calls. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/common/gemm-loops.h"
#include "sched/sched.h"

static size_t round_down(size_t x, size_t r) { return x / r * r; }

void cmx_gemm_loops_blocking(size_t esz, size_t mr, size_t nr, size_t kalign,
                             size_t *mc, size_t *kc, size_t *nc) {
  const struct cmx_topo *topo = cmx_topo();
  size_t l1 = topo->l1d, l2 = topo->l2, l3 = topo->l3;
  size_t k = *kc ? *kc : l1 / 2 / (nr * esz);
  k = round_down(k, kalign);
  if (k < 16) k = 16;
  size_t m = *mc ? *mc : l2 / 2 / (k * esz);
  m = round_down(m, mr);
  if (m < mr) m = mr;
  size_t n = *nc ? *nc : l3 / 4 / (k * esz);
  if (n > 4096) n = 4096;
  n = round_down(n, nr);
  if (n < nr) n = nr;
  *mc = m, *kc = k, *nc = n;
}

/* ---- per-thread workspace: sched's scratch, kept between calls ---- */
static void *ws_get(size_t bytes) {
  return cmx_scratch(CMX_SCRATCH_GEMM, bytes);
}

struct job {
  const struct cmx_gemm_loops *g;
  size_t tm, tn;      /* thread grid: ic ways x jc ways */
  int batch_split;    /* 1: threads take whole batches */
  atomic_int failed;  /* set by any thread whose workspace failed */
};

/* C[t][m0:m1, n0:n1] by the five loops. */
static int part(const struct cmx_gemm_loops *g, size_t t, size_t m0,
                size_t m1, size_t n0, size_t n1) {
  if (m0 >= m1 || n0 >= n1) return 0;
  size_t mr = g->mr, nr = g->nr, k = g->k;
  size_t mpan = (g->mc < m1 - m0 ? g->mc : m1 - m0 + mr - 1) / mr;
  size_t npan = (g->nc < n1 - n0 ? g->nc : n1 - n0 + nr - 1) / nr;
  unsigned char *ap = ws_get(mpan * g->a_bytes + npan * g->b_bytes);
  if (!ap) return -1;
  unsigned char *bp = ap + mpan * g->a_bytes;
  for (size_t jc = n0; jc < n1; jc += g->nc) {
    size_t ncur = n1 - jc < g->nc ? n1 - jc : g->nc;
    for (size_t pc = 0; pc < k || pc == 0; pc += g->kc) {
      size_t kcur = k - pc < g->kc ? k - pc : g->kc;
      if (g->pack_b_block)
        g->pack_b_block(g->ctx, t, jc, ncur, pc, kcur, bp, g->b_bytes);
      else
        for (size_t jr = 0; jr < ncur; jr += nr)
          g->pack_b(g->ctx, t, jc + jr, ncur - jr < nr ? ncur - jr : nr, pc,
                    kcur, bp + jr / nr * g->b_bytes);
      for (size_t ic = m0; ic < m1; ic += g->mc) {
        size_t mcur = m1 - ic < g->mc ? m1 - ic : g->mc;
        for (size_t ir = 0; ir < mcur; ir += mr)
          g->pack_a(g->ctx, t, ic + ir, mcur - ir < mr ? mcur - ir : mr, pc,
                    kcur, ap + ir / mr * g->a_bytes);
        for (size_t jr = 0; jr < ncur; jr += nr)
          for (size_t ir = 0; ir < mcur; ir += mr)
            g->tile(g->ctx, t, ic + ir, jc + jr,
                    mcur - ir < mr ? mcur - ir : mr,
                    ncur - jr < nr ? ncur - jr : nr, pc, kcur,
                    ap + ir / mr * g->a_bytes, bp + jr / nr * g->b_bytes);
      }
      if (k == 0) break;
    }
  }
  return 0;
}

static void thread_fn(void *ctx, size_t b, size_t e) {
  struct job *j = ctx;
  const struct cmx_gemm_loops *g = j->g;
  size_t nt = j->tm * j->tn;
  if (g->begin) g->begin();
  for (size_t tid = b; tid < e; tid++) {
    int rc = 0;
    if (j->batch_split) {
      size_t t0, t1;
      cmx_range((int)tid, (int)nt, g->batch, 1, &t0, &t1);
      for (size_t t = t0; t < t1 && !rc; t++)
        rc = part(g, t, 0, g->m, 0, g->n);
    } else {
      size_t m0, m1, n0, n1;
      cmx_range((int)(tid / j->tn), (int)j->tm, g->m, g->mr, &m0, &m1);
      cmx_range((int)(tid % j->tn), (int)j->tn, g->n, g->nr, &n0, &n1);
      for (size_t t = 0; t < g->batch && !rc; t++)
        rc = part(g, t, m0, m1, n0, n1);
    }
    if (rc) atomic_store(&j->failed, 1);
  }
  if (g->end) g->end();
}

/* The ic x jc grid whose slowest thread has the least work: its tiles
 * (rounded up to mr x nr) plus its packing, as in the f32 driver. */
static void grid(const struct cmx_gemm_loops *g, size_t nt, size_t *tm,
                 size_t *tn) {
  size_t k = g->k ? g->k : 1;
  double best = -1;
  for (size_t a = nt; a >= 1; a--) {
    if (nt % a) continue;
    size_t bw = nt / a;
    double pm = (double)((g->m + g->mr * a - 1) / (g->mr * a) * g->mr);
    double pn = (double)((g->n + g->nr * bw - 1) / (g->nr * bw) * g->nr);
    double ablocks = (pn + (double)g->nc - 1) / (double)g->nc;
    double cost = 2.0 * pm * pn * (double)k / 32.0 +
                  (pm * ablocks + pn) * (double)k;
    if (best < 0 || cost < best - 1e-9) {
      best = cost;
      *tm = a;
      *tn = bw;
    }
  }
}

int cmx_gemm_loops_run(const struct cmx_gemm_loops *g, int nthreads) {
  if (!g->batch || !g->m || !g->n) return 0;
  struct job j = {g, 1, 1, 0, 0};
  double macs = (double)g->m * (double)g->n * (double)g->k * (double)g->batch;
  size_t nt = nthreads > 1 && macs >= (double)(1u << 20) ? (size_t)nthreads
                                                          : 1;
  if (nt > 1 && g->batch >= nt && (g->batch % nt == 0 || g->batch >= 4 * nt))
    j.batch_split = 1, j.tm = nt, j.tn = 1;
  else if (nt > 1)
    grid(g, nt, &j.tm, &j.tn);
  cmx_parallel_for((int)nt, nt, 1, 1, thread_fn, &j);
  return atomic_load(&j.failed) ? -1 : 0;
}
