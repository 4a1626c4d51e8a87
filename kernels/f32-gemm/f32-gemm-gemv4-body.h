/* Loop body of the GEMV accumulate microkernel (contract in f32-gemm.h),
 * written once against arch/simd-*.h: include it after one of them and
 * define the kernel with CMX_GEMV4_DEFINE(literal_name). */
#ifndef CMX_F32_GEMV4_BODY_H
#define CMX_F32_GEMV4_BODY_H
#include <stddef.h>
#include <stdint.h>

#define CMX_GEMV4_STEP(LD, ST, i)                                        \
  do {                                                                  \
    vf a = LD(acc + (i));                                               \
    a = vf_fmadd(w0, LD(r0 + (i)), a);                                  \
    a = vf_fmadd(w1, LD(r1 + (i)), a);                                  \
    a = vf_fmadd(w2, LD(r2 + (i)), a);                                  \
    a = vf_fmadd(w3, LD(r3 + (i)), a);                                  \
    ST(acc + (i), a);                                                   \
  } while (0)
#define CMX_GEMV4_LD(p) vf_load(p)
#define CMX_GEMV4_ST(p, v) vf_store(p, v)
#define CMX_GEMV4_LDN(p) vf_load_n(p, n - i)
#define CMX_GEMV4_STN(p, v) vf_store_n(p, v, n - i)

#define CMX_GEMV4_DEFINE(name)                                            \
  void name(size_t n, const float *const *r, const float *w, float *acc) { \
    const float *r0 = r[0], *r1 = r[1], *r2 = r[2], *r3 = r[3];           \
    vf w0 = vf_set1(w[0]), w1 = vf_set1(w[1]), w2 = vf_set1(w[2]),        \
       w3 = vf_set1(w[3]);                                                \
    size_t i = 0;                                                         \
    for (; i + 2 * VF_N <= n; i += 2 * VF_N) {                            \
      CMX_GEMV4_STEP(CMX_GEMV4_LD, CMX_GEMV4_ST, i);                      \
      CMX_GEMV4_STEP(CMX_GEMV4_LD, CMX_GEMV4_ST, i + VF_N);               \
    }                                                                     \
    for (; i + VF_N <= n; i += VF_N)                                      \
      CMX_GEMV4_STEP(CMX_GEMV4_LD, CMX_GEMV4_ST, i);                      \
    if (i < n) CMX_GEMV4_STEP(CMX_GEMV4_LDN, CMX_GEMV4_STN, 0 + i);       \
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
