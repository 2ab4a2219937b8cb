"""Scoring any video with a trained detector, through exactly its record's preprocessing.

The video's face is found and followed by the record's face finder, cropped 1.3x at the record's
crop size (the crop cache, keyed by the video's folder), and cut into the record's trunks
(:func:`dfbench.clips.trunks`). Each trunk is handed to the detector as a video of its own, so every
detector yields per-trunk scores without knowing about it; the video's score is their mean, which
is how the detector scores a whole video (the contract: mean over trunks).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from dfbench.clips import trunks
from dfbench.crops import CROP_SCALE, CropCache
from dfbench.detector import UNKNOWN_LABEL, VideoRef
from dfbench.engine import check_scores
from dfbench.errors import BadVideoError
from dfbench.trained import Trained


@dataclass
class Verdict:
    """One video's result: its fake probability, per-trunk scores, or why it could not be scored."""

    video: str
    score: float | None
    trunks: list[dict] = field(default_factory=list)  # {"start", "end", "score"}: frames [start, end)
    frames: int = 0
    face_found: bool = False
    error: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["error"] is None:
            del d["error"]
        return d

    def line(self) -> str:
        """``VIDEO: fake probability 0.873 (3 trunks of 250 frames: 0.912 0.851 0.856; 750 frames)``."""
        shown = " ".join(f"{t['score']:.3f}" for t in self.trunks)
        return (f"{self.video}: fake probability {self.score:.3f} ({len(self.trunks)} trunk"
                f"{'s' if len(self.trunks) != 1 else ''}: {shown}; {self.frames} frames)")


def crops_of(video: Path, trained: Trained, cache_root: Path, finder: str | None = None):
    """The video's face crops as the record made its test videos' (raises BadVideoError)."""
    cache = CropCache(cache_root, video.parent, finder or trained.face_finder, size=trained.crop_size,
                      scale=CROP_SCALE)
    return cache.get(video)


def score_videos(trained: Trained, videos: Sequence[Path], cache_root: Path, *, finder: str | None = None,
                 progress: Callable[[str], None] = lambda _: None) -> list[Verdict]:
    """Every video's verdict, in order; a video that fails gets its one-line ``error`` and the rest go on."""
    verdicts: list[Verdict] = []
    with tempfile.TemporaryDirectory(prefix="dfbench-score-") as tmp:
        refs: list[VideoRef] = []
        spans: list[tuple[int, list[tuple[int, int]]]] = []  # (verdict index, its trunks)
        for i, video in enumerate(videos):
            video = Path(video)
            progress(f"[{i + 1}/{len(videos)}] {video}: finding and cropping the face")
            try:
                crops = crops_of(video, trained, cache_root, finder)
            except BadVideoError as e:
                verdicts.append(Verdict(str(video), None, face_found=False, error=str(e)))
                continue
            frames = np.load(crops.path, mmap_mode="r")
            bounds = trunks(crops.num_frames, trained.trunk_len)
            for j, (a, b) in enumerate(bounds):
                part = Path(tmp) / f"{i}-{j}.npy"
                np.save(part, np.ascontiguousarray(frames[a:b]))
                refs.append(VideoRef(key=f"video/{i}-trunk{j}", label=UNKNOWN_LABEL, method="video", crops=part,
                                     num_frames=b - a))
            spans.append((len(verdicts), bounds))
            verdicts.append(Verdict(str(video), None, frames=crops.num_frames, face_found=True))
        if refs:
            progress(f"scoring {len(refs)} trunk(s) of {len(spans)} video(s) with {trained.record.detector}")
            scores = iter(check_scores(trained.record.detector, "trunk", refs,
                                       trained.detector.score(refs, trained.config, trained.fit)))
            for index, bounds in spans:
                parts = [{"start": a, "end": b, "score": next(scores)} for a, b in bounds]
                verdicts[index] = replace(verdicts[index], trunks=parts,
                                          score=float(np.mean([p["score"] for p in parts])))
    return verdicts
