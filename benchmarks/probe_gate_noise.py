"""How often a probe gate fails by chance: one feature's test AUC, the largest over `all` and the four `single` runs.

`dfbench data probe` gates the file size at 0.60 as the largest of five one-feature AUCs (`all` and each
`single` method, the feature's direction learnt on the train split: dfbench.probe.gates). With few test
pairs that maximum is noisy, so a set with no size signal at all can fail the gate. This simulates it: a
feature that is binormal with population AUC ``--auc`` in every method (0.5: no signal), with a pair effect
(every video of a pair shares an offset, ``--pair-share`` of the variance), on FF++'s pair structure (a
pair's 2 real videos and 2 fakes of each of 4 methods), and prints, per number of test pairs, the median
and 95th percentile of the five-run maximum and how often it exceeds ``--gate``.

    .venv/bin/python benchmarks/probe_gate_noise.py --pairs 16 64           # the file-size gate, no signal
    .venv/bin/python benchmarks/probe_gate_noise.py --auc 0.70 --gate 0.75  # a method the probe reads at 0.70

Measured 2026-12-03 (docs/synthetic-data.md, session 19): with no signal the file-size gate fails in 10%
of test splits of 16 pairs (the embedded default's) and in 0.1% of 64 (version 5's).
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

METHODS, VIDEOS = 4, 10  # a pair: 2 real videos, then 2 fakes of each method


def split(n_pairs: int, auc: float, pair_share: float, rng: np.random.Generator) -> np.ndarray:
    """(n_pairs, 10) feature values: columns 0-1 the pair's real videos, then 2 per method."""
    d = np.sqrt(2) * norm.ppf(auc)  # binormal, equal variances: AUC = Phi(d / sqrt(2))
    fake = np.r_[np.zeros(2), np.ones(VIDEOS - 2)]
    shared = rng.normal(0, np.sqrt(pair_share), (n_pairs, 1))
    return fake * d + shared + rng.normal(0, np.sqrt(1 - pair_share), (n_pairs, VIDEOS))


def largest_auc(train: np.ndarray, test: np.ndarray) -> float:
    """The largest test AUC over `all` and the four `single` runs, each with the direction learnt on train."""
    out = []
    for m in (None, *range(METHODS)):
        cols = [0, 1] + (list(range(2, VIDEOS)) if m is None else [2 + 2 * m, 3 + 2 * m])
        y = np.r_[0, 0, np.ones(len(cols) - 2)]
        xtr, xte = train[:, cols], test[:, cols]
        sign = 1.0 if xtr[:, 2:].mean() >= xtr[:, :2].mean() else -1.0
        out.append(roc_auc_score(np.tile(y, len(test)), sign * xte.ravel()))
    return max(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, nargs="+", default=[16, 32, 64], help="test pairs")
    p.add_argument("--train-pairs", type=int, default=24)
    p.add_argument("--auc", type=float, default=0.5, help="the feature's population AUC in every method")
    p.add_argument("--gate", type=float, default=0.60)
    p.add_argument("--pair-share", type=float, default=0.5)
    p.add_argument("--trials", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    print(f"feature AUC {a.auc} in every method, gate {a.gate}, {a.train_pairs} train pairs, "
          f"pair share {a.pair_share}, {a.trials} splits")
    for n in a.pairs:
        m = np.array([largest_auc(split(a.train_pairs, a.auc, a.pair_share, rng),
                                  split(n, a.auc, a.pair_share, rng)) for _ in range(a.trials)])
        print(f"{n:>4} test pairs: largest of 5 AUCs median {np.median(m):.3f}, 95th percentile "
              f"{np.quantile(m, 0.95):.3f}, fails the gate in {(m > a.gate).mean():.1%}")


if __name__ == "__main__":
    main()
