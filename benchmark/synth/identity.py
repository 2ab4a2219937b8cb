"""Procedural identities: one person's look, drawn once, deterministic from (seed, id).

An identity is its geometry (face shape, where the eyes, brows, nose and mouth sit), its colours
(skin, lips, eyes, hair, clothes), a skin texture fine enough that "low detail" means something,
and a room behind it. The parts that never move are drawn here once; ``render`` adds eyes and
mouth per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dfbench.synth.canvas import Canvas, canvas_for, ellipse, over, paint

IDENTITY_STREAM = 1  # rng stream numbers keep identity, motion and noise independent of each other

SKIN_LIGHT = np.array([236, 200, 176], np.float32)
SKIN_DARK = np.array([92, 58, 42], np.float32)
HAIR = np.array([[25, 20, 18], [60, 40, 28], [110, 72, 42], [190, 150, 90], [150, 70, 35], [150, 148, 145]],
                np.float32)  # black, dark brown, brown, blond, red, grey
IRIS = np.array([[70, 45, 25], [40, 28, 20], [70, 110, 150], [80, 110, 70], [110, 115, 120]], np.float32)


@dataclass(eq=False)
class Identity:
    """One person: geometry in face units, colours in RGB 0-255, and the static layers."""

    vid: str
    # face outline and placement in the frame
    face_ax: float  # half-width of the face (half-height is 1)
    chin_taper: float  # how much narrower the jaw is than the cheeks
    scale: float  # head size relative to the nominal H/4 half-height
    centre: tuple[float, float]  # head centre in frame pixels (before motion)
    # features, in face units
    eye_x: float
    eye_y: float
    eye_w: float
    eye_h: float
    iris_r: float
    brow_y: float
    brow_w: float
    brow_h: float
    brow_tilt: float
    nose_y: float
    mouth_y: float
    mouth_w: float
    lip_h: float
    mouth_open: float  # extra half-height of the lips when fully open
    # colours
    skin: np.ndarray
    lips: np.ndarray
    iris: np.ndarray
    hair: np.ndarray
    # static layers, drawn by make_identity: the face's coverage, its colour without skin texture,
    # the texture; the head as a linear function of the face colour (rgb = face * head_gain +
    # head_base, coverage head_alpha: neck and hair behind, fringe in front); room and torso
    # (frame pixels)
    face_alpha: np.ndarray | None = None
    face_smooth: np.ndarray | None = None
    texture: np.ndarray | None = None
    head_gain: np.ndarray | None = None
    head_base: np.ndarray | None = None
    head_alpha: np.ndarray | None = None
    background: np.ndarray | None = None
    torso: np.ndarray | None = None

    def face_outline(self, cv: Canvas, edge: float = 1.0) -> np.ndarray:
        """Coverage of the face (egg-shaped: the jaw narrows towards the chin)."""
        taper = 1.0 - self.chin_taper * np.clip(cv.Y, 0.0, 1.0) ** 2
        X = cv.X / taper
        rho = np.sqrt((X / self.face_ax) ** 2 + cv.Y**2)
        return np.clip(0.5 - (rho - 1.0) * self.face_ax * cv.res / edge, 0.0, 1.0).astype(np.float32)

    def landmarks(self) -> np.ndarray:
        """Points a 68-landmark fit would span: jaw from eye level round the chin, and the brows (units)."""
        t = np.linspace(np.arcsin(self.eye_y), np.pi - np.arcsin(self.eye_y), 33)
        y = np.sin(t)
        x = np.cos(t) * self.face_ax * (1.0 - self.chin_taper * np.clip(y, 0.0, 1.0) ** 2)
        brows = [(s * (self.eye_x + d * self.brow_w), self.brow_y - self.brow_h) for s in (-1, 1) for d in (-1, 1)]
        return np.concatenate([np.stack([x, y], 1), np.array(brows)]).astype(np.float64)


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def make_identity(seed: int, vid: str, frame_size: tuple[int, int]) -> Identity:
    """The identity with id ``vid`` (e.g. "007") under ``seed``, for frames of ``frame_size`` (W, H)."""
    W, H = frame_size
    r = rng_for(seed, IDENTITY_STREAM, int(vid))
    u = r.uniform
    tone = u(0, 1)
    skin = SKIN_LIGHT * (1 - tone) + SKIN_DARK * tone + r.normal(0, 5, 3).astype(np.float32)
    hair_i = int(r.integers(len(HAIR)))
    ident = Identity(
        vid=vid,
        face_ax=u(0.68, 0.84), chin_taper=u(0.0, 0.22), scale=u(0.88, 1.05),
        centre=(W * (0.5 + u(-0.05, 0.05)), H * (0.45 + u(-0.03, 0.03))),
        eye_x=u(0.27, 0.35), eye_y=u(-0.22, -0.12), eye_w=u(0.12, 0.16), eye_h=u(0.06, 0.085),
        iris_r=u(0.05, 0.065),
        brow_y=0.0, brow_w=u(0.13, 0.19), brow_h=u(0.022, 0.04), brow_tilt=u(-0.18, 0.18),
        nose_y=u(0.16, 0.26),
        mouth_y=u(0.47, 0.56), mouth_w=u(0.19, 0.28), lip_h=u(0.04, 0.06), mouth_open=u(0.09, 0.14),
        skin=np.clip(skin, 20, 250),
        lips=np.clip(skin * u(0.6, 0.8) + np.array([u(40, 70), 8, 14], np.float32), 0, 255),
        iris=IRIS[int(r.integers(len(IRIS)))] + r.normal(0, 6, 3).astype(np.float32),
        hair=HAIR[hair_i] * u(0.85, 1.15),
    )
    ident.brow_y = ident.eye_y - u(0.13, 0.19)
    _draw_face(ident, r, canvas_for(H))
    _draw_hair_and_neck(ident, r, canvas_for(H))
    ident.background = _background(r, W, H)
    ident.torso = _torso(ident, r, W, H)
    return ident


def _noise(r: np.random.Generator, shape, sigma: float) -> np.ndarray:
    """Gaussian noise blurred to a feature size of ``sigma`` pixels, unit standard deviation."""
    n = cv2.GaussianBlur(r.standard_normal(shape).astype(np.float32), (0, 0), sigma) if sigma else \
        r.standard_normal(shape).astype(np.float32)
    return n / max(float(n.std()), 1e-6)


def _draw_face(ident: Identity, r: np.random.Generator, cv: Canvas) -> None:
    """The face's static look: shaded skin, cheeks, nose, brows, eye sockets; texture kept apart."""
    u = r.uniform
    X, Y = cv.X, cv.Y
    ident.face_alpha = ident.face_outline(cv)
    rho = np.sqrt((X / ident.face_ax) ** 2 + Y**2)
    shade = 1.0 - 0.22 * np.clip(rho, 0, 1.2) ** 3 + u(-0.12, 0.12) * X - 0.04 * Y
    rgb = ident.skin * shade[..., None]
    blush = u(0.0, 0.15)
    for s in (-1, 1):
        rgb = paint(rgb, ident.skin * 0.9 + [30, -5, -5], blush * ellipse(cv, s * 0.42, 0.22, 0.17, 0.12, 6))
        rgb = paint(rgb, ident.skin * 0.82, ellipse(cv, s * ident.eye_x, ident.eye_y, ident.eye_w * 1.3,
                                                    ident.eye_h * 1.9, 3))  # eye socket shadow
    side = 1 if u() < 0.5 else -1
    rgb = paint(rgb, ident.skin * 0.84, 0.7 * ellipse(cv, side * 0.07, ident.nose_y - 0.14, 0.035, 0.2, 3))
    rgb = paint(rgb, np.minimum(ident.skin * 1.1, 255), 0.5 * ellipse(cv, 0, ident.nose_y, 0.09, 0.055, 3))
    ns = u(0.055, 0.08)
    for s in (-1, 1):
        rgb = paint(rgb, ident.skin * 0.45, ellipse(cv, s * ns, ident.nose_y + 0.04, 0.032, 0.018, 1.2))
    brow = ident.hair * 0.7 if ident.hair.mean() < 120 else ident.hair * 0.55
    for s in (-1, 1):
        rgb = paint(rgb, brow, 0.9 * ellipse(cv, s * ident.eye_x, ident.brow_y, ident.brow_w, ident.brow_h,
                                             1.2, angle=s * ident.brow_tilt))
    ident.face_smooth = rgb.astype(np.float32)
    # skin texture: pores at pixel scale and blotches a few pixels wide, mostly in luminance
    lum = u(3, 5) * _noise(r, cv.shape, 0.6) + u(2, 4) * _noise(r, cv.shape, 2.5)
    ident.texture = (lum[..., None] * (ident.skin / 170)).astype(np.float32)


def _draw_hair_and_neck(ident: Identity, r: np.random.Generator, cv: Canvas) -> None:
    """Neck and the hair behind the face (``under``), the fringe over the forehead (``front``)."""
    u = r.uniform
    X, Y = cv.X, cv.Y
    zeros = np.zeros(cv.shape, np.float32)
    neck_a = ellipse(cv, 0, 1.3, ident.face_ax * 0.62, 0.9, 1.0)
    neck_rgb = np.broadcast_to(ident.skin * 0.8, (*cv.shape, 3)).astype(np.float32)
    streaks = 1.0 + 0.1 * np.sin(X * u(40, 70) + 3 * _noise(r, cv.shape, 4))
    hair_rgb = (ident.hair * streaks[..., None]).astype(np.float32)
    style = r.choice(["short", "long", "bald", "curly"], p=[0.4, 0.3, 0.1, 0.2])
    volume = u(1.06, 1.2)
    cap = ellipse(cv, 0, -0.12, ident.face_ax * volume * 1.08, volume, 1.5)
    hairline = u(-0.62, -0.42) + u(0.1, 0.35) * X**2 + u(-0.05, 0.05) * X
    if style == "curly":
        cap = np.clip(cap * (1 + 0.5 * _noise(r, cv.shape, 1.5)), 0, 1)
    back = cap * (Y < 0.1) if style != "long" else cap + ellipse(cv, 0, 0.35, ident.face_ax * 1.25, 0.8, 2)
    if style == "bald":
        back = back * (np.abs(X) > ident.face_ax * 0.85) * (Y > -0.5)
        hairline = hairline - 2.0
    under_rgb, under_a = over(zeros[..., None] + neck_rgb, neck_a, hair_rgb, np.clip(back, 0, 1))
    front_a = (cap * np.clip((hairline - Y) * cv.res / 1.5 + 0.5, 0, 1)).astype(np.float32)
    # The face's coverage never changes (fakes keep the target's outline), so the composite
    # under -> face -> fringe is linear in the face colour: precompute its gain and offset.
    black, _ = over(*over(under_rgb, under_a, zeros[..., None], ident.face_alpha), hair_rgb, front_a)
    white, ident.head_alpha = over(*over(under_rgb, under_a, zeros[..., None] + 1, ident.face_alpha),
                                   hair_rgb, front_a)
    ident.head_gain, ident.head_base = (white - black).astype(np.float32), black.astype(np.float32)


def _background(r: np.random.Generator, W: int, H: int) -> np.ndarray:
    """A room: a gradient plus stripes, colour blobs or panels, and a little static grain."""
    u = r.uniform
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    phi = u(0, 2 * np.pi)
    ramp = ((x - W / 2) * np.cos(phi) + (y - H / 2) * np.sin(phi)) / max(W, H) + 0.5
    c0, c1 = r.uniform(40, 210, 3), r.uniform(40, 210, 3)
    bg = (c0 + (c1 - c0) * ramp[..., None]).astype(np.float32)
    for kind in r.choice(["stripes", "blobs", "panels"], size=int(r.integers(1, 3)), replace=False):
        if kind == "stripes":
            a = u(0, np.pi)
            wave = np.sin(2 * np.pi * (x * np.cos(a) + y * np.sin(a)) / u(6, 28))
            bg += (u(8, 22) * wave)[..., None] * r.uniform(0.6, 1.0, 3).astype(np.float32)
        elif kind == "blobs":
            small = r.normal(0, u(15, 35), (int(r.integers(3, 7)), int(r.integers(4, 9)), 3)).astype(np.float32)
            bg += cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)
        else:
            for _ in range(int(r.integers(2, 5))):
                x0, y0 = int(u(0, W * 0.8)), int(u(0, H * 0.7))
                bg[y0:y0 + int(u(0.1, 0.4) * H), x0:x0 + int(u(0.08, 0.3) * W)] = r.uniform(30, 230, 3)
            bg = cv2.GaussianBlur(bg, (0, 0), 0.8)
    bg += u(1.5, 4) * _noise(r, (H, W), 0)[..., None]
    return np.clip(bg, 0, 255).astype(np.float32)


def _torso(ident: Identity, r: np.random.Generator, W: int, H: int) -> np.ndarray:
    """Shoulders in clothes (RGBA, frame pixels), below the head."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    cx = ident.centre[0]
    ax, ay = r.uniform(0.3, 0.42) * W, 0.36 * H
    rho = np.sqrt(((x - cx) / ax) ** 2 + ((y - H * 1.12) / ay) ** 2)
    a = np.clip((1 - rho) * min(ax, ay) + 0.5, 0, 1)
    cloth = r.uniform(20, 230, 3).astype(np.float32)
    shade = 1.0 - 0.25 * np.clip(rho, 0, 1) ** 2
    return np.dstack([cloth * shade[..., None], a]).astype(np.float32)
