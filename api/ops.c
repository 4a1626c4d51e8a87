/* The op table generated from ops.def: names and eval functions, with a
 * static assertion that the two stay the length of the enum. */
#include "internal.h"

int cmx_eval_full(cmx_array a, int nthreads);
int cmx_eval_arange(cmx_array a, int nthreads);
int cmx_eval_elementwise(cmx_array a, int nthreads);
int cmx_eval_reduce(cmx_array a, int nthreads);
int cmx_eval_view(cmx_array a, int nthreads);
int cmx_eval_copy(cmx_array a, int nthreads);
int cmx_eval_matmul(cmx_array a, int nthreads);
int cmx_eval_take(cmx_array a, int nthreads);
int cmx_eval_place(cmx_array a, int nthreads);
int cmx_eval_tri(cmx_array a, int nthreads);
int cmx_eval_cumsum(cmx_array a, int nthreads);
int cmx_eval_random(cmx_array a, int nthreads);
int cmx_eval_softmax(cmx_array a, int nthreads);
int cmx_eval_norm(cmx_array a, int nthreads);
int cmx_eval_rope(cmx_array a, int nthreads);
int cmx_eval_scaled_dot_product_attention(cmx_array a, int nthreads);
int cmx_eval_conv(cmx_array a, int nthreads);
int cmx_eval_placeholder(cmx_array a, int nthreads);
int cmx_eval_fused(cmx_array a, int nthreads);
int cmx_eval_quant(cmx_array a, int nthreads);

const cmx_eval_fn cmx_op_eval[CMX_OP_COUNT] = {
#define CMX_OP(name, eval) eval,
#include "ops.def"
#undef CMX_OP
};

const char *const cmx_op_name[CMX_OP_COUNT] = {
#define CMX_OP(name, eval) "cmx_" #name,
#include "ops.def"
#undef CMX_OP
};

_Static_assert(sizeof cmx_op_eval / sizeof cmx_op_eval[0] == CMX_OP_COUNT,
               "ops.def and the eval table differ");
