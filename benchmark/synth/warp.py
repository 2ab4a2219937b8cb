"""Image operations of real face-manipulation pipelines: landmark warps, alignment, colour transfer, blending.

These are the building blocks FaceSwap, DeepFaceLab and Face2Face-style tools use: a piecewise
affine warp over a landmark triangulation, a similarity alignment to a canonical face, Reinhard
colour transfer in Lab, feathered masks and Poisson blending (``cv2.seamlessClone``). The
synthetic set's renderer uses the same warp to pose its faces, so a fake and a real video are
made by the same kind of operation.
"""

from __future__ import annotations

import cv2
import numpy as np


def triangulate(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles (K, 3) of ``points`` (N, 2), as vertex indices."""
    from scipy.spatial import Delaunay

    return Delaunay(np.asarray(points, np.float64)).simplices.astype(np.int32)


def pwa_maps(src_pts: np.ndarray, dst_pts: np.ndarray, tris: np.ndarray, box: tuple[int, int, int, int],
             step: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse maps of the piecewise affine warp taking ``src_pts`` to ``dst_pts``, over ``box``.

    ``box`` = (x0, y0, x1, y1) in the destination image. Returns ``map_x``, ``map_y`` (float32,
    for ``cv2.remap``: where each destination pixel reads the source) and ``inside`` (bool, the
    destination pixels covered by a triangle). Each triangle is rasterised once with its index
    and every pixel reads through its own triangle's affine map. With ``step`` > 1 the maps are
    computed every ``step`` pixels and interpolated (the warp is continuous, so the error is
    small), and pixels outside the triangles read through the least-squares affine of all points
    instead of nowhere: for a renderer whose texture is transparent there.
    """
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    gw, gh = (w + step - 1) // step + 1, (h + step - 1) // step + 1
    d = (dst_pts[tris] - np.array([x0, y0], np.float64)) / step  # (K, 3, 2) in grid pixels
    s = src_pts[tris].astype(np.float64)
    # affine A_k with A_k @ [x, y, 1] = source point, solved per triangle
    dh = np.concatenate([d, np.ones((len(tris), 3, 1))], 2)  # (K, 3, 3)
    det = np.linalg.det(dh)
    ok = np.abs(det) > 1e-9
    aff = np.zeros((len(tris) + 1, 2, 3))
    aff[:-1][ok] = np.transpose(np.linalg.solve(dh[ok], s[ok]), (0, 2, 1))
    if step > 1:  # the last entry: every point's least-squares affine, for the outside
        dp = np.c_[(dst_pts - [x0, y0]) / step, np.ones(len(dst_pts))]
        aff[-1] = np.linalg.lstsq(dp, src_pts, rcond=None)[0].T
    index = np.full((gh, gw), -1, np.int32)
    order = np.argsort(np.abs(det))  # large triangles last: where folded triangles overlap, they win
    for k in order:
        if ok[k]:
            cv2.fillConvexPoly(index, np.round(d[k] * 16).astype(np.int32), int(k), lineType=cv2.LINE_8, shift=4)
    inside = index >= 0
    k = np.where(inside, index, len(tris))
    c = aff.astype(np.float32).reshape(len(tris) + 1, 6)[k]  # (h, w, 6): each pixel's triangle's map
    xx = np.arange(gw, dtype=np.float32)[None, :]
    yy = np.arange(gh, dtype=np.float32)[:, None]
    mx = c[..., 0] * xx + c[..., 1] * yy + c[..., 2]
    my = c[..., 3] * xx + c[..., 4] * yy + c[..., 5]
    if step == 1:
        mx[~inside], my[~inside] = -1e4, -1e4
        return mx[:h, :w], my[:h, :w], inside[:h, :w]
    # grid point j sits at pixel j * step: resize so that pixel (x, y) reads grid (x / step, y / step)
    m = np.float32([[1 / step, 0, 0], [0, 1 / step, 0]])
    mx = cv2.warpAffine(mx, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    my = cv2.warpAffine(my, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpAffine(inside.astype(np.uint8), m, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP) > 0
    return mx, my, inside


def warp_pwa(img: np.ndarray, src_pts: np.ndarray, dst_pts: np.ndarray, tris: np.ndarray,
             box: tuple[int, int, int, int], interpolation: int = cv2.INTER_LINEAR) -> tuple[np.ndarray, np.ndarray]:
    """``img`` warped so that its ``src_pts`` land on ``dst_pts``: the destination ``box`` and its coverage."""
    mx, my, inside = pwa_maps(src_pts, dst_pts, tris, box)
    out = cv2.remap(img, mx, my, interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out, inside


def clip_box(points: np.ndarray, shape: tuple[int, int], margin: int = 2) -> tuple[int, int, int, int]:
    """The integer bounding box of ``points`` grown by ``margin``, inside an image of ``shape`` (H, W)."""
    h, w = shape[:2]
    x0, y0 = np.floor(points.min(0)).astype(int) - margin
    x1, y1 = np.ceil(points.max(0)).astype(int) + margin + 1
    return max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity (rotation, uniform scale, shift) taking ``src`` closest to ``dst`` (Umeyama)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    cov = b.T @ a / len(src)
    u, sv, vt = np.linalg.svd(cov)
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    r = u @ d @ vt
    scale = np.trace(np.diag(sv) @ d) / max((a**2).sum() / len(src), 1e-12)
    m = np.zeros((2, 3))
    m[:, :2] = scale * r
    m[:, 2] = md - m[:, :2] @ ms
    return m


def apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """2x3 affine ``m`` applied to points (N, 2)."""
    return pts @ m[:, :2].T + m[:, 2]


def invert(m: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(np.asarray(m, np.float64))


def polygon_mask(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    """Coverage (float32 0/1) of a convex hull of ``polygon`` points, in an image of ``shape``."""
    mask = np.zeros(shape[:2], np.float32)
    hull = cv2.convexHull(np.round(polygon * 16).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1.0, lineType=cv2.LINE_AA, shift=4)
    return mask


def feather(mask: np.ndarray, erode: float, blur: float) -> np.ndarray:
    """A soft blending mask: ``mask`` shrunk by ``erode`` pixels, then its edge blurred over ``blur`` pixels."""
    m = mask
    if erode > 0.5:
        k = int(round(erode)) * 2 + 1
        m = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    if blur > 0.3:
        m = cv2.GaussianBlur(m, (0, 0), blur)
    return np.clip(m, 0.0, 1.0).astype(np.float32)


def lab_stats(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean and standard deviation (2, 3) of ``img`` (float32 RGB) in Lab under ``mask``; NaN if too few pixels."""
    sel = (mask > 0.5).astype(np.uint8)
    if int(sel.sum()) < 16:
        return np.full((2, 3), np.nan)
    lab = cv2.cvtColor(np.clip(img * (1 / 255.0), 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab)
    mean, std = cv2.meanStdDev(lab, mask=sel)
    return np.stack([mean.ravel(), std.ravel()])


def transfer(src: np.ndarray, src_stats: np.ndarray, ref_stats: np.ndarray, amount: float = 1.0,
             match_std: bool = True, offset: np.ndarray | None = None) -> np.ndarray:
    """Reinhard et al.'s colour transfer in Lab: ``src`` (float32 RGB) moved from ``src_stats`` to ``ref_stats``.

    ``amount`` in [0, 1] blends between no correction and full; the stats come from ``lab_stats``;
    ``offset`` (L, a, b) is what the correction gets wrong, added to the matched mean.
    """
    if not (np.isfinite(src_stats).all() and np.isfinite(ref_stats).all()):
        return src.astype(np.float32)
    (ma, sa), (mb, sb) = src_stats, ref_stats
    gain = (sb + 1e-3) / (sa + 1e-3) if match_std else np.ones(3)
    gain = 1.0 + (np.clip(gain, 0.5, 2.0) - 1.0) * amount
    shift = ma + (mb - ma) * amount + (0.0 if offset is None else np.asarray(offset))
    lab = cv2.cvtColor(np.clip(src * (1 / 255.0), 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab)
    out = (lab - ma.astype(np.float32)) * gain.astype(np.float32) + shift.astype(np.float32)
    return cv2.cvtColor(out, cv2.COLOR_Lab2RGB) * np.float32(255.0)


def colour_transfer(src: np.ndarray, ref: np.ndarray, mask: np.ndarray, amount: float = 1.0,
                    match_std: bool = True) -> np.ndarray:
    """``transfer`` with both images' statistics taken under ``mask`` (one frame on its own)."""
    return transfer(src, lab_stats(src, mask), lab_stats(ref, mask), amount, match_std)


def smooth_in_time(x: np.ndarray, frames: float) -> np.ndarray:
    """Per-frame values (n, ...) averaged over about ``frames`` frames (Gaussian, NaNs ignored)."""
    n = len(x)
    w = np.exp(-0.5 * ((np.arange(n)[:, None] - np.arange(n)[None]) / max(frames, 1e-3)) ** 2)
    flat = x.reshape(n, -1)
    ok = np.isfinite(flat)
    num = w @ np.where(ok, flat, 0.0)
    den = w @ ok.astype(float)
    return (num / np.maximum(den, 1e-9)).reshape(x.shape)


def poisson_blend(src: np.ndarray, dst: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``src`` cloned into ``dst`` under ``mask`` by Poisson blending (``cv2.seamlessClone``, normal clone).

    Works on uint8 images of the same shape; the mask is kept off the border, as OpenCV needs.
    """
    h, w = mask.shape
    m = (mask > 0.5).astype(np.uint8) * 255
    m[:2], m[-2:], m[:, :2], m[:, -2:] = 0, 0, 0, 0
    ys, xs = np.nonzero(m)
    if len(xs) < 16:
        return dst.copy()
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    centre = (int((x0 + x1 + 1) // 2), int((y0 + y1 + 1) // 2))
    return cv2.seamlessClone(src, dst, m, centre, cv2.NORMAL_CLONE)
