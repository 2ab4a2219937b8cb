"""ImageNet weights for XceptionNet, loaded as FaceForensics++ loads them, without running their code.

FF++ starts XceptionNet from ImageNet weights and replaces the 1000-way classifier by a new
layer; here the new layer is the single-logit ``fc`` the network already has, so the checkpoint's
``fc`` (timm's name) or ``last_linear`` (Cadene's, which FF++ loads) is dropped. Cadene's file
stores the pointwise convolutions as 2-D matrices; they are reshaped to 1x1 kernels, as FF++'s
``models.py`` does. Files are fetched and verified by :func:`dfbench.checkpoints.fetch` and read by
:func:`dfbench.checkpoints.load_untrusted` (plain tensors only: a pickle that names code is refused).
"""

from __future__ import annotations

from torch import nn

from dfbench import checkpoints
from dfbench.errors import DfbenchError

HEAD_PREFIXES = ("fc.", "last_linear.")  # the 1000-way ImageNet classifier, in timm's and Cadene's names


def _drop_head(key: str) -> str | None:
    return None if key.startswith(HEAD_PREFIXES) else key


def load_imagenet(model: nn.Module, source: str, sha256: str | None = None) -> dict:
    """Copy ImageNet Xception weights from ``source`` (path or URL) into ``model`` (a ``FrameClassifier``
    or its bare network); return a JSON-able report (``PretrainedWeightsHook``'s loader).

    Every tensor but the new head must load: anything else means the file is not Xception weights.
    """
    network = getattr(model, "network", model)
    path = checkpoints.fetch(source, sha256)
    state = checkpoints.state_dict_of(checkpoints.load_untrusted(path))
    state = {k: (v[..., None, None] if "pointwise" in k and v.ndim == 2 else v) for k, v in state.items()}
    report = checkpoints.load_into(network, state, key_map=_drop_head)
    left = [k for k in report.missing if not k.startswith(HEAD_PREFIXES)]
    if left or report.mismatched:
        first = (left or [m[0] for m in report.mismatched])[0]
        raise DfbenchError(f"{path}: not ImageNet weights for this Xception ({len(left)} tensors missing, "
                           f"{len(report.mismatched)} of another shape, e.g. {first}); give timm's legacy_xception "
                           "checkpoint, or leave --pretrained out")
    return dict(source=str(source), sha256=checkpoints.sha256_file(path), summary=report.summary(), **report.to_dict())
