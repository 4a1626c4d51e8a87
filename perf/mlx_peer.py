"""MLX-CPU peer for cmx-bench: times the cases of perf/torch_peer.py with
MLX on its CPU device and prints one line per case in perf/peer_common.py's
format, under the same keys. --suite nn: the deck of issue 4 (perf/nn.c);
--only A,B keeps those names.

MLX is lazy: each repetition builds the op afresh and times mx.eval of it,
inputs evaluated before; median of the repetitions after a warm-up.

Threads: MLX's CPU backend has no thread-count setting (no set_num_threads,
no environment variable). Each stream owns one worker thread and runs its
ops one after another there, each op on that one thread; parallelism exists
only across streams (inter-op), which a single op cannot use. f32 matmul
(and the SDPA and convolution GEMMs) calls cblas_sgemm of the BLAS MLX was
built with: in the mlx-cpu 0.32 Linux wheel, the bundled netlib reference
BLAS 3.10, single-threaded. So every row is a one-thread figure: --threads N
is accepted, the lines say 1, and each note gives the process CPU time over
wall time while the case ran (1.00: one busy thread).

Usage: python3 perf/mlx_peer.py --threads 1 [--quick]
           [--suite nn [--only NAMES]]
(the interpreter: env CMX_MLX_PYTHON, else python3 or /usr/bin/python3,
whichever imports mlx.core; see perf/peer.c)"""
import math
import resource
import sys
import time

import mlx.core as mx
import mlx.nn as nn

sys.dont_write_bytecode = True  # no perf/__pycache__ in the tree
import peer_common  # noqa: E402

THREADS = 1  # see the docstring: what MLX's CPU backend really runs on


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timer(fn, quick):
    """peer_common.median_time of mx.eval(fn()), and the CPU/wall note."""
    c0, w0 = cpu_seconds(), time.perf_counter()
    t = peer_common.median_time(lambda: mx.eval(fn()), quick)
    busy = (cpu_seconds() - c0) / (time.perf_counter() - w0)
    return t, f"cpu/wall {busy:.2f}"


def rand(*shape, lo=-1.0, hi=1.0):
    a = mx.random.uniform(lo, hi, shape)
    mx.eval(a)
    return a


def nn_deck():
    """(name, shape, fn, work, unit, note) of the issue-4 deck, the work
    counted as in perf/nn.c and perf/torch_peer.py."""
    x = rand(4096, 4096, lo=-3, hi=3)
    w = rand(4096)
    b = rand(4096)
    nb = x.size * 4
    rows = [
        ("softmax_axis=-1", "4096x4096", lambda: mx.softmax(x, axis=-1),
         2 * nb, "GB/s", ""),
        ("layer_norm_w+b", "4096x4096",
         lambda: mx.fast.layer_norm(x, w, b, 1e-5), 2 * nb + 4 * 4096,
         "GB/s", "mx.fast"),
        ("rms_norm_w", "4096x4096", lambda: mx.fast.rms_norm(x, w, 1e-5),
         2 * nb + 4 * 4096, "GB/s", "mx.fast"),
        ("gelu", "4096x4096", lambda: nn.gelu(x), 2 * nb, "GB/s",
         "nn.gelu: erf, mx.compile"),
        ("silu", "4096x4096", lambda: nn.silu(x), 2 * nb, "GB/s",
         "nn.silu: mx.compile"),
    ]
    # rope, non-traditional (rotate-half) over 128 dims, base 10000
    xr = rand(1, 32, 2048, 128, lo=-3, hi=3)
    rows.append(("rope_L=2048_D=128", "1x32x2048x128",
                 lambda: mx.fast.rope(xr, 128, traditional=False,
                                      base=10000.0, scale=1.0, offset=0),
                 2 * xr.size * 4, "GB/s", "mx.fast, angles inside"))
    # SDPA: mx.fast has no fused CPU kernel (force_fused=True raises), so
    # this is MLX's own composition of matmul, softmax, matmul
    scale = 1 / math.sqrt(128)
    q, k, v = (rand(1, 32, 2048, 128) for _ in range(3))
    rows.append(("sdpa_prefill_causal", "1x32x2048x128",
                 lambda: mx.fast.scaled_dot_product_attention(
                     q, k, v, scale=scale, mask="causal"),
                 4.0 * 128 * 32 * 2048 * 2049 / 2, "GFLOP/s",
                 "mx.fast, unfused on CPU"))
    # decode: against 32 KV heads, 8 (grouped-query) and a bf16 cache

    def decode(name, shape, q_, k_, v_, note):
        nbytes = 2.0 * k_.size * k_.itemsize
        rows.append((name, shape,
                     lambda: mx.fast.scaled_dot_product_attention(
                         q_, k_, v_, scale=scale),
                     nbytes, "GB/s", note))
    qd = rand(1, 32, 1, 128)
    kd = rand(1, 32, 4096, 128)
    vd = rand(1, 32, 4096, 128)
    decode("sdpa_decode_KV=4096", "1x32x1x128", qd, kd, vd,
           "mx.fast, unfused on CPU")
    decode("sdpa_decode_GQA_32/8", "1x32x1x128/8kv", qd,
           rand(1, 8, 4096, 128), rand(1, 8, 4096, 128),
           "mx.fast, unfused on CPU")
    bf = [t.astype(mx.bfloat16) for t in (qd, kd, vd)]
    mx.eval(*bf)
    decode("sdpa_decode_bf16_KV=4096", "1x32x1x128", *bf,
           "mx.fast, unfused on CPU, bf16")
    # convolutions on NHWC, weights (out, kh, kw, in / groups): cmx's layout
    xc = rand(1, 224, 224, 3)
    wc = rand(64, 7, 7, 3)
    rows.append(("conv2d_7x7/2_3->64", "1x224x224x3",
                 lambda: mx.conv2d(xc, wc, stride=2, padding=3),
                 2.0 * 112 * 112 * 64 * 147, "GFLOP/s", "NHWC"))
    xw = rand(1, 56, 56, 128)
    ww = rand(128, 3, 3, 1)
    rows.append(("conv2d_dw_3x3_128", "1x56x56x128",
                 lambda: mx.conv2d(xw, ww, padding=1, groups=128),
                 2.0 * 56 * 56 * 128 * 4, "GB/s", "NHWC, groups=128"))
    for h, c in ((56, 64), (7, 512)):
        x3 = rand(1, h, h, c)
        w3 = rand(c, 3, 3, c)
        rows.append((f"conv2d_3x3_{c}->{c}", f"1x{h}x{h}x{c}",
                     lambda x3=x3, w3=w3: mx.conv2d(x3, w3, padding=1),
                     2.0 * h * h * c * 9 * c, "GFLOP/s", "NHWC"))
    xp = rand(2048, 512, 64)
    rows.append(("permute_copy", "2048x512x64",
                 lambda: mx.contiguous(xp.transpose(2, 1, 0)),
                 2 * xp.size * 4, "GB/s", "mx.contiguous"))
    xh = rand(8, 2048, 32, 128)
    rows.append(("permute_heads", "8x2048x32x128",
                 lambda: mx.contiguous(xh.transpose(0, 2, 1, 3)),
                 2 * xh.size * 4, "GB/s", "mx.contiguous"))
    rows.append(("astype_f32->bf16", "16M",
                 lambda: x.astype(mx.bfloat16), 6 * x.size, "GB/s", ""))
    # quantized_matmul, 4-bit groups of 64, f32 scales and biases: bytes of
    # the packed weights read once (decode), flops of the product (prefill)
    wq, sq, bq = mx.quantize(rand(4096, 4096), group_size=64, bits=4)
    mx.eval(wq, sq, bq)
    qbytes = 4096 * 4096 / 2 + 2 * 4096 * 64 * 4
    for name, m, work, unit in (
            ("qmm_decode_4bit_g64", 1, qbytes, "GB/s"),
            ("qmm_prefill_4bit_g64", 512, 2.0 * 512 * 4096 * 4096,
             "GFLOP/s")):
        xq = rand(m, 4096)
        rows.append((name, f"{m}x4096_@_4096x4096",
                     lambda xq=xq: mx.quantized_matmul(
                         xq, wq, sq, bq, transpose=True, group_size=64,
                         bits=4), work, unit, "mx.quantized_matmul"))
    return rows


def main():
    args = peer_common.parse_args(__doc__)
    if args.threads != THREADS:
        print(f"mlx_peer: MLX-CPU has no thread knob; asked for "
              f"{args.threads} threads, runs on {THREADS}", file=sys.stderr)
    mx.set_default_device(mx.cpu)
    mx.random.seed(1)
    ops = {"add": mx.add, "exp": mx.exp, "gelu": nn.gelu, "tanh": mx.tanh,
           "sum all": mx.sum,
           "logsumexp axis=-1": lambda x: mx.logsumexp(x, axis=-1)}
    cases = ([("nn",) + c for c in nn_deck()] if args.suite == "nn" else
             peer_common.ops_deck(lambda shape, lo, hi: rand(*shape, lo=lo,
                                                             hi=hi),
                                  ops, mx.matmul, "cblas_sgemm"))
    peer_common.run_cases(cases, args, THREADS, timer)


if __name__ == "__main__":
    main()
