"""FF++'s head-only warm-up, the one training hook of the image baselines' own (the rest is the base's)."""

from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from dfbench_image.registry import HOOKS


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
