/* Memory: 64-byte aligned buffers from a size-class cache, with accounting
 * (active, peak, cache), a memory limit checked at every allocation, a
 * cache limit, and fault injection (CMX_FAULT_ALLOC=N fails the N-th
 * allocation, counting from 1) for tests. Size classes are powers of two
 * and their midpoints, so rounding wastes at most a third. */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NCLASS 96
struct free_node { struct free_node *next; };

/* g_mu guards the size-class lists and the counters. Its sections are a
 * few loads and stores (the cache trims' frees aside), so it is a spin
 * lock: one locked instruction takes it and a plain store gives it back,
 * where a mutex's unlock is a second locked exchange (every small op takes
 * it twice: for its output and when that is freed). A waiter spins
 * briefly, then yields its core. */
static atomic_int g_mu;
static void mu_lock(void) {
  unsigned i = 0;
  while (atomic_exchange_explicit(&g_mu, 1, memory_order_acquire))
    while (atomic_load_explicit(&g_mu, memory_order_relaxed)) {
      if (++i < 256) cmx_cpu_relax();
      else sched_yield();
    }
}
static void mu_unlock(void) {
  atomic_store_explicit(&g_mu, 0, memory_order_release);
}
/* A cached buffer goes back to the thread that had it where the cache
 * holds one of its class from that thread: its lines are still in that
 * core's caches, while another core writing it would first take each line
 * over. Each class keeps HOMES lists, one per thread number modulo HOMES
 * (a thread's number counts from 1, taken at its first allocation); a
 * thread whose list is empty takes from the others. Two application
 * threads, each evaluating 16 astype copies f32 -> bf16 of its own
 * 181x181 array on its own core (2-core Xeon VM), took 2.73-2.80 us a copy
 * with one list a class, the time in the kernel (every freed output went
 * to whichever thread allocated next), 1.90-1.92 us so, and 1.79-1.83
 * alone. */
#define HOMES 8
static struct free_node *g_free[NCLASS][HOMES];
static size_t g_active, g_peak, g_cache;
static atomic_uint g_homes;
static _Thread_local unsigned tls_home;
static unsigned my_home(void) {
  if (!tls_home) tls_home = atomic_fetch_add(&g_homes, 1) + 1;
  return tls_home % HOMES;
}

/* Takes a cached buffer of class c for home (g_mu held): its own list's
 * newest, else the first other list's; NULL when the class has none. */
static struct free_node *take_cached(int c, unsigned home) {
  for (unsigned i = 0; i < HOMES; i++) {
    struct free_node **l = &g_free[c][(home + i) % HOMES];
    if (*l) {
      struct free_node *f = *l;
      *l = f->next;
      return f;
    }
  }
  return NULL;
}

/* Written under g_mu; read without it by cmx_mem_would_exceed's check for
 * "no limit", which every op makes. */
static _Atomic size_t g_limit = SIZE_MAX;
static size_t g_cache_limit = (size_t)1 << 30;
/* Allocations counted only while a fault is armed (g_fault_at > 0): the
 * count restarts when one is armed, so the N-th is the same either way, and
 * an unarmed allocation takes no atomic add. */
static atomic_long g_alloc_count;
static atomic_long g_fault_at = -1;
static int g_huge = 1; /* huge pages for big buffers (mem_init sets it) */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void mem_init(void) {
  const char *f = getenv("CMX_FAULT_ALLOC");
  if (f && *f) atomic_store(&g_fault_at, strtol(f, NULL, 10));
  const char *h = getenv("CMX_HUGEPAGES");
  g_huge = !(h && strcmp(h, "0") == 0);
}

/* Tests: make the n-th allocation from now fail (0: none), as
 * CMX_FAULT_ALLOC=n does at start-up. */
void cmx_mem_inject_fault(long n) {
  pthread_once(&g_once, mem_init);
  atomic_store(&g_alloc_count, 0);
  atomic_store(&g_fault_at, n > 0 ? n : -1);
}

/* Class index and its byte size; huge sizes get no class (-1). */
static int size_class(size_t n, size_t *bytes) {
  if (n < 64) n = 64;
  int k = 63 - __builtin_clzll((unsigned long long)n);
  size_t base = (size_t)1 << k;
  if (n == base) {
    *bytes = base;
    return 2 * k < NCLASS ? 2 * k : -1;
  }
  size_t mid = base + base / 2;
  if (n <= mid) {
    *bytes = mid;
    return 2 * k + 1 < NCLASS ? 2 * k + 1 : -1;
  }
  *bytes = base * 2;
  return 2 * (k + 1) < NCLASS ? 2 * (k + 1) : -1;
}

int cmx_mem_would_exceed(size_t nbytes) {
  if (atomic_load_explicit(&g_limit, memory_order_relaxed) == SIZE_MAX)
    return 0;
  mu_lock();
  size_t lim = atomic_load_explicit(&g_limit, memory_order_relaxed);
  int r = lim != SIZE_MAX && (nbytes > lim || g_active > lim - nbytes);
  mu_unlock();
  return r;
}

static size_t class_bytes(int c) {
  size_t base = (size_t)1 << (c / 2);
  return c % 2 ? base + base / 2 : base;
}

static void trim_cache_locked(size_t keep) {
  for (int c = NCLASS - 1; c >= 0 && g_cache > keep; c--) {
    for (unsigned h = 0; h < HOMES; h++)
      while (g_free[c][h] && g_cache > keep) {
        struct free_node *f = g_free[c][h];
        g_free[c][h] = f->next;
        g_cache -= class_bytes(c);
        free(f);
      }
  }
}

/* Buffers of 1 MiB and more start at a varying multiple of 128 bytes
 * into a page ("colouring"): otherwise every large array starts at the same
 * offset in a 4 KiB page, and on Intel cores the loads of a + b and the
 * stores of c in c = a + b alias (4K aliasing) and stall. */
#define COLOR_MIN ((size_t)1 << 20)
static atomic_uint g_color;

/* Buffers of 4 MiB and more are allocated on a 2 MiB boundary (their data
 * starts after the descriptor and the colouring, below) and are marked for
 * transparent huge pages (Linux's THP is often "madvise": nothing is huge
 * unless asked): a streaming op then takes a TLB miss per 2 MiB rather
 * than per 4 KiB, and a fresh buffer 512 times fewer page faults. One
 * loaded VM core, thread CPU time, medians of 8 interleaved runs:
 * layer_norm 4096x4096 18.4 -> 16.0 ms, SDPA decode against a 4096 KV
 * cache 21.3 -> 19.9 ms. CMX_HUGEPAGES=0 turns it off. */
#define HUGE_MIN ((size_t)4 << 20)
#define HUGE_PAGE ((size_t)2 << 20)

/* An owned buffer's descriptor lives in its allocation, in front of the
 * data (HDR bytes: the data stays 128-byte aligned before its colouring),
 * so a buffer costs one allocation, not two (and a cached one none): a
 * malloc and a free were a tenth of a 16-element add's 2.6K instructions
 * (callgrind). In front, not behind: a kernel writing past a buffer whose
 * size is a whole class still leaves the allocation, where ASan sees it,
 * instead of overwriting the descriptor. */
#define HDR 128
_Static_assert(sizeof(struct cmx_buffer) <= HDR, "buffer descriptor > HDR");

static void *raw_alloc(size_t bytes) {
  void *p = NULL;
  size_t total = HDR + bytes + (bytes >= COLOR_MIN ? 4096 : 0);
#if defined(MADV_HUGEPAGE)
  if (bytes >= HUGE_MIN && g_huge) {
    if (posix_memalign(&p, HUGE_PAGE, total)) return NULL;
    /* A hint: where the kernel declines, the buffer keeps 4 KiB pages. */
    madvise(p, total & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);
    return p;
  }
#endif
  return posix_memalign(&p, 64, total) == 0 ? p : NULL;
}

static void *colored(void *raw, size_t bytes) {
  if (bytes < COLOR_MIN) return (char *)raw + HDR;
  unsigned c = atomic_fetch_add_explicit(&g_color, 1, memory_order_relaxed);
  return (char *)raw + HDR + (c % 31) * 128;
}

struct cmx_buffer *cmx_buffer_new(size_t nbytes, const char *who) {
  pthread_once(&g_once, mem_init);
  long fault = atomic_load_explicit(&g_fault_at, memory_order_relaxed);
  if (fault > 0) {
    long nth = atomic_fetch_add(&g_alloc_count, 1) + 1;
    if (nth == fault)
      return (void)cmx_err(CMX_ENOMEM, "%s: allocation %ld of %zu bytes "
                           "failed (injected by CMX_FAULT_ALLOC)", who, nth,
                           nbytes),
             NULL;
  }
  size_t bytes;
  int c = size_class(nbytes, &bytes);
  if (c < 0) bytes = (nbytes + 63) & ~(size_t)63;
  void *p = NULL;
  const unsigned home = my_home();
  mu_lock();
  size_t lim = atomic_load_explicit(&g_limit, memory_order_relaxed);
  if (lim != SIZE_MAX && (bytes > lim || g_active > lim - bytes)) {
    size_t act = g_active;
    mu_unlock();
    return (void)cmx_err(CMX_ENOMEM, "%s: %zu bytes more would exceed the "
                         "memory limit of %zu bytes (%zu active)", who,
                         nbytes, lim, act),
           NULL;
  }
  if (c >= 0 && (p = take_cached(c, home))) g_cache -= bytes;
  g_active += bytes;
  if (g_active > g_peak) g_peak = g_active;
  mu_unlock();
  if (!p) p = raw_alloc(bytes);
  if (!p) {
    /* Give the cache back to the system and try once more. */
    cmx_clear_cache();
    p = raw_alloc(bytes);
  }
  if (!p) {
    mu_lock();
    g_active -= bytes;
    mu_unlock();
    return (void)cmx_err(CMX_ENOMEM, "%s: the system could not allocate "
                         "%zu bytes", who, bytes),
           NULL;
  }
  struct cmx_buffer *b = p;
  atomic_init(&b->refs, 1);
  b->raw = p;
  b->data = colored(p, bytes);
  b->nbytes = bytes;
  b->owned = 1;
  b->home = home;
  b->release = NULL;
  b->ctx = NULL;
  return b;
}

struct cmx_buffer *cmx_buffer_wrap(void *data, size_t nbytes,
                                   void (*release)(void *), void *ctx) {
  struct cmx_buffer *b = malloc(sizeof *b);
  if (!b) return NULL;
  atomic_init(&b->refs, 1);
  b->data = data;
  b->raw = data;
  b->nbytes = nbytes;
  b->owned = 0;
  b->release = release;
  b->ctx = ctx;
  return b;
}

void cmx_buffer_retain(struct cmx_buffer *b) {
  atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void cmx_buffer_release(struct cmx_buffer *b) {
  /* A count of 1 is ours alone: dropped without a locked instruction, as
   * cmx_array_free does (array.c). */
  if (!b || (atomic_load_explicit(&b->refs, memory_order_acquire) != 1 &&
             atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1))
    return;
  if (!b->owned) {
    if (b->release) b->release(b->ctx);
    free(b);
    return;
  }
  /* b lies in raw: read it before raw is cached or freed */
  size_t bytes, nbytes = b->nbytes;
  void *raw = b->raw;
  const unsigned home = b->home;
  int c = size_class(nbytes, &bytes);
  mu_lock();
  g_active -= nbytes;
  if (c >= 0 && bytes == nbytes && bytes <= g_cache_limit) {
    /* Room for the newest buffer first (the same op usually comes again):
     * older cached ones go, largest classes first. Freeing the newest
     * instead made a 256 MiB output fault in (and the kernel zero) its
     * pages on every call once earlier ops had filled the cache: Zen 5 VM,
     * 1 thread, permuted copy of 2048x512x64 after the nn deck's SDPA and
     * conv rows 40.8 -> 29.1 ms (27.4 alone). */
    if (g_cache + bytes > g_cache_limit) trim_cache_locked(g_cache_limit - bytes);
    struct free_node *f = raw;
    f->next = g_free[c][home];
    g_free[c][home] = f;
    g_cache += bytes;
    mu_unlock();
  } else {
    mu_unlock();
    free(raw);
  }
}

size_t cmx_get_active_memory(void) {
  mu_lock();
  size_t r = g_active;
  mu_unlock();
  return r;
}
size_t cmx_get_peak_memory(void) {
  mu_lock();
  size_t r = g_peak;
  mu_unlock();
  return r;
}
void cmx_reset_peak_memory(void) {
  mu_lock();
  g_peak = g_active;
  mu_unlock();
}
size_t cmx_get_cache_memory(void) {
  mu_lock();
  size_t r = g_cache;
  mu_unlock();
  return r;
}
size_t cmx_set_memory_limit(size_t bytes) {
  mu_lock();
  size_t old = atomic_load(&g_limit);
  atomic_store(&g_limit, bytes == 0 ? SIZE_MAX : bytes);
  mu_unlock();
  return old;
}
size_t cmx_set_cache_limit(size_t bytes) {
  mu_lock();
  size_t old = g_cache_limit;
  g_cache_limit = bytes;
  trim_cache_locked(bytes);
  mu_unlock();
  return old;
}
void cmx_clear_cache(void) {
  mu_lock();
  trim_cache_locked(0);
  mu_unlock();
}

/* fork(): hold the allocator lock across it so the child's is consistent. */
void cmx_mem_fork_prepare(void) { mu_lock(); }
void cmx_mem_fork_parent(void) { mu_unlock(); }
void cmx_mem_fork_child(void) { atomic_store(&g_mu, 0); }
