"""dfbench.checkpoints: fetching (cache, hashes, offline), untrusted loading, and copying into a model."""

import hashlib
import http.server
import threading
import time
from functools import partial
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from dfbench import checkpoints as C  # noqa: E402
from dfbench.errors import DfbenchError  # noqa: E402


@pytest.fixture
def hub(tmp_path, monkeypatch) -> Path:
    """torch's hub cache moved into tmp_path; returns its checkpoints folder."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- fetch ------------------------------------------------------------------------------------------


def test_fetch_local_path_as_is_and_verified(tmp_path):
    path = tmp_path / "w.pth"
    torch.save({"w": torch.ones(2)}, path)
    assert C.fetch(str(path)) == path
    assert C.fetch(str(path), sha(path)) == path
    with pytest.raises(DfbenchError, match=r"w\.pth: sha256 .* is not the expected 0{64}"):
        C.fetch(str(path), "0" * 64)
    with pytest.raises(DfbenchError, match=r"missing\.pth: checkpoint file not found"):
        C.fetch(str(tmp_path / "missing.pth"))


def test_hub_dir_follows_torch_home(hub):
    assert C.hub_checkpoint_dir() == hub


def test_fetch_url_uses_the_hub_cache_and_the_hash_in_the_name(hub):
    hub.mkdir(parents=True)
    body = hub / "tmp"
    torch.save({"w": torch.arange(3.0)}, body)
    digest = sha(body)
    good = hub / f"net-{digest[:8]}.pth"
    body.rename(good)
    # cached: no network is touched (the host does not exist)
    assert C.fetch(f"http://weights.invalid/models/{good.name}") == good
    bad = hub / "net-abcdef12.pth"
    bad.write_bytes(good.read_bytes())
    with pytest.raises(DfbenchError) as e:
        C.fetch(f"http://weights.invalid/models/{bad.name}")
    msg = str(e.value)
    assert str(bad) in msg and "does not start with the abcdef12" in msg and "fetch http://weights.invalid" in msg


def test_hash_prefix_needs_six_hex_digits():
    assert C._hash_prefix("i3d_r50_kinetics400-rgb_20220812-e213c223.pth") == "e213c223"
    assert C._hash_prefix("2DFAN4-11f355bf06.pth.tar") == "11f355bf06"
    assert C._hash_prefix("resnet-101-kinetics.pth") is None
    assert C._hash_prefix("net-100e.pth") is None


def test_offline_url_fails_fast_with_one_line_naming_url_file_and_folder(hub):
    url = "http://127.0.0.1:9/x-abcdef12.pth"  # port 9 (discard): connection refused at once
    start = time.monotonic()
    with pytest.raises(DfbenchError) as e:
        C.fetch(url)
    elapsed = time.monotonic() - start
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"{url}: download failed") and "put x-abcdef12.pth in " + str(hub) in msg
    assert not list(hub.glob("*"))  # no partial file left behind
    print(f"offline fetch failed after {elapsed:.3f} s")


def test_page_url_with_fragment_is_looked_up_never_downloaded(hub):
    page = "https://drive.google.com/drive/folders/abc"
    with pytest.raises(DfbenchError) as e:
        C.fetch(f"{page}#resnet-101-kinetics.pth")
    msg = str(e.value)
    assert msg == (f"resnet-101-kinetics.pth is not in {hub}: download it from {page} (no direct download link) "
                   f"and put it in {hub}, or pass --pretrained PATH")
    hub.mkdir(parents=True)
    torch.save({"w": torch.zeros(1)}, hub / "resnet-101-kinetics.pth")
    assert C.fetch(f"{page}#resnet-101-kinetics.pth") == hub / "resnet-101-kinetics.pth"


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over tmp_path/www; yields its base URL."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = partial(Quiet, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_verifies_before_keeping(hub, server):
    www, base = server
    torch.save({"w": torch.ones(4)}, www / "weights.pth")
    digest = sha(www / "weights.pth")
    with pytest.raises(DfbenchError, match="is not the expected " + "1" * 64 + "; not kept"):
        C.fetch(f"{base}/weights.pth", "1" * 64)
    assert not list(hub.glob("*weights*"))  # neither the file nor a partial one
    got = C.fetch(f"{base}/weights.pth", digest)
    assert got == hub / "weights.pth" and sha(got) == digest
    with pytest.raises(DfbenchError, match=r"absent-abcdef12\.pth: download failed \(HTTP 404 File not found\)"):
        C.fetch(f"{base}/absent-abcdef12.pth")


# --- load_untrusted and state_dict_of ---------------------------------------------------------------------


def test_malicious_pickle_is_refused_and_runs_nothing(malicious_checkpoint):
    path, marker = malicious_checkpoint
    with pytest.raises(C.CheckpointRefusedError) as e:
        C.load_untrusted(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: refused: loading it would run code") and "\n" not in msg
    assert "Unsupported global" in msg
    assert isinstance(e.value, DfbenchError)
    assert not marker.exists()


def test_plain_and_safetensors_files_load(tmp_path):
    from safetensors.torch import save_file

    torch.save({"epoch": 3, "arch": "resnet-101", "state_dict": {"a": torch.ones(2)}}, tmp_path / "plain.pth")
    plain = C.load_untrusted(tmp_path / "plain.pth")
    assert plain["epoch"] == 3 and torch.equal(plain["state_dict"]["a"], torch.ones(2))
    # the pre-1.6 (non-zip) format of older checkpoints, such as Hara et al.'s 2017 Kinetics files
    torch.save({"state_dict": {"module.conv1.weight": torch.ones(3)}}, tmp_path / "old.pth",
               _use_new_zipfile_serialization=False)
    assert list(C.state_dict_of(C.load_untrusted(tmp_path / "old.pth"))) == ["conv1.weight"]
    save_file({"a": torch.full((2, 3), 2.0)}, str(tmp_path / "w.safetensors"))
    st = C.load_untrusted(tmp_path / "w.safetensors")
    assert list(st) == ["a"] and torch.equal(st["a"], torch.full((2, 3), 2.0))


def test_unreadable_files_are_one_line_errors(tmp_path):
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(DfbenchError, match=r"junk\.pth: not a readable checkpoint"):
        C.load_untrusted(tmp_path / "junk.pth")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(DfbenchError, match=r"junk\.safetensors: not a readable \.safetensors file"):
        C.load_untrusted(tmp_path / "junk.safetensors")
    torch.save(torch.zeros(3), tmp_path / "tensor.pth")
    with pytest.raises(DfbenchError, match=r"tensor\.pth: holds a Tensor, not a dict of tensors"):
        C.load_untrusted(tmp_path / "tensor.pth")


def test_model_sha256_names_the_weights_not_the_file(tmp_path):
    """Two MMEngine-like files with the same weights (other meta, optimizer, key order) hash the same;
    a changed value, dtype, shape or a byte moved across a tensor boundary does not."""
    weights = {"a.weight": torch.arange(6.0).reshape(2, 3), "b.bias": torch.ones(2, dtype=torch.bfloat16)}
    one, two = tmp_path / "one.pth", tmp_path / "two.pth"
    torch.save({"meta": {"time": 1}, "state_dict": weights}, one)
    torch.save({"meta": {"time": 2}, "optimizer": {"lr": 0.1}, "state_dict": dict(reversed(weights.items()))}, two)
    h = C.model_sha256(one, tmp_path)
    assert C.sha256_file(one) != C.sha256_file(two) and C.model_sha256(two, tmp_path) == h
    assert h == C.model_sha256(one, tmp_path / "elsewhere")  # loaded as untrusted from outside the work dir: same

    def hashed(sd) -> str:
        torch.save({"state_dict": sd}, tmp_path / "x.pth")
        return C.model_sha256(tmp_path / "x.pth", tmp_path)

    variants = [{**weights, "b.bias": torch.tensor([1.0, 2.0], dtype=torch.bfloat16)},  # a value
                {**weights, "b.bias": torch.ones(2)},  # a dtype
                {**weights, "a.weight": weights["a.weight"].reshape(3, 2)},  # a shape, same bytes
                {**weights, "c": torch.zeros(0)}]  # one more (empty) tensor
    assert len({h, *map(hashed, variants)}) == 1 + len(variants)
    assert hashed({"a": torch.tensor([1.0, 2.0]), "b": torch.tensor([3.0])}) != hashed(
        {"a": torch.tensor([1.0]), "b": torch.tensor([2.0, 3.0])})


def test_model_sha256_of_arrays_and_other_formats(tmp_path):
    import numpy as np

    np.savez(tmp_path / "m.npz", coef=np.arange(3.0), kinds=np.array(["x", "y"]))
    np.savez(tmp_path / "n.npz", kinds=np.array(["x", "y"]), coef=np.arange(3.0))
    assert C.model_sha256(tmp_path / "m.npz", tmp_path) == C.model_sha256(tmp_path / "n.npz", tmp_path)
    np.savez(tmp_path / "o.npz", coef=np.arange(3.0) + 1, kinds=np.array(["x", "y"]))
    assert C.model_sha256(tmp_path / "o.npz", tmp_path) != C.model_sha256(tmp_path / "m.npz", tmp_path)
    for name, data in (("model.bin", b"a plugin's own format"), ("best.pt", b"weights"), ("svm.joblib", b"x")):
        (tmp_path / name).write_bytes(data)  # not readable as tensors: the file's own bytes name the model
        assert C.model_sha256(tmp_path / name, tmp_path) == hashlib.sha256(data).hexdigest()
    torch.save(torch.zeros(3), tmp_path / "tensor.pth")  # a torch file, but no dict of tensors
    assert C.model_sha256(tmp_path / "tensor.pth", tmp_path) == sha(tmp_path / "tensor.pth")


def test_model_sha256_runs_no_code_from_outside_the_work_dir(malicious_checkpoint, tmp_path):
    path, marker = malicious_checkpoint
    assert C.model_sha256(path, tmp_path / "work") == sha(path)  # refused as weights, hashed as bytes
    assert not marker.exists()


def test_state_dict_of_unwraps_containers_and_dataparallel():
    t = torch.zeros(1)
    assert list(C.state_dict_of({"state_dict": {"module.a.w": t, "module.b": t}, "epoch": 1})) == ["a.w", "b"]
    assert list(C.state_dict_of({"model": {"state_dict": {"x": t, "meta": "text"}}})) == ["x"]
    assert list(C.state_dict_of({"module.x": t, "y": t})) == ["module.x", "y"]  # not every key: kept


# --- load_into --------------------------------------------------------------------------------------


def small_net():
    return torch.nn.Sequential(torch.nn.Conv3d(3, 4, 3), torch.nn.BatchNorm3d(4), torch.nn.Conv3d(4, 8, 1),
                               torch.nn.Linear(8, 1))


def test_load_into_copies_matches_and_reports_the_rest():
    model = small_net()
    src = small_net()
    for p in src.parameters():
        torch.nn.init.normal_(p)
    sd = {f"net.{k}": v for k, v in src.state_dict().items()}
    sd["net.2.weight"] = torch.zeros(8, 4, 3, 3, 3)  # wrong shape
    sd["net.head.weight"] = torch.zeros(400, 8)  # dropped by the key map
    sd["net.extra.weight"] = torch.zeros(2)  # no place in the model

    def key_map(k):
        return None if k.startswith("net.head.") else k.removeprefix("net.")

    report = C.load_into(model, sd, key_map)
    # 0.weight 0.bias 1.weight 1.bias 1.running_mean 1.running_var 2.weight 2.bias 3.weight 3.bias (no counter)
    assert report.total == 10
    assert report.loaded == sorted(["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                    "2.bias", "3.weight", "3.bias"])
    assert report.missing == ["2.weight"]
    assert report.mismatched == [("2.weight", (8, 4, 3, 3, 3), (8, 4, 1, 1, 1))]
    assert report.dropped == ["net.head.weight"] and report.unexpected == ["net.extra.weight"]
    assert report.total_values == sum(v.numel() for k, v in model.state_dict().items() if "num_batches" not in k)
    assert report.loaded_values == report.total_values - 8 * 4
    for k in report.loaded:
        assert torch.equal(model.state_dict()[k], src.state_dict()[k]), k
    d = report.to_dict()
    assert (d["loaded"], d["total"], d["missing"], d["dropped"]) == (9, 10, ["2.weight"], ["net.head.weight"])
    assert d["mismatched"] == [{"key": "2.weight", "checkpoint": [8, 4, 3, 3, 3], "model": [8, 4, 1, 1, 1]}]
    summary = report.summary().splitlines()
    assert (report.loaded_values, report.total_values) == (361, 393)  # conv 324+4, bn 4x4, conv 32+8, fc 8+1
    assert summary[0] == "loaded 9/10 tensors (361 of 393 values)"
    assert summary[1:] == [
        "  left as initialised (1): 2 (1)",
        "  dropped from the checkpoint (1): net.head (1)",
        "  in the checkpoint, not in the model (1): net.extra (1)",
        "  shape mismatch, left as initialised (1): 2.weight (8,4,3,3,3) vs model (8,4,1,1,1)",
    ]


def test_load_into_keeps_the_models_memory_layout():
    model = small_net()
    model[0].weight.data = model[0].weight.data.contiguous(memory_format=torch.channels_last_3d)
    src = small_net()
    C.load_into(model, src.state_dict())
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert torch.equal(model[0].weight, src[0].weight)


def test_groups_coarsen_to_a_few_lines():
    keys = [f"backbone.layer{s}.{b}.se.fc{i}.{p}" for s in range(1, 5) for b in range(3) for i in (1, 2)
            for p in ("weight", "bias")] + ["cls_head.fc_cls.weight", "cls_head.fc_cls.bias"]
    groups = C.group_keys(keys, max_groups=6)
    assert groups == {"backbone.layer1.*.se": 12, "backbone.layer2.*.se": 12, "backbone.layer3.*.se": 12,
                      "backbone.layer4.*.se": 12, "cls_head.fc_cls": 2}
    assert C.format_groups(keys, 2) == "backbone (48), cls_head (2)"
    assert C.format_groups(["a.w", "a.b", "b.w", "c.w"], 2) == "a (2), b (1), +1 more groups"
