"""The network pieces dfbench adds to MMAction2, registered in its ``MODELS`` registry.

* :class:`ResNeXtBottleneck3d` / :class:`ResNeXt3d`: Hara et al.'s 3D ResNeXt (MMAction2 has no
  grouped-convolution ResNet3d). A ResNeXt block is a ResNet bottleneck whose 3x3x3 conv is a
  grouped conv of ``groups x (planes * base_width / 64)`` channels; everything else (stem, stages,
  strides, non-local placement, init) is MMAction2's ``ResNet3d`` unchanged.
* :class:`BinaryClsHead`: global average pooling, dropout and ONE output neuron, as the paper
  replaces each network's prediction layer by a single neuron followed by a sigmoid; it takes the
  features of any MMAction2 recognizer (3D maps, 2D maps per segment, token vectors, pathways), so
  it replaces the head of every model-zoo config too. Its loss is the MMEngine base's
  ``ClassWeightedBCELoss`` (:mod:`dfbench_mmaction.runtime`), the weighted loss of the protocols.
"""

from __future__ import annotations

import torch
from mmaction.models.backbones.resnet3d import Bottleneck3d, ResNet3d
from mmaction.models.heads.base import BaseHead
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import normal_init
from torch import nn

from dfbench_mmaction import runtime  # noqa: F401  (registers ClassWeightedBCELoss, the head's loss)


class ResNeXtBottleneck3d(Bottleneck3d):
    """A ``Bottleneck3d`` whose middle convolution is grouped (ResNeXt, Xie et al. 2017).

    The inner width is ``groups * floor(planes * base_width / 64)``: 128, 256, 512, 1024 for the
    four stages of ResNeXt-101 32x4d, which is Hara et al.'s ``cardinality * planes / 32`` with
    their doubled ``planes``. The block's output width stays ``planes * 4``, as in ResNet.
    """

    def __init__(self, inplanes: int, planes: int, groups: int = 32, base_width: int = 4, **kwargs):
        super().__init__(inplanes, planes, **kwargs)
        self.groups = groups
        self.base_width = base_width
        width = groups * max(planes * base_width // 64, 1)
        # Rebuild the three convs at the ResNeXt width, keeping the kernels, strides and paddings
        # the parent chose for this block (inflate style, dilation, pytorch/caffe stride placement).
        self.conv1 = self._like(self.conv1, inplanes, width)
        self.conv2 = self._like(self.conv2, width, width, groups=groups)
        self.conv3 = self._like(self.conv3, width, planes * self.expansion)

    def _like(self, module: ConvModule, in_channels: int, out_channels: int, groups: int = 1) -> ConvModule:
        conv = module.conv
        return ConvModule(
            in_channels,
            out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=groups,
            bias=False,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=module.act_cfg,
        )


@MODELS.register_module()
class ResNeXt3d(ResNet3d):
    """3D ResNeXt backbone (Hara et al., CVPR 2018): MMAction2's ResNet3d with ResNeXt blocks.

    Args:
        groups: cardinality of the grouped convolutions (32 in ResNeXt-101 32x4d).
        base_width: channels per group in the first stage (4 in 32x4d).
        **kwargs: everything ``ResNet3d`` takes (depth, stage_blocks, non_local, ...).
    """

    arch_settings = {
        50: (ResNeXtBottleneck3d, (3, 4, 6, 3)),
        101: (ResNeXtBottleneck3d, (3, 4, 23, 3)),
        152: (ResNeXtBottleneck3d, (3, 8, 36, 3)),
    }

    def __init__(self, groups: int = 32, base_width: int = 4, **kwargs):
        # ResNet3d forwards unknown keyword arguments to every block it builds.
        super().__init__(groups=groups, base_width=base_width, **kwargs)
        self.groups = groups
        self.base_width = base_width


@MODELS.register_module()
class BinaryClsHead(BaseHead):
    """Average pool, dropout and a single output neuron: the logit that a clip is fake.

    The prediction is ``sigmoid(logit)``, stored as each sample's ``pred_score`` (shape (1,)).
    Pooling is global over time and space, so the head takes any number of frames: a 16-frame
    training clip and a 250-frame test trunk alike. What it pools (:meth:`pool`): an
    (N, C, T, H, W) map (3D CNNs); (N * segments, C, H, W) maps with ``num_segs`` (2D recognizers
    such as TSN and TSM: averaged over space, then segments); (N, C) or (N, L, C) tokens
    (transformers); a tuple of maps (SlowFast's pathways: each pooled, then concatenated); a tuple
    of ``[patch tokens, class token]`` per stage (MViT: the last class token).

    Args:
        in_channels: channels of the backbone's last feature map.
        loss_cls: the loss config; ``ClassWeightedBCELoss`` by default.
        dropout_ratio: dropout before the output neuron (0 disables it).
        init_std: standard deviation of the output neuron's initial weights.
    """

    def __init__(
        self,
        in_channels: int,
        loss_cls: dict | None = None,
        dropout_ratio: float = 0.5,
        init_std: float = 0.01,
        **kwargs,
    ):
        loss_cls = loss_cls or dict(type="ClassWeightedBCELoss")  # registered by dfbench_mmaction.runtime
        super().__init__(num_classes=1, in_channels=in_channels, loss_cls=loss_cls, **kwargs)
        self.init_std = init_std
        self.avg_pool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.fc_cls = nn.Linear(in_channels, 1)

    def init_weights(self) -> None:
        normal_init(self.fc_cls, std=self.init_std)

    def pool(self, x, num_segs: int | None = None) -> torch.Tensor:
        """A recognizer's features -> (N, C) (see the class docstring)."""
        if isinstance(x, (tuple, list)):
            if isinstance(x[-1], (tuple, list)):
                return self.pool(x[-1][-1])
            return torch.cat([self.pool(f) for f in x], dim=1)
        if x.ndim == 5:
            return self.avg_pool(x).flatten(1)
        if x.ndim == 4:
            x = x.mean(dim=(2, 3))
            return x.view(-1, num_segs, x.shape[-1]).mean(dim=1) if num_segs else x
        return x.mean(dim=1) if x.ndim == 3 else x

    def forward(self, x, num_segs: int | None = None, **kwargs) -> torch.Tensor:
        """Features -> (N, 1) logits."""
        return self.fc_cls(self.dropout(self.pool(x, num_segs)))

    def loss_by_feat(self, cls_scores: torch.Tensor, data_samples) -> dict:
        labels = torch.cat([sample.gt_label.view(-1) for sample in data_samples])
        labels = labels.to(device=cls_scores.device, dtype=cls_scores.dtype)
        return dict(loss_cls=self.loss_cls(cls_scores.view(-1), labels))

    def predict_by_feat(self, cls_scores: torch.Tensor, data_samples):
        # Several views of one sample (none in dfbench's pipelines) average their probabilities.
        probs = torch.sigmoid(cls_scores.view(len(data_samples), -1)).mean(dim=1).detach()
        for sample, prob in zip(data_samples, probs, strict=True):
            sample.set_pred_score(prob.view(1))
            sample.set_pred_label((prob >= 0.5).long().view(1))
        return data_samples
