/* Counter-based random bits: Threefry-2x32 with 20 rounds (Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC11; the generator JAX
 * and MLX use). Element i of a stream keyed by (k0, k1) takes 32-bit word
 * i % 2 of threefry(key, counter = (i / 2 low word, i / 2 high word)), so
 * every element's bits depend only on the key and its index: the same for
 * any thread count or instruction set. The fill computes four blocks at a
 * time in 128-bit vectors (the baseline vector unit of x86-64 and AArch64:
 * no dispatch); one block is ~20 adds, rotates and xors per two words, and
 * Box-Muller's log/cos dominate normal. */
#ifndef CMX_RANDOM_H
#define CMX_RANDOM_H
#include <stddef.h>
#include <stdint.h>

#include "../../api/include/cmx.h"
#include "../cvt/cvt.h"

/* One Threefry-2x32-20 block: out = threefry(key, ctr). */
void cmx_threefry2x32(const uint32_t key[2], const uint32_t ctr[2],
                      uint32_t out[2]);

enum cmx_rand_kind { CMX_RAND_BITS, CMX_RAND_UNIFORM, CMX_RAND_NORMAL };

/* Fills n elements of dtype d from the stream keyed by key:
 * BITS: uint32 words; UNIFORM: a + (b - a) * u with u in [0, 1) from the top
 * 24 (f32 and narrower) or 53 (f64) bits, clamped below b after rounding;
 * NORMAL: a + b * z with z from Box-Muller on the block's two words (both
 * outputs used: element 2j takes r cos t, 2j+1 takes r sin t). f16/bf16
 * round from f32. */
void cmx_random_fill(void *out, cmx_dtype d, size_t n,
                     enum cmx_rand_kind kind, const uint32_t key[2],
                     double a, double b, const cmx_cvt_ukr_fn *cvt,
                     int nthreads);

#endif
