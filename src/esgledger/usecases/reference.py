"""The one door for a change of a calculation input: settings, factor overrides, parameters,
context metrics, entities and base-year (structural) changes.

Every function here, whatever calls it (a CLI command, a web route), does the same three
things in one transaction:

1. checks the caller's permission (``edit``; group-wide inputs need a caller who sees the whole
   group, a context figure one who sees its entity; the CLI acts as the operator,
   :func:`esgledger.auth.accounts.operator`);
2. works out the years whose figures the change may alter and refuses it
   (:class:`LockedPeriodChange`, a 409) when one of them is locked: nothing changes a locked
   period except an approved adjustment. A setting, or a change of an existing entity's shares,
   control, region, parent, kind or dates, alters every year with data; an override,
   parameter or context value only the years it covers (its year, or every year with data when
   it has none); a new entity only the years of records already naming it; a base-year change
   the years it names (and those of the change it replaces);
3. writes the change and its audit entry (the values before and after) together.

Writing the same values again changes nothing: it is neither written nor audited, and never
refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from types import MappingProxyType
from typing import Any

from esgledger import audit
from esgledger.auth import access
from esgledger.auth.access import require
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.calc.normalise import density_range, kg_per_litre
from esgledger.calc.workforce import TURNOVER_BASES
from esgledger.domain.context_metrics import context_units
from esgledger.domain.errors import Conflict, Forbidden, Invalid, NotFound
from esgledger.domain.model import Entity, StructuralChange
from esgledger.factors import load_library
from esgledger.factors.library import FactorLibrary, ef_to_tonnes_per, unknown_region
from esgledger.factors.settings import settings_from_stored
from esgledger.store import ledger as records
from esgledger.store import periods
from esgledger.store import reference as stored
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import write_transaction
from esgledger.units import UnitError, conversion_factor

__all__ = [
    "SETTINGS",
    "Change",
    "LockedPeriodChange",
    "add_override",
    "add_structural_change",
    "import_entities",
    "require_group_editor",
    "set_context",
    "set_parameter",
    "set_setting",
]

#: The inventory settings a ledger stores, with what each means.
SETTINGS: Mapping[str, str] = MappingProxyType(
    {
        "gwp_set": "AR4, AR5 or AR6",
        "approach": "operational_control, financial_control or equity_share",
        "grid_level": "province, region or national: finest grid-factor geography tried first",
        "factor_as_of": "YYYY-MM-DD: only factors published by then are used (empty: latest)",
        "natural_gas_tce": "high (1.33), low (1.10), gasfield_2008 (1.2143) or oilfield_2008",
        "ch4_convention": "split (AR6 27.0 for combustion CH4) or generic (AR6 27.9)",
        "scope2_total_basis": "location or market: which scope 2 enters the total",
        "grid_series": "mee_nbs (MEE/NBS yearly factors), mee_enterprise (MEE enterprise-"
        "reporting national factor) or ndrc_regional (NDRC regional grid averages)",
        "ghg_basis": "ghg_protocol (every gas) or cn_guideline (fuel combustion: CO2 only, as "
        "the MEE industry guidelines)",
        "turnover_basis": "closing (GRI 401-1), average or closing_plus_leavers: turnover "
        "denominator",
        "base_year": "base year of the inventory (YYYY)",
        "base_year_threshold": "significance threshold of base-year recalculation (0.05 = 5 %)",
    }
)

#: The entity columns that do not enter any figure (a rename changes no year).
_NAMES = frozenset({"name", "name_zh"})
EVERY_YEAR = "it applies to every year with data"
ITS_YEAR = "it applies to {year}; give it a year that is not locked"


class LockedPeriodChange(Conflict):
    """A change of a calculation input that would alter the figures of a locked year."""

    def __init__(self, what: str, years: Iterable[int], why: str) -> None:
        self.years = sorted(set(years))
        listed = ", ".join(map(str, self.years))
        super().__init__(
            f"{what} refused: it would change the figures of {listed}, locked by the ESG "
            f"committee ({why}). Nothing changes a locked period except an approved "
            "adjustment: propose one on the adjustments page (/adjustments, or POST "
            "/api/adjustments) and have the committee approve it"
        )


@dataclass(frozen=True, slots=True)
class Change:
    """A change made (or found to change nothing: ``seq`` None)."""

    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    years: tuple[int, ...]  # the years whose figures it may alter
    seq: int | None  # its audit entry


@dataclass(frozen=True, slots=True)
class _Plan:
    what: str  # how the refusal names the change
    why: str  # why it touches the years it does
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    years: frozenset[int]
    entity_id: str | None = None


# -- the three steps --------------------------------------------------------------------------


def require_group_editor(conn: Connection, who: Principal, what: str) -> None:
    """Refuse unless ``who`` may edit and sees the whole group (``what`` covers it)."""
    require(who, Permission.EDIT)
    if not access.is_group_wide(conn, who):
        raise Forbidden(f"{what} applies to the whole group: only a group-wide user may change it")


def _refuse_locked(conn: Connection, years: Iterable[int], what: str, why: str) -> None:
    locked = sorted(set(years) & set(periods.lock_rows(conn)))
    if locked:
        raise LockedPeriodChange(what, locked, why)


def _apply(conn: Connection, who: Principal, plan: _Plan, write: Callable[[], object]) -> Change:
    """Refuse a change of a locked year, else write it and its audit entry (``conn`` is the
    caller's write transaction); the same values again: nothing. A plan without an
    ``object_id`` is named by what ``write`` returns (the id of a new row)."""
    years = tuple(sorted(plan.years))
    if plan.before == plan.after:
        return Change(plan.object_type, plan.object_id, plan.before, plan.after, (), None)
    _refuse_locked(conn, years, plan.what, plan.why)
    written = write()
    object_id = plan.object_id or str(written)
    seq = audit.append(
        conn,
        who.username,
        plan.action,
        plan.object_type,
        object_id,
        entity_id=plan.entity_id,
        before=plan.before,
        after=plan.after,
    )
    return Change(plan.object_type, object_id, plan.before, plan.after, years, seq)


def _covered(conn: Connection, year: int | None) -> frozenset[int]:
    """The years a year-keyed input covers: its year, or every year with data."""
    return records.data_years(conn) if year is None else frozenset({int(year)})


def _number(value: float, what: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise Invalid(f"{what}: {value!r} is not a finite number")
    return number


# -- settings ---------------------------------------------------------------------------------


def _setting_problems(
    settings: Mapping[str, str], key: str, value: str, library: FactorLibrary
) -> list[str]:
    if key == "turnover_basis" and value not in TURNOVER_BASES:
        return [f"turnover_basis must be one of {', '.join(TURNOVER_BASES)}"]
    if key == "base_year" and not (value.isdigit() and len(value) == 4):
        return ["base_year must be a year (YYYY)"]
    if key == "base_year_threshold":
        try:
            threshold = float(value)
        except ValueError:
            threshold = math.nan
        if not 0 < threshold < 1:
            return ["base_year_threshold must be a fraction between 0 and 1 (0.05 = 5 %)"]
    try:
        return [str(p) for p in settings_from_stored(settings).validate(library)]
    except ValueError as exc:
        return [str(exc)]


def set_setting(engine: Engine, who: Principal, key: str, value: str) -> Change:
    """Set an inventory setting (one of :data:`SETTINGS`), validated with the others."""
    if key not in SETTINGS:
        raise Invalid(f"unknown setting {key!r}; known: {', '.join(SETTINGS)}")
    library = load_library()  # loaded before the write transaction begins
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, f"the setting {key}")
        current = stored.stored_settings(conn)
        problems = _setting_problems({**current, key: value}, key, value, library)
        if problems:
            raise Invalid(f"{key} = {value!r} refused: {'; '.join(problems)}")
        before = {"value": current[key]} if key in current else None
        plan = _Plan(
            what=f"setting {key} = {value!r}",
            why="a setting applies to every year with data",
            action="set",
            object_type="setting",
            object_id=key,
            before=before,
            after={"value": value},
            years=records.data_years(conn),
        )
        return _apply(conn, who, plan, lambda: stored.write_setting(conn, key, value))


# -- parameters, overrides, context -----------------------------------------------------------


def _check_density(fuel: str, value: float, unit: str) -> None:
    """A fuel density in a mass/volume unit and within its fuel standard's range (a density
    of 740 kg/L, meant as kg/m3, would make a litre weigh 1,000 times too much)."""
    try:
        per_litre = kg_per_litre(value, unit)
    except UnitError as exc:
        raise Invalid(f"density.{fuel}: unit {unit!r} is not a mass per volume ({exc})") from exc
    bounds = density_range(load_library(), fuel)
    if bounds is not None and not bounds[0] <= per_litre <= bounds[1]:
        raise Invalid(
            f"density.{fuel} {value:g} {unit} is {per_litre:g} kg/L, outside the fuel "
            f"standard's range {bounds[0]:g}-{bounds[1]:g} kg/L (esgledger factors list --kind "
            "densities): check the unit (740 kg/m3 = 0.74 kg/L)"
        )


def set_parameter(
    engine: Engine,
    who: Principal,
    name: str,
    year: int | None,
    value: float,
    unit: str,
    source: str,
) -> Change:
    """Set (or replace) a parameter of a year (None: of every year)."""
    number = _number(value, f"parameter {name}")
    if name.startswith("density."):
        _check_density(name.removeprefix("density."), number, unit)
    after = {"name": name, "year": year, "value": number, "unit": unit, "source": source}
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, f"the parameter {name}")
        plan = _Plan(
            what=f"parameter {name} ({'every year' if year is None else year})",
            why=EVERY_YEAR if year is None else ITS_YEAR.format(year=year),
            action="set",
            object_type="parameter",
            object_id=f"{name}@{'all' if year is None else year}",
            before=stored.parameter_row(conn, name, year),
            after=after,
            years=_covered(conn, year),
        )
        return _apply(
            conn, who, plan, lambda: stored.write_parameter(conn, name, year, number, unit, source)
        )


def _check_override(activity_type: str, unit: str, gas: str, region: str | None) -> str | None:
    """Refuse what an override could not mean; returns its region as a code (a name or alias
    is written as the code the records carry, so that it matches them)."""
    library = load_library()
    if activity_type not in library.known_activity_types():
        raise Invalid(f"unknown activity type {activity_type!r}")
    try:
        ef_to_tonnes_per(unit, str(library.activity_types.at[activity_type, "basis_unit"]))
    except UnitError as exc:
        raise Invalid(f"unit {unit!r}: {exc}") from exc
    gases = sorted(set(library.gwp["gas"]))
    if gas not in gases:
        raise Invalid(f"unknown gas {gas!r}: one of {', '.join(gases)}")
    if region is None or not region.strip():
        return None
    code = library.normalise_region(region)
    if code is None:
        raise Invalid(unknown_region(region))
    return code


def add_override(
    engine: Engine,
    who: Principal,
    activity_type: str,
    gas: str,
    value: float,
    unit: str,
    source: str,
    *,
    region: str | None = None,
    year: int | None = None,
    entered_by: str | None = None,
) -> Change:
    """Add a factor override (of a region and year when given; entered by the caller unless
    ``entered_by`` names someone else); its id is the change's ``object_id``."""
    after: dict[str, Any] = {
        "activity_type": activity_type,
        "region": _check_override(activity_type, unit, gas, region),
        "year": None if year is None else int(year),
        "gas": gas,
        "value": _number(value, f"override {activity_type} {gas}"),
        "unit": unit,
        "source": source,
        "entered_by": entered_by or who.username,
    }
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "a factor override")
        plan = _Plan(
            what=f"factor override {after['activity_type']} {after['gas']}",
            why=EVERY_YEAR if year is None else ITS_YEAR.format(year=year),
            action="add",
            object_type="factor_override",
            object_id="",  # the new row's id
            before=None,
            after=after,
            years=_covered(conn, year),
        )
        return _apply(conn, who, plan, lambda: stored.insert_override(conn, **after))


def _check_context_unit(metric: str, unit: str) -> None:
    """A context figure the calculations read (revenue, employees) in a unit they convert;
    else refused here, not a traceback in ``kpi`` or ``intensity`` later."""
    found = context_units().get(metric)
    if found is None:
        return
    expected, accepts = found
    try:
        conversion_factor(unit, expected)
    except UnitError as exc:
        raise Invalid(f"context {metric}: unit {unit!r} is not {accepts}") from exc


def set_context(
    engine: Engine,
    who: Principal,
    entity_id: str,
    year: int,
    metric: str,
    value: float,
    unit: str,
    source: str,
) -> Change:
    """Set (or replace) a context figure (revenue, headcount...) of an entity and year."""
    require(who, Permission.EDIT)
    if not who.sees(entity_id):
        raise NotFound(f"unknown entity {entity_id!r}")
    number = _number(value, f"context {metric}")
    _check_context_unit(metric, unit)
    after = {"value": number, "unit": unit, "source": source}
    with write_transaction(engine) as conn:
        if not periods.entity_exists(conn, entity_id):
            raise NotFound(f"unknown entity {entity_id!r}")
        plan = _Plan(
            what=f"context {entity_id} {year} {metric}",
            why=ITS_YEAR.format(year=year),
            action="set",
            object_type="context_metric",
            object_id=f"{entity_id}/{year}/{metric}",
            before=stored.context_row(conn, entity_id, year, metric),
            after=after,
            years=frozenset({int(year)}),
            entity_id=entity_id,
        )
        return _apply(
            conn,
            who,
            plan,
            lambda: stored.write_context(conn, entity_id, year, metric, number, unit, source),
        )


# -- entities and base-year changes -----------------------------------------------------------


def _entity_years(
    conn: Connection, before: dict[str, Any] | None, after: dict[str, Any]
) -> frozenset[int]:
    if before is None:  # a new entity: the years of records already naming it
        return records.data_years(conn, [after["entity_id"]])
    if all(before[k] == after[k] for k in after if k not in _NAMES):
        return frozenset()  # renamed only
    return records.data_years(conn)


def import_entities(engine: Engine, who: Principal, entities: Sequence[Entity]) -> list[Change]:
    """Add entities and replace the attributes of known ones (a tree the caller validated,
    :func:`esgledger.ingest.entities.read_entities`): one audit entry per entity added or
    changed; entities given with their stored values are left alone. All or nothing."""
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "the organisation tree")
        stored_rows = records.entity_rows(conn, (e.entity_id for e in entities))
        plans = [
            (e, _entity_plan(conn, stored_rows.get(e.entity_id), records.entity_row(e)))
            for e in entities
        ]
        locked = set(periods.lock_rows(conn))
        hit = [p for _, p in plans if p.before != p.after and p.years & locked]
        if hit:
            raise LockedPeriodChange(
                f"entities {', '.join(p.object_id for p in hit)}",
                {y for p in hit for y in p.years & locked},
                "an existing entity's shares, control, region, parent, kind or dates apply to "
                "every year with data, a new entity to the years of the records naming it",
            )
        return [
            _apply(conn, who, plan, partial(records.write_entities, conn, [entity]))
            for entity, plan in plans
        ]


def _entity_plan(conn: Connection, before: dict[str, Any] | None, after: dict[str, Any]) -> _Plan:
    entity_id = str(after["entity_id"])
    return _Plan(
        what=f"entity {entity_id}",
        why="an entity's attributes apply to every year with data",
        action="create" if before is None else "update",
        object_type="entity",
        object_id=entity_id,
        before=before,
        after=after,
        years=_entity_years(conn, before, after),
        entity_id=entity_id,
    )


def add_structural_change(engine: Engine, who: Principal, change: StructuralChange) -> Change:
    """Record a structural or methodology change, replacing one with the same id."""
    if change.base_year_impact_tco2e is not None:
        _number(change.base_year_impact_tco2e, "base-year impact")
    after = asdict(change)
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "a base-year change")
        before = stored.change_row(conn, change.change_id)
        years = {int(change.year)} | ({int(before["year"])} if before else set())
        plan = _Plan(
            what=f"structural change {change.change_id}",
            why=f"it names {', '.join(map(str, sorted(years)))}",
            action="set",
            object_type="structural_change",
            object_id=change.change_id,
            before=before,
            after=after,
            years=frozenset(years),
            entity_id=change.entity_id,
        )
        return _apply(conn, who, plan, lambda: stored.write_change(conn, change))
