"""Results a benchmark can trust: run identity, checks before work, detector output checks, locks,
atomic writes and the data tools' refusals (docs/bad-input.md lists each case and what users see)."""

import errno
import json
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CentreFinder

from dfbench import engine, results
from dfbench.detector import FitReport
from dfbench.engine import RunOptions
from dfbench.errors import DfbenchError
from dfbench.settings import settings_id


def options(data, tmp_path, **kw):
    kw.setdefault("detector", "test_brightness")
    kw.setdefault("protocol", "single")
    kw.setdefault("method", "Deepfakes")
    kw.setdefault("output", tmp_path / "results")
    return RunOptions(data=data, work_dir=tmp_path / "work", cache=tmp_path / "cache", **kw)


def records(folder: Path) -> list[Path]:
    return sorted(Path(folder).glob("*.json"))


# --- run identity ---------------------------------------------------------------------------------


def test_record_stores_the_settings_its_id_hashes(tiny_synth, tmp_path, test_plugin):
    [outcome] = engine.run(options(tiny_synth, tmp_path))
    rec = json.loads(outcome.path.read_text())
    assert rec["schema"] == 2 and rec["settings_id"] == settings_id(rec["settings"])
    assert outcome.path.name.endswith(f"__seed0__{rec['settings_id']}.json")
    s = rec["settings"]
    assert s["protocol"] == {"id": "ffpp-lq-single", "version": 1, "run": "single-Deepfakes",
                             "train_methods": ["Deepfakes"], "test_methods": ["Deepfakes"]}
    assert s["data"]["kind"] == "synthetic-2x1x1" and s["data"]["videos"] == {"train": 8, "val": 4, "test": 4}
    assert s["preprocessing"]["face_finder"] == "dataset" and s["preprocessing"]["crop_size"] == 112
    assert s["detector"]["name"] == "test_brightness" and len(s["detector"]["code_sha256"]) == 64
    assert s["training"] == {"epochs": None, "seed": 0, "precision": "fp32", "pretrained": None, "world_size": 1,
                             "class_weighted_loss": False}
    # every test video knows its pair: a real video and the fakes made from it share one
    pairs = {v["key"]: v["pair"] for v in rec["videos"]}
    assert len(set(pairs.values())) == 1 and all("_" in p for p in pairs.values())


def test_rerun_with_other_settings_trains_again_beside_the_old_record(tiny_synth, tmp_path, test_plugin):
    [first] = engine.run(options(tiny_synth, tmp_path))
    before = first.path.read_bytes()
    [same] = engine.run(options(tiny_synth, tmp_path))
    assert same.skipped and same.path == first.path
    [epochs] = engine.run(options(tiny_synth, tmp_path, epochs=3))
    assert not epochs.skipped and epochs.path != first.path
    other_data = tmp_path / "data2"
    shutil.copytree(tiny_synth, other_data)
    video = next((other_data / "manipulated_sequences/Deepfakes/c40/videos").glob("*.mp4"))
    video.write_bytes(video.read_bytes() + b"\0")  # one byte more: other data
    [data] = engine.run(options(other_data, tmp_path))
    assert not data.skipped and data.path not in (first.path, epochs.path)
    assert first.path.read_bytes() == before  # never overwritten
    assert len(records(tmp_path / "results")) == 3
    ids = {json.loads(p.read_text())["settings_id"] for p in records(tmp_path / "results")}
    assert len(ids) == 3


class _FinderPlugin:
    from dfbench.hookspecs import hookimpl

    @hookimpl
    def register_face_finders(self, register):
        register("test-centre", CentreFinder)


@pytest.fixture
def centre_finder():
    from dfbench import plugins

    plugins.load_plugins()
    plugin = _FinderPlugin()
    plugins.pm.register(plugin, name="dfbench-test-finder")
    plugins.reset()
    yield "test-centre"
    plugins.pm.unregister(plugin)
    plugins.reset()


def test_another_face_finder_trains_again(cli, tiny_synth, tmp_path, test_plugin, centre_finder):
    args = ["run", "-d", "test_brightness", "-p", "single", "--method", "DF", "--data", str(tiny_synth),
            "--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"),
            "--cache", str(tmp_path / "cache"), "--json"]
    code, out, err = cli(*args)
    [first] = json.loads(out)
    code, out, err = cli(*args, "--face-finder", centre_finder)
    assert code == 0, err
    [other] = json.loads(out)
    assert not other["skipped"] and other["path"] != first["path"]
    rec = json.loads(Path(other["path"]).read_text())
    assert rec["settings"]["preprocessing"]["face_finder"] == "test-centre" and rec["failed_videos"] == []
    code, out, err = cli(*args, "--face-finder", centre_finder)
    assert json.loads(out)[0]["skipped"]


def test_changed_detector_code_trains_again(tiny_synth, tmp_path, test_plugin, monkeypatch):
    engine.run(options(tiny_synth, tmp_path))
    monkeypatch.setattr(engine, "detector_code_sha256", lambda build, detector: "f" * 64)
    [again] = engine.run(options(tiny_synth, tmp_path))
    assert not again.skipped and len(records(tmp_path / "results")) == 2


def test_dry_run_json_shows_each_settings_id_and_whether_it_is_finished(cli, tiny_synth, tmp_path, test_plugin):
    args = ["run", "-d", "test_brightness", "-p", "single", "--method", "DF", "--data", str(tiny_synth),
            "--output", str(tmp_path / "results"), "--cache", str(tmp_path / "cache"), "--dry-run", "--json"]
    code, out, _ = cli(*args)
    [planned] = json.loads(out)["runs"]
    assert code == 0 and planned["finished"] is False and len(planned["settings_id"]) == 12
    assert planned["settings_id"] == settings_id(planned["settings"])
    [outcome] = engine.run(options(tiny_synth, tmp_path))
    code, out, _ = cli(*args)
    [planned_again] = json.loads(out)["runs"]
    assert planned_again["finished"] is True and planned_again["settings_id"] == planned["settings_id"]
    assert outcome.result.settings_id == planned["settings_id"]
    code, out, _ = cli(*args, "--epochs", "2")
    assert json.loads(out)["runs"][0]["finished"] is False


def test_a_truncated_record_is_set_aside_and_the_run_trains_again(tiny_synth, tmp_path, test_plugin):
    [first] = engine.run(options(tiny_synth, tmp_path))
    text = first.path.read_text()
    first.path.write_text(text[: len(text) // 2])
    msgs = []
    [again] = engine.run(options(tiny_synth, tmp_path), progress=msgs.append)
    assert not again.skipped and again.path == first.path
    aside = first.path.with_name(first.path.name + ".corrupt")
    assert aside.read_text() == text[: len(text) // 2]  # kept as evidence, not deleted
    assert any("not valid JSON" in m and "kept it as" in m for m in msgs)


# --- checks before any work -----------------------------------------------------------------------


@pytest.mark.parametrize("extra, message", [
    (["--seed", "-1"], "error: --seed -1: must be between 0 and 4294967295"),
    (["--epochs", "0"], "error: --epochs 0: must be at least 1"),
    (["--precision", "fp16"], "error: --precision fp16 needs a CUDA GPU"),
])
def test_bad_numbers_fail_before_any_crop(cli, tiny_synth, tmp_path, test_plugin, extra, message):
    code, _, err = cli("run", "-d", "test_brightness", "-p", "single", "--method", "DF",
                           "--data", str(tiny_synth), "--output", str(tmp_path / "results"),
                           "--work-dir", str(tmp_path / "work"), "--cache", str(tmp_path / "cache"), *extra)
    assert code == 2 and err.startswith(message) and err.count("\n") == 1
    assert not (tmp_path / "cache").exists() and not (tmp_path / "results").exists()


def test_unwritable_output_fails_before_any_crop(tiny_synth, tmp_path, test_plugin):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DfbenchError, match=r"a-file/results: the output folder is not writable"):
        engine.run(options(tiny_synth, tmp_path, output=blocker / "results"))
    assert not (tmp_path / "cache").exists()


def test_output_disk_without_free_space_fails_before_any_crop(tiny_synth, tmp_path, test_plugin, monkeypatch):
    from collections import namedtuple

    from dfbench import preflight

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(preflight.shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(DfbenchError, match=r"only 1 MiB free for the output folder"):
        engine.run(options(tiny_synth, tmp_path))
    assert not (tmp_path / "cache").exists()


def test_empty_or_unsafe_pretrained_file_fails_before_any_crop(tiny_synth, tmp_path, test_plugin,
                                                               malicious_checkpoint):
    empty = tmp_path / "empty.pth"
    empty.touch()
    with pytest.raises(DfbenchError, match=r"empty.pth: the pretrained checkpoint is an empty file"):
        engine.run(options(tiny_synth, tmp_path, pretrained=str(empty)))
    path, marker = malicious_checkpoint
    with pytest.raises(DfbenchError, match=r"refused: loading it would run code"):
        engine.run(options(tiny_synth, tmp_path, pretrained=str(path)))
    assert not marker.exists() and not (tmp_path / "cache").exists()


def test_a_detector_that_cannot_be_built_is_one_line_naming_its_plugin(tiny_synth, tmp_path, test_plugin,
                                                                        monkeypatch):
    def broken():
        raise RuntimeError("CUDA driver missing\nlong traceback text")

    monkeypatch.setattr(test_plugin, "detector_cls", broken)
    with pytest.raises(DfbenchError) as e:
        engine.run(options(tiny_synth, tmp_path))
    assert str(e.value) == ("detector test_brightness (plugin dfbench-test-plugin) could not be built at size cpu: "
                            "RuntimeError: CUDA driver missing; report it to the plugin's authors")
    assert not (tmp_path / "cache").exists()


def test_a_detector_that_refuses_the_settings_fails_before_any_crop(tiny_synth, tmp_path, test_plugin,
                                                                     monkeypatch):
    def check(self, config):
        raise DfbenchError(f"no bf16 here ({config.precision})")

    monkeypatch.setattr(test_plugin.detector_cls, "check", check, raising=False)
    with pytest.raises(DfbenchError, match=r"no bf16 here \(bf16\)"):
        engine.run(options(tiny_synth, tmp_path, precision="bf16"))
    assert not (tmp_path / "cache").exists()


# --- what a detector hands back -------------------------------------------------------------------


@pytest.mark.parametrize("scores, message", [
    (lambda n: [float("nan")] * n, "score(s) outside [0, 1] or not finite"),
    (lambda n: [1.5] * n, "score(s) outside [0, 1] or not finite"),
    (lambda n: [0.5] * (n + 1), "scores for"),
    (lambda n: ["high"] * n, "not numbers"),
])
def test_bad_scores_are_refused_and_no_record_is_written(tiny_synth, tmp_path, test_plugin, monkeypatch,
                                                         scores, message):
    monkeypatch.setattr(test_plugin.detector_cls, "score", lambda self, videos, config, fit: scores(len(videos)))
    with pytest.raises(DfbenchError, match=r"detector test_brightness .*" + message.replace("[", r"\[")
                       .replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        engine.run(options(tiny_synth, tmp_path))
    assert records(tmp_path / "results") == []


@pytest.mark.parametrize("report, message", [
    (FitReport(details={"model": object()}), "detector test_brightness: fit.. report is not JSON-serialisable"),
    ({"epochs": 1}, r"detector test_brightness: fit\(\) returned a dict, not a dfbench.detector.FitReport"),
])
def test_a_fit_report_that_is_not_json_is_refused(tiny_synth, tmp_path, test_plugin, monkeypatch, report, message):
    monkeypatch.setattr(test_plugin.detector_cls, "fit", lambda self, train, val, config: report)
    with pytest.raises(DfbenchError, match=message):
        engine.run(options(tiny_synth, tmp_path))
    assert records(tmp_path / "results") == []


# --- concurrency and interruption -----------------------------------------------------------------


def test_an_identical_run_waits_for_the_lock_then_skips(tiny_synth, tmp_path, test_plugin):
    from filelock import FileLock

    plan = engine.dry_run(options(tiny_synth, tmp_path))
    record = Path(plan["runs"][0]["record"])
    lock = FileLock(str(record.parent / ".locks" / (record.stem + ".lock")))
    record.parent.joinpath(".locks").mkdir(parents=True)
    msgs: list[str] = []
    outcomes = []
    with lock:
        worker = threading.Thread(target=lambda: outcomes.extend(engine.run(options(tiny_synth, tmp_path),
                                                                            progress=msgs.append)))
        worker.start()
        deadline = time.monotonic() + 60
        while not any("waiting for it to finish" in m for m in msgs) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("another dfbench process is running this very run" in m for m in msgs)
        assert not record.exists()  # it waits: nothing trained while the lock is held
        # the holder finishes the run meanwhile
        [done] = engine.run(options(tiny_synth, tmp_path / "elsewhere"))
        shutil.copy(done.path, record)
    worker.join(60)
    assert [o.skipped for o in outcomes] == [True]


def test_disk_full_while_writing_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch):
    target = tmp_path / "record.json"
    target.write_text("old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DfbenchError, match=r"record.json: disk full, nothing written"):
        results.write_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_mmengine_checkpoints_are_saved_through_the_atomic_writer(tmp_path, monkeypatch):
    from mmengine.fileio import get_file_backend

    from dfbench_mmaction.checkpoints import ATOMIC_BACKEND, register_atomic_backend

    register_atomic_backend()
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend=ATOMIC_BACKEND))
    backend.put(b"weights v1", str(tmp_path / "epoch_1.pth"))
    assert (tmp_path / "epoch_1.pth").read_bytes() == b"weights v1"

    def crash(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b"weights v2 " * 1000, str(tmp_path / "epoch_1.pth"))
    assert (tmp_path / "epoch_1.pth").read_bytes() == b"weights v1"
    assert [p.name for p in tmp_path.iterdir()] == ["epoch_1.pth"]


def test_ctrl_c_and_disk_full_are_one_line(cli, monkeypatch):
    from dfbench import cli as cli_module

    def interrupted(**kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module.cli, "main", interrupted)
    code, _, err = cli("run")
    assert code == 130 and err == "interrupted: finished runs are saved; run the same command again to resume\n"

    def full(**kw):
        raise OSError(errno.ENOSPC, "No space left on device", "/work/epoch_3.pth")

    monkeypatch.setattr(cli_module.cli, "main", full)
    code, _, err = cli("run")
    assert code == 1 and err.startswith("error: disk full writing /work/epoch_3.pth;") and err.count("\n") == 1


# --- data tools -----------------------------------------------------------------------------------


def test_synth_refuses_a_folder_it_did_not_write_and_deletes_nothing(cli, tmp_path):
    mine = tmp_path / "mine"
    (mine / "splits").mkdir(parents=True)
    (mine / "splits" / "notes.txt").write_text("my notes")
    code, _, err = cli("data", "synth", "--out", str(mine), "--pairs", "1,1,1", "--frames", "4")
    assert code == 2 and "not empty and not a dfbench synthetic set" in err and err.count("\n") == 1
    assert (mine / "splits" / "notes.txt").read_text() == "my notes"


def test_data_check_decodes_every_video_and_names_the_unreadable(cli, tiny_synth, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_synth, data)
    videos = sorted((data / "manipulated_sequences/FaceSwap/c40/videos").glob("*.mp4"))
    videos[0].write_bytes(b"")
    videos[1].write_bytes(videos[1].read_bytes()[:400])
    videos[2].write_bytes(np.random.default_rng(0).bytes(5000))
    code, out, _ = cli("data", "check", str(data), "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"] and report["missing"] == []
    assert sorted(u["path"] for u in report["unreadable"]) == sorted(str(v) for v in videos[:3])
    problems = {Path(u["path"]).name: u["problem"] for u in report["unreadable"]}
    assert problems[videos[0].name] == "empty video file"
    code, out, _ = cli("data", "check", str(data))
    assert code == 1 and f"unreadable: {videos[1]}: " in out and "3 unreadable videos" in out
    code, out, _ = cli("data", "check", str(data), "--quick")
    assert code == 0 and "videos not decoded (--quick)" in out
    code, out, _ = cli("data", "check", str(tiny_synth))
    assert code == 0 and "every present video decodes (first and last frame)" in out


@pytest.mark.parametrize("bad_id", ["../../etc", "/abs", "a/b", "x_y", ".."])
def test_split_files_with_paths_are_refused(tmp_path, bad_id):
    from dfbench import splits

    folder = tmp_path / "splits"
    folder.mkdir()
    for s in ("train", "val", "test"):
        pairs = {"train": [["000", "001"]], "val": [["003", "004"]], "test": [[bad_id, "002"]]}[s]
        (folder / f"{s}.json").write_text(json.dumps(pairs))
    with pytest.raises(DfbenchError, match=r"test.json: id .* is not a plain video id"):
        splits.load(splits_dir=folder)


def test_seeds_run_each_seed_once_and_the_leaderboard_pools_them(cli, tiny_synth, tmp_path, test_plugin):
    args = ["run", "-d", "test_brightness", "-p", "single", "--method", "DF", "--data", str(tiny_synth),
            "--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"),
            "--cache", str(tmp_path / "cache"), "--json"]
    code, out, _ = cli(*args, "--seed", "1")
    assert code == 0 and [o["skipped"] for o in json.loads(out)] == [False]
    code, out, err = cli(*args, "--seeds", "0 1,2")
    assert code == 0, err
    assert [o["skipped"] for o in json.loads(out)] == [False, True, False]
    assert sorted(json.loads(p.read_text())["seed"] for p in records(tmp_path / "results")) == [0, 1, 2]
    code, out, _ = cli("leaderboard", "--results", str(tmp_path / "results"))
    row = next(line for line in out.splitlines() if line.startswith("| test_brightness"))
    assert "seeds 0, 1, 2" in row and "(n=3)" in row
    code, _, err = cli(*args, "--seeds", "0 x")
    assert code == 2 and "--seeds '0 x': give whole numbers" in err


def test_a_record_names_the_revision_its_run_started_from(tiny_synth, tmp_path, test_plugin, monkeypatch):
    """The checkout moves to another commit while the run trains: the record still names the first
    (the code the run loaded), not the one found when it is written."""
    import subprocess
    from types import SimpleNamespace

    from dfbench import provenance

    head = {"rev": "a" * 40}

    def fake_git(args, **_):
        return SimpleNamespace(stdout=head["rev"] if "rev-parse" in args else "")

    def progress(line):
        if "training" in line:
            head["rev"] = "b" * 40  # someone commits or checks out meanwhile

    monkeypatch.setattr(provenance.subprocess, "run", fake_git)
    provenance.git_revision.cache_clear()
    try:
        opts = RunOptions(detector="test_brightness", protocol="all", data=tiny_synth, output=tmp_path / "r",
                          work_dir=tmp_path / "w", cache=tmp_path / "c")
        [outcome] = engine.run(opts, progress=progress)
        assert head["rev"] == "b" * 40  # the checkout did move during the run
        assert json.loads(outcome.path.read_text())["git_revision"] == "a" * 40
    finally:
        monkeypatch.setattr(provenance.subprocess, "run", subprocess.run)
        provenance.git_revision.cache_clear()
