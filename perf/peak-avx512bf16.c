/* vdpbf16ps throughput probe (AVX512_BF16; built with the avx512bf16
 * flags, run only where CPUID says the CPU has it): 12 independent chains
 * per loop iteration; each lane adds two products of about 1e-6 per step to
 * a value near 1-12, far from overflow. Flops: one zmm vdpbf16ps = 32 bf16
 * pairs = 32 multiplies + 32 adds = 64. */
#include <immintrin.h>

#include "bench.h"

float bench_dpbf16__avx512bf16(long iters) {
  const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3a83); /* ~1e-3 */
  const __m512bh y = (__m512bh)_mm512_set1_epi16(0x3a83);
  __m512 a0 = _mm512_set1_ps(1.0f), a1 = _mm512_set1_ps(2.0f);
  __m512 a2 = _mm512_set1_ps(3.0f), a3 = _mm512_set1_ps(4.0f);
  __m512 a4 = _mm512_set1_ps(5.0f), a5 = _mm512_set1_ps(6.0f);
  __m512 a6 = _mm512_set1_ps(7.0f), a7 = _mm512_set1_ps(8.0f);
  __m512 a8 = _mm512_set1_ps(9.0f), a9 = _mm512_set1_ps(10.0f);
  __m512 a10 = _mm512_set1_ps(11.0f), a11 = _mm512_set1_ps(12.0f);
  for (long i = 0; i < iters; i++) {
    a0 = _mm512_dpbf16_ps(a0, x, y);
    a1 = _mm512_dpbf16_ps(a1, x, y);
    a2 = _mm512_dpbf16_ps(a2, x, y);
    a3 = _mm512_dpbf16_ps(a3, x, y);
    a4 = _mm512_dpbf16_ps(a4, x, y);
    a5 = _mm512_dpbf16_ps(a5, x, y);
    a6 = _mm512_dpbf16_ps(a6, x, y);
    a7 = _mm512_dpbf16_ps(a7, x, y);
    a8 = _mm512_dpbf16_ps(a8, x, y);
    a9 = _mm512_dpbf16_ps(a9, x, y);
    a10 = _mm512_dpbf16_ps(a10, x, y);
    a11 = _mm512_dpbf16_ps(a11, x, y);
  }
  __m512 s = _mm512_add_ps(
      _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
      _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  s = _mm512_add_ps(
      s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
  return _mm512_reduce_add_ps(s);
}
