"""dfbench_mmaction: dfbench's video detectors (I3D, 3D ResNet with SE or non-local, 3D ResNeXt) on MMAction2.

The entry point is :mod:`dfbench_mmaction.plugin`, which lists the detectors without importing
torch or OpenMMLab; the framework loads only when a run builds a detector.
"""

__version__ = "0.1.0"
