"""Video-level scores, the one rule for every MMEngine detector: frames or clips -> trunks -> video.

A prediction is recorded as ``(video_index, trunk, score, label)``; a trunk scores the mean of its
predictions (one for a 3D CNN fed the whole trunk, several for frames or fixed-length clips), a
video the mean of its trunks (:func:`video_scores`). :class:`VideoAUCMetric`, the metric every
checkpoint is chosen on, is registered in MMEngine's root ``METRICS``, so every scope finds it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS
from sklearn.metrics import roc_auc_score

Record = tuple[int, int, float, int]  # (video_index, trunk, score, label)


def sample_record(sample) -> Record:
    """The record of one prediction: an MMAction2 ``ActionDataSample`` (or its dict: ``pred_score``,
    ``gt_label``, metainfo ``video_index`` and ``trunk``) or a plain dict with ``video_index``,
    ``trunk_index``, ``score`` and ``label`` (the image plugin's ``FrameClassifier``)."""
    d = sample if isinstance(sample, dict) else sample.to_dict()
    if "pred_score" in d:
        trunk = d.get("trunk")
        return (int(d["video_index"]), 0 if trunk is None else int(trunk[0]), float(d["pred_score"].reshape(-1)[0]),
                int(d["gt_label"].reshape(-1)[0]))
    return int(d["video_index"]), int(d.get("trunk_index", 0)), float(d["score"]), int(d["label"])


def video_scores(records: Iterable[Record]) -> dict[int, tuple[float, int]]:
    """``(video_index, trunk, score, label)`` records -> ``{video_index: (score, label)}``: a trunk
    scores the mean of its records, a video the mean of its trunks."""
    per_trunk: dict[int, dict[int, list[float]]] = {}
    labels: dict[int, int] = {}
    for video, trunk, score, label in records:
        per_trunk.setdefault(int(video), {}).setdefault(int(trunk), []).append(float(score))
        labels[int(video)] = int(label)
    return {video: (float(np.mean([np.mean(s) for s in trunks.values()])), labels[video])
            for video, trunks in per_trunk.items()}


@METRICS.register_module()
class VideoAUCMetric(BaseMetric):
    """ROC AUC over videos (prefix ``video``), each scored by :func:`video_scores`; also ``acc``, the
    accuracy of thresholding video scores at 0.5. AUC is NaN (with a warning) for one class only."""

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
