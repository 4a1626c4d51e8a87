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

#define CMX_ROWACC_VEC(LD, ST, M, KB)                                      \
  do {                                                                    \
    vf b_[8];                                                             \
    _Pragma("GCC unroll 8") for (int u = 0; u < (KB); u++) b_[u] =        \
        LD(r[u] + j);                                                     \
    _Pragma("GCC unroll 8") for (int i = 0; i < (M); i++) {               \
      vf a_ = LD(acc + (size_t)i * ld + j);                               \
      _Pragma("GCC unroll 8") for (int u = 0; u < (KB); u++) a_ =         \
          vf_fmadd(wv[i][u], b_[u], a_);                                  \
      ST(acc + (size_t)i * ld + j, a_);                                   \
    }                                                                     \
  } while (0)
#define CMX_ROWACC_LD(p) vf_load(p)
#define CMX_ROWACC_ST(p, v) vf_store(p, v)
#define CMX_ROWACC_LDN(p) vf_load_n(p, n - j)
#define CMX_ROWACC_STN(p, v) vf_store_n(p, v, n - j)

/* M rows, KB rows of B; pf: prefetch distance in elements (0:
 * none), one line of each B row per 16 columns, to L2. */
static inline __attribute__((always_inline)) void
cmx_rowacc_body(const int M, const int KB, size_t n, const float *const *rp,
                const float *w, float *acc, size_t ld, ptrdiff_t pf) {
  const float *r[8]; /* local: the stores to acc cannot alias them */
#pragma GCC unroll 8
  for (int u = 0; u < KB; u++) r[u] = rp[u];
  vf wv[8][8];
#pragma GCC unroll 8
  for (int i = 0; i < M; i++)
#pragma GCC unroll 8
    for (int u = 0; u < KB; u++) wv[i][u] = vf_set1(w[u * M + i]);
  size_t j = 0;
  for (; j + VF_N <= n; j += VF_N) {
    if (pf && j % 16 == 0)
#pragma GCC unroll 8
      for (int u = 0; u < KB; u++) __builtin_prefetch(r[u] + pf + j, 0, 2);
    CMX_ROWACC_VEC(CMX_ROWACC_LD, CMX_ROWACC_ST, M, KB);
  }
  if (j < n) CMX_ROWACC_VEC(CMX_ROWACC_LDN, CMX_ROWACC_STN, M, KB);
}

#define CMX_ROWACC_CASES(KB1, r_, w_)                                     \
  switch (m) {                                                            \
  case 1: cmx_rowacc_body(1, KB1 ? 1 : 8, n, r_, w_, acc, ld, pf); break; \
  case 2: cmx_rowacc_body(2, KB1 ? 1 : 8, n, r_, w_, acc, ld, pf); break; \
  case 3: cmx_rowacc_body(3, KB1 ? 1 : 8, n, r_, w_, acc, ld, pf); break; \
  case 4: cmx_rowacc_body(4, KB1 ? 1 : 4, n, r_, w_, acc, ld, pf); break; \
  case 5: cmx_rowacc_body(5, KB1 ? 1 : 4, n, r_, w_, acc, ld, pf); break; \
  case 6: cmx_rowacc_body(6, KB1 ? 1 : 4, n, r_, w_, acc, ld, pf); break; \
  case 7: cmx_rowacc_body(7, KB1 ? 1 : 3, n, r_, w_, acc, ld, pf); break; \
  default: cmx_rowacc_body(8, KB1 ? 1 : 3, n, r_, w_, acc, ld, pf); break;\
  }

/* Whole groups of cmx_rowacc_kb(m) rows, then single rows: the same FMA
 * per element in the same order either way, so the result never depends
 * on the grouping. */
#define CMX_ROWACC_DEFINE(name)                                            \
  void name(size_t m, size_t kb, size_t n, const float *const *r,          \
            const float *w, float *acc, size_t ld, ptrdiff_t pf) {         \
    size_t g = cmx_rowacc_kb(m), q = 0;                                   \
    for (; q + g <= kb; q += g) CMX_ROWACC_CASES(0, r + q, w + q * m)     \
    for (; q < kb; q++) CMX_ROWACC_CASES(1, r + q, w + q * m)             \
  }
#endif
