/* Random: keys, split, uniform and normal on the counter-based generator of
 * kernels/random (Threefry-2x32-20). A key is a (2,) uint32 array, as in
 * MLX; every op takes one explicitly, and equal keys give equal bits. */
#include "../arch/dispatch.h"
#include "../kernels/random/random.h"
#include "internal.h"

int cmx_random_key(cmx_array *out, uint64_t seed) {
  static const char who[] = "cmx_random_key";
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  uint32_t k[2] = {(uint32_t)(seed >> 32), (uint32_t)seed};
  int64_t two = 2;
  return cmx_array_from_data(out, k, CMX_U32, &two, 1);
}

static int rand_node(cmx_array *out, cmx_array key, const int64_t *shape,
                     int ndim, cmx_dtype dtype, enum cmx_rand_kind kind,
                     double a, double b, cmx_stream s, const char *who) {
  if (!out) return cmx_err(CMX_EINVAL, "%s: out is NULL", who);
  *out = NULL;
  int st = cmx_array_check(key, who, "key");
  if (!st) st = cmx_stream_resolve(&s, who);
  if (st) return st;
  if (key->dtype != CMX_U32 || key->size != 2)
    return cmx_err(CMX_EINVAL, "%s: a key is a 2-element uint32 array "
                   "(cmx_random_key), not %lld elements of %s", who,
                   (long long)key->size, cmx_dtype_name(key->dtype));
  if (kind != CMX_RAND_BITS && !(dtype == CMX_F16 || dtype == CMX_BF16 ||
                                 dtype == CMX_F32 || dtype == CMX_F64))
    return cmx_err(CMX_EDTYPE, "%s: dtype %s is not a float type", who,
                   cmx_dtype_name(dtype));
  cmx_array o = cmx_array_alloc(dtype, shape, ndim, who);
  if (!o) return cmx_last_status();
  o->p.sub = kind;
  o->p.value = a;
  o->p.step = b;
  return cmx_node_finish(out, o, CMX_OP_random, &key, 1, s, who);
}

int cmx_random_split(cmx_array *out, cmx_array key, int num, cmx_stream s) {
  if (num < 1) {
    if (out) *out = NULL;
    return cmx_err(CMX_EINVAL, "cmx_random_split: num is %d", num);
  }
  int64_t sh[2] = {num, 2};
  return rand_node(out, key, sh, 2, CMX_U32, CMX_RAND_BITS, 0, 0, s,
                   "cmx_random_split");
}

int cmx_random_uniform(cmx_array *out, double low, double high,
                       const int64_t *shape, int ndim, cmx_dtype dtype,
                       cmx_array key, cmx_stream s) {
  if (!(low <= high)) {
    if (out) *out = NULL;
    return cmx_err(CMX_EINVAL, "cmx_random_uniform: low %g > high %g", low,
                   high);
  }
  return rand_node(out, key, shape, ndim, dtype, CMX_RAND_UNIFORM, low, high,
                   s, "cmx_random_uniform");
}

int cmx_random_normal(cmx_array *out, const int64_t *shape, int ndim,
                      cmx_dtype dtype, double loc, double scale,
                      cmx_array key, cmx_stream s) {
  return rand_node(out, key, shape, ndim, dtype, CMX_RAND_NORMAL, loc, scale,
                   s, "cmx_random_normal");
}

int cmx_eval_random(cmx_array o, int nthreads) {
  int st = cmx_array_alloc_data(o);
  if (st) return st;
  cmx_array k = o->in[0];
  const uint32_t *kp = (const uint32_t *)cmx_array_ptr(k);
  int64_t ks = k->ndim ? k->strides[k->ndim - 1] : 1;
  uint32_t key[2] = {kp[0], kp[ks]};
  cmx_random_fill(cmx_array_ptr(o), o->dtype, (size_t)o->size,
                  (enum cmx_rand_kind)o->p.sub, key, o->p.value, o->p.step,
                  cmx_dispatch()->rng, cmx_dispatch()->cvt, nthreads);
  return CMX_OK;
}
