/* The layer_norm / rms_norm loops, written once against the vf/vm API of
 * arch/simd-*.h: each ISA file includes its SIMD header, then this, and
 * defines its listed kernels as one-line calls. Contract in f32-norm.h. */
#ifndef CMX_F32_NORM_BODY_H
#define CMX_F32_NORM_BODY_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/common/vh16.h"
#include "kernels/f32-norm/f32-norm.h"

/* UBSan off in these loops and in the kernels built from them (ASan is
 * not), as in the qgemm bodies: with the fuzzer's sanitizers clang took
 * 31-45 s on each ISA file once the 16-bit rows doubled the code. The
 * addresses stay inside the rows the contract describes. */
#define CMX_NM_INLINE \
  CMX_SIMD_INLINE __attribute__((no_sanitize("undefined")))
#define CMX_NM_KERNEL __attribute__((no_sanitize("undefined")))

/* Rows of f32 (h = 0), bf16 (h = 1) or f16 (h = 2), w and b f32: h is a
 * constant at every call, so each type compiles to its own loops, and the
 * 16-bit rows run the f32 arithmetic on their widened values, each result
 * rounded once (as converting the row, normalising and converting back
 * would, without the two passes over an f32 copy). */
CMX_NM_INLINE const void *cmx_nm_at(int h, const void *p, size_t i) {
  return (const char *)p + i * (h ? 2 : 4);
}

static const float cmx_nm_iota[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                      8, 9, 10, 11, 12, 13, 14, 15};

/* Statistics of one chunk (n <= CMX_NORM_CHUNK): sums of d and of d^2 with
 * d = x - c (layer_norm: c = x[0]) or of x^2 (rms: *s1 = 0), set, not
 * added to, so a one-chunk row's chain has no add into a zero. Four
 * accumulator pairs keep the adds off the critical path; the masked
 * tail loads zeros, and d is masked back to 0 there. cmx_nm_blocks runs
 * the full 4-vector blocks of [i, e); the pair form interleaves two rows'
 * blocks with each row's sums in the same order as alone. */
struct cmx_nm_acc {
  vf a0, a1, a2, a3, q0, q1, q2, q3;
};

CMX_NM_INLINE void cmx_nm_blocks(int h, int rms, struct cmx_nm_acc *s,
                                   const void *x, vf c, size_t i, size_t e) {
  vf a0 = s->a0, a1 = s->a1, a2 = s->a2, a3 = s->a3;
  vf q0 = s->q0, q1 = s->q1, q2 = s->q2, q3 = s->q3;
  for (; i < e; i += 4 * VF_N) {
    vf d0 = vx_load(h, x, i), d1 = vx_load(h, x, i + VF_N);
    vf d2 = vx_load(h, x, i + 2 * VF_N), d3 = vx_load(h, x, i + 3 * VF_N);
    if (!rms) {
      d0 = vf_sub(d0, c), d1 = vf_sub(d1, c);
      d2 = vf_sub(d2, c), d3 = vf_sub(d3, c);
      a0 = vf_add(a0, d0), a1 = vf_add(a1, d1);
      a2 = vf_add(a2, d2), a3 = vf_add(a3, d3);
    }
    q0 = vf_fmadd(d0, d0, q0), q1 = vf_fmadd(d1, d1, q1);
    q2 = vf_fmadd(d2, d2, q2), q3 = vf_fmadd(d3, d3, q3);
  }
  s->a0 = a0, s->a1 = a1, s->a2 = a2, s->a3 = a3;
  s->q0 = q0, s->q1 = q1, s->q2 = q2, s->q3 = q3;
}

/* The masked tail of [i, n) and the fold into *s1, *s2. */
CMX_NM_INLINE void cmx_nm_fold(int h, int rms, struct cmx_nm_acc *s,
                                 size_t n, const void *x, vf c, size_t i,
                                 double *s1, double *s2) {
  for (; i < n; i += VF_N) {
    size_t k = n - i < VF_N ? n - i : VF_N;
    vf d = vx_load_n(h, x, i, k);
    if (!rms) {
      d = vf_sub(d, c);
      if (k < VF_N)
        d = vf_select(vf_lt(vf_load(cmx_nm_iota), vf_set1((float)k)), d,
                      vf_zero());
      s->a0 = vf_add(s->a0, d);
    }
    s->q0 = vf_fmadd(d, d, s->q0);
  }
  *s1 = rms ? 0.0
            : (double)vf_hsum(vf_add(vf_add(s->a0, s->a1),
                                     vf_add(s->a2, s->a3)));
  *s2 = (double)vf_hsum(vf_add(vf_add(s->q0, s->q1), vf_add(s->q2, s->q3)));
}

CMX_NM_INLINE void cmx_nm_chunk(int h, int rms, size_t n, const void *x,
                                  vf c, double *s1, double *s2) {
  struct cmx_nm_acc s = {vf_zero(), vf_zero(), vf_zero(), vf_zero(),
                         vf_zero(), vf_zero(), vf_zero(), vf_zero()};
  const size_t e = n - n % (4 * VF_N);
  cmx_nm_blocks(h, rms, &s, x, c, 0, e);
  cmx_nm_fold(h, rms, &s, n, x, c, e, s1, s2);
}

/* Two rows' chunks, 1 KiB of each in turn, so that when the pass over the
 * pair starts (at the rows' ends) both rows' last lines are the newest in
 * L1, not only the second row's. */
CMX_NM_INLINE void cmx_nm_chunk2(int h, int rms, size_t n, const void *x0,
                                   const void *x1, vf c0, vf c1, double *s1,
                                   double *s2) {
  struct cmx_nm_acc s[2] = {
      {vf_zero(), vf_zero(), vf_zero(), vf_zero(), vf_zero(), vf_zero(),
       vf_zero(), vf_zero()},
      {vf_zero(), vf_zero(), vf_zero(), vf_zero(), vf_zero(), vf_zero(),
       vf_zero(), vf_zero()}};
  const size_t e = n - n % (4 * VF_N), step = 256;
  for (size_t i = 0; i < e; i += step) {
    const size_t j = e - i < step ? e : i + step;
    cmx_nm_blocks(h, rms, &s[0], x0, c0, i, j);
    cmx_nm_blocks(h, rms, &s[1], x1, c1, i, j);
  }
  cmx_nm_fold(h, rms, &s[0], n, x0, c0, e, &s1[0], &s2[0]);
  cmx_nm_fold(h, rms, &s[1], n, x1, c1, e, &s1[1], &s2[1]);
}

/* y = t * w + b with t = (x - c) * rstd + nb (layer: c = x[0] and nb =
 * -(mean - c) * rstd, so a large offset cancels exactly in x - c and t
 * rounds once, relative to the small terms) or t = x * rstd (rms); has_w /
 * has_b are constants at each call, so each variant compiles to its own
 * loop. layer_norm with w and b: a sub and two fmas per vector. */
CMX_NM_INLINE vf cmx_nm_t(int rms, vf v, vf c, vf nb, vf rstd) {
  return rms ? vf_mul(v, rstd) : vf_fmadd(vf_sub(v, c), rstd, nb);
}

CMX_NM_INLINE vf cmx_nm_one(int rms, int has_w, int has_b, vf v, vf c,
                              vf nb, vf rstd, const float *w, const float *b,
                              size_t i) {
  vf t = cmx_nm_t(rms, v, c, nb, rstd);
  if (has_w && has_b) return vf_fmadd(t, vf_load(w + i), vf_load(b + i));
  if (has_w) return vf_mul(t, vf_load(w + i));
  if (has_b) return vf_add(t, vf_load(b + i));
  return t;
}

CMX_NM_INLINE void cmx_nm_apply(int h, int rms, int has_w, int has_b,
                                  size_t n, const void *x, void *y,
                                  const float *w, const float *b, vf c, vf nb,
                                  vf rstd) {
  size_t i = 0;
  for (; i + 4 * VF_N <= n; i += 4 * VF_N) {
    vf v0 = vx_load(h, x, i), v1 = vx_load(h, x, i + VF_N);
    vf v2 = vx_load(h, x, i + 2 * VF_N), v3 = vx_load(h, x, i + 3 * VF_N);
    vx_store(h, y, i,
              cmx_nm_one(rms, has_w, has_b, v0, c, nb, rstd, w, b, i));
    vx_store(h, y, i + VF_N,
              cmx_nm_one(rms, has_w, has_b, v1, c, nb, rstd, w, b, i + VF_N));
    vx_store(h, y, i + 2 * VF_N, cmx_nm_one(rms, has_w, has_b, v2, c, nb,
                                                rstd, w, b, i + 2 * VF_N));
    vx_store(h, y, i + 3 * VF_N, cmx_nm_one(rms, has_w, has_b, v3, c, nb,
                                                rstd, w, b, i + 3 * VF_N));
  }
  for (; i + VF_N <= n; i += VF_N)
    vx_store(h, y, i,
              cmx_nm_one(rms, has_w, has_b, vx_load(h, x, i), c, nb, rstd, w,
                         b, i));
  if (i < n) {
    size_t k = n - i;
    vf t = vx_load_n(h, x, i, k);
    t = cmx_nm_t(rms, t, c, nb, rstd);
    if (has_w) t = vf_mul(t, vf_load_n(w + i, k));
    if (has_b) t = vf_add(t, vf_load_n(b + i, k));
    vx_store_n(h, y, i, t, k);
  }
}

/* The statistics of one row: c, rstd and nb of cmx_nm_t. Its scalar tail
 * is one dependent chain (horizontal sums, then mean, variance, 1/sqrt)
 * that the row's writes wait on: 1/n is a product by a reciprocal taken
 * off that chain, 1/sqrt is taken in float (sqrtss + divss, each rounded
 * once) from the double variance, and nb is one float product after it.
 * (n = 256 rows in cache, Cascade Lake VM: leaving the 1/sqrt out
 * altogether ran 16% faster, so this chain, not the loops, bounds short
 * rows; two rows per pass overlap their chains.) */
struct cmx_nm_st {
  vf c, nb, rstd;
};

CMX_NM_INLINE struct cmx_nm_st cmx_nm_fin(size_t n, float c, double s1,
                                            double s2, float eps) {
  const double inv_n = 1.0 / (double)n;
  double m1 = s1 * inv_n, var = s2 * inv_n - m1 * m1;
  if (var < 0.0) var = 0.0;
  const float r = 1.0f / sqrtf((float)(var + (double)eps));
  struct cmx_nm_st st = {vf_set1(c), vf_set1(-(float)m1 * r), vf_set1(r)};
  return st;
}

CMX_NM_INLINE struct cmx_nm_st cmx_nm_stats(int h, int rms, size_t n,
                                              const void *x, float eps) {
  const float c = rms ? 0.0f : vx_first(h, x);
  double s1, s2;
  cmx_nm_chunk(h, rms, n < CMX_NORM_CHUNK ? n : CMX_NORM_CHUNK, x, vf_set1(c),
               &s1, &s2);
  for (size_t i = CMX_NORM_CHUNK; i < n; i += CMX_NORM_CHUNK) {
    double t1, t2;
    cmx_nm_chunk(h, rms, n - i < CMX_NORM_CHUNK ? n - i : CMX_NORM_CHUNK,
                 cmx_nm_at(h, x, i), vf_set1(c), &t1, &t2);
    s1 += t1, s2 += t2;
  }
  return cmx_nm_fin(n, c, s1, s2, eps);
}

/* cmx_nm_stats of rows x0 and x1, the same sums in the same order. */
CMX_NM_INLINE void cmx_nm_stats2(int h, int rms, size_t n, const void *x0,
                                   const void *x1, float eps,
                                   struct cmx_nm_st *st) {
  const float c0 = rms ? 0.0f : vx_first(h, x0),
              c1 = rms ? 0.0f : vx_first(h, x1);
  double s1[2], s2[2];
  cmx_nm_chunk2(h, rms, n < CMX_NORM_CHUNK ? n : CMX_NORM_CHUNK, x0, x1,
                vf_set1(c0), vf_set1(c1), s1, s2);
  for (size_t i = CMX_NORM_CHUNK; i < n; i += CMX_NORM_CHUNK) {
    double t1[2], t2[2];
    cmx_nm_chunk2(h, rms, n - i < CMX_NORM_CHUNK ? n - i : CMX_NORM_CHUNK,
                  cmx_nm_at(h, x0, i), cmx_nm_at(h, x1, i), vf_set1(c0),
                  vf_set1(c1), t1, t2);
    s1[0] += t1[0], s2[0] += t2[0], s1[1] += t1[1], s2[1] += t2[1];
  }
  st[0] = cmx_nm_fin(n, c0, s1[0], s2[0], eps);
  st[1] = cmx_nm_fin(n, c1, s1[1], s2[1], eps);
}

CMX_NM_INLINE void cmx_nm_apply1(int h, int rms, int has_w, int has_b,
                                   size_t n, const void *x, void *y,
                                   const float *w, const float *b,
                                   struct cmx_nm_st s) {
  cmx_nm_apply(h, rms, has_w, has_b, n, x, y, w, b, s.c, s.nb, s.rstd);
}

/* Two rows per pass: each w and b vector is loaded once for both, and the
 * two rows' scalar chains (cmx_nm_stats2) overlap. The pass runs
 * backwards so that it starts on the lines the statistics read last,
 * still in L1. (Cascade Lake VM, 8-64 rows in L2, median thread time, old
 * and new interleaved: layer_norm n = 4096 1.08-1.15x, n = 1024 1.01x,
 * n = 256 1.28x; rms_norm n = 4096 0.98-0.99x, n = 1024 1.05x, n = 256
 * 1.30x. Four rows per pass ran 1.4x slower at n = 4096: ten streams at
 * once.) Full vectors here, two per row a step; tails row by row. */
#define CMX_NM_R 2
/* Rows spanning more bytes than this are prefetched a pair ahead. */
#define CMX_NORM_PF_BYTES ((size_t)1 << 20)
CMX_NM_INLINE void cmx_nm_stepr(int h, int rms, int has_w, int has_b,
                                  int nt, size_t i, const void *x, size_t ldx,
                                  void *y, size_t ldy, const float *w,
                                  const float *b, const struct cmx_nm_st *s) {
  vf wa = vf_zero(), ba = vf_zero();
  if (has_w) wa = vf_load(w + i);
  if (has_b) ba = vf_load(b + i);
  vf v[CMX_NM_R]; /* loads before stores: no 4K-alias stall on y0 vs x1 */
  for (int r = 0; r < CMX_NM_R; r++) v[r] = vx_load(h, x, r * ldx + i);
  vf t[CMX_NM_R];
  for (int r = 0; r < CMX_NM_R; r++) {
    t[r] = cmx_nm_t(rms, v[r], s[r].c, s[r].nb, s[r].rstd);
    if (has_w && has_b) t[r] = vf_fmadd(t[r], wa, ba);
    else if (has_w) t[r] = vf_mul(t[r], wa);
    else if (has_b) t[r] = vf_add(t[r], ba);
  }
  /* 16-bit rows: both rows' vectors rounded together where the level can
   * (vh_store2) */
  if (h)
    vh_store2(h == 1, (uint16_t *)y + i, (uint16_t *)y + ldy + i, t[0], t[1]);
  else
    for (int r = 0; r < CMX_NM_R; r++)
      vx_store_nt(h, nt, y, r * ldy + i, t[r]);
}

CMX_NM_INLINE void cmx_nm_applyr(int h, int rms, int has_w, int has_b,
                                   int nt, size_t n, const void *x, size_t ldx,
                                   void *y, size_t ldy, const float *w,
                                   const float *b, const struct cmx_nm_st *s,
                                   const void *pf) {
  const size_t nv = n - n % VF_N;
  size_t i = nv;
  if (i % (2 * VF_N)) {
    i -= VF_N;
    cmx_nm_stepr(h, rms, has_w, has_b, nt, i, x, ldx, y, ldy, w, b, s);
  }
  while (i > 0) {
    i -= 2 * VF_N;
    if (pf) /* the next pair's lines, in the order its statistics read */
      for (int r = 0; r < CMX_NM_R; r++)
        for (size_t l = 0; l < 2 * VF_N; l += 16)
          __builtin_prefetch(
              cmx_nm_at(h, pf, r * ldx + (nv - 2 * VF_N - i) + l), 0, 2);
    cmx_nm_stepr(h, rms, has_w, has_b, nt, i + VF_N, x, ldx, y, ldy, w, b, s);
    cmx_nm_stepr(h, rms, has_w, has_b, nt, i, x, ldx, y, ldy, w, b, s);
  }
  if (nv < n)
    for (int r = 0; r < CMX_NM_R; r++)
      cmx_nm_apply1(h, rms, has_w, has_b, n - nv, cmx_nm_at(h, x, r * ldx + nv),
                    (void *)cmx_nm_at(h, y, r * ldy + nv), has_w ? w + nv : w,
                    has_b ? b + nv : b, s[r]);
}

CMX_NM_INLINE void cmx_nm_rows_(int h, int rms, int has_w, int has_b,
                                  int nt, size_t m, size_t n, const void *x,
                                  size_t ldx, void *y, size_t ldy,
                                  const float *w, const float *b, float eps) {
  /* Rows past L2 come from L3 or memory: the pass over one pair then
   * prefetches the next into L2, so that its statistics do not wait on
   * memory while the pass waits on L2. (Cascade Lake VM, 4096 x 4096 rows,
   * one thread: layer_norm 8.2 -> 9.1 GB/s, rms_norm 8.4 -> 9.4 over the
   * pairs without it; rows in L2 ran 0.9x with it, hence the threshold.
   * One row a call ran 7.7-8.3 GB/s.) */
  const int far = m * ldx * (h ? 2 : 4) > CMX_NORM_PF_BYTES;
  size_t r = 0;
  for (; r + CMX_NM_R <= m; r += CMX_NM_R) {
    struct cmx_nm_st s[CMX_NM_R];
    cmx_nm_stats2(h, rms, n, cmx_nm_at(h, x, r * ldx),
                  cmx_nm_at(h, x, (r + 1) * ldx), eps, s);
    cmx_nm_applyr(h, rms, has_w, has_b, nt, n, cmx_nm_at(h, x, r * ldx), ldx,
                  (void *)cmx_nm_at(h, y, r * ldy), ldy, w, b, s,
                  far && r + 2 * CMX_NM_R <= m
                      ? cmx_nm_at(h, x, (r + CMX_NM_R) * ldx)
                      : NULL);
  }
  for (; r < m; r++)
    cmx_nm_apply1(h, rms, has_w, has_b, n, cmx_nm_at(h, x, r * ldx),
                  (void *)cmx_nm_at(h, y, r * ldy), w, b,
                  cmx_nm_stats(h, rms, n, cmx_nm_at(h, x, r * ldx), eps));
}

/* nt (the _nt kernels): the pairs' full vectors are streamed when every
 * row of y starts on a vector boundary, then one store fence; the tails
 * and odd rows are plain stores. */
CMX_NM_INLINE void cmx_nm_rows(int h, int rms, int has_w, int has_b,
                                 int nt, size_t m, size_t n, const void *x,
                                 size_t ldx, void *y, size_t ldy,
                                 const float *w, const float *b, float eps) {
  if (!h && nt && (uintptr_t)y % sizeof(vf) == 0 && ldy % VF_N == 0) {
    cmx_nm_rows_(h, rms, has_w, has_b, 1, m, n, x, ldx, y, ldy, w, b, eps);
    vf_sfence();
  } else {
    cmx_nm_rows_(h, rms, has_w, has_b, 0, m, n, x, ldx, y, ldy, w, b, eps);
  }
}

CMX_NM_INLINE void cmx_nm_norm_h(int h, int rms, int nt, size_t m,
                                   size_t n, const void *x, size_t ldx,
                                   void *y, size_t ldy, const float *w,
                                   const float *b, float eps) {
  if (rms) b = NULL;
  if (w && b) cmx_nm_rows(h, rms, 1, 1, nt, m, n, x, ldx, y, ldy, w, b, eps);
  else if (w) cmx_nm_rows(h, rms, 1, 0, nt, m, n, x, ldx, y, ldy, w, b, eps);
  else if (b) cmx_nm_rows(h, rms, 0, 1, nt, m, n, x, ldx, y, ldy, w, b, eps);
  else cmx_nm_rows(h, rms, 0, 0, nt, m, n, x, ldx, y, ldy, w, b, eps);
}

CMX_NM_INLINE void cmx_nm_norm(int rms, int nt, size_t m, size_t n,
                                 const float *x, size_t ldx, float *y,
                                 size_t ldy, const float *w, const float *b,
                                 float eps) {
  cmx_nm_norm_h(0, rms, nt, m, n, x, ldx, y, ldy, w, b, eps);
}

/* A listed 16-bit row: bf16 (h = 1) or f16 (h = 2) x and y. */
#define CMX_NM_DEFINE_H16(name, h, rms)                                   \
  CMX_NM_KERNEL void name(size_t m, size_t n, const void *x, size_t ldx,  \
                          void *y, size_t ldy, const float *w,            \
                          const float *b, float eps) {                    \
    cmx_nm_norm_h(h, rms, 0, m, n, x, ldx, y, ldy, w, b, eps);           \
  }

#endif
