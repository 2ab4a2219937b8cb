"""The run engine: protocol runs planned, data cropped, detectors trained and scored, records saved.

Functions here return values and never print; the CLI reports progress through a callback.
Cheap checks run before any expensive work (:mod:`dfbench.preflight`). A finished run is skipped
only when its record carries the same settings id (:mod:`dfbench.settings`), so an interrupted
protocol resumes at the run it lost and a changed setting trains again, beside the old record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import dfbench
from dfbench import cache as cache_policy
from dfbench import distributed, plugins, results, splits
from dfbench.cache import embedded_dataset
from dfbench.crops import CACHE_VERSION as CROP_CACHE_VERSION
from dfbench.crops import CROP_SCALE, CropCache
from dfbench.detector import UNKNOWN_LABEL, Checkpoint, Detector, DetectorSpec, FitConfig, FitReport, VideoRef
from dfbench.errors import BadVideoError, DfbenchError
from dfbench.layout import REAL, SYNTHETIC_MANIFEST, DatasetRoot, method_dir, open_root
from dfbench.metrics import video_metrics
from dfbench.plan import PlannedVideo, RunPlan, plan_run
from dfbench.preflight import (
    build_detector,
    check_detector_config,
    check_numbers,
    check_options,
    check_precision,
    check_pretrained,
    check_writable,
)
from dfbench.pretrained import pretrained_setting, resolve_pretrained
from dfbench.protocols import Protocol, expand
from dfbench.protocols import load as load_protocol
from dfbench.provenance import detector_code_sha256, distribution_version, git_revision, portable_path, portable_source
from dfbench.settings import data_fingerprint, settings_id, sha256_of
from dfbench.settings import run_settings as make_settings

Progress = Callable[[str], None]


@dataclass
class RunOptions:
    """What ``dfbench run`` was asked for."""

    detector: str
    protocol: str
    method: str | None = None
    data: Path | None = None
    compression: str | None = None  # None: the protocol's
    size: str = "auto"  # auto: cpu on synthetic data, paper on FF++
    seed: int = 0
    output: Path = Path("results")
    work_dir: Path = Path("work_dirs")
    cache: Path | None = None
    face_finder: str | None = None  # None: see choose_face_finder
    epochs: int | None = None
    launcher: str = "none"
    splits: Path | None = None
    log_level: str = "WARNING"  # the training framework's console log level; INFO shows MMEngine's full log
    pretrained: str = "auto"  # auto | none | PATH | URL (see dfbench.pretrained.resolve_pretrained)
    precision: str = "fp32"  # fp32 | bf16 | fp16
    options: dict[str, Any] = field(default_factory=dict)  # --set KEY=VALUE: the detector's documented options
    test_data: tuple[str, ...] = ()  # cross-dataset: "ID=ROOT" or "ID" (its synthetic twin), see dfbench.evaluation


@dataclass
class Prepared:
    protocol: Protocol
    dataset: DatasetRoot
    compression: str
    detector: DetectorSpec
    size: str
    plans: list[RunPlan]
    notices: list[str] = field(default_factory=list)
    pretrained: Checkpoint | None = None
    pretrained_sha256: str | None = None  # of the file actually loaded (fetched and checked in prepare)
    config_sha256: str | None = None  # of the detector's resolved configuration, when it reports one
    cache: Path = Path(".")  # the cache root (crops, the embedded synthetic set)
    options: dict[str, Any] = field(default_factory=dict)  # the --set options, typed by the detector
    code_sha256: str = ""  # of the plugin's code and of the code its detector class inherits


def cache_root(opts: RunOptions) -> Path:
    """The run's cache root (:func:`dfbench.cache.cache_root`)."""
    return cache_policy.cache_root(opts.cache)


def prepare(opts: RunOptions, progress: Progress | None = None, *, dry: bool = False) -> Prepared:
    """Resolve names, check every cheap thing, then find the data and plan every run; trains nothing.

    The checks come first (numbers, precision, detector and protocol names, pretrained file,
    writable folders, a buildable detector that accepts the settings), so a mistake costs seconds,
    not a preprocessing pass. ``dry``: a plan only, so the output folders are not checked.
    """
    check_numbers(opts.seed, opts.epochs)
    check_precision(opts.precision)
    git_revision()  # read now, while the checkout is the code this process loads (see git_revision)
    protocol = load_protocol(opts.protocol)
    spec = plugins.get_detector(opts.detector)
    specs = expand(protocol, opts.method)
    compression = opts.compression or protocol.compression
    size = opts.size
    if size == "auto":
        size = "cpu" if opts.data is None or (Path(opts.data) / SYNTHETIC_MANIFEST).is_file() else "paper"
    if size not in spec.meta.sizes:
        raise DfbenchError(f"detector {spec.meta.name} has no size {size!r}; it has {', '.join(spec.meta.sizes)}")
    pretrained = resolve_pretrained(opts.pretrained, spec.meta, size)
    pretrained_sha256 = check_pretrained(pretrained, fetch_file=not dry)  # missing, empty or unsafe: fails now
    if not dry:
        check_writable(Path(opts.output), "output")
        check_writable(Path(opts.work_dir), "work dir")
    detector = build_detector(spec, size)
    options = check_options(detector, spec, opts.options)
    probe = Prepared(protocol, None, compression, spec, size, [], pretrained=pretrained,  # type: ignore[arg-type]
                     pretrained_sha256=pretrained_sha256, options=options)
    check_detector_config(detector, spec, fit_config(probe, opts, Path(opts.work_dir) / "check", None))
    resolved = getattr(detector, "resolved_config", None)
    config_sha256 = sha256_of(resolved()) if callable(resolved) else None

    notices = []
    if spec.meta.sizes[size].note:
        notices.append(f"{spec.meta.name} at size {size}: {spec.meta.sizes[size].note}")
    cache = cache_root(opts)
    data = opts.data
    if data is None:
        data = embedded_dataset(cache, compression, progress, opts.launcher)
        notices.append(f"no --data given: using the embedded synthetic FF++ set at {data}; "
                       "every result is labelled synthetic")
    dataset = open_root(Path(data), compression)
    sp = splits.load(dataset.path, opts.splits)  # refuses split files that share an identity
    plans = [plan_run(dataset.path, compression, sp, r) for r in specs]
    for r in specs:
        for m in set(r.train_methods + r.test_methods):
            if not (method_dir(dataset.path, m, compression) / "videos").is_dir():
                raise DfbenchError(f"{method_dir(dataset.path, m, compression) / 'videos'}: missing; download "
                                   f"{m} at {compression} or run a protocol without it")
    return Prepared(protocol, dataset, compression, spec, size, plans, notices, pretrained, pretrained_sha256,
                    config_sha256, cache, options, detector_code_sha256(spec.build, detector))


def dry_run(opts: RunOptions) -> dict:
    """The plan as JSON-able data: each run's name, settings id, whether a finished record with that id
    exists, and its train/val/test videos with label, method and pair (an evaluation protocol adds
    each condition's test videos: :func:`dfbench.evaluation.dry_run`)."""
    if load_protocol(opts.protocol).evaluates:
        from dfbench import evaluation

        return evaluation.dry_run(opts)
    p = prepare(opts, dry=True)
    finder_name = choose_face_finder(opts, p.dataset, p.compression)
    cache = CropCache(p.cache, p.dataset.path, finder_name, size=p.detector.meta.sizes[p.size].crop_size)
    runs = []
    for plan in p.plans:
        settings = run_settings(p, plan, opts, finder_name, cache)
        sid = settings_id(settings)
        path = Path(opts.output) / results.record_name(p.protocol.id, plan.spec.name, p.detector.meta.name, p.size,
                                                       _dataset_info(p, settings), opts.seed, sid)
        runs.append({**plan.to_dict(), "settings_id": sid, "finished": path.is_file(), "record": str(path),
                     "settings": settings})
    return {
        "protocol": p.protocol.id, "protocol_version": p.protocol.version, "detector": p.detector.meta.name,
        "size": p.size, "precision": opts.precision,
        "pretrained": {"source": p.pretrained.source, "sha256": p.pretrained_sha256} if p.pretrained else None,
        "dataset": {"kind": p.dataset.kind, "root": str(p.dataset.path), "compression": p.compression},
        "face_finder": finder_name,
        "runs": runs,
    }


@contextmanager
def run_lock(record_path: Path, progress: Progress | None, tag: str, enabled: bool = True) -> Iterator[None]:
    """Hold the lock of one run (``<output>/.locks/<record>.lock``, filelock): an identical run started
    meanwhile waits here, then finds the record and skips. The lock file stays; the lock does not."""
    if not enabled:
        yield
        return
    from filelock import FileLock, Timeout

    lock = FileLock(str(record_path.parent / ".locks" / (record_path.stem + ".lock")))
    record_path.parent.joinpath(".locks").mkdir(parents=True, exist_ok=True)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if progress:
            progress(f"{tag}: another dfbench process is running this very run (lock {lock.lock_file}); "
                     "waiting for it to finish")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def choose_face_finder(opts: RunOptions, dataset: DatasetRoot, compression: str) -> str:
    """The face finder a run uses: the one place this is decided (``dfbench run`` and ``dfbench preprocess``).

    The asked finder; else the dataset's own boxes where it ships them (annotations beat any
    detector); else the best landmark finder this machine has: face-alignment (the paper's) when its
    weights are in torch's hub cache, dlib (HOG + 68 landmarks, offline, ``dfbench[dlib]``) when
    installed; else OpenCV's Haar cascade, which gives no landmarks but always works.
    """
    if opts.face_finder:
        plugins.get_face_finder(opts.face_finder)  # unknown names fail before any work
        return opts.face_finder
    if (method_dir(dataset.path, REAL, compression) / "boxes").is_dir():
        return "dataset"
    from dfbench.faces import FAN_WEIGHTS, dlib_available, hub_checkpoints

    if all((hub_checkpoints() / f).is_file() for f in FAN_WEIGHTS):
        return "face-alignment"
    if dlib_available():
        return "dlib"
    return "opencv"


def class_weights(videos: list[VideoRef]) -> tuple[float, float]:
    """Inverse-frequency weights (real, fake), 1.0 each when balanced: N / (2 * N_class)."""
    n_fake = sum(v.label for v in videos)
    n_real = len(videos) - n_fake
    if not n_fake or not n_real:
        raise DfbenchError("training data holds only one class; check the dataset and protocol")
    n = len(videos)
    return n / (2 * n_real), n / (2 * n_fake)


@dataclass
class RunOutcome:
    run: str
    path: Path
    skipped: bool
    result: results.RunResult


def run(opts: RunOptions, progress: Progress = lambda _: None) -> list[RunOutcome]:
    """Train and score every run of the protocol, saving one record per run; skip finished runs.

    A finished record is reused only when its settings id is the one asked for now; a run with
    other settings trains again and writes its record beside the old one (never over it). A lock
    per run keeps two identical launches from training the same run at once. An evaluation protocol
    runs its training protocol this way, then tests that run under each condition (:mod:`dfbench.evaluation`).
    """
    if load_protocol(opts.protocol).evaluates:
        from dfbench import evaluation

        return evaluation.run_protocol(opts, progress)
    if opts.test_data:
        raise DfbenchError(f"--test-data applies to protocol cross-dataset, not {opts.protocol}")
    main = distributed.is_main(opts.launcher)
    if not main:  # under torchrun/srun: rank 0 reports progress, the detector prints one line per rank
        progress = lambda _: None  # noqa: E731
    p = prepare(opts, progress)
    for n in p.notices:
        progress(n)
    meta = p.detector.meta
    spec_size = meta.sizes[p.size]
    finder_name = choose_face_finder(opts, p.dataset, p.compression)
    # The face finder is built by the cache only when a video has no face track yet (dfbench preprocess fills it).
    cache = CropCache(cache_root(opts), p.dataset.path, finder_name, size=spec_size.crop_size)
    outcomes = []
    for i, plan in enumerate(p.plans, 1):
        tag = f"[{i}/{len(p.plans)}] {plan.spec.name}"
        settings = run_settings(p, plan, opts, finder_name, cache)
        sid = settings_id(settings)
        dataset_info = _dataset_info(p, settings)
        record_path = Path(opts.output) / results.record_name(p.protocol.id, plan.spec.name, meta.name, p.size,
                                                              dataset_info, opts.seed, sid)
        with run_lock(record_path, progress if main else None, tag, enabled=main):
            old = _finished(record_path, progress, tag)
            if old is not None:
                progress(f"{tag}: finished before with the same settings ({sid}), skipped ({record_path})")
                outcomes.append(RunOutcome(plan.spec.name, record_path, True, old))
                continue
            result = _train_and_score(p, plan, opts, tag, progress, cache, finder_name, settings, sid,
                                      dataset_info, main)
            if main:  # under a distributed launcher, one record per run
                results.save(result, Path(opts.output))
        metrics = result.metrics
        progress(f"{tag}: TCR {metrics['tcr']:.4f}, AUC {_fmt(metrics['auc'])} -> {record_path}")
        outcomes.append(RunOutcome(plan.spec.name, record_path, False, result))
    return outcomes


def _train_and_score(p: Prepared, plan: RunPlan, opts: RunOptions, tag: str, progress: Progress, cache: CropCache,
                     finder_name: str, settings: dict, sid: str, dataset_info: results.DatasetInfo,
                     main: bool) -> results.RunResult:
    meta = p.detector.meta
    spec_size = meta.sizes[p.size]
    work_dir = Path(opts.work_dir) / Path(results.record_name(p.protocol.id, plan.spec.name, meta.name, p.size,
                                                              dataset_info, opts.seed, sid)).stem
    failed: list[dict] = []
    if main:
        refs = {s: _crop_all(getattr(plan, s), cache, failed, lambda m, s=s, tag=tag: progress(f"{tag}: {s} {m}"))
                for s in ("train", "val", "test")}
        if distributed.world_size(opts.launcher) > 1:
            results.write_atomic(work_dir / PREPARED, json.dumps({"digest": _plan_digest(plan, cache),
                                                                  "failed": failed}))
    else:
        refs, failed = _crops_of_rank0(plan, cache, work_dir / PREPARED)
    if not refs["train"] or not refs["test"]:
        raise DfbenchError(f"{tag}: no usable {'training' if not refs['train'] else 'test'} videos "
                           f"({len(failed)} failed, first: {failed[0]['error'] if failed else '-'})")
    config = replace(fit_config(p, opts, work_dir, refs["train"]),
                     progress=lambda step, tag=tag: progress(f"{tag}: {step.line()}"))
    progress(f"{tag}: training {meta.name} ({p.size}) on {len(refs['train'])} videos, "
             f"validating on {len(refs['val'])}")
    detector = build_detector(p.detector, p.size)
    fit_report = check_fit_report(meta.name, detector.fit(refs["train"], refs["val"], config))
    progress(f"{tag}: scoring {len(refs['val'])} validation and {len(refs['test'])} test videos")
    val_scores = check_scores(meta.name, "validation", refs["val"], _score(detector, refs["val"], config, fit_report))
    test = refs["test"]
    scores = check_scores(meta.name, "test", test, _score(detector, test, config, fit_report))
    pair_of = {v.key: v.pair for v in plan.test}
    metrics = video_metrics([v.label for v in test], scores, [v.method for v in test],
                            pairs=[pair_of[v.key] for v in test],
                            val_labels=[v.label for v in refs["val"]], val_scores=val_scores)
    return results.RunResult(
        protocol=p.protocol.id, protocol_version=p.protocol.version, protocol_kind=p.protocol.short_kind,
        run=plan.spec.name, train_methods=list(plan.spec.train_methods),
        test_methods=list(plan.spec.test_methods), detector=meta.name, detector_plugin=p.detector.plugin,
        size=p.size, parameters=spec_size.parameters, dataset=dataset_info, seed=opts.seed,
        dfbench_version=dfbench.__version__, git_revision=git_revision(), metrics=metrics,
        videos=[results.VideoScore(v.key, v.method, v.label, float(s), pair_of[v.key]) for v, s in zip(test, scores)],
        checkpoint=loaded_checkpoint(fit_report), precision=opts.precision,
        failed_videos=[dict(f, path=_under(f["path"], p.dataset.path)) for f in failed],
        fit=_portable_report(fit_report, opts.work_dir), preprocessing=settings["preprocessing"],
        settings=settings, settings_id=sid,
        created=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
    )


def fit_config(p: Prepared, opts: RunOptions, work_dir: Path, train: list[VideoRef] | None) -> FitConfig:
    """The FitConfig of one run (``train`` None: for the checks before any crop, without class weights)."""
    meta = p.detector.meta
    spec_size = meta.sizes[p.size]
    return FitConfig(
        work_dir=work_dir, seed=opts.seed, size=p.size, clip_len=spec_size.clip_len,
        crop_size=spec_size.crop_size,
        class_weights=class_weights(train) if train is not None and p.protocol.class_weighted_loss else None,
        trunk_len=p.protocol.trunk_len, epochs=opts.epochs, launcher=opts.launcher,
        pretrained=p.pretrained.source if p.pretrained else None,
        pretrained_sha256=p.pretrained_sha256 if p.pretrained else None, precision=opts.precision,
        frames_per_video=p.protocol.train_frames_per_video if meta.input_kind == "frame" else None,
        log_level=opts.log_level, options=dict(p.options),
    )


def run_settings(p: Prepared, plan: RunPlan, opts: RunOptions, finder_name: str, cache: CropCache) -> dict:
    """Everything that can move this run's score (:mod:`dfbench.settings` says what is left out and why)."""
    meta = p.detector.meta
    spec_size = meta.sizes[p.size]
    sizes = {s: [(v.key, v.path.stat().st_size if v.path.is_file() else -1) for v in getattr(plan, s)]
             for s in ("train", "val", "test")}
    synthetic = p.dataset.synthetic
    return make_settings(
        protocol={"id": p.protocol.id, "version": p.protocol.version, "run": plan.spec.name,
                  "train_methods": list(plan.spec.train_methods), "test_methods": list(plan.spec.test_methods)},
        data={"kind": p.dataset.kind, "compression": p.compression, "fingerprint": data_fingerprint(sizes, synthetic),
              "videos": {s: len(v) for s, v in sizes.items()}, "synthetic_seed": (synthetic or {}).get("seed")},
        preprocessing={"face_finder": finder_name, "face_track": cache.track_key, "crop_scale": CROP_SCALE,
                       "crop_size": spec_size.crop_size, "clip_len": spec_size.clip_len,
                       "trunk_len": p.protocol.trunk_len, "crop_cache_version": CROP_CACHE_VERSION,
                       **({"train_frames_per_video": p.protocol.train_frames_per_video}
                          if meta.input_kind == "frame" else {})},
        detector={"name": meta.name, "plugin": p.detector.plugin,
                  "version": distribution_version(p.detector.plugin) if p.detector.plugin else None,
                  "code_sha256": p.code_sha256, "config_sha256": p.config_sha256, "size": p.size,
                  "parameters": spec_size.parameters},
        training={"epochs": opts.epochs, "seed": opts.seed, "precision": opts.precision,
                  "pretrained": pretrained_setting(p.pretrained, p.pretrained_sha256, p.detector.meta, p.size),
                  "world_size": distributed.world_size(opts.launcher),
                  "class_weighted_loss": p.protocol.class_weighted_loss,
                  **({"options": dict(sorted(p.options.items()))} if p.options else {})},
        dfbench_version=dfbench.__version__,
    )


def _dataset_info(p: Prepared, settings: dict) -> results.DatasetInfo:
    return results.DatasetInfo(kind=p.dataset.kind, compression=p.compression,
                               root=portable_path(p.dataset.path, roots={"$DFBENCH_CACHE": p.cache}),
                               seed=(p.dataset.synthetic or {}).get("seed"),
                               fingerprint=settings["data"]["fingerprint"])


def _finished(record_path: Path, progress: Progress, tag: str) -> results.RunResult | None:
    """The finished record at ``record_path``; a damaged one is set aside (``.corrupt``), never deleted."""
    if not record_path.is_file():
        return None
    try:
        return results.read_record(record_path)
    except DfbenchError as e:
        aside = record_path.with_name(record_path.name + ".corrupt")
        os.replace(record_path, aside)
        progress(f"{tag}: warning: {e}; kept it as {aside.name} and running again")
        return None


def check_scores(detector: str, split: str, videos: list[VideoRef], scores) -> list[float]:
    """A detector's scores as the core accepts them: one finite probability in [0, 1] per video."""
    try:
        values = [float(s) for s in scores]
    except (TypeError, ValueError):
        raise DfbenchError(f"detector {detector} returned {split} scores that are not numbers; "
                           "score() must return one float per video") from None
    if len(values) != len(videos):
        raise DfbenchError(f"detector {detector} returned {len(values)} {split} scores for {len(videos)} videos; "
                           "score() must return one per video")
    bad = [(v.key, s) for v, s in zip(videos, values) if not (math.isfinite(s) and 0.0 <= s <= 1.0)]
    if bad:
        raise DfbenchError(f"detector {detector} gave {len(bad)} {split} score(s) outside [0, 1] or not finite "
                           f"(first: {bad[0][0]} = {bad[0][1]}); score() must return probabilities")
    return values


def check_fit_report(detector: str, report) -> FitReport:
    """A detector's fit report as the core accepts it: a :class:`~dfbench.detector.FitReport` a record can store."""
    if not isinstance(report, FitReport):
        raise DfbenchError(f"detector {detector}: fit() returned a {type(report).__name__}, not a "
                           "dfbench.detector.FitReport (see docs/writing-a-detector-plugin.md)")
    report.check(detector)
    return report


def _score(detector: Detector, videos: list[VideoRef], config: FitConfig, report: FitReport):
    """The detector's scores of ``videos`` with their labels hidden: it scores blind, the core grades."""
    return detector.score([replace(v, label=UNKNOWN_LABEL) for v in videos], config, report)


def _under(path: str, root: Path) -> str:
    """A failed video's path relative to the dataset root (records hold no machine paths)."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return portable_path(path)


def _portable_report(report: FitReport, work_root: Path) -> dict:
    """The fit report as the record stores it: JSON, the best checkpoint relative to the work folder."""
    out = report.to_dict()
    if out["best_checkpoint"] is not None:
        out["best_checkpoint"] = portable_path(out["best_checkpoint"], roots={"$WORK_DIR": Path(work_root)})
    if out["pretrained"] is not None:
        out["pretrained"]["source"] = portable_source(out["pretrained"]["source"])
    return out


PREPARED = "dfbench_prepared.json"  # in a run's work_dir: rank 0's crops are ready (multi-process runs)


def _plan_digest(plan: RunPlan, cache: CropCache) -> str:
    videos = [[s, v.key, str(v.path)] for s in ("train", "val", "test") for v in getattr(plan, s)]
    return hashlib.sha256(json.dumps([str(cache.dir), videos]).encode()).hexdigest()


def _crops_of_rank0(plan: RunPlan, cache: CropCache, marker: Path) -> tuple[dict[str, list[VideoRef]], list[dict]]:
    """A rank > 0's view of a run's crops: wait for rank 0's marker for this very plan and for its
    crop files (a marker left by an earlier launch counts only while its crops are still cached)."""
    digest = _plan_digest(plan, cache)
    found: dict = {}

    def ready() -> bool:
        try:
            info = json.loads(marker.read_text())
        except (OSError, ValueError):
            return False
        if info.get("digest") != digest:
            return False
        skip = {f["key"] for f in info["failed"]}
        hits = {v.key: cache.lookup(v.path) for s in ("train", "val", "test") for v in getattr(plan, s)
                if v.key not in skip}
        if any(h is None for h in hits.values()):
            return False
        found.update(failed=info["failed"], hits=hits)
        return True

    distributed.wait_for(ready, f"the face crops of {marker.parent.name}")
    refs = {s: [VideoRef(v.key, v.label, v.method, found["hits"][v.key].path, found["hits"][v.key].num_frames)
                for v in getattr(plan, s) if v.key in found["hits"]] for s in ("train", "val", "test")}
    return refs, found["failed"]


def loaded_checkpoint(fit_report: FitReport) -> dict | None:
    """The record's ``checkpoint``: the pretrained file the detector reports it loaded
    (``FitReport.pretrained``: source and the sha256 of the file), or None."""
    loaded = fit_report.pretrained
    return None if loaded is None else {"source": portable_source(loaded.source), "sha256": loaded.sha256}


def _crop_all(videos: list[PlannedVideo], cache: CropCache, failed: list[dict], progress: Progress) -> list[VideoRef]:
    out = []
    for i, v in enumerate(videos, 1):
        try:
            c = cache.get(v.path)
        except BadVideoError as e:
            failed.append({"key": v.key, "path": str(v.path), "error": str(e)})
            progress(f"skipping {e}")
            continue
        out.append(VideoRef(v.key, v.label, v.method, c.path, c.num_frames))
        if i % 50 == 0 or i == len(videos):
            progress(f"crops ready: {i}/{len(videos)}")
    return out


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"
