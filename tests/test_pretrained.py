"""--pretrained: Kinetics checkpoints in three formats mapped onto the MMAction2 detectors, loaded safely.

Checkpoints are made here: Hara-format files by renaming a cpu-size model's keys backwards (and, at
paper size, Hara's ResNet-101/ResNeXt-101 names and shapes on the meta device, no memory), an
MMAction2-format file, a .safetensors file, and a malicious pickle.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dfbench.detector import Checkpoint, DetectorMeta, SizeSpec
from dfbench.errors import DfbenchError
from dfbench.pretrained import resolve_pretrained

CKPT = Checkpoint(source="https://example.org/w-abcdef12.pth", sha256="a" * 64)


def meta(pretrainable=True, checkpoint=CKPT) -> DetectorMeta:
    return DetectorMeta(name="d", family="f", input_kind="clip", citation="c", pretrainable=pretrainable,
                        checkpoint=checkpoint if pretrainable else None,
                        sizes={"paper": SizeSpec(16, 112, 10), "cpu": SizeSpec(16, 64, 1)})


# --- what --pretrained resolves to (core, torch-free) ---------------------------------------------------


def test_auto_is_kinetics_at_paper_size_and_nothing_at_cpu_size():
    assert resolve_pretrained("auto", meta(), "paper") == CKPT
    assert resolve_pretrained("auto", meta(), "cpu") is None
    assert resolve_pretrained("none", meta(), "paper") is None
    assert resolve_pretrained("auto", meta(pretrainable=False), "paper") is None


def test_explicit_weights(tmp_path):
    path = tmp_path / "w.pth"
    path.write_bytes(b"x")
    assert resolve_pretrained(str(path), meta(), "cpu") == Checkpoint(source=str(path))
    assert resolve_pretrained("https://h/x.pth", meta(), "cpu") == Checkpoint(source="https://h/x.pth")
    with pytest.raises(DfbenchError, match=r"--pretrained .*nope\.pth: file not found"):
        resolve_pretrained(str(tmp_path / "nope.pth"), meta(), "paper")
    with pytest.raises(DfbenchError, match="detector d is trained from scratch by definition"):
        resolve_pretrained(str(path), meta(pretrainable=False), "paper")


def test_stand_in_is_the_cpu_sizes_shipped_weights():
    from dataclasses import replace

    shipped = Checkpoint(source="/weights/d_cpu.pth", sha256="b" * 64)
    assert resolve_pretrained("stand-in", replace(meta(), stand_in=shipped), "cpu") == shipped
    assert resolve_pretrained("auto", replace(meta(), stand_in=shipped), "cpu") is None  # opt-in, for now
    with pytest.raises(DfbenchError, match="detector d has no stand-in weights at size paper"):
        resolve_pretrained("stand-in", replace(meta(), stand_in=shipped), "paper")
    with pytest.raises(DfbenchError, match="detector d has no stand-in weights at size cpu"):
        resolve_pretrained("stand-in", meta(), "cpu")
    with pytest.raises(ValueError, match="trained from scratch"):
        replace(meta(pretrainable=False), stand_in=shipped)


torch = pytest.importorskip("torch")
pytest.importorskip("dfbench_mmaction")

from dfbench.checkpoints import CheckpointRefusedError, load_into, sha256_file, state_dict_of  # noqa: E402
from dfbench_mmaction import pretrained as P  # noqa: E402
from dfbench_mmaction.detector import build_model, load_config  # noqa: E402

NBT = "num_batches_tracked"


def model_of(name: str, size: str, seed: int = 0, device: str = "cpu"):
    torch.manual_seed(seed)
    with torch.device(device):
        model = build_model(load_config(name, size))
    if device == "cpu":
        model.init_weights()
    return model


def learnt(model) -> dict:
    return {k: v for k, v in model.state_dict().items() if not k.endswith(NBT)}


def to_hara(key: str) -> str:
    """MMAction2 ResNet3d name -> Hara et al.'s, written out by hand (the inverse of what is tested)."""
    parts = key.removeprefix("backbone.").split(".")
    if parts[:2] == ["conv1", "conv"]:
        return "conv1.weight"
    if parts[:2] == ["conv1", "bn"]:
        return "bn1." + parts[2]
    layer, block, module, kind = parts[:4]
    if module == "downsample":
        return ".".join([layer, block, "downsample", "0" if kind == "conv" else "1", *parts[4:]])
    if kind == "conv":
        return f"{layer}.{block}.{module}.weight"
    return f"{layer}.{block}.bn{module[-1]}.{parts[4]}"


def hara_file(source_model, path: Path, head=(400, 512)) -> Path:
    """A 3D-ResNets-PyTorch training checkpoint of ``source_model``'s backbone: DataParallel names, a
    400-way fc, no BatchNorm step counters (files from torch < 0.4.1 have none), optimizer state."""
    sd = {"module." + to_hara(k): v.clone() for k, v in source_model.backbone.state_dict(prefix="backbone.").items()
          if not k.endswith(NBT)}
    sd["module.fc.weight"], sd["module.fc.bias"] = torch.randn(*head), torch.randn(head[0])
    torch.save({"epoch": 200, "arch": "resnet-101", "state_dict": sd,
                "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]}}, path)
    return path


# --- Hara, MMAction2, safetensors at cpu size: real values through the real loader -------------------


def test_a_detector_the_paper_trains_from_scratch_loads_nothing_by_default():
    scratch_in_paper = DetectorMeta(name="d", family="f", input_kind="clip", citation="c", checkpoint=CKPT,
                                    pretrained_by_default=False,
                                    sizes={"paper": SizeSpec(16, 112, 10), "cpu": SizeSpec(16, 64, 1)})
    assert resolve_pretrained("auto", scratch_in_paper, "paper") is None
    assert resolve_pretrained(CKPT.source, scratch_in_paper, "paper") == Checkpoint(source=CKPT.source)


def test_resnet3d_se_is_from_scratch_at_paper_size_unless_asked(ffpp_tree, tmp_path):
    """§5: the 3D ResNet with SE is trained from scratch; Kinetics weights only as an explicit ablation."""
    def plan(*extra):
        proc = subprocess.run([sys.executable, "-m", "dfbench", "run", "--detector", "resnet3d_se", "--size", "paper",
                               "--protocol", "all", "--data", str(ffpp_tree), "--dry-run", "--json", *extra],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    default = plan()
    assert default["pretrained"] is None
    assert default["runs"][0]["settings"]["training"]["pretrained"] is None
    weights = tmp_path / "kinetics-ablation.pth"
    torch.save({"conv1.weight": torch.zeros(1)}, weights)
    ablation = plan("--pretrained", str(weights))
    assert ablation["pretrained"] == {"source": str(weights), "sha256": sha256_file(weights)}
    assert ablation["runs"][0]["settings"]["training"]["pretrained"] == {"sha256": sha256_file(weights),
                                                                        "default": False}
    assert ablation["runs"][0]["settings_id"] != default["runs"][0]["settings_id"]


def test_hara_checkpoint_loads_every_backbone_tensor(tmp_path):
    source = model_of("resnet3d", "cpu", seed=1)
    path = hara_file(source, tmp_path / "resnet-101-kinetics.pth")
    model = model_of("resnet3d", "cpu", seed=2)
    info = P.load_pretrained(model, str(path))
    load = info["load"]
    n = len(learnt(model))
    assert (info["format"], info["sha256"], info["source"]) == ("hara", sha256_file(path), str(path))
    assert (load["loaded"], load["total"], n) == (85, 87, 87)
    assert load["missing"] == ["cls_head.fc_cls.weight", "cls_head.fc_cls.bias"]
    assert load["dropped"] == ["fc.weight", "fc.bias"] and load["unexpected"] == [] and load["mismatched"] == []
    got, want = learnt(model), learnt(source)
    assert all(torch.equal(got[k], want[k]) for k in got if k.startswith("backbone.")), "values not copied"
    assert not torch.equal(got["cls_head.fc_cls.weight"], want["cls_head.fc_cls.weight"])
    assert info["summary"].splitlines() == [
        f"loaded 85/87 tensors ({load['loaded_values'] / 1e3:.1f}k of {load['total_values'] / 1e3:.1f}k values)",
        "  left as initialised (2): cls_head.fc_cls (2)",
        "  dropped from the checkpoint (2): fc (2)",
    ]
    print(info["summary"])


def test_resnet3d_se_loads_what_matches_and_lists_the_se_modules(tmp_path):
    path = hara_file(model_of("resnet3d", "cpu", seed=1), tmp_path / "resnet-101-kinetics.pth")
    model = model_of("resnet3d_se", "cpu", seed=2)
    info = P.load_pretrained(model, str(path))
    load = info["load"]
    se = [k for k in learnt(model) if ".se." in k]
    assert len(se) == 16  # 4 blocks x (fc1, fc2) x (weight, bias)
    assert load["loaded"] == 85 and load["total"] == 87 + 16
    assert sorted(load["missing"]) == sorted(se + ["cls_head.fc_cls.weight", "cls_head.fc_cls.bias"])
    assert "left as initialised (18): " in info["summary"] and "backbone.layer1.*.se" in info["summary"]
    print(info["summary"])


def test_mmaction2_checkpoint_loads_with_its_head_dropped(tmp_path):
    source = model_of("resnet3d", "cpu", seed=3)
    sd = dict(source.state_dict())
    sd["cls_head.fc_cls.weight"], sd["cls_head.fc_cls.bias"] = torch.zeros(400, 512), torch.zeros(400)
    path = tmp_path / "i3d_kinetics400-rgb_20220812-e213c223.pth"  # name only: a local path is not hash-checked
    torch.save({"meta": {"epoch": 100, "mmengine_version": "0.10.7"}, "state_dict": sd}, path)
    model = model_of("resnet3d", "cpu", seed=4)
    info = P.load_pretrained(model, str(path))
    assert info["format"] == "mmaction"
    assert (info["load"]["loaded"], info["load"]["total"]) == (85, 87)
    assert info["load"]["dropped"] == ["cls_head.fc_cls.weight", "cls_head.fc_cls.bias"]
    assert torch.equal(model.backbone.conv1.conv.weight, source.backbone.conv1.conv.weight)


def test_safetensors_backbone_loads(tmp_path):
    from safetensors.torch import save_file

    source = model_of("resnet3d", "cpu", seed=5)
    save_file({k: v.contiguous() for k, v in source.backbone.state_dict().items()}, str(tmp_path / "bb.safetensors"))
    model = model_of("resnet3d", "cpu", seed=6)
    info = P.load_pretrained(model, str(tmp_path / "bb.safetensors"))
    assert (info["format"], info["load"]["loaded"], info["load"]["missing"]) == (
        "bare_backbone", 85, ["cls_head.fc_cls.weight", "cls_head.fc_cls.bias"])
    assert torch.equal(model.backbone.layer4[0].conv3.bn.running_var, source.backbone.layer4[0].conv3.bn.running_var)


def test_another_architectures_checkpoint_is_refused(tmp_path):
    path = hara_file(model_of("resnet3d", "cpu"), tmp_path / "r.pth")
    with pytest.raises(DfbenchError, match=r"r\.pth: none of its 87 tensors fits this detector \(hara names"):
        P.load_pretrained(model_of("i3d", "cpu"), str(path))


def test_malicious_checkpoint_is_refused_before_anything_runs(malicious_checkpoint):
    path, marker = malicious_checkpoint
    model = model_of("resnet3d", "cpu")
    before = {k: v.clone() for k, v in learnt(model).items()}
    with pytest.raises(CheckpointRefusedError, match="refused: loading it would run code"):
        P.load_pretrained(model, str(path))
    assert not marker.exists()
    assert all(torch.equal(v, before[k]) for k, v in learnt(model).items())


# --- paper size: Hara's and the I3D port's real names and shapes, on the meta device --------------------


def hara_names(resnext: bool) -> dict[str, tuple[int, ...]]:
    """Names and shapes of Hara et al.'s resnet101 (models/resnet.py) or resnext101 32x4d (resnext.py),
    shortcut B, 16-frame model: what their Kinetics files hold (without "module.")."""
    sd = {"conv1.weight": (64, 3, 7, 7, 7)}

    def bn(prefix, c):
        sd.update({f"{prefix}.{p}": (c,) for p in ("weight", "bias", "running_mean", "running_var")})

    bn("bn1", 64)
    inplanes = 64
    planes_of = (128, 256, 512, 1024) if resnext else (64, 128, 256, 512)
    for stage, (blocks, planes) in enumerate(zip((3, 4, 23, 3), planes_of), 1):
        mid, out, groups = (32 * planes // 32, planes * 2, 32) if resnext else (planes, planes * 4, 1)
        for i in range(blocks):
            p = f"layer{stage}.{i}"
            sd[f"{p}.conv1.weight"] = (mid, inplanes, 1, 1, 1)
            bn(f"{p}.bn1", mid)
            sd[f"{p}.conv2.weight"] = (mid, mid // groups, 3, 3, 3)
            bn(f"{p}.bn2", mid)
            sd[f"{p}.conv3.weight"] = (out, mid, 1, 1, 1)
            bn(f"{p}.bn3", out)
            if i == 0:
                sd[f"{p}.downsample.0.weight"] = (out, inplanes, 1, 1, 1)
                bn(f"{p}.downsample.1", out)
            inplanes = out
    sd["fc.weight"], sd["fc.bias"] = (400, inplanes), (400,)
    return sd


def meta_checkpoint(shapes: dict) -> dict:
    sd = {f"module.{k}": torch.empty(s, device="meta") for k, s in shapes.items()}
    return state_dict_of({"epoch": 200, "arch": "x", "state_dict": sd})


META_COPY = pytest.mark.filterwarnings("ignore:.*meta parameter")  # BatchNorm's default counters on meta


@META_COPY
@pytest.mark.parametrize("detector, resnext, extra", [
    ("resnet3d", False, ()), ("resnet3d_nl", False, (".non_local_block.",)), ("resnet3d_se", False, (".se.",)),
    ("resnext3d", True, ()), ("resnext3d_nl", True, (".non_local_block.",)),
])
def test_paper_size_hara_weights_fill_every_backbone_tensor(detector, resnext, extra):
    model = model_of(detector, "paper", device="meta")
    sd = meta_checkpoint(hara_names(resnext))
    assert P.checkpoint_format(sd) == "hara"
    report = load_into(model, sd, P.KEY_MAPS["hara"])
    added = sorted(k for k in learnt(model) if any(e in k for e in extra))
    assert report.mismatched == [] and report.unexpected == [] and report.dropped == ["fc.weight", "fc.bias"]
    assert sorted(report.missing) == sorted(added + ["cls_head.fc_cls.weight", "cls_head.fc_cls.bias"])
    assert len(report.loaded) == len(sd) - 2 == report.total - len(added) - 2
    print(f"{detector}: {report.summary()}")


@META_COPY
def test_paper_size_i3d_port_weights_fill_the_backbone():
    model = model_of("i3d", "paper", device="meta")
    backbone = {k.removeprefix("backbone."): tuple(v.shape) for k, v in learnt(model).items()
                if k.startswith("backbone.")}
    shapes = {**backbone, "logits.conv3d.weight": (400, 1024, 1, 1, 1), "logits.conv3d.bias": (400,)}
    sd = meta_checkpoint(shapes)
    assert P.checkpoint_format(sd) == "i3d_port"
    report = load_into(model, sd, P.KEY_MAPS["i3d_port"])
    assert report.dropped == ["logits.conv3d.weight", "logits.conv3d.bias"] and not report.unexpected
    assert report.missing == ["cls_head.fc_cls.weight", "cls_head.fc_cls.bias"]
    assert len(report.loaded) == len(backbone) == report.total - 2


@META_COPY
def test_paper_size_i3d_r50_takes_mmaction2s_own_zoo_model():
    """The zoo file for i3d_r50 is MMAction2's i3d_imagenet-pretrained-r50 Kinetics-400 recognizer: built
    here from the config mmaction2 ships, its state dict is what that checkpoint holds."""
    import mmaction
    from mmengine.config import Config

    zoo = (Path(mmaction.__file__).parent / ".mim" / "configs" / "recognition" / "i3d"
           / "i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py")
    with torch.device("meta"):
        theirs = build_model(Config.fromfile(str(zoo)))
    sd = {k: v for k, v in theirs.state_dict().items()}
    assert tuple(sd["cls_head.fc_cls.weight"].shape) == (400, 2048)
    assert P.checkpoint_format(sd) == "mmaction"
    ours = model_of("i3d_r50", "paper", device="meta")
    report = load_into(ours, sd, P.KEY_MAPS["mmaction"])
    assert report.dropped == ["cls_head.fc_cls.weight", "cls_head.fc_cls.bias"]
    assert not report.unexpected and not report.mismatched
    assert report.missing == ["cls_head.fc_cls.weight", "cls_head.fc_cls.bias"]
    assert P.DEFAULTS["i3d_r50"].source.endswith(zoo.stem + "_20220812-e213c223.pth")


def test_every_default_checkpoint_is_documented():
    from dfbench_mmaction.plugin import DETECTORS

    by_name = {m.name: m for m in DETECTORS}
    for name, ckpt in P.DEFAULTS.items():
        assert name in by_name, f"{name}: a default checkpoint for an unknown detector"
        assert by_name[name].checkpoint == ckpt and by_name[name].pretrainable
    assert [m.name for m in DETECTORS if m.checkpoint is None] == [m.name for m in DETECTORS if not m.pretrainable]
    doc = (Path(__file__).resolve().parents[1] / "docs" / "pretrained-weights.md").read_text()
    for ckpt in P.DEFAULTS.values():
        assert ckpt.source.split("#")[-1].rsplit("/", 1)[-1] in doc


# --- end to end: dfbench run --pretrained ... -----------------------------------------------------------


def dfbench(*args, env=None):
    return subprocess.run([sys.executable, "-m", "dfbench", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_dry_run_shows_the_weights_and_scratch_refuses_them(tiny_synth, tmp_path):
    proc = dfbench("run", "-d", "resnet3d", "-p", "all", "--data", str(tiny_synth), "--size", "paper",
                   "--precision", "bf16", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["pretrained"] == {"source": P.HARA_RESNET101.source, "sha256": None} and plan["precision"] == "bf16"
    cpu = json.loads(dfbench("run", "-d", "resnet3d", "-p", "all", "--data", str(tiny_synth), "--dry-run",
                             "--json").stdout)
    assert cpu["size"] == "cpu" and cpu["pretrained"] is None  # auto: no Kinetics weights at cpu size
    weights = tmp_path / "w.pth"
    torch.save({"w": torch.zeros(1)}, weights)
    refused = dfbench("run", "-d", "resnet3d_scratch", "-p", "all", "--data", str(tiny_synth), "--pretrained",
                      str(weights), "--dry-run")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (f"error: detector resnet3d_scratch is trained from scratch by definition: drop "
                                      f"--pretrained {weights} (or pick a pretrainable detector)")


def test_dry_run_plans_the_stand_in_by_its_pinned_hash(tiny_synth):
    from dfbench_mmaction.plugin import DETECTORS

    shipped = next(m.stand_in for m in DETECTORS if m.name == "resnet3d")
    plan = json.loads(dfbench("run", "-d", "resnet3d", "-p", "all", "--data", str(tiny_synth), "--pretrained",
                              "stand-in", "--dry-run", "--json").stdout)
    assert plan["pretrained"] == {"source": shipped.source, "sha256": shipped.sha256} and plan["size"] == "cpu"
    refused = dfbench("run", "-d", "resnet3d_scratch", "-p", "all", "--data", str(tiny_synth), "--pretrained",
                      "stand-in", "--dry-run")
    assert refused.returncode == 2 and refused.stderr.strip() == (
        "error: detector resnet3d_scratch has no stand-in weights at size cpu: --pretrained stand-in is for the cpu "
        "size of a pretrainable built-in detector (`dfbench detectors`)")


def test_offline_url_stops_the_run_before_any_preprocessing(tiny_synth, tmp_path):
    env = {**os.environ, "DFBENCH_CACHE": str(tmp_path / "cache"), "TORCH_HOME": str(tmp_path / "torch")}
    url = "http://127.0.0.1:9/x-abcdef12.pth"
    proc = dfbench("run", "-d", "resnet3d", "-p", "all", "--data", str(tiny_synth), "--pretrained", url,
                   "--output", str(tmp_path / "results"), env=env)
    assert proc.returncode == 2
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {url}: download failed") and f"put x-abcdef12.pth in {hub}" in last
    assert not (tmp_path / "cache" / "crops").exists() and not (tmp_path / "results").exists()



@pytest.mark.slow
def test_run_with_pretrained_file_records_what_was_loaded(tiny_synth, tmp_path):
    weights = hara_file(model_of("resnet3d", "cpu", seed=1), tmp_path / "resnet-101-kinetics.pth")
    env = {**os.environ, "DFBENCH_CACHE": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "dfbench", "run", "--detector", "resnet3d", "--protocol", "all", "--data",
           str(tiny_synth), "--output", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"),
           "--epochs", "1", "--pretrained", str(weights), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [summary] = json.loads(proc.stdout)
    rec = json.loads(Path(summary["path"]).read_text())
    assert rec["checkpoint"] == {"source": str(weights), "sha256": sha256_file(weights)}
    loaded = rec["fit"]["pretrained"]
    assert (loaded["source"], loaded["sha256"]) == (str(weights), sha256_file(weights))
    assert loaded["details"]["load"]["loaded"] == 85 and loaded["details"]["format"] == "hara"
    assert rec["precision"] == "fp32" and rec["size"] == "cpu"
    assert f"pretrained hara weights from {weights} (sha256 {sha256_file(weights)[:12]}): loaded 85/87 tensors" \
        in proc.stderr
    assert "  left as initialised (2): cls_head.fc_cls (2)" in proc.stderr

    # the same command again skips the finished run; other weights would answer another question
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0 and json.loads(again.stdout)[0]["skipped"]
    other = subprocess.run([*cmd[:-2], "none", "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert other.returncode == 0, other.stderr[-3000:]
    [trained] = json.loads(other.stdout)
    assert not trained["skipped"] and trained["path"] != summary["path"]  # another question, another record
    assert json.loads(Path(trained["path"]).read_text())["checkpoint"] is None
    assert json.loads(Path(summary["path"]).read_text()) == rec  # the first record is untouched


# --- the cpu size's stand-in: formula-driven pretraining, shipped and pinned ---------------------------


def test_records_name_weights_shipped_in_a_package_by_package_not_by_machine_path(tmp_path, monkeypatch):
    from dfbench.provenance import portable_source
    from dfbench_mmaction.plugin import DETECTORS

    shipped = next(m.stand_in for m in DETECTORS if m.name == "resnet3d")
    assert portable_source(shipped.source) == "package:dfbench_mmaction/weights/stand_in/resnet3d_cpu.pth"
    pkg = tmp_path / "site" / "top" / "sub"
    (pkg / "w").mkdir(parents=True)
    for folder in (pkg.parent, pkg):
        (folder / "__init__.py").write_text("")
    (pkg / "w" / "x.pth").write_bytes(b"0")
    (tmp_path / "loose.pth").write_bytes(b"0")
    monkeypatch.chdir(tmp_path)
    assert portable_source(str(pkg / "w" / "x.pth")) == "package:top/sub/w/x.pth"  # the top package, not sub
    assert portable_source(str(tmp_path / "loose.pth")) == "loose.pth"  # no package: portable_path's answer
    assert portable_source("https://example.org/a/b.pth") == "https://example.org/a/b.pth"


def test_formula_clips_are_seeded_and_move_as_their_dynamic_says():
    import cv2
    import numpy as np

    from dfbench_mmaction import formula as F

    x, y = F.batch(np.random.default_rng(3), 4, 16, 64)
    x2, y2 = F.batch(np.random.default_rng(3), 4, 16, 64)
    assert x.shape == (4, 16, 64, 64, 3) and x.dtype == np.uint8 and (x == x2).all() and (y == y2).all()
    moves = {}
    for k, name in enumerate(F.DYNAMICS):
        c = F.clip(np.random.default_rng(0), k, 16, 64).astype(np.float32).mean(-1)
        moves[name] = cv2.phaseCorrelate(c[7], c[8])[0]
    assert moves["left"][0] < -0.5 < 0.5 < moves["right"][0]
    assert moves["up"][1] < -0.5 < 0.5 < moves["down"][1]
    assert all(abs(v) < 0.3 for n in ("zoom-in", "zoom-out", "rotate-ccw", "rotate-cw") for v in moves[n])
    same_texture = [F.clip(np.random.default_rng(0), k, 16, 64) for k in range(len(F.DYNAMICS))]
    assert all((same_texture[0][0] == c[0]).mean() < 1 for c in same_texture[4:])  # zoom/rotation change frame 0
    assert len({c[-1].tobytes() for c in same_texture}) == len(F.DYNAMICS)


def test_formula_pretraining_returns_a_backbone_checkpoint_the_loader_takes(tmp_path):
    from dfbench_mmaction import formula as F

    summary = F.write("resnet3d", tmp_path / "resnet3d_cpu.pth", steps=2)
    assert summary["sha256"] == sha256_file(tmp_path / "resnet3d_cpu.pth") and summary["steps"] == 2
    assert 0 <= summary["held_out_accuracy"] <= 1 and summary["detector"] == "resnet3d"
    # the shipped recipe's start: each bottleneck's last BatchNorm weight zeroed (F.ZERO_INIT_RESIDUAL),
    # though the detector's own config now starts it at 1; two steps of AdamW at 1e-3 move it by < 0.01
    state = torch.load(tmp_path / "resnet3d_cpu.pth", weights_only=True)["state_dict"]
    assert float(state["backbone.layer1.0.conv3.bn.weight"].abs().max()) < 0.01
    assert float(state["backbone.layer1.0.conv2.bn.weight"].min()) > 0.9
    model = model_of("resnet3d", "cpu", seed=5)
    info = P.load_pretrained(model, str(tmp_path / "resnet3d_cpu.pth"))
    backbone = [k for k in model.state_dict() if k.startswith("backbone.") and not k.endswith(NBT)]
    assert info["format"] == "mmaction" and info["load"]["loaded"] == len(backbone)


def test_shipped_stand_ins_are_pinned_and_fill_every_backbone_tensor():
    from dfbench_mmaction.plugin import DETECTORS

    shipped = {m.name: m.stand_in for m in DETECTORS if m.stand_in is not None}
    assert set(shipped) == {m.name for m in DETECTORS if m.pretrainable and "cpu" in m.sizes}
    assert "resnet3d" in shipped and "resnet3d_scratch" not in shipped  # the pair now differs at cpu size
    for name, ckpt in shipped.items():
        assert sha256_file(ckpt.source) == ckpt.sha256, name
        model = model_of(name, "cpu")
        before = {k: v.clone() for k, v in learnt(model).items()}  # loading copies into these tensors
        info = P.load_pretrained(model, ckpt.source, ckpt.sha256)
        backbone = [k for k in model.state_dict() if k.startswith("backbone.") and not k.endswith(NBT)]
        assert info["load"]["loaded"] == len(backbone), name
        after = learnt(model)
        changed = [k for k in backbone if not torch.equal(before[k], after[k])]
        assert len(changed) > len(backbone) // 2, name  # weights, not the initialisation
