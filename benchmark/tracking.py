"""Following one face through a video from detections on a subset of its frames.

Face finding is the expensive step of preprocessing, so it runs on keyframes only (every k-th
frame, plus the last). Detections on consecutive keyframes are linked into tracks by IoU overlap
with each track's predicted box (constant velocity from its last two detections, so two faces that
cross keep their identities); the face kept is the track with the largest summed box area (the
rule is :func:`choose`); its boxes are interpolated linearly between keyframes, held at the nearest
box before its first and after its last detection, and smoothed by a centred moving average so the
crop does not jitter. Pure numpy: no decoder, no detector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dfbench.errors import BadVideoError

Box = tuple[float, float, float, float]

KEYFRAME_EVERY = 10  # FF++ is 25-30 fps: about three detections a second; faces move little in 1/3 s
SMOOTH_WINDOW = 11  # frames in the centred moving average: one keyframe interval on each side of a frame
MIN_IOU = 0.3  # least overlap between a track's predicted box and a detection for them to be the same face
MAX_MISSED = 2  # keyframes a track may go without a detection (occlusion, a missed face) before it ends


@dataclass(frozen=True)
class TrackParams:
    """How faces are followed; every field changes the track, so all of them are part of the cache key."""

    keyframe_every: int = KEYFRAME_EVERY
    smooth: int = SMOOTH_WINDOW
    min_iou: float = MIN_IOU
    max_missed: int = MAX_MISSED

    def __post_init__(self):
        if self.keyframe_every < 1 or self.smooth < 1 or self.smooth % 2 == 0:
            raise ValueError("keyframe_every must be >= 1 and smooth a positive odd number of frames")

    @property
    def key(self) -> str:
        return f"k{self.keyframe_every}-w{self.smooth}-iou{self.min_iou:g}-miss{self.max_missed}"


DEFAULT_PARAMS = TrackParams()


def keyframes(num_frames: int, every: int) -> list[int]:
    """Frames the face finder runs on: every ``every``-th frame from the first, and the last frame."""
    idx = list(range(0, num_frames, every))
    if idx and idx[-1] != num_frames - 1:
        idx.append(num_frames - 1)
    return idx


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (m, 4) with every box in ``b`` (n, 4), as (m, n)."""
    a, b = np.asarray(a, float).reshape(-1, 4), np.asarray(b, float).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


@dataclass
class Track:
    """One face's detections: the keyframes it was seen on and its box there."""

    frames: list[int] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    missed: int = 0

    def add(self, frame: int, box: Box) -> None:
        self.frames.append(frame)
        self.boxes.append(tuple(float(v) for v in box))
        self.missed = 0

    def predict(self, frame: int) -> np.ndarray:
        """The box expected at ``frame``: the last box moved at the velocity of the last two detections."""
        last = np.asarray(self.boxes[-1])
        if len(self.frames) < 2:
            return last
        velocity = (last - np.asarray(self.boxes[-2])) / (self.frames[-1] - self.frames[-2])
        return last + velocity * (frame - self.frames[-1])

    @property
    def area(self) -> float:
        """Summed box area over its detections: large and long-lived faces score high."""
        b = np.asarray(self.boxes)
        return float(((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])).sum()) if len(b) else 0.0


def link(detections: Sequence[tuple[int, Sequence[Box]]], params: TrackParams = DEFAULT_PARAMS) -> list[Track]:
    """Tracks from ``(frame, boxes found on it)`` in frame order: greedy best-IoU matching to predicted boxes.

    A detection joins the live track whose predicted box it overlaps most (at least ``min_iou``),
    best pairs first; an unmatched detection starts a track; a track unmatched on more than
    ``max_missed`` keyframes in a row ends.
    """
    tracks: list[Track] = []
    live: list[Track] = []
    for frame, boxes in detections:
        boxes = [b for b in boxes if b[2] > b[0] and b[3] > b[1]]
        matched_tracks, matched_boxes = set(), set()
        if live and boxes:
            overlap = iou_matrix(np.stack([t.predict(frame) for t in live]), np.asarray(boxes))
            for flat in np.argsort(-overlap, axis=None):
                ti, bi = divmod(int(flat), len(boxes))
                if overlap[ti, bi] < params.min_iou:
                    break
                if ti in matched_tracks or bi in matched_boxes:
                    continue
                live[ti].add(frame, boxes[bi])
                matched_tracks.add(ti)
                matched_boxes.add(bi)
        for ti, t in enumerate(live):
            if ti not in matched_tracks:
                t.missed += 1
        for bi, box in enumerate(boxes):
            if bi not in matched_boxes:
                t = Track()
                t.add(frame, box)
                tracks.append(t)
                live.append(t)
        live = [t for t in live if t.missed <= params.max_missed]
    return relink(tracks, params)


def relink(tracks: list[Track], params: TrackParams) -> list[Track]:
    """Join a track to one that ended before it started at the same place: the same face, seen again."""
    tracks = sorted(tracks, key=lambda t: t.frames[0])
    out: list[Track] = []
    for t in tracks:
        before = [o for o in out if o.frames[-1] < t.frames[0]]
        if before:
            overlap = iou_matrix(np.asarray([o.boxes[-1] for o in before]), np.asarray([t.boxes[0]]))[:, 0]
            best = int(overlap.argmax())
            if overlap[best] >= params.min_iou:
                before[best].frames += t.frames
                before[best].boxes += t.boxes
                continue
        out.append(t)
    return out


def choose(tracks: Sequence[Track]) -> Track | None:
    """The face to keep: the track with the largest summed box area over its keyframes.

    It favours the face that is both near the camera and on screen long (FF++'s subject) over
    passers-by, faces in the background and brief false detections; ties go to the earlier track.
    """
    return max(tracks, key=lambda t: t.area, default=None)


def per_frame(track: Track, num_frames: int) -> np.ndarray:
    """(num_frames, 4) boxes: linear between the track's detections, the nearest detection outside them."""
    f = np.asarray(track.frames, float)
    b = np.asarray(track.boxes, float)
    x = np.arange(num_frames, dtype=float)
    return np.stack([np.interp(x, f, b[:, c]) for c in range(4)], axis=1)


def smooth(boxes: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over ``window`` frames; near the ends the window shrinks symmetrically.

    A symmetric window leaves linear motion untouched (no lag) and only removes jitter.
    """
    boxes = np.asarray(boxes, float)
    half = window // 2
    if half == 0 or len(boxes) < 3:
        return boxes.copy()
    n = len(boxes)
    csum = np.concatenate([np.zeros((1, 4)), np.cumsum(boxes, axis=0)])
    i = np.arange(n)
    h = np.minimum(half, np.minimum(i, n - 1 - i))
    return (csum[i + h + 1] - csum[i - h]) / (2 * h + 1)[:, None]


@dataclass(frozen=True)
class FaceTrack:
    """The face kept in a video: one box per frame, and how it was found."""

    boxes: np.ndarray  # (frames, 4) float x0, y0, x1, y1
    keyframes: int  # frames the face finder ran on
    seen: int  # keyframes on which the kept face was detected
    tracks: int  # faces (tracks) found in the video


def follow(detections: Sequence[tuple[int, Sequence[Box]]], num_frames: int, video: Path | str,
           params: TrackParams = DEFAULT_PARAMS) -> FaceTrack:
    """The smoothed per-frame box of the face kept; a video with no face on any keyframe is refused."""
    tracks = link(detections, params)
    kept = choose(tracks)
    if kept is None:
        raise BadVideoError(video, f"no face found on any of {len(detections)} keyframes",
                            "check the video, or try another --face-finder")
    boxes = smooth(per_frame(kept, num_frames), params.smooth)
    return FaceTrack(boxes, len(detections), len(kept.frames), len(tracks))
