/* Dispatch table for the NEON level: starts from the level below and fills
 * the slots listed for CMX_ISA_NEON in each family's .inc file. */
#include "dispatch.h"

void cmx_dispatch_init_arm_neon(struct cmx_dispatch *t) {
  cmx_dispatch_init_generic(t);
#define CMX_LEVEL CMX_ISA_NEON
#include "fill-from-lists.h"
#undef CMX_LEVEL
  /* KC = 256: the 256 x 12 B micro-panel is 12 KiB of a 32+ KiB L1d. */
  t->gemm_f32 = (struct cmx_gemm_config){
      .ukr = cmx_f32_gemm_ukr_8x12__neon, .mr = 8, .nr = 12, .mc = 0,
      .kc = 256, .nc = 0, .pack = cmx_f32_gemm_pack_ukr__ref, .pack_r = 64,
      .gemv4 = cmx_f32_gemv4_ukr__neon,
      .rowacc = cmx_f32_rowacc_ukr__neon,
      /* .rowacc_m unset (8 rows): its wide form is checked under qemu
       * (neon-check) but not timed on an Arm core */
      .dot4 = cmx_f32_dot4_ukr__neon,
      .dot4h = cmx_f32_dot4h_ukr__neon,
      .gemv4h = cmx_f32_gemv4h_ukr__neon,
      .rowacch = cmx_f32_rowacch_ukr__neon};
  t->gemm_f64 = (struct cmx_f64_gemm_config){
      .ukr = cmx_f64_gemm_ukr_8x6__neon, .mr = 8, .nr = 6, .kc = 256,
      .pack = cmx_f64_gemm_pack_ukr__neon, .pack_r = 64};
  t->gemm_i8 = (struct cmx_i8_gemm_config){
      .ukr = cmx_i8_gemm_ukr_4x8c4__neon, .mr = 4, .nr = 8, .kc = 512};
}
