/* Internal state of the array runtime: arrays (which are also the nodes of
 * the lazy graph), buffers, op parameters, and the helpers shared by the
 * files of api/. Nothing here is public. */
#ifndef CMX_API_INTERNAL_H
#define CMX_API_INTERNAL_H

#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>

#include "cmx.h"
#include "../kernels/elementwise/elementwise.h"
#include "../sched/sched.h"

#define CMX_INTERNAL __attribute__((visibility("hidden")))

/* ---- errors (error.c) ---- */
/* Sets the thread's last error to the formatted message, calls the error
 * handler, and returns status. */
int cmx_err(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Status of the thread's last cmx_err (to pass a callee's failure on). */
int cmx_last_status(void);
/* Formats a shape as "(3,4)" into buf (at least 8 * 21 + 3 bytes). */
const char *cmx_fmt_shape(char *buf, const int64_t *shape, int ndim);

/* ---- dtypes (dtype.c) ---- */
/* cmx_dtype_size, inline: the public function is a call into dtype.c,
 * made several times by every op (49 of a small add's instructions). */
static inline size_t cmx_dtype_bytes(cmx_dtype d) {
  static const unsigned char bytes[CMX_NUM_DTYPES] = {1, 1, 4, 1, 2, 4,
                                                      8, 2, 2, 4, 8};
  return (unsigned)d < CMX_NUM_DTYPES ? bytes[d] : 0;
}
int cmx_dtype_valid(cmx_dtype d);
int cmx_dtype_is_float(cmx_dtype d);
int cmx_dtype_is_signed_int(cmx_dtype d);
cmx_dtype cmx_promote(cmx_dtype a, cmx_dtype b);
/* The float type an op that needs floats computes in: f16/bf16/f32/f64 as
 * they are, f32 for integers and bool. */
cmx_dtype cmx_float_of(cmx_dtype d);

/* ---- memory (memory.c) ---- */
struct cmx_buffer {
  atomic_long refs;
  void *data;
  void *raw;      /* owned: the allocation data lies in (see memory.c) */
  size_t nbytes;  /* bytes accounted (the size class for owned buffers) */
  int owned;      /* 1: from cmx_mem_alloc, 0: caller's buffer */
  unsigned home;  /* owned: the allocating thread's cache list (memory.c) */
  void (*release)(void *ctx);
  void *ctx;
};
/* A 64-byte aligned buffer of at least nbytes, accounted as active memory;
 * NULL (and the thread's error set, CMX_ENOMEM) when the limit would be
 * crossed, the system is out of memory or a fault is injected. */
struct cmx_buffer *cmx_buffer_new(size_t nbytes, const char *who);
struct cmx_buffer *cmx_buffer_wrap(void *data, size_t nbytes,
                                   void (*release)(void *), void *ctx);
void cmx_buffer_retain(struct cmx_buffer *b);
void cmx_buffer_release(struct cmx_buffer *b);
/* 1 when nbytes more would cross the memory limit. */
int cmx_mem_would_exceed(size_t nbytes);

/* ---- arrays and graph nodes (array.c, graph.c) ---- */
enum cmx_op {
#define CMX_OP(name, eval) CMX_OP_##name,
#include "ops.def"
#undef CMX_OP
  CMX_OP_COUNT
};

/* PENDING: not claimed; QUEUED: claimed by an eval, which runs it (or
 * has it run); DONE: finished. PROBE: an eval looks at the node's inputs
 * to decide whether to claim it on its fast path (graph.c); it turns into
 * QUEUED or back into PENDING after a few loads, and a reader that must
 * tell PENDING from the rest waits it out (cmx_array_state). */
enum { CMX_STATE_PENDING, CMX_STATE_QUEUED, CMX_STATE_DONE, CMX_STATE_PROBE };
/* a's state, once it is not PROBE. */
int cmx_array_state(cmx_array a);

/* Op parameters, by op: axes for reductions and transposes, a dtype, a
 * scalar. Kept inline so nodes need one allocation. */
struct cmx_params {
  int axes[CMX_MAX_DIMS];
  int naxes;
  int keepdims;
  int sub;          /* family op id (enum cmx_vunary_op, ...) */
  double value;     /* full / arange start */
  double step;      /* arange step */
  int compute;      /* elementwise: the dtype it computes in */
  int64_t delta;    /* view: element offset from the input's offset */
  struct cmx_ew_prog prog; /* fused: the chain (compile.c) */
};

struct cmx_array_s {
  atomic_int refs;
  atomic_int state;          /* CMX_STATE_*; DONE is published last */
  atomic_int waiters;        /* threads asleep until DONE (graph.c) */
  cmx_dtype dtype;
  int ndim;
  int64_t size;
  int64_t shape[CMX_MAX_DIMS];
  int64_t strides[CMX_MAX_DIMS]; /* elements; fixed when the op is made */
  int64_t offset;                /* elements from buf->data */
  struct cmx_buffer *buf;        /* set by eval (or at creation) */
  /* Graph edge, dropped after eval so inputs can be freed. */
  enum cmx_op op;
  int nin;
  cmx_array in[4]; /* up to 4: attention's q, k, v and mask */
  struct cmx_params p;
  struct cmx_stream_s *stream;
  /* Result of eval: status and message of the first failure. */
  int status;
  char *msg;
  /* A row-major copy made by cmx_array_data for a strided view. */
  _Atomic(struct cmx_buffer *) dense;
  /* Set by an eval whose async job reads something it must release once
   * the team is fenced (rope's table pin): called by the graph then. */
  void (*after)(void *ctx);
  void *after_ctx;
};

/* Reference count helpers that do not touch the last error. */
/* CMX_OK for a live array, else the error (NULL, or freed) with the
 * message naming who and what; inline for the live case every op takes. */
int cmx_array_check_fail(cmx_array a, const char *who, const char *what);
static inline int cmx_array_check(cmx_array a, const char *who,
                                  const char *what) {
  if (a && atomic_load_explicit(&a->refs, memory_order_relaxed) > 0)
    return CMX_OK;
  return cmx_array_check_fail(a, who, what);
}
/* A fresh array descriptor (refs 1, PENDING) with row-major strides; or
 * NULL with CMX_ENOMEM / CMX_EINVAL set for overflowing shapes. */
cmx_array cmx_array_alloc(cmx_dtype dtype, const int64_t *shape, int ndim,
                          const char *who);
/* Checks a caller's shape: ndim range, dims >= 0, product fits. */
int cmx_check_shape(const int64_t *shape, int ndim, int64_t *size,
                    const char *who);
int cmx_is_row_major(const int64_t *shape, const int64_t *strides, int ndim);
void cmx_row_major_strides(const int64_t *shape, int ndim, int64_t *strides);
/* Pointer to element 0 of an evaluated array. */
static inline char *cmx_array_ptr(cmx_array a) {
  return (char *)a->buf->data + a->offset * (int64_t)cmx_dtype_bytes(a->dtype);
}

/* Makes a node: out gets the op, inputs (retained) and stream; finishes
 * by evaluating at once in eager mode. Returns a status (and frees out on
 * failure). */
int cmx_node_finish(cmx_array *out, cmx_array node, enum cmx_op op,
                    const cmx_array *in, int nin, cmx_stream s,
                    const char *who);
/* Resolves NULL to the thread's default stream; checks it is live. */
int cmx_stream_resolve(cmx_stream *s, const char *who);
/* Runs one node (called by the stream worker or inline by eval). */
void cmx_node_run(cmx_array a, int nthreads);
/* Copies x (any strides, any dtype) into dst, row-major, converting to
 * dtype (ops-elementwise.c). The _last form is a node's last step: with
 * last set it may return with the team still copying (the graph fences
 * before anything reads dst; x must outlive the node). */
void cmx_copy_into(void *dst, cmx_dtype dtype, cmx_array x, int nthreads);
void cmx_copy_into_last(void *dst, cmx_dtype dtype, cmx_array x,
                        int nthreads, int last);
/* Streaming stores (ops-elementwise.c): CMX_NT_STORES's mode (0 off, 1 for
 * outputs past this process's share of the last-level cache, 2 always),
 * and whether an output of this many bytes is streamed. */
int cmx_nt_mode(void);
int cmx_nt_out(size_t bytes);
/* 1 when the thread is in eager mode (env, thread or stream flag), and
 * not tracing a function for cmx_compile. */
int cmx_eager_for(cmx_stream s);
/* 1 while the calling thread traces a function (compile.c). */
int cmx_tracing(void);

/* ---- fork, crash reports, denormals ---- */
void cmx_graph_lock(void);
void cmx_graph_unlock(void);
void cmx_graph_fork_prepare(void);
void cmx_graph_fork_parent(void);
void cmx_graph_fork_child(void);
void cmx_mem_fork_prepare(void);
void cmx_mem_fork_parent(void);
void cmx_mem_fork_child(void);
/* Name of the op the calling thread (else the process) last started. */
const char *cmx_running_op(void);

/* ---- op evaluation functions, one per row of ops.def ---- */
/* Each computes a (whose inputs are all DONE and succeeded) with up to
 * nthreads threads, and returns a status with the error message set. */
typedef int (*cmx_eval_fn)(cmx_array a, int nthreads);
extern const cmx_eval_fn cmx_op_eval[CMX_OP_COUNT];
extern const char *const cmx_op_name[CMX_OP_COUNT];

/* A fresh output buffer for a, row-major; status on failure. */
int cmx_array_alloc_data(cmx_array a);

#endif
