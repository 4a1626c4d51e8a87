/* AVX2 streaming copy: 32-byte aligned body with vmovntps; no fence
 * (x32-stream.h). */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "x32-stream.h"

void cmx_x32_stream_ukr__avx2(size_t n, const void *x, void *y) {
  const float *s = x;
  float *d = y;
  size_t head = ((32 - ((uintptr_t)d & 31)) & 31) / 4;
  if ((uintptr_t)d & 3 || head > n) head = n;
  memcpy(d, s, head * 4);
  size_t i = head;
  for (; i + 16 <= n; i += 16) {
    __m256 a = _mm256_loadu_ps(s + i), b = _mm256_loadu_ps(s + i + 8);
    _mm256_stream_ps(d + i, a);
    _mm256_stream_ps(d + i + 8, b);
  }
  for (; i + 8 <= n; i += 8) _mm256_stream_ps(d + i, _mm256_loadu_ps(s + i));
  memcpy(d + i, s + i, (n - i) * 4);
}
