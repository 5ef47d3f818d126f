"""A user's CSV or XLSX file on disk as a frame of strings, through the one shared reader.

The libraries that read a file a user names on the command line (registers, a measure
catalogue, the organisation file) take it here, so that it is read as an upload is: UTF-8 with
or without BOM, else GB18030; an XLSX's first sheet; held to the upload limits
(:data:`esgledger.ingest.limits.UPLOAD`: size before reading, expansion, rows, columns); the
cells exactly as written, row numbers as a spreadsheet shows them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic
from esgledger.ingest import limits as _limits
from esgledger.ingest.limits import Limits
from esgledger.ingest.reader import (
    UNREADABLE,
    ReadError,
    check_file_size,
    read_rows,
    string_frame,
)

__all__ = ["read_csv_strings"]


def read_csv_strings(
    path: Path | str, code: str, limits: Limits | None = None
) -> tuple[pd.DataFrame | None, str, list[Diagnostic]]:
    """A CSV (or XLSX, by its suffix) file as strings exactly as written (empty cells
    ``""``), its file name, and the located diagnostic of a file that cannot be read or is
    over a limit (then no frame). An unreadable file's diagnostic has the code ``code``."""
    path = Path(path)
    limits = limits or _limits.UPLOAD
    try:
        check_file_size(path, limits)
        where, rows = read_rows(path.read_bytes(), path.name, limits)
        return string_frame(rows, where), where, []
    except OSError as exc:
        return (
            None,
            path.name,
            [Diagnostic(code, f"expected a readable CSV: {exc}", file=path.name)],
        )
    except ReadError as exc:
        found = exc.diagnostic
        if found.code in UNREADABLE:
            found = dataclasses.replace(
                found, code=code, message=f"expected a readable CSV: {found.message}"
            )
        return None, path.name, [found]
