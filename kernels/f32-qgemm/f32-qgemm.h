/* Quantised GEMM in MLX's affine group-wise format: f32 activations times
 * weights of 2, 4 or 8 bits, packed into uint32 words, with one f32 scale
 * and bias per group of gs (32, 64 or 128) consecutive elements.
 *
 * Packing (every kernel, sizes in ELEMENTS unless named words or bytes):
 *   a row of k elements is k * bits / 32 words; element c is bits
 *   [bits * (c % epw), bits * (c % epw) + bits) of word c / epw, epw =
 *   32 / bits (little end first, so on the little-endian targets byte
 *   c * bits / 8 holds it at bit (c * bits) % 8). Its value is
 *   w = s[g] * q + b[g], g = c / gs.
 *
 * qdot microkernel contract (CMX_QDOT rows; the decode path): for i < m
 * (1..8), j < n,
 *   y[i * ldy + j] = sum_g s(j, g) * sum_{c in g} X(i, c) q(j, c)
 *                    + b(j, g) * xs[i * ldxs + g]
 *   with s(j, g) = s[j * lds + g], b likewise, row j of W at w + j * ldw
 *   (words), k a multiple of gs, and xs[i][g] the sum of group g of row i
 *   of x. X is given in the chunk-permuted layout of cmx_qgemm_xpos: row i
 *   at xp + i * ldx, element c at xp[i * ldx + cmx_qgemm_xpos(c, ...)]. The
 *   permutation makes the lanes of a vector of unpacked codes line up with
 *   consecutive x: a chunk is C = min(16, gs * bits / 8) bytes of W (E = C
 *   * 8 / bits elements); its byte t, field f (f < 8 / bits) pairs with
 *   position f * C + t of the chunk in xp. W streams once; x, xs and the
 *   outputs stay in L1. Each y is its own sum in a fixed order (group by
 *   group, then the bias terms), so it does not depend on n, on j's
 *   position or on the thread that computes it.
 *
 * qdeq microkernel contract (CMX_QDEQ rows; the prefill path and
 * cmx_dequantize): for j < n, c < k (k a multiple of gs),
 *   out[j * ldo + c] = s(j, c / gs) * q(j, c) + b(j, c / gs)
 *   rounded to f32 (kernels may fuse the multiply-add: within one rounding
 *   of the reference), W, s and b addressed as for qdot.
 *
 * quant microkernel contract (CMX_QUANT rows; cmx_quantize): for ng groups
 * of gs contiguous f32 in w, MLX's affine quantisation (mlx/backend/cpu/
 * quantized.cpp): scale = max((max - min) / (2^bits - 1), 1e-7f), negated
 * unless |min| > |max|; edge = min or max accordingly, q0 = rint(edge /
 * scale), and when q0 != 0 scale = edge / q0, bias = edge (else bias 0),
 * so that the edge (and often 0) is exact; codes rint((w - bias) / scale)
 * clamped to [0, 2^bits - 1], all in f32 arithmetic, no contraction; a
 * NaN code (a NaN weight, or any code of a group holding an infinity)
 * stores 0.
 * Writes wq (gs * bits / 32 words a group), s and b where non-NULL.
 *
 * Microkernels are leaves: no allocation, no threads, no errors.
 *
 * Rows: the reference; qdot and qdeq for AVX2, AVX-512 and NEON, one body
 * (f32-qgemm-body.h) over arch/simd-*.h. The quantiser is the reference
 * row on every level: its per-group min / max, divisions and rintf are
 * run once per weight load, not per inference, and were not vectorised. */
#ifndef CMX_F32_QGEMM_H
#define CMX_F32_QGEMM_H
#include <stddef.h>
#include <stdint.h>

#include "kernels/cvt/cvt.h"
#include "kernels/f32-gemm/f32-gemm.h"

/* Bytes of W in one chunk of the qdot layout. */
static inline size_t cmx_qgemm_chunk(int bits, size_t gs) {
  size_t g = gs * (size_t)bits / 8;
  return g < 16 ? g : 16;
}
/* Position of element c of a row of x in the qdot layout. */
static inline size_t cmx_qgemm_xpos(size_t c, int bits, size_t gs) {
  size_t C = cmx_qgemm_chunk(bits, gs), e = 8 / (size_t)bits, E = C * e;
  size_t o = c % E;
  return c - o + (o % e) * C + o / e;
}

typedef void (*cmx_f32_qdot_ukr_fn)(size_t m, size_t n, size_t k, int bits,
                                    size_t gs, const uint32_t *w, size_t ldw,
                                    const float *s, const float *b, size_t lds,
                                    const float *xp, size_t ldx,
                                    const float *xs, size_t ldxs, float *y,
                                    size_t ldy);
typedef void (*cmx_f32_qdeq_ukr_fn)(size_t n, size_t k, int bits, size_t gs,
                                    const uint32_t *w, size_t ldw,
                                    const float *s, const float *b, size_t lds,
                                    float *out, size_t ldo);
typedef void (*cmx_f32_quant_ukr_fn)(size_t ng, size_t gs, int bits,
                                     const float *w, uint32_t *wq, float *s,
                                     float *b);

#define CMX_QDOT(isa, name)                                                    \
  void name(size_t m, size_t n, size_t k, int bits, size_t gs,                 \
            const uint32_t *w, size_t ldw, const float *s, const float *b,     \
            size_t lds, const float *xp, size_t ldx, const float *xs,          \
            size_t ldxs, float *y, size_t ldy);
#define CMX_QDEQ(isa, name)                                                    \
  void name(size_t n, size_t k, int bits, size_t gs, const uint32_t *w,        \
            size_t ldw, const float *s, const float *b, size_t lds,            \
            float *out, size_t ldo);
#define CMX_QUANT(isa, name)                                                   \
  void name(size_t ng, size_t gs, int bits, const float *w, uint32_t *wq,      \
            float *s, float *b);
#include "f32-qgemm.inc"
#undef CMX_QDOT
#undef CMX_QDEQ
#undef CMX_QUANT

/* What arch/ hands the driver. */
struct cmx_qgemm_config {
  cmx_f32_qdot_ukr_fn qdot;
  cmx_f32_qdeq_ukr_fn qdeq;
  cmx_f32_quant_ukr_fn quant;
};

/* ---- the driver (f32-qgemm.c) ---- */
/* y[t] (m x n f32, row-major, batch stride m * n) = x[t] (m x k) times
 * dequant(W[t])^T (transpose: W is n x k, packed along k) or dequant(W[t])
 * (W is k x n, packed along n), for t < batch. W's rows are ldw words
 * apart, at word wboff[t] (NULL: 0 for every t, one W for all batches);
 * s and b (dtype sdt, f32 / f16 / bf16) rows lds groups apart at element
 * sboff[t]. x is any strided f32 / f16 / bf16 view (boff per batch). */
struct cmx_qgemm_problem {
  size_t batch, m, n, k;
  int bits, transpose;
  size_t gs;
  struct cmx_gemm_operand x;
  const uint32_t *w;
  size_t ldw;
  const int64_t *wboff;
  const void *s, *b;
  enum cmx_gemm_dtype sdt;
  size_t lds;
  const int64_t *sboff;
  float *y;
  cmx_cvt_ukr_fn cvt_f16, cvt_bf16; /* f16 -> f32, bf16 -> f32 */
};

/* Runs the problem on up to nthreads threads of the calling worker's team:
 * the qdot kernel streaming W once when x has at most CMX_QDOT_MAX_ROWS
 * rows (transpose only), else W dequantised slab by slab (KC deep, at most
 * CMX_QGEMM_NC rows) into an f32 panel that the f32 GEMM driver multiplies.
 * Work is split over n (qdot) or by the GEMM driver (never over k), so
 * results do not depend on nthreads. Returns 0, or -1 without memory. */
/* 64: 4096 x 4096 4-bit g64 on one Zen 5 core (AVX-512), qdot against the
 * slabs: m 16 4.3 against 12.7 ms, m 64 16.8 ms (qdot) against m 65 18.7
 * ms (slabs); m 512 runs the slabs at 221 GFLOP/s. */
#define CMX_QDOT_MAX_ROWS 64
#define CMX_QGEMM_NC 4096
int cmx_f32_qgemm(const struct cmx_qgemm_config *q,
                  const struct cmx_gemm_config *g,
                  const struct cmx_qgemm_problem *p, int nthreads);

/* Dequantises rows x k elements (rows of ldw words, s / b of dtype sdt with
 * lds groups a row) into out (f32, row stride k) across the team. -1
 * without memory. */
int cmx_f32_qdequant(const struct cmx_qgemm_config *q, size_t rows, size_t k,
                     int bits, size_t gs, const uint32_t *w, size_t ldw,
                     const void *s, const void *b, enum cmx_gemm_dtype sdt,
                     size_t lds, cmx_cvt_ukr_fn cvt_f16,
                     cmx_cvt_ukr_fn cvt_bf16, float *out, int nthreads);

/* Quantises rows x k contiguous f32 (k a multiple of gs) across the team:
 * wq (k * bits / 32 words a row), s and b (f32, k / gs a row) where
 * non-NULL. */
void cmx_f32_quantize(const struct cmx_qgemm_config *q, size_t rows, size_t k,
                      size_t gs, int bits, const float *w, uint32_t *wq,
                      float *s, float *b, int nthreads);

#endif
