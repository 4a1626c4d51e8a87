/* Portable reference conversions between f32 and f16 / bf16, bit-exact
 * with the hardware ones (F16C, AVX-512, NEON FCVT) for every input: round
 * to nearest even, NaN kept and quietened with its top payload bits, f16
 * subnormals rounded exactly, f16 overflow to infinity. Contract in cvt.h. */
#include <string.h>

#include "kernels/cvt/cvt.h"

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static float f32_from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* f16 -> f32 is exact; a signalling NaN comes back quiet, as vcvtph2ps and
 * FCVT give it. */
static float f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0x1f)
    return f32_from_bits(sign | 0x7f800000 | (mant ? 0x400000 : 0) |
                         (mant << 13));
  if (exp != 0) return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
  /* Zero or subnormal: mant * 2^-24 is exact in f32. */
  const float v = (float)mant * 0x1p-24f;
  return f32_from_bits(sign | f32_bits(v));
}

static uint16_t f32_to_f16(float f) {
  uint32_t u = f32_bits(f);
  const uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
  u &= 0x7fffffff;
  if (u > 0x7f800000) /* NaN: quiet bit set, top 9 payload bits kept. */
    return sign | 0x7e00 | (uint16_t)((u >> 13) & 0x3ff);
  if (u >= 0x477ff000) /* >= 65520, half-way above 65504: infinity. */
    return sign | 0x7c00;
  if (u >= 0x38800000) { /* Normal f16: rebias, round the 13 dropped bits. */
    const uint32_t r = u - 0x38000000;
    return sign | (uint16_t)((r + 0xfff + ((r >> 13) & 1)) >> 13);
  }
  /* Subnormal f16 in units of 2^-24: mant * 2^(e - 126), e the biased
   * exponent; below 2^-25 everything rounds to zero. */
  const uint32_t e = u >> 23;
  if (e < 102) return sign;
  const uint32_t m = (u & 0x7fffff) | 0x800000, s = 126 - e;
  uint32_t q = m >> s;
  const uint32_t rem = m & ((1u << s) - 1), half = 1u << (s - 1);
  if (rem > half || (rem == half && (q & 1))) q++;
  return sign | (uint16_t)q;
}

/* bf16: the top half of the f32, rounded to nearest even; a NaN is
 * truncated and gets the quiet bit so no payload truncates to infinity. */
static uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 0x40);
  return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

void cmx_f16_f32_cvt_ukr__ref(size_t n, const void *x, void *y) {
  const uint16_t *h = x;
  float *f = y;
  for (size_t i = 0; i < n; i++) f[i] = f16_to_f32(h[i]);
}

void cmx_f32_f16_cvt_ukr__ref(size_t n, const void *x, void *y) {
  const float *f = x;
  uint16_t *h = y;
  for (size_t i = 0; i < n; i++) h[i] = f32_to_f16(f[i]);
}

void cmx_bf16_f32_cvt_ukr__ref(size_t n, const void *x, void *y) {
  const uint16_t *h = x;
  float *f = y;
  for (size_t i = 0; i < n; i++) f[i] = f32_from_bits((uint32_t)h[i] << 16);
}

void cmx_f32_bf16_cvt_ukr__ref(size_t n, const void *x, void *y) {
  const float *f = x;
  uint16_t *h = y;
  for (size_t i = 0; i < n; i++) h[i] = f32_to_bf16(f[i]);
}

void cmx_f32_i32_cvt_ukr__ref(size_t n, const void *x, void *y) {
  const float *f = x;
  int32_t *q = y;
  for (size_t i = 0; i < n; i++) {
    const float v = f[i];
    q[i] = v != v                ? 0
           : v >= 2147483648.0f  ? INT32_MAX
           : v < -2147483648.0f  ? INT32_MIN
                                 : (int32_t)v;
  }
}

/* f32 -> the integer type T of range [LO, HI]: NaN 0, saturated at the
 * bounds (compared in f32: 2^32 - 1 rounds up to 2^32, so x >= 2^32 gives
 * HI), truncated between them. */
#define F32_SAT(name, T, LO, HI)                                             \
  void name(size_t n, const void *x, void *y) {                              \
    const float *f = x;                                                      \
    T *q = y;                                                                \
    for (size_t i = 0; i < n; i++) {                                         \
      const float v = f[i];                                                  \
      q[i] = v != v ? 0 : v <= (float)(LO) ? (T)(LO)                         \
             : v >= (float)(HI)           ? (T)(HI)                          \
                                          : (T)v;                            \
    }                                                                        \
  }
F32_SAT(cmx_f32_i8_cvt_ukr__ref, int8_t, INT8_MIN, INT8_MAX)
F32_SAT(cmx_f32_u8_cvt_ukr__ref, uint8_t, 0, UINT8_MAX)
F32_SAT(cmx_f32_i16_cvt_ukr__ref, int16_t, INT16_MIN, INT16_MAX)
F32_SAT(cmx_f32_u32_cvt_ukr__ref, uint32_t, 0, UINT32_MAX)
#undef F32_SAT

void cmx_i8_f32_cvt_ukr__ref(size_t n, const void *x, void *y) {
  const int8_t *q = x;
  float *f = y;
  for (size_t i = 0; i < n; i++) f[i] = q[i];
}

void cmx_u8_f32_cvt_ukr__ref(size_t n, const void *x, void *y) {
  const uint8_t *q = x;
  float *f = y;
  for (size_t i = 0; i < n; i++) f[i] = q[i];
}

void cmx_f32_bool_cvt_ukr__ref(size_t n, const void *x, void *y) {
  const float *f = x;
  uint8_t *b = y;
  for (size_t i = 0; i < n; i++) b[i] = (f32_bits(f[i]) & 0x7fffffffu) != 0;
}

/* f64 -> int32: NaN 0, saturated at the bounds (both exact in f64),
 * truncated between them. */
void cmx_f64_i32_cvt_ukr__ref(size_t n, const void *x, void *y) {
  const double *d = x;
  int32_t *q = y;
  for (size_t i = 0; i < n; i++) {
    const double v = d[i];
    q[i] = v != v                 ? 0
           : v <= -2147483648.0   ? INT32_MIN
           : v >= 2147483647.0    ? INT32_MAX
                                  : (int32_t)v;
  }
}
