"""The one display rule of figures without a published precision (CLI tables, lineage)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from esgledger.domain.display import short_number


def test_examples() -> None:
    assert short_number(12345.678) == "12,345.68"
    assert short_number(1000) == "1,000.00"
    assert short_number(999.94) == "999.9"  # 4 significant digits below 1,000
    assert short_number(0.010204) == "0.0102"
    assert short_number(-0.0034661) == "-0.003466"
    assert short_number(None) == "n/a" and short_number(math.nan, missing="") == ""


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_the_shown_value_is_within_its_rounding(value: float) -> None:
    shown = float(short_number(value).replace(",", ""))
    if abs(value) >= 1000:
        assert abs(shown - value) <= 0.005 + abs(value) * 1e-15
    else:  # 4 significant digits: half a unit of the 4th digit
        assert (
            abs(shown - value)
            <= 0.5 * 10 ** (math.floor(math.log10(abs(value) or 1)) - 3) * (1 + 1e-9) + 1e-300
        )
