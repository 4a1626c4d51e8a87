/* Conversion microkernels between f32 and the 16-bit float formats, from
 * f32 to the integer types up to 32 bits and bool, and from the bytes to
 * f32.
 * Contract: y[i] = convert(x[i]) for 0 <= i < n, contiguous, n in elements.
 * f32 -> f16 / bf16 round to nearest even; NaN stays NaN (quiet), infinities
 * and signed zeros are kept; f16 overflow gives infinity. bf16 -> f32 is a
 * 16-bit shift. f32 -> int32 truncates toward zero and saturates (x >= 2^31
 * and +inf give INT32_MAX, x < -2^31 and -inf INT32_MIN), NaN gives 0, as
 * astype does for every float -> integer cast; f32 -> int8 / uint8 /
 * int16 / uint32 likewise, saturating to the type's range (x >= 2^32
 * gives UINT32_MAX; x <= 0 gives 0 for the unsigned types). f32 -> bool
 * is x != 0 on the bits (one byte, 0 or 1): NaN true, -0 false. int8 /
 * uint8 -> f32 are exact. f64 -> int32 (x double*) as f32 -> int32:
 * truncated, saturated, NaN 0. Tails handled inside the kernels. */
#ifndef CMX_CVT_H
#define CMX_CVT_H
#include <stddef.h>
#include <stdint.h>

enum cmx_cvt_op { CMX_CVT_F16_F32, CMX_CVT_F32_F16, CMX_CVT_BF16_F32,
                  CMX_CVT_F32_BF16, CMX_CVT_F32_I32, CMX_CVT_F32_BOOL,
                  CMX_CVT_F32_I8, CMX_CVT_F32_U8, CMX_CVT_F32_I16,
                  CMX_CVT_F32_U32, CMX_CVT_I8_F32, CMX_CVT_U8_F32,
                  CMX_CVT_F64_I32, CMX_CVT_COUNT };

/* x and y are uint16_t*, float* or the integer type the op names;
 * void* keeps one type. */
typedef void (*cmx_cvt_ukr_fn)(size_t n, const void *x, void *y);

#define CMX_UKR(isa, op, name) void name(size_t n, const void *x, void *y);
#include "cvt.inc"
#undef CMX_UKR

#endif
