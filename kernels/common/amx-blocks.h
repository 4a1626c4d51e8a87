/* What the AMX GEMM paths (bf16 in kernels/f32-gemm, int8 in
 * kernels/i8-gemm) share in choosing their blocks: whether C outgrows what
 * the caches keep between k blocks. Where it does, each k block reads and
 * writes C from memory, so the drivers take a deep k block (2048);
 * elsewhere a shallow one whose A and B micro-panels both fit L1. */
#ifndef CMX_AMX_BLOCKS_H
#define CMX_AMX_BLOCKS_H
#include <stddef.h>

/* Bytes of C that stay cached: 16 MiB, the share of L3 the 2-core Xeon VM
 * keeps (hwloc reports 480 MiB; outputs of 16 MiB ran at L3 speed, 32 MiB
 * at memory speed). */
#define CMX_AMX_C_CACHED ((size_t)16 << 20)

/* 1 when an m x n C of 4-byte elements (one batch element) is larger. */
static inline int cmx_amx_big_c(size_t m, size_t n) {
  return (double)m * (double)n * 4.0 > (double)CMX_AMX_C_CACHED;
}

#endif
