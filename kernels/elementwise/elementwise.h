/* The elementwise driver: broadcasting and strided iteration for unary,
 * binary and ternary ops over any dtype, split across the team.
 * Operands come with strides already broadcast to the output shape (0 on a
 * broadcast axis), in elements. The output is a fresh row-major buffer.
 * f16/bf16/f32 work runs the f32 microkernels on L1-sized tiles: operands
 * that are contiguous f32 are passed through, a broadcast scalar is passed
 * with stride 0, anything else (other dtypes, strides) is converted into a
 * tile first; f64 and integer work runs portable typed loops. */
#ifndef CMX_ELEMENTWISE_H
#define CMX_ELEMENTWISE_H

#include <stdint.h>

#include "../../api/include/cmx.h"
#include "../cvt/cvt.h"
#include "../f32-vbinary/f32-vbinary.h"
#include "../f32-vunary/f32-vunary.h"
#include "../f32-where/f32-where.h"
#include "../f64-vunary/f64-vunary.h"
#include "../x32-stream/x32-stream.h"
#include "../x32-transpose/x32-transpose.h"

enum cmx_ew_rule { CMX_EW_SAME, CMX_EW_FLOAT, CMX_EW_PROMOTE, CMX_EW_DIVIDE,
                   CMX_EW_CMP, CMX_EW_LOGICAL };

enum cmx_ew_op {
#define CMX_EW(name, arity, rule, slot, light) CMX_EW_##name,
#include "elementwise.def"
#undef CMX_EW
  CMX_EW_COUNT
};

struct cmx_ew_info {
  const char *name;  /* "add" */
  int arity;
  enum cmx_ew_rule rule;
  int slot;          /* index into the f32 unary / binary ukr table, or -1 */
  int light;         /* few ops per element (elementwise.def) */
};
extern const struct cmx_ew_info cmx_ew_info[CMX_EW_COUNT];

struct cmx_ew_operand {
  const char *data;                 /* element 0 */
  cmx_dtype dtype;
  int64_t strides[CMX_MAX_DIMS];    /* elements, broadcast to out's shape */
};

/* The microkernels the driver may call, handed over by api/. */
struct cmx_ew_kernels {
  cmx_f32_vunary_ukr_fn vunary;     /* the op's unary slot, or NULL */
  cmx_f32_vbinary_ukr_fn vbinary;   /* the op's binary slot, or NULL */
  /* f64 compute: the op's f64 unary slot (silu_mul: silu's), or NULL */
  cmx_f64_vunary_ukr_fn vunary64;
  cmx_f32_where_ukr_fn where;
  const cmx_cvt_ukr_fn *cvt;        /* CMX_CVT_COUNT entries */
  /* Non-NULL: write f32 outputs through this streaming copy (for outputs
   * larger than the last-level cache, written once). */
  cmx_x32_stream_ukr_fn stream;
  /* Non-NULL: 32-bit inputs transposed in the last two axes are read
   * through L1 tiles this transposer fills (cmx_ew_tiled_inputs). */
  const struct cmx_transpose_config *tr;
};

/* out[i] = op(in[0][i], ...) over shape, computing in `compute` (f16, bf16
 * and f32 compute in f32; f64 in double; integers and bool in int64) and
 * storing as out_dtype. Never fails. last: the node's last step, which may
 * return with other threads still writing out (cmx_parallel_for_async). */
void cmx_ew_run(enum cmx_ew_op op, const struct cmx_ew_operand *in,
                void *out, cmx_dtype out_dtype, cmx_dtype compute,
                const int64_t *shape, int ndim,
                const struct cmx_ew_kernels *k, int nthreads, int last);

/* Which of in[0, nin) (over shape, as its caller passes them)
 * cmx_ew_run would read through transposed L1 tiles, bit i for input i:
 * 32-bit, the last two axes of the collapsed walk with strides (1, s), s
 * at least a cache line, and k->tr set. Such an input needs no copy in
 * the output's order first. */
unsigned cmx_ew_tiled_inputs(const struct cmx_ew_operand *in, int nin,
                             const int64_t *shape, int ndim,
                             const struct cmx_ew_kernels *k);

/* A chain of f32 elementwise ops fused into one pass (api/compile.c
 * builds it from a traced graph). Step t computes r[t] = op(a, b) (b
 * unused for a unary op) with the op's f32 microkernel; an operand o <
 * CMX_EW_PROG_IN names external input o, and o >= CMX_EW_PROG_IN the
 * result of the earlier step o - CMX_EW_PROG_IN. The last step is the
 * output. Every op has an f32 microkernel slot, computes in f32 (storing
 * f32, f16 or bf16) and, where it is not the last, has the output's
 * shape. */
#define CMX_EW_PROG_IN 4
#define CMX_EW_PROG_MAX 16
#define CMX_EW_PROG_REGS 8
struct cmx_ew_step {
  uint8_t op, a, b; /* enum cmx_ew_op; operands as above */
  uint8_t r;        /* the tile (< CMX_EW_PROG_REGS) its result goes to: an
                       operand's, in place, when that operand is a step
                       (each step's result is read once) */
  uint8_t dt;       /* the op's dtype (cmx_dtype): f32, or f16 / bf16, to
                       which the f32 result is rounded as the op stores */
};
struct cmx_ew_prog {
  uint8_t nin, nsteps;
  struct cmx_ew_step step[CMX_EW_PROG_MAX];
};

/* out = prog(in[0], ...) over shape, row-major out of the last step's
 * dtype; in[] with strides broadcast to shape, of any dtype (loaded as
 * f32). The result is bitwise what the ops give one by one. vunary /
 * vbinary: the dispatch table's slots; stream as in cmx_ew_kernels (f32
 * outputs only). last as for cmx_ew_run (prog must then outlive the
 * node's fence). Never fails. */
void cmx_ew_fused_run(const struct cmx_ew_prog *prog,
                      const struct cmx_ew_operand *in, void *out,
                      const int64_t *shape, int ndim,
                      const cmx_f32_vunary_ukr_fn *vunary,
                      const cmx_f32_vbinary_ukr_fn *vbinary,
                      const cmx_cvt_ukr_fn *cvt,
                      cmx_x32_stream_ukr_fn stream, int nthreads, int last);

/* Stores n doubles / int64s as dtype d, converting as astype does. */
void cmx_ew_store_f64(const cmx_cvt_ukr_fn *cvt, const double *x, size_t n,
                      cmx_dtype d, void *dst);
void cmx_ew_store_i64(const cmx_cvt_ukr_fn *cvt, const int64_t *x, size_t n,
                      cmx_dtype d, void *dst);

/* Scalar references used by the typed loops (and by tests). */
double cmx_ew_f64(enum cmx_ew_op op, double a, double b);
int64_t cmx_ew_i64(enum cmx_ew_op op, int64_t a, int64_t b);

#endif
