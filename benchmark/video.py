"""Decoding videos with decord, turning every failure into a one-line error naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dfbench.errors import BadVideoError

_REDOWNLOAD = "re-download or re-encode this file (or delete it to skip it)"


def read_frames(path: Path) -> np.ndarray:
    """All frames of a video as (frames, height, width, 3) uint8 RGB."""
    import decord  # lazily: listing detectors or rendering a leaderboard needs no decoder

    path = Path(path)
    if not path.is_file():
        raise BadVideoError(path, "video file missing", "download it, or check --data and --compression")
    if path.stat().st_size == 0:
        raise BadVideoError(path, "empty video file", _REDOWNLOAD)
    try:
        reader = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)
        n = len(reader)
        if n == 0:
            raise BadVideoError(path, "video has no frames", _REDOWNLOAD)
        frames = reader.get_batch(list(range(n))).asnumpy()
    except BadVideoError:
        raise
    except Exception as e:  # decord raises DECORDError and RuntimeError for corrupt/truncated input
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise BadVideoError(path, f"corrupt or truncated video ({first})", _REDOWNLOAD) from None
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise BadVideoError(path, f"unexpected frame shape {frames.shape}", _REDOWNLOAD)
    return frames
