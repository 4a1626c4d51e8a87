/* Every row of f64-gemm.inc and i8-gemm.inc this CPU can run, against the
 * family's reference microkernel on the same packed panels: m in {1, MR-1,
 * MR}, n in {1, NR-1, NR}, k in {0, 1, 3, 4, 5, 37, 515} (i8: every k mod
 * 4), C with a wider row stride and canaries around the tile, beta 0 over
 * NaN (f64) and accumulation into C (i8, with sums that wrap past 2^31).
 * Also the f64 pack rows against a plain transpose. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/dispatch.h"

static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double rnd(uint64_t *s) {
  return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0;
}

/* ---- f64 ---- */
struct drow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f64_gemm_ukr_fn fn;
  size_t mr, nr;
};
#define CMX_UKR(isa, name, mr, nr) {isa, #name, name, mr, nr},
static const struct drow DROWS[] = {
#include "kernels/f64-gemm/f64-gemm.inc"
};
#undef CMX_UKR
static const double DCANARY = -7777.25;

static void check_f64(const struct drow *r, size_t m, size_t n, size_t k,
                      double alpha, double beta, uint64_t seed) {
  size_t mr = r->mr, nr = r->nr, ldc = nr + 5, kk = k ? k : 1;
  double *a = malloc(mr * kk * sizeof(double));
  double *b = malloc(nr * kk * sizeof(double));
  size_t csz = (mr + 2) * ldc;
  double *c0 = malloc(csz * sizeof(double)), *c1 = malloc(csz * sizeof(double));
  uint64_t s = seed;
  for (size_t p = 0; p < kk; p++) {
    for (size_t i = 0; i < mr; i++) a[p * mr + i] = i < m ? rnd(&s) : 0.0;
    for (size_t j = 0; j < nr; j++) b[p * nr + j] = j < n ? rnd(&s) : 0.0;
  }
  for (size_t i = 0; i < csz; i++) c0[i] = DCANARY;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++)
      c0[(i + 1) * ldc + j] = beta == 0.0 ? NAN : rnd(&s);
  memcpy(c1, c0, csz * sizeof(double));
  struct cmx_f64_gemm_aux aux = {alpha, beta, mr, nr};
  cmx_f64_gemm_ukr_ref(m, n, k, a, b, c0 + ldc, ldc, &aux);
  r->fn(m, n, k, a, b, c1 + ldc, ldc, &aux);
  for (size_t i = 0; i < mr + 2; i++)
    for (size_t j = 0; j < ldc; j++) {
      double g = c1[i * ldc + j], w = c0[i * ldc + j];
      if (!(i >= 1 && i <= m && j < n)) {
        cr_assert(g == DCANARY, "%s m=%zu n=%zu k=%zu: canary (%zu,%zu) = %g",
                  r->name, m, n, k, i, j, g);
        continue;
      }
      double tol = 4e-16 * (double)(k + 2) * (1.0 + fabs(w));
      cr_assert(fabs(g - w) <= tol,
                "%s m=%zu n=%zu k=%zu beta=%g: (%zu,%zu) got %.17g want %.17g",
                r->name, m, n, k, beta, i - 1, j, g, w);
    }
  free(a), free(b), free(c0), free(c1);
}

Test(kernels_gemm_typed, f64_every_row_against_ref) {
  for (size_t ri = 0; ri < sizeof DROWS / sizeof DROWS[0]; ri++) {
    const struct drow *r = &DROWS[ri];
    if (!cmx_cpu_has(r->isa)) {
      printf("kernels_gemm_typed: skipping %s (CPU lacks its ISA)\n", r->name);
      continue;
    }
    size_t ms[] = {1, r->mr - 1, r->mr}, ns[] = {1, r->nr - 1, r->nr};
    size_t ks[] = {0, 1, 3, 4, 5, 37, 515};
    uint64_t seed = 1;
    for (int mi = 0; mi < 3; mi++)
      for (int ni = 0; ni < 3; ni++)
        for (int ki = 0; ki < 7; ki++) {
          check_f64(r, ms[mi], ns[ni], ks[ki], 1.0, 0.0, seed++);
          check_f64(r, ms[mi], ns[ni], ks[ki], -0.5, 1.5, seed++);
        }
  }
}

struct dprow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f64_gemm_pack_fn fn;
  size_t rmax;
};
#define CMX_PACK(isa, name, rmax) {isa, #name, name, rmax},
static const struct dprow DPROWS[] = {
#include "kernels/f64-gemm/f64-gemm.inc"
};
#undef CMX_PACK

Test(kernels_gemm_typed, f64_pack_rows) {
  static const size_t rs[] = {1, 3, 4, 6, 7, 8, 14, 16};
  static const size_t ks[] = {1, 3, 7, 8, 9, 33};
  uint64_t s = 5;
  double src[16 * 40], dst[40 * 16 + 8];
  for (size_t i = 0; i < 16 * 40; i++) src[i] = rnd(&s);
  for (size_t ri = 0; ri < sizeof DPROWS / sizeof DPROWS[0]; ri++) {
    const struct dprow *pr = &DPROWS[ri];
    if (!cmx_cpu_has(pr->isa)) continue;
    for (size_t a = 0; a < 8; a++)
      for (size_t b = 0; b < 6; b++) {
        size_t r = rs[a], k = ks[b];
        if (r > pr->rmax) continue;
        for (size_t m = r > 2 ? r - 2 : 1; m <= r; m++) {
          for (size_t i = 0; i < 40 * 16 + 8; i++) dst[i] = DCANARY;
          pr->fn(r, m, k, src + 1, 40, dst);
          for (size_t i = 0; i < 40 * 16 + 8; i++) {
            size_t p = i / r, q = i % r;
            double want = i >= r * k ? DCANARY
                          : q < m    ? src[1 + q * 40 + p]
                                     : 0.0;
            cr_assert(dst[i] == want, "%s r=%zu m=%zu k=%zu: [%zu] %g want %g",
                      pr->name, r, m, k, i, dst[i], want);
          }
        }
      }
  }
}

/* ---- i8 ---- */
struct irow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_i8_gemm_ukr_fn fn;
  size_t mr, nr;
  int vnni;
};
#define CMX_UKR(isa, name, mr, nr, vnni) {isa, #name, name, mr, nr, vnni},
static const struct irow IROWS[] = {
#include "kernels/i8-gemm/i8-gemm.inc"
};
#undef CMX_UKR
static const int32_t ICANARY = -77777;

/* Panels as the packer writes them (contract in i8-gemm.h); extreme: every
 * value -128 (the largest products, sums wrapping past 2^31 for big k). */
static void check_i8(const struct irow *r, size_t m, size_t n, size_t k,
                     int accumulate, int extreme, uint64_t seed) {
  size_t mr = r->mr, nr = r->nr, ldc = nr + 5, kq = (k + 3) / 4 * 4;
  int8_t *a = calloc(kq * mr + 4 * mr + 64, 1), *b = calloc(kq * nr + 64, 1);
  size_t csz = (mr + 2) * ldc;
  int32_t *c0 = malloc(csz * 4), *c1 = malloc(csz * 4), sums[64] = {0};
  uint64_t s = seed;
  for (size_t p = 0; p < k; p++) {
    for (size_t i = 0; i < m; i++) {
      int8_t v = extreme ? -128 : (int8_t)(rng_next(&s) & 0xff);
      a[(p / 4) * mr * 4 + i * 4 + p % 4] = v;
      sums[i] += v;
    }
    for (size_t j = 0; j < n; j++)
      b[(p / 4) * nr * 4 + j * 4 + p % 4] =
          extreme ? -128 : (int8_t)(rng_next(&s) & 0xff);
  }
  memcpy(a + kq * mr, sums, mr * 4);
  for (size_t i = 0; i < csz; i++) c0[i] = ICANARY;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++)
      c0[(i + 1) * ldc + j] = (int32_t)(rng_next(&s) >> 33) - (1 << 30);
  memcpy(c1, c0, csz * 4);
  struct cmx_i8_gemm_aux aux = {accumulate, mr, nr};
  cmx_i8_gemm_ukr_ref(m, n, k, a, b, c0 + ldc, ldc, &aux);
  /* the vnni rows take B biased (i8-gemm.h): every panel byte xor 0x80 */
  if (r->vnni)
    for (size_t q = 0; q < kq * nr; q++) b[q] = (int8_t)(b[q] ^ 0x80);
  r->fn(m, n, k, a, b, c1 + ldc, ldc, &aux);
  for (size_t i = 0; i < mr + 2; i++)
    for (size_t j = 0; j < ldc; j++) {
      int32_t g = c1[i * ldc + j], w = c0[i * ldc + j];
      int inside = i >= 1 && i <= m && j < n;
      cr_assert(inside ? g == w : g == ICANARY,
                "%s m=%zu n=%zu k=%zu acc=%d: (%zu,%zu) got %d want %d",
                r->name, m, n, k, accumulate, i, j, g, w);
    }
  free(a), free(b), free(c0), free(c1);
}

Test(kernels_gemm_typed, i8_every_row_against_ref) {
  for (size_t ri = 0; ri < sizeof IROWS / sizeof IROWS[0]; ri++) {
    const struct irow *r = &IROWS[ri];
    if (!cmx_cpu_has(r->isa) || (r->vnni && !cmx_cpu_has_avx512vnni())) {
      printf("kernels_gemm_typed: skipping %s (CPU lacks its ISA)\n", r->name);
      continue;
    }
    size_t ms[] = {1, r->mr - 1, r->mr}, ns[] = {1, r->nr - 1, r->nr};
    size_t ks[] = {0, 1, 2, 3, 4, 5, 37, 515};
    uint64_t seed = 1;
    for (int mi = 0; mi < 3; mi++)
      for (int ni = 0; ni < 3; ni++)
        for (int ki = 0; ki < 8; ki++)
          for (int acc = 0; acc < 2; acc++)
            check_i8(r, ms[mi], ns[ni], ks[ki], acc, 0, seed++);
    /* -128 everywhere: 2^14 per term, 140000 terms pass 2^31 and wrap */
    check_i8(r, r->mr, r->nr, 131071, 0, 1, 0);
    check_i8(r, r->mr - 1, r->nr - 1, 140001, 1, 1, 0);
  }
}

/* The reference kernel against an int64 sum on the packed layout. */
Test(kernels_gemm_typed, i8_ref_exact) {
  size_t mr = 3, nr = 5, k = 131071, kq = (k + 3) / 4 * 4;
  int8_t *a = calloc(kq * mr + 4 * mr, 1), *b = calloc(kq * nr, 1);
  int64_t want[15] = {0};
  uint64_t s = 9;
  for (size_t p = 0; p < k; p++) {
    for (size_t i = 0; i < mr; i++)
      a[(p / 4) * mr * 4 + i * 4 + p % 4] = (int8_t)(p % 7 ? -128 : (int8_t)rng_next(&s));
    for (size_t j = 0; j < nr; j++)
      b[(p / 4) * nr * 4 + j * 4 + p % 4] = (int8_t)(p % 5 ? -128 : (int8_t)rng_next(&s));
  }
  for (size_t p = 0; p < k; p++)
    for (size_t i = 0; i < mr; i++)
      for (size_t j = 0; j < nr; j++)
        want[i * nr + j] += (int64_t)a[(p / 4) * mr * 4 + i * 4 + p % 4] *
                            b[(p / 4) * nr * 4 + j * 4 + p % 4];
  int32_t c[15];
  struct cmx_i8_gemm_aux aux = {0, mr, nr};
  cmx_i8_gemm_ukr_ref(mr, nr, k, a, b, c, nr, &aux);
  for (int i = 0; i < 15; i++) {
    cr_assert(want[i] <= INT32_MAX && want[i] >= INT32_MIN);
    cr_assert_eq(c[i], want[i], "[%d] %d want %lld", i, c[i],
                 (long long)want[i]);
  }
  free(a), free(b);
}

/* ---- i8 on AMX tiles ---- */
/* The AMX kernel on its own panels (contract in i8-gemm.h) against an
 * int64 sum taken modulo 2^32: m, n in {1, 31, 32}, k around the 64-byte
 * tile step, C with a wider row stride and canaries around the tile, and
 * -128 everywhere past 2^31. */
static void check_i8_amx(const struct cmx_i8_gemm_config *cfg, size_t m,
                         size_t n, size_t k, int accumulate, int extreme,
                         uint64_t seed) {
  size_t kp = (k + 63) / 64 * 64, ldc = 32 + 3;
  int8_t *a = calloc(32 * kp + 64, 1), *b = calloc(kp * 32 + 64, 1);
  size_t csz = 34 * ldc;
  int32_t *c = malloc(csz * 4), *c0 = malloc(csz * 4);
  uint64_t s = seed;
  for (size_t i = 0; i < m; i++)
    for (size_t p = 0; p < k; p++)
      a[i * kp + p] = extreme ? -128 : (int8_t)(rng_next(&s) & 0xff);
  for (size_t p = 0; p < k; p++)
    for (size_t j = 0; j < n; j++)
      b[(p / 4) * 128 + j * 4 + p % 4] =
          extreme ? -128 : (int8_t)(rng_next(&s) & 0xff);
  for (size_t i = 0; i < csz; i++) c[i] = ICANARY;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++)
      c[(i + 1) * ldc + j] = (int32_t)(rng_next(&s) >> 33) - (1 << 30);
  memcpy(c0, c, csz * 4);
  struct cmx_i8_gemm_aux aux = {accumulate, 32, 32};
  cfg->amx_begin();
  cfg->amx(m, n, k, a, b, c + ldc, ldc, &aux);
  cfg->amx_end();
  for (size_t i = 0; i < 34; i++)
    for (size_t j = 0; j < ldc; j++) {
      int inside = i >= 1 && i <= m && j < n;
      int32_t want = c0[i * ldc + j];
      if (inside) {
        int64_t sum = 0;
        for (size_t p = 0; p < k; p++)
          sum += (int64_t)a[(i - 1) * kp + p] * b[(p / 4) * 128 + j * 4 + p % 4];
        uint32_t w = (uint32_t)sum + (accumulate ? (uint32_t)want : 0u);
        want = (int32_t)w;
      }
      cr_assert_eq(c[i * ldc + j], want,
                   "amx m=%zu n=%zu k=%zu acc=%d: (%zu,%zu) got %d want %d",
                   m, n, k, accumulate, i, j, c[i * ldc + j], want);
    }
  free(a), free(b), free(c), free(c0);
}

Test(kernels_gemm_typed, i8_amx_kernel) {
  if (!cmx_cpu_has_amx_int8()) {
    printf("kernels_gemm_typed: skipping the AMX int8 kernel: no AMX-INT8 "
           "here (CPUID, XCR0, or the OS refused the tile state; CMX_AMX=0 "
           "also)\n");
    return;
  }
  struct cmx_dispatch t;
  cr_assert_eq(cmx_dispatch_for(&t, CMX_ISA_AVX512), 0);
  const struct cmx_i8_gemm_config *cfg = &t.gemm_i8;
  cr_assert(cfg->amx && cfg->amx_begin && cfg->amx_end,
            "avx512 table lacks the AMX int8 kernel");
  size_t ms[] = {1, 31, 32}, ks[] = {1, 3, 4, 63, 64, 65, 200, 515};
  uint64_t seed = 5;
  for (int mi = 0; mi < 3; mi++)
    for (int ni = 0; ni < 3; ni++)
      for (int ki = 0; ki < 8; ki++)
        for (int acc = 0; acc < 2; acc++)
          check_i8_amx(cfg, ms[mi], ms[ni], ks[ki], acc, 0, seed++);
  check_i8_amx(cfg, 32, 32, 131071, 0, 1, 0);
  check_i8_amx(cfg, 31, 17, 140001, 1, 1, 0);
  if (cmx_dispatch_for(&t, CMX_ISA_AVX2) == 0)
    cr_assert(t.gemm_i8.amx == NULL, "avx2 table has the AMX int8 kernel");
}

/* The driver with the AMX kernel against the same driver without it (the
 * VNNI kernel), bit for bit: random shapes over the AMX threshold and
 * under it, transposed and sliced operands (any strides), batches with
 * offsets, 1 and 2 threads, and 64-deep k blocks of 32-row and 64-column
 * blocks so the cases cross every block boundary. */
static void i8_driver_case(const struct cmx_i8_gemm_config *amx,
                           const struct cmx_i8_gemm_config *plain,
                           size_t batch, size_t m, size_t n, size_t k,
                           int at, int bt, uint64_t seed) {
  size_t sa = m * k + 7, sb = k * n + 3;
  int8_t *a = malloc(batch * sa), *b = malloc(batch * sb);
  uint64_t s = seed;
  for (size_t i = 0; i < batch * sa; i++) a[i] = (int8_t)(rng_next(&s) & 0xff);
  for (size_t i = 0; i < batch * sb; i++) b[i] = (int8_t)(rng_next(&s) & 0xff);
  int64_t aoff[4], boffs[4];
  for (size_t t = 0; t < batch; t++) aoff[t] = (int64_t)(t * sa + 5), boffs[t] = (int64_t)(t * sb + 1);
  struct cmx_i8_gemm_problem p = {
      .batch = batch, .m = m, .n = n, .k = k,
      .a = {a, at ? 1 : (ptrdiff_t)k, at ? (ptrdiff_t)m : 1, aoff},
      .b = {b, bt ? 1 : (ptrdiff_t)n, bt ? (ptrdiff_t)k : 1, boffs},
      .ldc = n + 1, .ldcb = m * (n + 1) + 2};
  size_t cn = batch * p.ldcb;
  int32_t *c0 = malloc(cn * 4), *c1 = malloc(cn * 4);
  for (size_t i = 0; i < cn; i++) c0[i] = c1[i] = ICANARY;
  for (int nt = 1; nt <= 2; nt++) {
    p.c = c0;
    cr_assert_eq(cmx_i8_gemm(plain, &p, nt), 0);
    p.c = c1;
    cr_assert_eq(cmx_i8_gemm(amx, &p, nt), 0);
    for (size_t i = 0; i < cn; i++)
      cr_assert_eq(c1[i], c0[i],
                   "i8 driver batch=%zu m=%zu n=%zu k=%zu at=%d bt=%d "
                   "threads=%d: [%zu] %d want %d",
                   batch, m, n, k, at, bt, nt, i, c1[i], c0[i]);
  }
  free(a), free(b), free(c0), free(c1);
}

Test(kernels_gemm_typed, i8_amx_driver) {
  if (!cmx_cpu_has_amx_int8()) {
    printf("kernels_gemm_typed: skipping the AMX int8 driver: no AMX-INT8 "
           "here (CPUID, XCR0, or the OS refused the tile state; CMX_AMX=0 "
           "also)\n");
    return;
  }
  struct cmx_dispatch t;
  cr_assert_eq(cmx_dispatch_for(&t, CMX_ISA_AVX512), 0);
  /* plain: no AMX and none of the vector packers (scalar packing), so a
   * packer's fault cannot hide by being on both sides */
  struct cmx_i8_gemm_config plain = t.gemm_i8, small = t.gemm_i8;
  plain.amx = NULL, plain.pack_b4 = NULL, plain.pack_w = NULL;
  plain.dotrows = NULL, plain.sweep = NULL;
  small.amx_kc = 64, small.mc = 32, small.nc = 64;
  size_t shapes[][4] = {{1, 1, 1, 1},    {1, 33, 1000, 77}, {1, 7, 17, 63},
                        {1, 64, 64, 64}, {2, 65, 130, 200}, {3, 31, 33, 17},
                        {1, 100, 96, 1023}, {2, 17, 1, 2100}, {1, 1, 70, 515}};
  uint64_t seed = 11;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (int tr = 0; tr < 4; tr++) {
      size_t *sh = shapes[i];
      i8_driver_case(&t.gemm_i8, &plain, sh[0], sh[1], sh[2], sh[3], tr & 1,
                     tr >> 1, seed++);
      i8_driver_case(&small, &plain, sh[0], sh[1], sh[2], sh[3], tr & 1,
                     tr >> 1, seed++);
    }
}

/* The vector k-quad packer against its contract: every len from 0 to 32,
 * rows 37 bytes apart, a canary after the 128 bytes it writes. */
Test(kernels_gemm_typed, i8_pack_b4) {
  struct cmx_dispatch t;
  if (cmx_dispatch_for(&t, CMX_ISA_AVX512) || !t.gemm_i8.pack_b4) {
    printf("kernels_gemm_typed: skipping pack_b4 (no AVX512-VNNI table "
           "here)\n");
    return;
  }
  int8_t src[4 * 37], d[129];
  uint64_t s = 3;
  for (size_t len = 0; len <= 32; len++) {
    for (size_t i = 0; i < sizeof src; i++) src[i] = (int8_t)rng_next(&s);
    memset(d, 0x55, sizeof d);
    t.gemm_i8.pack_b4(len, src, 37, d);
    for (size_t j = 0; j < 32; j++)
      for (size_t u = 0; u < 4; u++)
        cr_assert_eq(d[j * 4 + u], j < len ? src[u * 37 + j] : 0,
                     "len %zu: column %zu row %zu", len, j, u);
    cr_assert_eq(d[128], 0x55, "len %zu: wrote past 128 bytes", len);
  }
}

/* The level's int8 config with scalar packing, no AMX and neither
 * unpacked path: what the row paths are checked against. */
static struct cmx_i8_gemm_config i8_plain(const struct cmx_i8_gemm_config *c) {
  struct cmx_i8_gemm_config plain = *c;
  plain.amx = NULL, plain.pack_b4 = NULL, plain.pack_w = NULL;
  plain.dotrows = NULL, plain.sweep = NULL;
  return plain;
}

/* -128 everywhere, 1 x 140001 @ 140001 x n (B transposed when bt): the
 * 2^14 products wrap past 2^31; both configs must give k 2^14 mod 2^32. */
static void i8_wrap_case(const struct cmx_i8_gemm_config *full,
                         const struct cmx_i8_gemm_config *plain, size_t n,
                         int bt) {
  size_t k = 140001;
  int8_t *a = malloc(k), *b = malloc(n * k);
  int32_t *c0 = malloc(n * sizeof(int32_t)), *c1 = malloc(n * sizeof(int32_t));
  memset(a, 0x80, k), memset(b, 0x80, n * k);
  struct cmx_i8_gemm_problem p = {
      .batch = 1, .m = 1, .n = n, .k = k,
      .a = {a, (ptrdiff_t)k, 1, NULL},
      .b = {b, bt ? 1 : (ptrdiff_t)n, bt ? (ptrdiff_t)k : 1, NULL},
      .ldc = n, .ldcb = n};
  p.c = c0;
  cr_assert_eq(cmx_i8_gemm(plain, &p, 1), 0);
  p.c = c1;
  cr_assert_eq(cmx_i8_gemm(full, &p, 2), 0);
  int32_t want = (int32_t)(uint32_t)((uint64_t)k << 14);
  for (size_t j = 0; j < n; j++)
    cr_assert(c0[j] == want && c1[j] == want, "n %zu bt %d [%zu] %d / %d "
              "want %d", n, bt, j, c0[j], c1[j], want);
  free(a), free(b), free(c0), free(c1);
}

/* Row dots (cfg->dotrows: A of at most 12 rows against a k-contiguous B)
 * through the driver, against the driver with scalar packing and no AMX:
 * m 1-12 (and 13, 16 packed), k from 64 past the 64-byte step to 4099, odd n,
 * batches with offsets, A in either layout, 1 and 2 threads; then -128
 * everywhere over 140001 k (sums that wrap past 2^31). Row-major B and
 * m > 12 take the other paths, so they are here too. */
Test(kernels_gemm_typed, i8_dotrows_driver) {
  struct cmx_dispatch t;
  if (cmx_dispatch_for(&t, CMX_ISA_AVX512) || !t.gemm_i8.dotrows) {
    printf("kernels_gemm_typed: skipping the int8 row dots (no "
           "AVX512-VNNI here)\n");
    return;
  }
  struct cmx_i8_gemm_config plain = i8_plain(&t.gemm_i8);
  size_t shapes[][4] = {{1, 1, 1, 64},    {1, 2, 17, 65},   {2, 3, 100, 127},
                        {1, 4, 33, 200},  {3, 1, 7, 1000},  {1, 4, 5, 4099},
                        {1, 5, 9, 300},   {2, 1, 64, 63},   {1, 8, 33, 200},
                        {2, 7, 9, 1000},  {1, 12, 5, 100}, {1, 13, 33, 65},
                        {1, 16, 7, 300}};
  uint64_t seed = 101;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (int tr = 0; tr < 4; tr++) {
      size_t *sh = shapes[i];
      i8_driver_case(&t.gemm_i8, &plain, sh[0], sh[1], sh[2], sh[3], tr & 1,
                     tr >> 1, seed++);
    }
  i8_wrap_case(&t.gemm_i8, &plain, 3, 1);
}

/* Row sweeps (cfg->sweep: four rows of A a sweep against a row-major B)
 * through the driver, against the driver with scalar packing, no AMX and
 * neither unpacked path: m 1-8 (and 9, packed), k from 16 past every
 * multiple of 4 and 16 to 4099, n on both sides of the 64-column chunk (1,
 * 63, 64, 65, 1000), batches with offsets, A in either layout, 1 and 2
 * threads; then -128 everywhere over 140001 k for n 3 (the narrow chunk
 * alone) and 70 (a full chunk and a narrow one). */
Test(kernels_gemm_typed, i8_sweep_driver) {
  struct cmx_dispatch t;
  if (cmx_dispatch_for(&t, CMX_ISA_AVX512) || !t.gemm_i8.sweep) {
    printf("kernels_gemm_typed: skipping the int8 row sweeps (no "
           "AVX512-VNNI here)\n");
    return;
  }
  struct cmx_i8_gemm_config plain = i8_plain(&t.gemm_i8);
  size_t shapes[][4] = {{1, 1, 1, 16},    {1, 2, 63, 17},   {2, 3, 64, 18},
                        {1, 4, 65, 19},   {3, 1, 1000, 33}, {1, 4, 130, 4099},
                        {1, 5, 70, 300},  {2, 1, 200, 1023}, {1, 3, 7, 15},
                        {1, 2, 129, 64},  {2, 4, 1, 100},   {1, 8, 130, 100},
                        {1, 6, 65, 33},   {1, 9, 70, 40}};
  uint64_t seed = 707;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (int at = 0; at < 2; at++) {
      size_t *sh = shapes[i];
      i8_driver_case(&t.gemm_i8, &plain, sh[0], sh[1], sh[2], sh[3], at, 0,
                     seed++);
    }
  i8_wrap_case(&t.gemm_i8, &plain, 3, 0);
  i8_wrap_case(&t.gemm_i8, &plain, 70, 0);
}
