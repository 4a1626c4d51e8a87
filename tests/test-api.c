/* Public API contract: error statuses and messages (naming the function),
 * NULL out-params on failure, the error handler, bad shapes/dtypes/axes,
 * int64 overflow, memory limit and accounting, ISA selection, stream
 * lifetime, async and eager evaluation, and failures carried by a failed
 * node's dependents. */
#include "arch/tuning.h"
#include "test-util.h"
#include <pthread.h>
#include <unistd.h>

#define SENTINEL(p) ((p) = (void *)&(p))

static cmx_array arr_f32(const int64_t *sh, int nd, double base) {
  tu_view v = tu_view_contig(sh, nd);
  int64_t n = tu_view_size(&v);
  double *x = malloc(sizeof(double) * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++) x[i] = base + (double)(i % 13);
  cmx_array a;
  TU_OK(tu_array(&a, x, CMX_F32, sh, nd));
  free(x);
  return a;
}

Test(api, null_handles_and_out_pointers) {
  int64_t sh[1] = {4};
  cmx_array a = arr_f32(sh, 1, 1), y;
  TU_FAILS(CMX_EINVAL, "cmx_add", cmx_add(NULL, a, a, NULL));
  SENTINEL(y);
  TU_FAILS(CMX_EINVAL, "cmx_add", cmx_add(&y, NULL, a, NULL));
  cr_assert_null(y);
  SENTINEL(y);
  TU_FAILS(CMX_EINVAL, "cmx_exp", cmx_exp(&y, NULL, NULL));
  cr_assert_null(y);
  SENTINEL(y);
  TU_FAILS(CMX_EINVAL, "cmx_sum", cmx_sum(&y, NULL, NULL, 0, false, NULL));
  cr_assert_null(y);
  SENTINEL(y);
  TU_FAILS(CMX_EINVAL, "cmx_where", cmx_where(&y, a, NULL, a, NULL));
  cr_assert_null(y);
  SENTINEL(y);
  TU_FAILS(CMX_EINVAL, "cmx_matmul", cmx_matmul(&y, a, NULL, NULL));
  cr_assert_null(y);
  SENTINEL(y);
  TU_FAILS(CMX_EINVAL, "cmx_astype", cmx_astype(&y, NULL, CMX_F16, NULL));
  cr_assert_null(y);
  float buf[4];
  TU_FAILS(CMX_EINVAL, "cmx_array_from_data",
           cmx_array_from_data(NULL, buf, CMX_F32, sh, 1));
  SENTINEL(y);
  TU_FAILS(CMX_EINVAL, "cmx_array_from_data",
           cmx_array_from_data(&y, NULL, CMX_F32, sh, 1));
  cr_assert_null(y);
  SENTINEL(y);
  TU_FAILS(CMX_EINVAL, "cmx_array_from_buffer",
           cmx_array_from_buffer(&y, NULL, CMX_F32, sh, 1, NULL, NULL));
  cr_assert_null(y);
  TU_FAILS(CMX_EINVAL, "cmx_array_read", cmx_array_read(NULL, buf, 16));
  TU_FAILS(CMX_EINVAL, "cmx_array_read", cmx_array_read(a, NULL, 16));
  TU_FAILS(CMX_EINVAL, "cmx_array_data", cmx_array_data(NULL, a));
  const void *p = buf;
  TU_FAILS(CMX_EINVAL, "cmx_array_data", cmx_array_data(&p, NULL));
  cr_assert_null(p);
  double d;
  TU_FAILS(CMX_EINVAL, "cmx_array_item", cmx_array_item(NULL, a));
  TU_FAILS(CMX_EINVAL, "cmx_array_item", cmx_array_item(&d, NULL));
  cmx_array bad[2] = {a, NULL};
  TU_FAILS(CMX_EINVAL, "cmx_eval", cmx_eval(bad, 2));
  TU_FAILS(CMX_EINVAL, "cmx_eval", cmx_eval(NULL, 1));
  TU_OK(cmx_eval(NULL, 0));
  TU_FAILS(CMX_EINVAL, "cmx_async_eval", cmx_async_eval(bad, 2));
  /* Accessors on NULL. */
  cr_assert_eq(cmx_array_ndim(NULL), 0);
  cr_assert_null(cmx_array_shape(NULL));
  cr_assert_null(cmx_array_strides(NULL));
  cr_assert_eq(cmx_array_size(NULL), 0);
  cr_assert_eq(cmx_array_nbytes(NULL), 0);
  cr_assert_eq(cmx_array_is_evaluated(NULL), 0);
  cr_assert_null(cmx_array_retain(NULL));
  cmx_array_free(NULL);
  cr_assert_eq(cmx_array_retain(a), a);
  cmx_array_free(a);
  TU_OK(cmx_array_read(a, buf, sizeof buf)); /* still one reference */
  cr_assert_eq(buf[3], 4.0f);
  cmx_array_free(a);
}

Test(api, status_strings_and_dtype_names) {
  cr_assert_str_eq(cmx_status_string(CMX_OK), "CMX_OK");
  cr_assert_str_eq(cmx_status_string(CMX_ESHAPE), "CMX_ESHAPE");
  cr_assert_str_eq(cmx_status_string(CMX_EINTERNAL), "CMX_EINTERNAL");
  cr_assert_str_eq(cmx_status_string(-99), "CMX_E?");
  cr_assert_str_eq(cmx_status_string(7), "CMX_E?");
  static const char *names[] = {"bool", "uint8", "uint32", "int8", "int16",
                                "int32", "int64", "float16", "bfloat16",
                                "float32", "float64"};
  static const size_t sizes[] = {1, 1, 4, 1, 2, 4, 8, 2, 2, 4, 8};
  for (int t = 0; t < CMX_NUM_DTYPES; t++) {
    cr_assert_str_eq(cmx_dtype_name((cmx_dtype)t), names[t]);
    cr_assert_eq(cmx_dtype_size((cmx_dtype)t), sizes[t]);
  }
  cr_assert_eq(cmx_dtype_size((cmx_dtype)99), 0);
  cr_assert_eq(cmx_dtype_size((cmx_dtype)-1), 0);
  cr_assert_not_null(cmx_version());
  cr_assert(strlen(cmx_version()) > 0);
  const char *isa = cmx_isa();
  cr_assert(!strcmp(isa, "avx512") || !strcmp(isa, "avx512bf16") ||
                !strcmp(isa, "avx2") || !strcmp(isa, "neon") ||
                !strcmp(isa, "generic"),
            "isa %s", isa);
}

Test(api, bad_shapes_dims_and_dtypes) {
  int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, neg[2] = {3, -1};
  float buf[16] = {0};
  cmx_array a, y;
  SENTINEL(y);
  TU_FAILS(CMX_EINVAL, "cmx_array_from_data",
           cmx_array_from_data(&y, buf, CMX_F32, nine, 9));
  cr_assert_null(y);
  TU_FAILS(CMX_EINVAL, "cmx_zeros", cmx_zeros(&y, nine, 9, CMX_F32, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_zeros", cmx_zeros(&y, neg, 2, CMX_F32, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_full", cmx_full(&y, nine, -1, 0, CMX_F32, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_ones", cmx_ones(&y, NULL, 2, CMX_F32, NULL));
  int64_t eight[8] = {1, 2, 1, 2, 1, 2, 1, 2};
  TU_OK(cmx_array_from_data(&a, buf, CMX_F32, eight, 8)); /* max is fine */
  cr_assert_eq(cmx_array_ndim(a), CMX_MAX_DIMS);
  SENTINEL(y);
  TU_FAILS(CMX_EINVAL, "cmx_expand_dims", cmx_expand_dims(&y, a, 0, NULL));
  cr_assert_null(y);
  TU_FAILS(CMX_EINVAL, "cmx_reshape", cmx_reshape(&y, a, nine, 9, NULL));
  TU_FAILS(CMX_EINVAL, "cmx_broadcast_to",
           cmx_broadcast_to(&y, a, nine, 9, NULL));
  cmx_array_free(a);
  /* Bad dtype values. */
  int64_t sh[1] = {4};
  static const int bads[3] = {-1, CMX_NUM_DTYPES, 99};
  for (int bi = 0; bi < 3; bi++) {
    int bad = bads[bi];
    int rc = cmx_zeros(&y, sh, 1, (cmx_dtype)bad, NULL);
    cr_assert(rc == CMX_EINVAL || rc == CMX_EDTYPE, "dtype %d: %d", bad, rc);
    cr_assert(strstr(cmx_last_error(), "cmx_zeros"), "%s", cmx_last_error());
    rc = cmx_array_from_data(&y, buf, (cmx_dtype)bad, sh, 1);
    cr_assert(rc == CMX_EINVAL || rc == CMX_EDTYPE, "dtype %d: %d", bad, rc);
    a = arr_f32(sh, 1, 0);
    SENTINEL(y);
    rc = cmx_astype(&y, a, (cmx_dtype)bad, NULL);
    cr_assert(rc == CMX_EINVAL || rc == CMX_EDTYPE, "astype %d: %d", bad, rc);
    cr_assert_null(y);
    rc = cmx_arange(&y, 0, 4, 1, (cmx_dtype)bad, NULL);
    cr_assert(rc == CMX_EINVAL || rc == CMX_EDTYPE, "arange %d: %d", bad, rc);
    cmx_array_free(a);
  }
}

Test(api, shape_products_that_overflow) {
  int64_t big2[2] = {1LL << 40, 1LL << 40}, big3[3] = {1LL << 31, 1LL << 31, 4},
          bytes[1] = {1LL << 62}, one[1] = {1};
  cmx_array y, a;
  SENTINEL(y);
  int rc = cmx_zeros(&y, big2, 2, CMX_F32, NULL);
  cr_assert(rc == CMX_EINVAL || rc == CMX_ENOMEM, "2^80 elements: %d", rc);
  cr_assert_null(y);
  cr_assert(strstr(cmx_last_error(), "cmx_zeros"), "%s", cmx_last_error());
  rc = cmx_full(&y, big3, 3, 1, CMX_U8, NULL);
  cr_assert(rc == CMX_EINVAL || rc == CMX_ENOMEM, "2^64 elements: %d", rc);
  rc = cmx_ones(&y, bytes, 1, CMX_F64, NULL); /* 2^65 bytes */
  cr_assert(rc == CMX_EINVAL || rc == CMX_ENOMEM, "2^65 bytes: %d", rc);
  TU_OK(cmx_zeros(&a, one, 1, CMX_F32, NULL));
  SENTINEL(y);
  rc = cmx_broadcast_to(&y, a, big2, 2, NULL);
  cr_assert(rc == CMX_EINVAL || rc == CMX_ENOMEM, "broadcast 2^80: %d", rc);
  cr_assert_null(y);
  rc = cmx_reshape(&y, a, big3, 3, NULL);
  cr_assert(rc != CMX_OK, "reshape 1 -> 2^64 elements");
  /* Representable but far beyond memory: fails cleanly, op or eval. */
  int64_t huge[1] = {1LL << 50};
  rc = cmx_zeros(&y, huge, 1, CMX_F32, NULL);
  if (rc == CMX_OK) {
    cmx_array e;
    rc = cmx_exp(&e, y, NULL);
    if (rc == CMX_OK) {
      rc = cmx_eval(&e, 1);
      cmx_array_free(e);
    }
    cmx_array_free(y);
  }
  cr_assert(rc == CMX_ENOMEM || rc == CMX_EINVAL, "4 PiB: %d", rc);
  cmx_array_free(a);
}

struct seen { int calls, status; char msg[256]; };
static void handler(int status, const char *msg, void *ctx) {
  struct seen *s = ctx;
  s->calls++;
  s->status = status;
  snprintf(s->msg, sizeof s->msg, "%s", msg ? msg : "(null)");
}

Test(api, error_handler_and_message_text) {
  int64_t s34[2] = {3, 4}, s5[1] = {5};
  cmx_array a = arr_f32(s34, 2, 0), b = arr_f32(s5, 1, 0), y;
  struct seen seen = {0, 0, ""};
  cmx_set_error_handler(handler, &seen);
  TU_FAILS(CMX_ESHAPE, "cmx_add", cmx_add(&y, a, b, NULL));
  cr_assert_eq(seen.calls, 1, "handler calls %d", seen.calls);
  cr_assert_eq(seen.status, CMX_ESHAPE);
  cr_assert_str_eq(seen.msg, cmx_last_error());
  const char *m = cmx_last_error();
  cr_assert((strstr(m, "(3,4)") || strstr(m, "(3, 4)")) &&
                (strstr(m, "(5,)") || strstr(m, "(5)")),
            "message lacks the shapes: '%s'", m);
  TU_OK(cmx_add(&y, a, a, NULL)); /* success: no call, message kept */
  cr_assert_eq(seen.calls, 1);
  cr_assert(strstr(cmx_last_error(), "cmx_add"), "success cleared the error");
  cmx_array_free(y);
  int ax = 5;
  TU_FAILS(CMX_EINVAL, "cmx_sum", cmx_sum(&y, a, &ax, 1, false, NULL));
  cr_assert_eq(seen.calls, 2);
  cr_assert_eq(seen.status, CMX_EINVAL);
  cr_assert(strstr(seen.msg, "5"), "axis not named: '%s'", seen.msg);
  cmx_set_error_handler(NULL, NULL);
  TU_FAILS(CMX_ESHAPE, "cmx_multiply", cmx_multiply(&y, b, a, NULL));
  cr_assert_eq(seen.calls, 2, "handler called after removal");
  cmx_array_free(a);
  cmx_array_free(b);
}

static void *other_thread_error(void *arg) {
  char *out = arg;
  snprintf(out, 256, "%s", cmx_last_error());
  return NULL;
}

Test(api, last_error_is_per_thread) {
  cmx_array y;
  TU_FAILS(CMX_EINVAL, "cmx_exp", cmx_exp(&y, NULL, NULL));
  char other[256] = "x";
  pthread_t th;
  pthread_create(&th, NULL, other_thread_error, other);
  pthread_join(th, NULL);
  cr_assert_str_eq(other, "", "a new thread sees '%s'", other);
  cr_assert(strstr(cmx_last_error(), "cmx_exp"));
}

Test(api, memory_limit_gives_enomem_then_restores) {
  cmx_array warm;
  int64_t s1[1] = {16};
  TU_OK(cmx_ones(&warm, s1, 1, CMX_F32, NULL));
  TU_OK(cmx_eval(&warm, 1));
  size_t active = cmx_get_active_memory();
  size_t prev = cmx_set_memory_limit(active + 4096);
  cr_assert_eq(cmx_set_memory_limit(active + 4096), active + 4096,
               "set_memory_limit must return the previous limit");
  int64_t n = 1 << 20;
  float *buf = calloc((size_t)n, sizeof(float));
  cmx_array y;
  SENTINEL(y);
  TU_FAILS(CMX_ENOMEM, "cmx_array_from_data",
           cmx_array_from_data(&y, buf, CMX_F32, &n, 1));
  cr_assert_null(y);
  cmx_array z, e = NULL;
  int rc = cmx_zeros(&z, &n, 1, CMX_F32, NULL);
  if (rc == CMX_OK) rc = cmx_exp(&e, z, NULL);
  if (rc == CMX_OK) rc = cmx_eval(&e, 1);
  cr_assert_eq(rc, CMX_ENOMEM, "4 MiB under a 4 KiB limit: %d", rc);
  cr_assert(strlen(cmx_last_error()) > 0);
  cmx_array_free(e);
  cmx_array_free(z);
  cr_assert_eq(cmx_set_memory_limit(prev), active + 4096);
  TU_OK(cmx_array_from_data(&y, buf, CMX_F32, &n, 1));
  TU_OK(cmx_exp(&e, y, NULL));
  float out[4];
  TU_OK(cmx_eval(&e, 1));
  const void *p;
  TU_OK(cmx_array_data(&p, e));
  memcpy(out, p, sizeof out);
  cr_assert_eq(out[3], 1.0f);
  cmx_array_free(e);
  cmx_array_free(y);
  cmx_array_free(warm);
  free(buf);
}

Test(api, failed_node_dependents_carry_the_failure) {
  const char *env = getenv("CMX_EAGER");
  if (env && !strcmp(env, "1")) cr_skip_test("needs lazy graphs");
  int64_t n = 1 << 20;
  cmx_array z, e, s, t, z2, e2;
  TU_OK(cmx_full(&z, &n, 1, 0.5, CMX_F32, NULL));
  TU_OK(cmx_exp(&e, z, NULL));
  TU_OK(cmx_sum(&s, e, NULL, 0, false, NULL));
  TU_OK(cmx_multiply(&t, s, s, NULL));
  TU_OK(cmx_full(&z2, &n, 1, 2.0, CMX_F32, NULL));
  TU_OK(cmx_sqrt(&e2, z2, NULL));
  size_t prev = cmx_set_memory_limit(cmx_get_active_memory() + 4096);
  TU_FAILS(CMX_ENOMEM, "", cmx_eval(&t, 1));
  cr_assert(strlen(cmx_last_error()) > 0, "no message");
  int rc = cmx_eval(&s, 1);
  cr_assert_eq(rc, CMX_ENOMEM, "dependent of the failed node: %d", rc);
  double d;
  rc = cmx_array_item(&d, t);
  cr_assert_eq(rc, CMX_ENOMEM, "item of a failed array: %d", rc);
  cr_assert_eq(cmx_array_is_evaluated(t), 0);
  /* async: the failure comes from the later eval / synchronize. */
  rc = cmx_async_eval(&e2, 1);
  cr_assert(rc == CMX_OK || rc == CMX_ENOMEM, "async_eval: %d", rc);
  rc = cmx_eval(&e2, 1);
  cr_assert_eq(rc, CMX_ENOMEM, "eval after failing async_eval: %d", rc);
  cmx_set_memory_limit(prev);
  cmx_array_free(t);
  cmx_array_free(s);
  cmx_array_free(e);
  cmx_array_free(z);
  cmx_array_free(e2);
  cmx_array_free(z2);
  cmx_stream_synchronize(NULL); /* may report the failure; must not hang */
  /* The runtime still works afterwards. */
  TU_OK(cmx_full(&z, &n, 1, 0.0, CMX_F32, NULL));
  TU_OK(cmx_exp(&e, z, NULL));
  TU_OK(cmx_sum(&s, e, NULL, 0, false, NULL));
  TU_OK(cmx_array_item(&d, s));
  cr_assert_eq(d, (double)n);
  cmx_array_free(s);
  cmx_array_free(e);
  cmx_array_free(z);
}

/* Buffers of 4 MiB and more start on a 2 MiB boundary (plus the colouring
 * offset, a multiple of 128 bytes below 4 KiB) so that the kernel can back
 * them with transparent huge pages; smaller ones keep plain alignment. */
Test(api, big_buffers_huge_page_aligned) {
  const char *e = getenv("CMX_HUGEPAGES");
  if (e && !strcmp(e, "0")) cr_skip_test("CMX_HUGEPAGES=0");
  int64_t sizes[] = {(int64_t)1 << 20, (int64_t)3 << 20, (int64_t)1 << 22};
  for (int k = 0; k < 3; k++) { /* f32 elements: 4, 12, 16 MiB */
    cmx_array a;
    const void *p;
    TU_OK(cmx_full(&a, &sizes[k], 1, 1.5, CMX_F32, NULL));
    TU_OK(cmx_array_data(&p, a));
    uintptr_t off = (uintptr_t)p & (((uintptr_t)2 << 20) - 1);
    cr_assert(off < 4096 && off % 128 == 0,
              "%lld-float buffer at %p: %zu bytes past a 2 MiB boundary",
              (long long)sizes[k], p, (size_t)off);
    cr_assert_eq(((const float *)p)[sizes[k] - 1], 1.5f);
    cmx_array_free(a);
  }
}

Test(api, memory_accounting) {
  cmx_array w;
  int64_t s1[1] = {8};
  TU_OK(cmx_ones(&w, s1, 1, CMX_F32, NULL)); /* runtime warmed up */
  TU_OK(cmx_eval(&w, 1));
  cmx_array_free(w);
  TU_OK(cmx_stream_synchronize(NULL));
  size_t start = cmx_get_active_memory();
  int64_t n = 1 << 18; /* 1 MiB of f32 */
  float *buf = malloc(sizeof(float) * (size_t)n);
  for (int64_t i = 0; i < n; i++) buf[i] = (float)(i % 100);
  cmx_array a, b, c;
  TU_OK(cmx_array_from_data(&a, buf, CMX_F32, &n, 1));
  cr_assert_geq(cmx_get_active_memory(), start + (size_t)n * 4,
                "from_data copy not counted");
  TU_OK(cmx_exp(&b, a, NULL));
  TU_OK(cmx_add(&c, b, a, NULL));
  TU_OK(cmx_eval(&c, 1));
  size_t live = cmx_get_active_memory();
  cr_assert_geq(live, start + (size_t)n * 8, "a and c: %zu", live - start);
  cr_assert_geq(cmx_get_peak_memory(), live);
  cmx_array_free(c);
  cmx_array_free(b);
  cmx_array_free(a);
  TU_OK(cmx_stream_synchronize(NULL));
  cr_assert_eq(cmx_get_active_memory(), start,
               "active %zu after freeing everything, started at %zu",
               cmx_get_active_memory(), start);
  cr_assert_geq(cmx_get_peak_memory(), start + (size_t)n * 8);
  cmx_reset_peak_memory(); /* to the active bytes, or 0 as MLX does */
  size_t pk = cmx_get_peak_memory();
  cr_assert(pk == cmx_get_active_memory() || pk == 0,
            "peak after reset %zu, active %zu", pk, cmx_get_active_memory());
  /* Freed buffers may sit in the cache; clear_cache empties it. */
  size_t cached = cmx_get_cache_memory();
  cmx_clear_cache();
  cr_assert_eq(cmx_get_cache_memory(), 0, "cache %zu after clear (was %zu)",
               cmx_get_cache_memory(), cached);
  size_t old = cmx_set_cache_limit(0);
  cr_assert_eq(cmx_set_cache_limit(old), 0);
  /* Reuse after clearing: a fresh allocation works and is counted. */
  TU_OK(cmx_array_from_data(&a, buf, CMX_F32, &n, 1));
  cr_assert_geq(cmx_get_active_memory(), start + (size_t)n * 4);
  cr_assert_geq(cmx_get_peak_memory(), start + (size_t)n * 4);
  cmx_array_free(a);
  TU_OK(cmx_stream_synchronize(NULL));
  cr_assert_eq(cmx_get_active_memory(), start);
  free(buf);
}

Test(api, set_isa) {
  const char *orig = cmx_isa();
  char saved[32];
  snprintf(saved, sizeof saved, "%s", orig);
  int rc = cmx_set_isa("nonsense");
  cr_assert(rc == CMX_EINVAL || rc == CMX_EUNSUPPORTED, "nonsense: %d", rc);
  cr_assert(strstr(cmx_last_error(), "cmx_set_isa") &&
                strstr(cmx_last_error(), "nonsense"),
            "message: '%s'", cmx_last_error());
  cr_assert_str_eq(cmx_isa(), saved);
  TU_FAILS(CMX_EINVAL, "cmx_set_isa", cmx_set_isa(NULL));
  int has512 = 0;
#if defined(__x86_64__)
  TU_FAILS(CMX_EUNSUPPORTED, "cmx_set_isa", cmx_set_isa("neon"));
  cr_assert(strstr(cmx_last_error(), "neon"), "'%s'", cmx_last_error());
  __builtin_cpu_init();
  has512 = __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq");
  rc = cmx_set_isa("avx512");
  cr_assert_eq(rc, has512 ? CMX_OK : CMX_EUNSUPPORTED, "avx512: %d", rc);
#else
  TU_FAILS(CMX_EUNSUPPORTED, "cmx_set_isa", cmx_set_isa("avx2"));
#endif
  cr_assert_str_eq(cmx_isa(), has512 ? "avx512" : saved);
  TU_OK(cmx_set_isa("generic"));
  cr_assert_str_eq(cmx_isa(), "generic");
  int64_t n = 37;
  double v[37], got[37];
  tu_rand(v, n, CMX_F32, -5, 5, 3);
  cmx_array a, y;
  TU_OK(tu_array(&a, v, CMX_F32, &n, 1));
  TU_OK(cmx_exp(&y, a, NULL));
  tu_read(y, got);
  for (int i = 0; i < n; i++)
    cr_assert(tu_ulp_f32((float)got[i], (float)exp(v[i])) <= 4, "generic exp");
  cmx_array_free(y);
  cmx_array_free(a);
  /* "default": the level cmx picks with CMX_ISA unset, whatever CMX_ISA
   * this process runs under */
  TU_OK(cmx_set_isa("default"));
  const char *best = "generic";
#if defined(__x86_64__)
  if (has512 && __builtin_cpu_supports("avx512bf16"))
    best = "avx512bf16";
  else if (has512)
    best = "avx512";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    best = "avx2";
#elif defined(__aarch64__)
  best = "neon";
#endif
  cr_assert_str_eq(cmx_isa(), best);
  TU_OK(cmx_set_isa(saved));
  cr_assert_str_eq(cmx_isa(), saved);
}

Test(api, streams_lifetime) {
  cmx_stream s;
  cmx_stream_config cfg = {1, NULL, 0};
  TU_OK(cmx_stream_new(&s, &cfg));
  cr_assert_eq(cmx_stream_num_threads(s), 1);
  int64_t n = 1000;
  cmx_array a, b, lazy;
  TU_OK(cmx_arange(&a, 0, 1000, 1, CMX_F32, s));
  TU_OK(cmx_multiply(&b, a, a, s));
  TU_OK(cmx_eval(&b, 1));
  TU_OK(cmx_add(&lazy, b, a, s));
  TU_OK(cmx_stream_synchronize(s));
  TU_OK(cmx_stream_free_checked(s));
  TU_FAILS(CMX_ESTATE, "cmx_stream_free_checked", cmx_stream_free_checked(s));
  cmx_stream_free(s); /* stale: ignored */
  float got[1000];
  TU_OK(cmx_array_read(b, got, sizeof got)); /* evaluated: still valid */
  for (int i = 0; i < n; i++) cr_assert_eq(got[i], (float)i * (float)i);
  int rc = cmx_array_read(lazy, got, sizeof got); /* its stream is gone */
  cr_assert(rc == CMX_OK || rc == CMX_ESTATE, "lazy on freed stream: %d", rc);
  if (rc == CMX_OK)
    for (int i = 0; i < n; i++) cr_assert_eq(got[i], (float)i * i + i);
  cmx_array_free(lazy);
  cmx_array_free(b);
  cmx_array_free(a);
  TU_FAILS(CMX_EINVAL, "cmx_stream_free_checked", cmx_stream_free_checked(NULL));
  TU_FAILS(CMX_EINVAL, "cmx_stream_free_checked",
           cmx_stream_free_checked(cmx_default_stream()));
  cmx_stream_free(NULL);
  cmx_stream_free(cmx_default_stream()); /* ignored */
  TU_OK(cmx_ones(&a, &n, 1, CMX_F32, NULL)); /* default still works */
  double d;
  cmx_array sum;
  TU_OK(cmx_sum(&sum, a, NULL, 0, false, NULL));
  TU_OK(cmx_array_item(&d, sum));
  cr_assert_eq(d, 1000.0);
  cmx_array_free(sum);
  cmx_array_free(a);
  cmx_stream bad;
  SENTINEL(bad);
  cmx_stream_config c2 = {-1, NULL, 0};
  TU_FAILS(CMX_EINVAL, "cmx_stream_new", cmx_stream_new(&bad, &c2));
  cr_assert_null(bad);
  cmx_stream_config c3 = {0, "nonsense", 0};
  TU_FAILS(CMX_EINVAL, "cmx_stream_new", cmx_stream_new(&bad, &c3));
  TU_FAILS(CMX_EINVAL, "cmx_stream_new", cmx_stream_new(NULL, NULL));
}

Test(api, default_stream_and_thread_count) {
  cmx_stream proc = cmx_default_stream(), s;
  cr_assert_not_null(proc);
  TU_OK(cmx_stream_new(&s, NULL));
  TU_OK(cmx_set_default_stream(s));
  cr_assert_eq(cmx_default_stream(), s);
  int64_t n = 5;
  cmx_array a;
  TU_OK(cmx_ones(&a, &n, 1, CMX_I32, NULL));
  TU_OK(cmx_eval(&a, 1));
  TU_OK(cmx_stream_synchronize(NULL));
  TU_OK(cmx_set_default_stream(NULL));
  cr_assert_eq(cmx_default_stream(), proc);
  TU_OK(cmx_stream_free_checked(s));
  cmx_array_free(a);
  TU_FAILS(CMX_EINVAL, "cmx_set_num_threads", cmx_set_num_threads(0));
  TU_FAILS(CMX_EINVAL, "cmx_set_num_threads", cmx_set_num_threads(-3));
  TU_OK(cmx_set_num_threads(1));
  cr_assert_eq(cmx_get_num_threads(), 1);
  cr_assert_eq(cmx_stream_num_threads(NULL), 1);
  TU_OK(cmx_set_num_threads(100000)); /* capped at the cores */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  cr_assert(cmx_get_num_threads() >= 1 && cmx_get_num_threads() <= cores,
            "threads %d, cores %ld", cmx_get_num_threads(), cores);
}

Test(api, async_eval_then_eval) {
  int64_t n = 4099;
  double v[4099], got[4099];
  tu_rand(v, n, CMX_F32, -3, 3, 1);
  cmx_array a, b, c, d;
  TU_OK(tu_array(&a, v, CMX_F32, &n, 1));
  TU_OK(cmx_tanh(&b, a, NULL));
  TU_OK(cmx_multiply(&c, b, a, NULL));
  TU_OK(cmx_async_eval(&c, 1));
  TU_OK(cmx_async_eval(&c, 1)); /* twice is fine */
  TU_OK(cmx_add(&d, c, a, NULL)); /* built while c may be running */
  TU_OK(cmx_eval(&d, 1));
  cr_assert_eq(cmx_array_is_evaluated(d), 1);
  tu_read(d, got);
  for (int i = 0; i < n; i++) {
    double r = (double)(float)((float)tanh(v[i]) * (float)v[i]) + v[i];
    cr_assert(fabs(got[i] - r) <= 1e-5 * (1 + fabs(r)), "[%d] %g want %g", i,
              got[i], r);
  }
  TU_OK(cmx_stream_synchronize(NULL));
  cmx_array_free(d);
  cmx_array_free(c);
  cmx_array_free(b);
  cmx_array_free(a);
}

Test(api, lazy_by_default_and_eager_mode) {
  int64_t n = 33;
  cmx_array a, b, c;
  TU_OK(cmx_ones(&a, &n, 1, CMX_F32, NULL));
  TU_OK(cmx_exp(&b, a, NULL));
  const char *env = getenv("CMX_EAGER");
  if (!env || strcmp(env, "1") != 0) {
    cr_assert_eq(cmx_array_is_evaluated(b), 0, "lazy op evaluated at once");
    cr_assert_eq(cmx_array_shape(b)[0], 33); /* accessors do not evaluate */
    cr_assert_eq(cmx_array_is_evaluated(b), 0);
  }
  cmx_set_eager(true);
  TU_OK(cmx_add(&c, b, a, NULL));
  cr_assert_eq(cmx_array_is_evaluated(c), 1, "eager op not evaluated");
  cr_assert_eq(cmx_array_is_evaluated(b), 1, "eager: inputs evaluated too");
  double got[33];
  tu_read(c, got);
  cr_assert(fabs(got[5] - (exp(1.0) + 1)) < 1e-5);
  cmx_array_free(c);
  /* Eager and over the memory limit: the op itself fails. */
  int64_t big = 1 << 20;
  cmx_array z;
  TU_OK(cmx_zeros(&z, &big, 1, CMX_F32, NULL));
  size_t prev = cmx_set_memory_limit(cmx_get_active_memory() + 4096);
  SENTINEL(c);
  int rc = cmx_exp(&c, z, NULL);
  cmx_set_memory_limit(prev);
  cr_assert_eq(rc, CMX_ENOMEM, "eager exp over the limit: %d", rc);
  cr_assert_null(c);
  cmx_array_free(z);
  cmx_set_eager(false);
  if (!env || strcmp(env, "1") != 0) {
    TU_OK(cmx_add(&c, b, a, NULL));
    cr_assert_eq(cmx_array_is_evaluated(c), 0, "eager mode not turned off");
    cmx_array_free(c);
  }
  /* Eager stream. */
  cmx_stream s;
  cmx_stream_config cfg = {1, NULL, CMX_STREAM_EAGER};
  TU_OK(cmx_stream_new(&s, &cfg));
  TU_OK(cmx_multiply(&c, a, a, s));
  cr_assert_eq(cmx_array_is_evaluated(c), 1, "eager stream op lazy");
  cmx_array_free(c);
  TU_OK(cmx_stream_free_checked(s));
  cmx_array_free(b);
  cmx_array_free(a);
}

Test(api, graph_keeps_freed_inputs) {
  int64_t n = 100;
  cmx_array a, b, c, d;
  TU_OK(cmx_arange(&a, 0, 100, 1, CMX_F32, NULL));
  TU_OK(cmx_full(&b, NULL, 0, 2.0, CMX_F32, NULL));
  TU_OK(cmx_multiply(&c, a, b, NULL));
  TU_OK(cmx_sum(&d, c, NULL, 0, false, NULL));
  cmx_array_free(a);
  cmx_array_free(b);
  cmx_array_free(c);
  double got;
  TU_OK(cmx_array_item(&got, d));
  cr_assert_eq(got, 9900.0);
  cmx_array_free(d);
  (void)n;
}

/* A new directory from the mkdtemp template dir, and name in it opened for
 * writing (its path in file, n bytes). */
static FILE *temp_conf(char *dir, char *file, size_t n, const char *name) {
  cr_assert(mkdtemp(dir), "mkdtemp %s", dir);
  snprintf(file, n, "%s/%s", dir, name);
  FILE *f = fopen(file, "w");
  cr_assert(f, "cannot write %s", file);
  return f;
}

/* cmx_tuning_file: the file each rule of the search finds (CMX_TUNING, an
 * empty CMX_TUNING, CMX_TUNING_DIR with and without the CPU's file), and
 * its errors. The default search (no variable) finds the committed file
 * for this CPU from build/ where perf/tuning has one. Each Criterion test
 * runs in its own process, so setenv stays here. */
Test(api, tuning_file_search) {
  char buf[4352], dflt[4352];
  unsetenv("CMX_TUNING");
  unsetenv("CMX_TUNING_DIR");
  TU_OK(cmx_tuning_file(dflt, sizeof dflt));
  const char *slug = strrchr(dflt, '/');
  if (!*dflt)
    printf("api: no committed tuning file for this CPU under perf/tuning; "
           "CMX_TUNING_DIR part skipped\n");
  else
    cr_assert(strstr(dflt, "/perf/tuning/") && strstr(dflt, ".conf"),
              "default search found %s", dflt);
  char dir[] = "/tmp/cmx-tuning-XXXXXX", file[4352];
  FILE *f = temp_conf(dir, file, sizeof file, "mine.conf");
  fputs("kc = 256\n", f);
  fclose(f);
  setenv("CMX_TUNING", file, 1);
  TU_OK(cmx_tuning_file(buf, sizeof buf));
  cr_assert_str_eq(buf, file);
  setenv("CMX_TUNING", "", 1);
  TU_OK(cmx_tuning_file(buf, sizeof buf));
  cr_assert_str_eq(buf, "", "empty CMX_TUNING gave %s", buf);
  unsetenv("CMX_TUNING");
  setenv("CMX_TUNING_DIR", dir, 1);
  TU_OK(cmx_tuning_file(buf, sizeof buf));
  cr_assert_str_eq(buf, "", "a directory without the CPU's file gave %s",
                   buf);
  if (slug) {
    char mine[4352];
    snprintf(mine, sizeof mine, "%s%s", dir, slug);
    cr_assert_eq(rename(file, mine), 0);
    TU_OK(cmx_tuning_file(buf, sizeof buf));
    cr_assert_str_eq(buf, mine);
    /* too small a buffer: an error naming the size, and "" */
    char small[8];
    memset(small, '?', sizeof small);
    cr_assert_eq(cmx_tuning_file(small, sizeof small), CMX_EINVAL);
    cr_assert_str_eq(small, "");
    cr_assert(strstr(cmx_last_error(), "needs"), "%s", cmx_last_error());
    unlink(mine);
  } else {
    unlink(file);
  }
  rmdir(dir);
  cr_assert_eq(cmx_tuning_file(NULL, 8), CMX_EINVAL);
  cr_assert_eq(cmx_tuning_file(buf, 0), CMX_EINVAL);
  cr_assert(strstr(cmx_last_error(), "cmx_tuning_file"), "%s",
            cmx_last_error());
}

/* This CPU's /proc/cpuinfo "model" number, read here on its own; -1 when
 * there is none. */
static long test_cpu_model(void) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  long m = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "model : %ld", &m) == 1 ||
        sscanf(line, "model\t: %ld", &m) == 1)
      break;
  if (f) fclose(f);
  return m;
}

/* Sections of a tuning file: the lines after "[model N]" apply only to a
 * CPU whose model number is N, after "[all]" to every CPU again; any other
 * header's lines to none. The last line of a key that applies wins. */
Test(api, tuning_file_sections) {
  char dir[] = "/tmp/cmx-tuning-XXXXXX", file[256];
  FILE *f = temp_conf(dir, file, sizeof file, "sections.conf");
  const long me = test_cpu_model(), other = me + 1000;
  fprintf(f,
          "probe_a = 1\n"
          "[model %ld]   # another CPU\n"
          "probe_a = 2\nprobe_b = 3\n"
          "[model %ld]\n"
          "probe_c = 4\n"
          "[all]\n"
          "probe_d = 5\n"
          "[cores 2]\n"
          "probe_d = 6\n"
          "[model %ld]\n"
          "probe_d = 7\n",
          other, me, me);
  fclose(f);
  setenv("CMX_TUNING", file, 1);
  cr_assert_eq(cmx_tuning_num("probe_a", NULL, -1), 1.0);
  cr_assert_eq(cmx_tuning_num("probe_b", NULL, -1), -1.0,
               "a key of another model's section applied");
  cr_assert_eq(cmx_tuning_num("probe_c", NULL, -1), 4.0,
               "this model's (%ld) section was skipped", me);
  cr_assert_eq(cmx_tuning_num("probe_d", NULL, -1), 7.0,
               "an unknown section applied, or this model's did not");
  unsetenv("CMX_TUNING");
  unlink(file);
  rmdir(dir);
}
