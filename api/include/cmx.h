/* cmx: lazily evaluated CPU arrays with hand-vectorised kernels.
 * The one public header. Every fallible call returns CMX_OK (0) or a negative
 * cmx_status; results come back through the out-parameters that come first,
 * which are set to NULL on failure. Nothing in cmx aborts the process.
 * Scope of settings: "process" = whole process, "thread" = calling thread,
 * "stream" = that stream only. */
#ifndef CMX_H
#define CMX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CMX_API __attribute__((visibility("default")))
#else
#define CMX_API
#endif

#define CMX_MAX_DIMS 8 /* arrays have at most this many dimensions */

/* ---- Status and errors ------------------------------------------------ */
typedef enum {
  CMX_OK = 0,
  CMX_EINVAL = -1,       /* bad argument: NULL handle, bad axis, bad flag   */
  CMX_ESHAPE = -2,       /* shapes cannot broadcast / do not match          */
  CMX_EDTYPE = -3,       /* dtype not supported by this op                  */
  CMX_ENOMEM = -4,       /* allocation failed or memory limit reached       */
  CMX_EUNSUPPORTED = -5, /* valid request this build cannot do (e.g. ISA)   */
  CMX_EIO = -6,          /* file missing, truncated or malformed            */
  CMX_ESTATE = -7,       /* used after free, stream shut down, etc.         */
  CMX_EINTERNAL = -8
} cmx_status;

/* Name of a status ("CMX_ESHAPE"); unknown values give "CMX_E?". */
CMX_API const char *cmx_status_string(int status);
/* The calling thread's last error message (thread scope); "" when none.
 * Never NULL. A successful call does not clear it. */
CMX_API const char *cmx_last_error(void);
/* Called (process scope) on every error a cmx call returns, on the thread
 * that returns it, after the thread's last error is set. NULL: none. */
typedef void (*cmx_error_handler)(int status, const char *msg, void *ctx);
CMX_API void cmx_set_error_handler(cmx_error_handler h, void *ctx);
/* Opt-in (process scope), idempotent: on SIGSEGV, SIGBUS, SIGABRT or SIGILL
 * prints the op being executed and the thread's last cmx error to stderr
 * (async-signal-safe writes only), then hands the signal to the disposition
 * installed before (its handler runs, or the default action kills the
 * process with the original signal). */
CMX_API int cmx_install_crash_handler(void);

/* ---- Arrays ----------------------------------------------------------- */
typedef enum {
  CMX_BOOL, CMX_U8, CMX_U32, CMX_I8, CMX_I16, CMX_I32, CMX_I64,
  CMX_F16, CMX_BF16, CMX_F32, CMX_F64
} cmx_dtype;
#define CMX_NUM_DTYPES 11

typedef struct cmx_array_s *cmx_array;   /* immutable, reference counted */
typedef struct cmx_stream_s *cmx_stream; /* a work queue, worker and team */

CMX_API const char *cmx_dtype_name(cmx_dtype dtype); /* "float32", ... */
CMX_API size_t cmx_dtype_size(cmx_dtype dtype);      /* bytes; 0 if bad */

/* Copies shape-product elements from data (row-major). */
CMX_API int cmx_array_from_data(cmx_array *out, const void *data,
                                cmx_dtype dtype, const int64_t *shape,
                                int ndim);
/* No copy. release == NULL borrows: the caller keeps data alive and
 * unchanged while any array built on it lives; otherwise release(ctx) is
 * called when the last array using data is gone. data must be aligned to
 * the dtype's size. */
CMX_API int cmx_array_from_buffer(cmx_array *out, void *data,
                                  cmx_dtype dtype, const int64_t *shape,
                                  int ndim, void (*release)(void *ctx),
                                  void *ctx);
CMX_API int cmx_full(cmx_array *out, const int64_t *shape, int ndim,
                     double value, cmx_dtype dtype, cmx_stream s);
CMX_API int cmx_zeros(cmx_array *out, const int64_t *shape, int ndim,
                      cmx_dtype dtype, cmx_stream s);
CMX_API int cmx_ones(cmx_array *out, const int64_t *shape, int ndim,
                     cmx_dtype dtype, cmx_stream s);
/* ceil((stop - start) / step) elements start + i * step. */
CMX_API int cmx_arange(cmx_array *out, double start, double stop,
                       double step, cmx_dtype dtype, cmx_stream s);
/* Adds one reference and returns a (NULL-safe). */
CMX_API cmx_array cmx_array_retain(cmx_array a);
/* Drops one reference (NULL-safe). The graph keeps what it still needs. */
CMX_API void cmx_array_free(cmx_array a);

/* Accessors never evaluate. On a NULL handle they return 0 / NULL. */
CMX_API int cmx_array_ndim(cmx_array a);
CMX_API const int64_t *cmx_array_shape(cmx_array a); /* valid while a lives */
CMX_API cmx_dtype cmx_array_dtype(cmx_array a);
CMX_API int64_t cmx_array_size(cmx_array a);
CMX_API size_t cmx_array_nbytes(cmx_array a);
/* Strides in elements of a's current layout (views have non-row-major
 * strides until evaluated by cmx_array_data / cmx_contiguous). */
CMX_API const int64_t *cmx_array_strides(cmx_array a);
/* 1 when a has been evaluated (its data exists), else 0. */
CMX_API int cmx_array_is_evaluated(cmx_array a);

/* Evaluates the arrays and everything they depend on; waits. Returns the
 * first failure of any node they depend on, with its message. */
CMX_API int cmx_eval(const cmx_array *arrays, size_t n);
/* Schedules evaluation and returns at once; failures are reported by a
 * later cmx_eval / cmx_array_data / cmx_stream_synchronize. */
CMX_API int cmx_async_eval(const cmx_array *arrays, size_t n);
/* Evaluates a and returns a pointer to its row-major contiguous data, valid
 * while a lives. A strided view is made contiguous in place of a's layout. */
CMX_API int cmx_array_data(const void **out, cmx_array a);
/* Evaluates a and copies its elements, row-major, into dst. dst_bytes must
 * be at least cmx_array_nbytes(a). */
CMX_API int cmx_array_read(cmx_array a, void *dst, size_t dst_bytes);
/* Convenience: evaluates a 1-element array and returns its value as double. */
CMX_API int cmx_array_item(double *out, cmx_array a);

/* ---- Ops: all return int and put the result in *out ------------------- */
/* Unary. Float ops on integer or bool inputs give float32 (as MLX). */
CMX_API int cmx_abs(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_neg(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_sign(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_exp(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_expm1(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_log(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_log1p(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_sqrt(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_rsqrt(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_square(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_reciprocal(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_sin(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_cos(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_tanh(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_sigmoid(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_erf(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_gelu(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_gelu_tanh(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_silu(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_relu(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_floor(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_ceil(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_round(cmx_array *out, cmx_array a, cmx_stream s);
CMX_API int cmx_logical_not(cmx_array *out, cmx_array a, cmx_stream s);

/* Binary, broadcasting, NumPy/MLX type promotion. Comparisons and logical
 * ops give bool. Integer division by zero gives 0 (never a signal). */
CMX_API int cmx_add(cmx_array *out, cmx_array a, cmx_array b, cmx_stream s);
CMX_API int cmx_subtract(cmx_array *out, cmx_array a, cmx_array b,
                         cmx_stream s);
CMX_API int cmx_multiply(cmx_array *out, cmx_array a, cmx_array b,
                         cmx_stream s);
CMX_API int cmx_divide(cmx_array *out, cmx_array a, cmx_array b,
                       cmx_stream s); /* true division: float result */
CMX_API int cmx_maximum(cmx_array *out, cmx_array a, cmx_array b,
                        cmx_stream s); /* NaN propagates */
CMX_API int cmx_minimum(cmx_array *out, cmx_array a, cmx_array b,
                        cmx_stream s); /* NaN propagates */
CMX_API int cmx_power(cmx_array *out, cmx_array a, cmx_array b,
                      cmx_stream s);
CMX_API int cmx_remainder(cmx_array *out, cmx_array a, cmx_array b,
                          cmx_stream s); /* sign of b, as Python's % */
CMX_API int cmx_floor_divide(cmx_array *out, cmx_array a, cmx_array b,
                             cmx_stream s);
CMX_API int cmx_equal(cmx_array *out, cmx_array a, cmx_array b, cmx_stream s);
CMX_API int cmx_not_equal(cmx_array *out, cmx_array a, cmx_array b,
                          cmx_stream s);
CMX_API int cmx_less(cmx_array *out, cmx_array a, cmx_array b, cmx_stream s);
CMX_API int cmx_less_equal(cmx_array *out, cmx_array a, cmx_array b,
                           cmx_stream s);
CMX_API int cmx_greater(cmx_array *out, cmx_array a, cmx_array b,
                        cmx_stream s);
CMX_API int cmx_greater_equal(cmx_array *out, cmx_array a, cmx_array b,
                              cmx_stream s);
CMX_API int cmx_logical_and(cmx_array *out, cmx_array a, cmx_array b,
                            cmx_stream s);
CMX_API int cmx_logical_or(cmx_array *out, cmx_array a, cmx_array b,
                           cmx_stream s);
/* out = cond ? a : b, all three broadcast together; cond is read as bool. */
CMX_API int cmx_where(cmx_array *out, cmx_array cond, cmx_array a,
                      cmx_array b, cmx_stream s);

/* Reductions over a set of axes (naxes == 0 with axes == NULL: all axes).
 * sum/prod of bool give int32; mean/var/logsumexp of integers give float32;
 * all/any give bool. Empty reductions give the identity (sum 0, prod 1,
 * max/min of an empty axis is CMX_EINVAL). var is the population variance
 * (ddof = 0). */
CMX_API int cmx_sum(cmx_array *out, cmx_array a, const int *axes, int naxes,
                    bool keepdims, cmx_stream s);
CMX_API int cmx_mean(cmx_array *out, cmx_array a, const int *axes, int naxes,
                     bool keepdims, cmx_stream s);
CMX_API int cmx_prod(cmx_array *out, cmx_array a, const int *axes, int naxes,
                     bool keepdims, cmx_stream s);
CMX_API int cmx_max(cmx_array *out, cmx_array a, const int *axes, int naxes,
                    bool keepdims, cmx_stream s);
CMX_API int cmx_min(cmx_array *out, cmx_array a, const int *axes, int naxes,
                    bool keepdims, cmx_stream s);
CMX_API int cmx_all(cmx_array *out, cmx_array a, const int *axes, int naxes,
                    bool keepdims, cmx_stream s);
CMX_API int cmx_any(cmx_array *out, cmx_array a, const int *axes, int naxes,
                    bool keepdims, cmx_stream s);
CMX_API int cmx_logsumexp(cmx_array *out, cmx_array a, const int *axes,
                          int naxes, bool keepdims, cmx_stream s);
CMX_API int cmx_var(cmx_array *out, cmx_array a, const int *axes, int naxes,
                    bool keepdims, cmx_stream s);
/* Index (uint32) of the first maximum / minimum along axis; NaN counts as
 * the maximum and the minimum (NumPy). */
CMX_API int cmx_argmax(cmx_array *out, cmx_array a, int axis, bool keepdims,
                       cmx_stream s);
CMX_API int cmx_argmin(cmx_array *out, cmx_array a, int axis, bool keepdims,
                       cmx_stream s);

/* Shapes and views. These share a's buffer (no copy) except where noted. */
/* One dimension may be -1. Copies only when a's strides cannot express the
 * new shape. */
CMX_API int cmx_reshape(cmx_array *out, cmx_array a, const int64_t *shape,
                        int ndim, cmx_stream s);
/* axes == NULL (naxes 0): reverse the axes. */
CMX_API int cmx_transpose(cmx_array *out, cmx_array a, const int *axes,
                          int naxes, cmx_stream s);
CMX_API int cmx_broadcast_to(cmx_array *out, cmx_array a,
                             const int64_t *shape, int ndim, cmx_stream s);
CMX_API int cmx_expand_dims(cmx_array *out, cmx_array a, int axis,
                            cmx_stream s);
/* axes == NULL: every axis of size 1. */
CMX_API int cmx_squeeze(cmx_array *out, cmx_array a, const int *axes,
                        int naxes, cmx_stream s);
/* Python slicing per axis: start/stop clamp, negative values count from the
 * end, step != 0 (negative steps walk backwards). NULL start/stop/step:
 * defaults (0 / size / 1, or size-1 / before-0 for negative steps). */
CMX_API int cmx_slice(cmx_array *out, cmx_array a, const int64_t *start,
                      const int64_t *stop, const int64_t *step, int ndim,
                      cmx_stream s);
CMX_API int cmx_flatten(cmx_array *out, cmx_array a, cmx_stream s);
/* Copies into a fresh row-major buffer. */
CMX_API int cmx_contiguous(cmx_array *out, cmx_array a, cmx_stream s);
/* Copies with conversion (float -> int truncates toward zero; f16/bf16
 * rounded to nearest even; out-of-range float -> int is saturated). */
CMX_API int cmx_astype(cmx_array *out, cmx_array a, cmx_dtype dtype,
                       cmx_stream s);

/* Linear algebra: matmul as NumPy (1-D operands, broadcast batch dims). */
CMX_API int cmx_matmul(cmx_array *out, cmx_array a, cmx_array b,
                       cmx_stream s);

/* ---- Streams and runtime ---------------------------------------------- */
#define CMX_STREAM_EAGER 1 /* every op on this stream evaluates at once */
typedef struct {
  int n_threads;    /* team size; 0: one per core of cpus (or all cores) */
  const char *cpus; /* hwloc list syntax "0-3,6"; NULL: the process mask */
  int flags;        /* CMX_STREAM_EAGER */
} cmx_stream_config;
/* A new stream (its worker starts lazily). cfg NULL: defaults. */
CMX_API int cmx_stream_new(cmx_stream *out, const cmx_stream_config *cfg);
/* Waits until everything queued on s is done; returns the first failure
 * seen on s since the last synchronize. NULL: the thread's default. */
CMX_API int cmx_stream_synchronize(cmx_stream s);
/* Drains s, joins its worker and team, releases its memory. Arrays made on
 * it stay valid. Freeing the process default stream, or a stream twice, is
 * ignored (a NULL or stale handle is detected, never dereferenced freely:
 * see cmx_stream_free_checked). */
CMX_API void cmx_stream_free(cmx_stream s);
/* As cmx_stream_free, returning CMX_ESTATE for a stream already freed and
 * CMX_EINVAL for NULL or the process default stream. */
CMX_API int cmx_stream_free_checked(cmx_stream s);
/* The calling thread's default stream (thread scope; initially the
 * process default stream). */
CMX_API cmx_stream cmx_default_stream(void);
/* Sets the calling thread's default stream; NULL restores the process
 * default stream. */
CMX_API int cmx_set_default_stream(cmx_stream s);
/* Team size of the process default stream (process scope); n >= 1, capped
 * at the cores in the process mask. */
CMX_API int cmx_set_num_threads(int n);
/* Team size the default stream will actually use. */
CMX_API int cmx_get_num_threads(void);
/* Team size of a stream (NULL: the thread's default stream). */
CMX_API int cmx_stream_num_threads(cmx_stream s);
/* Eager mode for the calling thread (thread scope), in addition to
 * CMX_EAGER=1 (process) and CMX_STREAM_EAGER (stream). */
CMX_API void cmx_set_eager(bool on);
/* Flush-to-zero and denormals-are-zero on cmx's worker and team threads
 * only (process scope; CMX_FTZ=1 at start-up). Work cmx runs on a caller's
 * thread uses it too and restores the caller's mode after. Default: IEEE. */
CMX_API void cmx_set_ftz(bool on);
CMX_API bool cmx_get_ftz(void);
/* The instruction set in use: "avx512", "avx2", "neon", "generic". */
CMX_API const char *cmx_isa(void);
/* Switches the kernel level for the whole process ("generic", "avx2",
 * "avx512", "neon"); CMX_EUNSUPPORTED if this CPU lacks it. Call while no
 * eval is running. CMX_ISA sets it at start-up. */
CMX_API int cmx_set_isa(const char *isa);
CMX_API const char *cmx_version(void);

/* ---- Memory (process scope) ------------------------------------------- */
CMX_API size_t cmx_get_active_memory(void); /* bytes held by live arrays */
CMX_API size_t cmx_get_peak_memory(void);
CMX_API void cmx_reset_peak_memory(void);
CMX_API size_t cmx_get_cache_memory(void);  /* freed, kept for reuse */
/* Limit on active memory; 0 or SIZE_MAX: none. Returns the previous one. */
CMX_API size_t cmx_set_memory_limit(size_t bytes);
CMX_API size_t cmx_set_cache_limit(size_t bytes);
CMX_API void cmx_clear_cache(void);

#ifdef __cplusplus
}
#endif
#endif
