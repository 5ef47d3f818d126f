"""Ingest: read CSV/XLSX activity files, validate every row, write all or nothing."""

from esgledger.ingest.importer import ImportReport, import_file
from esgledger.ingest.schema import TEMPLATES, Column
from esgledger.ingest.template import write_template

__all__ = ["TEMPLATES", "Column", "ImportReport", "import_file", "write_template"]
