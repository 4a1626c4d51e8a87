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
#include <stdint.h>

#define CMX_DOT4_INLINE static inline __attribute__((always_inline))

/* Element p of row u as f32 lanes (full vector, or the n - p left): f32
 * rows (H 0), or 16-bit ones (H 1 bf16, H 2 f16) widened in registers by
 * vh16.h, which the file includes before this one for H != 0. */
#define CMX_DOT4_ROW(H, r, h, u, p, left)                                   \
  (H == 0 ? ((left) ? vf_load_n(r[u] + (p), (left)) : vf_load(r[u] + (p)))  \
          : CMX_DOT4_ROW16(H, h, u, p, left))
#ifdef CMX_VH16_H
#define CMX_DOT4_ROW16(H, h, u, p, left)                                    \
  ((left) ? vh_load_n(H == 1, h[u] + (p), (left)) : vh_load(H == 1, h[u] + (p)))
#else
#define CMX_DOT4_ROW16(H, h, u, p, left) vf_zero()
#endif

/* M vectors of x (x + i ldx) against the four rows (r, or h when H != 0):
 * s[i * 4 + u]. */
CMX_DOT4_INLINE void cmx_dot4_rows(const int H, const int M, size_t n,
                                   const float *const *r,
                                   const uint16_t *const *h, const float *x,
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
    for (int u = 0; u < 4; u++) rv[u] = CMX_DOT4_ROW(H, r, h, u, p, 0);
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
    for (int u = 0; u < 4; u++) rv[u] = CMX_DOT4_ROW(H, r, h, u, p, n - p);
#pragma GCC unroll 4
    for (int i = 0; i < M; i++) {
      const vf xv = vf_load_n(x + (size_t)i * ldx + p, n - p);
#pragma GCC unroll 4
      for (int u = 0; u < 4; u++) a[i][u] = vf_fmadd(xv, rv[u], a[i][u]);
    }
  }
  /* the sums reduced together (vf_hsum4x4: the same bits as one at a
   * time), which at short n dominate: 32 x (4x128 @ 128x4096) B^T, 1
   * thread, 4.7-5.0 ms one at a time, 4.3-4.65 together */
  vf_hsum4x4((const vf(*)[4])a, M, s);
}

/* The m vectors four, two or one at a time (four only with 32 registers). */
#define CMX_DOT4_ALL(H, n, r, h, x, m, ldx, s)                             \
  for (size_t i = 0; i < (m);) {                                            \
    const size_t left = (m) - i;                                            \
    if (VF_REGS >= 32 && left >= 4) {                                       \
      cmx_dot4_rows(H, 4, n, r, h, (x) + i * (ldx), ldx, (s) + i * 4);      \
      i += 4;                                                               \
    } else if (left >= 2) {                                                 \
      cmx_dot4_rows(H, 2, n, r, h, (x) + i * (ldx), ldx, (s) + i * 4);      \
      i += 2;                                                               \
    } else {                                                                \
      cmx_dot4_rows(H, 1, n, r, h, (x) + i * (ldx), ldx, (s) + i * 4);      \
      i += 1;                                                               \
    }                                                                       \
  }

#define CMX_DOT4_DEFINE(name)                                              \
  void name(size_t n, const float *const *r, const float *x, size_t m,     \
            size_t ldx, float *s) {                                        \
    CMX_DOT4_ALL(0, n, r, (const uint16_t *const *)0, x, m, ldx, s)        \
  }

/* The 16-bit-row kernel (contract in f32-gemm.h); needs vh16.h. */
#define CMX_DOT4H_DEFINE(name)                                             \
  void name(size_t n, const uint16_t *const *h, int bf, const float *x,    \
            size_t m, size_t ldx, float *s) {                              \
    if (bf)                                                                \
      CMX_DOT4_ALL(1, n, (const float *const *)0, h, x, m, ldx, s)         \
    else                                                                   \
      CMX_DOT4_ALL(2, n, (const float *const *)0, h, x, m, ldx, s)         \
  }
#endif
