/* f32 rotary position embedding microkernels: one row of n contiguous
 * floats at one position, whose first dims features (dims even, <= n)
 * turn by the angles of a table row; features dims..n-1 are copied.
 * Contract (h = dims / 2):
 *   split (MLX traditional = false): c and s hold h floats, cos and sin
 *     of pair i's angle; y[i] = x[i] c[i] - x[i+h] s[i],
 *     y[i+h] = x[i+h] c[i] + x[i] s[i] for i < h.
 *   traditional (adjacent pairs): c and s hold dims floats laid out for
 *     the interleaved rows, c[2i] = c[2i+1] = cos, s[2i] = -sin,
 *     s[2i+1] = +sin; y[j] = x[j] c[j] + x[j ^ 1] s[j] for j < dims.
 * n and dims in elements; y may equal x exactly, no other overlap; no
 * alignment needed. Tails inside the kernels. */
#ifndef CMX_F32_ROPE_H
#define CMX_F32_ROPE_H
#include <stddef.h>

/* The _NT ops compute the same; their SIMD kernels write full vectors of
 * a row with streaming (non-temporal) stores when y and the half (split)
 * start on vector boundaries, and do not fence: the caller fences once
 * after its rows. For x and y together past the last-level cache, where
 * a plain store also reads the line first (Zen 5 VM, 1 thread, rope of
 * (1, 32, 2048, 128): 33.5 -> 46.9 GB/s). The portable and NEON levels list
 * their plain kernels for them. */
enum cmx_rope_op {
  CMX_ROPE_SPLIT,
  CMX_ROPE_TRADITIONAL,
  CMX_ROPE_SPLIT_NT,
  CMX_ROPE_TRADITIONAL_NT,
  CMX_ROPE_COUNT
};

typedef void (*cmx_f32_rope_ukr_fn)(size_t n, size_t dims, const float *x,
                                    const float *c, const float *s, float *y);

#define CMX_UKR(isa, op, name)                                           \
  void name(size_t n, size_t dims, const float *x, const float *c,       \
            const float *s, float *y);
#include "f32-rope.inc"
#undef CMX_UKR

#endif
