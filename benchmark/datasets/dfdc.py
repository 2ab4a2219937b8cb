"""The DeepFake Detection Challenge dataset (Dolhansky et al. 2020), in the layout found on disk.

Three layouts are recognised, tried in this order:

(a) the public test set: ``labels.csv`` with the header ``filename,label`` (label 1 = fake, 0 = real,
    dfbench's own convention) and its videos in ``videos/`` beside it, or beside ``labels.csv``
    itself when there is no ``videos/`` folder. The test videos are the rows, in file order; keys
    are ``test/<stem>``. ``labels.csv`` names no original video, so each video is its own identity
    group (the bootstrap then treats the videos as independent).
(b) the training parts: ``dfdc_train_part_<k>/metadata.json`` beside ``dfdc_train_part_<k>/<name>.mp4``,
    mapping ``"<name>.mp4"`` to ``{"label": "REAL" | "FAKE", "split": ..., "original": "<real>.mp4"}``
    (a fake names the real video it was made from). The test videos are every video of every part
    found, sorted by part number, then name; keys are ``dfdc_train_part_<k>/<stem>``; a fake's group
    is its original's stem (it clusters with its real video), a real's group its own stem.
(c) the preview set (DFDC-P): ``dataset.json`` mapping each video's path under the root
    (``original_videos/...``, ``method_A/...``, ``method_B/...``) to ``{"label": "real" | "fake",
    "set": "train" | "test", ...}``; the test videos are those with ``set == "test"``, in file order;
    keys are ``<top folder>/<rest of the path, "/" spelt "--">``; the group is the entry's
    ``target_id`` when it has one, else the video's stem.

The method of every video is ``real`` or ``fake``: DFDC does not say which manipulation made a fake.
No layout ships face boxes; the twin (layout (b)) writes ``<root>/boxes/<name>.json``, which is
``video.parent.parent / "boxes"`` for a part's video (its random names are unique across parts).

What could be confirmed from public sources, and what could not:

- (b) is the Kaggle training download (``dfdc_train_part_0`` ... ``dfdc_train_part_49``, each with a
  ``metadata.json`` of ``label``/``split``/``original``): the competition's data page and many
  loaders agree (e.g. DeepfakeBench's preprocessing/rearrange.py reads ``metadata[name]["label"]``).
- (a): DeepfakeBench's rearrange.py reads ``test/labels.csv`` with the columns ``filename`` and
  ``label`` (0 real, 1 fake), and finds the videos under ``test/`` recursively, so whether they sit
  in ``videos/`` or beside ``labels.csv`` could not be confirmed: both are accepted. Another loader
  (mever-team/DeepFakeChain) reads a test ``metadata.json`` with ``is_fake`` instead; that form is
  not supported.
- (c): the keys (paths starting ``original_videos``/``method_A``/``method_B``), ``label`` real/fake and
  ``set`` train/test are read the same way by DeepfakeBench's rearrange.py and DeepFakeChain's
  inputs/sources.py (which also reads ``target_id`` and ``swapped_id``); no official description of
  the file was found.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from dfbench.datasets import DatasetSpec
from dfbench.datasets._common import require_dir, synthetic_manifest
from dfbench.errors import DfbenchError
from dfbench.layout import DatasetRoot
from dfbench.plan import PlannedVideo

ID = "dfdc"
LABELS_CSV = "labels.csv"
METADATA = "metadata.json"
PREVIEW = "dataset.json"
PART = re.compile(r"^dfdc_train_part_(\d+)$")
METHOD = {0: "real", 1: "fake"}
WHAT = ("labels.csv and videos/ (the public test set), the dfdc_train_part_<k>/ folders with their metadata.json "
        "(the training download) or the preview's dataset.json")


def layout_of(root: Path) -> str:
    """``test`` (labels.csv), ``parts`` (dfdc_train_part_<k>/) or ``preview`` (dataset.json); an error otherwise."""
    root = Path(root)
    if (root / LABELS_CSV).is_file():
        return "test"
    if parts(root):
        return "parts"
    if (root / PREVIEW).is_file():
        return "preview"
    raise DfbenchError(f"{root}: no {LABELS_CSV}, dfdc_train_part_<k>/ folder or {PREVIEW}, so this is not a DFDC "
                       f"layout; pass the folder that holds {WHAT}")


def parts(root: Path) -> list[Path]:
    """The ``dfdc_train_part_<k>`` folders, by part number."""
    found = [p for p in Path(root).glob("dfdc_train_part_*") if p.is_dir() and PART.match(p.name)]
    return sorted(found, key=lambda p: int(PART.match(p.name).group(1)))


def open_root(root: Path, variant: str = "full") -> DatasetRoot:
    root = require_dir(root, WHAT)
    layout = layout_of(root)
    if layout == "parts":
        for part in parts(root):
            if not (part / METADATA).is_file():
                raise DfbenchError(f"{part}: no {METADATA}, so its labels are unknown; extract the part's zip "
                                   f"again (it holds {METADATA} beside the videos) or move the folder away")
    return DatasetRoot(root, synthetic_manifest(root, ID), dataset=ID)


def test_videos(ds: DatasetRoot, variant: str = "full") -> list[PlannedVideo]:
    layout = layout_of(ds.path)
    return {"test": _labels_csv, "parts": _parts, "preview": _preview}[layout](ds.path)


def _labels_csv(root: Path) -> list[PlannedVideo]:
    path = root / LABELS_CSV
    folder = root / "videos" if (root / "videos").is_dir() else root
    fix = f"fix the row, or restore {LABELS_CSV} from the DFDC test set download"
    out: list[PlannedVideo] = []
    seen: set[str] = set()
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"filename", "label"} <= {h.strip() for h in reader.fieldnames}:
            raise DfbenchError(f"{path}, line 1: header {','.join(reader.fieldnames or [])!r} does not name the "
                               f"columns filename and label; {fix}")
        for row in reader:
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            name, label = row["filename"], row["label"]
            if label not in ("0", "1") or not name.endswith(".mp4") or "/" in name:
                raise DfbenchError(f"{path}, line {reader.line_num}: {name!r},{label!r} is not '<name>.mp4,<label>' "
                                   f"with label 1 (fake) or 0 (real); {fix}")
            stem = name[:-len(".mp4")]
            if stem in seen:
                raise DfbenchError(f"{path}, line {reader.line_num}: {name} is listed twice; {fix}")
            seen.add(stem)
            out.append(PlannedVideo(f"test/{stem}", METHOD[int(label)], int(label), folder / name, stem))
    if not out:
        raise DfbenchError(f"{path}: lists no video; restore {LABELS_CSV} from the DFDC test set download")
    return out


def _parts(root: Path) -> list[PlannedVideo]:
    out: list[PlannedVideo] = []
    for part in parts(root):
        path = part / METADATA
        fix = f"extract dfdc_train_part_{PART.match(part.name).group(1)}'s zip again"
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except OSError:
            raise DfbenchError(f"{part}: no {METADATA}, so its labels are unknown; {fix}") from None
        except ValueError as e:
            raise DfbenchError(f"{path}: not JSON ({e}); {fix}") from None
        if not isinstance(meta, dict):
            raise DfbenchError(f"{path}: not a mapping of video names to labels; {fix}")
        for name in sorted(meta):
            entry = meta[name]
            label = entry.get("label") if isinstance(entry, dict) else None
            if label not in ("REAL", "FAKE") or not name.endswith(".mp4") or "/" in name:
                raise DfbenchError(f"{path}: entry {name!r} is not '<name>.mp4' with label REAL or FAKE; {fix}")
            original = entry.get("original")
            if label == "FAKE" and not (isinstance(original, str) and original.endswith(".mp4")):
                raise DfbenchError(f"{path}: fake {name!r} names no original '<name>.mp4' it was made from; {fix}")
            stem = name[:-len(".mp4")]
            group = original[:-len(".mp4")] if label == "FAKE" else stem
            y = int(label == "FAKE")
            out.append(PlannedVideo(f"{part.name}/{stem}", METHOD[y], y, part / name, group))
    return out


def _preview(root: Path) -> list[PlannedVideo]:
    path = root / PREVIEW
    fix = f"restore {PREVIEW} from the DFDC preview download"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise DfbenchError(f"{path}: not JSON ({e}); {fix}") from None
    if not isinstance(meta, dict):
        raise DfbenchError(f"{path}: not a mapping of video paths to labels; {fix}")
    out: list[PlannedVideo] = []
    for rel, entry in meta.items():
        label = entry.get("label") if isinstance(entry, dict) else None
        parts_ = rel.split("/")
        if label not in ("real", "fake") or not rel.endswith(".mp4") or len(parts_) < 2 or "" in parts_ \
                or ".." in parts_:
            raise DfbenchError(f"{path}: entry {rel!r} is not '<folder>/.../<name>.mp4' with label real or fake; {fix}")
        if entry.get("set") != "test":
            continue
        y = int(label == "fake")
        stem = rel.rsplit("/", 1)[1][:-len(".mp4")]
        group = str(entry["target_id"]) if entry.get("target_id") not in (None, "") else stem
        key = f"{parts_[0]}/{'--'.join(parts_[1:])[:-len('.mp4')]}"
        out.append(PlannedVideo(key, METHOD[y], y, root / rel, group))
    if not out:
        raise DfbenchError(f"{path}: no entry has \"set\": \"test\"; {fix}")
    return out


def has_boxes(root: Path, variant: str = "full") -> bool:
    """Boxes in ``<root>/boxes/`` (where ``video.parent.parent / "boxes"`` points for a part's video or
    one in ``videos/``); the real downloads ship none."""
    return (Path(root) / "boxes").is_dir()


def twin(out: Path, seed: int = 0, variant: str = "full", progress=None, **kw) -> dict:
    from dfbench.synth.twins import write_twin

    return write_twin(ID, out, seed, variant, progress, **kw)


SPEC = DatasetSpec(
    id=ID, title="DeepFake Detection Challenge (Dolhansky et al. 2020)",
    layout="labels.csv (filename,label) with videos/ (the public test set), or dfdc_train_part_<k>/ folders "
           "with metadata.json (every video a test video), or the preview's dataset.json (set == test)",
    variants=("full",), open=open_root, test_videos=test_videos, has_boxes=has_boxes, twin=twin,
    boxes="none shipped: a face finder finds the faces; the synthetic twin ships <root>/boxes/<name>.json",
    labels="labels.csv: 1 = fake, 0 = real; metadata.json: REAL/FAKE; dataset.json: real/fake",
    url="https://ai.meta.com/datasets/dfdc/",
    citation="Dolhansky et al., The DeepFake Detection Challenge (DFDC) Dataset, arXiv:2006.07397, 2020",
)
