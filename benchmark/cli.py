"""The ``dfbench`` command: thin wrappers over functions that return values.

Quick start::

    dfbench run --detector resnext3d_nl --protocol cross   # embedded synthetic data, CPU-size model
    dfbench leaderboard --results results                  # Markdown, beside the paper's numbers
    dfbench detectors                                       # what is installed, from which plugin
"""

from __future__ import annotations

import contextlib
import errno
import json
import sys
from pathlib import Path

import click

from dfbench.errors import DfbenchError

LAYER_HELP = ("Explain another layer than the detector's last convolutional stage (the paper's choice), by its "
              "name in the network, e.g. layer3: finer heatmaps where the last stage is a few cells wide.")


def _record_folders(command):
    """``--work-dir`` and ``--cache`` of the commands that use trained records (score, explain, analyze)."""
    command = click.option("--cache", type=click.Path(path_type=Path), default=None,
                           help="Crop cache. Default: $DFBENCH_CACHE or ~/.cache/dfbench.")(command)
    return click.option("--work-dir", type=click.Path(path_type=Path), default=Path("work_dirs"), show_default=True,
                        help="Where the records' runs trained (their checkpoints are under it).")(command)


def _echo_err(msg: str) -> None:
    click.echo(msg, err=True)


def _given(param: str) -> bool:
    """Whether the running command's option ``param`` was given on the command line (not its default)."""
    return click.get_current_context().get_parameter_source(param) is click.core.ParameterSource.COMMANDLINE


def _seeds(text: str) -> list[int]:
    """``--seeds "0 1 2"`` or ``0,1,2``: distinct integers, in the order given."""
    try:
        seeds = [int(x) for x in text.replace(",", " ").split()]
    except ValueError:
        raise DfbenchError(f"--seeds {text!r}: give whole numbers separated by spaces or commas, "
                           "e.g. '0 1 2'") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise DfbenchError(f"--seeds {text!r}: give at least one seed, each once")
    return seeds


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dfbench")
def cli():
    """dfbench: deepfake video detection on FaceForensics++ under fixed protocols.

    \b
    Examples:
      dfbench run --detector resnext3d_nl --protocol cross
      dfbench run --detector resnet3d --protocol single --method NeuralTextures --data /data/ffpp
      dfbench run --detector resnext3d_nl --protocol all --dry-run --json
      dfbench leaderboard --results results --out leaderboard.md
      dfbench preprocess --data /data/ffpp --workers 8 --shard 0/4
      dfbench profile --size paper --json
    """


@cli.command()
@click.option("--detector", "-d", required=True, help="Detector name (see `dfbench detectors`).")
@click.option("--protocol", "-p", required=True, help="all, single or cross (see `dfbench protocols`).")
@click.option("--method", "-m", default=None, help="single: the method; cross: the held-out method. Default: all four.")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="FF++ root. Default: the embedded synthetic set, generated once into the cache.")
@click.option("--compression", type=click.Choice(["raw", "c23", "c40"]), default=None,
              help="Default: the protocol's (c40, the paper's LQ).")
@click.option("--size", type=click.Choice(["auto", "paper", "cpu"]), default="auto", show_default=True,
              help="Model size; auto = cpu on synthetic data, paper on FF++.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--seeds", default=None, metavar="'0 1 2'",
              help="Several seeds, one after the other (spaces or commas); finished ones are skipped. "
                   "The leaderboard shows mean ± sd over seeds and the pooled interval.")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              help="Folder of result records (one JSON per run).")
@click.option("--work-dir", type=click.Path(path_type=Path), default=Path("work_dirs"), show_default=True,
              help="Checkpoints and training logs.")
@click.option("--cache", type=click.Path(path_type=Path), default=None,
              help="Crop and synthetic-data cache. Default: $DFBENCH_CACHE or ~/.cache/dfbench.")
@click.option("--face-finder", default=None,
              help="dataset, face-alignment, dlib or opencv (or a plugin's). Default: chosen for the data.")
@click.option("--epochs", type=int, default=None, help="Override the detector's schedule.")
@click.option("--launcher", type=click.Choice(["none", "pytorch", "slurm"]), default="none", show_default=True,
              help="MMEngine launcher for distributed training (run under torchrun or srun).")
@click.option("--pretrained", default="auto", show_default=True, metavar="auto|stand-in|none|PATH|URL",
              help="Starting weights: auto = the detector's Kinetics-400 checkpoint at paper size, none at cpu size; "
                   "stand-in = its shipped formula-pretrained weights at cpu size (docs/pretrained-weights.md).")
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32", show_default=True,
              help="Mixed precision for training and scoring (fp16 needs a GPU).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="A detector option (repeatable), e.g. --set batch_size=8 --set lr=1e-4; `dfbench detectors "
                   "--options DETECTOR` lists them. Options enter the run's settings.")
@click.option("--splits", type=click.Path(path_type=Path), default=None, help="Folder with train/val/test.json.")
@click.option("--test-data", "test_data", multiple=True, metavar="ID[=ROOT]",
              help="cross-dataset: a test dataset (`dfbench datasets`), ID=ROOT for its folder, or ID alone for "
                   "its synthetic twin. Repeat for several.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="WARNING",
              show_default=True, help="Training framework's console log; INFO shows MMEngine's full log.")
@click.option("--dry-run", is_flag=True, help="Print the plan (runs and their videos) without training.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def run(dry_run, as_json, seeds, settings, **kw):
    """Train and test a detector under a protocol; one result record per run.

    \b
    Examples:
      dfbench run --detector resnext3d_nl --protocol cross
      dfbench run --detector resnet3d --protocol all --data /data/ffpp --size paper
      dfbench run --detector resnet3d --protocol all --pretrained ~/weights/resnet-101-kinetics.pth --precision bf16
      dfbench run --detector resnext3d_nl --protocol all --seeds "0 1 2"
      dfbench run --detector mmaction2:x3d/x3d_s_13x6x1_facebook-kinetics400-rgb --protocol single --method DF
      dfbench run --detector resnet3d --protocol all --set batch_size=4 --set num_workers=2
      dfbench run -d resnext3d_nl -p cross-dataset --data /data/ffpp --test-data celebdf=/data/Celeb-DF-v2
      dfbench run --detector resnext3d_nl --protocol robustness
      torchrun --nproc_per_node 4 -m dfbench run --detector resnet3d --protocol all --launcher pytorch
    """
    from dataclasses import replace

    from dfbench.distributed import is_main
    from dfbench.engine import RunOptions
    from dfbench.engine import dry_run as plan
    from dfbench.engine import run as execute
    from dfbench.preflight import parse_option

    kw["test_data"] = tuple(kw.get("test_data") or ())
    opts = RunOptions(**kw, options=dict(parse_option(s) for s in settings))
    seed_list = _seeds(seeds) if seeds is not None else [opts.seed]
    if dry_run:
        plans = [plan(replace(opts, seed=seed)) for seed in seed_list]
        if as_json:
            click.echo(json.dumps(plans[0] if seeds is None else plans, indent=1))
            return
        for seed, p in zip(seed_list, plans):
            for e in p.get("evaluations", []):
                n_real = sum(v["label"] == 0 for v in e["test"])
                click.echo(f"{e['name']}: test on {e['kind']} {e['variant']} ({n_real} real, "
                           f"{len(e['test']) - n_real} fake videos) with the {p['train_protocol']} run below")
            for r in p["runs"]:
                counts = ", ".join(f"{s} {len(r[s])}" for s in ("train", "val", "test"))
                state = "finished, would be skipped" if r["finished"] else "would train"
                click.echo(f"{r['name']}{f' (seed {seed})' if seeds is not None else ''}: train on "
                           f"{'+'.join(r['train_methods'])}, test on {'+'.join(r['test_methods'])} ({counts} videos); "
                           f"settings {r['settings_id']}, {state}")
        return
    # stdout carries results only: progress and training logs (MMEngine logs to stdout) go to stderr.
    outcomes = []
    with contextlib.redirect_stdout(sys.stderr):
        for seed in seed_list:
            outcomes += execute(replace(opts, seed=seed), progress=_echo_err)
    if not is_main(opts.launcher):  # one summary per launch, from rank 0
        return
    _report_outcomes(outcomes, as_json)


def _report_outcomes(outcomes, as_json: bool) -> None:
    """One line per record written or found (``run`` and ``evaluate``), or the same as JSON."""
    if as_json:
        click.echo(json.dumps([{"run": o.run, "path": str(o.path), "skipped": o.skipped,
                                "metrics": {k: o.result.metrics.get(k) for k in ("tcr", "auc", "eer", "ap")}}
                               for o in outcomes], indent=1))
        return
    for o in outcomes:
        m = o.result.metrics
        auc = "n/a" if m.get("auc") is None else f"{m['auc']:.4f}"
        click.echo(f"{o.run}: TCR {m['tcr']:.4f} AUC {auc}  {o.path}")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--zoo", is_flag=True,
              help="List what the detector sources offer instead: every `<source>:<ref>` --detector takes "
                   "(e.g. MMAction2's shipped recognition configs as mmaction2:<config>).")
@click.option("--options", "options_of", default=None, metavar="DETECTOR",
              help="List the --set options DETECTOR takes (builds it: imports its framework).")
def detectors(as_json, zoo, options_of):
    """List installed detectors (no network is built, no framework imported).

    \b
    Examples:
      dfbench detectors
      dfbench detectors --zoo
      dfbench detectors --options resnet3d
    """
    from dfbench import plugins

    if zoo:
        rows = [{"name": f"{prefix}:{ref}", "source": prefix, "plugin": source.plugin}
                for prefix, source in plugins.detector_sources().items() for ref in source.available()]
        if as_json:
            click.echo(json.dumps({"zoo": rows, "broken_plugins": plugins.broken}, indent=1))
        else:
            for r in rows:
                click.echo(r["name"])
        for reason in ([] if as_json else plugins.broken.values()):
            _echo_err(f"warning: {reason}")
        return
    if options_of:
        from dfbench.preflight import build_detector

        spec = plugins.get_detector(options_of)
        size = "cpu" if "cpu" in spec.meta.sizes else next(iter(spec.meta.sizes))
        accepted = getattr(build_detector(spec, size), "options", None) or {}
        rows = {k: {"type": o.type.__name__, "help": o.help} for k, o in sorted(accepted.items())}
        if as_json:
            click.echo(json.dumps(rows, indent=1))
        else:
            for k, o in rows.items():
                click.echo(f"{k:<16} {o['type']:<6} {o['help']}")
        return
    specs = plugins.detectors()
    rows = [{"name": s.meta.name, "family": s.meta.family, "input": s.meta.input_kind,
             "sizes": {k: {"clip_len": v.clip_len, "crop_size": v.crop_size, "parameters": v.parameters}
                       for k, v in s.meta.sizes.items()},
             "paper_name": s.meta.paper_name, "paper_parameters": s.meta.paper_parameters,
             "pretrainable": s.meta.pretrainable, "pretrained_by_default": s.meta.pretrained_by_default,
             "checkpoint": s.meta.checkpoint.source if s.meta.checkpoint else None,
             "stand_in": s.meta.stand_in.source if s.meta.stand_in else None,
             "citation": s.meta.citation, "description": s.meta.description,
             "plugin": s.plugin} for s in specs.values()]
    if as_json:
        click.echo(json.dumps({"detectors": rows, "broken_plugins": plugins.broken}, indent=1))
        return
    for r in rows:
        # The paper's own count (its Table 6) sits beside ours at the paper size, where it gives one.
        theirs = {"paper": f" (paper's count {r['paper_parameters']:,})" if r["paper_parameters"] else ""}
        sizes = ", ".join(f"{k} {v['parameters']:,} params{theirs.get(k, '')} ({v['clip_len']}x{v['crop_size']}²)"
                          for k, v in r["sizes"].items())
        click.echo(f"{r['name']:<16} {r['family']:<12} {r['input']:<5} {sizes}  [{r['plugin']}]")
    for reason in plugins.broken.values():
        _echo_err(f"warning: {reason}")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def plugins(as_json):
    """List every dfbench plugin found: loaded or not (and why), its hooks, what it registered.

    \b
    A plugin that loads but registers nothing gets a warning: most often its hook function lacks
    @hookimpl, which pluggy ignores without a word.
    """
    from dfbench import plugins as host

    rows = host.diagnostics()
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    for r in rows:
        version = f" {r['version']}" if r["version"] else ""
        click.echo(f"{r['name']} ({r['distribution']}{version}): "
                   + ("loaded" if r["loaded"] else f"NOT LOADED: {r['error']}"))
        if r["loaded"]:
            click.echo(f"  hooks: {', '.join(r['hooks']) or '-'}")
            if r["detectors"]:
                click.echo(f"  detectors: {', '.join(r['detectors'])}")
            if r["face_finders"]:
                click.echo(f"  face finders: {', '.join(r['face_finders'])}")
            if r["detector_sources"]:
                click.echo(f"  detector sources: {', '.join(p + ':<ref>' for p in r['detector_sources'])}")
            if r["datasets"]:
                click.echo(f"  datasets: {', '.join(r['datasets'])}")
        for w in r["warnings"]:
            _echo_err(f"warning: {w}")


@cli.command()
@click.option("--record", "-r", "record", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True,
              help="A training run's record (results/*.json): its detector and checkpoint are scored, never retrained.")
@click.option("--test-data", "test_data", multiple=True, metavar="ID[=ROOT]",
              help="Another dataset's official test videos: ID=ROOT, or ID alone for its synthetic twin.")
@click.option("--perturb", "perturb", multiple=True, metavar="TYPE:LEVEL",
              help="The record's own test videos perturbed before face finding, e.g. blur:9, crf:35; `standard` "
                   "for DeeperForensics' 35 settings and the QP sweep (dfbench.perturb).")
@click.option("--test-compression", "compressions", multiple=True, type=click.Choice(["raw", "c23", "c40"]),
              help="The record's own test videos at another FF++ compression.")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              help="Folder for the evaluation records.")
@click.option("--face-finder", default=None, help="Default: the training record's.")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="The training dataset's folder, for --perturb and --test-compression (default: the record's, "
                   "when it is the embedded synthetic set).")
@_record_folders
@click.option("--json", "as_json", is_flag=True)
def evaluate(record, test_data, perturb, compressions, output, face_finder, data, work_dir, cache, as_json):
    """Test a trained detector on data it never saw, without retraining: one record per condition.

    \b
    Examples:
      dfbench evaluate --record results/ffpp-lq-all__all__resnext3d_nl__...json --test-data celebdf=/data/Celeb-DF-v2
      dfbench evaluate --record R.json --test-data celebdf --test-data dfdc --test-data dfd   # synthetic twins
      dfbench evaluate --record R.json --perturb blur:9 --perturb crf:35
      dfbench evaluate --record R.json --test-compression c23
    """
    from dfbench.evaluation import EvalOptions, evaluate_record

    with contextlib.redirect_stdout(sys.stderr):
        outcomes = evaluate_record(record, test_data=test_data, perturb=perturb, compressions=compressions,
                                   data=data, opts=EvalOptions(output=output, work_dir=work_dir, cache=cache,
                                                               face_finder=face_finder), progress=_echo_err)
    _report_outcomes(outcomes, as_json)


@cli.command()
@click.option("--detector", "-d", "names", multiple=True,
              help="Detector to profile (repeatable). Default: every installed one that supports it.")
@click.option("--size", type=click.Choice(["paper", "cpu"]), default="paper", show_default=True)
@click.option("--batch", type=int, default=8, show_default=True, help="Inputs per forward pass.")
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32", show_default=True,
              help="bf16/fp16 run under autocast.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None, help="Default: cuda if available.")
@click.option("--repeats", type=int, default=5, show_default=True, help="Timed passes; the median is reported.")
@click.option("--warmup", type=int, default=2, show_default=True, help="Untimed passes first.")
@click.option("--json", "as_json", is_flag=True, help="Print the profile record as JSON.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Also write the record here, e.g. leaderboard/results/profile/paper__cpu__fp32.json "
                   "(the leaderboard's Cost table reads <results>/profile/*.json).")
def profile(names, size, batch, precision, device, repeats, warmup, as_json, out):
    """Parameters, FLOPs per input and inference throughput of each detector's network.

    \b
    FLOPs = 2 x multiply-adds (torch's FlopCounterMode, one input, fp32); throughput is the
    median of timed passes on this machine, which the output names.
    Examples:
      dfbench profile --size cpu
      dfbench profile -d resnet3d -d resnext3d_nl --size paper --batch 2 --repeats 3
      dfbench profile --size paper --out leaderboard/results/profile/paper__cpu__fp32.json
    """
    from dfbench import profile as P

    with contextlib.redirect_stdout(sys.stderr):  # frameworks' build logs must not mix with the table
        record = P.profile(names or None, size=size, batch=batch, precision=precision, device=device,
                           warmup=warmup, repeats=repeats, progress=_echo_err)
    click.echo(json.dumps(record.to_dict(), indent=1) if as_json else P.format_table(record))
    if out is not None:
        P.save(record, out)
        _echo_err(f"wrote {out}")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def protocols(as_json):
    """List the protocols and the runs each expands into."""
    from dfbench.protocols import available, expand

    rows = []
    for p in available():
        row = {"name": p.name, "id": p.id, "version": p.version, "title": p.title, "runs": [r.name for r in expand(p)]}
        if p.evaluates:  # trains nothing of its own: tests its training protocol's run under each condition
            row["train_protocol"] = p.train_protocol
            row["conditions"] = (list(p.test_datasets) or [c for c in p.test_compressions if c != p.compression]
                                 or [f"{t}-{level:g}" for t, levels in p.perturbations for level in levels])
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        what = (f"tests the {r['train_protocol']} run on {len(r['conditions'])} conditions"
                if "conditions" in r else ", ".join(r["runs"]))
        click.echo(f"{r['name']:<{width}} {r['id']} v{r['version']}: {r['title']} [{what}]")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--root", "roots", multiple=True, metavar="ID=ROOT",
              help="Also check that ROOT is in dataset ID's layout (repeatable); exit 1 if one is not.")
def datasets(as_json, roots):
    """List the registered datasets: layout on disk, variants, labels, boxes, twin, plugin.

    \b
    Examples:
      dfbench datasets
      dfbench datasets --root celebdf=/data/Celeb-DF-v2 --root dfd=/data/ffpp --json
    """
    from dfbench.datasets.report import describe, format_describe

    report = describe(roots)
    click.echo(json.dumps(report, indent=1) if as_json else format_describe(report))
    if not report["ok"]:
        sys.exit(1)


@cli.group()
def data():
    """Make or check datasets: FF++ (the default) or a registered test dataset (--layout, --dataset)."""


@data.command()
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--layout", default="ffpp", show_default=True,
              help="Dataset whose synthetic twin to write (`dfbench datasets`): ffpp, celebdf, dfdc, dfd.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--compression", type=click.Choice(["raw", "c23", "c40"]), default="c40", show_default=True)
@click.option("--pairs", default=None,
              help="Pairs in train,val,test. Default: with --version, that version's full size (1: 24,6,6; "
                   "2: 24,6,32; 3: 96,6,32; 4: 288,6,64; 5: 288,32,64, the leaderboard's); without, the embedded "
                   "default's 24,6,16.")
@click.option("--frames", type=int, default=32, show_default=True, help="Frames per video.")
@click.option("--version", "version", type=click.IntRange(1, 5), default=None,
              help="Generator version. Default: the embedded default, version 5 at 24,6,16 pairs (what `dfbench "
                   "run` uses without --data). 1 = cartoon heads with scripted traces (the default until "
                   "2026-12-02); 2 = rendered faces and real manipulation operations; 3 = version 2 with decoys "
                   "every video gets (livelier faces, a face retouch) and stronger temporal errors; 4 = version 3 "
                   "with the expression sway decoy, 288 training and 64 test pairs; 5 = version 4 with 32 "
                   "validation pairs (docs/synthetic-data.md).")
@click.option("--extra-compression", "extra", multiple=True, type=click.Choice(["raw", "c23", "c40"]),
              help="Also write every video at this compression (the same frames at its QP), for cross-compression "
                   "runs on one root. Repeat for several.")
def synth(out, layout, seed, compression, pairs, frames, version, extra):
    """Write a synthetic dataset in the exact FF++ layout, or another dataset's (deterministic for a seed).

    \b
    --layout celebdf, dfdc or dfd writes that dataset's twin: a small synthetic set (pairs 4,1,8) laid
    out and named as the real download; --compression is DFD's variant (Celeb-DF and DFDC are c23).
    """
    from dfbench import synth as S

    n_pairs = None
    if pairs is not None:
        try:
            n_pairs = tuple(int(x) for x in pairs.split(","))
            assert len(n_pairs) == 3 and min(n_pairs) > 0
        except (ValueError, AssertionError):
            raise DfbenchError(f"--pairs {pairs!r}: give three positive numbers, train,val,test, e.g. 24,6,6") from None
    if layout != "ffpp":
        from dfbench.datasets.report import format_twin, write_twin

        if _given("version") or extra:
            raise DfbenchError(f"--version and --extra-compression are for --layout ffpp; the {layout} twin is made "
                               "from generator version 1 at one compression")
        manifest = write_twin(layout, out, seed, compression if _given("compression") else None, n_pairs, frames,
                              progress=lambda i, n: _echo_err(f"{i}/{n} videos") if i % 50 == 0 or i == n else None)
        click.echo(format_twin(out, layout, seed, manifest))
        return
    if version is None:  # the embedded default: its version, and its size unless --pairs says otherwise
        from dfbench.synth.dataset import EMBEDDED_PAIRS, EMBEDDED_VERSION

        version, n_pairs = EMBEDDED_VERSION, n_pairs or EMBEDDED_PAIRS
    manifest = S.generate(out, seed=seed, compression=compression, pairs=n_pairs, num_frames=frames, version=version,
                          progress=lambda i, n: _echo_err(f"{i}/{n} videos") if i % 50 == 0 or i == n else None,
                          extra_compressions=tuple(extra))
    also = "".join(f", {c}" for c in manifest.get("extra_compressions", ()))
    click.echo(f"{out}: {manifest['videos']} videos, {compression}{also} (QP {manifest['qp']}), seed {seed}, "
               f"version {manifest['version']}")


@data.command()
@click.argument("root", type=click.Path(path_type=Path))
@click.option("--dataset", "dataset_id", default="ffpp", show_default=True,
              help="Dataset whose layout ROOT is in (`dfbench datasets`); another than ffpp: its test videos.")
@click.option("--variant", default=None, help="The dataset's variant (not ffpp: --compression). Default: its first.")
@click.option("--compression", type=click.Choice(["raw", "c23", "c40"]), default="c40", show_default=True)
@click.option("--splits", type=click.Path(path_type=Path), default=None)
@click.option("--quick", is_flag=True, help="Only look for the files; do not decode their first and last frames.")
@click.option("--json", "as_json", is_flag=True)
def check(root, dataset_id, variant, compression, splits, quick, as_json):
    """Count videos per method and split; list what is missing and what does not decode (exit 1 if any).

    \b
    With --dataset ID (not ffpp): the dataset's official test videos by method and label.
    Example: dfbench data check --dataset celebdf /data/Celeb-DF-v2
    """
    from dfbench.datacheck import check as run_check
    from dfbench.datacheck import format_report

    if dataset_id != "ffpp":
        from dfbench.datasets.report import check as check_dataset
        from dfbench.datasets.report import format_check

        if splits is not None:
            raise DfbenchError(f"--splits is for ffpp; {dataset_id}'s test videos are its official list")
        variant = variant or (compression if _given("compression") else None)
        report = check_dataset(dataset_id, root, variant, quick=quick, progress=_echo_err)
        click.echo(json.dumps(report, indent=1) if as_json else format_check(report))
        if not report["ok"]:
            sys.exit(1)
        return
    if variant is not None:
        raise DfbenchError(f"--variant {variant!r}: ffpp's variants are its compressions; use --compression")
    report = run_check(root, compression, splits, quick=quick, progress=_echo_err)
    click.echo(json.dumps(report, indent=1) if as_json else format_report(report))
    if not report["ok"]:
        sys.exit(1)


@data.command("probe")
@click.argument("root", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--compression", type=click.Choice(["raw", "c23", "c40"]), default="c40", show_default=True)
@click.option("--splits", type=click.Path(path_type=Path), default=None)
@click.option("--workers", type=int, default=None, help="Processes computing the features. Default: the CPU count.")
@click.option("--gate", is_flag=True, help="Exit 1 if the probe's gates fail (all <= 0.70, single <= 0.75, "
                                           "file size <= 0.60): the check the embedded synthetic set must pass.")
@click.option("--json", "as_json", is_flag=True)
def probe_data(root, compression, splits, workers, gate, as_json):
    """Shortcut probe: cheap per-video features and a logistic regression trained on the train split.

    \b
    Prints, for every run of all, single and cross, the probe's test AUC (with its pair-bootstrap
    95% interval), the AUC of the file size alone and the best single feature. A detector that
    does not clearly beat these numbers has learnt nothing a hand-made feature does not give.
    Example: dfbench data probe ~/.cache/dfbench/synthetic/ffpp-c40-seed0-v5-24x6x16
    """
    from dfbench.probe import format_report
    from dfbench.probe import probe as run_probe

    report = run_probe(root, compression, splits, workers=workers,
                       progress=lambda i, n: _echo_err(f"features: {i}/{n} videos") if i % 100 == 0 or i == n else None)
    click.echo(json.dumps(report, indent=1) if as_json else format_report(report))
    if gate and not report["gates"]["ok"]:
        sys.exit(1)


@cli.command()
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="FF++ root. Default: the embedded synthetic set, generated once into the cache.")
@click.option("--compression", type=click.Choice(["raw", "c23", "c40"]), default="c40", show_default=True)
@click.option("--methods", multiple=True,
              help="Manipulations to include besides the real videos (repeat or comma-separate, DF/F2F/FS/NT "
                   "accepted). Default: the paper's four, those present.")
@click.option("--face-finder", default=None,
              help="dataset, face-alignment, dlib or opencv (or a plugin's). Default: chosen for the data, "
                   "as `dfbench run` does.")
@click.option("--size", "sizes", type=int, multiple=True,
              help="Crop size in pixels (repeat for several). Default: what `dfbench run` reads on this data "
                   "(every installed detector's crop size at the cpu size on synthetic data, paper size on FF++).")
@click.option("--shard", default="0/1", show_default=True,
              help="I/N: this task's share of the videos, e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT.")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Processes, each with its own face finder; the cores are shared out between them.")
@click.option("--cache", type=click.Path(path_type=Path), default=None,
              help="Crop cache. Default: $DFBENCH_CACHE or ~/.cache/dfbench.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def preprocess(data, compression, methods, face_finder, sizes, shard, workers, cache, as_json):
    """Find and follow every video's face and cache its crops, for every detector and protocol.

    \b
    Fills the cache `dfbench run` reads; cached videos are skipped, so an interrupted pass resumes.
    Exit status 1 when a video could not be used (each is named on stderr; `run` skips it too).
    Examples:
      dfbench preprocess --face-finder opencv --workers 2
      dfbench preprocess --data /data/ffpp --compression c40 --size 112 --size 299
      dfbench preprocess --data /data/ffpp --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT
    """
    from dfbench import preprocess as P

    opts = P.PreprocessOptions(
        data=data, compression=compression, face_finder=face_finder, sizes=tuple(sizes), workers=workers,
        methods=tuple(m.strip() for ms in methods for m in ms.split(",") if m.strip()) or None,
        shard=P.parse_shard(shard), cache=cache)
    bar = P.ProgressBar(sys.stderr)
    report = P.preprocess(opts, progress=bar, notice=bar.echo)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=1))
    else:
        click.echo(f"{report.videos} videos in shard {report.shard}: {report.done} preprocessed now "
                   f"({report.videos_per_second:.2f} videos/s, {report.workers} worker(s)), "
                   f"{report.cached} cached before, {len(report.failed)} failed; "
                   f"face finder {report.face_finder}, crops {', '.join(map(str, report.sizes))} px")
        for d in report.cache_dirs:
            click.echo(f"  {d}")
    if report.failed:
        sys.exit(1)


@cli.command()
@click.option("--results", type=click.Path(path_type=Path), default=Path("results"), show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write here instead of stdout.")
@click.option("--strict", is_flag=True, help="Exit 1 when any record was refused (it is still left out).")
def leaderboard(results, out, strict):
    """Render the leaderboard (Markdown) from stored results, beside the paper's numbers.

    \b
    Every record is checked first: its schema, its settings id, and its metrics recomputed from its
    per-video scores. A record that fails is left out with one warning line naming the file.
    """
    from dfbench.leaderboard import figures_beside, render_dir
    from dfbench.results import write_atomic

    if not Path(results).is_dir():
        raise DfbenchError(f"{results}: results folder not found; run `dfbench run` first or pass --results")
    warnings: list[str] = []
    figures = figures_beside(out) if out is not None else []  # dfbench analyze figures' output, linked
    text = render_dir(results, warn=warnings.append, figures=figures)
    for w in warnings:
        _echo_err(f"warning: {w}")
    if out is None:
        click.echo(text, nl=False)
    else:
        write_atomic(Path(out), text)
        _echo_err(f"wrote {out}")
    if strict and warnings:
        _echo_err(f"error: {len(warnings)} record(s) refused (--strict)")
        sys.exit(1)


@cli.command()
@click.argument("record_a", type=click.Path(path_type=Path))
@click.argument("record_b", type=click.Path(path_type=Path))
@click.option("--resamples", type=click.IntRange(min=100), default=2000, show_default=True,
              help="Paired pair-bootstrap resamples.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option("--method", default=None, help="Compare on the real videos and this manipulation's fakes only "
                                             "(a record's per-method AUC), e.g. Face2Face.")
@click.option("--json", "as_json", is_flag=True)
def compare(record_a, record_b, resamples, seed, method, as_json):
    """Is B's AUC different from A's on the same test videos? (paired pair bootstrap and DeLong)

    \b
    Both records are checked first (schema, settings id, metrics); records whose test videos
    differ are refused, saying how.
    Example:
      dfbench compare results/A.json results/B.json --json
      dfbench compare results/A.json results/B.json --method Face2Face
    """
    from dfbench.compare import compare as run_compare
    from dfbench.compare import format_comparison
    from dfbench.results import read_record

    a, b = read_record(record_a), read_record(record_b)
    result = run_compare(a.to_dict(), b.to_dict(), n_resamples=resamples, seed=seed, method=method)
    click.echo(json.dumps(result, indent=1) if as_json else format_comparison(result))


@cli.command("diff")
@click.argument("record_a", type=click.Path(path_type=Path))
@click.argument("record_b", type=click.Path(path_type=Path))
@click.option("--tolerance", type=click.FloatRange(min=0.0), default=0.0, show_default=True,
              help="Numbers within this absolute difference count as equal (0: identical, as a re-run "
                   "on the same kind of machine gives; GPUs may need about 1e-6).")
@click.option("--json", "as_json", is_flag=True)
def diff(record_a, record_b, tolerance, as_json):
    """Does record B (a re-run) reproduce record A? Exit 0 when it does, 1 when not, 2 when a record is refused.

    \b
    Every difference is sorted into settings (what was asked), evidence (each test video's score,
    the metrics, the training history) and provenance (created, git revision, timings, paths:
    expected to differ). Settings that differ only in code hashes make a re-run under changed
    code; it reproduces A when its evidence is identical. Both records are checked first. Two
    folders: their records are paired by run (protocol, detector, size, data, seed), one line each.
    Example:
      dfbench diff leaderboard/results/A.json results/A.json
      dfbench diff leaderboard/results results
    """
    from dfbench.record_diff import REPRODUCED, diff_folders, diff_records, format_diff, format_folders
    from dfbench.results import read_record

    if record_a.is_dir() and record_b.is_dir():
        result = diff_folders(record_a, record_b, lambda p: read_record(p).to_dict(), tolerance=tolerance)
        click.echo(json.dumps(result, indent=1) if as_json else format_folders(result))
        if not result["ok"]:
            sys.exit(1)
        return
    a, b = read_record(record_a), read_record(record_b)
    result = diff_records(a.to_dict(), b.to_dict(), tolerance=tolerance)
    click.echo(json.dumps(result, indent=1) if as_json else format_diff(result, record_a.name, record_b.name))
    if result["verdict"] not in REPRODUCED:
        sys.exit(1)


@cli.command()
@click.argument("record", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="The record's dataset. Default: the folder it names, when it is here, else the embedded set.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("rerun"), show_default=True,
              help="Folder for the new record; must not hold the record already.")
@click.option("--work-dir", type=click.Path(path_type=Path), default=Path("work_dirs"), show_default=True)
@click.option("--cache", type=click.Path(path_type=Path), default=None,
              help="Crop and synthetic-data cache. Default: $DFBENCH_CACHE or ~/.cache/dfbench.")
@click.option("--pretrained", default=None, help="The starting weights' file, when the record's are elsewhere "
                                                 "(their sha256 must be the record's).")
@click.option("--trained", "trained_record", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              default=None, help="An evaluation record's training record. Default: the one in --output (a re-run), "
                                 "else the one beside the record.")
@click.option("--dry-run", is_flag=True, help="Check that this machine would run what the record ran; train nothing.")
@click.option("--json", "as_json", is_flag=True)
def rerun(record, data, output, work_dir, cache, pretrained, trained_record, dry_run, as_json):
    """Train a record's run again, exactly as recorded, and say whether it reproduces (as `dfbench diff`).

    \b
    The options come from the record's settings; the plan is checked against them before any
    training (only code hashes may differ). An evaluation record (cross-dataset, ...) is scored
    again with the model it scored (its weights' hash is checked first), never retrained.
    Exit 0 when the new record reproduces the old one, 1 when not, 2 when the run cannot be
    repeated here (the one line says why).
    Example:
      dfbench rerun leaderboard/results/ffpp-lq-all__all__resnext3d_nl__...json --output rerun
      dfbench rerun leaderboard/results/ffpp-lq-cross-dataset__dfd__resnext3d_nl__...json --output rerun
      dfbench diff leaderboard/results rerun
    """
    from dfbench.record_diff import REPRODUCED, format_diff
    from dfbench.rerun import options_for, plan, rerun_evaluation
    from dfbench.rerun import rerun as run_again
    from dfbench.results import read_record

    raw = read_record(record).to_dict()
    if raw.get("trained"):  # an evaluation record: scored again, with the model it scored
        with contextlib.redirect_stdout(sys.stderr):
            path, result = rerun_evaluation(raw, record, data=data, output=output, work_dir=work_dir, cache=cache,
                                            trained_record=trained_record, dry_run=dry_run, progress=_echo_err)
        if dry_run:
            click.echo(json.dumps({"trained": str(path)}) if as_json else
                       f"would re-score {raw['run']} of {raw['detector']} with the model of {path} (its weights are "
                       f"the record's) into {output / record.name}")
            return
    else:
        opts = options_for(raw, data=data, output=output, work_dir=work_dir, cache=cache, pretrained=pretrained)
        if dry_run:
            planned = plan(raw, opts)
            click.echo(json.dumps(planned["settings"], indent=1) if as_json else
                       f"would re-run {planned['name']} of {opts.detector} (settings {planned['settings_id']}, "
                       f"the record's {raw['settings_id']}) into {planned['record']}")
            return
        with contextlib.redirect_stdout(sys.stderr):
            path, result = run_again(raw, opts, progress=_echo_err)
    click.echo(json.dumps({"record": str(path), **result}, indent=1) if as_json
               else format_diff(result, record.name, path.name))
    if result["verdict"] not in REPRODUCED:
        sys.exit(1)


@cli.command()
@click.argument("videos", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--record", "record", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="A result record (results/*.json): its detector, size, weights and preprocessing are used.")
@_record_folders
@click.option("--face-finder", default=None,
              help="Another face finder than the record's (say, opencv for videos with no box files); the "
                   "preprocessing then differs from the record's and a warning says so.")
@click.option("--json", "as_json", is_flag=True, help='A list of {"video", "score", "trunks", "frames", "face_found"}.')
def score(videos, record, work_dir, cache, face_finder, as_json):
    """Score any video with a trained detector: its fake probability and per-trunk scores.

    \b
    The video goes through exactly the record's preprocessing (face finder and tracking, 1.3x
    crop at the record's size, trunks of the record's length). A video that cannot be scored is
    one line on stderr; the others go on; the exit status is 1 if any failed.
    Example:
      dfbench score clip.mp4 other.mp4 --record results/ffpp-lq-all__all__resnet3d__...json --face-finder opencv
    """
    from dfbench.cache import cache_root
    from dfbench.scoring import score_videos
    from dfbench.trained import load

    trained = load(record, work_dir, warn=_echo_err)
    if face_finder and face_finder != trained.face_finder:
        from dfbench import plugins

        plugins.get_face_finder(face_finder)  # an unknown name is one line now, not once per video
        _echo_err(f"warning: faces found with {face_finder}, not the record's {trained.face_finder}: "
                  "preprocessing differs from the record's")
    verdicts = score_videos(trained, videos, cache_root(cache), finder=face_finder, progress=_echo_err)
    for v in verdicts:
        if v.error:
            _echo_err(f"error: {v.error}")
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in verdicts], indent=1))
    else:
        for v in verdicts:
            if v.error is None:
                click.echo(v.line())
    if any(v.error for v in verdicts):
        sys.exit(1)


@cli.command()
@click.option("--record", "record", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="A result record: its detector, size, weights and preprocessing are used.")
@click.option("--video", required=True, type=click.Path(path_type=Path), help="The video to explain.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for the strip, heatmaps and summary.")
@_record_folders
@click.option("--face-finder", default=None, help="Another face finder than the record's (a warning says so).")
@click.option("--real", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="The real video the fake was made from (pixel-aligned), for the ground-truth check. "
                   "Default: found by FF++'s layout when the video is in it.")
@click.option("--mp4", is_flag=True, help="Also write every frame's overlay as gradcam.mp4.")
@click.option("--layer", default=None, help=LAYER_HELP)
@click.option("--json", "as_json", is_flag=True)
def explain(record, video, out, work_dir, cache, face_finder, real, mp4, layer, as_json):
    """Grad-CAM heatmaps of a trained detector on one video (the paper's Fig. 7).

    \b
    Writes OUT/gradcam_strip.png (five frames 24 apart), OUT/heatmaps.npy (every frame),
    OUT/explanation.json and, with --mp4, OUT/gradcam.mp4. Where the manipulated region is known
    (a synthetic fake and its real video), the summary says how much heatmap mass falls in it
    against a uniform map (energy-in-mask) and the pointing game.
    Example:
      dfbench explain --record results/ffpp-lq-all__all__resnet3d__...json --video fake.mp4 --out gradcam/
    """
    from dfbench.cache import cache_root
    from dfbench.explain import explain as run_explain
    from dfbench.trained import load

    trained = load(record, work_dir, warn=_echo_err)
    if face_finder and face_finder != trained.face_finder:
        _echo_err(f"warning: faces found with {face_finder}, not the record's {trained.face_finder}: "
                  "preprocessing differs from the record's")
    summary = run_explain(trained, video, out, cache_root(cache), finder=face_finder, real=real, mp4=mp4, layer=layer,
                          progress=_echo_err)
    if as_json:
        click.echo(json.dumps(summary, indent=1))
        return
    click.echo(f"{out}: Grad-CAM of {summary['detector']} on {summary['layer']}, {summary['frames']} frames, "
               f"strip of frames {', '.join(map(str, summary['strip_frames']))}")
    gt = summary.get("ground_truth")
    if gt and gt.get("frames"):
        click.echo(f"in the manipulated region: {gt['energy_in_mask']:.1%} of the heatmap mass (a uniform map: "
                   f"{gt['uniform_baseline']:.1%}, x{gt['energy_over_baseline']:.2f}); pointing game "
                   f"{gt['pointing_game']:.1%} of {gt['frames']} frames")


@cli.group()
def analyze():
    """The paper's analysis from stored records: ROC curves, feature correlation, the leaderboard's figures."""


@analyze.command("roc")
@click.argument("records", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The figure: .png, .svg or .pdf.")
@click.option("--title", default=None, help="Default: says the data and model size.")
def roc(records, out, title):
    """ROC curves of RECORDS in one figure, from their stored per-video test scores (no rescoring).

    \b
    Each record is checked first (schema, settings id, metrics). The legend gives each record's
    AUC and its stored 95% pair-bootstrap interval.
    Example:
      dfbench analyze roc results/ffpp-lq-all__all__resnet3d__*.json results/*__resnet3d_se__*.json --out roc.png
    """
    from dfbench.results import read_record
    from dfbench.roc_plot import plot

    plot([read_record(r) for r in records], out, title)
    _echo_err(f"wrote {out}")


@analyze.command("correlation")
@click.option("--record", "records", multiple=True, required=True,
              type=click.Path(path_type=Path, exists=True, dir_okay=False), help="A record (repeat for several).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the figure, matrices, summary.")
@_record_folders
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="The records' dataset root, where it is not where the records say.")
@click.option("--json", "as_json", is_flag=True)
def correlation(records, out, work_dir, cache, data, as_json):
    """Feature correlation matrices (the paper's §5.4), one per record, and their mean |r| off the diagonal.

    \b
    The features: the last convolutional stage's activations, averaged over time and space, for
    each of the record's test clips; the matrix: Pearson correlation between channels
    (docs/analysis.md). Writes OUT/correlation.png, .json and .npz.
    Example:
      dfbench analyze correlation --record results/A.json --record results/B.json --out corr/
    """
    from dfbench.cache import cache_root
    from dfbench.correlation import analyze as run_analyze
    from dfbench.trained import load

    trained = [load(r, work_dir, warn=_echo_err) for r in records]
    summary = run_analyze(trained, out, cache_root(cache), data=data, progress=_echo_err)
    if as_json:
        click.echo(json.dumps(summary, indent=1))
        return
    for m in summary["models"]:
        click.echo(f"{m['detector']} ({m['run']}), {m['layer']}: mean |r| off-diagonal {m['mean_abs_offdiag']:.3f} "
                   f"({m['channels'] - m['dead_channels']} of {m['channels']} channels vary, {m['inputs']} inputs)")


@analyze.command("gradcam")
@click.option("--record", "record", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@_record_folders
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="The record's dataset root, where it is not where the record says.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the summary (JSON) here too.")
@click.option("--layer", default=None, help=LAYER_HELP)
@click.option("--json", "as_json", is_flag=True)
def gradcam(record, work_dir, cache, data, out, layer, as_json):
    """Does the detector look at the fake? Grad-CAM energy in the manipulated region over all fake test videos.

    \b
    For every fake test video of the record whose real video is present (synthetic data), the
    share of Grad-CAM mass inside the manipulated region against a uniform map's share; the
    ratio of their means with a 95% pair-bootstrap interval, and the pointing game.
    Example:
      dfbench analyze gradcam --record results/ffpp-lq-all__all__resnet3d_nl__...json
    """
    from dfbench.cache import cache_root
    from dfbench.explain import energy_over_test_fakes
    from dfbench.results import write_atomic
    from dfbench.trained import load

    summary = energy_over_test_fakes(load(record, work_dir, warn=_echo_err), cache_root(cache), data=data,
                                     layer=layer, progress=_echo_err)
    if out is not None:
        write_atomic(Path(out), json.dumps(summary, indent=1) + "\n")
    if as_json:
        click.echo(json.dumps(summary, indent=1))
        return
    lo, hi = summary["energy_over_baseline_ci95"]
    click.echo(f"{summary['detector']} ({summary['layer']}), {summary['videos']} fake test videos: "
               f"{summary['energy_in_mask']:.1%} of the Grad-CAM mass in the manipulated region, a uniform map "
               f"{summary['uniform_baseline']:.1%}: x{summary['energy_over_baseline']:.2f} [{lo:.2f}, {hi:.2f}]; "
               f"pointing game {summary['pointing_game']:.1%}")


@analyze.command("figures")
@click.option("--results", type=click.Path(path_type=Path, exists=True, file_okay=False),
              default=Path("leaderboard/results"), show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("leaderboard/figures"), show_default=True)
@_record_folders
def figures(results, out, work_dir, cache):
    """The leaderboard's figures: ROC of every `all` record, Grad-CAM strips and correlation of 3D ResNet,
    +SE and +non-local on the same fake video (the paper's Figs. 5-7)."""
    from dfbench.cache import cache_root
    from dfbench.figures import make

    for path in make(results, out, work_dir, cache_root(cache), progress=_echo_err):
        click.echo(str(path))


def main(argv=None):
    """Entry point: a DfbenchError becomes one line on stderr and exit status 2."""
    try:
        cli.main(args=argv, prog_name="dfbench", standalone_mode=False)
    except DfbenchError as e:
        _echo_err(f"error: {e}")
        sys.exit(e.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _exit_interrupted()
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            _echo_err(f"error: disk full{' writing ' + str(e.filename) if e.filename else ''}; free space and run "
                      "the same command again (finished runs are saved)")
            sys.exit(1)
        if not _interrupted(e):
            raise
        _exit_interrupted()
    except Exception as e:
        if not _interrupted(e):
            raise
        _exit_interrupted()


def _exit_interrupted():
    _echo_err("interrupted: finished runs are saved; run the same command again to resume")
    sys.exit(130)


def _interrupted(e: BaseException) -> bool:
    """Whether ``e`` was raised while handling Ctrl-C: a library's bare ``except:`` can turn the
    KeyboardInterrupt into another error (MMEngine's config formatter raises SyntaxError)."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False
