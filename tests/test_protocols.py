"""Protocols expand into the paper's runs, and every run's splits share no identity."""

import pytest

from dfbench import splits as S
from dfbench.errors import DfbenchError
from dfbench.layout import METHODS
from dfbench.plan import plan_run, shared_identities
from dfbench.protocols import available, expand, load


def test_three_protocols_versioned():
    by_name = {p.name: p for p in available() if not p.evaluates}  # the paper's; evaluations: test_evaluation.py
    assert set(by_name) == {"all", "single", "cross"}
    assert all(p.version >= 1 and p.compression == "c40" and p.trunk_len == 250 for p in by_name.values())
    assert by_name["all"].class_weighted_loss and by_name["cross"].class_weighted_loss
    assert not by_name["single"].class_weighted_loss


def test_expansion_matches_paper_tables():
    assert [(r.name, r.train_methods) for r in expand(load("all"))] == [("all", METHODS)]
    single = expand(load("single"))
    assert [r.train_methods for r in single] == [(m,) for m in METHODS]
    cross = expand(load("cross"))
    assert [r.name for r in cross] == [f"cross-{m}" for m in METHODS]
    for r, m in zip(cross, METHODS):
        assert r.test_methods == (m,) and m not in r.train_methods and len(r.train_methods) == 3
        assert m not in r.val_methods  # the held-out method never leaks into checkpoint selection


def test_method_picks_one_run_and_accepts_short_names():
    assert [r.name for r in expand(load("cross"), "NT")] == ["cross-NeuralTextures"]
    assert [r.name for r in expand(load("ffpp-lq-single"), "face2face")] == ["single-Face2Face"]


@pytest.mark.parametrize("name,method,msg", [
    ("bogus", None, "unknown protocol 'bogus'"),
    ("cross", "DeepNope", "unknown manipulation method 'DeepNope'"),
    ("cross", "FaceShifter", "not part of protocol ffpp-lq-cross"),
    ("all", "Deepfakes", "--method does not apply"),
])
def test_bad_names_are_one_line_errors(name, method, msg):
    with pytest.raises(DfbenchError, match=msg) as e:
        expand(load(name), method)
    assert "\n" not in str(e.value)


def test_official_splits_sizes_and_disjoint():
    sp = S.official()
    assert [len(sp[s]) for s in S.SPLITS] == [360, 70, 70]
    assert [len(S.ids(sp[s])) for s in S.SPLITS] == [720, 140, 140]
    all_ids = set().union(*(S.ids(sp[s]) for s in S.SPLITS))
    assert all_ids == {f"{i:03d}" for i in range(1000)}


@pytest.mark.parametrize("protocol", ["all", "single", "cross"])
def test_no_identity_shared_between_splits_of_any_run(tmp_path, protocol):
    sp = S.official()
    for spec in expand(load(protocol)):
        plan = plan_run(tmp_path, "c40", sp, spec)
        assert shared_identities(plan.train, plan.test) == set()
        assert shared_identities(plan.train, plan.val) == set()
        assert shared_identities(plan.val, plan.test) == set()
        # and the check itself can fail: a fake of a test pair in train would be caught
        leaked = plan.train + [plan.test[-1]]
        assert shared_identities(leaked, plan.test)


def test_overlapping_split_files_are_rejected(tmp_path):
    d = tmp_path / "splits"
    d.mkdir()
    (d / "train.json").write_text('[["000", "001"]]')
    (d / "val.json").write_text('[["002", "003"]]')
    (d / "test.json").write_text('[["001", "004"]]')
    with pytest.raises(DfbenchError, match="id 001 is in both"):
        S.load(splits_dir=d)
