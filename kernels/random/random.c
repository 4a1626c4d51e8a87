/* Threefry-2x32-20 and the fills built on it (contract in random.h). Work
 * is split in whole 64-element chunks, each computed from its own indices,
 * so the split never changes a bit: f32 and narrower by the level's fill
 * microkernel, f64 by the loop below. */
#include <math.h>
#include <string.h>

#include "../../sched/sched.h"
#include "random.h"

struct rjob { void *out; cmx_dtype d; size_t n; enum cmx_rand_kind kind;
              uint32_t key[2]; double a, b; cmx_rng_ukr_fn ukr;
              const cmx_cvt_ukr_fn *cvt; };

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
 * an f64 chunk's blocks computed four at a time. */
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

/* Chunks [cb, ce) of an f32, f16, bf16 or uint32 fill: the microkernel on
 * pieces of up to PIECE elements that never cross a 2^32-block boundary
 * (its contract); 16-bit outputs from an f32 piece on the stack. 16M
 * elements, 1 thread, Zen 5 VM, the old loop (four blocks at a time in
 * 128-bit vectors, values in double, libm's log / cos / sin) -> the
 * AVX-512 kernel: f32 uniform 89 -> 4.2 ms, normal 320 -> 9.5 ms. */
#define PIECE 4096
static void fill_kernel(const struct rjob *j, size_t cb, size_t ce) {
  const float a = (float)j->a;
  const float d = j->kind == CMX_RAND_NORMAL ? (float)j->b : (float)(j->b - j->a);
  const float prm[4] = {a, d, (float)j->b, nextafterf((float)j->b, a)};
  const uint64_t wrap = (uint64_t)1 << 33; /* elements per 2^32 blocks */
  const size_t end = ce * CH < j->n ? ce * CH : j->n;
  for (size_t e = cb * CH; e < end;) {
    size_t m = end - e < PIECE ? end - e : PIECE;
    const uint64_t lim = wrap - (uint64_t)e % wrap;
    if (m > lim) m = (size_t)lim;
    if (j->d == CMX_F32 || j->kind == CMX_RAND_BITS) {
      j->ukr(j->key, e, m, (int)j->kind, prm, (uint32_t *)j->out + e);
      e += m;
      continue;
    }
    float f[PIECE];
    uint16_t *h = (uint16_t *)j->out + e;
    j->ukr(j->key, e, m, (int)j->kind, prm, f);
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
    uint32_t W0[CH], W1[CH], X0[CH], X1[CH];
    blocks(j, bb, nbk, 0, W0, W1);
    if (normal) blocks(j, bb, nbk, 1ull << 63, X0, X1);
    uint64_t have = UINT64_MAX; /* the pair whose r, th are held */
    double r = 0.0, th = 0.0;
    for (size_t t = 0; t < m; t++) {
      uint64_t i = i0 + t;
      const size_t q = (size_t)((normal ? i / 2 : i) - bb);
      if (!normal) {
        double u = (double)((((uint64_t)W0[q] << 32) | W1[q]) >> 11) *
                   (1.0 / 9007199254740992.0);
        v[t] = j->a + (j->b - j->a) * u;
        if (v[t] >= j->b && j->b > j->a) v[t] = nextafter(j->b, j->a);
        continue;
      }
      if (have != i / 2) {
        have = i / 2;
        /* u1 in (0, 1] keeps log finite; u2 in [0, 1). */
        double u1 = ((double)(((uint64_t)W0[q] << 21) ^ (X0[q] >> 11)) + 1.0) *
                    (1.0 / 9007199254740992.0);
        double u2 = (double)(((uint64_t)W1[q] << 21) ^ (X1[q] >> 11)) *
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
