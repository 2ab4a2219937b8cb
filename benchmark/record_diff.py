"""Does a re-run reproduce a stored record? ``dfbench diff A B`` sorts every difference between two
records into what was asked (settings), what was measured (evidence) and where and when it was made
(provenance), and gives one verdict.

A leaderboard others can regenerate needs this check written down: a record is replaced by a re-run
at a clean revision only when the re-run's evidence (every test video's score, every metric, the
training history) is the old one's. Provenance (``created``, ``git_revision``, timings, paths) is
expected to differ and is listed, never judged. Settings that differ only in code hashes (the
detector's ``code_sha256``, its version, ``dfbench_version``) make a re-run under changed code: when
its evidence is identical, the code change did not move the score, which is worth saying.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

# Fields that say where, when and how fast a record was made; they differ between any two runs.
PROVENANCE = ("created", "git_revision", "fit.train_seconds", "fit.best_checkpoint", "dataset.root",
              "checkpoint.source", "fit.pretrained.source", "trained.record", "trained.settings_id",
              "trained.checkpoint_sha256")
# Settings that name the code rather than the experiment; a difference in these alone is a code change.
# An evaluation record's trained run (``trained``) counts the same way: its record name and settings id
# are hashes of its settings, and any other change in them shows in ``trained.settings`` itself.
CODE_SETTINGS = ("detector.code_sha256", "detector.version", "dfbench_version", "perturbation.code_sha256")
_TRAINED_NAMES = ("trained.record", "trained.settings_id")
# An evaluation record's top-level ``trained.model_sha256`` repeats its settings' (dfbench.record_check
# holds them equal): a difference there is a settings difference, already listed, never evidence.
_MIRRORS = ("trained.model_sha256",)
VERDICTS = {
    "replicated": "{b} reproduces {a}",
    "replicated-changed-code": "{b} reproduces {a} under changed code",
    "not-replicated": "{b} does not reproduce {a}",
    "different-settings": "{a} and {b} are different experiments",
}
REPRODUCED = ("replicated", "replicated-changed-code")
_SHOWN = 12  # differences listed per kind in the text output


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a JSON value by dotted path; lists by index, except ``videos``, keyed by video key."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            if path == "videos" and isinstance(v, list):
                for video in v:
                    key = video.get("key") if isinstance(video, dict) else None
                    out.update(_flat({f: x for f, x in video.items() if f != "key"}, f"videos[{key}]")
                               if key is not None else {f"videos[?{len(out)}]": video})
            else:
                out.update(_flat(v, path))
        return out or {prefix: {}}
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flat(v, f"{prefix}[{i}]"))
        return out or {prefix: []}
    return {prefix: value}


def _equal(a: Any, b: Any, tolerance: float) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool) or not (isinstance(a, numbers) and isinstance(b, numbers)):
        return a == b
    return math.isclose(a, b, rel_tol=0.0, abs_tol=tolerance) if tolerance else a == b


def _is(path: str, names: tuple[str, ...]) -> bool:
    return any(path == n or path.startswith(n + ".") or path.startswith(n + "[") for n in names)


def _natural(path: str) -> list:
    """Sort key that puts ``history[2]`` before ``history[10]``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]


def _differences(a: dict, b: dict, tolerance: float) -> list[dict]:
    fa, fb = _flat(a), _flat(b)
    missing = object()
    out = []
    for path in sorted(set(fa) | set(fb), key=_natural):
        x, y = fa.get(path, missing), fb.get(path, missing)
        if x is missing or y is missing or not _equal(x, y, tolerance):
            out.append({"field": path, "a": None if x is missing else x, "b": None if y is missing else y,
                        "only_in": "a" if y is missing else "b" if x is missing else None})
    return out


def diff_records(a: dict, b: dict, *, tolerance: float = 0.0) -> dict:
    """Every difference between records ``a`` and ``b`` (raw JSON dicts), sorted into settings,
    evidence and provenance, with a verdict (:data:`VERDICTS`). Numbers are equal within
    ``tolerance`` (absolute; 0 asks for identical values, as a re-run on the same machine class gives)."""
    settings = _differences(a.get("settings", {}), b.get("settings", {}), 0.0)
    rest_a = {k: v for k, v in a.items() if k not in ("settings", "settings_id")}
    rest_b = {k: v for k, v in b.items() if k not in ("settings", "settings_id")}
    provenance, evidence = [], []
    for d in _differences(rest_a, rest_b, tolerance):
        if _is(d["field"], _MIRRORS):
            continue
        (provenance if _is(d["field"], PROVENANCE + ("dfbench_version",)) else evidence).append(d)
    code_only = all(_is(d["field"].removeprefix("trained.settings."), CODE_SETTINGS) or d["field"] in _TRAINED_NAMES
                    for d in settings)
    if settings and not code_only:
        verdict = "different-settings"
    elif evidence:
        verdict = "not-replicated"
    else:
        verdict = "replicated-changed-code" if settings else "replicated"
    scores = [d for d in evidence if d["field"].startswith("videos[") and d["field"].endswith(".score")]
    numbers = (int, float)
    deltas = [abs(d["a"] - d["b"]) for d in scores if isinstance(d["a"], numbers) and isinstance(d["b"], numbers)]
    return {
        "verdict": verdict,
        "summary": VERDICTS[verdict].format(a="A", b="B"),
        "settings_id": [a.get("settings_id"), b.get("settings_id")],
        "auc": [a.get("metrics", {}).get("auc"), b.get("metrics", {}).get("auc")],
        "test_videos": [len(a.get("videos", [])), len(b.get("videos", []))],
        "scores_differing": len(scores),
        "max_score_delta": max(deltas, default=0.0),
        "tolerance": tolerance,
        "settings": settings,
        "evidence": evidence,
        "provenance": provenance,
    }


Named = tuple[str, dict]  # a record's file name and its raw JSON


def pair_folders(folder_a: Path, folder_b: Path, read) -> tuple[list[tuple[Named, Named]], list[str], list[str]]:
    """The records of two folders paired by what they ran (protocol run, detector, size, data, seed:
    the record stem, ``dfbench.results.record_stem``), for checking a regenerated board against the
    committed one. Within a stem, records with one settings id pair first, then the newest of each side.
    Returns the pairs (file name, raw dict) and the stems found only in A and only in B. ``read(path) -> dict``
    checks each record (a refused one raises, naming its file)."""
    from dfbench.results import stem_of

    def by_stem(folder: Path) -> dict[str, list[Named]]:
        out: dict[str, list[Named]] = {}
        for path in sorted(Path(folder).glob("*.json")):
            out.setdefault(stem_of(path.name), []).append((path.name, read(path)))
        return out

    def newest(named: list[Named]) -> Named:
        return max(named, key=lambda n: n[1].get("created", ""))

    a, b = by_stem(folder_a), by_stem(folder_b)
    pairs = []
    for stem in sorted(set(a) & set(b)):
        same = [(x, y) for x in a[stem] for y in b[stem] if x[1].get("settings_id") == y[1].get("settings_id")]
        pairs.append(same[0] if same else (newest(a[stem]), newest(b[stem])))
    return pairs, sorted(set(a) - set(b)), sorted(set(b) - set(a))


def diff_folders(folder_a: Path, folder_b: Path, read, *, tolerance: float = 0.0) -> dict:
    """:func:`diff_records` for every pair of :func:`pair_folders`; ``ok`` when there is at least one
    pair and every pair reproduces."""
    pairs, only_a, only_b = pair_folders(folder_a, folder_b, read)
    results = []
    for (name_a, x), (name_b, y) in pairs:
        results.append({"a": name_a, "b": name_b, **diff_records(x, y, tolerance=tolerance)})
    ok = bool(results) and all(r["verdict"] in REPRODUCED for r in results)
    return {"ok": ok, "pairs": results, "only_in_a": only_a, "only_in_b": only_b, "tolerance": tolerance}


def format_folders(result: dict) -> str:
    """One line per pair (its verdict), then what only one side has."""
    lines = [f"{r['verdict']:<24} {r['b']}  (AUC {_value(r['auc'][0])} vs {_value(r['auc'][1])}, "
             f"{r['scores_differing']} of {r['test_videos'][0]} scores differ)" for r in result["pairs"]]
    good = sum(r["verdict"] in REPRODUCED for r in result["pairs"])
    lines.append(f"{good} of {len(result['pairs'])} re-run(s) reproduce their record; "
                 f"{len(result['only_in_a'])} run(s) only in A, {len(result['only_in_b'])} only in B")
    return "\n".join(lines)


def _value(x: Any) -> str:
    """A value in a line: floats to 6 digits, long strings by their two ends (hashes differ at the
    start, record names at the end)."""
    if isinstance(x, float):
        return f"{x:.6g}"
    text = str(x)
    return text if len(text) <= 48 else f"{text[:22]}...{text[-22:]}"


def format_diff(result: dict, name_a: str = "A", name_b: str = "B") -> str:
    """The verdict in one line, then each kind of difference with its first fields."""
    auc = result["auc"]
    head = VERDICTS[result["verdict"]].format(a=name_a, b=name_b)
    lines = [f"{head}: AUC {_value(auc[0])} vs {_value(auc[1])}; {result['scores_differing']} of "
             f"{result['test_videos'][0]} test scores differ (max |delta| {_value(result['max_score_delta'])}, "
             f"tolerance {_value(result['tolerance'])})"]
    for kind, note in (("settings", "what was asked"), ("evidence", "what was measured"),
                       ("provenance", "where and when; expected to differ")):
        diffs = result[kind]
        if not diffs:
            lines.append(f"  {kind} ({note}): identical")
            continue
        lines.append(f"  {kind} ({note}): {len(diffs)} field(s) differ")
        for d in diffs[:_SHOWN]:
            lines.append(f"    {d['field']}: {_value(d['a'])} -> {_value(d['b'])}")
        if len(diffs) > _SHOWN:
            lines.append(f"    ... and {len(diffs) - _SHOWN} more (--json lists all)")
    return "\n".join(lines)
