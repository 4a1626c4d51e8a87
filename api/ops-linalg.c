/* matmul: NumPy semantics (1-D operands get a dimension added and removed,
 * batch dimensions broadcast), promotion of the operand dtypes. Eval copies
 * each operand's broadcast view into a contiguous buffer of the compute
 * type and runs the matmul driver. */
#include <string.h>

#include "../arch/dispatch.h"
#include "../kernels/elementwise/elementwise.h"
#include "../kernels/matmul/matmul.h"
#include "internal.h"

void cmx_copy_into(void *dst, cmx_dtype dtype, cmx_array x, int nthreads);

int cmx_matmul(cmx_array *out, cmx_array a, cmx_array b, cmx_stream s) {
  static const char who[] = "cmx_matmul";
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  int st = cmx_array_check(a, who, "a");
  if (!st) st = cmx_array_check(b, who, "b");
  if (!st) st = cmx_stream_resolve(&s, who);
  if (st) return st;
  char b0[200], b1[200];
  if (a->ndim == 0 || b->ndim == 0)
    return cmx_err(CMX_ESHAPE, "%s: operands must have at least 1 "
                   "dimension, got %s and %s", who,
                   cmx_fmt_shape(b0, a->shape, a->ndim),
                   cmx_fmt_shape(b1, b->shape, b->ndim));
  int64_t K = a->shape[a->ndim - 1];
  int64_t Kb = b->ndim == 1 ? b->shape[0] : b->shape[b->ndim - 2];
  if (K != Kb)
    return cmx_err(CMX_ESHAPE, "%s: inner dimensions differ: %s @ %s", who,
                   cmx_fmt_shape(b0, a->shape, a->ndim),
                   cmx_fmt_shape(b1, b->shape, b->ndim));
  int abat = a->ndim > 2 ? a->ndim - 2 : 0, bbat = b->ndim > 2 ? b->ndim - 2 : 0;
  int nb = abat > bbat ? abat : bbat;
  int64_t sh[CMX_MAX_DIMS];
  for (int d = 0; d < nb; d++) {
    int ia = d - (nb - abat), ib = d - (nb - bbat);
    int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return cmx_err(CMX_ESHAPE, "%s: batch dimensions of %s and %s cannot "
                     "broadcast", who, cmx_fmt_shape(b0, a->shape, a->ndim),
                     cmx_fmt_shape(b1, b->shape, b->ndim));
    sh[d] = da == 1 ? db : da;
  }
  int nd = nb;
  if (a->ndim >= 2) sh[nd++] = a->shape[a->ndim - 2];
  if (b->ndim >= 2) sh[nd++] = b->shape[b->ndim - 1];
  cmx_dtype dt = cmx_promote(a->dtype, b->dtype);
  cmx_array c = cmx_array_alloc(dt, sh, nd, who);
  if (!c) return cmx_last_status();
  c->p.naxes = nb;
  cmx_array in[2] = {a, b};
  return cmx_node_finish(out, c, CMX_OP_matmul, in, 2, s, who);
}

/* x viewed as (batch..., rows, cols) broadcast to the batch shape bsh. */
static void batch_view(struct cmx_array_s *v, cmx_array x, const int64_t *bsh,
                       int nb, int is_b) {
  memset(v, 0, sizeof *v);
  v->dtype = x->dtype;
  v->buf = x->buf;
  v->offset = x->offset;
  int64_t rs, cs, rows, cols;
  if (x->ndim == 1) {
    rows = is_b ? x->shape[0] : 1;
    cols = is_b ? 1 : x->shape[0];
    rs = is_b ? x->strides[0] : 0;
    cs = is_b ? 0 : x->strides[0];
  } else {
    rows = x->shape[x->ndim - 2];
    cols = x->shape[x->ndim - 1];
    rs = x->strides[x->ndim - 2];
    cs = x->strides[x->ndim - 1];
  }
  int xb = x->ndim > 2 ? x->ndim - 2 : 0;
  v->size = 1;
  for (int d = 0; d < nb; d++) {
    int k = d - (nb - xb);
    v->shape[d] = bsh[d];
    v->strides[d] = k < 0 || x->shape[k] == 1 ? 0 : x->strides[k];
    v->size *= bsh[d];
  }
  v->shape[nb] = rows;
  v->strides[nb] = rs;
  v->shape[nb + 1] = cols;
  v->strides[nb + 1] = cs;
  v->ndim = nb + 2;
  v->size *= rows * cols;
}

int cmx_eval_matmul(cmx_array c, int nthreads) {
  cmx_array a = c->in[0], b = c->in[1];
  int st = cmx_array_alloc_data(c);
  if (st) return st;
  int nb = c->p.naxes;
  size_t batch = 1;
  for (int d = 0; d < nb; d++) batch *= (size_t)c->shape[d];
  struct cmx_array_s va, vb;
  batch_view(&va, a, c->shape, nb, 0);
  batch_view(&vb, b, c->shape, nb, 1);
  size_t M = (size_t)va.shape[nb], K = (size_t)va.shape[nb + 1],
         N = (size_t)vb.shape[nb + 1];
  if ((size_t)c->size == 0) return CMX_OK;
  int kind = cmx_dtype_is_float(c->dtype) ? (c->dtype == CMX_F64 ? 1 : 0) : 2;
  cmx_dtype cd = kind == 0 ? CMX_F32 : kind == 1 ? CMX_F64 : CMX_I64;
  size_t esz = cmx_dtype_size(cd);
  struct cmx_buffer *ba = cmx_buffer_new(batch * M * K * esz, "cmx_matmul");
  struct cmx_buffer *bb = ba ? cmx_buffer_new(batch * K * N * esz,
                                              "cmx_matmul") : NULL;
  struct cmx_buffer *bc = bb && cd != c->dtype
                              ? cmx_buffer_new(batch * M * N * esz,
                                               "cmx_matmul") : NULL;
  if (!ba || !bb || (cd != c->dtype && !bc)) {
    cmx_buffer_release(ba);
    cmx_buffer_release(bb);
    return CMX_ENOMEM;
  }
  cmx_copy_into(ba->data, cd, &va, nthreads);
  cmx_copy_into(bb->data, cd, &vb, nthreads);
  void *dst = bc ? bc->data : cmx_array_ptr(c);
  cmx_matmul_ref(kind, ba->data, bb->data, dst, batch, M, N, K, nthreads);
  if (bc) {
    struct cmx_array_s vc = {0};
    vc.dtype = cd;
    vc.ndim = 1;
    vc.shape[0] = c->size;
    vc.strides[0] = 1;
    vc.size = c->size;
    vc.buf = bc;
    cmx_copy_into(cmx_array_ptr(c), c->dtype, &vc, nthreads);
    cmx_buffer_release(bc);
  }
  cmx_buffer_release(ba);
  cmx_buffer_release(bb);
  return CMX_OK;
}
