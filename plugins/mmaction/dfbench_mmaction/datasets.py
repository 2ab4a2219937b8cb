"""Face-crop videos as an MMEngine dataset, and the two transforms that read them.

A dataset item is one *clip* (training) or one *trunk* (validation and scoring):

* ``sampling='clip'``: one item per video; each access draws one random ``clip_len``-frame clip
  (:func:`dfbench.clips.random_clip_start`), so an epoch sees one clip of every training video.
* ``sampling='trunks'``: one item per trunk of ``trunk_len`` frames
  (:func:`dfbench.clips.trunks`), and the *whole trunk* is the network's input. The 3D CNNs are
  fully convolutional in time and end in global average pooling, so a 250-frame trunk goes
  through the same weights as a 16-frame clip and yields one score; a video's score is the mean
  of its trunk scores. This is how the paper scores its "trunks of 250 frames".

Where clips and trunks fall is the core's rule (``dfbench.clips``), never re-implemented here.
The rest of the pipeline is MMAction2's own transforms (``Flip``, ``FormatShape``,
``PackActionInputs``), so items reach ``Recognizer3D`` exactly as MMAction2's video datasets do.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import BaseDataset

from dfbench.clips import clip_indices, random_clip_start, trunks
from dfbench_mmaction import _compat

_compat.install()

from mmaction.registry import DATASETS, TRANSFORMS  # noqa: E402

VIDEO_FIELDS = ("key", "label", "method", "crops", "num_frames")


def write_annotations(videos, path: str | Path) -> Path:
    """Write VideoRefs as the JSON annotation file :class:`FaceCropDataset` reads (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        dict(key=v.key, label=int(v.label), method=v.method, crops=str(Path(v.crops).resolve()),
             num_frames=int(v.num_frames))
        for v in videos
    ]
    tmp = path.with_name(f".{path.name}.{id(rows)}.tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    tmp.replace(path)
    return path


@DATASETS.register_module()
class FaceCropDataset(BaseDataset):
    """Videos given as cached face crops (``.npy``, (frames, S, S, 3) uint8 RGB).

    Args:
        ann_file: JSON list of videos, each with ``key``, ``label`` (1 = fake), ``method``,
            ``crops`` (path) and ``num_frames``; see :func:`write_annotations`.
        sampling: ``'clip'`` (one random clip per video per access) or ``'trunks'`` (one item
            per trunk, the whole trunk as input).
        clip_len: frames in a training clip; trunks shorter than this are looped up to it.
        trunk_len: frames in a trunk (``sampling='trunks'``).
        crop_size: the square input size; crops of another size are resized to it.
        **kwargs: ``BaseDataset`` arguments (``pipeline``, ``test_mode``, ...).
    """

    def __init__(self, ann_file: str, sampling: str = "clip", clip_len: int = 16, trunk_len: int = 250,
                 crop_size: int = 112, **kwargs):
        if sampling not in ("clip", "trunks"):
            raise ValueError(f"sampling must be 'clip' or 'trunks', got {sampling!r}")
        self.sampling = sampling
        self.clip_len = int(clip_len)
        self.trunk_len = int(trunk_len)
        self.crop_size = int(crop_size)
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> list[dict]:
        videos = json.loads(Path(self.ann_file).read_text())
        items = []
        for index, video in enumerate(videos):
            missing = [f for f in VIDEO_FIELDS if f not in video]
            if missing:
                raise ValueError(f"{self.ann_file}: video {index} lacks {missing}")
            common = dict(video_index=index, video_key=video["key"], label=int(video["label"]),
                          crops=video["crops"], total_frames=int(video["num_frames"]),
                          clip_len=self.clip_len, crop_size=self.crop_size)
            if self.sampling == "clip":
                items.append(common)
            else:
                for start, end in trunks(int(video["num_frames"]), self.trunk_len):
                    items.append(dict(common, trunk=(start, end)))
        return items


@TRANSFORMS.register_module()
class SampleFaceFrames(BaseTransform):
    """Choose the frame indices of an item with the core's clip and trunk rules.

    A training item gets a uniformly random ``clip_len`` clip; a trunk item gets all frames of its
    trunk (looped up to ``clip_len`` when the trunk is shorter). The random start comes from
    NumPy's global generator, which MMEngine seeds (``randomness.seed``, and per dataloader
    worker), so runs with the same seed draw the same clips.
    """

    def transform(self, results: dict) -> dict:
        total, clip_len = results["total_frames"], results["clip_len"]
        if "trunk" in results:
            start, end = results["trunk"]
            length = end - start
            inds = start + np.arange(max(length, clip_len)) % length
        else:
            rng = np.random.default_rng(np.random.randint(0, 2**31 - 1))
            inds = clip_indices(total, clip_len, random_clip_start(total, clip_len, rng))
        results["frame_inds"] = inds.astype(np.int64)
        results["clip_len"] = len(inds)
        results["num_clips"] = 1
        return results


@TRANSFORMS.register_module()
class LoadFaceCrops(BaseTransform):
    """Read the chosen frames from the crops file (memory-mapped) as ``imgs``, (T, S, S, 3) RGB."""

    def transform(self, results: dict) -> dict:
        crops = np.load(results["crops"], mmap_mode="r")
        if crops.ndim != 4 or crops.shape[-1] != 3 or crops.dtype != np.uint8:
            raise ValueError(f"{results['crops']}: expected (frames, S, S, 3) uint8 crops, "
                             f"got {crops.shape} {crops.dtype}")
        inds = results["frame_inds"]
        if inds.max() >= len(crops):
            raise ValueError(f"{results['crops']} holds {len(crops)} frames, but the video is said to "
                             f"have {results['total_frames']}")
        imgs = np.ascontiguousarray(crops[inds])  # a private, writable copy (Flip works in place)
        size = results["crop_size"]
        if imgs.shape[1:3] != (size, size):
            imgs = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in imgs])
        results["imgs"] = imgs
        results["img_shape"] = results["original_shape"] = imgs.shape[1:3]
        results["modality"] = "RGB"
        return results
