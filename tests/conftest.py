"""Shared test configuration: options and fixtures, no magic."""

import contextlib
import os

# Under pytest-xdist (`-n auto`: one worker per core) each worker, and the `dfbench` processes its tests
# start, gets one torch/OpenMP thread; with the default (all cores each) the workers' threads would fight.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, "1")


def pytest_configure(config):
    """Before the xdist workers start: build yapf's grammar cache once. MMEngine imports yapf, which
    rewrites its pickled grammar (~/.cache/YAPF) whenever the installed grammar file is newer, as in a
    fresh virtual environment; two workers importing it at once then read a half-written pickle
    (EOFError at collection, seen in a fresh CI-equivalent clone on 2026-12-03)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    with contextlib.suppress(ImportError):
        import yapf  # noqa: F401  (importing it loads the grammar, which writes the cache)


def pytest_addoption(parser):
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/golden/ instead of comparing with them",
    )


# --- fixtures -------------------------------------------------------------------------------------
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dfbench import plugins  # noqa: E402
from dfbench import splits as S  # noqa: E402
from dfbench.detector import DetectorMeta, DetectorSpec, FitReport, SizeSpec, VideoRef  # noqa: E402
from dfbench.hookspecs import hookimpl  # noqa: E402
from dfbench.layout import METHODS, REAL, video_path  # noqa: E402


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory) -> Path:
    """A small synthetic FF++ set (2/1/1 pairs, 12 frames), generated once per test session."""
    from dfbench import synth

    root = tmp_path_factory.mktemp("synth") / "ffpp"
    synth.generate(root, seed=0, compression="c40", pairs=(2, 1, 1), num_frames=12)
    return root


@pytest.fixture(scope="session")
def ffpp_tree(tmp_path_factory) -> Path:
    """An FF++-layout tree of empty files for the official splits (no pixels: for planning only)."""
    root = tmp_path_factory.mktemp("ffpp_tree")
    official = S.official()
    for split in S.SPLITS:
        for i in S.ids(official[split]):
            p = video_path(root, REAL, "c40", i)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.touch()
        for m in METHODS:
            for n in S.fake_names(official[split]):
                p = video_path(root, m, "c40", n)
                p.parent.mkdir(parents=True, exist_ok=True)
                p.touch()
    return root


class BrightnessDetector:
    """A test double: scores a video by the mean of its crops' colour spread; no training."""

    def __init__(self):
        self.fitted = None

    def fit(self, train, val, config):
        self.fitted = {"train": len(train), "val": len(val), "class_weights": config.class_weights}
        return FitReport(epochs=0, details=self.fitted)

    def score(self, videos, config, fit):
        out = []
        for v in videos:
            crops = np.load(v.crops, mmap_mode="r")
            out.append(float(np.clip(crops.std() / 128.0, 0, 1)))
        return out


class _TestPlugin:
    detector_cls = BrightnessDetector

    @hookimpl
    def register_detectors(self, register):
        register(DetectorSpec(
            meta=DetectorMeta(name="test_brightness", family="test", input_kind="clip",
                              sizes={"cpu": SizeSpec(16, 112, 1), "paper": SizeSpec(16, 112, 1)},
                              citation="dfbench test suite"),
            build=lambda meta, size: self.detector_cls(),
        ))


@contextlib.contextmanager
def registered(**by_name):
    """Register plugin objects under the given names (``_`` spelt ``-``), and unregister them after."""
    plugins.load_plugins()
    for name, plugin in by_name.items():
        plugins.pm.register(plugin, name=name.replace("_", "-"))
    plugins.reset()
    try:
        yield
    finally:
        for plugin in by_name.values():
            plugins.pm.unregister(plugin)
        plugins.reset()


@pytest.fixture
def test_plugin():
    """Registers a torch-free test detector `test_brightness`, and unregisters it afterwards."""
    plugins.load_plugins()
    plugin = _TestPlugin()
    plugins.pm.register(plugin, name="dfbench-test-plugin")
    plugins.reset()
    yield plugin
    plugins.pm.unregister(plugin)
    plugins.reset()


@pytest.fixture
def cli(capsys):
    """``cli(*argv) -> (exit code, stdout, stderr)``: the real `dfbench` command, in-process (so the
    test plugin is visible)."""
    from dfbench.cli import main

    def run(*argv):
        code = 0
        try:
            main(list(argv))
        except SystemExit as e:
            code = e.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def read_json(path: Path):
    return json.loads(Path(path).read_text())


class CodeOnUnpickle:
    """Unpickling this runs code: it creates ``marker``. For checkpoint-safety tests."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def malicious_checkpoint(tmp_path) -> tuple[Path, Path]:
    """A torch file whose unpickling would create a marker file: (checkpoint, marker), marker absent."""
    import torch

    marker = tmp_path / "pwned"
    path = tmp_path / "outside" / "weights.pth"
    path.parent.mkdir()
    torch.save({"state_dict": {"conv1.weight": torch.zeros(1)}, "payload": CodeOnUnpickle(marker)}, path)
    assert not marker.exists()
    return path, marker


class CentreFinder:
    """A whole-video face finder for tests: the face is the middle half of every frame."""

    def find(self, frames, video):
        h, w = frames.shape[1:3]
        return [(w / 4, h / 4, 3 * w / 4, 3 * h / 4)] * len(frames)


def crop_videos(root: Path, n: int, frames: int = 24, size: int = 64) -> list[VideoRef]:
    """``n`` face-crop videos of noise as the crop cache stores them, the odd ones (fakes) with a bright square."""
    rng = np.random.default_rng(0)
    refs = []
    for i in range(n):
        label = i % 2
        crops = rng.integers(0, 256, (frames, size, size, 3), dtype=np.uint8)
        if label:
            crops[:, size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 255
        np.save(root / f"{i}.npy", crops)
        method = "Deepfakes" if label else "original"
        refs.append(VideoRef(f"{method}/{i:03d}", label, method, root / f"{i}.npy", frames))
    return refs


@pytest.fixture(scope="session")
def make_crop_videos(tmp_path_factory):
    """``make_crop_videos(n, frames=24, size=64)``: :func:`crop_videos` in a fresh temporary folder."""
    return lambda n, frames=24, size=64: crop_videos(tmp_path_factory.mktemp("crops"), n, frames, size)
