"""Which frames a frame detector sees, and how frame scores become one score per video.

* **Training**: ``frames_per_video`` frames of each training video (the protocol's
  ``train_frames_per_video``), evenly spaced over the video from a start offset drawn from the
  run's seed and the video's key. Evenly spaced frames cover the whole video (consecutive frames
  are near duplicates); the offset makes a different seed see different frames, while a re-run
  with the same seed sees the same ones. A video with fewer frames gives all of them.
* **Validation and scoring**: the frames of each trunk (:func:`dfbench.clips.trunks`, the same
  trunks the video detectors score), all of them by default or ``frames_per_trunk`` evenly spaced
  ones. A trunk's score is the mean of its frame probabilities, a video's score the mean of its
  trunk scores, so a frame detector's video score is defined exactly like a video detector's
  (:func:`dfbench_mmaction.metrics.video_scores`, the one rule, re-exported here).
"""

from __future__ import annotations

import zlib

import numpy as np

from dfbench.clips import trunks
from dfbench_mmaction.metrics import video_scores

__all__ = ["training_frames", "trunk_frames", "video_scores"]


def training_frames(num_frames: int, count: int | None, seed: int, key: str) -> np.ndarray:
    """``count`` frame indices evenly spaced over ``num_frames``, offset by (seed, key); all if fewer."""
    if num_frames < 1:
        raise ValueError("a video needs at least one frame")
    if count is None or count >= num_frames:
        return np.arange(num_frames)
    if count < 1:
        raise ValueError(f"frames per video must be positive, got {count}")
    step = num_frames / count
    # crc32, not hash(): Python salts str hashes per process, which would change the frames per run.
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(key.encode())])
    offset = rng.random() * step
    return np.minimum(np.floor(offset + step * np.arange(count)).astype(np.int64), num_frames - 1)


def trunk_frames(num_frames: int, trunk_len: int, per_trunk: int | None = None) -> list[np.ndarray]:
    """The frame indices scored in each trunk: all, or ``per_trunk`` evenly spaced (centred) ones."""
    out = []
    for start, end in trunks(num_frames, trunk_len):
        length = end - start
        if per_trunk is None or per_trunk >= length:
            out.append(np.arange(start, end))
        else:
            out.append(start + np.floor((np.arange(per_trunk) + 0.5) * length / per_trunk).astype(np.int64))
    return out
