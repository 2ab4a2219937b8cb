"""A run's settings: everything that can move its score, and the short id that names them.

A finished record is reused only when its ``settings_id`` equals the one asked for now; any
change (epochs, data, face finder, a plugin's code or config, ...) trains again and writes a new
record beside the old one. What is deliberately *not* in the settings, because it cannot move a
score: output and work folders, log level, the dataset's absolute path (data are identified by
content: which videos each split holds and their file sizes, plus the synthetic manifest).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

ID_LENGTH = 12  # hex digits of sha256: 48 bits, ample for the records of one results folder


def canonical_json(value: Any) -> str:
    """The one serialisation hashed: sorted keys, no spaces, non-JSON values as their str()."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def settings_id(settings: dict) -> str:
    """The short id of a settings mapping (the first ``ID_LENGTH`` hex digits of its sha256)."""
    return sha256_of(settings)[:ID_LENGTH]


def data_fingerprint(splits: dict[str, list[tuple[str, int]]], synthetic: dict | None) -> str:
    """The data a run reads, by content: each split's (video key, file size) list, and the synthetic
    set's manifest (generator, version, seed, sizes) when there is one. The manifest's
    ``extra_compressions`` is left out: the same set also written at c23 and raw (for cross-compression
    tests) has the same videos at the run's compression, so its runs keep their settings ids."""
    if synthetic:
        synthetic = {k: v for k, v in synthetic.items() if k != "extra_compressions"}
    return sha256_of({"splits": {s: sorted(v) for s, v in splits.items()}, "synthetic": synthetic})


def run_settings(*, protocol: dict, data: dict, preprocessing: dict, detector: dict, training: dict,
                 dfbench_version: str) -> dict:
    """The settings of one run as records store them (see docs/results.md for every field)."""
    return {"protocol": protocol, "data": data, "preprocessing": preprocessing, "detector": detector,
            "training": training, "dfbench_version": dfbench_version}
