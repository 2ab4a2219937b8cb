"""Video-level metrics, computed with scikit-learn from per-video scores and labels.

TCR (true classification rate, the paper's accuracy) thresholds the fake probability at 0.5.
Per-method metrics score each manipulation against all real test videos.
"""

from __future__ import annotations

import math

import numpy as np

THRESHOLD = 0.5


def video_metrics(labels, scores, methods=None) -> dict:
    """TCR, AUC, EER, AP and the ROC curve; with ``methods``, the same per manipulation method."""
    from sklearn.metrics import accuracy_score, average_precision_score, roc_auc_score, roc_curve

    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    out: dict = {"n_videos": int(len(y)), "n_real": int((y == 0).sum()), "n_fake": int((y == 1).sum()),
                 "threshold": THRESHOLD, "tcr": float(accuracy_score(y, s >= THRESHOLD))}
    if len(set(y.tolist())) == 2:
        fpr, tpr, thr = roc_curve(y, s)
        out["auc"] = float(roc_auc_score(y, s))
        out["ap"] = float(average_precision_score(y, s))
        out["eer"] = equal_error_rate(fpr, tpr)
        out["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(),
                      "thresholds": [None if math.isinf(t) else float(t) for t in thr]}
    else:  # one class only: ranking metrics are undefined
        out.update(auc=None, ap=None, eer=None, roc=None)
    if methods is not None:
        m = np.asarray(methods)
        out["per_method"] = {
            str(meth): {k: v for k, v in video_metrics(y[(m == meth) | (y == 0)], s[(m == meth) | (y == 0)]).items()
                        if k in ("tcr", "auc", "n_videos")}
            for meth in sorted(set(m[y == 1].tolist()))
        }
    return out


def equal_error_rate(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """The rate where false positives equal false negatives, interpolated on the ROC curve."""
    fnr = 1 - tpr
    i = int(np.nanargmin(np.abs(fnr - fpr)))
    if i + 1 < len(fpr) and (fnr[i] - fpr[i]) * (fnr[i + 1] - fpr[i + 1]) < 0:
        d0, d1 = fnr[i] - fpr[i], fnr[i + 1] - fpr[i + 1]
        t = d0 / (d0 - d1)
        return float(fpr[i] + t * (fpr[i + 1] - fpr[i]))
    return float((fpr[i] + fnr[i]) / 2)
