"""Face-crop frames as a dataset: training frames per video, or every scored frame of every trunk.

Videos come as the core's cached crops (``.npy``, (frames, S, S, 3) uint8 RGB, memory-mapped).
Which frames are used is :mod:`dfbench_image.frames`' rule. An item is one frame as a (3, S, S)
uint8 tensor plus its video index, trunk index and label; batches are stacked by MMEngine's
``default_collate``, normalised by the model's data preprocessor.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from dfbench_image.frames import training_frames, trunk_frames
from dfbench_image.registry import DATASETS

VIDEO_FIELDS = ("key", "label", "method", "crops", "num_frames")


def write_annotations(videos, path: str | Path) -> Path:
    """Write VideoRefs as the JSON list :class:`FaceFrameDataset` reads (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [dict(key=v.key, label=int(v.label), method=v.method, crops=str(Path(v.crops).resolve()),
                 num_frames=int(v.num_frames)) for v in videos]
    tmp = path.with_name(f".{path.name}.{id(rows)}.tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    tmp.replace(path)
    return path


def read_frames(crops: str | Path, indices, size: int) -> np.ndarray:
    """Frames ``indices`` of a crops file as (k, size, size, 3) uint8 RGB (resized if cached at another size)."""
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


@DATASETS.register_module()
class FaceFrameDataset(Dataset):
    """Frames of face-crop videos.

    Args:
        ann_file: JSON list of videos (``key``, ``label``, ``method``, ``crops``, ``num_frames``),
            see :func:`write_annotations`.
        mode: ``'train'`` (``frames_per_video`` frames per video, see
            :func:`~dfbench_image.frames.training_frames`) or ``'trunks'`` (the frames of every
            trunk of ``trunk_len``, all or ``frames_per_trunk`` of them).
        crop_size: the square size frames are given at (crops of another size are resized).
        seed: the run's seed, which places the training frames.
    """

    metainfo = dict(classes=("real", "fake"))  # what MMEngine's Runner hands its visualizer and metrics

    def __init__(self, ann_file: str, mode: str = "train", crop_size: int = 256, frames_per_video: int | None = None,
                 seed: int = 0, trunk_len: int = 250, frames_per_trunk: int | None = None):
        if mode not in ("train", "trunks"):
            raise ValueError(f"mode must be 'train' or 'trunks', got {mode!r}")
        self.ann_file, self.mode, self.crop_size = ann_file, mode, int(crop_size)
        self.videos = json.loads(Path(ann_file).read_text())
        self.items: list[tuple[int, int, int]] = []  # (video index, trunk index, frame index)
        for index, video in enumerate(self.videos):
            missing = [f for f in VIDEO_FIELDS if f not in video]
            if missing:
                raise ValueError(f"{ann_file}: video {index} lacks {missing}")
            n = int(video["num_frames"])
            if mode == "train":
                self.items += [(index, 0, int(f)) for f in training_frames(n, frames_per_video, seed, video["key"])]
            else:
                for t, frames in enumerate(trunk_frames(n, int(trunk_len), frames_per_trunk)):
                    self.items += [(index, t, int(f)) for f in frames]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        video_index, trunk_index, frame = self.items[i]
        video = self.videos[video_index]
        image = read_frames(video["crops"], [frame], self.crop_size)[0]
        return dict(inputs=torch.from_numpy(image).permute(2, 0, 1).contiguous(),
                    data_samples=dict(video_index=video_index, trunk_index=trunk_index, frame_index=frame,
                                      label=int(video["label"])))
