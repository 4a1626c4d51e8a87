/* AVX-512 streaming copy: 64-byte aligned body with vmovntps, masked
 * ordinary stores for the head and tail; no fence (x32-stream.h). */
#include <immintrin.h>
#include <stdint.h>

#include "x32-stream.h"

void cmx_x32_stream_ukr__avx512(size_t n, const void *x, void *y) {
  const float *s = x;
  float *d = y;
  size_t head = ((64 - ((uintptr_t)d & 63)) & 63) / 4;
  if ((uintptr_t)d & 3 || head > n) head = n;
  size_t i = 0;
  while (i < head) {
    size_t m = head - i < 16 ? head - i : 16;
    __mmask16 k = (__mmask16)((1u << m) - 1);
    _mm512_mask_storeu_ps(d + i, k, _mm512_maskz_loadu_ps(k, s + i));
    i += m;
  }
  for (; i + 32 <= n; i += 32) {
    __m512 a = _mm512_loadu_ps(s + i), b = _mm512_loadu_ps(s + i + 16);
    _mm512_stream_ps(d + i, a);
    _mm512_stream_ps(d + i + 16, b);
  }
  for (; i + 16 <= n; i += 16) _mm512_stream_ps(d + i, _mm512_loadu_ps(s + i));
  if (i < n) {
    __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(d + i, k, _mm512_maskz_loadu_ps(k, s + i));
  }
}
