/* Random: Threefry-2x32-20 known answers (Random123 / JAX test vectors),
 * bitwise determinism across thread counts, uniform and normal moments
 * within statistical bounds, split keys independent, dtypes and errors. */
#include "test-util.h"
#include "../arch/dispatch.h"
#include "../kernels/random/random.h"

Test(ops_random, threefry_known_answers) {
  /* Salmon et al.'s kat_vectors for threefry2x32_20, as in JAX's tests. */
  static const uint32_t kat[3][6] = {
      {0, 0, 0, 0, 0x6b200159u, 0x99ba4efeu},
      {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x1cb996fcu,
       0xbb002be7u},
      {0x13198a2eu, 0x03707344u, 0x243f6a88u, 0x85a308d3u, 0xc4923a9cu,
       0x483df7a0u}};
  for (int i = 0; i < 3; i++) {
    uint32_t out[2];
    cmx_threefry2x32(kat[i], kat[i] + 2, out);
    cr_assert(out[0] == kat[i][4] && out[1] == kat[i][5],
              "vector %d: %08x %08x", i, out[0], out[1]);
  }
}

static void bits_of(cmx_array a, void *buf) {
  TU_OK(cmx_array_read(a, buf, cmx_array_nbytes(a)));
}

/* The fills against cmx_threefry2x32, which the known-answer test pins
 * (the fill maps a chunk's blocks after computing them): split keys are
 * the stream's words, and f32 uniforms are fmaf((word >> 8) 2^-24, b - a,
 * a) of word i % 2 of block i / 2. */
Test(ops_random, fills_match_scalar_threefry) {
  cmx_array key, sp, u;
  TU_OK(cmx_random_key(&key, 0x123456789abcdefull));
  uint32_t kw[2];
  bits_of(key, kw);
  TU_OK(cmx_random_split(&sp, key, 37, NULL));
  uint32_t got[74];
  bits_of(sp, got);
  for (uint32_t k = 0; k < 74; k++) {
    uint32_t c[2] = {k / 2, 0}, w[2];
    cmx_threefry2x32(kw, c, w);
    cr_assert_eq(got[k], w[k % 2], "split word %u: %08x, want %08x", k,
                 got[k], w[k % 2]);
  }
  int64_t n = 1001;
  TU_OK(cmx_random_uniform(&u, -2, 3, &n, 1, CMX_F32, key, NULL));
  float f[1001];
  bits_of(u, f);
  for (int64_t i = 0; i < n; i++) {
    uint32_t c[2] = {(uint32_t)(i / 2), 0}, w[2];
    cmx_threefry2x32(kw, c, w);
    float want = fmaf((float)(w[i % 2] >> 8) * 0x1p-24f, 5.0f, -2.0f);
    cr_assert_eq(f[i], want, "uniform [%lld]: %a, want %a", (long long)i,
                 f[i], want);
  }
  cmx_array_free(sp), cmx_array_free(u), cmx_array_free(key);
}

Test(ops_random, same_bits_any_thread_count) {
  int64_t sh[2] = {1023, 301};
  size_t n = 1023 * 301;
  cmx_dtype dts[4] = {CMX_F32, CMX_F64, CMX_F16, CMX_BF16};
  cmx_array key;
  TU_OK(cmx_random_key(&key, 42));
  for (int d = 0; d < 4; d++)
    for (int kind = 0; kind < 2; kind++) {
      char *b1 = malloc(n * 8), *b2 = malloc(n * 8);
      for (int nt = 1; nt <= 2; nt++) {
        TU_OK(cmx_set_num_threads(nt));
        cmx_array y;
        if (kind) TU_OK(cmx_random_normal(&y, sh, 2, dts[d], 0, 1, key, NULL));
        else TU_OK(cmx_random_uniform(&y, -1, 1, sh, 2, dts[d], key, NULL));
        bits_of(y, nt == 1 ? b1 : b2);
        cmx_array_free(y);
      }
      cr_assert(memcmp(b1, b2, n * cmx_dtype_size(dts[d])) == 0,
                "dtype %d kind %d differs between 1 and 2 threads", d, kind);
      free(b1);
      free(b2);
    }
  TU_OK(cmx_set_num_threads(2));
  /* A prefix of a larger draw is the smaller draw: bits depend on index. */
  int64_t s1[1] = {7}, s2[1] = {1023};
  cmx_array a, b;
  TU_OK(cmx_random_uniform(&a, 0, 1, s1, 1, CMX_F32, key, NULL));
  TU_OK(cmx_random_uniform(&b, 0, 1, s2, 1, CMX_F32, key, NULL));
  float fa[7], fb[1023];
  bits_of(a, fa);
  bits_of(b, fb);
  cr_assert(memcmp(fa, fb, sizeof fa) == 0);
  cmx_array_free(a);
  cmx_array_free(b);
  cmx_array_free(key);
}

static void moments(cmx_array y, double *mean, double *var, double *m3,
                    double *m4, double *lo, double *hi) {
  int64_t n = cmx_array_size(y);
  double *v = malloc(sizeof(double) * (size_t)n), s = 0, q = 0, c = 0, f = 0;
  tu_read(y, v);
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    s += v[i];
    *lo = fmin(*lo, v[i]);
    *hi = fmax(*hi, v[i]);
  }
  *mean = s / n;
  for (int64_t i = 0; i < n; i++) {
    double d = v[i] - *mean;
    q += d * d;
    c += d * d * d;
    f += d * d * d * d;
  }
  *var = q / n;
  *m3 = c / n;
  *m4 = f / n;
  free(v);
}

Test(ops_random, uniform_and_normal_moments) {
  int64_t sh[1] = {1 << 20};
  double n = (double)sh[0];
  cmx_array key;
  TU_OK(cmx_random_key(&key, 7));
  cmx_dtype dts[4] = {CMX_F32, CMX_F64, CMX_F16, CMX_BF16};
  for (int d = 0; d < 4; d++) {
    cmx_array y;
    double m, v, m3, m4, lo, hi;
    TU_OK(cmx_random_uniform(&y, 2, 5, sh, 1, dts[d], key, NULL));
    moments(y, &m, &v, &m3, &m4, &lo, &hi);
    /* mean 3.5, var 0.75; 6 standard errors (plus rounding for 16-bit). */
    double slack = dts[d] == CMX_BF16 ? 0.02 : dts[d] == CMX_F16 ? 0.003 : 0;
    cr_assert(fabs(m - 3.5) < 6 * sqrt(0.75 / n) + slack, "uniform mean %g", m);
    cr_assert(fabs(v - 0.75) < 6 * sqrt(0.8 / n) + 4 * slack, "uniform var %g",
              v);
    cr_assert(lo >= 2 && hi < 5, "uniform range [%g, %g]", lo, hi);
    cmx_array_free(y);
    TU_OK(cmx_random_normal(&y, sh, 1, dts[d], 1, 2, key, NULL));
    moments(y, &m, &v, &m3, &m4, &lo, &hi);
    /* N(1, 4): var 4, third central moment 0, fourth 3 * 16. */
    cr_assert(fabs(m - 1) < 6 * sqrt(4 / n) + slack, "normal mean %g", m);
    cr_assert(fabs(v - 4) < 6 * sqrt(32 / n) + 8 * slack, "normal var %g", v);
    cr_assert(fabs(m3) < 6 * sqrt(15 * 64 / n) + 8 * slack, "normal m3 %g",
              m3);
    cr_assert(fabs(m4 / 48 - 1) < 0.03, "normal m4 %g", m4);
    cmx_array_free(y);
  }
  cmx_array_free(key);
}

Test(ops_random, split_keys_independent) {
  cmx_array key, ks, k0, k1;
  TU_OK(cmx_random_key(&key, 123));
  TU_OK(cmx_random_split(&ks, key, 3, NULL));
  int64_t sh[2] = {3, 2};
  tu_assert_shape(ks, sh, 2);
  cr_assert_eq(cmx_array_dtype(ks), CMX_U32);
  uint32_t w[6];
  bits_of(ks, w);
  for (int i = 0; i < 3; i++)
    for (int j = i + 1; j < 3; j++)
      cr_assert(w[2 * i] != w[2 * j] || w[2 * i + 1] != w[2 * j + 1]);
  /* Draws from two split keys: uncorrelated and differing. */
  int64_t b[2] = {0, 0}, e[2] = {1, 2}, b1[2] = {1, 0}, e1[2] = {2, 2};
  cmx_array r0, r1;
  TU_OK(cmx_slice(&r0, ks, b, e, NULL, 2, NULL));
  TU_OK(cmx_slice(&r1, ks, b1, e1, NULL, 2, NULL));
  TU_OK(cmx_flatten(&k0, r0, NULL));
  TU_OK(cmx_flatten(&k1, r1, NULL));
  int64_t n[1] = {1 << 16};
  cmx_array x, y;
  TU_OK(cmx_random_normal(&x, n, 1, CMX_F64, 0, 1, k0, NULL));
  TU_OK(cmx_random_normal(&y, n, 1, CMX_F64, 0, 1, k1, NULL));
  double *vx = malloc(sizeof(double) << 16), *vy = malloc(sizeof(double) << 16);
  tu_read(x, vx);
  tu_read(y, vy);
  double c = 0;
  int same = 0;
  for (int i = 0; i < (1 << 16); i++) {
    c += vx[i] * vy[i];
    same += vx[i] == vy[i];
  }
  c /= (1 << 16);
  cr_assert(fabs(c) < 6 / 256.0, "correlation %g", c);
  cr_assert(same < 4, "%d equal draws", same);
  free(vx);
  free(vy);
  cmx_array arr[8] = {key, ks, k0, k1, r0, r1, x, y};
  for (int i = 0; i < 8; i++) cmx_array_free(arr[i]);
}

Test(ops_random, errors) {
  cmx_array key, bad, y = (cmx_array)&y;
  int64_t sh[1] = {4};
  TU_OK(cmx_random_key(&key, 1));
  TU_OK(cmx_zeros(&bad, sh, 1, CMX_U32, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_random_uniform",
           cmx_random_uniform(&y, 0, 1, sh, 1, CMX_F32, bad, NULL));
  cr_assert_null(y);
  TU_FAILS(CMX_EDTYPE, "cmx_random_normal",
           cmx_random_normal(&y, sh, 1, CMX_I32, 0, 1, key, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_random_uniform",
           cmx_random_uniform(&y, 2, 1, sh, 1, CMX_F32, key, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_random_split", cmx_random_split(&y, key, 0, NULL));
  cmx_array_free(bad);
  cmx_array_free(key);
}

/* The fill microkernel of every level this CPU runs gives the generic
 * level's bits (its contract) for bits, uniform and normal, on odd
 * lengths, offsets past 2^32 blocks, and a range whose float end rounds
 * (b - a not a power of two); the generic level's words are
 * cmx_threefry2x32's, its uniforms fmaf(u, b - a, a) clamped below b, and
 * its normals within 1e-5 (1 + |y|) of Box-Muller in double on the same
 * words (vmath's log, cos and sin against libm's). */
Test(ops_random, fill_kernels_same_bits_every_level) {
  static const size_t NS[] = {1, 2, 7, 33, 64, 1023, 4096};
  static const uint64_t E0[] = {0, 64, ((uint64_t)1 << 33) * 3 + 128};
  const uint32_t key[2] = {0x9e3779b9u, 0x7f4a7c15u};
  const float prm[3][4] = {{0, 0, 0, 0},
                           {-0.3f, 1.7f, 1.4f, nextafterf(1.4f, -0.3f)},
                           {0.5f, 2.0f, 0, 0}};
  struct cmx_dispatch ref, lv;
  TU_OK(cmx_dispatch_for(&ref, CMX_ISA_GENERIC));
  uint32_t *g = malloc(4096 * 4), *y = malloc((4096 + 16) * 4);
  int levels = 0;
  for (int isa = CMX_ISA_GENERIC; isa < CMX_ISA_COUNT; isa++) {
    if (!cmx_cpu_has((enum cmx_isa_level)isa) ||
        cmx_dispatch_for(&lv, (enum cmx_isa_level)isa))
      continue;
    levels++;
    for (int kind = 0; kind < 3; kind++)
      for (size_t ei = 0; ei < 3; ei++)
        for (size_t ni = 0; ni < sizeof NS / sizeof NS[0]; ni++) {
          const size_t n = NS[ni];
          const uint64_t e0 = E0[ei];
          ref.rng(key, e0 / 2, n, kind, prm[kind], g);
          for (size_t i = 0; i < n + 16; i++) y[i] = 0xdeadbeefu;
          lv.rng(key, e0 / 2, n, kind, prm[kind], y);
          for (size_t i = 0; i < n; i++)
            cr_assert_eq(y[i], g[i], "level %d kind %d e0 %llu n %zu [%zu]: "
                         "%08x, generic %08x", isa, kind,
                         (unsigned long long)e0, n, i, y[i], g[i]);
          for (size_t i = n; i < n + 16; i++)
            cr_assert_eq(y[i], 0xdeadbeefu, "level %d wrote past n", isa);
          if (isa != CMX_ISA_GENERIC) continue;
          for (size_t i = 0; i < n; i++) {
            const uint64_t e = e0 + i, b = e / 2;
            uint32_t c[2] = {(uint32_t)b, (uint32_t)(b >> 32)}, w[2];
            cmx_threefry2x32(key, c, w);
            float f;
            memcpy(&f, &g[i], 4);
            if (kind == CMX_RAND_BITS) {
              cr_assert_eq(g[i], w[e % 2], "bits [%llu]",
                           (unsigned long long)e);
            } else if (kind == CMX_RAND_UNIFORM) {
              float want = fmaf((float)(w[e % 2] >> 8) * 0x1p-24f, prm[1][1],
                                prm[1][0]);
              if (want >= prm[1][2]) want = prm[1][3];
              cr_assert(f == want && f < 1.4f && f >= -0.3f,
                        "uniform [%llu]: %a, want %a", (unsigned long long)e,
                        f, want);
            } else {
              const double u1 = ((double)(w[0] >> 8) + 1.0) * 0x1p-24;
              const double u2 = (double)(w[1] >> 8) * 0x1p-24;
              const double r = sqrt(-2.0 * log(u1)), t = 2.0 * M_PI * u2;
              const double z = e % 2 ? r * sin(t) : r * cos(t);
              const double want = 0.5 + 2.0 * z;
              cr_assert(fabs(f - want) <= 1e-5 * (1.0 + fabs(want)),
                        "normal [%llu]: %a, Box-Muller in double %a",
                        (unsigned long long)e, f, want);
            }
          }
        }
  }
  cr_assert_geq(levels, 1);
  free(g), free(y);
}
