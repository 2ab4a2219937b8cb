"""The plugin host: one pluggy manager, loaded lazily once, from the ``dfbench`` entry points.

Built-in detectors arrive through the same entry points a third-party plugin uses. A plugin
that fails to import is reported by name and does not take the others down.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from collections.abc import Callable

import pluggy

from dfbench import hookspecs
from dfbench.detector import DetectorSource, DetectorSpec
from dfbench.errors import DfbenchError

# Core modules that implement hooks: the built-in face finders, datasets and the shortcut probe detector.
DEFAULT_PLUGINS = ("dfbench.faces", "dfbench.datasets.builtin", "dfbench.probe_detector")
ENTRY_POINT_GROUP = "dfbench"

pm = pluggy.PluginManager("dfbench")
pm.add_hookspecs(hookspecs)
broken: dict[str, str] = {}  # plugin name -> one-line reason it failed to load
_dists: dict[str, str] = {}  # entry-point plugin name -> the distribution that provides it
_loaded = False
_detectors: dict[str, DetectorSpec] | None = None
_sources: dict[str, DetectorSource] | None = None
_resolved: dict[str, DetectorSpec] = {}  # "<prefix>:<ref>" -> the spec its source resolved, once
_finders: dict[str, Callable] | None = None
_datasets: dict | None = None


def load_plugins() -> None:
    """Register the default plugins and every ``dfbench`` entry point, once."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(ep.name) is not None:
            continue
        dist = getattr(ep.dist, "name", None) or ep.name
        try:
            plugin = ep.load()
        except Exception as e:  # a broken plugin must not hide the working ones
            broken[ep.name] = f"plugin {ep.name!r} ({dist}) failed to load: {type(e).__name__}: {e}"
            continue
        pm.register(plugin, name=ep.name)
        try:
            pm.check_pending()  # a misspelt hook name fails here, naming the plugin
        except pluggy.PluginValidationError as e:
            pm.unregister(plugin)
            broken[ep.name] = f"plugin {ep.name!r} ({dist}) is invalid: {e}; see docs/plugin-hooks.md"
            continue
        _dists[ep.name] = dist


def plugin_label(plugin) -> str:
    """The distribution a plugin came from (the module name for the core's own)."""
    # pluggy's list_plugin_distinfo() is only filled by its own load_setuptools_entrypoints(),
    # which this host does not use (it reports broken plugins one by one), so keep our own map.
    name = pm.get_name(plugin) or "?"
    return _dists.get(name, name)


def _collect(hook, kind: type, key: Callable, what: str) -> dict:
    """What every plugin registers through ``hook``, by ``key``, each stamped with its plugin; a thing
    of another type, or a key two plugins register, is an error naming the plugins involved."""
    load_plugins()
    found: dict = {}
    for impl in hook.get_hookimpls():
        label = plugin_label(impl.plugin)

        def register(thing, label=label) -> None:
            if not isinstance(thing, kind):
                raise DfbenchError(f"plugin {label} registered {thing!r}, not a {kind.__module__}.{kind.__name__}")
            if key(thing) in found:
                raise DfbenchError(f"{what} {key(thing)!r} is registered by both {found[key(thing)].plugin} and "
                                   f"{label}; uninstall one")
            found[key(thing)] = dataclasses.replace(thing, plugin=label)

        impl.function(register=register)
    return dict(sorted(found.items()))


def detectors() -> dict[str, DetectorSpec]:
    """Every registered detector by name. Builds no network and imports no framework."""
    global _detectors
    if _detectors is None:
        _detectors = _collect(pm.hook.register_detectors, DetectorSpec, lambda s: s.meta.name, "detector")
    return _detectors


def detector_sources() -> dict[str, DetectorSource]:
    """Every registered detector source by prefix (``--detector <prefix>:<ref>``). Imports no framework."""
    global _sources
    if _sources is None:
        _sources = _collect(pm.hook.register_detector_sources, DetectorSource, lambda s: s.prefix, "detector source")
    return _sources


def datasets() -> dict:
    """Every registered dataset by id (:class:`dfbench.datasets.DatasetSpec`). Imports no framework."""
    global _datasets
    if _datasets is None:
        from dfbench.datasets import DatasetSpec

        _datasets = _collect(pm.hook.register_datasets, DatasetSpec, lambda s: s.id, "dataset")
    return _datasets


def get_detector(name: str) -> DetectorSpec:
    """The detector registered as ``name``, or the one a source resolves for ``<prefix>:<ref>``."""
    known = detectors()
    if name in known:
        return known[name]
    hint = f"; {len(broken)} plugin(s) failed to load: " + " | ".join(broken.values()) if broken else ""
    prefix, sep, ref = name.partition(":")
    if sep:
        if name in _resolved:
            return _resolved[name]
        sources = detector_sources()
        if prefix not in sources:
            raise DfbenchError(f"unknown detector source {prefix!r} in {name!r}; installed sources: "
                               f"{', '.join(sources) or 'none'}{hint}")
        source = sources[prefix]
        spec = source.resolve(ref)
        if not isinstance(spec, DetectorSpec):
            raise DfbenchError(f"detector source {prefix!r} ({source.plugin}) resolved {ref!r} to {spec!r}, "
                               "not a dfbench.detector.DetectorSpec")
        _resolved[name] = spec = dataclasses.replace(spec, plugin=source.plugin)
        return spec
    raise DfbenchError(f"unknown detector {name!r}; `dfbench detectors` lists them "
                       f"({', '.join(known) or 'none installed'}){hint}")


def face_finders() -> dict[str, Callable]:
    global _finders
    if _finders is None:
        load_plugins()
        found: dict[str, Callable] = {}
        for impl in pm.hook.register_face_finders.get_hookimpls():
            label = plugin_label(impl.plugin)

            def register(name: str, factory: Callable, label=label) -> None:
                if name in found:
                    raise DfbenchError(f"face finder {name!r} is registered by both {_finder_plugins[name]} and "
                                       f"{label}; uninstall one of the plugins")
                found[name] = factory
                _finder_plugins[name] = label

            impl.function(register=register)
        _finders = dict(sorted(found.items()))
    return _finders


_finder_plugins: dict[str, str] = {}  # face finder name -> the plugin that registered it


def diagnostics() -> list[dict]:
    """Every plugin the host knows, as ``dfbench plugins`` shows it (after simonw/llm's ``llm plugins``).

    One entry per ``dfbench`` entry point and per default plugin: ``name``, ``distribution``,
    ``version``, ``loaded``, ``error`` (why it did not load), ``hooks`` (the hooks it implements),
    ``detectors``, ``face_finders``, ``detector_sources`` and ``datasets`` (what it registered) and
    ``warnings`` (a plugin that loaded but registers nothing: most often a hook function without
    ``@hookimpl``, which pluggy ignores).
    """
    from dfbench.provenance import distribution_version

    load_plugins()
    detector_names = detectors()
    finder_names = face_finders()
    source_names = detector_sources()
    dataset_names = datasets()
    rows = []
    eps = [(ep.name, getattr(ep.dist, "name", None) or ep.name, ep.value)
           for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)]
    for name, dist, target in [(n, n, n) for n in DEFAULT_PLUGINS] + sorted(eps):
        plugin = pm.get_plugin(name)
        label = _dists.get(name, name)
        row = {"name": name, "distribution": dist if name not in DEFAULT_PLUGINS else "dfbench (core)",
               "version": distribution_version(dist) if name not in DEFAULT_PLUGINS else None,
               "module": target, "loaded": plugin is not None, "error": broken.get(name),
               "hooks": sorted(c.name for c in (pm.get_hookcallers(plugin) or [])) if plugin is not None else [],
               "detectors": sorted(d for d, spec in detector_names.items() if spec.plugin == label),
               "face_finders": sorted(f for f in finder_names if _finder_plugins.get(f) == label),
               "detector_sources": sorted(p for p, s in source_names.items() if s.plugin == label),
               "datasets": sorted(d for d, s in dataset_names.items() if s.plugin == label),
               "warnings": []}
        if plugin is not None and not (row["detectors"] or row["face_finders"] or row["detector_sources"]
                                       or row["datasets"]):
            row["warnings"].append(
                f"plugin {name!r} ({dist}) loaded but registers nothing: is its hook function decorated with "
                "@hookimpl (dfbench.hookspecs.hookimpl)? See docs/plugin-hooks.md")
        rows.append(row)
    return rows


def get_face_finder(name: str) -> Callable:
    known = face_finders()
    if name not in known:
        raise DfbenchError(f"unknown face finder {name!r}; use one of {', '.join(sorted(known))}")
    return known[name]


def reset() -> None:
    """Forget computed registries (tests register and unregister plugins)."""
    global _detectors, _finders, _sources, _datasets
    _detectors = _finders = _sources = _datasets = None
    _finder_plugins.clear()
    _resolved.clear()
