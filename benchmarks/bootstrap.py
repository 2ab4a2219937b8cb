"""Pair-clustered bootstrap: dfbench's vectorised resampler against a naive per-resample loop.

Both sides compute the same thing on the same resamples (``dfbench.uncertainty.draw_pairs``: the
same pairs drawn, so the same resampled videos) for an FF++-sized test set:

* baseline: the obvious loop, one resample at a time: gather the drawn pairs' videos, then
  scikit-learn's ``roc_auc_score``, ``accuracy_score`` at 0.5, ``roc_curve`` with dfbench's
  ``equal_error_rate``, and ``average_precision_score``;
* dfbench: ``pair_bootstrap``, which sorts the scores once and computes every resample from the
  pairs' multiplicities, in matrix form (``dfbench.uncertainty.bootstrap_distribution``).

Printed: each side's time for AUC alone and for AUC + TCR + EER + AP, the ratio, and the largest
difference between the two sides' per-resample values (float rounding only) and intervals.

The test set: the official FF++ test split's 70 pairs; per pair its 2 real videos and, for each of
the 4 methods, its 2 fakes: 140 real + 560 fake videos. Scores are a logistic model with a
per-pair effect (videos of a pair are alike, which is why the pair is the resampling unit).

Run: ``.venv/bin/python benchmarks/bootstrap.py [--resamples 2000] [--repeats 3] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from dfbench.layout import METHODS
from dfbench.metrics import THRESHOLD, equal_error_rate
from dfbench.splits import official
from dfbench.uncertainty import BOOTSTRAP_STATS, bootstrap_distribution, cluster_index, draw_pairs

GOAL_SECONDS = 2.0  # AUC + TCR + EER + AP, 2,000 resamples, FF++ test size, 2 CPU cores


def ffpp_test_scores(seed: int = 0):
    """Labels, scores and pair ids of a synthetic FF++ test set (140 real + 560 fake videos)."""
    rng = np.random.default_rng(seed)
    labels, scores, pairs = [], [], []
    for a, b in official()["test"]:
        effect = rng.normal(0.0, 0.7)  # shared by every video of the pair
        for label, count in ((0, 2), (1, 2 * len(METHODS))):
            logits = effect + (1.2 if label else -1.2) + rng.normal(0.0, 1.0, count)
            labels += [label] * count
            scores += (1 / (1 + np.exp(-logits))).tolist()
            pairs += [f"{a}_{b}"] * count
    return np.array(labels), np.array(scores), pairs


def naive(labels, scores, pairs, stats, n_resamples: int, seed: int) -> dict[str, np.ndarray]:
    """The baseline: the same resamples, one at a time, each metric from scikit-learn."""
    from sklearn.metrics import accuracy_score, average_precision_score, roc_auc_score, roc_curve

    cl, k = cluster_index(pairs)
    members = [np.flatnonzero(cl == j) for j in range(k)]
    out: dict[str, list[float]] = {s: [] for s in stats}
    for drawn in draw_pairs(k, n_resamples, seed):
        idx = np.concatenate([members[j] for j in drawn])
        y, s = labels[idx], scores[idx]
        if y.min() == y.max():
            continue  # one class only: dropped, as by dfbench
        if "auc" in stats:
            out["auc"].append(roc_auc_score(y, s))
        if "tcr" in stats:
            out["tcr"].append(accuracy_score(y, s >= THRESHOLD))
        if "eer" in stats:
            fpr, tpr, _ = roc_curve(y, s)
            out["eer"].append(equal_error_rate(fpr, tpr))
        if "ap" in stats:
            out["ap"].append(average_precision_score(y, s))
    return {s: np.array(v) for s, v in out.items()}


def timed(fn, repeats: int):
    """The median wall time of ``repeats`` calls, and the last call's result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3, help="timed calls of the vectorised side (median)")
    ap.add_argument("--naive-repeats", type=int, default=1, help="timed calls of the naive loop (median)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    labels, scores, pairs = ffpp_test_scores(args.seed)
    print(f"FF++-sized test set: {int((labels == 0).sum())} real + {int((labels == 1).sum())} fake videos "
          f"in {len(set(pairs))} pairs; {args.resamples} resamples, seed {args.seed}")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs\n")
    bootstrap_distribution(labels, scores, pairs, BOOTSTRAP_STATS, 50, args.seed)  # warm-up (imports, BLAS)
    naive(labels, scores, pairs, BOOTSTRAP_STATS, 20, args.seed)

    worst = 0.0
    for stats in (("auc",), BOOTSTRAP_STATS):
        t_vec, dist = timed(lambda s=stats: bootstrap_distribution(labels, scores, pairs, s, args.resamples,
                                                                   args.seed), args.repeats)
        t_naive, ref = timed(lambda s=stats: naive(labels, scores, pairs, s, args.resamples, args.seed),
                             args.naive_repeats)
        diffs = {s: float(np.max(np.abs(dist.values[s] - ref[s]))) for s in stats}
        ci_diffs = {s: float(np.max(np.abs(np.array(dist.ci95(s)) - np.percentile(ref[s], [2.5, 97.5]))))
                    for s in stats}
        worst = max(worst, *diffs.values(), *ci_diffs.values())
        print(f"{' + '.join(s.upper() for s in stats)}:")
        print(f"  naive loop  {t_naive:8.3f} s")
        print(f"  vectorised  {t_vec:8.3f} s   naive/vectorised = {t_naive / t_vec:.0f}x")
        print("  same resamples, largest |difference| per resample: "
              + ", ".join(f"{s} {d:.1e}" for s, d in diffs.items())
              + "; of the 95% intervals: " + ", ".join(f"{s} {d:.1e}" for s, d in ci_diffs.items()))
        if stats == BOOTSTRAP_STATS:
            print(f"  goal: under {GOAL_SECONDS:.0f} s for all four: {'met' if t_vec < GOAL_SECONDS else 'NOT met'}")
        for s in stats:
            print(f"  {s} 95% interval {dist.ci95(s)[0]:.4f} .. {dist.ci95(s)[1]:.4f} ({dist.dropped} dropped)")
    print(f"\nthe two sides agree: {'yes' if worst < 1e-12 else 'NO'} (largest difference {worst:.1e})")


if __name__ == "__main__":
    main()
