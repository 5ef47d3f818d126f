"""Seed scale: a SYNTHETIC roster with the seed's published 2024 workforce breakdowns.

The seed report (../shared/seed/kpi_2024.csv) gives 90,759 employees at 2024 year end with the
breakdowns below. The roster here is invented (numpy, fixed seed): each attribute is drawn as a
shuffled column with exactly the published counts, plus people who left in 2024 or before and
must not be counted. The engine must reproduce every published count exactly. The published
level breakdown sums to 90,399, 360 short of the total: those 360 synthetic people have no
level, which is what the engine can represent (the consistency checks flag the gap).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from esgledger.calc.workforce import compute_workforce
from esgledger.ingest.reader import Table
from esgledger.ingest.roster import validate_roster

TOTAL = 90_759
PUBLISHED = {
    "workforce.headcount": TOTAL,
    "workforce.headcount.male": 61_410,
    "workforce.headcount.female": 29_349,
    "workforce.headcount.age_lt35": 71_915,
    "workforce.headcount.age_35_50": 18_568,
    "workforce.headcount.age_gt50": 276,
    "workforce.headcount.level_staff": 80_378,
    "workforce.headcount.level_core": 9_753,
    "workforce.headcount.level_management": 268,
    "workforce.headcount.edu_college_or_below": 24_394,
    "workforce.headcount.edu_bachelor": 64_398,
    "workforce.headcount.edu_master_or_above": 1_967,
    "workforce.headcount.region_china": 90_373,
    "workforce.headcount.region_overseas": 386,
}
LEFT_2024, LEFT_BEFORE = 4_000, 500
ENTITIES = ("G00", "G01", "G02", "G03")


def _column(rng: np.random.Generator, labels: dict[str, int], size: int) -> np.ndarray:
    """Exactly ``count`` of each label in the first TOTAL rows (shuffled), random after."""
    values = np.repeat(list(labels), list(labels.values()))
    values = np.concatenate([values, np.full(TOTAL - len(values), "")])
    extra = rng.choice([k for k in labels if k], size - TOTAL)
    return np.concatenate([rng.permutation(values), extra])


def _synthetic_table() -> Table:
    rng = np.random.default_rng(2024)
    size = TOTAL + LEFT_2024 + LEFT_BEFORE
    band = _column(rng, {"lt35": 71_915, "35_50": 18_568, "gt50": 276}, size)
    years = {"lt35": (1990, 2002), "35_50": (1974, 1989), "gt50": (1955, 1973)}  # ages in 2024
    birth = np.zeros(size, dtype=int)
    for key, (first, last) in years.items():
        mask = band == key
        birth[mask] = rng.integers(first, last + 1, mask.sum())
    by_band = rng.random(size) < 0.1  # one in ten gives the age band (in Chinese), not the year
    chinese_band = pd.Series(band).map({"lt35": "35岁以下", "35_50": "35-50岁", "gt50": "50岁以上"})
    hire = pd.Timestamp("2024-12-31") - pd.to_timedelta(rng.integers(0, 1500, size), unit="D")
    leave = np.full(size, "", dtype=object)
    leave[TOTAL : TOTAL + LEFT_2024] = (
        pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, LEFT_2024), unit="D")
    ).strftime("%Y-%m-%d")
    hire_text = hire.strftime("%Y-%m-%d").to_numpy(dtype=object)
    hire_text[TOTAL + LEFT_2024 :] = "2015-01-01"
    leave[TOTAL + LEFT_2024 :] = "2023-06-30"
    hire_text[TOTAL : TOTAL + LEFT_2024] = "2020-01-01"
    region = _column(rng, {"china": 90_373 - 20_000, "CN-BJ": 20_000, "overseas": 386}, size)
    columns = {
        "employee_id": np.char.add("E", np.arange(size).astype(str)),
        "entity_id": rng.choice(ENTITIES, size),
        "gender": _column(rng, {"male": 61_410, "女": 29_349}, size),
        "birth_year": np.where(by_band, "", birth.astype(str)),
        "age_band": np.where(by_band, chinese_band.to_numpy(dtype=str), ""),
        "level": _column(rng, {"staff": 80_378, "core": 9_753, "management": 268}, size),
        "education": _column(
            rng, {"college_or_below": 24_394, "bachelor": 64_398, "master_or_above": 1_967}, size
        ),
        "region": region,
        "hire_date": hire_text,
        "leave_date": leave,
        "training_hours": rng.integers(0, 80, size).astype(str),
    }
    rows = tuple(zip(*(np.asarray(v, dtype=object) for v in columns.values()), strict=True))
    return Table("synthetic_roster.csv", None, tuple(columns), rows)


def test_synthetic_seed_roster_reproduces_published_counts() -> None:
    table = _synthetic_table()
    roster, diagnostics = validate_roster(table, frozenset(ENTITIES), date(2024, 12, 31))
    assert diagnostics == [], [str(d) for d in diagnostics[:5]]
    assert roster is not None
    result = compute_workforce(roster, date(2024, 1, 1), date(2024, 12, 31))
    group = result[result["entity_id"] == "*"].set_index("metric_id")["value"]
    for metric, published in PUBLISHED.items():
        assert group[metric] == published, metric
    assert group["workforce.leavers"] == LEFT_2024
    entities = result[result["entity_id"] != "*"]
    headcount = entities[entities["metric_id"] == "workforce.headcount"]["value"]
    assert headcount.sum() == TOTAL
