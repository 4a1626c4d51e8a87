/* Dispatch table for the AVX512 level: starts from the level below and fills
 * the slots listed for CMX_ISA_AVX512 in each family's .inc file. */
#include "dispatch.h"

void cmx_dispatch_init_x86_avx512(struct cmx_dispatch *t) {
  cmx_dispatch_init_x86_avx2(t);
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_ISA_AVX512) t->f32_vunary[op] = name;
#include "../kernels/f32-vunary/f32-vunary.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_ISA_AVX512) t->f32_vbinary[op] = name;
#include "../kernels/f32-vbinary/f32-vbinary.inc"
#undef CMX_UKR
#define CMX_UKR(isa, name) \
  if (isa == CMX_ISA_AVX512) t->f32_where = name;
#include "../kernels/f32-where/f32-where.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_ISA_AVX512) t->cvt[op] = name;
#include "../kernels/cvt/cvt.inc"
#undef CMX_UKR
#define CMX_RINNER(isa, rop, name) \
  if (isa == CMX_ISA_AVX512) t->f32_rinner[rop] = name;
#define CMX_ROUTER(isa, rop, name) \
  if (isa == CMX_ISA_AVX512) t->f32_router[rop] = name;
#define CMX_RSUMSQDEV(isa, name) \
  if (isa == CMX_ISA_AVX512) t->f32_rsumsqdev = name;
#define CMX_RSUMEXP(isa, name) \
  if (isa == CMX_ISA_AVX512) t->f32_rsumexp = name;
#define CMX_RARGMAX(isa, name) \
  if (isa == CMX_ISA_AVX512) t->f32_rargmax = name;
#define CMX_RARGMIN(isa, name) \
  if (isa == CMX_ISA_AVX512) t->f32_rargmin = name;
#include "../kernels/f32-reduce/f32-reduce.inc"
#undef CMX_RINNER
#undef CMX_ROUTER
#undef CMX_RSUMSQDEV
#undef CMX_RSUMEXP
#undef CMX_RARGMAX
#undef CMX_RARGMIN
}
