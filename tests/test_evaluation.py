"""Train once, test many: evaluation protocols and `dfbench evaluate` score a finished run, never retrain it."""

import json
from pathlib import Path

import numpy as np
import pytest

from dfbench import perturb
from dfbench.errors import DfbenchError
from dfbench.protocols import available, expand, load
from dfbench.results import read_record


@pytest.fixture(scope="module")
def two_compressions(tmp_path_factory) -> Path:
    """A tiny synthetic FF++ set written at c40 and (the same frames) at c23 and raw."""
    from dfbench import synth

    root = tmp_path_factory.mktemp("multi") / "ffpp"
    synth.generate(root, seed=0, compression="c40", pairs=(2, 1, 1), num_frames=12,
                   extra_compressions=("c23", "raw"))
    return root


def _run(cli, *argv):
    code, out, err = cli(*argv)
    assert code == 0, err[-2000:]
    return out, err


def _folders(tmp_path):
    return ["--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"),
            "--cache", str(tmp_path / "cache")]


def test_evaluation_protocols_are_data_with_their_training_protocol():
    by_name = {p.name: p for p in available()}
    for name in ("cross-dataset", "cross-compression", "robustness"):
        p = by_name[name]
        assert p.evaluates and p.train_protocol == "ffpp-lq-all" and p.version == 1
        assert [r.name for r in expand(p)] == ["all"]  # the runs it evaluates are the training protocol's
    assert by_name["cross-dataset"].test_datasets == ("celebdf", "dfdc", "dfd")
    assert by_name["cross-compression"].test_compressions == ("raw", "c23", "c40")
    # the YAML's perturbation levels are exactly dfbench.perturb's standard 40 settings, in order
    yaml_settings = [perturb.Perturbation(t, lvl) for t, levels in by_name["robustness"].perturbations
                     for lvl in levels]
    assert [p.key for p in yaml_settings] == [p.key for p in perturb.standard()]
    assert len(yaml_settings) == 40
    with pytest.raises(DfbenchError, match="--method does not apply"):
        expand(load("robustness"), "DF")


def test_cross_compression_trains_once_and_records_name_the_training_run(cli, test_plugin, two_compressions,
                                                                        tmp_path):
    out, err = _run(cli, "run", "-d", "test_brightness", "-p", "cross-compression", "--data",
                    str(two_compressions), *_folders(tmp_path), "--json")
    summary = json.loads(out)
    assert [s["run"] for s in summary] == ["all", "raw", "c23"]  # the training run, then each other compression
    train = read_record(Path(summary[0]["path"]))
    for s in summary[1:]:
        rec = read_record(Path(s["path"]))  # schema, settings id and metrics verified
        assert rec.protocol == "ffpp-lq-cross-compression" and rec.protocol_kind == "cross-compression"
        assert rec.dataset.compression == s["run"] and rec.dataset.kind == "synthetic-2x1x1"
        assert rec.trained["record"] == train.file_name and rec.trained["settings_id"] == train.settings_id
        assert rec.settings["trained"]["settings"] == train.settings  # every training setting, whole
        assert rec.trained["dataset"] == {"kind": "synthetic-2x1x1", "compression": "c40"}
        assert sorted(v.key for v in rec.videos) == sorted(v.key for v in train.videos)  # the same test videos
        assert [v.pair for v in rec.videos] == [{v.key: v.pair for v in train.videos}[v.key] for v in rec.videos]
        assert rec.metrics["val_threshold"] == train.metrics["val_threshold"]
    # the brightness detector sees QP: raw, c23 and c40 crops score differently
    scores = {s["run"]: [v.score for v in read_record(Path(s["path"])).videos] for s in summary}
    assert scores["raw"] != scores["c23"] != scores["all"]

    out, err = _run(cli, "run", "-d", "test_brightness", "-p", "cross-compression", "--data",
                    str(two_compressions), *_folders(tmp_path), "--json")
    assert all(s["skipped"] for s in json.loads(out))
    assert "finished before with the same settings" in err and err.count("evaluated before with the same") == 2


def test_evaluate_perturbed_copies_are_deterministic_and_keyed_by_the_perturbation(cli, test_plugin,
                                                                                    two_compressions, tmp_path):
    out, _ = _run(cli, "run", "-d", "test_brightness", "-p", "all", "--data", str(two_compressions),
                  *_folders(tmp_path), "--json")
    record = json.loads(out)[0]["path"]
    folders = ["--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"),
               "--cache", str(tmp_path / "cache")]
    out, _ = _run(cli, "evaluate", "--record", record, "--data", str(two_compressions), "--perturb", "saturation:0.0",
                  "--perturb", "blur:21", *folders, "--json")
    runs = json.loads(out)
    assert [r["run"] for r in runs] == ["saturation-0.0", "blur-21"]
    recs = [read_record(Path(r["path"])) for r in runs]
    assert all(r.protocol == "ffpp-lq-robustness" for r in recs)
    assert recs[0].settings["perturbation"]["type"] == "saturation" and recs[0].settings["perturbation"]["seed"] == 0
    # the copies are under the cache, one folder per perturbation, mirroring the FF++ layout, boxes beside them
    pattern = "*/saturation-0.0-seed0/original_sequences/youtube/c40/*/*"
    copies = sorted((tmp_path / "cache" / "perturbed").glob(pattern))
    assert {p.parent.name for p in copies} == {"videos", "boxes"}
    from dfbench.crops import VideoSource

    grey = VideoSource(next(p for p in copies if p.suffix == ".mp4")).frames([0])[0].astype(int)
    assert np.abs(grey[..., 0] - grey[..., 1]).max() <= 3  # saturation 0.0: no colour left
    clean = {v.key: v.score for v in read_record(Path(record)).videos}
    assert [v.score for v in recs[1].videos] != [clean[v.key] for v in recs[1].videos]
    # again: found by its settings, nothing perturbed or scored twice
    mtimes = {p: p.stat().st_mtime_ns for p in copies}
    out, err = _run(cli, "evaluate", "--record", record, "--data", str(two_compressions), "--perturb",
                    "saturation:0.0", *folders, "--json")
    assert json.loads(out)[0]["skipped"] and {p: p.stat().st_mtime_ns for p in copies} == mtimes
    # an evaluation record is not a training run: one line naming the one to use
    code, _, err = cli("evaluate", "--record", runs[0]["path"], "--perturb", "blur:9", *folders)
    assert code == 2 and "an evaluation record (of " in err and Path(record).name in err
    code, _, err = cli("score", str(copies[-1]), "--record", runs[0]["path"], *folders[2:])  # score and explain too
    assert code == 2 and "use the training record it names" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv,msg", [
    (["--perturb", "sharpen:3"], "unknown perturbation"),
    (["--perturb", "blur:8"], "blur"),
    ([], "name what to test on"),
])
def test_evaluate_bad_conditions_are_one_line(cli, test_plugin, two_compressions, tmp_path, argv, msg):
    out, _ = _run(cli, "run", "-d", "test_brightness", "-p", "all", "--data", str(two_compressions),
                  *_folders(tmp_path), "--json")
    code, out, err = cli("evaluate", "--record", json.loads(out)[0]["path"], *argv, *_folders(tmp_path)[2:])
    assert code == 2 and msg in err and len(err.strip().splitlines()) == 1, err


def test_test_data_belongs_to_cross_dataset_only(cli, test_plugin, two_compressions, tmp_path):
    code, _, err = cli("run", "-d", "test_brightness", "-p", "all", "--data", str(two_compressions),
                       "--test-data", "celebdf", *_folders(tmp_path))
    assert code == 2 and "--test-data applies to protocol cross-dataset" in err


def test_cross_dataset_dry_run_lists_exactly_celebdf_test_list_with_dfbench_labels(cli, ffpp_tree, tmp_path):
    """Celeb-DF's list says 1 = real, 0 = fake; the plan says dfbench's 0 = real, 1 = fake, with listed videos only."""
    listed = [("1", "YouTube-real/00001.mp4"), ("0", "Celeb-synthesis/id0_id1_0000.mp4"),
              ("1", "Celeb-real/id0_0000.mp4"), ("0", "Celeb-synthesis/id1_id0_0003.mp4")]
    root = tmp_path / "Celeb-DF-v2"
    for rel in [r for _, r in listed] + ["Celeb-real/id2_0000.mp4", "Celeb-synthesis/id2_id0_0000.mp4"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).touch()
    (root / "List_of_testing_videos.txt").write_text("".join(f"{lab} {rel}\n" for lab, rel in listed))
    code, out, err = cli("run", "-d", "mesonet", "-p", "cross-dataset", "--data", str(ffpp_tree), "--test-data",
                         f"celebdf={root}", "--dry-run", "--json", "--cache", str(tmp_path / "cache"))
    assert code == 0, err
    plan = json.loads(out)
    assert plan["protocol"] == "ffpp-lq-cross-dataset" and plan["train_protocol"] == "ffpp-lq-all"
    assert [r["name"] for r in plan["runs"]] == ["all"] and len(plan["runs"][0]["test"]) == 700  # FF++'s own test
    [ev] = plan["evaluations"]
    assert ev["dataset"] == "celebdf" and ev["kind"] == "celebdf" and ev["variant"] == "v2"
    assert [(v["key"], v["label"]) for v in ev["test"]] == [
        ("YouTube-real/00001", 0), ("Celeb-synthesis/id0_id1_0000", 1), ("Celeb-real/id0_0000", 0),
        ("Celeb-synthesis/id1_id0_0003", 1)]
    assert [v["pair"] for v in ev["test"]] == ["yt-00001", "id0", "id0", "id1"]  # identity groups: bootstrap clusters


def test_cross_dataset_on_real_ffpp_needs_the_test_data_named(cli, ffpp_tree, tmp_path):
    code, _, err = cli("run", "-d", "mesonet", "-p", "cross-dataset", "--data", str(ffpp_tree), "--dry-run",
                       "--cache", str(tmp_path / "cache"))
    assert code == 2 and "needs the test datasets: --test-data ID=ROOT" in err and len(err.strip().splitlines()) == 1


def test_extra_compressions_encode_the_same_frames_and_leave_a_one_compression_set_unchanged(two_compressions,
                                                                                          tmp_path, cli,
                                                                                          test_plugin):
    from dfbench import synth
    from dfbench.layout import SYNTHETIC_MANIFEST, video_path

    only = tmp_path / "only"
    plain = synth.generate(only, seed=0, compression="c40", pairs=(2, 1, 1), num_frames=12)
    multi = json.loads((two_compressions / SYNTHETIC_MANIFEST).read_text())
    assert "extra_compressions" not in plain and multi.pop("extra_compressions") == ["c23", "raw"]
    assert multi == plain  # the rest of the manifest is the one-compression set's
    name = sorted((only / "original_sequences/youtube/c40/videos").iterdir())[0].stem
    c40 = [video_path(r, "original", "c40", name).read_bytes() for r in (only, two_compressions)]
    assert c40[0] == c40[1]  # byte-identical c40 videos
    from dfbench.crops import VideoSource

    raw = VideoSource(video_path(two_compressions, "original", "raw", name)).frames(range(12)).astype(int)
    lq = VideoSource(video_path(two_compressions, "original", "c40", name)).frames(range(12)).astype(int)
    assert 0 < np.abs(raw - lq).mean() < 10  # the same frames, coarser at QP 40

    # so a run on the set written with extras is the run on the plain set: one settings id, and a
    # committed record made on the plain set is found (and tested at c23 and raw) on the other
    def settings_id(root):
        code, out, err = cli("run", "-d", "test_brightness", "-p", "all", "--data", str(root), "--dry-run", "--json",
                             "--cache", str(tmp_path / "cache"))
        assert code == 0, err
        return json.loads(out)["runs"][0]["settings_id"]

    assert settings_id(only) == settings_id(two_compressions)
    changed = tmp_path / "changed"  # while any other change of the manifest is another data set
    synth.generate(changed, seed=0, compression="c40", pairs=(2, 1, 1), num_frames=12, strength=1.0)
    assert settings_id(changed) != settings_id(only)


def test_a_record_cropped_with_dataset_boxes_asks_for_a_face_finder_on_data_without_boxes(cli, test_plugin,
                                                                                         two_compressions, tmp_path):
    import shutil

    from dfbench.synth.twins import write_twin

    out, _ = _run(cli, "run", "-d", "test_brightness", "-p", "all", "--data", str(two_compressions),
                  *_folders(tmp_path), "--json")
    root = tmp_path / "cdf"
    write_twin("celebdf", root, seed=0, pairs=(1, 0, 1), num_frames=12)
    shutil.rmtree(root / "boxes")  # as the real Celeb-DF download: no boxes
    code, _, err = cli("evaluate", "--record", json.loads(out)[0]["path"], "--test-data", f"celebdf={root}",
                       *_folders(tmp_path))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "ships no face boxes" in err and "--face-finder face-alignment" in err and str(root) in err
    code, out, err = cli("evaluate", "--record", json.loads(out)[0]["path"], "--test-data", f"celebdf={root}",
                         "--face-finder", "opencv", *_folders(tmp_path), "--json")
    assert code == 0, err
    rec = read_record(Path(json.loads(out)[0]["path"]))
    assert rec.settings["preprocessing"]["face_finder"] == "opencv" and rec.dataset.kind == "synthetic-celebdf"


def test_perturbed_copies_are_keyed_by_the_source_videos_and_the_code(tmp_path, monkeypatch):
    """A regenerated root at the same path, or a changed perturbation code, never reuses an old copy."""
    from dfbench import evaluation
    from dfbench.layout import DatasetRoot
    from dfbench.plan import PlannedVideo

    video = tmp_path / "data" / "000.mp4"
    video.parent.mkdir()
    video.write_bytes(b"x" * 10)
    ds = DatasetRoot(tmp_path / "data", {"seed": 0})
    cond = evaluation.Condition("blur-9", "ffpp", ds.path, "c40", perturb.parse("blur:9"))
    videos = [PlannedVideo("original/000", "original", 0, video)]

    def key():
        return evaluation.perturbed_root(tmp_path / "cache", ds, cond, 0, videos)

    first = key()
    assert first == key() and first.name == "blur-9-seed0"
    video.write_bytes(b"x" * 11)  # the root regenerated: other videos
    second = key()
    assert second != first
    monkeypatch.setattr(evaluation, "code_sha256", lambda module: "another")
    assert key() not in (first, second)
