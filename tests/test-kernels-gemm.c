/* Every row of f32-gemm.inc this CPU can run, against the reference
 * microkernel: m in {1, MR-1, MR}, n in {1, NR-1, NR}, k in {0, 1, 2, odd,
 * large}, packed and unpacked B, packed and unpacked A (aux.lda, every m
 * from the row's dmin to MR, against the reference on the packed copy; the
 * rows past m NaN), alpha/beta including beta = 0 over NaN,
 * C with a row stride wider than the tile and canaries around every C
 * element the kernel must not touch. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/dispatch.h"

struct grow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_gemm_ukr_fn fn;
  size_t mr, nr, dmin;
};
#define CMX_UKR(isa, name, mr, nr, dmin) {isa, #name, name, mr, nr, dmin},
static const struct grow ROWS[] = {
#include "kernels/f32-gemm/f32-gemm.inc"
};
#undef CMX_UKR
#define NROWS (sizeof ROWS / sizeof ROWS[0])
static const float CANARY = -7777.25f;

static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static float rnd(uint64_t *s) {
  return (float)((double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0) *
                 2.0 - 1.0);
}

/* One case: the row against the reference on the same packed operands. */
static void check(const struct grow *r, size_t m, size_t n, size_t k,
                  int unpacked_b, int unpacked_a, float alpha, float beta,
                  uint64_t seed) {
  size_t mr = r->mr, nr = r->nr, ldc = nr + 5, ldb = nr + 3;
  size_t kk = k ? k : 1;
  float *a = aligned_alloc(64, ((mr * kk * 4 + 15) / 16) * 64);
  float *b = aligned_alloc(64, ((ldb * kk * 4 + 15) / 16) * 64 + 64);
  size_t csz = (mr + 2) * ldc;
  float *c0 = malloc(csz * 4), *c1 = malloc(csz * 4);
  uint64_t s = seed;
  for (size_t i = 0; i < mr * kk; i++) a[i] = rnd(&s);
  for (size_t p = 0; p < kk; p++)
    for (size_t j = 0; j < ldb; j++)
      b[p * ldb + j] = unpacked_b ? (j < n ? rnd(&s) : NAN)
                                  : (j < nr ? rnd(&s) : 0.0f);
  if (!unpacked_b) /* packed: rows of nr */
    for (size_t p = 0; p < kk; p++)
      memmove(b + p * nr, b + p * ldb, nr * 4);
  /* rows m..mr-1 of the packed A panel hold anything finite */
  for (size_t i = 0; i < csz; i++) c0[i] = CANARY;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++)
      c0[(i + 1) * ldc + j] = beta == 0.0f ? NAN : rnd(&s);
  memcpy(c1, c0, csz * 4);
  struct cmx_f32_gemm_aux ref = {
      alpha, beta, unpacked_b ? ldb : 0, mr, nr, NULL, 0, NULL, 0};
  struct cmx_f32_gemm_aux aux = ref;
  /* unpacked A: the packed panel's rows, row-major with a row stride wider
   * than k, NaN in the gap (it must not be read) */
  size_t lda = kk + 3;
  float *au = malloc(mr * lda * 4);
  for (size_t i = 0; i < mr; i++)
    for (size_t p = 0; p < lda; p++)
      au[i * lda + p] = p < kk && i < m ? a[p * mr + i] : NAN;
  if (unpacked_a) aux.lda = lda;
  cmx_f32_gemm_ukr_ref(m, n, k, a, b, c0 + ldc, ldc, &ref);
  r->fn(m, n, k, unpacked_a ? au : a, b, c1 + ldc, ldc, &aux);
  free(au);
  for (size_t i = 0; i < mr + 2; i++)
    for (size_t j = 0; j < ldc; j++) {
      float g = c1[i * ldc + j], w = c0[i * ldc + j];
      int inside = i >= 1 && i <= m && j < n;
      if (!inside) {
        cr_assert(g == CANARY, "%s m=%zu n=%zu k=%zu: canary (%zu,%zu) = %g",
                  r->name, m, n, k, i, j, g);
        continue;
      }
      cr_assert(!isnan(g), "%s m=%zu n=%zu k=%zu beta=%g: NaN at (%zu,%zu)",
                r->name, m, n, k, beta, i - 1, j);
      float tol = 1e-5f * (float)(k + 2) * (1.0f + fabsf(w));
      cr_assert(fabsf(g - w) <= tol,
                "%s m=%zu n=%zu k=%zu ldb=%d lda=%d: (%zu,%zu) got %.9g "
                "want %.9g",
                r->name, m, n, k, unpacked_b, unpacked_a, i - 1, j, g, w);
    }
  free(a);
  free(b);
  free(c0);
  free(c1);
}

Test(kernels_gemm, every_row_against_ref) {
  for (size_t ri = 0; ri < NROWS; ri++) {
    const struct grow *r = &ROWS[ri];
    if (!cmx_cpu_has(r->isa)) {
      printf("kernels_gemm: skipping %s (CPU lacks its ISA)\n", r->name);
      continue;
    }
    /* n around half the tile: the AVX kernels run one vector of B a step
     * up to nr / 2 columns */
    size_t ms[] = {1, r->mr - 1, r->mr};
    size_t ns[] = {1, r->nr / 2, r->nr / 2 + 1, r->nr - 1, r->nr};
    size_t ks[] = {0, 1, 2, 37, 515};
    uint64_t seed = 1;
    for (int mi = 0; mi < 3; mi++)
      for (int ni = 0; ni < 5; ni++)
        for (int ki = 0; ki < 5; ki++)
          for (int ub = 0; ub < 2; ub++)
            for (int ua = 0; ua < (mi == 2 ? 2 : 1); ua++) {
              check(r, ms[mi], ns[ni], ks[ki], ub, ua, 1.0f, 0.0f, seed++);
              check(r, ms[mi], ns[ni], ks[ki], ub, ua, -0.5f, 1.5f, seed++);
            }
    /* unpacked A of fewer rows than the tile (14x32: 7 ... 13 rows each
     * their own FMA count, fewer one at a time) */
    for (size_t m = r->dmin; m < r->mr; m++)
      for (int ni = 1; ni < 5; ni++)
        for (int ki = 1; ki < 5; ki += 2)
          for (int ub = 0; ub < 2; ub++) {
            check(r, m, ns[ni], ks[ki], ub, 1, 1.0f, 0.0f, seed++);
            check(r, m, ns[ni], ks[ki], ub, 1, -0.5f, 1.5f, seed++);
          }
  }
}

struct prow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_gemm_pack_fn fn;
  size_t rmax;
};
#define CMX_PACK(isa, name, rmax) {isa, #name, name, rmax},
static const struct prow PROWS[] = {
#include "kernels/f32-gemm/f32-gemm.inc"
};
#undef CMX_PACK

/* Every pack row against the reference: r in {1, rmax-1, rmax} and the
 * GEMM tiles' mr, m in {0, 1, r-1, r}, k around the vector width, a panel
 * stride wider than r, canaries around the lanes it may write; rows of src
 * past m are NaN (they must not be read). Packing is a copy: exact. */
Test(kernels_gemm, every_pack_row_against_ref) {
  for (size_t ri = 0; ri < sizeof PROWS / sizeof PROWS[0]; ri++) {
    const struct prow *w = &PROWS[ri];
    if (!cmx_cpu_has(w->isa)) {
      printf("kernels_gemm: skipping %s (CPU lacks its ISA)\n", w->name);
      continue;
    }
    size_t rs[] = {1, w->rmax - 1, w->rmax, 4, 6, 8, 14};
    size_t ks[] = {0, 1, 7, 8, 15, 16, 17, 33, 300};
    uint64_t seed = 7;
    for (size_t ri2 = 0; ri2 < sizeof rs / sizeof rs[0]; ri2++) {
      size_t r = rs[ri2];
      if (r < 1 || r > w->rmax) continue;
      size_t msz[] = {0, 1, r - 1, r};
      for (int mi = 0; mi < 4; mi++)
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
          size_t m = msz[mi], k = ks[ki], lds = k + 3, ldd = r + 2;
          float *src = malloc((r * lds + 1) * 4);
          float *d0 = malloc((k * ldd + 1) * 4), *d1 = malloc((k * ldd + 1) * 4);
          for (size_t i = 0; i < r * lds; i++)
            src[i] = i / lds < m ? rnd(&seed) : NAN;
          for (size_t i = 0; i < k * ldd; i++) d0[i] = d1[i] = CANARY;
          cmx_f32_gemm_pack_ukr__ref(r, m, k, src, lds, d0, ldd);
          w->fn(r, m, k, src, lds, d1, ldd);
          cr_assert(!memcmp(d0, d1, k * ldd * 4),
                    "%s r=%zu m=%zu k=%zu differs from the reference",
                    w->name, r, m, k);
          for (size_t p = 0; p < k; p++)
            for (size_t i = 0; i < ldd; i++)
              cr_assert(i < r ? !isnan(d1[p * ldd + i])
                              : d1[p * ldd + i] == CANARY,
                        "%s r=%zu m=%zu k=%zu: lane (%zu,%zu)", w->name, r,
                        m, k, p, i);
          free(src), free(d0), free(d1);
        }
    }
  }
}

/* A table kernel that takes unpacked A in runs (direct_runs; the
 * convolution's taps), against the reference on the same runs and a
 * float64 sum: every row count from direct_rows (or mr) to mr, one and two
 * vectors of columns and a partial one, runs of 8, 16 and 21 columns at
 * scattered offsets (NaN between them, never read), the last run short. */
Test(kernels_gemm, direct_runs_against_ref) {
  for (int isa = 0; isa < CMX_ISA_COUNT; isa++) {
    struct cmx_dispatch t;
    if (cmx_dispatch_for(&t, (enum cmx_isa_level)isa) ||
        !t.gemm_f32.direct_runs)
      continue;
    const struct cmx_gemm_config *g = &t.gemm_f32;
    const size_t mr = g->mr, nr = g->nr, lda = 1000;
    const size_t m0 = g->direct_rows ? g->direct_rows : mr;
    static const size_t rl[] = {8, 16, 21}, nq[] = {1, 3, 9};
    uint64_t s = 7;
    for (size_t m = m0; m <= mr; m++)
      for (size_t ri = 0; ri < 3; ri++)
        for (size_t qi = 0; qi < 3; qi++)
          for (size_t n = 1; n <= nr; n += n == 1 ? nr / 2 - 1 : nr / 2) {
            const size_t L = rl[ri], q = nq[qi], k = q * L - (q > 1 ? 3 : 0);
            size_t roff[9];
            for (size_t u = 0; u < q; u++) roff[u] = (q - u) * 31 + u * 40;
            float *a = malloc(mr * lda * sizeof(float));
            float *b = aligned_alloc(64, ((k * nr * 4 + 63) / 64) * 64);
            float c0[16 * 64], c1[16 * 64], cin[16 * 64];
            for (size_t i = 0; i < mr * lda; i++) a[i] = NAN;
            for (size_t i = 0; i < m; i++)
              for (size_t p = 0; p < k; p++)
                a[i * lda + roff[p / L] + p % L] = rnd(&s);
            for (size_t p = 0; p < k * nr; p++)
              b[p] = p % nr < n ? rnd(&s) : 0.0f;
            for (size_t i = 0; i < 16 * 64; i++)
              cin[i] = c0[i] = c1[i] = rnd(&s);
            struct cmx_f32_gemm_aux aux = {1.0f, 0.5f, 0,    mr, nr,
                                           NULL, lda,  roff, L};
            cmx_f32_gemm_ukr_ref(m, n, k, a, b, c0, 64, &aux);
            g->ukr(m, n, k, a, b, c1, 64, &aux);
            for (size_t i = 0; i < 16; i++)
              for (size_t j = 0; j < 64; j++) {
                const float got = c1[i * 64 + j];
                if (i >= m || j >= n) {
                  cr_assert(got == c0[i * 64 + j],
                            "level %d: (%zu,%zu) "
                            "outside the %zux%zu tile written",
                            isa, i, j, m, n);
                  continue;
                }
                double want = 0, mag = 0;
                for (size_t p = 0; p < k; p++) {
                  const double v =
                      (double)a[i * lda + roff[p / L] + p % L] * b[p * nr + j];
                  want += v, mag += fabs(v);
                }
                cr_assert(!isnan(got) &&
                              fabsf(got - c0[i * 64 + j]) <=
                                  1e-5f * (float)(mag + 1) &&
                              fabs(got - (want + 0.5 * cin[i * 64 + j])) <=
                                  1e-5 * (mag + 1),
                          "level %d m=%zu n=%zu runs %zu of %zu, k %zu: "
                          "(%zu,%zu) got %.9g ref %.9g",
                          isa, m, n, q, L, k, i, j, got, c0[i * 64 + j]);
              }
            free(a), free(b);
          }
  }
}

Test(kernels_gemm, tables_hold_listed_kernels) {
  for (int isa = 0; isa < CMX_ISA_COUNT; isa++) {
    struct cmx_dispatch t;
    if (cmx_dispatch_for(&t, (enum cmx_isa_level)isa)) continue;
    cr_assert(t.gemm_f32.ukr != NULL, "level %d has no gemm kernel", isa);
    int listed = 0;
    for (size_t ri = 0; ri < NROWS; ri++)
      listed |= ROWS[ri].fn == t.gemm_f32.ukr &&
                ROWS[ri].mr == t.gemm_f32.mr && ROWS[ri].nr == t.gemm_f32.nr;
    cr_assert(listed, "level %d: gemm slot not a row of f32-gemm.inc", isa);
    /* direct_rows promises what the row's dmin allows */
    for (size_t ri = 0; ri < NROWS; ri++)
      if (ROWS[ri].fn == t.gemm_f32.ukr && t.gemm_f32.direct_rows)
        cr_assert(t.gemm_f32.direct_rows >= ROWS[ri].dmin &&
                      t.gemm_f32.direct_rows <= t.gemm_f32.mr,
                  "level %d: direct_rows %zu outside [%zu, %zu]", isa,
                  t.gemm_f32.direct_rows, ROWS[ri].dmin, t.gemm_f32.mr);
    cr_assert(t.gemm_f32.rowacc != NULL, "level %d has no rowacc kernel",
              isa);
    size_t mc, kc, nc;
    cmx_f32_gemm_blocking(&t.gemm_f32, &mc, &kc, &nc, NULL);
    cr_assert(mc % t.gemm_f32.mr == 0 && nc % t.gemm_f32.nr == 0 && kc > 0);
  }
}

struct vrow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_gemv4_ukr_fn fn;
};
#define CMX_GEMV4(isa, name) {isa, #name, name},
static const struct vrow VROWS[] = {
#include "kernels/f32-gemm/f32-gemm.inc"
};
#undef CMX_GEMV4

struct drow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_dot4_ukr_fn fn;
};
#define CMX_DOT4(isa, name) {isa, #name, name},
static const struct drow DROWS[] = {
#include "kernels/f32-gemm/f32-gemm.inc"
};
#undef CMX_DOT4

/* Every GEMV dot row against a float64 model (k eps of the sum of |terms|)
 * and, for the generic row, bitwise against the serial sum it promises; n
 * around the vector widths, rows at odd offsets, m 1-5 vectors of x at an
 * odd stride (each sum the same bits whatever m is), canaries past s. */
Test(kernels_gemm, every_dot4_row_against_f64) {
  size_t ns[] = {0, 1, 7, 8, 15, 16, 17, 31, 33, 64, 128, 1023};
  for (size_t gi = 0; gi < sizeof DROWS / sizeof DROWS[0]; gi++) {
    const struct drow *g = &DROWS[gi];
    if (!cmx_cpu_has(g->isa)) {
      printf("kernels_gemm: skipping %s (CPU lacks its ISA)\n", g->name);
      continue;
    }
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
      size_t n = ns[t], ldx = n + 3;
      float *buf = malloc((4 * n + 8) * sizeof(float));
      float *x = malloc((5 * ldx + 1) * sizeof(float));
      const float *r[4];
      for (size_t i = 0; i < 4 * n + 8; i++)
        buf[i] = (float)((i * 11 + 5) % 37) / 9.0f - 2.0f;
      for (size_t i = 0; i < 5 * ldx + 1; i++)
        x[i] = (float)((i * 5 + 3) % 23) / 7.0f - 1.5f;
      for (int u = 0; u < 4; u++) r[u] = buf + 1 + (size_t)u * (n + 1);
      float one[4];
      for (size_t m = 1; m <= 5; m++) {
        float s[22];
        for (int i = 0; i < 22; i++) s[i] = 99.0f;
        g->fn(n, r, x + 1, m, ldx, s);
        cr_assert(s[4 * m] == 99.0f && s[4 * m + 1] == 99.0f,
                  "%s n=%zu m=%zu: wrote past s[%zu]", g->name, n, m,
                  4 * m - 1);
        for (size_t v = 0; v < m; v++) {
          const float *xv = x + 1 + v * ldx;
          g->fn(n, r, xv, 1, ldx, one);
          for (int u = 0; u < 4; u++) {
            double want = 0, mag = 0;
            float serial = 0.0f;
            for (size_t i = 0; i < n; i++) {
              want += (double)xv[i] * r[u][i];
              mag += fabs((double)xv[i] * r[u][i]);
              serial = fmaf(xv[i], r[u][i], serial);
            }
            const float got = s[v * 4 + (size_t)u];
            cr_assert(fabs(got - want) <= 2.0 * (double)n * FLT_EPSILON * mag +
                                               1e-30,
                      "%s n=%zu m=%zu vector %zu row %d: %.9g want %.9g",
                      g->name, n, m, v, u, (double)got, want);
            cr_assert(got == one[u] || (got != got && one[u] != one[u]),
                      "%s n=%zu m=%zu vector %zu row %d: %a, alone %a",
                      g->name, n, m, v, u, got, one[u]);
            if (g->isa == CMX_ISA_GENERIC)
              cr_assert_eq(got, serial, "%s n=%zu row %d: not the serial sum",
                           g->name, n, u);
          }
        }
      }
      free(buf);
      free(x);
    }
  }
}

struct hrow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_dot4h_ukr_fn fn;
};
#define CMX_DOT4H(isa, name) {isa, #name, name},
static const struct hrow HROWS[] = {
#include "kernels/f32-gemm/f32-gemm.inc"
};
#undef CMX_DOT4H

/* f16 bits of a normal or zero value -> f32 (exact) */
static float half_to_float(uint16_t h) {
  uint32_t e = (h >> 10) & 0x1f, bits = (uint32_t)(h & 0x8000) << 16;
  if (e) bits |= ((e - 15 + 127) << 23) | ((uint32_t)(h & 0x3ff) << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* count 16-bit values of both signs (bf16 around 2^-7, f16 normals), and
 * each widened exactly to f32 in wide */
static void fill_h16(uint16_t *hb, float *wide, size_t count, int bf,
                     uint32_t mul) {
  for (size_t i = 0; i < count; i++) {
    uint32_t v = (uint32_t)(i * mul) >> 9;
    hb[i] = bf ? (uint16_t)(0x3c00 + (v & 0x3ff) + ((v >> 10) & 1) * 0x8000)
               : (uint16_t)(0x3000 + (v & 0x7ff) + ((v >> 11) & 1) * 0x8000);
    if (bf) {
      uint32_t bits = (uint32_t)hb[i] << 16;
      memcpy(&wide[i], &bits, 4);
    } else {
      wide[i] = half_to_float(hb[i]);
    }
  }
}

/* Every 16-bit-row dot kernel against its level's dot4 on the rows
 * widened first: the same bits (widening is exact), bf16 and f16, n
 * around the vector widths, m 1-5 vectors, rows at odd offsets. */
Test(kernels_gemm, every_dot4h_row_against_dot4) {
  size_t ns[] = {0, 1, 7, 8, 15, 16, 17, 33, 64, 1023};
  for (size_t gi = 0; gi < sizeof HROWS / sizeof HROWS[0]; gi++) {
    const struct hrow *g = &HROWS[gi];
    if (!cmx_cpu_has(g->isa)) {
      printf("kernels_gemm: skipping %s (CPU lacks its ISA)\n", g->name);
      continue;
    }
    cmx_f32_dot4_ukr_fn f32 = NULL;
    for (size_t d = 0; d < sizeof DROWS / sizeof DROWS[0]; d++)
      if (DROWS[d].isa == g->isa) f32 = DROWS[d].fn;
    cr_assert(f32 != NULL, "%s: no dot4 row at its level", g->name);
    for (int bf = 0; bf < 2; bf++)
      for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        size_t n = ns[t], ldx = n + 3;
        uint16_t *hb = malloc((4 * n + 8) * sizeof(uint16_t));
        float *wide = malloc((4 * n + 8) * sizeof(float));
        float *x = malloc((5 * ldx + 1) * sizeof(float));
        fill_h16(hb, wide, 4 * n + 8, bf, 2654435761u);
        for (size_t i = 0; i < 5 * ldx + 1; i++)
          x[i] = (float)((i * 5 + 3) % 23) / 7.0f - 1.5f;
        const uint16_t *h[4];
        const float *r[4];
        for (int u = 0; u < 4; u++) {
          h[u] = hb + 1 + (size_t)u * (n + 1);
          r[u] = wide + 1 + (size_t)u * (n + 1);
        }
        for (size_t m = 1; m <= 5; m++) {
          float s0[20], s1[22];
          s1[4 * m] = s1[4 * m + 1] = 99.0f;
          f32(n, r, x + 1, m, ldx, s0);
          g->fn(n, h, bf, x + 1, m, ldx, s1);
          cr_assert(s1[4 * m] == 99.0f && s1[4 * m + 1] == 99.0f,
                    "%s n=%zu m=%zu: wrote past s", g->name, n, m);
          for (size_t e = 0; e < 4 * m; e++)
            cr_assert(s0[e] == s1[e], "%s %s n=%zu m=%zu [%zu]: %a, dot4 %a",
                      g->name, bf ? "bf16" : "f16", n, m, e, s1[e], s0[e]);
        }
        free(hb), free(wide), free(x);
      }
  }
}

struct vhrow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_gemv4h_ukr_fn fn;
};
#define CMX_GEMV4H(isa, name) {isa, #name, name},
static const struct vhrow VHROWS[] = {
#include "kernels/f32-gemm/f32-gemm.inc"
};
#undef CMX_GEMV4H

/* Every 16-bit-row accumulate kernel against its level's gemv4 on the rows
 * widened first: the same bits, bf16 and f16, n around the vector widths,
 * canaries past acc[n]. */
Test(kernels_gemm, every_gemv4h_row_against_gemv4) {
  size_t ns[] = {1, 7, 8, 15, 16, 17, 33, 64, 1023};
  for (size_t gi = 0; gi < sizeof VHROWS / sizeof VHROWS[0]; gi++) {
    const struct vhrow *g = &VHROWS[gi];
    if (!cmx_cpu_has(g->isa)) {
      printf("kernels_gemm: skipping %s (CPU lacks its ISA)\n", g->name);
      continue;
    }
    cmx_f32_gemv4_ukr_fn f32 = NULL;
    for (size_t d = 0; d < sizeof VROWS / sizeof VROWS[0]; d++)
      if (VROWS[d].isa == g->isa) f32 = VROWS[d].fn;
    cr_assert(f32 != NULL, "%s: no gemv4 row at its level", g->name);
    for (int bf = 0; bf < 2; bf++)
      for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        size_t n = ns[t];
        uint16_t *hb = malloc((4 * n + 8) * sizeof(uint16_t));
        float *wide = malloc((4 * n + 8) * sizeof(float));
        float *a0 = malloc((n + 2) * sizeof(float));
        float *a1 = malloc((n + 2) * sizeof(float));
        fill_h16(hb, wide, 4 * n + 8, bf, 2246822519u);
        for (size_t i = 0; i < n + 2; i++)
          a0[i] = a1[i] = (float)((i * 7 + 1) % 13) / 5.0f - 1.0f;
        a0[n] = a1[n] = 77.0f;
        const uint16_t *h[4];
        const float *r[4];
        for (int u = 0; u < 4; u++) {
          h[u] = hb + 1 + (size_t)u * (n + 1);
          r[u] = wide + 1 + (size_t)u * (n + 1);
        }
        const float w[4] = {0.75f, -1.5f, 2.25f, -0.125f};
        f32(n, r, w, 1, 4, a0, n);
        g->fn(n, h, bf, w, a1);
        cr_assert(a1[n] == 77.0f, "%s n=%zu: wrote past acc[n]", g->name, n);
        for (size_t i = 0; i < n; i++)
          cr_assert(a0[i] == a1[i], "%s %s n=%zu [%zu]: %a, gemv4 %a", g->name,
                    bf ? "bf16" : "f16", n, i, a1[i], a0[i]);
        free(hb), free(wide), free(a0), free(a1);
      }
  }
}

/* Every GEMV accumulate row against the reference (bitwise: same order of
 * four fused multiply-adds per element) and a float64 model, n around the
 * vector widths, with canaries past acc[n]; a zero weight on a row holding
 * inf would be NaN, so rows here are finite and the driver pads with a
 * zero row. */
/* m accumulators at once (strided weights and accumulators) against m
 * calls of one: the same bits, for m up to 9 (groups of 4 or 2 and their
 * remainders), every tail; canaries between and after the accumulators. */
Test(kernels_gemm, every_gemv4_row_many_accumulators) {
  size_t ns[] = {1, 7, 16, 17, 33, 128, 131};
  for (size_t gi = 0; gi < sizeof VROWS / sizeof VROWS[0]; gi++) {
    const struct vrow *g = &VROWS[gi];
    if (!cmx_cpu_has(g->isa)) continue;
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
      const size_t n = ns[t], lda = n + 5, ldw = 6;
      float *r[4], w[9 * 6], *a = malloc(9 * lda * sizeof(float)),
                             *b = malloc(9 * lda * sizeof(float));
      for (int u = 0; u < 4; u++) {
        r[u] = malloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++)
          r[u][i] = (float)((i * 5 + (size_t)u * 11) % 23) / 3.0f - 3.0f;
      }
      for (size_t k = 0; k < 9 * ldw; k++)
        w[k] = (float)((k * 7) % 17) / 4.0f - 2.0f;
      for (size_t m = 1; m <= 9; m++) {
        for (size_t k = 0; k < 9 * lda; k++)
          a[k] = b[k] = k % lda < n ? (float)(k % 19) * 0.25f : 99.0f;
        g->fn(n, (const float *const *)r, w, m, ldw, a, lda);
        for (size_t v = 0; v < m; v++)
          g->fn(n, (const float *const *)r, w + v * ldw, 1, 4, b + v * lda,
                n);
        for (size_t k = 0; k < 9 * lda; k++)
          cr_assert(memcmp(&a[k], &b[k], 4) == 0,
                    "%s n=%zu m=%zu [%zu]: %a, one at a time %a", g->name, n,
                    m, k, (double)a[k], (double)b[k]);
      }
      for (int u = 0; u < 4; u++) free(r[u]);
      free(a), free(b);
    }
  }
}

Test(kernels_gemm, every_gemv4_row_against_ref) {
  size_t ns[] = {1, 7, 8, 15, 16, 17, 31, 33, 64, 1023, 4096};
  for (size_t gi = 0; gi < sizeof VROWS / sizeof VROWS[0]; gi++) {
    const struct vrow *g = &VROWS[gi];
    if (!cmx_cpu_has(g->isa)) {
      printf("kernels_gemm: skipping %s (CPU lacks its ISA)\n", g->name);
      continue;
    }
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
      size_t n = ns[t];
      float *r[4], acc[4096 + 8], ref[4096 + 8];
      double want[4096];
      float w[4] = {0.75f, -1.25f, 0.5f, 2.0f};
      for (int u = 0; u < 4; u++) {
        r[u] = malloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++)
          r[u][i] = (float)((i * 7 + (size_t)u * 13) % 29) / 7.0f - 2.0f;
      }
      for (size_t i = 0; i < n + 8; i++) acc[i] = ref[i] = i < n ? 0.5f : 99.0f;
      for (size_t i = 0; i < n; i++) {
        want[i] = 0.5;
        for (int u = 0; u < 4; u++) want[i] += (double)w[u] * r[u][i];
      }
      g->fn(n, (const float *const *)r, w, 1, 4, acc, n);
      cmx_f32_gemv4_ukr__ref(n, (const float *const *)r, w, 1, 4, ref, n);
      for (size_t i = 0; i < n + 8; i++) {
        cr_assert_eq(acc[i], ref[i], "%s n=%zu i=%zu: %g vs ref %g", g->name,
                     n, i, (double)acc[i], (double)ref[i]);
        if (i < n)
          cr_assert_float_eq(acc[i], want[i], 1e-5, "%s n=%zu i=%zu",
                             g->name, n, i);
      }
      for (int u = 0; u < 4; u++) free(r[u]);
    }
  }
}

struct rarow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_rowacc_ukr_fn fn;
};
#define CMX_ROWACC(isa, name) {isa, #name, name},
static const struct rarow RAROWS[] = {
#include "kernels/f32-gemm/f32-gemm.inc"
};
#undef CMX_ROWACC

/* Every row-accumulate row against the reference, bitwise (one FMA per
 * element per row of B, in order, whatever the grouping), and the
 * reference against a float64 model: m 1..8 (weights in registers) and
 * 9, 13, 24, 37 (B's vectors in registers, taller blocks), kb 1..8 (whole
 * register passes and single-row tails), n around the vector widths and
 * their groups of three, acc rows with canaries between them (ld > n), B
 * rows at odd offsets, prefetch on and off. Random data, never zeros. */
Test(kernels_gemm, every_rowacc_row_against_ref) {
  size_t ns[] = {1, 7, 16, 17, 33, 48, 100, 1023};
  static const size_t ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 24, 37};
  uint64_t st = 0x9e3779b97f4a7c15u;
  for (size_t gi = 0; gi < sizeof RAROWS / sizeof RAROWS[0]; gi++) {
    const struct rarow *g = &RAROWS[gi];
    if (!cmx_cpu_has(g->isa)) {
      printf("kernels_gemm: skipping %s (CPU lacks its ISA)\n", g->name);
      continue;
    }
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++)
      for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
        for (size_t kb = 1; kb <= 8; kb++) {
          size_t m = ms[mi], n = ns[t], ld = n + 5, rl = n + 3;
          /* 2 kb rows: the last kb are the prefetch targets (pf = kb rl) */
          float *b = malloc((2 * kb * rl + 1) * sizeof(float));
          float *acc = malloc(m * ld * sizeof(float));
          float *ref = malloc(m * ld * sizeof(float));
          float w[8 * 37];
          const float *r[8];
          for (size_t i = 0; i < 2 * kb * rl + 1; i++) {
            st ^= st << 13, st ^= st >> 7, st ^= st << 17;
            b[i] = (float)(st >> 40) / (float)(1 << 24) * 4.0f - 2.0f;
          }
          for (size_t i = 0; i < m * kb; i++)
            w[i] = (float)((i * 37 + kb * 5 + 3) % 41) / 8.0f - 2.5f;
          for (size_t u = 0; u < kb; u++) r[u] = b + 1 + u * rl;
          for (size_t i = 0; i < m * ld; i++)
            acc[i] = ref[i] = i % ld < n ? (float)(i % 13) / 4.0f - 1.5f
                                         : CANARY;
          ptrdiff_t pf = t % 2 ? (ptrdiff_t)(kb * rl) : 0;
          g->fn(m, kb, n, r, w, acc, ld, pf);
          cmx_f32_rowacc_ukr__ref(m, kb, n, r, w, ref, ld, 0);
          for (size_t i = 0; i < m * ld; i++) {
            cr_assert_eq(acc[i], ref[i],
                         "%s m=%zu kb=%zu n=%zu [%zu]: %a vs ref %a",
                         g->name, m, kb, n, i, (double)acc[i], (double)ref[i]);
            if (i % ld >= n) continue;
            double want = (double)((i % 13) / 4.0f - 1.5f), mag = fabs(want);
            for (size_t u = 0; u < kb; u++) {
              double tm = (double)w[u * m + i / ld] * r[u][i % ld];
              want += tm, mag += fabs(tm);
            }
            cr_assert(fabs(ref[i] - want) <= 2.0 * (double)kb * FLT_EPSILON *
                                                 mag + 1e-30,
                      "ref m=%zu kb=%zu n=%zu [%zu]: %g want %g", m, kb, n,
                      i, (double)ref[i], want);
          }
          free(b), free(acc), free(ref);
        }
  }
}

struct rhrow {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_rowacch_ukr_fn fn;
};
#define CMX_ROWACCH(isa, name) {isa, #name, name},
static const struct rhrow RHROWS[] = {
#include "kernels/f32-gemm/f32-gemm.inc"
};
#undef CMX_ROWACCH

/* Every 16-bit row-accumulate row against the reference on the rows
 * widened first: the same bits (one FMA per element per row, in order);
 * bf16 and f16, m 1..8 and 9, 13, 24, 37 (B's vectors in registers), kb
 * 1..8, n around the vector widths and their groups of three, acc rows
 * with canaries between them, prefetch on and off. */
Test(kernels_gemm, every_rowacch_row_against_ref) {
  size_t ns[] = {1, 7, 16, 17, 33, 48, 100};
  static const size_t ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 24, 37};
  for (size_t gi = 0; gi < sizeof RHROWS / sizeof RHROWS[0]; gi++) {
    const struct rhrow *g = &RHROWS[gi];
    if (!cmx_cpu_has(g->isa)) {
      printf("kernels_gemm: skipping %s (CPU lacks its ISA)\n", g->name);
      continue;
    }
    for (int bf = 0; bf < 2; bf++)
      for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++)
        for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
          for (size_t kb = 1; kb <= 8; kb++) {
            size_t m = ms[mi], n = ns[t], ld = n + 5, rl = n + 3,
                   nb = 2 * kb * rl + 1;
            uint16_t *hb = malloc(nb * sizeof(uint16_t));
            float *wide = malloc(nb * sizeof(float));
            float *acc = malloc(m * ld * sizeof(float));
            float *ref = malloc(m * ld * sizeof(float));
            float w[8 * 37];
            const float *r[8];
            const uint16_t *h[8];
            fill_h16(hb, wide, nb, bf, 2654435761u + (uint32_t)(m * 8 + kb));
            for (size_t i = 0; i < m * kb; i++)
              w[i] = (float)((i * 37 + kb * 5 + 3) % 41) / 8.0f - 2.5f;
            for (size_t u = 0; u < kb; u++) {
              r[u] = wide + 1 + u * rl;
              h[u] = hb + 1 + u * rl;
            }
            for (size_t i = 0; i < m * ld; i++)
              acc[i] = ref[i] = i % ld < n ? (float)(i % 13) / 4.0f - 1.5f
                                           : CANARY;
            ptrdiff_t pf = t % 2 ? (ptrdiff_t)(kb * rl) : 0;
            g->fn(m, kb, n, h, bf, w, acc, ld, pf);
            cmx_f32_rowacc_ukr__ref(m, kb, n, r, w, ref, ld, 0);
            for (size_t i = 0; i < m * ld; i++)
              cr_assert_eq(acc[i], ref[i],
                           "%s %s m=%zu kb=%zu n=%zu [%zu]: %a vs ref %a",
                           g->name, bf ? "bf16" : "f16", m, kb, n, i,
                           (double)acc[i], (double)ref[i]);
            free(hb), free(wide), free(acc), free(ref);
          }
  }
}
