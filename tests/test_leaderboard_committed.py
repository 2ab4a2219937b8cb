"""The committed leaderboard is exactly what `dfbench leaderboard` renders from the committed results."""

import json
import os
from pathlib import Path

from sklearn.metrics import accuracy_score, roc_auc_score

from dfbench.leaderboard import figures_beside, render_dir
from dfbench.results import load_all

ROOT = Path(__file__).resolve().parent.parent
BOARD = ROOT / "leaderboard" / "README.md"
RESULTS = ROOT / "leaderboard" / "results"


def test_committed_leaderboard_is_not_stale(monkeypatch):
    monkeypatch.chdir(ROOT)  # the header names the results folder relative to the repository
    expected = render_dir(Path("leaderboard/results"), figures=figures_beside(BOARD))
    assert "- [roc_all.png](figures/roc_all.png)" in expected  # the committed figures are linked
    assert BOARD.read_text() == expected, "leaderboard/README.md is stale: run `make leaderboard` and commit it"


def test_committed_results_metrics_recompute_from_their_scores():
    records = load_all(RESULTS)
    assert records, "leaderboard/results holds no records: run `make demo`"
    for r in records:
        labels = [v.label for v in r.videos]
        scores = [v.score for v in r.videos]
        assert r.metrics["tcr"] == accuracy_score(labels, [s >= 0.5 for s in scores]), r.file_name
        assert abs(r.metrics["auc"] - roc_auc_score(labels, scores)) < 1e-12, r.file_name
        kinds = {"synthetic-v5", "ffpp"}
        kinds |= {k for d in ("celebdf", "dfdc", "dfd") for k in (d, f"synthetic-{d}")}
        assert r.dataset.kind in kinds and r.size in ("cpu", "paper")  # the board: version 5 at its full size
        # every record names its data and model size, and its file name says so too
        assert f"__{r.size}__{r.dataset.kind}-{r.dataset.compression}__" in r.file_name
        if r.trained:  # an evaluation record: its training record is committed beside it, settings and all
            trained = {t.file_name: t for t in records}[r.trained["record"]]
            assert r.trained["settings_id"] == trained.settings_id
            assert r.settings["trained"]["settings"] == trained.settings
            assert r.fit == trained.fit and r.detector == trained.detector and r.seed == trained.seed
    assert not [p for p in os.listdir(RESULTS) if p.startswith(".")], "a half-written record was committed"
    json.loads((RESULTS / records[0].file_name).read_text())


def _machine_paths(value, where=""):
    """Every string in a record that is an absolute path on the machine that wrote it."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _machine_paths(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _machine_paths(v, f"{where}[{i}]")]
    return [f"{where}={value}"] if isinstance(value, str) and value.startswith("/") else []


# The board's data lives under $DFBENCH_CACHE and shipped weights are named `package:...`, so no committed
# record holds a path of the machine that wrote it. Records written before that (2026-12-03) were kept as
# evidence until re-runs that `dfbench diff` found identical replaced them (sessions 17 and 18).


def test_committed_records_hold_no_machine_path():
    checked = 0
    for path in sorted(RESULTS.glob("*.json")):
        assert _machine_paths(json.loads(path.read_text())) == [], path.name
        checked += 1
    assert checked > 40
    assert _machine_paths({"a": [{"b": "/tmp/x"}], "c": "rel/x"}) == [".a[0].b=/tmp/x"]
