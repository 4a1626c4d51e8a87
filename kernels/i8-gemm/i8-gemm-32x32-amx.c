/* i8 x i8 -> i32 GEMM microkernel on Intel AMX tiles, 32 x 32 (contract in
 * i8-gemm.h, "AMX microkernel"). The eight tile registers hold C as four
 * 16 x 16 int32 tiles, two A tiles (16 rows x 64 bytes of the row-major A
 * panel) and two B tiles (16 quads of k x 16 columns of the quads panel,
 * read with its 128-byte row stride); one step of 64 k elements is four
 * loads and four tdpbssd of 16 x 16 x 64 products each (signed x signed,
 * int32 sums wrapping modulo 2^32, as the vpdpbusd kernel's). C leaves
 * the tiles through a 4 KiB stack buffer and is written (or added to)
 * with AVX-512 lane masks on the m x n corner.
 * Built with the AMX flags (-mamx-tile -mamx-int8 on top of AVX-512);
 * called only where arch/cpu.c found AMX-INT8 enabled for this process.
 * The tile configuration is the bf16 kernel's (cmx_f32_gemm_amx_begin). */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/f32-gemm/f32-gemm-tile-avx512.h" /* cmx_tile_lanes */
#include "kernels/i8-gemm/i8-gemm.h"

void cmx_i8_gemm_ukr_32x32__amx(size_t m, size_t n, size_t k,
                                const int8_t *a, const int8_t *b,
                                int32_t *c, size_t ldc,
                                const struct cmx_i8_gemm_aux *aux) {
  _Alignas(64) int32_t acc[32][32];
  const size_t kp = (k + 63) / 64 * 64; /* the panel's row length, bytes */
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (size_t p = 0; p < kp; p += 64) {
    _tile_loadd(4, a + p, kp);
    _tile_loadd(5, a + 16 * kp + p, kp);
    _tile_loadd(6, b + p * 32, 128);
    _tile_loadd(7, b + p * 32 + 64, 128);
    _tile_dpbssd(0, 4, 6);
    _tile_dpbssd(1, 4, 7);
    _tile_dpbssd(2, 5, 6);
    _tile_dpbssd(3, 5, 7);
  }
  _tile_stored(0, &acc[0][0], 128);
  _tile_stored(1, &acc[0][16], 128);
  _tile_stored(2, &acc[16][0], 128);
  _tile_stored(3, &acc[16][16], 128);
  const __mmask16 m0 = cmx_tile_lanes(n);
  const __mmask16 m1 = cmx_tile_lanes(n > 16 ? n - 16 : 0);
  for (size_t i = 0; i < m; i++) {
    int32_t *ci = c + i * ldc;
    __m512i r0 = _mm512_load_si512(&acc[i][0]);
    __m512i r1 = _mm512_load_si512(&acc[i][16]);
    if (aux->accumulate) {
      r0 = _mm512_add_epi32(r0, _mm512_maskz_loadu_epi32(m0, ci));
      r1 = _mm512_add_epi32(r1, _mm512_maskz_loadu_epi32(m1, ci + 16));
    }
    _mm512_mask_storeu_epi32(ci, m0, r0);
    _mm512_mask_storeu_epi32(ci + 16, m1, r1);
  }
}
