"""Leaderboard display helpers: which detectors are tied for best, and "value [low, high]" cells.

A leaderboard that bolds one best AUC claims more than a 70-pair test set can show. Here a
detector is "tied for best" when its AUC is not significantly below the best one: each other
detector is tested against the best on the same videos, and the p-values are Holm-corrected
across those comparisons, so the chance of wrongly demoting any detector stays at ``alpha``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dfbench.uncertainty import delong, paired_bootstrap_delta

MISSING = "–"
TESTS = ("delong", "bootstrap")


def holm(p_values: Mapping[str, float], alpha: float = 0.05) -> set[str]:
    """The hypotheses Holm's step-down procedure rejects at family-wise level ``alpha``: with the
    m p-values in ascending order, reject the i-th (1-based) while p <= alpha / (m - i + 1), and stop
    at the first that is not. Equal p-values are taken in name order (it does not change the set)."""
    order = sorted(p_values, key=lambda k: (p_values[k], k))
    rejected: set[str] = set()
    for i, name in enumerate(order):
        if p_values[name] > alpha / (len(order) - i):
            break
        rejected.add(name)
    return rejected


def tied_for_best(records_scores: Mapping[str, tuple], alpha: float = 0.05, test: str = "delong",
                  n_resamples: int = 2000, seed: int = 0) -> set[str]:
    """The detectors whose AUC is not significantly below the best one's.

    ``records_scores``: name -> ``(labels, scores, pairs)``, every entry on the same videos in the
    same order (the labels must match). The best is the highest AUC (equal AUCs: the first name in
    sorted order). Every other detector is compared with it by ``test``: "delong" (default; DeLong's
    test for correlated AUCs, the pairs unused) or "bootstrap" (the paired pair-clustered bootstrap,
    ``n_resamples`` and ``seed``). The p-values are two-sided, since the best is itself picked from
    the data, and Holm-corrected over the m - 1 comparisons; the detectors not rejected, and the
    best, are returned. One detector: itself; none: the empty set.
    """
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; choose from {TESTS}")
    if not records_scores:
        return set()
    names = sorted(records_scores)
    labels = np.asarray(records_scores[names[0]][0], dtype=int)
    for name in names[1:]:
        if not np.array_equal(np.asarray(records_scores[name][0], dtype=int), labels):
            raise ValueError(f"{name} was not scored on the same videos (labels differ from {names[0]}'s)")
    from sklearn.metrics import roc_auc_score

    auc = {n: float(roc_auc_score(labels, np.asarray(records_scores[n][1], dtype=float))) for n in names}
    best = min(names, key=lambda n: (-auc[n], n))
    p_values = {}
    for name in names:
        if name == best:
            continue
        _, scores, pairs = records_scores[name]
        best_scores, best_pairs = records_scores[best][1], records_scores[best][2]
        if test == "delong":
            p_values[name] = delong(labels, scores, best_scores)["p_value"]
        else:
            p = paired_bootstrap_delta(labels, scores, best_scores, best_pairs if pairs is None else pairs,
                                       n_resamples=n_resamples, seed=seed)["p_value"]
            p_values[name] = 1.0 if p is None else p  # every resample dropped: no evidence of a difference
    return set(names) - holm(p_values, alpha)


def fmt_interval(value, ci: Sequence[float] | None, decimals: int = 3, ci_decimals: int | None = None,
                 scale: float = 1.0) -> str:
    """"0.912 [0.87, 0.95]": the value with ``decimals`` decimals and its interval with
    ``ci_decimals`` (default one fewer, so the point estimate stands out and the interval does not
    claim more precision than it has). ``scale`` multiplies all three first (100 for percent).
    A missing value is "–"; a missing interval shows the value alone."""
    if value is None:
        return MISSING
    ci_decimals = max(decimals - 1, 0) if ci_decimals is None else ci_decimals
    text = f"{value * scale:.{decimals}f}"
    if ci is None:
        return text
    low, high = ci
    return f"{text} [{low * scale:.{ci_decimals}f}, {high * scale:.{ci_decimals}f}]"
