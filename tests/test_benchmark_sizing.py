"""benchmarks/test_split_sizing.py: its simulated test sets have the AUC and structure it claims."""

import importlib.util
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "test_split_sizing.py"


def _module():
    spec = importlib.util.spec_from_file_location("test_split_sizing", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_simulated_scores_have_the_asked_auc_and_pair_layout():
    sizing = _module()
    y, s, g = sizing.simulate(3000, 8, 0.85, 0.3, np.random.default_rng(0))
    assert abs(roc_auc_score(y, s) - 0.85) < 0.01
    assert len(y) == 3000 * 10 and (y == 0).sum() == 6000
    assert all(sorted(y[g == k].tolist()) == [0, 0] + [1] * 8 for k in (0, 1, 2999))


def test_resampled_sets_bring_whole_pairs_and_only_the_asked_method():
    sizing = _module()
    measured = [dict(pair=p, method=m, label=int(m != "original"), score=float(i))
                for i, (p, m) in enumerate((p, m) for p in ("a", "b", "c")
                                           for m in ("original", "original", "Face2Face", "FaceSwap"))]
    y, s, g = sizing.resample(measured, 5, "Face2Face", np.random.default_rng(1))
    assert len(y) == 5 * 3 and sorted(set(g.tolist())) == list(range(5))
    assert all(sorted(y[g == k].tolist()) == [0, 0, 1] for k in range(5))
    assert not {v["score"] for v in measured if v["method"] == "FaceSwap"} & set(s.tolist())
