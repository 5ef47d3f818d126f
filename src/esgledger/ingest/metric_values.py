"""Validate a file of reported metric figures (template ``metrics``) against the catalogue.

For S&G inputs that arrive as figures (customer satisfaction, R&D investment, board size...)
and for subsidiaries that report only totals. Every row names a catalogue metric; its unit
must have the metric's dimension; a ratio may carry its numerator and denominator (both or
neither), so that group figures are recomputed from parts and never averaged.
"""

from __future__ import annotations

import pandas as pd

from esgledger.ingest.reader import Table
from esgledger.ingest.schema import DATA_QUALITY
from esgledger.ingest.validate import (
    Collector,
    check_entities,
    duplicates,
    frame_of,
    parse_numbers,
    parse_periods,
    required_text,
)
from esgledger.metrics import Catalogue, load_catalogue
from esgledger.units import UnitError, conversion_factor


def _unit_problem(unit: str, expected: str) -> str | None:
    try:
        conversion_factor(unit, expected)
    except UnitError as exc:
        return f"unit {unit!r} does not fit the metric ({exc})"
    return None


def _notes(notes: pd.Series, lower_bound: pd.Series) -> pd.Series:
    """The note as entered, plus a remark where the value was published as a lower bound."""
    remark = "published as a lower bound"
    text = notes.astype(str).str.strip()
    with_remark = text.where(text.eq(""), text + "; ") + remark
    return text.where(~lower_bound, with_remark).replace("", None)


def _one_figure_each(
    frame: pd.DataFrame, metric: pd.Series, period: pd.Series, problems: Collector
) -> None:
    """A file gives one figure of a metric, entity and period: a second row of the same is a
    located error (a later file restates a figure, as a new version of it)."""
    entity = frame["entity_id"].astype(str).str.strip()
    key = metric + "|" + entity + "|" + period
    filled = metric.ne("") & entity.ne("") & period.ne("")
    repeated = key.duplicated(keep="first") & filled
    firsts = key[filled].drop_duplicates()
    first_row = {k: int(i) + 2 for i, k in zip(firsts.index.to_list(), firsts, strict=True)}
    problems.cells(
        repeated,
        "metric_id",
        "duplicate",
        lambda k: "expected one figure of {} for {} {} in a file: row {} gives it too".format(
            *k.split("|"), first_row.get(k)
        ),
        key,
    )


def metric_frame(
    table: Table,
    entity_ids: frozenset[str],
    problems: Collector,
    user: str | None,
    catalogue: Catalogue | None = None,
) -> pd.DataFrame | None:
    """Typed rows of a ``metrics`` file, or None when its header is wrong; ``catalogue``: the
    ledger's (the packaged one with the company's own metrics; default the packaged)."""
    frame = frame_of(table, "metrics", problems)
    if frame is None:
        return None
    catalogue = load_catalogue() if catalogue is None else catalogue
    for column in ("record_id", "entity_id", "metric_id", "value", "unit"):
        required_text(frame, column, problems)
    duplicates(frame, "record_id", problems)
    check_entities(frame, entity_ids, problems)
    years, months = parse_periods(frame["period"], problems)
    ids = catalogue.ids()
    metric = frame["metric_id"].astype(str).str.strip()
    _one_figure_each(frame, metric, frame["period"].astype(str).str.strip(), problems)
    known = metric.isin(ids)
    problems.cells(
        metric.ne("") & ~known,
        "metric_id",
        "metric",
        lambda v: (
            f"unknown metric {v!r} (esgledger metrics list: the catalogue and the "
            "company's own metrics, added with esgledger metrics import)"
        ),
        metric,
    )
    text = frame["value"].astype(str).str.strip()
    lower_bound = text.str.endswith("+")
    value = parse_numbers(text.str.removesuffix("+"), "value", problems)
    numerator = parse_numbers(frame["numerator"], "numerator", problems, allow_empty=True)
    denominator = parse_numbers(frame["denominator"], "denominator", problems, allow_empty=True)
    one_part = numerator.isna() != denominator.isna()
    problems.cells(
        one_part,
        "denominator",
        "ratio-parts",
        lambda _v: "give both numerator and denominator, or neither",
        frame["denominator"],
    )
    parts = numerator.notna() & denominator.notna()
    is_ratio = metric.map(lambda m: m in ids and catalogue.get(m).is_ratio)
    problems.cells(
        parts & ~is_ratio.astype(bool),
        "numerator",
        "ratio-parts",
        lambda v: f"metric {v!r} is not a ratio: it takes no numerator/denominator",
        metric,
    )
    units = frame["unit"].astype(str).str.strip()
    pairs = pd.Series(list(zip(metric, units, strict=True)), index=frame.index)
    messages = pairs.map(
        lambda p: _unit_problem(p[1], catalogue.get(p[0]).unit) if p[0] in ids and p[1] else None
    )
    problems.cells(messages.notna(), "unit", "unit", lambda m: m, messages)
    quality = frame["data_quality"].astype(str).str.strip().str.lower()
    problems.cells(
        quality.ne("") & ~quality.isin(DATA_QUALITY),
        "data_quality",
        "data-quality",
        lambda v: f"data_quality {v!r} is not one of {', '.join(DATA_QUALITY)}",
        quality,
    )
    return pd.DataFrame(
        {
            "record_id": frame["record_id"].str.strip(),
            "entity_id": frame["entity_id"].str.strip(),
            "year": years,
            "month": months,
            "metric_id": metric,
            "value": value,
            "value_text": frame["value"],
            "unit": units,
            "numerator": numerator,
            "denominator": denominator,
            "data_quality": quality.replace("", "reported"),
            "provenance": frame["provenance"].replace("", None),
            "note": _notes(frame["note"], lower_bound),
            "source_kind": "file",
            "source_file": table.file,
            "source_row": pd.Series(range(2, len(frame) + 2), index=frame.index),
            "source_user": user,
        }
    )
