"""dfbench plugin: ``tiny3d``, a two-layer 3D CNN trained by a plain PyTorch loop."""

import dfbench
from dfbench.detector import DetectorMeta, DetectorSpec, SizeSpec

PARAMETERS = 4_193  # two 3x3x3 convolutions with BatchNorm, one output neuron (the plugin's test counts them)

META = DetectorMeta(
    name="tiny3d",
    family="3d-cnn",
    input_kind="clip",
    sizes={"cpu": SizeSpec(8, 64, PARAMETERS), "paper": SizeSpec(16, 112, PARAMETERS)},
    citation="dfbench tutorial example, docs/writing-a-detector-plugin.md",
    description="Two 3x3x3 convolutions, global pooling and one logit, trained from scratch in plain PyTorch",
)


def build(meta: DetectorMeta, size: str):
    from dfbench_tiny3d.detector import Tiny3D  # torch loads here, when a run needs the detector

    return Tiny3D()


@dfbench.hookimpl
def register_detectors(register):
    register(DetectorSpec(meta=META, build=build))
