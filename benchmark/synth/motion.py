"""Per-video motion signals: head pose, speech, blinks, gaze and light, deterministic from (seed, id).

Signals are smooth sums of slow sinusoids, so consecutive frames differ the way a filmed talking
head does; manipulations borrow some of another id's signals (Face2Face, NeuralTextures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dfbench.synth.identity import rng_for

MOTION_STREAM = 2
BLINK = np.array([0.55, 0.15, 0.0, 0.1, 0.45, 0.8])  # eye openness through one blink, frame by frame


@dataclass(frozen=True, eq=False)
class Motion:
    """One value per frame: pose offsets (pixels, relative scale, radians), openness 0-1, light gain."""

    dx: np.ndarray
    dy: np.ndarray
    dscale: np.ndarray
    roll: np.ndarray
    mouth: np.ndarray  # 0 closed .. 1 fully open
    eyes: np.ndarray  # 1 open .. 0 shut
    gaze: np.ndarray  # -1 .. 1, iris shift left/right
    gain: np.ndarray  # (frames, 3) colour gain of the light


def _smooth(r: np.random.Generator, t: np.ndarray, fmin: float = 0.008, fmax: float = 0.05) -> np.ndarray:
    """A smooth random signal in about [-1, 1]: three sinusoids of random frequency (cycles/frame)."""
    w = r.dirichlet(np.ones(3))
    f = r.uniform(fmin, fmax, 3)
    ph = r.uniform(0, 2 * np.pi, 3)
    return (w[:, None] * np.sin(2 * np.pi * f[:, None] * t[None] + ph[:, None])).sum(0)


def make_motion(seed: int, vid: str, num_frames: int, frame_size: tuple[int, int]) -> Motion:
    """The motion of id ``vid``'s video under ``seed``."""
    W, H = frame_size
    r = rng_for(seed, MOTION_STREAM, int(vid))
    t = np.arange(num_frames, dtype=np.float64)
    # speech: syllables at 2-5 Hz under a slowly varying loudness, with pauses
    syll = 0.5 + 0.5 * np.sin(2 * np.pi * r.uniform(0.08, 0.2) * t + r.uniform(0, 2 * np.pi)
                              + 0.8 * np.sin(2 * np.pi * r.uniform(0.03, 0.07) * t))
    loud = np.clip(0.55 + 0.6 * _smooth(r, t, 0.01, 0.04), 0, 1)
    mouth = np.clip(syll * loud + r.normal(0, 0.04, num_frames), 0, 1)
    eyes = np.ones(num_frames)
    start = r.integers(0, 18)
    while start < num_frames:
        seg = BLINK[: num_frames - start]
        eyes[start:start + len(seg)] = seg
        start += int(r.integers(16, 44))
    tint = r.normal(0, 0.012, 3)
    light = _smooth(r, t, 0.005, 0.03)
    return Motion(
        dx=0.06 * W * _smooth(r, t), dy=0.04 * H * _smooth(r, t), dscale=0.05 * _smooth(r, t),
        roll=0.07 * _smooth(r, t), mouth=mouth, eyes=eyes, gaze=0.8 * _smooth(r, t, 0.01, 0.06),
        gain=1.0 + light[:, None] * (0.04 + tint[None]),
    )
