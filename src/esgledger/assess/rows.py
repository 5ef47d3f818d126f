"""Located checks of one row of a register file: :mod:`esgledger.domain.rows`, re-exported
here for the register libraries (``from esgledger.assess.rows import RowCheck``)."""

from __future__ import annotations

from esgledger.domain.rows import RowCheck, missing_columns
from esgledger.ingest.files import read_csv_strings

__all__ = ["RowCheck", "missing_columns", "read_csv_strings"]
