"""The methodology appendix, generated from what the inventory of the year actually used.

The inventory is run as :mod:`esgledger.service` runs it (the ledger's settings, the packaged
factor library), and the appendix is read off the result: the consolidation approach and the
entities within the boundary; the GWP set with the value of every gas in the year's lines;
per activity type, the distinct factor ids of the year's lines with their pack, edition,
source document, data year and region (and the fallback when the factor's year is not the
report's), the unit conversions and direct entries; the scope 2 methods; the GB/T 2589
standard-coal coefficients of the energy lines; the base-year decision
(:func:`esgledger.service.base_year_decision`) and the recalculation policy; and the
sections of ``docs/methodology.md`` where each choice is argued, by title.

Fixed sentences come from ``data/methodology_text.csv`` (key, en, zh, with ``{placeholders}``)
and carry no figure: every number is formatted from the factor library, the ledger or the
result.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import pandas as pd

from esgledger import service
from esgledger.book import book_of
from esgledger.calc import InventoryResult
from esgledger.factors import FactorLibrary
from esgledger.report.model import MethodologyItem
from esgledger.store.ledger import Ledger


@cache
def texts() -> Mapping[str, Mapping[str, str]]:
    """``data/methodology_text.csv``: key -> language -> sentence."""
    raw = (
        resources.files("esgledger.report")
        .joinpath("data", "methodology_text.csv")
        .read_text("utf-8-sig")
    )
    return MappingProxyType(
        {
            row["key"]: MappingProxyType({"en": row["en"], "zh": row["zh"]})
            for row in csv.DictReader(io.StringIO(raw))
        }
    )


def _t(key: str, lang: str, **values: object) -> str:
    return texts()[key][lang].format(**values)


def _join(items: Iterable[str], lang: str, key: str = "list_sep") -> str:
    return texts()[key][lang].join(dict.fromkeys(items))


def _num(value: object) -> str:
    """A factor value as the library holds it (no rounding beyond float repr noise)."""
    return f"{float(str(value)):.10g}"


def _doc(key: str, lang: str) -> str:
    return _t("doc_ref", lang, title=_t(f"doc.{key}", lang))


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


# -- the factor facts -------------------------------------------------------------------------


def _first(source: str) -> str:
    """The first citation of a source column (its rows list several, ``;``-separated outside
    parentheses)."""
    depth = 0
    for i, char in enumerate(source):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            return source[:i].strip()
    return source.strip()


Row = Mapping[str, Any]


@dataclass(frozen=True)
class _FactorRows:
    """The first row of each factor id in the library's emission factors and fuel parameters
    and in an inventory's resolved factors, and the region names of a language: looked up
    once per appendix, not filtered per paragraph."""

    emission: Mapping[str, Row]
    fuel: Mapping[str, Row]
    resolved: Mapping[str, Row]
    regions: Mapping[str, str]

    @classmethod
    def of(cls, library: FactorLibrary, resolved: pd.DataFrame, lang: str) -> _FactorRows:
        column = "name_zh" if lang == "zh" else "name_en"
        names = library.regions[column]
        return cls(
            emission=_first_rows(library.emission_factors, "factor_id"),
            fuel=_first_rows(library.fuel, "param_id"),
            resolved=_first_rows(resolved, "factor_id"),
            regions={str(c): str(n) for c, n in zip(names.index, names, strict=True)},
        )


def _first_rows(frame: pd.DataFrame, key: str) -> dict[str, Row]:
    if frame.empty or key not in frame.columns:
        return {}
    rows: list[Row] = frame.drop_duplicates(key).to_dict("records")  # type: ignore[assignment]
    return {str(row[key]): row for row in rows}


def _factor_facts(rows: _FactorRows, factor_id: str) -> dict[str, str] | None:
    """Pack, edition, document, data year, region, value and verification of a factor id."""
    row = rows.emission.get(factor_id)
    if row is not None:
        document = _first(str(row["source"]))
        table = str(row["table"])
        return {
            "pack": str(row["pack"]),
            "edition": str(row["edition"]),
            "document": document if table in document else f"{document}; {table}",
            "factor_year": str(row["year"]),
            "region": str(row["geography"]),
            "value": f"{_num(row['value'])} {row['unit']}",
            "verification": str(row["verification"]),
        }
    fuel, use = rows.fuel.get(factor_id), rows.resolved.get(factor_id)
    if fuel is not None and use is not None:
        return {
            "pack": "fuel_parameters",
            "edition": str(fuel["edition"]),
            "document": f"{fuel['framework']}; {fuel['table']}",
            "factor_year": _text(use["factor_year"]) or "—",
            "region": str(use["factor_geography"]),
            "value": str(use["formula"]),
            "verification": str(fuel["verification"]),
        }
    if use is not None:  # a user override, or a row the library no longer holds
        return {
            "pack": factor_id.partition(":")[0],
            "edition": _text(use["edition"]),
            "document": _first(_text(use["source"])),
            "factor_year": _text(use["factor_year"]) or "—",
            "region": _text(use["factor_geography"]),
            "value": str(use["formula"]),
            "verification": _text(use["verification"]),
        }
    return None


def _activity_name(library: FactorLibrary, activity_type: str, lang: str) -> str:
    if activity_type not in library.activity_types.index:
        return activity_type
    row = library.activity_types.loc[activity_type]
    return str(row["name_zh"] if lang == "zh" else row["name_en"])


def _factor_paragraphs(
    rows: _FactorRows, result: InventoryResult, lines: pd.DataFrame, year: int, lang: str
) -> list[str]:
    out = []
    as_of = result.settings.factor_as_of
    order = {"location": 0, "both": 1, "market": 2}
    # one row per factor, basis, gas and region (in order of first appearance), not per line
    kinds = lines[["factor_id", "basis", "gas", "region"]].drop_duplicates()
    groups = dict(iter(kinds.groupby(["factor_id", "basis"], sort=False, dropna=False)))
    for factor_id, basis in sorted(groups, key=lambda k: (order.get(str(k[1]), 3), str(k[0]))):
        group = groups[(factor_id, basis)]
        facts = _factor_facts(rows, str(factor_id))
        if facts is None:
            continue
        gas = _join((str(g) for g in group["gas"]), lang)
        text = _t("factor", lang, factor_id=factor_id, gas=gas, **facts)
        if basis in ("location", "market"):
            text = _t("factor_basis", lang, basis=_t(f"basis.{basis}", lang), text=text)
        factor_year = facts["factor_year"]
        if factor_year.isdigit() and int(factor_year) != year:
            key = "factor_fallback_earlier" if int(factor_year) < year else "factor_fallback_later"
            text += " " + _t(key, lang, year=year, factor_year=factor_year, as_of=as_of or "—")
        codes = sorted({str(r) for r in group["region"] if _text(r)})
        if codes and codes != [facts["region"]]:
            regions = _join((rows.regions.get(c, c) for c in codes), lang)
            text += " " + _t("factor_regions", lang, regions=regions)
        out.append(text)
    return out


def _conversions(result: InventoryResult, activity_type: str, year: int, lang: str) -> list[str]:
    """The unit conversions of an activity type that change the unit (``L -> ... -> t``)."""
    found = result.conversions
    found = found[(found["year"] == year) & (found["activity_type"] == activity_type)]
    routes = [str(r) for r in found["route"]]
    return [
        _t("conversion", lang, route=r)
        for r in dict.fromkeys(routes)
        if len({p.strip() for p in r.split("->")}) > 1
    ]


USE_KEYS = ["activity_type", "factor_id", "basis", "gas", "region", "scope", "method"]


def _factor_uses(lines: pd.DataFrame) -> pd.DataFrame:
    """The lines summed per activity type, factor, basis, gas, region, scope and method (in
    order of first appearance): all the items say of them, a row per use rather than per
    line (a ledger of a million records has hundreds of thousands of lines)."""
    summed = lines.groupby(USE_KEYS, dropna=False, sort=False, observed=True)[
        ["n_records", "quantity_basis", "tco2e"]
    ].sum()
    return summed.reset_index()


def _factor_items(
    library: FactorLibrary, result: InventoryResult, year: int, lang: str
) -> list[MethodologyItem]:
    lines = _factor_uses(result.lines[result.lines["year"] == year])
    rows = _FactorRows.of(library, result.resolved, lang)
    scope_doc = {1: "scope1", 2: "scope2", 3: "scope3"}
    items = []
    for activity_type, group in lines.groupby("activity_type", sort=True):
        name = _activity_name(library, str(activity_type), lang)
        scopes = sorted({int(s) for s in group["scope"]})
        topic = _t("topic.factors", lang, activity=name)
        if activity_type == "direct":
            topic = _t("topic.direct", lang)
            paragraphs = [_t("direct", lang, count=int(group["n_records"].sum()))]
        elif (group["method"] == "instrument").all():
            paragraphs = [
                _t(
                    "instrument",
                    lang,
                    activity=name,
                    mwh=f"{float(group['quantity_basis'].sum()):,.2f}",
                    tco2=f"{float(group['tco2e'].sum()):,.2f}",
                )
            ]
        else:
            head = _t(
                "factors",
                lang,
                year=year,
                activity=name,
                scope=_join((_t(f"scope.{s}", lang) for s in scopes), lang),
                version=result.library_version,
            )
            paragraphs = [
                head,
                *_factor_paragraphs(rows, result, group, year, lang),
                *_conversions(result, str(activity_type), year, lang),
            ]
        docs = [*(scope_doc[s] for s in scopes if s in scope_doc), "resolution", "factor_library"]
        items.append(
            MethodologyItem(topic, "\n\n".join(paragraphs), tuple(_doc(d, lang) for d in docs))
        )
    return items


# -- the other items --------------------------------------------------------------------------


def _boundary(ledger: Ledger, result: InventoryResult, year: int, lang: str) -> MethodologyItem:
    organisation = ledger.organisation()
    boundary = result.boundary

    def name(entity_id: str) -> str:
        entity = organisation.get(entity_id)
        return (entity.name_zh or entity.name) if lang == "zh" else entity.name

    inside = [
        _t("boundary_share", lang, name=name(str(e)), share=f"{float(s):.0%}")
        for e, s in zip(boundary["entity_id"], boundary["share"], strict=True)
        if float(s) > 0
    ]
    outside = [
        name(str(e))
        for e, s in zip(boundary["entity_id"], boundary["share"], strict=True)
        if float(s) <= 0
    ]
    text = _t(
        "boundary",
        lang,
        approach=_t(f"approach.{result.settings.approach.value}", lang),
        count=len(inside),
        year=year,
        entities=_join(inside, lang),
    )
    if outside:
        text += "\n\n" + _t("outside", lang, entities=_join(outside, lang))
    return MethodologyItem(_t("topic.boundary", lang), text, (_doc("consolidation", lang),))


def _gwp(library: FactorLibrary, result: InventoryResult, year: int, lang: str) -> MethodologyItem:
    gwp_set = result.settings.gwp_set
    table = library.gwp[library.gwp["gwp_set"] == gwp_set]
    lines = result.lines[(result.lines["year"] == year) & (result.lines["method"] != "direct")]
    used = lines[["gas", "gwp"]].dropna().drop_duplicates().sort_values("gas")
    names = {str(g): str(n) for g, n in zip(table["gas"], table["name_zh"], strict=True)}
    gases = [
        _t("gas", lang, gas=names.get(str(g), str(g)) if lang == "zh" else g, value=_num(v))
        for g, v in zip(used["gas"], used["gwp"], strict=True)
    ]
    rows = table[table["gas"].isin(used["gas"])]
    tables = _join((str(t) for t in rows["table"]), lang, "sep") or gwp_set
    text = _t(
        "gwp",
        lang,
        gwp_set=gwp_set,
        table=tables,
        year=year,
        gases=_join(gases, lang, "sep") or _t("none", lang),
    )
    sources = tuple(dict.fromkeys(_first(str(s)) for s in rows["source"]))
    return MethodologyItem(_t("topic.gwp", lang), text, (_doc("gwp", lang), *sources))


def _scope2(
    library: FactorLibrary, result: InventoryResult, year: int, lang: str
) -> MethodologyItem | None:
    lines = result.lines[(result.lines["year"] == year) & (result.lines["scope"] == 2)]
    if lines.empty:
        return None

    def ids(frame: pd.DataFrame) -> str:
        found = sorted({str(f) for f in frame["factor_id"] if str(f) != "direct"})
        return _join(found, lang) or _t("none", lang)

    grid = lines[lines["method"] != "instrument"]
    instruments = lines[lines["method"] == "instrument"]
    text = _t(
        "scope2",
        lang,
        grid_level=_t(f"grid.{result.settings.grid_level}", lang),
        location=ids(grid[grid["basis"] == "location"]),
        instruments=_join(
            (_activity_name(library, str(a), lang) for a in instruments["activity_type"]), lang
        )
        or _t("none", lang),
        market=ids(grid[grid["basis"] == "market"]),
        total_basis=_t(f"basis.{result.settings.scope2_total_basis}", lang),
    )
    return MethodologyItem(_t("topic.scope2", lang), text, (_doc("scope2", lang),))


def _measured_coefficient(
    library: FactorLibrary,
    energy: pd.DataFrame,
    measured: pd.DataFrame,
    activity_type: str,
    coef_id: str,
    lang: str,
) -> str:
    """The paragraph of a standard-coal coefficient from a company-measured property."""
    row = measured.loc[int(coef_id.removeprefix("fuelprop:"))]
    lines = energy[(energy["activity_type"] == activity_type) & (energy["coef_id"] == coef_id)]
    entity: str = "group" if pd.isna(row["entity_id"]) else str(row["entity_id"])
    year: str = "" if pd.isna(row["year"]) else str(int(row["year"]))
    return _t(
        "coefficient_measured",
        lang,
        activity=_activity_name(library, activity_type, lang),
        factor_id=coef_id,
        value=_num(round(float(lines["coef_kgce_per_basis"].iloc[0]), 2)),
        unit=library.type_rows[activity_type]["basis_unit"],
        property=row["property"],
        entered=f"{row['value_text']} {row['unit']}",
        scope=f"{entity} {year}".strip(),
        source=row["source"],
        standard="GB/T 2589",
    )


def _energy(
    ledger: Ledger, library: FactorLibrary, result: InventoryResult, year: int, lang: str
) -> MethodologyItem | None:
    energy = result.energy[result.energy["year"] == year]
    if energy.empty:
        return None
    used = energy[["activity_type", "coef_id"]].drop_duplicates().sort_values("activity_type")
    tce = library.tce.set_index("factor_id")
    paragraphs, standards = [], []
    measured = (
        ledger.fuel_properties().set_index("id")
        if used["coef_id"].str.startswith("fuelprop:").any()
        else None
    )
    for activity_type, coef_id in zip(used["activity_type"], used["coef_id"], strict=True):
        if measured is not None and str(coef_id).startswith("fuelprop:"):
            standards.append("GB/T 2589")
            paragraphs.append(
                _measured_coefficient(
                    library, energy, measured, str(activity_type), str(coef_id), lang
                )
            )
            continue
        row = tce.loc[str(coef_id)]
        standard = f"{row['standard']}-{row['edition']}"  # GB/T 2589 + 2020: GB/T 2589-2020
        standards.append(str(row["standard"]))
        paragraphs.append(
            _t(
                "coefficient",
                lang,
                activity=_activity_name(library, str(activity_type), lang),
                factor_id=coef_id,
                value=_num(row["value"]),
                unit=row["unit"],
                basis=row["basis"],
                standard=standard,
                verification=row["verification"],
            )
        )
    head = _t(
        "energy",
        lang,
        standard=_join(standards, lang),
        year=year,
        variant=result.settings.natural_gas_tce,
    )
    parameters = ledger.parameters()
    primary = parameters[parameters["name"] == "tce.electricity_primary"]
    primary = primary[primary["year"].isna() | (primary["year"] == year)]
    for param in primary.to_dict("records"):
        paragraphs.append(
            _t(
                "primary",
                lang,
                name=param["name"],
                year=year if pd.isna(param["year"]) else int(param["year"]),
                value=_num(param["value"]),
                unit=param["unit"],
                source=param["source"],
            )
        )
    return MethodologyItem(
        _t("topic.energy", lang), "\n\n".join([head, *paragraphs]), (_doc("energy", lang),)
    )


def _base_year(ledger: Ledger, result: InventoryResult, lang: str) -> MethodologyItem:
    decision = service.base_year_decision(ledger, result)
    paragraphs = []
    sources: list[str] = [_doc("base_year", lang)]
    if decision is None:
        paragraphs.append(_t("by_none", lang))
    else:
        changes = {c.change_id: c for c in ledger.structural_changes()}
        values: dict[str, Any] = {
            "base_year": decision.base_year,
            "new_base_year": decision.new_base_year,
            "total": f"{decision.original_total:,.2f}",
            "threshold": f"{decision.threshold:.0%}",
            "significance": "—"
            if decision.significance is None
            else f"{decision.significance:.1%}",
            "recalculated": "—"
            if decision.recalculated_total is None
            else f"{decision.recalculated_total:,.2f}",
            "changes": _join(decision.changes, lang) or _t("none", lang),
        }
        paragraphs.append(_t(f"by_{decision.action}", lang, **values))
        for change_id in decision.changes:
            if change_id in changes:
                c = changes[change_id]
                kind = f"kind.{c.kind}"
                sources.append(
                    _t(
                        "change",
                        lang,
                        change_id=c.change_id,
                        year=c.year,
                        kind=_t(kind, lang) if kind in texts() else c.kind,
                        description=c.description,
                    )
                )
    paragraphs.append(_t("by_policy", lang))
    return MethodologyItem(_t("topic.base_year", lang), "\n\n".join(paragraphs), tuple(sources))


def _choices(lang: str) -> MethodologyItem:
    keys = [k.removeprefix("doc.") for k in texts() if k.startswith("doc.")]
    titles = [_t(f"doc.{k}", lang) for k in keys]
    return MethodologyItem(
        _t("topic.choices", lang),
        _t("choices", lang, sections=_join(titles, lang, "sep")),
        tuple(_doc(k, lang) for k in keys),
    )


def methodology(
    ledger: Ledger, year: int, lang: str, *, result: InventoryResult | None = None
) -> tuple[MethodologyItem, ...]:
    """The methodology appendix of ``year`` in ``lang`` (``zh`` or ``en``).

    ``result``: the inventory of all the ledger's years with its settings, when the caller
    has already computed it (the report builder has); computed here otherwise.
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"language {lang!r}: expected zh or en")
    library = book_of(ledger).library()
    if result is None:
        result = service.run_inventory(ledger, service.settings_from_ledger(ledger))
    has_year = bool((result.lines["year"] == year).any() or (result.energy["year"] == year).any())
    items = [_boundary(ledger, result, year, lang)]
    if not has_year:
        items.append(MethodologyItem(_t("topic.inventory", lang), _t("no_year", lang, year=year)))
    items.append(_gwp(library, result, year, lang))
    items.extend(_factor_items(library, result, year, lang))
    items.extend(
        i
        for i in (
            _scope2(library, result, year, lang),
            _energy(ledger, library, result, year, lang),
        )
        if i
    )
    items.append(_base_year(ledger, result, lang))
    items.append(_choices(lang))
    return tuple(items)
