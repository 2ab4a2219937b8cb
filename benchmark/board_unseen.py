"""Leaderboard sections for detectors tested on data they never saw (:mod:`dfbench.evaluation`).

Three tables, one per evaluation kind, each row one training run (detector, its training data and
protocol run, size, seed) and each column one test condition:

- ``cross-dataset``: AUC on each test dataset (its kind says whether it is the real dataset or
  dfbench's synthetic twin), beside the AUC on the training run's own test split;
- ``cross-compression``: AUC at each test compression, beside the training compression's;
- ``robustness``: per perturbation type, the AUC averaged over its levels, and the mean over
  DeeperForensics' 35 settings; each level's AUC (with its interval) is in its record and in the
  ``robustness.png`` figure that ``dfbench analyze figures`` draws.

Cells of single conditions carry their pair-bootstrap interval like every measured cell.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence

from dfbench import board_stats
from dfbench.results import RunResult

KINDS = ("cross-dataset", "cross-compression", "robustness")
DEEPERFORENSICS = ("saturation", "contrast", "block", "noise", "blur", "pixelation", "crf")
PERTURBATION_ORDER = DEEPERFORENSICS + ("qp",)
DF_SETTINGS = 35  # DeeperForensics-1.0: seven types at five levels
_COMPRESSIONS = ("raw", "c23", "c40")


def training_of(r: RunResult) -> tuple:
    """What identifies the training run an evaluation record scored with, for grouping rows."""
    t = r.trained or {}
    ds = t.get("dataset") or {}
    return (r.detector, r.size, r.seed, ds.get("kind", "?"), ds.get("compression", "?"), t.get("protocol", "?"),
            t.get("run", "?"), t.get("settings_id", "?"))


def trained_on(key: tuple, escape: Callable[[str], str]) -> str:
    """The "Trained on" cell: training data, protocol run, size and seed."""
    _, size, seed, kind, comp, protocol, run, sid = key
    return escape(f"{kind} {comp}, {protocol} {run}, {size} size, seed {seed} (settings {sid})")


def _column(kind: str, r: RunResult) -> str:
    """A condition's column: the test dataset's kind, with the compression for cross-compression."""
    return r.dataset.kind if kind == "cross-dataset" else f"{r.dataset.kind} {r.dataset.compression}"


def _level(r: RunResult):
    p = (r.settings or {}).get("perturbation") or {}
    return p.get("type"), p.get("level")


def _mean(values: Sequence[float]) -> str:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return f"{math.fsum(sorted(values)) / len(values):.3f}" if values else "–"


def sections(results: Sequence[RunResult], by_file: dict[str, RunResult], dkey, escape, table) -> list[str]:
    """The Markdown of the three sections (nothing for a kind with no records).

    ``by_file`` maps record file names to records, to show each training run's own test AUC;
    ``escape`` and ``table`` are the leaderboard's (:mod:`dfbench.leaderboard`)."""
    lines: list[str] = []
    for kind in KINDS:
        recs = [r for r in results if r.protocol_kind == kind]
        if recs:
            lines += _section(kind, recs, by_file, dkey, escape, table) + [""]
    return lines


def _section(kind, recs, by_file, dkey, escape, table) -> list[str]:
    rows_by: dict[tuple, list[RunResult]] = defaultdict(list)
    for r in recs:
        rows_by[training_of(r)].append(r)
    keys = sorted(rows_by, key=lambda k: (dkey(k[0]), k[1:]))
    own = "Own test AUC"
    if kind == "robustness":
        types = [t for t in PERTURBATION_ORDER if any(_level(r)[0] == t for r in recs)]
        types += sorted({_level(r)[0] for r in recs} - set(types) - {None})
        columns = ["Detector", "Trained on", "Tested on", own, *types, "DF-1.0 mean"]
    else:
        rank = {c: i for i, c in enumerate(_COMPRESSIONS)}
        conds = sorted({_column(kind, r) for r in recs},
                       key=lambda c: (rank.get(c.rsplit(" ", 1)[-1], len(rank)), c))
        columns = ["Detector", "Trained on", own, *conds]
    rows = []
    for key in keys:
        group = rows_by[key]
        trained = by_file.get(group[0].trained.get("record", "")) if group[0].trained else None
        row = {"Detector": escape(key[0]), "Trained on": trained_on(key, escape),
               own: board_stats.cell([trained], "auc", 3) if trained else "–"}
        if kind == "robustness":
            row["Tested on"] = escape(" / ".join(sorted({f"{r.dataset.kind} {r.dataset.compression}" for r in group}))
                                      + " test split, perturbed")
            per_type: dict[str, list[float]] = defaultdict(list)
            for r in group:
                per_type[_level(r)[0]].append(r.metrics.get("auc"))
            for t in types:
                row[t] = _mean(per_type.get(t, []))
            df = [a for t in DEEPERFORENSICS for a in per_type.get(t, [])]
            # A mean over some of the settings would not compare with one over all 35: say how many there are.
            row["DF-1.0 mean"] = _mean(df) if len(df) == DF_SETTINGS else f"– ({len(df)}/{DF_SETTINGS} settings)"
        else:
            for c in conds:
                row[c] = board_stats.cell([r for r in group if _column(kind, r) == c][-1:], "auc", 3)
        rows.append(row)
    numeric = set(columns) - {"Detector", "Trained on", "Tested on"}
    intro = {
        "cross-dataset": "Trained once on FF++ (the run named in *Trained on*), tested on other datasets' official "
                         "test videos without retraining; AUC per test dataset. A `synthetic-<id>` column is "
                         "dfbench's synthetic twin of that dataset (its layout, not its pixels).",
        "cross-compression": "Trained once at one FF++ compression, tested on the same test videos at the others "
                             "without retraining; AUC per test compression.",
        "robustness": "Trained once, tested on its own test videos perturbed before face finding "
                      "(DeeperForensics-1.0's seven types at five levels, then an H.264 QP sweep; definitions "
                      "in docs/unseen-data.md); each cell is the AUC averaged over the type's five levels, "
                      "*DF-1.0 mean* over all 35 settings.",
    }[kind]
    return [f"## Protocol `{kind}`", "", intro, "", table(rows, columns, numeric), "",
            "> *Own test AUC* is the training run's AUC on its own test split, with its interval; single conditions "
            "show theirs the same way, averages show none (each level's interval is in its record)."]
