"""The product's main path, unmocked: the installed `dfbench` command trains a real MMAction2
detector with MMEngine on real H.264 synthetic data, stores a record, renders the leaderboard."""

import json
import os
import subprocess
import sys

import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

DFBENCH = [sys.executable, "-m", "dfbench"]


@pytest.mark.slow
def test_run_cross_then_leaderboard(tiny_synth, tmp_path):
    env = {**os.environ, "DFBENCH_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        [*DFBENCH, "run", "--detector", "resnext3d_nl", "--protocol", "cross", "--method", "NeuralTextures",
         "--data", str(tiny_synth), "--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"),
         "--epochs", "1", "--json"],
        capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [summary] = json.loads(proc.stdout)
    assert summary["run"] == "cross-NeuralTextures" and not summary["skipped"]
    rec = json.loads(open(summary["path"]).read())
    assert rec["detector_plugin"] == "dfbench-mmaction" and rec["size"] == "cpu"
    assert rec["train_methods"] == ["Deepfakes", "Face2Face", "FaceSwap"] and rec["test_methods"] == ["NeuralTextures"]
    assert {v["method"] for v in rec["videos"]} == {"original", "NeuralTextures"} and len(rec["videos"]) == 4
    assert all(0.0 <= v["score"] <= 1.0 for v in rec["videos"])
    labels = [v["label"] for v in rec["videos"]]
    scores = [v["score"] for v in rec["videos"]]
    assert rec["metrics"]["tcr"] == accuracy_score(labels, [s >= 0.5 for s in scores])
    assert rec["metrics"]["auc"] == pytest.approx(roc_auc_score(labels, scores))
    assert rec["fit"]["best_checkpoint"].startswith("$WORK_DIR/")  # chosen on val, kept in the run's dir, portable
    assert "training resnext3d_nl (cpu)" in proc.stderr

    board = subprocess.run([*DFBENCH, "leaderboard", "--results", str(tmp_path / "results")],
                           capture_output=True, text=True, env=env, timeout=120)
    assert board.returncode == 0, board.stderr
    nt_cell = f"{rec['metrics']['tcr'] * 100:.2f}"
    row = next(line for line in board.stdout.splitlines() if line.startswith("| resnext3d_nl") and "measured" in line)
    assert "synthetic-2x1x1 c40" in row and "cpu size" in row and nt_cell in row


@pytest.mark.slow
def test_ctrl_c_during_training_is_one_line_and_leaves_no_partial_file(tiny_synth, tmp_path):
    import signal

    env = {**os.environ, "DFBENCH_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [*DFBENCH, "run", "--detector", "resnet3d", "--protocol", "single", "--method", "DF", "--data",
         str(tiny_synth), "--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"),
         "--epochs", "500"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        # Ctrl-C reaches the run even where the tests themselves were started in the background (`cmd &`
        # starts them with SIGINT ignored, and Python then never raises KeyboardInterrupt)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in proc.stderr:  # interrupt once training is under way (checkpoints are being saved each epoch)
        lines.append(line)
        if ": epoch 2/500: " in line:  # the progress line every detector reports through the core
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    proc.wait(timeout=120)
    assert proc.returncode == 130, "".join(lines) + rest
    assert rest.strip().splitlines()[-1] == ("interrupted: finished runs are saved; run the same command again "
                                             "to resume")
    assert "Traceback" not in rest
    assert not list((tmp_path / "work").rglob("*.tmp"))  # checkpoints are written whole or not at all
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").glob("*.json"))


def test_ctrl_c_turned_into_another_error_by_a_library_is_still_an_interrupt(monkeypatch, capsys):
    """MMEngine's config formatter catches Ctrl-C with a bare except and raises SyntaxError from it."""
    from dfbench import cli

    def formatter(*_args, **_kw):
        try:
            raise KeyboardInterrupt
        except BaseException:
            raise SyntaxError("Failed to format the config file") from None

    monkeypatch.setattr(cli.cli, "main", formatter)
    with pytest.raises(SystemExit) as e:
        cli.main(["run"])
    assert e.value.code == 130
    assert capsys.readouterr().err == "interrupted: finished runs are saved; run the same command again to resume\n"
    monkeypatch.setattr(cli.cli, "main", lambda *a, **k: (_ for _ in ()).throw(SyntaxError("a real bug")))
    with pytest.raises(SyntaxError, match="a real bug"):
        cli.main(["run"])
