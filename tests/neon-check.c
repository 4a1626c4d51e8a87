/* Self-check of the NEON dispatch table against GENERIC, built by
 * `make test-neon` with aarch64-linux-gnu-gcc and run under qemu: every slot
 * of struct cmx_dispatch on random data, odd sizes and special values.
 * Prints PASS/FAIL per family and exits nonzero on any failure. Exact ops
 * must match bit for bit; transcendentals and sums within small tolerances
 * (fma contraction and summation order differ between the two levels). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arch/dispatch.h"

static const size_t SIZES[] = {1, 3, 4, 5, 17, 67};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])
#define NMAX 67
#define PAD 8
static int g_fail;

static uint64_t rng_state = 88172645463325252ull;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}
static const float SPECIAL[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-40f,
                                1.0f, -1.0f, 0.5f, 2.0f, 100.0f, -100.0f};
/* Mostly in [-4, 4], some specials, never all equal. */
static void fill(float *x, size_t n, int specials) {
  for (size_t i = 0; i < n; i++) {
    x[i] = ((float)(rng() % 100000) / 100000.0f - 0.5f) * 8.0f;
    if (specials && rng() % 7 == 0) x[i] = SPECIAL[rng() % 12];
  }
}
static int same(float a, float b) {
  return memcmp(&a, &b, 4) == 0 || (isnan(a) && isnan(b));
}
/* ulps between two floats of the same sign (inf only equals inf). */
static int close_ulp(float a, float b, uint32_t tol) {
  if (same(a, b)) return 1;
  if (isnan(a) || isnan(b) || isinf(a) || isinf(b)) return 0;
  int32_t ia, ib;
  memcpy(&ia, &a, 4), memcpy(&ib, &b, 4);
  if ((ia < 0) != (ib < 0)) return fabsf(a - b) < 1e-37f;
  return (uint32_t)(ia > ib ? ia - ib : ib - ia) <= tol;
}
static int close_rel(float a, float b, float rel) {
  return same(a, b) || fabsf(a - b) <= rel * fmaxf(1.0f, fabsf(b));
}
static void report(const char *family, int bad) {
  printf("neon-check: %-14s %s\n", family, bad ? "FAIL" : "PASS");
  g_fail |= bad;
}

static int is_exact_unary(int op) {
  switch (op) {
    case CMX_VUNARY_ABS: case CMX_VUNARY_NEG: case CMX_VUNARY_SIGN:
    case CMX_VUNARY_SQRT: case CMX_VUNARY_SQUARE: case CMX_VUNARY_RECIPROCAL:
    case CMX_VUNARY_RELU: case CMX_VUNARY_FLOOR: case CMX_VUNARY_CEIL:
    case CMX_VUNARY_ROUND: return 1;
    default: return 0;
  }
}

static void check_vunary(const struct cmx_dispatch *t, const struct cmx_dispatch *v) {
  float x[NMAX], yt[NMAX + PAD], yv[NMAX + PAD];
  int bad = 0;
  for (int op = 0; op < CMX_VUNARY_COUNT; op++)
    for (size_t s = 0; s < NSIZES; s++) {
      size_t n = SIZES[s];
      fill(x, n, 1);
      for (size_t i = 0; i < n + PAD; i++) yt[i] = yv[i] = -5.5f;
      t->f32_vunary[op](n, x, yt);
      v->f32_vunary[op](n, x, yv);
      for (size_t i = 0; i < n + PAD; i++) {
        int ok = is_exact_unary(op) || i >= n ? same(yv[i], yt[i])
                                              : close_ulp(yv[i], yt[i], 4);
        if (!ok && bad++ < 5)
          printf("  vunary op %d n=%zu i=%zu x=%a: neon %a generic %a\n", op,
                 n, i, i < n ? x[i] : 0.0f, yv[i], yt[i]);
      }
    }
  report("f32_vunary", bad);
}

/* f64 transcendentals: every level rounds the same operations, so the
 * NEON rows give GENERIC's bits (x in [-4, 4] as fill gives, scaled up to
 * +-2^22 for some lanes so sin and cos reach libm's rare lanes, specials). */
static void check_vunary64(const struct cmx_dispatch *t,
                           const struct cmx_dispatch *v) {
  float f[NMAX];
  double x[NMAX], yt[NMAX + PAD], yv[NMAX + PAD];
  int bad = 0, rows = 0;
  for (int op = 0; op < CMX_VUNARY_COUNT; op++) {
    if (!t->f64_vunary[op] || !v->f64_vunary[op]) {
      if (!t->f64_vunary[op] != !v->f64_vunary[op] && bad++ < 5)
        printf("  vunary64 op %d: a row on one level only\n", op);
      continue;
    }
    rows++;
    for (size_t s = 0; s < NSIZES; s++) {
      size_t n = SIZES[s];
      fill(f, n, 1);
      for (size_t i = 0; i < n; i++)
        x[i] = (double)f[i] * (rng() % 5 == 0 ? 0x1p20 : 1.0) * (1 + 0x1p-30);
      for (size_t i = 0; i < n + PAD; i++) yt[i] = yv[i] = -5.5;
      t->f64_vunary[op](n, x, yt);
      v->f64_vunary[op](n, x, yv);
      for (size_t i = 0; i < n + PAD; i++) {
        int ok = memcmp(&yt[i], &yv[i], 8) == 0 ||
                 (isnan(yt[i]) && isnan(yv[i]));
        if (!ok && bad++ < 5)
          printf("  vunary64 op %d n=%zu i=%zu x=%a: neon %a generic %a\n", op,
                 n, i, i < n ? x[i] : 0.0, yv[i], yt[i]);
      }
    }
  }
  if (rows < 13 && bad++ < 5) printf("  vunary64: only %d rows\n", rows);
  report("f64_vunary", bad);
}

/* The f64 softmax rows: NEON sums S in two lanes, GENERIC in one, so the
 * rows agree to a few ulp (x - M and exp are the same bits), not bit for
 * bit (NaN where the other is NaN: fill's specials); both must exist;
 * nothing past y[n] is written. */
static void check_softmax64(const struct cmx_dispatch *t,
                            const struct cmx_dispatch *v) {
  float f[NMAX];
  double x[NMAX], yt[NMAX + PAD], yv[NMAX + PAD];
  int bad = 0;
  if (!t->f64_softmax || !v->f64_softmax) {
    report("f64_softmax", 1);
    return;
  }
  for (int lg = 0; lg < 2; lg++)
    for (size_t s = 0; s < NSIZES; s++) {
      size_t n = SIZES[s];
      if (!n) continue;
      fill(f, n, 1);
      for (size_t i = 0; i < n; i++) x[i] = 8.0 * f[i];
      for (size_t i = 0; i < n + PAD; i++) yt[i] = yv[i] = -5.5;
      t->f64_softmax(n, x, yt, lg);
      v->f64_softmax(n, x, yv, lg);
      for (size_t i = 0; i < n + PAD; i++) {
        double tol = i < n ? 1e-14 * (fabs(yt[i]) + (lg ? 1.0 : 0.0)) : 0.0;
        if (yt[i] != yv[i] && !(fabs(yt[i] - yv[i]) <= tol) &&
            !(isnan(yt[i]) && isnan(yv[i])) && bad++ < 5)
          printf("  softmax64 log=%d n=%zu i=%zu: neon %a generic %a\n", lg,
                 n, i, yv[i], yt[i]);
      }
    }
  report("f64_softmax", bad);
}

static void check_vbinary(const struct cmx_dispatch *t, const struct cmx_dispatch *v) {
  float a[NMAX], b[NMAX], yt[NMAX + PAD], yv[NMAX + PAD];
  int bad = 0;
  for (int op = 0; op < CMX_VBINARY_COUNT; op++)
    for (size_t s = 0; s < NSIZES; s++)
      for (int form = 0; form < 3; form++) {
        size_t n = SIZES[s], sa = form != 2, sb = form != 1;
        fill(a, n, 1), fill(b, n, 1);
        for (size_t i = 0; i < n; i += 3) b[i] = a[i]; /* ties */
        for (size_t i = 0; i < n + PAD; i++) yt[i] = yv[i] = -5.5f;
        t->f32_vbinary[op](n, a, sa, b, sb, yt);
        v->f32_vbinary[op](n, a, sa, b, sb, yv);
        for (size_t i = 0; i < n + PAD; i++) {
          int ok = (op == CMX_VBINARY_POW || op == CMX_VBINARY_SILU_MUL) && i < n
                       ? close_ulp(yv[i], yt[i], 4)
                                                  : same(yv[i], yt[i]);
          if (!ok && bad++ < 5)
            printf("  vbinary op %d sa=%zu sb=%zu n=%zu i=%zu: neon %a generic %a\n",
                   op, sa, sb, n, i, yv[i], yt[i]);
        }
      }
  report("f32_vbinary", bad);
}

static void check_where(const struct cmx_dispatch *t, const struct cmx_dispatch *v) {
  float a[NMAX], b[NMAX], yt[NMAX + PAD], yv[NMAX + PAD];
  uint8_t c[NMAX];
  int bad = 0;
  for (size_t s = 0; s < NSIZES; s++)
    for (int form = 0; form < 8; form++) {
      size_t n = SIZES[s], sc = !(form & 1), sa = !(form & 2), sb = !(form & 4);
      fill(a, n, 1), fill(b, n, 1);
      for (size_t i = 0; i < n; i++) c[i] = (uint8_t)(rng() % 3 ? rng() : 0);
      for (size_t i = 0; i < n + PAD; i++) yt[i] = yv[i] = -5.5f;
      t->f32_where(n, c, sc, a, sa, b, sb, yt);
      v->f32_where(n, c, sc, a, sa, b, sb, yv);
      for (size_t i = 0; i < n + PAD; i++)
        if (!same(yv[i], yt[i]) && bad++ < 5)
          printf("  where form %d n=%zu i=%zu: neon %a generic %a\n", form, n,
                 i, yv[i], yt[i]);
    }
  report("f32_where", bad);
}

static void check_reduce(const struct cmx_dispatch *t, const struct cmx_dispatch *v) {
  float x[NMAX * 5], at[NMAX + PAD], av[NMAX + PAD];
  int bad = 0;
  for (size_t s = 0; s < NSIZES; s++) {
    size_t n = SIZES[s];
    for (int op = 0; op < CMX_ROP_COUNT; op++) {
      int sp = op == CMX_ROP_MAX || op == CMX_ROP_MIN; /* NaN must propagate */
      fill(x, n, sp);
      if (op == CMX_ROP_PROD)
        for (size_t i = 0; i < n; i++) x[i] = 0.75f + fabsf(x[i]) / 16;
      float rt = t->f32_rinner[op](n, x), rv = v->f32_rinner[op](n, x);
      if (!(sp ? same(rv, rt) : close_rel(rv, rt, 1e-5f)) && bad++ < 5)
        printf("  rinner op %d n=%zu: neon %a generic %a\n", op, n, rv, rt);
      size_t rows = 5, ld = n + 2;
      fill(x, rows * ld, sp);
      if (op == CMX_ROP_PROD)
        for (size_t i = 0; i < rows * ld; i++) x[i] = 0.75f + fabsf(x[i]) / 16;
      fill(at, n, 0);
      for (size_t i = 0; i < n; i++) av[i] = at[i];
      for (size_t i = n; i < n + PAD; i++) at[i] = av[i] = -5.5f;
      t->f32_router[op](rows, n, x, ld, at);
      v->f32_router[op](rows, n, x, ld, av);
      for (size_t i = 0; i < n + PAD; i++)
        if (!(sp || i >= n ? same(av[i], at[i]) : close_rel(av[i], at[i], 1e-5f)) &&
            bad++ < 5)
          printf("  router op %d n=%zu i=%zu: neon %a generic %a\n", op, n, i,
                 av[i], at[i]);
    }
    fill(x, n, 0);
    float c = 0.25f;
    float st, sv;
    float qt = t->f32_rsumsqdev(n, x, c, &st), qv = v->f32_rsumsqdev(n, x, c, &sv);
    if (!(close_rel(qv, qt, 1e-5f) && close_rel(sv, st, 1e-4f) &&
          close_rel(v->f32_rsumsqdev(n, x, c, NULL), qt, 1e-5f)) && bad++ < 5)
      printf("  rsumsqdev n=%zu: neon %a (sum %a) generic %a (sum %a)\n", n,
             qv, sv, qt, st);
    qt = t->f32_rsumexp(n, x, c), qv = v->f32_rsumexp(n, x, c);
    if (!close_rel(qv, qt, 1e-5f) && bad++ < 5)
      printf("  rsumexp n=%zu: neon %a generic %a\n", n, qv, qt);
    fill(x, n, 1);
    if (n > 4) x[n - 2] = x[1]; /* ties: first index must win */
    size_t it = t->f32_rargmax(n, x), iv = v->f32_rargmax(n, x);
    if (it != iv && bad++ < 5) printf("  rargmax n=%zu: neon %zu generic %zu\n", n, iv, it);
    it = t->f32_rargmin(n, x), iv = v->f32_rargmin(n, x);
    if (it != iv && bad++ < 5) printf("  rargmin n=%zu: neon %zu generic %zu\n", n, iv, it);
  }
  /* argmax/argmin over several 64-float blocks: ramps (a new extreme in
   * every block), and plain data without specials. */
  for (size_t n = 65; n <= NMAX * 5; n += 135)
    for (int kind = 0; kind < 3; kind++) {
      fill(x, n, 0);
      for (size_t i = 0; kind < 2 && i < n; i++)
        x[i] = kind ? 3.0f - 0.25f * (float)i : 0.25f * (float)i - 3.0f;
      size_t it = t->f32_rargmax(n, x), iv = v->f32_rargmax(n, x);
      if (it != iv && bad++ < 5)
        printf("  rargmax n=%zu kind %d: neon %zu generic %zu\n", n, kind,
               iv, it);
      it = t->f32_rargmin(n, x), iv = v->f32_rargmin(n, x);
      if (it != iv && bad++ < 5)
        printf("  rargmin n=%zu kind %d: neon %zu generic %zu\n", n, kind,
               iv, it);
    }
  report("f32_reduce", bad);
}

static void check_cvt(const struct cmx_dispatch *t, const struct cmx_dispatch *v) {
  /* 16-bit -> f32: every pattern once; f32 -> 16-bit: random bits plus
   * specials and values near rounding ties. */
  static uint16_t h[65536], ht[4096 + PAD], hv[4096 + PAD];
  static float f[65536], ft[65536], fv[65536];
  int bad = 0;
  for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
  for (int op = 0; op < CMX_CVT_COUNT; op++) {
    if (op == CMX_CVT_F64_I32) {
      /* FCVTZS to int64 and SQXTN: GENERIC's values exactly, on random
       * bits, the int32 bounds and their neighbours, and values in and
       * past the range */
      static const double EDGE[] = {2147483647.5, 2147483648.0, -2147483648.5,
                                    -2147483649.0, -0.0, 0.999, -0.999,
                                    1e300, -1e300, 4.9e-324};
      static double d[4096];
      static int32_t qt[4096 + PAD], qv[4096 + PAD];
      const size_t n = 4093;
      for (size_t i = 0; i < n; i++) {
        uint64_t u = (uint64_t)rng() << 40 ^ (uint64_t)rng() << 20 ^ rng();
        memcpy(&d[i], &u, 8);
        if (i % 5 == 0) d[i] = SPECIAL[i / 5 % 12];
        if (i % 5 == 1) d[i] = ((double)(rng() % 100000) - 50000.0) * 65536.5;
        if (i % 5 == 2) d[i] = EDGE[i / 5 % 10];
        if (i % 5 == 3) d[i] = (double)((int)(rng() % 600) - 300) / 2.0;
      }
      for (size_t i = 0; i < n + PAD; i++) qt[i] = qv[i] = -77;
      t->cvt[op](n, d, qt);
      v->cvt[op](n, d, qv);
      if (memcmp(qt, qv, sizeof qt) != 0 && bad++ < 5)
        printf("  cvt f64 -> int32: neon differs from generic\n");
      continue;
    }
    const size_t isz = op == CMX_CVT_F32_I32 || op == CMX_CVT_F32_U32 ? 4
                       : op == CMX_CVT_F32_I16                            ? 2
                       : op == CMX_CVT_F32_BOOL || op == CMX_CVT_F32_I8 ||
                               op == CMX_CVT_F32_U8
                           ? 1
                           : 0;
    if (isz) {
      /* to the integers (FCVTZS / FCVTZU and saturating narrowings) and
       * bool: GENERIC's values exactly, on random bits, specials, the
       * types' bounds and values in the int32 range */
      static const float EDGE[] = {2147483648.0f, -2147483648.0f,
                                   2147483520.0f, -2147483904.0f, -0.0f,
                                   0.999f, -0.999f, 1e-45f, 127.5f, -128.5f,
                                   255.9f, 256.0f, 32767.5f, -32769.0f,
                                   4294967040.0f, 4294967296.0f};
      static int32_t qt[4096 + PAD], qv[4096 + PAD];
      size_t n = 4093;
      for (size_t i = 0; i < n; i++) {
        uint32_t u = rng() << 8 ^ rng();
        memcpy(&f[i], &u, 4);
        if (i % 5 == 0) f[i] = SPECIAL[i / 5 % 12];
        if (i % 5 == 1) f[i] = ((float)(rng() % 100000) - 50000.0f) * 4096.0f;
        if (i % 5 == 2) f[i] = EDGE[i / 5 % 16];
        if (i % 5 == 3) f[i] = (float)((int)(rng() % 600) - 300) / 2.0f;
      }
      for (size_t i = 0; i < n + PAD; i++) qt[i] = qv[i] = -77;
      t->cvt[op](n, f, qt);
      v->cvt[op](n, f, qv);
      const size_t bytes = isz * n;
      if (memcmp(qt, qv, bytes + 4 * PAD) != 0 && bad++ < 5)
        printf("  cvt op %d: neon differs from generic\n", op);
      continue;
    }
    int to16 = op == CMX_CVT_F32_F16 || op == CMX_CVT_F32_BF16;
    if (!to16) {
      t->cvt[op](65536, h, ft);
      v->cvt[op](65536, h, fv);
      for (size_t i = 0; i < 65536; i++)
        if (!same(fv[i], ft[i]) && bad++ < 5)
          printf("  cvt op %d x=%04zx: neon %a generic %a\n", op, i, fv[i], ft[i]);
      continue;
    }
    size_t n = 4093;
    for (size_t i = 0; i < n; i++) {
      uint32_t u = rng() << 8 ^ rng();
      memcpy(&f[i], &u, 4);
      if (i % 5 == 0) f[i] = SPECIAL[i / 5 % 12];
      if (i % 5 == 1) f[i] = ((float)(rng() % 100000) - 50000.0f) / 1024.0f;
    }
    for (size_t i = n; i < n + PAD; i++) ht[i] = hv[i] = 0xabcd;
    t->cvt[op](n, f, ht);
    v->cvt[op](n, f, hv);
    for (size_t i = 0; i < n + PAD; i++) {
      int nan16 = i < n && isnan(f[i]); /* any quiet NaN pattern is fine */
      if (ht[i] != hv[i] && !(nan16 && (ht[i] & 0x7fff) > 0x7c00 &&
                              (hv[i] & 0x7fff) > 0x7c00) && bad++ < 5)
        printf("  cvt op %d x=%a: neon %04x generic %04x\n", op, i < n ? f[i] : 0.0f,
               hv[i], ht[i]);
    }
  }
  report("cvt", bad);
}

/* gemm: the NEON microkernel against the generic (reference) one on the
 * same packed panels, full and edge tiles, packed and unpacked B, unpacked
 * A on full tiles, beta 0 over NaN and beta 1.5. */
static void check_gemm(const struct cmx_dispatch *t, const struct cmx_dispatch *v) {
  const struct cmx_gemm_config *g = &v->gemm_f32;
  size_t mr = g->mr, nr = g->nr, ldc = nr + 3;
  static float a[16 * 67], b[(64 + 3) * 67], c0[18 * 67], c1[18 * 67];
  size_t ms[] = {1, mr - 1, mr}, ns[] = {1, nr - 1, nr}, ks[] = {0, 1, 2, 67};
  int bad = 0;
  for (int mi = 0; mi < 3; mi++)
    for (int ni = 0; ni < 3; ni++)
      for (int ki = 0; ki < 4; ki++)
        for (int q = 0; q < 8; q++) {
          size_t m = ms[mi], n = ns[ni], k = ks[ki];
          int unpacked = q & 1;
          if ((q & 4) && m != mr) continue; /* unpacked A: full tiles */
          float beta = q & 2 ? 1.5f : 0.0f;
          size_t ldb = unpacked ? nr + 3 : 0;
          fill(a, mr * 67, 0);
          fill(b, (nr + 3) * 67, 0);
          for (size_t i = 0; i < (mr + 2) * ldc; i++)
            c0[i] = beta == 0.0f ? NAN : (float)(i % 7) - 3.0f;
          memcpy(c1, c0, sizeof c0);
          /* q & 4: A unpacked, rows of 67 (aux.lda) */
          struct cmx_f32_gemm_aux aux = {0.75f, beta, ldb, mr, nr, NULL,
                                         q & 4 ? 67 : 0};
          t->gemm_f32.ukr(m, n, k, a, b, c0, ldc, &aux);
          g->ukr(m, n, k, a, b, c1, ldc, &aux);
          for (size_t i = 0; i < (mr + 2) * ldc; i++) {
            int in = i / ldc < m && i % ldc < n;
            int ok = in ? close_rel(c1[i], c0[i], 1e-4f) : same(c1[i], c0[i]);
            if (!ok && bad++ < 5)
              printf("  gemm m=%zu n=%zu k=%zu q=%d [%zu]: neon %a ref %a\n",
                     m, n, k, q, i, c1[i], c0[i]);
          }
        }
  report("gemm", bad);
}

/* f64 gemm: the NEON microkernel against the reference on the same packed
 * panels, full and edge tiles, beta 0 over NaN and beta 1.5. */
static void check_gemm_f64(const struct cmx_dispatch *t,
                           const struct cmx_dispatch *v) {
  const struct cmx_f64_gemm_config *g = &v->gemm_f64;
  size_t mr = g->mr, nr = g->nr, ldc = nr + 3;
  static double a[16 * 67], b[16 * 67], c0[18 * 19], c1[18 * 19];
  size_t ms[] = {1, mr - 1, mr}, ns[] = {1, nr - 1, nr}, ks[] = {0, 1, 2, 67};
  int bad = mr > 16 || nr > 16;
  for (int mi = 0; mi < 3 && !bad; mi++)
    for (int ni = 0; ni < 3; ni++)
      for (int ki = 0; ki < 4; ki++)
        for (int q = 0; q < 2; q++) {
          size_t m = ms[mi], n = ns[ni], k = ks[ki];
          double beta = q ? 1.5 : 0.0;
          for (size_t i = 0; i < 16 * 67; i++)
            a[i] = (double)(rng() % 2001) / 1000.0 - 1.0,
            b[i] = (double)(rng() % 2001) / 1000.0 - 1.0;
          for (size_t i = 0; i < (mr + 2) * ldc; i++)
            c0[i] = beta == 0.0 ? NAN : (double)(i % 7) - 3.0;
          memcpy(c1, c0, sizeof c0);
          struct cmx_f64_gemm_aux aux = {0.75, beta, mr, nr};
          t->gemm_f64.ukr(m, n, k, a, b, c0, ldc, &aux);
          g->ukr(m, n, k, a, b, c1, ldc, &aux);
          for (size_t i = 0; i < (mr + 2) * ldc; i++) {
            int in = i / ldc < m && i % ldc < n;
            int ok = in ? fabs(c1[i] - c0[i]) <= 1e-13 * (1 + fabs(c0[i]))
                        : memcmp(&c1[i], &c0[i], 8) == 0;
            if (!ok && bad++ < 5)
              printf("  gemm_f64 m=%zu n=%zu k=%zu q=%d [%zu]: neon %a ref %a\n",
                     m, n, k, q, i, c1[i], c0[i]);
          }
        }
  report("gemm_f64", bad);
}

/* f64 pack: the NEON packer against the generic one, bit for bit, r odd
 * and even (the tiles' 8 and 6, 1, 7), m below r, k odd and even, with
 * canaries past the r * k panel. */
static void check_pack_f64(const struct cmx_dispatch *t,
                           const struct cmx_dispatch *v) {
  static double src[9 * 40], d0[9 * 37 + PAD], d1[9 * 37 + PAD];
  size_t rs[] = {1, 6, 7, 8, 9}, ks[] = {1, 2, 5, 37};
  int bad = 0;
  for (size_t i = 0; i < 9 * 40; i++)
    src[i] = (double)(rng() % 2001) / 1000.0 - 1.0;
  for (int ri = 0; ri < 5; ri++)
    for (int ki = 0; ki < 4; ki++)
      for (size_t m = rs[ri] > 2 ? rs[ri] - 2 : 1; m <= rs[ri]; m++) {
        size_t r = rs[ri], k = ks[ki];
        for (size_t i = 0; i < 9 * 37 + PAD; i++) d0[i] = d1[i] = 99.0;
        t->gemm_f64.pack(r, m, k, src + 1, 40, d0);
        v->gemm_f64.pack(r, m, k, src + 1, 40, d1);
        for (size_t i = 0; i < 9 * 37 + PAD; i++)
          if (memcmp(&d0[i], &d1[i], 8) && bad++ < 5)
            printf("  pack_f64 r=%zu m=%zu k=%zu [%zu]: neon %a ref %a\n", r,
                   m, k, i, d1[i], d0[i]);
      }
  report("pack_f64", bad);
}

/* i8 gemm: the NEON microkernel against the reference on the same packed
 * panels (k groups of 4, A's row sums after it), bit for bit, C written
 * and accumulated, sums past 2^31 (all -128) wrapping alike. */
static void check_gemm_i8(const struct cmx_dispatch *t,
                          const struct cmx_dispatch *v) {
  const struct cmx_i8_gemm_config *g = &v->gemm_i8;
  size_t mr = g->mr, nr = g->nr, ldc = nr + 3;
  static int8_t a[16 * 140004 + 64], b[16 * 140004];
  static int32_t c0[18 * 19], c1[18 * 19];
  size_t ms[] = {1, mr - 1, mr}, ns[] = {1, nr - 1, nr};
  size_t ks[] = {0, 1, 3, 4, 5, 67, 140003};
  int bad = mr > 16 || nr > 16;
  for (int mi = 0; mi < 3 && !bad; mi++)
    for (int ni = 0; ni < 3; ni++)
      for (int ki = 0; ki < 7; ki++)
        for (int q = 0; q < 2; q++) {
          size_t m = ms[mi], n = ns[ni], k = ks[ki], kq = (k + 3) / 4 * 4;
          int big = k > 1000;
          memset(a, 0, kq * mr + 4 * mr);
          memset(b, 0, kq * nr);
          int32_t sums[16] = {0};
          for (size_t p = 0; p < k; p++) {
            for (size_t i = 0; i < m; i++) {
              int8_t x = big ? -128 : (int8_t)rng();
              a[(p / 4) * mr * 4 + i * 4 + p % 4] = x;
              sums[i] += x;
            }
            for (size_t j = 0; j < n; j++)
              b[(p / 4) * nr * 4 + j * 4 + p % 4] = big ? -128 : (int8_t)rng();
          }
          memcpy(a + kq * mr, sums, 4 * mr);
          for (size_t i = 0; i < (mr + 2) * ldc; i++)
            c0[i] = (int32_t)rng() - (1 << 30);
          memcpy(c1, c0, sizeof c0);
          struct cmx_i8_gemm_aux aux = {q, mr, nr};
          t->gemm_i8.ukr(m, n, k, a, b, c0, ldc, &aux);
          g->ukr(m, n, k, a, b, c1, ldc, &aux);
          for (size_t i = 0; i < (mr + 2) * ldc; i++)
            if (c0[i] != c1[i] && bad++ < 5)
              printf("  gemm_i8 m=%zu n=%zu k=%zu q=%d [%zu]: neon %d ref %d\n",
                     m, n, k, q, i, c1[i], c0[i]);
        }
  report("gemm_i8", bad);
}

/* x32 transpose tile: NEON against the scalar reference on one tile with
 * padded leading dimensions, both store modes. */
static void check_transpose(const struct cmx_dispatch *t,
                            const struct cmx_dispatch *v) {
  uint32_t src[16 * 24], a[16 * 20], b[16 * 20];
  int T = v->x32_transpose.tile, bad = T != t->x32_transpose.tile;
  for (size_t i = 0; i < 16 * 24; i++) src[i] = rng();
  for (int nt = 0; nt < 2 && !bad; nt++) {
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    for (int i = 0; i < 16; i += T)
      for (int j = 0; j < 16; j += T) {
        t->x32_transpose.ukr(src + j * 24 + i, 24, a + i * 20 + j, 20, nt);
        v->x32_transpose.ukr(src + j * 24 + i, 24, b + i * 20 + j, 20, nt);
      }
    bad |= memcmp(a, b, sizeof a) != 0 || a[1 * 20 + 0] != src[0 * 24 + 1];
  }
  report("x32-transpose", bad);
}

/* softmax, norms and rope rows (kernels/f32-softmax, -norm, -rope): random
 * rows of odd sizes, softmax past its 16384-float cached limit too. */
static void check_nn(const struct cmx_dispatch *t, const struct cmx_dispatch *v) {
  static float x[20011], w[20011], b[20011], yt[20011 + PAD], yv[20011 + PAD];
  static const size_t NNS[] = {1, 3, 4, 5, 17, 67, 1023, 20011};
  int bad = 0;
  for (size_t k = 0; k < sizeof NNS / sizeof NNS[0]; k++) {
    size_t n = NNS[k];
    fill(x, n, 0), fill(w, n, 0), fill(b, n, 0);
    for (int op = 0; op < CMX_SOFTMAX_COUNT + CMX_NORM_COUNT; op++) {
      for (size_t i = 0; i < n + PAD; i++) yt[i] = yv[i] = -5.5f;
      if (op < CMX_SOFTMAX_COUNT) {
        t->f32_softmax[op](n, x, yt, NULL);
        v->f32_softmax[op](n, x, yv, x);
      } else {
        /* two rows of n / 2 (a pair) where n > 1, else one */
        size_t m = n > 1 ? 2 : 1, h = n / m;
        t->f32_norm[op - CMX_SOFTMAX_COUNT](m, h, x, h, yt, h, w, b, 1e-5f);
        v->f32_norm[op - CMX_SOFTMAX_COUNT](m, h, x, h, yv, h, w, b, 1e-5f);
      }
      for (size_t i = 0; i < n + PAD; i++)
        if (!(i >= n ? same(yv[i], yt[i]) : close_rel(yv[i], yt[i], 2e-5f)) &&
            bad++ < 5)
          printf("  nn op %d n=%zu i=%zu: neon %a generic %a\n", op, n, i,
                 yv[i], yt[i]);
    }
    for (int op = 0; op < CMX_ROPE_COUNT && n >= 2; op++) {
      size_t dims = n & ~(size_t)1;
      if (dims > 256) dims = 256;
      for (size_t i = 0; i < n + PAD; i++) yt[i] = yv[i] = -5.5f;
      t->f32_rope[op](n, dims, x, w, b, yt);
      v->f32_rope[op](n, dims, x, w, b, yv);
      for (size_t i = 0; i < n + PAD; i++)
        if (!(i >= n ? same(yv[i], yt[i]) : close_ulp(yv[i], yt[i], 2)) &&
            bad++ < 5)
          printf("  rope op %d n=%zu i=%zu: neon %a generic %a\n", op, n, i,
                 yv[i], yt[i]);
    }
  }
  report("f32_nn", bad);
}

/* f16 norm rows (h16-norm.inc): bitwise what the NEON f32 row gives on the
 * widened rows, narrowed by the generic conversion; canaries past the rows. */
static void check_norm16(const struct cmx_dispatch *t,
                         const struct cmx_dispatch *v) {
  static float xf[2 * 1029], yf[2 * 1029], w[1029], b[1029];
  static uint16_t x[2 * 1029], y[2 * 1029 + PAD], want[2 * 1029];
  static const size_t NS[] = {1, 3, 4, 5, 17, 67, 1029};
  int bad = 0;
  for (size_t k = 0; k < sizeof NS / sizeof NS[0]; k++)
    for (int rms = 0; rms < 2; rms++) {
      const size_t n = NS[k], m = 2;
      const cmx_h16_norm_ukr_fn fn =
          v->h16_norm[rms ? CMX_NORM16_RMS_F16 : CMX_NORM16_LAYER_F16];
      if (!fn) {
        printf("  norm16: no NEON f16 row (rms %d)\n", rms);
        bad++;
        continue;
      }
      fill(xf, m * n, 0), fill(w, n, 0), fill(b, n, 0);
      t->cvt[CMX_CVT_F32_F16](m * n, xf, x);
      t->cvt[CMX_CVT_F16_F32](m * n, x, xf);
      v->f32_norm[rms ? CMX_NORM_RMS : CMX_NORM_LAYER](m, n, xf, n, yf, n, w,
                                                       b, 1e-5f);
      t->cvt[CMX_CVT_F32_F16](m * n, yf, want);
      for (size_t i = 0; i < m * n + PAD; i++) y[i] = 0xbeef;
      fn(m, n, x, n, y, n, w, b, 1e-5f);
      for (size_t i = 0; i < m * n + PAD; i++)
        if (y[i] != (i < m * n ? want[i] : 0xbeef) && bad++ < 5)
          printf("  norm16 rms %d n=%zu i=%zu: %04x, f32 row %04x\n", rms, n,
                 i, y[i], i < m * n ? want[i] : 0xbeef);
    }
  report("f16_norm", bad);
}

/* f16 softmax rows (h16-softmax.inc): bitwise what the NEON f32 _NT row
 * gives on the widened row, narrowed by the generic conversion, on both
 * sides of the buffered rows' 4096; canaries past the row. */
static void check_softmax16(const struct cmx_dispatch *t,
                            const struct cmx_dispatch *v) {
  static float xf[4101], yf[4101];
  static uint16_t x[4101], y[4101 + PAD], want[4101];
  static const size_t NS[] = {1, 3, 4, 5, 17, 67, 4101};
  int bad = 0;
  for (size_t k = 0; k < sizeof NS / sizeof NS[0]; k++)
    for (int log = 0; log < 2; log++) {
      const size_t n = NS[k];
      const cmx_h16_softmax_ukr_fn fn =
          v->h16_softmax[log ? CMX_SOFTMAX16_LOG_F16 : CMX_SOFTMAX16_EXP_F16];
      if (!fn) {
        printf("  softmax16: no NEON f16 row (log %d)\n", log);
        bad++;
        continue;
      }
      fill(xf, n, 0);
      t->cvt[CMX_CVT_F32_F16](n, xf, x);
      t->cvt[CMX_CVT_F16_F32](n, x, xf);
      v->f32_softmax[log ? CMX_SOFTMAX_LOG_NT : CMX_SOFTMAX_EXP_NT](n, xf, yf,
                                                                   NULL);
      t->cvt[CMX_CVT_F32_F16](n, yf, want);
      for (size_t i = 0; i < n + PAD; i++) y[i] = 0xbeef;
      fn(n, x, y, NULL);
      for (size_t i = 0; i < n + PAD; i++)
        if (y[i] != (i < n ? want[i] : 0xbeef) && bad++ < 5)
          printf("  softmax16 log %d n=%zu i=%zu: %04x, f32 row %04x\n", log,
                 n, i, y[i], i < n ? want[i] : 0xbeef);
    }
  report("f16_softmax", bad);
}

/* The random fill (kernels/random): bits, uniform and normal, bitwise
 * against generic (its contract), odd lengths, an offset past 2^32 blocks,
 * canaries past n. */
static void check_rng(const struct cmx_dispatch *t,
                      const struct cmx_dispatch *v) {
  static uint32_t g[1031], y[1031 + PAD];
  static const size_t NS[] = {1, 2, 7, 9, 1031};
  const uint32_t key[2] = {0x9e3779b9u, 0x7f4a7c15u};
  const float prm[4] = {-0.3f, 1.7f, 1.4f, 1.39999986f};
  int bad = 0;
  for (int kind = 0; kind < 3; kind++)
    for (int off = 0; off < 2; off++)
      for (size_t k = 0; k < sizeof NS / sizeof NS[0]; k++) {
        const size_t n = NS[k];
        const uint64_t e0 = off ? ((uint64_t)3 << 33) + 64 : 0;
        t->rng(key, e0 / 2, n, kind, prm, g);
        for (size_t i = 0; i < n + PAD; i++) y[i] = 0xdeadbeefu;
        v->rng(key, e0 / 2, n, kind, prm, y);
        for (size_t i = 0; i < n + PAD; i++)
          if (y[i] != (i < n ? g[i] : 0xdeadbeefu) && bad++ < 5)
            printf("  rng kind %d n=%zu i=%zu: %08x, generic %08x\n", kind, n,
                   i, y[i], i < n ? g[i] : 0xdeadbeefu);
      }
  report("rng", bad);
}

/* The online-softmax fold (f32-softmax.h): max, weights, sum and alpha
 * within 4 ulp of generic (their sums run in different orders). */
static void check_fold(const struct cmx_dispatch *t,
                       const struct cmx_dispatch *v) {
  static const size_t NS[] = {1, 3, 4, 5, 9, 37};
  float s0[37], sg[37], sv[37];
  int bad = 0;
  for (size_t k = 0; k < sizeof NS / sizeof NS[0]; k++)
    for (int first = 0; first < 2; first++) {
      const size_t n = NS[k];
      fill(s0, n, 0);
      memcpy(sg, s0, sizeof s0), memcpy(sv, s0, sizeof s0);
      float mg = first ? -INFINITY : 0.5f, mv = mg, lg = first ? 0 : 2, lv = lg;
      const float ag = t->f32_softmax_fold(n, sg, &mg, &lg);
      const float av = v->f32_softmax_fold(n, sv, &mv, &lv);
      int ok = mg == mv && close_ulp(ag, av, 4) && close_ulp(lg, lv, 4);
      for (size_t i = 0; i < n; i++) ok &= close_ulp(sg[i], sv[i], 4);
      if (!ok && bad++ < 5)
        printf("  fold n=%zu first %d: neon a %a l %a, generic a %a l %a\n",
               n, first, av, lv, ag, lg);
    }
  report("softmax_fold", bad);
}

/* 16-bit outer reductions (h16-reduce.inc): bitwise what the generic f32
 * outer row gives on the widened rows; canaries past acc. */
static void check_outer16(const struct cmx_dispatch *t,
                          const struct cmx_dispatch *v) {
  static float xf[5 * 140], acc[140 + PAD], accg[140];
  static uint16_t xh[5 * 140];
  static const size_t NS[] = {1, 3, 4, 5, 17, 33, 137};
  int bad = 0;
  for (int type = 0; type < 2; type++)
    for (int op = 0; op < CMX_ROP_COUNT; op++)
      for (size_t k = 0; k < sizeof NS / sizeof NS[0]; k++) {
        const size_t n = NS[k], rows = 5, ldx = n + 3;
        const cmx_h16_router_ukr_fn fn = v->h16_router[type][op];
        if (!fn) {
          printf("  outer16: no NEON row (type %d op %d)\n", type, op);
          bad++;
          continue;
        }
        fill(xf, rows * ldx, 0);
        t->cvt[type ? CMX_CVT_F32_F16 : CMX_CVT_F32_BF16](rows * ldx, xf, xh);
        t->cvt[type ? CMX_CVT_F16_F32 : CMX_CVT_BF16_F32](rows * ldx, xh, xf);
        fill(accg, n, 0);
        memcpy(acc, accg, n * sizeof *acc);
        for (size_t j = n; j < n + PAD; j++) acc[j] = 99.0f;
        t->f32_router[op](rows, n, xf, ldx, accg);
        fn(rows, n, xh, ldx, acc);
        for (size_t j = 0; j < n + PAD; j++)
          if (!(j < n ? same(acc[j], accg[j]) : acc[j] == 99.0f) && bad++ < 5)
            printf("  outer16 type %d op %d n=%zu j=%zu: %a, f32 row %a\n",
                   type, op, n, j, acc[j], j < n ? accg[j] : 99.0f);
      }
  report("outer16", bad);
}

/* 16-bit inner reductions: bitwise the NEON f32 inner row on the widened
 * block. */
static void check_inner16(const struct cmx_dispatch *t,
                          const struct cmx_dispatch *v) {
  static float xf[1031];
  static uint16_t xh[1031];
  static const size_t NS[] = {1, 3, 4, 5, 17, 33, 1031};
  int bad = 0;
  for (int type = 0; type < 2; type++)
    for (int op = 0; op < CMX_ROP_COUNT; op++)
      for (size_t k = 0; k < sizeof NS / sizeof NS[0]; k++) {
        const size_t n = NS[k];
        const cmx_h16_rinner_ukr_fn fn = v->h16_rinner[type][op];
        if (!fn) {
          printf("  inner16: no NEON row (type %d op %d)\n", type, op);
          bad++;
          continue;
        }
        fill(xf, n, 0);
        if (op == CMX_ROP_PROD)
          for (size_t i = 0; i < n; i++) xf[i] = 1.0f + xf[i] / 64.0f;
        t->cvt[type ? CMX_CVT_F32_F16 : CMX_CVT_F32_BF16](n, xf, xh);
        t->cvt[type ? CMX_CVT_F16_F32 : CMX_CVT_BF16_F32](n, xh, xf);
        const float got = fn(n, xh), want = v->f32_rinner[op](n, xf);
        if (!same(got, want) && bad++ < 5)
          printf("  inner16 type %d op %d n=%zu: %a, f32 row %a\n", type, op,
                 n, got, want);
      }
  report("inner16", bad);
}

/* gemv4: four rows folded into an accumulator, bitwise against generic
 * (the same four fused multiply-adds per element), canaries past n. */
static void check_gemv4(const struct cmx_dispatch *t, const struct cmx_dispatch *v) {
  static float r[4][70], a0[78], a1[78];
  size_t ns[] = {1, 3, 4, 5, 8, 13, 70};
  float w[4] = {0.75f, -1.25f, 0.5f, 2.0f};
  int bad = 0;
  for (int ni = 0; ni < 7; ni++) {
    size_t n = ns[ni];
    for (int u = 0; u < 4; u++) fill(r[u], 70, u == 3);
    for (size_t i = 0; i < 78; i++) a0[i] = a1[i] = i < n ? 0.25f : 99.0f;
    const float *rows[4] = {r[0], r[1], r[2], r[3]};
    t->gemm_f32.gemv4(n, rows, w, 1, 4, a0, n);
    v->gemm_f32.gemv4(n, rows, w, 1, 4, a1, n);
    for (size_t i = 0; i < 78; i++)
      if (!same(a0[i], a1[i]) && bad++ < 5)
        printf("  gemv4 n=%zu i=%zu: neon %a generic %a\n", n, i, a1[i], a0[i]);
    /* five accumulators at once (n apart, weights 1 apart): NEON's group
     * of four and one against generic's */
    static float m0[5 * 70 + 8], m1[5 * 70 + 8];
    for (size_t i = 0; i < 5 * n + 8; i++) m0[i] = m1[i] = (float)(i % 7);
    const float w8[8] = {0.75f, -1.25f, 0.5f, 2.0f, 1.5f, -0.5f, 0.25f, 3.0f};
    t->gemm_f32.gemv4(n, rows, w8, 5, 1, m0, n);
    v->gemm_f32.gemv4(n, rows, w8, 5, 1, m1, n);
    for (size_t i = 0; i < 5 * n + 8; i++)
      if (!same(m0[i], m1[i]) && bad++ < 5)
        printf("  gemv4 m=5 n=%zu i=%zu: neon %a generic %a\n", n, i, m1[i],
               m0[i]);
  }
  report("gemv4", bad);
}

/* rowacc: m (1..8, and 9, 13, 20: B's vectors in registers) rows of C
 * folded with kb (1..8) rows of B, bitwise against generic (one fused
 * multiply-add per element per row of B, in order), with canaries between
 * the rows of acc (ld > n). */
static void check_rowacc(const struct cmx_dispatch *t,
                         const struct cmx_dispatch *v) {
  static float b[8][72], a0[20 * 76], a1[20 * 76], w[8 * 20];
  size_t ns[] = {1, 3, 4, 5, 13, 70};
  static const size_t ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 20};
  int bad = 0;
  for (int u = 0; u < 8; u++) fill(b[u], 72, u == 3);
  fill(w, 8 * 20, 0);
  for (int ni = 0; ni < 6; ni++)
    for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
      for (size_t kb = 1; kb <= 8; kb++) {
        size_t m = ms[mi], n = ns[ni], ld = n + 3;
        const float *rows[8];
        for (size_t u = 0; u < 8; u++) rows[u] = b[u] + 1;
        for (size_t i = 0; i < 20 * 76; i++)
          a0[i] = a1[i] = i % ld < n ? 0.25f * (float)(i % 5) - 0.5f : 99.0f;
        t->gemm_f32.rowacc(m, kb, n, rows, w, a0, ld, 0);
        v->gemm_f32.rowacc(m, kb, n, rows, w, a1, ld, 0);
        for (size_t i = 0; i < m * ld; i++)
          if (!same(a0[i], a1[i]) && bad++ < 5)
            printf("  rowacc m=%zu kb=%zu n=%zu i=%zu: neon %a generic %a\n",
                   m, kb, n, i, a1[i], a0[i]);
      }
  report("rowacc", bad);
}

/* dot4: four rows against one vector and against three (the second
 * vector of a pair and a lone one), within the roundings of a sum in a
 * different order (lanes, then a horizontal sum) of the generic serial
 * one, canaries past s. */
static void check_dot4(const struct cmx_dispatch *t,
                       const struct cmx_dispatch *v) {
  static float r[4][70], x[3 * 70];
  size_t ns[] = {0, 1, 3, 4, 5, 8, 13, 70};
  int bad = 0;
  for (int ni = 0; ni < 8; ni++) {
    size_t n = ns[ni];
    for (int u = 0; u < 4; u++) fill(r[u], 70, 0);
    fill(x, 3 * 70, 0);
    const float *rows[4] = {r[0], r[1], r[2], r[3]};
    for (size_t m = 1; m <= 3; m += 2) {
      float s0[12], s1[14];
      s1[4 * m] = s1[4 * m + 1] = 99.0f;
      t->gemm_f32.dot4(n, rows, x, m, 70, s0);
      v->gemm_f32.dot4(n, rows, x, m, 70, s1);
      for (size_t e = 0; e < 4 * m; e++) {
        const float *xv = x + e / 4 * 70, *ru = r[e % 4];
        double mag = 0;
        for (size_t i = 0; i < n; i++) mag += fabs((double)xv[i] * ru[i]);
        if (fabs((double)s0[e] - s1[e]) > 2.0 * (double)n * 0x1p-23 * mag &&
            bad++ < 5)
          printf("  dot4 n=%zu m=%zu [%zu]: neon %a generic %a\n", n, m, e,
                 s1[e], s0[e]);
      }
      if ((s1[4 * m] != 99.0f || s1[4 * m + 1] != 99.0f) && bad++ < 5)
        printf("  dot4 n=%zu m=%zu: wrote past s[%zu]\n", n, m, 4 * m - 1);
    }
  }
  report("dot4", bad);
}

/* dot4h: four bf16 rows against two vectors, the same bits as the NEON
 * dot4 on the rows widened first (widening is exact); f16 likewise; and
 * gemv4h against gemv4, rowacch against rowacc, the same way. */
static void check_dot4h(const struct cmx_dispatch *v) {
  static uint16_t h[4][70];
  static float w[4][70], x[2 * 70];
  int bad = 0;
  if (!v->gemm_f32.dot4h || !v->gemm_f32.gemv4h || !v->gemm_f32.rowacch) {
    printf("  dot4h / gemv4h / rowacch: none at this level\n");
    report("dot4h", 1);
    return;
  }
  size_t ns[] = {0, 1, 5, 16, 70};
  for (int bf = 0; bf < 2; bf++)
    for (int ni = 0; ni < 5; ni++) {
      size_t n = ns[ni];
      fill(x, 2 * 70, 0);
      for (int u = 0; u < 4; u++)
        for (size_t i = 0; i < 70; i++) {
          uint32_t q = (uint32_t)((u * 70 + i) * 2654435761u) >> 9;
          h[u][i] = bf ? (uint16_t)(0x3c00 + (q & 0x3ff) + ((q >> 10) & 1) * 0x8000)
                       : (uint16_t)(0x3400 + (q & 0x3ff) + ((q >> 10) & 1) * 0x8000);
          uint32_t bits;
          if (bf) {
            bits = (uint32_t)h[u][i] << 16;
          } else { /* normal f16 -> f32 */
            uint32_t e = (h[u][i] >> 10) & 0x1f;
            bits = ((uint32_t)(h[u][i] & 0x8000) << 16) |
                   ((e - 15 + 127) << 23) | ((uint32_t)(h[u][i] & 0x3ff) << 13);
          }
          memcpy(&w[u][i], &bits, 4);
        }
      const uint16_t *hr[4] = {h[0], h[1], h[2], h[3]};
      const float *wr[4] = {w[0], w[1], w[2], w[3]};
      float s0[8], s1[8];
      v->gemm_f32.dot4(n, wr, x, 2, 70, s0);
      v->gemm_f32.dot4h(n, hr, bf, x, 2, 70, s1);
      for (int e = 0; e < 8; e++)
        if (!same(s0[e], s1[e]) && bad++ < 5)
          printf("  dot4h %s n=%zu [%d]: %a, dot4 %a\n", bf ? "bf16" : "f16",
                 n, e, s1[e], s0[e]);
      /* gemv4h likewise against gemv4 */
      float a0[70], a1[70];
      const float wt[4] = {0.5f, -1.25f, 2.0f, 0.75f};
      for (size_t i = 0; i < 70; i++) a0[i] = a1[i] = x[i];
      if (n) {
        v->gemm_f32.gemv4(n, wr, wt, 1, 4, a0, n);
        v->gemm_f32.gemv4h(n, hr, bf, wt, a1);
      }
      for (size_t i = 0; i < 70; i++)
        if (!same(a0[i], a1[i]) && bad++ < 5)
          printf("  gemv4h %s n=%zu [%zu]: %a, gemv4 %a\n",
                 bf ? "bf16" : "f16", n, i, a1[i], a0[i]);
      /* rowacch likewise against rowacc: three rows of C, and eleven
       * (B's vectors in registers), four of B */
      static float c0[11 * 70], c1[11 * 70], wts[44];
      for (size_t i = 0; i < 44; i++)
        wts[i] = 0.125f * (float)((i * 7) % 23) - 1.25f;
      for (size_t rows = 3; rows <= 11; rows += 8) {
        for (size_t i = 0; i < rows * 70; i++) c0[i] = c1[i] = x[i % 140];
        v->gemm_f32.rowacc(rows, 4, n, wr, wts, c0, 70, 0);
        v->gemm_f32.rowacch(rows, 4, n, hr, bf, wts, c1, 70, 0);
        for (size_t i = 0; i < rows * 70; i++)
          if (!same(c0[i], c1[i]) && bad++ < 5)
            printf("  rowacch %s m=%zu n=%zu [%zu]: %a, rowacc %a\n",
                   bf ? "bf16" : "f16", rows, n, i, c1[i], c0[i]);
      }
    }
  report("dot4h", bad);
}

/* dwconv: one output pixel, and two with their taps c apart, over 1 to 25
 * tap rows, channel counts around the 4- and 16-lane steps, within the
 * roundings of an unfused sum (generic multiplies then adds), canaries
 * past the pixels. */
static void check_dwconv(const struct cmx_dispatch *t,
                         const struct cmx_dispatch *v) {
  static float x[25][2 * NMAX], w[25 * NMAX], y0[2 * NMAX + PAD],
      y1[2 * NMAX + PAD];
  size_t taps[] = {1, 2, 9, 25};
  int bad = 0;
  for (size_t s = 0; s < NSIZES; s++)
    for (int ti = 0; ti < 4; ti++)
      for (size_t np = 1; np <= 2; np++) {
      size_t c = SIZES[s], nt = taps[ti];
      const float *xs[25];
      for (size_t u = 0; u < nt; u++) fill(x[u], np * c, 0), xs[u] = x[u];
      fill(w, nt * c, 0);
      for (size_t i = 0; i < 2 * NMAX + PAD; i++) y0[i] = y1[i] = 99.0f;
      t->f32_dwconv(c, nt, xs, w, y0, np, c);
      v->f32_dwconv(c, nt, xs, w, y1, np, c);
      for (size_t i = 0; i < np * c + PAD; i++) {
        float mag = 0.0f;
        for (size_t u = 0; i < np * c && u < nt; u++)
          mag += fabsf(x[u][i] * w[u * c + i % c]);
        int ok = i >= np * c ? same(y0[i], y1[i])
                             : fabsf(y0[i] - y1[i]) <= 1e-6f * (1.0f + mag);
        if (!ok && bad++ < 5)
          printf("  dwconv c=%zu taps=%zu npix=%zu i=%zu: neon %a generic "
                 "%a\n", c, nt, np, i, y1[i], y0[i]);
      }
    }
  report("dwconv", bad);
}

/* qgemm: the NEON qdot and qdeq rows (the table must pick them) against
 * the reference rows for every bits x group size, m 1..8, odd n, k of one
 * and three groups, random words, strides wider than the data and
 * canaries beside the outputs; tolerances of tests/test-kernels-qgemm.c. */
static float qrnd(void) { return (float)(rng() % 200001) / 100000.0f - 1.0f; }
static void check_qgemm(const struct cmx_dispatch *t,
                        const struct cmx_dispatch *v) {
  enum { KMAX = 3 * 128, LDX = KMAX + 16, NMAXQ = 9, LDS = KMAX / 32 + 2 };
  static uint32_t w[NMAXQ * (KMAX / 4 + 3)];
  static float s[NMAXQ * LDS], b[NMAXQ * LDS], xp[8 * LDX], xs[8 * LDS];
  static float y0[9 * (NMAXQ + 3)], y1[9 * (NMAXQ + 3)];
  static float d0[NMAXQ * (KMAX + 5)], d1[NMAXQ * (KMAX + 5)];
  static const int BITS[] = {2, 4, 8};
  static const size_t GS[] = {32, 64, 128}, NS[] = {1, 3, 5, 9};
  const float CAN = -7777.25f;
  int bad = 0;
  if (v->qgemm.qdot != cmx_f32_qdot_ukr__neon ||
      v->qgemm.qdeq != cmx_f32_qdeq_ukr__neon) {
    printf("  qgemm: the NEON table does not hold the NEON rows\n");
    bad++;
  }
  for (int bi = 0; bi < 3; bi++)
    for (int gi = 0; gi < 3; gi++)
      for (size_t kg = 1; kg <= 3; kg += 2) {
        const int bits = BITS[bi];
        const size_t gs = GS[gi], k = kg * gs, ldw = k * bits / 32 + 3;
        for (size_t i = 0; i < NMAXQ * ldw; i++) w[i] = rng() ^ (rng() << 16);
        for (size_t i = 0; i < NMAXQ * LDS; i++)
          s[i] = qrnd() * 0.1f, b[i] = qrnd();
        for (size_t i = 0; i < 8 * LDX; i++) xp[i] = qrnd();
        for (size_t i = 0; i < 8 * LDS; i++) xs[i] = qrnd() * 4;
        for (size_t m = 1; m <= 8; m++)
          for (int ni = 0; ni < 4; ni++) {
            const size_t n = NS[ni], ldy = n + 3;
            for (size_t i = 0; i < (m + 1) * ldy; i++) y0[i] = y1[i] = CAN;
            t->qgemm.qdot(m, n, k, bits, gs, w, ldw, s, b, LDS, xp, LDX, xs,
                          LDS, y0, ldy);
            v->qgemm.qdot(m, n, k, bits, gs, w, ldw, s, b, LDS, xp, LDX, xs,
                          LDS, y1, ldy);
            for (size_t i = 0; i < (m + 1) * ldy; i++) {
              size_t r = i / ldy, c = i % ldy;
              double bound = 0;
              for (size_t g = 0; r < m && c < n && g < kg; g++)
                bound += fabs(s[c * LDS + g]) * 8 * (1 << bits) * gs +
                         fabs(b[c * LDS + g] * xs[r * LDS + g]);
              int ok = r >= m || c >= n ? y1[i] == CAN
                                        : fabs(y1[i] - y0[i]) <= 1e-6 * bound;
              if (!ok && bad++ < 5)
                printf("  qdot bits %d gs %zu m %zu n %zu k %zu [%zu,%zu]: "
                       "neon %a generic %a\n", bits, gs, m, n, k, r, c, y1[i],
                       y0[i]);
            }
          }
        const size_t n = 3, ldo = k + 5;
        for (size_t i = 0; i < n * ldo; i++) d0[i] = d1[i] = CAN;
        t->qgemm.qdeq(n, k, bits, gs, w, ldw, s, b, LDS, d0, ldo);
        v->qgemm.qdeq(n, k, bits, gs, w, ldw, s, b, LDS, d1, ldo);
        for (size_t i = 0; i < n * ldo; i++) {
          size_t j = i / ldo, c = i % ldo;
          double tol = c < k ? 2e-7 * (fabs(s[j * LDS + c / gs]) * (1 << bits) +
                                       fabs(b[j * LDS + c / gs]))
                             : 0;
          if (!(fabs(d1[i] - d0[i]) <= tol) && bad++ < 5)
            printf("  qdeq bits %d gs %zu [%zu,%zu]: neon %a generic %a\n",
                   bits, gs, j, c, d1[i], d0[i]);
        }
      }
  report("qgemm", bad);
}

int main(void) {
  struct cmx_dispatch t, v;
  if (cmx_dispatch_for(&t, CMX_ISA_GENERIC) != 0 ||
      cmx_dispatch_for(&v, CMX_ISA_NEON) != 0) {
    printf("neon-check: FAIL: cannot fill the GENERIC or NEON table\n");
    return 1;
  }
  check_vunary(&t, &v);
  check_vunary64(&t, &v);
  check_softmax64(&t, &v);
  check_vbinary(&t, &v);
  check_where(&t, &v);
  check_reduce(&t, &v);
  check_cvt(&t, &v);
  check_nn(&t, &v);
  check_norm16(&t, &v);
  check_softmax16(&t, &v);
  check_rng(&t, &v);
  check_fold(&t, &v);
  check_outer16(&t, &v);
  check_inner16(&t, &v);
  check_gemm(&t, &v);
  check_gemm_f64(&t, &v);
  check_pack_f64(&t, &v);
  check_gemm_i8(&t, &v);
  check_gemv4(&t, &v);
  check_rowacc(&t, &v);
  check_dot4(&t, &v);
  check_dot4h(&v);
  check_dwconv(&t, &v);
  check_transpose(&t, &v);
  check_qgemm(&t, &v);
  printf("neon-check: %s\n", g_fail ? "FAIL" : "all PASS");
  return g_fail;
}
