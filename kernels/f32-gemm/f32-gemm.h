/* f32 GEMM: register-blocked microkernels and the BLIS-style driver that
 * blocks, packs and splits C = alpha * A B + beta * C across a team.
 *
 * Microkernel contract (every row of f32-gemm.inc, and the reference):
 *   ukr(m, n, k, a, b, c, ldc, aux) computes, for 0 <= i < m, 0 <= j < n,
 *     C[i * ldc + j] = alpha * sum_{p < k} A(i, p) * B(p, j) + beta * C[...]
 *   with m <= MR, n <= NR, k >= 0, all sizes and strides in ELEMENTS.
 *   - A is a packed panel: A(i, p) = a[p * MR + i] (k columns of MR
 *     floats, "column-of-A-panel" layout); rows m..MR-1 exist and hold
 *     anything finite (the packer writes zeros), when aux->lda == 0;
 *     otherwise A is the caller's row-major matrix, A(i, p) =
 *     a[i * aux->lda + p] (small-k path: no packing of A; the driver packs
 *     a partial panel as usual), of m rows with dmin <= m <= MR (dmin in
 *     the kernel's .inc row; rows m..MR-1 are never read).
 *   - With aux->lda and aux->roff, A(i, p) = a[i * aux->lda +
 *     aux->roff[p / aux->rlen] + p % aux->rlen] (k a multiple of rlen or
 *     the last run shorter), for the kernels that take runs.
 *   - B is a packed panel, B(p, j) = b[p * NR + j], rows zero-padded to NR,
 *     when aux->ldb == 0; otherwise it is an unpacked row-major f32 matrix,
 *     B(p, j) = b[p * aux->ldb + j], of which only columns j < n may be
 *     read (the small-problem path passes the caller's B this way).
 *   - C is row-major with row stride ldc; only the m x n tile is read or
 *     written. beta == 0 means C is write-only: it is never read, so NaN or
 *     garbage there does not propagate.
 *   - Edges (m < MR, n < NR) are handled inside the kernel with masked
 *     loads and stores (NEON: a tile in registers stored through a small
 *     buffer); the FMAs always run on the full tile, so there is no scalar
 *     path over a whole tile.
 *   - Summation over p is in increasing order, one FMA per step, so a
 *     kernel's result depends only on its inputs (never on the thread
 *     count or on the position of the tile).
 * A microkernel is a leaf: no allocation, no threads, no errors. */
#ifndef CMX_F32_GEMM_H
#define CMX_F32_GEMM_H
#include <stddef.h>
#include <stdint.h>

#include "kernels/cvt/cvt.h"

/* Extras that keep the signature stable (BLIS's auxinfo_t). */
struct cmx_f32_gemm_aux {
  float alpha, beta;   /* C = alpha * A B + beta * C; beta 0: C not read */
  size_t ldb;          /* 0: B packed (row stride NR); else B's row stride */
  size_t mr, nr;       /* tile the panels were packed for: read only by the
                          reference kernel, which serves every tile */
  const float *a_next; /* prefetch hint: the next A panel (may be NULL) */
  size_t lda;          /* 0: A packed (row stride MR); else A's row stride,
                          and m == MR */
  /* With lda: A in runs of rlen columns (NULL: one run), run q at roff[q]
   * floats from a (the convolution's taps: a whole patch depth in one
   * call). Kernels whose config sets direct_runs, and the reference. */
  const size_t *roff;
  size_t rlen;
};

typedef void (*cmx_f32_gemm_ukr_fn)(size_t m, size_t n, size_t k,
                                    const float *a, const float *b, float *c,
                                    size_t ldc,
                                    const struct cmx_f32_gemm_aux *aux);

/* Packing microkernel contract (CMX_PACK rows of f32-gemm.inc):
 *   pack(r, m, k, src, lds, dst, ldd) writes, for 0 <= p < k, 0 <= i < r,
 *     dst[p * ldd + i] = i < m ? src[i * lds + p] : 0
 *   with m <= r <= the row's rmax and ldd >= r, in ELEMENTS: r rows of a
 *   row-major f32 block (unit stride along k) transposed into r lanes of a
 *   packed panel of row stride ldd (the driver packs a panel wider than rmax
 *   in pieces). Rows m..r-1 of src are never read. Only the r x k lanes
 *   named are written. A leaf, like the GEMM microkernel. */
typedef void (*cmx_f32_gemm_pack_fn)(size_t r, size_t m, size_t k,
                                     const float *src, size_t lds,
                                     float *dst, size_t ldd);

#define CMX_UKR(isa, name, mr, nr, dmin)                                  \
  void name(size_t m, size_t n, size_t k, const float *a, const float *b, \
            float *c, size_t ldc, const struct cmx_f32_gemm_aux *aux);
#define CMX_PACK(isa, name, rmax)                                          \
  void name(size_t r, size_t m, size_t k, const float *src, size_t lds,    \
            float *dst, size_t ldd);
#include "f32-gemm.inc"
#undef CMX_UKR
#undef CMX_PACK

/* What arch/ hands the driver: the microkernel, its tile, and the block
 * sizes that go with it (0: derived from the cache sizes of sched's
 * topology at run time; a tuning file overrides either). */
/* GEMV accumulate microkernel contract (CMX_GEMV4 rows of f32-gemm.inc):
 * acc[v ldacc + i] += w[v ldw] r[0][i] + w[v ldw + 1] r[1][i] + w[v ldw +
 * 2] r[2][i] + w[v ldw + 3] r[3][i] for i < n (elements), v < m (m >= 1):
 * four rows of the matrix folded into m accumulators that stay in L1, so
 * the matrix streams once at memory speed (m > 1: SDPA decode's grouped
 * query heads, each row vector loaded once for all m). The sum for each i
 * is taken in that order (r[0] first), so results do not depend on n, m or
 * which accumulator a row is. */
typedef void (*cmx_f32_gemv4_ukr_fn)(size_t n, const float *const *r,
                                     const float *w, size_t m, size_t ldw,
                                     float *acc, size_t ldacc);
#define CMX_GEMV4(isa, name)                                              \
  void name(size_t n, const float *const *r, const float *w, size_t m,    \
            size_t ldw, float *acc, size_t ldacc);
#include "f32-gemm.inc"
#undef CMX_GEMV4

/* The same over rows of 16-bit values (CMX_GEMV4H rows; bf 1: bf16, 0:
 * f16), each widened exactly to f32 in registers: the same bits as gemv4
 * on the rows converted first. */
typedef void (*cmx_f32_gemv4h_ukr_fn)(size_t n, const uint16_t *const *h,
                                      int bf, const float *w, float *acc);
#define CMX_GEMV4H(isa, name)                                            \
  void name(size_t n, const uint16_t *const *h, int bf, const float *w,  \
            float *acc);
#include "f32-gemm.inc"
#undef CMX_GEMV4H

/* GEMV dot microkernel contract (CMX_DOT4 rows of f32-gemm.inc):
 * s[v * 4 + u] = sum_{i < n} x[v * ldx + i] r[u][i] for u < 4, v < m
 * (n in elements, n >= 0, m >= 1): four rows of a matrix against m vectors,
 * each row read once from memory (the transpose companion of gemv4; SDPA
 * decode's scores, and short A against a B whose k is contiguous). Each
 * sum runs in vector-lane partials, then one horizontal sum, so its order
 * depends on n and the ISA's width only, never on m, on where the rows
 * come from, or on which of the four a row is. */
typedef void (*cmx_f32_dot4_ukr_fn)(size_t n, const float *const *r,
                                    const float *x, size_t m, size_t ldx,
                                    float *s);
#define CMX_DOT4(isa, name)                                            \
  void name(size_t n, const float *const *r, const float *x, size_t m, \
            size_t ldx, float *s);
#include "f32-gemm.inc"
#undef CMX_DOT4

/* The same over rows of 16-bit values (CMX_DOT4H rows; bf 1: bf16, 0:
 * f16), each widened exactly to f32 in registers: the same bits as dot4
 * on the rows converted first. */
typedef void (*cmx_f32_dot4h_ukr_fn)(size_t n, const uint16_t *const *h,
                                     int bf, const float *x, size_t m,
                                     size_t ldx, float *s);
#define CMX_DOT4H(isa, name)                                            \
  void name(size_t n, const uint16_t *const *h, int bf, const float *x, \
            size_t m, size_t ldx, float *s);
#include "f32-gemm.inc"
#undef CMX_DOT4H

/* Row-accumulate microkernel contract (CMX_ROWACC rows of f32-gemm.inc):
 * for i < m (1 or more), j < n, u < kb (1..8), in increasing u, one fused
 * multiply-add each:
 *   acc[i * ld + j] = fma(w[u * m + i], r[u][j], acc[i * ld + j])
 * (sizes and strides in elements): kb rows of a row-major B folded into an
 * m-row block of C (in L1 for m <= 8, else in L2), so B streams once in its
 * own order (short A). Every row and the reference give the same bits.
 * Fastest with kb a multiple of cmx_rowacc_kb(m), the rows one register
 * pass takes. pf != 0: also prefetch r[u][j + pf] to L2 (the driver's rows
 * a few steps ahead; they must exist). */
static inline size_t cmx_rowacc_kb(size_t m) {
  return m <= 3 ? 8 : m <= 6 ? 4 : m <= 8 ? 3 : 8;
}
typedef void (*cmx_f32_rowacc_ukr_fn)(size_t m, size_t kb, size_t n,
                                      const float *const *r, const float *w,
                                      float *acc, size_t ld, ptrdiff_t pf);
#define CMX_ROWACC(isa, name)                                              \
  void name(size_t m, size_t kb, size_t n, const float *const *r,          \
            const float *w, float *acc, size_t ld, ptrdiff_t pf);
#include "f32-gemm.inc"
#undef CMX_ROWACC

/* The same over rows of 16-bit values (CMX_ROWACCH rows; bf 1: bf16, 0:
 * f16; m 1..8; pf in elements), each widened exactly to f32 in registers:
 * the same bits as rowacc on the rows converted first. */
typedef void (*cmx_f32_rowacch_ukr_fn)(size_t m, size_t kb, size_t n,
                                       const uint16_t *const *h, int bf,
                                       const float *w, float *acc, size_t ld,
                                       ptrdiff_t pf);
#define CMX_ROWACCH(isa, name)                                             \
  void name(size_t m, size_t kb, size_t n, const uint16_t *const *h,       \
            int bf, const float *w, float *acc, size_t ld, ptrdiff_t pf);
#include "f32-gemm.inc"
#undef CMX_ROWACCH

/* bf16 x bf16 microkernel contract (CMX_UKR_BF16 rows, AVX512_BF16's
 * vdpbf16ps): the same C = alpha A B + beta C on the same tile rules as the
 * f32 microkernel, but the operands are packed as bf16 k-pairs, one 32-bit
 * word per pair, low half first (k in ELEMENTS; kp = ceil(k / 2) pairs):
 *   A(i, p) = bf16 half p % 2 of a[(p / 2) * MR + i],
 *   B(p, j) = bf16 half p % 2 of b[(p / 2) * NR + j]   (B always packed).
 *   For odd k the high half of the last pair is zero in both panels; rows
 *   m..MR-1 of A and columns n..NR-1 of B are zero words.
 * Products of two bf16 are exact in f32; each pair adds its high product
 * then its low one to the f32 accumulator, rounded to nearest even (the
 * instruction's order; it also treats subnormal inputs and results as zero,
 * so results match the f32 path within k rounding steps, not bitwise). */
typedef void (*cmx_f32_gemm_bf16_ukr_fn)(size_t m, size_t n, size_t k,
                                         const uint32_t *a,
                                         const uint32_t *b, float *c,
                                         size_t ldc,
                                         const struct cmx_f32_gemm_aux *aux);
/* Pair interleaver contract (CMX_ZIP_BF16 rows): for i < n (elements),
 * dst[i] = x0[i] | x1[i] << 16, or x0[i] alone when x1 is NULL (the zero
 * high half of an odd k). The packer uses it on two rows of B along n (or
 * two columns of a column-major A): packing with no scalar loop. */
typedef void (*cmx_f32_gemm_bf16_zip_fn)(size_t n, const uint16_t *x0,
                                         const uint16_t *x1, uint32_t *dst);
#define CMX_UKR_BF16(isa, name, mr, nr)                                     \
  void name(size_t m, size_t n, size_t k, const uint32_t *a,               \
            const uint32_t *b, float *c, size_t ldc,                       \
            const struct cmx_f32_gemm_aux *aux);
#define CMX_ZIP_BF16(isa, name)                                             \
  void name(size_t n, const uint16_t *x0, const uint16_t *x1, uint32_t *dst);
#include "f32-gemm.inc"
#undef CMX_UKR_BF16
#undef CMX_ZIP_BF16

/* AMX microkernel contract (cfg->bf16_amx; Intel AMX-BF16 tiles): the same
 * C = alpha A B + beta C on an m x n tile, m, n <= 32, k a multiple of 32
 * (ELEMENTS), with
 *   A(i, p) = a[i * lda + p], bf16, row-major: all 32 rows and k columns
 *     are read (the driver packs a zero-padded block), lda even;
 *   B(p, j) = bf16 half p % 2 of b[(p / 2) * 32 + j]: the pair panel of the
 *     vdpbf16ps contract with NR 32, k / 2 pair rows, zero past the
 *     operand's depth and columns.
 * Only the m x n tile of C is read (beta != 0) and written. Sums in f32 as
 * tdpbf16ps takes them (subnormal inputs and results as zero, like
 * vdpbf16ps). The calling thread brackets its calls with amx_begin (loads
 * the tile configuration) and amx_end (releases the tile state). */
typedef void (*cmx_f32_gemm_amx_fn)(size_t m, size_t n, size_t k,
                                    const uint16_t *a, size_t lda,
                                    const uint32_t *b, float *c, size_t ldc,
                                    const struct cmx_f32_gemm_aux *aux);
void cmx_f32_gemm_bf16_ukr_32x32__amx(size_t m, size_t n, size_t k,
                                      const uint16_t *a, size_t lda,
                                      const uint32_t *b, float *c,
                                      size_t ldc,
                                      const struct cmx_f32_gemm_aux *aux);
void cmx_f32_gemm_amx_begin(void);
void cmx_f32_gemm_amx_end(void);
/* 0: the driver leaves cfg->bf16_amx unused until called with 1 (the
 * bench times the vdpbf16ps kernel on a CPU with AMX this way). */
void cmx_f32_gemm_amx_allow(int on);

struct cmx_gemm_config {
  cmx_f32_gemm_ukr_fn ukr;
  size_t mr, nr; /* register tile */
  /* ukr runs unpacked A of direct_rows ... mr rows at the rate of full
   * tiles, only those rows' FMAs (0: mr only; the convolution's output-row
   * segments). */
  size_t direct_rows;
  int direct_runs; /* ukr takes unpacked A in runs (aux->roff) */
  /* A second microkernel with fewer rows for short A (NULL: none): the
   * driver takes it for skinny A (m <= 32) when m rounded up to skinny_mr
   * pads fewer rows than m rounded up to mr. Same contract and nr as ukr. */
  cmx_f32_gemm_ukr_fn skinny_ukr;
  size_t skinny_mr;
  size_t mc;     /* rows of A per packed block (L2), multiple of mr */
  size_t kc;     /* depth of a packed block (B micro-panel in L1) */
  size_t nc;     /* columns of B per packed block (L3), multiple of nr */
  cmx_f32_gemm_pack_fn pack; /* packs row-major f32 panels (A; B^T) */
  size_t pack_r;             /* its rmax (0: no pack kernel) */
  cmx_f32_gemv4_ukr_fn gemv4; /* GEMV row accumulation */
  cmx_f32_gemv4h_ukr_fn gemv4h; /* the same on 16-bit rows (NULL: convert) */
  cmx_f32_dot4_ukr_fn dot4;   /* GEMV row dot products */
  cmx_f32_dot4h_ukr_fn dot4h; /* the same on 16-bit rows (NULL: convert) */
  cmx_f32_rowacc_ukr_fn rowacc; /* short A (m <= 8): B row by row */
  cmx_f32_rowacch_ukr_fn rowacch; /* the same on 16-bit rows (NULL: convert) */
  /* The most rows of A that rowacc takes against a large row-major f32 B
   * (more than 8: its register-held-B form; 0: 8), twice that against a
   * 16-bit B (rowacch); the tuning key rowacc_m overrides it. */
  size_t rowacc_m;
  /* bf16 x bf16 on k-pairs (NULL: converted to f32 while packing); same
   * mr x nr tile as ukr, packed with zip and pack (32-bit words). */
  cmx_f32_gemm_bf16_ukr_fn bf16_ukr;
  cmx_f32_gemm_bf16_zip_fn bf16_zip;
  /* bf16 x bf16 on AMX tiles (NULL: none; set where arch/cpu.c found
   * AMX-BF16 usable): takes precedence over bf16_ukr and the conversion,
   * with its own 32 x 32 tile and blocking; needs bf16_zip and pack. */
  cmx_f32_gemm_amx_fn bf16_amx;
  void (*amx_begin)(void), (*amx_end)(void);
  size_t amx_mc, amx_kc; /* its blocks (multiples of 32; 0: the driver's) */
};

/* ---- the driver (f32-gemm.c) ---- */
enum cmx_gemm_dtype { CMX_GEMM_F32, CMX_GEMM_F16, CMX_GEMM_BF16 };

/* One operand of a batched GEMM: element (i, j) of batch t lies at element
 * boff[t] + i * rs + j * cs of data (boff NULL: 0 for every batch). Any
 * strides work (transposed, sliced, negative, broadcast 0); f16 and bf16
 * are converted to f32 while packing, except bf16 x bf16 where cfg has a
 * bf16_ukr: both are then packed as bf16 k-pairs for it. */
struct cmx_gemm_operand {
  const void *data;
  enum cmx_gemm_dtype dtype;
  ptrdiff_t rs, cs;
  const int64_t *boff;
};

/* C[t] (m x n, f32, row stride ldc, batch stride ldcb) =
 *   alpha * A[t] (m x k) B[t] (k x n) + beta * C[t]   for t < batch. */
struct cmx_gemm_problem {
  size_t batch, m, n, k;
  struct cmx_gemm_operand a, b;
  float *c;
  size_t ldc, ldcb;
  float alpha, beta;
  cmx_cvt_ukr_fn cvt_f16, cvt_bf16; /* f16 -> f32, bf16 -> f32 */
};

/* Runs the problem with up to nthreads threads of the calling worker's
 * team (the split never divides k, so results do not depend on nthreads).
 * Returns 0, or -1 when packing memory cannot be had. */
int cmx_f32_gemm(const struct cmx_gemm_config *cfg,
                 const struct cmx_gemm_problem *p, int nthreads);

/* The block sizes and split the driver will use for cfg on this machine:
 * built-in from cache sizes, then the tuning file (CMX_TUNING, else
 * <cpu-slug>.conf in CMX_TUNING_DIR or <exe dir>/../perf/tuning), then the
 * env overrides CMX_GEMM_MC / _KC / _NC / _SPLIT. split: 0 auto, 1 over m
 * (ic), 2 over n (jc). For tests and the tuning script. */
void cmx_f32_gemm_blocking(const struct cmx_gemm_config *cfg, size_t *mc,
                           size_t *kc, size_t *nc, int *split);

#endif
