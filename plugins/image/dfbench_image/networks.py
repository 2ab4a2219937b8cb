"""The image baselines' networks: each maps a normalised batch (N, 3, S, S) to (N, 1) logits.

Architectures follow the original papers and the code their authors released (read, not copied):
MesoNet from Afchar et al.'s Keras ``classifiers.py``, XceptionNet as FaceForensics++'s
``network/models.py`` sets it up (timm's ``legacy_xception``, the same network as the Cadene
port FF++ loads), Rahmouni et al. from their TensorFlow ``CGvsPhoto/model.py``. Where a network
has two outputs and a softmax in the original, it has one logit here (the fake class): the same
decision rule with one output less. ``docs/image-baselines.md`` lists every difference.

Each class is registered in the ``dfbench_image`` MODELS registry, so a config names it by type.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dfbench_image import residuals as R
from dfbench_image.registry import MODELS


def _pooled(size: int, pools: tuple[int, ...]) -> int:
    """Spatial size after Keras ``padding='same'`` max pools (each output is ceil(input / pool))."""
    for p in pools:
        size = math.ceil(size / p)
    return size


def _keras_init(module: nn.Module) -> None:
    """Keras defaults, as MesoNet's code trains with: Glorot-uniform weights, zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def _keras_bn(channels: int) -> nn.BatchNorm2d:
    """Keras ``BatchNormalization()``: momentum 0.99 (torch's 0.01) and epsilon 1e-3."""
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


def _meso_head(channels: int, size: int) -> nn.Sequential:
    """Flatten, dropout 0.5, Dense(16), LeakyReLU(0.1), dropout 0.5, Dense(1): both MesoNets' classifier."""
    return nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(channels * size * size, 16), nn.LeakyReLU(0.1),
                         nn.Dropout(0.5), nn.Linear(16, 1))


class _ConvReluBnPool(nn.Sequential):
    """Keras ``Conv2D(activation='relu', padding='same')``, ``BatchNormalization``, ``MaxPooling2D(padding='same')``."""

    def __init__(self, cin: int, cout: int, kernel: int, pool: int):
        super().__init__(nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.ReLU(inplace=True), _keras_bn(cout),
                         nn.MaxPool2d(pool, pool, ceil_mode=True))


@MODELS.register_module()
class Meso4(nn.Module):
    """Meso-4 (Afchar et al., WIFS 2018): four conv/BN/pool stages (8, 8, 16, 16 filters) and a
    16-unit hidden layer; 27,977 parameters on 256x256 input, the paper's count."""

    def __init__(self, input_size: int = 256):
        super().__init__()
        self.features = nn.Sequential(_ConvReluBnPool(3, 8, 3, 2), _ConvReluBnPool(8, 8, 5, 2),
                                      _ConvReluBnPool(8, 16, 5, 2), _ConvReluBnPool(16, 16, 5, 4))
        self.classifier = _meso_head(16, _pooled(input_size, (2, 2, 2, 4)))
        _keras_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class InceptionLayer(nn.Module):
    """MesoInception's module: a 1x1 branch and three 1x1 -> 3x3 branches with dilation 1, 2, 3,
    each convolution followed by ReLU, concatenated (a + b + c + d channels)."""

    def __init__(self, cin: int, a: int, b: int, c: int, d: int):
        super().__init__()
        relu = nn.ReLU(inplace=True)
        self.branch1 = nn.Sequential(nn.Conv2d(cin, a, 1), relu)
        self.branches = nn.ModuleList(
            nn.Sequential(nn.Conv2d(cin, n, 1), relu, nn.Conv2d(n, n, 3, padding=dil, dilation=dil), relu)
            for n, dil in ((b, 1), (c, 2), (d, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), *(b(x) for b in self.branches)], 1)


@MODELS.register_module()
class MesoInception4(nn.Module):
    """MesoInception-4 (Afchar et al., WIFS 2018): Meso-4 with its first two convolutions replaced
    by inception modules (1, 4, 4, 2) and (2, 4, 4, 2); 28,615 parameters on 256x256, the paper's count."""

    def __init__(self, input_size: int = 256):
        super().__init__()
        self.features = nn.Sequential(
            InceptionLayer(3, 1, 4, 4, 2), _keras_bn(11), nn.MaxPool2d(2, 2, ceil_mode=True),
            InceptionLayer(11, 2, 4, 4, 2), _keras_bn(12), nn.MaxPool2d(2, 2, ceil_mode=True),
            _ConvReluBnPool(12, 16, 5, 2), _ConvReluBnPool(16, 16, 5, 4))
        self.classifier = _meso_head(16, _pooled(input_size, (2, 2, 2, 4)))
        _keras_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@MODELS.register_module()
def LegacyXception(width: float = 1.0, drop_rate: float = 0.0) -> nn.Module:
    """XceptionNet as FF++ uses it: ImageNet Xception (timm ``legacy_xception``) with one output.

    ``width < 1`` (the cpu size) builds the same topology (entry flow, 8 middle blocks, exit flow,
    36 convolutions, timm's own ``Block`` and ``SeparableConv2d``) with every width scaled, under
    the same module names; ImageNet weights fit only ``width=1``.
    """
    import timm

    if width == 1.0:
        return timm.create_model("legacy_xception", pretrained=False, num_classes=1, drop_rate=drop_rate)
    return NarrowXception(width, drop_rate)


class NarrowXception(nn.Module):
    """Chollet's Xception topology at a fraction of its widths, from timm's Xception building blocks."""

    def __init__(self, width: float, drop_rate: float = 0.0):
        super().__init__()
        from timm.models.xception import Block, SeparableConv2d

        c = {n: max(int(round(n * width)), 1) for n in (32, 64, 128, 256, 728, 1024, 1536, 2048)}
        self.conv1 = nn.Conv2d(3, c[32], 3, 2, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(c[32])
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c[32], c[64], 3, bias=False)
        self.bn2 = nn.BatchNorm2d(c[64])
        self.act2 = nn.ReLU(inplace=True)
        self.block1 = Block(c[64], c[128], 2, 2, start_with_relu=False)
        self.block2 = Block(c[128], c[256], 2, 2)
        self.block3 = Block(c[256], c[728], 2, 2)
        for i in range(4, 12):  # the middle flow: eight identical blocks
            setattr(self, f"block{i}", Block(c[728], c[728], 3, 1))
        self.block12 = Block(c[728], c[1024], 2, 2, grow_first=False)
        self.conv3 = SeparableConv2d(c[1024], c[1536], 3, 1, 1)
        self.bn3 = nn.BatchNorm2d(c[1536])
        self.act3 = nn.ReLU(inplace=True)
        self.conv4 = SeparableConv2d(c[1536], c[2048], 3, 1, 1)
        self.bn4 = nn.BatchNorm2d(c[2048])
        self.act4 = nn.ReLU(inplace=True)
        self.drop = nn.Dropout(drop_rate)
        self.fc = nn.Linear(c[2048], 1)
        for m in self.modules():  # timm's Xception initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act2(self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x))))))
        for i in range(1, 13):
            x = getattr(self, f"block{i}")(x)
        x = self.act3(self.bn3(self.conv3(x)))
        x = self.act4(self.bn4(self.conv4(x)))
        return self.fc(self.drop(x.mean((2, 3))))


class ConstrainedConv2d(nn.Conv2d):
    """Bayar and Stamm's constrained convolution: each filter predicts the centre pixel from its
    neighbours and subtracts it (centre weight -1, the others summing to 1), so the layer outputs
    prediction-error residuals instead of image content.

    The original projects the weights onto the constraint after every update; here the projection
    runs at the start of every forward pass, so the weights that compute are always constrained.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 5):
        super().__init__(in_channels, out_channels, kernel_size, bias=False)

    @torch.no_grad()
    def constrain_(self) -> None:
        w = self.weight
        c = self.kernel_size[0] // 2
        w[:, :, c, c] = 0
        total = w.sum(dim=(2, 3), keepdim=True)
        # Keep the sum's sign away from zero so a filter never divides by ~0 (the original does not guard).
        total = torch.where(total.abs() < 1e-6, torch.full_like(total, 1e-6), total)
        w.div_(total)
        w[:, :, c, c] = -1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.constrain_()
        return super().forward(x)


@MODELS.register_module()
class BayarStamm(nn.Module):
    """Bayar and Stamm (IH&MMSec 2016): on the grey image, a constrained 5x5 convolution (3 filters),
    convolutions of 96 7x7 (stride 2) and 64 5x5 filters with ReLU, each followed by a 3x3 stride-2
    max pool, then two fully connected layers of 4096 units (ReLU, dropout 0.5) and the output."""

    def __init__(self, input_size: int = 227):
        super().__init__()
        self.constrained = ConstrainedConv2d(1, 3, 5)
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 7, stride=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 64, 5), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        size = input_size - 4  # the 5x5 constrained convolution, no padding
        size = ((size - 7) // 2 + 1 - 3) // 2 + 1  # conv 7x7/2, pool 3/2
        size = (size - 4 - 3) // 2 + 1  # conv 5x5, pool 3/2
        if size < 1:
            raise ValueError(f"BayarStamm needs a larger input than {input_size}x{input_size}")
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * size * size, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(4096, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self.constrained(R.luma(x))))


@MODELS.register_module()
class Rahmouni(nn.Module):
    """Rahmouni et al. (WIFS 2017), the "Stats-2L" network of their code: on the green channel, two
    3x3 convolutions (32, 64 filters, ReLU, no pooling), the statistical pooling layer (mean,
    maximum, minimum and variance of every filter's output over the patch), a 1024-unit hidden
    layer (ReLU, dropout 0.35 = their keep probability 0.65) and the output."""

    def __init__(self, filters: tuple[int, ...] = (32, 64)):
        super().__init__()
        layers, cin = [], 1
        for cout in filters:
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(4 * cin, 1024), nn.ReLU(inplace=True), nn.Dropout(0.35),
                                        nn.Linear(1024, 1))

    @staticmethod
    def statistics(x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, 4C): per channel mean, max, min and (biased) variance."""
        flat = x.flatten(2)
        return torch.cat([flat.mean(-1), flat.amax(-1), flat.amin(-1), flat.var(-1, unbiased=False)], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.statistics(self.features(x[:, 1:2])))


@MODELS.register_module()
class Cozzolino(nn.Module):
    """Cozzolino, Poggi and Verdoliva (IH&MMSec 2017): the residual-based local descriptor recast as
    a network and trained end to end.

    On the grey image (0-255): third-order residuals along rows and columns (convolutions
    initialised to the descriptor's [1, -3, 3, -1] filter, then learnt), quantised with step 3
    and truncated to [-2, 2] by a soft (sigmoid) staircase, 4th-order co-occurrences of each
    residual along rows and columns (4 x 625 bins, the histogram as an average pool), standardised,
    and a linear classifier on the 2,500 features.
    """

    def __init__(self, step: float = 3.0, T: int = 2, slope: float = 8.0):
        super().__init__()
        self.step, self.T, self.slope = float(step), int(T), float(slope)
        self.residual_h = nn.Conv2d(1, 1, (1, 4), bias=False)
        self.residual_v = nn.Conv2d(1, 1, (4, 1), bias=False)
        with torch.no_grad():
            self.residual_h.weight.copy_(R.kernel("3rd").float())
            self.residual_v.weight.copy_(R.kernel("3rd", transpose=True).float())
        features = 4 * (2 * self.T + 1) ** 4
        self.norm = nn.BatchNorm1d(features, affine=False)
        self.fc = nn.Linear(features, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        grey = R.luma(x)
        hists = []
        for conv in (self.residual_h, self.residual_v):
            o = R.soft_one_hot(conv(grey) / self.step, self.T, self.slope)
            hists += [R.cooccurrence(o, "h"), R.cooccurrence(o, "v")]
        return torch.cat(hists, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.norm(self.features(x)))


def parameter_count(network: nn.Module) -> int:
    return sum(p.numel() for p in network.parameters())
