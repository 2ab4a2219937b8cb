"""The four FF++ manipulations, re-created on the head canvas with the traces each leaves in FF++.

Each method takes the target T's real face layers (the video being faked), T and the source S
with their motions, and returns the fake face layer for every frame; the rest of the frame is
T's real video. The traces follow the real methods: FaceSwap pastes S's face with a hard,
wobbling seam and unmatched skin tone; Deepfakes blends a smooth, low-detail S face with a
soft, flickering boundary; Face2Face keeps T but drives it with S's expressions and re-renders
the inner face with a jitter; NeuralTextures re-renders only the mouth, from S's speech,
blurrier and tinted, with flicker. ``strength`` scales every trace: 1.0 is the default
difficulty, 0 leaves the bare identity or expression change."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from dfbench.synth.canvas import Canvas
from dfbench.synth.identity import Identity
from dfbench.synth.motion import Motion
from dfbench.synth.render import Face, render_face

STRENGTH = 2.0
FAKE_STREAM = 4
MIN_TONE_GAP = 20.0  # grey levels: FaceSwap's skin mismatch is never smaller than this (times strength)


class Seam:
    """An elliptical blending mask whose outline bends by a few harmonics chosen per frame.

    The geometry is fixed per video, so the costly parts (radius, angle harmonics) are computed once.
    """

    ORDERS = (2, 3, 4, 5)

    def __init__(self, cv: Canvas, cx: float, cy: float, ax: float, ay: float, edge: float):
        qx, qy = (cv.X - cx) / ax, (cv.Y - cy) / ay
        self.rho = np.sqrt(qx * qx + qy * qy)
        grad = np.sqrt((qx / ax) ** 2 + (qy / ay) ** 2) / np.maximum(self.rho, 1e-6)
        self.scale = np.float32(cv.res / edge) / np.maximum(grad, 1e-6)
        theta = np.arctan2(qy, qx)
        self.harmonics = np.stack([f(k * theta) for k in self.ORDERS for f in (np.cos, np.sin)]).astype(np.float32)

    def __call__(self, wobble: np.ndarray | None = None) -> np.ndarray:
        """Coverage in [0, 1]; ``wobble`` holds one relative radius change per harmonic (cos, sin)."""
        rho = self.rho
        if wobble is not None:
            rho = rho / (1.0 + np.tensordot(wobble.astype(np.float32), self.harmonics, 1))
        return np.clip(0.5 - (rho - 1.0) * self.scale, 0.0, 1.0).astype(np.float32)

    def wobble(self, rng: np.random.Generator, size: float) -> np.ndarray:
        return rng.normal(0, size / np.sqrt(len(self.ORDERS)), 2 * len(self.ORDERS))


def inner_face(T: Identity, S: Identity, cv: Canvas, grow: float, edge: float) -> Seam:
    """The swap region of FF++'s face swaps: brows to below the mouth, cheek to cheek."""
    top = min(T.brow_y, S.brow_y) - max(T.brow_h, S.brow_h) - 0.08
    bottom = max(T.mouth_y + T.lip_h + T.mouth_open, S.mouth_y + S.lip_h + S.mouth_open) + 0.06
    ax = 0.86 * min(T.face_ax, S.face_ax)
    return Seam(cv, 0.0, (top + bottom) / 2, ax * grow, (bottom - top) / 2 * grow, edge)


def _mix(base: Face, donor: np.ndarray, mask: np.ndarray) -> Face:
    """``donor`` blended into the base face under ``mask``; the outline stays the target's."""
    return base + (donor - base) * mask[..., None]


def _jitter(rgb: np.ndarray, cv: Canvas, rng: np.random.Generator, shift: float, zoom: float,
            blur: float) -> np.ndarray:
    """A re-rendered face layer, off by one frame's fit error (random sub-pixel ``shift``, ``zoom``), softened."""
    h, w = cv.shape
    to_units = cv.to_units()
    cx, cy = -to_units[0, 2] * cv.res, (0.1 - to_units[1, 2]) * cv.res  # canvas pixel of the inner face's centre
    s = 1.0 + zoom * rng.standard_normal()
    tx, ty = np.clip(shift * rng.standard_normal(2), -2.5 * shift, 2.5 * shift)
    m = np.float32([[s, 0, tx + (1 - s) * cx], [0, s, ty + (1 - s) * cy]])
    rgb = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return cv2.GaussianBlur(rgb, (0, 0), blur) if blur > 0 else rgb


def _tone_gap(T: Identity, S: Identity, rng: np.random.Generator, strength: float) -> np.ndarray:
    """A colour offset that makes S's skin at least ``MIN_TONE_GAP * strength`` from T's."""
    diff = S.skin - T.skin
    gap = float(np.abs(diff).mean())
    need = MIN_TONE_GAP * strength - gap
    if need <= 0:
        return np.zeros(3, np.float32)
    sign = np.sign(diff.mean()) or (1.0 if rng.random() < 0.5 else -1.0)
    return np.float32(sign * need) * np.ones(3, np.float32)


def face_swap(real: list[Face], T: Identity, S: Identity, mt: Motion, ms: Motion, cv: Canvas,
              rng: np.random.Generator, strength: float = STRENGTH) -> list[Face]:
    """S's face (look and features) in T's pose and expression, pasted with a visible, wobbling seam.

    As FF++'s FaceSwap renders a landmark-fitted model of S, the pasted face is a little soft and
    its fit jitters from frame to frame.
    """
    seam = inner_face(T, S, cv, grow=1.0, edge=max(0.6, 1.6 - 0.8 * strength))
    shift = _tone_gap(T, S, rng, strength)
    out = []
    for i in range(len(mt.dx)):
        rgb = render_face(S, cv, mt.eyes[i], mt.mouth[i], mt.gaze[i], texture=max(0.0, 1 - 0.5 * strength))
        rgb = _jitter(rgb, cv, rng, 0.5 * strength, 0.008 * strength, blur=0.5 * strength)
        out.append(_mix(real[i], rgb + shift, seam(seam.wobble(rng, 0.05 * strength)) * S.face_alpha))
    return out


def deepfakes(real: list[Face], T: Identity, S: Identity, mt: Motion, ms: Motion, cv: Canvas,
              rng: np.random.Generator, strength: float = STRENGTH) -> list[Face]:
    """An autoencoder's S face: smooth, low resolution, colour-matched only in part, softly and unsteadily blended."""
    seam = inner_face(T, S, cv, grow=1.06, edge=3 + 3 * strength)
    toward_t = (T.skin - S.skin) * np.float32(1 - min(0.35 * strength, 1.0))  # colour transfer, in part
    h, w = cv.shape
    out = []
    for i in range(len(mt.dx)):
        rgb = render_face(S, cv, mt.eyes[i], mt.mouth[i], mt.gaze[i], texture=max(0.0, 1 - strength))
        if strength > 0:  # the decoder's low resolution, then its smoothness
            low = cv2.resize(rgb, (w * 3 // 5, h * 3 // 5), interpolation=cv2.INTER_AREA)
            rgb = cv2.GaussianBlur(cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR), (0, 0), 0.9 * strength)
        flicker = np.float32(1.0 + 0.035 * strength * rng.standard_normal())
        alpha = np.float32(1.0 - 0.18 * strength * rng.random())
        mask = seam(seam.wobble(rng, 0.01 * strength)) * S.face_alpha * alpha
        out.append(_mix(real[i], (rgb + toward_t) * flicker, mask))
    return out


def face2face(real: list[Face], T: Identity, S: Identity, mt: Motion, ms: Motion, cv: Canvas,
              rng: np.random.Generator, strength: float = STRENGTH) -> list[Face]:
    """T driven by S's expressions; the inner face re-rendered smoother, tinted, and jittering frame to frame."""
    seam = inner_face(T, T, cv, grow=1.0, edge=2.5)
    tint = np.float32(1.0) + np.float32(0.025 * strength) * rng.choice([-1.0, 1.0], 3).astype(np.float32)
    out = []
    mask = seam()  # covers eyes and mouth whatever their state: outside it, T's face is T's real one
    for i in range(len(mt.dx)):
        rgb = render_face(T, cv, ms.eyes[i], ms.mouth[i], ms.gaze[i], texture=max(0.0, 1 - 0.5 * strength))
        rgb = _jitter(rgb, cv, rng, 0.6 * strength, 0.012 * strength, blur=0.5 * strength)
        out.append(_mix(real[i], rgb * tint, mask))
    return out


def neural_textures(real: list[Face], T: Identity, S: Identity, mt: Motion, ms: Motion, cv: Canvas,
                    rng: np.random.Generator, strength: float = STRENGTH) -> list[Face]:
    """T's video with only the mouth re-rendered from S's speech: blurrier, tinted, flickering; eyes untouched."""
    top, bottom = T.nose_y + 0.07, T.mouth_y + T.lip_h + T.mouth_open + 0.14  # mouth and chin
    seam = Seam(cv, 0.0, (top + bottom) / 2, T.mouth_w + 0.16, (bottom - top) / 2, edge=3.0)
    mask = seam()
    tint = np.float32(strength) * np.array([9.0, -4.0, -5.0], np.float32)
    out = []
    for i in range(len(mt.dx)):
        rgb = render_face(T, cv, mt.eyes[i], ms.mouth[i], mt.gaze[i], texture=max(0.0, 1 - 0.7 * strength))
        if strength > 0:
            rgb = cv2.GaussianBlur(rgb, (0, 0), 0.9 * strength)
        flicker = np.float32(1.0 + 0.04 * strength * rng.standard_normal())
        alpha = np.float32(1.0 - 0.15 * strength * rng.random())
        out.append(_mix(real[i], (rgb + tint) * flicker, mask * alpha))
    return out


Manipulation = Callable[[list[Face], Identity, Identity, Motion, Motion, Canvas, np.random.Generator, float],
                        list[Face]]
MANIPULATIONS: dict[str, Manipulation] = {
    "Deepfakes": deepfakes,
    "Face2Face": face2face,
    "FaceSwap": face_swap,
    "NeuralTextures": neural_textures,
}
