"""The one place that works around a packaging bug of the mmaction2 1.2.0 wheel (public API).

The wheel lacks ``mmaction/models/localizers/drn/`` yet ``mmaction/models/localizers/__init__.py``
imports ``from .drn.drn import DRN``, so ``import mmaction.models`` (and every registry lookup
under the ``mmaction`` scope) fails with ``ModuleNotFoundError``. DRN is a temporal-grounding
localizer that dfbench never uses, so :func:`install` puts placeholder modules for
``mmaction.models.localizers.drn`` and ``...drn.drn`` into ``sys.modules`` before mmaction is
imported; their ``DRN`` raises if anyone builds it.

``import dfbench_mmaction`` (any of its modules) runs :func:`install`, so a plugin on the MMEngine
base needs nothing more; code that imports ``mmaction.models`` without dfbench_mmaction calls
``dfbench_mmaction.compat.install()`` first. It imports nothing heavy (no torch, no mmaction).

The shim only acts when the installed mmaction2 lacks the folder; ``tests/test_mmaction_compat.py``
fails once a fixed mmaction2 is installed, which is the signal to delete this module.
"""

from __future__ import annotations

import importlib.util
import sys
import types
import warnings
from pathlib import Path

_DRN = "mmaction.models.localizers.drn"


def mmaction_ships_drn() -> bool:
    """Whether the installed mmaction2 has ``models/localizers/drn`` (found without importing it)."""
    spec = importlib.util.find_spec("mmaction")
    if spec is None or not spec.submodule_search_locations:
        return False
    return any((Path(p) / "models" / "localizers" / "drn").is_dir() for p in spec.submodule_search_locations)


class DRN:
    """Placeholder for mmaction2's DRN localizer, which the 1.2.0 wheel does not ship."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            "mmaction2's DRN localizer is missing from the installed mmaction2 wheel "
            "(dfbench_mmaction.compat put a placeholder in its place); install a fixed "
            "mmaction2 to use it"
        )


def install() -> bool:
    """Make ``import mmaction.models`` work; return True if the placeholders were installed.

    Idempotent, and a no-op when mmaction2 ships the DRN package or it is already imported.
    Also silences mmcv-lite's import-time warning that its compiled ops (deformable attention)
    are absent: dfbench installs mmcv-lite on purpose and uses none of them.
    """
    warnings.filterwarnings("ignore", message="Fail to import ``MultiScaleDeformableAttention``")
    if _DRN in sys.modules or mmaction_ships_drn():
        return False
    package = types.ModuleType(_DRN)
    package.__path__ = []  # a package, so that ``from .drn.drn import DRN`` resolves
    package.__doc__ = "dfbench placeholder: the mmaction2 1.2.0 wheel lacks this package"
    module = types.ModuleType(f"{_DRN}.drn")
    module.DRN = DRN
    package.drn = module
    package.DRN = DRN
    sys.modules[_DRN] = package
    sys.modules[f"{_DRN}.drn"] = module
    return True
