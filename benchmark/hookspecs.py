"""Every extension point of dfbench, one hook each, shaped ``register_X(register)``.

The core hands a plugin a ``register`` callback instead of its own data structures, so the
core's internals can change without breaking plugins (the pattern of pytest and simonw/llm).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from dfbench.datasets import DatasetSpec
    from dfbench.detector import DetectorSource, DetectorSpec
    from dfbench.faces import FaceFinder

hookspec = pluggy.HookspecMarker("dfbench")
hookimpl = pluggy.HookimplMarker("dfbench")


@hookspec
def register_detectors(register: Callable[[DetectorSpec], None]) -> None:
    """Register the detectors a plugin provides.

    Called once, the first time the host needs the detector list (``dfbench detectors``,
    ``dfbench run``). Call ``register(DetectorSpec(meta=..., build=...))`` once per detector.
    ``meta`` is a :class:`dfbench.detector.DetectorMeta`; ``build(meta, size)`` returns an object
    implementing :class:`dfbench.detector.Detector` and is only called when a run needs it,
    so import heavy frameworks (torch, mmaction) inside ``build``, never at module import.
    A name registered twice is an error naming both plugins. The return value is ignored.
    """


@hookspec
def register_detector_sources(register: Callable[[DetectorSource], None]) -> None:
    """Register sources of detectors named on demand, ``--detector <prefix>:<ref>``.

    Called once, the first time a ``<prefix>:<ref>`` name is asked for or ``dfbench detectors
    --zoo`` lists what the sources offer. Call ``register(DetectorSource(prefix, resolve,
    available))`` once per source: ``resolve(ref)`` returns the ``DetectorSpec`` of one ref (it may
    import frameworks: a run needs the detector); ``available()`` lists the refs cheaply. A prefix
    registered twice is an error naming both plugins. The return value is ignored.
    """


@hookspec
def register_face_finders(register: Callable[[str, Callable[[], FaceFinder]], None]) -> None:
    """Register face finders: ``register(name, factory)``, one call per finder.

    Called once, the first time the crop cache needs a face finder. ``factory()`` returns a
    :class:`dfbench.faces.FaceFinder` and is only called when that finder is used, so its
    weights and frameworks load lazily. The name is what ``--face-finder`` takes and is part of
    the crop cache key. The return value is ignored.
    """


@hookspec
def register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    """Register datasets: ``register(DatasetSpec(id=..., open=..., test_videos=..., ...))``, one call each.

    Called once, the first time the host needs the dataset list (``dfbench datasets``, ``dfbench run
    --test-data``, ``dfbench evaluate``, ``dfbench data check --dataset``). A
    :class:`dfbench.datasets.DatasetSpec` says what must be on disk, checks a root, lists the official
    test videos with labels 0 real / 1 fake and their identity groups, and can write a synthetic twin
    in the dataset's layout. Its callables run only when that dataset is used. An id registered twice
    is an error naming both plugins. The return value is ignored.
    """
