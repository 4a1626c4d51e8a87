/* Streams: a FIFO queue of tasks, one worker thread that runs them in order,
 * and a team the worker forks for parallel kernels. The worker starts on the
 * first submit; when idle it spins for at most CMX_SPIN_NS (measured with a
 * monotonic clock), then sleeps on a condition variable. Any thread may
 * submit to, drain or destroy any stream. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

/* Every stream ever made, live or freed (freed shells stay, see destroy),
 * so fork handling can reach the live ones. */
static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cmx_stream_s *g_all;
/* Freed shells wait in a FIFO quarantine; past QUARANTINE of them the
 * oldest is reused, so memory stays bounded (about 1.3 KB a shell) while a
 * stale handle is still detected unless QUARANTINE later frees happened. */
#define QUARANTINE 4096
static struct cmx_stream_s *g_dead_head, *g_dead_tail;
static size_t g_dead_count;

static int env_bind(void) {
  const char *b = getenv("CMX_BIND");
  return !(b && strcmp(b, "none") == 0);
}

struct cmx_stream_s *cmx_sched_stream_new(int n_threads, const char *cpus,
                                          int flags, const char **err) {
  const struct cmx_topo *topo = cmx_topo();
  /* Everything that can fail comes before a shell is taken. */
  int cores[256], nc;
  if (cpus) {
    nc = cmx_topo_parse_cpus(cpus, cores, 256);
    if (nc < 0) {
      *err = "cpu list is malformed or names no CPU of the process mask";
      return NULL;
    }
  } else {
    nc = topo->ncores < 256 ? topo->ncores : 256;
    for (int i = 0; i < nc; i++) cores[i] = i;
  }
  struct cmx_task *q = calloc(64, sizeof *q);
  if (!q) {
    *err = "out of memory";
    return NULL;
  }
  struct cmx_stream_s *s = NULL;
  int reused = 0;
  pthread_mutex_lock(&g_reg_mu);
  if (g_dead_count > QUARANTINE) {
    s = g_dead_head;
    g_dead_head = s->next_dead;
    if (!g_dead_head) g_dead_tail = NULL;
    g_dead_count--;
    reused = 1;
  }
  pthread_mutex_unlock(&g_reg_mu);
  if (s) {
    struct cmx_stream_s *keep = s->next_all;
    unsigned gen = atomic_load(&s->gen);
    memset(s, 0, sizeof *s);
    s->next_all = keep;
    atomic_store(&s->gen, gen + 1);
  } else {
    s = calloc(1, sizeof *s);
  }
  if (!s) {
    free(q);
    *err = "out of memory";
    return NULL;
  }
  if (n_threads <= 0 || n_threads > nc) n_threads = nc;
  s->team.nthreads = n_threads;
  for (int i = 0; i < 256; i++) s->team.cores[i] = cores[i % nc];
  s->team.bind = env_bind();
  s->team.gen = 1;
  s->qcap = 64;
  s->q = q;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv_work, NULL);
  pthread_cond_init(&s->cv_idle, NULL);
  s->flags = flags;
  atomic_store(&s->magic, CMX_STREAM_MAGIC);
  if (!reused) {
    atomic_store(&s->gen, 1);
    pthread_mutex_lock(&g_reg_mu);
    s->next_all = g_all;
    g_all = s;
    pthread_mutex_unlock(&g_reg_mu);
  }
  return s;
}

static void *worker_main(void *arg) {
  struct cmx_stream_s *s = arg;
  cmx_set_current_team(&s->team);
  pthread_mutex_lock(&s->mu);
  for (;;) {
    if (s->qlen == 0 || s->here) {
      if (s->stop) break;
      /* Bounded spin: stay hot for back-to-back work, then sleep. */
      pthread_mutex_unlock(&s->mu);
      uint64_t t0 = cmx_now_ns();
      unsigned i = 0;
      while (atomic_load_explicit(&s->pending, memory_order_acquire) == 0) {
        if ((++i & 63) == 0 && cmx_now_ns() - t0 > CMX_SPIN_NS) break;
        cmx_cpu_relax();
      }
      pthread_mutex_lock(&s->mu);
      while ((s->qlen == 0 || s->here) && !s->stop) {
        atomic_store(&s->worker_sleeping, 1);
        pthread_cond_wait(&s->cv_work, &s->mu);
        atomic_store(&s->worker_sleeping, 0);
      }
      continue;
    }
    struct cmx_task t = s->q[s->qhead];
    s->qhead = (s->qhead + 1) % s->qcap;
    s->qlen--;
    int nt = s->team.nthreads;
    pthread_mutex_unlock(&s->mu);
    cmx_fp_mode_enter();
    /* The worker is its team's thread 0 (bound in a region too): a task on
     * one thread, which opens no region, runs on the team's core as well. */
    cmx_team_bind(&s->team, 0);
    atomic_fetch_add_explicit(&cmx_sched_busy, nt, memory_order_relaxed);
    t.run(t.ctx, nt);
    atomic_fetch_sub_explicit(&cmx_sched_busy, nt, memory_order_relaxed);
    pthread_mutex_lock(&s->mu);
    if (atomic_fetch_sub(&s->pending, 1) == 1)
      pthread_cond_broadcast(&s->cv_idle);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

int cmx_sched_submit(struct cmx_stream_s *s, const struct cmx_task *t,
                     size_t n) {
  pthread_mutex_lock(&s->mu);
  if (s->stop) {
    pthread_mutex_unlock(&s->mu);
    return -1;
  }
  if (s->qlen + n > s->qcap) {
    size_t cap = s->qcap;
    while (cap < s->qlen + n) cap *= 2;
    struct cmx_task *q = malloc(cap * sizeof *q);
    if (!q) {
      pthread_mutex_unlock(&s->mu);
      return -1;
    }
    for (size_t i = 0; i < s->qlen; i++) q[i] = s->q[(s->qhead + i) % s->qcap];
    free(s->q);
    s->q = q;
    s->qcap = cap;
    s->qhead = 0;
  }
  for (size_t i = 0; i < n; i++)
    s->q[(s->qhead + s->qlen + i) % s->qcap] = t[i];
  s->qlen += n;
  atomic_fetch_add_explicit(&s->pending, n, memory_order_release);
  if (!s->running) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 8u << 20);
    if (pthread_create(&s->worker, &attr, worker_main, s) != 0) {
      pthread_attr_destroy(&attr);
      s->qlen -= n;
      atomic_fetch_sub(&s->pending, n);
      pthread_mutex_unlock(&s->mu);
      return -1;
    }
    pthread_attr_destroy(&attr);
    s->running = 1;
  } else if (atomic_load(&s->worker_sleeping)) {
    pthread_cond_signal(&s->cv_work);
  }
  pthread_mutex_unlock(&s->mu);
  return 0;
}

/* Set in a forked child: the thread that forked may own a libgomp pool
 * (from running batches here) whose threads the child lacks, and a region
 * it opened would wait for them forever; the child's work goes to fresh
 * workers instead, whose pools are new. */
static atomic_int g_here_off;
atomic_int cmx_sched_busy;
/* CMX_CALLER_TEAM=0: never (A/B timing); read once. */
static int here_env(void) {
  static atomic_int v = -1;
  int x = atomic_load_explicit(&v, memory_order_relaxed);
  if (x < 0) {
    const char *e = getenv("CMX_CALLER_TEAM");
    x = !(e && strcmp(e, "0") == 0);
    atomic_store_explicit(&v, x, memory_order_relaxed);
  }
  return x;
}

int cmx_sched_claim_here(struct cmx_stream_s *s) {
  if (!here_env()) return 0;
  if (atomic_load_explicit(&g_here_off, memory_order_relaxed) ||
      atomic_load_explicit(&s->pending, memory_order_acquire))
    return 0;
  pthread_mutex_lock(&s->mu);
  int ok = !s->stop && !s->here && atomic_load(&s->pending) == 0;
  if (ok) {
    s->here = 1;
    atomic_fetch_add(&s->pending, 1);
  }
  pthread_mutex_unlock(&s->mu);
  return ok;
}

void cmx_sched_release_here(struct cmx_stream_s *s) {
  pthread_mutex_lock(&s->mu);
  s->here = 0;
  if (atomic_fetch_sub(&s->pending, 1) == 1)
    pthread_cond_broadcast(&s->cv_idle);
  if (s->qlen && atomic_load(&s->worker_sleeping))
    pthread_cond_signal(&s->cv_work);
  pthread_mutex_unlock(&s->mu);
}

void cmx_sched_drain(struct cmx_stream_s *s) {
  uint64_t t0 = cmx_now_ns();
  unsigned i = 0;
  while (atomic_load_explicit(&s->pending, memory_order_acquire) != 0) {
    if ((++i & 63) == 0 && cmx_now_ns() - t0 > CMX_SPIN_NS) break;
    cmx_cpu_relax();
  }
  pthread_mutex_lock(&s->mu);
  while (atomic_load(&s->pending) != 0) pthread_cond_wait(&s->cv_idle, &s->mu);
  pthread_mutex_unlock(&s->mu);
}

void cmx_sched_stream_destroy(struct cmx_stream_s *s) {
  cmx_sched_drain(s);
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  int running = s->running;
  pthread_cond_broadcast(&s->cv_work);
  pthread_mutex_unlock(&s->mu);
  if (running) pthread_join(s->worker, NULL);
  /* The shell stays (magic cleared, on a list so leak checkers see it
   * reachable) so that a stale handle is detected, never dereferenced
   * after free; its queue and sync objects are released. */
  atomic_store(&s->magic, CMX_STREAM_DEAD);
  atomic_fetch_add(&s->gen, 1);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv_work);
  pthread_cond_destroy(&s->cv_idle);
  free(s->q);
  s->q = NULL;
  free(s->first_msg);
  s->first_msg = NULL;
  pthread_mutex_lock(&g_reg_mu);
  s->next_dead = NULL;
  if (g_dead_tail) g_dead_tail->next_dead = s;
  else g_dead_head = s;
  g_dead_tail = s;
  g_dead_count++;
  pthread_mutex_unlock(&g_reg_mu);
}

/* fork(): the prepare step drains every live stream and holds its lock, so
 * the child inherits empty queues and consistent locks; the child has none
 * of the parent's threads, so its streams start their workers (and
 * libgomp its pools) afresh on first use. */
void cmx_sched_fork_prepare(void) {
  pthread_mutex_lock(&g_reg_mu);
  for (struct cmx_stream_s *s = g_all; s; s = s->next_all)
    if (s->magic == CMX_STREAM_MAGIC) {
      cmx_sched_drain(s);
      pthread_mutex_lock(&s->mu);
    }
}

void cmx_sched_fork_parent(void) {
  for (struct cmx_stream_s *s = g_all; s; s = s->next_all)
    if (s->magic == CMX_STREAM_MAGIC) pthread_mutex_unlock(&s->mu);
  pthread_mutex_unlock(&g_reg_mu);
}

void cmx_sched_fork_child(void) {
  atomic_store(&g_here_off, 1);
  for (struct cmx_stream_s *s = g_all; s; s = s->next_all)
    if (s->magic == CMX_STREAM_MAGIC) {
      pthread_mutex_init(&s->mu, NULL);
      pthread_cond_init(&s->cv_work, NULL);
      pthread_cond_init(&s->cv_idle, NULL);
      s->running = 0;
      s->stop = 0;
      atomic_store(&s->worker_sleeping, 0);
      s->team.gen++;
    }
  pthread_mutex_init(&g_reg_mu, NULL);
}

void cmx_sched_set_threads(struct cmx_stream_s *s, int n) {
  pthread_mutex_lock(&s->mu);
  const struct cmx_topo *t = cmx_topo();
  int most = t->ncores < 256 ? t->ncores : 256;
  if (n < 1) n = 1;
  if (n > most) n = most;
  s->team.nthreads = n;
  s->team.gen++;
  pthread_mutex_unlock(&s->mu);
}
