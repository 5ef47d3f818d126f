"""Docs that cannot drift: every command, option, template column and setting is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from esgledger.cli import app
from esgledger.cli.admin import SETTINGS
from esgledger.ingest.schema import TEMPLATES

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
METHODOLOGY = (ROOT / "docs" / "methodology.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, Any]]:
    """(full name, command) of every leaf command of the Typer app."""
    found: list[tuple[str, Any]] = []

    def walk(group: Any, prefix: str) -> None:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, f"{prefix} {name}")
            else:
                found.append((f"{prefix} {name}", command))

    walk(typer.main.get_command(app), "esgledger")
    assert len(found) > 10
    return found


def _section(name: str) -> str:
    """The user-guide section whose heading names the command."""
    for section in GUIDE.split("\n### ")[1:]:
        heading = section.splitlines()[0]
        if f"`{name}`" in heading:
            return section
    return ""


def test_every_command_has_a_section_in_the_user_guide() -> None:
    missing = [name for name, _ in _commands() if not _section(name)]
    assert not missing, f"commands without a section in docs/user-guide.md: {missing}"


def test_every_option_is_documented_in_its_command_section() -> None:
    missing = []
    for name, command in _commands():
        section = _section(name)
        for param in command.params:
            for opt in param.opts:
                if (
                    opt.startswith("--")
                    and opt != "--help"
                    and not re.search(rf"{re.escape(opt)}\b", section)
                ):
                    missing.append(f"{name} {opt}")
    assert not missing, f"undocumented options: {missing}"


def test_every_template_column_is_documented() -> None:
    missing = [
        f"{kind}.{c.name}"
        for kind, columns in TEMPLATES.items()
        for c in columns
        if f"| `{c.name}` |" not in GUIDE
    ]
    assert not missing, f"undocumented template columns: {missing}"


def test_every_setting_is_documented() -> None:
    missing = [key for key in SETTINGS if f"`{key}`" not in GUIDE + METHODOLOGY]
    assert not missing, f"undocumented settings: {missing}"


def test_readme_opens_with_the_two_commands() -> None:
    block = README.split("```sh", 1)[1].split("```", 1)[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in block] == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
