"""The typed detector contract: build(meta, size), FitReport in and out of the record, --set options, progress."""

import json
from pathlib import Path

import pytest

from dfbench import engine, plugins
from dfbench.detector import DetectorMeta, DetectorSpec, FitProgress, FitReport, LoadedWeights, Option, SizeSpec
from dfbench.engine import RunOptions
from dfbench.errors import DfbenchError
from dfbench.results import DatasetInfo, record_name


def options(data, tmp_path, **kw) -> RunOptions:
    return RunOptions(detector="test_brightness", protocol="single", method="DF", data=data,
                      output=tmp_path / "results", work_dir=tmp_path / "work", cache=tmp_path / "cache", **kw)


def test_build_receives_its_metadata_and_size(test_plugin):
    spec = plugins.get_detector("test_brightness")
    seen = []
    DetectorSpec(spec.meta, lambda meta, size: seen.append((meta, size))).create("paper")
    assert seen == [(spec.meta, "paper")]  # no plugin has to look itself up in its own table


def test_sourced_names_are_valid_metadata_and_file_names():
    meta = DetectorMeta(name="mmaction2:x3d/x3d_s_13x6x1_facebook-kinetics400-rgb", family="x3d", input_kind="clip",
                        sizes={"cpu": SizeSpec(16, 64, 1)}, citation="c")
    assert meta.name.startswith("mmaction2:")
    with pytest.raises(ValueError, match="must be lowercase"):
        DetectorMeta(name="X3D", family="x", input_kind="clip", sizes={"cpu": SizeSpec(16, 64, 1)}, citation="c")
    name = record_name("ffpp-lq-all", "all", meta.name, "cpu", DatasetInfo("synthetic", "c40", ""), 0, "0" * 12)
    assert name == "ffpp-lq-all__all__mmaction2+x3d+x3d_s_13x6x1_facebook-kinetics400-rgb__cpu__synthetic-c40" \
                   "__seed0__000000000000.json"


def test_fit_report_is_stored_portably_and_its_weights_are_the_records_checkpoint(tiny_synth, tmp_path,
                                                                                 test_plugin, monkeypatch):
    def fit(self, train, val, config):
        config.progress(FitProgress(1, 2, {"auc": 0.75, "acc": 0.5}))
        config.progress(FitProgress(2, 2, {"auc": 0.875, "acc": 0.75}))
        return FitReport(best_checkpoint=config.work_dir / "best.pt", epochs=2, best_epoch=2, best_val_auc=0.875,
                         history=[{"epoch": 1, "auc": 0.75}, {"epoch": 2, "auc": 0.875}], parameters=1,
                         pretrained=LoadedWeights("https://example.org/w.pth", "a" * 64, {"format": "x"}),
                         details={"note": "kept"})

    seen = {}

    def score(self, videos, config, fit):
        seen["fit"] = fit  # the very report fit() returned, handed back by the engine
        return [0.5] * len(videos)

    monkeypatch.setattr(test_plugin.detector_cls, "fit", fit)
    monkeypatch.setattr(test_plugin.detector_cls, "score", score)
    lines = []
    [outcome] = engine.run(options(tiny_synth, tmp_path), progress=lines.append)
    rec = json.loads(outcome.path.read_text())
    assert rec["fit"] == {"best_checkpoint": f"$WORK_DIR/{outcome.path.stem}/best.pt", "epochs": 2, "best_epoch": 2,
                          "best_val_auc": 0.875, "selected_on": "val",
                          "history": [{"epoch": 1, "auc": 0.75}, {"epoch": 2, "auc": 0.875}],
                          "pretrained": {"source": "https://example.org/w.pth", "sha256": "a" * 64,
                                         "details": {"format": "x"}},
                          "parameters": 1, "train_seconds": None, "details": {"note": "kept"}}
    assert rec["checkpoint"] == {"source": "https://example.org/w.pth", "sha256": "a" * 64}
    assert seen["fit"].best_checkpoint == tmp_path / "work" / outcome.path.stem / "best.pt"
    assert "[1/1] single-Deepfakes: epoch 1/2: val auc 0.750, val acc 0.500" in lines
    assert "[1/1] single-Deepfakes: epoch 2/2: val auc 0.875, val acc 0.750" in lines


def test_set_options_are_typed_checked_and_enter_the_settings(tiny_synth, tmp_path, test_plugin, monkeypatch, cli):
    monkeypatch.setattr(test_plugin.detector_cls, "options", {"lr": Option(float, "learning rate"),
                                                              "resume": Option(bool, "resume")}, raising=False)
    args = ["run", "-d", "test_brightness", "-p", "single", "--method", "DF", "--data", str(tiny_synth),
            "--output", str(tmp_path / "results"), "--cache", str(tmp_path / "cache"), "--dry-run", "--json"]
    code, out, err = cli(*args, "--set", "lr=1e-4", "--set", "resume=yes")
    assert code == 0, err
    [run] = json.loads(out)["runs"]
    assert run["settings"]["training"]["options"] == {"lr": 0.0001, "resume": True}
    code, out, _ = cli(*args)
    assert "options" not in json.loads(out)["runs"][0]["settings"]["training"]  # none given: settings as before
    assert json.loads(out)["runs"][0]["settings_id"] != run["settings_id"]
    for bad, message in ((["--set", "momentum=0.9"], "error: --set momentum: detector test_brightness has no such "
                          "option; it takes: lr (float: learning rate), resume (bool: resume)"),
                         (["--set", "lr=fast"], "error: --set lr=fast: not a valid float"),
                         (["--set", "lr"], "error: --set 'lr': give KEY=VALUE with a lowercase key")):
        code, _, err = cli(*args, *bad)
        assert code == 2 and err.strip().startswith(message), err
    code, out, _ = cli("detectors", "--options", "test_brightness", "--json")
    assert json.loads(out) == {"lr": {"type": "float", "help": "learning rate"}, "resume": {"type": "bool",
                                                                                           "help": "resume"}}


def test_options_reach_the_detector_typed(tiny_synth, tmp_path, test_plugin, monkeypatch):
    monkeypatch.setattr(test_plugin.detector_cls, "options", {"batch_size": Option(int, "b")}, raising=False)
    got = {}

    def fit(self, train, val, config):
        got.update(config.options)
        return FitReport()

    monkeypatch.setattr(test_plugin.detector_cls, "fit", fit)
    engine.run(options(tiny_synth, tmp_path, options={"batch_size": "8"}))
    assert got == {"batch_size": 8}


def test_a_detector_without_options_refuses_any(tiny_synth, tmp_path, test_plugin):
    with pytest.raises(DfbenchError, match="--set lr: detector test_brightness has no such option; it takes: none"):
        engine.run(options(tiny_synth, tmp_path, options={"lr": "1"}))
    assert not Path(tmp_path / "cache").exists()


def test_the_code_hash_is_the_detectors_code_and_the_base_it_inherits():
    """A built-in detector hashes its plugin's package (not functools, as a partial factory once did); a
    detector on the MMEngine base from another package hashes that base too, so editing it trains again."""
    pytest.importorskip("dfbench_image")
    from functools import partial

    from dfbench.provenance import code_sha256, detector_code_sha256

    resnet3d, mesonet = plugins.get_detector("resnet3d"), plugins.get_detector("mesonet")
    assert detector_code_sha256(resnet3d.build, resnet3d.create("cpu")) == code_sha256("dfbench_mmaction")
    assert detector_code_sha256(partial(resnet3d.build), resnet3d.create("cpu")) == code_sha256("dfbench_mmaction")
    both = detector_code_sha256(mesonet.build, mesonet.create("cpu"))
    assert both not in (code_sha256("dfbench_image"), code_sha256("dfbench_mmaction"))
