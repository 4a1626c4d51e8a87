/* FMA throughput probes for AVX-512: 12 independent chains of
 * vfmadd231ps/pd per loop iteration. Chains converge (acc * x + y, x just
 * below 1) and start apart so that the compiler cannot merge them. The
 * vdpbf16ps probe is in peak-avx512bf16.c (its own -m flags). */
#include <immintrin.h>

#include "bench.h"

float bench_fma_f32__avx512(long iters) {
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-6f);
  __m512 a0 = _mm512_set1_ps(0.01f), a1 = _mm512_set1_ps(0.02f);
  __m512 a2 = _mm512_set1_ps(0.03f), a3 = _mm512_set1_ps(0.04f);
  __m512 a4 = _mm512_set1_ps(0.05f), a5 = _mm512_set1_ps(0.06f);
  __m512 a6 = _mm512_set1_ps(0.07f), a7 = _mm512_set1_ps(0.08f);
  __m512 a8 = _mm512_set1_ps(0.09f), a9 = _mm512_set1_ps(0.10f);
  __m512 a10 = _mm512_set1_ps(0.11f), a11 = _mm512_set1_ps(0.12f);
  for (long i = 0; i < iters; i++) {
    a0 = _mm512_fmadd_ps(a0, x, y);
    a1 = _mm512_fmadd_ps(a1, x, y);
    a2 = _mm512_fmadd_ps(a2, x, y);
    a3 = _mm512_fmadd_ps(a3, x, y);
    a4 = _mm512_fmadd_ps(a4, x, y);
    a5 = _mm512_fmadd_ps(a5, x, y);
    a6 = _mm512_fmadd_ps(a6, x, y);
    a7 = _mm512_fmadd_ps(a7, x, y);
    a8 = _mm512_fmadd_ps(a8, x, y);
    a9 = _mm512_fmadd_ps(a9, x, y);
    a10 = _mm512_fmadd_ps(a10, x, y);
    a11 = _mm512_fmadd_ps(a11, x, y);
  }
  __m512 s = _mm512_add_ps(
      _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
      _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  s = _mm512_add_ps(
      s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
  return _mm512_reduce_add_ps(s);
}

double bench_fma_f64__avx512(long iters) {
  const __m512d x = _mm512_set1_pd(0.999999), y = _mm512_set1_pd(1e-6);
  __m512d a0 = _mm512_set1_pd(0.01), a1 = _mm512_set1_pd(0.02);
  __m512d a2 = _mm512_set1_pd(0.03), a3 = _mm512_set1_pd(0.04);
  __m512d a4 = _mm512_set1_pd(0.05), a5 = _mm512_set1_pd(0.06);
  __m512d a6 = _mm512_set1_pd(0.07), a7 = _mm512_set1_pd(0.08);
  __m512d a8 = _mm512_set1_pd(0.09), a9 = _mm512_set1_pd(0.10);
  __m512d a10 = _mm512_set1_pd(0.11), a11 = _mm512_set1_pd(0.12);
  for (long i = 0; i < iters; i++) {
    a0 = _mm512_fmadd_pd(a0, x, y);
    a1 = _mm512_fmadd_pd(a1, x, y);
    a2 = _mm512_fmadd_pd(a2, x, y);
    a3 = _mm512_fmadd_pd(a3, x, y);
    a4 = _mm512_fmadd_pd(a4, x, y);
    a5 = _mm512_fmadd_pd(a5, x, y);
    a6 = _mm512_fmadd_pd(a6, x, y);
    a7 = _mm512_fmadd_pd(a7, x, y);
    a8 = _mm512_fmadd_pd(a8, x, y);
    a9 = _mm512_fmadd_pd(a9, x, y);
    a10 = _mm512_fmadd_pd(a10, x, y);
    a11 = _mm512_fmadd_pd(a11, x, y);
  }
  __m512d s = _mm512_add_pd(
      _mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)),
      _mm512_add_pd(_mm512_add_pd(a4, a5), _mm512_add_pd(a6, a7)));
  s = _mm512_add_pd(
      s, _mm512_add_pd(_mm512_add_pd(a8, a9), _mm512_add_pd(a10, a11)));
  return _mm512_reduce_add_pd(s);
}
