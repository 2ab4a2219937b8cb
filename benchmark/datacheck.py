"""``dfbench data check``: what a dataset root holds per method and split, and what is missing."""

from __future__ import annotations

from pathlib import Path

from dfbench import splits as S
from dfbench.layout import ALL_METHODS, REAL, method_dir, open_root
from dfbench.plan import split_videos


def check(root: Path, compression: str = "c40", splits_dir: Path | None = None) -> dict:
    """Counts of present and expected videos per method and split, and the missing paths."""
    ds = open_root(root, compression)
    sp = S.load(ds.path, splits_dir)
    present_methods = [m for m in ALL_METHODS if (method_dir(ds.path, m, compression) / "videos").is_dir()]
    report: dict = {"root": str(ds.path), "kind": ds.kind, "compression": compression,
                    "methods": {}, "missing": []}
    for method in [REAL, *present_methods]:
        row = {}
        for split in S.SPLITS:
            videos = [v for v in split_videos(ds.path, compression, sp[split], (method,) if method != REAL else ())
                      if v.method == method]
            missing = [str(v.path) for v in videos if not v.path.is_file()]
            row[split] = {"expected": len(videos), "present": len(videos) - len(missing)}
            report["missing"] += missing
        report["methods"][method] = row
    report["absent_methods"] = [m for m in ALL_METHODS if m not in present_methods]
    report["ok"] = not report["missing"]
    return report


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
    return "\n".join(lines)
