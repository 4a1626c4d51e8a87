/* Software prefetch of a byte range, for drivers that walk rows the
 * hardware prefetcher does not follow. */
#ifndef CMX_PREFETCH_H
#define CMX_PREFETCH_H
#include <stddef.h>

/* Asks for [p, p + bytes) to come into the caches (a hint: no fault, no
 * effect on results), one prefetch a 64-byte line. The empty asm keeps the
 * loop: GCC 12 -O2 deletes a loop of nothing but prefetches as dead code
 * (SDPA decode ran without its prefetches until objdump showed none). */
static inline void cmx_prefetch_span(const void *p, size_t bytes) {
  const char *c = (const char *)p;
  for (size_t b = 0; b < bytes; b += 64) {
    __builtin_prefetch(c + b, 0, 3);
    __asm__ __volatile__("" : : "r"(c + b));
  }
}

#endif
