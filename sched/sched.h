/* sched/: where and when work runs. The hwloc topology (loaded once),
 * teams of OpenMP threads pinned one per core, streams (a FIFO work queue
 * with one worker thread and a team each), and the range splitter every
 * driver uses. sched/ depends on nothing else inside cmx. */
#ifndef CMX_SCHED_H
#define CMX_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* ---- topology (topo.c) ---- */
struct cmx_topo {
  int ncores;        /* cores with at least one PU in the process mask */
  int *core_pu;      /* OS index of the first allowed PU of each core */
  size_t l1d, l2, l3; /* bytes per core (L1d, L2) and per package (L3);
                         never 0 (topo.c's defaults where hwloc has none) */
  size_t l3_share;    /* the L3 this process can count on: l3, at most
                         8 MiB per core of ncores (topo.c) */
  int numa_nodes;
};
/* Loaded once from the process affinity mask; never NULL (a fallback of
 * one core is used if hwloc fails). */
const struct cmx_topo *cmx_topo(void);
/* Parses an hwloc list ("0-3,6") of OS PU indexes into the cores that
 * contain them, as indexes into topo->core_pu; returns the count, or -1 if
 * the string is malformed or names no allowed PU. */
int cmx_topo_parse_cpus(const char *list, int *cores, int max);

/* ---- ranges (range.c) ---- */
/* Splits [0, n) into nthreads contiguous parts whose boundaries are
 * multiples of align (the last part takes the rest); thread tid gets
 * [*begin, *end), possibly empty. */
void cmx_range(int tid, int nthreads, size_t n, size_t align, size_t *begin,
               size_t *end);

/* ---- teams (team.c) ---- */
struct cmx_team {
  int nthreads;       /* team size */
  int cores[256];     /* core index (into topo) of each team thread */
  int bind;           /* 0: CMX_BIND=none */
  unsigned gen;       /* changes when the core list changes */
};
typedef void (*cmx_range_fn)(void *ctx, size_t begin, size_t end);
/* Runs fn over [0, n) on up to nthreads threads of the calling worker's
 * team. Serial equivalent: fn(ctx, 0, n). Each thread gets one range from
 * cmx_range(tid, nt, n, align); nt = min(nthreads, n / grain) so each
 * thread gets at least grain items; nt <= 1 runs on the caller with no
 * parallel region. */
void cmx_parallel_for(int nthreads, size_t n, size_t align, size_t grain,
                      cmx_range_fn fn, void *ctx);
/* As cmx_parallel_for, but inside a batch region (cmx_team_batch) it may
 * return once the calling thread's own range is done, the others still
 * running: for a node's last step, whose output nothing reads before the
 * graph's fence, and whose inputs stay alive until then. ctx is copied
 * (ctx_bytes, at most 512), so it may live on the caller's stack. Outside
 * a batch region, with a bigger ctx, or with ctx_bytes 0 (a caller that
 * must see the work done), it is cmx_parallel_for. */
void cmx_parallel_for_async(int nthreads, size_t n, size_t align,
                            size_t grain, cmx_range_fn fn, const void *ctx,
                            size_t ctx_bytes);
/* On a batch region's master: 1 while an async job may still be running
 * (cmx_team_pending); cmx_team_fence waits until every job published so
 * far is done. Elsewhere: 0, and no wait. */
int cmx_team_pending(void);
void cmx_team_fence(void);
/* A driver's grain (cmx_parallel_for's) for work that splits well at a
 * smaller share: a quarter of it on a batch region's master (outside a
 * job), where a split costs a ring publish and a pick-up (about 0.3 us a
 * node on the 2-core VM) instead of a fork and join (1.5 us); grain
 * elsewhere. 16 nodes of 64x256 and 128x256 f32 in one eval, 2 threads
 * (1 thread; grain; a quarter): astype 0.98 us (1.09; 0.84), 1.88 (1.98;
 * 1.37); silu 2.84 (2.98; 1.89); rope 4.27 (4.52; 3.01). Reductions, whose
 * element costs less and whose partials merge, keep their grain: at a
 * quarter, 256x256 sums gained 0.92-1.39x, argmax 1.65x. */
size_t cmx_batch_grain(size_t grain);
/* Runs body(arg) on the calling thread inside one parallel region of
 * nthreads threads: every cmx_parallel_for that body reaches is shared
 * with the region's waiting threads (no fork and join per call). Serial
 * equivalent: body(arg). For runs of small nodes. */
void cmx_team_batch(int nthreads, void (*body)(void *), void *arg);
/* Sets the team of the stream whose worker is the calling thread. */
void cmx_set_current_team(const struct cmx_team *t);
/* Denormal mode: cmx_sched_ftz (process scope) asks for flush-to-zero on
 * cmx's own threads. enter applies it to the calling thread and returns the
 * previous mode for leave (used around work run on a caller's thread). */
extern atomic_int cmx_sched_ftz;
unsigned cmx_fp_mode_enter(void);
void cmx_fp_mode_leave(unsigned old);
/* Binds the calling team thread tid to its core (once per team gen). */
void cmx_team_bind(const struct cmx_team *t, int tid);

/* ---- streams (stream.c) ---- */
/* A task: run(ctx) on the stream's worker. */
struct cmx_task {
  void (*run)(void *ctx, int nthreads);
  void *ctx;
};

struct cmx_stream_s {
  atomic_uint magic;         /* CMX_STREAM_MAGIC while live */
  atomic_uint gen;           /* bumped on free (stale-handle check) */
  pthread_mutex_t mu;        /* guards the queue and the fields below */
  pthread_cond_t cv_work;    /* worker waits for tasks */
  pthread_cond_t cv_idle;    /* synchronize waits for an empty queue */
  struct cmx_task *q;        /* ring buffer of tasks */
  size_t qcap, qhead, qlen;
  atomic_size_t pending;     /* queued + running tasks */
  atomic_int worker_sleeping;
  int here;                  /* a caller runs a batch itself (claim_here) */
  int running;               /* worker thread started */
  int stop;                  /* free in progress */
  pthread_t worker;
  struct cmx_team team;
  int flags;
  int is_default;
  int first_status;          /* first failure since last synchronize */
  char *first_msg;
  struct cmx_stream_s *next_all; /* registry of every stream made */
  struct cmx_stream_s *next_dead; /* quarantine of freed shells, FIFO */
};
#define CMX_STREAM_MAGIC 0xc5717eabu
#define CMX_STREAM_DEAD 0xdeadc5u

/* Creates a stream with n_threads team threads on the cores listed (NULL:
 * all allowed cores). Returns NULL with *err set to a message when cpus is
 * malformed or allocation fails. */
struct cmx_stream_s *cmx_sched_stream_new(int n_threads, const char *cpus,
                                          int flags, const char **err);
/* Appends tasks in order in one hand-off; 0, or -1 if the stream stopped
 * or memory ran out. */
int cmx_sched_submit(struct cmx_stream_s *s, const struct cmx_task *t,
                     size_t n);
/* The caller runs a batch on the calling thread with a team of its own
 * (cmx_team_batch / cmx_parallel_for from the caller: no hand-off to the
 * worker, no wake-up of the caller afterwards). claim_here succeeds (1)
 * only when s is idle: nothing queued or running. While claimed, the worker
 * starts nothing and drain waits; release_here hands queued work back to
 * the worker. */
int cmx_sched_claim_here(struct cmx_stream_s *s);
void cmx_sched_release_here(struct cmx_stream_s *s);
/* Waits until every task submitted before the call has finished. */
void cmx_sched_drain(struct cmx_stream_s *s);
/* Drains, stops and joins the worker, frees s. */
void cmx_sched_stream_destroy(struct cmx_stream_s *s);
/* Changes a stream's team size (between 1 and its cores). */
void cmx_sched_set_threads(struct cmx_stream_s *s, int n);
/* fork() support, called by api/'s pthread_atfork handlers. */
void cmx_sched_fork_prepare(void);
void cmx_sched_fork_parent(void);
void cmx_sched_fork_child(void);

/* Waiting, bounded in time (monotonic clock), not iterations. An idle
 * worker spins CMX_SPIN_NS, then sleeps. A caller blocked in cmx_eval on
 * work that is running spins 2 us, then yields the core (sched_yield: any
 * team thread that needs it runs first) for up to CMX_WAIT_YIELD_NS before
 * it sleeps: waking a sleeping caller costs 50-150 us on these VMs, more
 * than a batch of L2-sized ops takes. */
#define CMX_SPIN_NS 90000
#define CMX_WAIT_YIELD_NS 2000000
/* The worker's spin outlasts a caller's wake-up plus its next graph: two
 * 40-node chains on two 1-core streams, rebuilt and evaluated in a loop,
 * found their workers asleep at 50 us (a pair 1.3-1.5x one chain on the
 * 2-core Zen 5 VM) and awake at 90 us (1.95-2.0x). */
/* Threads running stream tasks now, over every stream (each running task
 * counts its team's size): a caller that waits while these cover every
 * core sleeps after its spin instead of yielding, since a yielding thread
 * still takes a third of two cores from two busy workers under CFS. */
extern atomic_int cmx_sched_busy;
/* Per-thread scratch (sched/scratch.c): a 64-byte aligned buffer of at
 * least bytes for this thread and slot, kept for the next call (its
 * content is not), freed at thread exit; NULL without memory. Slots keep
 * users that can be live on one thread at once apart: the GEMM drivers'
 * packing space, an nn kernel's per-thread tiles, and an nn driver's
 * partials on the thread that runs it (it is also team thread 0), and the
 * f32 GEMM driver's transposed product on that thread. */
enum { CMX_SCRATCH_GEMM, CMX_SCRATCH_NN, CMX_SCRATCH_NN_OUT,
       CMX_SCRATCH_COPY, CMX_SCRATCH_GEMM_OUT, CMX_SCRATCH_SLOTS };
void *cmx_scratch(int slot, size_t bytes);

uint64_t cmx_now_ns(void);
static inline void cmx_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

#endif
