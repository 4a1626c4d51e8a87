/* f32 reductions for AVX2 + FMA (8 lanes): the shared loops of
 * f32-reduce-body.h instantiated with arch/simd-avx2.h. Contract in
 * f32-reduce.h. */
#include "arch/simd-avx2.h"
#include "kernels/common/vmath.h"
#include "kernels/f32-reduce/f32-reduce-body.h"

float cmx_f32_rsum_ukr__avx2(size_t n, const float *x) {
  return cmx_rd_inner(CMX_ROP_SUM, n, x);
}
float cmx_f32_rprod_ukr__avx2(size_t n, const float *x) {
  return cmx_rd_inner(CMX_ROP_PROD, n, x);
}
float cmx_f32_rmax_ukr__avx2(size_t n, const float *x) {
  return cmx_rd_minmax(CMX_ROP_MAX, n, x);
}
float cmx_f32_rmin_ukr__avx2(size_t n, const float *x) {
  return cmx_rd_minmax(CMX_ROP_MIN, n, x);
}

void cmx_f32_rsum_outer_ukr__avx2(size_t rows, size_t n, const float *x,
                                  size_t ldx, float *acc) {
  cmx_rd_outer(CMX_ROP_SUM, rows, n, x, ldx, acc);
}
void cmx_f32_rprod_outer_ukr__avx2(size_t rows, size_t n, const float *x,
                                   size_t ldx, float *acc) {
  cmx_rd_outer(CMX_ROP_PROD, rows, n, x, ldx, acc);
}
void cmx_f32_rmax_outer_ukr__avx2(size_t rows, size_t n, const float *x,
                                  size_t ldx, float *acc) {
  cmx_rd_outer(CMX_ROP_MAX, rows, n, x, ldx, acc);
}
void cmx_f32_rmin_outer_ukr__avx2(size_t rows, size_t n, const float *x,
                                  size_t ldx, float *acc) {
  cmx_rd_outer(CMX_ROP_MIN, rows, n, x, ldx, acc);
}

float cmx_f32_rsumsqdev_ukr__avx2(size_t n, const float *x, float c,
                                  float *sum) {
  return cmx_rd_sumsq(n, x, c, sum);
}
float cmx_f32_rsumexp_ukr__avx2(size_t n, const float *x, float c) {
  return cmx_rd_mapsum(1, n, x, c);
}

size_t cmx_f32_rargmax_ukr__avx2(size_t n, const float *x) {
  return cmx_rd_arg(CMX_ROP_MAX, n, x);
}
size_t cmx_f32_rargmin_ukr__avx2(size_t n, const float *x) {
  return cmx_rd_arg(CMX_ROP_MIN, n, x);
}

/* The 16-bit inner and outer kernels (h16-reduce.inc). */
CMX_RD_DEFINE_OUTER16(cmx_bf16_rsum_outer_ukr__avx2, 1, CMX_ROP_SUM)
CMX_RD_DEFINE_OUTER16(cmx_bf16_rprod_outer_ukr__avx2, 1, CMX_ROP_PROD)
CMX_RD_DEFINE_OUTER16(cmx_bf16_rmax_outer_ukr__avx2, 1, CMX_ROP_MAX)
CMX_RD_DEFINE_OUTER16(cmx_bf16_rmin_outer_ukr__avx2, 1, CMX_ROP_MIN)
CMX_RD_DEFINE_OUTER16(cmx_f16_rsum_outer_ukr__avx2, 2, CMX_ROP_SUM)
CMX_RD_DEFINE_OUTER16(cmx_f16_rprod_outer_ukr__avx2, 2, CMX_ROP_PROD)
CMX_RD_DEFINE_OUTER16(cmx_f16_rmax_outer_ukr__avx2, 2, CMX_ROP_MAX)
CMX_RD_DEFINE_OUTER16(cmx_f16_rmin_outer_ukr__avx2, 2, CMX_ROP_MIN)
CMX_RD_DEFINE_INNER16(cmx_bf16_rsum_ukr__avx2, 1, CMX_ROP_SUM)
CMX_RD_DEFINE_INNER16(cmx_bf16_rprod_ukr__avx2, 1, CMX_ROP_PROD)
CMX_RD_DEFINE_INNER16(cmx_bf16_rmax_ukr__avx2, 1, CMX_ROP_MAX)
CMX_RD_DEFINE_INNER16(cmx_bf16_rmin_ukr__avx2, 1, CMX_ROP_MIN)
CMX_RD_DEFINE_INNER16(cmx_f16_rsum_ukr__avx2, 2, CMX_ROP_SUM)
CMX_RD_DEFINE_INNER16(cmx_f16_rprod_ukr__avx2, 2, CMX_ROP_PROD)
CMX_RD_DEFINE_INNER16(cmx_f16_rmax_ukr__avx2, 2, CMX_ROP_MAX)
CMX_RD_DEFINE_INNER16(cmx_f16_rmin_ukr__avx2, 2, CMX_ROP_MIN)
