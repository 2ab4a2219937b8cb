"""The four FF++ manipulations (version 2), made by the operations the real tools use.

Each takes the target video T (the one being faked: its raw frames and exact landmarks) and the
source video S, and returns T's frames with the face manipulated; the rest of the frame is T's.
What each does, and so what evidence it leaves:

- ``face_swap`` (FaceSwap): S's face, frame by frame, warped onto T's landmarks (piecewise
  affine over the 68-point triangulation), colour-transferred to T's skin (Reinhard, in Lab) and
  blended by Poisson blending (``cv2.seamlessClone``) or a feathered mask. S was lit by S's light,
  so shading and noise differ from T's head; landmark fits jitter from frame to frame.
- ``deepfakes`` (Deepfakes): a linear autoencoder per pair, trained in seconds on both videos'
  aligned faces: a shared encoder (principal components of both identities' expression
  variation) and S's decoder. T's aligned face is encoded and decoded as S at low resolution,
  frame by frame (each frame's code carries its own error: frame-to-frame inconsistency), warped
  back, colour-matched and blended with a feathered mask.
- ``face2face`` (Face2Face): T's own face re-enacted: S's expression (mouth, jaw, brows) moved
  onto T's landmarks, T's frame warped to them (its own texture), the mouth's inside retrieved from
  the T frame whose mouth opening matches best. Every frame alone is T's skin, lighting and noise;
  what gives it away is mostly temporal: the fitted geometry jitters from frame to frame and the
  retrieved mouth switches between frames.
- ``neural_textures`` (NeuralTextures): only the mouth re-rendered, from a low-rank texture of
  T's own mouth (principal components of its aligned mouth patches) conditioned on S's mouth
  shape, with a slight per-frame jitter of where it lands; the subtlest.

Strength is drawn per video (``_strength``), so some fakes are nearly invisible; nothing here
touches a frame outside the face, and every global nuisance comes later, drawn for real and fake
videos alike (``filming.post_process``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from dfbench.synth import face as F
from dfbench.synth.filming import Motion, Raw, noise_bank, noise_field, triangles
from dfbench.synth.people import Person
from dfbench.synth.warp import (
    apply,
    clip_box,
    feather,
    invert,
    lab_stats,
    poisson_blend,
    polygon_mask,
    similarity,
    smooth_in_time,
    transfer,
    warp_pwa,
)

STRENGTH = 1.0  # scales every method's per-video strength; 1.0 is version 2's default difficulty
FAKE_STREAM = 16


@dataclass(frozen=True)
class Recipe:
    """The knobs a generator version sets on the manipulations; the defaults are version 2's."""

    f2f_drift: float = 0.0  # Face2Face: extra drift of the inner face against the outline, px at full strength
    f2f_white: float = 0.35  # Face2Face: the share of the drift that is new every frame
    f2f_corr: float = 2.5  # Face2Face: frames the rest of the drift is correlated over
    f2f_jaw: bool = True  # Face2Face: the source's expression moves the jaw too (False: lips and brows only)
    f2f_tint: float = 1.0  # Face2Face: scale of the re-rendered face's colour error
    f2f_pops: float = 0.0  # Face2Face: share of frames where the tracker slips and the inner face jumps
    f2f_pop_px: float = 0.0  # Face2Face: how far it jumps, px at full strength
    nt_shift: float = 0.0  # NeuralTextures: extra wobble of where the mouth render lands, px at full strength
    nt_white: float = 0.3  # NeuralTextures: the share of the wobble that is new every frame
    nt_corr: float = 2.0  # NeuralTextures: frames the rest of the wobble is correlated over
    nt_tint: float = 1.0  # NeuralTextures: scale of the rendered mouth's colour error
    nt_pops: float = 0.0  # NeuralTextures: share of frames where the render lands off its place
    nt_pop_px: float = 0.0  # NeuralTextures: how far off, px at full strength
    fit_corr: float = 3.0  # every method's landmark fit error: frames it is correlated over
    fit_white: float = 0.2  # every method's landmark fit error: the share that is new every frame
    df_code_corr: float = 2.0  # Deepfakes: frames each frame's code error is correlated over


V2 = Recipe()


class Edits:
    """A fake as edits of its target's raw frames: one patch per frame, applied when a frame is read.

    A fake touches the face only; keeping patches instead of copying every frame saves the
    memory traffic of eight full-video copies per pair.
    """

    def __init__(self, base: np.ndarray):
        self.base = base
        self.shape = base.shape
        self.patches: dict[int, tuple[int, int, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.base)

    def region(self, i: int, box: tuple[int, int, int, int]) -> np.ndarray:
        """Frame ``i``'s pixels in ``box`` as they are now (read only)."""
        x0, y0, x1, y1 = box
        if i in self.patches:
            return self[i][y0:y1, x0:x1]
        return self.base[i, y0:y1, x0:x1]

    def set(self, i: int, box: tuple[int, int, int, int], patch: np.ndarray) -> None:
        self.patches[i] = (box[0], box[1], patch.astype(np.float32))

    def __getitem__(self, i: int) -> np.ndarray:
        frame = self.base[i].copy()
        if i in self.patches:
            x0, y0, patch = self.patches[i]
            frame[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]] = patch
        return frame


@dataclass(eq=False)
class Video:
    """A raw video with what made it: the person, their motion, the exact landmarks."""

    person: Person
    motion: Motion
    raw: Raw


def principal_components(x: np.ndarray, k: int) -> np.ndarray:
    """The top ``k`` principal directions (k, d) of centred rows ``x`` (n, d), n << d: from the n x n Gram matrix."""
    gram = x @ x.T
    vals, vecs = np.linalg.eigh(gram)
    order = np.argsort(vals)[::-1][:k]
    comps = vecs[:, order].T @ x
    return comps / np.maximum(np.linalg.norm(comps, axis=1, keepdims=True), 1e-9)


def _colour_error(rng: np.random.Generator, lightness: float, chroma: float) -> np.ndarray:
    """What a colour correction gets wrong (Lab offset): random in sign, so no colour is typical of fakes."""
    return np.array([rng.normal(0, lightness), rng.normal(0, chroma), rng.normal(0, chroma)])


def _regrain(rng: np.random.Generator, patch: np.ndarray, sigma: float) -> np.ndarray:
    """``patch`` with camera-like noise of ``sigma`` grey levels added: a faker matching the target's grain."""
    if sigma <= 0:
        return patch
    h, w = patch.shape[:2]
    bank = noise_bank((max(h, 240), max(w, 320)))  # one field, read at a random offset
    return patch + noise_field(rng, bank, (h, w)) * np.float32(sigma)


def _strength(rng: np.random.Generator, scale: float) -> float:
    """One fake's strength in [0, 1]: mostly middling, sometimes nearly nothing."""
    return float(np.clip(rng.beta(2.0, 1.6) * scale, 0.0, 1.0))


def _wander(rng: np.random.Generator, shape: tuple[int, ...], corr: float) -> np.ndarray:
    """Unit-variance noise along the first axis (time), correlated over about ``corr`` frames."""
    n = shape[0]
    pad = int(3 * corr) + 1
    x = rng.standard_normal((n + 2 * pad, *shape[1:]))
    if corr > 0.3:
        k = np.exp(-0.5 * (np.arange(-pad, pad + 1) / corr) ** 2)
        x = np.apply_along_axis(lambda v: np.convolve(v, k / np.sqrt((k**2).sum()), mode="same"), 0, x)
    return x[pad:pad + n]


def _jitter(rng: np.random.Generator, n: int, sigma: float, corr: float = 3.0, white: float = 0.2) -> np.ndarray:
    """Per-frame landmark fit errors (n, 68, 2) of size ``sigma`` pixels.

    A tracker's error drifts: mostly correlated over ``corr`` frames, with a ``white`` share that is
    new every frame; shared by all points more than it differs between them.
    """
    common = _wander(rng, (n, 1, 2), corr) * np.sqrt(1 - white**2) + rng.standard_normal((n, 1, 2)) * white
    own = _wander(rng, (n, 68, 2), corr) * np.sqrt(1 - white**2) + rng.standard_normal((n, 68, 2)) * white
    return sigma * (0.8 * common + 0.5 * own)


def _pops(rng: np.random.Generator, n: int, share: float, px: float) -> np.ndarray:
    """(n, 2) displacements that are zero except in a ``share`` of frames, where a tracker slips by about
    ``px`` pixels in a random direction for one or two frames, then recovers."""
    out = np.zeros((n, 2))
    if share <= 0 or px <= 0:
        return out
    for i in np.nonzero(rng.random(n) < share)[0]:
        angle, size = rng.uniform(0, 2 * np.pi), px * rng.uniform(0.6, 1.2)
        out[i:i + int(rng.integers(1, 3))] = size * np.array([np.cos(angle), np.sin(angle)])
    return out


def _fit_error(rng: np.random.Generator, n: int, sigma: float, recipe: Recipe) -> np.ndarray:
    """A tracker's landmark fit error as the recipe has it (see ``_jitter``)."""
    return _jitter(rng, n, sigma, recipe.fit_corr, recipe.fit_white)


_TRIS68: np.ndarray | None = None


def tris68() -> np.ndarray:
    """The triangles of ``triangles()`` among the 68 landmarks only (no anchors)."""
    global _TRIS68
    if _TRIS68 is None:
        t = triangles()
        _TRIS68 = t[(t < 68).all(1)]
    return _TRIS68


def _face_mask(lm: np.ndarray, box, erode: float, blur: float, upto: int = 27) -> np.ndarray:
    x0, y0, x1, y1 = box
    m = polygon_mask((y1 - y0, x1 - x0), lm[:upto] - (x0, y0))
    return feather(m, erode, blur)


def face_swap(T: Video, S: Video, rng: np.random.Generator, strength: float = STRENGTH, recipe: Recipe = V2) -> Edits:
    """S's face warped onto T's landmarks, colour-transferred and blended (Poisson or feathered)."""
    k = _strength(rng, strength)
    out = Edits(T.raw.frames)
    n, H, W = out.shape[:3]
    poisson = rng.random() < 0.35
    colour = 1.0 - k * rng.uniform(0.2, 0.8)  # how completely the colour is matched
    error = _colour_error(rng, 2 + 6 * k, 1.5 + 3 * k)
    steady = rng.uniform(1, 8)  # frames the colour statistics are averaged over
    erode, blur = rng.uniform(1, 6), rng.uniform(1.5, 6) * (1.2 - 0.8 * k)
    fit = 0.2 + 1.0 * k  # landmark fit error, pixels
    js, jt = _fit_error(rng, n, fit, recipe), _fit_error(rng, n, fit, recipe)
    tris = tris68()
    parts, stats = [], []
    for i in range(n):
        src = S.raw.landmarks[i] + js[i]
        dst = T.raw.landmarks[i] + jt[i]
        box = clip_box(dst, (H, W), margin=8)
        warped, inside = warp_pwa(S.raw.frames[i], src, dst, tris, box, cv2.INTER_CUBIC)
        mask = _face_mask(dst, box, erode, 0.0) * inside
        parts.append((box, warped, mask, inside))
        stats.append([lab_stats(warped, mask), lab_stats(out.region(i, box), mask)])
    stats = np.array(stats)
    stats[:, 0] = smooth_in_time(stats[:, 0], steady)  # the tool's correction drifts; the target's light is its own
    for i, (box, warped, mask, inside) in enumerate(parts):
        target = out.region(i, box)
        warped = transfer(warped, stats[i, 0], stats[i, 1], colour, offset=error)
        if poisson:
            blended = poisson_blend(np.clip(warped, 0, 255).astype(np.uint8), np.clip(target, 0, 255).astype(np.uint8),
                                    mask).astype(np.float32)
            soft = feather(mask, 0, 1.0)
            out.set(i, box, target + (blended - target) * soft[..., None])
        else:
            soft = feather(mask, 0, blur) * inside
            out.set(i, box, target + (warped - target) * soft[..., None])
    return out


@lru_cache(maxsize=16)
def _template(size: int) -> np.ndarray:
    """Where the 68 landmarks of an average frontal face sit in an aligned ``size`` x ``size`` crop (read only)."""
    lm = F.landmarks(F.Shape(face_ax=0.78, chin_taper=0.15, eye_x=0.33, eye_y=-0.19, eye_w=0.135, eye_h=0.065,
                             brow_y=-0.38, brow_w=0.195, brow_arch=0.04, nose_y=0.24, nose_w=0.12, mouth_y=0.54,
                             mouth_w=0.23, lip_top=0.047, lip_bottom=0.06, depth=1.0))
    lo, hi = lm.min(0), lm.max(0)
    centre, span = (lo + hi) / 2, (hi - lo).max()
    out = (lm - centre) / span * (0.8 * size) + size / 2
    out.flags.writeable = False
    return out


ALIGN = list(range(17, 68))  # brows, nose, eyes, mouth: the alignment DeepFaceLab-style tools use


def deepfakes(T: Video, S: Video, rng: np.random.Generator, strength: float = STRENGTH, recipe: Recipe = V2) -> Edits:
    """T's face re-synthesised as S by a per-pair linear autoencoder at low resolution, frame by frame."""
    k = _strength(rng, strength)
    out = Edits(T.raw.frames)
    n, H, W = out.shape[:3]
    size = int(rng.integers(96, 160))  # the decoder's resolution
    rank = int(rng.integers(3, 9))
    tmpl = _template(size)
    fit = 0.3 + 1.0 * k
    jt, js = _fit_error(rng, n, fit, recipe), _fit_error(rng, n, fit, recipe)

    def aligned(v: Video, jit: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        ms = [similarity(v.raw.landmarks[i][ALIGN] + jit[i][ALIGN], tmpl[ALIGN]) for i in range(n)]
        faces = [cv2.GaussianBlur(cv2.warpAffine(v.raw.frames[i], m, (size, size), flags=cv2.INTER_AREA,
                                                 borderMode=cv2.BORDER_REFLECT), (0, 0), 0.5)
                 for i, m in enumerate(ms)]  # what an autoencoder's loss keeps of a noisy frame
        return np.stack(faces).reshape(n, -1).astype(np.float32), ms

    xt, mt = aligned(T, jt)
    xs, ms = aligned(S, js)
    mu_t, mu_s = xt.mean(0), xs.mean(0)
    # the shared encoder: principal directions of both people's expression and pose changes; the
    # decoder of S: the same directions (tied weights) around S's own mean face
    basis = principal_components(np.concatenate([xt - mu_t, xs - mu_s]), min(rank, max(n // 3, 1)))
    zt, zs = (xt - mu_t) @ basis.T, (xs - mu_s) @ basis.T
    # each frame's code, with its error
    z = zt + _wander(rng, zt.shape, recipe.df_code_corr) * zt.std(0) * (0.1 + 0.3 * k)
    # the decoder's capacity beyond the shared directions: the detail of the S frame nearest in code
    detail = rng.uniform(0.6, 1.0) * (1 - 0.3 * k)
    fakes = mu_s + z @ basis + detail * _nearest_residual(z, zs, xs - mu_s - zs @ basis)
    fakes = fakes.reshape(n, size, size, 3).astype(np.float32)
    # the decoder's mask: where S's face is in its aligned crops
    s_hull = np.mean([polygon_mask((size, size), apply(m, S.raw.landmarks[i][:27])) for i, m in enumerate(ms)], 0)
    s_hull = (s_hull > 0.95).astype(np.float32)  # where every frame had face, not background
    colour = 1.0 - k * rng.uniform(0.2, 0.8)
    error = _colour_error(rng, 2 + 6 * k, 1.5 + 3 * k)
    grain = T.raw.noise * rng.uniform(0.6, 1.1)  # the decoder's output is clean: grain added to match
    steady = rng.uniform(1, 8)
    erode, blur = rng.uniform(2, 8), rng.uniform(2, 6) * (1.2 - 0.6 * k)
    sharpen = rng.uniform(0.3, 1.2) if rng.random() < 0.6 else 0.0
    parts, stats = [], []
    for i in range(n):
        lm = T.raw.landmarks[i]
        box = clip_box(lm, (H, W), margin=6)
        x0, y0, x1, y1 = box
        back = invert(mt[i])
        back[:, 2] -= (x0, y0)
        face = cv2.warpAffine(fakes[i], back, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        if sharpen:
            face = face + sharpen * (face - cv2.GaussianBlur(face, (0, 0), 1.5))
        inside = cv2.warpAffine(s_hull, back, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR) > 0.5
        mask = _face_mask(lm, box, erode, 0.0) * inside
        parts.append((box, face, mask))
        stats.append([lab_stats(face, mask), lab_stats(out.region(i, box), mask)])
    stats = np.array(stats)
    stats[:, 0] = smooth_in_time(stats[:, 0], steady)
    for i, (box, face, mask) in enumerate(parts):
        target = out.region(i, box)
        face = _regrain(rng, transfer(face, stats[i, 0], stats[i, 1], colour, offset=error), grain)
        soft = feather(mask, 0, blur)
        out.set(i, box, target + (face - target) * soft[..., None])
    return out


def _nearest_residual(z: np.ndarray, codes: np.ndarray, residuals: np.ndarray, keep: float = 1.3) -> np.ndarray:
    """For each code in ``z``, the residual of the nearest of ``codes``; the choice is kept while it
    stays within ``keep`` times the best distance, so it does not switch every frame."""
    out = np.empty((len(z), residuals.shape[1]), residuals.dtype)
    j = -1
    for i, zi in enumerate(z):
        d = np.linalg.norm(codes - zi, axis=1)
        best = int(np.argmin(d))
        if j < 0 or d[j] > keep * d[best] + 1e-9:
            j = best
        out[i] = residuals[j]
    return out


def _normalised(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks moved to a common frame by a similarity on the stable points, and that similarity."""
    ref = _template(100)
    m = similarity(lm[F.STABLE], ref[F.STABLE])
    return apply(m, lm), m


DRIVEN = np.r_[4:13, 48:68]  # jaw below the cheeks, and the lips: what a speaking expression moves
DRIVEN_F2F = np.r_[4:13, 17:27, 48:68]


def _reenact(T: Video, S: Video, points: np.ndarray, gain: float, brows: bool) -> np.ndarray:
    """T's landmarks with ``points`` moved to S's expression, as a reenactment's fitted face model does.

    The fitted model is the generator's own: T's face shape and pose with S's mouth, smile (and
    brows, if ``brows``) at that frame, opening scaled by ``gain``; T keeps its eyes and blinks.
    Pose and expression are separate in the model, so S's head movements do not leak into T's face.
    """
    sh = T.person.shape
    out = T.raw.landmarks.copy()
    for i, (pose, et, es) in enumerate(zip(T.motion.poses, T.motion.expressions, S.motion.expressions)):
        ex = F.Expression(mouth=float(np.clip(es.mouth * gain, 0, 1)), eyes=et.eyes, smile=es.smile,
                          brows=es.brows if brows else et.brows, gaze_x=et.gaze_x, gaze_y=et.gaze_y)
        own, driven = F.landmarks(sh, et), F.landmarks(sh, ex)
        moved = F.project(driven, F.depth(sh, driven), pose) - F.project(own, F.depth(sh, own), pose)
        out[i, points] += moved[points]
    return out


def inner_drift(rng: np.random.Generator, n: int, k: float, recipe: Recipe) -> np.ndarray:
    """(n, 51, 2) moves of landmarks 17-67 at strength ``k``: a tracker's fit error, the inner face (brows,
    eyes, nose, mouth) drifting against the outline from frame to frame. Face2Face's re-rendered face has it;
    the refit decoy (``dfbench.synth.decoys``) gives real videos the same, drawn from the same process."""
    jitter = 0.15 + 0.75 * k
    drift = (jitter + recipe.f2f_drift * k) * (0.9 * _wander(rng, (n, 1, 2), recipe.f2f_corr)
                                               + recipe.f2f_white * rng.standard_normal((n, 1, 2)))
    return drift + 0.2 * _fit_error(rng, n, jitter, recipe)[:, 17:68]


def face2face(T: Video, S: Video, rng: np.random.Generator, strength: float = STRENGTH, recipe: Recipe = V2) -> Edits:
    """T re-enacted with S's expression by warping T's own frames; the mouth's inside retrieved from T's frames."""
    k = _strength(rng, strength)
    out = Edits(T.raw.frames)
    n, H, W = out.shape[:3]
    new = _reenact(T, S, DRIVEN_F2F if recipe.f2f_jaw else DRIVEN_F2F[9:], rng.uniform(0.8, 1.2), brows=True)
    new[:, 17:68] += inner_drift(rng, n, k, recipe)
    if recipe.f2f_pops:
        new[:, 17:68] += _pops(rng, n, recipe.f2f_pops, recipe.f2f_pop_px * k)[:, None]
    tris = triangles()
    anchors = T.raw.points[:, 68:]
    openness = np.array([np.ptp(lm[F.INNER_LIPS][:, 1]) for lm in T.raw.landmarks])
    blur = rng.uniform(2, 5)
    tint = (np.float32(rng.normal(0, 0.5 + 2 * k)) + rng.normal(0, 0.5 + k, 3).astype(np.float32)) * np.float32(
        recipe.f2f_tint)
    tol = 0.15 * max(np.ptp(openness), 1e-3)
    j = 0
    for i in range(n):
        src = np.concatenate([T.raw.landmarks[i], anchors[i]])
        dst = np.concatenate([new[i], anchors[i]])
        box = clip_box(new[i], (H, W), margin=10)
        x0, y0, x1, y1 = box
        warped, inside = warp_pwa(T.raw.frames[i], src, dst, tris, box, cv2.INTER_CUBIC)
        # the mouth (lips and inside) from T's frame whose opening fits S's expression best, as
        # Face2Face retrieves it; kept while it still fits, so it changes only now and then
        want = np.ptp(new[i][F.INNER_LIPS][:, 1])
        if abs(openness[j] - want) > tol:
            j = int(np.argmin(np.abs(openness - want)))
        if j != i:
            srcj = np.concatenate([T.raw.landmarks[j], anchors[j]])
            mouth, _ = warp_pwa(T.raw.frames[j], srcj, dst, tris, box, cv2.INTER_CUBIC)
            m = polygon_mask((y1 - y0, x1 - x0), new[i][F.LIPS] - (x0, y0))
            m = feather(cv2.dilate(m, np.ones((5, 5), np.uint8)), 0, 1.5)[..., None]
            warped = warped + (mouth - warped) * m
        target = out.region(i, box)
        soft = _face_mask(new[i], box, 2.0, blur, upto=68) * inside
        warped = warped + tint  # the re-rendered face's colour is a little off
        out.set(i, box, target + (warped - target) * soft[..., None])
    return out


MOUTH_ALIGN = [31, 32, 33, 34, 35, 48, 54]


def neural_textures(T: Video, S: Video, rng: np.random.Generator, strength: float = STRENGTH,
                    recipe: Recipe = V2) -> Edits:
    """T's mouth re-rendered from a low-rank texture of T's own mouth, driven by S's mouth shape."""
    k = _strength(rng, strength)
    out = Edits(T.raw.frames)
    n, H, W = out.shape[:3]
    size = 56
    tmpl = _template(170) - [85 - size / 2, 118 - size / 2]  # the mouth and chin fill the patch
    rank = int(rng.integers(3, 8))
    new = _reenact(T, S, DRIVEN, rng.uniform(0.8, 1.1), brows=False)

    def shape(lm):  # the mouth's shape in the patch's frame: what the texture is conditioned on
        m = similarity(lm[MOUTH_ALIGN], tmpl[MOUTH_ALIGN])
        return apply(m, lm[F.MOUTH]).ravel(), m

    patches, shapes = [], []
    for i in range(n):
        s, m = shape(T.raw.landmarks[i])
        patches.append(cv2.warpAffine(T.raw.frames[i], m, (size, size), flags=cv2.INTER_AREA,
                                      borderMode=cv2.BORDER_REFLECT).ravel())
        shapes.append(s)
    x, g = np.stack(patches).astype(np.float32), np.stack(shapes)
    mu, gm = x.mean(0), g.mean(0)
    basis = principal_components(x - mu, min(rank, n))
    c = (x - mu) @ basis.T
    # the "neural renderer": a ridge regression from mouth shape to texture coefficients, plus part
    # of the detail of T's frame whose mouth shape is nearest (what a learnt texture keeps of it)
    gc = g - gm
    lam = 1e-2 * np.trace(gc.T @ gc) / max(gc.shape[1], 1)
    reg = np.linalg.solve(gc.T @ gc + lam * np.eye(gc.shape[1]), gc.T @ c)
    targets = np.stack([shape(new[i])[0] for i in range(n)])
    detail = rng.uniform(0.5, 1.0) * (1 - 0.4 * k)
    patches = mu + ((targets - gm) @ reg) @ basis + detail * _nearest_residual(targets, g, x - mu - c @ basis)
    shift = (0.3 + (1.2 + recipe.nt_shift) * k) * (0.9 * _wander(rng, (n, 2), recipe.nt_corr)
                                                  + recipe.nt_white * rng.standard_normal((n, 2)))
    if recipe.nt_pops:
        shift = shift + _pops(rng, n, recipe.nt_pops, recipe.nt_pop_px * k)
    blur = rng.uniform(1.5, 4)
    tint = (np.float32(rng.normal(0, 1 + 4 * k)) + rng.normal(0, 1 + 2 * k, 3).astype(np.float32)) * np.float32(
        recipe.nt_tint)
    grain = T.raw.noise * rng.uniform(0.6, 1.1)
    for i in range(n):
        _, m = shape(new[i])
        patch = patches[i].reshape(size, size, 3).astype(np.float32)
        back = invert(m)
        back[:, 2] += shift[i]  # where the render lands wobbles a little
        box = clip_box(new[i][F.MOUTH], (H, W), margin=12)
        x0, y0, x1, y1 = box
        back[:, 2] -= (x0, y0)
        mouth = _regrain(rng, cv2.warpAffine(patch, back, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                             borderMode=cv2.BORDER_REPLICATE) + tint, grain)
        region = polygon_mask((y1 - y0, x1 - x0), new[i][F.LIPS] - (x0, y0))
        region = feather(cv2.dilate(region, np.ones((7, 7), np.uint8)), 0, blur)
        target = out.region(i, box)
        out.set(i, box, target + (mouth - target) * region[..., None])
    return out


Manipulation = Callable[..., Edits]  # (target, source, rng, strength, recipe=V2) -> Edits
MANIPULATIONS: dict[str, Manipulation] = {
    "Deepfakes": deepfakes,
    "Face2Face": face2face,
    "FaceSwap": face_swap,
    "NeuralTextures": neural_textures,
}
