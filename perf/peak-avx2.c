/* FMA throughput probes for AVX2+FMA: 12 independent accumulator chains of
 * vfmadd231 per loop iteration, enough to cover 4-cycle latency on two FMA
 * pipes. acc = acc * x + y with x just below 1 converges to y / (1 - x), so
 * values stay normal (no denormal or overflow slow paths). */
#include <immintrin.h>

#include "bench.h"

float bench_fma_f32__avx2(long iters) {
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-6f);
  __m256 a0 = _mm256_set1_ps(0.01f), a1 = _mm256_set1_ps(0.02f);
  __m256 a2 = _mm256_set1_ps(0.03f), a3 = _mm256_set1_ps(0.04f);
  __m256 a4 = _mm256_set1_ps(0.05f), a5 = _mm256_set1_ps(0.06f);
  __m256 a6 = _mm256_set1_ps(0.07f), a7 = _mm256_set1_ps(0.08f);
  __m256 a8 = _mm256_set1_ps(0.09f), a9 = _mm256_set1_ps(0.10f);
  __m256 a10 = _mm256_set1_ps(0.11f), a11 = _mm256_set1_ps(0.12f);
  for (long i = 0; i < iters; i++) {
    a0 = _mm256_fmadd_ps(a0, x, y);
    a1 = _mm256_fmadd_ps(a1, x, y);
    a2 = _mm256_fmadd_ps(a2, x, y);
    a3 = _mm256_fmadd_ps(a3, x, y);
    a4 = _mm256_fmadd_ps(a4, x, y);
    a5 = _mm256_fmadd_ps(a5, x, y);
    a6 = _mm256_fmadd_ps(a6, x, y);
    a7 = _mm256_fmadd_ps(a7, x, y);
    a8 = _mm256_fmadd_ps(a8, x, y);
    a9 = _mm256_fmadd_ps(a9, x, y);
    a10 = _mm256_fmadd_ps(a10, x, y);
    a11 = _mm256_fmadd_ps(a11, x, y);
  }
  __m256 s = _mm256_add_ps(
      _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
      _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  s = _mm256_add_ps(
      s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  return _mm256_cvtss_f32(s);
}

double bench_fma_f64__avx2(long iters) {
  const __m256d x = _mm256_set1_pd(0.999999), y = _mm256_set1_pd(1e-6);
  __m256d a0 = _mm256_set1_pd(0.01), a1 = _mm256_set1_pd(0.02);
  __m256d a2 = _mm256_set1_pd(0.03), a3 = _mm256_set1_pd(0.04);
  __m256d a4 = _mm256_set1_pd(0.05), a5 = _mm256_set1_pd(0.06);
  __m256d a6 = _mm256_set1_pd(0.07), a7 = _mm256_set1_pd(0.08);
  __m256d a8 = _mm256_set1_pd(0.09), a9 = _mm256_set1_pd(0.10);
  __m256d a10 = _mm256_set1_pd(0.11), a11 = _mm256_set1_pd(0.12);
  for (long i = 0; i < iters; i++) {
    a0 = _mm256_fmadd_pd(a0, x, y);
    a1 = _mm256_fmadd_pd(a1, x, y);
    a2 = _mm256_fmadd_pd(a2, x, y);
    a3 = _mm256_fmadd_pd(a3, x, y);
    a4 = _mm256_fmadd_pd(a4, x, y);
    a5 = _mm256_fmadd_pd(a5, x, y);
    a6 = _mm256_fmadd_pd(a6, x, y);
    a7 = _mm256_fmadd_pd(a7, x, y);
    a8 = _mm256_fmadd_pd(a8, x, y);
    a9 = _mm256_fmadd_pd(a9, x, y);
    a10 = _mm256_fmadd_pd(a10, x, y);
    a11 = _mm256_fmadd_pd(a11, x, y);
  }
  __m256d s = _mm256_add_pd(
      _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)),
      _mm256_add_pd(_mm256_add_pd(a4, a5), _mm256_add_pd(a6, a7)));
  s = _mm256_add_pd(
      s, _mm256_add_pd(_mm256_add_pd(a8, a9), _mm256_add_pd(a10, a11)));
  return _mm256_cvtsd_f64(s);
}
