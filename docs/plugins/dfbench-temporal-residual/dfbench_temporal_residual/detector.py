"""Hand-crafted face-crop features and a logistic regression whose strength is chosen on val.

Face manipulations are made frame by frame and blended into the target face, so the centre of
the crop flickers over time and differs from its surround in sharpness and colour.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from dfbench.clips import trunks
from dfbench.detector import FitProgress, FitReport
from dfbench.errors import DfbenchError

C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)  # inverse regularisation strengths tried on val
MODEL = "model.npz"


def trunk_features(frames: np.ndarray) -> np.ndarray:
    """Ten numbers for the centre of the crop and ten for the ring around it, from (T, S, S, 3) uint8."""
    x = frames.astype(np.float32) / 255
    gray = x.mean(axis=-1)
    laplacian = np.abs(4 * gray[:, 1:-1, 1:-1] - gray[:, :-2, 1:-1] - gray[:, 2:, 1:-1]
                       - gray[:, 1:-1, :-2] - gray[:, 1:-1, 2:])
    if len(gray) == 1:  # a one-frame trunk has no residual: count it as still
        gray, laplacian = np.repeat(gray, 2, axis=0), np.repeat(laplacian, 2, axis=0)
    residual = np.abs(np.diff(gray, axis=0))
    edge_change = np.abs(np.diff(laplacian, axis=0))
    s = gray.shape[1]
    centre = np.zeros((s, s), bool)  # the middle half: inside the face, where a manipulation paints
    centre[s // 4 : s - s // 4, s // 4 : s - s // 4] = True
    feats = []
    for region in (centre, ~centre):  # the ring holds the blending boundary and the background
        inner = region[1:-1, 1:-1]  # the Laplacian has no value on the crop's outermost pixels
        per_frame = residual[:, region].mean(axis=1)
        feats += [np.log(per_frame.mean() + 1e-4),  # motion and re-synthesis noise
                  np.log(per_frame.std() + 1e-4),  # flicker: how unsteady that is over time
                  np.log(laplacian[:, inner].mean() + 1e-4),  # high-frequency detail
                  np.log(edge_change[:, inner].mean() + 1e-4),  # edges that move: a wobbling seam
                  *x[:, region].mean(axis=(0, 1)), *x[:, region].std(axis=(0, 1))]  # colour
    return np.array(feats, np.float64)


def video_features(video, trunk_len: int) -> np.ndarray:
    """One feature row per trunk of the video (the core's rule for where trunks fall)."""
    crops = np.load(video.crops, mmap_mode="r")
    return np.stack([trunk_features(crops[a:b]) for a, b in trunks(video.num_frames, trunk_len)])


def fake_probability(features: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    """The logistic model's probability of 'fake' for each row of features."""
    return 1 / (1 + np.exp(-np.clip(features @ coef + intercept, -50, 50)))


class TemporalResidual:
    """Fits on trunks of the train videos; scores a video as the mean fake probability of its trunks."""

    def fit(self, train, val, config) -> FitReport:
        per_video = [video_features(v, config.trunk_len) for v in train]
        X = np.concatenate(per_video)
        y = np.concatenate([[v.label] * len(f) for v, f in zip(train, per_video, strict=True)])
        val_X = [video_features(v, config.trunk_len) for v in val]
        val_y = [v.label for v in val]
        if len(set(val_y)) < 2:
            raise DfbenchError("temporal_residual chooses its regularisation on val: give val real and fakes")
        scaler = StandardScaler().fit(X)
        weights = dict(enumerate(config.class_weights)) if config.class_weights else None
        best, history = None, []
        for step, C in enumerate(C_GRID, 1):  # checkpoint selection: the val split decides, never test
            model = LogisticRegression(C=C, class_weight=weights, max_iter=1000).fit(scaler.transform(X), y)
            coef = model.coef_[0] / scaler.scale_  # fold the scaling into the coefficients
            intercept = float(model.intercept_[0] - coef @ scaler.mean_)
            auc = float(roc_auc_score(val_y, [fake_probability(f, coef, intercept).mean() for f in val_X]))
            history.append({"C": C, "auc": auc})
            config.progress(FitProgress(step, len(C_GRID), {"auc": auc}, unit="C candidate"))
            if best is None or auc > best["val_auc"]:
                best = {"C": C, "val_auc": auc, "coef": coef, "intercept": intercept}
        config.work_dir.mkdir(parents=True, exist_ok=True)
        np.savez(config.work_dir / MODEL, coef=best["coef"], intercept=best["intercept"])
        return FitReport(best_checkpoint=config.work_dir / MODEL, best_val_auc=best["val_auc"], history=history,
                         parameters=len(coef) + 1, details={"C": best["C"], "train_trunks": len(y)})

    def score(self, videos, config, fit: FitReport) -> list[float]:
        model = np.load(fit.best_checkpoint)  # the file fit() reported; plain arrays: no pickle is ever loaded
        return [float(fake_probability(video_features(v, config.trunk_len), model["coef"],
                                       float(model["intercept"])).mean()) for v in videos]
