"""Which process of a multi-process launch this is, and how the others wait for rank 0's files.

Under ``torchrun`` (``--launcher pytorch``) or ``srun`` (``--launcher slurm``) every process runs
the same ``dfbench run``. Data preparation (generating the synthetic set, cropping faces) writes
shared files, so only rank 0 does it; the other ranks wait until rank 0's files are there. Every
such file is written atomically (a complete file or none), so its presence is the signal: no
process group is needed before the training framework makes one, and nothing here launches
processes (torchrun and srun do).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from dfbench.errors import DfbenchError

WAIT_ENV = "DFBENCH_RANK_WAIT_S"  # how long ranks > 0 wait for rank 0's data (seconds)
DEFAULT_WAIT_S = 24 * 3600  # cropping a whole FF++ release on a slow node takes hours


def rank(launcher: str = "none") -> int:
    """This process's rank: torchrun's ``RANK``, or srun's ``SLURM_PROCID`` for ``--launcher slurm``
    (MMEngine copies it into ``RANK`` only once training starts)."""
    if launcher == "slurm" and "SLURM_PROCID" in os.environ:
        return int(os.environ["SLURM_PROCID"])
    return int(os.environ.get("RANK", "0"))


def world_size(launcher: str = "none") -> int:
    if launcher == "slurm" and "SLURM_NTASKS" in os.environ:
        return int(os.environ["SLURM_NTASKS"])
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main(launcher: str = "none") -> bool:
    """Rank 0: the process that prepares data, writes records and prints results."""
    return rank(launcher) == 0


def wait_for(ready: Callable[[], bool], what: str, timeout_s: float | None = None, poll_s: float = 0.5) -> None:
    """Return once ``ready()`` is true (rank 0 has written ``what``); a clear error after ``timeout_s``."""
    timeout_s = float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_S)) if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise DfbenchError(f"waited {timeout_s:.0f} s for rank 0 to prepare {what}; see rank 0's log, or "
                               f"raise ${WAIT_ENV} for a long preprocessing pass")
        time.sleep(poll_s)
