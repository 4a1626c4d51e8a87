/* matmul and addmm: NumPy semantics (1-D operands get a dimension added and
 * removed, batch dimensions broadcast), promotion of the operand dtypes.
 * f32 / f16 / bf16 results run the packed GEMM driver in kernels/f32-gemm
 * straight from the operands' strided views (f16 / bf16 converted while
 * packing, f32 accumulation); f64 results run kernels/f64-gemm and int8 x
 * int8 (an int32 result) kernels/i8-gemm the same way (other operand types
 * are first converted into a contiguous f64 buffer); other integer results
 * copy each operand's broadcast view into a contiguous buffer and run the
 * reference driver (int64, wrapping).
 * cmx_set_gemm_backend("blis") / CMX_GEMM=blis route f32 results to BLIS's
 * bli_sgemm instead (the comparison baseline). */
#include <blis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../arch/dispatch.h"
#include "../arch/tuning.h"
#include "../kernels/elementwise/elementwise.h"
#include "../kernels/f32-gemm/f32-gemm.h"
#include "../kernels/f64-gemm/f64-gemm.h"
#include "../kernels/i8-gemm/i8-gemm.h"
#include "../kernels/matmul/matmul.h"
#include "internal.h"


/* ---- backend choice: 0 cmx, 1 blis; -1 until CMX_GEMM is read ---- */
static atomic_int g_backend = -1;

static int gemm_backend(void) {
  int b = atomic_load(&g_backend);
  if (b < 0) {
    const char *e = getenv("CMX_GEMM");
    int want = e && !strcmp(e, "blis");
    atomic_compare_exchange_strong(&g_backend, &b, want);
    b = atomic_load(&g_backend);
  }
  return b;
}

int cmx_set_gemm_backend(const char *name) {
  if (!name || (strcmp(name, "cmx") && strcmp(name, "blis")))
    return cmx_err(CMX_EINVAL, "cmx_set_gemm_backend: unknown backend "
                   "'%s' (cmx, blis)", name ? name : "(null)");
  atomic_store(&g_backend, !strcmp(name, "blis"));
  return CMX_OK;
}

int cmx_tuning_file(char *buf, size_t size) {
  if (!buf || !size)
    return cmx_err(CMX_EINVAL, "cmx_tuning_file: buf is NULL or size 0");
  char path[4096 + 256];
  cmx_tuning_path(path, sizeof path);
  size_t need = strlen(path) + 1;
  if (need > size) {
    buf[0] = 0;
    return cmx_err(CMX_EINVAL, "cmx_tuning_file: the path needs %zu bytes, "
                   "buf has %zu", need, size);
  }
  memcpy(buf, path, need);
  return CMX_OK;
}

/* The node of a @ b (c: NULL for matmul, the addend for addmm). */
static int matmul_node(cmx_array *out, cmx_array a, cmx_array b, cmx_array cin,
                       float alpha, float beta, cmx_stream s,
                       const char *who) {
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  int st = cmx_array_check(a, who, "a");
  if (!st) st = cmx_array_check(b, who, "b");
  if (!st && cin) st = cmx_array_check(cin, who, "c");
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
  if (a->dtype == CMX_I8 && b->dtype == CMX_I8) dt = CMX_I32;
  if (cin) {
    /* addmm: c broadcasts to the product's shape; the result is float. */
    int ok = cin->ndim <= nd;
    for (int d = 0; ok && d < cin->ndim; d++) {
      int64_t x = cin->shape[cin->ndim - 1 - d];
      ok = x == 1 || x == sh[nd - 1 - d];
    }
    if (!ok)
      return cmx_err(CMX_ESHAPE, "%s: c of shape %s does not broadcast to "
                     "the product's shape %s", who,
                     cmx_fmt_shape(b0, cin->shape, cin->ndim),
                     cmx_fmt_shape(b1, sh, nd));
    dt = cmx_float_of(cmx_promote(dt, cin->dtype));
  }
  cmx_array c = cmx_array_alloc(dt, sh, nd, who);
  if (!c) return cmx_last_status();
  c->p.naxes = nb;
  c->p.sub = cin != NULL;
  c->p.value = alpha;
  c->p.step = beta;
  cmx_array in[3] = {a, b, cin};
  return cmx_node_finish(out, c, CMX_OP_matmul, in, cin ? 3 : 2, s, who);
}

int cmx_matmul(cmx_array *out, cmx_array a, cmx_array b, cmx_stream s) {
  return matmul_node(out, a, b, NULL, 1.0f, 0.0f, s, "cmx_matmul");
}

int cmx_addmm(cmx_array *out, cmx_array c, cmx_array a, cmx_array b,
              float alpha, float beta, cmx_stream s) {
  return matmul_node(out, a, b, c, alpha, beta, s, "cmx_addmm");
}

/* Clears a view made on the stack for the GEMM and copy drivers, which
 * read its descriptor only (dtype, ndim, size, shape and strides up to
 * ndim, offset, buffer): the rest stays unset but for nin (no edges) and
 * the counters. Zeroing all 0.4 KB took 115 of a 32^3 matmul's
 * instructions for its two operands (callgrind). */
static void view_clear(struct cmx_array_s *v) {
  atomic_init(&v->refs, 0);
  atomic_init(&v->state, CMX_STATE_PENDING);
  atomic_init(&v->waiters, 0);
  v->dtype = CMX_F32;
  v->ndim = 0;
  v->size = 0;
  v->offset = 0;
  v->buf = NULL;
  v->nin = 0;
}

/* x viewed as (batch..., rows, cols) broadcast to the batch shape bsh. */
static void batch_view(struct cmx_array_s *v, cmx_array x, const int64_t *bsh,
                       int nb, int is_b) {
  view_clear(v);
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


/* c's addend (in[2]) broadcast to the result's shape, as a view. */
static void addend_view(struct cmx_array_s *v, cmx_array res, cmx_array x) {
  view_clear(v);
  v->dtype = x->dtype;
  v->buf = x->buf;
  v->offset = x->offset;
  v->ndim = res->ndim;
  v->size = res->size;
  for (int d = 0; d < res->ndim; d++) {
    int k = d - (res->ndim - x->ndim);
    v->shape[d] = res->shape[d];
    v->strides[d] = k < 0 || x->shape[k] == 1 ? 0 : x->strides[k];
  }
}

/* A flat contiguous view of n elements of buffer b. */
static void flat_view(struct cmx_array_s *v, struct cmx_buffer *b,
                      cmx_dtype dt, int64_t n) {
  view_clear(v);
  v->dtype = dt;
  v->ndim = 1;
  v->shape[0] = n;
  v->strides[0] = 1;
  v->size = n;
  v->buf = b;
}

/* Element offsets of each batch of view v (nb batch dims). */
static void batch_offsets(const struct cmx_array_s *v, int nb, size_t batch,
                          int64_t *off) {
  int64_t idx[CMX_MAX_DIMS] = {0};
  for (size_t t = 0; t < batch; t++) {
    int64_t o = v->offset;
    for (int d = 0; d < nb; d++) o += idx[d] * v->strides[d];
    off[t] = o;
    for (int d = nb - 1; d >= 0; d--) {
      if (++idx[d] < v->shape[d]) break;
      idx[d] = 0;
    }
  }
}

static int gemm_dtype(cmx_dtype d) {
  return d == CMX_F32 ? CMX_GEMM_F32 : d == CMX_F16 ? CMX_GEMM_F16
         : d == CMX_BF16 ? CMX_GEMM_BF16 : -1;
}

/* An operand the driver reads: the view itself when its dtype is one the
 * packer converts (f32, f16, bf16; only f32 for BLIS), else a contiguous
 * f32 copy of it (*copy holds the buffer). */
static int gemm_operand(struct cmx_gemm_operand *o, int64_t *boff,
                        const struct cmx_array_s *v, int nb, size_t batch,
                        int f32_only, struct cmx_buffer **copy,
                        int nthreads) {
  int64_t rows = v->shape[nb], cols = v->shape[nb + 1];
  int gd = gemm_dtype(v->dtype);
  *copy = NULL;
  if (gd < 0 || (f32_only && gd != CMX_GEMM_F32)) {
    *copy = cmx_buffer_new(batch * (size_t)(rows * cols) * sizeof(float),
                           "cmx_matmul");
    if (!*copy) return CMX_ENOMEM;
    cmx_copy_into((*copy)->data, CMX_F32, (cmx_array)v, nthreads);
    o->data = (*copy)->data;
    o->dtype = CMX_GEMM_F32;
    o->rs = cols;
    o->cs = 1;
    for (size_t t = 0; t < batch; t++) boff[t] = (int64_t)t * rows * cols;
  } else {
    o->data = v->buf->data;
    o->dtype = (enum cmx_gemm_dtype)gd;
    o->rs = v->strides[nb];
    o->cs = v->strides[nb + 1];
    batch_offsets(v, nb, batch, boff);
  }
  o->boff = boff;
  return CMX_OK;
}

/* BLIS wants positive strides; a dimension of 1 may carry any stride, so
 * give it one BLIS accepts. 0 when the operand must be copied instead. */
static int blis_strides(int64_t rows, int64_t cols, ptrdiff_t *rs,
                        ptrdiff_t *cs) {
  if (rows == 1) *rs = cols * (*cs > 0 ? *cs : 1);
  if (cols == 1) *cs = rows * (*rs > 0 ? *rs : 1);
  if (rows == 1 && cols == 1) *rs = *cs = 1;
  return *rs > 0 && *cs > 0;
}

static pthread_once_t g_blis_once = PTHREAD_ONCE_INIT;
static void blis_init_once(void) { bli_init(); }

/* The problem on BLIS, one bli_sgemm_ex per batch with the team's size in
 * its runtime object (BLIS forks its own OpenMP team from this worker
 * thread, which is not inside any region of ours). */
static void run_blis(const struct cmx_gemm_problem *p, int nthreads) {
  pthread_once(&g_blis_once, blis_init_once);
  rntm_t rntm = BLIS_RNTM_INITIALIZER;
  bli_rntm_set_num_threads(nthreads, &rntm);
  float alpha = p->alpha, beta = p->beta;
  for (size_t t = 0; t < p->batch; t++)
    bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)p->m,
                 (dim_t)p->n, (dim_t)p->k, &alpha,
                 (float *)p->a.data + p->a.boff[t], p->a.rs, p->a.cs,
                 (float *)p->b.data + p->b.boff[t], p->b.rs, p->b.cs, &beta,
                 p->c + t * p->ldcb, (inc_t)p->ldc, 1, NULL, &rntm);
}

#define BOFF_SMALL 8

/* f32 / f16 / bf16 results: the packed driver (or BLIS) into an f32 buffer,
 * which is the output itself for f32. */
static int eval_f32(cmx_array c, struct cmx_array_s *va,
                    struct cmx_array_s *vb, int nb, size_t batch,
                    int nthreads) {
  const struct cmx_dispatch *t = cmx_dispatch();
  int blis = gemm_backend() == 1;
  size_t M = (size_t)va->shape[nb], K = (size_t)va->shape[nb + 1],
         N = (size_t)vb->shape[nb + 1];
  struct cmx_gemm_problem p = {.batch = batch, .m = M, .n = N, .k = K,
                               .ldc = N, .ldcb = M * N, .alpha = 1.0f,
                               .beta = 0.0f,
                               .cvt_f16 = t->cvt[CMX_CVT_F16_F32],
                               .cvt_bf16 = t->cvt[CMX_CVT_BF16_F32]};
  if (c->nin == 3) {
    p.alpha = (float)c->p.value;
    p.beta = (float)c->p.step;
  }
  /* Batch offsets of a and b: on the stack for small batches (a malloc
   * and free were 200 of a 32^3 matmul's instructions). */
  int64_t boff_small[2 * BOFF_SMALL];
  int64_t *boff = batch <= BOFF_SMALL ? boff_small
                                      : malloc(2 * batch * sizeof(int64_t));
  struct cmx_buffer *ca = NULL, *cb = NULL, *bc = NULL;
  int st = boff ? CMX_OK : CMX_ENOMEM;
  if (blis && !st) {
    /* BLIS takes f32 with positive strides; anything else is copied. */
    ptrdiff_t rs = va->strides[nb], cs = va->strides[nb + 1];
    int oka = va->dtype == CMX_F32 && blis_strides(va->shape[nb],
                                                   va->shape[nb + 1], &rs,
                                                   &cs);
    ptrdiff_t rsb = vb->strides[nb], csb = vb->strides[nb + 1];
    int okb = vb->dtype == CMX_F32 && blis_strides(vb->shape[nb],
                                                   vb->shape[nb + 1], &rsb,
                                                   &csb);
    st = gemm_operand(&p.a, boff, va, nb, batch, 1, &ca, nthreads);
    if (!st) st = gemm_operand(&p.b, boff + batch, vb, nb, batch, 1, &cb,
                               nthreads);
    if (!st && oka) p.a.rs = rs, p.a.cs = cs;
    if (!st && okb) p.b.rs = rsb, p.b.cs = csb;
    if (!st && !oka && !ca) { /* positive strides needed: copy */
      ca = cmx_buffer_new(batch * M * K * sizeof(float), "cmx_matmul");
      if (!ca) st = CMX_ENOMEM;
      else {
        cmx_copy_into(ca->data, CMX_F32, (cmx_array)va, nthreads);
        p.a.data = ca->data, p.a.rs = (ptrdiff_t)K, p.a.cs = 1;
        for (size_t i = 0; i < batch; i++) boff[i] = (int64_t)(i * M * K);
        blis_strides((int64_t)M, (int64_t)K, &p.a.rs, &p.a.cs);
      }
    }
    if (!st && !okb && !cb) {
      cb = cmx_buffer_new(batch * K * N * sizeof(float), "cmx_matmul");
      if (!cb) st = CMX_ENOMEM;
      else {
        cmx_copy_into(cb->data, CMX_F32, (cmx_array)vb, nthreads);
        p.b.data = cb->data, p.b.rs = (ptrdiff_t)N, p.b.cs = 1;
        for (size_t i = 0; i < batch; i++)
          boff[batch + i] = (int64_t)(i * K * N);
        blis_strides((int64_t)K, (int64_t)N, &p.b.rs, &p.b.cs);
      }
    }
  } else if (!st) {
    st = gemm_operand(&p.a, boff, va, nb, batch, 0, &ca, nthreads);
    if (!st) st = gemm_operand(&p.b, boff + batch, vb, nb, batch, 0, &cb,
                               nthreads);
  }
  if (!st && c->dtype != CMX_F32) {
    bc = cmx_buffer_new((size_t)c->size * sizeof(float), "cmx_matmul");
    if (!bc) st = CMX_ENOMEM;
  }
  if (!st) {
    p.c = bc ? (float *)bc->data : (float *)cmx_array_ptr(c);
    if (c->nin == 3 && p.beta != 0.0f) {
      struct cmx_array_s vc;
      addend_view(&vc, c, c->in[2]);
      cmx_copy_into(p.c, CMX_F32, &vc, nthreads);
    }
    if (blis) run_blis(&p, nthreads);
    else if (cmx_f32_gemm(&t->gemm_f32, &p, nthreads))
      st = cmx_err(CMX_ENOMEM, "cmx_matmul: no memory for packing buffers");
  }
  if (!st && bc) {
    struct cmx_array_s vc;
    flat_view(&vc, bc, CMX_F32, c->size);
    cmx_copy_into(cmx_array_ptr(c), c->dtype, &vc, nthreads);
  }
  cmx_buffer_release(ca);
  cmx_buffer_release(cb);
  cmx_buffer_release(bc);
  if (boff != boff_small) free(boff);
  return st;
}

/* An operand of the f64 / i8 drivers: the view itself when its dtype is dt,
 * else a contiguous copy converted to dt (*copy holds the buffer). */
static int typed_operand(const void **data, ptrdiff_t *rs, ptrdiff_t *cs,
                         int64_t *boff, const struct cmx_array_s *v, int nb,
                         size_t batch, cmx_dtype dt, struct cmx_buffer **copy,
                         int nthreads) {
  int64_t rows = v->shape[nb], cols = v->shape[nb + 1];
  *copy = NULL;
  if (v->dtype == dt) {
    *data = v->buf->data;
    *rs = v->strides[nb];
    *cs = v->strides[nb + 1];
    batch_offsets(v, nb, batch, boff);
    return CMX_OK;
  }
  *copy = cmx_buffer_new(batch * (size_t)(rows * cols) * cmx_dtype_bytes(dt),
                         "cmx_matmul");
  if (!*copy) return CMX_ENOMEM;
  cmx_copy_into((*copy)->data, dt, (cmx_array)v, nthreads);
  *data = (*copy)->data;
  *rs = cols;
  *cs = 1;
  for (size_t t = 0; t < batch; t++) boff[t] = (int64_t)t * rows * cols;
  return CMX_OK;
}

/* f64 results (matmul and addmm) and int8 x int8 -> int32 matmul through
 * the packed drivers, writing the output directly. */
static int eval_typed(cmx_array c, struct cmx_array_s *va,
                      struct cmx_array_s *vb, int nb, size_t batch,
                      int nthreads) {
  const struct cmx_dispatch *t = cmx_dispatch();
  size_t M = (size_t)va->shape[nb], K = (size_t)va->shape[nb + 1],
         N = (size_t)vb->shape[nb + 1];
  int f64 = c->dtype == CMX_F64;
  cmx_dtype dt = f64 ? CMX_F64 : CMX_I8;
  int64_t *boff = malloc(2 * batch * sizeof(int64_t));
  struct cmx_buffer *ca = NULL, *cb = NULL;
  const void *da = NULL, *db = NULL;
  ptrdiff_t ars = 0, acs = 0, brs = 0, bcs = 0;
  int st = boff ? CMX_OK : CMX_ENOMEM;
  if (!st) st = typed_operand(&da, &ars, &acs, boff, va, nb, batch, dt, &ca,
                              nthreads);
  if (!st) st = typed_operand(&db, &brs, &bcs, boff + batch, vb, nb, batch,
                              dt, &cb, nthreads);
  int rc = 0;
  if (!st && f64) {
    struct cmx_f64_gemm_problem p = {
        .batch = batch, .m = M, .n = N, .k = K,
        .a = {da, ars, acs, boff}, .b = {db, brs, bcs, boff + batch},
        .c = (double *)cmx_array_ptr(c), .ldc = N, .ldcb = M * N,
        .alpha = 1.0,
        .beta = 0.0};
    if (c->nin == 3) {
      p.alpha = c->p.value;
      p.beta = c->p.step;
      if (p.beta != 0.0) {
        struct cmx_array_s vc;
        addend_view(&vc, c, c->in[2]);
        cmx_copy_into(p.c, CMX_F64, &vc, nthreads);
      }
    }
    rc = cmx_f64_gemm(&t->gemm_f64, &p, nthreads);
  } else if (!st) {
    struct cmx_i8_gemm_problem p = {
        .batch = batch, .m = M, .n = N, .k = K,
        .a = {da, ars, acs, boff}, .b = {db, brs, bcs, boff + batch},
        .c = (int32_t *)cmx_array_ptr(c), .ldc = N, .ldcb = M * N};
    rc = cmx_i8_gemm(&t->gemm_i8, &p, nthreads);
  }
  if (rc) st = cmx_err(CMX_ENOMEM, "cmx_matmul: no memory for packing buffers");
  cmx_buffer_release(ca);
  cmx_buffer_release(cb);
  free(boff);
  return st;
}

/* f32 @ f32, both 2-D, on the packed driver: the problem straight from the
 * operands, the one eval_f32 builds for them through the batch views and
 * offset tables (which cost 300 of a 32^3 product's instructions, and a
 * store-forwarding stall reading a view's strides back as one vector). */
static int eval_f32_2d(cmx_array c, cmx_array a, cmx_array b,
                       int nthreads) {
  const struct cmx_dispatch *t = cmx_dispatch();
  size_t M = (size_t)a->shape[0], K = (size_t)a->shape[1],
         N = (size_t)b->shape[1];
  int64_t boff[2] = {a->offset, b->offset};
  struct cmx_gemm_problem p = {.batch = 1, .m = M, .n = N, .k = K,
                               .ldc = N, .ldcb = M * N, .alpha = 1.0f,
                               .beta = 0.0f,
                               .cvt_f16 = t->cvt[CMX_CVT_F16_F32],
                               .cvt_bf16 = t->cvt[CMX_CVT_BF16_F32]};
  p.a = (struct cmx_gemm_operand){a->buf->data, CMX_GEMM_F32, a->strides[0],
                                  a->strides[1], &boff[0]};
  p.b = (struct cmx_gemm_operand){b->buf->data, CMX_GEMM_F32, b->strides[0],
                                  b->strides[1], &boff[1]};
  p.c = (float *)cmx_array_ptr(c);
  if (cmx_f32_gemm(&t->gemm_f32, &p, nthreads))
    return cmx_err(CMX_ENOMEM, "cmx_matmul: no memory for packing buffers");
  return CMX_OK;
}

int cmx_eval_matmul(cmx_array c, int nthreads) {
  cmx_array a = c->in[0], b = c->in[1];
  int st = cmx_array_alloc_data(c);
  if (st) return st;
  if (c->nin == 2 && a->ndim == 2 && b->ndim == 2 && a->dtype == CMX_F32 &&
      b->dtype == CMX_F32 && gemm_backend() == 0)
    return c->size ? eval_f32_2d(c, a, b, nthreads) : CMX_OK;
  int nb = c->p.naxes;
  size_t batch = 1;
  for (int d = 0; d < nb; d++) batch *= (size_t)c->shape[d];
  struct cmx_array_s va, vb;
  batch_view(&va, a, c->shape, nb, 0);
  batch_view(&vb, b, c->shape, nb, 1);
  size_t M = (size_t)va.shape[nb], K = (size_t)va.shape[nb + 1],
         N = (size_t)vb.shape[nb + 1];
  if ((size_t)c->size == 0) return CMX_OK;
  if (c->dtype == CMX_F32 || c->dtype == CMX_F16 || c->dtype == CMX_BF16)
    return eval_f32(c, &va, &vb, nb, batch, nthreads);
  if (c->dtype == CMX_F64 ||
      (c->dtype == CMX_I32 && a->dtype == CMX_I8 && b->dtype == CMX_I8))
    return eval_typed(c, &va, &vb, nb, batch, nthreads);
  int kind = c->dtype == CMX_F64 ? 1 : 2;
  cmx_dtype cd = kind == 1 ? CMX_F64 : CMX_I64;
  size_t esz = cmx_dtype_bytes(cd);
  struct cmx_buffer *ba = cmx_buffer_new(batch * M * K * esz, "cmx_matmul");
  struct cmx_buffer *bb = ba ? cmx_buffer_new(batch * K * N * esz,
                                              "cmx_matmul") : NULL;
  struct cmx_buffer *bc = bb && cd != c->dtype
                              ? cmx_buffer_new(batch * M * N * esz,
                                               "cmx_matmul") : NULL;
  struct cmx_buffer *bx = bb && c->nin == 3 && c->p.step != 0.0
                              ? cmx_buffer_new((size_t)c->size * esz,
                                               "cmx_addmm") : NULL;
  if (!ba || !bb || (cd != c->dtype && !bc) ||
      (c->nin == 3 && c->p.step != 0.0 && !bx)) {
    cmx_buffer_release(ba);
    cmx_buffer_release(bb);
    cmx_buffer_release(bc);
    return CMX_ENOMEM;
  }
  cmx_copy_into(ba->data, cd, &va, nthreads);
  cmx_copy_into(bb->data, cd, &vb, nthreads);
  void *dst = bc ? bc->data : cmx_array_ptr(c);
  cmx_matmul_ref(kind, ba->data, bb->data, dst, batch, M, N, K, nthreads);
  if (c->nin == 3) { /* addmm in f64 (results are float, so kind 1) */
    double *y = dst, al = c->p.value, be = c->p.step;
    const double *x = NULL;
    if (bx) {
      struct cmx_array_s vc;
      addend_view(&vc, c, c->in[2]);
      cmx_copy_into(bx->data, CMX_F64, &vc, nthreads);
      x = bx->data;
    }
    for (int64_t i = 0; i < c->size; i++)
      y[i] = x ? al * y[i] + be * x[i] : al * y[i];
    cmx_buffer_release(bx);
  }
  if (bc) {
    struct cmx_array_s vc;
    flat_view(&vc, bc, cd, c->size);
    cmx_copy_into(cmx_array_ptr(c), c->dtype, &vc, nthreads);
    cmx_buffer_release(bc);
  }
  cmx_buffer_release(ba);
  cmx_buffer_release(bb);
  return CMX_OK;
}
