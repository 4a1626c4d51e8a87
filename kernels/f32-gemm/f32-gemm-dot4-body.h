/* Loop body of the GEMV dot microkernel (contract in f32-gemm.h), written
 * once against arch/simd-*.h: include it after one of them and define the
 * kernel with CMX_DOT4_DEFINE(literal_name). One vector accumulator per
 * row (four independent FMA chains), a masked tail, one horizontal sum. */
#ifndef CMX_F32_DOT4_BODY_H
#define CMX_F32_DOT4_BODY_H
#include <stddef.h>

#define CMX_DOT4_STEP(LD, i)                                             \
  do {                                                                  \
    vf xv = LD(x + (i));                                                \
    a0 = vf_fmadd(xv, LD(r0 + (i)), a0);                                \
    a1 = vf_fmadd(xv, LD(r1 + (i)), a1);                                \
    a2 = vf_fmadd(xv, LD(r2 + (i)), a2);                                \
    a3 = vf_fmadd(xv, LD(r3 + (i)), a3);                                \
  } while (0)
#define CMX_DOT4_LD(p) vf_load(p)
#define CMX_DOT4_LDN(p) vf_load_n(p, n - i)

#define CMX_DOT4_DEFINE(name)                                             \
  void name(size_t n, const float *const *r, const float *x, float *s) {  \
    const float *r0 = r[0], *r1 = r[1], *r2 = r[2], *r3 = r[3];           \
    vf a0 = vf_zero(), a1 = vf_zero(), a2 = vf_zero(), a3 = vf_zero();    \
    size_t i = 0;                                                         \
    for (; i + VF_N <= n; i += VF_N) CMX_DOT4_STEP(CMX_DOT4_LD, i);       \
    if (i < n) CMX_DOT4_STEP(CMX_DOT4_LDN, 0 + i);                        \
    s[0] = vf_hsum(a0);                                                   \
    s[1] = vf_hsum(a1);                                                   \
    s[2] = vf_hsum(a2);                                                   \
    s[3] = vf_hsum(a3);                                                   \
  }
#endif
