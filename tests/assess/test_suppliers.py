"""Supplier rating: level boundaries by hand, properties, located file errors, the demo
reproducing the seed's supplier counts, D suppliers' follow-up."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.assess.suppliers import (
    DEMO_ENTITIES,
    DEMO_SOURCE,
    DIMENSION_IDS,
    EVALUATION_COLUMNS,
    KPI_NEW_CERTIFIED,
    KPI_REGIONS,
    KPI_TOTAL,
    SUPPLIER_COLUMNS,
    Level,
    demo_evaluations,
    demo_suppliers,
    dimension_weights,
    follow_ups,
    kpi_counts,
    level_counts,
    load_dimensions,
    load_levels,
    rate,
    read_evaluations,
    read_suppliers,
)
from esgledger.metrics.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seed"
needs_seed = pytest.mark.skipif(not SEED.exists(), reason="../shared is not beside the project")

UNEQUAL = {"basic_info": 0.1, "technical": 0.3, "service": 0.25, "price_business": 0.15, "bcm": 0.2}
RANK = {"D": 0, "C": 1, "B": 2, "A": 3}


def _evaluations(*rows: tuple[float, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"supplier_id": f"S{i}", "year": 2024, **dict(zip(DIMENSION_IDS, row, strict=True))}
            for i, row in enumerate(rows)
        ]
    )


def _one(row: tuple[float, ...], weights: Mapping[str, float] | None = None) -> pd.Series:
    return rate(_evaluations(row), weights).iloc[0]


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    return path


def _supplier(supplier_id: str, **cells: str) -> dict[str, str]:
    row = {
        "supplier_id": supplier_id,
        "name": f"supplier {supplier_id}",
        "entity_id": "G00",
        "region": "mainland",
        "country": "CN",
        "category": "IT hardware",
        "certified_on": "2024-03-01",
        "certifications": "ISO9001|ISO14001",
        "status": "active",
        "source": "test",
    }
    row.update(cells)
    return row


def _evaluation(supplier_id: str, **cells: str) -> dict[str, str]:
    row = {"supplier_id": supplier_id, "year": "2024", "evaluator": "procurement"}
    row.update(dict.fromkeys(DIMENSION_IDS, "80"))
    row.update(cells)
    return row


# ------------------------------------------------------------------------ packaged rule


def test_packaged_dimensions_are_the_seeds_five_with_equal_default_weights() -> None:
    dimensions = load_dimensions()
    assert tuple(d.dimension for d in dimensions) == DIMENSION_IDS
    assert [d.weight for d in dimensions] == [0.2] * 5
    assert all("systems.md §9" in d.source and "no weights" in d.source for d in dimensions)
    assert all(d.name_en and d.name_zh for d in dimensions)
    assert dimension_weights() == dict.fromkeys(DIMENSION_IDS, 0.2)


def test_packaged_levels_thresholds_and_follow_ups() -> None:
    levels = load_levels()
    assert [(lv.level, lv.min_score, lv.follow_up) for lv in levels] == [
        ("A", 85.0, "none"),
        ("B", 70.0, "none"),
        ("C", 60.0, "monitor"),
        ("D", 0.0, "improvement_plan_or_freeze"),
    ]
    assert [lv.name_en for lv in levels] == [
        "preferred",
        "selectively recommended",
        "as needed",
        "unqualified",
    ]
    assert all("the seed publishes none" in lv.source for lv in levels)


# ------------------------------------------------------------------------ known answers


@pytest.mark.parametrize(
    ("row", "score", "level"),
    [
        ((90, 80, 85, 88, 82), 85.0, "A"),  # 425 / 5
        ((90, 80, 85, 88, 81.95), 84.99, "B"),  # 424.95 / 5
        ((75, 65, 72, 68, 70), 70.0, "B"),  # 350 / 5
        ((75, 65, 72, 68, 69.95), 69.99, "C"),  # 349.95 / 5
        ((60, 55, 65, 58, 62), 60.0, "C"),  # 300 / 5
        ((60, 55, 65, 58, 61.95), 59.99, "D"),  # 299.95 / 5
        ((85, 85, 85, 85, 85), 85.0, "A"),  # 0.2 x 85 x 5 in floating point: still A
        ((84.999,) * 5, 84.999, "B"),
    ],
)
def test_level_boundaries_equal_weights(row: tuple[float, ...], score: float, level: str) -> None:
    rated = _one(row)
    assert rated["score"] == pytest.approx(score, abs=1e-9)
    assert rated["level"] == level


@pytest.mark.parametrize(
    ("row", "score", "level"),
    [
        # 0.1x100 + 0.3x80 + 0.25x90 + 0.15x70 + 0.2x90 = 10 + 24 + 22.5 + 10.5 + 18
        ((100, 80, 90, 70, 90), 85.0, "A"),
        ((99.9, 80, 90, 70, 90), 84.99, "B"),  # basic_info -0.1 x weight 0.1
        # 6.5 + 24 + 17.5 + 9 + 13
        ((65, 80, 70, 60, 65), 70.0, "B"),
        ((64.9, 80, 70, 60, 65), 69.99, "C"),
        # 4.5 + 21 + 15 + 7.5 + 12
        ((45, 70, 60, 50, 60), 60.0, "C"),
        ((44.9, 70, 60, 50, 60), 59.99, "D"),
    ],
)
def test_level_boundaries_unequal_weights(row: tuple[float, ...], score: float, level: str) -> None:
    rated = _one(row, UNEQUAL)
    assert rated["score"] == pytest.approx(score, abs=1e-9)
    assert rated["level"] == level


def test_arithmetic_text() -> None:
    assert _one((90, 80, 85, 88, 82))["arithmetic"] == (
        "0.20×90 + 0.20×80 + 0.20×85 + 0.20×88 + 0.20×82 = 85.00"
    )
    assert _one((44.9, 70, 60, 50, 60), UNEQUAL)["arithmetic"] == (
        "0.10×44.9 + 0.30×70 + 0.25×60 + 0.15×50 + 0.20×60 = 59.99"
    )
    # weights not summing to 1: divided by their sum; (300 + 160 x 3 + 65) / 10 = 84.5
    weights = {"basic_info": 3, "technical": 2, "service": 2, "price_business": 2, "bcm": 1}
    rated = _one((100, 80, 80, 80, 65), weights)
    assert rated["score"] == pytest.approx(84.5)
    assert rated["level"] == "B"
    assert rated["arithmetic"] == (
        "(3.00×100 + 2.00×80 + 2.00×80 + 2.00×80 + 1.00×65) / 10.00 = 84.50"
    )
    # two decimals would read 85.00 (an A): the full score is shown
    assert _one((84.999,) * 5)["arithmetic"].endswith("= 84.999")


def test_a_subset_of_dimensions_scores_only_those() -> None:
    rated = _one((0, 90, 0, 0, 80), {"technical": 1, "bcm": 1})
    assert rated["score"] == 85.0
    assert rated["level"] == "A"
    assert rated["arithmetic"] == "(1.00×90 + 1.00×80) / 2.00 = 85.00"


def test_custom_levels() -> None:
    levels = (Level("pass", 50, "none"), Level("fail", 0, "exit"))
    rated = rate(_evaluations((50,) * 5, (49.5,) * 5), levels=levels)
    assert list(rated["level"]) == ["pass", "fail"]
    assert list(rated["follow_up"]) == ["none", "exit"]


def test_rate_keeps_the_input_columns_and_index() -> None:
    frame = _evaluations((90,) * 5, (50,) * 5).set_axis([10, 20])
    rated = rate(frame)
    assert list(rated.index) == [10, 20]
    assert list(rated.columns) == [
        *frame.columns,
        "score",
        "level",
        "follow_up",
        "arithmetic",
    ]
    assert "score" not in frame.columns
    assert rate(frame.iloc[0:0]).empty


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({**UNEQUAL, "bcm": 0}, "expected a positive finite weight of bcm, got 0"),
        ({**UNEQUAL, "bcm": -0.2}, "expected a positive finite weight of bcm, got -0.2"),
        ({**UNEQUAL, "bcm": math.nan}, "expected a positive finite weight of bcm"),
        ({**UNEQUAL, "bcm": math.inf}, "expected a positive finite weight of bcm"),
        ({**UNEQUAL, "esg": 0.1}, "got 'esg'"),
        ({}, "expected at least one dimension weight"),
    ],
)
def test_bad_weights_are_refused(weights: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match="supplier dimension weights") as caught:
        rate(_evaluations((80,) * 5), weights)
    assert message in str(caught.value)


def test_bad_dimension_table_is_refused() -> None:
    table = pd.DataFrame({"dimension": ["bcm", "bcm"], "weight": ["0.5", "0.5"]})
    with pytest.raises(ValueError, match="unique dimensions"):
        load_dimensions(table)
    table = pd.DataFrame({"dimension": ["bcm", "technical"], "weight": ["0.5", "x"]})
    with pytest.raises(ValueError, match="weight of technical, got nan"):
        load_dimensions(table)


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        (
            (Level("A", 70), Level("B", 70), Level("D", 0)),
            "expected strictly decreasing thresholds, B 70 is not below A 70",
        ),
        (
            (Level("A", 60), Level("B", 70), Level("D", 0)),
            "expected strictly decreasing thresholds, B 70 is not below A 60",
        ),
        ((Level("A", 85), Level("B", 10)), "expected the lowest level (B) to start at 0"),
        ((Level("A", 120), Level("D", 0)), "expected min_score of A within 0-100"),
        ((), "expected at least one level"),
    ],
)
def test_bad_levels_are_refused(levels: tuple[Level, ...], message: str) -> None:
    with pytest.raises(ValueError, match="supplier levels") as caught:
        rate(_evaluations((80,) * 5), levels=levels)
    assert message in str(caught.value)


def test_bad_scores_in_a_frame_are_refused() -> None:
    with pytest.raises(ValueError, match=r"expected dimension scores 0-100 on rows \(index\) 1"):
        rate(_evaluations((80,) * 5, (80, 80, 101, 80, 80)))
    with pytest.raises(ValueError, match="expected dimension columns"):
        rate(_evaluations((80,) * 5).drop(columns="bcm"))


# ------------------------------------------------------------------------ properties

_score = st.floats(min_value=0, max_value=100, allow_nan=False)
_weights = st.dictionaries(
    st.sampled_from(DIMENSION_IDS),
    st.floats(min_value=1e-3, max_value=1e3, allow_nan=False),
    min_size=1,
)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(*[_score] * 5), min_size=1, max_size=30), weights=_weights)
def test_score_is_within_the_dimension_scores_and_levels_are_monotone(
    rows: list[tuple[float, ...]], weights: dict[str, float]
) -> None:
    rated = rate(_evaluations(*rows), weights)
    used = [d for d in DIMENSION_IDS if d in weights]
    low = rated[used].min(axis=1)
    high = rated[used].max(axis=1)
    assert ((rated["score"] >= low - 1e-9) & (rated["score"] <= high + 1e-9)).all()
    ordered = rated.sort_values("score")
    ranks = ordered["level"].map(RANK).tolist()
    assert ranks == sorted(ranks)
    for _, row in rated.iterrows():
        expected = next(lv.level for lv in load_levels() if row["score"] + 1e-9 >= lv.min_score)
        assert row["level"] == expected


# ------------------------------------------------------------------------ reading


def test_read_suppliers(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "suppliers.csv",
        SUPPLIER_COLUMNS,
        [
            _supplier("S1"),
            _supplier("S2", region="other", country="HK", certified_on="", certifications=""),
            _supplier("S3", certifications=" ISO9001 | ISO27001 ", status="frozen"),
        ],
    )
    frame, problems = read_suppliers(path, entities={"G00"})
    assert problems == []
    assert list(frame.columns) == list(SUPPLIER_COLUMNS)
    assert frame["certified_on"].dtype == "datetime64[ns]"
    assert frame["certified_on"].isna().tolist() == [False, True, False]
    assert frame.loc[2, "certifications"] == "ISO9001|ISO27001"


def test_bad_supplier_file_lists_every_located_problem(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "suppliers.csv",
        SUPPLIER_COLUMNS,
        [
            _supplier("S1"),
            _supplier("S1", region="hk"),
            _supplier("S3", certified_on="2024-13-01", status="paused"),
            _supplier("S4", country="HK", certifications="ISO9001||ISO14001"),
            _supplier("S5", region="other", country="CN", entity_id="X99", name=""),
            _supplier("", certified_on="01/03/2024"),
        ],
    )
    frame, problems = read_suppliers(path, entities={"G00"})
    assert frame.empty
    assert list(frame.columns) == list(SUPPLIER_COLUMNS)
    assert [str(p) for p in problems] == [
        "suppliers.csv:3:supplier_id: expected a unique supplier id, 'S1' is on row 2"
        " [supplier_id]",
        "suppliers.csv:3:region: expected a region (mainland, other), got 'hk' [region]",
        "suppliers.csv:4:certified_on: expected a date YYYY-MM-DD or empty, got '2024-13-01'"
        " [date]",
        "suppliers.csv:4:status: expected a status (active, frozen, ended), got 'paused' [status]",
        "suppliers.csv:5:country: expected CN for region mainland, got 'HK' [country]",
        "suppliers.csv:5:certifications: expected certifications separated by '|' without"
        " empty parts, got 'ISO9001||ISO14001' [certifications]",
        "suppliers.csv:6:name: expected a supplier name, got an empty cell [name]",
        "suppliers.csv:6:entity_id: expected an entity id of the entity list or empty,"
        " got 'X99' [entity_id]",
        "suppliers.csv:6:country: expected a country other than CN for region other"
        " (HK, MO, TW or abroad) [country]",
        "suppliers.csv:7:supplier_id: expected a supplier id, got an empty cell [supplier_id]",
        "suppliers.csv:7:certified_on: expected a date YYYY-MM-DD or empty, got '01/03/2024'"
        " [date]",
    ]


def test_bad_evaluation_file_lists_every_located_problem(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "evaluations.csv",
        EVALUATION_COLUMNS,
        [
            _evaluation("S1"),
            _evaluation("S1", bcm="101"),
            _evaluation("S9", technical="abc", esg_questionnaire_score="-1"),
            _evaluation("S2", year="24", service="", evaluated_on="2024/12/01"),
            _evaluation("S2", year="2023", basic_info="nan", esg_questionnaire_score="88.5"),
        ],
    )
    frame, problems = read_evaluations(path, suppliers={"S1", "S2"})
    assert frame.empty
    assert [str(p) for p in problems] == [
        "evaluations.csv:3:year: expected one evaluation per supplier and year, 'S1' 2024 is"
        " on row 2 [duplicate]",
        "evaluations.csv:3:bcm: expected a score 0-100, got '101' [score]",
        "evaluations.csv:4:supplier_id: expected a supplier id of the supplier list,"
        " got 'S9' [supplier_id]",
        "evaluations.csv:4:technical: expected a score 0-100, got 'abc' [score]",
        "evaluations.csv:4:esg_questionnaire_score: expected a score 0-100 or empty,"
        " got '-1' [score]",
        "evaluations.csv:5:year: expected a year YYYY, got '24' [year]",
        "evaluations.csv:5:service: expected a score 0-100, got '' [score]",
        "evaluations.csv:5:evaluated_on: expected a date YYYY-MM-DD or empty,"
        " got '2024/12/01' [date]",
        "evaluations.csv:6:basic_info: expected a score 0-100, got 'nan' [score]",
    ]


def test_missing_columns_and_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "evaluations.csv"
    path.write_text("supplier_id,year\nS1,2024\n", encoding="utf-8")
    frame, problems = read_evaluations(path)
    assert frame.empty
    assert str(problems[0]) == (
        "evaluations.csv:1:basic_info: expected a column 'basic_info' [column-missing]"
    )
    assert len(problems) == len(EVALUATION_COLUMNS) - 2
    frame, problems = read_suppliers(tmp_path / "absent.csv")
    assert frame.empty
    assert problems[0].code == "suppliers"
    assert str(problems[0]).startswith("absent.csv: expected a readable CSV")


def test_evaluations_checked_against_a_supplier_frame(tmp_path: Path) -> None:
    suppliers, _ = read_suppliers(
        _write(tmp_path / "suppliers.csv", SUPPLIER_COLUMNS, [_supplier("S1")])
    )
    path = _write(
        tmp_path / "evaluations.csv",
        EVALUATION_COLUMNS,
        [_evaluation("S1", evaluated_on="2024-12-01", esg_questionnaire_score="")],
    )
    frame, problems = read_evaluations(path, suppliers=suppliers)
    assert problems == []
    assert frame["year"].dtype == "int64"
    assert frame["bcm"].dtype == "float64"
    assert frame["esg_questionnaire_score"].isna().all()
    assert rate(frame).loc[0, "level"] == "B"


def test_demo_round_trips_through_csv(tmp_path: Path) -> None:
    suppliers, evaluations = demo_suppliers(), demo_evaluations()
    suppliers.to_csv(tmp_path / "suppliers.csv", index=False)
    evaluations.to_csv(tmp_path / "evaluations.csv", index=False)
    read, problems = read_suppliers(tmp_path / "suppliers.csv", entities=DEMO_ENTITIES)
    assert problems == []
    pd.testing.assert_frame_equal(read, suppliers)
    again, problems = read_evaluations(tmp_path / "evaluations.csv", suppliers=read)
    assert problems == []
    pd.testing.assert_frame_equal(again, evaluations)


# ------------------------------------------------------------------------ KPIs and demo


def test_kpi_counts_stock_and_flow() -> None:
    suppliers = pd.DataFrame(
        [
            _supplier("S1", certified_on="2024-12-31"),
            _supplier("S2", certified_on="2025-01-01"),  # not yet certified at 2024 year end
            _supplier("S3", certified_on="", region="other", country="US"),  # no date: counted
            _supplier("S4", certified_on="2024-06-01", status="frozen"),  # new, not stock
            _supplier("S5", certified_on="2020-01-01", status="ended"),
            _supplier("S6", certified_on="2023-12-31"),
        ]
    )
    assert kpi_counts(suppliers, 2024) == {
        KPI_TOTAL: 3,
        KPI_REGIONS["mainland"]: 2,
        KPI_REGIONS["other"]: 1,
        KPI_NEW_CERTIFIED: 2,
    }
    assert kpi_counts(suppliers, 2023)[KPI_NEW_CERTIFIED] == 1


def test_kpi_ids_are_catalogue_metrics() -> None:
    catalogue = load_catalogue()
    for metric_id in (KPI_TOTAL, *KPI_REGIONS.values(), KPI_NEW_CERTIFIED):
        assert metric_id in catalogue
    for region, metric_id in KPI_REGIONS.items():
        metric = catalogue.get(metric_id)
        assert metric.parent == KPI_TOTAL
        assert metric.member == f"region_{region}"


def _seed_values() -> dict[str, int]:
    with (SEED / "kpi_2024.csv").open(encoding="utf-8") as handle:
        rows = {row["indicator_en"]: row["value_2024"] for row in csv.DictReader(handle)}
    systems = (SEED / "systems.md").read_text(encoding="utf-8")
    assert "652 newly certified" in systems
    return {
        KPI_TOTAL: int(rows["total suppliers"]),
        KPI_REGIONS["mainland"]: int(rows["suppliers, mainland China"]),
        KPI_REGIONS["other"]: int(rows["suppliers, HK/Macao/Taiwan and international"]),
        KPI_NEW_CERTIFIED: 652,
    }


@needs_seed
def test_demo_kpis_reproduce_the_seed() -> None:
    seed = _seed_values()
    assert seed[KPI_TOTAL] == seed[KPI_REGIONS["mainland"]] + seed[KPI_REGIONS["other"]]
    assert kpi_counts(demo_suppliers(), 2024) == seed


def test_demo_kpis_reproduce_the_seed_numbers() -> None:
    counts = kpi_counts(demo_suppliers(), 2024)
    assert counts == {
        KPI_TOTAL: 2605,
        KPI_REGIONS["mainland"]: 2405,
        KPI_REGIONS["other"]: 200,
        KPI_NEW_CERTIFIED: 652,
    }
    assert kpi_counts(demo_suppliers(seed=7), 2024) == counts


def test_demo_is_synthetic_deterministic_and_on_demo_entities() -> None:
    suppliers = demo_suppliers()
    assert (suppliers["status"] == "active").sum() == 2605
    assert (suppliers["source"] == DEMO_SOURCE).all()
    assert suppliers["supplier_id"].str.fullmatch(r"syn-S\d{5}").all()
    assert suppliers["supplier_id"].iloc[0] == "syn-S00001"
    assert suppliers["supplier_id"].is_unique
    entities = pd.read_csv(ROOT / "src" / "esgledger" / "demo" / "data" / "entities.csv")
    assert set(DEMO_ENTITIES) <= set(entities["entity_id"])
    assert set(suppliers["entity_id"]) == set(DEMO_ENTITIES)
    pd.testing.assert_frame_equal(suppliers, demo_suppliers())
    pd.testing.assert_frame_equal(demo_evaluations(), demo_evaluations())
    assert not demo_suppliers(seed=1).equals(suppliers)
    evaluations = demo_evaluations()
    assert (evaluations["notes"] == DEMO_SOURCE).all()
    assert set(evaluations["supplier_id"]) <= set(suppliers["supplier_id"])
    assert not evaluations.duplicated(["supplier_id", "year"]).any()


def test_demo_evaluations_spread_over_all_levels() -> None:
    rated = rate(demo_evaluations())
    counts = level_counts(rated.loc[rated["year"] == 2024])
    assert list(counts) == ["A", "B", "C", "D"]
    assert all(n >= 5 for n in counts.values())
    assert sum(counts.values()) == 600
    frozen = demo_suppliers().query("status == 'frozen'")["supplier_id"]
    assert (rated.loc[rated["supplier_id"].isin(frozen), "level"] == "D").all()


def test_d_triggers_the_follow_up() -> None:
    rated = rate(_evaluations((90,) * 5, (65,) * 5, (40,) * 5, (59.99,) * 5))
    assert list(rated["follow_up"]) == ["none", "monitor", *["improvement_plan_or_freeze"] * 2]
    listed = follow_ups(rated)
    assert list(listed["supplier_id"]) == ["S2", "S3"]  # lowest score first
    assert set(listed["follow_up"]) == {"improvement_plan_or_freeze"}
    assert listed["follow_up_zh"].str.contains("冻结").all()
    assert level_counts(rated) == {"A": 1, "B": 0, "C": 1, "D": 2}


def test_follow_ups_with_supplier_details() -> None:
    suppliers, evaluations = demo_suppliers(), demo_evaluations()
    rated = rate(evaluations)
    listed = follow_ups(rated, suppliers)
    assert len(listed) == (rated["level"] == "D").sum()
    assert listed["name"].notna().all()
    assert listed["score"].is_monotonic_increasing
    assert {"active", "frozen"} == set(listed["status"])
