"""Train once, test many, unmocked: the installed `dfbench` trains one real cpu-size detector under `all`,
then tests that very checkpoint on three other datasets' twins, two other compressions and all 40
perturbation settings, without retraining; records and the leaderboard show every condition."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DFBENCH = [sys.executable, "-m", "dfbench"]


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.slow
def test_one_training_run_tested_on_unseen_data(tmp_path):
    from dfbench import synth
    from dfbench.checkpoints import model_sha256
    from dfbench.synth.twins import write_twin

    data = tmp_path / "ffpp"
    synth.generate(data, seed=0, compression="c40", pairs=(2, 1, 1), num_frames=12, extra_compressions=("c23", "raw"))
    twins = {d: tmp_path / d for d in ("celebdf", "dfdc", "dfd")}
    for d, root in twins.items():
        write_twin(d, root, seed=0, variant="c40" if d == "dfd" else None, pairs=(1, 0, 2), num_frames=12)
    env = {**os.environ, "DFBENCH_CACHE": str(tmp_path / "cache")}
    common = ["--detector", "resnet3d", "--data", str(data), "--output", str(tmp_path / "results"),
              "--work-dir", str(tmp_path / "work"), "--epochs", "1", "--json"]

    def dfbench(*argv):
        proc = subprocess.run([*DFBENCH, *argv], capture_output=True, text=True, env=env, timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc

    [train] = json.loads(dfbench("run", "--protocol", "all", *common).stdout)
    record = json.loads(Path(train["path"]).read_text())
    checkpoint = Path(record["fit"]["best_checkpoint"].replace("$WORK_DIR", str(tmp_path / "work")))
    before = (_sha(checkpoint), checkpoint.stat().st_mtime_ns)
    weights = model_sha256(checkpoint, checkpoint.parent)
    run_dirs = sorted(p.name for p in (tmp_path / "work").iterdir())

    outcomes = {}
    test_data = [f"--test-data={d}={root}" for d, root in twins.items()]
    for protocol, extra in (("cross-dataset", test_data), ("cross-compression", []), ("robustness", [])):
        proc = dfbench("run", "--protocol", protocol, *common, *extra)
        got = json.loads(proc.stdout)
        assert got[0]["path"] == train["path"] and got[0]["skipped"]  # the training run, found by its settings
        assert "finished before with the same settings" in proc.stderr and "training resnet3d" not in proc.stderr
        outcomes[protocol] = got[1:]
    assert [o["run"] for o in outcomes["cross-dataset"]] == ["celebdf", "dfdc", "dfd"]
    assert [o["run"] for o in outcomes["cross-compression"]] == ["raw", "c23"]
    assert len(outcomes["robustness"]) == 40

    # not retrained: the one checkpoint is untouched, no new run folder, and every record names it
    assert (_sha(checkpoint), checkpoint.stat().st_mtime_ns) == before
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == run_dirs
    for o in (o for runs in outcomes.values() for o in runs):
        rec = json.loads(Path(o["path"]).read_text())
        assert rec["trained"]["settings_id"] == record["settings_id"] and rec["trained"]["record"] == Path(
            train["path"]).name
        assert rec["trained"]["checkpoint_sha256"] == before[0]  # the file read, as provenance
        assert rec["trained"]["model_sha256"] == rec["settings"]["trained"]["model_sha256"] == weights
        assert "checkpoint_sha256" not in rec["settings"]["trained"]  # the weights are the setting, not the file
        assert rec["fit"] == record["fit"]
    kinds = {json.loads(Path(o["path"]).read_text())["dataset"]["kind"] for o in outcomes["cross-dataset"]}
    assert kinds == {"synthetic-celebdf", "synthetic-dfdc", "synthetic-dfd"}

    # dfbench evaluate is the same path: asking again finds every record by its settings
    proc = dfbench("evaluate", "--record", train["path"], "--perturb", "standard", "--data", str(data),
                   "--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"), "--json")
    assert all(o["skipped"] for o in json.loads(proc.stdout))

    board = dfbench("leaderboard", "--results", str(tmp_path / "results")).stdout
    for section in ("## Protocol `cross-dataset`", "## Protocol `cross-compression`", "## Protocol `robustness`"):
        assert section in board
    row = next(line for line in board.splitlines() if line.startswith("| resnet3d") and "synthetic-celebdf" not in line
               and "DF-1.0" not in line and "synthetic-2x1x1 c40, ffpp-lq-all all" in line)
    assert f"settings {record['settings_id']}" in row
