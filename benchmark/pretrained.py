"""What ``--pretrained`` means for a detector and size, and how the choice enters a run's settings.

The one place that decides which starting weights a run uses (``auto``, ``none``, a file or a
URL); fetching and safe loading are :mod:`dfbench.checkpoints`' job, and the checks before any
work (:func:`dfbench.preflight.check_pretrained`) hash the file chosen here.
"""

from __future__ import annotations

from pathlib import Path

from dfbench.checkpoints import is_url
from dfbench.detector import Checkpoint, DetectorMeta
from dfbench.errors import DfbenchError


def resolve_pretrained(choice: str, meta: DetectorMeta, size: str) -> Checkpoint | None:
    """What ``--pretrained`` means for this detector and size.

    ``auto``: the detector's own checkpoint (``DetectorMeta.checkpoint``, Kinetics-400 weights) at
    the paper size, nothing at the cpu size (its narrow architectures or small inputs match no
    published weights), and nothing for a detector the paper trains from scratch
    (``pretrained_by_default=False``); ``none``: train from initialised weights; a path or URL:
    that file, which a detector defined as trained from scratch (``pretrainable=False``) refuses;
    ``stand-in``: at the cpu size, the detector's formula-pretrained weights (``DetectorMeta.stand_in``).
    """
    choice = (choice or "auto").strip()
    if choice == "none":
        return None
    if choice == "stand-in":
        if size != "cpu" or meta.stand_in is None:
            raise DfbenchError(f"detector {meta.name} has no stand-in weights at size {size}: --pretrained stand-in is "
                               "for the cpu size of a pretrainable built-in detector (`dfbench detectors`)")
        return meta.stand_in
    if choice == "auto":
        return meta.checkpoint if size == "paper" and meta.pretrainable and meta.pretrained_by_default else None
    if not meta.pretrainable:
        raise DfbenchError(f"detector {meta.name} is trained from scratch by definition: drop --pretrained {choice} "
                           "(or pick a pretrainable detector)")
    if is_url(choice):
        return Checkpoint(source=choice)
    if not Path(choice).expanduser().is_file():
        raise DfbenchError(f"--pretrained {choice}: file not found; give a checkpoint file, an http(s) URL, "
                           "auto, stand-in or none")
    return Checkpoint(source=str(Path(choice).expanduser().resolve()))  # records name the file absolutely


def pretrained_setting(chosen: Checkpoint | None, sha256: str | None, meta: DetectorMeta, size: str) -> dict | None:
    """The ``training.pretrained`` setting: which starting weights, by hash; ``default`` says whether
    they are what ``--pretrained auto`` gives (the paper's configuration), so the leaderboard keeps
    ablations apart."""
    default = resolve_pretrained("auto", meta, size)
    if chosen is None:
        return None if default is None else {"sha256": None, "default": False}
    return {"sha256": sha256, "default": default is not None and default.source == chosen.source}
