/* cmx-bench --suite nn (perf/nn.c): the deck of issue 4, cmx beside
 * PyTorch. What it borrows: the op and attention/convolution cases of
 * perf/ops.c, the cmx GEMM timing of perf/gemm.c and the PyTorch peer
 * runner of perf/torch.c, so that each case is written once. */
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

/* perf/torch.c. A result line of perf/torch_peer.py:
 * "family name shape threads median_s rate unit [note ...]", '_' in name
 * read as ' '. have_torch: 1 when python3 imports torch, else 0 after one
 * printed skip line. torch_peer runs the script with extra args (NULL:
 * none) on nt threads and calls fn for each result line; returns the number
 * of lines, or -1 (torch missing or the script failed: a printed line). */
struct torch_line {
  char fam[16], name[40], shape[24], unit[16], note[64];
  int threads;
  double median_s, rate;
};
int have_torch(void);
int torch_peer(const char *args, int nt,
               void (*fn)(const struct torch_line *, void *), void *ctx);

#endif
