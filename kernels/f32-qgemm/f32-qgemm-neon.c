/* NEON quantised GEMM microkernels (contracts in f32-qgemm.h): the shared
 * bodies of f32-qgemm-body.h on 4 lanes, so a 16-byte chunk of W is four
 * vectors of 4 consecutive bytes (two uxtl each) and 32 registers hold the
 * same tiles as AVX-512. Checked under qemu (tests/neon-check.c), not yet
 * timed on an Arm core. The quantiser stays the reference row. */
#include "arch/simd-neon.h"
#include "kernels/f32-qgemm/f32-qgemm.h"
#include "kernels/f32-qgemm/f32-qgemm-body.h"

void cmx_f32_qdot_ukr__neon(size_t m, size_t n, size_t k, int bits, size_t gs,
                            const uint32_t *w, size_t ldw, const float *s,
                            const float *b, size_t lds, const float *xp,
                            size_t ldx, const float *xs, size_t ldxs, float *y,
                            size_t ldy) {
  qdot_body(m, n, k, bits, gs, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
}

void cmx_f32_qdeq_ukr__neon(size_t n, size_t k, int bits, size_t gs,
                            const uint32_t *w, size_t ldw, const float *s,
                            const float *b, size_t lds, float *out,
                            size_t ldo) {
  qdeq_body(n, k, bits, gs, w, ldw, s, b, lds, out, ldo);
}
