/* AVX2 8x8 tile transpose in registers: 32-bit unpacks, 64-bit shuffles,
 * then 128-bit lane swaps (contract in x32-transpose.h). */
#include <immintrin.h>

#include "x32-transpose.h"

void cmx_x32_transpose_ukr_8x8__avx2(const uint32_t *src, size_t ld_src,
                                     uint32_t *dst, size_t ld_dst, int nt) {
  __m256 r[8], t[8], s[8];
  /* every loop unrolled: the tile stays in registers (see the AVX-512
   * kernel) */
#pragma GCC unroll 8
  for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps((const float *)src + k * ld_src);
#pragma GCC unroll 4
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
#pragma GCC unroll 2
  for (int k = 0; k < 8; k += 4) {
    s[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
    s[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xEE);
    s[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
    s[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
  }
#pragma GCC unroll 8
  for (int k = 0; k < 8; k++) {
    __m256 v = k < 4 ? _mm256_permute2f128_ps(s[k], s[k + 4], 0x20)
                     : _mm256_permute2f128_ps(s[k - 4], s[k], 0x31);
    if (nt) _mm256_stream_ps((float *)dst + k * ld_dst, v);
    else _mm256_storeu_ps((float *)dst + k * ld_dst, v);
  }
}
