"""Train/val/test splits in FF++'s format: JSON lists of ``[target, source]`` id pairs.

The official files ship with dfbench (``data/ffpp_splits``). A dataset root with its own
``splits/`` folder (the synthetic set writes one) uses those instead.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from dfbench.errors import DfbenchError

SPLITS = ("train", "val", "test")
# An id names a file inside the dataset: letters, digits, '-' and '.', never a path ('/', '..', an
# absolute path) and never '_', which joins the two ids of a fake video's name.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$")
Pair = tuple[str, str]


def official() -> dict[str, list[Pair]]:
    """The official FF++ splits: 360/70/70 pairs."""
    base = resources.files("dfbench") / "data" / "ffpp_splits"
    return {s: _pairs(json.loads((base / f"{s}.json").read_text()), f"official {s}.json") for s in SPLITS}


def load(root: Path | None = None, splits_dir: Path | None = None) -> dict[str, list[Pair]]:
    """Splits for a dataset: ``splits_dir``, else ``root/splits`` if present, else the official ones."""
    if splits_dir is None and root is not None and (Path(root) / "splits").is_dir():
        splits_dir = Path(root) / "splits"
    if splits_dir is None:
        out = official()
    else:
        out = {}
        for s in SPLITS:
            p = Path(splits_dir) / f"{s}.json"
            if not p.is_file():
                raise DfbenchError(f"{p}: split file missing; a splits folder needs train.json, val.json, test.json")
            try:
                out[s] = _pairs(json.loads(p.read_text()), str(p))
            except json.JSONDecodeError as e:
                raise DfbenchError(f"{p}: not valid JSON ({e}); restore it from the FF++ splits") from None
    check_disjoint(out)
    return out


def ids(pairs: list[Pair]) -> list[str]:
    """The real-video ids of a split: both members of every pair, sorted."""
    return sorted({i for p in pairs for i in p})


def fake_names(pairs: list[Pair]) -> list[str]:
    """Fake video names of a split: ``a_b`` and ``b_a`` for every pair, as FF++ names them."""
    return sorted({n for a, b in pairs for n in (f"{a}_{b}", f"{b}_{a}")})


def identities(name: str) -> set[str]:
    """The identities a video shows: its id, or both ids of a fake ``target_source``."""
    return set(name.split("_"))


def check_disjoint(splits: dict[str, list[Pair]]) -> None:
    """No identity may appear in two splits."""
    seen: dict[str, str] = {}
    for s in SPLITS:
        for i in ids(splits[s]):
            if i in seen and seen[i] != s:
                raise DfbenchError(f"id {i} is in both the {seen[i]} and {s} splits; splits must not share identities")
            seen[i] = s


def _pairs(raw, where: str) -> list[Pair]:
    if not isinstance(raw, list) or not all(isinstance(p, list) and len(p) == 2 for p in raw):
        raise DfbenchError(f"{where}: expected a JSON list of [target, source] id pairs")
    out = [(str(a), str(b)) for a, b in raw]
    for pair in out:
        for i in pair:
            if not _ID.match(i) or ".." in i:
                raise DfbenchError(f"{where}: id {i!r} is not a plain video id (letters, digits, '-', '.'; no paths, "
                                   "'..' or '_'); fix the split file")
    return out
