"""Paper-size inference against this machine's matrix-multiply peak, and channels-last 3D on or off.

* baseline: the machine's measured matmul throughput: square fp32 and bf16 ``torch.mm`` of a few
  sizes, the median of timed repeats per size, the best size taken as the peak (FLOP = 2 n^3).
* each detector (default ``resnet3d`` and ``resnext3d_nl`` at paper size, 16x112x112 clips):
  FLOPs per clip and clips/s through ``dfbench.profile`` (its FLOP count and timing loop), in two
  weight layouts: every 5-D weight contiguous (NCDHW) and ``channels_last_3d`` (what the
  plugin's ``ChannelsLast3dHook`` does), timed alternately so load drift hits both.
  Achieved FLOP/s = FLOPs/clip x clips/s; the headline is achieved / peak, and channels-last's
  speed-up over contiguous.

Run: ``.venv/bin/python benchmarks/inference_peak.py`` (about 2-3 minutes on 2 cores); ``--help``
for options. See docs/benchmarks.md for what is measured and the numbers.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time

from tabulate import tabulate

from dfbench import profile as P
from dfbench.errors import DfbenchError

LAYOUTS = ("contiguous", "channels_last_3d")


def matmul_peak(sizes: list[int], dtype_name: str, repeats: int,
                max_seconds: float) -> tuple[float, int, list[tuple[int, float]]]:
    """(best FLOP/s, its size, [(size, FLOP/s)]) of square matmuls in ``dtype_name``.

    Sizes go up in order and stop once one matmul takes over ``max_seconds``: on a CPU without
    native bf16 (AVX2 only) a bf16 matmul runs at well under 1 GFLOP/s, minutes at n=3072.
    """
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    per_size = []
    for n in sorted(sizes):
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        t0 = time.perf_counter()
        torch.mm(a, b)  # warm-up: threads, packing buffers
        if per_size and time.perf_counter() - t0 > max_seconds:
            break
        seconds = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            torch.mm(a, b)
            seconds.append(time.perf_counter() - t0)
        per_size.append((n, 2 * n**3 / statistics.median(seconds)))
    n, best = max(per_size, key=lambda x: x[1])
    return best, n, per_size


def with_layout(network, layout: str):
    """A copy of ``network`` whose 5-D weights (Conv3d) are stored in ``layout``."""
    import torch

    fmt = torch.channels_last_3d if layout == "channels_last_3d" else torch.contiguous_format
    net = copy.deepcopy(network)
    for p in net.parameters():
        if p.dim() == 5:
            p.data = p.data.contiguous(memory_format=fmt)
    return net


def measure(name: str, args) -> dict:
    """FLOPs/clip and, per layout, the timed passes of one detector's inference network."""
    (spec, detector), = P.select([name], args.size)[0]
    shape = list(detector.input_shape)
    network = detector.inference_network().eval()
    flops = P.count_flops(network, shape)
    nets = {layout: with_layout(network, layout) for layout in LAYOUTS}
    del network
    for layout in LAYOUTS:  # warm-up of each, untimed
        P.time_inference(nets[layout], shape, batch=args.batch, precision=args.precision, warmup=0,
                         repeats=args.warmup)
    seconds = {layout: [] for layout in LAYOUTS}
    for _ in range(args.repeats):  # alternate the layouts, one timed pass each
        for layout in LAYOUTS:
            seconds[layout] += P.time_inference(nets[layout], shape, batch=args.batch, precision=args.precision,
                                                warmup=0, repeats=1)
    return {"name": name, "size": args.size, "shape": shape, "flops": flops,
            "per_s": {k: args.batch / statistics.median(v) for k, v in seconds.items()},
            "best_per_s": {k: args.batch / min(v) for k, v in seconds.items()}, "seconds": seconds}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="example: .venv/bin/python benchmarks/inference_peak.py --detector resnet3d "
                                       "--batch 2 --repeats 3")
    p.add_argument("--detector", action="append", default=None,
                   help="detector to measure (repeatable; default resnet3d and resnext3d_nl)")
    p.add_argument("--size", default="paper", choices=("paper", "cpu"))
    p.add_argument("--batch", type=int, default=1, help="clips per forward pass (default 1)")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"),
                   help="detector precision (bf16 under autocast); compared with that dtype's matmul peak")
    p.add_argument("--repeats", type=int, default=3, help="timed passes per layout; the median is used (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed passes per layout first (default 1)")
    p.add_argument("--matmul-sizes", type=int, nargs="+", default=[256, 512, 1024, 2048, 3072],
                   help="square matmul sizes for the peak (default 256 512 1024 2048 3072)")
    p.add_argument("--matmul-repeats", type=int, default=5, help="timed matmuls per size (default 5)")
    p.add_argument("--matmul-max-seconds", type=float, default=2.0,
                   help="stop at the first size whose single matmul takes longer (default 2)")
    args = p.parse_args(argv)
    if min(args.batch, args.repeats, args.matmul_repeats) < 1 or args.warmup < 0:
        p.error("--batch, --repeats and --matmul-repeats must be at least 1, --warmup at least 0")
    args.detector = args.detector or ["resnet3d", "resnext3d_nl"]
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    machine = P.machine("cpu")
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"machine: {machine.device_name}, {machine.threads} torch threads, torch {machine.torch}, "
          f"load average {load} (1/5/15 min; other jobs slow both sides alike)", flush=True)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > cores:
        print(f"warning: the load average exceeds the {cores} usable cores: other jobs compete for them, so "
              "absolute timings vary run to run; the layouts alternate, so their ratio varies less", flush=True)
    peaks = {}
    for dtype in ("fp32", "bf16"):
        best, n, per_size = matmul_peak(args.matmul_sizes, dtype, args.matmul_repeats, args.matmul_max_seconds)
        peaks[dtype] = best
        shown = ", ".join(f"{s}: {f / 1e9:.1f}" for s, f in per_size)
        print(f"matmul peak {dtype}: {best / 1e9:.1f} GFLOP/s (n={n}; GFLOP/s by size {shown})", flush=True)
    peak = peaks[args.precision]

    rows, speedups = [], []
    for name in args.detector:
        print(f"measuring {name} ({args.size}, batch {args.batch}, {args.precision}, "
              f"{args.warmup} warm-up + {args.repeats} timed passes per layout)", flush=True)
        try:
            m = measure(name, args)
        except DfbenchError as e:
            sys.exit(f"error: {e}")
        for layout in LAYOUTS:
            per_s = m["per_s"][layout]
            achieved = m["flops"] * per_s
            rows.append((name, "x".join(map(str, m["shape"])), layout, f"{m['flops'] / 1e9:.2f}", f"{per_s:.3f}",
                         f"{m['best_per_s'][layout]:.3f}", f"{1 / per_s:.3f}", f"{achieved / 1e9:.1f}",
                         f"{achieved / peak:.1%}"))
        speedups.append((name, m["per_s"]["channels_last_3d"] / m["per_s"]["contiguous"]))
        del m  # a paper-size network's two copies are freed before the next detector's

    print()
    print(tabulate(rows, headers=("detector", "input", "weights", "GFLOPs/clip", "clips/s", "best clips/s",
                                  "s/clip", "achieved GFLOP/s", f"of {args.precision} peak"),
                   tablefmt="github", disable_numparse=True,
                   colalign=("left", "left", "left", "right", "right", "right", "right", "right", "right")))
    print("clips/s, s/clip and achieved FLOP/s from the median pass; best clips/s from the fastest one "
          "(less sensitive to other jobs on the machine)")
    print()
    print(f"baseline: {args.precision} matmul peak {peak / 1e9:.1f} GFLOP/s on this machine")
    for name, ratio in speedups:
        print(f"headline: {name}: channels_last_3d weights run {ratio:.2f}x as fast as contiguous "
              f"({'helps' if ratio > 1.05 else 'no gain' if ratio >= 0.95 else 'hurts'} on this machine)")


if __name__ == "__main__":
    main()
