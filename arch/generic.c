/* Dispatch table for the GENERIC level: fills every slot with the
 * portable reference rows of each family's .inc file. */
#include "dispatch.h"

void cmx_dispatch_init_generic(struct cmx_dispatch *t) {
#define CMX_LEVEL CMX_ISA_GENERIC
#include "fill-from-lists.h"
#undef CMX_LEVEL
  /* Reference tile; block sizes from the cache sizes at run time. */
  t->gemm_f32 = (struct cmx_gemm_config){
      .ukr = cmx_f32_gemm_ukr_ref, .mr = 4, .nr = 8, .mc = 0, .kc = 256,
      .nc = 0, .pack = cmx_f32_gemm_pack_ukr__ref, .pack_r = 64,
      .gemv4 = cmx_f32_gemv4_ukr__ref,
      .rowacc = cmx_f32_rowacc_ukr__ref,
      .dot4 = cmx_f32_dot4_ukr__ref};
  t->gemm_f64 = (struct cmx_f64_gemm_config){
      .ukr = cmx_f64_gemm_ukr_ref, .mr = 4, .nr = 4, .kc = 256,
      .pack = cmx_f64_gemm_pack_ukr__ref, .pack_r = 64};
  t->gemm_i8 = (struct cmx_i8_gemm_config){
      .ukr = cmx_i8_gemm_ukr_ref, .mr = 4, .nr = 8, .kc = 512};
}
