"""Video-level scoring: trunk scores averaged per video, and the validation AUC chosen on."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np
from mmengine.evaluator import BaseMetric
from sklearn.metrics import roc_auc_score

from dfbench_mmaction import _compat

_compat.install()

from mmaction.registry import METRICS  # noqa: E402


def video_scores(records: Iterable[tuple[int, float, int]]) -> dict[int, tuple[float, int]]:
    """``(video_index, trunk_score, label)`` records -> ``{video_index: (mean score, label)}``."""
    sums: dict[int, list] = {}
    for index, score, label in records:
        entry = sums.setdefault(int(index), [0.0, 0, int(label)])
        entry[0] += float(score)
        entry[1] += 1
    return {index: (total / count, label) for index, (total, count, label) in sums.items()}


def sample_record(sample) -> tuple[int, float, int]:
    """The ``(video_index, score, label)`` of one predicted sample (ActionDataSample or its dict)."""
    get = sample.get if isinstance(sample, dict) else (lambda k: getattr(sample, k))
    label = get("gt_label")
    return int(get("video_index")), float(get("pred_score").reshape(-1)[0]), int(label.reshape(-1)[0])


@METRICS.register_module()
class VideoAUCMetric(BaseMetric):
    """ROC AUC over videos, each scored as the mean of its trunk scores (prefix ``video``).

    Also reports ``acc``, the accuracy of thresholding video scores at 0.5. AUC is NaN (with a
    warning) when the videos hold only one class.
    """

    default_prefix = "video"

    def process(self, data_batch, data_samples) -> None:
        self.results.extend(sample_record(sample) for sample in data_samples)

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
