"""PyTorch peer for cmx-bench: times a few of the deck's ops with torch on
the given thread count (torch.set_num_threads) and prints one line per op in
perf/peer_common.py's format. --suite nn: the deck of issue 4 (perf/nn.c);
--only A,B keeps those names.
Usage: python3 perf/torch_peer.py --threads N [--quick]
           [--suite nn [--only NAMES]]
Where the torch has them (2.x from PyPI), rms_norm and SDPA are torch's own
fused ops (F.rms_norm, F.scaled_dot_product_attention); with Debian's 1.13
they are the unfused chains below, and the row's note says which."""
import math
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no perf/__pycache__ in the tree
import peer_common  # noqa: E402

HAS_RMS = hasattr(F, "rms_norm")
# the scale= argument came in torch 2.1
HAS_SDPA = (hasattr(F, "scaled_dot_product_attention") and
            tuple(int(p) for p in torch.__version__.split(".")[:2]) >= (2, 1))


def rand(*shape, g, lo=-1.0, hi=1.0):
    return torch.rand(*shape, generator=g) * (hi - lo) + lo


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), -1)


def nn_deck(g):
    """(name, shape, fn, work, unit, note) of the issue-4 deck; work in the
    units of perf/nn.c (bytes in + out once each, or useful flops)."""
    x = rand(4096, 4096, g=g, lo=-3, hi=3)
    w = rand(4096, g=g)
    b = rand(4096, g=g)
    nb = x.numel() * 4
    rows = [
        ("softmax_axis=-1", "4096x4096", lambda: torch.softmax(x, -1),
         2 * nb, "GB/s", ""),
        ("layer_norm_w+b", "4096x4096",
         lambda: F.layer_norm(x, (4096,), w, b, 1e-5), 2 * nb + 4 * 4096,
         "GB/s", ""),
        ("rms_norm_w", "4096x4096",
         (lambda: F.rms_norm(x, (4096,), w, 1e-5)) if HAS_RMS else
         (lambda: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w),
         2 * nb + 4 * 4096, "GB/s",
         "F.rms_norm" if HAS_RMS else "unfused: no F.rms_norm in this torch"),
        ("gelu", "4096x4096", lambda: F.gelu(x), 2 * nb, "GB/s", ""),
        ("silu", "4096x4096", lambda: F.silu(x), 2 * nb, "GB/s", ""),
    ]
    # rope, non-traditional (rotate-half) over 128 dims, base 10000
    xr = rand(1, 32, 2048, 128, g=g, lo=-3, hi=3)
    inv = 10000.0 ** (-torch.arange(0, 64, dtype=torch.float32) / 64)
    ang = torch.arange(2048, dtype=torch.float32)[:, None] * inv[None, :]
    ang = torch.cat((ang, ang), -1)
    cos, sin = torch.cos(ang), torch.sin(ang)
    rows.append(("rope_L=2048_D=128", "1x32x2048x128",
                 lambda: xr * cos + rotate_half(xr) * sin,
                 2 * xr.numel() * 4, "GB/s",
                 "unfused rotate-half, cos/sin precomputed"))
    # SDPA: torch's fused op where it has one (2.x), else the unfused chain
    scale = 1 / math.sqrt(128)
    q = rand(1, 32, 2048, 128, g=g)
    k = rand(1, 32, 2048, 128, g=g)
    v = rand(1, 32, 2048, 128, g=g)
    mask = torch.ones(2048, 2048, dtype=torch.bool).triu(1)

    def prefill():
        if HAS_SDPA:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                  scale=scale)
        s = (q @ k.transpose(-1, -2)).mul_(scale).masked_fill_(
            mask, float("-inf"))
        return torch.softmax(s, -1) @ v

    rows.append(("sdpa_prefill_causal", "1x32x2048x128", prefill,
                 4.0 * 128 * 32 * 2048 * 2049 / 2, "GFLOP/s",
                 "F.scaled_dot_product_attention" if HAS_SDPA else
                 "unfused softmax(qk^T*s+mask)v"))
    qd = rand(1, 32, 1, 128, g=g)
    kd = rand(1, 32, 4096, 128, g=g)
    vd = rand(1, 32, 4096, 128, g=g)
    rows.append(("sdpa_decode_KV=4096", "1x32x1x128",
                 (lambda: F.scaled_dot_product_attention(qd, kd, vd,
                                                         scale=scale))
                 if HAS_SDPA else
                 (lambda: torch.softmax(
                     (qd @ kd.transpose(-1, -2)).mul_(scale), -1) @ vd),
                 2.0 * 32 * 4096 * 128 * 4, "GB/s",
                 "F.scaled_dot_product_attention" if HAS_SDPA else
                 "unfused softmax(qk^T*s)v"))
    # grouped-query decode: 8 KV heads for 32 query heads (enable_gqa,
    # torch 2.5 on; older torch has no fused form and skips the row)
    if HAS_SDPA and "enable_gqa" in (F.scaled_dot_product_attention.__doc__
                                     or ""):
        kg = rand(1, 8, 4096, 128, g=g)
        vg = rand(1, 8, 4096, 128, g=g)
        rows.append(("sdpa_decode_GQA_32/8", "1x32x1x128/8kv",
                     lambda: F.scaled_dot_product_attention(
                         qd, kg, vg, scale=scale, enable_gqa=True),
                     2.0 * 8 * 4096 * 128 * 4, "GB/s",
                     "F.scaled_dot_product_attention, enable_gqa"))
    # decode against a bf16 KV cache (q, k, v and the output bf16)
    if HAS_SDPA:
        qb, kb, vb = (t.to(torch.bfloat16) for t in (qd, kd, vd))
        rows.append(("sdpa_decode_bf16_KV=4096", "1x32x1x128",
                     lambda: F.scaled_dot_product_attention(qb, kb, vb,
                                                            scale=scale),
                     2.0 * 32 * 4096 * 128 * 2, "GB/s",
                     "F.scaled_dot_product_attention, bf16"))
    # convolutions on NCHW (cmx: NHWC), converted outside the timing
    xc = rand(1, 224, 224, 3, g=g).permute(0, 3, 1, 2).contiguous()
    wc = rand(64, 7, 7, 3, g=g).permute(0, 3, 1, 2).contiguous()
    rows.append(("conv2d_7x7/2_3->64", "1x224x224x3",
                 lambda: F.conv2d(xc, wc, stride=2, padding=3),
                 2.0 * 112 * 112 * 64 * 147, "GFLOP/s", "NCHW"))
    xw = rand(1, 56, 56, 128, g=g).permute(0, 3, 1, 2).contiguous()
    ww = rand(128, 3, 3, 1, g=g).permute(0, 3, 1, 2).contiguous()
    rows.append(("conv2d_dw_3x3_128", "1x56x56x128",
                 lambda: F.conv2d(xw, ww, padding=1, groups=128),
                 2.0 * 56 * 56 * 128 * 4, "GB/s", "NCHW, groups=128"))
    # dense 3x3: torch's faster layout on this host (NCHW is 2.8x faster
    # at 7x7x512 here, channels-last 1.2x at 56x56x64), picked per shape
    for h, c in ((56, 64), (7, 512)):
        x3 = rand(1, c, h, h, g=g)
        w3 = rand(c, c, 3, 3, g=g)
        best = None
        for note, xx in (("NCHW", x3),
                         ("channels-last",
                          x3.contiguous(memory_format=torch.channels_last))):
            def f(xx=xx, w3=w3):
                return F.conv2d(xx, w3, padding=1)
            t = peer_common.median_time(f, True)
            if best is None or t < best[0]:
                best = (t, note, f)
        rows.append((f"conv2d_3x3_{c}->{c}", f"1x{h}x{h}x{c}", best[2],
                     2.0 * h * h * c * 9 * c, "GFLOP/s", best[1]))
    xp = rand(2048, 512, 64, g=g)
    rows.append(("permute_copy", "2048x512x64",
                 lambda: xp.permute(2, 1, 0).contiguous(),
                 2 * xp.numel() * 4, "GB/s", ""))
    xh = rand(8, 2048, 32, 128, g=g)
    rows.append(("permute_heads", "8x2048x32x128",
                 lambda: xh.permute(0, 2, 1, 3).contiguous(),
                 2 * xh.numel() * 4, "GB/s", ""))
    rows.append(("astype_f32->bf16", "16M",
                 lambda: x.to(torch.bfloat16), 6 * x.numel(), "GB/s", ""))
    return rows


def main():
    args = peer_common.parse_args(__doc__)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(1)
    ops = {"add": torch.add, "exp": torch.exp, "gelu": F.gelu,
           "tanh": torch.tanh, "sum all": torch.sum,
           "logsumexp axis=-1": lambda x: torch.logsumexp(x, -1)}
    cases = ([("nn",) + c for c in nn_deck(g)] if args.suite == "nn" else
             peer_common.ops_deck(
                 lambda shape, lo, hi: rand(*shape, g=g, lo=lo, hi=hi), ops,
                 torch.mm))
    peer_common.run_cases(cases, args, args.threads)


if __name__ == "__main__":
    main()
