"""Formula-driven pretraining: the cpu size's stand-in for Kinetics-400 weights.

No published weights fit the cpu-size architectures, so without this every cpu "pretrained"
detector would start from the same random weights as its from-scratch twin (issue 10). Here a
backbone is pretrained on clips generated from a formula (no data, no download): a procedural
texture (fractal noise under a few coloured ellipses) moved by one of eight dynamics, to be told
apart: four translations, zoom in, zoom out, rotation each way, at a random speed. Like Kinetics
for the paper's networks, the task knows nothing of faces or fakes; it gives the filters motion
and texture before the deepfake task starts.

What a run produces is a backbone-only checkpoint (``backbone.*`` tensors, fp16 to keep the
shipped files small), loaded by the same untrusted-file path as any ``--pretrained`` file
(:func:`dfbench_mmaction.pretrained.load_pretrained`). The files shipped in ``weights/stand_in/``
were made by ``make stand-in-weights`` (``python -m dfbench_mmaction.formula --all``); their
sha256 is pinned in ``weights/stand_in/index.json``.

The training loop is plain PyTorch, not MMEngine's Runner: the clips come from a generator, not a
dataset, there is no validation or checkpoint choice, and it runs once per architecture.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from dfbench_mmaction.pretrained import STAND_IN_DIR, STAND_IN_INDEX

DYNAMICS = ("left", "right", "down", "up", "zoom-in", "zoom-out", "rotate-ccw", "rotate-cw")
STEPS, BATCH, LR, SEED = 2000, 16, 1e-3, 0  # the shipped files' recipe
# Also the shipped files' recipe: these backbones started from MMAction2's default initialisation,
# each bottleneck's last BatchNorm weight zeroed, as their configs had it when the files were made.
# The configs now keep it at 1 (Hara et al.'s initialisation, configs/_base_/models/resnet3d_r101.py);
# pretraining keeps the old start, so `make stand-in-weights` still follows the shipped files' recipe.
ZERO_INIT_RESIDUAL = ("resnet3d", "resnet3d_se", "resnet3d_nl", "resnext3d", "resnext3d_nl")


def texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A (size, size, 3) float32 image in [0, 255]: five octaves of colour noise under 2-6 ellipses."""
    img = np.zeros((size, size, 3), np.float32)
    for octave in range(5):
        n = 2 ** (octave + 2)
        layer = rng.standard_normal((n, n, 3)).astype(np.float32)
        img += cv2.resize(layer, (size, size), interpolation=cv2.INTER_CUBIC) / (1.6**octave)
    for _ in range(int(rng.integers(2, 7))):
        colour = tuple(float(v) for v in rng.uniform(-2, 2, 3))
        cx, cy = (int(v) for v in rng.integers(0, size, 2))
        ax, ay = (int(v) for v in rng.integers(size // 20, size // 4, 2))
        cv2.ellipse(img, (cx, cy), (ax, ay), float(rng.uniform(0, 180)), 0, 360, colour, -1)
    img = (img - img.mean()) / (img.std() + 1e-6)
    return np.clip(128 + 50 * img, 0, 255)


def clip(rng: np.random.Generator, dynamic: int, frames: int, size: int) -> np.ndarray:
    """``frames`` frames (T, size, size, 3) uint8 of a texture moving by ``DYNAMICS[dynamic]``."""
    big = 2 * size
    tex = texture(rng, big)
    speed = rng.uniform(0.8, 2.5) * size / 64
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        tt = t - frames / 2
        angle, scale, dx, dy = 0.0, 1.0, 0.0, 0.0
        if dynamic < 4:
            dx, dy = ((-speed, 0), (speed, 0), (0, speed), (0, -speed))[dynamic]
            dx, dy = dx * tt, dy * tt
        elif dynamic < 6:
            scale = 1 + 0.02 * speed * 64 / size * tt * (1 if dynamic == 4 else -1)
        else:
            angle = 1.5 * speed * 64 / size * tt * (1 if dynamic == 6 else -1)
        m = cv2.getRotationMatrix2D((big / 2, big / 2), angle, scale)
        m[:, 2] += (dx, dy)
        warped = cv2.warpAffine(tex, m, (big, big), borderMode=cv2.BORDER_REFLECT)
        out[t] = warped[size // 2:size // 2 + size, size // 2:size // 2 + size]
    return out


def batch(rng: np.random.Generator, n: int, frames: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clips (n, T, S, S, 3) uint8 and their dynamics (n,)."""
    labels = rng.integers(0, len(DYNAMICS), n)
    return np.stack([clip(rng, int(k), frames, size) for k in labels]), labels


def pretrain(name: str, size: str = "cpu", steps: int = STEPS, seed: int = SEED, batch_size: int = BATCH,
             lr: float = LR, progress: Callable[[int, float, float], None] | None = None) -> tuple[dict, dict]:
    """Pretrain detector ``name``'s backbone at ``size``; return its ``backbone.*`` state dict and a summary.

    The summary holds the recipe and the accuracy on 256 held-out generated clips (chance: 1/8).
    ``progress(step, loss, accuracy)`` is called every 100 steps with the running means.
    """
    from dfbench_mmaction.base import build_model
    from dfbench_mmaction.detector import load_config
    from dfbench_mmaction.plugin import DETECTORS

    meta = next((m for m in DETECTORS if m.name == name), None)
    if meta is None or size not in meta.sizes:
        raise ValueError(f"no built-in detector {name!r} at size {size!r}")
    spec = meta.sizes[size]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cfg = load_config(name, size)
    if name in ZERO_INIT_RESIDUAL:
        cfg.model.backbone.zero_init_residual = True
    model = build_model(cfg, "mmaction")
    model.init_weights()
    backbone, pre = model.backbone, model.data_preprocessor

    def features(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(x).permute(0, 4, 1, 2, 3).float()  # N C T H W, as the recognizer gets it
        t = (t - pre.mean.view(1, 3, 1, 1, 1)) / pre.std.view(1, 3, 1, 1, 1)
        f = backbone(t)
        return (f[0] if isinstance(f, tuple) else f).mean((2, 3, 4))

    backbone.train()
    with torch.no_grad():
        width = features(batch(np.random.default_rng(0), 2, spec.clip_len, spec.crop_size)[0]).shape[1]
    head = torch.nn.Linear(width, len(DYNAMICS))
    opt = torch.optim.AdamW([*backbone.parameters(), *head.parameters()], lr=lr, weight_decay=1e-4)
    losses, hits = [], []
    for step in range(1, steps + 1):
        x, y = batch(rng, batch_size, spec.clip_len, spec.crop_size)
        logits = head(features(x))
        target = torch.from_numpy(y)
        loss = torch.nn.functional.cross_entropy(logits, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        hits.append((logits.argmax(1) == target).float().mean().item())
        if progress and step % 100 == 0:
            progress(step, float(np.mean(losses[-100:])), float(np.mean(hits[-100:])))
    backbone.eval()
    held = np.random.default_rng(seed + 10_000)
    correct = 0
    with torch.no_grad():
        for _ in range(16):
            x, y = batch(held, 16, spec.clip_len, spec.crop_size)
            correct += int((head(features(x)).argmax(1).numpy() == y).sum())
    state = {f"backbone.{k}": (v.half() if v.is_floating_point() else v).clone()
             for k, v in backbone.state_dict().items()}
    summary = dict(detector=name, size=size, task="formula-driven: 8 dynamics of procedural textures",
                   steps=steps, seed=seed, batch_size=batch_size, lr=lr, clip_len=spec.clip_len,
                   crop_size=spec.crop_size, held_out_accuracy=round(correct / 256, 4))
    return state, summary


def pretrainable() -> list[str]:
    """The built-in detectors with a cpu size that a checkpoint can start (not the from-scratch ones)."""
    from dfbench_mmaction.plugin import DETECTORS

    return [m.name for m in DETECTORS if m.pretrainable and "cpu" in m.sizes]


def write(name: str, out: Path, **kw) -> dict:
    """Pretrain ``name`` at cpu size into ``out`` (atomically); return the summary with the file's sha256."""
    from dfbench.results import write_atomic

    started = time.monotonic()
    state, summary = pretrain(name, progress=lambda s, loss, acc: print(
        f"{name}: step {s}: loss {loss:.3f}, accuracy {acc:.3f}", flush=True), **kw)
    buf = io.BytesIO()
    torch.save({"state_dict": state}, buf)
    write_atomic(out, buf.getvalue())
    summary.update(file=out.name, sha256=hashlib.sha256(buf.getvalue()).hexdigest(),
                   seconds=round(time.monotonic() - started))
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dfbench_mmaction.formula", description=__doc__.split("\n")[0])
    parser.add_argument("--detector", action="append", help="a built-in detector (repeatable)")
    parser.add_argument("--all", action="store_true", help="every pretrainable built-in detector, into weights/")
    parser.add_argument("--out", type=Path, default=STAND_IN_DIR, help="folder for <detector>_cpu.pth and index.json")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    names = pretrainable() if args.all else (args.detector or parser.error("give --detector NAME or --all"))
    args.out.mkdir(parents=True, exist_ok=True)
    index_path = args.out / STAND_IN_INDEX
    index = json.loads(index_path.read_text()) if index_path.is_file() else {}
    for name in names:
        index[name] = write(name, args.out / f"{name}_cpu.pth", steps=args.steps, seed=args.seed)
        index_path.write_text(json.dumps(dict(sorted(index.items())), indent=1) + "\n")
        print(f"{name}: held-out accuracy {index[name]['held_out_accuracy']:.3f} -> {args.out / index[name]['file']}")


if __name__ == "__main__":
    main()
