"""Filming a person (version 2): motion, light, room, camera, and the processing a video goes through.

A video is a person's head texture (``people``) lit per frame from its normals and warped over
the 68-landmark triangulation into the frame at that frame's pose and expression, the eyes and
teeth drawn in the frame, over a room and a torso, then a camera (shake, sensor noise). What
this returns is the "raw" video a manipulation starts from, with its exact landmarks. After a
manipulation, every video, real or fake, goes through ``post_process``: resolution loss, blur,
sharpening, colour grading, exposure flicker and noise drawn per video from one distribution,
so none of them tells a fake from a real video.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from dfbench.synth import face as F
from dfbench.synth.people import Canvas, Person, canvas, noise
from dfbench.synth.warp import clip_box, pwa_maps

MOTION_STREAM, SCENE_STREAM, CAMERA_STREAM, POST_STREAM, NOISE_STREAM = 12, 13, 14, 15, 18
UNITS_PER_FRAME = 0.2917  # nominal face units per frame height: 70 px per unit at 240 px


@dataclass(frozen=True, eq=False)
class Motion:
    """Per-frame pose and expression of one video."""

    poses: list[F.Pose]
    expressions: list[F.Expression]


def _smooth(r: np.random.Generator, t: np.ndarray, fmin: float, fmax: float) -> np.ndarray:
    """A smooth random signal in about [-1, 1]: three sinusoids of random frequency (cycles/frame)."""
    w = r.dirichlet(np.ones(3))
    f = r.uniform(fmin, fmax, 3)
    ph = r.uniform(0, 2 * np.pi, 3)
    return (w[:, None] * np.sin(2 * np.pi * f[:, None] * t[None] + ph[:, None])).sum(0) * 1.4


def make_motion(seed: int, vid: str, num_frames: int, frame_size: tuple[int, int]) -> Motion:
    """How id ``vid``'s head moves and its face talks in its video."""
    W, H = frame_size
    r = np.random.default_rng([seed, MOTION_STREAM, int(vid)])
    u = r.uniform
    t = np.arange(num_frames, dtype=np.float64)
    scale = H * UNITS_PER_FRAME * u(0.95, 1.15)  # the face at least ~96 px wide at 240 px
    lively = float(np.exp(u(np.log(0.25), np.log(1.8))))  # how much this person moves: still to restless
    fast = u(0.02, 0.08)  # the quickest head movements, cycles per frame
    talk = u(0.15, 1.0)
    rate = u(0.08, 0.24)  # syllables per frame
    syll = 0.5 + 0.5 * np.sin(2 * np.pi * rate * t + u(0, 2 * np.pi) + 0.9 * np.sin(2 * np.pi * u(0.03, 0.08) * t))
    loud = np.clip(0.5 + 0.6 * _smooth(r, t, 0.01, 0.05), 0, 1)
    mouth = np.clip(talk * syll * loud + r.normal(0, 0.04, num_frames), 0, 1)
    bob = u(0.0, 0.035) * (mouth - mouth.mean())  # the head nods a little with speech
    yaw = u(-0.32, 0.32) + lively * 0.1 * _smooth(r, t, 0.005, fast)
    pitch = u(-0.12, 0.1) + lively * 0.05 * _smooth(r, t, 0.005, fast) + bob
    roll = u(-0.1, 0.1) + lively * 0.04 * _smooth(r, t, 0.005, fast)
    cx = W * (0.5 + u(-0.07, 0.07)) + lively * 0.025 * W * _smooth(r, t, 0.004, fast)
    cy = H * (0.5 + u(-0.04, 0.04)) + lively * 0.015 * H * _smooth(r, t, 0.004, fast)
    zoom = 1 + 0.025 * lively * _smooth(r, t, 0.003, 0.03)
    eyes = np.ones(num_frames)
    blink = np.array([0.6, 0.15, 0.0, 0.1, 0.5, 0.85])
    start = int(r.integers(0, 20))
    while start < num_frames:
        seg = blink[: num_frames - start]
        eyes[start:start + len(seg)] = seg
        start += int(r.integers(12, 70))
    smile = np.clip(u(-0.2, 0.6) + u(0.1, 0.4) * _smooth(r, t, 0.005, fast), 0, 1)
    brows = u(0.2, 0.7) * np.clip(_smooth(r, t, 0.01, 0.08), -1, 1)
    gx, gy = 0.6 * _smooth(r, t, 0.01, 0.08), 0.2 * _smooth(r, t, 0.01, 0.06)
    poses = [F.Pose(yaw[i], pitch[i], roll[i], scale * zoom[i], cx[i], cy[i]) for i in range(num_frames)]
    exprs = [F.Expression(mouth[i], eyes[i], smile[i], brows[i], gx[i], gy[i]) for i in range(num_frames)]
    return Motion(poses, exprs)


@dataclass(eq=False)
class Scene:
    """A video's room, torso, light and camera: what the fakes made from it keep."""

    background: np.ndarray  # (H, W, 3) float32
    torso: np.ndarray  # (H, W, 4) float32 RGBA
    light: np.ndarray  # unit vector towards the key light, camera axes (x right, y down, z to camera)
    light_colour: np.ndarray  # (3,) gains
    ambient: float
    diffuse: float
    specular: float
    drift: np.ndarray  # (frames,) brightness of the light over time
    shake: np.ndarray  # (frames, 2) camera shake in pixels
    sensor_noise: float  # grey levels


def make_scene(seed: int, vid: str, person: Person, motion: Motion, frame_size: tuple[int, int]) -> Scene:
    W, H = frame_size
    r = np.random.default_rng([seed, SCENE_STREAM, int(vid)])
    u = r.uniform
    n = len(motion.poses)
    t = np.arange(n, dtype=np.float64)
    az, el = u(-1.2, 1.2), u(-0.2, 0.9)
    light = np.array([np.sin(az) * np.cos(el), -np.sin(el), np.cos(az) * np.cos(el)])
    warmth = u(-1, 1)
    light_colour = np.array([1 + 0.08 * warmth, 1.0, 1 - 0.1 * warmth]) * u(0.85, 1.15)
    shake_amp = u(0, 1.5) if u() < 0.6 else 0.0
    shake = np.cumsum(r.normal(0, 1, (n, 2)), 0)
    shake = (shake - shake.mean(0)) / max(shake.std(), 1e-6) * shake_amp
    return Scene(background=_room(r, W, H, light_colour), torso=_torso(r, W, H, motion, light, light_colour),
                 light=light, light_colour=light_colour.astype(np.float32), ambient=u(0.3, 0.55),
                 diffuse=u(0.45, 0.85), specular=u(0.1, 0.5),
                 drift=(1 + u(0.0, 0.05) * _smooth(r, t, 0.003, 0.02)).astype(np.float32),
                 shake=shake, sensor_noise=float(u(0.8, 4.0)))


def _room(r: np.random.Generator, W: int, H: int, light_colour: np.ndarray) -> np.ndarray:
    """A room behind the speaker: walls, a window or lamp, shelves and frames, out of focus by a varying amount."""
    u = r.uniform
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    wall = r.uniform(50, 220, 3).astype(np.float32)
    if u() < 0.5:
        wall = np.full(3, wall.mean(), np.float32) + r.normal(0, 12, 3).astype(np.float32)
    phi = u(0, 2 * np.pi)
    ramp = ((x - W / 2) * np.cos(phi) + (y - H / 2) * np.sin(phi)) / max(W, H)
    bg = wall * (1 + u(0.2, 0.6) * ramp)[..., None]
    corner = int(u(0.1, 0.9) * W)
    if u() < 0.5:  # a room corner: the other wall darker
        bg[:, corner:] *= u(0.65, 0.9)
    for _ in range(int(r.integers(2, 7))):
        kind = r.choice(["frame", "shelf", "window", "plant", "lamp"])
        x0, y0 = int(u(-0.1, 0.9) * W), int(u(-0.1, 0.7) * H)
        w, h = int(u(0.08, 0.35) * W), int(u(0.06, 0.3) * H)
        c = r.uniform(20, 235, 3)
        if kind == "window":
            cv2.rectangle(bg, (x0, y0), (x0 + w, y0 + h), tuple(float(v) for v in np.minimum(wall * 1.5 + 40, 255)),
                          -1)
            cv2.rectangle(bg, (x0, y0), (x0 + w, y0 + h), tuple(float(v) for v in c * 0.5), 2)
            cv2.line(bg, (x0 + w // 2, y0), (x0 + w // 2, y0 + h), tuple(float(v) for v in c * 0.5), 2)
        elif kind == "frame":
            cv2.rectangle(bg, (x0, y0), (x0 + w, y0 + h), tuple(float(v) for v in c * 0.4), -1)
            inner = cv2.GaussianBlur(r.uniform(0, 255, (max(h - 6, 1), max(w - 6, 1), 3)).astype(np.float32),
                                     (0, 0), u(2, 6))
            ys = slice(max(y0 + 3, 0), max(min(y0 + h - 3, H), 0))
            xs = slice(max(x0 + 3, 0), max(min(x0 + w - 3, W), 0))
            hh, ww = ys.stop - ys.start, xs.stop - xs.start
            if hh > 0 and ww > 0:
                bg[ys, xs] = cv2.resize(inner, (ww, hh))
        elif kind == "shelf":
            for k in range(int(r.integers(1, 4))):
                yy = y0 + k * h // 3
                cv2.rectangle(bg, (x0, yy), (x0 + w, yy + 3), tuple(float(v) for v in c * 0.6), -1)
                for bx in range(x0, x0 + w, int(u(5, 12))):
                    bh = int(u(8, 22))
                    cv2.rectangle(bg, (bx, yy - bh), (bx + int(u(3, 8)), yy),
                                  tuple(float(v) for v in r.uniform(20, 230, 3)), -1)
        elif kind == "plant":
            for _ in range(int(u(10, 40))):
                cx_, cy_ = x0 + u(0, w), y0 + u(0, h)
                cv2.ellipse(bg, (int(cx_), int(cy_)), (int(u(3, 9)), int(u(1, 4))), u(0, 180), 0, 360,
                            tuple(float(v) for v in np.array([u(20, 60), u(70, 140), u(20, 60)])), -1)
        else:
            cv2.circle(bg, (x0, y0), int(u(6, 18)), tuple(float(v) for v in np.minimum(wall * 1.8 + 60, 255)), -1)
    bg += 3 * noise(r, (H, W), 1.0)[..., None]
    bg = cv2.GaussianBlur(bg, (0, 0), u(0.3, 2.5))  # depth of field
    return np.clip(bg * light_colour, 0, 255).astype(np.float32)


def _torso(r: np.random.Generator, W: int, H: int, motion: Motion, light: np.ndarray, light_colour) -> np.ndarray:
    """Shoulders in clothes (RGBA, frame pixels) below the neck, with a collar, lit from the key light's side."""
    u = r.uniform
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    p0 = motion.poses[0]
    s = p0.scale
    cx, top = p0.cx, p0.cy + u(1.15, 1.35) * s
    dx = np.abs(x - cx) / s
    slope = top + s * (0.1 * dx + 0.22 * np.clip(dx - 0.45, 0, None) ** 1.6)  # the shoulder line falls outwards
    a = np.clip((y - slope) / 1.5 + 0.5, 0, 1)
    a *= np.clip((u(1.9, 2.5) - dx) * s / 2 + 0.5, 0, 1)
    neck_open = u(0.25, 0.45)
    v_neck = (dx < neck_open * (1 - (y - top) / (u(0.3, 0.7) * s))) & (u() < 0.6)
    a = a * (1 - v_neck)
    cloth = r.uniform(15, 235, 3).astype(np.float32)
    shade = 1 + 0.25 * light[0] * (x - cx) / (2 * s) - 0.12 * np.clip((y - top) / (H - top + 1), 0, 1)
    folds = 1 + 0.05 * noise(r, (H, W), 6)
    rgb = cloth * (shade * folds)[..., None] * light_colour
    return np.dstack([np.clip(rgb, 0, 255), a]).astype(np.float32)


@dataclass(eq=False)
class Raw:
    """A rendered video before any manipulation and processing, and its exact landmarks."""

    frames: np.ndarray  # (n, H, W, 3) float32
    landmarks: np.ndarray  # (n, 68, 2) frame pixels
    points: np.ndarray  # (n, 88, 2): landmarks and anchors, frame pixels
    eye_whites: np.ndarray  # (n, 2): eyes' visible openness (for reference)
    noise: float = 0.0  # the camera's noise, grey levels: what a careful faker matches


def shade(person: Person, scene: Scene, pose: F.Pose, gain: float) -> np.ndarray:
    """The head texture lit for one frame: albedo x (ambient + diffuse) + specular, in the light's colour.

    The light varies slowly over the face, so it is computed at half the canvas resolution and
    interpolated; the albedo keeps its full detail.
    """
    R = F.rotation(pose)
    lf = (R.T @ scene.light).astype(np.float32)
    hv = lf + (R.T @ np.array([0.0, 0.0, 1.0])).astype(np.float32)
    hv /= np.linalg.norm(hv)
    n, occ, gloss = person.half()
    ndl = np.maximum(n @ lf, 0)
    ndh = np.maximum(n @ hv, 0)
    ndh *= ndh * ndh  # ^3
    ndh *= ndh  # ^6
    ndh *= ndh  # ^12
    ndh *= ndh  # ^24: a tight highlight
    light = (np.float32(scene.ambient) + np.float32(scene.diffuse) * ndl) * occ
    spec = np.float32(scene.specular * 255) * gloss * ndh
    h, w = person.albedo.shape[:2]
    both = cv2.resize(np.dstack([light, spec]), (w, h), interpolation=cv2.INTER_LINEAR)
    rgb = person.albedo * both[..., :1]
    rgb += both[..., 1:]
    rgb *= (scene.light_colour * np.float32(gain))
    return rgb


def render(person: Person, motion: Motion, scene: Scene, frame_size: tuple[int, int]) -> Raw:
    """The raw video of ``person`` moving as ``motion`` in ``scene``, with its landmarks."""
    W, H = frame_size
    n = len(motion.poses)
    src = Canvas.to_px(F.all_points(person.shape))
    tris = triangles()
    frames = np.empty((n, H, W, 3), np.float32)
    lms, pts_all, opens = np.empty((n, 68, 2)), np.empty((n, src.shape[0], 2)), np.empty((n, 2))
    rgba = np.dstack([np.zeros((*canvas().shape, 3), np.float32), person.alpha])
    cam = np.random.default_rng([0, CAMERA_STREAM, int(person.vid), n])
    bank = noise_bank((H, W))
    ta = scene.torso[..., 3:4]
    plate = scene.background * (1 - ta) + scene.torso[..., :3] * ta  # the torso stays; the head moves over it
    rows = np.nonzero(ta[..., 0].max(1) > 0)[0]
    top = int(rows[0]) if len(rows) else H
    for i, (pose, ex) in enumerate(zip(motion.poses, motion.expressions)):
        pts = F.all_points(person.shape, ex)
        dst = F.project(pts, F.depth(person.shape, pts), pose) + scene.shake[i]
        gain = np.float32(scene.drift[i])
        rgba[..., :3] = shade(person, scene, pose, gain)
        box = clip_box(dst, (H, W))
        mx, my, _ = pwa_maps(src, dst, tris, box, step=2)
        head = cv2.remap(rgba, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        x0, y0, x1, y1 = box
        img = np.multiply(plate, gain, out=frames[i])
        a = head[..., 3:4]
        roi = img[y0:y1, x0:x1]
        roi[:] = cv2.blendLinear(head[..., :3], roi, a[..., 0], 1 - a[..., 0])
        lm = dst[:68]
        _eyes(img, person, lm, pose, scene, gain, ex)
        _teeth(img, person, lm, pose, scene, gain)
        ty = max(y0, top)  # the collar over the neck
        if ty < y1:
            t_a = ta[ty:y1, x0:x1, 0]
            img[ty:y1, x0:x1] = cv2.blendLinear(scene.torso[ty:y1, x0:x1, :3] * gain, img[ty:y1, x0:x1], t_a, 1 - t_a)
        img += noise_field(cam, bank, (H, W)) * np.float32(scene.sensor_noise)
        lms[i], pts_all[i], opens[i] = lm, dst, ex.eyes
    return Raw(frames, lms, pts_all, opens, float(scene.sensor_noise))


NOISE_PAD = 24


@lru_cache(maxsize=4)
def noise_bank(size: tuple[int, int]) -> np.ndarray:
    """Camera noise to draw frames from: mostly grey (luminance), a little in colour, unit strength.

    One fixed field per frame size (the same in every process, so output never depends on which
    worker made a video); each frame reads it at its own random offset and orientation.
    """
    H, W = size
    r = np.random.default_rng([NOISE_STREAM, H, W])
    grey = r.standard_normal((H + NOISE_PAD, W + NOISE_PAD, 1), dtype=np.float32)
    bank = grey + 0.4 * r.standard_normal((H + NOISE_PAD, W + NOISE_PAD, 3), dtype=np.float32)
    bank.flags.writeable = False
    return bank


def noise_field(r: np.random.Generator, bank: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """One frame's noise: the bank at a random offset and orientation, so frames' noise is independent in effect."""
    H, W = size
    dy, dx = r.integers(0, NOISE_PAD + 1, 2)
    f = bank[dy:dy + H, dx:dx + W]
    k = int(r.integers(4))
    return f[::-1 if k & 1 else 1, ::-1 if k & 2 else 1]


def triangles() -> np.ndarray:
    """The triangulation every warp uses: Delaunay over an average neutral face's landmarks and anchors."""
    global _TRIS
    if _TRIS is None:
        from dfbench.synth.warp import triangulate

        mean = F.Shape(face_ax=0.78, chin_taper=0.15, eye_x=0.33, eye_y=-0.19, eye_w=0.135, eye_h=0.065,
                       brow_y=-0.38, brow_w=0.195, brow_arch=0.04, nose_y=0.24, nose_w=0.12, mouth_y=0.54,
                       mouth_w=0.23, lip_top=0.047, lip_bottom=0.06, depth=1.0)
        _TRIS = triangulate(F.all_points(mean))
    return _TRIS


_TRIS: np.ndarray | None = None


def _disc(X, Y, cx, cy, r, aa=0.7):
    return np.clip(0.5 + (r - np.hypot(X - cx, Y - cy)) / aa, 0, 1).astype(np.float32)


def _poly(shape, pts, offset) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round((pts - offset) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    return m.astype(np.float32) / 255


def _patch_box(points: np.ndarray, shape: tuple[int, int], before: int, after: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the points' bounding box widened by ``before`` / ``after`` pixels, inside the frame."""
    H, W = shape
    x0, y0 = np.floor(points.min(0)).astype(int) - before
    x1, y1 = np.ceil(points.max(0)).astype(int) + after
    return max(int(x0), 0), max(int(y0), 0), min(int(x1), W), min(int(y1), H)


def _eyes(img: np.ndarray, person: Person, lm: np.ndarray, pose: F.Pose, scene: Scene, gain: float,
          ex: F.Expression) -> None:
    """Eyeballs drawn into the eye openings: sclera, iris, pupil, catchlight, and the lash line."""
    H, W = img.shape[:2]
    bright = (scene.ambient + scene.diffuse * max(scene.light[2], 0.2)) * gain
    for base in (36, 42):
        eye = lm[base:base + 6]
        x0, y0, x1, y1 = _patch_box(eye, (H, W), 3, 4)
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        open_a = _poly((y1 - y0, x1 - x0), eye, (x0, y0))
        Y, X = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        corner_a, corner_b = eye[0], eye[3]
        c = (corner_a + corner_b) / 2
        width = np.linalg.norm(corner_b - corner_a)
        r_iris = width * 0.22
        ic = c + np.array([ex.gaze_x * width * 0.18 + pose.yaw * width * 0.25, ex.gaze_y * width * 0.1 + width * 0.04])
        rgb = np.broadcast_to(person.sclera, (*X.shape, 3)).astype(np.float32).copy()
        edge = np.clip(np.hypot(X - c[0], (Y - c[1]) * 1.5) / (width * 0.5), 0, 1)
        rgb *= (1 - 0.3 * edge**2)[..., None]
        iris_a = _disc(X, Y, ic[0], ic[1], r_iris)
        ring = np.clip(np.hypot(X - ic[0], Y - ic[1]) / max(r_iris, 1e-3), 0, 1)
        iris_rgb = person.iris[None, None] * (0.75 + 0.35 * (1 - ring) - 0.3 * ring**6)[..., None]
        rgb = rgb + (iris_rgb - rgb) * iris_a[..., None]
        rgb = rgb + (np.float32([10, 8, 8]) - rgb) * _disc(X, Y, ic[0], ic[1], r_iris * 0.42)[..., None]
        hl = ic + np.array([scene.light[0], scene.light[1]]) * r_iris * 0.45
        rgb = rgb + (255 - rgb) * (0.85 * _disc(X, Y, hl[0], hl[1], max(r_iris * 0.22, 0.6)))[..., None]
        top = np.interp(X, eye[[0, 1, 2, 3]][:, 0] if eye[3, 0] > eye[0, 0] else eye[[3, 2, 1, 0]][:, 0],
                        eye[[0, 1, 2, 3]][:, 1] if eye[3, 0] > eye[0, 0] else eye[[3, 2, 1, 0]][:, 1])
        rgb *= (1 - 0.35 * np.clip(1 - (Y - top) / max(width * 0.12, 1), 0, 1))[..., None]  # lid shadow
        rgb = rgb * bright * scene.light_colour
        patch = img[y0:y1, x0:x1]
        patch += (rgb - patch) * open_a[..., None]
        lash = np.zeros(X.shape, np.uint8)
        upper = eye[[0, 1, 2, 3]]
        cv2.polylines(lash, [np.round((upper - (x0, y0)) * 16).astype(np.int32)], False, 255,
                      1, cv2.LINE_AA, shift=4)
        lash_a = lash.astype(np.float32) / 255 * 0.7
        patch += (person.hair_colour * 0.25 * bright - patch) * lash_a[..., None]


def _teeth(img: np.ndarray, person: Person, lm: np.ndarray, pose: F.Pose, scene: Scene, gain: float) -> None:
    """The teeth seen between the inner lips: the upper row, and the lower one when the mouth is wide open."""
    H, W = img.shape[:2]
    inner = lm[F.INNER_LIPS]
    x0, y0, x1, y1 = _patch_box(inner, (H, W), 2, 3)
    if x1 - x0 < 3 or y1 - y0 < 2:
        return
    open_a = _poly((y1 - y0, x1 - x0), inner, (x0, y0))
    Y, X = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    upper_y = np.interp(X, inner[[0, 1, 2, 3, 4]][:, 0], inner[[0, 1, 2, 3, 4]][:, 1])
    lower_y = np.interp(X, inner[[4, 5, 6, 7, 0]][::-1][:, 0], inner[[4, 5, 6, 7, 0]][::-1][:, 1])
    tooth_h = pose.scale * 0.045
    upper = np.clip((upper_y + tooth_h - Y) / 0.8, 0, 1)
    lower = np.clip((Y - (lower_y - tooth_h * 0.6)) / 0.8, 0, 1) * ((lower_y - upper_y) > tooth_h * 2.2)
    gaps = 1 - 0.25 * (np.cos((X - (inner[0, 0] + inner[4, 0]) / 2) / (pose.scale * 0.045) * np.pi) > 0.92)
    width = max(inner[4, 0] - inner[0, 0], 1.0)
    side = np.clip(1 - np.abs(X - (inner[0, 0] + inner[4, 0]) / 2) / (width / 2), 0, 1)
    bright = (scene.ambient + scene.diffuse * 0.5) * gain
    rgb = person.teeth[None, None] * (gaps * (0.45 + 0.55 * side))[..., None] * bright * scene.light_colour
    a = np.clip(upper + lower, 0, 1) * open_a
    patch = img[y0:y1, x0:x1]
    patch += (rgb - patch) * a[..., None]


@dataclass(frozen=True)
class Processing:
    """What happened to a video after filming, drawn per video: the same distribution for every video."""

    downscale: float  # 1 = none
    blur: float  # Gaussian sigma, 0 = none
    sharpen: float  # unsharp-mask amount, 0 = none
    gamma: float
    contrast: float
    saturation: float
    white_balance: tuple[float, float, float]
    brightness: float
    flicker: float  # per-frame exposure jitter (relative), 0 = none
    noise: float  # added grey-level noise, 0 = none
    smooth_skin: float  # a camera app's beauty filter on the face (edge-preserving), 0 = none

    @staticmethod
    def draw(r: np.random.Generator) -> Processing:
        u = r.uniform
        return Processing(
            smooth_skin=u(0.3, 1.0) if u() < 0.35 else 0.0,
            downscale=u(0.5, 0.9) if u() < 0.35 else 1.0, blur=u(0.3, 1.1) if u() < 0.3 else 0.0,
            sharpen=u(0.2, 1.0) if u() < 0.3 else 0.0, gamma=u(0.9, 1.1), contrast=u(0.9, 1.12),
            saturation=u(0.85, 1.2), white_balance=tuple(float(v) for v in r.normal(1, 0.02, 3)),
            brightness=u(-6, 6), flicker=u(0.004, 0.025) if u() < 0.3 else 0.0,
            noise=u(0.5, 3.0) if u() < 0.4 else 0.0)


def processing_for(seed: int, name: str, method_index: int) -> Processing:
    """The processing of the video ``name`` (a real id, or a fake's ``target_source``) of one method."""
    a, _, b = name.partition("_")
    return Processing.draw(np.random.default_rng([seed, POST_STREAM, method_index, int(a), int(b or 0)]))


def post_process(frames, p: Processing, rng: np.random.Generator, landmarks: np.ndarray | None = None) -> np.ndarray:
    """``frames`` (float32 frames: an array, or anything indexable with a ``shape``) through the
    processing ``p``; uint8 out. ``landmarks`` (n, 68, 2) place the beauty filter, if ``p`` has one.

    Spatial steps run on uint8 frames with OpenCV; the colour grade is one 3x3 colour matrix
    (white balance, saturation) and one tone curve per frame (gamma, contrast, brightness, flicker).
    """
    n, H, W, _ = frames.shape
    out = np.empty((n, H, W, 3), np.uint8)
    grey = np.full((3, 3), 1 / 3)
    mix = (grey + (np.eye(3) - grey) * p.saturation) * np.asarray(p.white_balance)[:, None]
    bank = noise_bank((H, W)) if p.noise > 0 else None
    levels = np.arange(256) / 255.0
    for i in range(n):
        f = np.clip(frames[i] + 0.5, 0, 255).astype(np.uint8)
        if p.smooth_skin > 0 and landmarks is not None:
            f = _smooth_skin(f, landmarks[i], p.smooth_skin)
        if p.downscale < 1:
            small = cv2.resize(f, (max(int(W * p.downscale), 8), max(int(H * p.downscale), 8)),
                               interpolation=cv2.INTER_AREA)
            f = cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)
        if p.blur > 0:
            f = cv2.GaussianBlur(f, (0, 0), p.blur)
        if p.sharpen > 0:
            f = cv2.addWeighted(f, 1 + p.sharpen, cv2.GaussianBlur(f, (0, 0), 1.2), -p.sharpen, 0)
        f = cv2.transform(f, mix)
        gain = 1 + (rng.normal(0, p.flicker) if p.flicker else 0.0)
        curve = ((levels ** p.gamma - 0.5) * p.contrast + 0.5) * gain * 255 + p.brightness
        f = cv2.LUT(f, np.clip(curve + 0.5, 0, 255).astype(np.uint8))
        if bank is not None:
            f = np.clip(f + noise_field(rng, bank, (H, W)) * np.float32(p.noise) + 0.5, 0, 255).astype(np.uint8)
        out[i] = f
    return out


def _smooth_skin(f: np.ndarray, lm: np.ndarray, amount: float) -> np.ndarray:
    """A beauty filter: the face (landmarks' hull, feathered) smoothed by a bilateral filter."""
    from dfbench.synth.warp import feather, polygon_mask

    x0, y0, x1, y1 = clip_box(lm, f.shape[:2], margin=6)
    roi = f[y0:y1, x0:x1]
    smooth = cv2.bilateralFilter(roi, 7, 12 + 30 * amount, 3)
    m = feather(polygon_mask(roi.shape, lm[:27] - (x0, y0)), 2, 2) * np.float32(amount)
    out = f.copy()
    out[y0:y1, x0:x1] = np.clip(roi + (smooth.astype(np.float32) - roi) * m[..., None] + 0.5, 0, 255).astype(np.uint8)
    return out
