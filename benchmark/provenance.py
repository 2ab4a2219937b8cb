"""Where a result came from: the code revision, a plugin's version and code, and portable paths.

Records are shared evidence, so they name code by content (a hash of the plugin's files) as well
as by version, and name files without the machine's absolute paths (see :func:`portable_path`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

# Files that make up a plugin's behaviour: code and the configs it reads. Compiled caches and
# editor leftovers are not code.
_CODE_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".toml", ".cfg", ".txt")


@cache
def git_revision() -> str:
    """The core's git commit, ``+dirty`` when tracked files differ from it, or ``unknown``.

    Read once per process: a run reads it when it starts (``dfbench.engine.prepare``, ``dfbench.evaluation``),
    so its record names the revision whose code it loaded, even when the checkout is edited or moved
    to another commit while it trains (which would otherwise be attributed to the run)."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@cache
def code_sha256(module_name: str) -> str:
    """A hash of the source of the top-level package (or module) that ``module_name`` belongs to.

    Every code and config file under the package, by relative path and content: editing a plugin's
    code or configs changes it, moving the installation does not.
    """
    top = module_name.split(".", 1)[0]
    mod = sys.modules.get(top)
    files: list[tuple[str, Path]] = []
    locations = getattr(mod, "__path__", None) if mod else None
    if locations is None:
        spec = importlib.util.find_spec(top)
        locations = spec.submodule_search_locations if spec else None
        if locations is None and spec and spec.origin and os.path.isfile(spec.origin):
            files = [(Path(spec.origin).name, Path(spec.origin))]
    for base in locations or ():
        base = Path(base)
        files += [(p.relative_to(base).as_posix(), p) for p in base.rglob("*")
                  if p.is_file() and p.suffix in _CODE_SUFFIXES and "__pycache__" not in p.parts]
    h = hashlib.sha256()
    for rel, path in sorted(files):
        h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


_NOT_PLUGIN_CODE = {"builtins", "typing", "abc", "dfbench"}  # the harness is named by dfbench_version


def detector_code_sha256(build, detector) -> str:
    """A hash of the code a detector runs: the package whose ``build`` registered it, and every package
    its class inherits from (an outside detector on dfbench_mmaction's MMEngine base trains with that
    base's code too). One package: its :func:`code_sha256`; several: a hash of ``name hash`` lines."""
    while isinstance(build, functools.partial):
        build = build.func
    own = (getattr(build, "__module__", None) or type(build).__module__).split(".", 1)[0]
    tops = {own} | {c.__module__.split(".", 1)[0] for c in type(detector).__mro__}
    tops = sorted(tops - _NOT_PLUGIN_CODE) or [own]
    if tops == [own]:
        return code_sha256(own)
    return hashlib.sha256("\n".join(f"{t} {code_sha256(t)}" for t in tops).encode()).hexdigest()


def distribution_version(dist: str) -> str | None:
    """The installed version of a distribution, None when it is not one (a plugin registered in-process)."""
    try:
        return importlib.metadata.version(dist)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def portable_path(path: str | os.PathLike, *, roots: dict[str, Path] | None = None) -> str:
    """``path`` as a record may store it: relative to a named root (``$DFBENCH_CACHE/...``), to the
    working folder, or to the home folder (``~/...``); absolute only when it is under none of them."""
    p = Path(path).expanduser().resolve()
    for name, root in (roots or {}).items():
        try:
            return f"{name}/{p.relative_to(Path(root).expanduser().resolve()).as_posix()}"
        except ValueError:
            pass
    for prefix, root in (("", Path.cwd()), ("~", Path.home())):
        try:
            rel = p.relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
        return f"{prefix}/{rel}" if prefix else rel
    return p.as_posix()


def portable_source(source: str) -> str:
    """A checkpoint's source as a record stores it: a URL as given; a file shipped inside an installed
    Python package as ``package:<top package>/<path>`` (the same on every machine and install); any
    other file as :func:`portable_path` makes it."""
    if "://" in source:
        return source
    p = Path(source).expanduser().resolve()
    top = None
    for folder in p.parents:
        if (folder / "__init__.py").is_file():
            top = folder
        elif top is not None:
            break
    if top is not None:
        return f"package:{top.name}/{p.relative_to(top).as_posix()}"
    return portable_path(p)


def expand_path(stored: str, *, roots: dict[str, Path] | None = None) -> Path:
    """The inverse of :func:`portable_path`: ``$NAME/...`` under its root in ``roots``, ``~/...`` under the
    home folder, a relative path under the working folder (where the record was made)."""
    for name, root in (roots or {}).items():
        if stored.startswith(name + "/"):
            return Path(root) / stored[len(name) + 1:]
    if stored.startswith("$"):
        raise ValueError(f"{stored}: no folder given for {stored.split('/')[0]}")
    return Path(stored).expanduser()
