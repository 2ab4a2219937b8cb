"""How dfbench_mmaction loads checkpoint files: the core's one policy (:mod:`dfbench.checkpoints`).

Untrusted files (pretrained weights, a user's file, anything outside the run's work_dir) load
with ``weights_only=True`` or from ``.safetensors``; only the Runner checkpoints this run wrote
under its work_dir load fully. The code lives in the core so every plugin shares it; these names
stay here for the plugin's modules and users.
"""

from dfbench.checkpoints import (
    CheckpointRefusedError,
    is_inside,
    load_run_checkpoint,
    load_untrusted,
    mmengine_checkpoint_policy,
)

__all__ = ["CheckpointRefusedError", "is_inside", "load_run_checkpoint", "load_untrusted",
           "mmengine_checkpoint_policy"]
