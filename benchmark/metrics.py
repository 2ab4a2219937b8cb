"""Video-level metrics, computed with scikit-learn from per-video scores and labels.

TCR (true classification rate, the paper's accuracy) thresholds the fake probability at 0.5.
Per-method metrics score each manipulation against all real test videos.

With the videos' FF++ pairs, every headline figure also gets a 95% pair-clustered bootstrap
interval, and the record says how it was made (``ci``); operating points (TPR at low FPR, the
validation-chosen threshold) and calibration (Brier, log loss, ECE) come from
``dfbench.uncertainty``. docs/metrics.md explains each figure.
"""

from __future__ import annotations

import math

import numpy as np

THRESHOLD = 0.5
CI_STATS = ("auc", "tcr", "eer", "ap")  # the figures that get an interval
PER_METHOD_CI_STATS = ("auc", "tcr")


def video_metrics(labels, scores, methods=None, pairs=None, val_labels=None, val_scores=None,
                  n_resamples: int = 2000, seed: int = 0) -> dict:
    """TCR, AUC, EER, AP and the ROC curve; with ``methods``, TCR and AUC per manipulation method.

    Always added: ``tpr_at_fpr`` (None with one class), ``brier``, ``log_loss``, ``ece`` (None when
    a score lies outside [0, 1]), and ``auc_ci95``, ``tcr_ci95``, ``eer_ci95``, ``ap_ci95`` with
    their ``ci`` description: ``[low, high]`` from ``dfbench.uncertainty.pair_bootstrap`` when
    ``pairs`` (each video's FF++ pair id) is given and both classes are present, else None.
    ``per_method`` entries gain ``auc_ci95`` and ``tcr_ci95`` only when ``pairs`` is given, so
    without pairs they keep exactly their three keys. With ``val_labels`` and ``val_scores``:
    ``val_threshold`` (chosen on validation) and ``acc_at_val_threshold`` (test accuracy there);
    else, or when the validation videos hold one class only, both None.

    Deterministic: the bootstrap's resamples come from ``seed``, and the result does not depend
    on the order of the videos. About 0.3 s for FF++'s 700 test videos.
    """
    from sklearn.metrics import accuracy_score, average_precision_score, roc_auc_score, roc_curve

    from dfbench import uncertainty as unc

    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    both = len(set(y.tolist())) == 2
    out: dict = {"n_videos": int(len(y)), "n_real": int((y == 0).sum()), "n_fake": int((y == 1).sum()),
                 "threshold": THRESHOLD, "tcr": float(accuracy_score(y, s >= THRESHOLD))}
    if both:
        fpr, tpr, thr = roc_curve(y, s)
        out["auc"] = float(roc_auc_score(y, s))
        out["ap"] = float(average_precision_score(y, s))
        out["eer"] = equal_error_rate(fpr, tpr)
        out["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(),
                      "thresholds": [None if math.isinf(t) else float(t) for t in thr]}
    else:  # one class only: ranking metrics are undefined
        out.update(auc=None, ap=None, eer=None, roc=None)

    out.update(_intervals(y, s, pairs, CI_STATS, n_resamples, seed, with_description=True))
    out["tpr_at_fpr"] = unc.tpr_at_fpr(y, s) if both else None
    probabilities = len(s) > 0 and bool(np.all((s >= 0) & (s <= 1)))
    out["brier"] = unc.brier(y, s) if probabilities else None
    out["log_loss"] = unc.log_loss(y, s) if probabilities else None
    out["ece"] = unc.ece(y, s) if probabilities else None
    out["val_threshold"] = out["acc_at_val_threshold"] = None
    if val_labels is not None and val_scores is not None and len(set(np.asarray(val_labels, int).tolist())) == 2:
        out["val_threshold"] = unc.val_threshold(val_labels, val_scores)
        out["acc_at_val_threshold"] = unc.accuracy_at(y, s, out["val_threshold"])

    if methods is not None:
        m = np.asarray(methods)
        p = None if pairs is None else np.asarray([str(x) for x in pairs])
        out["per_method"] = {}
        for meth in sorted(set(m[y == 1].tolist())):
            sel = (m == meth) | (y == 0)
            ys, ss = y[sel], s[sel]
            entry = {"n_videos": int(sel.sum()), "tcr": float(accuracy_score(ys, ss >= THRESHOLD)),
                     "auc": float(roc_auc_score(ys, ss)) if len(set(ys.tolist())) == 2 else None}
            if p is not None:
                entry.update(_intervals(ys, ss, p[sel], PER_METHOD_CI_STATS, n_resamples, seed))
            out["per_method"][str(meth)] = entry
    return out


def _intervals(y, s, pairs, stats, n_resamples: int, seed: int, with_description: bool = False) -> dict:
    """``{stat}_ci95`` for each statistic (and ``ci``, the resampling's description, if asked):
    pair-bootstrap intervals with pairs and both classes, else None."""
    from dfbench.uncertainty import pair_bootstrap

    out: dict = {f"{k}_ci95": None for k in stats}
    if with_description:
        out["ci"] = None
    if pairs is None or len(set(np.asarray(y).tolist())) != 2:
        return out
    boot = pair_bootstrap(y, s, pairs, stats, n_resamples=n_resamples, seed=seed)
    ci95 = boot.pop("ci95")
    out.update({f"{k}_ci95": ci95[k] for k in stats})
    if with_description:
        out["ci"] = boot
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
