"""AUC against perturbation level, from stored ``robustness`` records (the leaderboard's robustness figure).

One panel per perturbation type (DeeperForensics-1.0's seven, then the QP sweep), levels mildest to
harshest along x, one line per training run with each level's 95% pair-bootstrap interval as
error bars, and the run's own (unperturbed) test AUC as a dotted line. Nothing is rescored.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from dfbench.board_unseen import PERTURBATION_ORDER, training_of
from dfbench.results import RunResult, write_atomic
from dfbench.roc_plot import pyplot


def plot(records: Sequence[RunResult], out: Path, clean: dict[str, RunResult] | None = None) -> Path:
    """Draw ``records`` (robustness records) and write the figure; ``clean`` maps training record file
    names to the training records, for their unperturbed AUC."""
    from dfbench.perturb import TYPES

    plt = pyplot()
    by_run: dict[tuple, dict[str, list[RunResult]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        p = r.settings.get("perturbation") or {}
        by_run[training_of(r)][p.get("type")].append(r)
    types = [t for t in PERTURBATION_ORDER if any(t in runs for runs in by_run.values())]
    cols = 4
    rows = max(1, -(-len(types) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.7 * rows), dpi=110, squeeze=False)
    for ax, t in zip(axes.flat, types):
        for key, runs in sorted(by_run.items()):
            recs = sorted(runs.get(t, []), key=lambda r: TYPES[t].levels.index(r.settings["perturbation"]["level"])
                          if r.settings["perturbation"]["level"] in TYPES[t].levels else 99)
            if not recs:
                continue
            x = list(range(1, len(recs) + 1))
            auc = [r.metrics["auc"] for r in recs]
            ci = [r.metrics.get("auc_ci95") or [a, a] for r, a in zip(recs, auc)]
            err = [[a - c[0] for a, c in zip(auc, ci)], [c[1] - a for a, c in zip(auc, ci)]]
            line = ax.errorbar(x, auc, yerr=err, marker="o", ms=3, lw=1.3, capsize=2, label=key[0])
            own = (clean or {}).get((recs[0].trained or {}).get("record", ""))
            if own is not None and own.metrics.get("auc") is not None:
                ax.axhline(own.metrics["auc"], ls=":", lw=1, color=line[0].get_color())
            ax.set_xticks(x, [f"{r.settings['perturbation']['level']:g}" for r in recs], fontsize=7)
        ax.set_title(f"{t} ({TYPES[t].code})", fontsize=9)
        ax.set_ylim(0.4, 1.02)
        ax.axhline(0.5, ls="--", lw=0.6, color="grey")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(types):]:
        ax.axis("off")
    axes.flat[0].set_ylabel("video AUC")
    axes.flat[0].legend(fontsize=6, loc="lower left")
    data = sorted({f"{r.dataset.kind} {r.dataset.compression}, {r.size} size" for r in records})
    fig.suptitle(f"AUC against perturbation level (dotted: unperturbed; {'; '.join(data)})", fontsize=10)
    fig.tight_layout()
    out = Path(out)
    buf = io.BytesIO()
    fig.savefig(buf, format=out.suffix.lstrip(".").lower() or "png")
    plt.close(fig)
    write_atomic(out, buf.getvalue())
    return out
