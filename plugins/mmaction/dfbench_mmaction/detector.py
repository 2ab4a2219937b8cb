"""Video detectors on MMAction2: an MMAction2 recognizer trained and scored by the MMEngine base.

:class:`MMActionDetector` is :class:`~dfbench_mmaction.base.MMEngineDetector` for clip detectors
in the ``mmaction`` scope. Its config is either a file (the built-in detectors:
``configs/<name>_<size>.py``, each with its ``_base_`` chain) or a model given in code (MMAction2's
model zoo, an outside plugin), which trains with the built-in detectors' recipe for its size
(``configs/_recipe_/<size>.py``: the face-crop data pipeline, the schedule, the runtime).
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from mmengine.config import Config

from dfbench.detector import DetectorMeta, FitConfig, Option
from dfbench.errors import DfbenchError
from dfbench_mmaction.base import OPTIONS, MMEngineDetector, build_model

__all__ = ["MMActionDetector", "build_model", "config_path", "load_config", "recipe"]

CONFIG_DIR = Path(__file__).parent / "configs"
RECIPE_DIR = CONFIG_DIR / "_recipe_"
TRUNK_INPUTS = ("whole", "clips")


def config_path(name: str, size: str) -> Path:
    """The config file of a built-in detector at a size: ``configs/<name>_<size>.py``."""
    return CONFIG_DIR / f"{name}_{size}.py"


def load_config(name: str, size: str) -> Config:
    """A built-in detector's MMEngine config, read with its ``_base_`` chain (imports its custom modules)."""
    path = config_path(name, size)
    if not path.is_file():
        raise DfbenchError(f"{path}: no config for detector {name!r} at size {size!r}")
    return Config.fromfile(str(path))


def recipe(size: str, model: dict, input_format: str = "NCTHW", trunk_input: str = "whole") -> Config:
    """The built-in detectors' recipe at ``size`` around ``model`` (an MMAction2 recognizer config).

    ``input_format`` is what the recognizer takes (``NCTHW`` for 3D, ``NCHW`` for 2D recognizers);
    ``trunk_input`` how a test trunk is fed: ``whole`` (one input: a network fully convolutional in
    time) or ``clips`` (consecutive clips of the training length, their scores averaged).
    """
    if trunk_input not in TRUNK_INPUTS:
        raise ValueError(f"trunk_input must be one of {TRUNK_INPUTS}, got {trunk_input!r}")
    cfg = Config.fromfile(str(RECIPE_DIR / f"{size}.py"))
    cfg.model = copy.deepcopy(model)
    for split in ("train", "val"):
        for step in cfg[f"{split}_dataloader"].dataset.pipeline:
            if step.type == "FormatShape":
                step.input_format = input_format
    cfg.val_dataloader.dataset.trunk_input = trunk_input
    return cfg


class MMActionDetector(MMEngineDetector):
    """An MMAction2 recognizer at one size, trained and scored through MMEngine.

    Args:
        meta: the detector's metadata (its ``sizes`` give clip length and crop size).
        size: ``paper`` or ``cpu``.
        model: an MMAction2 recognizer config (dict) to train with the recipe of the built-in
            detectors; None: the built-in config file ``configs/<meta.name>_<size>.py``.
        input_format, trunk_input: see :func:`recipe` (only with ``model``).
    """

    scope = "mmaction"
    pretrained_loader = "dfbench_mmaction.pretrained.load_pretrained"
    options = {**OPTIONS, "clips_per_video": Option(int, "random training clips drawn from each video per epoch "
                                                        "(default: the config's; 1 in the built-in ones)")}

    def __init__(self, meta: DetectorMeta, size: str, model: dict | None = None, input_format: str = "NCTHW",
                 trunk_input: str = "whole"):
        super().__init__(meta, size)
        self.model, self.input_format, self.trunk_input = model, input_format, trunk_input
        self.config_file = None if model is not None else config_path(meta.name, size)

    def load_config(self) -> Config:
        if self.model is not None:
            return recipe(self.size, self.model, self.input_format, self.trunk_input)
        return load_config(self.name, self.size)

    def set_class_weights(self, cfg: Config, weights: list[float] | None) -> None:
        """The one-neuron head's loss (ClassWeightedBCELoss) takes them."""
        if cfg.model.cls_head.get("loss_cls") is None:
            cfg.model.cls_head.loss_cls = dict(type="ClassWeightedBCELoss")
        cfg.model.cls_head.loss_cls.class_weight = weights

    def apply(self, cfg: Config, config: FitConfig) -> None:
        """The core's clip length, crop size and trunk length, for training and validation alike."""
        for split in ("train", "val"):
            cfg[f"{split}_dataloader"].dataset.update(clip_len=config.clip_len, crop_size=config.crop_size,
                                                      trunk_len=config.trunk_len)
        if "clips_per_video" in config.options:
            cfg.train_dataloader.dataset.clips_per_video = int(config.options["clips_per_video"])

    def fit_details(self, runner, config: FitConfig) -> dict:
        """Which config trained: the built-in file's name, or the recognizer type of a model given in code."""
        return {"config": self.config_file.name} if self.config_file else {"model": self.model.get("type")}

    def logit_network(self, model: torch.nn.Module) -> tuple[torch.nn.Module, torch.nn.Module]:
        """For Grad-CAM: the recognizer's backbone, neck and head (clips to logits) and its backbone."""
        if self.input_format != "NCTHW":
            raise DfbenchError(f"{self.name} takes {self.input_format} inputs (a 2D recognizer): dfbench explain "
                               "explains clip networks (NCTHW) and frame networks only")
        from dfbench_mmaction.profiling import LogitNetwork

        return LogitNetwork(model), model.backbone

    def inference_network(self) -> torch.nn.Module:
        """Backbone + head as one module, clips to logits, random weights (dfbench.detector.Profilable)."""
        from dfbench_mmaction.profiling import inference_network

        return inference_network(self.load_config())

    def predict(self, model, batch, device: str, dtype: torch.dtype | None):
        """``model.test_step``; under autocast the backbone runs in bf16/fp16 and the one-neuron head in
        fp32: a bf16 sigmoid would round every probability above 0.996 to 1.0 and tie the videos a
        detector is sure of."""
        if dtype is None:
            return model.test_step(batch)
        data = model.data_preprocessor(batch, False)
        with torch.autocast(device_type=device, dtype=dtype):
            feats, predict_kwargs = model.extract_feat(data["inputs"], test_mode=True)
        feats = feats.float() if torch.is_tensor(feats) else type(feats)(f.float() for f in feats)
        return model.cls_head.predict(feats, data["data_samples"], **predict_kwargs)

