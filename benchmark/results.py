"""Typed result records, one JSON file per protocol run, written atomically.

A record holds everything needed to regenerate its metrics and its leaderboard rows: which
protocol and version, detector and size, data (synthetic or FF++, compression), seed, code
revision, checkpoint hash, per-video scores with labels, and the metrics.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA = 1


@dataclass
class DatasetInfo:
    """Which data a result came from; ``kind`` is "synthetic" or "ffpp"."""

    kind: str
    compression: str
    root: str = ""
    seed: int | None = None  # generator seed, synthetic only


@dataclass
class VideoScore:
    key: str
    method: str
    label: int
    score: float


@dataclass
class RunResult:
    protocol: str
    protocol_version: int
    protocol_kind: str  # all | single | cross
    run: str  # e.g. "all", "single-Deepfakes", "cross-NeuralTextures"
    train_methods: list[str]
    test_methods: list[str]
    detector: str
    detector_plugin: str
    size: str
    parameters: int
    dataset: DatasetInfo
    seed: int
    dfbench_version: str
    git_revision: str
    metrics: dict
    videos: list[VideoScore]
    checkpoint: dict | None = None  # {"source": ..., "sha256": ...} of the pretrained weights loaded, if any
    precision: str = "fp32"  # compute precision of training and scoring: fp32 | bf16 | fp16
    failed_videos: list[dict] = field(default_factory=list)  # {"key", "path", "error"}
    fit: dict = field(default_factory=dict)  # the detector's training report (epochs, best epoch, val AUC)
    preprocessing: dict = field(default_factory=dict)  # face finder, crop scale and size, clip and trunk length
    created: str = ""
    schema: int = SCHEMA

    @property
    def file_name(self) -> str:
        return record_name(self.protocol, self.run, self.detector, self.size, self.dataset, self.seed)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RunResult:
        d = dict(d)
        d["dataset"] = DatasetInfo(**d["dataset"])
        d["videos"] = [VideoScore(**v) for v in d["videos"]]
        return cls(**d)


def record_name(protocol: str, run: str, detector: str, size: str, dataset: DatasetInfo, seed: int) -> str:
    """The file name of a run's record: one file per (protocol run, detector, size, data, seed)."""
    return f"{protocol}__{run}__{detector}__{size}__{dataset.kind}-{dataset.compression}__seed{seed}.json"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; a record is as readable as any file here
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(result: RunResult, out_dir: Path) -> Path:
    path = Path(out_dir) / result.file_name
    write_atomic(path, json.dumps(result.to_dict(), indent=1, sort_keys=True) + "\n")
    return path


def load_all(results_dir: Path) -> list[RunResult]:
    """Every record under ``results_dir`` (sorted by file name, so rendering is deterministic)."""
    out = []
    for p in sorted(Path(results_dir).glob("*.json")):
        with open(p, encoding="utf-8") as f:
            out.append(RunResult.from_dict(json.load(f)))
    return out
