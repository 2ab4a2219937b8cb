"""The version-5 synthetic set: version 4 with 32 validation pairs, its train and test videos unchanged.

Six validation pairs (versions 1-4) rank epochs by noise (docs/synthetic-data.md, session 11), so
version 5 adds validation pairs from new identities and keeps everything else of version 4: the
same train and test ids and the same pixels, so version 4's measurements hold for them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from dfbench.errors import DfbenchError
from dfbench.layout import REAL, SYNTHETIC_MANIFEST, video_path
from dfbench.synth import generate
from dfbench.synth.dataset import PAIRS, make_splits, make_splits_v5
from dfbench.synth.pairs import film, pair_videos, processed, recipe_of


def ids(split):
    return {i for pair in split for i in pair}


def test_version_5_splits_are_version_4s_with_more_validation_pairs():
    assert PAIRS[5] == (288, 32, 64) and PAIRS[4] == (288, 6, 64)
    v4, v5 = make_splits(0, PAIRS[4]), make_splits_v5(0, PAIRS[5])
    assert v5["train"] == v4["train"] and v5["test"] == v4["test"]
    assert v5["val"][:6] == v4["val"] and len(v5["val"]) == 32
    assert ids(v5["val"][6:]) == {f"{i:03d}" for i in range(716, 768)}  # new ids, three digits as version 4's
    assert not ids(v5["val"]) & ids(v5["train"]) and not ids(v5["val"]) & ids(v5["test"])
    assert v5 != make_splits_v5(1, PAIRS[5])  # the data seed deals them
    assert make_splits_v5(0, (288, 4, 64)) == make_splits(0, (288, 4, 64))  # no more than version 4's: its own


def test_version_5_ids_stay_as_wide_as_version_4s():
    with pytest.raises(DfbenchError, match="fewer validation pairs"):
        make_splits_v5(0, (288, 200, 64))  # version 4's ids 000-715, then up to 1103: a fourth digit
    assert len(make_splits_v5(0, (288, 100, 64))["val"]) == 100  # up to 903


def test_version_5_videos_are_version_4s():
    assert recipe_of(5) == recipe_of(4)
    size = (320, 240)
    T, S = film(0, "004", 5, size, 5), film(0, "005", 5, size, 5)
    assert np.array_equal(T.raw.frames, film(0, "004", 5, size, 4).raw.frames)
    for method, name, frames, k in pair_videos(0, "004", "005", T, S, 3.0, 5):
        assert np.array_equal(processed(0, name, k, frames, T, 5), processed(0, name, k, frames, T, 4)), method


def test_version_5_set_is_written_and_labelled(tmp_path):
    v4 = generate(tmp_path / "v4", seed=0, pairs=(1, 1, 1), num_frames=4, version=4, workers=2)
    v5 = generate(tmp_path / "v5", seed=0, pairs=(1, 2, 1), num_frames=4, version=5, workers=2)
    assert v5["version"] == 5 and v5["pairs"] == [1, 2, 1] and v5["recipe"] == v4["recipe"]
    assert json.loads((tmp_path / "v5" / SYNTHETIC_MANIFEST).read_text()) == v5
    split = {name: json.loads((tmp_path / "v5" / "splits" / f"{name}.json").read_text())
             for name in ("train", "val", "test")}
    assert split == make_splits_v5(0, (1, 2, 1)) and len(split["val"]) == 2
    for name in ("train", "test"):  # the same videos, byte for byte
        vid = split[name][0][0]
        a, b = video_path(tmp_path / "v4", REAL, "c40", vid), video_path(tmp_path / "v5", REAL, "c40", vid)
        assert a.read_bytes() == b.read_bytes()
    extra = split["val"][1][0]
    assert video_path(tmp_path / "v5", REAL, "c40", extra).stat().st_size > 0
