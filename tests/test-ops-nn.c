/* NN ops against float64 references written here: softmax and log_softmax
 * over every axis (odd sizes, transposed and sliced views, -inf entries,
 * huge values, f16/bf16/int inputs), layer_norm and rms_norm (weight and
 * bias present or not, broadcastable and strided weights, a large common
 * offset), rope (split and traditional, dims < D, offsets, per-batch
 * offsets, f16 and strided inputs), softplus and silu_mul, and the error
 * paths. Rows up to 33 x 4099 so the team splits the work. */
#include "test-util.h"

static const int64_t DS[] = {1, 7, 17, 1023, 4099};
static const int64_t RS[] = {1, 3, 33};

/* ---- references --------------------------------------------------------- */
static void ref_softmax(const double *x, int64_t n, int64_t st, double *y,
                        int log_) {
  double m = -INFINITY, s = 0;
  int nan = 0;
  for (int64_t i = 0; i < n; i++) {
    nan |= isnan(x[i * st]) || x[i * st] == INFINITY;
    if (x[i * st] > m) m = x[i * st];
  }
  for (int64_t i = 0; i < n; i++) s += exp(x[i * st] - m);
  for (int64_t i = 0; i < n; i++) {
    double v = log_ ? x[i * st] - m - log(s) : exp(x[i * st] - m) / s;
    y[i * st] = nan || m == -INFINITY ? NAN : v;
  }
}

static void ref_norm(const double *x, int64_t n, const double *w,
                     const double *b, double eps, int rms, double *y) {
  double mean = 0, q = 0;
  if (!rms) {
    for (int64_t i = 0; i < n; i++) mean += x[i];
    mean /= (double)n;
  }
  for (int64_t i = 0; i < n; i++) q += (x[i] - mean) * (x[i] - mean);
  double r = 1 / sqrt(q / (double)n + eps);
  for (int64_t i = 0; i < n; i++)
    y[i] = (x[i] - mean) * r * (w ? w[i] : 1) + (b ? b[i] : 0);
}

static void ref_rope(const double *x, int64_t n, int dims, int trad,
                     double base, double scale, double pos, double *y) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i];
  for (int i = 0; i < dims / 2; i++) {
    double a = scale * pos * pow(base, -2.0 * i / dims);
    int i0 = trad ? 2 * i : i, i1 = trad ? 2 * i + 1 : i + dims / 2;
    y[i0] = x[i0] * cos(a) - x[i1] * sin(a);
    y[i1] = x[i1] * cos(a) + x[i0] * sin(a);
  }
}

static double *dalloc(int64_t n) {
  double *p = malloc((size_t)(n ? n : 1) * sizeof *p);
  cr_assert_not_null(p);
  return p;
}

/* ---- softmax ------------------------------------------------------------ */
typedef int (*sm_fn)(cmx_array *, cmx_array, int, cmx_stream);

/* x (shape sh, nd dims, values v row-major) along axis; checks against the
 * reference with tolerance for dtype t. */
static void check_softmax(cmx_array xa, const double *v, const int64_t *sh,
                          int nd, int axis, int log_, cmx_dtype t,
                          const char *what) {
  cmx_array y;
  TU_OK((log_ ? cmx_log_softmax : cmx_softmax)(&y, xa, axis, NULL));
  cmx_dtype want_t = tu_is_float(t) ? t : CMX_F32;
  cr_assert_eq(cmx_array_dtype(y), want_t, "%s: dtype", what);
  tu_assert_shape(y, sh, nd);
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= sh[d];
  double *ref = dalloc(n), *got = dalloc(n);
  int ax = axis < 0 ? axis + nd : axis;
  int64_t st = 1, len = sh[ax];
  for (int d = ax + 1; d < nd; d++) st *= sh[d];
  for (int64_t o = 0; o < n; o++) {
    int64_t outer = o / st, inner = o % st;
    if (outer % len) continue; /* o is the start of a line along ax */
    ref_softmax(v + o, len, st, ref + o, log_);
    (void)inner;
  }
  tu_read(y, got);
  for (int64_t i = 0; i < n; i++) ref[i] = tu_quant(want_t, ref[i]);
  double e = t == CMX_F16 || t == CMX_BF16 ? 3 * tu_eps(t) : 2e-6;
  for (int64_t i = 0; i < n; i++) {
    double tol = log_ ? e * (1 + fabs(ref[i])) + 4e-6 : e * fabs(ref[i]) + 1e-30;
    if (!log_ && (t == CMX_F16 || t == CMX_BF16)) tol += 1e-7;
    cr_assert(tu_close(got[i], ref[i], 0, tol), "%s axis %d log %d [%lld]: "
              "got %.9g want %.9g", what, axis, log_, (long long)i, got[i],
              ref[i]);
  }
  cmx_array_free(y);
  free(ref), free(got);
}

Test(ops_nn, softmax_last_axis_sizes, .timeout = 120) {
  for (size_t di = 0; di < sizeof DS / sizeof DS[0]; di++)
    for (size_t ri = 0; ri < sizeof RS / sizeof RS[0]; ri++) {
      int64_t sh[2] = {RS[ri], DS[di]}, n = sh[0] * sh[1];
      double *v = dalloc(n);
      tu_rand(v, n, CMX_F32, -12, 12, (uint64_t)(di * 10 + ri));
      cmx_array x;
      TU_OK(tu_array(&x, v, CMX_F32, sh, 2));
      check_softmax(x, v, sh, 2, -1, 0, CMX_F32, "softmax");
      check_softmax(x, v, sh, 2, 1, 1, CMX_F32, "log_softmax");
      cmx_array_free(x);
      free(v);
    }
}

Test(ops_nn, softmax_every_axis_and_views) {
  int64_t sh[3] = {5, 7, 9}, n = 5 * 7 * 9;
  double *v = dalloc(n);
  tu_rand(v, n, CMX_F32, -5, 5, 11);
  cmx_array x;
  TU_OK(tu_array(&x, v, CMX_F32, sh, 3));
  for (int ax = -3; ax < 3; ax++)
    for (int lg = 0; lg < 2; lg++) check_softmax(x, v, sh, 3, ax, lg, CMX_F32, "3d");
  /* Transposed: (9, 7, 5) view. */
  cmx_array xt;
  TU_OK(cmx_transpose(&xt, x, NULL, 0, NULL));
  tu_view tv = tu_view_T(tu_view_contig(sh, 3), NULL);
  double *vt = dalloc(n);
  tu_view_gather(&tv, v, vt);
  for (int ax = 0; ax < 3; ax++)
    for (int lg = 0; lg < 2; lg++)
      check_softmax(xt, vt, tv.shape, 3, ax, lg, CMX_F32, "transposed");
  /* Sliced: x[1:, ::2, 1:8]. */
  int64_t b[3] = {1, 0, 1}, e[3] = {5, 7, 8}, s[3] = {1, 2, 1};
  cmx_array xs;
  TU_OK(cmx_slice(&xs, x, b, e, s, 3, NULL));
  tu_view sv = tu_view_slice(tu_view_contig(sh, 3), b, e, s);
  double *vs = dalloc(tu_view_size(&sv));
  tu_view_gather(&sv, v, vs);
  for (int ax = 0; ax < 3; ax++)
    for (int lg = 0; lg < 2; lg++)
      check_softmax(xs, vs, sv.shape, 3, ax, lg, CMX_F32, "sliced");
  cmx_array_free(x), cmx_array_free(xt), cmx_array_free(xs);
  free(v), free(vt), free(vs);
}

Test(ops_nn, softmax_inf_and_huge) {
  enum { R = 6, D = 37 };
  int64_t sh[2] = {R, D};
  double v[R * D];
  tu_rand(v, R * D, CMX_F32, -3, 3, 5);
  for (int i = 0; i < D; i += 3) v[0 * D + i] = -INFINITY; /* some -inf */
  v[1 * D + 4] = 1e30, v[1 * D + 9] = -1e30;                 /* huge */
  v[1 * D + 36] = 2e30; /* the largest, in the last (tail) element */
  for (int i = 0; i < D; i++) v[2 * D + i] = 3e38 * (i % 2 ? 1 : -1);
  for (int i = 0; i < D; i++) v[3 * D + i] = -INFINITY;       /* all -inf */
  v[4 * D + 11] = NAN;
  v[5 * D + 30] = INFINITY;
  cmx_array x;
  TU_OK(tu_array(&x, v, CMX_F32, sh, 2));
  check_softmax(x, v, sh, 2, -1, 0, CMX_F32, "special");
  check_softmax(x, v, sh, 2, -1, 1, CMX_F32, "special");
  cmx_array x64; /* the f64 rows (their own loops) */
  TU_OK(tu_array(&x64, v, CMX_F64, sh, 2));
  check_softmax(x64, v, sh, 2, -1, 0, CMX_F64, "special f64");
  check_softmax(x64, v, sh, 2, -1, 1, CMX_F64, "special f64");
  cmx_array_free(x64);
  /* The same data along a strided axis. */
  cmx_array xt;
  TU_OK(cmx_transpose(&xt, x, NULL, 0, NULL));
  double vt[R * D];
  tu_view tv = tu_view_T(tu_view_contig(sh, 2), NULL);
  tu_view_gather(&tv, v, vt);
  check_softmax(xt, vt, tv.shape, 2, 0, 0, CMX_F32, "special.T");
  cmx_array_free(x), cmx_array_free(xt);
}

/* Rows of 1 to 9 elements (the short rows, taken 64 at a time, and the
 * first length past them), 150 rows, with -inf, all -inf, NaN, +inf and
 * huge rows among them; f32 and bf16 (converted rows). */
Test(ops_nn, softmax_short_rows) {
  enum { R = 150 };
  for (int64_t D = 1; D <= 9; D++)
    for (int t = 0; t < 2; t++) {
      const cmx_dtype dt = t ? CMX_BF16 : CMX_F32;
      int64_t sh[2] = {R, D};
      double *v = dalloc(R * D);
      tu_rand(v, R * D, dt, -6, 6, (uint64_t)(D * 2 + t));
      v[3 * D] = -INFINITY;
      for (int64_t i = 0; i < D; i++) v[70 * D + i] = -INFINITY;
      v[71 * D + D / 2] = NAN;
      v[100 * D + D - 1] = INFINITY;
      for (int64_t i = 0; i < D; i++) v[140 * D + i] = 3e38 * (i % 2 ? 1 : -1);
      if (dt == CMX_BF16) v[140 * D] = 1e38;
      cmx_array x;
      TU_OK(tu_array(&x, v, dt, sh, 2));
      check_softmax(x, v, sh, 2, -1, 0, dt, "short rows");
      check_softmax(x, v, sh, 2, -1, 1, dt, "short rows");
      cmx_array_free(x);
      free(v);
    }
}

/* Over a leading or middle axis of a row-major f32 array with inner runs
 * of 16 or more (taken in place, blocks of 256 of the inner axis): short
 * and long axes, a partial block, specials in some columns. */
Test(ops_nn, softmax_strided_axis) {
  static const int64_t shs[][3] = {{4, 1, 300}, {3, 5, 40}, {1, 37, 600},
                                   {2, 1, 16}};
  for (int k = 0; k < 4; k++) {
    const int64_t *sh = shs[k], n = sh[0] * sh[1] * sh[2];
    double *v = dalloc(n);
    tu_rand(v, n, CMX_F32, -8, 8, (uint64_t)(40 + k));
    v[sh[2] - 1] = NAN;
    v[2] = INFINITY;
    for (int64_t r = 0; r < n / sh[2]; r++) v[r * sh[2] + 5] = -INFINITY;
    cmx_array x;
    TU_OK(tu_array(&x, v, CMX_F32, sh, 3));
    for (int ax = 0; ax < 2; ax++)
      for (int lg = 0; lg < 2; lg++)
        check_softmax(x, v, sh, 3, ax, lg, CMX_F32, "strided axis");
    cmx_array_free(x);
    free(v);
  }
}

Test(ops_nn, softmax_half_and_int) {
  const cmx_dtype ts[] = {CMX_F16, CMX_BF16, CMX_I32, CMX_F64};
  /* 16-bit rows of 1023 (buffered) and 5001 (online statistics) */
  for (size_t k = 0; k < 6; k++) {
    int64_t sh[2] = {k < 4 ? 33 : 3, k < 4 ? 1023 : 5001}, n = sh[0] * sh[1];
    double *v = dalloc(n);
    tu_rand(v, n, ts[k % 4], -8, 8, 40 + k);
    cmx_array x;
    TU_OK(tu_array(&x, v, ts[k % 4], sh, 2));
    for (int lg = 0; lg < 2; lg++) {
      check_softmax(x, v, sh, 2, 1, lg, ts[k % 4], "typed");
      check_softmax(x, v, sh, 2, 0, lg, ts[k % 4], "typed axis 0");
    }
    cmx_array_free(x);
    free(v);
  }
}

/* ---- layer_norm, rms_norm ----------------------------------------------- */
/* x (R, D) values v in dtype t, weight / bias arrays (NULL ok) with values
 * wv / bv (D each); checks layer (rms = 0) or rms norm. */
static void check_norm(cmx_array x, const double *v, int64_t R, int64_t D,
                       cmx_array w, const double *wv, cmx_array b,
                       const double *bv, int rms, cmx_dtype t,
                       const char *what) {
  cmx_array y;
  float eps = 1e-5f;
  if (rms) TU_OK(cmx_rms_norm(&y, x, w, eps, NULL));
  else TU_OK(cmx_layer_norm(&y, x, w, b, eps, NULL));
  cr_assert_eq(cmx_array_dtype(y), tu_is_float(t) ? t : CMX_F32);
  double *ref = dalloc(R * D), *got = dalloc(R * D);
  for (int64_t r = 0; r < R; r++)
    ref_norm(v + r * D, D, w ? wv : NULL, b && !rms ? bv : NULL, eps, rms,
             ref + r * D);
  tu_read(y, got);
  double e = t == CMX_F16 || t == CMX_BF16 ? 4 * tu_eps(t) : 2e-5;
  for (int64_t i = 0; i < R * D; i++) {
    double scale = (w ? fabs(wv[i % D]) : 1) * 4 + (b ? fabs(bv[i % D]) : 0);
    cr_assert(tu_close(got[i], ref[i], e, e * scale), "%s rms %d [%lld] "
              "(D %lld): got %.9g want %.9g", what, rms, (long long)i,
              (long long)D, got[i], ref[i]);
  }
  cmx_array_free(y);
  free(ref), free(got);
}

Test(ops_nn, norms_sizes_weights, .timeout = 120) {
  for (size_t di = 0; di < sizeof DS / sizeof DS[0]; di++)
    for (size_t ri = 0; ri < sizeof RS / sizeof RS[0]; ri++) {
      int64_t R = RS[ri], D = DS[di], sh[2] = {R, D};
      double *v = dalloc(R * D), *wv = dalloc(D), *bv = dalloc(D);
      tu_rand(v, R * D, CMX_F32, -3, 5, 100 + di * 7 + ri);
      tu_rand(wv, D, CMX_F32, 0.5, 2, 200 + di);
      tu_rand(bv, D, CMX_F32, -1, 1, 300 + di);
      cmx_array x, w, b;
      TU_OK(tu_array(&x, v, CMX_F32, sh, 2));
      TU_OK(tu_array(&w, wv, CMX_F32, &D, 1));
      TU_OK(tu_array(&b, bv, CMX_F32, &D, 1));
      for (int rms = 0; rms < 2; rms++) {
        check_norm(x, v, R, D, w, wv, b, bv, rms, CMX_F32, "w+b");
        check_norm(x, v, R, D, NULL, wv, NULL, bv, rms, CMX_F32, "none");
        check_norm(x, v, R, D, w, wv, NULL, bv, rms, CMX_F32, "w");
      }
      check_norm(x, v, R, D, NULL, wv, b, bv, 0, CMX_F32, "b");
      cmx_array_free(x), cmx_array_free(w), cmx_array_free(b);
      free(v), free(wv), free(bv);
    }
}

/* Short rows (rms_norm up to 5, layer_norm up to 8 elements go 64 rows at
 * a time, not a kernel call a row): more rows than one such chunk, rows
 * read in place from a wider array (a column slice), an offset that
 * cancels in layer_norm, and the first lengths past each threshold. */
Test(ops_nn, norms_short_rows) {
  const int64_t ds[] = {1, 2, 3, 4, 5, 6, 8, 9}, R = 131;
  for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++) {
    const int64_t D = ds[di], W = D + 3, shw[2] = {R, W};
    double *vw = dalloc(R * W), *v = dalloc(R * D), *wv = dalloc(D),
           *bv = dalloc(D);
    tu_rand(vw, R * W, CMX_F32, -3, 5, 40 + di);
    tu_rand(wv, D, CMX_F32, 0.5, 2, 50 + di);
    tu_rand(bv, D, CMX_F32, -1, 1, 60 + di);
    for (int off = 0; off < 2; off++) {
      if (off) /* rows about +-1e3: the mean must not lose the spread */
        for (int64_t i = 0; i < R * W; i++)
          vw[i] = (double)(float)(vw[i] + (i / W % 2 ? 1e3 : -1e3));
      for (int64_t r = 0; r < R; r++)
        for (int64_t q = 0; q < D; q++) v[r * D + q] = vw[r * W + q];
      cmx_array xw, x, w, b;
      int64_t st[2] = {0, 0}, en[2] = {R, D};
      TU_OK(tu_array(&xw, vw, CMX_F32, shw, 2));
      TU_OK(cmx_slice(&x, xw, st, en, NULL, 2, NULL));
      TU_OK(tu_array(&w, wv, CMX_F32, &D, 1));
      TU_OK(tu_array(&b, bv, CMX_F32, &D, 1));
      for (int rms = 0; rms < 2 - off; rms++) {
        check_norm(x, v, R, D, w, wv, b, bv, rms, CMX_F32, "short w+b");
        check_norm(x, v, R, D, NULL, wv, NULL, bv, rms, CMX_F32, "short");
      }
      check_norm(x, v, R, D, NULL, wv, b, bv, 0, CMX_F32, "short b");
      check_norm(x, v, R, D, w, wv, NULL, bv, 0, CMX_F32, "short w");
      cmx_array_free(xw), cmx_array_free(x), cmx_array_free(w);
      cmx_array_free(b);
    }
    free(vw), free(v), free(wv), free(bv);
  }
}

Test(ops_nn, norms_views_and_broadcast_weight) {
  /* x is the transpose of a (D, R) array; weight (1, D); bias a stride-2
   * slice of a (2D,) array. */
  int64_t R = 19, D = 23, shT[2] = {D, R}, w2[2] = {1, D}, bl = 2 * D;
  double *vT = dalloc(R * D), *v = dalloc(R * D), *wv = dalloc(D),
         *b2 = dalloc(bl), *bv = dalloc(D);
  tu_rand(vT, R * D, CMX_F32, -2, 2, 7);
  tu_rand(wv, D, CMX_F32, -2, 2, 8);
  tu_rand(b2, bl, CMX_F32, -2, 2, 9);
  tu_view tv = tu_view_T(tu_view_contig(shT, 2), NULL);
  tu_view_gather(&tv, vT, v);
  for (int64_t i = 0; i < D; i++) bv[i] = b2[2 * i];
  cmx_array xa, x, w, ba, b;
  TU_OK(tu_array(&xa, vT, CMX_F32, shT, 2));
  TU_OK(cmx_transpose(&x, xa, NULL, 0, NULL));
  TU_OK(tu_array(&w, wv, CMX_F32, w2, 2));
  TU_OK(tu_array(&ba, b2, CMX_F32, &bl, 1));
  int64_t st = 0, en = bl, step = 2;
  TU_OK(cmx_slice(&b, ba, &st, &en, &step, 1, NULL));
  check_norm(x, v, R, D, w, wv, b, bv, 0, CMX_F32, "views");
  check_norm(x, v, R, D, w, wv, NULL, NULL, 1, CMX_F32, "views");
  /* a unit-stride weight one element into its buffer (read in place,
   * unaligned) */
  double *w1 = dalloc(D + 1);
  w1[0] = 5.0;
  memcpy(w1 + 1, wv, (size_t)D * sizeof *w1);
  int64_t d1 = D + 1, s1 = 1, e1 = D + 1;
  cmx_array wa1, wo;
  TU_OK(tu_array(&wa1, w1, CMX_F32, &d1, 1));
  TU_OK(cmx_slice(&wo, wa1, &s1, &e1, NULL, 1, NULL));
  check_norm(x, v, R, D, wo, wv, b, bv, 0, CMX_F32, "offset weight");
  check_norm(x, v, R, D, wo, wv, NULL, NULL, 1, CMX_F32, "offset weight");
  cmx_array_free(wa1), cmx_array_free(wo);
  free(w1);
  cmx_array_free(xa), cmx_array_free(x), cmx_array_free(w);
  cmx_array_free(ba), cmx_array_free(b);
  free(vT), free(v), free(wv), free(b2), free(bv);
}

Test(ops_nn, layer_norm_large_offset) {
  int64_t R = 9, D = 4099, sh[2] = {R, D};
  double *v = dalloc(R * D);
  tu_rand(v, R * D, CMX_F32, -1, 1, 77);
  for (int64_t i = 0; i < R * D; i++)
    v[i] = (double)(float)(v[i] + (i / D % 2 ? 1e4 : -3e4));
  cmx_array x;
  TU_OK(tu_array(&x, v, CMX_F32, sh, 2));
  check_norm(x, v, R, D, NULL, NULL, NULL, NULL, 0, CMX_F32, "offset");
  cmx_array_free(x);
  free(v);
}

Test(ops_nn, norms_half_int_f64) {
  const cmx_dtype ts[] = {CMX_F16, CMX_BF16, CMX_I32, CMX_F64};
  for (size_t k = 0; k < 4; k++) {
    int64_t R = 33, D = 1023, sh[2] = {R, D};
    double *v = dalloc(R * D), *wv = dalloc(D), *bv = dalloc(D);
    tu_rand(v, R * D, ts[k], -6, 6, 50 + k);
    tu_rand(wv, D, ts[k] == CMX_I32 ? CMX_F32 : ts[k], 0.5, 2, 60 + k);
    tu_rand(bv, D, CMX_F32, -1, 1, 70 + k);
    cmx_array x, w, b;
    TU_OK(tu_array(&x, v, ts[k], sh, 2));
    TU_OK(tu_array(&w, wv, ts[k] == CMX_I32 ? CMX_F32 : ts[k], &D, 1));
    TU_OK(tu_array(&b, bv, CMX_F32, &D, 1));
    check_norm(x, v, R, D, w, wv, b, bv, 0, ts[k], "typed");
    check_norm(x, v, R, D, w, wv, NULL, NULL, 1, ts[k], "typed");
    /* layer_norm with weight only, bias only, neither; rms_norm bare */
    check_norm(x, v, R, D, w, wv, NULL, NULL, 0, ts[k], "typed w");
    check_norm(x, v, R, D, NULL, NULL, b, bv, 0, ts[k], "typed b");
    check_norm(x, v, R, D, NULL, NULL, NULL, NULL, 0, ts[k], "typed bare");
    check_norm(x, v, R, D, NULL, NULL, NULL, NULL, 1, ts[k], "typed bare");
    cmx_array_free(x), cmx_array_free(w), cmx_array_free(b);
    free(v), free(wv), free(bv);
  }
}

/* ---- rope --------------------------------------------------------------- */
/* x of shape (B, H, L, D) values v; positions off[b] + l. */
static void check_rope(cmx_array y, const double *v, const int64_t *sh,
                       int dims, int trad, double base, double scale,
                       const int64_t *off, int per_batch, cmx_dtype t,
                       const char *what) {
  int64_t B = sh[0], H = sh[1], L = sh[2], D = sh[3], n = B * H * L * D;
  double *ref = dalloc(n), *got = dalloc(n);
  for (int64_t r = 0; r < B * H * L; r++) {
    int64_t b = r / (H * L), l = r % L;
    ref_rope(v + r * D, D, dims, trad, base, scale,
             (double)(off[per_batch ? b : 0] + l), ref + r * D);
  }
  tu_read(y, got);
  double e = t == CMX_F16 || t == CMX_BF16 ? 4 * tu_eps(t) : 4e-7;
  for (int64_t i = 0; i < n; i++)
    cr_assert(tu_close(got[i], ref[i], e, e * 8), "%s dims %d trad %d [%lld]: "
              "got %.9g want %.9g", what, dims, trad, (long long)i, got[i],
              ref[i]);
  free(ref), free(got);
}

static void rope_forms(void) {
  int64_t sh[4] = {2, 3, 33, 64}, n = 2 * 3 * 33 * 64;
  double *v = dalloc(n);
  tu_rand(v, n, CMX_F32, -2, 2, 3);
  cmx_array x;
  TU_OK(tu_array(&x, v, CMX_F32, sh, 4));
  const int dimss[] = {64, 32, 18, 2};
  for (int di = 0; di < 4; di++)
    for (int trad = 0; trad < 2; trad++)
      for (int off = 0; off < 20; off += 7) {
        cmx_array y;
        float scale = off == 14 ? 0.5f : 1.0f;
        TU_OK(cmx_rope(&y, x, dimss[di], trad, 10000.0f, scale, off, NULL));
        int64_t o = off;
        check_rope(y, v, sh, dimss[di], trad, 10000.0, scale, &o, 0, CMX_F32,
                   "rope");
        cmx_array_free(y);
      }
  /* Per-batch offsets. */
  int64_t ob = 2;
  double ov[2] = {3, 1000};
  cmx_array offs, y;
  TU_OK(tu_array(&offs, ov, CMX_I32, &ob, 1));
  for (int trad = 0; trad < 2; trad++) {
    TU_OK(cmx_rope_offsets(&y, x, 32, trad, 500.0f, 1.0f, offs, NULL));
    int64_t o[2] = {3, 1000};
    check_rope(y, v, sh, 32, trad, 500.0, 1.0, o, 1, CMX_F32, "offsets");
    cmx_array_free(y);
  }
  cmx_array_free(offs), cmx_array_free(x);
  free(v);
}
Test(ops_nn, rope_forms, .timeout = 60) { rope_forms(); }
/* The same with the streaming-store rows forced on (CMX_NT_STORES=all, read
 * once per process; Criterion runs each test in its own process). */
static void force_nt(void) { setenv("CMX_NT_STORES", "all", 1); }
Test(ops_nn, rope_forms_streamed, .init = force_nt, .timeout = 60) {
  rope_forms();
}

Test(ops_nn, rope_views_and_half) {
  /* (B, L, H, D) transposed to (B, H, L, D); then f16 and bf16 inputs. */
  int64_t shl[4] = {2, 17, 3, 20}, sh[4] = {2, 3, 17, 20}, n = 2 * 17 * 3 * 20;
  double *v = dalloc(n), *vt = dalloc(n);
  tu_rand(v, n, CMX_F32, -2, 2, 13);
  int perm[4] = {0, 2, 1, 3};
  tu_view tv = tu_view_T(tu_view_contig(shl, 4), perm);
  tu_view_gather(&tv, v, vt);
  cmx_array xl, x, y;
  TU_OK(tu_array(&xl, v, CMX_F32, shl, 4));
  TU_OK(cmx_transpose(&x, xl, perm, 4, NULL));
  int64_t o = 5;
  for (int trad = 0; trad < 2; trad++) {
    TU_OK(cmx_rope(&y, x, 16, trad, 10000.0f, 1.0f, 5, NULL));
    check_rope(y, vt, sh, 16, trad, 10000.0, 1.0, &o, 0, CMX_F32, "view");
    cmx_array_free(y);
  }
  const cmx_dtype ts[] = {CMX_F16, CMX_BF16, CMX_F64};
  for (int k = 0; k < 3; k++) {
    double *q = dalloc(n);
    for (int64_t i = 0; i < n; i++) q[i] = tu_quant(ts[k], vt[i]);
    cmx_array xh;
    TU_OK(tu_array(&xh, q, ts[k], sh, 4));
    TU_OK(cmx_rope(&y, xh, 20, 1, 10000.0f, 1.0f, 5, NULL));
    cr_assert_eq(cmx_array_dtype(y), ts[k]);
    check_rope(y, q, sh, 20, 1, 10000.0, 1.0, &o, 0, ts[k], "typed");
    cmx_array_free(y), cmx_array_free(xh);
    free(q);
  }
  cmx_array_free(xl), cmx_array_free(x);
  free(v), free(vt);
}

/* ---- softplus, silu_mul ------------------------------------------------- */
Test(ops_nn, softplus_and_silu_mul) {
  int64_t sh[2] = {33, 17}, n = 33 * 17, row = 17;
  double *a = dalloc(n), *b = dalloc(row), *got = dalloc(n);
  tu_rand(a, n, CMX_F32, -30, 30, 21);
  tu_rand(b, row, CMX_F32, -3, 3, 22);
  a[0] = 100, a[1] = -100, a[2] = 0, a[3] = INFINITY, a[4] = -INFINITY;
  cmx_array xa, xb, y;
  TU_OK(tu_array(&xa, a, CMX_F32, sh, 2));
  TU_OK(tu_array(&xb, b, CMX_F32, &row, 1));
  TU_OK(cmx_softplus(&y, xa, NULL));
  tu_read(y, got);
  for (int64_t i = 0; i < n; i++) {
    double want = fmax(a[i], 0) + log1p(exp(-fabs(a[i])));
    cr_assert(tu_close(got[i], want, 4e-7, 1e-45), "softplus(%g): %.9g want "
              "%.9g", a[i], got[i], want);
  }
  cmx_array_free(y);
  TU_OK(cmx_silu_mul(&y, xa, xb, NULL)); /* b broadcast along rows */
  tu_assert_shape(y, sh, 2);
  tu_read(y, got);
  for (int64_t i = 0; i < n; i++) {
    double s = isinf(a[i]) ? (a[i] > 0 ? a[i] : -0.0) : a[i] / (1 + exp(-a[i]));
    double want = s * b[i % row];
    cr_assert(tu_close(got[i], want, 6e-7, 1e-37), "silu_mul(%g, %g): %.9g "
              "want %.9g", a[i], b[i % row], got[i], want);
  }
  cmx_array_free(y);
  /* f16 and integer inputs. */
  double *h = dalloc(n);
  for (int64_t i = 0; i < n; i++) h[i] = tu_quant(CMX_F16, isinf(a[i]) ? 1 : a[i] / 8);
  cmx_array xh, xi;
  TU_OK(tu_array(&xh, h, CMX_F16, sh, 2));
  TU_OK(cmx_softplus(&y, xh, NULL));
  cr_assert_eq(cmx_array_dtype(y), CMX_F16);
  tu_read(y, got);
  for (int64_t i = 0; i < n; i++) {
    double want = fmax(h[i], 0) + log1p(exp(-fabs(h[i])));
    cr_assert(tu_close(got[i], want, 2 * tu_eps(CMX_F16), 1e-7), "f16");
  }
  cmx_array_free(y);
  for (int64_t i = 0; i < n; i++) h[i] = floor(h[i]);
  TU_OK(tu_array(&xi, h, CMX_I32, sh, 2));
  TU_OK(cmx_silu_mul(&y, xi, xh, NULL)); /* i32 with f16 promotes to f16 */
  cr_assert_eq(cmx_array_dtype(y), CMX_F16);
  cmx_array_free(y);
  TU_OK(cmx_silu_mul(&y, xi, xi, NULL));
  cr_assert_eq(cmx_array_dtype(y), CMX_F32);
  cmx_array_free(y);
  cmx_array_free(xa), cmx_array_free(xb), cmx_array_free(xh),
      cmx_array_free(xi);
  free(a), free(b), free(got), free(h);
}

/* ---- errors ------------------------------------------------------------- */
Test(ops_nn, error_paths) {
  int64_t sh[3] = {2, 5, 8}, wl = 7, w2[2] = {2, 8}, ol = 3;
  double v[80], wv[16], ov[3] = {0, 1, 2};
  tu_rand(v, 80, CMX_F32, -1, 1, 1);
  tu_rand(wv, 16, CMX_F32, -1, 1, 2);
  cmx_array x, w, wb, offs, y;
  TU_OK(tu_array(&x, v, CMX_F32, sh, 3));
  TU_OK(tu_array(&w, wv, CMX_F32, &wl, 1));
  TU_OK(tu_array(&wb, wv, CMX_F32, w2, 2));
  TU_OK(tu_array(&offs, ov, CMX_I32, &ol, 1));
  TU_FAILS(CMX_EINVAL, "cmx_softmax", cmx_softmax(&y, x, 3, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_log_softmax", cmx_log_softmax(&y, x, -4, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_layer_norm", cmx_layer_norm(&y, x, w, NULL, 1e-5f, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_layer_norm", cmx_layer_norm(&y, x, NULL, wb, 1e-5f, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_rms_norm", cmx_rms_norm(&y, x, w, 1e-5f, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_rope", cmx_rope(&y, x, 7, false, 1e4f, 1, 0, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_rope", cmx_rope(&y, x, 10, false, 1e4f, 1, 0, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_rope_offsets",
           cmx_rope_offsets(&y, x, 8, false, 1e4f, 1, offs, NULL));
  TU_FAILS(CMX_EDTYPE, "cmx_rope_offsets",
           cmx_rope_offsets(&y, x, 8, false, 1e4f, 1, w, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_rms_norm", cmx_rms_norm(&y, NULL, NULL, 1e-5f, NULL));
  cmx_array_free(x), cmx_array_free(w), cmx_array_free(wb),
      cmx_array_free(offs);
}
