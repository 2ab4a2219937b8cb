"""The leaderboard renderer: a golden file for the whole page, and value checks on its cells."""

from __future__ import annotations

import csv
import random
import zlib
from importlib import resources
from pathlib import Path

import pytest

from dfbench import board_unseen, leaderboard, reference
from dfbench.results import DatasetInfo, RunResult, VideoScore, load_all, save

GOLDEN = Path(__file__).parent / "golden"
METHODS = ["Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures"]


def _record(detector, kind, run, train, test, tcr, auc=0.5, seed=0, size="cpu"):
    metrics = {
        "tcr": tcr,
        "auc": auc,
        "eer": 0.25,
        "ap": 0.75,
        "roc": {"fpr": [0.0, 1.0], "tpr": [0.0, 1.0], "thresholds": [1.0, 0.0]},
    }
    if kind == "all":
        metrics["per_method"] = {m: {"tcr": tcr, "auc": auc} for m in METHODS}
    return RunResult(
        protocol=f"ffpp-lq-{kind}",
        protocol_version=1,
        protocol_kind=kind,
        run=run,
        train_methods=list(train),
        test_methods=list(test),
        detector=detector,
        detector_plugin="dfbench_test",
        size=size,
        parameters=1000,
        dataset=DatasetInfo(kind="synthetic", compression="c40", root="", seed=0),
        seed=seed,
        dfbench_version="0.1.0",
        git_revision="0" * 40,
        metrics=metrics,
        videos=[VideoScore(key="original/000", method="original", label=0,
                           score=zlib.crc32(f"{detector}/{run}/{seed}".encode()) / 2**32)],  # one per record
    )


def _protocol_records(detector, tcrs_single, tcrs_cross, tcr_all, auc_all, seed=0):
    """One detector's full set: all, single x4, cross x4."""
    out = [_record(detector, "all", "all", METHODS, METHODS, tcr_all, auc_all, seed=seed)]
    for m, t in zip(METHODS, tcrs_single, strict=True):
        out.append(_record(detector, "single", f"single-{m}", [m], [m], t, seed=seed))
    for m, t in zip(METHODS, tcrs_cross, strict=True):
        rest = [x for x in METHODS if x != m]
        out.append(_record(detector, "cross", f"cross-{m}", rest, [m], t, seed=seed))
    return out


@pytest.fixture
def records():
    """resnext3d_nl with one seed, i3d with two seeds, and a third-party detector (all only)."""
    out = _protocol_records(
        "resnext3d_nl", [0.9375, 0.875, 0.8125, 0.75], [0.625, 0.5625, 0.6875, 0.5], 0.9375, 0.96875
    )
    out += _protocol_records("i3d", [0.875, 0.75, 0.75, 0.625], [0.5, 0.5, 0.625, 0.5], 0.8, 0.9, seed=0)
    out += _protocol_records(
        "i3d", [0.9375, 0.8125, 0.75, 0.6875], [0.5625, 0.5, 0.625, 0.5], 0.9, 0.92, seed=1
    )
    out.append(_record("acme_detector", "all", "all", METHODS, METHODS, 0.5, 0.5))
    return out


def _table(markdown: str, title: str) -> list[dict[str, str]]:
    """The rows of the first table after the heading ``title``, as dicts keyed by column."""
    lines = markdown.splitlines()
    i = lines.index(title)
    while not lines[i].startswith("|"):
        i += 1
    table = []
    while i < len(lines) and lines[i].startswith("|"):
        table.append([c.strip() for c in lines[i].strip("|").split("|")])
        i += 1
    header, _, *body = table
    return [dict(zip(header, row, strict=True)) for row in body]


def _rows(markdown, title, detector, source_prefix):
    return [
        r
        for r in _table(markdown, title)
        if r["Detector"].split(" ")[0] == detector and r["Source"].startswith(source_prefix)
    ]


def test_render_matches_golden(records, request):
    text = leaderboard.render(records, results_dir="leaderboard/results")
    golden = GOLDEN / "leaderboard.md"
    if request.config.getoption("--regen-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        pytest.skip("golden file rewritten")
    assert text == golden.read_text(encoding="utf-8")


def test_reference_rows_carry_the_papers_numbers():
    text = leaderboard.render([])
    (row,) = _rows(text, "## Protocol `all`", "resnext3d_nl", "paper")
    assert (row["TCR (%)"], row["AUC"]) == ("88.28", "0.910")
    (row,) = _rows(text, "## Protocol `cross`", "resnext3d_nl", "paper")
    assert row["NT"] == "63.20"
    (row,) = _rows(text, "## Protocol `all`", "mesonet", "paper")
    assert row["Detector"] == "mesonet (variant not stated)"


def test_every_reported_number_is_in_its_cell():
    """Read the shipped CSV independently of dfbench.reference and find each value in the page."""
    text = leaderboard.render([])
    csv_text = resources.files("dfbench").joinpath("data/seed_paper/results.csv").read_text(encoding="utf-8")
    titles = {"all": "## Protocol `all`", "single": "## Protocol `single`", "cross": "## Protocol `cross`"}
    short = dict(zip(METHODS, ["DF", "F2F", "FS", "NT"], strict=True))
    checked = 0
    for r in csv.DictReader(csv_text.splitlines()):
        if r["protocol"] not in titles:
            continue
        (row,) = _rows(text, titles[r["protocol"]], r["detector"], "paper")
        column = {"tcr": "TCR (%)", "auc": "AUC"}[r["metric"]] if r["protocol"] == "all" else short[r["test"]]
        assert float(row[column]) == float(r["value"]), (r, row)
        checked += 1
    assert checked == 98  # tables 2 (13), 3 (5), 4 (13 x 4), 5 (7 x 4)


def test_measured_tcr_renders_in_percent():
    recs = [_record("resnext3d_nl", "all", "all", METHODS, METHODS, 0.9375, 0.96875)]
    (row,) = _rows(leaderboard.render(recs), "## Protocol `all`", "resnext3d_nl", "measured")
    assert row["TCR (%)"] == "93.75"
    assert row["AUC"] == "0.969"
    assert row["Source"] == "measured: synthetic c40 (data seed 0), cpu size, seed 0, ffpp-lq-all v1"
    assert row["Train"] == row["Test"] == "DF, F2F, FS, NT"


def test_single_records_combine_into_one_row(records):
    text = leaderboard.render(records)
    (row,) = _rows(text, "## Protocol `single`", "resnext3d_nl", "measured")
    assert [row[c] for c in ("DF", "F2F", "FS", "NT")] == ["93.75", "87.50", "81.25", "75.00"]
    (row,) = _rows(text, "## Protocol `cross`", "resnext3d_nl", "measured")
    assert [row[c] for c in ("DF", "F2F", "FS", "NT")] == ["62.50", "56.25", "68.75", "50.00"]


def test_seeds_aggregate_to_mean_std_and_n(records):
    text = leaderboard.render(records)
    (row,) = _rows(text, "## Protocol `all`", "i3d", "measured")
    assert row["TCR (%)"] == "85.00 ± 7.07 (n=2)"
    assert row["AUC"] == "0.910 ± 0.014 (n=2)"
    assert "seeds 0, 1" in row["Source"]
    (row,) = _rows(text, "## Protocol `single`", "i3d", "measured")
    assert row["FS"] == "75.00 ± 0.00 (n=2)"


def test_missing_values_show_a_dash():
    rec = _record("resnext3d_nl", "all", "all", METHODS, METHODS, 0.75)
    del rec.metrics["auc"]
    single = [_record("resnext3d_nl", "single", "single-Deepfakes", ["Deepfakes"], ["Deepfakes"], 0.75)]
    text = leaderboard.render([rec, *single])
    (row,) = _rows(text, "## Protocol `all`", "resnext3d_nl", "measured")
    assert row["AUC"] == "–"
    (row,) = _rows(text, "## Protocol `single`", "resnext3d_nl", "measured")
    assert [row[c] for c in ("DF", "F2F", "FS", "NT")] == ["75.00", "–", "–", "–"]


def test_rendering_is_independent_of_input_order(records):
    expected = leaderboard.render(records)
    assert leaderboard.render(list(reversed(records))) == expected
    shuffled = list(records)
    random.Random(0).shuffle(shuffled)
    assert leaderboard.render(shuffled) == expected


def test_detectors_in_paper_order_then_unknown_alphabetically(records):
    extra = [
        _record("zeta_plugin", "all", "all", METHODS, METHODS, 0.5),
        _record("alpha_plugin", "all", "all", METHODS, METHODS, 0.5),
    ]
    detectors = [
        r["Detector"].split(" ")[0] for r in _table(leaderboard.render(records + extra), "## Protocol `all`")
    ]
    first = list(dict.fromkeys(detectors))
    assert first == [*reference.detector_order(), "acme_detector", "alpha_plugin", "zeta_plugin"]
    # within a detector the paper's row comes first
    rows = _table(leaderboard.render(records), "## Protocol `all`")
    i3d = [r["Source"] for r in rows if r["Detector"] == "i3d"]
    assert i3d[0] == "paper (FF++ c40)" and i3d[1].startswith("measured")


def test_empty_results_still_render_the_reference_rows():
    text = leaderboard.render([])
    assert len(_table(text, "## Protocol `all`")) == 13
    assert len(_table(text, "## Protocol `single`")) == 13
    assert len(_table(text, "## Protocol `cross`")) == 7
    assert reference.CITATION in text
    assert "Rössler et al." in text


def test_reference_can_be_left_out(records):
    text = leaderboard.render(records, reference=[])
    assert "paper (FF++ c40)" not in text
    assert {r["Detector"] for r in _table(text, "## Protocol `all`")} == {
        "resnext3d_nl",
        "i3d",
        "acme_detector",
    }


def test_render_dir_names_the_folder_without_absolute_paths(records, tmp_path, monkeypatch):
    from dfbench.metrics import video_metrics
    from dfbench.settings import settings_id

    results = tmp_path / "leaderboard" / "results"
    for r in records:  # stored records must verify: metrics as their videos give them, a real settings id
        r.metrics = video_metrics([v.label for v in r.videos], [v.score for v in r.videos],
                                  [v.method for v in r.videos])
        r.settings_id = settings_id(r.settings)
        save(r, results)
    monkeypatch.chdir(tmp_path)
    text = leaderboard.render_dir(results)
    assert text == leaderboard.render(load_all(results), results_dir="leaderboard/results")
    assert str(tmp_path) not in text
    assert leaderboard.render_dir("leaderboard/results") == text


def test_reference_loads_typed_rows():
    rows = reference.load()
    assert len(rows) == 101  # tables 2 (13), 3 (5), 4 (52), 5 (28), 6 (3)
    (nl,) = [r for r in rows if r.table == "table2" and r.detector == "resnext3d_nl"]
    assert nl.value == 88.28 and nl.metric == "tcr" and nl.train == tuple(METHODS)
    (params,) = [r for r in rows if r.table == "table6" and r.detector == "resnet3d"]
    assert params.value == 85249216 and params.train == ()
    assert "10.1007/978-3-030-87664-7_10" in reference.CITATION


def test_one_model_under_two_names_is_one_row():
    """Two detectors with the same settings but the name and the same score on every test video (resnet3d at
    the cpu size, without Kinetics weights, is resnet3d_scratch) are one row with a note; a different score
    anywhere, or different settings, keeps two rows."""
    a = _record("resnet3d", "all", "all", METHODS, METHODS, 0.9)
    b = _record("resnet3d_scratch", "all", "all", METHODS, METHODS, 0.9)
    settings = {"detector": {"name": "resnet3d", "config_sha256": "c" * 64}, "training": {"pretrained": None}}
    a.settings = settings
    b.settings = {"detector": {"name": "resnet3d_scratch", "config_sha256": "c" * 64}, "training": {"pretrained": None}}
    b.videos = list(a.videos)
    c = _record("resnext3d", "all", "all", METHODS, METHODS, 0.9)
    text = leaderboard.render([b, c, a], reference=[])
    assert [r["Detector"] for r in _table(text, "## Protocol `all`")] == ["resnet3d = resnet3d_scratch", "resnext3d"]
    notes = [line for line in text.splitlines() if "are one model here" in line]
    assert len(notes) == 1
    assert notes[0].startswith("> `resnet3d` and `resnet3d_scratch` are one model here, shown as one row "
                               "`resnet3d = resnet3d_scratch` (1 record(s): ffpp-lq-all all")
    assert leaderboard.render([a, b, c], reference=[]) == text  # the order records come in does not matter

    b.settings = {"detector": {"name": "resnet3d_scratch", "config_sha256": "d" * 64}, "training": {"pretrained": None}}
    text = leaderboard.render([a, b, c], reference=[])
    assert {r["Detector"] for r in _table(text, "## Protocol `all`")} == {"resnet3d", "resnet3d_scratch", "resnext3d"}
    assert "are one model here" not in text and "although their settings differ" in text

    b.settings = dict(settings, detector={"name": "resnet3d_scratch", "config_sha256": "c" * 64})
    b.videos = [VideoScore(key="original/000", method="original", label=0, score=a.videos[0].score + 1e-9)]
    text = leaderboard.render([a, b, c], reference=[])
    assert len(_table(text, "## Protocol `all`")) == 3
    assert "one model" not in text and "settings differ" not in text


def test_one_model_merges_evaluation_records_named_after_their_training_runs():
    """An evaluation record names its training run by file, settings id and checkpoint hash, all of which carry
    the detector's name: two such records of one model are still one row."""
    def pair(name):
        r = _record(name, "all", "all", METHODS, METHODS, 0.9)
        r.videos = [VideoScore(key="original/000", method="original", label=0, score=0.25)]
        r.settings = {"detector": {"name": name}}
        return r

    a, b = pair("resnet3d"), pair("resnet3d_scratch")
    a.settings_id, b.settings_id = "a" * 12, "b" * 12
    ea = _evaluation("resnet3d", "cross-dataset", "celebdf", 0.7, trained=a, dataset="synthetic-celebdf")
    eb = _evaluation("resnet3d_scratch", "cross-dataset", "celebdf", 0.7, trained=b, dataset="synthetic-celebdf")
    for e, t in ((ea, a), (eb, b)):
        e.videos = [VideoScore(key="real/000", method="real", label=0, score=0.5)]
        e.settings = {"perturbation": None, "trained": {"record": t.file_name, "settings_id": t.settings_id,
                                                         "model_sha256": t.detector[0] * 64,
                                                         "settings": {"detector": {"name": t.detector}}}}
    text = leaderboard.render([a, b, ea, eb], reference=[])
    rows = [line for line in text.splitlines() if line.startswith("| resnet3d")]
    assert len(rows) == 2 and all(line.startswith("| resnet3d = resnet3d_scratch ") for line in rows)  # all, celebdf
    assert "(2 record(s): ffpp-lq-all all, ffpp-lq-cross-dataset celebdf; cpu size)" in text


def _evaluation(detector, kind, run, auc, *, trained, dataset="synthetic", compression="c40", perturbation=None):
    r = _record(detector, "all", run, METHODS, METHODS, 0.5, auc)
    r.protocol, r.protocol_kind = f"ffpp-lq-{kind}", kind
    r.metrics.pop("per_method")
    r.dataset = DatasetInfo(kind=dataset, compression=compression, root="", seed=0)
    r.trained = {"record": trained.file_name, "settings_id": trained.settings_id, "protocol": trained.protocol,
                 "run": trained.run, "dataset": {"kind": "synthetic", "compression": "c40"}}
    r.settings = {"perturbation": perturbation}
    return r


def test_unseen_data_sections_average_levels_and_name_training_and_test_data():
    trained = _record("resnext3d_nl", "all", "all", METHODS, METHODS, 0.9, 0.95)
    trained.settings_id = "abcdef012345"
    recs = [trained,
            _evaluation("resnext3d_nl", "cross-dataset", "celebdf", 0.61, trained=trained, dataset="synthetic-celebdf",
                        compression="v2"),
            _evaluation("resnext3d_nl", "cross-compression", "c23", 0.83, trained=trained, compression="c23"),
            _evaluation("resnext3d_nl", "robustness", "blur-7", 0.8, trained=trained,
                        perturbation={"type": "blur", "level": 7}),
            _evaluation("resnext3d_nl", "robustness", "blur-21", 0.6, trained=trained,
                        perturbation={"type": "blur", "level": 21}),
            _evaluation("resnext3d_nl", "robustness", "qp-48", 0.5, trained=trained,
                        perturbation={"type": "qp", "level": 48})]
    md = leaderboard.render(recs, reference=[])
    [row] = _table(md, "## Protocol `cross-dataset`")
    assert row["synthetic-celebdf"] == "0.610" and row["Own test AUC"] == "0.950"
    assert row["Trained on"] == "synthetic c40, ffpp-lq-all all, cpu size, seed 0 (settings abcdef012345)"
    [row] = _table(md, "## Protocol `cross-compression`")
    assert row["synthetic c23"] == "0.830"
    [row] = _table(md, "## Protocol `robustness`")
    assert row["blur"] == "0.700" and row["qp"] == "0.500"  # the mean over a type's levels
    assert row["DF-1.0 mean"] == "– (2/35 settings)"  # no mean over part of the 35: it would not compare
    full = [_evaluation("resnext3d_nl", "robustness", f"{t}-{lvl}", 0.8 if t == "blur" else 0.9, trained=trained,
                        perturbation={"type": t, "level": lvl})
            for t in board_unseen.DEEPERFORENSICS for lvl in range(5)]
    [row] = _table(leaderboard.render([trained, *full, recs[-1]], reference=[]), "## Protocol `robustness`")
    assert row["DF-1.0 mean"] == f"{(6 * 0.9 + 0.8) / 7:.3f}"  # DeeperForensics' types only: not the QP sweep
    assert row["Tested on"] == "synthetic c40 test split, perturbed"
    assert "Not shown" not in md


def test_the_shortcut_probe_row_is_explained_as_the_floor():
    a = _record("resnext3d_nl", "all", "all", METHODS, METHODS, 0.9)
    floor = _record("shortcut_probe", "all", "all", METHODS, METHODS, 0.7)
    assert "is not a deepfake detector but the floor" not in leaderboard.render([a], reference=[])
    text = leaderboard.render([a, floor], reference=[])
    assert [r["Detector"] for r in _table(text, "## Protocol `all`")] == ["resnext3d_nl", "shortcut_probe"]
    assert text.count("is not a deepfake detector but the floor") == 1


def test_a_demo_size_record_never_shares_a_row_with_or_supersedes_a_full_size_one():
    """Two sizes of one generator version are two datasets: a newer demo-size record of the same detector and
    seed is its own row, and the full-size record stays on the board."""
    full = _record("resnext3d_nl", "all", "all", METHODS, METHODS, 0.9, auc=0.91)
    demo = _record("resnext3d_nl", "all", "all", METHODS, METHODS, 0.6, auc=0.62)
    full.dataset = DatasetInfo(kind="synthetic-v5", compression="c40", root="", seed=0)
    demo.dataset = DatasetInfo(kind="synthetic-v5-24x6x16", compression="c40", root="", seed=0)
    full.created, demo.created = "2026-12-01T00:00:00+00:00", "2026-12-02T00:00:00+00:00"
    shown, superseded = leaderboard.latest([full, demo])
    assert len(shown) == 2 and superseded == []
    text = leaderboard.render([full, demo])
    rows = _rows(text, "## Protocol `all`", "resnext3d_nl", "measured")
    assert sorted((r["Source"].split(",")[0], r["AUC"].split()[0].strip("*")) for r in rows) == [
        ("measured: synthetic-v5 c40 (data seed 0)", "0.910"),
        ("measured: synthetic-v5-24x6x16 c40 (data seed 0)", "0.620")]
