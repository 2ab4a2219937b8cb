"""Synthetic twins of the test datasets: Celeb-DF v2, DFDC and DFD laid out exactly as on disk.

A twin is a small synthetic FF++ set (:func:`dfbench.synth.generate`, generator version 1) written
into a hidden scratch folder inside ``out`` and then moved, video by video with its face boxes, into
the target dataset's layout and naming; the dataset's own label files (Celeb-DF's test list, DFDC's
``metadata.json``) are written from the same plan, the scratch folder is deleted, and the twin's
``dfbench_synthetic.json`` is written last and atomically. Writing the same twin again is a no-op.

The source set's seed is derived from the twin's seed and the dataset id (never 0, the training
set's seed), so a twin shares no rendered identity with the default training set. Celeb-DF and DFDC
twins are encoded at c23 (those datasets are not low quality); a DFD twin at the asked compression.

Boxes go to ``<folder>/boxes/<name>.json`` beside ``<folder>/videos/`` where the layout has a
``videos/`` folder (DFD), else to ``<root>/boxes/<name>.json`` (the ``dataset`` face finder reads
``video.parent.parent / "boxes"``): names are unique across a twin's folders, so they never clash.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dfbench.errors import DfbenchError
from dfbench.layout import REAL, SYNTHETIC_MANIFEST, boxes_path, video_path
from dfbench.results import write_atomic
from dfbench.synth.dataset import FRAME_SIZE, _claim, _manifest, _read_manifest, generate, make_splits
from dfbench.synth.manipulate import STRENGTH

GENERATOR = "dfbench.synth.twins"
VERSION = 1  # a new version whenever the same arguments would give another twin
SOURCE_VERSION = 1  # the FF++ generator version twins are made from
PAIRS = (4, 1, 8)  # (train, val, test) pairs of the source set: 26 identities
NUM_FRAMES = 32
SCRATCH = ".dfbench_twin_source"  # the source set, inside ``out``, deleted once the twin is laid out
TWIN_STREAM = 101  # rng stream of the twins' names (DFDC's random names, DFD's scenes and codes)
VARIANTS = {"celebdf": ("v2",), "dfdc": ("full",), "dfd": ("c40", "c23", "raw")}  # the first is the default
CELEBDF_FOLDERS = ("YouTube-real", "Celeb-real", "Celeb-synthesis")  # the order of the twin's test list
CELEBDF_LIST = "List_of_testing_videos.txt"
DFDC_FAKE_METHODS = ("Deepfakes", "FaceSwap")
DFD_SCENES = ("exit_phone_room", "hugging_happy", "kitchen_pan", "meeting_serious", "outside_talking_still_laughing",
              "podium_speech_happy", "secret_conversation", "talking_against_wall", "walk_down_hall_angry",
              "walking_down_street_outside_angry")
# What a twin writes at the top of ``out`` (besides DFD's FF++ folders, which synth.dataset's _claim clears).
TWIN_OUTPUTS = (*CELEBDF_FOLDERS, CELEBDF_LIST, "boxes", SCRATCH)

Move = tuple[str, str, str]  # (source FF++ method, source name, target path relative to the twin's root)


def source_seed(dataset_id: str, seed: int) -> int:
    """The seed of the synthetic FF++ set a twin is made from: from the twin's seed and the dataset id,
    never 0 (the default training set's seed)."""
    digest = hashlib.sha256(f"dfbench-twin:{dataset_id}:{int(seed)}".encode()).digest()
    return 1 + int.from_bytes(digest[:4], "big") % (2**31 - 2)


def write_twin(dataset_id: str, out: Path, seed: int = 0, variant: str | None = None,
               progress: Callable[[int, int], None] | None = None, *, pairs: tuple[int, int, int] = PAIRS,
               num_frames: int = NUM_FRAMES, frame_size: tuple[int, int] | None = None,
               strength: float | None = None, workers: int | None = None) -> dict:
    """Write (or find complete) the synthetic twin of ``dataset_id`` under ``out``; return its manifest.

    ``pairs``, ``num_frames``, ``frame_size``, ``strength`` and ``workers`` go to
    :func:`dfbench.synth.generate` for the source set (``workers`` changes the speed only).
    ``progress(done, total)`` follows the source set's videos. A non-empty folder dfbench did not
    write is refused, and nothing in it is deleted.
    """
    if dataset_id not in VARIANTS:
        raise DfbenchError(f"no synthetic twin for dataset {dataset_id!r}; twins exist for {', '.join(VARIANTS)}")
    variant = VARIANTS[dataset_id][0] if variant is None else variant
    if variant not in VARIANTS[dataset_id]:
        raise DfbenchError(f"dataset {dataset_id} has no variant {variant!r}; it has {', '.join(VARIANTS[dataset_id])}")
    if not (isinstance(seed, int | np.integer) and seed >= 0):
        raise DfbenchError(f"seed must be a non-negative integer, not {seed!r}")
    out = Path(out)
    compression = variant if dataset_id == "dfd" else "c23"
    src_seed = source_seed(dataset_id, int(seed))
    pairs = tuple(int(p) for p in pairs)
    frame_size = tuple(FRAME_SIZE[SOURCE_VERSION]) if frame_size is None else tuple(frame_size)
    strength = STRENGTH if strength is None else float(strength)
    source = _manifest(src_seed, compression, pairs, num_frames, frame_size, strength, SOURCE_VERSION)
    rng = np.random.default_rng([src_seed, TWIN_STREAM])
    moves, files, counts = PLANS[dataset_id](make_splits(src_seed, pairs), rng, compression)
    manifest = {"generator": GENERATOR, "layout": dataset_id, "version": VERSION, "seed": int(seed),
                "variant": variant, "compression": compression, "source_seed": src_seed, "source": source,
                "counts": counts}
    found = _read_manifest(out)
    if found == manifest:
        return found

    _claim(out)  # refuses a folder dfbench did not write; clears an earlier FF++ set's folders
    _clear_twin(out)
    scratch = out / SCRATCH
    generate(scratch, seed=src_seed, compression=compression, pairs=pairs, num_frames=num_frames,
             frame_size=frame_size, strength=strength, progress=progress, workers=workers, version=SOURCE_VERSION)
    for method, name, rel in moves:
        src, dst = video_path(scratch, method, compression, name), out / rel
        for a, b in ((src, dst), (boxes_path(src), boxes_path(dst))):
            b.parent.mkdir(parents=True, exist_ok=True)
            os.replace(a, b)
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    shutil.rmtree(scratch)
    write_atomic(out / SYNTHETIC_MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


def _clear_twin(out: Path) -> None:
    """Delete what an earlier twin wrote in ``out`` (only names a twin writes: a user's file stays)."""
    for name in TWIN_OUTPUTS:
        p = out / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.is_file():
            p.unlink()
    for p in out.glob("dfdc_train_part_*"):
        if p.is_dir():
            shutil.rmtree(p)


def _celebdf(splits: dict, rng: np.random.Generator, compression: str) -> tuple[list[Move], dict, dict]:
    """Celeb-DF v2: every second pair of four (k % 4 == 1) films two YouTube-real people (no fakes); the
    others give two Celeb-real celebrities ``id<i>_0000`` and their Deepfakes ``id<t>_id<s>_0000``.
    Only the test split's pairs are in ``List_of_testing_videos.txt`` (label 1 real, 0 fake); the
    train and val pairs' videos are present and unlisted, as in the real release."""
    moves: list[Move] = []
    listed: list[Move] = []
    for split, split_pairs in splits.items():
        for k, (a, b) in enumerate(split_pairs):
            if k % 4 == 1:
                got = [(REAL, i, f"YouTube-real/{int(i):05d}.mp4") for i in (a, b)]
            else:
                got = [(REAL, i, f"Celeb-real/id{int(i)}_0000.mp4") for i in (a, b)]
                got += [("Deepfakes", f"{t}_{s}", f"Celeb-synthesis/id{int(t)}_id{int(s)}_0000.mp4")
                        for t, s in ((a, b), (b, a))]
            moves += got
            if split == "test":
                listed += got
    listed.sort(key=lambda m: CELEBDF_FOLDERS.index(m[2].split("/")[0]))  # stable: pair order within a folder
    text = "".join(f"{1 if method == REAL else 0} {rel}\n" for method, _, rel in listed)
    counts = {"videos": len(moves), "test_videos": len(listed), "unlisted": len(moves) - len(listed),
              "real": sum(m[0] == REAL for m in listed), "fake": sum(m[0] != REAL for m in listed),
              "folders": dict(sorted(Counter(m[2].split("/")[0] for m in moves).items()))}
    return moves, {CELEBDF_LIST: text}, counts


def _dfdc(splits: dict, rng: np.random.Generator, compression: str) -> tuple[list[Move], dict, dict]:
    """DFDC training parts: one ``dfdc_train_part_<k>`` per non-empty split of the source set; every
    video named by ten seeded random letters; each pair's two reals (REAL) and their Deepfakes and
    FaceSwap fakes (FAKE, naming the target's real video as ``original``) in ``metadata.json``."""
    used: set[str] = set()

    def new_name() -> str:
        while True:
            name = "".join(chr(97 + int(c)) for c in rng.integers(0, 26, 10))
            if name not in used:
                used.add(name)
                return name

    moves: list[Move] = []
    files: dict[str, str] = {}
    parts = [ps for ps in splits.values() if ps]
    for p, split_pairs in enumerate(parts):
        part, meta = f"dfdc_train_part_{p}", {}
        for a, b in split_pairs:
            real = {i: new_name() for i in (a, b)}
            for i in (a, b):
                moves.append((REAL, i, f"{part}/{real[i]}.mp4"))
                meta[f"{real[i]}.mp4"] = {"label": "REAL", "split": "train", "original": None}
            for method in DFDC_FAKE_METHODS:
                for t, s in ((a, b), (b, a)):
                    name = new_name()
                    moves.append((method, f"{t}_{s}", f"{part}/{name}.mp4"))
                    meta[f"{name}.mp4"] = {"label": "FAKE", "split": "train", "original": f"{real[t]}.mp4"}
        files[f"{part}/metadata.json"] = json.dumps(dict(sorted(meta.items()))) + "\n"
    counts = {"videos": len(moves), "test_videos": len(moves), "real": sum(m[0] == REAL for m in moves),
              "fake": sum(m[0] != REAL for m in moves),
              "parts": dict(sorted(Counter(m[2].split("/")[0] for m in moves).items()))}
    return moves, files, counts


def _dfd(splits: dict, rng: np.random.Generator, compression: str) -> tuple[list[Move], dict, dict]:
    """DeepFakeDetection as FF++ ships it: each identity an actor ``<NN>`` filmed in one scene,
    ``<NN>__<scene>.mp4``; each pair's two Deepfakes ``<NN>_<MM>__<scene of NN>__<CODE>.mp4``."""
    ids = sorted(i for ps in splits.values() for pair in ps for i in pair)
    width = max(2, len(str(len(ids))))
    actor = {i: f"{int(i) + 1:0{width}d}" for i in ids}
    scene = {i: DFD_SCENES[int(rng.integers(len(DFD_SCENES)))] for i in ids}
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    real_dir = f"original_sequences/actors/{compression}/videos"
    fake_dir = f"manipulated_sequences/DeepFakeDetection/{compression}/videos"
    moves: list[Move] = [(REAL, i, f"{real_dir}/{actor[i]}__{scene[i]}.mp4") for i in ids]
    for ps in splits.values():
        for a, b in ps:
            for t, s in ((a, b), (b, a)):
                code = "".join(alphabet[int(c)] for c in rng.integers(0, len(alphabet), 8))
                moves.append(("Deepfakes", f"{t}_{s}", f"{fake_dir}/{actor[t]}_{actor[s]}__{scene[t]}__{code}.mp4"))
    counts = {"videos": len(moves), "test_videos": len(moves), "real": len(ids), "fake": len(moves) - len(ids),
              "actors": len(ids)}
    return moves, {}, counts


PLANS = {"celebdf": _celebdf, "dfdc": _dfdc, "dfd": _dfd}
