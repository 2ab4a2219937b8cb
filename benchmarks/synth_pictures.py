"""Pictures of the version-2 synthetic set for the docs: one real frame, each method's fake, the differences.

Renders one pair exactly as the generator does (same seed, same ids, same code), then shows, for
the target's real video and its four fakes: the frame before processing and compression, the
absolute difference from the real frame (amplified), and the same frame as a detector reads it
(after the video's processing and H.264 at QP 40), cropped around the face.

    .venv/bin/python benchmarks/synth_pictures.py --out docs/images/synthetic-v2.png
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np

from dfbench.layout import METHODS
from dfbench.synth.encode import write_h264
from dfbench.synth.fakes import FAKE_STREAM, MANIPULATIONS, STRENGTH
from dfbench.synth.filming import post_process, processing_for
from dfbench.synth.pairs import PROCESS_STREAM, film

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


def pictures(seed: int, target: str, source: str, frame: int, num_frames: int = 32,
             frame_size: tuple[int, int] = (320, 240), gain: float = 6.0) -> np.ndarray:
    """The picture (RGB uint8): rows raw frame, difference x ``gain``, compressed frame; columns real and methods."""
    T, S = film(seed, target, num_frames, frame_size), film(seed, source, num_frames, frame_size)
    lm = T.raw.landmarks[frame]
    videos = [("real", f"{target}", T.raw.frames, 0)]
    for k, m in enumerate(METHODS):
        rng = np.random.default_rng([seed, FAKE_STREAM, int(target), int(source), k])
        videos.append((m, f"{target}_{source}", MANIPULATIONS[m](T, S, rng, STRENGTH), k + 1))
    raw_row, diff_row, c40_row = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for label, name, frames, idx in videos:
            raw = frames[frame]
            raw_row.append(_label(_crop(raw, lm), label))
            diff = np.abs(raw - T.raw.frames[frame]).mean(-1, keepdims=True) * gain
            diff_row.append(_label(_crop(np.repeat(diff, 3, -1), lm), f"|{label} - real| x{gain:g}"))
            t, _, s = name.partition("_")
            rng = np.random.default_rng([seed, PROCESS_STREAM, idx, int(t), int(s or 0)])
            path = Path(tmp) / f"{idx}.mp4"
            write_h264(path, post_process(frames, processing_for(seed, name, idx), rng, T.raw.landmarks), 40)
            import decord

            c40_row.append(_label(_crop(decord.VideoReader(str(path))[frame].asnumpy(), lm), f"{label}, c40"))
    return np.vstack([np.hstack(r) for r in (raw_row, diff_row, c40_row)])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/images/synthetic-v2.png"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target", default="000")
    ap.add_argument("--source", default="001")
    ap.add_argument("--frame", type=int, default=16)
    args = ap.parse_args(argv)
    img = pictures(args.seed, args.target, args.source, args.frame)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), img[..., ::-1])
    print(f"wrote {args.out} ({img.shape[1]}x{img.shape[0]})")


if __name__ == "__main__":
    main()
