/* Random: Threefry-2x32-20 known answers (Random123 / JAX test vectors),
 * bitwise determinism across thread counts, uniform and normal moments
 * within statistical bounds, split keys independent, dtypes and errors. */
#include "test-util.h"
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
 * the stream's words, and f32 uniforms are a + (b - a) * (word >> 8) * 2^-24 of word
 * i % 2 of block i / 2, a range of sizes and offsets. */
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
    float want = (float)(-2.0 + 5.0 * ((double)(w[i % 2] >> 8) *
                                        (1.0 / 16777216.0)));
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
