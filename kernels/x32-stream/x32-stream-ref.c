/* Portable streaming copy: plain memcpy (C has no non-temporal store). */
#include <string.h>

#include "x32-stream.h"

void cmx_x32_stream_ukr__ref(size_t n, const void *x, void *y) {
  memcpy(y, x, n * 4);
}
