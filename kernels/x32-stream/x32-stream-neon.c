/* NEON streaming copy: STNP pairs (non-temporal hint) for the body. */
#include <arm_neon.h>
#include <string.h>

#include "x32-stream.h"

void cmx_x32_stream_ukr__neon(size_t n, const void *x, void *y) {
  const float *s = x;
  float *d = y;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    float32x4_t a = vld1q_f32(s + i), b = vld1q_f32(s + i + 4);
    __asm__ __volatile__("stnp %q0, %q1, [%2]" : : "w"(a), "w"(b), "r"(d + i)
                         : "memory");
  }
  memcpy(d + i, s + i, (n - i) * 4);
}
