"""The leaderboard's Cost table: the paper's Table 6 beside stored ``dfbench profile`` records.

The paper's Table 6 gives parameter counts only (3D ResNet without and with attention), read from
the shipped reference CSV. Measured rows come from profile records stored in
``<results>/profile/*.json`` beside the run records (``dfbench profile --out``): parameters,
GFLOPs per input and throughput, each row naming the machine and settings it was measured with,
because throughput means nothing without them.

Rows: detectors in the leaderboard's order; within one, the paper's row first, then measured rows
by size (paper, cpu), device, machine, precision and batch. Where several records measured the
same detector, size and setting on the same machine, the most recent (``created``) is shown.
Pure and deterministic like the rest of the leaderboard: no timestamps, no paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from dfbench import reference as ref
from dfbench.profile import FLOP_CONVENTION, PROFILE_DIR, Machine, ProfileRecord, ProfileRow, load_all

MISSING = "–"
PAPER_SOURCE = "paper (Table 6)"
COLUMNS = ["Detector", "Source", "Input", "Parameters", "GFLOPs / input", "Throughput", "Measured on"]
_NUMERIC = {"Parameters", "GFLOPs / input", "Throughput"}
_SIZE_RANK = {"paper": 0, "cpu": 1}


def load(results_dir: str | Path) -> list[ProfileRecord]:
    """The profile records stored with a results folder (none when it has no ``profile/``)."""
    return load_all(Path(results_dir) / PROFILE_DIR)


def _setting(row: ProfileRow, m: Machine) -> tuple:
    """What makes two measurements the same one (everything but the time it was taken)."""
    return (_SIZE_RANK.get(row.size, len(_SIZE_RANK)), row.size, m.device, m.device_name, m.threads, m.torch,
            row.precision, row.batch, row.memory_format)


def _latest(records: Sequence[ProfileRecord]) -> dict[str, dict[tuple, tuple[ProfileRow, Machine]]]:
    out: dict[str, dict[tuple, tuple[ProfileRow, Machine, str]]] = {}
    for rec in records:
        for row in rec.rows:
            key = _setting(row, rec.machine)
            seen = out.setdefault(row.detector, {}).get(key)
            if seen is None or rec.created >= seen[2]:
                out[row.detector][key] = (row, rec.machine, rec.created)
    return {d: {k: v[:2] for k, v in rows.items()} for d, rows in out.items()}


def _input(row: ProfileRow) -> str:
    return f"{row.input_kind} {'×'.join(map(str, row.input_shape))}"


def _machine(row: ProfileRow, m: Machine) -> str:
    layout = "" if row.memory_format == "contiguous" else f", {row.memory_format.replace('_', '-')} weights"
    threads = f", {m.threads} threads" if m.device == "cpu" else ""
    return (f"{m.device_name} ({m.device}{threads}), {row.precision}, batch {row.batch}{layout}, "
            f"torch {m.torch.split('+')[0]}")


def _gflops(flops: int) -> str:
    """2 decimals from 1 GFLOP up, 4 below (a frame detector's network can be a few MFLOPs)."""
    g = flops / 1e9
    return f"{g:.2f}" if g >= 1 else f"{g:.4f}"


def _signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else f"−{-n:,}"


def section(records: Sequence[ProfileRecord], reference: Sequence[ref.ReferenceRow],
            detector_key: Callable[[str], object]) -> list[str]:
    """The Cost section's Markdown lines; empty when there is neither a paper row nor a record."""
    paper = {r.detector: int(r.value) for r in reference if r.table == "table6" and r.metric == "parameters"}
    measured = _latest(records)
    rows, differences = [], {}  # one note per detector and count, however many machines measured it
    for det in sorted(set(paper) | set(measured), key=detector_key):
        if det in paper:
            rows.append({"Detector": det, "Source": PAPER_SOURCE, "Input": MISSING, "Parameters": f"{paper[det]:,}",
                         "GFLOPs / input": MISSING, "Throughput": MISSING, "Measured on": MISSING})
        for _, (row, m) in sorted(measured.get(det, {}).items()):
            rows.append({
                "Detector": det,
                "Source": f"measured: {row.size} size",
                "Input": _input(row),
                "Parameters": f"{row.parameters:,}",
                "GFLOPs / input": _gflops(row.flops),
                "Throughput": f"{row.inputs_per_s:.2f} {row.unit}",
                "Measured on": _machine(row, m),
            })
            if det in paper and row.size == "paper" and row.parameters != paper[det]:
                differences[det, row.parameters] = (f"{det} {row.parameters:,} vs {paper[det]:,} "
                                                    f"({_signed(row.parameters - paper[det])})")
    if not rows:
        return []
    align = ["right" if c in _NUMERIC else "left" for c in COLUMNS]
    table = pd.DataFrame(rows, columns=COLUMNS).to_markdown(index=False, disable_numparse=True, colalign=align)
    notes = [
        f"FLOPs: {FLOP_CONVENTION}; GFLOPs are per clip for a clip detector, per frame for a frame detector.",
        "Throughput: inputs per second in inference (median of timed passes after warm-up) on the machine "
        "and settings in its row; compare throughputs measured on the same machine only.",
    ]
    if paper:
        notes.insert(0, f'Rows with Source "{PAPER_SOURCE}" are the parameter counts reported by {ref.CITATION} '
                        "(Table 6, 3D ResNet without and with attention); the study reports no FLOPs or speed.")
    if differences:
        notes.append("Measured paper-size counts that differ from the paper's: " + "; ".join(differences.values())
                     + " (the detector's plugin documents why).")
    return [
        "## Cost",
        "",
        "Parameters, compute and inference speed of each detector's network (paper Table 6), from "
        f"`dfbench profile` records stored in the results folder's `{PROFILE_DIR}/`.",
        "",
        table,
        "",
        *(f"> {n}" for n in notes),
    ]
