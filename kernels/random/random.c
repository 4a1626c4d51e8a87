/* Threefry-2x32-20 and the fills built on it (contract in random.h). Work
 * is split in whole 64-element chunks, each computed from its own indices,
 * so the split never changes a bit: f32 and narrower by the level's fill
 * microkernel, f64 by the loop below. */
#include <math.h>

#include "../../sched/sched.h"
#include "random.h"

struct rjob { void *out; cmx_dtype d; size_t n; enum cmx_rand_kind kind;
              uint32_t key[2]; double a, b; cmx_rng_ukr_fn ukr;
              const cmx_cvt_ukr_fn *cvt; };

#define CH 64

void cmx_threefry2x32(const uint32_t key[2], const uint32_t ctr[2],
                      uint32_t out[2]) {
  static const float none[4] = {0, 0, 0, 0};
  cmx_rng_f32_ukr__ref(key, ctr[0] | (uint64_t)ctr[1] << 32, 2,
                       CMX_RAND_BITS, none, out);
}

/* Chunks [cb, ce) of an f32, f16, bf16 or uint32 fill: the microkernel on
 * pieces of up to PIECE elements that never cross a 2^32-block boundary
 * (its contract); 16-bit outputs from an f32 piece on the stack. 16M
 * elements, 1 thread, Zen 5 VM, the old loop (four blocks at a time in
 * 128-bit vectors, values in double, libm's log / cos / sin) -> the
 * AVX-512 kernel: f32 uniform 89 -> 4.2 ms, normal 320 -> 9.5 ms. */
#define PIECE 4096
static void fill_kernel(const struct rjob *j, size_t cb, size_t ce) {
  const float a = (float)j->a;
  const float d =
      j->kind == CMX_RAND_NORMAL ? (float)j->b : (float)(j->b - j->a);
  const float prm[4] = {a, d, (float)j->b, nextafterf((float)j->b, a)};
  const uint64_t wrap = (uint64_t)1 << 33; /* elements per 2^32 blocks */
  const size_t end = ce * CH < j->n ? ce * CH : j->n;
  for (size_t e = cb * CH; e < end;) {
    size_t m = end - e < PIECE ? end - e : PIECE;
    const uint64_t lim = wrap - (uint64_t)e % wrap;
    if (m > lim) m = (size_t)lim;
    if (j->d == CMX_F32 || j->kind == CMX_RAND_BITS) {
      j->ukr(j->key, e / 2, m, (int)j->kind, prm, (uint32_t *)j->out + e);
      e += m;
      continue;
    }
    float f[PIECE];
    uint16_t *h = (uint16_t *)j->out + e;
    j->ukr(j->key, e / 2, m, (int)j->kind, prm, f);
    j->cvt[j->d == CMX_F16 ? CMX_CVT_F32_F16 : CMX_CVT_F32_BF16](m, f, h);
    if (j->kind == CMX_RAND_UNIFORM && j->b > j->a) {
      /* The 16-bit rounding may reach b too: step down one unit. */
      j->cvt[j->d == CMX_F16 ? CMX_CVT_F16_F32 : CMX_CVT_BF16_F32](m, h, f);
      for (size_t t = 0; t < m; t++)
        if (f[t] >= (float)j->b)
          h[t] = (uint16_t)(h[t] + ((h[t] & 0x8000) ? 1 : -1));
    }
    e += m;
  }
}

/* Chunks [cb, ce): f64 here, in double, element by element (a uniform
 * takes block i whole, 53 bits; a normal pair takes block i / 2 and block
 * (i / 2) | 2^63, 53 bits for each of u1 and u2); the rest by the
 * microkernel. */
static void fill_range(void *ctx, size_t cb, size_t ce) {
  const struct rjob *j = ctx;
  if (j->d != CMX_F64) {
    fill_kernel(j, cb, ce);
    return;
  }
  for (size_t ch = cb; ch < ce; ch++) {
    size_t i0 = ch * CH, m = j->n - i0 < CH ? j->n - i0 : CH;
    double *v = (double *)j->out + i0;
    const int normal = j->kind == CMX_RAND_NORMAL;
    const uint64_t bb = normal ? i0 / 2 : i0;
    const size_t nbk = normal ? (i0 + m - 1) / 2 - bb + 1 : m;
    /* the words of blocks bb + q: W[2 q], W[2 q + 1] (a normal's second
     * draw from blocks (bb + q) | 2^63 in X) */
    static const float none[4] = {0, 0, 0, 0};
    uint32_t W[2 * CH], X[2 * CH];
    j->ukr(j->key, bb, 2 * nbk, CMX_RAND_BITS, none, W);
    if (normal)
      j->ukr(j->key, bb | 1ull << 63, 2 * nbk, CMX_RAND_BITS, none, X);
    uint64_t have = UINT64_MAX; /* the pair whose r, th are held */
    double r = 0.0, th = 0.0;
    for (size_t t = 0; t < m; t++) {
      uint64_t i = i0 + t;
      const size_t q = (size_t)((normal ? i / 2 : i) - bb);
      if (!normal) {
        double u = (double)((((uint64_t)W[2 * q] << 32) | W[2 * q + 1]) >> 11) *
                   (1.0 / 9007199254740992.0);
        v[t] = j->a + (j->b - j->a) * u;
        if (v[t] >= j->b && j->b > j->a) v[t] = nextafter(j->b, j->a);
        continue;
      }
      if (have != i / 2) {
        have = i / 2;
        /* u1 in (0, 1] keeps log finite; u2 in [0, 1). */
        double u1 =
            ((double)(((uint64_t)W[2 * q] << 21) ^ (X[2 * q] >> 11)) + 1.0) *
            (1.0 / 9007199254740992.0);
        double u2 = (double)(((uint64_t)W[2 * q + 1] << 21) ^
                             (X[2 * q + 1] >> 11)) *
                    (1.0 / 9007199254740992.0);
        r = sqrt(-2.0 * log(u1)), th = 2.0 * M_PI * u2;
      }
      v[t] = j->a + j->b * (i % 2 ? r * sin(th) : r * cos(th));
    }
  }
}

void cmx_random_fill(void *out, cmx_dtype d, size_t n,
                     enum cmx_rand_kind kind, const uint32_t key[2],
                     double a, double b, cmx_rng_ukr_fn ukr,
                     const cmx_cvt_ukr_fn *cvt, int nthreads) {
  struct rjob j = {out, d, n, kind, {key[0], key[1]}, a, b, ukr, cvt};
  cmx_parallel_for(nthreads, (n + CH - 1) / CH, 1, 256, fill_range, &j);
}
