"""The version-3 synthetic set: version 2's faces and operations, with decoys every video gets.

Small on purpose: one pair of short videos. What version 3 changes is measured on the full set in
docs/synthetic-data.md (the probe and the clip models), not here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from dfbench.layout import SYNTHETIC_MANIFEST
from dfbench.synth import decoys as D
from dfbench.synth import fakes as FK
from dfbench.synth import generate
from dfbench.synth.filming import make_motion
from dfbench.synth.pairs import RECIPES, film, recipe_of

SIZE = (320, 240)


def test_version_2_keeps_its_recipe():
    """Version 2's output must never change: its recipe is the manipulations' defaults, field by field."""
    assert RECIPES[2] == FK.Recipe() == FK.V2
    from dataclasses import asdict

    assert asdict(FK.V2) == dict(f2f_drift=0.0, f2f_white=0.35, f2f_corr=2.5, f2f_jaw=True, f2f_tint=1.0, f2f_pops=0.0,
                                 f2f_pop_px=0.0, nt_shift=0.0, nt_white=0.3, nt_corr=2.0, nt_tint=1.0, nt_pops=0.0,
                                 nt_pop_px=0.0, fit_corr=3.0, fit_white=0.2, df_code_corr=2.0)
    assert RECIPES[3] != RECIPES[2]


def test_version_2_films_without_decoys_and_version_3_with_them():
    v2, v3 = film(0, "004", 12, SIZE, 2), film(0, "004", 12, SIZE, 3)
    assert v2.person.vid == v3.person.vid
    base = make_motion(0, "004", 12, SIZE)
    assert [p.yaw for p in v2.motion.poses] == [p.yaw for p in base.poses]
    assert not np.allclose([p.yaw for p in v3.motion.poses], [p.yaw for p in base.poses])


def test_lively_adds_the_persons_own_motion_deterministically():
    base = make_motion(0, "007", 48, SIZE)
    a, b = D.lively(0, "007", base), D.lively(0, "007", base)
    gaze = np.array([e.gaze_x for e in a.expressions])
    assert gaze.tolist() == [e.gaze_x for e in b.expressions]
    assert np.abs(gaze).max() <= 1.0
    eyes = np.array([e.eyes for e in a.expressions])
    assert eyes.min() < 0.7 and (eyes <= np.array([e.eyes for e in base.expressions]) + 1e-12).all()  # only closes
    turn = np.diff([p.yaw for p in a.poses]) - np.diff([p.yaw for p in base.poses])
    assert 0 < np.abs(turn).max() < 0.1  # a wobble, not a head turn


def test_retouch_is_drawn_alike_for_real_and_fake_videos():
    """The decoys come from one distribution whatever the method: no trace only fakes have."""
    draws = {k: [D.Retouch.draw(0, f"{i:03d}" if k == 0 else f"{i:03d}_{i + 1:03d}", k) for i in range(600)]
             for k in range(5)}
    for stat in (lambda t: bool(t.kind), lambda t: t.kind == "blur", lambda t: t.eyes > 0, lambda t: abs(t.colour[0])):
        means = [np.mean([stat(t) for t in draws[k]]) for k in range(5)]
        assert np.ptp(means) < 0.1 * max(np.mean(means), 1e-9) + 0.06, means
    share = np.mean([bool(t.kind) for t in draws[0]])
    assert abs(share - D.TOUCH_SHARE) < 0.06
    assert abs(np.mean([t.eyes > 0 for t in draws[0]]) - D.RESHAPE_SHARE) < 0.06


@pytest.mark.parametrize("kind", ["blur", "down", "sharpen", "tone"])
def test_retouch_edits_the_face_only(kind):
    v = film(0, "003", 4, SIZE, 3)
    t = D.Retouch(kind, {"blur": 1.5, "down": 0.5, "sharpen": 1.0, "tone": 0.0}[kind], (8.0, -4.0, 2.0), 3.0,
                  eyes=0.1, slim=0.04)
    out = D.retouch(v.raw.frames, t, v.raw.landmarks, v.raw.points)
    diff = np.abs(out - v.raw.frames).max(-1)
    for i in range(4):
        lm = v.raw.landmarks[i]
        (x0, y0), (x1, y1) = lm.min(0).astype(int) - 10, lm.max(0).astype(int) + 10
        outside = diff[i].copy()
        outside[max(y0, 0):y1, max(x0, 0):x1] = 0
        assert outside.max() == 0
        c = lm[30].astype(int)  # the nose tip: inside the face, so edited
        assert diff[i, c[1] - 3:c[1] + 4, c[0] - 3:c[0] + 4].mean() > 0.5


def test_focus_hunting_blurs_the_whole_frame_by_a_wandering_amount():
    v = film(0, "003", 24, SIZE, 3)
    t = D.Retouch("", 0.0, (0.0, 0.0, 0.0), 3.0, focus=1.2, focus_seed=5)
    out = D.retouch(v.raw.frames, t, v.raw.landmarks, v.raw.points)
    corner = np.abs(out[:, :40, :40] - v.raw.frames[:, :40, :40]).mean((1, 2, 3))  # background: edited too
    assert corner.max() > 0.5 and corner.max() > 3 * np.median(corner) + 1e-6  # blur that comes and goes
    assert np.array_equal(D.retouch(v.raw.frames, t, v.raw.landmarks, v.raw.points), out)


def test_sway_is_off_by_default_and_drawn_alike_for_real_and_fake_videos(monkeypatch):
    """The opt-in sway decoy (docs/synthetic-data.md, session 7): off in version 3 as committed; switched on,
    every method's videos get it from one distribution."""
    assert D.SWAY == 0.0 and all(D.Retouch.draw(0, f"{i:03d}", 0).sway == 0.0 for i in range(50))
    monkeypatch.setattr(D, "SWAY", 6.0)
    draws = {k: [D.Retouch.draw(0, f"{i:03d}" if k == 0 else f"{i:03d}_{i + 1:03d}", k) for i in range(600)]
             for k in range(5)}
    shares = [np.mean([t.sway > 0 for t in draws[k]]) for k in range(5)]
    assert max(abs(s - D.SWAY_SHARE) for s in shares) < 0.06, shares
    amps = [t.sway for t in draws[0] if t.sway]
    assert 0.3 <= min(amps) and max(amps) <= 6.0
    assert recipe_of(3)["decoys"]["SWAY"] == 6.0 and recipe_of(3)["decoys"]["SWAY_FREQ"] == [0.05, 0.14]
    before = [(t.kind, t.colour, t.eyes) for t in draws[0]]
    monkeypatch.setattr(D, "SWAY", 0.0)
    assert before == [(t.kind, t.colour, t.eyes) for t in (D.Retouch.draw(0, f"{i:03d}", 0) for i in range(600))]
    assert "SWAY" not in recipe_of(3)["decoys"]  # off: the manifest (and fingerprint) of a set made before it


def test_sway_moves_the_inner_face_smoothly_and_nothing_outside_it():
    v = film(0, "003", 24, SIZE, 3)
    t = D.Retouch("", 0.0, (0.0, 0.0, 0.0), 3.0, sway=3.0, sway_freq=0.08, sway_seed=11)
    out = D.retouch(v.raw.frames, t, v.raw.landmarks, v.raw.points)
    diff = np.abs(out - v.raw.frames).max(-1)
    lm = v.raw.landmarks[0]
    (x0, y0), (x1, y1) = lm.min(0).astype(int) - 10, lm.max(0).astype(int) + 10
    outside = diff[0].copy()
    outside[max(y0, 0):y1, max(x0, 0):x1] = 0
    assert outside.max() == 0
    moved = diff.mean((1, 2))
    assert moved.max() > 0.05  # the eyes, nose and mouth moved in some frames
    rs = np.random.default_rng(11)
    path = D._band(rs, 24, 0.08)[:, :2] * 3.0
    assert np.abs(np.diff(path, axis=0)).max() < 0.5 * np.abs(path).max()  # smooth: small steps, larger sway
    white = D.Retouch("", 0.0, (0.0, 0.0, 0.0), 3.0, sway=3.0, sway_freq=0.08, sway_seed=11, sway_white=0.6)
    assert not np.array_equal(D.retouch(v.raw.frames, white, v.raw.landmarks, v.raw.points), out)


def test_reshape_enlarges_the_eyes_and_slims_the_jaw():
    v = film(0, "003", 1, SIZE, 3)
    p = v.raw.points[0]
    moved = D._reshaped(p, D.Retouch("", 0.0, (0.0, 0.0, 0.0), 3.0, eyes=0.1, slim=0.05))
    for eye in (36, 42):
        assert np.ptp(moved[eye:eye + 6, 0]) == pytest.approx(1.1 * np.ptp(p[eye:eye + 6, 0]))
    assert np.ptp(moved[3:14, 0]) < np.ptp(p[3:14, 0])
    assert np.array_equal(moved[17:36], p[17:36]) and np.array_equal(moved[68:], p[68:])


def test_version_3_set_is_written_and_labelled(tmp_path, cli):
    manifest = generate(tmp_path / "v3", seed=0, pairs=(1, 0, 1), num_frames=6, version=3, workers=2)
    assert manifest["version"] == 3 and manifest["strength"] == 3.0 and manifest["frame_size"] == [320, 240]
    assert json.loads((tmp_path / "v3" / SYNTHETIC_MANIFEST).read_text()) == manifest
    code, out, err = cli("data", "synth", "--out", str(tmp_path / "cli3"), "--version", "3", "--pairs", "1,1,1",
                         "--frames", "4")
    assert code == 0, err
    assert out.strip() == f"{tmp_path / 'cli3'}: 30 videos, c40 (QP 40), seed 0, version 3"


def test_version_3_manifest_names_its_recipe(tmp_path):
    """A record made on version 3 must say how its fakes were made: the recipe is in the manifest."""
    from dataclasses import asdict

    from dfbench.synth.dataset import _manifest

    m3 = _manifest(0, "c40", (1, 0, 1), 6, (320, 240), 3.0, 3)
    assert m3["recipe"]["manipulations"] == asdict(RECIPES[3])
    assert m3["recipe"]["decoys"]["TOUCH_SHARE"] == D.TOUCH_SHARE
    assert "recipe" not in _manifest(0, "c40", (1, 0, 1), 6, (320, 240), 1.0, 2)  # version 2's manifest as before
