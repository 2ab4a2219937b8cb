"""Decoding real H.264 (dfbench.crops.VideoSource, decord), and one-line errors for corrupt or missing files."""

import av
import numpy as np
import pytest

from dfbench.crops import VideoSource
from dfbench.errors import BadVideoError


def read_frames(path):
    """Every frame, through the one decoder dfbench uses (the crop cache's ``VideoSource``)."""
    video = VideoSource(path)
    return video.frames(range(video.num_frames))


def write_h264(path, n=10, size=64, qp=40):
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"qp": str(qp)})
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(n):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (size, size, 3), np.uint8), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())


def test_reads_every_frame(tmp_path):
    write_h264(tmp_path / "ok.mp4", n=10)
    frames = read_frames(tmp_path / "ok.mp4")
    assert frames.shape == (10, 64, 64, 3) and frames.dtype == np.uint8


@pytest.mark.parametrize("damage,expected", [
    (lambda b: b[: len(b) // 2], "corrupt or truncated video"),
    (lambda b: b"not a video at all" * 10, "corrupt or truncated video"),
    (lambda b: b"", "empty video file"),
])
def test_damaged_videos_are_one_line_errors(tmp_path, damage, expected):
    write_h264(tmp_path / "ok.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(damage((tmp_path / "ok.mp4").read_bytes()))
    with pytest.raises(BadVideoError) as e:
        read_frames(bad)
    msg = str(e.value)
    assert msg.startswith(f"{bad}: {expected}") and "re-download or re-encode" in msg and "\n" not in msg


def test_missing_video(tmp_path):
    with pytest.raises(BadVideoError, match="video file missing"):
        read_frames(tmp_path / "nope.mp4")
