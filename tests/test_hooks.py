"""Every hook has a test named after it and a section in docs/plugin-hooks.md (datasette's two
meta-tests), and here are those tests, each with plugins registered for it and unregistered after.
"""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import CentreFinder, registered

from dfbench import hookspecs, plugins
from dfbench.detector import DetectorMeta, DetectorSource, DetectorSpec, SizeSpec
from dfbench.errors import DfbenchError
from dfbench.hookspecs import hookimpl

ROOT = Path(__file__).resolve().parents[1]
HOOKS = {name: fn for name, fn in vars(hookspecs).items() if hasattr(fn, "dfbench_spec")}


def test_hookspecs_are_found():
    assert "register_detectors" in HOOKS and "register_face_finders" in HOOKS
    assert all(name.startswith("register_") for name in HOOKS)


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_every_hook_has_a_test(hook):
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    assert re.search(rf"^def test_{hook}\(", tests, re.M), f"add a test named test_{hook} under tests/"


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_every_hook_is_documented(hook):
    doc = (ROOT / "docs" / "plugin-hooks.md").read_text(encoding="utf-8")
    heading = f"## {hook}({', '.join(inspect.signature(HOOKS[hook]).parameters)})"
    assert heading in doc.splitlines(), f"docs/plugin-hooks.md needs a section headed {heading!r}"


def test_docs_describe_no_hook_that_is_gone():
    doc = (ROOT / "docs" / "plugin-hooks.md").read_text(encoding="utf-8")
    assert set(re.findall(r"^## (\w+)\(", doc, re.M)) == set(HOOKS)


def meta(name: str) -> DetectorMeta:
    return DetectorMeta(name=name, family="test", input_kind="frame", sizes={"cpu": SizeSpec(1, 64, 3)},
                        citation="dfbench hook tests")


class Detectors:
    def __init__(self, *names: str):
        self.names = names

    @hookimpl
    def register_detectors(self, register):
        for name in self.names:
            register(DetectorSpec(meta=meta(name), build=lambda meta, size: None))


def test_register_detectors():
    with registered(dfbench_hook_one=Detectors("hook_alpha", "hook_beta")):
        found = plugins.detectors()
        assert found["hook_alpha"].meta == meta("hook_alpha")
        assert found["hook_alpha"].plugin == found["hook_beta"].plugin == "dfbench-hook-one"
        assert plugins.get_detector("hook_beta") is found["hook_beta"]
    assert "hook_alpha" not in plugins.detectors()


def test_register_detectors_duplicate_name_names_both_plugins():
    with registered(dfbench_hook_one=Detectors("hook_twice"), dfbench_hook_two=Detectors("hook_twice")):
        with pytest.raises(DfbenchError, match="'hook_twice' is registered by both") as e:
            plugins.detectors()
        assert "dfbench-hook-one" in str(e.value) and "dfbench-hook-two" in str(e.value)


def test_register_detectors_rejects_what_is_not_a_spec():
    class Sloppy:
        @hookimpl
        def register_detectors(self, register):
            register(meta("hook_bare"))

    with registered(dfbench_hook_sloppy=Sloppy()):
        with pytest.raises(DfbenchError, match="plugin dfbench-hook-sloppy registered .*, not a dfbench"):
            plugins.detectors()


class Sources:
    def __init__(self, prefix: str = "hookzoo"):
        self.prefix = prefix

    @hookimpl
    def register_detector_sources(self, register):
        register(DetectorSource(prefix=self.prefix, available=lambda: ["family/one", "two"],
                                resolve=lambda ref: DetectorSpec(meta=meta(f"{self.prefix}:{ref}"),
                                                                 build=lambda meta, size: None)))


def test_register_detector_sources():
    with registered(dfbench_hook_source=Sources()):
        source = plugins.detector_sources()["hookzoo"]
        assert source.plugin == "dfbench-hook-source" and list(source.available()) == ["family/one", "two"]
        spec = plugins.get_detector("hookzoo:family/one")
        assert spec.meta.name == "hookzoo:family/one" and spec.plugin == "dfbench-hook-source"
        assert plugins.get_detector("hookzoo:family/one") is spec  # resolved once per process
        with pytest.raises(DfbenchError, match="unknown detector source 'nozoo' in 'nozoo:x'; installed sources: "):
            plugins.get_detector("nozoo:x")
    assert "hookzoo" not in plugins.detector_sources()


def test_register_detector_sources_duplicate_prefix_names_both_plugins():
    with registered(dfbench_hook_one=Sources(), dfbench_hook_two=Sources()):
        with pytest.raises(DfbenchError, match="detector source 'hookzoo' is registered by both") as e:
            plugins.detector_sources()
        assert "dfbench-hook-one" in str(e.value) and "dfbench-hook-two" in str(e.value)


class Finders:
    @hookimpl
    def register_face_finders(self, register):
        register("hook-centre", CentreFinder)


def test_register_face_finders():
    with registered(dfbench_hook_finder=Finders()):
        finders = plugins.face_finders()
        assert finders["hook-centre"] is CentreFinder
        assert {"dataset", "opencv", "face-alignment", "dlib"} <= set(finders)  # the core's own, by the same hook
        finder = plugins.get_face_finder("hook-centre")()
        assert finder.find(np.zeros((2, 40, 80, 3), np.uint8), Path("v.mp4")) == [(20, 10, 60, 30)] * 2
    assert "hook-centre" not in plugins.face_finders()
    with pytest.raises(DfbenchError, match="unknown face finder 'hook-centre'"):
        plugins.get_face_finder("hook-centre")
