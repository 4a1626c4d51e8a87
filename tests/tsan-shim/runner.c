/* Runner for the TSan shim (criterion/criterion.h here): runs each
 * registered test in a forked child with a time-out, as Criterion does, and
 * prints "[====] Synthesis: Tested: N | Passing: N | Failing: N |
 * Crashing: N". Options: --filter GLOB on "suite/name"; others ignored. */
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "criterion/criterion.h"

static struct shim_test *g_tests;

void shim_register(struct shim_test *t) {
  t->next = g_tests;
  g_tests = t;
}

void shim_fail(const char *file, int line, const char *expr, const char *fmt,
               ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "[----] %s:%d: Assertion failed: %s\n[----]   %s\n", file,
          line, expr, msg);
  fflush(stderr);
  _exit(1);
}

int main(int argc, char **argv) {
  const char *filter = NULL;
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
  int tested = 0, passing = 0, failing = 0, crashing = 0;
  for (struct shim_test *t = g_tests; t; t = t->next) {
    char full[256];
    snprintf(full, sizeof full, "%s/%s", t->suite, t->name);
    if (filter && fnmatch(filter, full, 0)) continue;
    tested++;
    fprintf(stderr, "[RUN ] %s::%s\n", t->suite, t->name);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid == 0) {
      alarm((unsigned)(t->timeout ? t->timeout : 300));
      t->fn();
      fflush(NULL);
      _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
      passing++;
      fprintf(stderr, "[PASS] %s::%s: (%.2fs)\n", t->suite, t->name, s);
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == 1) {
      failing++;
      fprintf(stderr, "[FAIL] %s::%s: (%.2fs)\n", t->suite, t->name, s);
    } else {
      crashing++;
      fprintf(stderr, "[FAIL] %s::%s: CRASH (status 0x%x: %s %d) (%.2fs)\n",
              t->suite, t->name, st, WIFSIGNALED(st) ? "signal" : "exit",
              WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), s);
    }
  }
  fprintf(stderr, "[====] Synthesis: Tested: %d | Passing: %d | Failing: %d "
          "| Crashing: %d\n", tested, passing, failing, crashing);
  return failing + crashing ? 1 : 0;
}
