"""Comparing two records: pairs from keys, refusal of different test sets, the paired tests."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from dfbench.compare import compare, format_comparison, pairs_from_keys
from dfbench.errors import DfbenchError
from dfbench.uncertainty import delong, paired_bootstrap_delta

PAIRS = [(f"{2 * i:03d}", f"{2 * i + 1:03d}") for i in range(12)]  # (target, source) as in the split files
METHODS = ("Deepfakes", "FaceSwap")


def videos():
    """(key, method, label, split-order pair) of an FF++-shaped test set: per pair 2 reals, 2 fakes a method."""
    out = []
    for a, b in PAIRS:
        out += [(f"original/{i}", "original", 0, f"{a}_{b}") for i in (a, b)]
        out += [(f"{m}/{n}", m, 1, f"{a}_{b}") for m in METHODS for n in (f"{a}_{b}", f"{b}_{a}")]
    return out


def record(detector, seed, with_pairs=False, strength=1.0):
    rng = np.random.default_rng(seed)
    vs = videos()
    rows = []
    for key, method, label, pair in vs:
        score = float(1 / (1 + np.exp(-(strength * (2 * label - 1) + rng.normal(0, 1)))))
        row = {"key": key, "method": method, "label": label, "score": score}
        if with_pairs:
            row["pair"] = pair
        rows.append(row)
    return {"detector": detector, "run": "all", "size": "cpu", "seed": 0, "videos": rows}


def arrays(rec):
    """Labels and scores in key order, as compare() lines them up."""
    by_key = sorted(rec["videos"], key=lambda v: v["key"])
    return np.array([v["label"] for v in by_key]), np.array([v["score"] for v in by_key]), [v["key"] for v in by_key]


def test_pairs_from_keys_groups_each_pairs_reals_and_fakes():
    keys = ["original/007", "original/063", "Deepfakes/063_007", "FaceSwap/007_063", "original/012",
            "Face2Face/012_013", "original/999"]
    assert pairs_from_keys(keys) == ["007_063"] * 4 + ["012_013"] * 2 + ["999"]


def test_compare_computes_both_tests_on_the_same_videos():
    a, b = record("resnet3d", 1), record("resnext3d_nl", 2, strength=1.6)
    b["videos"] = b["videos"][::-1]  # order does not matter: videos are matched by key
    res = compare(a, b, n_resamples=500, seed=3)
    y, sa, keys = arrays(a)
    _, sb, _ = arrays(b)
    assert res["auc_a"] == pytest.approx(roc_auc_score(y, sa)) and res["auc_b"] == pytest.approx(roc_auc_score(y, sb))
    assert res["delta"] == pytest.approx(res["auc_b"] - res["auc_a"])
    boot = paired_bootstrap_delta(y, sa, sb, pairs_from_keys(keys), n_resamples=500, seed=3)
    assert res["delta_ci95"] == boot["delta_ci95"] and res["p_value"] == boot["p_value"]
    dl = delong(y, sa, sb)
    assert res["delong"] == {"z": dl["z"], "p_value": dl["p_value"], "delta_var": dl["delta_var"]}
    assert (res["n_videos"], res["n_real"], res["n_fake"], res["clusters"]) == (72, 24, 48, 12)
    assert res["pairs_from"] == "keys" and res["a"] == "resnet3d (all, cpu, seed 0)"
    assert res["method"] == "paired pair-clustered bootstrap, percentile" and res["resamples"] == 500


def test_compare_on_one_method_uses_its_fakes_and_every_real_video():
    a, b = record("xception", 4, with_pairs=True), record("resnext3d_nl", 5, with_pairs=True, strength=1.6)
    res = compare(a, b, n_resamples=300, method="FaceSwap")
    keep = [v for v in sorted(a["videos"], key=lambda v: v["key"]) if v["method"] in ("original", "FaceSwap")]
    keep_b = {v["key"]: v["score"] for v in b["videos"]}
    y = np.array([v["label"] for v in keep])
    assert res["auc_a"] == pytest.approx(roc_auc_score(y, [v["score"] for v in keep]))
    assert res["auc_b"] == pytest.approx(roc_auc_score(y, [keep_b[v["key"]] for v in keep]))
    assert (res["n_videos"], res["n_real"], res["n_fake"], res["manipulation"]) == (48, 24, 24, "FaceSwap")
    assert res["auc_a"] != pytest.approx(compare(a, b, n_resamples=300)["auc_a"])  # not the all-methods AUC
    assert format_comparison(res).startswith("FaceSwap: AUC ")
    with pytest.raises(DfbenchError, match="no fakes of it; use one of Deepfakes, FaceSwap"):
        compare(a, b, method="Face2Face")


def test_compare_uses_stored_pairs_and_they_group_like_the_keys():
    a, b = record("x", 1, with_pairs=True), record("y", 2, with_pairs=True)
    res = compare(a, b, n_resamples=300)
    assert res["pairs_from"] == "records" and res["clusters"] == 12
    y, sa, _ = arrays(a)
    _, sb, _ = arrays(b)
    stored = [v["pair"] for v in sorted(a["videos"], key=lambda v: v["key"])]
    assert res["delta_ci95"] == paired_bootstrap_delta(y, sa, sb, stored, n_resamples=300)["delta_ci95"]
    # the same grouping under other names (sorted "min_max" names from the keys) is accepted
    b2 = record("y", 2)
    for v, pair in zip(b2["videos"], pairs_from_keys([v["key"] for v in b2["videos"]])):
        v["pair"] = pair
    assert compare(a, b2, n_resamples=300)["delta_ci95"] == res["delta_ci95"]


def test_identical_records_differ_by_nothing():
    a = record("x", 4)
    res = compare(a, a, n_resamples=200)
    assert res["delta"] == 0 and res["delta_ci95"] == [0.0, 0.0] and res["p_value"] == 1.0
    assert res["delong"]["p_value"] == 1.0


def test_compare_refuses_different_test_sets():
    a, b = record("x", 1), record("y", 2)
    b["videos"] = b["videos"][2:]  # original/000 and original/001 only in A
    b["videos"].append({"key": "Deepfakes/998_999", "method": "Deepfakes", "label": 1, "score": 0.5})
    flipped = next(v for v in b["videos"] if v["key"] == "FaceSwap/002_003")
    flipped["label"] = 0
    with pytest.raises(DfbenchError) as err:
        compare(a, b)
    assert str(err.value) == (
        "the records were not scored on the same test videos: 2 only in A, 1 only in B, 1 with different "
        "labels (first: original/000); compare records of the same protocol run and data")


def test_compare_refuses_different_pairings():
    a, b = record("x", 1, with_pairs=True), record("y", 2, with_pairs=True)
    b["videos"][0]["pair"] = "002_003"  # original/000 moved to another pair
    with pytest.raises(DfbenchError, match="group video original/000 with different videos"):
        compare(a, b)


def test_format_comparison():
    result = {"a": "resnet3d (all, cpu, seed 0)", "b": "resnext3d_nl (all, cpu, seed 0)", "auc_a": 0.9012,
              "auc_b": 0.9345, "delta": 0.0333, "delta_ci95": [-0.0041, 0.0712], "p_value": 0.0912,
              "resamples": 2000, "n_videos": 700, "n_real": 140, "n_fake": 560, "clusters": 70,
              "delong": {"z": 1.734, "p_value": 0.0829, "delta_var": 0.00037}}
    assert format_comparison(result) == (
        "AUC 0.901 (A: resnet3d (all, cpu, seed 0)) vs 0.934 (B: resnext3d_nl (all, cpu, seed 0)): "
        "B - A = +0.033 [-0.004, +0.071], p = 0.0912 (paired pair bootstrap, 2000 resamples, 95% percentile interval)\n"
        "DeLong (videos as independent): z = 1.73, p = 0.0829; 700 test videos (140 real, 560 fake) in 70 pairs")


def test_compare_refuses_a_single_class():
    a = record("x", 1)
    a["videos"] = [v for v in a["videos"] if v["label"] == 1]
    with pytest.raises(DfbenchError, match="0 real and 48 fake videos"):
        compare(a, a)


def test_compare_cli_on_two_stored_records_and_its_bad_input(cli, tiny_synth, tmp_path, test_plugin):
    """`dfbench compare` reads verified records; other test sets and malformed files are one line, exit 2."""
    import json

    from dfbench import engine
    from dfbench.engine import RunOptions

    def made(seed, method="Deepfakes"):
        opts = RunOptions(detector="test_brightness", protocol="single", method=method, data=tiny_synth, seed=seed,
                          output=tmp_path / "results", work_dir=tmp_path / "work", cache=tmp_path / "cache")
        return engine.run(opts)[0].path

    a, b = made(0), made(1)
    code, out, err = cli("compare", str(a), str(b), "--json")
    assert code == 0, err
    result = json.loads(out)
    ra, rb = (json.loads(p.read_text()) for p in (a, b))
    assert result["auc_a"] == pytest.approx(ra["metrics"]["auc"])
    assert result["auc_b"] == pytest.approx(rb["metrics"]["auc"])
    assert result["delta"] == pytest.approx(result["auc_b"] - result["auc_a"]) and result["pairs_from"] == "records"
    assert {"delta_ci95", "p_value", "method", "delong"} <= set(result)
    code, out, _ = cli("compare", str(a), str(b))
    assert code == 0 and out.startswith(f"AUC {result['auc_a']:.3f} (A: ")
    code, out, err = cli("compare", str(a), str(b), "--method", "Deepfakes", "--json")
    assert code == 0, err
    assert json.loads(out)["auc_a"] == pytest.approx(ra["metrics"]["per_method"]["Deepfakes"]["auc"])
    code, _, err = cli("compare", str(a), str(b), "--method", "Face2Face")
    assert code == 2 and "no fakes of it; use one of Deepfakes" in err and err.count("\n") == 1
    other = made(0, "FaceSwap")
    code, _, err = cli("compare", str(a), str(other))
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    broken = tmp_path / "broken.json"
    broken.write_text(a.read_text()[:100])
    code, _, err = cli("compare", str(a), str(broken))
    assert code == 2 and err.startswith(f"error: {broken}: not valid JSON") and err.count("\n") == 1
