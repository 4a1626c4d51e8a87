/* Shared helpers for the op tests: a seeded random fill (never all zeros),
 * dtype <-> double conversion (f16/bf16 rounding written here, independent
 * of the library), a float64 model of strided views (shape, strides,
 * offset) to gather reference values, and ulp / tolerance checks. Every
 * expected value in the tests is computed from these and the input data. */
#ifndef CMX_TEST_UTIL_H
#define CMX_TEST_UTIL_H

#include <cmx.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TU_OK(call)                                                     \
  do {                                                                  \
    int tu_rc_ = (call);                                                \
    cr_assert_eq(tu_rc_, CMX_OK, "%s -> %d %s", #call, tu_rc_,          \
                 cmx_last_error());                                     \
  } while (0)

/* Asserts status st and that cmx_last_error() names fn. */
#define TU_FAILS(st, fn, call)                                          \
  do {                                                                  \
    int tu_rc_ = (call);                                                \
    cr_assert_eq(tu_rc_, (st), "%s -> %d (%s), want %d", #call, tu_rc_, \
                 cmx_status_string(tu_rc_), (int)(st));                 \
    cr_assert(strstr(cmx_last_error(), (fn)) != NULL,                   \
              "%s: message '%s' lacks '%s'", #call, cmx_last_error(),   \
              (fn));                                                    \
  } while (0)

/* ---- random ------------------------------------------------------------ */
static inline uint64_t tu_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static inline double tu_unif(uint64_t *s) {
  return (double)(tu_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- 16-bit floats, rounded to nearest even from double (exact) -------- */
static inline uint16_t tu_round16(double x, int mbits, int ebits) {
  int bias = (1 << (ebits - 1)) - 1, emax = (1 << ebits) - 1;
  uint16_t sign = signbit(x) ? (uint16_t)(1u << 15) : 0;
  double a = fabs(x);
  if (isnan(x))
    return (uint16_t)(sign | (emax << mbits) | (1 << (mbits - 1)));
  if (isinf(x)) return (uint16_t)(sign | (emax << mbits));
  int emin = 1 - bias;
  if (a < ldexp(1.0, emin)) /* subnormal: units of 2^(emin - mbits) */
    return (uint16_t)(sign | (uint16_t)rint(ldexp(a, mbits - emin)));
  int e;
  frexp(a, &e);
  int E = e - 1;
  double r = rint(ldexp(a, mbits - E));
  if (r == ldexp(1.0, mbits + 1)) { E++; r = ldexp(1.0, mbits); }
  if (E + bias >= emax) return (uint16_t)(sign | (emax << mbits));
  return (uint16_t)(sign | ((E + bias) << mbits) |
                    ((uint16_t)r - (1 << mbits)));
}
static inline double tu_decode16(uint16_t h, int mbits, int ebits) {
  int bias = (1 << (ebits - 1)) - 1, emax = (1 << ebits) - 1;
  int ex = (h >> mbits) & emax, m = h & ((1 << mbits) - 1);
  double s = (h >> 15) ? -1.0 : 1.0;
  if (ex == emax) return m ? NAN : s * INFINITY;
  if (ex == 0) return s * ldexp(m, 1 - bias - mbits);
  return s * ldexp(m + (1 << mbits), ex - bias - mbits);
}
static inline uint16_t tu_f16_bits(double x) { return tu_round16(x, 10, 5); }
static inline uint16_t tu_bf16_bits(double x) { return tu_round16(x, 7, 8); }
static inline double tu_f16_val(uint16_t h) { return tu_decode16(h, 10, 5); }
static inline double tu_bf16_val(uint16_t h) { return tu_decode16(h, 7, 8); }

static inline int tu_is_float(cmx_dtype t) {
  return t == CMX_F16 || t == CMX_BF16 || t == CMX_F32 || t == CMX_F64;
}
/* Relative rounding unit of a float dtype (half an ulp at 1). */
static inline double tu_eps(cmx_dtype t) {
  switch (t) {
  case CMX_F16: return ldexp(1.0, -11);
  case CMX_BF16: return ldexp(1.0, -8);
  case CMX_F32: return ldexp(1.0, -24);
  case CMX_F64: return ldexp(1.0, -53);
  default: return 0.0;
  }
}

/* Element i of a buffer of dtype t, as double. */
static inline double tu_load(const void *p, cmx_dtype t, int64_t i) {
  switch (t) {
  case CMX_BOOL: return ((const uint8_t *)p)[i] ? 1.0 : 0.0;
  case CMX_U8: return ((const uint8_t *)p)[i];
  case CMX_U32: return ((const uint32_t *)p)[i];
  case CMX_I8: return ((const int8_t *)p)[i];
  case CMX_I16: return ((const int16_t *)p)[i];
  case CMX_I32: return ((const int32_t *)p)[i];
  case CMX_I64: return (double)((const int64_t *)p)[i];
  case CMX_F16: return tu_f16_val(((const uint16_t *)p)[i]);
  case CMX_BF16: return tu_bf16_val(((const uint16_t *)p)[i]);
  case CMX_F32: return ((const float *)p)[i];
  case CMX_F64: return ((const double *)p)[i];
  }
  return NAN;
}
/* Stores v (already representable, or rounded to nearest even; an
 * integer out of a narrower type's range wraps, through int64_t: a double
 * converted straight to a type that cannot hold it is undefined). */
static inline void tu_store(void *p, cmx_dtype t, int64_t i, double v) {
  switch (t) {
  case CMX_BOOL: ((uint8_t *)p)[i] = v != 0.0; break;
  case CMX_U8: ((uint8_t *)p)[i] = (uint8_t)(int64_t)v; break;
  case CMX_U32: ((uint32_t *)p)[i] = (uint32_t)(int64_t)v; break;
  case CMX_I8: ((int8_t *)p)[i] = (int8_t)(int64_t)v; break;
  case CMX_I16: ((int16_t *)p)[i] = (int16_t)(int64_t)v; break;
  case CMX_I32: ((int32_t *)p)[i] = (int32_t)(int64_t)v; break;
  case CMX_I64: ((int64_t *)p)[i] = (int64_t)v; break;
  case CMX_F16: ((uint16_t *)p)[i] = tu_f16_bits(v); break;
  case CMX_BF16: ((uint16_t *)p)[i] = tu_bf16_bits(v); break;
  case CMX_F32: ((float *)p)[i] = (float)v; break;
  case CMX_F64: ((double *)p)[i] = v; break;
  }
}
/* v rounded to what dtype t holds. */
static inline double tu_quant(cmx_dtype t, double v) {
  uint64_t buf[1];
  tu_store(buf, t, 0, v);
  return tu_load(buf, t, 0);
}

/* n values uniform in [lo, hi), representable in t; integer types take
 * floor; bool is random 0/1. Never all zeros. */
static inline void tu_rand(double *v, int64_t n, cmx_dtype t, double lo,
                           double hi, uint64_t seed) {
  uint64_t s = seed * 7919u + 17u;
  int nz = 0;
  for (int64_t i = 0; i < n; i++) {
    double u = lo + (hi - lo) * tu_unif(&s);
    if (t == CMX_BOOL) u = (tu_next(&s) >> 63) ? 1.0 : 0.0;
    else if (!tu_is_float(t)) u = floor(u);
    v[i] = tu_quant(t, u);
    nz |= v[i] != 0.0;
  }
  if (!nz && n > 0) v[0] = tu_quant(t, t == CMX_BOOL ? 1.0 : (hi > 1 ? 1.0 : hi / 2));
}

/* An array of dtype t holding v (row-major). */
static inline int tu_array(cmx_array *out, const double *v, cmx_dtype t,
                           const int64_t *shape, int ndim) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  void *buf = malloc((size_t)(n ? n : 1) * 8);
  for (int64_t i = 0; i < n; i++) tu_store(buf, t, i, v[i]);
  int rc = cmx_array_from_data(out, buf, t, shape, ndim);
  free(buf);
  return rc;
}
/* Reads a (evaluating it) into out as doubles; asserts success. */
static inline void tu_read(cmx_array a, double *out) {
  size_t nb = cmx_array_nbytes(a);
  void *buf = malloc(nb ? nb : 1);
  TU_OK(cmx_array_read(a, buf, nb));
  for (int64_t i = 0; i < cmx_array_size(a); i++)
    out[i] = tu_load(buf, cmx_array_dtype(a), i);
  free(buf);
}
static inline void tu_assert_shape(cmx_array a, const int64_t *shape,
                                   int ndim) {
  cr_assert_eq(cmx_array_ndim(a), ndim, "ndim %d want %d", cmx_array_ndim(a),
               ndim);
  for (int i = 0; i < ndim; i++)
    cr_assert_eq(cmx_array_shape(a)[i], shape[i], "dim %d: %lld want %lld",
                 i, (long long)cmx_array_shape(a)[i], (long long)shape[i]);
}

/* ---- float64 model of a strided view ----------------------------------- */
typedef struct {
  int ndim;
  int64_t shape[CMX_MAX_DIMS], strides[CMX_MAX_DIMS], offset;
} tu_view;

static inline tu_view tu_view_contig(const int64_t *shape, int ndim) {
  tu_view v = {ndim, {0}, {0}, 0};
  int64_t st = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    v.shape[i] = shape[i];
    v.strides[i] = st;
    st *= shape[i];
  }
  return v;
}
static inline int64_t tu_view_size(const tu_view *v) {
  int64_t n = 1;
  for (int i = 0; i < v->ndim; i++) n *= v->shape[i];
  return n;
}
/* perm NULL: reversed axes. */
static inline tu_view tu_view_T(tu_view v, const int *perm) {
  tu_view r = v;
  for (int i = 0; i < v.ndim; i++) {
    int p = perm ? perm[i] : v.ndim - 1 - i;
    r.shape[i] = v.shape[p];
    r.strides[i] = v.strides[p];
  }
  return r;
}
/* Python slice normalisation (start/stop clamp, negatives from the end). */
static inline tu_view tu_view_slice(tu_view v, const int64_t *start,
                                    const int64_t *stop,
                                    const int64_t *step) {
  for (int i = 0; i < v.ndim; i++) {
    int64_t n = v.shape[i], st = step[i], b = start[i], e = stop[i];
    if (b < 0) b += n;
    if (e < 0) e += n;
    if (st > 0) {
      b = b < 0 ? 0 : (b > n ? n : b);
      e = e < 0 ? 0 : (e > n ? n : e);
    } else {
      b = b < 0 ? -1 : (b > n - 1 ? n - 1 : b);
      e = e < -1 ? -1 : (e > n - 1 ? n - 1 : e);
    }
    int64_t len = st > 0 ? (e > b ? (e - b + st - 1) / st : 0)
                         : (b > e ? (b - e + (-st) - 1) / (-st) : 0);
    v.offset += (len > 0 ? b : 0) * v.strides[i];
    v.shape[i] = len;
    v.strides[i] *= st;
  }
  return v;
}
/* Right-aligned broadcast of v to shape (stride 0 on new / size-1 dims). */
static inline tu_view tu_view_bcast(tu_view v, const int64_t *shape,
                                    int ndim) {
  tu_view r = {ndim, {0}, {0}, v.offset};
  for (int i = 0; i < ndim; i++) {
    int j = i - (ndim - v.ndim);
    r.shape[i] = shape[i];
    r.strides[i] = (j >= 0 && v.shape[j] == shape[i]) ? v.strides[j] : 0;
  }
  return r;
}
/* out[k] = base[element k of v in row-major order]. */
static inline void tu_view_gather(const tu_view *v, const double *base,
                                  double *out) {
  int64_t n = tu_view_size(v), idx[CMX_MAX_DIMS] = {0};
  for (int64_t k = 0; k < n; k++) {
    int64_t off = v->offset;
    for (int d = 0; d < v->ndim; d++) off += idx[d] * v->strides[d];
    out[k] = base[off];
    for (int d = v->ndim - 1; d >= 0; d--) {
      if (++idx[d] < v->shape[d]) break;
      idx[d] = 0;
    }
  }
}

/* ---- comparisons ------------------------------------------------------- */
static inline int64_t tu_ulp_f32(float a, float b) {
  int32_t ia, ib;
  memcpy(&ia, &a, 4);
  memcpy(&ib, &b, 4);
  int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
  int64_t lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
  return la > lb ? la - lb : lb - la;
}
/* |got - ref| <= atol + rtol * |ref|; NaN matches NaN, inf matches inf. */
static inline int tu_close(double got, double ref, double rtol, double atol) {
  if (isnan(ref) || isnan(got)) return isnan(ref) && isnan(got);
  if (isinf(ref) || isinf(got)) return got == ref;
  return fabs(got - ref) <= atol + rtol * fabs(ref);
}
static inline void tu_assert_close(const double *got, const double *ref,
                                   int64_t n, double rtol, double atol,
                                   const char *what) {
  for (int64_t i = 0; i < n; i++)
    cr_assert(tu_close(got[i], ref[i], rtol, atol),
              "%s: [%lld] got %.9g want %.9g (rtol %g atol %g)", what,
              (long long)i, got[i], ref[i], rtol, atol);
}

/* NumPy matmul on operands read back as doubles (2-D, 1-D, or batched with
 * broadcast batch dimensions): per output element the long double sum y,
 * the int64 sum of the products of the values as integers yi (NULL: not
 * wanted) and the sum of |products| scale (for tolerances). Returns the
 * number of output elements. */
static inline int64_t tu_ref_matmul(const double *A, const int64_t *as,
                                    int an, const double *B,
                                    const int64_t *bs, int bn, long double *y,
                                    int64_t *yi, double *scale) {
  int64_t m = an >= 2 ? as[an - 2] : 1, k = as[an - 1];
  int64_t n = bn >= 2 ? bs[bn - 1] : 1;
  int ab = an > 2 ? an - 2 : 0, bb = bn > 2 ? bn - 2 : 0;
  int nb = ab > bb ? ab : bb;
  int64_t bsh[CMX_MAX_DIMS], batch = 1, idx[CMX_MAX_DIMS] = {0};
  for (int d = 0; d < nb; d++) {
    int ia = d - (nb - ab), ib = d - (nb - bb);
    int64_t da = ia >= 0 ? as[ia] : 1, db = ib >= 0 ? bs[ib] : 1;
    bsh[d] = da == 1 ? db : da;
    batch *= bsh[d];
  }
  for (int64_t t = 0; t < batch; t++) {
    int64_t ta = 0, tb = 0;
    for (int d = 0; d < nb; d++) {
      int ia = d - (nb - ab), ib = d - (nb - bb);
      if (ia >= 0) ta = ta * as[ia] + (as[ia] == 1 ? 0 : idx[d]);
      if (ib >= 0) tb = tb * bs[ib] + (bs[ib] == 1 ? 0 : idx[d]);
    }
    const double *Ap = A + ta * m * k, *Bp = B + tb * k * n;
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        long double sum = 0;
        int64_t si = 0;
        double sc = 0;
        for (int64_t p = 0; p < k; p++) {
          double x = Ap[i * k + p], w = Bp[p * n + j];
          sum += (long double)x * w;
          if (yi) si += (int64_t)x * (int64_t)w;
          sc += fabs(x * w);
        }
        y[(t * m + i) * n + j] = sum;
        if (yi) yi[(t * m + i) * n + j] = si;
        scale[(t * m + i) * n + j] = sc;
      }
    for (int d = nb - 1; d >= 0; d--) {
      if (++idx[d] < bsh[d]) break;
      idx[d] = 0;
    }
  }
  return batch * m * n;
}

#endif
