"""dfbench: an open benchmark for deepfake video detection on FaceForensics++.

The core (this package) is torch-free; detectors arrive as pluggy plugins through the
``dfbench`` entry-point group, the built-in ones included. Plugins mark their hooks with
``@dfbench.hookimpl``.
"""

from dfbench.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["hookimpl", "__version__"]
