"""Fixtures of the workforce tests: the small roster of workforce_data.py, validated."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from workforce_data import roster_csv, validate_text

from esgledger.domain.diagnostics import Diagnostic


@pytest.fixture(scope="session")
def small_roster() -> pd.DataFrame:
    frame, diagnostics = validate_text(roster_csv())
    assert frame is not None, [str(d) for d in diagnostics]
    assert diagnostics == []
    return frame


@pytest.fixture
def validate() -> Callable[..., tuple[pd.DataFrame | None, list[Diagnostic]]]:
    return validate_text
