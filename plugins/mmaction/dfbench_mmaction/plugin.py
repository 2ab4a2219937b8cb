"""dfbench's entry point for the MMAction2 detectors: metadata only, no framework import.

Each detector is a :class:`~dfbench.detector.DetectorMeta` here plus one config file per size,
``configs/<name>_<size>.py``. Adding a detector is one entry in :data:`DETECTORS` and its config
files (with new modules, if any, registered through the configs' ``custom_imports``).
``tests/test_mmaction_models.py`` builds every detector at every size and checks the parameter
counts below, so this metadata cannot drift from the configs.
"""

from __future__ import annotations

from functools import partial

import dfbench
from dfbench.detector import DetectorMeta, DetectorSpec, SizeSpec

HARA_2018 = (
    "Hara, K., Kataoka, H., Satoh, Y.: Can spatiotemporal 3D CNNs retrace the history of 2D CNNs "
    "and ImageNet? In: IEEE Conference on Computer Vision and Pattern Recognition (CVPR), "
    "pp. 6546-6555 (2018)"
)
WANG_2018 = (
    "Wang, X., Girshick, R., Gupta, A., He, K.: Non-local neural networks. In: IEEE Conference on "
    "Computer Vision and Pattern Recognition (CVPR), pp. 7794-7803 (2018)"
)

DETECTORS: tuple[DetectorMeta, ...] = (
    DetectorMeta(
        name="resnet3d",
        family="3d-resnet",
        input_kind="clip",
        paper_name="3D ResNet",
        citation=HARA_2018,
        sizes={
            "paper": SizeSpec(clip_len=16, crop_size=112, parameters=85_247_169),
            "cpu": SizeSpec(clip_len=16, crop_size=64, parameters=903_281),
        },
        description="3D ResNet-101 (3x3x3 bottlenecks, 7x7x7 stem) with one output neuron, on "
        "MMAction2; cpu: one bottleneck per stage, 16 stem channels, 3x7x7 stem, 64x64 crops.",
    ),
    DetectorMeta(
        name="resnext3d_nl",
        family="3d-resnext",
        input_kind="clip",
        paper_name="3D ResNeXt (with non-local)",
        citation=f"{HARA_2018}; {WANG_2018}",
        sizes={
            "paper": SizeSpec(clip_len=16, crop_size=112, parameters=55_919_041),
            "cpu": SizeSpec(clip_len=16, crop_size=64, parameters=1_266_865),
        },
        description="3D ResNeXt-101 32x4d with an embedded-Gaussian non-local block after the last "
        "stage and one output neuron, on MMAction2; cpu: one block per stage, 16 stem channels, "
        "8 groups, 64x64 crops.",
    ),
)


def _build(name: str, size: str):
    from dfbench_mmaction.detector import MMActionDetector  # torch and OpenMMLab load here

    return MMActionDetector(name, size)


@dfbench.hookimpl
def register_detectors(register) -> None:
    """Register every detector of :data:`DETECTORS`, each built lazily from its config."""
    for meta in DETECTORS:
        register(DetectorSpec(meta=meta, build=partial(_build, meta.name)))
