"""Commands of the assessments: ``materiality ...`` (the double-materiality survey: campaigns,
one-time links, response rates, scores and tiers, sign-off, topic changes) and ``register ...``
(the climate, supplier and risk registers: import, show, history, regrade).

The command line acts as the ledger's operator (a group-wide administrator named by
``--actor`` in the audit log); the web app applies each user's role and entities.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _emit, _open, console, errors
from esgledger.domain.diagnostics import Diagnostic, Severity

materiality_app = typer.Typer(
    help="The double-materiality survey: campaigns, one-time links, scores, sign-off.",
    no_args_is_help=True,
)
register_app = typer.Typer(
    help="Assessment registers: climate risks, suppliers, evaluations, BCM and infosec risks.",
    no_args_is_help=True,
)

YearOption = Annotated[int, typer.Option(help="reporting year", min=1901, max=2199)]
CampaignOption = Annotated[int, typer.Option("--campaign", help="campaign id")]
ActorOption = Annotated[str, typer.Option("--actor", help="who makes the change (audit log)")]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON output")]
CsvOption = Annotated[bool, typer.Option("--csv", help="CSV output")]


class Kind(StrEnum):
    climate = "climate"
    suppliers = "suppliers"
    supplier_evaluations = "supplier_evaluations"
    bcm = "bcm"
    infosec = "infosec"


def register(app: typer.Typer) -> None:
    app.add_typer(materiality_app, name="materiality")
    app.add_typer(register_app, name="register")


def _fail(message: str) -> typer.Exit:
    errors.print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _operator(actor: str) -> Any:
    from esgledger.auth.accounts import operator

    return operator(actor)


# -- materiality ------------------------------------------------------------------------------


def _groups_file(path: Path) -> list[Any]:
    """Stakeholder groups of a CSV: group_id, axis, weight, name_en, name_zh, internal."""
    from esgledger.ingest.files import read_csv_strings
    from esgledger.usecases.survey import SurveyGroup

    frame, name, unreadable = read_csv_strings(path, "groups")  # the shared reader
    if frame is None:
        raise _fail("; ".join(str(d) for d in unreadable))
    missing = {"group_id", "axis", "weight"} - set(frame.columns)
    if missing:
        raise _fail(f"{name}:1: expected the columns {', '.join(sorted(missing))}")
    problems: list[str] = []
    groups = []
    for line, row in enumerate(frame.to_dict("records"), start=2):
        try:
            weight = float(row["weight"])
        except ValueError:
            problems.append(f"{name}:{line}:weight: expected a number, got {row['weight']!r}")
            continue
        internal = str(row.get("internal") or "").strip().lower()
        if internal not in ("", "yes", "no", "true", "false", "1", "0"):
            problems.append(f"{name}:{line}:internal: expected yes or no, got {internal!r}")
            continue
        groups.append(
            SurveyGroup(
                str(row["group_id"]).strip(),
                str(row["axis"]).strip(),  # type: ignore[arg-type]
                weight,
                str(row.get("name_en") or "").strip(),
                str(row.get("name_zh") or "").strip(),
                internal in ("yes", "true", "1"),
            )
        )
    if problems:
        raise _fail("; ".join(problems) + "; nothing created")
    return groups


@materiality_app.command("create")
def materiality_create(
    year: YearOption,
    title: Annotated[str, typer.Option(help="the campaign's title")],
    closes: Annotated[
        datetime, typer.Option(help="last day responses are taken (UTC, until 23:59:59)")
    ],
    groups: Annotated[
        Path | None,
        typer.Option(
            help="CSV of stakeholder groups: group_id, axis (impact|financial), weight, "
            "name_en, name_zh, internal (yes|no); default: the demo's nine groups"
        ),
    ] = None,
    library: Annotated[
        str | None,
        typer.Option(
            help="packaged topic library: esrs (ESRS 1 AR 16); default: the ledger's topic "
            "list of the year, else its latest list before it (materiality topics import)"
        ),
    ] = None,
    impact_threshold: Annotated[
        float | None, typer.Option(help="impact score at which a topic is high (default 3.0)")
    ] = None,
    financial_threshold: Annotated[
        float | None,
        typer.Option(help="financial score at which a topic is high (default 3.0)"),
    ] = None,
    floor: Annotated[
        float | None,
        typer.Option(help="larger score from which a topic is material at all (default 1.5)"),
    ] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Open a materiality campaign of a year with its topic list and stakeholder groups."""
    from dataclasses import replace

    from esgledger.assess.materiality import load_scales
    from esgledger.usecases import survey
    from esgledger.workflow.errors import WorkflowError

    packaged = load_scales()
    scales = replace(
        packaged,
        impact_high=packaged.impact_high if impact_threshold is None else impact_threshold,
        financial_high=packaged.financial_high
        if financial_threshold is None
        else financial_threshold,
        floor=packaged.floor if floor is None else floor,
    )

    chosen = _groups_file(groups) if groups else list(survey.demo_groups())
    closing = datetime.combine(closes.date(), time(23, 59, 59), tzinfo=UTC)
    store = _open(ledger)
    try:
        cid = survey.create_campaign(
            store.engine,
            _operator(actor),
            year,
            title,
            closing,
            chosen,
            library=library,
            scales=scales,
        )
    except WorkflowError as exc:
        raise _fail(f"materiality create: {exc}") from exc
    console.print(f"campaign {cid} of {year} open until {closing:%Y-%m-%d %H:%M} UTC")


@materiality_app.command("list")
def materiality_list(
    ledger: LedgerOption = DEFAULT_LEDGER, as_json: JsonOption = False, as_csv: CsvOption = False
) -> None:
    """List the campaigns with their status and responses."""
    from esgledger.usecases import survey_results

    rows = survey_results.campaigns(_open(ledger).engine, _operator("cli"))
    columns = ["campaign_id", "year", "title", "status", "closes_at", "issued", "used"]
    frame = pd.DataFrame(rows, columns=[*columns, "signed_off_by"])
    _emit(frame, as_json, as_csv, "materiality campaigns", [])


@materiality_app.command("links")
def materiality_links(
    campaign: CampaignOption,
    group: Annotated[str, typer.Option(help="stakeholder group id")],
    count: Annotated[int, typer.Option(help="number of one-time links", min=1, max=10000)],
    out: Annotated[Path, typer.Option(help="new CSV file the links are written to")],
    base_url: Annotated[
        str, typer.Option(help="address of the web app the links point to")
    ] = "http://127.0.0.1:8000",
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Issue one-time survey links for a group, written once to a new file (mode 600): only
    their hashes are kept, so they cannot be shown again."""
    from esgledger.usecases import survey
    from esgledger.workflow.errors import WorkflowError

    if out.exists():
        raise _fail(f"{out}: exists; links are written to a new file only")
    store = _open(ledger)
    try:
        secrets = survey.issue_tokens(store.engine, _operator(actor), campaign, group, count)
    except WorkflowError as exc:
        raise _fail(f"materiality links: {exc}") from exc
    from esgledger.store.engine import private_file
    from esgledger.workflow.export import write_csv

    root = base_url.rstrip("/")
    rows = [{"group": group, "link": f"{root}/survey/{campaign}?token={s}"} for s in secrets]
    private_file(out)  # one-time links are secrets: owner only, from creation
    out.write_bytes(write_csv(rows, ["group", "link"]))
    console.print(f"{count} link(s) for {group} written to {out}", markup=False)


@materiality_app.command("rate")
def materiality_rate(
    campaign: CampaignOption,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Response rates per stakeholder group and in total."""
    from esgledger.usecases import survey_results
    from esgledger.workflow.errors import WorkflowError

    try:
        rate = survey_results.response_rate(_open(ledger).engine, _operator("cli"), campaign)
    except WorkflowError as exc:
        raise _fail(f"materiality rate: {exc}") from exc
    total = {
        "group_id": "total",
        "axis": "",
        "internal": "",
        "issued": rate["issued"],
        "used": rate["used"],
        "rate": rate["rate"],
    }
    frame = pd.DataFrame([*rate["groups"], total])
    _emit(frame, as_json, as_csv, f"campaign {campaign}: responses ({rate['status']})", [])
    if not (as_json or as_csv) and rate["external_share"] is not None:
        console.print(f"external stakeholders: {rate['external_share']:.1%} of the returns")


@materiality_app.command("results")
def materiality_results(
    campaign: CampaignOption,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Scores per topic (impact and financial) with their arithmetic and tier."""
    from esgledger.usecases import survey_results
    from esgledger.workflow.errors import WorkflowError

    engine = _open(ledger).engine
    try:
        tiered = survey_results.score_campaign(engine, _operator("cli"), campaign)
        warnings = survey_results.campaign_warnings(engine, _operator("cli"), campaign)
    except WorkflowError as exc:
        raise _fail(f"materiality results: {exc}") from exc
    frame = tiered.reset_index()[
        ["topic_id", "impact", "financial", "impact_n", "financial_n", "tier", "arithmetic"]
    ]
    if not (as_json or as_csv):
        frame = frame.drop(columns=["arithmetic"])
    found = [Diagnostic("materiality-coverage", w, Severity.WARNING) for w in warnings]
    _emit(frame, as_json, as_csv, f"campaign {campaign}: double materiality", found)


@materiality_app.command("sign-off")
def materiality_sign_off(
    campaign: CampaignOption,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """The ESG committee's sign-off: closes the campaign; its result feeds the report."""
    from esgledger.usecases import survey_results
    from esgledger.workflow.errors import WorkflowError

    try:
        survey_results.sign_off(_open(ledger).engine, _operator(actor), campaign)
    except WorkflowError as exc:
        raise _fail(f"materiality sign-off: {exc}") from exc
    console.print(f"campaign {campaign} signed off by {actor}", markup=False)


@materiality_app.command("changes")
def materiality_changes(
    year: YearOption,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Changes of the ledger's topic list of a year against the previous year's (merged,
    renamed, added, moved, removed)."""
    from esgledger.assess.topics import topic_changes
    from esgledger.usecases.topic_lists import ledger_topics

    store = _open(ledger)
    before, now = ledger_topics(store, year - 1), ledger_topics(store, year)
    missing = [str(y) for y, t in ((year - 1, before), (year, now)) if not t]
    if missing:
        raise _fail(
            f"materiality changes: no topic list of {' and '.join(missing)} in the ledger "
            "(esgledger materiality topics import YEAR FILE)"
        )
    try:
        changes = topic_changes(before, now)
    except ValueError as exc:
        raise _fail(f"materiality changes: {exc}") from exc
    frame = pd.DataFrame(
        [(c.kind, c.topic_id, c.previous_id, c.detail) for c in changes],
        columns=["change", "topic_id", "previous", "detail"],
    )
    _emit(frame, as_json, as_csv, f"topic changes {year - 1} -> {year}", [])


# -- registers --------------------------------------------------------------------------------


@register_app.command("import")
def register_import(
    kind: Annotated[Kind, typer.Argument(help="which register")],
    path: Annotated[Path, typer.Argument(help="CSV or XLSX file with the register's columns")],
    year: YearOption,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Import a register file for a year, all or nothing; it replaces the year's rows of the
    entities it holds (a group-level register: the whole year); replaced rows are kept."""
    from esgledger.usecases.registers import RegisterRejected, import_register
    from esgledger.workflow.errors import WorkflowError

    store = _open(ledger)
    try:
        import_id = import_register(store.engine, _operator(actor), kind.value, year, path)
    except RegisterRejected as exc:
        for problem in exc.diagnostics:
            errors.print(str(problem), style="red", markup=False, highlight=False, soft_wrap=True)
        raise _fail(f"{path}: {len(exc.diagnostics)} problem(s); nothing imported") from exc
    except (WorkflowError, OSError) as exc:
        raise _fail(f"{path}: {exc}; nothing imported") from exc
    console.print(f"{path}: imported as {kind.value} {year} (import {import_id})", markup=False)


def register_results(source: Any, who: Any, kind: str, year: int) -> pd.DataFrame:
    """A register's rows ``who`` may see with the group's results (what ``register show``
    prints: :func:`esgledger.usecases.assessment_results.visible_results`)."""
    from esgledger.usecases.assessment_results import visible_results

    rows = visible_results(source, who, kind, year)
    return rows.drop(columns=[c for c in rows.columns if str(c).startswith("_")])


@register_app.command("template")
def register_template(
    kind: Annotated[Kind, typer.Argument(help="which register")],
    path: Annotated[Path, typer.Argument(help="new .xlsx or .csv file")],
) -> None:
    """Write an empty register file with the register's columns (XLSX or CSV)."""
    from esgledger.usecases.registers import template

    try:
        template(kind.value, path)
    except FileExistsError as exc:
        raise _fail(f"{path}: exists; a template is written to a new file only") from exc
    console.print(f"{path}: {kind.value} template written", markup=False)


@register_app.command("show")
def register_show(
    kind: Annotated[Kind, typer.Argument(help="which register")],
    year: YearOption,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The year's register with its results: supplier levels, BCM grades, GB/T 20984 risk
    values and levels."""
    from esgledger.usecases.assessment_results import rules_notes
    from esgledger.workflow.errors import WorkflowError

    store = _open(ledger)
    try:
        frame = register_results(store, _operator("cli"), kind.value, year)
    except (WorkflowError, ValueError) as exc:
        raise _fail(f"register show: {exc}") from exc
    if frame.empty:
        raise _fail(f"register show: no {kind.value} register of {year} in the ledger")
    notes = rules_notes(store, kind.value, year) + _drills(frame, year, kind)
    _emit(frame, as_json, as_csv, f"{kind.value} {year}", notes)


def _drills(frame: pd.DataFrame, year: int, kind: Kind) -> list[Diagnostic]:
    """A warning per business-continuity risk whose drill is overdue at the end of ``year``
    (:func:`esgledger.assess.risks.overdue_drills`)."""
    from datetime import date

    from esgledger.assess.risks import overdue_drills

    if kind is not Kind.bcm:
        return []
    late = overdue_drills(frame, date(year, 12, 31))
    return [
        Diagnostic("drill-overdue", f"{r} ({e}): {why}", Severity.WARNING)
        for r, e, why in zip(
            late["risk_id"], late["entity_id"], late["overdue_reason"], strict=True
        )
    ]


class Rated(StrEnum):
    supplier_evaluations = "supplier_evaluations"
    bcm = "bcm"
    infosec = "infosec"


@register_app.command("regrade")
def register_regrade(
    kind: Annotated[Rated, typer.Argument(help="which rated register")],
    year: Annotated[int, typer.Argument(help="the register's year", min=1901, max=2199)],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Grade a register year with the rules in force now and keep them for the year (audited
    with the rules' SHA-256 before and after and the rows whose grade changes); refused for a
    locked year."""
    from esgledger.cli.admin import _change
    from esgledger.usecases.regrade import regrade

    engine = _open(ledger).engine
    done = _change(
        f"register regrade {kind.value} {year}",
        lambda who: regrade(engine, who, kind.value, year),
        actor,
    )
    rules = "; ".join(f"{n} {d[:12]}" for n, d in done.after.items())
    if done.same:
        console.print(
            f"{kind.value} {year}: graded with the rules in force already ({rules}); "
            "nothing changed",
            markup=False,
            soft_wrap=True,
        )
        return
    was = "" if done.was_frozen else " (it had no rules of its own: they are now kept)"
    console.print(
        f"{kind.value} {year} re-graded with {rules}{was}: {done.rows} rows, "
        f"{len(done.class_changes)} change class, {done.value_changes} change value "
        f"(audit entry {done.seq})",
        markup=False,
        soft_wrap=True,
    )
    for key, before, after in done.class_changes[:20]:
        console.print(f"  {key}: {before} -> {after}", markup=False, soft_wrap=True)
    if len(done.class_changes) > 20:
        console.print(
            f"  ... and {len(done.class_changes) - 20} more", markup=False, soft_wrap=True
        )


@register_app.command("history")
def register_history(
    kind: Annotated[Kind | None, typer.Argument(help="which register (default: all)")] = None,
    year: Annotated[int | None, typer.Option(help="only this year")] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Every import of the registers: file, SHA-256, rows, who and when."""
    from esgledger.usecases import registers

    rows = registers.imports(
        _open(ledger).engine, _operator("cli"), None if kind is None else kind.value, year
    )
    columns = ["import_id", "kind", "year", "file_name", "sha256", "rows", "imported_by"]
    frame = pd.DataFrame(rows, columns=[*columns, "imported_at"])
    _emit(frame, as_json, as_csv, "register imports", [])
    if not rows and not (as_json or as_csv):
        print("no imports", file=sys.stderr)
