/* STREAM kernels with AVX2: copy and triad (a = b + s * c), each also with
 * non-temporal stores, and a read-only sum. Contract of bench.h: pointers
 * 64-byte aligned, n a multiple of 16 elements. Two vectors per iteration
 * and two accumulators in the sum keep the loads, not the adds, the limit. */
#include <immintrin.h>

#include "bench.h"

static void copy__avx2(float *restrict dst, const float *restrict src,
                       size_t n) {
  for (size_t i = 0; i < n; i += 16) {
    _mm256_store_ps(dst + i, _mm256_load_ps(src + i));
    _mm256_store_ps(dst + i + 8, _mm256_load_ps(src + i + 8));
  }
}

static void copy_nt__avx2(float *restrict dst, const float *restrict src,
                          size_t n) {
  for (size_t i = 0; i < n; i += 16) {
    _mm256_stream_ps(dst + i, _mm256_load_ps(src + i));
    _mm256_stream_ps(dst + i + 8, _mm256_load_ps(src + i + 8));
  }
  _mm_sfence();
}

static void triad__avx2(float *restrict a, const float *restrict b,
                        const float *restrict c, float s, size_t n) {
  const __m256 vs = _mm256_set1_ps(s);
  for (size_t i = 0; i < n; i += 16) {
    __m256 x0 =
        _mm256_fmadd_ps(vs, _mm256_load_ps(c + i), _mm256_load_ps(b + i));
    __m256 x1 = _mm256_fmadd_ps(vs, _mm256_load_ps(c + i + 8),
                                _mm256_load_ps(b + i + 8));
    _mm256_store_ps(a + i, x0);
    _mm256_store_ps(a + i + 8, x1);
  }
}

static void triad_nt__avx2(float *restrict a, const float *restrict b,
                           const float *restrict c, float s, size_t n) {
  const __m256 vs = _mm256_set1_ps(s);
  for (size_t i = 0; i < n; i += 16) {
    __m256 x0 =
        _mm256_fmadd_ps(vs, _mm256_load_ps(c + i), _mm256_load_ps(b + i));
    __m256 x1 = _mm256_fmadd_ps(vs, _mm256_load_ps(c + i + 8),
                                _mm256_load_ps(b + i + 8));
    _mm256_stream_ps(a + i, x0);
    _mm256_stream_ps(a + i + 8, x1);
  }
  _mm_sfence();
}

static float read__avx2(const float *restrict a, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_add_ps(s0, _mm256_load_ps(a + i));
    s1 = _mm256_add_ps(s1, _mm256_load_ps(a + i + 8));
    s2 = _mm256_add_ps(s2, _mm256_load_ps(a + i + 16));
    s3 = _mm256_add_ps(s3, _mm256_load_ps(a + i + 24));
  }
  for (; i < n; i += 16) {
    s0 = _mm256_add_ps(s0, _mm256_load_ps(a + i));
    s1 = _mm256_add_ps(s1, _mm256_load_ps(a + i + 8));
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  return _mm256_cvtss_f32(s);
}

void bench_stream_kernels__avx2(struct bench_stream_kernels *k) {
  k->isa = "avx2";
  k->copy = copy__avx2;
  k->copy_nt = copy_nt__avx2;
  k->triad = triad__avx2;
  k->triad_nt = triad_nt__avx2;
  k->read = read__avx2;
}
