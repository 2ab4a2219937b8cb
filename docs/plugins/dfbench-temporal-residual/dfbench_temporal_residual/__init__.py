"""dfbench plugin: the ``temporal_residual`` detector (hand-crafted features, logistic regression)."""

import dfbench
from dfbench.detector import DetectorMeta, DetectorSpec, SizeSpec

N_FEATURES = 20  # see detector.trunk_features; every one has a coefficient, plus one intercept

META = DetectorMeta(
    name="temporal_residual",
    family="handcrafted",
    input_kind="clip",  # it needs consecutive frames: a residual is the difference of two
    sizes={
        "cpu": SizeSpec(clip_len=2, crop_size=64, parameters=N_FEATURES + 1),
        "paper": SizeSpec(clip_len=2, crop_size=112, parameters=N_FEATURES + 1),
    },
    citation="dfbench tutorial example, docs/writing-a-detector-plugin.md",
    checkpoint=None,  # no pretrained weights: every run trains from scratch...
    trained_on=(),  # ...so it has seen no manipulation before the run's own train split
    description="Frame-to-frame residuals, Laplacian energy and colour, inside vs around the face centre",
)


def build(meta: DetectorMeta, size: str):
    # Imported here, not at the top: `dfbench detectors` must stay cheap for every plugin.
    from dfbench_temporal_residual.detector import TemporalResidual

    return TemporalResidual()


@dfbench.hookimpl
def register_detectors(register):
    register(DetectorSpec(meta=META, build=build))
