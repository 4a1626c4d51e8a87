/* AVX2 f64 GEMM packing microkernel (contract in f64-gemm.h): blocks of 4
 * rows x 4 k-columns (rows >= m read as zero, the k tail with masked
 * loads), an in-register 4x4 transpose (unpack, then swap 128-bit halves)
 * and each k-column stored at dst[p * r + i0]. Any r: blocks of 4 rows
 * while 3 or more are left (3: vmaskmovpd stores), then a last pair (the
 * 6-row tile's rows 4-5) as 128-bit halves of two unpacks, or a last
 * single row element by element. */
#include <immintrin.h>

#include "kernels/f64-gemm/f64-gemm.h"

static inline __m256i lanes(size_t n) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(n > 4 ? 4 : n)),
                            _mm256_setr_epi64x(0, 1, 2, 3));
}

void cmx_f64_gemm_pack_ukr__avx2(size_t r, size_t m, size_t k,
                                 const double *src, size_t lds, double *dst) {
  for (size_t p = 0; p < k; p += 4) {
    size_t kk = k - p < 4 ? k - p : 4;
    __m256i km = lanes(kk);
    double *d = dst + p * r;
    size_t i0 = 0;
    for (; i0 + 2 < r; i0 += 4) {
      const double *s = src + i0 * lds + p;
      __m256d x[4];
#pragma GCC unroll 4
      for (size_t i = 0; i < 4; i++)
        x[i] = i0 + i >= m ? _mm256_setzero_pd()
               : kk == 4   ? _mm256_loadu_pd(s + i * lds)
                           : _mm256_maskload_pd(s + i * lds, km);
      __m256d t0 = _mm256_unpacklo_pd(x[0], x[1]); /* a0 b0 a2 b2 */
      __m256d t1 = _mm256_unpackhi_pd(x[0], x[1]); /* a1 b1 a3 b3 */
      __m256d t2 = _mm256_unpacklo_pd(x[2], x[3]); /* c0 d0 c2 d2 */
      __m256d t3 = _mm256_unpackhi_pd(x[2], x[3]); /* c1 d1 c3 d3 */
      __m256d col[4] = {_mm256_permute2f128_pd(t0, t2, 0x20),
                        _mm256_permute2f128_pd(t1, t3, 0x20),
                        _mm256_permute2f128_pd(t0, t2, 0x31),
                        _mm256_permute2f128_pd(t1, t3, 0x31)};
      if (r - i0 >= 4) {
#pragma GCC unroll 4
        for (size_t c = 0; c < 4; c++)
          if (c < kk) _mm256_storeu_pd(d + c * r + i0, col[c]);
      } else {
        __m256i rm = lanes(r - i0);
#pragma GCC unroll 4
        for (size_t c = 0; c < 4; c++)
          if (c < kk) _mm256_maskstore_pd(d + c * r + i0, rm, col[c]);
      }
    }
    if (r - i0 == 2) {
      /* two rows left (the 6-row tile): pairs with 128-bit stores */
      const double *s = src + i0 * lds + p;
      __m256d x0 = i0 >= m   ? _mm256_setzero_pd()
                   : kk == 4 ? _mm256_loadu_pd(s)
                             : _mm256_maskload_pd(s, km);
      __m256d x1 = i0 + 1 >= m ? _mm256_setzero_pd()
                   : kk == 4   ? _mm256_loadu_pd(s + lds)
                               : _mm256_maskload_pd(s + lds, km);
      __m256d t0 = _mm256_unpacklo_pd(x0, x1); /* a0 b0 a2 b2 */
      __m256d t1 = _mm256_unpackhi_pd(x0, x1); /* a1 b1 a3 b3 */
      __m128d col[4] = {_mm256_castpd256_pd128(t0),
                        _mm256_castpd256_pd128(t1),
                        _mm256_extractf128_pd(t0, 1),
                        _mm256_extractf128_pd(t1, 1)};
#pragma GCC unroll 4
      for (size_t c = 0; c < 4; c++)
        if (c < kk) _mm_storeu_pd(d + c * r + i0, col[c]);
    } else if (r - i0 == 1) {
      for (size_t c = 0; c < kk; c++)
        d[c * r + i0] = i0 < m ? src[i0 * lds + p + c] : 0.0;
    }
  }
}
