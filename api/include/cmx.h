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
 * the dtype's size. On failure release is not called: the caller keeps
 * ownership of data. */
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
 * sum/prod of bool, int8 and int16 give int32, of uint8 uint32 (as MLX);
 * mean/var/logsumexp of integers give float32; all/any give bool. Empty
 * reductions give the identity (sum 0, prod 1, max/min of an empty axis is
 * CMX_EINVAL). var is the population variance (ddof = 0). */
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

/* Indexing, joining and layout (MLX semantics, every dtype). */
/* Gathers along axis: the result has a's shape with axis replaced by the
 * indices' shape. Indices are any integer dtype; negative ones count from
 * the end. An index outside [-n, n) fails the node: CMX_EINVAL from the
 * eval that computes it, naming the index (never an out-of-bounds read). */
CMX_API int cmx_take(cmx_array *out, cmx_array a, cmx_array indices,
                     int axis, cmx_stream s);
/* out[..., j, ...] = a[..., indices[..., j, ...], ...] along axis; indices
 * have a's ndim and broadcast with a on the other axes. Errors as take. */
CMX_API int cmx_take_along_axis(cmx_array *out, cmx_array a,
                                cmx_array indices, int axis, cmx_stream s);
/* Joins n >= 1 arrays along axis; all other dimensions must match
 * (CMX_ESHAPE otherwise). The dtype is the promotion of all inputs. */
CMX_API int cmx_concatenate(cmx_array *out, const cmx_array *arrays,
                            size_t n, int axis, cmx_stream s);
/* Joins n >= 1 arrays of one shape along a new axis (in [-ndim-1, ndim]). */
CMX_API int cmx_stack(cmx_array *out, const cmx_array *arrays, size_t n,
                      int axis, cmx_stream s);
/* Splits a into n_out equal sections along axis (CMX_ESHAPE if the size
 * does not divide); outs[0..n_out) are views (slices), no copy. */
CMX_API int cmx_split(cmx_array *outs, size_t n_out, cmx_array a, int axis,
                      cmx_stream s);
/* Splits at the n_indices positions along axis (NumPy array_split with
 * indices: clamped, negative from the end); fills n_indices + 1 views. */
CMX_API int cmx_split_at(cmx_array *outs, cmx_array a,
                         const int64_t *indices, size_t n_indices, int axis,
                         cmx_stream s);
/* Constant padding: low[d] / high[d] >= 0 elements before / after axis d
 * (ndim must equal a's), filled with value converted to a's dtype. */
CMX_API int cmx_pad(cmx_array *out, cmx_array a, const int64_t *low,
                    const int64_t *high, int ndim, double value,
                    cmx_stream s);
/* Lower / upper triangle of the last two axes: tril keeps j - i <= k,
 * triu keeps j - i >= k; the rest is zero. a needs ndim >= 2. */
CMX_API int cmx_tril(cmx_array *out, cmx_array a, int k, cmx_stream s);
CMX_API int cmx_triu(cmx_array *out, cmx_array a, int k, cmx_stream s);
/* Cumulative sum along axis. reverse: from the end; inclusive false: each
 * element is the sum of those strictly before it. f16/bf16/f32 accumulate
 * sequentially in f32 (f64 in f64); integers in int64, stored wrapped to
 * the input dtype; bool gives int32. */
CMX_API int cmx_cumsum(cmx_array *out, cmx_array a, int axis, bool reverse,
                       bool inclusive, cmx_stream s);

/* ---- Random ------------------------------------------------------------ */
/* Counter-based (Threefry-2x32-20): element i depends only on the key and
 * i, so results are identical for any thread count and instruction set.
 * A key is a (2,) uint32 array: {seed >> 32, seed & 0xffffffff}. */
CMX_API int cmx_random_key(cmx_array *out, uint64_t seed);
/* num new keys, shape (num, 2): the first 2 * num random words of key. */
CMX_API int cmx_random_split(cmx_array *out, cmx_array key, int num,
                             cmx_stream s);
/* Uniform in [low, high) (clamped below high after rounding to dtype);
 * dtype f16, bf16, f32 (24 random bits, low + (high - low) u in float
 * with one rounding) or f64 (53 bits, in double). */
CMX_API int cmx_random_uniform(cmx_array *out, double low, double high,
                               const int64_t *shape, int ndim,
                               cmx_dtype dtype, cmx_array key, cmx_stream s);
/* Normal(loc, scale^2) by Box-Muller: elements 2j and 2j+1 share one
 * Threefry block (r cos t and r sin t); f32 and narrower computed in float
 * with cmx's vectorised log / cos / sin (within 1e-5 (1 + |y|) of the
 * same transform in double), f64 in double. */
CMX_API int cmx_random_normal(cmx_array *out, const int64_t *shape,
                              int ndim, cmx_dtype dtype, double loc,
                              double scale, cmx_array key, cmx_stream s);

/* Linear algebra: matmul as NumPy (1-D operands, broadcast batch dims).
 * The result dtype is the operands' promoted dtype, except int8 x int8,
 * which gives int32 (packed int8 kernels, AVX512-VNNI where the CPU has
 * it): exact for inner dimensions up to 131071 (|a b| <= 2^14 per term),
 * beyond that wrapping modulo 2^32 like other int32 arithmetic. Other
 * integer results wrap modulo 2^bits too. */
CMX_API int cmx_matmul(cmx_array *out, cmx_array a, cmx_array b,
                       cmx_stream s);
/* alpha * (a @ b) + beta * c, with a @ b as cmx_matmul and c broadcast to
 * its shape; the result dtype is the float type of a, b and c promoted.
 * beta == 0 ignores c entirely (NaN or inf in c do not propagate). */
CMX_API int cmx_addmm(cmx_array *out, cmx_array c, cmx_array a, cmx_array b,
                      float alpha, float beta, cmx_stream s);
/* Which library computes float32 matmul and addmm: "cmx" (the default, the
 * packed microkernels) or "blis" (BLIS's bli_sgemm with the stream's team
 * size; for comparisons). The environment variable CMX_GEMM=blis sets it at
 * start-up. Block sizes come from the cache sizes unless a tuning file of
 * "key = value" lines (tile = MRxNR, mc, kc, nc, split = auto|ic|jc, small)
 * is found or CMX_GEMM_MC / _KC / _NC / _SPLIT / _SMALL are set. The file:
 * CMX_TUNING=<path> (empty: none), else <cpu-slug>.conf in $CMX_TUNING_DIR
 * (when set, the only place looked at), else in <dir of the loaded
 * libcmx>/../share/cmx/tuning (make install puts the committed files
 * there), else in <dir of the loaded libcmx>/../perf/tuning (a build
 * folder's library, loaded from anywhere), else in <dir of the
 * executable>/../perf/tuning, where cpu-slug
 * is the /proc/cpuinfo model name in lower case, "(r)"/"(tm)" dropped,
 * other runs of characters '-' (perf/tune-gemm writes it). CMX_EINVAL for
 * an unknown name. */
CMX_API int cmx_set_gemm_backend(const char *name);
/* The path of the tuning file those rules find now (process scope; read
 * at each call), "" when there is none, into buf of size bytes.
 * CMX_EINVAL for a NULL buf, size 0, or a path longer than size - 1 (buf
 * then holds ""). */
CMX_API int cmx_tuning_file(char *buf, size_t size);

/* ---- Quantised (MLX's affine group-wise format) ----------------------- */
/* Groups of group_size (32, 64 or 128) consecutive elements along the last
 * axis share a scale and a bias: w ~ scale * q + bias with q an unsigned
 * code of bits (2, 4 or 8) bits. Codes are packed into uint32 words, the
 * first element in the lowest bits (element j of a word at bits
 * [bits * j, bits * j + bits)). Anything else for bits or group_size is
 * CMX_EINVAL. */

/* Quantises w (float32, float16 or bfloat16; ndim >= 2; last dim K a
 * multiple of group_size) as MLX's mx.quantize: per group, scale = max((max
 * - min) / (2^bits - 1), 1e-7), signed and refined so that the group's edge
 * value of larger magnitude is exact, bias = that edge; codes round((w -
 * bias) / scale) clamped to [0, 2^bits - 1], in float32. Three results:
 * *wq uint32 (..., K * bits / 32), *scales and *biases in w's dtype (...,
 * K / group_size). On failure all three are NULL. */
CMX_API int cmx_quantize(cmx_array *wq, cmx_array *scales, cmx_array *biases,
                         cmx_array w, int group_size, int bits,
                         cmx_stream s);
/* scale * q + bias for every element: wq uint32 (..., K * bits / 32),
 * scales and biases (float32, float16 or bfloat16, one dtype) of shape
 * (..., K / group_size). The result has the scales' dtype and shape
 * (..., K). */
CMX_API int cmx_dequantize(cmx_array *out, cmx_array wq, cmx_array scales,
                           cmx_array biases, int group_size, int bits,
                           cmx_stream s);
/* x @ dequantize(w).T (transpose: w is (..., N, K), packed along K, the
 * usual layout of a linear layer's weight) or x @ dequantize(w) (w is
 * (..., K, N), packed along N), without materialising the dequantised
 * matrix: x is (..., M, K) or (K) (float32, float16 or bfloat16), batch
 * dimensions of x and w broadcast as in cmx_matmul, and the result has x's
 * dtype, shape (batch..., M, N) (or (batch..., N) for 1-D x), accumulated
 * in float32. Few rows of x (decode) stream the packed weights once. */
CMX_API int cmx_quantized_matmul(cmx_array *out, cmx_array x, cmx_array wq,
                                 cmx_array scales, cmx_array biases,
                                 bool transpose, int group_size, int bits,
                                 cmx_stream s);

/* ---- Neural-network ops (fused; semantics as MLX) --------------------- */
/* softplus(x) = log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|))
 * so it never overflows. Integer inputs give float32. */
CMX_API int cmx_softplus(cmx_array *out, cmx_array a, cmx_stream s);
/* silu(a) * b = a * sigmoid(a) * b in one pass (the SwiGLU gate of
 * Llama-style MLPs); a and b broadcast as in cmx_multiply; the result is
 * the float type of their promoted dtype. */
CMX_API int cmx_silu_mul(cmx_array *out, cmx_array a, cmx_array b,
                         cmx_stream s);
/* softmax along axis (negative counts from the end): exp(x - max) /
 * sum(exp(x - max)). log_softmax: x - max - log(sum(exp(x - max))).
 * f16/bf16 compute in float32 and return their own dtype; integers and
 * bool give float32. A row holding NaN or +inf gives NaN; -inf entries
 * give 0 (log_softmax: -inf). CMX_EINVAL for an axis out of range. */
CMX_API int cmx_softmax(cmx_array *out, cmx_array a, int axis, cmx_stream s);
CMX_API int cmx_log_softmax(cmx_array *out, cmx_array a, int axis,
                            cmx_stream s);
/* Over the last axis of x (size D): layer_norm gives
 * (x - mean) / sqrt(var + eps) * weight + bias (var the population
 * variance), rms_norm gives x / sqrt(mean(x^2) + eps) * weight. weight and
 * bias may be NULL (1 and 0); otherwise their last dimension is D and any
 * others are 1 (CMX_ESHAPE else). Statistics accumulate in float32 (float64
 * for float64 x); the result has x's float type (float32 for integers). */
CMX_API int cmx_layer_norm(cmx_array *out, cmx_array x, cmx_array weight,
                           cmx_array bias, float eps, cmx_stream s);
CMX_API int cmx_rms_norm(cmx_array *out, cmx_array x, cmx_array weight,
                         float eps, cmx_stream s);
/* Rotary position embedding as MLX fast.rope. x has shape (..., L, D) with
 * at least 2 dimensions; the first dims features (even, 0 < dims <= D) of
 * each row are rotated, the rest copied. Row l of the L axis is at position
 * p = offset + l; pair i (i < dims/2) turns by the angle
 * scale * p * base^(-2i/dims). traditional: the pairs are adjacent features
 * (2i, 2i+1); else they are (i, i + dims/2). The sin/cos table is computed
 * once per (dims, base, scale, traditional, positions) and kept in a small
 * process-wide cache. CMX_EINVAL for a bad dims or ndim. */
CMX_API int cmx_rope(cmx_array *out, cmx_array x, int dims, bool traditional,
                     float base, float scale, int offset, cmx_stream s);
/* cmx_rope with a position offset per batch: offsets is an integer array
 * of shape () or (1,) (one offset for all) or (B,) with B = x's first
 * dimension (row l of batch b is at position offsets[b] + l). Its values
 * are read when the result is evaluated. CMX_ESHAPE for another shape,
 * CMX_EDTYPE for a float offsets array. */
CMX_API int cmx_rope_offsets(cmx_array *out, cmx_array x, int dims,
                             bool traditional, float base, float scale,
                             cmx_array offsets, cmx_stream s);
/* Attention as MLX fast.scaled_dot_product_attention:
 * softmax(q k^T * scale + mask) v over the last axis of the scores. q has
 * shape (B, Hq, Lq, D), k (B, Hkv, Lk, D), v (B, Hkv, Lk, Dv) with Hq a
 * multiple of Hkv (grouped-query attention: q head h reads KV head
 * h / (Hq / Hkv)); the result is (B, Hq, Lq, Dv) in the promoted float
 * dtype of q, k, v (computed in float32 whatever the dtype). mask_mode:
 * "" or NULL (no mask, mask must be NULL); "causal" (mask NULL; query i
 * sees keys j <= i + Lk - Lq, the mask aligned to the end as MLX does; a
 * query that sees no key, i < Lq - Lk, gets the mean of v, as under
 * MLX's mask); "array" (mask broadcastable to (B, Hq, Lq, Lk): a bool mask keeps
 * the scores where true and sets the rest to -FLT_MAX, any other dtype is
 * added to the scores). A row whose scores are all -inf gives NaN.
 * Flash-style tiling (the score matrix is never materialised); Lq == 1
 * splits the keys into fixed chunks across the team. Results do not depend
 * on the thread count. CMX_ESHAPE for mismatched shapes, CMX_EINVAL for a
 * bad mask_mode or a mask that does not go with it, CMX_EDTYPE for
 * non-float inputs. */
CMX_API int cmx_scaled_dot_product_attention(cmx_array *out, cmx_array q,
                                             cmx_array k, cmx_array v,
                                             float scale,
                                             const char *mask_mode,
                                             cmx_array mask, cmx_stream s);
/* Convolution as MLX conv1d / conv2d, channels last: x (N, L, C_in) or
 * (N, H, W, C_in), w (C_out, K, C_in / groups) or (C_out, KH, KW,
 * C_in / groups); the result is (N, L_out, C_out) or (N, H_out, W_out,
 * C_out) with H_out = (H + 2 padding - dilation (KH - 1) - 1) / stride + 1
 * (zero padding on both sides), in the float type of the promoted dtype of
 * x and w (computed in float32). Output channel o reads the input channels
 * of group o / (C_out / groups); groups == C_in is depthwise. conv2d's
 * stride, padding and dilation are (H, W) pairs; NULL means 1, 0 and 1.
 * CMX_ESHAPE when ndims or channels do not match or the kernel does not fit
 * the padded input; CMX_EINVAL for stride or dilation < 1, padding < 0 or
 * groups < 1. */
CMX_API int cmx_conv1d(cmx_array *out, cmx_array x, cmx_array w, int stride,
                       int padding, int dilation, int groups, cmx_stream s);
CMX_API int cmx_conv2d(cmx_array *out, cmx_array x, cmx_array w,
                       const int stride[2], const int padding[2],
                       const int dilation[2], int groups, cmx_stream s);

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
/* The instruction set in use: "avx512bf16", "avx512", "avx2", "neon",
 * "generic". avx512bf16 is avx512 plus AVX512_BF16: bf16 rounding by
 * vcvtne2ps2bf16 and a vdpbf16ps GEMM for bf16 x bf16; every level below
 * it converts bf16 to f32 while packing. It is the default wherever CPUID
 * has AVX512_BF16, but by default its bf16 GEMM takes vdpbf16ps only where
 * that beats converting (AMX tiles, or a start-up probe). */
CMX_API const char *cmx_isa(void);
/* Switches the kernel level for the whole process ("generic", "avx2",
 * "avx512", "avx512bf16", "neon"; "default": the one cmx picks for this
 * CPU with CMX_ISA unset); CMX_EUNSUPPORTED if this CPU lacks it. A level
 * named here or by CMX_ISA uses all of its kernels (avx512bf16: vdpbf16ps
 * for bf16 x bf16 even where it is slower). Call while no eval is running.
 * CMX_ISA sets it at start-up. */
CMX_API int cmx_set_isa(const char *isa);
CMX_API const char *cmx_version(void);

/* ---- Compile ---------------------------------------------------------- */
/* A function to compile: builds its outputs from in[0, n_in) with cmx ops
 * (lazily: it must not evaluate anything that depends on its inputs),
 * writes up to cap new references to out and their count to *n_out, and
 * returns CMX_OK or a status with the thread's last error set (and then
 * leaves no outputs). */
typedef int (*cmx_fn)(void *ctx, const cmx_array *in, size_t n_in,
                      cmx_array *out, size_t cap, size_t *n_out);
typedef struct cmx_compiled_s *cmx_compiled;
/* Flags of cmx_compile. SHAPELESS: accepted for mlx-c compatibility; cmx
 * traces once per input signature either way (see cmx_compiled_call), so
 * a function that is shape-polymorphic gives the same results. NO_FUSE:
 * keep elementwise chains as separate nodes (for comparisons). */
#define CMX_COMPILE_SHAPELESS 1
#define CMX_COMPILE_NO_FUSE 2
/* Wraps fn (and ctx, borrowed: it must outlive the compiled function).
 * Nothing is traced until the first call. */
CMX_API int cmx_compile(cmx_compiled *out, cmx_fn fn, void *ctx, int flags);
/* Calls the compiled function. The first call with a new input signature
 * (the dtype, shape and strides of every input) traces fn on placeholder
 * inputs and keeps the graph it built, optimised: arrays that do not
 * depend on the inputs are evaluated once and shared, repeated
 * subexpressions are computed once, and chains of elementwise ops of
 * f32, f16 or bf16 (up to 16 ops of one shape with at most 4 operands
 * from outside the chain) run as one pass over memory. Every call, the
 * first included, replays that graph on in without calling fn: the
 * outputs are lazy arrays, bitwise equal to what fn would build. An
 * error fn returns while traced comes back here with its status and
 * message. out gets *n_out new references (the caller frees them); on
 * failure every out[k < cap] is NULL and *n_out 0. Safe to call from
 * several threads at once. The 64 most recently used signatures are
 * kept; an older one is traced again when it comes back. */
CMX_API int cmx_compiled_call(cmx_compiled c, const cmx_array *in,
                              size_t n_in, cmx_array *out, size_t cap,
                              size_t *n_out);
/* Frees c and its traced graphs (arrays already returned live on). NULL is
 * a no-op; a handle already freed sets CMX_ESTATE as the last error. */
CMX_API void cmx_compiled_free(cmx_compiled c);

/* ---- Memory (process scope) ------------------------------------------- */
CMX_API size_t cmx_get_active_memory(void); /* bytes held by live arrays */
CMX_API size_t cmx_get_peak_memory(void);
CMX_API void cmx_reset_peak_memory(void);
CMX_API size_t cmx_get_cache_memory(void);  /* freed, kept for reuse */
/* Limit on active memory; 0 or SIZE_MAX: none. Returns the previous one. */
CMX_API size_t cmx_set_memory_limit(size_t bytes);
CMX_API size_t cmx_set_cache_limit(size_t bytes);
CMX_API void cmx_clear_cache(void);

/* ---- IO: safetensors (HuggingFace format) ----------------------------- */
/* Loads every tensor of the safetensors file at path. On success *n is the
 * number of tensors and *arrays and *names are lists of *n entries in the
 * order of the tensors' data in the file (ascending data_offsets, which is
 * the order cmx_save_safetensors wrote them in); the caller owns all of it:
 * cmx_array_free each array, free() each name (NUL-terminated UTF-8) and
 * free() the two lists. A file without tensors gives *n == 0 and NULL
 * lists. The arrays are evaluated and own a copy of the data, counted
 * against the memory limit (CMX_ENOMEM beyond it). The dtypes BOOL U8 I8
 * I16 I32 I64 U32 F16 BF16 F32 F64 load as the cmx dtype of the same name
 * (a nonzero BOOL byte loads as 1); "__metadata__" is accepted and
 * ignored; bytes of the data area no tensor covers are allowed (as MLX).
 * Errors: CMX_EINVAL for a NULL argument; CMX_EDTYPE for a safetensors
 * dtype cmx lacks (U16, U64, C64, the 8-bit and smaller floats), naming the
 * tensor; CMX_EUNSUPPORTED for more than CMX_MAX_DIMS dimensions; CMX_EIO
 * when the file cannot be opened or read, is shorter than 8 bytes, its
 * header length is over 100 MB or past the end of the file, the header is
 * not strict JSON (UTF-8, integers without sign, fraction or leading zero
 * in shapes and offsets), a tensor lacks or repeats a field or has an
 * unknown one, a name repeats, or data_offsets [begin, end] have begin >
 * end, disagree with the shape and dtype, or reach past the data. The
 * message names the function, path and the tensor, header byte or value
 * at fault. On failure *arrays and *names are NULL, *n is 0 and nothing
 * leaks. */
CMX_API int cmx_load_safetensors(const char *path, cmx_array **arrays,
                                 char ***names, size_t *n);
/* Evaluates arrays[0..n) and writes them to path as safetensors: header
 * keys names[i] in the given order, each array's elements row-major (a
 * view is written as the elements it shows: a broadcast is materialised)
 * in that order, the header padded with spaces so the data starts 8-byte
 * aligned, no "__metadata__". The file is written as
 * "<path>.tmp-<pid>-<k>" and renamed over path, so path is either
 * untouched or replaced whole; the temporary is removed on failure. n == 0
 * writes a file whose header is {} (arrays and names may then be NULL).
 * Errors: CMX_EINVAL for a NULL path, list, array or name, a name given
 * twice, a name that is not UTF-8 or is "__metadata__"; CMX_ESTATE for a
 * freed array; the status of a failed evaluation, with its message;
 * CMX_ENOMEM when a view's row-major copy crosses the memory limit; CMX_EIO
 * with the system's reason when the file cannot be written, flushed or
 * renamed. Nothing of the caller's changes. */
CMX_API int cmx_save_safetensors(const char *path, const cmx_array *arrays,
                                 const char *const *names, size_t n);

#ifdef __cplusplus
}
#endif
#endif
