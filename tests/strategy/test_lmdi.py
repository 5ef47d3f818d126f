"""LMDI-I decomposition: exactness, zero handling, a hand-computed example, the published
test case of an independent implementation (LMDIR), the demo ledger."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.store.ledger import Ledger
from esgledger.strategy.kaya import kaya_factors
from esgledger.strategy.lmdi import (
    KAYA_FACTORS,
    decompose,
    load_parameters,
    log_mean,
)
from esgledger.usecases.strategy import kaya_decomposition

LN2 = math.log(2)


def _frame(x0: np.ndarray, x1: np.ndarray, factors: tuple[str, ...]) -> pd.DataFrame:
    n = x0.shape[0]
    rows = []
    for year, x in ((2020, x0), (2025, x1)):
        part = pd.DataFrame(x, columns=list(factors))
        part.insert(0, "year", year)
        part.insert(0, "subsector", [f"s{i}" for i in range(n)])
        rows.append(part)
    return pd.concat(rows, ignore_index=True)


positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=6),
    k=st.integers(min_value=1, max_value=5),
    data=st.data(),
)
def test_effects_are_exact_and_an_unchanged_factor_has_no_effect(
    n: int, k: int, data: st.DataObject
) -> None:
    factors = tuple(f"x{j}" for j in range(k))
    x0 = np.array(data.draw(st.lists(positive, min_size=n * k, max_size=n * k))).reshape(n, k)
    x1 = np.array(data.draw(st.lists(positive, min_size=n * k, max_size=n * k))).reshape(n, k)
    still = data.draw(st.integers(min_value=0, max_value=k - 1))
    x1[:, still] = x0[:, still]
    result = decompose(_frame(x0, x1, factors), factors)
    c0, c1 = float(np.prod(x0, axis=1).sum()), float(np.prod(x1, axis=1).sum())
    assert result.additive.sum() == pytest.approx(c1 - c0, rel=1e-9, abs=1e-9 * max(c0, c1))
    assert result.multiplicative.prod() == pytest.approx(c1 / c0, rel=1e-9)
    assert result.additive[f"x{still}"] == 0.0
    assert result.multiplicative[f"x{still}"] == 1.0
    assert result.contributions.to_numpy().sum() == pytest.approx(result.additive.sum())


def test_log_mean_limits() -> None:
    assert log_mean(3.0, 3.0) == pytest.approx(3.0)
    assert log_mean(2.0, 1.0) == pytest.approx(1 / LN2)
    assert log_mean(math.e, 1.0) == pytest.approx(math.e - 1)
    assert log_mean(5.0, 0.0) == 0.0
    near = log_mean(1.0, 1.0 + 1e-13)
    assert near == pytest.approx(1.0 + 5e-14, rel=1e-15)
    with pytest.raises(ValueError, match="expected finite non-negative"):
        log_mean(-1.0, 1.0)


def test_hand_computed_two_subsector_example() -> None:
    """Hand-computed example (the published case: ``test_reproduces_the_published_lmdir_*``).

    C = Q * S_i * I_i. Year 0: Q = 100, S = (0.5, 0.5), I = (2, 4) so C_i = (100, 200), C = 300.
    Year T: Q = 200, S unchanged, I = (2, 2) so C_i = (200, 200), C = 400.
    L(200, 100) = 100/ln 2; L(200, 200) = 200.
    Activity: (100/ln 2) ln 2 + 200 ln 2 = 100 + 200 ln 2 = 238.63 t.
    Structure: 0. Intensity: 200 ln(1/2) = -200 ln 2 = -138.63 t. Sum 100 = 400 - 300.
    Multiplicative: L(400, 300) = 100/ln(4/3); D_x = exp(dC_x / L):
    D_activity = (4/3)^(1 + 2 ln 2), D_intensity = (4/3)^(-2 ln 2), product 4/3.
    """
    frame = pd.DataFrame(
        {
            "subsector": ["a", "b", "a", "b"],
            "year": [0, 0, 1, 1],
            "activity": [100.0, 100.0, 200.0, 200.0],
            "structure": [0.5, 0.5, 0.5, 0.5],
            "intensity": [2.0, 4.0, 2.0, 2.0],
        }
    )
    result = decompose(frame, ("activity", "structure", "intensity"))
    assert result.total0 == 300.0
    assert result.total1 == 400.0
    assert result.additive["activity"] == pytest.approx(100 + 200 * LN2, rel=1e-12)
    assert result.additive["structure"] == 0.0
    assert result.additive["intensity"] == pytest.approx(-200 * LN2, rel=1e-12)
    assert result.multiplicative["activity"] == pytest.approx((4 / 3) ** (1 + 2 * LN2))
    assert result.multiplicative["intensity"] == pytest.approx((4 / 3) ** (-2 * LN2))
    assert result.contributions.loc["a", "activity"] == pytest.approx(100.0)
    table = result.table()
    assert table["share_of_change_pct"].sum() == pytest.approx(100.0)


# The published test case of LMDIR, an independent implementation of Ang (2005) (M. K. Heun,
# https://github.com/MatthewHeun/LMDIR, MIT licence), tests/testthat/test_lmdi.R: two
# subcategories, three factors, four years; its expected effects were computed in a
# spreadsheet (tests/testthat/LMDI_testing.xlsx) and are printed there to 10 significant
# digits. X[subcategory][year] = (factor 1, factor 2, factor 3).
LMDIR_X = {
    "subcat 1": {1971: (1, 10, 2), 1972: (4, 5, 3), 1973: (8, 2, 4), 1974: (10, 1, 5)},
    "subcat 2": {1971: (4, 5, 3), 1972: (5, 6, 4), 1973: (5, 7, 5), 1974: (6, 8, 6)},
}
LMDIR_FACTORS = ("factor 1", "factor 2", "factor 3")
LMDIR_EXPECTED = [
    # (year0, year1, total change, additive effects, multiplicative indices)
    (
        1971,
        1972,
        100,
        (69.79006598, -9.455125793, 39.66505981),
        (1.761117821, 0.926191306, 1.379410116),
    ),
    (
        1972,
        1973,
        59,
        (42.96021467, -34.31902656, 50.3588119),
        (1.229284572, 0.847970248, 1.273773912),
    ),
    (
        1973,
        1974,
        99,
        (54.01064234, -9.021284671, 54.01064234),
        (1.208140223, 0.968911503, 1.208140223),
    ),
]


def _lmdir_frame(x: dict[str, dict[int, tuple[int, int, int]]] = LMDIR_X) -> pd.DataFrame:
    rows = [
        {
            "subsector": name,
            "year": year,
            **dict(zip(LMDIR_FACTORS, map(float, values), strict=True)),
        }
        for name, years in x.items()
        for year, values in years.items()
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("year0", "year1", "change", "effects", "indices"), LMDIR_EXPECTED)
def test_reproduces_the_published_lmdir_example(
    year0: int, year1: int, change: float, effects: tuple[float, ...], indices: tuple[float, ...]
) -> None:
    result = decompose(_lmdir_frame(), LMDIR_FACTORS, year0=year0, year1=year1)
    assert result.change == pytest.approx(change, abs=1e-9)
    for factor, effect, index in zip(LMDIR_FACTORS, effects, indices, strict=True):
        assert result.additive[factor] == pytest.approx(effect, abs=5e-8), factor
        assert result.multiplicative[factor] == pytest.approx(index, abs=5e-9), factor


def test_reproduces_the_published_lmdir_zero_cases() -> None:
    """LMDIR's zero cases (Wood and Lenzen 2006 analytical limits; Ang, Zhang and Choi 1998
    table 2): a zero in year 0 puts the subcategory's whole year-T value (60) on that factor;
    a zero in year T puts minus its year-0 value (-60) on it; the other row is unchanged."""
    per_subsector = {
        "subcat 1": (50.47438029, -25.23719014, 14.76280986),
        "subcat 2": (19.31568569, 15.78206435, 24.90224996),
    }
    plain = decompose(_lmdir_frame(), LMDIR_FACTORS, year0=1971, year1=1972)
    for name, expected in per_subsector.items():
        for factor, value in zip(LMDIR_FACTORS, expected, strict=True):
            assert plain.contributions.loc[name, factor] == pytest.approx(value, abs=5e-8)
    zero0 = {k: dict(v) for k, v in LMDIR_X.items()}
    zero0["subcat 1"][1971] = (0, 10, 2)
    first = decompose(_lmdir_frame(zero0), LMDIR_FACTORS, year0=1971, year1=1972)
    assert list(first.contributions.loc["subcat 1"]) == pytest.approx([60, 0, 0], abs=1e-9)
    assert list(first.contributions.loc["subcat 2"]) == pytest.approx(
        per_subsector["subcat 2"], abs=5e-8
    )
    zero1 = {k: dict(v) for k, v in LMDIR_X.items()}
    zero1["subcat 2"][1972] = (5, 6, 0)
    second = decompose(_lmdir_frame(zero1), LMDIR_FACTORS, year0=1971, year1=1972)
    assert list(second.contributions.loc["subcat 2"]) == pytest.approx([0, 0, -60], abs=1e-9)
    assert list(second.contributions.loc["subcat 1"]) == pytest.approx(
        per_subsector["subcat 1"], abs=5e-8
    )


def test_kaya_factors_rebuild_emissions_and_the_four_factor_default() -> None:
    raw = pd.DataFrame(
        {
            "subsector": ["a", "b", "a", "b"],
            "year": [2023, 2023, 2024, 2024],
            "activity": [60.0, 40.0, 90.0, 30.0],
            "energy": [6.0, 8.0, 8.0, 6.0],
            "emissions": [12.0, 24.0, 14.0, 15.0],
        }
    )
    factors = kaya_factors(raw)
    product = factors[list(KAYA_FACTORS)].prod(axis=1)
    expected = raw.sort_values(["subsector", "year"])["emissions"].to_numpy()
    assert product.to_numpy() == pytest.approx(expected)
    result = decompose(factors)
    assert result.factors == KAYA_FACTORS
    assert result.additive.sum() == pytest.approx(29.0 - 36.0)


def test_new_subsector_goes_to_structure_in_the_limit_and_delta_converges() -> None:
    raw = pd.DataFrame(
        {
            "subsector": ["a", "a", "new"],
            "year": [2023, 2024, 2024],
            "activity": [100.0, 100.0, 50.0],
            "energy": [10.0, 9.0, 5.0],
            "emissions": [20.0, 18.0, 10.0],
        }
    )
    factors = kaya_factors(raw)
    assert (
        factors.loc[(factors["subsector"] == "new") & (factors["year"] == 2023)].iloc[0][
            "structure"
        ]
        == 0.0
    )
    limit = decompose(factors)
    assert limit.contributions.loc["new", "structure"] == pytest.approx(10.0)
    assert limit.contributions.loc["new"].drop("structure").abs().max() == 0.0
    assert limit.additive.sum() == pytest.approx(8.0)
    assert limit.zero_values == 1
    assert any(n.code == "lmdi.zero_values" for n in limit.notes)
    # The substitution approaches the limit as delta shrinks (slowly: 1/ln(1/delta)).
    errors = [
        abs(
            decompose(factors, zero="delta", delta=d).additive["structure"]
            - limit.additive["structure"]
        )
        for d in (1e-10, 1e-20, 1e-100)
    ]
    assert errors[0] > errors[1] > errors[2]
    assert decompose(factors, zero="delta", delta=1e-10).additive.sum() == pytest.approx(8.0)


def test_vanished_subsector_and_zero_totals() -> None:
    frame = pd.DataFrame(
        {"subsector": ["a", "b", "a", "b"], "year": [0, 0, 1, 1], "x": [1.0, 2.0, 3.0, 0.0]}
    )
    result = decompose(frame, ("x",))
    assert result.contributions.loc["b", "x"] == pytest.approx(-2.0)
    assert result.additive["x"] == pytest.approx(0.0)
    assert result.multiplicative["x"] == pytest.approx(1.0)
    empty = pd.DataFrame({"subsector": ["a", "a"], "year": [0, 1], "x": [0.0, 3.0]})
    undefined = decompose(empty, ("x",))
    assert undefined.additive["x"] == pytest.approx(3.0)
    assert np.isnan(undefined.multiplicative["x"])
    assert any(n.code == "lmdi.multiplicative_undefined" for n in undefined.notes)


def test_errors_name_what_was_expected() -> None:
    frame = pd.DataFrame({"subsector": ["a", "a"], "year": [0, 1], "x": [1.0, -1.0]})
    with pytest.raises(ValueError, match="expected a finite value >= 0"):
        decompose(frame, ("x",))
    with pytest.raises(ValueError, match="expected columns"):
        decompose(frame, ("y",))
    lacking = pd.DataFrame({"subsector": ["a", "a", "b"], "year": [0, 1, 1], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="expected a row per subsector and year"):
        decompose(lacking, ("x",))
    with pytest.raises(ValueError, match="expected two different years"):
        decompose(frame.iloc[:1], ("x",))
    raw = pd.DataFrame(
        {
            "subsector": ["a", "a"],
            "year": [0, 1],
            "activity": [1.0, 1.0],
            "energy": [0.0, 1.0],
            "emissions": [1.0, 1.0],
        }
    )
    with pytest.raises(ValueError, match="expected energy > 0"):
        kaya_factors(raw)


def test_parameters_are_data_with_sources() -> None:
    params = load_parameters()
    assert params.zero == "limit"
    assert 1e-20 <= params.delta <= 1e-10
    bad = pd.DataFrame(
        {
            "parameter": ["zero.treatment", "zero.delta", "check.tolerance"],
            "value": ["guess", "1e-15", "1e-9"],
        }
    )
    with pytest.raises(ValueError, match="expected 'limit' or 'delta'"):
        load_parameters(bad)


def test_demo_2023_to_2024_by_scope_falls_back_without_energy(demo_ledger: Ledger) -> None:
    result, inputs = kaya_decomposition(demo_ledger, 2023, 2024, by="scope")
    assert inputs.factor_names == ("activity", "emission_intensity")
    codes = {n.code for n in result.notes}
    assert {"lmdi.no_energy", "lmdi.scopes", "lmdi.factors"} <= codes
    assert result.total0 == pytest.approx(24014.98, abs=0.01)
    assert result.total1 == pytest.approx(31925.01, abs=0.01)
    assert result.additive.sum() == pytest.approx(result.change, rel=1e-9)
    assert result.multiplicative.prod() == pytest.approx(result.ratio, rel=1e-9)
    # Revenue rose 78 % (175.8 -> 313.16 亿元): activity pushes up, intensity pulls down.
    assert result.additive["activity"] > 0 > result.additive["emission_intensity"]
    assert result.units["activity"] == "万元"


def test_demo_by_entity_warns_that_the_entity_sets_differ(demo_ledger: Ledger) -> None:
    result, _ = kaya_decomposition(demo_ledger, 2023, 2024, by="entity")
    codes = {n.code for n in result.notes}
    assert {"lmdi.entities_differ", "lmdi.no_entity_activity", "lmdi.no_energy"} <= codes
    assert result.additive.sum() == pytest.approx(result.change, rel=1e-9)


def test_vectorised_over_many_subsectors() -> None:
    rng = np.random.default_rng(7)
    n = 200_000
    x0 = rng.uniform(0.5, 2.0, size=(n, 4))
    x1 = rng.uniform(0.5, 2.0, size=(n, 4))
    x1[:1000, 1] = 0.0  # subsectors that vanish
    result = decompose(_frame(x0, x1, KAYA_FACTORS))
    c0, c1 = np.prod(x0, axis=1).sum(), np.prod(x1, axis=1).sum()
    assert result.additive.sum() == pytest.approx(c1 - c0, rel=1e-9)
    assert result.multiplicative.prod() == pytest.approx(c1 / c0, rel=1e-9)
