"""Commands: ``report build`` (the sustainability report in HTML, PDF, DOCX and XLSX),
``report gaps`` (mandatory items without data or text) and ``report narrative import`` /
``export`` (the report's text, to edit outside the web app)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _open, console, errors

if TYPE_CHECKING:
    from esgledger.report.model import Lang, Report

report_app = typer.Typer(
    help="Build the sustainability report and manage its narrative text.", no_args_is_help=True
)
narrative_app = typer.Typer(
    help="Import and export the report's narrative text (CSV or Markdown files).",
    no_args_is_help=True,
)
report_app.add_typer(narrative_app, name="narrative")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


class LangChoice(StrEnum):
    zh = "zh"
    en = "en"
    all = "all"


class OneLang(StrEnum):
    zh = "zh"
    en = "en"


class FormatChoice(StrEnum):
    html = "html"
    pdf = "pdf"
    docx = "docx"
    xlsx = "xlsx"
    all = "all"


YearOption = Annotated[int, typer.Option(help="reporting year", min=1901, max=2199)]
ActorOption = Annotated[str, typer.Option("--actor", help="who makes the change (audit log)")]


def _fail(message: str) -> typer.Exit:
    errors.print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _langs(lang: LangChoice) -> list[Lang]:
    return ["zh", "en"] if lang == LangChoice.all else ["zh" if lang == LangChoice.zh else "en"]


def _formats(fmt: FormatChoice) -> list[str]:
    from esgledger.report.model import FORMATS

    return list(FORMATS) if fmt == FormatChoice.all else [fmt.value]


def _size(n: int) -> str:
    return f"{n:,} B" if n < 1024 else f"{n / 1024:,.1f} KiB"


def _build(store: Any, year: int, lang: Lang) -> Report:
    from esgledger import report

    try:
        return report.build_report(store, year, lang)
    except (ValueError, ImportError, OSError) as exc:
        raise _fail(f"report {year} ({lang}): cannot be built: {exc}") from exc


def _audited(store: Any, year: int, lang: Lang, kind: str, content: bytes, built: Report) -> None:
    """Record the file in the audit log, as the web download does (one export each)."""
    from esgledger.auth.accounts import operator
    from esgledger.usecases.exports import record_export

    record_export(
        store.engine,
        operator("cli"),
        "report",
        f"{year}/{lang}.{kind}",
        content,
        fmt=kind,
        data_version=built.meta.get("data_version"),
        built_at=built.meta.get("built_at"),
    )


@report_app.command("build")
def build(
    year: YearOption,
    lang: Annotated[LangChoice, typer.Option(help="language: zh, en or all")] = LangChoice.all,
    fmt: Annotated[
        FormatChoice, typer.Option("--format", help="html, pdf, docx, xlsx or all")
    ] = FormatChoice.all,
    out: Annotated[Path, typer.Option(help="folder the files are written to")] = Path(),
    ledger: LedgerOption = DEFAULT_LEDGER,
) -> None:
    """Build the report of a year from the ledger and write it in each language and format."""
    from esgledger import report

    store = _open(ledger)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title=f"report {year}", title_justify="left")
    table.add_column("file")
    table.add_column("language")
    table.add_column("size", justify="right")
    table.add_column("gaps", justify="right")
    for code in _langs(lang):
        built = _build(store, year, code)
        for kind in _formats(fmt):
            try:
                content = report.render(built, kind)
            except (ValueError, ImportError, OSError) as exc:
                raise _fail(f"report {year} ({code}, {kind}): cannot be rendered: {exc}") from exc
            target = out / report.file_name(year, code, kind)
            _audited(store, year, code, kind, content, built)
            target.write_bytes(content)
            table.add_row(str(target), code, _size(len(content)), str(len(built.gaps)))
    console.print(table)
    console.print(
        f"gaps are mandatory items without data or text: `esgledger report gaps --year {year}`",
        markup=False,
        highlight=False,
    )


def _frameworks(wanted: list[str] | None) -> set[str]:
    """The framework ids asked for, each a framework with a content index in the registry."""
    from esgledger.metrics import load_frameworks

    declared = [f.framework_id for f in load_frameworks().indexes()]
    unknown = [w for w in wanted or () if w not in declared]
    if unknown:
        known = ", ".join(declared)
        raise _fail(f"--framework {', '.join(unknown)}: no content index (declared: {known})")
    return set(wanted or ())


@report_app.command("gaps")
def gaps(
    year: YearOption,
    lang: Annotated[OneLang, typer.Option(help="language of the list: zh or en")] = OneLang.en,
    framework: Annotated[
        list[str] | None,
        typer.Option(
            "--framework",
            help="only the gaps of this framework id (repeatable): any framework with a "
            "content index in the registry, e.g. gri, szse17",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="exit with 1 when there is any gap")
    ] = False,
    ledger: LedgerOption = DEFAULT_LEDGER,
) -> None:
    """List the report's mandatory items without data or text: the clauses of each content
    index (GRI, SZSE No. 17, ...), missing metrics and empty sections."""
    wanted = _frameworks(framework)
    store = _open(ledger)
    code: Lang = "zh" if lang == OneLang.zh else "en"
    found = _build(store, year, code).gaps
    if wanted:
        found = tuple(g for g in found if wanted & set(g.framework_ids))
    table = Table(title=f"report {year} ({code}): {len(found)} gaps", title_justify="left")
    for column in ("framework", "item", "what is missing"):
        table.add_column(column)
    for gap in found:
        table.add_row(gap.framework, gap.item, gap.what)
    console.print(table)
    if strict and found:
        raise typer.Exit(1)


@narrative_app.command("import")
def narrative_import(
    path: Annotated[
        Path, typer.Argument(help="CSV (section_id, lang, text) or folder <lang>/<section>.md")
    ],
    year: YearOption,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Import the report's narrative texts of a year, all or nothing."""
    from esgledger.report.narrative import NarrativeFileError, import_narratives
    from esgledger.workflow.errors import WorkflowError

    store = _open(ledger)
    try:
        written = import_narratives(store.engine, None, path, year, actor=actor)
    except NarrativeFileError as exc:
        for problem in exc.diagnostics:
            errors.print(str(problem), style="red", markup=False, highlight=False, soft_wrap=True)
        raise _fail(f"{path}: {len(exc.diagnostics)} errors; nothing imported") from exc
    except WorkflowError as exc:
        raise _fail(f"{path}: {exc}; nothing imported") from exc
    console.print(
        f"{path}: {written} narrative(s) of {year} written", markup=False, highlight=False
    )


@narrative_app.command("export")
def narrative_export(
    path: Annotated[Path, typer.Argument(help="new .csv file, or new or empty folder")],
    year: YearOption,
    ledger: LedgerOption = DEFAULT_LEDGER,
) -> None:
    """Export the texts the report of a year shows (the ledger's, else the defaults)."""
    from esgledger.report.narrative import export_narratives
    from esgledger.workflow.errors import WorkflowError

    store = _open(ledger)
    try:
        count = export_narratives(store.engine, year, path)
    except (WorkflowError, OSError) as exc:
        raise _fail(f"narrative export: {exc}") from exc
    console.print(f"{path}: {count} narrative(s) of {year} written", markup=False, highlight=False)
