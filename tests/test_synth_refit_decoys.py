"""Session 19's calibration decoys (off in every version): the refit, the re-render and the head wobble.

On version 5 the probe reads Face2Face at 0.97 from how much the inner face moves against its outline (the
re-enactment's tracker drift, which no real video had) and Deepfakes at 0.85 from many weak cues of its
low-resolution re-synthesis. The refit decoy gives every video that is not Face2Face's that same drift, drawn
from the same process at a strength drawn as a fake's (``dfbench.synth.fakes.inner_drift``); the re-render
passes every video that is not Deepfakes' through the Deepfakes pipeline with its own face as the source.
These tests pin that each is that and nothing else, and that no version changes while they are off; what
they measure is in docs/synthetic-data.md, "Session 19".
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from dfbench.layout import METHODS
from dfbench.synth import decoys as D
from dfbench.synth.dataset import STRENGTHS
from dfbench.synth.fakes import FAKE_STREAM, _strength
from dfbench.synth.pairs import V3, film, pair_videos, processed, recipe_of
from dfbench.synth.warp import clip_box

SIZE = (320, 240)
F2F = METHODS.index("Face2Face") + 1  # pair_videos' method index (0 is the real video)
DF = METHODS.index("Deepfakes") + 1
NAMES = [(f"{i:03d}" if k == 0 else f"{i:03d}_{i + 1:03d}", k) for k in range(5) for i in range(0, 400, 2)]


def test_the_knobs_are_off_in_every_version():
    assert D.REFIT_SHARE == D.REREND_SHARE == 0 and D.WOBBLE == 1.0
    assert (D.F2F_INDEX, D.DF_INDEX) == (F2F, DF)
    for v in (3, 4, 5):
        assert not {"REFIT_SHARE", "REREND_SHARE", "WOBBLE"} & set(recipe_of(v)["decoys"])
    assert all(D.Retouch.draw(0, name, k, 6.0).refit < 0 for name, k in NAMES)


def test_the_refit_copies_face2face_and_changes_no_other_draw():
    for name, k in NAMES:
        off, on = D.Retouch.draw(0, name, k, 6.0), D.Retouch.draw(0, name, k, 6.0, 1.0)
        assert replace(on, refit=-1.0, refit_seed=0) == off  # every other edit is the same
        assert (on.refit < 0) == (k == F2F), name  # Face2Face has its own drift; every other video gets one


def test_refit_strength_is_drawn_as_face2faces_own():
    """The decoy's strength and Face2Face's come from one distribution, so their drifts do too."""
    pairs = [(i, i + 1) for i in range(0, 1200, 2)]
    f2f = np.array([_strength(np.random.default_rng([0, FAKE_STREAM, t, s, F2F - 1]), STRENGTHS[5])
                    for t, s in pairs])
    real = np.array([D.Retouch.draw(0, f"{t:03d}", 0, 6.0, 1.0).refit for t, _ in pairs])
    assert D.REFIT_STRENGTH == STRENGTHS[5] and real.min() >= 0 and real.max() <= 1
    for q in (0.1, 0.25, 0.5, 0.75, 0.9):
        assert abs(np.quantile(real, q) - np.quantile(f2f, q)) < 0.06, q


@pytest.fixture(scope="module")
def people():
    return film(0, "004", 6, SIZE, 5), film(0, "005", 6, SIZE, 5)


def _near_face(T) -> np.ndarray:
    box = np.zeros(T.raw.frames.shape[1:3], bool)
    for lm in T.raw.landmarks:
        x0, y0, x1, y1 = clip_box(lm, SIZE[::-1], margin=8)
        box[y0:y1, x0:x1] = True
    return box


@pytest.mark.parametrize("knob,spared", [("REFIT_SHARE", F2F), ("REREND_SHARE", DF)])
def test_a_decoy_moves_only_the_face_and_spares_the_method_it_copies(monkeypatch, people, knob, spared):
    T, S = people
    box = _near_face(T)
    near = cv2.dilate(box.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0  # what the filming's blur reaches
    videos = list(pair_videos(0, "004", "005", T, S, 3.0, 5))
    before = [processed(0, name, k, frames, T, 5) for _, name, frames, k in videos]
    monkeypatch.setattr(D, knob, 1.0)
    for (method, name, frames, k), v5 in zip(videos, before):
        after = processed(0, name, k, frames, T, 5)
        if k == spared:
            assert np.array_equal(after, v5), method
            continue
        moved = np.abs(after.astype(np.float32) - v5.astype(np.float32)).max(axis=(0, 3)) > 0.5
        assert moved[box].mean() > 0.05, method  # the face changed
        assert not moved[~near].any(), method  # and nothing else did


def test_a_refit_needs_its_recipe(people):
    T = people[0]
    t = D.Retouch.draw(0, "004", 0, 6.0, 1.0)
    with pytest.raises(ValueError, match="recipe"):
        D.retouch(T.raw.frames, t, T.raw.landmarks, T.raw.points)
    assert D.retouch(T.raw.frames, t, T.raw.landmarks, T.raw.points, V3).shape == T.raw.frames.shape


def test_a_variant_names_its_knobs(monkeypatch):
    monkeypatch.setattr(D, "REFIT_SHARE", 1.0)
    monkeypatch.setattr(D, "REREND_SHARE", 0.5)
    monkeypatch.setattr(D, "WOBBLE", 3.0)
    named = recipe_of(3)["decoys"]
    assert {k: named[k] for k in ("REFIT_SHARE", "REFIT_STRENGTH", "REREND_SHARE", "WOBBLE")} == {
        "REFIT_SHARE": 1.0, "REFIT_STRENGTH": 3.0, "REREND_SHARE": 0.5, "WOBBLE": 3.0}


def test_wobble_scales_the_head_wobble_alone(monkeypatch):
    from dfbench.synth.filming import make_motion

    base = make_motion(0, "004", 40, SIZE)
    once = D.lively(0, "004", base)
    monkeypatch.setattr(D, "WOBBLE", 3.0)
    thrice = D.lively(0, "004", base)
    for attr in ("yaw", "pitch", "roll"):
        b, a1, a3 = (np.array([getattr(p, attr) for p in m.poses]) for m in (base, once, thrice))
        assert np.abs(a1 - b).max() > 1e-3 and np.allclose(a3 - b, 3 * (a1 - b)), attr
    assert [e.eyes for e in once.expressions] == [e.eyes for e in thrice.expressions]  # blinks are the same
