"""Training-clip loading: MMAction2's stock decord pipeline against dfbench's cached face crops.

Both sides produce the same thing for the same videos: one training clip of 16 consecutive
frames from a random start, cropped to the face (the dataset's box enlarged 1.3x, a square)
and resized to 112x112, laid out NCTHW = (1, 3, 16, 112, 112).

* baseline: MMAction2's registered transforms, built from a config-style list exactly as an
  MMAction2 training config builds them (``DecordInit``, ``SampleFrames``, ``DecordDecode``,
  a face crop, ``Resize``, ``FormatShape``, ``PackActionInputs``). It opens and decodes the
  video and crops the face for every clip.
* dfbench: ``CropCache.get`` once per video (timed separately: the one-off cache fill), then per
  clip ``np.load(path, mmap_mode="r")[indices]`` and conversion to a float32 NCTHW tensor.

Run: ``.venv/bin/python benchmarks/clip_loader.py`` (or ``make bench``); ``--help`` for options.
See docs/benchmarks.md for what is measured, the fairness notes and numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from itertools import zip_longest
from pathlib import Path

import numpy as np
from tabulate import tabulate

from dfbench.clips import clip_indices, random_clip_start
from dfbench.crops import CROP_SCALE, CropCache, square_box
from dfbench.faces import DatasetBoxes, fill_gaps
from dfbench.layout import REAL, boxes_path, method_dir

CLIP_LEN = 16
CROP_SIZE = 112
GOAL = 10.0  # the project's stated goal for the loader: at least 10x the stock pipeline


# --- the baseline: MMAction2's stock decord training pipeline -----------------------------------

def baseline_pipeline(scale: float = CROP_SCALE):
    """MMAction2's decord training pipeline with a box-driven face crop, built from a config list.

    MMAction2's own croppers (``RandomCrop``, ``MultiScaleCrop``, ``CenterCrop``) ignore faces, so
    the face crop is a small transform registered beside MMAction2's: the same square, the same
    border handling as ``dfbench.crops.crop_frames``, leaving the resize to MMAction2's ``Resize``.
    """
    from mmaction.registry import TRANSFORMS
    from mmcv.transforms import BaseTransform
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope

    if "FaceBoxCrop" not in TRANSFORMS.module_dict:

        @TRANSFORMS.register_module()
        class FaceBoxCrop(BaseTransform):
            """Crop each sampled frame to its face square (its box enlarged ``scale``, edges replicated)."""

            def __init__(self, scale: float = CROP_SCALE):
                self.scale = scale

            def transform(self, results: dict) -> dict:
                import cv2

                boxes = results["face_boxes"]
                out = []
                for img, i in zip(results["imgs"], results["frame_inds"], strict=True):
                    h, w = img.shape[:2]
                    x, y, side = square_box(boxes[int(i)], self.scale)
                    pad = max(0, -x, -y, x + side - w, y + side - h)
                    if pad:
                        img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
                        x, y = x + pad, y + pad
                    out.append(img[y : y + side, x : x + side])
                results["imgs"] = out
                results["img_shape"] = out[0].shape[:2]
                return results

    init_default_scope("mmaction")
    return Compose([
        dict(type="DecordInit"),
        dict(type="SampleFrames", clip_len=CLIP_LEN, frame_interval=1, num_clips=1),
        dict(type="DecordDecode"),
        dict(type="FaceBoxCrop", scale=scale),
        dict(type="Resize", scale=(CROP_SIZE, CROP_SIZE), keep_ratio=False),
        dict(type="FormatShape", input_format="NCTHW"),
        dict(type="PackActionInputs"),
    ])


def load_annotations(videos: list[Path]) -> list[dict]:
    """One info dict per video, as an MMAction2 dataset's ``load_data_list`` gives (boxes read once)."""
    infos = []
    for v in videos:
        boxes = json.loads(boxes_path(v).read_text())["boxes"]
        boxes = fill_gaps([tuple(b) if b else None for b in boxes], v)
        infos.append(dict(filename=str(v), label=int(v.parents[3].name != "original_sequences"),
                          start_index=0, modality="RGB", face_boxes=boxes))
    return infos


def run_baseline(pipeline, infos: list[dict], order: list[int]) -> float:
    """Seconds to produce one clip for each index in ``order``."""
    t0 = time.perf_counter()
    for i in order:
        packed = pipeline(dict(infos[i]))
        assert packed["inputs"].shape == (1, 3, CLIP_LEN, CROP_SIZE, CROP_SIZE)
    return time.perf_counter() - t0


# --- dfbench: the cached crops --------------------------------------------------------------------

def load_clip(path: Path, num_frames: int, start: int):
    """One training clip from the crop cache as a float32 (1, 3, T, S, S) tensor."""
    import torch

    crops = np.load(path, mmap_mode="r")
    clip = crops[clip_indices(num_frames, CLIP_LEN, start)]  # (T, S, S, 3) uint8, read from the page cache
    return torch.from_numpy(np.ascontiguousarray(clip.transpose(3, 0, 1, 2)[None], dtype=np.float32))


def run_dfbench(cached, order: list[int], rng: np.random.Generator) -> float:
    t0 = time.perf_counter()
    for i in order:
        c = cached[i]
        x = load_clip(c.path, c.num_frames, random_clip_start(c.num_frames, CLIP_LEN, rng))
        assert x.shape == (1, 3, CLIP_LEN, CROP_SIZE, CROP_SIZE)
    return time.perf_counter() - t0


def pixel_difference(pipeline, info: dict, cached, start: int) -> tuple[float, float]:
    """Mean and max absolute difference between the two loaders' clips of the same frames.

    The baseline's steps but ``SampleFrames`` (the frames are given) and ``PackActionInputs``.
    """
    from mmengine.dataset import Compose

    decode_to_shape = Compose(pipeline.transforms[0:1] + pipeline.transforms[2:6])
    results = dict(info, frame_inds=clip_indices(cached.num_frames, CLIP_LEN, start),
                   num_clips=1, clip_len=CLIP_LEN)
    a = decode_to_shape(results)["imgs"].astype(np.float32)
    b = load_clip(cached.path, cached.num_frames, start).numpy()
    d = np.abs(a - b)
    return float(d.mean()), float(d.max())


# --- data, machine, report ------------------------------------------------------------------------

def find_videos(root: Path, compression: str, n: int) -> list[Path]:
    """``n`` videos of ``root`` that have face boxes, real and fake interleaved, in a fixed order."""
    groups = [sorted((method_dir(root, REAL, compression) / "videos").glob("*.mp4"))]
    groups += [sorted((d / compression / "videos").glob("*.mp4"))
               for d in sorted((Path(root) / "manipulated_sequences").glob("*"))]
    groups = [[v for v in g if boxes_path(v).is_file()] for g in groups]
    mixed = [v for row in zip_longest(*groups) for v in row if v is not None]
    if len(mixed) < n:
        sys.exit(f"{root}: found {len(mixed)} {compression} videos with face boxes "
                 f"(<comp>/boxes/<name>.json), need --videos {n}")
    return mixed[:n]


def generate_data(out: Path, args) -> None:
    from dfbench.synth import generate

    w, h = args.frame_size
    # each (target, source) pair gives 2 real videos and 2 fakes per method: 10 videos
    pairs = -(-args.videos // 10)
    generate(out, seed=args.seed, compression=args.compression, pairs=(pairs, 0, 0),
             num_frames=args.num_frames, frame_size=(w, h))


def machine_info() -> dict:
    import cv2
    import decord
    import mmaction
    import mmcv
    import mmengine
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {"cpu": cpu, "cores": f"{usable} usable / {os.cpu_count()}", "load avg (1/5/15 min)": load,
            "python": platform.python_version(),
            "numpy": np.__version__, "decord": decord.__version__, "opencv": cv2.__version__,
            "torch": torch.__version__, "mmaction2": mmaction.__version__, "mmengine": mmengine.__version__,
            "mmcv": mmcv.__version__}


def video_shape(path: Path) -> tuple[int, int, int]:
    import decord

    r = decord.VideoReader(str(path), num_threads=1)
    h, w = r[0].shape[:2]
    return len(r), w, h


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: .venv/bin/python benchmarks/clip_loader.py --videos 8 --clips 200 --repeats 5",
    )
    p.add_argument("--videos", type=int, default=8, help="number of videos (default 8)")
    p.add_argument("--clips", type=int, default=200,
                   help="training clips per timed pass, cycling over the videos (default 200)")
    p.add_argument("--repeats", type=int, default=5, help="timed passes; the median is reported (default 5)")
    p.add_argument("--data", type=Path, default=None,
                   help="FF++-layout root with <comp>/boxes/<name>.json face boxes "
                        "(default: generate a synthetic set in a temporary folder)")
    p.add_argument("--compression", default="c40", choices=("raw", "c23", "c40"))
    p.add_argument("--num-frames", type=int, default=64, help="frames per generated video (default 64)")
    p.add_argument("--frame-size", type=int, nargs=2, default=(320, 240), metavar=("W", "H"),
                   help="frame size of generated videos (default 320 240)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for name in ("videos", "clips", "repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dfbench-bench-") as tmp:
        tmp = Path(tmp)
        root = args.data
        if root is None:
            root = tmp / "data"
            print(f"generating a synthetic set ({args.frame_size[0]}x{args.frame_size[1]}, "
                  f"{args.num_frames} frames a video)", flush=True)
            t0 = time.perf_counter()
            generate_data(root, args)
            print(f"generated a synthetic set in {time.perf_counter() - t0:.1f} s", flush=True)
        videos = find_videos(root, args.compression, args.videos)
        report(root, videos, tmp / "cache", args)


def report(root: Path, videos: list[Path], cache_root: Path, args) -> None:
    info = machine_info()  # first: the load average before this benchmark adds its own
    rng = np.random.default_rng(args.seed)
    np.random.seed(args.seed)  # SampleFrames draws its random start from numpy's global generator
    order = [i % len(videos) for i in range(args.clips)]  # the same videos, the same number of clips

    # dfbench: the one-off cache fill, from an empty cache
    cache = CropCache(cache_root, root, "dataset", DatasetBoxes(), size=CROP_SIZE)
    print(f"filling the crop cache for {len(videos)} videos", flush=True)
    t0 = time.perf_counter()
    cached = [cache.get(v) for v in videos]
    fill_s = time.perf_counter() - t0

    pipeline = baseline_pipeline()
    infos = load_annotations(videos)
    diff = pixel_difference(pipeline, infos[0], cached[0],
                            random_clip_start(cached[0].num_frames, CLIP_LEN, rng))
    print(f"timing {args.repeats} passes of {args.clips} clips on each loader", flush=True)

    warm = list(range(len(videos))) * 2  # opens every file once (page cache, lazy imports, allocators)
    run_baseline(pipeline, infos, warm)
    run_dfbench(cached, warm, rng)
    base_t, df_t = [], []
    for _ in range(args.repeats):  # interleaved, so drift on the machine hits both sides alike
        base_t.append(run_baseline(pipeline, infos, order))
        df_t.append(run_dfbench(cached, order, rng))
    base_cps = args.clips / statistics.median(base_t)
    df_cps = args.clips / statistics.median(df_t)
    ratio = df_cps / base_cps

    frames, w, h = video_shape(videos[0])
    print()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    print(f"data: {len(videos)} videos ({'--data ' + str(args.data) if args.data else 'synthetic'}, "
          f"{args.compression}, {w}x{h}, {frames} frames in the first); {args.clips} clips of "
          f"{CLIP_LEN}x{CROP_SIZE}x{CROP_SIZE} per pass, median of {args.repeats} passes")
    print(f"same frames through both loaders: |pixel difference| mean {diff[0]:.3f}, "
          f"max {diff[1]:.0f} (of 255)")
    print()
    rows = [("MMAction2 decord pipeline (baseline)", f"{base_cps:,.1f}", f"{1e3 / base_cps:.2f}", "1.0x"),
            ("dfbench cached crops", f"{df_cps:,.1f}", f"{1e3 / df_cps:.2f}", f"{ratio:.1f}x")]
    print(tabulate(rows, headers=("loader", "clips/s", "ms/clip", "vs baseline"), tablefmt="github",
                   disable_numparse=True, colalign=("left", "right", "right", "right")))
    print()
    saved = 1 / base_cps - 1 / df_cps
    print(f"one-off cache fill: {fill_s:.2f} s for {len(videos)} videos "
          f"({fill_s / len(videos) * 1e3:.0f} ms/video)"
          + (f"; repaid after {fill_s / saved:,.0f} clips" if saved > 0 else ""))
    print(f"headline: dfbench loads training clips {ratio:.1f}x as fast as MMAction2's decord pipeline; "
          f"goal >= {GOAL:.0f}x: {'met' if ratio >= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
