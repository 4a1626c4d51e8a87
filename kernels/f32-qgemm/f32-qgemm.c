/* The quantised GEMM driver (contract in f32-qgemm.h). Decode (x with at
 * most CMX_QDOT_MAX_ROWS rows, W n x k): x is laid out once in the qdot
 * kernel's chunk order with its group sums, then the team splits n and each
 * thread streams its rows of W through the qdot kernel, 4 rows of x at a
 * time. Otherwise W is dequantised one slab at a time (KC deep: the f32
 * driver's KC rounded to whole groups; at most CMX_QGEMM_NC wide) into an
 * f32 panel shared by the team, and the f32 GEMM driver adds x's slab
 * times the panel into y (beta 1 after the first slab): the same loop
 * order as BLIS's pc loop, with dequantisation in place of packing B.
 * f16 / bf16 scales and biases are converted a block of rows at a time
 * into per-thread scratch, so they are read once, in their own size. */
#include <stdlib.h>
#include <string.h>

#include "kernels/f32-qgemm/f32-qgemm.h"
#include "sched/sched.h"

/* Rows of W whose scales and biases are converted at once (per thread). */
#define SB_ROWS 32

/* f32 scales and biases for rows [r0, r0 + nr) and groups [g0, g0 + ng):
 * the caller's own when they are f32 (*ld = lds), else converted into tmp
 * (2 * nr * ng floats; *ld = ng). */
static void sb_rows(const struct cmx_qgemm_problem *p, int64_t soff, size_t r0,
                    size_t nr, size_t g0, size_t ng, float *tmp,
                    const float **s, const float **b, size_t *ld) {
  if (p->sdt == CMX_GEMM_F32) {
    *s = (const float *)p->s + soff + r0 * p->lds + g0;
    *b = (const float *)p->b + soff + r0 * p->lds + g0;
    *ld = p->lds;
    return;
  }
  cmx_cvt_ukr_fn cvt = p->sdt == CMX_GEMM_F16 ? p->cvt_f16 : p->cvt_bf16;
  const uint16_t *s16 = (const uint16_t *)p->s + soff,
                 *b16 = (const uint16_t *)p->b + soff;
  for (size_t r = 0; r < nr; r++) {
    cvt(ng, s16 + (r0 + r) * p->lds + g0, tmp + r * ng);
    cvt(ng, b16 + (r0 + r) * p->lds + g0, tmp + (nr + r) * ng);
  }
  *s = tmp;
  *b = tmp + nr * ng;
  *ld = ng;
}

/* The calling thread's scratch for SB_ROWS rows of f16 / bf16 scales and
 * biases converted to f32 (ng groups each), in *tmp; NULL with f32 ones.
 * -1 when it cannot be had. */
static int sb_scratch(const struct cmx_qgemm_problem *p, size_t ng,
                      float **tmp) {
  *tmp = NULL;
  if (p->sdt == CMX_GEMM_F32) return 0;
  *tmp = cmx_scratch(CMX_SCRATCH_NN, 2 * SB_ROWS * ng * sizeof(float));
  return *tmp ? 0 : -1;
}

/* ---- decode: the qdot kernel over rows of W ---- */
struct qdot_job {
  const struct cmx_qgemm_config *q;
  const struct cmx_qgemm_problem *p;
  const float *xp, *xs; /* rows x k (chunk order), rows x k / gs sums */
  size_t rows;          /* rows of x against this W */
  int64_t woff, soff;   /* this W's offsets (words, elements) */
  float *y;             /* rows x n */
  int failed;           /* set by any thread without scratch memory */
};

static void qdot_thread(void *ctx, size_t j0, size_t j1) {
  struct qdot_job *jb = ctx;
  const struct cmx_qgemm_problem *p = jb->p;
  const size_t ng = p->k / p->gs;
  float *tmp = NULL;
  if (sb_scratch(p, ng, &tmp)) {
    jb->failed = 1;
    return;
  }
  for (size_t j = j0; j < j1; j += SB_ROWS) {
    size_t nj = j1 - j < SB_ROWS ? j1 - j : SB_ROWS;
    const float *s, *b;
    size_t lds;
    sb_rows(p, jb->soff, j, nj, 0, ng, tmp, &s, &b, &lds);
    /* Four rows of x a call: the AVX-512 kernel then holds two rows of W
     * a step, and ran 4096 x 4096 4-bit at 130 GFLOP/s for m = 4 against
     * 83 for m = 8 on one Zen 5 core; the block of W stays in L2. */
    for (size_t i = 0; i < jb->rows; i += 4) {
      size_t mi = jb->rows - i < 4 ? jb->rows - i : 4;
      jb->q->qdot(mi, nj, p->k, p->bits, p->gs, p->w + jb->woff + j * p->ldw,
                  p->ldw, s, b, lds, jb->xp + i * p->k, p->k, jb->xs + i * ng,
                  ng, jb->y + i * p->n + j, p->n);
    }
  }
}

/* Row i of batch t of x into dst as f32 (k elements). */
static void x_row(const struct cmx_qgemm_problem *p, size_t t, size_t i,
                  float *dst, uint16_t *tmp16) {
  const struct cmx_gemm_operand *x = &p->x;
  int64_t o = (x->boff ? x->boff[t] : 0) + (int64_t)i * x->rs;
  if (x->dtype == CMX_GEMM_F32) {
    const float *src = (const float *)x->data + o;
    if (x->cs == 1)
      memcpy(dst, src, p->k * sizeof(float));
    else
      for (size_t c = 0; c < p->k; c++)
        dst[c] = src[(int64_t)c * x->cs];
    return;
  }
  const uint16_t *src = (const uint16_t *)x->data + o;
  for (size_t c = 0; c < p->k; c++)
    tmp16[c] = src[(int64_t)c * x->cs];
  (x->dtype == CMX_GEMM_F16 ? p->cvt_f16 : p->cvt_bf16)(p->k, tmp16, dst);
}

/* Row x (k elements) into the qdot layout of cmx_qgemm_xpos, chunk by
 * chunk: byte t, field f of a chunk pairs with f C + t. The element-wise
 * cmx_qgemm_xpos, with its divisions by run-time values, took 25 us of a
 * 4096-wide row (1x4096 @ 128x4096 4 bits: 41 us a call, 2-core Xeon VM). */
static void qdot_permute(int bits, size_t gs, size_t k, const float *row,
                         float *dst) {
  const size_t C = cmx_qgemm_chunk(bits, gs), e = 8 / (size_t)bits;
  for (size_t c0 = 0; c0 < k; c0 += C * e)
    for (size_t t = 0; t < C; t++)
      for (size_t f = 0; f < e; f++)
        dst[c0 + f * C + t] = row[c0 + t * e + f];
}

/* Sum of a group (gs a multiple of 8) in eight interleaved partial sums,
 * added pairwise: lanes a compiler can vectorise, where one running sum
 * was a chain of gs dependent adds (4096 a row: 4 us of the 41). */
static float group_sum(const float *v, size_t gs) {
  float l[8] = {0};
  for (size_t c = 0; c < gs; c += 8)
    for (int u = 0; u < 8; u++) l[u] += v[c + u];
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

static int run_qdot(const struct cmx_qgemm_config *q,
                    const struct cmx_qgemm_problem *p, int nthreads) {
  const size_t ng = p->k / p->gs, k = p->k;
  /* One W for every batch: all batch * m rows of x share one pass. */
  const size_t rows = p->wboff ? p->m : p->batch * p->m;
  const size_t passes = p->wboff ? p->batch : 1;
  size_t bytes =
      (p->batch * p->m * (k + ng) + k) * sizeof(float) + k * sizeof(uint16_t);
  float *xp = cmx_scratch(CMX_SCRATCH_NN_OUT, bytes);
  if (!xp)
    return -1;
  float *xs = xp + p->batch * p->m * k, *row = xs + p->batch * p->m * ng;
  uint16_t *tmp16 = (uint16_t *)(row + k);
  for (size_t t = 0; t < p->batch; t++)
    for (size_t i = 0; i < p->m; i++) {
      size_t r = t * p->m + i;
      x_row(p, t, i, row, tmp16);
      qdot_permute(p->bits, p->gs, k, row, xp + r * k);
      for (size_t g = 0; g < ng; g++)
        xs[r * ng + g] = group_sum(row + g * p->gs, p->gs);
    }
  for (size_t t = 0; t < passes; t++) {
    struct qdot_job jb = {q,
                          p,
                          xp + t * rows * k,
                          xs + t * rows * ng,
                          rows,
                          p->wboff ? p->wboff[t] : 0,
                          p->sboff ? p->sboff[t] : 0,
                          p->y + t * rows * p->n,
                          0};
    /* Four rows of W per grain keep the kernel on its widest step. */
    cmx_parallel_for(nthreads, p->n, 4, 16, qdot_thread, &jb);
    if (jb.failed)
      return -1;
  }
  return 0;
}

/* ---- prefill: dequantised slabs through the f32 GEMM driver ---- */
struct deq_job {
  const struct cmx_qgemm_config *q;
  const struct cmx_qgemm_problem *p;
  int64_t woff, soff;
  size_t r0, c0, cols; /* the slab: rows r0.. of W, columns c0..c0+cols */
  float *panel;        /* rows x cols, row stride cols */
  int failed;
};

static void deq_thread(void *ctx, size_t r, size_t r1) {
  struct deq_job *jb = ctx;
  const struct cmx_qgemm_problem *p = jb->p;
  const size_t ng = jb->cols / p->gs, g0 = jb->c0 / p->gs;
  float *tmp = NULL;
  if (sb_scratch(p, ng, &tmp)) {
    jb->failed = 1;
    return;
  }
  for (; r < r1; r += SB_ROWS) {
    size_t nr = r1 - r < SB_ROWS ? r1 - r : SB_ROWS;
    const float *s, *b;
    size_t lds;
    sb_rows(p, jb->soff, jb->r0 + r, nr, g0, ng, tmp, &s, &b, &lds);
    jb->q->qdeq(nr, jb->cols, p->bits, p->gs,
                p->w + jb->woff + (jb->r0 + r) * p->ldw +
                    jb->c0 * (size_t)p->bits / 32,
                p->ldw, s, b, lds, jb->panel + r * jb->cols, jb->cols);
  }
}

static int run_slabs(const struct cmx_qgemm_config *q,
                     const struct cmx_gemm_config *g,
                     const struct cmx_qgemm_problem *p, int nthreads) {
  size_t mc, kc, nc;
  int split;
  cmx_f32_gemm_blocking(g, &mc, &kc, &nc, &split);
  kc = kc / p->gs * p->gs;
  if (kc < p->gs)
    kc = p->gs;
  /* Columns of y per slab: whole groups along n when W is packed along n. */
  size_t ncw = p->n < CMX_QGEMM_NC ? p->n : CMX_QGEMM_NC;
  size_t kcw = p->k < kc ? p->k : kc;
  float *panel = cmx_scratch(CMX_SCRATCH_NN_OUT, ncw * kcw * sizeof(float));
  int64_t *xoff = malloc(p->batch * sizeof(int64_t));
  if (!panel || !xoff) {
    free(xoff);
    return -1;
  }
  int rc = 0;
  const size_t passes = p->wboff ? p->batch : 1;
  for (size_t t = 0; t < passes; t++) {
    struct deq_job jb = {q,
                         p,
                         p->wboff ? p->wboff[t] : 0,
                         p->sboff ? p->sboff[t] : 0,
                         0,
                         0,
                         0,
                         panel,
                         0};
    for (size_t j0 = 0; j0 < p->n; j0 += ncw) {
      size_t nj = p->n - j0 < ncw ? p->n - j0 : ncw;
      for (size_t p0 = 0; p0 < p->k; p0 += kc) {
        size_t kk = p->k - p0 < kc ? p->k - p0 : kc;
        struct cmx_gemm_problem gp = {.batch = p->wboff ? 1 : p->batch,
                                      .m = p->m,
                                      .n = nj,
                                      .k = kk,
                                      .a = p->x,
                                      .c = p->y + t * p->m * p->n + j0,
                                      .ldc = p->n,
                                      .ldcb = p->m * p->n,
                                      .alpha = 1.0f,
                                      .beta = p0 ? 1.0f : 0.0f,
                                      .cvt_f16 = p->cvt_f16,
                                      .cvt_bf16 = p->cvt_bf16};
        /* x's columns p0.. of each batch (this W's batch alone). */
        for (size_t u = 0; u < gp.batch; u++)
          xoff[u] = (p->x.boff ? p->x.boff[t + u] : 0) + (int64_t)p0 * p->x.cs;
        gp.a.boff = xoff;
        if (p->transpose) { /* panel: nj rows of W, kk deep; B = panel^T */
          jb.r0 = j0, jb.c0 = p0, jb.cols = kk;
          cmx_parallel_for(nthreads, nj, 1, 8, deq_thread, &jb);
          gp.b = (struct cmx_gemm_operand){panel, CMX_GEMM_F32, 1,
                                           (ptrdiff_t)kk, NULL};
        } else { /* panel: kk rows of W, nj wide; B = panel */
          jb.r0 = p0, jb.c0 = j0, jb.cols = nj;
          cmx_parallel_for(nthreads, kk, 1, 8, deq_thread, &jb);
          gp.b = (struct cmx_gemm_operand){panel, CMX_GEMM_F32, (ptrdiff_t)nj,
                                           1, NULL};
        }
        if (jb.failed || cmx_f32_gemm(g, &gp, nthreads)) {
          rc = -1;
          goto done;
        }
      }
    }
  }
done:
  free(xoff);
  return rc;
}

int cmx_f32_qgemm(const struct cmx_qgemm_config *q,
                  const struct cmx_gemm_config *g,
                  const struct cmx_qgemm_problem *p, int nthreads) {
  if (!p->batch || !p->m || !p->n)
    return 0;
  if (!p->k) {
    memset(p->y, 0, p->batch * p->m * p->n * sizeof(float));
    return 0;
  }
  size_t rows = p->wboff ? p->m : p->batch * p->m;
  if (p->transpose && rows <= CMX_QDOT_MAX_ROWS)
    return run_qdot(q, p, nthreads);
  return run_slabs(q, g, p, nthreads);
}

/* ---- dequantize and quantize ---- */
int cmx_f32_qdequant(const struct cmx_qgemm_config *q, size_t rows, size_t k,
                     int bits, size_t gs, const uint32_t *w, size_t ldw,
                     const void *s, const void *b, enum cmx_gemm_dtype sdt,
                     size_t lds, cmx_cvt_ukr_fn cvt_f16,
                     cmx_cvt_ukr_fn cvt_bf16, float *out, int nthreads) {
  struct cmx_qgemm_problem p = {.k = k,
                                .bits = bits,
                                .gs = gs,
                                .w = w,
                                .ldw = ldw,
                                .s = s,
                                .b = b,
                                .sdt = sdt,
                                .lds = lds,
                                .cvt_f16 = cvt_f16,
                                .cvt_bf16 = cvt_bf16};
  struct deq_job jb = {q, &p, 0, 0, 0, 0, k, out, 0};
  /* A grain of about 64K elements pays for a fork and join. */
  if (rows && k)
    cmx_parallel_for(nthreads, rows, 1, 65536 / k + 1, deq_thread, &jb);
  return jb.failed ? -1 : 0;
}

struct quant_job {
  const struct cmx_qgemm_config *q;
  size_t gs;
  int bits;
  const float *w;
  uint32_t *wq;
  float *s, *b;
};

static void quant_thread(void *ctx, size_t g0, size_t g1) {
  const struct quant_job *jb = ctx;
  size_t wpg = jb->gs * (size_t)jb->bits / 32;
  jb->q->quant(g1 - g0, jb->gs, jb->bits, jb->w + g0 * jb->gs,
               jb->wq ? jb->wq + g0 * wpg : NULL, jb->s ? jb->s + g0 : NULL,
               jb->b ? jb->b + g0 : NULL);
}

void cmx_f32_quantize(const struct cmx_qgemm_config *q, size_t rows, size_t k,
                      size_t gs, int bits, const float *w, uint32_t *wq,
                      float *s, float *b, int nthreads) {
  struct quant_job jb = {q, gs, bits, w, wq, s, b};
  size_t ng = rows * (k / gs);
  if (ng)
    cmx_parallel_for(nthreads, ng, 1, 1024, quant_thread, &jb);
}
