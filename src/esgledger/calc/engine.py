"""The inventory: a sequence of pure stages returning one immutable result.

    records --one hash aggregate (entity, year, activity type, unit, region)--> aggregate
    aggregate --conversions--> basis quantities --resolved factors per gas--> gas lines
    gas lines --GWP x consolidation share--> consolidated lines (location basis)
    electricity lines + instruments --market_based_scope2--> market-based lines
    direct CO2e entries --> lines;  aggregate --GB/T 2589 coefficients--> energy lines

Only the first step reads every record (DuckDB); everything after it works on the aggregate
and small tables (distinct keys, entities, instruments), and is linear in quantity, so the
figures equal a record-by-record calculation. Lineage is exact and reproducible: every line
names its factor id, and its records are those with the line's (entity, year, activity type,
effective region) in the stored ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from esgledger.calc.energy import finish_energy, removal_notes, tce_coefficients
from esgledger.calc.ghg_basis import on_basis
from esgledger.calc.market import market_based_scope2
from esgledger.calc.normalise import conversions
from esgledger.calc.result import (
    ACTIVITY_COLUMNS,
    LINE_COLUMNS,
    REMOVAL_COLUMNS,
    InventoryResult,
)
from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.domain.organisation import Organisation
from esgledger.factors.fuel_properties import FuelProperties
from esgledger.factors.library import FactorLibrary
from esgledger.factors.resolve import CalcSettings, resolve_factors


@dataclass(frozen=True)
class InventoryInput:
    """Everything a calculation reads, as tables (from the ledger, a test, or a benchmark)."""

    records: pd.DataFrame  # rid, entity_id, year, activity_type, quantity, unit, region, ...
    organisation: Organisation
    direct: pd.DataFrame = field(default_factory=pd.DataFrame)
    parameters: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["name", "year", "value", "unit", "source"])
    )
    overrides: pd.DataFrame = field(default_factory=pd.DataFrame)
    instruments: pd.DataFrame | None = None  # split from records when None
    fuel_properties: pd.DataFrame = field(default_factory=pd.DataFrame)  # measured NCV...


def boundary_table(organisation: Organisation, settings: CalcSettings) -> pd.DataFrame:
    shares = organisation.consolidation_shares(settings.approach)
    return pd.DataFrame(
        {
            "entity_id": list(shares),
            "share": list(shares.values()),
            "region": [organisation.get(e).region for e in shares],
        }
    )


EMISSION_SQL = """
    SELECT *, quantity_gross * share AS quantity_basis, t_gas * gwp AS tco2e_gross,
           t_gas * gwp * share AS tco2e FROM (
        SELECT a.entity_id, a.year, a.month, t.scope, t.category, a.activity_type, a.region,
               f.gas,
               f.factor_id,
               CASE WHEN a.activity_type = 'electricity' THEN 'location' ELSE 'both' END
                   AS basis,
               t.method, sum(a.quantity * c.factor) AS quantity_gross, t.basis_unit,
               sum(a.n_records) AS n_records, sum(a.quantity * c.factor * f.ef) AS t_gas,
               g.gwp, b.share
        FROM agg a
        JOIN conv c ON a.activity_type = c.activity_type AND a.unit = c.unit
             AND a.year = c.year AND a.prop_entity IS NOT DISTINCT FROM c.prop_entity
        JOIN resolved f ON a.activity_type = f.activity_type
             AND a.region IS NOT DISTINCT FROM f.region AND a.year = f.year
             AND a.prop_entity IS NOT DISTINCT FROM f.prop_entity
        JOIN types t ON a.activity_type = t.activity_type
        JOIN shares b ON a.entity_id = b.entity_id
        LEFT JOIN gwp g ON f.gas = g.gas
        GROUP BY ALL
    )
    ORDER BY year, month, entity_id, scope, category, activity_type, region, gas, factor_id
"""
ENERGY_SQL = """
    SELECT a.entity_id, a.year, a.month, a.activity_type, a.region,
           sum(a.quantity * c.factor) AS quantity_gross, sum(a.n_records) AS n_records
    FROM agg a
    JOIN conv c ON a.activity_type = c.activity_type AND a.unit = c.unit AND a.year = c.year
         AND a.prop_entity IS NOT DISTINCT FROM c.prop_entity
    WHERE a.activity_type IN (SELECT activity_type FROM energy_types)
    GROUP BY ALL
"""


REMOVAL_SQL = """
    SELECT a.entity_id, a.year, a.month, a.activity_type, a.region,
           sum(a.n_records) AS n_records, sum(a.quantity * c.factor) AS tco2_gross
    FROM agg a
    JOIN conv c ON a.activity_type = c.activity_type AND a.unit = c.unit AND a.year = c.year
         AND a.prop_entity IS NOT DISTINCT FROM c.prop_entity
    JOIN types t ON a.activity_type = t.activity_type
    WHERE t.method = 'removal'
    GROUP BY ALL
    ORDER BY year, month, entity_id, activity_type, region
"""


def _direct_lines(direct: pd.DataFrame, years: tuple[int, ...] | None) -> pd.DataFrame:
    if direct is None or direct.empty:
        return pd.DataFrame(columns=LINE_COLUMNS)
    d = direct if years is None else direct[direct["year"].isin(years)]
    if "month" not in d.columns:
        d = d.assign(month=None)
    grouped = d.groupby(
        ["entity_id", "year", "month", "scope", "category", "gas", "scope2_basis"],
        as_index=False,
        dropna=False,
    ).agg(tco2e_gross=("tco2e", "sum"), n_records=("tco2e", "size"))
    grouped["basis"] = (
        grouped.apply(lambda r: r["scope2_basis"] if int(r["scope"]) == 2 else "both", axis=1)
        if not grouped.empty
        else pd.Series(dtype=str)
    )
    grouped["activity_type"] = "direct"
    grouped["region"] = None
    grouped["factor_id"] = "direct"
    grouped["method"] = "direct"
    grouped["quantity_gross"] = grouped["tco2e_gross"]
    grouped["basis_unit"] = "tCO2e"
    grouped["t_gas"] = grouped["tco2e_gross"]
    grouped["gwp"] = 1.0
    return grouped


@dataclass(frozen=True)
class Stage:
    """Output of the relational stage: lines, energy lines and the tables behind them."""

    lines: pd.DataFrame
    energy: pd.DataFrame
    resolved: pd.DataFrame
    conversions: pd.DataFrame
    instruments: pd.DataFrame
    activity: pd.DataFrame
    diagnostics: list[Diagnostic]
    removals: pd.DataFrame


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """The result of ``sql`` as a DataFrame, through Arrow: DuckDB's own conversion makes a
    Python string of every text cell while holding the interpreter lock (hundreds of
    milliseconds at half a million lines, during which a server's requests wait); Arrow's
    columns are handed to pandas' Arrow-backed strings whole. Sums of whole numbers (DuckDB's
    HUGEINT, a 38-digit decimal in Arrow) become floats, as DuckDB's own conversion makes them.
    """
    table = con.sql(sql).to_arrow_table()
    for i, column in enumerate(table.schema):
        if pa.types.is_decimal(column.type):
            table = table.set_column(i, column.name, pc.cast(table[column.name], pa.float64()))
    frame: pd.DataFrame = table.to_pandas()
    return frame


def _unknown(
    con: duckdb.DuckDBPyConnection, column: str, table: str, what: str
) -> list[Diagnostic]:
    found = con.execute(
        f"SELECT {column}, sum(n_records) FROM scan WHERE {column} NOT IN "
        f"(SELECT {column} FROM {table}) GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return [
        Diagnostic(
            f"unknown-{what.replace(' ', '-')}",
            f"{int(n)} records name unknown {what} {value!r}; they are not counted",
        )
        for value, n in found
    ]


def _flag_measured(con: duckdb.DuckDBPyConnection, props: FuelProperties) -> None:
    """Table ``measured_keys``: the (activity type, entity, year) of the scan that an entity's
    own measured fuel property covers. Their records are calculated apart (``prop_entity``);
    every other record reads the group's properties or the library's."""
    con.execute(
        "CREATE TEMP TABLE measured (activity_type VARCHAR, entity_id VARCHAR, year BIGINT)"
    )
    keys = props.entity_keys()
    if keys:
        con.executemany("INSERT INTO measured VALUES (?, ?, ?)", keys)
    con.execute("""
        CREATE TEMP TABLE measured_keys AS
        SELECT DISTINCT s.activity_type, s.entity_id, s.year FROM scan s
        JOIN measured m ON m.activity_type = s.activity_type AND m.entity_id = s.entity_id
             AND (m.year IS NULL OR m.year = s.year)
    """)


def _relational_stage(
    records: pd.DataFrame,
    boundary: pd.DataFrame,
    library: FactorLibrary,
    settings: CalcSettings,
    data: InventoryInput,
    coefs: pd.DataFrame,
    props: FuelProperties,
) -> Stage:
    """One scan of the record table, then joins of its aggregate to the factor tables.

    The records are grouped once per (entity, year, activity type, unit, region) with a plain
    hash aggregate, the only step whose cost grows with the number of records. Every later
    step is linear in quantity, so joining the aggregate gives the same figures as joining
    every record; lineage stays exact because each line keeps the key of its records.
    """
    types = library.activity_types.reset_index()[
        ["activity_type", "method", "scope", "category", "basis_unit"]
    ]
    gwp = library.gwp[library.gwp["gwp_set"] == settings.gwp_set][["gas", "value"]].rename(
        columns={"value": "gwp"}
    )
    instrument_types = [str(t) for t in types.loc[types["method"] == "instrument", "activity_type"]]
    years = settings.years
    where = f"WHERE year IN ({', '.join(str(int(y)) for y in years)})" if years else ""
    extra = "".join(f", {c}" for c in ("ef_value", "ef_unit") if c in records.columns)
    # records without a month column (yearly data) get NULL months
    month = "month" if "month" in records.columns else "CAST(NULL AS INTEGER)"
    listed = ", ".join(f"'{t}'" for t in instrument_types) or "''"
    con = duckdb.connect()
    try:
        con.register("raw", records)
        con.register("ents", boundary[["entity_id", "region"]])
        con.register("shares", boundary[["entity_id", "share"]])
        con.register("types", types)
        con.register("gwp", gwp)
        con.execute(f"""
            CREATE TEMP TABLE scan AS
            SELECT entity_id, year, {month} AS month, activity_type, unit, region,
                   sum(quantity) AS quantity, count(*) AS n_records
            FROM raw {where} GROUP BY ALL
        """)
        instruments = _fetch(
            con,
            f"""
            SELECT entity_id, year, activity_type, unit, quantity{extra} FROM raw
            WHERE activity_type IN ({listed}) {where.replace("WHERE", "AND")}
        """,
        )
        problems = _unknown(con, "activity_type", "types", "activity type")
        problems += _unknown(con, "entity_id", "ents", "entity")
        _flag_measured(con, props)
        con.execute("""
            CREATE TEMP TABLE agg AS
            SELECT s.entity_id, s.year, s.month, s.activity_type, s.unit,
                   coalesce(s.region, e.region) AS region, p.entity_id AS prop_entity,
                   sum(s.quantity) AS quantity, sum(s.n_records) AS n_records
            FROM scan s JOIN ents e USING (entity_id) JOIN types t USING (activity_type)
            LEFT JOIN measured_keys p ON p.activity_type = s.activity_type
                 AND p.entity_id = s.entity_id AND p.year = s.year
            WHERE t.method <> 'instrument'
            GROUP BY ALL
        """)
        unit_keys = _fetch(
            con,
            "SELECT activity_type, unit, year, prop_entity, sum(n_records) AS n_records "
            "FROM agg GROUP BY ALL ORDER BY ALL",
        )
        conv, found = conversions(unit_keys, library, data.parameters, props)
        problems += found
        keys = _fetch(
            con, "SELECT DISTINCT activity_type, region, year, prop_entity FROM agg ORDER BY ALL"
        )
        resolved, found = resolve_factors(keys, library, settings, data.overrides, props)
        problems += found
        con.register("conv", conv)
        con.register(
            "resolved",
            resolved[["activity_type", "region", "year", "prop_entity", "gas", "ef", "factor_id"]],
        )
        con.register("energy_types", coefs[["activity_type"]])
        lines = _fetch(con, EMISSION_SQL)
        energy = _fetch(con, ENERGY_SQL)
        removals = _fetch(con, REMOVAL_SQL)
        activity = _fetch(
            con,
            "SELECT entity_id, year, activity_type, unit, sum(n_records) AS n_records, "
            "sum(quantity) AS quantity_gross FROM agg GROUP BY ALL ORDER BY ALL",
        )
    finally:
        con.close()
    return Stage(lines, energy, resolved, conv, instruments, activity, problems, removals)


def _characterise(lines: pd.DataFrame, settings: CalcSettings) -> list[Diagnostic]:
    """Lines are characterised in SQL (GWP, scope, category); report gases without a GWP."""
    return [
        Diagnostic("gwp-missing", f"no {settings.gwp_set} GWP for {gas}; its lines count 0")
        for gas in sorted(set(lines.loc[lines["gwp"].isna(), "gas"]))
    ]


SMALL_SORT = ["year", "month", "entity_id", "scope", "category", "activity_type", "gas", "basis"]


def _consolidate(
    lines: pd.DataFrame, small: list[pd.DataFrame], boundary: pd.DataFrame, settings: CalcSettings
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Apply each entity's consolidation share to the market and direct lines (the activity
    lines got theirs in SQL) and stack everything in a deterministic order."""
    parts = [x for x in small if not x.empty]
    extra = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LINE_COLUMNS)
    extra = extra.drop(columns=["share"], errors="ignore").merge(
        boundary[["entity_id", "share"]], on="entity_id", how="left"
    )
    extra["tco2e"] = extra["tco2e_gross"] * extra["share"]
    extra["quantity_basis"] = extra["quantity_gross"] * extra["share"]
    extra = extra.sort_values(SMALL_SORT, kind="stable")
    stacked = [x[LINE_COLUMNS] for x in (lines, extra) if not x.empty]
    out = pd.concat(stacked, ignore_index=True) if stacked else pd.DataFrame(columns=LINE_COLUMNS)
    problems = []
    outside = boundary[boundary["share"] == 0]["entity_id"]
    if not outside.empty:
        n = int(out["entity_id"].isin(outside).sum())
        problems.append(
            Diagnostic(
                "boundary",
                f"{len(outside)} entities outside the {settings.approach.value} "
                f"boundary ({n} lines at 0 %): {', '.join(outside)}",
                Severity.INFO,
            )
        )
    return out, problems


def compute_inventory(
    data: InventoryInput, library: FactorLibrary, settings: CalcSettings
) -> InventoryResult:
    """Run the stages in order; never mutates its inputs."""
    diagnostics: list[Diagnostic] = list(settings.validate(library))
    boundary = boundary_table(data.organisation, settings)
    coefs = tce_coefficients(library, settings)
    props = FuelProperties(data.fuel_properties, library)
    stage = _relational_stage(data.records, boundary, library, settings, data, coefs, props)
    diagnostics += stage.diagnostics
    lines, problems = on_basis(stage.lines, settings)
    diagnostics += problems
    diagnostics += _characterise(lines, settings)
    instruments = stage.instruments if data.instruments is None else data.instruments
    market, problems = market_based_scope2(lines, instruments, library, settings)
    diagnostics += problems
    direct = _direct_lines(data.direct, settings.years)
    consolidated, problems = _consolidate(lines, [market, direct], boundary, settings)
    diagnostics += problems
    energy = finish_energy(stage.energy, coefs, library, boundary, data.parameters, props)
    activity = stage.activity.merge(boundary[["entity_id", "share"]], on="entity_id")
    activity["quantity"] = activity["quantity_gross"] * activity["share"]
    removals = stage.removals.merge(boundary[["entity_id", "share"]], on="entity_id")
    removals["tco2"] = removals["tco2_gross"] * removals["share"]
    diagnostics += removal_notes(removals)
    return InventoryResult(
        settings=settings,
        library_version=library.version,
        lines=consolidated,
        energy=energy,
        resolved=stage.resolved,
        conversions=stage.conversions,
        boundary=boundary,
        diagnostics=tuple(diagnostics),
        activity=activity[ACTIVITY_COLUMNS],
        removals=removals[REMOVAL_COLUMNS],
    )
