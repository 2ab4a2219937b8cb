"""Bootstrap intervals, DeLong, operating points, calibration and tie helpers against independent
computations: scikit-learn, explicit resampling loops, hand-worked examples."""

import math

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    roc_auc_score,
    roc_curve,
)
from sklearn.metrics import log_loss as sk_log_loss

from dfbench import uncertainty as unc
from dfbench.metrics import equal_error_rate, video_metrics
from dfbench.ties import fmt_interval, holm, tied_for_best


def clustered_scores(n_pairs=70, reals=2, fakes=8, seed=0, shift=1.2):
    """An FF++-shaped set: per pair ``reals`` real and ``fakes`` fake videos; the pair's fakes share
    how hard they are to detect (a pair effect), as fakes made from the same two videos do."""
    rng = np.random.default_rng(seed)
    y, s, pairs = [], [], []
    for p in range(n_pairs):
        effect = rng.normal(0, 1.0)
        for label, count in ((0, reals), (1, fakes)):
            logits = label * effect + (shift if label else -shift) + rng.normal(0, 1, count)
            y += [label] * count
            s += (1 / (1 + np.exp(-logits))).tolist()
            pairs += [f"p{p:03d}"] * count
    return np.array(y), np.array(s), pairs


def brute_force(y, s, pairs, n_resamples, seed):
    """The bootstrap by hand: copy the drawn pairs' videos, score each resample with scikit-learn."""
    cl, k = unc.cluster_index(pairs)
    members = [np.flatnonzero(cl == j) for j in range(k)]
    values = {name: [] for name in unc.BOOTSTRAP_STATS}
    kept = []
    for drawn in unc.draw_pairs(k, n_resamples, seed):
        idx = np.concatenate([members[j] for j in drawn])
        yy, ss = y[idx], s[idx]
        kept.append(len(set(yy.tolist())) == 2)
        if not kept[-1]:
            continue
        values["auc"].append(roc_auc_score(yy, ss))
        values["tcr"].append(accuracy_score(yy, ss >= 0.5))
        fpr, tpr, _ = roc_curve(yy, ss)
        values["eer"].append(equal_error_rate(fpr, tpr))
        values["ap"].append(average_precision_score(yy, ss))
    return {k: np.array(v) for k, v in values.items()}, np.array(kept)


# --- the pair bootstrap ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bootstrap_equals_explicit_resampling_with_the_same_draws(seed):
    rng = np.random.default_rng(seed)
    n = 40
    pairs = rng.integers(0, 6, n).tolist()  # unequal pairs; some may hold one class only
    y = rng.integers(0, 2, n)
    s = np.round(rng.random(n) * (0.6 + 0.4 * y), 1)  # coarse scores: many ties
    dist = unc.bootstrap_distribution(y, s, pairs, n_resamples=150, seed=seed)
    ref, kept = brute_force(y, s, pairs, 150, seed)
    assert np.array_equal(dist.kept, kept)
    for name in unc.BOOTSTRAP_STATS:
        assert dist.values[name] == pytest.approx(ref[name], abs=1e-12)
        assert dist.ci95(name) == pytest.approx(list(np.percentile(ref[name], [2.5, 97.5])), abs=1e-12)
    boot = unc.pair_bootstrap(y, s, pairs, n_resamples=150, seed=seed)
    assert boot["ci95"]["auc"] == dist.ci95("auc")
    assert boot["resamples"] == 150 and boot["dropped"] == int((~kept).sum()) and boot["clusters"] == 6


def test_resamples_with_one_class_are_dropped_and_counted():
    # 4 pairs: two hold only reals, two only fakes; a resample drawing from one side only is dropped
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    s = np.array([0.1, 0.3, 0.2, 0.6, 0.7, 0.4, 0.9, 0.8])
    pairs = ["a", "a", "b", "b", "c", "c", "d", "d"]
    dist = unc.bootstrap_distribution(y, s, pairs, n_resamples=200, seed=5)
    _, kept = brute_force(y, s, pairs, 200, 5)
    assert dist.dropped == int((~kept).sum()) > 0  # about 2 x (1/2)^4 = 1/8 of 200
    assert len(dist.values["auc"]) == 200 - dist.dropped
    assert unc.pair_bootstrap(y, s, pairs, n_resamples=200, seed=5)["dropped"] == dist.dropped


def test_bootstrap_is_deterministic_and_independent_of_video_order():
    y, s, pairs = clustered_scores(n_pairs=20)
    a = unc.pair_bootstrap(y, s, pairs, n_resamples=500, seed=3)
    order = np.random.default_rng(9).permutation(len(y))
    b = unc.pair_bootstrap(y[order], s[order], [pairs[i] for i in order], n_resamples=500, seed=3)
    assert a == b
    assert unc.pair_bootstrap(y, s, pairs, n_resamples=500, seed=4)["ci95"] != a["ci95"]


def test_pair_resampling_is_wider_than_video_resampling_when_pairs_are_alike():
    ratios = []
    for seed in range(3):
        y, s, pairs = clustered_scores(n_pairs=70, seed=seed)
        by_pair = unc.pair_bootstrap(y, s, pairs, ["auc"])["ci95"]["auc"]
        by_video = unc.pair_bootstrap(y, s, list(range(len(y))), ["auc"])["ci95"]["auc"]
        ratios.append((by_pair[1] - by_pair[0]) / (by_video[1] - by_video[0]))
    assert min(ratios) > 1 and np.mean(ratios) > 1.2  # measured: 1.61, 1.16, 1.40


def test_only_percentile_intervals_and_known_statistics():
    y, s, pairs = clustered_scores(n_pairs=5)
    with pytest.raises(ValueError, match="percentile"):
        unc.pair_bootstrap(y, s, pairs, method="bca")
    with pytest.raises(ValueError, match="unknown statistic"):
        unc.pair_bootstrap(y, s, pairs, ["f1"])


# --- DeLong ----------------------------------------------------------------------------------------


def test_delong_variance_hand_worked():
    # fakes 0.9, 0.6, 0.4; reals 0.2, 0.4, 0.7 (one tie, 0.4).
    # Share of reals below each fake (tie = 1/2): 1, 2/3, 1/2; share of fakes above each real:
    # 1, 5/6, 1/3. AUC = 13/18. Sample variances: 7/108 and 13/108; var = (7/108)/3 + (13/108)/3 = 5/81.
    labels = [1, 1, 1, 0, 0, 0]
    scores = [0.9, 0.6, 0.4, 0.2, 0.4, 0.7]
    auc, var = unc.delong_variance(labels, scores)
    assert auc == pytest.approx(13 / 18)
    assert var == pytest.approx(5 / 81)


def structural_components(y, s):
    """DeLong's V10 (per fake) and V01 (per real) with explicit loops over all (fake, real) couples."""
    fakes, reals = [x for x, t in zip(s, y) if t == 1], [x for x, t in zip(s, y) if t == 0]

    def psi(f, r):
        return 1.0 if f > r else 0.5 if f == r else 0.0

    v10 = [sum(psi(f, r) for r in reals) / len(reals) for f in fakes]
    v01 = [sum(psi(f, r) for f in fakes) / len(fakes) for r in reals]
    return v10, v01


def test_delong_two_detectors_against_explicit_loops():
    rng = np.random.default_rng(2)
    y = np.array([1] * 7 + [0] * 6)
    a = np.round(rng.random(13) + 0.3 * y, 1)
    b = np.round(rng.random(13) + 0.5 * y, 1)
    a10, a01 = structural_components(y, a)
    b10, b01 = structural_components(y, b)
    m, n = 7, 6

    def cov(u, v):
        mu, mv = sum(u) / len(u), sum(v) / len(v)
        return sum((x - mu) * (z - mv) for x, z in zip(u, v)) / (len(u) - 1)

    var = (cov(a10, a10) + cov(b10, b10) - 2 * cov(a10, b10)) / m + (cov(a01, a01) + cov(b01, b01)
                                                                      - 2 * cov(a01, b01)) / n
    delta = sum(b10) / m - sum(a10) / m
    d = unc.delong(y, a, b)
    assert d["auc_a"] == pytest.approx(roc_auc_score(y, a)) and d["auc_b"] == pytest.approx(roc_auc_score(y, b))
    assert d["delta"] == pytest.approx(delta)
    assert d["delta_var"] == pytest.approx(var)
    assert d["z"] == pytest.approx(delta / math.sqrt(var))
    assert d["p_value"] == pytest.approx(math.erfc(abs(d["z"]) / math.sqrt(2)))  # 2 (1 - Phi(|z|))


def test_delong_identical_scores():
    y = [0, 0, 1, 1, 1]
    s = [0.1, 0.6, 0.4, 0.8, 0.9]
    d = unc.delong(y, s, s)
    assert d["delta"] == 0 and d["delta_var"] == 0 and d["z"] == 0 and d["p_value"] == 1


def test_delong_agrees_with_the_bootstrap_spread_on_independent_videos():
    rng = np.random.default_rng(7)
    n = 500
    y = rng.integers(0, 2, n)
    common = rng.normal(0, 1, n)  # the two detectors' scores are correlated
    a = 1 / (1 + np.exp(-(1.0 * y + common + rng.normal(0, 0.8, n))))
    b = 1 / (1 + np.exp(-(1.4 * y + common + rng.normal(0, 0.8, n))))
    videos = list(range(n))  # every video its own cluster: DeLong's independence assumption holds
    _, var_a = unc.delong_variance(y, a)
    spread_a = unc.bootstrap_distribution(y, a, videos, ["auc"], n_resamples=2000, seed=1).values["auc"].std(ddof=1)
    assert spread_a == pytest.approx(math.sqrt(var_a), rel=0.2)
    paired = unc.paired_bootstrap_delta(y, a, b, videos, n_resamples=2000, seed=1)
    d = unc.delong(y, a, b)
    assert paired["delta"] == pytest.approx(d["delta"])
    assert paired["delta_se"] == pytest.approx(math.sqrt(d["delta_var"]), rel=0.2)
    assert paired["delta"] > 0 and paired["p_value"] < 0.05 and d["p_value"] < 0.05


def test_paired_bootstrap_delta_against_explicit_loop():
    y, a, pairs = clustered_scores(n_pairs=15, seed=3)
    b = np.clip(a + np.random.default_rng(4).normal(0, 0.15, len(a)), 0, 1)
    res = unc.paired_bootstrap_delta(y, a, b, pairs, n_resamples=200, seed=8)
    cl, k = unc.cluster_index(pairs)
    members = [np.flatnonzero(cl == j) for j in range(k)]
    deltas = []
    for drawn in unc.draw_pairs(k, 200, 8):
        idx = np.concatenate([members[j] for j in drawn])
        deltas.append(roc_auc_score(y[idx], b[idx]) - roc_auc_score(y[idx], a[idx]))
    deltas = np.array(deltas)
    assert res["delta"] == pytest.approx(roc_auc_score(y, b) - roc_auc_score(y, a))
    assert res["delta_ci95"] == pytest.approx(list(np.percentile(deltas, [2.5, 97.5])), abs=1e-12)
    below, above = (1 + (deltas <= 0).sum()) / 201, (1 + (deltas >= 0).sum()) / 201
    assert res["p_value"] == pytest.approx(min(1.0, 2 * min(below, above)))
    assert res["method"] == "paired pair-clustered bootstrap, percentile" and res["clusters"] == 15


def test_paired_bootstrap_of_identical_scores_has_p_one():
    y, s, pairs = clustered_scores(n_pairs=10)
    res = unc.paired_bootstrap_delta(y, s, s, pairs, n_resamples=200)
    assert res["delta"] == 0 and res["delta_ci95"] == [0.0, 0.0] and res["p_value"] == 1.0


# --- operating points ------------------------------------------------------------------------------


def test_tpr_at_fpr_hand_example():
    reals = [i / 10 for i in range(10)]  # 0.0 .. 0.9: one real above 0.85, none above 0.9
    fakes = [0.95, 0.85, 0.5, 0.3]
    y = [0] * 10 + [1] * 4
    # FPR <= 0.1: threshold 0.85 lets through the real 0.9 and fakes 0.95, 0.85 -> TPR 0.5;
    # FPR <= 0.01 (no false positive): threshold 0.95 -> TPR 0.25
    out = unc.tpr_at_fpr(y, reals + fakes, fprs=(0.1, 0.01))
    assert out == {"0.1": 0.5, "0.01": 0.25}
    assert list(unc.tpr_at_fpr(y, reals + fakes)) == ["0.01", "0.001"]


def test_val_threshold_maximises_balanced_accuracy_at_a_midpoint():
    # reals 0.2, 0.3, 0.65; fakes 0.6, 0.7, 0.8, 0.9. Cut between 0.3 and 0.6 (0.45): balanced acc
    # (4/4 + 2/3) / 2 = 0.833; between 0.65 and 0.7 (0.675): (3/4 + 3/3) / 2 = 0.875, the best.
    y = [0, 0, 0, 1, 1, 1, 1]
    s = [0.2, 0.3, 0.65, 0.6, 0.7, 0.8, 0.9]
    t = unc.val_threshold(y, s)
    assert t == pytest.approx(0.675)
    assert unc.accuracy_at([0, 1, 1], [0.67, 0.68, 0.5], t) == pytest.approx(2 / 3)


def test_val_threshold_ties_go_to_the_candidate_nearest_one_half():
    # Perfect separation: the one best cut is halfway between the top real (0.3) and the lowest fake
    assert unc.val_threshold([0, 0, 1, 1], [0.1, 0.3, 0.9, 0.94]) == pytest.approx(0.6)
    # A useless detector: both candidates (0.4: all fake; 0.45) tie at 0.5 -> the one closer to 0.5
    assert unc.val_threshold([0, 1, 0, 1], [0.4, 0.4, 0.5, 0.5]) == 0.45
    # real .25, fake .375, real .625, fake .75: cuts .3125 and .6875 both give (1 + 1/2) / 2, and
    # are equally far from 0.5 (exactly, in binary): the lower one
    assert unc.val_threshold([0, 1, 0, 1], [0.25, 0.375, 0.625, 0.75]) == 0.3125


# --- calibration -----------------------------------------------------------------------------------


def test_brier_and_log_loss_match_sklearn_and_the_formulas():
    y = np.array([0, 0, 1, 1, 1, 0])
    s = np.array([0.1, 0.0, 0.8, 1.0, 0.0, 0.5])  # a fake scored 0: clipped to 1e-7
    assert unc.brier(y, s) == pytest.approx(brier_score_loss(y, s))
    assert unc.brier(y, s) == pytest.approx(np.mean((s - y) ** 2))
    p = np.clip(s, 1e-7, 1 - 1e-7)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert unc.log_loss(y, s) == pytest.approx(expected)
    assert unc.log_loss(y, s) == pytest.approx(sk_log_loss(y, p))
    assert unc.log_loss([1], [0.0]) == pytest.approx(-math.log(1e-7))
    with pytest.raises(ValueError, match="probabilities"):
        unc.brier([0, 1], [0.2, 1.5])


def test_ece_hand_example_and_bin_edges():
    y = [0, 0, 1, 1, 1, 0]
    s = [0.05, 0.15, 0.15, 0.95, 1.0, 0.55]
    # bins: [0,.1): 0.05 (mean .05, fake 0); [.1,.2): 0.15, 0.15 (mean .15, fake 1/2);
    # [.5,.6): 0.55 (fake 0); [.9,1.0]: 0.95 and 1.0 (mean .975, fake 1)
    # ECE = (1 x .05 + 2 x .35 + 1 x .55 + 2 x .025) / 6 = 1.35 / 6
    assert unc.ece(y, s) == pytest.approx(1.35 / 6)
    rel = unc.reliability(y, s)
    assert rel["count"] == [1, 2, 0, 0, 0, 1, 0, 0, 0, 2]
    assert rel["mean_score"][9] == pytest.approx(0.975) and rel["fraction_fake"][1] == 0.5
    assert rel["mean_score"][2] is None and rel["edges"][0] == 0 and rel["edges"][-1] == 1
    assert unc.reliability([1, 0], [0.5, 0.0])["count"] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]  # 0.5 starts bin 5


# --- video_metrics ---------------------------------------------------------------------------------


def test_video_metrics_intervals_and_their_description():
    y, s, pairs = clustered_scores(n_pairs=30, seed=5)
    methods = ["original" if t == 0 else ("Deepfakes" if i % 2 else "FaceSwap") for i, t in enumerate(y)]
    m = video_metrics(y, s, methods, pairs=pairs, val_labels=y[::2], val_scores=s[::2])
    boot = unc.pair_bootstrap(y, s, pairs)
    for k in ("auc", "tcr", "eer", "ap"):
        assert m[f"{k}_ci95"] == boot["ci95"][k]
        assert m[f"{k}_ci95"][0] <= m[k] <= m[f"{k}_ci95"][1]
    assert m["ci"] == {"method": "pair-clustered bootstrap, percentile", "resamples": 2000, "seed": 0,
                       "unit": "pair", "clusters": 30, "dropped": 0}
    assert m["auc"] == pytest.approx(roc_auc_score(y, s))  # the existing figures are unchanged
    assert m["tpr_at_fpr"] == unc.tpr_at_fpr(y, s)
    assert m["brier"] == pytest.approx(brier_score_loss(y, s)) and m["ece"] == unc.ece(y, s)
    assert m["val_threshold"] == unc.val_threshold(y[::2], s[::2])
    assert m["acc_at_val_threshold"] == unc.accuracy_at(y, s, m["val_threshold"])
    df = m["per_method"]["Deepfakes"]
    sel = (np.array(methods) == "Deepfakes") | (y == 0)
    assert df["auc_ci95"] == unc.pair_bootstrap(y[sel], s[sel], [p for p, k in zip(pairs, sel) if k],
                                                ["auc", "tcr"])["ci95"]["auc"]
    assert set(df) == {"n_videos", "tcr", "auc", "auc_ci95", "tcr_ci95"}
    assert video_metrics(y, s, methods, pairs=pairs, val_labels=y[::2], val_scores=s[::2]) == m  # deterministic


def test_video_metrics_without_pairs_or_with_one_class():
    m = video_metrics([0, 1, 1], [0.2, 0.7, 0.4], ["original", "Deepfakes", "Deepfakes"])
    assert m["auc_ci95"] is None and m["ci"] is None and m["val_threshold"] is None
    assert set(m["per_method"]["Deepfakes"]) == {"n_videos", "tcr", "auc"}
    one = video_metrics([1, 1], [0.7, 0.2], pairs=["a", "b"])
    assert one["auc_ci95"] is None and one["tpr_at_fpr"] is None and one["brier"] == pytest.approx(0.365)
    assert video_metrics([0, 1], [-1.0, 2.0])["ece"] is None  # scores that are not probabilities
    assert video_metrics([0, 1], [0.2, 0.7], val_labels=[1, 1], val_scores=[0.3, 0.9])["val_threshold"] is None


# --- ties and formatting ---------------------------------------------------------------------------


def test_holm_step_down():
    # sorted: a .01 <= .05/3 (rejected); c .03 > .05/2: stop, so b (.04) is kept too
    assert holm({"a": 0.01, "b": 0.04, "c": 0.03}) == {"a"}
    assert holm({"a": 0.01, "b": 0.04, "c": 0.02}) == {"a", "b", "c"}  # .01 <= .0167, .02 <= .025, .04 <= .05
    assert holm({}) == set()


def test_tied_for_best():
    rng = np.random.default_rng(11)
    n = 400
    y = rng.integers(0, 2, n)
    common = rng.normal(0, 1, n)
    best = y * 2.0 + common + rng.normal(0, 0.5, n)
    close = y * 1.95 + common + rng.normal(0, 0.5, n)
    poor = y * 0.3 + rng.normal(0, 1, n)
    pairs = list(range(n))
    entries = {"best": (y, best, pairs), "close": (y, close, pairs), "poor": (y, poor, pairs)}
    assert tied_for_best(entries) == {"best", "close"}
    assert tied_for_best(entries, test="bootstrap", n_resamples=500) == {"best", "close"}
    assert tied_for_best({"only": (y, poor, pairs)}) == {"only"}
    with pytest.raises(ValueError, match="same videos"):
        tied_for_best({"a": (y, best, pairs), "b": (1 - y, best, pairs)})


def test_fmt_interval():
    assert fmt_interval(0.9123, [0.8712, 0.9549], 3) == "0.912 [0.87, 0.95]"
    assert fmt_interval(0.9375, [0.9, 0.9612], 2, scale=100) == "93.75 [90.0, 96.1]"
    assert fmt_interval(0.9123, None, 3) == "0.912"
    assert fmt_interval(None, None, 3) == "–"
