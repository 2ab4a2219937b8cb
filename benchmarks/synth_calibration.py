"""Calibrating the synthetic set (issue 10): generate a variant, then see how far a clip model gets on it.

docs/synthetic-data.md's calibration tables were measured with this script. It is a diagnostic,
not a benchmark run: it writes no record, and its trainer reads the test split every EVERY steps
to show how far training can go, which a result must never do (records choose their checkpoint
on the validation split). The commands:

    # a variant of the version-3 set: decoy constants overridden (e16; --recipe '{"f2f_jaw": false}'
    # overrides fields of dfbench.synth.pairs.V3 the same way)
    .venv/bin/python benchmarks/synth_calibration.py generate /tmp/e16 --pairs 288,6,32 --decoys '{"SWAY": 6.0}'
    # (e16's recipe is now synthetic version 4: `dfbench data synth --version 4` writes it with 64 test pairs)
    .venv/bin/dfbench data probe /tmp/e16
    .venv/bin/dfbench preprocess --data /tmp/e16 --size 64 --cache /tmp/cache
    # the cpu-size clip model from the shipped stand-in weights, AdamW at a constant rate
    .venv/bin/python benchmarks/synth_calibration.py train /tmp/e16 --cache /tmp/cache --steps 5000 \\
        --scores clip.scores.json
    # the frame baseline on the same crops: cpu-size XceptionNet, 32 frames a step, 16 frames per video
    .venv/bin/python benchmarks/synth_calibration.py train /tmp/e16 --cache /tmp/cache --frame-model --wd 0 \\
        --scores frame.scores.json
    # the two trainings' test AUCs per method with intervals, and the paired difference
    .venv/bin/python benchmarks/synth_calibration.py compare frame.scores.json clip.scores.json

The generator's workers are spawned processes that import this file again, so the overrides travel
in an environment variable that is applied when this module is imported (in the parent and in
every worker alike). The set's manifest names the overridden recipe and decoys, as for any set.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np

SHORT = {"Deepfakes": "DF", "Face2Face": "F2F", "FaceSwap": "FS", "NeuralTextures": "NT"}
OVERRIDES = "DFBENCH_CALIBRATION"  # {"decoys": {...}, "recipe": {...}}: what a variant changes


def _apply_overrides() -> None:
    """Set the variant's decoy constants and version-3 recipe (a no-op when the variable is unset)."""
    raw = os.environ.get(OVERRIDES)
    if not raw:
        return
    from dfbench.synth import decoys, pairs

    spec = json.loads(raw)
    for name, value in spec.get("decoys", {}).items():
        if not hasattr(decoys, name):
            raise SystemExit(f"--decoys: dfbench.synth.decoys has no constant {name}")
        setattr(decoys, name, tuple(value) if isinstance(value, list) else value)
    if spec.get("recipe"):
        pairs.V3 = dataclasses.replace(pairs.V3, **spec["recipe"])
        pairs.RECIPES[3] = pairs.V3


_apply_overrides()


def generate(args: argparse.Namespace) -> None:
    os.environ[OVERRIDES] = json.dumps({"decoys": json.loads(args.decoys), "recipe": json.loads(args.recipe)})
    _apply_overrides()
    from dfbench.synth.dataset import generate as make

    t = time.time()
    make(Path(args.out), seed=args.seed, pairs=tuple(int(v) for v in args.pairs.split(",")), version=3,
         workers=args.workers)
    print(f"generated {args.out} in {time.time() - t:.0f} s")


def _crops(cache: Path, root: Path, size: int, split: str, first: int | None = None,
           methods: tuple[str, ...] | None = None) -> list[tuple]:
    """(frames T x S x S x 3 uint8, label, method, pair) of every video of ``split`` (of its ``first``
    pairs only, and of ``methods``' fakes only, if given), from the crop cache (filled where missing)."""
    from dfbench.crops import CropCache
    from dfbench.layout import REAL
    from dfbench.probe import videos_of

    crops = CropCache(cache, root, "dataset", size=size)  # what `dfbench preprocess --size SIZE` fills
    items = videos_of(root)[split]
    keep = list(dict.fromkeys(v.pair for v in items))[:first]
    return [(np.load(crops.get(Path(v.path)).path), v.label, v.method, v.pair) for v in items
            if v.pair in keep and (v.method == REAL or not methods or v.method in methods)]


def train(args: argparse.Namespace) -> None:
    import torch
    from sklearn.metrics import roc_auc_score

    from dfbench_mmaction.base import build_model
    from dfbench_mmaction.detector import load_config
    from dfbench_mmaction.pretrained import load_pretrained, stand_in_weights

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    root, cache = Path(args.root), Path(args.cache)
    methods = tuple(args.methods.split(",")) if args.methods else None
    tr = _crops(cache, root, args.size, "train", args.train_pairs, methods)
    te = _crops(cache, root, args.size, "test", None, methods)
    print(f"{len(tr)} training videos, {len(te)} test videos", flush=True)
    if args.frame_model:  # the cpu-size XceptionNet on single frames, scored as the mean over VIEWS frames
        from dfbench_image.networks import LegacyXception

        model, T, batch, views = LegacyXception(width=0.25), 1, 32, 16
        mean = std = torch.full((1, 3, 1, 1, 1), 127.5)  # FF++'s Normalize([0.5] * 3, [0.5] * 3)
    else:  # the cpu-size clip model from its shipped stand-in weights, scored as the mean over VIEWS clips
        cfg = load_config(args.detector, "cpu")
        model, T, batch, views = build_model(cfg, "mmaction"), 16, 16, 9
        if not args.scratch:
            load_pretrained(model, stand_in_weights()[args.detector].source)
        mean = torch.tensor(cfg.model.data_preprocessor.mean).view(1, 3, 1, 1, 1)
        std = torch.tensor(cfg.model.data_preprocessor.std).view(1, 3, 1, 1, 1)
    labels = np.array([v[1] for v in tr])
    w_pos = (labels == 0).sum() / max((labels == 1).sum(), 1)  # class weights: the fakes outnumber the reals
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)

    def tensor(clips: list[np.ndarray]) -> torch.Tensor:
        x = torch.from_numpy(np.stack(clips)).float().permute(0, 4, 1, 2, 3)  # N C T H W
        return (x - mean) / std

    def logits(x: torch.Tensor) -> torch.Tensor:
        if args.frame_model:
            return model(x[:, :, 0].contiguous()).view(-1)
        return model.cls_head(model.extract_feat(x.contiguous().unsqueeze(1))[0]).view(-1)  # N x 1 clip

    def evaluate(step: int) -> None:
        model.eval()
        scores = []
        with torch.no_grad():
            for frames, *_ in te:
                starts = np.linspace(0, len(frames) - T, views).round().astype(int)
                scores.append(torch.sigmoid(logits(tensor([frames[s:s + T] for s in starts]))).mean().item())
        model.train()
        y, s = np.array([v[1] for v in te]), np.array(scores)
        meth = np.array([v[2] for v in te])
        per = {m: roc_auc_score(y[(meth == m) | (y == 0)], s[(meth == m) | (y == 0)])
               for m in sorted(set(meth[y == 1]))}
        if args.scores:  # the last evaluation's per-video scores, for benchmarks/test_split_sizing.py
            Path(args.scores).write_text(json.dumps([dict(label=int(v[1]), method=v[2], pair=v[3], score=float(x))
                                                     for v, x in zip(te, s, strict=True)]))
        print(f"step {step} test auc all {roc_auc_score(y, s):.3f} "
              + " ".join(f"{SHORT.get(m, m)} {v:.3f}" for m, v in per.items()), flush=True)

    model.train()
    t0, run = time.time(), 0.0
    for step in range(1, args.steps + 1):
        idx = rng.integers(0, len(tr), batch)
        clips = []
        for i in idx:
            frames = tr[i][0]
            s = int(rng.integers(0, len(frames) - T + 1))
            clip = frames[s:s + T]
            clips.append(clip[:, :, ::-1] if rng.random() < 0.5 else clip)
        y = torch.tensor(labels[idx], dtype=torch.float32)
        out = logits(tensor([np.ascontiguousarray(c) for c in clips]))
        weight = torch.where(y > 0, torch.tensor(float(w_pos)), torch.tensor(1.0))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(out, y, weight=weight)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 40)  # as the cpu schedule clips
        opt.step()
        run = 0.98 * run + 0.02 * loss.item()
        if step % args.every == 0 or step == args.steps:
            print(f"step {step} train loss {run:.3f} ({time.time() - t0:.0f} s)", flush=True)
            evaluate(step)


def compare(args: argparse.Namespace) -> None:
    """Two trainings' test scores (``train --scores``) per method: each AUC with its pair-bootstrap 95 %
    interval, and B minus A with the paired interval (dfbench.uncertainty), as records report them."""
    from dfbench.uncertainty import pair_bootstrap, paired_bootstrap_delta

    a, b = (json.loads(Path(f).read_text()) for f in (args.a, args.b))
    key = [(v["pair"], v["method"], v["label"], i) for i, v in enumerate(a)]
    if key != [(v["pair"], v["method"], v["label"], i) for i, v in enumerate(b)]:
        raise SystemExit(f"{args.a} and {args.b} score different videos")
    for method in ["all", *sorted({v["method"] for v in a if v["label"] == 1})]:
        keep = [i for i, v in enumerate(a) if method == "all" or v["label"] == 0 or v["method"] == method]
        y = [a[i]["label"] for i in keep]
        g = [a[i]["pair"] for i in keep]
        sa, sb = [a[i]["score"] for i in keep], [b[i]["score"] for i in keep]
        ca, cb = (pair_bootstrap(y, s, g, stats=("auc",))["ci95"]["auc"] for s in (sa, sb))
        d = paired_bootstrap_delta(y, sa, sb, g)
        lo, hi = d["delta_ci95"]
        print(f"{SHORT.get(method, method):>4}  A {d['auc_a']:.3f} [{ca[0]:.2f}, {ca[1]:.2f}]  "
              f"B {d['auc_b']:.3f} [{cb[0]:.2f}, {cb[1]:.2f}]  B-A {d['delta']:+.3f} [{lo:+.3f}, {hi:+.3f}] "
              f"p={d['p_value']:.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="a version-3 set with overridden decoys and recipe")
    g.add_argument("out")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--pairs", default="96,6,32", help="train,val,test pairs")
    g.add_argument("--decoys", default="{}", help="JSON: dfbench.synth.decoys constants")
    g.add_argument("--recipe", default="{}", help="JSON: fields of dfbench.synth.pairs.V3")
    g.add_argument("--workers", type=int, default=2)
    t = sub.add_parser("train", help="the diagnostic trainer (reads the test split: never a result)")
    t.add_argument("root")
    t.add_argument("--cache", required=True, help="the crop cache `dfbench preprocess --cache` filled")
    t.add_argument("--detector", default="resnext3d_nl")
    t.add_argument("--size", type=int, default=64)
    t.add_argument("--steps", type=int, default=5000)
    t.add_argument("--every", type=int, default=500)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--wd", type=float, default=1e-4)  # the cpu schedule's
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--scratch", action="store_true", help="no stand-in weights")
    t.add_argument("--frame-model", action="store_true", help="the cpu-size XceptionNet on frames instead")
    t.add_argument("--train-pairs", type=int, default=None, help="train on the split's first N pairs only")
    t.add_argument("--methods", default=None, help="comma-separated: these methods' fakes only (default: all)")
    t.add_argument("--scores", default=None, help="write the test videos' scores here (JSON) at each evaluation")
    c = sub.add_parser("compare", help="two trainings' test scores: AUCs with intervals, and their paired difference")
    c.add_argument("a")
    c.add_argument("b")
    args = p.parse_args()
    {"generate": generate, "train": train, "compare": compare}[args.cmd](args)


if __name__ == "__main__":
    main()
