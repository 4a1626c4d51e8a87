/* AVX-512 depthwise convolution microkernel (contract in f32-dwconv.h):
 * pixels two at a time, 64 channels per pass over the taps (8 sums in
 * flight), then 16 (a masked tail last), each weight vector loaded once
 * for both pixels; a last odd pixel
 * takes 64 channels (4 zmm accumulators) per pass, then 16, then the
 * masked tail. The sums stay in registers. */
#include <immintrin.h>

#include "kernels/f32-dwconv/f32-dwconv.h"

static inline void pixel(size_t c, size_t taps, const float *const *x,
                         const float *w, float *y, size_t o) {
  size_t i = 0;
  for (; i + 64 <= c; i += 64) {
    const float *x0 = x[0] + o + i, *w0 = w + i;
    __m512 a0 = _mm512_mul_ps(_mm512_loadu_ps(x0), _mm512_loadu_ps(w0));
    __m512 a1 = _mm512_mul_ps(_mm512_loadu_ps(x0 + 16), _mm512_loadu_ps(w0 + 16));
    __m512 a2 = _mm512_mul_ps(_mm512_loadu_ps(x0 + 32), _mm512_loadu_ps(w0 + 32));
    __m512 a3 = _mm512_mul_ps(_mm512_loadu_ps(x0 + 48), _mm512_loadu_ps(w0 + 48));
    for (size_t t = 1; t < taps; t++) {
      const float *xt = x[t] + o + i, *wt = w + t * c + i;
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(xt), _mm512_loadu_ps(wt), a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(xt + 16), _mm512_loadu_ps(wt + 16), a1);
      a2 = _mm512_fmadd_ps(_mm512_loadu_ps(xt + 32), _mm512_loadu_ps(wt + 32), a2);
      a3 = _mm512_fmadd_ps(_mm512_loadu_ps(xt + 48), _mm512_loadu_ps(wt + 48), a3);
    }
    _mm512_storeu_ps(y + i, a0);
    _mm512_storeu_ps(y + i + 16, a1);
    _mm512_storeu_ps(y + i + 32, a2);
    _mm512_storeu_ps(y + i + 48, a3);
  }
  for (; i < c; i += 16) {
    const __mmask16 k = c - i >= 16 ? (__mmask16)0xffff
                                    : (__mmask16)((1u << (c - i)) - 1u);
    __m512 a = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x[0] + o + i),
                             _mm512_maskz_loadu_ps(k, w + i));
    for (size_t t = 1; t < taps; t++)
      a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, x[t] + o + i),
                          _mm512_maskz_loadu_ps(k, w + t * c + i), a);
    _mm512_mask_storeu_ps(y + i, k, a);
  }
}

/* Two pixels (o and o + xs), NV x 16 channels from i: each weight vector
 * loaded once for both, 2 NV sums in flight (the tap loop is a chain of
 * FMAs per sum: two sums left it waiting on the FMA latency). */
#define NV 4
static inline size_t pair64(size_t c, size_t taps, const float *const *x,
                            const float *w, float *y, size_t o, size_t xs) {
  size_t i = 0;
  for (; i + 16 * NV <= c; i += 16 * NV) {
    __m512 a[NV], b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      const __m512 w0 = _mm512_loadu_ps(w + i + 16 * v);
      a[v] = _mm512_mul_ps(_mm512_loadu_ps(x[0] + o + i + 16 * v), w0);
      b[v] = _mm512_mul_ps(_mm512_loadu_ps(x[0] + o + xs + i + 16 * v), w0);
    }
    for (size_t t = 1; t < taps; t++) {
      const float *xt = x[t] + o + i, *wt = w + t * c + i;
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) {
        const __m512 wv = _mm512_loadu_ps(wt + 16 * v);
        a[v] = _mm512_fmadd_ps(_mm512_loadu_ps(xt + 16 * v), wv, a[v]);
        b[v] = _mm512_fmadd_ps(_mm512_loadu_ps(xt + xs + 16 * v), wv, b[v]);
      }
    }
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      _mm512_storeu_ps(y + i + 16 * v, a[v]);
      _mm512_storeu_ps(y + c + i + 16 * v, b[v]);
    }
  }
  return i;
}

/* Two pixels (o and o + xs), 16 channels at a time from i0: each weight
 * vector loaded once for both. */
static inline void pair16(size_t c, size_t taps, const float *const *x,
                          const float *w, float *y, size_t o, size_t xs,
                          size_t i0) {
  for (size_t i = i0; i < c; i += 16) {
    const __mmask16 k = c - i >= 16 ? (__mmask16)0xffff
                                    : (__mmask16)((1u << (c - i)) - 1u);
    const __m512 w0 = _mm512_maskz_loadu_ps(k, w + i);
    __m512 a = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x[0] + o + i), w0);
    __m512 b = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x[0] + o + xs + i), w0);
    for (size_t t = 1; t < taps; t++) {
      const __m512 wt = _mm512_maskz_loadu_ps(k, w + t * c + i);
      a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, x[t] + o + i), wt, a);
      b = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, x[t] + o + xs + i), wt, b);
    }
    _mm512_mask_storeu_ps(y + i, k, a);
    _mm512_mask_storeu_ps(y + c + i, k, b);
  }
}

void cmx_f32_dwconv_ukr__avx512_u64(size_t c, size_t taps, const float *const *x,
                                    const float *w, float *y, size_t npix, size_t xs) {
  size_t p = 0;
  /* pixels in pairs (the same FMAs in the same order): 1 thread, 3x3,
   * 1x112x112x32 0.194 -> 0.143 ms, 1x56x56x128 137 -> 130 us */
  for (; p + 2 <= npix; p += 2)
    pair16(c, taps, x, w, y + p * c, p * xs, xs,
           pair64(c, taps, x, w, y + p * c, p * xs, xs));
  for (; p < npix; p++) pixel(c, taps, x, w, y + p * c, p * xs);
}
