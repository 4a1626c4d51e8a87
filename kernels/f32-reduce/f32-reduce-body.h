/* The f32 reduction loops, written once against the vf/vm API of
 * arch/simd-*.h. Each ISA file includes its SIMD header and vmath.h, then
 * this, and defines its listed kernels as one-line calls, so every ISA runs
 * the same loops (and the same summation order for a given VF_N). The
 * contract is in f32-reduce.h. */
#ifndef CMX_F32_REDUCE_BODY_H
#define CMX_F32_REDUCE_BODY_H
#include <stddef.h>

#include "f32-reduce.h"
#include "kernels/common/vh16.h"

/* Lane numbers as floats: compared with the count of a tail they give its
 * lane mask through the portable API (VF_N <= 16 on every ISA). */
static const float cmx_rd_iota[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                      8, 9, 10, 11, 12, 13, 14, 15};

CMX_SIMD_INLINE vm cmx_rd_tail_mask(size_t n) {
  return vf_lt(vf_load(cmx_rd_iota), vf_set1((float)n));
}

/* Software prefetch distance, in floats (4 KiB), for the exp loops: at 9
 * ops a vector the out-of-order window runs too close ahead to cover
 * memory latency, so they fetch ahead themselves (16M logsumexp rows on
 * this VM: 8.2 -> 10.8 GB/s, best of 3; the reduce driver fetches the head
 * of the next block). One line in two: the L2 fetches 128-byte pairs, and
 * in L1 every line cost 20% (4096 floats), every other line ~10%. Never
 * past x + n: a prefetch does not fault, but one into an unmapped page
 * costs a page walk each time (n = 4096 in L1: 7x slower). Light loops
 * (sum, argmax: 1-2 ops a vector) go without: it cost them 20-50% in L1. */
#define CMX_RD_PF 1024

CMX_SIMD_INLINE void cmx_rd_prefetch(const float *x, size_t i, size_t n) {
  if (i + CMX_RD_PF + 4 * VF_N <= n)
    for (int l = 0; l < 4 * VF_N; l += 32)
      __builtin_prefetch(x + i + CMX_RD_PF + l);
}

/* A lane mask with no lane set. */
CMX_SIMD_INLINE vm cmx_rd_none(void) { return vf_lt(vf_zero(), vf_zero()); }

/* acc op v for the inner loops. max/min use the hardware instruction, whose
 * NaN rule differs between ISAs; the inner loops track NaN lanes apart. */
CMX_SIMD_INLINE vf cmx_rd_op(enum cmx_rop op, vf acc, vf v) {
  switch (op) {
  case CMX_ROP_SUM: return vf_add(acc, v);
  case CMX_ROP_PROD: return vf_mul(acc, v);
  case CMX_ROP_MAX: return vf_max(acc, v);
  default: return vf_min(acc, v);
  }
}

/* acc op v for the outer loops, NaN-propagating per lane. vf_max(v, acc)
 * (likewise vf_min) returns acc when either is NaN on x86 and in
 * simd-scalar.h, and NaN on NEON: a NaN already in acc stays in every case,
 * and the select lets a NaN from v in. */
CMX_SIMD_INLINE vf cmx_rd_op_nan(enum cmx_rop op, vf acc, vf v) {
  if (op == CMX_ROP_SUM || op == CMX_ROP_PROD) return cmx_rd_op(op, acc, v);
  return vf_select(vf_isnan(v), v, cmx_rd_op(op, v, acc));
}

/* Inner reduction. Eight independent accumulators keep the adds off the
 * critical path: with four, a sum in L1 waited on the add latency (4
 * vectors per 4 cycles) where the loads allow 2 vectors a cycle. Lanes
 * combine in a fixed tree (((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 +
 * a7)), then vf_hsum), so the order depends on n only. The tail fills its
 * dead lanes with the op's neutral value (x[0] for max/min). */
/* fast (max/min only, a constant at each call): no per-vector NaN test;
 * the vectors of a step are also summed in a tree and bad += sum * 0,
 * which is NaN once the block holds a NaN or an infinity (or finite values
 * whose sum overflows); then *ok = 0 and the caller redoes the block
 * exactly (cmx_rd_minmax), so the result is the same bits either way. Two
 * ops a vector instead of four (a compare, and a mask or through a general
 * register): on one Zen 5 core the four-op loop left fewer lines in flight
 * (max of 16M floats from DRAM 37 GB/s, against 57-60 for sum). */
CMX_SIMD_INLINE float cmx_rd_inner_h(int h, enum cmx_rop op, int fast,
                                     size_t n, const void *x, int *ok) {
  const int minmax = (op == CMX_ROP_MAX || op == CMX_ROP_MIN) && !fast;
  vf b0 = vf_zero(), b1 = vf_zero();
  const vf init = vf_set1(op == CMX_ROP_SUM    ? 0.0f
                          : op == CMX_ROP_PROD ? 1.0f
                                               : vx_first(h, x));
  vf a0 = init, a1 = init, a2 = init, a3 = init;
  vf a4 = init, a5 = init, a6 = init, a7 = init;
  vm nan = cmx_rd_none();
  size_t i = 0;
  for (; i + 8 * VF_N <= n; i += 8 * VF_N) {
    vf v0 = vx_load(h, x, i), v1 = vx_load(h, x, i + VF_N);
    vf v2 = vx_load(h, x, i + 2 * VF_N), v3 = vx_load(h, x, i + 3 * VF_N);
    vf v4 = vx_load(h, x, i + 4 * VF_N), v5 = vx_load(h, x, i + 5 * VF_N);
    vf v6 = vx_load(h, x, i + 6 * VF_N), v7 = vx_load(h, x, i + 7 * VF_N);
    a0 = cmx_rd_op(op, a0, v0);
    a1 = cmx_rd_op(op, a1, v1);
    a2 = cmx_rd_op(op, a2, v2);
    a3 = cmx_rd_op(op, a3, v3);
    a4 = cmx_rd_op(op, a4, v4);
    a5 = cmx_rd_op(op, a5, v5);
    a6 = cmx_rd_op(op, a6, v6);
    a7 = cmx_rd_op(op, a7, v7);
    if (minmax)
      nan = vm_or(nan, vm_or(vm_or(vm_or(vf_isnan(v0), vf_isnan(v1)),
                                   vm_or(vf_isnan(v2), vf_isnan(v3))),
                             vm_or(vm_or(vf_isnan(v4), vf_isnan(v5)),
                                   vm_or(vf_isnan(v6), vf_isnan(v7)))));
    if (fast) {
      b0 = vf_fmadd(vf_add(vf_add(v0, v1), vf_add(v2, v3)), vf_zero(), b0);
      b1 = vf_fmadd(vf_add(vf_add(v4, v5), vf_add(v6, v7)), vf_zero(), b1);
    }
  }
  for (; i + VF_N <= n; i += VF_N) {
    vf v = vx_load(h, x, i);
    a0 = cmx_rd_op(op, a0, v);
    if (minmax) nan = vm_or(nan, vf_isnan(v));
    if (fast) b0 = vf_fmadd(v, vf_zero(), b0);
  }
  if (i < n) {
    vf v = vf_select(cmx_rd_tail_mask(n - i), vx_load_n(h, x, i, n - i), init);
    a1 = cmx_rd_op(op, a1, v);
    if (minmax) nan = vm_or(nan, vf_isnan(v));
    if (fast) b1 = vf_fmadd(v, vf_zero(), b1);
  }
  if (fast && vm_any(vf_isnan(vf_add(b0, b1)))) {
    *ok = 0;
    return 0.0f;
  }
  vf a = cmx_rd_op(op,
                   cmx_rd_op(op, cmx_rd_op(op, a0, a1), cmx_rd_op(op, a2, a3)),
                   cmx_rd_op(op, cmx_rd_op(op, a4, a5), cmx_rd_op(op, a6, a7)));
  switch (op) {
  case CMX_ROP_SUM: return vf_hsum(a);
  case CMX_ROP_PROD: {
    float lanes[VF_N], r = 1.0f;
    vf_store(lanes, a);
    for (int l = 0; l < VF_N; l++) r *= lanes[l];
    return r;
  }
  case CMX_ROP_MAX: return vm_any(nan) ? __builtin_nanf("") : vf_hmax(a);
  default: return vm_any(nan) ? __builtin_nanf("") : vf_hmin(a);
  }
}

CMX_SIMD_INLINE float cmx_rd_inner(enum cmx_rop op, size_t n, const float *x) {
  return cmx_rd_inner_h(0, op, 0, n, x, NULL);
}

/* max or min of one block: the fast loop, the exact one where it must. */
CMX_SIMD_INLINE float cmx_rd_minmax_h(int h, enum cmx_rop op, size_t n,
                                      const void *x) {
  int ok = 1;
  float r = cmx_rd_inner_h(h, op, 1, n, x, &ok);
  return ok ? r : cmx_rd_inner_h(h, op, 0, n, x, NULL);
}
CMX_SIMD_INLINE float cmx_rd_minmax(enum cmx_rop op, size_t n, const float *x) {
  return cmx_rd_minmax_h(0, op, n, x);
}

/* The 16-bit inner kernels of an ISA file (h16-reduce.inc): h 1 bf16, 2
 * f16; x holds n 16-bit elements, each widened in registers, and the
 * result is the f32 kernel's on the widened block, bit for bit. */
#define CMX_RD_DEFINE_INNER16(name, h, op)                                \
  float name(size_t n, const void *x) {                                  \
    return op == CMX_ROP_MAX || op == CMX_ROP_MIN                        \
               ? cmx_rd_minmax_h(h, op, n, x)                            \
               : cmx_rd_inner_h(h, op, 0, n, x, NULL);                   \
  }

/* Rows handled per pass over acc: acc is loaded and stored once per block
 * of this many rows, and the rows stream side by side, which hardware
 * prefetchers follow. 8 rather than 16 streams: Zen 5 VM, 1 thread, sum
 * over axis 0 of 4096 x 4096, 39.0-39.7 -> 43.0-45.9 GB/s (4: 41.7-44.0). */
#define CMX_RD_OUTER_ROWS 8

/* Outer reduction: each acc lane sees its rows in order 0, 1, ..., so the
 * result is that of the reference loop exactly. x holds f32 (h = 0), bf16
 * (h = 1) or f16 (h = 2) elements (vh16.h's vx_ loads: 16-bit rows widen
 * in registers), ldx in elements; h is a constant at every call. */
CMX_SIMD_INLINE void cmx_rd_outer_h(int h, enum cmx_rop op, size_t rows,
                                    size_t n, const void *x, size_t ldx,
                                    float *acc) {
  for (size_t i0 = 0; i0 < rows; i0 += CMX_RD_OUTER_ROWS) {
    const size_t rb =
        rows - i0 < CMX_RD_OUTER_ROWS ? rows - i0 : CMX_RD_OUTER_ROWS;
    size_t j = 0;
    /* 16-bit rows: eight vectors a row step, the bytes of the f32 rows'
     * four, each folded into acc in L1 one vector at a time (a loop, not
     * unrolled). bf16 sum over axis 0 of 4096 x 4096, 1 thread, Zen 5 VM:
     * the four-vector register loop 1.4-1.9 ms, eight vectors unrolled in
     * registers 1.42-1.53, this 0.73-0.92 (2 threads 0.41-0.44). */
    for (; h && j + 8 * VF_N <= n; j += 8 * VF_N)
      for (size_t r = 0, o = i0 * ldx + j; r < rb; r++, o += ldx)
#pragma GCC unroll 1
        for (int u = 0; u < 8; u++)
          vf_store(acc + j + u * VF_N,
                   cmx_rd_op_nan(op, vf_load(acc + j + u * VF_N),
                                 vx_load(h, x, o + u * VF_N)));
    for (; j + 4 * VF_N <= n; j += 4 * VF_N) {
      vf a0 = vf_load(acc + j), a1 = vf_load(acc + j + VF_N);
      vf a2 = vf_load(acc + j + 2 * VF_N), a3 = vf_load(acc + j + 3 * VF_N);
      for (size_t r = 0, o = i0 * ldx + j; r < rb; r++, o += ldx) {
        a0 = cmx_rd_op_nan(op, a0, vx_load(h, x, o));
        a1 = cmx_rd_op_nan(op, a1, vx_load(h, x, o + VF_N));
        a2 = cmx_rd_op_nan(op, a2, vx_load(h, x, o + 2 * VF_N));
        a3 = cmx_rd_op_nan(op, a3, vx_load(h, x, o + 3 * VF_N));
      }
      vf_store(acc + j, a0);
      vf_store(acc + j + VF_N, a1);
      vf_store(acc + j + 2 * VF_N, a2);
      vf_store(acc + j + 3 * VF_N, a3);
    }
    for (; j + VF_N <= n; j += VF_N) {
      vf a = vf_load(acc + j);
      for (size_t r = 0, o = i0 * ldx + j; r < rb; r++, o += ldx)
        a = cmx_rd_op_nan(op, a, vx_load(h, x, o));
      vf_store(acc + j, a);
    }
    if (j < n) {
      const size_t t = n - j;
      vf a = vf_load_n(acc + j, t);
      for (size_t r = 0, o = i0 * ldx + j; r < rb; r++, o += ldx)
        a = cmx_rd_op_nan(op, a, vx_load_n(h, x, o, t));
      vf_store_n(acc + j, a, t);
    }
  }
}
CMX_SIMD_INLINE void cmx_rd_outer(enum cmx_rop op, size_t rows, size_t n,
                                  const float *x, size_t ldx, float *acc) {
  cmx_rd_outer_h(0, op, rows, n, x, ldx, acc);
}

/* The 16-bit outer kernels of an ISA file (h16-reduce.inc): h 1 bf16, 2
 * f16. */
#define CMX_RD_DEFINE_OUTER16(name, h, op)                                \
  void name(size_t rows, size_t n, const void *x, size_t ldx,            \
            float *acc) {                                                 \
    cmx_rd_outer_h(h, op, rows, n, x, ldx, acc);                         \
  }

/* sum of (x - c)^2 or of exp(x - c): the sum loop with a map in front. */
CMX_SIMD_INLINE vf cmx_rd_map(int is_exp, vf v, vf c) {
  vf d = vf_sub(v, c);
  return is_exp ? vm_exp_sumterm(d) : vf_mul(d, d);
}

CMX_SIMD_INLINE float cmx_rd_mapsum(int is_exp, size_t n, const float *x,
                                    float c) {
  const vf vc = vf_set1(c);
  vf a0 = vf_zero(), a1 = vf_zero(), a2 = vf_zero(), a3 = vf_zero();
  size_t i = 0;
  for (; i + 4 * VF_N <= n; i += 4 * VF_N) {
    if (is_exp) cmx_rd_prefetch(x, i, n);
    a0 = vf_add(a0, cmx_rd_map(is_exp, vf_load(x + i), vc));
    a1 = vf_add(a1, cmx_rd_map(is_exp, vf_load(x + i + VF_N), vc));
    a2 = vf_add(a2, cmx_rd_map(is_exp, vf_load(x + i + 2 * VF_N), vc));
    a3 = vf_add(a3, cmx_rd_map(is_exp, vf_load(x + i + 3 * VF_N), vc));
  }
  for (; i + VF_N <= n; i += VF_N)
    a0 = vf_add(a0, cmx_rd_map(is_exp, vf_load(x + i), vc));
  if (i < n) {
    vf m = cmx_rd_map(is_exp, vf_load_n(x + i, n - i), vc);
    a1 = vf_add(a1, vf_select(cmx_rd_tail_mask(n - i), m, vf_zero()));
  }
  return vf_hsum(vf_add(vf_add(a0, a1), vf_add(a2, a3)));
}

/* sum of (x - c)^2 with, where sum is not NULL, the sum of x in the same
 * pass (var's one pass over memory: the squares and then a sum from L1
 * left memory idle during the second; var of 4096 x 4096 on one Zen 5
 * core 43-45 -> 49-51 GB/s). The squares as cmx_rd_mapsum takes them. */
CMX_SIMD_INLINE float cmx_rd_sumsq(size_t n, const float *x, float c,
                                   float *sum) {
  if (!sum) return cmx_rd_mapsum(0, n, x, c);
  const vf vc = vf_set1(c);
  vf a0 = vf_zero(), a1 = vf_zero(), a2 = vf_zero(), a3 = vf_zero();
  vf s0 = vf_zero(), s1 = vf_zero(), s2 = vf_zero(), s3 = vf_zero();
  size_t i = 0;
  for (; i + 4 * VF_N <= n; i += 4 * VF_N) {
    const vf v0 = vf_load(x + i), v1 = vf_load(x + i + VF_N);
    const vf v2 = vf_load(x + i + 2 * VF_N), v3 = vf_load(x + i + 3 * VF_N);
    s0 = vf_add(s0, v0), s1 = vf_add(s1, v1);
    s2 = vf_add(s2, v2), s3 = vf_add(s3, v3);
    a0 = vf_add(a0, cmx_rd_map(0, v0, vc));
    a1 = vf_add(a1, cmx_rd_map(0, v1, vc));
    a2 = vf_add(a2, cmx_rd_map(0, v2, vc));
    a3 = vf_add(a3, cmx_rd_map(0, v3, vc));
  }
  for (; i + VF_N <= n; i += VF_N) {
    const vf v = vf_load(x + i);
    s0 = vf_add(s0, v);
    a0 = vf_add(a0, cmx_rd_map(0, v, vc));
  }
  if (i < n) {
    const vm live = cmx_rd_tail_mask(n - i);
    const vf v = vf_select(live, vf_load_n(x + i, n - i), vc);
    s1 = vf_add(s1, vf_select(live, v, vf_zero()));
    a1 = vf_add(a1, cmx_rd_map(0, v, vc)); /* dead lanes: (c - c)^2 = 0 */
  }
  *sum = vf_hsum(vf_add(vf_add(s0, s1), vf_add(s2, s3)));
  return vf_hsum(vf_add(vf_add(a0, a1), vf_add(a2, a3)));
}

/* Elements per argmax/argmin block: 16 vectors (1 KiB on AVX-512). */
#define CMX_RD_ARG_BLOCK (16 * VF_N)
/* Blocks per chunk: block numbers are counted in float lanes, exact to
 * 2^24; longer inputs run chunk by chunk. */
#define CMX_RD_ARG_CHUNK ((size_t)1 << 20)

/* One whole block of CMX_RD_ARG_BLOCK elements: returns its per-lane
 * extreme; *bs is a vector with a NaN lane if any element was NaN (here
 * their sum, which is also NaN where +inf meets -inf: a rare false alarm
 * that only sends the chunk to the scan). Straight-line code, 16 vectors,
 * 2 ops a vector. An ISA file may define CMX_RD_ARG_BLOCK_FN to its own
 * before including this file. */
CMX_SIMD_INLINE vf cmx_rd_arg_block(enum cmx_rop op, const float *x, vf *bs) {
  const vf none = vf_set1(op == CMX_ROP_MAX ? -INFINITY : INFINITY);
  vf a0 = none, a1 = none, a2 = none, a3 = none, s = vf_zero();
  for (int i = 0; i < CMX_RD_ARG_BLOCK; i += 4 * VF_N) {
    vf v0 = vf_load(x + i), v1 = vf_load(x + i + VF_N);
    vf v2 = vf_load(x + i + 2 * VF_N), v3 = vf_load(x + i + 3 * VF_N);
    a0 = cmx_rd_op(op, a0, v0);
    a1 = cmx_rd_op(op, a1, v1);
    a2 = cmx_rd_op(op, a2, v2);
    a3 = cmx_rd_op(op, a3, v3);
    s = vf_add(s, vf_add(vf_add(v0, v1), vf_add(v2, v3)));
  }
  *bs = s;
  return cmx_rd_op(op, cmx_rd_op(op, a0, a1), cmx_rd_op(op, a2, a3));
}
#ifndef CMX_RD_ARG_BLOCK_FN
#define CMX_RD_ARG_BLOCK_FN cmx_rd_arg_block
#endif

/* argmax/argmin of one chunk, with x[best] returned in *m. Lane l keeps
 * the extreme of the elements at l mod VF_N and the number of the block
 * where it last grew strictly (one compare and one select a block, no
 * branch): the first occurrence of the overall extreme M lies in the
 * lowest block number among the lanes that end at M, and that block alone
 * is searched. A NaN is not ordered, so the folds pass over it; a NaN
 * check per block (a running sum, NaN if any element is) sends the rare
 * NaN case to a scan for the first NaN. About two vector ops an element
 * vector (max, add), against four for a max pass with NaN masks and a
 * search pass: 4096 floats in L1, 25 -> 67 GB/s (Cascade Lake, AVX-512).
 * Each block folds from the identity, so blocks overlap in the
 * out-of-order window (from lane, each waited on the last block's tree),
 * and a whole block is straight-line code; the AVX-512 block (a tree with
 * NaN compares) then took 4096 floats in L1 from 69 to 96 GB/s, 64K
 * floats in L2 from 64 to 82 (AVX2, portable block: 47 -> 56 and equal). */
CMX_SIMD_INLINE size_t cmx_rd_arg_chunk(enum cmx_rop op, size_t n,
                                        const float *x, float *m) {
  const int mx = op == CMX_ROP_MAX;
  const vf none = vf_set1(mx ? -INFINITY : INFINITY);
  vf lane = vf_set1(x[0]), lblk = vf_zero(), blk = vf_zero(), s0 = vf_zero();
  for (size_t i0 = 0; i0 < n; i0 += CMX_RD_ARG_BLOCK) {
    vf b, bs;
    if (n - i0 >= CMX_RD_ARG_BLOCK) {
      b = CMX_RD_ARG_BLOCK_FN(op, x + i0, &bs);
    } else {
      vf a0 = none, a1 = none;
      size_t i = i0;
      bs = vf_zero();
      for (; i + VF_N <= n; i += VF_N) {
        vf v = vf_load(x + i);
        a0 = cmx_rd_op(op, a0, v);
        bs = vf_add(bs, v);
      }
      if (i < n) {
        vf v = vf_select(cmx_rd_tail_mask(n - i), vf_load_n(x + i, n - i),
                         none);
        a1 = cmx_rd_op(op, a1, v);
        bs = vf_add(bs, v);
      }
      b = cmx_rd_op(op, a0, a1);
    }
    s0 = vf_add(s0, bs);
    lblk = vf_select(mx ? vf_gt(b, lane) : vf_lt(b, lane), blk, lblk);
    lane = cmx_rd_op(op, lane, b);
    blk = vf_add(blk, vf_set1(1.0f));
  }
  /* Short inputs pay for the horizontal steps: a lane test, not a sum. */
  if (vm_any(vf_isnan(s0)))
    for (size_t i = 0; i < n; i++)
      if (x[i] != x[i]) return *m = x[i], i;
  /* No NaN: every lane holds an element (or x[0], block 0). */
  const float best = mx ? vf_hmax(lane) : vf_hmin(lane);
  const vf vb = vf_set1(best);
  size_t i = 0;
  if (n > CMX_RD_ARG_BLOCK)
    i = (size_t)vf_hmin(vf_select(vf_eq(lane, vb), lblk, vf_set1(INFINITY))) *
        CMX_RD_ARG_BLOCK;
  for (; i + VF_N <= n && !vm_any(vf_eq(vf_load(x + i), vb)); i += VF_N) {}
  while (x[i] != best) i++;
  *m = best;
  return i;
}

/* Chunk by chunk: a later chunk wins only if strictly beyond (or NaN). */
CMX_SIMD_INLINE size_t cmx_rd_arg(enum cmx_rop op, size_t n, const float *x) {
  const size_t chunk = CMX_RD_ARG_CHUNK * CMX_RD_ARG_BLOCK;
  float m, mc;
  size_t best = cmx_rd_arg_chunk(op, n < chunk ? n : chunk, x, &m);
  for (size_t c0 = chunk; c0 < n && m == m; c0 += chunk) {
    size_t i = cmx_rd_arg_chunk(op, n - c0 < chunk ? n - c0 : chunk, x + c0,
                                &mc);
    if (mc != mc || (op == CMX_ROP_MAX ? mc > m : mc < m))
      best = c0 + i, m = mc;
  }
  return best;
}

#endif
