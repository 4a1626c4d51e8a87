/* bf16 layer_norm / rms_norm rows at the AVX512_BF16 level: the avx512
 * loops of f32-norm-body.h, each row pair's results rounded together by
 * vcvtne2ps2bf16 (vh16.h). Contract in f32-norm.h. */
#include "arch/simd-avx512.h"
#include "kernels/f32-norm/f32-norm-body.h"

CMX_NM_DEFINE_H16(cmx_bf16_layer_norm_ukr__avx512bf16, 1, 0)
CMX_NM_DEFINE_H16(cmx_bf16_rms_norm_ukr__avx512bf16, 1, 1)
