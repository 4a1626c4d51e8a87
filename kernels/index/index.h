/* Indexing, layout and scan drivers: take (gather along one axis),
 * take_along_axis, strided block copies (concatenate, stack, pad), tril /
 * triu masks and cumsum. Arrays are contiguous row-major unless strides are
 * given (elements). These are memory-bound moves whose inner loops are
 * memcpy / compiler-vectorised adds, so the family has no ISA-specific
 * microkernels. Parallel over independent rows via sched/. */
#ifndef CMX_INDEX_H
#define CMX_INDEX_H
#include <stddef.h>
#include <stdint.h>

#include "../../api/include/cmx.h"
#include "../cvt/cvt.h"
#include "../x32-stream/x32-stream.h"

/* idx[i] as int64 from an integer dtype (any strides: element i at
 * base + i * stride). */
int64_t cmx_index_load(const void *base, cmx_dtype d, int64_t i);

/* out[o, j, :] = a[o, idx[j], :] for o < outer, j < nidx; rows of rowbytes
 * bytes; a has n rows per outer. idx already checked and wrapped. */
void cmx_index_take(char *out, const char *a, const int64_t *idx,
                    int64_t outer, int64_t n, int64_t nidx, size_t rowbytes,
                    int nthreads);

/* dst (strides dst_st) = src (strides src_st) over shape; same dtype of
 * esz bytes; runs of unit stride on both sides go through memcpy, or,
 * with stream non-NULL, through that streaming copy where their bytes and
 * both ends allow 32-bit words (outputs larger than the last-level cache
 * share, written once; each thread fences after its part). */
void cmx_index_copy(char *dst, const int64_t *dst_st, const char *src,
                    const int64_t *src_st, const int64_t *shape, int ndim,
                    size_t esz, cmx_x32_stream_ukr_fn stream, int nthreads);

/* out[k] = a[sum_d i_d * a_st[d]] where i is the multi-index of k in shape,
 * except along axis, where i_axis is the index at sum_d i_d * i_st[d] in
 * ib (dtype idt), wrapped once if negative; an index outside [0, n) reads
 * element 0 instead. Elements of esz bytes (1, 2, 4 or 8). Returns -1, or
 * the lowest k whose index was outside [0, n). */
int64_t cmx_index_gather_along(char *out, const char *a, const int64_t *a_st,
                               const int64_t *shape, int ndim, int axis,
                               const char *ib, cmx_dtype idt,
                               const int64_t *i_st, int64_t n, size_t esz,
                               int nthreads);

/* Keeps a[..., i, j] where (j - i <= k) (lower) or (j - i >= k) (upper),
 * zero elsewhere; rows x cols matrices, batch of them. */
void cmx_index_tri(char *out, const char *a, int64_t batch, int64_t rows,
                   int64_t cols, int64_t k, int upper, size_t esz,
                   int nthreads);

/* Cumulative sum along the middle axis of (outer, n, inner), input dtype
 * in -> output dtype out: f16/bf16/f32 accumulate in f32, f64 in f64,
 * integers and bool in int64 (stored wrapped). reverse: from the end;
 * exclusive: out[k] is the sum before element k. */
void cmx_index_cumsum(void *out, cmx_dtype od, const void *in, cmx_dtype id,
                      int64_t outer, int64_t n, int64_t inner, int reverse,
                      int exclusive, const cmx_cvt_ukr_fn *cvt, int nthreads);

#endif
