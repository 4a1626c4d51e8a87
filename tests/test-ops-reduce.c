/* Reductions against a float64 reference written here: sum mean prod max
 * min all any logsumexp var argmax argmin over every axis, pairs of axes,
 * all axes (NULL), negative axes, keepdims on and off, 1-D to 4-D odd
 * shapes, transposed and strided views, f32/f16/bf16/f64/i32/bool; result
 * dtypes, first-index ties, NaN, empty reductions and bad axes. */
#include "test-util.h"

typedef int (*red_fn)(cmx_array *, cmx_array, const int *, int, bool,
                      cmx_stream);
typedef int (*arg_fn)(cmx_array *, cmx_array, int, bool, cmx_stream);

enum { R_SUM, R_MEAN, R_PROD, R_MAX, R_MIN, R_ALL, R_ANY, R_LSE, R_VAR,
       R_ARGMAX, R_ARGMIN, R_COUNT };
static const char *RNAME[] = {"sum", "mean", "prod", "max", "min", "all",
                              "any", "logsumexp", "var", "argmax", "argmin"};
static const red_fn RFN[] = {cmx_sum, cmx_mean, cmx_prod, cmx_max, cmx_min,
                             cmx_all, cmx_any, cmx_logsumexp, cmx_var};

static cmx_dtype out_dtype(int op, cmx_dtype t) {
  switch (op) {
  case R_SUM: case R_PROD:
    return t == CMX_BOOL || t == CMX_I8 || t == CMX_I16 ? CMX_I32
           : t == CMX_U8 ? CMX_U32 : t;
  case R_MEAN: case R_LSE: case R_VAR: return tu_is_float(t) ? t : CMX_F32;
  case R_ALL: case R_ANY: return CMX_BOOL;
  case R_ARGMAX: case R_ARGMIN: return CMX_U32;
  default: return t;
  }
}

/* Reference: out[o] and the scale |x| summed per output (for tolerances).
 * mask[d] != 0 for reduced axes; argmax/argmin have one reduced axis. */
static void ref_reduce(int op, const double *x, const int64_t *sh, int nd,
                       const int *mask, double *out, double *scale,
                       int64_t *cnt_out) {
  int64_t n = 1, no = 1, cnt = 1;
  for (int d = 0; d < nd; d++) {
    n *= sh[d];
    if (mask[d]) cnt *= sh[d];
    else no *= sh[d];
  }
  int64_t *oi = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  int64_t *ai = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  int64_t idx[CMX_MAX_DIMS] = {0};
  for (int64_t k = 0; k < n; k++) {
    int64_t o = 0, a = 0;
    for (int d = 0; d < nd; d++) {
      if (mask[d]) a = a * sh[d] + idx[d];
      else o = o * sh[d] + idx[d];
    }
    oi[k] = o;
    ai[k] = a;
    for (int d = nd - 1; d >= 0; d--) {
      if (++idx[d] < sh[d]) break;
      idx[d] = 0;
    }
  }
  double *m = calloc((size_t)no, sizeof(double));
  for (int64_t o = 0; o < no; o++) {
    scale[o] = 0;
    out[o] = op == R_PROD || op == R_ALL ? 1
             : op == R_MAX || op == R_LSE ? -INFINITY
             : op == R_MIN ? INFINITY : 0;
    m[o] = op == R_ARGMAX ? -INFINITY : INFINITY; /* best value so far */
  }
  for (int64_t k = 0; k < n; k++) {
    double v = x[k], *r = &out[oi[k]];
    scale[oi[k]] += fabs(v);
    switch (op) {
    case R_SUM: case R_MEAN: case R_VAR: *r += v; break;
    case R_PROD: *r *= v; break;
    case R_MAX: *r = (isnan(*r) || isnan(v)) ? NAN : fmax(*r, v); break;
    case R_MIN: *r = (isnan(*r) || isnan(v)) ? NAN : fmin(*r, v); break;
    case R_ALL: *r = *r && v != 0; break;
    case R_ANY: *r = *r || v != 0; break;
    case R_LSE: *r = fmax(*r, v); break;
    case R_ARGMAX: case R_ARGMIN: {
      double *b = &m[oi[k]];
      int better = op == R_ARGMAX ? v > *b : v < *b;
      if (ai[k] == 0 || (!isnan(*b) && (isnan(v) || better))) {
        *b = v;
        *r = (double)ai[k];
      }
    }
    }
  }
  if (op == R_MEAN || op == R_VAR)
    for (int64_t o = 0; o < no; o++) out[o] /= (double)cnt;
  if (op == R_VAR || op == R_LSE) {
    char *nanrow = calloc((size_t)no + 1, 1);
    for (int64_t o = 0; o < no; o++) m[o] = out[o], out[o] = 0, scale[o] = 0;
    for (int64_t k = 0; k < n; k++) {
      double c = m[oi[k]], d = x[k] - c;
      if (x[k] != x[k]) nanrow[oi[k]] = 1;
      if (op == R_VAR) out[oi[k]] += d * d, scale[oi[k]] += d * d + x[k] * x[k];
      else out[oi[k]] += exp(x[k] - c), scale[oi[k]] = 1;
    }
    for (int64_t o = 0; o < no; o++)
      out[o] = op == R_VAR   ? out[o] / (double)cnt
               : nanrow[o]   ? NAN
               : isinf(m[o]) ? m[o] /* MLX: where(isinf(max), max, .) */
                             : m[o] + log(out[o]);
    free(nanrow);
  }
  if (op == R_MEAN)
    for (int64_t o = 0; o < no; o++) scale[o] /= (double)cnt;
  if (op == R_VAR)
    for (int64_t o = 0; o < no; o++) scale[o] /= (double)cnt;
  *cnt_out = cnt;
  free(m);
  free(oi);
  free(ai);
}

static int red_close(int op, cmx_dtype rt, double got, double ref,
                     double scale, int64_t cnt) {
  if (isnan(ref) || isnan(got)) return isnan(ref) && isnan(got);
  if (isinf(ref) || isinf(got)) return got == ref;
  double lg = log2((double)cnt + 1);
  double tol;
  switch (rt) {
  case CMX_F32: tol = 4 * lg * tu_eps(CMX_F32) * scale; break;
  case CMX_F64: tol = 8 * lg * tu_eps(CMX_F64) * scale; break;
  case CMX_F16: case CMX_BF16:
    tol = 2 * tu_eps(rt) * fabs(ref) + lg * tu_eps(rt) * scale;
    break;
  default: return got == ref;
  }
  if (op == R_PROD) tol = 2 * (double)cnt * tu_eps(rt) * fabs(ref) + 1e-30;
  if (op == R_LSE) tol += 4 * tu_eps(rt) * fabs(ref);
  if (op == R_MAX || op == R_MIN || op >= R_ARGMAX) tol = 0;
  return fabs(got - ref) <= tol * 1.0001 + 1e-300;
}

/* Runs op on x (logical values xv, shape sh) and checks shape, dtype and
 * values. axes NULL: all axes; for argmax/argmin axes[0] is the axis. */
static void check_reduce(int op, cmx_array x, const double *xv,
                         const int64_t *sh, int nd, cmx_dtype t,
                         const int *axes, int naxes, bool keep,
                         const char *ctx) {
  int mask[CMX_MAX_DIMS] = {0};
  for (int i = 0; i < (axes ? naxes : nd); i++)
    mask[axes ? (axes[i] + nd) % nd : i] = 1;
  int64_t osh[CMX_MAX_DIMS], no = 1;
  int ond = 0;
  for (int d = 0; d < nd; d++) {
    if (!mask[d]) osh[ond++] = sh[d], no *= sh[d];
    else if (keep) osh[ond++] = 1;
  }
  cmx_array y;
  if (op >= R_ARGMAX)
    TU_OK((op == R_ARGMAX ? cmx_argmax : cmx_argmin)(&y, x, axes[0], keep, NULL));
  else
    TU_OK(RFN[op](&y, x, axes, naxes, keep, NULL));
  char axs[64] = "all";
  if (axes) {
    int p = 0;
    for (int i = 0; i < naxes; i++)
      p += snprintf(axs + p, sizeof axs - (size_t)p, "%d,", axes[i]);
  }
  cr_assert_eq(cmx_array_dtype(y), out_dtype(op, t),
               "%s(%s) axes %s: dtype %s want %s", RNAME[op], cmx_dtype_name(t),
               axs, cmx_dtype_name(cmx_array_dtype(y)),
               cmx_dtype_name(out_dtype(op, t)));
  cr_assert_eq(cmx_array_ndim(y), ond, "%s %s axes %s keep %d: ndim %d want %d",
               RNAME[op], ctx, axs, keep, cmx_array_ndim(y), ond);
  for (int d = 0; d < ond; d++)
    cr_assert_eq(cmx_array_shape(y)[d], osh[d], "%s axes %s: dim %d", RNAME[op],
                 axs, d);
  double *ref = malloc(sizeof(double) * (size_t)(3 * no + 1));
  double *scale = ref + no, *got = scale + no;
  int64_t cnt;
  ref_reduce(op, xv, sh, nd, mask, ref, scale, &cnt);
  tu_read(y, got);
  for (int64_t o = 0; o < no; o++)
    cr_assert(red_close(op, out_dtype(op, t), got[o], ref[o], scale[o], cnt),
              "%s(%s) %s shape nd=%d axes %s keep %d: [%lld] got %.9g want %.9g",
              RNAME[op], cmx_dtype_name(t), ctx, nd, axs, keep, (long long)o,
              got[o], ref[o]);
  free(ref);
  cmx_array_free(y);
}

static void values_for(int op, cmx_dtype t, double *v, int64_t n,
                       uint64_t seed) {
  if (op == R_PROD) {
    tu_rand(v, n, t, tu_is_float(t) ? 0.85 : -1, tu_is_float(t) ? 1.15 : 1,
            seed);
    if (!tu_is_float(t) && t != CMX_BOOL)
      for (int64_t i = 0; i < n; i++) v[i] = v[i] == 0 ? 1 : v[i];
  } else if (tu_is_float(t)) {
    tu_rand(v, n, t, -3, 3, seed);
  } else {
    tu_rand(v, n, t, -50, 50, seed);
  }
  if ((op == R_ALL || op == R_ANY) && t != CMX_BOOL) /* some zeros */
    for (int64_t i = 0; i < n; i += 3) v[i] = 0;
}

static const int64_t SHAPES[][4] = {{17}, {1023}, {5, 7}, {3, 5, 7},
                                    {2, 3, 5, 3}};
static const int NDS[] = {1, 1, 2, 3, 4};

/* Every single axis (positive and negative), every pair, all axes. */
static void all_axis_sets(int op, cmx_dtype t) {
  for (int s = 0; s < 5; s++) {
    const int64_t *sh = SHAPES[s];
    int nd = NDS[s];
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= sh[d];
    double *v = malloc(sizeof(double) * (size_t)n);
    values_for(op, t, v, n, (uint64_t)(s * 100 + op * 7 + t));
    cmx_array x;
    TU_OK(tu_array(&x, v, t, sh, nd));
    for (int keep = 0; keep < 2; keep++) {
      for (int a = 0; a < nd; a++) {
        int ax = keep ? a - nd : a; /* negative axes with keepdims */
        check_reduce(op, x, v, sh, nd, t, &ax, 1, keep, "one axis");
      }
      if (op >= R_ARGMAX) continue;
      for (int a = 0; a < nd; a++)
        for (int b = a + 1; b < nd; b++) {
          int ab[2] = {b, a - (keep ? nd : 0)};
          check_reduce(op, x, v, sh, nd, t, ab, 2, keep, "two axes");
        }
      check_reduce(op, x, v, sh, nd, t, NULL, 0, keep, "all axes");
      if (nd == 4) {
        int three[3] = {3, 0, -2};
        check_reduce(op, x, v, sh, nd, t, three, 3, keep, "three axes");
      }
    }
    cmx_array_free(x);
    free(v);
  }
}

static const cmx_dtype FLOATS_INT[] = {CMX_F32, CMX_F16, CMX_BF16, CMX_F64,
                                       CMX_I32, CMX_I64};
static void op_all_dtypes(int op, int with_bool) {
  for (int t = 0; t < 6; t++) all_axis_sets(op, FLOATS_INT[t]);
  if (with_bool) all_axis_sets(op, CMX_BOOL);
}

Test(ops_reduce, sum) { op_all_dtypes(R_SUM, 1); }
Test(ops_reduce, mean) { op_all_dtypes(R_MEAN, 1); }
Test(ops_reduce, prod) { op_all_dtypes(R_PROD, 1); }
Test(ops_reduce, max) { op_all_dtypes(R_MAX, 1); }
Test(ops_reduce, min) { op_all_dtypes(R_MIN, 1); }
Test(ops_reduce, all) { op_all_dtypes(R_ALL, 1); }
Test(ops_reduce, any) { op_all_dtypes(R_ANY, 1); }
Test(ops_reduce, logsumexp) { op_all_dtypes(R_LSE, 0); }
Test(ops_reduce, var) { op_all_dtypes(R_VAR, 0); }
/* One long row of int32, int64 or f64 (kernels/reduce/reduce.c: pieces of
 * 65536 shared by the team): two whole pieces and three and a tail; sum,
 * mean, max, min, argmax, argmin against a scan written here, with the
 * extreme in a later piece tied in a still later one, and for f64 a NaN
 * in the last piece (max / min / argmax give it); 1 and 2 threads give
 * the same bits. */
Test(ops_reduce, long_row_pieces) {
  static const cmx_dtype ts[] = {CMX_I32, CMX_I64, CMX_F64};
  static const int ops[] = {R_SUM, R_MEAN, R_MAX, R_MIN, R_ARGMAX, R_ARGMIN};
  static const int64_t lens[] = {2 * 65536, 3 * 65536 + 123};
  for (int ti = 0; ti < 3; ti++)
    for (int li = 0; li < 2; li++)
      for (int nan = 0; nan < (ts[ti] == CMX_F64 ? 2 : 1); nan++) {
        const int64_t n = lens[li];
        double *v = malloc(sizeof(double) * (size_t)n);
        for (int64_t i = 0; i < n; i++)
          v[i] = (double)((i * 7919) % 2001 - 1000) +
                 (ts[ti] == CMX_F64 ? (double)(i % 7) / 8 : 0);
        v[70000] = 5000, v[n - 2] = 5000;   /* max, tied later */
        v[100000] = -5000, v[n - 1] = -5000; /* min, tied later */
        if (nan) v[n - 5000] = NAN; /* in the last piece */
        cmx_array x;
        TU_OK(tu_array(&x, v, ts[ti], &n, 1));
        for (int o = 0; o < 6; o++) {
          const int op = ops[o];
          double want = 0;
          int64_t at = 0;
          for (int64_t i = 0; i < n; i++) {
            want += v[i];
            if (v[at] == v[at] &&
                (v[i] != v[i] || (op == R_MIN || op == R_ARGMIN
                                      ? v[i] < v[at] : v[i] > v[at])))
              at = i;
          }
          if (op == R_MEAN) want /= (double)n;
          if (op == R_MAX || op == R_MIN) want = v[at];
          if (op == R_ARGMAX || op == R_ARGMIN) want = (double)at;
          double got[2];
          for (int nt = 1; nt <= 2; nt++) {
            TU_OK(cmx_set_num_threads(nt));
            cmx_array y;
            int ax = 0;
            if (op >= R_ARGMAX)
              TU_OK((op == R_ARGMAX ? cmx_argmax : cmx_argmin)(&y, x, 0,
                                                               false, NULL));
            else
              TU_OK(RFN[op](&y, x, &ax, 1, false, NULL));
            tu_read(y, &got[nt - 1]);
            cmx_array_free(y);
          }
          /* f64 sums in another order; integer means are float32 */
          const double tol =
              ts[ti] == CMX_F64 && (op == R_SUM || op == R_MEAN)
                  ? 1e-12 * fabs(want) + 1e-9
              : op == R_MEAN ? 1e-6 * fabs(want)
                             : 0;
          cr_assert(isnan(want) ? isnan(got[0])
                                : fabs(got[0] - want) <= tol,
                    "%s(%s) n=%lld nan=%d: %.17g, want %.17g", RNAME[op],
                    cmx_dtype_name(ts[ti]), (long long)n, nan, got[0], want);
          cr_assert(!memcmp(&got[0], &got[1], sizeof got[0]),
                    "%s(%s) n=%lld: 1 and 2 threads differ", RNAME[op],
                    cmx_dtype_name(ts[ti]), (long long)n);
        }
        cmx_array_free(x);
        free(v);
      }
  TU_OK(cmx_set_num_threads(2));
}

/* Reductions over axes of size 1 only (a copy of the converted elements;
 * argmax / argmin zeros): every op and dtype, keepdims on and off, with
 * NaN, infinities and -0 among the float values. */
Test(ops_reduce, size_one_axes) {
  static const int64_t sh4[4] = {5, 1, 7, 1}, sh2[2] = {33, 1}, sh1[1] = {1};
  static const cmx_dtype ts[] = {CMX_F32, CMX_F16, CMX_BF16, CMX_F64,
                                 CMX_I32, CMX_I64, CMX_BOOL, CMX_U8};
  for (int op = 0; op < R_COUNT; op++)
    for (int ti = 0; ti < 8; ti++) {
      const cmx_dtype t = ts[ti];
      if (op == R_LSE && t == CMX_BOOL) continue; /* as op_all_dtypes */
      double v[35];
      values_for(op, t, v, 35, (uint64_t)(op * 13 + ti));
      if (tu_is_float(t)) {
        v[2] = NAN, v[5] = INFINITY;
        v[9] = -INFINITY, v[11] = -0.0;
      }
      for (int s = 0; s < 3; s++) {
        const int64_t *sh = s == 0 ? sh4 : s == 1 ? sh2 : sh1;
        const int nd = s == 0 ? 4 : s == 1 ? 2 : 1;
        cmx_array x;
        TU_OK(tu_array(&x, v, t, sh, nd));
        for (int keep = 0; keep < 2; keep++) {
          int ax = s == 0 ? (keep ? -1 : 1) : nd - 1;
          check_reduce(op, x, v, sh, nd, t, &ax, 1, keep, "size-1 axis");
          if (s == 0 && op < R_ARGMAX) {
            int two[2] = {3, 1};
            check_reduce(op, x, v, sh, nd, t, two, 2, keep, "size-1 axes");
          }
        }
        cmx_array_free(x);
      }
    }
}

/* Rows past the driver's 1024-element pieces (kernels/reduce/reduce.c)
 * and the integer loops' 16-element blocks: the extreme, its ties and NaN
 * placed in different pieces, the extreme first and tied last; f32, f64
 * and (without the NaN and infinity cases) int32 and int64; against a
 * scalar scan (first NaN, else first extreme). */
Test(ops_reduce, argmax_argmin_across_pieces) {
  const int64_t n = 4099;
  static const cmx_dtype ds[] = {CMX_F32, CMX_F64, CMX_I32, CMX_I64};
  double *v = malloc(sizeof(double) * (size_t)n);
  for (int dc = 0; dc < 4 * 7; dc++) /* dtype d, case c */
    for (int f = 0; f < 2; f++) {
      const int d = dc / 7, c = dc % 7;
      if (d >= 2 && (c == 1 || c == 2 || c == 4 || c == 5)) continue;
      for (int64_t i = 0; i < n; i++) v[i] = (double)((i * 37) % 101) - 50;
      double big = f ? -1000 : 1000;
      switch (c) {
        case 0: v[2500] = big; v[3900] = big; break;  /* tie, later piece */
        case 1: v[1500] = NAN; v[10] = big; break;    /* NaN after extreme */
        case 2: v[4098] = NAN; break;                 /* NaN in the tail */
        case 3: v[1023] = big; v[1024] = big; break;  /* tie at a seam */
        case 4:
          for (int64_t i = 0; i < n; i++) v[i] = f ? INFINITY : -INFINITY;
          v[3000] = f ? -INFINITY : INFINITY;
          break;
        case 5: v[2047] = NAN; v[3071] = NAN; break; /* first NaN wins */
        default: v[0] = big; v[4098] = big; break;    /* first and last */
      }
      int64_t want = 0;
      for (int64_t i = 0; i < n; i++) {
        if (v[i] != v[i]) { want = i; break; }
        if (f ? v[i] < v[want] : v[i] > v[want]) want = i;
      }
      cmx_array x, y;
      TU_OK(tu_array(&x, v, ds[d], &n, 1));
      TU_OK((f ? cmx_argmin : cmx_argmax)(&y, x, 0, false, NULL));
      double got;
      TU_OK(cmx_array_item(&got, y));
      cr_assert_eq(got, (double)want, "%s %s case %d: %g, want %lld",
                   cmx_dtype_name(ds[d]), f ? "argmin" : "argmax", c, got,
                   (long long)want);
      cmx_array_free(y);
      cmx_array_free(x);
    }
  free(v);
}

Test(ops_reduce, argmax) { op_all_dtypes(R_ARGMAX, 1); }
Test(ops_reduce, argmin) { op_all_dtypes(R_ARGMIN, 1); }

/* Transposed 3-D, step-2 and negative-step 2-D views: every op, axis. */
Test(ops_reduce, noncontiguous_views) {
  int64_t b3[3] = {7, 3, 5}, b2[2] = {11, 9};
  int perm[3] = {2, 0, 1};
  for (int op = 0; op < R_COUNT; op++)
    for (int t = 0; t < 3; t++) {
      cmx_dtype dt = FLOATS_INT[t == 2 ? 4 : t];
      double bv[105], vv[105];
      cmx_array base, x;
      values_for(op, dt, bv, 105, op * 3 + t);
      TU_OK(tu_array(&base, bv, dt, b3, 3));
      TU_OK(cmx_transpose(&x, base, perm, 3, NULL));
      tu_view v = tu_view_T(tu_view_contig(b3, 3), perm);
      tu_view_gather(&v, bv, vv);
      for (int a = -1; a < 3; a++) {
        if (a < 0 && op >= R_ARGMAX) continue;
        check_reduce(op, x, vv, v.shape, 3, dt, a < 0 ? NULL : &a, 0 + (a >= 0),
                     a & 1, "transposed");
      }
      cmx_array_free(x);
      cmx_array_free(base);
      TU_OK(tu_array(&base, bv, dt, b2, 2));
      int64_t st[2][2] = {{2, -2}, {-1, 3}}, s0[2][2] = {{1, 8}, {10, 0}},
              s1[2][2] = {{11, -12}, {-12, 9}};
      for (int k = 0; k < 2; k++) {
        TU_OK(cmx_slice(&x, base, s0[k], s1[k], st[k], 2, NULL));
        v = tu_view_slice(tu_view_contig(b2, 2), s0[k], s1[k], st[k]);
        tu_assert_shape(x, v.shape, 2);
        tu_view_gather(&v, bv, vv);
        for (int a = -1; a < 2; a++) {
          if (a < 0 && op >= R_ARGMAX) continue;
          check_reduce(op, x, vv, v.shape, 2, dt, a < 0 ? NULL : &a,
                       a >= 0, a == 0, k ? "slice -1,3" : "slice 2,-2");
        }
        cmx_array_free(x);
      }
      cmx_array_free(base);
    }
}

Test(ops_reduce, arg_first_index_ties_and_nan) {
  double v1[] = {1, 5, 3, 5, 5, -2, -2, 0};
  double v2[] = {2, NAN, 7, NAN, -9};
  int64_t n1 = 8, n2 = 5;
  static const cmx_dtype ts[] = {CMX_F32, CMX_F16, CMX_F64, CMX_I32, CMX_BF16};
  for (int t = 0; t < 5; t++) {
    cmx_array x, y;
    double got;
    TU_OK(tu_array(&x, v1, ts[t], &n1, 1));
    TU_OK(cmx_argmax(&y, x, 0, false, NULL));
    cr_assert_eq(cmx_array_ndim(y), 0);
    TU_OK(cmx_array_item(&got, y));
    cr_assert_eq(got, 1.0, "argmax ties %s: %g", cmx_dtype_name(ts[t]), got);
    cmx_array_free(y);
    TU_OK(cmx_argmin(&y, x, -1, true, NULL));
    cr_assert_eq(cmx_array_ndim(y), 1);
    TU_OK(cmx_array_item(&got, y));
    cr_assert_eq(got, 5.0, "argmin ties %s: %g", cmx_dtype_name(ts[t]), got);
    cmx_array_free(y);
    cmx_array_free(x);
    if (!tu_is_float(ts[t])) continue;
    TU_OK(tu_array(&x, v2, ts[t], &n2, 1));
    for (int f = 0; f < 2; f++) {
      TU_OK((f ? cmx_argmin : cmx_argmax)(&y, x, 0, false, NULL));
      TU_OK(cmx_array_item(&got, y));
      cr_assert_eq(got, 1.0, "%s with NaN %s: %g (first NaN wins)",
                   f ? "argmin" : "argmax", cmx_dtype_name(ts[t]), got);
      cmx_array_free(y);
    }
    cmx_array_free(x);
  }
  /* Long rows (vector kernels): ties far apart, across tail boundaries. */
  for (int64_t n = 1; n <= 1100; n += 97) {
    double *v = calloc((size_t)n, sizeof(double));
    for (int64_t i = 0; i < n; i++) v[i] = (double)((i * 37) % 11) - 5;
    cmx_array x, y;
    TU_OK(tu_array(&x, v, CMX_F32, &n, 1));
    int ax = 0;
    check_reduce(R_ARGMAX, x, v, &n, 1, CMX_F32, &ax, 1, false, "ties");
    check_reduce(R_ARGMIN, x, v, &n, 1, CMX_F32, &ax, 1, false, "ties");
    v[n - 1] = NAN;
    cmx_array_free(x);
    TU_OK(tu_array(&x, v, CMX_F32, &n, 1));
    TU_OK(cmx_argmax(&y, x, 0, false, NULL));
    double got;
    TU_OK(cmx_array_item(&got, y));
    cr_assert_eq(got, (double)(n - 1), "argmax NaN at end n=%lld: %g",
                 (long long)n, got);
    cmx_array_free(y);
    cmx_array_free(x);
    free(v);
  }
}

/* f32 and f64 (whose extremes run four at a time), the NaN first, in
 * each of the four lanes, and in the tail; an infinity beside it. */
Test(ops_reduce, nan_propagates_in_max_min_sum) {
  static const int at[] = {0, 2, 5, 11, 16};
  static const cmx_dtype ts[] = {CMX_F32, CMX_F64};
  for (int ti = 0; ti < 2; ti++)
    for (int k = 0; k < 5; k++) {
      double v[17];
      for (int i = 0; i < 17; i++) v[i] = i + 1;
      v[at[k]] = NAN;
      v[at[k] == 16 ? 0 : 16] = ts[ti] == CMX_F64 ? -INFINITY : 1e30;
      int64_t sh[2] = {1, 17};
      cmx_array x;
      TU_OK(tu_array(&x, v, ts[ti], sh, 2));
      for (int op = 0; op < R_ARGMAX; op++) {
        if (op == R_ALL || op == R_ANY) continue;
        int ax = 1;
        check_reduce(op, x, v, sh, 2, ts[ti], &ax, 1, false, "NaN");
      }
      cmx_array_free(x);
    }
}

/* all / any scan each row's bytes a word at a time: rows of 1 to 40 with
 * the one odd element at every position (a zero for all, a one for any),
 * and f32 rows, whose truth values are taken first. */
Test(ops_reduce, all_any_each_position) {
  for (int64_t n = 1; n <= 40; n++) {
    const int64_t sh[2] = {n, n};
    double *v = malloc(sizeof(double) * (size_t)(n * n));
    for (int kind = 0; kind < 2; kind++) { /* 0: all, 1: any */
      for (int64_t r = 0; r < n; r++)
        for (int64_t c = 0; c < n; c++)
          v[r * n + c] = (r == c) == (kind == 0) ? 0.0 : 1.0;
      for (int t = 0; t < 2; t++) {
        cmx_array x, y;
        int ax = 1;
        double got[40];
        TU_OK(tu_array(&x, v, t ? CMX_F32 : CMX_BOOL, sh, 2));
        TU_OK(kind ? cmx_any(&y, x, &ax, 1, false, NULL)
                   : cmx_all(&y, x, &ax, 1, false, NULL));
        tu_read(y, got);
        for (int64_t r = 0; r < n; r++)
          cr_assert_eq(got[r], kind ? 1.0 : 0.0, "%s n %lld row %lld: %g",
                       kind ? "any" : "all", (long long)n, (long long)r,
                       got[r]);
        cmx_array_free(y), cmx_array_free(x);
      }
    }
    free(v);
  }
}

Test(ops_reduce, empty_reductions) {
  int64_t sh[2] = {0, 3};
  cmx_array x, y = (cmx_array)&x;
  TU_OK(cmx_zeros(&x, sh, 2, CMX_F32, NULL));
  int ax0 = 0;
  double got[3];
  TU_OK(cmx_sum(&y, x, &ax0, 1, false, NULL));
  cr_assert_eq(cmx_array_size(y), 3);
  tu_read(y, got);
  for (int i = 0; i < 3; i++) cr_assert_eq(got[i], 0.0, "empty sum");
  cmx_array_free(y);
  TU_OK(cmx_prod(&y, x, &ax0, 1, true, NULL));
  tu_read(y, got);
  for (int i = 0; i < 3; i++) cr_assert_eq(got[i], 1.0, "empty prod");
  cmx_array_free(y);
  TU_OK(cmx_sum(&y, x, NULL, 0, false, NULL));
  TU_OK(cmx_array_item(&got[0], y));
  cr_assert_eq(got[0], 0.0);
  cmx_array_free(y);
  TU_OK(cmx_all(&y, x, &ax0, 1, false, NULL));
  tu_read(y, got);
  cr_assert(got[0] == 1 && got[2] == 1, "all() of nothing is true");
  cmx_array_free(y);
  TU_OK(cmx_any(&y, x, &ax0, 1, false, NULL));
  tu_read(y, got);
  cr_assert(got[0] == 0 && got[2] == 0, "any() of nothing is false");
  cmx_array_free(y);
  int ax1 = 1; /* reducing the non-empty axis: empty result, fine */
  TU_OK(cmx_max(&y, x, &ax1, 1, false, NULL));
  cr_assert_eq(cmx_array_size(y), 0);
  cmx_array_free(y);
  y = (cmx_array)&x;
  TU_FAILS(CMX_EINVAL, "cmx_max", cmx_max(&y, x, &ax0, 1, false, NULL));
  cr_assert_null(y);
  y = (cmx_array)&x;
  TU_FAILS(CMX_EINVAL, "cmx_min", cmx_min(&y, x, NULL, 0, false, NULL));
  cr_assert_null(y);
  cmx_array_free(x);
}

Test(ops_reduce, bad_axes) {
  int64_t sh[2] = {3, 4};
  cmx_array x, y = (cmx_array)&sh;
  TU_OK(cmx_ones(&x, sh, 2, CMX_F32, NULL));
  int a2 = 2, am3 = -3, dup[2] = {0, -2};
  TU_FAILS(CMX_EINVAL, "cmx_sum", cmx_sum(&y, x, &a2, 1, false, NULL));
  cr_assert_null(y);
  TU_FAILS(CMX_EINVAL, "cmx_mean", cmx_mean(&y, x, &am3, 1, true, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_var", cmx_var(&y, x, dup, 2, false, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_argmax", cmx_argmax(&y, x, 2, false, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_argmin", cmx_argmin(&y, x, -3, false, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_logsumexp",
           cmx_logsumexp(&y, x, NULL, 3, false, NULL));
  cmx_array_free(x);
}

/* Accumulation quality: 2^20 values in [0, 1); a plain running f32 sum is
 * off by ~1e-4 relative, pairwise or lane-split sums by ~1e-6. */
/* f16 / bf16 data is widened a block (last axis) or a few rows (leading
 * axis) at a time inside the reduction: rows past one block of 4096,
 * columns past one widened tile of 8192, odd tails, against the float64
 * reference, and the same bits on 1 and 2 threads. */
Test(ops_reduce, wide_16bit_blocks_and_tiles) {
  static const int64_t SH[][2] = {{3, 4097}, {2, 9001}, {4099, 3},
                                   {5, 8195}};
  static const int AX[] = {-1, -1, 0, 0};
  static const int OPS[] = {R_SUM, R_MEAN, R_MAX, R_MIN, R_LSE, R_VAR,
                            R_ARGMAX};
  cmx_dtype ts[2] = {CMX_F16, CMX_BF16};
  for (int ti = 0; ti < 2; ti++)
    for (int si = 0; si < 4; si++) {
      const int64_t n = SH[si][0] * SH[si][1];
      double *v = malloc(sizeof(double) * (size_t)n);
      tu_rand(v, n, ts[ti], -3, 3, 40 + (uint64_t)si);
      cmx_array x;
      TU_OK(tu_array(&x, v, ts[ti], SH[si], 2));
      for (size_t oi = 0; oi < sizeof OPS / sizeof OPS[0]; oi++) {
        const int op = OPS[oi];
        /* the leading-axis kernel takes sum, mean, max and min */
        if (AX[si] == 0 && (op == R_LSE || op == R_VAR)) continue;
        char ctx[64];
        snprintf(ctx, sizeof ctx, "%lldx%lld", (long long)SH[si][0],
                 (long long)SH[si][1]);
        check_reduce(op, x, v, SH[si], 2, ts[ti], &AX[si], 1, false, ctx);
        double *g[2];
        for (int th = 1; th <= 2; th++) {
          TU_OK(cmx_set_num_threads(th));
          cmx_array y;
          if (op == R_ARGMAX)
            TU_OK(cmx_argmax(&y, x, AX[si], false, NULL));
          else
            TU_OK(RFN[op](&y, x, &AX[si], 1, false, NULL));
          g[th - 1] = malloc(sizeof(double) * (size_t)cmx_array_size(y));
          tu_read(y, g[th - 1]);
          for (int64_t o = 0; th == 2 && o < cmx_array_size(y); o++)
            cr_assert(memcmp(&g[0][o], &g[1][o], sizeof(double)) == 0,
                      "%s %s %s: 1 and 2 threads differ at %lld",
                      RNAME[op], cmx_dtype_name(ts[ti]), ctx, (long long)o);
          cmx_array_free(y);
        }
        free(g[0]);
        free(g[1]);
      }
      cmx_array_free(x);
      free(v);
    }
}

Test(ops_reduce, large_sum_accuracy) {
  int64_t n = 1 << 20;
  double *v = malloc(sizeof(double) * (size_t)n), ref = 0;
  tu_rand(v, n, CMX_F32, 0, 1, 5);
  for (int64_t i = 0; i < n; i++) ref += v[i];
  cmx_array x, y;
  TU_OK(tu_array(&x, v, CMX_F32, &n, 1));
  double got;
  TU_OK(cmx_sum(&y, x, NULL, 0, false, NULL));
  TU_OK(cmx_array_item(&got, y));
  cr_assert(fabs(got - ref) <= 2e-5 * ref, "sum of 2^20: %.9g want %.9g",
            got, ref);
  cmx_array_free(y);
  TU_OK(cmx_mean(&y, x, NULL, 0, false, NULL));
  TU_OK(cmx_array_item(&got, y));
  cr_assert(fabs(got - ref / (double)n) <= 2e-5 * ref / (double)n);
  cmx_array_free(y);
  TU_OK(cmx_var(&y, x, NULL, 0, false, NULL));
  TU_OK(cmx_array_item(&got, y));
  double mu = ref / (double)n, s2 = 0;
  for (int64_t i = 0; i < n; i++) s2 += (v[i] - mu) * (v[i] - mu);
  cr_assert(fabs(got - s2 / (double)n) <= 1e-4 * s2 / (double)n,
            "var: %.9g want %.9g", got, s2 / (double)n);
  cmx_array_free(y);
  cmx_array_free(x);
  free(v);
}

/* var with a large common offset: a one-pass E[x^2]-E[x]^2 loses it all. */
Test(ops_reduce, var_is_stable_with_offset) {
  int64_t n = 1001;
  double v[1001], mu = 0, s2 = 0;
  tu_rand(v, n, CMX_F32, 1000, 1001, 9);
  for (int i = 0; i < n; i++) mu += v[i];
  mu /= (double)n;
  for (int i = 0; i < n; i++) s2 += (v[i] - mu) * (v[i] - mu);
  cmx_array x, y;
  TU_OK(tu_array(&x, v, CMX_F32, &n, 1));
  TU_OK(cmx_var(&y, x, NULL, 0, false, NULL));
  double got;
  TU_OK(cmx_array_item(&got, y));
  cr_assert(fabs(got - s2 / (double)n) <= 1e-3 * s2 / (double)n,
            "var offset 1000: %.9g want %.9g", got, s2 / (double)n);
  cmx_array_free(y);
  cmx_array_free(x);
}

/* var whose 64-element prefix sits apart from the rest of its block: the
 * squares about the prefix mean would cancel (the driver takes them again
 * about the block mean), and a plain ramp. */
Test(ops_reduce, var_prefix_apart_and_ramp) {
  int64_t n = 3 * 4096 + 5;
  double *v = malloc(sizeof(double) * (size_t)n);
  for (int kind = 0; kind < 2; kind++) {
    tu_rand(v, n, CMX_F32, -1e-3, 1e-3, 17);
    for (int64_t i = 0; i < n; i++)
      v[i] = kind ? 0.25 * (double)i : (double)(float)(v[i] + 1000.0 +
                                                       (i % 4096 >= 64));
    double mu = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) mu += (float)v[i];
    mu /= (double)n;
    for (int64_t i = 0; i < n; i++) s2 += ((float)v[i] - mu) * ((float)v[i] - mu);
    cmx_array x, y;
    TU_OK(tu_array(&x, v, CMX_F32, &n, 1));
    TU_OK(cmx_var(&y, x, NULL, 0, false, NULL));
    double got;
    TU_OK(cmx_array_item(&got, y));
    cr_assert(fabs(got - s2 / (double)n) <= 1e-5 * s2 / (double)n,
              "var kind %d: %.9g want %.9g", kind, got, s2 / (double)n);
    cmx_array_free(y);
    cmx_array_free(x);
  }
  free(v);
}

/* The determinism contract: the same bits on 1 and 2 threads, for rows of
 * several 4096-blocks split across the team and for a flat reduction. */
Test(ops_reduce, same_bits_one_and_two_threads) {
  static const int ops[] = {R_SUM, R_MEAN, R_VAR, R_LSE, R_MAX, R_ARGMAX,
                            R_ARGMIN};
  /* Over 2^20 elements: smaller work runs inline on one thread. */
  int64_t sh[2] = {4, 300001}, n = sh[0] * sh[1];
  double *v = malloc(sizeof(double) * (size_t)n);
  tu_rand(v, n, CMX_F32, -3, 3, 23);
  cmx_array x;
  TU_OK(tu_array(&x, v, CMX_F32, sh, 2));
  for (int o = 0; o < 7; o++)
    for (int all = 0; all < 2; all++) {
      if (all && ops[o] >= R_ARGMAX) continue;
      double got[2][4];
      for (int nt = 1; nt <= 2; nt++) {
        TU_OK(cmx_set_num_threads(nt));
        int ax = 1;
        cmx_array y;
        switch (ops[o]) {
          case R_ARGMAX: TU_OK(cmx_argmax(&y, x, 1, false, NULL)); break;
          case R_ARGMIN: TU_OK(cmx_argmin(&y, x, 1, false, NULL)); break;
          default:
            TU_OK(RFN[ops[o]](&y, x, all ? NULL : &ax, all ? 0 : 1, false,
                              NULL));
        }
        tu_read(y, got[nt - 1]);
        cmx_array_free(y);
      }
      cr_assert(memcmp(got[0], got[1], sizeof(double) * (all ? 1 : 4)) == 0,
                "%s all=%d differs between 1 and 2 threads", RNAME[ops[o]],
                all);
    }
  TU_OK(cmx_set_num_threads(2));
  cmx_array_free(x);
  free(v);
}

Test(ops_reduce, logsumexp_large_and_inf) {
  double v[6] = {1000, 1000, 999, -INFINITY, -INFINITY, -INFINITY};
  int64_t sh[2] = {2, 3};
  cmx_array x, y;
  TU_OK(tu_array(&x, v, CMX_F32, sh, 2));
  int ax = 1;
  TU_OK(cmx_logsumexp(&y, x, &ax, 1, false, NULL));
  double got[2];
  tu_read(y, got);
  double ref = 1000 + log(2 + exp(-1.0));
  cr_assert(fabs(got[0] - ref) <= 1e-4, "lse(1000,1000,999) = %.9g", got[0]);
  cr_assert(isinf(got[1]) && got[1] < 0, "lse(-inf...) = %g", got[1]);
  cmx_array_free(y);
  cmx_array_free(x);
}

/* logsumexp shifts each 4096-block by the max of its first 64 elements and
 * retries with the true max when the sum overflows: rows whose maximum
 * comes later (a ramp, a spike 200 above the prefix, -inf or NaN or +inf
 * after the prefix, a -inf prefix) against float64, at odd lengths and
 * across a block boundary. */
Test(ops_reduce, logsumexp_late_maximum) {
  static const int64_t lens[] = {65, 100, 1023, 4097, 9000};
  for (int li = 0; li < 5; li++)
    for (int kind = 0; kind < 6; kind++) {
      const int64_t n = lens[li];
      double *v = malloc(sizeof(double) * (size_t)n);
      tu_rand(v, n, CMX_F32, -3, 3, (uint64_t)(li * 8 + kind + 1));
      const int64_t at = n - 1 - n / 7; /* after the prefix */
      switch (kind) {
        case 0: for (int64_t i = 0; i < n; i++) v[i] += 0.5 * (double)i; break;
        case 1: v[at] = 200; break;
        case 2: v[at] = -INFINITY; v[at - 1] = 150; break;
        case 3: v[at] = NAN; break;
        case 4: v[at] = INFINITY; break;
        default: for (int64_t i = 0; i < 64; i++) v[i] = -INFINITY; break;
      }
      double m = -INFINITY, se = 0, want;
      int nan = 0;
      for (int64_t i = 0; i < n; i++) {
        nan |= isnan(v[i]);
        if ((float)v[i] > m) m = (float)v[i];
      }
      for (int64_t i = 0; i < n; i++) se += exp((double)(float)v[i] - m);
      want = nan ? NAN : isinf(m) ? m : m + log(se);
      cmx_array x, y;
      TU_OK(tu_array(&x, v, CMX_F32, &n, 1));
      int ax = 0;
      TU_OK(cmx_logsumexp(&y, x, &ax, 1, false, NULL));
      double got;
      TU_OK(cmx_array_item(&got, y));
      if (isnan(want) || isinf(want))
        cr_assert(isnan(want) ? isnan(got) : got == want,
                  "lse n=%lld kind %d: %g, want %g", (long long)n, kind, got,
                  want);
      else
        cr_assert(fabs(got - want) <= 4e-6 * fmax(1.0, fabs(want)),
                  "lse n=%lld kind %d: %.9g, float64 %.9g", (long long)n,
                  kind, got, want);
      cmx_array_free(y);
      cmx_array_free(x);
      free(v);
    }
}

/* Shapes past the vector widths and tile sizes: inner and outer kernels,
 * rows of several 4096-blocks,
 * their tails, and transposed and broadcast (stride 0) inputs. */
Test(ops_reduce, larger_shapes_kernel_paths) {
  static const int64_t shs[][2] = {{257, 33}, {33, 257}, {7, 1025}, {1, 4099},
                                   {4099, 1}, {64, 64}, {5, 9001}};
  static const int ops[] = {R_SUM, R_MAX, R_ARGMAX, R_LSE, R_VAR, R_MIN,
                            R_ARGMIN, R_MEAN, R_ANY};
  for (int s = 0; s < 7; s++)
    for (int o = 0; o < 9; o++) {
      int op = ops[o];
      int64_t n = shs[s][0] * shs[s][1];
      double *v = malloc(sizeof(double) * (size_t)n * 2), *tv = v + n;
      values_for(op, CMX_F32, v, n, (uint64_t)(s * 9 + o));
      cmx_array x, t;
      TU_OK(tu_array(&x, v, CMX_F32, shs[s], 2));
      TU_OK(cmx_transpose(&t, x, NULL, 0, NULL));
      tu_view w = tu_view_T(tu_view_contig(shs[s], 2), NULL);
      tu_view_gather(&w, v, tv);
      for (int a = 0; a < 2; a++) {
        check_reduce(op, x, v, shs[s], 2, CMX_F32, &a, 1, a == 1, "large");
        check_reduce(op, t, tv, w.shape, 2, CMX_F32, &a, 1, false, "large T");
      }
      cmx_array_free(t);
      cmx_array_free(x);
      free(v);
    }
  int64_t row[2] = {1, 1025}, big[3] = {3, 5, 1025};
  double v[1025], e[3 * 5 * 1025];
  tu_rand(v, 1025, CMX_F32, -3, 3, 99);
  cmx_array x, b;
  TU_OK(tu_array(&x, v, CMX_F32, row, 2));
  TU_OK(cmx_broadcast_to(&b, x, big, 3, NULL));
  tu_view w = tu_view_bcast(tu_view_contig(row, 2), big, 3);
  tu_view_gather(&w, v, e);
  for (int op = 0; op < R_COUNT; op++)
    for (int a = 0; a < 3 - (op == R_PROD); a++) /* 3^1025 overflows */
      check_reduce(op, b, e, big, 3, CMX_F32, &a, 1, false, "broadcast");
  int keep_all[2] = {0, 1};
  check_reduce(R_SUM, b, e, big, 3, CMX_F32, NULL, 0, true, "bcast all");
  check_reduce(R_PROD, b, e, big, 3, CMX_F32, keep_all, 2, true, "bcast 2");
  cmx_array_free(b);
  cmx_array_free(x);
}

/* Short last axes (the rows of at most 16 elements reduced in one loop a
 * row): every op, 1 to 16 elements, 150 rows (two chunks of 64 and a
 * tail), f32 / f16 / bf16, contiguous and as a column slice of a wider
 * array (rows apart by more than their length); NaN and infinities in
 * some rows. */
Test(ops_reduce, short_rows_every_op) {
  static const int64_t Rs[] = {1, 2, 3, 4, 5, 7, 8, 13, 16};
  static const cmx_dtype ts[] = {CMX_F32, CMX_F16, CMX_BF16};
  enum { O = 150 };
  for (int r = 0; r < 9; r++)
    for (int t = 0; t < 3; t++)
      for (int op = 0; op < R_COUNT; op++) {
        if (op == R_ALL || op == R_ANY) continue;
        const int64_t R = Rs[r], W = 2 * R + 3;
        int64_t sh[2] = {O, R}, wsh[2] = {O, W};
        double *v = malloc(sizeof(double) * (size_t)(O * W)),
               *sv = malloc(sizeof(double) * (size_t)(O * W));
        values_for(op, ts[t], v, O * W, (uint64_t)(r * 100 + t * 20 + op));
        if (op != R_PROD && op != R_VAR) {
          v[5 * W + 1] = NAN, v[9 * W + 2 % W] = INFINITY;
          v[20 * W] = -INFINITY, v[20 * W + 1 % W] = -INFINITY;
        }
        cmx_array x, wide, sl;
        TU_OK(tu_array(&x, v, ts[t], sh, 2));
        int ax = 1;
        check_reduce(op, x, v, sh, 2, ts[t], &ax, 1, r & 1, "short rows");
        TU_OK(tu_array(&wide, v, ts[t], wsh, 2));
        const int64_t s0[2] = {0, 1}, s1[2] = {O, 1 + R}, st[2] = {1, 1};
        TU_OK(cmx_slice(&sl, wide, s0, s1, st, 2, NULL));
        tu_view w = tu_view_slice(tu_view_contig(wsh, 2), s0, s1, st);
        tu_view_gather(&w, v, sv);
        check_reduce(op, sl, sv, sh, 2, ts[t], &ax, 1, false,
                     "short rows, sliced");
        cmx_array_free(sl);
        cmx_array_free(wide);
        cmx_array_free(x);
        free(sv);
        free(v);
      }
}

/* A middle axis of (P, R, C) with C contiguous: slices of the leading-axis
 * path, the team's column ranges crossing slices (C = 999 is no multiple
 * of the 16-column grain), f32 and bf16 (widened rows), against float64
 * and bit for bit on 1 and 2 threads. */
Test(ops_reduce, middle_axis_slices) {
  static const int ops[] = {R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD};
  static const cmx_dtype ts[] = {CMX_F32, CMX_BF16};
  int64_t sh[3] = {5, 300, 999}, n = sh[0] * sh[1] * sh[2];
  double *v = malloc(sizeof(double) * (size_t)n);
  for (int ti = 0; ti < 2; ti++)
    for (int o = 0; o < 5; o++) {
      values_for(ops[o], ts[ti], v, n, (uint64_t)(40 + o + 10 * ti));
      cmx_array x;
      TU_OK(tu_array(&x, v, ts[ti], sh, 3));
      int ax = 1, neg = -2;
      check_reduce(ops[o], x, v, sh, 3, ts[ti], &ax, 1, false, "middle");
      check_reduce(ops[o], x, v, sh, 3, ts[ti], &neg, 1, true, "middle");
      double *got[2];
      for (int nt = 1; nt <= 2; nt++) {
        TU_OK(cmx_set_num_threads(nt));
        cmx_array y;
        TU_OK(RFN[ops[o]](&y, x, &ax, 1, false, NULL));
        got[nt - 1] = malloc(sizeof(double) * (size_t)(sh[0] * sh[2]));
        tu_read(y, got[nt - 1]);
        cmx_array_free(y);
      }
      cr_assert(!memcmp(got[0], got[1],
                        sizeof(double) * (size_t)(sh[0] * sh[2])),
                "%s(%s) over the middle axis differs on 1 and 2 threads",
                RNAME[ops[o]], cmx_dtype_name(ts[ti]));
      free(got[0]), free(got[1]);
      cmx_array_free(x);
    }
  TU_OK(cmx_set_num_threads(2));
  free(v);
}

/* Axes (0, 2) of (P, O, C), C contiguous: slices folded on the inner path
 * and their partials combined in order; many slices (whole slices to
 * threads) and few (each slice on the team), f32 and bf16, against float64
 * and bit for bit on 1 and 2 threads. */
Test(ops_reduce, around_a_kept_axis) {
  static const int ops[] = {R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD};
  static const cmx_dtype ts[] = {CMX_F32, CMX_BF16};
  static const int64_t shs[2][3] = {{40, 33, 257}, {3, 500, 300}};
  for (int si = 0; si < 2; si++)
    for (int ti = 0; ti < 2; ti++)
      for (int o = 0; o < 5; o++) {
        const int64_t *sh = shs[si], n = sh[0] * sh[1] * sh[2];
        double *v = malloc(sizeof(double) * (size_t)n);
        values_for(ops[o], ts[ti], v, n, (uint64_t)(70 + o + 10 * ti + si));
        cmx_array x;
        TU_OK(tu_array(&x, v, ts[ti], sh, 3));
        int ax[2] = {0, 2}, neg[2] = {-1, -3};
        check_reduce(ops[o], x, v, sh, 3, ts[ti], ax, 2, false, "around");
        check_reduce(ops[o], x, v, sh, 3, ts[ti], neg, 2, true, "around");
        double got[2][500];
        for (int nt = 1; nt <= 2; nt++) {
          TU_OK(cmx_set_num_threads(nt));
          cmx_array y;
          TU_OK(RFN[ops[o]](&y, x, ax, 2, false, NULL));
          tu_read(y, got[nt - 1]);
          cmx_array_free(y);
        }
        cr_assert(!memcmp(got[0], got[1], sizeof(double) * (size_t)sh[1]),
                  "%s(%s) over (0, 2) of %lldx%lldx%lld differs on 1 and 2 "
                  "threads", RNAME[ops[o]], cmx_dtype_name(ts[ti]),
                  (long long)sh[0], (long long)sh[1], (long long)sh[2]);
        cmx_array_free(x);
        free(v);
      }
  TU_OK(cmx_set_num_threads(2));
}

/* Found by tests/diff-mlx.py: sum and prod of int8 / int16 give int32 and
 * of uint8 uint32, as MLX (they kept the input dtype and wrapped). Random
 * data whose sums and products leave the narrow range. */
Test(ops_reduce, sum_prod_of_narrow_ints_widen) {
  static const cmx_dtype ts[] = {CMX_I8, CMX_I16, CMX_U8};
  static const cmx_dtype want[] = {CMX_I32, CMX_I32, CMX_U32};
  for (int t = 0; t < 3; t++) {
    int64_t sh[2] = {3, 17}, n = 51;
    double v[51], got[17];
    tu_rand(v, n, ts[t], ts[t] == CMX_U8 ? 100 : -120, 120, 11 + t);
    cmx_array a, y;
    TU_OK(tu_array(&a, v, ts[t], sh, 2));
    int ax = 0;
    TU_OK(cmx_sum(&y, a, &ax, 1, false, NULL));
    cr_assert_eq(cmx_array_dtype(y), want[t], "sum %s -> %s",
                 cmx_dtype_name(ts[t]), cmx_dtype_name(cmx_array_dtype(y)));
    tu_read(y, got);
    for (int j = 0; j < 17; j++)
      cr_assert_eq(got[j], v[j] + v[17 + j] + v[34 + j], "sum %s [%d]",
                   cmx_dtype_name(ts[t]), j);
    cmx_array_free(y);
    TU_OK(cmx_prod(&y, a, &ax, 1, true, NULL));
    cr_assert_eq(cmx_array_dtype(y), want[t]);
    tu_read(y, got);
    for (int j = 0; j < 17; j++)
      cr_assert_eq(got[j], v[j] * v[17 + j] * v[34 + j], "prod %s [%d]",
                   cmx_dtype_name(ts[t]), j);
    cmx_array_free(y);
    cmx_array_free(a);
  }
}
