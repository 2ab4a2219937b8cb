"""The networks each config builds: parameter counts (= the metadata), shapes, the configs' settings.

Every detector is built at every size, one at a time: cpu sizes on the CPU, paper sizes on PyTorch's
``meta`` device (real modules and shapes, no memory for weights, no arithmetic), so checking a
94 M-parameter model costs neither RAM nor compute. Per-architecture checks (ResNeXt groups, SE,
non-local, I3D's module names) are in tests/test_mmaction_zoo.py.
"""

from pathlib import Path

import pytest

pytest.importorskip("dfbench_mmaction")

import torch  # noqa: E402

from dfbench_mmaction.detector import build_model, load_config  # noqa: E402
from dfbench_mmaction.plugin import DETECTORS  # noqa: E402

META = {m.name: m for m in DETECTORS}
CASES = [(m.name, size) for m in DETECTORS for size in m.sizes]
# The paper-size input (clip_len, crop_size) and the backbone's feature map on it.
PAPER_FEATURES = {
    "i3d": (1024, 8, 7, 7),  # 64x224x224: stride 8 in time, 32 in space (Carreira & Zisserman)
    "i3d_r50": (2048, 4, 7, 7),  # 32x224x224: stem and pool1 stride 2 in time, pool2 another 2
    **{n: (2048, 1, 4, 4) for n in META if n.startswith(("resnet3d", "resnext3d"))},  # the paper's Table 1
}


def build(name: str, size: str):
    """The recognizer of a detector at a size: on the CPU at cpu size, on the meta device at paper size."""
    cfg = load_config(name, size)
    if size == "cpu":
        return build_model(cfg).eval()
    with torch.device("meta"):
        return build_model(cfg).eval()


@pytest.fixture(scope="module", params=CASES, ids=[f"{n}-{s}" for n, s in CASES])
def built(request):
    """(name, size, model), built once for the tests that share it and freed before the next one."""
    name, size = request.param
    model = build(name, size)
    yield name, size, model
    del model


def count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_every_detector_is_checked():
    assert set(META) == {"i3d", "i3d_r50", "resnet3d", "resnet3d_scratch", "resnet3d_se", "resnet3d_nl",
                         "resnext3d", "resnext3d_nl"}
    assert set(PAPER_FEATURES) == set(META)
    assert all(set(m.sizes) == {"paper", "cpu"} for m in DETECTORS)


def test_paper_names_and_counts_are_the_papers():
    from dfbench import reference

    rows = reference.load()
    names = {r.detector: r.paper_name for r in rows}
    table6 = {r.detector: int(r.value) for r in rows if r.table == "table6"}
    for meta in DETECTORS:
        assert meta.paper_name == names.get(meta.name, ""), meta.name  # i3d_r50 is not in the paper
        # resnet3d_scratch is Table 6's 3D ResNet, untrained.
        assert meta.paper_parameters == table6.get(meta.name.replace("_scratch", "")), meta.name
    assert META["i3d_r50"].paper_name == ""


def test_parameter_count_matches_meta(built):
    name, size, model = built
    assert count(model) == META[name].sizes[size].parameters


def test_forward_gives_one_logit_per_clip(built):
    name, size, model = built
    spec = META[name].sizes[size]
    device = "cpu" if size == "cpu" else "meta"
    x = torch.randn(1, 3, spec.clip_len, spec.crop_size, spec.crop_size, device=device)
    with torch.no_grad():
        features = model.backbone(x)
        logits = model.cls_head(features)
    assert logits.shape == (1, 1)
    if size == "paper":
        assert tuple(features.shape[1:]) == PAPER_FEATURES[name]
        return
    with torch.no_grad():
        via_recognizer = model(x[:, None], mode="tensor", stage="head")  # Recognizer3D: (N, views, C, T, H, W)
        trunk = model.cls_head(model.backbone(torch.randn(1, 3, 24, spec.crop_size, spec.crop_size)))  # a trunk
    assert via_recognizer.shape == trunk.shape == (1, 1)
    torch.testing.assert_close(logits, via_recognizer)


def test_paper_resnet3d_is_the_papers_3d_resnet_101():
    m = build("resnet3d", "paper")
    # DEPENDENCIES.md: ResNet3d-101 (3x3x3, 7x7x7 stem) = 85,245,120; the paper's Table 6 says
    # 85,249,216 with a 2048x2 bias-free last layer; ours is one neuron with a bias.
    assert count(m.backbone) == 85_245_120
    assert count(m.cls_head) == 2048 + 1
    assert m.backbone.conv1.conv.kernel_size == (7, 7, 7)
    assert m.backbone.conv1.conv.stride == (1, 2, 2)
    assert m.backbone.layer1[0].conv2.conv.kernel_size == (3, 3, 3)
    assert count(m) + (4096 - 2049) == META["resnet3d"].paper_parameters


def test_scratch_is_resnet3d_never_pretrained():
    scratch, resnet = load_config("resnet3d_scratch", "paper"), load_config("resnet3d", "paper")
    assert scratch.model == resnet.model and scratch.optim_wrapper == resnet.optim_wrapper
    assert META["resnet3d_scratch"].sizes == META["resnet3d"].sizes
    assert (META["resnet3d_scratch"].pretrainable, META["resnet3d_scratch"].checkpoint) == (False, None)
    assert all(m.pretrainable for m in DETECTORS if m.name != "resnet3d_scratch")


def test_3d_resnets_initialise_as_hara_et_al():
    # The Runner calls init_weights(): Hara et al.'s code sets every BatchNorm weight to 1, where
    # MMAction2's ResNet3d would zero each bottleneck's last one (which slowed cpu-size learning).
    from mmaction.models.backbones.resnet3d import Bottleneck3d

    for name in ("resnet3d", "resnet3d_se", "resnet3d_nl", "resnext3d", "resnext3d_nl"):
        model = build(name, "cpu")
        model.init_weights()
        blocks = [m for m in model.backbone.modules() if isinstance(m, Bottleneck3d)]
        assert len(blocks) == 4, name  # one bottleneck per stage at cpu size
        assert all(torch.equal(b.conv3.bn.weight, torch.ones_like(b.conv3.bn.weight)) for b in blocks), name
    assert load_config("resnet3d", "paper").model.backbone.zero_init_residual is False


def test_i3d_r50_keeps_mmactions_settings():
    # Our base config repeats MMAction2's configs/_base_/models/i3d_r50.py (MMEngine's "mmaction::"
    # base needs pkg_resources, which setuptools 81+ no longer ships); this keeps the two equal.
    import mmaction
    from mmengine.config import Config

    theirs = Config.fromfile(str(Path(mmaction.__file__).parent / ".mim/configs/_base_/models/i3d_r50.py"))
    ours = load_config("i3d_r50", "paper")
    offline = {"pretrained", "pretrained2d"}  # theirs inflates torchvision://resnet50, a download
    assert {k: v for k, v in ours.model.backbone.items() if k not in offline} == \
           {k: v for k, v in theirs.model.backbone.items() if k not in offline}
    assert (ours.model.backbone.pretrained, ours.model.backbone.pretrained2d) == (None, False)
    assert ours.model.data_preprocessor == theirs.model.data_preprocessor
    assert ours.model.cls_head.in_channels == theirs.model.cls_head.in_channels == 2048


def test_class_weighted_bce_is_a_weighted_mean():
    from dfbench_mmaction.runtime import ClassWeightedBCELoss

    logits, labels = torch.tensor([0.3, -1.0, 2.0]), torch.tensor([0.0, 1.0, 1.0])
    plain = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    weighted = ClassWeightedBCELoss(class_weight=(3.0, 1.0))(logits, labels)
    torch.testing.assert_close(weighted, (3 * plain[0] + plain[1] + plain[2]) / 5)
    torch.testing.assert_close(ClassWeightedBCELoss()(logits, labels), plain.mean())
    with pytest.raises(ValueError):
        ClassWeightedBCELoss(class_weight=(1.0,))


def test_prediction_is_a_probability():
    from mmaction.structures import ActionDataSample

    m = build("resnet3d", "cpu")
    inputs = [torch.randint(0, 256, (1, 3, 16, 112, 112), dtype=torch.uint8) for _ in range(2)]
    samples = [ActionDataSample().set_gt_label(i) for i in range(2)]
    with torch.no_grad():
        out = m.test_step(dict(inputs=inputs, data_samples=samples))
    for sample in out:
        assert sample.pred_score.shape == (1,)
        assert 0.0 <= float(sample.pred_score) <= 1.0


@pytest.mark.parametrize("name,size", CASES)
def test_configs_are_offline_and_match_the_sizes(name, size):
    cfg = load_config(name, size)
    assert cfg.model.backbone.get("pretrained") is None
    assert cfg.load_from is None
    assert cfg.optim_wrapper.optimizer.lr == 1e-3  # the paper's learning rate
    assert cfg.optim_wrapper.optimizer.type == ("SGD" if size == "paper" else "AdamW")
    assert cfg.default_hooks.checkpoint.save_best == "video/auc"
    spec = META[name].sizes[size]
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        assert (loader.dataset.clip_len, loader.dataset.crop_size) == (spec.clip_len, spec.crop_size)
