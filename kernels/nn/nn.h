/* Drivers of the NN op families: softmax, log_softmax, layer_norm and
 * rms_norm over rows (kernels/f32-softmax, kernels/f32-norm), and rope with
 * its cached sin/cos tables (kernels/f32-rope). Rows are split across the
 * team with cmx_parallel_for; f16/bf16 rows are converted into an f32 tile
 * with the cvt microkernels, run in place, and converted back; f64 rows
 * run portable double loops. The microkernels come from api/. */
#ifndef CMX_NN_H
#define CMX_NN_H
#include <stddef.h>

#include "../../api/include/cmx.h"
#include "../cvt/cvt.h"
#include "../f32-norm/f32-norm.h"
#include "../f32-rope/f32-rope.h"
#include "../f32-softmax/f32-softmax.h"
#include "../f32-vbinary/f32-vbinary.h"
#include "../f32-vunary/f32-vunary.h"
#include "../f64-vunary/f64-vunary.h"

enum cmx_rows_op { CMX_ROWS_SOFTMAX, CMX_ROWS_LOG_SOFTMAX,
                   CMX_ROWS_LAYER_NORM, CMX_ROWS_RMS_NORM };

/* rows x n elements: row r of x starts at x + r * ldx (elements), row r of
 * y at y + r * n. xt and yt are f32, f16 or bf16 (any pair), or both f64. */
struct cmx_rows_io {
  const void *x;
  cmx_dtype xt;
  size_t ldx;
  void *y;
  cmx_dtype yt;
  size_t rows, n;
  /* The norms' 16-bit rows (x and y of one 16-bit type, norm16): weight
   * and bias of x's type, n contiguous values, in place of cmx_rows_run's
   * f32 w / b; each thread widens them on its stack (n at most
   * CMX_ROWS_W16_MAX). NULL: w / b as given. */
  const void *w16, *b16;
};
#define CMX_ROWS_W16_MAX 4096

struct cmx_rows_kernels {
  cmx_f32_softmax_ukr_fn softmax; /* the op's softmax slot, or NULL */
  int stream;                     /* softmax is an _NT slot: fence once */
  cmx_h16_softmax_ukr_fn softmax16; /* its 16-bit row (x and y of one
                                       16-bit type), or NULL: converted */
  cmx_f32_norm_ukr_fn norm;       /* the op's norm slot, or NULL */
  cmx_h16_norm_ukr_fn norm16;     /* its 16-bit row (x and y of one 16-bit
                                     type), or NULL: rows converted */
  const cmx_cvt_ukr_fn *cvt;      /* CMX_CVT_COUNT entries */
  cmx_f32_vunary_ukr_fn vexp, vlog; /* short softmax rows: exp and log
                                       in bulk (NULL: a row a call) */
  cmx_f64_softmax_ukr_fn softmax64; /* f64 softmax rows (every level) */
  cmx_f32_vunary_ukr_fn vsqrt;      /* short norm rows: sqrt in bulk, with
                                       vbin's division (NULL: a kernel
                                       call) */
  /* the strided softmax's passes, the short norms' 1 / sqrt:
   * CMX_VBINARY_COUNT slots */
  const cmx_f32_vbinary_ukr_fn *vbin;
};

/* Runs op on every row. w and b (norms only) hold n floats (doubles when
 * xt is f64) or are NULL. Returns 0, or -1 when a tile could not be
 * allocated (the output is then incomplete). last: the node's last step;
 * f32 rows may then still be running on the team when it returns
 * (cmx_parallel_for_async), so x, w and b must outlive the node. */
int cmx_rows_run(enum cmx_rows_op op, const struct cmx_rows_io *io,
                 const void *w, const void *b, float eps,
                 const struct cmx_rows_kernels *k, int nthreads, int last);

/* softmax / log_softmax (op) of row-major f32 x (outer, n, inner) over
 * its middle axis into y of the same layout, without moving the axis:
 * blocks of 256 of the inner axis, each pass along n one level kernel
 * call across the block (the reference kernel's steps: the max from
 * -FLT_MAX, x - max, exp by k->vexp, the sum, then the scale by 1 / S or
 * the shift by log S, k->vlog; a NaN makes its column NaN either way).
 * Where the row-major copy with the axis moved last and back cost more
 * than the op. */
void cmx_rows_softmax_strided(enum cmx_rows_op op, const float *x, float *y,
                              size_t outer, size_t n, size_t inner,
                              const struct cmx_rows_kernels *k, int nthreads);

/* Rope over x viewed as rows x n, row r at sequence position r % L of
 * batch r / (rows / nb): its position is off[batch] + r % L. x and y are
 * contiguous; types as for cmx_rows_io. */
struct cmx_rope_io {
  const void *x;
  cmx_dtype xt;
  void *y;
  cmx_dtype yt;
  size_t rows, n, L;
  size_t nb;             /* batches: 1 or x's first dimension */
  const int64_t *off;    /* nb offsets */
};

struct cmx_rope_params {
  size_t dims;
  int traditional;
  float base, scale;
  int nt; /* f32 y written by the _NT kernels, fenced once per range */
};

/* Returns 0, or -1 when a table or tile could not be allocated. pin
 * non-NULL (a node's last step; f32 or f64 x and y, one offset): the team
 * may still be writing y on return (cmx_parallel_for_async), and *pin is
 * the sin/cos table the job reads, which the caller hands to
 * cmx_rope_unpin once the team is fenced (NULL when the run finished
 * synchronously and released it). */
int cmx_rope_run(const struct cmx_rope_io *io, const struct cmx_rope_params *p,
                 const cmx_f32_rope_ukr_fn *ukr, const cmx_cvt_ukr_fn *cvt,
                 int nthreads, void **pin);
void cmx_rope_unpin(void *pin);

#endif
