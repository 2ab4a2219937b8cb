"""Synthetic FaceForensics++: talking-face videos and four manipulations, in the exact FF++ layout."""

from dfbench.synth.dataset import GENERATOR, VERSION, generate
from dfbench.synth.manipulate import MANIPULATIONS, STRENGTH

__all__ = ["GENERATOR", "MANIPULATIONS", "STRENGTH", "VERSION", "generate"]
