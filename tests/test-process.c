/* Process-level behaviour: fork (the child can use cmx, the parent is
 * unaffected, nothing hangs), the crash handler (prints its diagnostic,
 * chains to the handler installed before it, dies of the original signal),
 * flush-to-zero only on cmx threads, and fault injection at every
 * allocation of a small graph. */
#include <criterion/criterion.h>
#include <float.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmx.h"

static double sum_exp(int64_t n) {
  cmx_array a, e, s;
  double v = -1;
  if (cmx_arange(&a, 0, (double)n, 1, CMX_F32, NULL)) return -1;
  int bad = cmx_multiply(&e, a, a, NULL);
  if (!bad) bad = cmx_sum(&s, e, NULL, 0, false, NULL);
  if (!bad) bad = cmx_array_item(&v, s);
  cmx_array_free(a);
  if (!bad) {
    cmx_array_free(e);
    cmx_array_free(s);
  }
  return bad ? -2 : v;
}

/* Waits for pid for at most secs; kills it and fails on a hang. */
static int wait_child(pid_t pid, int secs) {
  int st = 0;
  for (int i = 0; i < secs * 100; i++) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return st;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  cr_assert_fail("child %d hung for %d s", (int)pid, secs);
  return st;
}

Test(process, fork_child_and_parent_both_work) {
  int64_t n = 1 << 20; /* large enough to use the worker and team */
  double want = sum_exp(n);
  cr_assert_gt(want, 0);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    double got = sum_exp(n);
    _exit(got == want ? 0 : 3);
  }
  double again = sum_exp(n);
  int st = wait_child(pid, 60);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
  cr_assert_eq(again, want);
}

static void earlier_handler(int sig) {
  static const char m[] = "earlier handler ran\n";
  ssize_t w = write(2, m, sizeof m - 1);
  (void)w;
  signal(sig, SIG_DFL);
  raise(sig);
}

Test(process, crash_handler_reports_chains_and_dies_of_the_signal) {
  int fd[2];
  cr_assert_eq(pipe(fd), 0);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    dup2(fd[1], 2);
    close(fd[0]);
    signal(SIGSEGV, earlier_handler);
    if (cmx_install_crash_handler() || cmx_install_crash_handler()) _exit(4);
    cmx_array a;
    cmx_array_from_data(&a, NULL, CMX_F32, NULL, -1); /* sets last error */
    raise(SIGSEGV);
    _exit(5);
  }
  close(fd[1]);
  char buf[4096];
  size_t len = 0;
  ssize_t r;
  while ((r = read(fd[0], buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)r;
  buf[len] = 0;
  close(fd[0]);
  int st = wait_child(pid, 30);
  cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
            "child did not die of SIGSEGV (status %d): %s", st, buf);
  cr_assert(strstr(buf, "cmx: fatal signal 11 (SIGSEGV)"), "%s", buf);
  cr_assert(strstr(buf, "cmx_array_from_data"), "last error missing: %s", buf);
  cr_assert(strstr(buf, "earlier handler ran"), "not chained: %s", buf);
}

static float denormal_times_half(void) {
  float tiny = FLT_MIN / 4; /* a denormal */
  cmx_array a, h, y;
  float out = -1;
  int64_t n = 1 << 18; /* big enough to run on the worker */
  if (cmx_full(&a, &n, 1, tiny, CMX_F32, NULL)) return -1;
  if (cmx_full(&h, &n, 1, 0.5, CMX_F32, NULL)) return -1;
  if (cmx_multiply(&y, a, h, NULL)) return -1;
  const void *p;
  if (cmx_array_data(&p, y) == 0) out = ((const float *)p)[n - 1];
  cmx_array_free(a);
  cmx_array_free(h);
  cmx_array_free(y);
  return out;
}

Test(process, flush_to_zero_is_opt_in_and_stays_on_cmx_threads) {
  cr_assert_eq(cmx_get_ftz(), false);
  float ieee = denormal_times_half();
  cr_assert_eq(ieee, FLT_MIN / 8, "IEEE default: %g", (double)ieee);
  cmx_set_ftz(true);
  float ftz = denormal_times_half();
  cr_assert_eq(ftz, 0.0f, "flush to zero: %g", (double)ftz);
  volatile float t = FLT_MIN / 4, half = 0.5f;
  cr_assert_eq(t * half, FLT_MIN / 8, "the caller's mode changed");
  cmx_set_ftz(false);
  cr_assert_eq(denormal_times_half(), FLT_MIN / 8);
}

/* Runs a representative graph; returns its status. */
static int graph_once(double *out) {
  int64_t sh[2] = {64, 33};
  cmx_array a = NULL, b = NULL, c = NULL, t = NULL, s = NULL;
  int st = cmx_arange(&a, 0, 64 * 33, 1, CMX_F32, NULL);
  int64_t m1[2] = {64, 33};
  cmx_array r = NULL;
  if (!st) st = cmx_reshape(&r, a, m1, 2, NULL);
  if (!st) st = cmx_exp(&b, r, NULL);
  if (!st) st = cmx_transpose(&t, b, NULL, 0, NULL);
  if (!st) st = cmx_contiguous(&c, t, NULL);
  int ax = 0;
  if (!st) st = cmx_logsumexp(&s, c, &ax, 1, false, NULL);
  cmx_array tot = NULL;
  if (!st) st = cmx_sum(&tot, s, NULL, 0, false, NULL);
  if (!st) st = cmx_array_item(out, tot);
  (void)sh;
  cmx_array_free(a);
  cmx_array_free(r);
  cmx_array_free(b);
  cmx_array_free(t);
  cmx_array_free(c);
  cmx_array_free(s);
  cmx_array_free(tot);
  return st;
}

void cmx_mem_inject_fault(long n); /* internal, for tests */

Test(process, every_allocation_failure_is_enomem_without_leaks) {
  double want, got;
  cr_assert_eq(graph_once(&want), CMX_OK);
  size_t base = cmx_get_active_memory();
  int failed = 0, n;
  for (n = 1; n <= 200; n++) {
    cmx_mem_inject_fault(n);
    int st = graph_once(&got);
    cr_assert(st == CMX_OK || st == CMX_ENOMEM, "N=%d: status %d", n, st);
    cr_assert_eq(cmx_get_active_memory(), base, "N=%d: %zu bytes leaked", n,
                 cmx_get_active_memory() - base);
    if (st == CMX_OK) {
      cr_assert_eq(got, want, "N=%d", n);
      break; /* past the graph's last allocation */
    }
    cr_assert(strstr(cmx_last_error(), "CMX_FAULT_ALLOC"), "N=%d: %s", n,
              cmx_last_error());
    failed++;
  }
  cmx_mem_inject_fault(0);
  cr_assert_geq(failed, 4, "only %d allocations seen", failed);
}
