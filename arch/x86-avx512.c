/* Dispatch table for the AVX512 level: starts from the level below and fills
 * the slots listed for CMX_ISA_AVX512 in each family's .inc file. */
#include "dispatch.h"

void cmx_dispatch_init_x86_avx512(struct cmx_dispatch *t) {
  cmx_dispatch_init_x86_avx2(t);
#define CMX_LEVEL CMX_ISA_AVX512
#include "fill-from-lists.h"
#undef CMX_LEVEL
  /* KC = 256 (B micro-panel 32 KiB): 1024^3 on one thread, same run,
   * KC 192 / 256 / 384 gave 31.8 / 36.8 / 29.7 GFLOP/s on a loaded VM.
   * MC and NC from L2 / L3 at run time. */
  t->gemm_f32 = (struct cmx_gemm_config){
      .ukr = cmx_f32_gemm_ukr_14x32__avx512, .mr = 14, .nr = 32, .mc = 0,
      .direct_rows = 7, .direct_runs = 1,
      .skinny_ukr = cmx_f32_gemm_ukr_8x32__avx512, .skinny_mr = 8,
      .kc = 256, .nc = 0, .pack = cmx_f32_gemm_pack_ukr__avx512,
      .pack_r = 16,
      .gemv4 = cmx_f32_gemv4_ukr__avx512,
      .rowacc = cmx_f32_rowacc_ukr__avx512,
      /* up to 64 rows against a B past two L2s (f32-gemm.c); at 128 rows
       * the packed tile is as fast from memory (2 threads 128x4096x11008
       * 270-275 either way) and faster from L3 (128x768x3072 1 thread
       * 133-136 against 129-130, 2 threads 269-284 against 250-253). */
      .rowacc_m = 64,
      .dot4 = cmx_f32_dot4_ukr__avx512,
      .dot4h = cmx_f32_dot4h_ukr__avx512,
      .gemv4h = cmx_f32_gemv4h_ukr__avx512,
      .rowacch = cmx_f32_rowacch_ukr__avx512};
  /* f64 KC 512: a 64 KiB B micro-panel, streamed from L2 with the A
   * panel as f32's are at KC 384 and up (2-core Xeon VM, interleaved,
   * GFLOP/s at KC 256 -> 512: 2048^3 72-75 -> 78-81, 1024^3 81-83 ->
   * 83-85, 256^3 even; 2 threads 1024^3 152-157 -> 164-168, 2048^3
   * 153-156 -> 160-164; 128 and 192 lost 10-20%). */
  t->gemm_f64 = (struct cmx_f64_gemm_config){
      .ukr = cmx_f64_gemm_ukr_14x16__avx512, .mr = 14, .nr = 16, .kc = 512,
      .pack = cmx_f64_gemm_pack_ukr__avx512, .pack_r = 64};
  /* bf16 x bf16 on AMX tiles where the CPU and OS allow it (its pair
   * packing needs the avx512bf16 zip kernel, which AMX CPUs all have). */
  if (cmx_cpu_has_amx_bf16()) {
    t->gemm_f32.bf16_amx = cmx_f32_gemm_bf16_ukr_32x32__amx;
    t->gemm_f32.bf16_zip = cmx_f32_gemm_bf16_zip_ukr__avx512bf16;
    t->gemm_f32.amx_begin = cmx_f32_gemm_amx_begin;
    t->gemm_f32.amx_end = cmx_f32_gemm_amx_end;
  }
  /* i8: vpdpbusd where CPUID has AVX512-VNNI (else the AVX2 kernel stays);
   * KC 1024: the 1024 x 32 B micro-panel (32 KiB) and the A micro-panel
   * (14 KiB) share L1, and C (read, added, written) comes half as often
   * as at 512, where its loads held 6% of the kernel's samples. 2-core
   * Xeon VM, 1 thread, 512 -> 1024, interleaved: 2048^3 37.2-37.8 ->
   * 32.1-32.9 ms, 1024^3 3.83-3.84 -> 3.69-3.79; 2 threads 2048^3
   * 16.4-17.3 -> 15.8-15.9. */
  if (cmx_cpu_has_avx512vnni())
    t->gemm_i8 = (struct cmx_i8_gemm_config){
        .ukr = cmx_i8_gemm_ukr_14x32c4_vnni__avx512, .b_biased = 1,
        .mr = 14, .nr = 32, .kc = 1024,
        .pack_b4 = cmx_i8_gemm_pack_b4__avx512,
        .dotrows = cmx_i8_gemm_dotrows__avx512vnni,
        .sweep = cmx_i8_gemm_sweep__avx512vnni};
  /* and on AMX tiles (tdpbssd) where the CPU and OS allow it; the tile
   * configuration is the bf16 kernel's. */
  if (cmx_cpu_has_amx_int8()) {
    t->gemm_i8.amx = cmx_i8_gemm_ukr_32x32__amx;
    t->gemm_i8.amx_begin = cmx_f32_gemm_amx_begin;
    t->gemm_i8.amx_end = cmx_f32_gemm_amx_end;
  }
  t->gemm_i8.pack_w = t->gemm_f32.pack;
  t->gemm_i8.pack_w_r = t->gemm_f32.pack_r;
}
