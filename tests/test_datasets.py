"""Datasets as plugins: Celeb-DF v2, DFDC and DFD (layouts, labels, groups), their synthetic twins,
`dfbench datasets` and `dfbench data check --dataset` / `data synth --layout`, and the hook."""

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import registered

from dfbench import datasets as D
from dfbench.datasets import DatasetSpec, celebdf, dfd, dfdc
from dfbench.errors import DfbenchError
from dfbench.hookspecs import hookimpl
from dfbench.layout import SYNTHETIC_MANIFEST, DatasetRoot, boxes_path
from dfbench.plan import PlannedVideo
from dfbench.synth.twins import GENERATOR, SCRATCH, source_seed, write_twin

SMALL = {"num_frames": 6, "workers": 1}  # tiny twins: the whole file runs in seconds


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> dict[str, Path]:
    """One small twin of each dataset (Celeb-DF with train, val and test pairs; DFD at c23)."""
    tmp = tmp_path_factory.mktemp("twins")
    write_twin("celebdf", tmp / "celebdf", 0, None, pairs=(1, 1, 2), **SMALL)
    write_twin("dfdc", tmp / "dfdc", 0, None, pairs=(1, 0, 1), **SMALL)
    write_twin("dfd", tmp / "dfd", 0, "c23", pairs=(1, 0, 1), **SMALL)
    return {d: tmp / d for d in ("celebdf", "dfdc", "dfd")}


def touch(root: Path, *rels: str) -> None:
    for rel in rels:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"")


def one_line_error(fn, *args) -> str:
    with pytest.raises(DfbenchError) as e:
        fn(*args)
    assert "\n" not in str(e.value)
    return str(e.value)


# --- the registry -----------------------------------------------------------------------------------

def test_the_four_datasets_are_registered_with_their_variants():
    specs = D.available()
    assert {"ffpp", "celebdf", "dfdc", "dfd"} <= set(specs)
    assert specs["celebdf"].variants == ("v2",) and specs["dfdc"].variants == ("full",)
    assert specs["dfd"].variants == ("c40", "c23", "raw") and specs["dfd"].variant(None) == "c40"
    assert {specs[d].plugin for d in ("ffpp", "celebdf", "dfdc", "dfd")} == {"dfbench.datasets.builtin"}
    assert specs["celebdf"].labels.startswith("List_of_testing_videos.txt: 1 = real, 0 = fake")
    assert all(specs[d].twin is not None and not specs[d].trainable for d in ("celebdf", "dfdc", "dfd"))
    assert specs["celebdf"] is not celebdf.SPEC and specs["celebdf"].open is celebdf.SPEC.open  # stamped copy


# --- open: on the twin, and on a wrong folder --------------------------------------------------------

@pytest.mark.parametrize("dataset_id", ["celebdf", "dfdc", "dfd"])
def test_open_on_its_twin(twins, dataset_id):
    spec = D.get(dataset_id)
    variant = "c23" if dataset_id == "dfd" else None
    ds = spec.open(twins[dataset_id], spec.variant(variant))
    assert isinstance(ds, DatasetRoot) and ds.dataset == dataset_id and ds.path == twins[dataset_id]
    assert ds.kind == f"synthetic-{dataset_id}" and ds.synthetic["layout"] == dataset_id
    assert spec.has_boxes(ds.path, spec.variant(variant))
    check = D.check_root(dataset_id, twins[dataset_id], variant)
    assert check["ok"] and check["problem"] is None and check["boxes"]


@pytest.mark.parametrize("dataset_id,missing", [
    ("celebdf", "no List_of_testing_videos.txt, so this is not the Celeb-DF v2 layout"),
    ("dfdc", "no labels.csv, dfdc_train_part_<k>/ folder or dataset.json, so this is not a DFDC layout"),
    ("dfd", "no original_sequences/actors/c40/videos/ folder, so this is not DFD's c40 layout"),
])
def test_open_on_a_wrong_folder_is_one_line(twins, tmp_path, dataset_id, missing):
    spec = D.get(dataset_id)
    wrong = twins["celebdf" if dataset_id != "celebdf" else "dfdc"]  # another dataset's twin
    msg = one_line_error(spec.open, wrong, spec.variant(None))
    assert msg.startswith(f"{wrong}: {missing}; ")
    assert D.check_root(dataset_id, wrong) == {"dataset": dataset_id, "root": str(wrong), "ok": False, "problem": msg}
    msg = one_line_error(spec.open, tmp_path / "nope", spec.variant(None))
    assert msg.startswith(f"{tmp_path / 'nope'}: dataset root not found; pass the folder that holds ")


def test_a_real_root_has_no_synthetic_manifest(tmp_path):
    touch(tmp_path, "List_of_testing_videos.txt")
    (tmp_path / SYNTHETIC_MANIFEST).write_text(json.dumps({"generator": "dfbench.synth", "version": 1}))  # FF++'s
    ds = celebdf.open_root(tmp_path)
    assert ds.synthetic is None and ds.kind == "celebdf"


# --- Celeb-DF v2 -------------------------------------------------------------------------------------

CELEBDF_LIST = ["1 YouTube-real/00001.mp4", "0 Celeb-synthesis/id0_id1_0000.mp4", "1 Celeb-real/id0_0000.mp4",
                "1 Celeb-real/id1_0003.mp4", "0 Celeb-synthesis/id1_id0_0003.mp4"]


@pytest.fixture
def celebdf_tree(tmp_path) -> Path:
    """A hand-written Celeb-DF v2 tree: five listed videos and two on disk but not listed."""
    root = tmp_path / "Celeb-DF-v2"
    touch(root, *(line.split()[1] for line in CELEBDF_LIST), "Celeb-real/id2_0000.mp4", "YouTube-real/00002.mp4")
    (root / "List_of_testing_videos.txt").write_text("\n".join(CELEBDF_LIST) + "\n")
    return root


def test_celebdf_labels_are_inverted_and_only_listed_videos_in_list_order(celebdf_tree):
    videos = celebdf.test_videos(celebdf.open_root(celebdf_tree))
    assert videos == [
        PlannedVideo("YouTube-real/00001", "YouTube-real", 0, celebdf_tree / "YouTube-real/00001.mp4", "yt-00001"),
        PlannedVideo("Celeb-synthesis/id0_id1_0000", "Celeb-synthesis", 1,
                     celebdf_tree / "Celeb-synthesis/id0_id1_0000.mp4", "id0"),
        PlannedVideo("Celeb-real/id0_0000", "Celeb-real", 0, celebdf_tree / "Celeb-real/id0_0000.mp4", "id0"),
        PlannedVideo("Celeb-real/id1_0003", "Celeb-real", 0, celebdf_tree / "Celeb-real/id1_0003.mp4", "id1"),
        PlannedVideo("Celeb-synthesis/id1_id0_0003", "Celeb-synthesis", 1,
                     celebdf_tree / "Celeb-synthesis/id1_id0_0003.mp4", "id1"),
    ]
    check = D.check_root("celebdf", celebdf_tree)
    assert check == {"dataset": "celebdf", "root": str(celebdf_tree), "variant": "v2", "kind": "celebdf", "ok": True,
                     "problem": None, "test_videos": 5, "real": 3, "fake": 2, "boxes": False}


@pytest.mark.parametrize("line,problem", [
    ("2 Celeb-real/id0_0000.mp4", "'2 Celeb-real/id0_0000.mp4' is not '<label> <folder>/<name>.mp4' with label "
                                  "1 (real) or 0 (fake)"),
    ("1 id0_0000.mp4", "'1 id0_0000.mp4' is not '<label> <folder>/<name>.mp4'"),
    ("1 Celeb-fake/id0_0000.mp4", "unknown folder 'Celeb-fake'; Celeb-DF v2's folders are Celeb-real, YouTube-real, "
                                  "Celeb-synthesis"),
    ("0 Celeb-real/id0_0000.mp4", "label 0 means fake in this list (1 = real, 0 = fake) but Celeb-real holds real"),
    ("1 Celeb-synthesis/id0_id1_0000.mp4", "label 1 means real in this list (1 = real, 0 = fake) but "
                                           "Celeb-synthesis holds fake"),
    ("1 Celeb-real/00001.mp4", "'00001.mp4' is not named as Celeb-real names its videos (id<N>_<NNNN>.mp4)"),
    ("1 YouTube-real/00001.mp4", "YouTube-real/00001.mp4 is listed twice (line 1 too)"),
])
def test_celebdf_malformed_line_is_one_line_naming_file_and_line(celebdf_tree, line, problem):
    path = celebdf_tree / "List_of_testing_videos.txt"
    path.write_text(f"{CELEBDF_LIST[0]}\n{line}\n")
    msg = one_line_error(celebdf.test_videos, celebdf.open_root(celebdf_tree))
    assert msg.startswith(f"{path}, line 2: {problem}")
    assert msg.endswith("; fix the line, or restore List_of_testing_videos.txt from the Celeb-DF v2 download")
    assert D.check_root("celebdf", celebdf_tree) == {"dataset": "celebdf", "root": str(celebdf_tree), "ok": False,
                                                     "problem": msg}


def test_celebdf_missing_listed_video_is_reported_by_check_root(celebdf_tree):
    (celebdf_tree / "Celeb-real/id1_0003.mp4").unlink()
    check = D.check_root("celebdf", celebdf_tree)
    assert not check["ok"] and check["test_videos"] == 5
    assert check["problem"] == f"1 test videos missing, e.g. {celebdf_tree / 'Celeb-real/id1_0003.mp4'}"


# --- DFDC --------------------------------------------------------------------------------------------

def write_part(root: Path, k: int, meta: dict) -> None:
    part = root / f"dfdc_train_part_{k}"
    touch(part, *meta)
    (part / "metadata.json").write_text(json.dumps(meta))


def test_dfdc_parts_metadata_labels_and_groups_by_original(tmp_path):
    write_part(tmp_path, 10, {"zzz.mp4": {"label": "REAL", "split": "train", "original": None}})
    write_part(tmp_path, 2, {"bbb.mp4": {"label": "FAKE", "split": "train", "original": "ccc.mp4"},
                             "ccc.mp4": {"label": "REAL", "split": "train"},
                             "aaa.mp4": {"label": "FAKE", "split": "train", "original": "ccc.mp4"}})
    ds = dfdc.open_root(tmp_path)
    assert dfdc.layout_of(tmp_path) == "parts" and ds.kind == "dfdc"
    p2, p10 = tmp_path / "dfdc_train_part_2", tmp_path / "dfdc_train_part_10"
    assert dfdc.test_videos(ds) == [  # by part number (2 before 10), then name
        PlannedVideo("dfdc_train_part_2/aaa", "fake", 1, p2 / "aaa.mp4", "ccc"),
        PlannedVideo("dfdc_train_part_2/bbb", "fake", 1, p2 / "bbb.mp4", "ccc"),
        PlannedVideo("dfdc_train_part_2/ccc", "real", 0, p2 / "ccc.mp4", "ccc"),
        PlannedVideo("dfdc_train_part_10/zzz", "real", 0, p10 / "zzz.mp4", "zzz"),
    ]
    write_part(tmp_path, 3, {"ddd.mp4": {"label": "FAKE", "split": "train"}})
    msg = one_line_error(dfdc.test_videos, ds)
    assert msg == (f"{tmp_path / 'dfdc_train_part_3' / 'metadata.json'}: fake 'ddd.mp4' names no original "
                   "'<name>.mp4' it was made from; extract dfdc_train_part_3's zip again")
    (tmp_path / "dfdc_train_part_3" / "metadata.json").unlink()
    assert "dfdc_train_part_3: no metadata.json, so its labels are unknown" in one_line_error(dfdc.open_root, tmp_path)


@pytest.mark.parametrize("in_videos", [True, False])
def test_dfdc_labels_csv_one_is_fake_in_file_order(tmp_path, in_videos):
    (tmp_path / "labels.csv").write_text("filename,label\nbbb.mp4,1\naaa.mp4,0\n")
    folder = tmp_path / "videos" if in_videos else tmp_path
    touch(folder, "aaa.mp4", "bbb.mp4")
    ds = dfdc.open_root(tmp_path)
    assert dfdc.test_videos(ds) == [PlannedVideo("test/bbb", "fake", 1, folder / "bbb.mp4", "bbb"),
                                    PlannedVideo("test/aaa", "real", 0, folder / "aaa.mp4", "aaa")]
    assert D.check_root("dfdc", tmp_path)["ok"]
    (tmp_path / "labels.csv").write_text("filename,label\nbbb.mp4,1\naaa.mp4,REAL\n")
    assert one_line_error(dfdc.test_videos, ds) == (
        f"{tmp_path / 'labels.csv'}, line 3: 'aaa.mp4','REAL' is not '<name>.mp4,<label>' with label 1 (fake) or "
        "0 (real); fix the row, or restore labels.csv from the DFDC test set download")
    (tmp_path / "labels.csv").write_text("video,is_fake\nbbb.mp4,1\n")
    assert "line 1: header 'video,is_fake' does not name the columns filename and label" in \
        one_line_error(dfdc.test_videos, ds)


def test_dfdc_preview_dataset_json_test_set_only(tmp_path):
    meta = {"original_videos/123/123_A/123_A_001.mp4": {"label": "real", "set": "test", "target_id": "123"},
            "method_A/123/123_A/456_A_001.mp4": {"label": "fake", "set": "test", "target_id": "123"},
            "method_B/789/789_B/789_B_002.mp4": {"label": "fake", "set": "train", "target_id": "789"}}
    (tmp_path / "dataset.json").write_text(json.dumps(meta))
    ds = dfdc.open_root(tmp_path)
    assert dfdc.layout_of(tmp_path) == "preview"
    assert dfdc.test_videos(ds) == [
        PlannedVideo("original_videos/123--123_A--123_A_001", "real", 0,
                     tmp_path / "original_videos/123/123_A/123_A_001.mp4", "123"),
        PlannedVideo("method_A/123--123_A--456_A_001", "fake", 1, tmp_path / "method_A/123/123_A/456_A_001.mp4",
                     "123")]


# --- DFD ---------------------------------------------------------------------------------------------

def test_dfd_names_groups_and_every_video_is_a_test_video(tmp_path):
    real = "original_sequences/actors/c40/videos"
    fake = "manipulated_sequences/DeepFakeDetection/c40/videos"
    touch(tmp_path, f"{real}/02__kitchen_pan.mp4", f"{real}/01__exit_phone_room.mp4",
          f"{fake}/02_01__kitchen_pan__ABCD1234.mp4", f"{fake}/01_02__exit_phone_room__YVGY8LOK.mp4")
    ds = dfd.open_root(tmp_path, "c40")
    assert ds.kind == "dfd" and not dfd.has_boxes(tmp_path, "c40")
    assert [(v.key, v.method, v.label, v.pair) for v in dfd.test_videos(ds, "c40")] == [
        ("actors/01__exit_phone_room", "actors", 0, "01"), ("actors/02__kitchen_pan", "actors", 0, "02"),
        ("DeepFakeDetection/01_02__exit_phone_room__YVGY8LOK", "DeepFakeDetection", 1, "01"),
        ("DeepFakeDetection/02_01__kitchen_pan__ABCD1234", "DeepFakeDetection", 1, "02")]
    touch(tmp_path, f"{fake}/02_01.mp4")  # FF++-style name: not DFD's
    assert one_line_error(dfd.test_videos, ds, "c40") == (
        f"{tmp_path / fake / '02_01.mp4'}: not named as DFD names its DeepFakeDetection videos "
        "(<NN>_<MM>__<scene>__<CODE>.mp4); rename the file or move it out of the dataset")
    assert "no original_sequences/actors/c23/videos/ folder" in one_line_error(dfd.open_root, tmp_path, "c23")


# --- twins -------------------------------------------------------------------------------------------

def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_celebdf_twin_layout_counts_and_unlisted_videos(twins):
    root = twins["celebdf"]
    files = files_under(root)
    by_folder = {f: [x for x in files if x.startswith(f + "/")] for f in ("Celeb-real", "YouTube-real",
                                                                          "Celeb-synthesis", "boxes")}
    # pairs (1, 1, 2): train, val and the first test pair are celebrities, the second test pair YouTube people
    assert [len(by_folder[f]) for f in ("Celeb-real", "YouTube-real", "Celeb-synthesis", "boxes")] == [6, 2, 6, 14]
    assert not (root / SCRATCH).exists() and "List_of_testing_videos.txt" in files
    lines = (root / "List_of_testing_videos.txt").read_text().splitlines()
    videos = celebdf.test_videos(celebdf.open_root(root))
    assert [f"{1 - v.label} {v.key}.mp4" for v in videos] == lines  # the list's 1 = real
    assert [v.method for v in videos] == ["YouTube-real"] * 2 + ["Celeb-real"] * 2 + ["Celeb-synthesis"] * 2
    listed = {v.key for v in videos}
    on_disk = {x[:-4] for x in files if x.endswith(".mp4")}
    assert listed < on_disk and len(on_disk - listed) == 8  # the train and val pairs: present, never test videos
    assert all(boxes_path(v.path).is_file() for v in videos)
    fakes = [v for v in videos if v.label == 1]
    reals = {v.pair for v in videos if v.method == "Celeb-real"}
    assert {v.pair for v in fakes} == reals  # each fake clusters with its target's real video
    manifest = json.loads((root / SYNTHETIC_MANIFEST).read_text())
    assert manifest["generator"] == GENERATOR and manifest["layout"] == "celebdf" and manifest["version"] == 1
    assert manifest["seed"] == 0 and manifest["source"]["seed"] == source_seed("celebdf", 0) != 0
    assert manifest["source"]["compression"] == "c23" and manifest["source"]["pairs"] == [1, 1, 2]
    assert manifest["counts"] == {"videos": 14, "test_videos": 6, "unlisted": 8, "real": 4, "fake": 2,
                                  "folders": {"Celeb-real": 6, "Celeb-synthesis": 6, "YouTube-real": 2}}


def test_dfdc_twin_parts_metadata_and_unique_names(twins):
    root = twins["dfdc"]
    videos = dfdc.test_videos(dfdc.open_root(root))
    names = [v.path.stem for v in videos]
    assert len(videos) == 12 and len(set(names)) == 12 and all(len(n) == 10 and n.isalpha() for n in names)
    assert [v.key.split("/")[0] for v in videos] == ["dfdc_train_part_0"] * 6 + ["dfdc_train_part_1"] * 6
    assert len(list((root / "boxes").glob("*.json"))) == 12  # one boxes folder for all parts: names never clash
    assert sum(v.label for v in videos) == 8 and {v.method for v in videos} == {"real", "fake"}
    reals = {v.path.stem for v in videos if v.label == 0}
    assert {v.pair for v in videos if v.label == 1} == reals  # fakes cluster with the real they were made from
    meta = json.loads((root / "dfdc_train_part_0" / "metadata.json").read_text())
    assert {m["label"] for m in meta.values()} == {"REAL", "FAKE"}
    assert all(m["original"] in meta for m in meta.values() if m["label"] == "FAKE")


def test_dfd_twin_names_at_the_asked_compression(twins):
    root = twins["dfd"]
    videos = dfd.test_videos(dfd.open_root(root, "c23"), "c23")
    assert len(videos) == 8 and sum(v.label for v in videos) == 4
    assert all(v.path.parent == dfd.method_dir(root, v.method, "c23") / "videos" for v in videos)
    actors = {v.pair for v in videos if v.label == 0}
    assert {v.pair for v in videos if v.label == 1} == actors == {"01", "02", "03", "04"}
    assert all(dfd.NAMES[v.method][0].match(v.path.stem) for v in videos)
    assert json.loads((root / SYNTHETIC_MANIFEST).read_text())["source"]["compression"] == "c23"


def test_twin_again_is_a_no_op_and_is_deterministic(twins, tmp_path):
    root = twins["dfdc"]
    before = {f: os.stat(root / f).st_mtime_ns for f in files_under(root)}
    manifest = json.loads((root / SYNTHETIC_MANIFEST).read_text())
    assert write_twin("dfdc", root, 0, "full", pairs=(1, 0, 1), **SMALL) == manifest
    assert {f: os.stat(root / f).st_mtime_ns for f in files_under(root)} == before
    again = tmp_path / "again"
    assert write_twin("dfdc", again, 0, None, pairs=(1, 0, 1), num_frames=6, workers=2) == manifest
    assert files_under(again) == files_under(root)
    assert all((again / f).read_bytes() == (root / f).read_bytes() for f in files_under(root))


def test_twin_seeds_differ_from_training_and_between_datasets():
    seeds = {(d, s): source_seed(d, s) for d in ("celebdf", "dfdc", "dfd") for s in (0, 1, 2)}
    assert 0 not in seeds.values() and len(set(seeds.values())) == len(seeds)


def test_twin_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    msg = one_line_error(write_twin, "celebdf", tmp_path, 0)
    assert "not empty and not a dfbench synthetic set" in msg and (tmp_path / "notes.txt").read_text() == "mine"
    assert "dataset dfd has no variant 'v2'" in one_line_error(write_twin, "dfd", tmp_path / "x", 0, "v2")


# --- the commands ------------------------------------------------------------------------------------

def test_datasets_json_lists_the_datasets_and_checks_roots(cli, twins, tmp_path):
    code, out, _ = cli("datasets", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["roots"] == []
    rows = {d["id"]: d for d in report["datasets"]}
    assert {"ffpp", "celebdf", "dfdc", "dfd"} <= set(rows)
    assert rows["celebdf"]["variants"] == ["v2"] and rows["celebdf"]["twin"] is True
    assert rows["celebdf"]["plugin"] == "dfbench.datasets.builtin" and "1 = real, 0 = fake" in rows["celebdf"]["labels"]
    assert rows["ffpp"]["trainable"] is True and rows["dfd"]["variants"] == ["c40", "c23", "raw"]
    code, out, _ = cli("datasets", "--json", "--root", f"celebdf={twins['celebdf']}",
                       "--root", f"dfd={twins['dfd']}")  # dfd's default variant is c40; the twin is c23
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    assert report["roots"][0]["ok"] and report["roots"][0]["test_videos"] == 6
    assert "no original_sequences/actors/c40/videos/ folder" in report["roots"][1]["problem"]
    code, out, _ = cli("datasets", "--root", f"celebdf={twins['celebdf']}")
    assert code == 0 and f"celebdf={twins['celebdf']}: ok (synthetic-celebdf, v2): 6 test videos (4 real, 2 fake), " \
                         "boxes" in out
    code, _, err = cli("datasets", "--root", f"nope={tmp_path}")
    assert code == 2 and err.startswith("error: unknown dataset 'nope'") and err.count("\n") == 1


def test_data_check_dataset_passes_on_the_twin_and_names_a_missing_video(cli, twins, tmp_path):
    root = tmp_path / "celebdf"
    shutil.copytree(twins["celebdf"], root)
    code, out, _ = cli("data", "check", "--dataset", "celebdf", str(root), "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["decoded"] and report["unreadable"] == []
    assert report["methods"] == [{"method": "YouTube-real", "label": 0, "expected": 2, "present": 2},
                                 {"method": "Celeb-real", "label": 0, "expected": 2, "present": 2},
                                 {"method": "Celeb-synthesis", "label": 1, "expected": 2, "present": 2}]
    listed = (root / "List_of_testing_videos.txt").read_text().splitlines()[-1].split()[1]
    (root / listed).unlink()
    code, out, _ = cli("data", "check", "--dataset", "celebdf", str(root), "--quick")
    assert code == 1 and f"1 test videos missing, e.g. {root / listed}" in out
    assert "Celeb-synthesis         1 fake                   1/2" in out
    code, _, err = cli("data", "check", "--dataset", "celebdf", str(root), "--compression", "c23")
    assert code == 2 and "dataset celebdf has no variant 'c23'; it has v2" in err


def test_data_synth_layout_writes_the_twin(cli, tmp_path):
    out = tmp_path / "dfd"
    code, stdout, _ = cli("data", "synth", "--layout", "dfd", "--out", str(out), "--compression", "c23",
                          "--pairs", "1,1,1", "--frames", "4")
    assert code == 0 and stdout == f"{out}: 12 videos in the dfd layout (12 test videos: 6 real, 6 fake), seed 0\n"
    assert D.check_root("dfd", out, "c23")["ok"]
    code, _, err = cli("data", "synth", "--layout", "celebdf", "--out", str(tmp_path / "c"), "--version", "2")
    assert code == 2 and "--version and --extra-compression are for --layout ffpp" in err


# --- the hook ----------------------------------------------------------------------------------------

class Datasets:
    def __init__(self, dataset_id: str):
        self.dataset_id = dataset_id

    @hookimpl
    def register_datasets(self, register):
        register(DatasetSpec(id=self.dataset_id, title="A test dataset", layout="videos/<name>.mp4",
                             variants=("v1",), open=lambda root, variant: DatasetRoot(root, None, "hookset"),
                             test_videos=lambda ds, variant: [], has_boxes=lambda root, variant: False))


def test_register_datasets(cli):
    with registered(dfbench_hook_dataset=Datasets("hookset")):
        code, out, _ = cli("datasets", "--json")
        rows = {d["id"]: d for d in json.loads(out)["datasets"]}
        assert code == 0 and rows["hookset"]["plugin"] == "dfbench-hook-dataset" and rows["hookset"]["twin"] is False
        assert {"ffpp", "celebdf", "dfdc", "dfd"} <= set(rows)  # the core's own, by the same hook
        assert D.get("hookset").plugin == "dfbench-hook-dataset"
        code, out, _ = cli("plugins", "--json")  # lists the entry points and the core's default plugins
        diag = {r["name"]: r for r in json.loads(out)}
        assert code == 0 and diag["dfbench.datasets.builtin"]["datasets"] == ["celebdf", "dfd", "dfdc", "ffpp"]
        assert diag["dfbench.datasets.builtin"]["hooks"] == ["register_datasets"]
    assert "hookset" not in D.available()
    with registered(dfbench_hook_dup=Datasets("celebdf")):
        msg = one_line_error(D.available)
        assert msg == ("dataset 'celebdf' is registered by both dfbench.datasets.builtin and dfbench-hook-dup; "
                       "uninstall one")
