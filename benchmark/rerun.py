"""Re-run a stored record exactly as it ran, and say whether the new record reproduces it.

``dfbench rerun RECORD`` reads the run's options from the record's settings (detector, size,
protocol run, compression, seed, epochs, precision, starting weights, face finder, detector
options), plans the run on the data given and refuses, before any training, when the plan's
settings are not the record's (another dataset, other weights, another code path): only code
hashes may differ. It then trains into a fresh output folder and compares the two records with
:func:`dfbench.record_diff.diff_records`. This is how a reader regenerates one leaderboard row.

An *evaluation* record (cross-dataset, cross-compression, robustness) is re-scored, never
retrained: its training record (a re-run of it in the output folder first, else the one beside
it) must hold the very model the record scored, checked by the weights' hash before any scoring
(:func:`check_model`); the condition (test dataset, compression or perturbation, with its seed,
and the face finder) comes from the record's settings.
"""

from __future__ import annotations

from pathlib import Path

from dfbench.errors import DfbenchError
from dfbench.record_diff import diff_records

_NOT_RERUN = ("trained",)  # an evaluation record: re-scored by rerun_evaluation, not re-trained


def _method(run: str) -> str | None:
    """The --method of a protocol run: ``single-Face2Face`` -> Face2Face, ``all`` -> None."""
    return run.split("-", 1)[1] if "-" in run else None


def _pretrained(raw: dict, cache: Path, given: str | None) -> str:
    """The --pretrained choice that gives the record's starting weights (the plan's check then compares
    their sha256 with the record's). ``given`` overrides it (a file kept elsewhere on this machine)."""
    if given is not None:
        return given
    setting = raw["settings"]["training"].get("pretrained")
    if not setting or not setting.get("sha256"):
        return "none"
    if setting.get("default"):
        return "auto"
    source = (raw.get("checkpoint") or {}).get("source") or ""
    if source.startswith("package:"):
        return "stand-in"
    if "://" in source:
        return source
    from dfbench.provenance import expand_path

    try:
        path = expand_path(source, roots={"$DFBENCH_CACHE": cache})
    except ValueError:
        path = None
    if not source or path is None or not path.is_file():
        raise DfbenchError(f"the record started from weights at {source or 'an unnamed file'!r}, which are not "
                           f"on this machine: give them with --pretrained PATH (sha256 {setting['sha256'][:12]}...)")
    return str(path)


def _embedded_kind() -> str:
    """The data kind of the embedded default, which a run without --data generates (named as
    :attr:`dfbench.layout.DatasetRoot.kind` names every set)."""
    from dfbench.layout import DatasetRoot
    from dfbench.synth.dataset import EMBEDDED_PAIRS, EMBEDDED_VERSION

    return DatasetRoot(Path("."), {"version": EMBEDDED_VERSION, "pairs": list(EMBEDDED_PAIRS)}).kind


def options_for(raw: dict, *, data: Path | None, output: Path, work_dir: Path, cache: Path | None,
                pretrained: str | None = None):
    """The :class:`dfbench.engine.RunOptions` that ran ``raw`` (a checked record), on ``data`` (None:
    the folder the record names, when it is here, else the embedded default)."""
    from dfbench.cache import cache_root
    from dfbench.engine import RunOptions
    from dfbench.provenance import expand_path

    if any(k in raw for k in _NOT_RERUN):
        raise DfbenchError(f"an evaluation record (of {raw['trained']['record']}): it is re-scored, not re-trained "
                           "(dfbench.rerun.rerun_evaluation)")
    s = raw["settings"]
    training = s["training"]
    if training.get("world_size", 1) != 1:
        raise DfbenchError(f"the record trained on {training['world_size']} processes: re-run it under torchrun or "
                           "srun with `dfbench run --launcher` and the same settings, then `dfbench diff`")
    root = cache_root(cache)
    if data is None:
        try:
            named = expand_path(raw["dataset"]["root"], roots={"$DFBENCH_CACHE": root})
        except ValueError:
            named = None
        if named is not None and named.is_dir():
            data = named
        elif raw["dataset"]["kind"] != _embedded_kind():
            raise DfbenchError(f"the record's data ({raw['dataset']['kind']}, {raw['dataset']['root']}) is not here: "
                               "give it with --data (`dfbench data synth` makes a synthetic set again)")
    return RunOptions(
        detector=s["detector"]["name"], protocol=s["protocol"]["id"], method=_method(s["protocol"]["run"]),
        data=data, compression=s["data"]["compression"], size=s["detector"]["size"], seed=training["seed"],
        output=Path(output), work_dir=Path(work_dir), cache=cache, face_finder=s["preprocessing"]["face_finder"],
        epochs=training.get("epochs"), precision=training.get("precision", "fp32"),
        pretrained=_pretrained(raw, root, pretrained), options=dict(training.get("options") or {}))


def check_plan(raw: dict, planned: dict) -> None:
    """Refuse a plan whose settings are not the record's (beyond code hashes), naming what differs.

    A checkpoint URL not downloaded yet has no hash in a plan (``dfbench.preflight.check_pretrained``):
    that one field is taken on trust here and judged after the run, when the new record's settings
    hold the fetched file's hash and ``dfbench diff`` compares them."""
    recorded = (raw["settings"].get("training") or {}).get("pretrained") or {}
    wanted = (planned.get("training") or {}).get("pretrained") or {}
    if recorded.get("sha256") and wanted and wanted.get("sha256") is None:
        trusted = {**wanted, "sha256": recorded["sha256"]}
        planned = {**planned, "training": {**planned["training"], "pretrained": trusted}}
    result = diff_records({"settings": raw["settings"]}, {"settings": planned})
    if result["verdict"] == "different-settings":
        shown = "; ".join(f"{d['field']} {d['a']!r} -> {d['b']!r}" for d in result["settings"][:4])
        raise DfbenchError(f"this machine would not run what the record ran ({shown}): give the record's data with "
                           "--data (and its weights with --pretrained), or check out its git revision "
                           f"{raw.get('git_revision', '?')}")


def plan(raw: dict, opts) -> dict:
    """The engine's dry-run plan of the record's one run, checked against the record's settings."""
    from dfbench.engine import dry_run

    planned = dry_run(opts)
    [run] = [r for r in planned["runs"] if r["name"] == raw["settings"]["protocol"]["run"]]
    check_plan(raw, run["settings"])
    if run["finished"]:
        raise DfbenchError(f"{run['record']} exists: a re-run needs an output folder without that record "
                           "(else it would be reused, not re-run)")
    return run


def rerun(raw: dict, opts, progress=lambda _: None) -> tuple[Path, dict]:
    """Train the record's run again (after :func:`plan`) and diff the new record against it."""
    from dfbench import engine
    from dfbench.results import read_record

    plan(raw, opts)
    [outcome] = engine.run(opts, progress=progress)
    new = read_record(outcome.path).to_dict()
    return outcome.path, diff_records(raw, new)


# --- evaluation records: re-scored with the model they scored ----------------------------------------


def trained_record_of(raw: dict, record_path: Path, output: Path, given: Path | None = None) -> Path:
    """The training record whose model an evaluation record scored: ``given``, else a re-run of it in
    ``output`` (``make reproduce`` re-trains there first; under changed code the re-run has another
    settings id, so the newest record of the same run, detector, size, data and seed), else the one
    beside the evaluation record. :func:`check_model` then decides whether it holds the model."""
    from dfbench.results import stem_of

    name = raw["trained"]["record"]
    if given is not None:
        if Path(given).is_file():
            return Path(given)
        raise DfbenchError(f"{given}: no such training record")
    rerun = sorted(Path(output).glob(f"{stem_of(name)}__*.json"), key=lambda p: (p.name != name, -p.stat().st_mtime))
    for path in [*rerun[:1], Path(record_path).parent / name]:
        if path.is_file():
            return path
    raise DfbenchError(f"its training record {name} is not in {output} or {Path(record_path).parent}: give it with "
                       "--trained PATH")


def check_model(raw: dict, name: str, model) -> None:
    """Refuse, before any scoring, a trained detector (its record file ``name``, its
    :class:`dfbench.evaluation.ModelHashes` ``model``) whose weights are not the ones the evaluation
    record scored: by the weights' hash (``model_sha256``), or, in records made before it existed, by
    the checkpoint file's (only that very file passes)."""
    pinned = raw["settings"]["trained"]
    by_weights = "model_sha256" in pinned
    want = pinned["model_sha256"] if by_weights else pinned.get("checkpoint_sha256")
    got = model.model_sha256 if by_weights else model.checkpoint_sha256
    if got != want:
        what = "weights" if by_weights else "checkpoint file (the record predates weight hashes)"
        raise DfbenchError(f"{name} does not hold the model the record scored: its {what} hash {str(got)[:12]}, the "
                           f"record's {str(want)[:12]}; re-run that training record first, into the output folder, "
                           "or give the one that made it with --trained")


def evaluation_inputs(raw: dict, data: Path | None, cache: Path) -> dict:
    """The :func:`dfbench.evaluation.evaluate_record` arguments of the record's one condition."""
    from dfbench.provenance import expand_path

    s = raw["settings"]
    kind, run = s["protocol"]["kind"], s["protocol"]["run"]
    if kind == "cross-dataset":
        dataset = s["data"]
        if dataset["kind"].startswith("synthetic-"):  # its synthetic twin, made again in the cache if missing
            return {"test_data": [dataset["dataset"]]}
        if data is None:
            try:
                data = expand_path(raw["dataset"]["root"], roots={"$DFBENCH_CACHE": cache})
            except ValueError:
                data = None
        if data is None or not Path(data).is_dir():
            raise DfbenchError(f"the record's test data ({dataset['kind']}, {raw['dataset']['root']}) is not here: "
                               "give its folder with --data")
        return {"test_data": [f"{dataset['dataset']}={data}"]}
    if kind == "cross-compression":
        return {"compressions": [run], "data": data}
    if kind == "robustness":
        p = s["perturbation"]
        return {"perturb": [f"{p['type']}:{p['level']}"], "data": data}
    raise DfbenchError(f"an evaluation of kind {kind!r}: this dfbench re-scores cross-dataset, cross-compression "
                       "and robustness records")


def rerun_evaluation(raw: dict, record_path: Path, *, data: Path | None, output: Path, work_dir: Path,
                     cache: Path | None, trained_record: Path | None = None, dry_run: bool = False,
                     progress=lambda _: None) -> tuple[Path, dict | None]:
    """Score the evaluation record's condition again with the model it scored; (new record, diff).
    With ``dry_run``, only the checks: (the training record that would be used, None)."""
    from dfbench import trained as trained_mod
    from dfbench.cache import cache_root
    from dfbench.evaluation import EvalOptions, evaluate_record, model_hashes
    from dfbench.results import read_record

    if (Path(output) / Path(record_path).name).exists():
        raise DfbenchError(f"{Path(output) / Path(record_path).name} exists: a re-run needs an output folder without "
                           "that record (else it would be reused, not re-scored)")
    inputs = evaluation_inputs(raw, data, cache_root(cache))
    source = trained_record_of(raw, record_path, output, trained_record)
    trained = trained_mod.load(source, work_dir, warn=progress)
    model = model_hashes(trained)
    check_model(raw, source.name, model)
    if dry_run:
        return source, None
    s = raw["settings"]
    seed = (s.get("perturbation") or {}).get("seed")
    opts = EvalOptions(output=Path(output), work_dir=Path(work_dir), cache=cache,
                       face_finder=s["preprocessing"]["face_finder"], seed=seed)
    [outcome] = evaluate_record(source, **inputs, opts=opts, progress=progress, trained=trained, model=model)
    new = read_record(outcome.path).to_dict()
    return outcome.path, diff_records(raw, new)
