"""An MMAction2 config turned into a dfbench :class:`~dfbench.detector.Detector`.

``fit`` runs MMEngine's ``Runner`` (epoch loop, validation every epoch, the checkpoint with the
best *validation* video AUC kept); ``score`` reloads that checkpoint and scores each video as the
mean of its trunk probabilities. The core hands over a :class:`~dfbench.detector.FitConfig`; what
it decides (work_dir, seed, clip and trunk length, class weights, epochs, launcher) overrides the
config file, everything else comes from the file.

``FitConfig.extra`` keys understood here:

* ``num_workers`` (int): dataloader workers; the configs default to 0 on CPU, where worker
  processes would compete with torch's compute threads for the same few cores while reading a
  memory-mapped ``.npy`` clip costs well under a millisecond.
* ``log_level`` (str): MMEngine's log level, ``"INFO"`` by default.
* ``resume`` (bool): continue from the latest checkpoint in ``work_dir`` (``epochs`` is then the
  total to reach).
* ``batch_size`` (int): training clips per step (per GPU).
* ``pretrained_sha256`` (str): the sha256 ``FitConfig.pretrained`` must have (the engine passes the
  detector's ``DetectorMeta.checkpoint.sha256`` for ``--pretrained auto``).

``FitConfig.pretrained`` (a path or URL) is loaded after MMEngine initialised the model, by
:class:`~dfbench_mmaction.runtime.PretrainedWeightsHook`; ``FitConfig.precision`` picks MMEngine's
``AmpOptimWrapper`` on a GPU, :class:`~dfbench_mmaction.runtime.CpuAmpOptimWrapper` (bf16) on a CPU;
``launcher="pytorch"`` on a CPU trains with gloo (:mod:`dfbench_mmaction.runtime` says why).
"""

from __future__ import annotations

import copy
import json
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from dfbench.detector import FitConfig, VideoRef
from dfbench.errors import DfbenchError
from dfbench.results import write_atomic
from dfbench_mmaction import _compat

_compat.install()

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.dist import barrier  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from dfbench.checkpoints import FIT_REPORT, recorded_best_checkpoint  # noqa: E402
from dfbench_mmaction.checkpoints import load_run_checkpoint, mmengine_checkpoint_policy  # noqa: E402
from dfbench_mmaction.datasets import write_annotations  # noqa: E402
from dfbench_mmaction.hooks import HISTORY_KEY, to_channels_last_3d  # noqa: E402
from dfbench_mmaction.metrics import sample_record, video_scores  # noqa: E402
from dfbench_mmaction.runtime import PRETRAINED_KEY, autocast_dtype, init_cpu_process_group  # noqa: E402

CONFIG_DIR = Path(__file__).parent / "configs"
REPORT = FIT_REPORT  # the fit report, read back by score


def config_path(name: str, size: str) -> Path:
    """The config file of a detector at a size: ``configs/<name>_<size>.py``."""
    return CONFIG_DIR / f"{name}_{size}.py"


def load_config(name: str, size: str) -> Config:
    """The detector's MMEngine config, read with its ``_base_`` chain (imports its custom modules)."""
    path = config_path(name, size)
    if not path.is_file():
        raise DfbenchError(f"{path}: no config for detector {name!r} at size {size!r}")
    return Config.fromfile(str(path))


def build_model(cfg: Config) -> torch.nn.Module:
    """Build the config's recognizer, weights as constructed (the Runner initialises them)."""
    init_default_scope(cfg.get("default_scope", "mmaction"))
    from mmaction.registry import MODELS

    return MODELS.build(copy.deepcopy(cfg.model))


class MMActionDetector:
    """One MMAction2 recognizer config at one size, trained and scored through MMEngine."""

    def __init__(self, name: str, size: str):
        self.name = name
        self.size = size
        self.config_file = config_path(name, size)

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """One clip as ``dfbench profile`` feeds it: (3, clip_len, crop_size, crop_size) of this size."""
        from dfbench_mmaction.plugin import DETECTORS

        spec = next(m for m in DETECTORS if m.name == self.name).sizes[self.size]
        return (3, spec.clip_len, spec.crop_size, spec.crop_size)

    def inference_network(self) -> torch.nn.Module:
        """Backbone + head as one module, clips to logits, random weights (dfbench.detector.Profilable)."""
        from dfbench_mmaction.profiling import inference_network

        return inference_network(load_config(self.name, self.size))

    def config(self, config: FitConfig) -> Config:
        """The config file with the run's decisions applied (what ``fit`` hands the Runner)."""
        if config.size != self.size:
            raise DfbenchError(f"{self.name}: built for size {self.size!r}, asked to run at {config.size!r}")
        cfg = load_config(self.name, self.size)
        work_dir = Path(config.work_dir).resolve()
        extra = dict(config.extra or {})
        cfg.work_dir = str(work_dir)
        # MMEngine keys its logger and visualizer instances by experiment name: keep each run's own.
        stamp = time.strftime("%Y%m%d_%H%M%S")
        cfg.experiment_name = f"{self.name}_{self.size}_{stamp}_{uuid.uuid4().hex[:6]}"
        cfg.launcher = config.launcher
        cfg.randomness = dict(cfg.get("randomness", {}), seed=int(config.seed))
        cfg.log_level = extra.get("log_level", cfg.get("log_level", "INFO"))
        cfg.resume = bool(extra.get("resume", False))
        if config.epochs is not None:
            cfg.train_cfg.max_epochs = int(config.epochs)
        cfg.model.cls_head.loss_cls.class_weight = (
            None if config.class_weights is None else [float(w) for w in config.class_weights])
        for split in ("train", "val"):
            loader = cfg[f"{split}_dataloader"]
            loader.dataset.ann_file = str(work_dir / "data" / f"{split}.json")
            loader.dataset.update(clip_len=config.clip_len, crop_size=config.crop_size,
                                  trunk_len=config.trunk_len)
            if "num_workers" in extra:
                loader.num_workers = int(extra["num_workers"])
                loader.persistent_workers = loader.num_workers > 0
        if "batch_size" in extra:
            cfg.train_dataloader.batch_size = int(extra["batch_size"])
        cfg.custom_hooks = list(cfg.get("custom_hooks", [])) + [dict(type="ValHistoryHook")]
        cfg.custom_imports.imports = [*cfg.custom_imports.imports, "dfbench_mmaction.runtime"]
        if config.pretrained:
            cfg.custom_hooks.append(dict(type="PretrainedWeightsHook", source=str(config.pretrained),
                                         sha256=extra.get("pretrained_sha256")))
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
            cfg.model_wrapper_cfg = dict(
                type="CpuDistributedDataParallel", find_unused_parameters=cfg.get("find_unused_parameters", False),
                channels_last_3d=any(h.get("type") == "ChannelsLast3dHook" for h in cfg.custom_hooks))
        return cfg

    def check(self, config: FitConfig) -> None:
        """Refuse settings this detector cannot run (size, precision, weights), before any work."""
        self.config(config)

    def resolved_config(self) -> dict:
        """The config file as resolved through its ``_base_`` chain; its hash enters the run's settings."""
        return load_config(self.name, self.size).to_dict()

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
        if cfg.launcher == "pytorch" and cfg.env_cfg.dist_cfg.backend == "gloo":
            init_cpu_process_group(cfg.env_cfg.dist_cfg.get("timeout"))
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
        report = dict(
            detector=self.name,
            size=self.size,
            config=self.config_file.name,
            seed=int(config.seed),
            epochs=int(runner.train_loop.epoch),
            best_epoch=int(best["epoch"]),
            best_val_auc=float(hub.get_info("best_score")),
            best_checkpoint=str(best_ckpt),
            selected_on="val",
            train_seconds=round(seconds, 3),
            parameters=sum(p.numel() for p in runner.model.parameters()),
            val_history=history,
            precision=config.precision,
            optim_wrapper=type(runner.optim_wrapper).__name__,
            autocast_dtype=str(getattr(runner.optim_wrapper, "cast_dtype", None) or "none").removeprefix("torch."),
            world_size=int(runner.world_size),
            pretrained=hub.get_info(PRETRAINED_KEY),
        )
        if runner.world_size > 1:
            print(f"  rank {runner.rank}/{runner.world_size}: trained {runner.iter} iterations "
                  f"({runner.train_loop.epoch} epochs)", file=sys.stderr, flush=True)
        if runner.rank == 0:
            write_atomic(work_dir / REPORT, json.dumps(report, indent=2))
        barrier()  # every rank's score() reads the report rank 0 just wrote
        return report

    def best_checkpoint(self, work_dir: Path) -> Path:
        """The best checkpoint ``fit`` recorded in ``work_dir``."""
        return recorded_best_checkpoint(work_dir)

    def score(self, videos: Sequence[VideoRef], config: FitConfig) -> list[float]:
        """Each video's score: the mean over its trunks of sigmoid(logit), from the best checkpoint."""
        if not videos:
            return []
        cfg = self.config(config)
        work_dir = Path(cfg.work_dir)
        checkpoint = load_run_checkpoint(self.best_checkpoint(work_dir), work_dir)
        model = build_model(cfg)
        model.load_state_dict(checkpoint["state_dict"])
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model.to(device).eval()
        if any(h.get("type") == "ChannelsLast3dHook" for h in cfg.custom_hooks):
            to_channels_last_3d(model)

        from mmaction.registry import DATASETS

        dataset_cfg = copy.deepcopy(cfg.val_dataloader.dataset)  # trunks, no augmentation
        dataset_cfg.ann_file = str(write_annotations(videos, work_dir / "data" / "score.json"))
        dataset = DATASETS.build(dataset_cfg)
        dtype = autocast_dtype(config.precision, device)
        records = []
        with torch.no_grad():
            for index in range(len(dataset)):
                batch = pseudo_collate([dataset[index]])
                samples = model.test_step(batch) if dtype is None else _predict_autocast(model, batch, device, dtype)
                records.extend(sample_record(s) for s in samples)
        per_video = video_scores(records)
        return [per_video[i][0] for i in range(len(videos))]


def _predict_autocast(model, batch, device: str, dtype: torch.dtype):
    """``model.test_step`` with the backbone under autocast and the one-neuron head in fp32: a bf16
    sigmoid would round every probability above 0.996 to 1.0 and tie the videos a detector is sure of."""
    data = model.data_preprocessor(batch, False)
    with torch.autocast(device_type=device, dtype=dtype):
        feats, predict_kwargs = model.extract_feat(data["inputs"], test_mode=True)
    feats = feats.float() if torch.is_tensor(feats) else type(feats)(f.float() for f in feats)
    return model.cls_head.predict(feats, data["data_samples"], **predict_kwargs)
