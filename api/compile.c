/* compile: trace a function once per input signature (dtype, shape and
 * strides of each input), keep the graph it built as a tape, optimise the
 * tape (constants evaluated once, common subexpressions merged, chains of
 * f32 / f16 / bf16 elementwise ops fused into one pass) and replay it on
 * later calls by building the tape's nodes over the new inputs, without
 * calling the function. Replayed results are bitwise those of calling
 * it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- tracing ---- */
static _Thread_local int tls_tracing;
int cmx_tracing(void) { return tls_tracing; }

/* A placeholder stands for input p.sub while the function is traced: it
 * has no value, so evaluating it is the function's error. */
int cmx_eval_placeholder(cmx_array a, int nthreads) {
  (void)nthreads;
  return cmx_err(CMX_EINVAL, "cmx_compiled_call: the traced function "
                 "evaluated input %d while being traced; a compiled "
                 "function must only build ops on its inputs", a->p.sub);
}

/* ---- the tape ---- */
enum { REF_IN, REF_NODE, REF_CONST };
struct ref {
  int kind, idx; /* input index, tape node or constant */
};

struct tnode {
  enum cmx_op op;
  cmx_dtype dtype;
  int ndim, nin;
  int64_t shape[CMX_MAX_DIMS], strides[CMX_MAX_DIMS];
  struct ref in[4];
  struct cmx_params p;
  struct cmx_stream_s *stream;
  int uses;  /* references from other live nodes and the outputs */
  int dead;  /* merged or fused away */
  int pinned; /* a place node's base: holds a buffer a place writes */
};

struct sig {
  cmx_dtype dtype;
  int ndim;
  int64_t shape[CMX_MAX_DIMS], strides[CMX_MAX_DIMS];
};

struct trace {
  struct trace *next;
  int users;   /* calls replaying it now (under the compiled's mu) */
  int evicted; /* off the list: the last user frees it */
  size_t n_in, nnodes, nconst, nout;
  struct sig *sig;
  struct tnode *nodes; /* in dependency order */
  cmx_array *consts;   /* evaluated when traced; owned */
  struct ref *outs;
};

struct cmx_compiled_s {
  cmx_fn fn;
  void *ctx;
  int flags;
  pthread_mutex_t mu; /* guards traces, ntraces and users */
  struct trace *traces; /* most recently used first */
  size_t ntraces;
};

/* Signatures kept per compiled function: a caller whose shapes keep
 * changing (a growing sequence length) would otherwise hold a tape and its
 * constants per shape forever. The least recently used trace goes; a call
 * of its signature traces it again, with the same results. */
#define MAX_TRACES 64

/* Live handles, so a freed or foreign one is an error and never read. */
static pthread_mutex_t g_live_mu = PTHREAD_MUTEX_INITIALIZER;
static cmx_compiled *g_live;
static size_t g_nlive, g_caplive;

static int live_find(cmx_compiled c) {
  for (size_t i = 0; i < g_nlive; i++)
    if (g_live[i] == c) return (int)i;
  return -1;
}

static void trace_free(struct trace *t) {
  if (!t) return;
  for (size_t i = 0; i < t->nconst; i++) cmx_array_free(t->consts[i]);
  free(t->consts);
  free(t->nodes);
  free(t->outs);
  free(t->sig);
  free(t);
}

static void sig_of(struct sig *g, cmx_array a) {
  memset(g, 0, sizeof *g);
  g->dtype = a->dtype;
  g->ndim = a->ndim;
  memcpy(g->shape, a->shape, sizeof g->shape);
  /* A dimension of size 1 is never stepped along: its stride is free. */
  for (int d = 0; d < a->ndim; d++)
    g->strides[d] = a->shape[d] == 1 ? 0 : a->strides[d];
}

static int trace_matches(const struct trace *t, const cmx_array *in,
                         size_t n_in) {
  if (t->n_in != n_in) return 0;
  for (size_t i = 0; i < n_in; i++) {
    struct sig g;
    sig_of(&g, in[i]);
    if (memcmp(&g, &t->sig[i], sizeof g)) return 0;
  }
  return 1;
}

/* ---- pointer -> ref map for the walk ---- */
struct map {
  cmx_array *key;
  struct ref *val;
  size_t cap, n;
};

static size_t hash_ptr(cmx_array a, size_t cap) {
  uint64_t h = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ull;
  return (size_t)(h >> 20) & (cap - 1);
}

static struct ref *map_get(struct map *m, cmx_array a) {
  for (size_t i = hash_ptr(a, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (m->key[i] == a) return &m->val[i];
    if (!m->key[i]) return NULL;
  }
}

static int map_put(struct map *m, cmx_array a, struct ref r) {
  if (2 * (m->n + 1) > m->cap) {
    struct map g = {calloc(2 * m->cap, sizeof *g.key),
                    malloc(2 * m->cap * sizeof *g.val), 2 * m->cap, 0};
    if (!g.key || !g.val) {
      free(g.key);
      free(g.val);
      return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->key[i]) map_put(&g, m->key[i], m->val[i]);
    free(m->key);
    free(m->val);
    *m = g;
  }
  size_t i = hash_ptr(a, m->cap);
  while (m->key[i]) i = (i + 1) & (m->cap - 1);
  m->key[i] = a;
  m->val[i] = r;
  m->n++;
  return 0;
}

/* ---- building the tape from the traced graph ---- */
struct builder {
  struct trace *t;
  size_t capnodes, capconst;
  struct map m;
};

static int push_node(struct builder *b, cmx_array a, const struct ref *in,
                     int pinned, struct ref *r) {
  struct trace *t = b->t;
  if (t->nnodes == b->capnodes) {
    size_t cap = b->capnodes ? 2 * b->capnodes : 16;
    struct tnode *n = realloc(t->nodes, cap * sizeof *n);
    if (!n) return -1;
    t->nodes = n;
    b->capnodes = cap;
  }
  struct tnode *n = &t->nodes[t->nnodes];
  memset(n, 0, sizeof *n);
  n->op = a->op;
  n->dtype = a->dtype;
  n->ndim = a->ndim;
  n->nin = a->nin;
  memcpy(n->shape, a->shape, sizeof n->shape);
  memcpy(n->strides, a->strides, sizeof n->strides);
  memcpy(n->in, in, (size_t)a->nin * sizeof *in);
  n->p = a->p;
  /* A node made on the tracing thread's default stream replays on the
   * calling thread's default stream (NULL), which may be another one. */
  n->stream = a->stream == cmx_default_stream() ? NULL : a->stream;
  n->pinned = pinned;
  *r = (struct ref){REF_NODE, (int)t->nnodes++};
  return 0;
}

static int push_const(struct builder *b, cmx_array a, struct ref *r) {
  struct trace *t = b->t;
  if (t->nconst == b->capconst) {
    size_t cap = b->capconst ? 2 * b->capconst : 8;
    cmx_array *c = realloc(t->consts, cap * sizeof *c);
    if (!c) return -1;
    t->consts = c;
    b->capconst = cap;
  }
  t->consts[t->nconst] = cmx_array_retain(a);
  *r = (struct ref){REF_CONST, (int)t->nconst++};
  return 0;
}

/* Whether a is the base another traced node places into (concatenate,
 * stack and pad write their pieces into their base's buffer). */
static int is_place_base(cmx_array a, cmx_array user) {
  return user && user->op == CMX_OP_place && user->nin == 2 &&
         user->in[1] == a;
}

/* Records root and everything it depends on: placeholders become inputs,
 * evaluated or input-free subgraphs become constants (except a place's
 * base, which each replay must own afresh), the rest tape nodes, inputs
 * before users. Iterative, so deep chains cannot overflow the stack. */
static int record(struct builder *b, cmx_array root, cmx_array *ph,
                  size_t n_in, struct ref *out) {
  struct frame { cmx_array a, user; int next; } small[64], *st = small;
  size_t sn = 0, scap = 64;
  int rc = -1;
  struct ref *have = map_get(&b->m, root);
  if (have) {
    *out = *have;
    return 0;
  }
  st[sn++] = (struct frame){root, NULL, 0};
  while (sn) {
    struct frame *f = &st[sn - 1];
    cmx_array a = f->a;
    struct ref r;
    int state = cmx_array_state(a);
    int pinned = is_place_base(a, f->user);
    if (a->op == CMX_OP_placeholder && (size_t)a->p.sub < n_in &&
        ph[a->p.sub] == a) {
      r = (struct ref){REF_IN, a->p.sub};
    } else if (state != CMX_STATE_PENDING && !pinned) {
      if (push_const(b, a, &r)) goto out;
    } else if (f->next < a->nin) {
      cmx_array c = a->in[f->next++];
      if (map_get(&b->m, c)) continue;
      if (sn == scap) {
        struct frame *g = malloc(2 * scap * sizeof *g);
        if (!g) goto out;
        memcpy(g, st, sn * sizeof *g);
        if (st != small) free(st);
        st = g;
        scap *= 2;
        f = &st[sn - 1];
      }
      st[sn++] = (struct frame){c, a, 0};
      continue;
    } else {
      struct ref in[4];
      int variable = pinned;
      for (int i = 0; i < a->nin; i++) {
        in[i] = *map_get(&b->m, a->in[i]);
        variable |= in[i].kind != REF_CONST;
      }
      if (variable ? push_node(b, a, in, pinned, &r) : push_const(b, a, &r))
        goto out;
    }
    if (map_put(&b->m, a, r)) goto out;
    sn--;
  }
  *out = *map_get(&b->m, root);
  rc = 0;
out:
  if (st != small) free(st);
  return rc;
}

/* ---- optimisation ---- */
static int ref_eq(struct ref x, struct ref y) {
  return x.kind == y.kind && x.idx == y.idx;
}

static void resolve(struct ref *r, const int *fwd) {
  if (r->kind == REF_NODE) r->idx = fwd[r->idx];
}

/* Merges nodes that compute the same op on the same operands (random
 * draws included: the generator is a function of its key). A place's base
 * is never merged: its buffer is written by the place. Quadratic in the
 * tape's length, which is the size of a traced function. */
static int merge_common(struct trace *t) {
  int *fwd = malloc((t->nnodes ? t->nnodes : 1) * sizeof *fwd);
  if (!fwd) return -1;
  for (size_t i = 0; i < t->nnodes; i++) {
    struct tnode *n = &t->nodes[i];
    fwd[i] = (int)i;
    for (int k = 0; k < n->nin; k++) resolve(&n->in[k], fwd);
    if (n->pinned || n->op == CMX_OP_place) continue;
    for (size_t j = 0; j < i; j++) {
      struct tnode *o = &t->nodes[j];
      if (o->dead || o->pinned || o->op != n->op || o->dtype != n->dtype ||
          o->ndim != n->ndim || o->nin != n->nin || o->stream != n->stream ||
          memcmp(o->shape, n->shape, sizeof n->shape) ||
          memcmp(o->strides, n->strides, sizeof n->strides) ||
          memcmp(&o->p, &n->p, sizeof n->p))
        continue;
      int same = 1;
      for (int k = 0; k < n->nin && same; k++)
        same = ref_eq(o->in[k], n->in[k]);
      if (!same) continue;
      n->dead = 1;
      fwd[i] = (int)j;
      break;
    }
  }
  for (size_t k = 0; k < t->nout; k++) resolve(&t->outs[k], fwd);
  free(fwd);
  return 0;
}

static void count_uses(struct trace *t) {
  for (size_t i = 0; i < t->nnodes; i++) t->nodes[i].uses = 0;
  for (size_t k = 0; k < t->nout; k++)
    if (t->outs[k].kind == REF_NODE) t->nodes[t->outs[k].idx].uses++;
  for (size_t i = t->nnodes; i-- > 0;) {
    struct tnode *n = &t->nodes[i];
    if (n->dead || !n->uses) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k].kind == REF_NODE) t->nodes[n->in[k].idx].uses++;
  }
}

/* An elementwise op with an f32 microkernel that computes in f32 and
 * stores f32, f16 or bf16: fusable. */
static int fusable(const struct tnode *n) {
  if (n->dead || n->op != CMX_OP_elementwise || n->p.compute != (int)n->dtype ||
      (n->dtype != CMX_F32 && n->dtype != CMX_F16 && n->dtype != CMX_BF16))
    return 0;
  const struct cmx_ew_info *e = &cmx_ew_info[n->p.sub];
  return e->slot >= 0 && (e->arity == 1 || e->arity == 2);
}

/* Distinct external operands of group g[0, ng) (whose members are
 * marked in in_group), into ext; returns their count (may exceed 4). */
static int externals(const struct trace *t, const int *g, int ng,
                     const char *in_group, struct ref *ext) {
  int ne = 0;
  for (int m = 0; m < ng; m++) {
    const struct tnode *n = &t->nodes[g[m]];
    for (int k = 0; k < n->nin; k++) {
      struct ref r = n->in[k];
      if (r.kind == REF_NODE && in_group[r.idx]) continue;
      int seen = 0;
      for (int e = 0; e < ne && e < CMX_EW_PROG_IN + 1 && !seen; e++)
        seen = ref_eq(ext[e], r);
      if (!seen && ne < CMX_EW_PROG_IN + 1) ext[ne] = r;
      if (!seen) ne++;
    }
  }
  return ne;
}

/* Appends the steps of group member idx (its group operands first) to the
 * program and returns its step, or -1 when the results alive at once
 * would need more than CMX_EW_PROG_REGS tiles. *busy: the tiles in use. A
 * step writes in place over its first operand that is a step (read only
 * there), else takes a free tile. */
static int emit(const struct trace *t, int idx, const char *in_group,
                const struct ref *ext, int ne, struct cmx_ew_prog *pr,
                unsigned *busy) {
  const struct tnode *n = &t->nodes[idx];
  uint8_t opnd[2] = {0, 0};
  int reg = -1;
  for (int k = 0; k < n->nin; k++) {
    struct ref r = n->in[k];
    if (r.kind == REF_NODE && in_group[r.idx]) {
      int s = emit(t, r.idx, in_group, ext, ne, pr, busy);
      if (s < 0) return -1;
      opnd[k] = (uint8_t)(CMX_EW_PROG_IN + s);
      int sr = pr->step[s].r;
      if (reg < 0) reg = sr;
      else *busy &= ~(1u << sr);
    } else {
      for (int e = 0; e < ne; e++)
        if (ref_eq(ext[e], r)) opnd[k] = (uint8_t)e;
    }
  }
  if (reg < 0) {
    while (++reg < CMX_EW_PROG_REGS && (*busy >> reg & 1)) continue;
    if (reg == CMX_EW_PROG_REGS) return -1;
    *busy |= 1u << reg;
  }
  int s = pr->nsteps++;
  pr->step[s] = (struct cmx_ew_step){(uint8_t)n->p.sub, opnd[0], opnd[1],
                                     (uint8_t)reg, (uint8_t)n->dtype};
  return s;
}

/* Fuses each chain (a tree of single-use elementwise nodes of one shape,
 * at most CMX_EW_PROG_MAX ops and CMX_EW_PROG_IN outside operands) into
 * its root, which becomes a fused node; the others die. Needs the uses
 * counted (count_uses), and leaves them to be counted again. */
static int fuse(struct trace *t) {
  char *in_group = calloc(t->nnodes ? t->nnodes : 1, 1);
  if (!in_group) return -1;
  for (size_t r = t->nnodes; r-- > 0;) {
    struct tnode *root = &t->nodes[r];
    if (!root->uses || !fusable(root)) continue;
    int g[CMX_EW_PROG_MAX], ng = 1;
    g[0] = (int)r;
    in_group[r] = 1;
    /* breadth first: a member's group operands come after it */
    for (int m = 0; m < ng; m++) {
      const struct tnode *n = &t->nodes[g[m]];
      for (int k = 0; k < n->nin && ng < CMX_EW_PROG_MAX; k++) {
        struct ref x = n->in[k];
        if (x.kind != REF_NODE || in_group[x.idx]) continue;
        const struct tnode *c = &t->nodes[x.idx];
        if (!fusable(c) || c->uses != 1 || c->ndim != root->ndim ||
            memcmp(c->shape, root->shape, sizeof c->shape))
          continue;
        g[ng++] = x.idx;
        in_group[x.idx] = 1;
      }
    }
    struct ref ext[CMX_EW_PROG_IN + 1];
    int ne = externals(t, g, ng, in_group, ext);
    while (ng > 1 && ne > CMX_EW_PROG_IN) {
      in_group[g[--ng]] = 0;
      ne = externals(t, g, ng, in_group, ext);
    }
    struct cmx_ew_prog pr = {.nin = (uint8_t)ne};
    unsigned busy = 0;
    if (ng > 1 && emit(t, (int)r, in_group, ext, ne, &pr, &busy) >= 0) {
      for (int m = 1; m < ng; m++) t->nodes[g[m]].dead = 1;
      memset(&root->p, 0, sizeof root->p);
      root->p.prog = pr;
      root->op = CMX_OP_fused;
      root->nin = ne;
      memcpy(root->in, ext, (size_t)ne * sizeof *ext);
    }
    for (int m = 0; m < ng; m++) in_group[g[m]] = 0;
  }
  free(in_group);
  return 0;
}

/* ---- replay ---- */
static cmx_array deref(struct ref r, const cmx_array *in, cmx_array *nodes,
                       const struct trace *t) {
  return r.kind == REF_IN ? in[r.idx]
         : r.kind == REF_NODE ? nodes[r.idx]
                              : t->consts[r.idx];
}

static int replay(const struct trace *t, const cmx_array *in, cmx_array *out,
                  const char *who) {
  cmx_array small[64];
  cmx_array *nodes = t->nnodes <= 64 ? small
                                     : calloc(t->nnodes, sizeof *nodes);
  if (!nodes) return cmx_err(CMX_ENOMEM, "%s: out of memory", who);
  int st = CMX_OK;
  size_t i = 0;
  for (; i < t->nnodes && !st; i++) {
    const struct tnode *n = &t->nodes[i];
    nodes[i] = NULL;
    if (n->dead || !n->uses) continue;
    cmx_stream s = n->stream;
    st = cmx_stream_resolve(&s, who);
    if (st) break;
    cmx_array a = cmx_array_alloc(n->dtype, n->shape, n->ndim, who);
    if (!a) {
      st = cmx_last_status();
      break;
    }
    memcpy(a->strides, n->strides, sizeof a->strides);
    a->p = n->p;
    cmx_array ins[4];
    for (int k = 0; k < n->nin; k++) ins[k] = deref(n->in[k], in, nodes, t);
    st = cmx_node_finish(&nodes[i], a, n->op, ins, n->nin, s, who);
  }
  for (size_t k = 0; k < t->nout && !st; k++)
    out[k] = cmx_array_retain(deref(t->outs[k], in, nodes, t));
  for (size_t k = 0; k < i && k < t->nnodes; k++) cmx_array_free(nodes[k]);
  if (nodes != small) free(nodes);
  return st;
}

/* ---- tracing a new signature ---- */
static int trace_new(cmx_compiled c, const cmx_array *in, size_t n_in,
                     size_t cap, struct trace **out, const char *who) {
  *out = NULL;
  struct trace *t = calloc(1, sizeof *t);
  cmx_array *ph = calloc(n_in ? n_in : 1, sizeof *ph);
  size_t tcap = cap < 4096 ? cap : 4096;
  cmx_array *res = calloc(tcap ? tcap : 1, sizeof *res);
  struct builder b = {t, 0, 0, {calloc(64, sizeof(cmx_array)),
                                malloc(64 * sizeof(struct ref)), 64, 0}};
  size_t nres = 0;
  int st = CMX_OK;
  if (!t || !ph || !res || !b.m.key || !b.m.val) goto oom;
  t->n_in = n_in;
  t->sig = calloc(n_in ? n_in : 1, sizeof *t->sig);
  if (!t->sig) goto oom;
  for (size_t i = 0; i < n_in; i++) {
    sig_of(&t->sig[i], in[i]);
    ph[i] = cmx_array_alloc(in[i]->dtype, in[i]->shape, in[i]->ndim, who);
    if (!ph[i]) {
      st = cmx_last_status();
      goto out;
    }
    memcpy(ph[i]->strides, in[i]->strides, sizeof ph[i]->strides);
    ph[i]->op = CMX_OP_placeholder;
    ph[i]->p.sub = (int)i;
  }
  tls_tracing++;
  st = c->fn(c->ctx, ph, n_in, res, tcap, &nres);
  tls_tracing--;
  if (st) {
    /* the function's own status and message, as it set them */
    if (st > 0 || cmx_last_status() != st)
      st = cmx_err(st < 0 ? st : CMX_EINTERNAL, "%s: the traced function "
                   "returned %d", who, st);
    nres = 0;
    goto out;
  }
  if (nres > tcap) {
    st = cmx_err(CMX_EINVAL, "%s: the traced function reported %zu outputs "
                 "for a capacity of %zu", who, nres, tcap);
    nres = tcap;
    goto out;
  }
  t->nout = nres;
  t->outs = calloc(nres ? nres : 1, sizeof *t->outs);
  if (!t->outs) goto oom;
  for (size_t k = 0; k < nres; k++) {
    if (!res[k] || atomic_load(&res[k]->refs) <= 0) {
      st = cmx_err(CMX_EINVAL, "%s: the traced function's output %zu is "
                   "NULL or freed", who, k);
      goto out;
    }
    if (record(&b, res[k], ph, n_in, &t->outs[k])) goto oom;
  }
  /* Constants: computed now, once. */
  st = cmx_eval(t->consts, t->nconst);
  if (st) goto out;
  if (merge_common(t)) goto oom;
  count_uses(t);
  if (!(c->flags & CMX_COMPILE_NO_FUSE)) {
    if (fuse(t)) goto oom;
    count_uses(t); /* the fused-away nodes' uses go */
  }
  goto out;
oom:
  st = cmx_err(CMX_ENOMEM, "%s: out of memory", who);
out:
  for (size_t k = 0; k < nres; k++) cmx_array_free(res[k]);
  for (size_t i = 0; ph && i < n_in; i++) cmx_array_free(ph[i]);
  free(ph);
  free(res);
  free(b.m.key);
  free(b.m.val);
  if (st) trace_free(t);
  else *out = t;
  return st;
}

/* ---- public ---- */
int cmx_compile(cmx_compiled *out, cmx_fn fn, void *ctx, int flags) {
  static const char who[] = "cmx_compile";
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  if (!fn) return cmx_err(CMX_EINVAL, "%s: fn is NULL", who);
  if (flags & ~(CMX_COMPILE_SHAPELESS | CMX_COMPILE_NO_FUSE))
    return cmx_err(CMX_EINVAL, "%s: unknown flags 0x%x", who,
                   (unsigned)flags);
  cmx_compiled c = calloc(1, sizeof *c);
  if (!c) return cmx_err(CMX_ENOMEM, "%s: out of memory", who);
  c->fn = fn;
  c->ctx = ctx;
  c->flags = flags;
  pthread_mutex_init(&c->mu, NULL);
  pthread_mutex_lock(&g_live_mu);
  if (g_nlive == g_caplive) {
    size_t cap = g_caplive ? 2 * g_caplive : 16;
    cmx_compiled *l = realloc(g_live, cap * sizeof *l);
    if (!l) {
      pthread_mutex_unlock(&g_live_mu);
      pthread_mutex_destroy(&c->mu);
      free(c);
      return cmx_err(CMX_ENOMEM, "%s: out of memory", who);
    }
    g_live = l;
    g_caplive = cap;
  }
  g_live[g_nlive++] = c;
  pthread_mutex_unlock(&g_live_mu);
  *out = c;
  return CMX_OK;
}

/* The trace for this signature, moved to the front and held for one
 * replay, or NULL. */
static struct trace *trace_take(cmx_compiled c, const cmx_array *in,
                                size_t n_in) {
  pthread_mutex_lock(&c->mu);
  struct trace **pp = &c->traces, *t;
  while ((t = *pp) && !trace_matches(t, in, n_in)) pp = &t->next;
  if (t) {
    *pp = t->next;
    t->next = c->traces;
    c->traces = t;
    t->users++;
  }
  pthread_mutex_unlock(&c->mu);
  return t;
}

/* Puts a new trace (held for one replay) first; past MAX_TRACES the last
 * one leaves the list, freed now or by its last user. */
static void trace_add(cmx_compiled c, struct trace *t) {
  struct trace *gone = NULL;
  pthread_mutex_lock(&c->mu);
  t->users = 1;
  t->next = c->traces;
  c->traces = t;
  if (++c->ntraces > MAX_TRACES) {
    struct trace **pp = &c->traces;
    while ((*pp)->next) pp = &(*pp)->next;
    gone = *pp;
    *pp = NULL;
    c->ntraces--;
    gone->evicted = 1;
    if (gone->users) gone = NULL;
  }
  pthread_mutex_unlock(&c->mu);
  trace_free(gone);
}

/* Ends one replay of t: frees it if it was evicted meanwhile. */
static void trace_drop(cmx_compiled c, struct trace *t) {
  pthread_mutex_lock(&c->mu);
  int last = --t->users == 0 && t->evicted;
  pthread_mutex_unlock(&c->mu);
  if (last) trace_free(t);
}

int cmx_compiled_call(cmx_compiled c, const cmx_array *in, size_t n_in,
                      cmx_array *out, size_t cap, size_t *n_out) {
  static const char who[] = "cmx_compiled_call";
  if (n_out) *n_out = 0;
  if (out)
    for (size_t k = 0; k < cap; k++) out[k] = NULL;
  if (!c) return cmx_err(CMX_EINVAL, "%s: compiled is NULL", who);
  if (!out && cap) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  if (!n_out) return cmx_err(CMX_EINVAL, "%s: n_out is NULL", who);
  if (n_in && !in) return cmx_err(CMX_EINVAL, "%s: in is NULL", who);
  pthread_mutex_lock(&g_live_mu);
  int live = live_find(c) >= 0;
  pthread_mutex_unlock(&g_live_mu);
  if (!live)
    return cmx_err(CMX_ESTATE, "%s: compiled %p was freed", who, (void *)c);
  for (size_t i = 0; i < n_in; i++) {
    int st = cmx_array_check(in[i], who, "an input");
    if (st) return st;
  }
  struct trace *t = trace_take(c, in, n_in);
  if (!t) {
    /* Traced without the lock: the function may call this compiled
     * function itself, or take long. A racing trace of the same
     * signature is harmless: both are kept, the first found is used. */
    int st = trace_new(c, in, n_in, cap, &t, who);
    if (st) return st;
    trace_add(c, t);
  }
  int st = t->nout > cap
               ? cmx_err(CMX_EINVAL, "%s: the function returns %zu "
                         "outputs, cap is %zu", who, t->nout, cap)
               : replay(t, in, out, who);
  size_t nout = t->nout;
  trace_drop(c, t);
  if (st) {
    for (size_t k = 0; k < cap && k < nout; k++) {
      cmx_array_free(out[k]);
      out[k] = NULL;
    }
    return st;
  }
  *n_out = nout;
  return CMX_OK;
}

void cmx_compiled_free(cmx_compiled c) {
  if (!c) return;
  pthread_mutex_lock(&g_live_mu);
  int i = live_find(c);
  if (i >= 0) g_live[i] = g_live[--g_nlive];
  if (!g_nlive) {
    free(g_live);
    g_live = NULL;
    g_caplive = 0;
  }
  pthread_mutex_unlock(&g_live_mu);
  if (i < 0) {
    cmx_err(CMX_ESTATE, "cmx_compiled_free: compiled %p was already freed",
            (void *)c);
    return;
  }
  for (struct trace *t = c->traces, *nx; t; t = nx) {
    nx = t->next;
    trace_free(t);
  }
  pthread_mutex_destroy(&c->mu);
  free(c);
}
