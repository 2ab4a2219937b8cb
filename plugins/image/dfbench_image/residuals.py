"""Residual-based local descriptors: high-pass residuals, quantisation and co-occurrence histograms.

The building blocks of Fridrich and Kodovsky's spatial rich model (SRM) and of Cozzolino et al.'s
descriptor, written once in torch: ``steg_svm`` uses them with hard quantisation as fixed
features, ``cozzolino`` with soft quantisation inside a trainable network.

A residual is a linear high-pass filter of the grey image (integer taps with largest coefficient
``c``); it is quantised to ``round(r / (q c))`` and truncated to ``[-T, T]``; a 4th-order
co-occurrence counts how often four neighbouring quantised values (along a row, ``'h'``, or a
column, ``'v'``) take each of the ``(2T + 1)^4`` combinations. Histograms are computed from
one-hot (or soft one-hot) maps as ``sum_p o_a(p) o_b(p+1) o_c(p+2) o_d(p+3)``, two outer products
and one batched matrix product, never materialising the ``(2T+1)^4``-channel map.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, as OpenCV and PIL convert RGB to grey

# SRM residual kernels (Fridrich and Kodovsky 2012, Fig. 2), as integer taps with their scale c.
# A directional kernel is applied as given ("h") and transposed ("v"); a square one once.
KERNELS: dict[str, tuple[list[list[int]], int, bool]] = {
    "1st": ([[-1, 1]], 1, True),
    "2nd": ([[1, -2, 1]], 2, True),
    "3rd": ([[1, -3, 3, -1]], 3, True),
    "edge3x3": ([[-1, 2, -1], [2, -4, 2], [0, 0, 0]], 4, True),
    "square3x3": ([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]], 4, False),
    "square5x5": ([[-1, 2, -2, 2, -1], [2, -6, 8, -6, 2], [-2, 8, -12, 8, -2], [2, -6, 8, -6, 2],
                   [-1, 2, -2, 2, -1]], 12, False),
}


def luma(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB -> (N, 1, H, W) grey, in the input's scale."""
    return LUMA[0] * x[:, 0:1] + LUMA[1] * x[:, 1:2] + LUMA[2] * x[:, 2:3]


def integer_luma(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) uint8-valued RGB -> integer grey ``(299 R + 587 G + 114 B + 500) // 1000``, exact."""
    x = x.to(torch.int64)
    return ((299 * x[:, 0:1] + 587 * x[:, 1:2] + 114 * x[:, 2:3] + 500) // 1000).to(torch.float64)


def kernel(kind: str, transpose: bool = False, dtype=torch.float64) -> torch.Tensor:
    """The (1, 1, kh, kw) convolution weight of a residual kind (cross-correlation, as F.conv2d applies it)."""
    taps = torch.tensor(KERNELS[kind][0], dtype=dtype)
    return (taps.t() if transpose else taps)[None, None].contiguous()


def matlab_round(x: torch.Tensor) -> torch.Tensor:
    """Round half away from zero (MATLAB's ``round``, which the SRM code uses; torch rounds half to even)."""
    return torch.sign(x) * torch.floor(x.abs() + 0.5)


def quantize(residual: torch.Tensor, step: float, T: int) -> torch.Tensor:
    """``round(residual / step)`` truncated to ``[-T, T]``."""
    return matlab_round(residual / step).clamp(-T, T)


def one_hot(q: torch.Tensor, T: int) -> torch.Tensor:
    """(N, 1, H, W) integers in [-T, T] -> (N, 2T+1, H, W) one-hot, float32 (0/1: exact in every sum)."""
    return F.one_hot((q[:, 0] + T).long(), 2 * T + 1).permute(0, 3, 1, 2).float()


def soft_one_hot(r: torch.Tensor, T: int, slope: float) -> torch.Tensor:
    """A differentiable :func:`one_hot` of ``r`` (already divided by the step): level ``k`` is
    ``s(r - (k - T - 1/2)) - s(r - (k - T + 1/2))`` with ``s = sigmoid(slope * .)``, the end
    levels open-ended (truncation). It tends to the hard one-hot of ``round(r)`` as ``slope`` grows."""
    thresholds = torch.arange(-T, T, dtype=r.dtype, device=r.device) + 0.5  # between adjacent levels
    steps = torch.sigmoid(slope * (r - thresholds.view(1, -1, 1, 1)))  # (N, 2T, H, W), decreasing in k
    ones = torch.ones_like(steps[:, :1])
    upper = torch.cat([ones, steps], 1)  # P(level >= k)
    lower = torch.cat([steps, torch.zeros_like(ones)], 1)  # P(level >= k + 1)
    return upper - lower


def cooccurrence(o: torch.Tensor, direction: str, normalize: bool = True) -> torch.Tensor:
    """4th-order co-occurrence of a (soft) one-hot map ``o`` (N, L, H, W) along ``'h'`` or ``'v'``.

    Returns (N, L**4), bin ``((a L + b) L + c) L + d`` for the values a, b, c, d at four
    consecutive positions; divided by the number of positions when ``normalize``.
    """
    if direction == "v":
        o = o.transpose(2, 3)
    n, levels, h, w = o.shape
    if w < 4:
        raise ValueError(f"a 4th-order co-occurrence needs at least 4 columns, got {w}")
    parts = [o[..., i:w - 3 + i].reshape(n, levels, -1) for i in range(4)]
    ab = (parts[0][:, :, None] * parts[1][:, None]).reshape(n, levels * levels, -1)
    cd = (parts[2][:, :, None] * parts[3][:, None]).reshape(n, levels * levels, -1)
    hist = torch.bmm(ab, cd.transpose(1, 2)).reshape(n, -1)
    return hist / ab.shape[-1] if normalize else hist


def cooccurrence_counts(q: torch.Tensor, T: int, direction: str) -> torch.Tensor:
    """Exact integer 4th-order co-occurrence counts of quantised values ``q`` (N, 1, H, W) in [-T, T].

    The same bins as :func:`cooccurrence` of ``one_hot(q)`` (unnormalised), counted directly: each
    position's four values form one base-(2T+1) code, and one ``bincount`` over the batch counts
    them (O(positions) instead of O(levels^4 x positions)). Returns (N, (2T+1)^4) int64.
    """
    if direction == "v":
        q = q.transpose(2, 3)
    n, w, levels = q.shape[0], q.shape[-1], 2 * T + 1
    if w < 4:
        raise ValueError(f"a 4th-order co-occurrence needs at least 4 columns, got {w}")
    v = (q[:, 0] + T).long()
    code = v[..., 0:w - 3]
    for i in range(1, 4):
        code = code * levels + v[..., i:w - 3 + i]
    bins = levels ** 4
    offsets = torch.arange(n, device=q.device).view(n, 1, 1) * bins
    return torch.bincount((code + offsets).reshape(-1), minlength=n * bins).view(n, bins)


def symmetry_classes(T: int) -> torch.Tensor:
    """For each of the ``(2T+1)^4`` bins, its class under sign flip and reversal (SRM's symmetrisation).

    Bins ``(a, b, c, d)``, ``(d, c, b, a)``, ``(-a, -b, -c, -d)`` and ``(-d, -c, -b, -a)`` share a
    class; classes are numbered in order of their first bin. For T = 2: 625 bins, 169 classes.
    """
    levels = range(-T, T + 1)
    index, out = {}, []
    for t in itertools.product(levels, repeat=4):
        orbit = min(t, t[::-1], tuple(-v for v in t), tuple(-v for v in t[::-1]))
        out.append(index.setdefault(orbit, len(index)))
    return torch.tensor(out, dtype=torch.long)
