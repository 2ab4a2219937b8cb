"""The shortcut probe: its features, its fits, its gates, and `dfbench data probe` on a real set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dfbench import probe
from dfbench.layout import METHODS, REAL


def _items(n_pairs: int, split: str) -> list[probe.VideoItem]:
    out = []
    for p in range(n_pairs):
        a, b = f"{2 * p:03d}", f"{2 * p + 1:03d}"
        out += [probe.VideoItem(f"{REAL}/{i}", REAL, 0, f"{a}_{b}", f"/{split}/{i}.mp4") for i in (a, b)]
        out += [probe.VideoItem(f"{m}/{t}_{s}", m, 1, f"{a}_{b}", f"/{split}/{m}/{t}_{s}.mp4")
                for m in METHODS for t, s in ((a, b), (b, a))]
    return out


def _features(items, rng, planted: str | None = None, method: str | None = None) -> np.ndarray:
    x = rng.normal(size=(len(items), len(probe.FEATURES)))
    if planted:
        j = probe.FEATURES.index(planted)
        for i, it in enumerate(items):
            if it.label and (method is None or it.method == method):
                x[i, j] += 6.0
    return x


def test_a_planted_shortcut_is_found_and_named():
    rng = np.random.default_rng(0)
    items = {"train": _items(12, "train"), "test": _items(12, "test")}
    feats = {s: _features(items[s], rng, "face_r", method="FaceSwap") for s in items}
    rows = {r["run"]: r for r in probe.evaluate(items, feats, bootstrap=False)}
    assert [r for r in rows] == [run for _, run, _, _ in probe.runs()]
    assert rows["single-FaceSwap"]["auc"] > 0.95 and rows["single-FaceSwap"]["best_feature"] == "face_r"
    assert rows["single-FaceSwap"]["best_feature_auc"] > 0.99
    assert rows["single-Deepfakes"]["auc"] < 0.8  # nothing planted there
    assert abs(rows["single-Deepfakes"]["file_size_auc"] - 0.5) < 0.3
    gates = probe.gates(list(rows.values()))
    checks = gates["checks"]
    assert not gates["ok"] and not checks["single-FaceSwap"]["ok"] and checks["single-Face2Face"]["ok"]


def test_no_shortcut_no_separation():
    rng = np.random.default_rng(1)
    items = {"train": _items(20, "train"), "test": _items(20, "test")}
    feats = {s: _features(items[s], rng) for s in items}
    rows = probe.evaluate(items, feats)
    assert all(0.3 < r["auc"] < 0.7 for r in rows)
    assert all(len(r["auc_ci95"]) == 2 and r["auc_ci95"][0] <= r["auc"] <= r["auc_ci95"][1] for r in rows)
    assert probe.gates(rows)["ok"]


def test_a_feature_learnt_backwards_on_train_is_not_flipped_on_test():
    """A single feature's direction comes from train: a reversed relation scores below 0.5 on test."""
    rng = np.random.default_rng(2)
    items = {"train": _items(10, "train"), "test": _items(10, "test")}
    feats = {"train": _features(items["train"], rng, "lap_face"), "test": _features(items["test"], rng)}
    j = probe.FEATURES.index("lap_face")
    feats["test"][:, j] -= 6.0 * np.array([it.label for it in items["test"]])
    row = probe.evaluate(items, feats, bootstrap=False)[0]
    assert row["features_auc"]["lap_face"] < 0.05


def test_video_features_are_finite_and_complete(tiny_synth):
    video = next((tiny_synth / "original_sequences/youtube/c40/videos").glob("*.mp4"))
    f = probe.video_features(str(video))
    assert f.shape == (len(probe.FEATURES),) and np.isfinite(f).all()
    assert f[probe.FEATURES.index(probe.FILE_SIZE)] == pytest.approx(video.stat().st_size / 1024 / 12)


def test_cli_probe_prints_every_run_and_the_gates(tiny_synth):
    dfbench = Path(sys.executable).with_name("dfbench")
    proc = subprocess.run([str(dfbench), "data", "probe", str(tiny_synth), "--workers", "1", "--json"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [r["run"] for r in report["runs"]] == [run for _, run, _, _ in probe.runs()]
    assert report["features"] == list(probe.FEATURES)
    assert set(report["gates"]["checks"]) == {"all", *(f"single-{m}" for m in METHODS), "file_size"}
    text = probe.format_report(report)  # what the command prints without --json
    assert "best single feature" in text and "gate all" in text and len(text.splitlines()) == 1 + 9 + 1 + 6 + 1


@pytest.mark.slow
def test_the_embedded_default_against_the_probe_gates(tmp_path):
    """Issue 10's gates on the embedded default (version 5 at 24/6/16, generated through the path `dfbench run`
    takes): `all`, three of the four `single` methods and the file size hold; Face2Face does not (measured
    0.889, docs/synthetic-data.md). A change that opens a new shortcut fails here; one that closes Face2Face's
    fails too, and then this test and the docs say the gate holds."""
    from dfbench.cache import embedded_dataset

    root = embedded_dataset(tmp_path, "c40")
    report = probe.probe(root, workers=2)
    checks = report["gates"]["checks"]
    assert {k: c["ok"] for k, c in checks.items()} == {
        "all": True, "single-Deepfakes": True, "single-Face2Face": False, "single-FaceSwap": True,
        "single-NeuralTextures": True, "file_size": True}
    assert checks["single-Face2Face"]["auc"] <= 0.92  # the known failure may not grow
    assert checks["all"]["auc"] == pytest.approx(0.690, abs=0.005)  # the measured value: the generator is exact
