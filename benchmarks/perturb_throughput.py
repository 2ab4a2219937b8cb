"""Perturbation throughput: frames/s of ``dfbench.perturb.perturb_video`` for one level of each type,
against plain decoding of the same video in the same run.

The video is generated in a temporary folder: textured RGB frames (smooth blobs plus fine noise,
drifting), written as H.264 at QP 23. Each perturbation is timed end to end as the robustness
protocol runs it: decode (decord, one thread), perturb, encode (libx264, one thread; QP 0 for
frame-kind types, the type's own CRF or QP for ``crf`` and ``qp``), atomic write. The baseline is
decoding alone (decord, one thread, in the same chunks), so "vs decoding" is the cost multiple a
perturbation adds to reading the video once. Median of ``--repeats`` passes.

Run: ``.venv/bin/python benchmarks/perturb_throughput.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from tabulate import tabulate

from dfbench import perturb as P
from dfbench.synth.encode import write_h264

LEVEL = 2  # the middle of the five standard levels (index 2)


def textured(n: int, w: int, h: int, seed: int) -> np.ndarray:
    import cv2

    g = np.random.default_rng(seed)
    coarse = cv2.resize(g.integers(0, 256, (max(1, h // 16), max(1, w // 16), 3), dtype=np.uint8), (w, h),
                        interpolation=cv2.INTER_CUBIC)
    frames = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        frames[i] = np.clip(np.roll(coarse, 2 * i, axis=1).astype(np.int16) + g.integers(-30, 31, (h, w, 3)), 0, 255)
    return frames


def decode_only(path: Path) -> int:
    import decord

    vr = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)
    n = len(vr)
    for start in range(0, n, P.CHUNK):
        vr.get_batch(list(range(start, min(start + P.CHUNK, n)))).asnumpy()
    return n


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write WxH, e.g. 320x240") from None
    if w < 16 or h < 16 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError(f"{text!r}: both sides even and at least 16")
    return w, h


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="example: .venv/bin/python benchmarks/perturb_throughput.py --frames 64 "
                                       "--size 320x240")
    p.add_argument("--frames", type=int, default=64, help="frames in the generated video (default 64)")
    p.add_argument("--size", type=parse_size, default=(320, 240), metavar="WxH",
                   help="frame size of the generated video (default 320x240)")
    p.add_argument("--repeats", type=int, default=3, help="timed passes of each; the median is reported (default 3)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for name in ("frames", "repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    (w, h), n = args.size, args.frames
    with tempfile.TemporaryDirectory(prefix="dfbench-bench-perturb-") as tmp:
        tmp = Path(tmp)
        src = tmp / "src.mp4"
        write_h264(src, textured(n, w, h, args.seed), qp=23)
        base = n / timed(lambda: decode_only(src), args.repeats)
        rows = [["decoding only (baseline)", "", "", f"{base:.0f}", "1.00"]]
        for t in P.TYPES.values():
            p = P.Perturbation(t.name, t.levels[LEVEL])
            dst = tmp / f"{p.key}.mp4"
            fps = n / timed(lambda: P.perturb_video(src, dst, p, seed=args.seed, key="bench"), args.repeats)  # noqa: B023
            rows.append([t.name, t.code, p.key, f"{fps:.0f}", f"{fps / base:.2f}"])
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load avg {load}, "
          f"python {platform.python_version()}")
    print(f"video: {n} frames, {w}x{h}, textured, H.264 QP 23; perturb_video = decode + perturb + encode + write "
          f"(one thread each); median of {args.repeats} passes")
    print()
    print(tabulate(rows, headers=("type", "code", "setting", "frames/s", "vs decoding"), tablefmt="github",
                   disable_numparse=True))


if __name__ == "__main__":
    main()
