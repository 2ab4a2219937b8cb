"""Which videos each split of a protocol run holds, on a dataset in the FF++ layout.

Splits go by pair, so a pair's identities (its two real videos and every fake made from
them) sit in exactly one split: no identity is shared between train, val and test.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from dfbench import splits as S
from dfbench.layout import REAL, video_path
from dfbench.protocols import RunSpec


@dataclass(frozen=True)
class PlannedVideo:
    key: str  # "<method>/<name>"
    method: str
    label: int
    path: Path
    pair: str = ""  # the split's "<a>_<b>" pair the video belongs to (reals and fakes of a pair share it)

    @property
    def name(self) -> str:
        return self.key.split("/", 1)[1]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


@dataclass(frozen=True)
class RunPlan:
    spec: RunSpec
    train: list[PlannedVideo]
    val: list[PlannedVideo]
    test: list[PlannedVideo]

    def to_dict(self) -> dict:
        return {
            "name": self.spec.name,
            "train_methods": list(self.spec.train_methods),
            "test_methods": list(self.spec.test_methods),
            **{s: [v.to_dict() for v in getattr(self, s)] for s in S.SPLITS},
        }


def split_videos(root: Path, compression: str, pairs: list[S.Pair], methods: tuple[str, ...]) -> list[PlannedVideo]:
    """Real videos of the pairs, then both fakes of every pair for each method, each with its pair."""
    pair_of = {}
    for a, b in pairs:
        pair_of[a] = pair_of[b] = pair_of[f"{a}_{b}"] = pair_of[f"{b}_{a}"] = f"{a}_{b}"
    out = [PlannedVideo(f"{REAL}/{i}", REAL, 0, video_path(root, REAL, compression, i), pair_of[i])
           for i in S.ids(pairs)]
    for m in methods:
        out += [PlannedVideo(f"{m}/{n}", m, 1, video_path(root, m, compression, n), pair_of[n])
                for n in S.fake_names(pairs)]
    return out


def plan_run(root: Path, compression: str, splits: dict[str, list[S.Pair]], spec: RunSpec) -> RunPlan:
    return RunPlan(
        spec,
        train=split_videos(root, compression, splits["train"], spec.train_methods),
        val=split_videos(root, compression, splits["val"], spec.val_methods),
        test=split_videos(root, compression, splits["test"], spec.test_methods),
    )


def shared_identities(a: list[PlannedVideo], b: list[PlannedVideo]) -> set[str]:
    """Identities that appear in both lists (must be empty between a run's splits)."""
    ids_a = set().union(*(S.identities(v.name) for v in a)) if a else set()
    ids_b = set().union(*(S.identities(v.name) for v in b)) if b else set()
    return ids_a & ids_b
