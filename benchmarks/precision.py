"""Training time of one epoch at --precision fp32 (the baseline) against bf16, same data, same machine.

Both sides run ``MMActionDetector.fit`` (MMEngine's Runner, validation and checkpointing included)
on the same random face-crop videos for one epoch; the two precisions alternate, ``--repeats``
times each, and the median ``train_seconds`` of each is compared. On a CPU without bf16
instructions (AVX512-BF16/AMX) bf16 convolutions are emulated and *slower*; the ratio is what this
machine gives, not a promise.

Run: ``.venv/bin/python benchmarks/precision.py [--detector resnet3d] [--videos 16] [--repeats 2]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
from pathlib import Path

import numpy as np


def videos(root: Path, n: int, frames: int = 32, size: int = 64):
    """``n`` videos of noise crops, alternately real and fake (timing needs no learnable signal)."""
    from dfbench.detector import VideoRef

    rng = np.random.default_rng(0)
    for i in range(n):
        np.save(root / f"{i}.npy", rng.integers(0, 256, (frames, size, size, 3), dtype=np.uint8))
    methods = ("original", "Deepfakes")
    return [VideoRef(f"{methods[i % 2]}/{i:03d}", i % 2, methods[i % 2], root / f"{i}.npy", frames) for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default="resnet3d")
    ap.add_argument("--videos", type=int, default=16, help="training videos (plus 4 for validation)")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    import torch

    from dfbench.detector import FitConfig
    from dfbench_mmaction.plugin import DETECTORS, build

    meta = next(m for m in DETECTORS if m.name == args.detector)
    spec = meta.sizes["cpu"]
    with tempfile.TemporaryDirectory() as tmp:
        refs = videos(Path(tmp), args.videos + 4, size=spec.crop_size)
        seconds: dict[str, list[float]] = {"fp32": [], "bf16": []}
        for r in range(args.repeats):
            for precision in seconds:
                config = FitConfig(work_dir=Path(tmp) / f"{precision}-{r}", seed=0, size="cpu",
                                   clip_len=spec.clip_len, crop_size=spec.crop_size, class_weights=None,
                                   trunk_len=32, epochs=1, precision=precision, log_level="ERROR")
                report = build(meta, "cpu").fit(refs[: args.videos], refs[args.videos:], config)
                seconds[precision].append(report.train_seconds)
                print(f"{precision} run {r + 1}: {report.train_seconds:.2f} s ({report.details['optim_wrapper']})",
                      flush=True)
    fp32, bf16 = (statistics.median(seconds[p]) for p in ("fp32", "bf16"))
    print(f"\n{args.detector} cpu size, {args.videos} training videos, 1 epoch, torch {torch.__version__}, "
          f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads")
    print(f"fp32 {fp32:.2f} s, bf16 {bf16:.2f} s: bf16/fp32 = {bf16 / fp32:.2f}x the time")


if __name__ == "__main__":
    main()
