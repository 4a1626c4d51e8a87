/* GEMV accumulate microkernel, neon (the body in f32-gemm-gemv4-body.h), on f32 rows and on 16-bit ones. */
#include "arch/simd-neon.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/common/vh16.h"
#include "kernels/f32-gemm/f32-gemm-gemv4-body.h"

CMX_GEMV4_DEFINE(cmx_f32_gemv4_ukr__neon)
CMX_GEMV4H_DEFINE(cmx_f32_gemv4h_ukr__neon)
