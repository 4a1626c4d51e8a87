/* f32 elementwise unary microkernels.
 * Contract: y[i] = op(x[i]) for 0 <= i < n, x and y contiguous float32,
 * n >= 0 elements (not bytes); y may equal x exactly (in place), no other
 * overlap. No alignment required. Tails are handled inside the kernel with
 * masked or partial loads, never by reading or writing past n.
 * Transcendentals use the polynomials of kernels/common/vmath.h; their error
 * bounds (ulp, against float64 libm) are listed there and asserted by
 * tests/test-vmath.c. */
#ifndef CMX_F32_VUNARY_H
#define CMX_F32_VUNARY_H
#include <stddef.h>

enum cmx_vunary_op {
  CMX_VUNARY_ABS, CMX_VUNARY_NEG, CMX_VUNARY_SIGN, CMX_VUNARY_EXP,
  CMX_VUNARY_EXPM1, CMX_VUNARY_LOG, CMX_VUNARY_LOG1P, CMX_VUNARY_SQRT,
  CMX_VUNARY_RSQRT, CMX_VUNARY_SQUARE, CMX_VUNARY_RECIPROCAL, CMX_VUNARY_SIN,
  CMX_VUNARY_COS, CMX_VUNARY_TANH, CMX_VUNARY_SIGMOID, CMX_VUNARY_ERF,
  CMX_VUNARY_GELU, CMX_VUNARY_GELU_TANH, CMX_VUNARY_SILU, CMX_VUNARY_RELU,
  CMX_VUNARY_FLOOR, CMX_VUNARY_CEIL, CMX_VUNARY_ROUND, CMX_VUNARY_SOFTPLUS,
  CMX_VUNARY_COUNT
};

typedef void (*cmx_f32_vunary_ukr_fn)(size_t n, const float *x, float *y);

/* Prototypes of every listed kernel. */
#define CMX_UKR(isa, op, name) void name(size_t n, const float *x, float *y);
#include "f32-vunary.inc"
#undef CMX_UKR

#endif
