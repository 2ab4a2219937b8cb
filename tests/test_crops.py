"""Crop geometry (1.3x square), the crop cache and face finders."""

import json

import numpy as np
import pytest

from dfbench.crops import CropCache, crop_frames, square_box
from dfbench.errors import BadVideoError
from dfbench.faces import DatasetBoxes, OpenCVHaar, fill_gaps


def test_square_box_enlarges_longer_side_by_1_3():
    x, y, side = square_box((100, 50, 200, 250), 1.3)  # 100 wide, 200 tall, centre (150, 150)
    assert side == 260 and (x, y) == (20, 20)


def test_crop_outside_frame_replicates_border():
    frames = np.zeros((2, 40, 40, 3), np.uint8)
    frames[:, :, :20] = 200  # left half bright
    crops = crop_frames(frames, [(0, 0, 20, 20)] * 2, size=16, scale=2.0)  # square reaches beyond the left edge
    assert crops.shape == (2, 16, 16, 3)
    assert crops[0, 8, 0, 0] == 200  # replicated left border, not black


def test_fill_gaps_nearest_and_none():
    boxes = fill_gaps([None, (1, 1, 2, 2), None, None, (5, 5, 6, 6)], "v.mp4")
    assert boxes == [(1, 1, 2, 2), (1, 1, 2, 2), (1, 1, 2, 2), (5, 5, 6, 6), (5, 5, 6, 6)]
    with pytest.raises(BadVideoError, match="v.mp4: no face found in any frame"):
        fill_gaps([None, None], "v.mp4")


def test_opencv_finder_finds_astronauts_face():
    from skimage.data import astronaut

    img = astronaut()  # a real photograph with one face, shipped by scikit-image
    boxes = OpenCVHaar(stride=1).find(img[None], "astronaut")
    x0, y0, x1, y1 = boxes[0]
    assert 150 < (x0 + x1) / 2 < 260 and 50 < (y0 + y1) / 2 < 150  # her face, not the flag or the suit


def test_opencv_finder_reports_faceless_video():
    frames = np.full((3, 64, 64, 3), 127, np.uint8)
    with pytest.raises(BadVideoError, match="no face found"):
        fill_gaps(OpenCVHaar(stride=1).find(frames, "grey.mp4"), "grey.mp4")


def test_cache_builds_once_and_rebuilds_when_video_changes(tiny_synth, tmp_path):
    video = next((tiny_synth / "original_sequences/youtube/c40/videos").glob("*.mp4"))
    cache = CropCache(tmp_path / "cache", tiny_synth, "dataset", DatasetBoxes(), size=32)
    first = cache.get(video)
    crops = np.load(first.path)
    assert crops.shape == (first.num_frames, 32, 32, 3) and crops.dtype == np.uint8 and first.num_frames == 12
    assert crops.std() > 5  # a face, not a flat colour
    mtime = first.path.stat().st_mtime_ns
    assert cache.get(video).path.stat().st_mtime_ns == mtime  # reused
    other = CropCache(tmp_path / "cache", tiny_synth, "dataset", DatasetBoxes(), size=48)
    assert other.get(video).path != first.path  # another geometry never mixes with these crops
    meta = json.loads(first.path.with_suffix(".json").read_text())
    assert meta["finder"] == "dataset" and meta["scale"] == 1.3 and len(meta["boxes"]) == 12
    video.touch()  # a changed source file invalidates its entry
    assert cache.lookup(video) is None


def test_face_alignment_names_missing_weights_and_where(tmp_path, monkeypatch):
    from dfbench.errors import DfbenchError
    from dfbench.faces import FaceAlignmentLandmarks

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(DfbenchError) as e:
        FaceAlignmentLandmarks(device="cpu")
    msg = str(e.value)
    assert "s3fd-619a316812.pth, 2DFAN4-11f355bf06.pth.tar" in msg
    assert str(tmp_path / "torch" / "hub" / "checkpoints") in msg and "--face-finder opencv" in msg


def test_face_alignment_refuses_weights_that_would_run_code(tmp_path, monkeypatch):
    import pickle

    from dfbench.errors import DfbenchError
    from dfbench.faces import FAN_WEIGHTS, FaceAlignmentLandmarks

    class Evil:
        def __reduce__(self):
            return (exec, (f"open({str(tmp_path / 'pwned')!r}, 'w').write('x')",))

    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    for name in FAN_WEIGHTS:
        (hub / name).write_bytes(pickle.dumps({"w": Evil()}))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(DfbenchError, match="not a plain weights file"):
        FaceAlignmentLandmarks(device="cpu")
    assert not (tmp_path / "pwned").exists()
