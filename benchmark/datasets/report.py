"""What ``dfbench datasets`` and ``dfbench data check --dataset`` print, as values (the commands only print).

``describe(roots)`` lists every registered dataset and checks the ``ID=ROOT`` roots given;
``check(dataset_id, root, ...)`` counts one root's test videos by method and label, lists the missing
ones and (unless ``quick``) the undecodable ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from dfbench.datasets import available, check_root, get
from dfbench.errors import DfbenchError


def parse_root(text: str) -> tuple[str, Path]:
    """``"celebdf=/data/Celeb-DF-v2"`` -> ``("celebdf", Path(...))``; a one-line error otherwise."""
    dataset_id, sep, root = text.partition("=")
    if not sep or not dataset_id.strip() or not root.strip():
        raise DfbenchError(f"--root {text!r}: give ID=ROOT, e.g. celebdf=/data/Celeb-DF-v2 (ids: "
                           f"{', '.join(available())})")
    get(dataset_id.strip())  # an unknown id is a one-line error naming the known ones
    return dataset_id.strip(), Path(root.strip())


def describe(roots: Sequence[str] = ()) -> dict:
    """Every registered dataset (``spec.to_dict()``), and for each ``ID=ROOT`` given whether the root
    passes ``check_root``; ``ok`` is False when one does not."""
    checks = [check_root(dataset_id, root) for dataset_id, root in map(parse_root, roots)]
    return {"datasets": [spec.to_dict() for spec in available().values()], "roots": checks,
            "ok": all(c["ok"] for c in checks)}


def format_describe(report: dict) -> str:
    lines = []
    for d in report["datasets"]:
        variants = ", ".join(f"{v} (default)" if i == 0 else v for i, v in enumerate(d["variants"]))
        lines += [f"{d['id']}: {d['title']}  [{d['plugin']}]",
                  f"  variants: {variants}",
                  f"  on disk:  {d['layout']}",
                  f"  labels:   {d['labels'] or '0 = real, 1 = fake (dfbench convention)'}",
                  f"  boxes:    {d['boxes']}",
                  "  twin:     " + (f"yes (dfbench data synth --layout {d['id']} --out DIR)" if d["twin"] else "no")
                  + ("; trainable (official train/val/test splits)" if d["trainable"] else "")]
    for c in report["roots"]:
        if c["ok"]:
            lines.append(f"{c['dataset']}={c['root']}: ok ({c['kind']}, {c['variant']}): {c['test_videos']} test "
                         f"videos ({c['real']} real, {c['fake']} fake), {'boxes' if c['boxes'] else 'no boxes'}")
        else:
            lines.append(f"{c['dataset']}={c['root']}: FAILED: {c['problem']}")
    return "\n".join(lines)


def check(dataset_id: str, root: Path, variant: str | None = None, *, quick: bool = False,
          progress: Callable[[str], None] | None = None) -> dict:
    """A root's test videos, present and expected by method and label; the missing paths; and (unless
    ``quick``) the present videos whose first or last frame does not decode, with the reason."""
    from dfbench.datacheck import finish

    spec = get(dataset_id)
    variant = spec.variant(variant)
    ds = spec.open(Path(root), variant)
    videos = spec.test_videos(ds, variant)
    report: dict = {"root": str(ds.path), "dataset": dataset_id, "variant": variant, "kind": ds.kind,
                    "test_videos": len(videos), "methods": [], "missing": [], "unreadable": [], "decoded": not quick,
                    "boxes": spec.has_boxes(ds.path, variant)}
    rows: dict[tuple[str, int], dict] = {}
    present = []
    for v in videos:
        row = rows.setdefault((v.method, v.label), {"method": v.method, "label": v.label, "expected": 0, "present": 0})
        row["expected"] += 1
        if v.path.is_file():
            row["present"] += 1
            present.append(v.path)
        else:
            report["missing"].append(str(v.path))
    report["methods"] = list(rows.values())
    return finish(report, present, quick, progress)


def format_check(report: dict) -> str:
    lines = [f"{report['root']} ({report['kind']}, {report['dataset']} {report['variant']})",
             f"{'method':<24}{'label':<10}{'present/expected':>18}"]
    for r in report["methods"]:
        lines.append(f"{r['method']:<24}{str(r['label']) + (' fake' if r['label'] else ' real'):<10}"
                     f"{str(r['present']) + '/' + str(r['expected']):>18}")
    if report["missing"]:
        lines.append(f"{len(report['missing'])} test videos missing, e.g. {report['missing'][0]}")
    else:
        lines.append(f"all {report['test_videos']} test videos present")
    from dfbench.datacheck import decode_lines

    return "\n".join(lines + decode_lines(report))


def write_twin(dataset_id: str, out: Path, seed: int = 0, variant: str | None = None,
               pairs: tuple[int, int, int] | None = None, num_frames: int | None = None, progress=None) -> dict:
    """Write ``dataset_id``'s synthetic twin under ``out`` (``dfbench data synth --layout``); its manifest."""
    spec = get(dataset_id)
    if spec.twin is None:
        raise DfbenchError(f"dataset {dataset_id} has no synthetic twin ({spec.plugin} registers none); "
                           f"`dfbench datasets` says which have one")
    kw = {k: v for k, v in (("pairs", pairs), ("num_frames", num_frames)) if v is not None}
    return spec.twin(Path(out), seed=seed, variant=spec.variant(variant), progress=progress, **kw)


def format_twin(out: Path, dataset_id: str, seed: int, manifest: dict) -> str:
    c = manifest.get("counts", {})
    line = f"{out}: {c.get('videos', manifest.get('videos', '?'))} videos in the {dataset_id} layout"
    if "test_videos" in c:
        line += f" ({c['test_videos']} test videos: {c.get('real', '?')} real, {c.get('fake', '?')} fake)"
    return line + f", seed {seed}"
