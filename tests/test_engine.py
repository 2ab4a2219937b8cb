"""The run engine end to end on a small synthetic set, with a torch-free test detector.

The real path with MMAction2 detectors is covered by tests/test_e2e.py.
"""

import json
import shutil

import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from dfbench import engine
from dfbench.detector import FitReport
from dfbench.engine import RunOptions
from dfbench.errors import DfbenchError
from dfbench.results import load_all


def options(data, tmp_path, **kw):
    kw.setdefault("detector", "test_brightness")
    kw.setdefault("protocol", "single")
    return RunOptions(data=data, output=tmp_path / "results", work_dir=tmp_path / "work",
                      cache=tmp_path / "cache", **kw)


def test_run_writes_a_complete_record_and_skips_it_next_time(tiny_synth, tmp_path, test_plugin):
    opts = options(tiny_synth, tmp_path, method="Deepfakes")
    [outcome] = engine.run(opts)
    assert not outcome.skipped
    rec = json.loads(outcome.path.read_text())
    assert rec["protocol"] == "ffpp-lq-single" and rec["protocol_version"] == 1 and rec["run"] == "single-Deepfakes"
    assert rec["dataset"]["kind"] == "synthetic-2x1x1" and rec["dataset"]["compression"] == "c40"
    assert rec["size"] == "cpu"
    assert rec["detector"] == "test_brightness" and rec["detector_plugin"] == "dfbench-test-plugin"
    assert rec["preprocessing"]["face_finder"] == "dataset" and rec["preprocessing"]["crop_scale"] == 1.3
    # test split: 1 pair -> 2 real videos and 2 Deepfakes fakes
    assert sorted((v["method"], v["label"]) for v in rec["videos"]) == [("Deepfakes", 1)] * 2 + [("original", 0)] * 2
    details = rec["fit"]["details"]
    assert details["train"] == 2 * 2 + 2 * 2 and details["class_weights"] is None  # single: unweighted
    labels = [v["label"] for v in rec["videos"]]
    scores = [v["score"] for v in rec["videos"]]
    assert rec["metrics"]["tcr"] == accuracy_score(labels, [s >= 0.5 for s in scores])
    assert rec["metrics"]["auc"] == roc_auc_score(labels, scores)
    mtime = outcome.path.stat().st_mtime_ns
    [again] = engine.run(opts)
    assert again.skipped and outcome.path.stat().st_mtime_ns == mtime


def test_all_protocol_uses_class_weights(tiny_synth, tmp_path, test_plugin):
    [outcome] = engine.run(options(tiny_synth, tmp_path, protocol="all"))
    n_real, n_fake = 4, 4 * 4  # 2 train pairs: 4 real; 4 methods x 4 fakes
    n = n_real + n_fake
    assert outcome.result.fit["details"]["class_weights"] == pytest.approx((n / (2 * n_real), n / (2 * n_fake)))
    assert set(outcome.result.metrics["per_method"]) == {"Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures"}


def test_corrupt_video_is_reported_and_the_run_goes_on(tiny_synth, tmp_path, test_plugin):
    data = tmp_path / "data"
    shutil.copytree(tiny_synth, data)
    bad = next((data / "manipulated_sequences/Deepfakes/c40/videos").glob("*.mp4"))
    bad.write_bytes(bad.read_bytes()[:300])  # truncated
    msgs = []
    [outcome] = engine.run(options(data, tmp_path, method="Deepfakes"), progress=msgs.append)
    failed = outcome.result.failed_videos
    assert [f["key"] for f in failed] == [f"Deepfakes/{bad.stem}"]
    assert failed[0]["error"].startswith(f"{bad}: corrupt or truncated video")
    assert any(m.endswith("re-download or re-encode this file (or delete it to skip it)") for m in msgs)
    assert all(v.key != f"Deepfakes/{bad.stem}" for v in outcome.result.videos)


def test_interrupted_protocol_resumes_at_the_lost_run(tiny_synth, tmp_path, test_plugin, monkeypatch):
    calls = []

    def flaky_fit(self, train, val, config):
        calls.append(config.work_dir.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return FitReport(epochs=0)

    monkeypatch.setattr(test_plugin.detector_cls, "fit", flaky_fit)
    opts = options(tiny_synth, tmp_path, protocol="cross")
    with pytest.raises(KeyboardInterrupt):
        engine.run(opts)
    assert [r.run for r in load_all(opts.output)] == ["cross-Deepfakes"]
    outcomes = engine.run(opts)
    assert [(o.run, o.skipped) for o in outcomes] == [("cross-Deepfakes", True), ("cross-Face2Face", False),
                                                       ("cross-FaceSwap", False), ("cross-NeuralTextures", False)]
    assert len(calls) == 5


def test_unknown_face_finder_and_size(tiny_synth, tmp_path, test_plugin):
    with pytest.raises(DfbenchError,
                       match="unknown face finder 'nope'; use one of dataset, dlib, face-alignment, opencv"):
        engine.run(options(tiny_synth, tmp_path, method="DF", face_finder="nope"))


def test_missing_method_folder_is_named(tiny_synth, tmp_path, test_plugin):
    data = tmp_path / "data"
    shutil.copytree(tiny_synth, data)
    shutil.rmtree(data / "manipulated_sequences/FaceSwap")
    with pytest.raises(DfbenchError, match="FaceSwap/c40/videos: missing; download FaceSwap at c40"):
        engine.dry_run(options(data, tmp_path, protocol="cross"))


def test_records_are_written_readable_like_other_files(tmp_path):
    import os

    from dfbench.results import write_atomic

    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "r.json", "{}")
    finally:
        os.umask(umask)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
