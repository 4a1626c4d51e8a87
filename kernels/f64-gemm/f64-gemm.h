/* f64 GEMM: register-blocked microkernels and the driver that packs any
 * strided f64 operands and runs them through the shared BLIS loops
 * (kernels/common/gemm-loops.h).
 *
 * Microkernel contract (every CMX_UKR row of f64-gemm.inc and the
 * reference): ukr(m, n, k, a, b, c, ldc, aux) computes, for i < m, j < n,
 *     C[i * ldc + j] = alpha * sum_{p < k} A(i, p) * B(p, j) + beta * C[...]
 *   with m <= MR, n <= NR, k >= 0, sizes and strides in ELEMENTS.
 *   - A is a packed panel, A(i, p) = a[p * MR + i]; rows m..MR-1 hold
 *     zeros (the packer writes them).
 *   - B is a packed panel, B(p, j) = b[p * NR + j], columns n..NR-1 zero.
 *   - C is row-major with row stride ldc; only the m x n tile is read or
 *     written; beta == 0 means C is never read (NaN there does not
 *     propagate).
 *   - Edges are masked inside the kernel (NEON: through a small buffer);
 *     the FMAs always run on the full tile.
 *   - The sum over p runs in increasing order, one FMA (or, in the
 *     reference, one multiply and one add) per step.
 * A microkernel is a leaf: no allocation, no threads, no errors.
 *
 * Packing contract (CMX_PACK rows): pack(r, m, k, src, lds, dst) writes
 *   dst[p * r + i] = i < m ? src[i * lds + p] : 0 for p < k, i < r
 *   (r == MR of the tile, m <= r <= the row's rmax): r rows of a row-major
 *   block transposed into an A panel (or a B panel of a column-major B). */
#ifndef CMX_F64_GEMM_H
#define CMX_F64_GEMM_H
#include <stddef.h>
#include <stdint.h>

struct cmx_f64_gemm_aux {
  double alpha, beta; /* C = alpha * A B + beta * C; beta 0: C not read */
  size_t mr, nr;      /* tile the panels were packed for: read only by the
                         reference kernel, which serves every tile */
};

typedef void (*cmx_f64_gemm_ukr_fn)(size_t m, size_t n, size_t k,
                                    const double *a, const double *b,
                                    double *c, size_t ldc,
                                    const struct cmx_f64_gemm_aux *aux);
typedef void (*cmx_f64_gemm_pack_fn)(size_t r, size_t m, size_t k,
                                     const double *src, size_t lds,
                                     double *dst);

#define CMX_UKR(isa, name, mr, nr)                                          \
  void name(size_t m, size_t n, size_t k, const double *a, const double *b, \
            double *c, size_t ldc, const struct cmx_f64_gemm_aux *aux);
#define CMX_PACK(isa, name, rmax)                                            \
  void name(size_t r, size_t m, size_t k, const double *src, size_t lds,    \
            double *dst);
#include "f64-gemm.inc"
#undef CMX_UKR
#undef CMX_PACK

/* What arch/ hands the driver (0 block sizes: from the cache sizes). */
struct cmx_f64_gemm_config {
  cmx_f64_gemm_ukr_fn ukr;
  size_t mr, nr;
  size_t mc, kc, nc;
  cmx_f64_gemm_pack_fn pack; /* row-major A panels (NULL: scalar) */
  size_t pack_r;             /* its rmax */
};

/* One operand: element (i, j) of batch t at data[boff[t] + i * rs + j * cs]
 * (boff NULL: 0). Any strides (transposed, sliced, negative, broadcast). */
struct cmx_f64_gemm_operand {
  const double *data;
  ptrdiff_t rs, cs;
  const int64_t *boff;
};

/* C[t] (m x n, row stride ldc, batch stride ldcb) =
 *   alpha * A[t] (m x k) B[t] (k x n) + beta * C[t]   for t < batch. */
struct cmx_f64_gemm_problem {
  size_t batch, m, n, k;
  struct cmx_f64_gemm_operand a, b;
  double *c;
  size_t ldc, ldcb;
  double alpha, beta;
};

/* Runs the problem with up to nthreads threads of the calling worker's
 * team; results do not depend on nthreads. 0, or -1 without memory. */
int cmx_f64_gemm(const struct cmx_f64_gemm_config *cfg,
                 const struct cmx_f64_gemm_problem *p, int nthreads);

#endif
