"""The registers' results computed from their rows as stored (pure: frames in, frames out).

Each function takes the rows of a register as stored (a frame of strings, as
:func:`esgledger.usecases.registers.stored_frame` reads them for the whole group, or
:func:`~esgledger.usecases.registers.current_frame` for what a user may see), checks them again
with the register's library (the rows were valid when imported; the library could have
changed since) and applies the library's computation with the rules given (the year's
:class:`~esgledger.assess.rule_tables.RegisterRules`; None: the packaged defaults), vectorised:

- :func:`supplier_ratings`: evaluations rated (weighted score, level, follow-up, arithmetic)
  joined with the supplier's name, entity, region and status;
- :func:`bcm_graded`: business-continuity risks with score, grade and treatment;
- :func:`infosec_assessed`: information-security risks with the GB/T 20984 risk value, level
  and arithmetic;
- :func:`climate_entries`: the climate register's entries.

Counts per class (``register:<kind>:<year>:<class>``) and per row (``<kind>:<year>:<id>``)
are lineage ids :mod:`esgledger.figures.assessment_lineage` explains.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from esgledger.assess import climate, risks, suppliers
from esgledger.assess.rule_tables import RegisterRules

__all__ = [
    "bcm_graded",
    "climate_entries",
    "count_by",
    "graded",
    "infosec_assessed",
    "supplier_ratings",
]


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The file's columns (without the ledger's ``_import_id``, ``_line``)."""
    return frame[[c for c in frame.columns if not str(c).startswith("_")]]


def _checked(result: tuple[pd.DataFrame, Sequence[object]], what: str) -> pd.DataFrame:
    frame, problems = result
    if problems:
        shown = "; ".join(str(p) for p in problems[:5])
        raise ValueError(f"the stored {what} no longer pass the packaged checks: {shown}")
    return frame


def supplier_ratings(
    evaluations: pd.DataFrame, listed: pd.DataFrame, rules: RegisterRules | None = None
) -> pd.DataFrame:
    """Rated evaluations (one row per supplier and year) with the supplier's columns."""
    if evaluations.empty:
        return pd.DataFrame(
            columns=[*suppliers.EVALUATION_COLUMNS, "score", "level", "follow_up", "arithmetic"]
        )
    typed = _checked(
        suppliers.check_evaluations(_rows(evaluations), "supplier evaluations"),
        "supplier evaluations",
    )
    if rules is None:
        rated = suppliers.rate(typed)
    else:
        rated = suppliers.rate(typed, rules.dimensions(), rules.levels())
    if listed.empty:
        return rated
    info = _rows(listed)[["supplier_id", "name", "entity_id", "region", "status"]]
    info = info.apply(lambda column: column.astype(str).str.strip())
    return rated.merge(info, on="supplier_id", how="left", validate="many_to_one")


def bcm_graded(frame: pd.DataFrame, rules: RegisterRules | None = None) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=[*risks.BCM_COLUMNS, "score", "grade", "treatment"])
    typed = _checked(risks.check_bcm_frame(_rows(frame), "bcm register"), "BCM risks")
    return risks.grade_bcm(typed, None if rules is None else rules.bcm_grades())


def infosec_assessed(frame: pd.DataFrame, rules: RegisterRules | None = None) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(
            columns=[*risks.INFOSEC_COLUMNS, "risk_value", "risk_level", "arithmetic"]
        )
    typed = _checked(
        risks.check_infosec_frame(_rows(frame), "infosec register"), "information-security risks"
    )
    if rules is None:
        return risks.assess_infosec(typed)
    return risks.assess_infosec(typed, rules.infosec_method(), rules.infosec_levels())


def graded(
    kind: str, rows: pd.DataFrame, rules: RegisterRules, listed: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The results of the rows of a rated register ``kind`` (``supplier_evaluations``,
    ``bcm``, ``infosec``) with ``rules``, one row each in the rows' order (``listed``: the
    year's suppliers, joined to the evaluations)."""
    if kind == "supplier_evaluations":
        empty = pd.DataFrame(columns=["supplier_id"])
        return supplier_ratings(rows, empty if listed is None else listed, rules)
    if kind == "bcm":
        return bcm_graded(rows, rules)
    if kind == "infosec":
        return infosec_assessed(rows, rules)
    raise ValueError(f"register {kind!r} is not graded")


def climate_entries(frame: pd.DataFrame, year: int) -> tuple[climate.RegisterEntry, ...]:
    if frame.empty:
        return ()
    entries, problems = climate.read_register_frame(_rows(frame), f"climate register {year}")
    if problems:
        raise ValueError("; ".join(str(p) for p in problems[:5]))
    return entries


def count_by(frame: pd.DataFrame, column: str, classes: list[str]) -> dict[str, int]:
    """Rows per class of ``column``, every class listed in order (zeros included)."""
    if frame.empty:
        return dict.fromkeys(classes, 0)
    counts = frame[column].astype(str).value_counts()
    return {c: int(counts.get(c, 0)) for c in classes}
