"""The synthetic FF++ set: layout, splits, decodable H.264 at the stated QP, boxes, determinism, traces."""

from __future__ import annotations

import json
import re
from pathlib import Path

import decord
import numpy as np
import pytest

from dfbench import layout
from dfbench import splits as S
from dfbench.errors import DfbenchError
from dfbench.layout import METHODS, REAL, SYNTHETIC_MANIFEST, boxes_path, video_path
from dfbench.synth import MANIPULATIONS, generate
from dfbench.synth.canvas import canvas_for
from dfbench.synth.identity import make_identity, rng_for
from dfbench.synth.motion import make_motion
from dfbench.synth.render import render_face

SMALL = dict(seed=0, compression="c40", pairs=(2, 1, 1), num_frames=12)


def decode(path: Path) -> np.ndarray:
    vr = decord.VideoReader(str(path))
    return vr.get_batch(list(range(len(vr)))).asnumpy()


def all_videos(root: Path, compression: str) -> list[tuple[str, str]]:
    """(method, name) of every video the splits promise."""
    sp = S.load(root)
    out = []
    for split in S.SPLITS:
        out += [(REAL, i) for i in S.ids(sp[split])]
        out += [(m, n) for m in METHODS for n in S.fake_names(sp[split])]
    return out


def x264_settings(path: Path) -> dict[str, str]:
    """The encoder settings x264 writes into every stream it encodes (an SEI message)."""
    sei = re.search(rb"x264 - core [^\x00]*", path.read_bytes()).group()
    return dict(kv.split("=", 1) for kv in sei.decode("latin-1").split(" ") if "=" in kv)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict, list]:
    """A 2/1/1-pair set of 12-frame videos, with the progress calls it made."""
    calls = []
    root = tmp_path_factory.mktemp("synth") / "ffpp"
    manifest = generate(root, **SMALL, progress=lambda done, total: calls.append((done, total)))
    return root, manifest, calls


def test_generate_writes_the_ffpp_layout_for_every_pair(small):
    root, manifest, _ = small
    sp = S.load(root)
    for split in S.SPLITS:
        for a, b in sp[split]:
            for i in (a, b):
                assert video_path(root, REAL, "c40", i).is_file()
                assert boxes_path(video_path(root, REAL, "c40", i)).is_file()
            for m in METHODS:
                for name in (f"{a}_{b}", f"{b}_{a}"):
                    assert video_path(root, m, "c40", name).is_file()
                    assert boxes_path(video_path(root, m, "c40", name)).is_file()
    assert (root / "original_sequences/youtube/c40/videos/000.mp4").is_file()
    n_mp4 = len(list(root.rglob("*.mp4")))
    assert n_mp4 == manifest["videos"] == 2 * 4 * (1 + 4)
    assert layout.open_root(root, "c40").kind == "synthetic-2x1x1"  # version 1, not its full size (24,6,6)


def test_splits_are_official_format_disjoint_and_sized(small):
    root, _, _ = small
    raw = {s: json.loads((root / "splits" / f"{s}.json").read_text()) for s in S.SPLITS}
    assert [len(raw[s]) for s in S.SPLITS] == [2, 1, 1]
    assert all(isinstance(p, list) and len(p) == 2 and all(re.fullmatch(r"\d{3}", i) for i in p)
               for s in S.SPLITS for p in raw[s])
    ids = [i for s in S.SPLITS for p in raw[s] for i in p]
    assert sorted(ids) == [f"{i:03d}" for i in range(8)]  # every id once: disjoint splits
    S.check_disjoint(S.load(root))


def test_manifest_values_and_progress(small):
    root, manifest, calls = small
    on_disk = json.loads((root / SYNTHETIC_MANIFEST).read_text())
    assert on_disk == manifest
    assert manifest == {
        "generator": "dfbench.synth", "version": 1, "seed": 0, "compression": "c40", "qp": 40,
        "pairs": [2, 1, 1], "num_frames": 12, "frame_size": [192, 144], "fps": 25,
        "methods": ["Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures"], "strength": 2.0, "videos": 40,
    }
    assert calls[0] == (0, 40) and calls[-1] == (40, 40)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_every_video_decodes_with_all_frames_and_boxes(small):
    root, _, _ = small
    for method, name in all_videos(root, "c40"):
        path = video_path(root, method, "c40", name)
        vr = decord.VideoReader(str(path))
        assert len(vr) == 12
        assert vr[0].shape == (144, 192, 3)
        assert vr.get_avg_fps() == 25
        boxes = np.array(json.loads(boxes_path(path).read_text())["boxes"])
        assert boxes.shape == (12, 4)
        assert (boxes[:, 0] >= 0).all() and (boxes[:, 1] >= 0).all()
        assert (boxes[:, 2] <= 191).all() and (boxes[:, 3] <= 143).all()
        h = boxes[:, 3] - boxes[:, 1]
        assert ((h > 0.25 * 144) & (h < 0.75 * 144)).all()  # a face, not the frame
        assert (boxes[:, 2] - boxes[:, 0] > 0.2 * 192).all()


def test_fakes_keep_the_target_boxes(small):
    root, _, _ = small
    a, b = S.load(root)["train"][0]
    real = json.loads(boxes_path(video_path(root, REAL, "c40", a)).read_text())
    for m in METHODS:
        assert json.loads(boxes_path(video_path(root, m, "c40", f"{a}_{b}")).read_text()) == real


def test_fakes_differ_from_their_target_inside_the_face_box(small):
    root, _, _ = small
    for a, b in S.load(root)["train"]:
        real = decode(video_path(root, REAL, "c40", a)).astype(np.float32)
        inside = np.zeros(real.shape[:3], bool)
        for i, (x0, y0, x1, y1) in enumerate(json.loads(boxes_path(video_path(root, REAL, "c40", a)).read_text())
                                             ["boxes"]):
            inside[i, int(y0):int(y1) + 1, int(x0):int(x1) + 1] = True
        for m in METHODS:
            diff = np.abs(decode(video_path(root, m, "c40", f"{a}_{b}")).astype(np.float32) - real).mean(-1)
            assert diff[inside].mean() > 1.0, m  # NeuralTextures changes the mouth only
            assert diff[inside].mean() > 1.5 * diff[~inside].mean(), m


def test_same_seed_same_frames_any_worker_count(small, tmp_path):
    root, manifest, _ = small
    again = generate(tmp_path / "again", **SMALL, workers=1)
    assert again == manifest
    for method, name in [(REAL, "000"), ("FaceSwap", "_".join(S.load(root)["test"][0]))]:
        assert np.array_equal(decode(video_path(root, method, "c40", name)),
                              decode(video_path(tmp_path / "again", method, "c40", name)))
    assert (tmp_path / "again/splits/train.json").read_text() == (root / "splits/train.json").read_text()


def test_other_seed_other_frames(small, tmp_path):
    root, _, _ = small
    generate(tmp_path / "s1", seed=1, pairs=(1, 0, 0), num_frames=12, workers=1)
    a = decode(video_path(root, REAL, "c40", "000")).astype(np.float32)
    b = decode(video_path(tmp_path / "s1", REAL, "c40", "000")).astype(np.float32)
    assert np.abs(a - b).mean() > 10


def test_quantiser_is_the_compression_level(small, tmp_path):
    root, _, _ = small
    generate(tmp_path / "c23", seed=0, compression="c23", pairs=(1, 0, 0), num_frames=12, workers=1)
    c40 = video_path(root, REAL, "c40", "000")
    c23 = video_path(tmp_path / "c23", REAL, "c23", "000")
    assert x264_settings(c40)["qp"] == "40" and x264_settings(c40)["rc"] == "cqp"
    assert x264_settings(c23)["qp"] == "23"
    assert c40.stat().st_size < 0.6 * c23.stat().st_size
    # the same content: only the quantisation differs
    assert np.abs(decode(c40).astype(np.float32) - decode(c23).astype(np.float32)).mean() < 6


def test_complete_set_is_not_regenerated(small):
    root, manifest, _ = small
    mtimes = {p: p.stat().st_mtime_ns for p in [root / SYNTHETIC_MANIFEST, video_path(root, REAL, "c40", "000")]}
    assert generate(root, **SMALL) == manifest
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes


def test_manifest_is_written_last(small):
    root, _, _ = small
    manifest_time = (root / SYNTHETIC_MANIFEST).stat().st_mtime_ns
    assert all(p.stat().st_mtime_ns <= manifest_time for p in root.rglob("*") if p.is_file())


def test_unfinished_set_is_completed(tmp_path):
    args = dict(seed=0, pairs=(1, 0, 0), num_frames=4, workers=1)
    root = tmp_path / "ffpp"
    generate(root, **args)
    fake = video_path(root, "NeuralTextures", "c40", "_".join(S.load(root)["train"][0]))
    before = decode(fake)
    (root / SYNTHETIC_MANIFEST).unlink()
    fake.unlink()  # an interrupted run: no manifest, a video missing
    generate(root, **args)
    assert (root / SYNTHETIC_MANIFEST).is_file()
    assert np.array_equal(decode(fake), before)


def test_other_arguments_replace_the_set(tmp_path):
    root = tmp_path / "ffpp"
    generate(root, seed=0, pairs=(2, 0, 0), num_frames=4, workers=1)
    m = generate(root, seed=0, pairs=(1, 0, 0), num_frames=4, workers=1)
    assert m["pairs"] == [1, 0, 0]
    assert len(list(root.rglob("*.mp4"))) == m["videos"] == 10  # nothing left of the larger set


def test_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "original_sequences" / "youtube" / "c40" / "videos").mkdir(parents=True)
    with pytest.raises(DfbenchError, match="not empty and not a dfbench synthetic set"):
        generate(tmp_path, pairs=(1, 0, 0), num_frames=4, workers=1)


@pytest.mark.parametrize("kwargs", [dict(compression="c30"), dict(frame_size=(191, 144)), dict(pairs=(0, 0, 0)),
                                    dict(num_frames=0), dict(seed=-1)])
def test_bad_arguments_are_refused(tmp_path, kwargs):
    with pytest.raises(DfbenchError):
        generate(tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_strength_scales_the_traces():
    """At strength 0 a fake is the bare identity or expression change; its traces grow with strength."""
    size, n = (192, 144), 6
    cv = canvas_for(size[1])
    T, Src = make_identity(0, "000", size), make_identity(0, "001", size)
    mt, ms = make_motion(0, "000", n, size), make_motion(0, "001", n, size)
    real = [render_face(T, cv, mt.eyes[i], mt.mouth[i], mt.gaze[i]) for i in range(n)]
    inside = T.face_alpha > 0.5

    def fake(method, strength):
        return MANIPULATIONS[method](real, T, Src, mt, ms, cv, rng_for(0, 99), strength)

    def distance(x, y):
        return np.mean([np.abs(a - b)[inside].mean() for a, b in zip(x, y)])

    for method in MANIPULATIONS:
        bare = fake(method, 0.0)
        assert 0.3 < distance(fake(method, 1.0), bare) < distance(fake(method, 2.0), bare), method
    assert distance(fake("NeuralTextures", 0.0), real) < 1.0  # T's own face, only the mouth from S
