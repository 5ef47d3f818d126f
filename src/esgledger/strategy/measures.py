"""The measure catalogue of the abatement plans: a CSV, one row per measure, read and checked
whole (every problem located ``file:row:column``), and priced at a grid factor.

Amounts are **per unit** of the measure: a yes/no measure is one unit (``max_units`` 1); a
divisible measure (green power in MWh, PV in kW) or a countable one (electric buses) is
adopted in units up to ``max_units``. A measure's abatement per unit and year is
``abatement_t_per_year + grid_mwh_per_year * grid_factor``: the first term is what it avoids
other than grid electricity, the second the grid electricity it avoids (negative: adds, e.g.
electric buses) priced at the grid factor (:func:`apply_grid_factor`). Packaged parameters
(discount rate, grid factor) are in ``data/measures_parameters.csv`` with their sources;
``data/measures_demo.csv`` is the demo's catalogue, with illustrative costs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from functools import cache
from importlib import resources
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.domain.rows import missing_columns
from esgledger.ingest.files import read_csv_strings

__all__ = [
    "CATALOGUE_COLUMNS",
    "DEMO_CATALOGUE",
    "LEVERS",
    "CatalogueError",
    "applicable",
    "apply_grid_factor",
    "catalogue_of_rows",
    "check_catalogue",
    "default_grid_factor",
    "default_rate",
    "for_basis",
    "load_catalogue",
    "load_parameters",
    "read_catalogue",
    "without_grid",
]

DEMO_CATALOGUE = "measures_demo.csv"
PARAMETERS = "measures_parameters.csv"
LEVERS = (
    "green_office",
    "energy_management",
    "travel",
    "recycling",
    "supply_chain",
    "green_power",
)
CATALOGUE_COLUMNS = (
    "measure_id",
    "name_en",
    "name_zh",
    "lever",
    "scope",
    "abatement_t_per_year",
    "capex_cny",
    "opex_cny_per_year",
    "lifetime_years",
    "start_year_min",
    "applicable_entities",
    "max_units",
    "unit",
    "divisible",
    "requires",
    "excludes",
    "source",
)
OPTIONAL_COLUMNS = ("grid_mwh_per_year", "counts_on")
"""``grid_mwh_per_year``: grid electricity avoided per unit and year (MWh; negative adds);
empty or absent is 0. ``counts_on``: the scope 2 bases its grid electricity counts on,
``both`` (empty or absent: a physical change, efficiency or on-site generation) or
``market`` (a contractual instrument: energy attribute certificates, green electricity
contracts, PPAs), see :func:`for_basis`."""
COUNTS_ON = ("both", "market")


class CatalogueError(ValueError):
    """A catalogue file with located problems (``file:row:column: expected ...``)."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


# -- data ------------------------------------------------------------------------------------


def _data_text(name: str) -> str:
    return resources.files("esgledger.strategy").joinpath("data", name).read_text("utf-8")


@cache
def load_parameters() -> Mapping[str, tuple[float, str, str]]:
    """The packaged parameters: ``{name: (value, unit, source)}`` (``discount_rate``,
    ``grid_factor``)."""
    frame = pd.read_csv(StringIO(_data_text(PARAMETERS)), dtype=str, keep_default_na=False)
    return {
        r["parameter"]: (float(r["value"]), r["unit"], r["source"])
        for r in frame.to_dict("records")
    }


def default_rate() -> float:
    """The packaged discount rate (an illustrative assumption, see its source)."""
    return load_parameters()["discount_rate"][0]


def default_grid_factor() -> float:
    """The packaged grid factor (tCO2/MWh) the catalogue's electricity abatement is priced at."""
    return load_parameters()["grid_factor"][0]


def _split(series: pd.Series[str]) -> pd.Series[Any]:
    return series.map(lambda s: tuple(p.strip() for p in s.split(";") if p.strip()))


def _numbers(
    frame: pd.DataFrame,
    name: str,
    column: str,
    what: str,
    ok: Callable[[pd.Series[float]], Any],
    problems: list[Diagnostic],
    *,
    empty: float | None = None,
) -> pd.Series[float]:
    """A column parsed as numbers, every cell failing ``ok`` (a vectorised test) reported."""
    text = frame[column]
    values = pd.to_numeric(text, errors="coerce").astype(float)
    if empty is not None:
        values = values.mask(text == "", empty)
    bad = ~(np.isfinite(values) & ok(values))
    for index in np.flatnonzero(bad.to_numpy()):
        problems.append(
            Diagnostic(
                column,
                f"expected {what}, got {text.iloc[index]!r}",
                file=name,
                row=int(index) + 2,
                column=column,
            )
        )
    return values


def _unknown_entities(
    frame: pd.DataFrame, name: str, entities: Collection[str]
) -> list[Diagnostic]:
    """A problem per id of ``applicable_entities`` that is neither ``*`` nor an entity."""
    known = {*entities, "*"}
    return [
        Diagnostic(
            "applicable_entities",
            f"expected * or ids of the ledger's entities, got {unknown!r}",
            file=name,
            row=index + 2,
            column="applicable_entities",
        )
        for index, ids in enumerate(_split(frame["applicable_entities"]))
        for unknown in ids
        if unknown not in known
    ]


def _unknown_links(
    frame: pd.DataFrame, name: str, links: Mapping[str, pd.Series[Any]]
) -> list[Diagnostic]:
    """A problem per id of ``requires``/``excludes`` that is not another measure's."""
    known = set(frame["measure_id"])
    return [
        Diagnostic(
            column,
            f"expected ids of other measures of the catalogue, got {other!r}",
            file=name,
            row=index + 2,
            column=column,
        )
        for column, found in links.items()
        for index, (own, ids) in enumerate(zip(frame["measure_id"], found, strict=True))
        for other in ids
        if other not in known or other == own
    ]


def read_catalogue(
    path: Path | str | None = None,
    grid_factor: float | None = None,
    entities: Collection[str] | None = None,
) -> tuple[pd.DataFrame | None, list[Diagnostic]]:
    """The measures of a catalogue CSV (default: the packaged demo catalogue) checked by
    :func:`check_catalogue`, or located diagnostics and no frame."""
    if path is None:
        name = DEMO_CATALOGUE
        frame = pd.read_csv(StringIO(_data_text(DEMO_CATALOGUE)), dtype=str, keep_default_na=False)
    else:
        read, name, problems = read_csv_strings(path, "catalogue")
        if read is None:
            return None, problems
        frame = read
    return check_catalogue(frame, name, grid_factor, entities)


def catalogue_of_rows(
    rows: Sequence[Mapping[str, str]],
    name: str,
    grid_factor: float | None = None,
    entities: Collection[str] | None = None,
) -> tuple[pd.DataFrame | None, list[Diagnostic]]:
    """:func:`check_catalogue` of rows of cells (a catalogue stored in a ledger)."""
    frame = pd.DataFrame([dict(r) for r in rows], dtype=str).fillna("")
    return check_catalogue(frame, name, grid_factor, entities)


def check_catalogue(
    frame: pd.DataFrame,
    name: str,
    grid_factor: float | None = None,
    entities: Collection[str] | None = None,
) -> tuple[pd.DataFrame | None, list[Diagnostic]]:
    """The measures of a catalogue's cells (strings, the header is row 1 of ``name``), or
    located diagnostics (``file:row:column``) and no frame.

    The frame has the catalogue's columns typed (tuples for ``applicable_entities``,
    ``requires``, ``excludes``; a bool ``divisible``), ``grid_mwh_per_year`` (0 when absent),
    ``counts_on`` (``both`` when absent), ``file`` and ``row``, and the abatement per unit at
    ``grid_factor`` (default: the packaged one) in ``unit_abatement_t``
    (:func:`apply_grid_factor`). With ``entities`` (the ledger's), every id of
    ``applicable_entities`` other than ``*`` must be one of them.
    """
    missing = missing_columns(frame, name, CATALOGUE_COLUMNS)
    if missing:
        return None, missing
    frame = frame.apply(lambda column: column.str.strip())
    for optional in OPTIONAL_COLUMNS:
        if optional not in frame.columns:
            frame[optional] = ""
    frame["counts_on"] = frame["counts_on"].replace("", "both")
    problems = []
    rows = pd.Series(np.arange(len(frame)) + 2, index=frame.index)

    def located(
        mask: pd.Series[bool], column: str, message: Callable[[pd.Series[Any]], str]
    ) -> None:
        for index in np.flatnonzero(mask.to_numpy()):
            problems.append(
                Diagnostic(
                    column,
                    message(frame.iloc[index]),
                    file=name,
                    row=int(rows.iloc[index]),
                    column=column,
                )
            )

    for column in ("measure_id", "name_en", "name_zh", "unit", "applicable_entities", "source"):
        located(frame[column] == "", column, lambda _r: "expected a value, got an empty cell")
    first = frame.groupby("measure_id")["measure_id"].transform(lambda s: rows[s.index[0]])
    located(
        (frame["measure_id"] != "") & (first != rows),
        "measure_id",
        lambda r: f"expected a unique measure id, {r['measure_id']!r} is on row {first.at[r.name]}",
    )
    located(
        ~frame["lever"].isin(LEVERS),
        "lever",
        lambda r: f"expected a lever ({', '.join(LEVERS)}), got {r['lever']!r}",
    )
    located(
        ~frame["counts_on"].isin(COUNTS_ON),
        "counts_on",
        lambda r: f"expected both, market or an empty cell, got {r['counts_on']!r}",
    )
    if entities is not None:
        problems += _unknown_entities(frame, name, entities)
    located(
        ~frame["divisible"].isin(("yes", "no")),
        "divisible",
        lambda r: f"expected yes or no, got {r['divisible']!r}",
    )
    scope = _numbers(
        frame, name, "scope", "a scope 1, 2 or 3", lambda v: v.isin((1, 2, 3)), problems
    )
    abatement = _numbers(
        frame, name, "abatement_t_per_year", "tCO2e/year >= 0", lambda v: v >= 0, problems
    )
    grid = _numbers(
        frame,
        name,
        "grid_mwh_per_year",
        "MWh/year or empty",
        lambda v: v.notna(),
        problems,
        empty=0.0,
    )
    capex = _numbers(frame, name, "capex_cny", "CNY >= 0", lambda v: v >= 0, problems)
    opex = _numbers(frame, name, "opex_cny_per_year", "CNY/year", lambda v: v.notna(), problems)
    lifetime = _numbers(
        frame,
        name,
        "lifetime_years",
        "a whole number of years >= 1",
        lambda v: (v >= 1) & (v == np.floor(v)),
        problems,
    )
    start = _numbers(
        frame,
        name,
        "start_year_min",
        "a year",
        lambda v: (v >= 1900) & (v <= 2200) & (v == np.floor(v)),
        problems,
    )
    divisible = frame["divisible"] == "yes"
    max_units = _numbers(
        frame,
        name,
        "max_units",
        "units > 0 (a whole number for a measure that is not divisible)",
        lambda v: (v > 0) & (divisible | (v == np.floor(v))),
        problems,
    )
    factor = default_grid_factor() if grid_factor is None else grid_factor
    total = abatement + grid.fillna(0.0) * factor
    located(
        total.notna() & (total <= 0),
        "abatement_t_per_year",
        lambda r: (
            "expected a positive abatement per unit "
            f"(abatement_t_per_year + grid_mwh_per_year x {factor:g}), "
            f"got {r['abatement_t_per_year']} + {r['grid_mwh_per_year'] or 0}"
        ),
    )
    requires, excludes = _split(frame["requires"]), _split(frame["excludes"])
    problems += _unknown_links(frame, name, {"requires": requires, "excludes": excludes})
    both = [bool(set(r) & set(e)) for r, e in zip(requires, excludes, strict=True)]
    located(
        pd.Series(both, index=frame.index),
        "excludes",
        lambda _r: "expected no measure both required and excluded",
    )
    if problems:
        problems.sort(
            key=lambda d: (
                d.row or 0,
                CATALOGUE_COLUMNS.index(d.column or "source")
                if d.column in CATALOGUE_COLUMNS
                else 99,
            )
        )
        return None, problems
    catalogue = pd.DataFrame(
        {
            "measure_id": frame["measure_id"],
            "name_en": frame["name_en"],
            "name_zh": frame["name_zh"],
            "lever": frame["lever"],
            "scope": scope.astype(int),
            "abatement_t_per_year": abatement,
            "grid_mwh_per_year": grid,
            "counts_on": frame["counts_on"],
            "capex_cny": capex,
            "opex_cny_per_year": opex,
            "lifetime_years": lifetime.astype(int),
            "start_year_min": start.astype(int),
            "applicable_entities": _split(frame["applicable_entities"]),
            "max_units": max_units,
            "unit": frame["unit"],
            "divisible": divisible,
            "requires": requires,
            "excludes": excludes,
            "source": frame["source"],
            "file": name,
            "row": rows,
        }
    ).reset_index(drop=True)
    return apply_grid_factor(catalogue, factor), []


def load_catalogue(
    path: Path | str | None = None,
    grid_factor: float | None = None,
    entities: Collection[str] | None = None,
) -> pd.DataFrame:
    """:func:`read_catalogue`, raising :class:`CatalogueError` (all located problems)."""
    catalogue, problems = read_catalogue(path, grid_factor, entities)
    if catalogue is None:
        raise CatalogueError(problems)
    return catalogue


def apply_grid_factor(catalogue: pd.DataFrame, grid_factor: float) -> pd.DataFrame:
    """The catalogue with its abatement per unit priced at ``grid_factor`` (tCO2/MWh):
    ``unit_abatement_t = abatement_t_per_year + grid_mwh_per_year * grid_factor``."""
    out = catalogue.copy()
    out["grid_factor"] = float(grid_factor)
    out["unit_abatement_t"] = out["abatement_t_per_year"] + out["grid_mwh_per_year"] * grid_factor
    return out


def for_basis(catalogue: pd.DataFrame, basis: str) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The catalogue for a plan on the scope 2 ``basis``, with a warning per measure left out.

    On the ``market`` basis, unchanged. On the ``location`` basis the grid electricity of a
    contractual instrument (``counts_on`` ``market``: certificates, green electricity
    contracts, PPAs) abates nothing: the location-based method reflects the grid's average
    intensity whatever the company buys (GHG Protocol Scope 2 Guidance, 2015, ch. 4 and 6).
    Its abatement per unit is what it avoids other than grid electricity, and a measure left
    with none is dropped, named in a warning."""
    if basis == "market":
        return catalogue, []
    instrument = catalogue["counts_on"] == "market"
    out = catalogue.copy()
    out.loc[instrument, "unit_abatement_t"] = out.loc[instrument, "abatement_t_per_year"]
    dropped = instrument & (out["unit_abatement_t"] <= 0)
    why = (
        "a contractual instrument (counts_on market) lowers market-based scope 2 only; left "
        "out of a plan on the location basis"
    )
    return _without(out, dropped, _left_out(out[dropped], "scope2-instrument", "counts_on", why))


def _left_out(rows: pd.DataFrame, code: str, column: str, why: str) -> list[Diagnostic]:
    """A warning per measure of ``rows`` left out of a plan, at its catalogue cell."""
    return [
        Diagnostic(
            code,
            f"{row['measure_id']}: {why}",
            Severity.WARNING,
            file=str(row["file"]),
            row=int(row["row"]),
            column=column,
        )
        for _, row in rows.iterrows()
    ]


def _without(
    catalogue: pd.DataFrame, dropped: pd.Series[bool], notes: list[Diagnostic]
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The catalogue without the ``dropped`` measures and those that require one of them
    (each named in a warning, after ``notes``), with the dropped ids taken out of the others'
    exclusions (excluding a measure that is not on offer excludes nothing)."""
    gone = set(catalogue.loc[dropped, "measure_id"])
    notes = list(notes)
    while True:
        needs = [bool(gone & set(ids)) for ids in catalogue["requires"]]
        blocked = pd.Series(needs, index=catalogue.index) & ~catalogue["measure_id"].isin(gone)
        if not blocked.any():
            break
        for index, row in catalogue[blocked].iterrows():
            missing = ", ".join(sorted(gone & set(row["requires"])))
            why = f"requires {missing}, left out; left out too"
            notes += _left_out(catalogue.loc[[index]], "requires-left-out", "requires", why)
        gone |= set(catalogue.loc[blocked, "measure_id"])
    kept = catalogue[~catalogue["measure_id"].isin(gone)].copy()
    kept["excludes"] = kept["excludes"].map(lambda ids: tuple(i for i in ids if i not in gone))
    return kept.reset_index(drop=True), notes


def without_grid(catalogue: pd.DataFrame, why: str) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The catalogue without the measures that change grid electricity (``grid_mwh_per_year``
    not 0), each named in a warning saying ``why`` they cannot be priced (a baseline with no
    purchased electricity has no implied grid factor), and without those requiring them."""
    grid = catalogue["grid_mwh_per_year"] != 0
    text = f"changes grid electricity, {why}; left out of the plan"
    notes = _left_out(catalogue[grid], "no-grid-factor", "grid_mwh_per_year", text)
    return _without(catalogue, grid, notes)


def applicable(catalogue: pd.DataFrame, entities: Sequence[str]) -> pd.DataFrame:
    """The measures applicable to any of ``entities`` (``*`` applies to every entity).

    A measure requiring one that is dropped here cannot be adopted by the optimiser."""
    wanted = set(entities)
    keep = catalogue["applicable_entities"].map(lambda ids: "*" in ids or bool(wanted & set(ids)))
    return catalogue[keep.astype(bool)].reset_index(drop=True)
