"""Grad-CAM (`dfbench explain`): windows and strip frames, a network whose answer is known, the real path end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dfbench import explain as E
from dfbench.detector import ExplainTarget
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


def test_explain_a_trained_resnet3d_and_check_it_against_the_manipulated_region(tiny_synth, tmp_path, cli):
    pytest.importorskip("dfbench_mmaction")
    code, _, err = cli("run", "-d", "resnet3d", "-p", "single", "-m", "DF", "--data", str(tiny_synth), "--epochs", "1",
                       "--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"),
                       "--cache", str(tmp_path / "cache"))
    assert code == 0, err
    [record] = (tmp_path / "results").glob("*.json")
    fake = next((tiny_synth / "manipulated_sequences/Deepfakes/c40/videos").glob("*.mp4"))
    out = tmp_path / "gradcam"
    code, text, err = cli("explain", "--record", str(record), "--video", str(fake), "--out", str(out),
                          "--work-dir", str(tmp_path / "work"), "--cache", str(tmp_path / "cache"), "--mp4")
    assert code == 0, err
    summary = json.loads((out / "explanation.json").read_text())
    assert summary["layer"] == "layer4" and summary["frames"] == 12 and summary["strip_frames"] == [0, 3, 6, 8, 11]
    maps = np.load(out / "heatmaps.npy")
    assert maps.shape == (12, 64, 64) and np.isfinite(maps).all() and 0 <= maps.min() and maps.max() <= 1
    assert (out / "gradcam_strip.png").read_bytes()[:4] == b"\x89PNG" and (out / "gradcam.mp4").stat().st_size > 0
    gt = summary["ground_truth"]
    assert gt["real_video"] == str(video_path(tiny_synth, REAL, "c40", fake.stem.split("_")[0]))
    assert gt["frames"] == 12 and 0 < gt["uniform_baseline"] < 0.9 and 0 <= gt["energy_in_mask"] <= 1
    assert "in the manipulated region: " in text


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
