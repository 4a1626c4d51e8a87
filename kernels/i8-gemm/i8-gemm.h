/* i8 x i8 -> i32 GEMM: microkernels over k in groups of four (the shape of
 * vpdpbusd, vpmaddwd pairs and vpadal pairs) and the driver that packs any
 * strided int8 operands and runs them through the shared BLIS loops
 * (kernels/common/gemm-loops.h).
 *
 * Microkernel contract (every CMX_UKR row of i8-gemm.inc, and the
 * reference): ukr(m, n, k, a, b, c, ldc, aux) computes, for i < m, j < n,
 *     C[i * ldc + j] = (aux->accumulate ? C[...] : 0) + sum_{p < k} A(i, p) B(p, j)
 *   in int32 arithmetic modulo 2^32, sizes and strides in ELEMENTS, m <= MR,
 *   n <= NR. With int8 operands every product is at most 2^14 in
 *   magnitude, so the sum is exact (never wraps) for k <= 131071; the
 *   driver splits k into blocks whose partial sums are added the same way.
 *   - A is a packed panel of kq = k rounded up to 4:
 *       A(i, p) = a[(p / 4) * MR * 4 + i * 4 + p % 4]   (int8)
 *     zero for p >= k and for rows i >= m; then, at byte a + kq * MR,
 *     MR int32 row sums sum_{p < k} A(i, p) (read by kernels that compute
 *     with A + 128 or B + 128, as vpdpbusd's unsigned operand needs).
 *   - B is a packed panel, B(p, j) = b[(p / 4) * NR * 4 + j * 4 + p % 4],
 *     zero for p >= k and for columns j >= n. The vnni rows (vpdpbusd:
 *     unsigned B by signed A) take it biased: every byte of the panel
 *     xor 0x80, i.e. B(p, j) + 128 as uint8 (128 where B is zero); the
 *     driver flips each packed panel once (cfg->b_biased), where the
 *     kernel had flipped both vectors of every k-quad on every call.
 *   - C is int32, row-major with row stride ldc; only the m x n tile is
 *     read (when accumulating) or written.
 * A microkernel is a leaf: no allocation, no threads, no errors.
 *
 * AMX microkernel contract (cfg->amx; Intel AMX-INT8 tiles, 32 x 32): the
 * same computation on other panels, k padded to kp = k rounded up to 64
 * (one tile step):
 *   - A(i, p) = a[i * kp + p] (int8, rows of the panel row-major), zero
 *     for p >= k and for rows i >= m; no row sums (tdpbssd multiplies
 *     signed by signed).
 *   - B(p, j) = b[(p / 4) * 128 + j * 4 + p % 4] (the quads layout above
 *     with NR = 32), zero for k <= p < kp and for columns j >= n.
 * The calling thread brackets its calls with amx_begin (loads the tile
 * configuration: eight tiles of 16 rows x 64 bytes) and amx_end. Sums
 * wrap modulo 2^32 as tdpbssd's do, so results match the other kernels
 * bit for bit. */
#ifndef CMX_I8_GEMM_H
#define CMX_I8_GEMM_H
#include <stddef.h>
#include <stdint.h>

struct cmx_i8_gemm_aux {
  int accumulate; /* 0: C = A B (C not read); 1: C += A B */
  size_t mr, nr;  /* tile the panels were packed for: read only by the
                     reference kernel, which serves every tile */
};

typedef void (*cmx_i8_gemm_ukr_fn)(size_t m, size_t n, size_t k,
                                   const int8_t *a, const int8_t *b,
                                   int32_t *c, size_t ldc,
                                   const struct cmx_i8_gemm_aux *aux);

/* vnni: 1 when the row needs AVX512-VNNI beyond its ISA level. */
#define CMX_UKR(isa, name, mr, nr, vnni)                                    \
  void name(size_t m, size_t n, size_t k, const int8_t *a, const int8_t *b, \
            int32_t *c, size_t ldc, const struct cmx_i8_gemm_aux *aux);
#include "i8-gemm.inc"
#undef CMX_UKR

/* Packing microkernel (cfg->pack_b4; NULL: the driver's scalar loop):
 * pack_b4(len, r, rs, d) writes one k-quad of the NR = 32 quads layout,
 * d[j * 4 + u] = r[u * rs + j] for u < 4, j < len (len <= 32), and zero
 * for len <= j < 32: 128 bytes. */
void cmx_i8_gemm_pack_b4__avx512(size_t len, const int8_t *r, ptrdiff_t rs,
                                 int8_t *d);

/* Row-dot microkernel (cfg->dotrows; NULL: none), for short A against a
 * B whose k is contiguous: dotrows(m, k, a, lda, asum, b, ldb, n, c, ldc)
 * writes, for i < m <= 12, j < n,
 *     c[i * ldc + j] = sum_{p < k} a[i * lda + p] b[j * ldb + p]
 *   modulo 2^32, given asum[i] = sum_p a[i * lda + p]; B row j is column j
 *   of the product's B. Reads no byte of a or b past k in a row. */
void cmx_i8_gemm_dotrows__avx512vnni(size_t m, size_t k, const int8_t *a,
                                     size_t lda, const int32_t *asum,
                                     const int8_t *b, size_t ldb, size_t n,
                                     int32_t *c, size_t ldc);

/* Row-sweep microkernel (cfg->sweep; NULL: none), for short A against a
 * row-major B (columns contiguous): sweep(m, k, a, lda, asum, b, ldb, n,
 * c, ldc), k >= 1, writes, for i < m <= 4, j < n,
 *     c[i * ldc + j] = sum_{p < k} a[i * lda + p] b[p * ldb + j]
 *   modulo 2^32, given asum[i] = sum_p a[i * lda + p]. c's m x n block
 *   holds partial sums while it runs (its own scratch). Reads no byte of a
 *   past k in a row, nor of b past n in a row. */
void cmx_i8_gemm_sweep__avx512vnni(size_t m, size_t k, const int8_t *a,
                                   size_t lda, const int32_t *asum,
                                   const int8_t *b, size_t ldb, size_t n,
                                   int32_t *c, size_t ldc);

void cmx_i8_gemm_ukr_32x32__amx(size_t m, size_t n, size_t k,
                                const int8_t *a, const int8_t *b,
                                int32_t *c, size_t ldc,
                                const struct cmx_i8_gemm_aux *aux);

struct cmx_i8_gemm_config {
  cmx_i8_gemm_ukr_fn ukr;
  int b_biased; /* ukr reads B's panel bytes xor 0x80 (the vnni rows) */
  size_t mr, nr;
  size_t mc, kc, nc; /* kc a multiple of 4; 0: from the cache sizes */
  /* AMX (NULL: none): the 32 x 32 tile kernel on its own panels, with
   * amx_kc (a multiple of 64; 0: built in), mc (0: one 32-row panel) and
   * nc (0: from the cache sizes). */
  cmx_i8_gemm_ukr_fn amx;
  void (*amx_begin)(void), (*amx_end)(void);
  size_t amx_kc;
  /* packs a k-quad of row-major B for nr = 32 (NULL: scalar) */
  void (*pack_b4)(size_t len, const int8_t *r, ptrdiff_t rs, int8_t *d);
  /* B with k contiguous (a transposed B: the usual layout of int8 weights)
   * and a column stride a multiple of 4 bytes holds each k-quad of a
   * column as one 32-bit word, so a panel is the transpose of a block of
   * words: the f32 GEMM's packing kernel (it only moves 32-bit lanes) and
   * its rmax (NULL: scalar). */
  void (*pack_w)(size_t r, size_t m, size_t k, const float *src,
                 size_t lds, float *dst, size_t ldd);
  size_t pack_w_r;
  /* m <= 12 rows of A against a k-contiguous B, unpacked (NULL: none) */
  void (*dotrows)(size_t m, size_t k, const int8_t *a, size_t lda,
                  const int32_t *asum, const int8_t *b, size_t ldb, size_t n,
                  int32_t *c, size_t ldc);
  /* m <= 4 rows of A against a row-major B, unpacked (NULL: none): the
   * driver calls it once per four rows */
  void (*sweep)(size_t m, size_t k, const int8_t *a, size_t lda,
                const int32_t *asum, const int8_t *b, size_t ldb, size_t n,
                int32_t *c, size_t ldc);
};

/* Element (i, j) of batch t at data[boff[t] + i * rs + j * cs] (boff NULL:
 * 0), any strides. */
struct cmx_i8_gemm_operand {
  const int8_t *data;
  ptrdiff_t rs, cs;
  const int64_t *boff;
};

/* C[t] (m x n int32, row stride ldc, batch stride ldcb) = A[t] B[t]. */
struct cmx_i8_gemm_problem {
  size_t batch, m, n, k;
  struct cmx_i8_gemm_operand a, b;
  int32_t *c;
  size_t ldc, ldcb;
};

/* Runs the problem with up to nthreads threads of the calling worker's
 * team; bitwise the same result for any nthreads and ISA level. 0, or -1
 * without packing memory. */
int cmx_i8_gemm(const struct cmx_i8_gemm_config *cfg,
                const struct cmx_i8_gemm_problem *p, int nthreads);

#endif
