/* Every row of f32-vunary.inc and f32-vbinary.inc this CPU can run, against
 * the GENERIC row and against float64 libm with the ulp bounds documented in
 * kernels/common/vmath.h: odd and large sizes, special values, in place,
 * canaries past y[n], all three stride forms, and a dense sweep of each
 * transcendental's domain (the sweep is where the vmath.h table comes from). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/dispatch.h"

static const size_t SIZES[] = {0, 1, 7, 8, 15, 16, 17, 31, 33, 1023, 4099};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])
#define CANARY 16
static const float FCANARY = -7777.25f;
#define SWEEP_N 1000000

struct urow {
  enum cmx_isa_level isa;
  enum cmx_vunary_op op;
  const char *name;
  cmx_f32_vunary_ukr_fn fn;
};
struct brow {
  enum cmx_isa_level isa;
  enum cmx_vbinary_op op;
  const char *name;
  cmx_f32_vbinary_ukr_fn fn;
};
#define CMX_UKR(isa, op, name) {isa, op, #name, name},
static const struct urow UROWS[] = {
#include "kernels/f32-vunary/f32-vunary.inc"
};
static const struct brow BROWS[] = {
#include "kernels/f32-vbinary/f32-vbinary.inc"
};
#undef CMX_UKR
#define NUROWS (sizeof UROWS / sizeof UROWS[0])
#define NBROWS (sizeof BROWS / sizeof BROWS[0])

/* ---- random, ulp -------------------------------------------------------- */
static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double rng_unif(uint64_t *s) {
  return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}
/* Half uniform in value, half log-uniform in magnitude (random sign when the
 * range spans 0): exercises tiny and large inputs alike. Never exactly 0. */
static float rng_in(uint64_t *s, double lo, double hi) {
  double x;
  if (rng_next(s) & 1) {
    x = lo + (hi - lo) * rng_unif(s);
  } else {
    double m = fmax(fabs(lo), fabs(hi));
    x = ldexp(1.0, (int)(-40 + (log2(m) + 40) * rng_unif(s))) * (1 + rng_unif(s));
    if (lo < 0 && (hi <= 0 || (rng_next(s) & 2))) x = -x;
    x = fmin(fmax(x, lo), hi);
  }
  float f = (float)x;
  return f == 0 ? (float)(lo + hi) * 0.5f + 1e-3f : f;
}

static int same_bits(float a, float b) {
  return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

/* |y - ref| in units of the float ulp at ref (denormal ulp below FLT_MIN).
 * Non-finite on either side must match exactly (inf is not "close"). */
static double ulp_err(float y, double ref) {
  float rf = (float)ref;
  if (isnan(ref) || isnan(y)) return isnan(ref) && isnan(y) ? 0 : INFINITY;
  if (isinf(rf) || isinf(y)) return y == rf ? 0 : INFINITY;
  int e;
  frexp(fabs(ref), &e);
  if (e < -125) e = -125;
  return fabs((double)y - ref) / ldexp(1.0, e - 24);
}

/* ---- unary float64 references and bounds -------------------------------- */
static double sig64(double x) {
  return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}
static double uref(enum cmx_vunary_op op, float xf) {
  double x = xf;
  switch (op) {
    case CMX_VUNARY_ABS: return fabs(x);
    case CMX_VUNARY_NEG: return -x;
    case CMX_VUNARY_SIGN: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case CMX_VUNARY_EXP: return exp(x);
    case CMX_VUNARY_EXPM1: return expm1(x);
    case CMX_VUNARY_LOG: return log(x);
    case CMX_VUNARY_LOG1P: return log1p(x);
    case CMX_VUNARY_SQRT: return sqrt(x);
    case CMX_VUNARY_RSQRT: return 1 / sqrt(x);
    case CMX_VUNARY_SQUARE: return x * x;
    case CMX_VUNARY_RECIPROCAL: return 1 / x;
    case CMX_VUNARY_SIN: return sin(x);
    case CMX_VUNARY_COS: return cos(x);
    case CMX_VUNARY_TANH: return tanh(x);
    case CMX_VUNARY_SIGMOID: return sig64(x);
    case CMX_VUNARY_ERF: return erf(x);
    case CMX_VUNARY_GELU: return isinf(x) ? (x > 0 ? x : -0.0) : 0.5 * x * erfc(-x / sqrt(2));
    case CMX_VUNARY_GELU_TANH: {
      if (isinf(x)) return x > 0 ? x : -0.0;
      double z = sqrt(2 / M_PI) * (x + 0.044715 * x * x * x);
      return x * sig64(2 * z);
    }
    case CMX_VUNARY_SILU: return isinf(x) ? (x > 0 ? x : -0.0) : x * sig64(x);
    case CMX_VUNARY_RELU: return x > 0 ? x : x <= 0 ? 0 : x;
    case CMX_VUNARY_FLOOR: return floor(x);
    case CMX_VUNARY_CEIL: return ceil(x);
    case CMX_VUNARY_ROUND: return nearbyint(x);
    case CMX_VUNARY_SOFTPLUS: return fmax(x, 0) + log1p(exp(-fabs(x)));
    default: return NAN;
  }
}
/* Max ulp vs float64 (the vmath.h table); 0 means correctly rounded. */
static double ubound(enum cmx_vunary_op op) {
  switch (op) {
    case CMX_VUNARY_EXP: return 1;
    case CMX_VUNARY_EXPM1: return 2;
    case CMX_VUNARY_LOG: return 1;
    case CMX_VUNARY_LOG1P: return 2;
    case CMX_VUNARY_RSQRT: return 1.5;
    case CMX_VUNARY_SIN: case CMX_VUNARY_COS: return 2;
    case CMX_VUNARY_TANH: return 3;
    case CMX_VUNARY_SIGMOID: return 3;
    case CMX_VUNARY_ERF: return 3;
    case CMX_VUNARY_GELU: return 5;
    case CMX_VUNARY_GELU_TANH: return 4;
    case CMX_VUNARY_SILU: return 3;
    case CMX_VUNARY_SOFTPLUS: return 3;
    default: return 0.5;
  }
}
/* Domain swept densely and where random data comes from. */
static void udomain(enum cmx_vunary_op op, double *lo, double *hi) {
  *lo = -100, *hi = 100;
  switch (op) {
    case CMX_VUNARY_EXP: *lo = -104, *hi = 89; break;
    case CMX_VUNARY_EXPM1: *lo = -30, *hi = 89; break;
    case CMX_VUNARY_LOG: case CMX_VUNARY_SQRT: case CMX_VUNARY_RSQRT:
      *lo = 1e-45, *hi = 3e38; break;
    case CMX_VUNARY_LOG1P: *lo = -1, *hi = 1e30; break;
    case CMX_VUNARY_SIN: case CMX_VUNARY_COS: *lo = -1e5, *hi = 1e5; break;
    case CMX_VUNARY_TANH: *lo = -20, *hi = 20; break;
    case CMX_VUNARY_SIGMOID: *lo = -110, *hi = 110; break;
    case CMX_VUNARY_ERF: *lo = -10, *hi = 10; break;
    case CMX_VUNARY_GELU: *lo = -20, *hi = 20; break;
    case CMX_VUNARY_GELU_TANH: *lo = -20, *hi = 20; break;
    default: break;
  }
}
static int utranscendental(enum cmx_vunary_op op) { return ubound(op) > 0.5; }

static const float SPECIALS[] = {
    0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f, -1e-45f, 3e-39f, -3e-39f,
    FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX, 1.0f, -1.0f, 0.5f, -0.5f, 2.5f,
    -2.5f, 88.72f, 88.73f, 89.0f, -87.5f, -103.5f, -104.5f, 1e5f, -1e5f,
    1.5e5f, 1e20f, -1e20f, 9.0f, -9.2f, 1e-7f, -1e-7f, 0.999999f, -0.999999f};
#define NSPECIALS (sizeof SPECIALS / sizeof SPECIALS[0])

static const struct urow *uref_row(enum cmx_vunary_op op) {
  for (size_t r = 0; r < NUROWS; r++)
    if (UROWS[r].isa == CMX_ISA_GENERIC && UROWS[r].op == op) return &UROWS[r];
  return NULL;
}

/* Max ulp between a row and the GENERIC row: 2 where both run the same
 * vmath.h algorithm (they differ only in fma contraction). gelu, gelu_tanh,
 * silu, sigmoid and tanh on AVX2 run the exp path for every lane while the
 * reference (and AVX-512, NEON) uses the vf_lut32 tables (vmath.h: AVX2 has
 * no 32-entry permute), so there the two may differ by both float64 bounds
 * together. */
static int u_lut_op(enum cmx_vunary_op op) {
  return op == CMX_VUNARY_GELU || op == CMX_VUNARY_GELU_TANH ||
         op == CMX_VUNARY_SILU || op == CMX_VUNARY_SIGMOID || op == CMX_VUNARY_TANH;
}
static double uref_gap(const struct urow *row) {
  if (u_lut_op(row->op) && row->isa == CMX_ISA_AVX2) return 2 * ubound(row->op);
  return 2;
}

/* Checks y (from row) against the GENERIC output g and float64. */
static void ucheck(const struct urow *row, size_t n, const float *x,
                   const float *y, const float *g) {
  double bound = ubound(row->op), gap = uref_gap(row);
  for (size_t i = 0; i < n; i++) {
    if (!utranscendental(row->op))
      cr_assert(same_bits(y[i], g[i]), "%s n=%zu x[%zu]=%a: %a, ref row %a",
                row->name, n, i, x[i], y[i], g[i]);
    else
      cr_assert(ulp_err(y[i], g[i]) <= gap, "%s n=%zu x[%zu]=%a: %a, ref row %a",
                row->name, n, i, x[i], y[i], g[i]);
    double e = ulp_err(y[i], uref(row->op, x[i]));
    cr_assert(e <= bound, "%s x=%a (%g): got %a want %a (%.2f ulp > %.1f)",
              row->name, x[i], x[i], y[i], uref(row->op, x[i]), e, bound);
  }
}

Test(kernels, f32_vunary_rows) {
  size_t cap = 4099 + CANARY;
  float *x = malloc(cap * sizeof *x), *y = malloc(cap * sizeof *y);
  float *g = malloc(cap * sizeof *g), *xi = malloc(cap * sizeof *xi);
  for (size_t r = 0; r < NUROWS; r++) {
    const struct urow *row = &UROWS[r];
    if (!cmx_cpu_has(row->isa)) {
      printf("kernels: skip %s (CPU lacks the ISA)\n", row->name);
      continue;
    }
    const struct urow *ref = uref_row(row->op);
    cr_assert(ref != NULL, "no GENERIC row for %s", row->name);
    double lo, hi;
    udomain(row->op, &lo, &hi);
    for (size_t s = 0; s < NSIZES; s++) {
      size_t n = SIZES[s];
      uint64_t seed = 1234 + n * 77 + row->op;
      for (size_t i = 0; i < n; i++) x[i] = rng_in(&seed, lo, hi);
      for (size_t i = 0; i < n && n >= 8; i += 5) /* specials spread in */
        x[i] = SPECIALS[(i / 5 + n) % NSPECIALS];
      for (size_t i = n; i < n + CANARY; i++) y[i] = g[i] = FCANARY;
      ref->fn(n, x, g);
      row->fn(n, x, y);
      for (size_t i = n; i < n + CANARY; i++)
        cr_assert(same_bits(y[i], FCANARY), "%s n=%zu wrote y[%zu]", row->name, n, i);
      ucheck(row, n, x, y, g);
      memcpy(xi, x, n * sizeof *x); /* in place */
      row->fn(n, xi, xi);
      for (size_t i = 0; i < n; i++)
        cr_assert(same_bits(xi[i], y[i]), "%s in place n=%zu i=%zu", row->name, n, i);
    }
    /* Every special value in every lane position of a short vector. */
    for (size_t k = 0; k < NSPECIALS; k++) {
      size_t n = 19;
      for (size_t i = 0; i < n; i++) x[i] = SPECIALS[(k + i) % NSPECIALS];
      ref->fn(n, x, g);
      row->fn(n, x, y);
      ucheck(row, n, x, y, g);
    }
  }
  free(x), free(y), free(g), free(xi);
}

/* Ordinary activations, x in [-5, 5] (with some exact zeros and -0): every
 * lane inside the vf_lut32 tables of gelu, gelu_tanh, silu and sigmoid, so
 * the table-only branch of the AVX-512 loops (CMX_VUNARY_DEFINE_SPLIT) runs;
 * on the wide domains above nearly every 64-float step holds a tail lane.
 * Then a tail lane in one vector of each step position only. */
Test(kernels, f32_vunary_rows_table_range) {
  size_t cap = 4099;
  float *x = malloc(cap * sizeof *x), *y = malloc(cap * sizeof *y);
  float *g = malloc(cap * sizeof *g);
  for (size_t r = 0; r < NUROWS; r++) {
    const struct urow *row = &UROWS[r];
    if (!utranscendental(row->op) || !cmx_cpu_has(row->isa)) continue;
    const struct urow *ref = uref_row(row->op);
    for (size_t s = 0; s < NSIZES; s++) {
      size_t n = SIZES[s];
      uint64_t seed = 4321 + n * 13 + row->op;
      for (size_t i = 0; i < n; i++) x[i] = rng_in(&seed, -5, 5);
      for (size_t i = 3; i < n; i += 101) x[i] = (i & 1) ? 0.0f : -0.0f;
      ref->fn(n, x, g);
      row->fn(n, x, y);
      ucheck(row, n, x, y, g);
      for (size_t k = 0; k + 64 <= n && k < 640; k += 64) {
        x[k + (k / 64) * 7 % 64] = -30.0f; /* one tail lane per step */
        ref->fn(n, x, g);
        row->fn(n, x, y);
        ucheck(row, n, x, y, g);
      }
    }
  }
  free(x), free(y), free(g);
}

/* Dense sweep: SWEEP_N points per transcendental, max ulp <= the bound. */
Test(kernels, f32_vunary_sweep, .timeout = 300) {
  float *x = malloc(SWEEP_N * sizeof *x), *y = malloc(SWEEP_N * sizeof *y);
  double *want = malloc(SWEEP_N * sizeof *want);
  for (int op = 0; op < CMX_VUNARY_COUNT; op++) {
    if (!utranscendental(op)) continue;
    double lo, hi;
    udomain(op, &lo, &hi);
    uint64_t seed = 99 + op;
    for (size_t i = 0; i < SWEEP_N; i++) {
      x[i] = rng_in(&seed, lo, hi);
      want[i] = uref(op, x[i]);
    }
    for (size_t r = 0; r < NUROWS; r++) {
      const struct urow *row = &UROWS[r];
      if (row->op != (enum cmx_vunary_op)op || !cmx_cpu_has(row->isa)) continue;
      row->fn(SWEEP_N, x, y);
      double worst = 0;
      size_t wi = 0;
      for (size_t i = 0; i < SWEEP_N; i++) {
        double e = ulp_err(y[i], want[i]);
        if (e > worst) worst = e, wi = i;
      }
      printf("kernels: sweep %-28s max %.3f ulp at x=%a\n", row->name, worst, x[wi]);
      cr_expect(worst <= ubound(op), "%s: %.3f ulp at x=%a (%a vs %a)", row->name,
                worst, x[wi], y[wi], want[wi]);
    }
  }
  free(x), free(y), free(want);
}

/* ---- binary -------------------------------------------------------------- */
static double bref(enum cmx_vbinary_op op, float af, float bf) {
  double a = af, b = bf;
  switch (op) {
    case CMX_VBINARY_ADD: return a + b;
    case CMX_VBINARY_SUB: return a - b;
    case CMX_VBINARY_MUL: return a * b;
    case CMX_VBINARY_DIV: return a / b;
    case CMX_VBINARY_MAX: return isnan(a) || isnan(b) ? NAN : a > b ? a : b;
    case CMX_VBINARY_MIN: return isnan(a) || isnan(b) ? NAN : a < b ? a : b;
    case CMX_VBINARY_POW: return pow(a, b);
    case CMX_VBINARY_REM: {
      if (isinf(b) && isfinite(a)) return a == 0 || (a < 0) == (b < 0) ? a : b;
      double m = fmod(a, b);
      if (m != 0 && ((b < 0) != (m < 0))) m += b;
      return m == 0 ? copysign(0, b) : m;
    }
    case CMX_VBINARY_FLOORDIV: return floor((float)(a / b));
    case CMX_VBINARY_EQ: return a == b;
    case CMX_VBINARY_NE: return a != b;
    case CMX_VBINARY_LT: return a < b;
    case CMX_VBINARY_LE: return a <= b;
    case CMX_VBINARY_GT: return a > b;
    case CMX_VBINARY_GE: return a >= b;
    case CMX_VBINARY_SILU_MUL:
      return isinf(a) ? (a > 0 ? a * b : -0.0 * b) : a * sig64(a) * b;
    default: return NAN;
  }
}
static double bbound(enum cmx_vbinary_op op) {
  return op == CMX_VBINARY_POW ? 5 : op == CMX_VBINARY_REM ? 1
         : op == CMX_VBINARY_SILU_MUL ? 4 : 0.5;
}
static void bdata(enum cmx_vbinary_op op, uint64_t *s, float *a, float *b) {
  if (op == CMX_VBINARY_POW) {
    *a = rng_in(s, 1e-3, 1e4);
    *b = rng_in(s, -8, 8);
    if (rng_next(s) % 4 == 0) *a = -*a, *b = roundf(*b); /* negative base */
  } else if (op == CMX_VBINARY_REM || op == CMX_VBINARY_FLOORDIV) {
    *a = rng_in(s, -100, 100);
    *b = rng_in(s, 0.1, 10) * ((rng_next(s) & 1) ? 1 : -1);
  } else {
    *a = rng_in(s, -100, 100);
    *b = (rng_next(s) % 3 == 0) ? *a : rng_in(s, -100, 100); /* ties */
  }
}
static const float BSPECIALS[] = {0.0f, -0.0f, 1.0f, -1.0f, 2.0f, -2.0f,
                                  0.5f, -3.0f, 2.5f, INFINITY, -INFINITY,
                                  NAN, 1e-40f, 1e30f};
#define NBSPECIALS (sizeof BSPECIALS / sizeof BSPECIALS[0])

static const struct brow *bref_row(enum cmx_vbinary_op op) {
  for (size_t r = 0; r < NBROWS; r++)
    if (BROWS[r].isa == CMX_ISA_GENERIC && BROWS[r].op == op) return &BROWS[r];
  return NULL;
}

static void bcheck(const struct brow *row, size_t n, const float *a, size_t sa,
                   const float *b, size_t sb, const float *y, const float *g) {
  for (size_t i = 0; i < n; i++) {
    float ai = a[i * sa], bi = b[i * sb];
    /* silu_mul on AVX2 runs vm_silu's exp path, the reference its table
     * (uref_gap): both float64 bounds apart at most. */
    double gap = row->op == CMX_VBINARY_SILU_MUL && row->isa == CMX_ISA_AVX2
                     ? 2 * bbound(row->op) : 2;
    if (row->op == CMX_VBINARY_POW || row->op == CMX_VBINARY_SILU_MUL)
      cr_assert(ulp_err(y[i], g[i]) <= gap, "%s(%a, %a): %a, ref row %a", row->name,
                ai, bi, y[i], g[i]);
    else
      cr_assert(same_bits(y[i], g[i]), "%s(%a, %a): %a, ref row %a", row->name,
                ai, bi, y[i], g[i]);
    /* remainder and floor_divide go through fl(a/b): where it overflows or
     * exceeds 2^23 only the GENERIC comparison above applies. */
    if ((row->op == CMX_VBINARY_REM || row->op == CMX_VBINARY_FLOORDIV) &&
        !(fabsf(ai / bi) < 0x1p23f) && !isnan(ai / bi) && isfinite(bi))
      continue;
    double want = bref(row->op, ai, bi), e = ulp_err(y[i], want);
    /* silu_mul rounds silu(a) into the denormals before the product. */
    if (row->op == CMX_VBINARY_SILU_MUL && fabs(want) < 0x1p-126 * fabs(bi))
      e = fabs(y[i] - want) / (0x1p-149 * fmax(1, fabs(bi)));
    if (row->op == CMX_VBINARY_REM && e > 0) /* fl(a/b) may cross an integer */
      e = fabs(y[i] - want) / ldexp(fabs(bi), -23);
    cr_assert(e <= bbound(row->op), "%s(%a, %a) sa=%zu sb=%zu: got %a want %a",
              row->name, ai, bi, sa, sb, y[i], want);
  }
}

Test(kernels, f32_vbinary_rows) {
  size_t cap = 4099 + CANARY;
  float *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
  float *y = malloc(cap * sizeof *y), *g = malloc(cap * sizeof *g);
  float *t = malloc(cap * sizeof *t);
  for (size_t r = 0; r < NBROWS; r++) {
    const struct brow *row = &BROWS[r];
    if (!cmx_cpu_has(row->isa)) {
      printf("kernels: skip %s (CPU lacks the ISA)\n", row->name);
      continue;
    }
    const struct brow *ref = bref_row(row->op);
    cr_assert(ref != NULL, "no GENERIC row for %s", row->name);
    for (size_t s = 0; s < NSIZES; s++) {
      size_t n = SIZES[s];
      uint64_t seed = 555 + n * 13 + row->op;
      for (size_t i = 0; i < n + 1; i++) bdata(row->op, &seed, &a[i], &b[i]);
      for (int form = 0; form < 4; form++) {
        size_t sa = form & 1 ? 0 : 1, sb = form & 2 ? 0 : 1;
        for (size_t i = n; i < n + CANARY; i++) y[i] = g[i] = FCANARY;
        ref->fn(n, a, sa, b, sb, g);
        row->fn(n, a, sa, b, sb, y);
        for (size_t i = n; i < n + CANARY; i++)
          cr_assert(same_bits(y[i], FCANARY), "%s n=%zu wrote y[%zu]", row->name, n, i);
        bcheck(row, n, a, sa, b, sb, y, g);
        if (sa) { /* in place over a */
          for (size_t i = 0; i < n; i++) t[i] = a[i];
          row->fn(n, t, 1, b, sb, t);
          for (size_t i = 0; i < n; i++)
            cr_assert(same_bits(t[i], y[i]), "%s in place n=%zu", row->name, n);
        }
      }
    }
    /* Every pair of special values, as vv over a 196-element vector. */
    size_t n = 0;
    for (size_t i = 0; i < NBSPECIALS; i++)
      for (size_t j = 0; j < NBSPECIALS; j++, n++)
        a[n] = BSPECIALS[i], b[n] = BSPECIALS[j];
    ref->fn(n, a, 1, b, 1, g);
    row->fn(n, a, 1, b, 1, y);
    bcheck(row, n, a, 1, b, 1, y, g);
  }
  free(a), free(b), free(y), free(g), free(t);
}

/* silu_mul with every a lane inside the silu table (a in [-5, 5], some
 * zeros), so the table-only branch of the AVX-512 loops
 * (CMX_VBINARY_DEFINE_SPLIT) runs in every stride form; then a tail lane
 * (a = -30) in one vector of each step position only. */
Test(kernels, f32_vsilu_mul_rows_table_range) {
  size_t cap = 4099;
  float *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
  float *y = malloc(cap * sizeof *y), *g = malloc(cap * sizeof *g);
  for (size_t r = 0; r < NBROWS; r++) {
    const struct brow *row = &BROWS[r];
    if (row->op != CMX_VBINARY_SILU_MUL || !cmx_cpu_has(row->isa)) continue;
    const struct brow *ref = bref_row(row->op);
    for (size_t s = 0; s < NSIZES; s++) {
      size_t n = SIZES[s];
      uint64_t seed = 2468 + n * 13;
      for (size_t i = 0; i < n; i++) {
        a[i] = rng_in(&seed, -5, 5);
        b[i] = rng_in(&seed, -100, 100);
      }
      for (size_t i = 3; i < n; i += 101) a[i] = (i & 1) ? 0.0f : -0.0f;
      for (size_t k = 0; k <= 640; k += 64) {
        if (k > 0 && k + 64 > n) break;
        if (k > 0) a[k - 64 + (k / 64) * 7 % 64] = -30.0f; /* one per step */
        for (int form = 0; form < 4; form++) {
          size_t sa = form & 1 ? 0 : 1, sb = form & 2 ? 0 : 1;
          ref->fn(n, a, sa, b, sb, g);
          row->fn(n, a, sa, b, sb, y);
          bcheck(row, n, a, sa, b, sb, y, g);
        }
      }
    }
  }
  free(a), free(b), free(y), free(g);
}

/* pow over a dense random set where |b log a| < 88 (no overflow). */
Test(kernels, f32_vpow_sweep, .timeout = 300) {
  float *a = malloc(SWEEP_N * sizeof *a), *b = malloc(SWEEP_N * sizeof *b);
  float *y = malloc(SWEEP_N * sizeof *y);
  uint64_t seed = 4242;
  for (size_t i = 0; i < SWEEP_N; i++) {
    a[i] = rng_in(&seed, 1e-30, 1e4);
    double lim = 87 / fmax(fabs(log(a[i])), 1e-3);
    b[i] = (float)((2 * rng_unif(&seed) - 1) * fmin(lim, 1e3));
  }
  for (size_t r = 0; r < NBROWS; r++) {
    const struct brow *row = &BROWS[r];
    if (row->op != CMX_VBINARY_POW || !cmx_cpu_has(row->isa)) continue;
    row->fn(SWEEP_N, a, 1, b, 1, y);
    double worst = 0;
    size_t wi = 0;
    for (size_t i = 0; i < SWEEP_N; i++) {
      double e = ulp_err(y[i], pow(a[i], b[i]));
      if (e > worst) worst = e, wi = i;
    }
    printf("kernels: sweep %-28s max %.3f ulp at (%a, %a)\n", row->name, worst,
           a[wi], b[wi]);
    cr_expect(worst <= bbound(CMX_VBINARY_POW), "%s: %.3f ulp", row->name, worst);
  }
  free(a), free(b), free(y);
}
