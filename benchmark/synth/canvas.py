"""The head canvas: a small image in face units where every face is drawn before it is posed.

One unit is the face's half-height; drawing in these units lets identities, manipulations and
masks share coordinates, and one affine warp per frame puts the head into the video.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

X_RANGE = (-1.35, 1.35)  # left/right of the face centre, room for hair
Y_RANGE = (-1.55, 1.8)  # hair above, neck below (down to the torso)


@dataclass(frozen=True, eq=False)
class Canvas:
    """Pixel grid of the head canvas: ``res`` pixels per unit, ``X``/``Y`` the unit coordinates."""

    res: float
    X: np.ndarray
    Y: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.X.shape

    def window(self, x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[slice, slice], Canvas]:
        """The part of the canvas over the unit rectangle [x0, x1] x [y0, y1]: its slices and grid.

        Features drawn on a window cost a fraction of the whole canvas; it is where the time goes.
        """
        h, w = self.shape
        c0 = max(int((x0 - X_RANGE[0]) * self.res), 0)
        c1 = min(int(np.ceil((x1 - X_RANGE[0]) * self.res)) + 1, w)
        r0 = max(int((y0 - Y_RANGE[0]) * self.res), 0)
        r1 = min(int(np.ceil((y1 - Y_RANGE[0]) * self.res)) + 1, h)
        sl = (slice(r0, r1), slice(c0, c1))
        return sl, Canvas(self.res, self.X[sl], self.Y[sl])

    def to_units(self) -> np.ndarray:
        """2x3 affine from canvas pixels to face units."""
        return np.array([[1 / self.res, 0, X_RANGE[0]], [0, 1 / self.res, Y_RANGE[0]]], np.float64)


@lru_cache(maxsize=8)
def canvas_for(frame_height: int) -> Canvas:
    """The canvas whose pixels match the frame's at nominal head size (face half-height = H/4)."""
    res = frame_height / 4
    w = int(np.ceil((X_RANGE[1] - X_RANGE[0]) * res))
    h = int(np.ceil((Y_RANGE[1] - Y_RANGE[0]) * res))
    x = (X_RANGE[0] + np.arange(w) / res).astype(np.float32)
    y = (Y_RANGE[0] + np.arange(h) / res).astype(np.float32)
    X, Y = np.meshgrid(x, y)
    X.flags.writeable = Y.flags.writeable = False
    return Canvas(res, X, Y)


def ellipse(cv: Canvas, cx: float, cy: float, ax: float, ay: float, edge: float = 1.0,
            angle: float = 0.0) -> np.ndarray:
    """Coverage in [0, 1] of an ellipse, anti-aliased over ``edge`` canvas pixels."""
    dx, dy = cv.X - cx, cv.Y - cy
    if angle:
        c, s = np.cos(angle), np.sin(angle)
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    qx, qy = dx / ax, dy / ay
    rho = np.sqrt(qx * qx + qy * qy)
    # first-order distance to the outline, so the edge width is in pixels whatever the axes
    grad = np.sqrt((qx / ax) ** 2 + (qy / ay) ** 2) / np.maximum(rho, 1e-6)
    dist = (rho - 1.0) / np.maximum(grad, 1e-6)
    return np.clip(0.5 - dist * (cv.res / edge), 0.0, 1.0).astype(np.float32)


def over(dst_rgb: np.ndarray, dst_a: np.ndarray, src_rgb, src_a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Porter-Duff "over" on straight (non-premultiplied) colour: ``src`` drawn on ``dst``."""
    out_a = src_a + dst_a * (1.0 - src_a)
    w = np.divide(src_a, out_a, out=np.zeros_like(out_a), where=out_a > 1e-6)[..., None]
    return dst_rgb + (np.asarray(src_rgb, np.float32) - dst_rgb) * w, out_a


def paint(rgb: np.ndarray, colour, a: np.ndarray) -> np.ndarray:
    """``colour`` painted with coverage ``a`` onto an opaque layer."""
    return rgb + (np.asarray(colour, np.float32) - rgb) * a[..., None]
