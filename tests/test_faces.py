"""Face finders: OpenCV's Haar cascade and dlib's landmarks on real photographs, face-alignment's loading offline."""

import pickle

import numpy as np
import pytest

from dfbench.errors import BadVideoError, DfbenchError
from dfbench.faces import FAN_WEIGHTS, FaceAlignmentLandmarks, OpenCVHaar, face_track, hub_checkpoints, largest
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


# --- dlib: HOG + 68 landmarks, offline -------------------------------------------------------------
# Hand-marked on the photographs (viewed enlarged on a 5-px grid): pupils, nose tip, the centre of
# the mouth, the bottom of the chin, and the whole face (hairline or hat brim to chin, cheek to
# cheek, ears left out). Image coordinates (x, y) in pixels.
FACES = {
    "astronaut": {  # skimage.data.astronaut(), 512x512: Eileen Collins
        "eyes": [(204, 101), (246, 103)], "nose": (222, 127), "mouth": (224, 145), "chin": (226, 178),
        "face": (183, 78, 267, 178),
    },
    "grace_hopper": {  # matplotlib's sample data grace_hopper.jpg, 512 wide, 600 high
        "eyes": [(222, 190), (303, 187)], "nose": (266, 240), "mouth": (266, 278), "chin": (266, 330),
        "face": (172, 140, 352, 332),
    },
}
SUIT = (126, 335, 215, 425)  # where HOG, on astronaut()'s colours at 2x, also "finds" a face: her suit's patch


def photo(name: str) -> np.ndarray:
    if name == "astronaut":
        from skimage.data import astronaut

        return astronaut()
    import matplotlib.cbook
    import matplotlib.image

    return np.asarray(matplotlib.image.imread(matplotlib.cbook.get_sample_data("grace_hopper.jpg")))


@pytest.fixture(scope="module")
def dlib_finder():
    from dfbench.faces import DlibLandmarks

    return DlibLandmarks()  # loads the 100 MB landmark model once (about a second)


@pytest.mark.parametrize("name", sorted(FACES))
def test_dlib_landmarks_land_on_the_eyes_nose_mouth_and_chin(dlib_finder, name):
    image, marked = photo(name), FACES[name]
    [face] = dlib_finder.faces(image)
    p = face.landmarks
    assert p.shape == (68, 2) and face.score > 0.5
    width = marked["face"][2] - marked["face"][0]
    tolerance = 0.08 * width  # 7 px on the astronaut's face, 14 px on Grace Hopper's
    found = {"eyes": [p[36:42].mean(0), p[42:48].mean(0)], "nose": p[30], "mouth": p[48:68].mean(0), "chin": p[8]}
    for part in ("nose", "mouth", "chin"):
        assert np.hypot(*(found[part] - marked[part])) < tolerance, (part, found[part], marked[part])
    for eye, mark in zip(found["eyes"], marked["eyes"]):
        assert np.hypot(*(eye - mark)) < tolerance, ("eye", eye, mark)
    # the box is the landmarks' extent, as the paper crops from landmarks
    assert face.box == (p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max())
    assert dlib_finder.detect(image) == [face.box]


@pytest.mark.parametrize("name", sorted(FACES))
def test_dlib_box_enlarged_by_the_croppers_1_3_holds_the_whole_face(dlib_finder, name):
    from dfbench.crops import CROP_SCALE, square_box

    [box] = dlib_finder.detect(photo(name))
    x, y, side = square_box(box, CROP_SCALE)
    fx0, fy0, fx1, fy1 = FACES[name]["face"]
    assert x <= fx0 and y <= fy0 and fx1 <= x + side and fy1 <= y + side
    assert side < 2 * max(fx1 - fx0, fy1 - fy0)  # and not much more: the crop is the face


def test_dlib_puts_the_real_face_before_hogs_false_one_on_the_suit():
    """Scanned in colour at 2x (FF++'s upsampling), HOG also fires on the suit: the face scores best and is largest."""
    from dfbench.faces import DlibLandmarks

    image = photo("astronaut")
    real, false = DlibLandmarks(detect_side=None, upsample=1, grey=False).faces(image)
    assert real.score > 1.0 > 0.5 > false.score > 0  # a weak detection, above dlib's threshold of 0
    assert iou_matrix(np.array([real.box]), np.array([FACES["astronaut"]["face"]]))[0, 0] > 0.7
    assert iou_matrix(np.array([false.box]), np.array([SUIT]))[0, 0] > 0.6
    assert largest([false.box, real.box]) == real.box  # the single-image rule agrees
    # a video of the panned photograph: the tracker keeps the face's track, not the suit's
    frames = np.stack([np.roll(image, 2 * i, axis=1) for i in range(11)])
    track = face_track(DlibLandmarks(detect_side=None, upsample=1, grey=False), len(frames),
                       lambda idx: frames[list(idx)], "astronaut.mp4", TrackParams(keyframe_every=5))
    assert track.tracks == 2
    for i, b in enumerate(track.boxes):
        x0, y0, x1, y1 = FACES["astronaut"]["face"]
        assert iou_matrix(b[None], np.array([(x0 + 2 * i, y0, x1 + 2 * i, y1)]))[0, 0] > 0.7


def test_dlib_default_scan_sees_the_astronaut_only_and_scales_back_to_the_frame(dlib_finder):
    """The default scans grey at a 480-px short side: no false face on the suit; boxes come back in frame pixels."""
    image = photo("astronaut")
    [box] = dlib_finder.detect(image)
    big = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1)  # the same photograph at 1024x1024
    [big_box] = dlib_finder.detect(big)
    assert np.allclose(np.asarray(big_box) / 2, box, atol=3)


def test_dlib_finds_nothing_on_a_blank_frame(dlib_finder):
    assert dlib_finder.detect(np.full((240, 320, 3), 127, np.uint8)) == []


def test_dlib_model_is_found_without_importing_face_recognition_models():
    import sys

    from dfbench.faces import DLIB_LANDMARKS, dlib_available, dlib_landmarks_path

    path = dlib_landmarks_path()
    assert path is not None and path.name == DLIB_LANDMARKS and path.stat().st_size > 90e6
    assert "face_recognition_models" not in sys.modules  # its __init__ needs pkg_resources
    assert dlib_available()


def test_dlib_without_its_model_says_how_to_install_it(monkeypatch):
    from dfbench import faces

    monkeypatch.setattr(faces, "dlib_landmarks_path", lambda: None)
    with pytest.raises(DfbenchError, match=r"landmarks\.dat\) is missing: pip install face-recognition-models "
                                           r"\(or 'dfbench\[dlib\]'\), or use --face-finder opencv"):
        faces.DlibLandmarks()
    assert not faces.dlib_available()
    with pytest.raises(ValueError, match="upsample >= 0"):
        faces.DlibLandmarks(upsample=-1)


# --- which finder a run uses: dfbench.engine.choose_face_finder, the one place it is decided ---------

def test_the_default_finder_is_the_datasets_boxes_then_face_alignment_then_dlib_then_opencv(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from dfbench import faces
    from dfbench.engine import choose_face_finder
    from dfbench.layout import DatasetRoot

    root = tmp_path / "ffpp"
    (root / "original_sequences/youtube/c40/videos").mkdir(parents=True)
    data = DatasetRoot(root, None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def choose(asked=None):
        return choose_face_finder(SimpleNamespace(face_finder=asked), data, "c40")

    assert choose() == "dlib"  # real data, no face-alignment weights: the landmark finder that works offline
    assert choose("opencv") == "opencv"  # asked for
    with pytest.raises(DfbenchError, match="unknown face finder 'nope'"):
        choose("nope")
    monkeypatch.setattr(faces, "dlib_available", lambda: False)
    assert choose() == "opencv"  # dlib not installed
    monkeypatch.undo()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    hub_checkpoints().mkdir(parents=True)
    for f in FAN_WEIGHTS:
        (hub_checkpoints() / f).touch()
    assert choose() == "face-alignment"  # the paper's finder when its weights are there
    (root / "original_sequences/youtube/c40/boxes").mkdir()
    assert choose() == "dataset"  # the dataset's own boxes win over any detector


# --- through the installed CLI, offline: a tiny FF++-layout set filmed from the two photographs ----

PAN = 2  # px a frame


def write_photo_set(root):
    """Real 000 (the astronaut) and 001 (Grace Hopper); Deepfakes 000_001, 001_000 panning the other way. No boxes."""
    from dfbench.layout import video_path
    from dfbench.synth.encode import write_h264

    videos = {}
    for method, name, who, step in [("original", "000", "astronaut", PAN), ("original", "001", "grace_hopper", PAN),
                                    ("Deepfakes", "000_001", "astronaut", -PAN),
                                    ("Deepfakes", "001_000", "grace_hopper", -PAN)]:
        image = photo(who)
        frames = np.stack([np.roll(image, step * i, axis=1) for i in range(12)])
        path = video_path(root, method, "c40", name)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_h264(path, frames, qp=40)  # FF++ LQ's quantiser
        videos[path] = (who, step)
    return videos


def test_cli_preprocess_with_dlib_offline_on_photographed_videos(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from dfbench.crops import CropCache

    root = tmp_path / "ffpp"
    videos = write_photo_set(root)
    dfbench = Path(sys.executable).parent / "dfbench"  # the installed console script
    env = {**os.environ, "TORCH_HOME": str(tmp_path / "no-weights"), "DFBENCH_CACHE": str(tmp_path / "cache")}
    argv = [str(dfbench), "preprocess", "--data", str(root), "--methods", "DF", "--size", "32", "--json"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)  # default finder: dlib
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["face_finder"] == "dlib" and report["face_track"] == "dlib-k10-w11-iou0.3-miss2"
    assert report["kind"] == "ffpp" and report["done"] == 4 and report["failed"] == []
    cache = CropCache(tmp_path / "cache", root, "dlib", size=32)
    for video, (who, step) in videos.items():
        track = json.loads(cache.track_path(video).read_text())
        boxes = np.asarray(track["boxes"])
        assert boxes.shape == (12, 4) and track["keyframes"] == 3 and track["seen"] == 3
        x0, y0, x1, y1 = FACES[who]["face"]
        truth = np.array([(x0 + step * i, y0, x1 + step * i, y1) for i in range(12)])
        assert min(iou_matrix(boxes[i : i + 1], truth[i : i + 1])[0, 0] for i in range(12)) > 0.6
        assert np.load(cache.lookup(video).path).shape == (12, 32, 32, 3)
    # asked for by name, it is the same cache entry: nothing to do
    proc = subprocess.run(argv[:-1] + ["--face-finder", "dlib"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0 and proc.stdout.startswith("4 videos in shard 0/1: 0 preprocessed now"), proc.stdout


def test_cli_preprocess_with_dlib_on_the_synthetic_set(tiny_synth, tmp_path):
    """dlib through the installed CLI on synthetic videos: it finds the drawn faces in some of them (HOG
    was trained on photographs; the synthetic set ships its own boxes, which `run` prefers), and each
    video it cannot use is one line, the pass going on."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    dfbench = Path(sys.executable).parent / "dfbench"
    env = {**os.environ, "DFBENCH_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([str(dfbench), "preprocess", "--data", str(tiny_synth), "--face-finder", "dlib",
                           "--methods", "DF", "--size", "32", "--json"], capture_output=True, text=True, env=env,
                          timeout=600)
    report = json.loads(proc.stdout)
    assert report["face_finder"] == "dlib" and report["done"] >= 1, proc.stderr
    assert proc.returncode == (1 if report["failed"] else 0)
    skipped = [line for line in proc.stderr.splitlines() if line.startswith("skipping ")]
    assert len(skipped) == len(report["failed"]) and all("no face found" in line for line in skipped)
