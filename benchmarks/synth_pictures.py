"""Pictures of the synthetic set for the docs: one real frame, each method's fake, the differences.

Renders one pair through the generator's own functions (dfbench.synth.pairs: same seed, ids,
recipe, decoys and processing), then shows, for the target's real video and its four fakes: the
frame as manipulated, before the retouch, processing and compression; its absolute difference from
the real frame (amplified); and the same frame as a detector reads it (after the video's retouch,
processing and H.264 at QP 40), cropped around the face.

    .venv/bin/python benchmarks/synth_pictures.py --version 3 --out docs/images/synthetic-v3.jpg
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np

from dfbench.synth.dataset import FRAME_SIZE, STRENGTHS
from dfbench.synth.encode import write_h264
from dfbench.synth.pairs import film, pair_videos, processed

TILE = 176


def _crop(img: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """The face region (the landmarks' box, enlarged 1.3x and square, as the detectors crop), resized."""
    (x0, y0), (x1, y1) = lm.min(0), lm.max(0)
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * 0.65
    m = np.float32([[TILE / (2 * half), 0, TILE / 2 - cx * TILE / (2 * half)],
                    [0, TILE / (2 * half), TILE / 2 - cy * TILE / (2 * half)]])
    return cv2.warpAffine(np.clip(img, 0, 255).astype(np.float32), m, (TILE, TILE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _label(img: np.ndarray, text: str) -> np.ndarray:
    out = np.clip(img, 0, 255).astype(np.uint8).copy()
    cv2.rectangle(out, (0, 0), (TILE, 16), (0, 0, 0), -1)
    cv2.putText(out, text, (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def pictures(seed: int, target: str, source: str, frame: int, version: int = 3, num_frames: int = 32,
             gain: float = 6.0) -> np.ndarray:
    """The picture (RGB uint8): rows raw frame, difference x ``gain``, compressed frame; columns real and methods."""
    size, strength = FRAME_SIZE[version], STRENGTHS[version]
    T, S = (film(seed, v, num_frames, size, version) for v in (target, source))
    lm = T.raw.landmarks[frame]
    raw_row, diff_row, c40_row = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for method, name, frames, idx in pair_videos(seed, target, source, T, S, strength, version):
            label = "real" if idx == 0 else method
            raw = np.asarray(frames[frame], np.float32)
            raw_row.append(_label(_crop(raw, lm), label))
            diff = np.abs(raw - T.raw.frames[frame]).mean(-1, keepdims=True) * gain
            diff_row.append(_label(_crop(np.repeat(diff, 3, -1), lm), f"|{label} - real| x{gain:g}"))
            path = Path(tmp) / f"{idx}.mp4"
            write_h264(path, processed(seed, name, idx, frames, T, version), 40)
            import decord

            c40_row.append(_label(_crop(decord.VideoReader(str(path))[frame].asnumpy(), lm), f"{label}, c40"))
    return np.vstack([np.hstack(r) for r in (raw_row, diff_row, c40_row)])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", type=int, choices=(2, 3), default=3)
    ap.add_argument("--out", type=Path, default=None, help="default: docs/images/synthetic-v<version>.jpg")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target", default="000")
    ap.add_argument("--source", default="001")
    ap.add_argument("--frame", type=int, default=16)
    args = ap.parse_args(argv)
    img = pictures(args.seed, args.target, args.source, args.frame, args.version)
    args.out = args.out or Path(f"docs/images/synthetic-v{args.version}.jpg")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), img[..., ::-1])
    print(f"wrote {args.out} ({img.shape[1]}x{img.shape[0]})")


if __name__ == "__main__":
    main()
