/* bf16 x bf16 GEMM on k-pairs (the vdpbf16ps path): every CMX_UKR_BF16 and
 * CMX_ZIP_BF16 row of f32-gemm.inc this CPU can run against the reference
 * and a float64 model (edge tiles, odd k, beta 0 over NaN, canaries); the
 * driver's pair packing with the reference kernel (runs everywhere) and
 * with the avx512bf16 table (where the CPU has AVX512_BF16) on row-major,
 * transposed and strided operands, odd k, several k/m/n blocks, batches
 * with a broadcast operand; cmx_matmul of bf16 arrays at the current level.
 * Tolerance: each output is a sum of k exact products rounded in f32, so
 * |got - exact| <= (k + 2) eps_f32 sum |a b| (plus bf16 output rounding). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/dispatch.h"
#include "test-util.h"

#define EPS32 (1.0 / 8388608.0)
static const float CANARY = -7777.25f;

struct brow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_gemm_bf16_ukr_fn fn;
  size_t mr, nr;
};
#define CMX_UKR_BF16(isa, name, mr, nr) {isa, #name, name, mr, nr},
static const struct brow BROWS[] = {
#include "kernels/f32-gemm/f32-gemm.inc"
};
#undef CMX_UKR_BF16

struct zrow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_gemm_bf16_zip_fn fn;
};
#define CMX_ZIP_BF16(isa, name) {isa, #name, name},
static const struct zrow ZROWS[] = {
#include "kernels/f32-gemm/f32-gemm.inc"
};
#undef CMX_ZIP_BF16

static int runs(enum cmx_isa_level isa, const char *name) {
  if (cmx_cpu_has(isa)) return 1;
  printf("gemm_bf16: skipping %s: CPU lacks %s\n", name,
         isa == CMX_ISA_AVX512BF16 ? "AVX512_BF16" : "its ISA");
  return 0;
}

/* A random bf16 in [-1, 1), never zero. */
static uint16_t rbf16(uint64_t *s) {
  double u = 2.0 * tu_unif(s) - 1.0;
  uint16_t h = tu_bf16_bits(u);
  return h & 0x7fff ? h : 0x3f80;
}
static double bval(uint16_t h) { return tu_bf16_val(h); }

/* One microkernel case on random packed panels (rows >= m and columns >= n
 * zero, an odd k's last high halves zero) against the reference kernel and
 * the float64 sum. */
static void check_ukr(const struct brow *r, size_t m, size_t n, size_t k,
                      float alpha, float beta, uint64_t seed) {
  size_t mr = r->mr, nr = r->nr, kp = (k + 1) / 2, ldc = nr + 5;
  uint32_t *a = calloc(mr * kp + 1, 4), *b = calloc(nr * kp + 1, 4);
  uint64_t s = seed;
  for (size_t p = 0; p < k; p++) {
    for (size_t i = 0; i < m; i++)
      a[(p / 2) * mr + i] |= (uint32_t)rbf16(&s) << (16 * (p % 2));
    for (size_t j = 0; j < n; j++)
      b[(p / 2) * nr + j] |= (uint32_t)rbf16(&s) << (16 * (p % 2));
  }
  size_t csz = (mr + 2) * ldc;
  float *c0 = malloc(csz * 4), *c1 = malloc(csz * 4), *cin = malloc(csz * 4);
  for (size_t i = 0; i < csz; i++) c0[i] = CANARY;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++)
      c0[(i + 1) * ldc + j] = beta == 0.0f ? NAN : (float)tu_unif(&s) - 0.5f;
  memcpy(c1, c0, csz * 4);
  memcpy(cin, c0, csz * 4);
  struct cmx_f32_gemm_aux aux = {alpha, beta, 0, mr, nr, NULL, 0, NULL, 0};
  cmx_f32_gemm_bf16_ukr_ref(m, n, k, a, b, c0 + ldc, ldc, &aux);
  r->fn(m, n, k, a, b, c1 + ldc, ldc, &aux);
  for (size_t i = 0; i < mr + 2; i++)
    for (size_t j = 0; j < ldc; j++) {
      float g = c1[i * ldc + j], w = c0[i * ldc + j];
      if (!(i >= 1 && i <= m && j < n)) {
        cr_assert(g == CANARY, "%s m=%zu n=%zu k=%zu: canary (%zu,%zu) = %g",
                  r->name, m, n, k, i, j, (double)g);
        continue;
      }
      double exact = 0, mag = 0;
      for (size_t p = 0; p < k; p++) {
        uint32_t wa = a[(p / 2) * mr + i - 1], wb = b[(p / 2) * nr + j];
        double x = bval((uint16_t)(wa >> (16 * (p % 2)))),
               y = bval((uint16_t)(wb >> (16 * (p % 2))));
        exact += x * y;
        mag += fabs(x * y);
      }
      double cb = beta == 0.0f ? 0.0 : (double)beta * cin[i * ldc + j];
      double want = alpha * exact + cb;
      double tol = (double)(k + 2) * EPS32 * fabs(alpha) * mag +
                   4 * EPS32 * fabs(cb) + 1e-30;
      cr_assert(fabs(g - want) <= tol && fabs(w - want) <= tol,
                "%s m=%zu n=%zu k=%zu beta=%g (%zu,%zu): got %.9g ref %.9g "
                "f64 %.9g",
                r->name, m, n, k, (double)beta, i - 1, j, (double)g,
                (double)w, want);
    }
  free(a), free(b), free(c0), free(c1), free(cin);
}

Test(gemm_bf16, every_ukr_row_against_ref) {
  for (size_t ri = 0; ri < sizeof BROWS / sizeof BROWS[0]; ri++) {
    const struct brow *r = &BROWS[ri];
    if (!runs(r->isa, r->name)) continue;
    size_t ms[] = {1, r->mr - 1, r->mr}, ns[] = {1, r->nr - 1, r->nr};
    size_t ks[] = {0, 1, 2, 7, 17, 514};
    uint64_t seed = 11;
    for (int mi = 0; mi < 3; mi++)
      for (int ni = 0; ni < 3; ni++)
        for (int ki = 0; ki < 6; ki++) {
          check_ukr(r, ms[mi], ns[ni], ks[ki], 1.0f, 0.0f, seed++);
          check_ukr(r, ms[mi], ns[ni], ks[ki], -0.5f, 1.5f, seed++);
        }
  }
}

/* Interleaving is a copy: bitwise against the reference, NULL second line
 * gives zero high halves, nothing past n is written. */
Test(gemm_bf16, every_zip_row_against_ref) {
  size_t ns[] = {1, 7, 15, 16, 17, 31, 33, 1023};
  for (size_t zi = 0; zi < sizeof ZROWS / sizeof ZROWS[0]; zi++) {
    const struct zrow *z = &ZROWS[zi];
    if (!runs(z->isa, z->name)) continue;
    uint64_t s = 5;
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++)
      for (int half = 0; half < 2; half++) {
        size_t n = ns[t];
        uint16_t *x0 = malloc(n * 2), *x1 = malloc(n * 2);
        uint32_t *d = malloc((n + 4) * 4);
        for (size_t i = 0; i < n; i++) x0[i] = rbf16(&s), x1[i] = rbf16(&s);
        for (size_t i = 0; i < n + 4; i++) d[i] = 0xdeadbeefu;
        z->fn(n, x0, half ? NULL : x1, d);
        for (size_t i = 0; i < n + 4; i++) {
          uint32_t want = i >= n ? 0xdeadbeefu
                                 : x0[i] | (half ? 0u : (uint32_t)x1[i] << 16);
          cr_assert_eq(d[i], want, "%s n=%zu half=%d i=%zu: %08x want %08x",
                       z->name, n, half, i, d[i], want);
        }
        free(x0), free(x1), free(d);
      }
  }
}

/* ---- the driver's pair path ---- */
static atomic_int g_cvt_calls;
static void counting_bf16_cvt(size_t n, const void *x, void *y) {
  atomic_fetch_add(&g_cvt_calls, 1);
  cmx_bf16_f32_cvt_ukr__ref(n, x, y);
}

/* Operand layouts of an r x c matrix: 0 row-major, 1 transposed storage
 * (column-major), 2 strided (every other element of rows of pitch 2c + 5),
 * 3 row-major with an even pitch (c rounded up: an odd c leaves a NaN pad
 * that a pair read past the row would pick up). Returns the element count
 * of one batch's storage. */
static size_t layout(int lay, size_t r, size_t c, ptrdiff_t *rs,
                     ptrdiff_t *cs) {
  if (lay == 0) *rs = (ptrdiff_t)c, *cs = 1;
  else if (lay == 1) *rs = 1, *cs = (ptrdiff_t)r;
  else if (lay == 2) *rs = (ptrdiff_t)(2 * c + 5), *cs = 2;
  else *rs = (ptrdiff_t)(c + c % 2), *cs = 1;
  return lay == 2 ? r * (2 * c + 5) : lay == 3 ? r * (c + c % 2) : r * c;
}

/* C = alpha A B + beta C through cmx_f32_gemm with cfg, against float64;
 * storage outside the views is NaN (must not be read). */
static int g_pairs; /* the path check_driver expects: 1 pairs, 0 cvt */
static void check_driver(const struct cmx_gemm_config *cfg, const char *what,
                         size_t batch, size_t m, size_t n, size_t k, int la,
                         int lb, int bcast_b, float alpha, float beta,
                         int nthreads, uint64_t seed) {
  struct cmx_gemm_problem p = {.batch = batch, .m = m, .n = n, .k = k,
                               .ldc = n + 3, .alpha = alpha, .beta = beta,
                               .cvt_f16 = cmx_f16_f32_cvt_ukr__ref,
                               .cvt_bf16 = counting_bf16_cvt};
  p.ldcb = m * p.ldc + 2;
  size_t sa = layout(la, m, k, &p.a.rs, &p.a.cs) + 1;
  size_t sb = layout(lb, k, n, &p.b.rs, &p.b.cs) + 1;
  uint16_t *a = malloc(batch * sa * 2), *b = malloc(batch * sb * 2);
  for (size_t i = 0; i < batch * sa; i++) a[i] = 0x7fc0;
  for (size_t i = 0; i < batch * sb; i++) b[i] = 0x7fc0;
  int64_t *boff = malloc(2 * batch * sizeof(int64_t));
  uint64_t s = seed;
  for (size_t t = 0; t < batch; t++) {
    boff[t] = (int64_t)(t * sa + 1); /* odd base: unaligned words */
    boff[batch + t] = bcast_b ? 0 : (int64_t)(t * sb);
    for (size_t i = 0; i < m; i++)
      for (size_t q = 0; q < k; q++)
        a[boff[t] + (ptrdiff_t)i * p.a.rs + (ptrdiff_t)q * p.a.cs] = rbf16(&s);
    for (size_t q = 0; q < k && (t == 0 || !bcast_b); q++)
      for (size_t j = 0; j < n; j++)
        b[boff[batch + t] + (ptrdiff_t)q * p.b.rs + (ptrdiff_t)j * p.b.cs] =
            rbf16(&s);
  }
  p.a = (struct cmx_gemm_operand){a, CMX_GEMM_BF16, p.a.rs, p.a.cs, boff};
  p.b = (struct cmx_gemm_operand){b, CMX_GEMM_BF16, p.b.rs, p.b.cs,
                                  boff + batch};
  size_t csz = batch * p.ldcb;
  float *c = malloc(csz * 4), *cin = malloc(csz * 4);
  for (size_t i = 0; i < csz; i++)
    c[i] = beta == 0.0f ? NAN : (float)tu_unif(&s) - 0.5f;
  memcpy(cin, c, csz * 4);
  p.c = c;
  atomic_store(&g_cvt_calls, 0);
  cr_assert_eq(cmx_f32_gemm(cfg, &p, nthreads), 0, "%s: no workspace", what);
  if (m > 1 && n > 1 && k > 0)
    cr_assert_eq(atomic_load(&g_cvt_calls) == 0, g_pairs,
                 "%s: bf16 x bf16 %s f32 conversion", what,
                 g_pairs ? "went through" : "did not take");
  for (size_t t = 0; t < batch; t++)
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        double exact = 0, mag = 0;
        for (size_t q = 0; q < k; q++) {
          double x = bval(a[boff[t] + (ptrdiff_t)i * p.a.rs +
                            (ptrdiff_t)q * p.a.cs]);
          double y = bval(b[boff[batch + t] + (ptrdiff_t)q * p.b.rs +
                            (ptrdiff_t)j * p.b.cs]);
          exact += x * y;
          mag += fabs(x * y);
        }
        size_t ci = t * p.ldcb + i * p.ldc + j;
        double cb = beta == 0.0f ? 0.0 : (double)beta * cin[ci];
        double want = alpha * exact + cb;
        double tol = (double)(k + 2) * EPS32 * fabs(alpha) * mag +
                     4 * EPS32 * fabs(cb) + 1e-30;
        cr_assert(fabs(c[ci] - want) <= tol,
                  "%s b=%zu m=%zu n=%zu k=%zu lay %d/%d bc %d thr %d: C[%zu]"
                  "(%zu,%zu) = %.9g, f64 %.9g",
                  what, batch, m, n, k, la, lb, bcast_b, nthreads, t, i, j,
                  (double)c[ci], want);
      }
  for (size_t t = 0; t < batch; t++) /* padding between rows untouched */
    for (size_t i = 0; i < m; i++)
      for (size_t j = n; j < p.ldc; j++) {
        size_t ci = t * p.ldcb + i * p.ldc + j;
        cr_assert(memcmp(&c[ci], &cin[ci], 4) == 0, "%s: C padding written",
                  what);
      }
  free(a), free(b), free(boff), free(c), free(cin);
}

static void driver_cases(const struct cmx_gemm_config *cfg, const char *what) {
  g_pairs = cfg->bf16_ukr != NULL || cfg->bf16_amx != NULL;
  static const size_t S[][3] = {{1, 1, 1},   {7, 7, 7},     {17, 17, 17},
                                {2, 3, 1},   {14, 32, 2},   {15, 33, 17},
                                {29, 65, 9}, {9, 5, 1023},  {1, 40, 31},
                                {40, 1, 31}, {33, 47, 70}};
  uint64_t seed = 100;
  for (size_t si = 0; si < sizeof S / sizeof S[0]; si++)
    for (int la = 0; la < 4; la++)
      for (int lb = 0; lb < 4; lb++)
        check_driver(cfg, what, 1, S[si][0], S[si][1], S[si][2], la, lb, 0,
                     1.0f, 0.0f, 1, seed++);
  check_driver(cfg, what, 3, 13, 21, 19, 0, 0, 1, 0.5f, -1.25f, 1, seed++);
  check_driver(cfg, what, 3, 13, 21, 19, 1, 2, 0, 1.0f, 0.0f, 2, seed++);
  check_driver(cfg, what, 1, 70, 90, 600, 0, 0, 0, 1.0f, 1.0f, 2, seed++);
  check_driver(cfg, what, 1, 70, 90, 601, 2, 1, 0, -1.0f, 0.0f, 2, seed++);
  check_driver(cfg, what, 2, 50, 40, 601, 3, 3, 0, 1.0f, 0.0f, 2, seed++);
  check_driver(cfg, what, 1, 1, 1, 0, 0, 0, 0, 1.0f, 0.0f, 1, seed++);
  /* 9 to 16 rows of A (within every level's fold, f32-gemm.c: WIDE16_M
   * and twice rowacc_m) against a row-major B, past the small-problem
   * flops, fold: B widened in registers, A converted, pair kernel or not */
  const int pairs = g_pairs;
  g_pairs = !cfg->rowacc;
  check_driver(cfg, what, 2, 12, 80, 601, 3, 3, 0, 1.0f, 0.0f, 2, seed++);
  check_driver(cfg, what, 1, 16, 33, 1100, 0, 0, 0, 1.0f, 0.0f, 1, seed++);
  g_pairs = pairs;
}

/* The reference pair kernel behind the driver on the generic tile with
 * small blocks (several ic, pc and jc blocks, kc odd in the last), and on
 * the 14x32 tile with the level's pack kernel: runs on every CPU. */
Test(gemm_bf16, driver_pairs_with_ref_kernel) {
  struct cmx_dispatch t;
  cr_assert_eq(cmx_dispatch_for(&t, CMX_ISA_GENERIC), 0);
  struct cmx_gemm_config cfg = t.gemm_f32;
  cfg.bf16_ukr = cmx_f32_gemm_bf16_ukr_ref;
  cfg.bf16_zip = cmx_f32_gemm_bf16_zip_ukr__ref;
  cfg.mc = 8, cfg.kc = 24, cfg.nc = 16;
  driver_cases(&cfg, "ref 4x8");
  enum cmx_isa_level best = cmx_cpu_has(CMX_ISA_AVX512) ? CMX_ISA_AVX512
                            : cmx_cpu_has(CMX_ISA_AVX2) ? CMX_ISA_AVX2
                                                        : CMX_ISA_GENERIC;
  cr_assert_eq(cmx_dispatch_for(&t, best), 0);
  cfg.pack = t.gemm_f32.pack, cfg.pack_r = t.gemm_f32.pack_r;
  cfg.mr = 14, cfg.nr = 32, cfg.mc = 28, cfg.kc = 0, cfg.nc = 64;
  driver_cases(&cfg, "ref 14x32");
}

Test(gemm_bf16, driver_pairs_on_avx512bf16_table) {
  struct cmx_dispatch t;
  if (cmx_dispatch_for(&t, CMX_ISA_AVX512BF16)) {
    printf("gemm_bf16: skipping the avx512bf16 table: CPU lacks "
           "AVX512_BF16\n");
    return;
  }
  cr_assert(t.gemm_f32.bf16_ukr && t.gemm_f32.bf16_zip);
  struct cmx_gemm_config cfg = t.gemm_f32;
  cfg.bf16_amx = NULL; /* the pair kernel, not AMX (driver_amx) */
  driver_cases(&cfg, "avx512bf16");
  cfg.mc = 28, cfg.kc = 40, cfg.nc = 64;
  driver_cases(&cfg, "avx512bf16 small blocks");
}

/* Every level below avx512bf16 converts bf16 to f32 while packing (the
 * cvt kernel on rows, then the pack kernel's transpose, for row-major A and
 * transposed B): same cases, with its table and with small blocks. */
Test(gemm_bf16, driver_converts_below_avx512bf16) {
  for (int isa = 0; isa < CMX_ISA_COUNT; isa++) {
    struct cmx_dispatch t;
    if (isa == CMX_ISA_AVX512BF16 ||
        cmx_dispatch_for(&t, (enum cmx_isa_level)isa))
      continue;
    struct cmx_gemm_config cfg = t.gemm_f32;
    cfg.bf16_amx = NULL; /* the AMX path has its own test */
    driver_cases(&cfg, t.name);
    cfg.mc = 2 * cfg.mr, cfg.kc = 24, cfg.nc = 2 * cfg.nr;
    driver_cases(&cfg, t.name);
  }
}

/* bf16 x bf16 on AMX tiles, where this CPU and OS have them: the driver
 * cases on the avx512 and avx512bf16 tables (AMX takes precedence over
 * both the conversion and the pair kernel), then with blocks of 32 rows,
 * 64 k and 64 columns so the cases cross ic, pc and jc blocks and a k
 * block ends part-way through a 32-element tile step. */
Test(gemm_bf16, driver_amx) {
  if (!cmx_cpu_has_amx_bf16()) {
    printf("gemm_bf16: skipping the AMX path: no AMX-BF16 here (CPUID, "
           "XCR0, or the OS refused the tile state; CMX_AMX=0 also)\n");
    return;
  }
  int levels[] = {CMX_ISA_AVX512, CMX_ISA_AVX512BF16};
  for (int li = 0; li < 2; li++) {
    struct cmx_dispatch t;
    cr_assert_eq(cmx_dispatch_for(&t, (enum cmx_isa_level)levels[li]), 0);
    cr_assert(t.gemm_f32.bf16_amx && t.gemm_f32.amx_begin &&
                  t.gemm_f32.amx_end && t.gemm_f32.bf16_zip,
              "%s: AMX kernel missing from the table", t.name);
    driver_cases(&t.gemm_f32, t.name);
    struct cmx_gemm_config cfg = t.gemm_f32;
    cfg.amx_mc = 32, cfg.amx_kc = 64, cfg.nc = 64;
    driver_cases(&cfg, "amx small blocks");
  }
  /* Below avx512 there is no AMX path. */
  struct cmx_dispatch t;
  if (cmx_dispatch_for(&t, CMX_ISA_AVX2) == 0)
    cr_assert(t.gemm_f32.bf16_amx == NULL, "avx2 table has the AMX kernel");
}

/* Only the avx512bf16 level has the pair kernel; the levels below it
 * (CMX_ISA=avx512, avx2, generic) convert while packing. */
Test(gemm_bf16, levels_below_have_no_pair_kernel) {
  for (int isa = 0; isa < CMX_ISA_COUNT; isa++) {
    struct cmx_dispatch t;
    if (cmx_dispatch_for(&t, (enum cmx_isa_level)isa)) continue;
    int want = isa == CMX_ISA_AVX512BF16;
    cr_assert_eq(t.gemm_f32.bf16_ukr != NULL, want, "level %s", t.name);
    if (want) {
      int listed = 0;
      for (size_t ri = 0; ri < sizeof BROWS / sizeof BROWS[0]; ri++)
        listed |= BROWS[ri].fn == t.gemm_f32.bf16_ukr &&
                  BROWS[ri].mr == t.gemm_f32.mr &&
                  BROWS[ri].nr == t.gemm_f32.nr;
      cr_assert(listed, "bf16 slot is not a row of f32-gemm.inc");
    }
  }
}

/* The table cmx picks here: the avx512bf16 level wherever CPUID has
 * AVX512_BF16 (its vcvtne2ps2bf16 cast in the f32 -> bf16 slot), its
 * vdpbf16ps GEMM kept only where cmx_pairs_pay(); naming the level
 * forces the pair kernel. */
Test(gemm_bf16, default_table_pairs_only_where_they_pay) {
  cr_assert_eq(cmx_arch_select("default"), 0);
  const struct cmx_dispatch *d = cmx_dispatch();
  struct cmx_dispatch t;
  if (cmx_dispatch_for(&t, CMX_ISA_AVX512BF16)) {
    cr_assert_neq(d->isa, CMX_ISA_AVX512BF16);
    cr_assert(!cmx_pairs_pay(), "pairs pay without the level");
    printf("gemm_bf16: CPU lacks AVX512_BF16: default level %s\n", d->name);
    return;
  }
  cr_assert_eq(d->isa, CMX_ISA_AVX512BF16, "default %s", d->name);
  cr_assert(d->cvt[CMX_CVT_F32_BF16] == t.cvt[CMX_CVT_F32_BF16] &&
                t.cvt[CMX_CVT_F32_BF16] != NULL,
            "default table lacks the level's f32 -> bf16 cast");
  cr_assert_eq(d->gemm_f32.bf16_ukr != NULL, cmx_pairs_pay(),
               "pair kernel %s by default, pays %d",
               d->gemm_f32.bf16_ukr ? "kept" : "dropped", cmx_pairs_pay());
  printf("gemm_bf16: default avx512bf16 table %s vdpbf16ps\n",
         d->gemm_f32.bf16_ukr ? "takes" : "leaves out");
  cr_assert_eq(cmx_arch_select("avx512bf16"), 0);
  cr_assert(cmx_dispatch()->gemm_f32.bf16_ukr == t.gemm_f32.bf16_ukr &&
                t.gemm_f32.bf16_ukr != NULL,
            "naming the level must force the pair kernel");
  cr_assert_eq(cmx_arch_select(NULL), 0);
  cr_assert(cmx_dispatch() == d);
}

/* cmx_matmul of two bf16 arrays at the current level (make test runs the
 * ops suites under every CMX_ISA): bf16 result within bf16 rounding of the
 * float64 product; a batched, transposed, sliced case with a broadcast
 * batch and k across several blocks. */
Test(ops_matmul_bf16, bf16_views_against_f64) {
  int64_t bt = 3, m = 19, k = 1031, n = 45;
  double *av = malloc(sizeof(double) * (size_t)(bt * m * k));
  double *bv = malloc(sizeof(double) * (size_t)(n * 2 * k));
  tu_rand(av, bt * m * k, CMX_BF16, -1, 1, 3);
  tu_rand(bv, n * 2 * k, CMX_BF16, -1, 1, 4);
  cmx_array a, b0, b1, b, c;
  TU_OK(tu_array(&a, av, CMX_BF16, (int64_t[]){bt, m, k}, 3));
  TU_OK(tu_array(&b0, bv, CMX_BF16, (int64_t[]){n, 2 * k}, 2));
  /* b = b0[:, ::2]^T: k x n, strides (2, 2k) */
  TU_OK(cmx_slice(&b1, b0, (int64_t[]){0, 0}, (int64_t[]){n, 2 * k},
                  (int64_t[]){1, 2}, 2, NULL));
  TU_OK(cmx_transpose(&b, b1, NULL, 0, NULL));
  TU_OK(cmx_matmul(&c, a, b, NULL));
  cr_assert_eq(cmx_array_dtype(c), CMX_BF16);
  double *got = malloc(sizeof(double) * (size_t)(bt * m * n));
  tu_read(c, got);
  for (int64_t t = 0; t < bt; t++)
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        double e = 0, mag = 0;
        for (int64_t q = 0; q < k; q++) {
          double x = av[(t * m + i) * k + q] * bv[j * 2 * k + 2 * q];
          e += x, mag += fabs(x);
        }
        double g = got[(t * m + i) * n + j];
        double tol = fabs(e) / 256.0 + (double)(k + 2) * EPS32 * mag * 1.01;
        cr_assert(fabs(g - e) <= tol, "%s: (%ld,%ld,%ld) %.6g vs f64 %.6g",
                  cmx_isa(), (long)t, (long)i, (long)j, g, e);
      }
  free(av), free(bv), free(got);
  cmx_array_free(a), cmx_array_free(b0), cmx_array_free(b1);
  cmx_array_free(b), cmx_array_free(c);
}
