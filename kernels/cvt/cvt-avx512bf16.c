/* f32 -> bf16 with AVX512_BF16 (contract in cvt.h). vcvtne2ps2bf16 rounds
 * to nearest even and quiets a NaN as the integer rounding does ((u >> 16)
 * | 0x40), but reads f32 subnormals as zero; a pair of vectors holding one
 * takes the integer rounding instead (checked against it on all 2^32
 * inputs). Zen 5 VM, 1 thread, 4096 x 4096 bf16, where the integer
 * rounding (nine ops a vector) took 28% of softmax's time: softmax 4.70 ->
 * 3.81-3.96 ms, rms_norm 3.87-4.02 -> 2.78-2.82, layer_norm 4.9-5.3 ->
 * 3.8-4.2. */
#include <immintrin.h>

#include "kernels/cvt/cvt.h"
#include "kernels/cvt/cvt-bf16-avx512.h"

void cmx_f32_bf16_cvt_ukr__avx512bf16(size_t n, const void *x, void *y) {
  const float *f = x;
  uint16_t *h = y;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_loadu_ps(f + i), b = _mm512_loadu_ps(f + i + 16);
    if (cmx_f32_subnormal16(a) | cmx_f32_subnormal16(b)) {
      _mm256_storeu_si256((__m256i *)(h + i), cmx_bf16_round(a));
      _mm256_storeu_si256((__m256i *)(h + i + 16), cmx_bf16_round(b));
    } else {
      /* the second operand fills the low half */
      _mm512_storeu_si512(h + i, (__m512i)_mm512_cvtne2ps_pbh(b, a));
    }
  }
  for (; i < n; i += 16) {
    const __mmask16 m =
        n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(m, f + i);
    _mm256_mask_storeu_epi16(h + i, m, cmx_bf16_round_bf(v));
  }
}
