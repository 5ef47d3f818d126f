"""Platform commands: ``serve`` (the web app), ``user`` (accounts) and ``audit`` (the log)."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _open, console, errors, is_url

user_app = typer.Typer(help="Manage the web platform's users.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the hash-chained audit log.", no_args_is_help=True)
ActorOption = Annotated[str, typer.Option("--actor", help="who makes the change (audit log)")]

DEMO_USERS = (
    ("admin", "admin", None),
    ("reviewer", "reviewer", "G00"),
    ("owner", "owner", "S01"),
    ("approver", "approver", "G00"),
    ("verifier", "verifier", "G00"),
    ("viewer", "viewer", "S02"),
)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")


def _demo_users(store: Any, path: Path) -> None:
    """Create the demo accounts with random passwords, written once to ``path`` (mode 600)."""
    from esgledger.auth import accounts

    engine = store.engine
    lines = []
    for username, role, entity in DEMO_USERS:
        if accounts.user_id_of(engine, username) is not None:
            continue
        password = secrets.token_urlsafe(12)
        accounts.create_user(
            engine, "demo", username, password, role, entities=[entity] if entity else []
        )
        lines.append(f"{username}\t{role}\t{entity or '*'}\t{password}")
    if lines:
        path.write_text("user\trole\tentity\tpassword\n" + "\n".join(lines) + "\n", "utf-8")
        path.chmod(0o600)


def serve(
    ledger: LedgerOption = "esgledger-demo/demo.db",
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="build the demo group's ledger and accounts when missing")
    ] = True,
    secure_cookies: Annotated[
        bool, typer.Option(help="mark cookies Secure (behind HTTPS)")
    ] = False,
    fresh_wait: Annotated[
        float,
        typer.Option(
            help="seconds a page waits for figures of newly arrived data before it shows the "
            "previous complete ones, labelled with their version and time",
            min=0,
        ),
    ] = 0.2,
) -> None:
    """Start the web platform on a ledger (by default the demo group's, built when missing)."""
    import uvicorn

    from esgledger.web.app import create_app

    is_file = not is_url(ledger)
    if demo and is_file and not Path(ledger).exists():
        from esgledger.demo.build import build_demo

        Path(ledger).parent.mkdir(parents=True, exist_ok=True)
        console.print(f"building the demo ledger {ledger} ...")
        build_demo(Path(ledger))
    store = _open(ledger, must_exist=is_file)
    store.init()
    if demo:
        accounts_file = (Path(ledger).parent if is_file else Path()) / "demo-users.tsv"
        _demo_users(store, accounts_file)
        if accounts_file.exists():
            console.print(f"demo accounts and their passwords: {accounts_file}")
    console.print(f"esgledger is at http://{host}:{port}/ (API: http://{host}:{port}/api/docs)")
    app = create_app(store, secure_cookies=secure_cookies)
    app.state.fresh_wait = fresh_wait
    # figures of new data are built in background threads of this process: a request thread
    # waiting for the interpreter gets it after 1 ms instead of Python's default 5 ms
    sys.setswitchinterval(0.001)
    uvicorn.run(app, host=host, port=port)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="sign-in name")],
    role: Annotated[str, typer.Option(help="admin, reviewer, owner, approver, verifier or viewer")],
    entity: Annotated[
        list[str] | None, typer.Option(help="entity granted (repeat; covers descendants)")
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="name shown in the app")] = None,
    locale: Annotated[str, typer.Option(help="zh or en")] = "zh",
    password: Annotated[
        str | None,
        typer.Option(envvar="ESGLEDGER_PASSWORD", help="initial password (default: random)"),
    ] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Add a user; a random initial password is printed once and must be changed."""
    from esgledger.auth import accounts

    store = _open(ledger)
    initial = password or secrets.token_urlsafe(12)
    try:
        user_id = accounts.create_user(
            store.engine,
            actor,
            username,
            initial,
            role,
            display_name=display_name,
            locale=locale,
            entities=entity or [],
            must_change_password=password is None,
        )
    except (accounts.AccountError, ValueError) as exc:
        errors.print(f"user add: {exc}")
        raise typer.Exit(1) from exc
    console.print(f"user {username} ({role}) added as {user_id}")
    if password is None:
        console.print(f"initial password (shown once): {initial}")


@user_app.command("list")
def user_list(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """List users, roles and granted entities."""
    from esgledger.auth import accounts

    store = _open(ledger)
    for row in accounts.list_users(store.engine):
        state = "" if row["active"] else " (inactive)"
        entities = ",".join(row["entities"]) or "-"
        console.print(f"{row['user_id']}\t{row['username']}\t{row['role']}\t{entities}{state}")


def _user_id(store: Any, username: str) -> int:
    from esgledger.auth import accounts

    found = accounts.user_id_of(store.engine, username)
    if found is None:
        errors.print(f"no user {username!r}")
        raise typer.Exit(1)
    return found


@user_app.command("grant")
def user_grant(
    username: Annotated[str, typer.Argument(help="sign-in name")],
    entity: Annotated[list[str], typer.Option(help="entity granted (repeat)")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Replace a user's entity grants."""
    from esgledger.auth import accounts

    store = _open(ledger)
    try:
        accounts.set_grants(store.engine, actor, _user_id(store, username), entity)
    except accounts.AccountError as exc:
        errors.print(f"user grant: {exc}")
        raise typer.Exit(1) from exc
    console.print(f"{username}: {', '.join(entity)}")


@user_app.command("reset-password")
def user_reset_password(
    username: Annotated[str, typer.Argument(help="sign-in name")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Set a random password the user must change, and end their sessions."""
    from esgledger.auth import accounts

    store = _open(ledger)
    password = secrets.token_urlsafe(12)
    accounts.set_password(
        store.engine,
        actor,
        _user_id(store, username),
        password,
        must_change=True,
    )
    console.print(f"new password for {username} (shown once): {password}")


@user_app.command("token")
def user_token(
    username: Annotated[str, typer.Argument(help="sign-in name")],
    name: Annotated[str, typer.Option(help="what the token is for")] = "script",
    days: Annotated[int, typer.Option(help="days until it expires")] = 90,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Create an API token for scripts (printed once)."""
    from esgledger.auth import accounts

    store = _open(ledger)
    token_id, secret = accounts.create_token(
        store.engine,
        actor,
        _user_id(store, username),
        name,
        days=days,
    )
    console.print(f"token {token_id} for {username} (shown once): {secret}")


@audit_app.command("verify")
def audit_verify(
    ledger: LedgerOption = DEFAULT_LEDGER,
    expect: Annotated[
        str | None, typer.Option(help="a head saved earlier by `audit head`, as SEQ:HASH")
    ] = None,
) -> None:
    """Recompute the audit chain (every HMAC with the audit key, every link, the head) and
    compare it with the checkpoints outside the database; exit 1 when any entry was modified,
    deleted or reordered, the tail deleted, or the chain recomputed without the key."""
    from esgledger import audit

    store = _open(ledger)
    anchor = None
    if expect:
        seq, _, digest = expect.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            errors.print("--expect takes SEQ:HASH as printed by `esgledger audit head`")
            raise typer.Exit(2)
        anchor = (int(seq), digest)
    result = audit.verify(store.engine, anchor)
    for note in result.notes:
        errors.print(f"note: {note}", style="yellow", markup=False, highlight=False)
    for problem in result.problems:
        errors.print(str(problem), style="red", markup=False, highlight=False)
    if not result.ok:
        errors.print(f"audit log: {len(result.problems)} problem(s) in {result.entries} entries")
        raise typer.Exit(1)
    console.print(
        f"audit log intact: {result.entries} entries, head {result.head_seq}; "
        f"key {result.key_id or 'none yet'}, {result.checkpoints} checkpoint(s) matched",
        markup=False,
        highlight=False,
    )


@audit_app.command("head")
def audit_head(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """Print the newest entry as SEQ:HASH, to keep outside the database for `verify --expect`."""
    from esgledger import audit

    store = _open(ledger)
    result = audit.verify(store.engine)
    console.print(f"{result.head_seq}:{result.head_hash}")


@audit_app.command("checkpoint")
def audit_checkpoint(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """Verify the chain and append its head to the checkpoint file outside the database
    (ESGLEDGER_AUDIT_CHECKPOINTS, else beside the ledger); prints SEQ:HASH. The platform also
    writes one every few entries; run this from a scheduler to anchor quiet periods."""
    from esgledger import audit

    store = _open(ledger)
    result, point = audit.checkpoint(store.engine)
    if not result.ok:
        for problem in result.problems:
            errors.print(str(problem), style="red", markup=False, highlight=False)
        errors.print("audit log: not checkpointed, the chain does not verify")
        raise typer.Exit(1)
    if point is None:
        errors.print(
            f"audit log: no checkpoint file for this ledger (set {audit.CHECKPOINTS_VARIABLE})"
        )
        raise typer.Exit(2)
    where = audit.anchor_of(store.engine.url).checkpoints
    console.print(f"{point.seq}:{point.hash}", markup=False, highlight=False)
    errors.print(f"checkpoint written to {where}", markup=False, highlight=False)


@audit_app.command("show")
def audit_show(
    ledger: LedgerOption = DEFAULT_LEDGER,
    limit: Annotated[int, typer.Option(help="newest entries to show")] = 20,
) -> None:
    """Print the newest entries of the audit log."""
    from esgledger import audit

    store = _open(ledger)
    for e in audit.entries(store.engine, limit=limit):
        console.print(
            f"{e['seq']}\t{e['at']:%Y-%m-%d %H:%M:%S}\t{e['actor']}\t{e['action']}\t"
            f"{e['object_type']}:{e['object_id']}\t{e['entity_id'] or ''}\t"
            f"key {e.get('key_id') or '-'}",
            markup=False,
        )
