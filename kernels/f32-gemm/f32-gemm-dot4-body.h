/* Loop body of the GEMV dot microkernel (contract in f32-gemm.h), written
 * once against arch/simd-*.h: include it after one of them and define the
 * kernel with CMX_DOT4_DEFINE(literal_name). One vector accumulator per
 * (vector of x, row) pair, a masked tail, one horizontal sum each. Up to
 * four vectors of x meet the four rows together where 32 registers hold
 * their 16 accumulators; with 16 registers, two at a time (the rows are
 * then read twice, the second time from L1). */
#ifndef CMX_F32_DOT4_BODY_H
#define CMX_F32_DOT4_BODY_H
#include <stddef.h>

#define CMX_DOT4_INLINE static inline __attribute__((always_inline))

/* M vectors of x (x + i ldx) against the four rows: s[i * 4 + u]. */
CMX_DOT4_INLINE void cmx_dot4_rows(const int M, size_t n,
                                   const float *const *r, const float *x,
                                   size_t ldx, float *s) {
  vf a[4][4];
#pragma GCC unroll 4
  for (int i = 0; i < M; i++)
#pragma GCC unroll 4
    for (int u = 0; u < 4; u++) a[i][u] = vf_zero();
  size_t p = 0;
  for (; p + VF_N <= n; p += VF_N) {
    vf rv[4];
#pragma GCC unroll 4
    for (int u = 0; u < 4; u++) rv[u] = vf_load(r[u] + p);
#pragma GCC unroll 4
    for (int i = 0; i < M; i++) {
      const vf xv = vf_load(x + (size_t)i * ldx + p);
#pragma GCC unroll 4
      for (int u = 0; u < 4; u++) a[i][u] = vf_fmadd(xv, rv[u], a[i][u]);
    }
  }
  if (p < n) {
    vf rv[4];
#pragma GCC unroll 4
    for (int u = 0; u < 4; u++) rv[u] = vf_load_n(r[u] + p, n - p);
#pragma GCC unroll 4
    for (int i = 0; i < M; i++) {
      const vf xv = vf_load_n(x + (size_t)i * ldx + p, n - p);
#pragma GCC unroll 4
      for (int u = 0; u < 4; u++) a[i][u] = vf_fmadd(xv, rv[u], a[i][u]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < M; i++)
#pragma GCC unroll 4
    for (int u = 0; u < 4; u++) s[i * 4 + u] = vf_hsum(a[i][u]);
}

#define CMX_DOT4_DEFINE(name)                                              \
  void name(size_t n, const float *const *r, const float *x, size_t m,     \
            size_t ldx, float *s) {                                        \
    for (size_t i = 0; i < m;) {                                           \
      const size_t left = m - i;                                           \
      if (VF_REGS >= 32 && left >= 4) {                                    \
        cmx_dot4_rows(4, n, r, x + i * ldx, ldx, s + i * 4);               \
        i += 4;                                                            \
      } else if (left >= 2) {                                              \
        cmx_dot4_rows(2, n, r, x + i * ldx, ldx, s + i * 4);               \
        i += 2;                                                            \
      } else {                                                             \
        cmx_dot4_rows(1, n, r, x + i * ldx, ldx, s + i * 4);               \
        i += 1;                                                            \
      }                                                                    \
    }                                                                      \
  }
#endif
