/* scaled_dot_product_attention against an unfused float64
 * softmax(q k^T scale + mask) v written here: odd lengths (1, 7, 17, 33,
 * 129), D in {8, 64, 80}, causal with Lq != Lk, additive and boolean masks
 * broadcast from smaller shapes, grouped-query heads, decode against long
 * caches, transposed q and bf16 inputs; conv1d / conv2d against a direct
 * float64 loop with stride, padding, dilation, groups and depthwise; 1 and
 * 2 threads bitwise equal; the error paths. */
#include <float.h>

#include "test-util.h"

static double *dalloc(int64_t n) {
  double *p = malloc((size_t)(n ? n : 1) * sizeof *p);
  cr_assert_not_null(p);
  return p;
}

/* ---- attention reference ------------------------------------------------ */
struct sdpa_case {
  int64_t B, Hq, Hkv, Lq, Lk, D, Dv;
  int mode;          /* 0 none, 1 causal, 2 additive mask, 3 bool mask */
  int64_t msh[4];    /* mask shape (mode 2, 3), right-aligned */
  int mnd;
};

/* Set by a test: masks (mode 2, 3) also hide keys [0, 48) from their even
 * rows: the decode's first three 16-key steps hidden from some rows of a
 * KV head and not others (an additive mask's -inf: no key seen yet). */
static int g_mask_holes;

/* o (B, Hq, Lq, Dv) = softmax(q k^T scale + mask) v in float64; mask (m,
 * broadcast through mv) as additive or boolean. */
static void ref_sdpa(const struct sdpa_case *c, const double *q,
                     const double *k, const double *v, const double *m,
                     const tu_view *mv, double scale, double *o) {
  double *s = dalloc(c->Lk);
  /* causal: aligned to the end (MLX); a query that sees no key (Lq > Lk)
   * has every score -FLT_MAX, as MLX's mask gives: the mean of v */
  int64_t coff = c->Lk - c->Lq;
  for (int64_t b = 0; b < c->B; b++)
    for (int64_t h = 0; h < c->Hq; h++) {
      int64_t hk = h / (c->Hq / c->Hkv);
      const double *qh = q + (b * c->Hq + h) * c->Lq * c->D;
      const double *kh = k + (b * c->Hkv + hk) * c->Lk * c->D;
      const double *vh = v + (b * c->Hkv + hk) * c->Lk * c->Dv;
      for (int64_t i = 0; i < c->Lq; i++) {
        double mx = -INFINITY;
        for (int64_t j = 0; j < c->Lk; j++) {
          double d = 0;
          for (int64_t p = 0; p < c->D; p++)
            d += qh[i * c->D + p] * kh[j * c->D + p];
          d *= scale;
          if (c->mode == 1 && i + coff < 0) d = -FLT_MAX;
          else if (c->mode == 1 && j > i + coff) d = -INFINITY;
          if (c->mode >= 2) {
            int64_t off = mv->offset + b * mv->strides[0] +
                          h * mv->strides[1] + i * mv->strides[2] +
                          j * mv->strides[3];
            if (c->mode == 2) d += m[off];
            else if (m[off] == 0) d = -FLT_MAX;
          }
          s[j] = d;
          if (d > mx) mx = d;
        }
        double sum = 0;
        for (int64_t j = 0; j < c->Lk; j++) sum += s[j] = exp(s[j] - mx);
        double *oi = o + ((b * c->Hq + h) * c->Lq + i) * c->Dv;
        for (int64_t d = 0; d < c->Dv; d++) {
          double acc = 0;
          for (int64_t j = 0; j < c->Lk; j++) acc += s[j] * vh[j * c->Dv + d];
          oi[d] = mx == -INFINITY ? NAN : acc / sum;
        }
      }
    }
  free(s);
}

static cmx_stream g_st[2];
static void streams_up(void) {
  for (int i = 0; i < 2; i++) {
    cmx_stream_config cfg = {.n_threads = i + 1};
    TU_OK(cmx_stream_new(&g_st[i], &cfg));
  }
}
static void streams_down(void) {
  for (int i = 0; i < 2; i++) cmx_stream_free(g_st[i]);
}

/* v (shape sh, 4-D, row-major) as an array stored with axes 1 and 2
 * swapped and viewed back as sh: a transposed head layout, (B, L, H, D)
 * seen as (B, H, L, D). */
static void tu_array_heads_t(cmx_array *out, const double *v, cmx_dtype t,
                             const int64_t *sh) {
  static const int perm[4] = {0, 2, 1, 3};
  const int64_t n = sh[0] * sh[1] * sh[2] * sh[3],
                tsh[4] = {sh[0], sh[2], sh[1], sh[3]};
  double *vt = dalloc(n);
  tu_view tv = tu_view_T(tu_view_contig(sh, 4), perm);
  tu_view_gather(&tv, v, vt);
  cmx_array raw;
  TU_OK(tu_array(&raw, vt, t, tsh, 4));
  TU_OK(cmx_transpose(out, raw, perm, 4, NULL));
  cmx_array_free(raw);
  free(vt);
}

/* Runs case c in dtype t (q transposed from (B, Lq, Hq, D) when tq) on 1
 * and 2 threads: both must agree bitwise and match the reference. */
static void check_sdpa(const struct sdpa_case *c, cmx_dtype t, int tq,
                       uint64_t seed) {
  const int64_t nq = c->B * c->Hq * c->Lq * c->D,
                nk = c->B * c->Hkv * c->Lk * c->D,
                nv = c->B * c->Hkv * c->Lk * c->Dv,
                no = c->B * c->Hq * c->Lq * c->Dv;
  double *q = dalloc(nq), *k = dalloc(nk), *v = dalloc(nv), *m = NULL;
  tu_rand(q, nq, t, -1, 1, seed);
  tu_rand(k, nk, t, -1, 1, seed + 1);
  tu_rand(v, nv, t, -1, 1, seed + 2);
  int64_t qsh[4] = {c->B, c->Hq, c->Lq, c->D},
          ksh[4] = {c->B, c->Hkv, c->Lk, c->D},
          vsh[4] = {c->B, c->Hkv, c->Lk, c->Dv};
  cmx_array qa, ka, va, ma = NULL;
  if (tq) /* q stored (B, Lq, Hq, D), viewed as (B, Hq, Lq, D) */
    tu_array_heads_t(&qa, q, t, qsh);
  else
    TU_OK(tu_array(&qa, q, t, qsh, 4));
  TU_OK(tu_array(&ka, k, t, ksh, 4));
  TU_OK(tu_array(&va, v, t, vsh, 4));
  tu_view mv = {0};
  if (c->mode >= 2) {
    int64_t n = 1;
    for (int d = 0; d < c->mnd; d++) n *= c->msh[d];
    m = dalloc(n);
    cmx_dtype mt = c->mode == 3 ? CMX_BOOL : CMX_F32;
    tu_rand(m, n, mt, -2, 2, seed + 3);
    if (c->mode == 2)
      for (int64_t i = 5; i < n; i += 11) m[i] = -INFINITY;
    const int64_t ml = c->msh[c->mnd - 1];
    for (int64_t i = 0; g_mask_holes && i < n; i++)
      if (i % ml < 48 && i / ml % 2 == 0)
        m[i] = c->mode == 3 ? 0.0 : -INFINITY;
    TU_OK(tu_array(&ma, m, mt, c->msh, c->mnd));
    int64_t full[4] = {c->B, c->Hq, c->Lq, c->Lk};
    mv = tu_view_bcast(tu_view_contig(c->msh, c->mnd), full, 4);
  }
  double scale = 1 / sqrt((double)c->D);
  static const char *const modes[] = {"", "causal", "array", "array"};
  double *ref = dalloc(no), *got = dalloc(no);
  ref_sdpa(c, q, k, v, m, &mv, (float)scale, ref);
  void *bits[2];
  for (int i = 0; i < 2; i++) {
    cmx_array o;
    TU_OK(cmx_scaled_dot_product_attention(&o, qa, ka, va, (float)scale,
                                           modes[c->mode], ma, g_st[i]));
    cr_assert_eq(cmx_array_dtype(o), t);
    int64_t osh[4] = {c->B, c->Hq, c->Lq, c->Dv};
    tu_assert_shape(o, osh, 4);
    size_t nb = cmx_array_nbytes(o);
    bits[i] = malloc(nb ? nb : 1);
    TU_OK(cmx_array_read(o, bits[i], nb));
    if (i == 1) {
      cr_assert(!memcmp(bits[0], bits[1], nb),
                "sdpa B%lld Hq%lld Hkv%lld Lq%lld Lk%lld D%lld mode %d: 1 and "
                "2 threads differ", (long long)c->B, (long long)c->Hq,
                (long long)c->Hkv, (long long)c->Lq, (long long)c->Lk,
                (long long)c->D, c->mode);
      tu_read(o, got);
    }
    cmx_array_free(o);
  }
  double e = t == CMX_F32 ? 0 : 4 * tu_eps(t);
  for (int64_t i = 0; i < no; i++)
    cr_assert(tu_close(got[i], ref[i], 1e-5 + e, 2e-6 + e),
              "sdpa B%lld Hq%lld Hkv%lld Lq%lld Lk%lld D%lld Dv%lld mode %d "
              "tq %d dtype %d [%lld]: got %.9g want %.9g", (long long)c->B,
              (long long)c->Hq, (long long)c->Hkv, (long long)c->Lq,
              (long long)c->Lk, (long long)c->D, (long long)c->Dv, c->mode,
              tq, (int)t, (long long)i, got[i], ref[i]);
  free(bits[0]), free(bits[1]);
  cmx_array_free(qa), cmx_array_free(ka), cmx_array_free(va);
  cmx_array_free(ma);
  free(q), free(k), free(v), free(m), free(ref), free(got);
}

TestSuite(ops_nn_attn, .init = streams_up, .fini = streams_down,
          .timeout = 120);

Test(ops_nn_attn, lengths_and_dims) {
  static const int64_t L[] = {1, 7, 17, 33, 129}, D[] = {8, 64, 80};
  uint64_t seed = 1;
  for (size_t a = 0; a < 5; a++)
    for (size_t d = 0; d < 3; d++) {
      int64_t lq = L[a], lk = L[(a + d + 1) % 5];
      struct sdpa_case c = {1, 2, 2, lq, lk, D[d], D[d], 0, {0}, 0};
      check_sdpa(&c, CMX_F32, 0, seed++);
    }
  struct sdpa_case dv = {2, 3, 3, 17, 33, 64, 8, 0, {0}, 0};
  check_sdpa(&dv, CMX_F32, 0, 99);
}

Test(ops_nn_attn, causal) {
  static const int64_t LL[][2] = {{7, 17}, {17, 7}, {33, 33}, {129, 129},
                                  {1, 129}, {65, 300}, {300, 300}};
  for (size_t i = 0; i < sizeof LL / sizeof LL[0]; i++) {
    struct sdpa_case c = {1, 2, 1, LL[i][0], LL[i][1], 64, 64, 1, {0}, 0};
    check_sdpa(&c, CMX_F32, 0, 10 + i);
  }
}

Test(ops_nn_attn, masks_broadcast) {
  struct sdpa_case cs[] = {
      {2, 2, 2, 17, 33, 8, 8, 2, {17, 33}, 2},
      {2, 2, 1, 7, 17, 64, 64, 2, {2, 1, 7, 17}, 4},
      {1, 4, 2, 33, 129, 80, 80, 2, {4, 1, 129}, 3},
      {2, 2, 2, 17, 33, 8, 8, 3, {17, 33}, 2},
      {1, 4, 4, 7, 300, 64, 64, 3, {1, 4, 7, 1}, 4},
      {1, 2, 2, 1, 129, 64, 64, 3, {2, 1, 129}, 3},
      {1, 2, 2, 1, 700, 8, 8, 2, {700}, 1},
      /* two query row blocks, three key blocks, per-head float mask */
      {1, 2, 1, 140, 520, 128, 64, 2, {2, 140, 520}, 3},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
    check_sdpa(&cs[i], CMX_F32, 0, 30 + i);
}

Test(ops_nn_attn, gqa_and_decode) {
  struct sdpa_case cs[] = {
      {1, 8, 2, 17, 33, 64, 64, 0, {0}, 0},
      {2, 8, 2, 33, 33, 8, 8, 1, {0}, 0},
      {1, 8, 2, 1, 1000, 64, 64, 0, {0}, 0}, /* decode, 4 chunks */
      {2, 4, 1, 1, 513, 80, 80, 1, {0}, 0},
      {1, 4, 4, 1, 1, 8, 8, 0, {0}, 0},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
    check_sdpa(&cs[i], CMX_F32, 0, 50 + i);
  /* seven query heads a KV head (the most the row pass takes for longer
   * queries) and more, odd key counts, masks with holes */
  struct sdpa_case hs[] = {
      {1, 14, 2, 1, 301, 64, 64, 3, {14, 1, 301}, 3},
      {1, 12, 3, 1, 300, 8, 8, 2, {12, 1, 300}, 3},
      /* 12 and 16 query heads a KV head: the row pass too (decode) */
      {1, 24, 2, 1, 301, 64, 64, 2, {24, 1, 301}, 3},
      {2, 16, 1, 1, 77, 80, 80, 3, {2, 16, 1, 77}, 4},
  };
  g_mask_holes = 1;
  for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
    check_sdpa(&hs[i], CMX_F32, 0, 56 + i);
  g_mask_holes = 0;
}

/* Decode under the prefetch distance knob (kernels/nn/attn.c g_ahead): none
 * at all, and one key ahead (the prefetched rows overlap the four read),
 * on odd cache lengths whose last four keys are partial. Each test runs in
 * its own process, and the knob is read at the first decode. */
static void decode_cases(uint64_t seed) {
  struct sdpa_case cs[] = {
      {1, 8, 2, 1, 1001, 64, 64, 0, {0}, 0},
      {2, 4, 1, 1, 513, 80, 80, 1, {0}, 0},
      {1, 2, 2, 1, 6, 8, 8, 0, {0}, 0},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
    check_sdpa(&cs[i], CMX_F32, 0, seed + i);
}

Test(ops_nn_attn, decode_without_prefetch) {
  setenv("CMX_SDPA_DECODE_AHEAD", "0", 1);
  decode_cases(60);
}

Test(ops_nn_attn, decode_prefetch_one_key_ahead) {
  setenv("CMX_SDPA_DECODE_AHEAD", "1", 1);
  decode_cases(64);
}

Test(ops_nn_attn, transposed_and_bf16) {
  struct sdpa_case c = {2, 4, 2, 17, 33, 64, 64, 1, {0}, 0};
  check_sdpa(&c, CMX_F32, 1, 70);
  check_sdpa(&c, CMX_BF16, 0, 71);
  struct sdpa_case d = {1, 4, 2, 1, 300, 64, 64, 0, {0}, 0};
  check_sdpa(&d, CMX_F16, 1, 72);
}

/* f16 / bf16 K and V: the row pass (decode, and a few query rows) reads
 * them in place, widening each row (api/ops-conv-attn.c); so the result is
 * bitwise the one of the same K and V cast to f32 first, for f32 q. Other
 * shapes take the copy path, checked the same way; a transposed (B, Lk,
 * Hkv, D) K, a boolean mask (with a V narrower than K, Dv = D / 2 + 8),
 * and for Lq > 1 without it the causal mask ride along. */
static void check_kv16(cmx_dtype t, int64_t Hq, int64_t Hkv, int64_t Lq,
                       int64_t Lk, int64_t D, int tk, int masked,
                       uint64_t seed) {
  const int64_t Dv = masked ? D / 2 + 8 : D;
  int64_t sq[4] = {2, Hq, Lq, D}, skv[4] = {2, Hkv, Lk, D},
          svv[4] = {2, Hkv, Lk, Dv}, sm[4] = {2, Hq, Lq, Lk};
  const int64_t nq = 2 * Hq * Lq * D, nkv = 2 * Hkv * Lk * D,
                nvv = 2 * Hkv * Lk * Dv, nm = 2 * Hq * Lq * Lk,
                no = 2 * Hq * Lq * Dv;
  double *q = dalloc(nq), *k = dalloc(nkv), *v = dalloc(nvv),
         *m = dalloc(nm);
  tu_rand(q, nq, CMX_F32, -1, 1, seed);
  tu_rand(k, nkv, t, -1, 1, seed + 1);
  tu_rand(v, nvv, t, -1, 1, seed + 2);
  tu_rand(m, nm, CMX_BOOL, 0, 1, seed + 3);
  cmx_array qa, ka, va, ma = NULL, kf, vf, o16, o32;
  TU_OK(tu_array(&qa, q, CMX_F32, sq, 4));
  if (tk) /* k stored (B, Lk, Hkv, D), viewed as (B, Hkv, Lk, D) */
    tu_array_heads_t(&ka, k, t, skv);
  else
    TU_OK(tu_array(&ka, k, t, skv, 4));
  TU_OK(tu_array(&va, v, t, svv, 4));
  if (masked) TU_OK(tu_array(&ma, m, CMX_BOOL, sm, 4));
  TU_OK(cmx_astype(&kf, ka, CMX_F32, NULL));
  TU_OK(cmx_astype(&vf, va, CMX_F32, NULL));
  const char *mode = masked ? "array" : Lq > 1 ? "causal" : "";
  TU_OK(cmx_scaled_dot_product_attention(&o16, qa, ka, va, 0.125f, mode, ma,
                                         NULL));
  TU_OK(cmx_scaled_dot_product_attention(&o32, qa, kf, vf, 0.125f, mode, ma,
                                         NULL));
  cmx_array both[2] = {o16, o32};
  TU_OK(cmx_eval(both, 2));
  const float *a, *b;
  TU_OK(cmx_array_data((const void **)&a, o16));
  TU_OK(cmx_array_data((const void **)&b, o32));
  cr_assert(!memcmp(a, b, (size_t)no * sizeof(float)),
            "sdpa %s K/V, Hq %lld Hkv %lld Lq %lld Lk %lld D %lld Dv %lld tk "
            "%d mask %d: differs from the f32 K/V result",
            cmx_dtype_name(t), (long long)Hq, (long long)Hkv, (long long)Lq,
            (long long)Lk, (long long)D, (long long)Dv, tk, masked);
  cmx_array arrs[] = {qa, ka, va, ma, kf, vf, o16, o32};
  for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++)
    if (arrs[i]) cmx_array_free(arrs[i]);
  free(q), free(k), free(v), free(m);
}

Test(ops_nn_attn, decode_kv16_in_place) {
  /* G 1, 4, 7, 8, 16 in place; 17 past the row pass (copied to f32) */
  static const int64_t G[][2] = {{4, 4}, {8, 2},  {14, 2},
                                 {16, 2}, {32, 2}, {34, 2}};
  static const int64_t L[] = {1, 17, 1001};
  uint64_t seed = 400;
  for (int ti = 0; ti < 2; ti++)
    for (size_t g = 0; g < 6; g++)
      for (size_t l = 0; l < 3; l++)
        check_kv16(ti ? CMX_F16 : CMX_BF16, G[g][0], G[g][1], 1, L[l],
                   l == 1 ? 80 : 64, (int)(g + l) % 2, (int)l % 2, seed += 4);
  /* a few query rows: up to 7 in place on AVX-512 (3 on AVX2), 8 copied */
  static const int64_t Q[] = {2, 3, 6, 8};
  for (size_t i = 0; i < 4; i++)
    for (int masked = 0; masked < 2; masked++)
      check_kv16(i % 2 ? CMX_F16 : CMX_BF16, 8, 2, Q[i], 37 + 100 * masked,
                 64, masked, masked, seed += 4);
}

/* Over 1M elements touched, so eval hands the node to the stream's team
 * (smaller graphs run inline on one thread) and the 2-thread run splits. */
Test(ops_nn_attn, team_sized) {
  struct sdpa_case cs[] = {
      {1, 4, 2, 64, 4096, 64, 64, 1, {0}, 0},
      {1, 8, 2, 1, 4096, 64, 64, 0, {0}, 0},
      {1, 2, 2, 1, 4100, 64, 64, 0, {0}, 0},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
    check_sdpa(&cs[i], CMX_F32, 0, 80 + i);
}

Test(ops_nn_attn, errors) {
  static const char fn[] = "cmx_scaled_dot_product_attention";
  int64_t sq[4] = {1, 4, 5, 8}, sk[4] = {1, 2, 6, 8}, bad[4] = {1, 3, 6, 8},
          sd[4] = {1, 2, 6, 7}, m2[2] = {4, 6};
  cmx_array q, k, kb, kd, m, o = (cmx_array)1;
  static double z[256] = {1}; /* at least as large as every array here */
  TU_OK(tu_array(&q, z, CMX_F32, sq, 4));
  TU_OK(tu_array(&k, z, CMX_F32, sk, 4));
  TU_OK(tu_array(&kb, z, CMX_F32, bad, 4));
  TU_OK(tu_array(&kd, z, CMX_F32, sd, 4));
  TU_OK(tu_array(&m, z, CMX_F32, m2, 2));
  TU_FAILS(CMX_ESHAPE, fn,
           cmx_scaled_dot_product_attention(&o, q, kb, kb, 1, "", NULL, NULL));
  cr_assert_null(o);
  TU_FAILS(CMX_ESHAPE, fn,
           cmx_scaled_dot_product_attention(&o, q, kd, kd, 1, "", NULL, NULL));
  TU_FAILS(CMX_ESHAPE, fn,
           cmx_scaled_dot_product_attention(&o, q, k, kb, 1, "", NULL, NULL));
  TU_FAILS(CMX_EINVAL, fn,
           cmx_scaled_dot_product_attention(&o, q, k, k, 1, "causl", NULL,
                                            NULL));
  TU_FAILS(CMX_EINVAL, fn,
           cmx_scaled_dot_product_attention(&o, q, k, k, 1, "array", NULL,
                                            NULL));
  TU_FAILS(CMX_EINVAL, fn,
           cmx_scaled_dot_product_attention(&o, q, k, k, 1, "causal", m,
                                            NULL));
  TU_FAILS(CMX_ESHAPE, fn,
           cmx_scaled_dot_product_attention(&o, q, k, k, 1, "array", m, NULL));
  TU_FAILS(CMX_ESHAPE, fn,
           cmx_scaled_dot_product_attention(&o, m, k, k, 1, "", NULL, NULL));
  cmx_array_free(q), cmx_array_free(k), cmx_array_free(kb);
  cmx_array_free(kd), cmx_array_free(m);
}

/* ---- convolution --------------------------------------------------------- */
struct conv_case {
  int64_t N, H, W, Cin, Cout, KH, KW;
  int stride[2], pad[2], dil[2], groups;
  int one; /* conv1d: H = KH = 1 */
};

/* y and the sum of |x w| per output (the rounding scale). */
static void ref_conv(const struct conv_case *c, const double *x,
                     const double *w, int64_t Ho, int64_t Wo, double *y,
                     double *mag) {
  int64_t Cg = c->Cin / c->groups, Ng = c->Cout / c->groups;
  for (int64_t n = 0; n < c->N; n++)
    for (int64_t ho = 0; ho < Ho; ho++)
      for (int64_t wo = 0; wo < Wo; wo++)
        for (int64_t o = 0; o < c->Cout; o++) {
          double s = 0, a = 0;
          int64_t g = o / Ng;
          for (int64_t kh = 0; kh < c->KH; kh++)
            for (int64_t kw = 0; kw < c->KW; kw++) {
              int64_t ih = ho * c->stride[0] - c->pad[0] + kh * c->dil[0];
              int64_t iw = wo * c->stride[1] - c->pad[1] + kw * c->dil[1];
              if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W) continue;
              for (int64_t ci = 0; ci < Cg; ci++) {
                double p = x[((n * c->H + ih) * c->W + iw) * c->Cin +
                             g * Cg + ci] *
                           w[((o * c->KH + kh) * c->KW + kw) * Cg + ci];
                s += p;
                a += fabs(p);
              }
            }
          int64_t at = ((n * Ho + ho) * Wo + wo) * c->Cout + o;
          y[at] = s;
          mag[at] = a;
        }
}

static void check_conv(const struct conv_case *c, cmx_dtype t,
                       uint64_t seed) {
  int64_t Ho = (c->H + 2 * c->pad[0] - c->dil[0] * (c->KH - 1) - 1) /
                   c->stride[0] + 1,
          Wo = (c->W + 2 * c->pad[1] - c->dil[1] * (c->KW - 1) - 1) /
                   c->stride[1] + 1;
  int64_t Cg = c->Cin / c->groups;
  int64_t nx = c->N * c->H * c->W * c->Cin,
          nw = c->Cout * c->KH * c->KW * Cg, ny = c->N * Ho * Wo * c->Cout;
  double *x = dalloc(nx), *w = dalloc(nw), *ref = dalloc(ny),
         *mag = dalloc(ny), *got = dalloc(ny);
  tu_rand(x, nx, t, -1, 1, seed);
  tu_rand(w, nw, t, -1, 1, seed + 1);
  ref_conv(c, x, w, Ho, Wo, ref, mag);
  cmx_array xa, wa;
  if (c->one) {
    int64_t xs[3] = {c->N, c->W, c->Cin}, ws[3] = {c->Cout, c->KW, Cg};
    TU_OK(tu_array(&xa, x, t, xs, 3));
    TU_OK(tu_array(&wa, w, t, ws, 3));
  } else {
    int64_t xs[4] = {c->N, c->H, c->W, c->Cin},
            ws[4] = {c->Cout, c->KH, c->KW, Cg};
    TU_OK(tu_array(&xa, x, t, xs, 4));
    TU_OK(tu_array(&wa, w, t, ws, 4));
  }
  void *bits[2];
  for (int i = 0; i < 2; i++) {
    cmx_array y;
    if (c->one)
      TU_OK(cmx_conv1d(&y, xa, wa, c->stride[1], c->pad[1], c->dil[1],
                       c->groups, g_st[i]));
    else
      TU_OK(cmx_conv2d(&y, xa, wa, c->stride, c->pad, c->dil, c->groups,
                       g_st[i]));
    if (c->one) {
      int64_t ysh[3] = {c->N, Wo, c->Cout};
      tu_assert_shape(y, ysh, 3);
    } else {
      int64_t ysh[4] = {c->N, Ho, Wo, c->Cout};
      tu_assert_shape(y, ysh, 4);
    }
    size_t nb = cmx_array_nbytes(y);
    bits[i] = malloc(nb ? nb : 1);
    TU_OK(cmx_array_read(y, bits[i], nb));
    if (i == 1) {
      cr_assert(!memcmp(bits[0], bits[1], nb), "conv: 1 and 2 threads differ");
      tu_read(y, got);
    }
    cmx_array_free(y);
  }
  double e = t == CMX_F32 ? 4 * tu_eps(CMX_F32) : 2 * tu_eps(t);
  for (int64_t i = 0; i < ny; i++) {
    double r = tu_quant(t, ref[i]);
    cr_assert(tu_close(got[i], r, 0, e * (mag[i] + fabs(r)) * 8 + 1e-30),
              "conv N%lld H%lld W%lld Cin%lld Cout%lld K%lldx%lld s%d,%d "
              "p%d,%d d%d,%d g%d [%lld]: got %.9g want %.9g",
              (long long)c->N, (long long)c->H, (long long)c->W,
              (long long)c->Cin, (long long)c->Cout, (long long)c->KH,
              (long long)c->KW, c->stride[0], c->stride[1], c->pad[0],
              c->pad[1], c->dil[0], c->dil[1], c->groups, (long long)i,
              got[i], r);
  }
  free(bits[0]), free(bits[1]);
  cmx_array_free(xa), cmx_array_free(wa);
  free(x), free(w), free(ref), free(mag), free(got);
}

TestSuite(ops_nn_conv, .init = streams_up, .fini = streams_down,
          .timeout = 120);

Test(ops_nn_conv, conv2d_general) {
  struct conv_case cs[] = {
      {2, 9, 11, 6, 8, 3, 3, {2, 1}, {1, 2}, {1, 2}, 1, 0},
      {2, 9, 11, 6, 8, 3, 3, {1, 2}, {0, 1}, {2, 1}, 2, 0},
      {1, 10, 7, 6, 9, 2, 3, {1, 1}, {1, 1}, {1, 1}, 3, 0},
      {1, 23, 19, 16, 37, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, 0},
      {1, 8, 9, 40, 17, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, 0}, /* K = 360 */
      {1, 15, 15, 3, 5, 7, 7, {2, 2}, {3, 3}, {1, 1}, 1, 0},
      {1, 1, 1, 4, 3, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1, 0},
      /* no padding (x read in place), strided 1x1 */
      {2, 5, 6, 24, 40, 1, 1, {2, 2}, {0, 0}, {1, 1}, 1, 0},
      /* merged kernel-row runs under row dilation; the stem */
      {1, 12, 13, 5, 7, 3, 3, {1, 1}, {2, 1}, {2, 1}, 1, 0},
      {1, 20, 31, 3, 64, 7, 7, {2, 2}, {3, 3}, {1, 1}, 1, 0},
      /* Depth runs of 64 floats or more on output rows of at least one
       * tile height: panels inside one output row read in place, the
       * rest (across rows, a tile's partial last panel) packed per depth
       * block (AVX2, NEON); 33 pixels a row: in-row panels, row-crossing
       * ones, a partial tail (AVX-512: three segments of 11) */
      {2, 20, 33, 32, 40, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, 0},
      /* strided: pixels 2 Cin apart */
      {1, 30, 61, 24, 20, 3, 3, {2, 2}, {1, 1}, {1, 1}, 1, 0},
      /* 1x1, x read in place (no padding) */
      {2, 7, 29, 80, 33, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1, 0},
      /* runs of 384 (KW Cin) split into two depth blocks */
      {1, 6, 30, 128, 24, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, 0},
      /* 8 groups of 8 in and 8 out: runs of 8 floats, a tap each, read
       * a block of runs a call (AVX-512) */
      {2, 7, 20, 64, 64, 3, 3, {1, 1}, {1, 1}, {1, 1}, 8, 0},
      /* two groups: runs of one tap's 64 channels, at an offset */
      {1, 5, 20, 128, 32, 3, 3, {1, 1}, {1, 1}, {1, 1}, 2, 0},
      /* width dilation: runs per tap */
      {1, 9, 24, 64, 16, 3, 3, {1, 1}, {2, 2}, {1, 2}, 1, 0},
      /* ResNet-like, 56 pixels a row (whole panels only) */
      {1, 14, 56, 64, 64, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, 0},
      /* Output rows as segments read in place (AVX-512: 7 ... 14 pixels,
       * each its own row count): 7 a row over three images (tiles of
       * rows across images), 15 = 7 + 8 with a 1-column panel, 26 = 13 +
       * 13 with a 16-column one */
      {3, 7, 7, 32, 20, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, 0},
      {1, 11, 15, 64, 33, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, 0},
      {2, 5, 26, 24, 48, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, 0},
      /* conv1d */
      {2, 1, 50, 32, 16, 1, 3, {1, 1}, {0, 1}, {1, 1}, 1, 1},
      /* one input channel (groups 1, not depthwise): the implicit GEMM */
      {2, 12, 11, 1, 20, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, 0},
      {1, 17, 16, 1, 9, 5, 5, {2, 2}, {2, 2}, {1, 1}, 1, 0},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
    check_conv(&cs[i], CMX_F32, 100 + i);
  check_conv(&cs[10], CMX_BF16, 120); /* the 33-pixel rows in bf16 */
}

Test(ops_nn_conv, depthwise) {
  struct conv_case cs[] = {
      {2, 9, 11, 5, 5, 3, 3, {1, 1}, {1, 1}, {1, 1}, 5, 0},
      {1, 13, 8, 7, 14, 3, 2, {2, 1}, {1, 0}, {1, 2}, 7, 0}, /* mult 2 */
      {1, 12, 12, 33, 33, 5, 5, {2, 2}, {2, 2}, {1, 1}, 33, 0},
      /* vector tails of every ISA kernel, padding past a dilated tap */
      {2, 9, 10, 131, 131, 3, 3, {1, 2}, {2, 1}, {2, 1}, 131, 0},
      {1, 4, 5, 16, 16, 3, 3, {1, 1}, {3, 3}, {1, 1}, 16, 0},
      /* multiplier 2 over 8 channels (lanes doubled four at a time), 3
       * and 5 (x with each channel repeated) */
      {2, 5, 6, 8, 16, 3, 3, {1, 1}, {1, 1}, {1, 1}, 8, 0},
      {2, 6, 9, 4, 12, 3, 3, {2, 1}, {1, 1}, {1, 1}, 4, 0},
      {1, 7, 7, 3, 15, 5, 5, {1, 1}, {2, 2}, {1, 1}, 3, 0},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
    check_conv(&cs[i], CMX_F32, 200 + i);
}

/* Groups of few channels (Ng <= 8, Cg Ng <= 64, not Cg and Ng 8 or more
 * where the GEMM microkernel reads runs in blocks): the depthwise
 * microkernel over taps (kh, kw, ci) of a copy of x with each group's
 * inputs repeated for its outputs; 4 and 8 outputs a group by vector
 * stores, 1, 2 and 3 by the plain loop; stride, dilation, padding; the
 * last case's rows (128 pixels of 4 x 128 floats) take several bands of
 * output rows with their input rows expanded, the bands overlapping. */
Test(ops_nn_conv, grouped_expanded) {
  struct conv_case cs[] = {
      {2, 9, 10, 16, 16, 3, 3, {1, 1}, {1, 1}, {1, 1}, 4, 0},  /* 4 x 4 */
      {1, 11, 13, 12, 24, 3, 3, {2, 1}, {1, 2}, {1, 2}, 3, 0}, /* 4 x 8 */
      {1, 8, 9, 12, 8, 3, 3, {1, 1}, {1, 1}, {1, 1}, 4, 0},    /* 3 x 2 */
      {1, 7, 8, 16, 4, 3, 3, {1, 2}, {0, 1}, {1, 1}, 4, 0},    /* 4 x 1 */
      {2, 6, 7, 24, 18, 2, 3, {1, 1}, {1, 0}, {2, 1}, 6, 0},   /* 4 x 3 */
      {1, 12, 128, 64, 128, 3, 3, {1, 1}, {1, 1}, {1, 1}, 16, 0},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
    check_conv(&cs[i], CMX_F32, 250 + i);
  check_conv(&cs[1], CMX_BF16, 260);
}

Test(ops_nn_conv, conv1d_and_dtypes) {
  struct conv_case cs[] = {
      {2, 1, 29, 7, 9, 1, 5, {1, 2}, {0, 3}, {1, 2}, 1, 1},
      {1, 1, 17, 8, 8, 1, 3, {1, 1}, {0, 1}, {1, 1}, 8, 1},
      {3, 1, 31, 6, 4, 1, 4, {1, 3}, {0, 0}, {1, 1}, 2, 1},
      /* rows wider than a tile (AVX-512, AVX2: tiles of whole segments
       * of an output row, starting inside it), stride 1 and 2 */
      {1, 1, 300, 24, 20, 1, 3, {1, 1}, {0, 1}, {1, 1}, 1, 1},
      {2, 1, 401, 16, 40, 1, 3, {1, 2}, {0, 1}, {1, 1}, 1, 1},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
    check_conv(&cs[i], CMX_F32, 300 + i);
  check_conv(&cs[0], CMX_BF16, 310);
  struct conv_case h = {1, 6, 7, 4, 6, 3, 3, {1, 1}, {1, 1}, {1, 1}, 2, 0};
  check_conv(&h, CMX_F16, 311);
}

Test(ops_nn_conv, team_sized) {
  struct conv_case g = {2, 96, 96, 16, 64, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, 0};
  check_conv(&g, CMX_F32, 400);
  struct conv_case d = {2, 128, 128, 32, 32, 3, 3, {1, 1}, {1, 1}, {1, 1},
                        32, 0};
  check_conv(&d, CMX_F32, 401);
}

Test(ops_nn_conv, errors) {
  int64_t xs[4] = {1, 5, 5, 4}, ws[4] = {6, 3, 3, 3}, w2[4] = {6, 7, 3, 2},
          x1[3] = {1, 5, 4};
  double z[512] = {1};
  cmx_array x, w, wb, x3, o = (cmx_array)1;
  TU_OK(tu_array(&x, z, CMX_F32, xs, 4));
  TU_OK(tu_array(&w, z, CMX_F32, ws, 4));
  TU_OK(tu_array(&wb, z, CMX_F32, w2, 4));
  TU_OK(tu_array(&x3, z, CMX_F32, x1, 3));
  const int one[2] = {1, 1}, zero[2] = {0, 0}, bad[2] = {0, 1};
  TU_FAILS(CMX_ESHAPE, "cmx_conv2d",
           cmx_conv2d(&o, x, w, one, zero, one, 1, NULL)); /* 4 vs 3 */
  cr_assert_null(o);
  TU_FAILS(CMX_ESHAPE, "cmx_conv2d",
           cmx_conv2d(&o, x, wb, one, zero, one, 2, NULL)); /* 7 > 5 */
  TU_FAILS(CMX_EINVAL, "cmx_conv2d",
           cmx_conv2d(&o, x, wb, bad, zero, one, 2, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_conv2d",
           cmx_conv2d(&o, x3, w, one, zero, one, 1, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_conv1d", cmx_conv1d(&o, x, w, 1, 0, 1, 1, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_conv1d", cmx_conv1d(&o, x3, x3, 1, 0, 1, 0, NULL));
  cmx_array_free(x), cmx_array_free(w), cmx_array_free(wb);
  cmx_array_free(x3);
}
