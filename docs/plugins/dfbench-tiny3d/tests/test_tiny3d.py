"""The plugin's own tests: is it installed, is its parameter count the network's, does it learn?"""

import json

import numpy as np

from dfbench import plugins
from dfbench.cli import main
from dfbench.detector import FitConfig, VideoRef


def test_plugin_is_installed(capsys):
    main(["detectors", "--json"])
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)["detectors"]}
    assert listed["tiny3d"]["plugin"] == "dfbench-tiny3d"


def video(tmp_path, i: int) -> VideoRef:
    """Noise; a fake (odd i) has a bright square in the middle."""
    x = np.random.default_rng(i).integers(0, 200, (12, 32, 32, 3), dtype=np.uint8)
    if i % 2:
        x[:, 8:24, 8:24] = 255
    np.save(tmp_path / f"{i}.npy", x)
    return VideoRef(f"{'Deepfakes' if i % 2 else 'original'}/{i}", i % 2, "original", tmp_path / f"{i}.npy", 12)


def test_fit_keeps_the_best_epoch_and_scores_from_it(tmp_path):
    spec = plugins.get_detector("tiny3d")
    train, val, test = [video(tmp_path, i) for i in range(8)], [video(tmp_path, i) for i in range(8, 12)], \
        [video(tmp_path, i) for i in range(12, 16)]
    config = FitConfig(work_dir=tmp_path / "work", seed=0, size="cpu", clip_len=8, crop_size=32,
                       class_weights=(1.0, 1.0), trunk_len=12, epochs=3)
    report = spec.create("cpu").fit(train, val, config)
    assert report.parameters == spec.meta.sizes["cpu"].parameters
    assert report.best_val_auc == max(h["auc"] for h in report.history) and report.best_checkpoint.is_file()
    scores = spec.create("cpu").score(test, config, report)
    assert len(scores) == 4 and all(0 <= s <= 1 for s in scores)
