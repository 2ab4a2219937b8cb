"""Scoring any video with a trained detector (`dfbench score`) and ROC figures from records (`dfbench analyze roc`)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dfbench import engine
from dfbench.detector import FitReport
from dfbench.engine import RunOptions
from dfbench.layout import video_path
from dfbench.results import read_record

ROOT = Path(__file__).resolve().parents[1]


def run_options(data, tmp_path, detector="test_brightness", **kw) -> RunOptions:
    return RunOptions(detector=detector, protocol="single", method="DF", data=data, output=tmp_path / "results",
                      work_dir=tmp_path / "work", cache=tmp_path / "cache", **kw)


@pytest.fixture
def brightness_record(tiny_synth, tmp_path, test_plugin, monkeypatch) -> Path:
    """A test_brightness record whose fit kept a (dummy) checkpoint file, as a trained detector's does."""

    def fit(self, train, val, config):
        config.work_dir.mkdir(parents=True, exist_ok=True)
        (config.work_dir / "best.pt").write_bytes(b"weights")
        return FitReport(best_checkpoint=config.work_dir / "best.pt", epochs=1)

    monkeypatch.setattr(test_plugin.detector_cls, "fit", fit)
    [outcome] = engine.run(run_options(tiny_synth, tmp_path))
    return outcome.path


def test_score_reproduces_the_records_own_test_scores(brightness_record, tiny_synth, tmp_path, cli):
    record = read_record(brightness_record)
    tests = record.videos[:3]
    paths = [video_path(tiny_synth, v.method, "c40", v.key.split("/")[1]) for v in tests]
    code, out, err = cli("score", *map(str, paths), "--record", str(brightness_record),
                         "--work-dir", str(tmp_path / "work"), "--cache", str(tmp_path / "cache2"), "--json")
    assert code == 0, err
    got = json.loads(out)
    assert [g["video"] for g in got] == list(map(str, paths))
    for g, v in zip(got, tests):
        assert g["score"] == pytest.approx(v.score, abs=1e-12)  # the same crops, the same trunks, the same score
        assert g["face_found"] and g["frames"] == 12 and g["trunks"] == [{"start": 0, "end": 12, "score": g["score"]}]
    assert "[1/3] " in err and "finding and cropping the face" in err  # progress goes to stderr


def test_per_trunk_scores_follow_the_records_trunks(brightness_record, tiny_synth, tmp_path):
    from dfbench.scoring import score_videos
    from dfbench.trained import load

    trained = load(brightness_record, tmp_path / "work")
    short = replace(trained, config=replace(trained.config, trunk_len=5))  # 12 frames: trunks 0-5 and 5-12
    video = next((tiny_synth / "original_sequences/youtube/c40/videos").glob("*.mp4"))
    [verdict] = score_videos(short, [video], tmp_path / "cache")
    crops = np.load(next((tmp_path / "cache").rglob(video.with_suffix(".npy").name)))
    expect = [float(np.clip(crops[a:b].std() / 128.0, 0, 1)) for a, b in ((0, 5), (5, 12))]
    assert [(t["start"], t["end"]) for t in verdict.trunks] == [(0, 5), (5, 12)]
    assert [t["score"] for t in verdict.trunks] == pytest.approx(expect, abs=1e-12)
    assert verdict.score == pytest.approx(np.mean(expect), abs=1e-12)


def test_bad_videos_are_one_line_each_and_the_rest_go_on(brightness_record, tiny_synth, tmp_path, cli):
    good = next((tiny_synth / "original_sequences/youtube/c40/videos").glob("*.mp4"))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(good.read_bytes()[:300])
    nobox = tmp_path / "nobox" / "clip.mp4"  # a video outside the dataset: no box file for the dataset finder
    nobox.parent.mkdir()
    nobox.write_bytes(good.read_bytes())
    code, out, err = cli("score", str(broken), str(good), str(nobox), "--record", str(brightness_record),
                         "--work-dir", str(tmp_path / "work"), "--cache", str(tmp_path / "cache"))
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and str(broken) in errors[0] and str(nobox) in errors[1]
    assert "--face-finder" in errors[1]  # the fix is named
    assert out.startswith(f"{good}: fake probability ") and out.count("\n") == 1


def test_a_missing_checkpoint_is_one_line(brightness_record, tmp_path, cli):
    code, _, err = cli("score", "x.mp4", "--record", str(brightness_record), "--work-dir", str(tmp_path / "elsewhere"))
    assert code == 2 and err.startswith(f"error: {brightness_record}: its trained checkpoint ")
    assert "--work-dir" in err and err.count("\n") == 1


def test_a_tampered_record_is_refused(brightness_record, tmp_path, cli):
    raw = json.loads(brightness_record.read_text())
    raw["videos"][0]["score"] = 1.0 - raw["videos"][0]["score"]
    bad = tmp_path / brightness_record.name
    bad.write_text(json.dumps(raw))
    code, _, err = cli("score", "x.mp4", "--record", str(bad), "--work-dir", str(tmp_path / "work"))
    assert code == 2 and "error: " in err and "recomputed" in err


@pytest.mark.parametrize("detector", ["resnet3d", "mesonet"])  # a clip detector and a frame detector
def test_score_through_a_real_mmengine_detector(tiny_synth, tmp_path, cli, detector):
    """Trained one epoch through the CLI; `dfbench score` on two of its test videos gives the record's scores."""
    pytest.importorskip("dfbench_mmaction" if detector == "resnet3d" else "dfbench_image")
    code, out, err = cli("run", "-d", detector, "-p", "single", "-m", "DF", "--data", str(tiny_synth),
                         "--epochs", "1", "--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"),
                         "--cache", str(tmp_path / "cache"))
    assert code == 0, err
    [path] = (tmp_path / "results").glob("*.json")
    record = read_record(path)
    tests = [v for v in record.videos if v.label == 1][:1] + [v for v in record.videos if v.label == 0][:1]
    videos = [video_path(tiny_synth, v.method, "c40", v.key.split("/")[1]) for v in tests]
    code, out, err = cli("score", *map(str, videos), "--record", str(path), "--work-dir", str(tmp_path / "work"),
                         "--cache", str(tmp_path / "cache"), "--json")
    assert code == 0, err
    assert [g["score"] for g in json.loads(out)] == pytest.approx([v.score for v in tests], abs=1e-5)


def test_analyze_roc_draws_the_committed_records(tmp_path, cli):
    from dfbench.roc_plot import curve, label

    records = sorted((ROOT / "leaderboard" / "results").glob("ffpp-lq-all__all__res*__*.json"))[:3]
    assert len(records) == 3
    code, _, err = cli("analyze", "roc", *map(str, records), "--out", str(tmp_path / "fig" / "roc.png"))
    assert code == 0, err
    assert (tmp_path / "fig" / "roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for path in records:
        r = read_record(path)
        fpr, tpr, auc = curve(r)
        assert auc == pytest.approx(r.metrics["auc"], abs=1e-12) and fpr[0] == 0 and tpr[-1] == 1
        assert label(r).startswith(f"{r.detector} (all): AUC {r.metrics['auc']:.3f} [")
