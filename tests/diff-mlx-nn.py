#!/usr/bin/env python3
"""Differential test of cmx's model ops against MLX (CPU), through ctypes.

Covers matmul / addmm (f32 f16 bf16 f64, int8 -> int32, 1-D operands,
broadcast batch dims, transposed and sliced operands, alpha / beta, empty
dims), softmax / log_softmax, layer_norm / rms_norm, gelu, gelu_tanh (MLX's
nn.gelu_approx), silu, softplus, silu_mul, rope (and rope_offsets),
scaled_dot_product_attention, conv1d / conv2d, quantize / dequantize /
quantized_matmul (bit-exact packed words), random (reported: cmx does not
promise MLX's bits) and safetensors round trips both ways.

Each case compares cmx with MLX (float32 compute) and, where it is cheap,
with a float64 NumPy reference; tolerances are per dtype (TOL below, scaled
by the size of the reduction where one is involved). Data is random and
non-zero from fixed seeds.

Run: make test-mlx-nn   (or: python3 tests/diff-mlx-nn.py [build/libcmx.so])
Needs the python3 that has mlx and numpy; prints "skipped: <reason>" and
exits 0 without them or without libcmx.so. Exit status 1 on any mismatch.
"""
import ctypes as C
import math
import os
import sys
import tempfile

try:
    import numpy as np
    import mlx.core as mx
    import mlx.nn as mnn
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "build", "libcmx.so")
if not os.path.exists(LIB):
    print(f"skipped: {LIB} not built (make build/libcmx.so.0.1.0)")
    sys.exit(0)
L = C.CDLL(LIB)

# ---- ctypes layer ---------------------------------------------------------
BOOL, U8, U32, I8, I16, I32, I64, F16, BF16, F32, F64 = range(11)
NP_OF = {BOOL: np.bool_, U8: np.uint8, U32: np.uint32, I8: np.int8,
         I16: np.int16, I32: np.int32, I64: np.int64, F16: np.float16,
         BF16: np.uint16, F32: np.float32, F64: np.float64}
MX_OF = {BOOL: mx.bool_, U8: mx.uint8, U32: mx.uint32, I8: mx.int8,
         I16: mx.int16, I32: mx.int32, I64: mx.int64, F16: mx.float16,
         BF16: mx.bfloat16, F32: mx.float32, F64: mx.float64}
NAME = {F16: "f16", BF16: "bf16", F32: "f32", F64: "f64", I8: "i8",
        I32: "i32", U32: "u32", I64: "i64", BOOL: "bool", U8: "u8",
        I16: "i16"}
H = C.c_void_p
L.cmx_last_error.restype = C.c_char_p
L.cmx_array_shape.restype = C.POINTER(C.c_int64)
L.cmx_array_nbytes.restype = C.c_size_t
L.cmx_array_size.restype = C.c_int64
for fn in ("cmx_array_free",):
    getattr(L, fn).argtypes = [H]


class CmxError(Exception):
    def __init__(self, st, msg):
        super().__init__(f"status {st}: {msg}")
        self.status = st


def ck(st, what=""):
    if st != 0:
        raise CmxError(st, L.cmx_last_error().decode())


class A:
    """Owns one cmx_array reference."""

    def __init__(self, h):
        self.h = h

    def __del__(self):
        if self.h:
            L.cmx_array_free(H(self.h))

    @property
    def dtype(self):
        return L.cmx_array_dtype(H(self.h))

    @property
    def shape(self):
        n = L.cmx_array_ndim(H(self.h))
        p = L.cmx_array_shape(H(self.h))
        return tuple(p[i] for i in range(n))


def arg(x):
    if x is None:
        return None
    if isinstance(x, A):
        return H(x.h)
    if isinstance(x, float):
        return C.c_float(x)
    if isinstance(x, bool):
        return C.c_bool(x)
    if isinstance(x, int):
        return C.c_int(x)
    return x


def op(name, *args):
    """Calls cmx_<name>(&out, args..., NULL stream) and returns an A."""
    out = H()
    ck(getattr(L, "cmx_" + name)(C.byref(out), *[arg(a) for a in args],
                                 None))
    return A(out.value)


def shp(s):
    return (C.c_int64 * max(len(s), 1))(*s), len(s)


def ints(v):
    return (C.c_int * max(len(v), 1))(*v)


def to_cmx(x, dt):
    """numpy array -> cmx array of dtype dt (bf16 given as uint16 bits)."""
    x = np.ascontiguousarray(x, dtype=NP_OF[dt])
    out = H()
    s, n = shp(x.shape)
    ck(L.cmx_array_from_data(C.byref(out), x.ctypes.data_as(C.c_void_p), dt,
                             s, n))
    return A(out.value)


def read(a):
    """cmx array -> numpy (bf16 widened to float32)."""
    dt = a.dtype
    res = np.empty(a.shape, dtype=NP_OF[dt])
    ck(L.cmx_array_read(H(a.h), res.ctypes.data_as(C.c_void_p),
                        C.c_size_t(res.nbytes)))
    if dt == BF16:
        res = (res.astype(np.uint32) << 16).view(np.float32)
    return res


def mxnp(a):
    """MLX array -> numpy (bf16 widened to float32)."""
    if a.dtype == mx.bfloat16:
        a = a.astype(mx.float32)
    return np.array(a)


def rounded(x, dt):
    """x (float) rounded to dt as MLX rounds it: (values as float64, the
    MLX array, the cmx array)."""
    m = mx.array(np.asarray(x, dtype=np.float32)).astype(MX_OF[dt]) \
        if dt in (F16, BF16, F32) else \
        mx.array(np.asarray(x, NP_OF[dt]), dtype=MX_OF[dt])
    if dt == BF16:
        bits = np.array(m.view(mx.uint16))
        c = to_cmx(bits, BF16)
    else:
        c = to_cmx(np.asarray(x, NP_OF[dt]) if dt in (F64,) else np.array(m),
                   dt)
    return mxnp(m).astype(np.float64) if dt != F64 else \
        np.asarray(x, np.float64), m, c


# ---- checking -------------------------------------------------------------
TOL = {F32: 2e-5, F64: 1e-12, F16: 2e-3, BF16: 1.6e-2}
N_CASES = 0
FAILS = []
NOTES = [
    "log_softmax of a row holding +inf: NaN (cmx.h) vs MLX's -inf for the "
    "finite entries of x - logsumexp(x); row left out",
    "layer_norm / rms_norm: result in x's dtype (cmx.h), MLX promotes x "
    "with weight / bias",
    "matmul int8 x int8 -> int32 (cmx.h); MLX has no integer matmul",
    "safetensors F64: cmx reads and writes it, MLX 0.32 does neither",
    "random: Threefry-2x32-20 core equals MLX's (checked below), but cmx "
    "uses counter (i/2, 0) per pair and Box-Muller where MLX uses "
    "(i, i + n/2) and erfinv, so bits differ; cmx.h does not promise them",
]


def check(name, got, want, tol, ref64=None, tol64=None, dtype=None,
          want_dtype=None):
    """got: cmx A; want: MLX array (or numpy); max-norm-relative error
    |got - want| <= tol * (1 + |want|) elementwise."""
    global N_CASES
    N_CASES += 1
    try:
        if want_dtype is not None and got.dtype != want_dtype:
            FAILS.append(f"{name}: dtype {NAME.get(got.dtype)} want "
                         f"{NAME.get(want_dtype)}")
            return False
        g = read(got).astype(np.float64)
        w = (mxnp(want) if isinstance(want, mx.array) else
             np.asarray(want)).astype(np.float64)
        if g.shape != w.shape:
            FAILS.append(f"{name}: shape {g.shape} want {w.shape}")
            return False
        if got.dtype == F64:
            # MLX's CPU f64 kernels for fast ops and transcendentals go
            # through float32 in places: hold cmx to the f64 reference and
            # to MLX only at float32 accuracy.
            tol = max(tol, 1e-5)
        for ref, t, lbl in ((w, tol, "mlx"), (ref64, tol64, "f64")):
            if ref is None:
                continue
            ref = np.asarray(ref, np.float64)
            bad = ~(np.abs(g - ref) <= t * (1 + np.abs(ref)))
            bad &= ~(np.isnan(g) & np.isnan(ref))
            bad &= ~((g == ref) & np.isinf(g))
            if bad.any():
                i = np.unravel_index(np.argmax(bad), bad.shape)
                err = np.nanmax(np.abs(g - ref) / (1 + np.abs(ref)))
                FAILS.append(f"{name}: vs {lbl} {bad.sum()}/{bad.size} bad, "
                             f"first at {i}: cmx {g[i]!r} {lbl} {ref[i]!r} "
                             f"(max rel err {err:.3g}, tol {t})")
                return False
        return True
    except CmxError as e:
        FAILS.append(f"{name}: cmx error {e}")
        return False


def expect_error(name, fn):
    global N_CASES
    N_CASES += 1
    try:
        fn()
    except CmxError:
        return True
    FAILS.append(f"{name}: cmx accepted what MLX rejects")
    return False


def case(name, fn):
    """Runs one case function; a Python exception in it is a failure."""
    try:
        fn()
    except CmxError as e:
        global N_CASES
        N_CASES += 1
        FAILS.append(f"{name}: cmx error {e}")
    except Exception as e:  # noqa: BLE001 - report and go on
        N_CASES += 1
        FAILS.append(f"{name}: driver exception {type(e).__name__}: {e}")


np.seterr(all="ignore")
rng = np.random.default_rng(1234)


def rand(*shape, lo=-1.0, hi=1.0):
    x = rng.uniform(lo, hi, size=shape)
    x[np.abs(x) < 1e-3] = 0.5  # non-zero
    return x


FLOATS = (F32, F16, BF16, F64)


# ---- matmul / addmm -------------------------------------------------------
def view(c, m, kind):
    """The same view of cmx array c and MLX array m: 't' swaps the last two
    axes, 's' takes every other column, 'n' none."""
    if kind == "t":
        nd = len(c.shape)
        ax = list(range(nd - 2)) + [nd - 1, nd - 2]
        return op("transpose", c, ints(ax), nd), mx.swapaxes(m, -1, -2)
    if kind == "s":
        nd = len(c.shape)
        st = [0] * nd
        sp = list(c.shape)
        step = [1] * (nd - 1) + [2]
        s0, _ = shp(st)
        s1, _ = shp(sp)
        s2, _ = shp(step)
        return op("slice", c, s0, s1, s2, nd), m[..., ::2]
    return c, m


def mk_operand(shape, dt, kind):
    """Operand of logical shape `shape` reached through view `kind`."""
    base = list(shape)
    if kind == "t" and len(shape) >= 2:
        base[-1], base[-2] = base[-2], base[-1]
    elif kind == "s":
        base[-1] = 2 * base[-1]
    elif kind == "t":
        kind = "n"
    x = rand(*base)
    ref, m, c = rounded(x, dt)
    if kind == "t":
        ref = np.swapaxes(ref, -1, -2)
    elif kind == "s":
        ref = ref[..., ::2]
    c, m = view(c, m, kind)
    return ref, m, c


MM_SHAPES = [
    ((4, 5), (5, 3)), ((1, 7), (7, 1)), ((7,), (7, 9)), ((9, 7), (7,)),
    ((7,), (7,)), ((2, 3, 6, 5), (5, 4)), ((3, 1, 6, 5), (2, 5, 7)),
    ((1, 5), (4, 5, 3)), ((33, 70), (70, 47)), ((3, 130), (130, 5)),
    ((0, 5), (5, 3)), ((4, 0), (0, 3)), ((4, 5), (5, 0)),
    ((2, 0, 4, 5), (5, 3)), ((65, 129), (129, 17)),
]


def mm_case(sa, sb, dt, ka, kb):
    ra, ma, ca = mk_operand(sa, dt, ka)
    rb, mb, cb = mk_operand(sb, dt, kb)
    K = sa[-1]
    t = TOL[dt] * max(1, math.sqrt(K)) if dt != F64 else 1e-12 * K
    want = mx.matmul(ma, mb)
    ref = np.matmul(ra, rb)
    check(f"matmul {NAME[dt]} {sa}{ka}@{sb}{kb}", op("matmul", ca, cb), want,
          t, ref, t, want_dtype=dt)


for dt in FLOATS:
    for sa, sb in MM_SHAPES:
        case("matmul", lambda: mm_case(sa, sb, dt, "n", "n"))
    for sa, sb in [((4, 5), (5, 3)), ((2, 3, 6, 5), (5, 4)),
                   ((33, 70), (70, 47)), ((3, 1, 6, 5), (2, 5, 7))]:
        for ka, kb in [("t", "n"), ("n", "t"), ("t", "t"), ("s", "n"),
                       ("n", "s")]:
            case("matmul view", lambda: mm_case(sa, sb, dt, ka, kb))


def mm_int8(sa, sb):
    a = rng.integers(-128, 128, size=sa).astype(np.int8)
    b = rng.integers(-128, 128, size=sb).astype(np.int8)
    want = np.matmul(a.astype(np.int64), b.astype(np.int64))
    # MLX has no integer matmul; API.md gives int8 x int8 -> int32.
    check(f"matmul i8 {sa}@{sb}", op("matmul", to_cmx(a, I8), to_cmx(b, I8)),
          want, 0, want_dtype=I32)


for sa, sb in [((4, 5), (5, 3)), ((7,), (7, 9)), ((9, 7), (7,)), ((7,), (7,)),
               ((2, 3, 6, 5), (5, 4)), ((3, 1, 6, 5), (2, 5, 7)),
               ((33, 300), (300, 47)), ((0, 5), (5, 3)), ((4, 0), (0, 3)),
               ((17, 64), (64, 1)), ((1, 64), (64, 33))]:
    case("matmul i8", lambda: mm_int8(sa, sb))


def mm_int8_view():
    a = rng.integers(-128, 128, size=(9, 13)).astype(np.int8)
    b = rng.integers(-128, 128, size=(11, 9)).astype(np.int8)
    ca, cb = to_cmx(a, I8), to_cmx(b, I8)
    ct, _ = view(ca, mx.array(a), "t")
    want = a.T.astype(np.int64) @ b.T.astype(np.int64)
    ct2, _ = view(cb, mx.array(b), "t")
    check("matmul i8 a.T @ b.T", op("matmul", ct, ct2), want, 0,
          want_dtype=I32)


case("matmul i8 view", mm_int8_view)


def addmm_case(sc, sa, sb, dt, alpha, beta, kc="n"):
    ra, ma, ca = mk_operand(sa, dt, "n")
    rb, mb, cb = mk_operand(sb, dt, "n")
    rc, mc, cc = mk_operand(sc, dt, kc)
    K = sa[-1]
    t = TOL[dt] * max(1, math.sqrt(K)) * max(1, abs(alpha) + abs(beta))
    want = mx.addmm(mc, ma, mb, alpha=alpha, beta=beta)
    ref = alpha * np.matmul(ra, rb) + beta * rc
    check(f"addmm {NAME[dt]} c{sc}{kc} {sa}@{sb} a={alpha} b={beta}",
          op("addmm", cc, ca, cb, alpha, beta), want, t, ref, t,
          want_dtype=dt)


for dt in FLOATS:
    for sc, sa, sb in [((4, 3), (4, 5), (5, 3)), ((3,), (4, 5), (5, 3)),
                       ((4, 1), (4, 5), (5, 3)), ((2, 4, 3), (2, 4, 5), (5, 3)),
                       ((33, 47), (33, 70), (70, 47)), ((9,), (7,), (7, 9)),
                       ((4, 3), (4, 0), (0, 3))]:
        for alpha, beta in [(1.0, 1.0), (0.5, -2.0), (2.0, 0.0),
                            (0.0, 1.5)]:
            case("addmm", lambda: addmm_case(sc, sa, sb, dt, alpha, beta))
    case("addmm c.T", lambda: addmm_case((4, 4), (4, 5), (5, 4), dt, 1.0, 0.5,
                                         "t"))


def addmm_nan_beta0():
    c = np.full((3, 2), np.nan, np.float32)
    a, b = rand(3, 4).astype(np.float32), rand(4, 2).astype(np.float32)
    got = op("addmm", to_cmx(c, F32), to_cmx(a, F32), to_cmx(b, F32), 1.0,
             0.0)
    want = mx.addmm(mx.array(c), mx.array(a), mx.array(b), alpha=1.0,
                    beta=0.0)
    check("addmm beta=0 NaN c", got, want, 2e-5, a.astype(np.float64) @ b,
          2e-5)


case("addmm nan", addmm_nan_beta0)



def mm_mixed(da, db):
    ra, ma, ca = rounded(rand(5, 6), da)
    rb, mb, cb = rounded(rand(6, 4), db)
    want = mx.matmul(ma, mb)
    dt = {v: k for k, v in MX_OF.items()}[want.dtype]
    check(f"matmul {NAME[da]}@{NAME[db]}", op("matmul", ca, cb), want,
          TOL[dt] * 3, ra @ rb, TOL[dt] * 3, want_dtype=dt)


for da, db in [(F16, F32), (BF16, F32), (F16, BF16), (F32, F64),
               (BF16, F64)]:
    case("matmul mixed", lambda: mm_mixed(da, db))


# ---- softmax / log_softmax ------------------------------------------------
def np_softmax(x, ax):
    e = np.exp(x - x.max(axis=ax, keepdims=True))
    return e / e.sum(axis=ax, keepdims=True)


def np_log_softmax(x, ax):
    m = x.max(axis=ax, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=ax, keepdims=True))


def softmax_case(shape, ax, dt, scale=4.0):
    r, m, c = rounded(rand(*shape) * scale, dt)
    t = TOL[dt] * (2 if dt != F64 else 100)
    if r.size == 0:
        for name in ("softmax", "log_softmax"):
            check(f"{name} {NAME[dt]} {shape} axis={ax}", op(name, c, ax),
                  np.zeros(shape), 0, want_dtype=dt)
        return
    want = mx.softmax(m, axis=ax, precise=True)
    check(f"softmax {NAME[dt]} {shape} axis={ax}", op("softmax", c, ax),
          want, t, np_softmax(r, ax), t, want_dtype=dt)
    want = m - mx.logsumexp(m, axis=ax, keepdims=True)
    check(f"log_softmax {NAME[dt]} {shape} axis={ax}",
          op("log_softmax", c, ax), want, t * 4, np_log_softmax(r, ax), t * 4,
          want_dtype=dt)


for dt in FLOATS:
    for shape, ax in [((7,), 0), ((3, 33), -1), ((3, 33), 0), ((4, 5, 6), 1),
                      ((4, 5, 6), -3), ((2, 1000), 1), ((5, 1), -1),
                      ((2, 3, 17), 2), ((1, 4096), -1), ((2, 0, 3), 1),
                      ((2, 0, 3), -1)]:
        case("softmax", lambda: softmax_case(shape, ax, dt))
    case("softmax big", lambda: softmax_case((3, 40), -1, dt, scale=60.0))


def softmax_int():
    x = rng.integers(-5, 6, size=(3, 7)).astype(np.int32)
    want = mx.softmax(mx.array(x), axis=-1)
    check("softmax i32", op("softmax", to_cmx(x, I32), -1), want, 2e-6,
          np_softmax(x.astype(np.float64), -1), 2e-6, want_dtype=F32)


def softmax_inf():
    x = rand(4, 9).astype(np.float32)
    x[0, 3] = -np.inf
    x[1, :] = -np.inf
    x[2, 5] = np.inf
    x[3, 1] = np.nan
    want = mx.softmax(mx.array(x), axis=-1, precise=True)
    check("softmax inf/nan", op("softmax", to_cmx(x, F32), -1), want, 2e-6)
    want = mx.array(x) - mx.logsumexp(mx.array(x), axis=-1, keepdims=True)
    # cmx.h: a row holding +inf gives NaN everywhere; MLX's x - logsumexp
    # gives -inf for its finite entries. Row 2 is left out (documented).
    keep = [0, 1, 3]
    check("log_softmax inf/nan",
          op("take", op("log_softmax", to_cmx(x, F32), -1),
             to_cmx(np.array(keep, np.int32), I32), 0), want[mx.array(keep)],
          2e-6)


case("softmax int", softmax_int)
case("softmax inf", softmax_inf)
for ax in (2, -3):
    case("softmax bad axis",
         lambda: expect_error(f"softmax axis {ax} of 2-D",
                              lambda: op("softmax", to_cmx(rand(2, 3), F32),
                                         ax)))


# ---- layer_norm / rms_norm ------------------------------------------------
def norm_case(shape, dt, wdt, has_w, has_b, eps=1e-5, shift=0.0):
    r, m, c = rounded(rand(*shape) * 3 + shift, dt)
    D = shape[-1]
    rw = mw = cw = rb = mb = cb = None
    if has_w:
        rw, mw, cw = rounded(rand(D) + 1.0, wdt)
    if has_b:
        rb, mb, cb = rounded(rand(D), wdt)
    t = TOL[dt] * 4 if dt != F64 else 1e-10
    mu = r.mean(-1, keepdims=True)
    var = ((r - mu) ** 2).mean(-1, keepdims=True)
    ref = (r - mu) / np.sqrt(var + eps)
    if has_w:
        ref = ref * rw
    if has_b:
        ref = ref + rb
    want = mx.fast.layer_norm(m, mw, mb, eps)
    # API.md: the result has x's dtype (MLX promotes x with weight / bias).
    tag = f"{NAME[dt]} w={NAME[wdt] if has_w else '-'}"
    tm = (t if dt != F64 else 1e-5) * (1 + abs(shift))
    check(f"layer_norm {tag} b={has_b} {shape}",
          op("layer_norm", c, cw, cb, eps), want.astype(MX_OF[dt]),
          tm, ref, t * (1 + abs(shift)), want_dtype=dt)
    if has_b:
        return
    ref = r / np.sqrt((r * r).mean(-1, keepdims=True) + eps)
    if has_w:
        ref = ref * rw
    want = mx.fast.rms_norm(m, mw, eps)
    check(f"rms_norm {tag} {shape}", op("rms_norm", c, cw, eps),
          want.astype(MX_OF[dt]), t, ref, t, want_dtype=dt)


for dt in FLOATS:
    for shape in [(4, 7), (3, 64), (2, 3, 129), (1, 4096), (5, 1), (0, 8)]:
        for hw, hb in [(False, False), (True, False), (True, True),
                       (False, True)]:
            case("norm", lambda: norm_case(shape, dt, dt, hw, hb))
    case("norm shift", lambda: norm_case((3, 300), dt, dt, True, True,
                                         shift=50.0))
    case("norm eps", lambda: norm_case((3, 16), dt, dt, True, False,
                                       eps=0.5))
case("norm f16 x f32 w", lambda: norm_case((3, 40), F16, F32, True, True))
case("norm bf16 x f32 w", lambda: norm_case((3, 40), BF16, F32, True, True))
case("norm f32 x bf16 w", lambda: norm_case((3, 40), F32, BF16, True, False))


# ---- activations ----------------------------------------------------------
def erf64(x):
    return np.vectorize(math.erf)(x)


ACTS = {
    "gelu": (mnn.gelu, lambda x: x * (1 + erf64(x / math.sqrt(2))) / 2),
    "gelu_tanh": (mnn.gelu_approx, lambda x: 0.5 * x * (1 + np.tanh(
        math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    "silu": (mnn.silu, lambda x: x / (1 + np.exp(-x))),
    "softplus": (mnn.softplus, lambda x: np.logaddexp(x, 0)),
}


def act_case(name, dt, scale):
    x = rand(3, 67) * scale
    x[0, :6] = [0.0, -0.0, 1e-6, -1e-6, 3.0, -3.0]
    if dt != F16:
        x[1, :4] = [90.0, -90.0, 40.0, -40.0]
    r, m, c = rounded(x, dt)
    mf, rf = ACTS[name]
    want = mf(m)
    t = TOL[dt] * 2 if dt != F64 else 1e-13
    # MLX computes f16 / bf16 activations in their own type: looser bound.
    check(f"{name} {NAME[dt]} x{scale}", op(name, c), want,
          t if dt in (F32, F64) else t * 4, rf(r), t, want_dtype=dt)


for name in ACTS:
    for dt in FLOATS:
        for scale in (1.0, 6.0):
            case(name, lambda: act_case(name, dt, scale))
    case(name + " int", lambda: check(
        f"{name} i32", op(name, to_cmx(np.arange(-4, 5, dtype=np.int32),
                                       I32)),
        ACTS[name][0](mx.arange(-4, 5)), 2e-6, want_dtype=F32))


def silu_mul_case(sa, sb, da, db):
    ra, ma, ca = rounded(rand(*sa) * 4, da)
    rb, mb, cb = rounded(rand(*sb) * 2, db)
    want = mnn.silu(ma) * mb
    dt = {v: k for k, v in MX_OF.items()}[want.dtype]
    t = TOL[dt] * 3 if dt != F64 else 1e-13
    # MLX rounds silu(a) to a's dtype before the product; cmx fuses in
    # float32, so with a narrower a than the result MLX is the less
    # accurate one: held to the f64 reference, to MLX at a's precision.
    tm = t * (4 if dt in (F16, BF16) else 1)
    if da != dt:
        tm = TOL[da] * 2
    check(f"silu_mul {NAME[da]}{sa} {NAME[db]}{sb}",
          op("silu_mul", ca, cb), want, tm,
          ra / (1 + np.exp(-ra)) * rb, t, want_dtype=dt)


for da, db, sa, sb in [(F32, F32, (4, 33), (4, 33)),
                       (F16, F16, (4, 33), (4, 33)),
                       (BF16, BF16, (2, 3, 40), (3, 40)),
                       (F64, F64, (5, 7), (7,)),
                       (F16, F32, (4, 9), (4, 9)),
                       (BF16, F16, (4, 9), (4, 1)),
                       (F32, F32, (1, 9), (6, 1))]:
    case("silu_mul", lambda: silu_mul_case(sa, sb, da, db))


def silu_mul_int():
    a = rng.integers(-3, 4, size=(2, 5)).astype(np.int32)
    b = rng.integers(-3, 4, size=(2, 5)).astype(np.int32)
    want = mnn.silu(mx.array(a)) * mx.array(b)
    check("silu_mul i32", op("silu_mul", to_cmx(a, I32), to_cmx(b, I32)),
          want, 2e-6, want_dtype=F32)


case("silu_mul int", silu_mul_int)



# ---- rope -----------------------------------------------------------------
def np_rope(x, dims, trad, base, scale, pos):
    """x (..., L, D) float64; pos (B or 1, L) positions for x's first axis."""
    out = x.copy()
    half = dims // 2
    inv = base ** (-np.arange(half) * 2.0 / dims)
    shape = (pos.shape[0],) + (1,) * (x.ndim - 3) + (x.shape[-2], half)
    th = (scale * pos)[..., None] * inv
    th = th.reshape(shape)
    c, s = np.cos(th), np.sin(th)
    if trad:
        x1, x2 = x[..., 0:dims:2], x[..., 1:dims:2]
        out[..., 0:dims:2] = x1 * c - x2 * s
        out[..., 1:dims:2] = x1 * s + x2 * c
    else:
        x1, x2 = x[..., :half], x[..., half:dims]
        out[..., :half] = x1 * c - x2 * s
        out[..., half:dims] = x1 * s + x2 * c
    return out


def rope_case(shape, dims, trad, base, scale, offset, dt, offs=None):
    r, m, c = rounded(rand(*shape), dt)
    Lq = shape[-2]
    if offs is None:
        pos = (offset + np.arange(Lq))[None, :].astype(np.float64)
        got = op("rope", c, dims, trad, base, scale, offset)
        want = mx.fast.rope(m, dims, traditional=trad, base=base,
                            scale=scale, offset=offset)
        tag = f"off={offset}"
    else:
        o = np.asarray(offs, np.int32)
        pos = (o.reshape(-1)[:, None] + np.arange(Lq)[None, :]).astype(
            np.float64)
        got = op("rope_offsets", c, dims, trad, base, scale, to_cmx(o, I32))
        want = mx.fast.rope(m, dims, traditional=trad, base=base,
                            scale=scale, offset=mx.array(o))
        tag = f"offs={list(o.reshape(-1))}"
    # angles reach ~p * scale radians: float32 sin/cos of them lose
    # |angle| * 2^-24 in both implementations.
    amax = float(np.max(np.abs(pos))) * scale + 1
    t = TOL[dt] * 2 + (amax * 6e-8 if dt != F64 else 0)
    check(f"rope {NAME[dt]} {shape} dims={dims} trad={trad} base={base} "
          f"scale={scale} {tag}", got, want, t if dt != F64 else 1e-5 * amax,
          np_rope(r, dims, trad, base, scale, pos),
          t if dt != F64 else 1e-5 * amax, want_dtype=dt)


for dt in FLOATS:
    for trad in (False, True):
        for shape, dims, base, scale, off in [
                ((1, 2, 5, 8), 8, 10000.0, 1.0, 0),
                ((2, 3, 7, 64), 64, 10000.0, 1.0, 5),
                ((2, 3, 7, 64), 32, 10000.0, 1.0, 3),
                ((1, 4, 1, 128), 128, 500000.0, 1.0, 1000),
                ((2, 9, 32), 16, 10000.0, 0.25, 17),
                ((2, 4, 6, 80), 80, 1000.0, 2.0, 0),
                ((3, 5, 10), 6, 10.0, 1.0, 2),
                ((1, 1, 3, 16), 4, 10000.0, 1.0, 0)]:
            case("rope", lambda: rope_case(shape, dims, trad, base, scale,
                                           off, dt))
        for shape, dims, offs in [((3, 2, 5, 16), 16, [0, 7, 2]),
                                  ((3, 2, 5, 16), 8, [1, 100, 4]),
                                  ((2, 4, 1, 32), 32, [9, 40]),
                                  ((2, 4, 3, 32), 32, [5]),
                                  ((2, 4, 3, 32), 32, 6),
                                  ((3, 7, 16), 16, [0, 1, 2])]:
            case("rope offsets", lambda: rope_case(
                shape, dims, trad, 10000.0, 1.0, 0, dt, offs))


# ---- scaled_dot_product_attention ----------------------------------------
def np_sdpa(q, k, v, scale, mask):
    hq, hk = q.shape[1], k.shape[1]
    k = np.repeat(k, hq // hk, axis=1)
    v = np.repeat(v, hq // hk, axis=1)
    s = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        if mask.dtype == np.bool_:
            s = np.where(mask, s, -np.inf)
        else:
            s = s + mask
    s = s - s.max(-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(-1, keepdims=True)
    return p @ v


def sdpa_case(B, Hq, Hk, Lq, Lk, D, Dv, dt, mode, mdt=None, mshape=None):
    rq, mq, cq = rounded(rand(B, Hq, Lq, D), dt)
    rk, mk, ck_ = rounded(rand(B, Hk, Lk, D), dt)
    rv, mv, cv = rounded(rand(B, Hk, Lk, Dv), dt)
    scale = 1.0 / math.sqrt(D)
    mask_np = None
    cmask = None
    mmask = None
    if mode == "causal":
        # aligned to the end as MLX: query i sees keys j <= i + Lk - Lq; a
        # query that sees none (Lq > Lk) averages all of v, as MLX's
        # masked scores (all equal) give
        off = Lk - Lq
        vis = np.arange(Lk)[None, :] <= np.arange(Lq)[:, None] + off
        mask_np = np.where(vis, 0.0, -np.inf)
        mask_np[~vis.any(axis=1)] = -1e30
        mmask = "causal"
    elif mode == "array":
        ms = mshape or (B, Hq, Lq, Lk)
        if mdt == BOOL:
            mask_np = rng.uniform(size=ms) < 0.7
            mask_np[..., 0] = True
            cmask = to_cmx(mask_np, BOOL)
            mmask = mx.array(mask_np)
        else:
            rmask, mmask, cmask = rounded(rand(*ms) * 2, mdt)
            mask_np = rmask
    got = op("scaled_dot_product_attention", cq, ck_, cv, scale,
             mode.encode() if mode else b"", cmask)
    want = mx.fast.scaled_dot_product_attention(mq, mk, mv, scale=scale,
                                                mask=mmask)
    ref = np_sdpa(rq, rk, rv, scale, mask_np)
    t = TOL[dt] * 4 if dt != F64 else 1e-5
    check(f"sdpa {NAME[dt]} B={B} H={Hq}/{Hk} Lq={Lq} Lk={Lk} D={D}/{Dv} "
          f"{mode or 'none'} {NAME.get(mdt, '')}{mshape or ''}",
          got, want, t, ref, t, want_dtype=dt)


for dt in (F32, F16, BF16):
    for B, Hq, Hk, Lq, Lk, D, Dv in [(1, 2, 2, 5, 5, 16, 16),
                                     (2, 4, 2, 7, 9, 32, 32),
                                     (1, 8, 1, 1, 37, 64, 64),
                                     (2, 6, 3, 1, 300, 64, 64),
                                     (1, 4, 4, 33, 33, 64, 64),
                                     (1, 2, 1, 3, 130, 128, 128),
                                     (1, 2, 2, 11, 11, 8, 24),
                                     (1, 3, 1, 70, 70, 80, 80),
                                     (1, 2, 2, 9, 4, 16, 16)]:
        for mode in ("", "causal"):
            case("sdpa", lambda: sdpa_case(B, Hq, Hk, Lq, Lk, D, Dv, dt,
                                           mode))
        case("sdpa bool", lambda: sdpa_case(B, Hq, Hk, Lq, Lk, D, Dv, dt,
                                            "array", BOOL))
        case("sdpa add", lambda: sdpa_case(B, Hq, Hk, Lq, Lk, D, Dv, dt,
                                           "array", dt))
    case("sdpa bcast mask", lambda: sdpa_case(2, 4, 2, 6, 10, 16, 16, dt,
                                              "array", dt, (6, 10)))
    case("sdpa bcast bool", lambda: sdpa_case(2, 4, 2, 6, 10, 16, 16, dt,
                                              "array", BOOL, (1, 4, 1, 10)))
    case("sdpa bcast bool2", lambda: sdpa_case(2, 4, 2, 1, 10, 16, 16, dt,
                                               "array", BOOL, (2, 1, 1, 10)))



def sdpa_views(dt):
    """q as a transposed view (B, L, H, D) -> (B, H, L, D), k / v sliced."""
    rq, mq, cq = rounded(rand(2, 7, 4, 16), dt)
    rk, mk, ck_ = rounded(rand(2, 2, 9, 32), dt)
    rv, mv, cv = rounded(rand(2, 2, 9, 16), dt)
    cq = op("transpose", cq, ints([0, 2, 1, 3]), 4)
    mq, rq = mx.transpose(mq, (0, 2, 1, 3)), np.transpose(rq, (0, 2, 1, 3))
    s0, _ = shp([0, 0, 0, 0])
    s1, _ = shp([2, 2, 9, 32])
    s2, _ = shp([1, 1, 1, 2])
    ck_ = op("slice", ck_, s0, s1, s2, 4)
    mk, rk = mk[..., ::2], rk[..., ::2]
    got = op("scaled_dot_product_attention", cq, ck_, cv, 0.3, b"causal",
             None)
    want = mx.fast.scaled_dot_product_attention(mq, mk, mv, scale=0.3,
                                                mask="causal")
    m = np.arange(9)[None, :] <= np.arange(7)[:, None] + 2
    check(f"sdpa {NAME[dt]} views causal", got, want, TOL[dt] * 4,
          np_sdpa(rq, rk, rv, 0.3, m), TOL[dt] * 4, want_dtype=dt)


def sdpa_masked_rows(dt):
    """Boolean rows all false (MLX: finfo.min, a uniform average) and
    additive -inf entries."""
    rq, mq, cq = rounded(rand(1, 2, 4, 8), dt)
    rk, mk, ck_ = rounded(rand(1, 2, 6, 8), dt)
    rv, mv, cv = rounded(rand(1, 2, 6, 8), dt)
    bm = rng.uniform(size=(1, 2, 4, 6)) < 0.5
    bm[0, 0, 1, :] = False
    bm[0, 1, 2, :] = True
    got = op("scaled_dot_product_attention", cq, ck_, cv, 0.5, b"array",
             to_cmx(bm, BOOL))
    want = mx.fast.scaled_dot_product_attention(mq, mk, mv, scale=0.5,
                                                mask=mx.array(bm))
    check(f"sdpa {NAME[dt]} bool rows all false", got, want, TOL[dt] * 4,
          want_dtype=dt)
    am = rand(1, 2, 4, 6)
    am[0, 0, 2, 1:4] = -np.inf
    ram, mam, cam = rounded(am, dt)
    got = op("scaled_dot_product_attention", cq, ck_, cv, 0.5, b"array", cam)
    want = mx.fast.scaled_dot_product_attention(mq, mk, mv, scale=0.5,
                                                mask=mam)
    check(f"sdpa {NAME[dt]} additive -inf", got, want, TOL[dt] * 4,
          np_sdpa(rq, rk, rv, 0.5, ram), TOL[dt] * 4, want_dtype=dt)


for dt in (F32, F16, BF16):
    case("sdpa views", lambda: sdpa_views(dt))
    case("sdpa masked rows", lambda: sdpa_masked_rows(dt))


# ---- conv1d / conv2d ------------------------------------------------------
def np_conv(x, w, stride, pad, dil, groups):
    """Channels-last N-d convolution in float64 (x (N, *S, C), w (O, *K,
    C / groups))."""
    nd = x.ndim - 2
    x = np.pad(x, [(0, 0)] + [(p, p) for p in pad] + [(0, 0)])
    N, C, O = x.shape[0], x.shape[-1], w.shape[0]
    ks = w.shape[1:-1]
    osz = [(x.shape[1 + d] - dil[d] * (ks[d] - 1) - 1) // stride[d] + 1
           for d in range(nd)]
    cg, og = C // groups, O // groups
    out = np.zeros([N] + osz + [O])
    for kidx in np.ndindex(*ks):
        sl = tuple(slice(kidx[d] * dil[d],
                         kidx[d] * dil[d] + (osz[d] - 1) * stride[d] + 1,
                         stride[d]) for d in range(nd))
        patch = x[(slice(None),) + sl]          # (N, *osz, C)
        for g in range(groups):
            wk = w[(slice(g * og, (g + 1) * og),) + kidx]  # (og, cg)
            out[..., g * og:(g + 1) * og] += \
                patch[..., g * cg:(g + 1) * cg] @ wk.T
    return out


def conv_case(xs, ws, stride, pad, dil, groups, dt):
    rx, mxx, cx = rounded(rand(*xs), dt)
    rw, mw, cw = rounded(rand(*ws), dt)
    nd = len(xs) - 2
    if nd == 1:
        got = op("conv1d", cx, cw, stride[0], pad[0], dil[0], groups)
        want = mx.conv1d(mxx, mw, stride=stride[0], padding=pad[0],
                         dilation=dil[0], groups=groups)
    else:
        got = op("conv2d", cx, cw, ints(stride), ints(pad), ints(dil),
                 groups)
        want = mx.conv2d(mxx, mw, stride=tuple(stride), padding=tuple(pad),
                         dilation=tuple(dil), groups=groups)
    K = int(np.prod(ws[1:]))
    t = TOL[dt] * max(1, math.sqrt(K)) * 2 if dt != F64 else 1e-5
    check(f"conv{nd}d {NAME[dt]} x{xs} w{ws} s={stride} p={pad} d={dil} "
          f"g={groups}", got, want, t, np_conv(rx, rw, stride, pad, dil,
                                               groups), t, want_dtype=dt)


for dt in (F32, F16, BF16):
    for xs, ws, st, pd, dl, g in [
            ((2, 9, 3), (4, 3, 3), 1, 0, 1, 1),
            ((2, 16, 4), (6, 5, 4), 2, 2, 1, 1),
            ((1, 20, 6), (6, 3, 2), 1, 1, 2, 3),
            ((2, 17, 8), (8, 4, 1), 3, 3, 1, 8),
            ((1, 33, 16), (32, 3, 16), 1, 1, 1, 1),
            ((1, 12, 4), (8, 1, 1), 1, 0, 1, 4),
            ((3, 7, 5), (2, 7, 5), 1, 0, 1, 1),
            ((1, 40, 12), (12, 5, 4), 2, 4, 3, 3),
            ((1, 8, 2), (4, 3, 2), 4, 5, 1, 1)]:
        case("conv1d", lambda: conv_case(xs, ws, [st], [pd], [dl], g, dt))
    for xs, ws, st, pd, dl, g in [
            ((1, 6, 7, 3), (4, 3, 3, 3), [1, 1], [0, 0], [1, 1], 1),
            ((2, 9, 8, 4), (5, 3, 2, 4), [2, 1], [1, 0], [1, 1], 1),
            ((1, 10, 11, 6), (6, 3, 3, 1), [1, 1], [1, 1], [1, 1], 6),
            ((1, 10, 11, 8), (8, 3, 3, 1), [2, 2], [1, 1], [1, 1], 8),
            ((1, 12, 10, 8), (4, 3, 3, 4), [1, 2], [2, 1], [2, 1], 2),
            ((2, 5, 5, 16), (16, 1, 1, 16), [1, 1], [0, 0], [1, 1], 1),
            ((1, 14, 14, 8), (16, 3, 3, 8), [2, 2], [1, 1], [1, 1], 1),
            ((1, 7, 9, 6), (12, 2, 3, 2), [1, 3], [0, 2], [3, 1], 3),
            ((1, 8, 8, 4), (4, 5, 5, 1), [1, 1], [2, 2], [1, 1], 4)]:
        case("conv2d", lambda: conv_case(xs, ws, st, pd, dl, g, dt))



# ---- quantize / dequantize / quantized_matmul -----------------------------
def op3(name, *args):
    o = [H(), H(), H()]
    ck(getattr(L, "cmx_" + name)(*[C.byref(x) for x in o],
                                 *[arg(a) for a in args], None))
    return [A(x.value) for x in o]


def exact(name, got, want, want_dtype):
    global N_CASES
    N_CASES += 1
    if got.dtype != want_dtype:
        FAILS.append(f"{name}: dtype {NAME.get(got.dtype)} want "
                     f"{NAME.get(want_dtype)}")
        return False
    g = read(got)
    w = mxnp(want)
    if g.shape != w.shape:
        FAILS.append(f"{name}: shape {g.shape} want {w.shape}")
        return False
    bad = g != w
    if bad.any():
        i = np.unravel_index(np.argmax(bad), bad.shape)
        FAILS.append(f"{name}: {bad.sum()}/{bad.size} differ, first at {i}: "
                     f"cmx {g[i]!r} mlx {w[i]!r}")
        return False
    return True


def quant_case(shape, gs, bits, dt, kind="rand"):
    x = rand(*shape)
    if kind == "pos":
        x = np.abs(x) + 0.1
    elif kind == "neg":
        x = -np.abs(x) - 0.1
    elif kind == "const":
        x[..., :gs] = 0.25
    elif kind == "zero":
        x[..., :gs] = 0.0
    elif kind == "wide":
        x = x * 100
    r, m, c = rounded(x, dt)
    wq, sc, bi = op3("quantize", c, gs, bits)
    mwq, msc, mbi = mx.quantize(m, group_size=gs, bits=bits)
    tag = f"{NAME[dt]} {shape} g={gs} b={bits} {kind}"
    exact(f"quantize wq {tag}", wq, mwq, U32)
    check(f"quantize scales {tag}", sc, msc, 0, want_dtype=dt)
    check(f"quantize biases {tag}", bi, mbi, 0, want_dtype=dt)
    # dequantize MLX's own packing (so a packing bug shows here once)
    dq = op("dequantize", to_cmx(np.array(mwq), U32),
            rounded(mxnp(msc), dt)[2], rounded(mxnp(mbi), dt)[2], gs, bits)
    want = mx.dequantize(mwq, msc, mbi, group_size=gs, bits=bits)
    words = np.array(mwq).astype(np.uint64)
    per = 32 // bits
    sh = (np.arange(per) * bits).astype(np.uint64)
    q = (words[..., :, None] >> sh) & np.uint64((1 << bits) - 1)
    q = q.reshape(shape).astype(np.float64)
    s64 = np.repeat(mxnp(msc).astype(np.float64), gs, axis=-1)
    b64 = np.repeat(mxnp(mbi).astype(np.float64), gs, axis=-1)
    ref = s64 * q + b64
    # MLX rounds scale * q to the dtype before adding the bias: where the
    # two cancel, it is off by an ulp of the larger term, not the result.
    tm = TOL[dt] * (1 + float(np.max(np.abs(b64))))
    check(f"dequantize {tag}", dq, want, tm, ref, TOL[dt], want_dtype=dt)


for dt in (F32, F16, BF16):
    for bits in (2, 4, 8):
        for gs in (32, 64, 128):
            case("quant", lambda: quant_case((3, 256), gs, bits, dt))
        case("quant 3d", lambda: quant_case((2, 3, 128), 64, bits, dt))
        for kind in ("pos", "neg", "const", "zero", "wide"):
            case("quant kind", lambda: quant_case((4, 128), 32, bits, dt,
                                                  kind))


def qmm_case(xs, ws, gs, bits, transpose, dt):
    rw, mw, cw = rounded(rand(*ws), dt)
    mwq, msc, mbi = mx.quantize(mw, group_size=gs, bits=bits)
    rx, mxx, cx = rounded(rand(*xs), dt)
    cwq = to_cmx(np.array(mwq), U32)
    csc, cbi = rounded(mxnp(msc), dt)[2], rounded(mxnp(mbi), dt)[2]
    got = op("quantized_matmul", cx, cwq, csc, cbi, transpose, gs, bits)
    want = mx.quantized_matmul(mxx, mwq, msc, mbi, transpose=transpose,
                               group_size=gs, bits=bits)
    wd = mxnp(mx.dequantize(mwq, msc, mbi, group_size=gs,
                            bits=bits)).astype(np.float64)
    ref = rx @ (np.swapaxes(wd, -1, -2) if transpose else wd)
    K = xs[-1]
    t = TOL[dt] * max(1, math.sqrt(K)) * 2
    check(f"quantized_matmul {NAME[dt]} x{xs} w{ws} g={gs} b={bits} "
          f"t={transpose}", got, want, t, ref, t, want_dtype=dt)


for dt in (F32, F16, BF16):
    for bits in (2, 4, 8):
        for gs in (32, 64, 128):
            case("qmm", lambda: qmm_case((5, 256), (48, 256), gs, bits, True,
                                         dt))
        case("qmm nt", lambda: qmm_case((5, 64), (64, 96), 32, bits, False,
                                        dt))
        case("qmm 1d", lambda: qmm_case((128,), (40, 128), 64, bits, True,
                                        dt))
        case("qmm batch", lambda: qmm_case((2, 3, 128), (2, 1, 24, 128), 64,
                                           bits, True, dt))
        case("qmm decode", lambda: qmm_case((1, 512), (300, 512), 128, bits,
                                            True, dt))
        case("qmm m7", lambda: qmm_case((7, 128), (33, 128), 32, bits, True,
                                        dt))



# ---- random: reported, not failed (cmx does not promise MLX's bits) -------
def rkey(seed):
    out = H()
    ck(L.cmx_random_key(C.byref(out), C.c_uint64(seed)))
    return A(out.value)


def random_report():
    for seed in (0, 42, 2 ** 40 + 5):
        k = read(rkey(seed))
        mk = np.array(mx.random.key(seed))
        same_key = np.array_equal(k, mk)
        sp = read(op("random_split", rkey(seed), 3))
        msp = np.array(mx.random.split(mx.random.key(seed), 3))
        s, n = shp((4, 5))
        u = op("random_uniform", C.c_double(0.0), C.c_double(1.0), s, n, F32,
               rkey(seed))
        mu = mx.random.uniform(0.0, 1.0, (4, 5), key=mx.random.key(seed))
        g = op("random_normal", s, n, F32, C.c_double(0.0), C.c_double(1.0),
               rkey(seed))
        mn = mx.random.normal((4, 5), key=mx.random.key(seed))
        uu, nn_ = read(u), read(g)
        NOTES.append(
            f"random seed={seed}: key {'==' if same_key else '!='} MLX, "
            f"split {'==' if np.array_equal(sp, msp) else '!='} MLX, uniform "
            f"{'==' if np.array_equal(uu, np.array(mu)) else '!='} MLX "
            f"(max diff {np.max(np.abs(uu - np.array(mu))):.3g}), normal "
            f"{'==' if np.array_equal(nn_, np.array(mn)) else '!='} MLX")
    # what cmx does promise: shapes, dtypes, range, moments
    s, n = shp((200, 500))
    for dt in (F32, F16, BF16, F64):
        u = op("random_uniform", C.c_double(-2.0), C.c_double(3.0), s, n, dt,
               rkey(7))
        check(f"random_uniform {NAME[dt]} range / mean", u,
              np.full((200, 500), 0.5), 5.0 / 1.0 + 1e-9, want_dtype=dt)
        x = read(u).astype(np.float64)
        global N_CASES
        N_CASES += 1
        if not (x.min() >= -2.0 and x.max() < 3.0 and
                abs(x.mean() - 0.5) < 0.05):
            FAILS.append(f"random_uniform {NAME[dt]}: min {x.min()} max "
                         f"{x.max()} mean {x.mean()}")
        g = read(op("random_normal", s, n, dt, C.c_double(1.0),
                    C.c_double(2.0), rkey(8))).astype(np.float64)
        N_CASES += 1
        if abs(g.mean() - 1.0) > 0.05 or abs(g.std() - 2.0) > 0.05:
            FAILS.append(f"random_normal {NAME[dt]}: mean {g.mean()} std "
                         f"{g.std()}")


def threefry(key, ctr):
    """Threefry-2x32-20 of one block (Random123), in Python."""
    M = 0xFFFFFFFF
    R = (13, 15, 26, 6, 17, 29, 16, 24)
    ks = (key[0], key[1], 0x1BD11BDA ^ key[0] ^ key[1])
    x0, x1 = (ctr[0] + ks[0]) & M, (ctr[1] + ks[1]) & M
    for r in range(20):
        x0 = (x0 + x1) & M
        x1 = ((x1 << R[r % 8]) | (x1 >> (32 - R[r % 8]))) & M
        x1 ^= x0
        if r % 4 == 3:
            j = r // 4 + 1
            x0 = (x0 + ks[j % 3]) & M
            x1 = (x1 + ks[(j + 1) % 3] + j) & M
    return x0, x1


def threefry_core():
    """The hash itself: MLX's split(key, 2) is the blocks (0, 2), (1, 3)
    laid out as [a0, b0, a1, b1] -> words (a0, a1, b0, b1); cmx's (cmx.h)
    is blocks (0, 0), (1, 0) word after word."""
    global N_CASES
    for seed in (0, 42, 2 ** 40 + 5):
        key = [int(v) for v in np.array(mx.random.key(seed))]
        h0, h1 = threefry(key, (0, 2)), threefry(key, (1, 3))
        mlx_w = np.array(mx.random.split(mx.random.key(seed), 2)).ravel()
        N_CASES += 1
        if list(mlx_w) != [h0[0], h1[0], h0[1], h1[1]]:
            FAILS.append(f"threefry model of MLX's split wrong: {mlx_w}")
        c = [threefry(key, (0, 0)), threefry(key, (1, 0))]
        cmx_w = read(op("random_split", rkey(seed), 2)).ravel()
        N_CASES += 1
        if list(cmx_w) != [c[0][0], c[0][1], c[1][0], c[1][1]]:
            FAILS.append(f"cmx random_split seed={seed}: {list(cmx_w)} is "
                         f"not Threefry-2x32-20 of counters 0, 1")


case("random", random_report)
case("threefry", threefry_core)


# ---- safetensors round trips with MLX -------------------------------------
def st_arrays():
    out = {}
    # MLX 0.32 can neither save nor load float64 safetensors.
    for dt in (F32, F16, BF16, I8, I16, I32, I64, U8, U32, BOOL):
        shape = [(3, 5), (7,), (2, 3, 4), (), (0, 4)][dt % 5]
        if dt in FLOATS:
            x = rand(*shape) if shape else np.float64(0.75)
            out[f"t_{NAME[dt]}"] = mx.array(np.asarray(x, np.float32)) \
                .astype(MX_OF[dt]) if dt != F64 else \
                mx.array(np.asarray(x), dtype=mx.float64)
        elif dt == BOOL:
            out["t_bool"] = mx.array(rng.uniform(size=shape) < 0.5)
        else:
            info = np.iinfo(NP_OF[dt])
            out[f"t_{NAME[dt]}"] = mx.array(rng.integers(
                max(info.min, -1000), min(info.max, 1000), size=shape,
                dtype=NP_OF[dt]))
    return out


def safetensors_cases():
    d = tempfile.mkdtemp(prefix="cmx-diff-nn-")
    src = st_arrays()
    p1 = os.path.join(d, "mlx.safetensors")
    mx.save_safetensors(p1, src)
    arrs = C.POINTER(H)()
    names = C.POINTER(C.c_void_p)()
    n = C.c_size_t()
    ck(L.cmx_load_safetensors(p1.encode(), C.byref(arrs), C.byref(names),
                              C.byref(n)))
    got = {}
    for i in range(n.value):
        got[C.string_at(names[i]).decode()] = A(arrs[i])
    libc = C.CDLL(None)
    libc.free.argtypes = [C.c_void_p]
    for i in range(n.value):
        libc.free(names[i])
    libc.free(C.cast(names, C.c_void_p))
    libc.free(C.cast(arrs, C.c_void_p))
    global N_CASES
    N_CASES += 1
    if set(got) != set(src):
        FAILS.append(f"load mlx file: names {sorted(got)} want {sorted(src)}")
        return
    dt_of = {v: k for k, v in MX_OF.items()}
    for k, m in src.items():
        exact(f"load mlx file {k}", got[k], m, dt_of[m.dtype])
    # cmx writes (including views), MLX reads
    p2 = os.path.join(d, "cmx.safetensors")
    keys = sorted(got)
    t = op("transpose", got["t_f32"], None, 0)
    hs = (H * (len(keys) + 1))(*[H(got[k].h) for k in keys], H(t.h))
    nm = (C.c_char_p * (len(keys) + 1))(*[k.encode() for k in keys],
                                         b"t_f32_T")
    ck(L.cmx_save_safetensors(p2.encode(), hs, nm, len(keys) + 1))
    back = mx.load(p2)
    N_CASES += 1
    if set(back) != set(keys) | {"t_f32_T"}:
        FAILS.append(f"mlx load of cmx file: names {sorted(back)}")
        return
    for k in keys:
        N_CASES += 1
        a, b = back[k], src[k]
        if a.dtype != b.dtype or a.shape != b.shape or \
                not np.array_equal(mxnp(a), mxnp(b)):
            FAILS.append(f"mlx load of cmx file {k}: {a.dtype}{a.shape} "
                         f"want {b.dtype}{b.shape}")
    N_CASES += 1
    if not np.array_equal(np.array(back["t_f32_T"]), np.array(src["t_f32"]).T):
        FAILS.append("mlx load of cmx file: transposed view differs")
    # no tensors, both ways; MLX's metadata dict
    p3 = os.path.join(d, "empty.safetensors")
    mx.save_safetensors(p3, {})
    N_CASES += 1
    st = L.cmx_load_safetensors(p3.encode(), C.byref(arrs), C.byref(names),
                                C.byref(n))
    if st or n.value != 0:
        FAILS.append(f"load of MLX's empty file: status {st} n {n.value}: "
                     f"{L.cmx_last_error().decode()}")
    ck(L.cmx_save_safetensors(p3.encode(), None, None, 0))
    N_CASES += 1
    if mx.load(p3) != {}:
        FAILS.append("mlx load of cmx's empty file is not {}")
    p4 = os.path.join(d, "meta.safetensors")
    mx.save_safetensors(p4, {"w": src["t_bf16"]}, metadata={"format": "mlx"})
    ck(L.cmx_load_safetensors(p4.encode(), C.byref(arrs), C.byref(names),
                              C.byref(n)))
    w = A(arrs[0])
    libc.free(names[0])
    libc.free(C.cast(names, C.c_void_p))
    libc.free(C.cast(arrs, C.c_void_p))
    exact("load mlx file with metadata", w, src["t_bf16"], BF16)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    os.rmdir(d)


case("safetensors", safetensors_cases)



# ---- larger shapes and views across the ops -------------------------------
def tview(c, m, r, axes):
    """The same transpose of a cmx array, an MLX array and a numpy one."""
    return (op("transpose", c, ints(axes), len(axes)), mx.transpose(m, axes),
            np.transpose(r, axes))


def big_matmul(M, K, N, dt, batch=()):
    ra, ma, ca = rounded(rand(*batch, M, K), dt)
    rb, mb, cb = rounded(rand(K, N), dt)
    t = TOL[dt] * math.sqrt(K) * 2 if dt != F64 else 1e-12 * K
    check(f"matmul big {NAME[dt]} {batch}x{M}x{K}x{N}", op("matmul", ca, cb),
          mx.matmul(ma, mb), t, ra @ rb, t, want_dtype=dt)


for dt in FLOATS:
    for M, K, N in [(257, 513, 129), (1, 1000, 777), (300, 31, 1),
                    (129, 2049, 65), (16, 16, 1000)]:
        case("matmul big", lambda: big_matmul(M, K, N, dt))
    case("matmul big batch", lambda: big_matmul(70, 90, 50, dt, (3,)))


def matmul_batch_views(dt):
    # a: (B, M, K) from (M, B, K) by transpose; b: (B, K, N) reversed slice
    ra, ma, ca = rounded(rand(6, 3, 20), dt)
    ca, ma, ra = tview(ca, ma, ra, [1, 0, 2])
    rb, mb, cb = rounded(rand(3, 20, 14), dt)
    s0, _ = shp([2, 0, 13])
    s1, _ = shp([-4, 20, -15])
    s2, _ = shp([-1, 1, -1])
    cb = op("slice", cb, s0, s1, s2, 3)
    mb, rb = mb[::-1, :, ::-1], rb[::-1, :, ::-1]
    t = TOL[dt] * 10
    check(f"matmul {NAME[dt]} batch-transposed @ reversed", op("matmul", ca, cb),
          mx.matmul(ma, mb), t, ra @ rb, t, want_dtype=dt)
    # a broadcast batch of 1 against (4, 1, ...) and 1-D operands
    rc, mc, cc = rounded(rand(4, 1, 5, 20), dt)
    check(f"matmul {NAME[dt]} (4,1,5,20)@(3,20,14)rev", op("matmul", cc, cb),
          mx.matmul(mc, mb), t, rc @ rb, t, want_dtype=dt)
    rv, mv, cv = rounded(rand(20), dt)
    check(f"matmul {NAME[dt]} (3,20,14)rev^T.. 1-D @ batch",
          op("matmul", cv, cb), mx.matmul(mv, mb), t, rv @ rb, t,
          want_dtype=dt)
    check(f"matmul {NAME[dt]} batch @ 1-D", op("matmul", ca, cv),
          mx.matmul(ma, mv), t, ra @ rv, t, want_dtype=dt)


for dt in FLOATS:
    case("matmul batch views", lambda: matmul_batch_views(dt))


def addmm_mixed(dc, dab):
    ra, ma, ca = rounded(rand(6, 9), dab)
    rb, mb, cb = rounded(rand(9, 5), dab)
    rc, mc, cc = rounded(rand(6, 5), dc)
    want = mx.addmm(mc, ma, mb, alpha=0.75, beta=1.25)
    dt = {v: k for k, v in MX_OF.items()}[want.dtype]
    t = TOL[dt] * 8 if dt != F64 else 1e-5
    check(f"addmm c {NAME[dc]} a,b {NAME[dab]}", op("addmm", cc, ca, cb, 0.75,
                                                     1.25),
          want, t, 0.75 * ra @ rb + 1.25 * rc, max(t, TOL[dab] * 8),
          want_dtype=dt)


for dc, dab in [(F16, F32), (F32, F16), (BF16, F16), (F64, F32),
                (F32, BF16)]:
    case("addmm mixed", lambda: addmm_mixed(dc, dab))


def nn_views(dt):
    """softmax / norms / rope / activations on transposed views."""
    r, m, c = rounded(rand(5, 3, 40) * 3, dt)
    cT, mT, rT = tview(c, m, r, [1, 0, 2])
    t = TOL[dt] * 4
    check(f"softmax {NAME[dt]} view", op("softmax", cT, -1),
          mx.softmax(mT, axis=-1, precise=True), t, np_softmax(rT, -1), t,
          want_dtype=dt)
    check(f"softmax {NAME[dt]} view axis 1", op("softmax", cT, 1),
          mx.softmax(mT, axis=1, precise=True), t, np_softmax(rT, 1), t,
          want_dtype=dt)
    rw, mw, cw = rounded(rand(40) + 1, dt)
    mu = rT.mean(-1, keepdims=True)
    ln = (rT - mu) / np.sqrt(((rT - mu) ** 2).mean(-1, keepdims=True) + 1e-5)
    check(f"layer_norm {NAME[dt]} view", op("layer_norm", cT, cw, None, 1e-5),
          mx.fast.layer_norm(mT, mw, None, 1e-5), t, ln * rw, t,
          want_dtype=dt)
    rms = rT / np.sqrt((rT * rT).mean(-1, keepdims=True) + 1e-5) * rw
    check(f"rms_norm {NAME[dt]} view", op("rms_norm", cT, cw, 1e-5),
          mx.fast.rms_norm(mT, mw, 1e-5), t, rms, t, want_dtype=dt)
    check(f"gelu {NAME[dt]} view", op("gelu", cT), mnn.gelu(mT), t * 2,
          ACTS["gelu"][1](rT), t, want_dtype=dt)
    # rope on (B, L, H, D) -> (B, H, L, D), as attention layers do
    r, m, c = rounded(rand(2, 7, 3, 32), dt)
    cT, mT, rT = tview(c, m, r, [0, 2, 1, 3])
    for trad in (False, True):
        pos = (4 + np.arange(7))[None, :].astype(np.float64)
        check(f"rope {NAME[dt]} view trad={trad}",
              op("rope", cT, 32, trad, 10000.0, 1.0, 4),
              mx.fast.rope(mT, 32, traditional=trad, base=10000.0, scale=1.0,
                           offset=4), t,
              np_rope(rT, 32, trad, 10000.0, 1.0, pos), t, want_dtype=dt)
        o = np.array([3, 11], np.int64)
        pos = (o[:, None] + np.arange(7)[None, :]).astype(np.float64)
        check(f"rope_offsets {NAME[dt]} view i64 trad={trad}",
              op("rope_offsets", cT, 16, trad, 10000.0, 1.0, to_cmx(o, I64)),
              mx.fast.rope(mT, 16, traditional=trad, base=10000.0, scale=1.0,
                           offset=mx.array(o)), t,
              np_rope(rT, 16, trad, 10000.0, 1.0, pos), t, want_dtype=dt)
    # rope on a 2-D (L, D) input (cmx.h allows it; MLX wants 3-D)
    r, m, c = rounded(rand(9, 24), dt)
    pos = (2 + np.arange(9))[None, :].astype(np.float64)
    check(f"rope {NAME[dt]} 2-D", op("rope", c, 24, False, 10000.0, 1.0, 2),
          mx.fast.rope(m[None], 24, traditional=False, base=10000.0,
                       scale=1.0, offset=2)[0], t,
          np_rope(r[None], 24, False, 10000.0, 1.0, pos)[0], t, want_dtype=dt)


for dt in (F32, F16, BF16):
    case("nn views", lambda: nn_views(dt))


def sdpa_kv_views(dt, Lq, Lk):
    """q, k, v all (B, L, H, D) transposed, as a model feeds them."""
    rq, mq, cq = rounded(rand(1, Lq, 4, 64), dt)
    rk, mk, ck_ = rounded(rand(1, Lk, 2, 64), dt)
    rv, mv, cv = rounded(rand(1, Lk, 2, 64), dt)
    ax = [0, 2, 1, 3]
    cq, mq, rq = tview(cq, mq, rq, ax)
    ck_, mk, rk = tview(ck_, mk, rk, ax)
    cv, mv, rv = tview(cv, mv, rv, ax)
    for mode in ("", "causal"):
        got = op("scaled_dot_product_attention", cq, ck_, cv, 0.125,
                 mode.encode(), None)
        want = mx.fast.scaled_dot_product_attention(
            mq, mk, mv, scale=0.125, mask=mode or None)
        m = None
        if mode:
            m = np.arange(Lk)[None, :] <= np.arange(Lq)[:, None] + Lk - Lq
        check(f"sdpa {NAME[dt]} kv views Lq={Lq} Lk={Lk} {mode or 'none'}",
              got, want, TOL[dt] * 4, np_sdpa(rq, rk, rv, 0.125, m),
              TOL[dt] * 4, want_dtype=dt)


for dt in (F32, F16, BF16):
    for Lq, Lk in [(1, 1), (1, 1000), (1, 4097), (5, 1029), (64, 64),
                   (130, 130)]:
        case("sdpa kv views", lambda: sdpa_kv_views(dt, Lq, Lk))


def conv_views(dt):
    # x as (N, C, H, W) -> (N, H, W, C): the usual NCHW import
    rx, mxx, cx = rounded(rand(2, 6, 9, 10), dt)
    cx, mxx, rx = tview(cx, mxx, rx, [0, 2, 3, 1])
    rw, mw, cw = rounded(rand(8, 3, 3, 6), dt)
    got = op("conv2d", cx, cw, ints([1, 2]), ints([1, 1]), ints([1, 1]), 1)
    want = mx.conv2d(mxx, mw, stride=(1, 2), padding=(1, 1))
    t = TOL[dt] * 20
    check(f"conv2d {NAME[dt]} NCHW view", got, want, t,
          np_conv(rx, rw, [1, 2], [1, 1], [1, 1], 1), t, want_dtype=dt)
    rx, mxx, cx = rounded(rand(2, 64, 300), dt)
    cx, mxx, rx = tview(cx, mxx, rx, [0, 2, 1])
    rw, mw, cw = rounded(rand(96, 5, 64), dt)
    got = op("conv1d", cx, cw, 2, 2, 1, 1)
    want = mx.conv1d(mxx, mw, stride=2, padding=2)
    t = TOL[dt] * 40
    check(f"conv1d {NAME[dt]} big view", got, want, t,
          np_conv(rx, rw, [2], [2], [1], 1), t, want_dtype=dt)
    rx, mxx, cx = rounded(rand(1, 33, 35, 64), dt)
    rw, mw, cw = rounded(rand(64, 3, 3, 1), dt)
    got = op("conv2d", cx, cw, ints([1, 1]), ints([1, 1]), ints([1, 1]), 64)
    want = mx.conv2d(mxx, mw, padding=(1, 1), groups=64)
    t = TOL[dt] * 8
    check(f"conv2d {NAME[dt]} depthwise 64", got, want, t,
          np_conv(rx, rw, [1, 1], [1, 1], [1, 1], 64), t, want_dtype=dt)


for dt in (F32, F16, BF16):
    case("conv views", lambda: conv_views(dt))


def qmm_more(dt, bits, gs):
    rw, mw, cw = rounded(rand(200, 512) * 0.1, dt)
    wq, sc, bi = op3("quantize", cw, gs, bits)
    mwq, msc, mbi = mx.quantize(mw, group_size=gs, bits=bits)
    for M in (1, 3, 16, 33):
        rx, mxx, cx = rounded(rand(M, 512), dt)
        got = op("quantized_matmul", cx, wq, sc, bi, True, gs, bits)
        want = mx.quantized_matmul(mxx, mwq, msc, mbi, transpose=True,
                                   group_size=gs, bits=bits)
        t = TOL[dt] * 50
        check(f"quantized_matmul {NAME[dt]} M={M} 200x512 g={gs} b={bits} "
              f"(cmx-quantized)", got, want, t, want_dtype=dt)
    # x a transposed view, w batch broadcast
    rx, mxx, cx = rounded(rand(512, 6), dt)
    cx, mxx, rx = tview(cx, mxx, rx, [1, 0])
    got = op("quantized_matmul", cx, wq, sc, bi, True, gs, bits)
    want = mx.quantized_matmul(mxx, mwq, msc, mbi, transpose=True,
                               group_size=gs, bits=bits)
    check(f"quantized_matmul {NAME[dt]} x view g={gs} b={bits}", got, want,
          TOL[dt] * 50, want_dtype=dt)


for dt in (F32, F16, BF16):
    for bits in (2, 4, 8):
        case("qmm more", lambda: qmm_more(dt, bits, 64))
    case("qmm more", lambda: qmm_more(dt, 4, 128))


def quant_view(dt):
    r, m, c = rounded(rand(128, 6), dt)
    cT, mT, rT = tview(c, m, r, [1, 0])
    wq, sc, bi = op3("quantize", cT, 32, 4)
    mwq, msc, mbi = mx.quantize(mT, group_size=32, bits=4)
    exact(f"quantize {NAME[dt]} view wq", wq, mwq, U32)
    check(f"quantize {NAME[dt]} view scales", sc, msc, 0, want_dtype=dt)
    # tiny ranges: scale clamps at 1e-7
    x = np.full((2, 64), 0.3) + rand(2, 64) * 1e-9
    r, m, c = rounded(x, dt)
    for bits in (2, 4, 8):
        wq, sc, bi = op3("quantize", c, 32, bits)
        mwq, msc, mbi = mx.quantize(m, group_size=32, bits=bits)
        exact(f"quantize {NAME[dt]} flat groups b={bits}", wq, mwq, U32)
        check(f"quantize {NAME[dt]} flat groups b={bits} scales", sc, msc, 0,
              want_dtype=dt)
        check(f"quantize {NAME[dt]} flat groups b={bits} biases", bi, mbi, 0,
              want_dtype=dt)


for dt in (F32, F16, BF16):
    case("quant view", lambda: quant_view(dt))



for dt in (F32, BF16):
    for xs, ws, st, pd, dl, g in [
            ((1, 12, 10, 64), (128, 3, 3, 32), [1, 1], [1, 1], [1, 1], 2),
            ((1, 17, 19, 32), (32, 3, 3, 1), [2, 2], [2, 2], [2, 2], 32),
            ((2, 8, 8, 48), (96, 1, 1, 48), [1, 1], [0, 0], [1, 1], 1),
            ((1, 9, 9, 24), (48, 3, 3, 1), [1, 1], [1, 1], [1, 1], 24),
            ((1, 4, 5, 3), (5, 2, 2, 3), [1, 1], [3, 2], [1, 1], 1),
            ((1, 30, 30, 3), (16, 7, 7, 3), [2, 2], [3, 3], [1, 1], 1)]:
        case("conv2d more", lambda: conv_case(xs, ws, st, pd, dl, g, dt))
    for xs, ws, st, pd, dl, g in [
            ((2, 500, 32), (64, 1, 32), 1, 0, 1, 1),
            ((1, 100, 96), (96, 4, 1), 1, 3, 1, 96),
            ((1, 64, 128), (256, 3, 32), 1, 1, 1, 4),
            ((1, 5, 4), (4, 3, 4), 1, 6, 1, 1)]:
        case("conv1d more", lambda: conv_case(xs, ws, [st], [pd], [dl], g,
                                              dt))

for dt in (F32, F16, BF16):
    for B, Hq, Hk, Lq, Lk, D, Dv in [(2, 8, 1, 1, 129, 72, 72),
                                     (1, 4, 2, 1, 2000, 96, 64),
                                     (1, 2, 2, 17, 300, 40, 40),
                                     (2, 4, 4, 1, 1, 64, 64)]:
        for mode in ("", "causal"):
            case("sdpa more", lambda: sdpa_case(B, Hq, Hk, Lq, Lk, D, Dv, dt,
                                                mode))
        case("sdpa more bool", lambda: sdpa_case(B, Hq, Hk, Lq, Lk, D, Dv, dt,
                                                 "array", BOOL))
        case("sdpa more add", lambda: sdpa_case(B, Hq, Hk, Lq, Lk, D, Dv, dt,
                                                "array", dt, (Lq, Lk)))

for dt in (F32, F16, BF16):
    for bits in (2, 4, 8):
        case("qmm nt big", lambda: qmm_case((40, 256), (256, 192), 64, bits,
                                            False, dt))
        case("qmm nt batch", lambda: qmm_case((3, 1, 4, 128), (2, 128, 64),
                                              32, bits, False, dt))
        case("qmm nt decode", lambda: qmm_case((1, 1024), (1024, 256), 128,
                                               bits, False, dt))




def sdpa_inf_blocks(dt, Lq, Lk, cut):
    """Additive -inf over whole leading key blocks (the online softmax
    starts from rows with nothing seen), and over all but two keys."""
    rq, mq, cq = rounded(rand(1, 2, Lq, 64), dt)
    rk, mk, ck_ = rounded(rand(1, 2, Lk, 64), dt)
    rv, mv, cv = rounded(rand(1, 2, Lk, 64), dt)
    for tag, am in (("lead", np.zeros((Lq, Lk))), ("ends", np.full(
            (Lq, Lk), -np.inf))):
        if tag == "lead":
            am[:, :cut] = -np.inf
        else:
            am[:, [0, Lk - 1]] = 0
        ram, mam, cam = rounded(am, dt)
        got = op("scaled_dot_product_attention", cq, ck_, cv, 0.125,
                 b"array", cam)
        want = mx.fast.scaled_dot_product_attention(mq, mk, mv, scale=0.125,
                                                    mask=mam)
        check(f"sdpa {NAME[dt]} -inf {tag} Lq={Lq} Lk={Lk} cut={cut}", got,
              want, TOL[dt] * 4, np_sdpa(rq, rk, rv, 0.125, ram),
              TOL[dt] * 4, want_dtype=dt)


for dt in (F32, F16, BF16):
    for Lq, Lk, cut in [(1, 2000, 1500), (1, 300, 299), (4, 600, 520),
                        (33, 700, 650), (2, 257, 256), (1, 5000, 4999)]:
        case("sdpa -inf", lambda: sdpa_inf_blocks(dt, Lq, Lk, cut))
    case("norm big", lambda: norm_case((2, 4096), dt, dt, True, True,
                                       shift=0.0, eps=1e-6))


# ---- what MLX refuses, cmx must refuse (no garbage, no crash) -------------
def both_refuse(name, cmx_fn, mlx_fn):
    global N_CASES
    try:
        mlx_fn()
        mlx_ok = True
    except (ValueError, RuntimeError):
        mlx_ok = False
    if mlx_ok:
        NOTES.append(f"error parity: MLX accepts {name}")
        return
    expect_error(name, cmx_fn)


def f32(*shape):
    return to_cmx(rand(*shape), F32), mx.array(rand(*shape).astype(
        np.float32))


def error_parity():
    a, ma = f32(3, 4)
    b, mb = f32(5, 2)
    both_refuse("matmul (3,4)@(5,2)", lambda: op("matmul", a, b),
                lambda: mx.matmul(ma, mb))
    a3, ma3 = f32(2, 3, 4)
    b3, mb3 = f32(3, 4, 2)
    both_refuse("matmul batch 2 vs 3", lambda: op("matmul", a3, b3),
                lambda: mx.matmul(ma3, mb3))
    c, mc = f32(4, 4)
    b2, mb2 = f32(4, 2)
    both_refuse("addmm c (4,4) for (3,2)",
                lambda: op("addmm", c, a, b2, 1.0, 1.0),
                lambda: mx.addmm(mc, ma, mb2))
    x, mx_ = f32(2, 8)
    w, mw = f32(7)
    both_refuse("layer_norm weight (7,) for D=8",
                lambda: op("layer_norm", x, w, None, 1e-5),
                lambda: mx.fast.layer_norm(mx_, mw, None, 1e-5))
    both_refuse("rms_norm weight (7,) for D=8",
                lambda: op("rms_norm", x, w, 1e-5),
                lambda: mx.fast.rms_norm(mx_, mw, 1e-5))
    q, mq = f32(1, 3, 4, 8)
    k, mk = f32(1, 2, 4, 8)
    both_refuse("sdpa Hq=3 Hkv=2",
                lambda: op("scaled_dot_product_attention", q, k, k, 1.0, b"",
                           None),
                lambda: mx.fast.scaled_dot_product_attention(mq, mk, mk,
                                                             scale=1.0))
    q, mq = f32(1, 2, 4, 8)
    k, mk = f32(1, 2, 4, 6)
    both_refuse("sdpa D 8 vs 6",
                lambda: op("scaled_dot_product_attention", q, k, k, 1.0, b"",
                           None),
                lambda: mx.fast.scaled_dot_product_attention(mq, mk, mk,
                                                             scale=1.0))
    k, mk = f32(1, 2, 5, 8)
    m, mm = f32(3, 5)
    both_refuse("sdpa mask (3,5) for Lq=4",
                lambda: op("scaled_dot_product_attention", q, k, k, 1.0,
                           b"array", m),
                lambda: mx.fast.scaled_dot_product_attention(mq, mk, mk,
                                                             scale=1.0,
                                                             mask=mm))
    x, mx_ = f32(1, 9, 6)
    w, mw = f32(4, 3, 4)
    both_refuse("conv1d C_in 6 vs w 4 groups 1",
                lambda: op("conv1d", x, w, 1, 0, 1, 1),
                lambda: mx.conv1d(mx_, mw))
    w, mw = f32(4, 3, 2)
    both_refuse("conv1d groups 4 with C_in 6",
                lambda: op("conv1d", x, w, 1, 0, 1, 4),
                lambda: mx.conv1d(mx_, mw, groups=4))
    w, mw = f32(5, 3, 3)
    both_refuse("conv1d C_out 5 not a multiple of groups 2",
                lambda: op("conv1d", x, w, 1, 0, 1, 2),
                lambda: mx.conv1d(mx_, mw, groups=2))
    w, mw = f32(4, 12, 6)
    both_refuse("conv1d kernel 12 > input 9",
                lambda: op("conv1d", x, w, 1, 0, 1, 1),
                lambda: mx.conv1d(mx_, mw))
    w, mw = f32(4, 3, 6)
    both_refuse("conv1d stride 0", lambda: op("conv1d", x, w, 0, 0, 1, 1),
                lambda: mx.conv1d(mx_, mw, stride=0))
    x, mx_ = f32(4, 96)
    both_refuse("quantize K 96 with group 64",
                lambda: op3("quantize", x, 64, 4),
                lambda: mx.quantize(mx_, group_size=64, bits=4))
    x, mx_ = f32(4, 64)
    both_refuse("quantize bits 5 (cmx: 2, 4, 8 only)",
                lambda: op3("quantize", x, 32, 5),
                lambda: mx.quantize(mx_, group_size=32, bits=5))
    both_refuse("quantize group 16", lambda: op3("quantize", x, 16, 4),
                lambda: mx.quantize(mx_, group_size=16, bits=4))
    w, mw = f32(32, 128)
    wq, sc, bi = op3("quantize", w, 64, 4)
    mwq, msc, mbi = mx.quantize(mw, group_size=64, bits=4)
    x, mx_ = f32(3, 64)
    both_refuse("quantized_matmul K 64 vs 128",
                lambda: op("quantized_matmul", x, wq, sc, bi, True, 64, 4),
                lambda: mx.quantized_matmul(mx_, mwq, msc, mbi, True, 64, 4))
    x, mx_ = f32(3, 128)
    both_refuse("quantized_matmul bits mismatch (8 for a 4-bit w)",
                lambda: op("quantized_matmul", x, wq, sc, bi, True, 64, 8),
                lambda: mx.quantized_matmul(mx_, mwq, msc, mbi, True, 64, 8))
    both_refuse("quantized_matmul group mismatch (32 for a 64-group w)",
                lambda: op("quantized_matmul", x, wq, sc, bi, True, 32, 4),
                lambda: mx.quantized_matmul(mx_, mwq, msc, mbi, True, 32, 4))
    both_refuse("dequantize group mismatch",
                lambda: op("dequantize", wq, sc, bi, 128, 4),
                lambda: mx.dequantize(mwq, msc, mbi, group_size=128, bits=4))
    x5, mx5 = f32(2, 3, 8)
    both_refuse("rope dims 10 > D 8",
                lambda: op("rope", x5, 10, False, 10000.0, 1.0, 0),
                lambda: mx.fast.rope(mx5, 10, traditional=False,
                                     base=10000.0, scale=1.0, offset=0))
    o = np.array([1, 2, 3], np.int32)
    both_refuse("rope offsets (3,) for B=2",
                lambda: op("rope_offsets", x5, 8, False, 10000.0, 1.0,
                           to_cmx(o, I32)),
                lambda: mx.eval(mx.fast.rope(
                    mx5, 8, traditional=False, base=10000.0, scale=1.0,
                    offset=mx.array(o))))


case("error parity", error_parity)


# ---- summary --------------------------------------------------------------
for n in NOTES:
    print("note:", n)
for f in FAILS:
    print("FAIL:", f)
print(f"diff-mlx-nn: {N_CASES} cases, {len(FAILS)} failed")
sys.exit(1 if FAILS else 0)
