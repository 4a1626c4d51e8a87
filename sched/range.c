/* The one range splitter: every driver divides work with cmx_range so the
 * arithmetic lives in one place. Boundaries are multiples of align so that
 * threads never share a cache line of output. */
#include "sched.h"

void cmx_range(int tid, int nthreads, size_t n, size_t align, size_t *begin,
               size_t *end) {
  if (align == 0) align = 1;
  if (nthreads <= 1) {
    *begin = tid == 0 ? 0 : n;
    *end = n;
    return;
  }
  size_t units = (n + align - 1) / align;
  size_t per = units / (size_t)nthreads, rem = units % (size_t)nthreads;
  size_t t = (size_t)tid;
  size_t b = t * per + (t < rem ? t : rem);
  size_t e = b + per + (t < rem ? 1 : 0);
  b *= align;
  e *= align;
  *begin = b < n ? b : n;
  *end = e < n ? e : n;
}
