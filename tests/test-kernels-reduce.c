/* Every row of f32-reduce.inc, f32-where.inc and cvt.inc that this CPU can
 * run, against the GENERIC row and against float64 references written here:
 * odd and large sizes, unaligned inputs sized exactly (so ASan sees any
 * read past n), canaries past each output, NaN/inf/ties for max/min/arg,
 * and every 16-bit pattern through the conversions. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/dispatch.h"

static const size_t SIZES[] = {1,  2,  7,  8,    15,   16,
                               17, 31, 33, 1023, 4099, 100003};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])
#define CANARY 16
static const float FCANARY = -12345.5f;

/* ---- rows --------------------------------------------------------------- */
enum rkind { RK_INNER, RK_OUTER, RK_SUMSQDEV, RK_SUMEXP, RK_ARGMAX, RK_ARGMIN };
struct rrow {
  enum rkind kind;
  enum cmx_isa_level isa;
  enum cmx_rop op;
  const char *name;
  void (*fn)(void);
};
#define CMX_RINNER(isa, rop, name)                                             \
  {RK_INNER, isa, rop, #name, (void (*)(void))name},
#define CMX_ROUTER(isa, rop, name)                                             \
  {RK_OUTER, isa, rop, #name, (void (*)(void))name},
#define CMX_RSUMSQDEV(isa, name)                                               \
  {RK_SUMSQDEV, isa, 0, #name, (void (*)(void))name},
#define CMX_RSUMEXP(isa, name) {RK_SUMEXP, isa, 0, #name, (void (*)(void))name},
#define CMX_RARGMAX(isa, name) {RK_ARGMAX, isa, 0, #name, (void (*)(void))name},
#define CMX_RARGMIN(isa, name) {RK_ARGMIN, isa, 0, #name, (void (*)(void))name},
static const struct rrow RROWS[] = {
#include "kernels/f32-reduce/f32-reduce.inc"
};
#undef CMX_RINNER
#undef CMX_ROUTER
#undef CMX_RSUMSQDEV
#undef CMX_RSUMEXP
#undef CMX_RARGMAX
#undef CMX_RARGMIN
#define NRROWS (sizeof RROWS / sizeof RROWS[0])

struct hrow {
  enum cmx_isa_level isa;
  int type; /* 0 bf16, 1 f16 */
  enum cmx_rop op;
  const char *name;
  cmx_h16_rinner_ukr_fn inner; /* one of the two */
  cmx_h16_router_ukr_fn fn;
};
#define CMX_RINNER16(isa, type, rop, name) {isa, type, rop, #name, name, NULL},
#define CMX_ROUTER16(isa, type, rop, name) {isa, type, rop, #name, NULL, name},
static const struct hrow HROWS[] = {
#include "kernels/f32-reduce/h16-reduce.inc"
};
#undef CMX_RINNER16
#undef CMX_ROUTER16

struct wrow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_where_ukr_fn fn;
};
#define CMX_UKR(isa, name) {isa, #name, name},
static const struct wrow WROWS[] = {
#include "kernels/f32-where/f32-where.inc"
};
#undef CMX_UKR

struct crow {
  enum cmx_isa_level isa;
  enum cmx_cvt_op op;
  const char *name;
  cmx_cvt_ukr_fn fn;
};
#define CMX_UKR(isa, op, name) {isa, op, #name, name},
static const struct crow CROWS[] = {
#include "kernels/cvt/cvt.inc"
};
#undef CMX_UKR

/* 1 when this CPU runs the row's ISA; otherwise says so. */
static int runs(enum cmx_isa_level isa, const char *name) {
  if (cmx_cpu_has(isa)) return 1;
  printf("kernels_reduce: skipped %s (this CPU lacks its ISA)\n", name);
  return 0;
}

static const struct rrow *rref(enum rkind kind, enum cmx_rop op) {
  for (size_t r = 0; r < NRROWS; r++)
    if (RROWS[r].isa == CMX_ISA_GENERIC && RROWS[r].kind == kind &&
        RROWS[r].op == op)
      return &RROWS[r];
  cr_assert_fail("no GENERIC row for kind %d op %d", (int)kind, (int)op);
  return NULL;
}

/* ---- data --------------------------------------------------------------- */
static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t rnd32(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}
/* Uniform in [lo, hi), never zero. */
static float rnd(float lo, float hi) {
  float v;
  do v = lo + (hi - lo) * (float)(rnd32() >> 8) * 0x1p-24f;
  while (v == 0.0f);
  return v;
}
/* n floats whose last one ends the allocation, one float off alignment. */
static float *input(size_t n) {
  float *b = malloc((n + 1) * sizeof *b);
  cr_assert_not_null(b);
  return b + 1;
}
static void release(float *x) { free(x - 1); }

/* Both NaN, or equal values (signed zeros equal). */
static int same(float a, float b) { return (a != a && b != b) || a == b; }

/* ---- inner ------------------------------------------------------------- */
static float call_inner(const struct rrow *r, size_t n, const float *x) {
  return ((cmx_f32_rinner_ukr_fn)r->fn)(n, x);
}

static void check_sum_prod(const struct rrow *r, const struct rrow *g, size_t n,
                           const float *x) {
  double ref = r->op == CMX_ROP_SUM ? 0.0 : 1.0, mag = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (r->op == CMX_ROP_SUM)
      ref += x[i];
    else
      ref *= x[i];
    mag += fabs(x[i]);
  }
  /* Each add or multiply errs by at most eps/2 of the running value; the
   * errors add like a random walk, so sqrt(n) eps bounds them with room. */
  const double eps = FLT_EPSILON,
               scale = r->op == CMX_ROP_SUM ? mag : fabs(ref);
  const double tol = (2.0 * sqrt((double)n) + 1.0) * eps * scale;
  const float got = call_inner(r, n, x), gen = call_inner(g, n, x);
  cr_assert(fabs(got - ref) <= tol, "%s n=%zu: %.9g, float64 %.9g (tol %g)",
            r->name, n, got, ref, tol);
  cr_assert(fabs((double)got - gen) <= 2 * tol, "%s n=%zu: %.9g, ref row %.9g",
            r->name, n, got, gen);
}

Test(kernels_reduce, inner_sum_prod) {
  for (size_t r = 0; r < NRROWS; r++) {
    const struct rrow *row = &RROWS[r];
    if (row->kind != RK_INNER || row->op > CMX_ROP_PROD) continue;
    if (!runs(row->isa, row->name)) continue;
    for (size_t s = 0; s < NSIZES; s++) {
      const size_t n = SIZES[s];
      float *x = input(n);
      /* Sum: mixed signs; product: near 1 so 10^5 factors stay finite. */
      for (size_t i = 0; i < n; i++)
        x[i] = row->op == CMX_ROP_SUM ? rnd(-1.0f, 1.0f)
                                      : 1.0f + rnd(-0.01f, 0.01f);
      check_sum_prod(row, rref(RK_INNER, row->op), n, x);
      release(x);
    }
  }
}

/* float64 max/min with NaN winning. */
static float ref_minmax(enum cmx_rop op, size_t n, const float *x) {
  double m = x[0];
  for (size_t i = 0; i < n; i++) {
    if (x[i] != x[i]) return NAN;
    if (op == CMX_ROP_MAX ? x[i] > m : x[i] < m) m = x[i];
  }
  return (float)m;
}
/* First index of the float64 max/min, first NaN winning. */
static size_t ref_arg(int is_max, size_t n, const float *x) {
  size_t b = 0;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != x[i]) return i;
    if (is_max ? x[i] > x[b] : x[i] < x[b]) b = i;
  }
  return b;
}

/* Special values planted in random data: case k of NSPECIAL. */
#define NSPECIAL 14
static void plant(size_t k, size_t n, float *x) {
  switch (k) {
  case 0: break;                 /* plain random */
  case 1: x[n - 1] = NAN; break; /* NaN last */
  case 2: x[0] = NAN; break;     /* NaN first */
  case 3:
    x[n / 2] = INFINITY;
    x[n - 1] = NAN;
    x[n / 3] = -NAN;
    break;
  case 4:
    x[n / 2] = INFINITY;
    x[n / 3] = -INFINITY;
    break;
  case 5:
    x[n - 1] = INFINITY;
    x[0] = -INFINITY;
    break;
  case 6: /* ties: few distinct values, the extreme many times */
    for (size_t i = 0; i < n; i++) x[i] = (float)(int)(rnd32() % 7) - 3.0f;
    break;
  case 7:
    x[n / 2] = 5.0f;
    x[n - 1] = 5.0f;
    x[(n + 1) / 3] = -5.0f;
    x[n - 1 - n / 4] = -5.0f;
    break;
  case 9: /* rising: every block holds a new maximum, at its end */
    for (size_t i = 0; i < n; i++) x[i] = (float)i * 0.5f - 7.0f;
    break;
  case 10: /* falling: every block holds a new minimum */
    for (size_t i = 0; i < n; i++) x[i] = 7.0f - (float)i * 0.5f;
    break;
  case 11: /* signed zeros only: the first zero of either sign */
    for (size_t i = 0; i < n; i++) x[i] = rnd32() & 1 ? 0.0f : -0.0f;
    break;
  case 12: /* -inf everywhere but one +inf late; then a NaN later still */
    for (size_t i = 0; i < n; i++) x[i] = -INFINITY;
    x[n - 1 - n / 5] = INFINITY;
    if (n > 3) x[n - 1] = NAN;
    break;
  case 13: /* huge finite values: sums of them overflow to inf (which sends
             a fast max/min block to its exact path), extremes finite */
    for (size_t i = 0; i < n; i++) x[i] = x[i] * 3.3e36f;
    break;
  default:
    x[n / 2] = NAN;
    x[n / 2 + (n > 2)] = NAN;
    break;
  }
}

Test(kernels_reduce, inner_max_min) {
  for (size_t r = 0; r < NRROWS; r++) {
    const struct rrow *row = &RROWS[r];
    if (row->kind != RK_INNER || row->op < CMX_ROP_MAX) continue;
    if (!runs(row->isa, row->name)) continue;
    for (size_t s = 0; s < NSIZES; s++)
      for (size_t k = 0; k < NSPECIAL; k++) {
        const size_t n = SIZES[s];
        float *x = input(n);
        for (size_t i = 0; i < n; i++) x[i] = rnd(-100.0f, 100.0f);
        plant(k, n, x);
        const float got = call_inner(row, n, x);
        const float gen = call_inner(rref(RK_INNER, row->op), n, x);
        const float ref = ref_minmax(row->op, n, x);
        cr_assert(same(got, ref), "%s n=%zu case %zu: %g, float64 %g",
                  row->name, n, k, got, ref);
        cr_assert(same(got, gen), "%s n=%zu case %zu: %g, ref row %g",
                  row->name, n, k, got, gen);
        release(x);
      }
  }
}

Test(kernels_reduce, argmax_argmin) {
  for (size_t r = 0; r < NRROWS; r++) {
    const struct rrow *row = &RROWS[r];
    if (row->kind != RK_ARGMAX && row->kind != RK_ARGMIN) continue;
    if (!runs(row->isa, row->name)) continue;
    const int is_max = row->kind == RK_ARGMAX;
    const cmx_f32_rarg_ukr_fn fn = (cmx_f32_rarg_ukr_fn)row->fn;
    const cmx_f32_rarg_ukr_fn gen = (cmx_f32_rarg_ukr_fn)rref(row->kind, 0)->fn;
    for (size_t s = 0; s < NSIZES; s++)
      for (size_t k = 0; k < NSPECIAL; k++) {
        const size_t n = SIZES[s];
        float *x = input(n);
        for (size_t i = 0; i < n; i++) x[i] = rnd(-100.0f, 100.0f);
        plant(k, n, x);
        const size_t got = fn(n, x), want = ref_arg(is_max, n, x);
        cr_assert_eq(got, want, "%s n=%zu case %zu: %zu, want %zu", row->name,
                     n, k, got, want);
        cr_assert_eq(got, gen(n, x), "%s n=%zu case %zu: differs from ref row",
                     row->name, n, k);
        release(x);
      }
  }
}

/* A lone NaN at every position of two whole blocks and a partial one
 * (blocks of 16 vectors: the AVX-512 block checks NaN per pair of vectors
 * in two mask chains), a +inf before it: the NaN's index either way. */
Test(kernels_reduce, arg_nan_every_position) {
  const size_t n = 2 * 16 * 16 + 37;
  for (size_t r = 0; r < NRROWS; r++) {
    const struct rrow *row = &RROWS[r];
    if (row->kind != RK_ARGMAX && row->kind != RK_ARGMIN) continue;
    if (!runs(row->isa, row->name)) continue;
    const cmx_f32_rarg_ukr_fn fn = (cmx_f32_rarg_ukr_fn)row->fn;
    float *x = input(n);
    for (size_t p = 0; p < n; p++) {
      for (size_t i = 0; i < n; i++) x[i] = rnd(-100.0f, 100.0f);
      x[p / 2] = row->kind == RK_ARGMAX ? INFINITY : -INFINITY;
      x[p] = NAN;
      const size_t got = fn(n, x);
      cr_assert_eq(got, p, "%s NaN at %zu: %zu", row->name, p, got);
    }
    release(x);
  }
}

Test(kernels_reduce, sumsqdev_sumexp) {
  for (size_t r = 0; r < NRROWS; r++) {
    const struct rrow *row = &RROWS[r];
    if (row->kind != RK_SUMSQDEV && row->kind != RK_SUMEXP) continue;
    if (!runs(row->isa, row->name)) continue;
    const int is_exp = row->kind == RK_SUMEXP;
    const cmx_f32_rsumexp_ukr_fn fn = (cmx_f32_rsumexp_ukr_fn)row->fn;
    const cmx_f32_rsumexp_ukr_fn gen =
        (cmx_f32_rsumexp_ukr_fn)rref(row->kind, 0)->fn;
    for (size_t s = 0; s < NSIZES; s++) {
      const size_t n = SIZES[s];
      const float c = is_exp ? 3.0f : 0.25f;
      float *x = input(n);
      for (size_t i = 0; i < n; i++) x[i] = rnd(-4.0f, 4.0f);
      double ref = 0.0;
      for (size_t i = 0; i < n; i++) {
        const double d = (double)x[i] - c;
        ref += is_exp ? exp(d) : d * d;
      }
      /* All terms are positive: relative error of the sum, plus a few ulp
       * for exp's polynomial (kernels/common/vmath.h) and for (x - c). */
      const double tol = (2.0 * sqrt((double)n) + 8.0) * FLT_EPSILON * ref;
      float got, g;
      if (is_exp) {
        got = fn(n, x, c), g = gen(n, x, c);
      } else {
        /* sumsqdev: the same with the sum of x taken in its pass, and
         * without (NULL) */
        const cmx_f32_rsumsqdev_ukr_fn fq = (cmx_f32_rsumsqdev_ukr_fn)row->fn;
        float sum = -1.0f;
        got = fq(n, x, c, &sum);
        g = ((cmx_f32_rsumsqdev_ukr_fn)rref(row->kind, 0)->fn)(n, x, c, NULL);
        double sref = 0.0, sabs = 0.0;
        for (size_t i = 0; i < n; i++) sref += x[i], sabs += fabs(x[i]);
        cr_assert(fabs(sum - sref) <= (2.0 * sqrt((double)n) + 8.0) *
                                          FLT_EPSILON * sabs,
                  "%s n=%zu: sum %.9g, float64 %.9g", row->name, n, sum,
                  sref);
        const float alone = fq(n, x, c, NULL);
        cr_assert(fabs(alone - ref) <= tol, "%s n=%zu: without the sum "
                  "%.9g, float64 %.9g", row->name, n, alone, ref);
      }
      cr_assert(fabs(got - ref) <= tol, "%s n=%zu: %.9g, float64 %.9g",
                row->name, n, got, ref);
      cr_assert(fabs((double)got - g) <= 2 * tol,
                "%s n=%zu: %.9g, ref row %.9g", row->name, n, got, g);
      release(x);
    }
  }
}

/* sumexp away from the friendly range: terms far below c (the contract
 * lets those under exp(-87) count as exp(-87) or as 0), a c whose c log2e
 * is not exact in float, the overflow signal and NaN. */
Test(kernels_reduce, sumexp_range) {
  static const float CS[] = {0.0f, -3.1f, 1.0e6f, -3.3e5f, 7.7e30f};
  for (size_t r = 0; r < NRROWS; r++) {
    const struct rrow *row = &RROWS[r];
    if (row->kind != RK_SUMEXP || !runs(row->isa, row->name)) continue;
    const cmx_f32_rsumexp_ukr_fn fn = (cmx_f32_rsumexp_ukr_fn)row->fn;
    for (size_t s = 0; s < NSIZES; s++)
      for (size_t ci = 0; ci < sizeof CS / sizeof CS[0]; ci++) {
        const size_t n = SIZES[s];
        const float c = CS[ci];
        float *x = input(n);
        /* Spread: most terms tiny or far under exp(-87). */
        for (size_t i = 0; i < n; i++)
          x[i] = c == 0.0f ? rnd(-300.0f, -2.0f) : c + rnd(-8.0f, 0.5f);
        x[n / 2] = c;
        double ref = 0.0;
        for (size_t i = 0; i < n; i++) ref += exp((double)x[i] - c);
        const double tol = (2.0 * sqrt((double)n) + 8.0) * FLT_EPSILON * ref +
                           (double)n * 1.7e-38;
        float got = fn(n, x, c);
        cr_assert(fabs(got - ref) <= tol, "%s n=%zu c=%g: %.9g, float64 %.9g",
                  row->name, n, c, got, ref);
        /* A term 100 above c: the sum overflows (the caller's signal). */
        const float keep = x[n - 1];
        x[n - 1] = c + 100.0f * (fabsf(c) > 1e4f ? fabsf(c) * 1e-3f : 1.0f);
        got = fn(n, x, c);
        cr_assert(!isfinite(got), "%s n=%zu c=%g: %.9g, want inf", row->name,
                  n, c, got);
        x[n - 1] = keep;
        x[(n - 1) / 3] = NAN;
        got = fn(n, x, c);
        cr_assert(got != got, "%s n=%zu c=%g: %.9g, want NaN", row->name, n, c,
                  got);
        release(x);
      }
  }
}

/* The reference conversions of a 16-bit row's type (1 f16, 0 bf16). */
static void h16_cvt(int f16, cmx_cvt_ukr_fn *up, cmx_cvt_ukr_fn *down) {
  *up = f16 ? cmx_f16_f32_cvt_ukr__ref : cmx_bf16_f32_cvt_ukr__ref;
  *down = f16 ? cmx_f32_f16_cvt_ukr__ref : cmx_f32_bf16_cvt_ukr__ref;
}

/* The 16-bit inner rows (h16-reduce.inc) give, bit for bit, what their
 * level's f32 inner row gives on the widened block (the summation order
 * depends on the vector width): every size of SIZES, x exactly n long
 * (ASan sees a read past it), a NaN or an infinity for max / min (the
 * fast loop's fallback), a first element that is the extreme. */
Test(kernels_reduce, inner16_matches_widened_f32) {
  int checked = 0;
  for (size_t r = 0; r < sizeof HROWS / sizeof HROWS[0]; r++) {
    const struct hrow *row = &HROWS[r];
    if (!row->inner || !runs(row->isa, row->name)) continue;
    const struct rrow *f = NULL;
    for (size_t i = 0; i < NRROWS; i++)
      if (RROWS[i].kind == RK_INNER && RROWS[i].isa == row->isa &&
          RROWS[i].op == row->op)
        f = &RROWS[i];
    cr_assert(f, "%s: no f32 inner row at its level", row->name);
    const cmx_f32_rinner_ukr_fn f32 = (cmx_f32_rinner_ukr_fn)f->fn;
    cmx_cvt_ukr_fn up, down;
    h16_cvt(row->type, &up, &down);
    const int minmax = row->op >= CMX_ROP_MAX;
    for (size_t s = 0; s < NSIZES; s++)
      for (int kind = 0; kind < (minmax ? 4 : 1); kind++) {
        /* kind 1: a NaN; 2: an infinity; 3: x[0] the extreme */
        const size_t n = SIZES[s];
        float *xf = malloc(n * sizeof *xf);
        uint16_t *xh = malloc(n * sizeof *xh);
        for (size_t i = 0; i < n; i++)
          xf[i] = row->op == CMX_ROP_PROD ? rnd(0.9f, 1.1f) : rnd(-10, 10);
        if (kind == 1) xf[n / 2] = NAN;
        if (kind == 2) xf[n - 1] = row->op == CMX_ROP_MAX ? INFINITY : -INFINITY;
        if (kind == 3) xf[0] = row->op == CMX_ROP_MAX ? 11.0f : -11.0f;
        down(n, xf, xh);
        up(n, xh, xf); /* the values the 16-bit block holds */
        const float got = row->inner(n, xh), want = f32(n, xf);
        cr_assert(same(got, want), "%s n=%zu kind %d: %.9g, f32 row %.9g",
                  row->name, n, kind, got, want);
        free(xf), free(xh);
        checked++;
      }
  }
  if (!checked) printf("kernels_reduce: no 16-bit inner rows run here\n");
}

/* The 16-bit outer rows (h16-reduce.inc) give, bit for bit, what the
 * GENERIC f32 outer row gives on the widened rows: lengths around the
 * eight- and four-vector steps and tails, 1, 3, 9 and 17 rows, a row
 * stride past n, x exactly as long as it must be (ASan sees a read past
 * it), NaN from x and in acc for max / min, canaries past acc. */
Test(kernels_reduce, outer16_matches_widened_f32) {
  static const size_t ROWS[] = {1, 3, 9, 17};
  int checked = 0;
  for (size_t r = 0; r < sizeof HROWS / sizeof HROWS[0]; r++) {
    const struct hrow *row = &HROWS[r];
    if (!row->fn || !runs(row->isa, row->name)) continue;
    const cmx_f32_router_ukr_fn gen =
        (cmx_f32_router_ukr_fn)rref(RK_OUTER, row->op)->fn;
    cmx_cvt_ukr_fn up, down;
    h16_cvt(row->type, &up, &down);
    const int minmax = row->op >= CMX_ROP_MAX;
    for (size_t s = 0; s < NSIZES; s++)
      for (size_t q = 0; q < sizeof ROWS / sizeof ROWS[0]; q++)
        for (int nan = 0; nan <= minmax; nan++) {
          const size_t n = SIZES[s], rows = ROWS[q], ldx = n + 3;
          const size_t len = rows * ldx - (ldx - n);
          float *xf = malloc(len * sizeof *xf);
          uint16_t *xh = malloc(len * sizeof *xh);
          float *acc = malloc((n + CANARY) * sizeof *acc);
          float *acc_g = malloc(n * sizeof *acc_g);
          for (size_t i = 0; i < len; i++)
            xf[i] = row->op == CMX_ROP_PROD ? rnd(0.5f, 2.0f)
                                            : rnd(-10.0f, 10.0f);
          if (nan) xf[(rows - 1) * ldx + n / 2] = NAN;
          down(len, xf, xh);
          up(len, xh, xf); /* the values the 16-bit rows hold */
          for (size_t j = 0; j < n; j++)
            acc[j] = acc_g[j] =
                row->op == CMX_ROP_PROD ? rnd(0.5f, 2.0f) : rnd(-10.0f, 10.0f);
          if (nan) acc[n - 1] = acc_g[n - 1] = NAN;
          for (size_t j = n; j < n + CANARY; j++) acc[j] = FCANARY;
          row->fn(rows, n, xh, ldx, acc);
          gen(rows, n, xf, ldx, acc_g);
          for (size_t j = 0; j < n; j++)
            cr_assert(same(acc[j], acc_g[j]), "%s rows=%zu n=%zu [%zu]: "
                      "%.9g, f32 row %.9g", row->name, rows, n, j, acc[j],
                      acc_g[j]);
          for (size_t j = n; j < n + CANARY; j++)
            cr_assert(acc[j] == FCANARY, "%s n=%zu: wrote past n", row->name,
                      n);
          free(xf), free(xh), free(acc), free(acc_g);
          checked++;
        }
  }
  if (!checked) printf("kernels_reduce: no 16-bit outer rows run here\n");
}

/* ---- outer -------------------------------------------------------------- */
Test(kernels_reduce, outer) {
  static const size_t ROWS[] = {1, 3, 17};
  for (size_t r = 0; r < NRROWS; r++) {
    const struct rrow *row = &RROWS[r];
    if (row->kind != RK_OUTER) continue;
    if (!runs(row->isa, row->name)) continue;
    const cmx_f32_router_ukr_fn fn = (cmx_f32_router_ukr_fn)row->fn;
    const cmx_f32_router_ukr_fn gen =
        (cmx_f32_router_ukr_fn)rref(RK_OUTER, row->op)->fn;
    const int minmax = row->op >= CMX_ROP_MAX;
    for (size_t s = 0; s < NSIZES; s++)
      for (size_t q = 0; q < 3; q++)
        for (int nan = 0; nan <= minmax; nan++) {
          const size_t n = SIZES[s], rows = ROWS[q], ldx = n + 3;
          float *x = input(rows * ldx - (ldx - n));
          float *acc = malloc((n + CANARY) * sizeof *acc);
          float *acc_g = malloc(n * sizeof *acc_g);
          for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < n; j++)
              x[i * ldx + j] = row->op == CMX_ROP_PROD ? rnd(0.5f, 2.0f)
                                                       : rnd(-10.0f, 10.0f);
          for (size_t j = 0; j < n; j++)
            acc[j] = acc_g[j] =
                row->op == CMX_ROP_PROD ? rnd(0.5f, 2.0f) : rnd(-10.0f, 10.0f);
          if (nan) { /* NaN entering from x, and one already in acc. */
            x[(rows - 1) * ldx + n / 2] = NAN;
            acc[n - 1] = acc_g[n - 1] = NAN;
          }
          for (size_t j = n; j < n + CANARY; j++) acc[j] = FCANARY;
          double *want = malloc(n * sizeof *want);
          for (size_t j = 0; j < n; j++) {
            double a = acc[j];
            for (size_t i = 0; i < rows; i++) {
              const double v = x[i * ldx + j];
              if (row->op == CMX_ROP_SUM)
                a += v;
              else if (row->op == CMX_ROP_PROD)
                a *= v;
              else if (a != a || v != v)
                a = NAN;
              else if (row->op == CMX_ROP_MAX ? v > a : v < a)
                a = v;
            }
            want[j] = a;
          }
          fn(rows, n, x, ldx, acc);
          gen(rows, n, x, ldx, acc_g);
          for (size_t j = 0; j < n; j++) {
            /* Each lane is the reference loop itself: bit-exact with the
             * GENERIC row; within rows * eps of float64. */
            cr_assert(same(acc[j], acc_g[j]),
                      "%s rows=%zu n=%zu [%zu]: %.9g, ref row %.9g", row->name,
                      rows, n, j, acc[j], acc_g[j]);
            const double tol =
                (rows + 1) * FLT_EPSILON *
                (row->op == CMX_ROP_SUM ? 10.0 * (rows + 1) : fabs(want[j]));
            cr_assert((acc[j] != acc[j] && want[j] != want[j]) ||
                          fabs(acc[j] - want[j]) <= tol,
                      "%s rows=%zu n=%zu [%zu]: %.9g, float64 %.9g", row->name,
                      rows, n, j, acc[j], want[j]);
          }
          for (size_t j = n; j < n + CANARY; j++)
            cr_assert(acc[j] == FCANARY, "%s wrote acc[%zu] past n=%zu",
                      row->name, j, n);
          free(want);
          free(acc_g);
          free(acc);
          release(x);
        }
  }
}

/* ---- where -------------------------------------------------------------- */
Test(kernels_reduce, where) {
  static const uint8_t TRUTHY[] = {1, 2, 0x80, 0xff};
  for (size_t r = 0; r < sizeof WROWS / sizeof WROWS[0]; r++) {
    const struct wrow *row = &WROWS[r];
    if (!runs(row->isa, row->name)) continue;
    for (size_t s = 0; s < NSIZES; s++)
      for (int st = 0; st < 8; st++) {
        const size_t n = SIZES[s];
        const size_t sc = st & 1, sa = (st >> 1) & 1, sb = (st >> 2) & 1;
        uint8_t *c = malloc(sc ? n : 1);
        float *a = input(sa ? n : 1), *b = input(sb ? n : 1);
        float *y = malloc((n + CANARY) * sizeof *y);
        for (size_t i = 0; i < (sc ? n : 1); i++)
          c[i] = (rnd32() & 1) ? TRUTHY[rnd32() % 4] : 0;
        for (size_t i = 0; i < (sa ? n : 1); i++) a[i] = rnd(-1.0f, 1.0f);
        for (size_t i = 0; i < (sb ? n : 1); i++) b[i] = rnd(2.0f, 3.0f);
        for (size_t i = 0; i < n + CANARY; i++) y[i] = FCANARY;
        row->fn(n, c, sc, a, sa, b, sb, y);
        for (size_t i = 0; i < n; i++) {
          const float want = c[i * sc] ? a[i * sa] : b[i * sb];
          cr_assert(y[i] == want,
                    "%s n=%zu strides c%zu a%zu b%zu [%zu]: %g, want %g",
                    row->name, n, sc, sa, sb, i, y[i], want);
        }
        for (size_t i = n; i < n + CANARY; i++)
          cr_assert(y[i] == FCANARY, "%s wrote y[%zu] past n=%zu", row->name, i,
                    n);
        free(y);
        release(b);
        release(a);
        free(c);
      }
  }
}

/* ---- conversions -------------------------------------------------------- */
static uint32_t fbits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static float bitsf(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* float64 models of the 16-bit formats (mbits mantissa bits, ebits exponent
 * bits), written from the definitions, independent of cvt-ref.c. */
static double decode16(uint16_t h, int mbits, int ebits) {
  const int bias = (1 << (ebits - 1)) - 1, emax = (1 << ebits) - 1;
  const int ex = (h >> mbits) & emax, m = h & ((1 << mbits) - 1);
  const double s = (h >> 15) ? -1.0 : 1.0;
  if (ex == emax) return m ? NAN : s * INFINITY;
  if (ex == 0) return s * ldexp(m, 1 - bias - mbits);
  return s * ldexp(m + (1 << mbits), ex - bias - mbits);
}
/* Round to nearest even (rint in the default mode) of a non-NaN value. */
static uint16_t encode16(double x, int mbits, int ebits) {
  const int bias = (1 << (ebits - 1)) - 1, emax = (1 << ebits) - 1;
  const uint16_t sign = signbit(x) ? 0x8000 : 0;
  const double a = fabs(x);
  if (isinf(a)) return sign | (uint16_t)(emax << mbits);
  if (a < ldexp(1.0, 1 - bias)) /* subnormal: rint can carry into normal */
    return sign | (uint16_t)rint(ldexp(a, bias - 1 + mbits));
  int e;
  frexp(a, &e);
  e -= 1;
  double q = rint(ldexp(a, mbits - e));
  if (q == ldexp(1.0, mbits + 1)) {
    e++;
    q = ldexp(1.0, mbits);
  }
  if (e + bias >= emax) return sign | (uint16_t)(emax << mbits);
  return sign | (uint16_t)(((e + bias) << mbits) | ((int)q - (1 << mbits)));
}

static const struct crow *cref(enum cmx_cvt_op op) {
  for (size_t r = 0; r < sizeof CROWS / sizeof CROWS[0]; r++)
    if (CROWS[r].isa == CMX_ISA_GENERIC && CROWS[r].op == op) return &CROWS[r];
  cr_assert_fail("no GENERIC cvt row for op %d", (int)op);
  return NULL;
}

/* Every 16-bit pattern to f32 and back, for f16 (bf = 0) or bf16. */
static void cvt_exhaustive(int bf) {
  const enum cmx_cvt_op up = bf ? CMX_CVT_BF16_F32 : CMX_CVT_F16_F32;
  const enum cmx_cvt_op down = bf ? CMX_CVT_F32_BF16 : CMX_CVT_F32_F16;
  const int mbits = bf ? 7 : 10, ebits = bf ? 8 : 5;
  const uint16_t quiet = bf ? 0x40 : 0x200;
  uint16_t *h = malloc(65536 * sizeof *h), *back = malloc((65536 + CANARY) * 2);
  float *f = malloc((65536 + CANARY) * sizeof *f);
  for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
  for (size_t r = 0; r < sizeof CROWS / sizeof CROWS[0]; r++) {
    const struct crow *row = &CROWS[r];
    if (row->op != up || !runs(row->isa, row->name)) continue;
    const struct crow *dn = NULL;
    for (size_t k = 0; k < sizeof CROWS / sizeof CROWS[0]; k++)
      if (CROWS[k].isa == row->isa && CROWS[k].op == down) dn = &CROWS[k];
    cr_assert_not_null(dn);
    for (size_t i = 0; i < 65536 + CANARY; i++)
      f[i] = FCANARY, back[i] = 0xbeef;
    row->fn(65536, h, f);
    dn->fn(65536, f, back);
    for (uint32_t i = 0; i < 65536; i++) {
      const double v = decode16((uint16_t)i, mbits, ebits);
      const uint32_t fb = fbits(f[i]);
      if (v != v) {
        /* NaN: payload kept in the top mantissa bits; f16 NaNs come back
         * quiet (F16C and FCVT quieten), bf16 is a plain shift. */
        const uint32_t want =
            ((uint32_t)(i & 0x8000) << 16) | 0x7f800000 |
            ((uint32_t)(i & ((1u << mbits) - 1)) << (23 - mbits)) |
            (bf ? 0 : 0x400000);
        cr_assert_eq(fb, want, "%s %04x: %08x, want %08x", row->name, i, fb,
                     want);
        cr_assert_eq(back[i], (uint16_t)(i | quiet), "%s %04x back: %04x",
                     dn->name, i, back[i]);
      } else {
        cr_assert(f[i] == v && !signbit(f[i]) == !signbit(v),
                  "%s %04x: %.9g, want %.9g", row->name, i, f[i], v);
        cr_assert_eq(back[i], (uint16_t)i, "%s %04x back: %04x", dn->name, i,
                     back[i]);
      }
    }
    for (size_t i = 65536; i < 65536 + CANARY; i++) {
      cr_assert(f[i] == FCANARY, "%s wrote past n", row->name);
      cr_assert(back[i] == 0xbeef, "%s wrote past n", dn->name);
    }
  }
  free(f);
  free(back);
  free(h);
}

Test(kernels_reduce, cvt_f16_exhaustive) { cvt_exhaustive(0); }
Test(kernels_reduce, cvt_bf16_exhaustive) { cvt_exhaustive(1); }

/* f32 edge values: halfway cases of both formats, the f16 maximum and the
 * overflow threshold, f16 subnormals and their halfway points, f32
 * subnormals, NaNs whose payload would truncate to infinity, signed zeros. */
static const uint32_t EDGES[] = {
    0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
    0x7f800001, 0xff800001, 0x7fa00000, 0x7f801fff, 0x7f802000, 0x7fbfffff,
    0x7f80ffff, 0x7f810000, 0x00000001, 0x80000001, 0x007fffff, 0x00400000,
    0x00008000, 0x00018000, 0x00017fff, 0x00008001, 0x3f800000, 0x3f801000,
    0x3f803000, 0x3f801001, 0x3f802fff, 0x3f808000, 0x3f818000, 0x3f808001,
    0x3f80ffff, 0x477fe000, 0x477fefff, 0x477ff000, 0x477ff001, 0x47800000,
    0xc77ff000, 0xc77fefff, 0x7f7fffff, 0xff7fffff, 0x7f7f8000, 0x7f7f7fff,
    0x38800000, 0x387fffff, 0x387fe000, 0x387ff000, 0x33000000, 0x33000001,
    0x32ffffff, 0x33800000, 0x33c00000, 0x34000000, 0x34200000, 0x34400000,
    0xb3000001, 0x337fffff, 0x3e2aaaab, 0xbe2aaaab, 0x4b800001, 0x7f000000};
#define NEDGES (sizeof EDGES / sizeof EDGES[0])

/* Converts x (n f32) with every down row of op; each must match the GENERIC
 * row bit for bit, and that must match the float64 model. */
static void cvt_down_check(enum cmx_cvt_op op, size_t n, const float *x) {
  const int bf = op == CMX_CVT_F32_BF16;
  const int mbits = bf ? 7 : 10, ebits = bf ? 8 : 5;
  uint16_t *want = malloc(n * sizeof *want), *got = malloc((n + CANARY) * 2);
  cref(op)->fn(n, x, want);
  for (size_t i = 0; i < n; i++) {
    const uint32_t u = fbits(x[i]);
    uint16_t m;
    if (x[i] != x[i])
      m = (uint16_t)(((u >> 16) & 0x8000) |
                     (bf ? ((u >> 16) | 0x40)
                         : (0x7e00 | ((u >> 13) & 0x3ff))));
    else
      m = encode16(x[i], mbits, ebits);
    cr_assert_eq(want[i], m, "%s %08x: %04x, float64 model %04x",
                 cref(op)->name, u, want[i], m);
  }
  for (size_t r = 0; r < sizeof CROWS / sizeof CROWS[0]; r++) {
    const struct crow *row = &CROWS[r];
    if (row->op != op || row->isa == CMX_ISA_GENERIC) continue;
    if (!runs(row->isa, row->name)) continue;
    for (size_t i = 0; i < n + CANARY; i++) got[i] = 0xbeef;
    row->fn(n, x, got);
    for (size_t i = 0; i < n; i++)
      cr_assert_eq(got[i], want[i], "%s n=%zu %08x: %04x, ref %04x", row->name,
                   n, fbits(x[i]), got[i], want[i]);
    for (size_t i = n; i < n + CANARY; i++)
      cr_assert_eq(got[i], 0xbeef, "%s wrote past n=%zu", row->name, n);
  }
  free(got);
  free(want);
}

Test(kernels_reduce, cvt_f32_down) {
  const size_t nrand = 1u << 20;
  float *x = input(nrand);
  for (size_t k = 0; k < 2; k++) {
    const enum cmx_cvt_op op = k ? CMX_CVT_F32_BF16 : CMX_CVT_F32_F16;
    /* Edges, each list rotated so every value meets every tail position. */
    for (size_t s = 0; s < NSIZES && SIZES[s] <= 4099; s++) {
      const size_t n = SIZES[s];
      float *e = input(n);
      for (size_t i = 0; i < n; i++) e[i] = bitsf(EDGES[(i + s) % NEDGES]);
      cvt_down_check(op, n, e);
      release(e);
    }
    /* Random bit patterns, and random values in the f16 range with extra
     * low bits near the halfway point. */
    for (size_t i = 0; i < nrand; i++) {
      uint32_t u = rnd32() ^ (rnd32() << 16);
      if (i & 1) u = (u & 0x807fffff) | ((uint32_t)(96 + rnd32() % 48) << 23);
      if ((i & 7) == 3) u = (u & ~0x1fffu) | 0x1000 | (rnd32() & 1);
      if ((i & 7) == 5) u = (u & ~0xffffu) | 0x8000 | (rnd32() & 1);
      x[i] = bitsf(u);
    }
    cvt_down_check(op, nrand, x);
  }
  release(x);
}

/* Up conversions at every size (tails), against the GENERIC row. */
Test(kernels_reduce, cvt_up_sizes) {
  for (size_t s = 0; s < NSIZES; s++) {
    const size_t n = SIZES[s];
    uint16_t *h = malloc(n * sizeof *h);
    float *want = malloc(n * sizeof *want), *got = malloc((n + CANARY) * 4);
    for (size_t i = 0; i < n; i++) h[i] = (uint16_t)rnd32();
    for (size_t r = 0; r < sizeof CROWS / sizeof CROWS[0]; r++) {
      const struct crow *row = &CROWS[r];
      if (row->op != CMX_CVT_F16_F32 && row->op != CMX_CVT_BF16_F32) continue;
      if (!runs(row->isa, row->name)) continue;
      cref(row->op)->fn(n, h, want);
      for (size_t i = 0; i < n + CANARY; i++) got[i] = FCANARY;
      row->fn(n, h, got);
      cr_assert(memcmp(got, want, n * 4) == 0, "%s n=%zu differs from ref row",
                row->name, n);
      for (size_t i = n; i < n + CANARY; i++)
        cr_assert(got[i] == FCANARY, "%s wrote past n=%zu", row->name, n);
    }
    free(got);
    free(want);
    free(h);
  }
}

/* f32 -> int32 / int8 / uint8 / int16 / uint32 (saturating, NaN 0) and
 * f32 -> bool (bits != 0 but the sign) rows against a model written here,
 * at every size (tails) with canaries: the integer boundaries 2^31 and
 * -2^31 and their neighbours, the narrow types' bounds,
 * infinities, NaNs, signed zeros, subnormals, fractions either side of
 * integers, then random bit patterns. */
static const uint32_t IEDGES[] = {
    0x4f000000, 0x4effffff, 0xcf000000, 0xcf000001, 0xceffffff, 0x7f800000,
    0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x00000000, 0x80000000,
    0x00000001, 0x80000001, 0x3f7fffff, 0xbf7fffff, 0x3f800000, 0xbf800000,
    0x3fc00000, 0xbfc00000, 0x4b7fffff, 0x4b800001, 0x7f7fffff, 0xff7fffff,
    0x4e800000, 0x5f000000, 0xdf000000, 0x3effffff, 0x40490fdb, 0xc0490fdb,
    /* the narrow types' bounds and either side of them */
    0x42ff0000, 0x43000000, 0xc3008000, 0xc3010000, 0x437fe666, 0x43800000,
    0x46ffff00, 0x47000000, 0xc7000080, 0xc7000100, 0x4f7fffff, 0x4f800000,
    0xbf000000, 0x477fff80};
#define NIEDGES (sizeof IEDGES / sizeof IEDGES[0])

/* The f32 -> integer ops and their ranges: truncate, saturate, NaN 0. */
static const struct {
  enum cmx_cvt_op op;
  size_t size;
  int is_signed;
  double lo, hi;
} ICVT[] = {
    {CMX_CVT_F32_I32, 4, 1, -2147483648.0, 2147483647.0},
    {CMX_CVT_F32_I8, 1, 1, -128.0, 127.0},
    {CMX_CVT_F32_U8, 1, 0, 0.0, 255.0},
    {CMX_CVT_F32_I16, 2, 1, -32768.0, 32767.0},
    {CMX_CVT_F32_U32, 4, 0, 0.0, 4294967295.0},
};
#define NICVT (sizeof ICVT / sizeof ICVT[0])

static double int_model(float v, double lo, double hi) {
  if (v != v) return 0.0;
  double t = trunc((double)v);
  return t < lo ? lo : t > hi ? hi : t;
}

/* Element i of an integer output of the given size and signedness. */
static double int_at(const void *q, size_t i, size_t size, int is_signed) {
  if (size == 1 && is_signed) return ((const int8_t *)q)[i];
  if (size == 1) return ((const uint8_t *)q)[i];
  if (size == 2 && is_signed) return ((const int16_t *)q)[i];
  if (size == 2) return ((const uint16_t *)q)[i];
  if (is_signed) return ((const int32_t *)q)[i];
  return ((const uint32_t *)q)[i];
}

static void cvt_int_check(size_t n, const float *x) {
  uint8_t *q = malloc((n + CANARY) * 4);
  int rows = 0;
  for (size_t r = 0; r < sizeof CROWS / sizeof CROWS[0]; r++) {
    const struct crow *row = &CROWS[r];
    size_t c = 0;
    while (c < NICVT && ICVT[c].op != row->op) c++;
    const int b = row->op == CMX_CVT_F32_BOOL;
    if ((c == NICVT && !b) || !runs(row->isa, row->name)) continue;
    rows++;
    const size_t sz = b ? 1 : ICVT[c].size;
    memset(q, 0xa5, (n + CANARY) * 4);
    row->fn(n, x, q);
    for (size_t i = 0; i < n; i++) {
      if (b) {
        cr_assert_eq(q[i], (fbits(x[i]) & 0x7fffffffu) != 0,
                     "%s n=%zu %08x: %u", row->name, n, fbits(x[i]), q[i]);
        continue;
      }
      const double got = int_at(q, i, sz, ICVT[c].is_signed),
                   want = int_model(x[i], ICVT[c].lo, ICVT[c].hi);
      cr_assert_eq(got, want, "%s n=%zu %08x (%a): %.0f, want %.0f",
                   row->name, n, fbits(x[i]), x[i], got, want);
    }
    for (size_t i = n * sz; i < (n + CANARY) * 4; i++)
      cr_assert_eq(q[i], 0xa5, "%s wrote past n=%zu", row->name, n);
  }
  cr_assert(rows >= 6, "%d f32 -> integer / bool rows ran", rows);
  free(q);
}

/* int8 / uint8 -> f32 rows: every byte value, exact, at every size with
 * canaries. */
Test(kernels_reduce, cvt_bytes_to_f32) {
  int rows = 0;
  for (size_t r = 0; r < sizeof CROWS / sizeof CROWS[0]; r++) {
    const struct crow *row = &CROWS[r];
    if ((row->op != CMX_CVT_I8_F32 && row->op != CMX_CVT_U8_F32) ||
        !runs(row->isa, row->name))
      continue;
    rows++;
    for (size_t k = 0; k < NSIZES; k++) {
      const size_t n = SIZES[k];
      uint8_t *b = malloc(n + 1);
      float *f = malloc((n + CANARY) * sizeof *f);
      for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(i * 37 + k);
      for (size_t i = 0; i < n + CANARY; i++) f[i] = FCANARY;
      row->fn(n, b, f);
      for (size_t i = 0; i < n; i++) {
        const float want = row->op == CMX_CVT_I8_F32 ? (float)(int8_t)b[i]
                                                     : (float)b[i];
        cr_assert_eq(f[i], want, "%s n=%zu [%zu] %u: %g, want %g", row->name,
                     n, i, b[i], f[i], want);
      }
      for (size_t i = n; i < n + CANARY; i++)
        cr_assert_eq(fbits(f[i]), fbits(FCANARY), "%s wrote past n=%zu",
                     row->name, n);
      free(f);
      free(b);
    }
  }
  cr_assert(rows >= 2, "%d byte -> f32 rows ran", rows);
}

/* f64 -> int32 rows against the model (truncate, saturate, NaN 0) at
 * every size with canaries: the int32 bounds and their neighbours in f64
 * (2^31 - 1 + 0.5, -2^31 - 0.5, -2^31 - 1), infinities, NaNs, signed
 * zeros, subnormals, fractions either side of integers, huge values, and
 * random bit patterns and random values in and past the range. */
Test(kernels_reduce, cvt_f64_to_int32) {
  static const double E[] = {
      2147483647.0, 2147483647.5, 2147483648.0, 2147483646.75,
      -2147483648.0, -2147483648.5, -2147483649.0, -2147483647.5,
      INFINITY, -INFINITY, NAN, -NAN, 0.0, -0.0, 4.9e-324, -4.9e-324,
      0.9999999999999999, -0.9999999999999999, 1.0, -1.0, 1.5, -1.5,
      1e300, -1e300, 4294967296.0, -4294967296.0, 0x1p52 + 0.5, 123456.789};
  const size_t ne = sizeof E / sizeof E[0];
  int rows = 0;
  for (size_t r = 0; r < sizeof CROWS / sizeof CROWS[0]; r++) {
    const struct crow *row = &CROWS[r];
    if (row->op != CMX_CVT_F64_I32 || !runs(row->isa, row->name)) continue;
    rows++;
    for (size_t k = 0; k < NSIZES; k++) {
      const size_t n = SIZES[k];
      double *x = malloc(n * sizeof *x);
      int32_t *q = malloc((n + CANARY) * sizeof *q);
      for (size_t i = 0; i < n; i++) {
        uint64_t u = (uint64_t)rnd32() << 32 | rnd32();
        memcpy(&x[i], &u, 8);
        if (i % 3 == 0) x[i] = E[(i / 3 + k) % ne];
        if (i % 3 == 1)
          x[i] = ((double)rnd32() - 2147483648.0) * 1.5 /
                 (double)(1u << (rnd32() % 31)) + (double)(rnd32() % 7) / 8;
      }
      for (size_t i = 0; i < n + CANARY; i++) q[i] = 0x5a5a5a5a;
      row->fn(n, x, q);
      for (size_t i = 0; i < n; i++) {
        const double v = x[i], t = trunc(v);
        const double want = v != v ? 0.0 : t < -2147483648.0 ? -2147483648.0
                            : t > 2147483647.0 ? 2147483647.0 : t;
        cr_assert_eq((double)q[i], want, "%s n=%zu [%zu] %a: %d, want %.0f",
                     row->name, n, i, v, q[i], want);
      }
      for (size_t i = n; i < n + CANARY; i++)
        cr_assert_eq(q[i], 0x5a5a5a5a, "%s wrote past n=%zu", row->name, n);
      free(q);
      free(x);
    }
  }
  cr_assert(rows >= 1, "%d f64 -> int32 rows ran", rows);
}

Test(kernels_reduce, cvt_f32_to_integers_and_bool) {
  for (size_t s = 0; s < NSIZES; s++) {
    const size_t n = SIZES[s];
    float *x = input(n);
    for (size_t i = 0; i < n; i++) {
      uint32_t u = rnd32() ^ (rnd32() << 16);
      if (i % 3 == 0) u = IEDGES[(i / 3 + s) % NIEDGES];
      if (i % 3 == 1) u = fbits(rnd(-3e9f, 3e9f) / (float)(1 << (rnd32() % 31)));
      x[i] = bitsf(u);
    }
    cvt_int_check(n, x);
    release(x);
  }
}
