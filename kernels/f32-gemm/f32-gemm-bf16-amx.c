/* bf16 x bf16 GEMM microkernel on Intel AMX tiles, 32 x 32 (contract in
 * f32-gemm.h, "AMX microkernel"). The eight tile registers hold C as four
 * 16 x 16 f32 tiles, two A tiles (16 rows x 32 bf16 of the row-major A
 * block) and two B tiles (16 k-pairs x 16 columns of the k-pair panel the
 * vdpbf16ps path packs, read with the panel's 128-byte row stride); one
 * step of 32 k elements is four loads and four tdpbf16ps of 16 x 16 x 32
 * products each. C leaves the tiles through a 4 KiB stack buffer laid out
 * as the AVX-512 kernels' accumulators, and their C update
 * (cmx_tile_store_x32: alpha / beta, the m x n edge in lane masks) writes
 * it.
 * Built with -mamx-tile -mamx-bf16 on top of the avx512bf16 flags; called
 * only where arch/cpu.c found AMX-BF16 enabled for this process. */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/f32-gemm/f32-gemm-tile-avx512.h"

/* The 64-byte LDTILECFG operand, palette 1: every tile 16 rows x 64 bytes. */
struct amx_cfg {
  uint8_t palette, start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

/* A static object: gcc 12 does not see _tile_loadconfig read its operand,
 * so the stores filling a local one were dropped as dead (a #GP). */
static const struct amx_cfg g_cfg = {
    .palette = 1,
    .colsb = {64, 64, 64, 64, 64, 64, 64, 64},
    .rows = {16, 16, 16, 16, 16, 16, 16, 16}};

void cmx_f32_gemm_amx_begin(void) { _tile_loadconfig(&g_cfg); }

void cmx_f32_gemm_amx_end(void) { _tile_release(); }

void cmx_f32_gemm_bf16_ukr_32x32__amx(size_t m, size_t n, size_t k,
                                      const uint16_t *a, size_t lda,
                                      const uint32_t *b, float *c,
                                      size_t ldc,
                                      const struct cmx_f32_gemm_aux *aux) {
  __m512 acc[32][2]; /* row i: 32 floats, 128 bytes, as the tiles store */
  const size_t sa = lda * sizeof(uint16_t); /* A tile row stride, bytes */
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (size_t p = 0; p < k; p += 32) {
    _tile_loadd(4, a + p, sa);
    _tile_loadd(5, a + 16 * lda + p, sa);
    _tile_loadd(6, b + (p / 2) * 32, 128);
    _tile_loadd(7, b + (p / 2) * 32 + 16, 128);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, &acc[0][0], 128);
  _tile_stored(1, &acc[0][1], 128);
  _tile_stored(2, &acc[16][0], 128);
  _tile_stored(3, &acc[16][1], 128);
  cmx_tile_store_x32(32, 2, acc, m, n, c, ldc, aux);
}
