"""The FaceForensics++ on-disk layout, as its download script writes it.

``original_sequences/youtube/<comp>/videos/<id>.mp4`` for real videos and
``manipulated_sequences/<Method>/<comp>/videos/<target>_<source>.mp4`` for fakes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dfbench.errors import DfbenchError

REAL = "original"
METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures")  # the paper's four
EXTRA_METHODS = ("FaceShifter", "DeepFakeDetection")  # recognised, outside the paper's protocols
ALL_METHODS = METHODS + EXTRA_METHODS
COMPRESSIONS = ("raw", "c23", "c40")
QP = {"raw": 0, "c23": 23, "c40": 40}  # H.264 constant quantiser of each FF++ compression
SHORT = {"Deepfakes": "DF", "Face2Face": "F2F", "FaceSwap": "FS", "NeuralTextures": "NT"}
SYNTHETIC_MANIFEST = "dfbench_synthetic.json"


def method_dir(root: Path, method: str, compression: str) -> Path:
    """The ``<comp>`` folder of a method ("original" for the real videos)."""
    if method == REAL:
        return Path(root) / "original_sequences" / "youtube" / compression
    return Path(root) / "manipulated_sequences" / method / compression


def video_path(root: Path, method: str, compression: str, name: str) -> Path:
    return method_dir(root, method, compression) / "videos" / f"{name}.mp4"


def boxes_path(video: Path) -> Path:
    """Per-frame face boxes a dataset may provide: ``<comp>/boxes/<name>.json`` beside ``videos/``."""
    return video.parent.parent / "boxes" / f"{video.stem}.json"


def method_of(name: str) -> str:
    """Normalise a user's method name (case-insensitive, short forms DF/F2F/FS/NT accepted)."""
    lookup = {m.lower(): m for m in ALL_METHODS} | {s.lower(): m for m, s in SHORT.items()}
    try:
        return lookup[name.lower()]
    except KeyError:
        raise DfbenchError(
            f"unknown manipulation method {name!r}; use one of {', '.join(METHODS)} (or DF, F2F, FS, NT)"
        ) from None


@dataclass(frozen=True)
class DatasetRoot:
    """A dataset root checked for its layout; ``synthetic`` holds dfbench's manifest if any, ``dataset``
    the registered dataset id (:mod:`dfbench.datasets`) whose layout it is."""

    path: Path
    synthetic: dict | None
    dataset: str = "ffpp"

    @property
    def kind(self) -> str:
        """``ffpp``, ``synthetic`` (generator version 1) or ``synthetic-v<N>``, with ``-<train>x<val>x<test>``
        when the set's pairs are not its version's full size (the embedded default: ``synthetic-v5-24x6x16``):
        every record and leaderboard row names the generator version and size its data came from, so a
        demo-size record never shares a row with (or supersedes) a full-size one. Another dataset's kind is
        its id (``celebdf``), or ``synthetic-<id>`` for its synthetic twin."""
        if self.dataset != "ffpp":
            return f"synthetic-{self.dataset}" if self.synthetic else self.dataset
        if not self.synthetic:
            return "ffpp"
        from dfbench.synth.dataset import PAIRS

        version = int(self.synthetic.get("version", 1))
        kind = "synthetic" if version == 1 else f"synthetic-v{version}"
        pairs = [int(n) for n in self.synthetic.get("pairs", PAIRS.get(version, ()))]
        return kind if pairs == list(PAIRS.get(version, ())) else kind + "-" + "x".join(map(str, pairs))


def open_root(root: Path, compression: str) -> DatasetRoot:
    """Check that ``root`` is in the FF++ layout with a ``compression`` folder of real videos."""
    root = Path(root)
    if compression not in COMPRESSIONS:
        raise DfbenchError(f"unknown compression {compression!r}; use one of {', '.join(COMPRESSIONS)}")
    if not root.is_dir():
        raise DfbenchError(f"{root}: dataset root not found; pass --data with a FaceForensics++ download folder")
    if not (root / "original_sequences").is_dir():
        raise DfbenchError(
            f"{root}: no original_sequences/ folder, so this is not the FaceForensics++ layout; "
            "pass the folder the FF++ download script wrote into (it holds original_sequences/ and "
            "manipulated_sequences/)"
        )
    real = method_dir(root, REAL, compression) / "videos"
    if not real.is_dir():
        raise DfbenchError(
            f"{real}: missing; download the {compression} videos (FF++ script: -c {compression}) "
            "or choose another --compression"
        )
    manifest = root / SYNTHETIC_MANIFEST
    synthetic = json.loads(manifest.read_text()) if manifest.is_file() else None
    return DatasetRoot(root, synthetic)
