/* The opt-in crash handler: on SIGSEGV, SIGBUS, SIGABRT or SIGILL it writes
 * the thread's last cmx error and the op being run to stderr with
 * async-signal-safe write(2) only, restores the disposition that was there
 * before it (read with a query-only sigaction and published before ours is
 * installed) and re-raises, so the process still dies of the original
 * signal and earlier handlers still run. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const int g_sigs[4] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL};
static struct sigaction g_prev[4];
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_installed;

static void put(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  while (n) {
    ssize_t w = write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static void on_signal(int sig, siginfo_t *info, void *uc) {
  int i = 0;
  while (i < 4 && g_sigs[i] != sig) i++;
  char num[12];
  int k = (int)sizeof num - 1, v = sig;
  num[k] = 0;
  do num[--k] = (char)('0' + v % 10); while ((v /= 10) && k);
  put("cmx: fatal signal ");
  put(num + k);
  put(" (");
  put(sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS"
      : sig == SIGABRT ? "SIGABRT" : "SIGILL");
  put(")\ncmx: op being executed: ");
  const char *op = cmx_running_op();
  put(op ? op : "(none)");
  put("\ncmx: last error on this thread: ");
  const char *e = cmx_last_error();
  put(e && *e ? e : "(none)");
  put("\n");
  if (i == 4) return;
  /* Hand the signal to whoever had it before: restore their disposition
   * and re-raise (for a fault, returning would re-run the faulting
   * instruction under it as well). */
  sigaction(sig, &g_prev[i], NULL);
  raise(sig);
}

int cmx_install_crash_handler(void) {
  pthread_mutex_lock(&g_mu);
  if (g_installed) {
    pthread_mutex_unlock(&g_mu);
    return CMX_OK;
  }
  /* Publish every previous disposition before installing anything. */
  for (int i = 0; i < 4; i++)
    if (sigaction(g_sigs[i], NULL, &g_prev[i]) != 0) {
      pthread_mutex_unlock(&g_mu);
      return cmx_err(CMX_EINTERNAL, "cmx_install_crash_handler: sigaction "
                     "query of signal %d failed", g_sigs[i]);
    }
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 4; i++) sigaction(g_sigs[i], &sa, NULL);
  g_installed = 1;
  pthread_mutex_unlock(&g_mu);
  return CMX_OK;
}
