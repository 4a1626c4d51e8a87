/* Portable 4x4 tile transpose (contract in x32-transpose.h). */
#include "x32-transpose.h"

void cmx_x32_transpose_ukr_4x4__ref(const uint32_t *src, size_t ld_src,
                                    uint32_t *dst, size_t ld_dst, int nt) {
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 4; j++) dst[i * ld_dst + j] = src[j * ld_src + i];
}
