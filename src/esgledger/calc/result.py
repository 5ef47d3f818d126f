"""The result of an inventory: consolidated GHG and energy lines with the factors behind them,
and the totals every figure reads from them (:class:`InventoryResult`; made by
:func:`esgledger.calc.engine.compute_inventory`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from esgledger.calc.energy import ENERGY_COLUMNS
from esgledger.domain.diagnostics import Diagnostic, has_errors
from esgledger.factors.resolve import CalcSettings
from esgledger.units import UnitError, conversion_factor

LINE_COLUMNS = [
    "entity_id",
    "year",
    "month",
    "scope",
    "category",
    "activity_type",
    "region",
    "gas",
    "factor_id",
    "basis",
    "method",
    "quantity_basis",
    "quantity_gross",
    "basis_unit",
    "n_records",
    "t_gas",
    "gwp",
    "tco2e_gross",
    "share",
    "tco2e",
]
REMOVAL_COLUMNS = [
    "entity_id",
    "year",
    "month",
    "activity_type",
    "region",
    "n_records",
    "tco2_gross",
    "share",
    "tco2",
]
"""GHG removals (ISO 14064-1 5.2.4): tonnes of CO2 removed, consolidated like emissions, kept
apart from every scope and total (never netted)."""
ACTIVITY_COLUMNS = [
    "entity_id",
    "year",
    "activity_type",
    "unit",
    "n_records",
    "quantity_gross",
    "share",
    "quantity",
]
"""The activity of the inventory in the units it was recorded in, per entity, year, type and
unit: ``quantity`` consolidated (x share, the boundary of every other figure of the view),
``quantity_gross`` the entity's whole activity."""


@dataclass(frozen=True)
class InventoryResult:
    """Consolidated GHG and energy lines with the factors behind them."""

    settings: CalcSettings
    library_version: str
    lines: pd.DataFrame
    energy: pd.DataFrame
    resolved: pd.DataFrame
    conversions: pd.DataFrame
    boundary: pd.DataFrame
    diagnostics: tuple[Diagnostic, ...]
    activity: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ACTIVITY_COLUMNS))
    removals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REMOVAL_COLUMNS))

    @classmethod
    def empty(cls, settings: CalcSettings, library_version: str) -> InventoryResult:
        """The inventory of a ledger without entities: no lines, no diagnostics."""
        return cls(
            settings=settings,
            library_version=library_version,
            lines=pd.DataFrame(columns=LINE_COLUMNS),
            energy=pd.DataFrame(columns=ENERGY_COLUMNS),
            resolved=pd.DataFrame(),
            conversions=pd.DataFrame(),
            boundary=pd.DataFrame(columns=["entity_id", "share"]),
            diagnostics=(),
        )

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def years(self) -> list[int]:
        found = {*pd.unique(self.lines["year"]), *pd.unique(self.energy["year"])}
        return sorted({int(y) for y in found})  # distinct years first: lines are many

    def basis_lines(self, basis: str = "location") -> pd.DataFrame:
        """Lines entering a location- or market-based view (scope 1 and 3 enter both)."""
        return self.lines[self.lines["basis"].isin(("both", basis))]

    @cached_property
    def _scope_sums(self) -> pd.DataFrame:
        """tCO2e and number of lines per year, entity, scope and basis: what the totals read
        (one pass over the lines, however many totals a report or page asks for)."""
        keys = ["year", "entity_id", "scope", "basis"]
        if self.lines.empty:
            return pd.DataFrame(columns=[*keys, "tco2e", "n"])
        grouped = self.lines.groupby(keys, sort=False, observed=True, dropna=False)["tco2e"]
        return grouped.agg(tco2e="sum", n="size").reset_index()

    @cached_property
    def _parts(self) -> dict[tuple[int, str | None], dict[str, float | bool]]:
        """Scope sums and presence per (year, entity or None), made when first asked for (a
        report asks for a hundred totals of a few keys)."""
        return {}

    def _parts_of(self, year: int, entity_id: str | None) -> dict[str, float | bool]:
        key = (int(year), entity_id)
        found = self._parts.get(key)
        if found is not None:
            return found
        sums = self._scope_sums
        lines = sums[sums["year"] == year]
        if entity_id is not None:
            lines = lines[lines["entity_id"] == entity_id]
        scope = lines["scope"].astype(int)
        location = lines["basis"].isin(("both", "location"))
        market = lines["basis"].isin(("both", "market"))
        parts: dict[str, float | bool] = {
            "scope1": float(lines.loc[scope == 1, "tco2e"].sum()),
            "scope2_location": float(lines.loc[(scope == 2) & location, "tco2e"].sum()),
            "scope2_market": float(lines.loc[(scope == 2) & market, "tco2e"].sum()),
            "scope3": float(lines.loc[scope == 3, "tco2e"].sum()),
            "has_scope1": bool((scope == 1).any()),
            "has_scope2_location": bool(((scope == 2) & location).any()),
            "has_scope2_market": bool(((scope == 2) & market).any()),
            "has_scope3": bool((scope == 3).any()),
            "has_total": not lines.empty,
        }
        self._parts[key] = parts
        return parts

    @cached_property
    def _energy_sums(self) -> pd.DataFrame:
        """tce, MWh, primary tce and number of energy lines per year and entity (one pass over
        the energy lines, however many totals are asked for)."""
        keys, values = ["year", "entity_id"], ["tce", "mwh", "tce_primary"]
        if self.energy.empty:
            return pd.DataFrame(columns=[*keys, *values, "n"])
        grouped = self.energy.groupby(keys, sort=False, observed=True, dropna=False)
        sums = grouped[values].sum()
        return sums.assign(n=grouped.size()).reset_index()

    def energy_present(self, year: int) -> bool:
        """Whether a year has any energy line."""
        sums = self._energy_sums
        return bool((sums["year"] == year).any())

    def scope_present(self, year: int) -> dict[str, bool]:
        """Whether a year has any line of scope 1, scope 2 (location, market), scope 3, any."""
        parts = self._parts_of(year, None)
        names = ("scope1", "scope2_location", "scope2_market", "scope3", "total")
        return {name: bool(parts[f"has_{name}"]) for name in names}

    def scope_totals(
        self, year: int, basis: str | None = None, entity_id: str | None = None
    ) -> dict[str, float]:
        """Scope 1, 2 (location and market), 3 and total of a year, consolidated."""
        parts = self._parts_of(year, entity_id)
        total_basis = basis or self.settings.scope2_total_basis
        s1, s3 = float(parts["scope1"]), float(parts["scope3"])
        s2l, s2m = float(parts["scope2_location"]), float(parts["scope2_market"])
        s2 = s2l if total_basis == "location" else s2m
        return {
            "scope1": s1,
            "scope2_location": s2l,
            "scope2_market": s2m,
            "scope3": s3,
            "total": s1 + s2 + s3,
        }

    def removal_total(self, year: int, entity_id: str | None = None) -> float | None:
        """Consolidated tCO2 removed in a year (never part of a scope or total); None when
        no removal is recorded that year."""
        r = self.removals[self.removals["year"] == year]
        if entity_id is not None:
            r = r[r["entity_id"] == entity_id]
        return None if r.empty else float(r["tco2"].sum())

    def energy_totals(self, year: int, entity_id: str | None = None) -> dict[str, float]:
        energy = self._energy_sums
        energy = energy[energy["year"] == year]
        if entity_id is not None:
            energy = energy[energy["entity_id"] == entity_id]
        return {
            "tce": float(energy["tce"].sum()),
            "mwh": float(energy["mwh"].sum()),
            "tce_primary": float(energy["tce_primary"].sum()),
        }

    def activity_quantity(
        self, activity_type: str, unit: str, year: int, entity_id: str | None = None
    ) -> float | None:
        """Consolidated activity of a type in ``unit``; None when the type has no record that
        year. Each recorded unit is converted once: by the unit registry where the dimensions
        match, else through the inventory's own route for the year (the density of a liquid
        fuel: litres and tonnes of gasoline), so that the figure agrees with the calculation.
        UnitError when neither applies (no density of that year, say)."""
        a = self.activity
        rows = a[(a["activity_type"] == activity_type) & (a["year"] == year)]
        if entity_id is not None:
            rows = rows[rows["entity_id"] == entity_id]
        if rows.empty:
            return None
        per_unit = rows.groupby(["entity_id", "unit"], sort=True, as_index=False)["quantity"].sum()
        return float(
            sum(
                q * self._unit_factor(activity_type, str(u), unit, year, str(e))
                for e, u, q in per_unit.itertuples(index=False)
            )
        )

    def activity_sum(
        self, activity_types: Sequence[str], unit: str, year: int, entity_id: str | None = None
    ) -> float | None:
        """:meth:`activity_quantity` of several types added up (a fuel recorded as stationary
        and mobile); None when none of them has a record that year."""
        found = [self.activity_quantity(t, unit, year, entity_id) for t in activity_types]
        present = [q for q in found if q is not None]
        return float(sum(present)) if present else None

    def _unit_factor(
        self, activity_type: str, unit: str, target: str, year: int, entity_id: str
    ) -> float:
        """The factor from ``unit`` to ``target`` for an entity's records of a type and year
        (the entity's own route where its measured fuel properties give it one)."""
        try:
            return conversion_factor(unit, target)
        except UnitError:
            pass
        c = self.conversions
        known = c[(c["activity_type"] == activity_type) & (c["year"] == year)]
        own = known["prop_entity"] == entity_id
        known = known[own] if own.any() else known[known["prop_entity"].isna()]
        to_basis = dict(zip(known["unit"], known["factor"], strict=True))
        if unit in to_basis:  # unit -> basis, then basis -> target through a unit of target's kind
            for other, factor in to_basis.items():
                try:
                    per_target = conversion_factor(str(other), target)
                except UnitError:
                    continue
                return float(to_basis[unit]) / float(factor) * per_target
        raise UnitError(
            f"{activity_type} {year}: records in {unit} cannot be shown in {target}: the "
            f"calculation converts {unit} but holds no route to {target} for that year"
        )

    def by(self, dims: list[str], basis: str = "location") -> pd.DataFrame:
        """Totals of tCO2e by any line columns (entity_id, scope, category, gas, year...)."""
        lines = self.basis_lines(basis)
        return pd.DataFrame(lines.groupby(dims, as_index=False, dropna=False)["tco2e"].sum())
