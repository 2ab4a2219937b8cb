"""One preprocessing pass: the face track and the crops of every video, sharded and in parallel.

``dfbench preprocess`` fills the crop cache that ``dfbench run`` reads (see docs/preprocessing.md):
per video, one decode, the face found on keyframes and followed, then a crop array per size.
Videos already cached are skipped, so an interrupted pass resumes; ``shard=(i, n)`` takes the
videos whose path hashes to ``i`` modulo ``n``, so the tasks of a cluster job array split the work
without talking to each other and all write into one cache. Functions here return values and
report progress through a callback; they never print.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TextIO

from dfbench.crops import CROP_SCALE, CropCache, fill
from dfbench.errors import BadVideoError, DfbenchError
from dfbench.layout import METHODS, REAL, method_dir, method_of, open_root
from dfbench.tracking import DEFAULT_PARAMS, TrackParams

PAPER_CROP_SIZE = 112  # the 3D CNNs' input; used when no installed detector names a crop size


@dataclass(frozen=True)
class PreprocessOptions:
    """What ``dfbench preprocess`` was asked for."""

    data: Path | None = None  # None: the embedded synthetic set
    compression: str = "c40"
    methods: tuple[str, ...] | None = None  # None: the paper's four, those present
    face_finder: str | None = None  # None: chosen for the data as `dfbench run` chooses
    sizes: tuple[int, ...] = ()  # empty: see default_sizes
    scale: float = CROP_SCALE
    shard: tuple[int, int] = (0, 1)
    workers: int = 1
    cache: Path | None = None
    params: TrackParams = DEFAULT_PARAMS


@dataclass
class VideoOutcome:
    video: str
    status: str  # "done" (tracked and/or cropped now) or "failed"
    error: str | None = None
    frames: int = 0
    seconds: float = 0.0


@dataclass
class PreprocessReport:
    dataset: str
    kind: str
    compression: str
    face_finder: str
    face_track: str
    sizes: list[int]
    shard: str
    workers: int
    videos: int  # in this shard
    cached: int  # complete before this pass
    done: int  # made by this pass
    frames: int  # frames of the videos made by this pass
    failed: list[dict] = field(default_factory=list)  # {"video", "error"}
    seconds: float = 0.0
    cache_dirs: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def videos_per_second(self) -> float:
        worked = self.done + len(self.failed)
        return worked / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return asdict(self) | {"videos_per_second": round(self.videos_per_second, 3)}


Progress = Callable[[int, int, int], None]  # (finished, to do, failed so far)


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 0 <= I < N (a Slurm array's ``$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT``)."""
    try:
        i, n = (int(x) for x in text.split("/"))
        if not 0 <= i < n:
            raise ValueError
    except ValueError:
        raise DfbenchError(f"--shard {text!r}: give I/N with 0 <= I < N, e.g. 0/4 (a Slurm array indexed from 0: "
                           "--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)") from None
    return i, n


def shard_of(relative: str, shards: int) -> int:
    """The shard of a video: a hash of its path under the root, so every task agrees without coordination."""
    return int(hashlib.sha1(relative.encode()).hexdigest()[:12], 16) % shards


def list_videos(root: Path, compression: str, methods: Sequence[str]) -> list[Path]:
    """Every real video and every fake of ``methods`` at ``compression``, in a fixed order."""
    out = []
    for m in (REAL, *methods):
        folder = method_dir(root, m, compression) / "videos"
        out += sorted(folder.glob("*.mp4"))
    return out


def default_sizes(kind: str) -> tuple[int, ...]:
    """The crop sizes ``dfbench run`` reads by default on this data: every installed detector's at the model
    size ``--size auto`` picks ("cpu" on synthetic data, "paper" on FF++), so one pass serves them all."""
    from dfbench import plugins

    model_size = "cpu" if kind.startswith("synthetic") else "paper"
    sizes = {spec.meta.sizes[model_size].crop_size for spec in plugins.detectors().values()
             if model_size in spec.meta.sizes}
    return tuple(sorted(sizes)) or (PAPER_CROP_SIZE,)


def resolve_methods(root: Path, compression: str, methods: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """The methods to preprocess, and notices for the paper's methods skipped because they are absent."""
    if methods:
        chosen = list(dict.fromkeys(method_of(m) for m in methods))
        for m in chosen:
            folder = method_dir(root, m, compression) / "videos"
            if not folder.is_dir():
                raise DfbenchError(f"{folder}: missing; download {m} at {compression} or leave it out of --methods")
        return chosen, []
    present = [m for m in METHODS if (method_dir(root, m, compression) / "videos").is_dir()]
    notices = [f"{m} at {compression} is not in {root}: skipped" for m in METHODS if m not in present]
    return present, notices


# --- the work of one process ---------------------------------------------------------------------

_caches: list[CropCache] | None = None


def _init_worker(cache_root: str, dataset_root: str, finder: str, sizes: Sequence[int], scale: float,
                 params: TrackParams, threads: int | None) -> None:
    """Set up one worker: its crop caches (one per size, one face finder built when first needed) and threads.

    ``threads`` caps OpenCV's and torch's thread pools: K workers on C cores get C // K each, so
    they do not oversubscribe the machine. Set before torch is imported in a spawned worker.
    """
    global _caches
    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(threads)
        import cv2

        cv2.setNumThreads(threads)
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
    _caches = [CropCache(Path(cache_root), Path(dataset_root), finder, size=s, scale=scale, params=params)
               for s in sizes]


def _process(video: str) -> VideoOutcome:
    t0 = time.perf_counter()
    try:
        made = fill(Path(video), _caches)
    except BadVideoError as e:
        return VideoOutcome(video, "failed", str(e), seconds=time.perf_counter() - t0)
    return VideoOutcome(video, "done", frames=made[0].num_frames, seconds=time.perf_counter() - t0)


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# --- the pass --------------------------------------------------------------------------------------

def preprocess(opts: PreprocessOptions, progress: Progress | None = None,
               notice: Callable[[str], None] | None = None) -> PreprocessReport:
    """Fill the crop cache for every video of this shard; unusable videos are reported, never fatal."""
    from dfbench import engine

    if opts.workers < 1:
        raise DfbenchError(f"--workers {opts.workers}: give at least 1")
    notices: list[str] = []
    cache_root = engine.cache_root(SimpleNamespace(cache=opts.cache))
    data = opts.data
    if data is None:
        data = engine.embedded_dataset(cache_root, opts.compression, notice)
        notices.append(f"no --data given: preprocessing the embedded synthetic FF++ set at {data}")
    dataset = open_root(Path(data), opts.compression)
    methods, skipped = resolve_methods(dataset.path, opts.compression, opts.methods)
    notices += skipped
    # the same rule as `dfbench run`, so what is made here is what a run reads
    finder = engine.choose_face_finder(SimpleNamespace(face_finder=opts.face_finder), dataset, opts.compression)
    sizes = tuple(dict.fromkeys(opts.sizes)) or default_sizes(dataset.kind)
    if min(sizes) < 1:
        raise DfbenchError(f"--size {min(sizes)}: crop sizes are positive numbers of pixels, e.g. 112")
    shard, shards = opts.shard
    for n in notices:
        if notice:
            notice(n)

    caches = [CropCache(cache_root, dataset.path, finder, size=s, scale=opts.scale, params=opts.params)
              for s in sizes]
    videos = [v for v in list_videos(dataset.path, opts.compression, methods)
              if shard_of(caches[0].relative(v).as_posix(), shards) == shard]
    todo = [v for v in videos if any(c.lookup(v) is None for c in caches)]
    report = PreprocessReport(
        dataset=str(dataset.path), kind=dataset.kind, compression=opts.compression, face_finder=finder,
        face_track=caches[0].track_key, sizes=list(sizes), shard=f"{shard}/{shards}", workers=opts.workers,
        videos=len(videos), cached=len(videos) - len(todo), done=0, frames=0,
        cache_dirs=[str(c.dir) for c in caches], notices=notices)
    if notice and report.cached:
        notice(f"{report.cached} of {len(videos)} videos cached before: skipped")
    t0 = time.perf_counter()
    for outcome in _run(todo, opts, cache_root, dataset.path, finder, sizes, progress):
        if outcome.status == "failed":
            report.failed.append({"video": outcome.video, "error": outcome.error})
            if notice:
                notice(f"skipping {outcome.error}")
        else:
            report.done += 1
            report.frames += outcome.frames
        if progress:
            progress(report.done + len(report.failed), len(todo), len(report.failed))
    report.seconds = time.perf_counter() - t0
    return report


def _run(todo: list[Path], opts: PreprocessOptions, cache_root: Path, dataset_root: Path, finder: str,
         sizes: Sequence[int], progress: Progress | None):
    """Outcomes of ``todo`` in completion order: in this process for one worker, else in spawned workers."""
    args = (str(cache_root), str(dataset_root), finder, tuple(sizes), opts.scale, opts.params)
    if progress and todo:
        progress(0, len(todo), 0)
    if opts.workers == 1 or len(todo) <= 1:
        global _caches
        _init_worker(*args, threads=None)
        try:
            for v in todo:
                yield _process(str(v))
        finally:
            _caches = None
        return
    threads = max(1, usable_cores() // opts.workers)
    # spawn, not fork: a forked torch or OpenMP runtime can deadlock, and each worker builds its own finder.
    pool = ProcessPoolExecutor(max_workers=min(opts.workers, len(todo)),
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(*args, threads))
    try:
        for fut in as_completed([pool.submit(_process, str(v)) for v in todo]):
            yield fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --- progress on a terminal or in a log ----------------------------------------------------------

class ProgressBar:
    """A one-line progress bar with videos/s and the time left; on a non-terminal, a line every ``every`` s."""

    def __init__(self, stream: TextIO, width: int = 24, every: float = 30.0):
        self.stream, self.width, self.every = stream, width, every
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.start = time.perf_counter()
        self.last = -1e9
        self.drawn = False  # a bar is on the terminal's current line

    def __call__(self, finished: int, total: int, failed: int) -> None:
        now = time.perf_counter()
        end = finished >= total
        if not end and now - self.last < (0.2 if self.tty else self.every):
            return
        self.last = now
        line = format_progress(finished, total, failed, now - self.start, self.width)
        if self.tty:
            self.stream.write("\r" + line + ("\n" if end else ""))
            self.drawn = not end
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def echo(self, message: str) -> None:
        """A message on its own line; on a terminal it replaces the bar, which the next update redraws."""
        self.stream.write(("\r\033[K" if self.tty and self.drawn else "") + message + "\n")
        if self.drawn:
            self.last = -1e9  # redraw the bar at once
        self.drawn = False
        self.stream.flush()


def format_progress(finished: int, total: int, failed: int, elapsed: float, width: int = 24) -> str:
    """``[#####-----] 12/40 videos  2.5 videos/s  ETA 0m11s`` (and the failures so far)."""
    fill_n = int(width * finished / total) if total else width
    rate = finished / elapsed if elapsed > 0 else 0.0
    eta = _duration((total - finished) / rate) if rate > 0 else "?"
    line = (f"[{'#' * fill_n}{'-' * (width - fill_n)}] {finished}/{total} videos  "
            f"{rate:.2f} videos/s  ETA {eta}")
    return line + (f"  ({failed} failed)" if failed else "")


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"
