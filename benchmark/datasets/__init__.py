"""Datasets as plugins: what a dataset is to the core, and the registry of those installed.

A dataset registers a :class:`DatasetSpec` through the ``register_datasets`` hook: its id, what must
be on disk, the variants it comes in (FF++'s compressions), a checker that opens a root, its test
videos with labels (dfbench's convention: 0 real, 1 fake, whatever the dataset's own files say) and
identity groups (the bootstrap's clusters), whether it has official train/val splits, where face
boxes may come from, and how to write a synthetic twin in its exact layout so tests run without it.
FF++ is registered through the same hook as every other dataset (:mod:`dfbench.datasets.builtin`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dfbench.errors import DfbenchError
from dfbench.layout import DatasetRoot
from dfbench.plan import PlannedVideo

_ID = re.compile(r"^[a-z][a-z0-9]*$")


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: how to recognise its layout, list its test videos and make its synthetic twin.

    ``open(root, variant)`` checks the layout and returns a :class:`~dfbench.layout.DatasetRoot`
    (a one-line ``DfbenchError`` naming the missing part and the fix otherwise).
    ``test_videos(root, variant)`` lists the official test videos as :class:`~dfbench.plan.PlannedVideo`:
    ``key`` "<folder>/<name>" (one ``/``), ``label`` 0 real / 1 fake, ``method`` the folder or
    manipulation it comes from, ``pair`` the identity group (videos that share a person share it).
    ``has_boxes(root, variant)`` says whether it ships per-frame face boxes (``<folder>/boxes/<name>.json``
    beside ``videos/``, what the ``dataset`` face finder reads). ``twin(out, seed, variant, progress)``
    writes a synthetic twin in the exact layout and returns its manifest.
    """

    id: str
    title: str
    layout: str  # what must be on disk, one line (`dfbench datasets` shows it)
    variants: tuple[str, ...]  # compressions or releases; the first is the default
    open: Callable[[Path, str], DatasetRoot]
    test_videos: Callable[[DatasetRoot, str], list[PlannedVideo]]
    has_boxes: Callable[[Path, str], bool]
    twin: Callable[..., dict] | None = None
    trainable: bool = False  # has official train/val/test splits the training protocols use (FF++)
    boxes: str = "none shipped: a face finder (face-alignment, dlib, opencv) finds the faces"
    labels: str = ""  # the dataset's own label convention, when its files use one (e.g. Celeb-DF's 1 = real)
    url: str = ""
    citation: str = ""
    plugin: str = ""  # filled in by the host

    def __post_init__(self):
        if not _ID.match(self.id):
            raise ValueError(f"dataset id {self.id!r} must be lowercase letters and digits, starting with a letter")
        if not self.variants:
            raise ValueError(f"dataset {self.id} names no variant")

    def variant(self, asked: str | None) -> str:
        """``asked`` if the dataset has it, its default when None; a one-line error otherwise."""
        if asked is None:
            return self.variants[0]
        if asked not in self.variants:
            raise DfbenchError(f"dataset {self.id} has no variant {asked!r}; it has {', '.join(self.variants)}")
        return asked

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "layout": self.layout, "variants": list(self.variants),
                "trainable": self.trainable, "boxes": self.boxes, "labels": self.labels, "url": self.url,
                "citation": self.citation, "twin": self.twin is not None, "plugin": self.plugin}


def available() -> dict[str, DatasetSpec]:
    """Every registered dataset by id (imports no framework)."""
    from dfbench import plugins

    return plugins.datasets()


def get(dataset_id: str) -> DatasetSpec:
    known = available()
    if dataset_id not in known:
        raise DfbenchError(f"unknown dataset {dataset_id!r}; use one of {', '.join(known)} (see `dfbench datasets`)")
    return known[dataset_id]


def check_root(dataset_id: str, root: Path, variant: str | None = None) -> dict:
    """Whether ``root`` passes ``dataset_id``'s layout check: ``{"ok", "problem", "kind", "test_videos"}``."""
    spec = get(dataset_id)
    try:
        variant = spec.variant(variant)
        ds = spec.open(Path(root), variant)
        videos = spec.test_videos(ds, variant)
    except DfbenchError as e:
        return {"dataset": dataset_id, "root": str(root), "ok": False, "problem": str(e)}
    missing = [str(v.path) for v in videos if not v.path.is_file()]
    return {"dataset": dataset_id, "root": str(root), "variant": variant, "kind": ds.kind, "ok": not missing,
            "problem": f"{len(missing)} test videos missing, e.g. {missing[0]}" if missing else None,
            "test_videos": len(videos), "real": sum(v.label == 0 for v in videos),
            "fake": sum(v.label == 1 for v in videos), "boxes": spec.has_boxes(ds.path, variant)}
