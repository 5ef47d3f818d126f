"""Alembic environment and revisions of the ledger schema (shipped as package data)."""
