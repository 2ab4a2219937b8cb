"""Celeb-DF v2 (Li et al., CVPR 2020) as its download unpacks::

    Celeb-real/id<N>_<NNNN>.mp4            590 videos of 59 celebrities
    YouTube-real/<NNNNN>.mp4               300 more real videos, one person each
    Celeb-synthesis/id<T>_id<S>_<NNNN>.mp4 5639 deepfakes: target T's video NNNN with source S's face
    List_of_testing_videos.txt             the official test set, 518 lines "<label> <folder>/<file>"

The layout, the 518-video list and its line format are those of the authors' README
(https://github.com/yuezunli/celeb-deepfakeforensics, Celeb-DF-v2/README.md) and of the loaders that
read it (e.g. DeepfakeBench's preprocessing/rearrange.py, which splits each line at the space).

The list's own labels are **1 = real, 0 = fake**, the inverse of dfbench's 0 real / 1 fake: they are
converted, and a line whose label contradicts its folder is an error. The test videos are exactly
the listed ones, in list order; the other videos on disk are Celeb-DF's training videos and are not
used. Keys are ``<folder>/<stem>``, the method is the folder, and the identity group is the
celebrity ``id<N>`` of a Celeb-real video, the target ``id<T>`` of a Celeb-synthesis one (its fakes
cluster with their real videos), and ``yt-<NNNNN>`` for each YouTube-real video (one person each).
The download ships no face boxes; the synthetic twin writes ``<root>/boxes/<stem>.json`` (names are
unique across the three folders, so ``video.parent.parent / "boxes"`` serves them all).
"""

from __future__ import annotations

import re
from pathlib import Path

from dfbench.datasets import DatasetSpec
from dfbench.datasets._common import require_dir, synthetic_manifest
from dfbench.errors import DfbenchError
from dfbench.layout import DatasetRoot
from dfbench.plan import PlannedVideo

ID = "celebdf"
TEST_LIST = "List_of_testing_videos.txt"
FOLDERS = ("Celeb-real", "YouTube-real", "Celeb-synthesis")
REAL_FOLDERS = ("Celeb-real", "YouTube-real")
LIST_LABEL = {"1": 0, "0": 1}  # the list's 1 = real, 0 = fake -> dfbench's 0 = real, 1 = fake
NAMES = {"Celeb-real": (re.compile(r"^id(\d+)_(\d+)$"), "id<N>_<NNNN>.mp4"),
         "YouTube-real": (re.compile(r"^(\d+)$"), "<NNNNN>.mp4"),
         "Celeb-synthesis": (re.compile(r"^id(\d+)_id(\d+)_(\d+)$"), "id<T>_id<S>_<NNNN>.mp4")}
WHAT = "Celeb-real/, YouTube-real/, Celeb-synthesis/ and List_of_testing_videos.txt (the Celeb-DF v2 download)"
FIX = "fix the line, or restore List_of_testing_videos.txt from the Celeb-DF v2 download"


def open_root(root: Path, variant: str = "v2") -> DatasetRoot:
    root = require_dir(root, WHAT)
    if not (root / TEST_LIST).is_file():
        raise DfbenchError(f"{root}: no {TEST_LIST}, so this is not the Celeb-DF v2 layout; pass the folder that "
                           f"holds {WHAT}")
    return DatasetRoot(root, synthetic_manifest(root, ID), dataset=ID)


def group_of(folder: str, stem: str) -> str:
    """The identity group: ``id<N>`` (Celeb-real), the target ``id<T>`` (Celeb-synthesis), ``yt-<stem>``."""
    m = NAMES[folder][0].match(stem)
    if folder == "YouTube-real":
        return f"yt-{stem}"
    return f"id{int(m.group(1))}"


def read_test_list(path: Path) -> list[tuple[int, str, str]]:
    """``(label, folder, stem)`` of each line, in list order, with dfbench's labels (0 real, 1 fake)."""
    out: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or fields[0] not in LIST_LABEL or fields[1].count("/") != 1 \
                or not fields[1].endswith(".mp4"):
            raise DfbenchError(f"{path}, line {n}: {line.strip()!r} is not '<label> <folder>/<name>.mp4' with label "
                               f"1 (real) or 0 (fake); {FIX}")
        label = LIST_LABEL[fields[0]]
        folder, file = fields[1].split("/")
        if folder not in FOLDERS:
            raise DfbenchError(f"{path}, line {n}: unknown folder {folder!r}; Celeb-DF v2's folders are "
                               f"{', '.join(FOLDERS)}; {FIX}")
        if (folder in REAL_FOLDERS) != (label == 0):
            holds = "real" if folder in REAL_FOLDERS else "fake"
            raise DfbenchError(f"{path}, line {n}: label {fields[0]} means {'fake' if label else 'real'} in this "
                               f"list (1 = real, 0 = fake) but {folder} holds {holds} videos; {FIX}")
        stem = file[:-len(".mp4")]
        pattern, shape = NAMES[folder]
        if not pattern.match(stem):
            raise DfbenchError(f"{path}, line {n}: {file!r} is not named as {folder} names its videos ({shape}); {FIX}")
        key = f"{folder}/{stem}"
        if key in seen:
            raise DfbenchError(f"{path}, line {n}: {fields[1]} is listed twice (line {seen[key]} too); {FIX}")
        seen[key] = n
        out.append((label, folder, stem))
    if not out:
        raise DfbenchError(f"{path}: lists no video; restore List_of_testing_videos.txt from the Celeb-DF v2 download")
    return out


def test_videos(ds: DatasetRoot, variant: str = "v2") -> list[PlannedVideo]:
    """The videos of ``List_of_testing_videos.txt``, in its order, labels converted to 0 real / 1 fake."""
    return [PlannedVideo(f"{folder}/{stem}", folder, label, ds.path / folder / f"{stem}.mp4", group_of(folder, stem))
            for label, folder, stem in read_test_list(ds.path / TEST_LIST)]


def has_boxes(root: Path, variant: str = "v2") -> bool:
    return (Path(root) / "boxes").is_dir()


def twin(out: Path, seed: int = 0, variant: str = "v2", progress=None, **kw) -> dict:
    from dfbench.synth.twins import write_twin

    return write_twin(ID, out, seed, variant, progress, **kw)


SPEC = DatasetSpec(
    id=ID, title="Celeb-DF v2 (Li et al., CVPR 2020)",
    layout="Celeb-real/id<N>_<NNNN>.mp4, YouTube-real/<NNNNN>.mp4, Celeb-synthesis/id<T>_id<S>_<NNNN>.mp4 and "
           "List_of_testing_videos.txt (the 518 test videos), as the Celeb-DF v2 download unpacks",
    variants=("v2",), open=open_root, test_videos=test_videos, has_boxes=has_boxes, twin=twin,
    boxes="none shipped: a face finder finds the faces; the synthetic twin ships <root>/boxes/<name>.json",
    labels="List_of_testing_videos.txt: 1 = real, 0 = fake (converted to dfbench's 0 = real, 1 = fake)",
    url="https://github.com/yuezunli/celeb-deepfakeforensics",
    citation="Li et al., Celeb-DF: A Large-scale Challenging Dataset for DeepFake Forensics, CVPR 2020",
)
