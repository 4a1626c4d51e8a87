/* AVX-512 f32 GEMM packing microkernel (contract in f32-gemm.h): 16 rows x
 * 16 k-columns loaded with k-masked loads (rows >= m read as zero), an
 * in-register 16x16 transpose (32- and 64-bit unpacks, two rounds of
 * 128-bit lane shuffles, as x32-transpose-16x16-avx512.c), and each
 * k-column stored as r lanes with a masked store: 16 loads, 64 shuffles
 * and 16 stores per 256 elements instead of 256 scalar loads and stores. */
#include <immintrin.h>

#include "kernels/f32-gemm/f32-gemm.h"

static inline __mmask16 lanes(size_t n) {
  return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

void cmx_f32_gemm_pack_ukr__avx512(size_t r, size_t m, size_t k,
                                   const float *src, size_t lds, float *dst,
                                   size_t ldd) {
  __mmask16 rows = lanes(r);
  for (size_t p = 0; p < k; p += 16) {
    size_t kk = k - p < 16 ? k - p : 16;
    __mmask16 km = lanes(kk);
    __m512i x[16], t[16], v[16];
#pragma GCC unroll 16
    for (size_t i = 0; i < 16; i++)
      x[i] = i < m ? _mm512_maskz_loadu_epi32(km, src + i * lds + p)
                   : _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_epi32(x[i], x[i + 1]);
      t[i + 1] = _mm512_unpackhi_epi32(x[i], x[i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
      x[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
      x[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
      x[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
      x[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
#pragma GCC unroll 2
    for (int h = 0; h < 16; h += 8)
#pragma GCC unroll 4
      for (int c = 0; c < 4; c++) {
        t[h + c] = _mm512_shuffle_i32x4(x[h + c], x[h + c + 4], 0x88);
        t[h + c + 4] = _mm512_shuffle_i32x4(x[h + c], x[h + c + 4], 0xdd);
      }
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) {
      v[c] = _mm512_shuffle_i32x4(t[c], t[c + 8], 0x88);
      v[c + 8] = _mm512_shuffle_i32x4(t[c], t[c + 8], 0xdd);
    }
    float *d = dst + p * ldd;
    if (kk == 16) {
#pragma GCC unroll 16
      for (int c = 0; c < 16; c++)
        _mm512_mask_storeu_epi32(d + c * ldd, rows, v[c]);
    } else {
      for (size_t c = 0; c < kk; c++)
        _mm512_mask_storeu_epi32(d + c * ldd, rows, v[c]);
    }
  }
}
