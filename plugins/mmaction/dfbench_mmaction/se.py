"""3D ResNet with squeeze-and-excitation in every bottleneck (Hu et al., CVPR 2018), on MMAction2.

MMAction2 has SE only inside X3D; :class:`SEBottleneck3d` reuses X3D's ``SEModule`` (global
average pool over time and space, 1x1x1 conv down, ReLU, 1x1x1 conv up, sigmoid, rescale: the
paper's equations 4-6) in MMAction2's ``Bottleneck3d``, where Hu et al.'s SE-ResNet puts it: on the
residual branch after the last convolution's BatchNorm, before the identity is added.

The reduction ratio r is Hu et al.'s 16, the one they chose for every SE-ResNet (their Table 10
ablation: "r = 16 achieved a good balance between accuracy and complexity"); the paper's
equation 5 names r but not its value. On the paper-size 3D ResNet-101 this adds 4,777,712
parameters (the backbone becomes 90,022,832). The paper's Table 6 count (94,303,808) lies between
r = 16 (90,024,881 with our head) and r = 8 (94,770,081), and no SE configuration we could think
of reproduces it (:func:`se_parameters` and the enumeration in the plugin's README: ratio,
placement, biases, which blocks, head), so the count does not tell which r the authors ran;
``se_reduction`` in the config sets another.
"""

from __future__ import annotations

import torch
import torch.utils.checkpoint as cp
from mmaction.models.backbones.resnet3d import Bottleneck3d, ResNet3d
from mmaction.models.backbones.x3d import SEModule
from mmaction.registry import MODELS

# (bottlenecks, middle width) of each ResNet-101 stage; a bottleneck's output is 4x its middle width
RESNET101_STAGES = ((3, 64), (4, 128), (23, 256), (3, 512))


def se_parameters(reduction: int, on: str = "output", bias: bool = True,
                  stages: tuple[tuple[int, int], ...] = RESNET101_STAGES) -> int:
    """Parameters that one SE module in every bottleneck adds, in closed form (for Table 6's audit).

    Each module is equation 5's ``w1`` (C/r x C) and ``w2`` (C x C/r), plus a bias per unit when
    ``bias`` (X3D's ``SEModule`` is two 1x1x1 convolutions with biases; equation 5 writes none);
    C is the block's output width (``on="output"``: Hu et al.'s place, this module's) or its middle
    width (``on="mid"``: after the 3x3x3 convolution, as X3D puts it). C/r exactly, no rounding
    (X3D's module rounds to a multiple of 8, which changes nothing here for r <= 32 on the output).
    """
    if on not in ("output", "mid"):
        raise ValueError(f"on must be 'output' or 'mid', got {on!r}")
    total = 0
    for blocks, mid in stages:
        c = 4 * mid if on == "output" else mid
        hidden, rest = divmod(c, reduction)
        if rest:
            raise ValueError(f"{c} channels do not divide by r = {reduction}")
        total += blocks * (2 * c * hidden + (hidden + c if bias else 0))
    return total


class SEBottleneck3d(Bottleneck3d):
    """MMAction2's ``Bottleneck3d`` with an SE module (``self.se``) rescaling its residual branch.

    Args:
        se_reduction: the ratio r of equation 5: the SE bottleneck has ``channels / r`` units
            (X3D's SEModule rounds that to a multiple of 8, at least 8).
        **kwargs: everything ``Bottleneck3d`` takes.
    """

    def __init__(self, inplanes: int, planes: int, se_reduction: float = 16, **kwargs):
        super().__init__(inplanes, planes, **kwargs)
        if se_reduction <= 0:
            raise ValueError(f"se_reduction must be positive, got {se_reduction}")
        self.se_reduction = se_reduction
        self.se = SEModule(planes * self.expansion, 1 / se_reduction)  # X3D's SEModule takes 1/r

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Bottleneck3d's forward with ``se`` after ``conv3`` (same checkpointing and non-local)."""

        def residual(x: torch.Tensor) -> torch.Tensor:
            out = self.se(self.conv3(self.conv2(self.conv1(x))))
            identity = x if self.downsample is None else self.downsample(x)
            return out + identity

        out = cp.checkpoint(residual, x, use_reentrant=False) if self.with_cp and x.requires_grad else residual(x)
        out = self.relu(out)
        return self.non_local_block(out) if self.non_local else out


@MODELS.register_module()
class SEResNet3d(ResNet3d):
    """MMAction2's ``ResNet3d`` built from :class:`SEBottleneck3d` blocks (SE in every bottleneck).

    Args:
        se_reduction: the SE reduction ratio r of every block (Hu et al.'s 16 by default).
        **kwargs: everything ``ResNet3d`` takes (depth 50, 101 or 152).
    """

    arch_settings = {
        50: (SEBottleneck3d, (3, 4, 6, 3)),
        101: (SEBottleneck3d, (3, 4, 23, 3)),
        152: (SEBottleneck3d, (3, 8, 36, 3)),
    }

    def __init__(self, se_reduction: float = 16, **kwargs):
        # ResNet3d forwards unknown keyword arguments to every block it builds.
        super().__init__(se_reduction=se_reduction, **kwargs)
        self.se_reduction = se_reduction
