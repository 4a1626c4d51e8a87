/* Threefry-2x32-20 and the fills built on it (contract in random.h). Work
 * is split in whole 64-element chunks, each computed from its own indices,
 * so the split never changes a bit. */
#include <math.h>
#include <string.h>

#include "../../sched/sched.h"
#include "random.h"

static inline uint32_t rotl(uint32_t x, int r) {
  return (x << r) | (x >> (32 - r));
}

void cmx_threefry2x32(const uint32_t key[2], const uint32_t ctr[2],
                      uint32_t out[2]) {
  static const int R[8] = {13, 15, 26, 6, 17, 29, 16, 24};
  uint32_t ks[3] = {key[0], key[1], 0x1BD11BDAu ^ key[0] ^ key[1]};
  uint32_t x0 = ctr[0] + ks[0], x1 = ctr[1] + ks[1];
  for (int r = 0; r < 20; r++) {
    x0 += x1;
    x1 = rotl(x1, R[r % 8]);
    x1 ^= x0;
    if (r % 4 == 3) { /* key injection s after every fourth round */
      int s = r / 4 + 1;
      x0 += ks[s % 3];
      x1 += ks[(s + 1) % 3] + (uint32_t)s;
    }
  }
  out[0] = x0;
  out[1] = x1;
}

struct rjob { void *out; cmx_dtype d; size_t n; enum cmx_rand_kind kind;
              uint32_t key[2]; double a, b; const cmx_cvt_ukr_fn *cvt; };

#define CH 64

static void block(const struct rjob *j, uint64_t blk, uint32_t w[2]) {
  uint32_t c[2] = {(uint32_t)blk, (uint32_t)(blk >> 32)};
  cmx_threefry2x32(j->key, c, w);
}

static void fill_range(void *ctx, size_t cb, size_t ce) {
  const struct rjob *j = ctx;
  size_t esz = cmx_dtype_size(j->d);
  for (size_t ch = cb; ch < ce; ch++) {
    size_t i0 = ch * CH, m = j->n - i0 < CH ? j->n - i0 : CH;
    float f[CH];
    double v[CH];
    /* Elements 2b and 2b + 1 share block b (and a normal pair its r and
     * theta): computed once for the pair, not once per element. The same
     * values as before, half the Threefry work. */
    uint64_t have = UINT64_MAX; /* the block in w, r, th */
    uint32_t w[2];
    double r = 0.0, th = 0.0;
    for (size_t t = 0; t < m; t++) {
      uint64_t i = i0 + t;
      if (j->kind == CMX_RAND_BITS) {
        if (have != i / 2) block(j, i / 2, w), have = i / 2;
        ((uint32_t *)j->out)[i] = w[i % 2];
        continue;
      }
      if (j->kind == CMX_RAND_NORMAL) {
        if (have != i / 2) {
          have = i / 2;
          block(j, i / 2, w);
          /* u1 in (0, 1] keeps log finite; u2 in [0, 1). */
          double u1 = ((double)(w[0] >> 8) + 1.0) * (1.0 / 16777216.0);
          double u2 = (double)(w[1] >> 8) * (1.0 / 16777216.0);
          if (j->d == CMX_F64) {
            uint32_t w2[2];
            block(j, (i / 2) | (1ull << 63), w2);
            u1 = ((double)(((uint64_t)w[0] << 21) ^ (w2[0] >> 11)) + 1.0) *
                 (1.0 / 9007199254740992.0);
            u2 = (double)(((uint64_t)w[1] << 21) ^ (w2[1] >> 11)) *
                 (1.0 / 9007199254740992.0);
          }
          r = sqrt(-2.0 * log(u1)), th = 2.0 * M_PI * u2;
        }
        v[t] = j->a + j->b * (i % 2 ? r * sin(th) : r * cos(th));
      } else if (j->d == CMX_F64) {
        block(j, i, w), have = UINT64_MAX; /* a block an element */
        double u = (double)((((uint64_t)w[0] << 32) | w[1]) >> 11) *
                   (1.0 / 9007199254740992.0);
        v[t] = j->a + (j->b - j->a) * u;
        if (v[t] >= j->b && j->b > j->a) v[t] = nextafter(j->b, j->a);
      } else {
        if (have != i / 2) block(j, i / 2, w), have = i / 2;
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
