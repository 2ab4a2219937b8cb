"""dfbench plugin: X3D-S (Feichtenhofer, CVPR 2020) on dfbench-mmaction's MMEngine detector base.

The base (dfbench_mmaction.base) brings the built-in 3D CNNs' recipe: clips from the crop cache,
the class-weighted loss, the checkpoint chosen on validation AUC, trunk scoring, --precision,
--launcher and the --set options. This plugin says only what is X3D's: the network and its metadata.
"""

import dfbench
from dfbench.detector import DetectorMeta, DetectorSpec, SizeSpec

PARAMETERS = 2_090_419  # X3D-S and the one-logit head, counted on the built network (the plugin's test)

META = DetectorMeta(
    name="x3d_example",
    family="x3d",
    input_kind="clip",
    sizes={"paper": SizeSpec(13, 160, PARAMETERS), "cpu": SizeSpec(16, 64, PARAMETERS)},
    citation="Feichtenhofer, C.: X3D: Expanding architectures for efficient video recognition. "
    "In: IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR), pp. 203-213 (2020)",
    description="X3D-S from scratch with dfbench's recipe: an outside plugin on the MMEngine base",
)

# An MMAction2 recognizer: X3D-S, ending in the one-logit head of every dfbench video detector.
MODEL = dict(
    type="Recognizer3D",
    backbone=dict(type="X3D", gamma_w=1, gamma_b=2.25, gamma_d=2.2),
    cls_head=dict(type="BinaryClsHead", in_channels=432, dropout_ratio=0.5),
    data_preprocessor=dict(type="ActionDataPreprocessor", mean=[114.75] * 3, std=[57.38] * 3,
                           format_shape="NCTHW"),
)


def build(meta: DetectorMeta, size: str):
    # torch and MMAction2 load here, when a run needs the detector: listing detectors stays cheap.
    from dfbench_mmaction.detector import MMActionDetector

    return MMActionDetector(meta, size, model=MODEL)


@dfbench.hookimpl
def register_detectors(register):
    register(DetectorSpec(meta=META, build=build))
