/* AVX-512 f64 GEMM packing microkernel (contract in f64-gemm.h): blocks of
 * 8 rows x 8 k-columns (rows >= m read as zero, the k tail with masked
 * loads), an in-register 8x8 transpose (unpack pairs, then two rounds of
 * 128-bit block shuffles) and each k-column stored as min(8, r - i0) lanes
 * at dst[p * r + i0] under a mask. Any r: row blocks of 8 until r. */
#include <immintrin.h>

#include "kernels/f64-gemm/f64-gemm.h"

void cmx_f64_gemm_pack_ukr__avx512(size_t r, size_t m, size_t k,
                                   const double *src, size_t lds,
                                   double *dst) {
  for (size_t p = 0; p < k; p += 8) {
    size_t kk = k - p < 8 ? k - p : 8;
    __mmask8 km = (__mmask8)((1u << kk) - 1);
    double *d = dst + p * r;
    for (size_t i0 = 0; i0 < r; i0 += 8) {
      const double *s = src + i0 * lds + p;
      __m512d x[8];
#pragma GCC unroll 8
      for (size_t i = 0; i < 8; i++)
        x[i] = i0 + i >= m ? _mm512_setzero_pd()
                           : _mm512_maskz_loadu_pd(km, s + i * lds);
      /* t[2j] = rows 2j, 2j+1 at even columns, t[2j+1] at odd ones */
      __m512d t[8], u[8];
#pragma GCC unroll 4
      for (int i = 0; i < 8; i += 2) {
        t[i] = _mm512_unpacklo_pd(x[i], x[i + 1]);
        t[i + 1] = _mm512_unpackhi_pd(x[i], x[i + 1]);
      }
      /* u: four rows per vector, columns {0,4}, {2,6}, {1,5}, {3,7} */
#pragma GCC unroll 2
      for (int h = 0; h < 8; h += 4) {
        u[h] = _mm512_shuffle_f64x2(t[h], t[h + 2], 0x88);
        u[h + 1] = _mm512_shuffle_f64x2(t[h], t[h + 2], 0xDD);
        u[h + 2] = _mm512_shuffle_f64x2(t[h + 1], t[h + 3], 0x88);
        u[h + 3] = _mm512_shuffle_f64x2(t[h + 1], t[h + 3], 0xDD);
      }
      __m512d col[8] = {_mm512_shuffle_f64x2(u[0], u[4], 0x88),
                        _mm512_shuffle_f64x2(u[2], u[6], 0x88),
                        _mm512_shuffle_f64x2(u[1], u[5], 0x88),
                        _mm512_shuffle_f64x2(u[3], u[7], 0x88),
                        _mm512_shuffle_f64x2(u[0], u[4], 0xDD),
                        _mm512_shuffle_f64x2(u[2], u[6], 0xDD),
                        _mm512_shuffle_f64x2(u[1], u[5], 0xDD),
                        _mm512_shuffle_f64x2(u[3], u[7], 0xDD)};
      size_t rr = r - i0 < 8 ? r - i0 : 8;
      __mmask8 rm = (__mmask8)((1u << rr) - 1);
#pragma GCC unroll 8
      for (size_t c = 0; c < 8; c++)
        if (c < kk) _mm512_mask_storeu_pd(d + c * r + i0, rm, col[c]);
    }
  }
}
