"""Ingest: read CSV/XLSX activity files, validate every row, write all or nothing.

The package imports nothing itself, so that the pure libraries can read a user's file through
:mod:`esgledger.ingest.files` without loading the importer (which writes to the ledger):
``import_file`` is in :mod:`esgledger.ingest.importer`, ``TEMPLATES`` in
:mod:`esgledger.ingest.schema`, ``write_template`` in :mod:`esgledger.ingest.template`.
"""
