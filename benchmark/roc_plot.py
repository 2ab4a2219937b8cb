"""ROC curves from stored records (the paper's Fig. 5): one curve per record, recomputed from its per-video scores.

Nothing is retrained or rescored: each record's test videos and scores give the curve (scikit-learn's
``roc_curve``) and the legend shows the record's AUC with its stored 95% interval, so the figure
agrees with the leaderboard by construction.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from dfbench.errors import DfbenchError
from dfbench.results import RunResult, write_atomic


def pyplot():
    """matplotlib's pyplot drawing to files only (no display), or a one-line error naming the extra to install."""
    try:
        import matplotlib
    except ImportError:
        raise DfbenchError("dfbench analyze needs matplotlib: pip install 'dfbench[analysis]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def curve(record: RunResult) -> tuple[np.ndarray, np.ndarray, float]:
    """(false positive rates, true positive rates, AUC) of one record's test videos."""
    labels = [v.label for v in record.videos]
    scores = [v.score for v in record.videos]
    fpr, tpr, _ = roc_curve(labels, scores)
    return fpr, tpr, float(roc_auc_score(labels, scores))


def label(record: RunResult) -> str:
    """``resnet3d_se (all): AUC 0.912 [0.87, 0.95]``: the legend entry of one record."""
    m = record.metrics
    ci = m.get("auc_ci95")
    interval = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
    seed = f", seed {record.seed}" if record.seed else ""
    return f"{record.detector} ({record.run}{seed}): AUC {m['auc']:.3f}{interval}"


def plot(records: Sequence[RunResult], out: Path, title: str | None = None) -> Path:
    """Draw every record's ROC curve in one figure and write it (PNG, SVG or PDF by the suffix)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=120)
    for r in records:
        fpr, tpr, _ = curve(r)
        ax.plot(fpr, tpr, lw=1.6, label=label(r))
    ax.plot([0, 1], [0, 1], ls="--", lw=0.8, color="grey", label="chance")
    data = sorted({f"{r.dataset.kind} {r.dataset.compression}, {r.size} size" for r in records})
    ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01),
           title=title or f"ROC, video level ({'; '.join(data)})")
    ax.legend(loc="lower right", fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, format=out.suffix.lstrip(".").lower() or "png")
    plt.close(fig)
    write_atomic(out, buf.getvalue())
    return out
