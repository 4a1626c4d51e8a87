/* Row-accumulate microkernel, avx2 (the body in f32-gemm-rowacc-body.h), on f32 rows and on 16-bit ones. */
#include "arch/simd-avx2.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/common/vh16.h"
#include "kernels/f32-gemm/f32-gemm-rowacc-body.h"

CMX_ROWACC_DEFINE(cmx_f32_rowacc_ukr__avx2)
CMX_ROWACCH_DEFINE(cmx_f32_rowacch_ukr__avx2)
