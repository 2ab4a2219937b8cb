"""The MMEngine pieces every dfbench detector trains with, registered once in MMEngine's root registries.

Registered in the root (``mmengine.registry``), so configs of any scope find them (``mmaction``,
``dfbench_image``, an outside plugin's): a child registry falls back to its root.

* :class:`ValHistoryHook`: each validation's metrics into the message hub (kept in checkpoints, so
  a resumed run keeps them) and to ``FitConfig.progress``, the one way every detector reports.
* :class:`PretrainedWeightsHook`: pretrained weights copied in after MMEngine initialised the model
  (``before_train``), through a plugin's safe loader (:func:`dfbench.checkpoints.load_untrusted`),
  not MMEngine's ``load_from``, which unpickles with a bare ``torch.load`` and maps no names.
* :func:`weighted_bce` / :class:`ClassWeightedBCELoss`: the class-weighted loss of the protocols.
* Precision, one policy (:func:`autocast_dtype`): bf16 runs on a CPU through
  :class:`CpuAmpOptimWrapper` (MMEngine 0.10.7's ``AmpOptimWrapper`` asserts a GPU; bf16 keeps
  fp32's exponent range, so no loss scaling is needed); fp16 needs a GPU.
* Launchers on CPUs: MMEngine's ``pytorch`` launcher calls ``torch.cuda.set_device`` before
  ``init_process_group`` and wraps the model with ``device_ids``, which DDP refuses for a CPU module;
  :func:`init_cpu_process_group` makes the gloo group first and :class:`CpuDistributedDataParallel`
  passes no device ids.
* :class:`ChannelsLast3dHook`: channels-last 3D convolutions, faster on CPUs (oneDNN).
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import os
import sys
from collections.abc import Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.model import MMDistributedDataParallel, is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import HOOKS, MODEL_WRAPPERS, MODELS, OPTIM_WRAPPERS
from mmengine.runner.amp import autocast
from torch import nn

from dfbench.detector import FitProgress
from dfbench.errors import DfbenchError

HISTORY_KEY = "dfbench_val_history"  # message-hub info: every validation's metrics, with its epoch
PRETRAINED_KEY = "dfbench_pretrained"  # message-hub info: what PretrainedWeightsHook loaded
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def unwrap(model: nn.Module) -> nn.Module:
    """The bare model inside a (Distributed)DataParallel wrapper."""
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class ValHistoryHook(Hook):
    """Keep each validation's metrics, with its epoch, in the message hub, and report them to
    ``progress`` (a :class:`dfbench.detector.FitProgress` callback the detector sets; rank 0 only)."""

    priority = "LOW"

    def __init__(self):
        self.progress = None

    def after_val_epoch(self, runner, metrics=None) -> None:
        if not metrics:
            return
        history = list(runner.message_hub.get_info(HISTORY_KEY, []))
        history.append(dict(epoch=runner.epoch, **{k: float(v) for k, v in metrics.items()}))
        runner.message_hub.update_info(HISTORY_KEY, history)
        if self.progress is not None and runner.rank == 0:
            self.progress(FitProgress(step=runner.epoch, total=runner.max_epochs,
                                      metrics={k.removeprefix("video/"): float(v) for k, v in metrics.items()}))


@HOOKS.register_module()
class PretrainedWeightsHook(Hook):
    """Load pretrained weights into a freshly initialised model; a resumed run keeps its own weights.

    Args:
        source: path or URL of the weights.
        sha256: the sha256 the file must have, if known.
        loader: dotted path of ``loader(model, source, sha256) -> dict`` (source, sha256, summary and
            what else the record should keep), e.g. ``dfbench_mmaction.pretrained.load_pretrained``.

    What was loaded goes into the message hub under :data:`PRETRAINED_KEY`, so it is saved in, and
    resumed from, the run's checkpoints; rank 0 prints the load summary on stderr.
    """

    priority = "VERY_HIGH"

    def __init__(self, source: str, sha256: str | None = None,
                 loader: str = "dfbench_mmaction.pretrained.load_pretrained"):
        self.source, self.sha256, self.loader = source, sha256, loader

    def before_train(self, runner) -> None:
        if runner.iter > 0:  # resumed: the run's own checkpoint already holds fine-tuned weights
            return
        module, _, name = self.loader.rpartition(".")
        info = getattr(importlib.import_module(module), name)(unwrap(runner.model), self.source, self.sha256)
        runner.message_hub.update_info(PRETRAINED_KEY, info)
        if runner.rank == 0:
            kind = f"{info['format']} " if info.get("format") else ""
            print(f"  pretrained {kind}weights from {self.source} (sha256 {info['sha256'][:12]}): "
                  f"{info.get('summary', '')}", file=sys.stderr, flush=True)


def weighted_bce(logits: torch.Tensor, labels: torch.Tensor, class_weight: Sequence[float] | None) -> torch.Tensor:
    """Binary cross-entropy on logits, each sample weighted by its class: ``sum(w l) / sum(w)`` (how
    PyTorch reduces a weighted cross-entropy); the plain mean when ``class_weight`` is None."""
    losses = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    if class_weight is None:
        return losses.mean()
    real, fake = (float(w) for w in class_weight)
    weights = torch.where(labels > 0.5, losses.new_tensor(fake), losses.new_tensor(real))
    return (weights * losses).sum() / weights.sum()


def check_class_weight(class_weight: Sequence[float] | None) -> tuple[float, float] | None:
    """``(real, fake)`` as two positive floats, or None; anything else is a ValueError."""
    if class_weight is not None and (len(class_weight) != 2 or min(class_weight) <= 0):
        raise ValueError(f"class_weight must be two positive numbers (real, fake), got {class_weight}")
    return None if class_weight is None else tuple(float(w) for w in class_weight)


@MODELS.register_module()
class ClassWeightedBCELoss(nn.Module):
    """:func:`weighted_bce` as a loss module (a head's ``loss_cls``).

    Args:
        class_weight: ``(real, fake)`` weights, or None for the plain mean.
        loss_weight: a factor on the whole loss.
    """

    def __init__(self, class_weight: Sequence[float] | None = None, loss_weight: float = 1.0):
        super().__init__()
        self.class_weight = check_class_weight(class_weight)
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * weighted_bce(logits, labels, self.class_weight)


def autocast_dtype(precision: str, device: str) -> torch.dtype | None:
    """The autocast dtype of ``precision`` on ``device`` (None for fp32); refuses what cannot run there."""
    if precision == "fp32":
        return None
    if precision not in DTYPES:
        raise DfbenchError(f"--precision {precision!r}: choose fp32, bf16 or fp16")
    if device == "cpu" and precision == "fp16":
        raise DfbenchError("--precision fp16 needs a CUDA GPU (CPU autocast and MMEngine's CPU path run bf16 only); "
                           "use --precision bf16 or fp32 here")
    return DTYPES[precision]


@OPTIM_WRAPPERS.register_module()
class CpuAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward passes run under CPU bf16 autocast (MMEngine's ``autocast``).

    Args:
        dtype: the autocast dtype; only ``"bfloat16"`` runs on a CPU.
        **kwargs: everything ``OptimWrapper`` takes.
    """

    def __init__(self, dtype: str = "bfloat16", **kwargs):
        super().__init__(**kwargs)
        if dtype != "bfloat16":
            raise ValueError(f"CPU autocast runs bfloat16 only, got {dtype!r}")
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), autocast(device_type="cpu", dtype=self.cast_dtype):
            yield


def to_channels_last_3d(model: nn.Module) -> nn.Module:
    """Store every Conv3d weight channels-last, so activations follow (oneDNN's fast layout).

    Measured on 2 CPU cores (torch 2.14): a cpu-size training step of 8 clips falls from about
    0.4-0.5 s to about 0.2-0.25 s, most of it in the 7x7x7 stem's weight gradient. Values are
    unchanged; only strides differ.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv3d):
            module.weight.data = module.weight.data.contiguous(memory_format=torch.channels_last_3d)
    return model


@HOOKS.register_module()
class ChannelsLast3dHook(Hook):
    """Apply :func:`to_channels_last_3d` once weights are initialised or resumed."""

    def before_train(self, runner) -> None:
        to_channels_last_3d(unwrap(runner.model))


# Runner.wrap_model looks wrappers up with a plain ``get`` in the root registry.
@MODEL_WRAPPERS.register_module()
class CpuDistributedDataParallel(MMDistributedDataParallel):
    """MMEngine's DDP wrapper for a model on the CPU: drops the ``device_ids`` the Runner passes.

    Args:
        channels_last_3d: store Conv3d weights channels-last *before* DDP lays out its gradient
            buckets (ChannelsLast3dHook converts them only at ``before_train``, after wrapping, which
            leaves every gradient copy strided against its bucket: slower, and a warning a step).
        broadcast_buffers: MMEngine's default (False: buffers are averaged by SyncBuffersHook, not
            broadcast every forward), passed as ``forward_sync_buffers`` where torch renamed it.
        **kwargs: everything ``MMDistributedDataParallel`` takes.
    """

    def __init__(self, module, device_ids=None, channels_last_3d: bool = False, broadcast_buffers: bool = False,
                 **kwargs):
        if channels_last_3d:
            to_channels_last_3d(module)
        renamed = "forward_sync_buffers" in inspect.signature(torch.nn.parallel.DistributedDataParallel).parameters
        kwargs["forward_sync_buffers" if renamed else "broadcast_buffers"] = broadcast_buffers
        super().__init__(module=module, device_ids=None, **kwargs)


def init_cpu_process_group(timeout_s: float | None = None) -> None:
    """Join the gloo process group torchrun describes (MASTER_ADDR/PORT, RANK, WORLD_SIZE), once per process."""
    import torch.distributed as dist

    if dist.is_initialized():
        return
    missing = [v for v in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
    if missing:
        raise DfbenchError(f"--launcher pytorch: {', '.join(missing)} not set; start dfbench under torchrun "
                           "(torchrun --nproc_per_node N -m dfbench run ... --launcher pytorch)")
    kwargs = {} if timeout_s is None else dict(timeout=datetime.timedelta(seconds=timeout_s))
    dist.init_process_group(backend="gloo", **kwargs)
