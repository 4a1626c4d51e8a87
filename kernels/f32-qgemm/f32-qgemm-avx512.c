/* AVX-512 quantised GEMM microkernels (contracts in f32-qgemm.h): the
 * shared bodies of f32-qgemm-body.h on 16 lanes, a 16-byte chunk of W one
 * vector (vpmovzxbd), and 2 bits g32, whose 8-byte chunks are narrower
 * than a zmm vector, in ymm here. */
#include "arch/simd-avx512.h"
#include "kernels/f32-qgemm/f32-qgemm.h"
#include "kernels/f32-qgemm/f32-qgemm-body.h"

/* bits 2, groups of 32: 8-byte chunks (C = 8), in ymm; a rare format. */
static void rows8(size_t m, size_t n, size_t k, const uint32_t *w, size_t ldw,
                  const float *s, const float *b, size_t lds, const float *xp,
                  size_t ldx, const float *xs, size_t ldxs, float *y,
                  size_t ldy) {
  const size_t ng = k / 32;
  const __m256i three = _mm256_set1_epi32(3);
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < m; i++) {
      __m256 tot = _mm256_setzero_ps();
      float bsum = 0.0f;
      for (size_t g = 0; g < ng; g++) {
        __m256i v = _mm256_cvtepu8_epi32(
            _mm_loadl_epi64((const __m128i *)(w + j * ldw + g * 2)));
        __m256 acc = _mm256_setzero_ps();
        for (int f = 0; f < 4; f++) {
          __m256 q = _mm256_cvtepi32_ps(
              _mm256_and_si256(_mm256_srli_epi32(v, 2 * f), three));
          acc = _mm256_fmadd_ps(_mm256_loadu_ps(xp + i * ldx + g * 32 + f * 8),
                                q, acc);
        }
        tot = _mm256_fmadd_ps(acc, _mm256_set1_ps(s[j * lds + g]), tot);
        bsum += b[j * lds + g] * xs[i * ldxs + g];
      }
      __m128 h = _mm_add_ps(_mm256_castps256_ps128(tot),
                            _mm256_extractf128_ps(tot, 1));
      h = _mm_add_ps(h, _mm_movehl_ps(h, h));
      h = _mm_add_ss(h, _mm_movehdup_ps(h));
      y[i * ldy + j] = _mm_cvtss_f32(h) + bsum;
    }
}

void cmx_f32_qdot_ukr__avx512(size_t m, size_t n, size_t k, int bits, size_t gs,
                              const uint32_t *w, size_t ldw, const float *s,
                              const float *b, size_t lds, const float *xp,
                              size_t ldx, const float *xs, size_t ldxs,
                              float *y, size_t ldy) {
  if (bits == 2 && gs == 32)
    rows8(m, n, k, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
  else
    qdot_body(m, n, k, bits, gs, w, ldw, s, b, lds, xp, ldx, xs, ldxs, y, ldy);
}

QG_DEFINE_QDEQ(cmx_f32_qdeq_ukr__avx512)
