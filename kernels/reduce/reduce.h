/* The reduction driver. Layouts it takes (api/ makes anything else into
 * the first by a copy):
 *   inner: O rows of R contiguous elements, row i at x + i * ld;
 *   outer: R rows of C contiguous elements (the leading-axis reduction),
 *          row r at x + r * ld, reducing over r.
 * f32 data (and f16 / bf16: sum, prod, max and min through k->rinner16 /
 * k->router16, which widen in registers, else widened a block or a row at
 * a time into an f32 buffer in L1 by k->widen) runs the f32-reduce
 * microkernels on fixed blocks of BLOCK elements whose partial results
 * are combined in double in block order, so the result is the same for
 * any thread count (the determinism contract); f64 and integer data run
 * portable loops. Results come back as double
 * (and as int64 for integer sums, products, max/min and arg-reductions),
 * one per output, for the caller to store in the output dtype. */
#ifndef CMX_REDUCE_H
#define CMX_REDUCE_H

#include <stddef.h>
#include <stdint.h>

#include "../../api/include/cmx.h"
#include "../cvt/cvt.h"
#include "../f32-reduce/f32-reduce.h"
#include "../f32-vunary/f32-vunary.h"
#include "../f64-vunary/f64-vunary.h"

enum cmx_red_op { CMX_RED_SUM, CMX_RED_PROD, CMX_RED_MAX, CMX_RED_MIN,
                  CMX_RED_MEAN, CMX_RED_VAR, CMX_RED_LOGSUMEXP, CMX_RED_ALL,
                  CMX_RED_ANY, CMX_RED_ARGMAX, CMX_RED_ARGMIN,
                  CMX_RED_COUNT };

struct cmx_red_kernels {
  cmx_f32_rinner_ukr_fn rinner[CMX_ROP_COUNT];
  cmx_f32_router_ukr_fn router[CMX_ROP_COUNT];
  cmx_f32_rsumsqdev_ukr_fn rsumsqdev;
  cmx_f32_rsumexp_ukr_fn rsumexp;
  cmx_f32_rarg_ukr_fn rargmax, rargmin;
  /* logsumexp over short rows: exp and log in bulk */
  cmx_f32_vunary_ukr_fn vexp, vlog;
  cmx_cvt_ukr_fn widen; /* x holds f16 / bf16: to f32; NULL: x is f32 */
  /* x holds f16 / bf16 and the level has outer kernels for it (widening
   * in registers): CMX_ROP_COUNT of them; NULL: rows widened to a buffer */
  const cmx_h16_router_ukr_fn *router16;
  /* likewise the inner kernels (sum, prod, max, min) */
  const cmx_h16_rinner_ukr_fn *rinner16;
};

/* Elements a block: a row of at most this many is one block. */
#define CMX_RED_BLOCK 4096
/* Where cmx_red_f32_inner may store the results itself when each row is
 * one block (R <= CMX_RED_BLOCK): data (the output, O elements of dtype; NULL: never), through
 * the level's converters cvt (cmx_ew_store_i64 when is_int, else
 * cmx_ew_store_f64), each row by the thread that reduced it. last: the
 * node's last step, so the job may still be running when the call returns
 * (cmx_parallel_for_async: x and data stay alive until the graph's
 * fence). */
struct cmx_red_dst {
  void *data;
  cmx_dtype dtype;
  int is_int, last;
  const cmx_cvt_ukr_fn *cvt;
};
/* Returns 1 when the results went to dst (out and iout may then be NULL),
 * 0 when to out / iout, -1 when scratch memory ran out. R >= 1. dst may be
 * NULL. */
int cmx_red_f32_inner(enum cmx_red_op op, const void *x, size_t O,
                      size_t R, size_t ld, double *out, int64_t *iout,
                      const struct cmx_red_kernels *k,
                      const struct cmx_red_dst *dst, int nthreads);
/* Over the rows of P slices (sp elements apart) of R rows (ld apart) of C
 * contiguous columns: out[p C + j]. A leading axis (P 1) or a middle one.
 * Only sum, prod, max, min, mean. Returns 0, or -1 when scratch memory
 * ran out (16-bit data). */
int cmx_red_f32_outer(enum cmx_red_op op, const void *x, size_t P,
                      size_t sp, size_t R, size_t C, size_t ld, double *out,
                      const struct cmx_red_kernels *k, int nthreads);
/* Over axes 0 and 2 of a (P, O, C) view: P slices sp elements apart, each
 * O rows (ldo apart) of C contiguous elements; res[o]. Only sum, prod, max,
 * min, mean; up to CMX_RED_SLICES_MAX slices and CMX_RED_PARTIALS_MAX
 * partials (P O). Returns as cmx_red_f32_outer. */
#define CMX_RED_SLICES_MAX 1024
#define CMX_RED_PARTIALS_MAX ((size_t)1 << 22)
int cmx_red_f32_around(enum cmx_red_op op, const void *x, size_t P,
                       size_t sp, size_t O, size_t ldo, size_t C,
                       double *res, const struct cmx_red_kernels *k,
                       int nthreads);
/* Contiguous O x R data in double (is_int 0), int64 (is_int 8) or int32
 * (is_int 4); sum, mean, prod, max, min, var, logsumexp, argmax, argmin
 * (all / any are scanned as bytes by the caller). lse64: the level's f64
 * softmax row, whose return is a double row's logsumexp. */
void cmx_red_generic(enum cmx_red_op op, const void *x, int is_int,
                     size_t O, size_t R, double *out, int64_t *iout,
                     cmx_f64_softmax_ukr_fn lse64, int nthreads);
/* sum, mean, prod, max or min over the rows of R x O data (row stride
 * ld elements; w 0: double, 4: int32, 8: int64) into out (double: f64
 * data, and integer means) or iout (int64), O columns. */
void cmx_red_generic_outer(enum cmx_red_op op, const void *x, int w,
                           size_t R, size_t O, size_t ld, double *out,
                           int64_t *iout, int nthreads);

#endif
