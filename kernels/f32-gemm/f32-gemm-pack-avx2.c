/* AVX2 f32 GEMM packing microkernel (contract in f32-gemm.h): 8 rows x 8
 * k-columns (rows >= m read as zero, the k tail with masked loads), an
 * in-register 8x8 transpose (as x32-transpose-8x8-avx2.c) and each
 * k-column stored as r lanes with vmaskmovps. */
#include <immintrin.h>

#include "kernels/f32-gemm/f32-gemm.h"

static inline __m256i lanes(size_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), idx);
}

void cmx_f32_gemm_pack_ukr__avx2(size_t r, size_t m, size_t k,
                                 const float *src, size_t lds, float *dst,
                                 size_t ldd) {
  __m256i rows = lanes(r);
  for (size_t p = 0; p < k; p += 8) {
    size_t kk = k - p < 8 ? k - p : 8;
    __m256i km = lanes(kk);
    __m256 x[8], t[8], s[8];
#pragma GCC unroll 8
    for (size_t i = 0; i < 8; i++)
      x[i] = i >= m     ? _mm256_setzero_ps()
             : kk == 8 ? _mm256_loadu_ps(src + i * lds + p)
                       : _mm256_maskload_ps(src + i * lds + p, km);
#pragma GCC unroll 4
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(x[i], x[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(x[i], x[i + 1]);
    }
#pragma GCC unroll 2
    for (int i = 0; i < 8; i += 4) {
      s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
      s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    float *d = dst + p * ldd;
#pragma GCC unroll 8
    for (size_t c = 0; c < 8; c++) {
      if (c >= kk) break;
      __m256 v = c < 4 ? _mm256_permute2f128_ps(s[c], s[c + 4], 0x20)
                       : _mm256_permute2f128_ps(s[c - 4], s[c], 0x31);
      _mm256_maskstore_ps(d + c * ldd, rows, v);
    }
  }
}
