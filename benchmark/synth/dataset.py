"""Write a synthetic set in FF++'s layout: ids, splits, videos, face boxes, then the manifest.

The manifest is written last and atomically: its presence means the set is complete, and
generating again with the same arguments returns at once. Work is split by target id (version 1:
its real video and the four fakes made from it share one scene) or by pair (version 2: both
people are filmed once and each is the other's source) and spread over processes.

Generator versions, chosen with ``version``: 1, cartoon heads with scripted per-method traces (kept
so its records stay reproducible); 2, rendered faces manipulated by the real operations of each
method with nuisances shared by real and fake videos; 3, version 2 with decoys every video gets;
4, version 3 with the expression sway decoy and more pairs (docs/synthetic-data.md).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dfbench.errors import DfbenchError
from dfbench.layout import METHODS, QP, REAL, SYNTHETIC_MANIFEST, boxes_path, method_dir, video_path
from dfbench.results import write_atomic
from dfbench.splits import SPLITS
from dfbench.synth.canvas import canvas_for
from dfbench.synth.encode import FPS, write_h264
from dfbench.synth.fakes import STRENGTH as STRENGTH_V2
from dfbench.synth.identity import make_identity, rng_for
from dfbench.synth.manipulate import FAKE_STREAM, MANIPULATIONS, STRENGTH
from dfbench.synth.motion import make_motion
from dfbench.synth.render import boxes, frames, render_face, scene

GENERATOR = "dfbench.synth"
STRENGTH_V3 = 3.0  # version 3: most fakes near their method's full strength, a few nearly invisible
VERSION = 1  # generate()'s version when none is given (calls that name none keep their pixels)
# The embedded default: what `dfbench run` generates when no --data is given, and `dfbench data synth` without
# --version. Version 5's recipe at the demo size, where `make demo` fits 10 minutes on 2 cores; the leaderboard
# runs on version 5 at its full size (PAIRS[5]). Both sizes are in every record's data fingerprint.
EMBEDDED_VERSION, EMBEDDED_PAIRS = 5, (24, 6, 16)
# a new version, never a change to an old one, whenever the same arguments would give other pixels
VERSIONS = (1, 2, 3, 4, 5)
FRAME_SIZE = {1: (192, 144), 2: (320, 240), 3: (320, 240), 4: (320, 240), 5: (320, 240)}  # (width, height) by version
# the default strength by version
STRENGTHS = {1: STRENGTH, 2: STRENGTH_V2, 3: STRENGTH_V3, 4: STRENGTH_V3, 5: STRENGTH_V3}
# (train, val, test) pairs by version: v2's test split sized for AUC intervals of +-0.05; v3 trains on 96
# pairs, since the cpu clip models memorise 24 training identities; v4 on 288, where the cpu clip model
# learns the temporal method, and tests on 64, for +-0.05 on one method too; v5 is v4 with 32 validation
# pairs, since 6 cannot choose a checkpoint (docs/synthetic-data.md)
PAIRS = {1: (24, 6, 6), 2: (24, 6, 32), 3: (96, 6, 32), 4: (288, 6, 64), 5: (288, 32, 64)}
# version 5 deals version 4's splits (its train and test pairs, its first validation pairs) and draws the
# validation pairs beyond these from new ids, so its train and test videos are version 4's byte for byte
V4_VAL = 6
SPLIT_STREAM = 0
OWNER_MARK = ".dfbench_synthetic"  # says dfbench writes this folder, so an unfinished set may be replaced
OUR_FOLDERS = ("original_sequences", "manipulated_sequences", "splits")


@dataclass(frozen=True)
class Job:
    """One target id: its real video and its four fakes with ``source``."""

    out: str
    seed: int
    target: str
    source: str
    compression: str
    num_frames: int
    frame_size: tuple[int, int]
    strength: float
    version: int = 1
    extra_compressions: tuple[str, ...] = ()  # the same videos also encoded at these (cross-compression tests)


def generate(out: Path, *, seed: int = 0, compression: str = "c40", pairs: tuple[int, int, int] | None = None,
             num_frames: int = 32, frame_size: tuple[int, int] | None = None,
             progress: Callable[[int, int], None] | None = None, strength: float | None = None,
             workers: int | None = None, version: int = VERSION, extra_compressions: tuple[str, ...] = ()) -> dict:
    """Generate (or find complete) the synthetic set under ``out`` and return its manifest.

    ``pairs`` is the number of (target, source) pairs in train, val and test; each pair gives two
    real videos and, per method, two fakes. ``frame_size`` is (width, height). ``pairs``,
    ``frame_size`` and ``strength`` default to the ``version``'s own. ``progress(done, total)`` is
    called in this process as videos are written. ``workers`` defaults to the CPU count; it changes
    the speed only, never the output. ``extra_compressions`` also writes every video at those
    compressions (the same frames at another QP, as FF++ ships one set at three), so a
    ``cross-compression`` run can use one root; a set without them is unchanged byte for byte.
    """
    out = Path(out)
    if version not in VERSIONS:
        raise DfbenchError(f"unknown synthetic-data version {version!r}; use one of {', '.join(map(str, VERSIONS))}")
    pairs = PAIRS[version] if pairs is None else pairs
    frame_size = FRAME_SIZE[version] if frame_size is None else frame_size
    if strength is None:
        strength = STRENGTHS[version]
    extra = tuple(dict.fromkeys(c for c in extra_compressions if c != compression))
    manifest = _manifest(seed, compression, pairs, num_frames, frame_size, strength, version, extra)
    found = _read_manifest(out)
    if found == manifest:
        return found
    _claim(out)

    split_pairs = make_splits(seed, pairs) if version < 5 else make_splits_v5(seed, pairs)
    (out / "splits").mkdir(parents=True, exist_ok=True)
    for name, ps in split_pairs.items():
        (out / "splits" / f"{name}.json").write_text(json.dumps(ps) + "\n")
    for m in (REAL, *METHODS):
        for comp in (compression, *extra):
            for sub in ("videos", "boxes"):
                (method_dir(out, m, comp) / sub).mkdir(parents=True, exist_ok=True)

    if version == 1:
        jobs = [Job(str(out), seed, t, s, compression, num_frames, tuple(frame_size), float(strength), 1, extra)
                for ps in split_pairs.values() for a, b in ps for t, s in ((a, b), (b, a))]
    else:
        jobs = [Job(str(out), seed, a, b, compression, num_frames, tuple(frame_size), float(strength), version,
                    extra) for ps in split_pairs.values() for a, b in ps]
    total, done = manifest["videos"], 0
    if progress:
        progress(0, total)
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        for job in jobs:
            done += run_job(job)
            if progress:
                progress(done, total)
    else:
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded parent (torch, decord)
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_single_threaded) as pool:
            try:
                for fut in as_completed([pool.submit(run_job, job) for job in jobs]):
                    done += fut.result()
                    if progress:
                        progress(done, total)
            except BaseException:  # a failed job or ^C: stop, leaving the set without its manifest
                pool.shutdown(cancel_futures=True)
                raise

    write_atomic(out / SYNTHETIC_MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


def make_splits(seed: int, pairs: tuple[int, int, int]) -> dict[str, list[list[str]]]:
    """Ids "000", "001", ... paired at random and dealt to train, val, test (FF++'s split format)."""
    n = 2 * sum(pairs)
    width = max(3, len(str(n - 1)))
    ids = [f"{i:0{width}d}" for i in rng_for(seed, SPLIT_STREAM).permutation(n)]
    all_pairs = [[ids[2 * k], ids[2 * k + 1]] for k in range(n // 2)]
    bounds = np.cumsum([0, *pairs])
    return {name: all_pairs[bounds[i]:bounds[i + 1]] for i, name in enumerate(SPLITS)}


def make_splits_v5(seed: int, pairs: tuple[int, int, int]) -> dict[str, list[list[str]]]:
    """Version 5's splits: version 4's for (train, up to V4_VAL, test) pairs, then the further validation
    pairs from ids after those, paired at random; the train and test pairs (and their videos) stay version 4's."""
    train, val, test = pairs
    base = make_splits(seed, (train, min(val, V4_VAL), test))
    first = 2 * (train + min(val, V4_VAL) + test)
    extra = 2 * (val - min(val, V4_VAL))
    if extra:
        width = max(3, len(str(first - 1)))  # version 4's id width
        if len(str(first + extra - 1)) > width:
            raise DfbenchError(f"pairs {pairs!r}: version 5 adds validation ids up to {first + extra - 1}, wider than "
                               f"version 4's {width}-digit ids; give fewer validation pairs")
        ids = [f"{first + i:0{width}d}" for i in rng_for(seed, SPLIT_STREAM + 1).permutation(extra)]
        base["val"] += [[ids[2 * k], ids[2 * k + 1]] for k in range(extra // 2)]
    return base


def run_job(job: Job) -> int:
    """One job of either version; returns how many videos it wrote."""
    if job.version == 1:
        return make_target(job)
    from dfbench.synth.pairs import make_pair

    return make_pair(Path(job.out), job.seed, job.target, job.source, job.compression, job.num_frames,
                     job.frame_size, job.strength, job.extra_compressions, job.version)


def make_target(job: Job) -> int:
    """Render and write ``job.target``'s real video and its four fakes, with boxes; returns the count."""
    out, size = Path(job.out), job.frame_size
    cv = canvas_for(size[1])
    T, S = make_identity(job.seed, job.target, size), make_identity(job.seed, job.source, size)
    mt, ms = make_motion(job.seed, job.target, job.num_frames, size), make_motion(job.seed, job.source,
                                                                                  job.num_frames, size)
    sc = scene(job.seed, T, mt, size)
    box_json = json.dumps({"boxes": boxes(T, mt, size)})  # fakes keep the target's face position

    def write(method: str, name: str, faces) -> None:
        pixels = frames(sc, faces)
        for comp in (job.compression, *job.extra_compressions):
            path = video_path(out, method, comp, name)
            write_h264(path, pixels, QP[comp])
            boxes_path(path).write_text(box_json + "\n")

    real = [render_face(T, cv, mt.eyes[i], mt.mouth[i], mt.gaze[i]) for i in range(job.num_frames)]
    write(REAL, job.target, real)
    for k, method in enumerate(METHODS):
        rng = rng_for(job.seed, FAKE_STREAM, int(job.target), int(job.source), k)
        fake = MANIPULATIONS[method](real, T, S, mt, ms, cv, rng, job.strength)
        write(method, f"{job.target}_{job.source}", fake)
    return 1 + len(METHODS)


def _manifest(seed, compression, pairs, num_frames, frame_size, strength, version=VERSION, extra=()) -> dict:
    if compression not in QP:
        raise DfbenchError(f"unknown compression {compression!r}; use one of {', '.join(QP)}")
    if not (isinstance(seed, int | np.integer) and seed >= 0):
        raise DfbenchError(f"seed must be a non-negative integer, not {seed!r}")
    if len(pairs) != 3 or any(int(p) < 0 for p in pairs) or sum(pairs) < 1:
        raise DfbenchError(f"pairs must be three counts (train, val, test) with at least one pair, not {pairs!r}")
    if num_frames < 1:
        raise DfbenchError(f"num_frames must be at least 1, not {num_frames}")
    w, h = frame_size
    if w % 2 or h % 2 or w < 32 or h < 32:
        raise DfbenchError(f"frame_size {w}x{h}: width and height must be even and at least 32 (H.264 4:2:0)")
    manifest = {
        "generator": GENERATOR, "version": int(version), "seed": int(seed), "compression": compression,
        "qp": QP[compression], "pairs": [int(p) for p in pairs], "num_frames": int(num_frames),
        "frame_size": [int(w), int(h)], "fps": FPS, "methods": list(METHODS), "strength": float(strength),
        "videos": 2 * sum(pairs) * (1 + len(METHODS)),
    }
    if version >= 3:  # a version being calibrated names its recipe, so a change of it is never a silent one
        from dfbench.synth.pairs import recipe_of

        manifest["recipe"] = recipe_of(int(version))
    for c in extra:
        if c not in QP:
            raise DfbenchError(f"unknown compression {c!r}; use one of {', '.join(QP)}")
    if extra:  # only then: a set of one compression keeps the manifest (and so the fingerprint) it always had
        manifest["extra_compressions"] = list(extra)
    return manifest


def _read_manifest(out: Path) -> dict | None:
    try:
        return json.loads((out / SYNTHETIC_MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def _claim(out: Path) -> None:
    """Make ``out`` ours and empty of any earlier set; refuse a non-empty folder dfbench did not write.

    Only a folder marked as dfbench's (its owner mark or a manifest) is cleared, and then only the
    folders the generator writes: a user's file is never deleted.
    """
    ours = (out / OWNER_MARK).is_file() or (out / SYNTHETIC_MANIFEST).is_file()
    if not ours and out.is_dir() and any(out.iterdir()):
        raise DfbenchError(
            f"{out}: not empty and not a dfbench synthetic set; write the synthetic set to a new or empty folder"
        )
    (out / SYNTHETIC_MANIFEST).unlink(missing_ok=True)  # from here on the folder is not a complete set
    for f in OUR_FOLDERS:
        shutil.rmtree(out / f, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / OWNER_MARK).write_text("written by dfbench.synth; the set is complete when dfbench_synthetic.json exists\n")


def _single_threaded() -> None:
    """Worker processes share the cores already: one OpenCV and one BLAS thread each."""
    import cv2
    from threadpoolctl import threadpool_limits

    cv2.setNumThreads(1)
    threadpool_limits(1)
