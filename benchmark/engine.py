"""The run engine: protocol runs planned, data cropped, detectors trained and scored, records saved.

Functions here return values and never print; the CLI reports progress through a callback.
Finished runs are skipped on a re-run, so an interrupted protocol resumes at the run it lost.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import dfbench
from dfbench import plugins, results, splits
from dfbench.crops import CROP_SCALE, CropCache
from dfbench.detector import UNKNOWN_LABEL, DetectorSpec, FitConfig, VideoRef
from dfbench.errors import BadVideoError, DfbenchError
from dfbench.layout import REAL, DatasetRoot, method_dir, open_root
from dfbench.metrics import video_metrics
from dfbench.plan import PlannedVideo, RunPlan, plan_run
from dfbench.protocols import Protocol, expand
from dfbench.protocols import load as load_protocol

Progress = Callable[[str], None]
SYNTH_SEED = 0  # the embedded default data is always generated with this seed


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


@dataclass
class Prepared:
    protocol: Protocol
    dataset: DatasetRoot
    compression: str
    detector: DetectorSpec
    size: str
    plans: list[RunPlan]
    notices: list[str] = field(default_factory=list)


def cache_root(opts: RunOptions) -> Path:
    if opts.cache:
        return Path(opts.cache)
    if os.environ.get("DFBENCH_CACHE"):
        return Path(os.environ["DFBENCH_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dfbench"


def embedded_dataset(cache: Path, compression: str, progress: Progress | None = None) -> Path:
    """The synthetic FF++ set, generated once into the cache (a no-op when already complete)."""
    from dfbench import synth

    out = cache / "synthetic" / f"ffpp-{compression}-seed{SYNTH_SEED}"
    cb = (lambda i, n: progress(f"generating synthetic data: {i}/{n} videos")) if progress else None
    synth.generate(out, seed=SYNTH_SEED, compression=compression, progress=cb)
    return out


def prepare(opts: RunOptions, progress: Progress | None = None) -> Prepared:
    """Resolve names and data and plan every run, without training anything."""
    protocol = load_protocol(opts.protocol)
    spec = plugins.get_detector(opts.detector)
    specs = expand(protocol, opts.method)
    compression = opts.compression or protocol.compression
    notices = []
    data = opts.data
    if data is None:
        data = embedded_dataset(cache_root(opts), compression, progress)
        notices.append(f"no --data given: using the embedded synthetic FF++ set at {data}; "
                       "every result is labelled synthetic")
    dataset = open_root(Path(data), compression)
    size = opts.size
    if size == "auto":
        size = "cpu" if dataset.kind == "synthetic" else "paper"
    if size not in spec.meta.sizes:
        raise DfbenchError(f"detector {spec.meta.name} has no size {size!r}; it has {', '.join(spec.meta.sizes)}")
    sp = splits.load(dataset.path, opts.splits)  # refuses split files that share an identity
    plans = [plan_run(dataset.path, compression, sp, r) for r in specs]
    for r in specs:
        for m in set(r.train_methods + r.test_methods):
            if not (method_dir(dataset.path, m, compression) / "videos").is_dir():
                raise DfbenchError(f"{method_dir(dataset.path, m, compression) / 'videos'}: missing; download "
                                   f"{m} at {compression} or run a protocol without it")
    return Prepared(protocol, dataset, compression, spec, size, plans, notices)


def dry_run(opts: RunOptions) -> dict:
    """The plan as JSON-able data: each run's name and its train/val/test videos with label and method."""
    p = prepare(opts)
    return {
        "protocol": p.protocol.id, "protocol_version": p.protocol.version, "detector": p.detector.meta.name,
        "size": p.size, "dataset": {"kind": p.dataset.kind, "root": str(p.dataset.path),
                                    "compression": p.compression},
        "runs": [plan.to_dict() for plan in p.plans],
    }


def choose_face_finder(opts: RunOptions, dataset: DatasetRoot, compression: str) -> str:
    """The asked finder; else the dataset's boxes if shipped, face-alignment if its weights exist, else opencv."""
    if opts.face_finder:
        plugins.get_face_finder(opts.face_finder)  # unknown names fail before any work
        return opts.face_finder
    if (method_dir(dataset.path, REAL, compression) / "boxes").is_dir():
        return "dataset"
    from dfbench.faces import FAN_WEIGHTS, hub_checkpoints

    if all((hub_checkpoints() / f).is_file() for f in FAN_WEIGHTS):
        return "face-alignment"
    return "opencv"


def git_revision() -> str:
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


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
    """Train and score every run of the protocol, saving one record per run; skip finished runs."""
    p = prepare(opts, progress)
    for n in p.notices:
        progress(n)
    meta = p.detector.meta
    spec_size = meta.sizes[p.size]
    dataset_info = results.DatasetInfo(kind=p.dataset.kind, compression=p.compression, root=str(p.dataset.path),
                                       seed=(p.dataset.synthetic or {}).get("seed"))
    finder_name = choose_face_finder(opts, p.dataset, p.compression)
    cache = CropCache(cache_root(opts), p.dataset.path, finder_name, size=spec_size.crop_size)
    finder = None
    outcomes = []
    for i, plan in enumerate(p.plans, 1):
        tag = f"[{i}/{len(p.plans)}] {plan.spec.name}"
        name = results.record_name(p.protocol.id, plan.spec.name, meta.name, p.size, dataset_info, opts.seed)
        record_path = Path(opts.output) / name
        if record_path.is_file():
            old = results.RunResult.from_dict(json.loads(record_path.read_text()))
            if old.protocol_version == p.protocol.version:
                progress(f"{tag}: finished before, skipped ({record_path})")
                outcomes.append(RunOutcome(plan.spec.name, record_path, True, old))
                continue
        if finder is None and any(cache.lookup(v.path) is None for s in ("train", "val", "test")
                                  for v in getattr(plan, s)):
            finder = plugins.get_face_finder(finder_name)()
            cache.finder = finder
        failed: list[dict] = []
        refs = {s: _crop_all(getattr(plan, s), cache, failed, lambda m, s=s, tag=tag: progress(f"{tag}: {s} {m}"))
                for s in ("train", "val", "test")}
        if not refs["train"] or not refs["test"]:
            raise DfbenchError(f"{tag}: no usable {'training' if not refs['train'] else 'test'} videos "
                               f"({len(failed)} failed, first: {failed[0]['error'] if failed else '-'})")
        work_dir = Path(opts.work_dir) / Path(name).stem
        config = FitConfig(
            work_dir=work_dir, seed=opts.seed, size=p.size, clip_len=spec_size.clip_len,
            crop_size=spec_size.crop_size,
            class_weights=class_weights(refs["train"]) if p.protocol.class_weighted_loss else None,
            trunk_len=p.protocol.trunk_len, epochs=opts.epochs, launcher=opts.launcher,
            extra={"log_level": opts.log_level},
        )
        progress(f"{tag}: training {meta.name} ({p.size}) on {len(refs['train'])} videos, "
                 f"validating on {len(refs['val'])}")
        detector = p.detector.build(p.size)
        fit_report = detector.fit(refs["train"], refs["val"], config)
        progress(f"{tag}: scoring {len(refs['test'])} test videos")
        # Test labels never reach a detector: it scores blind, the core grades.
        scores = detector.score([replace(v, label=UNKNOWN_LABEL) for v in refs["test"]], config)
        if len(scores) != len(refs["test"]):
            raise DfbenchError(f"detector {meta.name} returned {len(scores)} scores for {len(refs['test'])} videos")
        test = refs["test"]
        metrics = video_metrics([v.label for v in test], scores, [v.method for v in test])
        result = results.RunResult(
            protocol=p.protocol.id, protocol_version=p.protocol.version, protocol_kind=p.protocol.short_kind,
            run=plan.spec.name, train_methods=list(plan.spec.train_methods),
            test_methods=list(plan.spec.test_methods), detector=meta.name, detector_plugin=p.detector.plugin,
            size=p.size, parameters=spec_size.parameters, dataset=dataset_info, seed=opts.seed,
            dfbench_version=dfbench.__version__, git_revision=git_revision(), metrics=metrics,
            videos=[results.VideoScore(v.key, v.method, v.label, float(s)) for v, s in zip(test, scores)],
            checkpoint=({"source": meta.checkpoint.source, "sha256": meta.checkpoint.sha256}
                        if meta.checkpoint else None),
            failed_videos=failed, fit=fit_report,
            preprocessing={"face_finder": finder_name, "crop_scale": CROP_SCALE, "crop_size": spec_size.crop_size,
                           "clip_len": spec_size.clip_len, "trunk_len": p.protocol.trunk_len},
            created=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        )
        if int(os.environ.get("RANK", "0")) == 0:  # under a distributed launcher, one record per run
            results.save(result, Path(opts.output))
        progress(f"{tag}: TCR {metrics['tcr']:.4f}, AUC {_fmt(metrics['auc'])} -> {record_path}")
        outcomes.append(RunOutcome(plan.spec.name, record_path, False, result))
    return outcomes


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
