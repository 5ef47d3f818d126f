"""SYNTHETIC supplier records and evaluations of the demo group (re-exported by
:mod:`esgledger.assess.suppliers`): :func:`demo_suppliers` and :func:`demo_evaluations`
reproduce the seed's 2024 supplier counts (systems.md §9); every row says it is synthetic."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from esgledger.assess.supplier_rows import DIMENSION_IDS, EVALUATION_COLUMNS, SUPPLIER_COLUMNS

__all__ = ["DEMO_ENTITIES", "DEMO_SOURCE", "demo_evaluations", "demo_suppliers"]

DEMO_SOURCE = "synthetic (demo)"
DEMO_ENTITIES = ("G00", "S01", "S02", "S03", "S15", "S16")
"""Entities of the demo group (``esgledger/demo/data/entities.csv``) the demo suppliers
serve: the parent, three subsidiaries and the two acquired in 2024."""

# ------------------------------------------------------------------------------- demo

DEMO_COUNTS = {"active": 2605, "mainland": 2405, "other": 200, "new_2024": 652}
"""The seed's 2024 supplier counts (systems.md §9) that the demo reproduces."""
_DEMO_INACTIVE = {"ended": 30, "frozen": 15}
_DEMO_COUNTRIES = ("HK", "MO", "TW", "SG", "US", "JP", "DE", "GB", "MY", "IN")
_DEMO_CATEGORIES = (
    "IT hardware",
    "software licences",
    "IT services subcontracting",
    "professional services",
    "facilities and office",
    "logistics",
    "training",
)
_DEMO_CERTIFICATIONS = {
    "ISO9001": 0.7,
    "ISO14001": 0.4,
    "ISO27001": 0.35,
    "ISO45001": 0.25,
    "ISO22301": 0.1,
}
_DEMO_BANDS = {"A": (85, 97), "B": (70, 84), "C": (60, 69), "D": (35, 59)}
"""Integer ranges of the synthetic evaluations' mean score per level (packaged thresholds)."""


def _dates_between(rng: np.random.Generator, first: str, last: str, size: int) -> pd.DatetimeIndex:
    start = pd.Timestamp(first)
    days = (pd.Timestamp(last) - start).days
    return pd.DatetimeIndex(start + pd.to_timedelta(rng.integers(0, days + 1, size), unit="D"))


def demo_suppliers(seed: int = 2024) -> pd.DataFrame:
    """SYNTHETIC supplier records reproducing the seed's 2024 counts (systems.md §9).

    2,605 active suppliers (2,405 mainland, 200 elsewhere), 652 of them certified in 2024,
    the others earlier (about 4 % without a recorded date), plus 45 frozen or ended ones
    certified before 2024; spread over :data:`DEMO_ENTITIES`. Ids ``syn-S00001``...,
    ``source`` ``synthetic (demo)``. Deterministic: one ``numpy`` generator seeded ``seed``.
    Same columns and types as :func:`read_suppliers`.
    """
    rng = np.random.default_rng(seed)
    n_active = DEMO_COUNTS["active"]
    n = n_active + sum(_DEMO_INACTIVE.values())
    status = np.array(
        ["active"] * n_active + [s for s, k in _DEMO_INACTIVE.items() for _ in range(k)],
        dtype=object,
    )
    status = status[rng.permutation(n)]
    active = np.flatnonzero(status == "active")
    inactive = np.flatnonzero(status != "active")

    region = np.full(n, "mainland", dtype=object)
    region[rng.choice(active, DEMO_COUNTS["other"], replace=False)] = "other"
    region[inactive[rng.random(len(inactive)) < 0.08]] = "other"
    country = np.where(
        region == "mainland", "CN", rng.choice(np.array(_DEMO_COUNTRIES, dtype=object), n)
    )

    certified = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    new = rng.choice(active, DEMO_COUNTS["new_2024"], replace=False)
    older = np.setdiff1d(active, new)
    older = older[rng.random(len(older)) >= 0.04]
    certified.iloc[new] = _dates_between(rng, "2024-01-01", "2024-12-31", len(new))
    certified.iloc[older] = _dates_between(rng, "2015-01-01", "2023-12-31", len(older))
    certified.iloc[inactive] = _dates_between(rng, "2015-01-01", "2022-12-31", len(inactive))

    certifications = np.full(n, "", dtype=object)
    for standard, share in _DEMO_CERTIFICATIONS.items():
        has = rng.random(n) < share
        sep = np.where(certifications == "", "", "|")
        certifications = np.where(has, certifications + sep + standard, certifications)

    ids = np.char.mod("syn-S%05d", np.arange(1, n + 1)).astype(object)
    frame = pd.DataFrame(
        {
            "supplier_id": ids,
            "name": np.char.mod("Synthetic supplier %05d", np.arange(1, n + 1)).astype(object),
            "entity_id": rng.choice(
                np.array(DEMO_ENTITIES, dtype=object), n, p=[0.3, 0.2, 0.15, 0.1, 0.15, 0.1]
            ),
            "region": region,
            "country": country,
            "category": rng.choice(np.array(_DEMO_CATEGORIES, dtype=object), n),
            "certified_on": certified,
            "certifications": certifications,
            "status": status,
            "source": DEMO_SOURCE,
        }
    )
    for column in SUPPLIER_COLUMNS:
        if column != "certified_on":
            frame[column] = frame[column].astype("str")
    return frame


def _demo_rows(
    rng: np.random.Generator, suppliers: np.ndarray, bands: Sequence[tuple[int, int]], year: int
) -> pd.DataFrame:
    """Evaluations whose equal-weight mean is an integer of the row's band, exactly."""
    n = len(suppliers)
    low = np.array([b[0] for b in bands])
    high = np.array([b[1] for b in bands])
    centre = rng.integers(low, high + 1)
    room = np.minimum(np.minimum(centre, 100 - centre), 8)
    first = np.floor(rng.random(n) * (2 * room + 1)).astype("int64") - room
    second = np.floor(rng.random(n) * (2 * room + 1)).astype("int64") - room
    noise = np.stack([first, -first, second, -second, np.zeros(n, dtype="int64")], axis=1)
    noise = np.take_along_axis(noise, rng.random((n, 5)).argsort(axis=1), axis=1)
    scores = (centre[:, None] + noise).astype("float64")
    esg = np.clip(np.round(centre + rng.normal(0, 8, n), 1), 0, 100)
    esg[rng.random(n) < 0.3] = np.nan
    frame = pd.DataFrame({"supplier_id": suppliers.astype(object), "year": year})
    for position, dimension in enumerate(DIMENSION_IDS):
        frame[dimension] = scores[:, position]
    frame["evaluator"] = rng.choice(
        np.array(["procurement", "quality", "bcm office"], dtype=object), n
    )
    frame["evaluated_on"] = _dates_between(rng, f"{year}-11-01", f"{year + 1}-01-31", n)
    frame["esg_questionnaire_score"] = esg
    frame["notes"] = DEMO_SOURCE
    return frame


def demo_evaluations(seed: int = 2024, suppliers: pd.DataFrame | None = None) -> pd.DataFrame:
    """SYNTHETIC evaluations of :func:`demo_suppliers` (``seed``), every level represented.

    2024: 600 active suppliers, levels drawn A 35 % / B 40 % / C 17 % / D 8 % (at least five
    of each), each row's dimension scores integers whose mean is an integer of the level's
    band (:data:`_DEMO_BANDS`: boundary scores 85, 70, 60 included). 2023: the frozen
    suppliers, rated D (why they were frozen). ``notes`` ``synthetic (demo)``; ~70 % have an
    ESG questionnaire score. Same columns and types as :func:`read_evaluations`.
    """
    frame = demo_suppliers(seed) if suppliers is None else suppliers
    rng = np.random.default_rng([seed, 1])
    active = frame.loc[frame["status"] == "active", "supplier_id"].to_numpy(dtype=object)
    chosen = np.sort(rng.choice(active, 600, replace=False))
    names = np.array(list(_DEMO_BANDS), dtype=object)
    drawn = rng.choice(names, len(chosen), p=[0.35, 0.40, 0.17, 0.08])
    drawn[: 5 * len(names)] = np.repeat(names, 5)
    drawn = drawn[rng.permutation(len(drawn))]
    current = _demo_rows(rng, chosen, [_DEMO_BANDS[str(d)] for d in drawn], 2024)
    frozen = np.sort(frame.loc[frame["status"] == "frozen", "supplier_id"].to_numpy(dtype=object))
    earlier = _demo_rows(rng, frozen, [_DEMO_BANDS["D"]] * len(frozen), 2023)
    evaluations = pd.concat([earlier, current], ignore_index=True)
    evaluations = evaluations.sort_values(["supplier_id", "year"], ignore_index=True)
    for column in ("supplier_id", "evaluator", "notes"):
        evaluations[column] = evaluations[column].astype("str")
    evaluations["year"] = evaluations["year"].astype("int64")
    evaluations["evaluated_on"] = evaluations["evaluated_on"].astype("datetime64[ns]")
    return evaluations.loc[:, list(EVALUATION_COLUMNS)]
