"""Following a face between keyframes: IoU tracks, the kept face, gaps and smoothing, on synthetic box sequences."""

import numpy as np
import pytest

from dfbench.errors import BadVideoError
from dfbench.tracking import Track, TrackParams, choose, follow, iou_matrix, keyframes, link, smooth


def box_at(cx, cy, side):
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def moving_face(n=300):
    """A face drifting on a smooth path and slowly changing size: the truth the detector sees noisily."""
    t = np.arange(n)
    cx, cy, side = 200 + 60 * np.sin(t / 40), 150 + 20 * np.cos(t / 55), 100 + 10 * np.sin(t / 70)
    return np.stack([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], axis=1)


def jitter(boxes):
    """RMS frame-to-frame acceleration of the box centre (px/frame²): what makes a crop shake."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    return float(np.sqrt((np.diff(centre, 2, axis=0) ** 2).sum(axis=1).mean()))


def rms_error(boxes, truth):
    return float(np.sqrt(((boxes - truth) ** 2).sum(axis=1).mean()))


def test_keyframes_are_every_kth_and_the_last():
    assert keyframes(32, 10) == [0, 10, 20, 30, 31]
    assert keyframes(31, 10) == [0, 10, 20, 30]
    assert keyframes(5, 1) == [0, 1, 2, 3, 4]
    assert keyframes(1, 10) == [0]


def test_iou_matrix():
    a = [(0, 0, 10, 10), (100, 100, 110, 110)]
    b = [(5, 0, 15, 10), (0, 0, 10, 10)]
    m = iou_matrix(np.array(a), np.array(b))
    assert m.shape == (2, 2)
    assert m[0, 0] == pytest.approx(50 / 150) and m[0, 1] == 1.0 and m[1, 0] == 0.0 and m[1, 1] == 0.0


@pytest.mark.parametrize("k", [1, 10])
def test_jitter_is_reduced_by_a_measured_factor(k):
    truth = moving_face()
    noisy = truth + np.random.default_rng(0).normal(0, 3.0, truth.shape)  # a detector's 3 px noise
    params = TrackParams(keyframe_every=k)
    track = follow([(i, [tuple(noisy[i])]) for i in keyframes(len(truth), k)], len(truth), "v.mp4", params)
    raw_jitter, tracked_jitter = jitter(noisy), jitter(track.boxes)
    factor = raw_jitter / tracked_jitter
    # measured: 12x with a detection on every frame, 100x with one every 10th frame
    assert factor > (8 if k == 1 else 50), factor
    assert rms_error(track.boxes, truth) < 0.75 * rms_error(noisy, truth)  # closer to the truth, not only calmer
    assert track.keyframes == len(keyframes(len(truth), k)) and track.seen == track.keyframes and track.tracks == 1


def test_smoothing_leaves_linear_motion_untouched():
    t = np.arange(40, dtype=float)[:, None]
    boxes = np.hstack([t * 3, t * 2, t * 3 + 50, t * 2 + 50])
    assert np.allclose(smooth(boxes, 11), boxes)  # centred and symmetric at the ends: no lag


def crossing(n=101, k=5, occlude=True):
    """Face A (90 px) walks right and face B (80 px) walks left; they cross between keyframes 50 and 55, A in front.

    On keyframe 55 each face is where the other was on keyframe 50: overlap with the last box alone would swap them.
    """
    dets = []
    for f in keyframes(n, k):
        a = box_at(40 + 4 * f, 200, 90)
        b = box_at(460 - 4 * f, 200, 80)
        hidden = occlude and abs((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) < 30
        dets.append((f, [b, a] if not hidden else [a]))
    return dets


def test_identity_is_kept_across_a_crossing_of_two_faces():
    dets = crossing()
    tracks = link(dets, TrackParams(keyframe_every=5))
    assert len(tracks) == 2
    for t in tracks:  # each track holds one face: its size never changes, its motion never reverses
        widths = {round(b[2] - b[0]) for b in t.boxes}
        assert len(widths) == 1
        xs = np.diff([b[0] for b in t.boxes])
        assert (xs > 0).all() or (xs < 0).all()
    kept = follow(dets, 101, "v.mp4", TrackParams(keyframe_every=5))
    assert np.allclose(kept.boxes[:, 2] - kept.boxes[:, 0], 90)  # A (the larger) from the first frame to the last
    assert kept.boxes[0, 0] == pytest.approx(-5) and kept.boxes[-1, 0] == pytest.approx(395)


def test_without_prediction_the_crossing_would_swap_faces(monkeypatch):
    """The same scene linked by overlap with each track's last box (no motion model) mixes the two faces up."""
    monkeypatch.setattr(Track, "predict", lambda self, frame: np.asarray(self.boxes[-1]))
    tracks = link(crossing(occlude=False), TrackParams(keyframe_every=5))
    assert any(len({round(b[2] - b[0]) for b in t.boxes}) == 2 for t in tracks)


def test_the_largest_track_by_summed_area_is_kept():
    n = 100
    dets = []
    for f in keyframes(n, 10):
        faces = [box_at(200, 150, 80)]  # the subject, all along
        faces.append(box_at(50, 40, 20))  # a small face in the background, all along
        if f in (40, 50):
            faces.append(box_at(400, 150, 150))  # a big face passing the camera, on two keyframes
        dets.append((f, faces))
    tracks = link(dets)
    assert len(tracks) == 3
    kept = choose(tracks)
    assert kept.boxes[0] == box_at(200, 150, 80)
    assert kept.area == pytest.approx(11 * 80 * 80)  # 11 keyframes (0, 10, ..., 90, 99)


def test_gaps_are_filled_from_the_tracked_box():
    n = 60
    dets = [(f, []) for f in keyframes(n, 10)]
    dets[2] = (20, [box_at(100, 100, 50)])
    dets[4] = (40, [box_at(120, 100, 50)])  # the face is missed on keyframe 30 in between
    track = follow(dets, n, "v.mp4", TrackParams(keyframe_every=10, smooth=1))
    b = track.boxes
    assert (b[:20] == box_at(100, 100, 50)).all()  # before the first detection: the nearest box
    assert (b[40:] == box_at(120, 100, 50)).all()  # after the last one: the nearest box
    assert tuple(b[30]) == box_at(110, 100, 50)  # a missed keyframe between two detections: interpolated
    assert track.seen == 2 and track.keyframes == 7


def test_a_face_seen_again_at_the_same_place_is_one_track():
    dets = [(f, [box_at(100, 100, 60)] if not 30 <= f <= 80 else []) for f in keyframes(150, 10)]
    tracks = link(dets, TrackParams(max_missed=2))  # absent on 6 keyframes, more than it may miss
    assert len(tracks) == 1 and tracks[0].frames == [0, 10, 20, 90, 100, 110, 120, 130, 140, 149]


def test_a_faceless_video_is_refused_naming_it():
    with pytest.raises(BadVideoError, match=r"^clip\.mp4: no face found on any of 4 keyframes; .*--face-finder"):
        follow([(f, []) for f in keyframes(31, 10)], 31, "clip.mp4")


def test_track_params_key_names_every_parameter():
    assert TrackParams().key == "k10-w11-iou0.3-miss2"
    assert TrackParams(keyframe_every=5).key != TrackParams().key
    with pytest.raises(ValueError):
        TrackParams(smooth=4)
