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

/* One probe: ab (the A and B tiles, 16 rows x 64 bytes of elements of
 * type T_AB set to AB), c (C, 16 x 16 of T_C set to C0), then iters
 * iterations of six DP products into tiles 0-5; returns two C elements so
 * the loop has a use. */
#define AMX_PROBE(name, T_AB, AB, T_C, C0, DP)                            \
  T_C name(long iters) {                                                 \
    _Alignas(64) static T_AB ab[1024 / sizeof(T_AB)];                    \
    _Alignas(64) T_C c[16 * 16];                                         \
    for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++) ab[i] = AB;    \
    for (int i = 0; i < 16 * 16; i++) c[i] = C0;                         \
    cmx_f32_gemm_amx_begin();                                            \
    _tile_loadd(0, c, 64);                                               \
    _tile_loadd(1, c, 64);                                               \
    _tile_loadd(2, c, 64);                                               \
    _tile_loadd(3, c, 64);                                               \
    _tile_loadd(4, c, 64);                                               \
    _tile_loadd(5, c, 64);                                               \
    _tile_loadd(6, ab, 64);                                              \
    _tile_loadd(7, ab, 64);                                              \
    for (long i = 0; i < iters; i++) {                                   \
      DP(0, 6, 7);                                                       \
      DP(1, 6, 7);                                                       \
      DP(2, 6, 7);                                                       \
      DP(3, 6, 7);                                                       \
      DP(4, 6, 7);                                                       \
      DP(5, 6, 7);                                                       \
    }                                                                    \
    T_C s = 0;                                                           \
    _tile_stored(0, c, 64);                                              \
    s += c[0];                                                           \
    _tile_stored(5, c, 64);                                              \
    s += c[255];                                                         \
    cmx_f32_gemm_amx_end();                                              \
    return s;                                                            \
  }

AMX_PROBE(bench_tdpbf16__amx, uint16_t, 0x3a83 /* ~1e-3 */, float, 1.0f,
          _tile_dpbf16ps)
AMX_PROBE(bench_tdpbssd__amx, int8_t, 1, int, 0, _tile_dpbssd)
