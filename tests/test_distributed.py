"""Multi-process training on the CPU: torchrun starts two `dfbench run` processes, MMEngine trains with
DDP over gloo, rank 0 alone prepares the crops and writes the record.

srun (``--launcher slurm``) cannot be exercised here (no Slurm); docs/install.md gives its command.
"""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("dfbench_mmaction")

from dfbench import distributed  # noqa: E402
from dfbench.errors import DfbenchError  # noqa: E402


def test_rank_and_world_size_come_from_the_launcher(monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS"):
        monkeypatch.delenv(var, raising=False)
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert (distributed.rank("pytorch"), distributed.world_size("pytorch"), distributed.is_main("pytorch")) == (
        1, 2, False)
    monkeypatch.setenv("SLURM_PROCID", "3")
    monkeypatch.setenv("SLURM_NTASKS", "8")
    assert (distributed.rank("slurm"), distributed.world_size("slurm")) == (3, 8)
    assert distributed.rank("pytorch") == 1  # srun's variables count only under --launcher slurm


def test_waiting_for_rank0_ends_when_its_file_appears_or_times_out(tmp_path):
    marker = tmp_path / "ready"
    calls = []

    def ready():
        calls.append(1)
        if len(calls) == 3:
            marker.write_text("done")
        return marker.is_file()

    distributed.wait_for(ready, "x", timeout_s=5, poll_s=0.01)
    assert len(calls) == 3  # polled until the file appeared, then returned
    with pytest.raises(DfbenchError, match=r"waited 0 s for rank 0 to prepare the crops; see rank 0's log"):
        distributed.wait_for(lambda: False, "the crops", timeout_s=0.05, poll_s=0.01)


def test_pytorch_launcher_outside_torchrun_says_how_to_start(monkeypatch):
    import torch.distributed as dist

    from dfbench_mmaction.runtime import init_cpu_process_group

    if dist.is_initialized():
        pytest.skip("a process group exists in this process")
    for var in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(DfbenchError, match=r"--launcher pytorch: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT not set; "
                                           r"start dfbench under torchrun"):
        init_cpu_process_group()


@pytest.mark.slow
def test_two_cpu_processes_train_one_run_and_write_one_record(tiny_synth, tmp_path):
    env = {**os.environ, "DFBENCH_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    results = tmp_path / "results"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "dfbench", "run", "--detector", "resnet3d", "--protocol", "all", "--data", str(tiny_synth),
           "--output", str(results), "--work-dir", str(tmp_path / "work"), "--epochs", "1", "--launcher", "pytorch",
           "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    [summary] = json.loads(proc.stdout)  # rank 0 alone prints the summary
    assert summary["run"] == "all" and not summary["skipped"]
    # one record and no temporary file (the lock folder stays; its locks are released)
    assert sorted(p.name for p in results.iterdir() if p.name != ".locks") == [os.path.basename(summary["path"])]
    rec = json.loads((results / os.path.basename(summary["path"])).read_text())
    assert rec["fit"]["details"]["world_size"] == 2 and rec["fit"]["epochs"] == 1
    for r in (0, 1):  # both ranks trained, each its half of the epoch's clips
        assert f"rank {r}/2: trained 1 iterations (1 epochs)" in proc.stderr
    assert proc.stderr.count("all: training resnet3d (cpu)") == 1  # progress from rank 0 only
    assert "Grad strides do not match bucket view strides" not in proc.stderr  # channels-last before DDP
    prepared = json.loads((tmp_path / "work" / os.path.basename(summary["path"]).removesuffix(".json")
                           / "dfbench_prepared.json").read_text())
    assert prepared["failed"] == [] and len(prepared["digest"]) == 64
