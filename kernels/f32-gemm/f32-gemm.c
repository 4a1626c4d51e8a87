/* The f32 GEMM driver (contract in f32-gemm.h), BLIS-style: the five loops
 * jc (NC columns of B, L3), pc (KC deep), ic (MC rows of A, L2), jr (NR),
 * ir (MR) around the microkernel, with A and B packed from any strides and
 * f16/bf16 converted to f32 while packing (through the cvt microkernels),
 * or, where the table has a bf16 pair microkernel (avx512bf16 level), bf16
 * x bf16 packed as k-pairs for it.
 * Work is split over m and n only (a 2-D grid of ic x jc ways, or whole
 * batches), never over k, so every element of C sees the same sequence of
 * microkernel calls whatever the thread count. m == 1 or n == 1 takes a
 * GEMV path that streams the matrix once; tiny problems take one thread
 * and do not pack B; skinny A (m <= 32) streams B unpacked; row-major f32
 * A is not packed when k fits one KC block (the microkernel reads it in
 * place); the last rows of a part may run on the skinny tile (tail). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/tuning.h"
#include "kernels/common/amx-blocks.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/common/prefetch.h"
#include "sched/sched.h"

/* Small-problem threshold in flops (2 m n k): below it one thread runs and
 * B is not packed. Measured with a /tmp harness (median of 51 cmx_matmul +
 * cmx_eval calls, 2 threads, AVX-512 level, CMX_GEMM_SMALL=0 against
 * CMX_GEMM_SMALL=1e12 in one run on the shared 2-core Xeon VM): the
 * one-thread unpacked path was 10-17% faster at 32^3..96^3 (64K..1.8M
 * flops) and still 8% at 128^3 under load from other jobs; 1M flops (64^3)
 * is the conservative crossover for an idle second core. CMX_GEMM_SMALL or
 * the tuning key "small" overrides it. */
#define SMALL_FLOPS_DEFAULT (1u << 20)

/* ---- tuning: built-in from cache sizes, then the tuning file, then env ---- */
struct tuning {
  size_t mc, kc, nc; /* 0: not set */
  int split;         /* 0 auto, 1 ic (m), 2 jc (n) */
  double small;      /* < 0: not set */
  size_t mr, nr;     /* file key "tile = MRxNR": the file's mc/kc/nc apply
                        only to that tile (0: to any) */
  int scalar_pack;   /* "pack = scalar": not the pack microkernel (A/B) */
  long narrow_n;     /* "narrow_b_n": A read in place for n up to it, any
                        depth (< 0: not set, which is 0: off) */
  size_t narrow_kc;  /* "narrow_kc": kc of that case (0: not set, kc) */
  size_t short_m;    /* "short_a_m": A of at most this many rows with B
                        packed takes short_kc (0: not set, off) */
  size_t short_kc;   /* "short_a_kc": kc of that case (0: not set, kc) */
  size_t amx_mc, amx_kc, amx_nc; /* the AMX path's blocks (0: not set) */
  size_t rowacc_m;   /* "rowacc_m": the row fold's most rows of A against
                        a large f32 B (0: not set, the config's) */
};
/* every key unset (the fields not named are 0) */
#define TUNING_UNSET {.small = -1.0, .narrow_n = -1}
static struct tuning g_file = TUNING_UNSET, g_env = TUNING_UNSET;
static pthread_once_t g_tune_once = PTHREAD_ONCE_INIT;

static void tune_set(struct tuning *t, const char *key, const char *val) {
  char *end;
  double v = strtod(val, &end);
  int num = end != val;
  if (!strcmp(key, "mc") && num && v > 0) t->mc = (size_t)v;
  else if (!strcmp(key, "kc") && num && v > 0) t->kc = (size_t)v;
  else if (!strcmp(key, "nc") && num && v > 0) t->nc = (size_t)v;
  else if (!strcmp(key, "small") && num && v >= 0) t->small = v;
  else if (!strcmp(key, "tile") && num && *end == 'x' && v > 0)
    t->mr = (size_t)v, t->nr = (size_t)strtoul(end + 1, NULL, 10);
  else if (!strcmp(key, "narrow_b_n") && num && v >= 0) t->narrow_n = (long)v;
  else if (!strcmp(key, "narrow_kc") && num && v > 0)
    t->narrow_kc = (size_t)v;
  else if (!strcmp(key, "short_a_m") && num && v > 0) t->short_m = (size_t)v;
  else if (!strcmp(key, "short_a_kc") && num && v > 0)
    t->short_kc = (size_t)v;
  else if (!strcmp(key, "amx_mc") && num && v > 0) t->amx_mc = (size_t)v;
  else if (!strcmp(key, "amx_kc") && num && v > 0) t->amx_kc = (size_t)v;
  else if (!strcmp(key, "amx_nc") && num && v > 0) t->amx_nc = (size_t)v;
  else if (!strcmp(key, "rowacc_m") && num && v > 0)
    t->rowacc_m = (size_t)v;
  else if (!strcmp(key, "pack"))
    t->scalar_pack = !strcmp(val, "scalar");
  else if (!strcmp(key, "split"))
    t->split = !strncmp(val, "ic", 2) || !strncmp(val, "m", 1) ? 1
               : !strncmp(val, "jc", 2) || !strncmp(val, "n", 1) ? 2 : 0;
}

/* The tuning file: lines "key = value" (or "key value"), '#' comments;
 * keys tile (MRxNR the values were tuned for), mc, kc, nc, split (auto |
 * ic | jc), small (flops), narrow_b_n (columns), narrow_kc (the kc of
 * that case), short_a_m (rows), short_a_kc (the kc of that case) and
 * rowacc_m (rows); like mc, kc and nc the last five apply to the file's
 * tile only.
 * Unknown keys are ignored so one file can carry other families' knobs.
 * The env CMX_GEMM_* override it. */
static void tune_load(void) {
  FILE *f = cmx_tuning_open();
  char key[32], val[64];
  while (cmx_tuning_next(f, key, val)) tune_set(&g_file, key, val);
  if (f) fclose(f);
  static const char *const env[][2] = {{"CMX_GEMM_MC", "mc"},
                                       {"CMX_GEMM_KC", "kc"},
                                       {"CMX_GEMM_NC", "nc"},
                                       {"CMX_GEMM_SPLIT", "split"},
                                       {"CMX_GEMM_SMALL", "small"},
                                       {"CMX_GEMM_PACK", "pack"},
                                       {"CMX_GEMM_NARROW_B_N",
                                        "narrow_b_n"},
                                       {"CMX_GEMM_NARROW_KC", "narrow_kc"},
                                       {"CMX_GEMM_SHORT_A_M", "short_a_m"},
                                       {"CMX_GEMM_SHORT_A_KC",
                                        "short_a_kc"},
                                       {"CMX_GEMM_AMX_MC", "amx_mc"},
                                       {"CMX_GEMM_AMX_KC", "amx_kc"},
                                       {"CMX_GEMM_AMX_NC", "amx_nc"},
                                       {"CMX_GEMM_ROWACC_M", "rowacc_m"}};
  for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
    const char *v = getenv(env[i][0]);
    if (v && *v) tune_set(&g_env, env[i][1], v);
  }
}

/* Whether the file's tile-bound keys (mc, kc, nc, narrow_b_n, narrow_kc,
 * short_a_m, short_a_kc, rowacc_m) apply to cfg: the file names no tile,
 * or cfg's. */
static int file_tile(const struct cmx_gemm_config *cfg) {
  return !g_file.mr || (g_file.mr == cfg->mr && g_file.nr == cfg->nr);
}

/* The file's block size for cfg (0 when unset or tuned for another tile)
 * under the env's. */
static size_t tuned(const struct cmx_gemm_config *cfg, size_t env,
                    size_t file) {
  return env ? env : file_tile(cfg) ? file : 0;
}

/* The widest B whose A is read in place at any depth: env, file (for the
 * file's tile only, as its block sizes), else 0 (off). On by measurement
 * only: the Zen 5 VM gained (2048x4096x128 232 -> 257 GFLOP/s, one thread)
 * where the 16-core Xeon lost (138 against 143 on one thread, 826 against
 * 1103 on 16); the 2-core Xeon VM gains at kc 1536 (narrow_kc), and lost
 * 25% at its AVX2 tile's kc (CMX_ISA=avx2, 2048x4096x128 95-97 -> 72-73)
 * when the file's value still applied there. */
static size_t narrow_b_n(const struct cmx_gemm_config *cfg) {
  if (g_env.narrow_n >= 0) return (size_t)g_env.narrow_n;
  return file_tile(cfg) && g_file.narrow_n >= 0 ? (size_t)g_file.narrow_n
                                                : 0;
}

/* The small-problem threshold (flops): env, file, built-in. */
static double small_flops(void) {
  return g_env.small >= 0    ? g_env.small
         : g_file.small >= 0 ? g_file.small
                             : SMALL_FLOPS_DEFAULT;
}

/* The first block size set (non-zero) of: the config's (tests), the
 * env's, the tuning file's; else dflt. */
static size_t first_set(size_t cfg, size_t env, size_t file, size_t dflt) {
  return cfg ? cfg : env ? env : file ? file : dflt;
}

static size_t round_down(size_t x, size_t r) { return x / r * r; }
static size_t round_up(size_t x, size_t r) { return (x + r - 1) / r * r; }
/* Whether f32 rows ld floats apart are a multiple of 4 KiB apart: such
 * rows fall into the same L1 sets. */
static int rows_share_sets(size_t ld) { return ld % 1024 == 0; }

/* Each thread keeps the blocking of the last config it asked for: once
 * the tuning is loaded it is a function of the config's tile and block
 * fields alone (the key: a table refilled in place, by cmx_set_isa, gives
 * another key), and computing it (the lookups and four divisions) was 137
 * of a 32^3 product's instructions outside the microkernels (callgrind). */
static _Thread_local struct {
  size_t key[5]; /* mr, nr, mc, kc, nc of the config; mr 0: empty */
  size_t mc, kc, nc;
  int split;
} tls_blocking;

static void blocking(const struct cmx_gemm_config *cfg, size_t *mc,
                     size_t *kc, size_t *nc, int *split);

void cmx_f32_gemm_blocking(const struct cmx_gemm_config *cfg, size_t *mc,
                           size_t *kc, size_t *nc, int *split) {
  const size_t key[5] = {cfg->mr, cfg->nr, cfg->mc, cfg->kc, cfg->nc};
  if (memcmp(key, tls_blocking.key, sizeof key) != 0) {
    blocking(cfg, &tls_blocking.mc, &tls_blocking.kc, &tls_blocking.nc,
             &tls_blocking.split);
    memcpy(tls_blocking.key, key, sizeof key);
  }
  *mc = tls_blocking.mc, *kc = tls_blocking.kc, *nc = tls_blocking.nc;
  if (split) *split = tls_blocking.split;
}

static void blocking(const struct cmx_gemm_config *cfg, size_t *mc,
                     size_t *kc, size_t *nc, int *split) {
  pthread_once(&g_tune_once, tune_load);
  const struct cmx_topo *topo = cmx_topo();
  size_t l1 = topo->l1d, l2 = topo->l2, l3 = topo->l3;
  /* KC: the B micro-panel (kc x nr) fills about half of L1, the other half
   * streams A micro-panels and C. MC: the A block (mc x kc) fills about
   * half of L2. NC: the B block (kc x nc) of each of two threads takes a
   * quarter of L3, at most 8192. An L2-sized B block (nc 1024) helped
   * skinny shapes on the noisy 2-core VM (32x4096x11008: 23 -> 36 GFLOP/s)
   * but cost 10% on 2048^3 on the quiet 16-core Xeon (136 -> 122 GFLOP/s,
   * with no skinny gain there): the VM gets it from its tuning file. */
  size_t k = tuned(cfg, g_env.kc, g_file.kc);
  if (!k) k = cfg->kc;
  if (!k) k = round_down(l1 / 2 / (cfg->nr * sizeof(float)), 16);
  if (k < 16) k = 16;
  size_t m = tuned(cfg, g_env.mc, g_file.mc);
  if (!m) m = cfg->mc;
  if (!m) m = l2 / 2 / (k * sizeof(float));
  m = round_down(m, cfg->mr);
  if (m < cfg->mr) m = cfg->mr;
  size_t n = tuned(cfg, g_env.nc, g_file.nc);
  if (!n) n = cfg->nc;
  if (!n) n = l3 / 4 / (k * sizeof(float));
  if (n > 8192) n = 8192;
  n = round_down(n, cfg->nr);
  if (n < cfg->nr) n = cfg->nr;
  *mc = m, *kc = k, *nc = n;
  *split = g_env.split ? g_env.split : g_file.split;
}

/* ---- per-thread workspace: sched's scratch, kept between calls ---- */
static float *ws_get(size_t nfloats) {
  return cmx_scratch(CMX_SCRATCH_GEMM, nfloats * sizeof(float));
}

/* ---- packing ---- */
/* One operand seen as rows along the panel dimension (m of A, n of B) and
 * columns along k: element (q, p) at base + q * sq + p * sk elements. */
struct src {
  const void *data;
  enum cmx_gemm_dtype dt;
  ptrdiff_t base, sq, sk;
  cmx_cvt_ukr_fn cvt; /* 16-bit -> f32, NULL for f32 */
};

static const float *f32_at(const struct src *s, ptrdiff_t e) {
  return (const float *)s->data + e;
}
static const uint16_t *u16_at(const struct src *s, ptrdiff_t e) {
  return (const uint16_t *)s->data + e;
}

/* n elements starting at element e with stride st, as contiguous f32:
 * a direct pointer when they already are, else gathered / converted into
 * tmp (tmp16 holds a 16-bit gather). */
static const float *line(const struct src *s, ptrdiff_t e, ptrdiff_t st,
                         size_t n, float *tmp, uint16_t *tmp16) {
  if (s->dt == CMX_GEMM_F32) {
    if (st == 1) return f32_at(s, e);
    const float *x = f32_at(s, e);
    for (size_t i = 0; i < n; i++) tmp[i] = x[(ptrdiff_t)i * st];
    return tmp;
  }
  const uint16_t *x = u16_at(s, e);
  if (st != 1) {
    for (size_t i = 0; i < n; i++) tmp16[i] = x[(ptrdiff_t)i * st];
    x = tmp16;
  }
  s->cvt(n, x, tmp);
  return tmp;
}

/* Packs rows [q0, q0 + len) x columns [p0, p0 + kc) into panels of r rows:
 * dst[(q / r) * r * kc + p * r + q % r], the last panel zero-padded.
 * tmp holds 4 max(len, kc) elements, tmp16 max(len, kc). */
static void pack(const struct src *s, size_t q0, size_t len, size_t p0,
                 size_t kc, size_t r, float *dst, float *tmp,
                 uint16_t *tmp16, const struct cmx_gemm_config *cfg) {
  ptrdiff_t e0 = s->base + (ptrdiff_t)q0 * s->sq + (ptrdiff_t)p0 * s->sk;
  if (s->dt == CMX_GEMM_F32 && s->sk == 1 && s->sq > 0 && cfg->pack &&
      cfg->pack_r && !g_env.scalar_pack && !g_file.scalar_pack) {
    /* Row-major f32 (A, or a transposed B): the pack microkernel
     * transposes rows into each panel, pack_r lanes at a time. */
    const float *x = f32_at(s, e0);
    for (size_t q = 0; q < len; q += r) {
      size_t w = len - q < r ? len - q : r;
      float *d = dst + q * kc;
      for (size_t c = 0; c < r; c += cfg->pack_r) {
        size_t rr = r - c < cfg->pack_r ? r - c : cfg->pack_r;
        size_t mm = w > c ? (w - c < rr ? w - c : rr) : 0;
        cfg->pack(rr, mm, kc, x + (q + c) * (size_t)s->sq, (size_t)s->sq,
                  d + c, r);
      }
    }
    return;
  }
  if (s->dt != CMX_GEMM_F32 && s->sk == 1 && cfg->pack && cfg->pack_r &&
      !g_env.scalar_pack && !g_file.scalar_pack) {
    /* 16-bit rows contiguous along k (A, or a transposed B): up to pack_r
     * rows of one panel converted by the cvt kernel into tmp (row stride
     * kc), then transposed into the panel by the pack kernel, so no scalar
     * loop touches the block. tmp holds min(pack_r, r) * kc floats. */
    for (size_t q = 0; q < len; q += r) {
      size_t w = len - q < r ? len - q : r;
      for (size_t c = 0; c < r; c += cfg->pack_r) {
        size_t rr = r - c < cfg->pack_r ? r - c : cfg->pack_r;
        size_t mm = w > c ? (w - c < rr ? w - c : rr) : 0;
        for (size_t u = 0; u < mm; u++)
          s->cvt(kc, u16_at(s, e0 + (ptrdiff_t)(q + c + u) * s->sq),
                 tmp + u * kc);
        cfg->pack(rr, mm, kc, tmp, kc, dst + q * kc + c, r);
      }
    }
    return;
  }
  if (s->sq == 1) {
    /* Unit stride along the panel: each k-column is a contiguous line.
     * Whole panels of a multiple of 4 lanes go by fixed 16-byte copies,
     * which the compiler inlines: a memcpy call per 32-float panel row
     * took 10% of 64 x (128,64)@(64,128) on the 2-core VM. f32 lines go
     * four at a time, so each panel takes four rows in a row: one line at
     * a time wrote a row to every panel, kc r floats apart (48 KiB at kc
     * 384: one L1 set). 2-core Xeon VM, 1 thread, 128x768x3072 (pack 19%
     * of the samples): 4.24-4.34 -> 4.16-4.24 ms; the rest of the pack's
     * time is B's read from memory (its samples sit on the loads; software
     * prefetch 4-16 rows ahead measured even). 16-bit lines are converted
     * four at a time too, each into its own len floats of tmp (32x4096 @
     * 4096x4096 bf16, 1 / 2 threads, interleaved runs: 17.4-18.3 / 7.5 ->
     * 15.6-16.5 / 6.6 ms; 1024^3 bf16 and 128x768x3072 f16 even). */
    const size_t pb = 4;
    for (size_t p = 0; p < kc; p += pb) {
      const size_t np = kc - p < pb ? kc - p : pb;
      const float *x[4];
      for (size_t u = 0; u < np; u++)
        x[u] = line(s, e0 + (ptrdiff_t)(p + u) * s->sk, 1, len, tmp + u * len,
                    tmp16);
      for (size_t q = 0; q < len; q += r) {
        size_t w = len - q < r ? len - q : r;
        for (size_t u = 0; u < np; u++) {
          float *d = dst + q * kc + (p + u) * r;
          if (w == r && r % 4 == 0) {
            for (size_t i = 0; i < r; i += 4)
              memcpy(d + i, x[u] + q + i, 4 * sizeof(float));
            continue;
          }
          memcpy(d, x[u] + q, w * sizeof(float));
          for (size_t i = w; i < r; i++) d[i] = 0.0f;
        }
      }
    }
    return;
  }
  /* Otherwise walk rows (contiguous along k when sk == 1) and scatter each
   * into its panel with stride r, four rows at a time where they share a
   * panel. tmp / tmp16 hold 4 kc elements here. */
  size_t q = 0;
  while (q < len) {
    float *d = dst + (q / r) * r * kc + q % r;
    if (q + 4 <= len && q % r + 4 <= r) {
      const float *x[4];
      for (int u = 0; u < 4; u++)
        x[u] = line(s, e0 + (ptrdiff_t)(q + u) * s->sq, s->sk, kc,
                    tmp + u * kc, tmp16 + u * kc);
      for (size_t p = 0; p < kc; p++) {
        d[p * r + 0] = x[0][p];
        d[p * r + 1] = x[1][p];
        d[p * r + 2] = x[2][p];
        d[p * r + 3] = x[3][p];
      }
      q += 4;
    } else {
      const float *y = line(s, e0 + (ptrdiff_t)q * s->sq, s->sk, kc, tmp,
                            tmp16);
      for (size_t p = 0; p < kc; p++) d[p * r] = y[p];
      q++;
    }
  }
  for (; q % r; q++) {
    float *d = dst + (q / r) * r * kc + q % r;
    for (size_t p = 0; p < kc; p++) d[p * r] = 0.0f;
  }
}

/* ---- bf16 k-pair packing (cfg->bf16_ukr, both operands bf16) ---- */
/* Packs rows [q0, q0 + len) x columns [p0, p0 + kc) of a bf16 operand as
 * k-pairs (layout in f32-gemm.h): word (q, p2) holds elements (q, 2 p2) and
 * (q, 2 p2 + 1) at dst[(q / r) * r * kpp + p2 * r + q % r], kp = ceil(kc /
 * 2) <= kpp (the panel's pair rows; rows kp..kpp-1 are zero, the AMX
 * kernel's padding to whole tiles); the last panel's missing rows and an
 * odd kc's high halves are zero.
 * Unit stride along the panel (row-major B, column-major A): the zip kernel
 * interleaves two k-lines. Unit stride along k in whole words (row-major A
 * with an even row stride, even kc): each row already is its pairs, and the
 * f32 pack kernel transposes them into the panel as 32-bit words (it only
 * moves bits). Otherwise pack_r rows at a time are copied or gathered into
 * tmp16 as rows of kp words, an odd kc's last half zeroed, and transposed
 * the same way. tmp16 holds pack_r * (kc + 1) elements. */
static void pack_pairs(const struct src *s, size_t q0, size_t len, size_t p0,
                       size_t kc, size_t r, size_t kpp, uint32_t *dst,
                       uint16_t *tmp16, const struct cmx_gemm_config *cfg) {
  ptrdiff_t e0 = s->base + (ptrdiff_t)q0 * s->sq + (ptrdiff_t)p0 * s->sk;
  const uint16_t *x = u16_at(s, e0);
  size_t kp = (kc + 1) / 2;
  if (kpp > kp) /* pair rows past the operand's depth: zero */
    for (size_t q = 0; q < len; q += r)
      memset(dst + q * kpp + kp * r, 0, (kpp - kp) * r * sizeof(uint32_t));
  if (s->sq == 1) {
    for (size_t p2 = 0; p2 < kp; p2++) {
      const uint16_t *x0 = x + (ptrdiff_t)(2 * p2) * s->sk;
      const uint16_t *x1 = 2 * p2 + 1 < kc ? x0 + s->sk : NULL;
      for (size_t q = 0; q < len; q += r) {
        size_t w = len - q < r ? len - q : r;
        uint32_t *d = dst + q * kpp + p2 * r;
        cfg->bf16_zip(w, x0 + q, x1 ? x1 + q : NULL, d);
        for (size_t i = w; i < r; i++) d[i] = 0;
      }
    }
    return;
  }
  /* Whole words only from a 4-byte aligned start: the pack kernel reads
   * them as floats (an odd element offset is left to the copy below). */
  int words = s->sk == 1 && s->sq > 0 && s->sq % 2 == 0 && kc % 2 == 0 &&
              (uintptr_t)x % sizeof(float) == 0;
  for (size_t q = 0; q < len; q += r) {
    size_t w = len - q < r ? len - q : r;
    for (size_t c = 0; c < r; c += cfg->pack_r) {
      size_t rr = r - c < cfg->pack_r ? r - c : cfg->pack_r;
      size_t mm = w > c ? (w - c < rr ? w - c : rr) : 0;
      float *d = (float *)(dst + q * kpp + c);
      if (words) {
        cfg->pack(rr, mm, kp, (const float *)(x + (q + c) * (size_t)s->sq),
                  (size_t)s->sq / 2, d, r);
        continue;
      }
      for (size_t u = 0; u < mm; u++) {
        const uint16_t *y = x + (ptrdiff_t)(q + c + u) * s->sq;
        uint16_t *t = tmp16 + u * 2 * kp;
        if (s->sk == 1)
          memcpy(t, y, kc * sizeof(uint16_t));
        else
          for (size_t p = 0; p < kc; p++) t[p] = y[(ptrdiff_t)p * s->sk];
        if (kc % 2) t[kc] = 0;
      }
      cfg->pack(rr, mm, kp, (const float *)tmp16, kp, d, r);
    }
  }
}

/* ---- the blocked GEMM of one thread's part of C ---- */
struct job {
  const struct cmx_gemm_config *cfg;
  const struct cmx_gemm_problem *p;
  size_t mc, kc, nc;
  cmx_f32_gemm_ukr_fn ukr; /* cfg->ukr or cfg->skinny_ukr */
  size_t mr, nr;           /* its tile */
  cmx_f32_gemm_ukr_fn tail_ukr; /* the last rows of a part (NULL: none) */
  size_t tail_mr;               /* its rows (same nr) */
  int direct;      /* 1: A read unpacked by the microkernel (aux.lda) */
  int cdirect;     /* 1: a 16-bit A with k contiguous, each block's whole
                      tiles converted to row-major f32 rows (cw) that the
                      microkernel reads as it reads a direct A */
  size_t tm, tn;   /* thread grid: ic ways x jc ways */
  size_t malign;   /* rows of the ic split: a multiple of this */
  int batch_split; /* 1: threads take whole batches */
  size_t batch_step; /* batch_split: batches a take of the counter */
  /* batch_split: the next batch not yet taken; every thread increments
   * it, so it has its own cache line */
  _Alignas(64) atomic_size_t next_batch;
  int small;       /* 1: B used unpacked (small, skinny and short-A paths) */
  atomic_int failed; /* set by any thread whose workspace failed */
  int pairs;         /* 1: bf16 x bf16 on k-pairs (cfg->bf16_ukr) */
  int amx;           /* 1: bf16 x bf16 on AMX tiles (cfg->bf16_amx) */
};

static struct src src_a(const struct cmx_gemm_problem *p, size_t t) {
  struct src s = {p->a.data, p->a.dtype, p->a.boff ? p->a.boff[t] : 0,
                  p->a.rs, p->a.cs,
                  p->a.dtype == CMX_GEMM_F16 ? p->cvt_f16 : p->cvt_bf16};
  return s;
}
static struct src src_b(const struct cmx_gemm_problem *p, size_t t) {
  struct src s = {p->b.data, p->b.dtype, p->b.boff ? p->b.boff[t] : 0,
                  p->b.cs, p->b.rs,
                  p->b.dtype == CMX_GEMM_F16 ? p->cvt_f16 : p->cvt_bf16};
  return s;
}

/* Rows at the end of a part of `rows` rows that the tail microkernel runs
 * (0: none): up to three of its tiles where that computes fewer padded
 * rows than the main tile alone, each of its rows counted 20% dearer (it
 * loads more per FMA; perf on 64 x (128,64)@(64,128): 8x32 took 11.9% of
 * the samples for 16 rows, 14x32 70.0% for 112, 1.19x per row). m = 128
 * on 14x32 + 8x32: 8 x 14 + 2 x 8 rows, no padding, instead of 10 x 14
 * (140 rows of FMAs). *cost (if not NULL): the part's work in those
 * rows of the main tile. */
static size_t tail_rows(const struct job *j, size_t rows, double *cost) {
  size_t best = 0, mr = j->mr, tmr = j->tail_mr;
  double bc = (double)round_up(rows, mr);
  for (size_t u = 1; j->tail_ukr && u <= 3; u++) {
    size_t tl = u * tmr < rows ? u * tmr : rows;
    double c = (double)round_up(rows - tl, mr) +
               1.2 * (double)round_up(tl, tmr);
    if (c < bc - 1e-9) best = tl, bc = c;
    if (tl == rows) break;
  }
  if (cost) *cost = bc;
  return best;
}

/* The row split of tm ways, aligned to the main tile's rows or to the
 * tail tile's, whose slowest part (in FMA rows, tail_rows) is smaller:
 * 128 rows on 14x32 + 8x32 split as 70 + 58 left one of two threads 70
 * rows of work against 64 + 64 at 8 (4 x 14 + 8 each, 65.6). */
static size_t split_align(const struct job *j, size_t tm, double *slowest) {
  size_t aligns[2] = {j->mr, j->tail_ukr ? j->tail_mr : j->mr}, best = 0;
  double bc = -1;
  for (int i = 0; i < 2; i++) {
    double worst = 0;
    for (size_t t = 0; t < tm; t++) {
      size_t m0, m1;
      double c;
      cmx_range((int)t, (int)tm, j->p->m, aligns[i], &m0, &m1);
      tail_rows(j, m1 - m0, &c);
      if (c > worst) worst = c;
    }
    if (bc < 0 || worst < bc - 1e-9) bc = worst, best = aligns[i];
  }
  if (slowest) *slowest = bc;
  return best;
}

/* C[t][m0:m1, n0:n1] by the five loops. Returns -1 without workspace. */
static int gemm_part(const struct job *j, size_t t, size_t m0, size_t m1,
                     size_t n0, size_t n1) {
  const struct cmx_gemm_problem *p = j->p;
  const struct cmx_gemm_config *cfg = j->cfg;
  size_t mr = j->mr, nr = j->nr, k = p->k;
  if (m0 >= m1 || n0 >= n1) return 0;
  size_t tail = tail_rows(j, m1 - m0, NULL);
  size_t kc = j->kc < k ? j->kc : (k ? k : 1);
  size_t mc = j->mc < m1 - m0 ? j->mc : round_up(m1 - m0, mr);
  size_t nc = j->nc < n1 - n0 ? j->nc : round_up(n1 - n0, nr);
  size_t la = round_up(mc, mr) * kc, lb = j->small ? 0 : round_up(nc, nr) * kc;
  if (tail && round_up(tail, j->tail_mr) * kc > la)
    la = round_up(tail, j->tail_mr) * kc;
  size_t lt = 4 * (kc > mc ? (kc > nc ? kc : nc) : (mc > nc ? mc : nc));
  /* 16-bit operands: pack and pack_pairs stage up to min(pack_r, tile)
   * rows of kc (+ 1) elements */
  size_t rows = mr > nr ? mr : nr;
  rows = cfg->pack_r < rows ? cfg->pack_r : rows;
  if ((p->a.dtype != CMX_GEMM_F32 || p->b.dtype != CMX_GEMM_F32) && rows > 4)
    lt = rows * (lt / 4 + 1);
  /* cdirect: the converted rows, cld apart (never a multiple of 4 KiB) */
  const size_t cld = round_up(kc, 16) + 16, lc = j->cdirect ? mc * cld : 0;
  float *w = ws_get(la + lb + lt + lt / 2 + lc + 64);
  if (!w) return -1;
  float *ap = w, *bp = ap + la, *tmp = bp + lb;
  uint16_t *tmp16 = (uint16_t *)(tmp + lt);
  float *cw = (float *)(tmp16 + lt) + 16;
  struct src sa = src_a(p, t), sb = src_b(p, t);
  float *c = p->c + t * p->ldcb;
  struct cmx_f32_gemm_aux aux = {p->alpha, p->beta, 0,    mr,
                                 nr,       NULL,    0,    NULL, 0};
  const float *bu = NULL; /* unpacked B (small path) */
  if (j->small) {
    aux.ldb = (size_t)p->b.rs;
    bu = (const float *)p->b.data + sb.base;
  }
  /* unpacked A (direct): row-major f32, the whole depth in one block */
  const float *au = j->direct ? f32_at(&sa, sa.base) : NULL;
  size_t lda = j->direct ? (size_t)sa.sq : 0;
  for (size_t jc = n0; jc < n1; jc += nc) {
    size_t ncur = n1 - jc < nc ? n1 - jc : nc;
    for (size_t pc = 0; pc < k || pc == 0; pc += kc) {
      size_t kcur = k - pc < kc ? k - pc : kc;
      aux.beta = pc == 0 ? p->beta : 1.0f;
      size_t kw = j->pairs ? (kcur + 1) / 2 : kcur; /* words per k-line */
      if (j->pairs)
        pack_pairs(&sb, jc, ncur, pc, kcur, nr, kw, (uint32_t *)bp, tmp16,
                   cfg);
      else if (!j->small)
        pack(&sb, jc, ncur, pc, kcur, nr, bp, tmp, tmp16, cfg);
      /* the main tile's rows, then the tail tile's */
      for (int seg = 0; seg < 2; seg++) {
        size_t s0 = seg ? m1 - tail : m0, s1 = seg ? m1 : m1 - tail;
        size_t smr = seg ? j->tail_mr : mr;
        cmx_f32_gemm_ukr_fn ukr = seg ? j->tail_ukr : j->ukr;
        aux.mr = smr;
        for (size_t ic = s0; ic < s1; ic += mc) {
          size_t mcur = s1 - ic < mc ? s1 - ic : mc;
          /* direct: only a partial last panel is packed, at ap; cdirect:
           * the whole tiles' rows converted into cw first */
          size_t full =
              j->direct || j->cdirect ? round_down(mcur, smr) : 0;
          const float *abase = j->direct ? au + ic * lda + pc : cw;
          const size_t alda = j->direct ? lda : cld;
          for (size_t r = 0; j->cdirect && r < full; r++)
            sa.cvt(kcur, u16_at(&sa, sa.base + (ptrdiff_t)(ic + r) * sa.sq +
                                         (ptrdiff_t)pc * sa.sk),
                   cw + r * cld);
          if (j->pairs)
            pack_pairs(&sa, ic, mcur, pc, kcur, mr, kw, (uint32_t *)ap,
                       tmp16, cfg);
          else if (full < mcur)
            pack(&sa, ic + full, mcur - full, pc, kcur, smr, ap, tmp, tmp16,
                 cfg);
          /* Tiles jr outer, ir inner: a packed B panel stays in L1
           * while the row tiles pass. B read in place (small) and whole
           * in L1 goes ir outer: one panel's rows, ldb apart, fall into
           * few cache sets (512 B apart for 64 x (128,64)@(64,128): 16
           * of L1's 64), the whole block into all of them. That case, 1
           * thread, 2-core VM, interleaved: 147-151 -> 153-154 GFLOP/s;
           * 2 threads 298-300 -> 302-309. (The microkernel on L1-resident
           * operands, same tiles: 180-186.) */
          const size_t nj = (ncur + nr - 1) / nr, ni = (mcur + smr - 1) / smr;
          const int irout = j->small && !j->pairs &&
                            kcur * ncur * sizeof(float) <= cmx_topo()->l1d;
          /* (two loops: a division per tile was 5% of 65536x4 @ 4x4) */
          const size_t no = irout ? ni : nj, nq = irout ? nj : ni;
          for (size_t uo = 0; uo < no; uo++) {
            for (size_t uq = 0; uq < nq; uq++) {
              size_t jr = (irout ? uq : uo) * nr, ir = (irout ? uo : uq) * smr;
              size_t nrr = ncur - jr < nr ? ncur - jr : nr;
              const float *bpan = j->small ? bu + pc * aux.ldb + jc + jr
                                           : bp + jr * kw;
              size_t mrr = mcur - ir < smr ? mcur - ir : smr;
              float *ct = c + (ic + ir) * p->ldc + jc + jr;
              if (j->pairs) {
                aux.a_next = ir + mr < mcur ? ap + (ir + mr) * kw : ap;
                cfg->bf16_ukr(mrr, nrr, kcur,
                              (const uint32_t *)(ap + ir * kw),
                              (const uint32_t *)bpan, ct, p->ldc, &aux);
              } else if (ir < full) {
                const float *at = abase + ir * alda;
                aux.lda = alda;
                aux.a_next = ir + smr < full ? at + smr * alda : NULL;
                ukr(mrr, nrr, kcur, at, bpan, ct, p->ldc, &aux);
              } else {
                const float *at = ap + (ir - full) * kcur;
                aux.lda = 0;
                aux.a_next = ir + smr < mcur ? at + smr * kcur : ap;
                ukr(mrr, nrr, kcur, at, bpan, ct, p->ldc, &aux);
              }
            }
          }
        }
      }
      if (k == 0) break;
    }
  }
  return 0;
}

/* ---- bf16 x bf16 on AMX tiles (cfg->bf16_amx) ---- */
/* Cleared by cmx_f32_gemm_amx_allow(0): the bench's vdpbf16ps row. */
static atomic_int g_amx_on = 1;

void cmx_f32_gemm_amx_allow(int on) { atomic_store(&g_amx_on, on != 0); }
/* Rows [q0, q0 + len) x columns [p0, p0 + kc) of bf16 A as a row-major
 * block of round_up(len, 32) rows of kpad elements (kpad a multiple of 32
 * >= kc), zero past the operand: the AMX kernel loads whole tiles. */
static void pack_amx_a(const struct src *s, size_t q0, size_t len,
                       size_t p0, size_t kc, size_t kpad, uint16_t *dst) {
  size_t rows = round_up(len, 32);
  for (size_t q = 0; q < rows; q++) {
    uint16_t *d = dst + q * kpad;
    size_t done = 0;
    if (q < len) {
      const uint16_t *x = u16_at(s, s->base + (ptrdiff_t)(q0 + q) * s->sq +
                                        (ptrdiff_t)p0 * s->sk);
      if (s->sk == 1)
        memcpy(d, x, kc * sizeof(uint16_t));
      else
        for (size_t p = 0; p < kc; p++) d[p] = x[(ptrdiff_t)p * s->sk];
      done = kc;
    }
    memset(d + done, 0, (kpad - done) * sizeof(uint16_t));
  }
}

/* C[t][m0:m1, n0:n1] with the AMX kernel: the five loops of gemm_part on
 * a 32 x 32 tile; B packed as the pair path packs it (a whole block of
 * 32-column panels at once, pair rows padded with zeros to kpad / 2), A as
 * pack_amx_a blocks. Returns -1 without workspace. */
static int gemm_part_amx(const struct job *j, size_t t, size_t m0,
                         size_t m1, size_t n0, size_t n1) {
  const struct cmx_gemm_problem *p = j->p;
  const struct cmx_gemm_config *cfg = j->cfg;
  const size_t k = p->k;
  if (m0 >= m1 || n0 >= n1) return 0;
  size_t kc = j->kc < k ? j->kc : k, kmax = round_up(kc, 32);
  size_t mc = j->mc < m1 - m0 ? j->mc : round_up(m1 - m0, 32);
  size_t nc = j->nc < n1 - n0 ? j->nc : round_up(n1 - n0, 32);
  size_t la = mc * kmax / 2, lb = nc * kmax / 2; /* in floats */
  size_t lt = cfg->pack_r * (kc + 1) / 2 + 16;   /* pack_pairs' tmp16 */
  float *w = ws_get(la + lb + lt + 64);
  if (!w) return -1;
  uint16_t *ap = (uint16_t *)w, *tmp16 = (uint16_t *)(w + la + lb);
  uint32_t *bp = (uint32_t *)(w + la);
  struct src sa = src_a(p, t), sb = src_b(p, t);
  float *c = p->c + t * p->ldcb;
  struct cmx_f32_gemm_aux aux = {p->alpha, p->beta, 0,    32,
                                 32,       NULL,    0,    NULL, 0};
  cfg->amx_begin();
  for (size_t jc = n0; jc < n1; jc += nc) {
    size_t ncur = n1 - jc < nc ? n1 - jc : nc;
    for (size_t pc = 0; pc < k; pc += kc) {
      size_t kcur = k - pc < kc ? k - pc : kc, kpad = round_up(kcur, 32);
      aux.beta = pc == 0 ? p->beta : 1.0f;
      /* whole rows of the block at once (a 32-column panel at a time
       * zipped 64-byte pieces of rows 4 KiB apart: 11% of 2048^3) */
      pack_pairs(&sb, jc, ncur, pc, kcur, 32, kpad / 2, bp, tmp16, cfg);
      for (size_t ic = m0; ic < m1; ic += mc) {
        size_t mcur = m1 - ic < mc ? m1 - ic : mc;
        pack_amx_a(&sa, ic, mcur, pc, kcur, kpad, ap);
        for (size_t jr = 0; jr < ncur; jr += 32) {
          size_t nrr = ncur - jr < 32 ? ncur - jr : 32;
          for (size_t ir = 0; ir < mcur; ir += 32)
            cfg->bf16_amx(mcur - ir < 32 ? mcur - ir : 32, nrr, kpad,
                          ap + ir * kpad, kpad, bp + jr * (kpad / 2),
                          c + (ic + ir) * p->ldc + jc + jr, p->ldc, &aux);
        }
      }
    }
  }
  cfg->amx_end();
  return 0;
}

static int run_part(const struct job *j, size_t t, size_t m0, size_t m1,
                    size_t n0, size_t n1) {
  return j->amx ? gemm_part_amx(j, t, m0, m1, n0, n1)
                : gemm_part(j, t, m0, m1, n0, n1);
}

static void gemm_thread(void *ctx, size_t b, size_t e) {
  struct job *j = ctx;
  const struct cmx_gemm_problem *p = j->p;
  for (size_t tid = b; tid < e; tid++) {
    int rc = 0;
    if (j->batch_split) {
      /* Whole batches taken one at a time from the shared counter: a
       * batch is computed by one thread either way (the same result), and
       * a thread slowed by another process no longer holds a fixed share
       * (64 x (128,64)@(64,128), 2 threads, 2-core VM under other jobs'
       * load, A/B alternating in one process, median ms: 1.03 -> 0.95,
       * 1.09 -> 1.07, 1.46 -> 1.40; min 0.675 -> 0.69). */
      size_t t0;
      const size_t step = j->batch_step;
      while (!rc && (t0 = atomic_fetch_add_explicit(
                         &j->next_batch, step, memory_order_relaxed)) <
                        p->batch)
        for (size_t t = t0; t < t0 + step && t < p->batch && !rc; t++)
          rc = run_part(j, t, 0, p->m, 0, p->n);
    } else {
      size_t m0, m1, n0, n1;
      cmx_range((int)(tid / j->tn), (int)j->tm, p->m, j->malign, &m0, &m1);
      cmx_range((int)(tid % j->tn), (int)j->tn, p->n, j->nr, &n0, &n1);
      for (size_t t = 0; t < p->batch && !rc; t++)
        rc = run_part(j, t, m0, m1, n0, n1);
    }
    if (rc) atomic_store(&j->failed, 1);
  }
}

#define FORCED_TILES 4
/* The ic x jc grid for nt threads that minimises the modelled time of the
 * slowest thread: its FMA work (tiles rounded up to mr x nr) at about 64
 * flop/cycle plus its packing at about one element per cycle. Ties go to
 * the split over m (threads then share nothing but read the same B). */
static void choose_grid(const struct job *j, size_t nt, int split,
                        size_t *tm, size_t *tn) {
  size_t m = j->p->m, n = j->p->n, k = j->p->k ? j->p->k : 1;
  size_t mr = j->mr, nr = j->nr;
  /* A forced split (tuning file, env) holds where it leaves each thread
   * at least FORCED_TILES tiles; thinner, the model decides: the VM's
   * "split = jc" gave 2048x4096x128 two threads of 64 columns, each
   * packing all 32 MiB of A. */
  if ((split == 1 && m >= FORCED_TILES * mr * nt) ||
      (split == 2 && n >= FORCED_TILES * nr * nt)) {
    *tm = split == 1 ? nt : 1;
    *tn = split == 1 ? 1 : nt;
    return;
  }
  double best = -1;
  for (size_t a = nt; a >= 1; a--) {
    if (nt % a) continue;
    size_t bw = nt / a;
    double pm;
    split_align(j, a, &pm);
    double pn = (double)((n + nr * bw - 1) / (nr * bw) * nr);
    double ablocks = (pn + j->nc - 1) / (double)j->nc;
    double cost = 2.0 * pm * pn * (double)k / 64.0 +
                  (pm * ablocks + pn) * (double)k;
    if (best < 0 || cost < best - 1e-9) {
      best = cost;
      *tm = a;
      *tn = bw;
    }
  }
}

/* ---- GEMV: m == 1 or n == 1 ---- */
/* y[i] (i < len) = alpha * sum_p M(i, p) v(p) + beta * y[i]: for n == 1,
 * M = A and v = B's column; for m == 1, M = B^T and v = A's row. Each y is
 * summed by one thread in an order fixed by the strides alone. */
struct gemv {
  const struct cmx_gemm_config *cfg;
  const struct cmx_gemm_problem *p;
  size_t len;
  atomic_int failed;
};

/* GV_ROWS: the column form reads GV_ROWS contiguous floats of each row of
 * the matrix per step. At 256 (1 KiB, 4096 rows 16 KiB apart per strip) a
 * 4096^2 GEMV streamed 1.55 GB/s, 17% of STREAM read, on the 2-core Xeon VM
 * (TLB and prefetcher bound); whole 16 KiB rows keep the accumulators in
 * L1 and stream the matrix. GV_CHUNK >= GV_ROWS (line() converts that many). */
#define GV_CHUNK 4096 /* k elements converted per step (16-bit or strided) */
#define GV_ROWS 4096  /* rows accumulated together in the column form */

static void gemv_batch(struct gemv *g, size_t t, size_t i0, size_t i1,
                       float *ws) {
  const struct cmx_gemm_problem *p = g->p;
  size_t k = p->k;
  int ncol = p->n == 1; /* y is C's column (else C's row) */
  struct src sm = ncol ? src_a(p, t) : src_b(p, t);
  struct src sv = ncol ? src_b(p, t) : src_a(p, t);
  /* sm: rows along y (m of A, n of B^T), columns along k. */
  /* v(p) = element p along k of sv: for src_b, k is the row (sk = rs);
   * for src_a, k is the column (sk = cs). */
  ptrdiff_t vstride = ncol ? p->b.rs : p->a.cs;
  /* tmp, tmp16: four rows' conversions or gathers, GV_CHUNK each */
  float *vbuf = ws, *tmp = ws + round_up(k, 16), *acc = tmp + 4 * GV_CHUNK;
  /* zero: the row that pads a group of four (0 * inf would be NaN). */
  float *zero = acc + GV_ROWS;
  uint16_t *tmp16 = (uint16_t *)(zero + GV_ROWS);
  size_t done = 0;
  while (done < k) { /* v as contiguous f32 */
    size_t w = k - done < GV_CHUNK ? k - done : GV_CHUNK;
    const float *x = line(&sv, sv.base + (ptrdiff_t)done * vstride, vstride,
                          w, tmp, tmp16);
    memcpy(vbuf + done, x, w * sizeof(float));
    done += w;
  }
  float *c = p->c + t * p->ldcb;
  size_t ys = ncol ? p->ldc : 1;
  float alpha = p->alpha, beta = p->beta;
  if (sm.sq == 1 && sm.sk != 1) {
    /* Column form: y[i0:i1] += M[:, p] v[p], GV_ROWS rows at a time. */
    for (size_t r0 = i0; r0 < i1; r0 += GV_ROWS) {
      size_t nr = i1 - r0 < GV_ROWS ? i1 - r0 : GV_ROWS;
      for (size_t i = 0; i < nr; i++) acc[i] = zero[i] = 0.0f;
      for (size_t q = 0; q < k; q += 4) {
        /* Four rows per microkernel call: acc is loaded and stored once
         * per four rows; missing rows are the zero row. Rows
         * that need conversion go through tmp one at a time. */
        const float *rows[4];
        float w[4] = {0, 0, 0, 0};
        size_t nq = k - q < 4 ? k - q : 4;
        if (sm.dt != CMX_GEMM_F32 && g->cfg->gemv4h) {
          /* 16-bit rows widened in registers; the zero row pads */
          const uint16_t *hr[4];
          for (size_t u = 0; u < 4; u++) {
            hr[u] = u < nq ? u16_at(&sm, sm.base + (ptrdiff_t)r0 +
                                             (ptrdiff_t)(q + u) * sm.sk)
                           : (const uint16_t *)zero;
            if (u < nq) w[u] = vbuf[q + u];
          }
          g->cfg->gemv4h(nr, hr, sm.dt == CMX_GEMM_BF16, w, acc);
          continue;
        }
        /* 16-bit rows are converted each into its own quarter of tmp */
        for (size_t u = 0; u < 4; u++) {
          rows[u] = u < nq ? line(&sm, sm.base + (ptrdiff_t)r0 +
                                           (ptrdiff_t)(q + u) * sm.sk,
                                  1, nr, tmp + u * GV_CHUNK,
                                  tmp16 + u * GV_CHUNK)
                           : zero;
          if (u < nq) w[u] = vbuf[q + u];
        }
        g->cfg->gemv4(nr, rows, w, 1, 4, acc, nr);
      }
      for (size_t i = 0; i < nr; i++) {
        float *y = c + (r0 + i) * ys;
        *y = beta == 0.0f ? alpha * acc[i] : alpha * acc[i] + beta * *y;
      }
    }
    return;
  }
  /* Row form: four y at a time, dot products of their rows (the last
   * group padded with its first row) with v by the dot kernel; f32 rows
   * contiguous along k in one call, others converted or gathered in
   * chunks of GV_CHUNK whose sums add in order; 16-bit rows contiguous
   * along k widened in registers (dot4h), in one call. Each sum depends on
   * k, the strides and the dtype only. */
  const int h16 = sm.dt != CMX_GEMM_F32 && sm.sk == 1 && g->cfg->dot4h;
  const size_t step =
      (sm.dt == CMX_GEMM_F32 && sm.sk == 1) || h16 ? k : GV_CHUNK;
  for (size_t i = i0; i < i1; i += 4) {
    const size_t nq = i1 - i < 4 ? i1 - i : 4;
    float s[4] = {0, 0, 0, 0};
    for (size_t q = 0; q < k; q += step) {
      const size_t w = k - q < step ? k - q : step;
      float part[4];
      if (h16) {
        const uint16_t *hr[4];
        for (size_t u = 0; u < 4; u++)
          hr[u] = u16_at(&sm, sm.base + (ptrdiff_t)(i + (u < nq ? u : 0)) *
                                            sm.sq + (ptrdiff_t)q);
        g->cfg->dot4h(w, hr, sm.dt == CMX_GEMM_BF16, vbuf + q, 1, 0, part);
      } else {
        const float *rows[4];
        for (size_t u = 0; u < 4; u++)
          rows[u] = u < nq ? line(&sm, sm.base + (ptrdiff_t)(i + u) * sm.sq +
                                           (ptrdiff_t)q * sm.sk,
                                  sm.sk, w, tmp + u * GV_CHUNK,
                                  tmp16 + u * GV_CHUNK)
                           : rows[0];
        g->cfg->dot4(w, rows, vbuf + q, 1, 0, part);
      }
      for (size_t u = 0; u < 4; u++) s[u] += part[u];
    }
    for (size_t u = 0; u < nq; u++) {
      float *y = c + (i + u) * ys;
      *y = beta == 0.0f ? alpha * s[u] : alpha * s[u] + beta * *y;
    }
  }
}

static void gemv_thread(void *ctx, size_t b, size_t e) {
  struct gemv *g = ctx;
  size_t k = g->p->k;
  float *ws =
      ws_get(round_up(k, 16) + 4 * GV_CHUNK + 2 * GV_ROWS + 2 * GV_CHUNK);
  if (!ws) {
    atomic_store(&g->failed, 1);
    return;
  }
  /* [b, e) runs over the flat (batch, row) space. */
  while (b < e) {
    size_t t = b / g->len, i0 = b % g->len;
    size_t i1 = (e - t * g->len) < g->len ? e - t * g->len : g->len;
    gemv_batch(g, t, i0, i1, ws);
    b = t * g->len + i1;
  }
}

/* ---- short A (m <= 8): B streamed row by row ---- */
/* C's m rows are taken nc columns at a time (an m x nc block in half of
 * L1: acc, zeroed) and B's rows fold into it cmx_rowacc_kb(m) at a time
 * (rowacc), each row a run of nc contiguous floats, the rows two steps
 * ahead prefetched to L2: B streams once in memory order and C stays in L1
 * until its block is done (then C = alpha acc + beta C). The 8x32 skinny
 * tile instead holds C in registers over 24 rows of B at a time: 24
 * streams with B's row stride, which share L1 sets when that stride is a
 * multiple of 4 KiB. On the 2-core VM, 1 thread, ms for m x 4096 x 4096
 * (B 64 MiB): m = 8: 3.1 -> 1.4-1.7 (8x32 -> rowacc), 6: 2.7 -> 1.8,
 * 4: 2.7 -> 2.2, 2: 2.6 -> 1.9; for m = 4 and 5, B still comes at only
 * 30 GB/s whatever the prefetch distance, block width or rows per step.
 * A is gathered once per batch element into w (k x m, k-major), the
 * layout rowacc reads. The team splits the flat (batch, 16-column group)
 * space; every sum runs over k in order, so results do not depend on it. */
#define RA_M 8
/* The most rows of A folding against a 16-bit B within two L2s (the
 * wide rule in gemm_entry). */
#define WIDE16_M 48
/* Floats of A a thread gathers whole for the row paths (64 MiB). */
#define SHORT_A_SCRATCH ((size_t)1 << 24)

struct rowacc_job {
  const struct cmx_gemm_config *cfg;
  const struct cmx_gemm_problem *p;
  size_t groups, nc; /* 16-column groups per batch element; block width */
  size_t ld;         /* acc's row stride: nc + 16 or more (blocks round) */
  atomic_int failed;
};

/* A of batch element t as f32 into w (k * m floats): A(i, p) at
 * w[p * m + i] (kmajor, the row accumulation's layout) or at w[i * k + p]
 * (the row dots'). */
static void gather_a(const struct cmx_gemm_problem *p, size_t t, int kmajor,
                     float *w, float *tmp, uint16_t *tmp16) {
  struct src sa = src_a(p, t);
  for (size_t i = 0; i < p->m; i++)
    for (size_t q = 0; q < p->k; q += GV_CHUNK) {
      size_t nq = p->k - q < GV_CHUNK ? p->k - q : GV_CHUNK;
      const float *x = line(&sa, sa.base + (ptrdiff_t)i * sa.sq +
                                     (ptrdiff_t)q * sa.sk,
                            sa.sk, nq, tmp, tmp16);
      if (!kmajor)
        memcpy(w + i * p->k + q, x, nq * sizeof(float));
      else
        for (size_t u = 0; u < nq; u++) w[(q + u) * p->m + i] = x[u];
    }
}

/* Columns [j0, j0 + nn) of batch element t: acc (m x nn, row stride ld).
 * 16-bit B: widened in registers (rowacch), or where the level has no such
 * kernel each step's rows converted into cv (8 x ld floats) first. */
static void rowacc_block(const struct rowacc_job *jb, size_t t, size_t j0,
                         size_t nn, const float *w, float *acc, size_t ld,
                         float *cv) {
  const struct cmx_gemm_problem *p = jb->p;
  size_t m = p->m, k = p->k;
  for (size_t i = 0; i < m; i++) memset(acc + i * ld, 0, nn * sizeof(float));
  const struct src sb = src_b(p, t);
  ptrdiff_t rs = p->b.rs;
  /* rows prefetched ahead: two steps; none for m <= 3, whose eight
   * streams the hardware prefetcher keeps up with better alone */
  size_t g = cmx_rowacc_kb(m), ahead = m <= 3 ? 0 : 2 * g;
  for (size_t q = 0; q < k; q += g) {
    size_t kb = k - q < g ? k - q : g;
    const float *r[8];
    ptrdiff_t pf = ahead && q + g + ahead <= k ? (ptrdiff_t)ahead * rs : 0;
    if (sb.dt == CMX_GEMM_F32) {
      for (size_t u = 0; u < kb; u++)
        r[u] = f32_at(&sb, sb.base + (ptrdiff_t)(q + u) * rs + (ptrdiff_t)j0);
    } else if (jb->cfg->rowacch) { /* widened in registers */
      const uint16_t *h[8];
      for (size_t u = 0; u < kb; u++)
        h[u] = u16_at(&sb, sb.base + (ptrdiff_t)(q + u) * rs + (ptrdiff_t)j0);
      jb->cfg->rowacch(m, kb, nn, h, sb.dt == CMX_GEMM_BF16, w + q * m, acc,
                       ld, pf);
      continue;
    } else {
      for (size_t u = 0; u < kb; u++) {
        const ptrdiff_t e = sb.base + (ptrdiff_t)(q + u) * rs + (ptrdiff_t)j0;
        if (pf) __builtin_prefetch(u16_at(&sb, e + pf));
        sb.cvt(nn, u16_at(&sb, e), cv + u * ld);
        r[u] = cv + u * ld;
      }
      pf = 0;
    }
    jb->cfg->rowacc(m, kb, nn, r, w + q * m, acc, ld, pf);
  }
  float *c = p->c + t * p->ldcb + j0;
  float alpha = p->alpha, beta = p->beta;
  for (size_t i = 0; i < m; i++) {
    float *ci = c + i * p->ldc;
    const float *ai = acc + i * ld;
    /* (the element loop here, not vectorised at -O2, was 16% of 8x64 @
     * 64x65536: 1 thread, 1016-1053 -> 872-924 us, torch 877) */
    if (beta == 0.0f && alpha == 1.0f)
      memcpy(ci, ai, nn * sizeof(float));
    else if (beta == 0.0f)
      for (size_t j = 0; j < nn; j++) ci[j] = alpha * ai[j];
    else
      for (size_t j = 0; j < nn; j++) ci[j] = alpha * ai[j] + beta * ci[j];
  }
}

static void rowacc_thread(void *ctx, size_t b, size_t e) {
  struct rowacc_job *jb = ctx;
  const struct cmx_gemm_problem *p = jb->p;
  size_t ld = jb->ld, k = p->k;
  size_t am = p->m > RA_M ? p->m : RA_M; /* acc's rows */
  float *ws = ws_get(k * p->m + am * ld + 8 * ld + GV_CHUNK + GV_CHUNK / 2 +
                     16);
  if (!ws) {
    atomic_store(&jb->failed, 1);
    return;
  }
  float *acc = ws, *cv = acc + am * ld, *tmp = cv + 8 * ld;
  float *w = tmp + GV_CHUNK;
  uint16_t *tmp16 = (uint16_t *)(w + k * p->m);
  size_t have = (size_t)-1; /* batch element whose weights w holds */
  while (b < e) { /* [b, e) over the flat (batch, group) space */
    size_t t = b / jb->groups, g0 = b % jb->groups;
    size_t g1 = e - t * jb->groups < jb->groups ? e - t * jb->groups
                                                  : jb->groups;
    if (t != have) gather_a(p, t, 1, w, tmp, tmp16), have = t;
    size_t j = g0 * 16, j1 = g1 * 16 < p->n ? g1 * 16 : p->n;
    /* even blocks of at most nc (+15 from rounding) columns */
    size_t nb = (j1 - j + jb->nc - 1) / jb->nc;
    for (size_t q = 0; q < nb; q++) {
      size_t a = j + round_down((j1 - j) * q / nb, 16);
      size_t z =
          q + 1 == nb ? j1 : j + round_down((j1 - j) * (q + 1) / nb, 16);
      rowacc_block(jb, t, a, z - a, w, acc, ld, cv);
    }
    b = t * jb->groups + g1;
  }
}

/* The most rows of A the row fold takes against a large row-major f32 B:
 * env, the file (its tile), the level's config, else RA_M. */
static size_t rowacc_m(const struct cmx_gemm_config *cfg) {
  size_t v = tuned(cfg, g_env.rowacc_m, g_file.rowacc_m);
  return v ? v : cfg->rowacc_m ? cfg->rowacc_m : RA_M;
}

static int rowacc_run(const struct cmx_gemm_config *cfg,
                      const struct cmx_gemm_problem *p, size_t nt) {
  const struct cmx_topo *topo = cmx_topo();
  size_t l1 = topo->l1d, l2 = topo->l2;
  /* The C block takes half of L1, or for more than RA_M rows (the kernel
   * keeps B's vectors in registers and reads C once per 8 rows of B) a
   * sixth of L2: 2-core Xeon VM, 1 thread, 32x4096x11008, GFLOP/s, C block
   * 24 KiB 93-96, 48 KiB 95-98, 96 KiB 103-106, 192 KiB 114-119, 352 KiB
   * 115-128, 688 KiB 118-121. Its rows never a multiple of 4 KiB apart
   * (they would share L1 sets). */
  size_t nc = round_down((p->m > RA_M ? l2 / 6 : l1 / 2) / sizeof(float) /
                             p->m,
                         16);
  if (nc < 64) nc = 64;
  size_t ld = nc + 16;
  if (rows_share_sets(ld)) ld += 16;
  struct rowacc_job jb = {cfg, p, (p->n + 15) / 16, nc, ld, 0};
  size_t grain = (1u << 16) / (p->k * p->m * 16 + 1) + 1;
  cmx_parallel_for((int)nt, p->batch * jb.groups, 1, grain, rowacc_thread,
                   &jb);
  return atomic_load(&jb.failed) ? -1 : 0;
}

/* ---- short A against a B whose k is contiguous: row dots ---- */
/* C = A B for m <= RD_M with B(p, j) contiguous along p (a transposed B:
 * x W^T, the usual weight layout): four columns of B at a time are four
 * rows in memory, which the dot kernel reads once against all m rows of A
 * (gathered per batch element into w, m x k, converted to f32), so B
 * streams once in its own order; 16-bit or strided columns are converted
 * or gathered GV_CHUNK elements at a time, their sums added in order. The
 * team splits the flat (batch, column) space; each sum depends on m, k
 * and the strides only. More than four rows of A take RD_CHUNK of k at a
 * time (half that past eight rows) against RD_GROUPS groups of four
 * columns, so that A's chunk stays in L1 across them (m = 8: 3.8-3.9 ms
 * whole-k against 3.3-3.4; chunk and groups 256 and 4: 3.6-4.5, 1024 and
 * 1: 3.5-3.6, 2048 and 2: 3.9-4.0). Up to RD_M = 32 rows: the packed path
 * transposes such a B into panels from rows 16 KiB apart at 13 GB/s (f32
 * m = 16 12.8 -> 6.3 ms, m = 32 14.7 -> 11.8; f16 11.3 -> 5.7, 14.6 ->
 * 10.9); bf16 x bf16 only to 8 (its pair kernel: m = 16 4.5 against 5.9).
 * On the 2-core VM, 1 thread, ms for m x 4096 x 4096 with B transposed
 * (64 MiB), packed -> row dots: m = 4 9.6 -> 2.5 (27 GB/s, the read
 * rate), m = 8 9.4 -> 3.4; f16 m = 4 9.2 -> 2.6; bf16 m = 4 4.0 -> 2.6. */
#define RD_M 32
#define RD_M_PAIRS 8
#define RD_GROUPS 2
#define RD_CHUNK 512

struct rowdot_job {
  const struct cmx_gemm_config *cfg;
  const struct cmx_gemm_problem *p;
  atomic_int failed;
};

/* Lines [q, q + nk) of B's columns [c0, c1) (k contiguous), into the
 * caches. With more than four rows of A the dot kernel reads each group of
 * four columns from memory in its first pass only; the next group, fetched
 * while the later passes run from L1, overlaps that read with them. (A
 * bare loop of __builtin_prefetch here compiled to nothing, as
 * prefetch.h warns: cmx_prefetch_span keeps it.) 2-core Xeon VM, host
 * loaded, 1 thread, f32 B^T, interleaved, ms: m = 16 x 4096 x 4096
 * 6.6-6.9 -> 5.6-5.8 (one of three 6.9 -> 7.5), m = 8 3.48-3.65 ->
 * 3.39-3.44. */
static void rowdot_fetch(const struct src *sb, size_t c0, size_t c1,
                         size_t q, size_t nk) {
  for (size_t c = c0; c < c1; c++) {
    const ptrdiff_t e = sb->base + (ptrdiff_t)c * sb->sq + (ptrdiff_t)q;
    if (sb->dt == CMX_GEMM_F32)
      cmx_prefetch_span(f32_at(sb, e), nk * sizeof(float));
    else
      cmx_prefetch_span(u16_at(sb, e), nk * sizeof(uint16_t));
  }
}

/* Columns [j0, j1) of batch element t. */
static void rowdot_cols(const struct rowdot_job *jb, size_t t, size_t j0,
                        size_t j1, const float *w, float *tmp,
                        uint16_t *tmp16) {
  const struct cmx_gemm_problem *p = jb->p;
  const size_t m = p->m, k = p->k;
  struct src sb = src_b(p, t);
  /* B's column j is the line of k elements from sb.base + j sq, stride sk.
   * More than four rows of A: RD_GROUPS groups of four columns meet each
   * RD_CHUNK of A's rows while it is in L1. */
  /* 16-bit columns widened in registers (dot4h) while that is done for at
   * most two passes of four rows of A (16 rows, four passes: f16 m = 16
   * 7.1 ms against 5.7 converted once into L1) */
  const int h16 = sb.dt != CMX_GEMM_F32 && sb.sk == 1 && jb->cfg->dot4h &&
                  m <= 8;
  const int direct = (sb.dt == CMX_GEMM_F32 && sb.sk == 1) || h16;
  const size_t ng = m > 4 ? RD_GROUPS : 1;
  const size_t step = m > 8   ? RD_CHUNK / 2
                      : m > 4 ? RD_CHUNK
                      : direct ? k
                               : GV_CHUNK;
  float *c = p->c + t * p->ldcb;
  const float alpha = p->alpha, beta = p->beta;
  for (size_t j = j0; j < j1; j += 4 * ng) {
    const size_t nj = j1 - j < 4 * ng ? j1 - j : 4 * ng;
    float s[RD_GROUPS][RD_M * 4] = {{0}}, part[RD_M * 4];
    for (size_t q = 0; q < k || q == 0; q += step) {
      const size_t nk = k - q < step ? k - q : step;
      for (size_t g = 0; g * 4 < nj; g++) {
        const size_t nq = nj - g * 4 < 4 ? nj - g * 4 : 4;
        if (m > 4 && direct) {
          /* the next group: of this chunk, of the next, or of the next
           * columns */
          size_t q2 = q, c0 = j + (g + 1) * 4;
          if (c0 >= j + nj) c0 = j, q2 = q + step;
          if (q2 >= k) c0 = j + nj, q2 = 0;
          if (c0 < j1)
            rowdot_fetch(&sb, c0, j1 - c0 < 4 ? j1 : c0 + 4, q2,
                         k - q2 < step ? k - q2 : step);
        }
        if (h16) {
          const uint16_t *hr[4];
          for (size_t u = 0; u < 4; u++)
            hr[u] = u16_at(&sb, sb.base +
                                    (ptrdiff_t)(j + g * 4 + (u < nq ? u : 0)) *
                                        sb.sq +
                                    (ptrdiff_t)q);
          jb->cfg->dot4h(nk, hr, sb.dt == CMX_GEMM_BF16, w + q, m, k, part);
        } else {
          const float *rows[4];
          for (size_t u = 0; u < 4; u++) {
            const size_t col = j + g * 4 + u;
            rows[u] = u < nq ? line(&sb, sb.base + (ptrdiff_t)col * sb.sq +
                                             (ptrdiff_t)q * sb.sk,
                                    sb.sk, nk, tmp + u * GV_CHUNK,
                                    tmp16 + u * GV_CHUNK)
                             : rows[0];
          }
          jb->cfg->dot4(nk, rows, w + q, m, k, part);
        }
        for (size_t e = 0; e < m * 4; e++) s[g][e] += part[e];
      }
      if (k == 0) break;
    }
    for (size_t i = 0; i < m; i++)
      for (size_t u = 0; u < nj; u++) {
        float *y = c + i * p->ldc + j + u;
        const float v = s[u / 4][i * 4 + u % 4];
        *y = beta == 0.0f ? alpha * v : alpha * v + beta * *y;
      }
  }
}

static void rowdot_thread(void *ctx, size_t b, size_t e) {
  struct rowdot_job *jb = ctx;
  const struct cmx_gemm_problem *p = jb->p;
  float *ws = ws_get(p->k * p->m + 4 * GV_CHUNK + 2 * GV_CHUNK + 16);
  if (!ws) {
    atomic_store(&jb->failed, 1);
    return;
  }
  float *tmp = ws, *w = tmp + 4 * GV_CHUNK;
  uint16_t *tmp16 = (uint16_t *)(w + p->k * p->m);
  size_t have = (size_t)-1; /* batch element whose A w holds */
  while (b < e) { /* [b, e) over the flat (batch, column) space */
    size_t t = b / p->n, j0 = b % p->n;
    size_t j1 = e - t * p->n < p->n ? e - t * p->n : p->n;
    if (t != have) gather_a(p, t, 0, w, tmp, tmp16), have = t;
    rowdot_cols(jb, t, j0, j1, w, tmp, tmp16);
    b = t * p->n + j1;
  }
}

static int rowdot_run(const struct cmx_gemm_config *cfg,
                      const struct cmx_gemm_problem *p, size_t nt) {
  struct rowdot_job jb = {cfg, p, 0};
  /* at least ~64K multiply-adds a thread before a region opens */
  size_t grain = (1u << 16) / (p->k * p->m + 1) + 1;
  cmx_parallel_for((int)nt, p->batch * p->n, 4, grain, rowdot_thread, &jb);
  return atomic_load(&jb.failed) ? -1 : 0;
}

/* ---- skinny A: B streamed unpacked ---- */
/* For m <= SKINNY_M packing B (read, packed write, packed read) serves only
 * a few microkernel calls per panel, so the microkernel reads B in place
 * (aux.ldb, as the small path) and B streams from memory once: C's m rows
 * are taken nc columns at a time (long runs of each B row), SKINNY_KC rows
 * of B per microkernel call (the 8x32 kernel prefetches each row two tiles
 * ahead), the kc x nr tile of B reused from L1 by every row tile of A. The
 * team splits n (jc): each thread streams its own columns of B. The sum
 * for each C element runs over k in SKINNY_KC blocks, in order, whatever
 * the split. Measured on the 2-core VM, 1 thread, process CPU time (other
 * jobs loaded it), GFLOP/s for 8 / 16 / 32 x 4096 x 4096|11008:
 *   kc 8: 26 / 35 / 48; 16: 27 / 39 / 55; 24: 27 / 38 / 58; 32: 29 / 29 / 54;
 *   nc (kc 24) 1024: 28 / 38 / 58; 2048: 32 / 45 / 63; 4096: 34 / 48 / 47,
 * so nc keeps the m x nc block of C to a quarter of L2 (SKINNY_C floats),
 * at most 4096 columns; the previous GEMV-accumulate path: 22 / 31 / 36. */
#define AMX_MC 128
#define AMX_KC 2048
#define AMX_MC_CACHED 32
#define AMX_KC_CACHED 256
#define SKINNY_M 32
#define UNPACKED_B_M 512
#define SKINNY_KC 24
#define SKINNY_C (1u << 16)

/* ---- A against a B whose k is contiguous, swapped ---- */
/* C = A B with B(p, j) contiguous along p (x W^T: the usual weight
 * layout) and A of a few dozen rows: each batch element computed as C^T =
 * B^T A^T into a scratch n x m block (B^T is then a row-major A read in
 * place by the narrow-B path, its rows streamed once, and A^T a packed
 * panel of at most narrow_b_n columns), then C = alpha (C^T)^T + beta C.
 * The plain path packs such a B from rows k apart, one panel column at a
 * time. 2-core Xeon VM, 1 thread, GFLOP/s, B^T f32, plain (or row dots up
 * to 32 rows) -> swapped (the same pair of public calls): 32x4096x11008
 * 96-101 -> 138, 64x4096x11008 99 -> 139, 24x4096x11008 94 -> 107,
 * 48x4096x11008 88 -> 109, 128x4096x11008 126 -> 155, 32x4096x4096 101 ->
 * 164, 64x768x3072 116 -> 162, 128x768x3072 129 -> 160, 256x1024x1024 144
 * -> 154, 200x4096x4096 140 -> 137; where the panel of A^T is less than
 * three quarters full the row dots or the plain path stay (17x4096x11008
 * 86 against 69, 20x 87 against 84, 36x 78 against 77). A 16-bit B^T
 * (against an f32 A) becomes a 16-bit A there, its rows converted a block
 * at a time (cdirect); bf16, plain -> swapped, 1 / 2 threads:
 * 64x4096x11008 118-119 / 229 -> 134-139 / 273, 128x4096x4096 148 / 273
 * -> 156 / 314, 128x768x3072 153 -> 165-167; at 48 and 32 rows even (the
 * row dots or the plain path: 48x2048x8192 104 / 217 against 102 / 218),
 * at 24 a loss (24x4096x4096 105-111 against 91-94): SWAP_M16 rows. */
#define SWAP_M16 64
#define SWAP_N 24
#define SWAP_K_MIN 256 /* the mirror swap's least depth */
struct swap_job {
  const struct cmx_gemm_problem *p;
  const float *ct; /* n x m */
};

static void swap_out(void *ctx, size_t b, size_t e) {
  const struct swap_job *sj = ctx;
  const struct cmx_gemm_problem *p = sj->p;
  const size_t m = p->m;
  const float alpha = p->alpha, beta = p->beta;
  for (size_t j0 = b; j0 < e; j0 += 16) {
    const size_t j1 = e - j0 < 16 ? e : j0 + 16;
    for (size_t i = 0; i < m; i++) {
      float *ci = p->c + i * p->ldc;
      if (beta == 0.0f)
        for (size_t j = j0; j < j1; j++) ci[j] = alpha * sj->ct[j * m + i];
      else
        for (size_t j = j0; j < j1; j++)
          ci[j] = alpha * sj->ct[j * m + i] + beta * ci[j];
    }
  }
}

static int gemm_entry(const struct cmx_gemm_config *cfg,
                      const struct cmx_gemm_problem *p, int nthreads,
                      int may_swap);

static int swap_run(const struct cmx_gemm_config *cfg,
                    const struct cmx_gemm_problem *p, int nthreads) {
  float *ct = cmx_scratch(CMX_SCRATCH_GEMM_OUT, p->n * p->m * sizeof(float));
  if (!ct) return -1;
  for (size_t t = 0; t < p->batch; t++) {
    struct cmx_gemm_problem q = *p;
    q.batch = 1, q.m = p->n, q.n = p->m;
    q.a = (struct cmx_gemm_operand){p->b.data, p->b.dtype, p->b.cs,
                                    p->b.rs, p->b.boff ? p->b.boff + t : 0};
    q.b = (struct cmx_gemm_operand){p->a.data, p->a.dtype, p->a.cs,
                                    p->a.rs, p->a.boff ? p->a.boff + t : 0};
    q.c = ct, q.ldc = p->m, q.ldcb = 0, q.alpha = 1.0f, q.beta = 0.0f;
    if (gemm_entry(cfg, &q, nthreads, 0)) return -1;
    struct cmx_gemm_problem o = *p;
    o.c = p->c + t * p->ldcb;
    struct swap_job sj = {&o, ct};
    cmx_parallel_for(nthreads, p->n, 16, 4096 / p->m + 16, swap_out, &sj);
  }
  return 0;
}

/* ---- entry ---- */
int cmx_f32_gemm(const struct cmx_gemm_config *cfg,
                 const struct cmx_gemm_problem *p, int nthreads) {
  return gemm_entry(cfg, p, nthreads, 1);
}

static int gemm_entry(const struct cmx_gemm_config *cfg,
                      const struct cmx_gemm_problem *p, int nthreads,
                      int may_swap) {
  if (!p->batch || !p->m || !p->n) return 0;
  if (nthreads < 1) nthreads = 1;
  /* the path choices below read the file and env keys (small, narrow_b_n,
   * rowacc_m) before any blocking() call loads them */
  pthread_once(&g_tune_once, tune_load);
  if (p->m == 1 || p->n == 1) {
    struct gemv g = {cfg, p, p->m == 1 ? p->n : p->m, 0};
    size_t k = p->k ? p->k : 1;
    /* at least ~64K multiply-adds per thread before a region opens */
    size_t grain = (1u << 16) / k + 1;
    cmx_parallel_for(nthreads, p->batch * g.len, 16, grain, gemv_thread, &g);
    return atomic_load(&g.failed) ? -1 : 0;
  }
  /* A of a few dozen rows against a B whose k is contiguous (f32, or
   * 16-bit against an f32 A of at least SWAP_M16 rows), where the swapped
   * problem's A^T panel (nr wide) is at least three quarters full and
   * narrow enough for the narrow-B path (narrow_b_n); its C^T at most
   * SHORT_A_SCRATCH floats */
  if (may_swap &&
      (p->b.dtype == CMX_GEMM_F32 ||
       (p->a.dtype == CMX_GEMM_F32 && p->m >= SWAP_M16)) &&
      p->b.rs == 1 && p->b.cs > 0 && p->k > 0 && p->m <= narrow_b_n(cfg) &&
      4 * p->m >= 3 * round_up(p->m, cfg->nr) &&
      p->n * p->m <= SHORT_A_SCRATCH &&
      2.0 * (double)p->m * (double)p->n * (double)p->k >= small_flops())
    return swap_run(cfg, p, nthreads);
  /* The mirror: B of at most SWAP_N columns against an A whose k is
   * contiguous (x @ W with a narrow W: LoRA's down projection, a small
   * classifier). Swapped, the few columns are the row dots' short A and
   * A is read once, in place, instead of packed for a tile that N fills
   * to 12 / 32. 1 thread, Emerald Rapids VM, GFLOP/s, packed -> swapped:
   * 4096x4096x4 11.7 -> 42.9, x8 23.7 -> 69.1, x12 36.0 -> 81.5, x16
   * 48.7 -> 87.3, x24 71.3 -> 94.0, x32 97.0 -> 98.8 (1024x1024x32
   * 99.1 -> 90.1); 2 threads x12 70.9 -> 160.5, x24 141.4 -> 188.2, x32
   * 192.6 -> 191.7 (1024^2 x32 200.6 -> 173.2). Not for bf16 x bf16
   * where the level has its own pair or AMX kernel, nor for a depth under
   * SWAP_K_MIN, where a row dot is too short for its call: 1 thread, us,
   * swapped -> packed, 65536x4x4 1547 -> 235, 65536x16x16 3524 -> 536,
   * 16384x64x8 579 -> 491, 4096x128x16 345 -> 217; from 256 swapped
   * wins (4096x256x8 312 against 446, 4096x1024x8 1079 against 1655). */
  if (may_swap && p->n <= SWAP_N && p->a.cs == 1 && p->a.rs > 0 &&
      p->k >= SWAP_K_MIN && cfg->dot4 && p->k * p->n <= SHORT_A_SCRATCH &&
      p->n * p->m <= SHORT_A_SCRATCH &&
      !((cfg->bf16_ukr || cfg->bf16_amx) && p->a.dtype == CMX_GEMM_BF16 &&
        p->b.dtype == CMX_GEMM_BF16) &&
      2.0 * (double)p->m * (double)p->n * (double)p->k >= small_flops())
    return swap_run(cfg, p, nthreads);
  /* short A against a B whose k is contiguous (any operand dtypes; bf16
   * x bf16 only to RD_M_PAIRS rows, past which its pair kernel is faster;
   * A gathered whole into each thread's scratch: at most 64 MiB of it) */
  const int pairable = cfg->bf16_ukr && p->a.dtype == CMX_GEMM_BF16 &&
                       p->b.dtype == CMX_GEMM_BF16;
  if (p->m <= (pairable ? RD_M_PAIRS : RD_M) && p->b.rs == 1 &&
      p->b.cs > 0 && cfg->dot4 && p->k * p->m <= SHORT_A_SCRATCH &&
      2.0 * (double)p->m * (double)p->n * (double)p->k * (double)p->batch >=
          small_flops())
    return rowdot_run(cfg, p, (size_t)nthreads);
  struct job j = {.cfg = cfg, .p = p, .ukr = cfg->ukr, .mr = cfg->mr,
                  .nr = cfg->nr, .tm = 1, .tn = 1};
  int split;
  cmx_f32_gemm_blocking(cfg, &j.mc, &j.kc, &j.nc, &split);
  /* bf16 x bf16 with a pair microkernel: kc counts 32-bit words of a
   * packed panel, so twice as many k elements fill the same bytes. */
  j.pairs = cfg->bf16_ukr && cfg->bf16_zip && cfg->pack && cfg->pack_r &&
            p->a.dtype == CMX_GEMM_BF16 && p->b.dtype == CMX_GEMM_BF16;
  if (j.pairs) j.kc *= 2;
  /* AMX: its own 32 x 32 tile and blocks. Where C is larger than the
   * caches keep (cmx_amx_big_c), KC 2048 (a B micro-panel of 128 KiB, in
   * L2; C read and written once per 2048 of depth) against 512 / 1024 on
   * this 2-core Xeon, 1 thread, GFLOP/s at MC 128: 1024^3 702 / - / 735,
   * 4096^3 522 / - / 767; 2048^3 on 2 threads 1006 / 1306 (MC 256) /
   * 1449. The C update after the k loop was a quarter of the kernel's
   * samples at KC 512. Where C stays in cache (16 MiB: this VM's share of
   * L3), KC 256 and MC 32 (A and B micro-panels of 16 KiB, both in L1;
   * one A panel meets the B block from L2), later on the same VM, 1
   * thread: 2048^3 808-823 -> 990-1047, 1024^3 786-847 -> 896-915 (2
   * threads 2048^3 1672 -> 1739); at 4096^3 it fell 847 -> 595. */
  j.amx = cfg->bf16_amx && cfg->bf16_zip && cfg->pack && cfg->pack_r &&
          p->a.dtype == CMX_GEMM_BF16 && p->b.dtype == CMX_GEMM_BF16 &&
          p->k > 0 && atomic_load_explicit(&g_amx_on, memory_order_relaxed);
  if (j.amx) {
    const int big_c = cmx_amx_big_c(p->m, p->n);
    j.pairs = 0, j.mr = j.nr = 32;
    j.mc = round_up(first_set(cfg->amx_mc, g_env.amx_mc, g_file.amx_mc,
                              big_c ? AMX_MC : AMX_MC_CACHED), 32);
    j.kc = round_up(first_set(cfg->amx_kc, g_env.amx_kc, g_file.amx_kc,
                              big_c ? AMX_KC : AMX_KC_CACHED), 32);
    j.nc = round_up(first_set(0, g_env.amx_nc, g_file.amx_nc, j.nc), 32);
  }
  double flops = 2.0 * (double)p->m * (double)p->n * (double)p->k *
                 (double)p->batch;
  double small = small_flops();
  size_t nt = (size_t)nthreads;
  if (flops < small) {
    nt = 1;
    j.small = p->b.dtype == CMX_GEMM_F32 && p->b.cs == 1 && p->b.rs > 0;
  }
  /* The skinny microkernel for short A where it pads fewer rows (m = 8, 16,
   * 32 on 8 x 32 rather than 14 x 32); not for bf16 x bf16, which has its
   * own. Taller A keeps the main tile: its FMA-to-load ratio is higher. */
  if (cfg->skinny_ukr && cfg->skinny_mr && p->m <= SKINNY_M &&
      !(p->a.dtype == CMX_GEMM_BF16 && p->b.dtype == CMX_GEMM_BF16) &&
      round_up(p->m, cfg->skinny_mr) < round_up(p->m, cfg->mr)) {
    j.ukr = cfg->skinny_ukr, j.mr = cfg->skinny_mr;
    j.mc = j.mc < j.mr ? j.mr : round_down(j.mc, j.mr);
  }
  /* Streaming B (the row-fold or the skinny blocking) only where B is too
   * big for the caches anyway; a small problem keeps the small path's
   * whole-depth block, so A stays unpacked (32x32x32 spent a third of its
   * time packing A in two SKINNY_KC blocks: 0.74 -> 0.5 us). The flops
   * of one batch entry decide: a batch of tiny products took the row fold
   * per entry (1 thread, 1024 x (8x8 @ 8x8) 168 -> 84 us, torch 78). */
  const int rows_b = p->b.cs == 1 && p->b.rs > 0 &&
                     flops / (double)p->batch >= small;
  const int rows32 = rows_b && p->b.dtype == CMX_GEMM_F32;
  int skinny = p->m <= SKINNY_M && rows32;
  /* (A gathered whole into each thread's scratch: up to 64 MiB of it.)
   * A row-major 16-bit B too (1 thread, m x 4096 x 4096, ms packed ->
   * rows converted in L1 -> widened in registers: f16 m = 2 10.2 -> 2.4
   * -> 1.33, m = 8 10.7 -> 3.8 -> 2.33; bf16 m = 2 5.3 -> 2.4 -> 1.34,
   * m = 8 5.4 -> 3.9 -> 2.42). */
  const int rows16 = rows_b && p->b.dtype != CMX_GEMM_F32;
  /* Taller short A (up to rowacc_m rows; twice that for a 16-bit B) against a
   * row-major B larger than two L2s: the same row fold, B's vectors held in
   * registers (the wide form of rowacc; a 16-bit B widened there). 2-core Xeon
   * VM, 1 thread, GFLOP/s, the packed or skinny tiles -> the row fold, one
   * build switched by env, two interleaved rounds: 32x4096x11008 96-100 ->
   * 124-127, 16x4096x11008 77-79 -> 101-102, 12x4096x11008 32-40 -> 65-66,
   * 48x4096x11008 87-90 -> 121-127, 64x4096x11008 104-106 -> 134-138,
   * 32x4096x4096 104-107 -> 113-115, 64x768x3072 119-129 -> 127-130; 2 threads
   * 32x4096x11008 206 -> 244-248, 64x4096x11008 217-228 -> 262-288. B within
   * two L2s (16x1024x1024 in a scratch harness: 121 -> 116) keeps the tiles; so
   * does f32 A of 128 rows (128x768x3072 133-136 -> 129-130). With B bf16 (f16
   * within 5%): 16x4096x11008 41-42 -> 114-122, 32x4096x11008 65-66 -> 124-130,
   * 64x4096x11008 97-102 -> 138-142, 128x4096x11008 118 -> 137-144,
   * 96x4096x4096 108-112 -> 138-141, 128x768x3072 121-126 -> 130-138; at 192
   * rows even (4096x4096: 126-132 -> 135), at 256 a loss (127-129 -> 123-125);
   * 2 threads 32x4096x11008 129 -> 249; CMX_ISA=avx2 32x4096x11008 32 -> 79.
   * bf16 x bf16 too: the pair kernel (one vdpbf16ps a cycle, no faster than the
   * f32 FMAs on this Xeon) packs B in 14-row tiles; 1 thread, ms, pair -> row
   * fold, interleaved: 16x4096x4096 15.0 -> 6.8, 32x4096x4096 20.8 -> 9.9,
   * 64x4096x4096 25.8 -> 16.2, 128x4096x4096 36.4 -> 36.5, 32x4096x11008 46.1
   * -> 22.8, 128x768x3072 5.0 -> 4.5; 2 threads 16x4096x4096 5.6 -> 3.6,
   * 64x4096x4096 13.3 -> 11.6, 128x4096x4096 22.1 -> 23.4. A 16-bit B within
   * two L2s folds too up to WIDE16_M rows (the packed path converts all of it
   * per call); 1 thread, bf16 x bf16, us, packed -> fold: 12x1024x2048 983 ->
   * 473, 16x512x512 106 -> 70, 16x1024x1024 468 -> 308, 32x1024x1024 711 ->
   * 561, 48x1024x1024 894 -> 786 (f16), 64x1024x1024 1090 -> 1080, 64x512x512
   * 259 -> 308, 128x1024x1024 1943 -> 2240; 2 threads 16x1024x1024 371 -> 262,
   * 12x1024x2048 476 -> 250, 48x1024x1024 579 -> 461. */
  const size_t l2 = cmx_topo()->l2;
  const double b_bytes = (double)p->k * (double)p->n *
                         (p->b.dtype == CMX_GEMM_F32 ? 4.0 : 2.0);
  const size_t wide_m = (rows16 ? 2 : 1) * rowacc_m(cfg);
  const int wide = p->m > RA_M && p->m <= wide_m &&
                   rows_b &&
                   (b_bytes > 2.0 * l2 || (rows16 && p->m <= WIDE16_M));
  if ((((skinny || rows16) && p->m <= RA_M) || wide) && cfg->rowacc &&
      p->k && p->k * p->m <= SHORT_A_SCRATCH)
    return rowacc_run(cfg, p, nt);
  if (skinny) {
    j.small = 1;
    j.kc = SKINNY_KC, j.mc = round_up(p->m, j.mr);
    j.nc = round_down(SKINNY_C / p->m, j.nr);
    if (j.nc > 4096) j.nc = 4096;
  }
  /* B read in place (aux.ldb, as the small path does) while A is short
   * and the whole depth is one block: packing B pays for itself over
   * m / mr row tiles of every panel, too few of them here. Zen 5 VM, 1
   * thread, kc 1024, GFLOP/s packed -> in place: 128x768x3072 248 -> 268,
   * 64x1024x4096 191 -> 245, 128^3 259 -> 273, 256^3 268 -> 278, 512^3
   * 277 -> 283; 2 threads 128^3 411 -> 454, 256^3 523 -> 546, 512^3
   * 547 -> 563, 512x1024x1024 528 -> 542. Past one block (128x4096x4096
   * 229 -> 196: kc rows of B 16 KiB apart share cache sets) and for
   * taller A (1024^3 on 2 threads 525-542 -> 464-533, 4096x128x4096 276 ->
   * 270: every row tile rereads the panel's rows from L2) B stays packed;
   * so does a B whose rows are a multiple of 4 KiB apart, whose panel
   * rows would share L1 sets (2-core Xeon VM, 1 thread, GFLOP/s in place
   * -> packed: 256x256x4096 121-126 -> 153-158, 64x256x4096 96-98 ->
   * 116-117, 512x128x2048 153-161 -> 165-172, 128x768x3072 at kc 768
   * 72 -> 132; the Zen 5 figure above for 128x768x3072, 12 KiB rows, was
   * taken before this rule and not since: no such machine here). */
  if (!j.small && !j.pairs && !skinny && p->m <= UNPACKED_B_M &&
      p->k <= j.kc && p->b.dtype == CMX_GEMM_F32 && p->b.cs == 1 &&
      p->b.rs > 0 && !rows_share_sets((size_t)p->b.rs))
    j.small = 1;
  /* Taller A ends each part on the skinny tile where that pads fewer
   * rows (tail_rows); same nr, and it reads A the same ways. */
  if (j.ukr == cfg->ukr && cfg->skinny_ukr && cfg->skinny_mr && !j.pairs &&
      !j.amx)
    j.tail_ukr = cfg->skinny_ukr, j.tail_mr = cfg->skinny_mr;
  /* A unpacked when the whole depth is one block (k <= kc): packing A
   * then is a transpose of all of A for as many FMAs as k allows (for
   * 64 x (128,64)@(64,128) 15% of the time on the 2-core VM), while the
   * microkernel can broadcast from A's rows in place. Not for row strides
   * of 4 KiB multiples, whose rows would share L1 sets. And, where the
   * tuning file says so (narrow_b_n), for any depth and stride when B is
   * narrow (each A panel serves at most n / nr column panels), where
   * packing A is a pass over all of it from memory, its rows read in
   * kc-long runs: Zen 5 VM, 1 thread, kc 1024, GFLOP/s packed -> in place,
   * 2048x4096x128 232 -> 257, 2048x4100x128 227 -> 259, 2048x4096x256
   * 241 -> 255; at n 512 even; wider B with 4 KiB-strided rows loses
   * (2048^3 269 -> 257). */
  const int narrow = p->n <= narrow_b_n(cfg);
  j.direct = !j.pairs && p->a.dtype == CMX_GEMM_F32 && p->a.cs == 1 &&
             p->a.rs > 0 && p->k > 0 &&
             ((p->k <= j.kc && !rows_share_sets((size_t)p->a.rs)) || narrow);
  /* A read in place for a narrow B goes deeper where the tuning file says
   * so (narrow_kc): each A row is then read in longer runs and C updated
   * fewer times. 2-core Xeon VM, 1 thread, GFLOP/s, interleaved, the
   * committed file (kc 384, A packed) -> with narrow_kc 1536:
   * 2048x4096x128 146-152 -> 170-173, 4096x4096x128 142-146 -> 168-169,
   * 1024x1024x128 150-157 -> 182-186, 2048x4096x256 160-162 -> 168-169.
   * By env alone (mc and nc from the caches), 2048x4096x128 in place at kc
   * 384 146, 768 169, 1536 172, 2048 174, 4096 169; 512x4096x128 152 ->
   * 175 and 2048x4096x64 133 -> 173 at 1536; 2 threads 2048x4096x128 302
   * -> 340, 1024x1024x128 311 -> 367; at n 512 in place loses at any kc
   * (167 -> 158-168). */
  /* A 16-bit A with k contiguous against such a narrow B: each block's
   * whole tiles converted to f32 rows once, then read as a direct A
   * (packing would transpose all of it). 2-core Xeon VM, 1 thread, bf16 A
   * x f32 B, GFLOP/s, packed -> converted rows, two builds: 4096x4096x64
   * 132-141 -> 145-153, 1024x1024x256 171-173 -> 176-181, 2048x4096x128
   * 159 -> 160-167; and the swapped problem of a bf16 B^T (swap_run). */
  j.cdirect = !j.direct && !j.pairs && !j.amx && narrow && !skinny &&
              p->a.dtype != CMX_GEMM_F32 && p->a.cs == 1 && p->a.rs > 0 &&
              p->k > 0;
  if ((j.direct || j.cdirect) && narrow && !skinny) {
    size_t nkc = tuned(cfg, g_env.narrow_kc, g_file.narrow_kc);
    if (nkc > j.kc) j.kc = nkc;
  }
  /* Short f32 A against a packed B: a shallower kc where the tuning file
   * says so (short_a_m, short_a_kc). Each B micro-panel then stays in L1
   * while the few row tiles pass (kc 384 x 32 floats is all of a 48 KiB
   * L1d). 2-core Xeon VM, GFLOP/s, kc 384 -> 256 by env in one build, two
   * interleaved rounds, 1 thread: 64x768x3072 131-133 -> 140-142,
   * 96x1024x4096 129-143 -> 139-150, 128x768x3072 151-152 -> 160-161,
   * 160x1024x4096 153-154 -> 154-165; 2 threads 3-5% (128x768x3072 305 ->
   * 317-318); from 192 rows even (192x768x3072 160 -> 159-162, 256^2 x
   * 1024 within the noise), where kc 384 amortises more C updates. */
  const size_t sam = tuned(cfg, g_env.short_m, g_file.short_m);
  if (sam && p->m <= sam && !j.small && !j.direct && !j.pairs && !j.amx &&
      !skinny && p->a.dtype == CMX_GEMM_F32 && p->b.dtype == CMX_GEMM_F32) {
    const size_t skc = tuned(cfg, g_env.short_kc, g_file.short_kc);
    if (skc && skc < j.kc) j.kc = skc;
  }
  if (nt > 1 && p->batch >= nt && (p->batch % nt == 0 || p->batch >= 4 * nt)) {
    j.batch_split = 1, j.tm = nt, j.tn = 1;
    /* Tiny entries taken several at a time, about 64K flops a take, at
     * most an eighth of a thread's share: a take a batch, the counter's
     * line went between the cores for each (2 threads, 1024 x (8x8 @
     * 8x8) 111-169 -> 46-50 us, 1 thread 81). */
    const double per = 2.0 * (double)p->m * (double)p->n * (double)p->k;
    size_t step = per > 0 ? (size_t)(65536.0 / per) : 1;
    const size_t cap = p->batch / (8 * nt);
    step = step > cap ? cap : step;
    j.batch_step = step ? step : 1;
  }
  else if (nt > 1 && skinny)
    j.tm = 1, j.tn = nt;
  else if (nt > 1)
    choose_grid(&j, nt, split, &j.tm, &j.tn);
  j.malign = j.tm > 1 ? split_align(&j, j.tm, NULL) : j.mr;
  cmx_parallel_for((int)nt, nt, 1, 1, gemm_thread, &j);
  return atomic_load(&j.failed) ? -1 : 0;
}
