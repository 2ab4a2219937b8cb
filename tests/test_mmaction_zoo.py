"""The detector zoo: each architecture is what the paper describes, and each trains and scores.

* Architecture checks at paper size (built on the ``meta`` device: modules and shapes, no weights
  in memory): SE in every bottleneck, the non-local blocks' count and place, ResNeXt's groups,
  I3D's module names and shapes (those of the authors' PyTorch port, so its checkpoints load).
* Every detector at cpu size fits one epoch and scores through the real ``MMActionDetector``
  path on six tiny videos (marked slow: about 80 s for all eight).
"""

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("dfbench_mmaction")

import torch  # noqa: E402

from dfbench.detector import FitConfig, VideoRef  # noqa: E402
from dfbench_mmaction.detector import build_model, load_config  # noqa: E402
from dfbench_mmaction.plugin import DETECTORS  # noqa: E402
from dfbench_mmaction.plugin import build as build_detector

META = {m.name: m for m in DETECTORS}


def build(name: str, size: str):
    """A detector's recognizer: on the meta device at paper size, on the CPU at cpu size."""
    cfg = load_config(name, size)
    if size == "cpu":
        return build_model(cfg).eval()
    with torch.device("meta"):
        return build_model(cfg).eval()


def count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def blocks(backbone) -> list:
    return [block for i in range(1, 5) for block in getattr(backbone, f"layer{i}")]


# --- squeeze-and-excitation ---------------------------------------------------------------------


def test_se_sits_in_every_bottleneck_with_reduction_16():
    from mmaction.models.backbones.x3d import SEModule

    m = build("resnet3d_se", "paper")
    every = blocks(m.backbone)
    assert len(every) == 3 + 4 + 23 + 3
    assert sum(isinstance(x, SEModule) for x in m.backbone.modules()) == len(every)
    for block in every:
        channels = block.conv3.conv.out_channels  # the block's output width, 256 ... 2048
        assert isinstance(block.se, SEModule)
        assert (block.se.fc1.in_channels, block.se.fc1.out_channels) == (channels, channels // 16)
        assert (block.se.fc2.in_channels, block.se.fc2.out_channels) == (channels // 16, channels)
    # The SE weights are what separates the count from resnet3d's (DEPENDENCIES.md: 90,022,832).
    se = sum(count(block.se) for block in every)
    assert count(m.backbone) - se == 85_245_120 and count(m.backbone) == 90_022_832


def test_se_reduction_8_would_be_the_other_measured_count():
    from dfbench_mmaction.se import SEResNet3d

    cfg = load_config("resnet3d_se", "paper").model.backbone.copy()
    cfg.pop("type")
    cfg["se_reduction"] = 8
    with torch.device("meta"):
        assert count(SEResNet3d(**cfg)) == 94_768_032  # DEPENDENCIES.md; Table 6 says 94,303,808 in all


def test_se_rescales_the_residual_branch_before_the_sum():
    # Hu et al.'s SE-ResNet: out = relu(identity + se(residual)). With the excitation forced to 0
    # every block's output is relu(identity), so an identity block passes its input through.
    m = build("resnet3d_se", "cpu")
    block = m.backbone.layer1[0]
    x = torch.rand(1, block.conv1.conv.in_channels, 2, 8, 8)
    identity = block.downsample(x)
    with torch.no_grad():
        block.se.fc2.weight.zero_()
        block.se.fc2.bias.fill_(-1e4)  # sigmoid -> 0
        torch.testing.assert_close(block(x), torch.relu(identity))
    calls = []
    hooks = [b.se.register_forward_hook(lambda *a: calls.append(1)) for b in blocks(m.backbone)]
    with torch.no_grad():
        m.backbone(torch.randn(1, 3, 16, 64, 64))
    for h in hooks:
        h.remove()
    assert len(calls) == 4  # one SE per bottleneck of the cpu size's four


# --- non-local ----------------------------------------------------------------------------------


def non_local_blocks(backbone) -> list[str]:
    from mmcv.cnn import NonLocal3d

    return [name for name, mod in backbone.named_modules() if isinstance(mod, NonLocal3d)]


@pytest.mark.parametrize("name", ["resnet3d_nl", "resnext3d_nl"])
def test_one_embedded_gaussian_non_local_block_after_the_last_stage(name):
    m = build(name, "paper")
    # The paper's Table 1: one non-local block after Res_4 (2x7x7 there), before the average pool.
    assert non_local_blocks(m.backbone) == ["layer4.2.non_local_block"]
    nl = m.backbone.layer4[2].non_local_block
    assert (nl.mode, nl.in_channels, nl.inter_channels, nl.use_scale) == ("embedded_gaussian", 2048, 1024, False)
    # g, theta, phi: 1x1x1 convs with bias; the output conv has no bias under its BatchNorm: the
    # paper's arithmetic (Table 6, with a bias there) is 2,048 more.
    assert count(nl) == 3 * (2048 * 1024 + 1024) + 1024 * 2048 + 2 * 2048 == 8_395_776
    assert non_local_blocks(build(name, "cpu").backbone) == ["layer4.0.non_local_block"]


def test_resnet3d_nl_is_resnet3d_plus_the_non_local_block():
    m = build("resnet3d_nl", "paper")
    assert count(m.backbone) - count(m.backbone.layer4[2].non_local_block) == 85_245_120
    # Table 6's 93,647,040 = ours + the output conv's bias (2,048) + a 2048x2 bias-free last layer
    # in place of our one neuron with a bias.
    assert count(m) + 2048 + (4096 - 2049) == META["resnet3d_nl"].paper_parameters


@pytest.mark.parametrize("name", ["i3d", "i3d_r50", "resnet3d", "resnet3d_scratch", "resnet3d_se", "resnext3d"])
def test_no_non_local_elsewhere(name):
    assert non_local_blocks(build(name, "paper").backbone) == []


# --- ResNeXt ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["resnext3d", "resnext3d_nl"])
def test_paper_resnext3d_is_resnext_101_32x4d(name):
    m = build(name, "paper")
    layers = [m.backbone.layer1, m.backbone.layer2, m.backbone.layer3, m.backbone.layer4]
    assert [len(layer) for layer in layers] == [3, 4, 23, 3]
    for layer, width in zip(layers, (128, 256, 512, 1024), strict=True):
        for block in layer:
            conv2 = block.conv2.conv
            assert conv2.groups == 32
            assert conv2.in_channels == conv2.out_channels == width
            assert conv2.kernel_size == (3, 3, 3)
    # Hara et al. report 47.5 M parameters for 3D ResNeXt-101.
    assert count(m.backbone) - sum(count(m.backbone.get_submodule(n)) for n in non_local_blocks(m.backbone)) \
        == 47_521_216
    cpu = build(name, "cpu")
    assert {block.conv2.conv.groups for block in blocks(cpu.backbone)} == {8}


# --- I3D ----------------------------------------------------------------------------------------

# Every convolution of the authors' PyTorch port of I3D (piergiaj/pytorch-i3d, pytorch_i3d.py),
# transcribed from its InceptionI3d constructor: module, in channels, out channels, cubic kernel.
# Each is a Unit3D: ``<module>.conv3d.weight`` (no bias) and a BatchNorm ``<module>.bn.*``.
PORT_UNITS = """
Conv3d_1a_7x7 3 64 7
Conv3d_2b_1x1 64 64 1
Conv3d_2c_3x3 64 192 3
Mixed_3b.b0 192 64 1
Mixed_3b.b1a 192 96 1
Mixed_3b.b1b 96 128 3
Mixed_3b.b2a 192 16 1
Mixed_3b.b2b 16 32 3
Mixed_3b.b3b 192 32 1
Mixed_3c.b0 256 128 1
Mixed_3c.b1a 256 128 1
Mixed_3c.b1b 128 192 3
Mixed_3c.b2a 256 32 1
Mixed_3c.b2b 32 96 3
Mixed_3c.b3b 256 64 1
Mixed_4b.b0 480 192 1
Mixed_4b.b1a 480 96 1
Mixed_4b.b1b 96 208 3
Mixed_4b.b2a 480 16 1
Mixed_4b.b2b 16 48 3
Mixed_4b.b3b 480 64 1
Mixed_4c.b0 512 160 1
Mixed_4c.b1a 512 112 1
Mixed_4c.b1b 112 224 3
Mixed_4c.b2a 512 24 1
Mixed_4c.b2b 24 64 3
Mixed_4c.b3b 512 64 1
Mixed_4d.b0 512 128 1
Mixed_4d.b1a 512 128 1
Mixed_4d.b1b 128 256 3
Mixed_4d.b2a 512 24 1
Mixed_4d.b2b 24 64 3
Mixed_4d.b3b 512 64 1
Mixed_4e.b0 512 112 1
Mixed_4e.b1a 512 144 1
Mixed_4e.b1b 144 288 3
Mixed_4e.b2a 512 32 1
Mixed_4e.b2b 32 64 3
Mixed_4e.b3b 512 64 1
Mixed_4f.b0 528 256 1
Mixed_4f.b1a 528 160 1
Mixed_4f.b1b 160 320 3
Mixed_4f.b2a 528 32 1
Mixed_4f.b2b 32 128 3
Mixed_4f.b3b 528 128 1
Mixed_5b.b0 832 256 1
Mixed_5b.b1a 832 160 1
Mixed_5b.b1b 160 320 3
Mixed_5b.b2a 832 32 1
Mixed_5b.b2b 32 128 3
Mixed_5b.b3b 832 128 1
Mixed_5c.b0 832 384 1
Mixed_5c.b1a 832 192 1
Mixed_5c.b1b 192 384 3
Mixed_5c.b2a 832 48 1
Mixed_5c.b2b 48 128 3
Mixed_5c.b3b 832 128 1
"""


def port_keys() -> dict[str, tuple[int, ...]]:
    """The port's state-dict keys and shapes, less its classifier ``logits.conv3d`` and the
    ``num_batches_tracked`` counters (absent from checkpoints saved before PyTorch 0.4.1)."""
    keys = {}
    for line in PORT_UNITS.strip().splitlines():
        module, cin, cout, k = line.split()
        keys[f"{module}.conv3d.weight"] = (int(cout), int(cin), int(k), int(k), int(k))
        for stat in ("weight", "bias", "running_mean", "running_var"):
            keys[f"{module}.bn.{stat}"] = (int(cout),)
    return keys


def test_i3d_has_the_ports_module_names_and_shapes():
    m = build("i3d", "paper")
    ours = {k: tuple(v.shape) for k, v in m.backbone.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert len(PORT_UNITS.strip().splitlines()) == 57
    assert ours == port_keys()
    assert {k for k in m.backbone.state_dict() if k.endswith("num_batches_tracked")} == \
           {k.replace("running_mean", "num_batches_tracked") for k in port_keys() if k.endswith("running_mean")}


def test_a_port_checkpoint_loads_with_the_backbone_prefix():
    # A state dict shaped like rgb_imagenet.pt (random values: nothing is downloaded in tests).
    from dfbench_mmaction.inception_i3d import CLASSIFIER_KEYS

    g = torch.Generator().manual_seed(0)
    port = {k: torch.rand(shape, generator=g) for k, shape in port_keys().items()}
    port.update({"logits.conv3d.weight": torch.rand(400, 1024, 1, 1, 1), "logits.conv3d.bias": torch.rand(400)})
    model = build_model(load_config("i3d", "paper"))
    state = {f"backbone.{k}": v for k, v in port.items() if k not in CLASSIFIER_KEYS}
    result = model.load_state_dict(state, strict=False)
    # Only our one-neuron head is left to train (BatchNorm fills in a missing num_batches_tracked).
    assert result.unexpected_keys == []
    assert set(result.missing_keys) == {"cls_head.fc_cls.weight", "cls_head.fc_cls.bias"}
    torch.testing.assert_close(model.backbone.Mixed_4d.b1b.conv3d.weight, port["Mixed_4d.b1b.conv3d.weight"])
    torch.testing.assert_close(model.backbone.Conv3d_1a_7x7.bn.running_var, port["Conv3d_1a_7x7.bn.running_var"])


def test_i3d_cpu_size_is_the_same_network_narrower():
    paper, cpu = build("i3d", "paper"), build("i3d", "cpu")
    assert list(cpu.backbone.state_dict()) == list(paper.backbone.state_dict())  # same layers, same names
    assert cpu.backbone.Mixed_5c.out_channels == 256 and paper.backbone.Mixed_5c.out_channels == 1024
    assert cpu.backbone.Conv3d_1a_7x7.conv3d.weight.shape == (16, 3, 7, 7, 7)


def test_i3d_batchnorm_is_the_ports():
    bn = build("i3d", "paper").backbone.Conv3d_1a_7x7.bn
    assert (bn.eps, bn.momentum) == (1e-3, 0.01)


def test_same_padding_is_tensorflows():
    from dfbench_mmaction.inception_i3d import same_padding

    assert same_padding(224, 7, 2) == (2, 3) and same_padding(64, 7, 2) == (2, 3)  # the stem
    assert same_padding(112, 3, 2) == (0, 1) and same_padding(7, 3, 2) == (1, 1)
    assert same_padding(14, 2, 2) == (0, 0) and same_padding(9, 3, 1) == (1, 1)
    for size in range(1, 40):
        for kernel in (1, 2, 3, 7):
            for stride in (1, 2):
                before, after = same_padding(size, kernel, stride)
                assert 0 <= after - before <= 1
                assert (size + before + after - kernel) // stride + 1 == math.ceil(size / stride)  # "SAME"


def test_i3d_strided_layers_pad_as_tensorflow():
    from dfbench_mmaction.inception_i3d import MaxPool3dSame, Unit3d

    x = torch.randn(1, 2, 5, 6, 7)
    unit = Unit3d(2, 3, (3, 3, 3), (2, 2, 2)).eval()
    manual = torch.nn.functional.pad(x, (1, 1, 0, 1, 1, 1))  # W 7: (1, 1); H 6: (0, 1); T 5: (1, 1)
    with torch.no_grad():
        torch.testing.assert_close(unit(x), torch.relu(unit.bn(torch.nn.functional.conv3d(manual, unit.conv3d.weight,
                                                                                            stride=2))))
    pool = MaxPool3dSame((1, 3, 3), (1, 2, 2))
    assert pool(-torch.ones(1, 1, 2, 6, 6)).eq(-1).all()  # padding never wins a max, even below zero
    assert pool(x).shape == (1, 2, 5, 3, 4)


# --- the listing --------------------------------------------------------------------------------


def run_detectors(capsys, *argv) -> str:
    from dfbench.cli import main

    try:
        main(["detectors", *argv])
    except SystemExit as e:
        assert e.code in (0, None)
    return capsys.readouterr().out


def test_detectors_lists_the_zoo_beside_the_papers_counts(capsys):
    rows = {r["name"]: r for r in json.loads(run_detectors(capsys, "--json"))["detectors"]}
    assert set(META) <= set(rows)
    assert (rows["resnet3d_se"]["paper_parameters"], rows["resnet3d_se"]["pretrainable"]) == (94_303_808, True)
    assert (rows["resnet3d_scratch"]["paper_name"], rows["resnet3d_scratch"]["pretrainable"]) == \
           ("3D ResNet (w/o pre-training)", False)
    assert rows["i3d"]["sizes"]["paper"] == {"clip_len": 64, "crop_size": 224, "parameters": 12_288_289}
    assert rows["i3d"]["paper_parameters"] is None
    lines = {line.split()[0]: line for line in run_detectors(capsys).splitlines()}
    assert "paper 90,024,881 params (paper's count 94,303,808) (16x112²)" in lines["resnet3d_se"]
    assert "paper's count" not in lines["i3d"]


# --- every detector trains and scores -----------------------------------------------------------


@pytest.fixture(scope="module")
def videos(make_crop_videos) -> dict[str, list[VideoRef]]:
    """Six 16-frame 64x64 face-crop videos (one trunk each): noise, the fakes with a bright square."""
    refs = make_crop_videos(6, frames=16, size=64)
    return {"train": refs[:2], "val": refs[2:4], "test": refs[4:]}


# Slow: one epoch is one step, but each fit pays MMEngine's Runner set-up (environment report,
# config dumps), two checkpoint writes and the first-step kernel warm-up: 6-16 s a detector on 2
# loaded cores, about 80 s for all eight.
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(META))
def test_fits_one_epoch_and_scores_at_cpu_size(name, videos, tmp_path):
    spec = META[name].sizes["cpu"]
    config = FitConfig(work_dir=tmp_path, seed=0, size="cpu", clip_len=spec.clip_len, crop_size=spec.crop_size,
                       class_weights=None, trunk_len=16, epochs=1, options=dict(batch_size=2))
    detector = build_detector(META[name], "cpu")
    report = detector.fit(videos["train"], videos["val"], config)
    assert (detector.name, report.epochs, report.best_epoch) == (name, 1, 1)
    assert report.parameters == spec.parameters  # the network trained is the detector's own
    assert Path(report.best_checkpoint).is_file()
    scores = detector.score(videos["test"], config, report)
    assert len(scores) == 2 and all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)
