"""Checkpoint loading policy: untrusted files never unpickle code; the run's own files load.

The trust decision lives in the torch-free core (dfbench.checkpoints); how MMEngine is made to load
and save through it lives in the MMEngine base (dfbench_mmaction.checkpoints)."""

import pickle
from pathlib import Path

import pytest

pytest.importorskip("dfbench_mmaction")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from dfbench.errors import DfbenchError  # noqa: E402
from dfbench_mmaction import checkpoints  # noqa: E402


@pytest.fixture
def malicious(malicious_checkpoint) -> tuple[Path, Path]:
    return malicious_checkpoint


def test_mmengine_is_wired_to_the_core_policy_outside_the_core():
    from dfbench import checkpoints as core

    for name in ("load_run_checkpoint", "load_untrusted"):  # the trust decision: the core's, one place
        assert getattr(checkpoints, name) is getattr(core, name), name
    for name in ("mmengine_checkpoint_policy", "register_atomic_backend", "ATOMIC_BACKEND"):  # MMEngine's wiring
        assert hasattr(checkpoints, name) and not hasattr(core, name), name


def test_untrusted_load_refuses_code(malicious):
    path, marker = malicious
    with pytest.raises(pickle.UnpicklingError) as e:  # CheckpointRefusedError is both
        checkpoints.load_untrusted(path)
    assert isinstance(e.value, DfbenchError) and str(e.value).startswith(f"{path}: refused")
    assert not marker.exists()


def test_file_outside_the_work_dir_is_untrusted(malicious, tmp_path):
    path, marker = malicious
    work_dir = tmp_path / "run"
    work_dir.mkdir()
    (work_dir / "link.pth").symlink_to(path)  # a symlink does not make a file the run's own
    for candidate in (path, work_dir / "link.pth", work_dir / ".." / "outside" / "weights.pth"):
        with pytest.raises(pickle.UnpicklingError):
            checkpoints.load_run_checkpoint(candidate, work_dir)
    assert not marker.exists()


def test_run_checkpoint_with_mmengine_meta_loads(tmp_path):
    # What MMEngine's Runner writes and weights_only=True refuses: numpy scalars in meta.
    work_dir = tmp_path / "run"
    work_dir.mkdir()
    path = work_dir / "epoch_1.pth"
    torch.save({"meta": {"best": np.float64(0.5)}, "state_dict": {"w": torch.ones(2)}}, path)
    with pytest.raises(pickle.UnpicklingError):
        checkpoints.load_untrusted(path)
    assert checkpoints.load_run_checkpoint(path, work_dir)["meta"]["best"] == 0.5


def test_mmengine_loads_through_the_policy_and_it_is_undone(malicious, tmp_path):
    from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

    path, marker = malicious
    work_dir = tmp_path / "run"
    work_dir.mkdir()
    own = work_dir / "best.pth"
    torch.save({"meta": {"epoch": np.int64(3)}, "state_dict": {}}, own)
    before = dict(CheckpointLoader._schemes)
    with checkpoints.mmengine_checkpoint_policy(work_dir):
        assert _load_checkpoint(str(own))["meta"]["epoch"] == 3
        with pytest.raises(pickle.UnpicklingError):
            _load_checkpoint(str(path))  # e.g. load_from / init_cfg=Pretrained pointing outside
    assert dict(CheckpointLoader._schemes) == before
    assert not marker.exists()
