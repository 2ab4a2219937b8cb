"""The one place that decides how dfbench_mmaction unpickles checkpoint files.

``torch.load(..., weights_only=False)`` runs whatever code a crafted file names, so:

* **Untrusted** files (pretrained weights such as Kinetics checkpoints, a user's file, anything
  outside the current run's ``work_dir``) load with ``weights_only=True``: tensors and plain
  containers only. This is also torch's own default since 2.6; stating it here keeps the policy
  independent of the installed torch.
* **dfbench's own** MMEngine Runner checkpoints, i.e. files *under the run's work_dir*, which this
  run's Runner wrote, load with ``weights_only=False``. They must: MMEngine 0.10.7 stores its
  message hub (``HistoryBuffer`` objects) and numpy scalars in them, which ``weights_only=True``
  refuses, and allow-listing those classes does not get through (DEPENDENCIES.md). Trusting
  them trusts nobody new: dfbench wrote them into a folder its run owns. Containment is checked
  on resolved paths, so a symlink out of the work_dir is untrusted again.

MMEngine itself loads checkpoints (``resume``, ``load_from``, ``init_cfg=Pretrained``) with a bare
``torch.load``; :func:`mmengine_checkpoint_policy` routes those calls through this module using
MMEngine's public ``CheckpointLoader.register_scheme``, for the duration of one run.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import torch


def is_inside(path: str | os.PathLike, work_dir: str | os.PathLike) -> bool:
    """Whether ``path`` (symlinks resolved) lies inside ``work_dir``."""
    return Path(path).resolve().is_relative_to(Path(work_dir).resolve())


def load_untrusted(path: str | os.PathLike, map_location="cpu"):
    """Load a checkpoint from outside dfbench (tensors and plain containers only)."""
    return torch.load(path, map_location=map_location, weights_only=True)


def load_run_checkpoint(path: str | os.PathLike, work_dir: str | os.PathLike, map_location="cpu"):
    """Load a checkpoint dfbench's Runner wrote under ``work_dir``; any other file as untrusted."""
    if not is_inside(path, work_dir):
        return load_untrusted(path, map_location)
    return torch.load(path, map_location=map_location, weights_only=False)


@contextmanager
def mmengine_checkpoint_policy(work_dir: str | os.PathLike):
    """Within the block, MMEngine loads local checkpoints under ``work_dir`` as dfbench's own
    (resume, best checkpoint) and every other local file as untrusted.

    Registers two loaders with MMEngine's ``CheckpointLoader`` (the most specific prefix wins)
    and restores the previous loaders on exit.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    work_dir = os.path.abspath(work_dir)
    prefixes = {re.escape(os.path.join(d, "")) for d in (work_dir, os.path.realpath(work_dir))}

    def load_from_dfbench_run(filename, map_location=None):
        return load_run_checkpoint(os.path.expanduser(filename), work_dir, map_location)

    def load_from_untrusted_local(filename, map_location=None):
        return load_untrusted(os.path.expanduser(filename), map_location)

    saved = dict(CheckpointLoader._schemes)  # no public way to unregister: restore the table
    try:
        CheckpointLoader.register_scheme(prefixes="", loader=load_from_untrusted_local, force=True)
        CheckpointLoader.register_scheme(prefixes=sorted(prefixes), loader=load_from_dfbench_run, force=True)
        yield
    finally:
        CheckpointLoader._schemes = type(CheckpointLoader._schemes)(saved)
