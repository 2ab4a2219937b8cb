"""Train once, test many: a finished training run tested on data it never saw, without retraining.

A *condition* is one test set: another dataset's official test videos (``cross-dataset``), the
training dataset's test split at another compression (``cross-compression``), or that split
perturbed before face finding (``robustness``, :mod:`dfbench.perturb`). :func:`evaluate` loads the
training record's detector and checkpoint (:func:`dfbench.trained.load`), crops the condition's
videos through the same crop cache (perturbed videos under their own root, so the cache is keyed
by the perturbation), scores them, and saves one record per condition. That record names the
training record, its settings id and the sha256 of the model it scored with (its weights, not its
file: :func:`dfbench.checkpoints.model_sha256`), and its settings hold the training run's settings
whole, so it is reused only while all of them are unchanged.
Nothing here calls ``fit``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import dfbench
from dfbench import datasets, distributed, results
from dfbench.cache import cache_root as default_cache_root
from dfbench.crops import CACHE_VERSION as CROP_CACHE_VERSION
from dfbench.crops import CROP_SCALE, CropCache
from dfbench.errors import DfbenchError
from dfbench.layout import SYNTHETIC_MANIFEST, DatasetRoot, boxes_path
from dfbench.plan import PlannedVideo
from dfbench.protocols import Protocol
from dfbench.protocols import load as load_protocol
from dfbench.provenance import code_sha256, git_revision, portable_path
from dfbench.settings import data_fingerprint, settings_id, sha256_of

# The protocol a condition of each kind is recorded under when `dfbench evaluate` is used directly.
PROTOCOL_OF = {"dataset": "cross-dataset", "compression": "cross-compression", "perturbation": "robustness"}
TWIN_SEED = 0  # synthetic twins are generated with this seed (the twin derives its own from it and its id)


@dataclass(frozen=True)
class Condition:
    """One test set for a trained detector: a dataset's test videos at a variant, perhaps perturbed."""

    name: str  # the record's run: "celebdf", "c23", "blur-9"
    dataset: str  # a registered dataset id
    root: Path
    variant: str
    perturbation: object | None = None  # a dfbench.perturb.Perturbation

    @property
    def kind(self) -> str:
        return "perturbation" if self.perturbation is not None else ("compression" if self.dataset == "ffpp"
                                                                      else "dataset")


@dataclass
class EvalOptions:
    """Where an evaluation reads and writes; what it may override (the face finder)."""

    output: Path = Path("results")
    work_dir: Path = Path("work_dirs")
    cache: Path | None = None
    face_finder: str | None = None  # None: the training record's
    seed: int | None = None  # perturbation draws; None: the training run's seed


# --- conditions ---------------------------------------------------------------------------------------


def parse_test_data(items, cache: Path, variant_hint: str, progress=None) -> list[Condition]:
    """``--test-data ID=ROOT`` (a dataset on disk) or ``ID`` (its synthetic twin, made once in the cache)."""
    out = []
    for item in items:
        dataset_id, sep, root = str(item).partition("=")
        spec = datasets.get(dataset_id.strip())
        variant = variant_hint if variant_hint in spec.variants else spec.variants[0]
        if sep and root:
            path = Path(root).expanduser()
        else:
            path = twin_root(spec, cache, variant, progress)
        out.append(Condition(spec.id, spec.id, path, variant))
    return out


def twin_root(spec, cache: Path, variant: str, progress=None) -> Path:
    """The synthetic twin of ``spec`` in the cache, generated once (a no-op when complete)."""
    if spec.twin is None:
        raise DfbenchError(f"dataset {spec.id} has no synthetic twin; give its folder: --test-data {spec.id}=ROOT")
    out = Path(cache) / "synthetic" / f"{spec.id}-{variant}-twin-seed{TWIN_SEED}"
    cb = (lambda i, n: progress(f"generating the {spec.id} twin: {i}/{n} videos")) if progress else None
    spec.twin(out, seed=TWIN_SEED, variant=variant, progress=cb)
    return out


def conditions(protocol: Protocol, *, train_root: Path, train_compression: str, embedded: bool,
               test_data=(), cache: Path, progress=None) -> list[Condition]:
    """The test conditions of an evaluation protocol, for a training run on ``train_root`` at ``train_compression``."""
    if protocol.kind == "cross_dataset":
        items = list(test_data)
        if not items:
            if not embedded and not (Path(train_root) / SYNTHETIC_MANIFEST).is_file():
                raise DfbenchError(f"protocol {protocol.name} needs the test datasets: --test-data ID=ROOT "
                                   f"(ids: {', '.join(d for d in datasets.available() if d != 'ffpp')})")
            items = list(protocol.test_datasets)  # their synthetic twins: synthetic training, synthetic tests
        return parse_test_data(items, cache, train_compression, progress)
    if test_data:
        raise DfbenchError(f"--test-data applies to protocol cross-dataset, not {protocol.name}")
    if protocol.kind == "cross_compression":
        out = []
        for comp in protocol.test_compressions:
            if comp == train_compression:
                continue
            root = train_root
            if embedded:
                from dfbench.cache import embedded_dataset

                root = embedded_dataset(Path(cache), comp, progress)
            out.append(Condition(comp, "ffpp", Path(root), comp))
        return out
    if protocol.kind == "robustness":
        from dfbench.perturb import Perturbation

        return [Condition(p.key, "ffpp", Path(train_root), train_compression, p)
                for p in (Perturbation(t, level) for t, levels in protocol.perturbations for level in levels)]
    raise DfbenchError(f"protocol {protocol.name} is not an evaluation protocol")


def condition_videos(cond: Condition) -> tuple[DatasetRoot, list[PlannedVideo]]:
    """The condition's dataset root (checked) and its test videos, labels 0 real / 1 fake."""
    spec = datasets.get(cond.dataset)
    ds = spec.open(cond.root, cond.variant)
    videos = spec.test_videos(ds, cond.variant)
    if not videos:
        raise DfbenchError(f"{cond.root}: dataset {cond.dataset} lists no test videos; check the folder")
    return ds, videos


# --- perturbed copies ---------------------------------------------------------------------------------


def perturbed_root(cache: Path, ds: DatasetRoot, cond: Condition, seed: int,
                   videos: list[PlannedVideo] = ()) -> Path:
    """Where the perturbed copies of a root's test videos live: one folder per (root, its test videos by
    content, perturbation code, perturbation, seed), mirroring the dataset's layout, so the crop cache
    keys them by it. A regenerated root or a changed perturbation code never reuses an old copy."""
    source = sha256_of({"root": str(Path(ds.path).resolve()),
                        "data": data_fingerprint({"test": [(v.key, v.path.stat().st_size) for v in videos]},
                                                 ds.synthetic),
                        "code": code_sha256("dfbench.perturb")})[:12]
    return Path(cache) / "perturbed" / source / f"{cond.perturbation.key}-seed{seed}"


def perturbed_videos(videos: list[PlannedVideo], ds: DatasetRoot, cond: Condition, seed: int, cache: Path,
                     progress=None) -> tuple[Path, list[PlannedVideo], list[dict]]:
    """Perturb each test video (once: an existing copy is kept; each is written atomically), with its face
    boxes copied beside it; returns the perturbed root, the videos there, and the ones that failed."""
    from dfbench.errors import BadVideoError
    from dfbench.perturb import perturb_video

    root = perturbed_root(cache, ds, cond, seed, videos)
    out, failed = [], []
    for i, v in enumerate(videos, 1):
        rel = Path(v.path).resolve().relative_to(Path(ds.path).resolve())
        dst = root / rel
        if not dst.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                perturb_video(v.path, dst, cond.perturbation, seed=seed, key=v.key)
            except BadVideoError as e:
                failed.append({"key": v.key, "path": str(v.path), "error": str(e)})
                continue
        boxes = boxes_path(Path(v.path))
        if boxes.is_file() and not boxes_path(dst).is_file():
            boxes_path(dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(boxes, boxes_path(dst))  # geometry is unchanged by every perturbation
        out.append(replace(v, path=dst))
        if progress and (i % 50 == 0 or i == len(videos)):
            progress(f"perturbed ({cond.perturbation.key}): {i}/{len(videos)}")
    return root, out, failed


# --- one condition ------------------------------------------------------------------------------------


def condition_settings(trained, cond: Condition, ds: DatasetRoot, videos: list[PlannedVideo], protocol: Protocol,
                       finder: str, cache: CropCache, model: ModelHashes, seed: int) -> dict:
    """Everything that can move an evaluation's score: the training run's settings whole (and the
    hash of the weights it scores with), the test data by content, the perturbation, and the test-time preprocessing."""
    sizes = {"test": [(v.key, v.path.stat().st_size if v.path.is_file() else -1) for v in videos]}
    pre = trained.record.settings["preprocessing"]
    perturbation = None
    if cond.perturbation is not None:
        perturbation = {**cond.perturbation.to_dict(), "seed": seed, "code_sha256": code_sha256("dfbench.perturb")}
    return {
        "protocol": {"id": protocol.id, "version": protocol.version, "kind": protocol.short_kind, "run": cond.name},
        "trained": {"record": trained.record.file_name, "settings_id": trained.record.settings_id,
                    "settings": trained.record.settings, "model_sha256": model.model_sha256},
        "data": {"dataset": cond.dataset, "kind": ds.kind, "variant": cond.variant,
                 "fingerprint": data_fingerprint(sizes, ds.synthetic), "videos": {"test": len(videos)},
                 "synthetic_seed": (ds.synthetic or {}).get("seed")},
        "perturbation": perturbation,
        "preprocessing": {**{k: pre[k] for k in ("crop_size", "clip_len", "trunk_len") if k in pre},
                          "face_finder": finder, "face_track": cache.track_key, "crop_scale": CROP_SCALE,
                          "crop_cache_version": CROP_CACHE_VERSION},
        "dfbench_version": dfbench.__version__,
    }


@dataclass(frozen=True)
class ModelHashes:
    """The trained detector's weights file, hashed twice: its bytes (provenance: which file was read) and
    the weights in it (a setting: what was scored). A re-trained model with the same weights gives the
    same ``model_sha256`` and a new ``checkpoint_sha256``. Both None: a detector with no weights file."""

    checkpoint_sha256: str | None
    model_sha256: str | None


def model_hashes(trained) -> ModelHashes:
    """The :class:`ModelHashes` of the checkpoint the trained detector scores with."""
    from dfbench.checkpoints import model_sha256, sha256_file

    best = trained.fit.best_checkpoint
    if best is None:
        return ModelHashes(None, None)
    return ModelHashes(sha256_file(best), model_sha256(best, trained.config.work_dir))


def evaluate(record_path: Path, cond: Condition, protocol: Protocol | None = None, opts: EvalOptions | None = None,
             progress=lambda _: None, *, trained=None, model: ModelHashes | None = None):
    """Score the training record's detector on one condition; save (or find) the condition's record.

    ``trained`` and ``model`` (its :class:`ModelHashes`) may be passed in when one training run is evaluated
    under many conditions, so it is loaded and hashed once. Returns a :class:`dfbench.engine.RunOutcome`.
    """
    from dfbench import engine
    from dfbench import trained as trained_mod

    opts = opts or EvalOptions()
    git_revision()  # read when the evaluation starts (see dfbench.provenance.git_revision)
    protocol = protocol or load_protocol(PROTOCOL_OF[cond.kind])
    if trained is None:
        trained = trained_mod.load(record_path, opts.work_dir, warn=progress)
    if model is None:
        model = model_hashes(trained)
    record = trained.record
    seed = record.seed if opts.seed is None else opts.seed
    cache_dir = default_cache_root(opts.cache)
    tag = f"{protocol.name} {cond.name}"

    ds, videos = condition_videos(cond)
    spec = datasets.get(cond.dataset)
    finder = opts.face_finder or trained.face_finder
    if finder == "dataset" and not spec.has_boxes(ds.path, cond.variant):
        raise DfbenchError(f"{cond.root}: {cond.dataset} ships no face boxes, and {record_path.name} was cropped "
                           "with the dataset's boxes; pass --face-finder face-alignment (or dlib, opencv)")
    crop_root, crop_videos, failed = ds.path, videos, []
    crop_cache = CropCache(cache_dir, crop_root, finder, size=trained.crop_size)
    settings = condition_settings(trained, cond, ds, videos, protocol, finder, crop_cache, model, seed)
    sid = settings_id(settings)
    info = results.DatasetInfo(kind=ds.kind, compression=cond.variant,
                               root=portable_path(ds.path, roots={"$DFBENCH_CACHE": cache_dir}),
                               seed=(ds.synthetic or {}).get("seed"), fingerprint=settings["data"]["fingerprint"])
    path = Path(opts.output) / results.record_name(protocol.id, cond.name, record.detector, record.size, info,
                                                   record.seed, sid)
    with engine.run_lock(path, progress, tag):
        old = engine._finished(path, progress, tag)
        if old is not None:
            progress(f"{tag}: evaluated before with the same settings ({sid}), skipped ({path})")
            return engine.RunOutcome(cond.name, path, True, old)
        if cond.perturbation is not None:
            crop_root, crop_videos, failed = perturbed_videos(videos, ds, cond, seed, cache_dir, progress)
            crop_cache = CropCache(cache_dir, crop_root, finder, size=trained.crop_size)
        refs = engine._crop_all(crop_videos, crop_cache, failed, lambda m: progress(f"{tag}: {m}"))
        if not refs:
            raise DfbenchError(f"{tag}: no usable test videos ({len(failed)} failed, first: "
                               f"{failed[0]['error'] if failed else '-'})")
        progress(f"{tag}: scoring {len(refs)} test videos with {record.detector} from {record_path.name} "
                 "(not retrained)")
        scores = engine.check_scores(record.detector, "test", refs,
                                     engine._score(trained.detector, refs, trained.config, trained.fit))
        result = _result(trained, record_path, cond, protocol, info, refs, scores, videos, failed, ds, settings,
                         sid, model)
        results.save(result, Path(opts.output))
    m = result.metrics
    progress(f"{tag}: TCR {m['tcr']:.4f}, AUC {engine._fmt(m['auc'])} -> {path}")
    return engine.RunOutcome(cond.name, path, False, result)


def _result(trained, record_path: Path, cond: Condition, protocol: Protocol, info: results.DatasetInfo, refs,
            scores, videos: list[PlannedVideo], failed: list[dict], ds: DatasetRoot, settings: dict, sid: str,
            model: ModelHashes) -> results.RunResult:
    from dfbench.engine import _under
    from dfbench.metrics import video_metrics
    from dfbench.uncertainty import accuracy_at

    record = trained.record
    group = {v.key: v.pair for v in videos}
    labels = [v.label for v in refs]
    metrics = video_metrics(labels, scores, [v.method for v in refs], pairs=[group[v.key] or v.key for v in refs])
    threshold = record.metrics.get("val_threshold")
    if isinstance(threshold, (int, float)) and not isinstance(threshold, bool):  # the training run's operating point
        metrics["val_threshold"] = threshold
        metrics["acc_at_val_threshold"] = accuracy_at(labels, scores, threshold)
    fakes = sorted({v.method for v in refs if v.label == 1})
    return results.RunResult(
        protocol=protocol.id, protocol_version=protocol.version, protocol_kind=protocol.short_kind, run=cond.name,
        train_methods=list(record.train_methods), test_methods=fakes, detector=record.detector,
        detector_plugin=record.detector_plugin, size=record.size, parameters=record.parameters, dataset=info,
        seed=record.seed, dfbench_version=dfbench.__version__, git_revision=git_revision(), metrics=metrics,
        videos=[results.VideoScore(v.key, v.method, v.label, float(s), group[v.key] or v.key)
                for v, s in zip(refs, scores)],
        checkpoint=record.checkpoint, precision=record.precision,
        failed_videos=[dict(f, path=_under(f["path"], ds.path)) for f in failed], fit=record.fit,
        preprocessing=settings["preprocessing"], settings=settings, settings_id=sid,
        created=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        trained={"record": record.file_name, "settings_id": record.settings_id, "protocol": record.protocol,
                 "run": record.run, "dataset": {"kind": record.dataset.kind, "compression": record.dataset.compression},
                 "checkpoint_sha256": model.checkpoint_sha256, "model_sha256": model.model_sha256},
    )


# --- a whole evaluation protocol ----------------------------------------------------------------------


def run_protocol(opts, progress=lambda _: None) -> list:
    """``dfbench run --protocol cross-dataset|cross-compression|robustness``: the training protocol's run
    (found by its settings; trained only when missing), then every condition, one record each."""
    from dfbench import engine
    from dfbench import trained as trained_mod

    protocol = load_protocol(opts.protocol)
    train_opts = replace(opts, protocol=protocol.train_protocol, test_data=())
    outcomes = engine.run(train_opts, progress)
    if not distributed.is_main(opts.launcher):  # under torchrun/srun the ranks train together; rank 0 evaluates
        return outcomes
    prepared = engine.prepare(train_opts, dry=True)
    cache = engine.cache_root(opts)
    conds = conditions(protocol, train_root=prepared.dataset.path, train_compression=prepared.compression,
                       embedded=opts.data is None, test_data=opts.test_data, cache=cache, progress=progress)
    eval_opts = EvalOptions(output=opts.output, work_dir=opts.work_dir, cache=opts.cache,
                            face_finder=opts.face_finder, seed=None)
    out = list(outcomes)  # the training run's outcome first (trained now, or found by its settings)
    for o in outcomes:
        trained = trained_mod.load(o.path, opts.work_dir, warn=progress)
        model = model_hashes(trained)
        for cond in conds:
            out.append(evaluate(o.path, cond, protocol, eval_opts, progress, trained=trained, model=model))
    return out


def dry_run(opts) -> dict:
    """The plan of an evaluation protocol: its training run's plan, and each condition's test videos."""
    from dfbench import engine

    protocol = load_protocol(opts.protocol)
    train_opts = replace(opts, protocol=protocol.train_protocol, test_data=())
    plan = engine.dry_run(train_opts)
    prepared = engine.prepare(train_opts, dry=True)
    conds = conditions(protocol, train_root=prepared.dataset.path, train_compression=prepared.compression,
                       embedded=opts.data is None, test_data=opts.test_data, cache=engine.cache_root(opts))
    evaluations = []
    for cond in conds:
        ds, videos = condition_videos(cond)
        evaluations.append({"name": cond.name, "dataset": cond.dataset, "kind": ds.kind, "root": str(ds.path),
                            "variant": cond.variant,
                            "perturbation": cond.perturbation.to_dict() if cond.perturbation is not None else None,
                            "test": [v.to_dict() for v in videos]})
    return {**plan, "protocol": protocol.id, "protocol_version": protocol.version,
            "train_protocol": protocol.train_protocol, "evaluations": evaluations}


def evaluate_record(record_path: Path, *, test_data=(), perturb=(), compressions=(), data: Path | None = None,
                    opts: EvalOptions | None = None, progress=lambda _: None, trained=None,
                    model: ModelHashes | None = None) -> list:
    """``dfbench evaluate``: one training record under the conditions named, one record each.

    ``perturb`` items are ``TYPE:LEVEL`` or ``standard`` (DeeperForensics' 35 settings and the QP sweep);
    ``compressions`` and ``perturb`` test the record's own test split, on ``data`` or, by default, the
    root the record names (the embedded synthetic set's other compressions are generated as needed).
    ``trained`` and ``model`` (its :class:`ModelHashes`): the record's detector, when already loaded.
    """
    from dfbench import trained as trained_mod
    from dfbench.cache import embedded_dataset
    from dfbench.perturb import parse, standard
    from dfbench.provenance import expand_path

    opts = opts or EvalOptions()
    if not (test_data or perturb or compressions):
        raise DfbenchError("name what to test on: --test-data ID[=ROOT], --perturb TYPE:LEVEL or --test-compression C")
    conds = []  # parsed before the record is loaded: a typo costs nothing
    perturbations = [p for text in perturb for p in (standard() if text == "standard" else [parse(text)])]
    if trained is None:
        trained = trained_mod.load(record_path, opts.work_dir, warn=progress)
    record = trained.record
    cache = default_cache_root(opts.cache)
    embedded = data is None and record.dataset.root.startswith("$DFBENCH_CACHE/synthetic/ffpp-")
    train_root = Path(data) if data is not None else expand_path(record.dataset.root,
                                                                 roots={"$DFBENCH_CACHE": cache})
    conds += parse_test_data(test_data, cache, record.dataset.compression, progress)
    for comp in dict.fromkeys(compressions):
        root = embedded_dataset(cache, comp, progress) if embedded else train_root
        conds.append(Condition(comp, "ffpp", Path(root), comp))
    conds += [Condition(p.key, "ffpp", train_root, record.dataset.compression, p) for p in perturbations]
    model = model or model_hashes(trained)
    return [evaluate(Path(record_path), c, None, opts, progress, trained=trained, model=model)
            for c in conds]
