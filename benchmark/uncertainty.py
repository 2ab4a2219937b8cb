"""Uncertainty of video-level metrics: pair-clustered bootstrap intervals, DeLong's test, operating
points and calibration. Torch-free: numpy, scipy and scikit-learn.

Why the resampling unit is the FF++ pair, not the video: FF++ makes its fakes from pairs of real
videos (target ``a``, source ``b`` give the fakes ``a_b`` and ``b_a`` of every method). The two reals
of a pair and every fake made from them show the same two people and share pixels, so they are
not independent draws; resampling videos one by one would treat a test set of 70 pairs as 700
independent observations and give intervals that are too narrow. Here each resample draws whole
pairs ("clusters") with replacement, and a drawn pair brings all its videos.

Labels are 1 for fake, 0 for real; scores are the fake probability (higher = more fake).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dfbench.metrics import THRESHOLD

BOOTSTRAP_STATS = ("auc", "tcr", "eer", "ap")
METHOD = "pair-clustered bootstrap, percentile"
UNIT = "pair"
LEVEL = 0.95
PROB_EPS = 1e-7  # log loss clips probabilities to [PROB_EPS, 1 - PROB_EPS]
_CELLS_PER_CHUNK = 2_000_000  # resamples x distinct scores per block: 16 MB per matrix, ~8 matrices at once


# --- the pair-clustered bootstrap ----------------------------------------------------------------


def cluster_index(pairs: Sequence[Hashable]) -> tuple[np.ndarray, int]:
    """Each video's cluster as an integer 0..k-1 (clusters numbered in the sorted order of their ids
    as strings, so the numbering, and hence the draws, do not depend on the order of the videos)."""
    ids = np.asarray([str(p) for p in pairs])
    if ids.size == 0:
        raise ValueError("no videos to resample")
    uniq, inverse = np.unique(ids, return_inverse=True)
    return inverse.astype(np.intp), len(uniq)


def draw_pairs(n_clusters: int, n_resamples: int = 2000, seed: int = 0) -> np.ndarray:
    """The resampler: ``(n_resamples, n_clusters)`` cluster indices; resample ``r`` draws
    ``n_clusters`` clusters uniformly with replacement, one ``numpy.random.default_rng(seed).integers``
    call for all resamples (so a given seed always gives the same resamples)."""
    return np.random.default_rng(seed).integers(0, n_clusters, size=(n_resamples, n_clusters))


def multiplicities(draws: np.ndarray, n_clusters: int) -> np.ndarray:
    """How many times each cluster was drawn in each resample: ``(n_resamples, n_clusters)`` floats.
    A video's weight in a resample is its cluster's multiplicity."""
    rows = draws.shape[0]
    flat = (draws + n_clusters * np.arange(rows)[:, None]).ravel()
    return np.bincount(flat, minlength=rows * n_clusters).reshape(rows, n_clusters).astype(float)


class _ClusterTable:
    """Per cluster: how many real and fake videos sit at each distinct score, and how many are
    classified right at the 0.5 threshold. Every statistic of a resample follows from these
    tables and the resample's cluster multiplicities ``M``: the weight of the reals at score level
    ``u`` is ``(M @ real)[:, u]``, and so on. The scores are sorted once, here."""

    def __init__(self, y: np.ndarray, s: np.ndarray, cl: np.ndarray, k: int):
        self.levels, lev = np.unique(s, return_inverse=True)  # distinct scores, ascending
        self.real = np.zeros((k, len(self.levels)))
        self.fake = np.zeros((k, len(self.levels)))
        np.add.at(self.real, (cl[y == 0], lev[y == 0]), 1.0)
        np.add.at(self.fake, (cl[y == 1], lev[y == 1]), 1.0)
        self.n_real = self.real.sum(axis=1)
        self.n_fake = self.fake.sum(axis=1)
        self.correct = np.bincount(cl, weights=((s >= THRESHOLD) == (y == 1)).astype(float), minlength=k)
        self.size = self.n_real + self.n_fake

    def stats(self, m: np.ndarray, names: Iterable[str]) -> dict[str, np.ndarray]:
        """The statistics for the resamples whose multiplicities are the rows of ``m`` (rows must hold
        both classes). Each equals scikit-learn's value on the resampled videos (up to float rounding
        of sums): the resampled set is the original videos repeated by their weights."""
        names = set(names)
        out: dict[str, np.ndarray] = {}
        w_real, w_fake = m @ self.n_real, m @ self.n_fake
        if "tcr" in names:  # accuracy at 0.5: weighted share of correct videos
            out["tcr"] = (m @ self.correct) / (m @ self.size)
        if not names & {"auc", "ap", "eer"}:
            return out
        real, fake = m @ self.real, m @ self.fake  # (resamples, levels) weights per score level
        if "auc" in names:
            # Weighted Mann-Whitney: every fake counts the reals strictly below it plus half the ties.
            below = np.cumsum(real, axis=1) - real
            out["auc"] = np.einsum("ru,ru->r", fake, below + 0.5 * real) / (w_real * w_fake)
        if names & {"ap", "eer"}:
            # At threshold levels[u] ("fake iff score >= levels[u]"): weights called fake.
            tps = np.cumsum(fake[:, ::-1], axis=1)[:, ::-1]
            fps = np.cumsum(real[:, ::-1], axis=1)[:, ::-1]
        if "ap" in names:
            # scikit-learn's AP: sum over thresholds of (recall step) x precision; recall steps only
            # where fakes sit, so levels without fakes (or absent from the resample) add nothing.
            called = tps + fps
            precision = np.divide(tps, called, out=np.zeros_like(tps), where=called > 0)
            out["ap"] = np.einsum("ru,ru->r", fake, precision) / w_fake
        if "eer" in names:
            out["eer"] = _eers(tps, fps, (real + fake) > 0)
        return out


def _eers(tps: np.ndarray, fps: np.ndarray, present: np.ndarray) -> np.ndarray:
    """``dfbench.metrics.equal_error_rate`` of each resample's ROC curve, vectorised over resamples.

    The curve is built as ``sklearn.metrics.roc_curve`` builds it: a point per score present in the
    resample (thresholds descending), interior points whose fps and tps second differences are both
    zero dropped, (0, 0) in front. All resamples' points are laid end to end in one flat array.
    On such a curve d = FNR - FPR strictly decreases, so ``equal_error_rate``'s choice reduces to
    the last point P with d > 0 and the next one, Q: where |d_P| <= |d_Q| its argmin is P and it
    interpolates the crossing on PQ; otherwise its argmin is Q and it returns (FPR_Q + FNR_Q) / 2.
    The same float operations, so the values are identical to calling it per resample.
    """
    shown = present[:, ::-1]
    rows = np.nonzero(shown)[0]
    t, f = tps[:, ::-1][shown], fps[:, ::-1][shown]
    edge = np.r_[True, rows[1:] != rows[:-1]] | np.r_[rows[1:] != rows[:-1], True]  # a row's first or last
    keep = edge.copy()
    i = np.flatnonzero(~edge)
    keep[i] = (f[i - 1] - 2 * f[i] + f[i + 1] != 0) | (t[i - 1] - 2 * t[i] + t[i + 1] != 0)
    t, f, rows = t[keep], f[keep], rows[keep]
    counts = np.bincount(rows, minlength=len(tps))
    ends = np.cumsum(counts)
    last = (ends - 1)[rows]
    fpr, fnr = f / f[last], 1 - t / t[last]
    d = fnr - fpr
    above = np.bincount(rows, weights=d > 0, minlength=len(tps)).astype(int)  # points with d > 0, per row
    q = ends - counts + above
    p = np.maximum(q - 1, 0)
    origin = above == 0  # P is the prepended (0, 0): FPR 0, FNR 1, d 1
    fpr_p, d_p = np.where(origin, 0.0, fpr[p]), np.where(origin, 1.0, d[p])
    fpr_q, d_q = fpr[q], d[q]
    interpolate = np.abs(d_p) <= np.abs(d_q)
    crossing = fpr_p + d_p / (d_p - d_q) * (fpr_q - fpr_p)
    return np.where(interpolate, crossing, (fpr_q + fnr[q]) / 2)


@dataclass
class Distribution:
    """The bootstrap distribution of some statistics: their values in each resample that holds both
    classes (``kept``; resamples with one class only are dropped, and counted)."""

    values: dict[str, np.ndarray]
    kept: np.ndarray  # bool, one per resample
    clusters: int
    seed: int

    @property
    def resamples(self) -> int:
        return int(len(self.kept))

    @property
    def dropped(self) -> int:
        return int((~self.kept).sum())

    def ci95(self, name: str) -> list[float] | None:
        """The 95% percentile interval: numpy's linear-interpolated 2.5th and 97.5th percentiles."""
        v = self.values[name]
        if len(v) == 0:
            return None
        lo, hi = np.percentile(v, [100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2])
        return [float(lo), float(hi)]

    def summary(self) -> dict:
        """What a record stores beside the intervals, so they can be reproduced."""
        return {"method": METHOD, "resamples": self.resamples, "seed": self.seed, "unit": UNIT,
                "clusters": self.clusters, "dropped": self.dropped}


def _prepare(labels, scores, pairs):
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    if not (len(y) == len(s) == len(pairs)):
        raise ValueError(f"labels, scores and pairs differ in length ({len(y)}, {len(s)}, {len(pairs)})")
    cl, k = cluster_index(pairs)
    return y, s, cl, k


def _chunks(m: np.ndarray, levels: int):
    """Row blocks of ``m`` small enough that the per-level matrices stay under ~16 MB each (FF++'s
    700 test videos and 2,000 resamples fit in one block)."""
    step = max(1, _CELLS_PER_CHUNK // max(levels, 1))
    for i in range(0, len(m), step):
        yield m[i:i + step]


def bootstrap_distribution(labels, scores, pairs, stats: Sequence[str] = BOOTSTRAP_STATS,
                           n_resamples: int = 2000, seed: int = 0) -> Distribution:
    """The pair-clustered bootstrap distribution of ``stats`` (any of "auc", "tcr", "eer", "ap").

    ``pairs``: each video's cluster id (videos of one FF++ pair share it). The resampler is
    ``draw_pairs(k, n_resamples, seed)`` over the k clusters (see ``cluster_index``); a resample is
    every video of every drawn cluster, a cluster drawn twice bringing its videos twice. Metrics are
    computed from cluster multiplicity weights instead of copying videos (``_ClusterTable``):
    vectorised over resamples, the scores sorted once.
    """
    unknown = set(stats) - set(BOOTSTRAP_STATS)
    if unknown:
        raise ValueError(f"unknown statistic(s) {sorted(unknown)}; choose from {BOOTSTRAP_STATS}")
    y, s, cl, k = _prepare(labels, scores, pairs)
    table = _ClusterTable(y, s, cl, k)
    m = multiplicities(draw_pairs(k, n_resamples, seed), k)
    kept = ((m @ table.n_real) > 0) & ((m @ table.n_fake) > 0)
    parts = [table.stats(chunk, stats) for chunk in _chunks(m[kept], len(table.levels))]
    values = {name: np.concatenate([p[name] for p in parts]) if parts else np.empty(0) for name in stats}
    return Distribution(values=values, kept=kept, clusters=k, seed=seed)


def pair_bootstrap(labels, scores, pairs, stats: Sequence[str] = BOOTSTRAP_STATS, n_resamples: int = 2000,
                   seed: int = 0, method: str = "percentile") -> dict:
    """95% pair-clustered bootstrap intervals of ``stats``: ``{"ci95": {stat: [low, high] or None},
    "method", "resamples", "seed", "unit", "clusters", "dropped"}``.

    The resampler is described in ``bootstrap_distribution``. Only the percentile interval is
    implemented (``method`` is named so records can say which one they hold): the 2.5th and 97.5th
    percentiles of the kept resamples' values. An interval is None when every resample was dropped.
    """
    if method != "percentile":
        raise ValueError(f"bootstrap interval method {method!r} is not implemented; use 'percentile'")
    dist = bootstrap_distribution(labels, scores, pairs, stats, n_resamples, seed)
    return {"ci95": {name: dist.ci95(name) for name in stats}, **dist.summary()}


def paired_bootstrap_delta(labels, scores_a, scores_b, pairs, n_resamples: int = 2000, seed: int = 0) -> dict:
    """AUC of B minus AUC of A on the same videos, with a paired pair-clustered bootstrap.

    Both detectors are scored on the same resamples (the same pairs drawn), so the interval
    reflects the difference, not two independent uncertainties. Returns ``{"auc_a", "auc_b",
    "delta", "delta_ci95", "delta_se", "p_value", "method", "resamples", "seed", "unit",
    "clusters", "dropped"}``; ``delta_se`` is the standard deviation of the resampled deltas.

    ``p_value`` (two-sided) inverts the percentile interval: twice the smaller share of resampled
    deltas on either side of 0 (``<= 0`` and ``>= 0``), each share counted as ``(1 + count) /
    (1 + kept)`` so that a finite number of resamples never claims p = 0; capped at 1. So p < 0.05
    roughly when the 95% interval excludes 0; identical scores give delta 0 and p = 1.
    """
    y, sa, cl, k = _prepare(labels, scores_a, pairs)
    sb = np.asarray(scores_b, dtype=float)
    if len(sb) != len(sa):
        raise ValueError(f"scores_a and scores_b differ in length ({len(sa)}, {len(sb)})")
    if len(set(y.tolist())) != 2:
        raise ValueError("both classes are needed to compare AUCs")
    from sklearn.metrics import roc_auc_score

    ta, tb = _ClusterTable(y, sa, cl, k), _ClusterTable(y, sb, cl, k)
    m = multiplicities(draw_pairs(k, n_resamples, seed), k)
    kept = ((m @ ta.n_real) > 0) & ((m @ ta.n_fake) > 0)
    deltas = [tb.stats(chunk, ["auc"])["auc"] - ta.stats(chunk, ["auc"])["auc"]
              for chunk in _chunks(m[kept], max(len(ta.levels), len(tb.levels)))]
    d = np.concatenate(deltas) if deltas else np.empty(0)
    dist = Distribution(values={"delta": d}, kept=kept, clusters=k, seed=seed)
    auc_a, auc_b = float(roc_auc_score(y, sa)), float(roc_auc_score(y, sb))
    p = None
    if len(d):
        below, above = (1 + (d <= 0).sum()) / (1 + len(d)), (1 + (d >= 0).sum()) / (1 + len(d))
        p = float(min(1.0, 2 * min(below, above)))
    return {"auc_a": auc_a, "auc_b": auc_b, "delta": auc_b - auc_a, "delta_ci95": dist.ci95("delta"),
            "delta_se": float(d.std(ddof=1)) if len(d) > 1 else None, "p_value": p,
            **dist.summary(), "method": "paired " + METHOD}


# --- DeLong --------------------------------------------------------------------------------------


def _components(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's structural components by midranks (Sun & Xu 2014): for each fake, the share of reals
    scored below it; for each real, the share of fakes scored above it (ties count one half).
    Their means are both the AUC."""
    from scipy.stats import rankdata

    fake, real = s[y == 1], s[y == 0]
    m, n = len(fake), len(real)
    if m < 2 or n < 2:
        raise ValueError(f"DeLong needs at least 2 videos of each class (have {n} real, {m} fake)")
    both = rankdata(np.concatenate([fake, real]))  # midranks: ties get their average rank
    v_fake = (both[:m] - rankdata(fake)) / n
    v_real = 1.0 - (both[m:] - rankdata(real)) / m
    return v_fake, v_real


def delong_variance(labels, scores) -> tuple[float, float]:
    """(AUC, its DeLong variance): ``var(V_fake)/m + var(V_real)/n`` with the structural components
    of ``_components`` and sample variances (divisor m-1, n-1), as DeLong et al. (1988). Treats the
    videos as independent (no pair clustering)."""
    y, s = np.asarray(labels, dtype=int), np.asarray(scores, dtype=float)
    v_fake, v_real = _components(y, s)
    var = v_fake.var(ddof=1) / len(v_fake) + v_real.var(ddof=1) / len(v_real)
    return float(v_fake.mean()), float(var)


def delong(labels, scores_a, scores_b) -> dict:
    """DeLong, DeLong & Clarke-Pearson (1988) test of two correlated AUCs on the same videos.

    Returns ``{"auc_a", "auc_b", "delta", "delta_var", "z", "p_value"}`` with ``delta = auc_b -
    auc_a``; its variance is that of the difference of the two detectors' structural components
    (equal to ``[1, -1] S [1, -1]^T`` with S their covariance), z = delta / sqrt(var) and the
    two-sided normal p-value. With zero variance (identical rankings): z = 0, p = 1 when delta is 0,
    else z = +-inf, p = 0. Videos are treated as independent; the paired pair bootstrap
    (``paired_bootstrap_delta``) is the clustered alternative.
    """
    from scipy.stats import norm

    y = np.asarray(labels, dtype=int)
    a_fake, a_real = _components(y, np.asarray(scores_a, dtype=float))
    b_fake, b_real = _components(y, np.asarray(scores_b, dtype=float))
    d_fake, d_real = b_fake - a_fake, b_real - a_real
    var = float(d_fake.var(ddof=1) / len(d_fake) + d_real.var(ddof=1) / len(d_real))
    auc_a, auc_b = float(a_fake.mean()), float(b_fake.mean())
    delta = float(d_fake.mean())
    if var > 0:
        z = delta / math.sqrt(var)
    else:
        z = 0.0 if delta == 0 else math.copysign(math.inf, delta)
    return {"auc_a": auc_a, "auc_b": auc_b, "delta": delta, "delta_var": var, "z": float(z),
            "p_value": float(2 * norm.sf(abs(z)))}


# --- operating points ----------------------------------------------------------------------------


def tpr_at_fpr(labels, scores, fprs: Sequence[float] = (0.01, 0.001)) -> dict[str, float]:
    """The largest TPR among ROC points whose FPR is at most each value, keyed by ``str(fpr)``
    ("0.01", "0.001"). The ROC is scikit-learn's with ``drop_intermediate=False``, so no point is
    lost. With n reals the smallest non-zero FPR is 1/n: with FF++'s 140 test reals, FPR <= 0.001
    means no false positive at all."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(np.asarray(labels, dtype=int), np.asarray(scores, dtype=float),
                            drop_intermediate=False)
    return {str(float(f)): float(tpr[fpr <= f].max()) for f in fprs}


def val_threshold(val_labels, val_scores) -> float:
    """The threshold ("fake iff score >= threshold") that maximises balanced accuracy on the
    validation videos, to be applied unchanged to the test videos.

    Candidates: the midpoints between consecutive distinct validation scores, and the lowest score
    (everything fake). A midpoint rather than a score itself, so a test video scored just below a
    validation fake is not pushed to "real" by the choice of candidate. Balanced accuracy is
    compared exactly (in integer counts). Ties, common on small validation sets: the candidate
    closest to 0.5 (the fixed TCR threshold, so val moves it only when it has a reason), then
    the lower one.
    """
    y, s = np.asarray(val_labels, dtype=int), np.asarray(val_scores, dtype=float)
    n_fake, n_real = int((y == 1).sum()), int((y == 0).sum())
    if n_fake == 0 or n_real == 0:
        raise ValueError("a validation threshold needs real and fake validation videos")
    u, lev = np.unique(s, return_inverse=True)
    fakes_at = np.bincount(lev[y == 1], minlength=len(u))
    reals_at = np.bincount(lev[y == 0], minlength=len(u))
    called_fake = np.cumsum(fakes_at[::-1])[::-1]  # fakes with score >= u[j]
    called_real = np.cumsum(reals_at) - reals_at  # reals with score < u[j]
    score = called_fake * n_real + called_real * n_fake  # balanced accuracy x 2 n_fake n_real
    candidates = np.r_[u[0], (u[:-1] + u[1:]) / 2]
    best = np.flatnonzero(score == score.max())
    return float(min(candidates[best], key=lambda t: (abs(t - THRESHOLD), t)))


def accuracy_at(labels, scores, threshold: float) -> float:
    """Accuracy when a video is called fake iff its score >= ``threshold``."""
    y, s = np.asarray(labels, dtype=int), np.asarray(scores, dtype=float)
    return float(np.mean((s >= threshold) == (y == 1)))


# --- calibration ---------------------------------------------------------------------------------


def _probabilities(scores) -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    if s.size and (np.nanmin(s) < 0 or np.nanmax(s) > 1):
        raise ValueError("calibration needs scores that are probabilities in [0, 1]")
    return s


def brier(labels, scores) -> float:
    """Mean squared difference between the fake probability and the label (scikit-learn's
    ``brier_score_loss``); 0 is perfect, 0.25 is a constant 0.5."""
    from sklearn.metrics import brier_score_loss

    return float(brier_score_loss(np.asarray(labels, dtype=int), _probabilities(scores), labels=[0, 1]))


def log_loss(labels, scores) -> float:
    """Mean negative log-likelihood of the labels (scikit-learn's ``log_loss``), the probabilities
    first clipped to [1e-7, 1 - 1e-7] so a confident mistake costs at most -ln(1e-7) = 16.1."""
    from sklearn.metrics import log_loss as sk_log_loss

    p = np.clip(_probabilities(scores), PROB_EPS, 1 - PROB_EPS)
    return float(sk_log_loss(np.asarray(labels, dtype=int), p, labels=[0, 1]))


def reliability(labels, scores, bins: int = 10) -> dict:
    """Per equal-width bin of the fake probability: ``{"edges": bins + 1 edges, "count", "mean_score",
    "fraction_fake"}`` (means None for an empty bin), for a reliability diagram.

    Bin ``b`` holds the scores with ``b <= bins * score < b + 1`` (computed as
    ``floor(bins * score)``), i.e. [b/bins, (b+1)/bins); a score of exactly 1.0 goes in the last bin.
    """
    y, s = np.asarray(labels, dtype=int), _probabilities(scores)
    idx = np.minimum(np.floor(s * bins).astype(int), bins - 1)
    count = np.bincount(idx, minlength=bins)
    score_sum = np.bincount(idx, weights=s, minlength=bins)
    fake_sum = np.bincount(idx, weights=(y == 1).astype(float), minlength=bins)
    return {
        "edges": [b / bins for b in range(bins + 1)],
        "count": count.tolist(),
        "mean_score": [float(score_sum[b] / count[b]) if count[b] else None for b in range(bins)],
        "fraction_fake": [float(fake_sum[b] / count[b]) if count[b] else None for b in range(bins)],
    }


def ece(labels, scores, bins: int = 10) -> float:
    """Expected calibration error: over the ``reliability`` bins (10 equal-width bins over [0, 1]),
    the mean of |mean score - fraction fake| weighted by each bin's share of the videos."""
    rel = reliability(labels, scores, bins)
    total = sum(rel["count"])
    return float(sum(c / total * abs(ms - ff)
                     for c, ms, ff in zip(rel["count"], rel["mean_score"], rel["fraction_fake"]) if c))
