"""Storage layer: SQLAlchemy models, Alembic migrations and the ``Ledger`` repository.

Tables (schema by ``migrations/versions``; ``Ledger.init()`` upgrades to head):
- ``entity``: organisation tree (ids, shares, control flags, region, acquisition dates).
- ``import_batch``: one row per imported file; ``sha256`` is unique to detect re-imports.
- ``activity_record``: activity figures with the typed text (``quantity_text``,
  ``region_text``), instruments, supplier factors and source file/row/user.
- ``direct_emission``: figures already in tCO2e, with scope, gas and provenance.
- ``context_metric``: revenue, employees, ... per entity and year (unique per metric).
- ``parameter``: named constants (densities, FX, coefficients), ``year`` NULL = all years.
- ``factor_override``: user emission factors; ``structural_change``: base-year events.
- ``setting``: inventory defaults as key/value text.
"""

from esgledger.store.engine import alembic_config
from esgledger.store.ledger import Ledger

__all__ = ["Ledger", "alembic_config"]
