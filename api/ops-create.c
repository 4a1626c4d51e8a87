/* Arrays made from nothing (full, zeros, ones, arange) and the ways back
 * out to the caller: cmx_array_data, cmx_array_read, cmx_array_item. */
#include <math.h>
#include <string.h>

#include "../arch/dispatch.h"
#include "../kernels/elementwise/elementwise.h"
#include "internal.h"


/* count doubles converted to dtype d at dst, as astype converts them. */
static void store_f64s(void *dst, cmx_dtype d, const double *src,
                       int64_t count) {
  struct cmx_array_s x = {0};
  struct cmx_buffer b = {.data = (void *)src};
  x.dtype = CMX_F64;
  x.ndim = 1;
  x.shape[0] = count;
  x.strides[0] = 1;
  x.size = count;
  x.buf = &b;
  cmx_copy_into(dst, d, &x, 1);
}

/* One element of dtype holding v, converted as astype does. */
static void store_scalar(void *dst, cmx_dtype d, double v) {
  store_f64s(dst, d, &v, 1);
}

static int full_node(cmx_array *out, const int64_t *shape, int ndim,
                     double value, cmx_dtype dtype, cmx_stream s,
                     const char *who) {
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  int st = cmx_stream_resolve(&s, who);
  if (st) return st;
  cmx_array a = cmx_array_alloc(dtype, shape, ndim, who);
  if (!a) return cmx_last_status();
  a->p.value = value;
  return cmx_node_finish(out, a, CMX_OP_full, NULL, 0, s, who);
}

int cmx_full(cmx_array *out, const int64_t *shape, int ndim, double value,
             cmx_dtype dtype, cmx_stream s) {
  return full_node(out, shape, ndim, value, dtype, s, "cmx_full");
}

int cmx_zeros(cmx_array *out, const int64_t *shape, int ndim,
              cmx_dtype dtype, cmx_stream s) {
  return full_node(out, shape, ndim, 0.0, dtype, s, "cmx_zeros");
}

int cmx_ones(cmx_array *out, const int64_t *shape, int ndim, cmx_dtype dtype,
             cmx_stream s) {
  return full_node(out, shape, ndim, 1.0, dtype, s, "cmx_ones");
}

struct fill { char *dst; size_t esz; unsigned char elem[8]; };

/* Elements [b, e): memset when every byte of the element is the same
 * (zeros, and any 1-byte dtype), else a 4 KiB run of elements copied over
 * the range. An element at a time ran at 10 GB/s (pad of 4096 x 4096 f32:
 * 26 ms). */
static void fill_range(void *ctx, size_t b, size_t e) {
  const struct fill *f = ctx;
  char *d = f->dst + b * f->esz;
  const size_t len = (e - b) * f->esz;
  int same = 1;
  for (size_t k = 1; k < f->esz; k++) same &= f->elem[k] == f->elem[0];
  if (same) {
    memset(d, f->elem[0], len);
    return;
  }
  const size_t run = len < 4096 ? len : 4096; /* esz divides 4096 */
  for (size_t i = 0; i < run; i += f->esz) memcpy(d + i, f->elem, f->esz);
  for (size_t o = run; o < len; o += run)
    memcpy(d + o, d, len - o < run ? len - o : run);
}

int cmx_eval_full(cmx_array a, int nthreads) {
  int st = cmx_array_alloc_data(a);
  if (st) return st;
  struct fill f = {.dst = cmx_array_ptr(a), .esz = cmx_dtype_bytes(a->dtype)};
  store_scalar(f.elem, a->dtype, a->p.value);
  cmx_parallel_for(nthreads, (size_t)a->size, 64, 1 << 16, fill_range, &f);
  return CMX_OK;
}

int cmx_arange(cmx_array *out, double start, double stop, double step,
               cmx_dtype dtype, cmx_stream s) {
  static const char who[] = "cmx_arange";
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  int st = cmx_stream_resolve(&s, who);
  if (st) return st;
  if (step == 0 || !isfinite(start) || !isfinite(stop) || !isfinite(step))
    return cmx_err(CMX_EINVAL, "%s: start %g, stop %g, step %g do not make "
                   "a finite range", who, start, stop, step);
  double n = ceil((stop - start) / step);
  if (n < 0) n = 0;
  if (n > 9e15)
    return cmx_err(CMX_EINVAL, "%s: %g elements are too many", who, n);
  int64_t len = (int64_t)n;
  cmx_array a = cmx_array_alloc(dtype, &len, 1, who);
  if (!a) return cmx_last_status();
  a->p.value = start;
  a->p.step = step;
  return cmx_node_finish(out, a, CMX_OP_arange, NULL, 0, s, who);
}

int cmx_eval_arange(cmx_array a, int nthreads) {
  int st = cmx_array_alloc_data(a);
  if (st) return st;
  char *dst = cmx_array_ptr(a);
  size_t esz = cmx_dtype_bytes(a->dtype);
  /* Values in double a tile at a time, each tile converted in one call: a
   * conversion call per element cost ~60 ns (a 256-element arange took
   * ~20 us, most of cmx-bench's 64K take row). */
  enum { T = 1024 };
  double t[T];
  for (int64_t i0 = 0; i0 < a->size; i0 += T) {
    const int64_t m = a->size - i0 < T ? a->size - i0 : T;
    for (int64_t i = 0; i < m; i++)
      t[i] = a->p.value + (double)(i0 + i) * a->p.step;
    store_f64s(dst + i0 * (int64_t)esz, a->dtype, t, m);
  }
  return CMX_OK;
}

int cmx_array_data(const void **out, cmx_array a) {
  static const char who[] = "cmx_array_data";
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  int st = cmx_array_check(a, who, "a");
  if (st) return st;
  st = cmx_eval(&a, 1);
  if (st) return st;
  if (cmx_is_row_major(a->shape, a->strides, a->ndim)) {
    *out = cmx_array_ptr(a);
    return CMX_OK;
  }
  struct cmx_buffer *d = atomic_load(&a->dense);
  if (!d) {
    struct cmx_buffer *mine = cmx_buffer_new(cmx_array_nbytes(a), who);
    if (!mine) return CMX_ENOMEM;
    cmx_copy_into(mine->data, a->dtype, a, 1);
    struct cmx_buffer *expect = NULL;
    if (atomic_compare_exchange_strong(&a->dense, &expect, mine)) {
      d = mine;
    } else {
      cmx_buffer_release(mine);
      d = expect;
    }
  }
  *out = d->data;
  return CMX_OK;
}

int cmx_array_read(cmx_array a, void *dst, size_t dst_bytes) {
  static const char who[] = "cmx_array_read";
  int st = cmx_array_check(a, who, "a");
  if (st) return st;
  if (!dst && a->size) return cmx_err(CMX_EINVAL, "%s: dst is NULL", who);
  if (dst_bytes < cmx_array_nbytes(a))
    return cmx_err(CMX_EINVAL, "%s: dst has %zu bytes, the array needs %zu",
                   who, dst_bytes, cmx_array_nbytes(a));
  st = cmx_eval(&a, 1);
  if (st) return st;
  if (a->size) cmx_copy_into(dst, a->dtype, a, 1);
  return CMX_OK;
}

int cmx_array_item(double *out, cmx_array a) {
  static const char who[] = "cmx_array_item";
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  int st = cmx_array_check(a, who, "a");
  if (st) return st;
  if (a->size != 1)
    return cmx_err(CMX_ESHAPE, "%s: the array has %lld elements, not 1", who,
                   (long long)a->size);
  st = cmx_eval(&a, 1);
  if (st) return st;
  cmx_copy_into(out, CMX_F64, a, 1);
  return CMX_OK;
}
