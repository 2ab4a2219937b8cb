"""The mmaction plugin's entry point: metadata only, no framework imported, through pluggy."""

import importlib.metadata
import json
import subprocess
import sys

import pluggy
import pytest

pytest.importorskip("dfbench_mmaction")

from dfbench import hookspecs  # noqa: E402
from dfbench.detector import DetectorSpec  # noqa: E402
from dfbench_mmaction import plugin  # noqa: E402
from dfbench_mmaction.detector import config_path  # noqa: E402


def registered() -> list[DetectorSpec]:
    pm = pluggy.PluginManager("dfbench")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name="mmaction")
    pm.check_pending()
    specs: list[DetectorSpec] = []
    pm.hook.register_detectors(register=specs.append)
    return specs


def test_entry_point_names_the_plugin_module():
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="dfbench")}
    assert eps.get("mmaction") == "dfbench_mmaction.plugin"


def test_register_detectors():
    specs = {s.meta.name: s for s in registered()}
    assert set(specs) == {"i3d", "i3d_r50", "resnet3d", "resnet3d_scratch", "resnet3d_se", "resnet3d_nl",
                          "resnext3d", "resnext3d_nl"}
    resnet, resnext = specs["resnet3d"].meta, specs["resnext3d_nl"].meta
    assert (resnet.family, resnet.paper_name) == ("3d-resnet", "3D ResNet")
    assert (resnext.family, resnext.paper_name) == ("3d-resnext", "3D ResNeXt (with non-local)")
    assert "Hara" in resnet.citation and "Hara" in resnext.citation and "Non-local" in resnext.citation
    for spec in specs.values():
        assert spec.meta.input_kind == "clip"
        assert set(spec.meta.sizes) == {"paper", "cpu"}
        # The paper: I3D 64x224x224, 3D ResNets 16x112x112; MMAction2 trains i3d_r50 on 32x224x224.
        paper = {"i3d": (64, 224), "i3d_r50": (32, 224)}.get(spec.meta.name, (16, 112))
        for size, s in spec.meta.sizes.items():
            assert (s.clip_len, s.crop_size) == (paper if size == "paper" else (16, 64))
            assert config_path(spec.meta.name, size).is_file()


def test_listing_detectors_imports_no_framework():
    code = (
        "import json, sys\n"
        "import dfbench_mmaction.plugin as p\n"
        "specs = []\n"
        "p.register_detectors(register=specs.append)\n"
        "heavy = sorted(m for m in ('torch', 'mmengine', 'mmcv', 'mmaction') if m in sys.modules)\n"
        "print(json.dumps([len(specs), heavy]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [len(plugin.DETECTORS), []]


def test_build_returns_a_detector_for_each_size():
    from dfbench.detector import Detector

    for spec in registered():
        for size in spec.meta.sizes:
            det = spec.create(size)
            assert isinstance(det, Detector)
            assert (det.name, det.size) == (spec.meta.name, size)
