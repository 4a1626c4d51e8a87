/* The dispatch table: which microkernel fills each slot on this CPU.
 * arch/generic.c fills every slot with the portable reference; each ISA
 * table (x86-avx2.c, x86-avx512.c, arm-neon.c) starts from the level below
 * it and overrides the slots it has kernels for. Chosen once at start-up
 * (or by cmx_set_isa) and read-only while kernels run. */
#ifndef CMX_ARCH_DISPATCH_H
#define CMX_ARCH_DISPATCH_H

#include "../kernels/cvt/cvt.h"
#include "../kernels/f32-dwconv/f32-dwconv.h"
#include "../kernels/f32-gemm/f32-gemm.h"
#include "../kernels/f32-norm/f32-norm.h"
#include "../kernels/f32-qgemm/f32-qgemm.h"
#include "../kernels/f32-reduce/f32-reduce.h"
#include "../kernels/f32-rope/f32-rope.h"
#include "../kernels/f32-softmax/f32-softmax.h"
#include "../kernels/f32-vbinary/f32-vbinary.h"
#include "../kernels/f32-vunary/f32-vunary.h"
#include "../kernels/f64-vunary/f64-vunary.h"
#include "../kernels/f32-where/f32-where.h"
#include "../kernels/random/random.h"
#include "../kernels/f64-gemm/f64-gemm.h"
#include "../kernels/i8-gemm/i8-gemm.h"
#include "../kernels/x32-transpose/x32-transpose.h"
#include "../kernels/x32-stream/x32-stream.h"

/* CMX_ISA_AVX512BF16 is the avx512 level plus the AVX512_BF16 GEMM
 * microkernel for bf16 x bf16 (its table starts from avx512's); it comes
 * after NEON so that the older levels keep their numbers. */
enum cmx_isa_level {
  CMX_ISA_GENERIC, CMX_ISA_AVX2, CMX_ISA_AVX512, CMX_ISA_NEON,
  CMX_ISA_AVX512BF16, CMX_ISA_COUNT
};

struct cmx_dispatch {
  enum cmx_isa_level isa;
  const char *name;
  cmx_f32_vunary_ukr_fn f32_vunary[CMX_VUNARY_COUNT];
  cmx_f32_vbinary_ukr_fn f32_vbinary[CMX_VBINARY_COUNT];
  cmx_f64_vunary_ukr_fn f64_vunary[CMX_VUNARY_COUNT]; /* NULL: no row */
  cmx_f64_softmax_ukr_fn f64_softmax;
  cmx_f32_where_ukr_fn f32_where;
  cmx_f32_rinner_ukr_fn f32_rinner[CMX_ROP_COUNT];
  cmx_f32_router_ukr_fn f32_router[CMX_ROP_COUNT];
  cmx_f32_rsumsqdev_ukr_fn f32_rsumsqdev;
  cmx_f32_rsumexp_ukr_fn f32_rsumexp;
  cmx_f32_rarg_ukr_fn f32_rargmax;
  cmx_f32_rarg_ukr_fn f32_rargmin;
  cmx_cvt_ukr_fn cvt[CMX_CVT_COUNT];
  cmx_f32_softmax_ukr_fn f32_softmax[CMX_SOFTMAX_COUNT];
  cmx_f32_softmax_fold_ukr_fn f32_softmax_fold;
  cmx_f32_norm_ukr_fn f32_norm[CMX_NORM_COUNT];
  cmx_h16_norm_ukr_fn h16_norm[CMX_NORM16_COUNT]; /* NULL: none here */
  cmx_h16_softmax_ukr_fn h16_softmax[CMX_SOFTMAX16_COUNT]; /* NULL: none */
  cmx_rng_ukr_fn rng; /* the random fill (kernels/random) */
  /* [0 bf16, 1 f16][rop]; NULL: none here */
  cmx_h16_rinner_ukr_fn h16_rinner[2][CMX_ROP_COUNT];
  cmx_h16_router_ukr_fn h16_router[2][CMX_ROP_COUNT];
  cmx_f32_rope_ukr_fn f32_rope[CMX_ROPE_COUNT];
  struct cmx_gemm_config gemm_f32; /* microkernel, tile, block sizes */
  struct cmx_f64_gemm_config gemm_f64;
  struct cmx_i8_gemm_config gemm_i8; /* VNNI kernel only where CPUID says */
  struct cmx_qgemm_config qgemm;     /* quantised (affine, grouped) W */
  struct cmx_transpose_config x32_transpose;
  cmx_x32_stream_ukr_fn x32_stream;
  cmx_f32_dwconv_ukr_fn f32_dwconv;
};

/* Table fillers, one per file. Each starts from the one below it. */
void cmx_dispatch_init_generic(struct cmx_dispatch *t);
void cmx_dispatch_init_x86_avx2(struct cmx_dispatch *t);
void cmx_dispatch_init_x86_avx512(struct cmx_dispatch *t);
void cmx_dispatch_init_x86_avx512bf16(struct cmx_dispatch *t);
void cmx_dispatch_init_arm_neon(struct cmx_dispatch *t);

/* 1 when this CPU can run the level (CPUID / HWCAP, checked once). */
int cmx_cpu_has(enum cmx_isa_level isa);
/* 1 when this CPU has AVX512-VNNI (CPUID.7.0:ECX bit 11) and the AVX512
 * level; 0 elsewhere (and on Arm). */
int cmx_cpu_has_avx512vnni(void);
/* 1 when bf16 matmul may use AMX tiles: CPUID has AMX-TILE and AMX-BF16
 * with AVX512_BF16, the OS enables the tile state in XCR0, and it granted
 * this process the tile data (arch_prctl, asked once); 0 with CMX_AMX=0,
 * elsewhere, and on Arm. */
int cmx_cpu_has_amx_bf16(void);
/* 1 when int8 matmul may use AMX tiles: CPUID has AMX-TILE and AMX-INT8
 * with AVX512, and the tile state is granted as above; 0 with CMX_AMX=0,
 * elsewhere, and on Arm. */
int cmx_cpu_has_amx_int8(void);
/* Best level this CPU has (avx512bf16 wherever CPUID has AVX512_BF16). */
enum cmx_isa_level cmx_cpu_best(void);
int cmx_avx512bf16_pays(void);
/* 1 where bf16 x bf16 matmul takes k-pairs by default: AVX512_BF16 and
 * either AMX tiles (cmx_cpu_has_amx_bf16) or a start-up probe finding
 * vdpbf16ps faster than the f32 FMA path (cmx_avx512bf16_pays). The
 * default table (CMX_ISA unset) drops the level's pair kernel elsewhere;
 * CMX_ISA=avx512bf16 (or cmx_set_isa) forces it. */
int cmx_pairs_pay(void);
/* The table in use (never NULL once cmx_arch_init ran). */
const struct cmx_dispatch *cmx_dispatch(void);
/* Chooses the table: level by name ("generic", "avx2", ...), or NULL or
 * "default" for the one cmx picks for this CPU with CMX_ISA unset. Returns 0, or -1 when the level is unknown or unavailable. */
int cmx_arch_select(const char *name);
/* Fills t for the named level without installing it (tests compare the
 * reference and every level side by side). -1 if unavailable. */
int cmx_dispatch_for(struct cmx_dispatch *t, enum cmx_isa_level isa);
/* The message for a CMX_ISA the CPU lacks (or an unknown one); NULL if
 * none. Ops fail with CMX_EUNSUPPORTED while it is set. */
const char *cmx_arch_env_error(void);

#endif
