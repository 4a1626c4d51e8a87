/* f32 rope for AArch64 NEON (4 lanes): the shared loops of f32-rope-body.h
 * over arch/simd-neon.h. Contract in f32-rope.h. */
#include "arch/simd-neon.h"

CMX_SIMD_INLINE vf cmx_rope_swap_pairs(vf v) {
  return vrev64q_f32(v);
}

#include "kernels/f32-rope/f32-rope-body.h"

CMX_ROPE_DEFINE(cmx_f32_rope_ukr__neon, cmx_rope_split, 0)
CMX_ROPE_DEFINE(cmx_f32_rope_trad_ukr__neon, cmx_rope_trad, 0)
