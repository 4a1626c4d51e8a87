/* AVX2 quantised GEMM microkernels (contracts in f32-qgemm.h): the shared
 * bodies of f32-qgemm-body.h on 8 lanes, so a 16-byte chunk of W is two
 * vectors of 8 consecutive bytes (vpmovzxbd) and rows of x past four run
 * as a second block (16 ymm registers). */
#include "arch/simd-avx2.h"
#include "kernels/f32-qgemm/f32-qgemm.h"
#include "kernels/f32-qgemm/f32-qgemm-body.h"

void cmx_f32_qdot_ukr__avx2(size_t m, size_t n, size_t k, int bits, size_t gs,
                            const uint32_t *w, size_t ldw, const float *s,
                            const float *b, size_t lds, const float *xp,
                            size_t ldx, const float *xs, size_t ldxs, float *y,
                            size_t ldy) {
  qdot_body(m, n, k, bits, gs, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
}

void cmx_f32_qdeq_ukr__avx2(size_t n, size_t k, int bits, size_t gs,
                            const uint32_t *w, size_t ldw, const float *s,
                            const float *b, size_t lds, float *out,
                            size_t ldo) {
  qdeq_body(n, k, bits, gs, w, ldw, s, b, lds, out, ldo);
}
