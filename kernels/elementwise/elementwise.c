/* The elementwise driver (contract in elementwise.h). Work is the flat
 * range of output elements, split across the team by cmx_range in
 * cache-line multiples; each thread walks its range in chunks of at most
 * TILE elements that never cross a row of the (collapsed) output, so each
 * chunk is one microkernel call on pointers or L1-resident tiles. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "../../arch/tuning.h"
#include "../../sched/sched.h"
#include "../common/copy-run.h"
#include "../common/prefetch.h"
#include "elementwise.h"

#define TILE 1024 /* elements: 4 f32 tiles = 16 KiB, half of L1d */
#define SERIAL_BELOW (1 << 16) /* elements: below this one thread wins */
/* The least elements a thread's share holds (cmx_parallel_for's grain):
 * half of SERIAL_BELOW for a light op; an op of many steps per element
 * (exp, silu, divide, ...: three times astype's time per element) splits
 * at a quarter of it; in a batch region, a quarter of either
 * (cmx_batch_grain). */
static size_t split_grain(int heavy) {
  return cmx_batch_grain(heavy ? SERIAL_BELOW / 4 : SERIAL_BELOW / 2);
}

const struct cmx_ew_info cmx_ew_info[CMX_EW_COUNT] = {
#define CMX_EW(name, arity, rule, slot, light) \
  {#name, arity, CMX_EW_##rule, slot, light},
#include "elementwise.def"
#undef CMX_EW
};

struct job {
  enum cmx_ew_op op;
  int nin;
  struct cmx_ew_operand in[3];
  char *out;
  cmx_dtype out_dtype, compute;
  int ndim;
  int64_t shape[CMX_MAX_DIMS];
  struct cmx_ew_kernels k; /* a copy: the job may outlive the caller's */
  int fetch;               /* light op, streamed output: fetch ahead */
  size_t tile;             /* chunk length: TILE, or more (direct_job) */
};

/* Whether a light op with one input stream and a streamed output fetches
 * the next tile's input lines before each tile (chunk_f32): the tuning key
 * ew_fetch_next, env CMX_EW_FETCH_NEXT, default 1. Zen 5, 1 thread, 64 MiB
 * in and out: neg 27 -> 57 GB/s, sqrt 26 -> 54, add scalar 25 -> 56 with
 * it (copy nt 60). On the Intel Xeon VM (model 167) the burst of 64
 * prefetches a tile stalls on the fill buffers while the L2 streamer
 * fetches ahead anyway: cmx-bench 16M rows, two runs each, with -> without,
 * 1 thread: sqrt 19.4-19.6 -> 27.9-28.2 GB/s, neg 25.2-26.3 -> 27.8-28.4,
 * add scalar 25.1-26.0 -> 28.1; 2 threads: sqrt 36.2-36.6 -> 54.4-54.9,
 * neg 44.6-50.5 -> 55.5-56.2 (copy nt 28 and 56); its tuning file sets
 * 0. */
static struct cmx_knob g_fetch =
    CMX_KNOB("ew_fetch_next", "CMX_EW_FETCH_NEXT", 1);

/* ---- scalar references ---- */
static double gelu_ref(double x) { return 0.5 * x * erfc(-x / sqrt(2.0)); }

/* The scalar ops, inlined into the tile loops below with op a constant
 * (ew_f64, ew_i64), and out of line for callers that pass op at run time
 * (cmx_ew_f64, cmx_ew_i64). */
static inline __attribute__((always_inline)) double ew_f64(enum cmx_ew_op op,
                                                           double a,
                                                           double b) {
  switch (op) {
    case CMX_EW_identity: return a;
    case CMX_EW_abs: return fabs(a);
    case CMX_EW_neg: return -a;
    case CMX_EW_sign: return a > 0 ? 1.0 : a < 0 ? -1.0 : 0.0; /* NaN: 0 */
    case CMX_EW_exp: return exp(a);
    case CMX_EW_expm1: return expm1(a);
    case CMX_EW_log: return log(a);
    case CMX_EW_log1p: return log1p(a);
    case CMX_EW_sqrt: return sqrt(a);
    case CMX_EW_rsqrt: return 1.0 / sqrt(a);
    case CMX_EW_square: return a * a;
    case CMX_EW_reciprocal: return 1.0 / a;
    case CMX_EW_sin: return sin(a);
    case CMX_EW_cos: return cos(a);
    case CMX_EW_tanh: return tanh(a);
    case CMX_EW_sigmoid: return 1.0 / (1.0 + exp(-a));
    case CMX_EW_erf: return erf(a);
    case CMX_EW_gelu: return gelu_ref(a);
    case CMX_EW_gelu_tanh: {
      double z = sqrt(2.0 / M_PI) * (a + 0.044715 * a * a * a);
      return a / (1.0 + exp(-2.0 * z));
    }
    case CMX_EW_silu: return a / (1.0 + exp(-a));
    case CMX_EW_softplus: return (a > 0 ? a : (a == a ? 0.0 : a)) +
                                 log1p(exp(-fabs(a)));
    case CMX_EW_silu_mul: return a / (1.0 + exp(-a)) * b;
    case CMX_EW_relu: return a > 0 ? a : (a == a ? 0.0 : a);
    case CMX_EW_floor: return floor(a);
    case CMX_EW_ceil: return ceil(a);
    case CMX_EW_round: return nearbyint(a);
    case CMX_EW_logical_not: return a == 0;
    case CMX_EW_add: return a + b;
    case CMX_EW_subtract: return a - b;
    case CMX_EW_multiply: return a * b;
    case CMX_EW_divide: return a / b;
    case CMX_EW_maximum: return a != a || b != b ? a + b : a > b ? a : b;
    case CMX_EW_minimum: return a != a || b != b ? a + b : a < b ? a : b;
    case CMX_EW_power: return pow(a, b);
    case CMX_EW_remainder: { /* as the f32 kernel: a zero takes b's sign */
      double r = fmod(a, b);
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r == 0 ? copysign(0.0, b) : r;
    }
    case CMX_EW_floor_divide: return floor(a / b);
    case CMX_EW_equal: return a == b;
    case CMX_EW_not_equal: return a != b;
    case CMX_EW_less: return a < b;
    case CMX_EW_less_equal: return a <= b;
    case CMX_EW_greater: return a > b;
    case CMX_EW_greater_equal: return a >= b;
    case CMX_EW_logical_and: return a != 0 && b != 0;
    case CMX_EW_logical_or: return a != 0 || b != 0;
    default: return a;
  }
}

double cmx_ew_f64(enum cmx_ew_op op, double a, double b) {
  return ew_f64(op, a, b);
}

static int64_t ipow(int64_t a, int64_t b) {
  if (b < 0) return a == 1 ? 1 : a == -1 ? (b & 1 ? -1 : 1) : 0;
  uint64_t r = 1, x = (uint64_t)a;
  while (b) {
    if (b & 1) r *= x;
    x *= x;
    b >>= 1;
  }
  return (int64_t)r;
}

static inline __attribute__((always_inline)) int64_t ew_i64(enum cmx_ew_op op,
                                                            int64_t a,
                                                            int64_t b) {
  /* Wrapping arithmetic goes through uint64_t: no signed overflow UB. */
  uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
  switch (op) {
    case CMX_EW_identity: return a;
    case CMX_EW_abs: return a < 0 ? (int64_t)(0 - ua) : a;
    case CMX_EW_neg: return (int64_t)(0 - ua);
    case CMX_EW_sign: return (a > 0) - (a < 0);
    case CMX_EW_square: return (int64_t)(ua * ua);
    case CMX_EW_relu: return a > 0 ? a : 0;
    case CMX_EW_floor: case CMX_EW_ceil: case CMX_EW_round: return a;
    case CMX_EW_logical_not: return a == 0;
    case CMX_EW_add: return (int64_t)(ua + ub);
    case CMX_EW_subtract: return (int64_t)(ua - ub);
    case CMX_EW_multiply: return (int64_t)(ua * ub);
    case CMX_EW_maximum: return a > b ? a : b;
    case CMX_EW_minimum: return a < b ? a : b;
    case CMX_EW_power: return ipow(a, b);
    case CMX_EW_floor_divide: {
      if (b == 0) return 0;
      if (b == -1) return (int64_t)(0 - ua);
      int64_t q = a / b;
      if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
      return q;
    }
    case CMX_EW_remainder: {
      if (b == 0 || b == -1) return 0;
      int64_t r = a % b;
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    }
    case CMX_EW_equal: return a == b;
    case CMX_EW_not_equal: return a != b;
    case CMX_EW_less: return a < b;
    case CMX_EW_less_equal: return a <= b;
    case CMX_EW_greater: return a > b;
    case CMX_EW_greater_equal: return a >= b;
    case CMX_EW_logical_and: return a != 0 && b != 0;
    case CMX_EW_logical_or: return a != 0 || b != 0;
    default: return a;
  }
}

int64_t cmx_ew_i64(enum cmx_ew_op op, int64_t a, int64_t b) {
  return ew_i64(op, a, b);
}

/* ---- loading and storing tiles ---- */
/* for (i = 0; i < n; i++) BODY, as blocks of 16 and a tail: a fixed trip
 * count is what the baseline build's -O2 (gcc's very cheap cost model)
 * vectorises. */
#define BLOCKED(i, n, BODY)                                            \
  do {                                                                 \
    size_t b_ = 0;                                                     \
    for (; b_ + 16 <= (n); b_ += 16)                                   \
      for (size_t k_ = 0; k_ < 16; k_++) {                             \
        const size_t i = b_ + k_;                                      \
        BODY                                                           \
      }                                                                \
    for (size_t i = b_; i < (n); i++) BODY                             \
  } while (0)

/* Reads n elements of any dtype at stride s (elements) as f32. */
static void load_f32(const struct cmx_ew_kernels *k, const char *p,
                     cmx_dtype d, int64_t s, size_t n, float *y) {
  switch (d) {
    case CMX_F32:
      for (size_t i = 0; i < n; i++) y[i] = ((const float *)p)[(int64_t)i * s];
      return;
    case CMX_F16: case CMX_BF16: {
      const uint16_t *h = (const uint16_t *)p;
      int op = d == CMX_BF16 ? CMX_CVT_BF16_F32 : CMX_CVT_F16_F32;
      if (s == 1) {
        k->cvt[op](n, h, y);
      } else {
        uint16_t t[TILE];
        for (size_t i = 0; i < n; i++) t[i] = h[(int64_t)i * s];
        k->cvt[op](n, t, y);
      }
      return;
    }
    case CMX_F64:
      for (size_t i = 0; i < n; i++) y[i] = (float)((const double *)p)[(int64_t)i * s];
      return;
    /* Contiguous runs: bytes by the level's cvt kernels (astype uint8 ->
     * f32 16M, 1 thread: 17.2 -> 3.3 ms), wider integers in blocks of 16,
     * which the compiler vectorises (the loop over bytes it did not). */
    case CMX_BOOL: case CMX_U8: case CMX_I8:
      if (s == 1)
        k->cvt[d == CMX_I8 ? CMX_CVT_I8_F32 : CMX_CVT_U8_F32](n, p, y);
      else if (d == CMX_I8)
        for (size_t i = 0; i < n; i++)
          y[i] = ((const int8_t *)p)[(int64_t)i * s];
      else
        for (size_t i = 0; i < n; i++)
          y[i] = ((const uint8_t *)p)[(int64_t)i * s];
      return;
#define INT_LOAD(T)                                                    \
  if (s == 1)                                                          \
    BLOCKED(i, n, { y[i] = (float)((const T *)p)[i]; });               \
  else                                                                 \
    for (size_t i = 0; i < n; i++)                                     \
      y[i] = (float)((const T *)p)[(int64_t)i * s];                    \
  return;
    case CMX_I16: INT_LOAD(int16_t)
    case CMX_I32: INT_LOAD(int32_t)
    case CMX_U32: INT_LOAD(uint32_t)
#undef INT_LOAD
    case CMX_I64:
      for (size_t i = 0; i < n; i++) y[i] = (float)((const int64_t *)p)[(int64_t)i * s];
      return;
  }
}

static void load_f64(const struct cmx_ew_kernels *k, const char *p,
                     cmx_dtype d, int64_t s, size_t n, double *y) {
  switch (d) {
    case CMX_F64:
      if (s == 1) memcpy(y, p, n * sizeof(double));
      else
        for (size_t i = 0; i < n; i++)
          y[i] = ((const double *)p)[(int64_t)i * s];
      return;
    case CMX_I64:
      for (size_t i = 0; i < n; i++) y[i] = (double)((const int64_t *)p)[(int64_t)i * s];
      return;
    /* Exact in double, not in float (beyond 2^24). */
    case CMX_I32:
      if (s == 1) BLOCKED(i, n, { y[i] = ((const int32_t *)p)[i]; });
      else
        for (size_t i = 0; i < n; i++)
          y[i] = ((const int32_t *)p)[(int64_t)i * s];
      return;
    case CMX_U32:
      for (size_t i = 0; i < n; i++) y[i] = ((const uint32_t *)p)[(int64_t)i * s];
      return;
    default: {
      float t[TILE];
      load_f32(k, p, d, s, n, t);
      BLOCKED(i, n, { y[i] = t[i]; });
    }
  }
}

/* One loop per dtype (the switch and the element size outside it; a
 * switch and a cmx_dtype_size call per element had held int32 + int32 to
 * 1.4 GB/s). */
#define LOAD_I64(T, EXPR)                                               \
  do {                                                                 \
    const T *q = (const T *)p;                                         \
    if (s == 1)                                                        \
      BLOCKED(i, n, { T v = q[i]; y[i] = EXPR; });                     \
    else                                                               \
      for (size_t i = 0; i < n; i++) {                                 \
        T v = q[(int64_t)i * s];                                       \
        y[i] = EXPR;                                                   \
      }                                                                \
  } while (0)
static void load_i64(const char *p, cmx_dtype d, int64_t s, size_t n,
                     int64_t *y) {
  switch (d) {
    case CMX_BOOL: case CMX_U8: LOAD_I64(uint8_t, v); break;
    case CMX_I8: LOAD_I64(int8_t, v); break;
    case CMX_I16: LOAD_I64(int16_t, v); break;
    case CMX_I32: LOAD_I64(int32_t, v); break;
    case CMX_U32: LOAD_I64(uint32_t, v); break;
    case CMX_I64: LOAD_I64(int64_t, v); break;
    case CMX_F64: LOAD_I64(double, v != 0); break; /* logical */
    case CMX_F32: LOAD_I64(float, v != 0); break;
    case CMX_F16: case CMX_BF16: LOAD_I64(uint16_t, (v & 0x7fff) != 0); break;
  }
}
#undef LOAD_I64

/* Float -> integer: truncate toward zero, saturate, NaN -> 0. */
static int64_t sat(double v, double lo, double hi) {
  if (v != v) return 0;
  if (v <= lo) return (int64_t)lo;
  if (v >= hi) return (int64_t)hi;
  return (int64_t)v;
}

/* double -> float rounding to odd: truncate, then set the last bit if
 * anything was lost. Rounding that float to f16/bf16 (>= 2 bits shorter)
 * then equals one correct rounding of the double. */
static float f32_round_odd(double v) {
  float f = (float)v;
  if (!(fabs(v) <= 3.4028234663852886e38) || (double)f == v) return f;
  if (fabs((double)f) > fabs(v)) f = nextafterf(f, 0.0f);
  uint32_t u;
  memcpy(&u, &f, 4);
  u |= 1;
  memcpy(&f, &u, 4);
  return f;
}

static void store_f64(const struct cmx_ew_kernels *k, const double *x,
                      size_t n, cmx_dtype d, char *p) {
  switch (d) {
    case CMX_F64: memcpy(p, x, n * 8); return;
    case CMX_F32: case CMX_F16: case CMX_BF16: {
      float t[TILE];
      if (d == CMX_F32) { /* in blocks of 16, which vectorise */
        float *restrict y = (float *)p;
        BLOCKED(i, n, { y[i] = (float)x[i]; });
        return;
      }
      for (size_t i = 0; i < n; i++) t[i] = f32_round_odd(x[i]);
      k->cvt[d == CMX_F16 ? CMX_CVT_F32_F16 : CMX_CVT_F32_BF16](n, t, p);
      return;
    }
    case CMX_BOOL:
      for (size_t i = 0; i < n; i++) ((uint8_t *)p)[i] = x[i] != 0;
      return;
    /* int32: the level's converter (SSE2 at the baseline emulated the
     * clamps with masks: 1M f64 -> int32, 1 thread, 1605 -> 475 us, torch
     * 504). The narrower types: NaN -> 0, clamped, truncated: branch-free,
     * so the loops vectorise (f32 -> int32 astype of 16M, 1 thread: 36.5
     * -> 31.9 ms) */
    case CMX_I32: k->cvt[CMX_CVT_F64_I32](n, x, p); return;
#define SAT_LOOP(T, LO, HI)                                             \
  BLOCKED(i, n, {                                                      \
    double v = x[i] != x[i] ? 0.0 : x[i];                              \
    v = v < (LO) ? (LO) : v;                                           \
    v = v > (HI) ? (HI) : v;                                           \
    ((T *)p)[i] = (T)(int32_t)v;                                       \
  });                                                                  \
  return;
    case CMX_U8: SAT_LOOP(uint8_t, 0.0, 255.0)
    case CMX_I8: SAT_LOOP(int8_t, -128.0, 127.0)
    case CMX_I16: SAT_LOOP(int16_t, -32768.0, 32767.0)
#undef SAT_LOOP
    case CMX_U32:
      for (size_t i = 0; i < n; i++)
        ((uint32_t *)p)[i] = (uint32_t)sat(x[i], 0, 4294967295.0);
      return;
    case CMX_I64:
      for (size_t i = 0; i < n; i++) {
        double v = x[i];
        ((int64_t *)p)[i] = v != v ? 0 : v >= 9223372036854775807.0 ? INT64_MAX
                            : v <= -9223372036854775808.0 ? INT64_MIN
                            : (int64_t)v;
      }
      return;
  }
}

static void store_i64(const struct cmx_ew_kernels *k, const int64_t *x,
                      size_t n, cmx_dtype d, char *p) {
  switch (d) {
    /* (BLOCKED: gcc vectorises these at -O2; the plain loops were a third
     * of argmax over a length-1 axis: 65536 rows, 1 thread, 51 -> 37 us,
     * torch 12.5) */
    case CMX_BOOL: BLOCKED(i, n, { ((uint8_t *)p)[i] = x[i] != 0; }); return;
    case CMX_U8: BLOCKED(i, n, { ((uint8_t *)p)[i] = (uint8_t)x[i]; }); return;
    case CMX_I8: BLOCKED(i, n, { ((int8_t *)p)[i] = (int8_t)x[i]; }); return;
    case CMX_I16: BLOCKED(i, n, { ((int16_t *)p)[i] = (int16_t)x[i]; }); return;
    case CMX_I32: BLOCKED(i, n, { ((int32_t *)p)[i] = (int32_t)x[i]; }); return;
    case CMX_U32: BLOCKED(i, n, { ((uint32_t *)p)[i] = (uint32_t)x[i]; }); return;
    case CMX_I64: memcpy(p, x, n * 8); return;
    case CMX_F32: case CMX_F16: case CMX_BF16: {
      /* One rounding int64 -> float (exact below 2^24, so f16 rounds once;
       * bf16 of integers beyond 2^24 may round twice). */
      float t[TILE];
      float *y = d == CMX_F32 ? (float *)p : t;
      for (size_t i = 0; i < n; i++) y[i] = (float)x[i];
      if (d != CMX_F32)
        k->cvt[d == CMX_F16 ? CMX_CVT_F32_F16 : CMX_CVT_F32_BF16](n, t, p);
      return;
    }
    default: {
      double t[TILE];
      for (size_t i = 0; i < n; i++) t[i] = (double)x[i];
      store_f64(k, t, n, d, p);
    }
  }
}

/* Converts n floats with cv into an L1 tile, then writes the 16-bit
 * results with the 32-bit streaming copy: an element that breaks the pair
 * alignment at either end is stored alone. */
static void store_u16_stream(const struct cmx_ew_kernels *k, cmx_cvt_ukr_fn cv,
                             const float *y, size_t n, uint16_t *out) {
  _Alignas(64) uint16_t hb[TILE + 2];
  size_t i = (uintptr_t)out & 2 ? 1 : 0;
  uint16_t *h = hb + i; /* h + i is 4-byte aligned, as out + i is */
  cv(n, y, h);
  if (i && n) out[0] = h[0];
  if (n > i + 1) k->stream((n - i) / 2, h + i, out + i);
  if (n > i && (n - i) % 2) out[n - 1] = h[n - 1];
}

/* ---- one chunk: n elements, operands at p[] with inner strides s[] ---- */
static void chunk_f32(const struct job *j, const char **p, const int64_t *s,
                      size_t n, char *out) {
  float tin[3][TILE], tout[TILE], scal[3];
  const float *x[3];
  size_t xs[3];
  const struct cmx_ew_kernels *k = &j->k;
  int first = j->op == CMX_EW_where ? 1 : 0;
  int streams = 0; /* inputs read element by element */
  for (int i = first; i < j->nin; i++) streams += s[i] != 0;
  for (int i = first; i < j->nin; i++) {
    const struct cmx_ew_operand *o = &j->in[i];
    if (s[i] == 0) {
      load_f32(k, p[i], o->dtype, 0, 1, &scal[i]);
      x[i] = &scal[i];
      xs[i] = 0;
    } else if (o->dtype == CMX_F32 && s[i] == 1) {
      x[i] = (const float *)p[i];
      xs[i] = 1;
      /* A light op with one input stream and a streamed output: fetch the
       * next tile's input lines now (g_fetch above); with two input
       * streams (add 50 -> 45 GB/s on Zen 5) or a heavy op (exp 51 -> 46,
       * gelu 43 -> 39) the hardware prefetcher does better alone. */
      if (j->fetch && streams == 1)
        cmx_prefetch_span(p[i] + TILE * sizeof(float), n * sizeof(float));
    } else {
      load_f32(k, p[i], o->dtype, s[i], n, tin[i]);
      x[i] = tin[i];
      xs[i] = 1;
    }
  }
  float *y = j->out_dtype == CMX_F32 && !k->stream ? (float *)out : tout;
  if (j->op == CMX_EW_where) {
    uint8_t cb[TILE];
    const uint8_t *c;
    size_t cs = 1;
    cmx_dtype cd = j->in[0].dtype;
    if ((cd == CMX_BOOL || cd == CMX_U8 || cd == CMX_I8) &&
        (s[0] == 0 || s[0] == 1)) {
      c = (const uint8_t *)p[0];
      cs = (size_t)s[0];
    } else {
      int64_t t[TILE];
      size_t m = s[0] == 0 ? 1 : n;
      load_i64(p[0], cd, s[0], m, t);
      for (size_t i = 0; i < m; i++) cb[i] = t[i] != 0;
      c = cb;
      cs = s[0] == 0 ? 0 : 1;
    }
    k->where(n, c, cs, x[1], xs[1], x[2], xs[2], y);
  } else if (j->nin == 1 && xs[0] == 0) {
    /* A broadcast input: one value, computed once, repeated. */
    float v = x[0][0];
    if (k->vunary) k->vunary(1, &v, &v);
    for (size_t i = 0; i < n; i++) y[i] = v;
  } else if (j->nin == 1) {
    if (k->vunary) k->vunary(n, x[0], y);
    else if (j->out_dtype != CMX_F32 || k->stream) y = (float *)x[0];
    else if (y != x[0]) /* a copy (xs[0] is 1 here): the element loop
                           ran 95 us for 262144 floats, exp 54 */
      memcpy(y, x[0], n * sizeof(float));
  } else {
    k->vbinary(n, x[0], xs[0], x[1], xs[1], y);
  }
  /* An identity (astype, contiguous) stores straight from its operand: y
   * is then x[0], contiguous (xs[0] is 1 here) and never written. */
  switch (j->out_dtype) {
    case CMX_F32:
      if (y != (float *)out) k->stream(n, y, out);
      break;
    case CMX_F16: case CMX_BF16: {
      cmx_cvt_ukr_fn cv =
          k->cvt[j->out_dtype == CMX_F16 ? CMX_CVT_F32_F16 : CMX_CVT_F32_BF16];
      if (k->stream) store_u16_stream(k, cv, y, n, (uint16_t *)out);
      else cv(n, y, out);
      break;
    }
    /* y != 0 on the bits (NaN true, -0 false), and the saturating casts
     * to the integers of up to 32 bits, by the level's kernels (16M f32,
     * 1 thread, medians: greater 16-19 -> 6.0 ms against the tile loop
     * this replaced; astype f32 -> int32 33-43 -> 5.2 ms against the
     * double tiles) */
    case CMX_BOOL: k->cvt[CMX_CVT_F32_BOOL](n, y, out); break;
    case CMX_I32: k->cvt[CMX_CVT_F32_I32](n, y, out); break;
    case CMX_I8: k->cvt[CMX_CVT_F32_I8](n, y, out); break;
    case CMX_U8: k->cvt[CMX_CVT_F32_U8](n, y, out); break;
    case CMX_I16: k->cvt[CMX_CVT_F32_I16](n, y, out); break;
    case CMX_U32: k->cvt[CMX_CVT_F32_U32](n, y, out); break;
    default: {
      double t[TILE];
      for (size_t i = 0; i < n; i++) t[i] = y[i];
      store_f64(k, t, n, j->out_dtype, out);
    }
  }
}

/* The binary ops whose tile loops run with op a constant (the scalar
 * function inlined: no call and no switch per element), as case labels
 * of a switch on the job's op. */
#define COMMON_BINARY(CASE)                                            \
  CASE(CMX_EW_add) CASE(CMX_EW_subtract) CASE(CMX_EW_multiply)         \
  CASE(CMX_EW_maximum) CASE(CMX_EW_minimum) CASE(CMX_EW_equal)         \
  CASE(CMX_EW_not_equal) CASE(CMX_EW_less) CASE(CMX_EW_less_equal)     \
  CASE(CMX_EW_greater) CASE(CMX_EW_greater_equal)
#define BINARY_CASE(FN, OP)                                            \
  case OP:                                                             \
    for (size_t i = 0; i < n; i++) t[0][i] = FN(OP, t[0][i], t[1][i]); \
    break;
/* The same for the unary ops of a few instructions (abs f64 8M, 1 / 2
 * threads, 34.3 / 17.7 -> 15.7 / 4.8 ms with a call per element gone). */
#define COMMON_UNARY(CASE)                                             \
  CASE(CMX_EW_abs) CASE(CMX_EW_neg) CASE(CMX_EW_sign)                  \
  CASE(CMX_EW_square) CASE(CMX_EW_relu) CASE(CMX_EW_logical_not)
#define UNARY_CASE(FN, OP)                                             \
  case OP:                                                             \
    for (size_t i = 0; i < n; i++) t[0][i] = FN(OP, t[0][i], 0);       \
    break;

static void chunk_f64(const struct job *j, const char **p, const int64_t *s,
                      size_t n, char *out) {
  double t[3][TILE];
  int64_t c[TILE];
  /* astype to f64 loads into the output; of contiguous f64, stores from
   * the operand (1M, 1 thread: int32 -> f64 702 -> 468 us, torch 519) */
  if (j->op == CMX_EW_identity && j->out_dtype == CMX_F64) {
    load_f64(&j->k, p[0], j->in[0].dtype, s[0], n, (double *)out);
    return;
  }
  if (j->op == CMX_EW_identity && j->in[0].dtype == CMX_F64 && s[0] == 1) {
    store_f64(&j->k, (const double *)p[0], n, j->out_dtype, out);
    return;
  }
  /* a transcendental from contiguous f64 to f64 without the tile's two
   * copies (exp of 1M, 1 thread: 2180 -> 1540 us, torch 870) */
  if (j->k.vunary64 && j->nin == 1 && j->in[0].dtype == CMX_F64 &&
      s[0] == 1 && j->out_dtype == CMX_F64) {
    j->k.vunary64(n, (const double *)p[0], (double *)out);
    return;
  }
  for (int i = 0; i < j->nin; i++) {
    if (j->op == CMX_EW_where && i == 0) load_i64(p[0], j->in[0].dtype, s[0], n, c);
    else load_f64(&j->k, p[i], j->in[i].dtype, s[i], n, t[i]);
  }
  /* identity (astype, contiguous) makes no call per element. */
  if (j->op == CMX_EW_where)
    for (size_t i = 0; i < n; i++) t[0][i] = c[i] ? t[1][i] : t[2][i];
  else if (j->op == CMX_EW_identity)
    ;
  else if (j->k.vunary64) { /* a transcendental, or silu(a) * b */
    j->k.vunary64(n, t[0], t[0]);
    if (j->nin == 2)
      for (size_t i = 0; i < n; i++) t[0][i] *= t[1][i];
  } else if (j->nin == 1)
    switch (j->op) {
#define F64_CASE(OP) UNARY_CASE(ew_f64, OP)
      COMMON_UNARY(F64_CASE) F64_CASE(CMX_EW_sqrt) F64_CASE(CMX_EW_reciprocal)
#undef F64_CASE
      default:
        for (size_t i = 0; i < n; i++) t[0][i] = cmx_ew_f64(j->op, t[0][i], 0);
    }
  else
    switch (j->op) { /* the common binary ops with op a constant */
#define F64_CASE(OP) BINARY_CASE(ew_f64, OP)
      COMMON_BINARY(F64_CASE) F64_CASE(CMX_EW_divide)
#undef F64_CASE
      default:
        for (size_t i = 0; i < n; i++)
          t[0][i] = cmx_ew_f64(j->op, t[0][i], t[1][i]);
    }
  store_f64(&j->k, t[0], n, j->out_dtype, out);
}

/* Contiguous integer -> integer casts (astype), one loop for each pair
 * of types, known inside it, which the compiler vectorises: C's
 * conversions as store_i64 makes them (the value modulo 2^bits for a
 * narrower type), bool 0 / 1; restrict, or the compiler would not
 * vectorise them without a run-time alias check. 16M, 1 thread, medians,
 * through the int64 tile before -> here (torch): uint8 -> bool 13.3 ->
 * 1.3 ms (1.7), uint8 -> int8 18.7 -> 1.3 (1.8), int32 -> int8 19.2 ->
 * 7.7 (6.1), int64 -> int32 27.7 -> 14.5 (34.5). */
#define CAST_BODY(TO, TI, EXPR)                                        \
  do {                                                                 \
    const TI *restrict x_ = (const TI *)p;                             \
    TO *restrict y_ = (TO *)out;                                       \
    BLOCKED(i, n, {                                                    \
      const TI v = x_[i];                                              \
      y_[i] = (TO)(EXPR);                                              \
    });                                                                \
  } while (0)
#define CAST_FROM(TO, EXPR)                                            \
  switch (din) {                                                       \
    case CMX_BOOL: case CMX_U8: CAST_BODY(TO, uint8_t, EXPR); break;   \
    case CMX_I8: CAST_BODY(TO, int8_t, EXPR); break;                   \
    case CMX_I16: CAST_BODY(TO, int16_t, EXPR); break;                 \
    case CMX_I32: CAST_BODY(TO, int32_t, EXPR); break;                 \
    case CMX_U32: CAST_BODY(TO, uint32_t, EXPR); break;                \
    default: CAST_BODY(TO, int64_t, EXPR); break;                      \
  }                                                                    \
  return;
static void int_cast(const char *restrict p, cmx_dtype din, size_t n,
                     char *restrict out, cmx_dtype dout) {
  switch (dout) {
    case CMX_BOOL: CAST_FROM(uint8_t, v != 0)
    case CMX_U8: CAST_FROM(uint8_t, v)
    case CMX_I8: CAST_FROM(int8_t, v)
    case CMX_I16: CAST_FROM(int16_t, v)
    case CMX_I32: CAST_FROM(int32_t, v)
    case CMX_U32: CAST_FROM(uint32_t, v)
    default: CAST_FROM(int64_t, v)
  }
}
#undef CAST_FROM
#undef CAST_BODY

static int is_int(cmx_dtype d) {
  return d == CMX_BOOL || d == CMX_U8 || d == CMX_I8 || d == CMX_I16 ||
         d == CMX_I32 || d == CMX_U32 || d == CMX_I64;
}

static void chunk_i64(const struct job *j, const char **p, const int64_t *s,
                      size_t n, char *out) {
  if (j->op == CMX_EW_identity && s[0] == 1 && is_int(j->in[0].dtype) &&
      is_int(j->out_dtype)) {
    int_cast(p[0], j->in[0].dtype, n, out, j->out_dtype);
    return;
  }
  int64_t t[3][TILE];
  for (int i = 0; i < j->nin; i++) load_i64(p[i], j->in[i].dtype, s[i], n, t[i]);
  if (j->op == CMX_EW_where)
    for (size_t i = 0; i < n; i++) t[0][i] = t[0][i] ? t[1][i] : t[2][i];
  else if (j->op == CMX_EW_identity)
    ;
  else if (j->nin == 1)
    switch (j->op) {
#define I64_CASE(OP) UNARY_CASE(ew_i64, OP)
      COMMON_UNARY(I64_CASE)
#undef I64_CASE
      default:
        for (size_t i = 0; i < n; i++) t[0][i] = cmx_ew_i64(j->op, t[0][i], 0);
    }
  else
    switch (j->op) { /* the common binary ops with op a constant */
#define I64_CASE(OP) BINARY_CASE(ew_i64, OP)
      COMMON_BINARY(I64_CASE)
      I64_CASE(CMX_EW_logical_and) I64_CASE(CMX_EW_logical_or)
#undef I64_CASE
      default:
        for (size_t i = 0; i < n; i++)
          t[0][i] = cmx_ew_i64(j->op, t[0][i], t[1][i]);
    }
  store_i64(&j->k, t[0], n, j->out_dtype, out);
}

/* Walks output elements [begin, end) of a collapsed shape in chunks of at
 * most tile elements, calling chunk with each operand's pointer and inner
 * stride there and the chunk's first output element. A chunk is a run of
 * one row, or, where rows are short (SHORT_ROWS), several whole rows at
 * once (gather_rows). */
typedef void (*chunk_fn)(const void *job, const char **p, const int64_t *s,
                         size_t n, size_t pos);

/* Rows of at most GATHER_MAX / SHORT_ROWS (64) elements go SHORT_ROWS or
 * more to a chunk, a chunk a row having cost ~17 ns a row. 1 thread,
 * f32, medians, a chunk a row -> rows together (torch 2.15): (65536, 4) +
 * a broadcast row 1124 -> 255-305 us (252), * a broadcast column 1208 ->
 * 265 (200-220); (16384, 16) + row 313 -> 80 (82), * column 476 -> 66-91
 * (61-64); (65536, 16) + row 1195 -> 439; (16384, 64) + row 339 -> 313.
 * At 128 and 256 elements the copies cost more than they save (8192 x 128
 * + row 302 -> 323). */
#define SHORT_ROWS 16
#define GATHER_MAX 1024 /* elements of a multi-row chunk's staging */

/* k rows of n elements of operand o (inner strides s0, row stride s1, in
 * elements of esz bytes, from b) as one run for a chunk: in place when
 * they are one contiguous run or one broadcast value (*st 1 or 0), else
 * copied row after row into buf (*st 1). */
static const char *gather_rows(const char *b, int64_t s0, int64_t s1,
                               size_t esz, size_t k, size_t n, char *buf,
                               int64_t *st) {
  if (s0 == 1 && s1 == (int64_t)n) return *st = 1, b;
  if (s0 == 0 && s1 == 0) return *st = 0, b;
  *st = 1;
#define GATHER(T)                                                      \
  for (size_t r = 0; r < k; r++) {                                     \
    const T *x = (const T *)b + (int64_t)r * s1;                       \
    T *y = (T *)buf + r * n;                                           \
    if (s0 == 1) {                                                     \
      cmx_copy_run((char *)y, (const char *)x, n * sizeof(T));         \
    } else if (s0 == 0) { /* a column broadcast: blocks vectorise */   \
      const T v = x[0];                                                \
      if (n < 16)                                                      \
        for (size_t c = 0; c < n; c++) y[c] = v;                       \
      else                                                             \
        BLOCKED(c, n, { y[c] = v; });                                  \
    } else {                                                           \
      for (size_t c = 0; c < n; c++) y[c] = x[(int64_t)c * s0];        \
    }                                                                  \
  }                                                                    \
  break;
  switch (esz) {
    case 1: GATHER(uint8_t)
    case 2: GATHER(uint16_t)
    case 4: GATHER(uint32_t)
    default: GATHER(uint64_t)
  }
#undef GATHER
  return buf;
}
static void walk(const int64_t *shape, int nd, const struct cmx_ew_operand *in,
                 int nin, size_t begin, size_t end, size_t tile,
                 chunk_fn chunk, const void *job) {
  int last = nd - 1;
  int64_t idx[CMX_MAX_DIMS];
  size_t rem = begin;
  for (int d = last; d >= 0; d--) {
    idx[d] = (int64_t)(rem % (size_t)shape[d]);
    rem /= (size_t)shape[d];
  }
  int64_t esz[CMX_EW_PROG_IN];
  for (int i = 0; i < nin; i++) esz[i] = (int64_t)cmx_dtype_size(in[i].dtype);
  size_t pos = begin;
  const size_t rn = (size_t)shape[last];
  const size_t gt = tile < GATHER_MAX ? tile : GATHER_MAX;
  const int multi = nd >= 2 && rn * SHORT_ROWS <= gt;
  _Alignas(64) char stage[multi ? CMX_EW_PROG_IN : 1][GATHER_MAX * 8];
  while (pos < end) {
    const char *p[CMX_EW_PROG_IN];
    int64_t s[CMX_EW_PROG_IN];
    for (int i = 0; i < nin; i++) {
      int64_t off = 0;
      for (int d = 0; d < nd; d++) off += idx[d] * in[i].strides[d];
      p[i] = in[i].data + off * esz[i];
      s[i] = in[i].strides[last];
    }
    /* whole short rows, as many as the tile, the range and this run of
     * the next axis hold */
    size_t k = 0;
    if (multi && idx[last] == 0) {
      k = gt / rn;
      if (k > (end - pos) / rn) k = (end - pos) / rn;
      if (k > (size_t)(shape[last - 1] - idx[last - 1]))
        k = (size_t)(shape[last - 1] - idx[last - 1]);
    }
    if (k >= 2) {
      for (int i = 0; i < nin; i++)
        p[i] = gather_rows(p[i], in[i].strides[last], in[i].strides[last - 1],
                           (size_t)esz[i], k, rn, stage[i], &s[i]);
      chunk(job, p, s, k * rn, pos);
      pos += k * rn;
      idx[last - 1] += (int64_t)k;
      for (int d = last - 1; d > 0 && idx[d] == shape[d]; d--) {
        idx[d] = 0;
        idx[d - 1]++;
      }
      continue;
    }
    size_t n = (size_t)(shape[last] - idx[last]);
    if (n > end - pos) n = end - pos;
    if (n > tile) n = tile;
    chunk(job, p, s, n, pos);
    pos += n;
    idx[last] += (int64_t)n;
    for (int d = last; d > 0 && idx[d] == shape[d]; d--) {
      idx[d] = 0;
      idx[d - 1]++;
    }
  }
}

/* add, subtract, multiply, maximum and minimum with both inputs and the
 * output of one integer type or f64, each input contiguous or one value,
 * and the six comparisons of such inputs into bool: the type's own loop
 * (BLOCKED: it vectorises), the result the scalar op's (integers wrap as
 * the narrower type's store would, in UC: unsigned, T's width or wider;
 * f64 through ew_f64, which keeps NaN). 1 thread, 1M elements, through
 * the int64 / f64 tiles -> here (torch 2.15): int32 add 1239 -> 472 us
 * (663), multiply 1481 -> 467 (496); int64 add 1608 -> 869 (935); f64
 * add 1485 -> 915 (1037); int8 add 1652 -> 580. In UC, in a function
 * per type with restrict parameters (as the unary loops below): int32
 * add 453 (torch 520; a + a in a C harness 607 -> 340), less 739 -> 314
 * (721). */
#define BIN_LOOP(T, TO, OP, EXPR) /* inputs u, v of T, output TO */    \
  case OP:                                                             \
    if (sa && sb) {                                                    \
      BLOCKED(i, n, {                                                  \
        const T u = a[i];                                              \
        const T v = b[i];                                              \
        y[i] = (TO)(EXPR);                                             \
      });                                                              \
    } else if (sa) {                                                   \
      const T v = b[0];                                                \
      BLOCKED(i, n, {                                                  \
        const T u = a[i];                                              \
        y[i] = (TO)(EXPR);                                             \
      });                                                              \
    } else {                                                           \
      const T u = a[0];                                                \
      BLOCKED(i, n, {                                                  \
        const T v = b[i];                                              \
        y[i] = (TO)(EXPR);                                             \
      });                                                              \
    }                                                                  \
    return 1;
/* floor_divide and remainder as ew_i64 gives them, for int32 operands
 * (int8, int16 and uint8 ones too) and for uint32 ones, branch-free so
 * they vectorise: the quotient truncated from the double division is
 * exact (|a| < 2^53: its error is under the 1 / |b| from q to the next
 * integer), the remainder a - q b, then both moved toward -inf where the
 * remainder's sign is not b's. b = 0 gives 0; b = -1 divides -a by 1
 * (so no quotient leaves the int32 range). 1M int32, 1 thread, through
 * the int64 tile's idiv -> here: remainder 6.6-8.7 ms -> 1.3-2.0 (torch
 * 4.2-5.1), floor_divide 6.7-9.0 -> 1.5 (6.1-8.1). */
static inline int32_t div_s32(int32_t a, int32_t b, int rem) {
  const uint32_t m1 = 0u - (uint32_t)(b == -1);
  const int32_t a2 = (int32_t)(((uint32_t)a ^ m1) - m1);
  const int32_t bb = (int32_t)((((uint32_t)b ^ m1) - m1) + (b == 0));
  int32_t q = (int32_t)((double)a2 / (double)bb);
  int32_t r = (int32_t)((uint32_t)a2 - (uint32_t)q * (uint32_t)bb);
  const int32_t adj = (r != 0) & ((r ^ bb) < 0);
  q -= adj;
  r += bb & -adj;
  return (rem ? r : q) & -(int32_t)(b != 0);
}
static inline uint32_t div_u32(uint32_t a, uint32_t b, int rem) {
  const uint32_t bb = b + (b == 0);
  const uint32_t q = (uint32_t)((double)a / (double)bb);
  return (rem ? a - q * bb : q) & (0u - (uint32_t)(b != 0));
}
#define DIV32(u, v, rem) div_s32(u, v, rem)
#define DIVU32(u, v, rem) div_u32(u, v, rem)
#define DIV64(u, v, rem)                                               \
  ew_i64((rem) ? CMX_EW_remainder : CMX_EW_floor_divide, u, v)
#define INT_ARITH(T, TO, UC, DIV)                                      \
  BIN_LOOP(T, TO, CMX_EW_add, (UC)u + (UC)v)                           \
  BIN_LOOP(T, TO, CMX_EW_subtract, (UC)u - (UC)v)                      \
  BIN_LOOP(T, TO, CMX_EW_multiply, (UC)u * (UC)v)                      \
  BIN_LOOP(T, TO, CMX_EW_maximum, u > v ? u : v)                       \
  BIN_LOOP(T, TO, CMX_EW_minimum, u < v ? u : v)                       \
  BIN_LOOP(T, TO, CMX_EW_floor_divide, DIV(u, v, 0))                   \
  BIN_LOOP(T, TO, CMX_EW_remainder, DIV(u, v, 1))
#define F64_ARITH(T, TO, UC, DIV)                                      \
  BIN_LOOP(T, TO, CMX_EW_add, u + v)                                   \
  BIN_LOOP(T, TO, CMX_EW_subtract, u - v)                              \
  BIN_LOOP(T, TO, CMX_EW_multiply, u * v)                              \
  BIN_LOOP(T, TO, CMX_EW_maximum, ew_f64(CMX_EW_maximum, u, v))        \
  BIN_LOOP(T, TO, CMX_EW_minimum, ew_f64(CMX_EW_minimum, u, v))
#define CMP_OPS(T, TO, UC, DIV)                                        \
  BIN_LOOP(T, TO, CMX_EW_equal, u == v)                                \
  BIN_LOOP(T, TO, CMX_EW_not_equal, u != v)                            \
  BIN_LOOP(T, TO, CMX_EW_less, u < v)                                  \
  BIN_LOOP(T, TO, CMX_EW_less_equal, u <= v)                           \
  BIN_LOOP(T, TO, CMX_EW_greater, u > v)                               \
  BIN_LOOP(T, TO, CMX_EW_greater_equal, u >= v)
#define BIN_FN(NAME, T, TO, UC, OPS, DIV)                              \
  static int NAME(enum cmx_ew_op op, const T *restrict a,              \
                  const T *restrict b, TO *restrict y, int sa, int sb, \
                  size_t n) {                                          \
    switch (op) {                                                      \
      OPS(T, TO, UC, DIV)                                              \
      default: return 0;                                               \
    }                                                                  \
  }
#define BIN_FNS(SUF, T, UC, ARITH, DIV)                                \
  BIN_FN(arith_##SUF, T, T, UC, ARITH, DIV)                            \
  BIN_FN(cmp_##SUF, T, uint8_t, UC, CMP_OPS, DIV)
BIN_FNS(u8, uint8_t, uint32_t, INT_ARITH, DIV32)
BIN_FNS(i8, int8_t, uint32_t, INT_ARITH, DIV32)
BIN_FNS(i16, int16_t, uint32_t, INT_ARITH, DIV32)
BIN_FNS(i32, int32_t, uint32_t, INT_ARITH, DIV32)
BIN_FNS(u32, uint32_t, uint32_t, INT_ARITH, DIVU32)
BIN_FNS(i64, int64_t, uint64_t, INT_ARITH, DIV64)
BIN_FNS(f64, double, uint64_t, F64_ARITH, DIV64)
#undef BIN_FNS
#undef BIN_FN
#undef CMP_OPS
#undef F64_ARITH
#undef INT_ARITH
#undef DIV64
#undef DIVU32
#undef DIV32
#undef BIN_LOOP
/* the types with loops of their own: M(C type, function suffix) */
#define EACH_TYPE(M)                                                   \
  case CMX_U8: M(uint8_t, u8);                                         \
  case CMX_I8: M(int8_t, i8);                                          \
  case CMX_I16: M(int16_t, i16);                                       \
  case CMX_I32: M(int32_t, i32);                                       \
  case CMX_U32: M(uint32_t, u32);                                      \
  case CMX_I64: M(int64_t, i64);                                       \
  case CMX_F64: M(double, f64);
/* abs, neg, sign, square and relu of one such type, contiguous, in that
 * type: 1M, 1 thread, through the tiles -> here: int32 neg 1047 -> 608
 * us (torch 504), abs 1737 -> 767 (309), f64 neg 1645 -> 731 (635). A
 * function per type, its pointers restrict parameters (the output is a
 * fresh buffer): gcc honours restrict there, not on block-scope
 * pointers, and without it would need a run-time alias check, which its
 * cheap cost model at -O2 declines. */
#define UN_LOOP(T, OP, EXPR)                                           \
  case OP:                                                             \
    BLOCKED(i, n, {                                                    \
      const T v = a[i];                                                \
      y[i] = (T)(EXPR);                                                \
    });                                                                \
    return 1;
#define UN_FN(NAME, T, FN)                                             \
  static int NAME(enum cmx_ew_op op, const T *restrict a,              \
                  T *restrict y, size_t n) {                           \
    switch (op) {                                                      \
      UN_LOOP(T, CMX_EW_abs, FN(CMX_EW_abs, v, 0))                     \
      UN_LOOP(T, CMX_EW_neg, FN(CMX_EW_neg, v, 0))                     \
      UN_LOOP(T, CMX_EW_sign, FN(CMX_EW_sign, v, 0))                   \
      UN_LOOP(T, CMX_EW_square, FN(CMX_EW_square, v, 0))               \
      UN_LOOP(T, CMX_EW_relu, FN(CMX_EW_relu, v, 0))                   \
      default: return 0;                                               \
    }                                                                  \
  }
UN_FN(un_u8, uint8_t, ew_i64)
UN_FN(un_u32, uint32_t, ew_i64)
UN_FN(un_f64, double, ew_f64)
/* The signed integer types in the wrapping arithmetic of UC (unsigned, T's
 * width or wider) rather than through the int64 scalar op, branch-free:
 * 1M int32, 1 thread, abs 1211-1337 -> 305-321 us (torch 320-545), neg
 * 715-740 -> 305 (317-327), sign 771-1330 -> 306 (338-344). M: v's sign
 * bit smeared (an arithmetic shift: gcc's); sign: M or'ed with -v's sign
 * bit. */
#define M_OF(UC) (UC)(v >> (sizeof(UC) * 8 - 1))
#define SUN_FN(NAME, T, UC)                                            \
  static int NAME(enum cmx_ew_op op, const T *restrict a,              \
                  T *restrict y, size_t n) {                           \
    switch (op) {                                                      \
      UN_LOOP(T, CMX_EW_abs, ((UC)v ^ M_OF(UC)) - M_OF(UC))            \
      UN_LOOP(T, CMX_EW_neg, (UC)0 - (UC)v)                            \
      UN_LOOP(T, CMX_EW_sign,                                          \
              M_OF(UC) | (((UC)0 - (UC)v) >> (sizeof(UC) * 8 - 1)))    \
      UN_LOOP(T, CMX_EW_square, (UC)v * (UC)v)                         \
      UN_LOOP(T, CMX_EW_relu, v > 0 ? v : 0)                           \
      default: return 0;                                               \
    }                                                                  \
  }
SUN_FN(sun_i8, int8_t, uint32_t)
SUN_FN(sun_i16, int16_t, uint32_t)
SUN_FN(sun_i32, int32_t, uint32_t)
SUN_FN(sun_i64, int64_t, uint64_t)
#undef SUN_FN
#undef M_OF
#undef UN_FN
#undef UN_LOOP
static int same_type_unary(const struct job *j, const char **p,
                           const int64_t *s, size_t n, char *out) {
  const cmx_dtype d = j->in[0].dtype;
  if (s[0] != 1 || j->out_dtype != d) return 0;
  switch (d) {
    case CMX_BOOL: /* eight bytes at a time: 1 where a byte is 0 (any
                      nonzero byte counts as true); 1M, 1 thread: 2311
                      -> 100 us, torch 60 */
      if (j->op != CMX_EW_logical_not) return 0;
      {
        const uint8_t *a = (const uint8_t *)p[0];
        uint8_t *y = (uint8_t *)out;
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
          uint64_t v;
          memcpy(&v, a + i, 8);
          /* ((b & 0x7f) + 0x7f) | b: high bit set iff b != 0, no carry
           * into the next byte */
          v = (((v & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full) | v) &
              0x8080808080808080ull;
          v = (v >> 7) ^ 0x0101010101010101ull;
          memcpy(y + i, &v, 8);
        }
        for (; i < n; i++) y[i] = a[i] == 0;
      }
      return 1;
#define UN_CALL(FN, T) return FN(j->op, (const T *)p[0], (T *)out, n)
    case CMX_I8: UN_CALL(sun_i8, int8_t);
    case CMX_I16: UN_CALL(sun_i16, int16_t);
    case CMX_I32: UN_CALL(sun_i32, int32_t);
    case CMX_I64: UN_CALL(sun_i64, int64_t);
    case CMX_U8: UN_CALL(un_u8, uint8_t);
    case CMX_U32: UN_CALL(un_u32, uint32_t);
    case CMX_F64: UN_CALL(un_f64, double);
#undef UN_CALL
    default: return 0;
  }
}

static int same_type(const struct job *j, const char **p, const int64_t *s,
                     size_t n, char *out) {
  const cmx_dtype d = j->in[0].dtype;
  if (j->nin == 1) return same_type_unary(j, p, s, n, out);
  if (j->nin != 2 || j->in[1].dtype != d ||
      (s[0] | s[1]) > 1 || s[0] < 0 || s[1] < 0 || (!s[0] && !s[1]))
    return 0;
  const int sa = s[0] != 0, sb = s[1] != 0;
#define CMP_CALL(T, SUF)                                               \
  return cmp_##SUF(j->op, (const T *)p[0], (const T *)p[1],            \
                   (uint8_t *)out, sa, sb, n)
#define ARITH_CALL(T, SUF)                                             \
  return arith_##SUF(j->op, (const T *)p[0], (const T *)p[1], (T *)out, \
                     sa, sb, n)
  if (j->out_dtype == CMX_BOOL && d != CMX_BOOL) {
    switch (d) { /* 1M int32 less, 1 thread: 1315 -> 739 us (torch 719) */
      EACH_TYPE(CMP_CALL)
      default: return 0;
    }
  }
  if (j->out_dtype != d) return 0;
  switch (d) {
    EACH_TYPE(ARITH_CALL)
    default: return 0;
  }
#undef ARITH_CALL
#undef CMP_CALL
}
#undef EACH_TYPE

static void job_chunk(const void *ctx, const char **p, const int64_t *s,
                      size_t n, size_t pos) {
  const struct job *j = ctx;
  char *out = j->out + pos * cmx_dtype_size(j->out_dtype);
  /* A copy within one type, unit stride (contiguous, or rows gathered):
   * the bytes. Through the compute type's tile loop, 262144 elements, 1
   * thread: int16 58 -> 16 us, int32 82 -> 40, int64 163 -> 146, f64 174
   * -> 145 (2 MiB each way: at memory speed). */
  if (j->op == CMX_EW_identity && s[0] == 1 &&
      j->in[0].dtype == j->out_dtype && !j->k.stream) {
    memcpy(out, p[0], n * cmx_dtype_size(j->out_dtype));
    return;
  }
  if (j->compute != CMX_F32 && same_type(j, p, s, n, out)) return;
  /* f64 <-> f32 (one rounding to nearest, or exact): 1M, 1 thread,
   * through the f64 tiles -> here: 980 -> 431 us and 1030 -> 646 (torch
   * 482, 512) */
  if (j->op == CMX_EW_identity && s[0] == 1) {
    const cmx_dtype di = j->in[0].dtype, dy = j->out_dtype;
    if (di == CMX_F64 && dy == CMX_F32) {
      const double *x = (const double *)p[0];
      float *y = (float *)out;
      BLOCKED(i, n, { y[i] = (float)x[i]; });
      return;
    }
    if (di == CMX_F32 && dy == CMX_F64) {
      const float *x = (const float *)p[0];
      double *y = (double *)out;
      BLOCKED(i, n, { y[i] = x[i]; });
      return;
    }
  }
  if (j->compute == CMX_F32 || j->compute == CMX_F16 || j->compute == CMX_BF16)
    chunk_f32(j, p, s, n, out);
  else if (j->compute == CMX_F64)
    chunk_f64(j, p, s, n, out);
  else
    chunk_i64(j, p, s, n, out);
}

static void run_range(void *ctx, size_t begin, size_t end) {
  const struct job *j = ctx;
  walk(j->shape, j->ndim, j->in, j->nin, begin, end, j->tile, job_chunk, j);
  /* The streaming stores of this range, fenced once (x32-stream.h). */
  if (j->k.stream) atomic_thread_fence(memory_order_seq_cst);
}

/* ---- inputs transposed in the last two axes (x.T + y, exp(x.T)) ----
 * The walk above would read such an input one cache line per element
 * along each output row. Instead the output goes by blocks of TR_ROWS rows
 * and TR_COLS columns: the block of each transposed input (TR_COLS runs
 * of TR_ROWS contiguous elements) is turned into a row-major L1 tile by
 * the level's transposer, and each output row of the block is one chunk,
 * reading the tile's row in place and the other inputs as the walk would.
 * Threads take whole row blocks. Before, such an input was copied in the
 * output's order first (api/ops-elementwise.c, in_order), which it still
 * is where it is not 32-bit or is permuted otherwise. 1024 x 1024 f32, 1
 * thread, medians, copy first -> tiles (torch 2.15, which keeps exp's
 * output transposed): exp(x.T) 1106 -> 549 us (340-365), x.T + y 1152 ->
 * 677 (4786); 2048 x 64: exp 58 -> 43 (28), add 66 -> 42 (134-149). */
#define TR_ROWS 16
#define TR_COLS 256 /* a tile 16 KiB */

static int tiled_in(const struct job *j, int i) {
  const int last = j->ndim - 1;
  if (last < 1 || !j->k.tr || !j->k.tr->ukr) return 0;
  const int64_t s = j->in[i].strides[last];
  return cmx_dtype_size(j->in[i].dtype) == 4 && s >= 16 &&
         j->in[i].strides[last - 1] == 1;
}

/* dst[r * TR_COLS + c] = src[r + c * s] for r < kr, c < kc (32-bit) */
static void tile_t(const uint32_t *src, int64_t s, size_t kr, size_t kc,
                   uint32_t *dst, const struct cmx_transpose_config *tr) {
  const size_t t = (size_t)tr->tile;
  size_t r = 0;
  for (; r + t <= kr; r += t) {
    size_t c = 0;
    for (; c + t <= kc; c += t)
      tr->ukr(src + r + (int64_t)c * s, (size_t)s, dst + r * TR_COLS + c,
              TR_COLS, 0);
    for (; c < kc; c++)
      for (size_t i = r; i < r + t; i++)
        dst[i * TR_COLS + c] = src[i + (int64_t)c * s];
  }
  for (; r < kr; r++)
    for (size_t c = 0; c < kc; c++)
      dst[r * TR_COLS + c] = src[r + (int64_t)c * s];
}

/* Row blocks [b0, e0): block b is rows [(b % nrb) TR_ROWS, + TR_ROWS) of
 * matrix b / nrb (the axes before the last two, row-major). */
static void run_tiled(void *ctx, size_t b0, size_t e0) {
  const struct job *j = ctx;
  const int last = j->ndim - 1;
  const size_t rows = (size_t)j->shape[last - 1], cols = (size_t)j->shape[last];
  const size_t nrb = (rows + TR_ROWS - 1) / TR_ROWS;
  _Alignas(64) uint32_t tile[3][TR_ROWS * TR_COLS]; /* nin <= 3 */
  int tiled[CMX_EW_PROG_IN];
  int64_t esz[CMX_EW_PROG_IN];
  for (int i = 0; i < j->nin; i++) {
    tiled[i] = tiled_in(j, i);
    esz[i] = (int64_t)cmx_dtype_size(j->in[i].dtype);
  }
  for (size_t b = b0; b < e0; b++) {
    const size_t m = b / nrb, r0 = b % nrb * TR_ROWS;
    const size_t kr = rows - r0 < TR_ROWS ? rows - r0 : TR_ROWS;
    const char *base[CMX_EW_PROG_IN];
    for (int i = 0; i < j->nin; i++) {
      int64_t off = (int64_t)r0 * j->in[i].strides[last - 1];
      size_t rem = m;
      for (int d = last - 2; d >= 0; d--) {
        off += (int64_t)(rem % (size_t)j->shape[d]) * j->in[i].strides[d];
        rem /= (size_t)j->shape[d];
      }
      base[i] = j->in[i].data + off * esz[i];
    }
    for (size_t c0 = 0; c0 < cols; c0 += TR_COLS) {
      const size_t kc = cols - c0 < TR_COLS ? cols - c0 : TR_COLS;
      for (int i = 0; i < j->nin; i++) {
        const int64_t sl = j->in[i].strides[last];
        if (tiled[i])
          tile_t((const uint32_t *)base[i] + (int64_t)c0 * sl, sl, kr, kc,
                 tile[i], j->k.tr);
      }
      for (size_t r = 0; r < kr; r++) {
        const char *p[CMX_EW_PROG_IN];
        int64_t s[CMX_EW_PROG_IN];
        for (int i = 0; i < j->nin; i++) {
          const int64_t s1 = j->in[i].strides[last - 1];
          s[i] = tiled[i] ? 1 : j->in[i].strides[last];
          p[i] = tiled[i] ? (const char *)(tile[i] + r * TR_COLS)
                          : base[i] +
                                ((int64_t)r * s1 + (int64_t)c0 * s[i]) * esz[i];
        }
        job_chunk(j, p, s, kc, (m * rows + r0 + r) * cols + c0);
      }
    }
  }
  if (j->k.stream) atomic_thread_fence(memory_order_seq_cst);
}

/* Collapses adjacent axes that every operand walks contiguously and drops
 * axes of size 1, so rows are as long as possible: the collapsed shape
 * goes to cshape and the operands' strides to cin (data and dtype
 * copied). Returns the collapsed ndim (at least 1); *total is the element
 * count. */
static int collapse(const struct cmx_ew_operand *in, int nin,
                    const int64_t *shape, int ndim,
                    struct cmx_ew_operand *cin, int64_t *cshape,
                    size_t *total) {
  int nd = 0;
  *total = 1;
  for (int d = 0; d < ndim; d++) {
    *total *= (size_t)shape[d];
    if (shape[d] == 1) continue;
    int merge = nd > 0;
    for (int i = 0; i < nin && merge; i++)
      merge = cin[i].strides[nd - 1] == in[i].strides[d] * shape[d];
    if (merge) {
      cshape[nd - 1] *= shape[d];
      for (int i = 0; i < nin; i++) cin[i].strides[nd - 1] = in[i].strides[d];
    } else {
      cshape[nd] = shape[d];
      for (int i = 0; i < nin; i++) cin[i].strides[nd] = in[i].strides[d];
      nd++;
    }
  }
  if (nd == 0) {
    cshape[0] = 1;
    for (int i = 0; i < nin; i++) cin[i].strides[0] = 0;
    nd = 1;
  }
  for (int i = 0; i < nin; i++) {
    cin[i].data = in[i].data;
    cin[i].dtype = in[i].dtype;
  }
  return nd;
}

/* Whether chunk_f32 would run job j's chunks with no tile buffer: f32
 * math, every input f32 and contiguous along the inner axis (or one
 * broadcast value) read in place, the result written in place (f32 out
 * without streaming stores, or an identity whose converter stores straight
 * from its input). Such chunks need not stop at TILE elements: the
 * per-chunk walk was a fifth of the time of an L2-resident astype f32 ->
 * bf16 (256 x 256, 16 per eval) beside its converter. Chunks still never
 * cross a row (walk); DIRECT_TILE, 64 KiB of f32, bounds them. */
#define DIRECT_TILE 16384
static int direct_job(const struct job *j) {
  if (j->compute != CMX_F32 || j->op == CMX_EW_where || j->k.stream)
    return 0;
  const int last = j->ndim - 1;
  int scalars = 0;
  for (int i = 0; i < j->nin; i++) {
    const int64_t st = j->in[i].strides[last];
    if (j->in[i].dtype != CMX_F32 || (st != 0 && st != 1)) return 0;
    scalars += st == 0;
  }
  if (j->nin == 1 && scalars) return 0; /* the broadcast value path */
  if (j->out_dtype == CMX_F32) return 1;
  return (j->out_dtype == CMX_F16 || j->out_dtype == CMX_BF16) &&
         j->op == CMX_EW_identity && !scalars;
}

/* Below this many elements a transposed input's strided walk stays in
 * cache. */
#define TILED_MIN (1 << 16)

unsigned cmx_ew_tiled_inputs(const struct cmx_ew_operand *in, int nin,
                             const int64_t *shape, int ndim,
                             const struct cmx_ew_kernels *k) {
  struct job j;
  size_t total;
  j.nin = nin;
  j.k = *k;
  j.ndim = collapse(in, nin, shape, ndim, j.in, j.shape, &total);
  unsigned m = 0;
  for (int i = 0; i < nin && total >= TILED_MIN; i++)
    if (tiled_in(&j, i)) m |= 1u << i;
  return m;
}

void cmx_ew_run(enum cmx_ew_op op, const struct cmx_ew_operand *in,
                void *out, cmx_dtype out_dtype, cmx_dtype compute,
                const int64_t *shape, int ndim,
                const struct cmx_ew_kernels *k, int nthreads, int last) {
  /* Fields set one by one: collapse fills in[] and shape[] up to ndim,
   * and zeroing the rest of the 0.3 KB was a tenth of the driver's cost
   * on a small op. */
  struct job j;
  j.op = op;
  j.nin = cmx_ew_info[op].arity;
  j.out = out;
  j.out_dtype = out_dtype;
  j.compute = compute;
  j.k = *k;
  j.fetch = k->stream && cmx_ew_info[op].light && cmx_knob(&g_fetch) != 0;
  size_t total;
  j.ndim = collapse(in, j.nin, shape, ndim, j.in, j.shape, &total);
  if (total == 0) return;
  j.tile = direct_job(&j) ? DIRECT_TILE : TILE;
  for (int i = 0; i < j.nin && j.ndim >= 2 && total >= TILED_MIN; i++)
    if (tiled_in(&j, i)) {
      const size_t rows = (size_t)j.shape[j.ndim - 2];
      const size_t nb = total / (rows * (size_t)j.shape[j.ndim - 1]) *
                        ((rows + TR_ROWS - 1) / TR_ROWS);
      cmx_parallel_for_async(nthreads, nb, 1, 1, run_tiled, &j,
                             last ? sizeof j : 0);
      return;
    }
  /* Threads split at 64-element boundaries: whole cache lines of f32 out. */
  cmx_parallel_for_async(nthreads, total, 64,
                         split_grain(!cmx_ew_info[op].light), run_range, &j,
                         last ? sizeof j : 0);
}

/* ---- fused chains (cmx_ew_fused_run) ---- */
/* Fused steps keep their results in at most 8 tiles of 512 floats, 16 KiB,
 * a third of L1d, beside the inputs' tiles. GELU as 9 ops, 16M elements, 1
 * thread: one tile per step of 256 floats 9.6 ms; 512-float tiles reused
 * in place 8.1 ms (the gelu_tanh op: 3.3 ms; the 9 ops unfused 28.6). */
#define FTILE 512

struct fjob {
  const struct cmx_ew_prog *prog; /* the node's, alive until its fence */
  struct cmx_ew_operand in[CMX_EW_PROG_IN];
  char *out;
  int ndim;
  int64_t shape[CMX_MAX_DIMS];
  const cmx_f32_vunary_ukr_fn *vunary;
  const cmx_f32_vbinary_ukr_fn *vbinary;
  const cmx_cvt_ukr_fn *cvt;
  cmx_x32_stream_ukr_fn stream;
};

/* One chunk of a fused chain: the same loads and microkernel calls as
 * chunk_f32 makes for each op alone, so the result is bitwise the
 * unfused one, without the intermediates' round trips through memory. */
static void fused_chunk(const void *ctx, const char **p, const int64_t *s,
                        size_t n, size_t pos) {
  const struct fjob *j = ctx;
  const struct cmx_ew_prog *pr = j->prog;
  _Alignas(64) float reg[CMX_EW_PROG_REGS][FTILE];
  _Alignas(64) float tin[CMX_EW_PROG_IN][FTILE];
  float scal[CMX_EW_PROG_IN];
  const float *x[CMX_EW_PROG_IN];
  size_t xs[CMX_EW_PROG_IN];
  struct cmx_ew_kernels k = {.cvt = j->cvt};
  for (int i = 0; i < pr->nin; i++) {
    if (s[i] == 0) {
      load_f32(&k, p[i], j->in[i].dtype, 0, 1, &scal[i]);
      x[i] = &scal[i];
      xs[i] = 0;
    } else if (j->in[i].dtype == CMX_F32 && s[i] == 1) {
      x[i] = (const float *)p[i];
      xs[i] = 1;
    } else {
      load_f32(&k, p[i], j->in[i].dtype, s[i], n, tin[i]);
      x[i] = tin[i];
      xs[i] = 1;
    }
  }
  const cmx_dtype odt = (cmx_dtype)pr->step[pr->nsteps - 1].dt;
  char *out = j->out + pos * cmx_dtype_size(odt);
  int lastst = pr->nsteps - 1;
  for (int t = 0; t <= lastst; t++) {
    const struct cmx_ew_step *st = &pr->step[t];
    float *y = t == lastst && !j->stream && odt == CMX_F32 ? (float *)out
                                                            : reg[st->r];
    const float *a = st->a < CMX_EW_PROG_IN
                         ? x[st->a]
                         : reg[pr->step[st->a - CMX_EW_PROG_IN].r];
    size_t sa = st->a < CMX_EW_PROG_IN ? xs[st->a] : 1;
    int slot = cmx_ew_info[st->op].slot;
    if (cmx_ew_info[st->op].arity == 1 && sa == 0) {
      float v = a[0];
      j->vunary[slot](1, &v, &v);
      for (size_t i = 0; i < n; i++) y[i] = v;
    } else if (cmx_ew_info[st->op].arity == 1) {
      j->vunary[slot](n, a, y);
    } else {
      const float *b = st->b < CMX_EW_PROG_IN
                           ? x[st->b]
                           : reg[pr->step[st->b - CMX_EW_PROG_IN].r];
      size_t sb = st->b < CMX_EW_PROG_IN ? xs[st->b] : 1;
      j->vbinary[slot](n, a, sa, b, sb, y);
    }
    if (st->dt == CMX_F32) continue;
    /* f16 / bf16: stored as the op stores; read back as the next op loads */
    int bf = st->dt == CMX_BF16;
    if (t == lastst) {
      j->cvt[bf ? CMX_CVT_F32_BF16 : CMX_CVT_F32_F16](n, y, out);
    } else {
      _Alignas(64) uint16_t h[FTILE];
      j->cvt[bf ? CMX_CVT_F32_BF16 : CMX_CVT_F32_F16](n, y, h);
      j->cvt[bf ? CMX_CVT_BF16_F32 : CMX_CVT_F16_F32](n, h, y);
    }
  }
  if (j->stream) j->stream(n, reg[pr->step[lastst].r], out);
}

static void fused_range(void *ctx, size_t begin, size_t end) {
  const struct fjob *j = ctx;
  walk(j->shape, j->ndim, j->in, j->prog->nin, begin, end, FTILE,
       fused_chunk, j);
  if (j->stream) atomic_thread_fence(memory_order_seq_cst);
}

void cmx_ew_fused_run(const struct cmx_ew_prog *prog,
                      const struct cmx_ew_operand *in, void *out,
                      const int64_t *shape, int ndim,
                      const cmx_f32_vunary_ukr_fn *vunary,
                      const cmx_f32_vbinary_ukr_fn *vbinary,
                      const cmx_cvt_ukr_fn *cvt,
                      cmx_x32_stream_ukr_fn stream, int nthreads, int last) {
  struct fjob j = {.prog = prog, .out = out, .vunary = vunary,
                   .vbinary = vbinary, .cvt = cvt, .stream = stream};
  size_t total;
  j.ndim = collapse(in, prog->nin, shape, ndim, j.in, j.shape, &total);
  if (total == 0) return;
  _Static_assert(sizeof j <= 512, "an async job's context is at most 512 B");
  int heavy = 0;
  for (int i = 0; i < prog->nsteps; i++)
    heavy |= !cmx_ew_info[prog->step[i].op].light;
  cmx_parallel_for_async(nthreads, total, 64, split_grain(heavy), fused_range,
                         &j, last ? sizeof j : 0);
}

void cmx_ew_store_f64(const cmx_cvt_ukr_fn *cvt, const double *x, size_t n,
                      cmx_dtype d, void *dst) {
  struct cmx_ew_kernels k = {.cvt = cvt};
  size_t esz = cmx_dtype_size(d);
  for (size_t i = 0; i < n; i += TILE)
    store_f64(&k, x + i, n - i < TILE ? n - i : TILE, d, (char *)dst + i * esz);
}

void cmx_ew_store_i64(const cmx_cvt_ukr_fn *cvt, const int64_t *x, size_t n,
                      cmx_dtype d, void *dst) {
  struct cmx_ew_kernels k = {.cvt = cvt};
  size_t esz = cmx_dtype_size(d);
  for (size_t i = 0; i < n; i += TILE)
    store_i64(&k, x + i, n - i < TILE ? n - i : TILE, d, (char *)dst + i * esz);
}
