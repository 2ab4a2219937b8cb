"""The leaderboard: a pure function from result records (and the paper's numbers) to Markdown.

Three sections in the seed paper's layouts: protocol ``all`` (Tables 2 and 3), ``single``
(Table 4) and ``cross`` (Table 5); then, where records exist, data the detectors never saw
(``cross-dataset``, ``cross-compression``, ``robustness``: :mod:`dfbench.board_unseen`). Every
paper table mixes two kinds of row, told apart by the Source column: "paper (FF++ c40)" rows
carry the study's reported numbers verbatim, measured rows aggregate dfbench result records.

Formatting is fixed so the output is byte-for-byte reproducible:

- TCR (accuracy at threshold 0.5) in percent with 2 decimals (a measured 0.9375 is "93.75";
  the paper's 81.0 is "81.00"); AUC as a fraction with 3 decimals (the paper's 0.91 is "0.910").
  Rounding is Python's formatting of the exact binary value (a tie such as 90.625 gives "90.62").
- A missing value is "–".
- Measured cells carry their 95% pair-bootstrap interval, "93.33 [86.7, 98.3]" (one decimal fewer
  than the value), and the rows tied for first are bold (:mod:`dfbench.board_stats`).
- Records of one configuration (detector, size, data, protocol and version) run with several
  seeds become one row: each cell is the mean over the seeds that have that value, followed by
  the sample standard deviation, the count and the pooled interval, "87.50 ± 1.20 (n=3) [84.1, 90.2]".
  The Source column lists the seeds. One row per configuration keeps the tables the
  paper's size however many seeds are run.
- Detectors that are one model under two names (the same settings but the name, the same score on
  every test video: ``resnet3d`` at the cpu size, with no Kinetics weights, is ``resnet3d_scratch``)
  share one row, ``resnet3d = resnet3d_scratch``, with a note (:mod:`dfbench.same_model`).
- Detectors in the paper's order (image baselines, I3D, 3D ResNet variants, 3D ResNeXt
  variants), then unknown ones (third-party plugins) alphabetically; within a detector the
  paper's row first, then measured rows by data, compression, size, protocol, version.
- No timestamps and no absolute paths.
- Records are checked before they are shown (:mod:`dfbench.record_check`, through
  ``results.load_all``); a refused record is one warning naming its file.
- Several records of one configuration and seed (a re-run with changed code, say): the newest
  (by ``created``) is shown, and a closing note counts the superseded ones. Settings a user
  changed from the protocol's defaults (epochs, precision, non-default pretrained weights, the
  face finder) make rows of their own, named in the Source column.
- Text that comes from records is escaped for Markdown; a column "Skipped videos" appears where a
  row's runs could not use every video.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dfbench import board_stats, board_unseen, cost_table, probe_detector, same_model
from dfbench import reference as ref
from dfbench.layout import METHODS, SHORT  # METHODS is the paper's column order
from dfbench.results import RunResult, load_all

MISSING = "–"
PAPER_SOURCE = "paper (FF++ c40)"
_SIZE_RANK = {"paper": 0, "cpu": 1}
_KINDS = ("all", "single", "cross")


@dataclass(frozen=True, order=True)
class _Config:
    """What makes measured records comparable enough to share one row (everything but the seed)."""

    kind: str
    compression: str
    data_seed: int  # -1 when the dataset has no generator seed (FF++)
    size_rank: int
    size: str
    protocol: str
    version: int
    variant: str = ""  # settings changed from the defaults, e.g. "epochs 1, bf16" (see _variant)
    train: tuple[str, ...] = ()  # protocol `all` only; the other protocols vary it per run
    test: tuple[str, ...] = ()
    trained: str = ""  # evaluation records: the settings id of the training run they scored with

    def source(self, seeds: Iterable[int]) -> str:
        data = f"{self.kind} {self.compression}"
        if self.data_seed >= 0:
            data += f" (data seed {self.data_seed})"
        seeds = sorted(set(seeds))
        seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(map(str, seeds))
        variant = f", {self.variant}" if self.variant else ""
        return escape(f"measured: {data}, {self.size} size, {seed_text}, {self.protocol} v{self.version}{variant}")


_MARKUP = re.compile(r"[\\`*|<>\[\]#]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def escape(text: str) -> str:
    """Text from a record made inert in a Markdown table: markup characters backslash-escaped (an
    underscore inside a word, as in ``resnet3d_nl``, is not markup), line breaks as spaces."""
    return _MARKUP.sub(lambda m: "\\" + m.group(0), " ".join(str(text).split()))


def _variant(r: RunResult) -> str:
    """The settings of a record that differ from the protocol's defaults, in words ("" for none)."""
    training = r.settings.get("training", {}) if isinstance(r.settings, dict) else {}
    parts = []
    if training.get("epochs") is not None:
        parts.append(f"epochs {training['epochs']}")
    if r.precision != "fp32":
        parts.append(r.precision)
    pretrained = training.get("pretrained")
    if isinstance(pretrained, dict) and not pretrained.get("default"):
        sha = pretrained.get("sha256")
        parts.append(f"pretrained {sha[:8]}" if sha else "not pretrained")
    finder = r.preprocessing.get("face_finder")
    if finder and finder != "dataset":
        parts.append(f"face finder {finder}")
    return ", ".join(parts)


def latest(records: Iterable[RunResult]) -> tuple[list[RunResult], list[RunResult]]:
    """(shown, superseded): of the records of one configuration, run and seed, only the newest is shown."""
    groups: dict[tuple, list[RunResult]] = defaultdict(list)
    for r in records:
        groups[(r.detector, r.run, r.seed, _config(r, True))].append(r)
    shown, superseded = [], []
    for recs in groups.values():
        recs = sorted(recs, key=lambda r: (r.created, r.settings_id))
        shown.append(recs[-1])
        superseded += recs[:-1]
    return shown, superseded


def _config(r: RunResult, with_methods: bool) -> _Config:
    ds = r.dataset
    return _Config(
        kind=ds.kind,
        compression=ds.compression,
        data_seed=-1 if ds.seed is None else ds.seed,
        size_rank=_SIZE_RANK.get(r.size, len(_SIZE_RANK)),
        size=r.size,
        protocol=r.protocol,
        version=r.protocol_version,
        variant=_variant(r),
        train=_canonical(r.train_methods) if with_methods else (),
        test=_canonical(r.test_methods) if with_methods else (),
        trained=(r.trained or {}).get("settings_id", ""),
    )


def _canonical(methods: Iterable[str]) -> tuple[str, ...]:
    """Fake methods in the paper's order, unknown ones after alphabetically; originals dropped
    because every split holds them."""
    fakes = set(methods) - {"original"}
    return tuple(m for m in METHODS if m in fakes) + tuple(sorted(fakes - set(METHODS)))


def _show_methods(methods: Iterable[str]) -> str:
    shown = [escape(SHORT.get(m, m)) for m in _canonical(methods)]
    return ", ".join(shown) if shown else MISSING


def _run_method(r: RunResult) -> str:
    """The method a single/cross run is about: trained and tested on (single) or held out (cross)."""
    if "-" in r.run:
        return r.run.split("-", 1)[1]
    return "+".join(_canonical(r.test_methods))


def _detector_key(order: dict[str, int]):
    """Paper order by name; a merged row (``a = b``, :mod:`dfbench.same_model`) sorts as its first name."""
    return lambda name: (order.get(same_model.first_name(name), len(order)), name)


# --- number formatting ---------------------------------------------------------------------------


def _number(x) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _fmt(values: Sequence[float], decimals: int) -> str:
    """Mean, and for several values "± sample std (n=k)"; values summed in sorted order so the
    result does not depend on the order the records came in."""
    values = sorted(values)
    if not values:
        return MISSING
    mean = math.fsum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {statistics.stdev(values):.{decimals}f} (n={len(values)})"


# --- tables --------------------------------------------------------------------------------------

SKIPPED = "Skipped videos"


def _skipped(records: Sequence[RunResult]) -> str:
    """Videos the row's runs could not use (unreadable, no face), summed over runs and seeds."""
    n = sum(len(r.failed_videos) for r in records)
    return str(n) if n else ""


def _with_skipped(columns: list[str], rows: list[dict]) -> list[str]:
    """The columns, plus "Skipped videos" when some row skipped any."""
    return columns + [SKIPPED] if any(row.get(SKIPPED) for row in rows) else columns


def _table(rows: list[dict], columns: list[str], numeric: set[str]) -> str:
    if not rows:
        return "_No rows: no results of this protocol and no reference numbers._"
    frame = pd.DataFrame(rows, columns=columns)
    align = ["right" if c in numeric else "left" for c in columns]
    # disable_numparse keeps our strings as formatted ("81.00" must not become "81").
    return frame.to_markdown(index=False, disable_numparse=True, colalign=align)


def _paper_label(detector: str) -> str:
    note = ref.VARIANT_NOTES.get(detector)
    return f"{detector} ({note})" if note else detector


def _notes(paper_detectors: set[str]) -> list[str]:
    """The footnote-like lines under a table that holds paper rows."""
    if not paper_detectors:
        return []
    lines = [
        f'Rows with Source "{PAPER_SOURCE}" are the numbers reported by {ref.CITATION}, '
        "on FaceForensics++ c40 (LQ); they are not runs of dfbench."
    ]
    quoted = [d for d in ref.detector_order() if d in paper_detectors and d in ref.QUOTED_DETECTORS]
    if quoted:
        line = (
            f"The image baselines' rows ({', '.join(quoted)}) are quoted by that study from "
            f"{ref.QUOTED_FROM}."
        )
        if "mesonet" in quoted:
            line += " Which MesoNet variant they used is not stated."
        lines.append(line)
    return ["", *(f"> {line}" for line in lines)]


def _reading_note(measured: bool, marked: str) -> list[str]:
    """How to read the intervals and the bold cells, under a table with measured rows."""
    if not measured:
        return []
    return ["", f"> Measured cells show the value and its 95% interval from a pair-clustered bootstrap of the "
            f"test videos (2,000 resamples; several seeds: mean ± sd (n) and the pooled interval). A bold {marked} "
            f"is not significantly below the best measured row on the same test videos (DeLong's test, two-sided, "
            f"Holm-corrected, α = {board_stats.ALPHA}). The paper's rows have no intervals: it reports no "
            "per-video scores. See docs/metrics.md."]


def _by_detector(records: Iterable[RunResult], with_methods: bool) -> dict[str, dict[_Config, list]]:
    out: dict[str, dict[_Config, list]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        out[r.detector][_config(r, with_methods)].append(r)
    return out


def _section_all(results: list[RunResult], reference: Sequence[ref.ReferenceRow], dkey) -> list[str]:
    paper: dict[str, dict[str, ref.ReferenceRow]] = defaultdict(dict)
    for row in reference:
        if row.protocol == "all" and row.metric in ("tcr", "auc"):
            paper[row.detector][row.metric] = row
    measured = _by_detector((r for r in results if r.protocol_kind == "all"), with_methods=True)

    rows: list[dict] = []
    row_records: dict[int, list[RunResult]] = {}
    for det in sorted(set(paper) | set(measured), key=dkey):
        if det in paper:
            p = paper[det]
            any_row = p.get("tcr") or p["auc"]
            rows.append(
                {
                    "Detector": _paper_label(det),
                    "Source": PAPER_SOURCE,
                    "Train": _show_methods(any_row.train),
                    "Test": _show_methods(any_row.test),
                    "TCR (%)": _fmt([p["tcr"].value], 2) if "tcr" in p else MISSING,
                    "AUC": _fmt([p["auc"].value], 3) if "auc" in p else MISSING,
                }
            )
        for cfg, recs in sorted(measured.get(det, {}).items()):
            row_records[len(rows)] = recs
            rows.append(
                {
                    "Detector": escape(det),
                    "Source": cfg.source(r.seed for r in recs),
                    "Train": _show_methods(cfg.train),
                    "Test": _show_methods(cfg.test),
                    "TCR (%)": board_stats.cell(recs, "tcr", 2, scale=100.0),
                    "AUC": board_stats.cell(recs, "auc", 3),
                    SKIPPED: _skipped(recs),
                }
            )
    for i in board_stats.tied_rows(row_records):
        rows[i]["AUC"] = board_stats.bold(rows[i]["AUC"])
    columns = _with_skipped(["Detector", "Source", "Train", "Test", "TCR (%)", "AUC"], rows)
    return [
        "## Protocol `all`",
        "",
        "Trained and tested on all four manipulation methods with the original videos "
        "(paper Tables 2 and 3; the paper reports AUC only for the 3D ResNet and 3D ResNeXt "
        "variants with attention).",
        "",
        _table(rows, columns, {"TCR (%)", "AUC", SKIPPED}),
        *_notes(set(paper)),
        *_reading_note(bool(row_records), "AUC"),
    ]


def _section_per_method(
    kind: str, results: list[RunResult], reference: Sequence[ref.ReferenceRow], dkey
) -> list[str]:
    """Tables 4 (``single``) and 5 (``cross``): one TCR column per method, one row per detector and source."""
    paper: dict[str, dict[str, float]] = defaultdict(dict)
    for row in reference:
        if row.protocol == kind and row.metric == "tcr":
            paper[row.detector]["+".join(_canonical(row.test))] = row.value
    measured = _by_detector((r for r in results if r.protocol_kind == kind), with_methods=False)

    seen = {m for cells in paper.values() for m in cells}
    seen |= {_run_method(r) for recs in measured.values() for rs in recs.values() for r in rs}
    methods = list(METHODS) + sorted(seen - set(METHODS))
    headers = [escape(SHORT.get(m, m)) for m in methods]

    rows: list[dict] = []
    column_records: dict[str, dict[int, list[RunResult]]] = defaultdict(dict)
    for det in sorted(set(paper) | set(measured), key=dkey):
        if det in paper:
            cells = paper[det]
            rows.append(
                {"Detector": _paper_label(det), "Source": PAPER_SOURCE}
                | {
                    h: _fmt([cells[m]], 2) if m in cells else MISSING
                    for m, h in zip(methods, headers, strict=True)
                }
            )
        for cfg, recs in sorted(measured.get(det, {}).items()):
            per_method: dict[str, list[RunResult]] = defaultdict(list)
            for r in recs:
                per_method[_run_method(r)].append(r)
            for m, h in zip(methods, headers, strict=True):
                column_records[h][len(rows)] = per_method.get(m, [])
            rows.append(
                {"Detector": escape(det), "Source": cfg.source(r.seed for r in recs)}
                | {
                    h: board_stats.cell(per_method.get(m, []), "tcr", 2, scale=100.0)
                    for m, h in zip(methods, headers, strict=True)
                }
                | {SKIPPED: _skipped(recs)}
            )
    for h, by_row in column_records.items():
        for i in board_stats.tied_rows({i: recs for i, recs in by_row.items() if recs}):
            rows[i][h] = board_stats.bold(rows[i][h])

    if kind == "single":
        title, intro = (
            "## Protocol `single`",
            (
                "Trained and tested on one manipulation method at a time, with the original videos; "
                "TCR (%) per method (paper Table 4)."
            ),
        )
    else:
        title, intro = (
            "## Protocol `cross`",
            (
                "Trained on three manipulation methods with the original videos, tested on the "
                "fourth, held-out one (the column) with the original videos; TCR (%) (paper Table 5, "
                "transposed: the paper's columns are detectors)."
            ),
        )
    return [
        title,
        "",
        intro,
        "",
        _table(rows, _with_skipped(["Detector", "Source", *headers], rows), set(headers) | {SKIPPED}),
        *_notes(set(paper)),
        *_reading_note(bool(column_records), "TCR cell (ties judged on the runs' AUC)"),
    ]


def _section_names(detectors: set[str], reference: Sequence[ref.ReferenceRow], dkey) -> list[str]:
    names = {}
    for row in reference:
        names.setdefault(row.detector, row.label)
    rows = [{"Detector": d, "Paper's name": names[d]} for d in sorted(detectors, key=dkey) if d in names]
    if not rows:
        return []
    return [
        "## Detector names",
        "",
        "dfbench's detector names and the rows they stand for in the paper.",
        "",
        _table(rows, ["Detector", "Paper's name"], set()),
    ]


def render(
    results: list[RunResult],
    reference: Sequence[ref.ReferenceRow] | None = None,
    *,
    results_dir: str | None = None,
    profiles: Sequence | None = None,
    figures: Sequence[str] = (),
) -> str:
    """Render the leaderboard Markdown.

    ``reference``: the paper's rows; ``None`` takes the shipped ones, ``[]`` leaves them out.
    ``results_dir``: the folder named in the header (relative, so the output stays reproducible).
    ``profiles``: ``dfbench profile`` records for the Cost table (``dfbench.cost_table``), beside Table 6.
    ``figures``: paths of figures (``dfbench analyze figures``), relative to the Markdown file, linked at the end.
    Records of evaluation protocols get sections of their own (:mod:`dfbench.board_unseen`); records of
    any other protocol kind are counted in a closing note.
    The output depends only on the arguments, not on the order of ``results``.
    """
    reference = ref.load() if reference is None else reference
    order = {name: i for i, name in enumerate(ref.detector_order())}
    dkey = _detector_key(order)
    where = f"the stored results in `{results_dir}`" if results_dir else "the stored result records"

    lines = [
        "# dfbench leaderboard",
        "",
        f"Generated by `dfbench leaderboard` from {where}; do not edit this file by hand, "
        "regenerate it. Each measured row's Source column says which data, model size, seed(s) "
        "and protocol version it came from"
        + (
            f'; rows whose Source is "{PAPER_SOURCE}" are the seed study\'s reported numbers '
            "(see the note under each table)."
            if reference
            else "."
        ),
        "",
        "TCR is the accuracy at threshold 0.5, in percent; AUC the area under the ROC curve. "
        "A row over several seeds shows mean ± sample standard deviation (n = seeds); "
        f'"{MISSING}" marks a value not measured or not reported.',
        "",
    ]
    by_file = {r.file_name: r for r in results}
    results, superseded = latest(results)
    results, one_model = same_model.merge(results, dkey, escape)  # one row for one model under two names
    floor = ["", f"> {probe_detector.BOARD_NOTE}"] if any(r.detector == probe_detector.NAME for r in results) else []
    lines += _section_all(results, reference, dkey) + one_model + floor + [""]
    lines += _section_per_method("single", results, reference, dkey) + [""]
    lines += _section_per_method("cross", results, reference, dkey) + [""]
    lines += board_unseen.sections(results, by_file, dkey, escape, _table)  # cross-dataset, -compression, robustness
    cost = cost_table.section(profiles or [], reference, dkey)  # paper Table 6 and `dfbench profile` records
    if cost:
        lines += cost + [""]

    detectors = {r.detector for r in results} | {row.detector for row in reference if row.protocol in _KINDS}
    names = _section_names(detectors, reference, dkey)
    if names:
        lines += names + [""]

    if figures:
        lines += ["## Figures", "", "The paper's analysis (§5.3-5.5) on the records above, made by `dfbench analyze "
                  "figures` (see docs/analysis.md for what each shows and how it is measured):", ""]
        lines += [f"- [{escape(Path(f).name)}]({f})" for f in sorted(figures)] + [""]
    if superseded:
        lines += [f"Not shown: {len(superseded)} record(s) superseded by a newer record of the same "
                  "configuration, run and seed (re-runs after a change of code or data).", ""]
    shown_kinds = set(_KINDS) | set(board_unseen.KINDS)
    other = sorted({r.protocol_kind for r in results} - shown_kinds)
    if other:
        count = sum(r.protocol_kind not in shown_kinds for r in results)
        lines += [f"Not shown: {count} record(s) of protocol kind(s) {', '.join(other)}.", ""]
    return "\n".join(lines)


def figures_beside(board: str | Path) -> list[str]:
    """The figures in the ``figures/`` folder next to the leaderboard file (``dfbench analyze figures``'
    output), as links relative to it; the JSON summaries too, never the raw matrices."""
    folder = Path(board).parent / "figures"
    if not folder.is_dir():
        return []
    return [f"figures/{p.name}" for p in sorted(folder.iterdir()) if p.suffix in (".png", ".svg", ".json")]


def render_dir(results_dir: str | Path, warn=None, figures: Sequence[str] = ()) -> str:
    """Render the records stored in ``results_dir``; the header names the folder relative to the
    working directory (or by its own name when it lies elsewhere), never as an absolute path.
    ``warn(line)`` hears of each record refused by :func:`dfbench.results.read_record`."""
    path = Path(results_dir)
    shown = path
    if path.is_absolute():
        try:
            shown = path.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            shown = Path(path.name)
    records = load_all(path, warn=warn or (lambda _line: None))  # refused records are left out, with a warning
    return render(records, results_dir=shown.as_posix(), profiles=cost_table.load(path), figures=figures)
