/* libFuzzer target (`make fuzz`): decodes the input into a sequence of cmx
 * API calls (any op, shapes with 0 and huge dimensions, bad axes and
 * dtypes, NULL handles, freed streams, eager mode, memory limits, async
 * eval) on a table of live arrays and streams, checks the contract of each
 * return (status known; out set exactly on success), and frees everything
 * at the end. Arrays are never used after cmx_array_free (that is not a
 * documented path); stream handles are, as cmx.h allows. */
#include <cmx.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NARR 16
#define NSTREAM 3
#define NDEAD 8
#define MAX_STREAMS_PER_INPUT 3
#define MEM_LIMIT ((size_t)8 << 20) /* keeps every op fast, huge ones fail */
#define MAX_FLOPS ((int64_t)1 << 24) /* matmul work the fuzzer asks for */

struct reader {
  const uint8_t *p;
  size_t n;
};

static uint8_t u8(struct reader *r) {
  if (!r->n) return 0;
  r->n--;
  return *r->p++;
}

static double f64(struct reader *r) {
  static const double special[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1e-300,
                                   1e300, INFINITY, -INFINITY, NAN, 3.0,
                                   1e6, -7.0, 65504.0, 1e-8, 2.5};
  uint8_t b = u8(r);
  if (b < 16) return special[b];
  return (double)(int8_t)u8(r) / (double)(1 + (b & 7));
}

static const int64_t g_dims[] = {-1, -3, 1000, 4096, 65536, (int64_t)1 << 31,
                                 (int64_t)1 << 40, INT64_MAX};

static int64_t dim(struct reader *r) {
  uint8_t b = u8(r);
  if (b >= 248) return g_dims[b - 248];
  return b % 6;
}

/* ndim in [0, 9] (9 > CMX_MAX_DIMS), rarely negative. */
static int shape(struct reader *r, int64_t *sh) {
  uint8_t b = u8(r);
  int nd = b == 255 ? -1 : b % 10;
  for (int i = 0; i < (nd > 0 ? nd : 0); i++) sh[i] = dim(r);
  return nd;
}

static cmx_dtype dtype(struct reader *r) {
  uint8_t b = u8(r);
  if (b >= 250) return (cmx_dtype)(b == 250 ? -1 : 1000);
  return (cmx_dtype)(b % CMX_NUM_DTYPES);
}

static int axis(struct reader *r) {
  uint8_t b = u8(r);
  return b >= 250 ? (b == 250 ? -1000 : 1 << 30) : (int)(b % 20) - 10;
}

struct state {
  cmx_array a[NARR];
  cmx_stream s[NSTREAM];
  cmx_stream dead[NDEAD]; /* freed: still legal to pass (CMX_ESTATE) */
  int ndead, made;
};

/* An operand: a live array, or NULL one time in 17. */
static cmx_array opnd(struct state *st, struct reader *r) {
  uint8_t b = u8(r) % (NARR + 1);
  return b == NARR ? NULL : st->a[b];
}

static cmx_stream strm(struct state *st, struct reader *r) {
  uint8_t b = u8(r) % 8;
  if (b < NSTREAM) return st->s[b];
  if (b == 5 && st->ndead) return st->dead[u8(r) % st->ndead];
  return NULL;
}

/* Contract of every op: a known status; *out set on success, NULL on
 * failure. A broken contract is a crash for the fuzzer. */
static void check(int rc, cmx_array out) {
  if (rc > 0 || rc < CMX_EINTERNAL) __builtin_trap();
  if (rc == CMX_EINTERNAL) __builtin_trap(); /* an internal error is a bug */
  if ((rc == CMX_OK) != (out != NULL)) __builtin_trap();
  if (!cmx_last_error()) __builtin_trap();
}

/* Stores a result in the slot picked by the input (freeing what was there:
 * the table holds the only fuzzer reference to each array). */
static void put(struct state *st, struct reader *r, int rc, cmx_array out) {
  check(rc, out);
  if (!out) return;
  int k = u8(r) % NARR;
  cmx_array_free(st->a[k]);
  st->a[k] = out;
}

/* Touches every byte of an evaluated array (for ASan). */
static unsigned touch(const void *p, size_t n) {
  unsigned x = 0;
  for (size_t i = 0; i < n; i++) x += ((const unsigned char *)p)[i];
  return x;
}

typedef int (*unary_fn)(cmx_array *, cmx_array, cmx_stream);
typedef int (*binary_fn)(cmx_array *, cmx_array, cmx_array, cmx_stream);
typedef int (*reduce_fn)(cmx_array *, cmx_array, const int *, int, bool,
                         cmx_stream);
static const unary_fn g_unary[] = {
    cmx_abs,  cmx_neg,     cmx_sign,    cmx_exp,     cmx_expm1,
    cmx_log,  cmx_log1p,   cmx_sqrt,    cmx_rsqrt,   cmx_square,
    cmx_reciprocal, cmx_sin, cmx_cos,   cmx_tanh,    cmx_sigmoid,
    cmx_erf,  cmx_gelu,    cmx_gelu_tanh, cmx_silu,  cmx_relu,
    cmx_floor, cmx_ceil,   cmx_round,   cmx_logical_not, cmx_flatten,
    cmx_contiguous};
static const binary_fn g_binary[] = {
    cmx_add,   cmx_subtract,  cmx_multiply,      cmx_divide,
    cmx_maximum, cmx_minimum, cmx_power,         cmx_remainder,
    cmx_floor_divide, cmx_equal, cmx_not_equal,  cmx_less,
    cmx_less_equal, cmx_greater, cmx_greater_equal, cmx_logical_and,
    cmx_logical_or};
static const reduce_fn g_reduce[] = {cmx_sum, cmx_mean, cmx_prod,
                                     cmx_max, cmx_min,  cmx_all,
                                     cmx_any, cmx_logsumexp, cmx_var};
#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))

static _Alignas(64) unsigned char g_static[1 << 16]; /* borrowed, constant */

/* Bytes for n elements of t from the input (repeated), or NULL if large. */
static void *fill(struct reader *r, int64_t n, cmx_dtype t, size_t *bytes) {
  size_t es = cmx_dtype_size(t);
  if (n < 0 || es == 0 || n > (1 << 14)) return NULL;
  *bytes = (size_t)n * es;
  unsigned char *p = aligned_alloc(64, (*bytes + 64) & ~(size_t)63);
  if (!p) return NULL;
  uint8_t seed = u8(r);
  for (size_t i = 0; i < *bytes; i++)
    p[i] = r->n ? r->p[i % r->n] ^ seed : (unsigned char)(i * 37 + seed);
  return p;
}

static int64_t prod(const int64_t *sh, int nd) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++) {
    if (sh[i] < 0) return -1;
    if (sh[i] && n > INT64_MAX / sh[i]) return -1;
    n *= sh[i];
  }
  return n;
}

static void release_buf(void *ctx) { free(ctx); }

static void create(struct state *st, struct reader *r, int kind) {
  int64_t sh[16];
  cmx_array out = NULL;
  int rc;
  cmx_dtype t = dtype(r);
  int nd = shape(r, sh);
  switch (kind) {
  case 0: { /* from_data: a buffer of the right size, or NULL */
    size_t nb = 0;
    int64_t n = nd >= 0 && nd <= CMX_MAX_DIMS ? prod(sh, nd) : -1;
    void *p = fill(r, n, t, &nb);
    rc = cmx_array_from_data(&out, p, t, nd >= 0 ? sh : NULL, nd);
    free(p);
    break;
  }
  case 1: { /* from_buffer: owned with a release callback, or borrowed */
    size_t nb = 0;
    int64_t n = nd >= 0 && nd <= CMX_MAX_DIMS ? prod(sh, nd) : -1;
    if (u8(r) & 1) {
      void *p = fill(r, n, t, &nb);
      rc = cmx_array_from_buffer(&out, p, t, sh, nd, p ? release_buf : NULL,
                                 p);
      if (rc && p) free(p); /* not taken on failure */
    } else {
      size_t es = cmx_dtype_size(t);
      int fits = n >= 0 && es && (size_t)n <= sizeof g_static / es;
      rc = cmx_array_from_buffer(&out, fits ? g_static : NULL, t, sh, nd,
                                 NULL, NULL);
    }
    break;
  }
  case 2:
    rc = cmx_full(&out, sh, nd, f64(r), t, strm(st, r));
    break;
  case 3:
    rc = u8(r) & 1 ? cmx_zeros(&out, sh, nd, t, strm(st, r))
                   : cmx_ones(&out, sh, nd, t, strm(st, r));
    break;
  default: {
    double a = f64(r), b = f64(r), c = f64(r);
    rc = cmx_arange(&out, a, b, c, t, strm(st, r));
    break;
  }
  }
  put(st, r, rc, out);
}

static void views(struct state *st, struct reader *r, int kind) {
  cmx_array x = opnd(st, r), out = NULL;
  int64_t sh[16], a[16], b[16], c[16];
  int ax[16], rc;
  cmx_stream s = strm(st, r);
  switch (kind) {
  case 0:
    rc = cmx_reshape(&out, x, sh, shape(r, sh), s);
    break;
  case 1: {
    int n = u8(r) % 10;
    for (int i = 0; i < n; i++) ax[i] = axis(r);
    rc = cmx_transpose(&out, x, n ? ax : NULL, n, s);
    break;
  }
  case 2:
    rc = cmx_broadcast_to(&out, x, sh, shape(r, sh), s);
    break;
  case 3:
    rc = cmx_expand_dims(&out, x, axis(r), s);
    break;
  case 4: {
    int n = u8(r) % 4;
    for (int i = 0; i < n; i++) ax[i] = axis(r);
    rc = cmx_squeeze(&out, x, n ? ax : NULL, n, s);
    break;
  }
  case 5: {
    int nd = u8(r) % 10, which = u8(r);
    for (int i = 0; i < nd; i++) {
      a[i] = (int8_t)u8(r);
      b[i] = (int8_t)u8(r);
      c[i] = (int8_t)u8(r);
      if (u8(r) == 255) a[i] = INT64_MIN, b[i] = INT64_MAX;
    }
    rc = cmx_slice(&out, x, which & 1 ? a : NULL, which & 2 ? b : NULL,
                   which & 4 ? c : NULL, nd, s);
    break;
  }
  default:
    rc = cmx_astype(&out, x, dtype(r), s);
    break;
  }
  put(st, r, rc, out);
}

static void reduce(struct state *st, struct reader *r) {
  cmx_array x = opnd(st, r), out = NULL;
  int ax[16], n = u8(r) % 10, rc;
  for (int i = 0; i < n; i++) ax[i] = axis(r);
  bool keep = u8(r) & 1;
  cmx_stream s = strm(st, r);
  uint8_t k = u8(r) % (COUNT(g_reduce) + 2);
  if (k == COUNT(g_reduce))
    rc = cmx_argmax(&out, x, axis(r), keep, s);
  else if (k == COUNT(g_reduce) + 1)
    rc = cmx_argmin(&out, x, axis(r), keep, s);
  else
    rc = g_reduce[k](&out, x, n ? ax : NULL, n, keep, s);
  put(st, r, rc, out);
}

/* matmul, unless the inputs would make it slow (a time-out is no finding). */
static void matmul(struct state *st, struct reader *r) {
  cmx_array x = opnd(st, r), y = opnd(st, r), out = NULL;
  double work = 1;
  if (x && y) {
    work = (double)cmx_array_size(x) * (double)cmx_array_size(y);
    int nd = cmx_array_ndim(y);
    if (nd >= 2) work /= (double)cmx_array_shape(y)[nd - 2] + 1;
  }
  if (work > (double)MAX_FLOPS) return;
  put(st, r, cmx_matmul(&out, x, y, strm(st, r)), out);
}

/* Dimension i counted from the end (0: the last), or 0 if x has fewer:
 * for the time-out guards of the ops below. */
static double dim_end(cmx_array x, int i) {
  int nd = cmx_array_ndim(x);
  return nd > i ? (double)cmx_array_shape(x)[nd - 1 - i] : 0;
}

static int small_int(struct reader *r) { return (int)(int8_t)u8(r) % 9; }

/* The model ops: softmax, norms, rope, attention, conv, activations. */
static void nn(struct state *st, struct reader *r, int kind) {
  cmx_array x = opnd(st, r), y = opnd(st, r), z = opnd(st, r), out = NULL;
  cmx_stream s = strm(st, r);
  int rc;
  switch (kind) {
  case 0:
    rc = u8(r) & 1 ? cmx_softmax(&out, x, axis(r), s)
                   : cmx_log_softmax(&out, x, axis(r), s);
    break;
  case 1:
    rc = u8(r) & 1 ? cmx_layer_norm(&out, x, y, z, (float)f64(r), s)
                   : cmx_rms_norm(&out, x, y, (float)f64(r), s);
    break;
  case 2: {
    int dims = small_int(r) * 2 + (u8(r) == 1), trad = u8(r) & 1;
    float base = u8(r) & 1 ? 10000.0f : (float)f64(r), scale = (float)f64(r);
    rc = u8(r) & 1 ? cmx_rope(&out, x, dims, trad, base, scale,
                              (int)(int8_t)u8(r) * 1000, s)
                   : cmx_rope_offsets(&out, x, dims, trad, base, scale, y, s);
    break;
  }
  case 3: { /* attention: work ~ size(q) Lk (1 + Dv / D) */
    static const char *modes[] = {NULL, "", "causal", "array", "bogus"};
    const char *mode = modes[u8(r) % 5];
    cmx_array m = u8(r) & 1 ? opnd(st, r) : NULL;
    double work = (double)cmx_array_size(x) * dim_end(y, 1) *
                  (1 + dim_end(z, 0) / (dim_end(x, 0) + 1));
    if (work > (double)MAX_FLOPS) return;
    rc = cmx_scaled_dot_product_attention(&out, x, y, z, (float)f64(r), mode,
                                          m, s);
    break;
  }
  case 4: { /* conv: stride, padding, dilation kept small (a pad of 2^30
             * only makes a huge output, which the memory limit refuses) */
    int st2[2] = {1 + u8(r) % 3, 1 + u8(r) % 3};
    int pd[2] = {u8(r) % 4, u8(r) % 4}, dl[2] = {1 + u8(r) % 3, 1 + u8(r) % 3};
    int groups = u8(r) == 7 ? 0 : 1 + u8(r) % 4;
    if (u8(r) == 3) pd[0] = -1;
    double work = (double)cmx_array_size(x) * (double)cmx_array_size(y) * 4;
    if (x && y && cmx_array_ndim(x) >= 3) {
      int nd = cmx_array_ndim(x);
      double c = (double)cmx_array_shape(x)[nd - 1];
      work = work / (c > 0 ? c : 1) * 4;
    }
    if (work > (double)MAX_FLOPS) return;
    rc = u8(r) & 1 ? cmx_conv1d(&out, x, y, st2[0], pd[0], dl[0], groups, s)
                   : cmx_conv2d(&out, x, y, u8(r) & 1 ? st2 : NULL, pd,
                                u8(r) & 1 ? dl : NULL, groups, s);
    break;
  }
  case 5:
    rc = u8(r) & 1 ? cmx_silu_mul(&out, x, y, s) : cmx_softplus(&out, x, s);
    break;
  default: { /* addmm under the matmul guard */
    double work = 1;
    if (y && z) {
      work = (double)cmx_array_size(y) * (double)cmx_array_size(z);
      int nd = cmx_array_ndim(z);
      if (nd >= 2) work /= (double)cmx_array_shape(z)[nd - 2] + 1;
    }
    if (work > (double)MAX_FLOPS) return;
    rc = cmx_addmm(&out, x, y, z, (float)f64(r), (float)f64(r), s);
    break;
  }
  }
  put(st, r, rc, out);
}

/* Gathers, joins, splits, padding, triangles, cumsum, random. */
static void index_ops(struct state *st, struct reader *r, int kind) {
  cmx_array x = opnd(st, r), y = opnd(st, r), out = NULL;
  cmx_stream s = strm(st, r);
  int rc;
  switch (kind) {
  case 0:
    rc = u8(r) & 1 ? cmx_take(&out, x, y, axis(r), s)
                   : cmx_take_along_axis(&out, x, y, axis(r), s);
    break;
  case 1: {
    cmx_array v[4];
    size_t n = u8(r) % 5;
    for (size_t i = 0; i < n; i++) v[i] = opnd(st, r);
    rc = u8(r) & 1 ? cmx_concatenate(&out, n ? v : NULL, n, axis(r), s)
                   : cmx_stack(&out, n ? v : NULL, n, axis(r), s);
    break;
  }
  case 2: { /* split: several outputs, each into a slot */
    cmx_array outs[5] = {0};
    int64_t at[4];
    size_t n = u8(r) % 5;
    for (size_t i = 0; i < n; i++) at[i] = (int8_t)u8(r);
    int ax = axis(r);
    if (u8(r) & 1) {
      rc = cmx_split(outs, n, x, ax, s);
    } else {
      rc = cmx_split_at(outs, x, n ? at : NULL, n, ax, s);
      n++;
    }
    if (rc > 0 || rc <= CMX_EINTERNAL) __builtin_trap();
    for (size_t i = 0; i < n && i < 5; i++) {
      if ((rc == CMX_OK) != (outs[i] != NULL)) __builtin_trap();
      if (outs[i]) put(st, r, CMX_OK, outs[i]);
    }
    return;
  }
  case 3: {
    int64_t lo[10], hi[10];
    int nd = u8(r) % 10;
    for (int i = 0; i < nd; i++) {
      lo[i] = u8(r) % 4;
      hi[i] = u8(r) == 200 ? -1 : u8(r) % 4;
    }
    rc = cmx_pad(&out, x, nd ? lo : NULL, nd ? hi : NULL, nd, f64(r), s);
    break;
  }
  case 4:
    rc = u8(r) & 1 ? cmx_tril(&out, x, small_int(r), s)
                   : cmx_triu(&out, x, small_int(r), s);
    break;
  case 5: {
    uint8_t f = u8(r);
    rc = cmx_cumsum(&out, x, axis(r), f & 1, f & 2, s);
    break;
  }
  case 6:
    rc = u8(r) & 1 ? cmx_random_key(&out, (uint64_t)u8(r) << 40 | u8(r))
                   : cmx_random_split(&out, x, small_int(r), s);
    break;
  default: {
    int64_t sh[16];
    int nd = shape(r, sh);
    cmx_dtype t = dtype(r);
    rc = u8(r) & 1 ? cmx_random_uniform(&out, f64(r), f64(r),
                                        nd >= 0 ? sh : NULL, nd, t, x, s)
                   : cmx_random_normal(&out, nd >= 0 ? sh : NULL, nd, t,
                                       f64(r), f64(r), x, s);
    break;
  }
  }
  put(st, r, rc, out);
}

static void evaluate(struct state *st, struct reader *r, int kind) {
  cmx_array x = opnd(st, r);
  int rc;
  switch (kind) {
  case 0: {
    cmx_array v[4];
    int n = u8(r) % 5;
    for (int i = 0; i < n; i++) v[i] = opnd(st, r);
    rc = u8(r) & 1 ? cmx_eval(v, (size_t)n) : cmx_async_eval(v, (size_t)n);
    break;
  }
  case 1: {
    const void *p = NULL;
    rc = cmx_array_data(&p, x);
    if ((rc == CMX_OK) != (p != NULL) && cmx_array_nbytes(x)) __builtin_trap();
    if (p) touch(p, cmx_array_nbytes(x));
    break;
  }
  case 2: {
    size_t nb = cmx_array_nbytes(x), want = nb;
    if (u8(r) == 7 && nb) want = nb - 1; /* too small: must be refused */
    /* A view can be far bigger than its buffer (broadcast_to): the
     * harness's own buffer stays within MEM_LIMIT, and is then too small,
     * so the read must be refused (a 16 GiB malloc here hit libFuzzer's
     * malloc limit). */
    if (want > MEM_LIMIT) want = MEM_LIMIT;
    void *buf = malloc(want ? want : 1);
    rc = cmx_array_read(x, buf, want);
    if (rc == CMX_OK && want < nb) __builtin_trap();
    free(buf);
    break;
  }
  default: {
    double v;
    rc = cmx_array_item(&v, x);
    break;
  }
  }
  if (rc > 0 || rc <= CMX_EINTERNAL) __builtin_trap();
}

static void streams(struct state *st, struct reader *r, int kind) {
  uint8_t k = u8(r) % NSTREAM;
  switch (kind) {
  case 0: { /* new */
    static const char *cpus[] = {NULL, "0", "1", "0-1", "0,1", "", "x",
                                 "5-2", "999", "0-", "1-0"};
    if (st->s[k] || st->made >= MAX_STREAMS_PER_INPUT) return;
    cmx_stream_config cfg = {(int8_t)u8(r) % 5, cpus[u8(r) % 11],
                             u8(r) % 4 == 3 ? 4 : u8(r) & 1};
    cmx_stream s = NULL;
    int rc = cmx_stream_new(&s, u8(r) == 9 ? NULL : &cfg);
    if ((rc == CMX_OK) != (s != NULL)) __builtin_trap();
    st->s[k] = s;
    st->made += s != NULL;
    break;
  }
  case 1: { /* free (plain or checked), keeping the handle as a dead one */
    cmx_stream s = st->s[k];
    if (!s) {
      int rc = cmx_stream_free_checked(st->ndead ? st->dead[0] : NULL);
      if (rc != CMX_ESTATE && rc != CMX_EINVAL) __builtin_trap();
      return;
    }
    if (u8(r) & 1) cmx_stream_free(s);
    else if (cmx_stream_free_checked(s) != CMX_OK) __builtin_trap();
    if (cmx_stream_free_checked(s) != CMX_ESTATE) __builtin_trap();
    st->s[k] = NULL;
    if (st->ndead < NDEAD) st->dead[st->ndead++] = s;
    break;
  }
  case 2:
    (void)cmx_stream_synchronize(strm(st, r));
    break;
  case 3:
    (void)cmx_set_default_stream(strm(st, r));
    break;
  default:
    (void)cmx_stream_num_threads(strm(st, r));
    cmx_set_eager(u8(r) == 1);
    break;
  }
}

static void misc(struct state *st, struct reader *r, int kind) {
  switch (kind) {
  case 0: { /* accessors of a live array or NULL */
    cmx_array x = opnd(st, r);
    int nd = cmx_array_ndim(x);
    const int64_t *sh = cmx_array_shape(x), *sr = cmx_array_strides(x);
    int64_t s = 0;
    for (int i = 0; i < nd; i++) s += sh[i] + sr[i];
    (void)s;
    (void)cmx_array_size(x);
    (void)cmx_array_dtype(x);
    (void)cmx_array_is_evaluated(x);
    break;
  }
  case 1: { /* a second reference in another slot */
    cmx_array x = opnd(st, r);
    if (x) put(st, r, CMX_OK, cmx_array_retain(x));
    break;
  }
  case 2: /* free a slot */
  {
    int k = u8(r) % NARR;
    cmx_array_free(st->a[k]);
    st->a[k] = NULL;
    break;
  }
  case 3:
    cmx_set_memory_limit(((size_t)(u8(r) % 32) + 1) << 18);
    break;
  case 4:
    cmx_set_cache_limit((size_t)u8(r) << 16);
    if (u8(r) & 1) cmx_clear_cache();
    break;
  default:
    cmx_array_free(NULL);
    (void)cmx_array_retain(NULL);
    (void)cmx_dtype_name(dtype(r));
    (void)cmx_status_string((int8_t)u8(r));
    break;
  }
}

/* ---- compile, quantised ops, safetensors ---- */
/* A compiled function: a fuzz-chosen chain of unary and binary ops over
 * its inputs (the program lives in the closure, copied from the input). */
struct prog {
  uint8_t op[8];
  int n;
};

static int prog_fn(void *ctx, const cmx_array *in, size_t n_in,
                   cmx_array *out, size_t cap, size_t *n_out) {
  const struct prog *p = ctx;
  if (n_in == 0 || cap == 0) return CMX_OK; /* no outputs */
  cmx_array v = cmx_array_retain(in[0]);
  for (int i = 0; i < p->n; i++) {
    cmx_array t = NULL;
    int rc = p->op[i] & 1
                 ? g_unary[p->op[i] % COUNT(g_unary)](&t, v, NULL)
                 : g_binary[p->op[i] % COUNT(g_binary)](
                       &t, v, in[p->op[i] % n_in], NULL);
    cmx_array_free(v);
    if (rc) return rc;
    v = t;
  }
  out[0] = v;
  *n_out = 1;
  return CMX_OK;
}

static void extras(struct state *st, struct reader *r, int kind) {
  cmx_array x = opnd(st, r), y = opnd(st, r), z = opnd(st, r), out = NULL;
  cmx_stream s = strm(st, r);
  static const int gss[] = {32, 64, 128, 0, 16, -64};
  static const int bitss[] = {4, 8, 2, 3, 0, 16};
  int gs = gss[u8(r) % 6], bits = bitss[u8(r) % 6];
  switch (kind) {
  case 0: { /* compile a chain, call it (twice: the second replays) */
    struct prog p = {{0}, u8(r) % 9};
    for (int i = 0; i < 8; i++) p.op[i] = u8(r);
    cmx_compiled c = NULL;
    int rc = cmx_compile(&c, prog_fn, &p, u8(r) % 5 == 0 ? 64 : u8(r) & 3);
    if ((rc == CMX_OK) != (c != NULL)) __builtin_trap();
    cmx_array in[3] = {x, y, z}, res[2] = {NULL, NULL};
    size_t nin = u8(r) % 4, n = 7;
    for (int k = 0; k < 2 && c; k++) {
      cmx_array o[2] = {NULL, NULL};
      rc = cmx_compiled_call(c, in, nin, o, u8(r) % 3, &n);
      if (rc > 0 || rc <= CMX_EINTERNAL || (rc && (o[0] || o[1] || n)))
        __builtin_trap();
      if (n > 1 || (n == 1 && !o[0])) __builtin_trap();
      res[k] = o[0];
    }
    cmx_compiled_free(c);
    /* stored after both calls: a put may free an input of the second */
    for (int k = 0; k < 2; k++)
      if (res[k]) put(st, r, CMX_OK, res[k]);
    return;
  }
  case 1: { /* quantize: three outputs, all or none */
    cmx_array q = NULL, sc = NULL, bi = NULL;
    int rc = cmx_quantize(&q, &sc, &bi, x, gs, bits, s);
    if (rc > 0 || rc <= CMX_EINTERNAL) __builtin_trap();
    if ((rc == CMX_OK) != (q && sc && bi) || (rc && (q || sc || bi)))
      __builtin_trap();
    put(st, r, rc, q);
    if (sc) put(st, r, CMX_OK, sc);
    if (bi) put(st, r, CMX_OK, bi);
    return;
  }
  case 2:
    put(st, r, cmx_dequantize(&out, x, y, z, gs, bits, s), out);
    return;
  case 3: {
    cmx_array w = opnd(st, r);
    double work = (double)cmx_array_size(x) * (double)cmx_array_size(y) * 8;
    if (work > (double)MAX_FLOPS * 64) return;
    put(st, r, cmx_quantized_matmul(&out, x, y, z, w, u8(r) & 1, gs, bits, s),
        out);
    return;
  }
  default: { /* save a few arrays, load them back */
    char path[64];
    snprintf(path, sizeof path, "/tmp/cmx-fuzz-%d.safetensors", (int)getpid());
    cmx_array arr[3] = {x, y, z};
    const char *names[3] = {"a", u8(r) & 1 ? "a" : "b", "c"};
    size_t n = u8(r) % 4;
    int rc = cmx_save_safetensors(path, arr, names, n);
    if (rc > 0 || rc <= CMX_EINTERNAL) __builtin_trap();
    cmx_array *got = NULL;
    char **gn = NULL;
    size_t ng = 99;
    rc = cmx_load_safetensors(path, &got, &gn, &ng);
    if (rc > 0 || rc <= CMX_EINTERNAL) __builtin_trap();
    if (rc && (got || gn || ng)) __builtin_trap();
    for (size_t i = 0; i < ng; i++) {
      if (!got[i] || !gn[i]) __builtin_trap();
      put(st, r, CMX_OK, got[i]);
      free(gn[i]);
    }
    free(got);
    free(gn);
    unlink(path);
    return;
  }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct reader r = {data, size};
  struct state st;
  memset(&st, 0, sizeof st);
  cmx_set_memory_limit(MEM_LIMIT);
  int ncalls = 0;
  while (r.n && ncalls++ < 64) {
    uint8_t op = u8(&r);
    cmx_array out = NULL;
    switch (op % 15) {
    case 0: create(&st, &r, u8(&r) % 5); break;
    case 1:
    case 2:
      put(&st, &r, g_unary[u8(&r) % COUNT(g_unary)](&out, opnd(&st, &r),
                                                     strm(&st, &r)),
          out);
      break;
    case 3:
    case 4: {
      cmx_array x = opnd(&st, &r), y = opnd(&st, &r);
      put(&st, &r, g_binary[u8(&r) % COUNT(g_binary)](&out, x, y,
                                                      strm(&st, &r)),
          out);
      break;
    }
    case 5: {
      cmx_array c = opnd(&st, &r), x = opnd(&st, &r), y = opnd(&st, &r);
      put(&st, &r, cmx_where(&out, c, x, y, strm(&st, &r)), out);
      break;
    }
    case 6: reduce(&st, &r); break;
    case 7: views(&st, &r, u8(&r) % 7); break;
    case 8: matmul(&st, &r); break;
    case 9: evaluate(&st, &r, u8(&r) % 4); break;
    case 10: streams(&st, &r, u8(&r) % 5); break;
    case 11: nn(&st, &r, u8(&r) % 7); break;
    case 12: index_ops(&st, &r, u8(&r) % 8); break;
    case 13: extras(&st, &r, u8(&r) % 5); break;
    default: misc(&st, &r, u8(&r) % 6); break;
    }
  }
  /* Everything goes: arrays (some still being evaluated), then streams. */
  cmx_set_eager(false);
  cmx_set_default_stream(NULL);
  for (int i = 0; i < NARR; i++) cmx_array_free(st.a[i]);
  for (int i = 0; i < NSTREAM; i++)
    if (st.s[i] && cmx_stream_free_checked(st.s[i]) != CMX_OK)
      __builtin_trap();
  (void)cmx_stream_synchronize(NULL); /* clears recorded failures */
  cmx_set_memory_limit(MEM_LIMIT);
  return 0;
}
