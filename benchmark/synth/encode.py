"""H.264 writing at FF++'s constant quantiser, so compression traces are those of the real set."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np

FPS = 25
# One encoder thread: output bytes then depend on the input alone (and parallelism comes from processes).
X264_OPTIONS = {"threads": "1"}


def write_h264(path: Path, frames: np.ndarray, qp: int, fps: int = FPS) -> None:
    """Write RGB ``frames`` (N, H, W, 3) uint8 to ``path`` as yuv420p H.264 at quantiser ``qp``.

    Written to a temporary name and renamed, so a video at ``path`` is always whole.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")  # not *.mp4: never listed as a video
    n, h, w, _ = frames.shape
    with av.open(str(tmp), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options={"qp": str(qp), **X264_OPTIONS})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))  # flush: x264 holds frames back for lookahead and B-frames
    os.replace(tmp, path)
