/* The streaming-store output paths, forced on small arrays with
 * CMX_NT_STORES=all (read once per process; Criterion runs each test in its
 * own process): astype f32 -> bf16 / f16 bit-exact (NaN, infinities, ties,
 * subnormals), identity and unary copies, softmax / log_softmax against
 * float64, and transposed copies; odd sizes, views whose rows start at odd
 * elements (16-bit outputs that are not 4-byte aligned), both thread
 * counts. Expected values come from test-util.h, not from the library. */
#include "test-util.h"

static void force_nt(void) { setenv("CMX_NT_STORES", "all", 1); }

/* f32 bit patterns: random, near-tie, tie, special. */
static float *special_floats(int64_t n, uint64_t seed) {
  float *x = malloc(sizeof(float) * (size_t)n);
  cr_assert_not_null(x);
  uint64_t s = seed;
  for (int64_t i = 0; i < n; i++) {
    uint32_t u = (uint32_t)tu_next(&s);
    if (i % 2) u = (u & 0x807FFFFFu) | ((uint32_t)(100 + tu_next(&s) % 45) << 23);
    if (i % 5 == 0) u &= 0xFFFFE000u | (1u << 12);   /* f16 ties */
    if (i % 7 == 0) u = (u & 0xFFFF0000u) | 0x8000u; /* bf16 ties */
    if (i % 11 == 0) u &= 0x807FFFFFu;               /* f32 subnormals */
    memcpy(&x[i], &u, 4);
  }
  static const uint32_t sp[] = {0x7fc00000u, 0xffc00001u, 0x7f800001u,
                                0x7fffffffu, 0x7f800000u, 0xff800000u,
                                0x00000000u, 0x80000000u, 0x7f7fffffu,
                                0x3f808000u, 0x3f818000u, 0x3f80ffffu};
  for (size_t i = 0; i < sizeof sp / sizeof sp[0] && (int64_t)i < n; i++)
    memcpy(&x[i * 3 % n], &sp[i], 4);
  return x;
}

/* astype of view w of x (base array a) to t, every element bit-exact. */
static void check_16(cmx_array view, const float *x, const tu_view *w,
                     cmx_dtype t, const char *what) {
  int64_t n = tu_view_size(w), idx[CMX_MAX_DIMS] = {0};
  cmx_array y;
  TU_OK(cmx_astype(&y, view, t, NULL));
  uint16_t *got = malloc(sizeof(uint16_t) * (size_t)(n ? n : 1));
  TU_OK(cmx_array_read(y, got, sizeof(uint16_t) * (size_t)n));
  for (int64_t k = 0; k < n; k++) {
    int64_t off = w->offset;
    for (int d = 0; d < w->ndim; d++) off += idx[d] * w->strides[d];
    for (int d = w->ndim - 1; d >= 0 && ++idx[d] == w->shape[d]; d--)
      idx[d] = 0;
    float v = x[off];
    if (isnan(v)) {
      double g = t == CMX_F16 ? tu_f16_val(got[k]) : tu_bf16_val(got[k]);
      cr_assert(isnan(g), "%s %s(nan) [%lld] = 0x%04x", what,
                cmx_dtype_name(t), (long long)k, got[k]);
      continue;
    }
    uint16_t ref = t == CMX_F16 ? tu_f16_bits(v) : tu_bf16_bits(v);
    cr_assert_eq(got[k], ref, "%s %s(%a) [%lld] = 0x%04x want 0x%04x", what,
                 cmx_dtype_name(t), v, (long long)k, got[k], ref);
  }
  free(got);
  cmx_array_free(y);
}

static void astype_16bit_all(void) {
  static const int64_t sizes[] = {1, 2, 7, 17, 1023, 1025, 4099, 40009};
  for (int th = 1; th <= 2; th++) {
    TU_OK(cmx_set_num_threads(th));
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
      int64_t n = sizes[si];
      float *x = special_floats(n, 7 + (uint64_t)n);
      cmx_array a;
      TU_OK(cmx_array_from_data(&a, x, CMX_F32, &n, 1));
      tu_view w = tu_view_contig(&n, 1);
      check_16(a, x, &w, CMX_BF16, "contiguous");
      check_16(a, x, &w, CMX_F16, "contiguous");
      cmx_array_free(a);
      free(x);
    }
    /* Rows of 65 starting at odd elements; a transposed view. */
    int64_t sh[2] = {61, 67}, n = 61 * 67;
    float *x = special_floats(n, 99);
    cmx_array a, s, t;
    TU_OK(cmx_array_from_data(&a, x, CMX_F32, sh, 2));
    int64_t b[2] = {0, 1}, e[2] = {61, 66}, st[2] = {1, 1};
    TU_OK(cmx_slice(&s, a, b, e, st, 2, NULL));
    tu_view ws = tu_view_slice(tu_view_contig(sh, 2), b, e, st);
    check_16(s, x, &ws, CMX_BF16, "sliced rows");
    check_16(s, x, &ws, CMX_F16, "sliced rows");
    TU_OK(cmx_transpose(&t, a, NULL, 0, NULL));
    tu_view wt = tu_view_T(tu_view_contig(sh, 2), NULL);
    check_16(t, x, &wt, CMX_BF16, "transposed");
    cmx_array_free(t);
    cmx_array_free(s);
    cmx_array_free(a);
    free(x);
  }
}

Test(ops_stream, astype_16bit_bit_exact) {
  force_nt();
  astype_16bit_all();
}

/* Without streaming stores: contiguous f32 converts in place in chunks of
 * up to DIRECT_TILE (elementwise.c), 40009 crossing two. */
Test(ops_stream, astype_16bit_bit_exact_cached) { astype_16bit_all(); }

/* f32 copies and a unary op through the streaming store, and a 16-bit
 * unary op (neg of bf16 is exact) with a 16-bit streamed output. */
Test(ops_stream, copies_and_unary) {
  force_nt();
  int64_t sh[2] = {37, 1031}, n = 37 * 1031;
  double *v = malloc(sizeof(double) * (size_t)n);
  double *got = malloc(sizeof(double) * (size_t)n);
  tu_rand(v, n, CMX_BF16, -5, 5, 3);
  cmx_array a, ab, s, c, u, nb;
  TU_OK(tu_array(&a, v, CMX_F32, sh, 2));
  TU_OK(tu_array(&ab, v, CMX_BF16, sh, 2));
  int64_t b[2] = {1, 3}, e[2] = {36, 1030}, st[2] = {2, 1};
  TU_OK(cmx_slice(&s, a, b, e, st, 2, NULL));
  TU_OK(cmx_contiguous(&c, s, NULL));
  TU_OK(cmx_neg(&u, s, NULL));
  TU_OK(cmx_neg(&nb, ab, NULL));
  tu_view w = tu_view_slice(tu_view_contig(sh, 2), b, e, st);
  int64_t m = tu_view_size(&w);
  double *ref = malloc(sizeof(double) * (size_t)m);
  tu_view_gather(&w, v, ref);
  tu_read(c, got);
  for (int64_t i = 0; i < m; i++)
    cr_assert_eq(got[i], ref[i], "contiguous [%lld]", (long long)i);
  tu_read(u, got);
  for (int64_t i = 0; i < m; i++)
    cr_assert_eq(got[i], -ref[i], "neg [%lld]", (long long)i);
  cr_assert_eq(cmx_array_dtype(nb), CMX_BF16);
  tu_read(nb, got);
  for (int64_t i = 0; i < n; i++)
    cr_assert_eq(got[i], -v[i], "bf16 neg [%lld]", (long long)i);
  cmx_array_free(nb), cmx_array_free(u), cmx_array_free(c);
  cmx_array_free(s), cmx_array_free(ab), cmx_array_free(a);
  free(ref), free(got), free(v);
}

/* ---- softmax ------------------------------------------------------------ */
static void ref_softmax(const double *x, int64_t n, double *y, int log_) {
  double m = -INFINITY, s = 0;
  for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
  for (int64_t i = 0; i < n; i++) s += exp(x[i] - m);
  for (int64_t i = 0; i < n; i++)
    y[i] = log_ ? x[i] - m - log(s) : exp(x[i] - m) / s;
}

/* softmax / log_softmax of x (rows x n, row r at v + r * ld) over the last
 * axis, against float64. */
static void check_rows(cmx_array x, const double *v, int64_t rows,
                       int64_t n, int64_t ld, const char *what) {
  double *ref = malloc(sizeof(double) * (size_t)n);
  double *got = malloc(sizeof(double) * (size_t)(rows * n));
  for (int log_ = 0; log_ < 2; log_++) {
    cmx_array y;
    TU_OK((log_ ? cmx_log_softmax : cmx_softmax)(&y, x, -1, NULL));
    tu_read(y, got);
    for (int64_t r = 0; r < rows; r++) {
      ref_softmax(v + r * ld, n, ref, log_);
      for (int64_t i = 0; i < n; i++) {
        double g = got[r * n + i], want = ref[i];
        double tol = log_ ? 2e-6 * (1 + fabs(want)) + 4e-6
                          : 2e-6 * fabs(want) + 1e-30;
        cr_assert(tu_close(g, want, 0, tol), "%s log %d row %lld [%lld]: got "
                  "%.9g want %.9g", what, log_, (long long)r, (long long)i, g,
                  want);
      }
    }
    cmx_array_free(y);
  }
  free(got), free(ref);
}

Test(ops_stream, softmax_rows, .timeout = 60) {
  force_nt();
  /* 16411 > the kernels' cached-row limit: the online two-pass path. */
  static const int64_t ns[] = {1, 7, 17, 1023, 16411};
  static const int64_t rs[] = {1, 3, 33};
  for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
    for (size_t ri = 0; ri < sizeof rs / sizeof rs[0]; ri++) {
      int64_t sh[2] = {rs[ri], ns[ni]}, n = sh[0] * sh[1];
      double *v = malloc(sizeof(double) * (size_t)n);
      tu_rand(v, n, CMX_F32, -12, 12, (uint64_t)(ni * 10 + ri));
      cmx_array x;
      TU_OK(tu_array(&x, v, CMX_F32, sh, 2));
      check_rows(x, v, sh[0], sh[1], sh[1], "contiguous");
      cmx_array_free(x);
      free(v);
    }
  /* Rows of 1021 at a stride of 1030 (a column slice), on 1 and 2 threads. */
  int64_t sh[2] = {45, 1030}, n = 45 * 1030;
  double *v = malloc(sizeof(double) * (size_t)n);
  tu_rand(v, n, CMX_F32, -12, 12, 77);
  cmx_array x, s;
  TU_OK(tu_array(&x, v, CMX_F32, sh, 2));
  int64_t b[2] = {0, 3}, e[2] = {45, 1024}, st[2] = {1, 1};
  TU_OK(cmx_slice(&s, x, b, e, st, 2, NULL));
  for (int th = 1; th <= 2; th++) {
    TU_OK(cmx_set_num_threads(th));
    check_rows(s, v + 3, 45, 1021, 1030, "column slice");
  }
  cmx_array_free(s), cmx_array_free(x);
  free(v);
}

/* Rows whose maximum is huge (+-3e38 alternating, bf16 +-3e38 too):
 * log_softmax is (x - M) - log S, so the maxima give -log(count) and not
 * x - (M + log S) = 0 (the streamed short rows rounded M + log S first);
 * f32 and bf16, short (buffered) and long (online) rows. */
Test(ops_stream, log_softmax_huge_max) {
  force_nt();
  static const int64_t ns[] = {37, 1023, 16411};
  static const cmx_dtype ts[] = {CMX_F32, CMX_BF16};
  for (size_t ni = 0; ni < 3; ni++)
    for (int t = 0; t < 2; t++) {
      const int64_t n = ns[ni];
      double *v = malloc(sizeof(double) * (size_t)n);
      double *got = malloc(sizeof(double) * (size_t)n);
      double big = tu_quant(ts[t], 3e38);
      for (int64_t i = 0; i < n; i++) v[i] = i % 2 ? big : -big;
      cmx_array x, y;
      TU_OK(tu_array(&x, v, ts[t], &n, 1));
      TU_OK(cmx_log_softmax(&y, x, -1, NULL));
      tu_read(y, got);
      const double want = tu_quant(ts[t], -log((double)(n / 2)));
      for (int64_t i = 1; i < n; i += 2)
        cr_assert(fabs(got[i] - want) <= 2.02 * tu_eps(ts[t]) * fabs(want),
                  "%s n=%lld [%lld]: got %.9g want %.9g",
                  cmx_dtype_name(ts[t]), (long long)n, (long long)i, got[i],
                  want);
      cmx_array_free(y), cmx_array_free(x);
      free(v), free(got);
    }
}

/* concatenate with its pieces streamed: along both axes, f32 / bf16 / u8
 * (runs of an odd number of bytes, or starting off a 4-byte boundary, go
 * through memcpy), odd widths, against the gathered values. */
Test(ops_stream, concatenate_streamed) {
  force_nt();
  static const cmx_dtype ts[] = {CMX_F32, CMX_BF16, CMX_U8};
  const int64_t R = 5, W[3] = {7, 1, 12};
  for (int t = 0; t < 3; t++)
    for (int axis = 0; axis < 2; axis++) {
      cmx_array in[3], y;
      double *v[3], *got = malloc(sizeof(double) * 3 * 12 * 12);
      int64_t tot = 0;
      for (int k = 0; k < 3; k++) {
        int64_t sh[2] = {axis ? R : W[k], axis ? W[k] : R};
        v[k] = malloc(sizeof(double) * (size_t)(sh[0] * sh[1]));
        tu_rand(v[k], sh[0] * sh[1], ts[t], 0, 100, (uint64_t)(k + 7 * t));
        TU_OK(tu_array(&in[k], v[k], ts[t], sh, 2));
        tot += W[k];
      }
      TU_OK(cmx_concatenate(&y, in, 3, axis, NULL));
      tu_read(y, got);
      int64_t off = 0;
      for (int k = 0; k < 3; k++) {
        for (int64_t i = 0; i < (axis ? R : W[k]); i++)
          for (int64_t j = 0; j < (axis ? W[k] : R); j++) {
            double g = axis ? got[i * tot + off + j] : got[(off + i) * R + j];
            double w = v[k][i * (axis ? W[k] : R) + j];
            cr_assert_eq(g, w, "%s axis %d piece %d [%lld,%lld]: %g want %g",
                         cmx_dtype_name(ts[t]), axis, k, (long long)i,
                         (long long)j, g, w);
          }
        off += W[k];
        cmx_array_free(in[k]);
        free(v[k]);
      }
      cmx_array_free(y);
      free(got);
    }
}

/* ---- transposed copies -------------------------------------------------- */
/* contiguous(transpose(a, perm)) for a of shape sh (nd axes, at most 4)
 * in dtype t, against the gathered reference. */
static void check_permute(const int64_t *sh, const int *perm, int nd,
                          cmx_dtype t, uint64_t seed) {
  int64_t n = 1;
  char what[96];
  int at = snprintf(what, sizeof what, "%s (", cmx_dtype_name(t));
  for (int d = 0; d < nd; d++) {
    n *= sh[d];
    at += snprintf(what + at, sizeof what - (size_t)at, "%lld%s",
                   (long long)sh[d], d + 1 < nd ? "," : ") perm (");
  }
  for (int d = 0; d < nd; d++)
    at += snprintf(what + at, sizeof what - (size_t)at, "%d%s", perm[d],
                   d + 1 < nd ? "," : ")");
  double *v = malloc(sizeof(double) * (size_t)n);
  double *ref = malloc(sizeof(double) * (size_t)n);
  double *got = malloc(sizeof(double) * (size_t)n);
  tu_rand(v, n, t, -100, 100, seed);
  cmx_array a, tr, c;
  TU_OK(tu_array(&a, v, t, sh, nd));
  TU_OK(cmx_transpose(&tr, a, perm, nd, NULL));
  TU_OK(cmx_contiguous(&c, tr, NULL));
  tu_view w = tu_view_T(tu_view_contig(sh, nd), perm);
  tu_view_gather(&w, v, ref);
  tu_read(c, got);
  for (int64_t i = 0; i < n; i++)
    cr_assert_eq(got[i], ref[i], "%s [%lld]: got %g want %g", what,
                 (long long)i, got[i], ref[i]);
  cmx_array_free(c), cmx_array_free(tr), cmx_array_free(a);
  free(got), free(ref), free(v);
}

/* Streaming tiles (extents in whole lines), more than one block along p
 * (> 512) and along L (> 1024), batches of several entries per block,
 * partial tiles (also in the staged form: p of 20 and 36 under whole-line
 * rows, L past one group of 128), half tiles with their remainders
 * inside partial tiles (p or L of 8 and 13 under AVX-512's 16), and the
 * scalar path of the other element sizes. */
static void transposed_copies_all(void) {
  force_nt();
  static const int64_t shapes[][3] = {{48, 5, 64},  {1040, 3, 32},
                                      {17, 9, 33},  {2, 530, 7},
                                      {1, 600, 37}, {64, 40, 16},
                                      {32, 3, 20},  {272, 2, 36},
                                      {8, 20, 64},  {13, 6, 25}};
  static const int perms[][3] = {{2, 1, 0}, {1, 2, 0}, {0, 2, 1}};
  static const cmx_dtype ts[] = {CMX_F32, CMX_F64, CMX_BF16, CMX_U8};
  for (int th = 1; th <= 2; th++) {
    TU_OK(cmx_set_num_threads(th));
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
      for (size_t pi = 0; pi < sizeof perms / sizeof perms[0]; pi++)
        for (size_t ti = 0; ti < sizeof ts / sizeof ts[0]; ti++)
          check_permute(shapes[si], perms[pi], 3, ts[ti], si * 7 + pi + ti);
  }
}

Test(ops_stream, transposed_copies, .timeout = 60) { transposed_copies_all(); }

/* Four axes: the batch axes do not merge, and the destination's first
 * axis is the source's contiguous one (p outside the batch axes: items
 * ordered p first, p split first for small row sets), on 1 and 2 threads;
 * 64 x 8 x 8 x 64 is large enough for the team to split. */
Test(ops_stream, transposed_copies_four_axes, .timeout = 60) {
  static const int64_t shapes[][4] = {{64, 8, 8, 64}, {40, 3, 5, 36},
                                      {17, 4, 3, 65}, {9, 2, 70, 48}};
  static const int perms[][4] = {{3, 2, 1, 0}, {3, 1, 0, 2}, {2, 3, 0, 1}};
  static const cmx_dtype ts[] = {CMX_F32, CMX_BF16};
  for (int th = 1; th <= 2; th++) {
    TU_OK(cmx_set_num_threads(th));
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
      for (size_t pi = 0; pi < sizeof perms / sizeof perms[0]; pi++)
        for (size_t ti = 0; ti < sizeof ts / sizeof ts[0]; ti++)
          check_permute(shapes[si], perms[pi], 4, ts[ti],
                        si * 11 + pi * 3 + ti);
  }
}

/* Permutations that keep the innermost axis (x32-transpose.c's runs): runs
 * of 2, 4 and 8 bytes (u8 x 2 and x 4, bf16 x 2 and x 4, f32 x 2, f64
 * x 1 is no run) taken as whole elements by the tile transpose, other
 * widths (3 to 300 elements) by blocks, 2100 elements (past RUNS_MAX
 * bytes in f32 and f64) by the element walk,
 * with blocks along p and L (64 / 2048 B and more) and partial ones, on 1
 * and 2 threads; then a sliced source (runs with gaps, a step along p)
 * and a reversed one (a negative stride: the element walk). Also with
 * streaming stores (runs of whole lines: f32 x 16, f64 x 16). */
static void permuted_keep_runs(void) {
  static const int64_t sh3[][3] = {{37, 65, 2},  {130, 70, 3}, {9, 300, 16},
                                   {70, 33, 4},  {5, 129, 300}, {300, 6, 5},
                                   {4, 3, 2100}};
  static const int64_t sh4[][4] = {{3, 40, 9, 16}, {2, 7, 130, 2}};
  static const int p3[] = {1, 0, 2};
  static const int p4[][4] = {{0, 2, 1, 3}, {2, 0, 1, 3}, {1, 2, 0, 3}};
  static const cmx_dtype ts[] = {CMX_F32, CMX_F64, CMX_BF16, CMX_U8};
  for (int th = 1; th <= 2; th++) {
    TU_OK(cmx_set_num_threads(th));
    for (size_t ti = 0; ti < sizeof ts / sizeof ts[0]; ti++) {
      for (size_t si = 0; si < sizeof sh3 / sizeof sh3[0]; si++)
        check_permute(sh3[si], p3, 3, ts[ti], si * 5 + ti);
      for (size_t si = 0; si < sizeof sh4 / sizeof sh4[0]; si++)
        for (size_t pi = 0; pi < sizeof p4 / sizeof p4[0]; pi++)
          check_permute(sh4[si], p4[pi], 4, ts[ti], si * 13 + pi + ti);
    }
  }
  /* a (40, 50, 12) f32 source: [::1, 1:45:2, 2:11] transposed (1, 0, 2),
   * then [:, ::-1, :] of the whole, transposed */
  const int64_t sh[3] = {40, 50, 12}, n = 40 * 50 * 12;
  double *v = malloc(sizeof(double) * n), *ref = malloc(sizeof(double) * n),
         *got = malloc(sizeof(double) * n);
  tu_rand(v, n, CMX_F32, -100, 100, 91);
  cmx_array a;
  TU_OK(tu_array(&a, v, CMX_F32, sh, 3));
  const int64_t b[2][3] = {{0, 1, 2}, {0, 49, 0}},
                e[2][3] = {{40, 45, 11}, {40, -51, 12}},
                st[2][3] = {{1, 2, 1}, {1, -1, 1}};
  for (int k = 0; k < 2; k++)
    for (int th = 1; th <= 2; th++) {
      TU_OK(cmx_set_num_threads(th));
      cmx_array sl, tr, c;
      TU_OK(cmx_slice(&sl, a, b[k], e[k], st[k], 3, NULL));
      TU_OK(cmx_transpose(&tr, sl, p3, 3, NULL));
      TU_OK(cmx_contiguous(&c, tr, NULL));
      tu_view w = tu_view_T(tu_view_slice(tu_view_contig(sh, 3), b[k], e[k],
                                          st[k]), p3);
      tu_view_gather(&w, v, ref);
      tu_read(c, got);
      for (int64_t i = 0; i < cmx_array_size(c); i++)
        cr_assert_eq(got[i], ref[i], "slice %d, %d threads [%lld]: %g vs %g",
                     k, th, (long long)i, got[i], ref[i]);
      cmx_array_free(c), cmx_array_free(tr), cmx_array_free(sl);
    }
  cmx_array_free(a);
  /* runs of 2 and 4 bytes one element past an aligned start (u8 x 2,
   * u8 x 4, bf16 x 2 at an odd element): byte blocks, not whole
   * elements (UBSan would see a misaligned load) */
  static const cmx_dtype ot[] = {CMX_U8, CMX_U8, CMX_BF16};
  static const int64_t orun[] = {2, 4, 2};
  for (int k = 0; k < 3; k++) {
    const int64_t osh[3] = {37, 29, orun[k]}, on = 37 * 29 * orun[k];
    tu_rand(v, on + 1, ot[k], -100, 100, 93 + (uint64_t)k);
    cmx_array flat, tail, r3, tr, c;
    TU_OK(tu_array(&flat, v, ot[k], (int64_t[]){on + 1}, 1));
    TU_OK(cmx_slice(&tail, flat, (int64_t[]){1}, (int64_t[]){on + 1}, NULL,
                    1, NULL));
    TU_OK(cmx_reshape(&r3, tail, osh, 3, NULL));
    TU_OK(cmx_transpose(&tr, r3, p3, 3, NULL));
    TU_OK(cmx_contiguous(&c, tr, NULL));
    tu_view w = tu_view_T(tu_view_contig(osh, 3), p3);
    tu_view_gather(&w, v + 1, ref);
    tu_read(c, got);
    for (int64_t i = 0; i < on; i++)
      cr_assert_eq(got[i], ref[i], "offset run %d [%lld]: %g vs %g", k,
                   (long long)i, got[i], ref[i]);
    cmx_array_free(c), cmx_array_free(tr), cmx_array_free(r3);
    cmx_array_free(tail), cmx_array_free(flat);
  }
  free(v), free(ref), free(got);
}

Test(ops_stream, permuted_copies_keep_runs, .timeout = 60) {
  permuted_keep_runs();
}
Test(ops_stream, permuted_copies_keep_runs_streamed, .timeout = 60) {
  force_nt();
  permuted_keep_runs();
}

/* The run length is a tuning knob (read once per process, and Criterion
 * runs each test in its own): its smallest and largest values (and one
 * beyond, which is clamped) must copy the same. */
Test(ops_stream, transposed_copies_shortest_runs, .timeout = 60) {
  setenv("CMX_TRANSPOSE_RUN", "1", 1);
  transposed_copies_all();
}
Test(ops_stream, transposed_copies_longest_runs, .timeout = 60) {
  setenv("CMX_TRANSPOSE_RUN", "100000", 1);
  transposed_copies_all();
}
