"""Command line: thin Typer commands over the library (`esgledger --help`)."""

from esgledger.cli.admin import register as _register_admin
from esgledger.cli.app import app
from esgledger.cli.assess import materiality_app as _materiality_app
from esgledger.cli.assess import register as _register_assess
from esgledger.cli.backup import register as _register_backup
from esgledger.cli.carbon import register as _register_carbon
from esgledger.cli.factor_packs import register as _register_factor_packs
from esgledger.cli.fuel import register as _register_fuel
from esgledger.cli.measures import register as _register_measures
from esgledger.cli.metrics import register as _register_metrics
from esgledger.cli.platform import register as _register_platform
from esgledger.cli.report import register as _register_report
from esgledger.cli.rules import register as _register_rules
from esgledger.cli.strategy import register as _register_strategy
from esgledger.cli.strategy import strategy_app as _strategy_app
from esgledger.cli.targets import register as _register_targets
from esgledger.cli.topics import register as _register_topics

_register_admin(app)
_register_platform(app)
_register_backup(app)
_register_report(app)
_register_assess(app)
_register_carbon(app)
_register_strategy(app)
_register_targets(app)
_register_fuel(app)
_register_factor_packs(app)
_register_metrics(app)
_register_rules(app)
_register_measures(_strategy_app)
_register_topics(_materiality_app)


def main() -> None:
    """The ``esgledger`` command. A server ledger whose audit key is not configured is a
    setup step the user must take, not a crash: its message is printed, exit 2."""
    from esgledger.audit import AuditKeyError
    from esgledger.cli.app import errors

    try:
        app()
    except AuditKeyError as exc:
        errors.print(f"audit log: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise SystemExit(2) from exc


__all__ = ["app", "main"]
