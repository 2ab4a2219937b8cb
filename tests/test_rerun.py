"""`dfbench rerun RECORD`: the run repeated from its record's settings, checked against them before any
training, and judged by `dfbench diff`; what cannot be repeated here is refused in one line."""

import copy
import json
from pathlib import Path

import pytest

from dfbench import engine
from dfbench.engine import RunOptions
from dfbench.errors import DfbenchError
from dfbench.rerun import _pretrained
from dfbench.settings import settings_id

COMMITTED = Path(__file__).resolve().parents[1] / "leaderboard" / "results"
STAND_IN = COMMITTED / "ffpp-lq-all__all__resnet3d__cpu__synthetic-v5-c40__seed0__0d31c55b0ce8.json"
SCRATCH = COMMITTED / "ffpp-lq-all__all__resnet3d_scratch__cpu__synthetic-v5-c40__seed0__4e00aea37c95.json"
TWIN = COMMITTED / "ffpp-lq-cross-dataset__dfd__shortcut_probe__cpu__synthetic-dfd-c40__seed0__a8299c230262.json"


@pytest.fixture
def probe_record(tiny_synth, tmp_path) -> Path:
    """A real record of the core's `shortcut_probe` (single, FaceSwap) on the tiny synthetic set."""
    opts = RunOptions(detector="shortcut_probe", protocol="single", method="FaceSwap", data=tiny_synth,
                      output=tmp_path / "made", work_dir=tmp_path / "work", cache=tmp_path / "cache")
    [outcome] = engine.run(opts)
    return outcome.path


def test_a_rerun_through_the_real_path_reproduces_its_record(probe_record, cli, tmp_path):
    code, out, err = cli("rerun", str(probe_record), "--output", str(tmp_path / "again"),
                         "--work-dir", str(tmp_path / "work2"), "--cache", str(tmp_path / "cache2"))
    assert code == 0, err
    new = tmp_path / "again" / probe_record.name  # same settings, so the same file name
    assert new.is_file()
    assert out.startswith(f"{probe_record.name} reproduces {probe_record.name}: AUC ")
    assert "settings (what was asked): identical" in out and "evidence (what was measured): identical" in out
    assert json.loads(new.read_text())["videos"] == json.loads(probe_record.read_text())["videos"]


def test_an_evaluation_of_a_rerun_with_the_same_weights_is_the_same_evaluation(probe_record, tiny_synth, cli,
                                                                                 tmp_path):
    """Evaluation records name the model by its weights (trained.model_sha256), not its file: evaluating
    the re-run gives the first evaluation's settings id, and `dfbench diff` says it reproduces."""
    from dfbench.record_diff import diff_records

    code, _, err = cli("rerun", str(probe_record), "--output", str(tmp_path / "again"),
                       "--work-dir", str(tmp_path / "work2"), "--cache", str(tmp_path / "cache"))
    assert code == 0, err
    made = {}
    for name, record, work in (("first", probe_record, "work"), ("again", tmp_path / "again" / probe_record.name,
                                                                   "work2")):
        code, out, err = cli("evaluate", "--record", str(record), "--perturb", "blur:9", "--data", str(tiny_synth),
                             "--output", str(tmp_path / f"eval-{name}"), "--work-dir", str(tmp_path / work),
                             "--cache", str(tmp_path / "cache"), "--json")
        assert code == 0, err
        [outcome] = json.loads(out)
        made[name] = json.loads(Path(outcome["path"]).read_text())
    first, again = made["first"], made["again"]
    assert first["trained"]["model_sha256"] == again["trained"]["model_sha256"] is not None
    assert first["settings_id"] == again["settings_id"]
    assert diff_records(first, again)["verdict"] == "replicated"
    other = copy.deepcopy(again)
    other["settings"]["trained"]["model_sha256"] = "0" * 64  # other weights: another experiment
    assert diff_records(first, other)["verdict"] == "different-settings"

    # `dfbench rerun` of the evaluation record: re-scored with the re-run's model (found in --output)
    [evaluation] = (tmp_path / "eval-first").glob("*.json")
    code, out, err = cli("rerun", str(evaluation), "--output", str(tmp_path / "again"),
                         "--work-dir", str(tmp_path / "work2"), "--cache", str(tmp_path / "cache"))
    assert code == 0, err
    assert out.startswith(f"{evaluation.name} reproduces {evaluation.name}: AUC ")
    assert "scoring" in err and "training" not in err  # re-scored, never re-trained
    assert json.loads((tmp_path / "again" / evaluation.name).read_text())["videos"] == first["videos"]

    # a training record with other weights is refused before any scoring, in one line
    opts = RunOptions(detector="shortcut_probe", protocol="single", method="Deepfakes", data=tiny_synth,
                      output=tmp_path / "other", work_dir=tmp_path / "work", cache=tmp_path / "cache")
    [outcome] = engine.run(opts)
    code, out, err = cli("rerun", str(evaluation), "--trained", str(outcome.path), "--output", str(tmp_path / "o3"),
                         "--work-dir", str(tmp_path / "work"), "--cache", str(tmp_path / "cache"))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"{outcome.path.name} does not hold the model the record scored: its weights hash" in err
    assert not (tmp_path / "o3").exists()


def test_a_rerun_into_the_records_own_folder_is_refused(probe_record, cli, tmp_path):
    code, out, err = cli("rerun", str(probe_record), "--output", str(probe_record.parent), "--dry-run")
    assert code == 2 and out == ""
    assert f"{probe_record} exists: a re-run needs an output folder without that record" in err


def test_a_plan_that_is_not_the_record_is_refused_before_training(probe_record, cli, tmp_path):
    rec = json.loads(probe_record.read_text())
    rec["settings"]["data"]["fingerprint"] = "0" * 64  # the record ran on other data than the folder it names
    rec["settings_id"] = settings_id(rec["settings"])
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(rec))
    code, out, err = cli("rerun", str(edited), "--output", str(tmp_path / "again"), "--dry-run")
    assert code == 2 and out == ""
    assert "this machine would not run what the record ran (data.fingerprint '000000" in err
    assert not (tmp_path / "again").exists() or not list((tmp_path / "again").glob("*.json"))


def test_a_dry_run_names_the_run_and_settings(probe_record, cli, tmp_path):
    code, out, _ = cli("rerun", str(probe_record), "--output", str(tmp_path / "again"), "--dry-run")
    sid = json.loads(probe_record.read_text())["settings_id"]
    assert code == 0
    assert out.startswith(f"would re-run single-FaceSwap of shortcut_probe (settings {sid}, the record's {sid})")


@pytest.mark.parametrize("record,says", [
    (TWIN, "ffpp-lq-all__all__shortcut_probe__cpu__synthetic-v5-c40__seed0__f46d08bb1446.json: its trained "
           "checkpoint "),  # an evaluation record needs its model (there: none in the default work_dirs)
    (STAND_IN, "the record's data (synthetic-v5, $DFBENCH_CACHE/synthetic/v5-full) is not here: give it with --data"),
])
def test_what_cannot_be_repeated_here_is_one_line(record, says, cli, tmp_path):
    code, out, err = cli("rerun", str(record), "--output", str(tmp_path / "o"), "--cache", str(tmp_path / "empty"),
                         "--dry-run")
    assert code == 2 and out == ""
    assert says in err and len(err.strip().splitlines()) == 1


def test_the_starting_weights_are_read_back_from_the_record(tmp_path):
    stand_in, scratch = json.loads(STAND_IN.read_text()), json.loads(SCRATCH.read_text())
    assert _pretrained(stand_in, tmp_path, None) == "stand-in"  # package:dfbench_mmaction/weights/stand_in/...
    assert _pretrained(scratch, tmp_path, None) == "none"
    assert _pretrained(stand_in, tmp_path, "/my/file.pth") == "/my/file.pth"  # the reader's override wins
    paper = copy.deepcopy(stand_in)
    paper["settings"]["training"]["pretrained"]["default"] = True
    assert _pretrained(paper, tmp_path, None) == "auto"
    elsewhere = copy.deepcopy(stand_in)
    elsewhere["checkpoint"]["source"] = "$DFBENCH_CACHE/weights/mine.pth"
    missing = r"not on this machine: give them with --pretrained PATH \(sha256 eadce11e2e84"
    with pytest.raises(DfbenchError, match=missing):
        _pretrained(elsewhere, tmp_path, None)
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "mine.pth").write_bytes(b"x")
    assert _pretrained(elsewhere, tmp_path, None) == str(tmp_path / "weights" / "mine.pth")


def test_a_url_checkpoint_not_fetched_yet_is_judged_after_the_run_not_refused():
    from dfbench.rerun import check_plan

    rec = json.loads(STAND_IN.read_text())
    planned = copy.deepcopy(rec["settings"])
    planned["training"]["pretrained"]["sha256"] = None  # a dry plan of a URL it has not downloaded
    check_plan(rec, planned)  # taken on trust now; `dfbench diff` compares the fetched file's hash after the run
    planned["training"]["pretrained"]["sha256"] = "1" * 64  # a known, other file: refused before training
    with pytest.raises(DfbenchError, match="training.pretrained.sha256 'eadce11e"):
        check_plan(rec, planned)


def test_an_evaluation_records_condition_is_read_back_from_its_settings(tmp_path):
    """Each evaluation kind maps back to the `dfbench evaluate` arguments that made it; every standard
    perturbation round-trips to its own key (the record's run name)."""
    from dfbench.perturb import parse, standard
    from dfbench.rerun import evaluation_inputs

    def record(kind, run, data=None, perturbation=None, root="$DFBENCH_CACHE/x"):
        return {"settings": {"protocol": {"kind": kind, "run": run}, "data": data or {}, "perturbation": perturbation},
                "dataset": {"root": root}}

    for p in standard():
        [text] = evaluation_inputs(record("robustness", p.key, perturbation={**p.to_dict(), "seed": 3}), None,
                                   tmp_path)["perturb"]
        assert parse(text).key == p.key
    assert evaluation_inputs(record("cross-compression", "c23"), tmp_path, tmp_path) == {"compressions": ["c23"],
                                                                                          "data": tmp_path}
    twin = record("cross-dataset", "dfd", {"dataset": "dfd", "kind": "synthetic-dfd"})
    assert evaluation_inputs(twin, None, tmp_path) == {"test_data": ["dfd"]}
    real = record("cross-dataset", "celebdf", {"dataset": "celebdf", "kind": "celebdf"}, root="/data/Celeb-DF-v2")
    with pytest.raises(DfbenchError, match=r"test data \(celebdf, /data/Celeb-DF-v2\) is not here: give its folder "
                                           r"with --data"):
        evaluation_inputs(real, None, tmp_path)
    assert evaluation_inputs(real, tmp_path, tmp_path) == {"test_data": [f"celebdf={tmp_path}"]}
    with pytest.raises(DfbenchError, match="an evaluation of kind 'other'"):
        evaluation_inputs(record("other", "x"), None, tmp_path)


def test_an_evaluations_training_record_is_found_in_the_output_first_even_under_a_new_settings_id(tmp_path):
    """`make reproduce` re-trains into the output folder first; under changed code that re-run has another
    settings id, and it is still the one whose model is checked (not the committed record beside)."""
    from dfbench.rerun import trained_record_of

    stem = "ffpp-lq-all__all__shortcut_probe__cpu__synthetic-v5-c40__seed0"
    raw = {"trained": {"record": f"{stem}__aaaaaaaaaaaa.json"}}
    beside, output = tmp_path / "board", tmp_path / "rerun"
    beside.mkdir(), output.mkdir()
    (beside / f"{stem}__aaaaaaaaaaaa.json").write_text("{}")
    evaluation = beside / "ffpp-lq-cross-dataset__dfd__x.json"
    assert trained_record_of(raw, evaluation, output) == beside / f"{stem}__aaaaaaaaaaaa.json"
    (output / f"{stem}__bbbbbbbbbbbb.json").write_text("{}")  # re-run under changed code
    (output / f"{stem.replace('seed0', 'seed1')}__cccccccccccc.json").write_text("{}")  # another seed: not it
    assert trained_record_of(raw, evaluation, output) == output / f"{stem}__bbbbbbbbbbbb.json"
    (output / f"{stem}__aaaaaaaaaaaa.json").write_text("{}")  # the same settings id wins over a newer other one
    assert trained_record_of(raw, evaluation, output) == output / f"{stem}__aaaaaaaaaaaa.json"
    assert trained_record_of(raw, evaluation, output, beside / f"{stem}__aaaaaaaaaaaa.json") == beside / (
        f"{stem}__aaaaaaaaaaaa.json")
    with pytest.raises(DfbenchError, match="no such training record"):
        trained_record_of(raw, evaluation, output, tmp_path / "gone.json")


def test_the_model_is_checked_by_its_weights_or_in_older_records_by_its_file():
    from dfbench.evaluation import ModelHashes
    from dfbench.rerun import check_model

    by_weights = {"settings": {"trained": {"model_sha256": "a" * 64}}}
    check_model(by_weights, "T.json", ModelHashes("f" * 64, "a" * 64))  # another file, the same weights: passes
    with pytest.raises(DfbenchError, match="T.json does not hold the model the record scored: its weights hash "
                                           "bbbbbbbbbbbb, the record's aaaaaaaaaaaa"):
        check_model(by_weights, "T.json", ModelHashes("f" * 64, "b" * 64))
    by_file = {"settings": {"trained": {"checkpoint_sha256": "f" * 64}}}
    check_model(by_file, "T.json", ModelHashes("f" * 64, "b" * 64))  # that very file: passes
    with pytest.raises(DfbenchError, match=r"its checkpoint file \(the record predates weight hashes\) hash "
                                           "eeeeeeeeeeee, the record's ffffffffffff"):
        check_model(by_file, "T.json", ModelHashes("e" * 64, "b" * 64))
