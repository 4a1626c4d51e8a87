/* quantize, dequantize and quantized_matmul against references written
 * here: MLX's quantiser in f32 arithmetic (the algorithm is defined in f32;
 * a float64 version would round differently at ties) with bit-exact packed
 * words; dequantize against scale * q + bias in float64; quantized_matmul
 * against a float64 x @ W of the SAME dequantised weights, on odd sizes,
 * every bits x group size, transpose true and false, strided and broadcast
 * x, batched W, f16/bf16 x and scales; 1 vs 2 threads bitwise; error
 * paths (status, NULL outs, no leaks). Runs under each CMX_ISA. */
#include "test-util.h"

static const int BITS[] = {2, 4, 8};
static const int GS[] = {32, 64, 128};

static cmx_array rand_array(const int64_t *sh, int nd, cmx_dtype t,
                            uint64_t seed, double lo, double hi) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++)
    n *= sh[i];
  double *v = malloc(sizeof(double) * (size_t)(n + 1));
  tu_rand(v, n, t, lo, hi, seed);
  cmx_array a;
  TU_OK(tu_array(&a, v, t, sh, nd));
  free(v);
  return a;
}

static double *read_all(cmx_array a) {
  double *v = malloc(sizeof(double) * (size_t)(cmx_array_size(a) + 1));
  tu_read(a, v);
  return v;
}

/* MLX's affine quantiser on one group of gs values (f32 arithmetic). */
static void ref_group(const double *w, int gs, int bits, uint32_t *words,
                      float *scale, float *bias) {
  float n_bins = (float)((1 << bits) - 1), lo = INFINITY, hi = -INFINITY;
  for (int c = 0; c < gs; c++) {
    float x = (float)w[c];
    hi = x > hi ? x : hi;
    lo = x < lo ? x : lo;
  }
  int mask = fabsf(lo) > fabsf(hi);
  float s = (hi - lo) / n_bins;
  s = s > 1e-7f ? s : 1e-7f;
  s = mask ? s : -s;
  float edge = mask ? lo : hi, q0 = rintf(edge / s), b = 0.0f;
  if (q0 != 0.0f)
    s = edge / q0, b = edge;
  int epw = 32 / bits;
  for (int u = 0; u < gs / epw; u++) {
    uint32_t word = 0;
    for (int e = 0; e < epw; e++) {
      float q = rintf(((float)w[u * epw + e] - b) / s);
      q = q < 0.0f ? 0.0f : (q > n_bins ? n_bins : q);
      word |= (uint32_t)q << (bits * e);
    }
    words[u] = word;
  }
  *scale = s;
  *bias = b;
}

static unsigned code(const uint32_t *row, int64_t c, int bits) {
  int epw = 32 / bits;
  return (row[c / epw] >> (bits * (c % epw))) & ((1u << bits) - 1);
}

static uint32_t *read_words(cmx_array a) {
  uint32_t *v = malloc(cmx_array_nbytes(a) + 4);
  TU_OK(cmx_array_read(a, v, cmx_array_nbytes(a)));
  return v;
}

/* Quantises w (rows x k of dtype t) and checks words, scales, biases and
 * the round trip through cmx_dequantize. */
static void check_quantize(int64_t rows, int64_t k, int gs, int bits,
                           cmx_dtype t, uint64_t seed) {
  char what[96];
  snprintf(what, sizeof what, "quantize %lldx%lld gs %d bits %d %s",
           (long long)rows, (long long)k, gs, bits, cmx_dtype_name(t));
  int64_t sh[3] = {2, rows, k};
  cmx_array w = rand_array(sh, 3, t, seed, -2.0, 1.5), wq, sc, bi, dq;
  TU_OK(cmx_quantize(&wq, &sc, &bi, w, gs, bits, NULL));
  tu_assert_shape(wq, (int64_t[]){2, rows, k * bits / 32}, 3);
  tu_assert_shape(sc, (int64_t[]){2, rows, k / gs}, 3);
  cr_assert_eq(cmx_array_dtype(wq), CMX_U32);
  cr_assert_eq(cmx_array_dtype(sc), t);
  double *W = read_all(w), *S = read_all(sc), *B = read_all(bi);
  uint32_t *Q = read_words(wq);
  int64_t ng = 2 * rows * k / gs, wpg = gs * bits / 32;
  uint32_t words[64];
  for (int64_t g = 0; g < ng; g++) {
    float s, b;
    ref_group(W + g * gs, gs, bits, words, &s, &b);
    for (int64_t u = 0; u < wpg; u++)
      cr_assert_eq(Q[g * wpg + u], words[u],
                   "%s: group %lld word %lld: "
                   "%08x want %08x",
                   what, (long long)g, (long long)u, Q[g * wpg + u], words[u]);
    cr_assert(tu_close(S[g], tu_quant(t, s), tu_eps(t), 0),
              "%s: scale %lld "
              "%.9g want %.9g",
              what, (long long)g, S[g], (double)s);
    cr_assert(tu_close(B[g], tu_quant(t, b), tu_eps(t), 0),
              "%s: bias %lld "
              "%.9g want %.9g",
              what, (long long)g, B[g], (double)b);
  }
  TU_OK(cmx_dequantize(&dq, wq, sc, bi, gs, bits, NULL));
  tu_assert_shape(dq, sh, 3);
  cr_assert_eq(cmx_array_dtype(dq), t);
  double *D = read_all(dq), nb = (double)((1 << bits) - 1);
  for (int64_t i = 0; i < 2 * rows * k; i++) {
    int64_t g = i / gs;
    double q = code(Q, i, bits), want = S[g] * q + B[g];
    /* against scale * q + bias: the f32 multiply-add, then t's rounding */
    cr_assert(tu_close(D[i], want, 2 * tu_eps(t),
                       2 * tu_eps(t) * (fabs(S[g] * q) + fabs(B[g]))),
              "%s: dequant [%lld] %.9g want %.9g", what, (long long)i, D[i],
              want);
    /* against w: half a step inside the grid's span; MLX's edge refinement
     * can shrink the step so that the far edge lies outside the span, by
     * at most one step (clamped codes) */
    double s = fabs(S[g]), err = fabs(D[i] - W[i]);
    double lo = fmin(B[g], B[g] + nb * S[g]), hi = fmax(B[g], B[g] + nb * S[g]);
    double slack = 4 * tu_eps(t) * (fabs(W[i]) + nb * s) + 1e-6 * s;
    double bound = W[i] >= lo && W[i] <= hi ? s / 2 : s;
    cr_assert(err <= bound + slack,
              "%s: [%lld] w %.9g dequantised %.9g, "
              "step %.9g",
              what, (long long)i, W[i], D[i], s);
  }
  free(W), free(S), free(B), free(Q), free(D);
  cmx_array_free(w), cmx_array_free(wq), cmx_array_free(sc);
  cmx_array_free(bi), cmx_array_free(dq);
}

Test(ops_quant, quantize_every_format) {
  for (int b = 0; b < 3; b++)
    for (int g = 0; g < 3; g++) {
      check_quantize(5, GS[g] * 3, GS[g], BITS[b], CMX_F32, 10 + b * 3 + g);
      check_quantize(3, GS[g], GS[g], BITS[b], CMX_F16, 20 + b * 3 + g);
      check_quantize(3, GS[g] * 2, GS[g], BITS[b], CMX_BF16, 30 + b * 3 + g);
    }
}

/* Non-finite weights (the fuzzer's find: a NaN code was converted to an
 * integer, undefined behaviour that UBSan stops on): a NaN weight gets
 * code 0 and its group's finite weights quantise as without it; a group
 * with an infinity stores codes in range (all 0). Other groups unchanged. */
Test(ops_quant, quantize_non_finite_weights) {
  const int gs = 32, bits = 4;
  float v[3 * 32];
  uint64_t sd = 5;
  for (int i = 0; i < 3 * gs; i++) v[i] = (float)(tu_unif(&sd) * 2 - 1);
  v[3] = NAN;           /* group 0 */
  v[gs + 7] = INFINITY; /* group 1; group 2 finite */
  int64_t sh[2] = {1, 3 * gs};
  cmx_array w, wq, sc, bi, w2, wq2, sc2, bi2;
  TU_OK(cmx_array_from_data(&w, v, CMX_F32, sh, 2));
  TU_OK(cmx_quantize(&wq, &sc, &bi, w, gs, bits, NULL));
  v[3] = v[4]; /* a copy of a finite weight: group 0's range unchanged */
  v[gs + 7] = 0.5f;
  TU_OK(cmx_array_from_data(&w2, v, CMX_F32, sh, 2));
  TU_OK(cmx_quantize(&wq2, &sc2, &bi2, w2, gs, bits, NULL));
  uint32_t *Q = read_words(wq), *Q2 = read_words(wq2);
  double *S = read_all(sc), *S2 = read_all(sc2);
  cr_assert_eq(code(Q, 3, bits), 0u, "the NaN weight's code");
  cr_assert_eq(S[0], S2[0], "group 0's scale");
  for (int c = 0; c < gs; c++) {
    if (c != 3)
      cr_assert_eq(code(Q, c, bits), code(Q2, c, bits), "NaN group [%d]", c);
    cr_assert_eq(code(Q, gs + c, bits), 0u, "inf group [%d]", c);
    cr_assert_eq(code(Q, 2 * gs + c, bits), code(Q2, 2 * gs + c, bits),
                 "finite group [%d]", c);
  }
  cr_assert_eq(S[2], S2[2]);
  free(Q), free(Q2), free(S), free(S2);
  cmx_array a[8] = {w, wq, sc, bi, w2, wq2, sc2, bi2};
  for (int i = 0; i < 8; i++) cmx_array_free(a[i]);
}

/* Checks y = x @ dequant(W)^T (tr) or x @ dequant(W), with W read back
 * from wq / scales / biases, x any view (batch dims broadcast). */
static void check_qmm(cmx_array y, cmx_array x, cmx_array wq, cmx_array sc,
                      cmx_array bi, int tr, int gs, int bits,
                      const char *what) {
  const int64_t *ws = cmx_array_shape(wq);
  int wn = cmx_array_ndim(wq);
  int64_t rows = ws[wn - 2], kp = ws[wn - 1] * 32 / bits, wb = 1;
  for (int d = 0; d < wn - 2; d++)
    wb *= ws[d];
  uint32_t *Q = read_words(wq);
  double *S = read_all(sc), *B = read_all(bi);
  /* W as (..., K, N) doubles, the dequantised values themselves */
  int64_t K = tr ? kp : rows, N = tr ? rows : kp;
  double *Wd = malloc(sizeof(double) * (size_t)(wb * K * N));
  double *Wa = malloc(sizeof(double) * (size_t)(wb * K * N));
  for (int64_t t = 0; t < wb; t++)
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < kp; c++) {
        int64_t g = (t * rows + r) * (kp / gs) + c / gs;
        double v =
            S[g] * code(Q + (t * rows + r) * (kp * bits / 32), c, bits) + B[g];
        double sq = S[g] * code(Q + (t * rows + r) * (kp * bits / 32), c, bits);
        Wd[t * K * N + (tr ? c * N + r : r * N + c)] = v;
        /* f32 rounding of scale * q + bias, however the kernel groups it */
        Wa[t * K * N + (tr ? c * N + r : r * N + c)] = fabs(sq) + fabs(B[g]);
      }
  int64_t bsh[CMX_MAX_DIMS];
  memcpy(bsh, ws, sizeof(int64_t) * (size_t)wn);
  bsh[wn - 2] = K, bsh[wn - 1] = N;
  double *X = read_all(x);
  int64_t on = cmx_array_size(y);
  long double *ref = malloc(sizeof(long double) * (size_t)(on + 1));
  double *sc_ = malloc(sizeof(double) * (size_t)(on + 1));
  double *got = malloc(sizeof(double) * (size_t)(on + 1));
  int64_t n = tu_ref_matmul(X, cmx_array_shape(x), cmx_array_ndim(x), Wd, bsh,
                            wn, ref, NULL, sc_);
  cr_assert_eq(n, on, "%s: size %lld want %lld", what, (long long)on,
               (long long)n);
  long double *bound = malloc(sizeof(long double) * (size_t)(on + 1));
  for (int64_t i = 0; i < cmx_array_size(x); i++)
    X[i] = fabs(X[i]);
  tu_ref_matmul(X, cmx_array_shape(x), cmx_array_ndim(x), Wa, bsh, wn, bound,
                NULL, sc_);
  cr_assert_eq(cmx_array_dtype(y), cmx_array_dtype(x));
  tu_read(y, got);
  double e = tu_eps(cmx_array_dtype(y));
  for (int64_t i = 0; i < n; i++) {
    double want = (double)ref[i];
    double tol = 2 * e * fabs(want) + 4e-6 * (double)bound[i] + 1e-30;
    cr_assert(fabs(got[i] - want) <= tol,
              "%s: [%lld] got %.9g want %.9g (tol %g)", what, (long long)i,
              got[i], want, tol);
  }
  free(Q), free(S), free(B), free(Wd), free(Wa), free(X), free(ref);
  free(sc_), free(bound);
  free(got);
}

/* W quantised from random values: tr ? (n, k) : (k, n) (plus batch). */
static void make_w(const int64_t *sh, int nd, cmx_dtype t, int gs, int bits,
                   uint64_t seed, cmx_array *wq, cmx_array *sc, cmx_array *bi) {
  cmx_array w = rand_array(sh, nd, t, seed, -1.0, 1.0);
  TU_OK(cmx_quantize(wq, sc, bi, w, gs, bits, NULL));
  cmx_array_free(w);
}

Test(ops_quant, qmm_every_format_and_size) {
  static const int64_t MS[] = {1, 3, 7, 17, 67}, NS[] = {1, 7, 33, 129};
  for (int b = 0; b < 3; b++)
    for (int g = 0; g < 3; g++)
      for (int tr = 0; tr < 2; tr++)
        for (int kk = 0; kk < 2; kk++) {
          int gs = GS[g], bits = BITS[b];
          for (int ni = 0; ni < 4; ni++) {
            /* tr: K whole groups; else N whole groups, K odd */
            int64_t K = tr ? gs * (kk ? 3 : 1) : NS[ni];
            int64_t N = tr ? NS[ni] : gs * (kk ? 3 : 1);
            if (!tr && ni > 1 && kk)
              continue;
            cmx_array wq, sc, bi;
            make_w((int64_t[]){tr ? N : K, tr ? K : N}, 2, CMX_F32, gs, bits,
                   100 + ni, &wq, &sc, &bi);
            for (int mi = 0; mi < 5; mi++) {
              cmx_array x = rand_array((int64_t[]){MS[mi], K}, 2, CMX_F32,
                                       200 + mi, -1.0, 1.0),
                        y;
              char what[96];
              snprintf(what, sizeof what, "qmm %lldx%lldx%lld b%d g%d tr%d",
                       (long long)MS[mi], (long long)N, (long long)K, bits, gs,
                       tr);
              TU_OK(
                  cmx_quantized_matmul(&y, x, wq, sc, bi, tr, gs, bits, NULL));
              tu_assert_shape(y, (int64_t[]){MS[mi], N}, 2);
              check_qmm(y, x, wq, sc, bi, tr, gs, bits, what);
              cmx_array_free(x), cmx_array_free(y);
            }
            cmx_array_free(wq), cmx_array_free(sc), cmx_array_free(bi);
          }
        }
}

/* Strided, sliced and broadcast x; batched W; 1-D x; deep K (several
 * slabs of the prefill path). */
Test(ops_quant, qmm_views_batches_and_depth) {
  const int gs = 64, bits = 4;
  int64_t N = 33, K = 192;
  cmx_array wq, sc, bi, y, x, v;
  make_w((int64_t[]){N, K}, 2, CMX_F32, gs, bits, 1, &wq, &sc, &bi);
  for (int64_t m = 1; m <= 65; m += 64) {
    /* transposed: stored (K, m), viewed (m, K) */
    x = rand_array((int64_t[]){K, m}, 2, CMX_F32, 2, -1, 1);
    TU_OK(cmx_transpose(&v, x, (int[]){1, 0}, 2, NULL));
    TU_OK(cmx_quantized_matmul(&y, v, wq, sc, bi, true, gs, bits, NULL));
    check_qmm(y, v, wq, sc, bi, 1, gs, bits, "transposed x");
    cmx_array_free(x), cmx_array_free(v), cmx_array_free(y);
    /* sliced: every other row and column of a wider matrix */
    x = rand_array((int64_t[]){2 * m, 2 * K + 1}, 2, CMX_F32, 3, -1, 1);
    TU_OK(cmx_slice(&v, x, (int64_t[]){1, 1}, (int64_t[]){2 * m, 2 * K + 1},
                    (int64_t[]){2, 2}, 2, NULL));
    TU_OK(cmx_quantized_matmul(&y, v, wq, sc, bi, true, gs, bits, NULL));
    check_qmm(y, v, wq, sc, bi, 1, gs, bits, "sliced x");
    cmx_array_free(x), cmx_array_free(v), cmx_array_free(y);
    /* batch (2, 3) of x against one W */
    x = rand_array((int64_t[]){2, 3, m, K}, 4, CMX_F32, 4, -1, 1);
    TU_OK(cmx_quantized_matmul(&y, x, wq, sc, bi, true, gs, bits, NULL));
    tu_assert_shape(y, (int64_t[]){2, 3, m, N}, 4);
    check_qmm(y, x, wq, sc, bi, 1, gs, bits, "batched x");
    cmx_array_free(x), cmx_array_free(y);
  }
  /* 1-D x */
  x = rand_array((int64_t[]){K}, 1, CMX_F32, 5, -1, 1);
  TU_OK(cmx_quantized_matmul(&y, x, wq, sc, bi, true, gs, bits, NULL));
  tu_assert_shape(y, (int64_t[]){N}, 1);
  check_qmm(y, x, wq, sc, bi, 1, gs, bits, "1-D x");
  cmx_array_free(x), cmx_array_free(y);
  cmx_array_free(wq), cmx_array_free(sc), cmx_array_free(bi);
  /* W batched (3, N, K) against x (1, m, K) broadcast and x (3, m, K) */
  make_w((int64_t[]){3, N, K}, 3, CMX_F32, gs, bits, 6, &wq, &sc, &bi);
  for (int64_t m = 2; m <= 66; m += 64)
    for (int xb = 1; xb <= 3; xb += 2) {
      x = rand_array((int64_t[]){xb, m, K}, 3, CMX_F32, 7, -1, 1);
      TU_OK(cmx_quantized_matmul(&y, x, wq, sc, bi, true, gs, bits, NULL));
      tu_assert_shape(y, (int64_t[]){3, m, N}, 3);
      check_qmm(y, x, wq, sc, bi, 1, gs, bits, "batched W");
      cmx_array_free(x), cmx_array_free(y);
    }
  cmx_array_free(wq), cmx_array_free(sc), cmx_array_free(bi);
  /* deep K: several slabs of KC, both layouts */
  for (int tr = 0; tr < 2; tr++) {
    int64_t k2 = 640, n2 = 128;
    make_w((int64_t[]){tr ? n2 : k2, tr ? k2 : n2}, 2, CMX_F32, gs, bits, 8,
           &wq, &sc, &bi);
    for (int64_t m = 1; m <= 70; m += 69) {
      x = rand_array((int64_t[]){m, k2}, 2, CMX_F32, 9, -1, 1);
      TU_OK(cmx_quantized_matmul(&y, x, wq, sc, bi, tr, gs, bits, NULL));
      check_qmm(y, x, wq, sc, bi, tr, gs, bits, "deep k");
      cmx_array_free(x), cmx_array_free(y);
    }
    cmx_array_free(wq), cmx_array_free(sc), cmx_array_free(bi);
  }
}

/* f16 / bf16 x with f16 / bf16 weights (scales converted per block). */
Test(ops_quant, qmm_half_types) {
  static const cmx_dtype T[] = {CMX_F16, CMX_BF16};
  for (int ti = 0; ti < 2; ti++)
    for (int tr = 0; tr < 2; tr++)
      for (int64_t m = 1; m <= 81; m += 40) {
        int64_t N = tr ? 65 : 128, K = tr ? 256 : 40;
        cmx_array wq, sc, bi, y;
        make_w((int64_t[]){tr ? N : K, tr ? K : N}, 2, T[ti], 64, 4, 11, &wq,
               &sc, &bi);
        cmx_array x = rand_array((int64_t[]){m, K}, 2, T[ti], 12, -1, 1);
        TU_OK(cmx_quantized_matmul(&y, x, wq, sc, bi, tr, 64, 4, NULL));
        check_qmm(y, x, wq, sc, bi, tr, 64, 4, cmx_dtype_name(T[ti]));
        cmx_array_free(x), cmx_array_free(y);
        cmx_array_free(wq), cmx_array_free(sc), cmx_array_free(bi);
      }
}

/* One and two threads give the same bits (decode and prefill paths). */
Test(ops_quant, threads_bitwise) {
  for (int tr = 0; tr < 2; tr++)
    for (int64_t m = 1; m <= 70; m += 69) {
      int64_t N = 256, K = 640;
      cmx_array wq, sc, bi, y;
      make_w((int64_t[]){tr ? N : K, tr ? K : N}, 2, CMX_BF16, 64, 4, 21, &wq,
             &sc, &bi);
      cmx_array x = rand_array((int64_t[]){m, K}, 2, CMX_F32, 22, -1, 1);
      float *r[2];
      for (int t = 0; t < 2; t++) {
        TU_OK(cmx_set_num_threads(t + 1));
        TU_OK(cmx_quantized_matmul(&y, x, wq, sc, bi, tr, 64, 4, NULL));
        size_t nb = cmx_array_nbytes(y);
        r[t] = malloc(nb);
        TU_OK(cmx_array_read(y, r[t], nb));
        if (t)
          cr_assert(memcmp(r[0], r[1], nb) == 0, "m %lld tr %d: threads",
                    (long long)m, tr);
        cmx_array_free(y);
      }
      free(r[0]), free(r[1]);
      cmx_array_free(x);
      cmx_array_free(wq), cmx_array_free(sc), cmx_array_free(bi);
    }
}

Test(ops_quant, errors) {
  cmx_array w = rand_array((int64_t[]){4, 64}, 2, CMX_F32, 1, -1, 1);
  cmx_array wi = rand_array((int64_t[]){4, 64}, 2, CMX_I32, 1, -9, 9);
  cmx_array w1 = rand_array((int64_t[]){64}, 1, CMX_F32, 1, -1, 1);
  cmx_array w48 = rand_array((int64_t[]){4, 48}, 2, CMX_F32, 1, -1, 1);
  cmx_array wq, sc, bi;
  TU_OK(cmx_quantize(&wq, &sc, &bi, w, 32, 4, NULL));
  size_t start = cmx_get_active_memory();
  cmx_array a = (cmx_array)1, b = (cmx_array)1, c = (cmx_array)1;
#define NULLS() cr_assert(!a && !b && !c, "outs not NULL")
  TU_FAILS(CMX_EINVAL, "bits 3", cmx_quantize(&a, &b, &c, w, 32, 3, NULL));
  NULLS();
  a = b = c = (cmx_array)1;
  TU_FAILS(CMX_EINVAL, "group_size 16",
           cmx_quantize(&a, &b, &c, w, 16, 4, NULL));
  NULLS();
  a = b = c = (cmx_array)1;
  TU_FAILS(CMX_ESHAPE, "cmx_quantize",
           cmx_quantize(&a, &b, &c, w48, 32, 4, NULL));
  NULLS();
  a = b = c = (cmx_array)1;
  TU_FAILS(CMX_ESHAPE, "cmx_quantize",
           cmx_quantize(&a, &b, &c, w1, 32, 4, NULL));
  NULLS();
  a = b = c = (cmx_array)1;
  TU_FAILS(CMX_EDTYPE, "cmx_quantize",
           cmx_quantize(&a, &b, &c, wi, 32, 4, NULL));
  NULLS();
  a = b = c = (cmx_array)1;
  TU_FAILS(CMX_EINVAL, "cmx_quantize",
           cmx_quantize(&a, &b, &c, NULL, 32, 4, NULL));
  NULLS();
  a = b = (cmx_array)1;
  TU_FAILS(CMX_EINVAL, "cmx_quantize",
           cmx_quantize(&a, &b, NULL, w, 32, 4, NULL));
  cr_assert(!a && !b);
  /* dequantize */
  a = (cmx_array)1;
  TU_FAILS(CMX_EINVAL, "bits 5", cmx_dequantize(&a, wq, sc, bi, 32, 5, NULL));
  cr_assert(!a);
  TU_FAILS(CMX_ESHAPE, "cmx_dequantize",
           cmx_dequantize(&a, wq, sc, bi, 64, 4, NULL));
  TU_FAILS(CMX_EDTYPE, "wq", cmx_dequantize(&a, w, sc, bi, 32, 4, NULL));
  TU_FAILS(CMX_EDTYPE, "scales", cmx_dequantize(&a, wq, wi, bi, 32, 4, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_dequantize",
           cmx_dequantize(&a, wq, sc, NULL, 32, 4, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_dequantize",
           cmx_dequantize(NULL, wq, sc, bi, 32, 4, NULL));
  cr_assert(!a);
  /* quantized_matmul: x (3, 64) against w (4, 64) */
  cmx_array x = rand_array((int64_t[]){3, 64}, 2, CMX_F32, 2, -1, 1);
  cmx_array x2 = rand_array((int64_t[]){3, 32}, 2, CMX_F32, 2, -1, 1);
  cmx_array xi = rand_array((int64_t[]){3, 64}, 2, CMX_I32, 2, -9, 9);
  start = cmx_get_active_memory();
  a = (cmx_array)1;
  TU_FAILS(CMX_EINVAL, "bits 7",
           cmx_quantized_matmul(&a, x, wq, sc, bi, true, 32, 7, NULL));
  cr_assert(!a);
  TU_FAILS(CMX_EINVAL, "group_size 256",
           cmx_quantized_matmul(&a, x, wq, sc, bi, true, 256, 4, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_quantized_matmul",
           cmx_quantized_matmul(&a, x2, wq, sc, bi, true, 32, 4, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_quantized_matmul",
           cmx_quantized_matmul(&a, x, wq, sc, bi, false, 32, 4, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_quantized_matmul",
           cmx_quantized_matmul(&a, x, wq, bi, x, true, 32, 4, NULL));
  TU_FAILS(CMX_EDTYPE, "x has dtype",
           cmx_quantized_matmul(&a, xi, wq, sc, bi, true, 32, 4, NULL));
  TU_FAILS(CMX_EDTYPE, "wq has dtype",
           cmx_quantized_matmul(&a, x, w, sc, bi, true, 32, 4, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_quantized_matmul",
           cmx_quantized_matmul(&a, NULL, wq, sc, bi, true, 32, 4, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_quantized_matmul",
           cmx_quantized_matmul(&a, x, wq, NULL, bi, true, 32, 4, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_quantized_matmul",
           cmx_quantized_matmul(NULL, x, wq, sc, bi, true, 32, 4, NULL));
  cr_assert(!a);
  cr_assert_eq(cmx_get_active_memory(), start, "leaked %zu bytes",
               cmx_get_active_memory() - start);
  cmx_array_free(x), cmx_array_free(x2), cmx_array_free(xi);
  cmx_array_free(w), cmx_array_free(wi), cmx_array_free(w1);
  cmx_array_free(w48), cmx_array_free(wq), cmx_array_free(sc);
  cmx_array_free(bi);
#undef NULLS
}
