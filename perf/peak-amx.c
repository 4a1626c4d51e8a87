/* tdpbf16ps and tdpbssd throughput probes (Intel AMX-BF16 / AMX-INT8;
 * built with the AMX flags, each run only where arch/cpu.c found its
 * family usable): six independent C tiles each take one product of the
 * same A and B tiles per iteration. bf16: 16 x 16 x 32 products of values
 * about 1e-3, adding about 3e-5 to values near 1-6; one tdpbf16ps = 16384
 * flops. int8: 16 x 16 x 64 products of 1 x 1 (int32 sums that do not
 * wrap for any iteration count the bench runs); one tdpbssd = 32768 ops. */
#include <immintrin.h>
#include <stdint.h>

#include "bench.h"
#include "kernels/f32-gemm/f32-gemm.h"

float bench_tdpbf16__amx(long iters) {
  _Alignas(64) static uint16_t ab[16 * 32];
  _Alignas(64) float c[16 * 16];
  for (int i = 0; i < 16 * 32; i++) ab[i] = 0x3a83; /* ~1e-3 */
  for (int i = 0; i < 16 * 16; i++) c[i] = 1.0f;
  cmx_f32_gemm_amx_begin();
  _tile_loadd(0, c, 64);
  _tile_loadd(1, c, 64);
  _tile_loadd(2, c, 64);
  _tile_loadd(3, c, 64);
  _tile_loadd(4, c, 64);
  _tile_loadd(5, c, 64);
  _tile_loadd(6, ab, 64);
  _tile_loadd(7, ab, 64);
  for (long i = 0; i < iters; i++) {
    _tile_dpbf16ps(0, 6, 7);
    _tile_dpbf16ps(1, 6, 7);
    _tile_dpbf16ps(2, 6, 7);
    _tile_dpbf16ps(3, 6, 7);
    _tile_dpbf16ps(4, 6, 7);
    _tile_dpbf16ps(5, 6, 7);
  }
  float s = 0;
  _tile_stored(0, c, 64);
  s += c[0];
  _tile_stored(5, c, 64);
  s += c[255];
  cmx_f32_gemm_amx_end();
  return s;
}

int bench_tdpbssd__amx(long iters) {
  _Alignas(64) static int8_t ab[16 * 64];
  _Alignas(64) int32_t c[16 * 16];
  for (int i = 0; i < 16 * 64; i++) ab[i] = 1;
  for (int i = 0; i < 16 * 16; i++) c[i] = 0;
  cmx_f32_gemm_amx_begin();
  _tile_loadd(0, c, 64);
  _tile_loadd(1, c, 64);
  _tile_loadd(2, c, 64);
  _tile_loadd(3, c, 64);
  _tile_loadd(4, c, 64);
  _tile_loadd(5, c, 64);
  _tile_loadd(6, ab, 64);
  _tile_loadd(7, ab, 64);
  for (long i = 0; i < iters; i++) {
    _tile_dpbssd(0, 6, 7);
    _tile_dpbssd(1, 6, 7);
    _tile_dpbssd(2, 6, 7);
    _tile_dpbssd(3, 6, 7);
    _tile_dpbssd(4, 6, 7);
    _tile_dpbssd(5, 6, 7);
  }
  int s = 0;
  _tile_stored(0, c, 64);
  s += c[0];
  _tile_stored(5, c, 64);
  s += c[255];
  cmx_f32_gemm_amx_end();
  return s;
}
