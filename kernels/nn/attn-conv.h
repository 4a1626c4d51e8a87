/* Drivers of scaled dot-product attention (attn.c) and convolution
 * (conv.c). Both build on the f32 GEMM microkernel contract of
 * kernels/f32-gemm/f32-gemm.h: they pack their own A and B panels (query
 * rows, key panels, softmax weights; input patches, weight panels) and call
 * cfg->ukr on mr x nr tiles. Work is split across the team with
 * cmx_parallel_for over items whose size never depends on the thread
 * count, and every output element is summed in one fixed order, so results
 * are bitwise the same for any nthreads. Operands are f32; api/ converts. */
#ifndef CMX_NN_ATTN_CONV_H
#define CMX_NN_ATTN_CONV_H
#include <stddef.h>
#include <stdint.h>

#include "../cvt/cvt.h"
#include "../f32-dwconv/f32-dwconv.h"
#include "../f32-gemm/f32-gemm.h"
#include "../f32-reduce/f32-reduce.h"
#include "../f32-softmax/f32-softmax.h"
#include "../f32-vbinary/f32-vbinary.h"
#include "../f32-vunary/f32-vunary.h"

/* ---- attention ---- */
/* q (B, Hq, Lq, D), k (B, Hkv, Lk, D), v (B, Hkv, Lk, Dv): f32, element
 * (b, h, l, d) at b * s[0] + h * s[1] + l * s[2] + d (elements; d is
 * contiguous). o (B, Hq, Lq, Dv) row-major f32. Head h of q reads KV head
 * h / (Hq / Hkv). Scores are (q * scale) . k; with causal set, query i sees
 * keys j <= i + max(0, Lk - Lq) (MLX's alignment); mask (NULL: none) holds
 * f32 values at b * ms[0] + h * ms[1] + i * ms[2] + j * ms[3] (strides 0
 * where broadcast), added to the scores, or when mask_bool, a 0 entry
 * replaces the score by -FLT_MAX (MLX: finfo.min). */
struct cmx_attn_io {
  const float *q;
  const void *k, *v; /* f32, or 16-bit where kcvt (vcvt) is set */
  int64_t qs[3], ks[3], vs[3];
  float *o;
  size_t B, Hq, Hkv, Lq, Lk, D, Dv;
  float scale;
  int causal;
  const float *mask;
  int64_t ms[4];
  int mask_bool;
  /* 16-bit K or V read in place (only where cmx_attn_reads_16bit says
   * every block runs the row pass): kcvt (vcvt) non-NULL marks k's (v's)
   * elements as 16-bit, bf16 where kbf (vbf) is 1, f16 where 0, strides
   * ks (vs) counting them; the rows go to the gemm config's dot4h /
   * gemv4h, or where the level has none, are widened by kcvt (vcvt)
   * first. */
  cmx_cvt_ukr_fn kcvt, vcvt;
  int kbf, vbf;
};

struct cmx_attn_kernels {
  const struct cmx_gemm_config *gemm;
  cmx_f32_softmax_fold_ukr_fn fold; /* the online-softmax step */
  cmx_f32_vbinary_ukr_fn mul, div;  /* row op scalar (sb = 0) */
};

/* Flash-style: query blocks x key blocks with an online softmax; Lq == 1
 * (decode) splits the keys into fixed chunks merged in chunk order.
 * Returns 0, or -1 when workspace could not be allocated. */
int cmx_attn_run(const struct cmx_attn_io *io, const struct cmx_attn_kernels *k,
                 int nthreads);

/* 1 when cmx_attn_run takes every block of io (its shapes) through the
 * row pass, the one path that reads 16-bit K and V in place (k16, v16):
 * decode (query length 1) with at most 16 query heads a KV head, or fewer
 * query rows than half a microkernel tile (short chunks, speculative
 * decoding). */
int cmx_attn_reads_16bit(const struct cmx_attn_io *io,
                         const struct cmx_gemm_config *g);

/* ---- convolution ---- */
/* x (N, H, W, Cin) and w (Cout, KH, KW, Cin / groups) row-major f32; y
 * (N, Ho, Wo, Cout) row-major f32 with Ho = (H + 2 pad[0] - dil[0] (KH - 1)
 * - 1) / stride[0] + 1 (Wo likewise). Output channel o reads input channels
 * of group o / (Cout / groups). */
struct cmx_conv_io {
  const float *x, *w;
  float *y;
  size_t N, H, W, Cin, Cout, KH, KW, Ho, Wo, groups;
  int stride[2], pad[2], dil[2];
};

/* Depthwise (groups == Cin > 1) runs dw (the f32-dwconv microkernel) per
 * output pixel, taps in the padding reading zeros (a channel multiplier
 * above 1 on a copy of x with each channel repeated);
 * the rest an implicit GEMM (input patches packed per row tile into the
 * microkernel's A panels; no im2col buffer). Returns 0, or -1 when
 * workspace could not be allocated. */
int cmx_conv_run(const struct cmx_conv_io *io, const struct cmx_gemm_config *g,
                 cmx_f32_dwconv_ukr_fn dw, int nthreads);

#endif
