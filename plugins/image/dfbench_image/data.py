"""Face-crop frames as a dataset: training frames per video, or every scored frame of every trunk.

Videos come as the core's cached crops, in the annotation format the MMEngine base writes
(:mod:`dfbench_mmaction.data`: one writer, one reader, one frame loader for every MMEngine
detector). Which frames are used is :mod:`dfbench_image.frames`' rule. An item is one frame as a
(3, S, S) uint8 tensor plus its video index, trunk index and label; batches are stacked by
MMEngine's ``default_collate``, normalised by the model's data preprocessor.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from dfbench_image.frames import training_frames, trunk_frames
from dfbench_image.registry import DATASETS
from dfbench_mmaction.data import read_annotations
from dfbench_mmaction.data import read_crops as read_frames

__all__ = ["FaceFrameDataset", "read_frames"]


@DATASETS.register_module()
class FaceFrameDataset(Dataset):
    """Frames of face-crop videos.

    Args:
        ann_file: JSON list of videos (``key``, ``label``, ``method``, ``crops``, ``num_frames``),
            see :func:`dfbench_mmaction.data.write_annotations`.
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
        self.videos = read_annotations(ann_file)
        self.items: list[tuple[int, int, int]] = []  # (video index, trunk index, frame index)
        for index, video in enumerate(self.videos):
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
