"""Where clips and trunks fall in a video: one rule shared by every detector and protocol."""

from __future__ import annotations

import numpy as np

PAPER_TRUNK_LEN = 250  # the paper scores a test video as the mean over trunks of 250 frames


def trunks(num_frames: int, trunk_len: int = PAPER_TRUNK_LEN) -> list[tuple[int, int]]:
    """Split ``[0, num_frames)`` into consecutive trunks of ``trunk_len`` frames.

    A video shorter than a trunk is one trunk. A last, partial trunk shorter than half a trunk
    is merged into the one before it, so no score rests on a handful of frames.
    """
    if num_frames < 1:
        raise ValueError("a video needs at least one frame")
    if trunk_len < 1:
        raise ValueError("trunk_len must be positive")
    bounds = [(s, min(s + trunk_len, num_frames)) for s in range(0, num_frames, trunk_len)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < trunk_len / 2:
        last = bounds.pop()
        bounds[-1] = (bounds[-1][0], last[1])
    return bounds


def clip_indices(num_frames: int, clip_len: int, start: int) -> np.ndarray:
    """Frame indices of a clip of ``clip_len`` from ``start``; short videos loop, as MMAction2 does."""
    return (start + np.arange(clip_len)) % num_frames


def random_clip_start(num_frames: int, clip_len: int, rng: np.random.Generator) -> int:
    """A uniformly random clip start such that the clip fits (0 when the video is shorter)."""
    return int(rng.integers(0, max(num_frames - clip_len, 0) + 1))
