/* Fills the slots of a dispatch table from every family's .inc list:
 * the rows whose ISA is CMX_LEVEL. Included inside each table filler in
 * arch/ (generic.c, x86-avx2.c, x86-avx512.c, arm-neon.c) with CMX_LEVEL
 * defined and t the table; a new family adds its block here once. */
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_LEVEL) t->f32_vunary[op] = name;
#include "../kernels/f32-vunary/f32-vunary.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_LEVEL) t->f64_vunary[op] = name;
#include "../kernels/f64-vunary/f64-vunary.inc"
#undef CMX_UKR
#define CMX_UKR(isa, name) \
  if (isa == CMX_LEVEL) t->f64_softmax = name;
#include "../kernels/f64-vunary/f64-softmax.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_LEVEL) t->f32_vbinary[op] = name;
#include "../kernels/f32-vbinary/f32-vbinary.inc"
#undef CMX_UKR
#define CMX_UKR(isa, name) \
  if (isa == CMX_LEVEL) t->f32_where = name;
#include "../kernels/f32-where/f32-where.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_LEVEL) t->cvt[op] = name;
#include "../kernels/cvt/cvt.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_LEVEL) t->f32_softmax[op] = name;
#include "../kernels/f32-softmax/f32-softmax.inc"
#undef CMX_UKR
#define CMX_UKR(isa, name) \
  if (isa == CMX_LEVEL) t->f32_softmax_fold = name;
#include "../kernels/f32-softmax/f32-softmax-fold.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_LEVEL) t->h16_softmax[op] = name;
#include "../kernels/f32-softmax/h16-softmax.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_LEVEL) t->f32_norm[op] = name;
#include "../kernels/f32-norm/f32-norm.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_LEVEL) t->h16_norm[op] = name;
#include "../kernels/f32-norm/h16-norm.inc"
#undef CMX_UKR
#define CMX_UKR(isa, op, name) \
  if (isa == CMX_LEVEL) t->f32_rope[op] = name;
#include "../kernels/f32-rope/f32-rope.inc"
#undef CMX_UKR
#define CMX_UKR(isa, name, edge) \
  if (isa == CMX_LEVEL) t->x32_transpose = (struct cmx_transpose_config){ \
      .ukr = name, .tile = edge, \
      .half = 2 * t->x32_transpose.tile == edge ? t->x32_transpose.ukr : NULL};
#include "../kernels/x32-transpose/x32-transpose.inc"
#undef CMX_UKR
#define CMX_UKR(isa, name) \
  if (isa == CMX_LEVEL) t->x32_stream = name;
#include "../kernels/x32-stream/x32-stream.inc"
#undef CMX_UKR
#define CMX_RINNER16(isa, type, rop, name) \
  if (isa == CMX_LEVEL) t->h16_rinner[type][rop] = name;
#define CMX_ROUTER16(isa, type, rop, name) \
  if (isa == CMX_LEVEL) t->h16_router[type][rop] = name;
#include "../kernels/f32-reduce/h16-reduce.inc"
#undef CMX_RINNER16
#undef CMX_ROUTER16
#define CMX_UKR(isa, name) \
  if (isa == CMX_LEVEL) t->rng = name;
#include "../kernels/random/random.inc"
#undef CMX_UKR
#define CMX_UKR(isa, name) \
  if (isa == CMX_LEVEL) t->f32_dwconv = name;
#include "../kernels/f32-dwconv/f32-dwconv.inc"
#undef CMX_UKR
#define CMX_QDOT(isa, name) \
  if (isa == CMX_LEVEL) t->qgemm.qdot = name;
#define CMX_QDEQ(isa, name) \
  if (isa == CMX_LEVEL) t->qgemm.qdeq = name;
#define CMX_QUANT(isa, name) \
  if (isa == CMX_LEVEL) t->qgemm.quant = name;
#include "../kernels/f32-qgemm/f32-qgemm.inc"
#undef CMX_QDOT
#undef CMX_QDEQ
#undef CMX_QUANT
#define CMX_RINNER(isa, rop, name) \
  if (isa == CMX_LEVEL) t->f32_rinner[rop] = name;
#define CMX_ROUTER(isa, rop, name) \
  if (isa == CMX_LEVEL) t->f32_router[rop] = name;
#define CMX_RSUMSQDEV(isa, name) \
  if (isa == CMX_LEVEL) t->f32_rsumsqdev = name;
#define CMX_RSUMEXP(isa, name) \
  if (isa == CMX_LEVEL) t->f32_rsumexp = name;
#define CMX_RARGMAX(isa, name) \
  if (isa == CMX_LEVEL) t->f32_rargmax = name;
#define CMX_RARGMIN(isa, name) \
  if (isa == CMX_LEVEL) t->f32_rargmin = name;
#include "../kernels/f32-reduce/f32-reduce.inc"
#undef CMX_RINNER
#undef CMX_ROUTER
#undef CMX_RSUMSQDEV
#undef CMX_RSUMEXP
#undef CMX_RARGMAX
#undef CMX_RARGMIN
