/* Loop bodies of the qdot and qdeq microkernels (contracts in
 * f32-qgemm.h), written once against arch/simd-*.h: include it after one
 * of them and call qdot_body / qdeq_body from the kernel of literal name.
 * qdot needs chunks of at least VF_N bytes (C >= VF_N: every format on
 * AVX2 and NEON; all but 2 bits g32 on AVX-512, which its file keeps). */
#ifndef CMX_F32_QGEMM_BODY_H
#define CMX_F32_QGEMM_BODY_H
#include <stddef.h>
#include <stdint.h>

/* UBSan is off in these bodies (ASan is not): on the unrolled tiles its
 * checks, pointer-overflow above all, took clang with the fuzzer's
 * sanitizers over 4 minutes for the AVX-512 file, 20 s without. The
 * addresses stay inside the operands the contract describes, and ASan
 * still checks every load and store. */
#define QG_INLINE \
  static inline __attribute__((always_inline, no_sanitize("undefined")))

#ifdef VF_LUT16
/* i & (2^BITS - 1) as f32 for i < 16, by BITS / 2 - 1 (2 and 4 bits) */
static const float qg_codes[2][16] = {
    {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
#endif

/* Field f (< 8 / BITS) of the bytes widened in v, as f32: shift, mask
 * (not for the top field) and convert; no code moves between lanes. Where
 * a 16-entry lookup is one instruction (vf_lut16), 2 and 4 bits take it
 * instead of the mask and the conversion (it reads the low 4 bits; the
 * 2-bit table repeats the codes): the same values. A 32-entry vpermt2ps
 * first, against the mask and conversion: AVX-512, 1 thread, 1x4096 @
 * 4096x4096 4 bits g64, same-run bench pairs: 698-705 -> 617-643 us; 2
 * threads 345-364 -> 320-331 (predicted 14%: 6 port-0/5 uops for 32 codes
 * against 7). Then vpermps, which keeps its table register where
 * vpermt2ps overwrote one and gcc copied it before each lookup (2-core
 * Xeon VM, 1 thread, 1 x 128x4096: M 1 19.6 -> 19.2 us, M 2 31.3 ->
 * 29.9). */
QG_INLINE vf qdot_field(vi v, const int BITS, const int f) {
  const int E = 8 / BITS;
  vi q = f ? vi_srl(v, f * BITS) : v;
#ifdef VF_LUT16
  if (BITS < 8) return vf_lut16(qg_codes[BITS / 2 - 1], q);
#endif
  if (E > 1 && f < E - 1) q = vi_and(q, vi_set1((1 << BITS) - 1));
  return vi_cvt_vf(q);
}

/* Accumulators a (row of x, row of W) pair: two by field parity (by
 * vector parity at 8 bits) so more FMA chains run at once; one where 16
 * registers cannot hold 3 M J accumulators and totals beside the codes. */
#define QDOT_NACC (VF_REGS >= 32 ? 2 : 1)

/* J rows of W against M rows of x: chunks of C bytes (E = 8 / BITS fields,
 * C E elements), CPG chunks a group, each chunk P = C / VF_N vectors of
 * consecutive bytes; lanes t0.. of field f pair with x at f C + t0. CPG
 * is a constant, so a group's chunks unroll: with a loop over them (2
 * chunks a group at 4 bits, g64) the loop and the row pointers, spilled,
 * took most of the time (AVX-512, 1 thread, 4096^2: 27 against 33 GB/s).
 * Per group the lane sums are scaled into a total; the bias terms (bias .
 * group sums of x) join it before the one horizontal sum. */
QG_INLINE void qdot_tile(const int M, const int J, const int BITS,
                         const int C, const int CPG, size_t k,
                         const uint32_t *w, size_t ldw, const float *s,
                         const float *b, size_t lds, const float *xp,
                         size_t ldx, const float *xs, size_t ldxs, float *y,
                         size_t ldy) {
  const int E = 8 / BITS, P = C / VF_N, NACC = QDOT_NACC;
  const size_t ng = k / ((size_t)CPG * C * E);
  /* Row pointers bumped a group at a time: every load of the unrolled
   * group is then a constant offset from one of M + J registers. */
  const uint8_t *wj[4];
  const float *sj[4], *xr[8];
#pragma GCC unroll 4
  for (int j = 0; j < J; j++) {
    wj[j] = (const uint8_t *)(w + j * ldw);
    sj[j] = s + j * lds;
  }
#pragma GCC unroll 8
  for (int i = 0; i < M; i++) xr[i] = xp + i * ldx;
  vf tot[8][4];
#pragma GCC unroll 8
  for (int i = 0; i < M; i++)
#pragma GCC unroll 4
    for (int j = 0; j < J; j++) tot[i][j] = vf_zero();
  for (size_t g = 0; g < ng; g++) {
    vf acc[8][4][2];
#pragma GCC unroll 8
    for (int i = 0; i < M; i++)
#pragma GCC unroll 4
      for (int j = 0; j < J; j++) acc[i][j][0] = acc[i][j][1] = vf_zero();
#pragma GCC unroll 8
    for (int u = 0; u < CPG; u++)
#pragma GCC unroll 4
      for (int p = 0; p < P; p++) {
        vi v[4];
#pragma GCC unroll 4
        for (int j = 0; j < J; j++)
          v[j] = vi_load_u8(wj[j] + u * C + p * VF_N);
#pragma GCC unroll 4
        for (int f = 0; f < E; f++) {
          vf q[4];
#pragma GCC unroll 4
          for (int j = 0; j < J; j++) q[j] = qdot_field(v[j], BITS, f);
          /* The chain (h) and whether this is its first product: a
           * multiply then, not an FMA into a zeroed register, for which
           * gcc copies the codes (16 vmovaps a group at M = 4, J = 2). x
           * shared by J > 1 rows is pinned in a register (vf_reg): gcc
           * otherwise reloads it as each FMA's memory operand. Both: M = 4
           * 0.81 -> 0.77 ms, 2 bits g64 M = 1 369 -> 336 us (AVX-512,
           * 4096^2, 1 thread); the multiplies alone let gcc hoist the next
           * chunk's loads and spill x (0.90 ms). */
          const int t = (u * P + p) * E + f;
          const int h = t % NACC, first = t < NACC;
#pragma GCC unroll 8
          for (int i = 0; i < M; i++) {
            vf xv = vf_load(xr[i] + (u * E + f) * C + p * VF_N);
            if (J > 1) xv = vf_reg(xv);
#pragma GCC unroll 4
            for (int j = 0; j < J; j++)
              acc[i][j][h] = first ? vf_mul(xv, q[j])
                                   : vf_fmadd(xv, q[j], acc[i][j][h]);
          }
        }
      }
#pragma GCC unroll 4
    for (int j = 0; j < J; j++) {
      vf sv = vf_set1(sj[j][g]);
#pragma GCC unroll 8
      for (int i = 0; i < M; i++)
        tot[i][j] = vf_fmadd(
            NACC == 1 ? acc[i][j][0] : vf_add(acc[i][j][0], acc[i][j][1]), sv,
            tot[i][j]);
      wj[j] += CPG * C;
    }
#pragma GCC unroll 8
    for (int i = 0; i < M; i++) xr[i] += CPG * C * E;
  }
  /* bias . group sums, VF_N groups a step */
  for (size_t g = 0; g < ng; g += VF_N) {
    const size_t r = ng - g < VF_N ? ng - g : VF_N;
#pragma GCC unroll 4
    for (int j = 0; j < J; j++) {
      vf bv = vf_load_n(b + j * lds + g, r);
#pragma GCC unroll 8
      for (int i = 0; i < M; i++)
        tot[i][j] = vf_fmadd(bv, vf_load_n(xs + i * ldxs + g, r), tot[i][j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < M; i++)
#pragma GCC unroll 4
    for (int j = 0; j < J; j++) y[i * ldy + j] = vf_hsum(tot[i][j]);
}

/* All n rows of W: J a step as registers allow (3 M J accumulators and
 * totals, J widened vectors and J codes beside them), then one at a time.
 * With 32 registers: 4 at M = 1, 2 up to M = 4, else 1. With 16: 4 at M =
 * 1 (2 M J + 2 J), 2 at M = 2, else 1. */
QG_INLINE void qdot_rows(const int M, const int BITS, const int C,
                         const int CPG, size_t n, size_t k, const uint32_t *w,
                         size_t ldw, const float *s, const float *b,
                         size_t lds, const float *xp, size_t ldx,
                         const float *xs, size_t ldxs, float *y, size_t ldy) {
  const int J = VF_REGS >= 32 ? (M == 1 ? 4 : M <= 4 ? 2 : 1)
                              : (M == 1 ? 4 : M == 2 ? 2 : 1);
  size_t j = 0;
  for (; j + J <= n; j += J)
    qdot_tile(M, J, BITS, C, CPG, k, w + j * ldw, ldw, s + j * lds,
              b + j * lds, lds, xp, ldx, xs, ldxs, y + j, ldy);
  for (; j < n; j++)
    qdot_tile(M, 1, BITS, C, CPG, k, w + j * ldw, ldw, s + j * lds,
              b + j * lds, lds, xp, ldx, xs, ldxs, y + j, ldy);
}

/* One M: (bits, group size) picks the chunk size and the chunks a group
 * as constants. 2 bits g32 (C = 8) only where VF_N <= 8. */
QG_INLINE void qdot_format(const int M, int bits, size_t gs, size_t n,
                           size_t k, const uint32_t *w, size_t ldw,
                           const float *s, const float *b, size_t lds,
                           const float *xp, size_t ldx, const float *xs,
                           size_t ldxs, float *y, size_t ldy) {
#define QDOT_ROWS(BITS, C, CPG)                                               \
  qdot_rows(M, BITS, C, CPG, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, \
            ldy)
  switch (bits * 1000 + (int)gs) {
    case 2032:
      if (VF_N <= 8) QDOT_ROWS(2, 8, 1);
      break;
    case 2064: QDOT_ROWS(2, 16, 1); break;
    case 2128: QDOT_ROWS(2, 16, 2); break;
    case 4032: QDOT_ROWS(4, 16, 1); break;
    case 4064: QDOT_ROWS(4, 16, 2); break;
    case 4128: QDOT_ROWS(4, 16, 4); break;
    case 8032: QDOT_ROWS(8, 16, 2); break;
    case 8064: QDOT_ROWS(8, 16, 4); break;
    default: QDOT_ROWS(8, 16, 8); break; /* 8 bits, g128 */
  }
#undef QDOT_ROWS
}

/* M (<= 4) rows of x, M a constant: one function for each M, not inlined,
 * so no function holds every tile (UBSan off as in QG_INLINE). */
#define QG_NOINLINE \
  static __attribute__((noinline, no_sanitize("undefined")))
#define QDOT_ARGS                                                             \
  int bits, size_t gs, size_t n, size_t k, const uint32_t *w, size_t ldw,   \
      const float *s, const float *b, size_t lds, const float *xp,          \
      size_t ldx, const float *xs, size_t ldxs, float *y, size_t ldy
#define QDOT_PASS bits, gs, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy
QG_NOINLINE void qdot_m1(QDOT_ARGS) { qdot_format(1, QDOT_PASS); }
QG_NOINLINE void qdot_m2(QDOT_ARGS) { qdot_format(2, QDOT_PASS); }
QG_NOINLINE void qdot_m3(QDOT_ARGS) { qdot_format(3, QDOT_PASS); }
QG_NOINLINE void qdot_m4(QDOT_ARGS) { qdot_format(4, QDOT_PASS); }

static void qdot_m(size_t m, QDOT_ARGS) {
  switch (m) {
    case 1: qdot_m1(QDOT_PASS); break;
    case 2: qdot_m2(QDOT_PASS); break;
    case 3: qdot_m3(QDOT_PASS); break;
    case 4: qdot_m4(QDOT_PASS); break;
    default: break;
  }
}
#undef QDOT_ARGS
#undef QDOT_PASS

/* Rows of x past four run as a second block of up to four: tiles of 8
 * rows doubled the code, and with the sanitizers of the fuzzer's build the
 * AVX-512 file took clang over 4 minutes (AVX-512, 4096^2 4-bit g64, 1
 * thread, no loss: M = 8 1.40 -> 1.39 ms, M = 6 1.14 -> 1.14 ms). Not a
 * loop over blocks: its counters, live across the tiles, cost the AVX-512
 * tile (M = 4, J = 2) registers and 6% (0.80 -> 0.86 ms). */
QG_INLINE void qdot_body(size_t m, size_t n, size_t k, int bits, size_t gs,
                         const uint32_t *w, size_t ldw, const float *s,
                         const float *b, size_t lds, const float *xp,
                         size_t ldx, const float *xs, size_t ldxs, float *y,
                         size_t ldy) {
  if (m <= 4) {
    qdot_m(m, bits, gs, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
    return;
  }
  qdot_m(4, bits, gs, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
  qdot_m(m - 4, bits, gs, n, k, w, ldw, s, b, lds, xp + 4 * ldx, ldx,
         xs + 4 * ldxs, ldxs, y + 4 * ldy, ldy);
}

/* qdeq: VF_N codes in element order a step, from VF_N bits / 8 bytes,
 * each byte in E = 8 / bits consecutive lanes (vi_load_u8_dup) shifted by
 * (lane % E) bits and masked; then s q + b by one FMA. */
QG_INLINE void qdeq_rows(const int BITS, size_t n, size_t k, size_t gs,
                         const uint32_t *w, size_t ldw, const float *s,
                         const float *b, size_t lds, float *out, size_t ldo) {
  static const uint8_t SHIFT[2][16] = {
      {0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4},
      {0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6}};
  const int E = 8 / BITS;
  const vi sh = vi_load_u8(SHIFT[BITS == 2]), mask = vi_set1((1 << BITS) - 1);
  const size_t vpg = gs / VF_N, bpv = VF_N * BITS / 8; /* per group, vector */
  for (size_t j = 0; j < n; j++) {
    const uint8_t *wb = (const uint8_t *)(w + j * ldw);
    float *o = out + j * ldo;
    for (size_t g = 0; g < k / gs; g++) {
      vf sv = vf_set1(s[j * lds + g]), bv = vf_set1(b[j * lds + g]);
      for (size_t u = g * vpg; u < (g + 1) * vpg; u++) {
        vi v = vi_load_u8_dup(wb + u * bpv, E);
        if (E > 1) v = vi_and(vi_srlv(v, sh), mask);
        vf_store(o + u * VF_N, vf_fmadd(vi_cvt_vf(v), sv, bv));
      }
    }
  }
}

QG_INLINE void qdeq_body(size_t n, size_t k, int bits, size_t gs,
                         const uint32_t *w, size_t ldw, const float *s,
                         const float *b, size_t lds, float *out, size_t ldo) {
  if (bits == 4)
    qdeq_rows(4, n, k, gs, w, ldw, s, b, lds, out, ldo);
  else if (bits == 8)
    qdeq_rows(8, n, k, gs, w, ldw, s, b, lds, out, ldo);
  else
    qdeq_rows(2, n, k, gs, w, ldw, s, b, lds, out, ldo);
}

/* An ISA file's listed kernels, as one-line calls of the bodies above. */
#define QG_DEFINE_QDOT(name)                                                 \
  void name(size_t m, size_t n, size_t k, int bits, size_t gs,              \
            const uint32_t *w, size_t ldw, const float *s, const float *b,  \
            size_t lds, const float *xp, size_t ldx, const float *xs,       \
            size_t ldxs, float *y, size_t ldy) {                            \
    qdot_body(m, n, k, bits, gs, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y,   \
              ldy);                                                         \
  }
#define QG_DEFINE_QDEQ(name)                                                 \
  void name(size_t n, size_t k, int bits, size_t gs, const uint32_t *w,     \
            size_t ldw, const float *s, const float *b, size_t lds,         \
            float *out, size_t ldo) {                                       \
    qdeq_body(n, k, bits, gs, w, ldw, s, b, lds, out, ldo);                 \
  }

#endif
