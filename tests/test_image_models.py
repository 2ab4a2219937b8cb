"""The image baselines' networks: output shapes, parameter counts against metadata and papers, layers."""

import pytest

pytest.importorskip("dfbench_image")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from dfbench_image import networks as N  # noqa: E402
from dfbench_image import residuals as R  # noqa: E402
from dfbench_image.configs import BUILDERS, load_config  # noqa: E402
from dfbench_image.detector import build_model  # noqa: E402
from dfbench_image.frames import training_frames, trunk_frames, video_scores  # noqa: E402
from dfbench_image.model import grid_positions, weighted_bce  # noqa: E402
from dfbench_image.plugin import DETECTORS  # noqa: E402

META = {m.name: m for m in DETECTORS}

CNNS = sorted(BUILDERS)
# Bayar and Stamm at the paper size has 168 M parameters (two 4096-unit layers on a 24x24x64 map):
# built once here, never trained in a test.
CASES = [(name, size) for name in CNNS for size in ("cpu", "paper")]


@pytest.mark.parametrize("name,size", CASES)
def test_network_output_shape_and_parameters_match_metadata(name, size):
    torch.manual_seed(0)
    model = build_model(load_config(name, size)).eval()
    spec = META[name].sizes[size]
    assert N.parameter_count(model.network) == spec.parameters
    x = torch.randint(0, 256, (2, 3, spec.crop_size, spec.crop_size), dtype=torch.uint8)
    with torch.no_grad():
        batch = model.data_preprocessor(dict(inputs=x, data_samples=None))["inputs"]
        probs = model.probabilities(batch)  # the test path: every view through the network
    assert probs.shape == (2,) and ((probs > 0) & (probs < 1)).all()


def test_mesonet_counts_are_the_papers():
    # Afchar et al. 2018: "27,977 trainable parameters" (Meso-4), "28,615" (MesoInception-4), on 256x256.
    assert N.parameter_count(N.Meso4(256)) == 27_977
    assert N.parameter_count(N.MesoInception4(256)) == 28_615
    assert META["mesonet"].paper_parameters == 27_977 and META["mesoinception"].paper_parameters == 28_615


def test_xception_is_cholletts_with_one_output():
    # Chollet 2017, Table 3: Xception has 22,855,952 parameters with its 1000-way ImageNet classifier;
    # the single-logit head leaves 2048 x 1000 + 1000 - (2048 + 1) fewer.
    import timm

    imagenet = timm.create_model("legacy_xception", pretrained=False, num_classes=1000)
    assert N.parameter_count(imagenet) == 22_855_952
    assert N.parameter_count(N.LegacyXception(1.0)) == 22_855_952 - 2048 * 1000 - 1000 + 2048 + 1


def test_narrow_xception_keeps_the_topology_and_timm_names():
    full, narrow = N.LegacyXception(1.0), N.LegacyXception(0.25)
    convs = lambda m: [n for n, x in m.named_modules() if isinstance(x, torch.nn.Conv2d)]  # noqa: E731
    assert convs(narrow) == convs(full)  # same layers under the same names, only narrower
    assert narrow.block4.rep[1].pointwise.out_channels == 182 and full.block4.rep[1].pointwise.out_channels == 728


def test_constrained_convolution_holds_its_constraint():
    conv = N.ConstrainedConv2d(1, 3, 5)
    torch.nn.init.normal_(conv.weight)
    out = conv(torch.rand(1, 1, 16, 16))
    w = conv.weight.detach()
    assert out.shape == (1, 3, 12, 12)
    assert torch.all(w[:, :, 2, 2] == -1)
    assert torch.allclose(w.sum(dim=(2, 3)), torch.zeros(1, 3), atol=1e-5)  # neighbours sum to 1, centre -1
    # A constant image is fully predicted: the residual is zero.
    assert conv(torch.full((1, 1, 9, 9), 0.7)).abs().max() < 1e-5


def test_rahmouni_statistics():
    x = torch.tensor([[[[1.0, 2.0], [3.0, 6.0]]]])
    assert N.Rahmouni.statistics(x).tolist() == [[3.0, 6.0, 1.0, 3.5]]


def test_soft_quantiser_tends_to_the_hard_one():
    r = torch.tensor([-3.2, -1.6, -0.4, 0.2, 0.7, 1.4, 2.6]).view(1, 1, 1, -1)
    hard = R.one_hot(R.quantize(r, 1.0, 2), 2)
    soft = R.soft_one_hot(r, 2, slope=200.0)
    assert torch.allclose(soft, hard, atol=1e-6)
    assert torch.allclose(R.soft_one_hot(r, 2, slope=2.0).sum(1), torch.ones(1, 1, 7))  # a distribution


def test_matlab_round_rounds_half_away_from_zero():
    assert R.matlab_round(torch.tensor([-2.5, -0.5, 0.5, 1.5, 2.4])).tolist() == [-3.0, -1.0, 1.0, 2.0, 2.0]


def test_cooccurrence_counts_quadruples():
    # One row 0 1 2 0 1: quadruples (0,1,2,0) and (1,2,0,1) with T=1 levels {-1, 0, 1} -> indices 0..2.
    q = torch.tensor([[[[-1, 0, 1, -1, 0]]]], dtype=torch.float64)
    hist = R.cooccurrence(R.one_hot(q, 1), "h", normalize=False)
    bins = {int(i): float(hist[0, i]) for i in torch.nonzero(hist[0]).flatten()}
    assert bins == {((0 * 3 + 1) * 3 + 2) * 3 + 0: 1.0, ((1 * 3 + 2) * 3 + 0) * 3 + 1: 1.0}
    assert R.cooccurrence(R.one_hot(q.transpose(2, 3), 1), "v", normalize=False).equal(hist)


def test_symmetry_classes():
    classes = R.symmetry_classes(2)
    assert classes.shape == (625,) and int(classes.max()) + 1 == 169
    index = lambda t: sum((v + 2) * 5 ** (3 - i) for i, v in enumerate(t))  # noqa: E731
    assert classes[index((1, -2, 0, 2))] == classes[index((2, 0, -2, 1))] == classes[index((-1, 2, 0, -2))]
    assert classes[index((1, 1, 1, 1))] != classes[index((1, 1, 1, 0))]


def test_grid_positions_cover_the_crop():
    assert grid_positions(256, 100) == [0, 78, 156]
    assert grid_positions(64, 64) == [0]


def test_weighted_bce_weighs_by_class():
    logits, labels = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([1.0, 0.0, 0.0])
    losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    assert weighted_bce(logits, labels, None) == pytest.approx(losses.mean().item())
    expect = (4 * losses[0] + losses[1] + losses[2]) / 6
    assert weighted_bce(logits, labels, (1.0, 4.0)) == pytest.approx(expect.item())


def test_training_frames_evenly_spaced_and_seeded():
    a = training_frames(300, 10, seed=0, key="original/000")
    assert len(a) == 10 and np.all(np.diff(a) >= 29) and np.all(np.diff(a) <= 31) and a.max() < 300
    assert np.array_equal(a, training_frames(300, 10, seed=0, key="original/000"))  # deterministic
    assert not np.array_equal(a, training_frames(300, 10, seed=1, key="original/000"))  # the seed moves them
    assert np.array_equal(training_frames(12, 270, seed=0, key="x"), np.arange(12))  # short video: all frames
    assert np.array_equal(training_frames(12, None, seed=0, key="x"), np.arange(12))


def test_trunk_frames_follow_the_core_trunks():
    full = trunk_frames(600, 250)  # trunks (0, 250), (250, 600): the short tail merges
    assert [(t[0], t[-1], len(t)) for t in full] == [(0, 249, 250), (250, 599, 350)]
    sub = trunk_frames(600, 250, per_trunk=5)
    assert [t.tolist() for t in sub] == [[25, 75, 125, 175, 225], [285, 355, 425, 495, 565]]


def test_video_score_is_the_mean_of_trunk_means():
    records = [(0, 0, 0.2, 1), (0, 0, 0.4, 1), (0, 1, 0.9, 1), (1, 0, 0.1, 0)]
    assert video_scores(records) == {0: (pytest.approx(0.6), 1), 1: (pytest.approx(0.1), 0)}


def test_metadata_names_the_papers_rows():
    import csv
    from importlib import resources

    rows = csv.DictReader(resources.files("dfbench").joinpath("data/seed_paper/results.csv").open())
    paper = {r["detector"]: r["paper_name"] for r in rows}
    ours = {m.name: m.paper_name for m in DETECTORS}
    for name in ("steg_svm", "cozzolino", "bayar_stamm", "rahmouni", "mesonet", "xception"):
        assert ours[name] == paper[name]
    # The paper does not say which MesoNet it quotes; the other variant claims no paper row.
    assert ours["mesoinception"] == "" and "mesoinception" not in paper
    assert all(m.input_kind == "frame" and all(s.clip_len == 1 for s in m.sizes.values()) for m in DETECTORS)
    assert [m.name for m in DETECTORS if m.pretrainable] == ["xception"]
