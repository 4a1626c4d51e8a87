/* Elementwise ops against float64 references written here: every unary and
 * binary op and where, for f32 at odd sizes and for f16/bf16/f64 and the
 * integer and bool dtypes where meaningful; transposed, step-2 and
 * negative-step views and broadcast inputs; NumPy/MLX type promotion and
 * result dtypes; integer division by zero; NaN in maximum/minimum. */
#include "test-util.h"

typedef int (*unop_fn)(cmx_array *, cmx_array, cmx_stream);
typedef int (*binop_fn)(cmx_array *, cmx_array, cmx_array, cmx_stream);

static double r_sign(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }
static double r_neg(double x) { return -x; }
static double r_rsqrt(double x) { return 1.0 / sqrt(x); }
static double r_square(double x) { return x * x; }
static double r_recip(double x) { return 1.0 / x; }
static double r_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double r_gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }
static double r_gelu_tanh(double x) {
  return 0.5 * x *
         (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}
static double r_silu(double x) { return x / (1.0 + exp(-x)); }
static double r_relu(double x) { return x > 0 ? x : 0.0; }

/* ulp: f32 bound; atol: absolute slack where cancellation makes ulp
 * meaningless (tiny results of gelu etc.); flt: result is float for
 * integer inputs. */
struct unop {
  const char *name;
  unop_fn fn;
  double (*ref)(double);
  double lo, hi;
  int ulp;
  double atol;
  int flt;
};
static const struct unop UNOPS[] = {
    {"abs", cmx_abs, fabs, -10, 10, 0, 0, 0},
    {"neg", cmx_neg, r_neg, -10, 10, 0, 0, 0},
    {"sign", cmx_sign, r_sign, -3, 3, 0, 0, 0},
    {"exp", cmx_exp, exp, -20, 20, 4, 0, 1},
    {"expm1", cmx_expm1, expm1, -5, 5, 4, 1e-30, 1},
    {"log", cmx_log, log, 0.01, 100, 4, 1e-7, 1},
    {"log1p", cmx_log1p, log1p, -0.9, 10, 4, 1e-30, 1},
    {"sqrt", cmx_sqrt, sqrt, 0, 100, 1, 0, 1},
    {"rsqrt", cmx_rsqrt, r_rsqrt, 0.01, 100, 2, 0, 1},
    {"square", cmx_square, r_square, -10, 10, 0, 0, 0},
    {"reciprocal", cmx_reciprocal, r_recip, 0.05, 10, 1, 0, 1},
    {"sin", cmx_sin, sin, -10, 10, 4, 1e-7, 1},
    {"cos", cmx_cos, cos, -10, 10, 4, 1e-7, 1},
    {"tanh", cmx_tanh, tanh, -8, 8, 4, 1e-8, 1},
    {"sigmoid", cmx_sigmoid, r_sigmoid, -20, 20, 4, 1e-9, 1},
    {"erf", cmx_erf, erf, -4, 4, 4, 1e-8, 1},
    {"gelu", cmx_gelu, r_gelu, -6, 6, 4, 2e-6, 1},
    {"gelu_tanh", cmx_gelu_tanh, r_gelu_tanh, -6, 6, 4, 2e-6, 1},
    {"silu", cmx_silu, r_silu, -20, 20, 4, 2e-6, 1},
    {"relu", cmx_relu, r_relu, -10, 10, 0, 0, 0},
    {"floor", cmx_floor, floor, -10, 10, 0, 0, 2},
    {"ceil", cmx_ceil, ceil, -10, 10, 0, 0, 2},
    {"round", cmx_round, nearbyint, -10, 10, 0, 0, 2},
};
#define N_UNOPS (sizeof UNOPS / sizeof UNOPS[0])

/* got vs float64 ref for dtype t (t is the result dtype). */
static int close_for(cmx_dtype t, double got, double ref, int ulp,
                     double atol) {
  if (isnan(ref) || isnan(got)) return isnan(ref) && isnan(got);
  if (t == CMX_F32) {
    if (fabs(got - ref) <= atol) return 1;
    return tu_ulp_f32((float)got, (float)ref) <= ulp;
  }
  if (t == CMX_F64)
    return fabs(got - ref) <= atol * 1e-6 + (ulp ? 1e-13 : 1e-16) * fabs(ref);
  if (t == CMX_F16 || t == CMX_BF16) /* one ulp of the format */
    return fabs(got - ref) <= 2.02 * tu_eps(t) * fabs(ref) + atol + 1e-7;
  return got == ref;
}

/* Input kinds for 2-D (r, c) operands: the array and its float64 values. */
enum { K_CONTIG, K_T, K_STEP2, K_NEG, K_NEG2, K_BCAST, K_COUNT };
static const char *KNAME[] = {"contig", "transposed", "step2", "negstep",
                              "negstep2", "bcast"};

static void make_input(int kind, cmx_dtype t, int64_t r, int64_t c,
                       double lo, double hi, uint64_t seed, cmx_array *out,
                       double *ref) {
  int64_t bs[2];
  switch (kind) {
  case K_T: bs[0] = c; bs[1] = r; break;
  case K_STEP2: bs[0] = 2 * r; bs[1] = 2 * c + 1; break;
  case K_NEG2: bs[0] = 2 * r + 1; bs[1] = c; break;
  case K_BCAST: bs[0] = 1; bs[1] = c; break;
  default: bs[0] = r; bs[1] = c;
  }
  double *bv = malloc((size_t)(bs[0] * bs[1]) * sizeof(double));
  tu_rand(bv, bs[0] * bs[1], t, lo, hi, seed);
  cmx_array base;
  TU_OK(tu_array(&base, bv, t, bs, 2));
  tu_view v = tu_view_contig(bs, 2);
  if (kind == K_CONTIG) {
    *out = cmx_array_retain(base);
  } else if (kind == K_T) {
    TU_OK(cmx_transpose(out, base, NULL, 0, NULL));
    v = tu_view_T(v, NULL);
  } else if (kind == K_STEP2) {
    int64_t b[2] = {0, 1}, e[2] = {2 * r, 2 * c + 1}, st[2] = {2, 2};
    TU_OK(cmx_slice(out, base, b, e, st, 2, NULL));
    v = tu_view_slice(v, b, e, st);
  } else if (kind == K_NEG) {
    int64_t b[2] = {r - 1, c - 1}, e[2] = {-r - 1, -c - 1}, st[2] = {-1, -1};
    TU_OK(cmx_slice(out, base, NULL, NULL, st, 2, NULL));
    v = tu_view_slice(v, b, e, st);
  } else if (kind == K_NEG2) {
    int64_t b[2] = {2 * r, 0}, e[2] = {0, c}, st[2] = {-2, 1};
    TU_OK(cmx_slice(out, base, b, e, st, 2, NULL));
    v = tu_view_slice(v, b, e, st);
  } else {
    int64_t sh[2] = {r, c};
    TU_OK(cmx_broadcast_to(out, base, sh, 2, NULL));
    v = tu_view_bcast(v, sh, 2);
  }
  int64_t want[2] = {r, c};
  tu_assert_shape(*out, want, 2);
  tu_view_gather(&v, bv, ref);
  cmx_array_free(base);
  free(bv);
}

static void check_unop(const struct unop *u, cmx_array x, const double *xv,
                       int64_t n, cmx_dtype tin, const char *ctx) {
  cmx_array y;
  TU_OK(u->fn(&y, x, NULL));
  cmx_dtype want = tu_is_float(tin) ? tin : (u->flt == 1 ? CMX_F32 : tin);
  if (u->flt == 2 && !tu_is_float(tin) && cmx_array_dtype(y) == CMX_F32)
    want = CMX_F32; /* floor/ceil/round of integers: identity, any dtype */
  cr_assert_eq(cmx_array_dtype(y), want, "%s %s: dtype %s want %s", u->name,
               ctx, cmx_dtype_name(cmx_array_dtype(y)), cmx_dtype_name(want));
  cr_assert_eq(cmx_array_size(y), n);
  double *got = malloc((size_t)n * sizeof(double));
  tu_read(y, got);
  for (int64_t i = 0; i < n; i++) {
    double ref = u->ref(xv[i]);
    cr_assert(close_for(want, got[i], ref, u->ulp, u->atol),
              "%s %s %s n=%lld: [%lld] x=%.9g got %.9g want %.9g", u->name,
              cmx_dtype_name(tin), ctx, (long long)n, (long long)i, xv[i],
              got[i], ref);
  }
  free(got);
  cmx_array_free(y);
}

static void unop_1d(const struct unop *u, cmx_dtype t, int64_t n,
                    uint64_t seed) {
  double *xv = malloc((size_t)n * sizeof(double));
  tu_rand(xv, n, t, u->lo, u->hi, seed);
  if (n >= 7 && tu_is_float(t) && u->atol == 1e-30) { /* tiny args */
    xv[1] = tu_quant(t, 1e-5);
    xv[2] = tu_quant(t, -3e-4);
    xv[3] = tu_quant(t, 2.5e-7);
  }
  cmx_array x;
  TU_OK(tu_array(&x, xv, t, &n, 1));
  check_unop(u, x, xv, n, t, "1-D");
  cmx_array_free(x);
  free(xv);
}

/* 40009: split across the team, and in-place chunks (elementwise.c,
 * direct_job) of more than one DIRECT_TILE with a ragged end. */
Test(ops_unary, f32_all_ops_odd_sizes) {
  static const int64_t sizes[] = {1, 7, 17, 1023, 4099, 40009};
  for (size_t o = 0; o < N_UNOPS; o++)
    for (int s = 0; s < 6; s++) unop_1d(&UNOPS[o], CMX_F32, sizes[s], o * 31 + s);
}

Test(ops_unary, f16_bf16_f64_all_ops) {
  static const cmx_dtype ts[] = {CMX_F16, CMX_BF16, CMX_F64};
  for (size_t o = 0; o < N_UNOPS; o++)
    for (int t = 0; t < 3; t++) {
      if (ts[t] == CMX_F16 && UNOPS[o].hi > 11) continue; /* exp overflow */
      unop_1d(&UNOPS[o], ts[t], 17, o);
      unop_1d(&UNOPS[o], ts[t], 1023, o + 100);
    }
}

Test(ops_unary, integer_and_bool_inputs) {
  static const cmx_dtype ts[] = {CMX_I32, CMX_I8, CMX_U8, CMX_I64};
  for (size_t o = 0; o < N_UNOPS; o++) {
    const struct unop *u = &UNOPS[o];
    for (int t = 0; t < 4; t++) {
      double lo = ts[t] == CMX_U8 ? 0 : -9, hi = 10;
      if (u->lo > 0 || u->lo == -0.9) lo = 1; /* log, sqrt: positive */
      if (!u->flt && ts[t] == CMX_U8 && u->fn != cmx_abs &&
          u->fn != cmx_square && u->fn != cmx_relu)
        continue; /* neg/sign of unsigned: wraps, not specified */
      struct unop v = *u;
      v.lo = lo;
      v.hi = hi;
      unop_1d(&v, ts[t], 17, o + 7);
    }
  }
  /* Float ops on bool give float32. */
  double bv[5] = {1, 0, 1, 1, 0};
  int64_t n = 5;
  cmx_array b, y;
  TU_OK(tu_array(&b, bv, CMX_BOOL, &n, 1));
  TU_OK(cmx_exp(&y, b, NULL));
  cr_assert_eq(cmx_array_dtype(y), CMX_F32);
  double got[5];
  tu_read(y, got);
  for (int i = 0; i < 5; i++)
    cr_assert(close_for(CMX_F32, got[i], exp(bv[i]), 4, 0), "exp(bool)");
  cmx_array_free(y);
  TU_OK(cmx_logical_not(&y, b, NULL));
  cr_assert_eq(cmx_array_dtype(y), CMX_BOOL);
  tu_read(y, got);
  for (int i = 0; i < 5; i++) cr_assert_eq(got[i], bv[i] ? 0.0 : 1.0);
  cmx_array_free(y);
  cmx_array_free(b);
  /* logical_not of 37 bool bytes given raw (eight at a time, then the
   * tail): any nonzero byte is true, the result bytes are 0 / 1 */
  unsigned char raw[37], out[37];
  for (int i = 0; i < 37; i++)
    raw[i] = (unsigned char)(i % 5 == 0 ? 0 : i % 5 == 1 ? 1 : i * 37);
  int64_t n37 = 37;
  TU_OK(cmx_array_from_data(&b, raw, CMX_BOOL, &n37, 1));
  TU_OK(cmx_logical_not(&y, b, NULL));
  TU_OK(cmx_array_read(y, out, sizeof out));
  for (int i = 0; i < 37; i++)
    cr_assert_eq(out[i], raw[i] == 0, "logical_not byte %d (%d): %d", i,
                 raw[i], out[i]);
  cmx_array_free(y);
  cmx_array_free(b);
}

Test(ops_unary, noncontiguous_and_broadcast_views) {
  for (int k = 0; k < K_COUNT; k++)
    for (size_t o = 0; o < N_UNOPS; o++) {
      int64_t r = 5, c = 7;
      double ref[35];
      cmx_array x;
      make_input(k, CMX_F32, r, c, UNOPS[o].lo, UNOPS[o].hi, o * 5 + k, &x,
                 ref);
      check_unop(&UNOPS[o], x, ref, r * c, CMX_F32, KNAME[k]);
      cmx_array_free(x);
    }
  for (int k = 0; k < K_COUNT; k++) { /* f16 through the views too */
    double ref[35];
    cmx_array x;
    make_input(k, CMX_F16, 5, 7, -5, 5, k, &x, ref);
    check_unop(&UNOPS[3], x, ref, 35, CMX_F16, KNAME[k]);
    cmx_array_free(x);
  }
}

Test(ops_unary, special_values) {
  double xv[] = {2.5, -2.5, 0.5, -0.5, 1.5, 3.5, -0.0, INFINITY, -INFINITY,
                 NAN};
  int64_t n = 10;
  cmx_array x, y;
  TU_OK(tu_array(&x, xv, CMX_F32, &n, 1));
  double got[10];
  TU_OK(cmx_round(&y, x, NULL)); /* half to even, as NumPy/MLX */
  tu_read(y, got);
  for (int i = 0; i < 7; i++)
    cr_assert_eq(got[i], nearbyint(xv[i]), "round(%g) = %g", xv[i], got[i]);
  cmx_array_free(y);
  TU_OK(cmx_exp(&y, x, NULL));
  tu_read(y, got);
  cr_assert(isinf(got[7]) && got[7] > 0 && got[8] == 0.0 && isnan(got[9]),
            "exp(inf, -inf, nan) = %g %g %g", got[7], got[8], got[9]);
  cmx_array_free(y);
  TU_OK(cmx_sqrt(&y, x, NULL));
  tu_read(y, got);
  cr_assert(isnan(got[1]) && isnan(got[9]) && got[6] == 0.0 && isinf(got[7]),
            "sqrt(-2.5)=%g sqrt(nan)=%g sqrt(-0)=%g", got[1], got[9], got[6]);
  cmx_array_free(y);
  TU_OK(cmx_tanh(&y, x, NULL));
  tu_read(y, got);
  cr_assert(got[7] == 1.0 && got[8] == -1.0 && isnan(got[9]));
  cmx_array_free(y);
  TU_OK(cmx_sigmoid(&y, x, NULL));
  tu_read(y, got);
  cr_assert(got[7] == 1.0 && got[8] == 0.0 && isnan(got[9]));
  cmx_array_free(y);
  cmx_array_free(x);
}

/* ---- binary ------------------------------------------------------------- */
enum { B_ARITH, B_CMP, B_LOGIC };
static double b_add(double a, double b) { return a + b; }
static double b_sub(double a, double b) { return a - b; }
static double b_mul(double a, double b) { return a * b; }
static double b_div(double a, double b) { return a / b; }
static double b_max(double a, double b) {
  return isnan(a) || isnan(b) ? NAN : (a > b ? a : b);
}
static double b_min(double a, double b) {
  return isnan(a) || isnan(b) ? NAN : (a < b ? a : b);
}
static double b_rem(double a, double b) {
  if (b == 0) return 0;
  double r = fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
static double b_fdiv(double a, double b) { return b == 0 ? 0 : floor(a / b); }
static double b_eq(double a, double b) { return a == b; }
static double b_ne(double a, double b) { return a != b; }
static double b_lt(double a, double b) { return a < b; }
static double b_le(double a, double b) { return a <= b; }
static double b_gt(double a, double b) { return a > b; }
static double b_ge(double a, double b) { return a >= b; }
static double b_and(double a, double b) { return a != 0 && b != 0; }
static double b_or(double a, double b) { return a != 0 || b != 0; }

/* b_pow2: b drawn from +-{0.25..4} so remainder/floor_divide are exact. */
struct binop {
  const char *name;
  binop_fn fn;
  double (*ref)(double, double);
  int kind, ulp, b_pow2, b_pos;
};
static const struct binop BINOPS[] = {
    {"add", cmx_add, b_add, B_ARITH, 0, 0, 0},
    {"subtract", cmx_subtract, b_sub, B_ARITH, 0, 0, 0},
    {"multiply", cmx_multiply, b_mul, B_ARITH, 0, 0, 0},
    {"divide", cmx_divide, b_div, B_ARITH, 0, 0, 1},
    {"maximum", cmx_maximum, b_max, B_ARITH, 0, 0, 0},
    {"minimum", cmx_minimum, b_min, B_ARITH, 0, 0, 0},
    {"power", cmx_power, pow, B_ARITH, 16, 0, 0},
    {"remainder", cmx_remainder, b_rem, B_ARITH, 0, 1, 0},
    {"floor_divide", cmx_floor_divide, b_fdiv, B_ARITH, 0, 1, 0},
    {"equal", cmx_equal, b_eq, B_CMP, 0, 0, 0},
    {"not_equal", cmx_not_equal, b_ne, B_CMP, 0, 0, 0},
    {"less", cmx_less, b_lt, B_CMP, 0, 0, 0},
    {"less_equal", cmx_less_equal, b_le, B_CMP, 0, 0, 0},
    {"greater", cmx_greater, b_gt, B_CMP, 0, 0, 0},
    {"greater_equal", cmx_greater_equal, b_ge, B_CMP, 0, 0, 0},
    {"logical_and", cmx_logical_and, b_and, B_LOGIC, 0, 0, 0},
    {"logical_or", cmx_logical_or, b_or, B_LOGIC, 0, 0, 0},
};
#define N_BINOPS (sizeof BINOPS / sizeof BINOPS[0])

/* Operand values for op o and dtype t; a few equal pairs for comparisons. */
static void bin_values(const struct binop *op, cmx_dtype t, double *a,
                       double *b, int64_t n, uint64_t seed) {
  int is_int = !tu_is_float(t) && t != CMX_BOOL;
  double lo = t == CMX_U8 ? 0 : -10, hi = 10;
  if (op->fn == cmx_power) lo = is_int ? 0 : 0.1, hi = is_int ? 5 : 4;
  tu_rand(a, n, t, lo, hi, seed);
  tu_rand(b, n, t, op->fn == cmx_power ? (is_int ? 0 : -3) : lo,
          op->fn == cmx_power ? 4 : hi, seed + 1000);
  uint64_t s = seed;
  for (int64_t i = 0; i < n; i++) {
    if (op->b_pos && b[i] == 0) b[i] = 1;
    if (op->b_pow2 && tu_is_float(t)) {
      double p = ldexp(1.0, (int)(tu_next(&s) % 5) - 2);
      b[i] = (tu_next(&s) & 1) ? -p : p;
    } else if (op->b_pow2 && b[i] == 0) {
      b[i] = t == CMX_U8 ? 3 : -3;
    }
    if (op->kind == B_CMP && i % 3 == 0) b[i] = a[i];
  }
}

/* Expected value of op for operands already in dtype t, result dtype rt. */
static double bin_ref(const struct binop *op, cmx_dtype t, cmx_dtype rt,
                      double a, double b) {
  double r = op->ref(a, b);
  if (op->kind != B_ARITH) return r;
  if (!tu_is_float(rt) && rt != CMX_BOOL) { /* wrap as C integer casts */
    int64_t w = (int64_t)r;
    switch (rt) {
    case CMX_I8: return (int8_t)w;
    case CMX_U8: return (uint8_t)w;
    case CMX_I16: return (int16_t)w;
    case CMX_I32: return (int32_t)w;
    case CMX_U32: return (uint32_t)w;
    default: return (double)w;
    }
  }
  (void)t;
  return r;
}

static void check_binop(const struct binop *op, cmx_array a, cmx_array b,
                        const double *av, const double *bv, int64_t n,
                        cmx_dtype t, const char *ctx) {
  cmx_array y;
  TU_OK(op->fn(&y, a, b, NULL));
  cmx_dtype rt = op->kind != B_ARITH ? CMX_BOOL
                 : (op->fn == cmx_divide && !tu_is_float(t)) ? CMX_F32
                                                              : t;
  cr_assert_eq(cmx_array_dtype(y), rt, "%s(%s) %s: dtype %s want %s",
               op->name, cmx_dtype_name(t), ctx,
               cmx_dtype_name(cmx_array_dtype(y)), cmx_dtype_name(rt));
  cr_assert_eq(cmx_array_size(y), n, "%s %s size", op->name, ctx);
  double *got = malloc((size_t)n * sizeof(double));
  tu_read(y, got);
  for (int64_t i = 0; i < n; i++) {
    double ref = bin_ref(op, t, rt, av[i], bv[i]);
    cr_assert(close_for(rt, got[i], ref, op->ulp, 0),
              "%s(%s) %s n=%lld: [%lld] %.9g, %.9g -> %.9g want %.9g",
              op->name, cmx_dtype_name(t), ctx, (long long)n, (long long)i,
              av[i], bv[i], got[i], ref);
  }
  free(got);
  cmx_array_free(y);
}

static void binop_1d(const struct binop *op, cmx_dtype t, int64_t n,
                     uint64_t seed) {
  double *av = malloc((size_t)n * sizeof(double) * 2), *bv = av + n;
  bin_values(op, t, av, bv, n, seed);
  cmx_array a, b;
  TU_OK(tu_array(&a, av, t, &n, 1));
  TU_OK(tu_array(&b, bv, t, &n, 1));
  check_binop(op, a, b, av, bv, n, t, "1-D");
  cmx_array_free(a);
  cmx_array_free(b);
  free(av);
}

Test(ops_binary, f32_all_ops_odd_sizes) {
  static const int64_t sizes[] = {1, 7, 17, 1023, 4099, 40009};
  for (size_t o = 0; o < N_BINOPS; o++)
    for (int s = 0; s < 6; s++) binop_1d(&BINOPS[o], CMX_F32, sizes[s], o * 7 + s);
}

Test(ops_binary, other_dtypes) {
  static const cmx_dtype ts[] = {CMX_F16, CMX_BF16, CMX_F64, CMX_I32,
                                 CMX_I8,  CMX_U8,   CMX_I64, CMX_I16};
  for (size_t o = 0; o < N_BINOPS; o++)
    for (int t = 0; t < 8; t++) {
      binop_1d(&BINOPS[o], ts[t], 17, o * 3 + t);
      binop_1d(&BINOPS[o], ts[t], 1023, o * 3 + t + 50);
    }
}

/* add, subtract, multiply, maximum, minimum, floor_divide, remainder and
 * the comparisons of integers run in their own type (a loop per type):
 * every pair of edge values, whole arrays and against a broadcast scalar
 * either side, wraps as two's complement does (the value modulo 2^bits),
 * bit for bit; the comparisons give bool. */
static int64_t wrap_to(cmx_dtype t, uint64_t v) {
  switch (t) {
    case CMX_U8: return (uint8_t)v;
    case CMX_I8: return (int8_t)v;
    case CMX_I16: return (int16_t)v;
    case CMX_I32: return (int32_t)v;
    case CMX_U32: return (uint32_t)v;
    default: return (int64_t)v;
  }
}
static void int_store(cmx_dtype t, void *p, size_t i, int64_t v) {
  switch (t) {
    case CMX_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case CMX_I8: ((int8_t *)p)[i] = (int8_t)v; break;
    case CMX_I16: ((int16_t *)p)[i] = (int16_t)v; break;
    case CMX_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case CMX_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    default: ((int64_t *)p)[i] = v;
  }
}
static int64_t int_load(cmx_dtype t, const void *p, size_t i) {
  switch (t) {
    case CMX_U8: return ((const uint8_t *)p)[i];
    case CMX_I8: return ((const int8_t *)p)[i];
    case CMX_I16: return ((const int16_t *)p)[i];
    case CMX_I32: return ((const int32_t *)p)[i];
    case CMX_U32: return ((const uint32_t *)p)[i];
    default: return ((const int64_t *)p)[i];
  }
}

/* Integer type t's width in bits, signedness and eleven edge values: its
 * minimum and maximum and their neighbours, -1 (2 unsigned), 0, 1, 3,
 * about half the maximum and the minimum, and -7 (7). */
static void int_edges(cmx_dtype t, int64_t *ev, int *bits_out, int *sgn_out) {
  const int bits = t == CMX_U8 || t == CMX_I8 ? 8
                   : t == CMX_I16             ? 16
                   : t == CMX_I64             ? 64
                                              : 32;
  const int sgn = t != CMX_U8 && t != CMX_U32;
  const uint64_t top = bits == 64 ? ~0ull : (1ull << bits) - 1;
  const int64_t hi = sgn ? (int64_t)(top >> 1) : (int64_t)top,
                lo = sgn ? -hi - 1 : 0;
  const int64_t e[11] = {lo, lo + 1, sgn ? -1 : 2, 0, 1, 3,
                         hi - 1, hi, hi / 2 + 1, sgn ? lo / 2 - 1 : 5,
                         sgn ? -7 : 7};
  memcpy(ev, e, sizeof e);
  *bits_out = bits, *sgn_out = sgn;
}

/* floor_divide (rem 0) and remainder of integers, Python's signs: x / 0
 * gives 0, x / -1 gives -x wrapped and remainder 0 */
static int64_t int_div_ref(cmx_dtype t, int64_t x, int64_t z, int rem) {
  if (z == 0) return 0;
  if (z == -1) return rem ? 0 : wrap_to(t, 0 - (uint64_t)x);
  int64_t q = x / z, r = x % z;
  if (r != 0 && ((r < 0) != (z < 0))) q--, r += z;
  return rem ? r : q;
}

Test(ops_binary, integer_wraparound) {
  static const cmx_dtype ts[] = {CMX_U8, CMX_I8, CMX_I16,
                                 CMX_I32, CMX_U32, CMX_I64};
  int (*const fns[13])(cmx_array *, cmx_array, cmx_array, cmx_stream) = {
      cmx_add,   cmx_subtract,   cmx_multiply,   cmx_maximum,
      cmx_minimum, cmx_equal,    cmx_not_equal,  cmx_less,
      cmx_less_equal, cmx_greater, cmx_greater_equal, cmx_floor_divide,
      cmx_remainder};
  for (int ti = 0; ti < 6; ti++) {
    const cmx_dtype t = ts[ti];
    int bits, sgn;
    int64_t ev[11];
    int_edges(t, ev, &bits, &sgn);
    enum { E = 11, N = E * E };
    const size_t es = (size_t)bits / 8;
    char *a = malloc(N * es), *b = malloc(N * es), *got = malloc(N * es);
    for (int i = 0; i < N; i++) {
      int_store(t, a, (size_t)i, ev[i / E]);
      int_store(t, b, (size_t)i, ev[i % E]);
    }
    const int64_t sh = N;
    cmx_array xa, xb, sb;
    TU_OK(cmx_array_from_data(&xa, a, t, &sh, 1));
    TU_OK(cmx_array_from_data(&xb, b, t, &sh, 1));
    for (int f = 0; f < 13; f++)
      for (int form = 0; form < 3; form++) /* whole, a op s, s op b */
        for (int k = 0; k < (form ? E : 1); k++) {
          cmx_array y;
          const char *sv = form == 1 ? b + k * es : a + k * E * es;
          TU_OK(cmx_array_from_data(&sb, sv, t, NULL, 0));
          TU_OK(fns[f](&y, form == 2 ? sb : xa, form == 1 ? sb : xb, NULL));
          const int same = f < 5 || f > 10; /* the result in t */
          const cmx_dtype yt = same ? t : CMX_BOOL;
          cr_assert_eq(cmx_array_dtype(y), yt);
          TU_OK(cmx_array_read(y, got, N * (same ? es : 1)));
          for (int i = 0; i < N; i++) {
            const int64_t x = form == 2 ? ev[k] : ev[i / E],
                          z = form == 1 ? ev[k] : ev[i % E];
            const uint64_t ux = (uint64_t)x, uz = (uint64_t)z;
            const int64_t want =
                f == 0   ? wrap_to(t, ux + uz)
                : f == 1 ? wrap_to(t, ux - uz)
                : f == 2 ? wrap_to(t, ux * uz)
                : f == 3 ? (x > z ? x : z)
                : f == 4 ? (x < z ? x : z)
                : f == 5 ? x == z
                : f == 6 ? x != z
                : f == 7 ? x < z
                : f == 8 ? x <= z
                : f == 9 ? x > z
                : f == 10 ? x >= z
                          : int_div_ref(t, x, z, f == 12);
            const int64_t g = same ? int_load(t, got, (size_t)i)
                                   : ((const uint8_t *)got)[i];
            cr_assert_eq(g, want,
                         "dtype %d op %d form %d: %lld, %lld -> %lld, want "
                         "%lld", (int)t, f, form, (long long)x, (long long)z,
                         (long long)g, (long long)want);
          }
          cmx_array_free(y);
          cmx_array_free(sb);
        }
    cmx_array_free(xa), cmx_array_free(xb);
    free(a), free(b), free(got);
  }
}

/* abs, neg, sign, square and relu of integers run in their own type:
 * the edge values (the minimum, whose abs and neg wrap to itself) over
 * 100 elements (whole vector blocks and a tail), bit for bit against
 * two's complement; neg and sign of the unsigned types are left out
 * (unspecified). */
Test(ops_unary, integer_wraparound) {
  static const cmx_dtype ts[] = {CMX_U8, CMX_I8, CMX_I16,
                                 CMX_I32, CMX_U32, CMX_I64};
  int (*const fns[5])(cmx_array *, cmx_array, cmx_stream) = {
      cmx_abs, cmx_neg, cmx_sign, cmx_square, cmx_relu};
  for (int ti = 0; ti < 6; ti++) {
    const cmx_dtype t = ts[ti];
    int bits, sgn;
    int64_t ev[11];
    int_edges(t, ev, &bits, &sgn);
    enum { E = 11, N = 100 };
    const size_t es = (size_t)bits / 8;
    char *a = malloc(N * es), *got = malloc(N * es);
    for (int i = 0; i < N; i++) int_store(t, a, (size_t)i, ev[(i * 7) % E]);
    const int64_t sh = N;
    cmx_array xa;
    TU_OK(cmx_array_from_data(&xa, a, t, &sh, 1));
    for (int f = 0; f < 5; f++) {
      if (!sgn && (f == 1 || f == 2)) continue;
      cmx_array y;
      TU_OK(fns[f](&y, xa, NULL));
      cr_assert_eq(cmx_array_dtype(y), t);
      TU_OK(cmx_array_read(y, got, N * es));
      for (int i = 0; i < N; i++) {
        const int64_t x = ev[(i * 7) % E];
        const uint64_t ux = (uint64_t)x;
        const int64_t want = f == 0   ? (x < 0 ? wrap_to(t, 0 - ux) : x)
                             : f == 1 ? wrap_to(t, 0 - ux)
                             : f == 2 ? (x > 0) - (x < 0)
                             : f == 3 ? wrap_to(t, ux * ux)
                                      : (x > 0 ? x : 0);
        const int64_t g = int_load(t, got, (size_t)i);
        cr_assert_eq(g, want, "dtype %d op %d: %lld -> %lld, want %lld",
                     (int)t, f, (long long)x, (long long)g, (long long)want);
      }
      cmx_array_free(y);
    }
    cmx_array_free(xa);
    free(a), free(got);
  }
}

/* floor_divide and remainder of int32 and uint32 on random pairs over the
 * whole range, divisors of every magnitude (the 32-bit loops divide in
 * double: exact only if the quotient's rounding never crosses an
 * integer), against the int64 reference. */
Test(ops_binary, integer_division_random) {
  enum { N = 65537 };
  int32_t *a = malloc(N * 4), *b = malloc(N * 4), *got = malloc(N * 4);
  uint64_t st = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < N; i++) {
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    a[i] = (int32_t)(uint32_t)(st >> 32);
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    const int sh = (int)(st >> 59); /* 0..31 */
    b[i] = (int32_t)((uint32_t)(st >> 16) >> sh);
    if (st & 1) b[i] = (int32_t)(0u - (uint32_t)b[i]);
    if (i % 97 == 0) /* near multiples */
      a[i] = (int32_t)((uint32_t)b[i] * 37u - (uint32_t)(i % 3));
  }
  const int64_t n = N;
  for (int u = 0; u < 2; u++) {
    const cmx_dtype t = u ? CMX_U32 : CMX_I32;
    cmx_array xa, xb, y;
    TU_OK(cmx_array_from_data(&xa, a, t, &n, 1));
    TU_OK(cmx_array_from_data(&xb, b, t, &n, 1));
    for (int rem = 0; rem < 2; rem++) {
      TU_OK((rem ? cmx_remainder : cmx_floor_divide)(&y, xa, xb, NULL));
      TU_OK(cmx_array_read(y, got, N * 4));
      for (int i = 0; i < N; i++) {
        const int64_t x = u ? (int64_t)(uint32_t)a[i] : a[i],
                      z = u ? (int64_t)(uint32_t)b[i] : b[i];
        const int64_t want = int_div_ref(t, x, z, rem),
                      g = u ? (int64_t)(uint32_t)got[i] : got[i];
        cr_assert_eq(g, want, "%s %s: %lld, %lld -> %lld, want %lld",
                     cmx_dtype_name(t), rem ? "rem" : "fdiv", (long long)x,
                     (long long)z, (long long)g, (long long)want);
      }
      cmx_array_free(y);
    }
    cmx_array_free(xa), cmx_array_free(xb);
  }
  free(a), free(b), free(got);
}

Test(ops_binary, bool_operands) {
  static const int ok[] = {9, 10, 11, 12, 13, 14, 15, 16, 4, 5};
  for (int k = 0; k < 10; k++) binop_1d(&BINOPS[ok[k]], CMX_BOOL, 33, k);
}

Test(ops_binary, noncontiguous_operands) {
  for (size_t o = 0; o < N_BINOPS; o++)
    for (int ka = 0; ka < K_COUNT; ka++) {
      int kb = (ka * 2 + (int)o) % K_COUNT;
      int64_t r = 5, c = 9;
      double av[45], bv[45];
      cmx_array a, b;
      const struct binop *op = &BINOPS[o];
      double lo = op->fn == cmx_power ? 0.5 : -4, hi = 4;
      cmx_dtype t = op->b_pow2 ? CMX_I32 : CMX_F32; /* exact quotients */
      make_input(ka, t, r, c, lo, hi, o * 11 + ka, &a, av);
      make_input(kb, t, r, c, op->fn == cmx_power ? -2 : 0.5, 4,
                 o * 13 + kb, &b, bv);
      char ctx[64];
      snprintf(ctx, sizeof ctx, "%s x %s", KNAME[ka], KNAME[kb]);
      check_binop(op, a, b, av, bv, r * c, t, ctx);
      cmx_array_free(a);
      cmx_array_free(b);
    }
}

/* Over 64K elements an input that the output's walk would read a cache
 * line per element (transposed, or negative steps over rows) is copied in
 * order first: every view kind against a transposed one, add, multiply,
 * maximum and less, f32 and bf16 (a 2-byte element: rows of 257 are 514
 * bytes apart), and where with a transposed condition. */
Test(ops_binary, large_transposed_operands) {
  const int64_t r = 300, c = 257, n = r * c;
  double *av = malloc(sizeof(double) * (size_t)n * 4), *bv = av + n,
         *cv = bv + n, *got = cv + n;
  static const int pick[] = {0, 2, 4, 11};
  static const cmx_dtype ts[] = {CMX_F32, CMX_BF16};
  for (int ti = 0; ti < 2; ti++)
    for (int ka = 0; ka < K_COUNT; ka++)
      for (int q = 0; q < 4; q++) {
        const struct binop *op = &BINOPS[pick[q]];
        cmx_array a, b;
        make_input(ka, ts[ti], r, c, -4, 4, 900 + ka * 4 + q, &a, av);
        make_input(K_T, ts[ti], r, c, 0.5, 4, 950 + ka * 4 + q, &b, bv);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "large %s x transposed", KNAME[ka]);
        check_binop(op, a, b, av, bv, n, ts[ti], ctx);
        check_binop(op, b, a, bv, av, n, ts[ti], "large transposed x any");
        cmx_array_free(a);
        cmx_array_free(b);
      }
  cmx_array cond, a, b, y;
  make_input(K_T, CMX_BOOL, r, c, 0, 1, 990, &cond, cv);
  make_input(K_NEG, CMX_F32, r, c, -9, 9, 991, &a, av);
  make_input(K_T, CMX_F32, r, c, -9, 9, 992, &b, bv);
  TU_OK(cmx_where(&y, cond, a, b, NULL));
  tu_read(y, got);
  for (int64_t i = 0; i < n; i++)
    cr_assert_eq(got[i], cv[i] != 0 ? av[i] : bv[i], "where large [%lld]",
                 (long long)i);
  cmx_array_free(y);
  cmx_array_free(a);
  cmx_array_free(b);
  cmx_array_free(cond);
  free(av);
}

/* f on the (view) operands and on their contiguous copies (c) give the
 * same bytes; binary when b is non-NULL. */
static void same_bytes(unop_fn uf, binop_fn bf, cmx_array a, cmx_array b,
                       cmx_array ac, cmx_array bc, const char *what) {
  cmx_array y, w;
  TU_OK(b ? bf(&y, a, b, NULL) : uf(&y, a, NULL));
  TU_OK(b ? bf(&w, ac, bc, NULL) : uf(&w, ac, NULL));
  size_t nb = cmx_array_nbytes(w);
  cr_assert_eq(cmx_array_nbytes(y), nb, "%s: size", what);
  char *p = malloc(nb * 2);
  TU_OK(cmx_array_read(y, p, nb));
  TU_OK(cmx_array_read(w, p + nb, nb));
  size_t i = 0;
  while (i < nb && p[i] == p[nb + i]) i++;
  cr_assert(i == nb, "%s: byte %zu differs", what, i);
  free(p);
  cmx_array_free(y);
  cmx_array_free(w);
}
static int where_half(cmx_array *out, cmx_array cond, cmx_array a,
                      cmx_stream s) { /* cond ? a : the scalar 0.5 */
  double hv = 0.5;
  cmx_array half;
  TU_OK(tu_array(&half, &hv, CMX_F32, NULL, 0));
  int st = cmx_where(out, cond, a, half, s);
  cmx_array_free(half);
  return st;
}

/* 32-bit inputs transposed in their last two axes, batched, of 65536
 * elements or more: the driver reads them through transposed L1 tiles
 * (rows in blocks of 16, the last one partial; columns in chunks of 256,
 * the last partial, with a partial transposer tile). Unary, binary
 * beside a broadcast row, a contiguous and a second transposed operand,
 * where with a scalar, and int32: the bits of the same op on the
 * contiguous copy, and neg's and add's values. */
Test(ops_binary, large_transposed_batched_inputs) {
  const int64_t sh[3] = {3, 129, 701}, n = 3 * 129 * 701;
  const int64_t tsh[3] = {3, 701, 129}, rsh[1] = {129};
  const int ax[3] = {0, 2, 1};
  double *xv = malloc(sizeof(double) * (size_t)n * 2), *got = xv + n;
  double rv[129];
  tu_rand(xv, n, CMX_F32, -4, 4, 1201);
  tu_rand(rv, 129, CMX_F32, -4, 4, 1202);
  cmx_array x, xt, xc, row, y;
  TU_OK(tu_array(&x, xv, CMX_F32, sh, 3));
  TU_OK(tu_array(&row, rv, CMX_F32, rsh, 1));
  TU_OK(cmx_transpose(&xt, x, ax, 3, NULL));
  TU_OK(cmx_contiguous(&xc, xt, NULL));
  tu_assert_shape(xt, tsh, 3);
  for (int q = 0; q < 2; q++) { /* values: neg, add of the row */
    TU_OK(q ? cmx_add(&y, xt, row, NULL) : cmx_neg(&y, xt, NULL));
    tu_read(y, got);
    cmx_array_free(y);
    for (int64_t b = 0; b < 3; b++)
      for (int64_t i = 0; i < 701; i++)
        for (int64_t j = 0; j < 129; j++) {
          const double v = xv[(b * 129 + j) * 701 + i];
          cr_assert_eq(got[(b * 701 + i) * 129 + j],
                       q ? (double)(float)(v + rv[j]) : -v,
                       "%s (%lld, %lld, %lld)", q ? "add row" : "neg",
                       (long long)b, (long long)i, (long long)j);
        }
  }
  same_bytes(cmx_neg, NULL, xt, NULL, xc, NULL, "neg");
  same_bytes(cmx_exp, NULL, xt, NULL, xc, NULL, "exp");
  same_bytes(cmx_sigmoid, NULL, xt, NULL, xc, NULL, "sigmoid");
  same_bytes(NULL, cmx_add, xt, row, xc, row, "add row");
  same_bytes(NULL, cmx_multiply, xc, xt, xc, xc, "contiguous * transposed");
  same_bytes(NULL, cmx_maximum, xt, xt, xc, xc, "transposed, transposed");
  same_bytes(NULL, cmx_less, xt, row, xc, row, "less (bool out)");
  cmx_array cond;
  TU_OK(cmx_greater(&cond, xc, row, NULL));
  same_bytes(NULL, where_half, cond, xt, cond, xc, "where");
  cmx_array xi, xit, xic;
  TU_OK(cmx_astype(&xi, x, CMX_I32, NULL));
  TU_OK(cmx_transpose(&xit, xi, ax, 3, NULL));
  TU_OK(cmx_contiguous(&xic, xit, NULL));
  same_bytes(cmx_neg, NULL, xit, NULL, xic, NULL, "int32 neg");
  same_bytes(NULL, cmx_add, xit, xic, xic, xic, "int32 add");
  same_bytes(NULL, cmx_multiply, xit, row, xic, row, "int32 * f32");
  cmx_array arr[] = {x, xt, xc, row, cond, xi, xit, xic};
  for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
    cmx_array_free(arr[i]);
  free(xv);
}

/* a of shape sa, b of shape sb broadcast to so; reference by view model. */
static void bcast_case(const struct binop *op, const int64_t *sa, int na,
                       const int64_t *sb, int nb, const int64_t *so, int no,
                       cmx_dtype t, uint64_t seed) {
  tu_view va = tu_view_contig(sa, na), vb = tu_view_contig(sb, nb);
  int64_t nA = tu_view_size(&va), nB = tu_view_size(&vb), nO = 1;
  for (int i = 0; i < no; i++) nO *= so[i];
  double *av = malloc(sizeof(double) * (size_t)(nA + nB + 2 * nO));
  double *bv = av + nA, *ea = bv + nB, *eb = ea + nO;
  tu_rand(av, nA, t, 0.5, 4, seed);
  tu_rand(bv, nB, t, 0.5, 4, seed + 1);
  cmx_array a, b, y;
  TU_OK(tu_array(&a, av, t, sa, na));
  TU_OK(tu_array(&b, bv, t, sb, nb));
  tu_view wa = tu_view_bcast(va, so, no), wb = tu_view_bcast(vb, so, no);
  tu_view_gather(&wa, av, ea);
  tu_view_gather(&wb, bv, eb);
  TU_OK(op->fn(&y, a, b, NULL));
  tu_assert_shape(y, so, no);
  cmx_array_free(y);
  check_binop(op, a, b, ea, eb, nO, t, "broadcast");
  TU_OK(op->fn(&y, b, a, NULL)); /* operands swapped: same shape */
  tu_assert_shape(y, so, no);
  cmx_array_free(y);
  cmx_array_free(a);
  cmx_array_free(b);
  free(av);
}

Test(ops_binary, broadcasting) {
  int64_t m57[2] = {5, 7}, row[1] = {7}, col[2] = {5, 1}, s31[2] = {3, 1},
          s14[2] = {1, 4}, s34[2] = {3, 4}, s3d[3] = {2, 1, 7},
          s3o[3] = {2, 5, 7}, big[2] = {33, 1025}, bigrow[1] = {1025};
  for (size_t o = 0; o < N_BINOPS; o++) {
    const struct binop *op = &BINOPS[o];
    bcast_case(op, m57, 2, NULL, 0, m57, 2, CMX_F32, o);      /* scalar */
    bcast_case(op, m57, 2, row, 1, m57, 2, CMX_F32, o + 1);   /* row */
    bcast_case(op, m57, 2, col, 2, m57, 2, CMX_F32, o + 2);   /* column */
    bcast_case(op, s31, 2, s14, 2, s34, 2, CMX_F32, o + 3);   /* outer */
    bcast_case(op, s3d, 3, col, 2, s3o, 3, CMX_F32, o + 4);   /* 3-D */
    bcast_case(op, big, 2, bigrow, 1, big, 2, CMX_F32, o + 5);  /* large */
    bcast_case(op, NULL, 0, NULL, 0, NULL, 0, CMX_F32, o + 6);  /* 0-d */
  }
}

Test(ops_binary, broadcast_other_dtypes) {
  int64_t s31[2] = {3, 1}, s14[2] = {1, 4}, s34[2] = {3, 4};
  static const cmx_dtype ts[] = {CMX_F16, CMX_BF16, CMX_F64, CMX_I32, CMX_U8};
  for (int t = 0; t < 5; t++)
    for (int o = 0; o < 9; o++)
      bcast_case(&BINOPS[o], s31, 2, s14, 2, s34, 2, ts[t], o);
}

/* Short rows (several rows to a chunk, the broadcast operands copied out
 * row by row): 300 rows of 1 to 255 elements against a broadcast row, a
 * broadcast column and the outer form, every element size, and a
 * transposed operand. */
Test(ops_binary, broadcast_short_rows) {
  static const int64_t ns[] = {1, 2, 3, 7, 64, 255};
  static const cmx_dtype ts[] = {CMX_F32, CMX_F64, CMX_BF16, CMX_U8};
  for (int k = 0; k < 6; k++)
    for (int t = 0; t < 4; t++)
      for (int o = 0; o < 9; o++) {
        const int64_t n = ns[k];
        int64_t full[2] = {300, n}, row[2] = {1, n}, col[2] = {300, 1};
        const struct binop *op = &BINOPS[o];
        bcast_case(op, full, 2, row, 2, full, 2, ts[t], (uint64_t)(k + o));
        bcast_case(op, full, 2, col, 2, full, 2, ts[t], (uint64_t)(k + o + 1));
        bcast_case(op, col, 2, row, 2, full, 2, ts[t], (uint64_t)(k + o + 2));
      }
  for (int k = 0; k < 6; k++) {
    const int64_t n = ns[k];
    int64_t base[2] = {n, 300}, full[2] = {300, n};
    double *bv = malloc(sizeof(double) * (size_t)(3 * 300 * n));
    double *tv = bv + 300 * n, *cv = tv + 300 * n;
    tu_rand(bv, 300 * n, CMX_F32, 0.5, 4, (uint64_t)k);
    tu_rand(cv, 300 * n, CMX_F32, 0.5, 4, (uint64_t)k + 7);
    cmx_array b, x, c;
    TU_OK(tu_array(&b, bv, CMX_F32, base, 2));
    TU_OK(cmx_transpose(&x, b, NULL, 0, NULL));
    tu_view w = tu_view_T(tu_view_contig(base, 2), NULL);
    tu_view_gather(&w, bv, tv);
    TU_OK(tu_array(&c, cv, CMX_F32, full, 2));
    for (int o = 0; o < 9; o++) {
      check_binop(&BINOPS[o], x, c, tv, cv, 300 * n, CMX_F32, "short T");
      check_binop(&BINOPS[o], c, x, cv, tv, 300 * n, CMX_F32, "short T2");
    }
    cmx_array_free(c), cmx_array_free(x), cmx_array_free(b);
    free(bv);
  }
}

Test(ops_binary, shapes_that_cannot_broadcast) {
  int64_t s34[2] = {3, 4}, s5[1] = {5}, s24[2] = {2, 4};
  cmx_array a, b, c, y = (cmx_array)&y;
  TU_OK(cmx_zeros(&a, s34, 2, CMX_F32, NULL));
  TU_OK(cmx_zeros(&b, s5, 1, CMX_F32, NULL));
  TU_OK(cmx_zeros(&c, s24, 2, CMX_F32, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_add", cmx_add(&y, a, b, NULL));
  cr_assert_null(y);
  TU_FAILS(CMX_ESHAPE, "cmx_less", cmx_less(&y, a, c, NULL));
  TU_FAILS(CMX_ESHAPE, "cmx_where", cmx_where(&y, a, b, a, NULL));
  cmx_array_free(a);
  cmx_array_free(b);
  cmx_array_free(c);
}

/* ---- type promotion ------------------------------------------------------ */
struct promo { cmx_dtype a, b, want; };
static const struct promo PROMOS[] = {
    {CMX_I32, CMX_F32, CMX_F32},   {CMX_I8, CMX_U8, CMX_I16},
    {CMX_BOOL, CMX_BOOL, CMX_BOOL}, {CMX_F16, CMX_BF16, CMX_F32},
    {CMX_I32, CMX_F16, CMX_F16},   {CMX_U8, CMX_I8, CMX_I16},
    {CMX_U32, CMX_I32, CMX_I64},   {CMX_U8, CMX_U32, CMX_U32},
    {CMX_I16, CMX_I32, CMX_I32},   {CMX_BOOL, CMX_I8, CMX_I8},
    {CMX_BOOL, CMX_F16, CMX_F16},  {CMX_F32, CMX_F64, CMX_F64},
    {CMX_I64, CMX_F32, CMX_F32},   {CMX_U8, CMX_BF16, CMX_BF16},
    {CMX_I8, CMX_I64, CMX_I64},    {CMX_U32, CMX_I8, CMX_I64},
    {CMX_BF16, CMX_F32, CMX_F32},  {CMX_F16, CMX_F32, CMX_F32},
    {CMX_BOOL, CMX_U32, CMX_U32},  {CMX_U8, CMX_I32, CMX_I32},
    {CMX_BOOL, CMX_F64, CMX_F64},  {CMX_I16, CMX_U8, CMX_I16},
};

Test(ops_binary, type_promotion_add_values_and_dtype) {
  for (size_t p = 0; p < sizeof PROMOS / sizeof PROMOS[0]; p++) {
    const struct promo *q = &PROMOS[p];
    double av[6] = {1, 0, 1, 3, 5, 1}, bv[6] = {1, 1, 0, 2, 7, 0};
    if (q->a != CMX_BOOL) av[1] = 4, av[2] = 9;
    if (q->b != CMX_BOOL) bv[2] = 6, bv[5] = 11;
    if (q->a == CMX_BOOL) for (int i = 0; i < 6; i++) av[i] = av[i] != 0;
    if (q->b == CMX_BOOL) for (int i = 0; i < 6; i++) bv[i] = bv[i] != 0;
    int64_t n = 6, s1 = 1;
    cmx_array a, b, y;
    TU_OK(tu_array(&a, av, q->a, &n, 1));
    TU_OK(tu_array(&b, bv, q->b, &s1, 1)); /* broadcast, too */
    for (int swap = 0; swap < 2; swap++) {
      TU_OK(swap ? cmx_add(&y, b, a, NULL) : cmx_add(&y, a, b, NULL));
      cr_assert_eq(cmx_array_dtype(y), q->want, "%s + %s -> %s, want %s",
                   cmx_dtype_name(q->a), cmx_dtype_name(q->b),
                   cmx_dtype_name(cmx_array_dtype(y)), cmx_dtype_name(q->want));
      double got[6];
      tu_read(y, got);
      for (int i = 0; i < 6; i++) {
        double ref = av[i] + bv[0];
        if (q->want == CMX_BOOL) ref = ref != 0; /* True + True is True */
        cr_assert_eq(got[i], ref, "%s + %s [%d]: %g want %g",
                     cmx_dtype_name(q->a), cmx_dtype_name(q->b), i, got[i], ref);
      }
      cmx_array_free(y);
    }
    /* Comparisons and logical ops give bool for any pair. */
    TU_OK(cmx_greater(&y, a, b, NULL));
    cr_assert_eq(cmx_array_dtype(y), CMX_BOOL);
    double got[6];
    tu_read(y, got);
    for (int i = 0; i < 6; i++) cr_assert_eq(got[i], (double)(av[i] > bv[0]));
    cmx_array_free(y);
    TU_OK(cmx_logical_and(&y, a, b, NULL));
    cr_assert_eq(cmx_array_dtype(y), CMX_BOOL);
    cmx_array_free(y);
    cmx_array_free(a);
    cmx_array_free(b);
  }
}

Test(ops_binary, divide_dtypes) {
  struct promo d[] = {{CMX_I32, CMX_I32, CMX_F32}, {CMX_U8, CMX_I8, CMX_F32},
                      {CMX_F16, CMX_I32, CMX_F16}, {CMX_F64, CMX_I32, CMX_F64},
                      {CMX_BF16, CMX_BF16, CMX_BF16}, {CMX_BOOL, CMX_I8, CMX_F32}};
  for (int p = 0; p < 6; p++) {
    double av[4] = {7, 1, 5, 0}, bv[4] = {2, 3, 1, 1};
    int64_t n = 4;
    cmx_array a, b, y;
    if (d[p].a == CMX_BOOL) av[0] = av[2] = 1;
    TU_OK(tu_array(&a, av, d[p].a, &n, 1));
    TU_OK(tu_array(&b, bv, d[p].b, &n, 1));
    TU_OK(cmx_divide(&y, a, b, NULL));
    cr_assert_eq(cmx_array_dtype(y), d[p].want, "%s / %s -> %s",
                 cmx_dtype_name(d[p].a), cmx_dtype_name(d[p].b),
                 cmx_dtype_name(cmx_array_dtype(y)));
    double got[4];
    tu_read(y, got);
    for (int i = 0; i < 4; i++)
      cr_assert_eq(got[i], tu_quant(d[p].want, av[i] / bv[i]), "[%d] %g", i,
                   got[i]);
    cmx_array_free(y);
    cmx_array_free(a);
    cmx_array_free(b);
  }
}

/* ---- integer corner cases ----------------------------------------------- */
Test(ops_binary, integer_division_by_zero_gives_zero) {
  static const cmx_dtype ts[] = {CMX_I32, CMX_I8, CMX_U8, CMX_I64, CMX_I16,
                                 CMX_U32};
  for (int t = 0; t < 6; t++) {
    double av[5] = {7, 0, 3, 100, 1}, bv[5] = {0, 0, 0, 0, 0};
    if (ts[t] != CMX_U8 && ts[t] != CMX_U32) av[2] = -3;
    int64_t n = 5;
    cmx_array a, b, y;
    TU_OK(tu_array(&a, av, ts[t], &n, 1));
    TU_OK(tu_array(&b, bv, ts[t], &n, 1));
    binop_fn fns[2] = {cmx_floor_divide, cmx_remainder};
    for (int f = 0; f < 2; f++) {
      TU_OK(fns[f](&y, a, b, NULL));
      cr_assert_eq(cmx_array_dtype(y), ts[t]);
      double got[5];
      tu_read(y, got);
      for (int i = 0; i < 5; i++)
        cr_assert_eq(got[i], 0.0, "%s %s: %g / 0 -> %g", f ? "rem" : "fdiv",
                     cmx_dtype_name(ts[t]), av[i], got[i]);
      cmx_array_free(y);
    }
    cmx_array_free(a);
    cmx_array_free(b);
  }
}

Test(ops_binary, int_min_by_minus_one_does_not_trap) {
  int32_t av[3] = {INT32_MIN, INT32_MIN, 9}, bv[3] = {-1, -1, -1};
  int64_t n = 3;
  cmx_array a, b, y;
  TU_OK(cmx_array_from_data(&a, av, CMX_I32, &n, 1));
  TU_OK(cmx_array_from_data(&b, bv, CMX_I32, &n, 1));
  int32_t got[3];
  TU_OK(cmx_floor_divide(&y, a, b, NULL));
  TU_OK(cmx_array_read(y, got, sizeof got));
  cr_assert_eq(got[0], INT32_MIN, "INT32_MIN // -1 = %d (wraps)", got[0]);
  cr_assert_eq(got[2], -9);
  cmx_array_free(y);
  TU_OK(cmx_remainder(&y, a, b, NULL));
  TU_OK(cmx_array_read(y, got, sizeof got));
  cr_assert(got[0] == 0 && got[2] == 0, "INT32_MIN %% -1 = %d", got[0]);
  cmx_array_free(y);
  cmx_array_free(a);
  cmx_array_free(b);
}

Test(ops_binary, python_sign_rules) {
  double av[8] = {7, -7, 7, -7, 5.5, -5.5, 0, 6};
  double bv[8] = {3, 3, -3, -3, -2, 2, 3, -3};
  static const cmx_dtype ts[] = {CMX_I32, CMX_F32, CMX_F64, CMX_I8};
  for (int t = 0; t < 4; t++) {
    int64_t n = tu_is_float(ts[t]) ? 8 : 4;
    cmx_array a, b, y;
    TU_OK(tu_array(&a, av, ts[t], &n, 1));
    TU_OK(tu_array(&b, bv, ts[t], &n, 1));
    double got[8];
    TU_OK(cmx_remainder(&y, a, b, NULL));
    tu_read(y, got);
    for (int i = 0; i < n; i++)
      cr_assert_eq(got[i], b_rem(av[i], bv[i]), "%s %g %% %g = %g",
                   cmx_dtype_name(ts[t]), av[i], bv[i], got[i]);
    cmx_array_free(y);
    TU_OK(cmx_floor_divide(&y, a, b, NULL));
    tu_read(y, got);
    for (int i = 0; i < n; i++)
      cr_assert_eq(got[i], floor(av[i] / bv[i]), "%s %g // %g = %g",
                   cmx_dtype_name(ts[t]), av[i], bv[i], got[i]);
    cmx_array_free(y);
    cmx_array_free(a);
    cmx_array_free(b);
  }
}

Test(ops_binary, nan_propagates_in_maximum_minimum) {
  static const cmx_dtype ts[] = {CMX_F32, CMX_F64, CMX_F16, CMX_BF16};
  for (int t = 0; t < 4; t++)
    for (int64_t n = 1; n <= 37; n += 12) {
      double av[37], bv[37];
      for (int i = 0; i < n; i++) {
        av[i] = i % 3 == 0 ? NAN : i - 5.0;
        bv[i] = i % 4 == 1 ? NAN : 2.0 - i;
      }
      cmx_array a, b, y;
      TU_OK(tu_array(&a, av, ts[t], &n, 1));
      TU_OK(tu_array(&b, bv, ts[t], &n, 1));
      for (int f = 0; f < 4; f++) {
        binop_fn fn = f & 1 ? cmx_minimum : cmx_maximum;
        TU_OK(f < 2 ? fn(&y, a, b, NULL) : fn(&y, b, a, NULL));
        double got[37];
        tu_read(y, got);
        for (int i = 0; i < n; i++) {
          double ref = f & 1 ? b_min(av[i], bv[i]) : b_max(av[i], bv[i]);
          cr_assert(tu_close(got[i], ref, 0, 0), "%s %s n=%lld [%d] %g vs %g -> %g",
                    f & 1 ? "minimum" : "maximum", cmx_dtype_name(ts[t]),
                    (long long)n, i, av[i], bv[i], got[i]);
        }
        cmx_array_free(y);
      }
      cmx_array_free(a);
      cmx_array_free(b);
    }
}

/* ---- where -------------------------------------------------------------- */
static void where_case(const int64_t *sc, int nc, cmx_dtype tc,
                       const int64_t *sa, int na, cmx_dtype ta,
                       const int64_t *sb, int nb, cmx_dtype tb,
                       const int64_t *so, int no, cmx_dtype want,
                       uint64_t seed) {
  tu_view vc = tu_view_contig(sc, nc), va = tu_view_contig(sa, na),
          vb = tu_view_contig(sb, nb);
  int64_t nC = tu_view_size(&vc), nA = tu_view_size(&va),
          nB = tu_view_size(&vb), nO = 1;
  for (int i = 0; i < no; i++) nO *= so[i];
  double *cv = malloc(sizeof(double) * (size_t)(nC + nA + nB + 4 * nO));
  double *av = cv + nC, *bv = av + nA, *ec = bv + nB, *ea = ec + nO,
         *eb = ea + nO, *got = eb + nO;
  tu_rand(cv, nC, tc, -1, 2, seed);
  tu_rand(av, nA, ta, -50, 50, seed + 1);
  tu_rand(bv, nB, tb, -50, 50, seed + 2);
  cmx_array c, a, b, y;
  TU_OK(tu_array(&c, cv, tc, sc, nc));
  TU_OK(tu_array(&a, av, ta, sa, na));
  TU_OK(tu_array(&b, bv, tb, sb, nb));
  tu_view w;
  w = tu_view_bcast(vc, so, no); tu_view_gather(&w, cv, ec);
  w = tu_view_bcast(va, so, no); tu_view_gather(&w, av, ea);
  w = tu_view_bcast(vb, so, no); tu_view_gather(&w, bv, eb);
  TU_OK(cmx_where(&y, c, a, b, NULL));
  tu_assert_shape(y, so, no);
  cr_assert_eq(cmx_array_dtype(y), want, "where dtype %s",
               cmx_dtype_name(cmx_array_dtype(y)));
  tu_read(y, got);
  for (int64_t i = 0; i < nO; i++) {
    double ref = tu_quant(want, ec[i] != 0 ? ea[i] : eb[i]);
    cr_assert(tu_close(got[i], ref, 0, 0), "where [%lld] c=%g %g:%g -> %g",
              (long long)i, ec[i], ea[i], eb[i], got[i]);
  }
  cmx_array_free(y);
  cmx_array_free(c);
  cmx_array_free(a);
  cmx_array_free(b);
  free(cv);
}

Test(ops_where, dtypes_sizes_and_broadcasting) {
  static const int64_t sizes[] = {1, 7, 17, 1023, 4099};
  static const cmx_dtype ts[] = {CMX_F32, CMX_F16, CMX_BF16, CMX_F64,
                                 CMX_I32, CMX_I8,  CMX_U8,   CMX_BOOL};
  for (int s = 0; s < 5; s++)
    for (int t = 0; t < 8; t++)
      where_case(&sizes[s], 1, CMX_BOOL, &sizes[s], 1, ts[t], &sizes[s], 1,
                 ts[t], &sizes[s], 1, ts[t], s * 8 + t);
  int64_t s51[2] = {5, 1}, s17[2] = {1, 7}, s57[2] = {5, 7}, r7[1] = {7};
  where_case(s51, 2, CMX_BOOL, s17, 2, CMX_F32, NULL, 0, CMX_F32, s57, 2,
             CMX_F32, 1);
  where_case(NULL, 0, CMX_BOOL, s57, 2, CMX_F32, r7, 1, CMX_F32, s57, 2,
             CMX_F32, 2);
  where_case(s57, 2, CMX_F32, s51, 2, CMX_F32, s17, 2, CMX_F32, s57, 2,
             CMX_F32, 3); /* cond read as bool */
  where_case(s57, 2, CMX_I32, s57, 2, CMX_I32, s57, 2, CMX_F32, s57, 2,
             CMX_F32, 4); /* a, b promote */
  where_case(r7, 1, CMX_BOOL, s57, 2, CMX_F16, s51, 2, CMX_BF16, s57, 2,
             CMX_F32, 5);
}

Test(ops_where, noncontiguous_operands) {
  for (int k = 0; k < K_COUNT; k++) {
    double cv[35], av[35], bv[35], got[35];
    cmx_array c, a, b, y;
    make_input(k, CMX_BOOL, 5, 7, 0, 1, k, &c, cv);
    make_input((k + 1) % K_COUNT, CMX_F32, 5, 7, -9, 9, k + 10, &a, av);
    make_input((k + 3) % K_COUNT, CMX_F32, 5, 7, -9, 9, k + 20, &b, bv);
    TU_OK(cmx_where(&y, c, a, b, NULL));
    tu_read(y, got);
    for (int i = 0; i < 35; i++)
      cr_assert_eq(got[i], cv[i] != 0 ? av[i] : bv[i], "%s [%d]", KNAME[k], i);
    cmx_array_free(y);
    cmx_array_free(a);
    cmx_array_free(b);
    cmx_array_free(c);
  }
}

/* ---- found by tests/diff-mlx.py (MLX semantics) ------------------------ */
/* Ties of maximum / minimum (+0 against -0) give b, as MLX's a > b ? a : b
 * and cmx's f64 path did; the f32 kernels gave a. Random signed zeros and
 * values at odd sizes (vector body and tail), every float dtype. */
Test(ops_binary, maximum_minimum_signed_zero_ties_give_b) {
  static const cmx_dtype ts[] = {CMX_F32, CMX_F64, CMX_F16, CMX_BF16};
  static const int64_t ns[] = {1, 7, 17, 1023};
  uint64_t s = 42;
  for (int t = 0; t < 4; t++)
    for (int k = 0; k < 4; k++) {
      int64_t n = ns[k];
      double *av = malloc(sizeof(double) * (size_t)n);
      double *bv = malloc(sizeof(double) * (size_t)n);
      double *got = malloc(sizeof(double) * (size_t)n);
      for (int64_t i = 0; i < n; i++) {
        uint64_t r = tu_next(&s);
        av[i] = r & 1 ? -0.0 : 0.0;
        bv[i] = r & 2 ? -0.0 : 0.0;
        if (r % 5 == 4) av[i] = tu_quant(ts[t], tu_unif(&s) * 4 - 2);
      }
      cmx_array a, b, y;
      TU_OK(tu_array(&a, av, ts[t], &n, 1));
      TU_OK(tu_array(&b, bv, ts[t], &n, 1));
      for (int f = 0; f < 2; f++) {
        TU_OK(f ? cmx_minimum(&y, a, b, NULL) : cmx_maximum(&y, a, b, NULL));
        tu_read(y, got);
        for (int64_t i = 0; i < n; i++) {
          double ref = f ? b_min(av[i], bv[i]) : b_max(av[i], bv[i]);
          cr_assert(got[i] == ref && signbit(got[i]) == signbit(ref),
                    "%s %s n=%lld [%lld] (%g, %g) -> %g, want %g",
                    f ? "minimum" : "maximum", cmx_dtype_name(ts[t]),
                    (long long)n, (long long)i, av[i], bv[i], got[i], ref);
        }
        cmx_array_free(y);
      }
      cmx_array_free(a);
      cmx_array_free(b);
      free(av);
      free(bv);
      free(got);
    }
}

/* sign(NaN) and sign(-0.0) are +0 (MLX); the f32 kernels kept NaN and the
 * f64 path kept -0.0. */
Test(ops_unary, sign_of_nan_and_zeros_is_plus_zero) {
  static const cmx_dtype ts[] = {CMX_F32, CMX_F64, CMX_F16, CMX_BF16};
  uint64_t s = 7;
  for (int t = 0; t < 4; t++)
    for (int64_t n = 1; n <= 1023; n = n * 4 + 3) {
      double *xv = malloc(sizeof(double) * (size_t)n);
      double *got = malloc(sizeof(double) * (size_t)n);
      for (int64_t i = 0; i < n; i++) {
        uint64_t r = tu_next(&s) % 4;
        xv[i] = r == 0 ? NAN : r == 1 ? -0.0 : r == 2 ? 0.0
                : tu_quant(ts[t], tu_unif(&s) * 6 - 3);
      }
      cmx_array x, y;
      TU_OK(tu_array(&x, xv, ts[t], &n, 1));
      TU_OK(cmx_sign(&y, x, NULL));
      tu_read(y, got);
      for (int64_t i = 0; i < n; i++) {
        double ref = xv[i] > 0 ? 1.0 : xv[i] < 0 ? -1.0 : 0.0;
        cr_assert(got[i] == ref && !signbit(got[i]) == !signbit(ref),
                  "sign %s n=%lld (%g) = %g", cmx_dtype_name(ts[t]),
                  (long long)n, xv[i], got[i]);
      }
      cmx_array_free(x);
      cmx_array_free(y);
      free(xv);
      free(got);
    }
}

/* Python % when |a / b| is beyond 2^22: floor(a / b) is not the integer
 * quotient any more and a - b floor(a / b) left [0, b) (1 % 1e-30 gave
 * -1.8e-8 in f32); and a zero result takes b's sign in f64 too. The
 * reference is fmod (exact) moved into b's sign. */
Test(ops_binary, remainder_exact_for_large_quotients) {
  static const cmx_dtype ts[] = {CMX_F32, CMX_F64, CMX_F16, CMX_BF16};
  uint64_t s = 99;
  for (int t = 0; t < 4; t++) {
    int64_t n = 259;
    double av[259], bv[259], got[259];
    for (int64_t i = 0; i < n; i++) {
      double big = ts[t] == CMX_F16 ? 6e4 : 1e9;
      av[i] = tu_quant(ts[t], (tu_unif(&s) * 2 - 1) * big);
      bv[i] = tu_quant(ts[t], (tu_unif(&s) * 2 - 1) * 1e-2);
      if (bv[i] == 0) bv[i] = tu_quant(ts[t], 3e-3);
      if (i % 7 == 0) av[i] = -2 * bv[i]; /* exact: the zero's sign */
    }
    cmx_array a, b, y;
    TU_OK(tu_array(&a, av, ts[t], &n, 1));
    TU_OK(tu_array(&b, bv, ts[t], &n, 1));
    TU_OK(cmx_remainder(&y, a, b, NULL));
    tu_read(y, got);
    for (int64_t i = 0; i < n; i++) {
      double r = fmod(av[i], bv[i]);
      if (r != 0 && (r < 0) != (bv[i] < 0)) r += bv[i];
      double ref = r == 0 ? copysign(0.0, bv[i]) : tu_quant(ts[t], r);
      cr_assert(tu_close(got[i], ref, 2 * tu_eps(ts[t]), 0) &&
                    !signbit(got[i]) == !signbit(ref),
                "%s %.9g %% %.9g = %.9g, want %.9g", cmx_dtype_name(ts[t]),
                av[i], bv[i], got[i], ref);
    }
    cmx_array_free(y);
    cmx_array_free(a);
    cmx_array_free(b);
  }
}

/* int32 / uint32 values beyond 2^24 meeting f64 are converted once, not
 * through float (16777217 + 0.0 gave 16777216). */
Test(ops_binary, wide_ints_with_f64_convert_exactly) {
  static const cmx_dtype ts[] = {CMX_I32, CMX_U32};
  uint64_t s = 5;
  for (int t = 0; t < 2; t++) {
    int64_t n = 37;
    double iv[37], fv[37], got[37];
    for (int64_t i = 0; i < n; i++) {
      iv[i] = floor(tu_unif(&s) * 2147483647.0);
      if (ts[t] == CMX_I32 && (i & 1)) iv[i] = -iv[i];
      fv[i] = floor(tu_unif(&s) * 8) * 0.25;
    }
    iv[0] = 16777217;
    cmx_array a, b, y;
    TU_OK(tu_array(&a, iv, ts[t], &n, 1));
    TU_OK(tu_array(&b, fv, CMX_F64, &n, 1));
    TU_OK(cmx_add(&y, a, b, NULL));
    cr_assert_eq(cmx_array_dtype(y), CMX_F64);
    tu_read(y, got);
    for (int64_t i = 0; i < n; i++)
      cr_assert_eq(got[i], iv[i] + fv[i], "%s %.17g + %g = %.17g",
                   cmx_dtype_name(ts[t]), iv[i], fv[i], got[i]);
    cmx_array_free(y);
    cmx_array_free(a);
    cmx_array_free(b);
  }
}

/* float64 transcendentals (kernels/f64-vunary): contiguous and transposed
 * operands, a broadcast b for silu_mul; within ~4 ulp of libm-based double
 * references, and the same bits on every ISA level this CPU has (each
 * level runs one algorithm with the same roundings) and for the view. */
typedef int (*unop_fn)(cmx_array *, cmx_array, cmx_stream);
static double r64_sig(double x) {
  return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}
Test(ops_unary, f64_transcendentals_every_level_and_view) {
  static const struct {
    const char *name;
    unop_fn fn;
    double lo, hi;
  } OPS[] = {{"exp", cmx_exp, -700, 700},
             {"expm1", cmx_expm1, -3, 3},
             {"log", cmx_log, 1e-300, 1e300}, /* log-uniform */
             {"log1p", cmx_log1p, -0.99, 50},
             {"sin", cmx_sin, -1e4, 1e4},
             {"cos", cmx_cos, -1e4, 1e4},
             {"tanh", cmx_tanh, -4, 4},
             {"sigmoid", cmx_sigmoid, -40, 40},
             {"silu", cmx_silu, -40, 40},
             {"softplus", cmx_softplus, -40, 40},
             {"gelu_tanh", cmx_gelu_tanh, -3, 8},
             {"erf", cmx_erf, -4, 4},
             {"gelu", cmx_gelu, -8, 8},
             {"silu_mul", NULL, -40, 40}};
  static const char *LEVELS[] = {"generic", "avx2", "avx512", "default"};
  const int64_t R = 37, C = 41, n = R * C;
  int64_t shape[2] = {R, C}, bshape[1] = {C};
  double *v = malloc(n * sizeof *v), *got = malloc(n * sizeof *got);
  double *first = malloc(n * sizeof *first), *gt = malloc(n * sizeof *gt);
  double b[41];
  uint64_t s = 11;
  for (int64_t j = 0; j < C; j++) b[j] = tu_unif(&s) * 4 - 2;
  for (size_t o = 0; o < sizeof OPS / sizeof OPS[0]; o++) {
    for (int64_t i = 0; i < n; i++) {
      double u = tu_unif(&s);
      double lo = OPS[o].lo, hi = OPS[o].hi;
      v[i] = lo > 0 ? exp(log(lo) + u * (log(hi) - log(lo))) : lo + u * (hi - lo);
    }
    int levels = 0;
    for (size_t l = 0; l < 4; l++) {
      if (cmx_set_isa(LEVELS[l]) != CMX_OK) continue; /* CPU lacks it */
      cmx_array a, at, y, yt, bb = NULL;
      TU_OK(tu_array(&a, v, CMX_F64, shape, 2));
      TU_OK(cmx_transpose(&at, a, NULL, 0, NULL));
      if (OPS[o].fn) {
        TU_OK(OPS[o].fn(&y, a, NULL));
        TU_OK(OPS[o].fn(&yt, at, NULL));
      } else {
        cmx_array btt;
        TU_OK(tu_array(&bb, b, CMX_F64, bshape, 1));
        TU_OK(cmx_silu_mul(&y, a, bb, NULL));
        TU_OK(cmx_expand_dims(&btt, bb, 1, NULL)); /* (C, 1) against a.T */
        TU_OK(cmx_silu_mul(&yt, at, btt, NULL));
        cmx_array_free(btt);
      }
      cr_assert_eq(cmx_array_dtype(y), CMX_F64);
      tu_read(y, got);
      tu_read(yt, gt);
      for (int64_t i = 0; i < R; i++)
        for (int64_t j = 0; j < C; j++) {
          double x = v[i * C + j], g = got[i * C + j], w;
          switch (o) {
            case 0: w = exp(x); break;
            case 1: w = expm1(x); break;
            case 2: w = log(x); break;
            case 3: w = log1p(x); break;
            case 4: w = sin(x); break;
            case 5: w = cos(x); break;
            case 6: w = tanh(x); break;
            case 7: w = r64_sig(x); break;
            case 8: w = x * r64_sig(x); break;
            case 9: w = fmax(x, 0) + log1p(exp(-fabs(x))); break;
            case 10:
              w = x * r64_sig(2 * sqrt(2 / M_PI) * (x + 0.044715 * x * x * x));
              break;
            case 11: w = erf(x); break;
            case 12: w = 0.5 * x * erfc(-x / sqrt(2)); break;
            default: w = x * r64_sig(x) * b[j];
          }
          /* the double gelu_tanh and gelu references round w = O(x^3)
           * and z = x / sqrt(2): their errors grow as |x|^3 and x^2 (the
           * kernels carry both in double-double) */
          double tol = 1e-15 * (o == 10   ? 2 + fabs(x * x * x)
                                : o == 12 ? 2 + x * x /* z rounded */
                                          : 1);
          cr_assert(fabs(g - w) <= tol * fabs(w), "%s (%s) x=%a: %a want %a",
                    OPS[o].name, LEVELS[l], x, g, w);
          cr_assert(memcmp(&g, &gt[j * R + i], 8) == 0,
                    "%s (%s) transposed [%ld,%ld]: %a vs %a", OPS[o].name,
                    LEVELS[l], (long)i, (long)j, gt[j * R + i], g);
          if (levels)
            cr_assert(memcmp(&g, &first[i * C + j], 8) == 0,
                      "%s: %s gives %a, generic %a (x=%a)", OPS[o].name,
                      LEVELS[l], g, first[i * C + j], x);
        }
      if (!levels) memcpy(first, got, n * sizeof *got);
      levels++;
      cmx_array_free(y), cmx_array_free(yt), cmx_array_free(at);
      cmx_array_free(a);
      if (bb) cmx_array_free(bb);
    }
    cr_assert(levels >= 2, "%s: %d ISA levels", OPS[o].name, levels);
  }
  TU_OK(cmx_set_isa("default"));
  free(v), free(got), free(first), free(gt);
}
