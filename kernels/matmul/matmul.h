/* A simple, correct matmul driver for every compute type: C = A B for a
 * batch of row-major contiguous M x K and K x N operands, parallel over the
 * flat (batch, row) space, k-blocked so a panel of B stays in cache and the
 * inner loop over n vectorises. The GEMM issue replaces the f32 path with
 * packed, register-blocked microkernels; this remains the reference. */
#ifndef CMX_MATMUL_H
#define CMX_MATMUL_H
#include <stddef.h>
#include <stdint.h>

/* kind: 0 f32, 1 f64, 2 int64 (wrapping). */
void cmx_matmul_ref(int kind, const void *a, const void *b, void *c,
                    size_t batch, size_t m, size_t n, size_t k,
                    int nthreads);
#endif
