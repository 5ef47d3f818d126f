"""The Monte Carlo input of an inventory: one row per record behind each inventory line.

An inventory line sums the records of its key (entity, year, month, activity type, effective
region; :mod:`esgledger.calc.engine`). Its uncertainty frame splits it back into one row per
record, in proportion to the record's quantity in the line's basis unit (the inventory's own
conversion factors), so that the activity error is drawn per record (IPCC 2006 Vol. 1 ch. 3:
independent measurements have independent errors) and the rows of one record (its CO2, CH4 and
N2O lines; its location- and market-based electricity) share its draw:

* activity lines: the records of the line's key (month-exact, records without a month match
  lines without one);
* market-based remainder lines (one a year): the electricity records of the (entity, year,
  region), any month;
* contractual-instrument lines: the instrument records of the (entity, year, type), by MWh;
* direct lines: the direct records of the (entity, year, month, scope, category, gas, basis),
  by tCO2e.

Records that declare one **error source** (a meter, an estimation method: the file of
:func:`load_error_sources`) share one activity draw; a declared ``half_width`` or
``distribution`` replaces the data-quality default of a record. Defaults come from
``data/uncertainty_defaults.csv``; every fallback (a line without records, a record without a
data-quality flag, a flag or factor type the table does not list, a declared record that is not
in the inventory) is a diagnostic. Everything is column-wise: no Python function runs per line
or group; text is cleaned and flags looked up once per distinct value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from esgledger.calc import InventoryResult
from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.units import UnitError, conversion_factor

Z95 = 1.959963984540054
DISTRIBUTIONS = ("normal", "lognormal")
FRAME_COLUMNS = [
    "record_id",
    "error_source",
    "scope",
    "basis",
    "quantity",
    "factor",
    "factor_id",
    "activity_uncertainty",
    "factor_uncertainty",
    "activity_distribution",
    "factor_distribution",
]
ERROR_SOURCE_COLUMNS = ["record_id", "error_source", "half_width", "distribution"]
"""Columns of an error-source declaration (``note`` is allowed and ignored): ``record_id`` of an
activity or direct record; ``error_source`` a name shared by the records whose activity error is
one (same meter, same estimate); ``half_width`` the record's 95 % half-width (``0.05``: +/-5 %);
``distribution`` normal or lognormal. Empty cells keep the default."""

_ACTIVITY_KEY = ["entity_id", "year", "month", "activity_type", "region"]
_MARKET_KEY = ["entity_id", "year", "activity_type", "region"]
_INSTRUMENT_KEY = ["entity_id", "year", "activity_type"]
_DIRECT_KEY = ["entity_id", "year", "month", "scope", "category", "gas", "basis"]
_MISSING = "\x00"  # a missing key value: matches only another missing one (SQL's IS NOT DISTINCT)


def load_uncertainty_defaults() -> pd.DataFrame:
    """Default 95 % half-widths per data-quality flag and factor type, with their sources."""
    path = resources.files("esgledger.strategy") / "data" / "uncertainty_defaults.csv"
    with resources.as_file(path) as file:
        table = pd.read_csv(file, dtype={"kind": str, "key": str, "distribution": str})
    table["half_width"] = table["half_width"].astype(float)
    return table


def load_error_sources(path: str | Path) -> pd.DataFrame:
    """An error-source declaration file (CSV, :data:`ERROR_SOURCE_COLUMNS`), checked.

    ValueError naming every problem with its line in the file."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the error sources ({exc.strerror})") from exc
    return check_error_sources(frame, where=str(path))


def check_error_sources(frame: pd.DataFrame, where: str = "error sources") -> pd.DataFrame:
    """The declaration with stripped text, ``half_width`` as float (NaN: default) and
    lower-case distributions; ValueError naming every problem (line = row + 2, as in a CSV)."""
    unknown = sorted(set(frame.columns) - {*ERROR_SOURCE_COLUMNS, "note"})
    if "record_id" not in frame.columns or unknown:
        raise ValueError(
            f"{where}: needs a record_id column"
            + (f"; unknown columns {', '.join(unknown)}" if unknown else "")
            + f" (columns: {', '.join(ERROR_SOURCE_COLUMNS)}, note)"
        )
    text = {c: _text(frame, c) for c in ("record_id", "error_source")}
    text["distribution"] = _text(frame, "distribution", lower=True)
    raw = _text(frame, "half_width")
    half = pd.to_numeric(raw.where(raw != ""), errors="coerce")
    ident, dist = text["record_id"], text["distribution"]
    checks: list[tuple[pd.Series, str | pd.Series]] = [
        (ident.eq(""), "no record_id"),
        (ident.ne("") & ident.duplicated(keep=False), "record_id twice"),
        (raw.ne("") & (half.isna() | (half < 0)), "half_width " + raw + " is not a number >= 0"),
        (~dist.isin(["", *DISTRIBUTIONS]), "distribution " + dist + " is not normal or lognormal"),
    ]
    found = sorted(
        (int(i), what if isinstance(what, str) else str(what.iloc[i]))
        for bad, what in checks
        for i in np.flatnonzero(bad.to_numpy())
    )
    problems = [f"line {i + 2}: {message}" for i, message in found[:20]]
    if problems:
        raise ValueError(f"{where}: {'; '.join(problems)}")
    return pd.DataFrame({**text, "half_width": half.astype(float)})[ERROR_SOURCE_COLUMNS]


def each_distinct(values: pd.Series, func: Callable[[object], object]) -> pd.Series:
    """``func`` of every value (an object Series), called once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    found = np.empty(len(uniques), dtype=object)
    found[:] = [func(u) for u in uniques]  # a handful of flags, or one per record id
    return pd.Series(found[codes], index=values.index, dtype=object)


def clean(value: object) -> str:
    """A cell as stripped text, "" for a missing one."""
    if isinstance(value, str):
        return value.strip()
    missing = value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
    return "" if missing else str(value).strip()


def _text(frame: pd.DataFrame, column: str, lower: bool = False) -> pd.Series:
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    return each_distinct(frame[column], (lambda v: clean(v).lower()) if lower else clean)


def _month(values: pd.Series) -> pd.Series:
    """Months as integers, -1 where there is none (a yearly record or line)."""
    return pd.to_numeric(values, errors="coerce").fillna(-1).astype(np.int64)


def _keyed(frame: pd.DataFrame, column: str) -> pd.Series:
    """A key column as comparable values: months, years and scopes as integers (-1: none),
    text as text (missing values stay missing and match each other)."""
    values = frame[column]
    if column == "month":
        return _month(values)
    if column in ("year", "scope"):
        return pd.to_numeric(values, errors="coerce").fillna(-1).astype(np.int64)
    return values.astype("str")


def _joint_codes(
    left: pd.DataFrame, right: pd.DataFrame, columns: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """One integer per row of either frame, equal where every key column is (missing equals
    missing): each column factorised over both frames, then combined pairwise."""
    n = len(left)
    code = np.zeros(n + len(right), dtype=np.int64)
    for column in columns:
        both = pd.concat([_keyed(left, column), _keyed(right, column)], ignore_index=True)
        codes, uniques = pd.factorize(both, use_na_sentinel=False)
        code = pd.factorize(code * (len(uniques) + 1) + codes)[0].astype(np.int64)
    return code[:n], code[n:]


def _match(
    lines: pd.DataFrame, records: pd.DataFrame, columns: list[str], offset: int = 0
) -> pd.DataFrame:
    """(line, record + ``offset``) pairs of equal key, with the record's share of its line:
    its weight over the line's (equal shares where the weights add up to 0)."""
    if lines.empty or records.empty:
        return pd.DataFrame(
            {"line": np.empty(0, np.int64), "record": np.empty(0, np.int64), "share": []}
        )
    line_key, record_key = _joint_codes(lines, records, columns)
    left = pd.DataFrame({"line": lines.index.to_numpy(), "key": line_key})
    right = pd.DataFrame({"record": np.arange(len(records)), "key": record_key})
    pairs = left.merge(right, on="key", sort=False)
    weight = records["weight"].to_numpy(dtype=float)[pairs["record"].to_numpy()]
    counted = ~np.isnan(weight)  # a unit the inventory could not convert: not in its lines
    pairs, weight = pairs[counted], weight[counted]
    line = pairs["line"].to_numpy()
    size = int(line.max()) + 1 if len(line) else 0
    total = np.bincount(line, weights=weight, minlength=size)[line]
    count = np.bincount(line, minlength=size)[line]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total != 0, weight / total, 1.0 / count)
    return pd.DataFrame(
        {"line": line, "record": pairs["record"].to_numpy() + offset, "share": share}
    )


def _activity_records(records: pd.DataFrame, result: InventoryResult) -> pd.DataFrame:
    """Records with their effective region and weight: the quantity in the line's basis unit
    (the inventory's conversion of the record's type, unit, year and measured-property
    entity), in MWh for instruments (as market-based scope 2 counts them)."""
    r = records.reset_index(drop=True)
    region = (
        result.boundary.set_index("entity_id")["region"] if "region" in result.boundary else None
    )
    own = r["region"] if "region" in r.columns else pd.Series(None, index=r.index, dtype=object)
    fallback = r["entity_id"].map(region) if region is not None else None
    effective = own.astype("str").where(own.notna(), fallback)
    month = r["month"] if "month" in r.columns else pd.Series(None, index=r.index, dtype=object)
    base = pd.DataFrame(
        {
            "entity_id": r["entity_id"].astype(str),
            "year": r["year"].astype(np.int64),
            "month": _month(month),
            "activity_type": r["activity_type"].astype(str),
            "unit": r["unit"].astype(str),
            "region": effective,
        }
    )
    return base.assign(
        weight=r["quantity"].astype(float).to_numpy() * _conversion(base, result),
        record_id=_ids(r),
        raw_id=_ids(r),
        quality=_text(r, "data_quality", lower=True),
    )


def _conversion(base: pd.DataFrame, result: InventoryResult) -> np.ndarray:
    conv = result.conversions
    found = np.full(len(base), np.nan)
    if not conv.empty:
        keys = ["activity_type", "unit", "year"]
        table = conv.assign(year=conv["year"].astype(np.int64))
        prop = (
            table["prop_entity"] if "prop_entity" in table else pd.Series(None, index=table.index)
        )
        group = table[prop.isna()][[*keys, "factor"]]
        own = table[prop.notna()].rename(columns={"prop_entity": "entity_id"})
        with_own = base.merge(
            own[[*keys, "entity_id", "factor"]], how="left", on=[*keys, "entity_id"]
        )
        with_group = base.merge(group, how="left", on=keys)
        found = with_own["factor"].fillna(with_group["factor"]).to_numpy(dtype=float)
    missing = np.isnan(found)
    if missing.any():  # instrument types are not in the conversion table: MWh (scope 2 market)
        units = pd.unique(base.loc[missing, "unit"])
        to_mwh = {u: _to_mwh(str(u)) for u in units}  # per distinct unit, not per record
        found = found.copy()  # a merge's column can be read-only
        found[missing] = np.asarray(base.loc[missing, "unit"].map(to_mwh), dtype=float)
    return found


def _to_mwh(unit: str) -> float:
    try:
        return conversion_factor(unit, "MWh")
    except UnitError:
        return float("nan")


def _ids(frame: pd.DataFrame) -> pd.Series:
    for column in ("record_id", "rid"):
        if column in frame.columns:
            return frame[column].astype(str).astype(object)
    return pd.Series(frame.index.astype(str), index=frame.index, dtype=object)


def _direct_records(direct: pd.DataFrame) -> pd.DataFrame:
    d = direct.reset_index(drop=True)
    scope = d["scope"].astype(np.int64)
    basis = d["scope2_basis"] if "scope2_basis" in d.columns else pd.Series("both", index=d.index)
    return pd.DataFrame(
        {
            "entity_id": d["entity_id"].astype(str),
            "year": d["year"].astype(np.int64),
            "month": _month(d["month"] if "month" in d.columns else pd.Series(None, index=d.index)),
            "scope": scope,
            "category": d["category"].astype(str),
            "gas": d["gas"].astype(str) if "gas" in d.columns else "CO2e",
            "basis": basis.astype(object).where(scope == 2, "both"),
            "weight": d["tco2e"].astype(float),
            "record_id": "direct:" + _ids(d),
            "raw_id": _ids(d),
            "quality": _text(d, "data_quality", lower=True),
        }
    )


def _record_rows(
    lines: pd.DataFrame,
    result: InventoryResult,
    records: pd.DataFrame | None,
    direct: pd.DataFrame | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The (line, record, share) pairs, and the records they number (``record_id``,
    ``quality``): the activity records first, then the direct ones."""
    is_direct = lines["factor_id"].astype(str).eq("direct")
    is_instrument = lines["method"].astype(str).eq("instrument") & ~is_direct
    is_market = lines["basis"].astype(str).eq("market") & ~is_instrument & ~is_direct
    plain = ~(is_direct | is_instrument | is_market)
    none = pd.DataFrame(columns=["record_id", "raw_id", "quality", "weight"])
    act = none if records is None or records.empty else _activity_records(records, result)
    dirs = none if direct is None or direct.empty else _direct_records(direct)
    pairs = [
        _match(lines[plain], act, _ACTIVITY_KEY),
        _match(lines[is_market], act, _MARKET_KEY),
        _match(lines[is_instrument], act, _INSTRUMENT_KEY),
        _match(lines[is_direct], dirs, _DIRECT_KEY, offset=len(act)),
    ]
    columns = ["record_id", "raw_id", "quality"]
    named = [f[columns] for f in (act, dirs) if not f.empty]
    table = pd.concat(named, ignore_index=True) if named else none[columns]
    return pd.concat(pairs, ignore_index=True), table


def _line_keys(lines: pd.DataFrame) -> pd.Series:
    month = _month(lines["month"]).astype(str).where(lines["month"].notna(), "")
    return (
        lines["entity_id"].astype(str)
        + "|"
        + lines["year"].astype(np.int64).astype(str)
        + "|"
        + month
        + "|"
        + lines["activity_type"].astype(str)
    )


def _unmatched(
    lines: pd.DataFrame, pairs: pd.DataFrame, named: pd.DataFrame, given: bool
) -> tuple[pd.DataFrame, pd.DataFrame, list[Diagnostic]]:
    """Lines without records: each key (all its gases) drawn as one record of unknown
    quality, with a diagnostic."""
    alone = np.setdiff1d(np.arange(len(lines)), pairs["line"].to_numpy())
    if not alone.size:
        return pairs, named, []
    key = _line_keys(lines.iloc[alone]) + "|" + lines["region"].iloc[alone].astype(str)
    extra = pd.DataFrame({"record_id": "line:" + key, "raw_id": "", "quality": ""})
    tonnes = float(lines["tco2e"].iloc[alone].astype(float).sum())
    note = Diagnostic(
        "uncertainty-no-records",
        f"{alone.size} lines ({tonnes:,.2f} tCO2e) have no "
        + ("record behind them in the records given" if given else "records given")
        + "; the gases of each line's key share one activity draw of the 'default' "
        "uncertainty",
        Severity.WARNING if given else Severity.INFO,
    )
    more = pd.DataFrame({"line": alone, "record": np.arange(alone.size) + len(named), "share": 1.0})
    return (
        pd.concat([pairs, more], ignore_index=True),
        pd.concat([named, extra], ignore_index=True),
        [note],
    )


def _lookup(values: pd.Series, mapping: dict[str, object], default: object) -> np.ndarray:
    """``mapping[value]`` (``default`` where absent) for every value, looked up once per
    distinct value."""
    codes, uniques = pd.factorize(values)
    found = np.array([mapping.get(str(u), default) for u in uniques] + [default], dtype=object)
    return found[codes]  # code -1 (missing) takes the last: the default


def _activity_defaults(
    quality: pd.Series, counted: np.ndarray, table: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, list[Diagnostic]]:
    """Per record: the half-width and distribution of its data-quality flag ('default' for
    none or one the table does not list; the ``counted`` records are reported)."""
    rows = table[table["kind"] == "activity"]
    half = dict(zip(rows["key"].astype(str), rows["half_width"].astype(float), strict=True))
    dist = dict(zip(rows["key"].astype(str), rows["distribution"].astype(str), strict=True))
    listed = quality.isin(list(half)).to_numpy()
    empty = quality.eq("").to_numpy()
    notes = []
    if (empty & counted).any():
        notes.append(
            Diagnostic(
                "uncertainty-quality-unknown",
                f"{int((empty & counted).sum())} records have no data-quality flag; the "
                "'default' activity uncertainty applies",
                Severity.INFO,
            )
        )
    other = ~listed & ~empty & counted
    if other.any():
        names = ", ".join(sorted(set(quality[other])))
        notes.append(
            Diagnostic(
                "uncertainty-quality-unlisted",
                f"{int(other.sum())} records name a data quality the defaults do not list "
                f"({names}); the 'default' activity uncertainty applies",
                Severity.WARNING,
            )
        )
    key = quality.where(listed, "default")
    return (
        _lookup(key, dict(half), 0.0).astype(float),
        _lookup(key, dict(dist), "normal"),
        notes,
    )


def _split_gas(text: str) -> tuple[str, str]:
    """``method.gas`` -> (method, CO2/CH4/N2O for a variant of one, else the gas)."""
    method, gas = text.split(".", 1)
    return method, _gas_base(gas)


def _gas_base(gas: str) -> str:
    """CO2, CH4 or N2O for their variants (e.g. CO2_fossil)."""
    found = [b for b in ("CO2", "CH4", "N2O") if gas.upper().startswith(b)]
    return found[0] if found else gas


def _factor_defaults(
    lines: pd.DataFrame, is_direct: pd.Series, table: pd.DataFrame
) -> tuple[pd.Series, pd.Series, list[Diagnostic]]:
    """Per line: the factor half-width and distribution by ``method.gas``, then ``method``."""
    rows = table[table["kind"] == "factor"]
    half = dict(zip(rows["key"].astype(str), rows["half_width"].astype(float), strict=True))
    dist = dict(zip(rows["key"].astype(str), rows["distribution"].astype(str), strict=True))
    method = lines["method"].astype(object).where(~is_direct, "direct")
    pair = method + "." + lines["gas"].astype(object)  # per line; looked up per distinct pair

    def type_key(text: object) -> str:
        m, gas = _split_gas(str(text))
        return f"{m}.{gas}" if f"{m}.{gas}" in half else m if m in half else "default"

    key = each_distinct(pair, type_key)
    by_gas = each_distinct(pair, lambda t: ".".join(_split_gas(str(t))))
    notes = []
    other = key.eq("default") & method.ne("default")
    if other.any():
        notes.append(
            Diagnostic(
                "uncertainty-factor-type-unlisted",
                f"{int(other.sum())} lines have a factor type the defaults do not list "
                f"({', '.join(sorted(set(by_gas[other])))}); the 'default' factor "
                "uncertainty applies",
                Severity.WARNING,
            )
        )
    return (
        pd.Series(_lookup(key, dict(half), 0.0).astype(float), index=lines.index),
        pd.Series(_lookup(key, dict(dist), "normal"), index=lines.index),
        notes,
    )


def _declared(
    raw_id: pd.Series, sources: pd.DataFrame | None
) -> tuple[pd.Series, pd.Series, pd.Series, list[Diagnostic]]:
    """Per row: the declared error source ("" none), half-width (NaN none), distribution."""
    if sources is None or sources.empty:
        return (
            pd.Series("", index=raw_id.index, dtype=object),
            pd.Series(np.nan, index=raw_id.index),
            pd.Series("", index=raw_id.index, dtype=object),
            [],
        )
    table = check_error_sources(sources).set_index("record_id")
    found = raw_id.where(raw_id.ne(""))
    notes = []
    unknown = table.index[~table.index.isin(raw_id)]
    if len(unknown):
        shown = ", ".join(map(str, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
        notes.append(
            Diagnostic(
                "uncertainty-declared-unknown",
                f"{len(unknown)} declared records are behind no line of the inventory "
                f"propagated ({shown}); their declaration is not used",
                Severity.WARNING,
            )
        )
    return (
        found.map(table["error_source"]).fillna("").astype(object),
        found.map(table["half_width"]).astype(float),
        found.map(table["distribution"]).fillna("").astype(object),
        notes,
    )


def _line_columns(
    lines: pd.DataFrame, table: pd.DataFrame
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Per line: scope, basis, the whole line's quantity and its tCO2e per unit (a line
    without quantity, a direct figure: its tCO2e at factor 1), the factor key and the factor's
    default half-width and distribution."""
    is_direct = lines["factor_id"].astype(str).eq("direct")
    f_half, f_dist, notes = _factor_defaults(lines, is_direct, table)
    quantity = lines["quantity_basis"].astype(float)  # consolidated (x share) by the engine
    tco2e = lines["tco2e"].astype(float)
    gas = lines["gas"].astype(object)
    if is_direct.any():  # a direct figure has a factor of its own (0 by default)
        d = lines[is_direct]
        key = _line_keys(d) + "|" + d["scope"].astype(str) + "|" + d["category"].astype(str)
        gas = gas.where(~is_direct, "direct|" + key)
    columns = pd.DataFrame(
        {
            "scope": lines["scope"].astype(int),
            "basis": lines["basis"].astype(str),
            "quantity": quantity.where(quantity != 0, tco2e),
            "factor": (tco2e / quantity).where(quantity != 0, 1.0),
            "factor_id": lines["factor_id"].astype(object) + "|" + gas.astype(str),
            "factor_uncertainty": f_half,
            "factor_distribution": f_dist,
        }
    )
    return columns, notes


def uncertainty_frame(
    result: InventoryResult,
    records: pd.DataFrame | None = None,
    direct: pd.DataFrame | None = None,
    year: int | None = None,
    defaults: pd.DataFrame | None = None,
    sources: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The propagation input (:data:`FRAME_COLUMNS`): one row per inventory line and record.

    ``quantity`` is the record's part of the line's consolidated activity, ``factor`` the
    line's tCO2e per basis unit (gas factor x GWP), so the rows of a line add up to its tCO2e.
    ``record_id`` is the ledger's (``direct:`` + id for direct records; ``line:`` + key for a
    line without records), ``error_source`` the declared source (``sources``, see
    :func:`check_error_sources`; "" for none), the factor key ``factor_id|gas``. The activity
    uncertainty follows the record's data-quality flag (``defaults``: the packaged table) unless
    declared; ``records`` and ``direct`` are the ledger's activity and direct frames
    (``esgledger.service.inventory_input``).
    """
    table = load_uncertainty_defaults() if defaults is None else defaults
    lines = result.lines if year is None else result.lines[result.lines["year"] == year]
    lines = lines.reset_index(drop=True)
    if lines.empty:
        return pd.DataFrame(columns=FRAME_COLUMNS), [
            Diagnostic("uncertainty-no-lines", "no inventory lines to propagate", Severity.WARNING)
        ]
    years = set(lines["year"].astype(int))
    records, direct = (
        None if f is None or f.empty else f[f["year"].astype(int).isin(years)]
        for f in (records, direct)
    )
    pairs, named = _record_rows(lines, result, records, direct)
    given = records is not None or direct is not None
    pairs, named, diagnostics = _unmatched(lines, pairs, named, given)
    take = pairs["record"].to_numpy()
    counted = np.zeros(len(named), dtype=bool)
    counted[take] = True  # records behind a line (a line without any is reported above)
    counted &= named["raw_id"].ne("").to_numpy()
    a_half, a_dist, notes = _activity_defaults(named["quality"], counted, table)
    diagnostics += notes
    source, half, dist, notes = _declared(named["raw_id"].where(counted, ""), sources)
    diagnostics += notes
    per_line, notes = _line_columns(lines, table)
    diagnostics += notes
    frame = per_line.iloc[pairs["line"].to_numpy()].reset_index(drop=True)
    frame["quantity"] *= pairs["share"].to_numpy(dtype=float)
    frame["record_id"] = named["record_id"].to_numpy()[take]
    frame["error_source"] = source.to_numpy()[take]
    frame["activity_uncertainty"] = half.fillna(pd.Series(a_half, index=half.index)).to_numpy()[
        take
    ]
    frame["activity_distribution"] = dist.where(
        dist.ne(""), pd.Series(a_dist, index=dist.index)
    ).to_numpy()[take]
    return frame[FRAME_COLUMNS], diagnostics
