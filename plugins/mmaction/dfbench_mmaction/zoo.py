"""MMAction2's model zoo as dfbench detectors with no code: ``--detector mmaction2:<config>``.

``<config>`` is a path relative to the recognition configs MMAction2 ships inside its wheel
(``mmaction/.mim/configs/recognition/``, e.g. ``x3d/x3d_s_13x6x1_facebook-kinetics400-rgb``,
``.py`` optional) or a path to a user's own MMAction2 config file (named ``mmaction2:<file stem>``).
:func:`resolve` takes the config's recognizer, replaces its head by the built-in detectors'
one-logit ``BinaryClsHead`` (same input width), makes it build offline (no ImageNet/CLIP download,
SyncBN as BN) and trains it with exactly the built-in 3D CNNs' recipe through the MMEngine base
(:func:`dfbench_mmaction.detector.recipe`).

Sizes: ``paper`` feeds the config's own input (its sampler's clip length; its test crop);
``cpu`` feeds 16x64x64 clips where the architecture allows it (segment counts, frame counts and
image sizes of the config follow the input) and, where it does not, the nearest input it takes,
with a one-line note that ``dfbench run`` prints. ``--pretrained auto`` (paper size) is the
checkpoint MMAction2's ``metafile.yml`` lists for the config, fetched and loaded by dfbench's safe
loader. Listing the zoo (:func:`available`) imports nothing heavy; :func:`resolve` imports torch
and MMAction2 and builds the network on the meta device to count its parameters.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
from functools import partial
from pathlib import Path

from dfbench.detector import Checkpoint, DetectorMeta, DetectorSpec, SizeSpec
from dfbench.errors import DfbenchError

PREFIX = "mmaction2"
MMACTION2 = (
    "MMAction2 Contributors: OpenMMLab's next generation video understanding toolbox and benchmark. "
    "https://github.com/open-mmlab/mmaction2 (2020)"
)
CPU_INPUT = (16, 64)  # the cpu size's clip length and crop, as the built-in detectors'
RECOGNIZERS = ("Recognizer3D", "Recognizer2D")
# Backbones fully convolutional in time (global pooling at the end): a whole 250-frame trunk is one
# input, as for the built-in 3D CNNs. Every other one is fed clips of its training length.
WHOLE_TRUNK = frozenset({"ResNet3d", "ResNet3dSlowOnly", "ResNet3dCSN", "ResNet2Plus1d", "X3D", "C2D"})
TEMPORAL_KEYS = ("num_segments", "num_frames", "t_size", "temporal_size")  # follow the clip length
DOWNLOAD_FLAGS = ("pretrained2d", "torchvision_pretrain", "clip_pretrained")  # True: weights fetched when built
SPATIAL_KEYS = ("img_size", "input_resolution", "spatial_size")  # follow the crop size
DEFAULT_PIXELS = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])


def recognition_dir() -> Path | None:
    """MMAction2's shipped recognition configs, found without importing mmaction."""
    spec = importlib.util.find_spec("mmaction")
    for base in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(base) / ".mim" / "configs" / "recognition"
        if folder.is_dir():
            return folder
    return None


def available() -> list[str]:
    """Every shipped recognition config as ``<family>/<name>`` (what ``mmaction2:`` takes)."""
    root = recognition_dir()
    if root is None:
        return []
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.py")
                  if "__pycache__" not in p.parts and not any(part.startswith("_") for part in p.parts))


def locate(ref: str) -> tuple[Path, str, str]:
    """``(config file, detector name, family)`` of a ref: a shipped config, else a user's file."""
    root = recognition_dir()
    stem = ref.removesuffix(".py")
    if root is not None and (root / f"{stem}.py").is_file() and not Path(ref).is_absolute():
        return root / f"{stem}.py", f"{PREFIX}:{stem}", stem.split("/", 1)[0]
    own = Path(ref).expanduser()
    if own.suffix == ".py" and own.is_file():
        return own.resolve(), f"{PREFIX}:{own.stem}", PREFIX
    where = "no mmaction2 installed" if root is None else f"{len(available())} configs under {root}"
    raise DfbenchError(f"{PREFIX}:{ref}: no such MMAction2 recognition config ({where}; `dfbench detectors --zoo` "
                       "lists them) and no such .py file")


def resolve(ref: str) -> DetectorSpec:
    """The detector of one MMAction2 config: its metadata (sizes, exact parameter counts, metafile
    checkpoint and paper) and a factory that trains it with the built-in detectors' recipe."""
    path, name, family = locate(ref)
    from mmengine.config import Config

    try:
        cfg = Config.fromfile(str(path))
    except Exception as e:  # a config that needs modules or files this machine lacks
        raise DfbenchError(f"{name}: MMAction2 could not read {path} ({type(e).__name__}: {e})") from None
    model = cfg.get("model")
    if not model or model.get("type") not in RECOGNIZERS or "cls_head" not in model:
        kind = model.get("type") if model else "no model"
        raise DfbenchError(f"{name}: a {kind} config; dfbench trains RGB {' and '.join(RECOGNIZERS)} configs")
    model = model.to_dict()
    two_d = model["type"] == "Recognizer2D"
    input_format = "NCHW" if two_d else "NCTHW"
    trunk_input = "whole" if not two_d and model["backbone"]["type"] in WHOLE_TRUNK else "clips"
    own = config_input(cfg, two_d)
    models, sizes = {}, {}
    cpu_inputs = list(dict.fromkeys([CPU_INPUT, (own[0], CPU_INPUT[1]), (CPU_INPUT[0], own[1]), own]))
    for size, candidates in (("paper", [own]), ("cpu", cpu_inputs)):
        why_not = None  # why the first input tried did not go through
        for clip_len, crop in candidates:
            adapted = adapt(model, clip_len, crop, input_format, dropout=0.0 if size == "cpu" else None)
            parameters, problem = probe(adapted, clip_len, crop, input_format, run=size == "cpu")
            if problem is None:
                break
            why_not = why_not or problem
        else:
            raise DfbenchError(f"{name}: the network takes none of the inputs tried at size {size} ({why_not})")
        note = "" if why_not is None else (f"feeds {clip_len}x{crop}x{crop} clips: the architecture takes no "
                                           f"{CPU_INPUT[0]}x{CPU_INPUT[1]}x{CPU_INPUT[1]} clip ({why_not})")
        models[size] = adapted
        sizes[size] = SizeSpec(clip_len, crop, parameters, note=note)
    checkpoint, citation = metafile_entry(path, name)
    meta = DetectorMeta(
        name=name, family=family, input_kind="clip", sizes=sizes, citation=citation, checkpoint=checkpoint,
        description=f"MMAction2's {path.stem} ({model['type']}, {model['backbone']['type']}) with dfbench's "
                    f"one-logit head; test trunks fed {'whole' if trunk_input == 'whole' else 'as clips'}")
    return DetectorSpec(meta=meta, build=partial(build, models, input_format, trunk_input))


def build(models: dict[str, dict], input_format: str, trunk_input: str, meta: DetectorMeta, size: str):
    """A zoo detector at ``size``: the MMEngine base's MMAction2 detector around the adapted model."""
    from dfbench_mmaction.detector import MMActionDetector

    return MMActionDetector(meta, size, model=models[size], input_format=input_format, trunk_input=trunk_input)


def config_input(cfg, two_d: bool) -> tuple[int, int]:
    """The config's own input: its sampler's clip length (times segments for a 2D recognizer) and its
    test crop (else the training resize), from its train/val/test pipelines."""
    pipelines = [cfg.get(k) or [] for k in ("train_pipeline", "val_pipeline", "test_pipeline")]
    clip_len = crop = None
    for step in (s for p in pipelines for s in p):
        if clip_len is None and "Sample" in str(step.get("type")) and "clip_len" in step:
            clip_len = int(step["clip_len"]) * (int(step.get("num_clips", 1)) if two_d else 1)
    for step in (s for p in reversed(pipelines) for s in p):
        if crop is None and "crop_size" in step and step.get("type") in ("CenterCrop", "ThreeCrop", "TenCrop"):
            size = step["crop_size"]
            crop = int(size if isinstance(size, int) else size[0])
    for step in (s for p in pipelines for s in p):
        if crop is None and step.get("type") == "Resize" and step.get("keep_ratio") is False:
            crop = int(step["scale"][0])
    return clip_len or 16, crop or 224


def adapt(model: dict, clip_len: int, crop: int, input_format: str, dropout: float | None) -> dict:
    """The config's recognizer for dfbench: the one-logit head, offline, sized for ``clip_len`` x ``crop``."""
    from mmaction.registry import MODELS

    m = copy.deepcopy(model)
    m.pop("train_cfg", None)
    m.pop("test_cfg", None)
    _offline(m, "BN" if input_format == "NCHW" else "BN3d")
    backbone = m["backbone"]
    accepted = inspect.signature(MODELS.get(backbone["type"]).__init__).parameters
    for key in DOWNLOAD_FLAGS:  # class defaults count too (ResNetTSM inflates torchvision's ResNet by default)
        if key in accepted or key in backbone:
            backbone[key] = False
    for keys, value in ((TEMPORAL_KEYS, clip_len), (SPATIAL_KEYS, crop)):
        for key in keys:
            if key in accepted or key in backbone:
                backbone[key] = value
    head = m["cls_head"]
    m["cls_head"] = dict(type="BinaryClsHead", in_channels=int(head["in_channels"]), init_std=0.01,
                         dropout_ratio=head.get("dropout_ratio", 0.5) if dropout is None else dropout,
                         loss_cls=dict(type="ClassWeightedBCELoss", class_weight=None))
    pixels = m.get("data_preprocessor") or {}
    m["data_preprocessor"] = dict(type="ActionDataPreprocessor", mean=pixels.get("mean", DEFAULT_PIXELS["mean"]),
                                  std=pixels.get("std", DEFAULT_PIXELS["std"]), format_shape=input_format)
    return m


def _offline(node, bn: str) -> None:
    """No download when built (pretrained ImageNet/CLIP weights off), and BN where SyncBN needs a GPU group."""
    if isinstance(node, list):
        for item in node:
            _offline(item, bn)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("pretrained"), str):
        node["pretrained"] = None
    for key in DOWNLOAD_FLAGS:
        if node.get(key):
            node[key] = False
    init = node.get("init_cfg")
    if isinstance(init, dict) and init.get("type") == "Pretrained":
        node.pop("init_cfg")
    elif isinstance(init, list):
        node["init_cfg"] = [i for i in init if not (isinstance(i, dict) and i.get("type") == "Pretrained")]
    if node.get("type") == "SyncBN":
        node["type"] = bn
    for value in node.values():
        _offline(value, bn)


def probe(model: dict, clip_len: int, crop: int, input_format: str, run: bool) -> tuple[int, str | None]:
    """``(parameters, problem)``: the network's exact parameter count, built on the meta device, and
    (``run``) why one ``clip_len`` x ``crop`` clip does not go through it (None: it does)."""
    import torch
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope

    from dfbench_mmaction import models as _  # noqa: F401  (BinaryClsHead, the loss)

    init_default_scope("mmaction")
    shape = (1, clip_len, 3, crop, crop) if input_format == "NCHW" else (1, 1, 3, clip_len, crop, crop)
    problem = None
    for device in ("meta", "cpu") if run else ("meta",):
        with torch.device(device):
            net = MODELS.build(copy.deepcopy(model)).eval()
        parameters = sum(p.numel() for p in net.parameters())
        if not run:
            return parameters, None
        try:
            with torch.no_grad():
                out, _ = net.extract_feat(torch.zeros(shape, device=device), stage="head")
            if tuple(out.shape) != (1, 1):
                raise ValueError(f"the head gave {tuple(out.shape)} logits, not one")
            return parameters, None
        except Exception as e:  # noqa: BLE001  (any failure means: not this input)
            problem = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
    return parameters, problem


def metafile_entry(path: Path, name: str) -> tuple[Checkpoint | None, str]:
    """The Kinetics checkpoint MMAction2's ``metafile.yml`` lists for a config, and the paper it cites."""
    import yaml

    metafile = path.parent / "metafile.yml"
    if not metafile.is_file():
        return None, f"{MMACTION2} (config {path.name})"
    data = yaml.safe_load(metafile.read_text()) or {}
    entry = next((m for m in data.get("Models", []) if str(m.get("Config", "")).endswith(f"/{path.name}")), None)
    if entry is None:
        return None, f"{MMACTION2} (config {path.name})"
    collection = next((c for c in data.get("Collections", []) if c.get("Name") == entry.get("In Collection")), {})
    paper = collection.get("Paper") or {}
    citation = f"{paper.get('Title', '').strip()} {paper.get('URL', '')}".strip()
    citation = f"{citation}; as shipped by {MMACTION2}" if citation else MMACTION2
    weights = entry.get("Weights")
    dataset = ((entry.get("Results") or [{}])[0] or {}).get("Dataset", "")
    checkpoint = Checkpoint(source=weights, description=f"MMAction2 model zoo: {entry.get('Name')} ({dataset})"
                            ) if isinstance(weights, str) and weights.startswith("http") else None
    return checkpoint, citation
