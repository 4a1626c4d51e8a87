/* bf16 softmax rows at the AVX512_BF16 level: the avx512 loops of
 * f32-softmax-body.h, results rounded two vectors at a time by
 * vcvtne2ps2bf16 (vh16.h). Contract in f32-softmax.h. */
#include "arch/simd-avx512.h"
#include "kernels/f32-softmax/f32-softmax-body.h"

CMX_SM_DEFINE_H16(cmx_bf16_softmax_ukr__avx512bf16, 1, 0)
CMX_SM_DEFINE_H16(cmx_bf16_log_softmax_ukr__avx512bf16, 1, 1)
