/* dtypes: sizes, names and type promotion as MLX does it (bool < unsigned
 * and signed integers < floats; int + float gives the float type, f16 +
 * bf16 gives f32, mixed signed/unsigned widens to the next signed type). */
#include "internal.h"

static const char *const g_name[CMX_NUM_DTYPES] = {
    "bool", "uint8", "uint32", "int8", "int16", "int32", "int64",
    "float16", "bfloat16", "float32", "float64"};

int cmx_dtype_valid(cmx_dtype d) {
  return (int)d >= 0 && (int)d < CMX_NUM_DTYPES;
}
size_t cmx_dtype_size(cmx_dtype d) { return cmx_dtype_bytes(d); }
const char *cmx_dtype_name(cmx_dtype d) {
  return cmx_dtype_valid(d) ? g_name[d] : "invalid";
}
int cmx_dtype_is_float(cmx_dtype d) {
  return d == CMX_F16 || d == CMX_BF16 || d == CMX_F32 || d == CMX_F64;
}
int cmx_dtype_is_signed_int(cmx_dtype d) {
  return d == CMX_I8 || d == CMX_I16 || d == CMX_I32 || d == CMX_I64;
}
cmx_dtype cmx_float_of(cmx_dtype d) {
  return cmx_dtype_is_float(d) ? d : CMX_F32;
}

static int float_rank(cmx_dtype d) {
  return d == CMX_F64 ? 3 : d == CMX_F32 ? 2 : 1;
}

cmx_dtype cmx_promote(cmx_dtype a, cmx_dtype b) {
  if (a == b) return a;
  int fa = cmx_dtype_is_float(a), fb = cmx_dtype_is_float(b);
  if (fa && fb) {
    int ra = float_rank(a), rb = float_rank(b);
    if (ra == 1 && rb == 1) return CMX_F32; /* f16 + bf16 */
    return ra >= rb ? a : b;
  }
  if (fa) return a;
  if (fb) return b;
  if (a == CMX_BOOL) return b;
  if (b == CMX_BOOL) return a;
  int sa = cmx_dtype_is_signed_int(a), sb = cmx_dtype_is_signed_int(b);
  if (sa == sb) return cmx_dtype_bytes(a) >= cmx_dtype_bytes(b) ? a : b;
  cmx_dtype s = sa ? a : b, u = sa ? b : a;
  if (cmx_dtype_bytes(s) > cmx_dtype_bytes(u)) return s;
  if (cmx_dtype_bytes(u) == 1) return CMX_I16;
  if (cmx_dtype_bytes(u) == 2) return CMX_I32;
  if (cmx_dtype_bytes(u) == 4) return CMX_I64;
  return CMX_F32;
}
