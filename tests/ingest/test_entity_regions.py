"""An entity's region is read by the rule an activity row's is (issue 16): a name or alias is
stored as its code; an unknown one is a located error, never a silent national factor."""

from __future__ import annotations

from pathlib import Path

import pytest

from esgledger.ingest.entities import read_entities

HEADER = "entity_id,name,parent_id,kind,equity_share,operational_control,financial_control,region"


def _file(tmp_path: Path, *regions: str) -> Path:
    rows = [f"G,Group,,group,1,true,true,{regions[0]}"]
    rows += [f"S{i},Site {i},G,site,1,true,true,{r}" for i, r in enumerate(regions[1:], 1)]
    path = tmp_path / "entities.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("广东", "CN-GD"),
        ("广东省", "CN-GD"),
        ("cn-gd", "CN-GD"),
        ("北京", "CN-BJ"),
        ("Beijing", "CN-BJ"),
        ("香港", "CN-HK"),
        ("华北", "CN-R-NORTH"),
        ("", None),
    ],
)
def test_a_region_name_is_stored_as_its_code(tmp_path: Path, written: str, code: str) -> None:
    found, problems = read_entities(_file(tmp_path, "CN", written))
    assert problems == []
    assert found[1].region == code


@pytest.mark.parametrize("written", ["Jiangsu Province", "HK", "Guangdong-ish", "CN-XX"])
def test_an_unknown_region_is_a_located_error(tmp_path: Path, written: str) -> None:
    _, problems = read_entities(_file(tmp_path, "CN", "CN-BJ", written))
    (problem,) = problems
    assert (problem.code, problem.file, problem.row, problem.column) == (
        "region",
        "entities.csv",
        4,  # header, G, S1, S2
        "region",
    )
    assert repr(written) in problem.message
