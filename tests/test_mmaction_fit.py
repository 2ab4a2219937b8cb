"""End to end at cpu size: fit (checkpoint chosen on val), score, determinism, resume."""

import json
from pathlib import Path

import pytest

pytest.importorskip("dfbench_mmaction")

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from dfbench.detector import FitConfig, FitReport, VideoRef  # noqa: E402
from dfbench.errors import DfbenchError  # noqa: E402
from dfbench_mmaction.plugin import DETECTORS, build  # noqa: E402

META = {m.name: m for m in DETECTORS}


def _build(name: str, size: str):
    return build(META[name], size)

TRUNK = 16  # 24-frame videos -> trunks (0, 16) and (16, 24): scores average over two trunks


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, list[VideoRef]]:
    """8 tiny face-crop videos: random noise, the fakes with a bright square (an obvious signal)."""
    root = tmp_path_factory.mktemp("crops")
    rng = np.random.default_rng(0)
    refs = []
    for i in range(8):
        label = i % 2
        crops = rng.integers(0, 256, (24, 112, 112, 3), dtype=np.uint8)
        if label:
            crops[:, 30:80, 30:80] = 255
        path = root / f"{i}.npy"
        np.save(path, crops)
        method = "Deepfakes" if label else "original"
        refs.append(VideoRef(key=f"{method}/{i:03d}", label=label, method=method, crops=path, num_frames=24))
    return {"train": refs[:4], "val": refs[4:6], "test": refs[6:]}


def fit_config(work_dir: Path, epochs=1, progress=None, **options) -> FitConfig:
    return FitConfig(work_dir=work_dir, seed=7, size="cpu", clip_len=16, crop_size=64,
                     class_weights=(1.5, 1.0), trunk_len=TRUNK, epochs=epochs, log_level="WARNING",
                     options=dict(batch_size=4, **options), **({"progress": progress} if progress else {}))


def fit_and_score(videos, work_dir: Path):
    detector = _build("resnet3d", "cpu")
    steps = []
    config = fit_config(work_dir, progress=steps.append)
    report = detector.fit(videos["train"], videos["val"], config)
    assert [s.line() for s in steps] == [f"epoch 1/1: val auc {report.best_val_auc:.3f}, "
                                         f"val acc {report.history[0]['acc']:.3f}"]  # one line an epoch
    return report, detector.score(videos["test"], config, report), detector.score(videos["val"], config, report)


@pytest.fixture(scope="module")
def first(videos, tmp_path_factory):
    return fit_and_score(videos, tmp_path_factory.mktemp("run1"))


@pytest.fixture(scope="module")
def second(videos, tmp_path_factory):
    return fit_and_score(videos, tmp_path_factory.mktemp("run2"))


def test_fit_report(first):
    report, _, _ = first
    json.dumps(report.to_dict())  # JSON-able, as the record stores it
    assert (report.epochs, report.best_epoch, report.selected_on) == (1, 1, "val")
    best = report.best_checkpoint
    assert best.name == "best_video_auc_epoch_1.pth" and best.is_file()
    assert not (best.parent / "dfbench_fit.json").exists()  # the report travels through the engine, no side file
    assert report.train_seconds > 0 and report.pretrained is None
    assert [h["epoch"] for h in report.history] == [1]
    assert report.parameters == META["resnet3d"].sizes["cpu"].parameters


def test_scores_are_probabilities(first, videos):
    _, test_scores, val_scores = first
    assert len(test_scores) == len(videos["test"]) and len(val_scores) == len(videos["val"])
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in test_scores + val_scores)


def test_best_checkpoint_is_the_one_validated(first, videos):
    # The AUC the Runner chose on is the AUC of the reloaded best checkpoint on val.
    report, _, val_scores = first
    auc = roc_auc_score([v.label for v in videos["val"]], val_scores)
    assert report.best_val_auc == pytest.approx(auc)
    assert report.history[0]["auc"] == pytest.approx(auc)


def test_same_seed_same_result(first, second):
    (r1, test1, val1), (r2, test2, val2) = first, second
    assert r1.best_val_auc == r2.best_val_auc
    assert test1 == pytest.approx(test2, abs=1e-6) and val1 == pytest.approx(val2, abs=1e-6)


def test_resume_continues_from_the_runs_own_checkpoint(second, videos):
    report, _, _ = second
    work_dir = report.best_checkpoint.parent
    detector = _build("resnet3d", "cpu")
    resumed = detector.fit(videos["train"], videos["val"], fit_config(work_dir, epochs=2, resume=True))
    assert resumed.epochs == 2
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    assert resumed.best_val_auc >= report.best_val_auc


def test_fit_refuses_a_single_class_val(videos, tmp_path):
    detector = _build("resnet3d", "cpu")
    with pytest.raises(DfbenchError, match="validation"):
        detector.fit(videos["train"], [v for v in videos["val"] if v.label == 1], fit_config(tmp_path))


def test_score_without_the_reported_checkpoint_says_so(videos, tmp_path):
    with pytest.raises(DfbenchError, match="best checkpoint of the fit report .* is missing; run fit"):
        _build("resnet3d", "cpu").score(videos["test"], fit_config(tmp_path),
                                        FitReport(best_checkpoint=tmp_path / "gone.pth"))


def test_options_are_checked_and_applied(tmp_path):
    detector = _build("resnet3d", "cpu")
    cfg = detector.config(fit_config(tmp_path, lr=1e-4, weight_decay=0.0, num_workers=1))
    assert (cfg.optim_wrapper.optimizer.lr, cfg.optim_wrapper.optimizer.weight_decay) == (1e-4, 0.0)
    assert cfg.train_dataloader.batch_size == 4 and cfg.train_dataloader.num_workers == 1
    assert cfg.default_hooks.checkpoint.backend_args == dict(backend="dfbench_atomic")  # atomic saves, always
    with pytest.raises(DfbenchError, match="no option 'momentum'"):
        detector.config(fit_config(tmp_path, momentum=0.9))


def test_clips_per_video_draws_that_many_clips_of_each_training_video(videos, tmp_path):
    from dfbench_mmaction.data import write_annotations
    from dfbench_mmaction.datasets import FaceCropDataset

    cfg = _build("resnext3d_nl", "cpu").config(fit_config(tmp_path, clips_per_video=3))
    assert cfg.train_dataloader.dataset.clips_per_video == 3
    assert "clips_per_video" not in cfg.val_dataloader.dataset  # scoring reads every trunk whatever it is
    ann = write_annotations(videos["train"], tmp_path / "train.json")
    items = FaceCropDataset(str(ann), clips_per_video=3, clip_len=16, crop_size=64, pipeline=[])
    assert [items[i]["video_key"] for i in range(len(items))] == [v.key for v in videos["train"] for _ in range(3)]
    with pytest.raises(ValueError, match="at least 1"):
        FaceCropDataset(str(ann), clips_per_video=0)
    image = pytest.importorskip("dfbench_image.plugin")
    xception = next(m for m in image.DETECTORS if m.name == "xception")
    with pytest.raises(DfbenchError, match="no option 'clips_per_video'"):  # frame detectors sample frames
        image.build(xception, "cpu").config(fit_config(tmp_path, clips_per_video=3))


def test_core_decisions_override_the_config(tmp_path):
    cfg = _build("resnext3d_nl", "cpu").config(FitConfig(
        work_dir=tmp_path, seed=3, size="cpu", clip_len=8, crop_size=64, class_weights=(4.0, 1.0),
        trunk_len=100, epochs=5, options=dict(num_workers=2)))
    assert cfg.randomness.seed == 3 and cfg.train_cfg.max_epochs == 5
    assert cfg.model.cls_head.loss_cls.class_weight == [4.0, 1.0]
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        assert (loader.dataset.clip_len, loader.dataset.crop_size, loader.dataset.trunk_len) == (8, 64, 100)
        assert loader.num_workers == 2
    assert cfg.work_dir == str(tmp_path.resolve())
    with pytest.raises(DfbenchError, match="size"):
        _build("resnext3d_nl", "paper").config(FitConfig(
            work_dir=tmp_path, seed=0, size="cpu", clip_len=16, crop_size=112, class_weights=None,
            trunk_len=250))
