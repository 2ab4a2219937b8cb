"""--precision: bf16 training and scoring on the CPU through MMEngine; fp16 refused without a GPU."""

from pathlib import Path

import pytest

pytest.importorskip("dfbench_mmaction")

import torch  # noqa: E402

from dfbench.detector import FitConfig, VideoRef  # noqa: E402
from dfbench.errors import DfbenchError  # noqa: E402
from dfbench_mmaction.plugin import DETECTORS, build  # noqa: E402
from dfbench_mmaction.runtime import CpuAmpOptimWrapper, autocast_dtype  # noqa: E402

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU path")


@pytest.fixture(scope="module")
def videos(make_crop_videos) -> dict[str, list[VideoRef]]:
    refs = make_crop_videos(8)
    return {"train": refs[:4], "val": refs[4:6], "test": refs[6:]}


def fit_config(work_dir: Path, precision: str, launcher: str = "none") -> FitConfig:
    # 8-frame 32x32 clips: bf16 convolutions are emulated on CPUs without bf16 instructions (8x slower here)
    return FitConfig(work_dir=work_dir, seed=7, size="cpu", clip_len=8, crop_size=32, class_weights=None,
                     trunk_len=12, epochs=1, launcher=launcher, precision=precision,
                     options=dict(batch_size=4))


def _build(name: str, size: str):
    return build({m.name: m for m in DETECTORS}[name], size)


def test_the_config_picks_the_optim_wrapper_and_dist_backend(tmp_path):
    detector = _build("resnet3d", "cpu")
    cfg = detector.config(fit_config(tmp_path, "bf16"))
    assert (cfg.optim_wrapper.type, cfg.optim_wrapper.dtype) == ("CpuAmpOptimWrapper", "bfloat16")
    assert cfg.optim_wrapper.optimizer.type == "AdamW"  # the schedule's optimiser is kept
    assert "type" not in detector.config(fit_config(tmp_path, "fp32")).optim_wrapper  # plain OptimWrapper
    dist = detector.config(fit_config(tmp_path, "fp32", launcher="pytorch"))
    assert dist.env_cfg.dist_cfg.backend == "gloo" and dist.model_wrapper_cfg.type == "CpuDistributedDataParallel"
    with pytest.raises(DfbenchError, match="--launcher slurm needs CUDA GPUs here"):
        detector.config(fit_config(tmp_path, "fp32", launcher="slurm"))


def test_one_precision_policy_for_every_mmengine_detector(tmp_path):
    """The image baselines train on the same base: bf16 on a CPU is the same optimiser wrapper there."""
    pytest.importorskip("dfbench_image")
    from dfbench_image.plugin import DETECTORS as IMAGE
    from dfbench_image.plugin import build as build_image

    mesonet = build_image({m.name: m for m in IMAGE}["mesonet"], "cpu")
    cfg = mesonet.config(FitConfig(work_dir=tmp_path, seed=0, size="cpu", clip_len=1, crop_size=64,
                                   class_weights=None, trunk_len=12, precision="bf16"))
    assert (cfg.optim_wrapper.type, cfg.optim_wrapper.dtype) == ("CpuAmpOptimWrapper", "bfloat16")
    with pytest.raises(DfbenchError, match="--precision fp16 needs a CUDA GPU"):
        mesonet.config(FitConfig(work_dir=tmp_path, seed=0, size="cpu", clip_len=1, crop_size=64,
                                 class_weights=None, trunk_len=12, precision="fp16"))


def test_fp16_is_refused_on_cpu_with_the_fix(tmp_path):
    with pytest.raises(DfbenchError, match=r"--precision fp16 needs a CUDA GPU .*use --precision bf16 or fp32"):
        _build("resnet3d", "cpu").config(fit_config(tmp_path, "fp16"))
    assert autocast_dtype("bf16", "cpu") == torch.bfloat16 and autocast_dtype("fp32", "cpu") is None


def test_cpu_amp_wrapper_runs_the_forward_in_bf16():
    model = torch.nn.Conv3d(3, 4, 3)
    wrapper = CpuAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    x = torch.randn(1, 3, 4, 8, 8)
    with wrapper.optim_context(model):
        y = model(x)
    assert y.dtype == torch.bfloat16 and model(x).dtype == torch.float32
    before = model.weight.detach().clone()
    wrapper.update_params(y.float().square().mean())
    assert model.weight.dtype == torch.float32 and not torch.equal(model.weight, before)  # fp32 master weights


@pytest.mark.slow  # 20-30 s measured on 2 busy cores: bf16 is emulated on CPUs without bf16 instructions
def test_bf16_fit_and_score_one_epoch(videos, tmp_path):
    detector = _build("resnet3d", "cpu")
    config = fit_config(tmp_path, "bf16")
    report = detector.fit(videos["train"], videos["val"], config)
    details = report.details
    assert (details["precision"], details["optim_wrapper"], details["autocast_dtype"]) == (
        "bf16", "CpuAmpOptimWrapper", "bfloat16")
    assert (report.epochs, details["world_size"], report.pretrained) == (1, 1, None)
    scores = detector.score(videos["test"], config, report)
    assert len(scores) == 2 and all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)
    # the head runs in fp32: scores are not rounded to bf16's steps of 1/256 near 1 (or 1/512 near 0.5)
    assert any(s * 512 != round(s * 512) for s in scores), scores
