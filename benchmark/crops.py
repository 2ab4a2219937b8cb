"""Face crops as the paper makes them, cached per video: the face track once, crops per size from it.

A crop is the square around the face box enlarged 1.3x, resized to ``size`` x ``size``. Finding
the face is the expensive step, so the cache keeps two things (see docs/preprocessing.md):

* the face **track** of a video (one box per frame), once per video per face finder and tracking
  parameters: ``crops/v{CACHE_VERSION}/<dataset>/tracks/<finder>-<params>/<rel video>.json``;
* its **crops** for one size and scale, derived from the track by decoding and cropping only:
  ``crops/v{CACHE_VERSION}/<dataset>/<finder>-<params>-x<scale>-<size>/<rel video>.npy`` (+ ``.json``).

``<dataset>`` is a hash of the resolved dataset root and ``<rel video>`` the video's path under it,
which names the method and the compression. A new crop size is another view of the same tracks,
not a new face-finding pass. Every file is written atomically (a temporary file, then a rename) and
the metadata last, so an interrupted pass resumes where it stopped and two processes that make the
same file by accident only waste work. An entry is valid while the video file keeps its size and
modification time. A video that cannot be used is recorded too (its error, in place of the track),
so a re-run reports it without decoding it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dfbench.errors import BadVideoError
from dfbench.faces import Box, FaceDetector, FaceFinder, face_track
from dfbench.results import write_atomic
from dfbench.tracking import DEFAULT_PARAMS, FaceTrack, TrackParams

CROP_SCALE = 1.3  # the paper enlarges the landmark box by 1.3 "to include pixels around the face"
CACHE_VERSION = 2  # bump when crops or tracks would change for the same key (2: tracks shared by crop sizes)
DECODE_BUDGET = 1 << 30  # bytes of decoded frames kept in memory per video; a larger video is decoded twice
_REDOWNLOAD = "re-download or re-encode this file (or delete it to skip it)"


def square_box(box: Box, scale: float) -> tuple[int, int, int]:
    """Top-left corner and side of the square around ``box`` enlarged by ``scale``."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * scale
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return int(round(cx - side / 2)), int(round(cy - side / 2)), max(int(round(side)), 1)


def crop_frames(frames: np.ndarray, boxes: Sequence[Box], size: int, scale: float = CROP_SCALE) -> np.ndarray:
    """(frames, size, size, 3) uint8 crops; parts of the square outside the frame repeat the border."""
    import cv2

    out = np.empty((len(frames), size, size, 3), np.uint8)
    h, w = frames.shape[1:3]
    for i, (frame, box) in enumerate(zip(frames, boxes)):
        x, y, side = square_box(tuple(box), scale)
        pad = max(0, -x, -y, x + side - w, y + side - h)
        if pad:
            frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            x, y = x + pad, y + pad
        patch = frame[y : y + side, x : x + side]
        interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
        out[i] = cv2.resize(patch, (size, size), interpolation=interp)
    return out


class VideoSource:
    """A video opened for preprocessing: its frame count, and frames by index or in order.

    Decoded once and kept in memory when it fits ``budget`` bytes (the usual case: keyframes and
    crops then come from the same decode); otherwise decoded on demand, chunk by chunk, so a
    long 1080p video never holds all its frames at once. Every decoder failure becomes a one-line
    BadVideoError naming the file.
    """

    def __init__(self, path: Path, budget: int | None = None):
        budget = DECODE_BUDGET if budget is None else budget
        self.path = Path(path)
        if not self.path.is_file():
            raise BadVideoError(self.path, "video file missing", "download it, or check --data and --compression")
        if self.path.stat().st_size == 0:
            raise BadVideoError(self.path, "empty video file", _REDOWNLOAD)
        self._all: np.ndarray | None = None
        self._reader = self._guard(self._open)
        self.num_frames = self._guard(lambda: len(self._reader))
        if self.num_frames == 0:
            raise BadVideoError(self.path, "video has no frames", _REDOWNLOAD)
        h, w = self._guard(lambda: self._reader[0].shape[:2])
        self.width, self.height = int(w), int(h)
        if self.num_frames * h * w * 3 <= budget:
            self._all = self._decode(range(self.num_frames))

    def _open(self):
        import decord  # lazily: listing detectors or rendering a leaderboard needs no decoder

        return decord.VideoReader(str(self.path), ctx=decord.cpu(0), num_threads=1)

    def _guard(self, fn):
        try:
            return fn()
        except BadVideoError:
            raise
        except Exception as e:  # decord raises DECORDError and RuntimeError for corrupt/truncated input
            first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
            raise BadVideoError(self.path, f"corrupt or truncated video ({first})", _REDOWNLOAD) from None

    def _decode(self, indices: Sequence[int]) -> np.ndarray:
        frames = self._guard(lambda: self._reader.get_batch(list(indices)).asnumpy())
        if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) != len(indices):
            raise BadVideoError(self.path, f"unexpected frames of shape {frames.shape}", _REDOWNLOAD)
        return frames

    def frames(self, indices: Sequence[int]) -> np.ndarray:
        """(len(indices), H, W, 3) uint8 RGB frames."""
        indices = list(indices)
        return self._all[indices] if self._all is not None else self._decode(indices)

    def chunks(self, size: int = 64) -> Iterator[tuple[int, np.ndarray]]:
        """``(first frame index, frames)`` in order, ``size`` frames at a time."""
        for start in range(0, self.num_frames, size):
            stop = min(start + size, self.num_frames)
            yield start, (self._all[start:stop] if self._all is not None else self._decode(range(start, stop)))


@dataclass(frozen=True)
class CachedCrops:
    path: Path
    num_frames: int


class CropCache:
    """Crops of one dataset root at one size and scale, made from one face finder's tracks, under ``cache_root``.

    ``finder`` is built lazily from the registered face finders when a track must be made and none
    was given; crops made from a cached track need no face finder at all.
    """

    def __init__(self, cache_root: Path, dataset_root: Path, finder_name: str,
                 finder: FaceDetector | FaceFinder | None = None, size: int = 112, scale: float = CROP_SCALE,
                 params: TrackParams = DEFAULT_PARAMS):
        self.dataset_root = Path(dataset_root).resolve()
        self._dataset_abs = Path(os.path.abspath(dataset_root))
        dataset_id = hashlib.sha1(str(self.dataset_root).encode()).hexdigest()[:12]
        self.root = Path(cache_root) / "crops" / f"v{CACHE_VERSION}" / dataset_id
        self.track_key = f"{finder_name}-{params.key}"
        self.track_dir = self.root / "tracks" / self.track_key
        self.dir = self.root / f"{self.track_key}-x{scale:g}-{size}"
        self.finder_name, self.finder, self.size, self.scale, self.params = finder_name, finder, size, scale, params

    # --- paths --------------------------------------------------------------------------------------

    def relative(self, video: Path) -> Path:
        """The video's path under the dataset root (symbolic links inside the root are kept as named)."""
        try:
            return Path(os.path.abspath(video)).relative_to(self._dataset_abs)
        except ValueError:
            return Path(video).resolve().relative_to(self.dataset_root)

    def track_path(self, video: Path) -> Path:
        return self.track_dir / self.relative(video).with_suffix(".json")

    def _paths(self, video: Path) -> tuple[Path, Path]:
        base = self.dir / self.relative(video).with_suffix("")
        return base.with_suffix(".npy"), base.with_suffix(".json")

    # --- tracks -------------------------------------------------------------------------------------

    def load_track(self, video: Path) -> dict | None:
        """The cached track record of ``video`` as it is now; raises the cached BadVideoError of an unusable one."""
        info = _read_json(self.track_path(video))
        source = _fingerprint(video)
        if info is None or source is None or info.get("version") != CACHE_VERSION or info.get("source") != source:
            return None
        if "error" in info:
            raise BadVideoError(video, info["problem"], info["fix"])
        return info

    def make_track(self, video: Path, source: VideoSource) -> dict:
        """Find and follow the face in ``video`` now and cache the track (or the reason it has none)."""
        if self.finder is None:
            from dfbench import plugins

            self.finder = plugins.get_face_finder(self.finder_name)()
        t0 = time.perf_counter()
        try:
            track = face_track(self.finder, source.num_frames, source.frames, video, self.params)
        except BadVideoError as e:
            self.record_failure(video, e)
            raise
        return self._save_track(video, source, track, time.perf_counter() - t0)

    def _save_track(self, video: Path, source: VideoSource, track: FaceTrack, seconds: float) -> dict:
        boxes = [[round(float(v), 2) for v in b] for b in track.boxes]
        digest = hashlib.sha1(json.dumps(boxes).encode()).hexdigest()[:16]
        info = {"version": CACHE_VERSION, "video": str(self.relative(video)), "source": _fingerprint(video),
                "finder": self.finder_name, "params": asdict(self.params), "frames": source.num_frames,
                "frame_size": [source.width, source.height], "keyframes": track.keyframes, "seen": track.seen,
                "faces": track.tracks, "seconds": round(seconds, 3), "digest": digest, "boxes": boxes}
        write_atomic(self.track_path(video), json.dumps(info))
        return info

    def record_failure(self, video: Path, error: BadVideoError) -> None:
        """Remember that ``video`` (as it is now) cannot be used, so a re-run reports it without decoding it."""
        source = _fingerprint(video)
        if source is None:
            return  # a missing file: nothing to key the failure on
        info = {"version": CACHE_VERSION, "video": str(self.relative(video)), "source": source,
                "finder": self.finder_name, "params": asdict(self.params), "error": str(error),
                "problem": error.problem, "fix": str(error)[len(f"{error.path}: {error.problem}; "):]}
        write_atomic(self.track_path(video), json.dumps(info))

    # --- crops --------------------------------------------------------------------------------------

    def lookup(self, video: Path) -> CachedCrops | None:
        """The cached crops of ``video`` if complete, made from the file as it is now and from its current track."""
        npy, meta = self._paths(video)
        info = _read_json(meta)
        if info is None or not npy.is_file() or npy.stat().st_size != info.get("bytes"):
            return None
        source = _fingerprint(video)
        if source is None or info.get("source") != source:
            return None
        track = _read_json(self.track_path(video))
        if track is None or track.get("digest") != info.get("track_digest"):
            return None
        return CachedCrops(npy, info["frames"])

    def get(self, video: Path) -> CachedCrops:
        """Crops of ``video``, made now if not cached; raises BadVideoError for an unusable video."""
        return fill(video, [self])[0]

    def write_crops(self, video: Path, source: VideoSource, track: dict) -> CachedCrops:
        """Crop every frame of ``video`` along ``track`` and cache the (frames, size, size, 3) uint8 array."""
        npy, meta = self._paths(video)
        npy.parent.mkdir(parents=True, exist_ok=True)
        boxes = np.asarray(track["boxes"], float)
        if len(boxes) != source.num_frames:
            raise BadVideoError(video, f"{source.num_frames} frames now, {len(boxes)} when its face was tracked",
                                "delete its cache entry")
        fd, tmp = tempfile.mkstemp(dir=npy.parent, prefix=f".{npy.name}.", suffix=".tmp")
        os.close(fd)
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # as readable as any file here, not mkstemp's 0600
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                            shape=(source.num_frames, self.size, self.size, 3))
            for start, frames in source.chunks():
                out[start : start + len(frames)] = crop_frames(frames, boxes[start : start + len(frames)],
                                                               self.size, self.scale)
            out.flush()
            del out
            os.replace(tmp, npy)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        info = {"frames": source.num_frames, "source": _fingerprint(video), "finder": self.finder_name,
                "track": self.track_key, "track_digest": track["digest"], "size": self.size, "scale": self.scale,
                "bytes": npy.stat().st_size}
        write_atomic(meta, json.dumps(info))  # written last: its presence marks a complete entry
        return CachedCrops(npy, source.num_frames)


def fill(video: Path, caches: Sequence[CropCache]) -> list[CachedCrops]:
    """Crops of ``video`` for every cache (sizes of one finder's tracks): one decode, the face found at most once.

    Raises BadVideoError (and records it in the cache) for a video that cannot be decoded or has no face.
    """
    if len({c.track_dir for c in caches}) != 1:
        raise ValueError("fill() takes caches of one dataset, face finder and tracking parameters")
    have = [c.lookup(video) for c in caches]
    if all(h is not None for h in have):
        return have  # type: ignore[return-value]
    first = caches[0]
    track = first.load_track(video)  # raises the recorded error of a known-bad video, without decoding it
    try:
        source = VideoSource(video)
    except BadVideoError as e:
        first.record_failure(video, e)
        raise
    if track is None:
        track = first.make_track(video, source)
    return [h if h is not None else c.write_crops(video, source, track) for c, h in zip(caches, have)]


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _fingerprint(video: Path) -> list | None:
    """Size and modification time of the video file: a changed file invalidates its entries (None: no file)."""
    try:
        st = Path(video).stat()
    except OSError:
        return None
    return [st.st_size, int(st.st_mtime_ns)]
