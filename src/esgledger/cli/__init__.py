"""Command line: thin Typer commands over the library (`esgledger --help`)."""

from esgledger.cli.admin import register as _register_admin
from esgledger.cli.app import app

_register_admin(app)


def main() -> None:
    app()


__all__ = ["app", "main"]
