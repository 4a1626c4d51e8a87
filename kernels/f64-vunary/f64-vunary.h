/* f64 elementwise unary microkernels: the transcendentals of float64
 * arrays (the other f64 unary ops, abs ... round, run the elementwise
 * driver's typed loop).
 * Contract: y[i] = op(x[i]) for 0 <= i < n, x and y contiguous float64,
 * n >= 0 elements; y may equal x exactly (in place), no other overlap. No
 * alignment required; tails are handled inside the kernel without reading
 * or writing past n. Every level gives the same bits for the same input
 * (one algorithm, explicit fma, no contraction: f64-vmath.h), so the
 * GENERIC row is the reference of the others; error bounds in ulp
 * against long double libm are listed in f64-vmath.h and asserted by
 * tests/test-kernels-elementwise.c. The table is indexed by enum
 * cmx_vunary_op; ops without a row stay NULL. */
#ifndef CMX_F64_VUNARY_H
#define CMX_F64_VUNARY_H
#include <stddef.h>

#include "../f32-vunary/f32-vunary.h" /* enum cmx_vunary_op */

typedef void (*cmx_f64_vunary_ukr_fn)(size_t n, const double *x, double *y);

#define CMX_UKR(isa, op, name) void name(size_t n, const double *x, double *y);
#include "f64-vunary.inc"
#undef CMX_UKR

/* softmax (log 0) or log_softmax (log 1) of one row of n >= 1 contiguous
 * doubles: M = max x[i] (NaN skipped), S = sum exp(x[i] - M) by the
 * level's vd_exp (the exp row's bits), y[i] = exp(x[i] - M) * (1 / S) or
 * (x[i] - M) - log S (libm's log). A row holding NaN or +inf gives NaN
 * everywhere, -inf entries 0 (log: -inf), an all -inf row NaN (M is taken
 * as -1 there, so S = 0). y may equal x exactly; y NULL: nothing is
 * stored (the max and exp passes only). Returns the row's logsumexp, M +
 * log S: NaN if any x[i] is NaN, else M where M is +-inf. S is summed in
 * VD_N lanes, so levels agree to rounding, not bit for bit. Three passes
 * over the row (max; exp, sum and store; scale): the driver's generic
 * loops ran them at SSE2's two lanes, 65% of 1024 x 1024 f64 softmax. */
typedef double (*cmx_f64_softmax_ukr_fn)(size_t n, const double *x,
                                         double *y, int log);
#define CMX_UKR(isa, name) \
  double name(size_t n, const double *x, double *y, int log);
#include "f64-softmax.inc"
#undef CMX_UKR

#endif
