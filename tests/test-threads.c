/* Threading contract: results bitwise identical for 1 and 2 team threads
 * (elementwise, reductions, matmul); four application pthreads building
 * and evaluating independent graphs on one shared input at once; a stream
 * made on one thread, used and freed on another; cmx called from inside an
 * OpenMP parallel region; per-thread default streams and last errors. */
#include "test-util.h"
#include <omp.h>
#include <pthread.h>

#define NBIG (1 << 20)

/* Results of a fixed set of computations on x (1024 x 1024 f32) as bytes. */
static size_t run_suite(cmx_array x, cmx_array w, unsigned char *out) {
  int ax0 = 0, ax1 = 1;
  cmx_array r[12];
  int64_t flat = NBIG;
  cmx_array xf;
  TU_OK(cmx_reshape(&xf, x, &flat, 1, NULL));
  TU_OK(cmx_sum(&r[0], xf, NULL, 0, false, NULL));
  TU_OK(cmx_sum(&r[1], x, &ax0, 1, false, NULL));
  TU_OK(cmx_sum(&r[2], x, &ax1, 1, false, NULL));
  TU_OK(cmx_mean(&r[3], xf, NULL, 0, false, NULL));
  TU_OK(cmx_var(&r[4], x, &ax1, 1, false, NULL));
  TU_OK(cmx_logsumexp(&r[5], x, &ax0, 1, false, NULL));
  TU_OK(cmx_max(&r[6], xf, NULL, 0, false, NULL));
  TU_OK(cmx_argmax(&r[7], x, 1, false, NULL));
  TU_OK(cmx_exp(&r[8], x, NULL));
  cmx_array t;
  TU_OK(cmx_transpose(&t, x, NULL, 0, NULL));
  TU_OK(cmx_add(&r[9], x, t, NULL));
  cmx_array_free(t);
  TU_OK(cmx_matmul(&r[10], w, w, NULL));
  TU_OK(cmx_prod(&r[11], w, &ax1, 1, true, NULL));
  TU_OK(cmx_eval(r, 12));
  size_t off = 0;
  for (int i = 0; i < 12; i++) {
    size_t nb = cmx_array_nbytes(r[i]);
    if (out) TU_OK(cmx_array_read(r[i], out + off, nb));
    off += nb;
    cmx_array_free(r[i]);
  }
  cmx_array_free(xf);
  return off;
}

static void make_inputs(cmx_array *x, cmx_array *w) {
  float *v = malloc(sizeof(float) * NBIG);
  uint64_t s = 77;
  for (int i = 0; i < NBIG; i++) v[i] = (float)(tu_unif(&s) * 4 - 2);
  int64_t sh[2] = {1024, 1024}, sw[2] = {200, 200};
  TU_OK(cmx_array_from_data(x, v, CMX_F32, sh, 2));
  for (int i = 0; i < 200 * 200; i++) v[i] = 0.5f + (float)tu_unif(&s);
  TU_OK(cmx_array_from_data(w, v, CMX_F32, sw, 2));
  free(v);
}

Test(threads, bitwise_identical_for_1_and_2_threads) {
  cmx_array x, w;
  make_inputs(&x, &w);
  size_t nb = run_suite(x, w, NULL);
  unsigned char *r1 = malloc(nb), *r2 = malloc(nb);
  TU_OK(cmx_set_num_threads(1));
  cr_assert_eq(cmx_get_num_threads(), 1);
  run_suite(x, w, r1);
  TU_OK(cmx_set_num_threads(2));
  run_suite(x, w, r2);
  if (cmx_get_num_threads() < 2)
    cr_log_info("only %d core(s): the comparison is 1 vs 1",
                cmx_get_num_threads());
  size_t diff = 0, first = 0;
  for (size_t i = 0; i < nb; i++)
    if (r1[i] != r2[i] && !diff++) first = i;
  cr_assert_eq(diff, 0, "%zu of %zu result bytes differ between 1 and 2 "
               "threads (first at byte %zu)", diff, nb, first);
  /* And the same again with 2 threads: no run-to-run variation. */
  run_suite(x, w, r1);
  cr_assert_eq(memcmp(r1, r2, nb), 0, "two runs with 2 threads differ");
  free(r1);
  free(r2);
  cmx_array_free(x);
  cmx_array_free(w);
}

Test(threads, sum_of_1m_is_accurate_with_any_team) {
  cmx_array x, w;
  make_inputs(&x, &w);
  const void *p;
  TU_OK(cmx_array_data(&p, x));
  double ref = 0;
  for (int i = 0; i < NBIG; i++) ref += ((const float *)p)[i];
  for (int nt = 1; nt <= 2; nt++) {
    TU_OK(cmx_set_num_threads(nt));
    cmx_array s;
    TU_OK(cmx_sum(&s, x, NULL, 0, false, NULL));
    double got;
    TU_OK(cmx_array_item(&got, s));
    cr_assert(fabs(got - ref) <= 1e-3 * sqrt((double)NBIG) * 2,
              "threads %d: %.9g want %.9g", nt, got, ref);
    cmx_array_free(s);
  }
  cmx_array_free(x);
  cmx_array_free(w);
}

/* ---- application threads ---------------------------------------------- */
struct job {
  cmx_array x;      /* shared input, written by main before start */
  cmx_array shared; /* shared lazy node or NULL */
  int id, iters;
  int rc;           /* first failure: status, or 1 for a wrong value */
  char why[160];
};

static void *worker(void *arg) {
  struct job *j = arg;
  for (int it = 0; it < j->iters && j->rc == 0; it++) {
    float k = (float)(j->id + 1 + it);
    cmx_array kk, m, s, e = NULL;
    int rc = cmx_full(&kk, NULL, 0, k, CMX_F32, NULL);
    if (!rc) rc = cmx_multiply(&m, j->shared ? j->shared : j->x, kk, NULL);
    int ax = 1;
    if (!rc) rc = cmx_sum(&s, m, &ax, 1, false, NULL);
    float got[64];
    if (!rc) rc = cmx_array_read(s, got, sizeof got);
    if (rc) {
      j->rc = rc;
      snprintf(j->why, sizeof j->why, "thread %d: %s", j->id, cmx_last_error());
      break;
    }
    /* Row i of x is i + c/64 for c < 64 (or exp of that, shared). */
    for (int i = 0; i < 64; i++) {
      double ref = 0;
      for (int c = 0; c < 64; c++) {
        double v = i + c / 64.0;
        ref += (double)k * (j->shared ? (float)exp(v / 64) : v);
      }
      if (fabs(got[i] - ref) > 1e-5 * fabs(ref) + 1e-4) {
        j->rc = 1;
        snprintf(j->why, sizeof j->why, "thread %d it %d row %d: %g want %g",
                 j->id, it, i, got[i], ref);
        break;
      }
    }
    cmx_array_free(e);
    cmx_array_free(s);
    cmx_array_free(m);
    cmx_array_free(kk);
  }
  return NULL;
}

static void run_workers(int with_shared_lazy) {
  float v[64 * 64];
  for (int i = 0; i < 64; i++)
    for (int c = 0; c < 64; c++) v[i * 64 + c] = (float)i + (float)c / 64.0f;
  int64_t sh[2] = {64, 64};
  cmx_array x, shared = NULL, scaled, div;
  TU_OK(cmx_array_from_data(&x, v, CMX_F32, sh, 2));
  if (with_shared_lazy) { /* exp(x / 64), not evaluated before the threads */
    TU_OK(cmx_full(&div, NULL, 0, 64.0, CMX_F32, NULL));
    TU_OK(cmx_divide(&scaled, x, div, NULL));
    TU_OK(cmx_exp(&shared, scaled, NULL));
    cmx_array_free(scaled);
    cmx_array_free(div);
    if (!getenv("CMX_EAGER")) cr_assert_eq(cmx_array_is_evaluated(shared), 0);
  }
  struct job jobs[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    jobs[i] = (struct job){x, shared, i, 25, 0, ""};
    pthread_create(&th[i], NULL, worker, &jobs[i]);
  }
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 4; i++)
    cr_assert_eq(jobs[i].rc, 0, "%s (rc %d)", jobs[i].why, jobs[i].rc);
  cmx_array_free(shared);
  cmx_array_free(x);
}

Test(threads, four_pthreads_share_an_evaluated_input) { run_workers(0); }
Test(threads, four_pthreads_share_a_lazy_node) { run_workers(1); }

struct handoff {
  cmx_stream s;
  int rc;
  double sum;
  char why[160];
};
static void *make_stream(void *arg) {
  struct handoff *h = arg;
  cmx_stream_config cfg = {2, NULL, 0};
  h->rc = cmx_stream_new(&h->s, &cfg);
  return NULL;
}
static void *use_and_free_stream(void *arg) {
  struct handoff *h = arg;
  cmx_array a, b, s;
  int rc = cmx_arange(&a, 0, 5000, 1, CMX_F64, h->s);
  if (!rc) rc = cmx_sqrt(&b, a, h->s);
  if (!rc) rc = cmx_sum(&s, b, NULL, 0, false, h->s);
  if (!rc) rc = cmx_array_item(&h->sum, s);
  if (!rc) rc = cmx_stream_synchronize(h->s);
  if (!rc) {
    cmx_array_free(s);
    cmx_array_free(b);
    cmx_array_free(a);
    rc = cmx_stream_free_checked(h->s);
  }
  h->rc = rc;
  if (rc) snprintf(h->why, sizeof h->why, "%s", cmx_last_error());
  return NULL;
}

Test(threads, stream_made_on_one_thread_used_and_freed_on_another) {
  struct handoff h = {NULL, 0, 0, ""};
  pthread_t t1, t2;
  pthread_create(&t1, NULL, make_stream, &h);
  pthread_join(t1, NULL);
  cr_assert_eq(h.rc, CMX_OK);
  pthread_create(&t2, NULL, use_and_free_stream, &h);
  pthread_join(t2, NULL);
  cr_assert_eq(h.rc, CMX_OK, "%d %s", h.rc, h.why);
  double ref = 0;
  for (int i = 0; i < 5000; i++) ref += sqrt((double)i);
  cr_assert(fabs(h.sum - ref) <= 1e-10 * ref, "%.17g want %.17g", h.sum, ref);
  TU_FAILS(CMX_ESTATE, "cmx_stream_free_checked", cmx_stream_free_checked(h.s));
}

Test(threads, called_from_inside_omp_parallel) {
  int bad[2] = {0, 0}, ran[2] = {0, 0};
  double got[2] = {0, 0};
#pragma omp parallel num_threads(2)
  {
    int t = omp_get_thread_num();
    ran[t] = 1;
    for (int it = 0; it < 10 && !bad[t]; it++) {
      cmx_array a, b, s;
      int rc = cmx_arange(&a, 0, 10000 + t, 1, CMX_F32, NULL);
      if (!rc) rc = cmx_square(&b, a, NULL);
      if (!rc) rc = cmx_sum(&s, b, NULL, 0, false, NULL);
      if (!rc) rc = cmx_array_item(&got[t], s);
      if (rc) bad[t] = rc;
      if (!rc) {
        double n = 10000 + t, ref = (n - 1) * n * (2 * n - 1) / 6;
        if (fabs(got[t] - ref) > 1e-5 * ref) bad[t] = 1;
        cmx_array_free(s);
        cmx_array_free(b);
        cmx_array_free(a);
      }
    }
  }
  for (int t = 0; t < 2; t++)
    if (ran[t])
      cr_assert_eq(bad[t], 0, "omp thread %d: %d (sum %.9g) %s", t, bad[t],
                   got[t], cmx_last_error());
}

struct own_default {
  int rc, same_as_main;
  cmx_stream main_default, mine;
  char err[160];
};
static void *own_default_stream(void *arg) {
  struct own_default *o = arg;
  o->same_as_main = cmx_default_stream() == o->main_default;
  int rc = cmx_stream_new(&o->mine, NULL);
  if (!rc) rc = cmx_set_default_stream(o->mine);
  cmx_array y;
  cmx_exp(&y, NULL, NULL); /* an error on this thread only */
  snprintf(o->err, sizeof o->err, "%s", cmx_last_error());
  cmx_array a;
  double d = 0;
  if (!rc) rc = cmx_full(&a, NULL, 0, 3, CMX_I32, NULL);
  if (!rc) rc = cmx_array_item(&d, a);
  if (!rc && d != 3) rc = 1;
  if (!rc) cmx_array_free(a);
  if (!rc) rc = cmx_set_default_stream(NULL);
  if (!rc) rc = cmx_stream_free_checked(o->mine);
  o->rc = rc;
  return NULL;
}

Test(threads, default_stream_and_last_error_are_per_thread) {
  cmx_array y;
  TU_FAILS(CMX_EINVAL, "cmx_sum", cmx_sum(&y, NULL, NULL, 0, false, NULL));
  struct own_default o = {0, 0, cmx_default_stream(), NULL, ""};
  pthread_t th;
  pthread_create(&th, NULL, own_default_stream, &o);
  pthread_join(th, NULL);
  cr_assert_eq(o.rc, CMX_OK);
  cr_assert(o.same_as_main, "a new thread starts on the process default");
  cr_assert(strstr(o.err, "cmx_exp"), "other thread's error: '%s'", o.err);
  cr_assert(strstr(cmx_last_error(), "cmx_sum"), "main's error replaced: '%s'",
            cmx_last_error());
  cr_assert_eq(cmx_default_stream(), o.main_default);
}

/* ---- a batch of split nodes, some reading others ------------------------
 * On 2 threads a run of small nodes shares one region, and a node whose
 * last step is an elementwise, copy or row job may return before the team
 * finishes its half (cmx_parallel_for_async); the graph fences before a
 * node that reads it (rope also unpins its table then). The nodes split
 * (sizes below), many read nodes of the same batch, and there are more
 * independent ones than the deferral list holds: every result must equal
 * the 1-thread run bitwise and the float64 model of the first few. */
#define BN 256
#define BIND 40
static size_t run_batch(cmx_array x, cmx_array w, unsigned char *out,
                        size_t cap) {
  cmx_array r[BIND + 8], e[BIND];
  for (int i = 0; i < BIND; i++) {
    cmx_array c, m;
    int64_t one = 1;
    TU_OK(cmx_full(&c, &one, 1, 0.25 + 0.01 * i, CMX_F32, NULL));
    TU_OK(cmx_multiply(&m, x, c, NULL));
    TU_OK(cmx_exp(&e[i], m, NULL)); /* reads m, made in the same batch */
    cmx_array_free(c);
    cmx_array_free(m);
  }
  int n = 0;
  for (int i = 0; i < BIND; i++) r[n++] = e[i];
  cmx_array t0, t1;
  TU_OK(cmx_add(&r[n++], e[0], e[1], NULL));
  TU_OK(cmx_softmax(&r[n++], e[2], -1, NULL));
  TU_OK(cmx_rms_norm(&r[n++], e[3], w, 1e-5f, NULL));
  TU_OK(cmx_astype(&r[n++], e[4], CMX_BF16, NULL));
  TU_OK(cmx_neg(&t0, e[5], NULL));
  TU_OK(cmx_tanh(&t1, t0, NULL));
  TU_OK(cmx_subtract(&r[n++], t1, e[6], NULL));
  TU_OK(cmx_sum(&r[n++], e[7], NULL, 0, false, NULL));
  /* rope (async, its table unpinned after the fence) read by rope and add */
  cmx_array t2;
  TU_OK(cmx_rope(&t2, e[8], 64, false, 10000.0f, 1.0f, 3, NULL));
  TU_OK(cmx_rope(&r[n++], t2, 32, true, 500.0f, 0.5f, 5, NULL));
  TU_OK(cmx_add(&r[n++], t2, e[9], NULL));
  cmx_array_free(t2);
  cmx_array_free(t0);
  cmx_array_free(t1);
  TU_OK(cmx_eval(r, (size_t)n));
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    size_t nb = cmx_array_nbytes(r[i]);
    cr_assert(off + nb <= cap);
    TU_OK(cmx_array_read(r[i], out + off, nb));
    off += nb;
    cmx_array_free(r[i]);
  }
  return off;
}

static void check_batch(int bn) {
  float *v = malloc(sizeof(float) * bn * bn);
  uint64_t s = 99;
  for (int i = 0; i < bn * bn; i++) v[i] = (float)(tu_unif(&s) * 4 - 2);
  int64_t sh[2] = {bn, bn}, sw = bn;
  cmx_array x, w;
  TU_OK(cmx_array_from_data(&x, v, CMX_F32, sh, 2));
  TU_OK(cmx_array_from_data(&w, v + 5, CMX_F32, &sw, 1));
  size_t cap = (size_t)(BIND + 8) * bn * bn * 4;
  unsigned char *r1 = malloc(cap), *r2 = malloc(cap);
  TU_OK(cmx_set_num_threads(1));
  size_t nb = run_batch(x, w, r1, cap);
  TU_OK(cmx_set_num_threads(2));
  if (cmx_get_num_threads() < 2)
    cr_log_info("only %d core(s): the comparison is 1 vs 1",
                cmx_get_num_threads());
  for (int rep = 0; rep < 20; rep++) {
    cr_assert_eq(run_batch(x, w, r2, cap), nb);
    size_t diff = 0, first = 0;
    for (size_t i = 0; i < nb; i++)
      if (r1[i] != r2[i] && !diff++) first = i;
    cr_assert_eq(diff, 0, "%dx%d, rep %d: %zu of %zu bytes differ from 1 "
                 "thread (first at byte %zu)", bn, bn, rep, diff, nb, first);
  }
  /* exp(x * c) of the first two, and their sum, against float64 */
  const float *g = (const float *)r1;
  const float *sum = g + (size_t)BIND * bn * bn;
  for (int i = 0; i < bn * bn; i += 97) {
    double a = exp((double)v[i] * (double)(float)0.25),
           b = exp((double)v[i] * (double)(float)0.26);
    cr_assert(fabs(g[i] - a) <= 4e-6 * a, "exp at %d: %g want %g", i, g[i], a);
    cr_assert(fabs(sum[i] - (a + b)) <= 8e-6 * (a + b), "sum at %d", i);
  }
  free(r1);
  free(r2);
  free(v);
  cmx_array_free(x);
  cmx_array_free(w);
}

/* 256 x 256: the nodes split at their drivers' own grain; 160 x 160: the
 * elementwise and row nodes only at a batch region's quarter grain
 * (cmx_batch_grain); 96 x 96: the heavy elementwise ops (exp, tanh)
 * alone. */
Test(threads, batch_of_split_nodes_reading_each_other) {
  check_batch(BN);
  check_batch(160);
  check_batch(96);
}

/* ---- one small node evaluated by two threads at once ------------------- */
/* Small ops on evaluated inputs take eval's fast path (graph.c); two
 * threads that race to evaluate one node, or one its input and the other
 * the node, must each get the finished result, and the node must run once
 * (a second run would leave its first buffer allocated). */
#define RACE_ROUNDS 300
struct race {
  cmx_array e[RACE_ROUNDS], c[RACE_ROUNDS]; /* e = exp(a), c = e + b */
  pthread_barrier_t bar;
  int rc[2];
  char why[2][160];
};
struct race_arg { struct race *r; int t; };

static void *race_worker(void *arg) {
  struct race_arg *ra = arg;
  struct race *r = ra->r;
  int t = ra->t;
  for (int k = 0; k < RACE_ROUNDS; k++) {
    pthread_barrier_wait(&r->bar);
    if (r->rc[t]) continue;
    /* odd rounds: thread 0 evaluates the input, thread 1 the node */
    int input_only = k % 2 && t == 0;
    cmx_array x = input_only ? r->e[k] : r->c[k];
    float got[16];
    int rc = cmx_eval(&x, 1);
    if (!rc) rc = cmx_array_read(x, got, sizeof got);
    if (rc) {
      r->rc[t] = rc;
      snprintf(r->why[t], sizeof r->why[t], "round %d: %s", k,
               cmx_last_error());
      continue;
    }
    for (int i = 0; i < 16; i++) {
      float want = expf((float)i / 16) + (input_only ? 0.0f : (float)i);
      if (fabsf(got[i] - want) > 1e-6f * want) {
        r->rc[t] = 1;
        snprintf(r->why[t], sizeof r->why[t], "round %d [%d]: %g want %g", k,
                 i, got[i], want);
        break;
      }
    }
  }
  return NULL;
}

Test(threads, two_threads_evaluate_one_small_node) {
  float va[16], vb[16];
  for (int i = 0; i < 16; i++) va[i] = (float)i / 16, vb[i] = (float)i;
  int64_t n = 16;
  cmx_array a, b;
  TU_OK(cmx_array_from_data(&a, va, CMX_F32, &n, 1));
  TU_OK(cmx_array_from_data(&b, vb, CMX_F32, &n, 1));
  size_t base = cmx_get_active_memory();
  struct race *r = calloc(1, sizeof *r);
  for (int k = 0; k < RACE_ROUNDS; k++) {
    TU_OK(cmx_exp(&r->e[k], a, NULL));
    TU_OK(cmx_add(&r->c[k], r->e[k], b, NULL));
  }
  pthread_barrier_init(&r->bar, NULL, 2);
  struct race_arg args[2] = {{r, 0}, {r, 1}};
  pthread_t th[2];
  for (int t = 0; t < 2; t++)
    pthread_create(&th[t], NULL, race_worker, &args[t]);
  for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
  pthread_barrier_destroy(&r->bar);
  for (int t = 0; t < 2; t++)
    cr_assert_eq(r->rc[t], 0, "thread %d: %s", t, r->why[t]);
  for (int k = 0; k < RACE_ROUNDS; k++) {
    cmx_array_free(r->c[k]);
    cmx_array_free(r->e[k]);
  }
  free(r);
  cr_assert_eq(cmx_get_active_memory(), base, "%zu bytes left",
               cmx_get_active_memory() - base);
  cmx_array_free(b);
  cmx_array_free(a);
}

/* The buffer cache hands a thread back its own freed buffer of a size
 * class before another thread's (api/memory.c: its lines are still in that
 * core's caches). Thread A and the main thread each hold an array of one
 * class; A frees its array, then the main thread its own; A's next array
 * of that class gets A's buffer (a single cache list would give it the
 * main thread's, the newest), the main thread's next its own. */
struct home_step {
  pthread_barrier_t bar;
  const void *first, *again;
};

static cmx_array full_of(double v, const void **data) {
  const int64_t n = 3000; /* a 12 KiB class nothing else here uses */
  cmx_array a;
  TU_OK(cmx_full(&a, &n, 1, v, CMX_F32, NULL));
  TU_OK(cmx_array_data(data, a));
  return a;
}

static void *home_thread(void *arg) {
  struct home_step *h = arg;
  cmx_array a = full_of(1.0, &h->first);
  pthread_barrier_wait(&h->bar); /* both hold one */
  cmx_array_free(a);
  pthread_barrier_wait(&h->bar); /* A's freed */
  pthread_barrier_wait(&h->bar); /* the main thread's freed after it */
  const void *d;
  cmx_array_free(full_of(2.0, &d));
  h->again = d;
  return NULL;
}

Test(threads, freed_buffers_go_back_to_their_thread) {
  struct home_step h = {.first = NULL};
  pthread_barrier_init(&h.bar, NULL, 2);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, home_thread, &h), 0);
  const void *m_first, *m_again;
  cmx_array m = full_of(3.0, &m_first);
  pthread_barrier_wait(&h.bar);
  pthread_barrier_wait(&h.bar);
  cmx_array_free(m);
  pthread_barrier_wait(&h.bar);
  pthread_join(t, NULL);
  cmx_array_free(full_of(4.0, &m_again));
  pthread_barrier_destroy(&h.bar);
  cr_assert_neq(h.first, m_first);
  cr_assert_eq(h.again, h.first, "thread A got another thread's buffer");
  cr_assert_eq(m_again, m_first, "the main thread got another's buffer");
}
