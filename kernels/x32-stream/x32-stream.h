/* Streaming copy microkernels: y[i] = x[i] for n 32-bit elements (n in
 * elements), written with non-temporal stores where y is aligned to the
 * vector, so a large output written once costs no read-for-ownership and
 * does not evict the working set. Unaligned head and tail use ordinary
 * stores. Ends with a store fence: the data is visible to other threads
 * when the kernel returns. x must not overlap y. */
#ifndef CMX_X32_STREAM_H
#define CMX_X32_STREAM_H
#include <stddef.h>

typedef void (*cmx_x32_stream_ukr_fn)(size_t n, const void *x, void *y);

#define CMX_UKR(isa, name) void name(size_t n, const void *x, void *y);
#include "x32-stream.inc"
#undef CMX_UKR

#endif
