"""The shortcut probe: how far cheap hand-made per-video features get on a dataset.

A dataset that a detector is ranked on must not be separable by a trick: a file size, a mean
colour, a blur level that only fakes have. The probe computes a few dozen such features per video
(colour, sharpness, noise, blockiness, temporal change, each over the frame, the face box and its
parts; the file's size), fits a logistic regression on the train split under each protocol run
(``all``, ``single``, ``cross``), and reports its test AUC, the best single feature, and the AUC of
the file size alone. A detector that does not beat these numbers clearly has learnt nothing a
reviewer could not write down in an afternoon. ``dfbench data probe ROOT`` prints them; a test
gates the embedded synthetic set on them (docs/synthetic-data.md).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dfbench import splits as S
from dfbench.layout import METHODS, REAL, boxes_path, video_path

MAX_FRAMES = 32  # frames read per video, evenly spaced: the features are means over frames
FILE_SIZE = "file_kb_per_frame"
ALIGNED_FEATURES = (
    "aligned_tdiff", "aligned_tdiff_inner_over_outer", "aligned_tdiff_mouth", "aligned_tdiff_eyes",
    "aligned_flicker_inner", "aligned_lap_tstd", "aligned_edge_ring_over_inner", "aligned_colour_gap_ring",
)
FEATURES = (
    FILE_SIZE,
    "frame_r", "frame_g", "frame_b", "frame_std",
    "face_r", "face_g", "face_b", "face_std", "face_saturation",
    "lap_frame", "lap_face", "lap_face_over_frame", "lap_eyes", "lap_mouth",
    "hf_face_over_ring", "colour_gap_face_ring", "edge_ring_over_face",
    "tdiff_frame", "tdiff_face", "tdiff_face_over_frame", "tdiff_mouth", "tdiff_hf_face",
    "flicker_face", "flicker_frame", "flicker_face_over_frame", "lap_face_tstd",
    "blockiness", "noise_background", "mouth_redness",
    *ALIGNED_FEATURES,
)
# The features a face crop carries by itself (no frame around it, no file): what the shortcut_probe
# detector (dfbench.probe_detector) computes from the crops every detector reads.
CROP_FEATURES = ("face_r", "face_g", "face_b", "face_std", "face_saturation", "lap_face", "lap_face_tstd",
                 "tdiff_face", "flicker_face", "mouth_redness", *ALIGNED_FEATURES)
ALIGNED = 48  # box-aligned face crops (what a detector sees), for the stabilised temporal features
# Gates on the default synthetic set (issue 10): the probe must stay below these test AUCs.
GATE_ALL, GATE_SINGLE, GATE_FILE_SIZE = 0.70, 0.75, 0.60


@dataclass(frozen=True)
class VideoItem:
    key: str  # "<method>/<name>"
    method: str
    label: int
    pair: str
    path: str


def videos_of(root: Path, compression: str = "c40", splits_dir: Path | None = None) -> dict[str, list[VideoItem]]:
    """Every video the splits name, per split (reals and the four methods' fakes)."""
    sp = S.load(root, splits_dir)
    out: dict[str, list[VideoItem]] = {}
    for split, pairs in sp.items():
        items = []
        for a, b in pairs:
            pair = f"{a}_{b}"
            for i in (a, b):
                items.append(VideoItem(f"{REAL}/{i}", REAL, 0, pair, str(video_path(root, REAL, compression, i))))
            for m in METHODS:
                for n in (f"{a}_{b}", f"{b}_{a}"):
                    items.append(VideoItem(f"{m}/{n}", m, 1, pair, str(video_path(root, m, compression, n))))
        out[split] = items
    return out


def _read(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Up to MAX_FRAMES evenly spaced RGB frames as float32, and their face boxes (x0, y0, x1, y1)."""
    import decord

    vr = decord.VideoReader(path)
    n = len(vr)
    idx = np.unique(np.linspace(0, n - 1, min(n, MAX_FRAMES)).round().astype(int))
    frames = vr.get_batch(list(idx)).asnumpy().astype(np.float32)
    h, w = frames.shape[1:3]
    bp = boxes_path(Path(path))
    if bp.is_file():
        boxes = np.asarray(json.loads(bp.read_text())["boxes"], np.float64)[idx]
    else:  # no boxes shipped: the centre of the frame, where FF++'s faces mostly are
        boxes = np.tile([w * 0.3, h * 0.2, w * 0.7, h * 0.75], (len(idx), 1))
    return frames, boxes


def video_features(path: str) -> np.ndarray:
    """The FEATURES of one video, in that order."""
    import cv2

    frames, boxes = _read(path)
    size_kb = Path(path).stat().st_size / 1024 / len(frames)
    grey = frames @ np.float32([0.299, 0.587, 0.114])
    t, h, w = grey.shape
    per = {k: [] for k in ("frame_rgb", "frame_std", "face_rgb", "face_std", "face_sat", "lap_frame", "lap_face",
                           "lap_eyes", "lap_mouth", "hf_face", "hf_ring", "gap", "edge_ring", "edge_face",
                           "face_mean", "frame_mean", "redness", "noise", "block")}
    tdiff = {"frame": [], "face": [], "mouth": [], "hf": []}
    crops = np.empty((t, ALIGNED, ALIGNED), np.float32)
    colour_crops = np.empty((t, ALIGNED, ALIGNED, 3), np.float32)
    prev = None
    for i in range(t):
        g, rgb = grey[i], frames[i]
        x0, y0, x1, y1 = boxes[i]
        bw, bh = max(x1 - x0, 4.0), max(y1 - y0, 4.0)

        def box(fx0, fy0, fx1, fy1, x0=x0, y0=y0, bw=bw, bh=bh):
            ys = slice(int(np.clip(y0 + fy0 * bh, 0, h - 1)), int(np.clip(y0 + fy1 * bh, 1, h)))
            xs = slice(int(np.clip(x0 + fx0 * bw, 0, w - 1)), int(np.clip(x0 + fx1 * bw, 1, w)))
            return ys, xs

        side = max(bw, bh) * 1.1  # a square crop around the box, as the detectors' crops are
        cx, cy = x0 + bw / 2, y0 + bh / 2
        m = np.float32([[ALIGNED / side, 0, ALIGNED / 2 - cx * ALIGNED / side],
                        [0, ALIGNED / side, ALIGNED / 2 - cy * ALIGNED / side]])
        crops[i] = cv2.warpAffine(g, m, (ALIGNED, ALIGNED), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
        colour_crops[i] = cv2.warpAffine(rgb, m, (ALIGNED, ALIGNED), flags=cv2.INTER_AREA,
                                         borderMode=cv2.BORDER_REPLICATE)
        face = box(0.15, 0.1, 0.85, 0.9)
        eyes, mouth = box(0.15, 0.2, 0.85, 0.45), box(0.3, 0.68, 0.7, 0.95)
        outer = box(-0.15, -0.15, 1.15, 1.15)
        lap = np.abs(cv2.Laplacian(g, cv2.CV_32F, ksize=3))
        hp = g - cv2.blur(g, (3, 3))
        gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)
        grad = np.hypot(gx, gy)
        ring = np.zeros((h, w), bool)
        ring[outer] = True
        ring[box(0.05, 0.05, 0.95, 0.95)] = False
        inner = np.zeros((h, w), bool)
        inner[face] = True
        per["frame_rgb"].append(rgb.reshape(-1, 3).mean(0))
        per["frame_std"].append(g.std())
        fr = rgb[face]
        per["face_rgb"].append(fr.reshape(-1, 3).mean(0))
        per["face_std"].append(g[face].std())
        per["face_sat"].append((fr.max(-1) - fr.min(-1)).mean())
        per["lap_frame"].append(lap.var())
        per["lap_face"].append(lap[face].var())
        per["lap_eyes"].append(lap[eyes].var())
        per["lap_mouth"].append(lap[mouth].var())
        per["hf_face"].append(np.abs(hp[inner]).mean())
        per["hf_ring"].append(np.abs(hp[ring]).mean() if ring.any() else 0.0)
        ring_rgb = rgb[ring].mean(0) if ring.any() else fr.reshape(-1, 3).mean(0)
        per["gap"].append(np.abs(fr.reshape(-1, 3).mean(0) - ring_rgb).mean())
        per["edge_ring"].append(grad[ring].mean() if ring.any() else 0.0)
        per["edge_face"].append(grad[inner].mean())
        per["face_mean"].append(g[face].mean())
        per["frame_mean"].append(g.mean())
        mr = rgb[mouth]
        per["redness"].append((mr[..., 0] - mr[..., 1]).mean())
        bg = ~(ring | inner)
        per["noise"].append(np.median(np.abs(hp[bg])) if bg.any() else 0.0)
        dh = np.abs(np.diff(g, axis=1))
        dv = np.abs(np.diff(g, axis=0))
        on = dh[:, 7::8].mean() + dv[7::8].mean()
        per["block"].append(on / max(dh.mean() + dv.mean(), 1e-6))
        if prev is not None:
            pg, php = prev
            d = np.abs(g - pg)
            tdiff["frame"].append(d.mean())
            tdiff["face"].append(d[face].mean())
            tdiff["mouth"].append(d[mouth].mean())
            tdiff["hf"].append(np.abs(hp - php)[face].mean())
        prev = (g, hp)

    m = {k: np.asarray(v, np.float64) for k, v in per.items()}
    td = {k: np.asarray(v, np.float64) if v else np.zeros(1) for k, v in tdiff.items()}
    eps = 1e-6

    frame_rgb, face_rgb = m["frame_rgb"].mean(0), m["face_rgb"].mean(0)
    values = {
        FILE_SIZE: size_kb,
        "frame_r": frame_rgb[0], "frame_g": frame_rgb[1], "frame_b": frame_rgb[2], "frame_std": m["frame_std"].mean(),
        "face_r": face_rgb[0], "face_g": face_rgb[1], "face_b": face_rgb[2], "face_std": m["face_std"].mean(),
        "face_saturation": m["face_sat"].mean(),
        "lap_frame": np.log(m["lap_frame"].mean() + eps), "lap_face": np.log(m["lap_face"].mean() + eps),
        "lap_face_over_frame": np.log((m["lap_face"].mean() + eps) / (m["lap_frame"].mean() + eps)),
        "lap_eyes": np.log(m["lap_eyes"].mean() + eps), "lap_mouth": np.log(m["lap_mouth"].mean() + eps),
        "hf_face_over_ring": np.log((m["hf_face"].mean() + eps) / (m["hf_ring"].mean() + eps)),
        "colour_gap_face_ring": m["gap"].mean(),
        "edge_ring_over_face": np.log((m["edge_ring"].mean() + eps) / (m["edge_face"].mean() + eps)),
        "tdiff_frame": td["frame"].mean(), "tdiff_face": td["face"].mean(),
        "tdiff_face_over_frame": np.log((td["face"].mean() + eps) / (td["frame"].mean() + eps)),
        "tdiff_mouth": td["mouth"].mean(), "tdiff_hf_face": td["hf"].mean(),
        "flicker_face": _flicker(m["face_mean"]), "flicker_frame": _flicker(m["frame_mean"]),
        "flicker_face_over_frame": np.log((_flicker(m["face_mean"]) + eps) / (_flicker(m["frame_mean"]) + eps)),
        "lap_face_tstd": float(m["lap_face"].std() / (m["lap_face"].mean() + eps)),
        "blockiness": m["block"].mean(), "noise_background": m["noise"].mean(),
        "mouth_redness": m["redness"].mean(),
        **aligned_features(crops, colour_crops),
    }
    return np.array([float(values[f]) for f in FEATURES], np.float64)


def _flicker(x) -> float:
    """Frame-to-frame change of a mean level, with its slow drift removed."""
    return float(np.abs(np.diff(x, 2)).mean()) if len(x) > 2 else 0.0


def aligned_features(crops: np.ndarray, colour_crops: np.ndarray) -> dict[str, float]:
    """The ``aligned_*`` features of (T, A, A) grey and (T, A, A, 3) colour face crops of side A = ALIGNED,
    stabilised on the face box: temporal change inside the face against its outline, of the mouth and eyes,
    the inner face's flicker, sharpness over time, and a blending seam's edges and colour step."""
    import cv2

    t, a = len(crops), crops.shape[1]
    eps = 1e-6
    inner_sl = (slice(a // 4, 3 * a // 4),) * 2
    mouth_sl = (slice(int(a * .68), int(a * .9)), slice(a // 3, 2 * a // 3))
    eyes_sl = (slice(int(a * .3), int(a * .48)), slice(a // 6, 5 * a // 6))
    outer = np.ones((a, a), bool)
    outer[a // 8:7 * a // 8, a // 8:7 * a // 8] = False
    dc = np.abs(np.diff(crops, axis=0)) if t > 1 else np.zeros((1, a, a), np.float32)
    lap_c = np.array([cv2.Laplacian(c, cv2.CV_32F).var() for c in crops])
    # where a blending seam would be: a ring inside the face outline, against the face's inside
    yy, xx = (np.mgrid[0:a, 0:a] + 0.5) / (a / 2) - 1
    rho = np.hypot(xx / 0.62, (yy - 0.05) / 0.75)
    ring_in, ring_out, disk = (rho > 0.6) & (rho < 0.8), (rho > 0.85) & (rho < 1.0), rho < 0.5
    grads = np.mean([np.hypot(cv2.Sobel(c, cv2.CV_32F, 1, 0), cv2.Sobel(c, cv2.CV_32F, 0, 1)) for c in crops], 0)
    mean_crop = colour_crops.mean(0)
    inner_mean = crops[:, inner_sl[0], inner_sl[1]].mean((1, 2))
    return {
        "aligned_tdiff": float(dc.mean()),
        "aligned_tdiff_inner_over_outer": float(np.log((dc[:, inner_sl[0], inner_sl[1]].mean() + eps)
                                                       / (dc[:, outer].mean() + eps))),
        "aligned_tdiff_mouth": float(dc[:, mouth_sl[0], mouth_sl[1]].mean()),
        "aligned_tdiff_eyes": float(dc[:, eyes_sl[0], eyes_sl[1]].mean()),
        "aligned_flicker_inner": _flicker(inner_mean),
        "aligned_lap_tstd": float(lap_c.std() / (lap_c.mean() + eps)),
        "aligned_edge_ring_over_inner": float(np.log((grads[ring_in].mean() + eps) / (grads[disk].mean() + eps))),
        "aligned_colour_gap_ring": float(np.abs(mean_crop[ring_in].mean(0) - mean_crop[ring_out].mean(0)).mean()),
    }


def crop_features(frames: np.ndarray) -> np.ndarray:
    """The CROP_FEATURES of (T, S, S, 3) uint8 RGB face crops (as the crop cache stores them), in that order:
    colour, sharpness and change over time of the face (the crop's central 3/4: the cache enlarges the
    face box 1.3x), and the ``aligned_*`` features on the crops resized to ALIGNED pixels."""
    import cv2

    rgb = np.stack([cv2.resize(np.ascontiguousarray(f), (ALIGNED, ALIGNED), interpolation=cv2.INTER_AREA)
                    for f in frames]).astype(np.float32)
    grey = rgb @ np.float32([0.299, 0.587, 0.114])
    a, eps = ALIGNED, 1e-6
    face = (slice(a // 8, 7 * a // 8),) * 2
    mouth = (slice(int(a * .68), int(a * .9)), slice(a // 3, 2 * a // 3))
    fr = rgb[:, face[0], face[1]]
    lap = np.array([cv2.Laplacian(g, cv2.CV_32F)[face].var() for g in grey])
    tdiff = np.abs(np.diff(grey[:, face[0], face[1]], axis=0)).mean() if len(grey) > 1 else 0.0
    mr = rgb[:, mouth[0], mouth[1]]
    colour = fr.reshape(-1, 3).mean(0)
    values = {
        "face_r": colour[0], "face_g": colour[1], "face_b": colour[2], "face_std": grey[:, face[0], face[1]].std(),
        "face_saturation": (fr.max(-1) - fr.min(-1)).mean(), "lap_face": np.log(lap.mean() + eps),
        "lap_face_tstd": lap.std() / (lap.mean() + eps), "tdiff_face": tdiff,
        "flicker_face": _flicker(grey[:, face[0], face[1]].mean((1, 2))),
        "mouth_redness": (mr[..., 0] - mr[..., 1]).mean(),
        **aligned_features(grey, rgb),
    }
    return np.array([float(values[f]) for f in CROP_FEATURES], np.float64)


def _single_threaded() -> None:
    import cv2

    cv2.setNumThreads(1)


def extract(items: list[VideoItem], workers: int | None = None,
            progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """The feature matrix (videos x FEATURES) of ``items``, computed over ``workers`` processes."""
    paths = [it.path for it in items]
    workers = max(1, min(workers or os.cpu_count() or 1, len(paths)))
    out = []
    if workers == 1:
        for i, p in enumerate(paths):
            out.append(video_features(p))
            if progress:
                progress(i + 1, len(paths))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_single_threaded) as pool:
            for i, f in enumerate(pool.map(video_features, paths, chunksize=8)):
                out.append(f)
                if progress:
                    progress(i + 1, len(paths))
    return np.stack(out) if out else np.zeros((0, len(FEATURES)))


def runs() -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    """(protocol, run, train methods, test methods) for every run of all, single and cross."""
    out = [("all", "all", METHODS, METHODS)]
    out += [("single", f"single-{m}", (m,), (m,)) for m in METHODS]
    out += [("cross", f"cross-{m}", tuple(x for x in METHODS if x != m), (m,)) for m in METHODS]
    return out


def _fit_scores(xtr, ytr, xte) -> np.ndarray:
    """Standardised features, a balanced logistic regression fitted on train; the test scores."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))
    model.fit(xtr, ytr)
    return model.predict_proba(xte)[:, 1]


def _fit_auc(xtr, ytr, xte, yte) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(yte, _fit_scores(xtr, ytr, xte)))


def evaluate(items: dict[str, list[VideoItem]], feats: dict[str, np.ndarray], bootstrap: bool = True) -> list[dict]:
    """Each run's test AUC of the probe (all features), of the best single feature and of the file size.

    A single feature's direction is learnt on train (a one-feature logistic regression), so its
    test AUC can fall below 0.5 and is never flipped after seeing the test set.
    """
    from sklearn.metrics import roc_auc_score

    from dfbench.uncertainty import pair_bootstrap

    rows = []
    for protocol, run, train_m, test_m in runs():
        def pick(split, methods):
            keep = [i for i, it in enumerate(items[split]) if it.method == REAL or it.method in methods]
            return (feats[split][keep], np.array([items[split][i].label for i in keep]),
                    [items[split][i].pair for i in keep])

        xtr, ytr, _ = pick("train", train_m)
        xte, yte, pairs = pick("test", test_m)
        if len(set(ytr)) < 2 or len(set(yte)) < 2:
            continue
        scores = _fit_scores(xtr, ytr, xte)
        auc = float(roc_auc_score(yte, scores))
        single = {f: _fit_auc(xtr[:, [j]], ytr, xte[:, [j]], yte) for j, f in enumerate(FEATURES)}
        best = max(single, key=single.get)
        row = {"protocol": protocol, "run": run, "train": int(len(ytr)), "test": int(len(yte)), "auc": auc,
               "best_feature": best, "best_feature_auc": single[best], "file_size_auc": single[FILE_SIZE],
               "features_auc": single}
        if bootstrap:
            row["auc_ci95"] = pair_bootstrap(yte, scores, pairs, stats=("auc",))["ci95"]["auc"]
        rows.append(row)
    return rows


def probe(root: Path, compression: str = "c40", splits_dir: Path | None = None, workers: int | None = None,
          progress: Callable[[int, int], None] | None = None) -> dict:
    """Features of every train and test video of ``root``, then :func:`evaluate`; returns the report."""
    items = videos_of(Path(root), compression, splits_dir)
    items = {s: items[s] for s in ("train", "test")}
    flat = items["train"] + items["test"]
    missing = [it.path for it in flat if not Path(it.path).is_file()]
    if missing:
        from dfbench.errors import DfbenchError

        raise DfbenchError(f"{len(missing)} videos the splits name are missing, e.g. {missing[0]}; "
                           "run `dfbench data check` first")
    x = extract(flat, workers, progress)
    n = len(items["train"])
    feats = {"train": x[:n], "test": x[n:]}
    rows = evaluate(items, feats)
    return {"root": str(root), "compression": compression, "features": list(FEATURES), "runs": rows,
            "gates": gates(rows)}


def gates(rows: list[dict]) -> dict:
    """The issue-10 gates: ``all`` <= 0.70, every ``single`` <= 0.75, file size alone <= 0.60 (in ``all``
    and every ``single``: where the size's direction is learnt on the methods it is tested on)."""
    by_run = {r["run"]: r for r in rows}
    checks = {}
    if "all" in by_run:
        checks["all"] = {"auc": by_run["all"]["auc"], "max": GATE_ALL, "ok": by_run["all"]["auc"] <= GATE_ALL}
    for r in rows:
        if r["protocol"] == "single":
            checks[r["run"]] = {"auc": r["auc"], "max": GATE_SINGLE, "ok": r["auc"] <= GATE_SINGLE}
    size = max((r["file_size_auc"] for r in rows if r["protocol"] in ("all", "single")), default=0.0)
    checks["file_size"] = {"auc": size, "max": GATE_FILE_SIZE, "ok": size <= GATE_FILE_SIZE}
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}


def format_report(report: dict) -> str:
    """A plain table: one line per run, then the gates."""
    lines = [f"{'run':<22}{'train':>6}{'test':>6}{'probe AUC':>11}  {'95% CI':<14}{'file size':>10}"
             f"  best single feature"]
    for r in report["runs"]:
        ci = r.get("auc_ci95")
        ci_s = f"[{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
        lines.append(f"{r['run']:<22}{r['train']:>6}{r['test']:>6}{r['auc']:>11.3f}  {ci_s:<14}"
                     f"{r['file_size_auc']:>10.3f}  {r['best_feature']} ({r['best_feature_auc']:.3f})")
    g = report["gates"]
    lines.append("")
    for name, c in g["checks"].items():
        lines.append(f"gate {name:<22} AUC {c['auc']:.3f} <= {c['max']:.2f}: {'ok' if c['ok'] else 'FAILS'}")
    lines.append("the probe's gates " + ("hold" if g["ok"] else "fail: a cheap feature separates the classes"))
    return "\n".join(lines)
