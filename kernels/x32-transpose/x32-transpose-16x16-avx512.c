/* AVX-512 16x16 tile transpose in registers: 32- and 64-bit unpacks, then
 * two rounds of 128-bit lane shuffles (contract in x32-transpose.h). */
#include <immintrin.h>

#include "x32-transpose.h"

void cmx_x32_transpose_ukr_16x16__avx512(const uint32_t *src, size_t ld_src,
                                         uint32_t *dst, size_t ld_dst, int nt) {
  __m512i r[16], t[16];
  /* every loop unrolled: the tile stays in registers. Rolled, GCC -O2
   * kept r and t on the stack: (2048,512,64) -> (64,512,2048), Zen 5 VM,
   * 1 thread, 23 -> 18.8 ms. */
#pragma GCC unroll 16
  for (int k = 0; k < 16; k++)
    r[k] = _mm512_loadu_si512((const void *)(src + k * ld_src));
#pragma GCC unroll 8
  for (int k = 0; k < 16; k += 2) {
    t[k] = _mm512_unpacklo_epi32(r[k], r[k + 1]);
    t[k + 1] = _mm512_unpackhi_epi32(r[k], r[k + 1]);
  }
  /* Lane l of r[4q + c] now holds column 4l + c of rows 4q..4q+3. */
#pragma GCC unroll 4
  for (int k = 0; k < 16; k += 4) {
    r[k] = _mm512_unpacklo_epi64(t[k], t[k + 2]);
    r[k + 1] = _mm512_unpackhi_epi64(t[k], t[k + 2]);
    r[k + 2] = _mm512_unpacklo_epi64(t[k + 1], t[k + 3]);
    r[k + 3] = _mm512_unpackhi_epi64(t[k + 1], t[k + 3]);
  }
#pragma GCC unroll 2
  for (int h = 0; h < 16; h += 8)
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
      t[h + c] = _mm512_shuffle_i32x4(r[h + c], r[h + c + 4], 0x88);
      t[h + c + 4] = _mm512_shuffle_i32x4(r[h + c], r[h + c + 4], 0xdd);
    }
  __m512i v[16];
#pragma GCC unroll 8
  for (int c = 0; c < 8; c++) {
    v[c] = _mm512_shuffle_i32x4(t[c], t[c + 8], 0x88);
    v[c + 8] = _mm512_shuffle_i32x4(t[c], t[c + 8], 0xdd);
  }
  if (nt) {
#pragma GCC unroll 16
    for (int c = 0; c < 16; c++)
      _mm512_stream_si512((void *)(dst + c * ld_dst), v[c]);
    return;
  }
#pragma GCC unroll 16
  for (int c = 0; c < 16; c++)
    _mm512_storeu_si512((void *)(dst + c * ld_dst), v[c]);
}
