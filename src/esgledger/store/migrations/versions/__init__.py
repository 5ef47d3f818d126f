"""Alembic revisions; Alembic loads them by file, not by import."""
