/* Loop body of the row-accumulate microkernel (contract in f32-gemm.h),
 * written once against arch/simd-*.h: include it after one of them and
 * define the kernel with CMX_ROWACC_DEFINE(literal_name).
 * Up to 8 rows of C: m x KB weights stay in registers (KB =
 * cmx_rowacc_kb(m): at most 24 of AVX-512's and NEON's 32; AVX2 reloads
 * some as memory operands); per vector of columns: KB loads of B, m loads
 * and stores of the accumulator block (L1), KB m FMAs. Taller blocks keep
 * B's vectors in registers instead (cmx_rowacc_wide). */
#ifndef CMX_F32_ROWACC_BODY_H
#define CMX_F32_ROWACC_BODY_H
#include <stddef.h>
#include <stdint.h>

/* B's row u at column j as f32 lanes (left: a tail of that many): f32 rows
 * (H 0) or 16-bit ones widened in registers (H 1 bf16, H 2 f16; needs
 * vh16.h included before this file). */
#ifdef CMX_VH16_H
#define CMX_ROWACC_B16(H, u, j, left)                                      \
  ((left) ? vh_load_n(H == 1, h[u] + (j), (left))                         \
          : vh_load(H == 1, h[u] + (j)))
#else
#define CMX_ROWACC_B16(H, u, j, left) vf_zero()
#endif
#define CMX_ROWACC_B(H, u, j, left)                                        \
  (H == 0 ? ((left) ? vf_load_n(r[u] + (j), (left)) : vf_load(r[u] + (j))) \
          : CMX_ROWACC_B16(H, u, j, left))

#define CMX_ROWACC_VEC(H, M, KB, left)                                     \
  do {                                                                    \
    vf b_[8];                                                             \
    _Pragma("GCC unroll 8") for (int u = 0; u < (KB); u++) b_[u] =        \
        CMX_ROWACC_B(H, u, j, left);                                      \
    _Pragma("GCC unroll 8") for (int i = 0; i < (M); i++) {               \
      float *ai_ = acc + (size_t)i * ld + j;                              \
      vf a_ = (left) ? vf_load_n(ai_, (left)) : vf_load(ai_);             \
      _Pragma("GCC unroll 8") for (int u = 0; u < (KB); u++) a_ =         \
          vf_fmadd(wv[i][u], b_[u], a_);                                  \
      if (left) vf_store_n(ai_, a_, (left));                              \
      else vf_store(ai_, a_);                                             \
    }                                                                     \
  } while (0)

/* M rows, KB rows of B (r, or h when H != 0); pf: prefetch distance in
 * elements (0: none), one line of each B row per 16 columns, to L2. */
static inline __attribute__((always_inline)) void
cmx_rowacc_body(const int H, const int M, const int KB, size_t n,
                const float *const *rp, const uint16_t *const *hp,
                const float *w, float *acc, size_t ld, ptrdiff_t pf) {
  /* local: the stores to acc cannot alias them */
  const float *r[8];
  const uint16_t *h[8];
#pragma GCC unroll 8
  for (int u = 0; u < KB; u++) {
    r[u] = H == 0 ? rp[u] : 0;
    h[u] = H == 0 ? 0 : hp[u];
  }
  vf wv[8][8];
#pragma GCC unroll 8
  for (int i = 0; i < M; i++)
#pragma GCC unroll 8
    for (int u = 0; u < KB; u++) wv[i][u] = vf_set1(w[u * M + i]);
  size_t j = 0;
  for (; j + VF_N <= n; j += VF_N) {
    if (pf && j % 16 == 0)
#pragma GCC unroll 8
      for (int u = 0; u < KB; u++) {
        if (H == 0) __builtin_prefetch(r[u] + pf + j, 0, 2);
        else __builtin_prefetch(h[u] + pf + j, 0, 2);
      }
    CMX_ROWACC_VEC(H, M, KB, 0);
  }
  if (j < n) CMX_ROWACC_VEC(H, M, KB, n - j);
}

/* Taller blocks (m > 8; f32 rows, or 16-bit ones widened as they load):
 * the KB rows' next NJ vectors stay in registers (KB x NJ of them) and
 * each row of the block takes its KB
 * weights as broadcasts from w, its NJ accumulator vectors from acc (the
 * block in L2: the driver widens it), the fold, and the stores; per row
 * NJ loads and stores of acc and KB broadcasts for KB NJ FMAs. pf as
 * above; the KB rows' next NJ vectors are also fetched to L1 while this
 * group's m rows run. 2-core Xeon VM, 1 thread, 32x4096x11008 (B 180 MB
 * from memory) 88-94 GFLOP/s on the 8x32 tile -> 110-117 (C block 352
 * KiB, rows 16 ahead); the L1 fetch of the next vectors 3-5% of that.
 * Rows go two at a time (2 NJ independent chains of KB FMAs; one row's
 * are 4 KB cycles long against its 12 cycles of FMAs) and each
 * accumulator is loaded into a register (vf_reg) rather than folded into
 * the first FMA, which made gcc copy a B vector first (a vmovaps on the
 * FMA ports per load). The same FMAs in the same order. 1 thread, two
 * libraries interleaved, GFLOP/s: the kernel alone with a 354 KiB C
 * block 150-165 -> 161-172; 32x4096x11008 127-130 -> 131-137, 64x4096x
 * 11008 136-142 -> 142-144, 48x4096x4096 132-135 -> 133-141; AVX2 32x4096
 * x11008 80 -> 81-84; a bf16 B even. KB 12 x NJ 2 (fewer C accesses)
 * measured 0-10% slower, 24 x 1 at 73. */
#if VF_REGS >= 32
#define CMX_ROWACC_WKB 8
#define CMX_ROWACC_WNJ 3
#else
#define CMX_ROWACC_WKB 4
#define CMX_ROWACC_WNJ 2
#endif

/* R rows of C (ai, ld apart; weights w[u * m + s]) folded with the KB x
 * NJ vectors of B in b: each accumulator loaded into a register, its KB
 * FMAs in order, stored. */
static inline __attribute__((always_inline)) void
cmx_rowacc_wide_rows(const int R, const int KB, const int NJ,
                     vf (*b)[CMX_ROWACC_WNJ], const float *w, size_t m,
                     float *ai, size_t ld) {
  vf c[2][CMX_ROWACC_WNJ];
#pragma GCC unroll 2
  for (int s = 0; s < R; s++)
#pragma GCC unroll 4
    for (int v = 0; v < NJ; v++)
      c[s][v] = vf_reg(vf_load(ai + s * ld + v * VF_N));
#pragma GCC unroll 8
  for (int u = 0; u < KB; u++) {
#pragma GCC unroll 2
    for (int s = 0; s < R; s++) {
      vf wu = vf_set1(w[(size_t)u * m + s]);
#pragma GCC unroll 4
      for (int v = 0; v < NJ; v++) c[s][v] = vf_fmadd(wu, b[u][v], c[s][v]);
    }
  }
#pragma GCC unroll 2
  for (int s = 0; s < R; s++)
#pragma GCC unroll 4
    for (int v = 0; v < NJ; v++) vf_store(ai + s * ld + v * VF_N, c[s][v]);
}

/* H, r, h as for cmx_rowacc_body: f32 rows (r) or 16-bit rows (h),
 * widened in registers. */
static inline __attribute__((always_inline)) void
cmx_rowacc_wide(const int H, const int KB, const int NJ, size_t m, size_t n,
                const float *const *rp, const uint16_t *const *hp,
                const float *w, float *acc, size_t ld, ptrdiff_t pf) {
  const float *r[CMX_ROWACC_WKB];
  const uint16_t *h[CMX_ROWACC_WKB];
#pragma GCC unroll 8
  for (int u = 0; u < KB; u++) {
    r[u] = H == 0 ? rp[u] : 0;
    h[u] = H == 0 ? 0 : hp[u];
  }
  const int EL = H == 0 ? 16 : 32; /* elements a line */
  size_t j = 0;
  for (; j + (size_t)NJ * VF_N <= n; j += (size_t)NJ * VF_N) {
    vf b[CMX_ROWACC_WKB][CMX_ROWACC_WNJ];
#pragma GCC unroll 8
    for (int u = 0; u < KB; u++)
#pragma GCC unroll 4
      for (int v = 0; v < NJ; v++) {
        const size_t jv = j + (size_t)v * VF_N;
        b[u][v] = CMX_ROWACC_B(H, u, jv, 0);
      }
#pragma GCC unroll 8
    for (int u = 0; u < KB; u++)
#pragma GCC unroll 4
      for (int o = 0; o < NJ * VF_N; o += EL) {
        const int nxt = j + (size_t)(2 * NJ * VF_N) <= n;
        if (H == 0) {
          if (pf) __builtin_prefetch(r[u] + pf + j + o, 0, 2);
          if (nxt) __builtin_prefetch(r[u] + j + NJ * VF_N + o, 0, 3);
        } else {
          if (pf) __builtin_prefetch(h[u] + pf + j + o, 0, 2);
          if (nxt) __builtin_prefetch(h[u] + j + NJ * VF_N + o, 0, 3);
        }
      }
    float *ai = acc + j;
    size_t i = 0;
    for (; i + 2 <= m; i += 2, ai += 2 * ld)
      cmx_rowacc_wide_rows(2, KB, NJ, b, w + i, m, ai, ld);
    if (i < m) cmx_rowacc_wide_rows(1, KB, NJ, b, w + i, m, ai, ld);
  }
  for (; j < n; j += VF_N) { /* single vectors; the last may be short */
    size_t left = n - j < VF_N ? n - j : 0;
    vf b[CMX_ROWACC_WKB];
#pragma GCC unroll 8
    for (int u = 0; u < KB; u++) b[u] = CMX_ROWACC_B(H, u, j, left);
    float *ai = acc + j;
    for (size_t i = 0; i < m; i++, ai += ld) {
      vf c = left ? vf_load_n(ai, left) : vf_load(ai);
#pragma GCC unroll 8
      for (int u = 0; u < KB; u++)
        c = vf_fmadd(vf_set1(w[(size_t)u * m + i]), b[u], c);
      if (left) vf_store_n(ai, c, left);
      else vf_store(ai, c);
    }
  }
}

/* m > 8: whole groups of CMX_ROWACC_WKB rows, then single rows (the same
 * FMAs in the same order either way). */
#define CMX_ROWACC_WIDE(H, r_, h_)                                         \
  do {                                                                    \
    size_t q_ = 0;                                                        \
    for (; q_ + CMX_ROWACC_WKB <= kb; q_ += CMX_ROWACC_WKB)               \
      cmx_rowacc_wide(H, CMX_ROWACC_WKB, CMX_ROWACC_WNJ, m, n,            \
                      (r_) ? (r_) + q_ : 0, (h_) ? (h_) + q_ : 0,         \
                      w + q_ * m, acc, ld, pf);                           \
    for (; q_ < kb; q_++)                                                 \
      cmx_rowacc_wide(H, 1, CMX_ROWACC_WNJ, m, n, (r_) ? (r_) + q_ : 0,   \
                      (h_) ? (h_) + q_ : 0, w + q_ * m, acc, ld, pf);     \
  } while (0)

#define CMX_ROWACC_CASES(H, KB1, r_, h_, w_)                               \
  switch (m) {                                                            \
  case 1: cmx_rowacc_body(H, 1, KB1 ? 1 : 8, n, r_, h_, w_, acc, ld, pf); break; \
  case 2: cmx_rowacc_body(H, 2, KB1 ? 1 : 8, n, r_, h_, w_, acc, ld, pf); break; \
  case 3: cmx_rowacc_body(H, 3, KB1 ? 1 : 8, n, r_, h_, w_, acc, ld, pf); break; \
  case 4: cmx_rowacc_body(H, 4, KB1 ? 1 : 4, n, r_, h_, w_, acc, ld, pf); break; \
  case 5: cmx_rowacc_body(H, 5, KB1 ? 1 : 4, n, r_, h_, w_, acc, ld, pf); break; \
  case 6: cmx_rowacc_body(H, 6, KB1 ? 1 : 4, n, r_, h_, w_, acc, ld, pf); break; \
  case 7: cmx_rowacc_body(H, 7, KB1 ? 1 : 3, n, r_, h_, w_, acc, ld, pf); break; \
  default: cmx_rowacc_body(H, 8, KB1 ? 1 : 3, n, r_, h_, w_, acc, ld, pf); break;\
  }

/* Whole groups of cmx_rowacc_kb(m) rows, then single rows: the same FMA
 * per element in the same order either way, so the result never depends
 * on the grouping. */
#define CMX_ROWACC_ALL(H, r_, h_)                                          \
  size_t g = cmx_rowacc_kb(m), q = 0;                                     \
  for (; q + g <= kb; q += g)                                             \
    CMX_ROWACC_CASES(H, 0, (r_) ? (r_) + q : 0, (h_) ? (h_) + q : 0,       \
                     w + q * m)                                           \
  for (; q < kb; q++)                                                     \
    CMX_ROWACC_CASES(H, 1, (r_) ? (r_) + q : 0, (h_) ? (h_) + q : 0,       \
                     w + q * m)

#define CMX_ROWACC_DEFINE(name)                                            \
  void name(size_t m, size_t kb, size_t n, const float *const *r,          \
            const float *w, float *acc, size_t ld, ptrdiff_t pf) {         \
    if (m > 8) {                                                          \
      CMX_ROWACC_WIDE(0, r, (const uint16_t *const *)0);                  \
      return;                                                             \
    }                                                                     \
    CMX_ROWACC_ALL(0, r, (const uint16_t *const *)0)                       \
  }

/* The 16-bit-row kernel (contract in f32-gemm.h); needs vh16.h. */
#define CMX_ROWACCH_DEFINE(name)                                           \
  void name(size_t m, size_t kb, size_t n, const uint16_t *const *h,       \
            int bf, const float *w, float *acc, size_t ld, ptrdiff_t pf) { \
    if (m > 8) {                                                           \
      if (bf) CMX_ROWACC_WIDE(1, (const float *const *)0, h);              \
      else CMX_ROWACC_WIDE(2, (const float *const *)0, h);                 \
      return;                                                              \
    }                                                                      \
    if (bf) {                                                              \
      CMX_ROWACC_ALL(1, (const float *const *)0, h)                        \
    } else {                                                               \
      CMX_ROWACC_ALL(2, (const float *const *)0, h)                        \
    }                                                                      \
  }
#endif
