"""``dfbench profile``: parameters, FLOPs and inference speed of each detector's network.

The paper's Table 6 reports parameter counts only; dfbench adds what a reader deciding between
detectors also needs: compute per input and throughput on a named machine. A detector takes part
when its built object is :class:`~dfbench.detector.Profilable` (``input_shape`` and
``inference_network()``); nothing here names a detector or a framework.

Conventions (also stated in the leaderboard's Cost table):

* **FLOPs** are counted by ``torch.utils.flop_counter.FlopCounterMode`` on one input (batch 1) in
  fp32: 2 FLOPs per multiply-add of every convolution and matrix product (``conv``, ``mm``,
  ``addmm``, ``bmm``, attention). Bias additions, normalisation, activations, pooling and
  softmax are not counted (they are a few percent of a CNN's work). "Per input" is per clip for a
  clip detector and per frame for a frame detector.
* **Throughput** is inputs/s at ``batch`` inputs per forward pass under ``torch.inference_mode``
  (autocast for bf16/fp16), the median of ``repeats`` timed passes after ``warmup`` untimed ones,
  with ``torch.cuda.synchronize`` around each timed pass on a GPU. Input preprocessing (mean/std
  normalisation) is not part of the network and not timed.

The module imports no torch at import time: the records and their JSON form are plain data, so
the leaderboard can read stored profiles without torch.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dfbench
from dfbench import plugins
from dfbench.detector import PRECISIONS, SIZES, DetectorSpec, Profilable
from dfbench.errors import DfbenchError
from dfbench.results import write_atomic

SCHEMA = 1
KIND = "dfbench-profile"  # what a profile record's "kind" says, so it is never taken for a run record
DEVICES = ("cpu", "cuda")
FLOP_CONVENTION = ("counted by torch.utils.flop_counter.FlopCounterMode on one input in fp32, 2 FLOPs per "
                   "multiply-add of convolutions and matrix products (bias, normalisation, activations, "
                   "pooling and softmax not counted)")
Progress = Callable[[str], None]


@dataclass
class ProfileRow:
    """One detector's network at one size, measured on one machine."""

    detector: str
    plugin: str
    size: str
    input_kind: str  # "clip" | "frame": what one input (and so FLOPs and inputs/s) is
    input_shape: list[int]  # one input without the batch axis, e.g. [3, 16, 112, 112]
    parameters: int  # counted on the network
    meta_parameters: int  # what the detector's metadata states for this size
    flops: int  # per input, see the module docstring
    batch: int
    precision: str
    device: str
    memory_format: str  # "contiguous" | "channels_last" | "channels_last_3d": the conv weights' layout
    warmup: int
    repeats: int
    seconds_per_batch: float  # the median over the timed passes
    inputs_per_s: float  # batch / seconds_per_batch
    seconds: list[float] = field(default_factory=list)  # every timed pass, in order

    @property
    def unit(self) -> str:
        return f"{self.input_kind}s/s"


@dataclass
class Machine:
    """Where a profile was measured."""

    device: str  # "cpu" | "cuda"
    device_name: str  # the CPU model, or the GPU's name
    threads: int  # torch's intra-op CPU threads
    torch: str
    python: str
    platform: str


@dataclass
class ProfileRecord:
    """One ``dfbench profile`` invocation: the machine, the settings and one row per detector."""

    machine: Machine
    rows: list[ProfileRow]
    skipped: list[dict] = field(default_factory=list)  # {"detector", "reason"}: installed but not measured
    flop_convention: str = FLOP_CONVENTION
    dfbench_version: str = ""
    git_revision: str = ""
    created: str = ""
    kind: str = KIND
    schema: int = SCHEMA

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ProfileRecord:
        d = dict(d)
        if d.get("kind") != KIND:
            raise ValueError(f"not a {KIND} record (kind {d.get('kind')!r})")
        d["machine"] = Machine(**d["machine"])
        d["rows"] = [ProfileRow(**r) for r in d["rows"]]
        return cls(**d)


# --- choosing detectors ---------------------------------------------------------------------------


def _not_profilable(spec: DetectorSpec) -> str:
    return (f"detector {spec.meta.name!r} ({spec.plugin}) cannot be profiled: its detector object lacks "
            "`input_shape` and `inference_network()` (dfbench.detector.Profilable); see "
            "docs/profile.md")


def select(names: Sequence[str] | None, size: str) -> tuple[list[tuple[DetectorSpec, Profilable]], list[dict]]:
    """The detectors to profile at ``size``, built, and the installed ones left out with the reason.

    Named detectors must exist, have the size and be Profilable (else a one-line error); with no
    names, every installed detector that has the size and is Profilable takes part.
    """
    if size not in SIZES:
        raise DfbenchError(f"--size {size!r}: use one of {', '.join(SIZES)}")
    chosen, skipped = [], []
    specs = [plugins.get_detector(n) for n in dict.fromkeys(names)] if names else list(plugins.detectors().values())
    for spec in specs:
        if size not in spec.meta.sizes:
            if names:
                raise DfbenchError(f"detector {spec.meta.name!r} has no size {size!r}; it has "
                                   f"{', '.join(spec.meta.sizes)} (--size)")
            skipped.append({"detector": spec.meta.name, "reason": f"no {size} size"})
            continue
        detector = spec.create(size)
        if not isinstance(detector, Profilable):
            if names:
                raise DfbenchError(_not_profilable(spec))
            skipped.append({"detector": spec.meta.name, "reason": "not Profilable"})
            continue
        chosen.append((spec, detector))
    return chosen, skipped


# --- measuring one network (torch from here on) ---------------------------------------------------


def count_parameters(network) -> int:
    return sum(p.numel() for p in network.parameters())


def count_flops(network, input_shape: Sequence[int], device: str = "cpu") -> int:
    """FLOPs of one forward pass on one input (batch 1, fp32); see the module docstring."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.randn(1, *input_shape, device=device)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        network(x)
    return int(counter.get_total_flops())


def memory_format(network) -> str:
    """The layout the network's convolution weights are stored in (what oneDNN/cuDNN will pick)."""
    import torch

    for p in network.parameters():
        if p.dim() == 5 and not p.is_contiguous() and p.is_contiguous(memory_format=torch.channels_last_3d):
            return "channels_last_3d"
        if p.dim() == 4 and not p.is_contiguous() and p.is_contiguous(memory_format=torch.channels_last):
            return "channels_last"
    return "contiguous"


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def time_inference(network, input_shape: Sequence[int], *, batch: int, precision: str = "fp32",
                   device: str = "cpu", warmup: int = 2, repeats: int = 5) -> list[float]:
    """Seconds of each of ``repeats`` timed forward passes of ``batch`` random inputs, after ``warmup``."""
    import torch

    x = torch.randn(batch, *input_shape, device=device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    seconds = []
    with torch.inference_mode(), torch.autocast(device, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        for i in range(warmup + repeats):
            _sync(device)
            t0 = time.perf_counter()
            out = network(x)
            _sync(device)
            if i >= warmup:
                seconds.append(time.perf_counter() - t0)
    if out.shape[0] != batch or out.numel() != batch:
        raise DfbenchError(f"inference network returned shape {tuple(out.shape)} for a batch of {batch}; "
                           "it must return one logit per input (Profilable)")
    return seconds


def profile_detector(spec: DetectorSpec, detector: Profilable, size: str, *, batch: int = 8,
                     precision: str = "fp32", device: str = "cpu", warmup: int = 2, repeats: int = 5) -> ProfileRow:
    """Build the detector's inference network and measure it (parameters, FLOPs, throughput)."""
    shape = [int(s) for s in detector.input_shape]
    want = 4 if spec.meta.input_kind == "clip" else 3
    if len(shape) != want:
        raise DfbenchError(f"detector {spec.meta.name!r}: input_shape {tuple(shape)} should have {want} axes "
                           f"for a {spec.meta.input_kind} detector ({'(3, T, H, W)' if want == 4 else '(3, H, W)'})")
    network = detector.inference_network().to(device).eval()
    flops = count_flops(network, shape, device)
    seconds = time_inference(network, shape, batch=batch, precision=precision, device=device,
                             warmup=warmup, repeats=repeats)
    median = statistics.median(seconds)
    return ProfileRow(
        detector=spec.meta.name, plugin=spec.plugin, size=size, input_kind=spec.meta.input_kind,
        input_shape=shape, parameters=count_parameters(network),
        meta_parameters=spec.meta.sizes[size].parameters, flops=flops, batch=batch, precision=precision,
        device=device, memory_format=memory_format(network), warmup=warmup, repeats=repeats,
        seconds_per_batch=median, inputs_per_s=batch / median, seconds=seconds,
    )


# --- the whole command ----------------------------------------------------------------------------


def machine(device: str) -> Machine:
    import torch

    if device == "cuda":
        name = torch.cuda.get_device_name()
    else:
        name = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as f:
                name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
        except (OSError, StopIteration):
            pass
    return Machine(device=device, device_name=name, threads=torch.get_num_threads(), torch=torch.__version__,
                   python=platform.python_version(), platform=platform.platform(terse=True))


def check_device(device: str | None) -> str:
    """The device to run on: ``None`` = cuda when torch sees one, else cpu."""
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in DEVICES:
        raise DfbenchError(f"--device {device!r}: use one of {', '.join(DEVICES)}")
    if device == "cuda" and not torch.cuda.is_available():
        raise DfbenchError(f"--device cuda: torch {torch.__version__} sees no CUDA device here; use --device cpu")
    return device


def profile(names: Sequence[str] | None = None, *, size: str = "paper", batch: int = 8, precision: str = "fp32",
            device: str | None = None, warmup: int = 2, repeats: int = 5,
            progress: Progress = lambda _: None) -> ProfileRecord:
    """Profile the named detectors (default: every installed Profilable one) at ``size``."""
    if batch < 1 or repeats < 1 or warmup < 0:
        raise DfbenchError(f"--batch {batch}, --repeats {repeats}, --warmup {warmup}: batch and repeats must be "
                           "at least 1, warmup at least 0")
    if precision not in PRECISIONS:
        raise DfbenchError(f"--precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    chosen, skipped = select(names, size)  # names are checked before torch is imported
    device = check_device(device)
    if not chosen:
        raise DfbenchError(f"no installed detector can be profiled at size {size!r} "
                           f"({len(skipped)} skipped); `dfbench detectors` lists them")
    for s in skipped:
        progress(f"skipped {s['detector']}: {s['reason']}")
    rows = []
    for i, (spec, detector) in enumerate(chosen, 1):
        progress(f"[{i}/{len(chosen)}] profiling {spec.meta.name} ({size}, batch {batch}, {precision}, {device})")
        row = profile_detector(spec, detector, size, batch=batch, precision=precision, device=device,
                               warmup=warmup, repeats=repeats)
        if row.parameters != row.meta_parameters:
            progress(f"warning: {row.detector}: the network has {row.parameters:,} parameters, its metadata "
                     f"says {row.meta_parameters:,}")
        rows.append(row)
    from dfbench.engine import git_revision

    return ProfileRecord(
        machine=machine(device), rows=rows, skipped=skipped, dfbench_version=dfbench.__version__,
        git_revision=git_revision(), created=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
    )


# --- records on disk ------------------------------------------------------------------------------

PROFILE_DIR = "profile"  # profile records live in <results>/profile/*.json, beside the run records


def save(record: ProfileRecord, path: Path) -> Path:
    write_atomic(Path(path), json.dumps(record.to_dict(), indent=1, sort_keys=True) + "\n")
    return Path(path)


def load_all(folder: Path) -> list[ProfileRecord]:
    """Every profile record in ``folder`` (sorted by file name); a missing folder holds none."""
    out = []
    for p in sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else []:
        try:
            out.append(ProfileRecord.from_dict(json.loads(p.read_text(encoding="utf-8"))))
        except (ValueError, TypeError, KeyError) as e:
            raise DfbenchError(f"{p}: not a readable dfbench profile record ({e}); remove it or rewrite it "
                               "with `dfbench profile --out`") from None
    return out


def format_table(record: ProfileRecord) -> str:
    """The record as a plain-text table, with the machine and settings in a header line."""
    from tabulate import tabulate

    m = record.machine
    lines = [f"device {m.device} ({m.device_name}, {m.threads} threads), torch {m.torch}"]
    if record.rows:
        r0 = record.rows[0]
        lines[0] += (f"; {r0.precision}, batch {r0.batch}, median of {r0.repeats} after {r0.warmup} warm-up; "
                     "FLOPs = 2 x multiply-adds")
    table = [(r.detector, r.size, r.input_kind + " " + "x".join(map(str, r.input_shape)), f"{r.parameters:,}",
              f"{r.flops / 1e9:,.3f}", f"{r.inputs_per_s:,.2f} {r.unit}", f"{1e3 / r.inputs_per_s:,.1f}",
              f"{r.flops * r.inputs_per_s / 1e9:,.1f}", r.memory_format) for r in record.rows]
    lines.append(tabulate(table, headers=("detector", "size", "input", "parameters", "GFLOPs/input", "throughput",
                                          "ms/input", "GFLOP/s", "weights"),
                          tablefmt="github", disable_numparse=True,
                          colalign=("left", "left", "left", "right", "right", "right", "right", "right", "left")))
    lines += [f"skipped {s['detector']}: {s['reason']}" for s in record.skipped]
    return "\n".join(lines)
