/* Streams as callers see them: the process default stream (made lazily,
 * team size from CMX_NUM_THREADS, else OMP_NUM_THREADS, else all cores),
 * per-thread default streams, eager mode, and the checks that turn a freed
 * or NULL handle into a status instead of a crash. */
#include <stdlib.h>
#include <string.h>

#include "../arch/dispatch.h"
#include "internal.h"

static struct cmx_stream_s *g_default;
static pthread_once_t g_default_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_live_mu = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local struct cmx_stream_s *tls_default;
static _Thread_local int tls_eager;
static int g_env_eager;
/* g_default once default_init is done (a flag test instead of
 * pthread_once on every op); NULL before, or if it could not be made. */
static _Atomic(struct cmx_stream_s *) g_default_ready;

static int env_threads(void) {
  const char *e = getenv("CMX_NUM_THREADS");
  if (!e || !*e) e = getenv("OMP_NUM_THREADS");
  if (!e || !*e) return 0;
  int n = atoi(e); /* OMP_NUM_THREADS may be a list: take the first */
  return n > 0 ? n : 0;
}

static void fork_prepare(void) {
  cmx_graph_fork_prepare();
  cmx_mem_fork_prepare();
}
static void fork_parent(void) {
  cmx_mem_fork_parent();
  cmx_graph_fork_parent();
}
static void fork_child(void) {
  cmx_mem_fork_child();
  cmx_graph_fork_child();
}

static void default_init(void) {
  const char *err = NULL;
  pthread_atfork(fork_prepare, fork_parent, fork_child);
  const char *eager = getenv("CMX_EAGER");
  g_env_eager = eager && strcmp(eager, "1") == 0;
  const char *ftz = getenv("CMX_FTZ");
  if (ftz && strcmp(ftz, "1") == 0) atomic_store(&cmx_sched_ftz, 1);
  g_default = cmx_sched_stream_new(env_threads(), NULL, 0, &err);
  if (g_default) g_default->is_default = 1;
  atomic_store_explicit(&g_default_ready, g_default, memory_order_release);
}

static struct cmx_stream_s *process_default(void) {
  struct cmx_stream_s *s =
      atomic_load_explicit(&g_default_ready, memory_order_acquire);
  if (s) return s;
  pthread_once(&g_default_once, default_init);
  return g_default;
}

cmx_stream cmx_default_stream(void) {
  struct cmx_stream_s *s = tls_default;
  if (s && s->magic == CMX_STREAM_MAGIC) return s;
  return process_default();
}

int cmx_stream_resolve(cmx_stream *s, const char *who) {
  const char *isa_err = cmx_arch_env_error();
  if (isa_err) return cmx_err(CMX_EUNSUPPORTED, "%s: %s", who, isa_err);
  if (!*s) {
    *s = cmx_default_stream();
    if (!*s) return cmx_err(CMX_ENOMEM, "%s: no default stream", who);
    return CMX_OK;
  }
  if ((*s)->magic != CMX_STREAM_MAGIC)
    return cmx_err(CMX_ESTATE, "%s: stream %p was freed", who, (void *)*s);
  return CMX_OK;
}

int cmx_eager_for(cmx_stream s) {
  if (!tls_eager && !g_env_eager && !(s && (s->flags & CMX_STREAM_EAGER)))
    return 0;
  return !cmx_tracing();
}

void cmx_set_eager(bool on) {
  process_default();
  tls_eager = on;
}

int cmx_stream_new(cmx_stream *out, const cmx_stream_config *cfg) {
  static const char who[] = "cmx_stream_new";
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  process_default();
  cmx_stream_config d = {0, NULL, 0};
  if (!cfg) cfg = &d;
  if (cfg->n_threads < 0)
    return cmx_err(CMX_EINVAL, "%s: n_threads %d is negative", who,
                   cfg->n_threads);
  if (cfg->flags & ~CMX_STREAM_EAGER)
    return cmx_err(CMX_EINVAL, "%s: unknown flags 0x%x", who, cfg->flags);
  const char *err = NULL;
  struct cmx_stream_s *s =
      cmx_sched_stream_new(cfg->n_threads, cfg->cpus, cfg->flags, &err);
  if (!s)
    return cmx_err(strcmp(err, "out of memory") ? CMX_EINVAL : CMX_ENOMEM,
                   "%s: cpus \"%s\": %s", who, cfg->cpus ? cfg->cpus : "",
                   err);
  *out = s;
  return CMX_OK;
}

int cmx_stream_synchronize(cmx_stream s) {
  int st = cmx_stream_resolve(&s, "cmx_stream_synchronize");
  if (st) return st;
  cmx_sched_drain(s);
  pthread_mutex_lock(&s->mu);
  int status = s->first_status;
  char *msg = s->first_msg;
  s->first_status = 0;
  s->first_msg = NULL;
  pthread_mutex_unlock(&s->mu);
  if (status) st = cmx_err(status, "%s", msg ? msg : "");
  free(msg);
  return st;
}

static int stream_free(cmx_stream s, const char *who) {
  if (!s) return cmx_err(CMX_EINVAL, "%s: stream is NULL", who);
  pthread_mutex_lock(&g_live_mu);
  if (s->magic != CMX_STREAM_MAGIC) {
    pthread_mutex_unlock(&g_live_mu);
    return cmx_err(CMX_ESTATE, "%s: stream %p was already freed", who,
                   (void *)s);
  }
  if (s->is_default) {
    pthread_mutex_unlock(&g_live_mu);
    return cmx_err(CMX_EINVAL, "%s: the process default stream cannot be "
                   "freed", who);
  }
  cmx_graph_lock();
  atomic_store(&s->magic, CMX_STREAM_DEAD); /* no new work from here on */
  cmx_graph_unlock();
  pthread_mutex_unlock(&g_live_mu);
  if (tls_default == s) tls_default = NULL;
  cmx_sched_stream_destroy(s);
  return CMX_OK;
}

int cmx_stream_free_checked(cmx_stream s) {
  return stream_free(s, "cmx_stream_free_checked");
}

void cmx_stream_free(cmx_stream s) { (void)stream_free(s, "cmx_stream_free"); }

int cmx_set_default_stream(cmx_stream s) {
  if (s) {
    int st = cmx_stream_resolve(&s, "cmx_set_default_stream");
    if (st) return st;
  }
  tls_default = s;
  return CMX_OK;
}

int cmx_set_num_threads(int n) {
  if (n < 1)
    return cmx_err(CMX_EINVAL, "cmx_set_num_threads: n = %d is below 1", n);
  struct cmx_stream_s *s = process_default();
  if (!s) return cmx_err(CMX_ENOMEM, "cmx_set_num_threads: no stream");
  cmx_sched_set_threads(s, n);
  return CMX_OK;
}

int cmx_get_num_threads(void) {
  struct cmx_stream_s *s = process_default();
  return s ? s->team.nthreads : 1;
}

int cmx_stream_num_threads(cmx_stream s) {
  if (cmx_stream_resolve(&s, "cmx_stream_num_threads")) return 0;
  return s->team.nthreads;
}

void cmx_set_ftz(bool on) {
  process_default();
  atomic_store(&cmx_sched_ftz, on ? 1 : 0);
}

bool cmx_get_ftz(void) {
  process_default();
  return atomic_load(&cmx_sched_ftz) != 0;
}

const char *cmx_version(void) { return "0.1.0"; }

const char *cmx_isa(void) { return cmx_dispatch()->name; }

int cmx_set_isa(const char *isa) {
  if (!isa) return cmx_err(CMX_EINVAL, "cmx_set_isa: isa is NULL");
  static const char *const known[] = {"generic", "avx2",       "avx512",
                                      "avx512bf16", "neon", "default"};
  int k = 0;
  for (int i = 0; i < 6; i++) k |= strcmp(isa, known[i]) == 0;
  if (!k)
    return cmx_err(CMX_EINVAL, "cmx_set_isa: unknown level \"%s\" (generic, "
                   "avx2, avx512, avx512bf16, neon, default)", isa);
  if (cmx_arch_select(isa) != 0)
    return cmx_err(CMX_EUNSUPPORTED, "cmx_set_isa: this CPU cannot run "
                   "\"%s\" (best: %s)", isa, cmx_dispatch()->name);
  return CMX_OK;
}
