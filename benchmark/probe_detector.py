"""``shortcut_probe``: the shortcut probe as a detector, so every leaderboard table shows what cheap
hand-made features reach on its own test videos.

It reads the face crops every detector reads, computes the probe's crop features per trunk
(:data:`dfbench.probe.CROP_FEATURES`: colour, sharpness, change over time of the face, its mouth and
eyes; up to :data:`FRAMES_PER_TRUNK` evenly spaced frames of each trunk) and fits a standardised
logistic regression on the training trunks, with the protocol's class weights and ``C`` chosen on the
validation videos' AUC. A video's score is the mean over its trunks, as for every detector. A detector
that does not beat this row has learnt nothing a reviewer could write down in an afternoon
(docs/synthetic-data.md). No torch: numpy, OpenCV and scikit-learn; the model is saved as plain arrays
(``.npz``, read with ``allow_pickle=False``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dfbench.clips import trunks
from dfbench.detector import DetectorMeta, DetectorSpec, FitConfig, FitProgress, FitReport, SizeSpec, VideoRef
from dfbench.errors import DfbenchError
from dfbench.hookspecs import hookimpl
from dfbench.probe import CROP_FEATURES

NAME = "shortcut_probe"
FRAMES_PER_TRUNK = 32  # the probe's MAX_FRAMES: its features are means over frames
C_GRID = (0.01, 0.1, 1.0, 10.0)
MODEL_FILE = "shortcut_probe.npz"
_PARAMETERS = len(CROP_FEATURES) + 1  # one weight per feature and a bias
# Under the leaderboard's tables when they hold a shortcut_probe row.
BOARD_NOTE = (f"`{NAME}` is not a deepfake detector but the floor: {len(CROP_FEATURES)} hand-made features of "
              "the same face crops (colour, sharpness, change over time of face, mouth and eyes) and a logistic "
              "regression (dfbench.probe_detector). A detector whose cell is not above it has learnt nothing a "
              "reviewer could write down in an afternoon; a table where it is bold cannot rank detectors.")

META = DetectorMeta(
    name=NAME,
    family="shortcut-probe",
    input_kind="clip",
    sizes={"paper": SizeSpec(FRAMES_PER_TRUNK, 112, _PARAMETERS), "cpu": SizeSpec(FRAMES_PER_TRUNK, 64, _PARAMETERS)},
    citation="dfbench's shortcut probe (docs/synthetic-data.md): hand-made per-video features and a logistic "
             "regression, the floor a detector must clear",
    pretrainable=False,
    description=f"Not a deepfake detector: {len(CROP_FEATURES)} hand-made features of the face crops (colour, "
                "sharpness, temporal change of face, mouth and eyes) and a logistic regression, C chosen on val.",
)


def _trunk_rows(video: VideoRef, trunk_len: int) -> np.ndarray:
    """(trunks, features): the crop features of each trunk's evenly spaced frames."""
    from dfbench.probe import crop_features

    crops = np.load(video.crops, mmap_mode="r")
    n = min(video.num_frames, len(crops))
    if n < 1:
        raise DfbenchError(f"{video.crops}: no face crops for {video.key}; run `dfbench preprocess` again")
    rows = []
    for start, end in trunks(n, trunk_len):
        idx = np.unique(np.linspace(start, end - 1, min(end - start, FRAMES_PER_TRUNK)).round().astype(int))
        rows.append(crop_features(np.asarray(crops[idx])))
    return np.stack(rows)


def features(videos: Sequence[VideoRef], trunk_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, video index of each row) over ``videos``."""
    per_video = [_trunk_rows(v, trunk_len) for v in videos]
    owner = np.concatenate([np.full(len(r), i) for i, r in enumerate(per_video)])
    return np.concatenate(per_video), owner


def video_means(probs: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Each video's score: the mean of its trunks' probabilities."""
    return np.bincount(owner, weights=probs, minlength=n) / np.maximum(np.bincount(owner, minlength=n), 1)


def save_model(path: Path, mean, scale, coef, intercept, C: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, mean=mean, scale=scale, coef=np.ravel(coef), intercept=np.ravel(intercept), C=np.float64(C),
             features=np.array(CROP_FEATURES))
    tmp.replace(path)
    return path


def load_model(path: Path) -> dict[str, np.ndarray]:
    """The saved arrays, never unpickled; a model of other features is refused."""
    with np.load(path, allow_pickle=False) as z:
        model = {k: z[k] for k in z.files}
    if tuple(model.get("features", ())) != CROP_FEATURES:
        raise DfbenchError(f"{path}: a shortcut_probe model of other features; train it again with this dfbench")
    return model


def predict(model: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    z = (rows - model["mean"]) / model["scale"] @ model["coef"] + model["intercept"][0]
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


class ShortcutProbe:
    """Crop features per trunk and a logistic regression (see the module doc)."""

    options: dict = {}

    def __init__(self, meta: DetectorMeta, size: str):
        self.meta, self.name, self.size = meta, meta.name, size

    def resolved_config(self) -> dict:
        """What the probe computes and fits; its hash enters every record's settings."""
        return {"features": list(CROP_FEATURES), "frames_per_trunk": FRAMES_PER_TRUNK, "C_grid": list(C_GRID),
                "classifier": "StandardScaler + LogisticRegression(lbfgs, max_iter=5000)"}

    def check(self, config: FitConfig) -> None:
        if config.size != self.size:
            raise DfbenchError(f"{self.name}: built for size {self.size!r}, asked to run at {config.size!r}")
        if config.pretrained:
            raise DfbenchError(f"{self.name} has no pretrained weights (hand-made features); leave --pretrained out")

    def fit(self, train: Sequence[VideoRef], val: Sequence[VideoRef], config: FitConfig) -> FitReport:
        """Features of every training and validation trunk; a regression per C; the C with the best val AUC."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score

        self.check(config)
        for split, videos in (("training", train), ("validation", val)):
            if len({v.label for v in videos}) < 2:
                raise DfbenchError(f"{self.name}: the {split} split needs real and fake videos")
        start = time.perf_counter()
        x_train, owner = features(train, config.trunk_len)
        y_train = np.array([train[i].label for i in owner])
        x_val, val_owner = features(val, config.trunk_len)
        mean, scale = x_train.mean(0), x_train.std(0)
        scale = np.where(scale > 0, scale, 1.0)
        weights = None if config.class_weights is None else dict(enumerate(map(float, config.class_weights)))
        history, best = [], None
        for step, C in enumerate(C_GRID, 1):
            lr = LogisticRegression(C=C, class_weight=weights, max_iter=5000)
            lr.fit((x_train - mean) / scale, y_train)
            model = {"mean": mean, "scale": scale, "coef": lr.coef_.ravel(), "intercept": lr.intercept_.ravel()}
            scores = video_means(predict(model, x_val), val_owner, len(val))
            auc = float(roc_auc_score([v.label for v in val], scores))
            history.append({"C": C, "auc": auc})
            config.progress(FitProgress(step, len(C_GRID), {"auc": auc}, unit="C candidate"))
            if best is None or auc > best[0]:
                best = (auc, C, model)
        auc, C, model = best
        path = save_model(Path(config.work_dir).resolve() / MODEL_FILE, model["mean"], model["scale"], model["coef"],
                          model["intercept"], C)
        return FitReport(best_checkpoint=path, best_val_auc=auc, history=history, parameters=_PARAMETERS,
                         train_seconds=round(time.perf_counter() - start, 3),
                         details={"best_C": C, "features": list(CROP_FEATURES), "train_trunks": int(len(y_train))})

    def score(self, videos: Sequence[VideoRef], config: FitConfig, fit: FitReport) -> list[float]:
        """Each video's score: the mean over its trunks of the fitted regression's probability."""
        self.check(config)
        if not videos:
            return []
        path = fit.best_checkpoint
        if path is None or not Path(path).is_file():
            raise DfbenchError(f"{path}: the shortcut_probe model of the fit report is missing; run fit before score")
        rows, owner = features(videos, config.trunk_len)
        return [float(s) for s in video_means(predict(load_model(Path(path)), rows), owner, len(videos))]


def build(meta: DetectorMeta, size: str) -> ShortcutProbe:
    return ShortcutProbe(meta, size)


@hookimpl
def register_detectors(register) -> None:
    """The core's one detector: the shortcut probe (a floor for the leaderboard, not a deepfake detector)."""
    register(DetectorSpec(meta=META, build=build))
