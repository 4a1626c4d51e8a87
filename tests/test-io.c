/* safetensors IO: round trips of every dtype, scalars, empty arrays and
 * views; files built byte by byte as other writers make them; each
 * malformed file the loader must refuse (status, message naming the path
 * and the fault, NULL out-params, no leak); the memory limit; argument
 * checks; and a mutation loop (every truncation, flipped header bytes)
 * that must end in a status, never a crash. */
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test-util.h"

static char g_dir[64];

static void io_setup(void) {
  strcpy(g_dir, "/tmp/cmx-io-XXXXXX");
  cr_assert_not_null(mkdtemp(g_dir), "mkdtemp");
}

static void io_teardown(void) {
  DIR *d = opendir(g_dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char p[512];
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
    if (unlink(p)) rmdir(p);
  }
  if (d) closedir(d);
  rmdir(g_dir);
}

TestSuite(io, .init = io_setup, .fini = io_teardown);

/* g_dir/name, in one of four rotating buffers. */
static const char *tp(const char *name) {
  static char buf[4][512];
  static int k;
  char *p = buf[k++ % 4];
  snprintf(p, 512, "%s/%s", g_dir, name);
  return p;
}

static int dir_count(void) {
  DIR *d = opendir(g_dir);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d)))
    n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  if (d) closedir(d);
  return n;
}

static void write_bytes(const char *path, const void *b, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "fopen %s", path);
  cr_assert_eq(fwrite(b, 1, len, f), len);
  cr_assert_eq(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "fopen %s", path);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(*len + 1);
  cr_assert_eq(fread(b, 1, *len, f), *len);
  fclose(f);
  b[*len] = 0;
  return b;
}

static void put_u64(unsigned char *d, uint64_t v) {
  for (int i = 0; i < 8; i++) d[i] = (unsigned char)(v >> (8 * i));
}

/* A file as another writer makes it: length of hdr, hdr, data. Returns the
 * bytes (malloc'd) and their count in *len. */
static unsigned char *st_bytes(const char *hdr, const void *data, size_t dlen,
                               size_t *len) {
  size_t h = strlen(hdr);
  *len = 8 + h + dlen;
  unsigned char *b = malloc(*len);
  put_u64(b, h);
  memcpy(b + 8, hdr, h);
  if (dlen) memcpy(b + 8 + h, data, dlen);
  return b;
}

static void write_st(const char *path, const char *hdr, const void *data,
                     size_t dlen) {
  size_t len;
  unsigned char *b = st_bytes(hdr, data, dlen, &len);
  write_bytes(path, b, len);
  free(b);
}

static void free_loaded(cmx_array *as, char **ns, size_t n) {
  for (size_t i = 0; i < n; i++) {
    cmx_array_free(as[i]);
    free(ns[i]);
  }
  free(as);
  free(ns);
}

/* Loading path fails with status and a message naming the function, the
 * path and needle; the out-params are NULL / 0 and no memory stays. */
static void expect_fail(const char *path, int status, const char *needle) {
  size_t start = cmx_get_active_memory();
  cmx_array *as = (cmx_array *)&as;
  char **ns = (char **)&ns;
  size_t n = 99;
  int rc = cmx_load_safetensors(path, &as, &ns, &n);
  const char *m = cmx_last_error();
  cr_assert_eq(rc, status, "%s: got %s (%s), want %s", needle,
               cmx_status_string(rc), m, cmx_status_string(status));
  cr_assert(strstr(m, "cmx_load_safetensors"), "'%s' lacks the function", m);
  cr_assert(strstr(m, path), "'%s' lacks the path", m);
  cr_assert(strstr(m, needle), "'%s' lacks '%s'", m, needle);
  cr_assert_null(as);
  cr_assert_null(ns);
  cr_assert_eq(n, 0);
  cr_assert_eq(cmx_get_active_memory(), start, "%s: leaked %zu bytes", needle,
               cmx_get_active_memory() - start);
}

static void load_ok(const char *path, cmx_array **as, char ***ns, size_t *n) {
  int rc = cmx_load_safetensors(path, as, ns, n);
  cr_assert_eq(rc, CMX_OK, "load %s: %s", path, cmx_last_error());
}

static const void *data_of(cmx_array a) {
  const void *p;
  TU_OK(cmx_array_data(&p, a));
  return p;
}

/* Random bytes; 0 / 1 for bool. Raw bits, so NaN payloads and subnormals
 * of the float types are in the round trip too. */
static void rand_bits(unsigned char *b, size_t n, cmx_dtype t, uint64_t *s) {
  for (size_t i = 0; i < n; i++)
    b[i] = (unsigned char)(t == CMX_BOOL ? tu_next(s) >> 63 : tu_next(s));
}

Test(io, round_trip_every_dtype) {
  size_t start = cmx_get_active_memory();
  cmx_array as[CMX_NUM_DTYPES];
  char nm[CMX_NUM_DTYPES][32];
  const char *np[CMX_NUM_DTYPES];
  unsigned char *bits[CMX_NUM_DTYPES];
  int64_t sh[3] = {3, 1, 5};
  uint64_t seed = 42;
  for (int t = 0; t < CMX_NUM_DTYPES; t++) {
    size_t nb = 15 * cmx_dtype_size((cmx_dtype)t);
    bits[t] = malloc(nb);
    rand_bits(bits[t], nb, (cmx_dtype)t, &seed);
    TU_OK(cmx_array_from_data(&as[t], bits[t], (cmx_dtype)t, sh, 3));
    snprintf(nm[t], sizeof nm[t], "layer.%d.%s", t,
             cmx_dtype_name((cmx_dtype)t));
    np[t] = nm[t];
  }
  const char *path = tp("all.safetensors");
  TU_OK(cmx_save_safetensors(path, as, np, CMX_NUM_DTYPES));
  cr_assert_eq(dir_count(), 1, "a temporary file was left");
  cmx_array *ls;
  char **ln;
  size_t n;
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, CMX_NUM_DTYPES);
  for (int t = 0; t < CMX_NUM_DTYPES; t++) {
    cr_assert_str_eq(ln[t], nm[t], "order: %s at %d", ln[t], t);
    cr_assert_eq(cmx_array_dtype(ls[t]), (cmx_dtype)t, "%s", nm[t]);
    cr_assert(cmx_array_is_evaluated(ls[t]));
    tu_assert_shape(ls[t], sh, 3);
    cr_assert(
        !memcmp(data_of(ls[t]), bits[t], 15 * cmx_dtype_size((cmx_dtype)t)),
        "%s: bits differ", nm[t]);
    cmx_array_free(as[t]);
    free(bits[t]);
  }
  free_loaded(ls, ln, n);
  cr_assert_eq(cmx_get_active_memory(), start);
}

Test(io, scalars_and_zero_size) {
  double d = 3.25;
  uint8_t one = 1;
  int64_t z1[2] = {0, 3}, z2[3] = {2, 0, 4};
  cmx_array a[4];
  TU_OK(cmx_array_from_data(&a[0], &d, CMX_F64, NULL, 0));
  TU_OK(cmx_array_from_data(&a[1], NULL, CMX_F32, z1, 2));
  TU_OK(cmx_array_from_data(&a[2], NULL, CMX_I64, z2, 3));
  TU_OK(cmx_array_from_data(&a[3], &one, CMX_BOOL, NULL, 0));
  const char *np[4] = {"scalar", "empty", "empty3", "flag"};
  const char *path = tp("small.safetensors");
  TU_OK(cmx_save_safetensors(path, a, np, 4));
  cmx_array *ls;
  char **ln;
  size_t n;
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 4);
  /* Zero-size tensors share an offset with the next one: header order. */
  for (size_t i = 0; i < 4; i++) {
    cr_assert_str_eq(ln[i], np[i]);
    cr_assert_eq(cmx_array_dtype(ls[i]), cmx_array_dtype(a[i]));
    tu_assert_shape(ls[i], cmx_array_shape(a[i]), cmx_array_ndim(a[i]));
    cr_assert_eq(cmx_array_size(ls[i]), cmx_array_size(a[i]));
  }
  cr_assert_eq(*(const double *)data_of(ls[0]), 3.25);
  cr_assert_eq(*(const uint8_t *)data_of(ls[3]), 1);
  free_loaded(ls, ln, n);
  for (int i = 0; i < 4; i++) cmx_array_free(a[i]);
}

Test(io, views_are_saved_as_their_elements) {
  cmx_array base, row, t, b, s, v[3];
  int64_t sh[2] = {3, 4}, bs[2] = {4, 3}, st[2] = {0, 0}, sp[2] = {3, 4},
          step[2] = {2, 3};
  TU_OK(cmx_arange(&base, 0.5, 12.5, 1, CMX_F32, NULL));
  TU_OK(cmx_reshape(&row, base, sh, 2, NULL));
  TU_OK(cmx_transpose(&t, row, NULL, 0, NULL));     /* (4, 3) */
  TU_OK(cmx_slice(&s, row, st, sp, step, 2, NULL)); /* (2, 2) */
  float r3[3] = {-1.5f, 2.25f, 7.0f};
  int64_t three = 3;
  cmx_array small;
  TU_OK(cmx_array_from_data(&small, r3, CMX_F32, &three, 1));
  TU_OK(cmx_broadcast_to(&b, small, bs, 2, NULL)); /* (4, 3) */
  v[0] = t, v[1] = b, v[2] = s;
  const char *np[3] = {"transposed", "broadcast", "strided"};
  const char *path = tp("views.safetensors");
  TU_OK(cmx_save_safetensors(path, v, np, 3));
  size_t flen;
  free(read_bytes(path, &flen));
  unsigned char hl[8];
  FILE *f = fopen(path, "rb");
  cr_assert_eq(fread(hl, 1, 8, f), 8);
  fclose(f);
  uint64_t h = 0;
  for (int i = 7; i >= 0; i--) h = h << 8 | hl[i];
  cr_assert_eq(flen, 8 + h + (12 + 12 + 4) * 4, "broadcast materialised");
  cmx_array *ls;
  char **ln;
  size_t n;
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 3);
  for (int i = 0; i < 3; i++) {
    float want[12], got[12];
    size_t nb = cmx_array_nbytes(v[i]);
    TU_OK(cmx_array_read(v[i], want, sizeof want));
    cr_assert_str_eq(ln[i], np[i]);
    tu_assert_shape(ls[i], cmx_array_shape(v[i]), 2);
    cr_assert_eq(cmx_array_nbytes(ls[i]), nb);
    memcpy(got, data_of(ls[i]), nb);
    cr_assert(!memcmp(got, want, nb), "%s differs", np[i]);
  }
  cr_assert_eq(((const float *)data_of(ls[0]))[1], 4.5f); /* t[0][1] */
  cr_assert_eq(((const float *)data_of(ls[1]))[4], 2.25f);
  free_loaded(ls, ln, n);
  cmx_array xs[6] = {base, row, t, s, small, b};
  for (int i = 0; i < 6; i++) cmx_array_free(xs[i]);
}

Test(io, file_layout_order_and_escaped_names) {
  uint8_t u[3] = {1, 2, 250};
  float fl[2] = {1.0f, -2.0f};
  int64_t s3 = 3, s2 = 2;
  cmx_array a[2];
  TU_OK(cmx_array_from_data(&a[0], u, CMX_U8, &s3, 1));
  TU_OK(cmx_array_from_data(&a[1], fl, CMX_F32, &s2, 1));
  const char *np[2] = {"z\"q\\b\n", "a/\xc3\xa9\xf0\x9f\x98\x80"};
  const char *path = tp("layout.safetensors");
  TU_OK(cmx_save_safetensors(path, a, np, 2));
  size_t len;
  unsigned char *b = read_bytes(path, &len);
  uint64_t h = 0;
  for (int i = 7; i >= 0; i--) h = h << 8 | b[i];
  cr_assert_eq(h % 8, 0, "data start 8 + %llu is not 8-byte aligned",
               (unsigned long long)h);
  cr_assert_eq(len, 8 + h + 11);
  const char *want =
      "{\"z\\\"q\\\\b\\u000a\":{\"dtype\":\"U8\",\"shape\":[3],"
      "\"data_offsets\":[0,3]},\"a/\xc3\xa9\xf0\x9f\x98\x80\":"
      "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[3,"
      "11]}}";
  cr_assert(!memcmp(b + 8, want, strlen(want)), "header %.*s", (int)h, b + 8);
  for (size_t i = 8 + strlen(want); i < 8 + h; i++)
    cr_assert_eq(b[i], ' ', "padding byte %zu", i);
  cr_assert(!memcmp(b + 8 + h, u, 3) && !memcmp(b + 8 + h + 3, fl, 8));
  free(b);
  cmx_array *ls;
  char **ln;
  size_t n;
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(ln[0], np[0]);
  cr_assert_str_eq(ln[1], np[1]);
  free_loaded(ls, ln, n);
  /* Saving again replaces the file whole, in the new order. */
  cmx_array r[2] = {a[1], a[0]};
  const char *rn[2] = {"second", "first"};
  TU_OK(cmx_save_safetensors(path, r, rn, 2));
  cr_assert_eq(dir_count(), 1);
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(ln[0], "second");
  cr_assert_eq(cmx_array_dtype(ls[0]), CMX_F32);
  free_loaded(ls, ln, n);
  cmx_array_free(a[0]);
  cmx_array_free(a[1]);
}

Test(io, empty_file) {
  const char *path = tp("empty.safetensors");
  TU_OK(cmx_save_safetensors(path, NULL, NULL, 0));
  size_t len;
  unsigned char *b = read_bytes(path, &len);
  cr_assert_eq(len, 16);
  cr_assert_eq(b[0], 8);
  cr_assert(!memcmp(b + 8, "{}      ", 8));
  free(b);
  cmx_array *ls = (cmx_array *)&ls;
  char **ln = (char **)&ln;
  size_t n = 5;
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 0);
  cr_assert_null(ls);
  cr_assert_null(ln);
}

/* A header as other writers produce it: __metadata__ (nested values too),
 * whitespace everywhere, keys in another order than the data, escapes, an
 * unaligned data start, a bool byte other than 1. */
Test(io, hand_written_file_loads) {
  const char *hdr =
      " \n{ \"__metadata__\" : {\"format\": \"pt\", \"n\": {\"k\": [\"v\", 1,"
      " -2.5e3, 0.5, true, false, null, {}, []]}},\n"
      "\t\"a\\u00e9\\ud83d\\ude00\\\"\\/\" : {\"data_offsets\" : [ 4 , 16 ],"
      " \"dtype\":\"F32\", \"shape\" : [ 3 ] } ,\r\n"
      "  \"b\": {\"shape\": [2], \"dtype\": \"I16\", \"data_offsets\": [0, 4]},"
      "\"c\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[16,18]},"
      "\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[18,26]},"
      "\"e\":{\"dtype\":\"BF16\",\"shape\":[0,5],\"data_offsets\":[26,26]}"
      "}   ";
  unsigned char data[26];
  int16_t bv[2] = {-7, 300};
  float av[3] = {1.5f, -2.0f, 3e10f};
  double sv = -0.125;
  memcpy(data, bv, 4);
  memcpy(data + 4, av, 12);
  data[16] = 0;
  data[17] = 7;
  memcpy(data + 18, &sv, 8);
  cr_assert_neq(strlen(hdr) % 8, 0, "the data start must be unaligned");
  const char *path = tp("hand.safetensors");
  write_st(path, hdr, data, sizeof data);
  size_t start = cmx_get_active_memory();
  cmx_array *ls;
  char **ln;
  size_t n;
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 5);
  /* File order: b (0), a (4), c (16), s (18), e (26). */
  cr_assert_str_eq(ln[0], "b");
  cr_assert_str_eq(ln[1], "a\xc3\xa9\xf0\x9f\x98\x80\"/");
  cr_assert_str_eq(ln[2], "c");
  cr_assert_str_eq(ln[3], "s");
  cr_assert_str_eq(ln[4], "e");
  cr_assert_eq(cmx_array_dtype(ls[0]), CMX_I16);
  cr_assert(!memcmp(data_of(ls[0]), bv, 4));
  cr_assert_eq(cmx_array_dtype(ls[1]), CMX_F32);
  cr_assert(!memcmp(data_of(ls[1]), av, 12));
  const uint8_t *c = data_of(ls[2]);
  cr_assert(c[0] == 0 && c[1] == 1, "bool bytes %d %d", c[0], c[1]);
  cr_assert_eq(cmx_array_ndim(ls[3]), 0);
  cr_assert_eq(*(const double *)data_of(ls[3]), -0.125);
  int64_t es[2] = {0, 5};
  tu_assert_shape(ls[4], es, 2);
  cr_assert_eq(cmx_array_dtype(ls[4]), CMX_BF16);
  /* Arrays from a file take part in ops like any other. */
  cmx_array sum;
  double sumv;
  TU_OK(cmx_sum(&sum, ls[1], NULL, 0, false, NULL));
  TU_OK(cmx_array_item(&sumv, sum));
  cr_assert_eq(sumv, (double)(1.5f - 2.0f + 3e10f));
  cmx_array_free(sum);
  free_loaded(ls, ln, n);
  cr_assert_eq(cmx_get_active_memory(), start);
  /* A header of exactly {} with no data, and trailing data no tensor
   * covers, both load. */
  write_st(path, "{}", NULL, 0);
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 0);
  write_st(path,
           "{\"b\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":"
           "[2,4]}}",
           data, 10);
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 1);
  cr_assert_eq(*(const int16_t *)data_of(ls[0]), 300);
  free_loaded(ls, ln, n);
}

/* The header mx.save_safetensors writes when given no metadata (byte for
 * byte, MLX 0.32): "__metadata__" is null. */
Test(io, mlx_null_metadata_loads) {
  float av[3];
  for (int i = 0; i < 3; i++) av[i] = (float)rand() / RAND_MAX - 0.5f;
  const char *path = tp("mlx-null-meta.safetensors");
  write_st(path,
           "{\"__metadata__\":null,\"a\":{\"data_offsets\":[0,12],"
           "\"dtype\":\"F32\",\"shape\":[3]}}",
           av, sizeof av);
  cmx_array *ls;
  char **ln;
  size_t n;
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 1);
  cr_assert_str_eq(ln[0], "a");
  cr_assert(!memcmp(data_of(ls[0]), av, sizeof av));
  free_loaded(ls, ln, n);
  /* Only the literal null: "nul" and "nullx" stay malformed. */
  write_st(path, "{\"__metadata__\":nul}", NULL, 0);
  expect_fail(path, CMX_EIO, "__metadata__");
  write_st(path, "{\"__metadata__\":nullx}", NULL, 0);
  expect_fail(path, CMX_EIO, "byte");
}

struct bad_case {
  const char *hdr;
  size_t dlen;
  int status;
  const char *needle;
};

#define T1 "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"

Test(io, malformed_headers_are_refused) {
  static const struct bad_case cases[] = {
      {"", 8, CMX_EIO, "found the end of the header"},
      {"{" T1, 8, CMX_EIO, "found the end of the header"},
      {"{" T1 ",}", 8, CMX_EIO, "expected a string, found '}'"},
      {"[]", 8, CMX_EIO, "expected '{' opening the header"},
      {"{'x':1}", 8, CMX_EIO, "expected a string, found '''"},
      {"{\"x\" {}}", 8, CMX_EIO, "expected ':'"},
      {"{} x", 8, CMX_EIO, "trailing byte 0x78"},
      {"{\"x\":5}", 8, CMX_EIO, "'{' opening the tensor's fields"},
      {"{\"x\\q\":{}}", 8, CMX_EIO, "invalid escape '\\q'"},
      {"{\"\\u12\":{}}", 8, CMX_EIO, "4 hex digits"},
      {"{\"\\ud800\":{}}", 8, CMX_EIO, "\\uD800 is a high surrogate"},
      {"{\"\\udc00x\":{}}", 8, CMX_EIO, "lone low surrogate"},
      {"{\"a\\u0000b\":{}}", 8, CMX_EIO, "\\u0000 in a name"},
      {"{\"a\tb\":{}}", 8, CMX_EIO, "control byte 0x09"},
      {"{\"\xff\":{}}", 8, CMX_EIO, "invalid UTF-8 byte 0xff"},
      {"{\"\xc0\xaf\":{}}", 8, CMX_EIO, "invalid UTF-8 byte 0xc0"},
      {"{\"x", 8, CMX_EIO, "unterminated string"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}}", 8,
       CMX_EIO, "leading zero"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
       CMX_EIO, "must not be negative"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8,
       CMX_EIO, "must be an integer"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2e0],\"data_offsets\":[0,8]}}", 8,
       CMX_EIO, "must be an integer"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,"
       "99999999999999999999]}}",
       8, CMX_EIO, "overflows 64 bits"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[9223372036854775808],"
       "\"data_offsets\":[0,8]}}",
       8, CMX_EIO, "9223372036854775808 is too"},
      {"{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, CMX_EIO,
       "no \"shape\" field"},
      {"{\"x\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, CMX_EIO,
       "no \"dtype\" field"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, CMX_EIO,
       "no \"data_offsets\" field"},
      {"{\"x\":{}}", 8, CMX_EIO, "in tensor 'x': no \"dtype\""},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
       "\"foo\":1}}",
       8, CMX_EIO, "unknown field \"foo\""},
      {"{\"x\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],"
       "\"data_offsets\":[0,8]}}",
       8, CMX_EIO, "field \"dtype\" appears twice"},
      {"{" T1 "," T1 "}", 8, CMX_EIO, "tensor name 'x' appears twice"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
       "\"data_offsets\":[0,8]}}",
       8, CMX_EIO, "(4294967296,4294967296)"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
       CMX_EIO, "needs 12 bytes, its data_offsets [0, 8] span 8"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
       CMX_EIO, "[0, 16], past the 8 bytes of data"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8,
       CMX_EIO, "[8, 4], which end before they begin"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", 8,
       CMX_EIO, "']' after the two data offsets"},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
       CMX_EIO, "',' between the two data offsets"},
      {"{\"x\":{\"dtype\":\"U16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8,
       CMX_EDTYPE, "tensor 'x' has dtype U16"},
      {"{\"x\":{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}}",
       8, CMX_EDTYPE, "dtype F8_E4M3"},
      {"{\"x\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
       CMX_EDTYPE, "dtype U64"},
      {"{\"x\":{\"dtype\":\"XYZ\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
       CMX_EIO, "unknown dtype \"XYZ\""},
      {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],"
       "\"data_offsets\":[0,8]}}",
       8, CMX_EUNSUPPORTED, "more than 8 dimensions"},
      {"{\"__metadata__\":\"pt\"}", 8, CMX_EIO,
       "an object or null as __metadata__"},
      {"{\"__metadata__\":{},\"__metadata__\":{}}", 8, CMX_EIO,
       "\"__metadata__\" appears twice"},
      {"{\"__metadata__\":{\"a\":tru}}", 8, CMX_EIO, "expected a value"},
      {"{\"__metadata__\":{\"a\":[1,]}}", 8, CMX_EIO,
       "expected a value, found ']'"},
      {"{\"__metadata__\":{\"a\":-}}", 8, CMX_EIO, "expected a digit"},
      {"{\"__metadata__\":{\"a\":1.}}", 8, CMX_EIO, "a digit after '.'"},
      {"{\"__metadata__\":{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
       "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]"
       "}}",
       8, CMX_EIO, "nested deeper than 64"},
  };
  static const unsigned char data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const char *path = tp("bad.safetensors");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t h = strlen(cases[i].hdr);
    unsigned char *b = malloc(8 + h + cases[i].dlen);
    put_u64(b, h);
    memcpy(b + 8, cases[i].hdr, h);
    memcpy(b + 8 + h, data, cases[i].dlen);
    write_bytes(path, b, 8 + h + cases[i].dlen);
    free(b);
    expect_fail(path, cases[i].status, cases[i].needle);
  }
  /* And the valid tensor they are made from loads. */
  write_st(path, "{" T1 "}", data, 8);
  cmx_array *ls;
  char **ln;
  size_t n;
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 1);
  free_loaded(ls, ln, n);
}

Test(io, bad_files_are_refused) {
  expect_fail(tp("missing.safetensors"), CMX_EIO, "No such file");
  const char *path = tp("short.safetensors");
  write_bytes(path, "\x02\0\0\0\0", 5);
  expect_fail(path, CMX_EIO, "5 bytes, shorter than the 8-byte");
  unsigned char b[20] = {0};
  put_u64(b, 100);
  write_bytes(path, b, sizeof b);
  expect_fail(path, CMX_EIO, "header length 100 is more than the 12 bytes");
  put_u64(b, (uint64_t)1 << 60);
  write_bytes(path, b, sizeof b);
  expect_fail(path, CMX_EIO, "1152921504606846976 is over the 100000000");
  put_u64(b, 100000001);
  write_bytes(path, b, sizeof b);
  expect_fail(path, CMX_EIO, "header length 100000001");
  /* A NUL after the object is not JSON whitespace. */
  memcpy(b + 8, "{}", 3);
  put_u64(b, 3);
  write_bytes(path, b, 11);
  expect_fail(path, CMX_EIO, "trailing byte 0x00");
  mkdir(tp("sub"), 0755);
  expect_fail(tp("sub"), CMX_EIO, "not a regular file");
}

Test(io, memory_limit_gives_enomem) {
  enum { N = 1 << 18 }; /* 1 MiB of f32 per tensor */
  char hdr[256];
  snprintf(hdr, sizeof hdr,
           "{\"a\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[0,%d]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%d,%d]}}",
           N, 4 * N, N, 4 * N, 8 * N);
  unsigned char *data = calloc(8, N);
  const char *path = tp("big.safetensors");
  write_st(path, hdr, data, 8 * (size_t)N);
  size_t start = cmx_get_active_memory();
  /* Room for a, not for b: a is made, then freed on b's failure. */
  size_t prev = cmx_set_memory_limit(start + 6 * N);
  cmx_array *ls = (cmx_array *)&ls;
  char **ln = (char **)&ln;
  size_t n = 3;
  int rc = cmx_load_safetensors(path, &ls, &ln, &n);
  cr_assert_eq(rc, CMX_ENOMEM, "%d %s", rc, cmx_last_error());
  cr_assert(strstr(cmx_last_error(), "cmx_load_safetensors"), "%s",
            cmx_last_error());
  cr_assert(strstr(cmx_last_error(), "memory limit"), "%s", cmx_last_error());
  cr_assert(ls == NULL && ln == NULL && n == 0);
  cr_assert_eq(cmx_get_active_memory(), start);
  /* Saving a broadcast view needs a row-major copy, under the limit too;
   * the failed save leaves no file behind. */
  float one = 1.0f;
  int64_t s1 = 1, big = 8 * N;
  cmx_array x, bx;
  TU_OK(cmx_array_from_data(&x, &one, CMX_F32, &s1, 1));
  TU_OK(cmx_broadcast_to(&bx, x, &big, 1, NULL));
  cmx_set_memory_limit(cmx_get_active_memory() + 4096);
  int files = dir_count();
  const char *name = "bx";
  rc = cmx_save_safetensors(tp("bx.safetensors"), &bx, &name, 1);
  cr_assert_eq(rc, CMX_ENOMEM, "%d %s", rc, cmx_last_error());
  cr_assert_eq(dir_count(), files, "a failed save left a file");
  cmx_set_memory_limit(prev);
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 2);
  free_loaded(ls, ln, n);
  TU_OK(cmx_save_safetensors(tp("bx.safetensors"), &bx, &name, 1));
  cmx_array_free(bx);
  cmx_array_free(x);
  free(data);
}

Test(io, bad_arguments) {
  float v[2] = {1, 2};
  int64_t s = 2;
  cmx_array a, b;
  TU_OK(cmx_array_from_data(&a, v, CMX_F32, &s, 1));
  TU_OK(cmx_array_from_data(&b, v, CMX_F32, &s, 1));
  const char *path = tp("args.safetensors"), *fn = "cmx_save_safetensors";
  cmx_array two[2] = {a, b}, hole[2] = {a, NULL};
  const char *nm[2] = {"a", "b"}, *nnull[2] = {"a", NULL}, *dup[2] = {"w", "w"},
             *meta[2] = {"a", "__metadata__"}, *bad8[2] = {"a", "\xff"};
  TU_FAILS(CMX_EINVAL, fn, cmx_save_safetensors(NULL, two, nm, 2));
  TU_FAILS(CMX_EINVAL, "arrays is NULL",
           cmx_save_safetensors(path, NULL, nm, 2));
  TU_FAILS(CMX_EINVAL, "names is NULL",
           cmx_save_safetensors(path, two, NULL, 2));
  TU_FAILS(CMX_EINVAL, "arrays[1] is NULL",
           cmx_save_safetensors(path, hole, nm, 2));
  TU_FAILS(CMX_EINVAL, "names[1] is NULL",
           cmx_save_safetensors(path, two, nnull, 2));
  TU_FAILS(CMX_EINVAL, "'w' appears twice",
           cmx_save_safetensors(path, two, dup, 2));
  TU_FAILS(CMX_EINVAL, "names[1] is \"__metadata__\"",
           cmx_save_safetensors(path, two, meta, 2));
  TU_FAILS(CMX_EINVAL, "names[1] is not valid UTF-8",
           cmx_save_safetensors(path, two, bad8, 2));
  cr_assert_eq(dir_count(), 0, "a refused save wrote a file");
  /* I/O errors: a missing directory, and a path the rename cannot
   * replace (a directory): the temporary file is removed. */
  char missing[600];
  snprintf(missing, sizeof missing, "%s/nodir/x.safetensors", g_dir);
  TU_FAILS(CMX_EIO, "No such file or directory",
           cmx_save_safetensors(missing, two, nm, 2));
  cr_assert(strstr(cmx_last_error(), missing), "%s", cmx_last_error());
  cr_assert_eq(mkdir(tp("dir"), 0755), 0);
  TU_FAILS(CMX_EIO, "renaming", cmx_save_safetensors(tp("dir"), two, nm, 2));
  cr_assert_eq(dir_count(), 1, "the temporary file was left");
  rmdir(tp("dir"));

  cmx_array *ls = (cmx_array *)&ls;
  char **ln = (char **)&ln;
  size_t n = 7;
  TU_FAILS(CMX_EINVAL, "path is NULL",
           cmx_load_safetensors(NULL, &ls, &ln, &n));
  cr_assert(ls == NULL && ln == NULL && n == 0);
  ln = (char **)&ln;
  n = 7;
  TU_FAILS(CMX_EINVAL, "arrays is NULL",
           cmx_load_safetensors(path, NULL, &ln, &n));
  cr_assert(ln == NULL && n == 0);
  ls = (cmx_array *)&ls;
  TU_FAILS(CMX_EINVAL, "names is NULL",
           cmx_load_safetensors(path, &ls, NULL, &n));
  cr_assert_null(ls);
  TU_FAILS(CMX_EINVAL, "n is NULL", cmx_load_safetensors(path, &ls, &ln, NULL));
  cr_assert(ls == NULL && ln == NULL);
  cmx_array_free(a);
  cmx_array_free(b);
}

/* Every truncation of a valid file fails with CMX_EIO (its last tensor
 * ends at the end of the file); flipped and random header bytes give a
 * status, never a crash or a leak. */
Test(io, mutated_files_never_crash) {
  const char *hdr =
      "{\"__metadata__\":{\"format\":\"pt\",\"v\":[1,2.5e-3,{\"k\":null}]},"
      "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
      "\"i\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]},"
      "\"b\\u00e9\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[24,27]"
      "},\"h\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[27,27]},"
      "\"z\":{\"dtype\":\"U8\",\"shape\":[1,1],\"data_offsets\":[27,28]}}  ";
  unsigned char data[28];
  uint64_t seed = 7;
  for (int i = 0; i < 28; i++) data[i] = (unsigned char)tu_next(&seed);
  size_t len;
  unsigned char *good = st_bytes(hdr, data, sizeof data, &len);
  unsigned char *b = malloc(len);
  const char *path = tp("fuzz.safetensors");
  const size_t start = cmx_get_active_memory();
  cmx_array *ls;
  char **ln;
  size_t n, ok = 0, runs = 0;
  write_bytes(path, good, len);
  load_ok(path, &ls, &ln, &n);
  cr_assert_eq(n, 5);
  free_loaded(ls, ln, n);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (size_t cut = 0; cut < len; cut++) {
    write_bytes(path, good, cut);
    expect_fail(path, CMX_EIO, "");
  }
  static const unsigned char masks[] = {0x01, 0x04, 0x20, 0x80, 0xFF};
  for (size_t pos = 0; pos < 8 + strlen(hdr); pos++)
    for (size_t m = 0; m < sizeof masks; m++) {
      memcpy(b, good, len);
      b[pos] ^= masks[m];
      write_bytes(path, b, len);
      int rc = cmx_load_safetensors(path, &ls, &ln, &n);
      runs++;
      cr_assert(rc == CMX_OK || rc == CMX_EIO || rc == CMX_EDTYPE ||
                    rc == CMX_EUNSUPPORTED,
                "byte %zu ^ 0x%02x: %s %s", pos, masks[m],
                cmx_status_string(rc), cmx_last_error());
      if (rc == CMX_OK) {
        ok++;
        free_loaded(ls, ln, n);
      } else {
        cr_assert(ls == NULL && ln == NULL && n == 0);
        cr_assert(strstr(cmx_last_error(), path), "%s", cmx_last_error());
      }
    }
  /* Random bytes (JSON punctuation among them) over 1-4 header positions. */
  static const char punct[] = "{}[]:,\"\\ 0123456789-eE.u";
  for (int it = 0; it < 1000; it++) {
    memcpy(b, good, len);
    int k = 1 + (int)(tu_next(&seed) % 4);
    for (int j = 0; j < k; j++) {
      size_t pos = 8 + tu_next(&seed) % strlen(hdr);
      uint64_t r = tu_next(&seed);
      b[pos] = r & 1 ? (unsigned char)punct[(r >> 8) % (sizeof punct - 1)]
                     : (unsigned char)(r >> 8);
    }
    write_bytes(path, b, len);
    int rc = cmx_load_safetensors(path, &ls, &ln, &n);
    runs++;
    cr_assert(rc == CMX_OK || rc == CMX_EIO || rc == CMX_EDTYPE ||
                  rc == CMX_EUNSUPPORTED,
              "random mutation %d: %s %s", it, cmx_status_string(rc),
              cmx_last_error());
    if (rc == CMX_OK) {
      ok++;
      free_loaded(ls, ln, n);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) +
                1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  cr_log_info(
      "io fuzz: %zu mutated loads (%zu loaded) + %zu truncations in "
      "%.2f s",
      runs, ok, len, secs);
  cr_assert_eq(cmx_get_active_memory(), start);
  free(b);
  free(good);
}
