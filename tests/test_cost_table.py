"""The leaderboard's Cost table: a golden file, the paper's Table 6 rows, stored profile records."""

from __future__ import annotations

from pathlib import Path

import pytest

from dfbench import cost_table, leaderboard, reference
from dfbench.errors import DfbenchError
from dfbench.profile import Machine, ProfileRecord, ProfileRow, save

GOLDEN = Path(__file__).parent / "golden"
EPYC = Machine(device="cpu", device_name="AMD EPYC", threads=2, torch="2.14.1+cu130", python="3.11.7",
               platform="Linux")
H100 = Machine(device="cuda", device_name="NVIDIA H100 80GB HBM3", threads=16, torch="2.14.1+cu130",
               python="3.11.7", platform="Linux")


def _row(detector, size, parameters, gflops, per_s, *, kind="clip", shape=(3, 16, 112, 112), batch=2,
         precision="fp32", device="cpu", layout="channels_last_3d"):
    return ProfileRow(detector=detector, plugin="dfbench-test", size=size, input_kind=kind, input_shape=list(shape),
                      parameters=parameters, meta_parameters=parameters, flops=int(gflops * 1e9), batch=batch,
                      precision=precision, device=device, memory_format=layout, warmup=1, repeats=3,
                      seconds_per_batch=batch / per_s, inputs_per_s=per_s, seconds=[batch / per_s] * 3)


def _record(machine, rows, created="2026-11-25T12:00:00+00:00"):
    return ProfileRecord(machine=machine, rows=rows, dfbench_version="0.1.0", git_revision="0" * 40,
                         created=created)


@pytest.fixture
def profiles() -> list[ProfileRecord]:
    """Paper and cpu sizes on a CPU, bf16 on a GPU, a frame detector from a third-party plugin, and
    an older measurement of the same setting that the newer one replaces."""
    cpu_paper = _record(EPYC, [_row("resnext3d_nl", "paper", 55_919_041, 19.402, 1.125),
                               _row("resnet3d", "paper", 85_247_169, 27.780, 0.4375)])
    cpu_small = _record(EPYC, [_row("resnet3d", "cpu", 903_281, 0.204, 15.25, shape=(3, 16, 64, 64), batch=8)])
    older = _record(EPYC, [_row("resnet3d", "cpu", 903_281, 0.204, 9.5, shape=(3, 16, 64, 64), batch=8)],
                    created="2026-11-01T12:00:00+00:00")
    gpu = _record(H100, [_row("resnet3d", "paper", 85_247_169, 27.780, 812.5, batch=32, precision="bf16",
                              device="cuda"),
                         _row("acme_frames", "paper", 20_809_001, 16.78, 2650.0, kind="frame", shape=(3, 299, 299),
                              batch=32, precision="bf16", device="cuda", layout="contiguous")])
    return [cpu_paper, older, cpu_small, gpu]


def _table(markdown: str) -> list[dict[str, str]]:
    lines = markdown.splitlines()
    i = lines.index("## Cost")
    while not lines[i].startswith("|"):
        i += 1
    table = []
    while i < len(lines) and lines[i].startswith("|"):
        table.append([c.strip() for c in lines[i].strip("|").split("|")])
        i += 1
    header, _, *body = table
    return [dict(zip(header, row, strict=True)) for row in body]


def _render(profiles) -> str:
    order = {name: i for i, name in enumerate(reference.detector_order())}
    return "\n".join(cost_table.section(profiles, reference.load(), lambda d: (order.get(d, len(order)), d))) + "\n"


def test_cost_table_matches_golden(profiles, request):
    text = _render(profiles)
    golden = GOLDEN / "cost_table.md"
    if request.config.getoption("--regen-golden"):
        golden.write_text(text, encoding="utf-8")
        pytest.skip("golden file rewritten")
    assert text == golden.read_text(encoding="utf-8")


def test_paper_rows_are_table_6(profiles):
    paper = {r["Detector"]: r["Parameters"] for r in _table(_render(profiles)) if r["Source"] == "paper (Table 6)"}
    assert paper == {"resnet3d": "85,249,216", "resnet3d_se": "94,303,808", "resnet3d_nl": "93,647,040"}


def test_measured_rows_in_order_with_their_machine(profiles):
    rows = _table(_render(profiles))
    assert [(r["Detector"], r["Source"]) for r in rows] == [
        ("resnet3d", "paper (Table 6)"),
        ("resnet3d", "measured: paper size"),  # cpu before cuda, then by machine
        ("resnet3d", "measured: paper size"),
        ("resnet3d", "measured: cpu size"),
        ("resnet3d_se", "paper (Table 6)"),
        ("resnet3d_nl", "paper (Table 6)"),
        ("resnext3d_nl", "measured: paper size"),
        ("acme_frames", "measured: paper size"),  # not in the paper: after its detectors
    ]
    cpu, gpu, small = rows[1:4]
    assert (cpu["Parameters"], cpu["GFLOPs / input"], cpu["Throughput"]) == ("85,247,169", "27.78", "0.44 clips/s")
    assert cpu["Measured on"] == "AMD EPYC (cpu, 2 threads), fp32, batch 2, channels-last-3d weights, torch 2.14.1"
    assert gpu["Throughput"] == "812.50 clips/s" and gpu["Measured on"].startswith("NVIDIA H100 80GB HBM3 (cuda), bf16")
    assert small["Throughput"] == "15.25 clips/s"  # the newer of two measurements of one setting
    assert small["Input"] == "clip 3×16×64×64"
    assert rows[-1]["Input"] == "frame 3×299×299" and rows[-1]["Throughput"] == "2650.00 frames/s"


def test_notes_state_the_conventions_and_the_difference_from_the_paper(profiles):
    text = _render(profiles)
    assert "2 FLOPs per multiply-add" in text and "the study reports no FLOPs or speed" in text
    assert "resnet3d 85,247,169 vs 85,249,216 (−2,047)" in text
    assert text.count("−2,047") == 1  # one note per detector, however many machines measured it


def test_no_paper_rows_and_no_records_means_no_section():
    assert cost_table.section([], [], str) == []
    assert "## Cost" not in leaderboard.render([], reference=[])


def test_leaderboard_reads_profiles_from_the_results_folder(profiles, tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    for i, rec in enumerate(profiles):
        save(rec, results / "profile" / f"{i}.json")
    monkeypatch.chdir(tmp_path)
    text = leaderboard.render_dir("results")
    assert text == leaderboard.render([], results_dir="results", profiles=profiles)
    assert _table(text) == _table(_render(profiles))
    # the Cost section comes after the protocol tables
    assert text.index("## Protocol `cross`") < text.index("## Cost")


def test_a_broken_profile_record_is_one_line_error(tmp_path):
    (tmp_path / "profile").mkdir()
    (tmp_path / "profile" / "bad.json").write_text('{"kind": "something else"}')
    with pytest.raises(DfbenchError, match=r"bad\.json: not a readable dfbench profile record") as e:
        cost_table.load(tmp_path)
    assert "\n" not in str(e.value)
