/* f32 depthwise convolution microkernels: npix >= 1 output pixels, all
 * channels. Contract: y[p * c + i] = sum_{t < taps} x[t][p * xs + i] *
 * w[t * c + i] for 0 <= i < c, p < npix (elements), taps >= 1: x holds one
 * input pointer per kernel tap of pixel 0 (the driver points taps that
 * fall in the padding at zeros), pixel p's taps are xs elements further
 * on (the stride along the row times the channels); w is the tap-major
 * weight block (taps rows of c floats). The sum starts from the
 * t = 0 product and adds taps in increasing t (the ISA kernels fuse each
 * step into one FMA, the reference multiplies then adds), so a result
 * depends only on its inputs. Tails are handled inside the kernel; y is
 * write-only and never aliases x or w. */
#ifndef CMX_F32_DWCONV_H
#define CMX_F32_DWCONV_H
#include <stddef.h>

typedef void (*cmx_f32_dwconv_ukr_fn)(size_t c, size_t taps,
                                      const float *const *x, const float *w,
                                      float *y, size_t npix, size_t xs);

#define CMX_UKR(isa, name)                                              \
  void name(size_t c, size_t taps, const float *const *x, const float *w, \
            float *y, size_t npix, size_t xs);
#include "f32-dwconv.inc"
#undef CMX_UKR

#endif
