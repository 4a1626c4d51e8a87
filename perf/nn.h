/* cmx-bench --suite nn (perf/nn.c): the deck of issue 4, cmx beside
 * PyTorch and MLX-CPU. What it borrows: the op and attention/convolution
 * cases of perf/ops.c, the cmx GEMM timing of perf/gemm.c and the Python
 * peer runner of perf/peer.c, so that each case is written once. */
#ifndef CMX_PERF_NN_H
#define CMX_PERF_NN_H

#include <stdint.h>

#include "bench.h"

int nn_steps(void);
void nn_run(void);

/* perf/ops.c. ops_case_row adds the row of the op-deck case named op
 * (k_cases) on fresh random (rows, cols) f32 inputs, shown as name and
 * shape: GB/s and its ratio to the same-run big-tier STREAM figure of the
 * case (copy for one input, one output), target want (0: none).
 * ops_acase_row adds the row of the attention or convolution case named op
 * (k_acases): rate in unit, ratio to ref_rate (named ref), target want.
 * Inputs are kept while consecutive calls ask for the same ones;
 * ops_release frees them. Both return the stored row or NULL. */
struct bench_row *ops_case_row(const char *op, const char *name, int64_t rows,
                               int64_t cols, const char *shape, double want,
                               int nt);
struct bench_row *ops_acase_row(const char *op, const char *name, int nt,
                                enum bench_unit unit, const char *ref,
                                double ref_rate, double want);
void ops_release(void);

/* perf/gemm.c: median seconds of cmx_matmul + cmx_eval of batch b of
 * (m, k) @ (k, n) on random evaluated f32 inputs at nt threads (0 on error,
 * *st the cmx status). */
double gemm_cmx_time(int b, int m, int k, int n, int nt, int *st);

/* perf/peer.c: the Python peers. A result line of their scripts
 * (perf/peer_common.py): "family name shape threads median_s rate unit
 * [note ...]", '_' in name read as ' '. peer_name: the family of the
 * peer's rows ("torch", "mlx"). peer_have: 1 when an interpreter imports
 * the peer's library, else 0 after one printed skip line. peer_runs_at: 1
 * when the peer has rows at nt threads (MLX-CPU: 1 thread only). peer_run
 * runs the script with extra args (NULL: none) on nt threads and calls fn
 * for each result line; returns the number of lines, or -1 (peer missing,
 * not at nt threads, or the script failed: a printed line). */
enum { PEER_TORCH, PEER_MLX, PEER_COUNT };
struct peer_line {
  char fam[16], name[40], shape[24], unit[16], note[64];
  int threads;
  double median_s, rate;
};
const char *peer_name(int p);
int peer_have(int p);
int peer_runs_at(int p, int nt);
int peer_run(int p, const char *args, int nt,
             void (*fn)(const struct peer_line *, void *), void *ctx);

#endif
