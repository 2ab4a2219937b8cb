"""A 68-landmark face model: one identity's shape, its expressions, and its pose in a frame.

Landmarks follow the iBUG 68-point scheme face-alignment and dlib fit (jaw 0-16, brows 17-26,
nose 27-35, eyes 36-47, outer lips 48-59, inner lips 60-67), in face units: x to the right of
the image, y down, the face's half-height is 1. Each point has a depth, so a head turn (yaw,
pitch) moves near and far points differently, as a 2.5D face does. Anchor points around the
head (forehead, hair, neck, shoulders) move rigidly and close the triangulation over which the
renderer and the manipulations warp images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

JAW, BROWS, NOSE, EYES, LIPS, INNER_LIPS = (slice(0, 17), slice(17, 27), slice(27, 36), slice(36, 48),
                                            slice(48, 60), slice(60, 68))
MOUTH = slice(48, 68)
STABLE = [27, 28, 29, 30, 31, 33, 35, 36, 39, 42, 45]  # eye corners and nose: what alignment uses
N_ANCHORS = 20


@dataclass(frozen=True)
class Shape:
    """An identity's face geometry, in face units."""

    face_ax: float  # half-width of the face at the cheeks
    chin_taper: float
    eye_x: float  # eye centres at (+-eye_x, eye_y)
    eye_y: float
    eye_w: float  # half-width of an eye
    eye_h: float  # half-height of the open eye (upper lid above the centre)
    brow_y: float
    brow_w: float
    brow_arch: float
    nose_y: float  # nose tip
    nose_w: float
    mouth_y: float
    mouth_w: float
    lip_top: float  # upper lip thickness
    lip_bottom: float
    depth: float  # how far the nose stands out

    @staticmethod
    def draw(r: np.random.Generator) -> Shape:
        u = r.uniform
        eye_y = u(-0.24, -0.14)
        return Shape(face_ax=u(0.72, 0.84), chin_taper=u(0.05, 0.25), eye_x=u(0.30, 0.36), eye_y=eye_y,
                     eye_w=u(0.12, 0.15), eye_h=u(0.07, 0.095), brow_y=eye_y - u(0.16, 0.22), brow_w=u(0.17, 0.22),
                     brow_arch=u(0.02, 0.06), nose_y=u(0.20, 0.28), nose_w=u(0.10, 0.14), mouth_y=u(0.50, 0.58),
                     mouth_w=u(0.20, 0.26), lip_top=u(0.035, 0.06), lip_bottom=u(0.045, 0.075), depth=u(0.85, 1.15))


@dataclass(frozen=True)
class Expression:
    """One frame's expression: 0..1 openness of mouth and eyes, smile, brow raise, gaze (-1..1)."""

    mouth: float = 0.3
    eyes: float = 1.0
    smile: float = 0.0
    brows: float = 0.0
    gaze_x: float = 0.0
    gaze_y: float = 0.0


NEUTRAL = Expression()  # the texture's own expression: eyes open, mouth a little open (a gap to warp)


def landmarks(sh: Shape, ex: Expression = NEUTRAL) -> np.ndarray:
    """The 68 landmarks (68, 2) of shape ``sh`` with expression ``ex``, in face units, frontal."""
    p = np.zeros((68, 2))
    drop = 0.16 * ex.mouth  # the jaw drops as the mouth opens
    # jaw: from the ear at eye level round the chin
    ear = np.arcsin(np.clip(sh.eye_y + 0.08, -0.9, 0.9))
    t = np.linspace(ear, np.pi - ear, 17)
    y = np.sin(t)
    x = np.cos(t) * sh.face_ax * (1.0 - sh.chin_taper * np.clip(y, 0, 1) ** 2)
    low = np.clip((y - 0.3) / 0.7, 0, 1)  # how much of the jaw drop a point follows
    p[JAW] = np.stack([x, y + drop * low], 1)[::-1]  # point 0 on the image's left
    # brows: the image's left brow from its outer end inwards, the right one from its inner end out
    u = np.linspace(-1, 1, 5)
    for side, k in ((-1, 17), (1, 22)):
        bx = side * sh.eye_x + u * sh.brow_w
        arch = sh.brow_arch * (1 - u**2) + 0.02 * (side * u > 0)  # the outer end a little higher
        p[k:k + 5] = np.stack([bx, sh.brow_y - arch - 0.05 * ex.brows], 1)
    # nose bridge and base
    p[27:31] = np.stack([np.zeros(4), np.linspace(sh.eye_y + 0.02, sh.nose_y - 0.02, 4)], 1)
    for j, fx in enumerate(np.linspace(-1, 1, 5)):
        p[31 + j] = (fx * sh.nose_w, sh.nose_y + 0.07 - 0.025 * (1 - fx**2))
    # eyes: outer corner, two upper lid points, inner corner, two lower lid points
    for side, base in ((-1, 36), (1, 42)):
        cx, cy = side * sh.eye_x, sh.eye_y
        up, lo = sh.eye_h * (0.1 + 0.9 * ex.eyes), sh.eye_h * (0.55 + 0.1 * ex.eyes)
        outer, inner = (cx + side * sh.eye_w, cy), (cx - side * sh.eye_w, cy + 0.005)
        a = (cx + side * 0.35 * sh.eye_w, cy - up)
        b = (cx - side * 0.35 * sh.eye_w, cy - up)
        c = (cx - side * 0.35 * sh.eye_w, cy + lo * 0.75)
        d = (cx + side * 0.35 * sh.eye_w, cy + lo * 0.75)
        pts = [outer, a, b, inner, c, d] if side < 0 else [inner, b, a, outer, d, c]
        p[base:base + 6] = pts
    # lips: outer contour 48-59 from the left corner over the top, inner contour 60-67 the same way
    mw = sh.mouth_w * (1 + 0.12 * ex.smile)
    corner = sh.mouth_y - 0.03 * ex.smile
    gap = 0.012 + 0.2 * ex.mouth
    up_in, lo_in = sh.mouth_y - gap * 0.3, sh.mouth_y + gap * 0.7
    up_out, lo_out = up_in - sh.lip_top, lo_in + sh.lip_bottom
    p[48], p[54] = (-mw, corner), (mw, corner)
    p[49], p[53] = (-0.62 * mw, up_out + 0.35 * (corner - up_out)), (0.62 * mw, up_out + 0.35 * (corner - up_out))
    p[50], p[52] = (-0.25 * mw, up_out), (0.25 * mw, up_out)
    p[51] = (0.0, up_out + 0.012)
    p[55], p[59] = (0.6 * mw, corner + 0.6 * (lo_out - corner)), (-0.6 * mw, corner + 0.6 * (lo_out - corner))
    p[56], p[58] = (0.25 * mw, lo_out - 0.008), (-0.25 * mw, lo_out - 0.008)
    p[57] = (0.0, lo_out)
    p[60], p[64] = (-0.8 * mw, corner + 0.003), (0.8 * mw, corner + 0.003)
    p[61:64] = np.stack([np.array([-0.4, 0.0, 0.4]) * mw, np.full(3, up_in)], 1)
    p[65:68] = np.stack([np.array([0.4, 0.0, -0.4]) * mw, np.full(3, lo_in)], 1)
    return p


def anchors(sh: Shape) -> np.ndarray:
    """Points around the head (N_ANCHORS, 2) that move rigidly: forehead, hair, ears, neck, shoulders."""
    ang = np.linspace(-np.pi, np.pi, 15, endpoint=False) + np.pi / 15
    ring = np.stack([1.55 * np.cos(ang), -0.15 + 1.75 * np.sin(ang)], 1)  # round the hair and the neck
    forehead = np.array([[-0.45, sh.brow_y - 0.45], [0.0, sh.brow_y - 0.5], [0.45, sh.brow_y - 0.45],
                         [-0.7, sh.brow_y - 0.15], [0.7, sh.brow_y - 0.15]])
    return np.concatenate([ring, forehead])


def depth(sh: Shape, pts: np.ndarray) -> np.ndarray:
    """How far each point stands towards the camera (face units), for a head turn."""
    x, y = pts[:, 0], pts[:, 1]
    dome = np.sqrt(np.clip(1 - (x / 1.0) ** 2 - 0.3 * (y / 1.2) ** 2, 0.0, 1.0)) * 0.75
    nose = sh.depth * 0.32 * np.exp(-(x / 0.12) ** 2) * np.clip((y - sh.eye_y) / (sh.nose_y - sh.eye_y), 0, 1.2)
    return dome + nose


def all_points(sh: Shape, ex: Expression = NEUTRAL) -> np.ndarray:
    """The 68 landmarks then the anchors: the vertices every warp uses."""
    return np.concatenate([landmarks(sh, ex), anchors(sh)])


@dataclass(frozen=True)
class Pose:
    """Where the head is in a frame: turn (yaw, pitch, roll, radians), pixels per face unit, centre."""

    yaw: float
    pitch: float
    roll: float
    scale: float
    cx: float
    cy: float


def project(pts: np.ndarray, z: np.ndarray, pose: Pose) -> np.ndarray:
    """Face-unit points with depths ``z`` seen in a frame under ``pose`` (weak perspective)."""
    cy_, sy_ = np.cos(pose.yaw), np.sin(pose.yaw)
    cp, sp = np.cos(pose.pitch), np.sin(pose.pitch)
    x, y = pts[:, 0], pts[:, 1]
    x1 = x * cy_ + z * sy_  # turn about the vertical axis (depth counts towards the camera)
    z1 = -x * sy_ + z * cy_
    y1 = y * cp - z1 * sp  # then nod
    cr, sr = np.cos(pose.roll), np.sin(pose.roll)
    u = x1 * cr - y1 * sr
    v = x1 * sr + y1 * cr
    return np.stack([pose.cx + pose.scale * u, pose.cy + pose.scale * v], 1)


def rotation(pose: Pose) -> np.ndarray:
    """The head's 3x3 rotation (face axes to camera axes, z towards the camera), for shading."""
    cy_, sy_ = np.cos(pose.yaw), np.sin(pose.yaw)
    cp, sp = np.cos(pose.pitch), np.sin(pose.pitch)
    cr, sr = np.cos(pose.roll), np.sin(pose.roll)
    ry = np.array([[cy_, 0, sy_], [0, 1, 0], [-sy_, 0, cy_]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ rx @ ry
