"""The limits of every file that esgledger reads from a user, declared once.

A CSV or XLSX file is bounded before its cells are parsed (:mod:`esgledger.ingest.reader`
enforces these): its size in bytes; for an XLSX (a zip archive), the total size of its parts
once expanded and the compression ratio of each part, read from the archive's directory
before openpyxl opens it (Python's ``zipfile`` never inflates a part beyond the size its
directory declares, so the declared sizes bound the work); the rows and columns of the
table, counted while reading (rows past the limit are not read: the first one that holds a
value refuses the file); and the number of problems a refusal lists.

Two sets of limits:

- :data:`UPLOAD`: files a person sends to the platform (register files, filled request
  templates; the web routes and ``esgledger register import``). A register is at most
  :data:`UPLOAD_ROWS` rows.
- :data:`IMPORT`: the bulk record imports of the command line (``esgledger import``,
  ``roster import``), which take CSV files of millions of rows.

Each value can be changed by an environment variable read when esgledger starts,
``ESGLEDGER_UPLOAD_<FIELD>`` or ``ESGLEDGER_IMPORT_<FIELD>`` (``ESGLEDGER_UPLOAD_MAX_ROWS=
200000``), or for one call by a parameter (``UPLOAD.replace(max_rows=...)``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "IMPORT",
    "RATIO_FLOOR_BYTES",
    "UPLOAD",
    "UPLOAD_ROWS",
    "Limits",
    "from_environment",
]

RATIO_FLOOR_BYTES = 1_000_000
"""An archive part smaller than this once expanded is not held to the compression ratio (a
small, very regular part such as a style sheet may compress very well)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What a file read from a user may be."""

    max_bytes: int
    """The file's size."""
    max_expanded_bytes: int
    """XLSX: the parts of the archive expanded, all together."""
    max_ratio: int
    """XLSX: expanded size over compressed size of one part (a zip bomb is far above 100)."""
    max_rows: int
    """Data rows below the header row."""
    max_columns: int
    """Columns of any row (cells further right are not read)."""
    max_problems: int
    """Located problems a refusal lists; one more line says how many were left out."""

    def replace(self, **changes: int) -> Limits:
        """These limits with some values changed (a parameter of one call)."""
        return dataclasses.replace(self, **changes)


UPLOAD_ROWS = 100_000

_UPLOAD_DEFAULTS = Limits(
    max_bytes=20 * 1024 * 1024,
    max_expanded_bytes=100_000_000,
    max_ratio=100,
    max_rows=UPLOAD_ROWS,
    max_columns=100,
    max_problems=200,
)
_IMPORT_DEFAULTS = Limits(
    max_bytes=4 * 1024**3,
    max_expanded_bytes=4 * 1024**3,
    max_ratio=100,
    max_rows=50_000_000,
    max_columns=200,
    max_problems=1000,
)


def from_environment(
    prefix: str, defaults: Limits, environ: Mapping[str, str] | None = None
) -> Limits:
    """``defaults`` with each field ``<prefix><FIELD>`` set in the environment replaced (a
    positive whole number; anything else stops with a message naming the variable)."""
    env = os.environ if environ is None else environ
    changes: dict[str, int] = {}
    for field in dataclasses.fields(Limits):
        name = f"{prefix}{field.name.upper()}"
        raw = env.get(name)
        if raw is None or not raw.strip():
            continue
        text = raw.strip().replace("_", "")
        if not text.isdigit() or int(text) <= 0:
            raise ValueError(f"{name}={raw!r}: expected a positive whole number")
        changes[field.name] = int(text)
    return defaults.replace(**changes)


UPLOAD = from_environment("ESGLEDGER_UPLOAD_", _UPLOAD_DEFAULTS)
"""Limits of a file sent to the platform (a register, a filled request template)."""
IMPORT = from_environment("ESGLEDGER_IMPORT_", _IMPORT_DEFAULTS)
"""Limits of a bulk import of records by the command line (millions of CSV rows)."""
