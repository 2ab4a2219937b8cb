"""A frame network as an MMEngine model: training loss, video-level prediction records, pretrained weights.

:class:`FrameClassifier` wraps one of :mod:`dfbench_image.networks`. It decides what part of a
face crop the network sees (``input_size``): the whole crop, or, where the original trained on
patches, a random patch in training and at test either the centre patch (``test_view='center'``)
or a grid of patches whose probabilities are averaged (``test_view='grid'``, Rahmouni et al.'s
aggregation of local estimates).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from mmengine.model import BaseModel

from dfbench_image.registry import MODELS
from dfbench_mmaction.runtime import check_class_weight, weighted_bce

TEST_VIEWS = ("center", "grid")


def grid_positions(size: int, patch: int) -> list[int]:
    """Top-left offsets of ceil(size / patch) patches per axis, evenly spread so they cover ``size``."""
    n = math.ceil(size / patch)
    if n == 1:
        return [(size - patch) // 2]
    return [round(i * (size - patch) / (n - 1)) for i in range(n)]


@MODELS.register_module()
class FrameClassifier(BaseModel):
    """One frame network, trained with (class-weighted) BCE, predicting per-frame fake probabilities.

    Args:
        network: config of the network (a ``dfbench_image.networks`` type).
        input_size: the side of what the network sees; at most the crop size.
        test_view: ``'center'`` or ``'grid'`` (see the module docstring).
        class_weight: ``(real, fake)`` loss weights, or None (the MMEngine base's :func:`weighted_bce`).
        data_preprocessor: MMEngine's ``ImgDataPreprocessor`` config (mean/std normalisation).

    ImageNet weights, when asked for, are loaded by the base's ``PretrainedWeightsHook`` through
    :func:`dfbench_image.pretrained.load_imagenet`.
    """

    def __init__(self, network: dict, input_size: int, test_view: str = "center",
                 class_weight: Sequence[float] | None = None, data_preprocessor: dict | None = None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if test_view not in TEST_VIEWS:
            raise ValueError(f"test_view must be one of {TEST_VIEWS}, got {test_view!r}")
        self.network = MODELS.build(network)
        self.input_size = int(input_size)
        self.test_view = test_view
        self.class_weight = check_class_weight(class_weight)

    def _check_size(self, x: torch.Tensor) -> int:
        size = x.shape[-1]
        if size < self.input_size or x.shape[-2] != size:
            raise ValueError(f"frames of {tuple(x.shape[-2:])} are smaller than the network's "
                             f"{self.input_size}x{self.input_size} input or not square")
        return size

    def train_view(self, x: torch.Tensor) -> torch.Tensor:
        """A random ``input_size`` patch of each frame (the frame itself when it is that size)."""
        size, k = self._check_size(x), self.input_size
        if size == k:
            return x
        ys = torch.randint(0, size - k + 1, (len(x),)).tolist()
        xs = torch.randint(0, size - k + 1, (len(x),)).tolist()
        return torch.stack([f[:, y:y + k, c:c + k] for f, y, c in zip(x, ys, xs)])

    def test_views(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The patches scored at test: the centre one, or the grid (each a (N, 3, k, k) batch)."""
        size, k = self._check_size(x), self.input_size
        if size == k:
            return [x]
        if self.test_view == "center":
            o = (size - k) // 2
            return [x[..., o:o + k, o:o + k]]
        pos = grid_positions(size, k)
        return [x[..., y:y + k, c:c + k] for y in pos for c in pos]

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Per-frame fake probability: sigmoid of the logit, averaged over the test views."""
        return torch.stack([torch.sigmoid(self.network(v).reshape(-1).float()) for v in self.test_views(x)]).mean(0)

    def forward(self, inputs: torch.Tensor, data_samples: dict | None = None, mode: str = "tensor"):
        if mode == "loss":
            logits = self.network(self.train_view(inputs)).reshape(-1)
            labels = data_samples["label"].to(device=logits.device, dtype=logits.dtype)
            return dict(loss=weighted_bce(logits, labels, self.class_weight))
        if mode == "predict":
            probs = self.probabilities(inputs).detach().cpu().tolist()
            ds = {k: v.tolist() for k, v in data_samples.items()}
            return [dict(video_index=ds["video_index"][i], trunk_index=ds["trunk_index"][i], label=ds["label"][i],
                         score=p) for i, p in enumerate(probs)]
        return self.network(self.test_views(inputs)[0]).reshape(-1)
