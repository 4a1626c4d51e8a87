/* Streaming copy microkernels: y[i] = x[i] for n 32-bit elements (n in
 * elements), written with non-temporal stores where y is aligned to the
 * vector, so a large output written once costs no read-for-ownership and
 * does not evict the working set. Unaligned head and tail use ordinary
 * stores. No fence: the caller issues one store fence
 * (atomic_thread_fence(memory_order_seq_cst)) after its last call and
 * before the data is published to other threads. A fence per call (per
 * 4 KiB tile of the elementwise driver) waits for the write-combining
 * buffers to drain each time: on Zen 5, 1 thread, a 64 MiB negation went
 * from 60 to 38 GB/s with one sfence every 4 KiB. x must not overlap y. */
#ifndef CMX_X32_STREAM_H
#define CMX_X32_STREAM_H
#include <stddef.h>

typedef void (*cmx_x32_stream_ukr_fn)(size_t n, const void *x, void *y);

#define CMX_UKR(isa, name) void name(size_t n, const void *x, void *y);
#include "x32-stream.inc"
#undef CMX_UKR

#endif
