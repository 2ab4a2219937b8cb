"""The mmaction2 1.2.0 import shim (dfbench_mmaction.compat): still needed, enough, and installed on import."""

import pytest

pytest.importorskip("dfbench_mmaction")

from dfbench_mmaction import compat  # noqa: E402


def test_drn_shim_still_needed():
    """Fails once mmaction2 ships ``models/localizers/drn`` again: then delete the shim.

    When this fails, remove ``dfbench_mmaction/compat.py``, its ``install()`` call in
    ``dfbench_mmaction/__init__.py`` and this test file.
    """
    assert not compat.mmaction_ships_drn(), (
        "the installed mmaction2 ships models/localizers/drn: the sys.modules shim in "
        "dfbench_mmaction/compat.py is no longer needed; delete it, its install() call and this test"
    )


def test_shim_lets_mmaction_models_register():
    compat.install()
    import mmaction.models  # noqa: F401  (fails with ModuleNotFoundError without the shim)
    from mmaction.registry import MODELS

    assert MODELS.get("Recognizer3D") is not None
    assert MODELS.get("ResNet3d") is not None


def test_placeholder_drn_refuses_to_build():
    compat.install()
    from mmaction.models.localizers import DRN

    with pytest.raises(RuntimeError, match="DRN"):
        DRN()


def test_importing_the_plugin_installs_the_shim():
    """Any dfbench_mmaction import is enough for ``import mmaction.models`` (no module calls install itself)."""
    import subprocess
    import sys

    code = ("import dfbench_mmaction, mmaction.models; from mmaction.registry import MODELS; "
            "print(MODELS.get('Recognizer3D') is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
