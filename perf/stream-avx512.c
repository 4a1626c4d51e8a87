/* STREAM kernels with AVX-512: copy and triad (a = b + s * c), each also
 * with non-temporal stores, and a read-only sum. Contract of bench.h: pointers
 * 64-byte aligned, n a multiple of 16 elements (one zmm). Unrolled by two
 * with a one-vector tail; the sum keeps four accumulators. */
#include <immintrin.h>

#include "bench.h"

static void copy__avx512(float *restrict dst, const float *restrict src,
                         size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm512_store_ps(dst + i, _mm512_load_ps(src + i));
    _mm512_store_ps(dst + i + 16, _mm512_load_ps(src + i + 16));
  }
  if (i < n)
    _mm512_store_ps(dst + i, _mm512_load_ps(src + i));
}

static void copy_nt__avx512(float *restrict dst, const float *restrict src,
                            size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm512_stream_ps(dst + i, _mm512_load_ps(src + i));
    _mm512_stream_ps(dst + i + 16, _mm512_load_ps(src + i + 16));
  }
  if (i < n)
    _mm512_stream_ps(dst + i, _mm512_load_ps(src + i));
  _mm_sfence();
}

static void triad__avx512(float *restrict a, const float *restrict b,
                          const float *restrict c, float s, size_t n) {
  const __m512 vs = _mm512_set1_ps(s);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 x0 =
        _mm512_fmadd_ps(vs, _mm512_load_ps(c + i), _mm512_load_ps(b + i));
    __m512 x1 = _mm512_fmadd_ps(vs, _mm512_load_ps(c + i + 16),
                                _mm512_load_ps(b + i + 16));
    _mm512_store_ps(a + i, x0);
    _mm512_store_ps(a + i + 16, x1);
  }
  if (i < n)
    _mm512_store_ps(a + i, _mm512_fmadd_ps(vs, _mm512_load_ps(c + i),
                                           _mm512_load_ps(b + i)));
}

static void triad_nt__avx512(float *restrict a, const float *restrict b,
                             const float *restrict c, float s, size_t n) {
  const __m512 vs = _mm512_set1_ps(s);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 x0 =
        _mm512_fmadd_ps(vs, _mm512_load_ps(c + i), _mm512_load_ps(b + i));
    __m512 x1 = _mm512_fmadd_ps(vs, _mm512_load_ps(c + i + 16),
                                _mm512_load_ps(b + i + 16));
    _mm512_stream_ps(a + i, x0);
    _mm512_stream_ps(a + i + 16, x1);
  }
  if (i < n)
    _mm512_stream_ps(a + i, _mm512_fmadd_ps(vs, _mm512_load_ps(c + i),
                                            _mm512_load_ps(b + i)));
  _mm_sfence();
}

static float read__avx512(const float *restrict a, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    s0 = _mm512_add_ps(s0, _mm512_load_ps(a + i));
    s1 = _mm512_add_ps(s1, _mm512_load_ps(a + i + 16));
    s2 = _mm512_add_ps(s2, _mm512_load_ps(a + i + 32));
    s3 = _mm512_add_ps(s3, _mm512_load_ps(a + i + 48));
  }
  for (; i < n; i += 16)
    s0 = _mm512_add_ps(s0, _mm512_load_ps(a + i));
  __m512 s = _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3));
  return _mm512_reduce_add_ps(s);
}

void bench_stream_kernels__avx512(struct bench_stream_kernels *k) {
  k->isa = "avx512";
  k->copy = copy__avx512;
  k->copy_nt = copy_nt__avx512;
  k->triad = triad__avx512;
  k->triad_nt = triad_nt__avx512;
  k->read = read__avx512;
}
