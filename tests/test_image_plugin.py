"""The image plugin through the installed `dfbench` command: found by its entry point, run end to end,
rendered on the leaderboard, and a malicious --pretrained file refused."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("dfbench_image")

from sklearn.metrics import accuracy_score  # noqa: E402

from dfbench import leaderboard  # noqa: E402
from dfbench.results import DatasetInfo, RunResult, VideoScore  # noqa: E402

DFBENCH = [sys.executable, "-m", "dfbench"]
IMAGE = ["steg_svm", "cozzolino", "bayar_stamm", "rahmouni", "mesonet", "mesoinception", "xception"]


def test_found_through_the_entry_point():
    proc = subprocess.run([*DFBENCH, "detectors", "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    listed = {d["name"]: d for d in json.loads(proc.stdout)["detectors"]}
    for name in IMAGE:
        d = listed[name]
        assert d["plugin"] == "dfbench-image" and d["input"] == "frame"
        assert d["sizes"]["cpu"]["clip_len"] == 1 and d["sizes"]["cpu"]["crop_size"] == 64
    assert listed["xception"]["sizes"]["paper"] == {"clip_len": 1, "crop_size": 299, "parameters": 20_809_001}
    assert listed["mesonet"]["paper_name"] == "MesoNet" and listed["mesoinception"]["paper_name"] == ""
    assert listed["mesonet"]["paper_parameters"] == 27_977


def _env(tmp_path):
    return {**os.environ, "DFBENCH_CACHE": str(tmp_path / "cache")}


@pytest.mark.slow
def test_run_mesonet_single_then_leaderboard(tiny_synth, tmp_path):
    proc = subprocess.run(
        [*DFBENCH, "run", "--detector", "mesonet", "--protocol", "single", "--method", "Deepfakes",
         "--data", str(tiny_synth), "--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"),
         "--epochs", "1", "--json"],
        capture_output=True, text=True, env=_env(tmp_path), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [summary] = json.loads(proc.stdout)
    assert summary["run"] == "single-Deepfakes" and not summary["skipped"]
    rec = json.loads(open(summary["path"]).read())
    assert rec["detector"] == "mesonet" and rec["detector_plugin"] == "dfbench-image" and rec["size"] == "cpu"
    assert rec["preprocessing"]["train_frames_per_video"] == 270 and rec["preprocessing"]["crop_size"] == 64
    # 2 training pairs: 4 real and 4 Deepfakes videos of 12 frames, fewer than 270, so every frame.
    assert rec["fit"]["details"]["train_frames"] == 8 * 12 and rec["fit"]["details"]["frames_per_video"] == 270
    assert rec["fit"]["selected_on"] == "val" and rec["fit"]["best_checkpoint"].startswith("$WORK_DIR/ffpp-lq-single__")
    assert {v["method"] for v in rec["videos"]} == {"original", "Deepfakes"} and len(rec["videos"]) == 4
    labels, scores = [v["label"] for v in rec["videos"]], [v["score"] for v in rec["videos"]]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert rec["metrics"]["tcr"] == accuracy_score(labels, [s >= 0.5 for s in scores])
    assert "training mesonet (cpu)" in proc.stderr

    board = subprocess.run([*DFBENCH, "leaderboard", "--results", str(tmp_path / "results")],
                           capture_output=True, text=True, env=_env(tmp_path), timeout=120)
    assert board.returncode == 0, board.stderr
    single = board.stdout.split("## Protocol `single`")[1].split("## Protocol `cross`")[0]
    rows = [line for line in single.splitlines() if line.startswith("| mesonet")]
    assert rows[0].startswith("| mesonet (variant not stated) | paper (FF++ c40)")  # the paper's row first
    assert "measured: synthetic-2x1x1 c40" in rows[1] and f"{rec['metrics']['tcr'] * 100:.2f}" in rows[1]


@pytest.mark.slow  # paper-size (299) crops and a 20.8 M-parameter network are built before the load
def test_malicious_pretrained_refused_by_the_cli(tiny_synth, tmp_path):
    import torch

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "evil.pth"
    torch.save({"conv1.weight": Evil()}, evil)
    proc = subprocess.run(
        [*DFBENCH, "run", "--detector", "xception", "--size", "paper", "--protocol", "single", "--method",
         "Deepfakes", "--data", str(tiny_synth), "--output", str(tmp_path / "results"), "--work-dir",
         str(tmp_path / "work"), "--epochs", "1", "--pretrained", str(evil)],
        capture_output=True, text=True, env=_env(tmp_path), timeout=600)
    assert proc.returncode == 2, proc.stderr[-3000:]
    [error] = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert "evil.pth: refused: loading it would run code" in error
    assert not marker.exists() and not (tmp_path / "results").exists()


def _record(detector, kind, run, test, tcr, auc):
    methods = ["Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures"]
    train = [m for m in methods if m not in test] if kind == "cross" else test
    return RunResult(
        protocol=f"ffpp-lq-{kind}", protocol_version=1, protocol_kind=kind, run=run, train_methods=train,
        test_methods=test, detector=detector, detector_plugin="dfbench-image", size="cpu", parameters=1,
        dataset=DatasetInfo(kind="synthetic", compression="c40", root="", seed=0), seed=0, dfbench_version="0.1.0",
        git_revision="0" * 40, metrics={"tcr": tcr, "auc": auc},
        videos=[VideoScore(key="original/000", method="original", label=0, score=0.25)])


def test_measured_image_records_render_in_their_tables():
    methods = ["Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures"]
    records = [_record("xception", "all", "all", methods, 0.8125, 0.875),
               _record("mesoinception", "single", "single-FaceSwap", ["FaceSwap"], 0.625, 0.7),
               _record("steg_svm", "cross", "cross-Face2Face", ["Face2Face"], 0.5, 0.5)]
    page = leaderboard.render(records)
    sections = {k: page.split(f"## Protocol `{k}`")[1].split("## ")[0] for k in ("all", "single", "cross")}
    rows = lambda k, name: [ln for ln in sections[k].splitlines() if ln.startswith(f"| {name} ")]  # noqa: E731
    [paper, measured] = rows("all", "xception")
    assert "paper (FF++ c40)" in paper and "81.00" in paper
    assert "measured: synthetic c40" in measured and "81.25" in measured and "0.875" in measured
    # mesoinception has no paper row; its measured row sits after mesonet's paper row, FaceSwap's column.
    single = sections["single"].splitlines()
    [meso_inc] = rows("single", "mesoinception")
    assert single.index(meso_inc) > single.index(rows("single", "mesonet (variant not stated)")[0])
    assert meso_inc.split("|")[5].strip() == "62.50"
    [steg] = rows("cross", "steg_svm")  # the paper has no cross-manipulation numbers for image baselines
    assert steg.split("|")[4].strip() == "50.00"  # the held-out Face2Face column
