"""Procedural people for the version-2 synthetic set: a head drawn once in canonical face space.

A person is a 68-landmark face shape (``face.Shape``) and a head texture on a canonical canvas
whose landmarks are the neutral ones: skin colour and albedo (pores, blotches, freckles,
moles, wrinkles, stubble), eyebrows drawn hair by hair, lips, ears, neck, hair made of strands,
and a height map whose normals light the face per frame. The eyes' moving parts and the teeth
are drawn per frame in the video (``filming``). Everything is deterministic from (seed, id).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from dfbench.synth import face as F

PERSON_STREAM = 11
RES = 80.0  # canvas pixels per face unit
X_RANGE = (-1.6, 1.6)
Y_RANGE = (-1.95, 1.65)

SKIN = np.array([[246, 214, 190], [234, 190, 160], [214, 164, 128], [186, 130, 96], [150, 98, 68], [104, 66, 46],
                 [72, 46, 34]], np.float32)  # light to dark
HAIR = np.array([[22, 18, 16], [52, 36, 26], [96, 64, 40], [160, 118, 70], [204, 172, 120], [140, 64, 34],
                 [150, 146, 142], [200, 198, 194]], np.float32)
IRIS = np.array([[88, 56, 30], [52, 34, 22], [72, 110, 150], [86, 112, 76], [120, 122, 118], [130, 96, 52]],
                np.float32)


@dataclass(frozen=True, eq=False)
class Canvas:
    """The canonical canvas: pixel grid and its face-unit coordinates."""

    X: np.ndarray
    Y: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.X.shape

    @staticmethod
    def to_px(pts: np.ndarray) -> np.ndarray:
        """Face units to canvas pixels."""
        return (np.asarray(pts, np.float64) - [X_RANGE[0], Y_RANGE[0]]) * RES


@lru_cache(maxsize=1)
def canvas() -> Canvas:
    w = int(round((X_RANGE[1] - X_RANGE[0]) * RES))
    h = int(round((Y_RANGE[1] - Y_RANGE[0]) * RES))
    x = (X_RANGE[0] + (np.arange(w) + 0.5) / RES).astype(np.float32)
    y = (Y_RANGE[0] + (np.arange(h) + 0.5) / RES).astype(np.float32)
    X, Y = np.meshgrid(x, y)
    X.flags.writeable = Y.flags.writeable = False
    return Canvas(X, Y)


@dataclass(eq=False)
class Person:
    """One identity: its shape, colours and the head's static layers on the canonical canvas."""

    vid: str
    shape: F.Shape
    skin: np.ndarray
    hair_colour: np.ndarray
    iris: np.ndarray
    albedo: np.ndarray  # (h, w, 3) float32, 0-255
    alpha: np.ndarray  # (h, w) float32: the head's coverage (face, ears, neck, hair)
    normals: np.ndarray  # (h, w, 3) float32 unit normals, z towards the camera
    occlusion: np.ndarray  # (h, w) float32 ambient occlusion, 1 = open
    gloss: np.ndarray  # (h, w) float32 specular weight (skin oil, hair sheen)
    teeth: np.ndarray  # RGB of the teeth
    lip_colour: np.ndarray
    texture_amount: float  # how textured the skin is (age, make-up), for reference
    sclera: np.ndarray
    _half: tuple | None = None

    def half(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Normals, occlusion and gloss at half resolution: what the per-frame lighting reads."""
        if self._half is None:
            h, w = self.albedo.shape[:2]
            size = (w // 2, h // 2)
            n = cv2.resize(self.normals, size, interpolation=cv2.INTER_AREA)
            n /= np.linalg.norm(n, axis=2, keepdims=True) + 1e-6
            self._half = (n, cv2.resize(self.occlusion, size, interpolation=cv2.INTER_AREA),
                          cv2.resize(self.gloss, size, interpolation=cv2.INTER_AREA))
        return self._half


def noise(r: np.random.Generator, shape, sigma: float) -> np.ndarray:
    """Gaussian noise blurred to a feature size of ``sigma`` pixels, unit standard deviation."""
    n = r.standard_normal(shape).astype(np.float32)
    if sigma > 0:
        n = cv2.GaussianBlur(n, (0, 0), sigma)
    return n / max(float(n.std()), 1e-6)


def gauss(X, Y, cx, cy, sx, sy) -> np.ndarray:
    return np.exp(-(((X - cx) / sx) ** 2 + ((Y - cy) / sy) ** 2)).astype(np.float32)


def _poly_cover(shape, pts_px: np.ndarray, blur: float = 0.0, closed: bool = True) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(pts_px * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    m = m.astype(np.float32) / 255
    return cv2.GaussianBlur(m, (0, 0), blur) if blur > 0 else m


def _paint(rgb: np.ndarray, colour, a: np.ndarray) -> np.ndarray:
    return rgb + (np.asarray(colour, np.float32) - rgb) * a[..., None]


def make_person(seed: int, vid: str) -> Person:
    """The person with id ``vid`` (e.g. "007") under ``seed``."""
    r = np.random.default_rng([seed, PERSON_STREAM, int(vid)])
    u = r.uniform
    cv = canvas()
    X, Y = cv.X, cv.Y
    sh = F.Shape.draw(r)
    lm = F.landmarks(sh)
    lm_px = Canvas.to_px(lm)

    # colours
    tone = u(0, len(SKIN) - 1)
    i0 = int(tone)
    skin = SKIN[i0] + (SKIN[min(i0 + 1, len(SKIN) - 1)] - SKIN[i0]) * (tone - i0)
    skin = np.clip(skin * np.float32(u(0.95, 1.05)) + r.normal(0, 4, 3).astype(np.float32) + [u(-4, 8), 0, u(-6, 4)],
                   15, 250).astype(np.float32)
    hair_colour = (HAIR[int(r.integers(len(HAIR)))] * u(0.85, 1.15)).astype(np.float32)
    if tone > 4.0 and u() < 0.8:  # dark skin mostly with dark hair
        hair_colour = (HAIR[int(r.integers(2))] * u(0.85, 1.1)).astype(np.float32)
    iris = (IRIS[int(r.integers(len(IRIS)))] * u(0.8, 1.15)).astype(np.float32)
    lip_colour = np.clip(skin * u(0.7, 0.88) + [u(20, 55), u(-6, 4), u(0, 12)], 10, 250).astype(np.float32)
    age = u(0, 1)
    texture_amount = float(u(0.35, 1.6))

    # where the head is: the face outline (jaw below the eyes, skull above), ears, neck
    jaw = lm_px[F.JAW]
    skull_top = Canvas.to_px(np.array([[0.0, -1.32]]))[0]
    ang = np.linspace(0, np.pi, 21)
    half = (jaw[-1, 0] - jaw[0, 0]) / 2
    cx_px = (jaw[-1, 0] + jaw[0, 0]) / 2
    skull = np.stack([cx_px + half * 1.02 * np.cos(ang), jaw[0, 1] - (jaw[0, 1] - skull_top[1]) * np.sin(ang)], 1)
    face_a = _poly_cover(cv.shape, np.concatenate([jaw, skull[1:-1]]), 0.6)
    ear_a = np.zeros(cv.shape, np.float32)
    for s in (-1, 1):
        ex, ey = s * (sh.face_ax * 0.98 + 0.04), (sh.eye_y + sh.nose_y) / 2 + 0.02
        ear_a = np.maximum(ear_a, np.clip(1.2 - (((X - ex) / 0.09) ** 2 + ((Y - ey) / 0.2) ** 2), 0, 1))
    neck_w = sh.face_ax * u(0.55, 0.68)
    neck_a = (np.clip((neck_w - np.abs(X)) * RES / 1.2 + 0.5, 0, 1) * (Y > 0.2)).astype(np.float32)
    skin_a = np.maximum(np.maximum(face_a, ear_a), neck_a)

    # height map: dome, nose, sockets, cheekbones, lips, chin; normals from its slope
    rho = np.sqrt((X / (sh.face_ax * 1.05)) ** 2 + ((Y + 0.05) / 1.25) ** 2)
    h = 0.75 * np.sqrt(np.clip(1 - rho**2, 0, 1))
    ridge = np.clip((Y - sh.eye_y) / (sh.nose_y - sh.eye_y), 0, 1) * (Y < sh.nose_y + 0.06)
    h += sh.depth * (0.13 * ridge * np.exp(-(X / (0.07 + 0.05 * ridge)) ** 2)
                     + 0.07 * gauss(X, Y, 0, sh.nose_y, 0.09, 0.07))
    for s in (-1, 1):
        h += 0.05 * gauss(X, Y, s * sh.nose_w * 0.95, sh.nose_y + 0.04, 0.05, 0.04)  # nostril wings
        h -= 0.07 * gauss(X, Y, s * sh.eye_x, sh.eye_y + 0.01, sh.eye_w * 1.25, 0.11)  # eye sockets
        h += 0.03 * gauss(X, Y, s * sh.eye_x, sh.brow_y + 0.03, 0.2, 0.05)  # brow ridge
        h += 0.05 * gauss(X, Y, s * 0.45, 0.1, 0.16, 0.12)  # cheekbones
        h -= 0.025 * gauss(X, Y, s * (sh.mouth_w + 0.05), sh.mouth_y - 0.05, 0.04, 0.12)  # nasolabial folds
    h += 0.04 * gauss(X, Y, 0, sh.mouth_y, sh.mouth_w, 0.07) - 0.03 * gauss(X, Y, 0, sh.mouth_y + 0.15, 0.12, 0.04)
    h += 0.04 * gauss(X, Y, 0, 0.9, 0.2, 0.1)
    neck_h = 0.45 * np.sqrt(np.clip(1 - (X / (neck_w + 0.02)) ** 2, 0, 1))
    h = np.where((Y > 0.85) & (face_a < 0.5), neck_h, h).astype(np.float32)
    h = cv2.GaussianBlur(h, (0, 0), 2.0)
    gy, gx = np.gradient(h * RES)  # height is in face units: slope per face unit
    slope = np.maximum(np.hypot(gx, gy) / 1.5, 1.0)  # no grazing normals at the outline: no rim
    n = np.dstack([-gx / slope, -gy / slope, np.full_like(h, 1.0)])
    n /= np.linalg.norm(n, axis=2, keepdims=True)

    # albedo: base skin, redness, periorbital shade, texture
    alb = np.broadcast_to(skin, (*cv.shape, 3)).astype(np.float32).copy()
    alb *= (1 + 0.03 * noise(r, cv.shape, 12))[..., None]
    red = np.float32([1.06, 0.94, 0.94])
    blush = u(0.2, 0.8)
    for s in (-1, 1):
        alb *= 1 + (red - 1)[None, None] * (blush * gauss(X, Y, s * 0.42, 0.2, 0.18, 0.14))[..., None]
        alb *= 1 - 0.08 * gauss(X, Y, s * sh.eye_x, sh.eye_y + 0.07, sh.eye_w * 1.3, 0.06)[..., None]
    alb *= 1 + (red - 1)[None, None] * (0.7 * gauss(X, Y, 0, sh.nose_y, 0.09, 0.06))[..., None]
    lum = (texture_amount * (u(2.5, 4.5) * noise(r, cv.shape, 0.6) + u(2, 4) * noise(r, cv.shape, 2.0))
           + u(1, 3) * noise(r, cv.shape, 5.0))
    alb += lum[..., None] * (skin / 180)
    if u() < 0.35:  # freckles
        k = int(u(40, 260))
        fx, fy = r.normal(0, 0.35, k), r.normal(-0.05, 0.25, k)
        dots = np.zeros(cv.shape, np.float32)
        for x, y in Canvas.to_px(np.stack([fx, fy], 1)):
            cv2.circle(dots, (int(x * 4), int(y * 4)), int(u(2, 6)), 1.0, -1, cv2.LINE_AA, shift=2)
        alb = _paint(alb, skin * 0.72, cv2.GaussianBlur(dots, (0, 0), 0.7) * u(0.3, 0.7))
    for _ in range(int(r.integers(0, 4))):  # moles
        mx, my = Canvas.to_px(np.array([[u(-0.6, 0.6), u(-0.5, 0.9)]]))[0]
        mole = np.zeros(cv.shape, np.float32)
        cv2.circle(mole, (int(mx * 4), int(my * 4)), int(u(4, 9)), 1.0, -1, cv2.LINE_AA, shift=2)
        alb = _paint(alb, skin * 0.45, cv2.GaussianBlur(mole, (0, 0), 0.6) * face_a)
    wrinkles = np.zeros(cv.shape, np.float32)
    if age > 0.45:  # forehead lines, crow's feet, nasolabial lines
        depth_w = (age - 0.45) * 2
        for j in range(int(2 + 4 * depth_w)):
            y0 = sh.brow_y - 0.12 - 0.07 * j
            xs = np.linspace(-0.45, 0.45, 30)
            ys = y0 + 0.02 * np.sin(xs * u(3, 6) + u(0, 6)) + 0.05 * xs**2
            cv2.polylines(wrinkles, [np.round(Canvas.to_px(np.stack([xs, ys], 1)) * 16).astype(np.int32)], False,
                          float(u(0.4, 1.0)), 1, cv2.LINE_AA, shift=4)
        for s in (-1, 1):
            for j in range(3):
                a = -0.5 + 0.5 * j + u(-0.1, 0.1)
                p0 = np.array([s * (sh.eye_x + sh.eye_w + 0.03), sh.eye_y])
                p1 = p0 + [s * 0.1 * np.cos(a), 0.1 * np.sin(a)]
                cv2.line(wrinkles, *[tuple(np.round(Canvas.to_px(q[None])[0] * 16).astype(int)) for q in (p0, p1)],
                         float(u(0.3, 0.8)), 1, cv2.LINE_AA, shift=4)
            fold = np.array([[s * (sh.nose_w + 0.04), sh.nose_y + 0.02], [s * (sh.mouth_w + 0.06), sh.mouth_y - 0.02],
                             [s * (sh.mouth_w + 0.07), sh.mouth_y + 0.1]])
            cv2.polylines(wrinkles, [np.round(Canvas.to_px(fold) * 16).astype(np.int32)], False, float(depth_w), 1,
                          cv2.LINE_AA, shift=4)
        alb *= (1 - 0.18 * depth_w * cv2.GaussianBlur(wrinkles, (0, 0), 0.5))[..., None]

    # stubble or beard
    beard = u() < 0.3
    if beard:
        region = (np.clip((Y - (sh.nose_y + 0.1)) * 8, 0, 1) * np.clip((0.95 - Y) * 10 + 1, 0, 1)
                  * np.clip((sh.face_ax * 0.95 - np.abs(X)) * 10, 0, 1) * face_a)
        lips_a = _poly_cover(cv.shape, lm_px[F.LIPS], 1.0)
        region = region * (1 - np.clip(lips_a * 1.5, 0, 1))
        density = u(0.2, 1.0)
        dots = (r.random(cv.shape) < 0.25 * density).astype(np.float32)
        dots = cv2.GaussianBlur(dots, (0, 0), 0.5) * 2.5 + density * 0.3 * cv2.GaussianBlur(dots, (0, 0), 2.0)
        alb = _paint(alb, hair_colour * 0.7, np.clip(dots * region * u(0.35, 0.8), 0, 1))

    # lips and the mouth's inside (the gap of the neutral texture; teeth are drawn per frame)
    lips_a = _poly_cover(cv.shape, lm_px[F.LIPS], 0.7)
    inner_a = _poly_cover(cv.shape, lm_px[F.INNER_LIPS], 0.5)
    lip_tex = 1 + 0.05 * np.sin(X * RES * u(1.6, 2.4)) * noise(r, cv.shape, 1.0) * 0.5
    alb = _paint(alb, lip_colour[None, None] * lip_tex[..., None], np.clip(lips_a - inner_a, 0, 1))
    alb = _paint(alb, np.float32([62, 22, 26]), inner_a)
    # eye openings: dark (the eyeball is drawn per frame over them)
    for base in (36, 42):
        alb = _paint(alb, skin * 0.5, _poly_cover(cv.shape, lm_px[base:base + 6], 0.5))

    # eyebrows: short hairs along each brow, angled outwards
    brow_colour = hair_colour * 0.75 if hair_colour.mean() < 120 else hair_colour * 0.5
    brows = np.zeros(cv.shape, np.uint8)
    thick = u(0.025, 0.05)
    for k in (17, 22):
        b = lm[k:k + 5]
        for _ in range(int(110 * thick / 0.035)):
            t = u(0, 4)
            i = min(int(t), 3)
            p = b[i] + (b[i + 1] - b[i]) * (t - i) + [0, u(-thick, thick) * (1 - 0.5 * abs(t - 1.5) / 2.5)]
            side = -1 if k == 17 else 1
            a = side * u(0.2, 0.7) - np.pi / 2 * 0.15
            q = p + 0.05 * np.array([side * np.cos(a), -abs(np.sin(a)) * 0.6])
            cv2.line(brows, tuple(np.round(Canvas.to_px(p[None])[0] * 16).astype(int)),
                     tuple(np.round(Canvas.to_px(q[None])[0] * 16).astype(int)), int(u(150, 255)), 1, cv2.LINE_AA,
                     shift=4)
    alb = _paint(alb, brow_colour, brows.astype(np.float32) / 255 * u(0.7, 0.95))

    # ears: a little redder, with a darker fold
    for s in (-1, 1):
        ex, ey = s * (sh.face_ax * 0.98 + 0.04), (sh.eye_y + sh.nose_y) / 2 + 0.02
        alb = _paint(alb, skin * [1.0, 0.88, 0.86], 0.5 * gauss(X, Y, ex, ey, 0.08, 0.18) * (face_a < 0.5))
        alb = _paint(alb, skin * 0.7, 0.4 * gauss(X, Y, ex + s * 0.015, ey, 0.02, 0.1) * (face_a < 0.5))
    alb = _paint(alb, skin * 0.9, neck_a * (face_a < 0.5))

    # hair
    hair_a, hair_rgb, hair_h = _hair(r, cv, sh, lm, hair_colour, face_a)
    alb = _paint(alb, hair_rgb, hair_a)
    alpha = np.maximum(skin_a, hair_a).astype(np.float32)
    h_all = np.where(hair_a > 0.5, np.maximum(h, hair_h), h)
    hn = cv2.GaussianBlur(hair_h, (0, 0), 2.0)
    gy2, gx2 = np.gradient(hn * RES)
    n2 = np.dstack([-gx2, -gy2, np.ones_like(hn)])
    n2 /= np.linalg.norm(n2, axis=2, keepdims=True)
    n = n + (n2 - n) * hair_a[..., None]
    n /= np.linalg.norm(n, axis=2, keepdims=True)
    occ = np.clip(1 - 1.8 * np.clip(cv2.GaussianBlur(h_all, (0, 0), 6) - h_all, 0, None) * 4, 0.55, 1)
    occ *= 1 - 0.35 * np.clip((Y - 0.95) * 4, 0, 1) * (face_a < 0.5) * gauss(X, Y, 0, 1.05, 0.6, 0.25)  # under chin
    gloss = (u(0.05, 0.35) * face_a * (1 - hair_a) + 0.25 * hair_a).astype(np.float32)
    gloss += 0.3 * lips_a * (1 - inner_a)
    teeth = np.clip(np.float32([232, 226, 210]) * u(0.8, 1.0), 0, 255).astype(np.float32)
    sclera = np.float32([236, 230, 226]) * np.float32(u(0.88, 1.0))
    return Person(vid=vid, shape=sh, skin=skin, hair_colour=hair_colour, iris=iris,
                  albedo=np.clip(alb, 0, 255).astype(np.float32), alpha=alpha, normals=n.astype(np.float32),
                  occlusion=occ.astype(np.float32), gloss=gloss, teeth=teeth, lip_colour=lip_colour,
                  texture_amount=texture_amount, sclera=sclera)


def _hair(r: np.random.Generator, cv: Canvas, sh: F.Shape, lm: np.ndarray, colour: np.ndarray,
          face_a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coverage, colour and height of the hair: a style's outline filled with strands."""
    u = r.uniform
    X, Y = cv.X, cv.Y
    style = r.choice(["short", "long", "bald", "curly", "fringe", "shaved"], p=[0.3, 0.25, 0.07, 0.13, 0.15, 0.1])
    volume = u(1.03, 1.18)
    top = -1.32 * volume - u(0.0, 0.15)
    hairline = sh.brow_y - u(0.3, 0.5) + u(0.08, 0.3) * X**2 + 0.03 * noise(r, cv.shape, 3)
    cap_rx = sh.face_ax * volume * u(1.05, 1.15)
    cap = ((X / cap_rx) ** 2 + ((Y - (-0.15)) / (-0.15 - top)) ** 2) <= 1.0
    side_bottom = sh.eye_y + u(-0.05, 0.15)
    a = cap & (Y < np.where(np.abs(X) > sh.face_ax * 0.8, side_bottom, hairline))
    if style == "long":
        sides = ((np.abs(X) < sh.face_ax * u(1.2, 1.4)) & (Y > -0.3) & (Y < u(0.9, 1.5))
                 & (face_a < 0.5) & (np.abs(X) > sh.face_ax * 0.55))
        a = a | sides | (cap & (face_a < 0.5) & (Y < 0.2))
    elif style == "fringe":
        a = a | (cap & (Y < sh.brow_y - u(0.02, 0.12)) & (np.abs(X) < sh.face_ax * 0.95))
    elif style == "bald":
        a = a & (np.abs(X) > sh.face_ax * 0.8) & (Y > -0.6)
    elif style == "shaved":
        a = cap & (Y < hairline) & (np.abs(X) < sh.face_ax * 1.02)
    cover = cv2.GaussianBlur(a.astype(np.float32), (0, 0), 1.2)
    if style == "curly":
        cover = np.clip(cover * (1 + 0.8 * noise(r, cv.shape, 2.0)), 0, 1)
        cover = np.where(cover > 0.5, 1.0, cover * 0.5).astype(np.float32)
    cover = np.clip(cover, 0, 1).astype(np.float32)
    # strands: curves that start at the crown and fall along the head
    strands = np.zeros((*cv.shape, 3), np.uint8)
    n = 1400 if style not in ("bald", "shaved") else 500
    crown = np.array([u(-0.2, 0.2), top + 0.25])
    p = np.stack([u(-cap_rx, cap_rx, n), u(top, 1.2, n)], 1)
    d = p - crown
    ang = np.arctan2(d[:, 1], d[:, 0])
    length = u(0.08, 0.3, n) if style != "shaved" else u(0.02, 0.05, n)
    curl = u(-3, 3, n) if style == "curly" else u(-0.6, 0.6, n)
    pts = [p]
    for _ in range(5):  # each strand: five segments, turning by its curl
        ang = ang + curl * length / 5
        pts.append(pts[-1] + np.stack([np.cos(ang), np.sin(ang)], 1) * (length / 5)[:, None])
    curves = np.round(Canvas.to_px(np.stack(pts, 1).reshape(-1, 2)).reshape(n, 6, 2) * 16).astype(np.int32)
    shades = r.integers(0, 6, n)
    for k in range(6):  # strands in six shades, lighter and darker than the colour
        c = np.clip(colour * (0.6 + 0.15 * k), 0, 255)
        cv2.polylines(strands, list(curves[shades == k]), False, tuple(float(v) for v in c), 1, cv2.LINE_AA, shift=4)
    drawn = strands.any(-1)
    base = (colour * 0.8).astype(np.float32)
    rgb = np.where(drawn[..., None], strands.astype(np.float32), base)
    rgb = cv2.GaussianBlur(rgb, (0, 0), 0.4)
    rgb *= (1 + 0.12 * noise(r, cv.shape, 6))[..., None]
    rho = np.sqrt((X / cap_rx) ** 2 + ((Y + 0.15) / (-0.15 - top)) ** 2)
    height = (0.85 * np.sqrt(np.clip(1 - rho**2, 0, 1)) + 0.02 * noise(r, cv.shape, 2)).astype(np.float32)
    return cover, rgb.astype(np.float32), height
