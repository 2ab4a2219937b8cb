"""Preprocessing throughput: faces found on keyframes and tracked, against face finding on every frame.

Both sides run dfbench's whole per-video preprocessing (``dfbench.crops.fill``: decode, find the
face, follow it, smooth it, crop 112x112 and write the cache) on the same videos with the same
face finder, from an empty cache each time; the only difference is how often the finder runs:

* baseline: on every frame (``TrackParams(keyframe_every=1)``), the usual per-frame approach;
* dfbench: on every 10th frame and the last (the default ``TrackParams()``), followed in between.

Printed: videos/s and frames/s of each, the ratio (goal: at least 4x), and how faithful each is on
the synthetic set, whose true face boxes are known: mean IoU with the truth and the jitter of the
crop (RMS frame-to-frame acceleration of the box centre), beside the raw per-frame detections.

Face finders: OpenCV's Haar cascade and, when installed (``dfbench[dlib]``), dlib's HOG detector +
68 landmarks, timed on the same videos (ones where every timed finder sees a face on the first
frame), so their videos/s compare directly; with ``--face-alignment``, also face-alignment (S3FD +
2D-FAN) with randomly initialised networks (the cost of a forward pass does not depend on the
weights; the random detector's noise boxes are replaced by one central box after S3FD has run, so
the landmark network runs once a frame, as with one real face).

A second table times one ``detect(frame)`` call of each offline finder on the same frames: a frame
of the timed videos, scikit-image's astronaut photograph (512x512) and the same photograph enlarged
into a 1920x1080 frame, with dlib's time as a multiple of OpenCV's.

Run: ``.venv/bin/python benchmarks/preprocess.py`` (``--help`` for options). See docs/benchmarks.md.
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

from dfbench.crops import CropCache, fill
from dfbench.errors import BadVideoError
from dfbench.faces import FAN_WEIGHTS, OpenCVHaar, dlib_available
from dfbench.layout import REAL, boxes_path, method_dir
from dfbench.tracking import TrackParams, iou_matrix

GOAL = 4.0  # the project's goal: keyframes + tracking at least 4x as fast as per-frame face finding
CROP_SIZE = 112
PER_FRAME = TrackParams(keyframe_every=1)  # baseline: the finder on every frame, the same smoothing
RAW = TrackParams(keyframe_every=1, smooth=1)  # the finder's own boxes, for the faithfulness columns
TRACKED = TrackParams()  # dfbench's default: every 10th frame and the last


def generate_data(out: Path, args) -> None:
    from dfbench.synth import generate

    w, h = args.frame_size
    pairs = -(-args.videos // 10)  # each pair gives 2 real videos and 2 fakes per method: 10 videos
    generate(out, seed=args.seed, compression="c40", pairs=(pairs, 0, 0), num_frames=args.num_frames,
             frame_size=(w, h))


def all_videos(root: Path) -> list[Path]:
    """Real and fake videos interleaved, in a fixed order."""
    groups = [sorted((method_dir(root, REAL, "c40") / "videos").glob("*.mp4"))]
    groups += [sorted((d / "c40" / "videos").glob("*.mp4")) for d in sorted((root / "manipulated_sequences").glob("*"))]
    return [v for row in zip_longest(*groups) for v in row if v is not None]


def with_a_face(finders, videos: list[Path], n: int) -> list[Path]:
    """The first ``n`` videos in which every one of ``finders`` sees a face on the first frame (untimed)."""
    import decord

    out = []
    for v in videos:
        first = decord.VideoReader(str(v), num_threads=1)[0].asnumpy()
        if all(f.detect(first) for f in finders):
            out.append(v)
        if len(out) == n:
            break
    return out


def detect_times(finders: dict, frames: dict, repeats: int = 5) -> list[tuple]:
    """Median milliseconds of one ``detect`` call of each finder on each frame; rows with dlib / opencv."""
    rows = []
    for label, frame in frames.items():
        ms = {}
        for name, finder in finders.items():
            finder.detect(frame)  # warm: first-call allocations
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                finder.detect(frame)
                times.append(time.perf_counter() - t0)
            ms[name] = 1000 * statistics.median(times)
        h, w = frame.shape[:2]
        row = [label, f"{w}x{h}", *(f"{ms[n]:.1f}" for n in finders)]
        if "dlib" in ms:
            row.append(f"{ms['dlib'] / ms['opencv']:.1f}x")
        rows.append(tuple(row))
    return rows


def photo_frames() -> dict:
    """The astronaut photograph as it is, and enlarged 2x into the middle of a 1920x1080 frame."""
    import cv2
    from skimage.data import astronaut

    image = astronaut()
    big = cv2.resize(image, (1024, 1024), interpolation=cv2.INTER_LINEAR)[:1080]
    frame = np.full((1080, 1920, 3), 127, np.uint8)
    frame[: big.shape[0], 448 : 448 + 1024] = big
    return {"astronaut()": image, "astronaut() enlarged 2x, 1080p": frame}


class CountingFinder:
    """Passes ``detect`` through and counts the frames it was asked to look at."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def detect(self, frame):
        self.calls += 1
        return self.inner.detect(frame)


def one_pass(root: Path, cache_root: Path, finder, params: TrackParams, videos: list[Path]) -> dict:
    """Preprocess ``videos`` from an empty cache; seconds, frames, detector calls and the boxes made."""
    counting = CountingFinder(finder)
    cache = CropCache(cache_root, root, "bench", counting, size=CROP_SIZE, params=params)
    boxes, frames, failed = {}, 0, 0
    t0 = time.perf_counter()
    for v in videos:
        try:
            frames += fill(v, [cache])[0].num_frames
        except BadVideoError:
            failed += 1
    seconds = time.perf_counter() - t0
    for v in videos:
        track = json.loads(cache.track_path(v).read_text())
        if "boxes" in track:
            boxes[v] = np.asarray(track["boxes"])
    return {"seconds": seconds, "frames": frames, "calls": counting.calls, "boxes": boxes, "failed": failed}


def faithfulness(boxes: dict) -> tuple[float, float]:
    """Mean IoU with the synthetic set's true boxes, and RMS acceleration of the box centre (px/frame²)."""
    ious, acc = [], []
    for v, b in boxes.items():
        truth = np.asarray(json.loads(boxes_path(v).read_text())["boxes"])
        ious += [iou_matrix(b[i : i + 1], truth[i : i + 1])[0, 0] for i in range(len(b))]
        centre = (b[:, :2] + b[:, 2:]) / 2
        acc += list((np.diff(centre, 2, axis=0) ** 2).sum(axis=1))
    return float(np.mean(ious)), float(np.sqrt(np.mean(acc)))


def compare(name: str, finder, root: Path, videos: list[Path], tmp: Path, repeats: int) -> list[tuple]:
    """Timed passes, baseline and dfbench alternating; rows for the table."""
    one_pass(root, tmp / f"{name}-warm", finder, TRACKED, videos[:1])  # lazy imports, page cache, numba
    base_t, df_t = [], []
    for r in range(repeats):
        base = one_pass(root, tmp / f"{name}-base{r}", finder, PER_FRAME, videos)
        df = one_pass(root, tmp / f"{name}-df{r}", finder, TRACKED, videos)
        base_t.append(base["seconds"])
        df_t.append(df["seconds"])
    raw = one_pass(root, tmp / f"{name}-raw", finder, RAW, videos)
    frames = df["frames"]
    b_s, d_s = statistics.median(base_t), statistics.median(df_t)
    ratio = b_s / d_s
    rows = []
    for label, res, secs in ((f"{name}: every frame (baseline)", base, b_s),
                             (f"{name}: keyframes + tracking", df, d_s)):
        iou, jit = faithfulness(res["boxes"])
        rows.append((label, f"{len(videos) / secs:.3g}", f"{frames / secs:.3g}", f"{res['calls']}",
                     f"{b_s / secs:.1f}x", f"{iou:.3f}", f"{jit:.2f}", f"{res['failed']}"))
    iou, jit = faithfulness(raw["boxes"])
    rows.append((f"{name}: every frame, unsmoothed (reference)", "", "", f"{raw['calls']}", "", f"{iou:.3f}",
                 f"{jit:.2f}", f"{raw['failed']}"))
    print(f"{name}: keyframes + tracking is {ratio:.1f}x as fast as finding the face on every frame; "
          f"goal >= {GOAL:.0f}x: {'met' if ratio >= GOAL else 'NOT met'}", flush=True)
    return rows


def random_face_alignment(tmp: Path):
    """face-alignment built by its real loading code from randomly initialised weights in a temporary hub cache."""
    import torch
    from face_alignment.detection.sfd.net_s3fd import s3fd
    from face_alignment.models import FAN

    from dfbench.faces import FaceAlignmentLandmarks

    hub = tmp / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(s3fd().state_dict(), hub / FAN_WEIGHTS[0])
    torch.save(FAN(4).state_dict(), hub / FAN_WEIGHTS[1])
    os.environ["TORCH_HOME"] = str(tmp / "torch")
    finder = FaceAlignmentLandmarks()
    s3fd_detect = finder.fa.face_detector.detect_from_image

    def one_central_face(image):
        s3fd_detect(image)  # the detector's full cost; its boxes are noise with random weights
        h, w = image.shape[:2]
        return [np.array([w / 3, h / 4, 2 * w / 3, 3 * h / 4, 0.99])]

    finder.fa.face_detector.detect_from_image = one_central_face
    return finder


def machine_info() -> dict:
    import cv2
    import decord

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {"cpu": cpu, "cores": f"{usable} usable / {os.cpu_count()}", "load avg (1/5/15 min)": load,
            "python": platform.python_version(), "numpy": np.__version__, "decord": decord.__version__,
            "opencv": cv2.__version__}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="example: .venv/bin/python benchmarks/preprocess.py --videos 8 --repeats 3")
    p.add_argument("--videos", type=int, default=8, help="videos timed, ones where the finder sees a face (default 8)")
    p.add_argument("--num-frames", type=int, default=64, help="frames per generated video (default 64)")
    p.add_argument("--frame-size", type=int, nargs=2, default=(480, 360), metavar=("W", "H"),
                   help="frame size of generated videos (default 480 360)")
    p.add_argument("--repeats", type=int, default=3, help="timed passes per side; the median is reported (default 3)")
    p.add_argument("--data", type=Path, default=None,
                   help="FF++-layout root with <comp>/boxes/<name>.json true boxes (default: generate a synthetic set)")
    p.add_argument("--face-alignment", action="store_true",
                   help="also time face-alignment with random weights (slow on a CPU: seconds a frame)")
    p.add_argument("--fa-videos", type=int, default=1, help="videos for face-alignment (default 1)")
    p.add_argument("--no-dlib", action="store_true", help="leave dlib out even where it is installed")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for name in ("videos", "num_frames", "repeats", "fa_videos"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    info = machine_info()
    with tempfile.TemporaryDirectory(prefix="dfbench-bench-pre-") as tmp:
        tmp = Path(tmp)
        root = args.data
        if root is None:
            root = tmp / "data"
            print(f"generating a synthetic set ({args.frame_size[0]}x{args.frame_size[1]}, {args.num_frames} "
                  "frames a video)", flush=True)
            # Haar misses some drawn faces altogether: generate spare videos to pick from
            generate_data(root, argparse.Namespace(**{**vars(args), "videos": max(5 * args.videos, 40)}))
        candidates = all_videos(root)
        finders = {"opencv": OpenCVHaar()}
        if dlib_available() and not args.no_dlib:
            from dfbench.faces import DlibLandmarks

            finders["dlib"] = DlibLandmarks()
        videos = with_a_face(finders.values(), candidates, args.videos)
        if not videos:
            sys.exit(f"{root}: no video in which {' and '.join(finders)} see a face on the first frame")
        print(f"timing {len(videos)} videos (of {len(candidates)}) in which {' and '.join(finders)} see a face "
              "on the first frame", flush=True)
        rows, per_video = [], {}
        for name, finder in finders.items():
            rows += compare(name, finder, root, videos, tmp, args.repeats)
            per_video[name] = float(rows[-2][1])  # videos/s, keyframes + tracking
        if "dlib" in per_video:
            print(f"dlib, keyframes + tracking: {per_video['opencv'] / per_video['dlib']:.1f}x the time of "
                  "OpenCV's Haar cascade per video", flush=True)
        import decord

        frames = {"a timed video's first frame": decord.VideoReader(str(videos[0]), num_threads=1)[0].asnumpy(),
                  **photo_frames()}
        speed = detect_times(finders, frames)
        if args.face_alignment:
            print("face-alignment with random weights (S3FD + 2D-FAN on the CPU)", flush=True)
            rows += compare("face-alignment", random_face_alignment(tmp), root, candidates[: args.fa_videos], tmp, 1)
        print()
        print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
        print(f"data: {'--data ' + str(args.data) if args.data else 'synthetic'}, {args.frame_size[0]}x"
              f"{args.frame_size[1]}, {args.num_frames} frames a video; crops {CROP_SIZE}x{CROP_SIZE}; "
              f"median of {args.repeats} passes (face-alignment: 1)")
        print()
        print(tabulate(rows, headers=("face finding", "videos/s", "frames/s", "finder calls", "vs baseline",
                                      "IoU with truth", "jitter px/f²", "refused"),
                       tablefmt="github", disable_numparse=True))
        print()
        print("one detect(frame) call, median of 5, ms")
        print()
        headers = ["frame", "size", *(f"{n} ms" for n in finders)] + (["dlib / opencv"] if "dlib" in finders else [])
        print(tabulate(speed, headers=headers, tablefmt="github", disable_numparse=True))


if __name__ == "__main__":
    main()
