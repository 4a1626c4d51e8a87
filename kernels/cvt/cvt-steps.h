/* The loop of a conversion kernel that works W elements at a time (W a
 * constant): STEP(src, dst) converts W elements of type TX at src into W
 * of type TY at dst; the tail goes through a zero-padded buffer, so STEP
 * never reads or writes past n. For the ISA files without masked loads
 * and stores (AVX2, NEON). */
#ifndef CMX_CVT_STEPS_H
#define CMX_CVT_STEPS_H
#include <stddef.h>
#include <string.h>

#define CMX_CVT_STEPS(name, TX, TY, W, STEP)             \
  void name(size_t n, const void *x, void *y) {          \
    const TX *s_ = x;                                    \
    TY *d_ = y;                                          \
    size_t i = 0;                                        \
    for (; i + (W) <= n; i += (W)) STEP(s_ + i, d_ + i); \
    if (i < n) {                                         \
      TX buf[W] = {0};                                   \
      TY out[W];                                         \
      memcpy(buf, s_ + i, (n - i) * sizeof *s_);         \
      STEP(buf, out);                                    \
      memcpy(d_ + i, out, (n - i) * sizeof *d_);         \
    }                                                    \
  }

#endif
