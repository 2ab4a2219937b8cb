"""One model under two names, counted once: records of different detectors that are the same
configuration and gave the same score on every test video become one leaderboard row.

At the cpu size no Kinetics weights exist, so ``resnet3d`` (pretrained by definition) starts from the
same initialisation as ``resnet3d_scratch`` and trains into the same model: two rows would count one
model twice, in the ranking and in the multiple-comparison correction (issue 10). Two records are
merged only when both hold: their settings are equal once the detector's name is taken out (the same
architecture config, starting weights, training, preprocessing and data), and every test video has
the same score. The merged row is named ``resnet3d = resnet3d_scratch`` and a note says why.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable, Iterable

from dfbench.results import RunResult

JOIN = " = "  # between the names of one model's detectors, in the Detector column


def _without_names(settings: dict) -> str:
    """The settings with every trace of the detector's name removed, as canonical JSON. An evaluation
    record's training run is named by its record file, settings id and model hash, which carry the name too."""
    s = copy.deepcopy(settings) if isinstance(settings, dict) else {}
    if isinstance(s.get("detector"), dict):
        s["detector"].pop("name", None)
    trained = s.get("trained")
    if isinstance(trained, dict):
        trained.pop("record", None)
        trained.pop("checkpoint_sha256", None)
        trained.pop("model_sha256", None)
        trained.pop("settings_id", None)
        inner = trained.get("settings")
        if isinstance(inner, dict) and isinstance(inner.get("detector"), dict):
            inner["detector"].pop("name", None)
    return json.dumps(s, sort_keys=True, default=str)


def _scores(r: RunResult) -> tuple:
    return tuple(sorted((v.key, v.score) for v in r.videos))


def first_name(detector: str) -> str:
    """The detector a merged row sorts and is looked up by: ``resnet3d`` for ``resnet3d = resnet3d_scratch``."""
    return detector.split(JOIN, 1)[0]


def merge(records: Iterable[RunResult], dkey: Callable[[str], tuple],
          escape: Callable[[str], str]) -> tuple[list[RunResult], list[str]]:
    """(records, notes): each set of records that are one model under several names replaced by the
    record of the first name (in ``dkey`` order) renamed ``a = b``; one note per set of names. Records of
    different detectors with the same scores but different settings are kept apart, with a note to check."""
    groups: dict[tuple, list[RunResult]] = defaultdict(list)
    for r in records:
        groups[(r.protocol, r.run, r.seed, r.size, r.dataset.fingerprint, _scores(r))].append(r)
    out: list[RunResult] = []
    merged: dict[tuple[str, ...], list[RunResult]] = defaultdict(list)
    coincident: dict[tuple[str, ...], list[RunResult]] = defaultdict(list)
    for recs in groups.values():
        if len({r.detector for r in recs}) == 1:
            out += recs
            continue
        by_settings: dict[str, list[RunResult]] = defaultdict(list)
        for r in recs:
            by_settings[_without_names(r.settings)].append(r)
        for same in by_settings.values():
            names = tuple(sorted({r.detector for r in same}, key=dkey))
            if len(names) == 1:
                out += same
                continue
            keep = min(same, key=lambda r: (dkey(r.detector), r.created))
            out.append(dataclasses.replace(keep, detector=JOIN.join(names)))
            merged[names].append(keep)
        if len(by_settings) > 1:
            names = tuple(sorted({r.detector for r in recs}, key=dkey))
            coincident[names].append(recs[0])
    return out, _notes(merged, coincident, escape)


def _where(recs: list[RunResult]) -> str:
    runs = sorted({f"{r.protocol} {r.run}" for r in recs})
    shown = ", ".join(runs[:3]) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")
    sizes = ", ".join(sorted({r.size for r in recs}))
    return f"{len(recs)} record(s): {shown}; {sizes} size"


def _notes(merged: dict, coincident: dict, escape: Callable[[str], str]) -> list[str]:
    lines = []
    for names, recs in sorted(merged.items()):
        shown = " and ".join(f"`{escape(n)}`" for n in names)
        lines.append(f"{shown} are one model here, shown as one row `{escape(JOIN.join(names))}` ({_where(recs)}): "
                     "the same settings apart from the name (architecture config, starting weights, training, data) "
                     "and the same score on every test video. A pretrained variant with no weights at its size "
                     "(no Kinetics checkpoint fits the cpu size) starts from the same initialisation as its "
                     "from-scratch twin; `--pretrained stand-in` makes them differ (docs/pretrained-weights.md).")
    for names, recs in sorted(coincident.items()):
        shown = " and ".join(f"`{escape(n)}`" for n in names)
        lines.append(f"{shown} gave the same score on every test video ({_where(recs)}) although their settings "
                     "differ: check that they are not one model.")
    return [""] + [f"> {line}" for line in lines] if lines else []
