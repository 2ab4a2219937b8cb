"""Talking-face frames: a face drawn per frame on the head canvas, posed into the room, plus tight boxes.

Real and fake videos of one target share everything but the face layer (``Scene``), so a fake
differs from its real video only where a manipulation touched the face, as in FF++.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dfbench.synth.canvas import Canvas, canvas_for, ellipse, paint
from dfbench.synth.identity import Identity, rng_for
from dfbench.synth.motion import Motion

NOISE_STREAM = 3
SENSOR_NOISE = 1.5  # grey levels of per-frame camera noise

Face = np.ndarray  # the face's colour on the head canvas; its coverage is the identity's face_alpha


def render_face(ident: Identity, cv: Canvas, eyes: float, mouth: float, gaze: float = 0.0,
                texture: float = 1.0) -> Face:
    """``ident``'s face with eyes open by ``eyes`` and mouth open by ``mouth`` (both 0-1)."""
    rgb = ident.face_smooth + texture * ident.texture if texture else ident.face_smooth.copy()
    for s in (-1, 1):
        ex, ey = s * ident.eye_x, ident.eye_y
        ew, eh = ident.eye_w * 1.2, ident.eye_h
        sl, w = cv.window(ex - ew, ey - eh - 0.06, ex + ew, ey + eh + 0.04)
        h = ident.eye_h * eyes
        patch = rgb[sl]
        white = ellipse(w, ex, ey, ident.eye_w, max(h, 1e-3), 0.8)
        patch = paint(patch, (232, 228, 222), white)
        r = np.hypot(w.X - (ex + gaze * ident.eye_w * 0.35), w.Y - ey) * np.float32(w.res / 0.8)
        for colour, radius in ((ident.iris, ident.iris_r), ((12, 10, 10), ident.iris_r * 0.45)):  # iris, pupil
            patch = paint(patch, colour, white * np.clip(0.5 + radius * w.res / 0.8 - r, 0, 1))
        lash = np.clip(ellipse(w, ex, ey - 0.004, ident.eye_w * 1.06, h + 0.02, 0.8) - white, 0, 1)
        rgb[sl] = paint(patch, ident.hair * 0.3 + 10, lash * (w.Y < ey + 0.3 * h + 0.01))
    my, mw = ident.mouth_y, ident.mouth_w
    open_h = ident.mouth_open * mouth
    lips_h = ident.lip_h + open_h
    sl, w = cv.window(-mw - 0.04, my - lips_h - 0.04, mw + 0.04, my + lips_h + 0.04)
    patch = paint(rgb[sl], ident.lips, ellipse(w, 0, my, mw, lips_h, 1.0))
    inner = ellipse(w, 0, my, mw * 0.78, max(open_h * 0.9, 0.004), 0.8)
    patch = paint(patch, (45, 14, 20), inner)
    rgb[sl] = paint(patch, (225, 220, 205), inner * (w.Y < my - open_h * 0.35))  # upper teeth
    return rgb


def pose(ident: Identity, motion: Motion, cv: Canvas) -> np.ndarray:
    """(frames, 2, 3) affines from head-canvas pixels to frame pixels."""
    n = len(motion.dx)
    s = ident.scale * (1.0 + motion.dscale) * cv.res  # frame pixels per face unit
    c, si = np.cos(motion.roll), np.sin(motion.roll)
    lin = np.stack([np.stack([c * s, -si * s], -1), np.stack([si * s, c * s], -1)], -2)  # (n, 2, 2)
    shift = np.stack([ident.centre[0] + motion.dx, ident.centre[1] + motion.dy], -1)
    to_units = cv.to_units()
    out = np.empty((n, 2, 3))
    out[:, :, :2] = lin @ to_units[:, :2]
    out[:, :, 2] = (lin @ to_units[:, 2]) + shift
    return out


def boxes(ident: Identity, motion: Motion, frame_size: tuple[int, int]) -> list[list[float]]:
    """Tight per-frame face boxes [x0, y0, x1, y1] (the landmarks' extent), clipped to the frame."""
    W, H = frame_size
    pts = ident.landmarks()
    s = ident.scale * (1.0 + motion.dscale) * canvas_for(H).res
    out = []
    for i in range(len(s)):
        c, si = np.cos(motion.roll[i]), np.sin(motion.roll[i])
        x = s[i] * (c * pts[:, 0] - si * pts[:, 1]) + ident.centre[0] + motion.dx[i]
        y = s[i] * (si * pts[:, 0] + c * pts[:, 1]) + ident.centre[1] + motion.dy[i]
        box = [max(x.min(), 0.0), max(y.min(), 0.0), min(x.max(), W - 1.0), min(y.max(), H - 1.0)]
        out.append([round(float(v), 2) for v in box])
    return out


@dataclass(eq=False)
class Scene:
    """What a target's real and fake videos share: all but the face colour, per frame.

    The head's coverage and pose never differ between a target's videos, so where it lands in
    each frame (``roi``, ``warp``, ``alpha``) is computed once.
    """

    backdrop: np.ndarray  # (frames, H, W, 3) float32: room and torso, lit
    noise: np.ndarray  # (frames, H, W, 1) float32: grey camera noise
    plate: np.ndarray  # (frames, H, W, 3) uint8: backdrop + noise, the video wherever the head is not
    roi: list[tuple[slice, slice]]  # the head's bounding rectangle in each frame
    warp: np.ndarray  # (frames, 2, 3): head canvas pixels to roi pixels
    alpha: list[np.ndarray]  # the head's coverage in each roi
    gain: np.ndarray  # (frames, 3) float32: the light
    head_gain: np.ndarray  # the head's colour is face * head_gain + head_base (the identity's)
    head_base: np.ndarray


def scene(seed: int, ident: Identity, motion: Motion, frame_size: tuple[int, int]) -> Scene:
    """Everything of the target's video but its face, computed once for its real video and its fakes."""
    W, H = frame_size
    n = len(motion.dx)
    gain = motion.gain.astype(np.float32)
    backdrop = np.empty((n, H, W, 3), np.float32)
    for i in range(n):  # the torso follows the head, damped
        m = np.float32([[1, 0, 0.6 * motion.dx[i]], [0, 1, 0.3 * motion.dy[i]]])
        torso = cv2.warpAffine(ident.torso, m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        backdrop[i] = paint(ident.background, torso[..., :3], torso[..., 3]) * gain[i]
    noise = rng_for(seed, NOISE_STREAM, int(ident.vid)).standard_normal((n, H, W, 1), dtype=np.float32)
    noise *= np.float32(SENSOR_NOISE)

    poses = pose(ident, motion, canvas_for(H))
    hh, hw = ident.head_alpha.shape
    corners = np.array([[0, 0, 1], [hw, 0, 1], [0, hh, 1], [hw, hh, 1]], np.float64).T
    rois, warps, alphas = [], np.empty_like(poses), []
    for i in range(n):
        xy = poses[i] @ corners
        x0, y0 = max(int(xy[0].min()) - 1, 0), max(int(xy[1].min()) - 1, 0)
        x1, y1 = min(int(np.ceil(xy[0].max())) + 2, W), min(int(np.ceil(xy[1].max())) + 2, H)
        rois.append((slice(y0, y1), slice(x0, x1)))
        warps[i] = poses[i] - np.array([[0, 0, x0], [0, 0, y0]])
        alphas.append(cv2.warpAffine(ident.head_alpha, warps[i], (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR))
    return Scene(backdrop, noise, _to_uint8(backdrop + noise), rois, warps, alphas, gain,
                 ident.head_gain, ident.head_base)


def frames(sc: Scene, faces: list[Face]) -> np.ndarray:
    """The video: each face completed to the head, lit, posed onto the backdrop, with camera noise."""
    out = sc.plate.copy()
    for i, face in enumerate(faces):
        roi, a = sc.roi[i], sc.alpha[i]
        lit = (face * sc.head_gain + sc.head_base) * sc.gain[i]
        rgb = cv2.warpAffine(lit, sc.warp[i], a.shape[::-1], flags=cv2.INTER_LINEAR)
        img = cv2.blendLinear(rgb, sc.backdrop[i][roi], a, 1.0 - a)
        out[i][roi] = _to_uint8(img + sc.noise[i][roi])
    return out


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)
