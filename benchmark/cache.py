"""Where dfbench keeps what it can make again: the crop cache and the embedded synthetic set.

One place decides the cache root (``--cache``, else ``$DFBENCH_CACHE``, else
``$XDG_CACHE_HOME/dfbench`` or ``~/.cache/dfbench``); records name files under it portably as
``$DFBENCH_CACHE/...`` (:func:`dfbench.provenance.portable_path`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dfbench import distributed
from dfbench.layout import SYNTHETIC_MANIFEST

SYNTH_SEED = 0  # the embedded default data is always generated with this seed


def cache_root(explicit: str | os.PathLike | None = None) -> Path:
    """The cache root: ``explicit`` (``--cache``), else ``$DFBENCH_CACHE``, else the XDG cache folder."""
    if explicit:
        return Path(explicit)
    if os.environ.get("DFBENCH_CACHE"):
        return Path(os.environ["DFBENCH_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dfbench"


def embedded_dataset(cache: Path, compression: str, progress: Callable[[str], None] | None = None,
                     launcher: str = "none") -> Path:
    """The embedded synthetic FF++ set (version EMBEDDED_VERSION at EMBEDDED_PAIRS), generated once into the
    cache (a no-op when already complete)."""
    from dfbench import synth
    from dfbench.synth.dataset import EMBEDDED_PAIRS, EMBEDDED_VERSION

    size = "x".join(map(str, EMBEDDED_PAIRS))  # a folder per version and size: an old default's set is kept
    out = cache / "synthetic" / f"ffpp-{compression}-seed{SYNTH_SEED}-v{EMBEDDED_VERSION}-{size}"
    if not distributed.is_main(launcher):  # generating clears the folder first: only rank 0 may
        distributed.wait_for(lambda: (out / SYNTHETIC_MANIFEST).is_file(), f"the synthetic set in {out}")
    cb = (lambda i, n: progress(f"generating synthetic data: {i}/{n} videos")) if progress else None
    synth.generate(out, seed=SYNTH_SEED, compression=compression, pairs=EMBEDDED_PAIRS, version=EMBEDDED_VERSION,
                   progress=cb)
    return out
