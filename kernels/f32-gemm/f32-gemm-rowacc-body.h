/* Loop body of the row-accumulate microkernel (contract in f32-gemm.h),
 * written once against arch/simd-*.h: include it after one of them and
 * define the kernel with CMX_ROWACC_DEFINE(literal_name).
 * m x KB weights stay in registers (KB = cmx_rowacc_kb(m): at most 24 of
 * AVX-512's and NEON's 32; AVX2 reloads some as memory operands); per
 * vector of columns: KB loads of B, m loads and stores of the accumulator
 * block (L1), KB m FMAs. */
#ifndef CMX_F32_ROWACC_BODY_H
#define CMX_F32_ROWACC_BODY_H
#include <stddef.h>
#include <stdint.h>

/* B's row u at column j as f32 lanes (left: a tail of that many): f32 rows
 * (H 0) or 16-bit ones widened in registers (H 1 bf16, H 2 f16; needs
 * vh16.h included before this file). */
#ifdef CMX_VH16_H
#define CMX_ROWACC_B16(H, u, left)                                         \
  ((left) ? vh_load_n(H == 1, h[u] + j, (left)) : vh_load(H == 1, h[u] + j))
#else
#define CMX_ROWACC_B16(H, u, left) vf_zero()
#endif
#define CMX_ROWACC_B(H, u, left)                                           \
  (H == 0 ? ((left) ? vf_load_n(r[u] + j, (left)) : vf_load(r[u] + j))    \
          : CMX_ROWACC_B16(H, u, left))

#define CMX_ROWACC_VEC(H, M, KB, left)                                     \
  do {                                                                    \
    vf b_[8];                                                             \
    _Pragma("GCC unroll 8") for (int u = 0; u < (KB); u++) b_[u] =        \
        CMX_ROWACC_B(H, u, left);                                         \
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
    CMX_ROWACC_ALL(0, r, (const uint16_t *const *)0)                       \
  }

/* The 16-bit-row kernel (contract in f32-gemm.h); needs vh16.h. */
#define CMX_ROWACCH_DEFINE(name)                                           \
  void name(size_t m, size_t kb, size_t n, const uint16_t *const *h,       \
            int bf, const float *w, float *acc, size_t ld, ptrdiff_t pf) { \
    if (bf) {                                                              \
      CMX_ROWACC_ALL(1, (const float *const *)0, h)                        \
    } else {                                                               \
      CMX_ROWACC_ALL(2, (const float *const *)0, h)                        \
    }                                                                      \
  }
#endif
