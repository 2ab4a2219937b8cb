"""The numbers the seed study reports, as typed rows, for the leaderboard's reference rows.

The data ship with the package as ``data/seed_paper/results.csv`` (long form, one value a row;
its README says what each table is). Torch-free and pandas-free: only the standard library.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

CITATION = (
    'A. Roy, D. Joshi, A. Das, A. Dantcheva, "3D CNN Architectures and Attention Mechanisms for '
    'Deepfake Detection", in Handbook of Digital Face Manipulation and Detection, Springer 2022, '
    "doi:10.1007/978-3-030-87664-7_10"
)

# The image baselines' rows (paper Tables 2 and 4) are not the study's own runs: it quotes them
# from the FaceForensics++ paper.
QUOTED_FROM = 'Rössler et al., "FaceForensics++: Learning to Detect Manipulated Facial Images", ICCV 2019'
QUOTED_DETECTORS = frozenset({"steg_svm", "cozzolino", "bayar_stamm", "rahmouni", "mesonet", "xception"})

# What the paper leaves open about a detector's reference rows; the leaderboard shows it.
VARIANT_NOTES = {"mesonet": "variant not stated"}

_RESOURCE = "data/seed_paper/results.csv"
_COLUMNS = ["table", "protocol", "detector", "paper_name", "train", "test", "metric", "value"]


@dataclass(frozen=True)
class ReferenceRow:
    """One reported number.

    ``tcr`` is in percent (as printed in the paper), ``auc`` a fraction, ``parameters`` a count.
    ``train`` and ``test`` are manipulation method names (empty for table6, which has none).
    """

    table: str  # "table2" ... "table6"
    protocol: str  # "all" | "single" | "cross" | "-" (table6)
    detector: str  # dfbench's detector name
    paper_name: str  # the row label in the paper
    train: tuple[str, ...]
    test: tuple[str, ...]
    metric: str  # "tcr" | "auc" | "parameters"
    value: float

    @property
    def quoted(self) -> bool:
        """True for rows the study quotes from Rössler et al. 2019 rather than measured itself."""
        return self.detector in QUOTED_DETECTORS

    @property
    def label(self) -> str:
        """The paper's row label, with what the paper leaves unsaid (e.g. MesoNet's variant)."""
        note = VARIANT_NOTES.get(self.detector)
        return f"{self.paper_name} ({note})" if note else self.paper_name


def _methods(cell: str) -> tuple[str, ...]:
    return () if cell in ("", "-") else tuple(cell.split("+"))


def parse(text: str) -> tuple[ReferenceRow, ...]:
    """Parse the long-form CSV text into rows, in file order."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != _COLUMNS:
        raise ValueError(f"reference CSV columns must be {_COLUMNS}, got {reader.fieldnames}")
    return tuple(
        ReferenceRow(
            table=r["table"],
            protocol=r["protocol"],
            detector=r["detector"],
            paper_name=r["paper_name"],
            train=_methods(r["train"]),
            test=_methods(r["test"]),
            metric=r["metric"],
            value=float(r["value"]),
        )
        for r in reader
    )


@lru_cache(maxsize=1)
def load() -> tuple[ReferenceRow, ...]:
    """The shipped reference rows (read once; a tuple, so callers cannot mutate the cache)."""
    text = resources.files("dfbench").joinpath(_RESOURCE).read_text(encoding="utf-8")
    return parse(text)


def detector_order() -> tuple[str, ...]:
    """The paper's detectors in the paper's order (Table 2: image baselines, I3D, 3D ResNets, 3D ResNeXts)."""
    seen: dict[str, None] = {}
    for row in load():
        seen.setdefault(row.detector, None)
    return tuple(seen)
