"""Grad-CAM heatmaps of a trained detector on one video (the paper's Fig. 7), and how much of them falls on the fake.

``dfbench explain`` crops the video's face as the record did, runs Grad-CAM (the ``grad-cam``
package, pytorch-grad-cam) on the layer the detector names (its last convolutional stage, the
paper's choice), and writes:

- ``gradcam_strip.png``: five face crops with their heatmaps overlaid, 24 frames apart as in the
  paper (closer when the video is shorter than 97 frames; the spacing is in the summary);
- ``heatmaps.npy``: every frame's heatmap, ``(frames, S, S)`` float32 in [0, 1], on the crops;
- ``gradcam.mp4`` (``--mp4``): every frame's overlay as a video;
- ``explanation.json``: what was explained, and the ground-truth check when the manipulated region is known.

A clip network is explained window by window: consecutive clips of its training length cover the
video (the last one ends at the last frame), each frame's heatmap taken from the first window that
holds it; Grad-CAM's map of a window is normalised to [0, 1] over that window.

**Against ground truth** (:func:`mask_energy`): where the manipulated pixels are known -- a
synthetic fake and its target's real video share every untouched pixel -- the manipulated region
is where the two differ (:func:`manipulated_region`), cropped like the face. Reported: the share
of heatmap mass inside the region (energy-in-mask) against a uniform map's share (the region's
area), and the pointing game (the share of frames whose hottest pixel lies in the region).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from dfbench.crops import CROP_SCALE, CropCache, VideoSource, crop_frames
from dfbench.errors import DfbenchError
from dfbench.layout import METHODS, REAL, video_path
from dfbench.results import write_atomic
from dfbench.trained import Trained

STRIP_FRAMES, STRIP_STEP = 5, 24  # the paper's Fig. 7: five frames, 24 apart
DIFF_THRESHOLD = 10.0  # grey levels (mean over RGB, 5x5 box-blurred) above which a fake's pixel counts as changed


def strip_indices(num_frames: int, n: int = STRIP_FRAMES, step: int = STRIP_STEP) -> list[int]:
    """``n`` frames ``step`` apart from the first, or evenly spread when the video is too short for that."""
    if num_frames >= (n - 1) * step + 1:
        return [i * step for i in range(n)]
    return sorted({int(round(x)) for x in np.linspace(0, num_frames - 1, min(n, num_frames))})


def windows(num_frames: int, clip_len: int) -> list[tuple[int, int]]:
    """Consecutive clip windows covering ``[0, num_frames)``; the last one ends at the last frame."""
    if num_frames <= clip_len:
        return [(0, num_frames)]
    starts = list(range(0, num_frames - clip_len + 1, clip_len))
    if starts[-1] + clip_len < num_frames:
        starts.append(num_frames - clip_len)
    return [(s, s + clip_len) for s in starts]


def with_layer(target, name: str | None):
    """``target`` explained at another layer of its network: ``name`` is a module's name in it or its last
    parts (``layer3``, ``backbone.layer3``); None keeps the detector's choice (its last convolutional stage)."""
    if not name:
        return target
    from dataclasses import replace

    modules = dict(target.network.named_modules())
    found = [n for n in modules if n == name or n.endswith("." + name)]
    if len(found) != 1:
        some = ", ".join(n for n in modules if n.count(".") <= 2 and n)[:300]
        raise DfbenchError(f"--layer {name}: {'no' if not found else 'more than one'} module of that name in the "
                           f"network; it has {some}, ...")
    return replace(target, layer=modules[found[0]], layer_name=name)


def heatmaps(target, crops: np.ndarray, device: str = "cpu") -> np.ndarray:
    """Grad-CAM of every frame of ``crops`` ((T, S, S, 3) uint8) for the fake logit: (T, S, S) in [0, 1]."""
    import torch

    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError:
        raise DfbenchError("dfbench explain needs the grad-cam package: pip install 'dfbench[analysis]'") from None

    network = target.network.to(device).eval()
    x = torch.from_numpy(np.ascontiguousarray(crops)).float().permute(3, 0, 1, 2)  # (3, T, S, S)
    t, s = crops.shape[0], crops.shape[1]
    out = np.zeros((t, s, s), np.float32)
    with GradCAM(model=network, target_layers=[target.layer]) as cam:
        if target.input_kind == "frame":
            for a in range(0, t, 16):
                batch = x[:, a:a + 16].permute(1, 0, 2, 3).to(device)  # (B, 3, S, S)
                out[a:a + 16] = cam(input_tensor=batch, targets=[ClassifierOutputTarget(0)] * len(batch))
            return out
        done = np.zeros(t, bool)
        for a, b in windows(t, target.clip_len):
            clip = x[:, a:b]
            if b - a < target.clip_len:  # a video shorter than a clip: looped, as training samples it
                clip = clip[:, np.arange(target.clip_len) % (b - a)]
            maps = cam(input_tensor=clip[None].to(device), targets=[ClassifierOutputTarget(0)])[0]  # (T', S, S)
            take = ~done[a:b]
            out[a:b][take] = maps[: b - a][take]
            done[a:b] = True
    return out


def overlay(frame: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """A face crop (RGB uint8) with its heatmap drawn over it in the jet colour map."""
    import cv2

    colour = cv2.applyColorMap(np.uint8(np.clip(heat, 0, 1) * 255), cv2.COLORMAP_JET)[..., ::-1]
    return np.uint8(np.clip((1 - alpha) * frame.astype(np.float32) + alpha * colour, 0, 255))


def strip(crops: np.ndarray, maps: np.ndarray, indices: Sequence[int], scale: int = 2) -> np.ndarray:
    """The paper's figure: the chosen frames' overlays side by side, each labelled with its frame number."""
    import cv2

    tiles = []
    for i in indices:
        tile = cv2.resize(overlay(crops[i], maps[i]), None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        cv2.putText(tile, f"frame {i}", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(tile)
    return np.concatenate(tiles, axis=1)


def real_of(video: Path) -> Path | None:
    """In FF++'s layout, a fake's target real video (``<method>/<comp>/videos/071_054.mp4`` -> ``original/071``)."""
    parts = Path(video).resolve().parts
    for m in METHODS:
        if m in parts:
            k = parts.index(m)
            root, comp = Path(*parts[: k - 1]), parts[k + 1]
            real = video_path(root, REAL, comp, Path(video).stem.split("_")[0])
            return real if real.is_file() else None
    return None


def manipulated_region(fake: Path, real: Path, boxes: np.ndarray, size: int) -> np.ndarray:
    """Where ``fake`` differs from the real video it was made from, cropped like its faces: (T, S, S) bool.

    Valid where the two share every untouched pixel (a synthetic fake and its target's real video);
    compression noise is kept out by a 5x5 box blur and :data:`DIFF_THRESHOLD`.
    """
    import cv2

    a, b = VideoSource(fake), VideoSource(real)
    if (a.num_frames, a.width, a.height) != (b.num_frames, b.width, b.height):
        raise DfbenchError(f"{real}: {b.num_frames} frames of {b.width}x{b.height}, not {fake}'s "
                           f"{a.num_frames} of {a.width}x{a.height}: not the video it was made from")
    idx = list(range(a.num_frames))
    diff = np.abs(a.frames(idx).astype(np.float32) - b.frames(idx).astype(np.float32)).mean(-1)
    diff = np.stack([cv2.blur(d, (5, 5)) for d in diff])
    changed = np.repeat((diff > DIFF_THRESHOLD).astype(np.uint8)[..., None] * 255, 3, axis=-1)
    return crop_frames(changed, boxes, size, CROP_SCALE)[..., 0] > 127


def mask_energy(maps: np.ndarray, region: np.ndarray) -> dict:
    """Energy-in-mask and the pointing game against the manipulated region (frames where it is not empty)."""
    frames = [i for i in range(len(maps)) if region[i].any() and maps[i].sum() > 0]
    if not frames:
        return {"frames": 0}
    energy = [float((maps[i] * region[i]).sum() / maps[i].sum()) for i in frames]
    area = [float(region[i].mean()) for i in frames]
    hits = [bool(region[i].flat[int(np.argmax(maps[i]))]) for i in frames]
    return {"frames": len(frames), "energy_in_mask": float(np.mean(energy)), "uniform_baseline": float(np.mean(area)),
            "energy_over_baseline": float(np.mean(energy) / max(np.mean(area), 1e-12)),
            "pointing_game": float(np.mean(hits))}


def explain(trained: Trained, video: Path, out_dir: Path, cache_root: Path, *, finder: str | None = None,
            real: Path | None = None, mp4: bool = False, layer: str | None = None,
            progress: Callable[[str], None] = lambda _: None) -> dict:
    """Grad-CAM of ``trained`` on ``video`` into ``out_dir``; returns the summary written to ``explanation.json``."""
    explain_target = getattr(trained.detector, "explain_target", None)
    if not callable(explain_target):
        raise DfbenchError(f"detector {trained.record.detector} cannot be explained: it has no explain_target "
                           "(dfbench.detector.Explainable); see docs/writing-a-detector-plugin.md")
    video = Path(video)
    cache = CropCache(cache_root, video.parent, finder or trained.face_finder, size=trained.crop_size)
    progress(f"{video}: finding and cropping the face")
    crops_ref = cache.get(video)
    crops = np.load(crops_ref.path)
    target = with_layer(explain_target(trained.config, trained.fit), layer)
    progress(f"{video}: Grad-CAM on {target.layer_name} of {trained.record.detector} ({len(crops)} frames)")
    maps = heatmaps(target, crops)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    indices = strip_indices(len(crops))
    _write_png(out_dir / "gradcam_strip.png", strip(crops, maps, indices))
    _write_npy(out_dir / "heatmaps.npy", maps)
    summary = {"record": trained.path.name, "detector": trained.record.detector, "size": trained.config.size,
               "video": str(video), "frames": int(len(crops)), "layer": target.layer_name,
               "strip_frames": indices, "crop_size": int(crops.shape[1]),
               "files": ["gradcam_strip.png", "heatmaps.npy"]}
    if mp4:
        from dfbench.synth.encode import write_h264

        frames = np.stack([overlay(c, m) for c, m in zip(crops, maps)])
        write_h264(out_dir / "gradcam.mp4", frames, qp=18)
        summary["files"].append("gradcam.mp4")
    real = real or real_of(video)
    if real is not None:
        progress(f"{video}: manipulated region from its difference to {real}")
        track = cache.load_track(video)
        region = manipulated_region(video, real, np.asarray(track["boxes"], float), crops.shape[1])
        summary["ground_truth"] = {"real_video": str(real), **mask_energy(maps, region)}
    write_atomic(out_dir / "explanation.json", json.dumps(summary, indent=1) + "\n")
    return summary


def _write_png(path: Path, rgb: np.ndarray) -> None:
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise DfbenchError(f"{path}: could not encode the image")
    write_atomic(path, buf.tobytes())


def _write_npy(path: Path, array: np.ndarray) -> None:
    import io

    buf = io.BytesIO()
    np.save(buf, array.astype(np.float32))
    write_atomic(path, buf.getvalue())


def energy_over_test_fakes(trained: Trained, cache_root: Path, *, data: Path | None = None, n_resamples: int = 2000,
                           seed: int = 0, layer: str | None = None,
                           progress: Callable[[str], None] = lambda _: None) -> dict:
    """Energy-in-mask of ``trained`` over every fake test video of its record whose real video is there.

    Per video: the share of heatmap mass in the manipulated region and a uniform map's share; over
    videos: the mean of each, their ratio, and a 95% pair-bootstrap interval of the ratio (the
    record's pairs are the clusters, as for every other interval in dfbench: dfbench.uncertainty).
    Videos whose heatmap is zero everywhere (no positive evidence for "fake") are listed in
    ``no_evidence`` and left out of the means.
    """
    from dfbench.provenance import expand_path
    from dfbench.uncertainty import cluster_index, draw_pairs, multiplicities

    record = trained.record
    explain_target = getattr(trained.detector, "explain_target", None)
    if not callable(explain_target):
        raise DfbenchError(f"detector {record.detector} cannot be explained: it has no explain_target")
    root = Path(data) if data else expand_path(record.dataset.root, roots={"$DFBENCH_CACHE": cache_root})
    target = with_layer(explain_target(trained.config, trained.fit), layer)
    cache = CropCache(cache_root, root, trained.face_finder, size=trained.crop_size)
    fakes = [v for v in sorted(record.videos, key=lambda v: v.key) if v.label == 1]
    rows, empty = [], []
    for i, v in enumerate(fakes):
        method, name = v.key.split("/", 1)
        video = video_path(root, method, record.dataset.compression, name)
        real = real_of(video)
        if real is None:
            continue
        progress(f"[{i + 1}/{len(fakes)}] {v.key}: Grad-CAM on {target.layer_name}")
        crops = np.load(cache.get(video).path)
        region = manipulated_region(video, real, np.asarray(cache.load_track(video)["boxes"], float), crops.shape[1])
        got = mask_energy(heatmaps(target, crops), region)
        if got["frames"]:
            rows.append({"video": v.key, "method": method, "pair": v.pair, **got})
        else:  # Grad-CAM found no positive evidence for "fake" anywhere: energy-in-mask is undefined
            empty.append(v.key)
    if not rows:
        raise DfbenchError(f"{trained.path.name}: no fake test video with its real video and a manipulated region")
    energy = np.array([r["energy_in_mask"] for r in rows])
    area = np.array([r["uniform_baseline"] for r in rows])
    index, k = cluster_index([r["pair"] for r in rows])
    weights = multiplicities(draw_pairs(k, n_resamples, seed), k)[:, index]  # (resamples, videos)
    ratios = (weights @ energy) / (weights @ area)
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return {"record": trained.path.name, "detector": record.detector, "layer": target.layer_name,
            "videos": len(rows), "no_evidence": empty, "energy_in_mask": float(energy.mean()),
            "uniform_baseline": float(area.mean()),
            "energy_over_baseline": float(energy.mean() / area.mean()),
            "energy_over_baseline_ci95": [float(lo), float(hi)],
            "pointing_game": float(np.mean([r["pointing_game"] for r in rows])),
            "ci": {"method": "pair-clustered bootstrap, percentile", "resamples": n_resamples, "seed": seed,
                   "clusters": int(k)},
            "per_video": rows}
