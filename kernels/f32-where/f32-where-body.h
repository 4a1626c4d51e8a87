/* The f32 select loop, written once against the vf/vm API of
 * arch/simd-*.h and included by each ISA file after its SIMD header.
 * Contract in f32-where.h: strides 0 (broadcast) or 1 (contiguous). */
#ifndef CMX_F32_WHERE_BODY_H
#define CMX_F32_WHERE_BODY_H
#include <stddef.h>
#include <stdint.h>

/* y = v (contiguous, sv == 1) or y = v[0] everywhere (sv == 0): a condition
 * given as one byte picks one source for the whole range. */
CMX_SIMD_INLINE void cmx_wh_copy(size_t n, const float *v, size_t sv,
                                 float *y) {
  const vf b = vf_set1(v[0]);
  size_t i = 0;
  for (; i + VF_N <= n; i += VF_N) vf_store(y + i, sv ? vf_load(v + i) : b);
  if (i < n) vf_store_n(y + i, sv ? vf_load_n(v + i, n - i) : b, n - i);
}

/* Contiguous condition. Called with constant sa/sb so the compiler emits
 * one loop per stride pair with no test inside. */
CMX_SIMD_INLINE void cmx_wh_select(size_t n, const uint8_t *c, const float *a,
                                   const size_t sa, const float *b,
                                   const size_t sb, float *y) {
  const vf ab = vf_set1(a[0]), bb = vf_set1(b[0]);
  size_t i = 0;
  for (; i + VF_N <= n; i += VF_N) {
    vf va = sa ? vf_load(a + i) : ab, vb = sb ? vf_load(b + i) : bb;
    vf_store(y + i, vf_select(vm_from_u8(c + i), vf_reg(va), vf_reg(vb)));
  }
  if (i < n) {
    const size_t t = n - i;
    vf va = sa ? vf_load_n(a + i, t) : ab, vb = sb ? vf_load_n(b + i, t) : bb;
    vf_store_n(y + i, vf_select(vm_from_u8_n(c + i, t), va, vb), t);
  }
}

CMX_SIMD_INLINE void cmx_wh_where(size_t n, const uint8_t *c, size_t sc,
                                  const float *a, size_t sa, const float *b,
                                  size_t sb, float *y) {
  if (n == 0) return;
  if (sc == 0) {
    if (c[0])
      cmx_wh_copy(n, a, sa, y);
    else
      cmx_wh_copy(n, b, sb, y);
  } else if (sa && sb) {
    cmx_wh_select(n, c, a, 1, b, 1, y);
  } else if (sa) {
    cmx_wh_select(n, c, a, 1, b, 0, y);
  } else if (sb) {
    cmx_wh_select(n, c, a, 0, b, 1, y);
  } else {
    cmx_wh_select(n, c, a, 0, b, 0, y);
  }
}

#endif
