"""Correlation of learnt features (the paper's §5.4, Fig. 6), defined so that it can be checked by number.

The quantity: for a trained detector, the activations of its last convolutional stage (the layer
Grad-CAM explains: ``layer4`` of a 3D ResNet, the same stage for every model compared) are averaged
over time and space for every test input -- each test video's consecutive clips of the detector's
clip length for a clip model, every 4th frame for a frame model -- giving one C-vector per input.
The matrix is the Pearson correlation between channels over all inputs (C x C); channels that never
vary (dead after ReLU) have no correlation and are left out and counted. The scalar summary is the
mean absolute off-diagonal correlation: the paper's claim "attention lowers the correlation between
features" becomes "the +SE / +non-local model's summary is lower than the plain model's".
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from dfbench.crops import CropCache
from dfbench.errors import BadVideoError, DfbenchError
from dfbench.explain import windows
from dfbench.layout import video_path
from dfbench.provenance import expand_path
from dfbench.results import write_atomic
from dfbench.trained import Trained

FRAME_STEP = 4  # a frame model's inputs: every 4th frame of each test video


def pooled_features(target, crops_list: Sequence[np.ndarray], device: str = "cpu") -> np.ndarray:
    """(inputs, C): the explained layer's activations, globally averaged, for every input of every video."""
    import torch

    got: list[np.ndarray] = []

    def hook(_module, _inputs, output):
        out = output[0] if isinstance(output, (tuple, list)) else output
        got.append(out.detach().float().flatten(2).mean(2).cpu().numpy())

    network = target.network.to(device).eval()
    handle = target.layer.register_forward_hook(hook)
    try:
        with torch.no_grad():
            for crops in crops_list:
                x = torch.from_numpy(np.ascontiguousarray(crops)).float().permute(3, 0, 1, 2)  # (3, T, S, S)
                if target.input_kind == "frame":
                    network(x[:, ::FRAME_STEP].permute(1, 0, 2, 3).to(device))
                    continue
                for a, b in windows(x.shape[1], target.clip_len):
                    clip = x[:, a:b]
                    if b - a < target.clip_len:
                        clip = clip[:, np.arange(target.clip_len) % (b - a)]
                    network(clip[None].to(device))
    finally:
        handle.remove()
    return np.concatenate(got)


def channel_correlation(features: np.ndarray) -> dict:
    """Pearson correlation between the channels of ``features`` (inputs, C) and its summary."""
    varying = features.std(0) > 1e-8
    kept = features[:, varying]
    if kept.shape[1] < 2 or len(kept) < 3:
        raise DfbenchError(f"{int(varying.sum())} varying channels over {len(features)} inputs: too few to "
                           "correlate; score more test videos")
    matrix = np.corrcoef(kept.T)
    off = np.abs(matrix[~np.eye(len(matrix), dtype=bool)])
    return {"matrix": matrix, "channels": int(features.shape[1]), "dead_channels": int((~varying).sum()),
            "inputs": int(len(features)), "mean_abs_offdiag": float(off.mean()),
            "median_abs_offdiag": float(np.median(off))}


def test_crops(trained: Trained, data: Path | None, cache_root: Path) -> list[np.ndarray]:
    """Each of the record's test videos' face crops, made as the record made them."""
    record = trained.record
    root = Path(data) if data else expand_path(record.dataset.root, roots={"$DFBENCH_CACHE": cache_root})
    if not root.is_dir():
        raise DfbenchError(f"{trained.path.name}: its dataset {root} is not here; give it with --data")
    cache = CropCache(cache_root, root, trained.face_finder, size=trained.crop_size)
    out = []
    for v in record.videos:
        method, name = v.key.split("/", 1)
        try:
            out.append(np.load(cache.get(video_path(root, method, record.dataset.compression, name)).path))
        except BadVideoError as e:
            raise DfbenchError(f"{e}; the record scored it, so the data changed since") from None
    return out


def analyze(trained: Sequence[Trained], out_dir: Path, cache_root: Path, *, data: Path | None = None,
            progress: Callable[[str], None] = lambda _: None) -> dict:
    """One correlation matrix per trained detector on its record's test videos: a figure, the matrices, a summary."""
    rows, mats = [], {}
    for t in trained:
        explain_target = getattr(t.detector, "explain_target", None)
        if not callable(explain_target):
            raise DfbenchError(f"detector {t.record.detector} gives no layer to read features from (explain_target)")
        progress(f"{t.record.detector}: features of {len(t.record.videos)} test videos")
        target = explain_target(t.config, t.fit)
        result = channel_correlation(pooled_features(target, test_crops(t, data, cache_root)))
        name = f"{t.record.detector} ({t.record.run})"
        mats[name] = result.pop("matrix")
        rows.append({"detector": t.record.detector, "run": t.record.run, "record": t.path.name,
                     "layer": target.layer_name, **result})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, **{r["detector"]: m for r, m in zip(rows, mats.values())})
    write_atomic(out_dir / "correlation.npz", buf.getvalue())
    _plot(mats, rows, out_dir / "correlation.png")
    summary = {"quantity": "Pearson correlation between channels of the last convolutional stage's globally "
                           "averaged activations over the record's test inputs", "models": rows}
    write_atomic(out_dir / "correlation.json", json.dumps(summary, indent=1) + "\n")
    return summary


def _plot(mats: dict[str, np.ndarray], rows: list[dict], out: Path) -> None:
    from dfbench.roc_plot import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(1, len(mats), figsize=(3.6 * len(mats), 3.6), dpi=110, squeeze=False)
    for ax, (name, m), row in zip(axes[0], mats.items(), rows):
        im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r", interpolation="nearest")
        ax.set_title(f"{name}\nmean |r| off-diagonal {row['mean_abs_offdiag']:.3f}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    write_atomic(out, buf.getvalue())
