/* Dispatch table for the NEON level: starts from the level below and fills
 * the slots listed for CMX_ISA_NEON in each family's .inc file. */
#include "dispatch.h"

void cmx_dispatch_init_arm_neon(struct cmx_dispatch *t) {
  cmx_dispatch_init_generic(t);
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_ISA_NEON) t->f32_vunary[op] = name;
#include "../kernels/f32-vunary/f32-vunary.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_ISA_NEON) t->f32_vbinary[op] = name;
#include "../kernels/f32-vbinary/f32-vbinary.inc"
#undef CMX_UKR
#define CMX_UKR(isa, name) \
  if (isa == CMX_ISA_NEON) t->f32_where = name;
#include "../kernels/f32-where/f32-where.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_ISA_NEON) t->cvt[op] = name;
#include "../kernels/cvt/cvt.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_ISA_NEON) t->f32_softmax[op] = name;
#include "../kernels/f32-softmax/f32-softmax.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_ISA_NEON) t->f32_norm[op] = name;
#include "../kernels/f32-norm/f32-norm.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_ISA_NEON) t->f32_rope[op] = name;
#include "../kernels/f32-rope/f32-rope.inc"
#undef CMX_UKR
#define CMX_UKR(isa, name, edge) \
  if (isa == CMX_ISA_NEON) t->x32_transpose = \
      (struct cmx_transpose_config){.ukr = name, .tile = edge};
#include "../kernels/x32-transpose/x32-transpose.inc"
#undef CMX_UKR
#define CMX_UKR(isa, name) \
  if (isa == CMX_ISA_NEON) t->x32_stream = name;
#include "../kernels/x32-stream/x32-stream.inc"
#undef CMX_UKR
#define CMX_RINNER(isa, rop, name) \
  if (isa == CMX_ISA_NEON) t->f32_rinner[rop] = name;
#define CMX_ROUTER(isa, rop, name) \
  if (isa == CMX_ISA_NEON) t->f32_router[rop] = name;
#define CMX_RSUMSQDEV(isa, name) \
  if (isa == CMX_ISA_NEON) t->f32_rsumsqdev = name;
#define CMX_RSUMEXP(isa, name) \
  if (isa == CMX_ISA_NEON) t->f32_rsumexp = name;
#define CMX_RARGMAX(isa, name) \
  if (isa == CMX_ISA_NEON) t->f32_rargmax = name;
#define CMX_RARGMIN(isa, name) \
  if (isa == CMX_ISA_NEON) t->f32_rargmin = name;
#include "../kernels/f32-reduce/f32-reduce.inc"
#undef CMX_RINNER
#undef CMX_ROUTER
#undef CMX_RSUMSQDEV
#undef CMX_RSUMEXP
#undef CMX_RARGMAX
#undef CMX_RARGMIN
  /* KC = 256: the 256 x 12 B micro-panel is 12 KiB of a 32+ KiB L1d. */
  t->gemm_f32 = (struct cmx_gemm_config){
      .ukr = cmx_f32_gemm_ukr_8x12__neon, .mr = 8, .nr = 12, .mc = 0,
      .kc = 256, .nc = 0};
}
