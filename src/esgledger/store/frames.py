"""DataFrame <-> row conversion for the ledger: column sets, dtypes, bind-ready values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Date, Integer, Table

#: Columns and dtypes of ``Ledger.activity_frame`` (in this order).
ACTIVITY_FRAME: dict[str, str] = {
    "rid": "int64",
    "record_id": "str",
    "entity_id": "str",
    "year": "int64",
    "month": "Int64",
    "activity_type": "str",
    "quantity": "float64",
    "quantity_text": "str",
    "unit": "str",
    "region": "str",
    "region_text": "str",
    "data_quality": "str",
    "instrument_id": "str",
    "ef_value": "float64",
    "ef_unit": "str",
    "note": "str",
    "source_file": "str",
    "source_row": "Int64",
    "batch_id": "int64",
}

#: Every column of ``activity_record`` (for lineage: ``records_by_rid``, ``records_for``).
ACTIVITY_FULL: dict[str, str] = {
    **ACTIVITY_FRAME,
    "activity_date": "object",  # datetime.date or None
    "source_kind": "str",
    "source_user": "str",
}

DIRECT_FRAME: dict[str, str] = {
    "rid": "int64",
    "record_id": "str",
    "entity_id": "str",
    "year": "int64",
    "month": "Int64",
    "scope": "int64",
    "category": "str",
    "gas": "str",
    "tco2e": "float64",
    "tco2e_text": "str",
    "scope2_basis": "str",
    "data_quality": "str",
    "provenance": "str",
    "source_file": "str",
    "source_row": "Int64",
    "batch_id": "Int64",
}

#: Columns and dtypes of ``Ledger.metric_frame`` (in this order).
METRIC_FRAME: dict[str, str] = {
    "rid": "int64",
    "record_id": "str",
    "entity_id": "str",
    "year": "int64",
    "month": "Int64",
    "metric_id": "str",
    "value": "float64",
    "value_text": "str",
    "unit": "str",
    "numerator": "float64",
    "denominator": "float64",
    "data_quality": "str",
    "provenance": "str",
    "note": "str",
    "source_file": "str",
    "source_row": "Int64",
    "batch_id": "Int64",
}

PARAMETER_FRAME: dict[str, str] = {
    "name": "str",
    "year": "Int64",
    "value": "float64",
    "unit": "str",
    "source": "str",
}

FUEL_PROPERTY_FRAME: dict[str, str] = {
    "id": "int64",
    "activity_type": "str",
    "entity_id": "str",
    "year": "Int64",
    "property": "str",
    "value": "float64",
    "value_text": "str",
    "unit": "str",
    "source": "str",
    "entered_by": "str",
    "entered_at": "datetime64[us]",
}

OVERRIDE_FRAME: dict[str, str] = {
    "activity_type": "str",
    "region": "str",
    "year": "Int64",
    "gas": "str",
    "value": "float64",
    "unit": "str",
    "source": "str",
    "id": "int64",
    "entered_by": "str",
    "entered_at": "datetime64[us]",
}

CONTEXT_FRAME: dict[str, str] = {
    "entity_id": "str",
    "year": "int64",
    "metric": "str",
    "value": "float64",
    "unit": "str",
    "source": "str",
}

BATCH_FRAME: dict[str, str] = {
    "batch_id": "int64",
    "kind": "str",
    "file_name": "str",
    "sha256": "str",
    "rows": "int64",
    "imported_at": "datetime64[us]",
    "imported_by": "str",
}


def typed_frame(frame: pd.DataFrame | None, spec: Mapping[str, str]) -> pd.DataFrame:
    """Reorder ``frame`` to ``spec``'s columns and cast them; ``None`` gives an empty frame."""
    if frame is None or frame.empty:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in spec.items()})
    frame = frame[list(spec)]
    return frame.astype(dict(spec)).reset_index(drop=True)


def _date_or_none(value: Any) -> date | None:
    if value is None or (not isinstance(value, date) and pd.isna(value)):
        return None
    if isinstance(value, datetime):  # also pandas.Timestamp
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def bind_columns(
    frame: pd.DataFrame, table: Table, defaults: Mapping[str, object]
) -> dict[str, list[Any]]:
    """Plain Python values per column of ``table`` (missing values as ``None``).

    Columns the frame lacks take ``defaults`` or ``None``; columns the table lacks are refused.
    """
    allowed = [c.name for c in table.columns if c.name not in {"rid", "batch_id", "id"}]
    unknown = sorted(set(map(str, frame.columns)) - set(allowed))
    if unknown:
        raise ValueError(f"columns not in table {table.name}: {', '.join(unknown)}")
    n = len(frame)
    columns: dict[str, list[Any]] = {}
    for name in allowed:
        if name not in frame.columns:
            columns[name] = [defaults.get(name)] * n
            continue
        series = frame[name]
        sql_type = table.c[name].type
        if isinstance(sql_type, Date):
            columns[name] = [_date_or_none(v) for v in series.tolist()]
            continue
        if isinstance(sql_type, Integer) and pd.api.types.is_float_dtype(series.dtype):
            series = series.astype("Int64")  # refuses non-integral values
        values = series.to_numpy(dtype=object, copy=True)  # Python int/float/str, not numpy scalars
        values[series.isna().to_numpy()] = None
        columns[name] = values.tolist()
    return columns


def chunked_rows(columns: Mapping[str, list[Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Row dicts in chunks of ``size``."""
    names = list(columns)
    n = len(next(iter(columns.values()), []))
    for start in range(0, n, size):
        stop = min(start + size, n)
        slices = [columns[name][start:stop] for name in names]
        yield [dict(zip(names, values, strict=True)) for values in zip(*slices, strict=True)]
