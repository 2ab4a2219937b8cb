"""Checkpoint loading policy: untrusted files never unpickle code; the run's own files load."""

import pickle
from pathlib import Path

import pytest

pytest.importorskip("dfbench_mmaction")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from dfbench_mmaction import checkpoints  # noqa: E402


class _Payload:
    """Unpickling this runs code: it creates the marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def malicious(tmp_path) -> tuple[Path, Path]:
    marker = tmp_path / "pwned"
    path = tmp_path / "outside" / "weights.pth"
    path.parent.mkdir()
    torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": _Payload(marker)}, path)
    assert not marker.exists()
    return path, marker


def test_untrusted_load_refuses_code(malicious):
    path, marker = malicious
    with pytest.raises(pickle.UnpicklingError):
        checkpoints.load_untrusted(path)
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
