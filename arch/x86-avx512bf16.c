/* Dispatch table for the AVX512BF16 level: the avx512 table, the slots
 * listed for CMX_ISA_AVX512BF16 in each family's .inc file, and the
 * vdpbf16ps GEMM for bf16 x bf16 on the avx512 GEMM's tile and blocking. */
#include "dispatch.h"

void cmx_dispatch_init_x86_avx512bf16(struct cmx_dispatch *t) {
  cmx_dispatch_init_x86_avx512(t);
#define CMX_LEVEL CMX_ISA_AVX512BF16
#include "fill-from-lists.h"
#undef CMX_LEVEL
  t->gemm_f32.bf16_ukr = cmx_f32_gemm_bf16_ukr_14x32__avx512bf16;
  t->gemm_f32.bf16_zip = cmx_f32_gemm_bf16_zip_ukr__avx512bf16;
}
