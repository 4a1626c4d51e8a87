/* cmx-bench: shared declarations of the microbenchmark harness.
 * Every measurement becomes one row (median time, rate, ratio to a peak
 * measured in the same run, target and verdict); main.c prints the rows as a
 * table and as JSON. Peaks are indexed by thread count and by size tier so
 * that each op is compared with the bandwidth of the same cache level. */
#ifndef CMX_PERF_BENCH_H
#define CMX_PERF_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_THREADS 64
#define BENCH_MAX_ROWS 1024

/* Size tiers of the deck: 4K elements, 64K (256 KB of f32: L2), 16M. */
enum bench_tier { TIER_SMALL, TIER_L2, TIER_BIG, TIER_COUNT };

struct bench_opts {
  int quick;                      /* --quick: fewer reps, less memory */
  int no_peaks;                   /* --no-peaks: skip FMA and STREAM */
  const char *filter;             /* --filter SUBSTR or NULL */
  const char *json;               /* --json FILE or NULL */
  int threads[BENCH_MAX_THREADS]; /* --threads LIST */
  int nthreads;                   /* entries in threads[] */
  int mem_mb;                     /* --mem-mb: STREAM arrays in total */
  double row_budget_s;            /* time spent per op row */
  int min_reps, max_reps;         /* repetitions per op row */
  const char *argv0;              /* to find the perf/ peer scripts */
  const char *suite;              /* --suite NAME ("gemm") or NULL: all */
  int cmx_only;                   /* --cmx-only: gemm rows without peers */
  int exact_reps;                 /* --reps N, else 0 */
};

/* Same-run peaks; 0 where not measured. [t] is the thread count. */
struct bench_peaks {
  double fma_f32[BENCH_MAX_THREADS + 1]; /* GFLOP/s */
  double fma_f64[BENCH_MAX_THREADS + 1];
  double bf16[BENCH_MAX_THREADS + 1];             /* vdpbf16ps, GFLOP/s */
  double vnni[BENCH_MAX_THREADS + 1]; /* vpdpbusd, GOP/s (int8 mul + add) */
  double amx[BENCH_MAX_THREADS + 1];  /* tdpbf16ps, GFLOP/s (0: no AMX) */
  double amx8[BENCH_MAX_THREADS + 1]; /* tdpbssd, GOP/s (0: no AMX-INT8) */
  double copy[TIER_COUNT][BENCH_MAX_THREADS + 1]; /* GB/s */
  double triad[TIER_COUNT][BENCH_MAX_THREADS + 1];
  double read[TIER_COUNT][BENCH_MAX_THREADS + 1];
  double copy_nt[BENCH_MAX_THREADS + 1];  /* big tier only */
  double triad_nt[BENCH_MAX_THREADS + 1]; /* big tier only */
  const char *fma_isa;                    /* "avx512", ... */
};

enum bench_unit { UNIT_GBPS, UNIT_GFLOPS, UNIT_US, UNIT_X, UNIT_GOPS };

struct bench_row {
  char family[16]; /* "peak", "stream", "binary", "latency", ... */
  char name[40];   /* "exp", "sum axis=-1", ... */
  char shape[24];  /* "4096x4096", "16M", ... */
  int threads;
  double median_s; /* median time of one repetition */
  double rate;     /* in unit */
  enum bench_unit unit;
  double ratio;    /* rate / same-run peak; < 0: none */
  char ref[16];    /* what ratio divides by: "triad", "copy", "fma" */
  char target[16]; /* ">=85%", "<=1us", "" */
  int pass;        /* 1 PASS, 0 MISS, -1 no target, -2 error */
  char note[96];   /* peer figures or the error message */
};

extern struct bench_opts g_opts;
extern struct bench_peaks g_peaks;

/* Rows (main.c). bench_add_row copies r and returns the stored row. */
struct bench_row *bench_add_row(const struct bench_row *r);
struct bench_row *bench_rows(int *n);

/* Progress (main.c): bench_step returns 1 when label passes --filter and
 * then prints "[i/total] label ..." to stderr; bench_progress prints
 * whatever the filter (peaks); bench_wants only tests the filter. */
int bench_wants(const char *label);
int bench_step(const char *label);
int bench_progress(const char *label);
void bench_add_total(int steps);

/* Timing helpers (main.c). */
double bench_now(void);                /* seconds, monotonic */
double bench_median(double *v, int n); /* sorts v */
/* Repetitions for a row whose one run took est seconds: the row budget
 * over est within [min_reps, max_reps]; rows slower than the budget get
 * fewer (at least 1) so that no row takes more than about 4 budgets. */
int bench_reps(double est);
/* Median seconds of call(ctx) (0 and *st = its status on failure): one
 * timed warm-up call, then about 0.3 s of calls (0.05 s with --quick), at
 * least 3 (1 for calls over 0.5 s with --quick), at most 100 (--reps N:
 * exactly N). The GEMM decks' policy. */
double bench_time_calls(int (*call)(const void *ctx), const void *ctx,
                        int *st);
/* bench_time_calls's policy over a budget of seconds: the timed calls'
 * seconds into v (at most cap), their count returned (0 and *st on
 * failure). */
int bench_time_samples(int (*call)(const void *ctx), const void *ctx,
                       int *st, double budget, double *v, int cap);
/* Before timing library lib (any id, one per library): when the library
 * changes, the previous one's thread pool gets 150 ms to stop spinning
 * (OpenBLAS's workers spin ~2^28 cycles, libgomp's a few ms). On the
 * 16-core Xeon, cmx rows timed right after a peer ran 10-35% slower than
 * alone (128x768x3072 1 thread: 88 in the deck, 129-145 GFLOP/s alone). */
void bench_settle(int lib);
/* The GEMM decks' peer timing: bench_settle(lib), the thread count set
 * the library's way (0 cmx, 1 BLIS, 2 OpenBLAS through ob_threads, 3
 * oneDNN through this thread's OpenMP), then bench_time_calls. */
enum { BENCH_LIB_CMX, BENCH_LIB_BLIS, BENCH_LIB_OPENBLAS, BENCH_LIB_ONEDNN };
double bench_time_lib(int lib, int nt, void (*ob_threads)(int),
                      int (*call)(const void *ctx), const void *ctx,
                      int *st);
/* The same with bench_time_samples (budget seconds, samples into v). */
int bench_time_lib_samples(int lib, int nt, void (*ob_threads)(int),
                           int (*call)(const void *ctx), const void *ctx,
                           int *st, double budget, double *v, int cap);
const char *bench_tier_shape(enum bench_tier t);

/* Modules, in the order main.c runs them. *_steps counts progress steps. */
int peak_steps(void);
void peak_run(void);
int stream_steps(void);
void stream_run(void);
/* The big-tier STREAM figure again, now ("copy", "triad" or "read"; best of
 * as many passes as stream_run takes, at nt threads), also written to
 * *rate; 0, and *rate left alone, before stream_run or without its
 * arrays). On the 2-core VM the second core's memory
 * bandwidth changes from minute to minute (2-thread copy 50 or 100 GB/s),
 * so a 2-thread row set against the start-of-run figure says more about
 * the host than about the op: rows over arrays far past the caches take
 * their ratio from this probe, run right after them, and give both
 * figures in the note. */
double bench_stream_again(const char *kind, int nt, double *rate);
int ops_steps(void);
void ops_run(void);
void ops_speedups(void);
int matmul_steps(void);
void matmul_run(void);
int ukr_steps(void);
void ukr_run(void);
int latency_steps(void);
void latency_run(void);
/* ns for one round trip of a cache line between the first two CPUs of
 * the process mask (perf/latency.c); 0 with one CPU. */
double bench_core_rtt_ns(void);
extern double g_rtt_before; /* measured before the op deck (main.c) */
void streams_run(void); /* adds its own steps to the total */
int peers_steps(void);  /* perf/peer.c: PyTorch and MLX-CPU */
void peers_run(void);
int compile_steps(void); /* perf/compile.c: fused vs unfused chains */
void compile_run(void);
int gemm_steps(void); /* perf/gemm.c: the deck of issue 3 */
void gemm_run(void);
int gemm_bf16_steps(void); /* perf/gemm-bf16.c: its bf16 rows */
void gemm_bf16_run(void);
int gemm_typed_steps(void); /* perf/gemm-typed.c: f64 and int8 rows */
void gemm_typed_run(void);

/* FMA probes (peak-avx2.c, peak-avx512.c): run iters iterations of 12
 * independent chains; return a value that depends on every chain. */
float bench_fma_f32__avx2(long iters);
double bench_fma_f64__avx2(long iters);
float bench_fma_f32__avx512(long iters);
double bench_fma_f64__avx512(long iters);
float bench_dpbf16__avx512bf16(long iters);
float bench_tdpbf16__amx(long iters);
int bench_tdpbssd__amx(long iters);
int bench_dpbusd__avx512vnni(long iters);
/* Flops per iteration of each probe. */
#define BENCH_FMA_F32_AVX2_FLOPS (12 * 8 * 2)
#define BENCH_FMA_F64_AVX2_FLOPS (12 * 4 * 2)
#define BENCH_FMA_F32_AVX512_FLOPS (12 * 16 * 2)
#define BENCH_FMA_F64_AVX512_FLOPS (12 * 8 * 2)
#define BENCH_DPBF16_AVX512_FLOPS (12 * 32 * 2)
#define BENCH_TDPBF16_AMX_FLOPS (6 * 16 * 16 * 32 * 2)
#define BENCH_TDPBSSD_AMX_OPS (6 * 16 * 16 * 64 * 2)
#define BENCH_DPBUSD_AVX512_OPS (12 * 64 * 2) /* 64 u8 x s8 products + adds */

/* STREAM kernels on [0, n) (stream-avx2.c, stream-avx512.c; portable ones
 * in stream.c). Pointers 64-byte aligned, n a multiple of 16. The _nt
 * variants store with non-temporal hints and end with an sfence. */
struct bench_stream_kernels {
  const char *isa;
  void (*copy)(float *restrict dst, const float *restrict src, size_t n);
  void (*copy_nt)(float *restrict dst, const float *restrict src, size_t n);
  void (*triad)(float *restrict a, const float *restrict b,
                const float *restrict c, float s, size_t n);
  void (*triad_nt)(float *restrict a, const float *restrict b,
                   const float *restrict c, float s, size_t n);
  float (*read)(const float *restrict a, size_t n);
};
void bench_stream_kernels__avx2(struct bench_stream_kernels *k);
void bench_stream_kernels__avx512(struct bench_stream_kernels *k);

#endif
