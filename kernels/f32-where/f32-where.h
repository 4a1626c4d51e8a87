/* f32 select microkernels.
 * Contract: y[i] = c[i * sc] ? a[i * sa] : b[i * sb] for 0 <= i < n, where
 * each stride is 0 (broadcast scalar) or 1 (contiguous), c holds bytes
 * (non-zero = true), n in elements. Tails handled inside the kernel. */
#ifndef CMX_F32_WHERE_H
#define CMX_F32_WHERE_H
#include <stddef.h>
#include <stdint.h>

typedef void (*cmx_f32_where_ukr_fn)(size_t n, const uint8_t *c, size_t sc,
                                     const float *a, size_t sa,
                                     const float *b, size_t sb, float *y);

#define CMX_UKR(isa, name)                                                   \
  void name(size_t n, const uint8_t *c, size_t sc, const float *a, size_t sa, \
            const float *b, size_t sb, float *y);
#include "f32-where.inc"
#undef CMX_UKR

#endif
