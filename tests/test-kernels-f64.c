/* Every row of f64-vunary.inc this CPU can run: the GENERIC row's bits on
 * every level (one algorithm, explicit fmas), and within the ulp bounds of
 * kernels/f64-vunary/f64-vmath.h against long double libm, on random data
 * of each op's whole domain, odd sizes, specials in every lane, in place,
 * canaries past y[n], and a dense sweep (where the bounds come from). */
#define _GNU_SOURCE /* M_PIl */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/dispatch.h"
#include "test-util.h"

static const size_t SIZES[] = {0,  1,  3,  7,  8,    9,   15,
                               16, 17, 31, 33, 1023, 4099};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])
#define CANARY 8
static const double DCANARY = -7777.25;
#define SWEEP_N 300000

struct row {
  enum cmx_isa_level isa;
  enum cmx_vunary_op op;
  const char *name;
  cmx_f64_vunary_ukr_fn fn;
};
#define CMX_UKR(isa, op, name) {isa, op, #name, name},
static const struct row ROWS[] = {
#include "kernels/f64-vunary/f64-vunary.inc"
};
#undef CMX_UKR
#define NROWS (sizeof ROWS / sizeof ROWS[0])

static int same_bits(double a, double b) {
  return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

/* ---- long double references, bounds, domains ----------------------------- */
static long double sigl(long double x) {
  return x >= 0 ? 1 / (1 + expl(-x)) : expl(x) / (1 + expl(x));
}
static long double ref(enum cmx_vunary_op op, double xd) {
  long double x = xd;
  switch (op) {
    case CMX_VUNARY_EXP: return expl(x);
    case CMX_VUNARY_EXPM1: return expm1l(x);
    case CMX_VUNARY_LOG: return logl(x);
    case CMX_VUNARY_LOG1P: return log1pl(x);
    case CMX_VUNARY_SIN: return sinl(x);
    case CMX_VUNARY_COS: return cosl(x);
    case CMX_VUNARY_TANH: return tanhl(x);
    case CMX_VUNARY_SIGMOID: return sigl(x);
    case CMX_VUNARY_SILU: return isinf(xd) ? (x > 0 ? x : -0.0L) : x * sigl(x);
    case CMX_VUNARY_SOFTPLUS:
      return (x > 0 ? x : x == x ? 0 : x) + log1pl(expl(-fabsl(x)));
    case CMX_VUNARY_ERF: return erfl(x);
    case CMX_VUNARY_GELU:
      if (isinf(xd)) return x > 0 ? x : -0.0L;
      return 0.5L * x * erfcl(-x / sqrtl(2.0L));
    case CMX_VUNARY_GELU_TANH: {
      if (isinf(xd)) return x > 0 ? x : -0.0L;
      long double w = 2 * sqrtl(2 / M_PIl) * (x + 0.044715L * x * x * x);
      return x * sigl(w);
    }
    default: return NAN;
  }
}
/* The f64-vmath.h table's measured maxima plus a margin. */
static double bound(enum cmx_vunary_op op, double x) {
  (void)x;
  switch (op) {
    case CMX_VUNARY_EXP:
    case CMX_VUNARY_LOG:
    case CMX_VUNARY_LOG1P:
    case CMX_VUNARY_SIN:
    case CMX_VUNARY_COS: return 1;
    case CMX_VUNARY_EXPM1: return 1.5;
    case CMX_VUNARY_SOFTPLUS: return 2;
    case CMX_VUNARY_SIGMOID: return 2.5;
    case CMX_VUNARY_GELU_TANH: return 4;
    case CMX_VUNARY_ERF: return 2;
    case CMX_VUNARY_GELU: return 6.5;
    default: return 3; /* tanh, silu */
  }
}
/* Random data: half uniform on [lo, hi], half log-uniform in magnitude
 * down to the subnormals (signed where the domain spans 0). */
static void domain(enum cmx_vunary_op op, double *lo, double *hi) {
  switch (op) {
    case CMX_VUNARY_EXP: *lo = -760, *hi = 712; break;
    case CMX_VUNARY_EXPM1: *lo = -50, *hi = 712; break;
    case CMX_VUNARY_LOG: *lo = 0, *hi = DBL_MAX; break;
    case CMX_VUNARY_LOG1P: *lo = -1, *hi = 1e300; break;
    case CMX_VUNARY_SIN:
    case CMX_VUNARY_COS: *lo = -4e6, *hi = 4e6; break;
    case CMX_VUNARY_TANH: *lo = -25, *hi = 25; break;
    case CMX_VUNARY_GELU_TANH:
    case CMX_VUNARY_GELU: *lo = -40, *hi = 40; break;
    case CMX_VUNARY_ERF: *lo = -7, *hi = 7; break;
    default: *lo = -760, *hi = 760; break;
  }
}
static double rng_in(uint64_t *s, enum cmx_vunary_op op) {
  double lo, hi, x;
  domain(op, &lo, &hi);
  uint64_t k = tu_next(s) % 8;
  if (k < 4) {
    x = lo + (hi - lo) * tu_unif(s);
  } else if (k < 7 || op == CMX_VUNARY_GELU_TANH) {
    double m = fmax(fabs(lo), fabs(hi));
    x = ldexp(1 + tu_unif(s), (int)(-1074 + (log2(m) + 1073) * tu_unif(s)));
    if (lo < 0 && (hi <= 0 || (tu_next(s) & 1))) x = -x;
  } else if (op == CMX_VUNARY_SIN || op == CMX_VUNARY_COS) {
    /* near a multiple of pi/2: r cancels */
    x = nextafter((double)((int64_t)(tu_next(s) % 20001) - 10000) * M_PI_2,
                  tu_next(s) & 1 ? 1e9 : -1e9);
  } else { /* near 1 + x = 1 +- tiny, and log's 1 */
    x = (op == CMX_VUNARY_LOG ? 1.0 : 0.0) +
        ldexp(tu_unif(s) - 0.5, -(int)(tu_next(s) % 60));
  }
  return fmin(fmax(x, lo), hi);
}

/* |y - r| in ulps of the double at r (subnormal ulp below DBL_MIN). A
 * non-finite value on either side must match exactly. */
static double ulp_err(double y, long double r) {
  double rd = (double)r;
  if (isnan(r) || isnan(y)) return isnan(r) && isnan(y) ? 0 : INFINITY;
  if (isinf(rd) || isinf(y)) return y == rd ? 0 : INFINITY;
  int e;
  frexpl(fabsl(r), &e);
  if (e < -1021) e = -1021;
  return (double)(fabsl((long double)y - r) / ldexpl(1.0L, e - 53));
}

static const double SPECIALS[] = {0.0,
                                  -0.0,
                                  INFINITY,
                                  -INFINITY,
                                  NAN,
                                  0x1p-1074,
                                  -0x1p-1074,
                                  0x1p-1030,
                                  DBL_MIN,
                                  -DBL_MIN,
                                  DBL_MAX,
                                  -DBL_MAX,
                                  1.0,
                                  -1.0,
                                  0.5,
                                  -0.5,
                                  2.5,
                                  -2.5,
                                  708.0, /* the exp table's range */
                                  -708.0,
                                  0x1.6200000000001p+9,
                                  -0x1.6200000000001p+9,
                                  709.78,
                                  709.79,
                                  710.0,
                                  708.5,
                                  -708.4,
                                  -745.1,
                                  -745.2,
                                  -760.0,
                                  -40.0,
                                  -1.0 + 0x1p-53,
                                  0x1p-60,
                                  -0x1p-60,
                                  1e6,
                                  0x1p20,
                                  -0x1p20,
                                  0x1.000001p20,
                                  1e300,
                                  355.0,
                                  3.141592653589793,
                                  1.5707963267948966,
                                  19.1,
                                  -19.1,
                                  /* x (2/pi) + 1.5 * 2^52 near 0 or below:
                                   * the rounding shift leaves bits near
                                   * INT64_MIN in these (libm) sin / cos
                                   * lanes */
                                  -0x1.2d97c7f3321d2p+53,
                                  -0x1.2d97c7f3321d3p+53,
                                  -1e16,
                                  -3e16,
                                  /* erf's intervals (f64-vmath.h): 0.75, 4,
                                   * 6, 8, 27.5 and below; gelu's at z =
                                   * -x / sqrt(2) */
                                  0.75,
                                  -0x1.7ffffffffffffp-1,
                                  4.0,
                                  0x1.fffffffffffffp+1,
                                  6.0,
                                  -0x1.7ffffffffffffp+2,
                                  8.0,
                                  -8.0,
                                  27.5,
                                  -1.0606601717798212,
                                  -5.656854249492381,
                                  -8.48528137423857,
                                  -11.313708498984761,
                                  -38.890872965260115,
                                  -38.8908729652601};
#define NSPECIALS (sizeof SPECIALS / sizeof SPECIALS[0])

static const struct row *ref_row(enum cmx_vunary_op op) {
  for (size_t r = 0; r < NROWS; r++)
    if (ROWS[r].isa == CMX_ISA_GENERIC && ROWS[r].op == op) return &ROWS[r];
  return NULL;
}

/* y (row's) against g (the GENERIC row's): the same bits; and long double. */
static void check(const struct row *row, size_t n, const double *x,
                  const double *y, const double *g) {
  for (size_t i = 0; i < n; i++) {
    cr_assert(same_bits(y[i], g[i]), "%s n=%zu x[%zu]=%a: %a, GENERIC %a",
              row->name, n, i, x[i], y[i], g[i]);
    double e = ulp_err(y[i], ref(row->op, x[i]));
    cr_assert(e <= bound(row->op, x[i]),
              "%s x=%a: got %a want %La (%.2f ulp > %.1f)", row->name, x[i],
              y[i], ref(row->op, x[i]), e, bound(row->op, x[i]));
  }
}

Test(kernels, f64_vunary_rows) {
  size_t cap = 4099 + CANARY;
  double *x = malloc(cap * sizeof *x), *y = malloc(cap * sizeof *y);
  double *g = malloc(cap * sizeof *g), *xi = malloc(cap * sizeof *xi);
  int ran = 0;
  for (size_t r = 0; r < NROWS; r++) {
    const struct row *row = &ROWS[r];
    if (!cmx_cpu_has(row->isa)) {
      printf("kernels: skip %s (CPU lacks the ISA)\n", row->name);
      continue;
    }
    const struct row *gr = ref_row(row->op);
    cr_assert(gr != NULL, "no GENERIC row for %s", row->name);
    ran++;
    for (size_t s = 0; s < NSIZES; s++) {
      size_t n = SIZES[s];
      uint64_t seed = 777 + n * 31 + row->op;
      for (size_t i = 0; i < n; i++) x[i] = rng_in(&seed, row->op);
      for (size_t i = 2; i < n && n >= 8; i += 7) /* specials spread in */
        x[i] = SPECIALS[(i / 7 + n) % NSPECIALS];
      for (size_t i = n; i < n + CANARY; i++) y[i] = g[i] = DCANARY;
      gr->fn(n, x, g);
      row->fn(n, x, y);
      for (size_t i = n; i < n + CANARY; i++)
        cr_assert(same_bits(y[i], DCANARY), "%s n=%zu wrote y[%zu]", row->name,
                  n, i);
      check(row, n, x, y, g);
      memcpy(xi, x, n * sizeof *x); /* in place */
      row->fn(n, xi, xi);
      for (size_t i = 0; i < n; i++)
        cr_assert(same_bits(xi[i], y[i]), "%s in place n=%zu i=%zu", row->name,
                  n, i);
    }
    /* Every special in every lane position of a short run. */
    for (size_t k = 0; k < NSPECIALS; k++) {
      size_t n = 19;
      for (size_t i = 0; i < n; i++) x[i] = SPECIALS[(k + i) % NSPECIALS];
      gr->fn(n, x, g);
      row->fn(n, x, y);
      check(row, n, x, y, g);
    }
  }
  cr_assert(ran >= 13, "only %d f64-vunary rows ran", ran);
  free(x), free(y), free(g), free(xi);
}

/* Dense sweep: SWEEP_N points per op, each row's max ulp against long
 * double within the bound; prints the maxima (f64-vmath.h's table). */
Test(kernels, f64_vunary_sweep, .timeout = 300) {
  double *x = malloc(SWEEP_N * sizeof *x), *y = malloc(SWEEP_N * sizeof *y);
  long double *want = malloc(SWEEP_N * sizeof *want);
  for (int op = 0; op < CMX_VUNARY_COUNT; op++) {
    const struct row *gr = ref_row((enum cmx_vunary_op)op);
    if (!gr) continue;
    uint64_t seed = 4242 + op;
    for (size_t i = 0; i < SWEEP_N; i++) {
      x[i] = rng_in(&seed, (enum cmx_vunary_op)op);
      want[i] = ref((enum cmx_vunary_op)op, x[i]);
    }
    for (size_t r = 0; r < NROWS; r++) {
      const struct row *row = &ROWS[r];
      if (row->op != (enum cmx_vunary_op)op || !cmx_cpu_has(row->isa)) continue;
      row->fn(SWEEP_N, x, y);
      double worst = 0, at = 0; /* of e / bound */
      for (size_t i = 0; i < SWEEP_N; i++) {
        double e = ulp_err(y[i], want[i]) / bound(row->op, x[i]);
        if (e > worst) worst = e, at = x[i];
      }
      printf("sweep %-28s max %.3f ulp at %a\n", row->name,
             worst * bound(row->op, at), at);
      cr_assert(worst <= 1, "%s: %.3f ulp at x=%a (bound %.1f)", row->name,
                worst * bound(row->op, at), at, bound(row->op, at));
    }
  }
  free(x), free(y), free(want);
}

/* ---- the softmax rows (f64-softmax.inc) ---------------------------------
 * Each row this CPU has against a long double softmax / log_softmax of
 * random rows (odd lengths, a spread of about 60 in x so the smallest
 * terms are near 1e-26 of the largest) and the special rows of the
 * contract; in place gives the out-of-place bits. Levels sum in their
 * own lanes, so the bound is relative: x - M is rounded to its own ulp
 * before exp and S sums n terms, so softmax may be off by about |x - M| +
 * sqrt(n) + 2 ulp of the value (plus the subnormal floor), log_softmax by
 * 4 eps of |y| + 31 + sqrt(n). */
struct srow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f64_softmax_ukr_fn fn;
};
#define CMX_UKR(isa, name) {isa, #name, name},
static const struct srow SROWS[] = {
#include "kernels/f64-vunary/f64-softmax.inc"
};
#undef CMX_UKR

/* w: the softmax (log_softmax) of a finite row; returns its logsumexp,
 * the max in *mx */
static long double softmax_want(size_t n, const double *x, int lg,
                                long double *w, double *mx) {
  double m = -INFINITY;
  long double s = 0;
  for (size_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
  for (size_t i = 0; i < n; i++) s += expl((long double)x[i] - m);
  for (size_t i = 0; i < n; i++)
    w[i] = lg ? ((long double)x[i] - m) - logl(s)
              : expl((long double)x[i] - m) / s;
  *mx = m;
  return m + logl(s);
}

Test(kernels, f64_softmax_rows) {
  static const size_t NS[] = {1, 2, 3, 7, 8, 9, 17, 31, 1023, 4099};
  size_t cap = 4099 + CANARY;
  double *x = malloc(cap * sizeof *x), *y = malloc(cap * sizeof *y);
  double *xi = malloc(cap * sizeof *xi);
  long double *w = malloc(cap * sizeof *w);
  int ran = 0;
  for (size_t r = 0; r < sizeof SROWS / sizeof SROWS[0]; r++) {
    const struct srow *row = &SROWS[r];
    if (!cmx_cpu_has(row->isa)) {
      printf("kernels: skip %s (CPU lacks the ISA)\n", row->name);
      continue;
    }
    ran++;
    for (int lg = 0; lg < 2; lg++)
      for (size_t s = 0; s < sizeof NS / sizeof NS[0]; s++) {
        const size_t n = NS[s];
        uint64_t seed = 99 + n * 7 + (uint64_t)lg;
        for (size_t i = 0; i < n; i++) x[i] = 60.0 * tu_unif(&seed) - 30.0;
        if (n > 4) x[n / 2] = -INFINITY; /* an entry: 0, or -inf */
        for (size_t i = n; i < n + CANARY; i++) y[i] = DCANARY;
        const double lse = row->fn(n, x, y, lg);
        double m;
        const long double lw = softmax_want(n, x, lg, w, &m);
        /* the return: logsumexp, the same with y NULL (nothing stored) */
        cr_assert(fabsl(lse - lw) <= 4 * DBL_EPSILON * (fabs(m) + 1 + sqrtl(n)),
                  "%s n=%zu logsumexp %a want %La", row->name, n, lse, lw);
        cr_assert(same_bits(row->fn(n, x, NULL, lg), lse),
                  "%s n=%zu: y NULL changed the logsumexp", row->name, n);
        for (size_t i = 0; i < n; i++) {
          const long double e = fabsl((long double)y[i] - w[i]);
          const long double tol =
              lg ? 4 * DBL_EPSILON * (fabsl(w[i]) + 31 + sqrtl(n))
                 : 2 * DBL_EPSILON * fabsl(w[i]) * (m - x[i] + 2 + sqrtl(n)) +
                       DBL_MIN;
          if (isinf(x[i]))
            cr_assert(lg ? y[i] == -INFINITY : y[i] == 0, "%s -inf entry",
                      row->name);
          else
            cr_assert(e <= tol, "%s log=%d n=%zu [%zu]: %a want %La",
                      row->name, lg, n, i, y[i], w[i]);
        }
        for (size_t i = n; i < n + CANARY; i++)
          cr_assert(same_bits(y[i], DCANARY), "%s n=%zu wrote y[%zu]",
                    row->name, n, i);
        memcpy(xi, x, n * sizeof *x);
        row->fn(n, xi, xi, lg);
        for (size_t i = 0; i < n; i++)
          cr_assert(same_bits(xi[i], y[i]), "%s in place n=%zu [%zu]",
                    row->name, n, i);
      }
    /* NaN or +inf anywhere, or every entry -inf: NaN everywhere; the
     * logsumexp NaN, +inf, -inf (kind 3: +inf and NaN, NaN) */
    for (int lg = 0; lg < 2; lg++)
      for (int kind = 0; kind < 4; kind++)
        for (size_t n = 1; n <= 19; n += 6) {
          for (size_t i = 0; i < n; i++)
            x[i] = kind == 2 ? -INFINITY : (double)i - 3.0;
          if (kind != 2) x[n - 1 - n / 3] = kind == 1 ? INFINITY : NAN;
          if (kind == 3 && n == 1) continue; /* one entry: no room */
          if (kind == 3) x[0] = INFINITY;
          const double want = kind == 1 ? INFINITY : kind == 2 ? -INFINITY
                                                               : NAN;
          const double got = row->fn(n, x, y, lg);
          cr_assert(same_bits(got, want) || (isnan(got) && isnan(want)),
                    "%s kind %d n=%zu: logsumexp %a", row->name, kind, n, got);
          const double got0 = row->fn(n, x, NULL, lg);
          cr_assert(same_bits(got0, want) || (isnan(got0) && isnan(want)),
                    "%s kind %d n=%zu: logsumexp (y NULL) %a", row->name,
                    kind, n, got0);
          for (size_t i = 0; i < n; i++)
            cr_assert(isnan(y[i]), "%s log=%d kind %d n=%zu [%zu]: %a",
                      row->name, lg, kind, n, i, y[i]);
        }
  }
  cr_assert(ran >= 1, "no f64 softmax row ran");
  free(x), free(y), free(xi), free(w);
}
