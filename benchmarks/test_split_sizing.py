"""How many test pairs the synthetic set needs: the 95 % interval of a detector's AUC near 0.85, by test size.

Issue 10 asks for a test split on which a detector at AUC ~0.85 gets a 95 % interval no wider than
+-0.05, measured with the intervals dfbench publishes (pair-clustered bootstrap, dfbench.uncertainty).
Scores are simulated, binormal, with a pair effect: every video of a pair shares a random offset
(its two people are in all of them), a share ``--pair-share`` of the score variance, which widens
the pair bootstrap's interval exactly as shared identities do. Or, with ``--scores FILE`` (a trained
detector's test scores, as ``benchmarks/synth_calibration.py train --scores`` writes them), test sets
of each size are drawn from the measured pairs, with replacement. For each number of test pairs it
prints the mean half-width over ``--trials`` simulated test sets, for ``all`` (the pair's 2 reals
against its 8 fakes) and for one method (2 reals against 2 fakes: ``single`` and ``cross``).

    .venv/bin/python benchmarks/test_split_sizing.py --pairs 16 32 48 64 96
    .venv/bin/python benchmarks/test_split_sizing.py --scores /tmp/e16_scores.json --method FaceSwap
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import norm

from dfbench.uncertainty import pair_bootstrap


def simulate(n_pairs: int, fakes_per_pair: int, auc: float, pair_share: float, rng: np.random.Generator):
    """Labels, scores and pair ids of one simulated test set whose population AUC is ``auc``."""
    d = np.sqrt(2) * norm.ppf(auc)  # binormal, equal variances: AUC = Phi(d / sqrt(2))
    pair = np.repeat(np.arange(n_pairs), 2 + fakes_per_pair)
    labels = np.tile(np.r_[np.zeros(2), np.ones(fakes_per_pair)], n_pairs)
    shared = rng.normal(0, np.sqrt(pair_share), n_pairs)[pair]  # the same offset for every video of a pair
    scores = labels * d + shared + rng.normal(0, np.sqrt(1 - pair_share), len(labels))
    return labels, scores, pair


def resample(measured: list[dict], n_pairs: int, method: str | None, rng: np.random.Generator):
    """Labels, scores and pair ids of a test set of ``n_pairs`` pairs drawn from measured ones: every
    drawn pair brings its reals and its fakes (of ``method`` only, if given)."""
    by_pair: dict[str, list[dict]] = {}
    for v in measured:
        if v["label"] == 0 or method is None or v["method"] == method:
            by_pair.setdefault(v["pair"], []).append(v)
    names = sorted(by_pair)
    y, s, g = [], [], []
    for i, k in enumerate(rng.choice(len(names), n_pairs)):
        for v in by_pair[names[k]]:
            y.append(v["label"]), s.append(v["score"]), g.append(i)
    return np.array(y), np.array(s), np.array(g)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", type=int, nargs="+", default=[16, 32, 48, 64, 96])
    p.add_argument("--auc", type=float, default=0.85)
    p.add_argument("--pair-share", type=float, default=0.3, help="share of score variance shared within a pair")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--scores", default=None, help="measured test scores (JSON list of label, method, pair, score)")
    p.add_argument("--method", default=None, help="with --scores: the one method's fakes for the second column")
    args = p.parse_args()
    measured = json.loads(Path(args.scores).read_text()) if args.scores else None
    rng = np.random.default_rng(0)
    source = (f"pairs drawn from {args.scores}" if measured else f"AUC {args.auc}, pair share {args.pair_share}")
    print(f"{source}, {args.trials} simulated test sets, "
          f"{args.resamples} pair resamples each: mean 95 % half-width (and its largest)")
    print("test pairs | reals | all: fakes, half-width | one method: fakes, half-width")
    for n in args.pairs:
        row = []
        for fakes in (8, 2):
            if measured and fakes == 2 and not args.method:
                row.append("(name a --method)")
                continue
            widths = []
            for t in range(args.trials):
                if measured:
                    y, s, g = resample(measured, n, None if fakes == 8 else args.method, rng)
                else:
                    y, s, g = simulate(n, fakes, args.auc, args.pair_share, rng)
                lo, hi = pair_bootstrap(y, s, g, stats=("auc",), n_resamples=args.resamples, seed=t)["ci95"]["auc"]
                widths.append((hi - lo) / 2)
            row.append(f"{n * fakes} fakes, {np.mean(widths):.3f} (max {np.max(widths):.3f})")
        print(f"{n} | {2 * n} | " + " | ".join(row), flush=True)


if __name__ == "__main__":
    main()
