/* AVX2 quantised GEMM microkernels (contracts in f32-qgemm.h): the shared
 * bodies of f32-qgemm-body.h on 8 lanes, so a 16-byte chunk of W is two
 * vectors of 8 consecutive bytes (vpmovzxbd) and rows of x past four run
 * as a second block (16 ymm registers). */
#include "arch/simd-avx2.h"
#include "kernels/f32-qgemm/f32-qgemm.h"
#include "kernels/f32-qgemm/f32-qgemm-body.h"

QG_DEFINE_QDOT(cmx_f32_qdot_ukr__avx2)
QG_DEFINE_QDEQ(cmx_f32_qdeq_ukr__avx2)
