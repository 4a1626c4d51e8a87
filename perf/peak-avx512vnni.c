/* vpdpbusd throughput probe (AVX512_VNNI; built with the avx512vnni flags,
 * run only where CPUID says the CPU has it): 12 independent chains per
 * loop iteration, each lane adding four u8 x s8 products per step (int32
 * lanes wrap, which intrinsics define). Ops: one zmm vpdpbusd = 64
 * multiplies + 64 adds = 128 (BENCH_DPBUSD_AVX512_OPS per iteration). */
#include <immintrin.h>

#include "bench.h"

/* *a += x (u8) . y (s8) by groups of 4, in asm: gcc 12 compiles the
 * _mm512_dpbusd_epi32 chains of this loop with two zmm moves per
 * vpdpbusd (24 per iteration), which halved the probe (104 against about
 * 4x the f32 FMA rate on the VM); the GEMM kernels have no such moves. */
static inline void dp(__m512i *a, __m512i x, __m512i y) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(*a) : "v"(x), "v"(y));
}

int bench_dpbusd__avx512vnni(long iters) {
  const __m512i x = _mm512_set1_epi8(3), y = _mm512_set1_epi8(-5);
  __m512i a0 = _mm512_set1_epi32(1), a1 = _mm512_set1_epi32(2);
  __m512i a2 = _mm512_set1_epi32(3), a3 = _mm512_set1_epi32(4);
  __m512i a4 = _mm512_set1_epi32(5), a5 = _mm512_set1_epi32(6);
  __m512i a6 = _mm512_set1_epi32(7), a7 = _mm512_set1_epi32(8);
  __m512i a8 = _mm512_set1_epi32(9), a9 = _mm512_set1_epi32(10);
  __m512i a10 = _mm512_set1_epi32(11), a11 = _mm512_set1_epi32(12);
  for (long i = 0; i < iters; i++) {
    dp(&a0, x, y), dp(&a1, x, y), dp(&a2, x, y), dp(&a3, x, y);
    dp(&a4, x, y), dp(&a5, x, y), dp(&a6, x, y), dp(&a7, x, y);
    dp(&a8, x, y), dp(&a9, x, y), dp(&a10, x, y), dp(&a11, x, y);
  }
  __m512i s = _mm512_xor_si512(
      _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3)),
      _mm512_xor_si512(_mm512_xor_si512(a4, a5), _mm512_xor_si512(a6, a7)));
  s = _mm512_xor_si512(s, _mm512_xor_si512(_mm512_xor_si512(a8, a9),
                                           _mm512_xor_si512(a10, a11)));
  return _mm512_reduce_or_epi32(s);
}
