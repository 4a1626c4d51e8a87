/* Random fills for AVX2 + FMA (8 lanes): the shared loop of random-body.h over
 * arch/simd-avx2.h. Contract in random.h. */
#include "arch/simd-avx2.h"
#include "kernels/random/random-body.h"

CMX_RNG_DEFINE(cmx_rng_f32_ukr__avx2)
