"""Face finders: where the face is in a video's frames, as tight (x0, y0, x1, y1) boxes.

Three built-in finders, registered through the same hook a plugin uses:
``dataset`` (boxes the dataset ships beside its videos; the synthetic set writes them),
``opencv`` (OpenCV's bundled Haar cascade: offline, no download) and ``face-alignment``
(Bulat & Tzimiropoulos' S3FD detector and 2D-FAN landmarks, the paper's method; used when its
weights are in torch's hub cache). A finder is one of two kinds:

* a *detector* (:class:`FaceDetector`, ``detect(frame)``: every face in one frame). It runs on
  keyframes only and :mod:`dfbench.tracking` follows the face in between (``opencv``,
  ``face-alignment``);
* a *whole-video finder* (:class:`FaceFinder`, ``find(frames, video)``: one box per frame), whose
  boxes are taken as given, gaps filled from the nearest box (``dataset``: annotations, not
  detections, so they are neither thinned out nor smoothed).

The cropper enlarges whatever box a finder returns by 1.3x.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
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


@hookimpl
def register_face_finders(register):
    register("dataset", DatasetBoxes)
    register("opencv", OpenCVHaar)
    register("face-alignment", FaceAlignmentLandmarks)
