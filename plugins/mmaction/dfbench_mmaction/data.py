"""The crop cache as the MMEngine datasets read it: one annotation format, one frame reader.

A run's videos (:class:`dfbench.detector.VideoRef`) are written as a JSON list that a dataset reads
back (:func:`write_annotations`, :func:`read_annotations`); frames come from the cached ``.npy``
crops, memory-mapped and resized when cached at another size (:func:`read_crops`). Clip datasets
(:mod:`dfbench_mmaction.datasets`) and frame datasets (the image plugin's) share both. Imports no torch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from dfbench.results import write_atomic

VIDEO_FIELDS = ("key", "label", "method", "crops", "num_frames")


def write_annotations(videos: Iterable, path: str | Path) -> Path:
    """Write VideoRefs as the JSON annotation file the datasets read (atomically)."""
    path = Path(path)
    rows = [dict(key=v.key, label=int(v.label), method=v.method, crops=str(Path(v.crops).resolve()),
                 num_frames=int(v.num_frames)) for v in videos]
    write_atomic(path, json.dumps(rows, indent=1))
    return path


def read_annotations(path: str | Path) -> list[dict]:
    """The videos of an annotation file, each checked for every field :func:`write_annotations` writes."""
    videos = json.loads(Path(path).read_text())
    for index, video in enumerate(videos):
        missing = [f for f in VIDEO_FIELDS if f not in video]
        if missing:
            raise ValueError(f"{path}: video {index} lacks {missing}")
    return videos


def read_crops(crops: str | Path, indices, size: int) -> np.ndarray:
    """Frames ``indices`` of a crops file as (k, size, size, 3) uint8 RGB, a private writable copy
    (resized with area interpolation when the cache holds another size)."""
    array = np.load(crops, mmap_mode="r")
    if array.ndim != 4 or array.shape[-1] != 3 or array.dtype != np.uint8:
        raise ValueError(f"{crops}: expected (frames, S, S, 3) uint8 crops, got {array.shape} {array.dtype}")
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) and indices.max() >= len(array):
        raise ValueError(f"{crops} holds {len(array)} frames, asked for frame {int(indices.max())}")
    frames = np.ascontiguousarray(array[indices])
    if frames.shape[1:3] != (size, size):
        frames = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in frames])
    return frames
