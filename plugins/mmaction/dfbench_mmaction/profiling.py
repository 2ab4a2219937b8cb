"""What ``dfbench profile`` measures of an MMAction2 detector: its recognizer as a plain logit network.

A ``Recognizer3D`` takes packed inputs and data samples; :class:`LogitNetwork` keeps exactly the
parts that run on a clip at inference (backbone, neck if any, head) and maps a float batch
``(N, 3, T, H, W)`` to ``N`` logits. The data preprocessor (mean/std normalisation) is left out:
it is elementwise work on the input, not the network. Weights are as the recognizer initialises
them (random, no checkpoint), with the config's memory layout (``ChannelsLast3dHook``), so the
network computes as it does in ``score``.
"""

from __future__ import annotations

import logging

import torch
from mmengine.logging import MMLogger
from torch import nn

from dfbench_mmaction.base import build_model
from dfbench_mmaction.runtime import to_channels_last_3d


class LogitNetwork(nn.Module):
    """A recognizer's backbone, neck and head: a float clip batch to one logit per clip."""

    def __init__(self, recognizer: nn.Module):
        super().__init__()
        self.backbone = recognizer.backbone
        self.neck = recognizer.neck if getattr(recognizer, "with_neck", False) else None
        self.cls_head = recognizer.cls_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.backbone(x)
        if self.neck is not None:
            feats, _ = self.neck(feats)
        return self.cls_head(feats).reshape(len(x))


def inference_network(cfg) -> LogitNetwork:
    """The config's recognizer, initialised as the Runner would, wrapped as a :class:`LogitNetwork`."""
    recognizer = build_model(cfg)
    # init_weights logs every parameter's initialiser at INFO (a Runner sends it to its log file).
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        recognizer.init_weights()
    finally:
        logger.setLevel(level)
    if any(h.get("type") == "ChannelsLast3dHook" for h in cfg.get("custom_hooks", [])):
        to_channels_last_3d(recognizer)
    return LogitNetwork(recognizer).eval()
