"""What a detector is to the core: typed metadata plus a small train/score interface.

Plugins describe each detector with :class:`DetectorMeta` (validated, cheap: listing detectors
builds no network and imports no framework) and a factory that builds the real thing on demand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

InputKind = Literal["clip", "frame"]
SIZES = ("paper", "cpu")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
UNKNOWN_LABEL = -1  # what ``Detector.score`` sees in place of a test video's label


@dataclass(frozen=True)
class SizeSpec:
    """One size of a detector: the input it takes and how many parameters it has at that size."""

    clip_len: int
    crop_size: int
    parameters: int

    def __post_init__(self):
        if self.clip_len < 1 or self.crop_size < 8 or self.parameters < 1:
            raise ValueError(f"invalid size spec {self}")


@dataclass(frozen=True)
class Checkpoint:
    """Where pretrained weights come from (a path or URL) and the sha256 they must have."""

    source: str
    sha256: str | None = None
    description: str = ""

    def __post_init__(self):
        if self.sha256 is not None and not _SHA256.match(self.sha256):
            raise ValueError(f"checkpoint sha256 must be 64 lowercase hex digits, got {self.sha256!r}")


@dataclass(frozen=True)
class DetectorMeta:
    """Typed, validated description of a detector (after MTEB's ModelMeta)."""

    name: str
    family: str
    input_kind: InputKind
    sizes: dict[str, SizeSpec]
    citation: str
    paper_name: str = ""
    checkpoint: Checkpoint | None = None
    trained_on: tuple[str, ...] = ()
    description: str = ""
    paper_parameters: int | None = None  # the paper's own count (e.g. its Table 6), shown beside ours
    pretrainable: bool = True  # False: the detector is defined as trained from scratch; refuse --pretrained
    # False: the paper trains it from scratch, so --pretrained auto loads nothing; ``checkpoint`` is then
    # only for an explicit ablation (--pretrained PATH|URL), which records and the leaderboard keep apart.
    pretrained_by_default: bool = True

    def __post_init__(self):
        if not _NAME.match(self.name):
            raise ValueError(f"detector name {self.name!r} must be lowercase letters, digits and '_'")
        if self.input_kind not in ("clip", "frame"):
            raise ValueError(f"{self.name}: input_kind must be 'clip' or 'frame', got {self.input_kind!r}")
        if not self.sizes or any(s not in SIZES for s in self.sizes):
            raise ValueError(f"{self.name}: sizes must be a non-empty subset of {SIZES}, got {list(self.sizes)}")
        if not self.citation.strip():
            raise ValueError(f"{self.name}: a citation is required")
        if self.paper_parameters is not None and self.paper_parameters < 1:
            raise ValueError(f"{self.name}: paper_parameters must be a positive count, got {self.paper_parameters}")
        if not self.pretrainable and self.checkpoint is not None:
            raise ValueError(f"{self.name}: a detector trained from scratch (pretrainable=False) has no checkpoint")


@dataclass(frozen=True)
class VideoRef:
    """One video as a detector sees it: its cached face crops and its ground truth.

    ``crops`` is a ``.npy`` file of shape (frames, S, S, 3), uint8 RGB, made by the core's
    crop cache; open it with ``numpy.load(path, mmap_mode="r")``.
    """

    key: str  # "<method>/<name>", e.g. "original/071" or "Deepfakes/071_054"
    label: int  # 1 = fake, 0 = real (UNKNOWN_LABEL when scoring)
    method: str  # "original" or a manipulation method
    crops: Path
    num_frames: int


@dataclass(frozen=True)
class FitConfig:
    """Everything a detector needs to train one protocol run, decided by the core."""

    work_dir: Path
    seed: int
    size: str
    clip_len: int
    crop_size: int
    class_weights: tuple[float, float] | None  # (real, fake) loss weights; None = unweighted
    trunk_len: int  # test/val videos are scored as the mean over trunks of this many frames
    epochs: int | None = None  # None = the detector's own schedule for this size
    launcher: str = "none"  # MMEngine launcher: none | pytorch | slurm
    pretrained: str | None = None  # path or URL of weights to start from; None = the detector's default
    precision: str = "fp32"  # fp32 | bf16 | fp16: compute precision for training and scoring (AMP)
    frames_per_video: int | None = None  # frame detectors: training crops sampled per video (protocol)
    extra: dict = field(default_factory=dict)  # framework settings a plugin may honour, e.g. "log_level"


@runtime_checkable
class Detector(Protocol):
    """A trainable detector. Scores are probabilities that a video is fake, one per video."""

    def fit(self, train: Sequence[VideoRef], val: Sequence[VideoRef], config: FitConfig) -> dict:
        """Train on ``train``, choose the checkpoint on ``val``; return a small report (JSON-able)."""
        ...

    def score(self, videos: Sequence[VideoRef], config: FitConfig) -> list[float]:
        """Score each video as the mean of its trunk scores (trunks of ``config.trunk_len`` frames).

        The videos' labels are ``UNKNOWN_LABEL``: a detector never sees test labels.
        """
        ...


# Optional, found with getattr and called before any work (dfbench.preflight, dfbench.engine):
#   check(config: FitConfig) -> None   raise DfbenchError for settings the detector cannot run
#   resolved_config() -> dict          its JSON-able configuration; the hash enters the run's settings


PRECISIONS = ("fp32", "bf16", "fp16")


@runtime_checkable
class Profilable(Protocol):
    """A detector whose inference network ``dfbench profile`` can measure (parameters, FLOPs, speed).

    ``inference_network()`` returns a ``torch.nn.Module`` mapping a float batch of shape
    ``(N, *input_shape)`` to ``N`` logits, built at the detector's size with random weights;
    ``input_shape`` is one input without the batch axis: ``(3, T, H, W)`` for a clip detector,
    ``(3, H, W)`` for a frame detector.
    """

    input_shape: tuple[int, ...]

    def inference_network(self): ...


@dataclass(frozen=True)
class DetectorSpec:
    """What a plugin registers: the metadata and a factory ``build(size) -> Detector``.

    ``build`` is only called when a run needs the detector, so heavy imports belong inside it.
    """

    meta: DetectorMeta
    build: Callable[[str], Detector]
    plugin: str = ""  # filled in by the host: the plugin (distribution) it came from
