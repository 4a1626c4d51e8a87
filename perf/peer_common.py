"""What the Python peers of cmx-bench (perf/torch_peer.py, perf/mlx_peer.py)
share: the command line, the timing policy and the result lines that
perf/peer.c reads, one a case:
    family name shape threads median_s rate unit [note]
(name with '_' for ' '; rate = work / median_s / 1e9: GB/s counts bytes read
+ written once each, GFLOP/s useful flops). Stdlib only: each peer imports
its own library."""
import argparse
import statistics
import time


def parse_args(doc):
    """--threads N [--quick] [--suite nn [--only A,B]]: --suite nn is the
    deck of issue 4 (perf/nn.c), --only keeps the cases of those names."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--suite", choices=["nn"])
    ap.add_argument("--only")
    return ap.parse_args()


def median_time(fn, quick):
    """Median seconds of fn() after a warm-up: about 0.25 s of calls (0.03 s
    with --quick), at least 5 (3 for calls over 4 budgets, 1 over 0.5 s with
    --quick), at most 500."""
    budget = 0.03 if quick else 0.25
    t0 = time.perf_counter()
    fn()
    est = time.perf_counter() - t0
    if est < budget:  # small ops: warm up further, then measure again
        fn()
        t0 = time.perf_counter()
        fn()
        est = time.perf_counter() - t0
    lo = 1 if quick and est > 0.5 else 3 if est > 4 * budget else 5
    reps = max(lo, min(500, int(budget / max(est, 1e-6))))
    v = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        v.append(time.perf_counter() - t0)
    return statistics.median(v)


# The default deck's peer cases (perf/ops.c): family, name and how many
# 4096x4096 f32 arrays each moves (inputs + output); one input (x) but add's.
OPS_CASES = (("binary", "add", 3), ("unary", "exp", 2), ("unary", "gelu", 2),
             ("unary", "tanh", 2), ("reduce", "sum all", 1),
             ("reduce", "logsumexp axis=-1", 1))


def ops_deck(rand, ops, matmul, mm_note=""):
    """The cases (family, name, shape, fn, work, unit, note) of the default
    deck in a peer's library: ops[name](x) (add: (x, p)) on x uniform in
    [-3, 3) and p in [0.25, 4) of 4096x4096, then matmul(a, b) on n^3 for n
    256 and 1024 (perf/matmul.c). rand(shape, lo, hi) makes a ready f32
    array."""
    x = rand((4096, 4096), -3, 3)
    p = rand((4096, 4096), 0.25, 4)
    rows = [(fam, name, "4096x4096",
             (lambda f=ops[name]: f(x, p)) if fam == "binary"
             else (lambda f=ops[name]: f(x)), k * 4096 * 4096 * 4, "GB/s", "")
            for fam, name, k in OPS_CASES]
    for n in (256, 1024):
        a, b = rand((n, n), 0, 1), rand((n, n), 0, 1)
        rows.append(("matmul", "f32", f"{n}^3", lambda a=a, b=b: matmul(a, b),
                     2 * n ** 3, "GFLOP/s", mm_note))
    return rows


def plain_timer(fn, quick):
    return median_time(fn, quick), ""


def run_cases(cases, args, threads, timer=plain_timer):
    """Times and prints each case (family, name, shape, fn, work, unit, note)
    that --only keeps; threads is the count the peer really ran on.
    timer(fn, quick) returns (median seconds, a note to append or "")."""
    only = set(args.only.split(",")) if args.only else None
    for fam, name, shape, fn, work, unit, note in cases:
        key = name.replace(" ", "_")
        if only is not None and key not in only:
            continue
        t, extra = timer(fn, args.quick)
        note = f"{note}, {extra}" if note and extra else note or extra
        print(f"{fam} {key} {shape} {threads} {t:.9g} {work / t / 1e9:.4g} "
              f"{unit} {note}".rstrip(), flush=True)
