"""The plugin's own tests (datasette's pattern): is it installed, and does it learn what it claims?"""

import json

import numpy as np

from dfbench import plugins
from dfbench.cli import main
from dfbench.detector import FitConfig, VideoRef


def test_plugin_is_installed(capsys):
    main(["detectors", "--json"])
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)["detectors"]}
    assert listed["temporal_residual"]["plugin"] == "dfbench-temporal-residual"


def crops_video(tmp_path, name: str, label: int, rng, frames: int = 12, size: int = 32) -> VideoRef:
    """A still, noisy 'face'; a fake's centre flickers in brightness, as a face pasted per frame does."""
    x = rng.uniform(60, 200, (1, size, size, 3)) + rng.normal(0, 2, (frames, size, size, 3))
    if label:
        c = slice(size // 4, size - size // 4)
        x[:, c, c] *= 1 + 0.08 * rng.standard_normal((frames, 1, 1, 1))
    np.save(tmp_path / f"{name}.npy", np.clip(x, 0, 255).astype(np.uint8))
    method = "Deepfakes" if label else "original"
    return VideoRef(f"{method}/{name}", label, method, tmp_path / f"{name}.npy", frames)


def test_fit_chooses_on_val_and_scores_per_video(tmp_path):
    spec = plugins.get_detector("temporal_residual")  # through the host, as `dfbench run` does
    rng = np.random.default_rng(0)
    train, val, test = ([crops_video(tmp_path, f"{split}{i}", i % 2, rng) for i in range(n)]
                        for split, n in (("train", 16), ("val", 8), ("test", 8)))
    config = FitConfig(work_dir=tmp_path / "work", seed=0, size="cpu", clip_len=2, crop_size=32,
                       class_weights=(1.0, 1.0), trunk_len=6)  # 12 frames: two trunks per video
    report = spec.create("cpu").fit(train, val, config)
    assert report.parameters == spec.meta.sizes["cpu"].parameters  # the parameter count is exact
    assert report.best_val_auc == 1.0 and [h["C"] for h in report.history] == [0.01, 0.1, 1.0, 10.0, 100.0]
    assert [p.name for p in config.work_dir.iterdir()] == ["model.npz"]  # it wrote only under work_dir

    scores = spec.create("cpu").score(test, config, report)  # a fresh instance: the model is the one reported
    assert len(scores) == len(test) and all(0 <= s <= 1 for s in scores)
    fake = [s for s, v in zip(scores, test, strict=True) if v.label]
    real = [s for s, v in zip(scores, test, strict=True) if not v.label]
    assert min(fake) > max(real)
