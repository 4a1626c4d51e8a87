/* NEON quantised GEMM microkernels (contracts in f32-qgemm.h): the shared
 * bodies of f32-qgemm-body.h on 4 lanes, so a 16-byte chunk of W is four
 * vectors of 4 consecutive bytes (two uxtl each) and 32 registers hold the
 * same tiles as AVX-512. Checked under qemu (tests/neon-check.c), not yet
 * timed on an Arm core. The quantiser stays the reference row. */
#include "arch/simd-neon.h"
#include "kernels/f32-qgemm/f32-qgemm.h"
#include "kernels/f32-qgemm/f32-qgemm-body.h"

QG_DEFINE_QDOT(cmx_f32_qdot_ukr__neon)
QG_DEFINE_QDEQ(cmx_f32_qdeq_ukr__neon)
