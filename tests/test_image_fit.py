"""Every image baseline fits (1 epoch, cpu size) and scores through the real path; checkpoints and weights."""

import json
from pathlib import Path

import pytest

pytest.importorskip("dfbench_image")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from dfbench.detector import UNKNOWN_LABEL, FitConfig, FitReport, VideoRef  # noqa: E402
from dfbench.errors import DfbenchError  # noqa: E402
from dfbench_image.plugin import DETECTORS, build  # noqa: E402

META = {m.name: m for m in DETECTORS}


def _build(name: str, size: str):
    return build(META[name], size)

FRAMES, TRUNK, PER_VIDEO = 12, 8, 3  # 12-frame videos -> trunks (0, 8) and (8, 12); 3 training frames each


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, list[VideoRef]]:
    """10 tiny face-crop videos: noise, the fakes with a bright square (an obvious signal)."""
    root = tmp_path_factory.mktemp("crops")
    rng = np.random.default_rng(0)
    refs = []
    for i in range(10):
        label = i % 2
        crops = rng.integers(0, 256, (FRAMES, 64, 64, 3), dtype=np.uint8)
        if label:
            crops[:, 16:48, 16:48] = 250
        path = root / f"{i}.npy"
        np.save(path, crops)
        method = "Deepfakes" if label else "original"
        refs.append(VideoRef(key=f"{method}/{i:03d}", label=label, method=method, crops=path, num_frames=FRAMES))
    return {"train": refs[:4], "val": refs[4:8], "test": refs[8:]}


def fit_config(work_dir: Path, size="cpu", crop_size=64, **kw) -> FitConfig:
    return FitConfig(work_dir=work_dir, seed=7, size=size, clip_len=1, crop_size=crop_size, class_weights=(1.5, 1.0),
                     trunk_len=TRUNK, epochs=1, frames_per_video=PER_VIDEO,
                     options=dict(batch_size=4), **kw)


def blind(refs):
    from dataclasses import replace

    return [replace(v, label=UNKNOWN_LABEL) for v in refs]


@pytest.mark.parametrize("name", [m.name for m in DETECTORS])
def test_fit_one_epoch_and_score(name, videos, tmp_path):
    detector = _build(name, "cpu")
    config = fit_config(tmp_path)
    report = detector.fit(videos["train"], videos["val"], config)
    json.dumps(report.to_dict())  # JSON-able, as the record stores it
    assert report.selected_on == "val" and Path(report.best_checkpoint).is_file()
    assert report.details["train_frames"] == len(videos["train"]) * PER_VIDEO
    assert report.parameters == META[name].sizes["cpu"].parameters
    assert not (tmp_path / "dfbench_fit.json").exists()  # the report travels through the engine
    scores = detector.score(blind(videos["test"]), config, report)
    assert len(scores) == 2 and all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)
    # The score is a function of the frames, not of the label the detector never sees.
    assert detector.score(videos["test"], config, report) == pytest.approx(scores)


@pytest.fixture(scope="module")
def mesonet_runs(videos, tmp_path_factory):
    out = []
    for run in range(2):
        work = tmp_path_factory.mktemp(f"meso{run}")
        detector = _build("mesonet", "cpu")
        config = fit_config(work)
        report = detector.fit(videos["train"], videos["val"], config)
        out.append((report, detector.score(videos["val"], config, report), detector.score(videos["test"], config,
                                                                                           report)))
    return out


def test_best_checkpoint_is_chosen_on_val(mesonet_runs, videos):
    report, val_scores, _ = mesonet_runs[0]
    assert (report.epochs, report.best_epoch) == (1, 1)
    assert Path(report.best_checkpoint).name == "best_video_auc_epoch_1.pth"
    # The AUC the Runner chose on is the AUC of the reloaded best checkpoint's video scores on val.
    auc = roc_auc_score([v.label for v in videos["val"]], val_scores)
    assert report.best_val_auc == pytest.approx(auc) and report.history[0]["auc"] == pytest.approx(auc)


def test_same_seed_same_result(mesonet_runs):
    (r1, val1, test1), (r2, val2, test2) = mesonet_runs
    assert r1.best_val_auc == r2.best_val_auc
    assert test1 == pytest.approx(test2, abs=1e-6) and val1 == pytest.approx(val2, abs=1e-6)


def test_steg_svm_chooses_c_on_val(videos, tmp_path):
    detector = _build("steg_svm", "cpu")
    lines = []
    config = fit_config(tmp_path, progress=lambda p: lines.append(p.line()))
    report = detector.fit(videos["train"], videos["val"], config)
    # the feature extraction says how far it is, before the grid search's lines
    training = [int(x.split()[-1].split("/")[0]) for x in lines if x.startswith("training video's features")]
    assert training == sorted(set(training)) and training[-1] == 4 and lines[0].startswith("training")
    assert lines.index("training video's features 4/4") < lines.index("validation video's features 4/4")
    assert lines[-1].startswith("C candidate 4/4: val auc")
    assert [h["C"] for h in report.history] == [0.01, 0.1, 1.0, 10.0]
    assert report.best_val_auc == max(h["auc"] for h in report.history)
    val_scores = detector.score(videos["val"], config, report)
    assert roc_auc_score([v.label for v in videos["val"]], val_scores) == pytest.approx(report.best_val_auc)
    assert report.details["features"] == 1690 and report.parameters == META["steg_svm"].sizes["cpu"].parameters


def test_score_without_the_reported_model_says_so(videos, tmp_path):
    for name in ("mesonet", "steg_svm"):
        with pytest.raises(DfbenchError, match="missing; run fit"):
            _build(name, "cpu").score(videos["test"], fit_config(tmp_path), FitReport(best_checkpoint=tmp_path / "x"))


def test_fit_refuses_a_single_class_val(videos, tmp_path):
    with pytest.raises(DfbenchError, match="validation"):
        _build("mesonet", "cpu").fit(videos["train"], [v for v in videos["val"] if v.label], fit_config(tmp_path))


def test_core_decisions_override_the_config(tmp_path):
    cfg = _build("rahmouni", "paper").config(FitConfig(
        work_dir=tmp_path, seed=3, size="paper", clip_len=1, crop_size=256, class_weights=(4.0, 1.0),
        trunk_len=100, epochs=5, frames_per_video=270, options=dict(num_workers=2, frames_per_trunk=10)))
    assert cfg.randomness.seed == 3 and cfg.train_cfg.max_epochs == 5
    assert cfg.model.class_weight == [4.0, 1.0] and cfg.model.input_size == 100 and cfg.model.test_view == "grid"
    assert (cfg.train_dataloader.dataset.frames_per_video, cfg.train_dataloader.dataset.seed) == (270, 3)
    assert (cfg.val_dataloader.dataset.trunk_len, cfg.val_dataloader.dataset.frames_per_trunk) == (100, 10)
    assert cfg.train_dataloader.num_workers == 2 and cfg.work_dir == str(tmp_path.resolve())
    with pytest.raises(DfbenchError, match="size"):
        _build("rahmouni", "paper").config(FitConfig(work_dir=tmp_path, seed=0, size="cpu", clip_len=1, crop_size=64,
                                                     class_weights=None, trunk_len=250))


# --- pretrained ImageNet weights (xception) --------------------------------------------------------


@pytest.fixture(scope="module")
def imagenet_file(tmp_path_factory) -> tuple[Path, dict]:
    """A timm-format legacy_xception ImageNet checkpoint with random weights (no download)."""
    import timm

    torch.manual_seed(1)
    state = timm.create_model("legacy_xception", pretrained=False, num_classes=1000).state_dict()
    path = tmp_path_factory.mktemp("weights") / "xception-test.pth"
    torch.save(state, path)
    return path, state


def _pretrained_model(tmp_path, source):
    """The paper-size xception as fit() starts it: built, initialised, then the base's PretrainedWeightsHook."""
    from types import SimpleNamespace

    from mmengine.logging import MessageHub

    from dfbench_mmaction.runtime import PRETRAINED_KEY, PretrainedWeightsHook

    detector = _build("xception", "paper")
    cfg = detector.config(fit_config(tmp_path, size="paper", crop_size=299, pretrained=str(source)))
    model = detector.build_model(cfg)
    model.init_weights()
    [hook] = [h for h in cfg.custom_hooks if h["type"] == "PretrainedWeightsHook"]
    hub = MessageHub.get_instance(f"pretrained-{tmp_path.name}")
    runner = SimpleNamespace(iter=0, model=model, rank=1, message_hub=hub)
    PretrainedWeightsHook(**{k: v for k, v in hook.items() if k != "type"}).before_train(runner)
    model.pretrained_report = hub.get_info(PRETRAINED_KEY)
    return cfg, model


def test_xception_loads_timm_imagenet_weights_without_the_head(imagenet_file, tmp_path):
    path, state = imagenet_file
    cfg, model = _pretrained_model(tmp_path, path)
    net = model.network.state_dict()
    assert torch.equal(net["conv1.weight"], state["conv1.weight"])
    assert torch.equal(net["block12.rep.1.pointwise.weight"], state["block12.rep.1.pointwise.weight"])
    assert net["fc.weight"].shape == (1, 2048)  # the new single-logit head, left as initialised
    report = model.pretrained_report
    assert report["dropped"] == ["fc.weight", "fc.bias"] and report["missing"] == ["fc.weight", "fc.bias"]
    assert report["source"] == str(path) and len(report["sha256"]) == 64
    # FF++'s head-only warm-up: 3 epochs of (3 + 15) at the paper size; none in a 1-epoch run.
    assert cfg.train_cfg.max_epochs == 1 and not any(h["type"] == "HeadWarmupHook" for h in cfg.custom_hooks)
    full = _build("xception", "paper").config(FitConfig(
        work_dir=tmp_path, seed=0, size="paper", clip_len=1, crop_size=299, class_weights=None, trunk_len=250,
        pretrained=str(path)))
    assert full.train_cfg.max_epochs == 18 and dict(type="HeadWarmupHook", epochs=3) in full.custom_hooks
    assert full.model_wrapper_cfg.find_unused_parameters  # frozen layers get no gradient under DDP


def test_xception_loads_cadene_format_as_ffpp_does(imagenet_file, tmp_path):
    # FF++ loads Cadene's file: classifier "last_linear", pointwise convolutions stored as 2-D matrices.
    path, state = imagenet_file
    cadene = {}
    for k, v in state.items():
        k = k.replace("fc.", "last_linear.") if k.startswith("fc.") else k
        cadene[k] = v[..., 0, 0] if "pointwise" in k else v
    cadene_path = tmp_path / "xception-cadene.pth"
    torch.save(cadene, cadene_path)
    _, model = _pretrained_model(tmp_path, cadene_path)
    key = "block4.rep.1.pointwise.weight"
    assert torch.equal(model.network.state_dict()[key], state[key])


def test_head_warmup_trains_only_the_head(tmp_path):
    from types import SimpleNamespace

    from dfbench_image.hooks import HeadWarmupHook
    from dfbench_image.networks import LegacyXception

    model = SimpleNamespace(network=LegacyXception(0.25))
    hook = HeadWarmupHook(epochs=2)
    hook.before_train_epoch(SimpleNamespace(model=model, epoch=1))
    trainable = {n for n, p in model.network.named_parameters() if p.requires_grad}
    assert trainable == {"fc.weight", "fc.bias"}
    hook.before_train_epoch(SimpleNamespace(model=model, epoch=2))
    assert all(p.requires_grad for p in model.network.parameters())


def test_other_weights_are_refused(imagenet_file, tmp_path):
    path, _ = imagenet_file
    with pytest.raises(DfbenchError, match="width-reduced"):
        _build("xception", "cpu").config(fit_config(tmp_path, pretrained=str(path)))
    with pytest.raises(DfbenchError, match="from scratch"):
        _build("mesonet", "cpu").config(fit_config(tmp_path, pretrained=str(path)))
    wrong = tmp_path / "resnet.pth"
    torch.save({"layer1.0.conv1.weight": torch.zeros(64, 64, 3, 3)}, wrong)
    with pytest.raises(DfbenchError, match="not ImageNet weights"):
        _pretrained_model(tmp_path, wrong)


class _Evil:
    """Unpickling this would create ``marker``; a safe loader must refuse before that."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_malicious_pretrained_file_is_refused_without_running(tmp_path):
    from dfbench.checkpoints import CheckpointRefusedError

    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    torch.save({"conv1.weight": _Evil(marker)}, evil)
    with pytest.raises(CheckpointRefusedError, match="refused"):
        _pretrained_model(tmp_path, evil)
    assert not marker.exists()
