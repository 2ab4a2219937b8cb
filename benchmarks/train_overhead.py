"""Training overhead: dfbench's ``fit`` against a bare MMEngine loop on the same model and data.

All sides train the same cpu-size detector (default ``resnext3d_nl``) from the same seed on the
same face-crop clips of a synthetic FF++ set (``dfbench.synth.generate``, cropped once through
``dfbench.crops.CropCache``, split and labelled by ``dfbench.engine.prepare`` for protocol
``all``), for the same epochs:

* dfbench: ``MMActionDetector.fit`` exactly as ``dfbench run`` calls it: it writes the annotation
  files, builds the config with the run's decisions, builds MMEngine's ``Runner``, trains with
  validation (video AUC) after every epoch, keeps the last and the best checkpoint, records the
  validation history (``ValHistoryHook``) and returns its fit report.
* bare: ``Runner.from_cfg`` on a config holding only the model, the training dataloader, the
  optimiser, the schedule and the seed from the same config, with MMEngine's default hooks (they
  save a checkpoint every epoch) and no validation. Annotation files are written before timing.
* bare + val: the bare loop plus the same validation loop (dataloader, ``ValLoop``, the
  ``VideoAUCMetric`` evaluator): the same work as dfbench's fit, so their ratio is dfbench's own
  bookkeeping.

The memory layout is part of the model on every side: the config's ``ChannelsLast3dHook`` is kept
in the bare loops (a layout, not bookkeeping; without it the bare loop would be slower, not
leaner). Each timed run is from call to return (Runner construction included), after one untimed
warm-up run; runs alternate dfbench, bare, bare + val so load drift hits all alike. The median and
the best (fastest, least disturbed by other jobs) of the runs are both reported. The final
weights of dfbench and the bare loop are compared: same seed, same data order, so they should
match, which shows both sides did the same training.

Run: ``.venv/bin/python benchmarks/train_overhead.py`` (about 4-6 minutes on 2 cores); ``--help``
for options. See docs/benchmarks.md for the numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tabulate import tabulate

from dfbench import engine, plugins
from dfbench.crops import CropCache
from dfbench.detector import FitConfig, VideoRef


def make_data(root: Path, args) -> Path:
    from dfbench.synth import generate

    print(f"generating a synthetic set ({sum(args.pairs)} pairs, {args.frames} frames a video)", flush=True)
    t0 = time.perf_counter()
    generate(root, seed=0, compression="c40", pairs=tuple(args.pairs), num_frames=args.frames)
    print(f"generated in {time.perf_counter() - t0:.1f} s", flush=True)
    return root


def video_refs(data: Path, cache_dir: Path, detector: str, size: str) -> tuple[list[VideoRef], list[VideoRef], int]:
    """Train and val VideoRefs of protocol ``all`` as the engine plans and crops them; and the trunk length."""
    prepared = engine.prepare(engine.RunOptions(detector=detector, protocol="all", data=data, size=size))
    plan = prepared.plans[0]
    crop_size = prepared.detector.meta.sizes[size].crop_size
    cache = CropCache(cache_dir, prepared.dataset.path, engine.choose_face_finder(
        engine.RunOptions(detector=detector, protocol="all", data=data), prepared.dataset, prepared.compression),
        size=crop_size)

    def refs(videos):
        out = []
        for v in videos:
            c = cache.get(v.path)
            out.append(VideoRef(v.key, v.label, v.method, c.path, c.num_frames))
        return out

    return refs(plan.train), refs(plan.val), prepared.protocol.trunk_len


def fit_config(work_dir: Path, args, train, trunk_len: int, spec) -> FitConfig:
    s = spec.meta.sizes[args.size]
    return FitConfig(work_dir=work_dir, seed=args.seed, size=args.size, clip_len=s.clip_len, crop_size=s.crop_size,
                     class_weights=engine.class_weights(train), trunk_len=trunk_len, epochs=args.epochs,
                     log_level="WARNING")


def bare_config(cfg, work_dir: Path, with_val: bool):
    """Only what a bare MMEngine training loop needs, taken from dfbench's config for the same run."""
    from mmengine.config import Config

    keep = dict(
        default_scope=cfg.default_scope, custom_imports=cfg.custom_imports, model=cfg.model,
        train_dataloader=cfg.train_dataloader, train_cfg=cfg.train_cfg, optim_wrapper=cfg.optim_wrapper,
        param_scheduler=cfg.get("param_scheduler", []), randomness=cfg.randomness, env_cfg=cfg.env_cfg,
        log_level=cfg.log_level, work_dir=str(work_dir),
        experiment_name=f"bare_{uuid.uuid4().hex[:8]}",
        # the compute layout stays (see the module docstring); dfbench's ValHistoryHook does not
        custom_hooks=[h for h in cfg.get("custom_hooks", []) if h.get("type") == "ChannelsLast3dHook"],
    )
    if with_val:
        keep.update(val_dataloader=cfg.val_dataloader, val_cfg=cfg.val_cfg, val_evaluator=cfg.val_evaluator)
    return Config(keep)


def run_dfbench(spec, args, train, val, trunk_len, work_dir: Path) -> float:
    detector = spec.create(args.size)
    config = fit_config(work_dir, args, train, trunk_len, spec)
    t0 = time.perf_counter()
    detector.fit(train, val, config)
    return time.perf_counter() - t0


def run_bare(spec, args, train, val, trunk_len, work_dir: Path, with_val: bool) -> float:
    from mmengine.runner import Runner

    from dfbench_mmaction.data import write_annotations

    config = fit_config(work_dir, args, train, trunk_len, spec)
    cfg = spec.create(args.size).config(config)  # the same model, data and schedule dfbench would run
    write_annotations(train, cfg.train_dataloader.dataset.ann_file)  # before timing: not the loop's work
    write_annotations(val, cfg.val_dataloader.dataset.ann_file)
    bare = bare_config(cfg, work_dir, with_val)
    t0 = time.perf_counter()
    runner = Runner.from_cfg(bare)
    runner.train()
    return time.perf_counter() - t0


def final_weights_match(a: Path, b: Path, epochs: int) -> float:
    """Largest absolute difference between the two runs' last checkpoints' weights."""
    from dfbench_mmaction.checkpoints import load_run_checkpoint

    sa = load_run_checkpoint(a / f"epoch_{epochs}.pth", a)["state_dict"]
    sb = load_run_checkpoint(b / f"epoch_{epochs}.pth", b)["state_dict"]
    assert sa.keys() == sb.keys()
    return max(float((sa[k].float() - sb[k].float()).abs().max()) if sa[k].numel() else 0.0 for k in sa)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="example: .venv/bin/python benchmarks/train_overhead.py --epochs 2 --repeats 3")
    p.add_argument("--detector", default="resnext3d_nl")
    p.add_argument("--size", default="cpu", choices=("cpu", "paper"))
    p.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2)")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed runs per side; the median and the best are reported (default 3)")
    p.add_argument("--pairs", type=int, nargs=3, default=(6, 2, 1), metavar=("TRAIN", "VAL", "TEST"),
                   help="pairs of the generated set (default 6 2 1: 60 training and 20 validation videos)")
    p.add_argument("--frames", type=int, default=32, help="frames per generated video (default 32)")
    p.add_argument("--data", type=Path, default=None, help="an FF++-layout root instead of a generated set")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if min(args.epochs, args.repeats, *args.pairs, args.frames) < 1:
        p.error("--epochs, --repeats, --pairs and --frames must be at least 1")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    spec = plugins.get_detector(args.detector)
    with tempfile.TemporaryDirectory(prefix="dfbench-overhead-") as tmp:
        tmp = Path(tmp)
        data = args.data or make_data(tmp / "data", args)
        t0 = time.perf_counter()
        train, val, trunk_len = video_refs(data, tmp / "cache", args.detector, args.size)
        print(f"cropped {len(train)} training and {len(val)} validation videos in {time.perf_counter() - t0:.1f} s",
              flush=True)
        sides = {
            "dfbench fit (train + val + checkpoints + report)":
                lambda wd: run_dfbench(spec, args, train, val, trunk_len, wd),
            "bare MMEngine loop (train only)":
                lambda wd: run_bare(spec, args, train, val, trunk_len, wd, with_val=False),
            "bare MMEngine loop + the same validation":
                lambda wd: run_bare(spec, args, train, val, trunk_len, wd, with_val=True),
        }
        names = list(sides)
        # MMEngine and the training framework log to stdout; keep this script's own lines readable.
        with contextlib.redirect_stdout(sys.stderr):
            print("warm-up run (untimed)", file=sys.__stdout__, flush=True)
            sides[names[1]](tmp / "warmup")
            seconds = {n: [] for n in names}
            dirs = {}
            for r in range(args.repeats):
                for i, n in enumerate(names):
                    dirs[n] = tmp / f"run{r}_{i}"
                    seconds[n].append(sides[n](dirs[n]))
                    print(f"repeat {r + 1}/{args.repeats}: {n}: {seconds[n][-1]:.2f} s", file=sys.__stdout__,
                          flush=True)
        diff = final_weights_match(dirs[names[0]], dirs[names[1]], args.epochs)

    med = {n: statistics.median(v) for n, v in seconds.items()}
    best = {n: min(v) for n, v in seconds.items()}
    print()
    print(f"{args.detector} ({args.size}), {args.epochs} epochs of {len(train)} training videos "
          f"(one clip each per epoch), {len(val)} validation videos, seed {args.seed}; {args.repeats} runs a side; "
          f"load average {load_average()} (1/5/15 min)")
    rows = [(n, f"{med[n]:.2f}", f"{best[n]:.2f}", f"{med[n] / args.epochs:.2f}", f"{med[n] / med[names[1]]:.2f}x",
             f"{best[n] / best[names[1]]:.2f}x") for n in names]
    print(tabulate(rows, headers=("side", "median s", "best s", "median s/epoch", "vs bare (median)",
                                  "vs bare (best)"),
                   tablefmt="github", disable_numparse=True,
                   colalign=("left", "right", "right", "right", "right", "right")))
    print(f"final weights, dfbench vs bare: max |difference| {diff:.3g} (0 = the same training)")
    for label, t in (("median", med), ("best", best)):
        print(f"headline ({label} run): dfbench's fit takes {t[names[0]] / t[names[1]]:.2f}x the bare MMEngine "
              f"training loop, {t[names[0]] / t[names[2]]:.2f}x the bare loop with the same validation "
              "(dfbench's own bookkeeping)")


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


if __name__ == "__main__":
    main()
