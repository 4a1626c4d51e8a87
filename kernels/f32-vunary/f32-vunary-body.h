/* Loop body shared by every f32-vunary ISA file: include it after one
 * arch/simd-*.h, then CMX_VUNARY_DEFINE(literal_kernel_name, vector_fn) per
 * op. Main loop x4 vectors, then single vectors, then one masked tail; all
 * loads of a step happen before its stores, so y == x is safe. */
#ifndef CMX_F32_VUNARY_BODY_H
#define CMX_F32_VUNARY_BODY_H
#include "kernels/common/vmath.h"
#include "kernels/f32-vunary/f32-vunary.h"

CMX_VMATH_INLINE vf cmx_vu_abs(vf x) { return vf_abs(x); }
CMX_VMATH_INLINE vf cmx_vu_neg(vf x) { return vf_neg(x); }
/* MLX sign: +-1, +0 for either zero and for NaN. */
CMX_VMATH_INLINE vf cmx_vu_sign(vf x) {
  vf z = vf_select(vf_gt(x, vf_zero()), vf_set1(1.0f), vf_zero());
  return vf_select(vf_lt(x, vf_zero()), vf_set1(-1.0f), z);
}
CMX_VMATH_INLINE vf cmx_vu_sqrt(vf x) { return vf_sqrt(x); }
CMX_VMATH_INLINE vf cmx_vu_rsqrt(vf x) { return vf_div(vf_set1(1.0f), vf_sqrt(x)); }
CMX_VMATH_INLINE vf cmx_vu_square(vf x) { return vf_mul(x, x); }
CMX_VMATH_INLINE vf cmx_vu_reciprocal(vf x) { return vf_div(vf_set1(1.0f), x); }
/* Select instead of max: +0 for -0 and NaN kept, identical on every ISA
 * (maxps and fmax disagree on both). */
CMX_VMATH_INLINE vf cmx_vu_relu(vf x) {
  return vf_select(vf_le(x, vf_zero()), vf_zero(), x);
}
CMX_VMATH_INLINE vf cmx_vu_floor(vf x) { return vf_floor(x); }
CMX_VMATH_INLINE vf cmx_vu_ceil(vf x) { return vf_ceil(x); }
CMX_VMATH_INLINE vf cmx_vu_round(vf x) { return vf_round(x); }
CMX_VMATH_INLINE vf cmx_vu_softplus(vf x) { return vm_softplus(x); }

#define CMX_VUNARY_DEFINE(name, fn)                                       \
  void name(size_t n, const float *x, float *y) {                         \
    size_t i = 0;                                                         \
    for (; i + 4 * VF_N <= n; i += 4 * VF_N) {                            \
      vf a0 = vf_load(x + i), a1 = vf_load(x + i + VF_N);                 \
      vf a2 = vf_load(x + i + 2 * VF_N), a3 = vf_load(x + i + 3 * VF_N);  \
      a0 = fn(a0);                                                        \
      a1 = fn(a1);                                                        \
      a2 = fn(a2);                                                        \
      a3 = fn(a3);                                                        \
      vf_store(y + i, a0);                                                \
      vf_store(y + i + VF_N, a1);                                         \
      vf_store(y + i + 2 * VF_N, a2);                                     \
      vf_store(y + i + 3 * VF_N, a3);                                     \
    }                                                                     \
    for (; i + VF_N <= n; i += VF_N) vf_store(y + i, fn(vf_load(x + i))); \
    if (i < n) vf_store_n(y + i, fn(vf_load_n(x + i, n - i)), n - i);     \
  }

/* As CMX_VUNARY_DEFINE for an fn with a cheap path: fast(x) equals fn(x)
 * for vectors where tail(x) (a vm) has no lane set. The test is made once
 * per 4-vector step, so the four fast chains share one basic block and
 * interleave (one branch per vector would serialize them). */
#define CMX_VUNARY_DEFINE_SPLIT(name, fn, fast, tail)                     \
  void name(size_t n, const float *x, float *y) {                         \
    size_t i = 0;                                                         \
    for (; i + 4 * VF_N <= n; i += 4 * VF_N) {                            \
      vf a0 = vf_load(x + i), a1 = vf_load(x + i + VF_N);                 \
      vf a2 = vf_load(x + i + 2 * VF_N), a3 = vf_load(x + i + 3 * VF_N);  \
      vm t = vm_or(vm_or(tail(a0), tail(a1)), vm_or(tail(a2), tail(a3))); \
      if (__builtin_expect(!vm_any(t), 1)) {                              \
        a0 = fast(a0);                                                    \
        a1 = fast(a1);                                                    \
        a2 = fast(a2);                                                    \
        a3 = fast(a3);                                                    \
      } else {                                                            \
        a0 = fn(a0);                                                      \
        a1 = fn(a1);                                                      \
        a2 = fn(a2);                                                      \
        a3 = fn(a3);                                                      \
      }                                                                   \
      vf_store(y + i, a0);                                                \
      vf_store(y + i + VF_N, a1);                                         \
      vf_store(y + i + 2 * VF_N, a2);                                     \
      vf_store(y + i + 3 * VF_N, a3);                                     \
    }                                                                     \
    for (; i + VF_N <= n; i += VF_N) vf_store(y + i, fn(vf_load(x + i))); \
    if (i < n) vf_store_n(y + i, fn(vf_load_n(x + i, n - i)), n - i);     \
  }

#endif
