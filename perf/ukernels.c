/* Microkernel rows: every kernel listed in the families' .inc files
 * (f32-vunary, f32-vbinary, f32-reduce, cvt), called directly on one thread
 * over L1- (4K elements) and L2-sized (64K) buffers, GB/s vs the same-run
 * STREAM figure of that tier (triad for binary, read for reductions, copy
 * otherwise). A row whose ISA this CPU lacks is skipped with a printed line.
 * With --quick only the L2 tier runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/dispatch.h"
#include "bench.h"

enum ukind { K_UNARY, K_BINARY, K_RINNER, K_ROUTER, K_RC, K_RSQ, K_RARG,
             K_CVT };

struct ukr {
  enum cmx_isa_level isa;
  const char *family, *name;
  enum ukind kind;
  int op; /* for cvt: the enum cmx_cvt_op row, to size its buffers */
  cmx_f32_vunary_ukr_fn un;
  cmx_f32_vbinary_ukr_fn bin;
  cmx_f32_rinner_ukr_fn rinner;
  cmx_f32_router_ukr_fn router;
  cmx_f32_rsumexp_ukr_fn rc;
  cmx_f32_rsumsqdev_ukr_fn rsq;
  cmx_f32_rarg_ukr_fn rarg;
  cmx_cvt_ukr_fn cvt;
};

#define CMX_UKR(i, o, fn)                                                      \
  {.isa = i, .family = "f32-vunary", .name = #fn, .kind = K_UNARY, .un = fn},
static const struct ukr k_unary[] = {
#include "kernels/f32-vunary/f32-vunary.inc"
};
#undef CMX_UKR
#define CMX_UKR(i, o, fn)                                                      \
  {.isa = i, .family = "f32-vbinary", .name = #fn, .kind = K_BINARY, .bin = fn},
static const struct ukr k_binary[] = {
#include "kernels/f32-vbinary/f32-vbinary.inc"
};
#undef CMX_UKR
#define CMX_RINNER(i, o, fn)                                                   \
  {.isa = i,                                                                   \
   .family = "f32-reduce",                                                     \
   .name = #fn,                                                                \
   .kind = K_RINNER,                                                           \
   .rinner = fn},
#define CMX_ROUTER(i, o, fn)                                                   \
  {.isa = i,                                                                   \
   .family = "f32-reduce",                                                     \
   .name = #fn,                                                                \
   .kind = K_ROUTER,                                                           \
   .router = fn},
#define CMX_RSUMSQDEV(i, fn)                                                   \
  {.isa = i, .family = "f32-reduce", .name = #fn, .kind = K_RSQ, .rsq = fn},
#define CMX_RSUMEXP(i, fn)                                                     \
  {.isa = i, .family = "f32-reduce", .name = #fn, .kind = K_RC, .rc = fn},
#define CMX_RARGMAX(i, fn)                                                     \
  {.isa = i, .family = "f32-reduce", .name = #fn, .kind = K_RARG, .rarg = fn},
#define CMX_RARGMIN(i, fn)                                                     \
  {.isa = i, .family = "f32-reduce", .name = #fn, .kind = K_RARG, .rarg = fn},
static const struct ukr k_reduce[] = {
#include "kernels/f32-reduce/f32-reduce.inc"
};
#undef CMX_RINNER
#undef CMX_ROUTER
#undef CMX_RSUMSQDEV
#undef CMX_RSUMEXP
#undef CMX_RARGMAX
#undef CMX_RARGMIN
#define CMX_UKR(i, o, fn)                                                      \
  {.isa = i, .family = "cvt", .name = #fn, .kind = K_CVT, .op = o, .cvt = fn},
static const struct ukr k_cvt[] = {
#include "kernels/cvt/cvt.inc"
};
#undef CMX_UKR

static const struct {
  const struct ukr *rows;
  int n;
} k_lists[] = {
    {k_unary, (int)(sizeof k_unary / sizeof k_unary[0])},
    {k_binary, (int)(sizeof k_binary / sizeof k_binary[0])},
    {k_reduce, (int)(sizeof k_reduce / sizeof k_reduce[0])},
    {k_cvt, (int)(sizeof k_cvt / sizeof k_cvt[0])},
};
#define NLISTS (int)(sizeof k_lists / sizeof k_lists[0])

static const char *isa_name(enum cmx_isa_level isa) {
  static const char *n[] = {"generic", "avx2", "avx512", "neon",
                            "avx512bf16"};
  return (unsigned)isa < 5 ? n[isa] : "?";
}

/* 1 when the kernel row or its family/ISA group passes --filter. */
static int wanted(const struct ukr *u, char *group, size_t len) {
  snprintf(group, len, "ukr %s %s", u->family, isa_name(u->isa));
  return bench_wants(group) || bench_wants(u->name);
}

int ukr_steps(void) {
  char group[64], last[64] = "";
  int n = 0;
  for (int l = 0; l < NLISTS; l++)
    for (int i = 0; i < k_lists[l].n; i++) {
      const struct ukr *u = &k_lists[l].rows[i];
      if (!wanted(u, group, sizeof group) || !strcmp(group, last))
        continue;
      snprintf(last, sizeof last, "%s", group);
      n += cmx_cpu_has(u->isa) != 0;
    }
  return n;
}

static float *g_x, *g_z, *g_y; /* 64-byte aligned, 64K floats each */
static volatile float g_sink;

/* One call of u over n elements; returns bytes read + written. */
static double call(const struct ukr *u, size_t n) {
  switch (u->kind) {
  case K_UNARY:
    u->un(n, g_x, g_y);
    return 8.0 * n;
  case K_BINARY:
    u->bin(n, g_x, 1, g_z, 1, g_y);
    return 12.0 * n;
  case K_RINNER:
    g_sink += u->rinner(n, g_x);
    return 4.0 * n;
  case K_ROUTER:
    u->router(n / 256, 256, g_x, 256, g_y);
    return 4.0 * n;
  case K_RC:
    g_sink += u->rc(n, g_x, 1.0f);
    return 4.0 * n;
  case K_RSQ: { /* var's pass: the squares and the sum */
    float sum;
    g_sink += u->rsq(n, g_x, 1.0f, &sum) + sum;
    return 4.0 * n;
  }
  case K_RARG:
    g_sink += (float)u->rarg(n, g_x);
    return 4.0 * n;
  default: {
    /* f32 -> 16-bit rows read 4 and write 2 bytes; the others the reverse. */
    int from16 = u->op == CMX_CVT_F16_F32 || u->op == CMX_CVT_BF16_F32;
    u->cvt(n, from16 ? (const void *)g_z : (const void *)g_x, g_y);
    return 6.0 * n;
  }
  }
}

static void time_row(const struct ukr *u, enum bench_tier tier, size_t n) {
  double v[16], bytes = call(u, n);
  int passes = 1;
  double t0 = bench_now();
  call(u, n);
  double est = bench_now() - t0;
  passes = (int)(1e-3 / (est + 1e-9)) + 1;
  int reps = g_opts.quick ? 5 : 9;
  for (int r = 0; r < reps; r++) {
    t0 = bench_now();
    for (int p = 0; p < passes; p++)
      call(u, n);
    v[r] = (bench_now() - t0) / passes;
  }
  double med = bench_median(v, reps);
  struct bench_row row = {.threads = 1,
                          .median_s = med,
                          .rate = bytes / med / 1e9,
                          .unit = UNIT_GBPS,
                          .ratio = -1,
                          .pass = -1};
  const char *ref = u->kind == K_BINARY                      ? "triad"
                    : u->kind == K_UNARY || u->kind == K_CVT ? "copy"
                                                             : "read";
  double peak = u->kind == K_BINARY ? g_peaks.triad[tier][1]
                : u->kind == K_UNARY || u->kind == K_CVT
                    ? g_peaks.copy[tier][1]
                    : g_peaks.read[tier][1];
  snprintf(row.family, sizeof row.family, "ukr");
  snprintf(row.name, sizeof row.name, "%s", u->name + 4); /* drop "cmx_" */
  snprintf(row.shape, sizeof row.shape, "%zuK", n >> 10);
  snprintf(row.ref, sizeof row.ref, "%s", ref);
  if (peak > 0)
    row.ratio = row.rate / peak;
  bench_add_row(&row);
}

void ukr_run(void) {
  const size_t cap = 65536;
  char group[64], last[64] = "";
  if (!ukr_steps())
    return;
  g_x = aligned_alloc(64, cap * sizeof(float));
  g_z = aligned_alloc(64, cap * sizeof(float));
  g_y = aligned_alloc(64, cap * sizeof(float));
  if (!g_x || !g_z || !g_y)
    goto done;
  /* Positive, moderate values keep log/sqrt/pow on their fast paths; the
   * 16-bit views of g_z hold finite halves and bfloat16s. */
  for (size_t i = 0; i < cap; i++) {
    g_x[i] = 0.5f + (float)(i % 1000) * 0.002f;
    g_z[i] = 1.0f + (float)(i % 777) * 0.001f;
  }
  for (int l = 0; l < NLISTS; l++)
    for (int i = 0; i < k_lists[l].n; i++) {
      const struct ukr *u = &k_lists[l].rows[i];
      if (!wanted(u, group, sizeof group))
        continue;
      int fresh = strcmp(group, last) != 0;
      snprintf(last, sizeof last, "%s", group);
      if (!cmx_cpu_has(u->isa)) {
        if (fresh)
          printf("ukr: %s skipped: this CPU lacks %s\n", group,
                 isa_name(u->isa));
        continue;
      }
      if (fresh)
        bench_progress(group);
      if (!g_opts.quick)
        time_row(u, TIER_SMALL, 4096);
      time_row(u, TIER_L2, cap);
    }
done:
  free(g_x), free(g_z), free(g_y);
}
