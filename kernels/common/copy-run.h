/* A copy of w bytes for drivers that copy many short runs: the usual
 * widths as memcpy of a constant size, which the compiler inlines (a
 * libc call a run cost more than the run at 12 or 16 bytes). */
#ifndef CMX_COPY_RUN_H
#define CMX_COPY_RUN_H
#include <stddef.h>
#include <string.h>

static inline void cmx_copy_run(char *d, const char *s, size_t w) {
  switch (w) {
    case 4: memcpy(d, s, 4); break;
    case 8: memcpy(d, s, 8); break;
    case 12: memcpy(d, s, 12); break;
    case 16: memcpy(d, s, 16); break;
    case 24: memcpy(d, s, 24); break;
    case 32: memcpy(d, s, 32); break;
    case 48: memcpy(d, s, 48); break;
    case 64: memcpy(d, s, 64); break;
    case 128: memcpy(d, s, 128); break;
    case 256: memcpy(d, s, 256); break;
    default: memcpy(d, s, w); break;
  }
}

#endif
