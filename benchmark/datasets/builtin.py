"""The datasets dfbench ships, registered through ``register_datasets`` like any plugin's.

FaceForensics++ (``ffpp``) is the training dataset of every paper protocol; Celeb-DF v2, DFDC and
FF++'s DeepFakeDetection (``celebdf``, ``dfdc``, ``dfd``) are test datasets for ``cross-dataset``.
"""

from __future__ import annotations

from pathlib import Path

from dfbench import splits as S
from dfbench.datasets import DatasetSpec, celebdf, dfd, dfdc
from dfbench.hookspecs import hookimpl
from dfbench.layout import COMPRESSIONS, METHODS, REAL, DatasetRoot, method_dir, open_root
from dfbench.plan import split_videos


def _ffpp_test(ds: DatasetRoot, variant: str) -> list:
    """FF++'s official test split (or the root's own ``splits/``): real videos and the paper's four methods."""
    return split_videos(ds.path, variant, S.load(ds.path)["test"], METHODS)


def _ffpp_twin(out: Path, seed: int = 0, variant: str = "c40", progress=None, **kw) -> dict:
    from dfbench import synth

    return synth.generate(out, seed=seed, compression=variant, progress=progress, **kw)


FFPP = DatasetSpec(
    id="ffpp", title="FaceForensics++ (Rossler et al. 2019)",
    layout="original_sequences/youtube/<comp>/videos/<id>.mp4 and manipulated_sequences/<Method>/<comp>/videos/"
           "<target>_<source>.mp4, as the FF++ download script writes them",
    variants=COMPRESSIONS[::-1],  # c40 (the paper's LQ) first
    open=lambda root, variant: open_root(root, variant), test_videos=_ffpp_test,
    has_boxes=lambda root, variant: (method_dir(root, REAL, variant) / "boxes").is_dir(),
    twin=_ffpp_twin, trainable=True,
    boxes="the synthetic set ships <comp>/boxes/<name>.json; the real download ships none (a face finder finds them)",
    url="https://github.com/ondyari/FaceForensics",
    citation="Rossler et al., FaceForensics++: Learning to Detect Manipulated Facial Images, ICCV 2019",
)


@hookimpl
def register_datasets(register):
    register(FFPP)
    for spec in (celebdf.SPEC, dfdc.SPEC, dfd.SPEC):
        register(spec)
