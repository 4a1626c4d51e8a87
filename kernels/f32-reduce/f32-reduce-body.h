/* The f32 reduction loops, written once against the vf/vm API of
 * arch/simd-*.h. Each ISA file includes its SIMD header and vmath.h, then
 * this, and defines its listed kernels as one-line calls, so every ISA runs
 * the same loops (and the same summation order for a given VF_N). The
 * contract is in f32-reduce.h. */
#ifndef CMX_F32_REDUCE_BODY_H
#define CMX_F32_REDUCE_BODY_H
#include <stddef.h>

#include "f32-reduce.h"

/* Lane numbers as floats: compared with the count of a tail they give its
 * lane mask through the portable API (VF_N <= 16 on every ISA). */
static const float cmx_rd_iota[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                      8, 9, 10, 11, 12, 13, 14, 15};

CMX_SIMD_INLINE vm cmx_rd_tail_mask(size_t n) {
  return vf_lt(vf_load(cmx_rd_iota), vf_set1((float)n));
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

/* Inner reduction. Four independent accumulators keep the adds off the
 * critical path so the loop runs at memory speed; lanes combine in a fixed
 * tree ((a0 + a1) + (a2 + a3), then vf_hsum), so the order depends on n
 * only. The tail fills its dead lanes with the op's neutral value (x[0]
 * for max/min). */
CMX_SIMD_INLINE float cmx_rd_inner(enum cmx_rop op, size_t n, const float *x) {
  const int minmax = op == CMX_ROP_MAX || op == CMX_ROP_MIN;
  const vf init = vf_set1(op == CMX_ROP_SUM    ? 0.0f
                          : op == CMX_ROP_PROD ? 1.0f
                                               : x[0]);
  vf a0 = init, a1 = init, a2 = init, a3 = init;
  vm nan = cmx_rd_none();
  size_t i = 0;
  for (; i + 4 * VF_N <= n; i += 4 * VF_N) {
    vf v0 = vf_load(x + i), v1 = vf_load(x + i + VF_N);
    vf v2 = vf_load(x + i + 2 * VF_N), v3 = vf_load(x + i + 3 * VF_N);
    a0 = cmx_rd_op(op, a0, v0);
    a1 = cmx_rd_op(op, a1, v1);
    a2 = cmx_rd_op(op, a2, v2);
    a3 = cmx_rd_op(op, a3, v3);
    if (minmax)
      nan = vm_or(nan, vm_or(vm_or(vf_isnan(v0), vf_isnan(v1)),
                             vm_or(vf_isnan(v2), vf_isnan(v3))));
  }
  for (; i + VF_N <= n; i += VF_N) {
    vf v = vf_load(x + i);
    a0 = cmx_rd_op(op, a0, v);
    if (minmax) nan = vm_or(nan, vf_isnan(v));
  }
  if (i < n) {
    vf v = vf_select(cmx_rd_tail_mask(n - i), vf_load_n(x + i, n - i), init);
    a1 = cmx_rd_op(op, a1, v);
    if (minmax) nan = vm_or(nan, vf_isnan(v));
  }
  vf a = cmx_rd_op(op, cmx_rd_op(op, a0, a1), cmx_rd_op(op, a2, a3));
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

/* Rows handled per pass over acc: acc is loaded and stored once per block
 * of this many rows, and the rows stream side by side, which hardware
 * prefetchers follow. */
#define CMX_RD_OUTER_ROWS 16

/* Outer reduction: each acc lane sees its rows in order 0, 1, ..., so the
 * result is that of the reference loop exactly. */
CMX_SIMD_INLINE void cmx_rd_outer(enum cmx_rop op, size_t rows, size_t n,
                                  const float *x, size_t ldx, float *acc) {
  for (size_t i0 = 0; i0 < rows; i0 += CMX_RD_OUTER_ROWS) {
    const size_t rb =
        rows - i0 < CMX_RD_OUTER_ROWS ? rows - i0 : CMX_RD_OUTER_ROWS;
    const float *xb = x + i0 * ldx;
    size_t j = 0;
    for (; j + 4 * VF_N <= n; j += 4 * VF_N) {
      vf a0 = vf_load(acc + j), a1 = vf_load(acc + j + VF_N);
      vf a2 = vf_load(acc + j + 2 * VF_N), a3 = vf_load(acc + j + 3 * VF_N);
      const float *p = xb + j;
      for (size_t r = 0; r < rb; r++, p += ldx) {
        a0 = cmx_rd_op_nan(op, a0, vf_load(p));
        a1 = cmx_rd_op_nan(op, a1, vf_load(p + VF_N));
        a2 = cmx_rd_op_nan(op, a2, vf_load(p + 2 * VF_N));
        a3 = cmx_rd_op_nan(op, a3, vf_load(p + 3 * VF_N));
      }
      vf_store(acc + j, a0);
      vf_store(acc + j + VF_N, a1);
      vf_store(acc + j + 2 * VF_N, a2);
      vf_store(acc + j + 3 * VF_N, a3);
    }
    for (; j + VF_N <= n; j += VF_N) {
      vf a = vf_load(acc + j);
      const float *p = xb + j;
      for (size_t r = 0; r < rb; r++, p += ldx)
        a = cmx_rd_op_nan(op, a, vf_load(p));
      vf_store(acc + j, a);
    }
    if (j < n) {
      const size_t t = n - j;
      vf a = vf_load_n(acc + j, t);
      const float *p = xb + j;
      for (size_t r = 0; r < rb; r++, p += ldx)
        a = cmx_rd_op_nan(op, a, vf_load_n(p, t));
      vf_store_n(acc + j, a, t);
    }
  }
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

/* argmax/argmin: the NaN-aware max (min) pass, then the first index that
 * holds it (or the first NaN). The second pass stops at the hit, so it
 * reads the whole array only when the extreme is near its end. */
CMX_SIMD_INLINE size_t cmx_rd_arg(enum cmx_rop op, size_t n, const float *x) {
  const float m = cmx_rd_inner(op, n, x);
  const int nan = m != m;
  const vf vmv = vf_set1(m);
  size_t i = 0;
  for (; i + VF_N <= n; i += VF_N) {
    vf v = vf_load(x + i);
    if (vm_any(nan ? vf_isnan(v) : vf_eq(v, vmv))) break;
  }
  /* At most one vector plus the tail is left: find the lane. */
  for (; i < n; i++)
    if (nan ? x[i] != x[i] : x[i] == m) return i;
  return 0;
}

#endif
