"""Test-time perturbations of videos, for the ``robustness`` protocol: DeeperForensics-1.0's seven
distortions at their five levels (Jiang et al., CVPR 2020), plus a constant-QP re-encoding sweep.

Reference: github.com/EndlessSora/DeeperForensics-1.0, ``perturbation/add_distortion_to_video.py``
(levels, per-frame application) and ``perturbation/distortions.py`` (the functions). Re-implemented
here on dfbench's RGB frames, with the reference's arithmetic (OpenCV, float32, BGR order where it
matters) so a frame-kind perturbation gives the reference's pixels for the same random draws.

==========  ====  ================================  ===============================================
type        code  levels (mildest first)            definition
==========  ====  ================================  ===============================================
saturation  CS    0.4, 0.3, 0.2, 0.1, 0.0           YCbCr (the reference's OpenCV conversion and
                                                    studio-range scaling to [0, 1]); Cb and Cr
                                                    scaled by the level around 0.5; back to BGR,
                                                    truncated to uint8. 0.0: grey.
contrast    CC    0.85, 0.725, 0.6, 0.475, 0.35     every value multiplied by the level, truncated
                                                    to uint8.
block       BW    16, 32, 48, 64, 80                in every frame, max(1, min(H, W) // 256) x level
                                                    8x8 blocks of grey 128 at random positions
                                                    (top-left x in [0, W-9], y in [0, H-9]), drawn
                                                    anew for each frame as the reference does.
noise       GNC   0.001, 0.002, 0.005, 0.01, 0.05   Gaussian noise of variance level (std
                                                    sqrt(level)) added to YCbCr in [0, 1] (studio
                                                    range), back to BGR, clipped to [0, 255],
                                                    truncated to uint8.
blur        GB    7, 9, 13, 17, 21                  cv2.GaussianBlur, kernel level x level,
                                                    sigma level / 6.
pixelation  JPEG  2, 3, 4, 5, 6                     cv2.resize to (W // level, H // level) and back
                                                    to (W, H), bilinear both ways (cv2.resize's
                                                    default INTER_LINEAR; the reference calls this
                                                    type "JPEG compression").
crf         VC    30, 32, 35, 38, 40                whole video re-encoded with libx264 at constant
                                                    rate factor level (reference: ffmpeg -crf).
qp          QP    32, 36, 40, 44, 48                dfbench's own, not DeeperForensics': whole video
                                                    re-encoded with libx264 at constant quantiser
                                                    level, a sweep around FF++ LQ (c40, QP 40).
==========  ====  ================================  ===============================================

Deviations from the reference, each named where it is made:

* block: the reference paints min(H, W) // 256 x level blocks, none on frames under 256 px on their
  short side; dfbench uses max(1, min(H, W) // 256) so small frames (the synthetic set is 192x144)
  get level blocks. Identical for every frame at least 256 px on its short side.
* Random draws come from a numpy Generator seeded from (seed, video, perturbation) (``rng_for``),
  not from Python's and numpy's global generators, so a perturbed video is reproducible.
* Frame-kind outputs are written as H.264 at QP 0 (lossless apart from yuv420p's chroma
  subsampling), not through OpenCV's VideoWriter with the source's codec at its default quality:
  the perturbation is then the only loss added.
* crf/qp encode the decoded RGB frames (one x264 thread, yuv420p, x264's default preset medium),
  not the source bitstream through the ffmpeg command line: one extra RGB <-> YUV round trip.
* Values are clipped to [0, 255] before the reference's truncation to uint8; the same wherever the
  reference's cast is defined (its values lie in (-1, 256) for every level allowed here).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dfbench.errors import BadVideoError, DfbenchError

FRAME, ENCODE = "frame", "encode"
CHUNK = 32  # frames decoded, perturbed and encoded at a time: a 1080p chunk is about 200 MB
BLOCK = 8  # block-wise distortion: side of a grey block, in pixels
GREY = 128
KEY_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_REDOWNLOAD = "re-download or re-encode it"
_REFERENCE = "DeeperForensics-1.0 (Jiang et al. 2020, perturbation/distortions.py)"
_LOSSLESS = "; written as H.264 at QP 0, not the reference's OpenCV VideoWriter"


@dataclass(frozen=True)
class PerturbationType:
    """One kind of perturbation: its five standard levels, mildest first, and which levels are valid."""

    name: str
    code: str  # DeeperForensics-1.0's code (CS, CC, BW, GNC, GB, JPEG, VC), or QP for dfbench's own
    levels: tuple
    title: str
    kind: str  # FRAME: applied to each decoded frame; ENCODE: the whole video is re-encoded
    valid: Callable[[float], bool]  # the range check for custom levels
    rule: str  # ``valid`` in words, for error messages
    definition: str  # one line: the definition, its reference and any deviation

    @property
    def integer(self) -> bool:
        """Whether levels are integers (block counts, kernel sizes, factors, rate factors, quantisers)."""
        return isinstance(self.levels[0], int)


def _between(lo: float, hi: float) -> Callable[[float], bool]:
    return lambda x: lo <= x <= hi


def _odd(lo: int, hi: int) -> Callable[[float], bool]:
    return lambda x: lo <= x <= hi and x % 2 == 1


TYPES: dict[str, PerturbationType] = {t.name: t for t in (
    PerturbationType(
        "saturation", "CS", (0.4, 0.3, 0.2, 0.1, 0.0), "colour saturation", FRAME, _between(0.0, 1.0),
        "a number 0..1 (1 = unchanged)",
        f"{_REFERENCE} CS: Cb and Cr scaled by the level around 0.5 in the reference's YCbCr{_LOSSLESS}"),
    PerturbationType(
        "contrast", "CC", (0.85, 0.725, 0.6, 0.475, 0.35), "colour contrast", FRAME, _between(0.0, 1.0),
        "a number 0..1 (1 = unchanged)",
        f"{_REFERENCE} CC: values multiplied by the level, truncated to uint8{_LOSSLESS}"),
    PerturbationType(
        "block", "BW", (16, 32, 48, 64, 80), "local block-wise", FRAME, _between(1, 10_000),
        "an integer 1..10000",
        f"{_REFERENCE} BW: per frame, max(1, min(H, W) // 256) x level 8x8 grey-128 blocks at random positions "
        f"(deviation: the reference has min(H, W) // 256, no blocks below 256 px){_LOSSLESS}"),
    PerturbationType(
        "noise", "GNC", (0.001, 0.002, 0.005, 0.01, 0.05), "Gaussian noise in colour components", FRAME,
        _between(0.0, 1.0), "a variance 0..1",
        f"{_REFERENCE} GNC: Gaussian noise of variance level added to YCbCr in [0, 1], clipped{_LOSSLESS}"),
    PerturbationType(
        "blur", "GB", (7, 9, 13, 17, 21), "Gaussian blur", FRAME, _odd(1, 99),
        "an odd integer 1..99",
        f"{_REFERENCE} GB: cv2.GaussianBlur, kernel level x level, sigma level / 6{_LOSSLESS}"),
    PerturbationType(
        "pixelation", "JPEG", (2, 3, 4, 5, 6), "pixelation (DeeperForensics' 'JPEG compression')", FRAME,
        _between(1, 64), "an integer 1..64",
        f"{_REFERENCE} JPEG: bilinear cv2.resize to (W // level, H // level) and back{_LOSSLESS}"),
    PerturbationType(
        "crf", "VC", (30, 32, 35, 38, 40), "video compression (H.264 CRF)", ENCODE, _between(0, 51),
        "an integer 0..51",
        f"{_REFERENCE} VC: re-encoded with libx264 at CRF level (reference: ffmpeg -crf; here PyAV, one thread, "
        "yuv420p, from decoded RGB frames)"),
    PerturbationType(
        "qp", "QP", (32, 36, 40, 44, 48), "video compression (H.264 constant QP)", ENCODE, _between(0, 51),
        "an integer 0..51",
        "dfbench (not in DeeperForensics-1.0): re-encoded with libx264 at constant QP level (one thread, yuv420p, "
        "from decoded RGB frames); FF++ LQ is QP 40"),
)}


def _format(level: float | int) -> str:
    return str(level) if isinstance(level, int) else repr(float(level))


def _choices() -> str:
    return ", ".join(f"{t.name}:{'|'.join(_format(v) for v in t.levels)}" for t in TYPES.values())


@dataclass(frozen=True)
class Perturbation:
    """One perturbation setting: a type name from ``TYPES`` and its level (checked, and normalised to
    an int for integer types and a float otherwise)."""

    type: str
    level: float | int

    def __post_init__(self):
        t = TYPES.get(self.type)
        if t is None:
            raise DfbenchError(f"unknown perturbation type {self.type!r}; valid: {_choices()}")
        level = self.level
        ok = isinstance(level, (int, float, np.integer, np.floating)) and not isinstance(level, bool)
        if ok and t.integer:
            ok = float(level).is_integer()
            level = int(level) if ok else level
        elif ok:
            level = float(level)
            ok = math.isfinite(level)
        if not ok or not t.valid(level):
            raise DfbenchError(f"bad level {self.level!r} for perturbation {t.name} ({t.code}): {t.rule}; "
                               f"standard levels {'|'.join(_format(v) for v in t.levels)}")
        object.__setattr__(self, "level", level)

    @property
    def spec(self) -> PerturbationType:
        return TYPES[self.type]

    @property
    def key(self) -> str:
        """File-name and record safe name, e.g. ``blur-9``, ``saturation-0.4``, ``noise-0.001``, ``crf-30``."""
        return f"{self.type}-{_format(self.level)}"

    def to_dict(self) -> dict:
        t = self.spec
        return {"type": self.type, "code": t.code, "level": self.level, "definition": t.definition}


def parse(text: str) -> Perturbation:
    """``"blur:9"``, ``"saturation:0.0"``, ``"crf:35"`` (a type name or its code, then a level)."""
    name, sep, raw = str(text).strip().partition(":")
    name, raw = name.strip(), raw.strip()
    by_code = {t.code.lower(): t.name for t in TYPES.values()}
    name = name.lower() if name.lower() in TYPES else by_code.get(name.lower(), name)
    if not sep or name not in TYPES:
        what = "no level" if name in TYPES else f"unknown perturbation type {name!r}"
        raise DfbenchError(f"{what} in {text!r}: write TYPE:LEVEL, e.g. blur:9; valid: {_choices()}")
    t = TYPES[name]
    try:
        level: float | int = int(raw) if t.integer else float(raw)
    except ValueError:
        raise DfbenchError(f"bad level {raw!r} in {text!r} for perturbation {t.name} ({t.code}): {t.rule}; "
                           f"standard levels {'|'.join(_format(v) for v in t.levels)}") from None
    return Perturbation(name, level)


def standard() -> list[Perturbation]:
    """DeeperForensics-1.0's 35 settings (7 types x 5 levels), then dfbench's 5 QP levels, in TYPES order."""
    return [Perturbation(t.name, v) for t in TYPES.values() for v in t.levels]


def rng_for(seed: int, key: str, p: Perturbation) -> np.random.Generator:
    """The random generator for perturbing one video: a function of (seed, video key, perturbation) only."""
    digest = hashlib.sha256(f"dfbench.perturb\0{int(seed)}\0{key}\0{p.key}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


# --- frame perturbations: the reference's arithmetic, one frame at a time ---------------------------

def _to_ycc(bgr: np.ndarray) -> np.ndarray:
    """The reference's ``bgr2ycbcr`` (channels kept in OpenCV's Y, Cr, Cb order; both chroma channels are
    treated alike). It hands OpenCV floats in 0..255 where OpenCV expects 0..1 (chroma offset 0.5), then
    maps as if from [0, 1] to studio range: the result is MATLAB's rgb2ycbcr in [0, 1] times 255, up to a
    constant, so noise of variance v added to it / 255 is noise of variance v in studio-range [0, 1]."""
    import cv2

    ycc = cv2.cvtColor(bgr.astype(np.float32), cv2.COLOR_BGR2YCrCb)
    ycc[..., 0] = (ycc[..., 0] * (235 - 16) + 16) / 255.0
    ycc[..., 1:] = (ycc[..., 1:] * (240 - 16) + 16) / 255.0
    return ycc


def _from_ycc(ycc: np.ndarray) -> np.ndarray:
    """The inverse of ``_to_ycc`` (the reference's ``ycbcr2bgr``): float32 BGR, neither clipped nor rounded."""
    import cv2

    ycc = ycc.astype(np.float32)
    ycc[..., 0] = (ycc[..., 0] * 255.0 - 16) / (235 - 16)
    ycc[..., 1:] = (ycc[..., 1:] * 255.0 - 16) / (240 - 16)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2BGR)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    # The reference truncates (astype); the clip only makes out-of-range values defined (see the module notes).
    return np.clip(x, 0, 255).astype(np.uint8)


def _saturation(rgb: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    ycc = _to_ycc(rgb[..., ::-1])
    ycc[..., 1:] = 0.5 + (ycc[..., 1:] - 0.5) * level
    return _to_uint8(_from_ycc(ycc))[..., ::-1]


def _contrast(rgb: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    return _to_uint8(rgb.astype(np.float32) * level)  # per value: the colour order does not matter


def block_count(h: int, w: int, level: int) -> int:
    """Blocks painted per frame. DEVIATION: the reference has ``min(h, w) // 256 * level``; the
    ``max(1, ...)`` gives frames under 256 px on their short side ``level`` blocks instead of none."""
    return max(1, min(h, w) // 256) * int(level)


def _block(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    h, w = rgb.shape[:2]
    if min(h, w) <= BLOCK:
        raise DfbenchError(f"frames of {w}x{h} are too small for {BLOCK}x{BLOCK} blocks: use another perturbation")
    out = rgb.copy()
    # Top-left corners (x, y) drawn anew for each frame, x in [0, w-9] and y in [0, h-9] as the reference's
    # random.randint(0, w - 1 - 8) (its last row and column are never covered); later blocks paint over earlier.
    for x, y in rng.integers(0, (w - BLOCK, h - BLOCK), size=(block_count(h, w, level), 2)):
        out[y : y + BLOCK, x : x + BLOCK] = GREY
    return out


def _noise(rgb: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    ycc = _to_ycc(rgb[..., ::-1]) / 255
    noisy = (ycc + math.sqrt(level) * rng.standard_normal(ycc.shape)) * 255  # float64, as the reference's
    return _to_uint8(_from_ycc(noisy))[..., ::-1]


def _blur(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(rgb, (level, level), level * 1.0 / 6)  # per channel: colour order does not matter


def _pixelation(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    if h // level == 0 or w // level == 0:
        raise DfbenchError(f"frames of {w}x{h} are too small for pixelation by {level}: use a smaller level")
    # cv2.resize's default interpolation, INTER_LINEAR, both ways: the reference passes none.
    small = cv2.resize(rgb, (w // level, h // level))
    return cv2.resize(small, (w, h))


_FRAME_FUNCTIONS = {"saturation": _saturation, "contrast": _contrast, "block": _block, "noise": _noise,
                    "blur": _blur, "pixelation": _pixelation}


def perturb_frames(frames: np.ndarray, p: Perturbation, rng: np.random.Generator) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB frames -> perturbed frames, same shape and type (frame-kind types only).

    Frames are treated one at a time, in order, so perturbing a video chunk by chunk with one ``rng``
    gives the same frames as perturbing it whole.
    """
    if p.spec.kind != FRAME:
        raise ValueError(f"{p.key} re-encodes the whole video: use perturb_video")
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected (N, H, W, 3) uint8 RGB frames, got {frames.shape} {frames.dtype}")
    fn = _FRAME_FUNCTIONS[p.type]
    out = np.empty_like(frames)
    for i, frame in enumerate(frames):
        out[i] = fn(np.ascontiguousarray(frame), p.level, rng)
    return out


# --- videos ----------------------------------------------------------------------------------------

def _open(src: Path):
    if not src.is_file():
        raise BadVideoError(src, "video file missing", "download it, or check the path")
    if src.stat().st_size == 0:
        raise BadVideoError(src, "empty video file", _REDOWNLOAD)
    import decord  # lazily, as dfbench.crops: listing protocols needs no decoder

    reader = _guard(src, lambda: decord.VideoReader(str(src), ctx=decord.cpu(0), num_threads=1))
    n = _guard(src, lambda: len(reader))
    if n == 0:
        raise BadVideoError(src, "video has no frames", _REDOWNLOAD)
    fps = _guard(src, reader.get_avg_fps)
    fps = int(round(fps)) if math.isfinite(fps) and fps >= 0.5 else 25
    return reader, n, fps


def _guard(src: Path, fn):
    try:
        return fn()
    except Exception as e:  # decord raises DECORDError and RuntimeError for corrupt or truncated input
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise BadVideoError(src, f"corrupt or truncated video ({first})", _REDOWNLOAD) from None


def _chunks(src: Path, reader, n: int) -> Iterator[np.ndarray]:
    for start in range(0, n, CHUNK):
        indices = list(range(start, min(start + CHUNK, n)))
        frames = _guard(src, lambda: reader.get_batch(indices).asnumpy())  # noqa: B023 (called at once)
        if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) != len(indices):
            raise BadVideoError(src, f"unexpected frames of shape {frames.shape}", _REDOWNLOAD)
        h, w = frames.shape[1:3]
        if h % 2 or w % 2:
            raise BadVideoError(src, f"odd frame size {w}x{h}, which yuv420p H.264 cannot hold",
                                "crop or pad it to even sides")
        yield frames


def write_stream(path: Path, chunks: Iterable[np.ndarray], options: dict[str, str], fps: int) -> None:
    """Write chunks of RGB frames (each (n, H, W, 3) uint8) to ``path`` as yuv420p H.264 with libx264
    ``options`` (e.g. ``{"qp": "0"}`` or ``{"crf": "30"}``), via a temporary file in the same folder.

    The code path of ``dfbench.synth.encode.write_h264`` (one x264 thread, same stream settings), taking
    frames as they come: with ``{"qp": str(qp)}`` the bytes are write_h264's.
    """
    import av

    from dfbench.synth.encode import X264_OPTIONS

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # not *.mp4: never listed as a video
    try:
        with av.open(str(tmp), "w", format="mp4") as container:
            stream, i = None, 0
            for frames in chunks:
                if stream is None:
                    _, h, w, _ = frames.shape
                    stream = container.add_stream("libx264", rate=fps, options={**options, **X264_OPTIONS})
                    stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                for rgb in frames:
                    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                    frame.pts = i
                    i += 1
                    container.mux(stream.encode(frame))
            if stream is None:
                raise ValueError(f"{path}: no frames to write")
            container.mux(stream.encode(None))  # flush: x264 holds frames back for lookahead and B-frames
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def perturb_video(src: Path, dst: Path, p: Perturbation, *, seed: int, key: str) -> None:
    """Decode ``src``, apply ``p`` and write ``dst`` (H.264 mp4, whole or not at all) at the source's
    frame rate. Frame-kind types are written at QP 0; ``crf`` and ``qp`` re-encode at their level.
    The output bytes depend on (src, p, seed, key) only. An undecodable ``src`` raises BadVideoError."""
    src, dst = Path(src), Path(dst)
    reader, n, fps = _open(src)
    dst.parent.mkdir(parents=True, exist_ok=True)
    chunks = _chunks(src, reader, n)
    if p.spec.kind == FRAME:
        rng = rng_for(seed, key, p)
        chunks = (perturb_frames(frames, p, rng) for frames in chunks)
        # Lossless (QP 0): at preset ultrafast the decoded frames are identical to preset medium's and the
        # encode is about 10x faster (measured by the helper that wrote this module: 658 against 69 frames/s
        # at 320x240; files 26% larger), and the encode is what bounds a robustness run's throughput.
        options = {"qp": "0", "preset": "ultrafast"}
    else:
        options = {p.type: str(p.level)}  # libx264's own option names: crf, qp
        if p.type == "crf":  # x264's macroblock tree reads uninitialised memory in CRF mode: without it
            options["mbtree"] = "0"  # the bytes are the same every run (docs/unseen-data.md)
    write_stream(dst, chunks, options, fps)
