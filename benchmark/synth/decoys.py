"""What every version-3 video gets, real or fake: livelier faces and a face-only retouch.

A shortcut probe reads per-video statistics: how much the eyes region changes from frame to
frame, how sharp the face is against the frame. The manipulations move those statistics, so
real videos must move them as much, from real causes, drawn per video from one distribution:

- ``lively``: gaze saccades, extra blinks, brow raises and a quick head wobble (yaw, pitch, roll),
  added to a person's motion. They change the eyes and brows against the face outline the way a
  real face does (non-rigid, 3D-consistent), not the way a re-enactment's fit error does (the whole
  inner face sliding against the outline from frame to frame).
- ``retouch``: blur, resolution loss or sharpening of the face only, with a small colour offset,
  inside a feathered face mask, and, independently, a beauty app's reshaping (larger eyes, a
  slimmer jaw: the face resampled by a landmark warp, as every manipulation resamples it), as a
  phone's camera app or an editor does to real footage. A reshape is the same in every frame; a
  touch's mask is inset by up to INSET pixels (a skin filter that spares the outline, where a
  fake's blending mask also ends).
- ``focus``: in a share of videos the camera's autofocus hunts, so the whole frame's sharpness
  wanders from frame to frame (as a fake's face detail does from one decoded frame to the next).

Both draw from their own random streams, so the version-2 output they start from is unchanged.

Three calibration knobs, off in every version (docs/synthetic-data.md, session 19), give real videos a
fake's own trace from the fake's own distribution: ``REFIT_SHARE`` (Face2Face's tracker drift of the inner
face), ``REREND_SHARE`` (the Deepfakes pipeline with the person as their own source) and ``WOBBLE`` (a
stronger head wobble).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from dfbench.layout import METHODS
from dfbench.synth import face as F
from dfbench.synth.fakes import Recipe, Video, _strength, deepfakes, inner_drift
from dfbench.synth.filming import Motion, Raw, triangles
from dfbench.synth.warp import clip_box, feather, polygon_mask, warp_pwa

LIVELY_STREAM, RETOUCH_STREAM = 19, 20
LIVELY = 1.0  # the most restless person's amount of saccades, blinks, brow raises and head wobble
WOBBLE = 1.0  # scales the head wobble alone (a calibration knob: docs/synthetic-data.md, session 19)


def lively(seed: int, vid: str, motion: Motion) -> Motion:
    """``motion`` with the person's own saccades, blinks, brow raises and head wobble added."""
    r = np.random.default_rng([seed, LIVELY_STREAM, int(vid)])
    u = r.uniform
    n = len(motion.poses)
    amount = float(np.exp(u(np.log(0.15), np.log(1.0)))) * LIVELY  # how restless this person is
    # saccades: the gaze holds, then jumps
    gx = np.array([e.gaze_x for e in motion.expressions])
    gy = np.array([e.gaze_y for e in motion.expressions])
    jumps = r.random(n) < min(u(0.03, 0.25) * amount, 0.5)
    gx = np.clip(gx + np.cumsum(jumps * r.normal(0, 0.5, n)) * amount, -1, 1)
    gy = np.clip(gy + np.cumsum(jumps * r.normal(0, 0.25, n)) * amount, -1, 1)
    # extra blinks, some of them half
    eyes = np.array([e.eyes for e in motion.expressions])
    shape = np.array([0.6, 0.15, 0.0, 0.1, 0.5, 0.85])
    t = int(r.integers(0, 8))
    while t < n:
        if r.random() < 0.8 * amount:
            depth = u(0.4, 1.0)
            seg = 1 - (1 - shape[: n - t]) * depth
            eyes[t:t + len(seg)] = np.minimum(eyes[t:t + len(seg)], seg)
        t += int(r.integers(6, 24))
    # brow raises with speech
    brows = np.array([e.brows for e in motion.expressions])
    k = np.exp(-0.5 * (np.arange(-6, 7) / u(1.0, 3.0)) ** 2)
    brows = np.clip(brows + np.convolve(r.standard_normal(n), k)[6:6 + n] * 0.35 * amount, -1, 1)
    # a quick wobble of the head: small turns at 2-6 Hz, as when nodding along or shifting weight
    wob = _band(r, n, u(0.08, 0.22)) * amount * WOBBLE
    yaw = wob[:, 0] * 0.045
    pitch = wob[:, 1] * 0.03
    roll = wob[:, 2] * 0.02
    poses = [replace(p, yaw=p.yaw + yaw[i], pitch=p.pitch + pitch[i], roll=p.roll + roll[i])
             for i, p in enumerate(motion.poses)]
    exprs = [replace(e, eyes=float(eyes[i]), brows=float(brows[i]), gaze_x=float(gx[i]), gaze_y=float(gy[i]))
             for i, e in enumerate(motion.expressions)]
    return Motion(poses, exprs)


def _band(r: np.random.Generator, n: int, freq: float) -> np.ndarray:
    """(n, 3) unit-variance noise around ``freq`` cycles per frame: a sum of a few jittered sinusoids."""
    t = np.arange(n)[:, None, None]
    f = freq * r.uniform(0.7, 1.3, (1, 3, 4))
    ph = r.uniform(0, 2 * np.pi, (1, 3, 4))
    return np.sin(2 * np.pi * f * t + ph).sum(-1) / np.sqrt(2.0)


@dataclass(frozen=True)
class Retouch:
    """The edits one video gets, drawn per video: a face touch (blur, resolution loss, sharpening or a colour
    offset alone) in TOUCH_SHARE of videos, a beauty reshape in RESHAPE_SHARE, focus hunting in FOCUS_SHARE."""

    kind: str  # "", "blur", "down", "sharpen", "tone" (the colour offset only)
    amount: float
    colour: tuple[float, float, float]  # BGR-free offset in grey levels (R, G, B)
    edge: float  # the mask's feather, pixels
    eyes: float = 0.0  # reshape: how much larger the eyes get (0 = no reshape)
    slim: float = 0.0  # reshape: how much narrower the jaw gets
    inset: float = 0.0  # the touch's mask shrunk by this many pixels (a skin filter that spares the outline)
    focus: float = 0.0  # autofocus hunting: the whole frame's blur wanders up to this sigma (0 = steady)
    focus_seed: int = 0
    sway: float = 0.0  # the inner face sways against the outline, smoothly, up to this many pixels (0 = still)
    sway_freq: float = 0.1  # the sway's mean frequency, cycles per frame
    sway_seed: int = 0
    sway_white: float = 0.0  # the share of the sway that is new every frame (a filter's or stabiliser's re-fit)
    refit: float = -1.0  # a face filter's landmark re-fit at this strength in [0, 1] moves the inner face (-1 = none)
    refit_seed: int = 0

    @staticmethod
    def draw(seed: int, name: str, method_index: int, sway: float | None = None,
             refit: float | None = None) -> Retouch:
        """Video ``name``'s edits; ``sway`` is the most its inner face sways, ``refit`` the share of videos
        with a refit (None: the module's SWAY, REFIT_SHARE)."""
        sway = SWAY if sway is None else sway
        refit = REFIT_SHARE if refit is None else refit
        a, _, b = name.partition("_")
        r = np.random.default_rng([seed, RETOUCH_STREAM, method_index, int(a), int(b or 0)])
        reshape = r.random() < RESHAPE_SHARE
        eyes, slim = (float(r.uniform(0.03, 0.12)), float(r.uniform(0.01, 0.05))) if reshape else (0.0, 0.0)
        r2 = np.random.default_rng([seed, RETOUCH_STREAM + 100, method_index, int(a), int(b or 0)])  # a stream of
        # their own for the inset and the focus, added after the rest, so the other draws kept their values
        extra = dict(inset=float(r2.uniform(0, INSET)),
                     focus=float(r2.uniform(0.4, 1.3)) if r2.random() < FOCUS_SHARE else 0.0,
                     focus_seed=int(r2.integers(1 << 30)))
        if sway:  # a stream of its own again: with SWAY = 0 every other draw keeps its value
            r3 = np.random.default_rng([seed, RETOUCH_STREAM + 200, method_index, int(a), int(b or 0)])
            if r3.random() < SWAY_SHARE:
                extra.update(sway=float(np.exp(r3.uniform(np.log(0.3), np.log(sway)))),
                             sway_freq=float(r3.uniform(*SWAY_FREQ)), sway_seed=int(r3.integers(1 << 30)))
                if SWAY_WHITE:
                    extra.update(sway_white=float(r3.uniform(0, SWAY_WHITE)))
        if refit and method_index != F2F_INDEX:  # its own stream: with no refit every other draw keeps its value
            r4 = np.random.default_rng([seed, RETOUCH_STREAM + 300, method_index, int(a), int(b or 0)])
            if r4.random() < refit:
                extra.update(refit=_strength(r4, REFIT_STRENGTH), refit_seed=int(r4.integers(1 << 30)))
        if r.random() >= TOUCH_SHARE:
            return Retouch("", 0.0, (0.0, 0.0, 0.0), float(r.uniform(2, 6)), eyes, slim, **extra)
        kind = str(r.choice(["blur", "down", "sharpen", "tone"]))
        amount = {"blur": r.uniform(0.5, 1.8), "down": r.uniform(0.35, 0.8), "sharpen": r.uniform(0.3, 1.2),
                  "tone": 0.0}[kind]
        return Retouch(kind, float(amount), tuple(float(v) for v in r.normal(0, TONE, 3)), float(r.uniform(1.5, 6)),
                       eyes, slim, **extra)


TONE = 6.0  # grey levels: the spread of a touch's colour offset (a skin-tone filter), about a fake's colour error
TOUCH_SHARE, RESHAPE_SHARE = 0.7, 0.5  # shares of videos (real or fake) with a face touch, with a reshape
INSET, FOCUS_SHARE = 10.0, 0.35  # the most a touch's mask is inset (px); the share of videos whose focus hunts
# Expression sway: the eyes, nose and mouth move together against the jaw line and forehead, smoothly (a
# face's own soft tissue and small turns), in SWAY_SHARE of videos, up to SWAY px at SWAY_FREQ cycles per
# frame. A re-enactment's drift moves the same landmarks, but new in every frame. 0 = off.
SWAY, SWAY_SHARE, SWAY_FREQ = 0.0, 0.8, (0.05, 0.14)
SWAY_WHITE = 0.0  # the most of a sway that is new every frame (a face filter re-fitting its landmarks each frame)
# Refit: a face filter (a beauty or AR app) re-fits its landmark model in every frame and moves the inner face
# with its fit error: in REFIT_SHARE of the videos that are not Face2Face's, the inner face drifts against the
# outline exactly as a re-enactment's tracker error moves it (dfbench.synth.fakes.inner_drift, the same process
# at a strength drawn as a fake's), so the amount of inner-face motion no longer tells Face2Face from a real
# video; what still does is what re-enactment alone does (another's expression, a retrieved mouth). 0 = off.
REFIT_SHARE, REFIT_STRENGTH = 0.0, 3.0
F2F_INDEX = METHODS.index("Face2Face") + 1  # pairs.pair_videos' method index (0 is the real video)
# Re-render: a face filter that re-synthesises the face from a low-rank model of the person's own face (as a
# beauty or avatar app does), in REREND_SHARE of the videos that are not Deepfakes': the Deepfakes pipeline
# with the target as its own source (dfbench.synth.fakes.deepfakes(T, T)), at a strength drawn as a fake's. So
# low resolution, a per-frame code error, a colour error and a feathered blend no longer tell Deepfakes; what
# does is what only a swap does (another identity's face on the head). 0 = off.
REREND_SHARE, REREND_STRENGTH = 0.0, 3.0
DF_INDEX = METHODS.index("Deepfakes") + 1


def rerendered(frames, target, seed: int, name: str, method_index: int, recipe: Recipe):
    """``frames`` with the face re-rendered by its own low-rank model in REREND_SHARE of the videos that are not
    Deepfakes' (drawn per video), else ``frames`` unchanged; ``target`` is the video the frames show."""
    if not REREND_SHARE or method_index == DF_INDEX:
        return frames
    a, _, b = name.partition("_")
    r = np.random.default_rng([seed, RETOUCH_STREAM + 400, method_index, int(a), int(b or 0)])
    if r.random() >= REREND_SHARE:
        return frames
    raw = target.raw
    own = Raw(np.stack([np.asarray(frames[i], np.float32) for i in range(len(frames))]), raw.landmarks,
              raw.points, raw.eye_whites, raw.noise)
    v = Video(target.person, target.motion, own)
    return deepfakes(v, v, r, REREND_STRENGTH, recipe)


def _reshaped(points: np.ndarray, t: Retouch) -> np.ndarray:
    """The 68 landmarks and anchors of one frame as a beauty app moves them: eyes scaled up about
    their centres, the lower jaw pulled towards the face's axis."""
    out = points.copy()
    lm = points[:68]
    for eye in (F.EYES.start, F.EYES.start + 6):
        c = lm[eye:eye + 6].mean(0)
        out[eye:eye + 6] = c + (lm[eye:eye + 6] - c) * (1 + t.eyes)
    axis = lm[27:31].mean(0)
    out[3:14] = lm[3:14] + (axis - lm[3:14]) * np.array([[t.slim, 0.0]])
    return out


def retouch(frames, t: Retouch, landmarks: np.ndarray, points: np.ndarray | None = None,
            recipe: Recipe | None = None) -> np.ndarray:
    """``frames`` (n, H, W, 3 float32, or anything indexable with a ``shape``) with the face edited as ``t``
    says; ``points`` (n, 88, 2: landmarks and anchors) place a reshape; a refit drifts as ``recipe``'s
    Face2Face does (required when ``t`` has one)."""
    n, H, W = frames.shape[:3]
    out = np.empty((n, H, W, 3), np.float32)
    tris = triangles()
    if t.focus:
        r = np.random.default_rng(t.focus_seed)
        k = np.exp(-0.5 * (np.arange(-8, 9) / r.uniform(1.5, 4)) ** 2)
        wave = np.convolve(r.standard_normal(n + 16), k / np.sqrt((k**2).sum()))[16:16 + n]
        focus = t.focus * np.clip(0.5 + 0.35 * wave, 0, 1)  # sometimes sharp, sometimes soft
    if t.sway:
        rs = np.random.default_rng(t.sway_seed)
        sway = _band(rs, n, t.sway_freq)[:, :2] * t.sway
        if t.sway_white:
            sway = sway + rs.standard_normal((n, 2)) * t.sway * t.sway_white
    if t.refit >= 0:
        if recipe is None:
            raise ValueError("a refit drifts as the version's Face2Face does: pass its recipe")
        refit = inner_drift(np.random.default_rng(t.refit_seed), n, t.refit, recipe)
    for i in range(n):
        f = np.asarray(frames[i], np.float32)
        out[i] = f
        if t.focus:
            f = cv2.GaussianBlur(f, (0, 0), max(float(focus[i]), 0.05))
            out[i] = f
        moves = points is not None and (t.eyes or t.sway or t.refit >= 0)
        if not t.kind and not moves:
            continue
        x0, y0, x1, y1 = clip_box(landmarks[i], (H, W), margin=8)
        roi = f[y0:y1, x0:x1]
        if moves:
            dst = _reshaped(points[i], t) if t.eyes else points[i].copy()
            if t.sway:
                dst[17:68] += sway[i]
            if t.refit >= 0:
                dst[17:68] += refit[i]
            warped, inside = warp_pwa(f, points[i], dst, tris, (x0, y0, x1, y1), cv2.INTER_LINEAR)
            m = (feather(polygon_mask(roi.shape, landmarks[i] - (x0, y0)), 1.0, t.edge) * inside)[..., None]
            roi = roi + (warped - roi) * m
            out[i, y0:y1, x0:x1] = roi
        if not t.kind:
            continue
        if t.kind == "blur":
            edited = cv2.GaussianBlur(roi, (0, 0), t.amount)
        elif t.kind == "down":
            h, w = roi.shape[:2]
            small = cv2.resize(roi, (max(int(w * t.amount), 4), max(int(h * t.amount), 4)),
                               interpolation=cv2.INTER_AREA)
            edited = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        elif t.kind == "sharpen":
            edited = roi + t.amount * (roi - cv2.GaussianBlur(roi, (0, 0), 1.2))
        else:
            edited = roi
        edited = edited + np.float32(t.colour)
        m = feather(polygon_mask(roi.shape, landmarks[i][:27] - (x0, y0)), 1.0 + t.inset, t.edge)[..., None]
        out[i, y0:y1, x0:x1] = roi + (edited - roi) * m
    return out
