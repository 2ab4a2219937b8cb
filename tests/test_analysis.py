"""Feature correlation (§5.4) by number, and the leaderboard's figures made from records and their checkpoints."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from dfbench.correlation import channel_correlation
from dfbench.errors import DfbenchError


def test_channel_correlation_of_known_features():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(400, 1))
    feats = np.concatenate([base, -base, rng.normal(size=(400, 2)), np.zeros((400, 1))], axis=1)  # 5 channels, 1 dead
    got = channel_correlation(feats)
    m = got["matrix"]
    assert m.shape == (4, 4) and got["channels"] == 5 and got["dead_channels"] == 1 and got["inputs"] == 400
    assert m[0, 1] == pytest.approx(-1.0) and abs(m[2, 3]) < 0.15 and np.allclose(np.diag(m), 1)
    off = np.abs(m[~np.eye(4, dtype=bool)])
    assert got["mean_abs_offdiag"] == pytest.approx(off.mean()) and got["mean_abs_offdiag"] > 2 / 12 * 0.99
    independent = channel_correlation(rng.normal(size=(400, 6)))
    assert independent["mean_abs_offdiag"] < 0.08  # independent channels: near 0; the quantity can fall
    with pytest.raises(DfbenchError, match="too few to correlate"):
        channel_correlation(np.zeros((10, 3)))


def test_figures_from_records_and_checkpoints_and_the_leaderboard_links_them(tiny_synth, tmp_path, cli):
    pytest.importorskip("dfbench_mmaction")
    pytest.importorskip("pytorch_grad_cam")
    common = ["--data", str(tiny_synth), "--epochs", "1", "--output", str(tmp_path / "board" / "results"),
              "--work-dir", str(tmp_path / "work"), "--cache", str(tmp_path / "cache")]
    for detector in ("resnet3d", "resnet3d_se", "resnet3d_nl"):
        code, _, err = cli("run", "-d", detector, "-p", "all", *common)
        assert code == 0, err
    figures = tmp_path / "board" / "figures"
    code, out, err = cli("analyze", "figures", "--results", str(tmp_path / "board" / "results"), "--out",
                         str(figures), "--work-dir", str(tmp_path / "work"), "--cache", str(tmp_path / "cache"))
    assert code == 0, err
    names = {p.name for p in figures.iterdir()}
    assert names == {"roc_all.png", "gradcam_resnet3d.png", "gradcam_resnet3d_se.png", "gradcam_resnet3d_nl.png",
                     "gradcam.json", "correlation.png", "correlation.json", "correlation.npz"}
    grad = json.loads((figures / "gradcam.json").read_text())
    assert [g["detector"] for g in grad] == ["resnet3d", "resnet3d_se", "resnet3d_nl"]
    assert len({g["video"] for g in grad}) == 1 and grad[0]["video"].split("/")[0] != "original"  # one fake video
    assert all(g["ground_truth"]["frames"] > 0 and 0 <= g["ground_truth"]["energy_in_mask"] <= 1 for g in grad)
    corr = json.loads((figures / "correlation.json").read_text())
    assert [m["detector"] for m in corr["models"]] == ["resnet3d", "resnet3d_se", "resnet3d_nl"]
    assert all(m["layer"] == "layer4" and 0 <= m["mean_abs_offdiag"] <= 1 for m in corr["models"])
    with np.load(figures / "correlation.npz") as z:
        assert z["resnet3d"].shape[0] == corr["models"][0]["channels"] - corr["models"][0]["dead_channels"]
    code, _, err = cli("leaderboard", "--results", str(tmp_path / "board" / "results"), "--out",
                       str(tmp_path / "board" / "README.md"))
    assert code == 0, err
    text = (tmp_path / "board" / "README.md").read_text()
    assert "## Figures" in text and "- [roc_all.png](figures/roc_all.png)" in text
    assert "- [gradcam_resnet3d_se.png](figures/gradcam_resnet3d_se.png)" in text
    # a board with two of the three: their figures, and a warning naming the missing one
    two = tmp_path / "two"
    two.mkdir()
    for path in (tmp_path / "board" / "results").glob("*.json"):
        if "__resnet3d__" not in path.name:
            shutil.copy(path, two)
    code, _, err = cli("analyze", "figures", "--results", str(two), "--out", str(tmp_path / "fig2"),
                       "--work-dir", str(tmp_path / "work"), "--cache", str(tmp_path / "cache"))
    assert code == 0, err
    assert "no 'all' record of resnet3d: Grad-CAM and correlation figures of resnet3d_se, resnet3d_nl only" in err
    assert [g["detector"] for g in json.loads((tmp_path / "fig2" / "gradcam.json").read_text())] == [
        "resnet3d_se", "resnet3d_nl"]
    assert not (tmp_path / "fig2" / "gradcam_resnet3d.png").exists()


def test_figures_without_checkpoints_is_one_line(tmp_path, cli):
    from pathlib import Path

    results = tmp_path / "results"
    results.mkdir()
    for p in Path(__file__).resolve().parents[1].glob("leaderboard/results/ffpp-lq-all__all__resnet3d*__*.json"):
        shutil.copy(p, results)
    code, _, err = cli("analyze", "figures", "--results", str(results), "--out", str(tmp_path / "fig"),
                       "--work-dir", str(tmp_path / "nowhere"))
    assert code == 2 and "its trained checkpoint" in err and "--work-dir" in err
    assert (tmp_path / "fig" / "roc_all.png").is_file()  # the ROC needs no checkpoint and is made first


def test_the_core_imports_no_framework():
    """The analysis modules import torch, matplotlib and grad-cam only when they run, so listing, planning
    and the leaderboard stay cheap and work without them."""
    import subprocess
    import sys

    code = ("import sys, pkgutil, importlib, dfbench\n"
            "for m in pkgutil.walk_packages(dfbench.__path__, 'dfbench.'):\n"
            "    if not m.name.endswith('__main__'):\n"
            "        importlib.import_module(m.name)\n"
            "print(sorted(k for k in ('torch', 'matplotlib', 'pytorch_grad_cam', 'mmengine') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
