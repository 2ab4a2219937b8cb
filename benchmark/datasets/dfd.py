"""Google/Jigsaw's DeepFakeDetection (DFD), as the FaceForensics++ download script distributes it::

    original_sequences/actors/<comp>/videos/<NN>__<scene>.mp4                         paid actors, filmed
    manipulated_sequences/DeepFakeDetection/<comp>/videos/<NN>_<MM>__<scene>__<CODE>.mp4   NN's video, MM's face

``<comp>`` is ``c40`` (the default variant), ``c23`` or ``raw`` as for FF++ (the script's
``-d DeepFakeDetection_original -d DeepFakeDetection -c <comp>``); the layout is the one FF++'s
README and download script document (https://github.com/ondyari/FaceForensics) and the one
DeepfakeBench's preprocessing reads. DFD has no official split: every video on disk is a test video
(real ones, then fakes, each sorted by name). Keys are ``<method>/<stem>`` with the methods
``actors`` (label 0) and ``DeepFakeDetection`` (label 1); the identity group is the actor ``<NN>``:
the target, the first number, for a fake. FF++ ships no boxes for DFD; the synthetic twin writes
``<comp>/boxes/<name>.json`` beside ``videos/``, where the ``dataset`` face finder reads them.
"""

from __future__ import annotations

import re
from pathlib import Path

from dfbench.datasets import DatasetSpec
from dfbench.datasets._common import require_dir, synthetic_manifest
from dfbench.errors import DfbenchError
from dfbench.layout import DatasetRoot
from dfbench.plan import PlannedVideo

ID = "dfd"
REAL, FAKE = "actors", "DeepFakeDetection"
VARIANTS = ("c40", "c23", "raw")
NAMES = {REAL: (re.compile(r"^(\d+)__(.+)$"), "<NN>__<scene>.mp4"),
         FAKE: (re.compile(r"^(\d+)_(\d+)__(.+)__([A-Za-z0-9]+)$"), "<NN>_<MM>__<scene>__<CODE>.mp4")}
WHAT = "original_sequences/actors/ and manipulated_sequences/DeepFakeDetection/ (the FF++ download folder)"


def method_dir(root: Path, method: str, variant: str) -> Path:
    """The ``<comp>`` folder of ``actors`` or ``DeepFakeDetection``."""
    if method == REAL:
        return Path(root) / "original_sequences" / REAL / variant
    return Path(root) / "manipulated_sequences" / FAKE / variant


def open_root(root: Path, variant: str = "c40") -> DatasetRoot:
    root = require_dir(root, WHAT)
    if variant not in VARIANTS:
        raise DfbenchError(f"dataset dfd has no variant {variant!r}; it has {', '.join(VARIANTS)}")
    for method, script in ((REAL, "DeepFakeDetection_original"), (FAKE, "DeepFakeDetection")):
        videos = method_dir(root, method, variant) / "videos"
        if not videos.is_dir():
            raise DfbenchError(f"{root}: no {videos.relative_to(root)}/ folder, so this is not DFD's {variant} layout; "
                               f"download it with the FF++ script (-d {script} -c {variant}) into this folder, "
                               "or choose another variant")
    return DatasetRoot(root, synthetic_manifest(root, ID), dataset=ID)


def group_of(method: str, stem: str) -> str:
    """The actor ``<NN>`` of a real video, the target (first number) of a fake."""
    return NAMES[method][0].match(stem).group(1)


def test_videos(ds: DatasetRoot, variant: str = "c40") -> list[PlannedVideo]:
    """Every video on disk: the actors' real videos, then the fakes, each sorted by name."""
    out: list[PlannedVideo] = []
    for label, method in enumerate((REAL, FAKE)):
        pattern, shape = NAMES[method]
        for path in sorted((method_dir(ds.path, method, variant) / "videos").glob("*.mp4")):
            if not pattern.match(path.stem):
                raise DfbenchError(f"{path}: not named as DFD names its {method} videos ({shape}); rename the file "
                                   "or move it out of the dataset")
            out.append(PlannedVideo(f"{method}/{path.stem}", method, label, path, group_of(method, path.stem)))
    return out


def has_boxes(root: Path, variant: str = "c40") -> bool:
    return (method_dir(root, REAL, variant) / "boxes").is_dir()


def twin(out: Path, seed: int = 0, variant: str = "c40", progress=None, **kw) -> dict:
    from dfbench.synth.twins import write_twin

    return write_twin(ID, out, seed, variant, progress, **kw)


SPEC = DatasetSpec(
    id=ID, title="DeepFakeDetection (Google/Jigsaw 2019, distributed with FF++)",
    layout="original_sequences/actors/<comp>/videos/<NN>__<scene>.mp4 and manipulated_sequences/DeepFakeDetection/"
           "<comp>/videos/<NN>_<MM>__<scene>__<CODE>.mp4, as the FF++ download script writes them; no split: "
           "every video is a test video",
    variants=VARIANTS, open=open_root, test_videos=test_videos, has_boxes=has_boxes, twin=twin,
    boxes="none shipped: a face finder finds the faces; the synthetic twin ships <comp>/boxes/<name>.json",
    url="https://github.com/ondyari/FaceForensics",
    citation="Dufour and Gully, Contributing Data to Deepfake Detection Research, Google AI Blog, 2019",
)
