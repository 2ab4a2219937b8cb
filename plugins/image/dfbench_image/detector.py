"""A frame CNN as a dfbench detector: the MMEngine base's recipe with what is image-specific.

:class:`FrameCNNDetector` is :class:`dfbench_mmaction.base.MMEngineDetector` (validation AUC
checkpoint choice, weighted loss, trunk scoring, precision, launchers, options) for the
``dfbench_image`` configs. What it adds: training on the protocol's frames per training video
(the same frames every epoch, :mod:`dfbench_image.frames`), scoring every frame of each trunk (or
``--set frames_per_trunk=N`` of them), the network's input size against the crop size, and FF++'s
head-only warm-up when starting from ImageNet weights.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from mmengine.config import Config
from torch import nn

from dfbench.detector import FitConfig, Option
from dfbench.errors import DfbenchError
from dfbench_image.configs import SCOPE, load_config
from dfbench_mmaction.base import OPTIONS, MMEngineDetector, build_model

HEAD_WARMUP_EPOCHS = 3  # FF++: "pre-train the network for 3 epochs" with only the new layer trainable


class InferenceNetwork(nn.Module):
    """What ``dfbench profile`` measures: a classifier's test path (views, network), frames to logits."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        views = self.classifier.test_views(x)
        if len(views) == 1:
            return self.classifier.network(views[0]).reshape(-1)
        return torch.logit(self.classifier.probabilities(x), eps=1e-6)


class WholeCropNetwork(nn.Module):
    """A classifier's network on the whole face crop (resized to its input side if larger): what Grad-CAM
    explains, so that every heatmap pixel lies on the crop it is drawn over."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.classifier.input_size
        if x.shape[-1] != k:
            x = torch.nn.functional.interpolate(x, size=(k, k), mode="bilinear", align_corners=False)
        return self.classifier.network(x).reshape(-1)


class FrameCNNDetector(MMEngineDetector):
    """One image baseline CNN at one size."""

    scope = SCOPE
    pretrained_loader = "dfbench_image.pretrained.load_imagenet"
    options: Mapping[str, Option] = {
        **OPTIONS, "frames_per_trunk": Option(int, "score this many evenly spaced frames of each trunk, not all")}

    def load_config(self) -> Config:
        return load_config(self.name, self.size)

    def set_class_weights(self, cfg: Config, weights: list[float] | None) -> None:
        """The FrameClassifier's weighted BCE takes them."""
        cfg.model.class_weight = weights

    def apply(self, cfg: Config, config: FitConfig) -> None:
        """Crop size, the protocol's training frames, the trunks scored, and FF++'s pretrained warm-up."""
        if config.crop_size < cfg.model.input_size:
            raise DfbenchError(f"{self.name} ({self.size}) sees {cfg.model.input_size}x{cfg.model.input_size} "
                               f"inputs; crops of {config.crop_size} are too small")
        for split in ("train", "val"):
            cfg[f"{split}_dataloader"].dataset.update(crop_size=config.crop_size)
        cfg.train_dataloader.dataset.update(frames_per_video=config.frames_per_video, seed=int(config.seed))
        cfg.val_dataloader.dataset.update(trunk_len=config.trunk_len,
                                          frames_per_trunk=config.options.get("frames_per_trunk"))
        if not config.pretrained:
            return
        if cfg.model.network.get("width", 1.0) != 1.0:
            raise DfbenchError(f"{self.name} at size {self.size} is width-reduced; ImageNet weights fit only "
                               "--size paper; leave --pretrained out or run at the paper size")
        warmup = min(HEAD_WARMUP_EPOCHS, cfg.train_cfg.max_epochs - 1)
        if warmup > 0:
            cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type="HeadWarmupHook", epochs=warmup)]
            # Frozen parameters get no gradient in the warm-up epochs; DDP must be told to expect that.
            cfg.model_wrapper_cfg = dict(type="MMDistributedDataParallel", find_unused_parameters=True)

    def fit_details(self, runner, config: FitConfig) -> dict:
        return dict(frames_per_video=config.frames_per_video, train_frames=len(runner.train_dataloader.dataset))

    def logit_network(self, model: nn.Module) -> tuple[nn.Module, nn.Module]:
        """For Grad-CAM: normalised face crops -> logits, the whole crop seen (resized to the network's input
        when the crop is larger), and the network whose last conv layer is explained."""
        return WholeCropNetwork(model), model.network

    def inference_network(self) -> nn.Module:
        """The network at this size with random weights, (N, 3, S, S) normalised frames to N logits."""
        return InferenceNetwork(build_model(load_config(self.name, self.size), SCOPE)).eval()
