"""Command line: thin commands over the library; exit codes follow the diagnostics."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree

from esgledger.calc.explain import Node
from esgledger.domain.diagnostics import Diagnostic, Severity, exit_code
from esgledger.domain.display import short_number
from esgledger.domain.model import ConsolidationApproach
from esgledger.factors import FactorLibrary, load_library

app = typer.Typer(
    help="esgledger: GHG and energy ledger with lineage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
factors_app = typer.Typer(help="Browse the factor library.", no_args_is_help=True)
app.add_typer(factors_app, name="factors")
# Wide enough for the tables when the output is a file or a CI log rather than a terminal.
console = Console(width=None if sys.stdout.isatty() else 130)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 130)

DEFAULT_LEDGER = "esgledger.db"
LedgerOption = Annotated[
    str,
    typer.Option(
        "--ledger",
        "-l",
        envvar="ESGLEDGER_DB",
        help="ledger: an SQLite file, or a database URL (postgresql+psycopg://user@host/db)",
    ),
]
PacksOption = Annotated[
    str | None, typer.Option("--ledger", "-l", help="also the factor packs of this ledger")
]
"""``factors list|show --ledger``: the packaged library with a ledger's factor packs."""


class Approach(StrEnum):
    operational_control = "operational_control"
    financial_control = "financial_control"
    equity_share = "equity_share"


def is_url(ledger: str | Path) -> bool:
    """A ``--ledger`` value with ``://`` is a database URL; anything else is an SQLite file."""
    return isinstance(ledger, str) and "://" in ledger


def shown(ledger: str | Path) -> str:
    """The ledger as printed: a URL without its password."""
    if not is_url(ledger):
        return str(ledger)
    from esgledger.store.engine import shown_url

    return shown_url(str(ledger))


def ledger_target(ledger: str | Path) -> str | Path:
    """What ``Ledger.open`` takes for a ``--ledger`` value: a ``Path`` for a file, else the URL,
    with ``postgresql://`` and ``postgres://`` meaning the psycopg (3) driver."""
    if not is_url(ledger):
        return Path(ledger)
    scheme, rest = str(ledger).split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else str(ledger)


def _open(ledger: str | Path, must_exist: bool = True) -> Any:
    """The ledger of a ``--ledger`` value: an SQLite file (which must exist unless
    ``must_exist`` is false) or a database URL (never checked here: the database says)."""
    from esgledger.store.engine import BadLedgerURL
    from esgledger.store.ledger import Ledger

    if is_url(ledger):
        try:
            return Ledger.open(ledger_target(ledger))
        except (BadLedgerURL, ImportError) as exc:  # unknown dialect or driver, bad URL
            errors.print(f"--ledger {shown(ledger)}: {exc}", markup=False, highlight=False)
            raise typer.Exit(2) from exc
    path = Path(ledger)
    if must_exist and not path.exists():
        errors.print(f"{path}: no ledger here; run `esgledger init --ledger {path}` first")
        raise typer.Exit(2)
    return Ledger.open(path)


def _print_diagnostics(diagnostics: Sequence[Diagnostic], as_json: bool = False) -> None:
    if as_json:
        return
    for d in diagnostics:
        style = {"error": "red", "warning": "yellow"}.get(d.severity.value, "dim")
        errors.print(str(d), style=style, highlight=False, markup=False, soft_wrap=True)


def _number(value: float | None) -> str:
    """A table cell (:func:`esgledger.domain.display.short_number`)."""
    return short_number(None if value is None or pd.isna(value) else float(value))


@app.command()
def init(
    ledger: LedgerOption = DEFAULT_LEDGER,
    entities: Annotated[Path | None, typer.Option(help="organisation tree CSV")] = None,
) -> None:
    """Create or upgrade a ledger (runs the database migrations)."""
    store = _open(ledger, must_exist=False)
    store.init()
    if entities is not None:
        from esgledger.auth.accounts import operator
        from esgledger.domain.errors import WorkflowError
        from esgledger.ingest.entities import read_entities
        from esgledger.usecases.reference import import_entities

        found, problems = read_entities(entities, store.organisation())
        _print_diagnostics(problems)
        if exit_code(problems):
            raise typer.Exit(1)
        try:  # the same door as `entities import`: lock check and audit entries
            import_entities(store.engine, operator("cli"), found)
        except WorkflowError as exc:
            errors.print(f"init --entities: {exc}", markup=False, highlight=False)
            raise typer.Exit(1) from exc
    console.print(f"ledger ready: {shown(ledger)} ({len(store.organisation())} entities)")


def _advance(progress: Progress, task: TaskID, done: int) -> None:
    progress.update(task, completed=done)


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="CSV or XLSX files")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    kind: Annotated[str | None, typer.Option(help="activity, direct or metrics")] = None,
    user: Annotated[str | None, typer.Option(help="who imports")] = None,
    dry_run: Annotated[bool, typer.Option(help="validate only")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="diagnostics as JSON")] = False,
) -> None:
    """Validate and import activity or direct-emission files, each all or nothing."""
    from esgledger.ingest.importer import import_file

    store = _open(ledger)
    reports = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=as_json or not sys.stderr.isatty(),
    ) as progress:
        for path in files:
            task = progress.add_task(f"import {path.name}", total=None)
            report = import_file(
                store,
                path,
                kind=kind,
                user=user,
                dry_run=dry_run,
                progress=partial(_advance, progress, task),
            )
            reports.append(report)
    diagnostics = [d for r in reports for d in r.diagnostics]
    if as_json:
        print(
            json.dumps(
                {
                    "files": [
                        {
                            "file": r.file,
                            "kind": r.kind,
                            "rows": r.rows,
                            "batch_id": r.batch_id,
                            "duplicate_of": r.duplicate_of,
                            "ok": r.ok,
                            "diagnostics": [d.to_dict() for d in r.diagnostics],
                        }
                        for r in reports
                    ]
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        _print_diagnostics(diagnostics)
        for r in reports:
            if r.duplicate_of is not None:
                console.print(
                    f"{r.file}: already imported (batch {r.duplicate_of}); nothing added",
                    markup=False,
                    highlight=False,
                )
            elif r.ok and r.batch_id is not None:
                console.print(
                    f"{r.file}: imported {r.rows} {r.kind} rows as batch {r.batch_id}",
                    markup=False,
                    highlight=False,
                )
            elif r.ok:
                console.print(
                    f"{r.file}: {r.rows} rows valid (dry run, nothing written)",
                    markup=False,
                    highlight=False,
                )
            else:
                n = sum(d.severity is Severity.ERROR for d in r.diagnostics)
                console.print(
                    f"{r.file}: {n} errors; nothing imported", markup=False, highlight=False
                )
    raise typer.Exit(exit_code(diagnostics))


def _breakdown(by: str, columns: Sequence[str]) -> list[str]:
    """Columns of a `--by` list (entity and activity are short for entity_id, activity_type)."""
    names = {"entity": "entity_id", "activity": "activity_type"}
    dims = [names.get(d.strip(), d.strip()) for d in by.split(",") if d.strip()]
    bad = [d for d in dims if d not in columns]
    if bad or not dims:
        errors.print(f"--by: unknown breakdown {', '.join(bad) or '(empty)'}")
        raise typer.Exit(2)
    return dims


def _settings(
    store: Any,
    year: list[int] | None,
    gwp: str | None,
    approach: Approach | None,
    as_of: str | None,
    grid_level: str | None,
) -> Any:
    from esgledger.service import settings_from_ledger

    return settings_from_ledger(
        store,
        years=tuple(year) if year else None,
        gwp_set=gwp,
        approach=ConsolidationApproach(approach.value) if approach else None,
        factor_as_of=date.fromisoformat(as_of) if as_of else None,
        grid_level=grid_level,
    )


YearOpt = Annotated[list[int] | None, typer.Option("--year", "-y", help="year(s)")]
GwpOpt = Annotated[str | None, typer.Option("--gwp", help="AR4, AR5 or AR6")]
ApproachOpt = Annotated[Approach | None, typer.Option(help="consolidation approach")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="use factors published by this date (YYYY-MM-DD)")
]
GridOpt = Annotated[str | None, typer.Option(help="province, region or national")]


@app.command()
def inventory(
    ledger: LedgerOption = DEFAULT_LEDGER,
    year: YearOpt = None,
    by: Annotated[
        str,
        typer.Option(help="comma list of: entity, scope, category, gas, year, activity, region"),
    ] = "year,scope",
    basis: Annotated[str, typer.Option(help="location or market")] = "location",
    gwp: GwpOpt = None,
    approach: ApproachOpt = None,
    as_of: AsOfOpt = None,
    grid_level: GridOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_csv: Annotated[bool, typer.Option("--csv")] = False,
) -> None:
    """GHG inventory totals in tCO2e, by any breakdown."""
    from esgledger.service import run_inventory

    store = _open(ledger)
    _has_inventory_data(store, "inventory")
    result = run_inventory(store, _settings(store, year, gwp, approach, as_of, grid_level))
    dims = _breakdown(by, list(result.lines.columns))
    table = result.by(dims, basis=basis) if not result.lines.empty else pd.DataFrame()
    _emit(
        table,
        as_json,
        as_csv,
        f"GHG inventory ({basis}-based scope 2), tCO2e",
        result.diagnostics,
    )


def _emit(
    table: pd.DataFrame,
    as_json: bool,
    as_csv: bool,
    title: str,
    diagnostics: Sequence[Diagnostic],
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Print a result, or, when a diagnostic is an error, no row of it (a partial total read
    by a script would be a wrong number): the diagnostics, and JSON ``rows`` null. ``extra``:
    more JSON members (what the table view prints beside the table), null on an error."""
    failed = exit_code(diagnostics) != 0
    if as_json:
        rows = table.astype(object).where(table.notna(), None).to_dict("records")
        more = {k: None if failed else v for k, v in (extra or {}).items()}
        print(
            json.dumps(
                {
                    "rows": None if failed else rows,
                    **more,
                    "diagnostics": [d.to_dict() for d in diagnostics],
                },
                ensure_ascii=False,
                indent=2,
                default=str,
                allow_nan=False,  # missing figures are null, never the non-standard NaN
            )
        )
    elif failed:
        _print_diagnostics(diagnostics)
        errors.print(f"{title}: nothing printed, the errors above leave the figures incomplete")
    elif as_csv:
        table.to_csv(sys.stdout, index=False)
        _print_diagnostics(diagnostics)
    else:
        _print_diagnostics(diagnostics)
        show_table(table, title)
    raise typer.Exit(exit_code(diagnostics))


def _has_inventory_data(store: Any, command: str) -> None:
    """Exit 1 with what to do when the ledger has no entities or no activity data yet."""
    counts = store.counts()
    if not counts["entity"]:
        errors.print(
            f"{command}: the ledger has no entities: expected an organisation "
            "(esgledger init --entities FILE)",
            markup=False,
        )
        raise typer.Exit(1)
    if not (counts["activity_record"] or counts["direct_emission"]):
        errors.print(
            f"{command}: the ledger has no activity data or direct emissions: expected an "
            "import first (esgledger import FILE)",
            markup=False,
        )
        raise typer.Exit(1)


def show_table(table: pd.DataFrame, title: str) -> None:
    """Print a frame as a table (numbers right-aligned, 2 decimals from 1,000 up) and go on:
    for commands that print more than one table (:func:`_emit` ends the command)."""
    out = Table(title=title)
    table = table.infer_objects()
    numeric = [pd.api.types.is_float_dtype(table[c]) for c in table.columns]
    for column, is_number in zip(table.columns, numeric, strict=True):
        out.add_column(str(column), justify="right" if is_number else "left")
    for row in table.itertuples(index=False):
        out.add_row(
            *[
                _number(v) if is_number else str(v)
                for v, is_number in zip(row, numeric, strict=True)
            ]
        )
    console.print(out)


def _write_kpi_xlsx(store: Any, table: pd.DataFrame, year: int, path: Path) -> None:
    """Write the KPI table to an XLSX file, recorded in the audit log as an export."""
    import io

    from esgledger.auth.accounts import operator
    from esgledger.usecases.exports import record_export

    buffer = io.BytesIO()
    table.to_excel(buffer, index=False, sheet_name=f"KPI {year}")
    content = buffer.getvalue()
    record_export(store.engine, operator("cli"), "kpi", year, content, fmt="xlsx", rows=len(table))
    path.write_bytes(content)


@app.command()
def kpi(
    year: Annotated[int, typer.Option("--year", "-y", help="reporting year")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    lang: Annotated[str, typer.Option(help="en or zh")] = "en",
    as_json: Annotated[bool, typer.Option("--json")] = False,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="also write an XLSX file")] = None,
) -> None:
    """The key performance table: every KPI with its reported and computed figures."""
    from esgledger.service import kpi_table

    if lang not in ("en", "zh"):
        errors.print("--lang must be en or zh")
        raise typer.Exit(2)
    store = _open(ledger)
    table, problems = kpi_table(store, year, lang)  # problems: how subsidiaries' totals combined
    if xlsx is not None:
        _write_kpi_xlsx(store, table, year, xlsx)
    _emit(table, as_json, False, f"Key performance table {year}", problems)


@app.command()
def kri(
    series: Annotated[
        Path | None,
        typer.Argument(
            help="CSV of monthly series: entity_id, metric_id, period (YYYY-MM), value; "
            "default: the ledger's monthly metric figures"
        ),
    ] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    rules: Annotated[
        Path | None,
        typer.Option(help="rules CSV (default: the packaged checks/data/kri_rules.csv)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Early warnings of key risk indicators on monthly series (threshold, jump, control chart)."""
    from esgledger.checks import evaluate, load_rules

    found, problems = load_rules(rules)
    _print_diagnostics(problems, as_json)
    if exit_code(problems):
        raise typer.Exit(1)
    try:
        if series is None:
            from esgledger.service import monthly_series

            frame = monthly_series(_open(ledger))
        else:  # the shared reader: GB18030 and XLSX too, within the upload limits
            from esgledger.ingest.files import read_csv_strings

            read, _, unreadable = read_csv_strings(series, "series")
            if read is None:
                _print_diagnostics(unreadable, as_json)
                raise typer.Exit(1)
            frame = read
        warnings = evaluate(frame, found)
    except (OSError, ValueError, KeyError, pd.errors.ParserError) as exc:
        errors.print(f"{series.name if series else shown(ledger)}: {exc}", markup=False)
        raise typer.Exit(1) from exc
    if as_json:
        print(
            json.dumps([w.to_dict() for w in warnings], ensure_ascii=False, indent=2, default=str)
        )
    else:
        for warning in warnings:
            console.print(
                f"{warning.entity_id} {warning.period} {warning.rule_id} "
                f"({warning.severity}): {warning.reason}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        console.print(f"{len(warnings)} warnings")


@app.command()
def check(
    ledger: LedgerOption = DEFAULT_LEDGER,
    year: YearOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Consistency of the stored figures: breakdowns, ratios, bounds, formula totals, jumps."""
    from esgledger.service import check as run_check

    store = _open(ledger)
    findings = run_check(store, year)
    if as_json:
        print(
            json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2, default=str)
        )
    else:
        for finding in findings:
            console.print(str(finding), markup=False, highlight=False, soft_wrap=True)
        errors_found = sum(f.severity is Severity.ERROR for f in findings)
        console.print(f"{len(findings)} findings ({errors_found} errors)")
    raise typer.Exit(1 if any(f.severity is Severity.ERROR for f in findings) else 0)


@app.command()
def intensity(
    ledger: LedgerOption = DEFAULT_LEDGER,
    year: YearOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_csv: Annotated[bool, typer.Option("--csv")] = False,
) -> None:
    """Totals per year with year-on-year change and intensities per 万元 revenue and employee."""
    from esgledger.service import intensity_table, run_inventory

    store = _open(ledger)
    _has_inventory_data(store, "intensity")
    result = run_inventory(store, _settings(store, year, None, None, None, None))
    _emit(
        intensity_table(store, result),
        as_json,
        as_csv,
        "Totals and intensities",
        result.diagnostics,
    )


@app.command()
def energy(
    ledger: LedgerOption = DEFAULT_LEDGER,
    year: YearOpt = None,
    by: Annotated[
        str, typer.Option(help="comma list of: year, entity, activity, region")
    ] = "year,activity",
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_csv: Annotated[bool, typer.Option("--csv")] = False,
) -> None:
    """Energy in tce (GB/T 2589 当量值) and MWh."""
    from esgledger.service import run_inventory

    store = _open(ledger)
    _has_inventory_data(store, "energy")
    result = run_inventory(store, _settings(store, year, None, None, None, None))
    dims = _breakdown(by, list(result.energy.columns))
    if "activity_type" in dims:
        dims.append("basis_unit")  # quantities of one activity type share its unit
    table = result.energy.groupby(dims, as_index=False)[
        ["quantity_basis", "quantity_gross", "tce", "tce_primary", "mwh"]
    ].sum()
    _emit(table, as_json, as_csv, "Energy", result.diagnostics)


def _tree(node: Node, branch: Any) -> None:
    value = "" if node.value is None else f" = {node.value:,.4f} {node.unit}"
    sub = branch.add(escape(f"{node.label}{value}"))
    for key, val in node.detail.items():
        sub.add(f"[dim]{escape(f'{key}: {val}')}[/]")
    for child in node.children:
        _tree(child, sub)


@app.command()
def explain(
    figure: Annotated[
        str,
        typer.Argument(
            help="figure id: ghg:YEAR:S1|S2L|S2M|S3|TOTAL[:ENTITY], energy:YEAR[:ENTITY], "
            "metric:YEAR:METRIC_ID[:ENTITY] (a catalogue metric, as the report prints it), "
            "materiality:YEAR:TOPIC:impact|financial, climate:YEAR:ENTRY:likelihood|impact, "
            "supplier:YEAR:ID, bcm:YEAR:ID, infosec:YEAR:ID or register:KIND:YEAR:CLASS"
        ),
    ],
    ledger: LedgerOption = DEFAULT_LEDGER,
    rows: Annotated[int, typer.Option(help="source rows shown per line")] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print the derivation tree of a figure down to factors and source rows."""
    from esgledger.figures import explain as explain_figure_in

    store = _open(ledger)
    try:
        node = explain_figure_in(store, figure, rows=rows)
    except ValueError as exc:
        errors.print(str(exc))
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(node.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    tree = Tree(f"[bold]{escape(node.label)}[/] = {node.value or 0:,.4f} {node.unit}")
    for key, val in node.detail.items():
        tree.add(f"[dim]{escape(f'{key}: {val}')}[/]")
    for child in node.children:
        _tree(child, tree)
    console.print(tree)


def _ledger_library(ledger: str) -> FactorLibrary:
    from esgledger.book import book_of

    return book_of(_open(ledger)).library()


@factors_app.command("list")
def factors_list(
    kind: Annotated[
        str, typer.Option(help="ef, tce, fuel, gwp, types, regions or densities")
    ] = "ef",
    key: Annotated[str | None, typer.Option(help="filter by key prefix")] = None,
    as_csv: Annotated[bool, typer.Option("--csv")] = False,
    ledger: PacksOption = None,
) -> None:
    """List factors of the packaged library (enabled rows), and a ledger's factor packs."""
    library = load_library() if ledger is None else _ledger_library(ledger)
    frames = {
        "ef": library.emission_factors[
            [
                "factor_id",
                "key",
                "geography",
                "year",
                "gas",
                "value",
                "unit",
                "pack",
                "verification",
            ]
        ],
        "tce": library.tce[["factor_id", "key", "variant", "value", "unit", "verification"]],
        "fuel": library.fuel.reset_index()[
            [
                "param_id",
                "key",
                "fuel",
                "ncv",
                "ncv_unit",
                "carbon_content",
                "oxidation_rate",
                "verification",
            ]
        ],
        "gwp": library.gwp[["gas", "gwp_set", "value", "verification"]],
        "types": library.activity_types.reset_index()[
            ["activity_type", "scope", "category", "method", "basis_unit", "emission_key"]
        ],
        "regions": library.regions.reset_index()[
            ["code", "name_zh", "name_en", "aliases", "grid_region"]
        ],
        "densities": library.densities[["density_id", "fuel", "value", "unit", "verification"]],
    }
    if kind not in frames:
        errors.print(f"--kind must be one of {', '.join(frames)}")
        raise typer.Exit(2)
    frame = frames[kind]
    if key:
        column = "key" if "key" in frame else frame.columns[0]
        frame = frame[frame[column].astype(str).str.startswith(key)]
    if as_csv:
        frame.to_csv(sys.stdout, index=False)
        return
    out = Table(title=f"factor library {library.version}: {kind} ({len(frame)} rows)")
    for column in frame.columns:
        out.add_column(str(column))
    for row in frame.itertuples(index=False):
        out.add_row(*[str(v) for v in row])
    console.print(out)


@factors_app.command("show")
def factors_show(
    factor_id: str,
    ledger: PacksOption = None,
) -> None:
    """Every column of one factor (id from `factors list`), with its source."""
    library = load_library() if ledger is None else _ledger_library(ledger)
    for frame, column in (
        (library.emission_factors, "factor_id"),
        (library.tce, "factor_id"),
        (library.fuel.reset_index(), "param_id"),
    ):
        match = frame[frame[column] == factor_id]
        if not match.empty:
            for name, value in match.iloc[0].items():
                console.print(f"[bold]{name}[/]: {value}", highlight=False)
            return
    errors.print(f"no factor {factor_id!r} (see `esgledger factors list`)")
    raise typer.Exit(1)


@app.command()
def template(
    output: Annotated[Path, typer.Argument(help="XLSX file to write")] = Path(
        "esgledger-template.xlsx"
    ),
) -> None:
    """Write the blank XLSX import template (headers, unit drop-downs, instructions)."""
    from esgledger.ingest.template import write_template

    write_template(output)
    console.print(f"wrote {output}")


@app.command()
def demo(
    ledger: Annotated[Path, typer.Option("--ledger", "-l", help="demo ledger file")] = Path(
        "esgledger-demo/demo.db"
    ),
) -> None:
    """Build the seed group's ledger and print its 2024 figures and reconciliation."""
    from esgledger.demo.report import print_demo

    ledger.parent.mkdir(parents=True, exist_ok=True)
    raise typer.Exit(print_demo(ledger, console))
