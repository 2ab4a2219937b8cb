"""What a detector is to the core: typed metadata, a factory, and a typed train/score contract.

Plugins describe each detector with :class:`DetectorMeta` (validated, cheap: listing detectors
builds no network and imports no framework) and a factory ``build(meta, size)`` that builds the
real thing on demand. ``fit`` returns a :class:`FitReport`, which the engine stores in the record
and hands back to ``score``: nothing travels through side files.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from dfbench.errors import DfbenchError

InputKind = Literal["clip", "frame"]
SIZES = ("paper", "cpu")
PRECISIONS = ("fp32", "bf16", "fp16")
# A detector's name: what --detector takes. "<source>:<ref>" names one resolved on demand by a
# detector source (``mmaction2:x3d/x3d_s_13x6x1_facebook-kinetics400-rgb``, register_detector_sources).
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SOURCED_NAME = re.compile(r"^[a-z][a-z0-9_]*:[A-Za-z0-9_][A-Za-z0-9_.+/-]{0,139}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
UNKNOWN_LABEL = -1  # what ``Detector.score`` sees in place of a test video's label


@dataclass(frozen=True)
class SizeSpec:
    """One size of a detector: the input it takes and how many parameters it has at that size.

    ``note`` says, in one line, why this size is not the usual one (e.g. an architecture that takes
    no 16x64x64 clip at the cpu size); ``dfbench run`` prints it.
    """

    clip_len: int
    crop_size: int
    parameters: int
    note: str = ""

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
    # Starting weights for the cpu size, which no published checkpoint fits: a stand-in for
    # ``checkpoint`` made by formula-driven pretraining (dfbench_mmaction.formula); --pretrained stand-in.
    stand_in: Checkpoint | None = None

    def __post_init__(self):
        if not (_NAME.match(self.name) or _SOURCED_NAME.match(self.name)):
            raise ValueError(f"detector name {self.name!r} must be lowercase letters, digits and '_' "
                             "(or '<source>:<ref>' for a detector a source resolves)")
        if self.input_kind not in ("clip", "frame"):
            raise ValueError(f"{self.name}: input_kind must be 'clip' or 'frame', got {self.input_kind!r}")
        if not self.sizes or any(s not in SIZES for s in self.sizes):
            raise ValueError(f"{self.name}: sizes must be a non-empty subset of {SIZES}, got {list(self.sizes)}")
        if not self.citation.strip():
            raise ValueError(f"{self.name}: a citation is required")
        if self.paper_parameters is not None and self.paper_parameters < 1:
            raise ValueError(f"{self.name}: paper_parameters must be a positive count, got {self.paper_parameters}")
        if not self.pretrainable and (self.checkpoint is not None or self.stand_in is not None):
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
class FitProgress:
    """One step of training, reported the same way by every detector (``FitConfig.progress``).

    ``step`` of ``total`` ``unit``s (epochs for a network, candidate settings for a grid search),
    with the validation metrics measured after it (``{"auc": 0.93, "acc": 0.88}``).
    """

    step: int
    total: int | None
    metrics: Mapping[str, float] = field(default_factory=dict)
    unit: str = "epoch"

    def line(self) -> str:
        """``epoch 3/20: val auc 0.931, val acc 0.875`` (what the CLI prints)."""
        shown = ", ".join(f"val {k} {v:.3f}" for k, v in self.metrics.items())
        total = "?" if self.total is None else self.total
        return f"{self.unit} {self.step}/{total}" + (f": {shown}" if shown else "")


def _no_progress(_: FitProgress) -> None:
    return None


@dataclass(frozen=True)
class Option:
    """One ``dfbench run --set KEY=VALUE`` a detector accepts: its type and what it changes."""

    type: type  # int, float, bool or str
    help: str


@dataclass(frozen=True)
class FitConfig:
    """Everything a detector needs to train one protocol run, decided by the core."""

    work_dir: Path  # write everything here (checkpoints, logs); nothing elsewhere
    seed: int  # seed all randomness with it
    size: str  # "paper" or "cpu"
    clip_len: int  # frames per training clip at this size (SizeSpec.clip_len)
    crop_size: int  # side of the square face crops (SizeSpec.crop_size)
    class_weights: tuple[float, float] | None  # (real, fake) loss weights; None = unweighted
    trunk_len: int  # test/val videos are scored as the mean over trunks of this many frames
    epochs: int | None = None  # --epochs; None = the detector's own schedule for this size
    launcher: str = "none"  # --launcher: none | pytorch | slurm (distributed training)
    pretrained: str | None = None  # path or URL of weights to start from (--pretrained); None = none
    pretrained_sha256: str | None = None  # the sha256 the core checked that file against, when known
    precision: str = "fp32"  # fp32 | bf16 | fp16: compute precision for training and scoring (AMP)
    frames_per_video: int | None = None  # frame detectors: training crops sampled per video (protocol)
    log_level: str = "WARNING"  # the training framework's console log level (--log-level)
    options: Mapping[str, Any] = field(default_factory=dict)  # --set KEY=VALUE, checked against Detector.options
    progress: Callable[[FitProgress], None] = field(default=_no_progress, compare=False, repr=False)


@dataclass(frozen=True)
class LoadedWeights:
    """Pretrained weights a detector loaded: where from, the sha256 of the file, what the load did.

    The record's ``checkpoint`` comes from here: the file actually loaded, not the metadata.
    """

    source: str
    sha256: str
    details: Mapping[str, Any] = field(default_factory=dict)  # JSON-able: format, tensors loaded, ...

    def to_dict(self) -> dict:
        return {"source": self.source, "sha256": self.sha256, "details": dict(self.details)}


@dataclass(frozen=True)
class FitReport:
    """What ``fit`` returns: the engine stores it in the record (``fit``) and hands it to ``score``.

    ``best_checkpoint`` is the file ``score`` loads (chosen on val, under ``work_dir``); ``history``
    has one entry per validation (an epoch, or a candidate setting) with its metrics; ``details``
    holds anything else the detector wants kept, JSON-able.
    """

    best_checkpoint: Path | None = None
    epochs: int | None = None  # epochs trained (None: not an epoch-based learner)
    best_epoch: int | None = None
    best_val_auc: float | None = None
    selected_on: str = "val"
    history: Sequence[Mapping[str, Any]] = ()
    pretrained: LoadedWeights | None = None
    parameters: int | None = None  # counted on the trained model
    train_seconds: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON-able form the record stores (``best_checkpoint`` as a string)."""
        return {
            "best_checkpoint": None if self.best_checkpoint is None else str(self.best_checkpoint),
            "epochs": self.epochs, "best_epoch": self.best_epoch, "best_val_auc": self.best_val_auc,
            "selected_on": self.selected_on, "history": [dict(h) for h in self.history],
            "pretrained": None if self.pretrained is None else self.pretrained.to_dict(),
            "parameters": self.parameters, "train_seconds": self.train_seconds, "details": dict(self.details),
        }

    def check(self, detector: str) -> None:
        """Refuse what the record could not store (not JSON, NaN), naming the detector."""
        try:
            json.dumps(self.to_dict(), allow_nan=False)
        except (TypeError, ValueError) as e:
            raise DfbenchError(f"detector {detector}: fit() report is not JSON-serialisable ({e})") from None
        if self.best_val_auc is not None and not math.isfinite(self.best_val_auc):
            raise DfbenchError(f"detector {detector}: fit() report's best_val_auc is {self.best_val_auc}")


@runtime_checkable
class Detector(Protocol):
    """A trainable detector. Scores are probabilities that a video is fake, one per video."""

    def fit(self, train: Sequence[VideoRef], val: Sequence[VideoRef], config: FitConfig) -> FitReport:
        """Train on ``train``, choose the checkpoint on ``val``; report it (the engine keeps the report)."""
        ...

    def score(self, videos: Sequence[VideoRef], config: FitConfig, fit: FitReport) -> list[float]:
        """Score each video as the mean of its trunk scores (trunks of ``config.trunk_len`` frames),
        with the model ``fit`` reported (``fit.best_checkpoint``).

        The videos' labels are ``UNKNOWN_LABEL``: a detector never sees test labels.
        """
        ...


# Optional, found with getattr and used before any work (dfbench.preflight, dfbench.engine):
#   options: Mapping[str, Option]     the --set keys it accepts; any other key is refused
#   check(config: FitConfig) -> None  raise DfbenchError for settings the detector cannot run
#   resolved_config() -> dict         its JSON-able configuration; the hash enters the run's settings


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
class ExplainTarget:
    """What Grad-CAM needs of a trained detector (``dfbench explain``).

    ``network`` is a ``torch.nn.Module`` in eval mode with the trained weights, mapping a float batch
    of face crops as the crop cache stores them (RGB, 0..255) -- ``(N, 3, T, S, S)`` for a clip
    detector, ``(N, 3, S, S)`` for a frame detector -- to ``(N, 1)`` fake logits, normalisation
    included. ``layer`` is the module inside it whose activations and gradients Grad-CAM weighs:
    the last convolutional stage (the paper's choice), named ``layer_name``.
    """

    network: Any
    layer: Any
    layer_name: str
    input_kind: InputKind
    clip_len: int  # frames per input of a clip network (the detector's training clips)


@runtime_checkable
class Explainable(Protocol):
    """A detector that can be explained by Grad-CAM: it hands over its trained network and the layer to explain."""

    def explain_target(self, config: FitConfig, fit: FitReport) -> ExplainTarget: ...


@dataclass(frozen=True)
class DetectorSpec:
    """What a plugin registers: the metadata and a factory ``build(meta, size) -> Detector``.

    ``build`` is only called when a run needs the detector, so heavy imports belong inside it; it
    receives the metadata it was registered with, so no plugin looks itself up in its own table.
    """

    meta: DetectorMeta
    build: Callable[[DetectorMeta, str], Detector]
    plugin: str = ""  # filled in by the host: the plugin (distribution) it came from

    def create(self, size: str) -> Detector:
        """The detector at ``size``: ``build(meta, size)``."""
        return self.build(self.meta, size)


@dataclass(frozen=True)
class DetectorSource:
    """Detectors named on demand: ``--detector <prefix>:<ref>`` (register_detector_sources).

    ``resolve(ref)`` returns the :class:`DetectorSpec` of one ``ref`` (imports what it needs;
    raises ``DfbenchError`` for an unknown one); ``available()`` lists the refs it offers, cheaply
    (``dfbench detectors --zoo``).
    """

    prefix: str
    resolve: Callable[[str], DetectorSpec]
    available: Callable[[], Sequence[str]]
    description: str = ""
    plugin: str = ""  # filled in by the host

    def __post_init__(self):
        if not _NAME.match(self.prefix):
            raise ValueError(f"detector source prefix {self.prefix!r} must be lowercase letters, digits and '_'")

