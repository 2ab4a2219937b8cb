"""What the built-in test datasets' modules share: the root check and the twin's manifest."""

from __future__ import annotations

import json
from pathlib import Path

from dfbench.errors import DfbenchError
from dfbench.layout import SYNTHETIC_MANIFEST


def require_dir(root: Path, what: str) -> Path:
    """``root`` as a Path; a one-line error naming it when it is not a folder."""
    root = Path(root)
    if not root.is_dir():
        raise DfbenchError(f"{root}: dataset root not found; pass the folder that holds {what}")
    return root


def synthetic_manifest(root: Path, dataset_id: str) -> dict | None:
    """The synthetic twin's ``dfbench_synthetic.json`` at ``root`` when it is one of ``dataset_id``'s
    (its ``layout``), else None (real data)."""
    path = Path(root) / SYNTHETIC_MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("layout") == dataset_id else None
