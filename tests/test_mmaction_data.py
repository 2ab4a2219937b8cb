"""Face-crop dataset: one random clip per training video, whole trunks (or clips of them) for val/test, video means."""

import pytest

pytest.importorskip("dfbench_mmaction")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402

from dfbench.clips import trunks  # noqa: E402
from dfbench.detector import VideoRef  # noqa: E402
from dfbench_mmaction.data import write_annotations  # noqa: E402
from dfbench_mmaction.detector import load_config  # noqa: E402
from dfbench_mmaction.metrics import VideoAUCMetric, sample_record, video_scores  # noqa: E402


@pytest.fixture
def ann_file(tmp_path):
    refs = []
    for i, frames in enumerate((36, 10)):  # a 36-frame video and one shorter than a clip
        crops = np.zeros((frames, 112, 112, 3), np.uint8)
        crops[:] = np.arange(frames, dtype=np.uint8)[:, None, None, None]  # pixel value = frame index
        crops[:, :, :56, 0] = 200  # left half red: shows a horizontal flip
        np.save(tmp_path / f"{i}.npy", crops)
        refs.append(VideoRef(f"original/{i}", i, "original", tmp_path / f"{i}.npy", frames))
    return str(write_annotations(refs, tmp_path / "ann.json"))


def build(ann_file, split, **overrides):
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope

    init_default_scope("mmaction")
    dataset = load_config("resnet3d", "cpu")[f"{split}_dataloader"].dataset
    dataset.update(ann_file=ann_file, crop_size=112, **overrides)  # the fixture's crops are 112x112
    return DATASETS.build(dataset)


def frames_of(item) -> list[int]:
    return item["inputs"][0, 1, :, 0, 100].tolist()  # green channel of a right-half pixel per frame


def test_training_items_are_one_random_clip_per_video(ann_file):
    np.random.seed(0)
    data = build(ann_file, "train")
    assert len(data) == 2
    item = data[0]
    assert item["inputs"].shape == (1, 3, 16, 112, 112) and item["inputs"].dtype == torch.uint8
    frames = frames_of(item)
    assert frames == list(range(frames[0], frames[0] + 16))  # consecutive frames
    assert data[1]["inputs"].shape == (1, 3, 16, 112, 112)  # a short video loops to a whole clip
    starts = {frames_of(data[0])[0] for _ in range(20)}
    assert len(starts) > 1  # a new clip on each access
    red_on_left = {int(data[0]["inputs"][0, 0, 0, 0, 0]) == 200 for _ in range(20)}
    assert red_on_left == {True, False}  # horizontal flips happen, sometimes


def test_val_items_are_whole_trunks(ann_file):
    data = build(ann_file, "val", trunk_len=16)
    assert trunks(36, 16) == [(0, 16), (16, 36)]  # the core merges a short last trunk
    assert len(data) == 3  # two trunks of the 36-frame video, one of the 10-frame video
    first, second, short = data[0], data[1], data[2]
    assert frames_of(first) == list(range(16))
    assert frames_of(second) == list(range(16, 36))  # the whole trunk is one input
    assert frames_of(short) == [i % 10 for i in range(16)]  # looped up to one clip
    assert int(first["inputs"][0, 0, 0, 0, 0]) == 200  # never flipped
    sample = pseudo_collate([second])["data_samples"][0]
    assert (sample.video_index, sample.video_key, tuple(sample.trunk)) == (0, "original/0", (16, 36))


def test_trunks_fed_as_clips_are_consecutive_windows(ann_file):
    data = build(ann_file, "val", trunk_len=36, trunk_input="clips")
    assert len(data) == 3 + 1  # the 36-frame trunk: clips at 0, 16 and 32 (looped); the short video: one
    assert [frames_of(data[i]) for i in range(3)] == [list(range(16)), list(range(16, 32)),
                                                      [32 + i % 4 for i in range(16)]]
    samples = pseudo_collate([data[0], data[2]])["data_samples"]
    assert {tuple(s.trunk) for s in samples} == {(0, 36)}  # one trunk: its score is the mean of its clips'


def test_video_score_is_the_mean_of_its_trunks():
    # (video, trunk, score, label): a trunk is the mean of its records, a video the mean of its trunks
    assert video_scores([(0, 0, 0.2, 1), (1, 0, 0.9, 0), (0, 16, 0.6, 1)]) == {
        0: (pytest.approx(0.4), 1), 1: (0.9, 0)}
    assert video_scores([(0, 0, 0.2, 1), (0, 0, 0.4, 1), (0, 16, 0.9, 1)])[0][0] == pytest.approx(0.6)


def test_video_auc_metric():
    metric = VideoAUCMetric()
    records = [(0, 0, 0.9, 1), (0, 16, 0.7, 1), (1, 0, 0.1, 0), (2, 0, 0.6, 0), (3, 0, 0.4, 1)]
    assert metric.compute_metrics(records) == {"auc": pytest.approx(0.75), "acc": pytest.approx(0.5)}
    with pytest.warns(UserWarning, match="one class"):
        assert np.isnan(metric.compute_metrics([(0, 0, 0.9, 1)])["auc"])


def test_records_of_both_kinds_of_prediction():
    from mmaction.structures import ActionDataSample

    sample = ActionDataSample().set_gt_label(1).set_pred_score(torch.tensor([0.25]))
    sample.set_metainfo(dict(video_index=3, trunk=(16, 36)))
    assert sample_record(sample) == sample_record(sample.to_dict()) == (3, 16, 0.25, 1)
    assert sample_record(dict(video_index=2, trunk_index=1, score=0.5, label=0)) == (2, 1, 0.5, 0)
