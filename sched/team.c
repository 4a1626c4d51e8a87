/* Teams: the OpenMP threads a stream's worker forks. Each team thread binds
 * itself to its own core with hwloc the first time it runs for a team
 * generation (a thread inherits its creator's mask, so binding must be done
 * by each thread itself). The caller's OpenMP settings are never changed:
 * every region names its thread count explicitly. */
#include <omp.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "sched.h"

int cmx_topo_bind_self(int pu);

static _Thread_local const struct cmx_team *tls_team;
static _Thread_local const struct cmx_team *tls_bound_team;
static _Thread_local unsigned tls_bound_gen;
static _Thread_local int tls_bound_tid = -1;

atomic_int cmx_sched_ftz;

unsigned cmx_fp_mode_enter(void) {
#if defined(__x86_64__)
  unsigned old = _mm_getcsr();
  /* FTZ (bit 15) and DAZ (bit 6) on cmx threads only when asked. */
  unsigned want = atomic_load_explicit(&cmx_sched_ftz, memory_order_relaxed)
                      ? old | 0x8040u : old & ~0x8040u;
  if (want != old) _mm_setcsr(want);
  return old;
#elif defined(__aarch64__)
  unsigned long old;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(old));
  unsigned long want = atomic_load_explicit(&cmx_sched_ftz,
                                            memory_order_relaxed)
                           ? old | (1ul << 24) : old & ~(1ul << 24);
  if (want != old) __asm__ __volatile__("msr fpcr, %0" : : "r"(want));
  return (unsigned)old;
#else
  return 0;
#endif
}

void cmx_fp_mode_leave(unsigned old) {
#if defined(__x86_64__)
  if (_mm_getcsr() != old) _mm_setcsr(old);
#elif defined(__aarch64__)
  unsigned long v = old;
  __asm__ __volatile__("msr fpcr, %0" : : "r"(v));
#else
  (void)old;
#endif
}

void cmx_set_current_team(const struct cmx_team *t) { tls_team = t; }

uint64_t cmx_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cmx_team_bind(const struct cmx_team *t, int tid) {
  if (!t || !t->bind) return;
  if (tls_bound_team == t && tls_bound_gen == t->gen && tls_bound_tid == tid)
    return;
  const struct cmx_topo *topo = cmx_topo();
  int core = t->cores[tid % t->nthreads];
  if (core >= 0 && core < topo->ncores) cmx_topo_bind_self(topo->core_pu[core]);
  tls_bound_team = t;
  tls_bound_gen = t->gen;
  tls_bound_tid = tid;
}

/* A run of small nodes shares one parallel region (cmx_team_batch): the
 * master runs the nodes; each cmx_parallel_for it reaches publishes a job
 * into a ring that the waiting team threads work through in order, instead
 * of a fork and join per node. A job's fields are written by the master
 * before seq is bumped (release) and read by team threads after they see
 * it (acquire); a slot is reused only once every team thread is done with
 * it (left == 0). A synchronous job returns when every range is done. An
 * asynchronous one (cmx_parallel_for_async) returns after the master's own
 * range: the graph fences (cmx_team_fence) before a node that reads its
 * output and at the end of the batch, so independent nodes follow each
 * other with no round trip between the cores (460 ns on the 2-core Zen 5
 * VM: a 5 us node on two threads waited a fifth of its time). Team threads
 * take jobs in order, so once the last job is done every earlier one is. */
#define RING 8
#define ASYNC_CTX 512
struct batch_job {
  atomic_int left;      /* team threads still running this job */
  cmx_range_fn fn;
  void *ctx;            /* the caller's, or ctxbuf for an async job */
  size_t n, align;
  _Alignas(64) unsigned char ctxbuf[ASYNC_CTX];
};
struct batch_ctl {
  atomic_uint seq;      /* master: jobs published so far */
  atomic_int stop;      /* master: the batch is over */
  int nt;               /* team size of the region */
  int busy;             /* master only: a job is running (no nesting) */
  int pending;          /* master only: the last job may still be running */
  struct batch_job ring[RING];
};
static _Thread_local struct batch_ctl *tls_batch; /* set on the master */

static void run_share(const struct batch_ctl *c, const struct batch_job *jb,
                      int tid) {
  size_t b, e;
  cmx_range(tid, c->nt, jb->n, jb->align, &b, &e);
  if (b < e) jb->fn(jb->ctx, b, e);
}

static void wait_job(const struct batch_job *jb) {
  while (atomic_load_explicit(&jb->left, memory_order_acquire) > 0)
    cmx_cpu_relax();
}

void cmx_team_fence(void) {
  struct batch_ctl *c = tls_batch;
  if (!c || !c->pending) return;
  /* seq is written by the master alone */
  unsigned q = atomic_load_explicit(&c->seq, memory_order_relaxed);
  wait_job(&c->ring[(q - 1) % RING]);
  c->pending = 0;
}

int cmx_team_pending(void) {
  const struct batch_ctl *c = tls_batch;
  return c && c->pending;
}

/* Publishes a job to the batch's team and runs the master's range; 1 if
 * it did, 0 if there is no batch to use. ctx_bytes != 0: an async job, its
 * ctx copied into the slot, that may still run when this returns. */
static int batch_publish(int nt, size_t n, size_t align, cmx_range_fn fn,
                         const void *ctx, size_t ctx_bytes) {
  struct batch_ctl *c = tls_batch;
  if (!c || nt <= 1 || c->busy || ctx_bytes > ASYNC_CTX) return 0;
  c->busy = 1;
  const unsigned q = atomic_load_explicit(&c->seq, memory_order_relaxed);
  struct batch_job *jb = &c->ring[q % RING];
  wait_job(jb); /* the slot's previous job */
  jb->fn = fn;
  jb->n = n;
  jb->align = align;
  if (ctx_bytes) {
    memcpy(jb->ctxbuf, ctx, ctx_bytes);
    jb->ctx = jb->ctxbuf;
  } else {
    jb->ctx = (void *)ctx;
  }
  atomic_store_explicit(&jb->left, c->nt - 1, memory_order_relaxed);
  atomic_store_explicit(&c->seq, q + 1, memory_order_release);
  run_share(c, jb, 0);
  c->pending = ctx_bytes != 0;
  if (!c->pending) wait_job(jb);
  c->busy = 0;
  return 1;
}

size_t cmx_batch_grain(size_t grain) {
  const struct batch_ctl *c = tls_batch;
  return c && !c->busy ? (grain + 3) / 4 : grain;
}

static int split_count(int nthreads, size_t n, size_t grain) {
  if (grain == 0) grain = 1;
  size_t most = n / grain;
  return (size_t)nthreads > most ? (int)most : nthreads;
}

void cmx_parallel_for_async(int nthreads, size_t n, size_t align,
                            size_t grain, cmx_range_fn fn, const void *ctx,
                            size_t ctx_bytes) {
  int nt = split_count(nthreads, n, grain);
  /* One thread: the caller runs it (as cmx_parallel_for would), with no
   * look at the batch. */
  if (nt <= 1) {
    if (n) fn((void *)ctx, 0, n);
    return;
  }
  if (batch_publish(nt, n, align, fn, ctx, ctx_bytes)) return;
  cmx_parallel_for(nthreads, n, align, grain, fn, (void *)ctx);
}

void cmx_parallel_for(int nthreads, size_t n, size_t align, size_t grain,
                      cmx_range_fn fn, void *ctx) {
  int nt = split_count(nthreads, n, grain);
  if (nt <= 1) {
    if (n) fn(ctx, 0, n);
    return;
  }
  /* Inside a batch region: hand the job to the waiting team. */
  if (batch_publish(nt, n, align, fn, ctx, 0)) return;
  /* Inside someone else's parallel region, never nest a team. */
  if (nt <= 1 || omp_in_parallel()) {
    if (n) fn(ctx, 0, n);
    return;
  }
  const struct cmx_team *team = tls_team;
  /* The region always has the whole team, the first nt sharing the work:
   * libgomp shrinks its pool when a region is smaller than the last and
   * regrows it later, and the threads it parks then spin on cores the
   * next region's threads are bound to (GOMP_SPINCOUNT; SDPA decode, whose
   * merge needs 2 threads after a 16-thread pass, ran 60 ms on 16 threads
   * against 8.8 on 1 on the 16-core Xeon). */
#pragma omp parallel num_threads(nthreads)
  {
    int tid = omp_get_thread_num(), got = omp_get_num_threads();
    cmx_team_bind(team, tid);
    if (tid) cmx_fp_mode_enter(); /* team threads are cmx's own */
    size_t b, e;
    if (tid < nt) {
      cmx_range(tid, got < nt ? got : nt, n, align, &b, &e);
      if (b < e) fn(ctx, b, e);
    }
  }
}

void cmx_team_batch(int nthreads, void (*body)(void *), void *arg) {
  if (nthreads <= 1 || omp_in_parallel() || tls_batch) {
    body(arg);
    return;
  }
  struct batch_ctl c;
  memset(&c, 0, sizeof c);
  const struct cmx_team *team = tls_team;
#pragma omp parallel num_threads(nthreads)
  {
    int tid = omp_get_thread_num();
    cmx_team_bind(team, tid);
    if (tid == 0) {
      c.nt = omp_get_num_threads();
      if (c.nt > 1) tls_batch = &c;
      body(arg);
      cmx_team_fence();
      tls_batch = NULL;
      atomic_store_explicit(&c.stop, 1, memory_order_release);
    } else {
      cmx_fp_mode_enter();
      unsigned seen = 0;
      uint64_t t0 = 0;
      for (;;) {
        unsigned q = atomic_load_explicit(&c.seq, memory_order_acquire);
        if (q != seen) {
          struct batch_job *jb = &c.ring[seen % RING];
          run_share(&c, jb, tid);
          atomic_fetch_sub_explicit(&jb->left, 1, memory_order_release);
          seen++;
          t0 = 0;
          continue;
        }
        if (atomic_load_explicit(&c.stop, memory_order_acquire)) break;
        /* Waiting while the master runs serial code: pause, and after
         * 20 us yield the core rather than burn it. */
        if (!t0) t0 = cmx_now_ns();
        if (cmx_now_ns() - t0 > 20000) sched_yield();
        else cmx_cpu_relax();
      }
    }
  }
}
