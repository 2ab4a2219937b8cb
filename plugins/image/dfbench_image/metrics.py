"""The validation metric the best checkpoint is chosen on: ROC AUC over videos (prefix ``video``)."""

from __future__ import annotations

import math
import warnings

import numpy as np
from mmengine.evaluator import BaseMetric
from sklearn.metrics import roc_auc_score

from dfbench_image.frames import video_scores
from dfbench_image.registry import METRICS


def records(samples) -> list[tuple[int, int, float, int]]:
    """Prediction dicts (``FrameClassifier``'s) -> ``(video_index, trunk_index, score, label)`` records."""
    return [(int(s["video_index"]), int(s["trunk_index"]), float(s["score"]), int(s["label"])) for s in samples]


@METRICS.register_module()
class VideoAUCMetric(BaseMetric):
    """AUC of video scores (mean over trunks of the mean frame probability), and their accuracy at 0.5.

    AUC is NaN (with a warning) when the videos hold one class only.
    """

    default_prefix = "video"

    def process(self, data_batch, data_samples) -> None:
        self.results.extend(records(data_samples))

    def compute_metrics(self, results: list) -> dict:
        per_video = video_scores(results)
        scores = np.array([s for s, _ in per_video.values()])
        labels = np.array([lab for _, lab in per_video.values()])
        if len(set(labels.tolist())) < 2:
            warnings.warn("validation videos hold one class only: AUC is undefined", stacklevel=2)
            auc = math.nan
        else:
            auc = float(roc_auc_score(labels, scores))
        return dict(auc=auc, acc=float(((scores >= 0.5) == labels).mean()))
