/* The safetensors header parser (io.h): strict JSON (strings with
 * escapes and \uXXXX, UTF-8 checked, non-negative integers for shapes and
 * offsets, "__metadata__" skipped), every tensor entry checked against the
 * data area before anything is allocated for it. Errors are CMX_EIO naming
 * the path, the byte and the tensor. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

/* Nesting allowed inside __metadata__: the skipper recurses. */
#define MAX_DEPTH 64

static const char LOAD[] = CMX_ST_LOAD;

static const struct {
  const char *name;
  cmx_dtype dtype;
} g_dtypes[] = {{"BOOL", CMX_BOOL}, {"U8", CMX_U8},   {"I8", CMX_I8},
                {"I16", CMX_I16},   {"I32", CMX_I32}, {"I64", CMX_I64},
                {"U32", CMX_U32},   {"F16", CMX_F16}, {"BF16", CMX_BF16},
                {"F32", CMX_F32},   {"F64", CMX_F64}};
/* Valid safetensors dtypes cmx has no type for: CMX_EDTYPE, not CMX_EIO. */
static const char *const g_foreign[] = {"U16",     "U64",     "C64",
                                        "F8_E4M3", "F8_E5M2", "F8_E8M0",
                                        "F6_E2M3", "F6_E3M2", "F4"};

/* ---- UTF-8 ------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence starting s (n bytes left), or 0
 * (overlong forms, surrogates and code points past U+10FFFF are not). */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  unsigned lo = 0x80, hi = 0xBF;
  size_t len;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return len;
}

int cmx_st_utf8_valid(const char *s) {
  const unsigned char *u = (const unsigned char *)s;
  size_t n = strlen(s);
  for (size_t i = 0; i < n;) {
    size_t l = utf8_len(u + i, n - i);
    if (!l) return 0;
    i += l;
  }
  return 1;
}

static size_t utf8_put(char *dst, uint32_t cp) {
  static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
  if (cp < 0x80) return dst[0] = (char)cp, 1;
  size_t n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  for (size_t i = n - 1; i > 0; i--, cp >>= 6)
    dst[i] = (char)(0x80 | (cp & 0x3F));
  dst[0] = (char)(lead[n] | cp);
  return n;
}

/* ---- the header parser ------------------------------------------------ */

struct parser {
  const char *path;
  const unsigned char *s;
  size_t n, pos;
  const char *tensor; /* the entry being parsed, named in messages */
};

int cmx_st_lerr(const char *path, int status, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return cmx_err(status, "%s: '%s': %s", LOAD, path, what);
}

/* CMX_EIO for a syntax error at the parser's position. */
static int perr(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int perr(struct parser *p, const char *fmt, ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return cmx_st_lerr(p->path, CMX_EIO,
                     "malformed header at byte %zu of %zu%s%.64s%s: %s", p->pos,
                     p->n, p->tensor ? ", in tensor '" : "",
                     p->tensor ? p->tensor : "", p->tensor ? "'" : "", what);
}

/* "expected X, found Y" with Y the byte at the position, printable. */
static int perr_found(struct parser *p, const char *expected) {
  if (p->pos >= p->n)
    return perr(p, "expected %s, found the end of the header", expected);
  unsigned c = p->s[p->pos];
  if (c >= 0x20 && c < 0x7F)
    return perr(p, "expected %s, found '%c'", expected, (char)c);
  return perr(p, "expected %s, found byte 0x%02x", expected, c);
}

static void ws(struct parser *p) {
  while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                           p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
    p->pos++;
}

/* Skips whitespace, then takes c if it comes next (1) or leaves it (0). */
static int eat(struct parser *p, char c) {
  ws(p);
  if (p->pos < p->n && p->s[p->pos] == (unsigned char)c) return ++p->pos, 1;
  return 0;
}

static int expect(struct parser *p, char c, const char *what) {
  return eat(p, c) ? CMX_OK : perr_found(p, what);
}

/* After a list item: 1 when a ',' says another follows, 0 at the closing
 * byte, or a status (negative) for anything else. */
static int more(struct parser *p, char close, const char *what) {
  if (eat(p, ',')) return 1;
  return expect(p, close, what);
}

static int hex4(const unsigned char *s, uint32_t *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = s[i], l = c | 0x20; /* 'A'-'F' to 'a'-'f', nothing else */
    if (c >= '0' && c <= '9')
      *v = *v << 4 | (c - '0');
    else if (l >= 'a' && l <= 'f')
      *v = *v << 4 | (l - 'a' + 10);
    else
      return 0;
  }
  return 1;
}

/* A JSON string at the position. out NULL: checked and skipped; else the
 * decoded UTF-8 (malloc'd), which may not hold U+0000 (names are C
 * strings). */
static int parse_string(struct parser *p, char **out) {
  if (out) *out = NULL;
  if (p->pos >= p->n || p->s[p->pos] != '"') return perr_found(p, "a string");
  size_t end = ++p->pos;
  /* Decoding never lengthens a string: find its end to size the buffer. */
  while (end < p->n && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
  if (end >= p->n) {
    p->pos = p->n;
    return perr(p, "unterminated string");
  }
  char *buf = NULL, tmp[4];
  size_t k = 0;
  if (out && !(buf = malloc(end - p->pos + 1)))
    return cmx_err(CMX_ENOMEM, "%s: out of memory", LOAD);
  while (p->pos < end) {
    const unsigned char *c = p->s + p->pos;
    size_t len;
    if (c[0] < 0x20) {
      free(buf);
      return perr(p, "control byte 0x%02x in a string", c[0]);
    }
    if (c[0] != '\\') {
      if (!(len = utf8_len(c, end - p->pos))) {
        free(buf);
        return perr(p, "invalid UTF-8 byte 0x%02x", c[0]);
      }
      if (buf) memcpy(buf + k, c, len);
      k += len;
      p->pos += len;
      continue;
    }
    /* The scan above stepped over the byte after each backslash, so c[1]
     * lies before the closing quote. */
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit = c[1] ? strchr(from, c[1]) : NULL;
    if (hit) {
      if (buf) buf[k] = to[hit - from];
      k++;
      p->pos += 2;
      continue;
    }
    if (c[1] != 'u') {
      free(buf);
      return perr(p, "invalid escape '\\%c'",
                  c[1] >= 0x20 && c[1] < 0x7F ? (char)c[1] : '?');
    }
    uint32_t cp, lo;
    if (end - p->pos < 6 || !hex4(c + 2, &cp)) {
      free(buf);
      return perr(p, "\\u needs 4 hex digits");
    }
    len = 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (end - p->pos < 12 || c[6] != '\\' || c[7] != 'u' ||
          !hex4(c + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
        free(buf);
        return perr(p, "\\u%04X is a high surrogate without its low half",
                    (unsigned)cp);
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      len = 12;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      free(buf);
      return perr(p, "\\u%04X is a lone low surrogate", (unsigned)cp);
    }
    if (cp == 0 && buf) {
      free(buf);
      return perr(p, "\\u0000 in a name");
    }
    size_t w = utf8_put(buf ? buf + k : tmp, cp);
    k += w;
    p->pos += len;
  }
  p->pos = end + 1;
  if (buf) {
    buf[k] = 0;
    *out = buf;
  }
  return CMX_OK;
}

static int is_digit(const struct parser *p) {
  return p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

/* A non-negative JSON integer (shape and data_offsets hold nothing else). */
static int parse_u64(struct parser *p, uint64_t *v, const char *what) {
  ws(p);
  if (p->pos < p->n && p->s[p->pos] == '-')
    return perr(p, "%s must not be negative", what);
  if (!is_digit(p)) return perr_found(p, what);
  if (p->s[p->pos] == '0' && p->pos + 1 < p->n && p->s[p->pos + 1] >= '0' &&
      p->s[p->pos + 1] <= '9')
    return perr(p, "%s has a leading zero", what);
  uint64_t x = 0;
  while (is_digit(p)) {
    unsigned d = p->s[p->pos] - '0';
    if (x > (UINT64_MAX - d) / 10) return perr(p, "%s overflows 64 bits", what);
    x = x * 10 + d;
    p->pos++;
  }
  if (p->pos < p->n &&
      (p->s[p->pos] == '.' || p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
    return perr(p, "%s must be an integer", what);
  *v = x;
  return CMX_OK;
}

static int skip_number(struct parser *p) {
  if (p->s[p->pos] == '-') p->pos++;
  if (!is_digit(p)) return perr_found(p, "a digit");
  /* JSON allows no leading zero: "0" stands alone. */
  if (p->s[p->pos] == '0') {
    p->pos++;
  } else {
    while (is_digit(p)) p->pos++;
  }
  if (p->pos < p->n && p->s[p->pos] == '.') {
    p->pos++;
    if (!is_digit(p)) return perr_found(p, "a digit after '.'");
    while (is_digit(p)) p->pos++;
  }
  if (p->pos < p->n && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    p->pos++;
    if (p->pos < p->n && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
    if (!is_digit(p)) return perr_found(p, "an exponent");
    while (is_digit(p)) p->pos++;
  }
  return CMX_OK;
}

/* Any JSON value (the contents of __metadata__): checked, not kept. */
static int skip_value(struct parser *p, int depth) {
  static const char *const lits[] = {"true", "false", "null"};
  ws(p);
  if (p->pos >= p->n) return perr_found(p, "a value");
  const unsigned char c = p->s[p->pos];
  if (c == '"') return parse_string(p, NULL);
  if (c == '-' || (c >= '0' && c <= '9')) return skip_number(p);
  for (int i = 0; i < 3; i++) {
    size_t l = strlen(lits[i]);
    if (p->n - p->pos >= l && !memcmp(p->s + p->pos, lits[i], l)) {
      p->pos += l;
      return CMX_OK;
    }
  }
  if (c != '{' && c != '[') return perr_found(p, "a value");
  if (depth >= MAX_DEPTH)
    return perr(p, "values nested deeper than %d", MAX_DEPTH);
  const char close = c == '{' ? '}' : ']';
  p->pos++;
  int st;
  for (st = !eat(p, close); st > 0;
       st = more(p, close, c == '{' ? "',' or '}'" : "',' or ']'")) {
    if (c == '{' &&
        (ws(p), (st = parse_string(p, NULL)) || (st = expect(p, ':', "':'"))))
      return st;
    if ((st = skip_value(p, depth + 1))) return st;
  }
  return st;
}

/* dtype string -> cmx dtype; CMX_EDTYPE for a safetensors dtype cmx lacks. */
static int parse_dtype(struct parser *p, struct cmx_st_entry *e) {
  char *s;
  int st = parse_string(p, &s);
  if (st) return st;
  int known = 0;
  for (size_t i = 0; i < sizeof g_dtypes / sizeof *g_dtypes; i++)
    if (!strcmp(s, g_dtypes[i].name)) e->dtype = g_dtypes[i].dtype, known = 1;
  for (size_t i = 0; i < sizeof g_foreign / sizeof *g_foreign; i++)
    if (!strcmp(s, g_foreign[i]))
      st =
          cmx_st_lerr(p->path, CMX_EDTYPE,
                      "tensor '%.64s' has dtype %s, which cmx does not support",
                      e->name, s);
  if (!known && !st) st = perr(p, "unknown dtype \"%.32s\"", s);
  free(s);
  return st;
}

static int parse_shape(struct parser *p, struct cmx_st_entry *e) {
  int st = expect(p, '[', "'[' opening the shape");
  if (st) return st;
  for (st = !eat(p, ']'); st > 0;
       st = more(p, ']', "',' or ']' in the shape")) {
    uint64_t d;
    if ((st = parse_u64(p, &d, "a dimension"))) return st;
    if (d > INT64_MAX)
      return perr(p, "dimension %llu is too large", (unsigned long long)d);
    if (e->ndim == CMX_MAX_DIMS)
      return cmx_st_lerr(p->path, CMX_EUNSUPPORTED,
                         "tensor '%.64s' has more than %d dimensions", e->name,
                         CMX_MAX_DIMS);
    e->shape[e->ndim++] = (int64_t)d;
  }
  return st;
}

static int parse_offsets(struct parser *p, struct cmx_st_entry *e) {
  int st;
  if ((st = expect(p, '[', "'[' opening data_offsets")) ||
      (st = parse_u64(p, &e->begin, "a data offset")) ||
      (st = expect(p, ',', "',' between the two data offsets")) ||
      (st = parse_u64(p, &e->end, "a data offset")))
    return st;
  return expect(p, ']', "']' after the two data offsets");
}

/* The checks that need the whole entry: the size its shape and dtype give
 * must be what its offsets span, inside the data area. */
static int check_entry(const char *path, const struct cmx_st_entry *e,
                       uint64_t data_len) {
  char sh[200];
  int64_t count = 1;
  int zero = 0;
  cmx_fmt_shape(sh, e->shape, e->ndim);
  for (int i = 0; i < e->ndim; i++) {
    /* The bound cmx_check_shape puts on the product of nonzero dims. */
    if (e->shape[i] && count > INT64_MAX / 16 / e->shape[i])
      return cmx_st_lerr(path, CMX_EIO,
                         "tensor '%.64s' has shape %s, whose element count "
                         "overflows",
                         e->name, sh);
    if (e->shape[i]) count *= e->shape[i];
    zero |= !e->shape[i];
  }
  const unsigned long long b = e->begin, en = e->end,
                           nbytes = zero ? 0
                                         : (unsigned long long)count *
                                               cmx_dtype_bytes(e->dtype);
  if (b > en)
    return cmx_st_lerr(path, CMX_EIO,
                       "tensor '%.64s' has data_offsets [%llu, "
                       "%llu], which end before they begin",
                       e->name, b, en);
  if (en - b != nbytes)
    return cmx_st_lerr(
        path, CMX_EIO,
        "tensor '%.64s' of shape %s and dtype %s "
        "needs %llu bytes, its data_offsets [%llu, %llu] span %llu",
        e->name, sh, cmx_dtype_name(e->dtype), nbytes, b, en, en - b);
  if (en > data_len)
    return cmx_st_lerr(path, CMX_EIO,
                       "tensor '%.64s' has data_offsets [%llu, "
                       "%llu], past the %llu bytes of data",
                       e->name, b, en, (unsigned long long)data_len);
  return CMX_OK;
}

/* One tensor's {"dtype": ..., "shape": [...], "data_offsets": [b, e]}. */
static int parse_entry(struct parser *p, struct cmx_st_entry *e,
                       uint64_t data_len) {
  static const char *const fields[3] = {"dtype", "shape", "data_offsets"};
  int have[3] = {0, 0, 0}, st;
  p->tensor = e->name;
  if ((st = expect(p, '{', "'{' opening the tensor's fields"))) return st;
  for (st = !eat(p, '}'); st > 0; st = more(p, '}', "',' or '}'")) {
    char *key;
    int f = 0;
    ws(p);
    if ((st = parse_string(p, &key))) return st;
    while (f < 3 && strcmp(key, fields[f])) f++;
    if (f == 3 || have[f]) {
      st = perr(
          p,
          f == 3 ? "unknown field \"%.32s\"" : "field \"%.32s\" appears twice",
          key);
      free(key);
      return st;
    }
    free(key);
    have[f] = 1;
    if ((st = expect(p, ':', "':'"))) return st;
    ws(p);
    st = f == 0   ? parse_dtype(p, e)
         : f == 1 ? parse_shape(p, e)
                  : parse_offsets(p, e);
    if (st) return st;
  }
  if (st) return st;
  for (int f = 0; f < 3; f++)
    if (!have[f]) return perr(p, "no \"%s\" field", fields[f]);
  p->tensor = NULL;
  return check_entry(p->path, e, data_len);
}

void cmx_st_free_entries(struct cmx_st_entry *es, size_t n) {
  for (size_t i = 0; i < n; i++) free(es[i].name);
  free(es);
}

static int by_name(const void *a, const void *b) {
  return strcmp((*(const struct cmx_st_entry *const *)a)->name,
                (*(const struct cmx_st_entry *const *)b)->name);
}

static int by_offset(const void *a, const void *b) {
  const struct cmx_st_entry *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Entries sorted into file order, after refusing a repeated name (sorted
 * by name: a header may hold very many tensors). */
static int order_entries(const char *path, struct cmx_st_entry *es, size_t n) {
  if (n < 2) return CMX_OK;
  struct cmx_st_entry **by = malloc(n * sizeof *by);
  int st = CMX_OK;
  if (!by) return cmx_err(CMX_ENOMEM, "%s: out of memory", LOAD);
  for (size_t i = 0; i < n; i++) by[i] = &es[i];
  qsort(by, n, sizeof *by, by_name);
  for (size_t i = 1; i < n && !st; i++)
    if (!strcmp(by[i - 1]->name, by[i]->name))
      st = cmx_st_lerr(path, CMX_EIO, "tensor name '%.64s' appears twice",
                       by[i]->name);
  free(by);
  if (!st) qsort(es, n, sizeof *es, by_offset);
  return st;
}

/* The whole header: an object of tensor entries and at most one
 * "__metadata__". On success *out holds *count entries in file order. */
static int parse_header(struct parser *p, uint64_t data_len,
                        struct cmx_st_entry **out, size_t *count) {
  struct cmx_st_entry *es = NULL;
  size_t n = 0, cap = 0;
  int st, meta = 0;
  if ((st = expect(p, '{', "'{' opening the header"))) return st;
  for (st = !eat(p, '}'); st > 0; st = more(p, '}', "',' or '}'")) {
    char *key;
    ws(p);
    if ((st = parse_string(p, &key))) break;
    if (!strcmp(key, "__metadata__")) {
      free(key);
      if (meta++) {
        st = perr(p, "\"__metadata__\" appears twice");
      } else if (!(st = expect(p, ':', "':'"))) {
        /* null: what mx.save_safetensors writes when given no metadata. */
        ws(p);
        const int is_null =
            p->n - p->pos >= 4 && !memcmp(p->s + p->pos, "null", 4);
        st = p->pos < p->n && (p->s[p->pos] == '{' || is_null)
                 ? skip_value(p, 0)
                 : perr_found(p, "an object or null as __metadata__");
      }
      if (st) break;
      continue;
    }
    if (n == cap) {
      struct cmx_st_entry *bigger =
          realloc(es, (cap ? 2 * cap : 16) * sizeof *es);
      if (!bigger) {
        free(key);
        st = cmx_err(CMX_ENOMEM, "%s: out of memory", LOAD);
        break;
      }
      es = bigger;
      cap = cap ? 2 * cap : 16;
    }
    es[n] = (struct cmx_st_entry){.name = key, .index = n};
    struct cmx_st_entry *e = &es[n++]; /* owned by es from here on */
    if ((st = expect(p, ':', "':'")) || (st = parse_entry(p, e, data_len)))
      break;
  }
  /* Writers pad the header with spaces; anything else after it is not
   * JSON. */
  ws(p);
  if (!st && p->pos < p->n)
    st = perr(p, "trailing byte 0x%02x after the header object", p->s[p->pos]);
  if (!st) st = order_entries(p->path, es, n);
  if (st) {
    cmx_st_free_entries(es, n);
    return st;
  }
  *out = es;
  *count = n;
  return CMX_OK;
}

int cmx_st_parse_header(const char *path, const unsigned char *s, size_t n,
                        uint64_t data_len, struct cmx_st_entry **out,
                        size_t *count) {
  struct parser p = {.path = path, .s = s, .n = n};
  return parse_header(&p, data_len, out, count);
}

const char *cmx_st_dtype_name(cmx_dtype d) {
  for (size_t i = 0; i < sizeof g_dtypes / sizeof *g_dtypes; i++)
    if (g_dtypes[i].dtype == d) return g_dtypes[i].name;
  return NULL;
}
