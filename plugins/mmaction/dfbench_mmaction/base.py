"""The MMEngine detector base: the one recipe by which every MMEngine-based dfbench detector trains and scores.

:class:`MMEngineDetector` turns an MMEngine config into a :class:`dfbench.detector.Detector`.
``fit`` runs MMEngine's ``Runner`` (validation every epoch, the checkpoint with the best
*validation* video AUC kept, saved atomically); ``score`` loads that checkpoint from the
:class:`~dfbench.detector.FitReport` and scores each video as the mean over its trunks. What the
core decides (work dir, seed, epochs, class weights, clip and trunk length, launcher, precision,
pretrained weights, ``--set`` options) overrides the config; everything else comes from it.

The built-in video detectors (:class:`dfbench_mmaction.detector.MMActionDetector`), MMAction2's
model zoo (``--detector mmaction2:<config>``), the image baselines' CNNs (``dfbench_image``) and
outside plugins all subclass it; a subclass says only what is its own:

* :meth:`load_config`: its MMEngine config at its size (default scope, model, data, schedule);
* :meth:`set_class_weights`: where its loss takes the ``(real, fake)`` weights;
* :meth:`apply` (optional): other run decisions its data pipeline needs (clip length, crop size);
* :meth:`predict` (optional): one scoring forward pass, if ``model.test_step`` is not it.

Options (``dfbench run --set KEY=VALUE``; :data:`OPTIONS`): ``batch_size`` (training inputs per
step and GPU), ``lr`` and ``weight_decay`` (the optimiser's), ``num_workers`` (dataloader workers;
0 on CPU by default, where worker processes only compete with torch's threads), ``resume``
(continue from the latest checkpoint in the work dir; ``--epochs`` is then the total to reach).
"""

from __future__ import annotations

import copy
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.dist import barrier
from mmengine.registry import DATASETS, FUNCTIONS, MODELS, init_default_scope
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader

from dfbench.checkpoints import load_run_checkpoint
from dfbench.detector import DetectorMeta, ExplainTarget, FitConfig, FitReport, LoadedWeights, Option, VideoRef
from dfbench.errors import DfbenchError
from dfbench_mmaction.checkpoints import ATOMIC_BACKEND, mmengine_checkpoint_policy
from dfbench_mmaction.data import write_annotations
from dfbench_mmaction.metrics import sample_record, video_scores
from dfbench_mmaction.runtime import (
    HISTORY_KEY,
    PRETRAINED_KEY,
    ValHistoryHook,
    autocast_dtype,
    init_cpu_process_group,
    to_channels_last_3d,
    unwrap,
)

OPTIONS: dict[str, Option] = {
    "batch_size": Option(int, "training inputs per step (per GPU)"),
    "lr": Option(float, "the optimiser's learning rate"),
    "weight_decay": Option(float, "the optimiser's weight decay"),
    "num_workers": Option(int, "dataloader worker processes (0: load in the training process)"),
    "resume": Option(bool, "continue from the latest checkpoint in the work dir (--epochs: the total)"),
}
# The recipe's checkpoint choice: every epoch validated, the best video AUC kept (and the last, to resume).
CHECKPOINT_HOOK = dict(type="CheckpointHook", interval=1, max_keep_ckpts=1, save_last=True, save_best="video/auc",
                       rule="greater", backend_args=dict(backend=ATOMIC_BACKEND))


def build_model(cfg: Config, scope: str = "mmengine") -> nn.Module:
    """The config's model, built in the config's scope (weights as constructed; the Runner initialises them)."""
    init_default_scope(cfg.get("default_scope", scope))
    return MODELS.build(copy.deepcopy(cfg.model))


class MMEngineDetector:
    """A dfbench detector trained and scored by MMEngine's Runner (see the module docstring)."""

    scope = "mmengine"  # the registry scope the config's types are looked up in
    pretrained_loader = "dfbench_mmaction.pretrained.load_pretrained"  # PretrainedWeightsHook's loader
    options: Mapping[str, Option] = OPTIONS

    def __init__(self, meta: DetectorMeta, size: str):
        if size not in meta.sizes:
            raise DfbenchError(f"detector {meta.name} has no size {size!r}; it has {', '.join(meta.sizes)}")
        self.meta, self.size, self.name = meta, size, meta.name
        self.spec = meta.sizes[size]

    # --- what a subclass provides ------------------------------------------------------------------

    def load_config(self) -> Config:
        """The detector's MMEngine config at its size, before the run's decisions are applied."""
        raise NotImplementedError(f"{type(self).__name__} must say which config it trains (load_config)")

    def set_class_weights(self, cfg: Config, weights: list[float] | None) -> None:
        """Put the ``(real, fake)`` loss weights (None: unweighted) where the config's loss takes them."""
        raise NotImplementedError(f"{type(self).__name__} must say where its loss takes class weights")

    def apply(self, cfg: Config, config: FitConfig) -> None:
        """Apply the run's other decisions the config's data pipeline needs (none by default)."""

    def predict(self, model: nn.Module, batch, device: str, dtype: torch.dtype | None) -> Sequence:
        """One scoring forward pass: ``model.test_step`` (under autocast for bf16/fp16)."""
        with torch.autocast(device, dtype=dtype, enabled=dtype is not None):
            return model.test_step(batch)

    # --- dfbench.detector.Profilable ---------------------------------------------------------------

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One input as ``dfbench profile`` feeds it: (3, T, S, S) for a clip detector, (3, S, S) for a frame one."""
        s = self.spec
        return (3, s.crop_size, s.crop_size) if self.meta.input_kind == "frame" else (3, s.clip_len, s.crop_size,
                                                                                     s.crop_size)

    # --- configuration -----------------------------------------------------------------------------

    def build_model(self, cfg: Config) -> nn.Module:
        """The config's model (:func:`build_model` in this detector's scope)."""
        return build_model(cfg, self.scope)

    def config(self, config: FitConfig) -> Config:
        """The config with the run's decisions applied (what ``fit`` hands the Runner)."""
        if config.size != self.size:
            raise DfbenchError(f"{self.name}: built for size {self.size!r}, asked to run at {config.size!r}")
        unknown = sorted(set(config.options) - set(self.options))
        if unknown:
            raise DfbenchError(f"{self.name}: no option {unknown[0]!r}; it takes {', '.join(sorted(self.options))}")
        opts = dict(config.options)
        cfg = self.load_config()
        work_dir = Path(config.work_dir).resolve()
        cfg.work_dir = str(work_dir)
        # MMEngine keys its logger and visualizer instances by experiment name: keep each run's own.
        safe = self.name.replace(":", "_").replace("/", "_")
        cfg.experiment_name = f"{safe}_{self.size}_{time.strftime('%Y%m%d_%H%M%S')}_{uuid.uuid4().hex[:6]}"
        cfg.launcher = config.launcher
        cfg.randomness = dict(cfg.get("randomness", {}), seed=int(config.seed))
        cfg.log_level = config.log_level
        cfg.resume = bool(opts.get("resume", False))
        if config.epochs is not None:
            cfg.train_cfg.max_epochs = int(config.epochs)
        self.set_class_weights(cfg, None if config.class_weights is None else [float(w) for w in config.class_weights])
        for split in ("train", "val"):
            loader = cfg[f"{split}_dataloader"]
            loader.dataset.ann_file = str(work_dir / "data" / f"{split}.json")
            if "num_workers" in opts:
                loader.num_workers = int(opts["num_workers"])
                loader.persistent_workers = loader.num_workers > 0
        if "batch_size" in opts:
            cfg.train_dataloader.batch_size = int(opts["batch_size"])
        for key in ("lr", "weight_decay"):
            if key in opts:
                cfg.optim_wrapper.optimizer[key] = float(opts[key])
        cfg.default_hooks.checkpoint = dict(cfg.default_hooks.get("checkpoint", {}), **CHECKPOINT_HOOK)
        cfg.val_evaluator = dict(type="VideoAUCMetric")
        hooks = list(cfg.get("custom_hooks", []))
        if not any(h.get("type") == "ValHistoryHook" for h in hooks):
            hooks.append(dict(type="ValHistoryHook"))
        if config.pretrained:
            if not self.meta.pretrainable:
                raise DfbenchError(f"{self.name} is trained from scratch by definition; leave --pretrained out")
            known = self.meta.checkpoint
            sha256 = config.pretrained_sha256 or (known.sha256 if known and known.source == config.pretrained else None)
            hooks.append(dict(type="PretrainedWeightsHook", source=str(config.pretrained), sha256=sha256,
                              loader=self.pretrained_loader))
        cfg.custom_hooks = hooks
        self.apply(cfg, config)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = autocast_dtype(config.precision, device)
        if dtype is not None:  # the optimiser wrapper's optim_context runs each training forward under autocast
            cfg.optim_wrapper.type = "AmpOptimWrapper" if device == "cuda" else "CpuAmpOptimWrapper"
            cfg.optim_wrapper.dtype = str(dtype).removeprefix("torch.")
        if config.launcher != "none" and device == "cpu":
            if config.launcher != "pytorch":
                raise DfbenchError(f"--launcher {config.launcher} needs CUDA GPUs here; on CPU-only nodes start "
                                   "the processes with torchrun and --launcher pytorch (docs/install.md)")
            cfg.env_cfg.dist_cfg.backend = "gloo"
            wrapper = dict(cfg.get("model_wrapper_cfg") or {})
            cfg.model_wrapper_cfg = dict(
                type="CpuDistributedDataParallel",
                find_unused_parameters=wrapper.get("find_unused_parameters", cfg.get("find_unused_parameters", False)),
                channels_last_3d=self._channels_last(cfg))
        return cfg

    def check(self, config: FitConfig) -> None:
        """Refuse settings this detector cannot run (size, precision, weights, options), before any work."""
        self.config(config)

    def resolved_config(self) -> dict:
        """The detector's config, resolved through its ``_base_`` chain; its hash enters the run's settings."""
        return self.load_config().to_dict()

    @staticmethod
    def _channels_last(cfg: Config) -> bool:
        return any(h.get("type") == "ChannelsLast3dHook" for h in cfg.get("custom_hooks", []))

    # --- training and scoring ----------------------------------------------------------------------

    def fit(self, train: Sequence[VideoRef], val: Sequence[VideoRef], config: FitConfig) -> FitReport:
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
        if cfg.launcher == "pytorch" and cfg.env_cfg.dist_cfg.backend == "gloo":
            init_cpu_process_group(cfg.env_cfg.dist_cfg.get("timeout"))
        with mmengine_checkpoint_policy(work_dir):
            runner = Runner.from_cfg(cfg)
            for hook in runner.hooks:
                if isinstance(hook, ValHistoryHook):
                    hook.progress = config.progress
            start = time.perf_counter()
            runner.train()
            seconds = time.perf_counter() - start
        hub = runner.message_hub
        history = [{k.removeprefix("video/"): v for k, v in h.items()} for h in hub.get_info(HISTORY_KEY, [])]
        best_ckpt = hub.get_info("best_ckpt")
        if best_ckpt is None or not history:
            raise DfbenchError(f"{self.name}: training kept no best checkpoint (no validation ran?)")
        best = max(history, key=lambda h: h["auc"])  # the first maximum, as CheckpointHook keeps it
        loaded = hub.get_info(PRETRAINED_KEY)
        if runner.world_size > 1:
            print(f"  rank {runner.rank}/{runner.world_size}: trained {runner.iter} iterations "
                  f"({runner.train_loop.epoch} epochs)", file=sys.stderr, flush=True)
        barrier()  # rank 0 writes the checkpoints: every rank's score() reads them
        return FitReport(
            best_checkpoint=Path(best_ckpt), epochs=int(runner.train_loop.epoch), best_epoch=int(best["epoch"]),
            best_val_auc=float(hub.get_info("best_score")), history=history,
            pretrained=None if loaded is None else LoadedWeights(
                loaded["source"], loaded["sha256"], {k: v for k, v in loaded.items() if k not in ("source", "sha256")}),
            parameters=sum(p.numel() for p in unwrap(runner.model).parameters()), train_seconds=round(seconds, 3),
            details=dict(self.fit_details(runner, config), precision=config.precision,
                         optim_wrapper=type(runner.optim_wrapper).__name__, world_size=int(runner.world_size),
                         autocast_dtype=str(getattr(runner.optim_wrapper, "cast_dtype", None) or "none")
                         .removeprefix("torch.")),
        )

    def fit_details(self, runner: Runner, config: FitConfig) -> dict:
        """Detector-specific facts for the fit report's ``details`` (none by default)."""
        return {}

    def score(self, videos: Sequence[VideoRef], config: FitConfig, fit: FitReport) -> list[float]:
        """Each video's score: the mean over its trunks of the trunk's fake probability, with the model
        ``fit`` reported (its best checkpoint)."""
        if not videos:
            return []
        cfg = self.config(config)
        work_dir = Path(cfg.work_dir)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = self.trained_model(cfg, fit).to(device)
        if self._channels_last(cfg):
            to_channels_last_3d(model)
        loader_cfg = cfg.val_dataloader  # trunks, no augmentation
        dataset_cfg = copy.deepcopy(loader_cfg.dataset)
        dataset_cfg.ann_file = str(write_annotations(videos, work_dir / "data" / "score.json"))
        dataset = DATASETS.build(dataset_cfg)
        collate = FUNCTIONS.get((loader_cfg.get("collate_fn") or {}).get("type", "pseudo_collate"))
        loader = DataLoader(dataset, batch_size=loader_cfg.batch_size, shuffle=False, collate_fn=collate,
                            num_workers=loader_cfg.get("num_workers", 0))
        dtype = autocast_dtype(config.precision, device)
        records = []
        with torch.no_grad():
            for batch in loader:
                records.extend(sample_record(s) for s in self.predict(model, batch, device, dtype))
        per_video = video_scores(records)
        return [per_video[i][0] for i in range(len(videos))]

    def trained_model(self, cfg: Config, fit: FitReport) -> nn.Module:
        """The config's model with the weights of the fit report's best checkpoint, in eval mode, on the CPU."""
        path = fit.best_checkpoint
        if path is None or not Path(path).is_file():
            raise DfbenchError(f"{self.name}: the best checkpoint of the fit report ({path}) is missing; run fit "
                               "again with this work dir")
        checkpoint = load_run_checkpoint(path, Path(cfg.work_dir))
        model = self.build_model(cfg)
        model.load_state_dict(checkpoint["state_dict"])
        return model.eval()

    # --- dfbench.detector.Explainable ----------------------------------------------------------------

    def logit_network(self, model: nn.Module) -> tuple[nn.Module, nn.Module]:
        """(the trained model as a network from normalised inputs to logits, the part holding its
        convolutional stages); a subclass that can be explained says how."""
        raise DfbenchError(f"{self.name} cannot be explained: its plugin gives no logit network (logit_network)")

    def explain_target(self, config: FitConfig, fit: FitReport) -> ExplainTarget:
        """The trained network from raw crops to the fake logit, and its last convolutional stage (Grad-CAM's layer)."""
        cfg = self.config(config)
        model = self.trained_model(cfg, fit)
        network, features = self.logit_network(model)
        name, layer = last_conv_stage(features)
        wrapped = RawCropsNetwork(network, model.data_preprocessor).eval()
        return ExplainTarget(wrapped, layer, name, self.meta.input_kind, int(config.clip_len))


def last_conv_stage(features: nn.Module) -> tuple[str, nn.Module]:
    """The last child of ``features`` (in registration order) that holds a convolution: a 3D CNN's last
    residual stage (``layer4``), an Inception's last mixed block, an image CNN's last conv layer."""
    for name, child in reversed(list(features.named_children())):
        if any(isinstance(m, nn.modules.conv._ConvNd) for m in child.modules()):
            return name, child
    raise DfbenchError(f"{type(features).__name__} has no convolutional stage to explain")


class RawCropsNetwork(nn.Module):
    """Crops as the cache stores them (RGB, 0..255) -> the data preprocessor's normalisation -> ``(N, 1)`` logits."""

    def __init__(self, network: nn.Module, preprocessor: nn.Module):
        super().__init__()
        self.network = network
        mean, std = getattr(preprocessor, "mean", None), getattr(preprocessor, "std", None)
        self.register_buffer("mean", None if mean is None else mean.detach().clone().float(), persistent=False)
        self.register_buffer("std", None if std is None else std.detach().clone().float(), persistent=False)
        self.flip = bool(getattr(preprocessor, "_channel_conversion", False) or getattr(preprocessor, "to_rgb", False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.flip:
            x = x[:, [2, 1, 0]]
        if self.mean is not None:
            x = (x - self.mean) / self.std
        return self.network(x).reshape(len(x), 1)
