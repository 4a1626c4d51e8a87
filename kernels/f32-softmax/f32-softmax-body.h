/* The softmax loops, written once against the vf/vm API of arch/simd-*.h:
 * each ISA file includes its SIMD header, then this, and defines its listed
 * kernels as one-line calls. Contract in f32-softmax.h. */
#ifndef CMX_F32_SOFTMAX_BODY_H
#define CMX_F32_SOFTMAX_BODY_H
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/common/prefetch.h"
#include "kernels/common/vh16.h"
#include "kernels/common/vmath.h"
#include "kernels/f32-softmax/f32-softmax.h"

static const float cmx_sm_iota[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                      8, 9, 10, 11, 12, 13, 14, 15};

/* Rows of f32 (h = 0), bf16 (h = 1) or f16 (h = 2) elements (vh16.h's
 * vx_ loads and stores): h is a constant at every call. The 16-bit rows
 * run the f32 arithmetic on their widened values and round each result
 * once, so they hold what converting the row, running the f32 _NT row and
 * converting back gives, without the two passes over an f32 copy. */

/* Elements [i, i + k) of x, k < VF_N, the other lanes -inf (exp gives 0
 * there). */
CMX_SIMD_INLINE vf cmx_sm_load_tail(int h, const void *x, size_t i,
                                    size_t k) {
  vm live = vf_lt(vf_load(cmx_sm_iota), vf_set1((float)k));
  return vf_select(live, vx_load_n(h, x, i, k), vf_set1(-INFINITY));
}
/* Element i of x, a whole vector or the tail. */
CMX_SIMD_INLINE vf cmx_sm_load_at(int h, const void *x, size_t i, size_t n) {
  return n - i >= VF_N ? vx_load(h, x, i) : cmx_sm_load_tail(h, x, i, n - i);
}

/* exp(d) for d <= 0 or NaN, the only arguments softmax takes (x minus a
 * max it never exceeds), in 13 vector ops against vm_exp's 20: k =
 * round(d log2e) comes from the 1.5 * 2^23 + 127 bias, r = d - k ln2
 * (Cody-Waite, two fmas) and exp(r) on |r| <= ln2/2 from a degree-5
 * relative-error fit (9.1e-8); no upper clamp (d <= 0). Max error 2.0 ulp
 * over 16M points of [-87.3, 0].
 * 2^k: the bias leaves k + 127 in t's low mantissa bits, so one shift
 * builds it, folded in as s + (r s) P(r). The lower clamp, max(-88, d),
 * takes -inf to k = -127 whose low bits are 0: s = +0, and the result is
 * exactly 0 for every d below ~-87.7 (exp(d) < 2^-126: at most 1.2e-38
 * lost, and no denormal assist) while d in (-87.7, -87.3] rounds into the
 * denormals once. max returns its second operand for a NaN d, which runs
 * through r into the result. Measured and not kept (exp pass, Cascade
 * Lake VM, L1, ns per 16 floats): AVX-512 vscalefps for 2^k P(r), one op
 * fewer, 3.3 against 3.1; an Estrin P(r), 4 cycles shorter, 3.6; a
 * one-fma reduction, 3.0 but 4.8 ulp near -87. */
#define CMX_SM_EXP_BIAS 0x1.8000fep23f
#define CMX_SM_EXP_C5 0x1.0fa834p-7f
#define CMX_SM_EXP_C4 0x1.573a54p-5f
#define CMX_SM_EXP_C3 0x1.555a6ap-3f
#define CMX_SM_EXP_C2 0x1.fffdc6p-2f
#define CMX_SM_EXP_C1 0x1.fffff6p-1f
#define CMX_SM_EXP_LO -88.0f

/* e = 2^k exp(r) from t = k + bias and P(r). */
CMX_SIMD_INLINE vf cmx_sm_exp_scale(vf t, vf r, vf p) {
  vf s = vi_as_vf(vi_sll(vf_as_vi(t), 23));
  return vf_fmadd(vf_mul(r, s), p, s);
}

CMX_SIMD_INLINE vf cmx_sm_exp(vf d) {
  d = vf_max(vf_set1(CMX_SM_EXP_LO), d);
  vf t = vf_fmadd(d, vf_set1(CMX_VM_LOG2E), vf_set1(CMX_SM_EXP_BIAS));
  vf k = vf_sub(t, vf_set1(CMX_SM_EXP_BIAS));
  vf r = vf_fnmadd(k, vf_set1(CMX_VM_LN2_HI), d);
  r = vf_fnmadd(k, vf_set1(CMX_VM_LN2_LO), r);
  vf p = vf_fmadd(vf_set1(CMX_SM_EXP_C5), r, vf_set1(CMX_SM_EXP_C4));
  p = vf_fmadd(p, r, vf_set1(CMX_SM_EXP_C3));
  p = vf_fmadd(p, r, vf_set1(CMX_SM_EXP_C2));
  p = vf_fmadd(p, r, vf_set1(CMX_SM_EXP_C1));
  return cmx_sm_exp_scale(t, r, p);
}

/* cmx_sm_exp of four vectors in place, written step by step across them:
 * each exp is a chain of 12 dependent ops (~45 cycles), and gcc -O2 keeps
 * the source order, so four chains side by side leave the out-of-order
 * window ready work (exp pass on the Cascade Lake VM, L1: 3.4-4.7 ns per
 * 16 floats one exp after the other, 3.1 four side by side). */
CMX_SIMD_INLINE void cmx_sm_exp4(vf *e0, vf *e1, vf *e2, vf *e3) {
  const vf lo = vf_set1(CMX_SM_EXP_LO), l2e = vf_set1(CMX_VM_LOG2E);
  const vf bias = vf_set1(CMX_SM_EXP_BIAS);
  const vf hi = vf_set1(CMX_VM_LN2_HI), lo2 = vf_set1(CMX_VM_LN2_LO);
  vf d0 = vf_max(lo, *e0), d1 = vf_max(lo, *e1);
  vf d2 = vf_max(lo, *e2), d3 = vf_max(lo, *e3);
  vf t0 = vf_fmadd(d0, l2e, bias), t1 = vf_fmadd(d1, l2e, bias);
  vf t2 = vf_fmadd(d2, l2e, bias), t3 = vf_fmadd(d3, l2e, bias);
  vf k0 = vf_sub(t0, bias), k1 = vf_sub(t1, bias);
  vf k2 = vf_sub(t2, bias), k3 = vf_sub(t3, bias);
  d0 = vf_fnmadd(k0, hi, d0), d1 = vf_fnmadd(k1, hi, d1);
  d2 = vf_fnmadd(k2, hi, d2), d3 = vf_fnmadd(k3, hi, d3);
  d0 = vf_fnmadd(k0, lo2, d0), d1 = vf_fnmadd(k1, lo2, d1);
  d2 = vf_fnmadd(k2, lo2, d2), d3 = vf_fnmadd(k3, lo2, d3);
  const vf c5 = vf_set1(CMX_SM_EXP_C5), c4 = vf_set1(CMX_SM_EXP_C4);
  vf p0 = vf_fmadd(c5, d0, c4), p1 = vf_fmadd(c5, d1, c4);
  vf p2 = vf_fmadd(c5, d2, c4), p3 = vf_fmadd(c5, d3, c4);
  const vf c3 = vf_set1(CMX_SM_EXP_C3);
  p0 = vf_fmadd(p0, d0, c3), p1 = vf_fmadd(p1, d1, c3);
  p2 = vf_fmadd(p2, d2, c3), p3 = vf_fmadd(p3, d3, c3);
  const vf c2 = vf_set1(CMX_SM_EXP_C2);
  p0 = vf_fmadd(p0, d0, c2), p1 = vf_fmadd(p1, d1, c2);
  p2 = vf_fmadd(p2, d2, c2), p3 = vf_fmadd(p3, d3, c2);
  const vf c1 = vf_set1(CMX_SM_EXP_C1);
  p0 = vf_fmadd(p0, d0, c1), p1 = vf_fmadd(p1, d1, c1);
  p2 = vf_fmadd(p2, d2, c1), p3 = vf_fmadd(p3, d3, c1);
  *e0 = cmx_sm_exp_scale(t0, d0, p0);
  *e1 = cmx_sm_exp_scale(t1, d1, p1);
  *e2 = cmx_sm_exp_scale(t2, d2, p2);
  *e3 = cmx_sm_exp_scale(t3, d3, p3);
}

/* Per-lane state (m, s0..s3): s holds sum exp(x - m) of the lane's values.
 * The running max starts at -FLT_MAX, not -inf, so m - m_new is never
 * -inf - -inf. A block of four vectors moves m only when a lane's block
 * max exceeds it (rare after the first blocks on real data), so the read
 * pass costs about one exp per element. The compare is false for NaN: a
 * NaN never enters m and reaches S through its own exp instead. */
CMX_SIMD_INLINE void cmx_sm_stats(int h, size_t n, const void *x, float *pm,
                                  float *ps) {
  vf m = vf_set1(-FLT_MAX);
  vf s0 = vf_zero(), s1 = vf_zero(), s2 = vf_zero(), s3 = vf_zero();
  size_t i = 0;
  for (; i + 4 * VF_N <= n; i += 4 * VF_N) {
    vf v0 = vx_load(h, x, i), v1 = vx_load(h, x, i + VF_N);
    vf v2 = vx_load(h, x, i + 2 * VF_N), v3 = vx_load(h, x, i + 3 * VF_N);
    vf bm = vf_max(vf_max(v0, v1), vf_max(v2, v3));
    vm grow = vf_gt(bm, m);
    if (vm_any(grow)) {
      vf mn = vf_select(grow, bm, m);
      vf r = cmx_sm_exp(vf_sub(m, mn));
      s0 = vf_mul(s0, r), s1 = vf_mul(s1, r);
      s2 = vf_mul(s2, r), s3 = vf_mul(s3, r);
      m = mn;
    }
    v0 = vf_sub(v0, m), v1 = vf_sub(v1, m);
    v2 = vf_sub(v2, m), v3 = vf_sub(v3, m);
    cmx_sm_exp4(&v0, &v1, &v2, &v3);
    s0 = vf_add(s0, v0), s1 = vf_add(s1, v1);
    s2 = vf_add(s2, v2), s3 = vf_add(s3, v3);
  }
  s0 = vf_add(vf_add(s0, s1), vf_add(s2, s3));
  for (; i < n; i += VF_N) {
    vf v = cmx_sm_load_at(h, x, i, n);
    vm grow = vf_gt(v, m);
    if (vm_any(grow)) {
      vf mn = vf_select(grow, v, m);
      s0 = vf_mul(s0, cmx_sm_exp(vf_sub(m, mn)));
      m = mn;
    }
    s0 = vf_add(s0, cmx_sm_exp(vf_sub(v, m)));
  }
  /* Merge the lanes: S = sum_l s_l exp(m_l - M). */
  float M = vf_hmax(m);
  *pm = M;
  *ps = vf_hsum(vf_mul(s0, cmx_sm_exp(vf_sub(m, vf_set1(M)))));
}

/* Rows up to this many floats (64 KiB) stay in L2 between passes: they
 * take a max pass (the one read from memory), an exp pass that stores
 * exp(x - M) (log_softmax: x - M) into y while summing it, and a scaling
 * (shifting) pass over y, so each element costs one exp and y's stores
 * overlap the exp work. (A log_softmax that stored only in a last pass of
 * its own: 16M floats on one Cascade Lake VM core took 26 ms of CPU
 * against softmax's 19.) Longer rows take the online statistics pass and
 * recompute exp in the write pass, so memory sees one read and one write
 * whatever n is. */
#define CMX_SOFTMAX_CACHED_N 16384

/* Eight vectors per step into four maxima: two loads and two maxes a
 * cycle without a max waiting on the one before it. */
CMX_SIMD_INLINE float cmx_sm_max(int h, size_t n, const void *x) {
  vf m0 = vf_set1(-FLT_MAX), m1 = m0, m2 = m0, m3 = m0;
  size_t i = 0;
  for (; i + 8 * VF_N <= n; i += 8 * VF_N) {
    m0 = vf_max(m0, vf_max(vx_load(h, x, i), vx_load(h, x, i + 4 * VF_N)));
    m1 = vf_max(m1,
                vf_max(vx_load(h, x, i + VF_N), vx_load(h, x, i + 5 * VF_N)));
    m2 = vf_max(m2, vf_max(vx_load(h, x, i + 2 * VF_N),
                           vx_load(h, x, i + 6 * VF_N)));
    m3 = vf_max(m3, vf_max(vx_load(h, x, i + 3 * VF_N),
                           vx_load(h, x, i + 7 * VF_N)));
  }
  for (; i < n; i += VF_N) m0 = vf_max(m0, cmx_sm_load_at(h, x, i, n));
  return vf_hmax(vf_max(vf_max(m0, m1), vf_max(m2, m3)));
}

/* The lines of next[i, i + 4 VF_N) (elements of type h): the exp passes
 * walk the next row (same length) a step at a time, spreading its fetches
 * over the pass. */
CMX_SIMD_INLINE void cmx_sm_prefetch(int h, const void *next, size_t i) {
  const size_t es = h ? 2 : 4;
  if (next) cmx_prefetch_span((const char *)next + i * es, 4 * VF_N * es);
}

/* sum exp(x - M), storing the terms into y (the cached softmax's exp
 * pass). A NaN in x (skipped by the max) reaches the sum here. */
CMX_SIMD_INLINE float cmx_sm_expsum(int h, size_t n, const void *x, float M,
                                    float *y, const void *next) {
  const vf vmx = vf_set1(M);
  vf s0 = vf_zero(), s1 = vf_zero(), s2 = vf_zero(), s3 = vf_zero();
  size_t i = 0;
  for (; i + 4 * VF_N <= n; i += 4 * VF_N) {
    cmx_sm_prefetch(h, next, i);
    vf e0 = vf_sub(vx_load(h, x, i), vmx);
    vf e1 = vf_sub(vx_load(h, x, i + VF_N), vmx);
    vf e2 = vf_sub(vx_load(h, x, i + 2 * VF_N), vmx);
    vf e3 = vf_sub(vx_load(h, x, i + 3 * VF_N), vmx);
    cmx_sm_exp4(&e0, &e1, &e2, &e3);
    s0 = vf_add(s0, e0), s1 = vf_add(s1, e1);
    s2 = vf_add(s2, e2), s3 = vf_add(s3, e3);
    vf_store(y + i, e0);
    vf_store(y + i + VF_N, e1);
    vf_store(y + i + 2 * VF_N, e2);
    vf_store(y + i + 3 * VF_N, e3);
  }
  for (; i < n; i += VF_N) {
    size_t k = n - i < VF_N ? n - i : VF_N;
    vf e = cmx_sm_exp(vf_sub(cmx_sm_load_at(h, x, i, n), vmx));
    s0 = vf_add(s0, e);
    vf_store_n(y + i, e, k);
  }
  return vf_hsum(vf_add(vf_add(s0, s1), vf_add(s2, s3)));
}

/* sum exp(x - M), storing x - M into y: the cached log_softmax's stores
 * overlap its exp work, as the cached softmax's do, instead of forming a
 * store-only pass of their own. */
CMX_SIMD_INLINE float cmx_sm_expsum_shift(size_t n, const float *x, float M,
                                          float *y, const float *next) {
  const vf vmx = vf_set1(M);
  vf s0 = vf_zero(), s1 = vf_zero(), s2 = vf_zero(), s3 = vf_zero();
  size_t i = 0;
  for (; i + 4 * VF_N <= n; i += 4 * VF_N) {
    cmx_sm_prefetch(0, next, i);
    vf d0 = vf_sub(vf_load(x + i), vmx), d1 = vf_sub(vf_load(x + i + VF_N), vmx);
    vf d2 = vf_sub(vf_load(x + i + 2 * VF_N), vmx);
    vf d3 = vf_sub(vf_load(x + i + 3 * VF_N), vmx);
    vf_store(y + i, d0);
    vf_store(y + i + VF_N, d1);
    vf_store(y + i + 2 * VF_N, d2);
    vf_store(y + i + 3 * VF_N, d3);
    cmx_sm_exp4(&d0, &d1, &d2, &d3);
    s0 = vf_add(s0, d0), s1 = vf_add(s1, d1);
    s2 = vf_add(s2, d2), s3 = vf_add(s3, d3);
  }
  for (; i < n; i += VF_N) {
    size_t k = n - i < VF_N ? n - i : VF_N;
    vf d = vf_sub(cmx_sm_load_at(0, x, i, n), vmx);
    s0 = vf_add(s0, cmx_sm_exp(d));
    vf_store_n(y + i, d, k);
  }
  return vf_hsum(vf_add(vf_add(s0, s1), vf_add(s2, s3)));
}

/* Elements before y + a0 is vector-aligned, at most n. */
CMX_SIMD_INLINE size_t cmx_sm_head(const void *y, size_t n) {
  const size_t a = VF_N * sizeof(float);
  const size_t a0 = (a - ((uintptr_t)y & (a - 1))) % a / sizeof(float);
  return a0 < n ? a0 : n;
}

/* Four vectors of results to y at element i: streamed when nt (f32 rows
 * only, y + i vector-aligned), else stored, the 16-bit types two vectors
 * at a time (vx_store2); one vector goes through vx_store_nt. h and nt
 * are constants at each call. */
CMX_SIMD_INLINE void cmx_sm_put4(int h, int nt, void *y, size_t i, vf v0,
                                 vf v1, vf v2, vf v3) {
  if (!h && nt) {
    vf_stream((float *)y + i, v0);
    vf_stream((float *)y + i + VF_N, v1);
    vf_stream((float *)y + i + 2 * VF_N, v2);
    vf_stream((float *)y + i + 3 * VF_N, v3);
    return;
  }
  vx_store2(h, y, i, i + VF_N, v0, v1);
  vx_store2(h, y, i + 2 * VF_N, i + 3 * VF_N, v2, v3);
}

/* y = t * c (mul) or t - c, t either y itself or apart from it, t of type
 * ht and y of type hy: the last pass of the cached rows (in place) and of
 * the short streaming rows (nt: an f32 y's vector-aligned body streamed).
 * ht, hy, mul and nt are constants at each call. */
CMX_SIMD_INLINE vf cmx_sm_apply1(vf v, vf c, int mul) {
  return mul ? vf_mul(v, c) : vf_sub(v, c);
}
CMX_SIMD_INLINE void cmx_sm_apply(int ht, int hy, size_t n, const void *t,
                                  void *y, float c, int mul, int nt) {
  const vf vc = vf_set1(c);
  size_t i = nt && !hy ? cmx_sm_head(y, n) : 0;
  if (i)
    vx_store_n(hy, y, 0, cmx_sm_apply1(vx_load_n(ht, t, 0, i), vc, mul), i);
  for (; i + 4 * VF_N <= n; i += 4 * VF_N)
    cmx_sm_put4(hy, nt, y, i, cmx_sm_apply1(vx_load(ht, t, i), vc, mul),
                cmx_sm_apply1(vx_load(ht, t, i + VF_N), vc, mul),
                cmx_sm_apply1(vx_load(ht, t, i + 2 * VF_N), vc, mul),
                cmx_sm_apply1(vx_load(ht, t, i + 3 * VF_N), vc, mul));
  for (; i + VF_N <= n; i += VF_N)
    vx_store_nt(hy, nt, y, i, cmx_sm_apply1(vx_load(ht, t, i), vc, mul));
  if (i < n)
    vx_store_n(hy, y, i, cmx_sm_apply1(vx_load_n(ht, t, i, n - i), vc, mul),
               n - i);
}
CMX_SIMD_INLINE void cmx_sm_shift(size_t n, float *y, float c) {
  cmx_sm_apply(0, 0, n, y, y, c, 0, 0);
}
CMX_SIMD_INLINE void cmx_sm_scale(size_t n, float *y, float c) {
  cmx_sm_apply(0, 0, n, y, y, c, 1, 0);
}

/* One result of the online rows' write pass: exp(v - M) * c (softmax, c =
 * 1 / S) or (v - M) - c (log, c = log S). */
CMX_SIMD_INLINE vf cmx_sm_out(int log, vf v, vf vmx, vf c) {
  v = vf_sub(v, vmx);
  return log ? vf_sub(v, c) : vf_mul(cmx_sm_exp(v), c);
}

/* The online rows' write pass over x (type h) into y (type h): exp
 * computed again (softmax) or x shifted (log), four vectors a step. nt:
 * an f32 y's vector-aligned body streamed. h, nt and log are constants at
 * each call. */
CMX_SIMD_INLINE void cmx_sm_write(int h, int nt, int log, size_t n,
                                  const void *x, void *y, float M, float S) {
  const vf vmx = vf_set1(M), c = vf_set1(log ? logf(S) : 1.0f / S);
  size_t i = nt && !h ? cmx_sm_head(y, n) : 0;
  if (i) vx_store_n(h, y, 0, cmx_sm_out(log, vx_load_n(h, x, 0, i), vmx, c), i);
  for (; i + 4 * VF_N <= n; i += 4 * VF_N) {
    vf e0 = vf_sub(vx_load(h, x, i), vmx);
    vf e1 = vf_sub(vx_load(h, x, i + VF_N), vmx);
    vf e2 = vf_sub(vx_load(h, x, i + 2 * VF_N), vmx);
    vf e3 = vf_sub(vx_load(h, x, i + 3 * VF_N), vmx);
    if (log) {
      e0 = vf_sub(e0, c), e1 = vf_sub(e1, c);
      e2 = vf_sub(e2, c), e3 = vf_sub(e3, c);
    } else {
      cmx_sm_exp4(&e0, &e1, &e2, &e3);
      e0 = vf_mul(e0, c), e1 = vf_mul(e1, c);
      e2 = vf_mul(e2, c), e3 = vf_mul(e3, c);
    }
    cmx_sm_put4(h, nt, y, i, e0, e1, e2, e3);
  }
  for (; i + VF_N <= n; i += VF_N)
    vx_store_nt(h, nt, y, i, cmx_sm_out(log, vx_load(h, x, i), vmx, c));
  if (i < n)
    vx_store_n(h, y, i, cmx_sm_out(log, vx_load_n(h, x, i, n - i), vmx, c),
               n - i);
}

CMX_SIMD_INLINE void cmx_sm_softmax(size_t n, const float *x, float *y,
                                    const float *next) {
  float M, S;
  if (n <= CMX_SOFTMAX_CACHED_N) {
    M = cmx_sm_max(0, n, x);
    S = cmx_sm_expsum(0, n, x, M, y, next);
    cmx_sm_scale(n, y, 1.0f / S);
    return;
  }
  cmx_sm_stats(0, n, x, &M, &S);
  cmx_sm_write(0, 0, 0, n, x, y, M, S);
}

CMX_SIMD_INLINE void cmx_sm_log_softmax(size_t n, const float *x, float *y,
                                        const float *next) {
  float M, S;
  if (n <= CMX_SOFTMAX_CACHED_N) {
    M = cmx_sm_max(0, n, x);
    S = cmx_sm_expsum_shift(n, x, M, y, next);
    cmx_sm_shift(n, y, logf(S));
    return;
  }
  cmx_sm_stats(0, n, x, &M, &S);
  cmx_sm_write(0, 0, 1, n, x, y, M, S);
}

/* The streaming rows (contract in f32-softmax.h), and the 16-bit rows
 * (h16-softmax.inc), which take the same steps with plain stores. The
 * statistics come from the online pass for every long row: its exp work
 * overlaps the reads of x from memory, as the write pass's exp work
 * overlaps the streaming stores; a separate max pass would be a pure read
 * burst and a scaling pass a pure store burst.
 * Rows of up to CMX_SM_NT_ROW elements take the cached rows' max and exp
 * passes, the exp terms into a buffer on the stack (L1) instead of into y,
 * and write y from it: no read-for-ownership of y and one exp an element
 * (the online form computes it twice; Zen 5 VM, 1 thread, softmax of
 * 4096 x 4096: cached rows 3.43 ms, online streaming 4.28, this 2.9).
 * Longer rows take the online form. Neither fences: the driver does, once
 * per range. */
#define CMX_SM_NT_ROW 4096
CMX_SIMD_INLINE void cmx_sm_softmax_t(int h, size_t n, const void *x, void *y,
                                      const void *next) {
  float M, S;
  if (n <= CMX_SM_NT_ROW) {
    float t[CMX_SM_NT_ROW] __attribute__((aligned(64)));
    M = cmx_sm_max(h, n, x);
    S = cmx_sm_expsum(h, n, x, M, t, next);
    cmx_sm_apply(0, h, n, t, y, 1.0f / S, 1, 1);
    return;
  }
  cmx_sm_stats(h, n, x, &M, &S);
  cmx_sm_write(h, 1, 0, n, x, y, M, S);
}

/* log_softmax: the short rows write (x - M) - log S from x itself (in
 * cache after the two passes), as the contract and the cached rows round
 * it; the buffer only takes the exp pass's stores. (x - (M + log S)
 * rounded M + log S first: with M = 3e38 that is M, and every result 0
 * instead of -log S.) */
CMX_SIMD_INLINE void cmx_sm_log_softmax_t(int h, size_t n, const void *x,
                                          void *y, const void *next) {
  float M, S;
  if (n <= CMX_SM_NT_ROW) {
    float t[CMX_SM_NT_ROW] __attribute__((aligned(64)));
    M = cmx_sm_max(h, n, x);
    S = cmx_sm_expsum(h, n, x, M, t, next);
    cmx_sm_write(h, 1, 1, n, x, y, M, S);
    return;
  }
  cmx_sm_stats(h, n, x, &M, &S);
  cmx_sm_write(h, 1, 1, n, x, y, M, S);
}
CMX_SIMD_INLINE void cmx_sm_softmax_nt(size_t n, const float *x, float *y,
                                       const float *next) {
  cmx_sm_softmax_t(0, n, x, y, next);
}
CMX_SIMD_INLINE void cmx_sm_log_softmax_nt(size_t n, const float *x,
                                           float *y, const float *next) {
  cmx_sm_log_softmax_t(0, n, x, y, next);
}

/* The fold (contract in f32-softmax.h): a max pass, then exp in place
 * with the sum, vectors of VF_N with a masked tail (-inf in its dead lanes
 * for the max, 0 for the sum). */
CMX_SIMD_INLINE float cmx_sm_fold(size_t n, float *s, float *pm, float *pl) {
  vf mv = vf_set1(-INFINITY);
  vm nan = vf_lt(vf_zero(), vf_zero());
  size_t i = 0;
  for (; i + VF_N <= n; i += VF_N) {
    const vf v = vf_load(s + i);
    nan = vm_or(nan, vf_isnan(v));
    mv = vf_max(mv, v);
  }
  if (i < n) {
    const vf v = cmx_sm_load_tail(0, s, i, n - i);
    nan = vm_or(nan, vf_isnan(v));
    mv = vf_max(mv, v);
  }
  const float mx = vm_any(nan) ? __builtin_nanf("") : vf_hmax(mv);
  const float mold = *pm;
  const float M = isnan(mx) || mx > mold ? mx : mold;
  if (M == -INFINITY) {
    for (i = 0; i < n; i++) s[i] = 0.0f;
    return -1.0f;
  }
  const vf vM = vf_set1(M);
  vf a0 = vf_zero(), a1 = vf_zero();
  for (i = 0; i + VF_N <= n; i += VF_N) {
    const vf e = vm_exp(vf_sub(vf_load(s + i), vM));
    vf_store(s + i, e);
    a0 = vf_add(a0, e);
  }
  if (i < n) {
    const vm live = vf_lt(vf_load(cmx_sm_iota), vf_set1((float)(n - i)));
    const vf e = vf_select(
        live, vm_exp(vf_sub(vf_load_n(s + i, n - i), vM)), vf_zero());
    vf_store_n(s + i, e, n - i);
    a1 = e;
  }
  /* exp(0) is 1 exactly: no call while the max holds (most steps) */
  const float alpha = mold == -INFINITY ? 0.0f
                      : mold == M        ? 1.0f
                                         : expf(mold - M);
  *pl = *pl * alpha + vf_hsum(vf_add(a0, a1));
  *pm = M;
  return alpha;
}

/* A listed kernel: one of the row functions above. */
#define CMX_SM_DEFINE_FOLD(name)                                           \
  float name(size_t n, float *s, float *m, float *l) {                    \
    return cmx_sm_fold(n, s, m, l);                                       \
  }

#define CMX_SM_DEFINE(name, row)                                          \
  void name(size_t n, const float *x, float *y, const float *next) {     \
    row(n, x, y, next);                                                  \
  }

/* A listed 16-bit row: h 1 (bf16) or 2 (f16), log 0 or 1. */
#define CMX_SM_DEFINE_H16(name, h, log)                                   \
  void name(size_t n, const void *x, void *y, const void *next) {        \
    if (log) cmx_sm_log_softmax_t(h, n, x, y, next);                     \
    else cmx_sm_softmax_t(h, n, x, y, next);                             \
  }

#endif
