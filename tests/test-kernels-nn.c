/* Every row of f32-softmax.inc, f32-norm.inc and f32-rope.inc that this CPU
 * runs, and of f32-dwconv.inc, against the GENERIC row (the 16-bit rows
 * of h16-norm.inc and h16-softmax.inc against their level's f32 row on
 * widened rows): odd and large sizes (both softmax paths:
 * rows cached between passes and the online one past 16384), inputs sized
 * exactly and one float off alignment (ASan sees any read past n),
 * canaries past each output, in-place calls, NULL weight/bias. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/dispatch.h"

static const size_t SIZES[] = {1, 2, 7, 16, 17, 33, 128, 1023, 4099, 20011,
                               100003};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])
#define CANARY 16
static const float FCANARY = -12345.5f;

struct row {
  enum cmx_isa_level isa;
  int op;
  const char *name;
  void (*fn)(void);
};
#define CMX_UKR(isa, op, name) {isa, op, #name, (void (*)(void))name},
static const struct row SROWS[] = {
#include "kernels/f32-softmax/f32-softmax.inc"
};
static const struct row NROWS[] = {
#include "kernels/f32-norm/f32-norm.inc"
};
static const struct row PROWS[] = {
#include "kernels/f32-rope/f32-rope.inc"
};
static const struct row HROWS[] = {
#include "kernels/f32-norm/h16-norm.inc"
};
static const struct row HSROWS[] = {
#include "kernels/f32-softmax/h16-softmax.inc"
};
#undef CMX_UKR
#define CMX_UKR(isa, name) {isa, 0, #name, (void (*)(void))name},
static const struct row FROWS[] = {
#include "kernels/f32-softmax/f32-softmax-fold.inc"
};
#undef CMX_UKR
#define CMX_UKR(isa, name) {isa, 0, #name, (void (*)(void))name},
static const struct row DROWS[] = {
#include "kernels/f32-dwconv/f32-dwconv.inc"
};
#undef CMX_UKR

static int runs(const struct row *r) {
  if (cmx_cpu_has(r->isa)) return 1;
  printf("kernels_nn: skipped %s (this CPU lacks its ISA)\n", r->name);
  return 0;
}
static const struct row *ref_of(const struct row *rows, size_t n, int op) {
  for (size_t i = 0; i < n; i++)
    if (rows[i].isa == CMX_ISA_GENERIC && rows[i].op == op) return &rows[i];
  cr_assert_fail("no GENERIC row for op %d", op);
  return NULL;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float rnd(float lo, float hi) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return lo + (hi - lo) * (float)(rng >> 40) * 0x1p-24f;
}
static float *input(size_t n) { /* n floats ending the allocation */
  float *b = malloc((n + 1) * sizeof *b);
  cr_assert_not_null(b);
  return b + 1;
}
static void release(float *x) { free(x - 1); }
static float *output(size_t n) {
  float *y = malloc((n + CANARY) * sizeof *y);
  cr_assert_not_null(y);
  for (size_t i = 0; i < n + CANARY; i++) y[i] = FCANARY;
  return y;
}
static void canaries(const float *y, size_t n, const char *name) {
  for (size_t i = n; i < n + CANARY; i++)
    cr_assert(y[i] == FCANARY, "%s n=%zu: wrote past n at %zu", name, n, i);
}
static int close_to(float got, float want, float rel, float abs_) {
  if (got == want) return 1;
  if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
  return fabsf(got - want) <= abs_ + rel * fabsf(want);
}

Test(kernels_nn, softmax_rows) {
  for (size_t r = 0; r < sizeof SROWS / sizeof SROWS[0]; r++) {
    const struct row *row = &SROWS[r];
    if (!runs(row)) continue;
    const struct row *ref = ref_of(SROWS, sizeof SROWS / sizeof SROWS[0], row->op);
    for (size_t s = 0; s < 2 * NSIZES; s++) {
      /* The second round spreads x - max over [-120, 0], past where exp
       * leaves the normal range (the SIMD rows flush it to 0 there), with
       * -inf entries in the tails too. */
      size_t n = SIZES[s % NSIZES];
      int wide = s >= NSIZES;
      float *x = input(n), *y = output(n), *g = output(n), *ip = input(n);
      for (size_t i = 0; i < n; i++)
        x[i] = wide ? (i % 11 == 3 ? -INFINITY : rnd(-120, 0))
                    : rnd(-20, 20 + (float)(i % 5));
      if (n > 9) /* a late max */
        x[n / 2] = -INFINITY, x[n - 1] = wide ? 0.0f : 25.0f;
      ((cmx_f32_softmax_ukr_fn)ref->fn)(n, x, g, NULL);
      ((cmx_f32_softmax_ukr_fn)row->fn)(n, x, y, x);
      memcpy(ip, x, n * sizeof *x);
      ((cmx_f32_softmax_ukr_fn)row->fn)(n, ip, ip, NULL);
      canaries(y, n, row->name);
      for (size_t i = 0; i < n; i++) {
        int ok = row->op == CMX_SOFTMAX_LOG || row->op == CMX_SOFTMAX_LOG_NT
                     ? close_to(y[i], g[i], 2e-6f, 2e-5f)
                                            : close_to(y[i], g[i], 2e-5f, 1e-37f);
        cr_assert(ok, "%s n=%zu%s [%zu] x=%a: %a, ref %a", row->name, n,
                  wide ? " wide" : "", i, x[i], y[i], g[i]);
        cr_assert(ip[i] == y[i] || (isnan(ip[i]) && isnan(y[i])),
                  "%s in place n=%zu [%zu]", row->name, n, i);
      }
      release(x), release(ip), free(y), free(g);
    }
  }
}

/* Three rows a call (one pair, one single) with gaps between rows of x
 * and of y: each row against the reference, the gaps untouched, and the
 * same bits as three one-row calls and as an in-place call. */
Test(kernels_nn, norm_rows) {
  enum { M = 3 };
  for (size_t r = 0; r < sizeof NROWS / sizeof NROWS[0]; r++) {
    const struct row *row = &NROWS[r];
    if (!runs(row)) continue;
    const struct row *ref = ref_of(NROWS, sizeof NROWS / sizeof NROWS[0], row->op);
    cmx_f32_norm_ukr_fn fr = (cmx_f32_norm_ukr_fn)ref->fn,
                        fn = (cmx_f32_norm_ukr_fn)row->fn;
    for (size_t s = 0; s < NSIZES; s++)
      for (int form = 0; form < 4; form++) {
        size_t n = SIZES[s], ldx = n + 5, ldy = n + 3, yn = (M - 1) * ldy + n;
        float *x = input(M * ldx), *w = input(n), *b = input(n),
              *y = output(yn), *g = output(yn), *y1 = output(yn),
              *ip = input(M * n);
        float off = form == 3 ? 1e4f : 0.0f; /* large common offset */
        for (size_t i = 0; i < M * ldx; i++) x[i] = off + rnd(-3, 3);
        for (size_t i = 0; i < n; i++) {
          w[i] = rnd(0.5f, 2);
          b[i] = rnd(-1, 1);
        }
        for (size_t k = 0; k < M; k++)
          memcpy(ip + k * n, x + k * ldx, n * sizeof *x);
        const float *wp = form & 1 ? w : NULL, *bp = form & 2 ? b : NULL;
        fr(M, n, x, ldx, g, ldy, wp, bp, 1e-5f);
        fn(M, n, x, ldx, y, ldy, wp, bp, 1e-5f);
        for (size_t k = 0; k < M; k++)
          fn(1, n, x + k * ldx, ldx, y1 + k * ldy, ldy, wp, bp, 1e-5f);
        fn(M, n, ip, n, ip, n, wp, bp, 1e-5f);
        canaries(y, yn, row->name);
        for (size_t k = 0; k < M; k++) {
          for (size_t i = 0; i < n; i++) {
            size_t j = k * ldy + i;
            cr_assert(close_to(y[j], g[j], 1e-5f, n == 1 ? 1e-2f : 4e-5f),
                      "%s n=%zu form %d row %zu [%zu]: %a, ref %a", row->name,
                      n, form, k, i, y[j], g[j]);
            cr_assert(y1[j] == y[j] && ip[k * n + i] == y[j],
                      "%s n=%zu form %d row %zu [%zu]: one-row call %a, in "
                      "place %a, %zu rows %a", row->name, n, form, k, i, y1[j],
                      ip[k * n + i], (size_t)M, y[j]);
          }
          for (size_t i = n; i < ldy && k + 1 < M; i++)
            cr_assert(y[k * ldy + i] == FCANARY, "%s n=%zu: wrote in the gap "
                      "after row %zu", row->name, n, k);
        }
        release(x), release(w), release(b), release(ip);
        free(y), free(g), free(y1);
      }
  }
}

/* Rows of y on vector boundaries (64-byte aligned y, ldy a multiple of
 * 16): the case where the _NT rows stream their stores. Five rows (two
 * pairs and a single) against the reference, the gaps between rows kept,
 * and the same bits as the plain kernel of the same op and level. */
Test(kernels_nn, norm_rows_aligned) {
  enum { M = 5 };
  static const size_t NS[] = {1, 15, 16, 17, 48, 1000, 4096};
  for (size_t r = 0; r < sizeof NROWS / sizeof NROWS[0]; r++) {
    const struct row *row = &NROWS[r];
    if (!runs(row)) continue;
    const struct row *ref = ref_of(NROWS, sizeof NROWS / sizeof NROWS[0], row->op);
    const struct row *plain = NULL; /* same level, op without streaming */
    int base = row->op == CMX_NORM_LAYER_NT ? CMX_NORM_LAYER
               : row->op == CMX_NORM_RMS_NT ? CMX_NORM_RMS : row->op;
    for (size_t q = 0; q < sizeof NROWS / sizeof NROWS[0]; q++)
      if (NROWS[q].isa == row->isa && NROWS[q].op == base) plain = &NROWS[q];
    cr_assert_not_null(plain, "%s: no plain row at its level", row->name);
    for (size_t s = 0; s < sizeof NS / sizeof NS[0]; s++) {
      size_t n = NS[s], ldy = (n + 31) / 16 * 16, yn = M * ldy;
      float *x = input(M * n), *w = input(n), *b = input(n);
      float *y = NULL, *g = NULL, *p = NULL;
      cr_assert_eq(posix_memalign((void **)&y, 64, yn * sizeof *y), 0);
      cr_assert_eq(posix_memalign((void **)&g, 64, yn * sizeof *g), 0);
      cr_assert_eq(posix_memalign((void **)&p, 64, yn * sizeof *p), 0);
      for (size_t i = 0; i < yn; i++) y[i] = g[i] = p[i] = FCANARY;
      for (size_t i = 0; i < M * n; i++) x[i] = rnd(-3, 3);
      for (size_t i = 0; i < n; i++) w[i] = rnd(0.5f, 2), b[i] = rnd(-1, 1);
      ((cmx_f32_norm_ukr_fn)ref->fn)(M, n, x, n, g, ldy, w, b, 1e-5f);
      ((cmx_f32_norm_ukr_fn)row->fn)(M, n, x, n, y, ldy, w, b, 1e-5f);
      ((cmx_f32_norm_ukr_fn)plain->fn)(M, n, x, n, p, ldy, w, b, 1e-5f);
      for (size_t k = 0; k < M; k++)
        for (size_t i = 0; i < ldy; i++) {
          size_t j = k * ldy + i;
          if (i >= n) {
            cr_assert(y[j] == FCANARY, "%s n=%zu: wrote in the gap after row "
                      "%zu", row->name, n, k);
            continue;
          }
          cr_assert(close_to(y[j], g[j], 1e-5f, n == 1 ? 1e-2f : 4e-5f),
                    "%s n=%zu row %zu [%zu]: %a, ref %a", row->name, n, k, i,
                    y[j], g[j]);
          cr_assert(y[j] == p[j], "%s n=%zu row %zu [%zu]: %a, plain %s %a",
                    row->name, n, k, i, y[j], plain->name, p[j]);
        }
      release(x), release(w), release(b), free(y), free(g), free(p);
    }
  }
}

/* The f32 row of op among rows at the level of a 16-bit row h (the
 * avx512bf16 level runs the avx512 f32 rows), which must exist; and the
 * reference conversions of h's type (bf: bf16, else f16). */
static const struct row *f32_row_of(const struct row *h, const struct row *rows,
                                    size_t n, int op) {
  const enum cmx_isa_level fl =
      h->isa == CMX_ISA_AVX512BF16 ? CMX_ISA_AVX512 : h->isa;
  for (size_t i = 0; i < n; i++)
    if (rows[i].isa == fl && rows[i].op == op) return &rows[i];
  cr_assert_fail("%s: no f32 row at its level", h->name);
  return NULL;
}
static void h16_cvt(int bf, cmx_cvt_ukr_fn *up, cmx_cvt_ukr_fn *down) {
  *up = bf ? cmx_bf16_f32_cvt_ukr__ref : cmx_f16_f32_cvt_ukr__ref;
  *down = bf ? cmx_f32_bf16_cvt_ukr__ref : cmx_f32_f16_cvt_ukr__ref;
}

/* A 16-bit norm row gives, bit for bit, what its level's f32 row gives on
 * the widened rows, rounded once to the 16-bit type (f32-norm.h): row
 * counts that leave a pair and a single row, odd lengths and tails, a row
 * stride past n, with and without weight and bias, canaries past every
 * row, values with a large common offset (layer_norm's shifted sums), and
 * results that are f32 subnormals. */
Test(kernels_nn, norm16_rows_match_widened_f32_rows) {
  static const size_t NS[] = {1, 7, 17, 64, 1023, 4097};
  static const size_t MS[] = {1, 2, 3, 5};
  int checked = 0;
  for (size_t hr = 0; hr < sizeof HROWS / sizeof HROWS[0]; hr++) {
    const struct row *h = &HROWS[hr];
    if (!runs(h)) continue;
    const int bf = h->op == CMX_NORM16_LAYER_BF16 || h->op == CMX_NORM16_RMS_BF16;
    const int rms = h->op == CMX_NORM16_RMS_BF16 || h->op == CMX_NORM16_RMS_F16;
    const struct row *f = f32_row_of(h, NROWS, sizeof NROWS / sizeof NROWS[0],
                                     rms ? CMX_NORM_RMS : CMX_NORM_LAYER);
    cmx_cvt_ukr_fn up, down;
    h16_cvt(bf, &up, &down);
    for (size_t ni = 0; ni < sizeof NS / sizeof NS[0]; ni++)
      for (size_t mi = 0; mi < sizeof MS / sizeof MS[0]; mi++)
        for (int wb = 0; wb < 4; wb++) {
          const size_t n = NS[ni], m = MS[mi], ldx = n + (wb == 1 ? 3 : 0);
          const float off = wb == 2 ? 300.0f : 0.0f;
          float *xf = malloc(m * ldx * sizeof *xf), *w = malloc(n * 4),
                *b = malloc(n * 4), *yf = malloc(m * n * 4);
          uint16_t *x = malloc(m * ldx * 2), *y = malloc((m * n + CANARY) * 2),
                   *want = malloc(m * n * 2);
          for (size_t i = 0; i < m * ldx; i++) xf[i] = off + rnd(-3, 3);
          /* wb 3: weights near FLT_MIN, so results are f32 subnormals
           * (which vcvtne2ps2bf16 would read as zero) */
          for (size_t i = 0; i < n; i++)
            w[i] = wb == 3 ? rnd(0.5f, 1.5f) * 1e-38f : rnd(0.5f, 1.5f),
            b[i] = wb == 3 ? 0.0f : rnd(-1, 1);
          down(m * ldx, xf, x);
          up(m * ldx, x, xf); /* the values the 16-bit row holds */
          const float *wp = wb ? w : NULL, *bp = wb ? b : NULL;
          ((cmx_f32_norm_ukr_fn)f->fn)(m, n, xf, ldx, yf, n, wp, bp, 1e-5f);
          down(m * n, yf, want);
          for (size_t i = 0; i < m * n + CANARY; i++) y[i] = 0xbeef;
          ((cmx_h16_norm_ukr_fn)h->fn)(m, n, x, ldx, y, n, wp, bp, 1e-5f);
          for (size_t i = 0; i < m * n; i++)
            cr_assert_eq(y[i], want[i],
                         "%s m=%zu n=%zu ldx=%zu w/b %d [%zu]: %04x, f32 row "
                         "%04x", h->name, m, n, ldx, wb, i, y[i], want[i]);
          for (size_t i = m * n; i < m * n + CANARY; i++)
            cr_assert_eq(y[i], 0xbeef, "%s wrote past the rows", h->name);
          free(xf), free(w), free(b), free(yf), free(x), free(y), free(want);
          checked++;
        }
  }
  if (!checked) printf("kernels_nn: no 16-bit norm rows run here\n");
}

/* A 16-bit softmax row gives, bit for bit, what its level's f32 _NT row
 * gives on the widened row, each result rounded once (f32-softmax.h):
 * lengths on both sides of the buffered rows' 4096 and of a vector, x
 * exactly n elements long (ASan sees a read past it), canaries past y,
 * in-place calls, a next-row hint, values whose results are f32
 * subnormals (which vcvtne2ps2bf16 would read as zero), and rows holding
 * -inf, NaN or +inf. */
Test(kernels_nn, softmax16_rows_match_widened_f32_rows) {
  static const size_t NS[] = {1, 7, 17, 64, 1023, 4096, 4097, 20011};
  int checked = 0;
  for (size_t hr = 0; hr < sizeof HSROWS / sizeof HSROWS[0]; hr++) {
    const struct row *h = &HSROWS[hr];
    if (!runs(h)) continue;
    const int bf = h->op == CMX_SOFTMAX16_EXP_BF16 ||
                   h->op == CMX_SOFTMAX16_LOG_BF16;
    const int log = h->op == CMX_SOFTMAX16_LOG_BF16 ||
                    h->op == CMX_SOFTMAX16_LOG_F16;
    const struct row *f =
        f32_row_of(h, SROWS, sizeof SROWS / sizeof SROWS[0],
                   log ? CMX_SOFTMAX_LOG_NT : CMX_SOFTMAX_EXP_NT);
    cmx_cvt_ukr_fn up, down;
    h16_cvt(bf, &up, &down);
    for (size_t ni = 0; ni < sizeof NS / sizeof NS[0]; ni++)
      for (int kind = 0; kind < 5; kind++) {
        /* kind 0: [-3, 3]; 1: [-90, 0] (subnormal and zero results); 2: a
         * -inf entry; 3: a NaN; 4: a +inf */
        const size_t n = NS[ni];
        float *xf = malloc(n * 4), *yf = malloc(n * 4);
        uint16_t *x = malloc(n * 2), *y = malloc((n + CANARY) * 2),
                 *want = malloc(n * 2), *xi = malloc(n * 2);
        for (size_t i = 0; i < n; i++)
          xf[i] = kind == 1 ? rnd(-90, 0) : rnd(-3, 3);
        if (kind >= 2)
          xf[n / 2] = kind == 2 ? -INFINITY : kind == 3 ? NAN : INFINITY;
        down(n, xf, x);
        up(n, x, xf); /* the values the 16-bit row holds */
        ((cmx_f32_softmax_ukr_fn)f->fn)(n, xf, yf, NULL);
        down(n, yf, want);
        for (size_t i = 0; i < n + CANARY; i++) y[i] = 0xbeef;
        ((cmx_h16_softmax_ukr_fn)h->fn)(n, x, y, x);
        for (size_t i = 0; i < n; i++) xi[i] = x[i];
        ((cmx_h16_softmax_ukr_fn)h->fn)(n, xi, xi, NULL);
        for (size_t i = 0; i < n; i++) {
          cr_assert_eq(y[i], want[i], "%s n=%zu kind %d [%zu]: %04x, f32 "
                       "row %04x", h->name, n, kind, i, y[i], want[i]);
          cr_assert_eq(xi[i], want[i], "%s n=%zu kind %d in place [%zu]: "
                       "%04x, f32 row %04x", h->name, n, kind, i, xi[i],
                       want[i]);
        }
        for (size_t i = n; i < n + CANARY; i++)
          cr_assert_eq(y[i], 0xbeef, "%s wrote past the row", h->name);
        free(xf), free(yf), free(x), free(y), free(want), free(xi);
        checked++;
      }
  }
  if (!checked) printf("kernels_nn: no 16-bit softmax rows run here\n");
}

/* The online-softmax fold of every level against float64 (f32-softmax.h):
 * the max exactly, the weights within 3 ulp of exp of the float s - M,
 * the sum and alpha within 1e-6; a running max below, inside and above
 * the block's, a first block (*m = -inf), -inf scores, an all -inf block
 * (zeroed, -1), a NaN (M and l NaN), lengths around every vector width. */
Test(kernels_nn, softmax_fold_against_float64) {
  static const size_t NS[] = {1, 3, 4, 7, 8, 15, 16, 17, 33, 100};
  int checked = 0;
  for (size_t fr = 0; fr < sizeof FROWS / sizeof FROWS[0]; fr++) {
    const struct row *row = &FROWS[fr];
    if (!runs(row)) continue;
    const cmx_f32_softmax_fold_ukr_fn fold =
        (cmx_f32_softmax_fold_ukr_fn)row->fn;
    for (size_t ni = 0; ni < sizeof NS / sizeof NS[0]; ni++)
      for (int kind = 0; kind < 6; kind++) {
        /* kind 0: first block; 1: running max below; 2: above every
         * score; 3: a -inf score; 4: all -inf; 5: a NaN */
        const size_t n = NS[ni];
        float s[100 + CANARY], s0[100];
        for (size_t i = 0; i < n; i++) s0[i] = s[i] = rnd(-4, 4);
        for (size_t i = n; i < n + CANARY; i++) s[i] = FCANARY;
        if (kind == 3) s0[n / 2] = s[n / 2] = -INFINITY;
        if (kind == 4)
          for (size_t i = 0; i < n; i++) s0[i] = s[i] = -INFINITY;
        if (kind == 5) s0[n - 1] = s[n - 1] = NAN;
        const float m0 = kind == 0 || kind == 4 ? -INFINITY
                         : kind == 2            ? 5.0f
                                                : -5.0f;
        const float l0 = kind == 0 || kind == 4 ? 0.0f : 3.0f;
        float m = m0, l = l0;
        const float a = fold(n, s, &m, &l);
        for (size_t i = n; i < n + CANARY; i++)
          cr_assert(s[i] == FCANARY, "%s n=%zu: wrote past n", row->name, n);
        if (kind == 4) {
          cr_assert(a == -1.0f && m == m0 && l == l0, "%s n=%zu all -inf: "
                    "%g (m %g l %g)", row->name, n, a, m, l);
          for (size_t i = 0; i < n; i++)
            cr_assert(s[i] == 0.0f, "%s all -inf: weight %zu %g", row->name,
                      i, s[i]);
          checked++;
          continue;
        }
        if (kind == 5) {
          cr_assert(isnan(m) && isnan(l), "%s n=%zu NaN: m %g l %g",
                    row->name, n, m, l);
          checked++;
          continue;
        }
        float M = m0;
        for (size_t i = 0; i < n; i++)
          if (s0[i] > M) M = s0[i];
        cr_assert(m == M, "%s n=%zu kind %d: max %a, want %a", row->name, n,
                  kind, m, M);
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) {
          const double w = exp((double)(s0[i] - M)); /* float s - M */
          sum += w;
          cr_assert(fabs(s[i] - w) <= 3 * 0x1p-23 * w + 1e-38,
                    "%s n=%zu kind %d [%zu]: %a, want %a", row->name, n, kind,
                    i, s[i], w);
        }
        const double alpha = m0 == -INFINITY ? 0.0 : exp((double)m0 - M);
        cr_assert(fabs(a - alpha) <= 1e-6 * alpha, "%s n=%zu kind %d: alpha "
                  "%g, want %g", row->name, n, kind, a, alpha);
        const double lw = l0 * alpha + sum;
        cr_assert(fabs(l - lw) <= 1e-6 * lw, "%s n=%zu kind %d: l %g, want "
                  "%g", row->name, n, kind, l, lw);
        checked++;
      }
  }
  cr_assert(checked > 0);
}

Test(kernels_nn, rope_rows) {
  for (size_t r = 0; r < sizeof PROWS / sizeof PROWS[0]; r++) {
    const struct row *row = &PROWS[r];
    if (!runs(row)) continue;
    const struct row *ref = ref_of(PROWS, sizeof PROWS / sizeof PROWS[0], row->op);
    static const size_t NS[] = {2, 8, 18, 64, 80, 128, 130, 256};
    for (size_t s = 0; s < sizeof NS / sizeof NS[0]; s++)
      for (size_t dims = 2; dims <= NS[s]; dims += dims < 40 ? 2 : 38) {
        size_t n = NS[s];
        /* y on a 64-byte boundary (the _NT rows stream) or one float
         * past it (they store plainly) */
        /* aligned_alloc wants a size that is a multiple of the alignment */
        float *yb = aligned_alloc(64, (n + CANARY + 16 + 15) / 16 * 64);
        cr_assert_not_null(yb);
        float *y = yb + (dims % 4 == 2);
        for (size_t i = 0; i < n + CANARY; i++) y[i] = FCANARY;
        float *x = input(n), *c = input(dims), *sn = input(dims),
              *g = output(n);
        for (size_t i = 0; i < n; i++) x[i] = rnd(-2, 2);
        for (size_t i = 0; i < dims; i++) {
          float a = rnd(-3.2f, 3.2f);
          c[i] = cosf(a), sn[i] = sinf(a);
        }
        ((cmx_f32_rope_ukr_fn)ref->fn)(n, dims, x, c, sn, g);
        ((cmx_f32_rope_ukr_fn)row->fn)(n, dims, x, c, sn, y);
        canaries(y, n, row->name);
        for (size_t i = 0; i < n; i++)
          cr_assert(close_to(y[i], g[i], 2e-7f, 1e-7f), "%s n=%zu dims=%zu "
                    "[%zu]: %a, ref %a", row->name, n, dims, i, y[i], g[i]);
        release(x), release(c), release(sn), free(yb), free(g);
      }
  }
}

/* Depthwise rows: channel counts around each vector width and unroll, 1 to
 * 25 taps, one pixel and five (their taps c and 2c apart: strides 1 and
 * 2), every tap row and the weights exactly sized (ASan sees a read past
 * the last pixel's c), canaries past y; within a few roundings of the sum
 * of |x w| (the ISA rows fuse each step). */
Test(kernels_nn, dwconv_rows) {
  static const size_t C[] = {1, 3, 8, 15, 16, 17, 33, 64, 100, 128, 131};
  static const size_t T[] = {1, 2, 9, 25};
  static const size_t P[][2] = {{1, 1}, {5, 1}, {5, 2}}; /* npix, stride */
  for (size_t r = 0; r < sizeof DROWS / sizeof DROWS[0]; r++) {
    const struct row *row = &DROWS[r];
    if (!runs(row)) continue;
    const struct row *ref = ref_of(DROWS, sizeof DROWS / sizeof DROWS[0], 0);
    for (size_t a = 0; a < sizeof C / sizeof C[0]; a++)
      for (size_t b = 0; b < sizeof T / sizeof T[0]; b++)
      for (size_t q = 0; q < sizeof P / sizeof P[0]; q++) {
        const size_t c = C[a], taps = T[b], np = P[q][0], xs = P[q][1] * c;
        const size_t len = (np - 1) * xs + c;
        float *xv[25], *w = input(taps * c), *y = output(np * c),
                       *g = output(np * c);
        for (size_t t = 0; t < taps; t++) {
          xv[t] = input(len);
          for (size_t i = 0; i < len; i++) xv[t][i] = rnd(-2, 2);
        }
        for (size_t i = 0; i < taps * c; i++) w[i] = rnd(-1, 1);
        ((cmx_f32_dwconv_ukr_fn)ref->fn)(c, taps, (const float *const *)xv,
                                         w, g, np, xs);
        ((cmx_f32_dwconv_ukr_fn)row->fn)(c, taps, (const float *const *)xv,
                                         w, y, np, xs);
        canaries(y, np * c, row->name);
        for (size_t p = 0; p < np; p++)
        for (size_t i = 0; i < c; i++) {
          double want = 0, mag = 0;
          for (size_t t = 0; t < taps; t++) {
            want += (double)xv[t][p * xs + i] * w[t * c + i];
            mag += fabs((double)xv[t][p * xs + i] * w[t * c + i]);
          }
          const float got = y[p * c + i];
          cr_assert(close_to(got, g[p * c + i], 0, (float)(mag * 1e-6)) &&
                        fabs(got - want) <= mag * 1e-6,
                    "%s c=%zu taps=%zu pixel %zu of %zu, xs %zu [%zu]: %a, "
                    "ref %a, f64 %a", row->name, c, taps, p, np, xs, i, got,
                    g[p * c + i], want);
        }
        for (size_t t = 0; t < taps; t++) release(xv[t]);
        release(w), free(y), free(g);
      }
  }
}
