/* The rope loops, written once against the vf API of arch/simd-*.h. Each
 * ISA file includes its SIMD header, defines cmx_rope_swap_pairs (lanes
 * 2k and 2k+1 exchanged: the one shuffle the traditional layout needs),
 * then includes this and defines its listed kernels as one-line calls.
 * Contract in f32-rope.h. */
#ifndef CMX_F32_ROPE_BODY_H
#define CMX_F32_ROPE_BODY_H
#include <stddef.h>
#include <stdint.h>

#include "kernels/f32-rope/f32-rope.h"

/* y[i] = x[i] for dims <= i < n. */
CMX_SIMD_INLINE void cmx_rope_copy(size_t i, size_t n, const float *x,
                                   float *y) {
  for (; i + VF_N <= n; i += VF_N) vf_store(y + i, vf_load(x + i));
  if (i < n) vf_store_n(y + i, vf_load_n(x + i, n - i), n - i);
}

CMX_SIMD_INLINE vf cmx_rope_lo(vf a, vf b, vf c, vf s) {
  return vf_fnmadd(b, s, vf_mul(a, c));
}
CMX_SIMD_INLINE vf cmx_rope_hi(vf a, vf b, vf c, vf s) {
  return vf_fmadd(a, s, vf_mul(b, c));
}

/* The main loops' stores: streamed (nt) or plain. */
#define CMX_ROPE_ST(p, v) (nt ? vf_stream(p, v) : vf_store(p, v))

/* Split halves: a = x[i..], b = x[i+h..] share the table entries c[i..].
 * nt: streaming stores where y and y + h are vector-aligned. */
CMX_SIMD_INLINE void cmx_rope_split(size_t n, size_t dims, const float *x,
                                    const float *c, const float *s,
                                    float *y, int nt) {
  const size_t h = dims / 2;
  nt = nt && (uintptr_t)y % sizeof(vf) == 0 && h % VF_N == 0;
  size_t i = 0;
  for (; i + 2 * VF_N <= h; i += 2 * VF_N) {
    vf a0 = vf_load(x + i), a1 = vf_load(x + i + VF_N);
    vf b0 = vf_load(x + h + i), b1 = vf_load(x + h + i + VF_N);
    vf c0 = vf_load(c + i), c1 = vf_load(c + i + VF_N);
    vf s0 = vf_load(s + i), s1 = vf_load(s + i + VF_N);
    CMX_ROPE_ST(y + i, cmx_rope_lo(a0, b0, c0, s0));
    CMX_ROPE_ST(y + i + VF_N, cmx_rope_lo(a1, b1, c1, s1));
    CMX_ROPE_ST(y + h + i, cmx_rope_hi(a0, b0, c0, s0));
    CMX_ROPE_ST(y + h + i + VF_N, cmx_rope_hi(a1, b1, c1, s1));
  }
  for (; i < h; i += VF_N) {
    size_t k = h - i < VF_N ? h - i : VF_N;
    vf a = vf_load_n(x + i, k), b = vf_load_n(x + h + i, k);
    vf cc = vf_load_n(c + i, k), ss = vf_load_n(s + i, k);
    vf lo = cmx_rope_lo(a, b, cc, ss), hi = cmx_rope_hi(a, b, cc, ss);
    if (k == VF_N) {
      vf_store(y + i, lo);
      vf_store(y + h + i, hi);
    } else {
      vf_store_n(y + i, lo, k);
      vf_store_n(y + h + i, hi, k);
    }
  }
  cmx_rope_copy(dims, n, x, y);
}

/* Adjacent pairs: y = x c + swap_pairs(x) s over the interleaved table.
 * Vector boundaries fall on even indexes, so no pair is ever split. nt:
 * streaming stores where y is vector-aligned. */
CMX_SIMD_INLINE void cmx_rope_trad(size_t n, size_t dims, const float *x,
                                   const float *c, const float *s, float *y,
                                   int nt) {
  nt = nt && (uintptr_t)y % sizeof(vf) == 0;
  size_t i = 0;
  for (; i + 2 * VF_N <= dims; i += 2 * VF_N) {
    vf v0 = vf_load(x + i), v1 = vf_load(x + i + VF_N);
    vf r0 = vf_fmadd(cmx_rope_swap_pairs(v0), vf_load(s + i),
                     vf_mul(v0, vf_load(c + i)));
    vf r1 = vf_fmadd(cmx_rope_swap_pairs(v1), vf_load(s + i + VF_N),
                     vf_mul(v1, vf_load(c + i + VF_N)));
    CMX_ROPE_ST(y + i, r0);
    CMX_ROPE_ST(y + i + VF_N, r1);
  }
  for (; i < dims; i += VF_N) {
    size_t k = dims - i < VF_N ? dims - i : VF_N;
    vf v = vf_load_n(x + i, k);
    vf r = vf_fmadd(cmx_rope_swap_pairs(v), vf_load_n(s + i, k),
                    vf_mul(v, vf_load_n(c + i, k)));
    vf_store_n(y + i, r, k);
  }
  cmx_rope_copy(dims, n, x, y);
}

/* A listed kernel: one of the loops above with nt fixed. */
#define CMX_ROPE_DEFINE(name, loop, nt)                                   \
  void name(size_t n, size_t dims, const float *x, const float *c,       \
            const float *s, float *y) {                                  \
    loop(n, dims, x, c, s, y, nt);                                       \
  }

#endif
