/* The BLIS loops (jc, pc, ic, jr, ir) shared by the f64 and i8 GEMM
 * drivers: blocking from the cache sizes, a per-thread packing workspace,
 * the split of C over a 2-D thread grid (or whole batches), never over k.
 * A family describes itself with callbacks that pack one micro-panel and
 * run one register tile; the loops never look at element types. (The f32
 * driver keeps its own, richer copy: skinny, GEMV and unpacked paths.)
 *
 * Serial equivalent of cmx_gemm_loops, for each batch t:
 *   for jc in [0, n) step nc:  for pc in [0, k) step kc:
 *     pack_b of every nr-column panel of B[pc:pc+kc, jc:jc+nc]
 *     for ic in [0, m) step mc:
 *       pack_a of every mr-row panel of A[ic:ic+mc, pc:pc+kc]
 *       for jr, ir over the block: tile(...)
 * with k == 0 run as one block of depth 0 (tile then writes beta C). */
#ifndef CMX_GEMM_LOOPS_H
#define CMX_GEMM_LOOPS_H
#include <stddef.h>

struct cmx_gemm_loops {
  const void *ctx; /* the family's problem, passed to every callback */
  size_t batch, m, n, k;
  size_t mr, nr;        /* register tile */
  size_t mc, kc, nc;    /* block sizes: mc % mr == 0, nc % nr == 0 */
  size_t a_bytes, b_bytes; /* bytes of one packed panel of depth kc; each
                              a multiple of 64 */
  /* Packs rows [q0, q0 + len) (len <= mr; <= nr for B) x k-columns
   * [p0, p0 + kcur) of batch t into dst, zero-padding rows len..mr-1. */
  void (*pack_a)(const void *ctx, size_t t, size_t q0, size_t len,
                 size_t p0, size_t kcur, void *dst);
  void (*pack_b)(const void *ctx, size_t t, size_t q0, size_t len,
                 size_t p0, size_t kcur, void *dst);
  /* Optional (NULL: pack_b panel by panel): packs the whole block of
   * columns [q0, q0 + len) (len <= nc) at once, panel i at dst + i *
   * panel_bytes, each as pack_b would. */
  void (*pack_b_block)(const void *ctx, size_t t, size_t q0, size_t len,
                       size_t p0, size_t kcur, void *dst,
                       size_t panel_bytes);
  /* C[t][i:i+m, j:j+n] (m <= mr, n <= nr) from the packed panels of depth
   * kcur starting at p0 (p0 == 0: the first block, which applies beta). */
  void (*tile)(const void *ctx, size_t t, size_t i, size_t j, size_t m,
               size_t n, size_t p0, size_t kcur, const void *a,
               const void *b);
  /* Optional (NULL: none): each thread calls begin before its first tile
   * and end after its last (the AMX tile configuration). */
  void (*begin)(void), (*end)(void);
};

/* Block sizes for elements of esz bytes (kc a multiple of kalign, given kc
 * unless 0): the kc x nr B micro-panel half of L1, the mc x kc A block
 * half of L2, the kc x nc B block a quarter of L3 (at most 4096 columns). */
void cmx_gemm_loops_blocking(size_t esz, size_t mr, size_t nr, size_t kalign,
                             size_t *mc, size_t *kc, size_t *nc);

/* Runs the loops on up to nthreads threads of the calling worker's team
 * (one thread below 2^20 multiply-adds). Every C element sees the same
 * tile calls for any thread count. 0, or -1 without packing memory. */
int cmx_gemm_loops_run(const struct cmx_gemm_loops *g, int nthreads);

#endif
