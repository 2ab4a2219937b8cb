"""dfbench's entry point for the MMAction2 detectors: metadata only, no framework import.

Each built-in detector is a :class:`~dfbench.detector.DetectorMeta` here plus one config file per
size, ``configs/<name>_<size>.py``. Adding a detector is one entry in :data:`DETECTORS` and its
config files (with new modules, if any, registered through the configs' ``custom_imports``).
``tests/test_mmaction_models.py`` builds every detector at every size and checks the parameter
counts below, so this metadata cannot drift from the configs.

Any recognition config MMAction2 ships is a detector too, with no code: ``--detector
mmaction2:<config>`` (the ``mmaction2`` detector source, :mod:`dfbench_mmaction.zoo`).
"""

from __future__ import annotations

from dataclasses import replace

import dfbench
from dfbench.detector import DetectorMeta, DetectorSource, DetectorSpec, SizeSpec
from dfbench_mmaction import zoo  # torch-free until a zoo detector is resolved
from dfbench_mmaction.pretrained import DEFAULTS as KINETICS400  # paper-size --pretrained auto; torch-free
from dfbench_mmaction.pretrained import stand_in_weights

CARREIRA_2017 = (
    "Carreira, J., Zisserman, A.: Quo vadis, action recognition? A new model and the Kinetics dataset. "
    "In: IEEE Conference on Computer Vision and Pattern Recognition (CVPR), pp. 6299-6308 (2017)"
)
HARA_2018 = (
    "Hara, K., Kataoka, H., Satoh, Y.: Can spatiotemporal 3D CNNs retrace the history of 2D CNNs "
    "and ImageNet? In: IEEE Conference on Computer Vision and Pattern Recognition (CVPR), "
    "pp. 6546-6555 (2018)"
)
HU_2018 = (
    "Hu, J., Shen, L., Sun, G.: Squeeze-and-excitation networks. In: IEEE Conference on Computer "
    "Vision and Pattern Recognition (CVPR), pp. 7132-7141 (2018)"
)
WANG_2018 = (
    "Wang, X., Girshick, R., Gupta, A., He, K.: Non-local neural networks. In: IEEE Conference on "
    "Computer Vision and Pattern Recognition (CVPR), pp. 7794-7803 (2018)"
)
XIE_2017 = (
    "Xie, S., Girshick, R., Dollar, P., Tu, Z., He, K.: Aggregated residual transformations for deep "
    "neural networks. In: IEEE Conference on Computer Vision and Pattern Recognition (CVPR), "
    "pp. 1492-1500 (2017)"
)
MMACTION2 = (
    "MMAction2 Contributors: OpenMMLab's next generation video understanding toolbox and benchmark. "
    "https://github.com/open-mmlab/mmaction2 (2020)"
)

# Every 3D ResNet/ResNeXt detector takes the paper's 16x112x112 clips; the cpu size is one block per
# stage, 16 stem channels, a 3x7x7 stem and 64x64 crops (configs/resnet3d_cpu.py).
_RESNET_CPU = "cpu: one block per stage, 16 stem channels, 3x7x7 stem, 64x64 crops"


def _sizes(paper: tuple[int, int, int], cpu: tuple[int, int, int]) -> dict[str, SizeSpec]:
    """{"paper": SizeSpec(*paper), "cpu": SizeSpec(*cpu)}: (clip_len, crop_size, parameters) each."""
    return {"paper": SizeSpec(*paper), "cpu": SizeSpec(*cpu)}


DETECTORS: tuple[DetectorMeta, ...] = (
    DetectorMeta(
        name="i3d",
        checkpoint=KINETICS400["i3d"],
        family="i3d",
        input_kind="clip",
        paper_name="I3D",
        citation=CARREIRA_2017,
        sizes=_sizes((64, 224, 12_288_289), (16, 64, 783_289)),
        description="I3D: Inception-v1 inflated to 3D (dfbench_mmaction.inception_i3d, module names of "
        "the authors' PyTorch port) with one output neuron; cpu: a quarter of the width, 16x64x64 clips.",
    ),
    DetectorMeta(
        name="i3d_r50",
        checkpoint=KINETICS400["i3d_r50"],
        family="i3d-resnet",
        input_kind="clip",
        paper_name="",  # not in the paper: MMAction2's ResNet-50 I3D, for its model zoo's users
        citation=f"{CARREIRA_2017}; {MMACTION2}",
        sizes=_sizes((32, 224, 27_225_921), (16, 64, 537_297)),
        description="MMAction2's ResNet-50 I3D (configs/_base_/models/i3d_r50.py) with one output "
        "neuron, 32x224x224 clips; not in the paper. cpu: one block per stage, 16 stem channels.",
    ),
    DetectorMeta(
        name="resnet3d",
        checkpoint=KINETICS400["resnet3d"],
        family="3d-resnet",
        input_kind="clip",
        paper_name="3D ResNet",
        citation=HARA_2018,
        sizes=_sizes((16, 112, 85_247_169), (16, 64, 903_281)),
        paper_parameters=85_249_216,
        description="3D ResNet-101 (3x3x3 bottlenecks, 7x7x7 stem) with one output neuron, on "
        f"MMAction2; {_RESNET_CPU}.",
    ),
    DetectorMeta(
        name="resnet3d_scratch",
        family="3d-resnet",
        input_kind="clip",
        paper_name="3D ResNet (w/o pre-training)",
        citation=HARA_2018,
        sizes=_sizes((16, 112, 85_247_169), (16, 64, 903_281)),
        paper_parameters=85_249_216,
        checkpoint=None,
        pretrainable=False,
        description="resnet3d always trained from random weights (the paper's baseline for the SE "
        f"network, which cannot start from Kinetics weights); {_RESNET_CPU}.",
    ),
    DetectorMeta(
        name="resnet3d_se",
        checkpoint=KINETICS400["resnet3d_se"],  # only for an explicit ablation: --pretrained <this URL>
        pretrained_by_default=False,  # §5: "the network is trained from scratch as the SE blocks are incorporated"
        family="3d-resnet",
        input_kind="clip",
        paper_name="3D ResNet (with SE)",
        citation=f"{HARA_2018}; {HU_2018}",
        sizes=_sizes((16, 112, 90_024_881), (16, 64, 948_337)),
        paper_parameters=94_303_808,
        description="3D ResNet-101 with squeeze-and-excitation (r = 16, MMAction2's X3D SEModule) in "
        f"every bottleneck; the paper trains it from scratch. {_RESNET_CPU}.",
    ),
    DetectorMeta(
        name="resnet3d_nl",
        checkpoint=KINETICS400["resnet3d_nl"],
        family="3d-resnet",
        input_kind="clip",
        paper_name="3D ResNet (with non-local)",
        citation=f"{HARA_2018}; {WANG_2018}",
        sizes=_sizes((16, 112, 93_642_945), (16, 64, 1_429_361)),
        paper_parameters=93_647_040,
        description="3D ResNet-101 with one embedded-Gaussian non-local block after the last stage "
        f"(the paper's Table 1), mmcv's NonLocal3d. {_RESNET_CPU}.",
    ),
    DetectorMeta(
        name="resnext3d",
        checkpoint=KINETICS400["resnext3d"],
        family="3d-resnext",
        input_kind="clip",
        paper_name="3D ResNeXt",
        citation=f"{HARA_2018}; {XIE_2017}",
        sizes=_sizes((16, 112, 47_523_265), (16, 64, 740_785)),
        description="3D ResNeXt-101 32x4d (grouped 3x3x3 bottlenecks) with one output neuron, on "
        f"MMAction2; {_RESNET_CPU}, 8 groups.",
    ),
    DetectorMeta(
        name="resnext3d_nl",
        checkpoint=KINETICS400["resnext3d_nl"],
        family="3d-resnext",
        input_kind="clip",
        paper_name="3D ResNeXt (with non-local)",
        citation=f"{HARA_2018}; {XIE_2017}; {WANG_2018}",
        sizes=_sizes((16, 112, 55_919_041), (16, 64, 1_266_865)),
        description="3D ResNeXt-101 32x4d with an embedded-Gaussian non-local block after the last "
        f"stage and one output neuron, on MMAction2; {_RESNET_CPU}, 8 groups.",
    ),
)
# The cpu size's --pretrained stand-in: each pretrainable detector's shipped formula-pretrained weights.
_STAND_IN = stand_in_weights()
DETECTORS = tuple(replace(m, stand_in=_STAND_IN[m.name]) if m.pretrainable and m.name in _STAND_IN else m
                  for m in DETECTORS)


def build(meta: DetectorMeta, size: str):
    """A built-in detector at ``size``, from ``configs/<meta.name>_<size>.py``."""
    from dfbench_mmaction.detector import MMActionDetector  # torch and OpenMMLab load here

    return MMActionDetector(meta, size)


@dfbench.hookimpl
def register_detectors(register) -> None:
    """Register every detector of :data:`DETECTORS`, each built lazily from its config."""
    for meta in DETECTORS:
        register(DetectorSpec(meta=meta, build=build))


@dfbench.hookimpl
def register_detector_sources(register) -> None:
    """Register MMAction2's shipped recognition configs as ``--detector mmaction2:<config>``."""
    register(DetectorSource(prefix=zoo.PREFIX, resolve=zoo.resolve, available=zoo.available,
                            description="MMAction2's recognition configs (mmaction/.mim/configs/recognition), "
                                        "head replaced by the one-logit head, trained with dfbench's recipe"))
