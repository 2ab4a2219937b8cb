"""The real `dfbench` command, in-process (so the test plugin is visible) and as a subprocess."""

import json
import subprocess
import sys

import pytest

from dfbench import splits as S
from dfbench.layout import METHODS


def test_dry_run_json_on_real_ffpp_layout(cli, ffpp_tree, test_plugin):
    code, out, _ = cli("run", "--detector", "test_brightness", "--protocol", "cross",
                           "--data", str(ffpp_tree), "--dry-run", "--json")
    assert code == 0
    plan = json.loads(out)
    assert plan["protocol"] == "ffpp-lq-cross" and plan["dataset"]["kind"] == "ffpp" and plan["size"] == "paper"
    assert [r["name"] for r in plan["runs"]] == [f"cross-{m}" for m in METHODS]
    official = S.official()
    for r in plan["runs"]:
        held_out = r["test_methods"][0]
        for split, n_real in (("train", 720), ("val", 140), ("test", 140)):
            videos = r[split]
            real = [v for v in videos if v["method"] == "original"]
            assert len(real) == n_real and all(v["label"] == 0 for v in real)
            methods = r["test_methods"] if split == "test" else r["train_methods"]
            for m in methods:
                fakes = {v["key"].split("/")[1] for v in videos if v["method"] == m}
                assert fakes == set(S.fake_names(official[split])) and len(fakes) == 2 * len(official[split])
            assert {v["method"] for v in videos if v["label"] == 1} == set(methods)
            assert (held_out in {v["method"] for v in videos}) == (split == "test")
        ids = {s: set().union(*(set(v["key"].split("/")[1].split("_")) for v in r[s])) for s in S.SPLITS}
        assert not ids["train"] & ids["test"] and not ids["train"] & ids["val"] and not ids["val"] & ids["test"]


def test_dry_run_text(cli, ffpp_tree, test_plugin):
    code, out, _ = cli("run", "-d", "test_brightness", "-p", "all", "--data", str(ffpp_tree), "--dry-run")
    assert code == 0
    sid = json.loads(cli("run", "-d", "test_brightness", "-p", "all", "--data", str(ffpp_tree),
                             "--dry-run", "--json")[1])["runs"][0]["settings_id"]
    assert out == ("all: train on Deepfakes+Face2Face+FaceSwap+NeuralTextures, "
                   "test on Deepfakes+Face2Face+FaceSwap+NeuralTextures (train 3600, val 700, test 700 videos); "
                   f"settings {sid}, would train\n")


@pytest.mark.parametrize("args,message", [
    (["run", "-d", "nope", "-p", "cross", "--dry-run"], "error: unknown detector 'nope'"),
    (["run", "-d", "test_brightness", "-p", "nope", "--dry-run"], "error: unknown protocol 'nope'"),
    (["run", "-d", "test_brightness", "-p", "single", "-m", "XYZ", "--dry-run"],
     "error: unknown manipulation method 'XYZ'"),
])
def test_bad_names_one_line_nonzero(cli, ffpp_tree, test_plugin, args, message):
    code, _, err = cli(*args, "--data", str(ffpp_tree))
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1


def test_wrong_layout_and_missing_compression(cli, tmp_path, ffpp_tree, test_plugin):
    code, _, err = cli("run", "-d", "test_brightness", "-p", "all", "--data", str(tmp_path), "--dry-run")
    assert code == 2 and "no original_sequences/ folder" in err and str(tmp_path) in err
    code, _, err = cli("run", "-d", "test_brightness", "-p", "all", "--data", str(ffpp_tree),
                           "--compression", "c23", "--dry-run")
    assert code == 2 and "original_sequences/youtube/c23/videos: missing" in err
    code, _, err = cli("run", "-d", "test_brightness", "-p", "all", "--data", str(tmp_path / "nope"),
                           "--dry-run")
    assert code == 2 and "dataset root not found" in err


def test_data_check_counts_and_missing(cli, ffpp_tree, tmp_path):
    code, out, _ = cli("data", "check", str(ffpp_tree), "--quick", "--json")  # empty files: no decoding
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["missing"] == []
    assert report["methods"]["original"]["train"] == {"expected": 720, "present": 720}
    assert report["methods"]["Deepfakes"]["test"] == {"expected": 140, "present": 140}
    assert report["absent_methods"] == ["FaceShifter", "DeepFakeDetection"]
    gone = ffpp_tree / "manipulated_sequences" / "Face2Face" / "c40" / "videos" / "071_054.mp4"
    gone.rename(tmp_path / "moved.mp4")
    try:
        code, out, _ = cli("data", "check", str(ffpp_tree), "--quick")
        assert code == 1
        assert "1 videos missing, e.g. " + str(gone) in out
        assert "Face2Face                  719/720         140/140         140/140" in out
    finally:
        (tmp_path / "moved.mp4").rename(gone)


def test_installed_console_script_reports_unknown_detector():
    proc = subprocess.run(
        [sys.executable, "-c", "from dfbench.cli import main; main()", "run", "-d", "nope", "-p", "all",
         "--data", "/nonexistent", "--dry-run"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unknown detector 'nope'")
