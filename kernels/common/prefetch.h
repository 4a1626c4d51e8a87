/* Software prefetch of a byte range, for drivers that walk rows the
 * hardware prefetcher does not follow. */
#ifndef CMX_PREFETCH_H
#define CMX_PREFETCH_H
#include <stddef.h>

/* Asks for [p, p + bytes) to come into the caches (a hint: no fault, no
 * effect on results), one prefetch a 64-byte line. The empty asm keeps the
 * loop: GCC 12 -O2 deletes a loop of nothing but prefetches as dead code
 * (SDPA decode ran without its prefetches until objdump showed none).
 * LOC is __builtin_prefetch's locality, a literal. */
#define CMX_PREFETCH_LOOP_(p, bytes, LOC)                                     \
  do {                                                                        \
    const char *c_ = (const char *)(p);                                       \
    for (size_t b_ = 0; b_ < (bytes); b_ += 64) {                             \
      __builtin_prefetch(c_ + b_, 0, LOC);                                    \
      __asm__ __volatile__("" : : "r"(c_ + b_));                              \
    }                                                                         \
  } while (0)

/* Into every level (prefetcht0 on x86). */
static inline void cmx_prefetch_span(const void *p, size_t bytes) {
  CMX_PREFETCH_LOOP_(p, bytes, 3);
}

/* Into L2 and below, not L1 (prefetcht2 on x86): for runs read a while
 * later (the transposing copy's staging: 8% faster than prefetcht0;
 * SDPA decode, which reads its rows soon after, lost 6% with it). */
static inline void cmx_prefetch_span_l2(const void *p, size_t bytes) {
  CMX_PREFETCH_LOOP_(p, bytes, 1);
}

#endif
