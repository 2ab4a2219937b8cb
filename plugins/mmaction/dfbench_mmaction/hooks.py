"""Two small MMEngine hooks: a CPU speed-up and the validation history ``fit`` reports."""

from __future__ import annotations

import sys

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn

from dfbench_mmaction import _compat

_compat.install()

from mmaction.registry import HOOKS  # noqa: E402

HISTORY_KEY = "dfbench_val_history"


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
        to_channels_last_3d(runner.model.module if is_model_wrapper(runner.model) else runner.model)


@HOOKS.register_module()
class ValHistoryHook(Hook):
    """Keep each validation's metrics, with its epoch, in the message hub (so resuming keeps them),
    and show one progress line per epoch on stderr (MMEngine's own console log is off by default)."""

    priority = "LOW"

    def after_val_epoch(self, runner, metrics=None) -> None:
        if not metrics:
            return
        history = list(runner.message_hub.get_info(HISTORY_KEY, []))
        history.append(dict(epoch=runner.epoch, **{k: float(v) for k, v in metrics.items()}))
        runner.message_hub.update_info(HISTORY_KEY, history)
        if runner.rank == 0:
            shown = ", ".join(f"val {k.removeprefix('video/')} {float(v):.3f}" for k, v in metrics.items())
            print(f"  epoch {runner.epoch}/{runner.max_epochs}: {shown}", file=sys.stderr, flush=True)
