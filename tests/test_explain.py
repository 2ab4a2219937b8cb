"""Grad-CAM (`dfbench explain`): windows and strip frames, a network whose answer is known, the real path end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from dfbench import explain as E
from dfbench.detector import ExplainTarget
from dfbench.errors import DfbenchError
from dfbench.layout import REAL, video_path

torch = pytest.importorskip("torch")
pytest.importorskip("pytorch_grad_cam")


def test_strip_is_the_papers_five_frames_24_apart_or_spread_evenly():
    assert E.strip_indices(250) == [0, 24, 48, 72, 96]
    assert E.strip_indices(97) == [0, 24, 48, 72, 96]
    assert E.strip_indices(32) == [0, 8, 16, 23, 31]
    assert E.strip_indices(3) == [0, 1, 2]


def test_windows_cover_every_frame_and_the_last_ends_at_the_end():
    assert E.windows(40, 16) == [(0, 16), (16, 32), (24, 40)]
    assert E.windows(32, 16) == [(0, 16), (16, 32)]
    assert E.windows(10, 16) == [(0, 10)]


class Brightness(torch.nn.Module):
    """logit = mean of a 1x1 conv that averages the channels: its Grad-CAM is the brightness itself."""

    def __init__(self, conv):
        super().__init__()
        self.conv = conv
        with torch.no_grad():
            conv.weight.fill_(1 / 3)
            conv.bias.zero_()

    def forward(self, x):
        return torch.relu(self.conv(x)).flatten(1).mean(1, keepdim=True)


def bright_square(t=20, s=32) -> tuple[np.ndarray, np.ndarray]:
    crops = np.zeros((t, s, s, 3), np.uint8)
    region = np.zeros((t, s, s), bool)
    for i in range(t):  # the square moves, so each window's map must follow its own frames
        y = 4 + i % 10
        crops[i, y:y + 8, 6:14] = 200
        region[i, y:y + 8, 6:14] = True
    return crops, region


@pytest.mark.parametrize("kind", ["clip", "frame"])
def test_heatmaps_find_what_a_known_network_looks_at(kind):
    conv = torch.nn.Conv3d(3, 1, 1) if kind == "clip" else torch.nn.Conv2d(3, 1, 1)
    net = Brightness(conv).eval()
    crops, region = bright_square()
    maps = E.heatmaps(ExplainTarget(net, net.conv, "conv", kind, 8), crops)
    assert maps.shape == (20, 32, 32) and maps.dtype == np.float32 and 0 <= maps.min() and maps.max() <= 1
    got = E.mask_energy(maps, region)
    assert got["frames"] == 20 and got["energy_in_mask"] > 0.99 and got["pointing_game"] == 1.0
    assert got["uniform_baseline"] == pytest.approx(64 / 1024)
    shifted = E.mask_energy(maps, np.roll(region, 16, axis=2))  # a region the network does not look at
    assert shifted["energy_in_mask"] < 0.01 and shifted["pointing_game"] == 0.0


def dfbench(*args, env=None):
    """The installed `dfbench` command (the console script beside this Python)."""
    exe = Path(sys.executable).with_name("dfbench")
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})})


def test_train_score_and_explain_through_the_installed_cli(tiny_synth, tmp_path):
    """resnet3d trained one epoch; one fake test video scored (the record's number) and explained."""
    pytest.importorskip("dfbench_mmaction")
    where = ["--work-dir", tmp_path / "work", "--cache", tmp_path / "cache"]
    proc = dfbench("run", "-d", "resnet3d", "-p", "single", "-m", "DF", "--data", tiny_synth, "--epochs", "1",
                   "--output", tmp_path / "results", *where)
    assert proc.returncode == 0, proc.stderr
    [record] = (tmp_path / "results").glob("*.json")
    stored = {v["key"]: v["score"] for v in json.loads(record.read_text())["videos"]}
    fakes = sorted((k for k in stored if not k.startswith("original/")), key=stored.get, reverse=True)
    key = fakes[0]  # the video the model finds most fake: where Grad-CAM of the fake logit has something to show
    method, name = key.split("/")
    fake = video_path(tiny_synth, method, "c40", name)

    proc = dfbench("score", fake, "--record", record, *where, "--json")
    assert proc.returncode == 0, proc.stderr
    [got] = json.loads(proc.stdout)
    assert got["score"] == pytest.approx(stored[key], abs=1e-5) and got["face_found"]  # the record's own number

    out = tmp_path / "gradcam"
    proc = dfbench("explain", "--record", record, "--video", fake, "--out", out, *where, "--mp4")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "explanation.json").read_text())
    assert summary["layer"] == "layer4" and summary["frames"] == 12 and summary["strip_frames"] == [0, 3, 6, 8, 11]
    maps = np.load(out / "heatmaps.npy")
    assert maps.shape == (12, 64, 64) and np.isfinite(maps).all() and 0 <= maps.min() and maps.max() <= 1
    strip = cv2.imread(str(out / "gradcam_strip.png"))
    assert strip.shape == (128, 5 * 128, 3) and strip.std() > 5  # five 2x tiles, not a flat image
    assert (out / "gradcam.mp4").stat().st_size > 0

    # Behind global pooling and a linear head, layer4's map is the ReLU of each place's share of the
    # logit: zero everywhere where a 1-epoch model finds nothing fake, which is a training outcome.
    # layer3's gradients pass through layer4 and differ from place to place, so the rest of the path
    # (the map, its ground truth, the aggregate) is checked there.
    out = tmp_path / "gradcam3"
    proc = dfbench("explain", "--record", record, "--video", fake, "--out", out, "--layer", "layer3", *where)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "explanation.json").read_text())
    assert summary["layer"] == "layer3" and summary["frames"] == 12
    maps = np.load(out / "heatmaps.npy")
    assert maps.shape == (12, 64, 64) and maps.std() > 0.01  # heatmaps are not constant
    gt = summary["ground_truth"]
    assert gt["real_video"] == str(video_path(tiny_synth, REAL, "c40", name.split("_")[0]))
    assert gt["frames"] == 12 and 0 < gt["uniform_baseline"] < 0.9 and 0 <= gt["energy_in_mask"] <= 1
    assert "in the manipulated region: " in proc.stdout

    proc = dfbench("analyze", "gradcam", "--record", record, "--layer", "layer3", *where, "--json")
    assert proc.returncode == 0, proc.stderr
    agg = json.loads(proc.stdout)
    assert agg["videos"] + len(agg["no_evidence"]) == sum(not k.startswith("original/") for k in stored) == 2
    assert agg["videos"] >= 1 and [r["video"] for r in agg["per_video"]] == [k for k in sorted(fakes)
                                                                            if k not in agg["no_evidence"]]
    lo, hi = agg["energy_over_baseline_ci95"]
    assert agg["ci"]["clusters"] == 1 and lo == pytest.approx(hi) == pytest.approx(agg["energy_over_baseline"])
    assert agg["energy_over_baseline"] == pytest.approx(agg["energy_in_mask"] / agg["uniform_baseline"])


def test_a_detector_that_cannot_be_explained_says_so(tiny_synth, tmp_path, cli, test_plugin, monkeypatch):
    from dfbench.detector import FitReport

    def fit(self, train, val, config):
        config.work_dir.mkdir(parents=True, exist_ok=True)
        (config.work_dir / "best.pt").write_bytes(b"w")
        return FitReport(best_checkpoint=config.work_dir / "best.pt")

    monkeypatch.setattr(test_plugin.detector_cls, "fit", fit)
    code, _, err = cli("run", "-d", "test_brightness", "-p", "single", "-m", "DF", "--data", str(tiny_synth),
                       "--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"),
                       "--cache", str(tmp_path / "cache"))
    assert code == 0, err
    [record] = (tmp_path / "results").glob("*.json")
    video = next((tiny_synth / "original_sequences/youtube/c40/videos").glob("*.mp4"))
    code, _, err = cli("explain", "--record", str(record), "--video", str(video), "--out", str(tmp_path / "x"),
                       "--work-dir", str(tmp_path / "work"), "--cache", str(tmp_path / "cache"))
    assert code == 2 and err == ("error: detector test_brightness cannot be explained: it has no explain_target "
                                 "(dfbench.detector.Explainable); see docs/writing-a-detector-plugin.md\n")
    assert not Path(tmp_path / "x").exists()


def test_another_layer_is_found_by_name_or_refused_in_one_line():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.Sequential(torch.nn.Conv2d(4, 1, 1)))
    target = ExplainTarget(net, net[1], "1", "frame", 1)
    assert E.with_layer(target, None) is target
    inner = E.with_layer(target, "1.0")
    assert inner.layer is net[1][0] and inner.layer_name == "1.0"
    with pytest.raises(DfbenchError, match=r"--layer layer9: no module of that name in the network; it has 0, 1, 1.0"):
        E.with_layer(target, "layer9")
