"""The leaderboard's numbers with their uncertainty: cells with 95% intervals, and rows tied for first.

A cell of one record shows the stored value and its stored pair-bootstrap interval (the record was
verified on load, so both are what its per-video scores give). A cell of several seeds shows the
mean ± sample standard deviation (n) and the *pooled* interval: every seed's bootstrap uses the same
pair draws, the statistic is averaged over seeds within each resample, and the 2.5th and 97.5th
percentiles of that average are taken, so the interval is the test-set uncertainty of the seed mean.

Ties: within a table (or a column of the per-method tables), the rows scored on the same test
videos are compared with the best AUC by DeLong's test (two-sided, Holm-corrected over the
comparisons, α = :data:`ALPHA`, ``dfbench.ties.tied_for_best``); a row of several seeds enters with
its per-video scores averaged over seeds.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from dfbench.results import RunResult
from dfbench.ties import fmt_interval, tied_for_best

ALPHA = 0.05
MISSING = "–"
RESAMPLES, SEED = 2000, 0  # what records store (dfbench.metrics); the pooled interval uses the same


def _value(r: RunResult, stat: str) -> float | None:
    x = r.metrics.get(stat)
    return None if x is None or isinstance(x, bool) or (isinstance(x, float) and math.isnan(x)) else float(x)


def _aligned(records: Sequence[RunResult]):
    """(keys, labels, pairs, scores per record) when every record holds the same test videos with pairs."""
    first = sorted((v.key, v.label, v.pair) for v in records[0].videos)
    if not all(v[2] for v in first):
        return None
    scores = []
    for r in records:
        by_key = {v.key: v for v in r.videos}
        if sorted((v.key, v.label, v.pair) for v in r.videos) != first:
            return None
        scores.append([by_key[k].score for k, _, _ in first])
    return [k for k, _, _ in first], [lab for _, lab, _ in first], [p for _, _, p in first], scores


def pooled_ci(records: Sequence[RunResult], stat: str) -> list[float] | None:
    """The 95% interval of the seed-mean of ``stat`` (see the module docstring); None if not computable."""
    from dfbench.uncertainty import bootstrap_distribution

    aligned = _aligned(records)
    if aligned is None or stat not in ("auc", "tcr", "eer", "ap"):
        return None
    _, labels, pairs, scores = aligned
    dists = [bootstrap_distribution(labels, s, pairs, (stat,), RESAMPLES, SEED).values[stat] for s in scores]
    if not len(dists[0]):
        return None
    mean = np.mean(dists, axis=0)
    return [float(np.percentile(mean, 2.5)), float(np.percentile(mean, 97.5))]


def cell(records: Sequence[RunResult], stat: str, decimals: int, scale: float = 1.0) -> str:
    """One leaderboard cell: "0.912 [0.87, 0.95]" for one record, "0.912 ± 0.010 (n=3) [0.88, 0.94]"
    for several seeds; values summed in sorted order, so the record order does not matter."""
    with_value = sorted((r for r in records if _value(r, stat) is not None), key=lambda r: (r.seed, r.settings_id))
    if not with_value:
        return MISSING
    if len(with_value) == 1:
        r = with_value[0]
        return fmt_interval(_value(r, stat), r.metrics.get(f"{stat}_ci95"), decimals, scale=scale)
    values = sorted(_value(r, stat) * scale for r in with_value)
    mean = math.fsum(values) / len(values)
    text = f"{mean:.{decimals}f} ± {statistics.stdev(values):.{decimals}f} (n={len(values)})"
    ci = pooled_ci(with_value, stat)
    if ci is None:
        return text
    d = max(decimals - 1, 0)
    return f"{text} [{ci[0] * scale:.{d}f}, {ci[1] * scale:.{d}f}]"


def tied_rows(rows: Mapping[Hashable, Sequence[RunResult]], alpha: float = ALPHA) -> set[Hashable]:
    """The rows whose AUC is not significantly below the best of the rows on the same test videos.

    Only groups of two or more rows are marked (a lone row is trivially first and says nothing).
    """
    groups: dict[tuple, dict[Hashable, tuple]] = {}
    for row, records in rows.items():
        records = [r for r in records if r.metrics.get("auc") is not None]
        aligned = _aligned(records) if records else None
        if aligned is None:
            continue
        keys, labels, pairs, scores = aligned
        mean = np.mean(np.asarray(scores, dtype=float), axis=0)
        groups.setdefault(tuple(keys), {})[row] = (labels, mean, pairs)
    tied: set[Hashable] = set()
    for members in groups.values():
        if len(members) >= 2:
            named = {str(i): v for i, v in enumerate(members.values())}
            won = tied_for_best(named, alpha=alpha)
            tied |= {row for i, row in enumerate(members) if str(i) in won}
    return tied


def bold(text: str) -> str:
    return f"**{text}**" if text != MISSING else text
