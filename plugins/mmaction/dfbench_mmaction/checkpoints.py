"""How MMEngine saves and loads checkpoints in a dfbench run: atomically, and through the core's trust policy.

The trust decision is the core's (:mod:`dfbench.checkpoints`: files under the run's work_dir are
dfbench's own, everything else is untrusted and loads without running code); this module wires
MMEngine to it. MMEngine loads checkpoints (``resume``, ``load_from``, ``init_cfg=Pretrained``)
with a bare ``torch.load`` and saves them with a plain file write; :func:`mmengine_checkpoint_policy`
changes both for the duration of a run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dfbench.checkpoints import load_run_checkpoint, load_untrusted
from dfbench.results import write_atomic

ATOMIC_BACKEND = "dfbench_atomic"  # the MMEngine file backend name a CheckpointHook's backend_args selects


def register_atomic_backend() -> None:
    """Register MMEngine's local file backend with atomic writes as :data:`ATOMIC_BACKEND`.

    A CheckpointHook configured with ``backend_args=dict(backend="dfbench_atomic")`` then saves every
    checkpoint through :func:`dfbench.results.write_atomic` (the project's one writer): a crash, Ctrl-C
    or a full disk leaves the previous file or none, never a truncated ``epoch_N.pth``.
    """
    from mmengine.fileio import LocalBackend, register_backend

    class AtomicLocalBackend(LocalBackend):
        def put(self, obj: bytes, filepath) -> None:
            write_atomic(Path(filepath), obj)

        def put_text(self, obj: str, filepath, encoding: str = "utf-8") -> None:
            write_atomic(Path(filepath), obj.encode(encoding))

    register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)


@contextmanager
def mmengine_checkpoint_policy(work_dir: str | os.PathLike) -> Iterator[None]:
    """Within the block, MMEngine loads local checkpoints under ``work_dir`` as dfbench's own
    (resume, best checkpoint) and every other local file as untrusted; checkpoints are saved
    atomically by hooks that select :data:`ATOMIC_BACKEND` (:func:`register_atomic_backend`).

    Registers two loaders with MMEngine's public ``CheckpointLoader.register_scheme`` (the most
    specific prefix wins) and restores the previous loaders on exit.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    work_dir = os.path.abspath(work_dir)
    prefixes = {re.escape(os.path.join(d, "")) for d in (work_dir, os.path.realpath(work_dir))}

    def load_from_dfbench_run(filename, map_location=None):
        return load_run_checkpoint(os.path.expanduser(filename), work_dir, map_location)

    def load_from_untrusted_local(filename, map_location=None):
        return load_untrusted(os.path.expanduser(filename), map_location)

    register_atomic_backend()
    saved = dict(CheckpointLoader._schemes)  # no public way to unregister: restore the table
    try:
        CheckpointLoader.register_scheme(prefixes="", loader=load_from_untrusted_local, force=True)
        CheckpointLoader.register_scheme(prefixes=sorted(prefixes), loader=load_from_dfbench_run, force=True)
        yield
    finally:
        CheckpointLoader._schemes = type(CheckpointLoader._schemes)(saved)
