"""Crop geometry (1.3x square) and the crop cache: tracks once per video, crops per size from them."""

import json
import shutil

import numpy as np
import pytest

from dfbench import crops as C
from dfbench.crops import CropCache, VideoSource, crop_frames, fill, square_box
from dfbench.errors import BadVideoError
from dfbench.faces import DatasetBoxes, fill_gaps
from dfbench.tracking import TrackParams


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


class Counting:
    """Wraps a face finder and counts the frames it is asked to look at."""

    def __init__(self, inner):
        self.inner, self.frames = inner, 0

    def find(self, frames, video):
        self.frames += len(frames)
        return self.inner.find(frames, video)


def first_real(root):
    return sorted((root / "original_sequences/youtube/c40/videos").glob("*.mp4"))[0]


def test_cache_builds_once_and_rebuilds_when_video_changes(tiny_synth, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_synth, data)
    video = first_real(data)
    cache = CropCache(tmp_path / "cache", data, "dataset", DatasetBoxes(), size=32)
    first = cache.get(video)
    crops = np.load(first.path)
    assert crops.shape == (first.num_frames, 32, 32, 3) and crops.dtype == np.uint8 and first.num_frames == 12
    assert crops.std() > 5  # a face, not a flat colour
    mtime = first.path.stat().st_mtime_ns
    assert cache.get(video).path.stat().st_mtime_ns == mtime  # reused
    meta = json.loads(first.path.with_suffix(".json").read_text())
    track = json.loads(cache.track_path(video).read_text())
    assert meta["finder"] == "dataset" and meta["scale"] == 1.3 and meta["track_digest"] == track["digest"]
    assert len(track["boxes"]) == 12 and track["frame_size"] == [192, 144] and track["finder"] == "dataset"
    # the dataset's boxes are annotations: taken as given, not smoothed
    given = json.loads((data / "original_sequences/youtube/c40/boxes" / f"{video.stem}.json").read_text())["boxes"]
    assert np.allclose(track["boxes"], given, atol=0.01)
    video.touch()  # a changed source file invalidates its entries
    assert cache.lookup(video) is None and cache.load_track(video) is None


def test_a_new_size_is_a_view_of_the_same_track(tiny_synth, tmp_path):
    video = first_real(tiny_synth)
    finder = Counting(DatasetBoxes())
    small = CropCache(tmp_path, tiny_synth, "dataset", finder, size=32)
    small.get(video)
    assert finder.frames == 12
    track_mtime = small.track_path(video).stat().st_mtime_ns
    large = CropCache(tmp_path, tiny_synth, "dataset", finder, size=48)
    assert large.track_dir == small.track_dir and large.dir != small.dir  # one track, crops per size
    got = large.get(video)
    assert finder.frames == 12  # no face finding for the new size: decode and crop only
    assert small.track_path(video).stat().st_mtime_ns == track_mtime
    assert np.load(got.path).shape == (12, 48, 48, 3)


def test_the_key_separates_finders_scales_params_and_compressions(tiny_synth, tmp_path):
    base = CropCache(tmp_path, tiny_synth, "dataset", size=112)
    others = [CropCache(tmp_path, tiny_synth, "opencv", size=112),
              CropCache(tmp_path, tiny_synth, "dataset", size=112, scale=1.5),
              CropCache(tmp_path, tiny_synth, "dataset", size=112, params=TrackParams(keyframe_every=5))]
    assert len({base.dir, *(o.dir for o in others)}) == 4
    assert others[0].track_dir != base.track_dir and others[2].track_dir != base.track_dir
    assert others[1].track_dir == base.track_dir  # the scale changes crops, not where the face is
    c23 = tiny_synth / "original_sequences/youtube/c23/videos/000.mp4"  # the compression is in the path
    assert "c23" in str(base.track_path(c23)) and base.track_path(c23) != base.track_path(first_real(tiny_synth))


def test_crops_follow_a_changed_track(tiny_synth, tmp_path):
    video = first_real(tiny_synth)
    cache = CropCache(tmp_path, tiny_synth, "dataset", DatasetBoxes(), size=32)
    cache.get(video)
    path = cache.track_path(video)
    track = json.loads(path.read_text())
    track["digest"] = "0" * 16  # as if the face had been tracked again, differently
    path.write_text(json.dumps(track))
    assert cache.lookup(video) is None


def test_decoding_in_chunks_gives_the_same_crops(tiny_synth, tmp_path, monkeypatch):
    video = first_real(tiny_synth)
    in_memory = np.load(CropCache(tmp_path / "a", tiny_synth, "dataset", DatasetBoxes(), size=32).get(video).path)
    monkeypatch.setattr(C, "DECODE_BUDGET", 0)  # too large for memory: decoded on demand, chunk by chunk
    source = VideoSource(video)
    assert source._all is None and source.num_frames == 12
    assert np.array_equal(source.frames([3, 7]), VideoSource(video, budget=1 << 30).frames([3, 7]))
    chunked = np.load(CropCache(tmp_path / "b", tiny_synth, "dataset", DatasetBoxes(), size=32).get(video).path)
    assert np.array_equal(in_memory, chunked)


def test_a_corrupt_video_is_refused_in_one_line_and_remembered(tiny_synth, tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(tiny_synth, data)
    bad = first_real(data)
    bad.write_bytes(bad.read_bytes()[:300])  # truncated
    cache = CropCache(tmp_path / "cache", data, "dataset", DatasetBoxes(), size=32)
    with pytest.raises(BadVideoError) as e:
        cache.get(bad)
    msg = str(e.value)
    assert msg.startswith(f"{bad}: corrupt or truncated video") and "\n" not in msg
    assert msg.endswith("re-download or re-encode this file (or delete it to skip it)")

    def no_decoding(*a, **k):
        raise AssertionError("a known-bad video was decoded again")

    monkeypatch.setattr(C, "VideoSource", no_decoding)
    with pytest.raises(BadVideoError) as again:
        cache.get(bad)
    assert str(again.value) == msg  # reported again from the cache, without decoding
    monkeypatch.undo()
    bad.write_bytes(first_real(tiny_synth).read_bytes())  # re-downloaded: a new file, tried again
    assert cache.get(bad).num_frames == 12


def test_fill_makes_every_size_in_one_pass_and_leaves_no_temporary_files(tiny_synth, tmp_path, monkeypatch):
    video = first_real(tiny_synth)
    opened = []
    real = C.VideoSource
    monkeypatch.setattr(C, "VideoSource", lambda path: opened.append(path) or real(path))
    caches = [CropCache(tmp_path, tiny_synth, "dataset", DatasetBoxes(), size=s) for s in (32, 64)]
    made = fill(video, caches)
    assert [np.load(m.path).shape[1] for m in made] == [32, 64] and len(opened) == 1
    assert fill(video, caches) == made and len(opened) == 1  # all cached: not even opened
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    with pytest.raises(ValueError):
        fill(video, [caches[0], CropCache(tmp_path, tiny_synth, "opencv", size=32)])


def test_the_face_finder_is_built_only_when_a_track_is_missing(tiny_synth, tmp_path, monkeypatch):
    from dfbench import plugins

    built = []
    monkeypatch.setattr(plugins, "get_face_finder", lambda name: lambda: built.append(name) or DatasetBoxes())
    video = first_real(tiny_synth)
    CropCache(tmp_path, tiny_synth, "dataset", size=32).get(video)
    assert built == ["dataset"]
    CropCache(tmp_path, tiny_synth, "dataset", size=40).get(video)  # the track is cached: no finder needed
    assert built == ["dataset"]
