/* The lazy graph: making nodes, and eval. cmx_eval walks the graph from its
 * outputs, claims the pending nodes under one short scheduling lock (so
 * that claimed nodes are always enqueued in an order consistent with their
 * dependencies, whichever threads evaluate), and either runs a small batch
 * inline on the calling thread (serially: no team is forked) or hands each
 * stream its run of nodes in one submit. One small node on finished
 * inputs is claimed without the lock and run at once (ready_alone). A node
 * that fails records its status and message; its dependents are skipped
 * and carry the same. */
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Batches touching fewer elements than this run inline on the caller: a
 * hand-off to a spinning worker costs about as much as the work (NOTES.md:
 * a parallel region costs 0.7-1.2 us). */
#define INLINE_ELEMS (1 << 15)
/* When the worker is asleep, waking it costs 50-150 us on this VM (futex
 * wake of an idle vCPU), the time one core needs for ~1M elements of a
 * memory-bound op: below that, the caller runs the batch itself, on one
 * thread. Not for a full team, which the caller runs with its own team
 * (claim_here below): without this rule 128^3 matmul on the 2-core Zen 5
 * VM ran 243 -> 388 GFLOP/s on 2 threads when the worker had never
 * started. */
#define INLINE_SLEEPING_ELEMS (1 << 20)

static pthread_mutex_t g_sched = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_done_cv = PTHREAD_COND_INITIALIZER;

/* Only a node someone sleeps on wakes the sleepers (a->waiters): a caller
 * woken at every node of a 40-node chain took a core from the workers
 * 40 times. Both sides are sequentially consistent: the waiter counts
 * itself before it checks the state, the node publishes DONE before it
 * reads the count. */
static void mark_done(cmx_array a) {
  atomic_store(&a->state, CMX_STATE_DONE);
  if (atomic_load(&a->waiters)) {
    pthread_mutex_lock(&g_done_mu);
    pthread_cond_broadcast(&g_done_cv);
    pthread_mutex_unlock(&g_done_mu);
  }
}

/* Spins briefly, then yields (so a waiting caller never steals a core
 * from the team doing its work), then sleeps: bounded in time. full: the
 * team doing the work has a thread on every core, so a yielding caller
 * would still share one of them with a team thread that the region waits
 * for: it sleeps after the spin instead (a 12544x147x64 matmul on 16
 * threads of the 16-core Xeon took 4.0 ms, one scheduler tick, against
 * 0.33 ms on 8). The same when the streams' running tasks together hold
 * every core (cmx_sched_busy): two chains on two 1-core streams of the
 * 2-core VM reached 1.27-1.36x one chain while the caller yielded. */
static void wait_done_as(cmx_array a, int full) {
  uint64_t t0 = cmx_now_ns(), dt = 0;
  const int ncores = cmx_topo()->ncores;
  unsigned i = 0;
  while (atomic_load(&a->state) != CMX_STATE_DONE) {
    if (dt < 2000) cmx_cpu_relax();
    else if (full || dt >= CMX_WAIT_YIELD_NS ||
             atomic_load_explicit(&cmx_sched_busy, memory_order_relaxed) >=
                 ncores)
      break;
    else sched_yield();
    if ((++i & 15) == 0) dt = cmx_now_ns() - t0;
  }
  if (atomic_load(&a->state) == CMX_STATE_DONE) return;
  atomic_fetch_add(&a->waiters, 1);
  pthread_mutex_lock(&g_done_mu);
  while (atomic_load(&a->state) != CMX_STATE_DONE)
    pthread_cond_wait(&g_done_cv, &g_done_mu);
  pthread_mutex_unlock(&g_done_mu);
  atomic_fetch_sub(&a->waiters, 1);
}

static void wait_done(cmx_array a) { wait_done_as(a, 0); }

/* The op each thread is running, and the last one any thread started, for
 * the crash handler's report. */
static _Thread_local const char *tls_op;
static _Atomic(const char *) g_last_op;
const char *cmx_running_op(void) {
  return tls_op ? tls_op : atomic_load_explicit(&g_last_op,
                                                memory_order_relaxed);
}

/* Stream free marks a stream dead under the scheduling lock, so an eval
 * that saw it live has already submitted to it (and the drain runs that
 * work), and later evals see it dead. */
void cmx_graph_lock(void) { pthread_mutex_lock(&g_sched); }
void cmx_graph_unlock(void) { pthread_mutex_unlock(&g_sched); }

void cmx_graph_fork_prepare(void) {
  pthread_mutex_lock(&g_sched);
  cmx_sched_fork_prepare();
  pthread_mutex_lock(&g_done_mu);
}
void cmx_graph_fork_parent(void) {
  pthread_mutex_unlock(&g_done_mu);
  cmx_sched_fork_parent();
  pthread_mutex_unlock(&g_sched);
}
void cmx_graph_fork_child(void) {
  pthread_mutex_init(&g_done_mu, NULL);
  pthread_cond_init(&g_done_cv, NULL);
  cmx_sched_fork_child();
  pthread_mutex_init(&g_sched, NULL);
}

static void set_failure(cmx_array a, int status, const char *msg) {
  a->status = status;
  a->msg = strdup(msg ? msg : "");
}

/* Runs a's op; its result may still be in flight on the team (an async
 * job, cmx_team_pending) until node_done. */
static void node_exec(cmx_array a, int nthreads) {
  int status = CMX_OK;
  for (int i = 0; i < a->nin && !status; i++) {
    cmx_array in = a->in[i];
    if (atomic_load(&in->state) != CMX_STATE_DONE) wait_done(in);
    if (in->status) {
      status = in->status;
      set_failure(a, in->status, in->msg);
    }
  }
  if (!status && cmx_op_eval[a->op]) {
    const char *prev = tls_op;
    tls_op = cmx_op_name[a->op];
    atomic_store_explicit(&g_last_op, tls_op, memory_order_relaxed);
    status = cmx_op_eval[a->op](a, nthreads);
    tls_op = prev;
    if (status) set_failure(a, status, cmx_last_error());
  }
}

/* Drops a's graph edges (its inputs may now be freed) and publishes it;
 * its job is fenced, so what the job read may be released (a->after). */
static void node_done(cmx_array a) {
  if (a->after) {
    a->after(a->after_ctx);
    a->after = NULL;
  }
  for (int i = 0; i < a->nin; i++) cmx_array_free(a->in[i]);
  a->nin = 0;
  mark_done(a);
}

void cmx_node_run(cmx_array a, int nthreads) {
  node_exec(a, nthreads);
  cmx_team_fence();
  node_done(a);
}

int cmx_node_finish(cmx_array *out, cmx_array a, enum cmx_op op,
                    const cmx_array *in, int nin, cmx_stream s,
                    const char *who) {
  a->op = op;
  a->stream = s;
  a->nin = nin;
  for (int i = 0; i < nin; i++) a->in[i] = cmx_array_retain(in[i]);
  if (op != CMX_OP_view) {
    size_t nbytes = (size_t)a->size * cmx_dtype_bytes(a->dtype);
    if (cmx_mem_would_exceed(nbytes)) {
      cmx_array_free(a);
      return cmx_err(CMX_ENOMEM, "%s: the %zu-byte result would exceed the "
                     "memory limit", who, nbytes);
    }
  }
  if (cmx_eager_for(s)) {
    int st = cmx_eval(&a, 1);
    if (st) {
      cmx_array_free(a);
      return st;
    }
  }
  *out = a;
  return CMX_OK;
}

/* ---- eval ---- */
struct batch {
  size_t n;
  cmx_array nodes[];
};

/* Nodes touching fewer elements than this share one parallel region when
 * they come in a run (one fork and join per run, not per node). */
#define BATCH_REGION_ELEMS (1 << 22)
static size_t node_work(cmx_array a);

struct batch_nodes {
  struct batch *b;
  int nthreads;
};

static void batch_body(void *arg);

static void batch_run(void *ctx, int nthreads) {
  struct batch *b = ctx;
  int small = b->n > 1 && nthreads > 1;
  for (size_t i = 0; i < b->n && small; i++)
    small = node_work(b->nodes[i]) < BATCH_REGION_ELEMS;
  struct batch_nodes bn = {b, nthreads};
  if (small) cmx_team_batch(nthreads, batch_body, &bn);
  else batch_body(&bn);
  free(b);
}

/* Publishes a finished node of a batch and lets the batch's reference go;
 * its failure becomes its stream's first, if none came before. */
static void batch_node_done(cmx_array a) {
  node_done(a);
  struct cmx_stream_s *s = a->stream;
  if (a->status && s) {
    pthread_mutex_lock(&s->mu);
    if (!s->first_status) {
      s->first_status = a->status;
      s->first_msg = strdup(a->msg ? a->msg : "");
    }
    pthread_mutex_unlock(&s->mu);
  }
  cmx_array_free(a);
}

/* Nodes whose async job may still run (cmx_parallel_for_async) wait here,
 * edges and all, until a fence: before a node with an input not yet done
 * (one of them, or another thread's node, which might itself wait for one
 * of them: waiting with them held could deadlock), when DEFER_MAX wait,
 * and at the end of the batch. Jobs finish in order, so once a later job
 * has finished synchronously they are all done. */
#define DEFER_MAX 32
static int waits_on_any(cmx_array a) {
  for (int i = 0; i < a->nin; i++)
    if (atomic_load(&a->in[i]->state) != CMX_STATE_DONE) return 1;
  return 0;
}

/* Waits for the team's jobs, then publishes the deferred nodes. */
static void flush_deferred(cmx_array *def, size_t *nd) {
  cmx_team_fence();
  for (size_t k = 0; k < *nd; k++) batch_node_done(def[k]);
  *nd = 0;
}

static void batch_body(void *arg) {
  struct batch_nodes *bn = arg;
  struct batch *b = bn->b;
  int nthreads = bn->nthreads;
  cmx_array def[DEFER_MAX];
  size_t nd = 0;
  for (size_t i = 0; i < b->n; i++) {
    cmx_array a = b->nodes[i];
    if (nd && (nd == DEFER_MAX || waits_on_any(a))) flush_deferred(def, &nd);
    node_exec(a, nthreads);
    def[nd++] = a;
    /* a job that finished synchronously finished every earlier one */
    if (!cmx_team_pending()) flush_deferred(def, &nd);
  }
  flush_deferred(def, &nd);
}

struct dfs { cmx_array a; int next; };

/* A node's cost in element-touches of a memory-bound op: elements read
 * and written, and for the ops that do O(k) flops per output element
 * (matmul, conv, attention) the inner length as well, so a small but
 * compute-heavy node still goes to the team. A matmul counts one touch per
 * 16 flops, so one the GEMM runs on one thread anyway (under 2^20 flops,
 * kernels/f32-gemm/f32-gemm.c) stays under INLINE_ELEMS and runs on the
 * caller instead of waking the worker (64^3 on the 16-core Xeon: 98
 * GFLOP/s with 1 thread, 80 with a team of 2 that did not help). */
static size_t node_work(cmx_array a) {
  size_t w = (size_t)a->size;
  for (int i = 0; i < a->nin; i++) w += (size_t)a->in[i]->size;
  /* quantized_matmul (the quant row with four inputs) as matmul */
  if ((a->op == CMX_OP_matmul || (a->op == CMX_OP_quant && a->nin == 4)) &&
      a->nin > 0 && a->in[0]->ndim > 0)
    w += (size_t)a->size * (size_t)a->in[0]->shape[a->in[0]->ndim - 1] / 16;
  if (a->op == CMX_OP_conv || a->op == CMX_OP_scaled_dot_product_attention)
    w += a->nin > 1 ? (size_t)a->size * (size_t)a->in[1]->size / 64 : 0;
  return w;
}

/* Claims every pending node reachable from roots, in dependency order.
 * Called with g_sched held. The order goes to small (cap entries) while it
 * fits, else to the heap: *order is small or a block the caller frees. The
 * walk's stack starts on this one's. Small graphs then take no allocation:
 * two mallocs and frees were a fifth of an eager 16-element add's 3.4K
 * instructions (callgrind). Returns the count of nodes ordered; *oom is
 * set when memory ran out (nodes not ordered are pending again). */
#define WALK_STACK 64
static int grow(void **p, void *small, size_t *cap, size_t esz) {
  void *b = *p == small ? malloc(2 * *cap * esz)
                        : realloc(*p, 2 * *cap * esz);
  if (!b) return -1;
  if (*p == small) memcpy(b, small, *cap * esz);
  *p = b;
  *cap *= 2;
  return 0;
}

/* Waits until a is not PROBE (an eval's fast path is looking at it, for
 * a few loads; it yields the core after a while in case that thread was
 * preempted), and returns its state. */
int cmx_array_state(cmx_array a) {
  unsigned i = 0;
  int s;
  while ((s = atomic_load(&a->state)) == CMX_STATE_PROBE) {
    if (++i < 1024) cmx_cpu_relax();
    else sched_yield();
  }
  return s;
}

/* Claims a pending node for this eval (PENDING -> QUEUED); 0 when it is
 * another eval's or done. A node under probe is waited out: the prober
 * either claims it or hands it back as pending. */
static int claim(cmx_array a) {
  int s = CMX_STATE_PENDING;
  while (!atomic_compare_exchange_strong(&a->state, &s, CMX_STATE_QUEUED)) {
    if (s != CMX_STATE_PROBE) return 0;
    cmx_array_state(a);
    s = CMX_STATE_PENDING;
  }
  return 1;
}

static long collect(const cmx_array *roots, size_t nroots, cmx_array *small,
                    size_t cap, cmx_array **order, size_t *work, int *oom) {
  struct dfs stk[WALK_STACK];
  size_t n = 0, scap = WALK_STACK, sn = 0;
  cmx_array *ord = small;
  struct dfs *st = stk;
  *work = 0;
  for (size_t r = 0; r < nroots; r++) {
    if (!claim(roots[r])) continue;
    st[sn++] = (struct dfs){roots[r], 0};
    while (sn) {
      struct dfs *top = &st[sn - 1];
      if (top->next < top->a->nin) {
        cmx_array c = top->a->in[top->next++];
        if (!claim(c)) continue;
        if (sn == scap && grow((void **)&st, stk, &scap, sizeof *st)) {
          /* c was claimed but is on no stack: give it back */
          atomic_store(&c->state, CMX_STATE_PENDING);
          goto oom;
        }
        st[sn++] = (struct dfs){c, 0};
        continue;
      }
      if (n == cap && grow((void **)&ord, small, &cap, sizeof *ord))
        goto oom;
      cmx_array a = top->a;
      ord[n++] = cmx_array_retain(a);
      *work += node_work(a);
      sn--;
    }
  }
  if (st != stk) free(st);
  *order = ord;
  return (long)n;
oom:
  /* Claimed nodes must still run: the caller runs what was ordered, and
   * nothing unordered was claimed without being on the stack. */
  for (size_t i = 0; i < sn; i++)
    atomic_store(&st[i].a->state, CMX_STATE_PENDING);
  if (st != stk) free(st);
  /* Already ordered nodes are complete subgraphs: the caller runs them. */
  *order = ord;
  *oom = 1;
  return (long)n;
}

/* Runs nodes[0, n) on the calling thread, one thread each, in order, and
 * drops the references the walk took. */
static void run_serial(cmx_array *nodes, size_t n) {
  for (size_t i = 0; i < n; i++) {
    cmx_node_run(nodes[i], 1);
    cmx_array_free(nodes[i]);
  }
}

/* Whether every node of order runs on s (a node's NULL or freed stream
 * means the default one, as the submit loop maps it). */
static int one_stream(cmx_array *order, size_t cnt, struct cmx_stream_s *s) {
  struct cmx_stream_s *def = cmx_default_stream();
  for (size_t i = 0; i < cnt; i++) {
    struct cmx_stream_s *t = order[i]->stream;
    if (!t || t->magic != CMX_STREAM_MAGIC) t = def;
    if (t != s) return 0;
  }
  return 1;
}

/* The fast path of a synchronous eval of one array (a small op on
 * evaluated inputs, the common case of a runtime that dispatches op by
 * op): a pending node whose inputs are all done and whose work the general
 * path would run inline anyway (INLINE_ELEMS) is claimed and run here, with
 * no walk, no order vector, no extra reference (the caller holds one for
 * the call) and no scheduling lock. The node is held in PROBE while its
 * inputs are read, so no other eval can claim it and drop its edges; a
 * walk that meets it waits for the probe's outcome (claim), so a node it
 * skips as claimed is always one that runs at once, here, and never one
 * queued behind the walker's own work. */
static int ready_alone(cmx_array a) {
  for (int i = 0; i < a->nin; i++)
    if (atomic_load(&a->in[i]->state) != CMX_STATE_DONE) return 0;
  return node_work(a) < INLINE_ELEMS;
}

/* What a synchronous eval of a finished array returns. */
static int eval_status(cmx_array a) {
  return a->status ? cmx_err(a->status, "%s", a->msg) : CMX_OK;
}

static int eval_impl(const cmx_array *arrays, size_t n, int wait,
                     const char *who) {
  if (n && !arrays) return cmx_err(CMX_EINVAL, "%s: arrays is NULL", who);
  for (size_t i = 0; i < n; i++) {
    int st = cmx_array_check(arrays[i], who, "an array");
    if (st) return st;
  }
  cmx_array small[32], *order = NULL;
  size_t work = 0;
  pthread_mutex_lock(&g_sched);
  int oom = 0;
  long cnt = collect(arrays, n, small, 32, &order, &work, &oom);
  if (oom) {
    /* What was ordered is claimed and must run; the rest is pending
     * again, for a later eval. */
    pthread_mutex_unlock(&g_sched);
    run_serial(order, (size_t)cnt);
    if (order != small) free(order);
    return cmx_err(CMX_ENOMEM, "%s: out of memory walking the graph", who);
  }
  struct cmx_stream_s *s0 = cnt ? order[0]->stream : NULL;
  if (s0 && s0->magic != CMX_STREAM_MAGIC) s0 = NULL;
  if (!s0) s0 = cmx_default_stream();
  const int full = s0 && s0->team.nthreads >= cmx_topo()->ncores;
  int inline_run =
      wait && (work < INLINE_ELEMS || omp_in_parallel() ||
               omp_get_level() > 0 || (s0 && s0->team.nthreads == 1) ||
               (work < INLINE_SLEEPING_ELEMS && s0 && !full &&
                (!s0->running || atomic_load(&s0->worker_sleeping))));
  /* A full team (a thread on every core): the caller would sleep while the
   * team works and take a wake-up (tens of us on a VM) when it ends, so it
   * runs the batch here with a team of its own instead, when the stream is
   * idle and the batch is all its own (cmx_sched_claim_here). */
  int here = !inline_run && wait && full && cnt > 0 &&
             s0->team.nthreads > 1 && one_stream(order, (size_t)cnt, s0) &&
             cmx_sched_claim_here(s0);
  int st = CMX_OK;
  if (!inline_run && !here) {
    size_t i = 0;
    while (i < (size_t)cnt) {
      struct cmx_stream_s *s = order[i]->stream;
      size_t j = i;
      while (j < (size_t)cnt && order[j]->stream == s) j++;
      struct batch *b = malloc(sizeof *b + (j - i) * sizeof(cmx_array));
      if (s && s->magic != CMX_STREAM_MAGIC) s = NULL;
      if (!s) s = cmx_default_stream();
      for (size_t k = i; k < j; k++) order[k]->stream = s;
      struct cmx_task t = {batch_run, b};
      if (b) {
        b->n = j - i;
        memcpy(b->nodes, order + i, (j - i) * sizeof(cmx_array));
      }
      if (!b || cmx_sched_submit(s, &t, 1) != 0) {
        /* Run here rather than lose claimed nodes. */
        free(b);
        run_serial(order + i, j - i);
      }
      i = j;
    }
  }
  pthread_mutex_unlock(&g_sched);
  if (here || inline_run) {
    /* On the caller: its floating-point mode is restored afterwards. */
    unsigned fp = cmx_fp_mode_enter();
    struct batch *b =
        here ? malloc(sizeof *b + (size_t)cnt * sizeof(cmx_array)) : NULL;
    if (b) {
      b->n = (size_t)cnt;
      memcpy(b->nodes, order, (size_t)cnt * sizeof(cmx_array));
      batch_run(b, s0->team.nthreads);
    } else {
      run_serial(order, (size_t)cnt);
    }
    cmx_fp_mode_leave(fp);
    if (here) cmx_sched_release_here(s0);
  }
  if (order != small) free(order);
  if (!wait) return CMX_OK;
  for (size_t i = 0; i < n; i++) {
    if (atomic_load(&arrays[i]->state) != CMX_STATE_DONE)
      wait_done_as(arrays[i], full);
    if (arrays[i]->status && !st)
      st = cmx_err(arrays[i]->status, "%s", arrays[i]->msg);
  }
  return st;
}

/* A synchronous eval of one array: finished, or a node the fast path
 * takes (ready_alone); 1 with *st set, else 0 (the general path runs).
 * Kept apart from eval_impl, whose frame (the order's first 32 entries
 * and the walk's) is not worth setting up for it. */
static int eval_one(cmx_array a, int *st) {
  int state = atomic_load(&a->state);
  if (state == CMX_STATE_PENDING &&
      atomic_compare_exchange_strong(&a->state, &state, CMX_STATE_PROBE)) {
    if (!ready_alone(a)) {
      atomic_store_explicit(&a->state, CMX_STATE_PENDING,
                            memory_order_release);
      return 0;
    }
    atomic_store_explicit(&a->state, CMX_STATE_QUEUED, memory_order_release);
    unsigned fp = cmx_fp_mode_enter();
    cmx_node_run(a, 1);
    cmx_fp_mode_leave(fp);
    state = CMX_STATE_DONE;
  }
  if (state != CMX_STATE_DONE) return 0;
  *st = eval_status(a);
  return 1;
}

int cmx_eval(const cmx_array *arrays, size_t n) {
  /* a live array (what cmx_array_check accepts; eval_impl reports the
   * rest) */
  cmx_array a = n == 1 && arrays ? arrays[0] : NULL;
  int st;
  if (a && atomic_load_explicit(&a->refs, memory_order_relaxed) > 0 &&
      eval_one(a, &st))
    return st;
  return eval_impl(arrays, n, 1, "cmx_eval");
}

int cmx_async_eval(const cmx_array *arrays, size_t n) {
  return eval_impl(arrays, n, 0, "cmx_async_eval");
}
