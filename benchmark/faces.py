"""Face finders: where the face is in a video's frames, as tight (x0, y0, x1, y1) boxes.

Four built-in finders, registered through the same hook a plugin uses:
``dataset`` (boxes the dataset ships beside its videos; the synthetic set writes them),
``face-alignment`` (Bulat & Tzimiropoulos' S3FD detector and 2D-FAN landmarks, the paper's method;
used when its weights are in torch's hub cache), ``dlib`` (dlib's HOG face detector and its 68-point
shape predictor, the tools FF++'s own code uses; offline: the model file ships in the
``face-recognition-models`` package, ``pip install 'dfbench[dlib]'``) and ``opencv`` (OpenCV's
bundled Haar cascade: offline, no download, no landmarks). Both landmark finders box a face by its
landmarks' extent, as the paper crops from landmarks. Which one a run uses by default is decided in
one place, :func:`dfbench.engine.choose_face_finder`. A finder is one of two kinds:

* a *detector* (:class:`FaceDetector`, ``detect(frame)``: every face in one frame). It runs on
  keyframes only and :mod:`dfbench.tracking` follows the face in between (``face-alignment``,
  ``dlib``, ``opencv``);
* a *whole-video finder* (:class:`FaceFinder`, ``find(frames, video)``: one box per frame), whose
  boxes are taken as given, gaps filled from the nearest box (``dataset``: annotations, not
  detections, so they are neither thinned out nor smoothed).

The cropper enlarges whatever box a finder returns by 1.3x.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from dfbench.errors import BadVideoError, DfbenchError
from dfbench.hookspecs import hookimpl
from dfbench.layout import boxes_path
from dfbench.tracking import DEFAULT_PARAMS, FaceTrack, TrackParams, follow, keyframes

Box = tuple[float, float, float, float]
FrameReader = Callable[[Sequence[int]], np.ndarray]  # frame indices -> (n, H, W, 3) uint8 RGB


class FaceDetector(Protocol):
    def detect(self, frame: np.ndarray) -> list[Box]:
        """Every face in one (H, W, 3) uint8 RGB frame, as tight boxes (empty where none)."""
        ...


class FaceFinder(Protocol):
    def find(self, frames: np.ndarray, video: Path) -> list[Box | None]:
        """One tight face box per frame (None where no face was found)."""
        ...


def face_track(finder: FaceDetector | FaceFinder, num_frames: int, read: FrameReader, video: Path,
               params: TrackParams = DEFAULT_PARAMS, batch: int = 32) -> FaceTrack:
    """The face kept in ``video``, one smoothed box per frame; BadVideoError when no face is found.

    A detector runs on the keyframes only (read ``batch`` at a time, so memory stays bounded) and is
    followed between them; a whole-video finder gets every frame and its boxes are kept as given.
    """
    if hasattr(finder, "detect"):
        frames_to_scan = keyframes(num_frames, params.keyframe_every)
        found = []
        for start in range(0, len(frames_to_scan), batch):
            idx = frames_to_scan[start : start + batch]
            found += [(i, finder.detect(np.ascontiguousarray(f))) for i, f in zip(idx, read(idx))]
        return follow(found, num_frames, video, params)
    boxes = finder.find(read(range(num_frames)), Path(video))
    seen = sum(b is not None for b in boxes)
    return FaceTrack(np.asarray(fill_gaps(boxes, video), float).reshape(-1, 4), num_frames, seen, 1)


def fill_gaps(boxes: list[Box | None], video: Path) -> list[Box]:
    """Give each faceless frame the box of the nearest frame with a face; no face at all is an error."""
    found = [i for i, b in enumerate(boxes) if b is not None]
    if not found:
        raise BadVideoError(video, "no face found in any frame", "check the video, or try another --face-finder")
    idx = np.asarray(found)
    return [boxes[int(idx[np.abs(idx - i).argmin()])] for i in range(len(boxes))]  # type: ignore[misc]


def largest(boxes: list[Box]) -> Box | None:
    """The largest box (for a single image; in a video :func:`dfbench.tracking.choose` picks the face)."""
    return max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), default=None)


class DatasetBoxes:
    """Boxes shipped with the dataset in ``<comp>/boxes/<name>.json`` as ``{"boxes": [[x0,y0,x1,y1], ...]}``."""

    def find(self, frames: np.ndarray, video: Path) -> list[Box | None]:
        path = boxes_path(video)
        if not path.is_file():
            raise BadVideoError(video, f"no face boxes at {path}", "use --face-finder opencv or face-alignment")
        boxes = json.loads(path.read_text())["boxes"]
        if len(boxes) != len(frames):
            raise BadVideoError(video, f"{len(boxes)} boxes for {len(frames)} frames in {path}", "regenerate the boxes")
        return [tuple(b) if b else None for b in boxes]


class OpenCVHaar:
    """OpenCV's bundled frontal-face Haar cascade: offline, no download, a few ms a frame on a CPU."""

    def __init__(self):
        import cv2

        self.cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        if self.cascade.empty():
            raise DfbenchError("OpenCV's Haar cascade file is missing; reinstall opencv-python")

    def detect(self, frame: np.ndarray) -> list[Box]:
        import cv2

        gray = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
        found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        return [(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in found]


FAN_WEIGHTS = ("s3fd-619a316812.pth", "2DFAN4-11f355bf06.pth.tar")  # face detector, 2D landmarks


def hub_checkpoints() -> Path:
    """torch's hub cache, where face-alignment looks for its weights ($TORCH_HOME/hub/checkpoints)."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"
    )
    return Path(torch_home) / "hub" / "checkpoints"


class FaceAlignmentLandmarks:
    """face-alignment's S3FD detector + 2D-FAN landmarks; a face's box is its 68 landmarks' extent.

    ``device`` defaults to CUDA when torch sees a GPU, else the CPU; ``compile`` (torch.compile of
    the landmark network) defaults to on for a GPU and off on a CPU, where compiling costs over a
    minute at start and gains little.
    """

    def __init__(self, device: str | None = None, compile: bool | None = None):
        missing = [f for f in FAN_WEIGHTS if not (hub_checkpoints() / f).is_file()]
        if missing:
            raise DfbenchError(
                f"face-alignment weights missing: put {', '.join(missing)} in {hub_checkpoints()} "
                "(face-alignment's download URLs; no network here), or use --face-finder opencv"
            )
        import torch

        for f in FAN_WEIGHTS:  # untrusted files: refuse anything but plain tensors before the library loads them
            try:
                torch.load(hub_checkpoints() / f, map_location="cpu", weights_only=True)
            except Exception as e:
                raise DfbenchError(f"{hub_checkpoints() / f}: not a plain weights file ({type(e).__name__}); "
                                   "delete it and fetch face-alignment's original file") from None
        try:
            import face_alignment
        except ImportError:
            raise DfbenchError("face-alignment is not installed: pip install 'dfbench[face-alignment]', "
                               "or use --face-finder opencv") from None
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.compile = self.device != "cpu" if compile is None else compile
        self.fa = face_alignment.FaceAlignment(
            face_alignment.LandmarksType.TWO_D, device=self.device, flip_input=False, compile=self.compile
        )

    def detect(self, frame: np.ndarray) -> list[Box]:
        faces = self.fa.face_detector.detect_from_image(np.ascontiguousarray(frame))
        return self.landmark_boxes(frame, faces)

    def landmark_boxes(self, frame: np.ndarray, faces: Sequence[Sequence[float]]) -> list[Box]:
        """The landmark box of each detected face (``faces``: S3FD's x0, y0, x1, y1[, score] rows)."""
        if len(faces) == 0:
            return []
        found = self.fa.get_landmarks_from_image(np.ascontiguousarray(frame), detected_faces=list(faces)) or []
        return [(float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))
                for p in found]


DLIB_LANDMARKS = "shape_predictor_68_face_landmarks.dat"  # dlib's iBUG 300-W 68-point model
# HOG runs on the frame scaled so its shorter side is this many pixels, at the detector's own scale
# (no upsampling): dlib's 80x80 window then finds faces down to 1/6 of the frame's shorter side at
# any resolution, and one keyframe costs about the same on a 1080p frame as on a 480p one (FF++
# mixes both). FF++'s own script runs HOG at native size with one 2x upsampling instead (faces down
# to 40 px), 4x the work per pixel, which would make 1080p keyframes cost seconds each.
DLIB_DETECT_SIDE = 480


def dlib_landmarks_path() -> Path | None:
    """dlib's 68-landmark model as the ``face-recognition-models`` package ships it; None when absent.

    The package is located without importing it: its ``__init__`` imports ``pkg_resources``, which
    current setuptools no longer has.
    """
    try:
        spec = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "models" / DLIB_LANDMARKS
        if path.is_file():
            return path
    return None


def dlib_available() -> bool:
    """Whether the ``dlib`` finder can be built here: dlib importable and its model file present (imports neither)."""
    return importlib.util.find_spec("dlib") is not None and dlib_landmarks_path() is not None


@dataclass(frozen=True)
class LandmarkFace:
    """One face dlib found: its landmark box, HOG's detection score and the 68 (x, y) landmarks."""

    box: Box
    score: float
    landmarks: np.ndarray  # (68, 2) float, iBUG 300-W order: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67


class DlibLandmarks:
    """dlib's HOG frontal-face detector and 68-point shape predictor; a face's box is its landmarks' extent.

    The paper crops faces from landmarks; FF++'s released code finds faces with dlib's HOG detector
    (``classification/detect_from_video.py``, on the grey frame). This finder does both, offline.
    HOG scans a grey copy of the frame scaled to a shorter side of ``detect_side`` pixels (None:
    native size) with ``upsample`` 2x upsamplings; the shape predictor then places the 68 landmarks
    on the full-resolution frame inside each detection, so the box is as precise as the frame.

    Args:
        detect_side: the shorter side, in pixels, of the image HOG scans (:data:`DLIB_DETECT_SIDE`).
        upsample: dlib's upsampling count (0: faces from 80 px in the scanned image; each step halves it).
        grey: scan a grey copy (FF++'s choice, and about half the cost of colour); False scans RGB.
    """

    def __init__(self, detect_side: int | None = DLIB_DETECT_SIDE, upsample: int = 0, grey: bool = True):
        if (detect_side is not None and detect_side < 1) or upsample < 0:
            raise ValueError(f"detect_side must be positive or None and upsample >= 0, got {detect_side}, {upsample}")
        try:
            import dlib
        except ImportError:
            raise DfbenchError("dlib is not installed: pip install 'dfbench[dlib]' (dlib-bin and "
                               "face-recognition-models), or use --face-finder opencv") from None
        path = dlib_landmarks_path()
        if path is None:
            raise DfbenchError(f"dlib's landmark model ({DLIB_LANDMARKS}) is missing: pip install "
                               "face-recognition-models (or 'dfbench[dlib]'), or use --face-finder opencv")
        self.detect_side, self.upsample, self.grey = detect_side, upsample, grey
        self._rectangle = dlib.rectangle
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(path))

    def faces(self, frame: np.ndarray) -> list[LandmarkFace]:
        """Every face in one (H, W, 3) uint8 RGB frame with its landmarks, the best HOG score first."""
        import cv2

        image = np.ascontiguousarray(frame)
        if self.grey:
            image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        h, w = image.shape[:2]
        scale = 1.0 if self.detect_side is None else self.detect_side / min(h, w)
        scanned = image
        if scale != 1.0:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            scanned = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        rects, scores, _ = self.detector.run(scanned, self.upsample, 0.0)
        found = []
        for r, score in sorted(zip(rects, scores), key=lambda rs: -rs[1]):
            rect = self._rectangle(round(r.left() / scale), round(r.top() / scale),
                                   round(r.right() / scale), round(r.bottom() / scale))
            shape = self.predictor(image, rect)
            points = np.array([(p.x, p.y) for p in shape.parts()], float)
            box = (float(points[:, 0].min()), float(points[:, 1].min()),
                   float(points[:, 0].max()), float(points[:, 1].max()))
            found.append(LandmarkFace(box, float(score), points))
        return found

    def detect(self, frame: np.ndarray) -> list[Box]:
        """Every face's landmark box, the best HOG score first (the tracker then keeps one face per video)."""
        return [f.box for f in self.faces(frame)]


@hookimpl
def register_face_finders(register):
    register("dataset", DatasetBoxes)
    register("opencv", OpenCVHaar)
    register("face-alignment", FaceAlignmentLandmarks)
    register("dlib", DlibLandmarks)
