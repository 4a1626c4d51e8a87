/* Counter-based random bits: Threefry-2x32 with 20 rounds (Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC11; the generator JAX
 * and MLX use). Element i of a stream keyed by (k0, k1) takes 32-bit word
 * i % 2 of threefry(key, counter = (i / 2 low word, i / 2 high word)), so
 * every element's bits depend only on the key and its index: the same for
 * any thread count or instruction set. Every block comes from the fill
 * microkernel (random.inc, one block a lane): f32, f16 and bf16 fills (and
 * the uint32 bits) take their values from it in float; f64 fills take its
 * words and compute their values in double (random.c). */
#ifndef CMX_RANDOM_H
#define CMX_RANDOM_H
#include <stddef.h>
#include <stdint.h>

#include "../../api/include/cmx.h"
#include "../cvt/cvt.h"

/* One Threefry-2x32-20 block: out = threefry(key, ctr), through the
 * generic fill microkernel (the known-answer tests check it here). */
void cmx_threefry2x32(const uint32_t key[2], const uint32_t ctr[2],
                      uint32_t out[2]);

enum cmx_rand_kind { CMX_RAND_BITS, CMX_RAND_UNIFORM, CMX_RAND_NORMAL };

/* The fill microkernel: n elements of the stream keyed by key into out,
 * from the first word of block b0 on, all from blocks that share the
 * counter's high word (b0 mod 2^32 + (n + 1) / 2 <= 2^32). Element t
 * takes word t % 2 of block b0 + t / 2, w (the stream's element 2 b0 + t),
 * and becomes, by kind:
 *   BITS:    w (uint32 out);
 *   UNIFORM: fmaf(u, prm[1], prm[0]) with u = (w >> 8) 2^-24 in [0, 1),
 *            and where prm[1] > 0 any value >= prm[2] is replaced by
 *            prm[3] (a, b - a, b and the float just below b);
 *   NORMAL:  fmaf(z, prm[1], prm[0]) (loc, scale), z from Box-Muller on
 *            the block's words in float: r = sqrt(-2 log u1), u1 =
 *            ((w0 >> 8) + 1) 2^-24 in (0, 1], t = 2 pi u2, u2 from w1;
 *            element 2j gets r cos t, 2j + 1 gets r sin t.
 * log, cos and sin are vmath.h's (2-4 ulp); every level gives the same
 * bits (float out). */
typedef void (*cmx_rng_ukr_fn)(const uint32_t key[2], uint64_t b0, size_t n,
                               int kind, const float prm[4], void *out);
#define CMX_UKR(isa, name)                                             \
  void name(const uint32_t key[2], uint64_t b0, size_t n, int kind,    \
            const float prm[4], void *out);
#include "random.inc"
#undef CMX_UKR

/* Fills n elements of dtype d from the stream keyed by key:
 * BITS: uint32 words; UNIFORM: a + (b - a) * u with u in [0, 1) from the top
 * 24 (f32 and narrower) or 53 (f64) bits, clamped below b after rounding;
 * NORMAL: a + b * z with z from Box-Muller on the block's two words (both
 * outputs used: element 2j takes r cos t, 2j+1 takes r sin t). f32 and
 * narrower as the microkernel above (f16/bf16 round from its f32), f64 in
 * double with libm's log, cos and sin. */
void cmx_random_fill(void *out, cmx_dtype d, size_t n,
                     enum cmx_rand_kind kind, const uint32_t key[2],
                     double a, double b, cmx_rng_ukr_fn ukr,
                     const cmx_cvt_ukr_fn *cvt, int nthreads);

#endif
