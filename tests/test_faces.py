"""Face finders: OpenCV's Haar cascade on a real photograph, face-alignment's real loading code offline."""

import pickle

import numpy as np
import pytest

from dfbench.errors import BadVideoError, DfbenchError
from dfbench.faces import FAN_WEIGHTS, FaceAlignmentLandmarks, OpenCVHaar, face_track, hub_checkpoints
from dfbench.tracking import TrackParams, iou_matrix

ASTRONAUT_FACE = (180, 70, 265, 170)  # Eileen Collins' face in skimage.data.astronaut(), brows to chin


@pytest.fixture(scope="module")
def astronaut():
    from skimage.data import astronaut

    return astronaut()  # a real photograph with one face, shipped by scikit-image


def test_opencv_finds_the_astronauts_face(astronaut):
    [box] = OpenCVHaar().detect(astronaut)
    assert iou_matrix(np.array([box]), np.array([ASTRONAUT_FACE]))[0, 0] > 0.6  # her face, not the flag or suit


def test_opencv_follows_a_face_through_a_video_of_the_photograph(astronaut):
    """The photograph panned 3 px a frame: keyframes detected, frames in between interpolated, then smoothed."""
    frames = np.stack([np.roll(astronaut, 3 * i, axis=1) for i in range(21)])
    calls = []
    finder = OpenCVHaar()
    detect = finder.detect
    finder.detect = lambda frame: calls.append(1) or detect(frame)
    track = face_track(finder, len(frames), lambda idx: frames[list(idx)], "pan.mp4", TrackParams(keyframe_every=10))
    assert len(calls) == 3  # frames 0, 10 and 20 only
    centres = (track.boxes[:, 0] + track.boxes[:, 2]) / 2
    assert np.allclose(np.diff(centres), 3, atol=0.5)  # moves with the face, steadily
    assert iou_matrix(track.boxes[:1], np.array([ASTRONAUT_FACE]))[0, 0] > 0.6


def test_opencv_on_a_faceless_video_refuses_it():
    frames = np.full((12, 64, 64, 3), 127, np.uint8)
    with pytest.raises(BadVideoError, match="^grey.mp4: no face found on any of 4 keyframes"):
        face_track(OpenCVHaar(), 12, lambda idx: frames[list(idx)], "grey.mp4", TrackParams(keyframe_every=5))


class FileBoxes:
    """A whole-video finder: its boxes are kept as given, gaps filled from the nearest frame."""

    def find(self, frames, video):
        return [None, (10, 10, 20, 20), None, (30, 30, 40, 40)]


def test_a_whole_video_finder_is_taken_as_given():
    track = face_track(FileBoxes(), 4, lambda idx: np.zeros((len(list(idx)), 8, 8, 3), np.uint8), "v.mp4")
    assert track.boxes.tolist() == [[10, 10, 20, 20]] * 3 + [[30, 30, 40, 40]] and track.seen == 2


# --- face-alignment, offline ------------------------------------------------------------------------

def test_face_alignment_names_missing_weights_and_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(DfbenchError) as e:
        FaceAlignmentLandmarks(device="cpu")
    msg = str(e.value)
    assert "s3fd-619a316812.pth, 2DFAN4-11f355bf06.pth.tar" in msg
    assert str(tmp_path / "torch" / "hub" / "checkpoints") in msg and "--face-finder opencv" in msg


def test_face_alignment_refuses_weights_that_would_run_code(tmp_path, monkeypatch):
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


@pytest.fixture(scope="module")
def random_fan_weights(tmp_path_factory):
    """Randomly initialised S3FD and FAN(4) networks saved where face-alignment's loader looks for its weights."""
    import torch
    from face_alignment.detection.sfd.net_s3fd import s3fd
    from face_alignment.models import FAN

    torch_home = tmp_path_factory.mktemp("torch")
    hub = torch_home / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(s3fd().state_dict(), hub / FAN_WEIGHTS[0])
    torch.save(FAN(4).state_dict(), hub / FAN_WEIGHTS[1])
    return torch_home


@pytest.fixture(scope="module")
def fan(random_fan_weights):
    """face-alignment built by its own loading code from the hub cache (once: it takes seconds)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TORCH_HOME", str(random_fan_weights))
        assert hub_checkpoints() == random_fan_weights / "hub" / "checkpoints"
        return FaceAlignmentLandmarks()


def test_face_alignment_loads_its_networks_from_the_hub_cache_on_the_cpu(fan):
    assert fan.device == "cpu" and fan.compile is False  # no GPU here: compile would cost over a minute
    assert fan.fa.device == "cpu"
    assert type(fan.fa.face_alignment_net).__name__ == "FAN"  # eager, not an OptimizedModule


@pytest.mark.slow  # two passes of the landmark network and numba's first compilation: 20-60 s on 2 CPU cores
def test_face_alignment_landmarks_box_lies_around_the_given_face(fan, astronaut, monkeypatch):
    """With random weights S3FD's boxes are noise, so the face is given; the landmarks stay around it."""
    [box] = fan.landmark_boxes(astronaut, [(*ASTRONAUT_FACE, 0.99)])
    x0, y0, x1, y1 = box
    assert np.isfinite(box).all() and x0 <= x1 and y0 <= y1
    fx0, fy0, fx1, fy1 = ASTRONAUT_FACE
    side = max(fx1 - fx0, fy1 - fy0)  # face-alignment's crop around a face is about 1.5x its box
    assert fx0 - side <= x0 and x1 <= fx1 + side and fy0 - side <= y0 and y1 <= fy1 + side
    assert fan.landmark_boxes(astronaut, []) == []
    # detect() = S3FD's faces -> landmark boxes; a real S3FD would return this face
    monkeypatch.setattr(fan.fa.face_detector, "detect_from_image", lambda image: [np.array([*ASTRONAUT_FACE, 0.99])])
    assert fan.detect(astronaut) == [box]
