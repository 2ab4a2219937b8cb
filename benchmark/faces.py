"""Face finders: where the face is in each frame, as a tight (x0, y0, x1, y1) box.

Three built-in finders, registered through the same hook a plugin uses:
``dataset`` (boxes the dataset ships beside its videos; the synthetic set writes them),
``opencv`` (OpenCV's bundled Haar cascade: offline, no download) and ``face-alignment``
(Bulat & Tzimiropoulos' 2D-FAN landmarks, the paper's method; used when its weights are in
torch's hub cache). The cropper enlarges whatever box a finder returns by 1.3x.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from dfbench.errors import BadVideoError, DfbenchError
from dfbench.hookspecs import hookimpl
from dfbench.layout import boxes_path

Box = tuple[float, float, float, float]


class FaceFinder(Protocol):
    def find(self, frames: np.ndarray, video: Path) -> list[Box | None]:
        """One tight face box per frame (None where no face was found)."""
        ...


def fill_gaps(boxes: list[Box | None], video: Path) -> list[Box]:
    """Give each faceless frame the box of the nearest frame with a face; no face at all is an error."""
    found = [i for i, b in enumerate(boxes) if b is not None]
    if not found:
        raise BadVideoError(video, "no face found in any frame", "check the video, or try another --face-finder")
    idx = np.asarray(found)
    return [boxes[int(idx[np.abs(idx - i).argmin()])] for i in range(len(boxes))]  # type: ignore[misc]


def largest(boxes: list[Box]) -> Box | None:
    """The largest box: the rule for which face to keep when a frame shows several."""
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
    """OpenCV's frontal-face Haar cascade, run every ``stride`` frames (faces move little in between)."""

    def __init__(self, stride: int = 5):
        import cv2

        self.stride = stride
        self.cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        if self.cascade.empty():
            raise DfbenchError("OpenCV's Haar cascade file is missing; reinstall opencv-python")

    def find(self, frames: np.ndarray, video: Path) -> list[Box | None]:
        import cv2

        out: list[Box | None] = [None] * len(frames)
        for i in range(0, len(frames), self.stride):
            gray = cv2.cvtColor(np.ascontiguousarray(frames[i]), cv2.COLOR_RGB2GRAY)
            found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
            out[i] = largest([(x, y, x + w, y + h) for x, y, w, h in found])
        return out


FAN_WEIGHTS = ("s3fd-619a316812.pth", "2DFAN4-11f355bf06.pth.tar")  # face detector, 2D landmarks


def hub_checkpoints() -> Path:
    """torch's hub cache, where face-alignment looks for its weights ($TORCH_HOME/hub/checkpoints)."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"
    )
    return Path(torch_home) / "hub" / "checkpoints"


class FaceAlignmentLandmarks:
    """face-alignment's S3FD detector + 2D-FAN landmarks; the box is the landmarks' extent."""

    def __init__(self, device: str | None = None, stride: int = 1):
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
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        # compile=True costs over a minute at start on a CPU and buys nothing for a few frames.
        self.fa = face_alignment.FaceAlignment(
            face_alignment.LandmarksType.TWO_D, device=device, flip_input=False, compile=device != "cpu"
        )
        self.stride = stride

    def find(self, frames: np.ndarray, video: Path) -> list[Box | None]:
        out: list[Box | None] = [None] * len(frames)
        for i in range(0, len(frames), self.stride):
            found = self.fa.get_landmarks_from_image(np.ascontiguousarray(frames[i])) or []
            boxes = [(float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))
                     for p in found]
            out[i] = largest(boxes)
        return out


@hookimpl
def register_face_finders(register):
    register("dataset", DatasetBoxes)
    register("opencv", OpenCVHaar)
    register("face-alignment", FaceAlignmentLandmarks)
