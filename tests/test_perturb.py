"""dfbench.perturb: DeeperForensics-1.0's perturbations (and dfbench's QP sweep) against their definitions."""

import hashlib
import re

import cv2
import decord
import numpy as np
import pytest

from dfbench import perturb as P
from dfbench.errors import BadVideoError, DfbenchError
from dfbench.synth.encode import write_h264

# BT.601 studio-range YCbCr in [0, 1] units, without the offsets (MATLAB's rgb2ycbcr / 255): an independent
# conversion, not the module's OpenCV one.
_YCC = np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]) / 255


def ycc(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(np.float64) / 255) @ _YCC.T


def chroma_8bit(rgb: np.ndarray) -> np.ndarray:
    """Cb, Cr as 8-bit studio-range code values (neutral 128)."""
    return ycc(rgb)[..., 1:] * 255 + 128


def textured(n=8, h=48, w=64, seed=0) -> np.ndarray:
    """Random RGB frames with texture at several scales (smooth blobs plus fine noise), drifting per frame."""
    g = np.random.default_rng(seed)
    coarse = cv2.resize(g.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    out = []
    for i in range(n):
        frame = np.roll(coarse, i, axis=1).astype(np.int16) + g.integers(-40, 41, (h, w, 3))
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
    return np.stack(out)


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def decode(path) -> tuple[np.ndarray, float]:
    vr = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)
    return vr.get_batch(list(range(len(vr)))).asnumpy(), vr.get_avg_fps()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("perturb") / "src.mp4"
    write_h264(path, textured(), qp=20, fps=30)
    return path


def run(frames, text, seed=0):
    return P.perturb_frames(frames, P.parse(text), np.random.default_rng(seed))


# --- the catalogue --------------------------------------------------------------------------------

def test_standard_settings():
    settings = P.standard()
    assert len(settings) == 40
    keys = [p.key for p in settings]
    assert len(set(keys)) == 40
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+", k) for k in keys)
    assert list(P.TYPES) == ["saturation", "contrast", "block", "noise", "blur", "pixelation", "crf", "qp"]
    assert [p.spec.code for p in settings[:35:5]] == ["CS", "CC", "BW", "GNC", "GB", "JPEG", "VC"]
    assert [p.type for p in settings[35:]] == ["qp"] * 5
    # DeeperForensics-1.0's get_distortion_parameter, mildest first
    assert {t.code: t.levels for t in P.TYPES.values()} == {
        "CS": (0.4, 0.3, 0.2, 0.1, 0.0), "CC": (0.85, 0.725, 0.6, 0.475, 0.35), "BW": (16, 32, 48, 64, 80),
        "GNC": (0.001, 0.002, 0.005, 0.01, 0.05), "GB": (7, 9, 13, 17, 21), "JPEG": (2, 3, 4, 5, 6),
        "VC": (30, 32, 35, 38, 40), "QP": (32, 36, 40, 44, 48)}
    assert [p.spec.kind for p in settings].count("encode") == 10


def test_parse_and_keys():
    assert P.parse("blur:9") == P.Perturbation("blur", 9)
    assert P.parse(" GB : 9 ").key == "blur-9"  # the reference's code works too
    assert P.parse("saturation:0.0").key == "saturation-0.0"
    assert P.parse("saturation:0").key == "saturation-0.0"
    assert P.parse("noise:0.001").key == "noise-0.001"
    assert P.parse("crf:35").key == "crf-35"
    assert P.parse("contrast:0.725").level == 0.725
    assert isinstance(P.Perturbation("blur", 9.0).level, int)
    d = P.parse("block:16").to_dict()
    assert set(d) == {"type", "code", "level", "definition"}
    assert (d["type"], d["code"], d["level"]) == ("block", "BW", 16)
    assert "DeeperForensics" in d["definition"] and "max(1, min(H, W) // 256)" in d["definition"]
    assert "not in DeeperForensics" in P.parse("qp:40").to_dict()["definition"]


@pytest.mark.parametrize("text, names", [
    ("foo:1", ["unknown perturbation type 'foo'", "saturation:0.4|", "qp:32|36|40|44|48"]),
    ("blur", ["no level", "blur:7|9|13|17|21"]),
    ("blur:8", ["odd integer", "7|9|13|17|21"]),
    ("blur:nine", ["bad level 'nine'", "7|9|13|17|21"]),
    ("saturation:1.5", ["0..1", "0.4|0.3|0.2|0.1|0.0"]),
    ("noise:nan", ["noise", "0.001|0.002|0.005|0.01|0.05"]),
    ("crf:60", ["0..51", "30|32|35|38|40"]),
    ("pixelation:2.5", ["pixelation", "2|3|4|5|6"]),
])
def test_parse_errors_are_one_line(text, names):
    with pytest.raises(DfbenchError) as e:
        P.parse(text)
    msg = str(e.value)
    assert "\n" not in msg
    for name in names:
        assert name in msg


def test_rng_for_is_a_function_of_its_inputs():
    p = P.parse("noise:0.01")
    draw = lambda *a: P.rng_for(*a).integers(0, 2**62)  # noqa: E731
    assert draw(0, "000", p) == draw(0, "000", p)
    assert len({draw(0, "000", p), draw(1, "000", p), draw(0, "001", p), draw(0, "000", P.parse("noise:0.05"))}) == 4
    # hashlib, not Python's salted hash(): the same number in every process
    assert draw(0, "000", p) == 4602097309190323416


# --- frame perturbations ---------------------------------------------------------------------------

def test_saturation():
    frames = textured(2)
    grey = run(frames, "saturation:0.0").astype(int)
    assert (grey.max(axis=-1) - grey.min(axis=-1)).max() <= 2  # R = G = B: no chroma left
    assert np.abs(chroma_8bit(grey) - 128).max() <= 1.5
    same = run(frames, "saturation:1.0").astype(int)
    assert np.abs(same - frames).max() <= 1  # the reference truncates: at most one level off
    spreads = [chroma_8bit(run(frames, f"saturation:{v}")).std() for v in (1.0, *P.TYPES["saturation"].levels)]
    assert all(a > b for a, b in zip(spreads, spreads[1:]))
    assert spreads[1] / spreads[0] == pytest.approx(0.4, abs=0.02)  # chroma scaled by the level


def test_contrast_on_a_constant_image():
    frames = np.zeros((1, 4, 6, 3), np.uint8)
    frames[..., 0], frames[..., 1], frames[..., 2] = 201, 255, 10
    out = run(frames, "contrast:0.6")
    # 201 * 0.6 = 120.6 -> 120 and 255 * 0.6 = 153.0 -> 153, 10 * 0.6 = 6: truncated, as the reference's astype
    assert (out[..., 0] == 120).all() and (out[..., 1] == 153).all() and (out[..., 2] == 6).all()
    assert (run(frames, "contrast:0.35")[..., 1] == 89).all()  # 89.25


def painted(h, w, n, seed):
    """The 128-mask of n blocks at the positions the module documents: per frame, (x, y) top-left
    corners from rng.integers(0, (w - 8, h - 8), size=(n, 2))."""
    mask = np.zeros((h, w), bool)
    for x, y in np.random.default_rng(seed).integers(0, (w - 8, h - 8), size=(n, 2)):
        mask[y : y + 8, x : x + 8] = True
    return mask


@pytest.mark.parametrize("h, w, level, blocks", [(512, 512, 16, 32), (144, 192, 16, 16), (144, 192, 80, 80)])
def test_block_count(h, w, level, blocks):
    assert P.block_count(h, w, level) == blocks
    out = run(np.zeros((1, h, w, 3), np.uint8), f"block:{level}", seed=5)[0]
    mask = (out == 128).all(axis=-1)
    assert ((out == 128) | (out == 0)).all() and (out == 128).any(axis=-1).sum() == mask.sum()
    assert (mask == painted(h, w, blocks, 5)).all()
    assert (mask != painted(h, w, blocks - 1, 5)).any()
    assert mask.sum() % 8 == 0 and mask.sum() <= 64 * blocks


def test_block_positions():
    assert P.block_count(1080, 1920, 16) == 64  # the reference's formula from 256 px up: 1080 // 256 * 16
    frames = np.zeros((2, 16, 16, 3), np.uint8)
    out = run(frames, "block:200", seed=1)
    assert not out[:, 15].any() and not out[:, :, 15].any()  # the reference's randint(0, W - 1 - 8): never the last
    assert out[:, 14].any() and out[:, :, 14].any()
    frames = np.zeros((2, 144, 192, 3), np.uint8)
    a, b, c = run(frames, "block:16", seed=1), run(frames, "block:16", seed=1), run(frames, "block:16", seed=2)
    assert (a == b).all() and (a != c).any()
    assert (a[0] != a[1]).any()  # drawn anew for every frame, as the reference does


def test_noise_variance():
    grey = np.full((4, 96, 128, 3), 128, np.uint8)
    for level, tol in ((0.01, 0.15), (0.001, 0.05)):
        out = run(grey, f"noise:{level}")
        var = (ycc(out) - ycc(grey)).reshape(-1, 3).var(axis=0)
        assert var == pytest.approx([level] * 3, rel=tol)
    assert (run(grey, "noise:0.01", 3) == run(grey, "noise:0.01", 3)).all()
    assert (run(grey, "noise:0.01", 3) != run(grey, "noise:0.01", 4)).any()


@pytest.mark.parametrize("text", ["noise:0.005", "block:32"])
def test_chunks_give_the_same_frames(text):
    frames, p = textured(5), P.parse(text)
    whole = P.perturb_frames(frames, p, np.random.default_rng(9))
    rng = np.random.default_rng(9)
    parts = np.concatenate([P.perturb_frames(frames[:2], p, rng), P.perturb_frames(frames[2:], p, rng)])
    assert (whole == parts).all()


@pytest.mark.parametrize("k", [7, 21])
def test_blur(k):
    frames = textured(2)
    expected = np.stack([cv2.GaussianBlur(f[..., ::-1], (k, k), k / 6)[..., ::-1] for f in frames])  # BGR
    out = run(frames, f"blur:{k}")
    assert (out == expected).all()
    assert (out != np.stack([cv2.GaussianBlur(f, (k, k), k / 5) for f in frames])).any()  # the sigma matters


@pytest.mark.parametrize("factor", [2, 3])
def test_pixelation_is_a_bilinear_down_up_resize(factor):
    frames = np.random.default_rng(0).integers(0, 256, (1, 48, 66, 3), dtype=np.uint8)
    out = run(frames, f"pixelation:{factor}")[0]
    small = cv2.resize(frames[0], (66 // factor, 48 // factor), interpolation=cv2.INTER_LINEAR)
    assert (out == cv2.resize(small, (66, 48), interpolation=cv2.INTER_LINEAR)).all()
    # The reference uses cv2.resize's default (bilinear) both ways: no blocks of equal pixels, unlike a
    # nearest-neighbour pixelation, which would give factor x factor blocks of one colour.
    blocks = out.reshape(48 // factor, factor, 66 // factor, factor, 3)  # 48 and 66: multiples of 2 and 3
    flat = (blocks == blocks[:, :1, :, :1]).all(axis=(1, 3, 4))
    assert flat.mean() < 0.1
    assert (out != cv2.resize(small, (66, 48), interpolation=cv2.INTER_NEAREST)).any()
    assert (run(np.full((1, 48, 66, 3), 77, np.uint8), f"pixelation:{factor}") == 77).all()


def test_frame_checks():
    with pytest.raises(ValueError):
        run(textured(1), "crf:30")
    with pytest.raises(ValueError):
        run(textured(1).astype(np.float32), "blur:7")


# --- videos ----------------------------------------------------------------------------------------

def test_write_stream_is_write_h264(tmp_path):
    frames = textured()
    write_h264(tmp_path / "a.mp4", frames, qp=0, fps=30)
    P.write_stream(tmp_path / "b.mp4", iter([frames[:3], frames[3:]]), {"qp": "0"}, fps=30)
    assert sha(tmp_path / "a.mp4") == sha(tmp_path / "b.mp4")


def test_frame_kind_video(clip, tmp_path, monkeypatch):
    src, fps = decode(clip)
    p = P.parse("noise:0.005")
    P.perturb_video(clip, tmp_path / "a.mp4", p, seed=0, key="000")
    monkeypatch.setattr(P, "CHUNK", 3)  # decoded, perturbed and encoded 3 frames at a time: the same bytes
    P.perturb_video(clip, tmp_path / "b.mp4", p, seed=0, key="000")
    P.perturb_video(clip, tmp_path / "c.mp4", p, seed=0, key="001")
    assert sha(tmp_path / "a.mp4") == sha(tmp_path / "b.mp4") != sha(tmp_path / "c.mp4")
    out, out_fps = decode(tmp_path / "a.mp4")
    assert out.shape == src.shape and round(out_fps) == round(fps) == 30
    # the frames of perturb_frames with the video's generator: luma kept at QP 0 up to the RGB <-> YUV rounding
    # (the noise's chroma is halved in resolution by yuv420p), far from those of another video's generator
    luma_error = lambda a, b: np.abs(ycc(a)[..., 0] - ycc(b)[..., 0]).mean() * 255  # noqa: E731
    assert luma_error(out, P.perturb_frames(src, p, P.rng_for(0, "000", p))) < 2
    assert luma_error(out, P.perturb_frames(src, p, P.rng_for(0, "001", p))) > 10
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a.mp4", "b.mp4", "c.mp4"]  # no temporary files left


def test_frame_kind_is_written_at_qp0(clip, tmp_path):
    """Lossless QP 0 (at preset ultrafast, for speed): the frames decode exactly as write_h264's QP 0 video's."""
    p = P.parse("blur:9")
    P.perturb_video(clip, tmp_path / "a.mp4", p, seed=0, key="000")
    write_h264(tmp_path / "b.mp4", P.perturb_frames(decode(clip)[0], p, None), qp=0, fps=30)
    assert sha(tmp_path / "a.mp4") != sha(tmp_path / "b.mp4")  # another preset, other bytes ...
    assert np.array_equal(decode(tmp_path / "a.mp4")[0], decode(tmp_path / "b.mp4")[0])  # ... the same frames


@pytest.mark.parametrize("kind, mild, strong", [("crf", 30, 40), ("qp", 32, 48)])
def test_reencoding(clip, tmp_path, kind, mild, strong):
    sizes = {}
    for level in (mild, strong):
        p = P.parse(f"{kind}:{level}")
        P.perturb_video(clip, tmp_path / "a.mp4", p, seed=0, key="000")
        P.perturb_video(clip, tmp_path / "b.mp4", p, seed=1, key="001")  # no randomness: seed and key unused
        assert sha(tmp_path / "a.mp4") == sha(tmp_path / "b.mp4") != sha(clip)  # the same bytes (crf: mbtree=0)
        sizes[level] = (tmp_path / "a.mp4").stat().st_size
    assert sizes[strong] < sizes[mild] * 0.95
    if kind == "qp":  # the decoded frames, through write_h264 at that QP
        write_h264(tmp_path / "c.mp4", decode(clip)[0], qp=strong, fps=30)
        assert sha(tmp_path / "a.mp4") == sha(tmp_path / "c.mp4")


@pytest.mark.parametrize("content", [b"", b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8, None])
def test_bad_video(tmp_path, content):
    src = tmp_path / "bad.mp4"
    if content is not None:
        src.write_bytes(content)
    with pytest.raises(BadVideoError) as e:
        P.perturb_video(src, tmp_path / "out" / "x.mp4", P.parse("blur:7"), seed=0, key="bad")
    assert str(src) in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "out" / "x.mp4").exists()
