"""dfbench_image: the seed paper's image baselines (the rows it quotes from FaceForensics++) as dfbench detectors.

The entry point is :mod:`dfbench_image.plugin`, which lists the detectors without importing
torch, timm or MMEngine; they load only when a run builds a detector.
"""

__version__ = "0.1.0"
