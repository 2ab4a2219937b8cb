"""The run engine: protocol runs planned, data cropped, detectors trained and scored, records saved.

Functions here return values and never print; the CLI reports progress through a callback.
Finished runs are skipped on a re-run, so an interrupted protocol resumes at the run it lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import dfbench
from dfbench import distributed, plugins, results, splits
from dfbench.checkpoints import fetch, is_url
from dfbench.crops import CROP_SCALE, CropCache
from dfbench.detector import PRECISIONS, UNKNOWN_LABEL, Checkpoint, DetectorMeta, DetectorSpec, FitConfig, VideoRef
from dfbench.errors import BadVideoError, DfbenchError
from dfbench.layout import REAL, SYNTHETIC_MANIFEST, DatasetRoot, method_dir, open_root
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
    pretrained: str = "auto"  # auto | none | PATH | URL (see resolve_pretrained)
    precision: str = "fp32"  # fp32 | bf16 | fp16


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


def cache_root(opts: RunOptions) -> Path:
    if opts.cache:
        return Path(opts.cache)
    if os.environ.get("DFBENCH_CACHE"):
        return Path(os.environ["DFBENCH_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dfbench"


def embedded_dataset(cache: Path, compression: str, progress: Progress | None = None, launcher: str = "none") -> Path:
    """The synthetic FF++ set, generated once into the cache (a no-op when already complete)."""
    from dfbench import synth

    out = cache / "synthetic" / f"ffpp-{compression}-seed{SYNTH_SEED}"
    if not distributed.is_main(launcher):  # generating clears the folder first: only rank 0 may
        distributed.wait_for(lambda: (out / SYNTHETIC_MANIFEST).is_file(), f"the synthetic set in {out}")
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
        data = embedded_dataset(cache_root(opts), compression, progress, opts.launcher)
        notices.append(f"no --data given: using the embedded synthetic FF++ set at {data}; "
                       "every result is labelled synthetic")
    dataset = open_root(Path(data), compression)
    size = opts.size
    if size == "auto":
        size = "cpu" if dataset.kind == "synthetic" else "paper"
    if size not in spec.meta.sizes:
        raise DfbenchError(f"detector {spec.meta.name} has no size {size!r}; it has {', '.join(spec.meta.sizes)}")
    if opts.precision not in PRECISIONS:
        raise DfbenchError(f"--precision {opts.precision!r}: choose one of {', '.join(PRECISIONS)}")
    pretrained = resolve_pretrained(opts.pretrained, spec.meta, size)
    sp = splits.load(dataset.path, opts.splits)  # refuses split files that share an identity
    plans = [plan_run(dataset.path, compression, sp, r) for r in specs]
    for r in specs:
        for m in set(r.train_methods + r.test_methods):
            if not (method_dir(dataset.path, m, compression) / "videos").is_dir():
                raise DfbenchError(f"{method_dir(dataset.path, m, compression) / 'videos'}: missing; download "
                                   f"{m} at {compression} or run a protocol without it")
    return Prepared(protocol, dataset, compression, spec, size, plans, notices, pretrained)


def resolve_pretrained(choice: str, meta: DetectorMeta, size: str) -> Checkpoint | None:
    """What ``--pretrained`` means for this detector and size.

    ``auto``: the detector's own checkpoint (``DetectorMeta.checkpoint``, Kinetics-400 weights) at
    the paper size, nothing at the cpu size (its narrow architectures match no published weights);
    ``none``: train from initialised weights; a path or URL: that file, which a detector defined
    as trained from scratch (``pretrainable=False``) refuses.
    """
    choice = (choice or "auto").strip()
    if choice == "none":
        return None
    if choice == "auto":
        return meta.checkpoint if size == "paper" and meta.pretrainable else None
    if not meta.pretrainable:
        raise DfbenchError(f"detector {meta.name} is trained from scratch by definition: drop --pretrained {choice} "
                           "(or pick a pretrainable detector)")
    if is_url(choice):
        return Checkpoint(source=choice)
    if not Path(choice).expanduser().is_file():
        raise DfbenchError(f"--pretrained {choice}: file not found; give a checkpoint file, an http(s) URL, "
                           "auto or none")
    return Checkpoint(source=str(Path(choice).expanduser().resolve()))  # records name the file absolutely


def dry_run(opts: RunOptions) -> dict:
    """The plan as JSON-able data: each run's name and its train/val/test videos with label and method."""
    p = prepare(opts)
    return {
        "protocol": p.protocol.id, "protocol_version": p.protocol.version, "detector": p.detector.meta.name,
        "size": p.size, "precision": opts.precision,
        "pretrained": {"source": p.pretrained.source, "sha256": p.pretrained.sha256} if p.pretrained else None,
        "dataset": {"kind": p.dataset.kind, "root": str(p.dataset.path), "compression": p.compression},
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
    main = distributed.is_main(opts.launcher)
    if not main:  # under torchrun/srun: rank 0 reports progress, the detector prints one line per rank
        progress = lambda _: None  # noqa: E731
    p = prepare(opts, progress)
    for n in p.notices:
        progress(n)
    if p.pretrained:  # a missing or unreachable checkpoint fails now, before any preprocessing
        fetch(p.pretrained.source, p.pretrained.sha256)
    meta = p.detector.meta
    spec_size = meta.sizes[p.size]
    dataset_info = results.DatasetInfo(kind=p.dataset.kind, compression=p.compression, root=str(p.dataset.path),
                                       seed=(p.dataset.synthetic or {}).get("seed"))
    finder_name = choose_face_finder(opts, p.dataset, p.compression)
    # The face finder is built by the cache only when a video has no face track yet (dfbench preprocess fills it).
    cache = CropCache(cache_root(opts), p.dataset.path, finder_name, size=spec_size.crop_size)
    outcomes = []
    for i, plan in enumerate(p.plans, 1):
        tag = f"[{i}/{len(p.plans)}] {plan.spec.name}"
        name = results.record_name(p.protocol.id, plan.spec.name, meta.name, p.size, dataset_info, opts.seed)
        record_path = Path(opts.output) / name
        if record_path.is_file():
            old = results.RunResult.from_dict(json.loads(record_path.read_text()))
            if old.protocol_version == p.protocol.version:
                _check_same_setup(old, record_path, opts.precision, p.pretrained)
                progress(f"{tag}: finished before, skipped ({record_path})")
                outcomes.append(RunOutcome(plan.spec.name, record_path, True, old))
                continue
        work_dir = Path(opts.work_dir) / Path(name).stem
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
        config = FitConfig(
            work_dir=work_dir, seed=opts.seed, size=p.size, clip_len=spec_size.clip_len,
            crop_size=spec_size.crop_size,
            class_weights=class_weights(refs["train"]) if p.protocol.class_weighted_loss else None,
            trunk_len=p.protocol.trunk_len, epochs=opts.epochs, launcher=opts.launcher,
            pretrained=p.pretrained.source if p.pretrained else None, precision=opts.precision,
            frames_per_video=p.protocol.train_frames_per_video if meta.input_kind == "frame" else None,
            extra={"log_level": opts.log_level,
                   **({"pretrained_sha256": p.pretrained.sha256} if p.pretrained and p.pretrained.sha256 else {})},
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
            checkpoint=loaded_checkpoint(fit_report), precision=opts.precision,
            failed_videos=failed, fit=fit_report,
            preprocessing={"face_finder": finder_name, "face_track": cache.track_key, "crop_scale": CROP_SCALE,
                           "crop_size": spec_size.crop_size, "clip_len": spec_size.clip_len,
                           "trunk_len": p.protocol.trunk_len,
                           **({"train_frames_per_video": p.protocol.train_frames_per_video}
                              if meta.input_kind == "frame" else {})},
            created=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        )
        if main:  # under a distributed launcher, one record per run
            results.save(result, Path(opts.output))
        progress(f"{tag}: TCR {metrics['tcr']:.4f}, AUC {_fmt(metrics['auc'])} -> {record_path}")
        outcomes.append(RunOutcome(plan.spec.name, record_path, False, result))
    return outcomes


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


def loaded_checkpoint(fit_report: dict) -> dict | None:
    """The record's ``checkpoint``: the pretrained file the detector reports it loaded
    (``fit_report["pretrained"]`` with ``source`` and ``sha256``), or None."""
    info = fit_report.get("pretrained") if isinstance(fit_report, dict) else None
    if not isinstance(info, dict) or not info.get("sha256"):
        return None
    return {"source": info.get("source"), "sha256": info["sha256"]}


def _check_same_setup(old: results.RunResult, path: Path, precision: str, pretrained: Checkpoint | None) -> None:
    """A finished record is skipped only when it answers the same question: same precision and weights."""
    asked = pretrained.source if pretrained else None
    had = (old.checkpoint or {}).get("source")
    if old.precision != precision or had != asked:
        raise DfbenchError(f"{path}: finished before with precision {old.precision} and pretrained {had or 'none'}, "
                           f"not {precision} and {asked or 'none'}; pass another --output to keep both")


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
