/* A minimal stand-in for Criterion's test macros, for the TSan build only:
 * Criterion 2.4's inheritable arena cannot be mapped under ThreadSanitizer
 * ("Could not initialize inheritable arena", Snaipe/Criterion#274). Test()
 * registers a test; runner.c runs each in a forked child, as Criterion
 * does, and prints the same Synthesis line. Only what the thread tests use
 * is here. */
#ifndef CMX_TSAN_SHIM_CRITERION_H
#define CMX_TSAN_SHIM_CRITERION_H

#include <stdbool.h>
#include <stdio.h>

struct shim_test {
  const char *suite, *name;
  void (*fn)(void);
  int timeout; /* seconds; 0: the runner's default */
  struct shim_test *next;
};
void shim_register(struct shim_test *t);
void shim_fail(const char *file, int line, const char *expr, const char *fmt,
               ...) __attribute__((noreturn, format(printf, 4, 5)));

#define Test(suite, name, ...)                                           \
  static void suite##_##name##_impl(void);                               \
  __attribute__((constructor)) static void suite##_##name##_reg(void) {  \
    static struct shim_test t = {#suite, #name, suite##_##name##_impl,   \
                                 __VA_ARGS__};                           \
    shim_register(&t);                                                   \
  }                                                                      \
  static void suite##_##name##_impl(void)

#define cr_assert(cond, ...)                                             \
  do {                                                                   \
    if (!(cond)) shim_fail(__FILE__, __LINE__, #cond, "" __VA_ARGS__);   \
  } while (0)
#define cr_assert_eq(a, b, ...) cr_assert((a) == (b), __VA_ARGS__)
#define cr_assert_neq(a, b, ...) cr_assert((a) != (b), __VA_ARGS__)
#define cr_assert_gt(a, b, ...) cr_assert((a) > (b), __VA_ARGS__)
#define cr_assert_geq(a, b, ...) cr_assert((a) >= (b), __VA_ARGS__)
#define cr_assert_null(p, ...) cr_assert((p) == NULL, "" __VA_ARGS__)
#define cr_assert_fail(...) shim_fail(__FILE__, __LINE__, "fail", "" __VA_ARGS__)
#define cr_log_info(...)                                                 \
  do {                                                                   \
    fprintf(stderr, "[----] " __VA_ARGS__);                              \
    fputc('\n', stderr);                                                 \
  } while (0)

#endif
