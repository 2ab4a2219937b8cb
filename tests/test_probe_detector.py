"""The shortcut probe as a detector (`shortcut_probe`): its features, its model file, and a real run."""

import json

import numpy as np
import pytest

from dfbench import probe
from dfbench import probe_detector as P
from dfbench.detector import FitConfig, VideoRef
from dfbench.errors import DfbenchError
from dfbench.record_check import check_record


def _video(tmp_path, key, label, mouth_red, frames=40, seed=0):
    """Face crops of noise whose mouth region is ``mouth_red`` grey levels redder: a planted cue."""
    rng = np.random.default_rng(seed)
    crops = rng.integers(60, 190, (frames, 64, 64, 3)).astype(np.int16)
    crops[:, 44:58, 22:42, 0] += mouth_red
    path = tmp_path / f"{key.replace('/', '_')}.npy"
    np.save(path, np.clip(crops, 0, 255).astype(np.uint8))
    return VideoRef(key=key, label=label, method="Deepfakes" if label else "original", crops=path, num_frames=frames)


def _split(tmp_path, name, n, offset):
    return [_video(tmp_path, f"{'Deepfakes' if i % 2 else 'original'}/{name}{i}", i % 2, 40 * (i % 2), seed=offset + i)
            for i in range(n)]


def _config(tmp_path, trunk_len=16):
    return FitConfig(work_dir=tmp_path / "work", seed=0, size="cpu", clip_len=32, crop_size=64,
                     class_weights=(1.0, 1.0), trunk_len=trunk_len)


def test_crop_features_are_finite_and_read_the_mouth():
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 255, (8, 64, 64, 3)).astype(np.uint8)
    f = probe.crop_features(crops)
    assert f.shape == (len(probe.CROP_FEATURES),) and np.isfinite(f).all()
    redder = crops.astype(np.int16)
    redder[:, 44:58, 22:42, 0] += 40
    g = probe.crop_features(np.clip(redder, 0, 255).astype(np.uint8))
    j = probe.CROP_FEATURES.index("mouth_redness")
    assert g[j] > f[j] + 10
    aligned = set(probe.ALIGNED_FEATURES)
    assert aligned <= set(probe.FEATURES) and aligned <= set(probe.CROP_FEATURES)


def test_fit_learns_a_planted_cue_and_scores_per_trunk(tmp_path):
    train, val, test = _split(tmp_path, "tr", 16, 0), _split(tmp_path, "va", 8, 100), _split(tmp_path, "te", 8, 200)
    det = P.build(P.META, "cpu")
    config = _config(tmp_path)
    report = det.fit(train, val, config)
    assert report.best_val_auc == 1.0 and [h["C"] for h in report.history] == list(P.C_GRID)
    assert report.details["train_trunks"] == 16 * 3  # 40 frames in trunks of 16: 3 trunks a video
    scores = det.score(test, config, report)
    fake = [s for s, v in zip(scores, test) if v.label]
    real = [s for s, v in zip(scores, test) if not v.label]
    assert min(fake) > max(real)
    rows, owner = P.features(test[:1], config.trunk_len)
    model = P.load_model(report.best_checkpoint)
    assert scores[0] == pytest.approx(float(P.predict(model, rows).mean()))  # the mean over the video's trunks


def test_saved_model_is_plain_arrays_and_refuses_other_features(tmp_path):
    path = P.save_model(tmp_path / "m.npz", np.zeros(len(probe.CROP_FEATURES)), np.ones(len(probe.CROP_FEATURES)),
                        np.ones(len(probe.CROP_FEATURES)), [0.5], 1.0)
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["C", "coef", "features", "intercept", "mean", "scale"]
    np.savez(tmp_path / "other.npz", mean=np.zeros(2), scale=np.ones(2), coef=np.ones(2), intercept=[0.0],
             C=1.0, features=np.array(["a", "b"]))
    with pytest.raises(DfbenchError, match="other features"):
        P.load_model(tmp_path / "other.npz")


def test_refuses_pretrained_weights_and_one_class_splits(tmp_path):
    det = P.build(P.META, "cpu")
    train = _split(tmp_path, "tr", 4, 0)
    with pytest.raises(DfbenchError, match="validation split needs real and fake"):
        det.fit(train, [v for v in train if v.label], _config(tmp_path))
    with pytest.raises(DfbenchError, match="no pretrained weights"):
        det.check(FitConfig(**{**_config(tmp_path).__dict__, "pretrained": "w.pth"}))


def test_run_end_to_end_writes_a_sound_record(cli, tiny_synth, tmp_path):
    """`dfbench run -d shortcut_probe` through the real engine: crops, fit, score, a record that verifies."""
    out = tmp_path / "results"
    code, stdout, err = cli("run", "-d", "shortcut_probe", "-p", "all", "--data", str(tiny_synth), "--cache",
                            str(tmp_path / "cache"), "--output", str(out), "--work-dir", str(tmp_path / "work"))
    assert code == 0, err
    (path,) = out.glob("ffpp-lq-all__all__shortcut_probe__cpu__*.json")
    raw = json.loads(path.read_text())
    assert check_record(raw) is None
    assert raw["settings"]["detector"]["name"] == "shortcut_probe"
    assert raw["settings"]["detector"]["config_sha256"] is not None
    assert raw["parameters"] == len(probe.CROP_FEATURES) + 1
    assert raw["fit"]["details"]["best_C"] in P.C_GRID
    assert len(raw["videos"]) == 10 and 0.0 <= raw["metrics"]["auc"] <= 1.0
