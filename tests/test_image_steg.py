"""steg_svm: deterministic SRM-subset features, and an SVM saved and loaded without pickle."""

import pytest

pytest.importorskip("dfbench_image")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from dfbench_image.steg import SRM_SUBSET, SRMFeatures, load_model, save_model  # noqa: E402


@pytest.fixture(scope="module")
def frames() -> torch.Tensor:
    rng = np.random.default_rng(0)
    smooth = np.cumsum(rng.integers(-3, 4, (4, 48, 48, 3)), axis=2) + 128  # image-like: correlated pixels
    return torch.from_numpy(np.clip(smooth, 0, 255).astype(np.uint8)).permute(0, 3, 1, 2).to(torch.float64)


def test_feature_layout():
    f = SRMFeatures()
    assert f.kinds == SRM_SUBSET and f.n_classes == 169
    assert f.dim == 169 * (2 * 4 + 2) == 1690  # 4 directional kinds x (along, across) + 2 square kinds


def test_features_are_deterministic_bytes(frames):
    f = SRMFeatures()
    a = f(frames).numpy()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        b = f(frames).numpy()
    finally:
        torch.set_num_threads(threads)
    assert a.tobytes() == b.tobytes()  # same input, same bytes, whatever the thread count
    assert np.concatenate([f(frames[i:i + 1]).numpy() for i in range(len(frames))]).tobytes() == a.tobytes()
    assert a.shape == (4, 1690) and a.dtype == np.float64


def test_features_are_normalised_histograms(frames):
    a = SRMFeatures()(frames).numpy()
    assert np.all(a >= 0)
    assert np.allclose(a.reshape(4, 10, 169).sum(-1), 1.0)  # each of the 10 sets sums to one


def test_features_differ_for_different_frames(frames):
    f = SRMFeatures()
    a = f(frames).numpy()
    assert not np.array_equal(a[0], a[1])
    shifted = frames.clone()
    shifted[0, :, 10:20, 10:20] = (shifted[0, :, 10:20, 10:20] + 7) % 256  # a small local edit
    assert not np.array_equal(f(shifted).numpy()[0], a[0])
    assert np.array_equal(f(shifted).numpy()[1:], a[1:])


def test_saved_model_is_plain_arrays_and_reloads(tmp_path, frames):
    f = SRMFeatures()
    x = f(frames).numpy()
    rng = np.random.default_rng(1)
    mean, scale = x.mean(0), np.where(x.std(0) > 0, x.std(0), 1.0)
    coef, intercept = rng.normal(size=f.dim), 0.25
    path = save_model(tmp_path / "m.npz", f, mean, scale, coef, [intercept], C=0.1)
    with np.load(path, allow_pickle=False) as z:  # nothing in it needs unpickling
        assert sorted(z.files) == ["C", "T", "coef", "intercept", "kinds", "mean", "q", "scale"]
        assert float(z["C"]) == 0.1
    net = load_model(path)
    with torch.no_grad():
        got = net(frames).numpy()
    assert np.allclose(got, ((x - mean) / scale) @ coef + intercept)
