/* Dispatch table for the AVX512BF16 level: the avx512 table, the slots
 * listed for CMX_ISA_AVX512BF16 in each family's .inc file, and the
 * vdpbf16ps GEMM for bf16 x bf16 on the avx512 GEMM's tile and blocking.
 * Also the start-up probe that decides whether the level is the default:
 * a zmm vdpbf16ps does the work of two zmm FMAs, so it pays only where it
 * issues at more than half the FMA rate. */
#include <immintrin.h>
#include <pthread.h>
#include <time.h>

#include "dispatch.h"

void cmx_dispatch_init_x86_avx512bf16(struct cmx_dispatch *t) {
  cmx_dispatch_init_x86_avx512(t);
#define CMX_LEVEL CMX_ISA_AVX512BF16
#include "fill-from-lists.h"
#undef CMX_LEVEL
  t->gemm_f32.bf16_ukr = cmx_f32_gemm_bf16_ukr_14x32__avx512bf16;
  t->gemm_f32.bf16_zip = cmx_f32_gemm_bf16_zip_ukr__avx512bf16;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define CHAINS 12 /* > latency x issue rate of either instruction */
#define ITERS 4096

/* Seconds for ITERS rounds of CHAINS independent vdpbf16ps (bf16 != 0) or
 * vfmadd231ps chains; the sum goes to *sink so nothing is dropped. */
static double run(int bf16, float *sink) {
  __m512 acc[CHAINS];
  const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-3f);
  const __m512bh h = (__m512bh)_mm512_set1_epi16(0x3a83);
#pragma GCC unroll 12
  for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_set1_ps((float)c);
  double t0 = now();
  if (bf16) {
    for (int i = 0; i < ITERS; i++)
#pragma GCC unroll 12
      for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_dpbf16_ps(acc[c], h, h);
  } else {
    for (int i = 0; i < ITERS; i++)
#pragma GCC unroll 12
      for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_fmadd_ps(acc[c], x, y);
  }
  double t = now() - t0;
  __m512 s = acc[0];
#pragma GCC unroll 11
  for (int c = 1; c < CHAINS; c++) s = _mm512_add_ps(s, acc[c]);
  *sink += _mm512_reduce_add_ps(s);
  return t;
}

static int g_pays;
static pthread_once_t g_probe_once = PTHREAD_ONCE_INIT;

/* Best of 5 interleaved runs each (about 10 us per run). Measured on the
 * 16-core Sapphire Rapids device in three runs: vdpbf16ps 82-104 GFLOP/s
 * against 167-220 for the f32 FMA on one core, and the pair GEMM at 2048^3
 * ran 0.58-0.74x the f32 GEMM at 1 to 16 threads (90-95% of the vdpbf16ps
 * probe), so there converting while packing is the faster default. */
static void probe(void) {
  volatile float sink = 0;
  float s = 0;
  double tb = 1e30, tf = 1e30;
  for (int r = 0; r < 5; r++) {
    double a = run(1, &s), b = run(0, &s);
    tb = a < tb ? a : tb;
    tf = b < tf ? b : tf;
  }
  sink = s;
  (void)sink;
  /* flops: 64 per vdpbf16ps, 32 per FMA; pays when its rate is 10% over */
  g_pays = 64.0 / tb > 1.1 * 32.0 / tf;
}

int cmx_avx512bf16_pays(void) {
  pthread_once(&g_probe_once, probe);
  return g_pays;
}
