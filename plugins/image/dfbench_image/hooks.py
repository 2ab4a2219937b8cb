"""MMEngine hooks: the validation history ``fit`` reports, and FF++'s head-only warm-up."""

from __future__ import annotations

import sys

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from dfbench_image.registry import HOOKS

HISTORY_KEY = "dfbench_val_history"


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


@HOOKS.register_module()
class HeadWarmupHook(Hook):
    """Train only the new output layer (``network.fc``) for the first ``epochs`` epochs, then everything.

    FF++ fine-tunes its ImageNet XceptionNet this way: "we fix all weights up to the final layers
    and pre-train the network for 3 epochs", so the randomly initialised head does not send large
    gradients into the pretrained features. Decided per epoch, so a resumed run does the same.
    """

    def __init__(self, epochs: int = 3, head: str = "fc"):
        self.epochs, self.head = int(epochs), head

    def before_train_epoch(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        warm = runner.epoch < self.epochs
        for name, p in model.network.named_parameters():
            p.requires_grad_(not warm or name.startswith(f"{self.head}."))
