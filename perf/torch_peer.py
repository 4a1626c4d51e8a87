"""PyTorch peer for cmx-bench: times a few of the deck's ops with torch on
the given thread count and prints one line per op:
    family name shape threads median_s rate unit
(unit GB/s counts bytes read + written once each; GFLOP/s for matmul).
Usage: /usr/bin/python3 perf/torch_peer.py --threads N [--quick]"""
import argparse
import statistics
import time

import torch


def median_time(fn, budget):
    fn()
    fn()
    t0 = time.perf_counter()
    fn()
    est = time.perf_counter() - t0
    reps = max(5, min(500, int(budget / max(est, 1e-6))))
    v = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        v.append(time.perf_counter() - t0)
    return statistics.median(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    budget = 0.03 if args.quick else 0.25
    g = torch.Generator().manual_seed(1)
    x = torch.rand(4096, 4096, generator=g) * 6 - 3
    p = torch.rand(4096, 4096, generator=g) * 3.75 + 0.25
    nb = x.numel() * 4
    shape = "4096x4096"
    rows = [
        ("binary", "add", lambda: torch.add(x, p), 3 * nb),
        ("unary", "exp", lambda: torch.exp(x), 2 * nb),
        ("unary", "gelu", lambda: torch.nn.functional.gelu(x), 2 * nb),
        ("unary", "tanh", lambda: torch.tanh(x), 2 * nb),
        ("reduce", "sum all", lambda: torch.sum(x), nb),
        ("reduce", "logsumexp axis=-1", lambda: torch.logsumexp(x, -1), nb),
    ]
    for fam, name, fn, nbytes in rows:
        t = median_time(fn, budget)
        print(f"{fam} {name.replace(' ', '_')} {shape} {args.threads} "
              f"{t:.9g} {nbytes / t / 1e9:.4g} GB/s", flush=True)
    for n in (256, 1024):
        a = torch.rand(n, n, generator=g)
        b = torch.rand(n, n, generator=g)
        t = median_time(lambda: torch.mm(a, b), budget)
        print(f"matmul f32 {n}^3 {args.threads} {t:.9g} "
              f"{2 * n ** 3 / t / 1e9:.4g} GFLOP/s", flush=True)


if __name__ == "__main__":
    main()
