"""Video-level metrics against hand-computed values."""

import numpy as np
import pytest

from dfbench.metrics import equal_error_rate, video_metrics


def test_tcr_auc_on_known_scores():
    labels = [0, 0, 0, 1, 1, 1, 1, 1]
    scores = [0.1, 0.4, 0.6, 0.3, 0.7, 0.8, 0.9, 0.95]
    m = video_metrics(labels, scores)
    assert m["tcr"] == pytest.approx(6 / 8)  # 0.6 (real) and 0.3 (fake) are wrong at 0.5
    # AUC: pairs (real, fake) ranked right: 0.1 < all 5; 0.4 < 4 of 5 (not 0.3); 0.6 < 4 of 5 -> 13/15
    assert m["auc"] == pytest.approx(13 / 15)
    assert m["n_real"] == 3 and m["n_fake"] == 5
    assert m["roc"]["thresholds"][0] is None  # sklearn's +inf, stored JSON-safe
    assert 0 <= m["eer"] <= 0.5


def test_per_method_scores_each_method_against_all_reals():
    labels = [0, 0, 1, 1, 1, 1]
    scores = [0.2, 0.3, 0.9, 0.8, 0.1, 0.25]
    methods = ["original", "original", "Deepfakes", "Deepfakes", "FaceSwap", "FaceSwap"]
    pm = video_metrics(labels, scores, methods)["per_method"]
    assert pm["Deepfakes"] == {"n_videos": 4, "tcr": 1.0, "auc": 1.0}
    assert pm["FaceSwap"]["tcr"] == 0.5 and pm["FaceSwap"]["auc"] == pytest.approx(0.25)


def test_single_class_has_no_auc():
    m = video_metrics([1, 1], [0.7, 0.2])
    assert m["tcr"] == 0.5 and m["auc"] is None and m["roc"] is None


def test_eer_interpolates_crossing():
    fpr = np.array([0.0, 0.0, 0.5, 1.0])
    tpr = np.array([0.0, 0.5, 1.0, 1.0])
    assert equal_error_rate(fpr, tpr) == pytest.approx(0.25)
