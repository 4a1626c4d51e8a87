/* Dispatch table for the AVX2 level: starts from the level below and fills
 * the slots listed for CMX_ISA_AVX2 in each family's .inc file. */
#include "dispatch.h"

void cmx_dispatch_init_x86_avx2(struct cmx_dispatch *t) {
  cmx_dispatch_init_generic(t);
#define CMX_LEVEL CMX_ISA_AVX2
#include "fill-from-lists.h"
#undef CMX_LEVEL
  /* KC = 256: the 256 x 16 B micro-panel is 16 KiB, half of L1d. MC and
   * NC from L2 / L3 at run time (about 512 and 2048 on a 1 MiB / 32 MiB
   * core). */
  t->gemm_f32 = (struct cmx_gemm_config){
      .ukr = cmx_f32_gemm_ukr_6x16__avx2, .mr = 6, .nr = 16, .mc = 0,
      .direct_rows = 4,
      .kc = 256, .nc = 0, .pack = cmx_f32_gemm_pack_ukr__avx2, .pack_r = 8,
      .gemv4 = cmx_f32_gemv4_ukr__avx2,
      .rowacc = cmx_f32_rowacc_ukr__avx2,
      /* up to 64 rows against a B past two L2s (CMX_ISA=avx2, 2-core Xeon
       * VM, 1 thread, GFLOP/s, 6x16 -> the row fold: 32x4096x11008 68 ->
       * 82-88, 16x4096x11008 63-65 -> 81-83, 64x4096x11008 72-73 -> 87,
       * 64x768x3072 81-83 -> 82-84) */
      .rowacc_m = 64,
      .dot4 = cmx_f32_dot4_ukr__avx2,
      .dot4h = cmx_f32_dot4h_ukr__avx2,
      .gemv4h = cmx_f32_gemv4h_ukr__avx2,
      .rowacch = cmx_f32_rowacch_ukr__avx2};
  /* f64: KC 256 puts the 256 x 8 B micro-panel (16 KiB) in half of L1d,
   * as for f32; i8: KC 512 (4 KiB of B, the packer's int8 groups). */
  /* f64 KC 512 (the 6x8 kernel at CMX_ISA=avx2 on the 2-core Xeon VM, 1
   * thread, GFLOP/s at KC 256 / 384 / 512: 2048^3 39-41 / 45-46 / 49,
   * 1024^3 46-47 / 46-48 / 48-49.5; 256^3 56 -> 54; 2 threads 1024^3 103
   * -> 106). mc follows from L2, so smaller caches get fewer rows. */
  t->gemm_f64 = (struct cmx_f64_gemm_config){
      .ukr = cmx_f64_gemm_ukr_6x8__avx2, .mr = 6, .nr = 8, .kc = 512,
      .pack = cmx_f64_gemm_pack_ukr__avx2, .pack_r = 64};
  t->gemm_i8 = (struct cmx_i8_gemm_config){
      .ukr = cmx_i8_gemm_ukr_6x8c4__avx2, .mr = 6, .nr = 8, .kc = 512};
  /* transposed int8 B packed by the f32 packer as 32-bit words */
  t->gemm_i8.pack_w = t->gemm_f32.pack;
  t->gemm_i8.pack_w_r = t->gemm_f32.pack_r;
}
