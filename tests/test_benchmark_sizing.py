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


def test_the_gate_noise_simulation_has_the_asked_auc_and_reads_the_largest_run():
    spec = importlib.util.spec_from_file_location("probe_gate_noise", SCRIPT.parent / "probe_gate_noise.py")
    noise = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noise)
    rng = np.random.default_rng(0)
    x = noise.split(4000, 0.80, 0.5, rng)
    y = np.r_[0, 0, np.ones(8)]
    assert abs(roc_auc_score(np.tile(y, 4000), x.ravel()) - 0.80) < 0.01
    # a large null split reads 0.5 in every run; a signal in one method alone is its run's AUC, the largest
    assert abs(noise.largest_auc(noise.split(50, 0.5, 0.5, rng), noise.split(4000, 0.5, 0.5, rng)) - 0.5) < 0.02
    one = noise.split(4000, 0.5, 0.0, rng)
    one[:, 4:6] += np.sqrt(2) * 1.0  # method 2's fakes only: AUC Phi(1) = 0.841 in its single run
    train = noise.split(200, 0.5, 0.0, rng)
    train[:, 4:6] += np.sqrt(2) * 1.0
    assert abs(noise.largest_auc(train, one) - 0.841) < 0.01
