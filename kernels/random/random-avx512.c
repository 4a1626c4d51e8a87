/* Random fills for AVX-512 (16 lanes): the shared loop of random-body.h over
 * arch/simd-avx512.h. Contract in random.h. */
#include "arch/simd-avx512.h"
#include "kernels/random/random-body.h"

CMX_RNG_DEFINE(cmx_rng_f32_ukr__avx512)
