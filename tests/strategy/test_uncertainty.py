"""Monte Carlo propagation of activity and factor uncertainty (esgledger.strategy.uncertainty)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from esgledger.store.ledger import Ledger
from esgledger.strategy.uncertainty import (
    load_uncertainty_defaults,
    propagate,
)
from esgledger.usecases.strategy import uncertainty_from_ledger


def synthetic(
    n: int = 200,
    factors: int | None = 5,
    activity: float = 0.10,
    factor: float = 0.05,
    seed: int = 7,
    distribution: str = "normal",
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "record_id": [f"r{i}" for i in range(n)],
            "scope": rng.integers(1, 4, n),
            "quantity": rng.uniform(10.0, 100.0, n),
            "factor": rng.uniform(0.5, 2.0, n),
            "factor_id": [f"f{i % factors}" for i in range(n)] if factors else None,
            "activity_uncertainty": activity,
            "factor_uncertainty": factor,
            "factor_distribution": distribution,
        }
    )


def test_interval_contains_deterministic_total() -> None:
    result = propagate(synthetic(distribution="lognormal", factor=0.5), 2_000, seed=1)
    for name in result.outputs:
        row = result.row(name)
        assert row["lower"] < row["deterministic"] < row["upper"]
        assert row["mean"] == pytest.approx(row["deterministic"], rel=0.02)


def test_intervals_shrink_with_input_uncertainty() -> None:
    widths = [
        propagate(synthetic(activity=0.10 * k, factor=0.05 * k), 2_000, seed=3).row("total")[
            "rel_half_width"
        ]
        for k in (2.0, 1.0, 0.5, 0.25)
    ]
    assert all(a > b for a, b in itertools.pairwise(widths))


def test_zero_uncertainty_gives_zero_width() -> None:
    frame = synthetic(activity=0.0, factor=0.0)
    result = propagate(frame, 500, seed=2)
    total = result.row("total")
    expected = float((frame["quantity"] * frame["factor"]).sum())
    assert total["deterministic"] == pytest.approx(expected)
    for key in ("lower", "upper", "mean", "median"):
        assert total[key] == pytest.approx(expected, rel=1e-12)
    assert total["rel_half_width"] == pytest.approx(0.0, abs=1e-12)
    # multipliers of exactly 1, summed in the deterministic figure's order: equal bit for bit
    np.testing.assert_array_equal(result.draws, np.tile(result.summary["deterministic"], (500, 1)))


def test_seed_reproducible_and_chunk_independent() -> None:
    frame = synthetic()
    a = propagate(frame, 1_000, seed=11)
    b = propagate(frame, 1_000, seed=11, chunk=37)
    c = propagate(frame, 1_000, seed=12)
    np.testing.assert_array_equal(a.draws, b.draws)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert not np.array_equal(a.draws, c.draws)


def _chunk_cases() -> list[pd.DataFrame]:
    shared = synthetic(n=240, factors=7, distribution="lognormal")
    shared["record_id"] = [f"r{i // 3}" for i in range(240)]  # a record's gases share a draw
    bases = synthetic(n=300, factors=40)
    bases["basis"] = np.array(["both", "location", "market"])[np.arange(300) % 3]
    bases.loc[bases.index % 4 == 0, "scope"] = 2
    # +/-180 % normal inputs: truncation re-draws run to several rounds
    wide = synthetic(n=50, factors=None, activity=1.8, factor=1.5)
    return [synthetic(), shared, bases, wide]


@pytest.mark.parametrize("case", range(4))
def test_draws_are_bit_identical_for_every_chunk_size(case: int) -> None:
    # exact by construction: every stream is consumed in iteration order and each iteration is
    # summed in an order fixed by the rows alone (reduceat, no BLAS matrix product)
    frame = _chunk_cases()[case]
    whole = propagate(frame, 1_000, seed=3)
    for chunk in (1, 7, 100, 333):
        chunked = propagate(frame, 1_000, seed=3, chunk=chunk)
        np.testing.assert_array_equal(whole.draws, chunked.draws)
        pd.testing.assert_frame_equal(whole.summary, chunked.summary, check_exact=True)


def test_monte_carlo_matches_approach1_for_independent_normals() -> None:
    frame = synthetic(n=300, factors=None, activity=0.10, factor=0.07)
    result = propagate(frame, 10_000, seed=5)
    for name in result.outputs:
        row = result.row(name)
        # 10,000 draws: the 2.5/97.5 % quantiles are within about 3 % of their value
        assert row["rel_half_width"] == pytest.approx(row["approach1_rel_half_width"], rel=0.06)
        assert row["correlated_rel_half_width"] == pytest.approx(
            row["approach1_rel_half_width"], rel=0.01
        )


def test_shared_factor_wider_than_independent() -> None:
    shared = propagate(synthetic(n=300, factors=3, factor=0.10), 4_000, seed=5).row("total")
    independent = propagate(synthetic(n=300, factors=None, factor=0.10), 4_000, seed=5).row("total")
    assert shared["rel_half_width"] > 2 * independent["rel_half_width"]
    # the analytical figure with shared factors follows the Monte Carlo one
    assert shared["rel_half_width"] == pytest.approx(shared["correlated_rel_half_width"], rel=0.08)
    assert shared["approach1_rel_half_width"] < shared["rel_half_width"]


def test_rows_sharing_a_record_share_the_activity_draw() -> None:
    frame = pd.DataFrame(
        {
            "record_id": ["a", "a"],
            "scope": [1, 1],
            "quantity": [10.0, 10.0],
            "factor": [1.0, 1.0],
            "factor_id": ["co2", "ch4"],
            "activity_uncertainty": 0.2,
        }
    )
    draws = propagate(frame, 200, seed=1).draws
    # one activity draw for both gases: total = 2 x 10 x a, so the half-width is the input's
    assert np.std(draws[:, 0]) == pytest.approx(20 * 0.2 / 1.96, rel=0.15)


def test_truncated_normal_is_never_negative() -> None:
    frame = synthetic(n=20, factors=None, activity=1.5, factor=0.0)
    result = propagate(frame, 2_000, seed=4)
    assert (result.draws >= 0).all()
    assert any(d.code == "uncertainty-wide-normal" for d in result.diagnostics)


def test_defaults_have_sources() -> None:
    table = load_uncertainty_defaults()
    assert {"measured", "calculated", "estimated", "reported"} <= set(
        table.loc[table["kind"] == "activity", "key"]
    )
    assert table["source"].str.len().gt(10).all()
    assert table["distribution"].isin(("normal", "lognormal")).all()


def test_demo_ledger_interval(demo_ledger: Ledger) -> None:
    result = uncertainty_from_ledger(demo_ledger, 2024, iterations=2_000, seed=1)
    total = result.row("total")
    assert total["deterministic"] == pytest.approx(31_925.01, abs=0.01)
    assert total["lower"] < total["deterministic"] < total["upper"]
    assert np.isfinite(result.summary.drop(columns="output").to_numpy()).all()
    # one grid factor for every site: the Monte Carlo interval is wider than Approach 1
    s2 = result.row("scope2_location")
    assert s2["rel_half_width"] > 3 * s2["approach1_rel_half_width"]


def test_a_year_without_inventory_is_refused(demo_ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="no inventory for 2019"):
        uncertainty_from_ledger(demo_ledger, 2019, iterations=200)
