/* Transposing copies: the 32-bit in-register tile microkernels and the
 * blocked driver that cmx_copy_into uses when a source's innermost stride is
 * not 1 but another axis has stride 1 (contiguous of a transposed or
 * permuted view). Microkernel contract: for a full T x T tile (T = the
 * row's tile), dst[i * ld_dst + j] = src[j * ld_src + i], 0 <= i, j < T;
 * strides in elements; no edges (the driver copies partial tiles itself).
 * nt != 0 promises that dst and dst + ld_dst are 64-byte aligned, and lets
 * the kernel use streaming (non-temporal) stores. */
#ifndef CMX_X32_TRANSPOSE_H
#define CMX_X32_TRANSPOSE_H
#include <stddef.h>
#include <stdint.h>

#include "../x32-stream/x32-stream.h"

typedef void (*cmx_x32_transpose_ukr_fn)(const uint32_t *src, size_t ld_src,
                                         uint32_t *dst, size_t ld_dst,
                                         int nt);

/* The dispatch slot: the tile kernel and its tile edge T, and the level
 * below's kernel when its edge is T / 2 (else NULL), for the half tiles
 * inside partial tiles. */
struct cmx_transpose_config {
  cmx_x32_transpose_ukr_fn ukr;
  int tile;
  cmx_x32_transpose_ukr_fn half;
};

#define CMX_UKR(isa, name, tile)                                       \
  void name(const uint32_t *src, size_t ld_src, uint32_t *dst,         \
            size_t ld_dst, int nt);
#include "x32-transpose.inc"
#undef CMX_UKR

/* Copies the view (shape, strides in elements, element size esz bytes,
 * element 0 at src) into row-major dst when it is a transposing copy:
 * after dropping size-1 axes and merging runs, the innermost stride is not
 * 1 and some other axis has stride 1, or it is 1 and the runs it makes
 * (under 1 KiB) are permuted. Returns 1 when it copied, 0 when the view is
 * not of that kind (dst untouched). stream != NULL (the level's streaming
 * copy) allows streaming stores, for outputs far larger than the caches;
 * they are fenced before the return. Runs on up to nthreads threads. */
int cmx_transpose_copy(void *dst, const void *src, const int64_t *shape,
                       const int64_t *strides, int ndim, size_t esz,
                       const struct cmx_transpose_config *cfg,
                       cmx_x32_stream_ukr_fn stream, int nthreads);

#endif
