"""``dfbench data check``: what a dataset root holds per method and split, what is missing, and
which videos do not decode (each video's first and last frame are decoded unless ``quick``)."""

from __future__ import annotations

from pathlib import Path

from dfbench import splits as S
from dfbench.errors import BadVideoError
from dfbench.layout import ALL_METHODS, REAL, method_dir, open_root
from dfbench.plan import split_videos


def check(root: Path, compression: str = "c40", splits_dir: Path | None = None, *, quick: bool = False,
          progress=None) -> dict:
    """Counts of present and expected videos per method and split, the missing paths, and (unless
    ``quick``) the present videos whose first or last frame does not decode, with the reason."""
    ds = open_root(root, compression)
    sp = S.load(ds.path, splits_dir)
    present_methods = [m for m in ALL_METHODS if (method_dir(ds.path, m, compression) / "videos").is_dir()]
    report: dict = {"root": str(ds.path), "kind": ds.kind, "compression": compression,
                    "methods": {}, "missing": [], "unreadable": [], "decoded": not quick}
    present: list[Path] = []
    for method in [REAL, *present_methods]:
        row = {}
        for split in S.SPLITS:
            videos = [v for v in split_videos(ds.path, compression, sp[split], (method,) if method != REAL else ())
                      if v.method == method]
            missing = [str(v.path) for v in videos if not v.path.is_file()]
            row[split] = {"expected": len(videos), "present": len(videos) - len(missing)}
            report["missing"] += missing
            present += [v.path for v in videos if v.path.is_file()]
        report["methods"][method] = row
    report["absent_methods"] = [m for m in ALL_METHODS if m not in present_methods]
    return finish(report, present, quick, progress)


def finish(report: dict, present: list[Path], quick: bool, progress=None) -> dict:
    """Decode the first and last frame of every present video (unless ``quick``), list the unreadable
    ones in ``report``, and set ``ok``: no video missing, none unreadable."""
    if not quick:
        for i, path in enumerate(present, 1):
            problem = unreadable(path)
            if problem:
                report["unreadable"].append({"path": str(path), "problem": problem})
            if progress and (i % 100 == 0 or i == len(present)):
                progress(f"decoded {i}/{len(present)} videos")
    report["ok"] = not report["missing"] and not report["unreadable"]
    return report


def unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be used as a video (empty, no frames, first or last frame not decodable), or None."""
    from dfbench.crops import VideoSource

    try:
        source = VideoSource(path, budget=0)  # budget 0: decode only the frames asked for
        source.frames([0, source.num_frames - 1])
    except BadVideoError as e:
        return e.problem
    return None


def format_report(report: dict) -> str:
    lines = [f"{report['root']} ({report['kind']}, {report['compression']})",
             f"{'method':<18}" + "".join(f"{s:>16}" for s in S.SPLITS)]
    for method, row in report["methods"].items():
        cells = "".join(f"{str(row[s]['present']) + '/' + str(row[s]['expected']):>16}" for s in S.SPLITS)
        lines.append(f"{method:<18}{cells}")
    if report["absent_methods"]:
        lines.append("not downloaded: " + ", ".join(report["absent_methods"]))
    if report["missing"]:
        lines.append(f"{len(report['missing'])} videos missing, e.g. {report['missing'][0]}")
    else:
        lines.append("all expected videos present")
    return "\n".join(lines + decode_lines(report))


def decode_lines(report: dict) -> list[str]:
    """The report's closing lines: each unreadable video, then whether every present one decodes."""
    lines = [f"unreadable: {bad['path']}: {bad['problem']}" for bad in report["unreadable"]]
    if not report["decoded"]:
        return lines + ["videos not decoded (--quick)"]
    return lines + [f"{len(report['unreadable'])} unreadable videos" if report["unreadable"]
                    else "every present video decodes (first and last frame)"]
