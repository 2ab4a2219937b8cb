"""The version-2 synthetic set: rendered faces, real manipulation operations, nuisances shared by all videos.

Small on purpose: one or two pairs of short videos. The probe gate on the full default set is in
test_synth_gate.py (slow).
"""

from __future__ import annotations

import json
from pathlib import Path

import decord
import numpy as np
import pytest

from dfbench import splits as S
from dfbench.layout import METHODS, REAL, SYNTHETIC_MANIFEST, boxes_path, video_path
from dfbench.synth import fakes as FK
from dfbench.synth import generate
from dfbench.synth.filming import Processing, processing_for
from dfbench.synth.pairs import film
from dfbench.synth.warp import colour_transfer, pwa_maps, similarity, triangulate, warp_pwa

SIZE = (320, 240)
TINY = dict(seed=0, compression="c40", pairs=(1, 0, 1), num_frames=8, version=2)


def decode(path: Path) -> np.ndarray:
    vr = decord.VideoReader(str(path))
    return vr.get_batch(list(range(len(vr)))).asnumpy()


@pytest.fixture(scope="module")
def tiny2(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("synth2") / "ffpp"
    return root, generate(root, **TINY, workers=1)


@pytest.fixture(scope="module")
def pair():
    """Target and source filmed for 6 frames, and each method's fake of the target."""
    T, Src = film(0, "000", 6, SIZE), film(0, "001", 6, SIZE)
    fakes = {m: FK.MANIPULATIONS[m](T, Src, np.random.default_rng([0, k]), 1.0)
             for k, m in enumerate(METHODS)}
    return T, Src, fakes


def test_version_2_layout_manifest_and_boxes(tiny2):
    root, manifest = tiny2
    assert manifest["version"] == 2 and manifest["frame_size"] == list(SIZE) and manifest["videos"] == 20
    assert json.loads((root / SYNTHETIC_MANIFEST).read_text()) == manifest
    for split in ("train", "test"):
        for a, b in S.load(root)[split]:
            paths = [video_path(root, REAL, "c40", i) for i in (a, b)]
            paths += [video_path(root, m, "c40", n) for m in METHODS for n in (f"{a}_{b}", f"{b}_{a}")]
            for p in paths:
                frames = decode(p)
                assert frames.shape == (8, 240, 320, 3)
                boxes = np.array(json.loads(boxes_path(p).read_text())["boxes"])
                assert boxes.shape == (8, 4)
                assert (boxes[:, 2] - boxes[:, 0] >= 90).all()  # faces about 96 px across or more
                assert (boxes[:, 3] - boxes[:, 1] >= 90).all()


def test_version_2_is_deterministic_and_its_own_set(tiny2, tmp_path):
    root, manifest = tiny2
    again = generate(tmp_path / "again", **TINY, workers=2)
    assert again == manifest
    a, b = S.load(root)["test"][0]
    for method, name in ((REAL, a), ("Deepfakes", f"{a}_{b}")):
        assert video_path(root, method, "c40", name).read_bytes() == \
            video_path(tmp_path / "again", method, "c40", name).read_bytes()
    v1 = generate(tmp_path / "v1", seed=0, pairs=(1, 0, 1), num_frames=8, version=1, workers=1)
    assert v1["version"] == 1 and v1["frame_size"] == [192, 144]


def test_an_unknown_version_is_refused(tmp_path):
    from dfbench.errors import DfbenchError
    from dfbench.synth.dataset import VERSIONS

    with pytest.raises(DfbenchError, match="version"):
        generate(tmp_path / "x", pairs=(1, 0, 0), version=max(VERSIONS) + 1)


def test_the_landmarks_are_the_faces(pair):
    """Landmark boxes sit on the drawn face: skin-coloured inside, and the face moves with them."""
    T, _, _ = pair
    lm = T.raw.landmarks
    assert lm.shape == (6, 68, 2)
    nose = np.round(lm[:, 30]).astype(int)
    skin = T.person.skin
    for i, (x, y) in enumerate(nose):
        assert np.abs(T.raw.frames[i, y - 2:y + 3, x - 2:x + 3].mean((0, 1)) - skin).mean() < 90


def test_each_fake_changes_the_face_and_only_the_face(pair):
    T, _, fakes = pair
    lm = T.raw.landmarks
    for m, fake in fakes.items():
        for i in range(len(fake)):
            d = np.abs(fake[i] - T.raw.frames[i]).mean(-1)
            (x0, y0), (x1, y1) = lm[i].min(0) - 14, lm[i].max(0) + 14
            outside = np.ones_like(d, bool)
            outside[int(max(y0, 0)):int(y1), int(max(x0, 0)):int(x1)] = False
            assert d[outside].max() == 0, m  # nothing outside the face
            assert d[~outside].mean() > 0.1, m  # NeuralTextures: the mouth only


def test_neural_textures_touches_the_mouth_only(pair):
    T, _, fakes = pair
    lm = T.raw.landmarks
    for i in range(len(T.raw.frames)):
        d = np.abs(fakes["NeuralTextures"][i] - T.raw.frames[i]).mean(-1)
        eyes_y = int(lm[i][36:48, 1].max()) + 2
        assert d[:eyes_y].max() == 0  # eyes, brows and forehead untouched
        assert d[int(lm[i][48:68, 1].min()):int(lm[i][48:68, 1].max())].mean() > 0.2


def test_face2face_keeps_the_targets_own_skin(pair):
    """Face2Face warps T's own frame: the face keeps T's colours; FaceSwap brings S's."""
    T, _, fakes = pair
    lm = T.raw.landmarks[3]
    (x0, y0), (x1, y1) = lm.min(0).astype(int) + 10, lm.max(0).astype(int) - 10
    real = T.raw.frames[3, y0:y1, x0:x1].mean((0, 1))
    assert np.abs(fakes["Face2Face"][3][y0:y1, x0:x1].mean((0, 1)) - real).max() < 4


def test_deepfakes_change_from_frame_to_frame_more_than_the_face_does(pair):
    """Each frame is synthesised on its own: the fake's residual from the real face changes between frames."""
    T, _, fakes = pair
    res = np.stack([fakes["Deepfakes"][i] - T.raw.frames[i] for i in range(6)])
    lm = T.raw.landmarks[0]
    (x0, y0), (x1, y1) = lm.min(0).astype(int) + 8, lm.max(0).astype(int) - 8
    assert np.abs(np.diff(res[:, y0:y1, x0:x1], axis=0)).mean() > 0.5


def test_processing_is_drawn_alike_for_real_and_fake_videos():
    """The nuisances come from one distribution whatever the method: no trace only fakes have."""
    draws = {k: [processing_for(0, f"{i:03d}" if k == 0 else f"{i:03d}_{i + 1:03d}", k) for i in range(400)]
             for k in range(5)}
    for field in ("blur", "sharpen", "downscale", "noise", "smooth_skin", "gamma"):
        means = [np.mean([getattr(p, field) for p in draws[k]]) for k in range(5)]
        spread = np.std([getattr(p, field) for p in draws[0]])
        assert np.ptp(means) < 0.25 * spread + 1e-9, field
    assert isinstance(draws[0][0], Processing)


def test_piecewise_affine_warp_moves_points_where_asked():
    rng = np.random.default_rng(0)
    src = np.array([[10, 10], [90, 10], [90, 90], [10, 90], [50, 50]], np.float64)
    dst = src + rng.normal(0, 3, src.shape)
    tris = triangulate(src)
    img = np.zeros((100, 100, 3), np.float32)
    img[48:53, 48:53] = 255  # a dot on the middle point
    out, inside = warp_pwa(img, src, dst, tris, (0, 0, 100, 100))
    ys, xs = np.nonzero(out[..., 0] > 128)
    assert abs(xs.mean() - dst[4, 0]) < 1.0 and abs(ys.mean() - dst[4, 1]) < 1.0
    mx, my, ins = pwa_maps(src, dst, tris, (0, 0, 100, 100), step=2)
    assert ins.sum() > 0.8 * inside.sum()
    m = similarity(src, src * 2 + 3)
    assert np.allclose(m, [[2, 0, 3], [0, 2, 3]], atol=1e-9)


def test_colour_transfer_matches_the_statistics():
    rng = np.random.default_rng(0)
    src = rng.uniform(50, 100, (40, 40, 3)).astype(np.float32)
    ref = rng.uniform(120, 200, (40, 40, 3)).astype(np.float32)
    mask = np.ones((40, 40), np.float32)
    out = colour_transfer(src, ref, mask)
    assert np.abs(out.mean((0, 1)) - ref.mean((0, 1))).max() < 6
    assert np.allclose(colour_transfer(src, ref, mask, amount=0.0), src, atol=1.0)  # Lab and back, rounded


def test_cli_writes_version_2_on_request_and_the_embedded_version_by_default(cli, tmp_path):
    code, out, err = cli("data", "synth", "--out", str(tmp_path / "v2"), "--version", "2", "--pairs", "1,1,1",
                         "--frames", "4")
    assert code == 0, err
    assert out.strip() == f"{tmp_path / 'v2'}: 30 videos, c40 (QP 40), seed 0, version 2"
    assert json.loads((tmp_path / "v2" / SYNTHETIC_MANIFEST).read_text())["frame_size"] == [320, 240]
    code, out, err = cli("data", "synth", "--out", str(tmp_path / "v5"), "--pairs", "1,1,1", "--frames", "4")
    assert code == 0 and out.strip().endswith("30 videos, c40 (QP 40), seed 0, version 5"), err
    code, out, err = cli("data", "synth", "--out", str(tmp_path / "v1"), "--version", "1", "--pairs", "1,1,1",
                         "--frames", "4")
    assert code == 0 and out.strip().endswith("30 videos, c40 (QP 40), seed 0, version 1"), err
    assert json.loads((tmp_path / "v1" / SYNTHETIC_MANIFEST).read_text())["frame_size"] == [192, 144]


def test_the_embedded_default_is_version_5_at_the_demo_size_for_run_and_synth(cli, tmp_path, monkeypatch):
    """`dfbench run` without --data and `dfbench data synth` without --version make the same set: version 5 at
    24,6,16 pairs, in a folder named by version and size (an older default's set stays where it was)."""
    from dfbench import synth
    from dfbench.cache import embedded_dataset

    calls = []
    monkeypatch.setattr(synth, "generate", lambda out, **kw: calls.append((out, kw)) or {"videos": 0, "qp": 40,
                                                                                        "version": kw["version"]})
    out = embedded_dataset(tmp_path, "c40")
    assert out == tmp_path / "synthetic" / "ffpp-c40-seed0-v5-24x6x16"
    assert (calls[0][1]["version"], calls[0][1]["pairs"], calls[0][1]["seed"]) == (5, (24, 6, 16), 0)
    code, _, err = cli("data", "synth", "--out", str(tmp_path / "d"))
    assert code == 0, err
    assert (calls[1][1]["version"], calls[1][1]["pairs"]) == (5, (24, 6, 16))
    code, _, err = cli("data", "synth", "--out", str(tmp_path / "f"), "--version", "5")
    assert code == 0, err
    assert (calls[2][1]["version"], calls[2][1]["pairs"]) == (5, None)  # the version's full size, 288,32,64


def test_records_name_the_generator_version(tiny2, tiny_synth):
    from dfbench.layout import open_root

    root, _ = tiny2
    assert open_root(root, "c40").kind == "synthetic-v2-1x0x1"  # version and size: file names, the Source column
    assert open_root(tiny_synth, "c40").kind == "synthetic-2x1x1"  # version 1 names no version, but its size
