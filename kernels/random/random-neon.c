/* Random fills for AArch64 NEON (4 lanes): the shared loop of random-body.h over
 * arch/simd-neon.h. Contract in random.h. */
#include "arch/simd-neon.h"
#include "kernels/random/random-body.h"

CMX_RNG_DEFINE(cmx_rng_f32_ukr__neon)
