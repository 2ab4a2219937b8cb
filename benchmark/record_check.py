"""Checks a stored record before anything trusts it: the schema, its settings id, its own metrics.

A record is evidence, so a reader re-derives what it can: the JSON Schema below (validated with
the ``jsonschema`` package) rejects missing fields, impossible values and other schema versions;
the settings id must be the hash of the stored settings; and TCR, AUC, EER, AP (and every other
metric the record stores) are recomputed from the stored per-video scores and must agree.
"""

from __future__ import annotations

import math
from functools import lru_cache

from dfbench.results import SCHEMA
from dfbench.settings import ID_LENGTH, settings_id

TOLERANCE = 1e-9  # recomputed metrics agree to float rounding, or the record was edited
# A probability or rate; float rounding may put a computed 1 a few ulps above 1 (scikit-learn's AP of
# a perfect ranking is 1.0000000000000002), so the bounds give way by TOLERANCE and no more.
_UNIT = {"type": "number", "minimum": -TOLERANCE, "maximum": 1 + TOLERANCE}
_UNIT_OR_NULL = {"type": ["number", "null"], "minimum": -TOLERANCE, "maximum": 1 + TOLERANCE}
_NAME = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$"}
_DETECTOR = {"type": "string", "pattern": r"^[a-z][a-z0-9_]*(:[A-Za-z0-9_][A-Za-z0-9_.+/-]{0,139})?$"}  # a:b/c
_TEXT = {"type": "string", "maxLength": 400}
_COUNT = {"type": "integer", "minimum": 0}
_SETTINGS_ID = {"type": "string", "pattern": f"^[0-9a-f]{{{ID_LENGTH}}}$"}
_SHA256_OR_NULL = {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"}
_INTERVAL = {"type": ["array", "null"], "items": _UNIT, "minItems": 2, "maxItems": 2}

RECORD_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "dfbench result record",
    "type": "object",
    "required": ["schema", "protocol", "protocol_version", "protocol_kind", "run", "train_methods", "test_methods",
                 "detector", "detector_plugin", "size", "parameters", "dataset", "seed", "dfbench_version",
                 "git_revision", "metrics", "videos", "settings", "settings_id"],
    "properties": {
        "schema": {"const": SCHEMA},
        "protocol": _NAME, "protocol_version": {"type": "integer", "minimum": 1},
        "protocol_kind": _NAME, "run": _NAME,
        "train_methods": {"type": "array", "items": _NAME}, "test_methods": {"type": "array", "items": _NAME},
        "detector": _DETECTOR, "detector_plugin": _TEXT, "size": _NAME, "parameters": _COUNT,
        "dataset": {"type": "object", "required": ["kind", "compression"],
                    "properties": {"kind": _NAME, "compression": _NAME, "root": _TEXT,
                                   "seed": {"type": ["integer", "null"]}, "fingerprint": _TEXT}},
        "seed": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
        "dfbench_version": _TEXT, "git_revision": _TEXT, "precision": {"enum": ["fp32", "bf16", "fp16"]},
        "metrics": {
            "type": "object", "required": ["tcr", "auc", "n_videos", "n_real", "n_fake"],
            "properties": {"tcr": _UNIT, "auc": _UNIT_OR_NULL, "eer": _UNIT_OR_NULL, "ap": _UNIT_OR_NULL,
                           "n_videos": _COUNT, "n_real": _COUNT, "n_fake": _COUNT,
                           **{f"{k}_ci95": _INTERVAL for k in ("tcr", "auc", "eer", "ap")},
                           "brier": _UNIT_OR_NULL, "ece": _UNIT_OR_NULL,
                           "log_loss": {"type": ["number", "null"], "minimum": 0},
                           "val_threshold": {"type": ["number", "null"]}, "acc_at_val_threshold": _UNIT_OR_NULL,
                           "tpr_at_fpr": {"type": ["object", "null"], "additionalProperties": _UNIT}},
        },
        "videos": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["key", "method", "label", "score"],
            "properties": {"key": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"},
                           "method": _NAME, "label": {"enum": [0, 1]}, "score": _UNIT, "pair": _TEXT}}},
        "failed_videos": {"type": "array", "items": {
            "type": "object", "required": ["key", "error"],
            "properties": {"key": _TEXT, "path": _TEXT, "error": {"type": "string", "maxLength": 2000}}}},
        "checkpoint": {"type": ["object", "null"]},
        "fit": {"type": "object"}, "preprocessing": {"type": "object"}, "settings": {"type": "object"},
        "settings_id": _SETTINGS_ID,
        "created": _TEXT,
        "trained": {"type": "object", "required": ["record", "settings_id"],
                    "properties": {"record": _TEXT, "settings_id": _SETTINGS_ID,
                                   "protocol": _NAME, "run": _NAME, "dataset": {"type": "object"},
                                   "checkpoint_sha256": _SHA256_OR_NULL, "model_sha256": _SHA256_OR_NULL}},
    },
}


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(RECORD_SCHEMA)
    return jsonschema.Draft202012Validator(RECORD_SCHEMA)


def check_record(raw) -> str | None:
    """What is wrong with a record read from JSON, in one line; None when it is sound."""
    if not isinstance(raw, dict):
        return "not a dfbench record (expected a JSON object)"
    if raw.get("schema") != SCHEMA:
        return (f"record schema {raw.get('schema')!r}, this dfbench reads schema {SCHEMA}; "
                "re-run it with this version (or render it with the dfbench that wrote it)")
    errors = sorted(_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(map(str, e.absolute_path)) or "(top level)"
        return f"invalid record at {where}: {e.message[:200]}"
    if settings_id(raw["settings"]) != raw["settings_id"]:
        return f"settings_id {raw['settings_id']} is not the hash of the stored settings: the record was edited"
    return _trained_problem(raw) or _metrics_problem(raw)


def _trained_problem(raw: dict) -> str | None:
    """An evaluation record's top-level ``trained`` (what the board and `dfbench rerun` read) must name the
    training run and model its hashed settings name: else the score is attributed to another model."""
    top, pinned = raw.get("trained"), raw["settings"].get("trained")
    if top is None:
        return None
    if not isinstance(pinned, dict):
        return "an evaluation record whose settings name no trained run (settings.trained): the record was edited"
    for key in ("record", "settings_id", "checkpoint_sha256", "model_sha256"):
        if key in pinned and top.get(key) != pinned[key]:
            return (f"trained.{key} {str(top.get(key))[:120]!r} is not the {str(pinned[key])[:120]!r} its settings "
                    "name: the record was edited")
    return None


def _metrics_problem(raw: dict) -> str | None:
    """The first stored metric that the stored per-video scores do not reproduce."""
    stored = raw["metrics"]
    fresh = recompute(raw)
    for key in sorted(fresh):
        if key in stored and not _same(stored[key], fresh[key]):
            return (f"stored metric {key!r} = {_short(stored[key])} disagrees with {_short(fresh[key])} recomputed "
                    "from the record's per-video scores: the record was edited")
    missing = sorted(k for k in ("tcr", "auc", "eer", "ap") if k in fresh and k not in stored)
    if missing:
        return f"metrics {', '.join(missing)} missing"
    return None


def recompute(raw: dict) -> dict:
    """The metrics of a record, computed again from its per-video scores (and pairs, when stored).

    The validation threshold itself needs the validation scores, which records do not keep; the
    test accuracy at the stored threshold is recomputed.
    """
    from dfbench.metrics import video_metrics
    from dfbench.uncertainty import accuracy_at

    videos = raw["videos"]
    labels = [v["label"] for v in videos]
    scores = [v["score"] for v in videos]
    pairs = [v.get("pair") for v in videos]
    fresh = video_metrics(labels, scores, [v["method"] for v in videos], pairs=pairs if all(pairs) else None)
    fresh.pop("val_threshold", None)
    threshold = raw["metrics"].get("val_threshold")
    if isinstance(threshold, (int, float)) and not isinstance(threshold, bool):
        fresh["acc_at_val_threshold"] = accuracy_at(labels, scores, threshold)
    return fresh


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return a == b


def _short(x) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)[:60]
