"""The leaderboard's figures (``dfbench analyze figures``, ``make figures``): the paper's Figs. 5-7 from stored records.

- ``roc_all.png``: ROC curves of every detector's newest ``all`` record (seed 0), from stored scores;
- ``gradcam_<detector>.png`` for 3D ResNet, +SE and +non-local (the paper's Fig. 7 models) on the
  same fake test video, and ``gradcam.json`` with each one's energy-in-mask and pointing game;
- ``correlation.png`` / ``.json`` / ``.npz``: their feature correlation matrices (§5.4);
- ``robustness.png``, where ``robustness`` records exist: AUC against perturbation level
  (:mod:`dfbench.robustness_plot`).

Grad-CAM and correlation need each record's trained checkpoint under ``--work-dir``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from dfbench.errors import DfbenchError
from dfbench.layout import video_path
from dfbench.provenance import expand_path
from dfbench.results import read_record, write_atomic

PAPER_MODELS = ("resnet3d", "resnet3d_se", "resnet3d_nl")  # Figs. 6 and 7 compare these three
RUN = "all"


def newest_records(results_dir: Path, warn: Callable[[str], None]) -> dict[str, Path]:
    """The newest valid seed-0 record of run ``all`` per detector: {detector: path}."""
    found: dict[str, tuple[str, Path]] = {}
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            r = read_record(path)
        except DfbenchError as e:
            warn(f"warning: {e}")
            continue
        if r.run == RUN and r.seed == 0 and (r.detector not in found or r.created > found[r.detector][0]):
            found[r.detector] = (r.created, path)
    return {d: p for d, (_, p) in sorted(found.items())}


def make(results_dir: Path, out_dir: Path, work_root: Path, cache_root: Path, *,
         progress: Callable[[str], None] = lambda _: None) -> list[Path]:
    """Write every figure into ``out_dir``; returns the files written."""
    from dfbench.correlation import analyze
    from dfbench.explain import explain
    from dfbench.roc_plot import plot
    from dfbench.trained import load

    records = newest_records(results_dir, progress)
    if not records:
        raise DfbenchError(f"{results_dir}: no valid record of run {RUN!r}; run `dfbench run --protocol all` first")
    out_dir = Path(out_dir)
    written = [plot([read_record(p) for p in records.values()], out_dir / "roc_all.png")]
    written += robustness_figure(results_dir, out_dir, progress)
    models = [m for m in PAPER_MODELS if m in records]
    if not models:
        raise DfbenchError(f"{results_dir}: no {RUN!r} record of {', '.join(PAPER_MODELS)}; Grad-CAM and correlation "
                           "figures compare these")
    if len(models) < len(PAPER_MODELS):  # the figures compare the ones measured, and say which are missing
        progress(f"warning: no {RUN!r} record of {', '.join(m for m in PAPER_MODELS if m not in records)}: "
                 f"Grad-CAM and correlation figures of {', '.join(models)} only")
    trained = [load(records[m], work_root) for m in models]
    first = trained[0].record
    fake = next(v for v in sorted(first.videos, key=lambda v: v.key) if v.label == 1)
    root = expand_path(first.dataset.root, roots={"$DFBENCH_CACHE": cache_root})
    method, name = fake.key.split("/", 1)
    video = video_path(root, method, first.dataset.compression, name)
    summaries = []
    for t in trained:
        with tempfile.TemporaryDirectory(prefix="dfbench-gradcam-") as tmp:
            summary = explain(t, video, Path(tmp), cache_root, progress=progress)
            strip = out_dir / f"gradcam_{t.record.detector}.png"
            write_atomic(strip, (Path(tmp) / "gradcam_strip.png").read_bytes())
        summary["video"] = fake.key  # the key, not a machine path
        summary.get("ground_truth", {}).pop("real_video", None)
        summaries.append(summary)
        written.append(strip)
    write_atomic(out_dir / "gradcam.json", json.dumps(summaries, indent=1) + "\n")
    analyze(trained, out_dir, cache_root, progress=progress)
    return written + [out_dir / n for n in ("gradcam.json", "correlation.png", "correlation.json", "correlation.npz")]


def robustness_figure(results_dir: Path, out_dir: Path, warn: Callable[[str], None]) -> list[Path]:
    """``robustness.png`` from the newest robustness records of each training run; nothing when there are none."""
    from dfbench.leaderboard import latest
    from dfbench.results import load_all
    from dfbench.robustness_plot import plot

    records = load_all(results_dir, warn=lambda line: warn(f"warning: {line}"))
    shown, _ = latest(records)
    robust = [r for r in shown if r.protocol_kind == "robustness"]
    if not robust:
        return []
    return [plot(robust, Path(out_dir) / "robustness.png", clean={r.file_name: r for r in records})]
