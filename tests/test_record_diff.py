"""`dfbench diff A B`: does a re-run reproduce a stored record? Settings, evidence and provenance are
told apart, a changed score is found and named, and a real re-run through the engine reproduces."""

import copy
import json
from pathlib import Path

import pytest

from dfbench import engine
from dfbench.engine import RunOptions
from dfbench.record_check import recompute
from dfbench.record_diff import diff_records
from dfbench.settings import settings_id

COMMITTED = Path(__file__).resolve().parents[1] / "leaderboard" / "results"
STAND_IN = COMMITTED / "ffpp-lq-all__all__resnet3d__cpu__synthetic-v5-c40__seed0__0d31c55b0ce8.json"


@pytest.fixture
def base() -> dict:
    return json.loads(STAND_IN.read_text())


def edited(rec: dict, edit) -> dict:
    """A copy of ``rec`` after ``edit``, with its settings id and metrics made consistent again, as a
    genuine re-run would write them (so the record checks pass and only the diff can tell)."""
    rec = copy.deepcopy(rec)
    edit(rec)
    rec["settings_id"] = settings_id(rec["settings"])
    rec["metrics"].update(recompute(rec))
    return rec


def rerun_elsewhere(r: dict) -> None:
    r.update(created="2026-12-04T00:00:00+00:00", git_revision="0" * 40)
    r["fit"]["train_seconds"] = 1.0
    r["dataset"]["root"] = "/somewhere/else/v5-full"
    r["checkpoint"]["source"] = "/home/me/resnet3d_cpu.pth"
    r["videos"].reverse()  # videos are matched by key, not by position


def write(tmp_path: Path, name: str, rec: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(rec))
    return path


def test_a_rerun_that_differs_only_in_provenance_reproduces(base, cli, tmp_path):
    other = edited(base, rerun_elsewhere)
    result = diff_records(base, other)
    assert result["verdict"] == "replicated"
    assert result["settings"] == [] and result["evidence"] == []
    assert {d["field"] for d in result["provenance"]} == {
        "created", "git_revision", "fit.train_seconds", "dataset.root", "checkpoint.source"}
    code, out, _ = cli("diff", str(STAND_IN), str(write(tmp_path, "b.json", other)))
    assert code == 0
    assert out.startswith(f"b.json reproduces {STAND_IN.name}: AUC 0.787125 vs 0.787125")
    assert "0 of 640 test scores differ" in out


def test_one_changed_score_is_found_named_and_fails(base, cli, tmp_path):
    key = base["videos"][17]["key"]
    other = edited(base, lambda r: r["videos"][17].__setitem__("score", r["videos"][17]["score"] + 0.01))
    result = diff_records(base, other)
    assert result["verdict"] == "not-replicated"
    assert result["scores_differing"] == 1
    assert result["max_score_delta"] == pytest.approx(0.01)
    assert f"videos[{key}].score" in [d["field"] for d in result["evidence"]]
    assert diff_records(base, other, tolerance=0.02)["verdict"] == "replicated"  # within tolerance: equal
    code, out, _ = cli("diff", str(STAND_IN), str(write(tmp_path, "b.json", other)))
    assert code == 1
    assert "does not reproduce" in out and "1 of 640 test scores differ (max |delta| 0.01" in out


@pytest.mark.parametrize("section,field,value,verdict,code,says", [
    ("detector", "code_sha256", "f" * 64, "replicated-changed-code", 0, "reproduces"),  # and "under changed code"
    ("training", "seed", 1, "different-settings", 1, "are different experiments"),
])
def test_a_changed_setting_is_a_code_change_or_another_experiment(base, cli, tmp_path, section, field, value,
                                                                   verdict, code, says):
    other = edited(base, lambda r: r["settings"][section].__setitem__(field, value))
    assert other["settings_id"] != base["settings_id"]
    result = diff_records(base, other)
    assert result["verdict"] == verdict
    assert [d["field"] for d in result["settings"]] == [f"{section}.{field}"]
    got, out, _ = cli("diff", str(STAND_IN), str(write(tmp_path, "b.json", other)))
    assert got == code and says in out
    assert ("under changed code" in out) == (verdict == "replicated-changed-code")
    assert f"{section}.{field}: " in out


def test_a_tampered_record_is_refused_before_any_diff(base, cli, tmp_path):
    bad = copy.deepcopy(base)
    bad["metrics"]["auc"] = 0.99
    path = write(tmp_path, "bad.json", bad)
    code, out, err = cli("diff", str(STAND_IN), str(path))
    assert code == 2 and out == ""  # refused (2), not "not reproduced" (1)
    assert str(path) in err and "stored metric 'auc' = 0.99 disagrees" in err


def test_a_real_rerun_through_the_engine_reproduces(tiny_synth, test_plugin, cli, tmp_path):
    """Two runs of the same settings, in different folders: same evidence, exit 0 (the real path)."""
    paths = []
    for i in (1, 2):
        opts = RunOptions(detector="test_brightness", protocol="all", data=tiny_synth, output=tmp_path / f"out{i}",
                          work_dir=tmp_path / f"work{i}", cache=tmp_path / f"cache{i}")
        [outcome] = engine.run(opts)
        paths.append(outcome.path)
    code, out, _ = cli("diff", str(paths[0]), str(paths[1]), "--json")
    result = json.loads(out)
    assert code == 0 and result["verdict"] == "replicated", result["evidence"][:3]
    assert result["test_videos"][0] == result["test_videos"][1] > 0
    assert {d["field"] for d in result["provenance"]} <= {"created", "fit.train_seconds", "fit.best_checkpoint"}


# made before session 18: names the checkpoint file it scored (settings.trained.checkpoint_sha256)
BY_FILE = COMMITTED / "ffpp-lq-cross-compression__c23__resnet3d__cpu__synthetic-v5-c23__seed0__2b41917ad751.json"
TWIN = COMMITTED / "ffpp-lq-cross-dataset__dfd__shortcut_probe__cpu__synthetic-dfd-c40__seed0__a8299c230262.json"


def _retrained_under_new_code(r: dict) -> None:
    """What an evaluation record of a model re-trained under changed code (same weights) looks like."""
    trained = r["settings"]["trained"]
    trained["settings"]["detector"]["code_sha256"] = "e" * 64
    trained["settings_id"] = settings_id(trained["settings"])
    trained["record"] = trained["record"].replace(r["trained"]["settings_id"], trained["settings_id"])
    r["trained"].update(record=trained["record"], settings_id=trained["settings_id"])


def test_an_evaluation_of_the_same_weights_under_changed_code_reproduces():
    twin = json.loads(TWIN.read_text())
    other = edited(twin, _retrained_under_new_code)
    result = diff_records(twin, other)
    assert result["verdict"] == "replicated-changed-code"
    assert {d["field"] for d in result["settings"]} == {
        "trained.record", "trained.settings.detector.code_sha256", "trained.settings_id"}
    other_weights = edited(other, lambda r: r["settings"]["trained"].__setitem__("model_sha256", "0" * 64))
    assert diff_records(twin, other_weights)["verdict"] == "different-settings"  # another model: not a re-run


def test_two_folders_pair_by_run_and_one_bad_rerun_fails_the_whole(base, cli, tmp_path):
    """A regenerated board checked against the committed one: one line per run, exit 1 if any differs."""
    committed, rerun = tmp_path / "committed", tmp_path / "rerun"
    committed.mkdir(), rerun.mkdir()
    twin = json.loads(TWIN.read_text())
    write(committed, STAND_IN.name, base), write(committed, TWIN.name, twin)
    write(committed, "ffpp-lq-all__all__other__cpu__synthetic-v5-c40__seed0__000000000000.json", base)  # not re-run
    new_code = edited(twin, _retrained_under_new_code)
    write(rerun, TWIN.name.replace(twin["settings_id"], new_code["settings_id"]), new_code)
    write(rerun, STAND_IN.name, edited(base, rerun_elsewhere))
    code, out, _ = cli("diff", str(committed), str(rerun))
    assert code == 0
    assert out.splitlines()[-1] == "2 of 2 re-run(s) reproduce their record; 1 run(s) only in A, 0 only in B"
    assert out.splitlines()[0].startswith("replicated ") and out.splitlines()[1].startswith("replicated-changed-code")
    changed = edited(base, lambda r: r["videos"][3].__setitem__("score", 0.5))
    write(rerun, STAND_IN.name, changed)
    code, out, _ = cli("diff", str(committed), str(rerun), "--json")
    result = json.loads(out)
    assert code == 1 and not result["ok"]
    assert [p["verdict"] for p in result["pairs"]] == ["not-replicated", "replicated-changed-code"]


def test_an_evaluation_named_by_its_file_against_one_named_by_its_weights_differs_in_settings_only():
    """Records made before weight hashes name the checkpoint file; the same scores re-made under the
    model's hash are another settings id, and the top-level mirror of that hash is not evidence."""
    old = json.loads(BY_FILE.read_text())

    def by_weights(r: dict) -> None:
        del r["settings"]["trained"]["checkpoint_sha256"]
        r["settings"]["trained"]["model_sha256"] = r["trained"]["model_sha256"] = "a" * 64
        r["settings_id"] = settings_id(r["settings"])

    result = diff_records(old, edited(old, by_weights))
    assert result["verdict"] == "different-settings"
    assert {d["field"] for d in result["settings"]} == {"trained.checkpoint_sha256", "trained.model_sha256"}
    assert result["evidence"] == [] and result["scores_differing"] == 0
