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
