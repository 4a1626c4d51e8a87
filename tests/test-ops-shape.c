/* take, take_along_axis, concatenate, stack, split, pad, tril / triu,
 * cumsum and the blocked transposing copy, against references computed
 * here from the input values (float64 / int64), on every dtype, odd sizes,
 * non-contiguous and broadcast inputs, negative axes, and the error paths. */
#include "test-util.h"

static const cmx_dtype k_all[] = {CMX_BOOL, CMX_U8,  CMX_U32,  CMX_I8,
                                  CMX_I16,  CMX_I32, CMX_I64,  CMX_F16,
                                  CMX_BF16, CMX_F32, CMX_F64};
#define NDT (int)(sizeof k_all / sizeof k_all[0])

static cmx_array mk(double *v, const int64_t *sh, int nd, cmx_dtype t,
                    uint64_t seed) {
  tu_view w = tu_view_contig(sh, nd);
  tu_rand(v, tu_view_size(&w), t, -9, 9, seed);
  cmx_array a;
  TU_OK(tu_array(&a, v, t, sh, nd));
  return a;
}
static void eq(cmx_array y, const double *ref, int64_t n, const char *what) {
  cr_assert_eq(cmx_array_size(y), n, "%s: size %lld want %lld", what,
               (long long)cmx_array_size(y), (long long)n);
  double *got = malloc(sizeof(double) * (size_t)(n ? n : 1));
  tu_read(y, got);
  for (int64_t i = 0; i < n; i++)
    cr_assert(tu_close(got[i], ref[i], 0, 0), "%s: [%lld] %g want %g", what,
              (long long)i, got[i], ref[i]);
  free(got);
}
static cmx_array idx_arr(const int64_t *v, int64_t n, cmx_dtype t) {
  double d[64];
  for (int64_t i = 0; i < n; i++) d[i] = (double)v[i];
  cmx_array a;
  TU_OK(tu_array(&a, d, t, &n, 1));
  return a;
}

/* The reference gather from a row-major 3-D v of shape sh into shape
 * osh: along axis ax the source index is iv[sum_d p[d] ist[d]] at output
 * position p, wrapped once if negative. Returns the count written. */
static int64_t gather3_ref(const double *v, const int64_t *sh,
                           const int64_t *osh, int ax, const double *iv,
                           const int64_t *ist, double *ref) {
  int64_t k = 0;
  for (int64_t i = 0; i < osh[0]; i++)
    for (int64_t j = 0; j < osh[1]; j++)
      for (int64_t l = 0; l < osh[2]; l++) {
        int64_t p[3] = {i, j, l};
        int64_t w = (int64_t)iv[i * ist[0] + j * ist[1] + l * ist[2]];
        p[ax] = w < 0 ? w + sh[ax] : w;
        ref[k++] = v[(p[0] * sh[1] + p[1]) * sh[2] + p[2]];
      }
  return k;
}

Test(ops_shape, take_all_dtypes_axes) {
  int64_t sh[3] = {5, 7, 3};
  int64_t iv[6] = {0, -1, 4, 2, -5, 4};
  for (int ti = 0; ti < NDT; ti++) {
    double v[105];
    cmx_array a = mk(v, sh, 3, k_all[ti], 10 + ti);
    for (int axis = -3; axis < 3; axis++) {
      int ax = axis < 0 ? axis + 3 : axis;
      int64_t n = sh[ax];
      cmx_array ix = idx_arr(iv, 6, ti % 2 ? CMX_I32 : CMX_I64), y;
      if (n < 5) { /* index 4 / -5 out of range for size 3 */
        TU_OK(cmx_take(&y, a, ix, axis, NULL));
        TU_FAILS(CMX_EINVAL, "cmx_take", cmx_eval(&y, 1));
        cr_assert(strstr(cmx_last_error(), "index 4"), "%s", cmx_last_error());
        cmx_array_free(y);
        cmx_array_free(ix);
        continue;
      }
      TU_OK(cmx_take(&y, a, ix, axis, NULL));
      int64_t osh[3] = {sh[0], sh[1], sh[2]};
      osh[ax] = 6;
      tu_assert_shape(y, osh, 3);
      double ref[6 * 7 * 5], dv[6];
      int64_t ist[3] = {0, 0, 0};
      ist[ax] = 1; /* take: the index of the output's position on ax */
      for (int i = 0; i < 6; i++) dv[i] = (double)iv[i];
      eq(y, ref, gather3_ref(v, sh, osh, ax, dv, ist, ref), "take");
      cmx_array_free(y);
      cmx_array_free(ix);
    }
    cmx_array_free(a);
  }
}

Test(ops_shape, take_embedding_and_views) {
  /* (V, D) table, (B, L) indices -> (B, L, D); then a transposed table. */
  int64_t sh[2] = {17, 1023}, ish[2] = {3, 7};
  double *v = malloc(sizeof(double) * 17 * 1023);
  cmx_array tab = mk(v, sh, 2, CMX_F32, 3), ix, y;
  double id[21];
  for (int i = 0; i < 21; i++) id[i] = (i * 5) % 17 - (i % 3 ? 0 : 17);
  TU_OK(tu_array(&ix, id, CMX_I32, ish, 2));
  TU_OK(cmx_take(&y, tab, ix, 0, NULL));
  int64_t osh[3] = {3, 7, 1023};
  tu_assert_shape(y, osh, 3);
  double *ref = malloc(sizeof(double) * 21 * 1023);
  for (int i = 0; i < 21; i++) {
    int r = (int)id[i] < 0 ? (int)id[i] + 17 : (int)id[i];
    memcpy(ref + i * 1023, v + r * 1023, 1023 * sizeof(double));
  }
  eq(y, ref, 21 * 1023, "embedding");
  cmx_array_free(y);
  /* take on a transposed (non-contiguous) view along axis 1 */
  cmx_array t;
  TU_OK(cmx_transpose(&t, tab, NULL, 0, NULL));
  TU_OK(cmx_take(&y, t, ix, 1, NULL));
  for (int64_t c = 0; c < 1023; c++)
    for (int i = 0; i < 21; i++) {
      int r = (int)id[i] < 0 ? (int)id[i] + 17 : (int)id[i];
      ref[c * 21 + i] = v[r * 1023 + c];
    }
  eq(y, ref, 21 * 1023, "take of transpose");
  cmx_array_free(y);
  cmx_array_free(t);
  cmx_array_free(ix);
  cmx_array_free(tab);
  free(v);
  free(ref);
}

Test(ops_shape, take_along_axis_broadcast) {
  int64_t sh[2] = {4, 6}, ish[2] = {1, 3};
  for (int ti = 0; ti < NDT; ti++) {
    double v[24], iv[3] = {5, -1, 0};
    cmx_array a = mk(v, sh, 2, k_all[ti], 40 + ti), ix, y;
    TU_OK(tu_array(&ix, iv, CMX_I64, ish, 2));
    TU_OK(cmx_take_along_axis(&y, a, ix, -1, NULL));
    int64_t osh[2] = {4, 3};
    tu_assert_shape(y, osh, 2);
    double ref[12];
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 3; j++) {
        int c = (int)iv[j] < 0 ? (int)iv[j] + 6 : (int)iv[j];
        ref[i * 3 + j] = v[i * 6 + c];
      }
    eq(y, ref, 12, "take_along_axis");
    cmx_array_free(y);
    double bad[3] = {6, 0, 0};
    cmx_array_free(ix);
    TU_OK(tu_array(&ix, bad, CMX_I64, ish, 2));
    TU_OK(cmx_take_along_axis(&y, a, ix, 1, NULL));
    TU_FAILS(CMX_EINVAL, "cmx_take_along_axis", cmx_eval(&y, 1));
    cmx_array_free(y);
    cmx_array_free(ix);
    cmx_array_free(a);
  }
}

/* take_along_axis along each axis of a 3-D array, its indices of several
 * integer dtypes (full-shaped or broadcast along another axis), data of
 * 1, 2, 4 and 8 bytes, a transposed view, a size split over the team, and
 * the error naming the first bad index in output order. */
Test(ops_shape, take_along_axis_axes_dtypes) {
  static const cmx_dtype its[] = {CMX_I8, CMX_I32, CMX_U32, CMX_I64};
  static const cmx_dtype dts[] = {CMX_U8, CMX_F16, CMX_F32, CMX_F64};
  int64_t sh[3] = {5, 6, 7};
  for (int di = 0; di < 4; di++)
    for (int ax = 0; ax < 3; ax++)
      for (int bc = 0; bc < 2; bc++) {
        double v[210], iv[210], ref[210];
        cmx_array a = mk(v, sh, 3, dts[di], 60 + di), ix, y;
        int64_t ish[3] = {5, 6, 7};
        ish[ax] = 4;
        if (bc) ish[(ax + 1) % 3] = 1; /* broadcast along another axis */
        const int64_t ni = ish[0] * ish[1] * ish[2], n = sh[ax];
        for (int64_t k = 0; k < ni; k++)
          iv[k] = (double)((k * 7 + ax) % n) -
                  (its[di] == CMX_U32 ? 0 : n * (k % 2));
        TU_OK(tu_array(&ix, iv, its[di], ish, 3));
        TU_OK(cmx_take_along_axis(&y, a, ix, ax, NULL));
        int64_t osh[3] = {5, 6, 7};
        osh[ax] = 4;
        tu_assert_shape(y, osh, 3);
        /* the indices' row-major strides, 0 where broadcast */
        int64_t ist[3] = {ish[1] * ish[2], ish[2], 1};
        for (int d = 0; d < 3; d++) ist[d] = ish[d] == 1 ? 0 : ist[d];
        eq(y, ref, gather3_ref(v, sh, osh, ax, iv, ist, ref),
           "take_along_axis 3-D");
        cmx_array_free(y);
        cmx_array_free(ix);
        cmx_array_free(a);
      }
  /* a transposed (2000, 600) view along axis 0 and axis 1: 1.2M elements */
  int64_t bsh[2] = {600, 2000}, tsh[2] = {2000, 600};
  double *v = malloc(sizeof(double) * 600 * 2000 * 3), *iv = v + 1200000,
         *ref = iv + 1200000;
  cmx_array b = mk(v, bsh, 2, CMX_F32, 77), t, ix, y;
  TU_OK(cmx_transpose(&t, b, NULL, 0, NULL));
  for (int ax = 0; ax < 2; ax++) {
    for (int64_t k = 0; k < 1200000; k++)
      iv[k] = (double)((k * 13 + 5) % tsh[ax]) - (k % 3 ? 0 : tsh[ax]);
    TU_OK(tu_array(&ix, iv, CMX_I32, tsh, 2));
    TU_OK(cmx_take_along_axis(&y, t, ix, ax, NULL));
    for (int64_t i = 0; i < 2000; i++)
      for (int64_t j = 0; j < 600; j++) {
        int64_t w = (int64_t)iv[i * 600 + j], p[2] = {i, j};
        p[ax] = w < 0 ? w + tsh[ax] : w;
        ref[i * 600 + j] = v[p[1] * 2000 + p[0]]; /* t(i, j) = b(j, i) */
      }
    eq(y, ref, 1200000, "take_along_axis of a transpose, team");
    cmx_array_free(y);
    /* two bad indices: the first in output order is the one named */
    iv[700001] = 99999, iv[1100000] = -99998;
    cmx_array_free(ix);
    TU_OK(tu_array(&ix, iv, CMX_I32, tsh, 2));
    TU_OK(cmx_take_along_axis(&y, t, ix, ax, NULL));
    TU_FAILS(CMX_EINVAL, "cmx_take_along_axis", cmx_eval(&y, 1));
    cr_assert(strstr(cmx_last_error(), "index 99999 ") != NULL, "%s",
              cmx_last_error());
    cmx_array_free(y);
    cmx_array_free(ix);
  }
  cmx_array_free(t);
  cmx_array_free(b);
  free(v);
}

Test(ops_shape, take_errors) {
  int64_t sh[2] = {3, 4};
  double v[12];
  cmx_array a = mk(v, sh, 2, CMX_F32, 1), fi, y = (cmx_array)&y;
  TU_OK(cmx_zeros(&fi, sh, 1, CMX_F32, NULL));
  TU_FAILS(CMX_EDTYPE, "cmx_take", cmx_take(&y, a, fi, 0, NULL));
  cr_assert_null(y);
  int64_t iv[1] = {0};
  cmx_array ix = idx_arr(iv, 1, CMX_I32);
  TU_FAILS(CMX_EINVAL, "cmx_take", cmx_take(&y, a, ix, 2, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_take", cmx_take(&y, a, ix, -3, NULL));
  cmx_array_free(ix);
  cmx_array_free(fi);
  cmx_array_free(a);
}

Test(ops_shape, concatenate_stack) {
  for (int ti = 0; ti < NDT; ti++) {
    cmx_dtype t = k_all[ti];
    int64_t s0[3] = {2, 1, 3}, s1[3] = {2, 7, 3}, s2[3] = {2, 17, 3};
    double v0[6], v1[42], v2[102];
    cmx_array a[3] = {mk(v0, s0, 3, t, 1), mk(v1, s1, 3, t, 2),
                      mk(v2, s2, 3, t, 3)};
    /* a non-contiguous piece: a[1] reversed along axis 1 */
    int64_t b[3] = {0, -1, 0}, e[3] = {2, -8, 3}, st[3] = {1, -1, 1};
    cmx_array r, y;
    TU_OK(cmx_slice(&r, a[1], b, e, st, 3, NULL));
    cmx_array in[3] = {a[0], r, a[2]};
    TU_OK(cmx_concatenate(&y, in, 3, -2, NULL));
    int64_t osh[3] = {2, 25, 3};
    tu_assert_shape(y, osh, 3);
    double ref[150];
    int k = 0;
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 3; j++) ref[k++] = v0[i * 3 + j];
      for (int m = 6; m >= 0; m--)
        for (int j = 0; j < 3; j++) ref[k++] = v1[(i * 7 + m) * 3 + j];
      for (int m = 0; m < 17; m++)
        for (int j = 0; j < 3; j++) ref[k++] = v2[(i * 17 + m) * 3 + j];
    }
    eq(y, ref, 150, "concatenate");
    cmx_array_free(y);
    cmx_array_free(r);
    /* stack three (2, 7, 3) arrays on axis -1 (a new last axis) */
    cmx_array same[3] = {a[1], a[1], a[1]};
    TU_OK(cmx_stack(&y, same, 3, -1, NULL));
    int64_t ssh[4] = {2, 7, 3, 3};
    tu_assert_shape(y, ssh, 4);
    double sref[126];
    for (int i = 0; i < 42; i++)
      for (int j = 0; j < 3; j++) sref[i * 3 + j] = v1[i];
    eq(y, sref, 126, "stack");
    cmx_array_free(y);
    for (int i = 0; i < 3; i++) cmx_array_free(a[i]);
  }
}

/* Few long rows (cmx_index_copy cuts them into 64 KiB parts on a team):
 * concatenate along axis 0 of whole pieces (each one row after merging),
 * along axis 1 of (2, n) pieces (two rows each, rows apart in the
 * result), and a reversed piece (stride -1 along the parts); lengths not
 * a multiple of a part; 1 and 2 threads, u8 / bf16 / f32 / f64. */
Test(ops_shape, concatenate_long_rows) {
  static const cmx_dtype ts[] = {CMX_U8, CMX_BF16, CMX_F32, CMX_F64};
  const int64_t n0 = 70001, n1 = 40007;
  double *v0 = malloc(sizeof(double) * 2 * n0),
         *v1 = malloc(sizeof(double) * 2 * n1),
         *ref = malloc(sizeof(double) * 2 * (n0 + n1)),
         *got = malloc(sizeof(double) * 2 * (n0 + n1));
  for (int th = 1; th <= 2; th++)
    for (size_t ti = 0; ti < sizeof ts / sizeof ts[0]; ti++) {
      TU_OK(cmx_set_num_threads(th));
      cmx_dtype t = ts[ti];
      tu_rand(v0, 2 * n0, t, -100, 100, 7 + ti);
      tu_rand(v1, 2 * n1, t, -100, 100, 17 + ti);
      cmx_array a, b, br, y;
      TU_OK(tu_array(&a, v0, t, (int64_t[]){2, n0}, 2));
      TU_OK(tu_array(&b, v1, t, (int64_t[]){2, n1}, 2));
      /* axis 1: row i of the result is a[i] then b[i] reversed */
      TU_OK(cmx_slice(&br, b, (int64_t[]){0, -1}, (int64_t[]){2, -n1 - 1},
                      (int64_t[]){1, -1}, 2, NULL));
      TU_OK(cmx_concatenate(&y, (cmx_array[]){a, br}, 2, 1, NULL));
      for (int64_t i = 0, k = 0; i < 2; i++) {
        for (int64_t j = 0; j < n0; j++) ref[k++] = v0[i * n0 + j];
        for (int64_t j = n1 - 1; j >= 0; j--) ref[k++] = v1[i * n1 + j];
      }
      tu_read(y, got);
      for (int64_t i = 0; i < 2 * (n0 + n1); i++)
        cr_assert_eq(got[i], ref[i], "axis 1 %s %d threads [%lld]",
                     cmx_dtype_name(t), th, (long long)i);
      cmx_array_free(y);
      /* axis 0 of the flat pieces: one long row each */
      cmx_array fa, fb;
      TU_OK(cmx_reshape(&fa, a, (int64_t[]){2 * n0}, 1, NULL));
      TU_OK(cmx_reshape(&fb, b, (int64_t[]){2 * n1}, 1, NULL));
      TU_OK(cmx_concatenate(&y, (cmx_array[]){fb, fa}, 2, 0, NULL));
      memcpy(ref, v1, sizeof(double) * 2 * n1);
      memcpy(ref + 2 * n1, v0, sizeof(double) * 2 * n0);
      tu_read(y, got);
      for (int64_t i = 0; i < 2 * (n0 + n1); i++)
        cr_assert_eq(got[i], ref[i], "axis 0 %s %d threads [%lld]",
                     cmx_dtype_name(t), th, (long long)i);
      cmx_array_free(y), cmx_array_free(fa), cmx_array_free(fb);
      cmx_array_free(br), cmx_array_free(a), cmx_array_free(b);
    }
  free(v0), free(v1), free(ref), free(got);
}

Test(ops_shape, concatenate_promotes_and_errors) {
  int64_t s[1] = {3}, s2[2] = {3, 1};
  double v[3], w[3];
  cmx_array a = mk(v, s, 1, CMX_I32, 1), b = mk(w, s, 1, CMX_F32, 2), y;
  cmx_array in[2] = {a, b};
  TU_OK(cmx_concatenate(&y, in, 2, 0, NULL));
  cr_assert_eq(cmx_array_dtype(y), CMX_F32);
  double ref[6] = {v[0], v[1], v[2], w[0], w[1], w[2]};
  eq(y, ref, 6, "promote");
  cmx_array_free(y);
  cmx_array c = mk(w, s2, 2, CMX_F32, 3);
  cmx_array bad[2] = {a, c};
  y = (cmx_array)&y;
  TU_FAILS(CMX_ESHAPE, "cmx_concatenate", cmx_concatenate(&y, bad, 2, 0, NULL));
  cr_assert_null(y);
  TU_FAILS(CMX_ESHAPE, "cmx_stack", cmx_stack(&y, bad, 2, 0, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_concatenate", cmx_concatenate(&y, in, 2, 1, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_stack", cmx_stack(&y, in, 2, 2, NULL));
  cmx_array_free(a);
  cmx_array_free(b);
  cmx_array_free(c);
}

Test(ops_shape, split_views) {
  int64_t sh[2] = {4, 9};
  double v[36];
  cmx_array a = mk(v, sh, 2, CMX_I16, 5), o[4];
  TU_OK(cmx_split(o, 3, a, -1, NULL));
  for (int p = 0; p < 3; p++) {
    int64_t w[2] = {4, 3};
    tu_assert_shape(o[p], w, 2);
    double ref[12];
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 3; j++) ref[i * 3 + j] = v[i * 9 + p * 3 + j];
    eq(o[p], ref, 12, "split");
    TU_OK(cmx_eval(&o[p], 1));
    cr_assert_eq(cmx_array_strides(o[p])[0], 9, "split copied");
    cmx_array_free(o[p]);
  }
  TU_FAILS(CMX_ESHAPE, "cmx_split", cmx_split(o, 2, a, 1, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_split", cmx_split(o, 2, a, 2, NULL));
  int64_t at[3] = {1, -1, 2};
  TU_OK(cmx_split_at(o, a, at, 3, 0, NULL));
  int64_t rows[4] = {1, 2, 0, 1};
  for (int p = 0; p < 4; p++) {
    cr_assert_eq(cmx_array_shape(o[p])[0], rows[p], "piece %d rows", p);
    cmx_array_free(o[p]);
  }
  cmx_array_free(a);
}

Test(ops_shape, pad_all_dtypes) {
  int64_t sh[2] = {3, 7}, lo[2] = {1, 0}, hi[2] = {2, 3};
  for (int ti = 0; ti < NDT; ti++) {
    double v[21];
    cmx_array a = mk(v, sh, 2, k_all[ti], 60 + ti), t, y;
    TU_OK(cmx_transpose(&t, a, NULL, 0, NULL)); /* (7, 3), strided */
    int64_t l2[2] = {lo[0], lo[1]}, h2[2] = {hi[0], hi[1]};
    TU_OK(cmx_pad(&y, t, l2, h2, 2, 1.0, NULL));
    int64_t osh[2] = {10, 6};
    tu_assert_shape(y, osh, 2);
    double ref[60];
    for (int i = 0; i < 10; i++)
      for (int j = 0; j < 6; j++) {
        int r = i - 1, c = j;
        ref[i * 6 + j] = r >= 0 && r < 7 && c < 3 ? v[c * 7 + r]
                                                   : tu_quant(k_all[ti], 1.0);
      }
    eq(y, ref, 60, "pad");
    cmx_array_free(y);
    int64_t neg[2] = {-1, 0};
    TU_FAILS(CMX_EINVAL, "cmx_pad", cmx_pad(&y, a, neg, hi, 2, 0, NULL));
    TU_FAILS(CMX_EINVAL, "cmx_pad", cmx_pad(&y, a, lo, hi, 1, 0, NULL));
    cmx_array_free(t);
    cmx_array_free(a);
  }
}

Test(ops_shape, tril_triu) {
  int64_t sh[3] = {2, 5, 7};
  for (int ti = 0; ti < NDT; ti++) {
    double v[70];
    cmx_array a = mk(v, sh, 3, k_all[ti], 80 + ti), y;
    for (int k = -6; k <= 8; k += 2)
      for (int up = 0; up < 2; up++) {
        TU_OK(up ? cmx_triu(&y, a, k, NULL) : cmx_tril(&y, a, k, NULL));
        double ref[70];
        for (int i = 0; i < 70; i++) {
          int r = (i / 7) % 5, c = i % 7;
          int keep = up ? c - r >= k : c - r <= k;
          ref[i] = keep ? v[i] : 0.0;
        }
        eq(y, ref, 70, up ? "triu" : "tril");
        cmx_array_free(y);
      }
    cmx_array_free(a);
  }
  int64_t one[1] = {4};
  cmx_array b, y;
  TU_OK(cmx_zeros(&b, one, 1, CMX_F32, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_tril", cmx_tril(&y, b, 0, NULL));
  cmx_array_free(b);
}

/* Reference cumsum over axis of a row-major (d0, d1, d2) block. */
static void cumsum_ref(const double *v, const int64_t *sh, int ax, int rev,
                       int incl, cmx_dtype t, double *ref) {
  int64_t outer = 1, inner = 1, n = sh[ax];
  for (int d = 0; d < ax; d++) outer *= sh[d];
  for (int d = ax + 1; d < 3; d++) inner *= sh[d];
  cmx_dtype od = t == CMX_BOOL ? CMX_I32 : t;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      double accd = 0;
      float accf = 0;
      int64_t acci = 0;
      for (int64_t s = 0; s < n; s++) {
        int64_t k = rev ? n - 1 - s : s, at = (o * n + k) * inner + i;
        double before = tu_is_float(t) ? (t == CMX_F64 ? accd : accf)
                                       : (double)acci;
        accd += v[at];
        accf += (float)v[at];
        acci += (int64_t)v[at];
        double after = tu_is_float(t) ? (t == CMX_F64 ? accd : accf)
                                      : (double)acci;
        double r = incl ? after : before;
        if (!tu_is_float(od)) { /* wrap to the output integer type */
          uint64_t buf[1];
          int64_t w = incl ? acci : (int64_t)before;
          switch (od) {
            case CMX_U8: r = (uint8_t)w; break;
            case CMX_I8: r = (int8_t)w; break;
            case CMX_I16: r = (int16_t)w; break;
            case CMX_I32: r = (int32_t)w; break;
            case CMX_U32: r = (uint32_t)w; break;
            default: r = (double)w; break;
          }
          (void)buf;
        } else {
          r = tu_quant(od, r);
        }
        ref[at] = r;
      }
    }
}

Test(ops_shape, cumsum_all) {
  int64_t sh[3] = {3, 17, 7};
  for (int ti = 0; ti < NDT; ti++) {
    cmx_dtype t = k_all[ti];
    double v[357], ref[357];
    cmx_array a = mk(v, sh, 3, t, 90 + ti), y;
    for (int axis = -3; axis < 3; axis++)
      for (int m = 0; m < 4; m++) {
        int rev = m & 1, incl = !(m & 2), ax = axis < 0 ? axis + 3 : axis;
        TU_OK(cmx_cumsum(&y, a, axis, rev, incl, NULL));
        cr_assert_eq(cmx_array_dtype(y), t == CMX_BOOL ? CMX_I32 : t);
        cumsum_ref(v, sh, ax, rev, incl, t, ref);
        double got[357];
        tu_read(y, got);
        double tol = t == CMX_F16 || t == CMX_BF16 ? tu_eps(t) * 2 : 0;
        tu_assert_close(got, ref, 357, tol, t == CMX_F32 ? 1e-5 : 0,
                        "cumsum");
        cmx_array_free(y);
      }
    cmx_array_free(a);
  }
}

/* Over the last axis, rows eight at a time side by side (and the rows
 * past the last whole eight one at a time): each row still the
 * sequential f32 sum, bit for bit, forward and reverse, inclusive and
 * exclusive, f32 and bf16, on 1 and 2 threads. */
Test(ops_shape, cumsum_rows_side_by_side) {
  int64_t sh[2] = {37, 4000}; /* 4 groups of 8 rows, 5 rows alone */
  static const cmx_dtype ts[] = {CMX_F32, CMX_BF16};
  double *v = malloc(sizeof(double) * 148000 * 2), *ref = v + 148000;
  for (int ti = 0; ti < 2; ti++) {
    cmx_array a = mk(v, sh, 2, ts[ti], 123 + ti), y;
    for (int m = 0; m < 4; m++) {
      const int rev = m & 1, incl = !(m & 2);
      for (int r = 0; r < 37; r++) {
        float acc = 0;
        for (int t = 0; t < 4000; t++) {
          const int c = rev ? 3999 - t : t;
          const float before = acc;
          acc += (float)v[r * 4000 + c];
          ref[r * 4000 + c] = tu_quant(ts[ti], incl ? acc : before);
        }
      }
      for (int nt = 1; nt <= 2; nt++) {
        TU_OK(cmx_set_num_threads(nt));
        TU_OK(cmx_cumsum(&y, a, -1, rev, incl, NULL));
        eq(y, ref, 148000, "cumsum rows side by side");
        cmx_array_free(y);
      }
    }
    cmx_array_free(a);
  }
  TU_OK(cmx_set_num_threads(2));
  free(v);
}

/* Short rows over the last axis (straight from x to y, 64 rows an item):
 * 150 rows (two whole items and part of a third) of 1, 3, 16 and 17
 * elements, each row the sequential f32 sum bit for bit, every mode, on
 * 1 and 2 threads. */
Test(ops_shape, cumsum_short_rows) {
  static const int64_t ns[] = {1, 3, 16, 17};
  double *v = malloc(sizeof(double) * 150 * 17 * 2), *ref = v + 150 * 17;
  for (int k = 0; k < 4; k++) {
    const int64_t n = ns[k], sh[2] = {150, n};
    cmx_array a = mk(v, sh, 2, CMX_F32, 300 + k), y;
    for (int m = 0; m < 4; m++) {
      const int rev = m & 1, incl = !(m & 2);
      for (int64_t r = 0; r < 150; r++) {
        float acc = 0;
        for (int64_t t = 0; t < n; t++) {
          const int64_t c = rev ? n - 1 - t : t;
          const float before = acc;
          acc += (float)v[r * n + c];
          ref[r * n + c] = incl ? acc : before;
        }
      }
      for (int nt = 1; nt <= 2; nt++) {
        TU_OK(cmx_set_num_threads(nt));
        TU_OK(cmx_cumsum(&y, a, -1, rev, incl, NULL));
        eq(y, ref, 150 * n, "cumsum short rows");
        cmx_array_free(y);
      }
    }
    cmx_array_free(a);
  }
  TU_OK(cmx_set_num_threads(2));
  free(v);
}

Test(ops_shape, cumsum_strided_and_long) {
  int64_t sh[2] = {1023, 3};
  double *v = malloc(sizeof(double) * 3069), *ref = malloc(sizeof(double) * 3069);
  cmx_array a = mk(v, sh, 2, CMX_F32, 7), t, y;
  TU_OK(cmx_transpose(&t, a, NULL, 0, NULL)); /* (3, 1023) strided */
  TU_OK(cmx_cumsum(&y, t, -1, false, true, NULL));
  for (int r = 0; r < 3; r++) {
    float acc = 0;
    for (int c = 0; c < 1023; c++) {
      acc += (float)v[c * 3 + r];
      ref[r * 1023 + c] = acc;
    }
  }
  eq(y, ref, 3069, "cumsum of transpose (f32 sequential)");
  cmx_array_free(y);
  TU_FAILS(CMX_EINVAL, "cmx_cumsum", cmx_cumsum(&y, a, 2, false, true, NULL));
  cmx_array_free(t);
  cmx_array_free(a);
  free(v);
  free(ref);
}

/* contiguous of permuted views: the blocked transpose path for every
 * element size, odd extents, slices and broadcasts. */
Test(ops_shape, transposed_copies) {
  int64_t shapes[4][3] = {{1, 7, 17}, {7, 17, 33}, {3, 1023, 5}, {2, 64, 65}};
  int perms[3][3] = {{2, 1, 0}, {0, 2, 1}, {1, 2, 0}};
  for (int ti = 0; ti < NDT; ti++)
    for (int si = 0; si < 4; si++)
      for (int pi = 0; pi < 3; pi++) {
        const int64_t *sh = shapes[si];
        int64_t n = sh[0] * sh[1] * sh[2];
        double *v = malloc(sizeof(double) * (size_t)n);
        double *ref = malloc(sizeof(double) * (size_t)n);
        cmx_array a = mk(v, sh, 3, k_all[ti], (uint64_t)(ti * 31 + si)), t, c;
        TU_OK(cmx_transpose(&t, a, perms[pi], 3, NULL));
        TU_OK(cmx_contiguous(&c, t, NULL));
        tu_view w = tu_view_T(tu_view_contig(sh, 3), perms[pi]);
        tu_view_gather(&w, v, ref);
        eq(c, ref, n, "contiguous(transpose)");
        eq(t, ref, n, "read of the view");
        cmx_array_free(c);
        cmx_array_free(t);
        cmx_array_free(a);
        free(v);
        free(ref);
      }
  /* a stepped slice of a transpose */
  int64_t sh[2] = {40, 50};
  double v[2000], ref[2000];
  cmx_array a = mk(v, sh, 2, CMX_F32, 5), t, s, c;
  TU_OK(cmx_transpose(&t, a, NULL, 0, NULL));
  int64_t b[2] = {1, 0}, e[2] = {50, 37}, st[2] = {2, 1};
  TU_OK(cmx_slice(&s, t, b, e, st, 2, NULL));
  TU_OK(cmx_contiguous(&c, s, NULL));
  tu_view w = tu_view_slice(tu_view_T(tu_view_contig(sh, 2), NULL), b, e, st);
  tu_view_gather(&w, v, ref);
  eq(c, ref, tu_view_size(&w), "contiguous(slice(transpose))");
  cmx_array_free(c);
  cmx_array_free(s);
  cmx_array_free(t);
  cmx_array_free(a);
}
