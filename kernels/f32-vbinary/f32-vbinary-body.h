/* Loop body shared by every f32-vbinary ISA file: include it after one
 * arch/simd-*.h, then CMX_VBINARY_DEFINE(literal_kernel_name, vector_fn) per
 * op. Three loops by stride: vv, vs (b broadcast) and sv (a broadcast; also
 * taken when both are broadcast). x4 vectors, then singles, then a tail. */
#ifndef CMX_F32_VBINARY_BODY_H
#define CMX_F32_VBINARY_BODY_H
#include "kernels/common/vmath.h"
#include "kernels/f32-vbinary/f32-vbinary.h"

CMX_VMATH_INLINE vf cmx_vb_add(vf a, vf b) { return vf_add(a, b); }
CMX_VMATH_INLINE vf cmx_vb_sub(vf a, vf b) { return vf_sub(a, b); }
CMX_VMATH_INLINE vf cmx_vb_mul(vf a, vf b) { return vf_mul(a, b); }
CMX_VMATH_INLINE vf cmx_vb_div(vf a, vf b) { return vf_div(a, b); }
/* NaN in either operand gives NaN; ties (+0 vs -0) give b, on every ISA
 * (MLX's a > b ? a : b, and the f64 and integer paths). */
CMX_VMATH_INLINE vf cmx_vb_max(vf a, vf b) {
  return vf_select(vm_or(vf_gt(a, b), vf_isnan(a)), a, b);
}
CMX_VMATH_INLINE vf cmx_vb_min(vf a, vf b) {
  return vf_select(vm_or(vf_lt(a, b), vf_isnan(a)), a, b);
}
CMX_VMATH_INLINE vf cmx_vb_pow(vf a, vf b) { return vm_pow(a, b); }
/* Lanes whose quotient is too large for floor(a / b) to be the integer
 * quotient (|a / b| >= 2^22, a finite, b != 0): a - b floor(a / b) is then
 * off by many b (1 % 1e-30 gave -1.8e-8), so those lanes take fmodf,
 * which is exact; cmx_vb_rem moves them into b's sign as the others.
 * Rare: a scalar pass over the vector. */
static inline vf cmx_vb_fmod_lanes(vf a, vf b, vf r, vm big) {
  float ta[VF_N], tb[VF_N], tr[VF_N], tm[VF_N];
  vf_store(ta, a);
  vf_store(tb, b);
  vf_store(tr, r);
  vf_store(tm, vf_select(big, vf_set1(1.0f), vf_zero()));
  for (int k = 0; k < VF_N; k++)
    if (tm[k] != 0) tr[k] = fmodf(ta[k], tb[k]);
  return vf_load(tr);
}

/* Python %: r = a - b floor(a/b) in one fma, moved into b's sign when the
 * quotient rounded across an integer; zero takes b's sign; b = +-inf gives a
 * (same sign or zero) or b, as numpy. a = inf, b = 0 or NaN give NaN. */
CMX_VMATH_INLINE vf cmx_vb_rem(vf a, vf b) {
  vf zero = vf_zero(), sgn = vf_set1(-0.0f);
  vf q = vf_div(a, b);
  vf r = vf_fnmadd(b, vf_floor(q), a);
  vm big = vm_and(vm_and(vf_ge(vf_abs(q), vf_set1(0x1p22f)),
                         vf_lt(vf_abs(a), vf_set1(INFINITY))),
                  vf_neq(b, zero));
  if (vm_any(big)) r = cmx_vb_fmod_lanes(a, b, r, big);
  vm flip = vm_and(vf_neq(r, zero),
                   vi_gt(vi_set1(0), vi_xor(vf_as_vi(r), vf_as_vi(b))));
  r = vf_select(flip, vf_add(r, b), r);
  vm binf = vm_and(vf_eq(vf_abs(b), vf_set1(INFINITY)),
                   vf_lt(vf_abs(a), vf_set1(INFINITY)));
  vm same = vi_gt(vi_xor(vf_as_vi(a), vf_as_vi(b)), vi_set1(-1));
  r = vf_select(binf, vf_select(vm_or(same, vf_eq(a, zero)), a, b), r);
  return vf_select(vf_eq(r, zero), vf_and(b, sgn), r);
}
CMX_VMATH_INLINE vf cmx_vb_floordiv(vf a, vf b) { return vf_floor(vf_div(a, b)); }
CMX_VMATH_INLINE vf cmx_vb_bool(vm m) {
  return vf_select(m, vf_set1(1.0f), vf_zero());
}
CMX_VMATH_INLINE vf cmx_vb_eq(vf a, vf b) { return cmx_vb_bool(vf_eq(a, b)); }
CMX_VMATH_INLINE vf cmx_vb_ne(vf a, vf b) { return cmx_vb_bool(vf_neq(a, b)); }
CMX_VMATH_INLINE vf cmx_vb_lt(vf a, vf b) { return cmx_vb_bool(vf_lt(a, b)); }
CMX_VMATH_INLINE vf cmx_vb_le(vf a, vf b) { return cmx_vb_bool(vf_le(a, b)); }
CMX_VMATH_INLINE vf cmx_vb_gt(vf a, vf b) { return cmx_vb_bool(vf_gt(a, b)); }
CMX_VMATH_INLINE vf cmx_vb_ge(vf a, vf b) { return cmx_vb_bool(vf_ge(a, b)); }
CMX_VMATH_INLINE vf cmx_vb_silu_mul(vf a, vf b) { return vf_mul(vm_silu(a), b); }
#ifdef VF_LUT32
/* silu_mul's cheap path and its test (CMX_VBINARY_DEFINE_SPLIT): the table
 * for vectors with no a lane below -17.7. */
CMX_VMATH_INLINE vf cmx_vb_silu_mul_lut(vf a, vf b) { return vf_mul(cmx_vm_silu_lut(a), b); }
CMX_VMATH_INLINE vm cmx_vb_silu_mul_tail(vf a, vf b) { return cmx_vm_sigm_tail(a); }
#endif

/* One strided loop; LA(k)/LB(k) load the operands at element k, LAN/LBN
 * the partial tail. */
#define CMX_VBINARY_LOOP(fn, LA, LB, LAN, LBN)                         \
  do {                                                                 \
    size_t i = 0;                                                      \
    for (; i + 4 * VF_N <= n; i += 4 * VF_N) {                         \
      vf r0 = fn(LA(i), LB(i));                                        \
      vf r1 = fn(LA(i + VF_N), LB(i + VF_N));                          \
      vf r2 = fn(LA(i + 2 * VF_N), LB(i + 2 * VF_N));                  \
      vf r3 = fn(LA(i + 3 * VF_N), LB(i + 3 * VF_N));                  \
      vf_store(y + i, r0);                                             \
      vf_store(y + i + VF_N, r1);                                      \
      vf_store(y + i + 2 * VF_N, r2);                                  \
      vf_store(y + i + 3 * VF_N, r3);                                  \
    }                                                                  \
    for (; i + VF_N <= n; i += VF_N) vf_store(y + i, fn(LA(i), LB(i))); \
    if (i < n) vf_store_n(y + i, fn(LAN(i), LBN(i)), n - i);           \
  } while (0)

/* As CMX_VBINARY_LOOP for an fn with a cheap path: fast(a, b) equals
 * fn(a, b) for vectors where tail(a, b) (a vm) has no lane set. The test is
 * made once per 4-vector step, so the four fast chains share one basic block
 * and interleave (as CMX_VUNARY_DEFINE_SPLIT). */
#define CMX_VBINARY_LOOP_SPLIT(fn, fast, tail, LA, LB, LAN, LBN)           \
  do {                                                                  \
    size_t i = 0;                                                       \
    for (; i + 4 * VF_N <= n; i += 4 * VF_N) {                          \
      vf a0 = LA(i), a1 = LA(i + VF_N);                                 \
      vf a2 = LA(i + 2 * VF_N), a3 = LA(i + 3 * VF_N);                  \
      vf b0 = LB(i), b1 = LB(i + VF_N);                                 \
      vf b2 = LB(i + 2 * VF_N), b3 = LB(i + 3 * VF_N);                  \
      vm t = vm_or(vm_or(tail(a0, b0), tail(a1, b1)),                   \
                   vm_or(tail(a2, b2), tail(a3, b3)));                  \
      if (__builtin_expect(!vm_any(t), 1)) {                            \
        a0 = fast(a0, b0);                                              \
        a1 = fast(a1, b1);                                              \
        a2 = fast(a2, b2);                                              \
        a3 = fast(a3, b3);                                              \
      } else {                                                          \
        a0 = fn(a0, b0);                                                \
        a1 = fn(a1, b1);                                                \
        a2 = fn(a2, b2);                                                \
        a3 = fn(a3, b3);                                                \
      }                                                                 \
      vf_store(y + i, a0);                                              \
      vf_store(y + i + VF_N, a1);                                       \
      vf_store(y + i + 2 * VF_N, a2);                                   \
      vf_store(y + i + 3 * VF_N, a3);                                   \
    }                                                                   \
    for (; i + VF_N <= n; i += VF_N) vf_store(y + i, fn(LA(i), LB(i))); \
    if (i < n) vf_store_n(y + i, fn(LAN(i), LBN(i)), n - i);            \
  } while (0)

#define CMX_VB_LDV_A(k) vf_load(a + (k))
#define CMX_VB_LDV_B(k) vf_load(b + (k))
#define CMX_VB_LDN_A(k) vf_load_n(a + (k), n - (k))
#define CMX_VB_LDN_B(k) vf_load_n(b + (k), n - (k))
#define CMX_VB_BC_A(k) va
#define CMX_VB_BC_B(k) vb

/* The four stride forms (both operands strided, a broadcast b, a
 * broadcast a, both broadcast), each running LOOP(args..., LA, LB, LAN,
 * LBN). */
#define CMX_VBINARY_FORMS(LOOP, ...)                                          \
  if (n == 0) return;                                                         \
  if (sa && sb) {                                                             \
    LOOP(__VA_ARGS__, CMX_VB_LDV_A, CMX_VB_LDV_B, CMX_VB_LDN_A, CMX_VB_LDN_B); \
  } else if (sa) {                                                            \
    vf vb = vf_set1(*b);                                                      \
    LOOP(__VA_ARGS__, CMX_VB_LDV_A, CMX_VB_BC_B, CMX_VB_LDN_A, CMX_VB_BC_B);   \
  } else if (sb) {                                                            \
    vf va = vf_set1(*a);                                                      \
    LOOP(__VA_ARGS__, CMX_VB_BC_A, CMX_VB_LDV_B, CMX_VB_BC_A, CMX_VB_LDN_B);   \
  } else {                                                                    \
    vf va = vf_set1(*a), vb = vf_set1(*b);                                    \
    LOOP(__VA_ARGS__, CMX_VB_BC_A, CMX_VB_BC_B, CMX_VB_BC_A, CMX_VB_BC_B);     \
  }

#define CMX_VBINARY_DEFINE(name, fn)                                          \
  void name(size_t n, const float *a, size_t sa, const float *b, size_t sb,   \
            float *y) {                                                       \
    CMX_VBINARY_FORMS(CMX_VBINARY_LOOP, fn)                                   \
  }

#ifdef VF_LUT32
/* CMX_VBINARY_DEFINE with the split loop of CMX_VBINARY_LOOP_SPLIT. */
#define CMX_VBINARY_DEFINE_SPLIT(name, fn, fast, tail)                        \
  void name(size_t n, const float *a, size_t sa, const float *b, size_t sb,   \
            float *y) {                                                       \
    CMX_VBINARY_FORMS(CMX_VBINARY_LOOP_SPLIT, fn, fast, tail)                 \
  }
#endif

#endif
