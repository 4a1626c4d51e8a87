/* Random fills for the portable reference (one lane): the shared loop of random-body.h over
 * arch/simd-scalar.h. Contract in random.h. */
#include "arch/simd-scalar.h"
#include "kernels/random/random-body.h"

CMX_RNG_DEFINE(cmx_rng_f32_ukr__ref)
