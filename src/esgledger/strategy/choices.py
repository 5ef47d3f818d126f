"""The choices the strategy commands and pages offer, as enumerations both the CLI (Typer)
and the web routes (FastAPI) declare their parameters with, so that one list serves both."""

from __future__ import annotations

from enum import StrEnum


class Activity(StrEnum):
    """The activity driver of a Kaya-LMDI decomposition."""

    revenue = "revenue"
    headcount = "headcount"


class By(StrEnum):
    """The subsectors of a decomposition: entities, or scopes."""

    entity = "entity"
    scope = "scope"


class Basis(StrEnum):
    """The scope 2 basis of a baseline and its grid factor."""

    location = "location"
    market = "market"
