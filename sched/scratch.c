/* Per-thread scratch buffers (contract in sched.h): one per slot, grown on
 * demand, kept between calls and freed when the thread exits. A buffer
 * that went back to the system after every call would be a fresh mmap
 * and munmap for each thread of each op (glibc maps blocks of 128 KiB and
 * more): page faults on every call, and a TLB shootdown to every core of
 * the team at every munmap, which grew with the team (SDPA decode on the
 * 16-core Xeon: 8.8 ms on 1 thread, 15 / 28 / 60 ms on 4 / 8 / 16). */
#include <pthread.h>
#include <stdlib.h>

#include "sched.h"

struct scratch {
  void *p[CMX_SCRATCH_SLOTS];
  size_t cap[CMX_SCRATCH_SLOTS];
};

static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* The thread's block, also held by the key (whose destructor frees it):
 * read through this pointer, a call costs a TLS load instead of
 * pthread_once and pthread_getspecific (50 of a small product's
 * instructions, callgrind). */
static _Thread_local struct scratch *tls_scratch;

static void scratch_free(void *v) {
  struct scratch *s = v;
  tls_scratch = NULL; /* destructors run on the exiting thread */
  for (int i = 0; i < CMX_SCRATCH_SLOTS; i++) free(s->p[i]);
  free(s);
}

static void key_init(void) { pthread_key_create(&g_key, scratch_free); }

void *cmx_scratch(int slot, size_t bytes) {
  if (slot < 0 || slot >= CMX_SCRATCH_SLOTS) return NULL;
  struct scratch *s = tls_scratch;
  if (!s) {
    pthread_once(&g_once, key_init);
    s = calloc(1, sizeof *s);
    if (!s || pthread_setspecific(g_key, s)) {
      free(s);
      return NULL;
    }
    tls_scratch = s;
  }
  if (s->cap[slot] < bytes || !s->p[slot]) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64)) return NULL;
    free(s->p[slot]);
    s->p[slot] = p;
    s->cap[slot] = bytes;
  }
  return s->p[slot];
}
