"""Cheap checks that run before any expensive work (data generation, face crops, downloads, training).

Each failure is one DfbenchError line naming the thing at fault and the fix; nothing is written
before they all pass (the probe files they write are removed at once).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dfbench.detector import PRECISIONS, Checkpoint, Detector, DetectorSpec, FitConfig, Option
from dfbench.errors import DfbenchError

SEED_MAX = 2**32 - 1  # numpy's and torch's seeding range
MIN_FREE_BYTES = 200 * 2**20  # a record is kilobytes; checkpoints of the cpu-size models a few MB each


def check_numbers(seed: int, epochs: int | None) -> None:
    if not 0 <= int(seed) <= SEED_MAX:
        raise DfbenchError(f"--seed {seed}: must be between 0 and {SEED_MAX} (numpy's seed range)")
    if epochs is not None and int(epochs) < 1:
        raise DfbenchError(f"--epochs {epochs}: must be at least 1 (leave it out for the detector's schedule)")


def check_precision(precision: str) -> None:
    """fp16 needs a CUDA device (its loss scaling is GPU-only in MMEngine); bf16 and fp32 run anywhere
    a plugin supports them (each plugin's ``check`` refuses what it cannot run)."""
    if precision not in PRECISIONS:
        raise DfbenchError(f"--precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision == "fp16" and not _cuda_available():
        raise DfbenchError("--precision fp16 needs a CUDA GPU, and none is visible here; use fp32 (or bf16)")


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def check_writable(folder: Path, what: str, min_free: int = MIN_FREE_BYTES) -> None:
    """``folder`` (created if missing) accepts a file, and its disk has ``min_free`` bytes free."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".dfbench-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise DfbenchError(f"{folder}: the {what} folder is not writable ({e.strerror or e}); "
                           f"choose another with --{what.replace(' ', '-')}") from None
    free = shutil.disk_usage(folder).free
    if free < min_free:
        raise DfbenchError(f"{folder}: only {free / 2**20:.0f} MiB free for the {what} folder (at least "
                           f"{min_free / 2**20:.0f} MiB needed); free some space or choose another folder")


def check_pretrained(checkpoint: Checkpoint | None, *, fetch_file: bool = True) -> str | None:
    """Fetch (or find) the pretrained file, refuse an empty one or one that would run code, and
    return its sha256 (None when no pretrained weights are used).

    ``fetch_file=False`` (a dry run: plan only, no download): the sha256 the checkpoint declares, or
    that of the local or already downloaded file; None for a URL not downloaded yet whose hash is
    not declared (its settings id is then provisional: the real run hashes the file it fetches).
    """
    if checkpoint is None:
        return None
    from dfbench.checkpoints import fetch, file_name, hub_checkpoint_dir, is_url, load_untrusted, sha256_file

    if not fetch_file:
        if checkpoint.sha256:
            return checkpoint.sha256
        local = hub_checkpoint_dir() / file_name(checkpoint.source) if is_url(checkpoint.source) else None
        if local is None:
            return sha256_file(fetch(checkpoint.source))
        return sha256_file(local) if local.is_file() else None

    path = fetch(checkpoint.source, checkpoint.sha256)
    if path.stat().st_size == 0:
        raise DfbenchError(f"{path}: the pretrained checkpoint is an empty file; download it again or pass "
                           "--pretrained none")
    load_untrusted(path)  # refuses pickled code and unreadable files, naming the file
    return checkpoint.sha256 or sha256_file(path)


def build_detector(spec: DetectorSpec, size: str) -> Detector:
    """Construct the detector; a constructor that raises is one line naming the plugin."""
    try:
        detector = spec.create(size)
    except DfbenchError:
        raise
    except Exception as e:  # a plugin's bug must not become a traceback the user cannot place
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise DfbenchError(f"detector {spec.meta.name} (plugin {spec.plugin or '?'}) could not be built at size "
                           f"{size}: {type(e).__name__}{': ' + first if first else ''}; report it to the plugin's "
                           "authors") from None
    for method in ("fit", "score"):
        if not callable(getattr(detector, method, None)):
            raise DfbenchError(f"detector {spec.meta.name} (plugin {spec.plugin or '?'}) has no {method}() method; "
                               "see docs/writing-a-detector-plugin.md")
    return detector


def check_detector_config(detector: Detector, spec: DetectorSpec, config: FitConfig) -> None:
    """Ask the detector whether it can run ``config`` (``check(config)``, optional), before any work."""
    check = getattr(detector, "check", None)
    if check is None:
        return
    try:
        check(config)
    except DfbenchError:
        raise
    except Exception as e:
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise DfbenchError(f"detector {spec.meta.name} (plugin {spec.plugin or '?'}) refused the run settings: "
                           f"{type(e).__name__}{': ' + first if first else ''}") from None


_OPTION_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_option(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` from ``--set`` (the value stays text; the detector's :class:`Option` types it)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not _OPTION_KEY.match(key):
        raise DfbenchError(f"--set {text!r}: give KEY=VALUE with a lowercase key, e.g. --set batch_size=8")
    return key, value.strip()


def check_options(detector: Detector, spec: DetectorSpec, given: Mapping[str, Any]) -> dict[str, Any]:
    """The ``--set`` options typed by the detector's declared ``options``; an unknown key or a value of
    the wrong type is one line naming the options the detector takes."""
    if not given:
        return {}
    accepted: Mapping[str, Option] = getattr(detector, "options", None) or {}
    known = ", ".join(f"{k} ({o.type.__name__}: {o.help})" for k, o in sorted(accepted.items())) or "none"
    out = {}
    for key, value in given.items():
        if key not in accepted:
            raise DfbenchError(f"--set {key}: detector {spec.meta.name} has no such option; it takes: {known}")
        out[key] = _typed(key, value, accepted[key].type)
    return out


def _typed(key: str, value: Any, kind: type) -> Any:
    text = str(value).strip()
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if text.lower() in _TRUE + _FALSE:
                return text.lower() in _TRUE
            raise ValueError
        if kind is int:
            return int(text)
        if kind is float:
            number = float(text)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError
            return number
        return kind(value)
    except (TypeError, ValueError):
        raise DfbenchError(f"--set {key}={value}: not a valid {kind.__name__}") from None
