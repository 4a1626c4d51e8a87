/* Concurrency contract: 8 application threads x 2,000 random small graphs
 * (add, multiply, exp, sum, transpose, reshape, where, astype) give results
 * bitwise equal to a serial run of the same seeds, whichever stream, thread
 * and eval path (eval, async_eval then eval, read, data, eager) is used;
 * graphs built on one thread are evaluated on others while their private
 * stream is freed; a node consumed on another stream makes that stream wait
 * for that node only; a failing node (memory limit, injected fault) fails
 * its dependents only. Sizes are small: the file also runs under TSan. */
#include "test-util.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define NTHREADS 8
#define NGRAPHS 2000
#define MAXNODES 40
#define MAXROOTS 2
#define TOO_BIG 100 /* a root larger than hash_roots' buffer */

void cmx_mem_inject_fault(long n); /* internal, for tests */

/* ---- random graphs ------------------------------------------------------ */
/* A node of a graph under construction and a bound on |value| (to keep
 * integer arithmetic far from overflow: signed overflow is UB). */
struct gnode {
  cmx_array a;
  double bound;
};

struct graph {
  struct gnode n[MAXNODES];
  int nn;
  cmx_array roots[MAXROOTS];
  int nroots;
};

static int is_int(cmx_dtype t) { return t == CMX_I32 || t == CMX_BOOL; }

static unsigned rnd(uint64_t *s, unsigned n) {
  return (unsigned)(tu_next(s) % n);
}

/* A random shape of 1-3 dims of 1-4 (rarely 0). */
static int rand_shape(uint64_t *s, int64_t *shape) {
  int nd = 1 + (int)rnd(s, 3);
  for (int i = 0; i < nd; i++) shape[i] = 1 + rnd(s, 4);
  if (rnd(s, 50) == 0) shape[rnd(s, (unsigned)nd)] = 0;
  return nd;
}

/* A shape that broadcasts to (shape, nd): a suffix of it with some dims 1. */
static int bcast_shape(uint64_t *s, const int64_t *shape, int nd,
                       int64_t *out) {
  int k = (int)rnd(s, (unsigned)nd + 1);
  for (int i = 0; i < k; i++) {
    int64_t d = shape[nd - k + i];
    out[i] = rnd(s, 3) == 0 ? 1 : d;
  }
  return k;
}

static int add_node(struct graph *g, cmx_array a, double bound) {
  g->n[g->nn].a = a;
  g->n[g->nn].bound = bound;
  g->nn++;
  return CMX_OK;
}

/* A leaf: copied data, or a lazy full / arange on stream st. */
static int leaf(struct graph *g, uint64_t *s, cmx_dtype t,
                const int64_t *shape, int nd, cmx_stream st, cmx_array *out) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= shape[i];
  double hi = t == CMX_I32 ? 4 : 2, v[64];
  int kind = (int)rnd(s, 4), rc;
  cmx_array a = NULL;
  if (kind == 0 && t != CMX_BOOL) {
    double val = tu_quant(t, t == CMX_I32 ? (double)rnd(s, 7) - 3
                                          : tu_unif(s) * 4 - 2);
    rc = cmx_full(&a, shape, nd, val, t, st);
    if (!rc) add_node(g, a, fabs(val));
  } else if (kind == 1 && nd == 1 && t != CMX_BOOL) {
    double start = (double)rnd(s, 5) - 2;
    rc = cmx_arange(&a, start, start + (double)shape[0], 1, t, st);
    if (!rc) add_node(g, a, fabs(start) + (double)shape[0]);
  } else {
    tu_rand(v, n, t, -hi + 1, hi, tu_next(s));
    rc = tu_array(&a, v, t, shape, nd);
    if (!rc) add_node(g, a, hi);
  }
  *out = a;
  return rc;
}

/* Picks an operand: the latest node half the time, else any. */
static struct gnode *pick(struct graph *g, uint64_t *s) {
  if (rnd(s, 2)) return &g->n[g->nn - 1];
  return &g->n[rnd(s, (unsigned)g->nn)];
}

/* A second operand for a binary op on x: a node of the same shape, or a
 * new broadcastable leaf (float when integer bounds would grow too far). */
static int operand(struct graph *g, uint64_t *s, struct gnode *x,
                   cmx_stream st, int need_float, cmx_array *b,
                   double *bound) {
  int64_t sh[CMX_MAX_DIMS];
  const int64_t *xs = cmx_array_shape(x->a);
  int nd = cmx_array_ndim(x->a);
  for (int i = 0; i < g->nn; i++) {
    struct gnode *y = &g->n[(g->nn - 1 - i + (int)rnd(s, 3)) % g->nn];
    if (y != x && cmx_array_ndim(y->a) == nd && rnd(s, 2) &&
        !(need_float && is_int(cmx_array_dtype(y->a))) &&
        memcmp(cmx_array_shape(y->a), xs, (size_t)nd * 8) == 0) {
      *b = y->a;
      *bound = y->bound;
      return CMX_OK;
    }
  }
  int k = bcast_shape(s, xs, nd, sh);
  static const cmx_dtype ts[] = {CMX_F32, CMX_F32, CMX_F64, CMX_F16, CMX_I32};
  cmx_dtype t = ts[rnd(s, 5)];
  if (need_float && t == CMX_I32) t = CMX_F32;
  int rc = leaf(g, s, t, sh, k, st, b);
  if (!rc) *bound = g->n[g->nn - 1].bound;
  return rc;
}

/* Builds graph `seed` with ops on s0 or s1 (chosen per op; the choice does
 * not change the graph). Returns a status; on failure the graph is freed. */
static void graph_free(struct graph *g) {
  for (int i = 0; i < g->nn; i++) cmx_array_free(g->n[i].a);
  g->nn = g->nroots = 0;
}

static int graph_build(struct graph *g, uint64_t seed, cmx_stream s0,
                       cmx_stream s1) {
  uint64_t s = seed * 0x2545F4914F6CDD1Dull + 1;
  int64_t shape[CMX_MAX_DIMS];
  g->nn = g->nroots = 0;
  static const cmx_dtype ts[] = {CMX_F32, CMX_F32, CMX_F64, CMX_F16, CMX_I32};
  cmx_array a;
  int nd = rand_shape(&s, shape);
  int rc = leaf(g, &s, ts[rnd(&s, 5)], shape, nd, s0, &a);
  int nops = 3 + (int)rnd(&s, 8);
  for (int k = 0; k < nops && !rc && g->nn < MAXNODES - 3; k++) {
    cmx_stream st = rnd(&s, 2) ? s1 : s0;
    struct gnode *x = pick(g, &s);
    cmx_dtype xt = cmx_array_dtype(x->a);
    int xnd = cmx_array_ndim(x->a);
    const int64_t *xs = cmx_array_shape(x->a);
    int op = (int)rnd(&s, 8);
    cmx_array b, out = NULL;
    double bb, bound = x->bound;
    if (xt == CMX_BOOL && (op == 0 || op == 1 || op == 3)) op = 7;
    switch (op) {
    case 0: /* add */
    case 1: /* multiply */
      rc = operand(g, &s, x, st, is_int(xt) && x->bound > 1e4, &b, &bb);
      if (!rc && is_int(xt) && is_int(cmx_array_dtype(b)) &&
          (op ? x->bound * bb : x->bound + bb) > 1e8)
        op = 0, bb = 0; /* keep integers small: add zero-bounded */
      if (!rc)
        rc = op ? cmx_multiply(&out, x->a, b, st) : cmx_add(&out, x->a, b, st);
      bound = op ? x->bound * bb : x->bound + bb;
      if (is_int(xt) && is_int(cmx_array_dtype(b)) && bound > 1e8)
        bound = 1e8; /* unreachable by the checks above, kept for safety */
      break;
    case 2: /* exp */
      rc = cmx_exp(&out, x->a, st);
      bound = exp(x->bound > 700 ? 700 : x->bound);
      break;
    case 3: { /* sum over one axis or all */
      int ax = xnd ? (int)rnd(&s, (unsigned)xnd + 1) - 1 : -1;
      int64_t n = ax < 0 ? cmx_array_size(x->a) : xs[ax];
      bool keep = rnd(&s, 2);
      if (is_int(xt) && x->bound * (double)n > 1e8) {
        rc = cmx_astype(&out, x->a, CMX_F32, st);
        break;
      }
      rc = ax < 0 ? cmx_sum(&out, x->a, NULL, 0, keep, st)
                  : cmx_sum(&out, x->a, &ax, 1, keep, st);
      bound = x->bound * (double)(n ? n : 1);
      break;
    }
    case 4: { /* transpose: random permutation */
      int perm[CMX_MAX_DIMS];
      for (int i = 0; i < xnd; i++) perm[i] = i;
      for (int i = xnd - 1; i > 0; i--) {
        int j = (int)rnd(&s, (unsigned)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      rc = rnd(&s, 3) ? cmx_transpose(&out, x->a, perm, xnd, st)
                      : cmx_transpose(&out, x->a, NULL, 0, st);
      break;
    }
    case 5: { /* reshape: flatten, (1, n), reversed dims, or (d, n / d) */
      int64_t n = cmx_array_size(x->a), ns[CMX_MAX_DIMS];
      int nnd = 1, kind = (int)rnd(&s, 4);
      ns[0] = n;
      if (kind == 1) {
        ns[0] = 1;
        ns[1] = n;
        nnd = 2;
      } else if (kind == 2 && xnd) {
        for (int i = 0; i < xnd; i++) ns[i] = xs[xnd - 1 - i];
        nnd = xnd;
      } else if (kind == 3 && n > 1) {
        int64_t d = 1 + rnd(&s, (unsigned)n);
        while (n % d) d--;
        ns[0] = d;
        ns[1] = -1;
        nnd = 2;
      }
      rc = cmx_reshape(&out, x->a, ns, nnd, st);
      break;
    }
    case 6: { /* where(cond, x, other) */
      int64_t cs[CMX_MAX_DIMS];
      int cnd = bcast_shape(&s, xs, xnd, cs);
      cmx_array cond;
      rc = leaf(g, &s, CMX_BOOL, cs, cnd, st, &cond);
      if (!rc) rc = operand(g, &s, x, st, 0, &b, &bb);
      if (!rc) rc = cmx_where(&out, cond, x->a, b, st);
      bound = x->bound > bb ? x->bound : bb;
      break;
    }
    default: { /* astype */
      static const cmx_dtype to[] = {CMX_F32, CMX_F64, CMX_F16, CMX_I32,
                                     CMX_BOOL};
      cmx_dtype t = to[rnd(&s, 5)];
      if (t == CMX_I32 && !(x->bound < 1e6)) t = CMX_F32;
      rc = cmx_astype(&out, x->a, t, st);
      if (t == CMX_BOOL) bound = 1;
      if (t == CMX_F16 && bound > 65504) bound = INFINITY;
      break;
    }
    }
    if (!rc) add_node(g, out, bound);
  }
  if (rc) {
    graph_free(g);
    return rc;
  }
  g->roots[g->nroots++] = g->n[g->nn - 1].a;
  if (g->nn > 2 && rnd(&s, 3) == 0)
    g->roots[g->nroots++] = g->n[1 + rnd(&s, (unsigned)g->nn - 2)].a;
  return CMX_OK;
}

/* FNV-1a of dtype, shape and the bytes of each root (evaluating it). */
static int hash_roots(const struct graph *g, int how, uint64_t *out) {
  uint64_t h = 1469598103934665603ull;
  unsigned char buf[2048];
  for (int r = 0; r < g->nroots; r++) {
    cmx_array a = g->roots[r];
    size_t nb = cmx_array_nbytes(a);
    if (nb > sizeof buf) return TOO_BIG;
    int rc;
    if (how == 3) {
      const void *p;
      rc = cmx_array_data(&p, a);
      if (!rc) memcpy(buf, p, nb);
    } else {
      rc = cmx_array_read(a, buf, nb);
    }
    if (rc) return rc;
    int64_t meta[CMX_MAX_DIMS + 2] = {cmx_array_dtype(a), cmx_array_ndim(a)};
    memcpy(meta + 2, cmx_array_shape(a), (size_t)cmx_array_ndim(a) * 8);
    const unsigned char *m = (const unsigned char *)meta;
    for (size_t i = 0; i < sizeof meta; i++) h = (h ^ m[i]) * 1099511628211ull;
    for (size_t i = 0; i < nb; i++) h = (h ^ buf[i]) * 1099511628211ull;
  }
  *out = h;
  return CMX_OK;
}

/* Builds graph seed, evaluates it by path how (0 eval, 1 async_eval then
 * eval, 2 read, 3 data, 4 eager build) and hashes its roots. */
static int run_graph(uint64_t seed, cmx_stream s0, cmx_stream s1, int how,
                     uint64_t *h) {
  struct graph g;
  if (how == 4) cmx_set_eager(true);
  int rc = graph_build(&g, seed, s0, s1);
  if (how == 4) cmx_set_eager(false);
  if (rc) return rc;
  if (how == 0) rc = cmx_eval(g.roots, (size_t)g.nroots);
  if (how == 1) {
    rc = cmx_async_eval(g.roots, (size_t)g.nroots);
    if (!rc) rc = cmx_eval(g.roots, (size_t)g.nroots);
  }
  if (!rc) rc = hash_roots(&g, how, h);
  graph_free(&g);
  return rc;
}

static uint64_t seed_of(uint64_t salt, int t, int i) {
  return salt * 1000003u + (uint64_t)t * NGRAPHS + (uint64_t)i;
}

/* Hashes of graphs (salt, t, i) for t < nt, i < ng, one at a time on the
 * calling thread and the default stream: the reference. */
static uint64_t *serial_ref(uint64_t salt, int nt, int ng) {
  uint64_t *ref = malloc(sizeof *ref * (size_t)(nt * ng));
  for (int t = 0; t < nt; t++)
    for (int i = 0; i < ng; i++)
      TU_OK(run_graph(seed_of(salt, t, i), NULL, NULL, 0, &ref[t * ng + i]));
  return ref;
}

/* ---- application threads ------------------------------------------------ */
struct worker {
  int id, kind;
  uint64_t salt;
  const uint64_t *ref;
  pthread_barrier_t *bar;
  int rc; /* first failure: a status, or 1 for a wrong result */
  char why[240];
};

static int note(struct worker *w, int rc, const char *what, int i) {
  if (rc && !w->rc) {
    w->rc = rc;
    snprintf(w->why, sizeof w->why, "thread %d graph %d: %s -> %d (%s)",
             w->id, i, what, rc, rc > 0 ? "wrong result" : cmx_last_error());
  }
  return rc;
}

enum { ON_DEFAULT, ON_PRIVATE };

/* NGRAPHS random graphs, each by a random eval path; ON_PRIVATE: on a
 * stream of this thread's own, mixed per op with the shared default. */
static void *random_graphs(void *arg) {
  struct worker *w = arg;
  cmx_stream p = NULL;
  if (w->kind == ON_PRIVATE) {
    cmx_stream_config cfg = {1 + w->id % 2, NULL, 0};
    note(w, cmx_stream_new(&p, &cfg), "cmx_stream_new", -1);
  }
  uint64_t rs = 99u + (uint64_t)w->id;
  pthread_barrier_wait(w->bar);
  for (int i = 0; i < NGRAPHS && !w->rc; i++) {
    uint64_t h = 0;
    int how = (int)rnd(&rs, 5);
    cmx_stream s1 = w->kind == ON_PRIVATE && rnd(&rs, 2) ? NULL : p;
    if (note(w, run_graph(seed_of(w->salt, w->id, i), p, s1, how, &h),
             "run_graph", i))
      break;
    note(w, h != w->ref[w->id * NGRAPHS + i], "hash", i);
  }
  if (p && !w->rc) {
    note(w, cmx_stream_synchronize(p), "cmx_stream_synchronize", -1);
    note(w, cmx_stream_free_checked(p), "cmx_stream_free_checked", -1);
  }
  return NULL;
}

static void run_threads(int kind, uint64_t salt) {
  uint64_t *ref = serial_ref(salt, NTHREADS, NGRAPHS);
  struct worker w[NTHREADS];
  pthread_t th[NTHREADS];
  pthread_barrier_t bar;
  pthread_barrier_init(&bar, NULL, NTHREADS);
  for (int t = 0; t < NTHREADS; t++) {
    w[t] = (struct worker){t, kind, salt, ref, &bar, 0, ""};
    pthread_create(&th[t], NULL, random_graphs, &w[t]);
  }
  for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
  pthread_barrier_destroy(&bar);
  free(ref);
  for (int t = 0; t < NTHREADS; t++) cr_assert_eq(w[t].rc, 0, "%s", w[t].why);
}

Test(concurrency, random_graphs_on_the_shared_default_stream,
     .timeout = 300) {
  run_threads(ON_DEFAULT, 1);
}

Test(concurrency, random_graphs_on_private_and_shared_streams,
     .timeout = 300) {
  run_threads(ON_PRIVATE, 2);
}

/* ---- hand-off: built on one thread, evaluated on two others ------------- */
#define CHUNK 250
struct handoff {
  struct graph g[NTHREADS][CHUNK]; /* [t]: written by thread t only, read by
                                      its neighbours between the barriers */
  pthread_barrier_t bar;
};
static struct handoff g_ho;

static void check_graph(struct worker *w, int owner, int c, int i) {
  uint64_t h = 0;
  int gi = c * CHUNK + i;
  if (w->rc || note(w, hash_roots(&g_ho.g[owner][i], 2, &h), "hash_roots",
                    gi))
    return;
  if (h != w->ref[owner * NGRAPHS + gi]) {
    note(w, 1, "hash", gi);
    snprintf(w->why + strlen(w->why), sizeof w->why - strlen(w->why),
             " (graph of thread %d)", owner);
  }
}

/* Per chunk: build CHUNK graphs on a fresh private stream (every other one
 * mixed with the default stream), async_eval half of them (in flight when
 * the stream is freed), free the stream; then both neighbours evaluate and
 * read them (one walking up, one down, so they meet on the same lazy
 * nodes, some still bound to the freed stream). */
static void *handoff_worker(void *arg) {
  struct worker *w = arg;
  int me = w->id, up = (me + 1) % NTHREADS, down = (me + NTHREADS - 1) % NTHREADS;
  /* Half the chunks free p before the neighbours start, half while they
   * evaluate its nodes (free marks the stream dead under the scheduling
   * lock: evals that saw it live have submitted, later ones use the
   * default stream). */
  for (int c = 0; c < NGRAPHS / CHUNK; c++) {
    cmx_stream p = NULL;
    cmx_stream_config cfg = {1 + (me + c) % 2, NULL, 0};
    note(w, cmx_stream_new(&p, &cfg), "cmx_stream_new", -1);
    for (int i = 0; i < CHUNK; i++) {
      struct graph *g = &g_ho.g[me][i];
      g->nn = g->nroots = 0;
      if (w->rc) continue;
      if (note(w, graph_build(g, seed_of(w->salt, me, c * CHUNK + i), p,
                              i % 2 ? NULL : p),
               "graph_build", c * CHUNK + i))
        continue;
      if (i % 2 == 0)
        note(w, cmx_async_eval(g->roots, (size_t)g->nroots),
             "cmx_async_eval", c * CHUNK + i);
    }
    int racy = c % 2;
    if (p && !racy) note(w, cmx_stream_free_checked(p), "cmx_stream_free_checked", -1);
    pthread_barrier_wait(&g_ho.bar);
    if (p && racy) note(w, cmx_stream_free_checked(p), "cmx_stream_free_checked", -1);
    for (int i = 0; i < CHUNK; i++) {
      check_graph(w, up, c, i);
      check_graph(w, down, c, CHUNK - 1 - i);
    }
    pthread_barrier_wait(&g_ho.bar);
    for (int i = 0; i < CHUNK; i++) graph_free(&g_ho.g[me][i]);
    if (p && !w->rc && cmx_stream_free_checked(p) != CMX_ESTATE)
      note(w, 1, "second cmx_stream_free_checked", -1);
  }
  return NULL;
}

Test(concurrency, graphs_evaluated_on_other_threads_after_stream_free,
     .timeout = 300) {
  uint64_t *ref = serial_ref(3, NTHREADS, NGRAPHS);
  struct worker w[NTHREADS];
  pthread_t th[NTHREADS];
  pthread_barrier_init(&g_ho.bar, NULL, NTHREADS);
  for (int t = 0; t < NTHREADS; t++) {
    w[t] = (struct worker){t, ON_PRIVATE, 3, ref, NULL, 0, ""};
    pthread_create(&th[t], NULL, handoff_worker, &w[t]);
  }
  for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
  pthread_barrier_destroy(&g_ho.bar);
  free(ref);
  for (int t = 0; t < NTHREADS; t++) cr_assert_eq(w[t].rc, 0, "%s", w[t].why);
}

/* ---- async_eval of shared lazy graphs from every thread ----------------- */
#define NSHARED 48
#define NBIGG 2
#define ROUNDS 12
struct shared_graphs {
  struct graph g[NSHARED + NBIGG]; /* written by thread 0 between barriers */
  uint64_t ref[NSHARED + NBIGG];
  pthread_barrier_t bar;
};
static struct shared_graphs g_sh;

/* A graph of 64K elements (above the inline threshold: it runs on the
 * stream's worker and team): sum(exp(x * k) + its transpose, axis 1). */
static int big_graph(struct graph *g, int k, cmx_stream s) {
  int64_t sh[2] = {256, 256};
  cmx_array x = NULL, r = NULL, sc = NULL, m = NULL, e = NULL, t = NULL,
            a = NULL, sum = NULL;
  int ax = 1;
  int rc = cmx_arange(&x, 0, 65536, 1, CMX_F32, s);
  if (!rc) rc = cmx_reshape(&r, x, sh, 2, s);
  if (!rc) rc = cmx_full(&sc, NULL, 0, 1e-5 * (k + 1), CMX_F32, s);
  if (!rc) rc = cmx_multiply(&m, r, sc, s);
  if (!rc) rc = cmx_exp(&e, m, s);
  if (!rc) rc = cmx_transpose(&t, e, NULL, 0, s);
  if (!rc) rc = cmx_add(&a, e, t, s);
  if (!rc) rc = cmx_sum(&sum, a, &ax, 1, false, s);
  cmx_array all[8] = {x, r, sc, m, e, t, a, sum};
  g->nn = g->nroots = 0;
  for (int i = 0; i < 8; i++)
    if (all[i]) add_node(g, all[i], 0);
  if (!rc) g->roots[g->nroots++] = sum;
  return rc;
}

static void *async_worker(void *arg) {
  struct worker *w = arg;
  int n = NSHARED + NBIGG;
  for (int r = 0; r < ROUNDS; r++) {
    if (w->id == 0)
      for (int k = 0; k < n && !w->rc; k++)
        note(w, k < NSHARED ? graph_build(&g_sh.g[k], seed_of(4, r, k), NULL,
                                          NULL)
                            : big_graph(&g_sh.g[k], k - NSHARED, NULL),
             "build", k);
    pthread_barrier_wait(&g_sh.bar);
    for (int j = 0; j < n && !w->rc; j++) {
      struct graph *g = &g_sh.g[(j + w->id * 7) % n];
      note(w, cmx_async_eval(g->roots, (size_t)g->nroots), "cmx_async_eval",
           j);
    }
    for (int j = 0; j < n && !w->rc; j++) {
      int k = (j + w->id * 5) % n;
      struct graph *g = &g_sh.g[k];
      uint64_t h = 0;
      if (note(w, cmx_eval(g->roots, (size_t)g->nroots), "cmx_eval", k) ||
          note(w, hash_roots(g, 2, &h), "hash_roots", k))
        break;
      note(w, h != w->ref[r * n + k], "hash", k);
    }
    pthread_barrier_wait(&g_sh.bar);
    if (w->id == 0)
      for (int k = 0; k < n; k++) graph_free(&g_sh.g[k]);
  }
  return NULL;
}

Test(concurrency, async_eval_from_many_threads_then_eval, .timeout = 300) {
  int n = NSHARED + NBIGG;
  uint64_t *ref = malloc(sizeof *ref * ROUNDS * (size_t)n);
  for (int r = 0; r < ROUNDS; r++)
    for (int k = 0; k < n; k++) {
      struct graph g;
      if (k < NSHARED)
        TU_OK(graph_build(&g, seed_of(4, r, k), NULL, NULL));
      else
        TU_OK(big_graph(&g, k - NSHARED, NULL));
      TU_OK(cmx_eval(g.roots, (size_t)g.nroots));
      TU_OK(hash_roots(&g, 2, &ref[r * n + k]));
      graph_free(&g);
    }
  struct worker w[NTHREADS];
  pthread_t th[NTHREADS];
  pthread_barrier_init(&g_sh.bar, NULL, NTHREADS);
  for (int t = 0; t < NTHREADS; t++) {
    w[t] = (struct worker){t, ON_DEFAULT, 4, ref, NULL, 0, ""};
    pthread_create(&th[t], NULL, async_worker, &w[t]);
  }
  for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
  pthread_barrier_destroy(&g_sh.bar);
  free(ref);
  for (int t = 0; t < NTHREADS; t++) cr_assert_eq(w[t].rc, 0, "%s", w[t].why);
}

/* ---- cross-stream: B waits for the node it consumes, not for all of A --- */
/* A's worker is held inside a later node of A (its allocation fails on the
 * memory limit and the error handler, called on that worker, blocks). */
static pthread_mutex_t g_gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_gate_cv = PTHREAD_COND_INITIALIZER;
static int g_gate_closed, g_gate_held;

static void gate_handler(int status, const char *msg, void *ctx) {
  (void)ctx;
  if (status != CMX_ENOMEM || !strstr(msg, "memory limit")) return;
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += 60; /* never hang the suite */
  pthread_mutex_lock(&g_gate_mu);
  g_gate_held = 1;
  pthread_cond_broadcast(&g_gate_cv);
  while (g_gate_closed)
    if (pthread_cond_timedwait(&g_gate_cv, &g_gate_mu, &dl)) break;
  pthread_mutex_unlock(&g_gate_mu);
}

Test(concurrency, consumer_stream_waits_for_that_node_only, .timeout = 120) {
  cmx_stream A, B;
  cmx_stream_config one = {1, NULL, 0};
  TU_OK(cmx_stream_new(&A, &one));
  TU_OK(cmx_stream_new(&B, &one));
  cmx_array x, y, two, z, q;
  int64_t n = 1 << 20;
  TU_OK(cmx_arange(&x, 0, 16, 1, CMX_F32, A));
  TU_OK(cmx_full(&y, &n, 1, 1.0, CMX_F32, A));
  TU_OK(cmx_async_eval(&x, 1));
  g_gate_closed = 1;
  cmx_set_error_handler(gate_handler, NULL);
  size_t old = cmx_set_memory_limit(cmx_get_active_memory() + (1 << 20));
  TU_OK(cmx_async_eval(&y, 1)); /* A: x, then y, which blocks A */
  pthread_mutex_lock(&g_gate_mu);
  while (!g_gate_held) pthread_cond_wait(&g_gate_cv, &g_gate_mu);
  pthread_mutex_unlock(&g_gate_mu);
  TU_OK(cmx_full(&two, NULL, 0, 2.0, CMX_F32, B));
  TU_OK(cmx_multiply(&z, x, two, B));
  TU_OK(cmx_async_eval(&z, 1));
  TU_OK(cmx_eval(&z, 1));
  float got[16];
  TU_OK(cmx_array_read(z, got, sizeof got));
  for (int i = 0; i < 16; i++) cr_assert_eq(got[i], 2.0f * (float)i);
  cr_assert_eq(cmx_array_is_evaluated(y), 0, "y ran although A is held");
  pthread_mutex_lock(&g_gate_mu);
  g_gate_closed = 0;
  pthread_cond_broadcast(&g_gate_cv);
  pthread_mutex_unlock(&g_gate_mu);
  TU_FAILS(CMX_ENOMEM, "memory limit", cmx_eval(&y, 1));
  TU_FAILS(CMX_ENOMEM, "memory limit", cmx_stream_synchronize(A));
  cmx_set_error_handler(NULL, NULL);
  cmx_set_memory_limit(old);
  TU_OK(cmx_stream_synchronize(A));
  /* A keeps working for unrelated work. */
  TU_OK(cmx_multiply(&q, x, x, A));
  TU_OK(cmx_async_eval(&q, 1));
  TU_OK(cmx_array_read(q, got, sizeof got));
  for (int i = 0; i < 16; i++) cr_assert_eq(got[i], (float)(i * i));
  cmx_array arr[] = {x, y, two, z, q};
  for (int i = 0; i < 5; i++) cmx_array_free(arr[i]);
  TU_OK(cmx_stream_free_checked(A));
  TU_OK(cmx_stream_free_checked(B));
}

/* ---- a failing node on one thread, correct results on the others -------- */
static atomic_int g_others_left;

/* Three 1M-element nodes (4 MB each) under an 10 MB limit: the third
 * allocation fails on the default stream's worker; the first two are
 * fine. Repeated while the other threads run. */
static void *failing_thread(void *arg) {
  struct worker *w = arg;
  int64_t n = 1 << 20;
  pthread_barrier_wait(w->bar);
  for (int it = 0; !w->rc && (it < 5 || atomic_load(&g_others_left)); it++) {
    cmx_array a = NULL, b = NULL, c = NULL;
    note(w, cmx_full(&a, &n, 1, 0.5, CMX_F32, NULL), "cmx_full", it);
    if (!w->rc) note(w, cmx_exp(&b, a, NULL), "cmx_exp", it);
    if (!w->rc) note(w, cmx_add(&c, b, a, NULL), "cmx_add", it);
    if (!w->rc) {
      int rc = cmx_eval(&c, 1);
      if (rc != CMX_ENOMEM || !strstr(cmx_last_error(), "memory limit"))
        note(w, rc ? rc : 1, "cmx_eval of c: want CMX_ENOMEM", it);
      const void *p = NULL;
      rc = cmx_array_data(&p, c);
      if (rc != CMX_ENOMEM) note(w, rc ? rc : 1, "data of c again", it);
      double v = 0;
      cmx_array one = NULL;
      int64_t z = 0, o = 1;
      if (!w->rc) note(w, cmx_slice(&one, b, &z, &o, NULL, 1, NULL), "slice", it);
      if (!w->rc) note(w, cmx_array_item(&v, one), "item of b", it);
      if (!w->rc && fabs(v - exp(0.5)) > 1e-6) note(w, 1, "value of b", it);
      cmx_array_free(one);
    }
    cmx_array_free(c);
    cmx_array_free(b);
    cmx_array_free(a);
  }
  return NULL;
}

Test(concurrency, memory_limit_failure_on_one_thread_spares_the_others,
     .timeout = 300) {
  uint64_t *ref = serial_ref(6, NTHREADS - 1, NGRAPHS);
  size_t old = cmx_set_memory_limit(cmx_get_active_memory() + (10u << 20));
  struct worker w[NTHREADS];
  pthread_t th[NTHREADS];
  pthread_barrier_t bar;
  pthread_barrier_init(&bar, NULL, NTHREADS);
  atomic_store(&g_others_left, NTHREADS - 1);
  for (int t = 0; t < NTHREADS; t++) {
    w[t] = (struct worker){t, ON_DEFAULT, 6, ref, &bar, 0, ""};
    pthread_create(&th[t], NULL,
                   t == NTHREADS - 1 ? failing_thread : random_graphs, &w[t]);
  }
  for (int t = 0; t < NTHREADS - 1; t++) {
    pthread_join(th[t], NULL);
    atomic_fetch_sub(&g_others_left, 1);
  }
  pthread_join(th[NTHREADS - 1], NULL);
  pthread_barrier_destroy(&bar);
  cmx_set_memory_limit(old);
  free(ref);
  for (int t = 0; t < NTHREADS; t++) cr_assert_eq(w[t].rc, 0, "%s", w[t].why);
  /* The failure was recorded on the shared default stream; clear it. */
  int st = cmx_stream_synchronize(NULL);
  cr_assert(st == CMX_OK || st == CMX_ENOMEM, "%d", st);
  TU_OK(cmx_stream_synchronize(NULL));
}

/* ---- injected allocation faults (process-global: one thread only) ------ */
Test(concurrency, injected_fault_fails_the_node_and_its_dependents_only,
     .timeout = 120) {
  cmx_stream p;
  TU_OK(cmx_stream_new(&p, NULL));
  cmx_array u;
  TU_OK(cmx_arange(&u, 0, 8, 1, CMX_F64, p));
  TU_OK(cmx_eval(&u, 1));
  size_t base = cmx_get_active_memory();
  int64_t n = 1000;
  for (long f = 1; f <= 4; f++) {
    /* a -> b -> c -> d: four allocations in order on p's worker. */
    cmx_array a, b, c, d, chain[4];
    TU_OK(cmx_full(&a, &n, 1, 0.25, CMX_F32, p));
    TU_OK(cmx_exp(&b, a, p));
    TU_OK(cmx_multiply(&c, b, a, p));
    TU_OK(cmx_sum(&d, c, NULL, 0, false, p));
    chain[0] = a, chain[1] = b, chain[2] = c, chain[3] = d;
    cmx_mem_inject_fault(f);
    TU_OK(cmx_async_eval(&d, 1));
    TU_FAILS(CMX_ENOMEM, "CMX_FAULT_ALLOC", cmx_eval(&d, 1));
    cmx_mem_inject_fault(0);
    for (int i = 0; i < 4; i++) {
      const void *ptr;
      int rc = cmx_array_data(&ptr, chain[i]);
      if (i < f - 1)
        cr_assert_eq(rc, CMX_OK, "fault %ld: node %d: %s", f, i,
                     cmx_last_error());
      else
        TU_FAILS(CMX_ENOMEM, "CMX_FAULT_ALLOC", cmx_array_data(&ptr, chain[i]));
    }
    TU_FAILS(CMX_ENOMEM, "CMX_FAULT_ALLOC", cmx_stream_synchronize(p));
    TU_OK(cmx_stream_synchronize(p));
    /* Unrelated work on p and the earlier array are unaffected. */
    cmx_array e, s;
    double v;
    TU_OK(cmx_multiply(&e, u, u, p));
    TU_OK(cmx_sum(&s, e, NULL, 0, false, p));
    TU_OK(cmx_async_eval(&s, 1));
    TU_OK(cmx_array_item(&v, s));
    cr_assert_eq(v, 140.0);
    cmx_array_free(e);
    cmx_array_free(s);
    for (int i = 0; i < 4; i++) cmx_array_free(chain[i]);
    /* The worker drops its own reference to a node just after marking it
     * done: once p is idle, nothing of this round may remain. */
    TU_OK(cmx_stream_synchronize(p));
    cr_assert_eq(cmx_get_active_memory(), base, "fault %ld: %zu bytes leaked",
                 f, cmx_get_active_memory() - base);
  }
  cmx_array_free(u);
  TU_OK(cmx_stream_free_checked(p));
}
