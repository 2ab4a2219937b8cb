"""Steganalysis features + linear SVM (Fridrich and Kodovsky 2012), the paper's "Steg. Features + SVM".

**Features** (:class:`SRMFeatures`): a documented subset of the spatial rich model (SRM), its
linear ("spam") submodels at quantisation q = 1 (SRMQ1's step, q*c for a kernel of scale c),
truncation T = 2 and 4th-order co-occurrences, on the integer grey image:

* residual kinds ``1st``, ``2nd``, ``3rd``, ``edge3x3`` (directional: a row and a column version)
  and ``square3x3``, ``square5x5`` (one version);
* a directional kind gives two co-occurrence sets, ``along`` (the row residual scanned along rows
  plus the column residual along columns) and ``across`` (the other two scans); a square kind one
  (its row and column scans summed), as SRM's ``spam14h/v`` and ``spam11`` submodels do;
* each set is symmetrised (sign flip and reversal merged: 625 bins -> 169) and divided by its count.

That is 6 kinds, 10 sets, 1,690 features, against SRM's 34,671: the non-linear ``minmax``
submodels and the q = 1.5 and 2 copies are left out, which costs SRM a little accuracy in
steganalysis while keeping extraction fast enough to run on every training frame. The features
are exact integer counts computed in torch (float64 residuals of integer taps, ``bincount``), so
the same frame gives the same bytes on any machine and thread count.

**Classifier**: features standardised on the training frames, a linear SVM (scikit-learn's
``LinearSVC``, class-weighted as the protocol says), its ``C`` chosen from :data:`C_GRID` by the
video AUC on the validation split. A frame's fake probability is ``sigmoid(w . x + b)``: the SVM's
own decision boundary maps to 0.5, so TCR at 0.5 is the SVM's decision, and AUC is unaffected by
the (monotone) map. The model is saved as plain arrays (``.npz``, read with
``allow_pickle=False``), never pickled.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dfbench.detector import DetectorMeta, FitConfig, FitProgress, FitReport, Option, VideoRef
from dfbench.errors import DfbenchError
from dfbench.results import write_atomic
from dfbench_image import residuals as R
from dfbench_image.data import read_frames
from dfbench_image.frames import training_frames, trunk_frames, video_scores

SRM_SUBSET = ("1st", "2nd", "3rd", "edge3x3", "square3x3", "square5x5")
C_GRID = (0.01, 0.1, 1.0, 10.0)
MODEL_FILE = "steg_svm.npz"
BATCH = 64  # frames per feature batch
PROGRESS_STEPS = 10  # extraction reports this many times per split


class SRMFeatures(nn.Module):
    """(N, 3, S, S) RGB with 0-255 integer values -> (N, D) float64 SRM-subset features (see the module doc)."""

    def __init__(self, kinds: Sequence[str] = SRM_SUBSET, q: float = 1.0, T: int = 2):
        super().__init__()
        unknown = [k for k in kinds if k not in R.KERNELS]
        if unknown:
            raise ValueError(f"unknown residual kinds {unknown}; known: {', '.join(R.KERNELS)}")
        self.kinds, self.q, self.T = tuple(kinds), float(q), int(T)
        self.register_buffer("classes", R.symmetry_classes(self.T), persistent=False)
        self.n_classes = int(self.classes.max()) + 1

    @property
    def dim(self) -> int:
        return self.n_classes * sum(2 if R.KERNELS[k][2] else 1 for k in self.kinds)

    def _symmetrised(self, counts: torch.Tensor) -> torch.Tensor:
        counts = counts.to(torch.float64)
        out = counts.new_zeros(len(counts), self.n_classes).index_add_(1, self.classes, counts)
        return out / out.sum(1, keepdim=True)

    def _quantised(self, grey: torch.Tensor, kind: str, transpose: bool) -> torch.Tensor:
        residual = F.conv2d(grey, R.kernel(kind, transpose).to(grey.device))
        return R.quantize(residual, self.q * R.KERNELS[kind][1], self.T)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grey = R.integer_luma(x)
        feats = []
        for kind in self.kinds:
            cooc = lambda q, d: R.cooccurrence_counts(q, self.T, d)  # noqa: E731
            if R.KERNELS[kind][2]:
                rows, cols = self._quantised(grey, kind, False), self._quantised(grey, kind, True)
                feats.append(self._symmetrised(cooc(rows, "h") + cooc(cols, "v")))  # along
                feats.append(self._symmetrised(cooc(rows, "v") + cooc(cols, "h")))  # across
            else:
                q = self._quantised(grey, kind, False)
                feats.append(self._symmetrised(cooc(q, "h") + cooc(q, "v")))
        return torch.cat(feats, 1)


class SteganalysisNetwork(nn.Module):
    """Features, standardisation and the linear SVM as one module: frames (0-255) -> N decision values.

    What ``dfbench profile`` measures, and what ``score`` runs; ``load`` fills it from a saved model.
    """

    def __init__(self, features: SRMFeatures | None = None):
        super().__init__()
        self.features = features or SRMFeatures()
        d = self.features.dim
        self.register_buffer("mean", torch.zeros(d, dtype=torch.float64))
        self.register_buffer("scale", torch.ones(d, dtype=torch.float64))
        self.linear = nn.Linear(d, 1).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear((self.features(x) - self.mean) / self.scale).reshape(-1)


def save_model(path: Path, features: SRMFeatures, mean, scale, coef, intercept, C: float) -> Path:
    """The trained SVM as plain arrays (no pickle), written atomically (dfbench.results.write_atomic)."""
    buffer = io.BytesIO()
    np.savez(buffer, kinds=np.array(features.kinds), q=np.float64(features.q), T=np.int64(features.T),
             mean=np.asarray(mean, np.float64), scale=np.asarray(scale, np.float64),
             coef=np.asarray(coef, np.float64).reshape(-1), intercept=np.float64(np.ravel(intercept)[0]),
             C=np.float64(C))
    write_atomic(path, buffer.getvalue())
    return path


def load_model(path: Path) -> SteganalysisNetwork:
    """A :class:`SteganalysisNetwork` from :func:`save_model`'s file (read with ``allow_pickle=False``)."""
    with np.load(path, allow_pickle=False) as z:
        features = SRMFeatures([str(k) for k in z["kinds"]], float(z["q"]), int(z["T"]))
        net = SteganalysisNetwork(features)
        if z["coef"].shape != (features.dim,):
            raise DfbenchError(f"{path}: holds {z['coef'].shape[0]} weights for {features.dim} features; "
                               "it was not written by this version of steg_svm, run fit again")
        net.mean.copy_(torch.from_numpy(z["mean"]))
        net.scale.copy_(torch.from_numpy(z["scale"]))
        with torch.no_grad():
            net.linear.weight.copy_(torch.from_numpy(z["coef"])[None])
            net.linear.bias.fill_(float(z["intercept"]))
    return net.eval()


def frame_batches(videos: Sequence[VideoRef], frames_of, crop_size: int):
    """Yield ``(frames (k, 3, S, S) float64 tensor, [(video_index, group_index, label), ...])`` batches.

    ``frames_of(video) -> list of index arrays`` (one per group: a trunk, or one group for training).
    """
    pending, meta = [], []
    for vi, video in enumerate(videos):
        for gi, indices in enumerate(frames_of(video)):
            frames = read_frames(video.crops, indices, crop_size)
            pending.append(frames)
            meta += [(vi, gi, int(video.label))] * len(frames)
            while sum(len(p) for p in pending) >= BATCH:
                stacked = np.concatenate(pending)
                yield _tensor(stacked[:BATCH]), meta[:BATCH]
                pending, meta = [stacked[BATCH:]], meta[BATCH:]
    if meta:
        yield _tensor(np.concatenate(pending)), meta


def _tensor(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames).permute(0, 3, 1, 2).to(torch.float64)


def extract(features: nn.Module, videos, frames_of, crop_size: int,
            progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, list]:
    """Features of every chosen frame, and each frame's ``(video_index, group_index, label)``.

    ``progress(done, total)`` is told every tenth of the videos (and at the end): extracting a training
    split's features is most of a fit's time, and a run that says nothing for many minutes looks hung.
    """
    xs, meta = [], []
    total, told = len(videos), 0
    every = max(total // PROGRESS_STEPS, 1)
    with torch.no_grad():
        for batch, m in frame_batches(videos, frames_of, crop_size):
            xs.append(features(batch).numpy())
            meta += m
            done = meta[-1][0]  # videos before the last one in this batch are complete
            if progress and done - told >= every:
                told = done
                progress(done, total)
    if progress and told < total:
        progress(total, total)
    return np.concatenate(xs), meta


def _sigmoid(d: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(d, -50, 50)))


def _video_auc(meta, probs) -> float:
    from sklearn.metrics import roc_auc_score

    per_video = video_scores((v, g, p, lab) for (v, g, lab), p in zip(meta, probs))
    scores = [s for s, _ in per_video.values()]
    labels = [lab for _, lab in per_video.values()]
    return float(roc_auc_score(labels, scores))


class StegSVMDetector:
    """SRM-subset features of face-crop frames with a linear SVM; ``C`` chosen on the validation videos."""

    options = {"frames_per_trunk": Option(int, "score this many evenly spaced frames of each trunk, not all")}

    def __init__(self, meta: DetectorMeta, size: str):
        self.meta, self.name, self.size = meta, meta.name, size
        self.spec = meta.sizes[size]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (3, self.spec.crop_size, self.spec.crop_size)

    def inference_network(self) -> nn.Module:
        """Features + standardisation + linear layer (random weights), frames with 0-255 values to N logits."""
        net = SteganalysisNetwork()
        nn.init.normal_(net.linear.weight, std=0.01)
        return net.eval()

    def check(self, config: FitConfig) -> None:
        """Refuse settings steg_svm cannot run (another size, pretrained weights), before any work."""
        if config.size != self.size:
            raise DfbenchError(f"{self.name}: built for size {self.size!r}, asked to run at {config.size!r}")
        if config.pretrained:
            raise DfbenchError(f"{self.name} has no pretrained weights (hand-crafted features and an SVM); "
                               "leave --pretrained out")

    def fit(self, train: Sequence[VideoRef], val: Sequence[VideoRef], config: FitConfig) -> FitReport:
        """Features of the protocol's training frames, an SVM per C, the C with the best val video AUC."""
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import LinearSVC

        self.check(config)
        if len({v.label for v in val}) < 2:
            raise DfbenchError(f"{self.name}: the validation split needs real and fake videos to choose C by AUC")
        if len({v.label for v in train}) < 2:
            raise DfbenchError(f"{self.name}: the training split needs real and fake videos")
        start = time.perf_counter()
        features = SRMFeatures()

        def told(split: str):
            return lambda i, n: config.progress(FitProgress(i, n, unit=f"{split} video's features"))

        x_train, meta_train = extract(
            features, train, lambda v: [training_frames(v.num_frames, config.frames_per_video, config.seed, v.key)],
            config.crop_size, told("training"))
        y_train = np.array([lab for _, _, lab in meta_train])
        per_trunk = config.options.get("frames_per_trunk")
        x_val, meta_val = extract(features, val, lambda v: trunk_frames(v.num_frames, config.trunk_len, per_trunk),
                                  config.crop_size, told("validation"))
        scaler = StandardScaler().fit(x_train)
        x_train_s, x_val_s = scaler.transform(x_train), scaler.transform(x_val)
        weights = None if config.class_weights is None else dict(enumerate(map(float, config.class_weights)))
        history, best = [], None
        for step, C in enumerate(C_GRID, 1):
            svm = LinearSVC(C=C, class_weight=weights, dual=False, max_iter=5000, random_state=config.seed)
            svm.fit(x_train_s, y_train)
            auc = _video_auc(meta_val, _sigmoid(svm.decision_function(x_val_s)))
            history.append(dict(C=C, auc=auc))
            config.progress(FitProgress(step, len(C_GRID), {"auc": auc}, unit="C candidate"))
            if best is None or auc > best[0]:
                best = (auc, C, svm)
        auc, C, svm = best
        work_dir = Path(config.work_dir).resolve()
        model_path = save_model(work_dir / MODEL_FILE, features, scaler.mean_, scaler.scale_, svm.coef_,
                                svm.intercept_, C)
        return FitReport(best_checkpoint=model_path, best_val_auc=auc, history=history, parameters=features.dim + 1,
                         train_seconds=round(time.perf_counter() - start, 3),
                         details=dict(best_C=C, features=features.dim, srm_subset=list(features.kinds),
                                      train_frames=len(y_train), frames_per_video=config.frames_per_video))

    def score(self, videos: Sequence[VideoRef], config: FitConfig, fit: FitReport) -> list[float]:
        """Each video's score: the mean over trunks of the mean frame ``sigmoid(SVM decision)``, with the
        SVM ``fit`` reported."""
        self.check(config)
        if not videos:
            return []
        path = fit.best_checkpoint
        if path is None or not Path(path).is_file():
            raise DfbenchError(f"{path}: the SVM of the fit report is missing; run fit before score")
        net = load_model(Path(path))
        per_trunk = config.options.get("frames_per_trunk")
        decisions, meta = extract(net, videos, lambda v: trunk_frames(v.num_frames, config.trunk_len, per_trunk),
                                  config.crop_size)
        per_video = video_scores((v, g, p, lab) for (v, g, lab), p in zip(meta, _sigmoid(decisions)))
        return [per_video[i][0] for i in range(len(videos))]
