"""`dfbench preprocess`: sharding, workers, bad videos, interrupt and resume, and the cache `dfbench run` reads."""

import io
import json
import shutil

import numpy as np
import pytest

from dfbench import crops as C
from dfbench import engine
from dfbench.crops import CropCache
from dfbench.errors import DfbenchError
from dfbench.layout import METHODS, boxes_path
from dfbench.preprocess import (
    PreprocessOptions,
    ProgressBar,
    default_sizes,
    format_progress,
    list_videos,
    parse_shard,
    preprocess,
    shard_of,
)
from dfbench.tracking import iou_matrix

N_TINY = 40  # tiny_synth: 4 pairs -> 8 real videos and 8 fakes for each of 4 methods


def opts(data, tmp_path, **kw):
    kw.setdefault("face_finder", "dataset")
    kw.setdefault("sizes", (32,))
    return PreprocessOptions(data=data, cache=tmp_path / "cache", **kw)


@pytest.fixture
def count_decodes(monkeypatch):
    """Counts the videos opened for decoding."""
    opened = []
    real = C.VideoSource
    monkeypatch.setattr(C, "VideoSource", lambda path: opened.append(path) or real(path))
    return opened


def test_parse_shard():
    assert parse_shard("0/1") == (0, 1) and parse_shard("3/4") == (3, 4)
    for bad in ("4/4", "-1/4", "1", "a/b", "1/0"):
        with pytest.raises(DfbenchError, match="--shard .*SLURM_ARRAY_TASK_ID/\\$SLURM_ARRAY_TASK_COUNT"):
            parse_shard(bad)


def test_shards_cover_every_ffpp_video_exactly_once(ffpp_tree):
    videos = list_videos(ffpp_tree, "c40", METHODS)
    assert len(videos) == 5000  # FF++: 1000 real videos, 1000 fakes per method
    rel = [v.relative_to(ffpp_tree).as_posix() for v in videos]
    for n in (2, 7):
        parts = [[r for r in rel if shard_of(r, n) == i] for i in range(n)]
        assert sorted(sum(parts, [])) == sorted(rel)  # every video once, none twice
        assert all(abs(len(p) - 5000 / n) < 0.1 * 5000 / n for p in parts)  # about even


def test_two_shards_merge_into_one_cache_that_run_reads_without_decoding(tiny_synth, tmp_path, test_plugin,
                                                                          monkeypatch):
    a = preprocess(opts(tiny_synth, tmp_path, shard=(0, 2), sizes=(112,)))
    b = preprocess(opts(tiny_synth, tmp_path, shard=(1, 2), sizes=(112,)))
    assert a.videos + b.videos == N_TINY and a.done == a.videos and b.done == b.videos and 0 < a.videos < N_TINY
    assert a.cache_dirs == b.cache_dirs  # one cache, no coordination
    npys = sorted((tmp_path / "cache").rglob("*.npy"))
    assert len(npys) == N_TINY
    mtimes = [p.stat().st_mtime_ns for p in npys]

    def no_decoding(path):
        raise AssertionError(f"{path} decoded again")

    monkeypatch.setattr(C, "VideoSource", no_decoding)
    [outcome] = engine.run(engine.RunOptions(detector="test_brightness", protocol="single", method="DF",
                                             data=tiny_synth, face_finder="dataset", cache=tmp_path / "cache",
                                             output=tmp_path / "results", work_dir=tmp_path / "work"))
    assert not outcome.result.failed_videos and len(outcome.result.videos) == 4
    assert outcome.result.preprocessing["face_track"] == a.face_track
    assert [p.stat().st_mtime_ns for p in npys] == mtimes


def test_an_interrupted_pass_resumes_with_the_rest(tiny_synth, tmp_path, count_decodes):
    def interrupt_after_3(finished, total, failed):
        if finished == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        preprocess(opts(tiny_synth, tmp_path), progress=interrupt_after_3)
    assert len(count_decodes) == 3
    report = preprocess(opts(tiny_synth, tmp_path))
    assert (report.cached, report.done, report.failed) == (3, N_TINY - 3, [])
    assert len(count_decodes) == N_TINY  # each video decoded once over both passes
    again = preprocess(opts(tiny_synth, tmp_path))
    assert (again.cached, again.done) == (N_TINY, 0) and len(count_decodes) == N_TINY


def test_bad_videos_are_reported_and_the_pass_goes_on(tiny_synth, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_synth, data)
    real = sorted((data / "original_sequences/youtube/c40/videos").glob("*.mp4"))
    real[0].write_bytes(real[0].read_bytes()[:300])  # truncated
    real[1].write_bytes(b"")  # empty
    real[2].write_bytes(b"not a video at all" * 100)  # garbage
    report = preprocess(opts(data, tmp_path))
    assert report.done == N_TINY - 3
    failed = {f["video"]: f["error"] for f in report.failed}
    assert sorted(failed) == [str(v) for v in real[:3]]
    assert failed[str(real[0])].startswith(f"{real[0]}: corrupt or truncated video")
    assert failed[str(real[1])] == f"{real[1]}: empty video file; re-download or re-encode this file " \
                                   "(or delete it to skip it)"
    assert all("\n" not in e for e in failed.values())


def test_workers_make_the_same_cache_as_one_process(tiny_synth, tmp_path):
    one = preprocess(opts(tiny_synth, tmp_path / "one", methods=("NT",)))
    two = preprocess(opts(tiny_synth, tmp_path / "two", methods=("NT",), workers=2))
    assert one.done == two.done == 16 and two.workers == 2
    a = sorted((tmp_path / "one").rglob("*.npy"))
    b = sorted((tmp_path / "two").rglob("*.npy"))
    assert [p.relative_to(tmp_path / "one") for p in a] == [p.relative_to(tmp_path / "two") for p in b]
    assert all(np.array_equal(np.load(x), np.load(y)) for x, y in zip(a, b))


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_and_in_a_log():
    term = Terminal()
    bar = ProgressBar(term, width=4)
    bar(0, 2, 0)
    bar.echo("skipping x.mp4: empty video file")
    bar(1, 2, 1)
    bar(2, 2, 1)
    text = term.getvalue()
    assert text.startswith("\r[----] 0/2 videos") and "\r\033[Kskipping x.mp4: empty video file\n\r[##--] 1/2" in text
    assert text.endswith("(1 failed)\n") and text.count("\n") == 2  # the message and the finished bar
    log = io.StringIO()
    bar = ProgressBar(log, width=4, every=3600)
    for i in range(5):
        bar(i, 4, 0)
        bar.echo(f"note {i}")
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("[----] 0/4") and lines[-2].startswith("[####] 4/4")  # first, last, none between
    assert sum(line.startswith("[") for line in lines) == 2


def test_progress_line():
    assert format_progress(10, 40, 0, 5.0, width=8) == "[##------] 10/40 videos  2.00 videos/s  ETA 0m15s"
    assert format_progress(0, 40, 0, 0.0, width=8).endswith("ETA ?")
    assert format_progress(40, 40, 2, 20.0, width=8).endswith("ETA 0m00s  (2 failed)")


# --- the command --------------------------------------------------------------------------------------

def test_cli_preprocess_dataset_boxes(cli, tiny_synth, tmp_path):
    argv = ["preprocess", "--data", str(tiny_synth), "--face-finder", "dataset", "--size", "32", "--size", "48",
            "--cache", str(tmp_path), "--json"]
    code, out, err = cli(*argv)
    report = json.loads(out)
    assert code == 0 and report["done"] == N_TINY and report["failed"] == [] and report["sizes"] == [32, 48]
    assert report["face_track"] == "dataset-k10-w11-iou0.3-miss2" and report["kind"] == "synthetic-2x1x1"
    assert f"{N_TINY}/{N_TINY} videos" in err and "videos/s" in err  # the progress bar, on stderr
    for d in report["cache_dirs"]:
        assert len(list((tmp_path / d).rglob("*.npy"))) == N_TINY
    code, out, err = cli(*argv[:-1])
    assert code == 0 and out.startswith(f"{N_TINY} videos in shard 0/1: 0 preprocessed now") and \
        f"{N_TINY} cached before, 0 failed" in out


def test_cli_preprocess_opencv_finds_faces_and_reports_the_videos_without_one(cli, tiny_synth, tmp_path):
    code, out, err = cli("preprocess", "--data", str(tiny_synth), "--face-finder", "opencv",
                             "--size", "32", "--cache", str(tmp_path), "--json")
    report = json.loads(out)
    # the synthetic faces are drawn, not photographed: Haar's cascade misses some of them altogether
    assert code == 1 and report["done"] >= 8 and len(report["failed"]) >= 1
    assert report["done"] + len(report["failed"]) == N_TINY
    for f in report["failed"]:
        assert f["error"] == (f"{f['video']}: no face found on any of 3 keyframes; "
                              "check the video, or try another --face-finder")
        assert f"skipping {f['error']}" in err
    failed = {f["video"] for f in report["failed"]}
    cache = CropCache(tmp_path, tiny_synth, "opencv", size=32)
    for video in list_videos(tiny_synth, "c40", METHODS):
        if str(video) in failed:
            continue
        boxes = np.asarray(json.loads(cache.track_path(video).read_text())["boxes"])
        truth = np.asarray(json.loads(boxes_path(video).read_text())["boxes"])
        # Haar's box is about 1.25x the drawn face's landmark box and sits higher (it takes in the forehead),
        # so "on the face" means: centre within half a face of the truth, and overlapping it, on every frame
        centre_error = np.abs((boxes[:, :2] + boxes[:, 2:]) / 2 - (truth[:, :2] + truth[:, 2:]) / 2).max()
        assert centre_error < 0.5 * (truth[:, 2] - truth[:, 0]).mean()
        assert min(iou_matrix(boxes[i : i + 1], truth[i : i + 1])[0, 0] for i in range(len(boxes))) > 0.25


def test_cli_preprocess_on_the_ffpp_layout(cli, ffpp_tree, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights"))  # so the default finder is dlib's (offline)
    code, out, err = cli("preprocess", "--data", str(ffpp_tree), "--methods", "DF,NT",
                             "--shard", "3/16", "--cache", str(tmp_path), "--json")
    report = json.loads(out)
    assert report["kind"] == "ffpp" and report["face_finder"] == "dlib" and report["shard"] == "3/16"
    assert report["sizes"] == list(default_sizes("ffpp"))
    expected = [v for v in list_videos(ffpp_tree, "c40", ["Deepfakes", "NeuralTextures"])
                if shard_of(v.relative_to(ffpp_tree).as_posix(), 16) == 3]
    assert report["videos"] == len(expected) > 100
    # the tree holds empty files: every one is reported by name, none crashes the pass
    assert code == 1 and report["done"] == 0 and sorted(f["video"] for f in report["failed"]) == sorted(
        map(str, expected))
    assert all(f["error"].endswith("empty video file; re-download or re-encode this file (or delete it to skip it)")
               for f in report["failed"])
    assert not any("FaceSwap" in f["video"] or "Face2Face" in f["video"] for f in report["failed"])
    assert any("/c40/" in f["video"] and "original_sequences" in f["video"] for f in report["failed"])


def test_cli_preprocess_names_a_missing_method(cli, tiny_synth, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_synth, data)
    shutil.rmtree(data / "manipulated_sequences/FaceSwap")
    code, _, err = cli("preprocess", "--data", str(data), "--methods", "FS", "--cache", str(tmp_path))
    assert code == 2 and err.startswith("error: ") and "FaceSwap/c40/videos: missing" in err
    code, out, err = cli("preprocess", "--data", str(data), "--face-finder", "dataset", "--size", "16",
                             "--cache", str(tmp_path))
    assert code == 0 and "FaceSwap at c40 is not in" in err and out.startswith(f"{N_TINY - 8} videos")
