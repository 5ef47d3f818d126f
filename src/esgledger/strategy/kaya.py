"""The Kaya inputs of an LMDI-I decomposition (:mod:`.lmdi`) of a ledger's inventory.

``C = sum_i Q * S_i * I_i * F_i``: ``Q`` the activity (revenue in 万元 or headcount),
``S_i = Q_i / Q`` the structure share, ``I_i = E_i / Q_i`` the energy intensity (tce per unit
of activity), ``F_i = C_i / E_i`` the carbon intensity of energy (tCO2e/tce); without energy,
``C = sum_i Q * S_i * CI_i`` with ``CI_i = C_i / Q_i``. :func:`kaya_factors` turns quantities
into factors; :func:`kaya_inputs` reads the quantities of a :class:`KayaSource` (an inventory,
the group's and the entities' activity, the roots: data, no ledger; the use case
:func:`esgledger.usecases.strategy.kaya_decomposition` builds it from the Book), with every
fallback stated in a diagnostic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.strategy.lmdi import Decomposition, LmdiParameters, decompose

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from esgledger.calc import InventoryResult

__all__ = [
    "KAYA_NO_ENERGY_FACTORS",
    "RAW_COLUMNS",
    "UNITS",
    "Activity",
    "By",
    "KayaInputs",
    "KayaSource",
    "entity_activity",
    "kaya_decomposition",
    "kaya_factors",
    "kaya_inputs",
]

KAYA_NO_ENERGY_FACTORS = ("activity", "structure", "emission_intensity")
"""C = sum_i Q * S_i * CI_i with CI_i = C_i / Q_i: the fallback when energy is missing."""
Activity = Literal["revenue", "headcount"]
By = Literal["entity", "scope"]

UNITS: Mapping[str, Mapping[str, str]] = {
    "revenue": {
        "activity": "万元",
        "structure": "1",
        "energy_intensity": "tce/万元",
        "carbon_intensity": "tCO2e/tce",
        "emission_intensity": "tCO2e/万元",
    },
    "headcount": {
        "activity": "person",
        "structure": "1",
        "energy_intensity": "tce/person",
        "carbon_intensity": "tCO2e/tce",
        "emission_intensity": "tCO2e/person",
    },
}
"""Units of the Kaya factors by activity measure (emissions in tCO2e, energy in tce)."""


RAW_COLUMNS = ("subsector", "year", "activity", "energy", "emissions")


def kaya_factors(raw: pd.DataFrame, *, structure: bool = True, energy: bool = True) -> pd.DataFrame:
    """Kaya factor columns from quantities per subsector and year (vectorised).

    ``raw`` columns: ``subsector``, ``year``, ``activity``, ``energy`` (tce; not read when
    ``energy`` is False), ``emissions`` (tCO2e). With ``structure`` the activity is the
    subsector's own ``Q_i`` and ``Q = sum_i Q_i``; without it ``activity`` is the group's
    ``Q``, the same on every row of a year (subsectors that share one activity, like the
    scopes of a group), and the structure factor is left out.

    Factors: ``activity`` Q; ``structure`` Q_i/Q; ``energy_intensity`` E_i/Q_i (E_i/Q
    without structure); ``carbon_intensity`` C_i/E_i; or, without energy,
    ``emission_intensity`` C_i/Q_i (C_i/Q). A subsector missing in a year gets zero
    quantities; a ratio 0/0 is set to 1 (``delta/delta`` of the zero substitution, its value
    does not matter in the limit treatment).
    """
    need = [c for c in RAW_COLUMNS if c != "energy" or energy]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise ValueError(f"raw frame lacks {', '.join(missing)}: expected columns {need}")
    data = raw[need].copy()
    data["year"] = data["year"].astype(int)
    values = [c for c in need if c not in ("subsector", "year")]
    numbers = data[values].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(numbers)) or np.any(numbers < 0):
        raise ValueError(f"raw quantities {values}: expected finite values >= 0")
    if data.duplicated(["subsector", "year"]).any():
        raise ValueError("raw frame repeats a subsector in a year: expected one row each")
    group_q = data.groupby("year")["activity"]
    if not structure and (group_q.max() != group_q.min()).any():
        raise ValueError(
            "without structure the activity is the group's: expected one value per year"
        )
    q_total = group_q.sum() if structure else group_q.first()
    full = pd.MultiIndex.from_product(
        [sorted(data["subsector"].unique(), key=str), sorted(data["year"].unique())],
        names=["subsector", "year"],
    )
    data = data.set_index(["subsector", "year"]).reindex(full, fill_value=0.0).reset_index()
    q = data["year"].map(q_total).to_numpy(dtype=np.float64)
    if not structure:
        data["activity"] = q
    q_i = data["activity"].to_numpy(dtype=np.float64)
    c_i = data["emissions"].to_numpy(dtype=np.float64)
    out = pd.DataFrame({"subsector": data["subsector"], "year": data["year"], "activity": q})
    if (q <= 0).any():
        raise ValueError("group activity is 0 in a year: expected a positive activity")
    if structure:
        out["structure"] = q_i / q
    if energy:
        e_i = data["energy"].to_numpy(dtype=np.float64)
        _undefined(data, (q_i == 0) & (e_i > 0), "energy > 0 with activity 0", "activity > 0")
        _undefined(data, (e_i == 0) & (c_i > 0), "emissions > 0 with energy 0", "energy > 0")
        out["energy_intensity"] = _ratio(e_i, q_i)
        out["carbon_intensity"] = _ratio(c_i, e_i)
    else:
        _undefined(data, (q_i == 0) & (c_i > 0), "emissions > 0 with activity 0", "activity > 0")
        out["emission_intensity"] = _ratio(c_i, q_i)
    return out


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)


def _undefined(data: pd.DataFrame, mask: NDArray[np.bool_], what: str, expected: str) -> None:
    if mask.any():
        where = ", ".join(
            f"{s} {y}" for s, y in zip(data["subsector"][mask], data["year"][mask], strict=True)
        )
        raise ValueError(f"{what} ({where}): expected {expected} where it is needed")


@dataclass(frozen=True)
class KayaInputs:
    """Kaya quantities and factors of a ledger for two years, with the choices made.

    ``raw``: subsector, year, activity, energy (tce), emissions (tCO2e); ``factors``: the
    factor frame :func:`decompose` reads; ``factor_names``: its factor columns; ``notes``:
    which factors were used and why (fallbacks are warnings, never silent).
    """

    year0: int
    year1: int
    activity: Activity
    by: By
    raw: pd.DataFrame
    factors: pd.DataFrame
    factor_names: tuple[str, ...]
    units: Mapping[str, str]
    notes: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class KayaSource:
    """What a Kaya decomposition reads of a ledger, as data.

    ``result``: the inventory (its settings name the scope 2 total basis); ``group_activity``:
    the group's activity per year (revenue in 万元 or headcount, as the decomposition's
    ``activity``; None or missing when the ledger has none, an error); ``entity_activity``:
    per year, the activity per entity (:func:`entity_activity`; may be empty); ``roots``: the
    root entities of the organisation (the group itself, never a subsector with structure).
    :func:`esgledger.usecases.strategy.kaya_decomposition` builds it from the Book.
    """

    result: InventoryResult
    group_activity: Mapping[int, float | None]
    entity_activity: Mapping[int, pd.Series]
    roots: frozenset[str]


def _group_activity(source: KayaSource, activity: Activity, year: int) -> float:
    value = source.group_activity.get(year)
    if value is None or value <= 0:
        what = "revenue (万元)" if activity == "revenue" else "headcount (employees)"
        raise ValueError(
            f"no group {what} for {year}: expected a positive context figure of the root "
            "entity for both years"
        )
    return float(value)


def entity_activity(context: pd.DataFrame, activity: Activity, year: int) -> pd.Series:
    """Activity per entity in ``year`` from the context metrics (``entity_id, year, metric,
    value, unit``: revenue converted to 万元, or employees), summed per entity; may be empty."""
    from esgledger.units import conversion_factor  # noqa: PLC0415

    metric = "revenue" if activity == "revenue" else "employees"
    rows = context[(context["metric"] == metric) & (context["year"] == year)]
    if rows.empty:
        return pd.Series(dtype=np.float64)
    if activity == "revenue":
        factor = rows["unit"].map(lambda u: conversion_factor(str(u), "万元"))
        values = rows["value"].astype(float) * factor.astype(float)
    else:
        values = rows["value"].astype(float)
    return values.groupby(rows["entity_id"]).sum()


def _scope_raw(
    lines: pd.DataFrame,
    scopes: Sequence[int],
    q: Mapping[int, float],
    e_total: pd.Series,
    has_energy: bool,
    notes: list[Diagnostic],
) -> pd.DataFrame:
    """Scopes as subsectors sharing the group activity and energy."""
    year0, year1 = sorted(q)
    emis = lines.groupby(["scope", "year"])["tco2e"].sum()
    full = pd.MultiIndex.from_product([sorted(scopes), [year0, year1]])
    emis = emis.reindex(full, fill_value=0.0)
    raw = pd.DataFrame(
        {
            "subsector": [f"scope{s}" for s, _ in emis.index],
            "year": [y for _, y in emis.index],
            "emissions": emis.to_numpy(),
        }
    )
    raw["activity"] = raw["year"].map(q)
    raw["energy"] = raw["year"].map(e_total)
    notes.append(
        Diagnostic(
            "lmdi.scopes",
            "subsectors are the scopes: they share the group activity"
            + (" and energy (C_s = Q x E/Q x C_s/E)" if has_energy else "")
            + "; there is no structure factor",
            Severity.INFO,
        )
    )
    return raw


def _entity_raw(
    source: KayaSource,
    lines: pd.DataFrame,
    energy: pd.DataFrame,
    activity: Activity,
    q: Mapping[int, float],
    has_energy: bool,
    notes: list[Diagnostic],
) -> tuple[pd.DataFrame, bool, bool]:
    """Entities as subsectors: the raw frame, whether a structure factor exists, and
    whether the energy split holds."""
    year0, year1 = sorted(q)
    structure = False
    emis = lines.groupby(["entity_id", "year"])["tco2e"].sum()
    en = energy.groupby(["entity_id", "year"])["tce"].sum()
    index = emis.index.union(en.index)
    raw = pd.DataFrame(
        {
            "subsector": index.get_level_values(0).astype(str),
            "year": index.get_level_values(1).astype(int),
            "emissions": emis.reindex(index, fill_value=0.0).to_numpy(),
            "energy": en.reindex(index, fill_value=0.0).to_numpy(),
        }
    )
    sets = {y: set(raw.loc[raw["year"] == y, "subsector"]) for y in (year0, year1)}
    if sets[year0] != sets[year1]:
        notes.append(_entities_differ(sets, year0, year1))
    empty = pd.Series(dtype=np.float64)
    own = {y: source.entity_activity.get(y, empty) for y in (year0, year1)}
    roots = source.roots
    covered = all(
        s in own[y].index for y in (year0, year1) for s in sets[y] if s not in roots
    ) and all(not (sets[y] & roots) for y in (year0, year1))
    if covered:
        structure = True
        table = pd.concat(own, names=["year", "subsector"])
        keys = pd.MultiIndex.from_arrays([raw["year"], raw["subsector"]])
        raw["activity"] = table.reindex(keys).to_numpy(dtype=np.float64)
        raw.loc[raw["emissions"].eq(0) & raw["energy"].eq(0), "activity"] = 0.0
    else:
        raw["activity"] = raw["year"].map(q)
        notes.append(
            Diagnostic(
                "lmdi.no_entity_activity",
                f"no {activity} per entity for every entity in both years: the entities "
                "share the group activity, no structure factor; "
                + (
                    "the energy intensity E_i / Q carries structure and intensity together"
                    if has_energy
                    else "the emission intensity C_i / Q carries structure and intensity"
                ),
                Severity.WARNING,
            )
        )
    if has_energy:
        bad = raw[(raw["energy"] <= 0) & (raw["emissions"] > 0)]
        if not bad.empty:
            has_energy = False
            notes.append(_emissions_without_energy(bad, structure))
    return raw, structure, has_energy


def _entities_differ(sets: Mapping[int, set[str]], year0: int, year1: int) -> Diagnostic:
    only = {y: sorted(sets[y] - sets[x]) for y, x in ((year0, year1), (year1, year0))}
    return Diagnostic(
        "lmdi.entities_differ",
        f"entities differ between the years (only in {year0}: "
        f"{', '.join(only[year0]) or '-'}; only in {year1}: "
        f"{', '.join(only[year1]) or '-'}): they enter with zero quantities in the "
        "other year (limit treatment); if a year holds only group-level reported "
        "totals, by='scope' is the consistent structure",
        Severity.WARNING,
    )


def _emissions_without_energy(bad: pd.DataFrame, structure: bool) -> Diagnostic:
    return Diagnostic(
        "lmdi.emissions_without_energy",
        "emissions with no energy ("
        + ", ".join(f"{s} {y}" for s, y in zip(bad["subsector"], bad["year"], strict=True))
        + "): the carbon intensity of energy is undefined there; factors used: "
        "activity" + (", structure" if structure else "") + ", emission intensity (C_i / Q_i)",
        Severity.WARNING,
    )


def _check_choices(year0: int, year1: int, activity: Activity, by: By) -> None:
    if year0 == year1:
        raise ValueError(f"years {year0} and {year1}: expected two different years")
    if by not in ("entity", "scope"):
        raise ValueError(f"by {by!r}: expected 'entity' or 'scope'")
    if activity not in ("revenue", "headcount"):
        raise ValueError(f"activity {activity!r}: expected 'revenue' or 'headcount'")


def _year_quantities(
    source: KayaSource, year0: int, year1: int, activity: Activity, scopes: Sequence[int]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, float], pd.Series]:
    """The inventory lines of ``scopes`` (scope 2 on the total basis) and the energy of the
    two years, the group's activity and the energy (tce) per year; ValueError when the group
    has no activity or a year no emissions."""
    result = source.result
    lines = result.lines  # the two years first: the basis is a text column of every line
    lines = lines[lines["year"].isin((year0, year1)) & lines["scope"].isin(list(scopes))]
    lines = lines[lines["basis"].isin(("both", result.settings.scope2_total_basis))]
    energy = result.energy[result.energy["year"].isin((year0, year1))]
    q = {y: _group_activity(source, activity, y) for y in (year0, year1)}
    e_total = energy.groupby("year")["tce"].sum().reindex([year0, year1], fill_value=0.0)
    c_total = lines.groupby("year")["tco2e"].sum().reindex([year0, year1], fill_value=0.0)
    for year in (year0, year1):
        if c_total[year] <= 0:
            raise ValueError(
                f"no emissions of scopes {list(scopes)} in {year}: expected inventory lines "
                "for both years"
            )
    return lines, energy, q, e_total


def _no_energy(years: Sequence[str], structure: bool) -> Diagnostic:
    return Diagnostic(
        "lmdi.no_energy",
        f"no energy in {', '.join(years)}: energy intensity and carbon "
        "intensity of energy cannot be separated; factors used: activity"
        + (", structure" if structure else "")
        + ", emission intensity (C_i / Q_i, tCO2e per unit of activity)",
        Severity.WARNING,
    )


def _factors_note(
    units: Mapping[str, str], by: By, scopes: Sequence[int], basis: str
) -> Diagnostic:
    return Diagnostic(
        "lmdi.factors",
        f"factors: {', '.join(f'{n} ({u})' for n, u in units.items())}; subsectors: {by}; "
        f"emissions of scopes {', '.join(map(str, scopes))} (scope 2 "
        f"{basis}-based), tCO2e",
        Severity.INFO,
    )


def kaya_inputs(
    source: KayaSource,
    year0: int,
    year1: int,
    activity: Activity = "revenue",
    by: By = "entity",
    scopes: Sequence[int] = (1, 2, 3),
) -> KayaInputs:
    """The Kaya inputs of ``source`` (a ledger's inventory and activity) for ``year0`` and
    ``year1``.

    Emissions are the consolidated inventory lines of ``scopes`` (scope 2 on the inventory's
    total basis), energy the consolidated energy in tce, activity the group's revenue (万元)
    or headcount (``source`` holds the one ``activity`` names). ``by``:

    ``entity``
        subsectors are entities. The structure share needs each entity's activity (context
        metric of the entity); without it the entities share the group activity and the
        energy intensity ``E_i / Q`` carries structure and intensity together (a warning
        says so). Entities in one year only are kept (zero in the other year).
    ``scope``
        subsectors are the scopes of the group; they share the activity and the energy, so
        ``C_s = Q * (E / Q) * (C_s / E)``: activity, energy intensity of the group, carbon
        intensity per scope. The consistent choice when one year holds only group-level
        reported totals (as the demo's 2020-2023).

    When a year has no energy (or a subsector emits with no energy), the energy split is
    dropped: ``C = sum_i Q * S_i * CI_i`` (``CI_i = C_i / Q_i``) and a warning names the
    factors used and why.
    """
    _check_choices(year0, year1, activity, by)
    lines, energy, q, e_total = _year_quantities(source, year0, year1, activity, scopes)
    notes: list[Diagnostic] = []
    has_energy = bool((e_total > 0).all())
    no_energy_years = [str(y) for y in (year0, year1) if e_total[y] <= 0]
    if by == "scope":
        structure = False
        raw = _scope_raw(lines, scopes, q, e_total, has_energy, notes)
    else:
        raw, structure, has_energy = _entity_raw(
            source, lines, energy, activity, q, has_energy, notes
        )
    if no_energy_years:
        notes.append(_no_energy(no_energy_years, structure))
    raw = raw[list(RAW_COLUMNS)].sort_values(["subsector", "year"], ignore_index=True)
    factors = kaya_factors(raw, structure=structure, energy=has_energy)
    names = tuple(c for c in factors.columns if c not in ("subsector", "year"))
    units = {n: UNITS[activity][n] for n in names}
    notes.append(_factors_note(units, by, scopes, source.result.settings.scope2_total_basis))
    return KayaInputs(year0, year1, activity, by, raw, factors, names, units, notes=tuple(notes))


def kaya_decomposition(
    source: KayaSource,
    year0: int,
    year1: int,
    activity: Activity = "revenue",
    by: By = "entity",
    scopes: Sequence[int] = (1, 2, 3),
    parameters: LmdiParameters | None = None,
) -> tuple[Decomposition, KayaInputs]:
    """:func:`kaya_inputs` then :func:`decompose`; the notes of both are on the result."""
    inputs = kaya_inputs(source, year0, year1, activity=activity, by=by, scopes=scopes)
    result = decompose(
        inputs.factors,
        inputs.factor_names,
        year0=year0,
        year1=year1,
        parameters=parameters,
        units=inputs.units,
    )
    return replace(result, notes=(*inputs.notes, *result.notes)), inputs
