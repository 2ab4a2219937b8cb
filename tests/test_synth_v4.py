"""The version-4 synthetic set: version 3 with the expression sway decoy on, 288 training and 64 test pairs.

Version 4 is session 9's calibration variant e16 made a named version, so the set the docs measure is
one `dfbench data synth --version 4` away. These tests pin that it is exactly that variant (same
draws, same pixels) and that version 3 keeps its manifest. What it measures is in
docs/synthetic-data.md, "Version 4".
"""

from __future__ import annotations

import json

import numpy as np

from dfbench.layout import SYNTHETIC_MANIFEST
from dfbench.synth import decoys as D
from dfbench.synth import generate
from dfbench.synth.dataset import PAIRS
from dfbench.synth.pairs import V4_SWAY, film, pair_videos, processed, recipe_of

SIZE = (320, 240)


VIDEOS = [(f"{i:03d}" if k == 0 else f"{i:03d}_{i + 1:03d}", k) for k in range(5) for i in range(40)]  # real, fakes


def test_version_4_is_version_3_with_the_sway_on(monkeypatch):
    assert recipe_of(4)["manipulations"] == recipe_of(3)["manipulations"]
    assert recipe_of(4)["decoys"]["SWAY"] == V4_SWAY == 6.0 and "SWAY" not in recipe_of(3)["decoys"]
    v4 = [D.Retouch.draw(0, name, k, V4_SWAY) for name, k in VIDEOS]
    assert np.mean([t.sway > 0 for t in v4]) > 0.6  # most videos sway (SWAY_SHARE 0.8)
    monkeypatch.setattr(D, "SWAY", 6.0)  # the calibration script's variant e16: the module constant set
    e16 = [D.Retouch.draw(0, name, k) for name, k in VIDEOS]
    assert v4 == e16
    assert recipe_of(3)["decoys"] == recipe_of(4)["decoys"]  # and its manifest names the same decoys


def test_version_4_pixels_equal_the_calibration_variant(monkeypatch):
    """A video of version 4 is byte for byte the one variant e16 (version 3 with SWAY = 6) made."""
    T, S = film(0, "004", 5, SIZE, 4), film(0, "005", 5, SIZE, 4)
    assert np.array_equal(T.raw.frames, film(0, "004", 5, SIZE, 3).raw.frames)  # filming is version 3's
    method, name, frames, k = next(v for v in pair_videos(0, "004", "005", T, S, 3.0, 4) if v[0] == "Face2Face")
    assert D.Retouch.draw(0, name, k, V4_SWAY).sway > 0  # this video sways, so the comparison can fail
    v4 = processed(0, name, k, frames, T, 4)
    assert not np.array_equal(v4, processed(0, name, k, frames, T, 3))  # version 3 (no sway) differs
    monkeypatch.setattr(D, "SWAY", 6.0)
    assert np.array_equal(v4, processed(0, name, k, frames, T, 3))


def test_version_4_set_is_written_and_labelled(tmp_path, cli):
    assert PAIRS[4] == (288, 6, 64)
    manifest = generate(tmp_path / "v4", seed=0, pairs=(1, 0, 1), num_frames=4, version=4, workers=2)
    assert manifest["version"] == 4 and manifest["strength"] == 3.0 and manifest["recipe"]["decoys"]["SWAY"] == 6.0
    assert json.loads((tmp_path / "v4" / SYNTHETIC_MANIFEST).read_text()) == manifest
    code, out, err = cli("data", "synth", "--out", str(tmp_path / "cli4"), "--version", "4", "--pairs", "1,1,1",
                         "--frames", "4")
    assert code == 0, err
    assert out.strip() == f"{tmp_path / 'cli4'}: 30 videos, c40 (QP 40), seed 0, version 4"
