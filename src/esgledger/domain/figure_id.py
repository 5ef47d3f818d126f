"""Figure ids: one grammar, parsed and printed here only.

A figure id names one figure of the ledger: ``<kind>:<field>:<field>...``, e.g.
``ghg:2024:S1``, ``metric:2024:energy.total_tce:S01``, ``pathway:2024:gap:2030``. The kinds
and their fields are data (``data/figure_kinds.csv``: each field is ``name[:type]`` with type
``year``, a ``|`` list of allowed values, or text when absent; a trailing ``?`` makes it
optional, at the end only), with the module that provides their value and explanation
(:mod:`esgledger.figures`). Adding a kind is a row there and a provider.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["FigureId", "FigureKind", "figure_kinds", "forms"]


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: str  # "year", "text" or "enum"
    choices: tuple[str, ...] = ()
    optional: bool = False

    def form(self) -> str:
        shown = "|".join(self.choices) if self.choices else self.name
        return f"[:<{shown}>]" if self.optional else f":<{shown}>"

    def read(self, text: str) -> str | int:
        """The field's value; ValueError saying what it must be."""
        if self.kind == "year":
            if len(text) != 4 or not text.isdigit():
                raise ValueError(f"{self.name} must be a year, not {text!r}")
            return int(text)
        if self.kind == "enum":
            found = next((c for c in self.choices if c.lower() == text.lower()), None)
            if found is None:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}")
            return found
        if not text:
            raise ValueError(f"{self.name} is empty")
        return text


@dataclass(frozen=True, slots=True)
class FigureKind:
    kind: str
    fields: tuple[Field, ...]
    provider: str
    description: str
    source: str

    def form(self) -> str:
        return self.kind + "".join(f.form() for f in self.fields)


def _field(spec: str) -> Field:
    optional = spec.endswith("?")
    name, _, kind = spec.rstrip("?").partition(":")
    if kind == "year":
        return Field(name, "year", optional=optional)
    if kind:
        return Field(name, "enum", tuple(kind.split("|")), optional)
    return Field(name, "text", optional=optional)


@cache
def figure_kinds() -> dict[str, FigureKind]:
    """The declared kinds, by name (``data/figure_kinds.csv``)."""
    text = resources.files("esgledger.domain").joinpath("data", "figure_kinds.csv")
    with text.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for row in rows:
        fields = tuple(_field(spec) for spec in row["fields"].split())
        out[row["kind"]] = FigureKind(
            row["kind"], fields, row["provider"], row["description"], row["source"]
        )
    return out


def forms() -> str:
    """Every declared form, for messages: ``ghg:<year>:<S1|...>[:<entity>], ...``."""
    return ", ".join(k.form() for k in figure_kinds().values())


@dataclass(frozen=True, slots=True)
class FigureId:
    """A parsed figure id: its kind and its field values (years as int)."""

    kind: str
    values: tuple[str | int, ...]

    @classmethod
    def parse(cls, text: str) -> FigureId:
        kind, _, rest = text.partition(":")
        declared = figure_kinds().get(kind)
        if declared is None:
            raise ValueError(f"figure id {text!r} is not one of {forms()}")
        parts = rest.split(":") if rest else []
        required = sum(1 for f in declared.fields if not f.optional)
        if not required <= len(parts) <= len(declared.fields):
            raise ValueError(f"figure id {text!r} is not {declared.form()}")
        try:
            values = tuple(f.read(p) for f, p in zip(declared.fields, parts, strict=False))
        except ValueError as exc:
            raise ValueError(f"figure id {text!r} is not {declared.form()}: {exc}") from None
        return cls(kind, values)

    @classmethod
    def of(cls, kind: str, *values: str | int | None) -> FigureId:
        """The id of ``kind`` with these field values (trailing None: an optional field left
        out), checked like a parsed one."""
        given = list(values)
        while given and given[-1] is None:
            given.pop()
        return cls.parse(":".join([kind, *(str(v) for v in given)]))

    @property
    def declared(self) -> FigureKind:
        return figure_kinds()[self.kind]

    def get(self, name: str) -> str | int | None:
        """The value of a field by name (None for an optional field left out)."""
        for f, v in zip(self.declared.fields, self.values, strict=False):
            if f.name == name:
                return v
        if any(f.name == name for f in self.declared.fields):
            return None
        raise KeyError(f"{self.kind} figure ids have no field {name!r}")

    @property
    def year(self) -> int:
        """The first year field (every kind has one)."""
        return next(
            int(v)
            for f, v in zip(self.declared.fields, self.values, strict=False)
            if f.kind == "year"
        )

    def __str__(self) -> str:
        return ":".join([self.kind, *(str(v) for v in self.values)])
