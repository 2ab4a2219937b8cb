"""Typed result records, one JSON file per protocol run, written atomically.

A record holds everything needed to regenerate its metrics and its leaderboard rows: which
protocol and version, detector and size, data (synthetic or FF++, compression), seed, code
revision, checkpoint hash, per-video scores with labels and pairs, the metrics, and the full
``settings`` that can move its score with their short ``settings_id`` (:mod:`dfbench.settings`).
The id is part of the file name, so a run with other settings writes a new file beside the old
one and never overwrites it. :mod:`dfbench.record_check` validates records read back.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dfbench.errors import DfbenchError

SCHEMA = 2  # 2: settings and settings_id, video pairs, portable paths


@dataclass
class DatasetInfo:
    """Which data a result came from; ``kind`` is "ffpp", "synthetic" or "synthetic-v<N>", with the pairs when not
    the version's full size (dfbench.layout)."""

    kind: str
    compression: str
    root: str = ""  # as given, made portable (dfbench.provenance.portable_path): no machine paths
    seed: int | None = None  # generator seed, synthetic only
    fingerprint: str = ""  # dfbench.settings.data_fingerprint: the videos of each split and their sizes


@dataclass
class VideoScore:
    key: str
    method: str
    label: int
    score: float
    pair: str = ""  # the FF++ source-target pair the video belongs to: the bootstrap's cluster


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
    failed_videos: list[dict] = field(default_factory=list)  # {"key", "path" (under the dataset root), "error"}
    fit: dict = field(default_factory=dict)  # the detector's training report (epochs, best epoch, val AUC)
    preprocessing: dict = field(default_factory=dict)  # face finder, crop scale and size, clip and trunk length
    settings: dict = field(default_factory=dict)  # everything that can move the score (dfbench.settings)
    settings_id: str = ""  # dfbench.settings.settings_id(settings), also in the file name
    created: str = ""
    schema: int = SCHEMA
    # An evaluation record (dfbench.evaluation): the training record it scored with, never retrained:
    # {"record", "settings_id", "protocol", "run", "dataset": {"kind", "compression"}, "checkpoint_sha256"
    # (the weights file's bytes), "model_sha256" (the weights in it; dfbench.checkpoints.model_sha256)}.
    trained: dict | None = None

    @property
    def file_name(self) -> str:
        return record_name(self.protocol, self.run, self.detector, self.size, self.dataset, self.seed,
                           self.settings_id)

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["trained"] is None:  # a training record keeps exactly the fields it had before evaluations existed
            del d["trained"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RunResult:
        d = dict(d)
        d["dataset"] = DatasetInfo(**d["dataset"])
        d["videos"] = [VideoScore(**v) for v in d["videos"]]
        return cls(**d)


def record_stem(protocol: str, run: str, detector: str, size: str, dataset: DatasetInfo, seed: int) -> str:
    """What every record of one (protocol run, detector, size, data, seed) starts its file name with.

    A sourced detector's ``:`` and ``/`` (``mmaction2:x3d/x3d_s_...``) are spelt ``+`` in file names."""
    safe = detector.replace(":", "+").replace("/", "+")
    return f"{protocol}__{run}__{safe}__{size}__{dataset.kind}-{dataset.compression}__seed{seed}"


def record_name(protocol: str, run: str, detector: str, size: str, dataset: DatasetInfo, seed: int,
                settings_id: str) -> str:
    """The file name of a run's record: its stem, then the settings id, so other settings get another file."""
    return f"{record_stem(protocol, run, detector, size, dataset, seed)}__{settings_id}.json"


def stem_of(file_name: str) -> str:
    """The :func:`record_stem` of a record's file name: the name without its settings id (and ``.json``)."""
    return file_name.rsplit("__", 1)[0]


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half of one.

    The one writer of the project (records, manifests, reports, and the plugins' checkpoints). A
    failure leaves no temporary file behind; a full disk becomes one DfbenchError naming the file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; a record is as readable as any file here
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DfbenchError(f"{path}: disk full, nothing written; free space on that disk or choose "
                               "another folder") from None
        raise


def save(result: RunResult, out_dir: Path) -> Path:
    path = Path(out_dir) / result.file_name
    write_atomic(path, json.dumps(result.to_dict(), indent=1, sort_keys=True, allow_nan=False) + "\n")
    return path


def read_record(path: Path) -> RunResult:
    """One record, checked against the schema and its own metrics (dfbench.record_check).

    Raises DfbenchError with one line naming the file and what is wrong with it.
    """
    from dfbench.record_check import check_record

    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise DfbenchError(f"{path}: unreadable ({e})") from None
    except json.JSONDecodeError as e:
        raise DfbenchError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}); a truncated or edited "
                           "record: delete it or run again") from None
    problem = check_record(raw)
    if problem:
        raise DfbenchError(f"{path}: {problem}")
    return RunResult.from_dict(raw)


def load_all(results_dir: Path, *, warn=None) -> list[RunResult]:
    """Every valid record under ``results_dir`` (sorted by file name, so rendering is deterministic).

    A record that fails :func:`read_record` is skipped; ``warn(line)`` hears about it (one line
    naming the file). Without ``warn`` a bad record raises.
    """
    out = []
    for p in sorted(Path(results_dir).glob("*.json")):
        try:
            out.append(read_record(p))
        except DfbenchError as e:
            if warn is None:
                raise
            warn(str(e))
    return out
