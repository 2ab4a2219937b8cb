"""dfbench's entry point for the image baselines: metadata only, no torch, timm or MMEngine import.

These are the image-based detectors the seed paper compares with (its Tables 2 and 4, numbers
quoted from FaceForensics++). Each is a frame detector: it learns from single face crops and
scores a video as the mean over its trunks of the mean frame score (docs/image-baselines.md).
``tests/test_image_models.py`` builds every network at every size and checks the parameter
counts below, so this metadata cannot drift from the code.
"""

from __future__ import annotations

import dfbench
from dfbench.detector import Checkpoint, DetectorMeta, DetectorSpec, SizeSpec

ROSSLER_2019 = (
    "Rössler, A., Cozzolino, D., Verdoliva, L., Riess, C., Thies, J., Nießner, M.: FaceForensics++: "
    "Learning to detect manipulated facial images. In: IEEE/CVF International Conference on Computer "
    "Vision (ICCV), pp. 1-11 (2019)"
)
CHOLLET_2017 = (
    "Chollet, F.: Xception: Deep learning with depthwise separable convolutions. In: IEEE Conference on "
    "Computer Vision and Pattern Recognition (CVPR), pp. 1251-1258 (2017)"
)
AFCHAR_2018 = (
    "Afchar, D., Nozick, V., Yamagishi, J., Echizen, I.: MesoNet: a compact facial video forgery detection "
    "network. In: IEEE International Workshop on Information Forensics and Security (WIFS) (2018)"
)
BAYAR_2016 = (
    "Bayar, B., Stamm, M.C.: A deep learning approach to universal image manipulation detection using a new "
    "convolutional layer. In: 4th ACM Workshop on Information Hiding and Multimedia Security, pp. 5-10 (2016)"
)
RAHMOUNI_2017 = (
    "Rahmouni, N., Nozick, V., Yamagishi, J., Echizen, I.: Distinguishing computer graphics from natural "
    "images using convolution neural networks. In: IEEE Workshop on Information Forensics and Security "
    "(WIFS) (2017)"
)
COZZOLINO_2017 = (
    "Cozzolino, D., Poggi, G., Verdoliva, L.: Recasting residual-based local descriptors as convolutional "
    "neural networks: an application to image forgery detection. In: 5th ACM Workshop on Information Hiding "
    "and Multimedia Security, pp. 159-164 (2017)"
)
FRIDRICH_2012 = (
    "Fridrich, J., Kodovsky, J.: Rich models for steganalysis of digital images. IEEE Transactions on "
    "Information Forensics and Security 7(3), 868-882 (2012)"
)

# timm's ImageNet legacy_xception weights: Cadene's port of the Keras Xception weights, the ones
# FF++'s models.py loads (xception-b5690688.pth) under timm's names. timm publishes no sha256;
# dfbench.checkpoints.fetch checks the file against the hash prefix in its name (43020ad28).
XCEPTION_IMAGENET = Checkpoint(
    source="https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-cadene/xception-43020ad28.pth",
    description="ImageNet-1k Xception (timm legacy_xception.tf_in1k); the 1000-way fc is dropped",
)


def _frame(clip_crop: int, parameters: int) -> SizeSpec:
    return SizeSpec(clip_len=1, crop_size=clip_crop, parameters=parameters)


DETECTORS: tuple[DetectorMeta, ...] = (
    DetectorMeta(
        name="steg_svm", family="image-handcrafted", input_kind="frame", paper_name="Steg. Features + SVM",
        citation=f"{FRIDRICH_2012}; as run by {ROSSLER_2019}",
        sizes={"paper": _frame(256, 1_691), "cpu": _frame(64, 1_691)},
        pretrainable=False,
        description="Spatial rich model subset (linear 'spam' submodels of 6 residual kinds, q=1, T=2, 1,690 "
        "features) of grey face crops, standardised, linear SVM with C chosen on val.",
    ),
    DetectorMeta(
        name="cozzolino", family="image-cnn", input_kind="frame", paper_name="Cozzolino et al.",
        citation=f"{COZZOLINO_2017}; as run by {ROSSLER_2019}",
        sizes={"paper": _frame(256, 2_509), "cpu": _frame(64, 2_509)},
        pretrainable=False,
        description="Third-order residuals, soft quantisation and 4th-order co-occurrence histograms as a "
        "network (residual filters and linear classifier learnt end to end).",
    ),
    DetectorMeta(
        name="bayar_stamm", family="image-cnn", input_kind="frame", paper_name="Bayar and Stamm",
        citation=f"{BAYAR_2016}; as run by {ROSSLER_2019}",
        sizes={"paper": _frame(256, 167_952_396), "cpu": _frame(64, 21_151_756)},
        pretrainable=False,
        description="Constrained 5x5 convolution, two conv/pool stages and two 4096-unit layers on the grey "
        "image; 227x227 patches of 256 crops (paper), the whole 64x64 crop (cpu).",
    ),
    DetectorMeta(
        name="rahmouni", family="image-cnn", input_kind="frame", paper_name="Rahmouni et al.",
        citation=f"{RAHMOUNI_2017}; as run by {ROSSLER_2019}",
        sizes={"paper": _frame(256, 283_009), "cpu": _frame(64, 283_009)},
        pretrainable=False,
        description="Two 3x3 conv layers and statistical pooling (mean, max, min, variance) on the green "
        "channel, 1024-unit MLP; 100x100 patches, a 3x3 grid averaged at test (paper).",
    ),
    DetectorMeta(
        name="mesonet", family="image-cnn", input_kind="frame", paper_name="MesoNet",
        citation=f"{AFCHAR_2018}; as run by {ROSSLER_2019}",
        sizes={"paper": _frame(256, 27_977), "cpu": _frame(64, 12_617)},
        paper_parameters=27_977, pretrainable=False,
        description="Meso-4 (the seed paper does not say which MesoNet variant FF++ ran; mesoinception is "
        "the other). Flatten size follows the input: 64x64 crops (cpu) shrink the hidden layer's input.",
    ),
    DetectorMeta(
        name="mesoinception", family="image-cnn", input_kind="frame",
        citation=f"{AFCHAR_2018}; as run by {ROSSLER_2019}",
        sizes={"paper": _frame(256, 28_615), "cpu": _frame(64, 13_255)},
        paper_parameters=28_615, pretrainable=False,
        description="MesoInception-4, the other variant the seed paper's 'MesoNet' row may stand for; no "
        "paper row of its own.",
    ),
    DetectorMeta(
        name="xception", family="image-cnn", input_kind="frame", paper_name="XceptionNet",
        citation=f"{CHOLLET_2017}; as fine-tuned by {ROSSLER_2019}",
        sizes={"paper": _frame(299, 20_809_001), "cpu": _frame(64, 1_350_227)},
        checkpoint=XCEPTION_IMAGENET,
        description="ImageNet Xception (timm legacy_xception) with one output neuron, 299x299 crops "
        "normalised to [-1, 1] as FF++; cpu: the same topology at 1/4 width on 64x64 crops.",
    ),
)


def build(meta: DetectorMeta, size: str):
    """One image baseline at ``size``; torch, timm and MMEngine load here, when a run needs it."""
    if meta.name == "steg_svm":
        from dfbench_image.steg import StegSVMDetector

        return StegSVMDetector(meta, size)
    from dfbench_image.detector import FrameCNNDetector

    return FrameCNNDetector(meta, size)


@dfbench.hookimpl
def register_detectors(register) -> None:
    """Register every detector of :data:`DETECTORS`, each built lazily."""
    for m in DETECTORS:
        register(DetectorSpec(meta=m, build=build))
