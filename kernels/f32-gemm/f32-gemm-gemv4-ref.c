/* GEMV accumulate microkernel, ref (the body in f32-gemm-gemv4-body.h). */
#include "arch/simd-scalar.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-gemm/f32-gemm-gemv4-body.h"

CMX_GEMV4_DEFINE(cmx_f32_gemv4_ukr__ref)
