"""The mmaction2 1.2.0 import shim (dfbench_mmaction._compat): still needed, and enough."""

import pytest

pytest.importorskip("dfbench_mmaction")

from dfbench_mmaction import _compat  # noqa: E402


def test_drn_shim_still_needed():
    """Fails once mmaction2 ships ``models/localizers/drn`` again: then delete the shim.

    When this fails, remove ``dfbench_mmaction/_compat.py``, its ``_compat.install()`` calls
    (models, datasets, metrics, hooks, detector) and this test file.
    """
    assert not _compat.mmaction_ships_drn(), (
        "the installed mmaction2 ships models/localizers/drn: the sys.modules shim in "
        "dfbench_mmaction/_compat.py is no longer needed; delete it, its install() calls and this test"
    )


def test_shim_lets_mmaction_models_register():
    _compat.install()
    import mmaction.models  # noqa: F401  (fails with ModuleNotFoundError without the shim)
    from mmaction.registry import MODELS

    assert MODELS.get("Recognizer3D") is not None
    assert MODELS.get("ResNet3d") is not None


def test_placeholder_drn_refuses_to_build():
    _compat.install()
    from mmaction.models.localizers import DRN

    with pytest.raises(RuntimeError, match="DRN"):
        DRN()
