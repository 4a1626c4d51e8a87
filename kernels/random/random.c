/* Threefry-2x32-20 and the fills built on it (contract in random.h). Work
 * is split in whole 64-element chunks, each computed from its own indices,
 * so the split never changes a bit. */
#include <math.h>
#include <string.h>

#include "../../sched/sched.h"
#include "random.h"

struct rjob { void *out; cmx_dtype d; size_t n; enum cmx_rand_kind kind;
              uint32_t key[2]; double a, b; const cmx_cvt_ukr_fn *cvt; };

#define CH 64

/* Threefry-2x32-20 on four blocks at once in 128-bit vectors (GCC vector
 * extensions: SSE2 on x86-64, NEON on AArch64, the baseline of either, so
 * no dispatch); key injection after every fourth round. */
typedef uint32_t u32x4 __attribute__((vector_size(16)));

static inline u32x4 rotl4(u32x4 x, int r) {
  return (x << r) | (x >> (32 - r));
}

/* w0[b], w1[b]: the words of blocks blk[b] (b < 4). */
static void threefry_x4(const uint32_t key[2], const uint64_t blk[4],
                        uint32_t w0[4], uint32_t w1[4]) {
  static const int R[8] = {13, 15, 26, 6, 17, 29, 16, 24};
  const uint32_t ks[3] = {key[0], key[1], 0x1BD11BDAu ^ key[0] ^ key[1]};
  u32x4 x0 = {(uint32_t)blk[0], (uint32_t)blk[1], (uint32_t)blk[2],
              (uint32_t)blk[3]};
  u32x4 x1 = {(uint32_t)(blk[0] >> 32), (uint32_t)(blk[1] >> 32),
              (uint32_t)(blk[2] >> 32), (uint32_t)(blk[3] >> 32)};
  x0 += ks[0];
  x1 += ks[1];
  for (int r = 0; r < 20; r++) {
    x0 += x1;
    x1 = rotl4(x1, R[r % 8]);
    x1 ^= x0;
    if (r % 4 == 3) {
      int s = r / 4 + 1;
      x0 += ks[s % 3];
      x1 += ks[(s + 1) % 3] + (uint32_t)s;
    }
  }
  memcpy(w0, &x0, 16);
  memcpy(w1, &x1, 16);
}

/* One block: lane 0 of the four-lane rounds (the known-answer test checks
 * them through this). */
void cmx_threefry2x32(const uint32_t key[2], const uint32_t ctr[2],
                      uint32_t out[2]) {
  const uint64_t blk[4] = {ctr[0] | (uint64_t)ctr[1] << 32, 0, 0, 0};
  uint32_t w0[4], w1[4];
  threefry_x4(key, blk, w0, w1);
  out[0] = w0[0];
  out[1] = w1[0];
}

/* The words of nb blocks b0, b0 + 1, ... (each or-ed with hi) into w0, w1:
 * a chunk's blocks computed four at a time (16M uniform floats, 1 thread,
 * Zen 5 VM: 143 -> 89 ms; normal 413 -> 318 ms). */
static void blocks(const struct rjob *j, uint64_t b0, size_t nb, uint64_t hi,
                   uint32_t *w0, uint32_t *w1) {
  for (size_t q = 0; q < nb; q += 4) {
    uint64_t blk[4];
    uint32_t a[4], b[4];
    for (int l = 0; l < 4; l++) blk[l] = (b0 + q + (uint64_t)l) | hi;
    threefry_x4(j->key, blk, a, b);
    for (size_t l = 0; l < 4 && q + l < nb; l++) w0[q + l] = a[l], w1[q + l] = b[l];
  }
}

static void fill_range(void *ctx, size_t cb, size_t ce) {
  const struct rjob *j = ctx;
  size_t esz = cmx_dtype_size(j->d);
  for (size_t ch = cb; ch < ce; ch++) {
    size_t i0 = ch * CH, m = j->n - i0 < CH ? j->n - i0 : CH;
    float f[CH];
    double v[CH];
    /* The chunk's blocks first: element i takes block i / 2 (both words
     * used: elements 2b and 2b + 1 share block b, and a normal pair its r
     * and theta), an f64 uniform block i, an f64 normal also block
     * (i / 2) | 2^63. */
    const int per_elem = j->kind == CMX_RAND_UNIFORM && j->d == CMX_F64;
    const uint64_t bb = per_elem ? i0 : i0 / 2;
    const size_t nbk = per_elem ? m : (i0 + m - 1) / 2 - bb + 1;
    uint32_t W0[CH], W1[CH], X0[CH], X1[CH];
    blocks(j, bb, nbk, 0, W0, W1);
    if (j->kind == CMX_RAND_NORMAL && j->d == CMX_F64)
      blocks(j, bb, nbk, 1ull << 63, X0, X1);
    uint64_t have = UINT64_MAX; /* the pair whose r, th are held */
    double r = 0.0, th = 0.0;
    for (size_t t = 0; t < m; t++) {
      uint64_t i = i0 + t;
      const size_t q = (size_t)((per_elem ? i : i / 2) - bb);
      const uint32_t w[2] = {W0[q], W1[q]};
      if (j->kind == CMX_RAND_BITS) {
        ((uint32_t *)j->out)[i] = w[i % 2];
        continue;
      }
      if (j->kind == CMX_RAND_NORMAL) {
        if (have != i / 2) {
          have = i / 2;
          /* u1 in (0, 1] keeps log finite; u2 in [0, 1). */
          double u1 = ((double)(w[0] >> 8) + 1.0) * (1.0 / 16777216.0);
          double u2 = (double)(w[1] >> 8) * (1.0 / 16777216.0);
          if (j->d == CMX_F64) {
            const uint32_t w2[2] = {X0[q], X1[q]};
            u1 = ((double)(((uint64_t)w[0] << 21) ^ (w2[0] >> 11)) + 1.0) *
                 (1.0 / 9007199254740992.0);
            u2 = (double)(((uint64_t)w[1] << 21) ^ (w2[1] >> 11)) *
                 (1.0 / 9007199254740992.0);
          }
          r = sqrt(-2.0 * log(u1)), th = 2.0 * M_PI * u2;
        }
        v[t] = j->a + j->b * (i % 2 ? r * sin(th) : r * cos(th));
      } else if (j->d == CMX_F64) {
        double u = (double)((((uint64_t)w[0] << 32) | w[1]) >> 11) *
                   (1.0 / 9007199254740992.0);
        v[t] = j->a + (j->b - j->a) * u;
        if (v[t] >= j->b && j->b > j->a) v[t] = nextafter(j->b, j->a);
      } else {
        double u = (double)(w[i % 2] >> 8) * (1.0 / 16777216.0);
        v[t] = j->a + (j->b - j->a) * u;
      }
    }
    if (j->kind == CMX_RAND_BITS) continue;
    char *o = (char *)j->out + i0 * esz;
    if (j->d == CMX_F64) {
      memcpy(o, v, m * 8);
      continue;
    }
    for (size_t t = 0; t < m; t++) f[t] = (float)v[t];
    if (j->kind == CMX_RAND_UNIFORM) {
      /* Rounding may reach b: clamp to the largest value below it, in the
       * output's own precision. */
      float hi = (float)j->b;
      for (size_t t = 0; t < m; t++)
        if (f[t] >= hi && j->b > j->a) f[t] = nextafterf(hi, (float)j->a);
    }
    if (j->d == CMX_F32) {
      memcpy(o, f, m * 4);
    } else {
      int op = j->d == CMX_F16 ? CMX_CVT_F32_F16 : CMX_CVT_F32_BF16;
      j->cvt[op](m, f, o);
      if (j->kind == CMX_RAND_UNIFORM) {
        /* The 16-bit rounding may reach b too: step down one unit. */
        uint16_t *h = (uint16_t *)o;
        float back[CH];
        j->cvt[j->d == CMX_F16 ? CMX_CVT_F16_F32 : CMX_CVT_BF16_F32](m, h,
                                                                       back);
        for (size_t t = 0; t < m; t++)
          if (back[t] >= (float)j->b && j->b > j->a)
            h[t] = (uint16_t)(h[t] + ((h[t] & 0x8000) ? 1 : -1));
      }
    }
  }
}

void cmx_random_fill(void *out, cmx_dtype d, size_t n,
                     enum cmx_rand_kind kind, const uint32_t key[2],
                     double a, double b, const cmx_cvt_ukr_fn *cvt,
                     int nthreads) {
  struct rjob j = {out, d, n, kind, {key[0], key[1]}, a, b, cvt};
  cmx_parallel_for(nthreads, (n + CH - 1) / CH, 1, 256, fill_range, &j);
}
