"""MMEngine runtime pieces for pretrained weights, mixed precision and CPU multi-process training.

* :class:`PretrainedWeightsHook` copies Kinetics weights into the model after MMEngine initialised
  it (``before_train``, after ``init_weights`` and ``load_or_resume``), through
  :func:`dfbench_mmaction.pretrained.load_pretrained`: dfbench's own safe load, not MMEngine's
  ``load_from``, which unpickles with a bare ``torch.load`` and maps no names.
* :class:`CpuAmpOptimWrapper`: bf16 autocast for training on a CPU. MMEngine 0.10.7's
  ``AmpOptimWrapper`` asserts a GPU (and its GradScaler is CUDA's), while its ``autocast`` runs
  bf16 on the CPU; bf16 keeps fp32's exponent range, so no loss scaling is needed.
* :class:`CpuDistributedDataParallel` and :func:`init_cpu_process_group`: MMEngine's ``pytorch``
  launcher calls ``torch.cuda.set_device(LOCAL_RANK)`` (which fails without a GPU) before
  ``init_process_group``, and wraps the model with ``device_ids=[LOCAL_RANK]``, which torch's DDP
  refuses for a CPU module. On a CPU the process group is made here (gloo), the Runner then
  finds it initialised and skips its own ``init_dist``, and the wrapper passes no device ids.
"""

from __future__ import annotations

import datetime
import inspect
import os
import sys
from contextlib import contextmanager

import torch
from mmengine.hooks import Hook
from mmengine.model import MMDistributedDataParallel, is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.runner.amp import autocast

from dfbench.errors import DfbenchError
from dfbench_mmaction import _compat

_compat.install()

from mmaction.registry import HOOKS, OPTIM_WRAPPERS  # noqa: E402

from dfbench_mmaction.hooks import to_channels_last_3d  # noqa: E402
from dfbench_mmaction.pretrained import load_pretrained  # noqa: E402

PRETRAINED_KEY = "dfbench_pretrained"  # message-hub info: what PretrainedWeightsHook loaded
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@HOOKS.register_module()
class PretrainedWeightsHook(Hook):
    """Load pretrained weights into a freshly initialised model; a resumed run keeps its own weights.

    What was loaded (source, file sha256, load report) goes into the message hub under
    :data:`PRETRAINED_KEY`, so it is saved in, and resumed from, the run's checkpoints; rank 0
    prints the load summary on stderr.
    """

    priority = "VERY_HIGH"

    def __init__(self, source: str, sha256: str | None = None):
        self.source, self.sha256 = source, sha256

    def before_train(self, runner) -> None:
        if runner.iter > 0:  # resumed: the run's own checkpoint already holds fine-tuned weights
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        info = load_pretrained(model, self.source, self.sha256)
        runner.message_hub.update_info(PRETRAINED_KEY, info)
        if runner.rank == 0:
            print(f"  pretrained {info['format']} weights from {info['file']} (sha256 {info['sha256'][:12]}): "
                  f"{info['summary']}", file=sys.stderr, flush=True)


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


# In MMEngine's root registry: Runner.wrap_model looks wrappers up with a plain ``get``, which does
# not search the mmaction scope's child registry (``build`` does).
@MMENGINE_MODEL_WRAPPERS.register_module()
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
