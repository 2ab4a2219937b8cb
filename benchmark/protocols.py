"""Protocols as versioned data (``protocols/*.yaml``) and their expansion into runs.

A protocol run says which manipulation methods feed each split. Real videos of a split are
always in it. ``single`` and ``cross`` expand into one run per method from one definition.
The evaluation kinds (``cross_dataset``, ``cross_compression``, ``robustness``) train nothing of
their own: they name a ``train_protocol`` and test its run under other conditions
(:mod:`dfbench.evaluation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import yaml

from dfbench.errors import DfbenchError
from dfbench.layout import method_of

TRAIN_KINDS = ("all", "single", "leave_one_out")
EVAL_KINDS = ("cross_dataset", "cross_compression", "robustness")
KINDS = TRAIN_KINDS + EVAL_KINDS


@dataclass(frozen=True)
class Protocol:
    id: str
    name: str
    version: int
    kind: str
    title: str
    compression: str
    methods: tuple[str, ...]
    trunk_len: int
    class_weighted_loss: bool
    checkpoint_selection: str = "val"
    train_frames_per_video: int | None = None  # frame detectors: training crops per video
    # Evaluation kinds only: the protocol whose run they test, and their test conditions.
    train_protocol: str | None = None
    test_datasets: tuple[str, ...] = ()
    test_compressions: tuple[str, ...] = ()
    perturbations: tuple[tuple[str, tuple], ...] = ()  # (type, levels), in file order

    @property
    def short_kind(self) -> str:
        """The kind as results and the leaderboard name it: all | single | cross | cross-dataset | ..."""
        return "cross" if self.kind == "leave_one_out" else self.kind.replace("_", "-")

    @property
    def evaluates(self) -> bool:
        """True for the kinds that train nothing of their own and test ``train_protocol``'s run."""
        return self.kind in EVAL_KINDS


@dataclass(frozen=True)
class RunSpec:
    """One training run of a protocol: the fake methods of train/val and of test."""

    protocol: Protocol
    name: str
    train_methods: tuple[str, ...]
    test_methods: tuple[str, ...]

    @property
    def val_methods(self) -> tuple[str, ...]:
        # Validation never sees a method held out of training: it would leak the test method
        # into checkpoint selection.
        return self.train_methods


def available() -> list[Protocol]:
    """Every protocol defined in the shipped YAML files, in file order."""
    out = []
    for f in sorted(resources.files("dfbench.protocol_files").iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".yaml"):
            continue
        doc = yaml.safe_load(f.read_text())
        defaults = doc.get("defaults", {})
        for p in doc["protocols"]:
            d = {**defaults, **p}
            if d["kind"] not in KINDS:
                raise ValueError(f"{f.name}: protocol {d['id']} has unknown kind {d['kind']!r}")
            d["methods"] = tuple(d["methods"])
            if d["kind"] in EVAL_KINDS:
                if not d.get("train_protocol"):
                    raise ValueError(f"{f.name}: protocol {d['id']} of kind {d['kind']} names no train_protocol")
            else:  # the defaults of a file of evaluation protocols do not reach a training protocol
                d.pop("train_protocol", None)
            d["test_datasets"] = tuple(d.get("test_datasets", ()))
            d["test_compressions"] = tuple(d.get("test_compressions", ()))
            d["perturbations"] = tuple((t, tuple(levels)) for t, levels in (d.get("perturbations") or {}).items())
            out.append(Protocol(**d))
    return out


def load(name: str) -> Protocol:
    """A protocol by short name (all, single, cross) or id (ffpp-lq-cross)."""
    protocols = available()
    for p in protocols:
        if name in (p.name, p.id, p.short_kind):
            return p
    names = ", ".join(p.name for p in protocols)
    raise DfbenchError(f"unknown protocol {name!r}; use one of {names} (see `dfbench protocols`)")


def expand(protocol: Protocol, method: str | None = None) -> list[RunSpec]:
    """The runs of a protocol; ``method`` picks one run of ``single`` (the method) or ``cross`` (held out).

    An evaluation protocol's runs are those of its ``train_protocol`` (its conditions come from
    :func:`dfbench.evaluation.conditions`)."""
    if protocol.evaluates:
        if method is not None:
            raise DfbenchError(f"--method does not apply to protocol {protocol.name}: it tests the run of "
                               f"{protocol.train_protocol}")
        return expand(load(protocol.train_protocol))
    methods = protocol.methods
    if method is not None:
        method = method_of(method)
        if method not in methods:
            raise DfbenchError(f"method {method} is not part of protocol {protocol.id} ({', '.join(methods)})")
        if protocol.kind == "all":
            raise DfbenchError(f"--method does not apply to protocol {protocol.name}: it always uses all methods")
    if protocol.kind == "all":
        return [RunSpec(protocol, "all", methods, methods)]
    chosen = [method] if method else list(methods)
    if protocol.kind == "single":
        return [RunSpec(protocol, f"single-{m}", (m,), (m,)) for m in chosen]
    return [RunSpec(protocol, f"cross-{m}", tuple(x for x in methods if x != m), (m,)) for m in chosen]

