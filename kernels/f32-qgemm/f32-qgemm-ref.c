/* Reference quantised GEMM microkernels (contracts in f32-qgemm.h): the
 * portable qdot, qdeq and the only quantiser, MLX's affine algorithm in
 * f32 arithmetic. This file is built without FMA flags, so nothing here is
 * contracted and the quantiser's codes are those of the formula. */
#include <math.h>

#include "kernels/f32-qgemm/f32-qgemm.h"

/* Code of element c of the row at w. */
static inline unsigned code_at(const uint32_t *w, size_t c, int bits) {
  size_t epw = 32 / (size_t)bits;
  return (w[c / epw] >> (bits * (c % epw))) & ((1u << bits) - 1);
}

void cmx_f32_qdot_ukr__ref(size_t m, size_t n, size_t k, int bits, size_t gs,
                           const uint32_t *w, size_t ldw, const float *s,
                           const float *b, size_t lds, const float *xp,
                           size_t ldx, const float *xs, size_t ldxs, float *y,
                           size_t ldy) {
  const size_t ng = k / gs;
  for (size_t j = 0; j < n; j++) {
    const uint32_t *wj = w + j * ldw;
    for (size_t i = 0; i < m; i++) {
      float acc = 0.0f;
      for (size_t g = 0; g < ng; g++) {
        float d = 0.0f;
        for (size_t c = g * gs; c < (g + 1) * gs; c++)
          d += xp[i * ldx + cmx_qgemm_xpos(c, bits, gs)] *
               (float)code_at(wj, c, bits);
        acc += s[j * lds + g] * d;
      }
      for (size_t g = 0; g < ng; g++)
        acc += b[j * lds + g] * xs[i * ldxs + g];
      y[i * ldy + j] = acc;
    }
  }
}

void cmx_f32_qdeq_ukr__ref(size_t n, size_t k, int bits, size_t gs,
                           const uint32_t *w, size_t ldw, const float *s,
                           const float *b, size_t lds, float *out, size_t ldo) {
  for (size_t j = 0; j < n; j++)
    for (size_t c = 0; c < k; c++)
      out[j * ldo + c] =
          s[j * lds + c / gs] * (float)code_at(w + j * ldw, c, bits) +
          b[j * lds + c / gs];
}

void cmx_f32_quant_ukr__ref(size_t ng, size_t gs, int bits, const float *w,
                            uint32_t *wq, float *s, float *b) {
  const float n_bins = (float)((1u << bits) - 1), eps = 1e-7f;
  const size_t epw = 32 / (size_t)bits;
  for (size_t g = 0; g < ng; g++) {
    const float *x = w + g * gs;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t c = 0; c < gs; c++) {
      hi = x[c] > hi ? x[c] : hi; /* std::max / std::min's order */
      lo = x[c] < lo ? x[c] : lo;
    }
    int mask = fabsf(lo) > fabsf(hi);
    float scale = (hi - lo) / n_bins;
    scale = scale > eps ? scale : eps;
    scale = mask ? scale : -scale;
    float edge = mask ? lo : hi, q0 = rintf(edge / scale), bias = 0.0f;
    if (q0 != 0.0f) {
      scale = edge / q0;
      bias = edge;
    }
    if (s)
      s[g] = scale;
    if (b)
      b[g] = bias;
    if (!wq)
      continue;
    for (size_t u = 0; u < gs / epw; u++) {
      uint32_t word = 0;
      for (size_t e = 0; e < epw; e++) {
        float q = rintf((x[u * epw + e] - bias) / scale);
        /* NaN (a NaN weight, or a group with an infinity) stores 0 */
        q = q > 0.0f ? q : 0.0f;
        q = q < n_bins ? q : n_bins;
        word |= (uint32_t)q << (bits * e);
      }
      wq[g * (gs / epw) + u] = word;
    }
  }
}
