/* f32 elementwise binary microkernels.
 * Contract: y[i] = op(a[i * sa], b[i * sb]) for 0 <= i < n, with sa and sb
 * each 0 (a broadcast scalar) or 1 (contiguous); n in elements. y may equal
 * a or b exactly when that operand's stride is 1. Comparisons write 1.0f for
 * true and 0.0f for false (the driver narrows to bool). maximum/minimum
 * propagate NaN. remainder takes the sign of b (Python %), floor_divide is
 * floor(a / b). silu_mul is silu(a) * b (the SwiGLU gate in one pass).
 * Tails are handled inside the kernel. */
#ifndef CMX_F32_VBINARY_H
#define CMX_F32_VBINARY_H
#include <stddef.h>

enum cmx_vbinary_op {
  CMX_VBINARY_ADD, CMX_VBINARY_SUB, CMX_VBINARY_MUL, CMX_VBINARY_DIV,
  CMX_VBINARY_MAX, CMX_VBINARY_MIN, CMX_VBINARY_POW, CMX_VBINARY_REM,
  CMX_VBINARY_FLOORDIV, CMX_VBINARY_EQ, CMX_VBINARY_NE, CMX_VBINARY_LT,
  CMX_VBINARY_LE, CMX_VBINARY_GT, CMX_VBINARY_GE, CMX_VBINARY_SILU_MUL,
  CMX_VBINARY_COUNT
};

typedef void (*cmx_f32_vbinary_ukr_fn)(size_t n, const float *a, size_t sa,
                                       const float *b, size_t sb, float *y);

#define CMX_UKR(isa, op, name)                                              \
  void name(size_t n, const float *a, size_t sa, const float *b, size_t sb, \
            float *y);
#include "f32-vbinary.inc"
#undef CMX_UKR

#endif
