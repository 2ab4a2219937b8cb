"""One FF++ pair of the version-2 set: two real videos and the eight fakes made from them.

Both people are filmed once (raw frames with exact landmarks); each is the target of four fakes
with the other as source, as FF++ pairs them. Every one of the ten videos then goes through its
own processing (``filming.post_process``, drawn per video from one distribution) and real H.264.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dfbench.layout import METHODS, QP, REAL, boxes_path, video_path
from dfbench.synth import decoys
from dfbench.synth.decoys import Retouch, lively, retouch
from dfbench.synth.encode import write_h264
from dfbench.synth.fakes import FAKE_STREAM, MANIPULATIONS, V2, Recipe, Video
from dfbench.synth.filming import make_motion, make_scene, post_process, processing_for, render
from dfbench.synth.people import make_person

PROCESS_STREAM = 17
# Version 3's recipe (docs/synthetic-data.md, "Version 3"): Face2Face's inner face drifts against the
# outline by up to 2.5 px more, mostly new every frame, and NeuralTextures' render lands up to 2.5 px
# further off: the temporal evidence the cpu-size clip models learn within their budget.
V3 = Recipe(f2f_drift=2.5, f2f_white=0.65, nt_shift=2.5)
# Version 4 (docs/synthetic-data.md, "Version 4"): version 3's recipe and decoys with the expression
# sway decoy on (session 9's e16): in most videos, real or fake, the inner face sways against the
# outline by up to V4_SWAY px, as a re-enactment's drift moves the same landmarks.
V4_SWAY = 6.0
# Version 5 makes its videos as version 4 does (it differs in its validation split: dfbench.synth.dataset)
RECIPES = {2: V2, 3: V3, 4: V3, 5: V3}
# lively faces and the face retouch (dfbench.synth.decoys), for real and fake alike
DECOYS = {2: False, 3: True, 4: True, 5: True}
SWAYS = {4: V4_SWAY, 5: V4_SWAY}  # the versions whose sway decoy is on, px


def sway_of(version: int) -> float:
    """The most a version's sway decoy moves the inner face, px (0 = off): the version's own (SWAYS), else
    the decoys module's SWAY (0 unless a calibration variant sets it)."""
    return SWAYS.get(version, decoys.SWAY)


def recipe_of(version: int) -> dict:
    """What a version >= 3 manifest names besides its arguments: the manipulations' recipe and the decoys'
    settings, so a set (and every record made on it) says exactly how its fakes were made."""
    from dataclasses import asdict

    out = {"manipulations": asdict(RECIPES[version])}
    if DECOYS[version]:
        names = ["LIVELY", "TONE", "TOUCH_SHARE", "RESHAPE_SHARE", "INSET", "FOCUS_SHARE"]
        out["decoys"] = {k: getattr(decoys, k) for k in names}
        if sway_of(version):  # named only when on: a set made without it keeps the manifest (and fingerprint) it had
            out["decoys"].update(SWAY=sway_of(version), SWAY_SHARE=decoys.SWAY_SHARE, SWAY_FREQ=decoys.SWAY_FREQ,
                                 SWAY_WHITE=decoys.SWAY_WHITE)
        # the calibration knobs of session 19, likewise named only when on (no version sets them)
        out["decoys"].update({k: getattr(decoys, k) for k in ("REFIT_SHARE", "REREND_SHARE") if getattr(decoys, k)})
        if decoys.REFIT_SHARE:
            out["decoys"]["REFIT_STRENGTH"] = decoys.REFIT_STRENGTH
        if decoys.WOBBLE != 1.0:
            out["decoys"]["WOBBLE"] = decoys.WOBBLE
    return json.loads(json.dumps(out))  # as the manifest stores it (tuples become lists)


def film(seed: int, vid: str, num_frames: int, frame_size: tuple[int, int], version: int = 2) -> Video:
    """The raw video of id ``vid``, with its person, motion and landmarks."""
    person = make_person(seed, vid)
    motion = make_motion(seed, vid, num_frames, frame_size)
    if DECOYS[version]:
        motion = lively(seed, vid, motion)
    scene = make_scene(seed, vid, person, motion, frame_size)
    return Video(person, motion, render(person, motion, scene, frame_size))


def landmark_boxes(landmarks: np.ndarray, frame_size: tuple[int, int]) -> list[list[float]]:
    """Per-frame boxes [x0, y0, x1, y1]: the 68 landmarks' extent (brows to chin), clipped to the frame."""
    W, H = frame_size
    lo, hi = landmarks.min(1), landmarks.max(1)
    boxes = np.stack([np.maximum(lo[:, 0], 0), np.maximum(lo[:, 1], 0), np.minimum(hi[:, 0], W - 1),
                      np.minimum(hi[:, 1], H - 1)], 1)
    return [[round(float(v), 2) for v in b] for b in boxes]


def pair_videos(seed: int, t: str, s: str, T: Video, S: Video, strength: float, version: int = 2):
    """(method, name, frames, method_index) of target ``t``'s real video and its fakes with source ``s``,
    before the retouch and the filming's processing: what make_pair writes for this direction."""
    yield REAL, t, T.raw.frames, 0
    for k, method in enumerate(METHODS):
        rng = np.random.default_rng([seed, FAKE_STREAM, int(t), int(s), k])
        yield method, f"{t}_{s}", MANIPULATIONS[method](T, S, rng, strength, RECIPES[version]), k + 1


def processed(seed: int, name: str, method_index: int, frames: np.ndarray, target: Video,
              version: int = 2) -> np.ndarray:
    """The frames as a video file holds them before H.264: the version's retouch (real and fake alike) and
    the filming's processing, each drawn per video."""
    t, _, s = name.partition("_")
    rng = np.random.default_rng([seed, PROCESS_STREAM, method_index, int(t), int(s or 0)])
    if DECOYS[version]:
        frames = decoys.rerendered(frames, target, seed, name, method_index, RECIPES[version])
        edits = Retouch.draw(seed, name, method_index, sway_of(version))
        frames = retouch(frames, edits, target.raw.landmarks, target.raw.points, RECIPES[version])
    return post_process(frames, processing_for(seed, name, method_index), rng, target.raw.landmarks)


def make_pair(out: Path, seed: int, a: str, b: str, compression: str, num_frames: int,
              frame_size: tuple[int, int], strength: float, extra_compressions: tuple[str, ...] = (),
              version: int = 2) -> int:
    """Write pair (a, b): real videos a and b, fakes a_b and b_a of every method, with boxes; returns the count."""
    out = Path(out)
    videos = {v: film(seed, v, num_frames, frame_size, version) for v in (a, b)}
    count = 0
    for t, s in ((a, b), (b, a)):
        T = videos[t]
        boxes = landmark_boxes(T.raw.landmarks, frame_size)  # fakes keep their target's face boxes
        for method, name, frames, k in pair_videos(seed, t, s, T, videos[s], strength, version):
            pixels = processed(seed, name, k, frames, T, version)
            for comp in (compression, *extra_compressions):
                path = video_path(out, method, comp, name)
                write_h264(path, pixels, QP[comp])
                boxes_path(path).write_text(json.dumps({"boxes": boxes}) + "\n")
            count += 1
    return count
