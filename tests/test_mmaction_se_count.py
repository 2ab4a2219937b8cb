"""Table 6's SE count: the closed form against built models, and the plugin README's enumeration recomputed.

No SE configuration reproduces the paper's 94,303,808 (plugins/mmaction/README.md, "resnet3d_se
against Table 6"); this keeps every number of that table true and the claim checked.
"""

import re
from pathlib import Path

import pytest

pytest.importorskip("dfbench_mmaction")

import torch  # noqa: E402

from dfbench_mmaction.detector import load_config  # noqa: E402
from dfbench_mmaction.se import RESNET101_STAGES, SEResNet3d, se_parameters  # noqa: E402

README = Path(__file__).resolve().parents[1] / "plugins" / "mmaction" / "README.md"
TABLE6 = 94_303_808
BACKBONE = 85_245_120  # MMAction2's ResNet3d-101 as configured (DEPENDENCIES.md; test_mmaction_zoo.py)
PAPER_HEAD = 2048 * 2  # bias-free 2048x2: with it the backbone is exactly Table 6's 3D ResNet row
OUR_HEAD = 2048 + 1  # one logit with a bias


def count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def se_resnet(reduction: int) -> SEResNet3d:
    cfg = load_config("resnet3d_se", "paper").model.backbone.copy()
    cfg.pop("type")
    cfg["se_reduction"] = reduction
    with torch.device("meta"):
        return SEResNet3d(**cfg)


@pytest.mark.parametrize("reduction", [16, 8])
def test_the_closed_form_is_what_the_built_backbone_adds(reduction):
    backbone = se_resnet(reduction)
    se_modules = [b.se for i in range(1, 5) for b in getattr(backbone, f"layer{i}")]
    assert count(backbone) == BACKBONE + se_parameters(reduction)
    # without biases: the SE modules' weights alone
    weights = sum(p.numel() for m in se_modules for p in m.parameters() if p.ndim > 1)
    assert weights == se_parameters(reduction, bias=False)


def test_the_closed_form_on_the_middle_width_is_what_se_modules_there_hold():
    from mmaction.models.backbones.x3d import SEModule

    with torch.device("meta"):
        # r = 8: 64 / 8 = 8 units, where X3D's rounding to a multiple of 8 (at least 8) changes nothing
        modules = [SEModule(mid, 1 / 8) for blocks, mid in RESNET101_STAGES for _ in range(blocks)]
    assert sum(map(count, modules)) == se_parameters(8, on="mid") == 602_040


def test_ours_is_r16_on_the_output_with_biases():
    assert se_parameters(16) == 4_777_712 and BACKBONE + se_parameters(16) + OUR_HEAD == 90_024_881
    assert se_parameters(8) == 9_522_912  # the nearest ratio: 468,320 over Table 6 with the paper's head


def readme_rows() -> list[list[str]]:
    text = README.read_text()
    section = text.split("### `resnet3d_se` against Table 6", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ") and re.match(r"\| \**(output|middle)", line)]
    return [[cell.strip().strip("*") for cell in row.strip("|").split("|")] for row in rows]


def number(cell: str) -> int:
    return int(cell.replace(",", "").replace("−", "-").replace("+", ""))


def test_every_row_of_the_readme_enumeration_is_recomputed_and_none_is_table_6():
    rows = readme_rows()
    assert len(rows) == 13
    for placement, r, biases, se, with_paper_head, gap, percent, with_our_head in rows:
        on = "output" if placement.startswith("output") else "mid"
        added = se_parameters(int(r), on=on, bias={"yes": True, "no": False}[biases])
        assert number(se) == added
        assert number(with_paper_head) == BACKBONE + added + PAPER_HEAD
        assert number(gap) == BACKBONE + added + PAPER_HEAD - TABLE6
        assert percent == f"{100 * (BACKBONE + added + PAPER_HEAD - TABLE6) / TABLE6:+.2f} %".replace("-", "−")
        assert number(with_our_head) == BACKBONE + added + OUR_HEAD
        assert TABLE6 not in (BACKBONE + added + PAPER_HEAD, BACKBONE + added + OUR_HEAD)


def test_the_ratio_that_would_match_is_not_a_whole_number():
    needed = TABLE6 - BACKBONE - PAPER_HEAD  # 9,054,592
    weights = sum(2 * blocks * (4 * mid) ** 2 for blocks, mid in RESNET101_STAGES)
    outputs = sum(blocks * 4 * mid for blocks, mid in RESNET101_STAGES)
    # weights / r + outputs / r + outputs = needed, with biases; weights / r = needed without
    assert round((weights + outputs) / (needed - outputs), 3) == 8.415
    assert round(weights / needed, 3) == 8.381
