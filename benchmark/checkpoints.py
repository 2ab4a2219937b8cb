"""Checkpoint files: fetched and verified, loaded without running their code, copied into a model.

The one place that decides how dfbench unpickles a checkpoint, for every plugin:

* **Untrusted** files (pretrained weights such as Kinetics checkpoints, a user's file, anything
  outside the current run's ``work_dir``) load as ``.safetensors`` or with
  ``torch.load(weights_only=True)``: tensors and plain containers only. A file that would run code
  is refused (:class:`CheckpointRefusedError`), and nothing in it runs. ``weights_only=True`` is
  also torch's own default since 2.6; stating it keeps the policy independent of the installed torch.
* **dfbench's own** checkpoints, i.e. files *under the run's work_dir*, which this run wrote, load
  with ``weights_only=False`` (:func:`load_run_checkpoint`). They must: MMEngine 0.10.7 stores its
  message hub (``HistoryBuffer`` objects) and numpy scalars in its Runner's checkpoints, which
  ``weights_only=True`` refuses, and allow-listing those classes does not get through. Trusting
  them trusts nobody new: dfbench wrote them into a folder its run owns. Containment is checked on
  resolved paths, so a symlink out of the work_dir is untrusted again. How MMEngine itself is made
  to load and save through this policy is the MMEngine base's business
  (:mod:`dfbench_mmaction.checkpoints`): the core imports no framework.

URLs are cached where torch's hub keeps downloads (``torch.hub.get_dir()/checkpoints``, the folder
face-alignment and torchvision use too), so a file put there by hand is found offline. torch is
imported inside the functions that need it: the core stays importable without it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from dfbench.errors import DfbenchError

# torch hub's convention: ``name-<first hex digits of the sha256>.ext`` (torch.hub.HASH_REGEX, which
# accepts an empty prefix; six digits at least here, so "-100e." or "-cafe." in a name is not a hash).
HASH_IN_NAME = re.compile(r"-([a-f0-9]{6,64})\.")
DOWNLOAD_TIMEOUT_S = 30  # per socket operation: an offline machine fails in seconds, not minutes
WRAPPER_KEYS = ("state_dict", "model", "module")  # containers checkpoints commonly put tensors in
DP_PREFIX = "module."  # what (Distributed)DataParallel prepends to every key
TORCH_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin", ".safetensors")  # files model_sha256 reads as tensors


class CheckpointRefusedError(DfbenchError, pickle.UnpicklingError):
    """A checkpoint that would run code when unpickled; it was not loaded (nothing in it ran)."""


# --- fetching ---------------------------------------------------------------------------------------


def is_url(source: str) -> bool:
    return urlparse(str(source)).scheme in ("http", "https")


def hub_checkpoint_dir() -> Path:
    """Where downloaded checkpoints are cached: ``torch.hub.get_dir()/checkpoints`` ($TORCH_HOME/hub/...)."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def file_name(url: str) -> str:
    """The cache file name of a URL: its fragment if it has one (``page#file.pth``), else its base name."""
    parsed = urlparse(url)
    return unquote(parsed.fragment or Path(parsed.path).name)


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_sha256(path: str | os.PathLike, work_dir: str | os.PathLike) -> str:
    """The sha256 of the model a checkpoint holds, not of its file: each tensor's name, dtype, shape and
    bytes, in name order (a torch file, unwrapped by :func:`state_dict_of`), or each array of an ``.npz``;
    any other file (a plugin's own format, a torch file with no tensors), its bytes. MMEngine writes the
    time, the optimizer state and its message hub beside the weights, so the same weights trained again
    never give the same *file*; they give this hash. A file outside ``work_dir`` loads as untrusted
    (:func:`load_run_checkpoint`)."""
    path = Path(path)
    if path.suffix == ".npz":
        import numpy as np

        with np.load(path, allow_pickle=False) as z:
            return _arrays_sha256((k, str(z[k].dtype), z[k].shape, np.ascontiguousarray(z[k]).tobytes())
                                  for k in z.files)
    if path.suffix not in TORCH_SUFFIXES:
        return sha256_file(path)
    import torch

    try:
        loaded = load_untrusted(path) if path.suffix == ".safetensors" else load_run_checkpoint(path, work_dir)
        tensors = state_dict_of(loaded) if isinstance(loaded, Mapping) else {}
    except (DfbenchError, pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError):
        tensors = {}  # not a torch file (a plugin's own format), or one that would run code: nothing ran
    if not tensors:
        return sha256_file(path)
    return _arrays_sha256((k, str(t.dtype), tuple(t.shape),
                           t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
                          for k, t in tensors.items())


def _arrays_sha256(arrays) -> str:
    """One sha256 over ``(name, dtype, shape, bytes)`` entries, sorted by name; each field delimited, so
    moving bytes from one tensor to the next changes the hash."""
    h = hashlib.sha256()
    for name, dtype, shape, data in sorted(arrays, key=lambda a: a[0]):
        h.update(f"{name}\0{dtype}\0{list(shape)}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def fetch(source: str, sha256: str | None = None) -> Path:
    """The local file of a checkpoint ``source`` (a path or an http(s) URL), verified.

    A path is returned as it is (an error if missing). A URL is looked up in, or downloaded into,
    :func:`hub_checkpoint_dir` under :func:`file_name`. The file is checked against ``sha256`` when
    given, else against the hash prefix its name carries (``name-<hex>.pth``), else not at all.
    A URL with a fragment (``https://drive.google.com/...#resnet-101-kinetics.pth``) names a page
    that offers the file but cannot be downloaded from directly (Google Drive): it is only looked
    up in the cache, and the error says where to put it. Any failure is one line naming the URL,
    the file name and the folder to put the file in by hand.
    """
    if not is_url(source):
        path = Path(source).expanduser()
        if not path.is_file():
            raise DfbenchError(f"{path}: checkpoint file not found; give an existing file, a URL, or --pretrained none")
        _verify(path, sha256, None, source)
        return path
    name = file_name(source)
    if not name:
        raise DfbenchError(f"{source}: the URL names no file; end it with the file's name")
    folder = hub_checkpoint_dir()
    dest = folder / name
    prefix = None if sha256 else _hash_prefix(name)
    if dest.is_file():
        _verify(dest, sha256, prefix, source)
        return dest
    page = source.split("#", 1)[0]
    if urlparse(source).fragment:
        raise DfbenchError(f"{name} is not in {folder}: download it from {page} (no direct download link) "
                           f"and put it in {folder}, or pass --pretrained PATH")
    try:
        _download(source, dest, sha256, prefix)
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = f"HTTP {e.code} {e.reason}" if isinstance(e, urllib.error.HTTPError) else getattr(e, "reason", e)
        raise DfbenchError(f"{source}: download failed ({reason}); offline? download it elsewhere and put {name} "
                           f"in {folder}, or pass --pretrained PATH") from None
    return dest


def _hash_prefix(name: str) -> str | None:
    m = HASH_IN_NAME.search(name)
    return m.group(1) if m else None


def _mismatch(digest: str, sha256: str | None, prefix: str | None) -> str | None:
    if sha256 and digest != sha256.lower():
        return f"sha256 {digest} is not the expected {sha256}"
    if prefix and not digest.startswith(prefix):
        return f"sha256 {digest[:12]}... does not start with the {prefix} its name carries"
    return None


def _verify(path: Path, sha256: str | None, prefix: str | None, source: str) -> None:
    if not sha256 and not prefix:
        return
    problem = _mismatch(sha256_file(path), sha256, prefix)
    if problem:
        fix = f"delete it and fetch {source} again" if is_url(source) else "check you have the right file"
        raise DfbenchError(f"{path}: {problem}; {fix}")


def _download(url: str, dest: Path, sha256: str | None, prefix: str | None) -> None:
    """Stream ``url`` into a temporary file beside ``dest``, hash it, and move it in place only if it verifies."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".partial")
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            for block in iter(lambda: response.read(1 << 20), b""):
                h.update(block)
                out.write(block)
        problem = _mismatch(h.hexdigest(), sha256, prefix)
        if problem:
            raise DfbenchError(f"{url}: the download's {problem}; not kept (a changed or broken file at that URL)")
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


# --- loading ----------------------------------------------------------------------------------------


def load_untrusted(path: str | os.PathLike, map_location="cpu") -> dict:
    """A checkpoint from outside dfbench, as a dict: ``.safetensors``, or a torch file of plain tensors.

    Raises :class:`CheckpointRefusedError` (nothing in the file runs) for a pickle that names code.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise DfbenchError(f"{path}: reading .safetensors needs the safetensors package: "
                               "pip install safetensors") from None
        try:
            return dict(load_file(str(path), device=map_location if isinstance(map_location, str) else "cpu"))
        except Exception as e:  # safetensors raises its own SafetensorError and OSError
            raise DfbenchError(f"{path}: not a readable .safetensors file ({e})") from None
    import torch

    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        m = re.search(r"WeightsUnpickler error:\s*([^\n]+)", str(e))
        what = re.split(r" was not an allowed|\. ", m.group(1))[0].strip() if m else "not plain tensors"
        if what.startswith("Unsupported operand"):  # not a pickle at all: garbage, or a truncated download
            raise DfbenchError(f"{path}: not a readable checkpoint ({what}); download it again") from None
        raise CheckpointRefusedError(
            f"{path}: refused: loading it would run code ({what}); only plain-tensor checkpoints (torch.save of "
            "a state dict) and .safetensors files are loaded") from None
    except FileNotFoundError:
        raise DfbenchError(f"{path}: checkpoint file not found") from None
    except (RuntimeError, OSError, EOFError, ValueError) as e:
        first = (str(e).strip().splitlines() or [""])[0]  # an empty file's error has no text at all
        raise DfbenchError(f"{path}: not a readable checkpoint ({type(e).__name__}{': ' + first if first else ''}); "
                           "download it again") from None
    if not isinstance(obj, Mapping):
        raise DfbenchError(f"{path}: holds a {type(obj).__name__}, not a dict of tensors")
    return dict(obj)


def state_dict_of(checkpoint: Mapping) -> dict:
    """The tensors of a loaded checkpoint, unwrapped from the usual containers.

    Descends into ``state_dict`` / ``model`` / ``module`` entries (MMEngine, Hara et al. and
    timm-style files), keeps only tensors, and strips a ``module.`` prefix that *every* key carries
    (a model saved inside (Distributed)DataParallel).
    """
    import torch

    sd = checkpoint
    while True:
        inner = next((sd[k] for k in WRAPPER_KEYS if isinstance(sd.get(k), Mapping)), None)
        if inner is None:
            break
        sd = inner
    tensors = {str(k): v for k, v in sd.items() if isinstance(v, torch.Tensor)}
    if tensors and all(k.startswith(DP_PREFIX) for k in tensors):
        tensors = {k[len(DP_PREFIX):]: v for k, v in tensors.items()}
    return tensors


# --- copying into a model ---------------------------------------------------------------------------

KeyMap = Callable[[str], "str | None"] | Mapping[str, "str | None"]
IGNORED_SUFFIX = "num_batches_tracked"  # BatchNorm's step counter: not learnt, absent from old files


@dataclass
class LoadReport:
    """What :func:`load_into` copied. Keys are the model's names, except ``unexpected`` and ``dropped``
    (the checkpoint's). BatchNorm's ``num_batches_tracked`` counters are left out of every count."""

    loaded: list[str]
    total: int  # the model's tensors (parameters and buffers)
    loaded_values: int
    total_values: int
    missing: list[str]  # model tensors left as initialised
    unexpected: list[str]  # checkpoint tensors with no counterpart in the model
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]]  # (model key, checkpoint shape, model shape)
    dropped: list[str] = field(default_factory=list)  # checkpoint tensors the key map discards (e.g. a 400-way head)

    def summary(self, max_groups: int = 6) -> str:
        """A few lines: the counts, then each non-empty category grouped by module prefix."""
        lines = [f"loaded {len(self.loaded)}/{self.total} tensors ({_count(self.loaded_values)} of "
                 f"{_count(self.total_values)} values)"]
        for label, keys in (("left as initialised", self.missing), ("dropped from the checkpoint", self.dropped),
                            ("in the checkpoint, not in the model", self.unexpected)):
            if keys:
                lines.append(f"  {label} ({len(keys)}): {format_groups(keys, max_groups)}")
        if self.mismatched:
            shown = "; ".join(f"{k} {_shape(a)} vs model {_shape(b)}" for k, a, b in self.mismatched[:3])
            more = f"; +{len(self.mismatched) - 3} more" if len(self.mismatched) > 3 else ""
            lines.append(f"  shape mismatch, left as initialised ({len(self.mismatched)}): {shown}{more}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return dict(loaded=len(self.loaded), total=self.total, loaded_values=self.loaded_values,
                    total_values=self.total_values, missing=list(self.missing), unexpected=list(self.unexpected),
                    mismatched=[dict(key=k, checkpoint=list(a), model=list(b)) for k, a, b in self.mismatched],
                    dropped=list(self.dropped), groups={"missing": group_keys(self.missing),
                                                        "dropped": group_keys(self.dropped),
                                                        "unexpected": group_keys(self.unexpected)})


def load_into(model, state_dict: Mapping, key_map: KeyMap | None = None) -> LoadReport:
    """Copy into ``model`` every tensor of ``state_dict`` whose mapped name and shape match; report the rest.

    ``key_map`` turns a checkpoint name into the model's (a function or a dict; ``None`` from it
    drops the tensor on purpose; names a dict lacks stay as they are). Values are cast to the
    model's dtype and keep its memory layout. ``model`` is the bare module, not a DDP wrapper.
    """
    target = {k: v for k, v in model.state_dict().items() if not k.endswith(IGNORED_SUFFIX)}
    mapper = _mapper(key_map)
    take, unexpected, mismatched, dropped = {}, [], [], []
    for src, tensor in state_dict.items():
        if src.endswith(IGNORED_SUFFIX):
            continue
        dst = mapper(src)
        if dst is None:
            dropped.append(src)
        elif dst not in target:
            unexpected.append(src)
        elif tuple(target[dst].shape) != tuple(tensor.shape):
            mismatched.append((dst, tuple(tensor.shape), tuple(target[dst].shape)))
        else:
            take[dst] = tensor
    model.load_state_dict(take, strict=False)
    return LoadReport(
        loaded=sorted(take), total=len(target), loaded_values=sum(t.numel() for t in take.values()),
        total_values=sum(t.numel() for t in target.values()), missing=[k for k in target if k not in take],
        unexpected=unexpected, mismatched=mismatched, dropped=dropped)


def _mapper(key_map: KeyMap | None) -> Callable[[str], str | None]:
    if key_map is None:
        return lambda k: k
    if isinstance(key_map, Mapping):
        return lambda k: key_map.get(k, k)
    return key_map


def _count(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else str(n)


def _shape(shape) -> str:
    return "(" + ",".join(str(int(s)) for s in shape) + ")"


def group_keys(keys: list[str], max_groups: int = 6) -> dict[str, int]:
    """Tensor names counted by module pattern (block indices as ``*``), coarsened until at most
    ``max_groups`` patterns remain: ``backbone.layer1.*.se.fc1`` ... -> ``backbone.layer1.*.se``."""
    patterns = [re.sub(r"\.\d+(?=\.|$)", ".*", k.rsplit(".", 1)[0] if "." in k else k) for k in keys]
    depth = max((p.count(".") + 1 for p in patterns), default=0)
    while True:
        groups: dict[str, int] = {}
        for p in patterns:
            head = ".".join(p.split(".")[:depth])
            groups[head] = groups.get(head, 0) + 1
        if len(groups) <= max_groups or depth <= 1:
            return groups
        depth -= 1


def format_groups(keys: list[str], max_groups: int = 6) -> str:
    groups = sorted(group_keys(keys, max_groups).items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{p} ({n})" for p, n in groups[:max_groups])
    return shown + (f", +{len(groups) - max_groups} more groups" if len(groups) > max_groups else "")


# --- dfbench's own Runner checkpoints ------------------------------------------------------------------


def is_inside(path: str | os.PathLike, work_dir: str | os.PathLike) -> bool:
    """Whether ``path`` (symlinks resolved) lies inside ``work_dir``."""
    return Path(path).resolve().is_relative_to(Path(work_dir).resolve())


def load_run_checkpoint(path: str | os.PathLike, work_dir: str | os.PathLike, map_location="cpu"):
    """Load a checkpoint dfbench's Runner wrote under ``work_dir``; any other file as untrusted."""
    if not is_inside(path, work_dir):
        return load_untrusted(path, map_location)
    import torch

    return torch.load(path, map_location=map_location, weights_only=False)
