"""The leaderboard publishes only records that check out: schema, settings id, metrics recomputed
from the stored per-video scores; a refused record is one warning naming its file."""

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

from dfbench import engine, leaderboard
from dfbench.engine import RunOptions
from dfbench.record_check import check_record
from dfbench.results import RunResult

COMMITTED = Path(__file__).resolve().parents[1] / "leaderboard" / "results"


@pytest.fixture
def good_record(tiny_synth, tmp_path, test_plugin) -> dict:
    opts = RunOptions(detector="test_brightness", protocol="all", data=tiny_synth, output=tmp_path / "made",
                      work_dir=tmp_path / "work", cache=tmp_path / "cache")
    [outcome] = engine.run(opts)
    return json.loads(outcome.path.read_text())


def tampered(rec: dict, edit) -> dict:
    rec = copy.deepcopy(rec)
    edit(rec)
    return rec


BAD = {
    "auc_edited": (lambda r: r["metrics"].__setitem__("auc", 0.5), "stored metric 'auc' = 0.5 disagrees"),
    "tcr_298": (lambda r: r["metrics"].__setitem__("tcr", 2.98), "invalid record at metrics/tcr"),
    "auc_negative": (lambda r: r["metrics"].__setitem__("auc", -0.1), "invalid record at metrics/auc"),
    "schema_99": (lambda r: r.__setitem__("schema", 99), "record schema 99, this dfbench reads schema 2"),
    "score_edited": (lambda r: r["videos"][0].__setitem__("score", 1 - r["videos"][0]["score"]),
                     "disagrees with"),
    "epochs_edited": (lambda r: r["settings"]["training"].__setitem__("epochs", 99),
                      "settings_id .* is not the hash of the stored settings"),
    "markdown_in_name": (lambda r: r.__setitem__("detector", "x | evil\n| row"), "invalid record at detector"),
    "missing_metrics": (lambda r: r.pop("metrics"), "'metrics' is a required property"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_kind_of_bad_record_is_refused_with_its_reason(good_record, name):
    edit, reason = BAD[name]
    assert check_record(good_record) is None
    problem = check_record(tampered(good_record, edit))
    assert problem is not None and re.search(reason, problem), problem


def test_leaderboard_renders_the_good_names_the_bad_and_strict_exits_1(cli, good_record, tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps(good_record))
    (folder / "tampered.json").write_text(json.dumps(tampered(good_record, BAD["auc_edited"][0])))
    (folder / "malformed.json").write_text(json.dumps(good_record)[:500])
    (folder / "other_schema.json").write_text(json.dumps(tampered(good_record, BAD["schema_99"][0])))
    code, out, err = cli("leaderboard", "--results", str(folder))
    assert code == 0
    warnings = err.splitlines()
    assert [w.split(": ", 2)[1].rsplit("/", 1)[-1] for w in warnings] == [
        "malformed.json", "other_schema.json", "tampered.json"]
    assert all(w.startswith("warning: ") for w in warnings)
    rows = [line for line in out.splitlines() if line.startswith("| test_brightness")]
    assert len(rows) == 1 and f"{good_record['metrics']['auc']:.3f}" in rows[0]
    assert "0.500" not in rows[0]
    code, out_strict, err = cli("leaderboard", "--results", str(folder), "--strict")
    assert code == 1 and out_strict == out and err.endswith("error: 3 record(s) refused (--strict)\n")


def test_committed_records_all_verify_and_only_added_bad_ones_are_named(cli, good_record, tmp_path):
    folder = tmp_path / "committed"
    shutil.copytree(COMMITTED, folder)
    (folder / "zz_tampered.json").write_text(json.dumps(tampered(good_record, BAD["auc_edited"][0])))
    (folder / "zz_malformed.json").write_text("{")
    (folder / "zz_other_schema.json").write_text(json.dumps(tampered(good_record, BAD["schema_99"][0])))
    code, out, err = cli("leaderboard", "--results", str(folder))
    assert code == 0
    named = sorted(Path(line.split(": ", 2)[1]).name for line in err.splitlines())
    assert named == ["zz_malformed.json", "zz_other_schema.json", "zz_tampered.json"], err
    assert "| resnext3d_nl" in out


def _rec(good: dict, **changes) -> RunResult:
    r = RunResult.from_dict(copy.deepcopy(good))
    for k, v in changes.items():
        setattr(r, k, v)
    return r


def test_text_from_records_cannot_add_table_rows(good_record):
    evil = _rec(good_record, detector="evil | x\n| injected | row |")
    board = leaderboard.render([evil], reference=[])
    table = [line for line in board.splitlines() if line.startswith("|") and "evil" in line]
    assert len(table) == 1 and "injected" in table[0]
    header = next(line for line in board.splitlines() if line.startswith("| Detector"))
    assert table[0].replace("\\|", "").count("|") == header.count("|")


def test_escape_keeps_words_and_neutralises_markup():
    assert leaderboard.escape("resnet3d_nl") == "resnet3d_nl"
    assert leaderboard.escape("a|b <script> *x* [l](u) _y_") == (
        "a\\|b \\<script\\> \\*x\\* \\[l\\](u) \\_y\\_")


def test_skipped_videos_are_shown_per_row(good_record):
    failed = [{"key": "Deepfakes/000_001", "path": "x.mp4", "error": "x.mp4: corrupt"}] * 2
    board = leaderboard.render([_rec(good_record, failed_videos=failed)], reference=[])
    header = next(line for line in board.splitlines() if line.startswith("| Detector"))
    row = next(line for line in board.splitlines() if line.startswith("| test_brightness"))
    assert header.rstrip("|").rstrip().endswith("Skipped videos")
    assert row.rstrip("|").rstrip().endswith("2")
    clean = leaderboard.render([_rec(good_record)], reference=[])
    assert "Skipped videos" not in clean


def test_of_two_records_of_one_run_and_seed_the_newest_is_shown(good_record):
    old = _rec(good_record, created="2026-01-01T00:00:00+00:00",
               metrics=dict(good_record["metrics"], tcr=0.5))
    new = _rec(good_record, created="2026-02-01T00:00:00+00:00", settings_id="0" * 12)
    board = leaderboard.render([old, new], reference=[])
    rows = [line for line in board.splitlines() if line.startswith("| test_brightness")]
    assert len(rows) == 1 and "50.00" not in rows[0]
    assert "Not shown: 1 record(s) superseded by a newer record" in board
    other_seed = _rec(good_record, seed=1, created="2026-01-01T00:00:00+00:00")
    board = leaderboard.render([new, other_seed], reference=[])
    assert "seeds 0, 1" in board and "superseded" not in board


def test_non_default_settings_make_their_own_row(good_record):
    short = _rec(good_record, settings=dict(good_record["settings"],
                                            training=dict(good_record["settings"]["training"], epochs=1)))
    board = leaderboard.render([_rec(good_record), short], reference=[])
    rows = [line for line in board.splitlines() if line.startswith("| test_brightness")]
    assert len(rows) == 2 and sum("epochs 1" in r for r in rows) == 1


EVALUATION = COMMITTED / "ffpp-lq-cross-dataset__dfd__shortcut_probe__cpu__synthetic-dfd-c40__seed0__a8299c230262.json"


@pytest.mark.parametrize("key,value", [("record", "ffpp-lq-all__all__other__cpu__synthetic-v5-c40__seed0__0.json"),
                                       ("settings_id", "0" * 12), ("model_sha256", "0" * 64)])
def test_an_evaluation_attributed_to_another_model_is_refused(key, value):
    """The top-level `trained` block is outside the hashed settings; it must repeat what they name."""
    raw = json.loads(EVALUATION.read_text())
    assert check_record(raw) is None
    problem = check_record(tampered(raw, lambda r: r["trained"].__setitem__(key, value)))
    assert problem == f"trained.{key} {value!r} is not the {raw['settings']['trained'][key]!r} its settings name: " \
                      "the record was edited"
