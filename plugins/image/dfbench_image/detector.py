"""A frame CNN as a dfbench :class:`~dfbench.detector.Detector`, trained by MMEngine's Runner.

``fit`` trains on the protocol's frames per training video (every epoch the same frames, see
:mod:`dfbench_image.frames`), validates every epoch on the video AUC of the validation split and
keeps the best checkpoint; ``score`` reloads it and scores each video as the mean over its
trunks of the mean frame probability. What the core decides (work_dir, seed, epochs, class
weights, frames per video, trunk length, launcher, pretrained weights, precision) overrides
:mod:`dfbench_image.configs`.

``FitConfig.extra`` keys understood here:

* ``num_workers`` (int): dataloader workers (0 by default, see configs).
* ``log_level`` (str): MMEngine's log level, ``"INFO"`` by default.
* ``resume`` (bool): continue from the latest checkpoint in ``work_dir`` (``epochs`` is the total).
* ``batch_size`` (int): training frames per step (per GPU).
* ``frames_per_trunk`` (int): score this many evenly spaced frames of each trunk instead of all.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.model import is_model_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader

from dfbench.checkpoints import FIT_REPORT, load_run_checkpoint, mmengine_checkpoint_policy, recorded_best_checkpoint
from dfbench.detector import FitConfig, VideoRef
from dfbench.errors import DfbenchError
from dfbench.results import write_atomic
from dfbench_image.configs import SCOPE, load_config
from dfbench_image.data import write_annotations
from dfbench_image.frames import video_scores
from dfbench_image.hooks import HISTORY_KEY
from dfbench_image.metrics import records

REPORT = FIT_REPORT  # the fit report, read back by score
HEAD_WARMUP_EPOCHS = 3  # FF++: "pre-train the network for 3 epochs" with only the new layer trainable
AMP_DTYPES = {"bf16": "bfloat16", "fp16": "float16"}


def build_model(cfg: Config) -> nn.Module:
    """The config's FrameClassifier, built in the dfbench_image scope (weights as constructed)."""
    init_default_scope(cfg.get("default_scope", SCOPE))
    from dfbench_image.registry import MODELS

    return MODELS.build(copy.deepcopy(cfg.model))


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


class FrameCNNDetector:
    """One image baseline CNN at one size."""

    def __init__(self, name: str, size: str):
        from dfbench_image.plugin import meta

        self.name, self.size = name, size
        self.meta = meta(name)
        if size not in self.meta.sizes:
            raise DfbenchError(f"detector {name} has no size {size!r}")
        self.spec = self.meta.sizes[size]

    # --- dfbench.detector.Profilable -----------------------------------------------------------------

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (3, self.spec.crop_size, self.spec.crop_size)

    def inference_network(self) -> nn.Module:
        """The network at this size with random weights, (N, 3, S, S) normalised frames to N logits."""
        return InferenceNetwork(build_model(load_config(self.name, self.size))).eval()

    # --- configuration -----------------------------------------------------------------------------

    def config(self, config: FitConfig) -> Config:
        """The detector's config with the run's decisions applied (what ``fit`` hands the Runner)."""
        if config.size != self.size:
            raise DfbenchError(f"{self.name}: built for size {self.size!r}, asked to run at {config.size!r}")
        cfg = load_config(self.name, self.size)
        work_dir = Path(config.work_dir).resolve()
        extra = dict(config.extra or {})
        cfg.work_dir = str(work_dir)
        # MMEngine keys its logger and visualizer instances by experiment name: keep each run's own.
        cfg.experiment_name = f"{self.name}_{self.size}_{time.strftime('%Y%m%d_%H%M%S')}_{uuid.uuid4().hex[:6]}"
        cfg.launcher = config.launcher
        cfg.randomness = dict(cfg.get("randomness", {}), seed=int(config.seed))
        cfg.log_level = extra.get("log_level", cfg.get("log_level", "INFO"))
        cfg.resume = bool(extra.get("resume", False))
        if config.epochs is not None:
            cfg.train_cfg.max_epochs = int(config.epochs)
        cfg.model.class_weight = None if config.class_weights is None else [float(w) for w in config.class_weights]
        if config.crop_size < cfg.model.input_size:
            raise DfbenchError(f"{self.name} ({self.size}) sees {cfg.model.input_size}x{cfg.model.input_size} "
                               f"inputs; crops of {config.crop_size} are too small")
        for split in ("train", "val"):
            loader = cfg[f"{split}_dataloader"]
            loader.dataset.update(ann_file=str(work_dir / "data" / f"{split}.json"), crop_size=config.crop_size)
            if "num_workers" in extra:
                loader.num_workers = int(extra["num_workers"])
                loader.persistent_workers = loader.num_workers > 0
        cfg.train_dataloader.dataset.update(frames_per_video=config.frames_per_video, seed=int(config.seed))
        cfg.val_dataloader.dataset.update(trunk_len=config.trunk_len, frames_per_trunk=extra.get("frames_per_trunk"))
        if "batch_size" in extra:
            cfg.train_dataloader.batch_size = int(extra["batch_size"])
        self._apply_pretrained(cfg, config)
        self._apply_precision(cfg, config)
        return cfg

    def _apply_pretrained(self, cfg: Config, config: FitConfig) -> None:
        if not config.pretrained:
            return
        if not self.meta.pretrainable:
            raise DfbenchError(f"{self.name} is trained from scratch in the paper it comes from; "
                               "leave --pretrained out")
        if cfg.model.network.get("width", 1.0) != 1.0:
            raise DfbenchError(f"{self.name} at size {self.size} is width-reduced; ImageNet weights fit only "
                               "--size paper; leave --pretrained out or run at the paper size")
        cfg.model.pretrained = str(config.pretrained)
        known = self.meta.checkpoint
        cfg.model.pretrained_sha256 = (config.extra or {}).get("pretrained_sha256") or (
            known.sha256 if known and known.source == str(config.pretrained) else None)
        warmup = min(HEAD_WARMUP_EPOCHS, cfg.train_cfg.max_epochs - 1)
        if warmup > 0:
            cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type="HeadWarmupHook", epochs=warmup)]
            # Frozen parameters get no gradient in the warm-up epochs; DDP must be told to expect that.
            cfg.model_wrapper_cfg = dict(type="MMDistributedDataParallel", find_unused_parameters=True)

    @staticmethod
    def _apply_precision(cfg: Config, config: FitConfig) -> None:
        if config.precision == "fp32":
            return
        if config.precision not in AMP_DTYPES:
            raise DfbenchError(f"unknown precision {config.precision!r}; use fp32, bf16 or fp16")
        if not torch.cuda.is_available():
            raise DfbenchError(f"precision {config.precision} needs a CUDA device (MMEngine's AMP); use fp32 on CPU")
        cfg.optim_wrapper = dict(cfg.optim_wrapper, type="AmpOptimWrapper", dtype=AMP_DTYPES[config.precision])

    def check(self, config: FitConfig) -> None:
        """Refuse settings this detector cannot run (size, precision, weights), before any work."""
        self.config(config)

    def resolved_config(self) -> dict:
        """The config file as resolved through its ``_base_`` chain; its hash enters the run's settings."""
        return load_config(self.name, self.size).to_dict()

    # --- training and scoring ----------------------------------------------------------------------

    def fit(self, train: Sequence[VideoRef], val: Sequence[VideoRef], config: FitConfig) -> dict:
        """Train on ``train``; keep the checkpoint with the best video AUC on ``val`` (never test)."""
        if not train:
            raise DfbenchError(f"{self.name}: no training videos")
        if len({v.label for v in val}) < 2:
            raise DfbenchError(f"{self.name}: the validation split needs real and fake videos to choose a "
                               "checkpoint by AUC; check the protocol's val split")
        cfg = self.config(config)
        work_dir = Path(cfg.work_dir)
        write_annotations(train, cfg.train_dataloader.dataset.ann_file)
        write_annotations(val, cfg.val_dataloader.dataset.ann_file)
        with mmengine_checkpoint_policy(work_dir):
            runner = Runner.from_cfg(cfg)
            start = time.perf_counter()
            runner.train()
            seconds = time.perf_counter() - start
        hub = runner.message_hub
        history = [{k.removeprefix("video/"): v for k, v in h.items()} for h in hub.get_info(HISTORY_KEY, [])]
        best_ckpt = hub.get_info("best_ckpt")
        if best_ckpt is None or not history:
            raise DfbenchError(f"{self.name}: training kept no best checkpoint (no validation ran?)")
        best = max(history, key=lambda h: h["auc"])  # the first maximum, as CheckpointHook keeps it
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        report = dict(
            detector=self.name, size=self.size, seed=int(config.seed), epochs=int(runner.train_loop.epoch),
            best_epoch=int(best["epoch"]), best_val_auc=float(hub.get_info("best_score")),
            best_checkpoint=str(best_ckpt), selected_on="val", train_seconds=round(seconds, 3),
            parameters=sum(p.numel() for p in model.network.parameters()),
            frames_per_video=config.frames_per_video, train_frames=len(runner.train_dataloader.dataset),
            pretrained=model.pretrained_report, val_history=history,
        )
        if runner.rank == 0:
            write_atomic(work_dir / REPORT, json.dumps(report, indent=2))
        return report

    def best_checkpoint(self, work_dir: Path) -> Path:
        """The best checkpoint ``fit`` recorded in ``work_dir``."""
        return recorded_best_checkpoint(work_dir)

    def score(self, videos: Sequence[VideoRef], config: FitConfig) -> list[float]:
        """Each video's score: the mean over its trunks of the mean frame probability, best checkpoint."""
        if not videos:
            return []
        cfg = self.config(config)
        work_dir = Path(cfg.work_dir)
        checkpoint = load_run_checkpoint(self.best_checkpoint(work_dir), work_dir)
        cfg.model.pretrained = None  # the trained weights come from the checkpoint
        model = build_model(cfg)
        model.load_state_dict(checkpoint["state_dict"])
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model.to(device).eval()

        from dfbench_image.registry import DATASETS

        dataset_cfg = copy.deepcopy(cfg.val_dataloader.dataset)  # every scored frame of every trunk
        dataset_cfg.ann_file = str(write_annotations(videos, work_dir / "data" / "score.json"))
        dataset = DATASETS.build(dataset_cfg)
        loader = DataLoader(dataset, batch_size=cfg.val_dataloader.batch_size, shuffle=False,
                            collate_fn=default_collate, num_workers=cfg.val_dataloader.num_workers)
        dtype = getattr(torch, AMP_DTYPES[config.precision]) if config.precision in AMP_DTYPES else None
        out = []
        with torch.no_grad(), torch.autocast(device, dtype=dtype, enabled=dtype is not None):
            for batch in loader:
                out.extend(records(model.test_step(batch)))
        per_video = video_scores(out)
        return [per_video[i][0] for i in range(len(videos))]
