"""A trained detector rebuilt from its record: the same detector, size, weights, preprocessing and trunks.

A record names everything its score depends on (``settings``) and the detector's own report of its
training (``fit``, a :class:`~dfbench.detector.FitReport` with the best checkpoint under the run's
work folder). :func:`load` turns the two back into a detector that scores any video exactly as the
run scored its test videos (``dfbench score``, ``dfbench explain``). The checkpoint is found under
``work_root`` (``--work-dir``, the same default as ``dfbench run``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from dfbench import plugins
from dfbench.detector import Detector, DetectorSpec, FitConfig, FitReport, LoadedWeights
from dfbench.errors import DfbenchError
from dfbench.preflight import build_detector
from dfbench.provenance import detector_code_sha256, expand_path
from dfbench.results import RunResult, read_record
from dfbench.tracking import DEFAULT_PARAMS

WORK_DIR = "$WORK_DIR"  # how a record names the folder runs train in (dfbench.provenance.portable_path)


@dataclass(frozen=True)
class Trained:
    """A record's detector, ready to score: built at the record's size, with its fit report and config."""

    path: Path
    record: RunResult
    spec: DetectorSpec
    detector: Detector
    config: FitConfig
    fit: FitReport

    @property
    def face_finder(self) -> str:
        return self.record.settings["preprocessing"]["face_finder"]

    @property
    def crop_size(self) -> int:
        return int(self.config.crop_size)

    @property
    def trunk_len(self) -> int:
        return int(self.config.trunk_len)


def fit_report(fit: dict, work_root: Path) -> FitReport:
    """The :class:`FitReport` a record stores, its best checkpoint under ``work_root`` again."""
    best = fit.get("best_checkpoint")
    if best is not None:
        best = expand_path(best, roots={WORK_DIR: Path(work_root)})
    pre = fit.get("pretrained")
    return FitReport(
        best_checkpoint=best, epochs=fit.get("epochs"), best_epoch=fit.get("best_epoch"),
        best_val_auc=fit.get("best_val_auc"), selected_on=fit.get("selected_on", "val"),
        history=list(fit.get("history") or ()),
        pretrained=LoadedWeights(pre["source"], pre["sha256"], pre.get("details") or {}) if pre else None,
        parameters=fit.get("parameters"), train_seconds=fit.get("train_seconds"), details=fit.get("details") or {})


def load(record_path: Path, work_root: Path = Path("work_dirs"), *, warn=None) -> Trained:
    """The record's detector with its trained weights; one-line ``DfbenchError`` naming what is missing.

    ``warn(line)`` hears when the installed detector's code is not the code the record was made with
    (its scores may then differ from the record's).
    """
    record_path = Path(record_path)
    record = read_record(record_path)  # verified: schema, settings id, metrics
    if record.trained:  # an evaluation record scored another record's detector; that one holds the model
        raise DfbenchError(f"{record_path}: an evaluation record (of {record.trained['record']}); use the training "
                           "record it names instead")
    settings = record.settings
    det, pre, training = settings["detector"], settings["preprocessing"], settings["training"]
    if not record.fit:
        raise DfbenchError(f"{record_path}: the record has no fit report (made before dfbench 0.1's typed "
                           "contract); run it again to score videos with it")
    run_dir = Path(work_root) / Path(record.file_name).stem
    fit = fit_report(record.fit, work_root)
    if fit.best_checkpoint is not None and not fit.best_checkpoint.is_file():  # None: a detector with no weights
        raise DfbenchError(f"{record_path}: its trained checkpoint {fit.best_checkpoint} is missing; give the "
                           "work folder the run trained in with --work-dir, or run it again")
    if pre.get("face_track") != f"{pre['face_finder']}-{DEFAULT_PARAMS.key}":
        raise DfbenchError(f"{record_path}: face tracking {pre.get('face_track')!r} is not this dfbench's "
                           f"({pre['face_finder']}-{DEFAULT_PARAMS.key}); use the dfbench version the record names")
    spec = plugins.get_detector(det["name"])
    detector = build_detector(spec, det["size"])
    if warn and det.get("code_sha256") and detector_code_sha256(spec.build, detector) != det["code_sha256"]:
        warn(f"warning: {det['name']}'s installed code differs from the code {record_path.name} was made with; "
             "scores may differ from the record's")
    config = FitConfig(
        work_dir=run_dir, seed=int(training["seed"]), size=det["size"], clip_len=int(pre["clip_len"]),
        crop_size=int(pre["crop_size"]), class_weights=None, trunk_len=int(pre["trunk_len"]),
        epochs=training.get("epochs"), precision=training.get("precision", "fp32"),
        frames_per_video=pre.get("train_frames_per_video"), options=dict(training.get("options") or {}))
    return Trained(record_path, record, spec, detector, config, fit)


def stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
