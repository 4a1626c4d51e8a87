/* Teams: the OpenMP threads a stream's worker forks. Each team thread binds
 * itself to its own core with hwloc the first time it runs for a team
 * generation (a thread inherits its creator's mask, so binding must be done
 * by each thread itself). The caller's OpenMP settings are never changed:
 * every region names its thread count explicitly. */
#include <omp.h>
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

const struct cmx_team *cmx_current_team(void) { return tls_team; }
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

void cmx_parallel_for(int nthreads, size_t n, size_t align, size_t grain,
                      cmx_range_fn fn, void *ctx) {
  if (grain == 0) grain = 1;
  size_t most = n / grain;
  int nt = nthreads;
  if ((size_t)nt > most) nt = (int)most;
  /* Inside someone else's parallel region, never nest a team. */
  if (nt <= 1 || omp_in_parallel()) {
    if (n) fn(ctx, 0, n);
    return;
  }
  const struct cmx_team *team = tls_team;
#pragma omp parallel num_threads(nt)
  {
    int tid = omp_get_thread_num(), got = omp_get_num_threads();
    cmx_team_bind(team, tid);
    if (tid) cmx_fp_mode_enter(); /* team threads are cmx's own */
    size_t b, e;
    cmx_range(tid, got, n, align, &b, &e);
    if (b < e) fn(ctx, b, e);
  }
}
