"""dfbench_mmaction: dfbench's 3D CNN detectors (3D ResNet, 3D ResNeXt with non-local) on MMAction2.

The entry point is :mod:`dfbench_mmaction.plugin`, which lists the detectors without importing
torch or OpenMMLab; the framework loads only when a run builds a detector.
"""

__version__ = "0.1.0"
