/* Loop body of the GEMV accumulate microkernel (contract in f32-gemm.h),
 * written once against arch/simd-*.h: include it after one of them and
 * define the kernel with CMX_GEMV4_DEFINE(literal_name). */
#ifndef CMX_F32_GEMV4_BODY_H
#define CMX_F32_GEMV4_BODY_H
#include <stddef.h>
#include <stdint.h>

/* M accumulators (M <= 4) against the four rows: per vector of i, the four
 * row vectors are loaded once and folded into each accumulator in turn
 * (the same four fmas, in the same order, as one accumulator alone). */
static inline __attribute__((always_inline)) void
cmx_gemv4_rows(const int M, size_t n, const float *const *r, const float *w,
               size_t ldw, float *acc, size_t ldacc) {
  const float *r0 = r[0], *r1 = r[1], *r2 = r[2], *r3 = r[3];
  vf wv[4][4];
#pragma GCC unroll 4
  for (int v = 0; v < M; v++)
#pragma GCC unroll 4
    for (int u = 0; u < 4; u++) wv[v][u] = vf_set1(w[(size_t)v * ldw + u]);
  size_t i = 0;
  for (; i + VF_N <= n; i += VF_N) {
    const vf x0 = vf_load(r0 + i), x1 = vf_load(r1 + i), x2 = vf_load(r2 + i),
             x3 = vf_load(r3 + i);
#pragma GCC unroll 4
    for (int v = 0; v < M; v++) {
      float *av = acc + (size_t)v * ldacc + i;
      vf a = vf_load(av);
      a = vf_fmadd(wv[v][0], x0, a);
      a = vf_fmadd(wv[v][1], x1, a);
      a = vf_fmadd(wv[v][2], x2, a);
      a = vf_fmadd(wv[v][3], x3, a);
      vf_store(av, a);
    }
  }
  if (i < n) {
    const size_t k = n - i;
    const vf x0 = vf_load_n(r0 + i, k), x1 = vf_load_n(r1 + i, k),
             x2 = vf_load_n(r2 + i, k), x3 = vf_load_n(r3 + i, k);
#pragma GCC unroll 4
    for (int v = 0; v < M; v++) {
      float *av = acc + (size_t)v * ldacc + i;
      vf a = vf_load_n(av, k);
      a = vf_fmadd(wv[v][0], x0, a);
      a = vf_fmadd(wv[v][1], x1, a);
      a = vf_fmadd(wv[v][2], x2, a);
      a = vf_fmadd(wv[v][3], x3, a);
      vf_store_n(av, a, k);
    }
  }
}

/* The accumulators four at a time with 32 registers (16 weights, 4 rows),
 * two with 16. */
#define CMX_GEMV4_DEFINE(name)                                              \
  void name(size_t n, const float *const *r, const float *w, size_t m,      \
            size_t ldw, float *acc, size_t ldacc) {                         \
    const size_t g = VF_REGS >= 32 ? 4 : 2;                                 \
    for (size_t v = 0; v < m; v += g) {                                     \
      const float *wv = w + v * ldw;                                        \
      float *av = acc + v * ldacc;                                          \
      switch (m - v < g ? m - v : g) {                                      \
        case 4: cmx_gemv4_rows(4, n, r, wv, ldw, av, ldacc); break;         \
        case 3: cmx_gemv4_rows(3, n, r, wv, ldw, av, ldacc); break;         \
        case 2: cmx_gemv4_rows(2, n, r, wv, ldw, av, ldacc); break;         \
        default: cmx_gemv4_rows(1, n, r, wv, ldw, av, ldacc);               \
      }                                                                     \
    }                                                                       \
  }
/* The 16-bit-row kernel (contract in f32-gemm.h): the same steps, each
 * row vector widened in registers by vh16.h (included before this file);
 * bf is 1 (bf16) or 0 (f16), a constant in each instance. */
#ifdef CMX_VH16_H
static inline __attribute__((always_inline)) void
cmx_gemv4h_run(const int bf, size_t n, const uint16_t *const *h,
               const float *w, float *acc) {
  const uint16_t *r0 = h[0], *r1 = h[1], *r2 = h[2], *r3 = h[3];
  const vf w0 = vf_set1(w[0]), w1 = vf_set1(w[1]), w2 = vf_set1(w[2]),
           w3 = vf_set1(w[3]);
  size_t i = 0;
  for (; i + VF_N <= n; i += VF_N) {
    vf a = vf_load(acc + i);
    a = vf_fmadd(w0, vh_load(bf, r0 + i), a);
    a = vf_fmadd(w1, vh_load(bf, r1 + i), a);
    a = vf_fmadd(w2, vh_load(bf, r2 + i), a);
    a = vf_fmadd(w3, vh_load(bf, r3 + i), a);
    vf_store(acc + i, a);
  }
  if (i < n) {
    vf a = vf_load_n(acc + i, n - i);
    a = vf_fmadd(w0, vh_load_n(bf, r0 + i, n - i), a);
    a = vf_fmadd(w1, vh_load_n(bf, r1 + i, n - i), a);
    a = vf_fmadd(w2, vh_load_n(bf, r2 + i, n - i), a);
    a = vf_fmadd(w3, vh_load_n(bf, r3 + i, n - i), a);
    vf_store_n(acc + i, a, n - i);
  }
}
#define CMX_GEMV4H_DEFINE(name)                                            \
  void name(size_t n, const uint16_t *const *h, int bf, const float *w,    \
            float *acc) {                                                  \
    if (bf) cmx_gemv4h_run(1, n, h, w, acc);                               \
    else cmx_gemv4h_run(0, n, h, w, acc);                                  \
  }
#endif
#endif
