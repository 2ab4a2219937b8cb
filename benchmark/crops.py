"""Face crops as the paper makes them, cached once per video as compact uint8 arrays.

A crop is the square around the face box enlarged 1.3x, resized to ``size`` x ``size``.
The cache key holds the dataset, the video, the face finder and the crop parameters, so a
change of any of them never mixes crops; files are written atomically, so an interrupted
preprocessing pass resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dfbench.faces import Box, FaceFinder, fill_gaps
from dfbench.results import write_atomic
from dfbench.video import read_frames

CROP_SCALE = 1.3  # the paper enlarges the landmark box by 1.3 "to include pixels around the face"
CACHE_VERSION = 1  # bump when crop pixels would change for the same key


def square_box(box: Box, scale: float) -> tuple[int, int, int]:
    """Top-left corner and side of the square around ``box`` enlarged by ``scale``."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * scale
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return int(round(cx - side / 2)), int(round(cy - side / 2)), max(int(round(side)), 1)


def crop_frames(frames: np.ndarray, boxes: list[Box], size: int, scale: float = CROP_SCALE) -> np.ndarray:
    """(frames, size, size, 3) uint8 crops; parts of the square outside the frame repeat the border."""
    import cv2

    out = np.empty((len(frames), size, size, 3), np.uint8)
    h, w = frames.shape[1:3]
    for i, (frame, box) in enumerate(zip(frames, boxes)):
        x, y, side = square_box(box, scale)
        pad = max(0, -x, -y, x + side - w, y + side - h)
        if pad:
            frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            x, y = x + pad, y + pad
        patch = frame[y : y + side, x : x + side]
        interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
        out[i] = cv2.resize(patch, (size, size), interpolation=interp)
    return out


@dataclass(frozen=True)
class CachedCrops:
    path: Path
    num_frames: int


class CropCache:
    """Crops of one dataset root, one face finder and one crop geometry, under ``cache_root``."""

    def __init__(self, cache_root: Path, dataset_root: Path, finder_name: str, finder: FaceFinder | None = None,
                 size: int = 112, scale: float = CROP_SCALE):
        self.dataset_root = Path(dataset_root).resolve()
        dataset_id = hashlib.sha1(str(self.dataset_root).encode()).hexdigest()[:12]
        self.dir = Path(cache_root) / "crops" / f"v{CACHE_VERSION}" / dataset_id / f"{finder_name}-x{scale}-{size}"
        self.finder_name, self.finder, self.size, self.scale = finder_name, finder, size, scale

    def _paths(self, video: Path) -> tuple[Path, Path]:
        rel = Path(video).resolve().relative_to(self.dataset_root)
        base = self.dir / rel.with_suffix("")
        return base.with_suffix(".npy"), base.with_suffix(".json")

    def lookup(self, video: Path) -> CachedCrops | None:
        """The cached crops of ``video`` if present and made from the file as it is now."""
        npy, meta = self._paths(video)
        if not (npy.is_file() and meta.is_file()):
            return None
        info = json.loads(meta.read_text())
        if info.get("source") != _fingerprint(video):
            return None
        return CachedCrops(npy, info["frames"])

    def get(self, video: Path) -> CachedCrops:
        """Crops of ``video``, made now if not cached; raises BadVideoError for an unusable video."""
        hit = self.lookup(video)
        if hit is not None:
            return hit
        if self.finder is None:
            raise RuntimeError("CropCache.get needs a face finder to fill the cache")
        frames = read_frames(video)
        boxes = fill_gaps(self.finder.find(frames, Path(video)), Path(video))
        crops = crop_frames(frames, boxes, self.size, self.scale)
        npy, meta = self._paths(video)
        npy.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=npy.parent, prefix=f".{npy.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.save(f, crops)
        os.replace(tmp, npy)
        info = {"frames": len(crops), "source": _fingerprint(video), "finder": self.finder_name,
                "size": self.size, "scale": self.scale, "boxes": [list(map(float, b)) for b in boxes]}
        write_atomic(meta, json.dumps(info))  # written last: its presence marks a complete entry
        return CachedCrops(npy, len(crops))


def _fingerprint(video: Path) -> list:
    st = Path(video).stat()
    return [st.st_size, int(st.st_mtime_ns)]
