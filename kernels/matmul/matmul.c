/* The reference matmul driver (contract in matmul.h). */
#include <string.h>

#include "../../sched/sched.h"
#include "matmul.h"

#define KB 256 /* k-block: 256 rows of B stay in L2 for n up to ~1000 */

struct mm {
  int kind;
  const void *a, *b;
  void *c;
  size_t m, n, k;
};

#define ROWS(T, WRAP)                                                      \
  do {                                                                     \
    const T *A = (const T *)j->a + bi * j->m * j->k + i * j->k;            \
    const T *B = (const T *)j->b + bi * j->k * j->n;                       \
    T *C = (T *)j->c + bi * j->m * j->n + i * j->n;                        \
    memset(C, 0, j->n * sizeof(T));                                        \
    for (size_t p0 = 0; p0 < j->k; p0 += KB) {                             \
      size_t pe = p0 + KB < j->k ? p0 + KB : j->k;                         \
      for (size_t p = p0; p < pe; p++) {                                   \
        T av = A[p];                                                       \
        const T *Bp = B + p * j->n;                                        \
        for (size_t q = 0; q < j->n; q++) C[q] = WRAP(C[q], av, Bp[q]);    \
      }                                                                    \
    }                                                                      \
  } while (0)
#define FMA_(c, a, b) ((c) + (a) * (b))
#define WRAP_I(c, a, b) \
  (int64_t)((uint64_t)(c) + (uint64_t)(a) * (uint64_t)(b))

static void mm_range(void *ctx, size_t b, size_t e) {
  const struct mm *j = ctx;
  for (size_t r = b; r < e; r++) {
    size_t bi = r / j->m, i = r % j->m;
    if (j->kind == 0) ROWS(float, FMA_);
    else if (j->kind == 1) ROWS(double, FMA_);
    else ROWS(int64_t, WRAP_I);
  }
}

void cmx_matmul_ref(int kind, const void *a, const void *b, void *c,
                    size_t batch, size_t m, size_t n, size_t k,
                    int nthreads) {
  struct mm j = {kind, a, b, c, m, n, k};
  size_t work = (n * k) > 0 ? n * k : 1;
  size_t grain = (1 << 16) / work;
  cmx_parallel_for(nthreads, batch * m, 1, grain ? grain : 1, mm_range, &j);
}
