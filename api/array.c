/* Arrays: descriptors (shape, strides, offset, dtype), reference counting,
 * creation from data or a caller's buffer, and accessors. An array is also
 * its own graph node until evaluated (graph.c). Freeing walks the graph
 * iteratively, so long chains of unevaluated ops cannot overflow the stack. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int cmx_array_check_fail(cmx_array a, const char *who, const char *what) {
  if (!a) return cmx_err(CMX_EINVAL, "%s: %s is NULL", who, what);
  if (atomic_load_explicit(&a->refs, memory_order_relaxed) <= 0)
    return cmx_err(CMX_ESTATE, "%s: %s was already freed", who, what);
  return CMX_OK;
}

int cmx_check_shape(const int64_t *shape, int ndim, int64_t *size,
                    const char *who) {
  if (ndim < 0 || ndim > CMX_MAX_DIMS)
    return cmx_err(CMX_EINVAL, "%s: ndim %d is outside [0, %d]", who, ndim,
                   CMX_MAX_DIMS);
  if (ndim > 0 && !shape)
    return cmx_err(CMX_EINVAL, "%s: shape is NULL with ndim %d", who, ndim);
  /* The product of the non-zero dims bounds every stride, so it must fit
   * even when a zero dim makes the size 0. */
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return cmx_err(CMX_EINVAL, "%s: dimension %d is negative (%lld)", who,
                     i, (long long)shape[i]);
    /* n * shape[i] > (INT64_MAX / 16), without a division */
    int64_t t;
    if (shape[i] && (__builtin_mul_overflow(n, shape[i], &t) ||
                     t > INT64_MAX / 16)) {
      char b[200];
      return cmx_err(CMX_EINVAL, "%s: shape %s has more elements than fit in "
                     "memory (int64 overflow)", who,
                     cmx_fmt_shape(b, shape, ndim));
    }
    if (shape[i]) n *= shape[i];
  }
  for (int i = 0; i < ndim; i++)
    if (shape[i] == 0) n = 0;
  *size = n;
  return CMX_OK;
}

void cmx_row_major_strides(const int64_t *shape, int ndim, int64_t *strides) {
  /* Shapes passed cmx_check_shape, so this fits; unsigned keeps it
   * defined even for the strides of an empty array. */
  uint64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    strides[i] = (int64_t)s;
    s *= shape[i] > 0 ? (uint64_t)shape[i] : 1;
  }
}

int cmx_is_row_major(const int64_t *shape, const int64_t *strides, int ndim) {
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    if (shape[i] != 1 && strides[i] != s) return 0;
    s *= shape[i];
  }
  return 1;
}

/* Descriptors freed by a thread wait in a short list of its own for its
 * next op: a malloc and a free of the 0.4 KB struct were 130 of a small
 * op's 1.5K instructions (callgrind), the list's pop and push a few. The
 * list is freed when the thread exits (a key destructor, set on the
 * thread's first push). */
#define SPARE_MAX 16
static _Thread_local struct { cmx_array head; int n, keyed; } tls_spare;
static pthread_key_t g_spare_key;
static pthread_once_t g_spare_once = PTHREAD_ONCE_INIT;

static void spare_drain(void *unused) {
  (void)unused;
  while (tls_spare.head) {
    cmx_array a = tls_spare.head;
    tls_spare.head = a->in[0];
    free(a);
  }
  tls_spare.n = 0;
}
static void spare_key_make(void) {
  pthread_key_create(&g_spare_key, spare_drain);
}

static cmx_array spare_get(void) {
  cmx_array a = tls_spare.head;
  if (!a) return malloc(sizeof *a);
  tls_spare.head = a->in[0];
  tls_spare.n--;
  return a;
}

/* The list links through in[0]. */
static void spare_put(cmx_array a) {
  if (tls_spare.n >= SPARE_MAX) {
    free(a);
    return;
  }
  if (!tls_spare.keyed) {
    pthread_once(&g_spare_once, spare_key_make);
    pthread_setspecific(g_spare_key, &tls_spare);
    tls_spare.keyed = 1;
  }
  a->in[0] = tls_spare.head;
  tls_spare.head = a;
  tls_spare.n++;
}

cmx_array cmx_array_alloc(cmx_dtype dtype, const int64_t *shape, int ndim,
                          const char *who) {
  int64_t size;
  if (!cmx_dtype_valid(dtype))
    return (void)cmx_err(CMX_EINVAL, "%s: dtype %d is not a cmx_dtype", who,
                         (int)dtype),
           NULL;
  if (cmx_check_shape(shape, ndim, &size, who)) return NULL;
  uint64_t nbytes;
  if (__builtin_mul_overflow((uint64_t)size, (uint64_t)cmx_dtype_bytes(dtype),
                             &nbytes) ||
      nbytes > (uint64_t)INT64_MAX)
    return (void)cmx_err(CMX_EINVAL, "%s: %lld elements overflow", who,
                         (long long)size),
           NULL;
  /* Not calloc: glibc's calloc skips the per-thread cache, and took 370
   * of an eager 16-element add's 3.1K instructions (callgrind). The memset
   * goes through a volatile pointer, or GCC turns a malloc and memset back
   * into calloc, or inlines it as rep stos (slower to start on AMD). */
  static void *(*volatile const zero)(void *, int, size_t) = memset;
  cmx_array a = spare_get();
  if (!a) return (void)cmx_err(CMX_ENOMEM, "%s: out of memory", who), NULL;
  zero(a, 0, sizeof *a);
  atomic_init(&a->refs, 1);
  atomic_init(&a->state, CMX_STATE_PENDING);
  atomic_init(&a->dense, NULL);
  a->dtype = dtype;
  a->ndim = ndim;
  a->size = size;
  if (ndim) memcpy(a->shape, shape, (size_t)ndim * sizeof *shape);
  cmx_row_major_strides(a->shape, ndim, a->strides);
  return a;
}

int cmx_array_alloc_data(cmx_array a) {
  size_t nbytes = (size_t)a->size * cmx_dtype_bytes(a->dtype);
  a->buf = cmx_buffer_new(nbytes, cmx_op_name[a->op]);
  a->offset = 0;
  return a->buf ? CMX_OK : CMX_ENOMEM;
}

int cmx_array_from_data(cmx_array *out, const void *data, cmx_dtype dtype,
                        const int64_t *shape, int ndim) {
  static const char who[] = "cmx_array_from_data";
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  cmx_array a = cmx_array_alloc(dtype, shape, ndim, who);
  if (!a) return cmx_last_status();
  if (!data && a->size) {
    free(a);
    return cmx_err(CMX_EINVAL, "%s: data is NULL", who);
  }
  size_t nbytes = (size_t)a->size * cmx_dtype_bytes(dtype);
  a->buf = cmx_buffer_new(nbytes, who);
  if (!a->buf) {
    free(a);
    return CMX_ENOMEM;
  }
  if (nbytes) memcpy(a->buf->data, data, nbytes);
  a->op = CMX_OP_none;
  atomic_store_explicit(&a->state, CMX_STATE_DONE, memory_order_release);
  *out = a;
  return CMX_OK;
}

int cmx_array_from_buffer(cmx_array *out, void *data, cmx_dtype dtype,
                          const int64_t *shape, int ndim,
                          void (*release)(void *ctx), void *ctx) {
  static const char who[] = "cmx_array_from_buffer";
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  cmx_array a = cmx_array_alloc(dtype, shape, ndim, who);
  if (!a) return cmx_last_status();
  if (!data && a->size) {
    free(a);
    return cmx_err(CMX_EINVAL, "%s: data is NULL", who);
  }
  if ((uintptr_t)data % cmx_dtype_bytes(dtype)) {
    free(a);
    return cmx_err(CMX_EINVAL, "%s: data %p is not aligned to the %zu-byte "
                   "%s element", who, data, cmx_dtype_bytes(dtype),
                   cmx_dtype_name(dtype));
  }
  a->buf = cmx_buffer_wrap(data, (size_t)a->size * cmx_dtype_bytes(dtype),
                           release, ctx);
  if (!a->buf) {
    free(a);
    return cmx_err(CMX_ENOMEM, "%s: out of memory", who);
  }
  a->op = CMX_OP_none;
  atomic_store_explicit(&a->state, CMX_STATE_DONE, memory_order_release);
  *out = a;
  return CMX_OK;
}

cmx_array cmx_array_retain(cmx_array a) {
  if (a) atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
  return a;
}

/* Drops one reference to a; 1 if it was the last. A count of 1 is ours
 * alone (every holder counts itself, and only a holder can add one), so
 * the last reference is dropped without a locked instruction; the acquire
 * load orders the teardown after the other holders' releasing drops. */
static int drop_last(atomic_int *refs) {
  if (atomic_load_explicit(refs, memory_order_acquire) == 1) return 1;
  return atomic_fetch_sub_explicit(refs, 1, memory_order_acq_rel) == 1;
}

/* Frees x itself: its buffers, message and descriptor. */
static void teardown(cmx_array x) {
  cmx_buffer_release(x->buf);
  struct cmx_buffer *dense = atomic_load(&x->dense);
  if (dense) cmx_buffer_release(dense);
  if (x->msg) free(x->msg);
  /* 0 marks it freed for cmx_array_check while it waits in the list
   * (the last drop may have left the count at 1, see drop_last) */
  atomic_store_explicit(&x->refs, 0, memory_order_relaxed);
  spare_put(x);
}

/* Frees a, whose last reference is gone, and iteratively the inputs whose
 * last reference it held. */
static void __attribute__((noinline)) free_graph(cmx_array a) {
  cmx_array stack[64];
  cmx_array *st = stack;
  size_t n = 0, cap = 64;
  st[n++] = a;
  while (n) {
    cmx_array x = st[--n];
    for (int i = 0; i < x->nin; i++) {
      cmx_array in = x->in[i];
      if (!in || !drop_last(&in->refs)) continue;
      if (n == cap) {
        cmx_array *bigger = malloc(2 * cap * sizeof *bigger);
        if (!bigger) continue; /* leak rather than crash */
        memcpy(bigger, st, n * sizeof *st);
        if (st != stack) free(st);
        st = bigger;
        cap *= 2;
      }
      st[n++] = in;
    }
    teardown(x);
  }
  if (st != stack) free(st);
}

/* An evaluated array has no edges left: it is freed without the walk and
 * its stack (the common case, an op's output). */
void cmx_array_free(cmx_array a) {
  if (!a || !drop_last(&a->refs)) return;
  if (a->nin == 0) teardown(a);
  else free_graph(a);
}

int cmx_array_ndim(cmx_array a) { return a ? a->ndim : 0; }
const int64_t *cmx_array_shape(cmx_array a) { return a ? a->shape : NULL; }
const int64_t *cmx_array_strides(cmx_array a) { return a ? a->strides : NULL; }
cmx_dtype cmx_array_dtype(cmx_array a) { return a ? a->dtype : CMX_F32; }
int64_t cmx_array_size(cmx_array a) { return a ? a->size : 0; }
size_t cmx_array_nbytes(cmx_array a) {
  return a ? (size_t)a->size * cmx_dtype_bytes(a->dtype) : 0;
}
int cmx_array_is_evaluated(cmx_array a) {
  return a && atomic_load_explicit(&a->state, memory_order_acquire) ==
                  CMX_STATE_DONE && a->status == CMX_OK;
}
