"""`dfbench profile`: FLOPs against hand computations, parameter counts against metadata, the CLI's output."""

import json
import math

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from dfbench import plugins  # noqa: E402
from dfbench import profile as P  # noqa: E402
from dfbench.detector import FitReport, Profilable  # noqa: E402

TINY_SHAPE = (3, 4, 8, 8)  # (C, T, H, W)


def tiny_network() -> nn.Module:
    """Conv3d(3 -> 4, 3x3x3, padding 1), global average pool, Linear(4 -> 1): one logit per clip."""
    return nn.Sequential(nn.Conv3d(3, 4, 3, padding=1), nn.AdaptiveAvgPool3d(1), nn.Flatten(),
                         nn.Linear(4, 1), nn.Flatten(0))


def tiny_flops_by_formula() -> int:
    c_in, t, h, w = TINY_SHAPE
    c_out, k = 4, 3
    conv = 2 * (c_out * t * h * w) * (c_in * k**3)  # one multiply-add per output element and kernel tap
    linear = 2 * 4 * 1
    return conv + linear  # 165,888 + 8; pooling and biases are not counted


class TinyProfilableDetector:
    """The test plugin's detector with a tiny torch inference network (no training)."""

    input_shape = TINY_SHAPE

    def fit(self, train, val, config):
        return FitReport()

    def score(self, videos, config, fit):
        return [0.5] * len(videos)

    def inference_network(self):
        return tiny_network()


def test_flops_of_a_tiny_conv_net_equal_the_formula():
    assert tiny_flops_by_formula() == 165_896
    assert P.count_flops(tiny_network(), TINY_SHAPE) == tiny_flops_by_formula()
    assert P.count_parameters(tiny_network()) == 3 * 4 * 27 + 4 + 4 + 1


def test_cli_json_on_the_test_plugin(cli, test_plugin, tmp_path):
    test_plugin.detector_cls = TinyProfilableDetector
    out_file = tmp_path / "profile" / "tiny.json"
    code, out, err = cli("profile", "--detector", "test_brightness", "--size", "cpu", "--batch", "3",
                             "--repeats", "2", "--warmup", "1", "--json", "--out", str(out_file))
    assert code == 0, err
    record = json.loads(out)
    assert set(record) == {"machine", "rows", "skipped", "flop_convention", "dfbench_version", "git_revision",
                           "created", "kind", "schema"}
    assert record["kind"] == "dfbench-profile" and record["schema"] == 1 and record["skipped"] == []
    assert set(record["machine"]) == {"device", "device_name", "threads", "torch", "python", "platform"}
    assert record["machine"]["device"] == "cpu" and record["machine"]["torch"] == torch.__version__
    (row,) = record["rows"]
    assert set(row) == {"detector", "plugin", "size", "input_kind", "input_shape", "parameters", "meta_parameters",
                        "flops", "batch", "precision", "device", "memory_format", "warmup", "repeats",
                        "seconds_per_batch", "inputs_per_s", "seconds"}
    assert (row["detector"], row["size"], row["input_kind"], row["input_shape"]) == (
        "test_brightness", "cpu", "clip", [3, 4, 8, 8])
    assert row["flops"] == tiny_flops_by_formula()
    assert row["parameters"] == 333 and row["meta_parameters"] == 1
    assert (row["batch"], row["repeats"], row["warmup"], row["precision"]) == (3, 2, 1, "fp32")
    assert len(row["seconds"]) == 2 and row["seconds_per_batch"] == pytest.approx(sorted(row["seconds"])[0] / 2
                                                                                   + sorted(row["seconds"])[1] / 2)
    assert math.isclose(row["inputs_per_s"], 3 / row["seconds_per_batch"])
    assert row["memory_format"] == "contiguous"
    # the metadata says 1 parameter: the mismatch is reported, not hidden
    assert "warning: test_brightness: the network has 333 parameters, its metadata says 1" in err
    # --out wrote the same record, atomically, readable as typed rows
    assert json.loads(out_file.read_text()) == record
    (loaded,) = P.load_all(out_file.parent)
    assert loaded.rows[0].flops == tiny_flops_by_formula() and loaded.machine.device == "cpu"


def test_cli_table_names_the_machine_and_settings(cli, test_plugin):
    test_plugin.detector_cls = TinyProfilableDetector
    code, out, err = cli("profile", "-d", "test_brightness", "--size", "cpu", "--batch", "2",
                             "--repeats", "1", "--warmup", "0", "--precision", "bf16")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("device cpu (") and f"torch {torch.__version__}" in lines[0]
    assert "bf16, batch 2, median of 1 after 0 warm-up; FLOPs = 2 x multiply-adds" in lines[0]
    (row,) = [line for line in lines if line.startswith("| test_brightness")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:5] == ["test_brightness", "cpu", "clip 3x4x8x8", "333", "0.000"]
    assert cells[5].endswith(" clips/s")


def test_unknown_detector_is_one_line_error(cli, test_plugin):
    code, out, err = cli("profile", "--detector", "no_such_detector")
    assert code == 2 and out == ""
    assert err.startswith("error: unknown detector 'no_such_detector'") and err.count("\n") == 1


def test_detector_that_is_not_profilable_is_one_line_error(cli, test_plugin):
    code, out, err = cli("profile", "--detector", "test_brightness", "--size", "cpu")
    assert code == 2 and out == ""
    assert err == ("error: detector 'test_brightness' (dfbench-test-plugin) cannot be profiled: its detector "
                   "object lacks `input_shape` and `inference_network()` (dfbench.detector.Profilable); see "
                   "docs/profile.md\n")


def test_bad_settings_are_one_line_errors(cli, test_plugin):
    test_plugin.detector_cls = TinyProfilableDetector
    code, _, err = cli("profile", "-d", "test_brightness", "--repeats", "0")
    assert code == 2 and err.startswith("error: --batch 8, --repeats 0, --warmup 2:") and err.count("\n") == 1
    if not torch.cuda.is_available():
        code, _, err = cli("profile", "-d", "test_brightness", "--device", "cuda")
        assert code == 2 and err.startswith("error: --device cuda: torch") and err.count("\n") == 1


def test_default_selection_skips_what_cannot_be_profiled(test_plugin):
    chosen, skipped = P.select(None, "cpu")
    assert {"detector": "test_brightness", "reason": "not Profilable"} in skipped
    names = [spec.meta.name for spec, _ in chosen]
    assert "test_brightness" not in names
    assert all(isinstance(det, Profilable) for _, det in chosen)
    if "dfbench_mmaction" in {spec.plugin.replace("-", "_") for spec in plugins.detectors().values()}:
        assert "resnet3d" in names


# --- a real MMAction2 detector, through the CLI ---------------------------------------------------


def flops_by_formula(network: nn.Module, shape) -> int:
    """FLOPs of one input, summed over Conv3d and Linear layers from their shapes (forward hooks)."""
    total = []

    def conv(m, inputs, out):
        total.append(2 * out.numel() * (m.in_channels // m.groups) * math.prod(m.kernel_size))

    def linear(m, inputs, out):
        total.append(2 * out.numel() * m.in_features)

    handles = [m.register_forward_hook(conv) for m in network.modules() if isinstance(m, nn.Conv3d)]
    handles += [m.register_forward_hook(linear) for m in network.modules() if isinstance(m, nn.Linear)]
    with torch.inference_mode():
        network(torch.randn(1, *shape))
    for h in handles:
        h.remove()
    return sum(total)


def test_cli_on_cpu_size_resnet3d(cli):
    pytest.importorskip("dfbench_mmaction")
    spec = plugins.get_detector("resnet3d")
    code, out, err = cli("profile", "-d", "resnet3d", "--size", "cpu", "--batch", "2", "--repeats", "1",
                             "--warmup", "0", "--json")
    assert code == 0, err
    (row,) = json.loads(out)["rows"]
    assert row["parameters"] == row["meta_parameters"] == spec.meta.sizes["cpu"].parameters
    size = spec.meta.sizes["cpu"]
    assert row["input_shape"] == [3, size.clip_len, size.crop_size, size.crop_size]
    assert row["memory_format"] == "channels_last_3d"  # the config's ChannelsLast3dHook, as in score()
    network = spec.create("cpu").inference_network()
    assert row["flops"] == flops_by_formula(network, row["input_shape"])
    assert row["flops"] == 203_817_984  # a change here changes the leaderboard's Cost table
    assert row["inputs_per_s"] > 0
    assert "init_weights" not in err and "Initialized by" not in err  # MMEngine's per-parameter init log is off


def test_core_modules_import_without_torch():
    """The profile records and the Cost table are plain data: reading them must not import torch."""
    import subprocess
    import sys

    code = ("import sys, dfbench.profile, dfbench.cost_table, dfbench.leaderboard, dfbench.cli; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
