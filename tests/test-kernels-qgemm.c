/* Every row of f32-qgemm.inc this CPU can run, against the reference
 * microkernel on the same operands: qdot for every bits x group size, m in
 * 1..8, n in {1, 2, 3, 4, 5, 9} (the 4 / 2 / 1-row steps and their tails),
 * k of 1, 2 and 5 groups, strides wider than the data and canaries beside
 * every output it must not touch; qdeq likewise. A row whose ISA the CPU
 * lacks is skipped with a printed line. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/dispatch.h"
#include "test-util.h"

struct qrow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_qdot_ukr_fn dot;
  cmx_f32_qdeq_ukr_fn deq;
};
#define CMX_QDOT(isa, name) {isa, #name, name, NULL},
#define CMX_QDEQ(isa, name) {isa, #name, NULL, name},
static const struct qrow ROWS[] = {
#include "kernels/f32-qgemm/f32-qgemm.inc"
};
#undef CMX_QDOT
#undef CMX_QDEQ
#define NROWS (sizeof ROWS / sizeof ROWS[0])
static const float CANARY = -7777.25f;

static float rnd(uint64_t *s) {
  return (float)((double)(tu_next(s) >> 11) * (1.0 / 9007199254740992.0) *
                     2.0 -
                 1.0);
}

struct operands {
  uint32_t *w;
  float *s, *b, *xp, *xs;
  size_t ldw, lds, ldx, ldxs;
};

/* n rows of W (k codes, random words), m rows of x; strides padded. */
static struct operands make(size_t m, size_t n, size_t k, int bits, size_t gs,
                            uint64_t seed) {
  struct operands o;
  uint64_t st = seed;
  o.ldw = k * (size_t)bits / 32 + 3;
  o.lds = k / gs + 2;
  o.ldx = k + 16;
  o.ldxs = k / gs + 1;
  o.w = malloc(n * o.ldw * 4);
  o.s = malloc(n * o.lds * 4);
  o.b = malloc(n * o.lds * 4);
  o.xp = malloc(m * o.ldx * 4);
  o.xs = malloc(m * o.ldxs * 4);
  for (size_t i = 0; i < n * o.ldw; i++)
    o.w[i] = (uint32_t)tu_next(&st);
  for (size_t i = 0; i < n * o.lds; i++) {
    o.s[i] = rnd(&st) * 0.1f;
    o.b[i] = rnd(&st);
  }
  for (size_t i = 0; i < m * o.ldx; i++)
    o.xp[i] = rnd(&st);
  for (size_t i = 0; i < m * o.ldxs; i++)
    o.xs[i] = rnd(&st) * 4;
  return o;
}

static void drop(struct operands *o) {
  free(o->w), free(o->s), free(o->b), free(o->xp), free(o->xs);
}

static int have(const struct qrow *r) {
  if (cmx_cpu_has(r->isa))
    return 1;
  printf("kernels_qgemm: skipping %s (CPU lacks its ISA)\n", r->name);
  return 0;
}

Test(kernels_qgemm, qdot_rows_vs_ref) {
  static const int BITS[] = {2, 4, 8};
  static const size_t GS[] = {32, 64, 128}, NS[] = {1, 2, 3, 4, 5, 9};
  for (size_t r = 0; r < NROWS; r++) {
    if (!ROWS[r].dot || !have(&ROWS[r]))
      continue;
    for (int bi = 0; bi < 3; bi++)
      for (int gi = 0; gi < 3; gi++)
        for (size_t kg = 1; kg <= 5; kg += kg == 1 ? 1 : 3)
          for (size_t m = 1; m <= 8; m++)
            for (int ni = 0; ni < 6; ni++) {
              size_t n = NS[ni], k = kg * GS[gi], ldy = n + 3;
              struct operands o = make(m, n, k, BITS[bi], GS[gi], m * 31 + n);
              float *y0 = malloc((m + 1) * ldy * 4),
                    *y1 = malloc((m + 1) * ldy * 4);
              for (size_t i = 0; i < (m + 1) * ldy; i++)
                y0[i] = y1[i] = CANARY;
              cmx_f32_qdot_ukr__ref(m, n, k, BITS[bi], GS[gi], o.w, o.ldw, o.s,
                                    o.b, o.lds, o.xp, o.ldx, o.xs, o.ldxs, y0,
                                    ldy);
              ROWS[r].dot(m, n, k, BITS[bi], GS[gi], o.w, o.ldw, o.s, o.b,
                          o.lds, o.xp, o.ldx, o.xs, o.ldxs, y1, ldy);
              for (size_t i = 0; i < (m + 1) * ldy; i++) {
                size_t row = i / ldy, col = i % ldy;
                if (row >= m || col >= n) {
                  cr_assert(y1[i] == CANARY, "%s: wrote outside at %zu",
                            ROWS[r].name, i);
                  continue;
                }
                /* bound: sum |s x q| + |b xs| over the row */
                double bound = 0;
                for (size_t g = 0; g < k / GS[gi]; g++)
                  bound += fabs(o.s[col * o.lds + g]) * 8 * (1 << BITS[bi]) *
                               GS[gi] +
                           fabs(o.b[col * o.lds + g] * o.xs[row * o.ldxs + g]);
                cr_assert(fabs(y1[i] - y0[i]) <= 1e-6 * bound,
                          "%s: bits %d gs %zu m %zu n %zu k %zu [%zu,%zu]: "
                          "%.9g want %.9g",
                          ROWS[r].name, BITS[bi], GS[gi], m, n, k, row, col,
                          y1[i], y0[i]);
              }
              free(y0), free(y1);
              drop(&o);
            }
  }
}

Test(kernels_qgemm, qdeq_rows_vs_ref) {
  static const int BITS[] = {2, 4, 8};
  static const size_t GS[] = {32, 64, 128};
  for (size_t r = 0; r < NROWS; r++) {
    if (!ROWS[r].deq || !have(&ROWS[r]))
      continue;
    for (int bi = 0; bi < 3; bi++)
      for (int gi = 0; gi < 3; gi++)
        for (size_t n = 1; n <= 3; n++) {
          size_t k = 3 * GS[gi], ldo = k + 5;
          struct operands o = make(1, n, k, BITS[bi], GS[gi], n * 7 + 1);
          float *y0 = malloc(n * ldo * 4), *y1 = malloc(n * ldo * 4);
          for (size_t i = 0; i < n * ldo; i++)
            y0[i] = y1[i] = CANARY;
          cmx_f32_qdeq_ukr__ref(n, k, BITS[bi], GS[gi], o.w, o.ldw, o.s, o.b,
                                o.lds, y0, ldo);
          ROWS[r].deq(n, k, BITS[bi], GS[gi], o.w, o.ldw, o.s, o.b, o.lds, y1,
                      ldo);
          for (size_t i = 0; i < n * ldo; i++) {
            size_t j = i / ldo, c = i % ldo;
            if (c >= k) {
              cr_assert(y1[i] == CANARY, "%s: wrote outside", ROWS[r].name);
              continue;
            }
            float sq = o.s[j * o.lds + c / GS[gi]] * (1 << BITS[bi]);
            double tol = 2e-7 * (fabs(sq) + fabs(o.b[j * o.lds + c / GS[gi]]));
            cr_assert(fabs(y1[i] - y0[i]) <= tol,
                      "%s: bits %d gs %zu [%zu,%zu] %.9g want %.9g",
                      ROWS[r].name, BITS[bi], GS[gi], j, c, y1[i], y0[i]);
          }
          free(y0), free(y1);
          drop(&o);
        }
  }
}
