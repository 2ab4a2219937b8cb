"""Face-crop videos as an MMEngine dataset, and the two transforms that read them.

A dataset item is one *clip* (training) or one *trunk* (validation and scoring):

* ``sampling='clip'``: ``clips_per_video`` items per video (default 1); each access draws one
  random ``clip_len``-frame clip (:func:`dfbench.clips.random_clip_start`), so an epoch sees that
  many random clips of every training video.
* ``sampling='trunks'``: the trunks of ``trunk_len`` frames (:func:`dfbench.clips.trunks`). With
  ``trunk_input='whole'`` each trunk is one item and the *whole trunk* is the network's input: the
  3D CNNs are fully convolutional in time and end in global average pooling, so a 250-frame trunk
  goes through the same weights as a 16-frame clip and yields one score. This is how the paper
  scores its "trunks of 250 frames". With ``trunk_input='clips'`` (networks that take clips of one
  length only: 2D recognizers with a fixed number of segments, transformers) each trunk is cut
  into consecutive ``clip_len`` clips, one item each; the trunk's score is the mean of theirs.
  Either way a video's score is the mean of its trunk scores (:mod:`dfbench_mmaction.metrics`).

Where clips and trunks fall is the core's rule (``dfbench.clips``), never re-implemented here.
The rest of the pipeline is MMAction2's own transforms (``Flip``, ``FormatShape``,
``PackActionInputs``), so items reach ``Recognizer3D`` exactly as MMAction2's video datasets do.
"""

from __future__ import annotations

import numpy as np
from mmaction.registry import DATASETS, TRANSFORMS
from mmcv.transforms import BaseTransform
from mmengine.dataset import BaseDataset

from dfbench.clips import clip_indices, random_clip_start, trunks
from dfbench_mmaction.data import read_annotations, read_crops


@DATASETS.register_module()
class FaceCropDataset(BaseDataset):
    """Videos given as cached face crops (``.npy``, (frames, S, S, 3) uint8 RGB).

    Args:
        ann_file: JSON list of videos, each with ``key``, ``label`` (1 = fake), ``method``,
            ``crops`` (path) and ``num_frames``; see :func:`dfbench_mmaction.data.write_annotations`.
        sampling: ``'clip'`` (one random clip per video per access) or ``'trunks'`` (the trunks).
        clips_per_video: ``sampling='clip'`` only: items per video in an epoch, each a new random clip.
        trunk_input: ``'whole'`` (one item per trunk, the whole trunk as input) or ``'clips'``
            (one item per consecutive ``clip_len`` clip of each trunk).
        clip_len: frames in a training clip; trunks or clips shorter than this are looped up to it.
        trunk_len: frames in a trunk (``sampling='trunks'``).
        crop_size: the square input size; crops of another size are resized to it.
        **kwargs: ``BaseDataset`` arguments (``pipeline``, ``test_mode``, ...).
    """

    def __init__(self, ann_file: str, sampling: str = "clip", clip_len: int = 16, trunk_len: int = 250,
                 crop_size: int = 112, trunk_input: str = "whole", clips_per_video: int = 1, **kwargs):
        if sampling not in ("clip", "trunks"):
            raise ValueError(f"sampling must be 'clip' or 'trunks', got {sampling!r}")
        if trunk_input not in ("whole", "clips"):
            raise ValueError(f"trunk_input must be 'whole' or 'clips', got {trunk_input!r}")
        if int(clips_per_video) < 1:
            raise ValueError(f"clips_per_video must be at least 1, got {clips_per_video!r}")
        self.sampling, self.trunk_input = sampling, trunk_input
        self.clips_per_video = int(clips_per_video)
        self.clip_len = int(clip_len)
        self.trunk_len = int(trunk_len)
        self.crop_size = int(crop_size)
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> list[dict]:
        items = []
        for index, video in enumerate(read_annotations(self.ann_file)):
            common = dict(video_index=index, video_key=video["key"], label=int(video["label"]),
                          crops=video["crops"], total_frames=int(video["num_frames"]),
                          clip_len=self.clip_len, crop_size=self.crop_size)
            if self.sampling == "clip":
                items += [common] * self.clips_per_video
                continue
            for start, end in trunks(int(video["num_frames"]), self.trunk_len):
                if self.trunk_input == "whole":
                    items.append(dict(common, trunk=(start, end)))
                else:
                    items += [dict(common, trunk=(start, end), window=(s, min(s + self.clip_len, end)))
                              for s in range(start, end, self.clip_len)]
        return items


@TRANSFORMS.register_module()
class SampleFaceFrames(BaseTransform):
    """Choose the frame indices of an item with the core's clip and trunk rules.

    A training item gets a uniformly random ``clip_len`` clip; a trunk item gets all frames of its
    trunk, a window item those of its window (each looped up to ``clip_len`` when shorter). The random start comes from
    NumPy's global generator, which MMEngine seeds (``randomness.seed``, and per dataloader
    worker), so runs with the same seed draw the same clips.
    """

    def transform(self, results: dict) -> dict:
        total, clip_len = results["total_frames"], results["clip_len"]
        if "trunk" in results:
            start, end = results.get("window", results["trunk"])
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
        imgs = read_crops(results["crops"], results["frame_inds"], results["crop_size"])  # writable: Flip is in place
        results["imgs"] = imgs
        results["img_shape"] = results["original_shape"] = imgs.shape[1:3]
        results["modality"] = "RGB"
        return results
