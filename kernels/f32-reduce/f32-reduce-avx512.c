/* f32 reductions for AVX-512F (16 lanes, masked tails): the shared loops of
 * f32-reduce-body.h instantiated with arch/simd-avx512.h. Contract in
 * f32-reduce.h. */
#include "arch/simd-avx512.h"
#include "kernels/common/vmath.h"
#include "kernels/f32-reduce/f32-reduce.h"

/* argmax/argmin's whole block, below. */
CMX_SIMD_INLINE __m512 cmx_rd_arg_block__avx512(enum cmx_rop op,
                                                const float *x, __m512 *bs);
#define CMX_RD_ARG_BLOCK_FN cmx_rd_arg_block__avx512
#include "kernels/f32-reduce/f32-reduce-body.h"

float cmx_f32_rsum_ukr__avx512(size_t n, const float *x) {
  return cmx_rd_inner(CMX_ROP_SUM, n, x);
}
float cmx_f32_rprod_ukr__avx512(size_t n, const float *x) {
  return cmx_rd_inner(CMX_ROP_PROD, n, x);
}
float cmx_f32_rmax_ukr__avx512(size_t n, const float *x) {
  return cmx_rd_minmax(CMX_ROP_MAX, n, x);
}
float cmx_f32_rmin_ukr__avx512(size_t n, const float *x) {
  return cmx_rd_minmax(CMX_ROP_MIN, n, x);
}

void cmx_f32_rsum_outer_ukr__avx512(size_t rows, size_t n, const float *x,
                                    size_t ldx, float *acc) {
  cmx_rd_outer(CMX_ROP_SUM, rows, n, x, ldx, acc);
}
void cmx_f32_rprod_outer_ukr__avx512(size_t rows, size_t n, const float *x,
                                     size_t ldx, float *acc) {
  cmx_rd_outer(CMX_ROP_PROD, rows, n, x, ldx, acc);
}
void cmx_f32_rmax_outer_ukr__avx512(size_t rows, size_t n, const float *x,
                                    size_t ldx, float *acc) {
  cmx_rd_outer(CMX_ROP_MAX, rows, n, x, ldx, acc);
}
void cmx_f32_rmin_outer_ukr__avx512(size_t rows, size_t n, const float *x,
                                    size_t ldx, float *acc) {
  cmx_rd_outer(CMX_ROP_MIN, rows, n, x, ldx, acc);
}

float cmx_f32_rsumsqdev_ukr__avx512(size_t n, const float *x, float c,
                                  float *sum) {
  return cmx_rd_sumsq(n, x, c, sum);
}
/* exp(x - c) as 2^y, y = x log2e - c log2e: one fma gives y (the product
 * x log2e is exact inside it; c log2e = chi + clo, and the constant factor
 * 2^-clo is applied to the sum once), vreduceps splits y into floor(y) and
 * f = y - floor(y) in [0, 1), a degree-5 minimax polynomial gives 2^f
 * (1.2 ulp), and vscalefps multiplies by 2^floor(y), the same floor, with
 * overflow to inf built in (the contract's retry signal). Terms under
 * 2^-126 would be denormal, which costs a microcode assist per vector: the
 * kernel runs with FTZ/DAZ set instead of clamping y (a vmaxps a vector,
 * 2.2 -> 2.5 ns a vector here), so such terms count as 0; restoring
 * MXCSR also drops the exception flags the loop raised. 9 vector ops a
 * vector against the portable loop's 17: 12 -> 27 GB/s in L1 (4096 floats,
 * Cascade Lake, median of 41 interleaved runs). */
CMX_SIMD_INLINE __m512 cmx_rd_exp2_sumterm__avx512(__m512 x, __m512 l2e,
                                                  __m512 nchi) {
  __m512 y = _mm512_fmadd_ps(x, l2e, nchi);
  __m512 f = _mm512_reduce_ps(y, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 p = _mm512_set1_ps(0x1.ec320ap-10f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0x1.26900cp-7f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0x1.c95446p-5f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0x1.ebd5a8p-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0x1.62e4f6p-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0x1.fffffep-1f));
  return _mm512_scalef_ps(p, y);
}

float cmx_f32_rsumexp_ukr__avx512(size_t n, const float *x, float c) {
  /* Below 2^20, |clo| <= 2^-4 and 2^-clo is a plain float; larger
   * shifts (and NaN) take the portable loop. */
  if (!(fabsf(c) < 0x1p20f)) return cmx_rd_mapsum(1, n, x, c);
  const float chi = c * CMX_VM_LOG2E, clo = fmaf(c, CMX_VM_LOG2E, -chi);
  const __m512 l2e = _mm512_set1_ps(CMX_VM_LOG2E), nchi = _mm512_set1_ps(-chi);
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(csr | 0x8040); /* FTZ | DAZ */
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    /* 9 ops a vector: prefetch as the body's loops do. */
    cmx_rd_prefetch(x, i, n);
    a0 = _mm512_add_ps(a0, cmx_rd_exp2_sumterm__avx512(
                               _mm512_loadu_ps(x + i), l2e, nchi));
    a1 = _mm512_add_ps(a1, cmx_rd_exp2_sumterm__avx512(
                               _mm512_loadu_ps(x + i + 16), l2e, nchi));
    a2 = _mm512_add_ps(a2, cmx_rd_exp2_sumterm__avx512(
                               _mm512_loadu_ps(x + i + 32), l2e, nchi));
    a3 = _mm512_add_ps(a3, cmx_rd_exp2_sumterm__avx512(
                               _mm512_loadu_ps(x + i + 48), l2e, nchi));
  }
  for (; i + 16 <= n; i += 16)
    a0 = _mm512_add_ps(a0, cmx_rd_exp2_sumterm__avx512(_mm512_loadu_ps(x + i),
                                                      l2e, nchi));
  if (i < n) {
    const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
    a1 = _mm512_mask_add_ps(
        a1, m, a1,
        cmx_rd_exp2_sumterm__avx512(_mm512_maskz_loadu_ps(m, x + i), l2e,
                                    nchi));
  }
  const float s =
      _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1),
                                         _mm512_add_ps(a2, a3)));
  _mm_setcsr(csr);
  /* 2^-clo = e^t, |t| <= 2^-4 ln2: Taylor to t^4 is within 2e-9. */
  const float t = -clo * 0x1.62e43p-1f;
  const float e = fmaf(
      fmaf(fmaf(fmaf(1.0f / 24.0f, t, 1.0f / 6.0f), t, 0.5f), t, 1.0f), t,
      1.0f);
  return s * e;
}

size_t cmx_f32_rargmax_ukr__avx512(size_t n, const float *x) {
  return cmx_rd_arg(CMX_ROP_MAX, n, x);
}
size_t cmx_f32_rargmin_ukr__avx512(size_t n, const float *x) {
  return cmx_rd_arg(CMX_ROP_MIN, n, x);
}

/* A whole argmax/argmin block as a tree of pairs: the 16 vectors fold in
 * 15 max (min) ops, and one ordered compare a pair, into a mask, checks
 * for NaN (the portable block adds every vector for that: 31 ops against
 * 23, the compares on their own port). Two mask chains keep the compares'
 * latency off the block's path. */
CMX_SIMD_INLINE __m512 cmx_rd_arg_block__avx512(enum cmx_rop op,
                                                const float *x, __m512 *bs) {
  _Static_assert(CMX_RD_ARG_BLOCK == 256, "a block is 16 vectors");
  __mmask16 ok0 = 0xffff, ok1 = 0xffff;
  __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
  ok0 = _mm512_mask_cmp_ps_mask(ok0, v0, v1, _CMP_ORD_Q);
  const __m512 p0 = cmx_rd_op(op, v0, v1);
  v0 = _mm512_loadu_ps(x + 32), v1 = _mm512_loadu_ps(x + 48);
  ok1 = _mm512_mask_cmp_ps_mask(ok1, v0, v1, _CMP_ORD_Q);
  const __m512 p1 = cmx_rd_op(op, v0, v1);
  v0 = _mm512_loadu_ps(x + 64), v1 = _mm512_loadu_ps(x + 80);
  ok0 = _mm512_mask_cmp_ps_mask(ok0, v0, v1, _CMP_ORD_Q);
  const __m512 p2 = cmx_rd_op(op, v0, v1);
  v0 = _mm512_loadu_ps(x + 96), v1 = _mm512_loadu_ps(x + 112);
  ok1 = _mm512_mask_cmp_ps_mask(ok1, v0, v1, _CMP_ORD_Q);
  const __m512 p3 = cmx_rd_op(op, v0, v1);
  v0 = _mm512_loadu_ps(x + 128), v1 = _mm512_loadu_ps(x + 144);
  ok0 = _mm512_mask_cmp_ps_mask(ok0, v0, v1, _CMP_ORD_Q);
  const __m512 p4 = cmx_rd_op(op, v0, v1);
  v0 = _mm512_loadu_ps(x + 160), v1 = _mm512_loadu_ps(x + 176);
  ok1 = _mm512_mask_cmp_ps_mask(ok1, v0, v1, _CMP_ORD_Q);
  const __m512 p5 = cmx_rd_op(op, v0, v1);
  v0 = _mm512_loadu_ps(x + 192), v1 = _mm512_loadu_ps(x + 208);
  ok0 = _mm512_mask_cmp_ps_mask(ok0, v0, v1, _CMP_ORD_Q);
  const __m512 p6 = cmx_rd_op(op, v0, v1);
  v0 = _mm512_loadu_ps(x + 224), v1 = _mm512_loadu_ps(x + 240);
  ok1 = _mm512_mask_cmp_ps_mask(ok1, v0, v1, _CMP_ORD_Q);
  const __m512 p7 = cmx_rd_op(op, v0, v1);
  *bs = _mm512_mask_mov_ps(_mm512_set1_ps(NAN), ok0 & ok1,
                           _mm512_setzero_ps());
  return cmx_rd_op(op,
                   cmx_rd_op(op, cmx_rd_op(op, p0, p1), cmx_rd_op(op, p2, p3)),
                   cmx_rd_op(op, cmx_rd_op(op, p4, p5), cmx_rd_op(op, p6, p7)));
}

/* The 16-bit inner and outer kernels (h16-reduce.inc). */
CMX_RD_DEFINE_OUTER16(cmx_bf16_rsum_outer_ukr__avx512, 1, CMX_ROP_SUM)
CMX_RD_DEFINE_OUTER16(cmx_bf16_rprod_outer_ukr__avx512, 1, CMX_ROP_PROD)
CMX_RD_DEFINE_OUTER16(cmx_bf16_rmax_outer_ukr__avx512, 1, CMX_ROP_MAX)
CMX_RD_DEFINE_OUTER16(cmx_bf16_rmin_outer_ukr__avx512, 1, CMX_ROP_MIN)
CMX_RD_DEFINE_OUTER16(cmx_f16_rsum_outer_ukr__avx512, 2, CMX_ROP_SUM)
CMX_RD_DEFINE_OUTER16(cmx_f16_rprod_outer_ukr__avx512, 2, CMX_ROP_PROD)
CMX_RD_DEFINE_OUTER16(cmx_f16_rmax_outer_ukr__avx512, 2, CMX_ROP_MAX)
CMX_RD_DEFINE_OUTER16(cmx_f16_rmin_outer_ukr__avx512, 2, CMX_ROP_MIN)
CMX_RD_DEFINE_INNER16(cmx_bf16_rsum_ukr__avx512, 1, CMX_ROP_SUM)
CMX_RD_DEFINE_INNER16(cmx_bf16_rprod_ukr__avx512, 1, CMX_ROP_PROD)
CMX_RD_DEFINE_INNER16(cmx_bf16_rmax_ukr__avx512, 1, CMX_ROP_MAX)
CMX_RD_DEFINE_INNER16(cmx_bf16_rmin_ukr__avx512, 1, CMX_ROP_MIN)
CMX_RD_DEFINE_INNER16(cmx_f16_rsum_ukr__avx512, 2, CMX_ROP_SUM)
CMX_RD_DEFINE_INNER16(cmx_f16_rprod_ukr__avx512, 2, CMX_ROP_PROD)
CMX_RD_DEFINE_INNER16(cmx_f16_rmax_ukr__avx512, 2, CMX_ROP_MAX)
CMX_RD_DEFINE_INNER16(cmx_f16_rmin_ukr__avx512, 2, CMX_ROP_MIN)
